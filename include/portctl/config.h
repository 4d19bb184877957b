/* A whole configuration: portctl.conf settings, zones, services and rules,
 * loaded from the shipped and the administrator's files and validated. */
#ifndef PORTCTL_CONFIG_H
#define PORTCTL_CONFIG_H

#include <stdbool.h>
#include <sys/types.h>

#include "portctl/ast.h"
#include "portctl/diag.h"

enum pc_log_level { PC_LOG_ERR, PC_LOG_WARNING, PC_LOG_NOTICE, PC_LOG_INFO, PC_LOG_DEBUG };
enum pc_drift_mode { PC_DRIFT_REPAIR, PC_DRIFT_REPORT };
/* Which packets may enter a zone by their source address: strict, those
 * whose source routes back out of the interface they came in on; loose,
 * those whose source routes back at all; off, any. */
enum pc_reverse_path { PC_RPF_STRICT, PC_RPF_LOOSE, PC_RPF_OFF };
/* Who judges a new connection that another table DNAT'ed (a port a
 * container runtime published): obey, the in rules of the client's zone;
 * runtime, the runtime's own tables alone (docker's old behaviour). */
enum pc_published { PC_PUBLISHED_OBEY, PC_PUBLISHED_RUNTIME };

/* portctl.conf. Defaults are what an empty file gives. */
struct pc_settings {
	const char *default_zone; /* NULL: the zone marked "default" */
	struct pc_loc default_zone_loc; /* where default-zone was set */
	bool cli_changes;         /* cli-changes = yes */
	bool bans;                /* bans = yes: "portctl ban" (fail2ban) may ban */
	const char *group;        /* socket-group = portctl: who may change rules */
	mode_t socket_mode;       /* socket-mode = 0666: anyone reads, the group writes */
	enum pc_log_level log_level;
	bool table_owner;         /* table-owner = yes: NFT_TABLE_F_OWNER|PERSIST */
	enum pc_drift_mode drift; /* drift = repair|report */
	enum pc_reverse_path reverse_path; /* reverse-path = strict|loose|off */
	enum pc_published published;       /* published-ports = obey|runtime */
	int log_group; /* log-group = kernel|N: -1, the kernel log; N, nflog group N */
	int watch_group; /* watch-group = N (default 2): portctl watch's nflog group */
};

/* Where the files are. Every path can be overridden for tests. */
struct pc_paths {
	const char *sysconf_dir; /* /etc/portctl: portctl.conf, rules.d/, overrides */
	const char *data_dir;    /* /usr/share/portctl: shipped zones and services */
	const char *state_dir;   /* /var/lib/portctl */
	const char *socket_path; /* /run/portctl/portctl.sock */
};

/* Compiled-in defaults (configure's --sysconfdir, --datadir, ...). */
void pc_paths_default(struct pc_paths *p);

/*
 * A ban ("portctl ban ADDR"): traffic from addr (a host or a prefix) is
 * dropped in zone (NULL: every zone) ahead of everything else, established
 * connections and ICMP included, until it expires.
 */
struct pc_ban_entry {
	struct pc_prefix addr;
	const char *zone; /* NULL: every zone; owned by the config's arena */
	uint64_t expires; /* CLOCK_REALTIME seconds at which it lapses; 0: never */
};

struct pc_config {
	struct pc_arena *arena; /* owns every node and string below */
	struct pc_sources sources;
	struct pc_settings settings;

	struct pc_zone *zones;
	size_t n_zones, cap_zones;
	struct pc_service *services;
	size_t n_services, cap_services;
	struct pc_rule *rules; /* first match wins, in this order */
	/* cap_rules counts from rules; rules_front free slots come before it
	 * (the memory starts at rules - rules_front), see pc_config_rule_put. */
	size_t n_rules, cap_rules, rules_front;
	/* Every rule's ports, for pc_config_ports_alone; NULL: not made. */
	struct pc_port_index *port_index;
	/* Bans are not rules: the daemon puts them in, the compiler checks
	 * them before any rule and before established connections. */
	struct pc_ban_entry *bans;
	size_t n_bans, cap_bans;
	/* Named address sets; each in the arena, so rules may point at it. */
	struct pc_addrset **sets;
	size_t n_sets, cap_sets;
	/* Where "set NAME file REL" looks for REL: the configuration
	 * directory it was loaded from; NULL: the current directory. */
	const char *sets_dir;

	/* Set by validation: index into zones. */
	size_t default_zone;
};

struct pc_config *pc_config_new(void);
void pc_config_free(struct pc_config *cfg);

/*
 * Parse one buffer (a file's contents or a command line) and append its
 * zones, services and rules to cfg. name is how diagnostics refer to it.
 * Takes ownership of data (malloc'ed, NUL-terminated, len bytes; may hold
 * NUL bytes, which are reported). Returns 0, or -EINVAL when diagnostics
 * were added, or -ENOMEM.
 */
int pc_parse_buffer(struct pc_config *cfg, const char *name, char *data, size_t len,
		    enum pc_origin origin, struct pc_diags *d);
/* The same for a rules file: room made for its rules first
 * (pc_config_rules_reserve), and its count of lines kept with its source
 * (pc_source_newlines), which a change in place of the file needs. */
int pc_parse_file(struct pc_config *cfg, const char *name, char *data, size_t len,
		  enum pc_origin origin, struct pc_diags *d);

/*
 * Turn argv (as the shell split it) into one rule line in the grammar,
 * quoting words that need it, so the command line goes through the same
 * parser as the files. Caller frees.
 */
char *pc_rule_text_from_argv(int argc, char *const argv[]);

/* Parse portctl.conf's text into cfg->settings. Same return as above. */
int pc_settings_parse(struct pc_config *cfg, const char *name, char *data, size_t len,
		      struct pc_diags *d);

/*
 * Resolve and check the whole configuration: services expanded into ports,
 * zone names known, one default zone, no duplicate definitions. Adds every
 * problem to d. Returns 0 when there are no errors, -EINVAL otherwise.
 */
int pc_config_validate(struct pc_config *cfg, struct pc_diags *d);

/*
 * Check rule i of a configuration pc_config_validate accepted before, as
 * that would (services expanded, zone names known), without going over
 * the other rules: for one rule added to a loaded configuration. Returns
 * 0, -EINVAL with diagnostics in d, or -ENOMEM.
 */
int pc_config_validate_rule(struct pc_config *cfg, size_t i, struct pc_diags *d);

/* The same for ban i (pc_config_validate checks every ban too): an
 * address or prefix without host bits, a known zone. */
int pc_config_validate_ban(struct pc_config *cfg, size_t i, struct pc_diags *d);
/* Every ban of it, with one map of its zones: O(bans), not O(bans × zones). */
int pc_config_validate_bans(struct pc_config *cfg, struct pc_diags *d);

/* The shipped file of rules (allow ssh) read after rules.d/, so that a
 * fresh install keeps SSH open and the admin's own rules still win. */
#define PC_DEFAULTS_FILE "defaults.rules"

/* The origin of a shipped file by its name in data_dir or sysconf_dir:
 * PC_ORIGIN_DEFAULTS for defaults.rules, else PC_ORIGIN_SHIPPED. */
enum pc_origin pc_shipped_origin(const char *name);

/*
 * Load the whole configuration the daemon would apply: portctl.conf, the
 * shipped zones and services (data_dir, overridden by same-named files in
 * sysconf_dir), then sysconf_dir/rules.d/ *.rules in lexical order, then
 * the rules of defaults.rules (sysconf_dir's, else data_dir's, if any);
 * then validate. *out is set even on error so diagnostics can show sources.
 */
int pc_config_load(const struct pc_paths *paths, struct pc_config **out, struct pc_diags *d);

/*
 * Like pc_config_load, but with rules_dir/ *.rules instead of
 * sysconf_dir/rules.d/: a candidate directory checked as a whole before it
 * replaces rules.d ("portctl check --rules-dir"). A missing rules_dir is
 * an error (-ENOENT), not an empty set of rules.
 */
int pc_config_load_dir(const struct pc_paths *paths, const char *rules_dir,
		       struct pc_config **out, struct pc_diags *d);

/*
 * Like pc_config_load, but with exactly the given rule files, in this
 * order, instead of rules.d and defaults.rules: what "portctl check
 * FILE..." validates.
 * Returns 0, -EINVAL for an invalid configuration, or the -errno of a file
 * that could not be read.
 */
int pc_config_load_files(const struct pc_paths *paths, char *const files[], size_t n_files,
			 struct pc_config **out, struct pc_diags *d);

/* Whether two rules log alike: log, level (unset = warn) and prefix. */
bool pc_rule_log_same(const struct pc_rule *a, const struct pc_rule *b);

/* An address word as the grammar reads it ("10.0.0.0/8", "2001:db8::1",
 * "any"): 0, or -EINVAL with a diagnostic in d. */
int pc_prefix_parse(const char *text, struct pc_prefix *out, struct pc_diags *d);
/* A number word as the grammar reads it (digits only, at most max):
 * 0, -EINVAL or -ERANGE. */
int pc_number_parse(const char *text, uint32_t max, uint32_t *out);
/* A port number word (1-65535) as the grammar reads it: 0 or -EINVAL. */
int pc_port_parse(const char *text, uint16_t *out);
/* One host address (no prefix length), IPv4 or IPv6: 0 or -EINVAL. */
int pc_host_parse(const char *text, uint8_t *family, uint8_t addr[16]);

/* Warnings for "portctl check" (src/lang/lint.c), on a validated cfg: a
 * rule that never matches because an earlier one of the same zone and
 * direction decides all of its traffic, and duplicates. */
void pc_config_lint(const struct pc_config *cfg, struct pc_diags *d);

/* Protocol rule words (src/lang/l4.c): an ICMP type (v6: ICMPv6) or IP
 * protocol as a name or a number, 0 or -EINVAL; the name of a value, or
 * NULL; the names, for hints and completion. */
int pc_icmp_type_parse(bool v6, const char *s, size_t len, uint8_t *out);
const char *pc_icmp_type_name(bool v6, uint8_t type);
size_t pc_icmp_type_names(bool v6, const char **names, size_t max);
int pc_ip_proto_parse(const char *s, size_t len, uint8_t *out);
const char *pc_ip_proto_name(uint8_t proto);
size_t pc_ip_proto_names(const char **names, size_t max);

/* Whether s is a zone or service name as the grammar allows it. */
bool pc_name_valid(const char *s);

/* Add a ban to cfg (zone copied; NULL for every zone). 0 or -ENOMEM. */
int pc_config_ban_add(struct pc_config *cfg, const struct pc_prefix *addr, const char *zone,
		      uint64_t expires);

/* Move rule `from` to index `to`, the rules between one place along. */
void pc_config_rule_move(struct pc_config *cfg, size_t from, size_t to);
/* Take rule i out, the rules after it one place back. */
void pc_config_rule_remove(struct pc_config *cfg, size_t i);

/* The file CLI changes are persisted in, under the rules directory. */
#define PC_CLI_RULES_FILE "90-portctl.rules"

/*
 * The comment the kernel's objects of rule r carry (PC_COMMENT_MAX bytes at
 * most, into buf of size): its own comment; else, in PC_CLI_RULES_FILE,
 * its text, since the CLI moves that file's lines with each insert and
 * delete, and a name by line would rename every later rule's elements;
 * else FILE:LINE (the file's base name).
 */
void pc_rule_comment(const struct pc_rule *r, char *buf, size_t size);

/* A slot for one more rule at the end (zeroed), or NULL. */
struct pc_rule *pc_config_rule_push(struct pc_config *cfg);
/* The rules a pc_config_rule_put or _take moved: [first, end) by their old
 * addresses, each by places (+1 or -1); or, to not NULL, the rules of a
 * new array starting at to (pc_config_rules_grow). */
struct pc_rules_moved {
	const struct pc_rule *first, *end;
	ptrdiff_t by;
	const struct pc_rule *to;
};
/* Room for the rules of a big file of lines lines (1,024 or more), while a
 * configuration is read (nothing points at its rules yet): one array for
 * 10,000 rules, not a copy at each doubling, and some to spare for the
 * changes that follow. 0 or -ENOMEM. */
int pc_config_rules_reserve(struct pc_config *cfg, size_t lines);
/* Room for the next pc_config_rule_push when the rules fill their array:
 * they go to one twice the size. *old is the former array, left for the
 * caller to free once its pointers follow *moved (pc_plan_rules_shift);
 * NULL when there was room. 0 or -ENOMEM (nothing moved). */
int pc_config_rules_grow(struct pc_config *cfg, struct pc_rules_moved *moved, void **old);
/* The last rule goes to index at. The shorter side of at moves: the rules
 * before it into the free slots before the first, or the rules from at
 * on. A rule put near the start of 10,000 moves a few, not 4 MB. */
struct pc_rules_moved pc_config_rule_put(struct pc_config *cfg, size_t at);
/* Rule at goes; the shorter side closes the gap. */
struct pc_rules_moved pc_config_rule_take(struct pc_config *cfg, size_t at);
/*
 * An index of every rule's ports, made in O(rules) (a new configuration
 * pays for it, not its next delete), kept by pc_config_rule_put and
 * _take, dropped by any other change of the rules. 0 or -ENOMEM.
 */
int pc_config_ports_index(struct pc_config *cfg);
void pc_config_ports_forget(struct pc_config *cfg);
/*
 * Whether the index says no rule but r has a port of proto (one
 * PC_PROTO_*) in [lo, hi]: then a delete of r needs no look at the rules
 * after it. False without an index. O(log rules + the port ranges of
 * more than one port).
 */
bool pc_config_ports_alone(const struct pc_config *cfg, const struct pc_rule *r,
			   enum pc_proto proto, uint16_t lo, uint16_t hi);
/* Take back rules parsed past n_rules and sources past n_sources. */
void pc_config_truncate(struct pc_config *cfg, size_t n_rules, size_t n_sources);

/* Look-ups by name; NULL if absent. */
const struct pc_zone *pc_config_zone(const struct pc_config *cfg, const char *name);
const struct pc_service *pc_config_service(const struct pc_config *cfg, const char *name);
const struct pc_addrset *pc_config_set(const struct pc_config *cfg, const char *name);

/*
 * Parse a set file's text (one address or prefix a line; '#' and ';'
 * start a comment; blank lines) into set->addrs, in cfg's arena, with
 * every bad line reported at FILE:LINE:COL. 0, -EINVAL or -ENOMEM.
 */
int pc_addrset_parse(struct pc_config *cfg, struct pc_addrset *set, const char *file,
		     const char *data, size_t len, struct pc_diags *d);
/*
 * Before cfg (parsed again from old's texts) is validated: each of its
 * sets read from a file whose text old parsed already takes old's entries
 * (copied into cfg's arena) instead of parsing 100,000 lines again.
 * 0 or -ENOMEM.
 */
int pc_config_sets_reuse(struct pc_config *cfg, const struct pc_config *old);

/* Whether addr (of family) is in set; find: the first entry that holds it. */
bool pc_addrset_contains(const struct pc_addrset *set, uint8_t family, const uint8_t *addr);
const struct pc_prefix *pc_addrset_find(const struct pc_addrset *set, uint8_t family,
					const uint8_t *addr);

/* Canonical text of a port range ("443/tcp", "60000-61000/udp", "53"). */
int pc_port_range_format(const struct pc_port_range *r, char *buf, size_t size);
/* Canonical text of a prefix ("10.0.0.0/8", "2001:db8::1", "any"). */
int pc_prefix_format(const struct pc_prefix *p, char *buf, size_t size);

/* A duration: seconds ("600") or a number with s, m, h, d or w ("10m",
 * "2h", "1d"); 1 s to PC_DURATION_MAX. 0, -EINVAL or -ERANGE. */
#define PC_DURATION_MAX (3650u * 86400u)
int pc_duration_parse(const char *s, uint32_t *seconds);
/* A number of seconds for people, in its two largest non-zero units:
 * "29m59s", "1d2h", "1h5s", "0s". */
void pc_duration_format(uint64_t seconds, char *buf, size_t size);

#endif
