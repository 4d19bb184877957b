/* nflogread GROUP FILE: bind nflog group GROUP in this network namespace,
 * print "ready", write the log prefix of the first packet logged to the
 * group into FILE (one line), and exit. What ulogd or journald would receive, read from the kernel itself. */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int config_send(struct mnl_socket *nl, uint16_t group, const void *attr, uint16_t type,
		       size_t len)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(group);
	mnl_attr_put(nlh, type, len, attr);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	int n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	return n < 0 ? -1 : mnl_cb_run(buf, (size_t)n, 0, 0, NULL, NULL);
}

static int attr_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == NFULA_PREFIX)
		*(const char **)data = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

static int packet_cb(const struct nlmsghdr *nlh, void *data)
{
	const char *prefix = NULL;

	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, &prefix);
	*(char **)data = strdup(prefix ? prefix : "");
	return MNL_CB_STOP;
}

int main(int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nfulnl_msg_config_cmd cmd = {.command = NFULNL_CFG_CMD_BIND};
	struct nfulnl_msg_config_mode mode = {.copy_mode = NFULNL_COPY_META};
	struct mnl_socket *nl;
	char *got = NULL;
	FILE *f;

	if (argc != 3)
		return 2;
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nflogread: socket");
		return 1;
	}
	uint16_t group = (uint16_t)atoi(argv[1]);
	if (config_send(nl, group, &cmd, NFULA_CFG_CMD, sizeof(cmd)) < 0 ||
	    config_send(nl, group, &mode, NFULA_CFG_MODE, sizeof(mode)) < 0) {
		perror("nflogread: bind");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!got) {
		int n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n < 0) {
			perror("nflogread: recv");
			return 1;
		}
		mnl_cb_run(buf, (size_t)n, 0, 0, packet_cb, &got);
	}
	mnl_socket_close(nl);
	f = fopen(argv[2], "we");
	if (!f || fprintf(f, "%s\n", got) < 0 || fclose(f) != 0) {
		perror("nflogread: write");
		return 1;
	}
	return 0;
}
