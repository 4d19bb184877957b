/* Drift: notice when someone else changes table inet portctl. The event
 * socket (src/netlink/events.c) says when a commit of another socket touched
 * our table, or that events were lost; only then is the kernel's table
 * compared with what we applied, and per "drift =" repaired (what differs
 * from the last applied ruleset put right, in one transaction) or reported.
 * Our own commits, repairs included, carry our socket's port id and are
 * never checked. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "reply.h"
#include "state.h"
#include "drift.h"
#include "log.h"

/* The mismatches named in the log; the rest are counted. */
#define DRIFT_LOG_MAX 5
/* At most this many repairs within a window. More means someone keeps
 * changing the table back (or a difference no repair removes): say so once
 * and look again when the window ends, instead of fighting. */
#define DRIFT_REPAIRS_MAX 3
#define DRIFT_WINDOW_MS (60 * 1000)

struct drift {
	struct pc_nl_events *events;
	uint64_t window_start; /* ms, CLOCK_MONOTONIC */
	unsigned n_repairs;    /* within the window */
	/* A check put off by the repair limit (UINT64_MAX: none). Until then
	 * events only wait for it. */
	uint64_t recheck_at;
	/* Commits of others that left our table alone, for the debug log. */
	size_t n_ignored;
};

/* Why the table is compared, for the log. */
enum drift_cause {
	DRIFT_FOREIGN, /* another socket's commit touched our table */
	DRIFT_OVERRUN, /* events were lost: one of them may have */
	DRIFT_RECHECK, /* the repair limit's window ended */
	DRIFT_START,   /* a commit between start-up's and the subscription */
};

int drift_open(struct drift **out)
{
	struct drift *dr = calloc(1, sizeof(*dr));
	int r;

	if (!dr)
		return -ENOMEM;
	dr->recheck_at = UINT64_MAX;
	r = pc_nl_events_open(&dr->events);
	if (r < 0) {
		free(dr);
		return r;
	}
	*out = dr;
	return 0;
}

void drift_free(struct drift *dr)
{
	if (!dr)
		return;
	pc_nl_events_close(dr->events);
	free(dr);
}

int drift_fd(const struct drift *dr)
{
	return pc_nl_events_fd(dr->events);
}

static void drift_log(const struct pc_applied *a, const struct pc_nl_mismatches *m,
		      enum drift_cause cause, const struct pc_nl_event_summary *ev)
{
	const char *s = m->n == 1 ? "" : "s";

	if (cause == DRIFT_FOREIGN)
		log_warning("table inet %s was changed by another process (pid %d%s%s): %zu "
			    "difference%s from what portctld applied",
			    PC_TABLE_NAME, (int)ev->pid, ev->comm[0] ? ", " : "", ev->comm, m->n, s);
	else
		log_warning("table inet %s differs from what portctld applied (%s): %zu difference%s",
			    PC_TABLE_NAME,
			    cause == DRIFT_OVERRUN ? "found after nftables events were lost"
			    : cause == DRIFT_START ? "found at start-up"
						   : "looked again after the repair limit",
			    m->n, s);
	for (size_t i = 0; i < m->n && i < DRIFT_LOG_MAX; i++) {
		const struct pc_nl_mismatch *x = &m->items[i];
		const struct pc_rule *rule = x->obj >= 0 ? a->ruleset->objs[x->obj].rule : NULL;

		log_warning("  %s %s%s%s%s",
			    x->op == '-'   ? "missing:"
			    : x->op == '+' ? "added by someone else:"
					   : "changed:",
			    x->what, rule ? " of '" : "", rule ? rule->text : "", rule ? "'" : "");
		log_debug("    as compared: %s", x->text);
	}
	if (m->n > DRIFT_LOG_MAX)
		log_warning("  ... and %zu more", m->n - DRIFT_LOG_MAX);
}

/*
 * The repair: the desired state in force again, through the one path like
 * every other change. The kernel no longer holds our last commit, so the
 * difference is taken against what it holds: what was removed comes back,
 * what was added goes, and the rest stays with its counters. Its commit
 * carries our port id, so its own events never bring us back here.
 */
static int drift_repair(struct daemon *dm)
{
	struct next nx = {.panic = -1, .source = dm->source};
	struct pc_reply reply = {0};
	int r = state_commit(dm, &nx, &reply);

	free(reply.message);
	json_decref(reply.data);
	return r;
}

/* Count a repair against the limit; false when the window is used up
 * (then a check is set for its end). */
static bool drift_repair_allowed(struct drift *dr)
{
	uint64_t now = pc_now_ms();

	if (now - dr->window_start >= DRIFT_WINDOW_MS) {
		dr->window_start = now;
		dr->n_repairs = 0;
	}
	if (dr->n_repairs >= DRIFT_REPAIRS_MAX) {
		dr->recheck_at = dr->window_start + DRIFT_WINDOW_MS;
		log_warning("drift: %u repairs within %d s, not repairing again for %llu s; "
			    "someone keeps changing table inet %s",
			    dr->n_repairs, DRIFT_WINDOW_MS / 1000,
			    (unsigned long long)(dr->recheck_at - now + 999) / 1000, PC_TABLE_NAME);
		return false;
	}
	dr->n_repairs++;
	return true;
}

/*
 * Compare the kernel's table with what dm applied; on a difference log it
 * and, with drift = repair, repair it (within the limit). Returns 1 when it
 * differed, 0 when not, or -errno.
 */
static int drift_check(struct daemon *dm, enum drift_cause cause,
		       const struct pc_nl_event_summary *ev)
{
	struct pc_nl_mismatches m = {0};
	int r;

	/* In panic mode the kernel holds the panic ruleset, not applied; with
	 * no model there is nothing to compare with. */
	if (dm->panic || dm->disabled || !dm->applied || !dm->applied->ruleset)
		return 0;
	log_debug("drift: comparing table inet %s with what portctld applied", PC_TABLE_NAME);
	r = state_verify(dm, &m);
	if (r < 0)
		return log_warning_errno(r, "cannot compare the kernel's table with ours: %m");
	if (m.n == 0) {
		if (cause != DRIFT_FOREIGN)
			log_info("table inet %s holds what portctld applied", PC_TABLE_NAME);
		return 0;
	}
	drift_log(dm->applied, &m, cause, ev);
	pc_nl_mismatches_free(&m);
	dm->stats.drift_found++;
	if (dm->applied->cfg->settings.drift == PC_DRIFT_REPORT) {
		log_warning("drift = report: left as it is; 'portctl reload' puts our rules back");
		return 1;
	}
	if (!drift_repair_allowed(dm->drift))
		return 1;
	r = drift_repair(dm);
	if (r < 0)
		return log_error_errno(r, "drift repair failed: %m");
	dm->stats.drift_repairs++;
	log_notice("drift repaired: table inet %s holds the applied rules again", PC_TABLE_NAME);
	return 1;
}

void drift_event(void *userdata)
{
	struct daemon *dm = userdata;
	struct drift *dr = dm->drift;
	struct pc_nl_event_summary ev;
	int r;

	r = pc_nl_events_read(dr->events, pc_nl_portid(dm->nl), &ev);
	if (r < 0) {
		log_warning_errno(r, "cannot read nftables events: %m");
		return;
	}
	if (ev.n_ignored > 0) {
		dr->n_ignored += ev.n_ignored;
		log_debug("drift: %zu commit%s of other programs left table inet %s alone "
			  "(%zu since start)",
			  ev.n_ignored, ev.n_ignored == 1 ? "" : "s", PC_TABLE_NAME, dr->n_ignored);
	}
	if (ev.overrun)
		log_info("nftables events were lost (the event socket overran): comparing once");
	if (!ev.foreign && !ev.overrun)
		return;
	state_table_touched();
	/* Put off by the repair limit: the check at its end sees this too. */
	if (dr->recheck_at != UINT64_MAX)
		return;
	drift_check(dm, ev.foreign ? DRIFT_FOREIGN : DRIFT_OVERRUN, &ev);
}

bool drift_quiet(void *userdata)
{
	struct daemon *dm = userdata;
	struct drift *dr = dm->drift;
	struct pc_nl_event_summary ev;

	if (!dr || pc_nl_events_read(dr->events, pc_nl_portid(dm->nl), &ev) < 0)
		return false;
	dr->n_ignored += ev.n_ignored;
	if (!ev.foreign && !ev.overrun)
		return true;
	state_table_touched();
	/* Read here, the events are the check's to act on: soon, from the
	 * loop (unless one is put off by the repair limit already). */
	if (dr->recheck_at == UINT64_MAX)
		dr->recheck_at = pc_now_ms();
	return false;
}

void drift_catch_up(struct daemon *dm)
{
	struct pc_nl_event_summary none = {0};

	if (!dm->drift || !state_committed_since(dm))
		return;
	state_table_touched();
	log_info("nftables changed between start-up's transaction and the event subscription: "
		 "comparing once");
	drift_check(dm, DRIFT_START, &none);
}

uint64_t drift_deadline(const struct daemon *dm)
{
	return dm->drift ? dm->drift->recheck_at : UINT64_MAX;
}

void drift_expire(struct daemon *dm)
{
	struct pc_nl_event_summary none = {0};

	if (!dm->drift || pc_now_ms() < dm->drift->recheck_at)
		return;
	dm->drift->recheck_at = UINT64_MAX;
	drift_check(dm, DRIFT_RECHECK, &none);
}
