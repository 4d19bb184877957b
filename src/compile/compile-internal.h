/* Internals shared by the compiler's plan builder, evaluator and lowering;
 * nothing here is visible to the other stages. */
#ifndef PORTCTL_COMPILE_INTERNAL_H
#define PORTCTL_COMPILE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "portctl/plan.h"

/*
 * One candidate for a key range before flattening: the range, and its
 * precedence (lower prio wins, then lower seq), and what it decides.
 */
struct span_item {
	uint8_t lo[16], hi[16];
	uint32_t prio;
	uint32_t seq;
	enum pc_verdict_kind verdict;
	const struct pc_rule *rule;
	size_t zone;
	const struct pc_ban_entry *ban;
};

/* Keys are big-endian, left-aligned in 16 bytes, zero past the width. */
int key_cmp(const uint8_t *a, const uint8_t *b);
/* Add or subtract one in the first width bytes; false on wrap-around. */
bool key_inc(uint8_t *k, uint8_t width);
bool key_dec(uint8_t *k, uint8_t width);
/* The inclusive key range of an address prefix of width 4 or 16. */
void key_from_prefix(const struct pc_prefix *p, uint8_t *lo, uint8_t *hi);

/*
 * Cut the items' ranges into disjoint spans, each decided by the item of
 * lowest (prio, seq) covering it; neighbours with the same decider are
 * merged. Appends to out (whose width must be set). O(n log n). Sorts items.
 */
int spans_flatten(struct span_item *items, size_t n, struct pc_plan_spans *out);
/* Whether a span holds a single key (lo == hi). */
bool span_is_host(const struct pc_plan_span *sp);
/* The spans of in by kind, in order, in one pass: single keys or more
 * (ranges), of each verdict; out[spans_part(ranges, verdict)], for the
 * caller to free (also after -ENOMEM). 0 or -ENOMEM. */
#define SPANS_PARTS 6
static inline int spans_part(bool ranges, enum pc_verdict_kind v)
{
	return (int)v * 2 + ranges;
}
int spans_split(const struct pc_plan_spans *in, struct pc_plan_spans out[SPANS_PARTS]);
/* The keys in covers as few spans as can be (neighbours joined, deciders
 * dropped), appended to out (width set from in). 0 or -ENOMEM. */
int spans_union(const struct pc_plan_spans *in, struct pc_plan_spans *out);
/*
 * How the lowering names the sets of an entry: its base (DIR_ZONE_ and
 * the kind and hash of what it is named by, see pc_plan_entry) and a
 * suffix, "_ports_accept", "_ranges_drop" and the like for a port set,
 * "_src4_drop", "_src6_ranges_accept" and the like for an address set.
 * The in-place changes find them by it.
 */
/* A direction in object names: "in", "out", "fwd". */
extern const char *const dir_names[PC_N_DIRS];
/* An entry's kind in its names: runs of ports and of addresses of one
 * file share their name_hash, and name_nth counts within a kind. */
char pc_entry_kind_letter(enum pc_entry_kind kind);
/* What an entry is named by (with name_nth). */
static inline uint64_t entry_name(const struct pc_plan_entry *e)
{
	return e->name_hash ^ e->name_text;
}
void pc_plan_entry_base(char *buf, size_t size, int dir, const char *zone,
			const struct pc_plan_entry *e);
/* A port run with r put in or taken out (in place): 1 if it keeps its
 * name, with its new counts in out; 0 if it would be named otherwise. */
struct run_count {
	const struct pc_rule *anchor, *anchor_last;
	size_t anchor_n, n_rules;
};
int run_edit_keeps_name(const struct pc_plan *plan, size_t z, int dir,
			const struct pc_plan_entry *e, const struct pc_rule *r, bool remove,
			struct run_count *out);
/* A run's port segments go in six plain sets by kind: exact ports or
 * ranges, and what they decide (accept, drop, reject). Not verdict maps:
 * each commit that adds a rule makes the kernel walk every element of every
 * verdict map its chains reach (nft_lookup_validate), which would make a
 * new limit or log rule O(configuration). */
/* A block of one file's rules longer than this names its run when it is
 * the longest; below it, the last block does. */
#define BLOCK_NAMES_RUN 64
/* A run a big block names (its anchor block, anchor_n rules) has every
 * set of each verdict its kind may need, empty ones too: a port run its
 * sets of ranges (as every run has those of single ports); an address run
 * its sets of hosts and of ranges of both families; a run of ports the
 * sets of the usual prefix lengths (pair_len_always). A rule that comes or
 * goes there (its first range, its first network, its first IPv6 address,
 * or the last, gone) is then elements alone, where making the run again
 * with a new set would cost O(its 10,000 rules). A small run is made again
 * cheaply. */
static inline bool run_has_all_sets(size_t anchor_n)
{
	return anchor_n > BLOCK_NAMES_RUN;
}
/* A zone chain of BLOCK_MIN_ENTRIES entries or more is cut into blocks
 * (lower.c). Runs of fewer than RUN_SETS_MIN rules there of a file (their
 * last rule's) that has more than SMALL_RUNS_MAX of them in the chain have
 * no sets: each of their rules is lowered as a rule of its own would be,
 * in order (by rule); so have the other files' when those are more than
 * SMALL_RUNS_MAX together. Rules of different kinds in turn would
 * otherwise make a run, and sets, per rule, and the kernel finds a set by
 * its name in a list (nft_set_lookup), so that a table of S sets costs
 * O(S^2) to load: 4,000 sets for 2,000 such rules took 1.4 s, 10,000 rules
 * over a minute. The few small runs of the other files (the CLI's, after
 * a generated file of thousands, or next to a zone of rules of their own)
 * keep their sets, so that a change there is elements alone, which the
 * kernel does not check for loops as it does each rule added. */
#define BLOCK_MIN_ENTRIES 128
#define RUN_SETS_MIN 16
#define SMALL_RUNS_MAX 64
static inline bool chain_cut(size_t n_entries)
{
	return n_entries >= BLOCK_MIN_ENTRIES;
}
/* Does entry e, the i-th of a chain of n entries, begin a block (lower.c)?
 * Its name (kind, entry_name, name_nth) hashes to 0 mod BLOCK_SPAN. */
#define BLOCK_SPAN 64
static inline bool entry_block_starts(const struct pc_plan_entry *e, size_t n, size_t i)
{
	uint64_t h;

	if (!chain_cut(n) || i == 0)
		return false;
	h = entry_name(e) ^ ((uint64_t)e->name_nth << 32) ^ ((uint64_t)e->kind << 56);
	h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdull;
	return ((h ^ (h >> 33)) % BLOCK_SPAN) == 0;
}
/* Does chain c's i-th entry begin a block? */
static inline bool chain_block_starts(const struct pc_plan_chain *c, size_t i)
{
	return entry_block_starts(&c->entries[i], c->n_entries, i);
}

/* First segment that ends at or after (proto, lo): segments are disjoint
 * and sorted by (l4proto, lo), so by (l4proto, hi) too. */
static inline size_t segment_first(const struct pc_plan_entry *e, uint8_t proto, uint16_t lo)
{
	size_t a = 0, b = e->n_ports;

	while (a < b) {
		size_t m = a + (b - a) / 2;
		const struct pc_plan_port *p = &e->ports[m];

		if (p->l4proto < proto || (p->l4proto == proto && p->hi < lo))
			a = m + 1;
		else
			b = m;
	}
	return a;
}

static inline bool run_small(enum pc_entry_kind kind, size_t n_rules)
{
	return kind != PC_ENTRY_RULE && n_rules < RUN_SETS_MIN;
}
/* A chain's small runs counted by file (see above). */
struct small_runs {
	struct small_runs_file {
		const char *file;
		size_t n;
	} *files;
	size_t n_files, cap_files;
	bool cut;
};
/* Chain c's (cut into blocks when cut), skipping entries [skip_from,
 * skip_to) (0, 0: none), into *s. O(its entries). 0 or -ENOMEM. */
int small_runs_count(const struct pc_plan_chain *c, bool cut, size_t skip_from, size_t skip_to,
		     struct small_runs *s);
/* Chain c's small runs: those it keeps (pc_plan_chain's small), or
 * counted into *own (*err 0 or -ENOMEM), which the caller frees. */
const struct small_runs *chain_small_runs(const struct pc_plan_chain *c, struct small_runs *own,
					  int *err);
/* c keeps its small runs no longer: counted when asked. */
void chain_small_forget(struct pc_plan_chain *c);
/* *out a copy of s. 0 or -ENOMEM. */
int small_runs_copy(const struct small_runs *s, struct small_runs *out);
/* s with the small ones of entries v[0, n) counted in (by 1) or out (-1;
 * a file left with none is dropped); nothing when s is of a chain not cut.
 * 0 or -ENOMEM. */
int small_runs_follow(struct small_runs *s, const struct pc_plan_entry *v, size_t n, int by);
void small_runs_free(struct small_runs *s);
/* Are the small runs of file lowered by rule? */
bool small_runs_file_by_rule(const struct small_runs *s, const char *file);
/* Is entry e lowered by rule? */
bool small_runs_by_rule(const struct small_runs *s, const struct pc_plan_entry *e);
/* Do a and b lower some file's small runs otherwise? */
bool small_runs_flip(const struct small_runs *a, const struct small_runs *b);
/* The file an entry's small runs count in: its last rule's (a run of a
 * big file's last rules and the CLI's first counts as the CLI's). */
const char *entry_file(const struct pc_plan_entry *e);
/* Whether a run of ports has its set of prefixes of len (of family) and
 * each verdict, empty or not: hosts always, the usual networks in a big
 * run (run_has_all_sets). */
static inline bool pair_len_always(uint8_t family, unsigned len, bool big)
{
	if (family == AF_INET)
		return len == 32 || (big && (len == 24 || len == 16 || len == 8));
	return len == 128 || (big && (len == 64 || len == 56 || len == 48));
}
#define PORT_KIND_RANGES 1
#define PORT_KIND_DROP 2
#define PORT_KIND_REJECT 4
#define PORT_KINDS 6
struct pc_plan_port;
int port_kind(const struct pc_plan_port *p);
/* The first of chain c's entries that ends at or after rule r (its
 * entries are in rule order and apart): O(log entries). */
struct pc_plan_chain;
size_t chain_entry_at(const struct pc_plan_chain *c, const struct pc_rule *r);
/* Is p one of zone z's rules in direction dir (a filter rule)? */
bool rule_in_chain(const struct pc_plan *plan, const struct pc_rule *p, size_t z, int dir);
const char *port_map_suffix(int kind);
#define ADDR_SET_SUFFIX_MAX 24
void addr_set_suffix(char out[ADDR_SET_SUFFIX_MAX], uint8_t family, bool dst, bool hosts,
		     enum pc_verdict_kind v);
/* A stale address set (pc_stale_map.kind): past the port kinds, by family,
 * hosts or ranges, and verdict. */
#define ADDR_KIND_BASE 16
static inline int addr_kind(uint8_t family, bool hosts, enum pc_verdict_kind v)
{
	return ADDR_KIND_BASE + ((family == AF_INET6) * 2 + hosts) * 3 + (int)v;
}

/* A PAIRS run's set (pc_stale_map.kind): past the address kinds, by
 * family, prefix length and verdict. */
#define PAIR_KIND_BASE 32
static inline int pair_kind(uint8_t family, unsigned dlen, unsigned len, enum pc_verdict_kind v)
{
	int fam = family == AF_INET6;

	return PAIR_KIND_BASE + (((int)dlen * 2 + fam) * 129 + (int)len) * 3 + (int)v;
}
#define PAIR_SET_SUFFIX_MAX 32
/* dlen: the destination network's length in a run toward networks (else
 * 0), len the source's. */
void pair_set_suffix(char out[PAIR_SET_SUFFIX_MAX], uint8_t family, int side, unsigned dlen,
		     unsigned len, enum pc_verdict_kind v);
/* Span [lo, hi] of width bytes as the fewest prefixes, lowest first:
 * f(address, prefix length, arg) for each; stops at f's error. */
int span_prefixes(const uint8_t *lo, const uint8_t *hi, uint8_t width,
		  int (*f)(const uint8_t *addr, unsigned len, void *arg), void *arg);
struct nftnl_set;
/* The element (l4proto . port [. host] . address) of a PAIRS set. */
int pair_elem_add(struct nftnl_set *s, const struct pc_pair_key *key, uint8_t family,
		  const uint8_t *addr, const struct pc_rule *rule);

/* The rule shapes plan.c merges into runs: port-only rules share port
 * maps; rule_addr_side: 1 source-address-only, 2 destination-only, 0. */
bool rule_is_port_only(const struct pc_rule *r);
int rule_addr_side(const struct pc_rule *r);
/* An address rule of one port of one protocol ("allow 22/tcp from A"):
 * several in a row are an address run scoped to that port. */
bool rule_addr_scoped(const struct pc_rule *r);
/* An address rule of a few single ports (allow 22/tcp from NET; allow
 * 80,443/tcp from NET; allow 53 from NET, tcp and udp; allow 22/tcp from
 * NET to HOST; allow 5432/tcp from NET to NET, or to HOST4,NET6): such
 * rules of one side in a row (pairs_join) are a PAIRS run. rule_pairs_side:
 * 1 source, 2 destination, 3 sources toward hosts, 4 sources toward
 * networks (and an allow rule's hosts), 0 none such; rule_pairs: its pair
 * keys, a port's with each destination a source of its family reaches,
 * PC_RULE_PAIRS_MAX at most. */
#define PC_RULE_PAIRS_MAX 8
int rule_pairs_side(const struct pc_rule *r);
bool pairs_join(const struct pc_rule *a, const struct pc_rule *b);
bool rule_addr_paired(const struct pc_rule *r);
size_t rule_pairs(const struct pc_rule *r, struct pc_pair_key out[PC_RULE_PAIRS_MAX]);
bool rule_names_pair(const struct pc_rule *r, const struct pc_pair_key *key);
int pair_key_cmp(const struct pc_pair_key *a, const struct pc_pair_key *b);
struct pc_plan_pair *pairs_find(const struct pc_plan_entry *e, const struct pc_pair_key *key);
size_t pairs_at(const struct pc_plan_entry *e, const struct pc_pair_key *key);
void pair_free(struct pc_plan_pair *p);
/* A PAIRS entry's side, as rule_pairs_side. */
int entry_pairs_side(const struct pc_plan_entry *e);
/* The destination lengths of family whose sets a run toward networks
 * always has (pair_set_always), of its one verdict: hosts and the usual
 * networks (/24, /16, /8; /64, /56, /48); into out, how many. */
size_t pair_dlens_always(const struct pc_plan_entry *e, uint8_t family, unsigned out[4]);
/* Whether a PAIRS run has its sets of family, source length len and
 * verdict v, empty or not, for the destination lengths it always has. */
bool pair_src_always(const struct pc_plan_entry *e, uint8_t family, unsigned len,
		     enum pc_verdict_kind v);
/* Whether a PAIRS run has its set of family, destination length dlen,
 * source length len and verdict v, empty or not. */
bool pair_set_always(const struct pc_plan_entry *e, uint8_t family, unsigned dlen, unsigned len,
		     enum pc_verdict_kind v);
/* Whether rule r and entry e next to it (or around it) would be one run. */
bool merges_with(const struct pc_rule *r, const struct pc_plan_entry *e);
/* Index in cfg->zones of r's i-th zone (the default zone when r names
 * none), or -1 for an unknown name. */
ssize_t rule_zone_index(const struct pc_config *cfg, const struct pc_rule *r, size_t i);

/* The ICMPv6 types the preamble accepts ahead of the conntrack invalid
 * drop (ND, packet-too-big), for the lowering and the evaluator alike; and
 * echo-request, which a zone whose policy is drop answers after its rules. */
#define ICMP6_EARLY_N 5
extern const uint8_t icmp6_early[ICMP6_EARLY_N];
#define PC_ICMP_ECHO_REQUEST 8
#define PC_ICMP6_ECHO_REQUEST 128

/* The items of r's addresses of family, its destinations (dst) or its
 * sources, of precedence prio, pushed onto *items. 0 or -ENOMEM. */
int rule_addr_items(const struct pc_rule *r, bool dst, uint8_t family, uint32_t prio,
		    struct span_item **items, size_t *n, size_t *cap);
/* The items of r's ports, one per range and protocol (keys: protocol
 * byte + port), of precedence prio, pushed onto *items. 0 or -ENOMEM. */
int rule_port_items(const struct pc_rule *r, uint32_t prio, struct span_item **items, size_t *n,
		    size_t *cap);
/* The first span of spans (sorted, disjoint) that ends at key or after:
 * spans->n when none. Binary search. */
size_t spans_first_ending_at(const struct pc_plan_spans *spans, const uint8_t *key);
/* The span holding key, or NULL. Binary search. */
const struct pc_plan_span *spans_find(const struct pc_plan_spans *s, const uint8_t *key);
void spans_free(struct pc_plan_spans *s);

struct nftnl_set;
struct pc_ruleset;
/* The index of rs's set named name, -1 if none. */
ssize_t pc_ruleset_set_find(const struct pc_ruleset *rs, const char *name);

/* Bans (bans.c). CLOCK_REALTIME in ms. */
uint64_t bans_clock_ms(void);
/* plan->bans and each zone's bans from plan->cfg at plan->now_ms. */
int plan_bans_build(struct pc_plan *plan);
void bans_free(struct pc_plan_bans *b);
/* The ban that drops addr (of family) in b, or NULL. */
const struct pc_ban_entry *bans_find(const struct pc_plan_bans *b, uint8_t family,
				     const uint8_t *addr);
/* Per scope, the ban sets in the order they come among the sets: single
 * addresses (a hash set: a ban or unban is one O(1) insert for the
 * kernel), then wider spans (an interval set, which the kernel rebuilds
 * whole at each commit that changes it), IPv4 then IPv6. Index
 * 2 * (IPv6) + (nets). */
#define BAN_SETS 4
/* "ban4", "ban6" for every zone, "ban4_ZONE" for one (zone non-NULL);
 * "ban4net", "ban4net_ZONE" for the wider spans. */
void ban_set_name(char *buf, size_t size, uint8_t family, bool nets, const char *zone);
/* An empty ban set: timeout, and interval for nets. NULL when out of memory. */
struct nftnl_set *ban_set_new(const char *name, uint32_t id, uint8_t family, bool nets);
/* The spans of one single address into hosts, the others into nets, as
 * elements timed from now_ms; counts them in *n_elems. */
int ban_sets_fill(struct nftnl_set *hosts, struct nftnl_set *nets,
		  const struct pc_plan_spans *spans, uint64_t now_ms, size_t *n_elems);
/* "portctl ban ADDR[/LEN][ until UTC]": elements' comments, explain's words. */
int ban_comment(const struct pc_ban_entry *b, char *buf, size_t size);

/* IPPROTO_* of a PC_PROTO_* bit, and the three bits in a stable order. */
uint8_t proto_l4(enum pc_proto p);
/* The other way: IPPROTO_TCP, _UDP, _SCTP to their PC_PROTO_ bit; 0 else. */
enum pc_proto l4_proto(uint8_t l4proto);
extern const enum pc_proto pc_protos_all[3];

enum pc_verdict_kind action_verdict(enum pc_action a);
/* The connection mark bits portctl's nat chains use (bits 16-24): a
 * connection one of our forwards DNAT'ed, which the forward chain accepts,
 * and the number of the zone a connection came from, for masquerade. */
#define PC_CTMARK_FORWARD 0x01000000u
#define PC_CTMARK_ZONE 0x00ff0000u
#define PC_CTMARK_ZONE_SHIFT 16
/* forward and masquerade: rules of the nat chains, not of a zone's. */
bool rule_is_nat(const struct pc_rule *r);
/* Whether a from/to list matches every address (empty, or holds "any"). */
bool prefixes_any(const struct pc_prefix *p, size_t n);

#endif
