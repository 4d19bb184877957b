/* The kernel side: one nftables transaction per change to table "inet portctl",
 * guarded by the generation id, with table ownership and incremental element updates. */
#ifndef PORTCTL_NETLINK_H
#define PORTCTL_NETLINK_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "portctl/compile.h"
#include "portctl/diag.h"

struct pc_nl;

/* NFT_TABLE_F_PERSIST arrived in Linux 6.9; Debian 12's headers lack it. */
#define PC_NFT_TABLE_F_PERSIST 0x4

enum pc_nl_apply_flags {
	/* Claim the table with NFT_TABLE_F_OWNER|NFT_TABLE_F_PERSIST (never OWNER
	 * alone); falls back to no ownership, once, on kernels that refuse it. */
	PC_NL_OWNER = 1u << 0,
	/* Always replace the whole table, even when only elements differ
	 * (counters start again from the ruleset's), in a batch without a
	 * generation check: what it leaves does not depend on what was there. */
	PC_NL_FULL = 1u << 1,
};

/* What the last pc_nl_apply() sent, for logs and benchmarks. */
struct pc_nl_stats {
	bool incremental; /* a difference on top of our last commit, not a new table */
	bool owned;       /* the table is held with OWNER|PERSIST */
	size_t n_msgs;    /* messages between BATCH_BEGIN and BATCH_END; 0: no transaction */
	size_t n_bytes;   /* size of the batch */
	uint32_t genid;   /* generation after our commit */
	/* What a difference changed (all 0 for a full replace or no change).
	 * A rule whose comment alone changed is re-added with its counter and
	 * counts as replaced, not as added and deleted. */
	size_t chains_added, chains_deleted, sets_added, sets_deleted;
	size_t rules_added, rules_deleted, rules_replaced;
	size_t elems_added, elems_deleted; /* in sets that stay */
	/* Rules (of both sides) compared by their expressions printed, not
	 * by their bytes: a kind of expression the bytes do not cover, or
	 * an attribute the kernel reports otherwise than we send it. */
	size_t rules_signed;
	/* The kernel refused the difference (its first error, -errno) and the
	 * table was replaced instead: the picture of what it held was wrong,
	 * or an element timed out meanwhile. 0: no refusal. */
	int diff_refused;
};

/*
 * Open a NETLINK_NETFILTER socket with buffers big enough for 100,000-rule
 * batches. The socket is the table's owner while it stays open. *out is
 * freed with pc_nl_close(). Returns 0 or -errno.
 */
int pc_nl_open(struct pc_nl **out);
void pc_nl_close(struct pc_nl *nl);

/* The socket's netlink port id. The kernel stamps it (nlmsg_pid) on every
 * event of a commit made through nl, whatever PID namespace we run in. */
uint32_t pc_nl_portid(const struct pc_nl *nl);

/* The ruleset generation id (NFT_MSG_GETGEN). Returns 0 or -errno. */
int pc_nl_genid(struct pc_nl *nl, uint32_t *genid);

/* 1 when table inet portctl exists, 0 when not, or -errno. */
int pc_nl_table_exists(struct pc_nl *nl);

/* Delete table inet portctl, all of it, in one transaction (for the
 * package's removal). 1 when deleted, 0 when there was none, -EPERM when
 * a live process (a running portctld) owns it, or -errno. */
int pc_nl_table_delete(struct pc_nl *nl);

/*
 * Make the kernel's table inet portctl hold exactly rs, in one transaction
 * carrying the generation id. Only the difference is sent: chains, sets,
 * set elements and rules that rs has and the kernel has not, and deletes
 * (rules by handle) of what the kernel has and rs has not; what both have
 * stays, with its counters, and no change sends no transaction at all. The
 * difference is taken against old when it is what this handle applied last
 * and the kernel still holds it (nobody committed since, or a dump of our
 * table shows it unchanged), else against what a dump of our table shows
 * (old NULL: a start or restart; or someone else changed the table), with
 * the table's ownership flags updated when they must change. Only when
 * there is no table, a base chain or a constant set must change, or the
 * kernel refuses the difference (or flags has PC_NL_FULL) is the table
 * deleted and re-added with all its objects in the same batch. Either way
 * the kernel handles of rs's
 * rules, and that this handle installed it, are recorded in rs
 * (pc_nft_object.handle, pc_ruleset.installed) for the next difference.
 * Kernel errors are added to d at the source rule's FILE:LINE:COL (or
 * naming the zone / built-in object). Nothing is changed on error. Returns
 * 0, -ERESTART when someone else committed in between (retry), -EINTR when
 * someone's commit cut short a read of the table the transaction was made
 * from (retry), -EPERM when
 * another process owns the table, -EAGAIN when rs has element changes of
 * shared maps (rs->shared) and only a whole rs will do (nothing sent:
 * pc_ruleset_sync it, then again), or -errno.
 */
int pc_nl_apply(struct pc_nl *nl, const struct pc_ruleset *rs, const struct pc_ruleset *old,
		unsigned flags, struct pc_diags *d);
/* Did pc_nl_apply fail for other programs' commits alone (-ERESTART,
 * -EINTR), so that making the transaction again may go through? */
static inline bool pc_nl_raced(int r)
{
	return r == -ERESTART || r == -EINTR;
}

/*
 * A restart without reading the table back. pc_nl_memo_make, at a clean
 * stop: a memo (text, *out malloc'd) of what the kernel holds, rs when this
 * handle installed it last and nobody committed since: rs's digest, its
 * rules' kernel handles, the generation, this boot's id and the network
 * namespace's cookie. 1 made, 0 nothing to keep (the kernel is not known
 * to hold rs, or rs cannot be digested), -ENOMEM. pc_nl_memo_take, at the
 * next start: the memo (a copy) for the first pc_nl_apply without old,
 * which then builds on it instead of a dump when the generation has not
 * moved and the ruleset compiled now has the same digest. 1 taken, 0 not
 * a memo of this boot and namespace (or damaged), -ENOMEM.
 */
int pc_nl_memo_make(struct pc_nl *nl, const struct pc_ruleset *rs, char **out, size_t *out_len);
int pc_nl_memo_take(struct pc_nl *nl, const char *text, size_t len);
/* What became of the memo taken: NULL none was taken or none was tried
 * yet, PC_NL_MEMO_TAKEN built on, else why not. */
#define PC_NL_MEMO_TAKEN "taken"
const char *pc_nl_memo_outcome(const struct pc_nl *nl);

/* The kernel still holds what this handle applied last, now at generation
 * genid: the caller saw (nftables events) that every commit since left
 * table inet portctl alone. The next difference or element change builds
 * on it without reading the table back. false when nothing was applied. */
bool pc_nl_trust_generation(struct pc_nl *nl, uint32_t genid);
/* The kernel held what this handle applied last at generation genid (read
 * back and compared): the next difference or element change carries genid,
 * so that the kernel refuses it if anyone committed since. false when
 * nothing was applied. */
bool pc_nl_applied_at(struct pc_nl *nl, uint32_t genid);

/*
 * Take table inet portctl out of the kernel ("portctl disable"), in one
 * transaction carrying the generation id; no table is not an error.
 * Returns 0, -ERESTART when someone else committed in between (retry),
 * -EPERM when another process owns the table, or -errno with the kernel's
 * refusal in d.
 */
int pc_nl_remove(struct pc_nl *nl, struct pc_diags *d);

/*
 * Send just the elements of app (pc_rule_append_prepare) to their sets of
 * rs, added (add) or deleted by key (to undo an add), in one transaction
 * carrying the generation id of this handle's last commit. Returns 0,
 * -ESTALE without any change when someone else committed since (apply the
 * whole ruleset instead), or -errno with the kernel's refusal in d.
 */
int pc_nl_apply_elements(struct pc_nl *nl, const struct pc_ruleset *rs,
			 const struct pc_rule_append *app, bool add, struct pc_diags *d);
/* The same with the elements of del deleted and those of add added, in
 * one transaction (del, add: NULL for none). */
int pc_nl_apply_elem_change(struct pc_nl *nl, const struct pc_ruleset *rs,
			    const struct pc_rule_append *del, const struct pc_rule_append *add,
			    struct pc_diags *d);

/* Statistics of the last successful pc_nl_apply(). */
const struct pc_nl_stats *pc_nl_last_stats(const struct pc_nl *nl);

/* One counter read back from the kernel, tied to the applied ruleset. */
struct pc_nl_counter {
	size_t obj; /* index into ruleset->objs: a rule, or the set of the element */
	/* The element of that set (owned by the ruleset), NULL for a rule. */
	const struct nftnl_set_elem *elem;
	uint64_t packets, bytes;
};

struct pc_nl_counters {
	struct pc_nl_counter *items;
	size_t n, cap;
};

/*
 * Dump the rules and set elements of our table and match their counters back
 * to rs (rules by chain and position, elements by key). Objects of rs that
 * the kernel lacks are skipped. out must be zeroed or freed before; release
 * with pc_nl_counters_free(). Returns 0 or -errno.
 */
int pc_nl_read_counters(struct pc_nl *nl, const struct pc_ruleset *rs, struct pc_nl_counters *out);
void pc_nl_counters_free(struct pc_nl_counters *c);

/* A rule object of a ruleset (elem NULL), or one element of a set object. */
struct pc_nl_counter_ref {
	size_t obj;
	const struct nftnl_set_elem *elem;
};
/*
 * The counters of refs alone into packets[i], bytes[i] (zeroed by the
 * caller), asked for by rule handle and element key: a page of status
 * costs its size, not the table's. Elements of one set that follow each
 * other in refs go in one message. Objects the kernel lacks keep 0.
 * Returns 0 or -errno.
 */
int pc_nl_read_counters_of(struct pc_nl *nl, const struct pc_ruleset *rs,
			   const struct pc_nl_counter_ref *refs, size_t n, uint64_t *packets,
			   uint64_t *bytes);
/* Do the elements of this set carry counters (pc_nl_read_counters reads
 * them)? An anonymous set's never count. */
bool pc_nl_set_counted(const struct nftnl_set *s);

/* One difference between the kernel's table and a ruleset (pc_nl_verify). */
struct pc_nl_mismatch {
	char op;          /* '-' missing from the kernel, '+' only in the kernel, '~' order */
	const char *what; /* "rule", "chain", "set", "set element", "table", ... */
	ssize_t obj;      /* index into the ruleset's objs, -1 for kernel-only objects */
	char *text;       /* owned: the object as compared (libnftnl's words) */
};

struct pc_nl_mismatches {
	struct pc_nl_mismatch *items;
	size_t n, cap;
};

/*
 * Compare table inet portctl in the kernel with rs: chains, sets and their
 * elements, and rules in chain order, each printed without handles and the
 * state the kernel keeps by itself (counter values, quota use, the elements
 * of sets the packet path fills, elements of rs with a timeout that are
 * gone). out (zeroed) gets one entry per difference; none means the kernel
 * holds exactly rs. Release with pc_nl_mismatches_free().
 * Returns 0 or -errno.
 */
int pc_nl_verify(struct pc_nl *nl, const struct pc_ruleset *rs, struct pc_nl_mismatches *out);
/* pc_nl_verify for when other programs commit without pause and every
 * read of the table is interrupted (EINTR): two reads, each to its end;
 * when a commit interrupted them, they count only if they agree (a commit
 * that changed our table between or during them makes them differ, but
 * for a coincidence), else -EINTR. */
int pc_nl_verify_settled(struct pc_nl *nl, const struct pc_ruleset *rs,
			 struct pc_nl_mismatches *out);
void pc_nl_mismatches_free(struct pc_nl_mismatches *m);

/* nftables events (NFNLGRP_NFTABLES), read to notice other programs'
 * commits to table inet portctl. */
struct pc_nl_events;

/* What the events queued since the last read say. */
struct pc_nl_event_summary {
	/* A commit by another socket touched table inet portctl. */
	bool foreign;
	/* Events were lost (the socket overran, ENOBUFS): whether one of them
	 * touched our table is unknown. Compare once; not a change by itself. */
	bool overrun;
	size_t n_foreign; /* commits of others that touched our table */
	size_t n_ignored; /* commits of others that did not */
	/* The last foreign committer to our table, for the log (as the kernel
	 * reports it: a pid of the initial PID namespace); 0 and "" unknown. */
	pid_t pid;
	char comm[16];
};

/*
 * Subscribe to NFNLGRP_NFTABLES on a non-blocking socket with a large
 * receive buffer (needs CAP_NET_ADMIN to pass rmem_max). *out is freed with
 * pc_nl_events_close(). Returns 0 or -errno.
 */
int pc_nl_events_open(struct pc_nl_events **out);
void pc_nl_events_close(struct pc_nl_events *ev);
void pc_nl_events_closep(struct pc_nl_events **ev);
int pc_nl_events_fd(const struct pc_nl_events *ev);

/*
 * Drain every queued event into *out. Commits whose events carry port id
 * self (pc_nl_portid() of our own handle) are ours and not counted; other
 * commits count only when an event of theirs names table inet portctl.
 * Returns 0 or -errno.
 */
int pc_nl_events_read(struct pc_nl_events *ev, uint32_t self, struct pc_nl_event_summary *out);

#endif
