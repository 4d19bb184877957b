/* What status and metrics read out of the configuration in force: the
 * per-rule counters, a rule and zone names as JSON. Below the
 * handlers that show them (commands.c, metrics.c), above state.c. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter/nf_tables.h>
#include <sys/socket.h>

#include "log.h"
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
	uint64_t installed, applies;
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
 * one element per such host, decided by the first such rule. A hash table
 * by address; each chain in increasing rule order. */
struct host_owner {
	uint8_t family, addr[16];
	uint32_t rule;
	uint32_t next; /* index + 1 of the next entry in the chain, 0: none */
};

struct host_owners {
	struct host_owner *items;
	size_t n, cap;
	uint32_t *head, *tail; /* by bucket: index + 1, 0: empty */
	size_t mask;
};

static void host_owners_free(struct host_owners *h)
{
	free(h->items);
	free(h->head);
	free(h->tail);
}

static size_t host_hash(uint8_t family, const uint8_t addr[16], size_t mask)
{
	uint64_t a, b;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	return (size_t)(((a ^ (b * 0x9e3779b97f4a7c15u) ^ family) * 0xff51afd7ed558ccdu) >> 32) & mask;
}

static bool rule_addr_only(const struct pc_rule *r)
{
	return !r->n_ports && !r->l4proto && !r->n_sports && (!r->n_from || !r->n_to);
}

static int host_owners_add(struct host_owners *h, const struct pc_prefix *p, uint32_t rule)
{
	struct host_owner *o = PC_ARRAY_PUSH(h->items, h->n, h->cap);
	size_t b;

	if (!o)
		return -ENOMEM;
	*o = (struct host_owner){.family = p->family, .rule = rule};
	memcpy(o->addr, p->addr, sizeof(o->addr));
	b = host_hash(o->family, o->addr, h->mask);
	if (h->tail[b])
		h->items[h->tail[b] - 1].next = (uint32_t)h->n;
	else
		h->head[b] = (uint32_t)h->n;
	h->tail[b] = (uint32_t)h->n;
	return 0;
}

static int host_owners_make(const struct pc_config *cfg, struct host_owners *h)
{
	size_t buckets = 16;

	*h = (struct host_owners){0};
	while (buckets < 2 * cfg->n_rules)
		buckets *= 2;
	h->mask = buckets - 1;
	h->head = calloc(buckets, sizeof(*h->head));
	h->tail = calloc(buckets, sizeof(*h->tail));
	if (!h->head || !h->tail)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct pc_rule *r = &cfg->rules[i];
		const struct pc_prefix *p = r->n_from ? r->from : r->to;
		size_t np = r->n_from ? r->n_from : r->n_to;

		if (!rule_addr_only(r))
			continue;
		for (size_t j = 0; j < np; j++)
			if (p[j].len == (p[j].family == AF_INET ? 32 : 128) &&
			    host_owners_add(h, &p[j], (uint32_t)i) < 0)
				return -ENOMEM;
	}
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
 * map's first on, of its zones, naming that host alone; NULL when none
 * does (a range's element, or no rule names the host alone). */
static const struct pc_rule *host_owner_find(const struct pc_config *cfg,
					     const struct host_owners *h,
					     const struct pc_rule *first,
					     const struct nftnl_set_elem *ce)
{
	/* libnftnl takes no const, but reading an attribute changes nothing. */
	struct nftnl_set_elem *e = (struct nftnl_set_elem *)ce;
	uint8_t addr[16] = {0}, family;
	uint32_t len = 0, k;
	const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

	if (!key || (len != 4 && len != 16) ||
	    (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
	     nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END))
		return NULL;
	family = len == 4 ? AF_INET : AF_INET6;
	memcpy(addr, key, len);
	for (k = h->head[host_hash(family, addr, h->mask)]; k; k = h->items[k - 1].next) {
		const struct host_owner *o = &h->items[k - 1];

		if (o->family == family && !memcmp(o->addr, addr, sizeof(addr)) &&
		    &cfg->rules[o->rule] >= first && rules_same_group(&cfg->rules[o->rule], first))
			return &cfg->rules[o->rule];
	}
	return NULL;
}

static int udata_comment_cb(const struct nftnl_udata *attr, void *data)
{
	const struct nftnl_udata **tb = data;
	uint8_t type = nftnl_udata_type(attr);

	if (type == NFTNL_UDATA_SET_ELEM_COMMENT)
		tb[type] = attr;
	return 0;
}

/* The compiler marks each element of a merged map with the comment of the
 * rule that decides it (pc_rule_comment: its own comment, its text in the
 * CLI's file, else its file's base name and line, "20-web.rules:4"). A
 * hash table of the rules by that text finds the rule of an address
 * range's element. */
struct comment_owners {
	uint32_t *head, *next; /* head by bucket, next by rule: index + 1, 0: none */
	size_t mask;
	int err; /* made on first need (most elements are hosts): -ENOMEM when it failed */
};

static size_t rule_comment_hash(const struct pc_rule *r, size_t mask)
{
	char comment[PC_COMMENT_MAX + 1];

	pc_rule_comment(r, comment, sizeof(comment));
	return (size_t)pc_fnv1a(PC_FNV1A_START, comment, strlen(comment)) & mask;
}

static bool rule_comment_is(const struct pc_rule *r, const char *text, size_t len)
{
	char comment[PC_COMMENT_MAX + 1];

	pc_rule_comment(r, comment, sizeof(comment));
	return strlen(comment) == len && !memcmp(comment, text, len);
}

static void comment_owners_free(struct comment_owners *c)
{
	free(c->head);
	free(c->next);
}

static int comment_owners_make(const struct pc_config *cfg, struct comment_owners *c)
{
	size_t buckets = 16;
	_cleanup_free_ uint32_t *tail = NULL;

	*c = (struct comment_owners){0};
	while (buckets < 2 * cfg->n_rules)
		buckets *= 2;
	c->mask = buckets - 1;
	c->head = calloc(buckets, sizeof(*c->head));
	c->next = calloc(cfg->n_rules + 1, sizeof(*c->next));
	tail = calloc(buckets, sizeof(*tail));
	if (!c->head || !c->next || !tail)
		return -ENOMEM;
	/* Each chain in increasing rule order. */
	for (size_t i = 0; i < cfg->n_rules; i++) {
		size_t b = rule_comment_hash(&cfg->rules[i], c->mask);

		if (tail[b])
			c->next[tail[b] - 1] = (uint32_t)(i + 1);
		else
			c->head[b] = (uint32_t)(i + 1);
		tail[b] = (uint32_t)(i + 1);
	}
	return 0;
}

/* The comment of an element, NULL when it has none. */
static const char *elem_comment(const struct nftnl_set_elem *ce, size_t *tl)
{
	/* libnftnl takes no const, but reading an attribute changes nothing. */
	struct nftnl_set_elem *e = (struct nftnl_set_elem *)ce;
	const struct nftnl_udata *attr[NFTNL_UDATA_SET_ELEM_MAX + 1] = {0};
	uint32_t len = 0;
	const void *ud = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA)
				 ? nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len)
				 : NULL;
	const char *text;

	if (!ud || nftnl_udata_parse(ud, len, udata_comment_cb, attr) < 0 ||
	    !attr[NFTNL_UDATA_SET_ELEM_COMMENT])
		return NULL;
	text = nftnl_udata_get(attr[NFTNL_UDATA_SET_ELEM_COMMENT]);
	*tl = strnlen(text, nftnl_udata_len(attr[NFTNL_UDATA_SET_ELEM_COMMENT]));
	return text;
}

/* The address an address map's element begins at: the end of its key,
 * after a protocol and a port in a map of ports and addresses. The
 * family, or 0 for an element of no address. */
static uint8_t elem_addr(const struct nftnl_set_elem *ce, uint8_t addr[16])
{
	/* libnftnl takes no const, but reading an attribute changes nothing. */
	struct nftnl_set_elem *e = (struct nftnl_set_elem *)ce;
	uint32_t len = 0;
	const uint8_t *key = ce ? nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len) : NULL;
	size_t at = len == 12 || len == 24 ? 8 : 0;

	if (!key || (len != 4 && len != 16 && len != 12 && len != 24))
		return 0;
	memset(addr, 0, 16);
	memcpy(addr, key + at, len - at);
	return len - at == 4 ? AF_INET : AF_INET6;
}

static bool prefixes_hold(const struct pc_prefix *p, size_t n, uint8_t family,
			  const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++) {
		unsigned full = p[i].len / 8, rest = p[i].len % 8;

		if (p[i].family == family && !memcmp(p[i].addr, addr, full) &&
		    (!rest || !((p[i].addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest)))))
			return true;
	}
	return false;
}

/* The first rule from first on, of its zones, whose comment is text and,
 * for an element of an address, one of whose addresses holds it (rules of
 * one comment differ by their addresses); else the first with the
 * comment; NULL when none has it. */
static const struct pc_rule *comment_owner_find(const struct pc_config *cfg,
						struct comment_owners *c,
						const struct pc_rule *first, const char *text, size_t tl,
						const struct nftnl_set_elem *e)
{
	const struct pc_rule *named = NULL;
	uint8_t addr[16], family = elem_addr(e, addr);
	size_t bucket;

	if (!c->head && !c->err)
		c->err = comment_owners_make(cfg, c);
	if (c->err)
		return NULL;
	bucket = (size_t)pc_fnv1a(PC_FNV1A_START, text, tl) & c->mask;
	for (uint32_t k = c->head[bucket]; k; k = c->next[k - 1]) {
		const struct pc_rule *r = &cfg->rules[k - 1];

		if (r < first || !rule_comment_is(r, text, tl) || !rules_same_group(r, first))
			continue;
		if (!family || prefixes_hold(r->from, r->n_from, family, addr) ||
		    prefixes_hold(r->to, r->n_to, family, addr))
			return r;
		if (!named)
			named = r;
	}
	return named;
}

/* An address map's element: the rule naming its host alone, when the
 * element carries that rule's comment (a wider prefix may decide a host);
 * else the first rule whose comment it carries (a range's); else first. */
static const struct pc_rule *addr_owner(const struct pc_config *cfg, const struct host_owners *h,
					struct comment_owners *c,
					const struct pc_rule *first, const struct nftnl_set_elem *e)
{
	const struct pc_rule *host = host_owner_find(cfg, h, first, e), *by;
	size_t tl = 0;
	const char *text = elem_comment(e, &tl);

	if (host && (!text || rule_comment_is(host, text, tl)))
		return host;
	by = text ? comment_owner_find(cfg, c, first, text, tl, e) : NULL;
	return by ? by : host ? host : first;
}

static int udata_rule_comment_cb(const struct nftnl_udata *attr, void *data)
{
	const struct nftnl_udata **tb = data;

	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT)
		*tb = attr;
	return 0;
}

/* A kernel rule of a small run lowered rule by rule (by_rule): the rule
 * by_rule_at after the run's first when its comment is the kernel rule's
 * (two of the run may have one comment), else the first rule from the
 * run's first on that has it; else first. */
static const struct pc_rule *by_rule_owner(const struct pc_config *cfg,
					   struct comment_owners *c,
					   const struct pc_nft_object *o)
{
	const struct nftnl_rule *nr = o->obj;
	const struct nftnl_udata *attr = NULL;
	uint32_t len = 0;
	const void *ud = nftnl_rule_is_set(nr, NFTNL_RULE_USERDATA)
				 ? nftnl_rule_get_data(nr, NFTNL_RULE_USERDATA, &len)
				 : NULL;
	size_t at = (size_t)(o->rule - cfg->rules) + o->by_rule_at;
	const struct pc_rule *by = NULL;

	if (ud && nftnl_udata_parse(ud, len, udata_rule_comment_cb, &attr) >= 0 && attr) {
		const char *text = nftnl_udata_get(attr);
		size_t tl = strnlen(text, nftnl_udata_len(attr));

		if (at < cfg->n_rules && rule_comment_is(&cfg->rules[at], text, tl))
			return &cfg->rules[at];
		by = comment_owner_find(cfg, c, o->rule, text, tl, NULL);
	}
	return by ? by : o->rule;
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
	_cleanup_free_ struct pc_elem_owner *ports = NULL;
	_cleanup_free_ size_t *owner = NULL, *port_at = NULL;
	_cleanup_free_ bool *by_port = NULL;
	struct host_owners hosts = {0};
	struct comment_owners comments = {0};
	struct elem_collect c = {0};
	size_t n_ports = 0;
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
	/* Port map elements by the rules' ports (pc_ruleset_elem_rules), those
	 * alone: its sort of every rule is for nothing in an address map. */
	ports = malloc((c.n + 1) * sizeof(*ports));
	port_at = malloc((c.n + 1) * sizeof(*port_at));
	by_port = calloc(c.n + 1, sizeof(*by_port));
	r = ports && port_at && by_port ? 0 : -ENOMEM;
	for (size_t i = 0; r >= 0 && i < c.n; i++) {
		uint32_t len = 0;

		c.items[i].rule = c.items[i].first;
		if (c.refs[i].elem && nftnl_set_elem_get((struct nftnl_set_elem *)c.refs[i].elem,
							 NFTNL_SET_ELEM_KEY, &len) &&
		    len == 8) {
			port_at[n_ports] = i;
			ports[n_ports++] = c.items[i];
			by_port[i] = true;
		}
	}
	if (r >= 0)
		r = pc_ruleset_elem_rules(cfg, ports, n_ports);
	for (size_t i = 0; r >= 0 && i < n_ports; i++)
		c.items[port_at[i]].rule = ports[i].rule;
	if (r >= 0)
		r = host_owners_make(cfg, &hosts);
	owner = malloc((c.n + 1) * sizeof(*owner));
	x->start = calloc(cfg->n_rules + 2, sizeof(*x->start));
	x->refs = malloc((c.n + 1) * sizeof(*x->refs));
	if (r < 0 || !owner || !x->start || !x->refs) {
		c.err = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < c.n; i++) {
		const struct pc_rule *rule = c.items[i].rule;

		/* A port map's element has its rule from pc_ruleset_elem_rules,
		 * the run's first included. */
		if (c.refs[i].elem && rule == c.items[i].first && !by_port[i])
			rule = addr_owner(cfg, &hosts, &comments, rule, c.refs[i].elem);
		else if (!c.refs[i].elem && rs->objs[c.refs[i].obj].by_rule)
			rule = by_rule_owner(cfg, &comments, &rs->objs[c.refs[i].obj]);
		owner[i] = rule_index(cfg, rule);
		if (owner[i] != SIZE_MAX)
			x->start[owner[i] + 1]++;
	}
	if (comments.err) {
		c.err = comments.err;
		goto fail;
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
	host_owners_free(&hosts);
	comment_owners_free(&comments);
	return 0;
fail:
	free(c.items);
	free(c.refs);
	host_owners_free(&hosts);
	comment_owners_free(&comments);
	counter_index_clear(x);
	return c.err ? c.err : -ENOMEM;
}

/* Whether the configuration in force stood at (installed, applies) within
 * the row of changes of ban elements alone that leads to where it stands
 * now (dm->bans_only, which the state path marks). */
static bool bans_only_since(const struct daemon *dm, uint64_t installed, uint64_t applies)
{
	return installed >= dm->bans_only[0].installed && applies >= dm->bans_only[0].applies &&
	       dm->applied->ruleset->installed == dm->bans_only[1].installed &&
	       daemon_changes(dm) == dm->bans_only[1].applies;
}

/* The index for the configuration in force, made again when that changed
 * (another configuration, or another commit of the same one). */
static int counter_index_get(struct daemon *dm, const struct counter_index **out)
{
	const struct pc_config *cfg = dm->applied->cfg;
	const struct pc_ruleset *rs = dm->applied->ruleset;
	uint64_t applies = daemon_changes(dm);
	/* Sets changed in place made whole first: the index points into them,
	 * and making them whole later would free what it points at. */
	int r = state_ruleset_sync(dm);

	if (r < 0)
		return r;
	if (cached.start && cached.cfg == cfg && cached.rs == rs &&
	    bans_only_since(dm, cached.installed, cached.applies)) {
		/* No rule object, no counted set changed since. */
		cached.installed = rs->installed;
		cached.applies = applies;
	}
	if (cached.start && cached.cfg == cfg && cached.rs == rs &&
	    cached.installed == rs->installed && cached.applies == applies) {
		*out = &cached;
		return 0;
	}
	counter_index_clear(&cached);
	r = counter_index_make(cfg, rs, &cached);
	cached.applies = applies;
	log_debug("status: the index of %zu rules' counters made again", cfg->n_rules);
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
	uint64_t applies = daemon_changes(dm);

	/* Bans alone change no rule: a read of 100 pages would start again
	 * at every ban fail2ban makes meanwhile. */
	if (seen.cfg == cfg && seen.rs == rs && rs && seen.panic == dm->panic &&
	    seen.disabled == dm->disabled && bans_only_since(dm, seen.installed, seen.applies)) {
		seen.installed = installed;
		seen.applies = applies;
	}
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
