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

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "portctl/apply.h"
#include "portctl/config.h"
#include "portctl/netlink.h"
#include "serve.h"

/* Where the configuration the kernel holds came from. */
enum daemon_source {
	SOURCE_FILES,     /* the configuration files */
	SOURCE_LAST_GOOD, /* the state directory's copy of the last good one */
	SOURCE_SAFE,      /* the built-in safe policy */
	SOURCE_KERNEL,    /* kept what the kernel had; model unknown */
	SOURCE_ROLLBACK,  /* an unconfirmed "apply --confirm" was rolled back */
};

/* INET6_ADDRSTRLEN plus "/128". */
#define BAN_ADDR_MAX 64

/* One "portctl ban": kept in the state directory, composed into every
 * transaction until unbanned or expired. */
struct ban {
	char addr[BAN_ADDR_MAX];    /* canonical: "203.0.113.7", "2001:db8::/64" */
	char zone[PC_NAME_MAX + 1]; /* "" for every zone */
	uint64_t expires;           /* CLOCK_REALTIME seconds; 0: never */
};

struct bans {
	struct ban *items;
	size_t n, cap;
};

/* Runtime rules (--runtime): their texts, in order; dropped by reload. */
struct runtime {
	char **items;
	size_t n, cap;
};

/* An "apply --confirm" waiting for "portctl confirm". */
struct pending {
	/* What was in force before: its files, as a configuration (owned),
	 * and its runtime rules; the bans are not part of it. */
	struct pc_config *previous;
	enum daemon_source source; /* where previous came from */
	struct runtime runtime;
	uint64_t deadline;           /* ms, CLOCK_MONOTONIC */
	time_t deadline_wall;
	unsigned seconds;
	uid_t uid;
};

struct drift;

/* Everything the daemon holds, owned by pc_daemon_run's stack frame. */
struct daemon {
	struct pc_paths paths;
	int log_level_override; /* -1: from portctl.conf */
	struct pc_nl *nl;
	struct pc_server *server;
	struct drift *drift;
	/* The desired state in force: the composed configuration and its
	 * compiled ruleset (NULL when the daemon kept a table it has no model
	 * of), where its files came from, and the parts that are not files. */
	struct pc_applied *applied;
	enum daemon_source source;
	struct runtime runtime;
	struct bans bans;
	bool panic;
	struct pending *pending;
	/* What the kernel holds: applied's ruleset, or in panic mode this;
	 * unknown (kernel_known false) until the daemon's first transaction. */
	struct pc_ruleset *panic_ruleset;
	bool kernel_known;
	/* Settings that outlive an invalid configuration. */
	bool cli_changes;
	bool bans_allowed;
	bool table_owner;
	gid_t group;
	bool have_group;
};

/* What guards a change against cutting the admin's own SSH session
 * (lockout.c): the session the CLI reported, and --force / --confirm. */
struct guard_opts {
	const char *ssh_connection; /* "CLIENT CPORT SERVER SPORT", or NULL */
	bool force;
	bool confirm;     /* an apply --confirm: warn, do not refuse */
	bool can_confirm; /* the command takes --confirm (apply, reload) */
};

/* The next desired state, for state_commit. */
struct next {
	/* The files' configuration with the runtime rules placed, not yet
	 * composed with the bans (taken). NULL: the model in force again. */
	struct pc_config *cfg;
	enum daemon_source source;
	/* With cfg: the runtime rules placed in it (taken). */
	struct runtime runtime;
	/* NULL: the bans in force. */
	const struct bans *bans;
	int panic; /* -1: as it is; 0 off; 1 on */
	const struct guard_opts *guard;
	char **warning; /* the guard's warning under --confirm (caller frees) */
	/* The CLI rules file's new text (file90 non-NULL): written after the
	 * kernel took the change, only over what it held (old90, old90_len;
	 * old90_exists false: no file). */
	const char *file90;
	const struct pc_strbuf *text90;
	const char *old90;
	size_t old90_len;
	bool old90_exists;
	unsigned flags;    /* PC_NL_FULL: replace the table (drift repair) */
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

/*
 * A rule added at the end of the CLI rules file in O(change) (see
 * pc_rule_append_prepare): 1 when done, 0 when the change must take
 * state_commit (nothing changed), -ECANCELED refused (reply set), or -errno.
 */
int state_rule_append(struct daemon *dm, const char *text, const struct guard_opts *guard,
		      struct pc_reply *reply);

/* The bans become *next (one added or removed at index changed) in
 * O(change) when possible: 1 done, 0 take state_commit, -errno. */
int state_bans_in_place(struct daemon *dm, const struct bans *next, bool added, size_t changed);

/* Before anything reads the ruleset in force: maps unbans left stale are
 * made again (pc_ruleset_refresh). */
void state_refresh(struct daemon *dm);

/* Kernel reads for the read commands (kernel.c through state.c). */
int state_read_counters(struct daemon *dm, struct pc_nl_counters *out);
int state_verify(struct daemon *dm, struct pc_nl_mismatches *out);
int state_table_exists(struct daemon *dm);

/* Whether a change may be made in place on the model in force. */
bool state_in_place_ok(const struct daemon *dm);

/* Start-up kept the kernel's table (the files were invalid): cfg (taken;
 * may be NULL) becomes the model without a transaction. */
int state_keep(struct daemon *dm, struct pc_config *cfg, enum daemon_source source,
	       const struct bans *bans);

/* Whether panic mode was on when the daemon stopped (its mark). */
bool state_panic_marked(const struct daemon *dm);

/* Release everything at exit (the kernel keeps its table). */
void state_done(struct daemon *dm);

/* --- model.c: the desired state's parts, without the kernel --- */

/* The CLI's rule changes. */
enum change_kind { CHANGE_ADD, CHANGE_INSERT, CHANGE_DELETE };

struct change {
	enum change_kind kind;
	const char *rule;    /* ADD, INSERT; DELETE by text */
	size_t number;       /* INSERT position; DELETE by number (1-based), 0: unset */
	const char *comment; /* DELETE by comment */
	bool runtime;        /* not persisted */
	const struct pc_peer *peer;
	struct guard_opts guard;
};

/* A configuration being changed, and what the change does to the file. */
struct cand {
	struct pc_config *cfg; /* files + runtime rules, the change in place */
	char path90[4096];
	const struct pc_source *src90; /* NULL when the file did not exist */
	struct pc_strbuf text90;       /* the file's new text */
	bool file_changed;
	bool new90; /* the file did not exist: src90 was added empty */
	struct runtime runtime; /* the runtime rules after the change */
	struct pc_strbuf summary;
};

void cand_free(struct cand *c);
/*
 * The model in force (its files' texts as read, or the files themselves
 * when there is none, with file90 read from disk when override90 is set)
 * plus the runtime rules, then the change. Returns 0, -EBADMSG with
 * diagnostics in d (the files have errors), -EINVAL (the rule), -ECANCELED with
 * the refusal in reply, or -ENOMEM.
 */
int cand_build(const struct daemon *dm, const struct change *ch, const char *override90,
	       size_t override90_len, struct cand *c, struct pc_reply *reply, struct pc_diags *d);

/* A configuration parsed again from the file texts old was loaded from,
 * in the order they were read: the files alone, no runtime rule. */
int config_from_sources(const struct pc_paths *paths, const struct pc_config *old,
			struct pc_config **out, struct pc_diags *d);
/* Place the runtime rules rt in cfg after the CLI rules file's rules. */
int runtime_place(const struct pc_paths *paths, struct pc_config *cfg, const struct runtime *rt,
		  struct pc_diags *d);
int runtime_copy(const struct runtime *from, struct runtime *to);
void runtime_clear(struct runtime *rt);

/* Put the bans that are in force at `now` ahead of cfg's rules; one ban's
 * rule at position at. */
int ban_rule_place(const struct ban *b, struct pc_config *cfg, size_t at, struct pc_diags *d);
int bans_compose(const struct bans *bans, uint64_t now, struct pc_config *cfg,
		 struct pc_diags *d);
/* "ADDR[/LEN]" and an optional zone as a ban; -EINVAL when malformed. */
int ban_parse(const char *addr, const char *zone, uint64_t expires, struct ban *out);
ssize_t bans_find(const struct bans *bans, const struct ban *b);
int bans_copy(const struct bans *from, struct bans *to);
/* Drop the bans expired at now; returns how many went. */
size_t bans_expire(struct bans *bans, uint64_t now);
/* The earliest expiry among bans, 0 when none expires. */
uint64_t bans_next_expiry(const struct bans *bans);
void bans_clear(struct bans *bans);
/* How a ban is named in the log and in replies: "ADDR[ zone ZONE]". */
void ban_summary(const struct ban *b, char *out, size_t size);

/* Move rule `from` to index `to`, the rules between one place along. */
void config_rule_move(struct pc_config *cfg, size_t from, size_t to);
/* Take rule i out, the rules after it one place back. */
void config_rule_remove(struct pc_config *cfg, size_t i);
/* Take back rules parsed past n_rules and sources past n_sources. */
void config_truncate(struct pc_config *cfg, size_t n_rules, size_t n_sources);
/* Where rules of the CLI rules file end in cfg. */
size_t cli_end(const struct pc_config *cfg, const char *path90);
/* Parse text as exactly one rule appended to cfg; its index in *idx. */
int rule_parse_one(struct pc_config *cfg, const char *name, const char *text, size_t *idx,
		   struct pc_diags *d);
/* The path of the CLI rules file. */
int path90_get(const struct pc_paths *paths, char *buf, size_t size);

enum rules_edit {
	RULES_APPEND, /* rule_text at the end */
	RULES_INSERT, /* rule_text before line */
	RULES_DELETE, /* the logical line starting at line */
};

/* The text of a rules file after one edit; everything else (comments,
 * blank lines, the admin's formatting) is kept. out is freed by the caller. */
int rules_text_edit(const char *old, size_t old_len, enum rules_edit how, uint32_t line,
		    const char *rule_text, struct pc_strbuf *out);

/* How many physical lines the logical line starting at line spans. */
uint32_t rules_text_span(const char *text, size_t len, uint32_t line);
/* The line number an appended rule gets. */
uint32_t rules_text_next_line(const char *text, size_t len);

/* The file CLI changes are persisted in, under sysconf_dir/rules.d/. */
#define PC_CLI_RULES_FILE "90-portctl.rules"
#define RUNTIME_NAME "runtime"
#define CLI_NAME "command line"
#define BAN_SOURCE "ban"

/* --- lockout.c --- */
void guard_opts_from_args(json_t *args, struct guard_opts *g);
/*
 * Whether applying cfg (validated and compiled) would cut the session in
 * g, where the configuration in force (old, may be NULL) did not. Returns
 * 0 when the change may go ahead (a warning may be put in *warning, freed
 * by the caller), or -EPERM with the refusal in reply.
 */
int guard_check(const struct guard_opts *g, const struct pc_config *old,
		const struct pc_config *cfg, struct pc_reply *reply, char **warning);
struct pc_plan;
struct pc_rule_append;
/* The guard for a change made in place: 0 when the elements in app cannot
 * cut the session, 1 when they would (take the full path), -EPERM (reply
 * set) for a malformed session. O(log n). */
int guard_check_in_place(const struct guard_opts *g, const struct pc_plan *plan,
			 const struct pc_rule_append *app, struct pc_reply *reply);

/* --- kernel.c: the only caller of the kernel --- */
int kernel_install(struct pc_nl *nl, const struct pc_ruleset *rs, const struct pc_ruleset *old,
		   unsigned flags, struct pc_diags *d);
int kernel_install_elements(struct pc_nl *nl, const struct pc_ruleset *rs,
			    const struct pc_rule_append *app, bool add, struct pc_diags *d);
int kernel_read_counters(struct pc_nl *nl, const struct pc_ruleset *rs,
			 struct pc_nl_counters *out);
int kernel_verify(struct pc_nl *nl, const struct pc_ruleset *rs, struct pc_nl_mismatches *out);
int kernel_table_exists(struct pc_nl *nl);

/* --- reply.c: replies and log lines shared by the handlers --- */
int reply_diags(struct pc_reply *reply, int status, const char *intro, const struct pc_diags *d,
		const struct pc_config *cfg);
/* Log each diagnostic as FILE:LINE:COL: message (hint). */
void diags_log(const struct pc_diags *d);
/* Every read command needs a model of the configuration the kernel
 * holds: 0, or -ENODATA with the reply saying what to do. */
int need_model(const struct daemon *dm, struct pc_reply *reply);
/* The log line and reply of a change that went through. */
void change_done(const struct pc_peer *peer, const char *verb, bool runtime, const char *summary,
		 struct pc_reply *reply);

#endif
