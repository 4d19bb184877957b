/* The daemon's model: what it holds (struct daemon: the desired state in
 * force and what serves it) and the parts of the desired state, handled
 * without the kernel (model.c): the candidate a CLI rule change makes,
 * the runtime rules, the bans. */
#ifndef PORTCTL_DAEMON_MODEL_H
#define PORTCTL_DAEMON_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "lockout.h"
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

/* "portctl ban --by TAG": a short name of the program that banned. */
#define BAN_OWNER_MAX 64

/* One "portctl ban": kept in the state directory, composed into every
 * transaction until unbanned or expired. */
struct ban {
	char addr[BAN_ADDR_MAX];    /* canonical: "203.0.113.7", "2001:db8::/64" */
	char zone[PC_NAME_MAX + 1]; /* "" for every zone */
	uint64_t expires;           /* CLOCK_REALTIME seconds; 0: never */
	char owner[BAN_OWNER_MAX + 1]; /* who banned ("f2b-sshd", --by); "" the administrator */
	/* A hash of addr and zone (ban_parse): a search among many bans
	 * compares it before the strings. */
	uint64_t place;
};

struct bans {
	struct ban *items;
	size_t n, cap;
	/* items lies skip slots into its allocation: the oldest bans, lifted
	 * from the front (bans_view_without), leave their slots there. */
	size_t skip;
};

/* Runtime rules (--runtime): their texts, in order; dropped by reload.
 * A temporary rule (--timeout) is a runtime rule with an expiry: it stays
 * through reloads and restarts (STATE/temporary.json) until then. */
struct runtime {
	char **items;
	size_t n, cap;
	uint64_t *expires; /* per item: CLOCK_REALTIME seconds; 0: none */
	size_t cap_expires;
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

/* What "portctl metrics" says of the daemon itself (metrics.c). */
struct daemon_stats {
	uint64_t started;    /* CLOCK_REALTIME seconds */
	uint64_t last_apply; /* when the last change ended; 0: none yet */
	bool last_apply_ok;
	uint64_t applies_ok, applies_failed;
	uint64_t drift_found, drift_repairs;
};

/* Everything the daemon holds, owned by pc_daemon_run's stack frame. */
/*
 * What finding a rule of the configuration in force would otherwise read
 * every rule for (10,000 rules are megabytes, read from memory): each
 * rule's signature (action, direction, its lowest and highest port), which
 * a rule the same by meaning shares, and where the CLI rules file's rules
 * end (cli_end). Made for cfg when first needed, kept by the changes made
 * in place, dropped when the configuration in force is replaced.
 */
struct rule_index {
	const struct pc_config *cfg; /* NULL: not made */
	uint64_t *sigs;
	size_t n, cap;
	/* How many rules have each signature: a rule that none has is not
	 * looked for among 10,000 (rule_present of a new rule). */
	struct pc_keycount sig_counts;
	size_t end90;
	size_t logged90; /* logged rules of the CLI's file */
};

/* After an expiry that failed (the state directory full or read-only),
 * when to try again: not at once, over and over; each failure doubles the
 * wait, up to a minute. */
struct expiry_retry {
	uint64_t at; /* ms, CLOCK_MONOTONIC; 0: no failure */
	uint64_t wait_ms;
};

/* deadline, or later when a failure asks to wait. */
uint64_t expiry_retry_hold(const struct expiry_retry *r, uint64_t deadline);
void expiry_retry_failed(struct expiry_retry *r);
void expiry_retry_done(struct expiry_retry *r);

/* Where the configuration in force stands: the commit that installed its
 * ruleset (pc_ruleset.installed) and the count of changes made. */
struct commit_mark {
	uint64_t installed, applies;
};

struct daemon;
/* Every change counted, taken or not: one that changed the ruleset in
 * place and then failed changes no commit number. */
uint64_t daemon_changes(const struct daemon *dm);

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
	/* The earliest expiry among bans (0: none), found when they change:
	 * the loop asks for it at every turn. */
	uint64_t bans_expiry;
	struct expiry_retry bans_retry, temporary_retry;
	/* From bans_only[0] to bans_only[1] (the ruleset's commit number and
	 * the count of changes) only ban elements changed, in place: status's
	 * index of the rules' kernel objects (readout.c) holds across them. */
	struct commit_mark bans_only[2];
	bool panic;
	/* "portctl disable": the kernel holds no table of ours; the model is
	 * kept (and changed) for "portctl enable". */
	bool disabled;
	struct pending *pending;
	/* What the kernel holds: applied's ruleset, or in panic mode this;
	 * unknown (kernel_known false) until the daemon's first transaction. */
	struct pc_ruleset *panic_ruleset;
	bool kernel_known;
	/* A second compile of applied->cfg whose ban sets a ban remakes, to
	 * install as a difference against applied's; NULL until needed. */
	struct pc_ruleset *spare;
	/* Settings that outlive an invalid configuration. */
	bool cli_changes;
	bool bans_allowed;
	bool table_owner;
	gid_t group;
	bool have_group;
	struct daemon_stats stats;
	struct rule_index index; /* of applied->cfg */
};



/* The CLI's rule changes. */
/* DEFINE: a zone or service line (rule); UNDEFINE: the zone or service
 * named rule (service true: a service) that the CLI defined. */
enum change_kind { CHANGE_ADD, CHANGE_INSERT, CHANGE_DELETE, CHANGE_DEFINE, CHANGE_UNDEFINE };

struct change {
	enum change_kind kind;
	const char *rule;    /* ADD, INSERT; DELETE by text */
	size_t number;       /* INSERT position; DELETE by number (1-based), 0: unset */
	const char *comment; /* DELETE by comment */
	bool service;        /* UNDEFINE: a service, not a zone */
	bool runtime;        /* not persisted */
	uint64_t expires;    /* with runtime: a temporary rule's end (wall seconds) */
	bool dry_run;        /* checked up to the guard, nothing changed */
	const struct pc_peer *peer;
	struct guard_opts guard;
};

/* A configuration being changed, and what the change does to the file. */
struct cand {
	struct pc_config *cfg; /* files + runtime rules, the change in place */
	char path90[4096];
	const struct pc_source *src90; /* NULL when the file did not exist */
	struct pc_strbuf text90;       /* the file's new text */
	size_t newlines90;             /* its '\n's */
	bool file_changed;
	bool new90; /* the file did not exist: src90 was added empty */
	struct runtime runtime; /* the runtime rules after the change */
	uint64_t expires;       /* of the runtime rule the change adds */
	struct pc_strbuf summary;
	struct pc_config *prev; /* DEFINE: parsed again; this one holds the typed line */
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
/* Take out item i. */
void runtime_remove(struct runtime *rt, size_t i);
/* Append a rule text with its expiry (0: none). 0 or -ENOMEM. */
int runtime_push(struct runtime *rt, const char *text, uint64_t expires);
/* The temporary rules of from that are still in force at now. */
int runtime_temporary(const struct runtime *from, uint64_t now, struct runtime *to);
/* The earliest expiry of a temporary rule, 0 when there is none. */
uint64_t runtime_next_expiry(const struct runtime *rt);
/* The expiry of rule r when it is a temporary rule, else 0; called on
 * the rules of cfg in order, *k (from 0) counting the runtime ones. */
uint64_t runtime_rule_expires(const struct runtime *rt, const struct pc_rule *r, size_t *k);

/* Make cfg's bans the ones of bans in force at now (cfg->bans replaced). */
int bans_compose(const struct bans *bans, uint64_t now, struct pc_config *cfg,
		 struct pc_diags *d);
/* One ban added or changed, or (unban) one owner's claim taken away. */
struct ban_edit {
	const struct ban *ban;
	bool unban;
	size_t at; /* where the claims on its address are, or were, in the next bans */
};

/* "ADDR[/LEN]" and an optional zone as a ban; -EINVAL when malformed. */
int ban_parse(const char *addr, const char *zone, uint64_t expires, struct ban *out);
/* A ban's owner (NULL or "": the administrator's); -EINVAL when malformed. */
int ban_owner_set(struct ban *b, const char *owner);
/* Whether a and b are bans of one address and zone. */
bool ban_same_place(const struct ban *a, const struct ban *b);
/* The claim of b's owner on b's address and zone, -ENOENT if none. Bans of
 * one address and zone by several owners are claims next to each other in
 * the list; the kernel holds one ban for them, the longest. */
ssize_t bans_index(const struct bans *bans, const struct ban *b);
/* The first claim of anyone on b's address and zone, -ENOENT if none. */
ssize_t bans_place(const struct bans *bans, const struct ban *b);
/* b added next to the other claims on its address and zone. */
int bans_insert(struct bans *bans, const struct ban *b);
/* What the kernel holds for b's address and zone: false if no claim, else
 * the latest expiry of the claims (0: never) in *expires. The claims lie
 * together: at is where they are, or would be (next to them is enough). */
bool bans_effective(const struct bans *bans, const struct ban *b, size_t at, uint64_t *expires);
int bans_copy(const struct bans *from, struct bans *to);
/* The bans of in_force without its n from at on, in their order, as a view
 * of the same array: an unban among 10,000 without a copy of the others,
 * and in O(1) at either end (fail2ban lifts the oldest). The bans on the
 * shorter side of the n move over them, the n go past that end of view;
 * in_force holds the same bans as before, in another order, until
 * bans_take takes view into it. */
int bans_view_without(struct bans *in_force, size_t at, size_t n, struct bans *view);
/* The bans of in_force with its claim at at (alone on its address) made
 * again as b, last, as a view of the same array: a ban again among
 * 10,000 (fail2ban's start bans its database again) without a copy of
 * the others, in O(1) for the oldest. The bans before at move up over it,
 * and it goes first, before view; in_force holds the same bans as before
 * until bans_take takes view into it. */
int bans_view_renew(struct bans *in_force, size_t at, const struct ban *b, struct bans *view);
/* The bans of in_force and b after them, put in the spare slot of
 * in_force's array (made if need be): a ban of a new address without a
 * copy of 10,000 others. view shares the array; in_force keeps its count
 * until bans_take takes view into it. */
int bans_view_append(struct bans *in_force, const struct ban *b, struct bans *view);
/* next, not taken (or taken: left empty), is freed unless it is a view of
 * in_force's array. */
void bans_release(struct bans *next, const struct bans *in_force);
/* to becomes from, whose array it takes (from left empty); to's own
 * array is freed unless from views it. */
void bans_take(struct bans *to, struct bans *from);
/* Drop the bans expired at now; returns how many went. */
size_t bans_expire(struct bans *bans, uint64_t now);
/* The earliest expiry among bans, 0 when none expires. */
uint64_t bans_next_expiry(const struct bans *bans);
void bans_clear(struct bans *bans);
/* How a ban is named in the log and in replies: "ADDR[ zone ZONE]". */
void ban_summary(const struct ban *b, char *out, size_t size);

/* An empty source for the CLI rules file (path90) before it exists, as
 * the loader would read it; NULL when out of memory. */
struct pc_source *cli_source_add(struct pc_config *cfg, const char *path90);
/* Where rules of the CLI rules file end in cfg. */
size_t cli_end(const struct pc_config *cfg, const char *path90);
/* A rule of the runtime list (RUNTIME_NAME)? */
bool rule_is_runtime(const struct pc_rule *r);
/* Parse text as exactly one rule appended to cfg; its index in *idx. */
int rule_parse_one(struct pc_config *cfg, const char *name, const char *text, size_t *idx,
		   struct pc_diags *d);
/* The signature a rule and every rule the same by meaning share (action,
 * direction, lowest and highest port, a key of its addresses); a typed
 * rule's services are looked up in cfg: false for one cfg does not know
 * (rule_same.c). */
bool rule_signature(const struct pc_config *cfg, const struct pc_rule *r, bool typed,
		    uint64_t *out);
/* The rule a delete by text, number or comment takes (change_delete's
 * pick): 1 with its index in *idx for the CLI rules file's, 2 for a
 * runtime rule, 0 when the full path decides. ix: cfg's index
 * (rule_index_get), or NULL. */
int delete_pick(const struct pc_config *cfg, const char *path90, const struct change *ch,
		const struct rule_index *ix, size_t *idx);
/* The first rule of cfg that text, parsed, means (rule_same), or NULL. ix
 * as for delete_pick. */
const struct pc_rule *rule_present(const struct pc_config *cfg, const char *text,
				   const struct rule_index *ix);
/* ix made for cfg unless it is: 0 or -ENOMEM (then ix is not made). */
int rule_index_get(struct rule_index *ix, const struct pc_config *cfg, const char *path90);
/* A rule put at index at (insert; in90: of the CLI's file, else a runtime
 * rule) or taken from it (logged: a logged rule of the CLI's file), in
 * place. 0 or -ENOMEM (then ix is dropped). */
int rule_index_insert(struct rule_index *ix, size_t at, const struct pc_rule *r, bool in90);
void rule_index_remove(struct rule_index *ix, size_t at, bool logged);
void rule_index_drop(struct rule_index *ix);
/* rule_same.c: whether typed (parsed, not validated: its services are
 * looked up in cfg) is the same rule as rule of cfg (validated): same
 * action, direction, log and rate; the same zones (none: cfg's default
 * zone), addresses and ports per protocol as sets, whatever the order or
 * how they were written; a comment given must match, none matches any. */
bool rule_same(const struct pc_config *cfg, const struct pc_rule *rule, const struct pc_rule *typed);
/* The path of the CLI rules file. */
int path90_get(const struct pc_paths *paths, char *buf, size_t size);

enum rules_edit {
	RULES_APPEND, /* rule_text at the end */
	RULES_INSERT, /* rule_text before line */
	RULES_DELETE, /* the logical line starting at line */
};

/* The text of a rules file after one edit; everything else (comments,
 * blank lines, the admin's formatting) is kept. out is freed by the caller.
 * newlines, unless NULL or SIZE_MAX, holds old's '\n's and is made out's. */
int rules_text_edit(const char *old, size_t old_len, enum rules_edit how, uint32_t line,
		    const char *rule_text, struct pc_strbuf *out, size_t *newlines);

/* How many physical lines the logical line starting at line spans (text
 * of newlines '\n's, or SIZE_MAX). */
uint32_t rules_text_span(const char *text, size_t len, uint32_t line, size_t newlines);
/* The line number a rule appended to text (of newlines '\n's) gets. */
uint32_t rules_text_next_line(const char *text, size_t len, size_t newlines);

#define RUNTIME_NAME "runtime"
#define CLI_NAME "command line"

#endif
