/* Pieces of the netlink stage shared between its files: the handle, the
 * growable batch with its sequence map, and the send/ACK loop. */
#ifndef PORTCTL_NETLINK_INTERNAL_H
#define PORTCTL_NETLINK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
	struct pc_nl_stats stats;
};

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

struct batch_result {
	struct batch_error *errs;
	size_t n, cap;
};

void batch_result_free(struct batch_result *r);

/*
 * Send the batch in one sendmsg and read every ACK and error back.
 * Returns 0 when all messages were acknowledged, -EINVAL-like when the
 * kernel refused (errors in r), or -errno for transport failures.
 */
int nl_batch_talk(struct pc_nl *nl, const struct batch *b, struct batch_result *r);

/* Request/response outside batches (GETGEN, dumps): cb per message. */
int nl_query(struct pc_nl *nl, char *buf, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

uint32_t nl_next_seq(struct pc_nl *nl, uint32_t count);

/* An element seen through the bytes that make it: its key (identity) and
 * everything the kernel stores with it (content). */
struct elem_ref {
	struct nftnl_set_elem *e;
	struct pc_strbuf id;
	struct pc_strbuf content;
	bool lapsed; /* see struct elem_lapse */
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
int elem_list_load(struct elem_list *l, struct nftnl_set *s);
void elem_list_free(struct elem_list *l);
struct elem_ref *elem_list_find(const struct elem_list *l, const struct elem_ref *key);
int elem_ref_fill(struct elem_ref *ref, struct nftnl_set_elem *e);

/* Incremental element update: builds the element-only batch when rs differs
 * from old by set elements alone; returns 1 when built, 0 when a full
 * replace is needed, -errno on failure. */
int diff_build_elements(struct batch *b, const struct pc_ruleset *rs,
			const struct pc_ruleset *old);

/* The elements of set (named as a set of the ruleset, obj its index) as
 * element adds, or deletes by key; for pc_nl_apply_elements. */
int diff_build_set_elems(struct batch *b, struct nftnl_set *set, ssize_t obj, bool add);

#endif
