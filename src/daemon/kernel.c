/* The daemon's only caller of the kernel: every transaction portctld
 * sends, and every read of its table, goes through here (called from
 * state.c alone), so that one place decides what reaches nftables. */
#include "config.h"

#include <errno.h>

#include "kernel.h"

/* Ban sets and port maps changed in place (state.c: ban_one_in_place,
 * state_rule_edit) are made whole before a ruleset is read as one. */
static int ruleset_sync(const struct pc_ruleset *rs)
{
	return pc_ruleset_sync((struct pc_ruleset *)rs);
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
	r = pc_nl_apply(nl, rs, old, flags, d);
	if (r == -EAGAIN) {
		r = ruleset_sync(rs);
		if (r >= 0)
			r = pc_nl_apply(nl, rs, old, flags, d);
	}
	/* Someone committed in between: the whole table, once more. */
	if (r == -ERESTART) {
		r = ruleset_sync(rs);
		if (r >= 0)
			r = pc_nl_apply(nl, rs, NULL, flags, d);
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

int kernel_read_counters_of(struct pc_nl *nl, const struct pc_ruleset *rs,
			    const struct pc_nl_counter_ref *refs, size_t n, uint64_t *packets,
			    uint64_t *bytes)
{
	int r = ruleset_sync(rs);

	return r < 0 ? r : pc_nl_read_counters_of(nl, rs, refs, n, packets, bytes);
}

int kernel_verify(struct pc_nl *nl, const struct pc_ruleset *rs, struct pc_nl_mismatches *out)
{
	int r = ruleset_sync(rs);

	return r < 0 ? r : pc_nl_verify(nl, rs, out);
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
