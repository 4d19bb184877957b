/* The compiler's output: the nftables objects of table "inet portctl", in
 * the order they must be added, each tied back to the rule that made it. */
#ifndef PORTCTL_COMPILE_H
#define PORTCTL_COMPILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "portctl/config.h"
#include "portctl/diag.h"
#include "portctl/plan.h"
#include "portctl/util.h"

#define PC_TABLE_NAME "portctl"

/* struct pc_nft_object's chain_key of a chain's name; 0 for none. */
static inline uint32_t pc_chain_key(const char *chain)
{
	return chain ? pc_name_id(chain) : 0;
}

enum pc_nft_kind { PC_NFT_TABLE, PC_NFT_CHAIN, PC_NFT_SET, PC_NFT_RULE };

struct pc_nft_object {
	enum pc_nft_kind kind;
	/* struct nftnl_table / nftnl_chain / nftnl_set (elements included) /
	 * nftnl_rule, owned by the ruleset. */
	void *obj;
	/* The rule or zone this object came from, for error messages that
	 * name FILE:LINE:COL; both NULL for the built-in preamble. */
	const struct pc_rule *rule;
	const struct pc_zone *zone;
	/* A rule's handle in the kernel once pc_nl_apply() installed it (0:
	 * not known), so that a later difference deletes it by handle. */
	uint64_t handle;
	/* A named address set's elements as a digest (0: none, any other
	 * set): two sets with the same definition and digest hold the same
	 * elements, so a difference skips comparing 100,000 of them; and
	 * with a digest the elements are keys (and interval-end flags) alone,
	 * in increasing key order, so two such sets differ by one merge. */
	uint64_t elems_digest;
	/* A rule's chain: pc_chain_key of its name, set where the rule is
	 * made (0: not known, a ruleset made by hand). A difference sorts
	 * 20,000 rules by chain with it, not by reading each one's name. */
	uint32_t chain_key;
	/* A port map that lost elements in place (pc_rule_edit_commit): made
	 * again from the plan by pc_ruleset_sync before it is read. */
	bool stale;
	/* Another ruleset's (pc_ruleset_entry_add, _remove): not freed with
	 * this one until pc_ruleset_adopt. */
	bool shared;
	/* A kernel rule of a small run lowered rule by rule: rule is the
	 * run's first, the rule it is of by_rule_at rules after it, which its
	 * comment names (two rules of a run may have the same comment). */
	bool by_rule;
	uint32_t by_rule_at;
};

/* A stale port map: which entry of the plan it is made from. */
struct pc_stale_map {
	size_t obj, zone, entry;
	int dir, kind; /* kind: which of the run's port sets (lower.c) */
};

struct pc_ruleset {
	struct pc_nft_object *objs;
	size_t n_objs, cap_objs;
	/* Totals, for benchmarks and status. */
	size_t n_chains, n_sets, n_rules, n_elems;
	/* Which commit of a netlink handle installed this ruleset (0: none),
	 * set by pc_nl_apply(): a later difference trusts it only then. */
	uint64_t installed;
	/* CLOCK_REALTIME in ms from which the ban elements' timeouts count:
	 * with it, an element's timeout tells when the kernel drops it. */
	uint64_t bans_clock_ms;
	/* Non-NULL: the ban sets lag behind this configuration's bans, changed
	 * in place one at a time (pc_plan_ban_edit); pc_ruleset_bans_sync
	 * makes them whole before anything reads them. */
	const struct pc_config *bans_from;
	/* Port maps changed in place lag behind this plan (see stale). */
	const struct pc_plan *ports_from;
	struct pc_stale_map *stale;
	size_t n_stale, cap_stale;
	/* pc_ruleset_entry_remove: the objects left out, old's until adopted. */
	struct pc_nft_object *dropped;
	size_t n_dropped;
	/* pc_ruleset_runs_edit: element deletes and adds of shared port maps
	 * (stale here) that only a difference against the ruleset they are
	 * shared with sends; any other install makes them whole first
	 * (pc_ruleset_sync). */
	struct pc_shared_edit *shared;
};

struct pc_plan;

/*
 * Compile a validated configuration into the objects of table inet
 * portctl: pc_plan_build, then pc_ruleset_lower. The objects point into
 * cfg (rule and zone), which must outlive the ruleset. On success *out
 * owns a new ruleset (pc_ruleset_free). Returns 0, -EINVAL with
 * diagnostics in d, or -ENOMEM.
 */
int pc_compile(const struct pc_config *cfg, struct pc_ruleset **out, struct pc_diags *d);

/* Lower a plan (see portctl/plan.h) into nftables objects. Same contract. */
int pc_ruleset_lower(const struct pc_plan *plan, struct pc_ruleset **out, struct pc_diags *d);

void pc_ruleset_free(struct pc_ruleset *rs);

struct nftnl_set_elem;
/*
 * The rule an element of a merged port map belongs to (for its counters):
 * first is the rule the map's set was made for (the run's first); NULL e
 * or a key that is not proto . port gives first.
 */
const struct pc_rule *pc_ruleset_elem_rule(const struct pc_config *cfg, const struct pc_rule *first,
					   const struct nftnl_set_elem *e);

/* One element to attribute: first and elem as for pc_ruleset_elem_rule. */
struct pc_elem_owner {
	const struct pc_rule *first;
	const struct nftnl_set_elem *elem;
	const struct pc_rule *rule; /* out: what pc_ruleset_elem_rule gives */
};
/*
 * pc_ruleset_elem_rule for n elements in one go, in O((ports of all rules
 * + n) log) where one call each is O(rules) an element (status would be
 * quadratic). A first outside cfg->rules is its own answer. 0 or -ENOMEM.
 */
int pc_ruleset_elem_rules(const struct pc_config *cfg, struct pc_elem_owner *items, size_t n);

/*
 * Bans in O(bans): make the ban sets of rs, compiled from a configuration
 * with cfg's zones, hold cfg->bans as of now, exactly as a full compile of
 * cfg would, touching nothing else (the sets keep their names and ids, so
 * pc_nl_apply sends only their element changes). cfg must be validated;
 * its bans are read now and not kept. Returns 0, -EINVAL when rs does not
 * have the ban sets of cfg's zones, or -ENOMEM (rs unchanged on error).
 */
int pc_ruleset_bans_update(struct pc_ruleset *rs, const struct pc_config *cfg);
/* The plan's bans made again from its configuration's, as of now (what
 * pc_plan_eval decides by). 0 or -ENOMEM. */
int pc_plan_bans_refresh(struct pc_plan *plan);
/* rs's ban sets made current when they lag (rs->bans_from). 0 or -errno. */
int pc_ruleset_bans_sync(struct pc_ruleset *rs);

/* One ban's change, made in place by pc_plan_ban_edit. */
struct pc_ban_delta {
	uint8_t family;
	size_t set;              /* which scope and family: 2 * (zone + 1) + (IPv6), zone -1: every zone */
	struct pc_prefix region; /* the widest ban that holds it: the spans that may change */
	uint64_t now_ms;         /* the new elements' timeouts count from it */
	struct pc_plan_spans del, add; /* spans of that set taken out, put in */
	int open; /* the nets set's opening element: +1 to add (it had no span), -1 to delete */
	struct pc_ban_entry removed;   /* an unban's entry, which del may name */
};
/*
 * One ban of addr in zone (NULL: every zone) added, given the end expires,
 * or (unban) taken away, in O(bans) without sorting them: cfg->bans (the
 * plan's configuration) becomes what bans_compose would make of the bans
 * after it, the plan's spans of that ban set what pc_plan_build would make
 * of them, and *out says which spans went and came. Returns 1, 0 when an
 * unban finds no such ban, -EINVAL (no such zone) or -EAGAIN (a ban at
 * address 0, left to a full difference) with nothing changed, or -ENOMEM
 * (cfg changed: the plan's bans must then be made again).
 */
int pc_plan_ban_edit(struct pc_plan *plan, struct pc_config *cfg, const struct pc_prefix *addr,
		     const char *zone, uint64_t expires, bool unban, struct pc_ban_delta *out);
void pc_ban_delta_free(struct pc_ban_delta *dl);
struct pc_rule_append;
/*
 * The set elements of dl for rs (compiled from the plan pc_plan_ban_edit
 * changed): the ones to delete into del, to add into add, and rs marked to
 * catch up with cfg (rs->bans_from). -EAGAIN when an element to delete may
 * have lapsed in the kernel meanwhile (a full difference copes with that),
 * -EINVAL when rs lacks the set, -ENOMEM.
 */
int pc_ban_delta_elems(struct pc_ruleset *rs, const struct pc_config *cfg,
		       const struct pc_ban_delta *dl, struct pc_rule_append *del,
		       struct pc_rule_append *add);

/*
 * The panic ruleset: table inet portctl with input and output chains that
 * accept loopback and drop everything else, established connections too
 * (no conntrack preamble). On success *out owns it (pc_ruleset_free).
 * Returns 0 or -ENOMEM.
 */
int pc_ruleset_panic(struct pc_ruleset **out);

struct nftnl_set;

/* Set elements to add or delete, per set of a ruleset, and the port
 * segments they are (pc_rule_edit_prepare, pc_ban_delta_elems). */
struct pc_append_set {
	size_t obj;		/* the set in the ruleset's objs */
	struct nftnl_set *elems; /* owned: just the new elements, named as that set */
};

struct pc_append_port {
	size_t zone, entry, obj; /* plan zone, entry of its chain, ruleset set */
	int dir;		  /* enum pc_dir */
	struct pc_plan_port port;
};

struct pc_rule_append {
	struct pc_append_set *sets;
	size_t n_sets, cap_sets;
	struct pc_append_port *ports;
	size_t n_ports, cap_ports;
	size_t n_elems; /* elements in sets */
};

void pc_rule_append_free(struct pc_rule_append *app);

/* See pc_ruleset.shared. */
struct pc_shared_edit {
	struct pc_rule_append del, add;
};

/* One stretch of an entry's port segments, [from, to), made again. */
struct pc_edit_region {
	size_t zone, entry, from, to;
	int dir;
	struct pc_plan_port *pieces;
	size_t n_pieces;
};

/* An entry's run after the change: its first and last rule. */
struct pc_edit_head {
	size_t zone, entry;
	int dir;
	const struct pc_rule *first, *last;
	/* What the run's name counts after the change (it keeps its name). */
	const struct pc_rule *anchor, *anchor_last;
	size_t anchor_n, n_rules;
	/* A PAIRS run: the rule, whose ports' counts of rules change. */
	const struct pc_rule *paired;
};

/* An element of a PAIRS run's set that comes or goes: one prefix of a
 * span, in the set (by index in the ruleset) of its length and verdict. */
struct pc_pair_piece {
	size_t obj;
	bool del;
	uint8_t len;
	uint8_t addr[16];
	enum pc_verdict_kind verdict;
	const struct pc_rule *rule;
};

/* A region of an address run's spans of one family made again: the old
 * spans [from, to) replaced by pieces; the elements that differ, each
 * one's set (by index in the ruleset), deleted (an old span, by its index
 * among the run's spans) or added (a piece, by its index). A set that
 * loses an element is made again when next read whole (pc_ruleset_sync). */
struct pc_addr_edit {
	size_t zone, entry;
	int dir;
	uint8_t family;
	size_t from, to;
	struct pc_plan_span *pieces;
	size_t n_pieces;
	size_t *objs, *at;
	bool *dels;
	size_t n_objs, n_add, n_del;
	/* A PAIRS run's: the spans of one pair; its elements by prefix. */
	bool pair;
	struct pc_pair_key key;
	struct pc_pair_piece *pp;
	size_t n_pp, cap_pp;
};

/* One rule put into or taken out of a compiled configuration in place. */
struct pc_rule_edit {
	struct pc_rule_append del, add; /* the elements to send, deletes first */
	struct pc_edit_region *regions;
	size_t n_regions, cap_regions;
	struct pc_edit_head *heads;
	size_t n_heads, cap_heads;
	/* An address rule's regions of its run made again. */
	struct pc_addr_edit *addrs;
	size_t n_addrs, cap_addrs;
	const struct pc_rule *removed;
};

/*
 * A port-only rule r put into (remove false: r is in the configuration at
 * its place, the plan's pointers moved with pc_plan_rules_shift, the plan
 * does not have it yet) or taken out of (remove true) the port maps of its
 * chains, in O(change + rules of its run): the regions of the segments r
 * covers, made again from the run's rules exactly as pc_plan_build cuts
 * them, and the map elements that differ, touching neither plan nor rs.
 * An address-only rule likewise, put at the end of an address run or
 * taken from its end (edit->addrs): it decides only the addresses no rule
 * before it in the run does, O(its addresses) in the run's sets.
 * Returns 0, -EOPNOTSUPP when the change needs a full compile (r is of
 * neither kind, or is no run's: a run of its own, one it would split, a
 * place inside an address run, a set the run lacks or would lose), or
 * -ENOMEM.
 */
int pc_rule_edit_prepare(const struct pc_plan *plan, const struct pc_ruleset *rs,
			 const struct pc_rule *r, bool remove, struct pc_rule_edit *out);
/* The same in r's zones of the mask zones alone (bit k: its k-th zone;
 * UINT64_MAX: all), a port rule's (-EOPNOTSUPP for others). */
int pc_rule_edit_prepare_zones(const struct pc_plan *plan, const struct pc_ruleset *rs,
			       const struct pc_rule *r, bool remove, uint64_t zones,
			       struct pc_rule_edit *out);
/* Which zones of r, a rule of several, take it as elements alone (the
 * mask of pc_rule_edit_prepare_zones; 0: none): a rule that joins a big
 * run in one zone and makes an entry in another changes the big run by
 * elements, the other chain by pc_entry_edit_prepare_zones of the rest,
 * the elements riding on its ruleset (pc_rule_edit_onto). */
uint64_t pc_rule_elem_zones(const struct pc_plan *plan, const struct pc_ruleset *rs,
			    const struct pc_rule *r, bool remove);
/* Make plan and rs what a full compile after the change gives (a removed
 * rule is still in the configuration: the caller takes it out and moves
 * the pointers after it). 0 or -ENOMEM (then plan and rs are lost). */
int pc_rule_edit_commit(struct pc_plan *plan, struct pc_ruleset *rs, struct pc_rule_edit *ed);
void pc_rule_edit_free(struct pc_rule_edit *ed);
/*
 * A change of one chain's entries without compiling the rest: *out is old
 * with zone z's chain in direction dir made again from entry from to entry
 * to (the plan is as after the change; old had there the entries whose
 * first rules are old_firsts[0..n_old)), the rest of old shared: the
 * entries after are named as they were (pc_plan_entry_base). kept_tag:
 * non-NULL when the entry at `to` kept the sets of a run cut in two
 * (ch->kept), whose objects that rule still tells. blocks_kept: the
 * caller knows the blocks the chain is cut into are as old has them, none
 * beginning among the entries made again (so they are not compared).
 * Install it as a difference against old (the shared sets are not
 * compared), then pc_ruleset_adopt, or free it (pc_ruleset_free leaves old
 * whole). old's ban sets must be made whole first (pc_ruleset_bans_sync),
 * and its stale maps of the chain from entry from on
 * (pc_ruleset_ports_sync_entries): -EOPNOTSUPP otherwise; its other stale maps
 * stay stale, shared; -EOPNOTSUPP for what needs
 * more (a named set's rule), -ENOMEM. O(objects + the entries made).
 */
int pc_ruleset_chain_remake(const struct pc_ruleset *old, const struct pc_plan *plan, size_t z,
			    int dir, size_t from, size_t to,
			    const struct pc_rule *const *old_firsts, size_t n_old,
			    const struct pc_rule *kept_tag, bool blocks_kept, struct pc_ruleset **out);
/* After pc_ruleset_chain_remake of a change that cut a port run in two
 * (ch->cut) or joined two (ch->join): the maps of the run that stays in
 * rs (shared with old) lose the segments of the rules after the cut, or
 * gain the joined run's, as element deletes or adds (rs->shared) and
 * stale maps. A run cut or joined that kept the sets of its second part
 * (ch->kept): those lose and gain what differs, and their objects are
 * told by its first rule. 0, -EOPNOTSUPP (a range map it lacks), -ENOMEM. */
struct pc_plan_entry_change;
int pc_ruleset_runs_edit(struct pc_ruleset *rs, const struct pc_plan *plan,
		   const struct pc_plan_entry_change *ch);
/* next, made by pc_ruleset_chain_remake from prev, itself made so from the
 * ruleset in force (a rule of several zones, one chain after the other),
 * made as if from that one: what it shares with it, what it left out of
 * it. prev's shell is freed. prev may not have shared edits (cut, join):
 * they would be lost (-EOPNOTSUPP); next's stay. */
int pc_ruleset_fold(struct pc_ruleset *next, struct pc_ruleset *prev);
/*
 * Rule r as an entry of its own put into (remove: taken out of) the chain
 * of each of its zones in its direction, in place: the plan changed (one
 * pc_plan_entry_insert or _delete per zone), out->rs made from rs by a
 * pc_ruleset_chain_remake per zone, folded into one. rs's ban sets and the
 * chains' maps are made whole first. 0; -EOPNOTSUPP when it is no such
 * rule, or a zone's change would cut or join port runs of a rule of
 * several zones; -ENOMEM. On failure, pc_entry_edit_undo.
 */
struct pc_entry_edit {
	struct pc_ruleset *rs;
	struct pc_plan_entry_change *plan; /* one per zone, n_plan made */
	size_t n_plan;
};
int pc_entry_edit_prepare(struct pc_plan *plan, struct pc_ruleset *rs, const struct pc_rule *r,
			  bool remove, struct pc_entry_edit *out);
/* The same in r's zones of the mask zones alone (see
 * pc_rule_edit_prepare_zones). */
int pc_entry_edit_prepare_zones(struct pc_plan *plan, struct pc_ruleset *rs,
				const struct pc_rule *r, bool remove, uint64_t zones,
				struct pc_entry_edit *out);
/* A port rule of several zones whose runs take it as elements in some
 * (pc_rule_elem_zones) and not in the others: *ed for those, *ec for
 * these, ed to ride on ec->rs (pc_rule_edit_onto, after any other remake
 * folded into it). 0; -EOPNOTSUPP when no zone takes it as elements, or
 * ec's ruleset has shared edits of its own (a run cut or joined); -ENOMEM.
 * On failure both are undone. */
int pc_rule_edit_split(struct pc_plan *plan, struct pc_ruleset *rs, const struct pc_rule *r,
		       bool remove, struct pc_rule_edit *ed, struct pc_entry_edit *ec);
/* The plan as it was, out->rs freed. */
void pc_entry_edit_undo(struct pc_plan *plan, struct pc_entry_edit *e);
/* After pc_ruleset_adopt of e->rs: the plan's records freed. */
void pc_entry_edit_free(struct pc_entry_edit *e);
/*
 * The entries of rules[0..n), each a rule of its own (a logged rule whose
 * line moved: its log prefix names it), made again from the plan in every
 * chain of its zones: *out made from base by a pc_ruleset_chain_remake per
 * chain, folded into one (base's ban sets made whole first; a base itself
 * made so, not installed, takes *out by pc_ruleset_fold), base's shared
 * edits (a cut or joined run) moved to *out. 0;
 * -EOPNOTSUPP for a rule that is no entry of its own, or one a remake
 * cannot make; -ENOMEM. O(n * objects).
 */
int pc_ruleset_rules_remake(const struct pc_plan *plan, struct pc_ruleset *base,
			    const struct pc_rule *const *rules, size_t n, struct pc_ruleset **out);
/* ed, prepared on old, rides on rs, made from old by
 * pc_ruleset_rules_remake: its objects renamed as rs has them, its
 * element changes rs->shared, which a difference against old sends with
 * rs's own. pc_rule_edit_back after the install, before
 * pc_ruleset_adopt and pc_rule_edit_commit on rs. 0, -EOPNOTSUPP when rs
 * left out one of ed's objects, -ENOMEM (ed is then let go). */
int pc_rule_edit_onto(struct pc_rule_edit *ed, const struct pc_ruleset *old,
		      struct pc_ruleset *rs);
void pc_rule_edit_back(struct pc_rule_edit *ed, struct pc_ruleset *rs);
/* rs, made from old by pc_ruleset_chain_remake, installed: it owns every
 * object now (the ones left out are freed), old's shell is freed. */
void pc_ruleset_adopt(struct pc_ruleset *rs, struct pc_ruleset *old);
/* rs's stale port maps made again from its plan. 0 or -ENOMEM. */
int pc_ruleset_ports_sync(struct pc_ruleset *rs);
/* The same for the stale maps of zone z's chain in direction dir of the
 * entries [from, upto) alone (those a pc_ruleset_chain_remake from there
 * drops; upto SIZE_MAX: to the chain's end). */
int pc_ruleset_ports_sync_entries(struct pc_ruleset *rs, size_t z, int dir, size_t from,
				  size_t upto);
/* Both: rs whole, where changes in place left it behind. 0 or -errno. */
int pc_ruleset_sync(struct pc_ruleset *rs);

/*
 * The rules pc_config_rule_put or _take moved: make plan's and rs's
 * pointers to them follow, in O(plan).
 */
void pc_plan_rules_shift(struct pc_plan *plan, struct pc_ruleset *rs,
			 const struct pc_rules_moved *moved);

/*
 * Print the ruleset as libnftnl's text of each object: the table, the sets
 * with their elements, then each chain followed by its rules. For
 * "portctld --check" and tests; two compilations of one configuration
 * print the same text. Returns 0 or -EIO.
 */
int pc_ruleset_print(FILE *out, const struct pc_ruleset *rs);
/* The same objects in nft's syntax (table, sets with their elements,
 * chains, rules with their comments), as "nft list ruleset" shows them:
 * portctld --check. 0 or -EIO. */
int pc_ruleset_print_nft(FILE *out, const struct pc_ruleset *rs);

#endif
