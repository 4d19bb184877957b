/* Bans: per scope (every zone, or one zone) and family, one interval set
 * of banned prefixes whose elements carry the ban's remaining time as a
 * kernel timeout. Built the same way by a full compile and by
 * pc_ruleset_bans_update, so that the two agree element for element. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libnftnl/set.h>

#include "compile-internal.h"
#include "nft-build.h"
#include "portctl/compile.h"
#include "portctl/util.h"

uint64_t bans_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool ban_in_force(const struct pc_ban_entry *b, uint64_t now_ms)
{
	return b->expires == 0 || b->expires * 1000u > now_ms;
}

/* Never-expiring bans first, then the latest to expire: where bans
 * overlap, the one that holds longest decides, so that a shorter one
 * lapsing in the kernel leaves no hole in a longer one. */
static uint32_t ban_prio(const struct pc_ban_entry *b)
{
	if (b->expires == 0)
		return 0;
	return UINT32_MAX - (uint32_t)(b->expires < UINT32_MAX - 1 ? b->expires : UINT32_MAX - 1);
}

/* The spans of the bans of one scope (zone < 0: every zone) and family. */
static int ban_spans_build(const struct pc_config *cfg, uint64_t now_ms, ssize_t zone,
			   uint8_t family, struct pc_plan_spans *out)
{
	_cleanup_free_ struct span_item *items = NULL;
	size_t n = 0, cap = 0;

	out->width = family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < cfg->n_bans; i++) {
		const struct pc_ban_entry *b = &cfg->bans[i];
		const struct pc_zone *z = b->zone ? pc_config_zone(cfg, b->zone) : NULL;
		struct span_item *it;

		if (b->addr.family != family || !ban_in_force(b, now_ms))
			continue;
		if (zone < 0 ? b->zone != NULL : !z || z - cfg->zones != zone)
			continue;
		it = PC_ARRAY_PUSH(items, n, cap);
		if (!it)
			return -ENOMEM;
		*it = (struct span_item){ .prio = ban_prio(b), .seq = (uint32_t)i,
					  .verdict = PC_VERDICT_DROP, .ban = b };
		key_from_prefix(&b->addr, it->lo, it->hi);
	}
	return spans_flatten(items, n, out);
}

static int bans_build(const struct pc_config *cfg, uint64_t now_ms, ssize_t zone,
		      struct pc_plan_bans *out)
{
	int r = ban_spans_build(cfg, now_ms, zone, AF_INET, &out->addr4);

	return r < 0 ? r : ban_spans_build(cfg, now_ms, zone, AF_INET6, &out->addr6);
}

void bans_free(struct pc_plan_bans *b)
{
	spans_free(&b->addr4);
	spans_free(&b->addr6);
}

int plan_bans_build(struct pc_plan *plan)
{
	int r = bans_build(plan->cfg, plan->now_ms, -1, &plan->bans);

	for (size_t z = 0; r >= 0 && z < plan->n_zones; z++)
		r = bans_build(plan->cfg, plan->now_ms, (ssize_t)z, &plan->zones[z].bans);
	return r;
}

int pc_plan_bans_refresh(struct pc_plan *plan)
{
	bans_free(&plan->bans);
	for (size_t z = 0; z < plan->n_zones; z++)
		bans_free(&plan->zones[z].bans);
	plan->now_ms = bans_clock_ms();
	return plan_bans_build(plan);
}

const struct pc_ban_entry *bans_find(const struct pc_plan_bans *b, uint8_t family,
				     const uint8_t *addr)
{
	const struct pc_plan_span *sp;
	uint8_t key[16] = { 0 };

	memcpy(key, addr, family == AF_INET ? 4 : 16);
	sp = spans_find(family == AF_INET ? &b->addr4 : &b->addr6, key);
	return sp ? sp->ban : NULL;
}

void ban_set_name(char *buf, size_t size, uint8_t family, const char *zone)
{
	snprintf(buf, size, "ban%c%s%s", family == AF_INET ? '4' : '6', zone ? "_" : "",
		 zone ? zone : "");
}

struct nftnl_set *ban_set_new(const char *name, uint32_t id, uint8_t family)
{
	return set_new(name, id, NFT_SET_INTERVAL | NFT_SET_TIMEOUT,
		       family == AF_INET ? NFT_DTYPE_IPADDR : NFT_DTYPE_IP6ADDR,
		       family == AF_INET ? 4 : 16);
}

int ban_comment(const struct pc_ban_entry *b, char *buf, size_t size)
{
	char addr[64], until[32] = "";
	time_t t = (time_t)b->expires;
	struct tm tm;

	if (pc_prefix_format(&b->addr, addr, sizeof(addr)) < 0)
		return -EINVAL;
	/* The end time, not the time left: it changes only when the ban does,
	 * so a recompile finds the element unchanged (see src/netlink/diff.c). */
	if (b->expires && gmtime_r(&t, &tm))
		strftime(until, sizeof(until), " until %Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(buf, size, "portctl ban %s%s", addr, until);
	return 0;
}

/* One span: its start element, with the deciding ban's comment and the
 * time it has left as a timeout, then the end element one past it (an end
 * element takes no timeout; the kernel drops it with its start). */
static int ban_span_add(struct nftnl_set *s, const struct pc_plan_span *sp, uint8_t width,
			uint64_t now_ms, size_t *n_elems)
{
	char comment[PC_COMMENT_MAX + 1];
	uint8_t end[16];
	struct elem_spec e = { .key = sp->lo, .len = width, .verdict = -1 };
	int r;

	if (sp->ban->expires)
		e.timeout_ms = sp->ban->expires * 1000u - now_ms;
	if (ban_comment(sp->ban, comment, sizeof(comment)) >= 0)
		e.comment = comment;
	r = set_add_elem(s, &e);
	if (r < 0)
		return r;
	(*n_elems)++;
	memcpy(end, sp->hi, 16);
	if (!key_inc(end, width))
		return 0;
	e = (struct elem_spec){ .key = end, .len = width, .verdict = -1,
				.flags = NFT_SET_ELEM_INTERVAL_END };
	(*n_elems)++;
	return set_add_elem(s, &e);
}

int ban_set_fill(struct nftnl_set *s, const struct pc_plan_spans *spans, uint64_t now_ms,
		 size_t *n_elems)
{
	int r = set_add_spans_open(s, spans, n_elems);

	for (size_t i = 0; r >= 0 && i < spans->n; i++)
		r = ban_span_add(s, &spans->items[i], spans->width, now_ms, n_elems);
	return r;
}

static size_t set_elem_count(struct nftnl_set *s)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	size_t n = 0;

	for (struct nftnl_set_elem *e = it ? nftnl_set_elems_iter_next(it) : NULL; e;
	     e = nftnl_set_elems_iter_next(it))
		n++;
	nftnl_set_elems_iter_destroy(it);
	return n;
}

/* The ban sets come first among the sets (see lower_all): every zone's
 * v4 and v6, then each zone's, in the configuration's zone order. */
static ssize_t ban_set_obj(const struct pc_ruleset *rs, size_t k, const char *name)
{
	size_t i = 1 + rs->n_chains + k;

	if (i >= rs->n_objs || rs->objs[i].kind != PC_NFT_SET ||
	    !streq(nftnl_set_get_str(rs->objs[i].obj, NFTNL_SET_NAME), name))
		return -1;
	return (ssize_t)i;
}

int pc_ruleset_bans_update(struct pc_ruleset *rs, const struct pc_config *cfg)
{
	size_t n_sets = 2 * (cfg->n_zones + 1), n_elems = 0, n_old = 0, next;
	_cleanup_free_ struct nftnl_set **news = calloc(n_sets, sizeof(*news));
	_cleanup_free_ size_t *objs = calloc(n_sets, sizeof(*objs));
	uint64_t now_ms = bans_clock_ms();
	int r = news && objs ? 0 : -ENOMEM;

	/* Every new set is made before any is swapped in: on failure rs keeps
	 * what it had. */
	for (size_t k = 0; r >= 0 && k < n_sets; k++) {
		ssize_t zone = (ssize_t)(k / 2) - 1;
		uint8_t family = k % 2 == 0 ? AF_INET : AF_INET6;
		struct pc_plan_spans spans = { 0 };
		char name[128];
		ssize_t obj;

		ban_set_name(name, sizeof(name), family, zone < 0 ? NULL : cfg->zones[zone].name);
		obj = ban_set_obj(rs, k, name);
		if (obj < 0) {
			r = -EINVAL; /* not a ruleset compiled from this configuration */
			break;
		}
		objs[k] = (size_t)obj;
		news[k] = ban_set_new(name, nftnl_set_get_u32(rs->objs[obj].obj, NFTNL_SET_ID),
				      family);
		r = news[k] ? ban_spans_build(cfg, now_ms, zone, family, &spans) : -ENOMEM;
		if (r >= 0)
			r = ban_set_fill(news[k], &spans, now_ms, &n_elems);
		spans_free(&spans);
	}
	/* And no more ban sets than cfg has zones for. */
	next = 1 + rs->n_chains + n_sets;
	if (r >= 0 && next < rs->n_objs && rs->objs[next].kind == PC_NFT_SET &&
	    !strncmp(nftnl_set_get_str(rs->objs[next].obj, NFTNL_SET_NAME), "ban", 3))
		r = -EINVAL;
	if (r < 0) {
		for (size_t k = 0; news && k < n_sets; k++)
			if (news[k])
				nftnl_set_free(news[k]);
		return r;
	}
	for (size_t k = 0; k < n_sets; k++) {
		n_old += set_elem_count(rs->objs[objs[k]].obj);
		nftnl_set_free(rs->objs[objs[k]].obj);
		rs->objs[objs[k]].obj = news[k];
	}
	rs->n_elems = rs->n_elems - n_old + n_elems;
	rs->bans_clock_ms = now_ms;
	return 0;
}
