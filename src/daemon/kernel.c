/* The daemon's only caller of the kernel: every transaction portctld
 * sends, and every read of its table, goes through here (called from
 * state.c alone), so that one place decides what reaches nftables. */
#include "config.h"

#include <errno.h>

#include "kernel.h"
#include "log.h"

/* Ban sets and port maps changed in place (state.c: ban_one_in_place,
 * state_rule_edit) are made whole before a ruleset is read as one. */
static int ruleset_sync(const struct pc_ruleset *rs)
{
	return pc_ruleset_sync((struct pc_ruleset *)rs);
}

/* Transactions the kernel refused because another program committed in
 * between (ERESTART: the generation id moved on) are sent again, each time
 * on what the kernel holds then. A program committing without pause can
 * take a few in a row; a change is refused only past this many. */
#define KERNEL_RESTARTS 16

/* d takes t's diagnostics; t is emptied. */
static void diags_take(struct pc_diags *d, struct pc_diags *t)
{
	for (size_t i = 0; i < t->n; i++)
		pc_diag_add(d, t->items[i].severity, &t->items[i].loc, t->items[i].hint, "%s",
			    t->items[i].message ? t->items[i].message : "");
	pc_diags_free(t);
}

int kernel_install(struct pc_nl *nl, const struct pc_ruleset *rs, const struct pc_ruleset *old,
		   unsigned flags, struct pc_diags *d)
{
	/* A port run cut in two (pc_ruleset_runs_edit) loses elements by the
	 * difference alone; anything else makes its maps whole first. */
	int r = rs->shared ? 0 : ruleset_sync(rs);

	if (r >= 0)
		r = ruleset_sync(old);
	if (r < 0)
		return r;
	for (int i = 0;; i++) {
		struct pc_diags t;

		pc_diags_init(&t);
		/* After a refusal, against the whole table as the kernel holds it. */
		r = pc_nl_apply(nl, rs, i ? NULL : old, flags, &t);
		/* Only a difference sends a cut run's element changes. */
		if (r == -EAGAIN) {
			pc_diags_free(&t);
			r = ruleset_sync(rs);
			if (r < 0)
				break;
			pc_diags_init(&t);
			r = pc_nl_apply(nl, rs, i ? NULL : old, flags, &t);
		}
		if (r != -ERESTART || i + 1 == KERNEL_RESTARTS) {
			diags_take(d, &t);
			break;
		}
		pc_diags_free(&t);
		log_debug("nftables changed while our transaction was on its way: sending it again");
	}
	return r;
}

int kernel_remove(struct pc_nl *nl, struct pc_diags *d)
{
	int r = pc_nl_remove(nl, d);

	if (r == -ERESTART)
		r = pc_nl_remove(nl, d);
	if (r == -ERESTART)
		pc_error(d, NULL, "the ruleset kept changing concurrently: try again");
	return r;
}

int kernel_install_elements(struct pc_nl *nl, const struct pc_ruleset *rs,
			    const struct pc_rule_append *app, bool add, struct pc_diags *d)
{
	return pc_nl_apply_elements(nl, rs, app, add, d);
}

int kernel_install_elem_change(struct pc_nl *nl, const struct pc_ruleset *rs,
			       const struct pc_rule_append *del, const struct pc_rule_append *add,
			       struct pc_diags *d)
{
	return pc_nl_apply_elem_change(nl, rs, del, add, d);
}

/* A dump that a commit interrupted (NLM_F_DUMP_INTR: EINTR) is read again,
 * as often as a transaction refused with ERESTART is sent again. */
int kernel_read_counters_of(struct pc_nl *nl, const struct pc_ruleset *rs,
			    const struct pc_nl_counter_ref *refs, size_t n, uint64_t *packets,
			    uint64_t *bytes)
{
	int r = ruleset_sync(rs);

	if (r < 0)
		return r;
	for (int i = 0; i < KERNEL_RESTARTS; i++) {
		r = pc_nl_read_counters_of(nl, rs, refs, n, packets, bytes);
		if (r != -EINTR)
			break;
	}
	return r;
}

int kernel_verify(struct pc_nl *nl, const struct pc_ruleset *rs, struct pc_nl_mismatches *out)
{
	int r = ruleset_sync(rs);

	if (r < 0)
		return r;
	for (int i = 0; i < KERNEL_RESTARTS; i++) {
		r = pc_nl_verify(nl, rs, out);
		if (r != -EINTR)
			break;
	}
	return r;
}

int kernel_nat_scan(struct pc_nl *nl, struct pc_nat_scan *out)
{
	return pc_nl_nat_scan(nl, out);
}

int kernel_table_exists(struct pc_nl *nl)
{
	return pc_nl_table_exists(nl);
}

int kernel_genid(struct pc_nl *nl, uint32_t *genid)
{
	return pc_nl_genid(nl, genid);
}
