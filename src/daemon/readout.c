/* What status and metrics read out of the configuration in force: the
 * per-rule counters, a rule and zone names as JSON. Below the
 * handlers that show them (commands.c, metrics.c), above state.c. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <sys/socket.h>

#include "readout.h"
#include "state.h"

static const char *const origin_names[] = {
	[PC_ORIGIN_SHIPPED] = "shipped", [PC_ORIGIN_ADMIN] = "admin", [PC_ORIGIN_CLI] = "cli",
	[PC_ORIGIN_DEFAULTS] = "defaults",
};

static const char *const source_names[] = {
	[SOURCE_FILES] = "files", [SOURCE_LAST_GOOD] = "last-good",
	[SOURCE_SAFE] = "safe-policy", [SOURCE_KERNEL] = "kernel",
	[SOURCE_ROLLBACK] = "rolled-back",
};

const char *source_name(enum daemon_source source)
{
	return source_names[source];
}

const char *origin_name(enum pc_origin origin)
{
	return origin_names[origin];
}

json_t *names_json(const struct pc_name *names, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(names[i].name));
	return a;
}

/*
 * Which kernel objects count for which rule: rule objects by the rule
 * they came from, elements of counted sets by the rule that decides them.
 * Made once per configuration in force (O(objects + elements) log) and
 * kept, so that a page of status reads the counters of its rules alone.
 */
struct counter_index {
	const struct pc_config *cfg;
	const struct pc_ruleset *rs;
	uint64_t installed;
	size_t *start; /* refs of rule i: refs[start[i]..start[i + 1]) */
	struct pc_nl_counter_ref *refs;
};

static struct counter_index cached;

static void counter_index_clear(struct counter_index *x)
{
	free(x->start);
	free(x->refs);
	*x = (struct counter_index){0};
}

/* A host a rule names alone ("deny from ADDR"): merged address maps hold
 * one element per such host, decided by the first such rule. */
struct host_owner {
	uint8_t family, addr[16];
	uint32_t rule;
};

static int host_owner_cmp(const void *a, const void *b)
{
	const struct host_owner *x = a, *y = b;
	int c = x->family - y->family;

	if (!c)
		c = memcmp(x->addr, y->addr, sizeof(x->addr));
	return c ? c : (x->rule > y->rule) - (x->rule < y->rule);
}

static bool rule_addr_only(const struct pc_rule *r)
{
	return !r->n_ports && !r->l4proto && !r->n_sports && (!r->n_from || !r->n_to);
}

static int host_owners_make(const struct pc_config *cfg, struct host_owner **out, size_t *n)
{
	size_t k = 0, cap = 0;

	*out = NULL;
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct pc_rule *r = &cfg->rules[i];
		const struct pc_prefix *p = r->n_from ? r->from : r->to;
		size_t np = r->n_from ? r->n_from : r->n_to;

		if (!rule_addr_only(r))
			continue;
		for (size_t j = 0; j < np; j++) {
			struct host_owner *h;

			if (p[j].len != (p[j].family == AF_INET ? 32 : 128))
				continue;
			h = PC_ARRAY_PUSH(*out, k, cap);
			if (!h)
				return -ENOMEM;
			*h = (struct host_owner){.family = p[j].family, .rule = (uint32_t)i};
			memcpy(h->addr, p[j].addr, sizeof(h->addr));
		}
	}
	if (k)
		qsort(*out, k, sizeof(**out), host_owner_cmp);
	*n = k;
	return 0;
}

static bool rules_same_group(const struct pc_rule *a, const struct pc_rule *b)
{
	if (a->dir != b->dir || a->n_zones != b->n_zones)
		return false;
	for (size_t i = 0; i < a->n_zones; i++)
		if (!streq(a->zones[i].name, b->zones[i].name))
			return false;
	return true;
}

/* The rule of an address map's host element: the first rule from the
 * map's first on, of its zones, naming that host alone; first when none
 * does (a range's element, or a host a wider prefix decides). */
static const struct pc_rule *host_owner_find(const struct pc_config *cfg,
					     const struct host_owner *hosts, size_t n,
					     const struct pc_rule *first,
					     const struct nftnl_set_elem *ce)
{
	/* libnftnl takes no const, but reading an attribute changes nothing. */
	struct nftnl_set_elem *e = (struct nftnl_set_elem *)ce;
	struct host_owner key = {0};
	uint32_t len = 0;
	const void *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	size_t lo = 0, hi = n;

	if (!k || (len != 4 && len != 16) ||
	    (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
	     nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END))
		return first;
	key.family = len == 4 ? AF_INET : AF_INET6;
	memcpy(key.addr, k, len);
	key.rule = (uint32_t)(first - cfg->rules);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (host_owner_cmp(&hosts[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && hosts[lo].family == key.family &&
	       !memcmp(hosts[lo].addr, key.addr, sizeof(key.addr));
	     lo++)
		if (rules_same_group(&cfg->rules[hosts[lo].rule], first))
			return &cfg->rules[hosts[lo].rule];
	return first;
}

struct elem_collect {
	struct pc_elem_owner *items;
	struct pc_nl_counter_ref *refs;
	size_t n, cap;
	size_t obj;
	const struct pc_rule *first;
	int err;
};

static int elem_collect_cb(struct nftnl_set_elem *e, void *data)
{
	struct elem_collect *c = data;
	size_t cap = c->cap;
	struct pc_elem_owner *o = PC_ARRAY_PUSH(c->items, c->n, c->cap);

	if (!o) {
		c->err = -ENOMEM;
		return -1;
	}
	if (c->cap != cap) {
		struct pc_nl_counter_ref *r = realloc(c->refs, c->cap * sizeof(*r));

		if (!r) {
			c->err = -ENOMEM;
			return -1;
		}
		c->refs = r;
	}
	*o = (struct pc_elem_owner){.first = c->first, .elem = e};
	c->refs[c->n - 1] = (struct pc_nl_counter_ref){.obj = c->obj, .elem = e};
	return 0;
}

static size_t rule_index(const struct pc_config *cfg, const struct pc_rule *r)
{
	return r && r >= cfg->rules && r < cfg->rules + cfg->n_rules ? (size_t)(r - cfg->rules)
								      : SIZE_MAX;
}

static int counter_index_make(const struct pc_config *cfg, const struct pc_ruleset *rs,
			      struct counter_index *x)
{
	_cleanup_free_ struct host_owner *hosts = NULL;
	_cleanup_free_ size_t *owner = NULL;
	struct elem_collect c = {0};
	size_t n_hosts = 0;
	int r;

	*x = (struct counter_index){.cfg = cfg, .rs = rs, .installed = rs->installed};
	/* Rule objects first, as refs with no element. */
	for (size_t i = 0; i < rs->n_objs; i++) {
		const struct pc_nft_object *o = &rs->objs[i];

		if (o->kind == PC_NFT_RULE && rule_index(cfg, o->rule) != SIZE_MAX) {
			c.obj = i;
			c.first = o->rule;
			if (elem_collect_cb(NULL, &c) < 0)
				goto fail;
		}
	}
	for (size_t i = 0; i < rs->n_objs; i++) {
		const struct pc_nft_object *o = &rs->objs[i];

		if (o->kind != PC_NFT_SET || rule_index(cfg, o->rule) == SIZE_MAX ||
		    !pc_nl_set_counted(o->obj))
			continue;
		c.obj = i;
		c.first = o->rule;
		if (nftnl_set_elem_foreach(o->obj, elem_collect_cb, &c) < 0)
			goto fail;
	}
	r = pc_ruleset_elem_rules(cfg, c.items, c.n);
	if (r >= 0)
		r = host_owners_make(cfg, &hosts, &n_hosts);
	owner = malloc((c.n + 1) * sizeof(*owner));
	x->start = calloc(cfg->n_rules + 2, sizeof(*x->start));
	x->refs = malloc((c.n + 1) * sizeof(*x->refs));
	if (r < 0 || !owner || !x->start || !x->refs) {
		c.err = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < c.n; i++) {
		const struct pc_rule *rule = c.items[i].rule;

		if (c.refs[i].elem && rule == c.items[i].first)
			rule = host_owner_find(cfg, hosts, n_hosts, rule, c.refs[i].elem);
		owner[i] = rule_index(cfg, rule);
		if (owner[i] != SIZE_MAX)
			x->start[owner[i] + 1]++;
	}
	/* Counting sort by rule, each rule's refs in ruleset order: a set's
	 * elements stay next to each other, to be asked for in one message. */
	for (size_t i = 0; i < cfg->n_rules; i++)
		x->start[i + 1] += x->start[i];
	for (size_t i = 0; i < c.n; i++)
		if (owner[i] != SIZE_MAX)
			x->refs[x->start[owner[i]]++] = c.refs[i];
	for (size_t i = cfg->n_rules; i > 0; i--)
		x->start[i] = x->start[i - 1];
	x->start[0] = 0;
	free(c.items);
	free(c.refs);
	return 0;
fail:
	free(c.items);
	free(c.refs);
	counter_index_clear(x);
	return c.err ? c.err : -ENOMEM;
}

/* The index for the configuration in force, made again when that changed
 * (another configuration, or another commit of the same one). */
static int counter_index_get(struct daemon *dm, const struct counter_index **out)
{
	const struct pc_config *cfg = dm->applied->cfg;
	const struct pc_ruleset *rs = dm->applied->ruleset;
	int r;

	if (cached.start && cached.cfg == cfg && cached.rs == rs &&
	    cached.installed == rs->installed) {
		*out = &cached;
		return 0;
	}
	counter_index_clear(&cached);
	r = counter_index_make(cfg, rs, &cached);
	*out = &cached;
	return r;
}

uint64_t readout_generation(const struct daemon *dm)
{
	static struct {
		const void *cfg, *rs;
		uint64_t installed, applies;
		bool panic, disabled;
	} seen;
	static uint64_t generation = 1;
	const struct pc_config *cfg = dm->applied ? dm->applied->cfg : NULL;
	const struct pc_ruleset *rs = dm->applied ? dm->applied->ruleset : NULL;
	uint64_t installed = rs ? rs->installed : 0;
	uint64_t applies = dm->stats.applies_ok + dm->stats.applies_failed;

	if (seen.cfg != cfg || seen.rs != rs || seen.installed != installed ||
	    seen.applies != applies || seen.panic != dm->panic || seen.disabled != dm->disabled) {
		generation++;
		seen.cfg = cfg;
		seen.rs = rs;
		seen.installed = installed;
		seen.applies = applies;
		seen.panic = dm->panic;
		seen.disabled = dm->disabled;
	}
	return generation;
}

int rule_counters_page(struct daemon *dm, size_t from, size_t to, uint64_t *packets,
		       uint64_t *bytes)
{
	_cleanup_free_ uint64_t *p = NULL, *b = NULL;
	const struct counter_index *x;
	size_t n, base;
	int r;

	if (!dm->applied->ruleset || dm->disabled || from >= to)
		return 0;
	r = counter_index_get(dm, &x);
	if (r < 0)
		return r;
	base = x->start[from];
	n = x->start[to] - base;
	p = calloc(n + 1, sizeof(*p));
	b = calloc(n + 1, sizeof(*b));
	if (!p || !b)
		return -ENOMEM;
	r = state_read_counters_of(dm, x->refs + base, n, p, b);
	if (r < 0)
		return r;
	for (size_t i = from; i < to; i++)
		for (size_t k = x->start[i]; k < x->start[i + 1]; k++) {
			packets[i - from] += p[k - base];
			bytes[i - from] += b[k - base];
		}
	return 0;
}

json_t *rule_json(const struct pc_config *cfg, size_t i, uint64_t packets, uint64_t bytes)
{
	const struct pc_rule *r = &cfg->rules[i];

	return json_pack("{s:I,s:s?,s:i,s:i,s:s,s:o,s:s,s:s?,s:I,s:I}", "number",
			 (json_int_t)(i + 1), "file", r->loc.file, "line", (int)r->loc.line,
			 "column", (int)r->loc.col, "text", r->text, "zones",
			 r->n_zones ? names_json(r->zones, r->n_zones)
				    : json_pack("[s]", cfg->zones[cfg->default_zone].name),
			 "origin", origin_name(r->origin), "comment", r->comment, "packets",
			 (json_int_t)packets, "bytes", (json_int_t)bytes);
}
