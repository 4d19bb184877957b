/* One transaction per change: the difference (delta.c) from our last commit
 * when the kernel holds it, else from what the kernel holds, read back
 * (held.c); the full replacement of table inet portctl (delete and re-add
 * in one batch) only when there is no table or no difference will do;
 * ownership with fallback, error mapping. */
#include "config.h"
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "internal.h"
#include "portctl/util.h"

/* Test-only: when set, the batch carries one extra rule the kernel refuses,
 * attributed to the last rule that came from a rules file, so the tests can
 * show that a kernel refusal changes nothing and names FILE:LINE:COL. */

static int put_table(struct batch *b, uint16_t type, uint16_t flags, bool set_flags,
		     uint32_t table_flags, const struct batch_origin *o)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, PC_TABLE_NAME);
	if (set_flags)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, table_flags);
	nlh = msg_start(b, type, NFPROTO_INET, flags);
	if (!nlh) {
		nftnl_table_free(t);
		return -ENOMEM;
	}
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	return batch_commit(b, o);
}

static int put_refused_rule(struct batch *b, const struct nftnl_rule *like, ssize_t obj)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	int ret;

	if (!r || !e) {
		if (r)
			nftnl_rule_free(r);
		if (e)
			nftnl_expr_free(e);
		return -ENOMEM;
	}
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, nftnl_rule_get_u32(like, NFTNL_RULE_FAMILY));
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, nftnl_rule_get_str(like, NFTNL_RULE_TABLE));
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, nftnl_rule_get_str(like, NFTNL_RULE_CHAIN));
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, 0x7fff);
	nftnl_rule_add_expr(r, e);
	ret = put_rule(b, r, obj, 0);
	nftnl_rule_free(r);
	return ret;
}

static ssize_t last_source_rule(const struct pc_ruleset *rs)
{
	for (size_t i = rs->n_objs; i-- > 0;)
		if (rs->objs[i].kind == PC_NFT_RULE && rs->objs[i].rule)
			return (ssize_t)i;
	return -1;
}

static int put_object(struct batch *b, const struct pc_ruleset *rs, size_t i)
{
	const struct pc_nft_object *o = &rs->objs[i];

	switch (o->kind) {
	case PC_NFT_TABLE:
		return 0; /* added by build_full with the ownership flags */
	case PC_NFT_CHAIN:
		return put_chain(b, o->obj, (ssize_t)i);
	case PC_NFT_SET:
		return put_set(b, o->obj, (ssize_t)i);
	case PC_NFT_RULE:
		return put_rule(b, o->obj, (ssize_t)i, 0);
	}
	return -EINVAL;
}

static ssize_t table_object(const struct pc_ruleset *rs)
{
	for (size_t i = 0; i < rs->n_objs; i++)
		if (rs->objs[i].kind == PC_NFT_TABLE)
			return (ssize_t)i;
	return -1;
}

/*
 * add table (so that the delete cannot fail), delete table, add table with
 * everything in it: all one transaction, so packets see the old ruleset or
 * the new one, never none.
 */
static int build_full(struct batch *b, const struct pc_ruleset *rs, bool owner,
		      bool refuse_last)
{
	ssize_t tobj = table_object(rs), refuse = -1;
	int r;

	r = put_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, false, 0,
		      &(struct batch_origin){ .obj = tobj, .what = "table" });
	if (r >= 0)
		r = put_table(b, NFT_MSG_DELTABLE, 0, false, 0,
			      &(struct batch_origin){ .obj = tobj, .what = "table delete" });
	if (r >= 0)
		r = put_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, true,
			      owner ? NFT_TABLE_F_OWNER | PC_NFT_TABLE_F_PERSIST : 0,
			      &(struct batch_origin){ .obj = tobj, .what = "table", .table_owned = owner });
	if (refuse_last)
		refuse = last_source_rule(rs);
	for (size_t i = 0; r >= 0 && i < rs->n_objs; i++) {
		r = put_object(b, rs, i);
		if (r >= 0 && (ssize_t)i == refuse)
			r = put_refused_rule(b, rs->objs[i].obj, refuse);
	}
	return r < 0 ? r : batch_finish(b);
}

static const char *object_name(const struct pc_nft_object *o)
{
	switch (o->kind) {
	case PC_NFT_TABLE:
		return nftnl_table_get_str(o->obj, NFTNL_TABLE_NAME);
	case PC_NFT_CHAIN:
		return nftnl_chain_get_str(o->obj, NFTNL_CHAIN_NAME);
	case PC_NFT_SET:
		return nftnl_set_get_str(o->obj, NFTNL_SET_NAME);
	case PC_NFT_RULE:
		return nftnl_rule_get_str(o->obj, NFTNL_RULE_CHAIN);
	}
	return "?";
}

static void report_batch_error(const struct batch *b, const struct pc_ruleset *rs,
			       const struct batch_error *e, struct pc_diags *d)
{
	const struct batch_origin *o = &b->origins[e->seq - b->first_seq];
	const struct pc_nft_object *obj = o->obj >= 0 ? &rs->objs[o->obj] : NULL;
	const char *why = strerror(-e->err);
	const char *ext = e->extack ? e->extack : "";
	const char *sep = e->extack ? " — " : "";

	if (e->seq == b->first_seq && e->err == -ERESTART)
		pc_error(d, NULL, "ruleset changed concurrently, retry");
	else if (e->seq == b->first_seq)
		pc_error(d, NULL, "kernel refused the transaction: %s%s%s", why, sep, ext);
	else if (e->err == -EPERM && !strncmp(o->what, "table", 5))
		pc_error(d, NULL, "kernel refused %s inet %s: %s (another process owns the table)",
			 o->what, PC_TABLE_NAME, why);
	else if (obj && obj->rule)
		pc_error(d, &obj->rule->loc, "kernel refused %s for this rule (chain %s): %s%s%s",
			 o->what, object_name(obj), why, sep, ext);
	else if (obj && obj->zone)
		pc_error(d, &obj->zone->loc, "kernel refused %s %s of zone %s: %s%s%s", o->what,
			 object_name(obj), obj->zone->name, why, sep, ext);
	else if (obj)
		pc_error(d, NULL, "kernel refused built-in %s %s: %s%s%s", o->what,
			 object_name(obj), why, sep, ext);
	else
		pc_error(d, NULL, "kernel refused %s inet %s: %s%s%s", o->what, PC_TABLE_NAME, why,
			 sep, ext);
}

/* The transaction failed only because the kernel does not know PERSIST. */
static bool owner_refused(const struct batch *b, const struct batch_result *res)
{
	if (res->n != 1)
		return false;
	if (res->errs[0].seq == b->first_seq)
		return false;
	return b->origins[res->errs[0].seq - b->first_seq].table_owned &&
	       (res->errs[0].err == -EOPNOTSUPP || res->errs[0].err == -EINVAL);
}

static int first_error(const struct batch_result *res)
{
	int e = res->errs[0].err;

	for (size_t i = 0; i < res->n; i++)
		if (res->errs[i].err == -ERESTART)
			return -ERESTART;
	return e;
}

static int send_batch(struct pc_nl *nl, struct batch *b, struct batch_result *res)
{
	int r = nl_batch_talk(nl, b, res);

	return r < 0 && res->n ? first_error(res) : r;
}

/* rs is what the kernel holds now, by our hand. The ruleset is the
 * caller's to keep const otherwise; this mark belongs to the netlink stage. */
static void installed_record(struct pc_nl *nl, const struct pc_ruleset *rs)
{
	((struct pc_ruleset *)rs)->installed = ++nl->commits;
}

/* Record what was sent; b NULL: nothing was (our last commit still stands). */
static void stats_record(struct pc_nl *nl, const struct batch *b, bool incremental, bool owned,
			 const struct pc_nl_stats *counts)
{
	nl->stats = counts ? *counts : (struct pc_nl_stats){ 0 };
	nl->stats.incremental = incremental;
	nl->stats.owned = owned;
	nl->stats.diff_refused = nl->diff_refused;
	nl->diff_refused = 0;
	nl->stats.n_msgs = b ? batch_n_msgs(b) : 0;
	nl->stats.n_bytes = b ? b->len : 0;
	if (b && pc_nl_genid(nl, &nl->applied_genid) < 0)
		nl->applied_genid = 0;
	nl->stats.genid = nl->applied_genid;
}

bool pc_nl_applied_at(struct pc_nl *nl, uint32_t genid)
{
	if (!nl->applied_genid || !genid)
		return false;
	nl->applied_genid = nl->stats.genid = genid;
	return true;
}

bool pc_nl_trust_generation(struct pc_nl *nl, uint32_t genid)
{
	if (!pc_nl_applied_at(nl, genid))
		return false;
	nl->trusted = true;
	return true;
}

/* The handles the kernel gave the rules the batch added, into rs. */
static void handles_take(const struct pc_ruleset *rs, const struct batch *b,
			 const struct batch_result *res)
{
	for (size_t i = 0; i < res->n_echoes; i++) {
		const struct batch_origin *o = &b->origins[res->echoes[i].seq - b->first_seq];

		if (o->obj >= 0 && rs->objs[o->obj].kind == PC_NFT_RULE)
			rs->objs[o->obj].handle = res->echoes[i].handle;
	}
}

/* handles: by object of rs, what kept rules carry over (0 for the others,
 * NULL for none); the echoes of the batch fill in the rest. */
static void handles_record(const struct pc_ruleset *rs, const uint64_t *handles,
			   const struct batch *b, const struct batch_result *res)
{
	for (size_t i = 0; i < rs->n_objs; i++)
		rs->objs[i].handle = handles ? handles[i] : 0;
	handles_take(rs, b, res);
}

/* A table owned by another process makes every message fail with EPERM;
 * the refusal of the table itself says all there is to say. */
static const struct batch_error *owned_elsewhere(const struct batch *b,
						 const struct batch_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		const struct batch_error *e = &res->errs[i];

		if (e->err == -EPERM && e->seq != b->first_seq &&
		    !strncmp(b->origins[e->seq - b->first_seq].what, "table", 5))
			return e;
	}
	return NULL;
}

/* What the kernel refused, at the objects it names; err when it named
 * none (the batch did not get through at all). */
static void report_all(const struct batch *b, const struct pc_ruleset *rs,
		       const struct batch_result *res, int err, struct pc_diags *d)
{
	const struct batch_error *owned = owned_elsewhere(b, res);

	if (res->n == 0) {
		pc_error(d, NULL, "sending the transaction to the kernel failed: %s", strerror(-err));
		return;
	}

	if (owned) {
		report_batch_error(b, rs, owned, d);
		return;
	}
	for (size_t i = 0; i < res->n; i++)
		report_batch_error(b, rs, &res->errs[i], d);
}

/* Returns 1 when the difference applied rs (or there was none, and no
 * transaction was sent), 0 when a full replace is needed, or -ERESTART
 * with diagnostics (a concurrent commit). */
static int apply_diff(struct pc_nl *nl, const struct pc_ruleset *rs, const struct pc_ruleset *old,
		      uint32_t genid, bool owner, int table_flags, struct pc_diags *d)
{
	struct batch_result res = { 0 };
	struct delta delta = { 0 };
	struct batch b;
	int r = batch_init(&b, nl_next_seq(nl, 0), nl->trusted ? 0 : genid);

	nl->trusted = false;
	/* The table's flags first, when they must change (ownership taken
	 * again after a restart): an update, its content stays. */
	if (r >= 0 && table_flags >= 0)
		r = put_table(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE, true, (uint32_t)table_flags,
			      &(struct batch_origin){ .obj = table_object(rs), .what = "table",
						      .table_owned = owner });
	if (r >= 0)
		r = delta_build(nl, &b, rs, old, &delta);
	if (r > 0 && batch_n_msgs(&b) > 0) {
		r = batch_finish(&b);
		if (r >= 0)
			r = send_batch(nl, &b, &res);
		nl->seq = b.next_seq + 1;
		if (r == -ERESTART)
			report_all(&b, rs, &res, r, d);
		/* Any other refusal (an element that timed out meanwhile, a
		 * handle gone stale) is settled by a full replace, which also
		 * reports real errors at their rules. */
		if (r != 0 && r != -ERESTART)
			nl->diff_refused = res.n ? res.errs[0].err : r;
		r = r == -ERESTART ? r : r == 0;
	}
	if (r > 0) {
		handles_record(rs, delta.handles, &b, &res);
		installed_record(nl, rs);
		stats_record(nl, batch_n_msgs(&b) ? &b : NULL, true, owner, &delta.counts);
		/* Nothing sent: the kernel held rs at genid (a later commit
		 * makes the next batch carrying it fail, as it should). */
		if (!batch_n_msgs(&b))
			nl->applied_genid = nl->stats.genid = genid;
	}
	free(delta.handles);
	batch_result_free(&res);
	batch_free(&b);
	return r;
}

/* Build and send the full replacement; res holds the kernel's refusals. */
static int apply_full_once(struct pc_nl *nl, const struct pc_ruleset *rs, uint32_t genid,
			   bool owner, struct batch *b, struct batch_result *res)
{
	int r = batch_init(b, nl_next_seq(nl, 0), genid);

	if (r >= 0)
		r = build_full(b, rs, owner, nl->test_refuse);
	if (r >= 0)
		r = send_batch(nl, b, res);
	nl->seq = b->next_seq + 1;
	return r;
}

static int apply_full(struct pc_nl *nl, const struct pc_ruleset *rs, uint32_t genid, bool owner,
		      struct pc_diags *d)
{
	struct batch_result res = { 0 };
	struct batch b;
	int r = apply_full_once(nl, rs, genid, owner, &b, &res);

	if (r < 0 && owner && owner_refused(&b, &res)) {
		nl->persist_refused = true;
		owner = false;
		pc_warning(d, NULL,
			   "the kernel refused NFT_TABLE_F_OWNER|NFT_TABLE_F_PERSIST; table inet %s "
			   "is not owned, drift detection guards it instead",
			   PC_TABLE_NAME);
		batch_result_free(&res);
		batch_free(&b);
		r = apply_full_once(nl, rs, genid, owner, &b, &res);
	}
	if (r == 0) {
		handles_record(rs, NULL, &b, &res);
		installed_record(nl, rs);
		stats_record(nl, &b, false, owner, NULL);
	} else {
		report_all(&b, rs, &res, r, d);
	}
	batch_result_free(&res);
	batch_free(&b);
	return r;
}

/*
 * Our last commit is not known to be in the kernel (a start, a restart, a
 * drift, a commit of ours that failed): the difference against what the
 * kernel holds, read back, so that what stays keeps its counters. The
 * batch carries the generation read before the dump, so a commit in
 * between makes it fail with ERESTART. Returns as apply_diff; 0 also when
 * there is no table to start from or it could not be read.
 */
static int apply_over_held(struct pc_nl *nl, const struct pc_ruleset *rs, uint32_t genid,
			   bool owner, struct pc_diags *d)
{
	uint32_t want = owner ? NFT_TABLE_F_OWNER | PC_NFT_TABLE_F_PERSIST : 0, flags = 0, by = 0;
	struct pc_ruleset *held = NULL;
	/* The last stop's memo says the kernel holds rs: its flags alone. */
	int r = nl_memo_match(nl, rs, genid);

	if (r == 1)
		r = held_table(nl, &flags, &by);
	else if (r == 0)
		r = held_read(nl, rs, &held, &flags, &by);
	/* A dump cut short (a commit meanwhile interrupts it): the full
	 * replace, which the kernel checks against the generation. */
	if (r <= 0) {
		held_free(held);
		return r == -ENOMEM ? r : 0;
	}
	/* The table's flags change only when they must: ownership is taken
	 * again after a restart (the kernel kept the table, PERSIST alone).
	 * The kernel sets or clears PERSIST on no table that exists: one
	 * owned from now on that lacks it is made anew, and one no longer
	 * owned keeps it (PERSIST without an owner does nothing), and with it
	 * its counters. */
	if (owner && !(flags & PC_NFT_TABLE_F_PERSIST)) {
		held_free(held);
		return 0;
	}
	r = apply_diff(nl, rs, held ? held : rs, genid, owner,
		       (owner ? flags == want && by == nl->portid : !(flags & NFT_TABLE_F_OWNER))
			       ? -1
			       : (int)want,
		       d);
	held_free(held);
	return r;
}

/*
 * Does the kernel hold old, our last commit, though the generation moved
 * (another program committed, most likely to its own table)? Its rules must
 * be old's, with old's handles, and everything else as pc_nl_verify sees
 * it. A commit after this check makes the difference fail with ERESTART:
 * its batch carries the generation read before.
 */
static int kernel_holds(struct pc_nl *nl, const struct pc_ruleset *old)
{
	struct pc_nl_mismatches m = { 0 };
	int r = rule_handles_match(nl, old);

	if (r <= 0)
		return r;
	r = pc_nl_verify(nl, old, &m);
	if (r >= 0)
		r = m.n == 0;
	pc_nl_mismatches_free(&m);
	return r;
}

int pc_nl_apply(struct pc_nl *nl, const struct pc_ruleset *rs, const struct pc_ruleset *old,
		unsigned flags, struct pc_diags *d)
{
	bool ours;

	bool owner = (flags & PC_NL_OWNER) && !nl->persist_refused;
	uint32_t genid;
	int r;

	r = pc_nl_genid(nl, &genid);

	if (r < 0) {
		pc_error(d, NULL, "reading the nftables generation id failed: %s", strerror(-r));
		return r;
	}
	/* A difference is valid only on top of what the kernel holds: old,
	 * when our last commit installed it and nobody committed since, or
	 * when a dump says so. A
	 * change of the table's own flags is a full replace, and so is
	 * whatever a test that wants a refusal asks for. */
	ours = old && !(flags & PC_NL_FULL) && nl->stats.owned == owner && !nl->test_refuse;
	/* Trusted (pc_nl_trust_generation): the kernel holds old whatever
	 * others committed to their own tables since. */
	if (ours && ((nl->applied_genid != genid && !nl->trusted) || genid == 0 ||
		     !old->installed || old->installed != nl->commits))
		ours = kernel_holds(nl, old) > 0;
	if (!ours)
		nl->trusted = false;
	if (ours) {
		r = apply_diff(nl, rs, old, genid, owner, -1, d);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	/* Maps that lose elements by a difference alone (rs->shared), or
	 * stale ones the difference skips: any other install needs them
	 * whole first. */
	if (rs->shared || rs->n_stale)
		return -EAGAIN;
	if (!ours && !(flags & PC_NL_FULL) && !nl->test_refuse) {
		r = apply_over_held(nl, rs, genid, owner, d);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	/* Whole, it holds the same whatever others committed: no generation
	 * check when asked for. */
	r = apply_full(nl, rs, flags & PC_NL_FULL ? 0 : genid, owner, d);
	/* A refusal that nothing settled is not the next install's. */
	if (r < 0)
		nl->diff_refused = 0;
	return r;
}

int pc_nl_apply_elements(struct pc_nl *nl, const struct pc_ruleset *rs,
			 const struct pc_rule_append *app, bool add, struct pc_diags *d)
{
	return pc_nl_apply_elem_change(nl, rs, add ? NULL : app, add ? app : NULL, d);
}

int pc_nl_apply_elem_change(struct pc_nl *nl, const struct pc_ruleset *rs,
			    const struct pc_rule_append *del, const struct pc_rule_append *add,
			    struct pc_diags *d)
{
	struct batch_result res = { 0 };
	struct batch b;
	int r;

	/* Only on top of our own last commit: the batch carries that genid,
	 * so the kernel refuses it if anyone committed since. */
	if (!nl->applied_genid)
		return -ESTALE;
	r = batch_init(&b, nl_next_seq(nl, 0), nl->trusted ? 0 : nl->applied_genid);
	nl->trusted = false;
	/* Deletes first: an interval replaced by a neighbouring one is gone
	 * before the new one arrives (as diff_set). */
	for (size_t i = 0; r >= 0 && del && i < del->n_sets; i++)
		r = diff_build_set_elems(&b, del->sets[i].elems, (ssize_t)del->sets[i].obj, false);
	for (size_t i = 0; r >= 0 && add && i < add->n_sets; i++) {
		struct nftnl_set *dels = NULL;

		/* A rule's range cut in two, or pieces made one: counters go on. */
		for (size_t j = 0; del && j < del->n_sets; j++)
			if (del->sets[j].obj == add->sets[i].obj)
				dels = del->sets[j].elems;
		r = diff_build_set_elems_pieces(nl, &b, add->sets[i].elems, dels,
						(ssize_t)add->sets[i].obj);
	}
	if (r >= 0 && batch_n_msgs(&b) == 0) {
		/* A rule that others before it shadow whole: nothing to send,
		 * and the stats say so rather than the last commit's. */
		stats_record(nl, NULL, true, nl->stats.owned, NULL);
		batch_free(&b);
		return 0;
	}
	if (r >= 0)
		r = batch_finish(&b);
	if (r >= 0)
		r = send_batch(nl, &b, &res);
	nl->seq = b.next_seq + 1;
	if (r == 0) {
		installed_record(nl, rs);
		stats_record(nl, &b, true, nl->stats.owned, NULL);
	} else if (r == -ERESTART)
		r = -ESTALE;
	else
		report_all(&b, rs, &res, r, d);
	batch_result_free(&res);
	batch_free(&b);
	return r;
}

void pc_nl_test_refuse_last_rule(struct pc_nl *nl, bool on)
{
	nl->test_refuse = on;
}

int pc_nl_remove(struct pc_nl *nl, struct pc_diags *d)
{
	struct batch_result res = { 0 };
	struct batch b;
	uint32_t genid;
	int r = pc_nl_genid(nl, &genid);

	if (r < 0) {
		pc_error(d, NULL, "reading the nftables generation id failed: %s", strerror(-r));
		return r;
	}
	/* Added first, so that the delete cannot fail when there is none. */
	r = batch_init(&b, nl_next_seq(nl, 0), genid);
	if (r >= 0)
		r = put_table(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE, false, 0,
			      &(struct batch_origin){ .obj = -1, .what = "table" });
	if (r >= 0)
		r = put_table(&b, NFT_MSG_DELTABLE, 0, false, 0,
			      &(struct batch_origin){ .obj = -1, .what = "table delete" });
	if (r >= 0)
		r = batch_finish(&b);
	if (r >= 0)
		r = send_batch(nl, &b, &res);
	nl->seq = b.next_seq + 1;
	if (r == 0) {
		stats_record(nl, &b, false, false, NULL);
		/* Nothing of ours to add elements to until the next apply. */
		nl->applied_genid = 0;
	} else if (r != -ERESTART) {
		report_all(&b, NULL, &res, r, d);
	}
	batch_result_free(&res);
	batch_free(&b);
	return r;
}

int pc_nl_table_delete(struct pc_nl *nl)
{
	struct pc_diags d;
	int r = pc_nl_table_exists(nl);

	if (r <= 0)
		return r;
	pc_diags_init(&d);
	r = pc_nl_remove(nl, &d);
	if (r == -ERESTART) /* another commit in between: once more */
		r = pc_nl_remove(nl, &d);
	pc_diags_free(&d);
	return r < 0 ? r : 1;
}
