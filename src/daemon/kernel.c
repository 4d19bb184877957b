/* The daemon's only caller of the kernel: every transaction portctld
 * sends, and every read of its table, goes through here (called from
 * state.c alone), so that one place decides what reaches nftables. */
#include "config.h"

#include <errno.h>
#include <string.h>

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
 * on what the kernel holds then; so are those whose making read the table
 * (rule counters to carry, what it holds) in a dump another commit cut
 * short (EINTR). A program committing without pause can take a few in a
 * row; an install's last try is the table whole (kernel_install). */
#define KERNEL_RESTARTS 16

/* Who can tell that other programs' commits left our table alone; and
 * whether one did not since our last install (then only a read-back
 * tells what the kernel holds). */
static struct {
	bool (*fn)(void *);
	void *data;
	bool touched;
} quiet;

void kernel_table_touched(void)
{
	quiet.touched = true;
}

void kernel_quiet_hook(bool (*fn)(void *), void *data)
{
	quiet.fn = fn;
	quiet.data = data;
}

/* After a refusal for another program's commit: when every commit since
 * ours left our table alone (the events say so), the kernel still holds
 * what we applied, at the generation now; a difference or an element
 * change then builds on it again at once, without reading the table back
 * (which a program committing without pause would outrun every time). The
 * generation is read first: the events of the commits up to it are queued
 * by then. */
static bool kernel_trust(struct pc_nl *nl)
{
	uint32_t genid;
	bool moved;

	if (!quiet.fn || quiet.touched || pc_nl_genid(nl, &genid) < 0 || !quiet.fn(quiet.data))
		return false;
	moved = genid != pc_nl_last_stats(nl)->genid;
	if (!pc_nl_trust_generation(nl, genid))
		return false;
	if (moved)
		log_debug("nftables changed since our last commit, other tables only: building on "
			  "what we applied");
	return true;
}

/* Once, after the start's install: whether the last stop's memo spared
 * reading the table back. */
static void memo_log(struct pc_nl *nl)
{
	static bool logged;
	const char *outcome = pc_nl_memo_outcome(nl);

	if (!outcome || logged)
		return;
	logged = true;
	if (streq(outcome, PC_NL_MEMO_TAKEN))
		log_info("table inet %s holds what portctld left at its stop: not read back",
			 PC_TABLE_NAME);
	else
		log_info("the memo of the last stop was not used (%s): table inet %s read back",
			 outcome, PC_TABLE_NAME);
}

/* A difference the kernel refused was settled by the table installed whole:
 * right, but its counters start again; worth knowing why. */
static void refusal_log(struct pc_nl *nl)
{
	int err = pc_nl_last_stats(nl)->diff_refused;

	if (err)
		log_info("the kernel refused the difference (%s): the table was installed whole",
			 strerror(-err));
}

int kernel_install(struct pc_nl *nl, const struct pc_ruleset *rs, const struct pc_ruleset *old,
		   unsigned flags, struct pc_diags *d)
{
	/* A ruleset made from old by an entry change shares its stale maps
	 * with old (and a cut run's loses elements by the difference alone):
	 * the difference skips them; any other install makes rs whole first
	 * (-EAGAIN). Otherwise both are made whole, old first: its maps a
	 * made one shares are then that one's dropped, not freed. */
	int r = rs->dropped ? 0 : ruleset_sync(old);

	if (r >= 0 && !rs->dropped)
		r = ruleset_sync(rs);
	if (r < 0)
		return r;
	/* Others' commits since ours that left our table alone do not stop a
	 * difference against old (the events tell). */
	bool trusted = old && kernel_trust(nl), synced = false;

	for (int i = 0;; i++) {
		/* The last try, after others' commits refused every other: the
		 * table whole, in a batch no commit of others refuses (without
		 * trust, a program committing without pause outruns each read of
		 * what the kernel holds: a start beside a container runtime). */
		bool last = i + 1 == KERNEL_RESTARTS;
		unsigned try_flags = last ? flags | PC_NL_FULL : flags;
		struct pc_diags t;

		pc_diags_init(&t);
		if (last)
			log_notice("other programs kept committing to nftables: installing table "
				   "inet %s whole (its counters start again)",
				   PC_TABLE_NAME);
		/* Against old while the kernel still holds it, else against the
		 * whole table as the kernel holds it. */
		r = pc_nl_apply(nl, rs, !synced && (trusted || i == 0) ? old : NULL, try_flags, &t);
		/* Only a difference sends a cut run's element changes, and
		 * against old alone: made whole, rs no longer shares old's stale
		 * maps, so it goes against what the kernel holds. */
		if (r == -EAGAIN) {
			pc_diags_free(&t);
			r = ruleset_sync(rs);
			if (r < 0)
				break;
			synced = true;
			pc_diags_init(&t);
			r = pc_nl_apply(nl, rs, NULL, try_flags, &t);
		}
		if (!pc_nl_raced(r) || last) {
			pc_diags_take(d, &t);
			break;
		}
		pc_diags_free(&t);
		log_debug("nftables changed while our transaction was made or on its way: "
			  "making it again");
		trusted = old && !synced && kernel_trust(nl);
	}
	/* The kernel holds rs now, whatever others did before. */
	if (r >= 0) {
		quiet.touched = false;
		refusal_log(nl);
		memo_log(nl);
	}
	return r;
}

int kernel_install_edit(struct pc_nl *nl, const struct pc_ruleset *rs, const struct pc_ruleset *old,
			unsigned flags, struct pc_diags *d)
{
	int r;

	for (int i = 0;; i++) {
		struct pc_diags t;

		pc_diags_init(&t);
		r = pc_nl_apply(nl, rs, old, flags, &t);
		/* -EAGAIN: the kernel no longer holds old, and rs's element
		 * changes go nowhere else. */
		if ((!pc_nl_raced(r) && r != -EAGAIN) || i + 1 == KERNEL_RESTARTS ||
		    !kernel_trust(nl)) {
			pc_diags_take(d, &t);
			break;
		}
		pc_diags_free(&t);
	}
	if (pc_nl_raced(r) || r == -EAGAIN)
		return -ESTALE;
	if (r >= 0) {
		quiet.touched = false;
		refusal_log(nl);
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
	int r = pc_nl_apply_elem_change(nl, rs, del, add, d);

	/* Refused (or not sent) for a commit of others since ours: again on
	 * what we applied when they left our table alone. */
	for (int i = 1; r == -ESTALE && i < KERNEL_RESTARTS && kernel_trust(nl); i++)
		r = pc_nl_apply_elem_change(nl, rs, del, add, d);
	return r;
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
	uint32_t before = 0, after = 0;
	int r = ruleset_sync(rs);

	if (r < 0)
		return r;
	for (int i = 0; i < KERNEL_RESTARTS; i++) {
		if (pc_nl_genid(nl, &before) < 0)
			before = 0;
		r = pc_nl_verify(nl, rs, out);
		if (r != -EINTR)
			break;
	}
	/* Every read interrupted by others' commits (a program committing
	 * without pause outruns a read of a big table): two that agree. */
	for (int i = 0; r == -EINTR && i < KERNEL_RESTARTS; i++) {
		before = 0;
		r = pc_nl_verify_settled(nl, rs, out);
		if (r != -EINTR)
			log_debug("the table read while other programs committed: two reads agreed");
	}
	/* The table held rs at that generation, whatever the commits before
	 * it did (events lost to an overrun say nothing): the next change
	 * builds on rs again, without reading 100,000 elements back; its
	 * batch carries that generation, and when others committed since,
	 * kernel_trust reads their events first. */
	if (r >= 0 && out->n == 0 && before && pc_nl_genid(nl, &after) >= 0 && after == before &&
	    pc_nl_applied_at(nl, before)) {
		quiet.touched = false;
		log_debug("the table holds what we applied at generation %u: changes build on it",
			  before);
	}
	return r;
}

int kernel_memo_make(struct pc_nl *nl, const struct pc_ruleset *rs, char **out, size_t *len)
{
	int r = ruleset_sync(rs);

	*out = NULL;
	*len = 0;
	if (r < 0)
		return r;
	/* Others' commits since ours that left our table alone (the events
	 * tell) do not stop it. */
	(void)kernel_trust(nl);
	return pc_nl_memo_make(nl, rs, out, len);
}

int kernel_memo_take(struct pc_nl *nl, const char *text, size_t len)
{
	return pc_nl_memo_take(nl, text, len);
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
