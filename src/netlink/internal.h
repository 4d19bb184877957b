/* Pieces of the netlink stage shared between its files: the handle, the
 * growable batch with its sequence map, and the send/ACK loop. */
#ifndef PORTCTL_NETLINK_INTERNAL_H
#define PORTCTL_NETLINK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <libmnl/libmnl.h>

#include "portctl/netlink.h"
#include "portctl/util.h"

struct pc_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	/* Kernel refused NFT_TABLE_F_PERSIST once: do not ask again. */
	bool persist_refused;
	/* Generation right after our last commit; 0 before any. */
	uint32_t applied_genid;
	/* pc_nl_trust_generation: the next batch builds on what we applied
	 * and goes without a generation id (so no commit of others to their
	 * own tables can refuse it). */
	bool trusted;
	/* Our commits so far: the last one installed the ruleset whose
	 * installed field says this number. */
	uint64_t commits;
	struct pc_nl_stats stats;
	/* A difference the kernel refused, until the install that settles it
	 * records it in stats (also after -EAGAIN: rs made whole first). */
	int diff_refused;
	/* Tests only (pc_nl_test_refuse_last_rule): the next full replace
	 * carries a rule the kernel refuses, in place of the files' last. */
	bool test_refuse;
	/* pc_nl_verify_settled: dumps read to their end though a commit
	 * interrupted them (dump_intr says one did). */
	bool dump_intr_read, dump_intr;
	/* pc_nl_memo_take: the last stop's memo, for the first install
	 * without an old ruleset (nl_memo_match); then what became of it. */
	struct nl_memo {
		bool taken;
		uint32_t genid;
		uint64_t digest;
		size_t n_rules;
		uint64_t *handles; /* in the rules' canonical order (memo.c) */
	} memo;
	const char *memo_outcome;
};

/* For tests/integration/refuseapply.c alone; the daemon never calls it. */
void pc_nl_test_refuse_last_rule(struct pc_nl *nl, bool on);

/* Who a message in the batch speaks for, to name it in an error. */
struct batch_origin {
	ssize_t obj;       /* index into the ruleset's objs, -1: none */
	const char *what;  /* "table", "table delete", "set elements", … */
	bool table_owned;  /* the add of the table carrying OWNER|PERSIST */
};

/* One transaction under construction. Messages are appended in place; the
 * buffer keeps headroom for the largest message libnftnl may write. */
struct batch {
	char *buf;
	size_t len, cap;
	uint32_t first_seq; /* seq of BATCH_BEGIN */
	uint32_t next_seq;
	struct batch_origin *origins; /* by seq - first_seq */
	size_t n_origins, cap_origins;
	uint32_t last_rule_id; /* NFTA_RULE_ID of the last rule put, from 1 */
};

/* The headroom kept free before each message: libnftnl writes without a
 * bound and one set-element message may grow to 64 KiB. */
#define BATCH_HEADROOM (256u * 1024u)

int batch_init(struct batch *b, uint32_t first_seq, uint32_t genid);
void batch_free(struct batch *b);
/* Room for the next message; returns where to write it, or NULL (-ENOMEM). */
char *batch_reserve(struct batch *b);
/* Account the message just written at the reserved place. */
int batch_commit(struct batch *b, const struct batch_origin *origin);
int batch_finish(struct batch *b);
size_t batch_n_msgs(const struct batch *b);

/* A kernel error for one message of a batch. */
struct batch_error {
	uint32_t seq;
	int err;         /* -errno */
	char *extack;    /* kernel's message, owned, may be NULL */
};

/* A rule the kernel added, echoed back (NLM_F_ECHO) with its handle. */
struct batch_echo {
	uint32_t seq;    /* of our NEWRULE message */
	uint64_t handle;
};

struct batch_result {
	struct batch_error *errs;
	size_t n, cap;
	struct batch_echo *echoes;
	size_t n_echoes, cap_echoes;
};

void batch_result_free(struct batch_result *r);

/*
 * Send the batch in one sendmsg and read every ACK and error back, and the
 * rules echoed for NEWRULE messages sent with NLM_F_ECHO (r->echoes).
 * Returns 0 when all messages were acknowledged, -EINVAL-like when the
 * kernel refused (errors in r), or -errno for transport failures.
 */
int nl_batch_talk(struct pc_nl *nl, const struct batch *b, struct batch_result *r);

/* Request/response outside batches (GETGEN, dumps): cb per message. */
int nl_query(struct pc_nl *nl, char *buf, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);
/* Table inet portctl, its one message to cb: 1, 0 when there is none, -errno. */
int nl_table_get(struct pc_nl *nl, mnl_cb_t cb, void *data);

uint32_t nl_next_seq(struct pc_nl *nl, uint32_t count);

/* Does the kernel hold rs as the memo taken says (the generation genid
 * its, rs's digest the one it keeps)? 1: rs has its rules' handles, the
 * memo is used up either way; 0 no (or no memo); -ENOMEM. */
int nl_memo_match(struct pc_nl *nl, const struct pc_ruleset *rs, uint32_t genid);
/* Table inet portctl's flags and owner alone: 1, 0 when there is none, -errno. */
int held_table(struct pc_nl *nl, uint32_t *flags, uint32_t *owner);
struct nftnl_expr;
/* An expression as bytes appended to the pc_strbuf data (see delta.c). */
int expr_bytes_cb(struct nftnl_expr *e, void *data);

/* pc_strbuf_append where the bytes fit, inline: a digest or key is made
 * of millions of such small pieces (a restart's digest of 20,000 rules:
 * 3 million). */
static inline int bytes_put(struct pc_strbuf *b, const void *p, size_t n)
{
	if (b->len + n >= b->cap)
		return pc_strbuf_append(b, p, n);
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return 0;
}

/* An attribute's type and length, as one piece. */
static inline int attr_head_put(struct pc_strbuf *b, uint16_t type, uint32_t len)
{
	char head[sizeof(type) + sizeof(len)];

	memcpy(head, &type, sizeof(type));
	memcpy(head + sizeof(type), &len, sizeof(len));
	return bytes_put(b, head, sizeof(head));
}

/* An element seen through the bytes that make it: its key (identity),
 * what the kernel does with it (content), and its comment apart. */
struct elem_ref {
	struct nftnl_set_elem *e;
	struct pc_strbuf id;
	struct pc_strbuf content;
	const void *udata;
	uint32_t udata_len;
	bool lapsed; /* see struct elem_lapse */
	bool taken;  /* a carried counter: given to an element already */
};

/*
 * Ban elements carry a timeout counted from the ruleset's bans_clock_ms.
 * Once it has run out the kernel no longer has the element (nor, for an
 * interval, the end element after it, which it drops with its start), so
 * it must not be deleted or missed. Fed a set's elements in their order,
 * elem_lapsed tells which ones ran out by by_ms; clock_ms 0: none did.
 */
struct elem_lapse {
	uint64_t clock_ms, by_ms;
	bool prev; /* the previous element was a lapsed start */
};
bool elem_lapsed(struct elem_lapse *lp, struct nftnl_set_elem *e);
/* A margin for the time between building a batch and the kernel's commit. */
#define ELEM_LAPSE_MARGIN_MS 1000u
uint64_t elem_lapse_now_ms(void);

/* A set's elements sorted by identity. */
struct elem_list {
	struct elem_ref *items;
	size_t n, cap;
	struct elem_lapse lapse; /* set before elem_list_load to mark lapsed ones */
};

struct nftnl_set;
struct nftnl_chain;
struct nftnl_rule;
int elem_list_load(struct elem_list *l, struct nftnl_set *s);
void elem_list_free(struct elem_list *l);
struct elem_ref *elem_list_find(const struct elem_list *l, const struct elem_ref *key);
int elem_ref_fill(struct elem_ref *ref, struct nftnl_set_elem *e);

/* Messages of one object, each committed to b with its origin (obj: index
 * into the ruleset). A rule goes before the rule with handle before, or at
 * the chain's end when before is 0, and asks for its handle (NLM_F_ECHO). */
struct nlmsghdr *msg_start(struct batch *b, uint16_t type, uint16_t family, uint16_t flags);
int put_set(struct batch *b, struct nftnl_set *s, ssize_t obj);
/* The set's definition alone, without its elements. */
int put_set_head(struct batch *b, struct nftnl_set *s, ssize_t obj);
int put_chain(struct batch *b, const struct nftnl_chain *c, ssize_t obj);
int put_rule(struct batch *b, struct nftnl_rule *rule, ssize_t obj, uint64_t before);

/* Where a new rule goes: before the rule of handle before (0: at the
 * chain's end), or, when after_id is set, right after the rule of this
 * batch put with that id. */
struct rule_place {
	uint64_t before;
	uint32_t after_id;
};

/* put_rule at place; the rule's id (for a later place's after_id) is
 * b->last_rule_id after it. */
int put_rule_at(struct batch *b, struct nftnl_rule *rule, ssize_t obj, struct rule_place place);
/* Is finding the rule put last by its id cheaper for the kernel than
 * finding the rule at position pos of its chain by handle? */
bool batch_rule_id_cheaper(const struct batch *b, size_t pos);

/*
 * Counters that move with their elements. When an entry of a chain comes
 * or goes, the entries after it are numbered again, and so are their sets
 * and rules (in_public_4_ports becomes in_public_5_ports). What the kernel
 * counted for an element of a set that goes, or that loses it, carries to
 * the element of the same key and content that a set of the same shape
 * (its name with the numbers between underscores left out) gains.
 */
struct carry_set {
	char *shape;
	const char *verdict; /* what the set's name says (run_verdict_word) */
	struct nftnl_set *kset; /* the kernel's elements, with their counters */
	struct elem_list elems;
};

/* A kernel rule that goes, no rule taking its counter (by its comment). */
struct carry_rule {
	const void *udata;
	uint32_t len;
	const char *chain;
	uint64_t handle;
	struct nftnl_rule *rule; /* of the ruleset it goes from */
	bool taken;
};

struct elem_carry {
	struct carry_set *v;
	size_t n, cap;
	/* Kernel rules that go: the first element of the same comment that
	 * comes takes their counters (a rule of its own that joins a run
	 * scoped to its port), read by rule_ctr. */
	struct carry_rule *rules;
	size_t n_rules, cap_rules;
	int (*rule_ctr)(void *ctx, const char *chain, uint64_t handle, uint64_t *packets,
			uint64_t *bytes);
	void *ctx;
	/* Elements looked at for pieces of a range (an added element of a
	 * key no set had), at most. */
	size_t looks_left;
};

/* name with every "_<digits>" that ends at '_' or at the end as "_#". */
void name_shape(const char *name, struct pc_strbuf *out);
/* The kernel's elements of olds as a source of counters; stays: olds's
 * set under the same name, whose elements keep their own (NULL: none). */
int elem_carry_load(struct pc_nl *nl, struct elem_carry *c, struct nftnl_set *olds,
		    struct nftnl_set *stays);
/* The same for the elements of dels alone (deletes, named as their set). */
int elem_carry_load_elems(struct pc_nl *nl, struct elem_carry *c, struct nftnl_set *dels);
void elem_carry_free(struct elem_carry *c);
/* Is name (or its shape) a run's set's, of addresses (..._src4_accept) or
 * of ports (..._ports_accept)? Only those hand counters to and from rules
 * by comment. */
bool run_set_name(const char *name);
/* The counters of the elements loaded that no element took, of that
 * comment (a run's rule that becomes rule, a rule of its own), taken: 1,
 * or 0: none counted. */
int elem_carry_take_comment(struct elem_carry *c, struct nftnl_rule *rule, const void *udata,
			    uint32_t len, uint64_t *packets, uint64_t *bytes);
/* Element adds of s (named as its set), with counters carried. */
int diff_build_set_elems_carried(struct batch *b, struct nftnl_set *s, ssize_t obj,
				 struct elem_carry *c);
/* The set and its elements, those with a counter to carry with it. */
int put_set_carried(struct batch *b, struct nftnl_set *s, ssize_t obj, struct elem_carry *c);

/* Does the set differ from the other by its definition (not its elements)?
 * 1 yes, 0 no, -errno. */
int set_definition_differs(const struct nftnl_set *a, const struct nftnl_set *b);
/* Does the chain differ (a base chain's hook, type, priority, policy)? */
int chain_differs(const struct nftnl_chain *a, const struct nftnl_chain *b);

/* The element deletes and adds that turn olds into news (same definition),
 * counted into *added and *deleted. An element whose comment alone changed
 * is added again with the counter the kernel has for it (read through nl);
 * a new one takes one from carry (NULL: none).
 * Returns 1, or 0 when the set cannot change in place (constant or
 * anonymous), -errno on failure. */
int diff_set(struct pc_nl *nl, struct batch *b, struct nftnl_set *news, struct nftnl_set *olds,
	     ssize_t obj, const struct elem_lapse *lapse, struct elem_carry *carry, size_t *added,
	     size_t *deleted);
/* The same for two sets whose elements are keys (and interval-end flags)
 * alone, each set's in strictly increasing key order, as the lowering makes
 * a named address set: one merge, O(elements), no element copied. */
int diff_set_sorted(struct batch *b, struct nftnl_set *news, struct nftnl_set *olds, ssize_t obj,
		    size_t *added, size_t *deleted);

/* The element adds of adds (a set's, by name), those that cover pieces
 * of dels (its element deletes in the same batch) with their counters. */
int diff_build_set_elems_pieces(struct pc_nl *nl, struct batch *b, struct nftnl_set *adds,
				struct nftnl_set *dels, ssize_t obj);

/* The kernel's elements of the set named like like, into into (empty). */
int set_elems_dump(struct pc_nl *nl, const struct nftnl_set *like, struct nftnl_set *into);

/* What a difference will install, beside the batch. */
struct delta {
	uint64_t *handles;         /* by rs object: the handles kept rules carry over */
	struct pc_nl_stats counts; /* the counts of what changed */
};

/*
 * The messages that turn old (what we committed last, with its rules'
 * handles) into rs, in dependency order, into b. Returns 1 when built, 0
 * when only a new table will do (a base chain or a constant set changed,
 * a handle is missing), -errno on failure. d->handles is allocated here
 * (free() it).
 */
int delta_build(struct pc_nl *nl, struct batch *b, const struct pc_ruleset *rs,
		const struct pc_ruleset *old, struct delta *d);

/* A dump of objects of one type and family (NFPROTO_UNSPEC: every
 * family's; obj: the request's payload, built by payload, if any, such as a
 * table's name to keep to), cb called per message. 0 or -errno. */
int nl_dump_family(struct pc_nl *nl, uint16_t type, uint16_t family,
		   void (*payload)(struct nlmsghdr *, void *), void *obj, mnl_cb_t cb, void *data);
/* The same of table inet portctl's objects. */
int nl_dump(struct pc_nl *nl, uint16_t type, void (*payload)(struct nlmsghdr *, void *),
	    void *obj, mnl_cb_t cb, void *data);
/* A rule request's payload (obj: a struct nftnl_rule), for nl_dump. */
void nl_rule_payload(struct nlmsghdr *nlh, void *obj);
/* A dump of table inet portctl's rules, cb called per message, chain by
 * chain in the table's order (a whole table's dump's order). Each part of
 * a dump of a whole table walks its rules from the first to where the
 * part before ended, quadratic in the table's rules (blocks of 64 entries:
 * 330 chains, 40,000 rules); a chain's walks only that chain's. */
int nl_dump_rules(struct pc_nl *nl, mnl_cb_t cb, void *data);

struct nftnl_expr;
/* One expression as verify compares it (data: a struct pc_strbuf): the
 * state the kernel keeps (counter values, quota use) left out, and what it
 * reports of its own accord (a lookup's flags 0, a meter's timeout 0, a
 * log's default level) written as the compiler leaves it. */
int expr_sig_cb(struct nftnl_expr *e, void *data);

/*
 * What the kernel holds in table inet portctl, read back as a ruleset:
 * its chains, its sets with their elements (not those the packet path
 * fills; in the order the set of the same name in like has them, the
 * others last), its rules in chain order with their handles. Each object keeps
 * only what the compiler sets, so that what did not change compares equal
 * to its compiled self in delta_build. *flags: the table's flags, *owner
 * the port id of the socket that owns it (0: none). Returns 1, 0 when
 * there is no table, or -errno. Free with held_free().
 */
int held_read(struct pc_nl *nl, const struct pc_ruleset *like, struct pc_ruleset **out,
	      uint32_t *flags, uint32_t *owner);
void held_free(struct pc_ruleset *rs);

/* The counter of each rule of table inet portctl, or of its chain chain
 * (not NULL), by handle. */
struct rule_counter {
	uint64_t handle, packets, bytes;
};
int rule_counters_read(struct pc_nl *nl, const char *chain, struct rule_counter **out, size_t *n);
/* The counter of one rule of ours, asked for by its chain and handle: the
 * kernel walks that chain alone. 0 when it has none (or is gone). */
int rule_counter_read(struct pc_nl *nl, const char *chain, uint64_t handle, uint64_t *packets,
		      uint64_t *bytes);

/* 1 when the kernel's rules of our table are rs's, chain by chain, each
 * with the handle rs has for it; 0 when not, or -errno. */
int rule_handles_match(struct pc_nl *nl, const struct pc_ruleset *rs);

/* The elements of set (named as a set of the ruleset, obj its index) as
 * element adds, or deletes by key; for pc_nl_apply_elements. */
int diff_build_set_elems(struct batch *b, struct nftnl_set *set, ssize_t obj, bool add);

#endif
