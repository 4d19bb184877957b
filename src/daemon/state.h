/* What portctld holds and the one path every change takes to the kernel.
 *
 * The desired state is the configuration files as read, the runtime rules,
 * the bans, panic on or off, and a pending "apply --confirm". A change
 * (start, reload, CLI rule, ban, confirm, rollback, panic, drift repair)
 * makes the next desired state and hands it to state_commit(): compose
 * (files + runtime rules + bans) → compile → guard → install (kernel.c, the
 * only caller of the kernel) → persist → adopt. The command handlers
 * (change.c, ban.c, confirm.c, panic.c, drift.c) only call down into it. */
#ifndef PORTCTL_DAEMON_STATE_H
#define PORTCTL_DAEMON_STATE_H

#include "model.h"

/* The next desired state, for state_commit. */
struct next {
	/* The files' configuration with the runtime rules placed, not yet
	 * composed with the bans (taken). NULL: the model in force again. */
	struct pc_config *cfg;
	enum daemon_source source;
	/* With cfg: the runtime rules placed in it (taken). */
	struct runtime runtime;
	/* NULL: the bans in force; else the next ones, taken when the
	 * change goes through. */
	struct bans *bans;
	int panic; /* -1: as it is; 0 off; 1 on */
	int disable; /* 0: as it is; 1: take our table out; -1: put it back */
	const struct guard_opts *guard;
	char **warning; /* the guard's warning under --confirm (caller frees) */
	/* The CLI rules file's new text (file90 non-NULL): written after the
	 * kernel took the change, only over what it held (old90, old90_len;
	 * old90_exists false: no file). */
	const char *file90;
	const struct pc_strbuf *text90;
	size_t newlines90; /* text90's '\n's, or SIZE_MAX */
	const char *old90;
	size_t old90_len;
	bool old90_exists;
	unsigned flags;    /* PC_NL_* for the install (none set today) */
	/* Compose, compile and guard only: nothing installed, saved or adopted. */
	bool dry_run;
	const char *intro; /* how a refusal starts ("the rule was refused") */
};

/*
 * The one path: compose nx with the bans, compile, guard, install as one
 * transaction, persist (the CLI rules file, the bans, the last good copy,
 * the panic mark), adopt. Returns 0; -ECANCELED with the refusal in reply
 * (nothing changed: bad configuration, guard, kernel, file); -ESTALE when
 * the CLI rules file was edited by hand since (nothing changed; redo the
 * change on its new content); or -ENOMEM. nx's owned parts are taken.
 */
int state_commit(struct daemon *dm, struct next *nx, struct pc_reply *reply);

/* Release nx's owned parts (when it never reached state_commit). */
void next_free(struct next *nx);

/* The ruleset in force made whole where it was changed in place (ban sets,
 * port maps), before anything keeps pointers into it. 0 or -errno. */
int state_ruleset_sync(struct daemon *dm);

/* The index of the rules in force (see struct rule_index), or NULL. */
const struct rule_index *state_rule_index(struct daemon *dm);

/*
 * A rule change from the command line (allow, deny, reject, insert at the
 * end of the CLI rules file, delete of its last rule) in O(change) (see
 * pc_rule_edit_prepare): 1 when done (the rule's text in summary), 0 when
 * the change must take state_commit (nothing changed), -ECANCELED refused
 * (reply set), or -errno.
 */
int state_rule_edit(struct daemon *dm, const struct change *ch, struct pc_strbuf *summary,
		    struct pc_reply *reply);
/* Runtime rule i (a temporary rule that expired) taken out in place, as
 * its delete would be: the same returns. */
int state_runtime_drop(struct daemon *dm, size_t i, struct pc_reply *reply);
/* "portctl service NAME PORTS" of a new name in O(change), the same
 * returns. */
int state_service_define(struct daemon *dm, const struct change *ch, struct pc_strbuf *summary,
			 struct pc_reply *reply);

/* The bans become *next (taken when done) in O(bans), no rule compiled,
 * when the model in force allows: 1 done, 0 take state_commit, -errno.
 * one: the one ban added, changed or (unban) taken away, saved as one
 * journal record; NULL: next is saved whole. */
int state_bans_in_place(struct daemon *dm, struct bans *next, const struct ban_edit *one);


/* Kernel reads for the read commands (kernel.c through state.c). */
int state_read_counters_of(struct daemon *dm, const struct pc_nl_counter_ref *refs, size_t n,
			   uint64_t *packets, uint64_t *bytes);
int state_verify(struct daemon *dm, struct pc_nl_mismatches *out);
/* The DNAT rules of the other tables (portctl/natscan.h). */
struct pc_nat_scan;
int state_nat_scan(struct daemon *dm, struct pc_nat_scan *out);
int state_table_exists(struct daemon *dm);
/* quiet(dm): did every commit of others since the last look leave table
 * inet portctl alone? Lets a transaction refused for such a commit be
 * sent again at once (kernel_quiet_hook). */
void state_events_hook(struct daemon *dm, bool (*quiet)(void *));
/* Another program's commit touched our table (or events were lost). */
void state_table_touched(void);
/* Someone committed since our last transaction (or it cannot be told);
 * false while the daemon has not made one. */
bool state_committed_since(struct daemon *dm);




/* Start-up kept the kernel's table (the files were invalid): cfg (taken;
 * may be NULL) becomes the model without a transaction. */
int state_keep(struct daemon *dm, struct pc_config *cfg, enum daemon_source source,
	       const struct bans *bans);

/* Whether panic mode was on when the daemon stopped (its mark). */
bool state_panic_marked(const struct daemon *dm);
/* Whether portctl was disabled when the daemon stopped (its mark). */
bool state_disabled_marked(const struct daemon *dm);

/* A clean stop: a memo of what the kernel holds (our last install, nobody
 * having committed since) left in the state directory; the next start
 * takes it (and removes it) so that its first install need not read the
 * table back when the kernel still holds exactly that. */
void state_memo_keep(struct daemon *dm);
void state_memo_take(struct daemon *dm);

/* Release everything at exit (the kernel keeps its table). */
void state_done(struct daemon *dm);

#endif
