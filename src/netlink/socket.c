/* The NETLINK_NETFILTER socket: opening it with big buffers, sending a batch
 * and collecting every ACK, and simple request/response queries. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include "internal.h"
#include "portctl/util.h"

/* Room for a 100,000-rule batch (~6 MiB measured) with a margin. */
#define NL_SOCKET_BUFFER (16 * 1024 * 1024)
/* Receive buffer for one recvmsg: dumps and error replies. */
#define NL_RECV_SIZE (64 * 1024)
/* ACKs are queued before sendmsg returns; this only bounds a lost reply. */
#define NL_ACK_TIMEOUT_MS 5000

static int socket_set_int(struct pc_nl *nl, int level, int name, int value)
{
	if (setsockopt(mnl_socket_get_fd(nl->sock), level, name, &value, sizeof(value)) < 0)
		return -errno;
	return 0;
}

/* The FORCE variants pass the system's rmem_max/wmem_max as root or with
 * CAP_NET_ADMIN; without them the plain ones give what they can. */
static void socket_size_buffers(struct pc_nl *nl, int size)
{
	if (socket_set_int(nl, SOL_SOCKET, SO_SNDBUFFORCE, size) < 0)
		(void)socket_set_int(nl, SOL_SOCKET, SO_SNDBUF, size);
	if (socket_set_int(nl, SOL_SOCKET, SO_RCVBUFFORCE, size) < 0)
		(void)socket_set_int(nl, SOL_SOCKET, SO_RCVBUF, size);
}

int pc_nl_open(struct pc_nl **out)
{
	struct pc_nl *nl = calloc(1, sizeof(*nl));
	int r;

	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl->sock) {
		r = -errno;
		free(nl);
		return r;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		pc_nl_close(nl);
		return r;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	socket_size_buffers(nl, NL_SOCKET_BUFFER);
	/* Errors need not echo our (up to 64 KiB) message back; the kernel's
	 * extended ACK text is worth having in a diagnostic. */
	(void)socket_set_int(nl, SOL_NETLINK, NETLINK_CAP_ACK, 1);
	(void)socket_set_int(nl, SOL_NETLINK, NETLINK_EXT_ACK, 1);
	*out = nl;
	return 0;
}

void pc_nl_close(struct pc_nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->memo.handles);
	free(nl);
}

uint32_t pc_nl_portid(const struct pc_nl *nl)
{
	return nl->portid;
}

uint32_t nl_next_seq(struct pc_nl *nl, uint32_t count)
{
	uint32_t seq = nl->seq;

	nl->seq += count;
	return seq;
}

const struct pc_nl_stats *pc_nl_last_stats(const struct pc_nl *nl)
{
	return &nl->stats;
}

static int nl_wait_readable(struct pc_nl *nl)
{
	struct pollfd p = { .fd = mnl_socket_get_fd(nl->sock), .events = POLLIN };
	int r = poll(&p, 1, NL_ACK_TIMEOUT_MS);

	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

static int extack_attr_cb(const struct nlattr *attr, void *data)
{
	const char **msg = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		*msg = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

/* The kernel's own words for an error, when it sent extended ACK TLVs. */
static char *nlmsgerr_extack(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const char *msg = NULL;
	unsigned int off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (mnl_nlmsg_get_payload_len(nlh) <= off)
		return NULL;
	mnl_attr_parse(nlh, off, extack_attr_cb, &msg);
	return msg ? strdup(msg) : NULL;
}

static int result_add(struct batch_result *r, const struct nlmsghdr *nlh, int err)
{
	struct batch_error *e = PC_ARRAY_PUSH(r->errs, r->n, r->cap);

	if (!e)
		return -ENOMEM;
	e->seq = nlh->nlmsg_seq;
	e->err = err;
	e->extack = nlmsgerr_extack(nlh);
	return 0;
}

/* A rule we added, echoed back: keep its handle. One that cannot be kept
 * stays unknown (0), which makes the next change a full replace: the
 * transaction itself went through. */
static void echo_add(struct batch_result *r, const struct nlmsghdr *nlh)
{
	struct nftnl_rule *rule = nftnl_rule_alloc();
	struct batch_echo *e;

	if (!rule)
		return;
	if (nftnl_rule_nlmsg_parse(nlh, rule) >= 0 && nftnl_rule_is_set(rule, NFTNL_RULE_HANDLE)) {
		e = PC_ARRAY_PUSH(r->echoes, r->n_echoes, r->cap_echoes);
		if (e) {
			e->seq = nlh->nlmsg_seq;
			e->handle = nftnl_rule_get_u64(rule, NFTNL_RULE_HANDLE);
		}
	}
	nftnl_rule_free(rule);
}

/* Account one reply; returns 1 when the batch as a whole is answered. */
static int talk_account(const struct batch *b, const struct nlmsghdr *nlh,
			struct batch_result *r, size_t *answered)
{
	const struct nlmsgerr *e;
	int r2;

	if (nlh->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE) &&
	    nlh->nlmsg_seq > b->first_seq && nlh->nlmsg_seq < b->next_seq) {
		echo_add(r, nlh);
		return 0;
	}
	if (nlh->nlmsg_type != NLMSG_ERROR)
		return 0;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return -EBADMSG;
	e = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_seq < b->first_seq || nlh->nlmsg_seq >= b->next_seq)
		return 0; /* a late reply to an earlier request */
	if (e->error != 0) {
		r2 = result_add(r, nlh, e->error);
		if (r2 < 0)
			return r2;
	}
	/* An error on BATCH_BEGIN (genid, permission, commit failure) is
	 * the only reply the batch will get. */
	if (nlh->nlmsg_seq == b->first_seq)
		return 1;
	return ++*answered >= batch_n_msgs(b);
}

int nl_batch_talk(struct pc_nl *nl, const struct batch *b, struct batch_result *r)
{
	_cleanup_free_ char *buf = malloc(NL_RECV_SIZE);
	size_t answered = 0;
	int done = batch_n_msgs(b) == 0;

	if (!buf)
		return -ENOMEM;
	if (b->len > NL_SOCKET_BUFFER / 2)
		socket_size_buffers(nl, (int)(b->len * 2));
	if (mnl_socket_sendto(nl->sock, b->buf, b->len) < 0)
		return -errno;
	while (!done) {
		ssize_t n;
		int k = nl_wait_readable(nl);

		if (k < 0)
			return k;
		n = mnl_socket_recvfrom(nl->sock, buf, NL_RECV_SIZE);
		if (n < 0)
			return -errno;
		for (struct nlmsghdr *nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, (int)n);
		     nlh = mnl_nlmsg_next(nlh, (int *)&n)) {
			k = talk_account(b, nlh, r, &answered);
			if (k < 0)
				return k;
			if (k > 0) {
				done = 1;
				break;
			}
		}
	}
	return r->n ? -EINVAL : 0;
}

/* Does the answer to seq end within these n bytes (NLMSG_DONE or ERROR)? */
static bool answer_ends(const char *buf, ssize_t n, uint32_t seq)
{
	int left = (int)n;

	for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(h, left);
	     h = mnl_nlmsg_next(h, &left))
		if (h->nlmsg_seq == seq && (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR))
			return true;
	return false;
}

/* A dump a commit interrupted carries NLM_F_DUMP_INTR, on which libmnl
 * stops: read on, and say so (pc_nl_verify_settled). */
static void dump_intr_clear(struct pc_nl *nl, char *buf, ssize_t n)
{
	int left = (int)n;

	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, left);
	     h = mnl_nlmsg_next(h, &left))
		if (h->nlmsg_flags & NLM_F_DUMP_INTR) {
			h->nlmsg_flags &= (uint16_t)~NLM_F_DUMP_INTR;
			nl->dump_intr = true;
		}
}

int nl_query(struct pc_nl *nl, char *buf, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int r, e;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		r = nl_wait_readable(nl);
		if (r < 0)
			return r;
		n = mnl_socket_recvfrom(nl->sock, buf, NL_RECV_SIZE);
		if (n < 0)
			return -errno;
		if (nl->dump_intr_read)
			dump_intr_clear(nl, buf, n);
		r = mnl_cb_run(buf, (size_t)n, seq, nl->portid, cb, data);
	} while (r > MNL_CB_STOP);
	if (r >= 0)
		return 0;
	/* Stopped before its end (a dump a commit interrupted: EINTR): the
	 * rest is read and dropped, or the next query would take it for its
	 * own answer (EPROTO). */
	e = errno;
	while (!answer_ends(buf, n, seq) && nl_wait_readable(nl) >= 0 &&
	       (n = mnl_socket_recvfrom(nl->sock, buf, NL_RECV_SIZE)) >= 0)
		;
	return -e;
}

static int genid_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *gen = nftnl_gen_alloc();
	int r = MNL_CB_ERROR;

	if (!gen)
		return MNL_CB_ERROR;
	if (nftnl_gen_nlmsg_parse(nlh, gen) >= 0) {
		*(uint32_t *)data = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
		r = MNL_CB_OK;
	}
	nftnl_gen_free(gen);
	return r;
}

int pc_nl_genid(struct pc_nl *nl, uint32_t *genid)
{
	_cleanup_free_ char *buf = malloc(NL_RECV_SIZE);
	struct nlmsghdr *nlh;

	if (!buf)
		return -ENOMEM;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK,
				    nl_next_seq(nl, 1));
	return nl_query(nl, buf, nlh, genid_cb, genid);
}

int nl_table_get(struct pc_nl *nl, mnl_cb_t cb, void *data)
{
	_cleanup_free_ char *buf = malloc(NL_RECV_SIZE);
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	int r;

	if (!buf || !t) {
		nftnl_table_free(t);
		return -ENOMEM;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, PC_TABLE_NAME);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK,
				    nl_next_seq(nl, 1));
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	r = nl_query(nl, buf, nlh, cb, data);
	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : 1;
}

int pc_nl_table_exists(struct pc_nl *nl)
{
	return nl_table_get(nl, NULL, NULL);
}
