/* The compiler's intermediate model: zone dispatch and merged, first-match
 * ordered entries per zone and direction, as plain data without libnftnl. */
#ifndef PORTCTL_PLAN_H
#define PORTCTL_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "portctl/config.h"
#include "portctl/diag.h"

/* What a packet gets: the verdicts a rule or a zone policy can give. */
enum pc_verdict_kind { PC_VERDICT_ACCEPT, PC_VERDICT_DROP, PC_VERDICT_REJECT };

/*
 * A disjoint key range and who decides it. Keys are big-endian byte strings
 * of the owning table's width (ports: protocol byte + port, so 3 bytes;
 * addresses: 4 or 16 bytes); lo and hi are inclusive.
 */
struct pc_plan_span {
	uint8_t lo[16], hi[16];
	enum pc_verdict_kind verdict;
	const struct pc_rule *rule; /* NULL in dispatch tables */
	size_t zone;                /* dispatch tables: index into plan->zones */
	/* Ban sets: the ban that decides, the one of them that lasts longest. */
	const struct pc_ban_entry *ban;
};

/* Disjoint, sorted spans of one key width. */
struct pc_plan_spans {
	struct pc_plan_span *items;
	size_t n, cap;
	uint8_t width; /* bytes per key */
};

/* One port segment of a merged port map, in host byte order. */
struct pc_plan_port {
	uint8_t l4proto; /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
	uint16_t lo, hi;
	enum pc_verdict_kind verdict;
	const struct pc_rule *rule;
};

enum pc_entry_kind {
	PC_ENTRY_PORTS, /* a run of port-only rules merged into one map */
	PC_ENTRY_ADDRS, /* a run of address-only rules merged into maps */
	PC_ENTRY_RULE,  /* a rule that keeps its own kernel rules */
	PC_ENTRY_PAIRS, /* a run of address rules of one port each, merged per port */
};

/* What a PAIRS run's pair is found by: a port of a protocol, and in a
 * run of rules toward hosts (to_host) a host too, or toward networks
 * (to_net) a network (its address and length); a rule toward several
 * destinations is a pair per destination. */
struct pc_pair_key {
	uint8_t l4proto;
	uint8_t dfamily; /* to_host, to_net: the destination's AF_INET or AF_INET6; else 0 */
	uint16_t port;
	uint8_t dhost[16];
	uint8_t dlen; /* to_net: the network's prefix length (a host's full); else 0 */
};

/* PAIRS: the disjoint address spans of one port of one protocol (toward
 * one host). */
struct pc_plan_pair {
	struct pc_pair_key key;
	struct pc_plan_spans addr4, addr6;
	size_t n_rules; /* of the run that name it */
};

/* What every pass over a chain's entries reads comes first: kind, names,
 * rules and size, in the first 48 bytes of 192. */
struct pc_plan_entry {
	enum pc_entry_kind kind;
	uint32_t name_nth; /* see name_hash */
	/* PORTS and ADDRS: the run's rules, first to last; RULE: the rule. */
	const struct pc_rule *first, *last;
	size_t n_rules;
	/* What the entry's kernel sets are named by, not its place, so that
	 * an entry that comes or goes before it leaves them as they are: a
	 * rule's text; a run's file that has most of its rules, the anchor
	 * [anchor, anchor_last] being that block (anchor_n of the run's
	 * n_rules) -- a change in a small file next to a big one leaves the
	 * big one's sets, and so does a change in the big one. name_nth
	 * tells apart entries of one chain with the same name_hash. */
	uint64_t name_hash;
	/* A small run lowered by rule (no sets, compile-internal.h): its
	 * anchor's text's hash, in its name (and its block's) too, so that
	 * one that comes or goes renumbers none of its file's others; 0 for
	 * the rest. */
	uint64_t name_text;
	const struct pc_rule *anchor, *anchor_last;
	size_t anchor_n;
	/* PORTS: disjoint segments sorted by (l4proto, lo). */
	struct pc_plan_port *ports;
	size_t n_ports, cap_ports;
	/* ADDRS: disjoint spans per family; match_dst: key is the
	 * destination (runs of "to" rules) instead of the source. */
	struct pc_plan_spans addr4, addr6;
	/* PAIRS: per port, sorted by key (l4proto, port, host); match_dst as
	 * ADDRS; to_host: sources toward hosts ("deny 22/tcp from NET to
	 * HOST"), the host in the key, the spans the sources' of its family;
	 * to_net: sources toward networks of any family and length, every
	 * rule of the run of one verdict (an allow rule's hosts too), the
	 * network in the key. */
	struct pc_plan_pair *pairs;
	size_t n_pairs, cap_pairs;
	bool match_dst, to_host, to_net;
	/* ADDRS: the one port (or range) of one protocol every rule of the
	 * run names besides its addresses ("allow 22/tcp from A", "... from
	 * B"); scope_l4proto 0: addresses alone. */
	uint8_t scope_l4proto;
	uint16_t scope_lo, scope_hi;
};

/* One zone in one direction: its ordered entries, then its policy. */
struct small_runs;
struct pc_keycount;
struct pc_plan_chain {
	struct pc_plan_entry *entries;
	size_t n_entries, cap_entries;
	enum pc_verdict_kind policy;
	/* Its small runs by file (compile-internal.h), counted at its first
	 * change and kept by each one after, so that a change need not pass
	 * over every entry to count them; NULL: not counted. */
	struct small_runs *small;
	/* How many of its entries have each name (kind and hash), kept so:
	 * NULL, not counted. */
	struct pc_keycount *names;
};

/* The bans in force of one scope (every zone, or one zone) per family:
 * disjoint spans, each decided by the ban that lasts longest. */
struct pc_plan_bans {
	struct pc_plan_spans addr4, addr6;
};

struct pc_plan_zone {
	const struct pc_zone *zone;
	struct pc_plan_chain dir[PC_N_DIRS]; /* indexed by enum pc_dir */
	struct pc_plan_bans bans;    /* bans of this zone alone */
};

/* Interface name → zone. */
struct pc_plan_iface {
	const char *name;
	size_t zone;
};

/*
 * How one direction picks a zone: by address (inbound source, outbound
 * destination; longest prefix already resolved into disjoint spans), then
 * by interface (inbound iif, outbound oif), then the default zone.
 */
struct pc_plan_dispatch {
	struct pc_plan_spans addr4, addr6;
	struct pc_plan_iface *ifaces; /* sorted by name */
	size_t n_ifaces, cap_ifaces;
	size_t default_zone;
};

struct pc_plan {
	const struct pc_config *cfg; /* borrowed: must outlive the plan */
	struct pc_plan_zone *zones;  /* parallel to cfg->zones */
	size_t n_zones;
	struct pc_plan_dispatch dispatch[PC_N_DIRS]; /* indexed by enum pc_dir */
	struct pc_plan_bans bans;            /* bans of every zone */
	/* CLOCK_REALTIME in ms when the plan was built: bans that expired by
	 * then are left out, the others' kernel timeouts count from it. */
	uint64_t now_ms;
};

/*
 * Build the plan of a validated configuration. cfg is borrowed and must
 * outlive the plan. On success *out owns a new plan (pc_plan_free). Returns
 * 0, -EINVAL with diagnostics in d, or -ENOMEM.
 */
int pc_plan_build(const struct pc_config *cfg, struct pc_plan **out, struct pc_diags *d);
void pc_plan_free(struct pc_plan *plan);
/* The one zone whose chains rule r is in: 0, or -EOPNOTSUPP (several
 * zones, an unknown one, or a NAT rule). */
int pc_plan_rule_chain(const struct pc_plan *plan, const struct pc_rule *r, size_t *z);
/* The k-th zone (of r->n_zones, or 1 for none: the default) whose chains
 * rule r is in: 0, or -EOPNOTSUPP (an unknown zone, a NAT rule). */
int pc_plan_rule_zone(const struct pc_plan *plan, const struct pc_rule *r, size_t k, size_t *z);
/* An entry of its own of one chain put in or taken out, in place. */
struct small_runs;
struct pc_plan_entry_change {
	/* Entries [from, to) are made again; from - 1 kept its sets, and so
	 * did those from `to` on (named as they were). */
	size_t zone, from, to;
	int dir;
	const struct pc_rule **old_firsts; /* the first rules of the old entries made again */
	size_t n_old;
	/* To undo: the entries replaced, and where and how many came. */
	struct pc_plan_entry *saved;
	size_t n_saved, at, n_new;
	/* The rule cut the port run at from - 1 in two: that run kept its
	 * sets, which lose the segments of saved[0] it no longer has. Or its
	 * delete joined the runs around it into the one at from - 1, whose
	 * sets gain the segments saved[0] (its first part) did not have. */
	bool cut, join;
	/* The rule cut a port run in two and the second part kept the run's
	 * name, or its delete joined two under the second's: the run at `to`
	 * kept the sets of saved[kept_from], which lose the segments it no
	 * longer has and gain those it has that saved[kept_from] had not; its
	 * objects, told by that entry's first rule, are its own first's now. */
	bool kept;
	size_t kept_from;
};
/* The entry from which pc_plan_entry_insert (or _delete, remove) of r
 * would make the chain's entries again, before it does; *upto: the run
 * from which on it keeps their sets (ch->kept), or SIZE_MAX. */
size_t pc_plan_entry_from(const struct pc_plan *plan, size_t z, int dir, const struct pc_rule *r,
			  bool remove, size_t *upto);
/*
 * Rule r, in its place in the configuration, as an entry of its own of
 * zone z's chain in direction dir, as pc_plan_build makes it: between two
 * runs (or ahead of them), or inside a port run that it cuts in two. 0
 * with ch filled, -EOPNOTSUPP when it would not be one (a run it merges
 * with next to it, inside an address run), -ENOMEM (nothing changed).
 */
int pc_plan_entry_insert(struct pc_plan *plan, size_t z, int dir, const struct pc_rule *r,
			 struct pc_plan_entry_change *ch);
/* The entry that is r alone taken away (not between two address runs
 * that would join). Same returns. */
int pc_plan_entry_delete(struct pc_plan *plan, size_t z, int dir, const struct pc_rule *r,
			 struct pc_plan_entry_change *ch);
/* The change taken back; and its record freed once it stays. */
void pc_plan_entry_change_undo(struct pc_plan *plan, struct pc_plan_entry_change *ch);
void pc_plan_entry_change_free(struct pc_plan_entry_change *ch);

/* A packet to evaluate, as the kernel would see it in the filter hook. */
struct pc_packet {
	enum pc_dir dir;
	uint8_t family;  /* AF_INET or AF_INET6 */
	uint8_t l4proto; /* IPPROTO_* */
	uint8_t saddr[16], daddr[16];
	uint16_t dport;    /* host order; for tcp/udp/sctp */
	uint16_t sport;    /* host order; 0: not given */
	uint8_t icmp_type; /* for icmp / ipv6-icmp */
	const char *iif;   /* inbound and forwarded: input interface name */
	const char *oif;   /* outbound: output interface name */
	/* Forwarded, and DNAT'ed by another table (a published port): daddr
	 * and dport are what the client connected to (ct original). */
	bool published;
};

enum pc_zone_reason {
	PC_ZONE_BY_NONE,    /* decided before zone dispatch (loopback, ICMP) */
	PC_ZONE_BY_ADDRESS, /* source (in, forward) or destination (out) prefix */
	PC_ZONE_BY_IFACE,
	PC_ZONE_BY_DEFAULT,
};

enum pc_decided_by {
	PC_DECIDED_PREAMBLE, /* built-in: loopback, conntrack or needed ICMP */
	PC_DECIDED_RULE,
	PC_DECIDED_POLICY,
	PC_DECIDED_BAN, /* a ban (verdict drop) */
	PC_DECIDED_PING, /* no rule matched: a zone whose policy is drop answers ping */
};

struct pc_verdict {
	enum pc_verdict_kind verdict;
	enum pc_decided_by by;
	const struct pc_zone *zone; /* NULL when the preamble decided */
	enum pc_zone_reason zone_reason;
	const struct pc_rule *rule; /* PC_DECIDED_RULE only */
	const struct pc_ban_entry *ban; /* PC_DECIDED_BAN only */
};

/*
 * Evaluate a new connection's first packet against the plan, first match
 * as the kernel does: loopback, bans of every zone, zone dispatch, the
 * zone's bans, then the built-in ICMP and the zone's rules. Rate limits are taken as not exceeded. Returns 0, or
 * -EINVAL for a packet with an unknown family.
 */
int pc_plan_eval(const struct pc_plan *plan, const struct pc_packet *pkt, struct pc_verdict *out);

/* Both directions' names ("accept", "drop", "reject") for messages. */
const char *pc_verdict_kind_name(enum pc_verdict_kind v);

#endif
