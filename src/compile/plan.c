/* Building the plan: rules grouped per zone and direction, runs of simple
 * rules merged into first-match-preserving port maps and address maps. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compile-internal.h"
#include "portctl/util.h"

const enum pc_proto pc_protos_all[3] = { PC_PROTO_TCP, PC_PROTO_UDP, PC_PROTO_SCTP };

uint8_t proto_l4(enum pc_proto p)
{
	switch (p) {
	case PC_PROTO_TCP:
		return IPPROTO_TCP;
	case PC_PROTO_UDP:
		return IPPROTO_UDP;
	case PC_PROTO_SCTP:
		return IPPROTO_SCTP;
	}
	return 0;
}

enum pc_proto l4_proto(uint8_t l4proto)
{
	switch (l4proto) {
	case IPPROTO_TCP:
		return PC_PROTO_TCP;
	case IPPROTO_UDP:
		return PC_PROTO_UDP;
	case IPPROTO_SCTP:
		return PC_PROTO_SCTP;
	}
	return 0;
}

bool rule_is_nat(const struct pc_rule *r)
{
	return r->action == PC_FORWARD || r->action == PC_MASQUERADE;
}

enum pc_verdict_kind action_verdict(enum pc_action a)
{
	switch (a) {
	case PC_DENY:
		return PC_VERDICT_DROP;
	case PC_REJECT:
		return PC_VERDICT_REJECT;
	case PC_ALLOW:
	case PC_LIMIT:
	case PC_FORWARD: /* a forward implies its accept */
	case PC_MASQUERADE:
		break;
	}
	return PC_VERDICT_ACCEPT;
}

const char *pc_verdict_kind_name(enum pc_verdict_kind v)
{
	switch (v) {
	case PC_VERDICT_DROP:
		return "drop";
	case PC_VERDICT_REJECT:
		return "reject";
	case PC_VERDICT_ACCEPT:
		break;
	}
	return "accept";
}

bool prefixes_any(const struct pc_prefix *p, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		if (p[i].family == 0)
			return true;
	}
	return false;
}

/* Port-only rules whose verdict is all they do can share one port map. */
bool rule_is_port_only(const struct pc_rule *r)
{
	return r->n_ports > 0 && r->n_sports == 0 && r->n_from == 0 && r->n_to == 0 &&
	       !r->from_set_name.name && !r->to_set_name.name && !r->rate.set && !r->log &&
	       r->action != PC_LIMIT;
}

bool rule_addr_scoped(const struct pc_rule *r)
{
	return r->n_ports == 1 && !(r->ports[0].protos & (r->ports[0].protos - 1));
}

/* 1: the rule names sources alone (of one family or both, no
 * destination), 2: destinations alone, 0: both or neither. */
static int addr_only_side(const struct pc_rule *r)
{
	if (r->n_to == 0 && !prefixes_any(r->from, r->n_from))
		return 1;
	if (r->n_from == 0 && !prefixes_any(r->to, r->n_to))
		return 2;
	return 0;
}

static bool prefixes_of(const struct pc_prefix *p, size_t n, uint8_t family)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].family == family)
			return true;
	return false;
}

/* A destination a source of its family can reach: one of the rule's pairs
 * (the others match no packet, as in the rule's own kernel rules). */
static bool dest_live(const struct pc_rule *r, size_t d)
{
	return prefixes_of(r->from, r->n_from, r->to[d].family);
}

/* Sources toward destinations: 4 networks of any family and length, or
 * hosts that an allow rule names (a network of the full length: allow
 * rules toward hosts and networks are one run); 3 another rule's hosts
 * alone ("from NET to HOST"); 0 neither. Each destination with a source
 * of its family is a pair of its own (rule_pairs): how many, into *live. */
static int rule_toward(const struct pc_rule *r, size_t *live)
{
	bool hosts = true;

	*live = 0;
	if (r->n_from == 0 || r->n_to == 0 || prefixes_any(r->from, r->n_from) ||
	    prefixes_any(r->to, r->n_to))
		return 0;
	for (size_t d = 0; d < r->n_to; d++) {
		hosts &= r->to[d].len == (r->to[d].family == AF_INET ? 32 : 128);
		*live += dest_live(r, d);
	}
	if (!*live)
		return 0;
	return hosts && r->action != PC_ALLOW ? 3 : 4;
}

int rule_pairs_side(const struct pc_rule *r)
{
	size_t n = 0, live;
	int toward;

	if (r->n_ports == 0 || r->n_sports > 0 || r->l4proto || r->rate.set || r->log ||
	    r->action == PC_LIMIT || rule_is_nat(r) || r->from_set_name.name || r->to_set_name.name)
		return 0;
	for (size_t i = 0; i < r->n_ports; i++) {
		if (r->ports[i].lo != r->ports[i].hi)
			return 0;
		for (size_t p = 0; p < ARRAY_SIZE(pc_protos_all); p++)
			n += !!(r->ports[i].protos & pc_protos_all[p]);
	}
	toward = rule_toward(r, &live);
	if (n * (toward ? live : 1) > PC_RULE_PAIRS_MAX)
		return 0;
	return toward ? toward : addr_only_side(r);
}

int entry_pairs_side(const struct pc_plan_entry *e)
{
	return e->to_net ? 4 : e->to_host ? 3 : e->match_dst ? 2 : 1;
}

/* Would rules a and b, next to each other, be one PAIRS run: of one side,
 * and toward networks, of one verdict (networks and hosts of any family
 * and length: whichever of the run's lookups matches gives that verdict,
 * so they commute however the networks nest). An equivalence, as the
 * in-place paths need ("networks that do not overlap" or "one length per
 * family" are not transitive). */
bool pairs_join(const struct pc_rule *a, const struct pc_rule *b)
{
	int side = rule_pairs_side(a);

	if (!side || rule_pairs_side(b) != side)
		return false;
	return side != 4 || action_verdict(a->action) == action_verdict(b->action);
}

size_t pair_dlens_always(const struct pc_plan_entry *e, uint8_t family, unsigned out[4])
{
	size_t n = 0;

	if (!e->to_net)
		return 0;
	for (unsigned len = 0; len <= (family == AF_INET ? 32u : 128u); len++)
		if (pair_len_always(family, len, true) && n < 4)
			out[n++] = len;
	return n;
}

bool pair_src_always(const struct pc_plan_entry *e, uint8_t family, unsigned len,
		     enum pc_verdict_kind v)
{
	return pair_len_always(family, len, run_has_all_sets(e->anchor_n)) &&
	       (!e->to_net || v == action_verdict(e->first->action));
}

bool pair_set_always(const struct pc_plan_entry *e, uint8_t family, unsigned dlen, unsigned len,
		     enum pc_verdict_kind v)
{
	unsigned dlens[4];
	size_t n = pair_dlens_always(e, family, dlens);
	bool dlen_always = !e->to_net;

	for (size_t i = 0; i < n; i++)
		dlen_always |= dlens[i] == dlen;
	return dlen_always && pair_src_always(e, family, len, v);
}

bool rule_addr_paired(const struct pc_rule *r)
{
	return rule_pairs_side(r) != 0;
}

size_t rule_pairs(const struct pc_rule *r, struct pc_pair_key out[PC_RULE_PAIRS_MAX])
{
	size_t n = 0, live;
	int toward = rule_toward(r, &live);
	size_t nd = toward ? r->n_to : 1;

	for (size_t i = 0; i < r->n_ports; i++)
		for (size_t p = 0; p < ARRAY_SIZE(pc_protos_all); p++)
			for (size_t d = 0; d < nd; d++) {
				struct pc_pair_key k = { .l4proto = proto_l4(pc_protos_all[p]),
							 .port = r->ports[i].lo };
				bool seen = false;

				if (!(r->ports[i].protos & pc_protos_all[p]))
					continue;
				if (toward) {
					if (!dest_live(r, d))
						continue;
					k.dfamily = r->to[d].family;
					memcpy(k.dhost, r->to[d].addr, 16);
					k.dlen = toward == 4 ? r->to[d].len : 0;
				}
				for (size_t m = 0; m < n; m++)
					seen |= !pair_key_cmp(&out[m], &k);
				if (!seen && n < PC_RULE_PAIRS_MAX)
					out[n++] = k;
			}
	return n;
}

bool rule_names_pair(const struct pc_rule *r, const struct pc_pair_key *key)
{
	struct pc_pair_key keys[PC_RULE_PAIRS_MAX];
	size_t n = rule_addr_paired(r) ? rule_pairs(r, keys) : 0;

	for (size_t i = 0; i < n; i++)
		if (!pair_key_cmp(&keys[i], key))
			return true;
	return false;
}

/* 1: a source-address rule, 2: destination, 0: neither; of no port, or
 * of one (rule_addr_scoped). */
int rule_addr_side(const struct pc_rule *r)
{
	if ((r->n_ports > 0 && !rule_addr_scoped(r)) || r->n_sports > 0 || r->l4proto ||
	    r->rate.set || r->log || r->action == PC_LIMIT || r->from_set_name.name ||
	    r->to_set_name.name)
		return 0;
	return addr_only_side(r);
}

int rule_addr_items(const struct pc_rule *r, bool dst, uint8_t family, uint32_t prio,
		    struct span_item **items, size_t *n, size_t *cap)
{
	const struct pc_prefix *pf = dst ? r->to : r->from;
	size_t np = dst ? r->n_to : r->n_from;

	for (size_t i = 0; i < np; i++) {
		struct span_item *it;

		if (pf[i].family != family)
			continue;
		it = PC_ARRAY_PUSH(*items, *n, *cap);
		if (!it)
			return -ENOMEM;
		*it = (struct span_item){ .prio = prio, .verdict = action_verdict(r->action),
					  .rule = r };
		key_from_prefix(&pf[i], it->lo, it->hi);
	}
	return 0;
}

int rule_port_items(const struct pc_rule *r, uint32_t prio, struct span_item **items, size_t *n,
		    size_t *cap)
{
	for (size_t i = 0; i < r->n_ports; i++) {
		const struct pc_port_range *pr = &r->ports[i];

		for (size_t p = 0; p < ARRAY_SIZE(pc_protos_all); p++) {
			struct span_item *it;

			if (!(pr->protos & pc_protos_all[p]))
				continue;
			it = PC_ARRAY_PUSH(*items, *n, *cap);
			if (!it)
				return -ENOMEM;
			it->lo[0] = it->hi[0] = proto_l4(pc_protos_all[p]);
			it->lo[1] = pr->lo >> 8;
			it->lo[2] = pr->lo & 0xff;
			it->hi[1] = pr->hi >> 8;
			it->hi[2] = pr->hi & 0xff;
			it->prio = prio;
			it->verdict = action_verdict(r->action);
			it->rule = r;
		}
	}
	return 0;
}

static void entry_free(struct pc_plan_entry *e);

/* Whether two address rules' ports are the same scope (none, or one port
 * of one protocol). */
static bool scope_same(const struct pc_rule *a, const struct pc_rule *b)
{
	if (a->n_ports != b->n_ports)
		return false;
	return a->n_ports == 0 || (a->ports[0].protos == b->ports[0].protos &&
				   a->ports[0].lo == b->ports[0].lo &&
				   a->ports[0].hi == b->ports[0].hi);
}

/* An entry's address side (rule_addr_side) and the rule giving its scope:
 * an address run, or a scoped rule alone, which runs on with the next of
 * its scope; 0 for any other entry. */
static int entry_addr_side(const struct pc_plan_entry *e, const struct pc_rule **scope)
{
	*scope = e->first;
	if (e->kind == PC_ENTRY_ADDRS)
		return e->match_dst ? 2 : 1;
	return e->kind == PC_ENTRY_RULE && rule_addr_scoped(e->first) ? rule_addr_side(e->first)
								       : 0;
}

/* The length of an array of a run that changes in place (its ports, its
 * pairs) made for n: room for the changes that follow a start or a reload,
 * whose first would otherwise copy all 10,000 of a big run's. */
static size_t with_room(size_t n)
{
	return n + n / 8 + 4;
}

static int entry_add_ports(struct pc_plan_entry *e, const struct pc_rule *const *rules, size_t n)
{
	struct pc_plan_spans spans = { .width = 3 };
	_cleanup_free_ struct span_item *items = NULL;
	size_t n_items = 0, cap = 0;
	int r = 0;

	for (size_t k = 0; r >= 0 && k < n; k++)
		r = rule_port_items(rules[k], (uint32_t)k, &items, &n_items, &cap);
	if (r >= 0)
		r = spans_flatten(items, n_items, &spans);
	if (r >= 0) {
		e->cap_ports = with_room(spans.n);
		e->ports = calloc(e->cap_ports, sizeof(*e->ports));
		if (!e->ports)
			r = -ENOMEM;
	}
	for (size_t i = 0; r >= 0 && i < spans.n; i++) {
		const struct pc_plan_span *s = &spans.items[i];

		e->ports[i] = (struct pc_plan_port){
			.l4proto = s->lo[0],
			.lo = (uint16_t)(s->lo[1] << 8 | s->lo[2]),
			.hi = (uint16_t)(s->hi[1] << 8 | s->hi[2]),
			.verdict = s->verdict,
			.rule = s->rule,
		};
	}
	if (r >= 0)
		e->n_ports = spans.n;
	spans_free(&spans);
	return r;
}

/* The addresses of rules (of one side, dst or not), first match in their
 * order, as disjoint spans per family (of family `only` alone, if not 0). */
static int addr_spans_build(struct pc_plan_spans *addr4, struct pc_plan_spans *addr6,
			    const struct pc_rule *const *rules, size_t n, bool dst, uint8_t only)
{
	addr4->width = 4;
	addr6->width = 16;
	for (int fam = 0; fam < 2; fam++) {
		uint8_t family = fam == 0 ? AF_INET : AF_INET6;
		struct pc_plan_spans *out = fam == 0 ? addr4 : addr6;
		_cleanup_free_ struct span_item *items = NULL;
		size_t n_items = 0, cap = 0;
		int r = 0;

		if (only && only != family)
			continue;
		for (size_t k = 0; r >= 0 && k < n; k++)
			r = rule_addr_items(rules[k], dst, family, (uint32_t)k, &items, &n_items,
					    &cap);
		if (r >= 0)
			r = spans_flatten(items, n_items, out);
		if (r < 0)
			return r;
	}
	return 0;
}

static int entry_add_addrs(struct pc_plan_entry *e, const struct pc_rule *const *rules, size_t n)
{
	return addr_spans_build(&e->addr4, &e->addr6, rules, n, e->match_dst, 0);
}

int pair_key_cmp(const struct pc_pair_key *a, const struct pc_pair_key *b)
{
	if (a->l4proto != b->l4proto)
		return a->l4proto < b->l4proto ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if (a->dfamily != b->dfamily)
		return a->dfamily < b->dfamily ? -1 : 1;
	if (a->dlen != b->dlen)
		return a->dlen < b->dlen ? -1 : 1;
	return a->dfamily ? memcmp(a->dhost, b->dhost, a->dfamily == AF_INET ? 4 : 16) : 0;
}

/* Where a pair of key is or would go in e->pairs. */
size_t pairs_at(const struct pc_plan_entry *e, const struct pc_pair_key *key)
{
	size_t a = 0, b = e->n_pairs;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (pair_key_cmp(&e->pairs[m].key, key) < 0)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

struct pc_plan_pair *pairs_find(const struct pc_plan_entry *e, const struct pc_pair_key *key)
{
	size_t at = pairs_at(e, key);

	return at < e->n_pairs && !pair_key_cmp(&e->pairs[at].key, key) ? &e->pairs[at] : NULL;
}

void pair_free(struct pc_plan_pair *p)
{
	spans_free(&p->addr4);
	spans_free(&p->addr6);
}

/* A run's rule in its pair's place: the key, then run order. */
struct pair_rule {
	struct pc_pair_key key;
	size_t at;
	const struct pc_rule *rule;
};

static int pair_rule_cmp(const void *a, const void *b)
{
	const struct pair_rule *x = a, *y = b;
	int c = pair_key_cmp(&x->key, &y->key);

	if (c)
		return c;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* A run of address rules of a few ports each: the ports it names, each
 * with the spans of its rules naming it (sorted by port, so that each
 * port's rules are read once). */
static int entry_add_pairs(struct pc_plan_entry *e, const struct pc_rule *const *rules, size_t n)
{
	_cleanup_free_ struct pair_rule *by = calloc(n * PC_RULE_PAIRS_MAX, sizeof(*by));
	_cleanup_free_ const struct pc_rule **slice = calloc(n, sizeof(*slice));
	size_t n_by = 0;
	int r = 0;

	if (!by || !slice)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++) {
		struct pc_pair_key keys[PC_RULE_PAIRS_MAX];
		size_t m = rule_pairs(rules[k], keys);

		for (size_t i = 0; i < m; i++)
			by[n_by++] = (struct pair_rule){ .key = keys[i], .at = k,
							 .rule = rules[k] };
	}
	e->cap_pairs = with_room(n_by);
	e->pairs = calloc(e->cap_pairs, sizeof(*e->pairs));
	if (!e->pairs)
		return -ENOMEM;
	qsort(by, n_by, sizeof(*by), pair_rule_cmp);
	for (size_t i = 0, j; r >= 0 && i < n_by; i = j) {
		struct pc_plan_pair *p = &e->pairs[e->n_pairs++];

		for (j = i; j < n_by && !pair_key_cmp(&by[j].key, &by[i].key); j++)
			slice[j - i] = by[j].rule;
		*p = (struct pc_plan_pair){ .key = by[i].key, .n_rules = j - i };
		/* The port's spans: its rules in run order, first match; toward
		 * a destination, its family's sources alone. */
		r = addr_spans_build(&p->addr4, &p->addr6, slice, j - i, e->match_dst,
				     p->key.dfamily);
	}
	return r;
}

const char *const dir_names[PC_N_DIRS] = { "in", "out", "fwd" };

static uint64_t text_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (s = s ? s : ""; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

/* A file's name without its directory: the names of a run's sets stay
 * where the files are installed (a second file of that name among the
 * chain's runs gets "d1"). */
static const char *file_base(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

static bool same_file(const struct pc_rule *a, const struct pc_rule *b)
{
	return a->loc.file == b->loc.file ||
	       (a->loc.file && b->loc.file && streq(a->loc.file, b->loc.file));
}

/* The shipped defaults (defaults.rules, last of all) join the port run
 * before them only when no block of it names it: a run a big file names
 * ends before them, so that what the CLI appends after it (a rule of its
 * own before the defaults) cuts no run in two. A small run takes them, so
 * that the first "allow" of a small configuration joins theirs. */
static bool rule_is_default(const struct pc_rule *r)
{
	return r->origin == PC_ORIGIN_DEFAULTS;
}

static bool rules_big_block(const struct pc_rule *const *rules, size_t n)
{
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && same_file(rules[j], rules[i]); j++)
			;
		if (j - i > BLOCK_NAMES_RUN)
			return true;
	}
	return false;
}

/* A run's anchor from its rules in chain order: the first rule of the
 * longest block of one file's rules (the last of equals) if it is longer
 * than BLOCK_NAMES_RUN, else of the last block (defaults.rules' "allow
 * ssh" after 90-portctl.rules, in the default zone). The run is named by
 * that block's file: rules that come and go in it or in smaller files
 * leave the name; a big file growing or shrinking past the threshold, or
 * a new last file of a small run, renames it. */
static void run_anchor_set(struct pc_plan_entry *e, const struct pc_rule *const *rules, size_t n)
{
	size_t best = 0, best_n = 0, last_n;

	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && same_file(rules[j], rules[i]); j++)
			;
		if (j - i >= best_n) {
			best = i;
			best_n = j - i;
		}
	}
	if (best_n <= BLOCK_NAMES_RUN) {
		for (last_n = 1; last_n < n && same_file(rules[n - 1 - last_n], rules[n - 1]);
		     last_n++)
			;
		best = n - last_n;
		best_n = last_n;
	}
	e->anchor = rules[best];
	e->anchor_last = rules[best + best_n - 1];
	e->anchor_n = best_n;
	e->n_rules = n;
	e->name_hash = text_hash(file_base(e->anchor->loc.file));
}

static const struct pc_rule *chain_prev(const struct pc_plan *plan, size_t z, int dir,
					const struct pc_rule *p, const struct pc_rule *lo)
{
	for (const struct pc_rule *q = p - 1; (uintptr_t)q >= (uintptr_t)lo; q--)
		if (rule_in_chain(plan, q, z, dir))
			return q;
	return NULL;
}

static const struct pc_rule *chain_next(const struct pc_plan *plan, size_t z, int dir,
					const struct pc_rule *p, const struct pc_rule *hi)
{
	for (const struct pc_rule *q = p + 1; (uintptr_t)q <= (uintptr_t)hi; q++)
		if (rule_in_chain(plan, q, z, dir))
			return q;
	return NULL;
}

/* The anchor of the chain's rules in [first, last] but skip, walked. */
static int run_anchor_walk(const struct pc_plan *plan, size_t z, int dir,
			   const struct pc_rule *first, const struct pc_rule *last,
			   const struct pc_rule *skip, struct pc_plan_entry *e)
{
	_cleanup_free_ const struct pc_rule **v = NULL;
	size_t n = 0, cap = 0;

	for (const struct pc_rule *p = first; (uintptr_t)p <= (uintptr_t)last; p++) {
		const struct pc_rule **slot;

		if (p == skip || !rule_in_chain(plan, p, z, dir))
			continue;
		slot = PC_ARRAY_PUSH(v, n, cap);
		if (!slot)
			return -ENOMEM;
		*slot = p;
	}
	if (!n)
		return -EOPNOTSUPP;
	run_anchor_set(e, v, n);
	return 0;
}

static int name_order(const void *a, const void *b)
{
	const struct pc_plan_entry *const *x = a, *const *y = b;

	if ((*x)->kind != (*y)->kind)
		return (*x)->kind < (*y)->kind ? -1 : 1;
	if (entry_name(*x) != entry_name(*y))
		return entry_name(*x) < entry_name(*y) ? -1 : 1;
	return (*x > *y) - (*x < *y);
}

/* name_nth of every entry: how many before it have its kind and hash. */
static void chain_names(struct pc_plan_chain *c)
{
	_cleanup_free_ struct pc_plan_entry **v = calloc(c->n_entries + 1, sizeof(*v));

	if (!v) {
		/* Out of memory, and perhaps undoing a change: the slow way. */
		for (size_t e = 0; e < c->n_entries; e++) {
			struct pc_plan_entry *x = &c->entries[e];

			x->name_nth = 0;
			for (size_t i = 0; i < e; i++)
				x->name_nth += c->entries[i].kind == x->kind &&
					       entry_name(&c->entries[i]) == entry_name(x);
		}
		return;
	}
	for (size_t e = 0; e < c->n_entries; e++)
		v[e] = &c->entries[e];
	if (c->n_entries > 1)
		qsort(v, c->n_entries, sizeof(*v), name_order);
	for (size_t i = 0; i < c->n_entries; i++)
		v[i]->name_nth = i > 0 && v[i - 1]->kind == v[i]->kind &&
						 entry_name(v[i - 1]) == entry_name(v[i])
					 ? v[i - 1]->name_nth + 1
					 : 0;
}

/* The names a change of entries can move: those of the entries that went
 * and came. Past a few, every name is made again. */
#define NAME_KEYS_MAX 8

struct name_keys {
	struct {
		enum pc_entry_kind kind;
		uint64_t hash;
	} k[NAME_KEYS_MAX];
	size_t n;
	bool all;
};

static void name_keys_add(struct name_keys *ks, const struct pc_plan_entry *v, size_t n)
{
	for (size_t i = 0; i < n && !ks->all; i++) {
		size_t j = 0;

		while (j < ks->n && !(ks->k[j].kind == v[i].kind && ks->k[j].hash == entry_name(&v[i])))
			j++;
		if (j < ks->n)
			continue;
		if (ks->n == NAME_KEYS_MAX) {
			ks->all = true;
			break;
		}
		ks->k[ks->n].kind = v[i].kind;
		ks->k[ks->n++].hash = entry_name(&v[i]);
	}
}

/* A name's key in a chain's count of names (pc_plan_chain.names): kind
 * and entry_name; two names sharing one only make a count larger, which
 * asks for the pass (names_own). */
static uint64_t name_key(enum pc_entry_kind kind, uint64_t name)
{
	return name ^ ((uint64_t)kind + 1) * 0x9e3779b97f4a7c15ull;
}

/* The names of v[0, n) counted in (by = 1) or out (by = -1). 0, -ENOMEM,
 * or -EINVAL for a name not counted (the count is wrong). */
static int name_counts_add(struct pc_keycount *t, const struct pc_plan_entry *v, size_t n, int by)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < n; i++)
		r = pc_keycount_add(t, name_key(v[i].kind, entry_name(&v[i])), by);
	return r;
}

static void chain_names_forget(struct pc_plan_chain *c)
{
	if (c->names)
		pc_keycount_free(c->names);
	free(TAKE_PTR(c->names));
}

/* c's names counted anew. */
static int chain_names_count(struct pc_plan_chain *c)
{
	chain_names_forget(c);
	c->names = calloc(1, sizeof(*c->names));
	if (!c->names || name_counts_add(c->names, c->entries, c->n_entries, 1) < 0) {
		chain_names_forget(c);
		return -ENOMEM;
	}
	return 0;
}

/* c's names counted as its entries v[0, n) go (by = -1) or come (1); on
 * a failure not counted: counted anew when asked. */
static void chain_names_follow(struct pc_plan_chain *c, const struct pc_plan_entry *v, size_t n,
			       int by)
{
	if (c->names && name_counts_add(c->names, v, n, by) < 0)
		chain_names_forget(c);
}

/* chain_names for the entries named by ks alone: one pass, no sort. */
static void chain_names_of(struct pc_plan_chain *c, const struct name_keys *ks)
{
	uint32_t seen[NAME_KEYS_MAX] = { 0 };

	if (ks->all) {
		chain_names(c);
		return;
	}
	for (size_t e = 0; e < c->n_entries; e++) {
		struct pc_plan_entry *x = &c->entries[e];

		for (size_t j = 0; j < ks->n; j++)
			if (ks->k[j].kind == x->kind && ks->k[j].hash == entry_name(x)) {
				x->name_nth = seen[j]++;
				break;
			}
	}
}

/* Rules of r's file next to r among the chain's in [lo, hi], r not counted. */
static size_t block_around(const struct pc_plan *plan, size_t z, int dir, const struct pc_rule *r,
			   const struct pc_rule *lo, const struct pc_rule *hi)
{
	size_t n = 0;

	for (const struct pc_rule *q = chain_prev(plan, z, dir, r, lo); q && same_file(q, r);
	     q = chain_prev(plan, z, dir, q, lo))
		n++;
	for (const struct pc_rule *q = chain_next(plan, z, dir, r, hi); q && same_file(q, r);
	     q = chain_next(plan, z, dir, q, hi))
		n++;
	return n;
}

int run_edit_keeps_name(const struct pc_plan *plan, size_t z, int dir,
			const struct pc_plan_entry *e, const struct pc_rule *r, bool remove,
			struct run_count *out)
{
	const struct pc_rule *prev = chain_prev(plan, z, dir, r, e->first);
	const struct pc_rule *next = chain_next(plan, z, dir, r, e->last);
	size_t others = e->n_rules - e->anchor_n, n;
	bool longest = e->anchor_n > BLOCK_NAMES_RUN; /* else the last block names it */
	bool in_block = same_file(r, e->anchor) && (uintptr_t)r >= (uintptr_t)e->anchor &&
			(uintptr_t)r <= (uintptr_t)e->anchor_last;

	*out = (struct run_count){ .anchor = e->anchor, .anchor_last = e->anchor_last,
				   .anchor_n = e->anchor_n,
				   .n_rules = remove ? e->n_rules - 1 : e->n_rules + 1 };
	/* Two blocks of one file become one, or one becomes two. */
	if (prev && next && same_file(prev, next) && !same_file(prev, r))
		return 0;
	if (remove) {
		if (!in_block)
			return 1; /* another block shrinks */
		/* The naming block shrinks: it must stay the one that names
		 * the run (or the run is made again, to tell). */
		if (e->anchor_n == 1 ||
		    (longest && (e->anchor_n - 1 <= others || e->anchor_n - 1 <= BLOCK_NAMES_RUN)))
			return 0;
		out->anchor_n--;
		if (r == e->anchor)
			out->anchor = next;
		if (r == e->anchor_last)
			out->anchor_last = prev;
		return 1;
	}
	if (same_file(r, e->anchor) &&
	    (in_block || prev == e->anchor_last || next == e->anchor)) {
		out->anchor_n++;
		if (next == e->anchor)
			out->anchor = r;
		if (prev == e->anchor_last)
			out->anchor_last = r;
		return 1;
	}
	if (!longest && prev == e->last)
		return 0; /* a new last block */
	/* Another block grows: too short to name the run, it leaves it. */
	if (others + 1 <= BLOCK_NAMES_RUN || (longest && others + 1 < e->anchor_n))
		return 1;
	n = block_around(plan, z, dir, r, e->first, e->last) + 1;
	if (!longest)
		return n <= BLOCK_NAMES_RUN;
	return !(n > e->anchor_n || (n == e->anchor_n && (uintptr_t)r > (uintptr_t)e->anchor));
}

const char *entry_file(const struct pc_plan_entry *e)
{
	return e->last && e->last->loc.file ? e->last->loc.file : "";
}

static struct small_runs_file *small_runs_find(const struct small_runs *s, const char *file)
{
	/* A file's entries come together: its last counted first. */
	for (size_t i = s->n_files; i-- > 0;)
		if (s->files[i].file == file || streq(s->files[i].file, file))
			return &s->files[i];
	return NULL;
}

static int small_runs_add(struct small_runs *s, const struct pc_plan_entry *e)
{
	const char *file;
	struct small_runs_file *f;

	/* Before its file: that reads the entry's rule, a cache miss each
	 * in a chain of 10,000 entries. */
	if (!run_small(e->kind, e->n_rules))
		return 0;
	file = entry_file(e);
	f = small_runs_find(s, file);
	if (!f) {
		f = PC_ARRAY_PUSH(s->files, s->n_files, s->cap_files);
		if (!f)
			return -ENOMEM;
		*f = (struct small_runs_file){ .file = file };
	}
	f->n++;
	return 0;
}

static void small_runs_remove(struct small_runs *s, const struct pc_plan_entry *e)
{
	struct small_runs_file *f = run_small(e->kind, e->n_rules) ? small_runs_find(s, entry_file(e))
								   : NULL;

	if (f && --f->n == 0) {
		memmove(f, f + 1, (size_t)(&s->files[s->n_files] - (f + 1)) * sizeof(*f));
		s->n_files--;
	}
}

int small_runs_follow(struct small_runs *s, const struct pc_plan_entry *v, size_t n, int by)
{
	int r = 0;

	for (size_t i = 0; s->cut && r >= 0 && i < n; i++)
		if (by > 0)
			r = small_runs_add(s, &v[i]);
		else
			small_runs_remove(s, &v[i]);
	return r;
}

int small_runs_count(const struct pc_plan_chain *c, bool cut, size_t skip_from, size_t skip_to,
		     struct small_runs *s)
{
	int r = 0;

	*s = (struct small_runs){ .cut = cut };
	for (size_t e = 0; cut && r >= 0 && e < c->n_entries; e++)
		if (e < skip_from || e >= skip_to)
			r = small_runs_add(s, &c->entries[e]);
	return r;
}

int small_runs_copy(const struct small_runs *s, struct small_runs *out)
{
	*out = (struct small_runs){ .cut = s->cut, .n_files = s->n_files, .cap_files = s->n_files };
	if (!s->n_files)
		return 0;
	out->files = malloc(s->n_files * sizeof(*out->files));
	if (!out->files)
		return -ENOMEM;
	memcpy(out->files, s->files, s->n_files * sizeof(*out->files));
	return 0;
}

void small_runs_free(struct small_runs *s)
{
	free(s->files);
	*s = (struct small_runs){ 0 };
}

/* The small runs of the files with SMALL_RUNS_MAX or fewer, together. */
static size_t small_runs_light(const struct small_runs *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_files; i++)
		n += s->files[i].n <= SMALL_RUNS_MAX ? s->files[i].n : 0;
	return n;
}

bool small_runs_file_by_rule(const struct small_runs *s, const char *file)
{
	const struct small_runs_file *f = s->cut ? small_runs_find(s, file) : NULL;

	return f && (f->n > SMALL_RUNS_MAX || small_runs_light(s) > SMALL_RUNS_MAX);
}

bool small_runs_by_rule(const struct small_runs *s, const struct pc_plan_entry *e)
{
	return run_small(e->kind, e->n_rules) && small_runs_file_by_rule(s, entry_file(e));
}

/* A file with small runs on one side only has nothing made otherwise:
 * its runs are the change's, made as the side after it says. */
bool small_runs_flip(const struct small_runs *a, const struct small_runs *b)
{
	if (a->cut != b->cut)
		return true;
	for (size_t i = 0; i < a->n_files; i++)
		if (small_runs_find(b, a->files[i].file) &&
		    small_runs_file_by_rule(a, a->files[i].file) !=
			    small_runs_file_by_rule(b, a->files[i].file))
			return true;
	return false;
}

/* name_text of entries v[0, n), the chain's small runs counted in s. */
static void names_text_set(const struct small_runs *s, struct pc_plan_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i].name_text = small_runs_by_rule(s, &v[i])
					 ? text_hash(v[i].anchor->text) * 0x9e3779b97f4a7c15ull
					 : 0;
}

void chain_small_forget(struct pc_plan_chain *c)
{
	if (c->small)
		small_runs_free(c->small);
	free(TAKE_PTR(c->small));
}

const struct small_runs *chain_small_runs(const struct pc_plan_chain *c, struct small_runs *own,
					  int *err)
{
	*own = (struct small_runs){ 0 };
	*err = 0;
	if (c->small)
		return c->small;
	*err = small_runs_count(c, chain_cut(c->n_entries), 0, 0, own);
	return own;
}

/* name_text of every entry of c, its small runs counted and kept. */
static int chain_names_text(struct pc_plan_chain *c)
{
	struct small_runs *s = calloc(1, sizeof(*s));
	int r = s ? small_runs_count(c, chain_cut(c->n_entries), 0, 0, s) : -ENOMEM;

	if (r < 0) {
		if (s)
			small_runs_free(s);
		free(s);
		return r;
	}
	names_text_set(s, c->entries, c->n_entries);
	chain_small_forget(c);
	c->small = s;
	return 0;
}

/* The small runs of c with into's entries in place of [lo, hi), into
 * *after, and the name_text of into's entries: from those c keeps, by the
 * entries that go and come, unless c becomes cut into blocks or no longer. */
static int into_names_text(const struct pc_plan_chain *c, size_t lo, size_t hi,
			   struct pc_plan_chain *into, struct small_runs *after)
{
	bool cut = chain_cut(c->n_entries - (hi - lo) + into->n_entries);
	int r;

	if (c->small && c->small->cut == cut) {
		r = small_runs_copy(c->small, after);
		if (r >= 0)
			r = small_runs_follow(after, &c->entries[lo], hi - lo, -1);
	} else {
		r = small_runs_count(c, cut, lo, hi, after);
	}
	if (r >= 0)
		r = small_runs_follow(after, into->entries, into->n_entries, 1);
	if (r >= 0)
		names_text_set(after, into->entries, into->n_entries);
	return r;
}

char pc_entry_kind_letter(enum pc_entry_kind kind)
{
	static const char kinds[] = { [PC_ENTRY_PORTS] = 'p', [PC_ENTRY_ADDRS] = 'a',
				      [PC_ENTRY_RULE] = 'r', [PC_ENTRY_PAIRS] = 'c' };

	return kinds[kind];
}

void pc_plan_entry_base(char *buf, size_t size, int dir, const char *zone,
			const struct pc_plan_entry *e)
{
	/* "%s_%s_%c%016llx", then "d%u" for the nth of a name. */
	char kind[] = { '_', pc_entry_kind_letter(e->kind), '\0' };
	size_t at = pc_put_str(buf, size, 0, dir_names[dir]);

	at = pc_put_str(buf, size, at, "_");
	at = pc_put_str(buf, size, at, zone);
	at = pc_put_str(buf, size, at, kind);
	at = pc_put_hex64(buf, size, at, entry_name(e));
	if (e->name_nth)
		pc_put_uint(buf, size, pc_put_str(buf, size, at, "d"), e->name_nth);
}

static struct pc_plan_entry *chain_push(struct pc_plan_chain *c, enum pc_entry_kind kind,
					const struct pc_rule *first, const struct pc_rule *last)
{
	struct pc_plan_entry *e = PC_ARRAY_PUSH(c->entries, c->n_entries, c->cap_entries);

	if (e) {
		e->kind = kind;
		e->first = first;
		e->last = last;
	}
	return e;
}

/* Turn one zone-direction's rule list into entries, merging runs. */
static int chain_build(struct pc_plan_chain *c, const struct pc_rule *const *rules, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i + 1;
		struct pc_plan_entry *e;
		int side = rule_addr_side(rules[i]), pside = rule_pairs_side(rules[i]), r = 0;

		if (rule_is_port_only(rules[i])) {
			while (j < n && rule_is_port_only(rules[j]) &&
			       !(rule_is_default(rules[j]) && !rule_is_default(rules[j - 1]) &&
				 rules_big_block(rules + i, j - i)))
				j++;
			e = chain_push(c, PC_ENTRY_PORTS, rules[i], rules[j - 1]);
			if (e)
				run_anchor_set(e, rules + i, j - i);
			r = e ? entry_add_ports(e, rules + i, j - i) : -ENOMEM;
		} else if (pside != 0 && j < n && pairs_join(rules[i], rules[j])) {
			/* Rules of a few ports each (10,000 "allow N/tcp from
			 * NET"): per port, its addresses, all in a few sets of
			 * proto . port . address, so that a rule that comes or
			 * goes is elements, not a kernel rule among 10,000. */
			while (j < n && pairs_join(rules[i], rules[j]))
				j++;
			e = chain_push(c, PC_ENTRY_PAIRS, rules[i], rules[j - 1]);
			if (e) {
				e->match_dst = pside == 2;
				e->to_host = pside == 3;
				e->to_net = pside == 4;
				run_anchor_set(e, rules + i, j - i);
			}
			r = e ? entry_add_pairs(e, rules + i, j - i) : -ENOMEM;
		} else if (side != 0 && !(rule_addr_scoped(rules[i]) &&
					  (j == n || rule_addr_side(rules[j]) != side ||
					   !scope_same(rules[i], rules[j])))) {
			/* A scoped rule alone stays a rule of its own: 10,000
			 * rules of a port each make no 10,000 runs. */
			while (j < n && rule_addr_side(rules[j]) == side &&
			       scope_same(rules[i], rules[j]))
				j++;
			e = chain_push(c, PC_ENTRY_ADDRS, rules[i], rules[j - 1]);
			if (e) {
				e->match_dst = side == 2;
				if (rules[i]->n_ports) {
					e->scope_l4proto = proto_l4(rules[i]->ports[0].protos);
					e->scope_lo = rules[i]->ports[0].lo;
					e->scope_hi = rules[i]->ports[0].hi;
				}
				run_anchor_set(e, rules + i, j - i);
			}
			r = e ? entry_add_addrs(e, rules + i, j - i) : -ENOMEM;
		} else {
			e = chain_push(c, PC_ENTRY_RULE, rules[i], rules[i]);
			if (e) {
				run_anchor_set(e, rules + i, 1);
				e->name_hash = text_hash(rules[i]->text);
			}
			r = e ? 0 : -ENOMEM;
		}
		if (r < 0)
			return r;
		i = j;
	}
	return 0;
}

int pc_plan_rule_zone(const struct pc_plan *plan, const struct pc_rule *r, size_t k, size_t *z)
{
	ssize_t zi;

	if (rule_is_nat(r))
		return -EOPNOTSUPP;
	zi = rule_zone_index(plan->cfg, r, k);
	if (zi < 0)
		return -EOPNOTSUPP;
	*z = (size_t)zi;
	return 0;
}

int pc_plan_rule_chain(const struct pc_plan *plan, const struct pc_rule *r, size_t *z)
{
	ssize_t zi;

	if (rule_is_nat(r) || r->n_zones > 1)
		return -EOPNOTSUPP;
	zi = rule_zone_index(plan->cfg, r, 0);
	if (zi < 0)
		return -EOPNOTSUPP;
	*z = (size_t)zi;
	return 0;
}

bool rule_in_chain(const struct pc_plan *plan, const struct pc_rule *p, size_t z, int dir)
{
	size_t nz = p->n_zones ? p->n_zones : 1;

	if ((int)p->dir != dir || rule_is_nat(p))
		return false;
	for (size_t k = 0; k < nz; k++)
		if (rule_zone_index(plan->cfg, p, k) == (ssize_t)z)
			return true;
	return false;
}

/* Whether a rule and an entry next to it would be one run. */
bool merges_with(const struct pc_rule *r, const struct pc_plan_entry *e)
{
	const struct pc_rule *scope;
	int side;

	if (!e)
		return false;
	if (rule_is_port_only(r))
		return e->kind == PC_ENTRY_PORTS;
	if (rule_pairs_side(r))
		return (e->kind == PC_ENTRY_PAIRS || e->kind == PC_ENTRY_RULE) &&
		       pairs_join(r, e->first);
	side = rule_addr_side(r);
	return side && entry_addr_side(e, &scope) == side && scope_same(r, scope);
}

static bool entries_merge(const struct pc_plan_entry *a, const struct pc_plan_entry *b)
{
	/* The defaults' run stays apart from a run a big block names. */
	if (a->kind == PC_ENTRY_PORTS && rule_is_default(b->first) && !rule_is_default(a->last) &&
	    a->anchor_n > BLOCK_NAMES_RUN)
		return false;
	if (a->kind == PC_ENTRY_PORTS || b->kind == PC_ENTRY_PORTS)
		return a->kind == b->kind;
	return merges_with(a->first, b);
}

/* Are the names of ks (those of entries [lo, hi) and of the entries
 * replacing them) no other entry's of c? Then the new entries number
 * theirs alone (names_number), and no later entry is renumbered. */
static bool names_own(struct pc_plan_chain *c, const struct name_keys *ks, size_t lo, size_t hi)
{
	if (!c->names || ks->all)
		return false;
	for (size_t j = 0; j < ks->n; j++) {
		uint32_t in_range = 0;

		for (size_t e = lo; e < hi; e++)
			in_range += c->entries[e].kind == ks->k[j].kind &&
				    entry_name(&c->entries[e]) == ks->k[j].hash;
		if (pc_keycount_get(c->names, name_key(ks->k[j].kind, ks->k[j].hash)) != in_range)
			return false;
	}
	return true;
}

/* name_nth of v[0, n), the only entries with the names of ks. */
static void names_number(struct pc_plan_entry *v, size_t n, const struct name_keys *ks)
{
	uint32_t seen[NAME_KEYS_MAX] = { 0 };

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < ks->n; j++)
			if (ks->k[j].kind == v[i].kind && ks->k[j].hash == entry_name(&v[i])) {
				v[i].name_nth = seen[j]++;
				break;
			}
}

/* Entries [lo, hi) of the chain replaced by into's, the old ones kept in
 * ch to undo with; ch->old_firsts: the old entries made again. */
static int entries_replace(struct pc_plan_chain *c, size_t lo, size_t hi,
			   struct pc_plan_chain *into, struct pc_plan_entry_change *ch)
{
	size_t n = c->n_entries - (hi - lo) + into->n_entries, n_after = c->n_entries - hi;
	size_t later = lo + into->n_entries;
	_cleanup_free_ uint32_t *nth = NULL;
	struct name_keys keys = { 0 };
	struct small_runs *after;
	bool own_names;

	ch->saved = calloc(hi - lo + 1, sizeof(*ch->saved));
	if (!ch->saved)
		return -ENOMEM;
	if (n > c->cap_entries) {
		struct pc_plan_entry *v = realloc(c->entries, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->entries = v;
		c->cap_entries = n;
	}
	after = calloc(1, sizeof(*after));
	if (!after || into_names_text(c, lo, hi, into, after) < 0) {
		if (after)
			small_runs_free(after);
		free(after);
		return -ENOMEM;
	}
	/* Named as into_names_text made them. */
	name_keys_add(&keys, &c->entries[lo], hi - lo);
	name_keys_add(&keys, into->entries, into->n_entries);
	if (!c->names)
		(void)chain_names_count(c); /* else the slow way */
	own_names = names_own(c, &keys, lo, hi);
	/* Room for the old entries made again (below): later ones only up
	 * to `from` when none was renumbered, not one per later entry. */
	ch->old_firsts = calloc(hi - lo + (own_names ? (ch->from > later ? ch->from - later : 0)
						     : n_after) + 1,
				sizeof(*ch->old_firsts));
	if (!own_names && ch->old_firsts)
		nth = calloc(n_after + 1, sizeof(*nth));
	if (!ch->old_firsts || (!own_names && !nth)) {
		small_runs_free(after);
		free(after);
		return -ENOMEM;
	}
	for (size_t e = hi; !own_names && e < c->n_entries; e++)
		nth[e - hi] = c->entries[e].name_nth;
	chain_names_follow(c, &c->entries[lo], hi - lo, -1);
	chain_names_follow(c, into->entries, into->n_entries, 1);
	memcpy(ch->saved, &c->entries[lo], (hi - lo) * sizeof(*ch->saved));
	ch->n_saved = hi - lo;
	memmove(&c->entries[later], &c->entries[hi], n_after * sizeof(*c->entries));
	if (into->n_entries)
		memcpy(&c->entries[lo], into->entries, into->n_entries * sizeof(*c->entries));
	c->n_entries = n;
	chain_small_forget(c);
	c->small = after;
	if (own_names)
		names_number(&c->entries[lo], into->n_entries, &keys);
	else
		chain_names_of(c, &keys);
	ch->at = lo;
	ch->n_new = into->n_entries;
	free(into->entries);
	*into = (struct pc_plan_chain){ 0 };
	/* The later entries are made again only as far as one is named
	 * otherwise now (the same name came or went before it). */
	ch->to = later > ch->from ? later : ch->from;
	for (size_t i = 0; !own_names && i < n_after; i++)
		if (c->entries[later + i].name_nth != nth[i])
			ch->to = later + i + 1;
	/* The old entries made again: the saved ones from `from` on (the
	 * first part of a cut keeps its own), then the later ones to `to`. */
	for (size_t e = ch->from > lo ? ch->from - lo : 0; e < ch->n_saved; e++)
		ch->old_firsts[ch->n_old++] = ch->saved[e].first;
	for (size_t e = later; e < ch->to; e++)
		ch->old_firsts[ch->n_old++] = c->entries[e].first;
	return 0;
}

static void chain_free_entries(struct pc_plan_chain *c)
{
	for (size_t i = 0; i < c->n_entries; i++)
		entry_free(&c->entries[i]);
	free(c->entries);
	*c = (struct pc_plan_chain){ 0 };
}

size_t chain_entry_at(const struct pc_plan_chain *c, const struct pc_rule *r)
{
	size_t lo = 0, hi = c->n_entries;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uintptr_t)c->entries[mid].last < (uintptr_t)r)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int port_kind(const struct pc_plan_port *p)
{
	return (p->lo != p->hi ? PORT_KIND_RANGES : 0) |
	       (p->verdict == PC_VERDICT_DROP     ? PORT_KIND_DROP
		: p->verdict == PC_VERDICT_REJECT ? PORT_KIND_REJECT
						  : 0);
}

/* Does the run have segments of each range kind of port map that e has?
 * (The sets of exact ports are there in every run, those of ranges in a
 * run a big block names.) */
static bool port_kinds_kept(const struct pc_plan_entry *e, const struct pc_plan_entry *run)
{
	bool had[PORT_KINDS] = { false }, has[PORT_KINDS] = { false };

	if (run_has_all_sets(e->anchor_n) != run_has_all_sets(run->anchor_n))
		return false;
	if (run_has_all_sets(e->anchor_n))
		return true;

	for (size_t i = 0; i < e->n_ports; i++)
		had[port_kind(&e->ports[i])] = true;
	for (size_t i = 0; i < run->n_ports; i++)
		has[port_kind(&run->ports[i])] = true;
	for (int kind = 0; kind < PORT_KINDS; kind++)
		if ((kind & PORT_KIND_RANGES) && had[kind] != has[kind])
			return false;
	return true;
}

/* The anchor of the first part of run e, cut by r (the rules of e
 * before r), into head. When e is named by a big block that lies before
 * r, it is e's: the blocks after that one were shorter (it is the last of
 * the longest), and a cut only drops or shortens blocks; only the rules
 * cut off are counted, O(them), not the 10,000 before. Else walked. */
static int run_head_anchor(const struct pc_plan *plan, size_t z, int dir,
			   const struct pc_plan_entry *e, const struct pc_rule *r,
			   struct pc_plan_entry *head)
{
	size_t cut = 0;

	if (e->anchor_n <= BLOCK_NAMES_RUN || (uintptr_t)e->anchor_last >= (uintptr_t)r)
		return run_anchor_walk(plan, z, dir, e->first, r - 1, NULL, head);
	for (const struct pc_rule *p = r + 1; (uintptr_t)p <= (uintptr_t)e->last; p++)
		cut += rule_in_chain(plan, p, z, dir);
	head->anchor = e->anchor;
	head->anchor_last = e->anchor_last;
	head->anchor_n = e->anchor_n;
	head->n_rules = e->n_rules - cut;
	head->name_hash = e->name_hash;
	return 0;
}

/* Whether the rules after r of port run e, cut by r, keep its name and so
 * its sets: a big block after r names e, of a file no rule before r is of
 * (one sorting after r's). That block is whole in the rest, the longest
 * and the last of the longest there as in e. */
static bool cut_keeps_rest(const struct pc_plan_entry *e, const struct pc_rule *r)
{
	return run_has_all_sets(e->anchor_n) && (uintptr_t)e->anchor > (uintptr_t)r &&
	       !same_file(e->anchor, r);
}

/* The rest of run e cut by r when it keeps e's name (cut_keeps_rest):
 * e's segments of its rules after r, when no rule has a port that a rule
 * before r decided (then none after r could decide it now): O(e's
 * segments), not its rules sorted again. 1 made into into, 0 not. */
static int rest_kept(const struct pc_plan *plan, size_t z, int dir, const struct pc_plan_entry *e,
		     const struct pc_rule *r, struct pc_plan_chain *into)
{
	const struct pc_rule *first = NULL;
	struct pc_plan_entry *rest;
	size_t n_head = 0;

	for (size_t i = 0; i < e->n_ports; i++) {
		const struct pc_plan_port *p = &e->ports[i];

		if ((uintptr_t)p->rule < (uintptr_t)r &&
		    !pc_config_ports_alone(plan->cfg, p->rule, l4_proto(p->l4proto), p->lo, p->hi))
			return 0;
	}
	for (const struct pc_rule *p = e->first; (uintptr_t)p < (uintptr_t)r; p++)
		n_head += rule_in_chain(plan, p, z, dir);
	for (const struct pc_rule *p = r + 1; !first && (uintptr_t)p <= (uintptr_t)e->last; p++)
		if (rule_in_chain(plan, p, z, dir))
			first = p;
	rest = first ? chain_push(into, PC_ENTRY_PORTS, first, e->last) : NULL;
	if (!rest)
		return first ? -ENOMEM : 0;
	*rest = (struct pc_plan_entry){ .kind = PC_ENTRY_PORTS, .first = first, .last = e->last,
					.anchor = e->anchor, .anchor_last = e->anchor_last,
					.anchor_n = e->anchor_n, .n_rules = e->n_rules - n_head,
					.name_hash = e->name_hash };
	for (size_t i = 0; i < e->n_ports; i++) {
		struct pc_plan_port *p;

		if ((uintptr_t)e->ports[i].rule < (uintptr_t)r)
			continue;
		p = PC_ARRAY_PUSH(rest->ports, rest->n_ports, rest->cap_ports);
		if (!p)
			return -ENOMEM;
		*p = e->ports[i];
	}
	return 1;
}

/* The rules of e after r in the chain, into *after. */
static int rules_after(const struct pc_plan *plan, size_t z, int dir, const struct pc_plan_entry *e,
		       const struct pc_rule *r, const struct pc_rule ***after, size_t *n)
{
	size_t cap = 0;

	for (const struct pc_rule *p = r + 1; (uintptr_t)p <= (uintptr_t)e->last; p++) {
		const struct pc_rule **slot;

		if (!rule_in_chain(plan, p, z, dir))
			continue;
		slot = PC_ARRAY_PUSH(*after, *n, cap);
		if (!slot)
			return -ENOMEM;
		*slot = p;
	}
	return 0;
}

/*
 * r inside port run k cuts it in two: the run keeps its rules before r
 * (and its sets, which lose the segments of the rules after r), r is an
 * entry of its own, the rules after r are a new run. The first part is
 * made from the run's segments of its own rules, which the rules after
 * did not decide; the second from its rules, O(them) -- or when it keeps
 * the run's name (!keeps), from the run's segments too if it can.
 */
static int entry_cut(struct pc_plan *plan, struct pc_plan_chain *c, size_t k, size_t z, int dir,
		     const struct pc_rule *r, bool keeps, struct pc_plan_chain *into,
		     bool *takes_defaults)
{
	const struct pc_plan_entry *e = &c->entries[k];
	_cleanup_free_ const struct pc_rule **after = NULL;
	/* The rest keeps the run's name (and its big block): made from the
	 * run's segments when it can be (rest_kept), not from its rules. */
	bool kept = !keeps && cut_keeps_rest(e, r);
	const struct pc_rule *last = NULL;
	struct pc_plan_entry *head;
	size_t n_after = 0;
	int ret = 0;

	for (const struct pc_rule *p = r - 1; !last && (uintptr_t)p >= (uintptr_t)e->first; p--)
		if (rule_in_chain(plan, p, z, dir))
			last = p;
	if (!kept && (ret = rules_after(plan, z, dir, e, r, &after, &n_after)) < 0)
		return ret;
	if (!last || (!kept && !n_after))
		return -EOPNOTSUPP;
	/* The rules after the cut, small, take the defaults' run after the
	 * run (a big block kept them apart): that run is made again with
	 * them. */
	*takes_defaults = !kept && k + 1 < c->n_entries &&
			  c->entries[k + 1].kind == PC_ENTRY_PORTS &&
			  rule_is_default(c->entries[k + 1].first) &&
			  !rules_big_block(after, n_after);
	for (const struct pc_rule *p = *takes_defaults ? c->entries[k + 1].first : NULL;
	     p && (uintptr_t)p <= (uintptr_t)c->entries[k + 1].last; p++) {
		const struct pc_rule **v;

		if (!rule_in_chain(plan, p, z, dir))
			continue;
		v = realloc(after, (n_after + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		after = v;
		after[n_after++] = p;
	}
	head = chain_push(into, PC_ENTRY_PORTS, e->first, last);
	if (!head)
		return -ENOMEM;
	*head = (struct pc_plan_entry){ .kind = PC_ENTRY_PORTS, .first = e->first, .last = last };
	ret = run_head_anchor(plan, z, dir, e, r, head);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < e->n_ports; i++) {
		struct pc_plan_port *p;

		if ((uintptr_t)e->ports[i].rule > (uintptr_t)r)
			continue;
		p = PC_ARRAY_PUSH(head->ports, head->n_ports, head->cap_ports);
		if (!p)
			return -ENOMEM;
		*p = e->ports[i];
	}
	/* A range map the first part no longer needs would go: not in place. */
	if (keeps && !port_kinds_kept(e, head))
		return -EOPNOTSUPP;
	ret = chain_build(into, &r, 1);
	if (ret >= 0 && kept)
		ret = rest_kept(plan, z, dir, e, r, into);
	if (ret == 0 && kept)
		ret = rules_after(plan, z, dir, e, r, &after, &n_after);
	if (ret == 0)
		ret = chain_build(into, after, n_after);
	return ret < 0 ? ret : into->n_entries == 3 ? 0 : -EOPNOTSUPP;
}

/* Whether the first part of run e, cut in two by r, keeps its name, and
 * so its sets (entry_cut): 1, 0, or -errno. */
static int cut_keeps_first(const struct pc_plan *plan, size_t z, int dir,
			   const struct pc_plan_entry *e, const struct pc_rule *r)
{
	struct pc_plan_entry head = { 0 };
	int ret = run_head_anchor(plan, z, dir, e, r, &head);

	return ret < 0 ? ret : head.name_hash == e->name_hash;
}

/* Whether port runs a and b, joined when r between them goes, keep a's
 * name (entries_join): 1, 0, or -errno. */
/*
 * The anchor of runs a and b joined (r between them gone), as
 * run_anchor_set makes it, reading b's rules and a's last block alone
 * when a is the bigger run and its longest block names it: a's blocks
 * before its last stay as they are, and the longest of them is a's anchor
 * or shorter; reading none when a is small and a big block names b.
 * Otherwise every rule of both is read.
 */
static int join_anchor(const struct pc_plan *plan, size_t z, int dir,
		       const struct pc_plan_entry *a, const struct pc_plan_entry *b,
		       const struct pc_rule *r, struct pc_plan_entry *joined)
{
	const struct pc_rule *best = a->anchor, *best_last = a->anchor_last, *p, *q;
	size_t best_n = a->anchor_n, tail_n = 1, n;

	/* A small run before one a big block names, of another file where
	 * they meet: that block still names the joined run (a's blocks are
	 * shorter, and before it), without reading b's rules. */
	if (b->anchor_n > BLOCK_NAMES_RUN && a->n_rules < b->anchor_n &&
	    !same_file(a->last, b->first)) {
		joined->anchor = b->anchor;
		joined->anchor_last = b->anchor_last;
		joined->anchor_n = b->anchor_n;
		joined->n_rules = a->n_rules + b->n_rules;
		joined->name_hash = b->name_hash;
		return 0;
	}
	if (a->anchor_n <= BLOCK_NAMES_RUN || a->n_rules < b->n_rules)
		return run_anchor_walk(plan, z, dir, a->first, b->last, r, joined);
	/* a's last block; merged with b's first if of the same file. */
	p = a->last;
	if (a->anchor_last == a->last)
		p = a->anchor, tail_n = a->anchor_n;
	else
		while ((q = chain_prev(plan, z, dir, p, a->first)) && same_file(q, a->last))
			p = q, tail_n++;
	/* Then b's blocks in chain order: the last of equals wins. */
	for (q = b->first; q; ) {
		const struct pc_rule *start = q, *end = q;

		n = 1;
		while ((q = chain_next(plan, z, dir, end, b->last)) && same_file(q, start))
			end = q, n++;
		if (start == b->first && same_file(start, a->last))
			start = p, n += tail_n;
		if (n >= best_n)
			best = start, best_last = end, best_n = n;
	}
	joined->anchor = best;
	joined->anchor_last = best_last;
	joined->anchor_n = best_n;
	joined->n_rules = a->n_rules + b->n_rules;
	joined->name_hash = text_hash(file_base(best->loc.file));
	return 0;
}

/* Whether the run a big block names, a and b joined, leaves b's defaults
 * apart, a run of their own (entries_merge). */
static bool join_leaves_defaults(const struct pc_plan_entry *b, const struct pc_plan_entry *joined)
{
	return joined->anchor_n > BLOCK_NAMES_RUN && rule_is_default(b->last) &&
	       !rule_is_default(b->first);
}

static int join_keeps_first(const struct pc_plan *plan, size_t z, int dir,
			    const struct pc_plan_entry *a, const struct pc_plan_entry *b,
			    const struct pc_rule *r, struct pc_plan_entry *joined)
{
	int ret = join_anchor(plan, z, dir, a, b, r, joined);

	/* Under another name, b's defaults left apart: not in place. */
	if (ret >= 0 && joined->name_hash != a->name_hash && join_leaves_defaults(b, joined))
		return -EOPNOTSUPP;
	/* Under a's name, a small run become big: its sets of ranges, which
	 * a lacks, would come (run_has_all_sets). */
	if (ret >= 0 && joined->name_hash == a->name_hash &&
	    run_has_all_sets(a->anchor_n) != run_has_all_sets(joined->anchor_n))
		return -EOPNOTSUPP;
	return ret < 0 ? ret : joined->name_hash == a->name_hash;
}

/* Port run b without its defaults (b's rules before its first default
 * one), into head; its defaults, in chain order, into *defaults. */
static int run_without_defaults(const struct pc_plan *plan, size_t z, int dir,
			    const struct pc_plan_entry *b, struct pc_plan_entry *head,
			    const struct pc_rule ***defaults, size_t *n_defaults)
{
	size_t cap = 0;

	*head = (struct pc_plan_entry){ .kind = PC_ENTRY_PORTS, .first = b->first };
	for (const struct pc_rule *p = b->first; (uintptr_t)p <= (uintptr_t)b->last; p++) {
		const struct pc_rule **slot;

		if (!rule_in_chain(plan, p, z, dir))
			continue;
		if (!rule_is_default(p)) {
			head->last = p;
			head->n_rules++;
			continue;
		}
		slot = PC_ARRAY_PUSH(*defaults, *n_defaults, cap);
		if (!slot)
			return -ENOMEM;
		*slot = p;
	}
	for (size_t i = 0; i < b->n_ports; i++) {
		struct pc_plan_port *q;

		if (rule_is_default(b->ports[i].rule))
			continue;
		q = PC_ARRAY_PUSH(head->ports, head->n_ports, head->cap_ports);
		if (!q)
			return -ENOMEM;
		*q = b->ports[i];
	}
	return 0;
}

/* Whether port runs a and b, joined under b's name when r between them
 * goes (joined: join_keeps_first's), keep b's sets: b is named by a big
 * block, and a otherwise. */
static bool join_keeps_second(const struct pc_plan_entry *a, const struct pc_plan_entry *b,
			      const struct pc_plan_entry *joined)
{
	return run_has_all_sets(b->anchor_n) && run_has_all_sets(joined->anchor_n) &&
	       joined->name_hash == b->name_hash && a->name_hash != b->name_hash;
}

/* A change made in the plan that cannot be one in place after all: undone. */
static int change_refused(struct pc_plan *plan, struct pc_plan_entry_change *ch)
{
	pc_plan_entry_change_undo(plan, ch);
	pc_plan_entry_change_free(ch);
	return -EOPNOTSUPP;
}

/* A rule of a few ports and a source put next to a lone one of its side
 * (a rule of its own): the two become a run of ports. The lone one's
 * entry (before or after r), or SIZE_MAX: none, or r would join more (a
 * run on its other side too: not in place). */
static size_t lone_joined(const struct pc_plan_chain *c, size_t k, const struct pc_rule *r)
{
	const struct pc_plan_entry *prev = k > 0 ? &c->entries[k - 1] : NULL;
	const struct pc_plan_entry *next = k < c->n_entries ? &c->entries[k] : NULL;
	bool p, n;

	if (!rule_addr_paired(r) || (next && (uintptr_t)next->first < (uintptr_t)r))
		return SIZE_MAX;
	p = merges_with(r, prev);
	n = merges_with(r, next);
	if (p == n)
		return SIZE_MAX;
	if (p)
		return prev->kind == PC_ENTRY_RULE ? k - 1 : SIZE_MAX;
	return next->kind == PC_ENTRY_RULE ? k : SIZE_MAX;
}

/* A run of ports of two rules of which r goes: the other is a rule of its
 * own again. The run's entry, or SIZE_MAX. */
static size_t pair_left_alone(const struct pc_plan_chain *c, const struct pc_rule *r)
{
	size_t k = chain_entry_at(c, r);
	const struct pc_plan_entry *e = k < c->n_entries ? &c->entries[k] : NULL;

	return e && e->kind == PC_ENTRY_PAIRS && e->n_rules == 2 &&
			       (e->first == r || e->last == r)
		       ? k
		       : SIZE_MAX;
}

/* Entries [lo, hi) of c replaced by those chain_build makes of rules. */
static int entries_rebuild(struct pc_plan_chain *c, size_t lo, size_t hi,
			   const struct pc_rule *const *rules, size_t n,
			   struct pc_plan_entry_change *ch)
{
	struct pc_plan_chain into = { 0 };
	int ret = chain_build(&into, rules, n);

	if (ret >= 0)
		ret = entries_replace(c, lo, hi, &into, ch);
	if (ret < 0) {
		chain_free_entries(&into);
		pc_plan_entry_change_free(ch);
	}
	return ret;
}

/* The port run that port rule r joins (or leaves, remove) at entry k of
 * c (chain_entry_at), when its elements cannot carry the change (a range
 * set the run lacks or would empty, a run named anew): SIZE_MAX when r is
 * not a port rule next to or in a run. */
static size_t port_run_of(const struct pc_plan_chain *c, size_t k, const struct pc_rule *r,
			  bool remove)
{
	const struct pc_plan_entry *at = k < c->n_entries ? &c->entries[k] : NULL;
	bool prev = k > 0 && c->entries[k - 1].kind == PC_ENTRY_PORTS;
	bool next = at && at->kind == PC_ENTRY_PORTS;

	if (!rule_is_port_only(r))
		return SIZE_MAX;
	if (remove)
		return next && at->n_rules > 1 && (uintptr_t)at->first <= (uintptr_t)r ? k
										       : SIZE_MAX;
	if (at && (uintptr_t)at->first < (uintptr_t)r)
		return next ? k : SIZE_MAX; /* inside a run: of ports, or one it cuts */
	/* Between two, the one before: port runs next to each other are
	 * apart only where the defaults follow a big block (chain_build). */
	return prev ? k - 1 : next ? k : SIZE_MAX;
}

/* The address run or run of ports that address rule r joins (or leaves)
 * at entry k of c, when its elements cannot carry the change (a set the
 * run lacks or would empty, a place inside it, a run named anew, made big
 * or small), [*lo, *hi): with a run or a lone rule on r's other side that
 * r joins to it too. false when r is no such rule in or next to a run. */
static bool addr_runs_of(const struct pc_plan_chain *c, size_t k, const struct pc_rule *r,
			 bool remove, size_t *lo, size_t *hi)
{
	const struct pc_plan_entry *at = k < c->n_entries ? &c->entries[k] : NULL;
	bool prev, next;

	if (!rule_addr_side(r) && !rule_addr_paired(r))
		return false;
	if (remove) {
		*lo = k;
		*hi = k + 1;
		return at && (at->kind == PC_ENTRY_ADDRS || at->kind == PC_ENTRY_PAIRS) &&
		       at->n_rules > 1 && (uintptr_t)at->first <= (uintptr_t)r;
	}
	if (at && (uintptr_t)at->first < (uintptr_t)r) {
		*lo = k;
		*hi = k + 1;
		return at->kind != PC_ENTRY_RULE && at->kind != PC_ENTRY_PORTS && merges_with(r, at);
	}
	prev = k > 0 && merges_with(r, &c->entries[k - 1]);
	next = merges_with(r, at);
	*lo = prev ? k - 1 : k;
	*hi = next ? k + 1 : k;
	return (prev && c->entries[k - 1].kind != PC_ENTRY_RULE) ||
	       (next && at->kind != PC_ENTRY_RULE);
}

/* The port runs next to each other around run k, [*lo, *hi): they are
 * apart where the defaults follow a big block (chain_build), which a rule
 * that comes or goes can make or unmake. */
static void port_runs_around(const struct pc_plan_chain *c, size_t k, size_t *lo, size_t *hi)
{
	*lo = k;
	*hi = k + 1;
	while (*lo > 0 && c->entries[*lo - 1].kind == PC_ENTRY_PORTS)
		(*lo)--;
	while (*hi < c->n_entries && c->entries[*hi].kind == PC_ENTRY_PORTS)
		(*hi)++;
}

/* The runs r joins or leaves (port_run_of with the port runs next to it,
 * or addr_runs_of), [*lo, *hi) of c; false: none such. */
static bool runs_of(const struct pc_plan_chain *c, size_t k, const struct pc_rule *r, bool remove,
		    size_t *lo, size_t *hi)
{
	size_t run = port_run_of(c, k, r, remove);

	if (run == SIZE_MAX)
		return addr_runs_of(c, k, r, remove, lo, hi);
	port_runs_around(c, run, lo, hi);
	return true;
}

/* Runs [lo_e, hi_e) of c made again with r put in (or taken out): their
 * rules built anew, O(them), lowered and sent as what differs (sets that
 * stay change elements; a set, or a run the defaults joined or left,
 * comes or goes). */
static int run_remake(struct pc_plan *plan, struct pc_plan_chain *c, size_t z, int dir,
		      size_t lo_e, size_t hi_e, const struct pc_rule *r, bool remove,
		      struct pc_plan_entry_change *ch)
{
	size_t n = 0, cap = 0;
	const struct pc_rule *lo, *hi;
	_cleanup_free_ const struct pc_rule **v = NULL;

	lo = (uintptr_t)r < (uintptr_t)c->entries[lo_e].first ? r : c->entries[lo_e].first;
	hi = (uintptr_t)r > (uintptr_t)c->entries[hi_e - 1].last ? r : c->entries[hi_e - 1].last;
	for (const struct pc_rule *p = lo; (uintptr_t)p <= (uintptr_t)hi; p++) {
		const struct pc_rule **q;

		if ((remove && p == r) || !rule_in_chain(plan, p, z, dir))
			continue;
		if (!(q = PC_ARRAY_PUSH(v, n, cap)))
			return -ENOMEM;
		*q = p;
	}
	ch->from = lo_e;
	return entries_rebuild(c, lo_e, hi_e, v, n, ch);
}

size_t pc_plan_entry_from(const struct pc_plan *plan, size_t z, int dir, const struct pc_rule *r,
			  bool remove, size_t *upto)
{
	const struct pc_plan_chain *c = &plan->zones[z].dir[dir];
	size_t k = 0, lo, hi;

	*upto = SIZE_MAX;
	k = remove ? pair_left_alone(c, r) : lone_joined(c, chain_entry_at(c, r), r);
	if (k != SIZE_MAX)
		return k;
	if (runs_of(c, chain_entry_at(c, r), r, remove, &lo, &hi))
		return lo;
	if (remove) {
		struct pc_plan_entry joined = { 0 };
		bool joins;

		k = chain_entry_at(c, r);
		if (k < c->n_entries && c->entries[k].first != r)
			k = c->n_entries;
		joins = k > 0 && k + 1 < c->n_entries &&
			entries_merge(&c->entries[k - 1], &c->entries[k + 1]);
		if (joins && c->entries[k - 1].kind != PC_ENTRY_PORTS)
			return k - 1; /* made again, both (pc_plan_entry_delete) */
		/* Two runs joined under the second's name: the first made
		 * again, and the second when it does not keep its sets. */
		if (joins && join_keeps_first(plan, z, dir, &c->entries[k - 1], &c->entries[k + 1], r,
					      &joined) == 0) {
			if (join_keeps_second(&c->entries[k - 1], &c->entries[k + 1], &joined))
				*upto = k + 1;
			k--;
		} else if (!joins && k < c->n_entries && c->entries[k].last == r) {
			/* An entry taken out alone: the later ones keep their
			 * sets, but those named like it (named again). */
			*upto = k + 1;
			for (size_t e = k + 1; e < c->n_entries; e++)
				if (entry_name(&c->entries[e]) == entry_name(&c->entries[k]))
					*upto = SIZE_MAX;
		}
		return k;
	}
	k = chain_entry_at(c, r);
	/* Inside a port run: that run keeps its entry (entry_cut) if its
	 * first part keeps its name; or its second part, which keeps the
	 * run's sets then. */
	if (k < c->n_entries && (uintptr_t)c->entries[k].first < (uintptr_t)r &&
	    c->entries[k].kind == PC_ENTRY_PORTS && !merges_with(r, &c->entries[k])) {
		int first = cut_keeps_first(plan, z, dir, &c->entries[k], r);

		if (first != 0)
			k++;
		else if (cut_keeps_rest(&c->entries[k], r))
			*upto = k;
	}
	return k;
}

int pc_plan_entry_insert(struct pc_plan *plan, size_t z, int dir, const struct pc_rule *r,
			 struct pc_plan_entry_change *ch)
{
	struct pc_plan_chain *c = &plan->zones[z].dir[dir];
	struct pc_plan_chain into = { 0 };
	size_t k = 0, lone, lo, hi;
	bool keeps_rest, takes_defaults = false;
	int ret;

	*ch = (struct pc_plan_entry_change){ .zone = z, .dir = dir };
	if (r->from_set_name.name || r->to_set_name.name)
		return -EOPNOTSUPP; /* a named set's kernel sets come and go with all its rules */
	k = chain_entry_at(c, r);
	/* Inside a port run: it cuts it in two. */
	if (k < c->n_entries && (uintptr_t)c->entries[k].first < (uintptr_t)r &&
	    c->entries[k].kind == PC_ENTRY_PORTS && !merges_with(r, &c->entries[k])) {
		ret = cut_keeps_first(plan, z, dir, &c->entries[k], r);
		if (ret < 0)
			return ret;
		/* The first part keeps the run's sets, which lose the rest's
		 * segments; or (the run's name goes with the rest) all three
		 * are made again, and the rest's sets differ by what they
		 * lose. */
		ch->from = ret ? k + 1 : k;
		ch->cut = ret;
		/* Or the rest keeps the name, and the sets: the first part and
		 * r alone are made again (pc_plan_entry_from says so too). */
		keeps_rest = !ch->cut && cut_keeps_rest(&c->entries[k], r);
		ret = entry_cut(plan, c, k, z, dir, r, ch->cut, &into, &takes_defaults);
		if (ret >= 0)
			ret = entries_replace(c, k, k + 1 + takes_defaults, &into, ch);
		if (ret >= 0 && keeps_rest) {
			if (ch->to != k + 3 || entry_name(&c->entries[k + 2]) != entry_name(&ch->saved[0]) ||
			    c->entries[k + 2].name_nth != ch->saved[0].name_nth ||
			    !port_kinds_kept(&ch->saved[0], &c->entries[k + 2]))
				return change_refused(plan, ch);
			ch->kept = true;
			ch->kept_from = 0;
			ch->to = k + 2;
			ch->n_old = 0;
		}
		if (ret < 0) {
			chain_free_entries(&into);
			pc_plan_entry_change_free(ch);
		}
		return ret;
	}
	/* Next to a lone rule of its kind: the two become a run of ports,
	 * made in the lone one's place. */
	lone = lone_joined(c, k, r);
	if (lone != SIZE_MAX) {
		const struct pc_rule *two[2] = { lone < k ? c->entries[lone].first : r,
						 lone < k ? r : c->entries[lone].first };

		ch->from = lone;
		return entries_rebuild(c, lone, lone + 1, two, 2, ch);
	}
	/* A rule that joins a run whose elements cannot take it. */
	if (runs_of(c, k, r, false, &lo, &hi))
		return run_remake(plan, c, z, dir, lo, hi, r, false, ch);
	/* Inside a run of addresses or pairs: made again as its two parts
	 * and r, O(its rules). */
	if (k < c->n_entries && (uintptr_t)c->entries[k].first < (uintptr_t)r &&
	    (c->entries[k].kind == PC_ENTRY_ADDRS || c->entries[k].kind == PC_ENTRY_PAIRS))
		return run_remake(plan, c, z, dir, k, k + 1, r, false, ch);
	/* Between two runs, and of neither (another run it would cut in
	 * two: not in place). */
	if ((k < c->n_entries && (uintptr_t)c->entries[k].first < (uintptr_t)r) ||
	    (k > 0 && merges_with(r, &c->entries[k - 1])) ||
	    merges_with(r, k < c->n_entries ? &c->entries[k] : NULL))
		return -EOPNOTSUPP;
	ch->from = k;
	return entries_rebuild(c, k, k, &r, 1, ch);
}

/* Segments of b not covered by a's (both sorted, disjoint), as pieces:
 * appended to out, sorted. */
static int ports_uncovered(const struct pc_plan_entry *a, const struct pc_plan_entry *b,
			   struct pc_plan_entry *out)
{
	for (size_t j = 0; j < b->n_ports; j++) {
		const struct pc_plan_port *s = &b->ports[j];
		uint32_t lo = s->lo;

		/* Past a's segments before this one's start, by halving: a
		 * second part of a few segments after a first of 10,000 reads
		 * a few of them. */
		for (size_t k = segment_first(a, s->l4proto, s->lo); lo <= s->hi; k++) {
			bool next = k < a->n_ports && a->ports[k].l4proto == s->l4proto &&
				    a->ports[k].lo <= s->hi;
			struct pc_plan_port *p;

			/* [lo, up to a's next segment or the end]: b's. */
			if (!next || a->ports[k].lo > lo) {
				p = PC_ARRAY_PUSH(out->ports, out->n_ports, out->cap_ports);
				if (!p)
					return -ENOMEM;
				*p = *s;
				p->lo = (uint16_t)lo;
				p->hi = next ? (uint16_t)(a->ports[k].lo - 1u) : s->hi;
			}
			if (!next)
				break;
			lo = (uint32_t)a->ports[k].hi + 1u;
		}
	}
	return 0;
}

static int port_order(const void *x, const void *y)
{
	const struct pc_plan_port *a = x, *b = y;

	if (a->l4proto != b->l4proto)
		return a->l4proto < b->l4proto ? -1 : 1;
	return (a->lo > b->lo) - (a->lo < b->lo);
}

/* Port runs a and b, with only an entry between them that goes, as one
 * run: a's segments (its rules come first) and what b decided of the rest,
 * as a full compile of both runs' rules cuts it. */
static int entries_join(const struct pc_plan_entry *a, const struct pc_plan_entry *b,
			const struct pc_plan_entry *named, struct pc_plan_chain *into)
{
	struct pc_plan_entry *e = chain_push(into, PC_ENTRY_PORTS, a->first, b->last);
	struct pc_plan_entry rest = { 0 };
	int ret;

	if (!e)
		return -ENOMEM;
	*e = (struct pc_plan_entry){ .kind = PC_ENTRY_PORTS, .first = a->first, .last = b->last,
				     .anchor = named->anchor, .anchor_last = named->anchor_last,
				     .anchor_n = named->anchor_n, .n_rules = named->n_rules,
				     .name_hash = named->name_hash };
	ret = ports_uncovered(a, b, &rest);
	e->n_ports = a->n_ports + rest.n_ports;
	e->cap_ports = with_room(e->n_ports);
	e->ports = ret < 0 ? NULL : malloc(e->cap_ports * sizeof(*e->ports));
	if (!e->ports) {
		free(rest.ports);
		return -ENOMEM;
	}
	/* Both sorted and disjoint: merged in one pass. */
	for (size_t i = 0, j = 0, k = 0; k < e->n_ports; k++)
		e->ports[k] = j == rest.n_ports || (i < a->n_ports &&
						    port_order(&a->ports[i], &rest.ports[j]) < 0)
				      ? a->ports[i++]
				      : rest.ports[j++];
	free(rest.ports);
	return 0;
}

/* Entry k taken out, port runs k - 1 and k + 1 joined under k - 1's name,
 * which a big block gives: k + 1's defaults stay a run of their own (the
 * shipped "allow ssh" after the CLI's rules), made again; the rest of k + 1
 * joins k - 1 as entries_join makes it, its segments elements. */
static int join_apart_defaults(struct pc_plan *plan, struct pc_plan_chain *c, size_t z, int dir,
			       size_t k, struct pc_plan_entry *joined,
			       struct pc_plan_entry_change *ch)
{
	_cleanup_free_ const struct pc_rule **defaults = NULL;
	struct pc_plan_entry head = { 0 };
	struct pc_plan_chain into = { 0 };
	size_t n_defaults = 0;
	int ret = run_without_defaults(plan, z, dir, &c->entries[k + 1], &head, &defaults, &n_defaults);

	joined->n_rules = c->entries[k - 1].n_rules + head.n_rules;
	if (ret >= 0)
		ret = entries_join(&c->entries[k - 1], &head, joined, &into);
	if (ret >= 0)
		ret = chain_build(&into, defaults, n_defaults);
	free(head.ports);
	ch->from = k;
	ch->join = true;
	if (ret >= 0)
		ret = entries_replace(c, k - 1, k + 2, &into, ch);
	if (ret < 0) {
		chain_free_entries(&into);
		pc_plan_entry_change_free(ch);
	}
	return ret;
}

int pc_plan_entry_delete(struct pc_plan *plan, size_t z, int dir, const struct pc_rule *r,
			 struct pc_plan_entry_change *ch)
{
	struct pc_plan_chain *c = &plan->zones[z].dir[dir];
	struct pc_plan_chain into = { 0 };
	size_t k = 0, lo, hi;
	bool keeps_second;
	int ret = 0;

	*ch = (struct pc_plan_entry_change){ .zone = z, .dir = dir };
	if (r->from_set_name.name || r->to_set_name.name)
		return -EOPNOTSUPP; /* a named set's kernel sets come and go with all its rules */
	/* Of a run of ports of two: the other is a rule of its own again. */
	k = pair_left_alone(c, r);
	if (k != SIZE_MAX) {
		const struct pc_rule *other = c->entries[k].first == r ? c->entries[k].last
								       : c->entries[k].first;

		ch->from = k;
		return entries_rebuild(c, k, k + 1, &other, 1, ch);
	}
	k = chain_entry_at(c, r);
	/* A rule whose run's elements cannot lose it. */
	if (runs_of(c, k, r, true, &lo, &hi))
		return run_remake(plan, c, z, dir, lo, hi, r, true, ch);
	if (k < c->n_entries && c->entries[k].first != r)
		k = c->n_entries;
	if (k >= c->n_entries || c->entries[k].last != r)
		return -EOPNOTSUPP;
	/* Its neighbours become one run: port runs are joined in place. */
	if (k > 0 && k + 1 < c->n_entries &&
	    entries_merge(&c->entries[k - 1], &c->entries[k + 1])) {
		struct pc_plan_entry joined = { 0 };

		/* Runs of addresses or pairs: made again as one, O(their
		 * rules). */
		if (c->entries[k - 1].kind != PC_ENTRY_PORTS)
			return run_remake(plan, c, z, dir, k - 1, k + 2, r, true, ch);
		ret = join_keeps_first(plan, z, dir, &c->entries[k - 1], &c->entries[k + 1], r,
				       &joined);
		if (ret < 0)
			return ret;
		if (ret && join_leaves_defaults(&c->entries[k + 1], &joined))
			return join_apart_defaults(plan, c, z, dir, k, &joined, ch);
		/* Under the first's name its sets gain the second's segments;
		 * under the second's, the second's sets the first's when they
		 * are kept (pc_plan_entry_from says so too), or the joined run
		 * is made again. */
		keeps_second = !ret && join_keeps_second(&c->entries[k - 1], &c->entries[k + 1],
							 &joined);
		ch->from = ret ? k : k - 1;
		ch->join = ret;
		ret = entries_join(&c->entries[k - 1], &c->entries[k + 1], &joined, &into);
		if (ret >= 0)
			ret = entries_replace(c, k - 1, k + 2, &into, ch);
		if (ret >= 0 && keeps_second) {
			if (ch->to != k || entry_name(&c->entries[k - 1]) != entry_name(&ch->saved[2]) ||
			    c->entries[k - 1].name_nth != ch->saved[2].name_nth)
				return change_refused(plan, ch);
			ch->kept = true;
			ch->kept_from = 2;
			ch->to = k - 1;
			ch->n_old = 2;
		}
		if (ret < 0) {
			chain_free_entries(&into);
			pc_plan_entry_change_free(ch);
		}
		return ret;
	}
	ch->from = k;
	ret = entries_replace(c, k, k + 1, &into, ch);
	if (ret < 0) {
		chain_free_entries(&into);
		pc_plan_entry_change_free(ch);
	}
	return ret;
}

/* c's small runs, those of the entries taken out no longer counted,
 * those put back at [at, at + n) counted again; when c is cut into blocks
 * no longer, or again, all of them counted again. */
static void chain_small_undo(struct pc_plan_chain *c, size_t at, size_t n)
{
	int r = 0;

	if (!c->small)
		return;
	if (c->small->cut != chain_cut(c->n_entries)) {
		small_runs_free(c->small);
		r = small_runs_count(c, chain_cut(c->n_entries), 0, 0, c->small);
	} else {
		r = small_runs_follow(c->small, &c->entries[at], n, 1);
	}
	if (r < 0)
		chain_small_forget(c); /* counted again when asked */
}

void pc_plan_entry_change_undo(struct pc_plan *plan, struct pc_plan_entry_change *ch)
{
	struct pc_plan_chain *c = &plan->zones[ch->zone].dir[ch->dir];
	struct name_keys keys = { 0 };

	if (!ch->saved)
		return;
	name_keys_add(&keys, ch->saved, ch->n_saved);
	name_keys_add(&keys, &c->entries[ch->at], ch->n_new);
	if (c->small)
		small_runs_follow(c->small, &c->entries[ch->at], ch->n_new, -1);
	chain_names_follow(c, &c->entries[ch->at], ch->n_new, -1);
	chain_names_follow(c, ch->saved, ch->n_saved, 1);
	for (size_t i = ch->at; i < ch->at + ch->n_new; i++)
		entry_free(&c->entries[i]);
	/* The saved entries took no more room than the new ones held. */
	if (ch->n_saved > ch->n_new) {
		size_t n = c->n_entries + ch->n_saved - ch->n_new;
		struct pc_plan_entry *v = n > c->cap_entries ? realloc(c->entries, n * sizeof(*v))
							     : c->entries;

		if (!v)
			abort(); /* they came out of this array: it was that big */
		c->entries = v;
		c->cap_entries = n > c->cap_entries ? n : c->cap_entries;
	}
	memmove(&c->entries[ch->at + ch->n_saved], &c->entries[ch->at + ch->n_new],
		(c->n_entries - ch->at - ch->n_new) * sizeof(*c->entries));
	memcpy(&c->entries[ch->at], ch->saved, ch->n_saved * sizeof(*c->entries));
	c->n_entries = c->n_entries - ch->n_new + ch->n_saved;
	chain_small_undo(c, ch->at, ch->n_saved);
	chain_names_of(c, &keys);
	free(TAKE_PTR(ch->saved));
	ch->n_saved = 0;
	pc_plan_entry_change_free(ch);
}

void pc_plan_entry_change_free(struct pc_plan_entry_change *ch)
{
	for (size_t i = 0; i < ch->n_saved; i++)
		entry_free(&ch->saved[i]);
	free(ch->saved);
	free(ch->old_firsts);
	*ch = (struct pc_plan_entry_change){ 0 };
}

static ssize_t config_zone_index(const struct pc_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_zones; i++) {
		if (streq(cfg->zones[i].name, name))
			return (ssize_t)i;
	}
	return -1;
}

ssize_t rule_zone_index(const struct pc_config *cfg, const struct pc_rule *r, size_t i)
{
	return r->n_zones ? config_zone_index(cfg, r->zones[i].name) : (ssize_t)cfg->default_zone;
}

/* Rule lists per (zone, direction), in configuration order. */
struct rule_lists {
	const struct pc_rule **v;
	size_t n, cap;
};

static int rule_lists_fill(const struct pc_config *cfg, struct rule_lists *lists,
			   struct pc_diags *d)
{
	int ret = 0;

	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct pc_rule *r = &cfg->rules[i];
		size_t nz = r->n_zones ? r->n_zones : 1;

		if (rule_is_nat(r))
			continue; /* nat chains (lower_nat), not the zone's filter chain */
		for (size_t z = 0; z < nz; z++) {
			ssize_t zi = rule_zone_index(cfg, r, z);
			if (zi < 0) {
				pc_error(d, &r->zones[z].loc, "unknown zone '%s'", r->zones[z].name);
				ret = -EINVAL;
				continue;
			}
			struct rule_lists *l = &lists[(size_t)zi * PC_N_DIRS + r->dir];
			const struct pc_rule **slot = PC_ARRAY_PUSH(l->v, l->n, l->cap);
			if (!slot)
				return -ENOMEM;
			*slot = r;
		}
	}
	return ret;
}

static int iface_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pc_plan_iface *)a)->name,
		      ((const struct pc_plan_iface *)b)->name);
}

/* Zone by address and by interface; the same zone bindings serve both
 * directions (inbound source and iif, outbound destination and oif). */
static int dispatch_build(const struct pc_config *cfg, struct pc_plan_dispatch *dp)
{
	for (int fam = 0; fam < 2; fam++) {
		uint8_t family = fam == 0 ? AF_INET : AF_INET6;
		struct pc_plan_spans *out = fam == 0 ? &dp->addr4 : &dp->addr6;
		_cleanup_free_ struct span_item *items = NULL;
		size_t n_items = 0, cap = 0;

		out->width = fam == 0 ? 4 : 16;
		for (size_t z = 0; z < cfg->n_zones; z++) {
			for (size_t i = 0; i < cfg->zones[z].n_sources; i++) {
				const struct pc_prefix *p = &cfg->zones[z].sources[i];

				if (p->family != family)
					continue;
				struct span_item *it = PC_ARRAY_PUSH(items, n_items, cap);
				if (!it)
					return -ENOMEM;
				key_from_prefix(p, it->lo, it->hi);
				/* Longest prefix first; a tie (refused by validation) goes
				 * to the zone defined first. */
				it->prio = 255u - p->len;
				it->seq = (uint32_t)z;
				it->zone = z;
			}
		}
		int r = spans_flatten(items, n_items, out);
		if (r < 0)
			return r;
	}
	for (size_t z = 0; z < cfg->n_zones; z++) {
		for (size_t i = 0; i < cfg->zones[z].n_interfaces; i++) {
			struct pc_plan_iface *f = PC_ARRAY_PUSH(dp->ifaces, dp->n_ifaces, dp->cap_ifaces);
			if (!f)
				return -ENOMEM;
			f->name = cfg->zones[z].interfaces[i].name;
			f->zone = z;
		}
	}
	if (dp->n_ifaces > 1)
		qsort(dp->ifaces, dp->n_ifaces, sizeof(*dp->ifaces), iface_cmp);
	dp->default_zone = cfg->default_zone;
	return 0;
}

static enum pc_verdict_kind policy_verdict(enum pc_policy p, enum pc_dir dir)
{
	switch (p) {
	case PC_POLICY_ACCEPT:
		return PC_VERDICT_ACCEPT;
	case PC_POLICY_DROP:
		return PC_VERDICT_DROP;
	case PC_POLICY_REJECT:
		return PC_VERDICT_REJECT;
	case PC_POLICY_UNSET:
		break;
	}
	return dir == PC_DIR_IN ? PC_VERDICT_DROP : PC_VERDICT_ACCEPT;
}

static int plan_fill(struct pc_plan *plan, struct rule_lists *lists, struct pc_diags *d)
{
	const struct pc_config *cfg = plan->cfg;
	int r;

	r = rule_lists_fill(cfg, lists, d);
	if (r < 0)
		return r;
	for (size_t z = 0; z < cfg->n_zones; z++) {
		plan->zones[z].zone = &cfg->zones[z];
		plan->zones[z].dir[PC_DIR_IN].policy = policy_verdict(cfg->zones[z].policy_in, PC_DIR_IN);
		plan->zones[z].dir[PC_DIR_OUT].policy =
			policy_verdict(cfg->zones[z].policy_out, PC_DIR_OUT);
		plan->zones[z].dir[PC_DIR_FWD].policy =
			policy_verdict(cfg->zones[z].policy_fwd, PC_DIR_FWD);
		for (int dir = 0; dir < PC_N_DIRS; dir++) {
			const struct rule_lists *l = &lists[z * PC_N_DIRS + dir];

			r = chain_build(&plan->zones[z].dir[dir], l->v, l->n);
			if (r >= 0)
				r = chain_names_text(&plan->zones[z].dir[dir]);
			chain_names(&plan->zones[z].dir[dir]);
			if (r >= 0)
				r = chain_names_count(&plan->zones[z].dir[dir]);
			if (r < 0)
				return r;
		}
	}
	for (int dir = 0; dir < PC_N_DIRS; dir++) {
		r = dispatch_build(cfg, &plan->dispatch[dir]);
		if (r < 0)
			return r;
	}
	return plan_bans_build(plan);
}

int pc_plan_build(const struct pc_config *cfg, struct pc_plan **out, struct pc_diags *d)
{
	struct pc_plan *plan;
	struct rule_lists *lists;
	int r;

	if (cfg->n_zones == 0 || cfg->default_zone >= cfg->n_zones) {
		pc_error(d, NULL, "the configuration has no default zone");
		return -EINVAL;
	}
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return -ENOMEM;
	plan->cfg = cfg;
	plan->now_ms = bans_clock_ms();
	plan->n_zones = cfg->n_zones;
	plan->zones = calloc(cfg->n_zones, sizeof(*plan->zones));
	lists = calloc(cfg->n_zones * PC_N_DIRS, sizeof(*lists));
	r = plan->zones && lists ? plan_fill(plan, lists, d) : -ENOMEM;
	for (size_t i = 0; lists && i < cfg->n_zones * PC_N_DIRS; i++)
		free(lists[i].v);
	free(lists);
	if (r < 0) {
		pc_plan_free(plan);
		return r;
	}
	*out = plan;
	return 0;
}

static void entry_free(struct pc_plan_entry *e)
{
	for (size_t i = 0; i < e->n_pairs; i++)
		pair_free(&e->pairs[i]);
	free(e->pairs);
	free(e->ports);
	spans_free(&e->addr4);
	spans_free(&e->addr6);
}

void pc_plan_free(struct pc_plan *plan)
{
	if (!plan)
		return;
	for (size_t z = 0; plan->zones && z < plan->n_zones; z++) {
		for (int dir = 0; dir < PC_N_DIRS; dir++) {
			struct pc_plan_chain *c = &plan->zones[z].dir[dir];

			for (size_t i = 0; i < c->n_entries; i++)
				entry_free(&c->entries[i]);
			free(c->entries);
			chain_small_forget(c);
			chain_names_forget(c);
		}
		bans_free(&plan->zones[z].bans);
	}
	bans_free(&plan->bans);
	for (int dir = 0; dir < PC_N_DIRS; dir++) {
		spans_free(&plan->dispatch[dir].addr4);
		spans_free(&plan->dispatch[dir].addr6);
		free(plan->dispatch[dir].ifaces);
	}
	free(plan->zones);
	free(plan);
}
