/* portctl watch, the kernel side: the compiled ruleset logs what it denies
 * (rules' log, zones' log-denied) to the watch nflog group too, with the
 * prefix "portctl ZONE FILE:LINE " or "portctl ZONE policy DIR "; here
 * each logged packet becomes one JSON event naming the zone and what
 * decided, with the packet's addresses, protocol, port and interface. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "portctl/util.h"
#include "watch.h"

/* Enough for an IPv6 header and the ports behind it. */
#define WATCH_COPY_RANGE 64
/* Socket reads per wake-up. */
#define WATCH_READ_BATCH 16

static int config_send(int fd, uint16_t group, uint16_t type, const void *attr, size_t len)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	ssize_t n;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = group;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(group);
	mnl_attr_put(nlh, type, len, attr);
	if (send(fd, nlh, nlh->nlmsg_len, 0) < 0)
		return -errno;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	return mnl_cb_run(buf, (size_t)n, 0, 0, NULL, NULL) < 0 ? -errno : 0;
}

int watch_nflog_open(uint16_t group)
{
	struct nfulnl_msg_config_cmd cmd = {.command = NFULNL_CFG_CMD_BIND};
	struct nfulnl_msg_config_mode mode = {.copy_mode = NFULNL_COPY_PACKET,
					      .copy_range = htonl(WATCH_COPY_RANGE)};
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	int r;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	r = config_send(fd, group, NFULA_CFG_CMD, &cmd, sizeof(cmd));
	if (r >= 0)
		r = config_send(fd, group, NFULA_CFG_MODE, &mode, sizeof(mode));
	if (r < 0)
		return r;
	r = fd;
	fd = -1;
	/* Blocking for the acks above; from now on read only when ready. */
	return fcntl(r, F_SETFL, O_NONBLOCK) < 0 ? (close(r), -errno) : r;
}

struct packet {
	const char *prefix;
	const uint8_t *payload;
	size_t len;
	uint32_t indev;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct packet *p = data;

	switch (mnl_attr_get_type(a)) {
	case NFULA_PREFIX:
		p->prefix = mnl_attr_get_str(a);
		break;
	case NFULA_PAYLOAD:
		p->payload = mnl_attr_get_payload(a);
		p->len = mnl_attr_get_payload_len(a);
		break;
	case NFULA_IFINDEX_INDEV:
		p->indev = ntohl(mnl_attr_get_u32(a));
		break;
	}
	return MNL_CB_OK;
}

/* "portctl ZONE WHAT ": the zone, and a rule's FILE:LINE or "policy DIR". */
static int prefix_add(json_t *ev, const char *prefix)
{
	char zone[64], what[128];
	int n = 0;

	if (!prefix || sscanf(prefix, "portctl %63s %n", zone, &n) != 1 || n == 0)
		return -EINVAL;
	snprintf(what, sizeof(what), "%s", prefix + n);
	what[strcspn(what, "\n")] = '\0';
	for (size_t l = strlen(what); l > 0 && what[l - 1] == ' '; l--)
		what[l - 1] = '\0';
	json_object_set_new(ev, "zone", json_string(zone));
	if (strncmp(what, "policy ", 7) == 0) {
		json_object_set_new(ev, "decided_by", json_string("policy"));
		json_object_set_new(ev, "direction", json_string(what + 7));
	} else {
		json_object_set_new(ev, "decided_by", json_string("rule"));
		json_object_set_new(ev, "rule", json_string(what));
	}
	return 0;
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	}
	return NULL;
}

/* The addresses, protocol and destination port of an IPv4 or IPv6 header
 * (IPv6 extension headers are not followed: the protocol is the next one). */
static void payload_add(json_t *ev, const uint8_t *h, size_t len)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	size_t l4;
	uint8_t proto;

	if (len >= 20 && h[0] >> 4 == 4) {
		inet_ntop(AF_INET, h + 12, src, sizeof(src));
		inet_ntop(AF_INET, h + 16, dst, sizeof(dst));
		proto = h[9];
		l4 = (size_t)(h[0] & 0xf) * 4;
	} else if (len >= 40 && h[0] >> 4 == 6) {
		inet_ntop(AF_INET6, h + 8, src, sizeof(src));
		inet_ntop(AF_INET6, h + 24, dst, sizeof(dst));
		proto = h[6];
		l4 = 40;
	} else {
		return;
	}
	json_object_set_new(ev, "source", json_string(src));
	json_object_set_new(ev, "destination", json_string(dst));
	json_object_set_new(ev, "protocol", proto_name(proto) ? json_string(proto_name(proto))
							      : json_integer(proto));
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP) &&
	    len >= l4 + 4)
		json_object_set_new(ev, "port", json_integer(h[l4 + 2] << 8 | h[l4 + 3]));
}

struct read_ctx {
	void (*fn)(json_t *event, void *userdata);
	void *userdata;
};

static int packet_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *ctx = data;
	struct packet p = {0};
	char ifname[IF_NAMESIZE];
	json_t *ev;

	if ((nlh->nlmsg_type & 0xff) != NFULNL_MSG_PACKET)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, &p);
	ev = json_object();
	if (!ev)
		return MNL_CB_ERROR;
	/* Another prefix is someone else's log rule on our group: not ours. */
	if (prefix_add(ev, p.prefix) < 0) {
		json_decref(ev);
		return MNL_CB_OK;
	}
	if (p.payload)
		payload_add(ev, p.payload, p.len);
	if (p.indev && if_indextoname(p.indev, ifname))
		json_object_set_new(ev, "interface", json_string(ifname));
	ctx->fn(ev, ctx->userdata);
	return MNL_CB_OK;
}

int watch_nflog_read(int fd, void (*fn)(json_t *event, void *userdata), void *userdata)
{
	_cleanup_free_ char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	struct read_ctx ctx = {fn, userdata};

	if (!buf)
		return -ENOMEM;
	/* A bounded batch: what is left wakes the loop again, after the
	 * clients ready meanwhile. */
	for (int batch = 0; batch < WATCH_READ_BATCH; batch++) {
		ssize_t n = recv(fd, buf, MNL_SOCKET_BUFFER_SIZE, MSG_DONTWAIT);

		if (n < 0)
			/* ENOBUFS: the kernel dropped some; read on. */
			return errno == EAGAIN ? 0 : errno == ENOBUFS || errno == EINTR ? 0 : -errno;
		if (n == 0)
			return 0;
		mnl_cb_run(buf, (size_t)n, 0, 0, packet_cb, &ctx);
	}
	return 0;
}
