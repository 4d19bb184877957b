/* A growable nfnetlink batch: BATCH_BEGIN with the generation id, our
 * messages each with its own seq and NLM_F_ACK, BATCH_END. */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "internal.h"
#include "portctl/util.h"

static int batch_grow(struct batch *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 4 * BATCH_HEADROOM;
	char *buf;

	while (cap < need)
		cap *= 2;
	if (cap == b->cap)
		return 0;
	buf = realloc(b->buf, cap);
	if (!buf)
		return -ENOMEM;
	b->buf = buf;
	b->cap = cap;
	return 0;
}

char *batch_reserve(struct batch *b)
{
	if (batch_grow(b, b->len + BATCH_HEADROOM) < 0)
		return NULL;
	/* libnftnl expects a zeroed header area to build on. */
	memset(b->buf + b->len, 0, MNL_NLMSG_HDRLEN + 64);
	return b->buf + b->len;
}

static int batch_push_origin(struct batch *b, const struct batch_origin *origin)
{
	struct batch_origin *o = PC_ARRAY_PUSH(b->origins, b->n_origins, b->cap_origins);

	if (!o)
		return -ENOMEM;
	*o = *origin;
	return 0;
}

int batch_commit(struct batch *b, const struct batch_origin *origin)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(b->buf + b->len);

	/* The headroom is sized so that libnftnl cannot outgrow it; a message
	 * that did would be a bug worth stopping for, not sending. */
	if (nlh->nlmsg_len > BATCH_HEADROOM)
		return -EMSGSIZE;
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = b->next_seq++;
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return batch_push_origin(b, origin);
}

static struct nlmsghdr *batch_put_control(struct batch *b, uint16_t type, uint32_t seq)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	char *at = batch_reserve(b);

	if (!at)
		return NULL;
	nlh = mnl_nlmsg_put_header(at);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
	return nlh;
}

int batch_init(struct batch *b, uint32_t first_seq, uint32_t genid)
{
	struct nlmsghdr *nlh;

	memset(b, 0, sizeof(*b));
	b->first_seq = first_seq;
	b->next_seq = first_seq + 1;
	nlh = batch_put_control(b, NFNL_MSG_BATCH_BEGIN, first_seq);
	if (!nlh)
		return -ENOMEM;
	/* The kernel refuses the whole batch with ERESTART when the ruleset
	 * changed since genid: a concurrent commit is never overwritten. 0:
	 * whatever changed (pc_nl_trust_generation). */
	if (genid)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return batch_push_origin(b, &(struct batch_origin){ .obj = -1, .what = "batch" });
}

int batch_finish(struct batch *b)
{
	struct nlmsghdr *nlh = batch_put_control(b, NFNL_MSG_BATCH_END, b->next_seq);

	if (!nlh)
		return -ENOMEM;
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

size_t batch_n_msgs(const struct batch *b)
{
	return b->n_origins - 1;
}

void batch_free(struct batch *b)
{
	free(b->buf);
	free(b->origins);
	memset(b, 0, sizeof(*b));
}

void batch_result_free(struct batch_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->errs[i].extack);
	free(r->errs);
	free(r->echoes);
	memset(r, 0, sizeof(*r));
}

struct nlmsghdr *msg_start(struct batch *b, uint16_t type, uint16_t family, uint16_t flags)
{
	char *at = batch_reserve(b);

	if (!at)
		return NULL;
	return nftnl_nlmsg_build_hdr(at, type, family, flags, 0);
}

int put_set_head(struct batch *b, struct nftnl_set *s, ssize_t obj)
{
	uint16_t family = (uint16_t)nftnl_set_get_u32(s, NFTNL_SET_FAMILY);
	struct nlmsghdr *nlh = msg_start(b, NFT_MSG_NEWSET, family, NLM_F_CREATE);

	if (!nlh)
		return -ENOMEM;
	nftnl_set_nlmsg_build_payload(nlh, s);
	return batch_commit(b, &(struct batch_origin){ .obj = obj, .what = "set" });
}

int put_set(struct batch *b, struct nftnl_set *s, ssize_t obj)
{
	struct nftnl_set_elems_iter *it;
	uint16_t family = (uint16_t)nftnl_set_get_u32(s, NFTNL_SET_FAMILY);
	struct nlmsghdr *nlh;
	int more, r = put_set_head(b, s, obj);

	if (r < 0)
		return r;
	it = nftnl_set_elems_iter_create(s);
	if (!it)
		return -ENOMEM;
	more = nftnl_set_elems_iter_cur(it) != NULL;
	/* libnftnl stops a message before its element list outgrows the
	 * 64 KiB attribute limit and says so by returning 1. */
	while (more && r >= 0) {
		nlh = msg_start(b, NFT_MSG_NEWSETELEM, family, NLM_F_CREATE);
		if (!nlh) {
			r = -ENOMEM;
			break;
		}
		more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it) > 0;
		r = batch_commit(b, &(struct batch_origin){ .obj = obj, .what = "set elements" });
	}
	nftnl_set_elems_iter_destroy(it);
	return r;
}

int put_chain(struct batch *b, const struct nftnl_chain *c, ssize_t obj)
{
	uint16_t family = (uint16_t)nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY);
	struct nlmsghdr *nlh = msg_start(b, NFT_MSG_NEWCHAIN, family, NLM_F_CREATE);

	if (!nlh)
		return -ENOMEM;
	nftnl_chain_nlmsg_build_payload(nlh, c);
	return batch_commit(b, &(struct batch_origin){ .obj = obj, .what = "chain" });
}

/* NLM_F_ECHO: the kernel sends the rule back with the handle it chose,
 * which a later difference needs to delete it. */
int put_rule_at(struct batch *b, struct nftnl_rule *rule, ssize_t obj, struct rule_place place)
{
	uint16_t family = (uint16_t)nftnl_rule_get_u32(rule, NFTNL_RULE_FAMILY);
	uint16_t flags = NLM_F_CREATE | NLM_F_ECHO | (place.before ? 0 : NLM_F_APPEND);
	struct nlmsghdr *nlh = msg_start(b, NFT_MSG_NEWRULE, family, flags);

	if (!nlh)
		return -ENOMEM;
	/* Without NLM_F_APPEND the rule goes before the one at POSITION;
	 * with it, after the one at POSITION_ID (or at the end). */
	nftnl_rule_set_u32(rule, NFTNL_RULE_ID, ++b->last_rule_id);
	if (place.after_id) {
		nlh->nlmsg_flags |= NLM_F_APPEND;
		nftnl_rule_set_u32(rule, NFTNL_RULE_POSITION_ID, place.after_id);
	} else if (place.before) {
		nftnl_rule_set_u64(rule, NFTNL_RULE_POSITION, place.before);
	}
	nftnl_rule_nlmsg_build_payload(nlh, rule);
	nftnl_rule_unset(rule, NFTNL_RULE_ID);
	nftnl_rule_unset(rule, NFTNL_RULE_POSITION_ID);
	nftnl_rule_unset(rule, NFTNL_RULE_POSITION);
	return batch_commit(b, &(struct batch_origin){ .obj = obj, .what = "rule" });
}

int put_rule(struct batch *b, struct nftnl_rule *rule, ssize_t obj, uint64_t before)
{
	return put_rule_at(b, rule, obj, (struct rule_place){ .before = before });
}

/* The kernel finds a rule by handle walking its chain from the head, and
 * a rule of this batch by id walking the batch's changes from the first:
 * at least one per 16 bytes of messages (a set element's least). */
bool batch_rule_id_cheaper(const struct batch *b, size_t pos)
{
	return b->last_rule_id && b->len / 16 < pos;
}

/* A rule whose verdict code does not exist: the kernel answers EINVAL. */
