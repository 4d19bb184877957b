/* Lowering the plan into libnftnl objects of table inet portctl: base
 * chains with the preamble and zone dispatch, zone chains, maps and sets. */
#include "config.h"

#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter_ipv4.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <libnftnl/chain.h>
#include <libnftnl/table.h>

#include "compile-internal.h"
#include "nft-build.h"
#include "portctl/compile.h"

#define NAME_MAX_LEN 128 /* chain names and set name stems: at most 4+32+21 bytes */
#define SET_NAME_MAX 256 /* NFT_SET_MAXNAMELEN; ours stay below 80 */
#define LOG_PREFIX_MAX 127

struct objlist {
	struct pc_nft_object *v;
	size_t n, cap;
};

/* Lowering state: objects collected per kind, added in dependency order. */
struct lower {
	const struct pc_plan *plan;
	struct objlist chains, sets, rules;
	uint32_t next_set_id;
	size_t n_elems;
	/* The source of the objects being made now. */
	const struct pc_zone *zone;
	const struct pc_rule *rule;
	/* Zone chain names per direction, indexed like plan->zones, and
	 * pub_<zone>: the zone's in rules judging published ports. */
	char (*chain_names[PC_N_DIRS])[NAME_MAX_LEN];
	char (*pub_names)[NAME_MAX_LEN];
	/* Where the rules of the entry being lowered go: its zone chain, and
	 * for an in chain under published-ports = obey pub_<zone> as well,
	 * whose rules match the original destination (ct original). */
	struct target {
		const char *chain;
		bool pub;
	} targets[2];
	size_t n_targets;
	/* Ban sets (BAN_SETS): every zone's, and each zone's (plan->zones). */
	struct nftnl_set *bans[BAN_SETS];
	struct nftnl_set *(*zone_bans)[BAN_SETS];
	/* The kernel sets of the named sets, per family, made at first use;
	 * indexed like cfg->sets. */
	struct nftnl_set *(*named)[2];
	/* The reverse-path sets by family, made for input, shared by forward. */
	struct nftnl_set *rpf[2];
	/* Each zone's limit meters by family (zone_meter_get), made at its
	 * first limit rule; indexed like plan->zones. */
	struct nftnl_set *(*zone_meters)[2];
	/* A chain made again in place (pc_ruleset_chain_remake): the ruleset
	 * in force, whose zone meters stay. */
	const struct pc_ruleset *old;
	/* The block being lowered, per target (block_enter). */
	char block_names[2][NAME_MAX_LEN];
	/* The chain being made's small runs by file (which are lowered by
	 * rule); the rules being made are such a run's, of the rule by_rule_at
	 * rules after its first. */
	const struct small_runs *small;
	struct small_runs small_own; /* when the chain keeps none */
	bool by_rule;
	uint32_t by_rule_at;
};

/*
 * A zone chain of many entries is cut into blocks, each a chain of its own
 * that the zone chain jumps to, of about BLOCK_SPAN entries (compile-internal.h,
 * chain_block_starts): a commit that
 * changes a chain makes the kernel rebuild that chain's whole rule blob,
 * and a rule deleted or placed by handle is found by walking its chain, so
 * a change in a block costs the block, not the zone. A block begins at an
 * entry whose name (kept across changes elsewhere, pc_plan_entry) hashes to
 * 0 mod BLOCK_SPAN, so that an entry put in or taken out leaves the other
 * blocks as they are; the entries before the first stay in the zone chain.
 * A chain of fewer than BLOCK_MIN_ENTRIES is not cut.
 */

/* Block chains are named after their zone chain and their first entry,
 * its kind too (a run of ports and one of addresses of a file may have
 * one name_hash and name_nth: one block chain for both, jumped to twice,
 * until 2026-12); 'B' is no zone name's (lower case), so no zone chain is
 * named so. */
static void block_name(char out[NAME_MAX_LEN], const char *chain, const struct pc_plan_entry *e)
{
	char kind = pc_entry_kind_letter(e->kind);

	if (e->name_nth)
		snprintf(out, NAME_MAX_LEN, "%s_B%c%016llxd%u", chain, kind,
			 (unsigned long long)entry_name(e), e->name_nth);
	else
		snprintf(out, NAME_MAX_LEN, "%s_B%c%016llx", chain, kind,
			 (unsigned long long)entry_name(e));
}

/* Whether rules of chain c are zone chain's own or in one of its blocks. */
static bool chain_of_zone(const char *c, const char *chain)
{
	size_t n = strlen(chain);

	return strncmp(c, chain, n) == 0 && (c[n] == '\0' || (c[n] == '_' && c[n + 1] == 'B'));
}

/* The entries from e on go to e's block: its rules to the block chains of
 * the targets. */
static void block_enter(struct lower *l, const char *const base[2], const struct pc_plan_entry *e)
{
	for (size_t t = 0; t < l->n_targets; t++) {
		block_name(l->block_names[t], base[t], e);
		l->targets[t].chain = l->block_names[t];
	}
}


/* Inbound and forwarded traffic is zoned and banned by its source,
 * outbound by its destination. */
static bool dir_by_source(int dir)
{
	return dir != PC_DIR_OUT;
}

static bool published_obey(const struct lower *l)
{
	return l->plan->cfg->settings.published == PC_PUBLISHED_OBEY;
}

const char *port_map_suffix(int kind)
{
	static const char *const suffixes[PORT_KINDS] = {
		"_ports_accept", "_ranges_accept", "_ports_drop",
		"_ranges_drop",  "_ports_reject",  "_ranges_reject",
	};

	return suffixes[kind];
}

void addr_set_suffix(char out[ADDR_SET_SUFFIX_MAX], uint8_t family, bool dst, bool hosts,
		     enum pc_verdict_kind v)
{
	snprintf(out, ADDR_SET_SUFFIX_MAX, "_%s%c%s_%s", dst ? "dst" : "src",
		 family == AF_INET ? '4' : '6', hosts ? "" : "_ranges", pc_verdict_kind_name(v));
}

static int objlist_push(struct lower *l, struct objlist *ol, enum pc_nft_kind kind, void *obj)
{
	struct pc_nft_object *o = PC_ARRAY_PUSH(ol->v, ol->n, ol->cap);

	if (!o)
		return -ENOMEM;
	o->kind = kind;
	o->obj = obj;
	o->rule = l->rule;
	o->zone = l->zone;
	o->by_rule = l->by_rule && kind == PC_NFT_RULE;
	o->by_rule_at = o->by_rule ? l->by_rule_at : 0;
	if (kind == PC_NFT_RULE)
		o->chain_key = pc_chain_key(nftnl_rule_get_str(obj, NFTNL_RULE_CHAIN));
	return 0;
}

static void object_free(struct pc_nft_object *o)
{
	switch (o->kind) {
	case PC_NFT_TABLE:
		nftnl_table_free(o->obj);
		break;
	case PC_NFT_CHAIN:
		nftnl_chain_free(o->obj);
		break;
	case PC_NFT_SET:
		nftnl_set_free(o->obj);
		break;
	case PC_NFT_RULE:
		nftnl_rule_free(o->obj);
		break;
	}
}

static void objlist_free(struct objlist *ol)
{
	for (size_t i = 0; i < ol->n; i++)
		object_free(&ol->v[i]);
	free(ol->v);
	ol->v = NULL;
	ol->n = ol->cap = 0;
}

/* A base chain when hook >= 0, else a regular chain. */
static int lower_chain_new(struct lower *l, const char *name, int hook)
{
	struct nftnl_chain *c = chain_new(name, hook, NF_ACCEPT);

	if (!c)
		return -ENOMEM;
	if (objlist_push(l, &l->chains, PC_NFT_CHAIN, c) < 0) {
		nftnl_chain_free(c);
		return -ENOMEM;
	}
	return 0;
}

/* A new rule appended to chain; owned by the lowering state. */
static struct nftnl_rule *lower_rule_new(struct lower *l, const char *chain)
{
	struct nftnl_rule *r = rule_new(chain);

	if (!r)
		return NULL;
	if (objlist_push(l, &l->rules, PC_NFT_RULE, r) < 0) {
		nftnl_rule_free(r);
		return NULL;
	}
	return r;
}

static struct nftnl_set *lower_set_new(struct lower *l, const char *name, uint32_t flags,
				       uint32_t key_type, uint32_t key_len)
{
	struct nftnl_set *s = set_new(name, ++l->next_set_id, flags, key_type, key_len);

	if (!s)
		return NULL;
	if (objlist_push(l, &l->sets, PC_NFT_SET, s) < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	return s;
}

/* A verdict map with a counter on each element. */
static int vmap_init(struct nftnl_set *s)
{
	set_make_vmap(s);
	return set_add_counter(s);
}

static struct nftnl_set *lower_vmap_new(struct lower *l, const char *name, uint32_t flags,
					uint32_t key_type, uint32_t key_len)
{
	struct nftnl_set *s = lower_set_new(l, name, flags, key_type, key_len);

	if (!s)
		return NULL;
	return vmap_init(s) < 0 ? NULL : s;
}

static int rule_add_nfproto(struct nftnl_rule *r, uint8_t family)
{
	int ret = rule_add_meta(r, NFT_META_NFPROTO, NFT_REG_1);

	return ret < 0 ? ret : rule_add_cmp_u8(r, NFT_REG_1, family == AF_INET ? NFPROTO_IPV4
										 : NFPROTO_IPV6);
}

static int rule_add_l4proto(struct nftnl_rule *r, uint8_t l4proto)
{
	int ret = rule_add_meta(r, NFT_META_L4PROTO, NFT_REG_1);

	return ret < 0 ? ret : rule_add_cmp_u8(r, NFT_REG_1, l4proto);
}

/* Offset of the source or destination address in the network header. */
static uint32_t addr_offset(uint8_t family, bool dst)
{
	if (family == AF_INET)
		return dst ? 16 : 12;
	return dst ? 24 : 8;
}

static uint32_t addr_len(uint8_t family)
{
	return family == AF_INET ? 4 : 16;
}

/* --- preamble and dispatch --- */

static int icmp_set_new(struct lower *l, const char *name, uint32_t type, const uint8_t *v,
			size_t n, struct nftnl_set **out)
{
	struct nftnl_set *s = lower_set_new(l, name, 0, type, 1);

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct elem_spec e = { .key = &v[i], .len = 1, .verdict = -1 };
		int r = set_add_elem(s, &e);

		if (r < 0)
			return r;
		l->n_elems++;
	}
	*out = s;
	return 0;
}

/* ND and packet-too-big come before "ct state invalid drop": ND is
 * untracked. They are all the ICMP the preamble accepts on its own: errors
 * about a connection are "ct state related"; echo-request is answered by
 * the zone (zone_ping_lower), after its rules, so that they can refuse it. */
const uint8_t icmp6_early[ICMP6_EARLY_N] = { 2, 133, 134, 135, 136 };

static int rule_icmp_accept(struct lower *l, const char *chain, uint8_t l4proto,
			    const struct nftnl_set *s)
{
	struct nftnl_rule *r = lower_rule_new(l, chain);
	int ret = r ? rule_add_l4proto(r, l4proto) : -ENOMEM;

	if (ret >= 0)
		ret = rule_add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
	if (ret >= 0)
		ret = rule_add_lookup(r, NFT_REG_1, s, -1);
	return ret < 0 ? ret : rule_add_verdict(r, PC_VERDICT_ACCEPT);
}

static int rule_ct_state(struct lower *l, const char *chain, uint32_t mask, enum pc_verdict_kind v)
{
	struct nftnl_rule *r = lower_rule_new(l, chain);
	int ret = r ? rule_add_ct_state(r, mask) : -ENOMEM;

	return ret < 0 ? ret : rule_add_verdict(r, v);
}

static const char *const preamble_chains[PC_N_DIRS] = { "preamble_in", "preamble_out",
							 "preamble_fwd" };

/* The built-in part every zone chain jumps to after its bans: needed
 * ICMPv6, established connections, invalid packets. It sits behind zone
 * dispatch, not ahead of it, so that a zone's bans are checked before
 * established connections are let through. */
static int preamble_lower(struct lower *l, enum pc_dir dir, const struct nftnl_set *early)
{
	const char *chain = preamble_chains[dir];
	int ret = rule_icmp_accept(l, chain, IPPROTO_ICMPV6, early);

	if (ret >= 0)
		ret = rule_ct_state(l, chain, NF_CT_STATE_BIT(IP_CT_ESTABLISHED) |
						      NF_CT_STATE_BIT(IP_CT_RELATED),
				    PC_VERDICT_ACCEPT);
	if (ret >= 0)
		ret = rule_ct_state(l, chain, NF_CT_STATE_INVALID_BIT, PC_VERDICT_DROP);
	return ret;
}

/* icmp type echo-request accept, icmpv6 type echo-request accept: at the
 * end of a zone chain whose policy is drop, so ping is answered unless a
 * rule of the zone decided (deny from ADDR, deny icmp echo-request); a
 * reject zone (block) refuses it like everything else. */
static int zone_ping_lower(struct lower *l, const char *chain)
{
	static const uint8_t protos[2] = { IPPROTO_ICMP, IPPROTO_ICMPV6 };
	static const uint8_t echo[2] = { PC_ICMP_ECHO_REQUEST, PC_ICMP6_ECHO_REQUEST };
	int ret = 0;

	for (int i = 0; ret >= 0 && i < 2; i++) {
		struct nftnl_rule *r = lower_rule_new(l, chain);

		ret = r ? rule_add_l4proto(r, protos[i]) : -ENOMEM;
		if (ret >= 0)
			ret = rule_add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
		if (ret >= 0)
			ret = rule_add_cmp_u8(r, NFT_REG_1, echo[i]);
		if (ret >= 0)
			ret = rule_add_verdict(r, PC_VERDICT_ACCEPT);
	}
	return ret;
}

/* iif lo accept (outbound: oif). */
static int loopback_lower(struct lower *l, enum pc_dir dir, const char *chain)
{
	uint32_t lo_index = 1; /* the loopback device is ifindex 1 in every namespace */
	struct nftnl_rule *r = lower_rule_new(l, chain);
	int ret = r ? rule_add_meta(r, dir == PC_DIR_IN ? NFT_META_IIF : NFT_META_OIF, NFT_REG_1)
		    : -ENOMEM;

	if (ret >= 0)
		ret = rule_add_cmp(r, NFT_CMP_EQ, NFT_REG_1, &lo_index, sizeof(lo_index));
	return ret < 0 ? ret : rule_add_verdict(r, PC_VERDICT_ACCEPT);
}

/* --- bans --- */

/* The ban sets, empty ones included, so that a first ban is only an
 * element change. They come first among the sets: pc_ruleset_bans_update
 * finds them by position. */
static int ban_sets_lower(struct lower *l)
{
	static const uint8_t fams[2] = { AF_INET, AF_INET6 };
	char name[SET_NAME_MAX];
	int ret = 0;

	l->zone_bans = calloc(l->plan->n_zones ? l->plan->n_zones : 1, sizeof(*l->zone_bans));
	if (!l->zone_bans)
		return -ENOMEM;
	for (size_t z = 0; ret >= 0 && z <= l->plan->n_zones; z++) {
		const struct pc_plan_bans *b = z == 0 ? &l->plan->bans : &l->plan->zones[z - 1].bans;
		struct nftnl_set **out = z == 0 ? l->bans : l->zone_bans[z - 1];

		l->zone = z == 0 ? NULL : l->plan->zones[z - 1].zone;
		for (int k = 0; k < BAN_SETS; k++) {
			bool nets = k % 2;

			ban_set_name(name, sizeof(name), fams[k / 2], nets,
				     l->zone ? l->zone->name : NULL);
			out[k] = ban_set_new(name, ++l->next_set_id, fams[k / 2], nets);
			if (!out[k])
				return -ENOMEM;
			if (objlist_push(l, &l->sets, PC_NFT_SET, out[k]) < 0) {
				nftnl_set_free(out[k]);
				return -ENOMEM;
			}
		}
		for (int f = 0; ret >= 0 && f < 2; f++)
			ret = ban_sets_fill(out[2 * f], out[2 * f + 1], f == 0 ? &b->addr4 : &b->addr6,
					    l->plan->now_ms, &l->n_elems);
	}
	l->zone = NULL;
	return ret;
}

/* ip saddr @SET counter drop, for each ban set (dst: daddr). */
static int ban_rules_lower(struct lower *l, bool dst, const char *chain,
			   struct nftnl_set *const sets[BAN_SETS])
{
	int ret = 0;

	for (int k = 0; ret >= 0 && k < BAN_SETS; k++) {
		uint8_t family = k / 2 == 0 ? AF_INET : AF_INET6;
		struct nftnl_rule *r = lower_rule_new(l, chain);

		ret = r ? rule_add_nfproto(r, family) : -ENOMEM;
		if (ret >= 0)
			ret = rule_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER,
					       addr_offset(family, dst), addr_len(family), NFT_REG_1);
		if (ret >= 0)
			ret = rule_add_lookup(r, NFT_REG_1, sets[k], -1);
		if (ret >= 0)
			ret = rule_add_counter(r);
		if (ret >= 0)
			ret = rule_add_verdict(r, PC_VERDICT_DROP);
	}
	return ret;
}

static const char *dispatch_jump(const struct pc_plan_span *sp, void *ctx)
{
	const char(*names)[NAME_MAX_LEN] = ctx;

	return names[sp->zone];
}

/* ip saddr vmap @zone_src4_in (outbound: daddr, zone_dst4_out). */
static int dispatch_addr_lower(struct lower *l, enum pc_dir dir, const char *chain,
			       const struct pc_plan_spans *spans, uint8_t family)
{
	char name[NAME_MAX_LEN];
	struct nftnl_set *s;
	struct nftnl_rule *r;
	int ret;

	if (spans->n == 0)
		return 0;
	snprintf(name, sizeof(name), "zone_%s%c_%s", dir_by_source(dir) ? "src" : "dst",
		 family == AF_INET ? '4' : '6', dir_names[dir]);
	s = lower_vmap_new(l, name, NFT_SET_INTERVAL,
			   family == AF_INET ? NFT_DTYPE_IPADDR : NFT_DTYPE_IP6ADDR,
			   addr_len(family));
	if (!s)
		return -ENOMEM;
	ret = set_add_spans(s, spans, true, dispatch_jump, l->chain_names[dir], &l->n_elems);
	r = ret < 0 ? NULL : lower_rule_new(l, chain);
	ret = r ? rule_add_nfproto(r, family) : -ENOMEM;
	if (ret >= 0)
		ret = rule_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER,
				       addr_offset(family, !dir_by_source(dir)), addr_len(family),
				       NFT_REG_1);
	return ret < 0 ? ret : rule_add_lookup(r, NFT_REG_1, s, NFT_REG_VERDICT);
}

/* ip saddr @zone_src4_rpf fib saddr . iif oif missing: the source a zone
 * claims does not route back out of the input interface (loose: out of
 * any). Dispatch drops it (counted); nat prerouting lets it pass unNATed. */
static int rpf_rule_lower(struct lower *l, const char *chain, uint8_t family,
			  const struct nftnl_set *s, enum pc_verdict_kind v)
{
	uint32_t flags = NFTA_FIB_F_SADDR | NFTA_FIB_F_PRESENT, missing = 0;
	struct nftnl_rule *r = lower_rule_new(l, chain);
	int ret = r ? rule_add_nfproto(r, family) : -ENOMEM;

	if (l->plan->cfg->settings.reverse_path == PC_RPF_STRICT)
		flags |= NFTA_FIB_F_IIF;
	if (ret >= 0)
		ret = rule_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, addr_offset(family, false),
				       addr_len(family), NFT_REG_1);
	if (ret >= 0)
		ret = rule_add_lookup(r, NFT_REG_1, s, -1);
	if (ret >= 0)
		ret = rule_add_fib(r, flags, NFT_FIB_RESULT_OIF, NFT_REG_1);
	if (ret >= 0)
		ret = rule_add_cmp(r, NFT_CMP_EQ, NFT_REG_1, &missing, sizeof(missing));
	if (ret >= 0 && v == PC_VERDICT_DROP)
		ret = rule_add_counter(r);
	return ret < 0 ? ret : rule_add_verdict(r, v);
}

/*
 * ip saddr @zone_src4_rpf fib saddr . iif oif missing counter drop: a
 * packet whose source a zone claims enters that zone only if the source
 * routes back out of the interface it came in on (loose: out of any), so
 * a forged source cannot buy a zone's rules. It is dropped, not passed on
 * to interface dispatch, as rp_filter and firewalld's rpfilter do.
 */
static int dispatch_rpf_lower(struct lower *l, const char *chain, const struct pc_plan_spans *spans,
			      uint8_t family)
{
	struct pc_plan_spans all = {0};
	char name[NAME_MAX_LEN];
	struct nftnl_set *s;
	int ret = 0;

	if (spans->n == 0 || l->plan->cfg->settings.reverse_path == PC_RPF_OFF)
		return 0;
	s = l->rpf[family == AF_INET ? 0 : 1];
	if (!s) {
		snprintf(name, sizeof(name), "zone_src%c_rpf", family == AF_INET ? '4' : '6');
		s = lower_set_new(l, name, NFT_SET_INTERVAL,
				  family == AF_INET ? NFT_DTYPE_IPADDR : NFT_DTYPE_IP6ADDR,
				  addr_len(family));
		if (!s)
			return -ENOMEM;
		l->rpf[family == AF_INET ? 0 : 1] = s;
		ret = spans_union(spans, &all);
		if (ret >= 0)
			ret = set_add_spans(s, &all, false, NULL, NULL, &l->n_elems);
		spans_free(&all);
	}
	return ret < 0 ? ret : rpf_rule_lower(l, chain, family, s, PC_VERDICT_DROP);
}

static bool ifname_wild(const char *name)
{
	size_t n = strlen(name);

	return n > 1 && name[n - 1] == '*';
}

/* The interfaces as disjoint spans of 16-byte names: a name is one key, a
 * wildcard (br-*) every key it begins. Where they overlap an exact name
 * wins over a wildcard, and a longer prefix over a shorter one. */
static int iface_spans(const struct pc_plan_dispatch *dp, struct pc_plan_spans *out)
{
	_cleanup_free_ struct span_item *items = calloc(dp->n_ifaces, sizeof(*items));

	if (!items)
		return -ENOMEM;
	out->width = IFNAMSIZ;
	for (size_t i = 0; i < dp->n_ifaces; i++) {
		const char *name = dp->ifaces[i].name;
		size_t n = strlen(name) - ifname_wild(name);

		memcpy(items[i].lo, name, n);
		memcpy(items[i].hi, name, n);
		if (ifname_wild(name))
			memset(items[i].hi + n, 0xff, IFNAMSIZ - n);
		items[i].prio = ifname_wild(name) ? (uint32_t)(IFNAMSIZ - n) : 0;
		items[i].seq = (uint32_t)i;
		items[i].zone = dp->ifaces[i].zone;
	}
	return spans_flatten(items, dp->n_ifaces, out);
}

/* iifname vmap @NAME jumping to jumps[zone] (outbound: oifname): a hash
 * map of names, or, when a zone has a wildcard, an interval map of spans.
 * Shared by the filter dispatch and the nat prerouting dispatch. */
static int iface_vmap_lower(struct lower *l, const char *name, const char *chain,
			    uint32_t meta, const struct pc_plan_dispatch *dp,
			    char (*jumps)[NAME_MAX_LEN])
{
	struct pc_plan_spans spans = { 0 };
	bool wild = false;
	struct nftnl_set *s;
	struct nftnl_rule *r;
	int ret = 0;

	if (dp->n_ifaces == 0)
		return 0;
	for (size_t i = 0; i < dp->n_ifaces; i++)
		wild = wild || ifname_wild(dp->ifaces[i].name);
	s = lower_set_new(l, name, wild ? NFT_SET_INTERVAL : 0, NFT_DTYPE_IFNAME, IFNAMSIZ);
	if (!s || set_key_host_order(s) < 0)
		return -ENOMEM;
	set_make_vmap(s);
	if (wild) {
		ret = iface_spans(dp, &spans);
		if (ret >= 0)
			ret = set_add_spans(s, &spans, true, dispatch_jump, jumps, &l->n_elems);
		spans_free(&spans);
	}
	for (size_t i = 0; !wild && ret >= 0 && i < dp->n_ifaces; i++) {
		char key[IFNAMSIZ] = { 0 };
		struct elem_spec e = { .key = key, .len = IFNAMSIZ, .verdict = -1,
				       .jump = jumps[dp->ifaces[i].zone] };

		strncpy(key, dp->ifaces[i].name, IFNAMSIZ - 1);
		ret = set_add_elem(s, &e);
		l->n_elems++;
	}
	r = ret < 0 ? NULL : lower_rule_new(l, chain);
	ret = r ? rule_add_meta(r, meta, NFT_REG_1) : -ENOMEM;
	return ret < 0 ? ret : rule_add_lookup(r, NFT_REG_1, s, NFT_REG_VERDICT);
}

/* iifname vmap @zone_iif_in (outbound: oifname, zone_oif_out). */
static int dispatch_iface_lower(struct lower *l, enum pc_dir dir, const char *chain,
				const struct pc_plan_dispatch *dp)
{
	char name[NAME_MAX_LEN];

	snprintf(name, sizeof(name), "zone_%s_%s", dir_by_source(dir) ? "iif" : "oif",
		 dir_names[dir]);
	return iface_vmap_lower(l, name, chain,
				dir_by_source(dir) ? NFT_META_IIFNAME : NFT_META_OIFNAME, dp,
				l->chain_names[dir]);
}

static bool nat_rules_exist(const struct pc_config *cfg)
{
	for (size_t i = 0; i < cfg->n_rules; i++)
		if (rule_is_nat(&cfg->rules[i]))
			return true;
	return false;
}

/* ct mark & FORWARD == FORWARD ct status dnat counter accept: a forward
 * implies its accept. It comes right after the forward chain's bans, ahead
 * of the zone's published-port jump (ct status dnat jump pub_<zone>), which
 * would otherwise judge our own forwards by the in rules on their original
 * port. */
static int forward_accept_lower(struct lower *l, const char *chain)
{
	struct nftnl_rule *r = lower_rule_new(l, chain);
	int ret = r ? rule_add_ct_match(r, NFT_CT_MARK, PC_CTMARK_FORWARD, PC_CTMARK_FORWARD)
		    : -ENOMEM;

	if (ret >= 0)
		ret = rule_add_ct_match(r, NFT_CT_STATUS, IPS_DST_NAT, IPS_DST_NAT);
	if (ret >= 0)
		ret = rule_add_counter(r);
	return ret < 0 ? ret : rule_add_verdict(r, PC_VERDICT_ACCEPT);
}

/* Loopback, the bans of every zone, then zone dispatch. Forwarded
 * traffic has no loopback, and its bans hold either way: a banned host
 * neither sends through us nor gets replies. */
static int base_chain_lower(struct lower *l, enum pc_dir dir)
{
	static const char *const names[PC_N_DIRS] = { "input", "output", "forward" };
	static const int hooks[PC_N_DIRS] = { NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT,
					      NF_INET_FORWARD };
	const struct pc_plan_dispatch *dp = &l->plan->dispatch[dir];
	const char *chain = names[dir];
	struct nftnl_rule *r;
	int ret;

	ret = lower_chain_new(l, chain, hooks[dir]);
	if (ret >= 0 && dir != PC_DIR_FWD)
		ret = loopback_lower(l, dir, chain);
	if (ret >= 0)
		ret = ban_rules_lower(l, !dir_by_source(dir), chain, l->bans);
	if (ret >= 0 && dir == PC_DIR_FWD)
		ret = ban_rules_lower(l, true, chain, l->bans);
	if (ret >= 0 && dir == PC_DIR_FWD && nat_rules_exist(l->plan->cfg))
		ret = forward_accept_lower(l, chain);
	/* A forged source must not choose its zone (the bans drop it anyway),
	 * nor a forwarded one its zone's forward rules or published ports. */
	if (ret >= 0 && dir_by_source(dir))
		ret = dispatch_rpf_lower(l, chain, &dp->addr4, AF_INET);
	if (ret >= 0 && dir_by_source(dir))
		ret = dispatch_rpf_lower(l, chain, &dp->addr6, AF_INET6);
	if (ret >= 0)
		ret = dispatch_addr_lower(l, dir, chain, &dp->addr4, AF_INET);
	if (ret >= 0)
		ret = dispatch_addr_lower(l, dir, chain, &dp->addr6, AF_INET6);
	if (ret >= 0)
		ret = dispatch_iface_lower(l, dir, chain, dp);
	if (ret < 0)
		return ret;
	r = lower_rule_new(l, chain);
	return r ? rule_add_jump(r, l->chain_names[dir][dp->default_zone]) : -ENOMEM;
}

/* The shared target of every reject: TCP reset, else ICMPx port unreachable. */
static int reject_chain_lower(struct lower *l)
{
	struct nftnl_rule *r;
	int ret = lower_chain_new(l, REJECT_CHAIN, -1);

	r = ret < 0 ? NULL : lower_rule_new(l, REJECT_CHAIN);
	ret = r ? rule_add_l4proto(r, IPPROTO_TCP) : -ENOMEM;
	if (ret >= 0)
		ret = rule_add_reject(r, NFT_REJECT_TCP_RST, 0);
	r = ret < 0 ? NULL : lower_rule_new(l, REJECT_CHAIN);
	return r ? rule_add_reject(r, NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_PORT_UNREACH)
		 : -ENOMEM;
}

/* --- zone chains: merged port sets --- */

static void port_key(uint8_t l4proto, uint16_t port, uint8_t key[8])
{
	/* meta l4proto and th dport each fill a 4-byte register. */
	memset(key, 0, 8);
	key[0] = l4proto;
	key[4] = (uint8_t)(port >> 8);
	key[5] = (uint8_t)(port & 0xff);
}

int port_elem_add(struct nftnl_set *s, const struct pc_plan_port *p)
{
	char comment[PC_COMMENT_MAX + 1];
	uint8_t key[8], key_end[8];
	/* A plain set: its kernel rule says the verdict. */
	struct elem_spec es = { .key = key, .len = sizeof(key), .verdict = -1 };

	port_key(p->l4proto, p->lo, key);
	port_key(p->l4proto, p->hi, key_end);
	if (p->lo != p->hi)
		es.key_end = key_end;
	pc_rule_comment(p->rule, comment, sizeof(comment));
	es.comment = comment;
	return set_add_elem(s, &es);
}

static int port_map_fill(struct lower *l, struct nftnl_set *s, const struct pc_plan_entry *e,
			 int kind)
{
	for (size_t i = 0; i < e->n_ports; i++) {
		const struct pc_plan_port *p = &e->ports[i];
		int r;

		if (port_kind(p) != kind)
			continue;
		r = port_elem_add(s, p);
		if (r < 0)
			return r;
		l->n_elems++;
	}
	return 0;
}

/* th dport, or in pub_<zone> ct original proto-dst: the port the client
 * connected to, before a runtime's DNAT. */
static int rule_add_dport(struct nftnl_rule *r, bool pub, uint32_t dreg)
{
	if (pub)
		return rule_add_ct_original(r, NFT_CT_PROTO_DST, dreg);
	return rule_add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, dreg);
}

/* ip daddr, or in pub_<zone> ct original ip daddr. */
static int rule_add_daddr(struct nftnl_rule *r, bool pub, uint8_t family, uint32_t dreg)
{
	if (pub)
		return rule_add_ct_original(r, family == AF_INET ? NFT_CT_DST_IP : NFT_CT_DST_IP6,
					    dreg);
	return rule_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, addr_offset(family, true),
				addr_len(family), dreg);
}

/* meta l4proto P th dport LO[-HI] of a scoped address run (in pub_<zone>
 * the original destination port). */
static int rule_add_scope(struct nftnl_rule *r, const struct pc_plan_entry *e, bool pub)
{
	uint16_t lo = htons(e->scope_lo), hi = htons(e->scope_hi);
	int ret = rule_add_l4proto(r, e->scope_l4proto);

	if (ret >= 0)
		ret = rule_add_dport(r, pub, NFT_REG_1);
	if (ret >= 0 && e->scope_lo == e->scope_hi)
		return rule_add_cmp(r, NFT_CMP_EQ, NFT_REG_1, &lo, sizeof(lo));
	if (ret >= 0)
		ret = rule_add_cmp(r, NFT_CMP_GTE, NFT_REG_1, &lo, sizeof(lo));
	return ret < 0 ? ret : rule_add_cmp(r, NFT_CMP_LTE, NFT_REG_1, &hi, sizeof(hi));
}

/* One of a run's port sets, empty: exact ports or ranges (an interval set
 * of proto . port). */
static struct nftnl_set *port_set_make(const char *name, uint32_t id, int kind)
{
	static const uint8_t fields[2] = { 1, 2 };
	bool ranges = kind & PORT_KIND_RANGES;
	struct nftnl_set *s = set_new(name, id, ranges ? NFT_SET_INTERVAL | NFT_SET_CONCAT : 0,
				      NFT_DTYPE_PROTO_SERVICE, 8);
	int r = s ? 0 : -ENOMEM;

	if (r >= 0)
		r = set_add_counter(s);
	if (r >= 0 && ranges)
		nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, sizeof(fields));
	if (r < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	return s;
}

/*
 * meta l4proto . th dport @NAME accept (drop, jump do_reject): one lookup
 * for the run's ports of one kind. Plain sets, not a verdict map: see
 * PORT_KINDS.
 */
static int port_map_lower(struct lower *l, const char *name, const struct pc_plan_entry *e,
			  int kind)
{
	struct nftnl_set *s = port_set_make(name, ++l->next_set_id, kind);
	struct nftnl_rule *r;
	int ret;

	if (!s)
		return -ENOMEM;
	if (objlist_push(l, &l->sets, PC_NFT_SET, s) < 0) {
		nftnl_set_free(s);
		return -ENOMEM;
	}
	ret = port_map_fill(l, s, e, kind);
	for (size_t t = 0; ret >= 0 && t < l->n_targets; t++) {
		r = lower_rule_new(l, l->targets[t].chain);
		ret = r ? rule_add_meta(r, NFT_META_L4PROTO, NFT_REG_1) : -ENOMEM;
		if (ret >= 0)
			ret = rule_add_dport(r, l->targets[t].pub, NFT_REG32_01);
		if (ret >= 0)
			ret = rule_add_lookup(r, NFT_REG_1, s, -1);
		if (ret >= 0)
			ret = rule_add_verdict(r, kind & PORT_KIND_REJECT ? PC_VERDICT_REJECT
						  : kind & PORT_KIND_DROP ? PC_VERDICT_DROP
									  : PC_VERDICT_ACCEPT);
	}
	return ret;
}

int pc_ruleset_sync(struct pc_ruleset *rs)
{
	int r = pc_ruleset_bans_sync(rs);

	return r < 0 ? r : pc_ruleset_ports_sync(rs);
}

static void shared_edit_free(struct pc_ruleset *rs)
{
	if (!rs->shared)
		return;
	pc_rule_append_free(&rs->shared->del);
	pc_rule_append_free(&rs->shared->add);
	free(rs->shared);
	rs->shared = NULL;
}

static struct nftnl_set *run_addr_set_new(const char *name, uint32_t id, uint8_t family,
					 bool hosts);
static struct nftnl_set *pair_set_remake(const char *name, uint32_t id,
					 const struct pc_plan_entry *e, int kind);
static int addr_part_fill(struct nftnl_set *s, const struct pc_plan_spans *part, bool hosts,
			  bool big, size_t *n_elems);

/* An address run's set of kind (addr_kind) from the entry's spans, as
 * addr_set_lower fills it. */
static struct nftnl_set *addr_set_remake(const char *name, uint32_t id,
					 const struct pc_plan_entry *e, int kind)
{
	int k = kind - ADDR_KIND_BASE;
	uint8_t family = k / 6 ? AF_INET6 : AF_INET;
	bool hosts = k / 3 % 2;
	enum pc_verdict_kind v = (enum pc_verdict_kind)(k % 3);
	struct pc_plan_spans parts[SPANS_PARTS];
	struct nftnl_set *s = run_addr_set_new(name, id, family, hosts);
	size_t n_elems = 0;
	int r = s ? spans_split(family == AF_INET ? &e->addr4 : &e->addr6, parts) : -ENOMEM;

	if (r >= 0) {
		r = addr_part_fill(s, &parts[spans_part(!hosts, v)], hosts,
				   run_has_all_sets(e->anchor_n), &n_elems);
		for (int i = 0; i < SPANS_PARTS; i++)
			spans_free(&parts[i]);
	}
	if (r < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	return s;
}

/* Stale map m made again from its plan entry. */
static int stale_map_rebuild(struct pc_ruleset *rs, const struct pc_stale_map *m)
{
	const struct pc_plan_entry *e = &rs->ports_from->zones[m->zone].dir[m->dir].entries[m->entry];
	struct nftnl_set *old = rs->objs[m->obj].obj;
	const char *name = nftnl_set_get_str(old, NFTNL_SET_NAME);
	uint32_t id = nftnl_set_get_u32(old, NFTNL_SET_ID);
	struct nftnl_set *s = m->kind >= PAIR_KIND_BASE	  ? pair_set_remake(name, id, e, m->kind)
			      : m->kind >= ADDR_KIND_BASE ? addr_set_remake(name, id, e, m->kind)
							  : port_set_make(name, id, m->kind);
	int r = s ? 0 : -ENOMEM;

	for (size_t k = 0; r >= 0 && m->kind < ADDR_KIND_BASE && k < e->n_ports; k++)
		if (port_kind(&e->ports[k]) == m->kind)
			r = port_elem_add(s, &e->ports[k]);
	if (r < 0) {
		nftnl_set_free(s);
		return r;
	}
	/* A map shared with the ruleset this one was made from
	 * (pc_ruleset_chain_remake) is that one's until adopted. */
	if (rs->objs[m->obj].shared)
		rs->dropped[rs->n_dropped++] = rs->objs[m->obj];
	else
		nftnl_set_free(old);
	rs->objs[m->obj].obj = s;
	rs->objs[m->obj].stale = false;
	rs->objs[m->obj].shared = false;
	return 0;
}

int pc_ruleset_ports_sync(struct pc_ruleset *rs)
{
	for (size_t i = rs && rs->ports_from ? rs->n_stale : 0; i-- > 0;) {
		int r = stale_map_rebuild(rs, &rs->stale[i]);

		if (r < 0)
			return r;
		rs->n_stale = i;
	}
	if (rs) {
		rs->ports_from = NULL;
		/* Whole: a difference finds what the deletes said. */
		shared_edit_free(rs);
	}
	return 0;
}

int pc_ruleset_ports_sync_entries(struct pc_ruleset *rs, size_t z, int dir, size_t from,
				  size_t upto)
{
	size_t n = 0, i = 0;
	int r = 0;

	for (; rs->ports_from && i < rs->n_stale; i++) {
		const struct pc_stale_map *m = &rs->stale[i];

		if (r >= 0 && m->zone == z && m->dir == dir && m->entry >= from &&
		    m->entry < upto) {
			r = stale_map_rebuild(rs, m);
			if (r >= 0)
				continue;
		}
		rs->stale[n++] = *m; /* still stale (after a failure: as it was) */
	}
	rs->n_stale = n;
	if (!n)
		rs->ports_from = NULL;
	return r;
}

/* The sets of exact ports of each verdict always, empty ones too, so that
 * the usual change in place (allow, deny, reject PORT) only ever adds and
 * deletes elements (a new set would need its kernel rules put in their
 * place); the sets of ranges when there are some. The kinds' keys are
 * disjoint: the lookups commute. */
static int entry_ports_lower(struct lower *l, const char *base, const struct pc_plan_entry *e)
{
	char name[SET_NAME_MAX];
	bool big = run_has_all_sets(e->anchor_n);
	bool has[PORT_KINDS] = { true, big, true, big, true, big };
	int ret = 0;

	for (size_t i = 0; i < e->n_ports; i++)
		has[port_kind(&e->ports[i])] = true;
	for (int kind = 0; ret >= 0 && kind < PORT_KINDS; kind++) {
		if (!has[kind])
			continue;
		snprintf(name, sizeof(name), "%s%s", base, port_map_suffix(kind));
		ret = port_map_lower(l, name, e, kind);
	}
	return ret;
}

/* --- zone chains: merged address sets --- */

static struct nftnl_set *run_addr_set_new(const char *name, uint32_t id, uint8_t family,
					 bool hosts)
{
	struct nftnl_set *s = set_new(name, id, hosts ? 0 : NFT_SET_INTERVAL,
				      family == AF_INET ? NFT_DTYPE_IPADDR : NFT_DTYPE_IP6ADDR,
				      addr_len(family));

	if (s && set_add_counter(s) < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	return s;
}

/* One part of an address run's spans (spans_split) into its set; a big
 * run's set of ranges opened even when empty. */
static int addr_part_fill(struct nftnl_set *s, const struct pc_plan_spans *part, bool hosts,
			  bool big, size_t *n_elems)
{
	int r = 0;

	if (!hosts && big && part->n == 0)
		return set_add_spans_open(s, part, true, n_elems);
	if (!hosts)
		return set_add_spans(s, part, false, NULL, NULL, n_elems);
	for (size_t i = 0; r >= 0 && i < part->n; i++)
		r = set_add_key(s, &part->items[i], part->width, n_elems);
	return r;
}

/* ip saddr @BASE_src4_drop drop (accept, jump do_reject): the run's single
 * addresses of verdict v in a hash set, then ip saddr @BASE_src4_ranges_drop
 * drop for its ranges (an interval set). The spans are disjoint, so the
 * lookups commute; a host added to a hash set is one O(1) insert for the
 * kernel however many are there. Plain sets, not verdict maps: see
 * PORT_KINDS. A run scoped to a port matches it first: meta l4proto tcp
 * th dport 22 ip saddr @... */
static int addr_set_lower(struct lower *l, const char *base, const struct pc_plan_entry *e,
			  uint8_t family, bool hosts, enum pc_verdict_kind v,
			  const struct pc_plan_spans *part)
{
	char name[SET_NAME_MAX], suffix[ADDR_SET_SUFFIX_MAX];
	struct nftnl_set *s;
	struct nftnl_rule *r;
	int ret = 0;

	addr_set_suffix(suffix, family, e->match_dst, hosts, v);
	snprintf(name, sizeof(name), "%s%s", base, suffix);
	s = run_addr_set_new(name, ++l->next_set_id, family, hosts);
	if (!s)
		return -ENOMEM;
	if (objlist_push(l, &l->sets, PC_NFT_SET, s) < 0) {
		nftnl_set_free(s);
		return -ENOMEM;
	}
	ret = addr_part_fill(s, part, hosts, run_has_all_sets(e->anchor_n), &l->n_elems);
	for (size_t t = 0; ret >= 0 && t < l->n_targets; t++) {
		r = lower_rule_new(l, l->targets[t].chain);
		ret = r ? rule_add_nfproto(r, family) : -ENOMEM;
		if (ret >= 0 && e->scope_l4proto)
			ret = rule_add_scope(r, e, l->targets[t].pub);
		if (ret >= 0 && e->match_dst)
			ret = rule_add_daddr(r, l->targets[t].pub, family, NFT_REG_1);
		else if (ret >= 0)
			ret = rule_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER,
					       addr_offset(family, false), addr_len(family),
					       NFT_REG_1);
		if (ret >= 0)
			ret = rule_add_lookup(r, NFT_REG_1, s, -1);
		if (ret >= 0)
			ret = rule_add_verdict(r, v);
	}
	return ret;
}

/* The sets of an address run: per family, hosts then ranges, per verdict
 * (those with spans, or all in a big run: run_has_all_sets); the spans
 * sorted out in one pass. */
static int entry_addrs_lower(struct lower *l, const char *base, const struct pc_plan_entry *e)
{
	static const enum pc_verdict_kind verdicts[] = { PC_VERDICT_ACCEPT, PC_VERDICT_DROP,
							 PC_VERDICT_REJECT };
	int ret = 0;

	for (int f = 0; ret >= 0 && f < 2; f++) {
		struct pc_plan_spans parts[SPANS_PARTS];

		ret = spans_split(f == 0 ? &e->addr4 : &e->addr6, parts);
		for (int ranges = 0; ret >= 0 && ranges < 2; ranges++)
			for (size_t v = 0; ret >= 0 && v < ARRAY_SIZE(verdicts); v++) {
				const struct pc_plan_spans *part = &parts[spans_part(ranges, verdicts[v])];

				if (part->n || run_has_all_sets(e->anchor_n))
					ret = addr_set_lower(l, base, e, f == 0 ? AF_INET : AF_INET6,
							     !ranges, verdicts[v], part);
			}
		for (int k = 0; k < SPANS_PARTS; k++)
			spans_free(&parts[k]);
	}
	return ret;
}

/* --- zone chains: runs of ports (rules of a few ports each), per port --- */

/* side as rule_pairs_side; "_t" (toward a host) keeps a run of side 3
 * from taking the sets of one of side 1, whose key is shorter, and "_n"
 * (toward networks) one of side 4 those of side 3, whose rules look up
 * whole hosts. */
void pair_set_suffix(char out[PAIR_SET_SUFFIX_MAX], uint8_t family, int side, unsigned dlen,
		     unsigned len, enum pc_verdict_kind v)
{
	char tail[ADDR_SET_SUFFIX_MAX];

	addr_set_suffix(tail, family, side == 2, true, v);
	if (side == 4)
		snprintf(out, PAIR_SET_SUFFIX_MAX, "_n%ux%u%s", dlen, len, tail);
	else
		snprintf(out, PAIR_SET_SUFFIX_MAX, "_%c%u%s", side == 3 ? 't' : 'l', len, tail);
}

int pair_elem_add(struct nftnl_set *s, const struct pc_pair_key *pk, uint8_t family,
		  const uint8_t *addr, const struct pc_rule *rule)
{
	char comment[PC_COMMENT_MAX + 1];
	uint8_t key[40] = { 0 };
	uint32_t alen = addr_len(family), at = 8;
	/* meta l4proto and th dport fill a 4-byte register each, the host
	 * and the address the next ones. */
	struct elem_spec es = { .key = key, .verdict = -1 };

	port_key(pk->l4proto, pk->port, key);
	if (pk->dfamily) {
		memcpy(key + at, pk->dhost, alen);
		at += alen;
	}
	memcpy(key + at, addr, alen);
	es.len = at + alen;
	if (rule) {
		pc_rule_comment(rule, comment, sizeof(comment));
		es.comment = comment;
	}
	return set_add_elem(s, &es);
}

/* The mask of a prefix of len bits. */
static void prefix_mask(unsigned len, uint8_t mask[16])
{
	memset(mask, 0, 16);
	for (unsigned b = 0; b < len; b++)
		mask[b / 8] |= (uint8_t)(0x80 >> (b % 8));
}

/* A hash set of l4proto . port [. host or network] . address (masked to
 * one prefix length). */
static struct nftnl_set *pair_set_new(const char *name, uint32_t id, uint8_t family,
				      bool to_dst)
{
	uint32_t addr = family == AF_INET ? NFT_DTYPE_IPADDR : NFT_DTYPE_IP6ADDR;
	uint32_t type = ((uint32_t)NFT_DTYPE_PROTO_SERVICE << NFT_DTYPE_BITS) | addr;
	struct nftnl_set *s;

	if (to_dst)
		type = (type << NFT_DTYPE_BITS) | addr;
	s = set_new(name, id, 0, type, 8 + addr_len(family) * (to_dst ? 2 : 1));

	if (s && set_add_counter(s) < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	return s;
}

/* A set of a PAIRS run being lowered: destination and source lengths,
 * verdict. */
struct pair_set {
	unsigned dlen, len;
	enum pc_verdict_kind v;
	struct nftnl_set *set;
};

/* Each prefix of a PAIRS run's spans of one family, as the element of the
 * set of its lengths and verdict. */
struct pair_fill {
	uint8_t family;
	const struct pc_plan_pair *pair;
	const struct pc_plan_span *span;
	/* Lowering: the sets, made at their first element. */
	struct pair_set *sets;
	size_t n_sets, cap_sets;
	struct lower *l;
	const char *base;
	int side; /* rule_pairs_side */
	/* A set made again: only its lengths and verdict. */
	struct nftnl_set *only;
	unsigned only_dlen, only_len;
	enum pc_verdict_kind only_v;
};

/* The run's set of prefixes of len toward networks of dlen and of verdict
 * v, made at its first use (a run has a few). */
static int pair_set_get(struct pair_fill *pf, unsigned dlen, unsigned len, enum pc_verdict_kind v,
			struct nftnl_set **out)
{
	char name[SET_NAME_MAX], suffix[PAIR_SET_SUFFIX_MAX];
	struct pair_set *ps;

	for (size_t i = 0; i < pf->n_sets; i++)
		if (pf->sets[i].dlen == dlen && pf->sets[i].len == len && pf->sets[i].v == v) {
			*out = pf->sets[i].set;
			return 0;
		}
	ps = PC_ARRAY_PUSH(pf->sets, pf->n_sets, pf->cap_sets);
	if (!ps)
		return -ENOMEM;
	pair_set_suffix(suffix, pf->family, pf->side, dlen, len, v);
	snprintf(name, sizeof(name), "%s%s", pf->base, suffix);
	*ps = (struct pair_set){ .dlen = dlen, .len = len, .v = v,
				 .set = pair_set_new(name, ++pf->l->next_set_id, pf->family,
						     pf->side >= 3) };
	if (!ps->set || objlist_push(pf->l, &pf->l->sets, PC_NFT_SET, ps->set) < 0) {
		nftnl_set_free(ps->set);
		pf->n_sets--;
		return -ENOMEM;
	}
	*out = ps->set;
	return 0;
}

/* The order of a run's lookups: longest destination, then source, first;
 * then by verdict. */
static int pair_set_cmp(const void *a, const void *b)
{
	const struct pair_set *x = a, *y = b;

	if (x->dlen != y->dlen)
		return x->dlen > y->dlen ? -1 : 1;
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return (int)x->v - (int)y->v;
}

static int pair_piece_lower(const uint8_t *addr, unsigned len, void *arg)
{
	struct pair_fill *pf = arg;
	struct nftnl_set *s;
	int r;

	if (pf->only) {
		if (len != pf->only_len || pf->span->verdict != pf->only_v ||
		    pf->pair->key.dlen != pf->only_dlen)
			return 0;
		return pair_elem_add(pf->only, &pf->pair->key, pf->family, addr, pf->span->rule);
	}
	r = pair_set_get(pf, pf->pair->key.dlen, len, pf->span->verdict, &s);
	if (r < 0)
		return r;
	pf->l->n_elems++;
	return pair_elem_add(s, &pf->pair->key, pf->family, addr, pf->span->rule);
}

static int pairs_fill(const struct pc_plan_entry *e, struct pair_fill *pf)
{
	uint8_t width = (uint8_t)addr_len(pf->family);
	int ret = 0;

	for (size_t i = 0; ret >= 0 && i < e->n_pairs; i++) {
		const struct pc_plan_spans *sp =
			pf->family == AF_INET ? &e->pairs[i].addr4 : &e->pairs[i].addr6;

		pf->pair = &e->pairs[i];
		for (size_t k = 0; ret >= 0 && k < sp->n; k++) {
			pf->span = &sp->items[k];
			ret = span_prefixes(sp->items[k].lo, sp->items[k].hi, width,
					    pair_piece_lower, pf);
		}
	}
	return ret;
}

/* meta l4proto . th dport . ip saddr & MASK @BASE_l24_src4_accept accept:
 * per family, one set and one kernel rule for each prefix length and
 * verdict the run has. The spans are disjoint, so the lookups commute; a
 * rule that comes or goes is elements, O(1) for the kernel's hash. The
 * sets of hosts of each verdict always, empty ones too (as a port run's
 * sets of single ports), and in a big run those of the usual networks
 * (pair_set_always), so that such a rule in place only adds elements. A
 * run toward hosts (to_host) has the destination before the
 * source: ... . ip daddr . ip saddr & MASK @BASE_t24_src4_accept; its
 * host is whole, so the mask is the source's alone. A run toward
 * networks (to_net) has the network there, with sets per network length
 * too: ... . ip daddr & 255.255.0.0 . ip saddr & MASK
 * @BASE_n16x24_src4_accept (a host's lookup has no destination mask), of
 * both families; its lookups all give the run's one verdict. */
static int entry_pairs_lower(struct lower *l, const char *base, const struct pc_plan_entry *e)
{
	bool to_dst = e->to_host || e->to_net;
	int ret = 0;

	for (int f = 0; ret >= 0 && f < 2; f++) {
		uint8_t family = f ? AF_INET6 : AF_INET;
		unsigned bits = addr_len(family) * 8, dlens[4] = { 0 };
		size_t n_dlens = e->to_net ? pair_dlens_always(e, family, dlens) : 1;
		struct pair_fill pf = { .family = family, .l = l, .base = base,
					.side = entry_pairs_side(e) };
		/* The source's registers: after the destination's, in a run toward
		 * hosts or networks. */
		uint32_t src_reg = NFT_REG32_02 + (to_dst ? addr_len(family) / 4 : 0);

		for (size_t d = 0; d < n_dlens; d++)
			for (unsigned len = bits + 1; ret >= 0 && len-- > 0;)
				for (int v = 0; ret >= 0 && v < 3; v++) {
					struct nftnl_set *s;

					if (pair_src_always(e, family, len, (enum pc_verdict_kind)v))
						ret = pair_set_get(&pf, dlens[d], len,
								   (enum pc_verdict_kind)v, &s);
				}
		if (ret >= 0)
			ret = pairs_fill(e, &pf);
		if (pf.n_sets > 1)
			qsort(pf.sets, pf.n_sets, sizeof(*pf.sets), pair_set_cmp);
		for (size_t i = 0; ret >= 0 && i < pf.n_sets; i++) {
			const struct pair_set *ps = &pf.sets[i];
			uint8_t mask[16], dmask[16];

			prefix_mask(ps->len, mask);
			prefix_mask(ps->dlen, dmask);
			for (size_t t = 0; ret >= 0 && t < l->n_targets; t++) {
				struct nftnl_rule *r = lower_rule_new(l, l->targets[t].chain);

				ret = r ? rule_add_nfproto(r, family) : -ENOMEM;
				if (ret >= 0)
					ret = rule_add_meta(r, NFT_META_L4PROTO, NFT_REG_1);
				if (ret >= 0)
					ret = rule_add_dport(r, l->targets[t].pub, NFT_REG32_01);
				if (ret >= 0 && (e->match_dst || to_dst))
					ret = rule_add_daddr(r, l->targets[t].pub, family, NFT_REG32_02);
				if (ret >= 0 && e->to_net && ps->dlen < bits)
					ret = rule_add_bitwise(r, NFT_REG32_02, dmask, addr_len(family));
				if (ret >= 0 && !e->match_dst)
					ret = rule_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER,
							       addr_offset(family, false),
							       addr_len(family), src_reg);
				if (ret >= 0 && ps->len < bits)
					ret = rule_add_bitwise(r, e->match_dst ? NFT_REG32_02 : src_reg,
							       mask, addr_len(family));
				if (ret >= 0)
					ret = rule_add_lookup(r, NFT_REG_1, ps->set, -1);
				if (ret >= 0)
					ret = rule_add_verdict(r, ps->v);
			}
		}
		free(pf.sets);
	}
	return ret;
}

/* A PAIRS run's set of kind (pair_kind) from the entry's spans, as
 * entry_pairs_lower fills it. */
static struct nftnl_set *pair_set_remake(const char *name, uint32_t id,
					 const struct pc_plan_entry *e, int kind)
{
	int k = kind - PAIR_KIND_BASE;
	uint8_t family = k / 3 / 129 % 2 ? AF_INET6 : AF_INET;
	struct pair_fill pf = { .family = family, .only_dlen = (unsigned)(k / 3 / 129 / 2),
				.only_len = (unsigned)(k / 3 % 129),
				.only_v = (enum pc_verdict_kind)(k % 3) };
	struct nftnl_set *s = pair_set_new(name, id, family, e->to_host || e->to_net);

	pf.only = s;
	if (s && pairs_fill(e, &pf) < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	return s;
}

/* --- zone chains: rules of their own --- */

/* The sets one rule needs, made once and shared by its kernel rules. */
struct rule_sets {
	struct nftnl_set *from[2], *to[2], *ports[3], *sports[3], *meter[2], *icmp;
};

static int fam_index(uint8_t family)
{
	return family == AF_INET ? 0 : 1;
}

static size_t prefixes_count(const struct pc_prefix *p, size_t n, uint8_t family)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += p[i].family == family;
	return c;
}

static const struct pc_prefix *prefixes_first(const struct pc_prefix *p, size_t n, uint8_t family)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i].family == family)
			return &p[i];
	}
	return NULL;
}

/* A plain interval set from items of one decider: their union, merged. */
static int set_fill_union(struct lower *l, struct nftnl_set *s, struct span_item *items, size_t n,
			  uint8_t width)
{
	struct pc_plan_spans spans = { .width = width };
	int r = spans_flatten(items, n, &spans);

	if (r >= 0)
		r = set_add_spans(s, &spans, false, NULL, NULL, &l->n_elems);
	spans_free(&spans);
	return r;
}

static int addr_set_new(struct lower *l, const char *name, const struct pc_prefix *p, size_t n,
			uint8_t family, struct nftnl_set **out)
{
	_cleanup_free_ struct span_item *items = calloc(n, sizeof(*items));
	struct nftnl_set *s;
	size_t k = 0;

	if (!items)
		return -ENOMEM;
	s = lower_set_new(l, name, NFT_SET_INTERVAL,
			  family == AF_INET ? NFT_DTYPE_IPADDR : NFT_DTYPE_IP6ADDR,
			  addr_len(family));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (p[i].family == family)
			key_from_prefix(&p[i], items[k].lo, items[k].hi), k++;
	}
	*out = s;
	return set_fill_union(l, s, items, k, addr_len(family));
}

static size_t ports_of(const struct pc_port_range *v, size_t n, enum pc_proto proto)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += (v[i].protos & proto) != 0;
	return c;
}

static size_t rule_ports_of(const struct pc_rule *r, enum pc_proto proto)
{
	return ports_of(r->ports, r->n_ports, proto);
}

/* Whether the rule has a kernel rule for protocol pc_protos_all[p]: its
 * ports and source ports, where given, name the protocol. */
static bool rule_has_proto(const struct pc_rule *r, size_t p)
{
	return (r->n_ports == 0 || rule_ports_of(r, pc_protos_all[p])) &&
	       (r->n_sports == 0 || ports_of(r->sports, r->n_sports, pc_protos_all[p]));
}

static int port_set_new(struct lower *l, const char *name, const struct pc_port_range *ports,
			size_t n, enum pc_proto proto, struct nftnl_set **out)
{
	_cleanup_free_ struct span_item *items = calloc(n ? n : 1, sizeof(*items));
	struct nftnl_set *s;
	size_t k = 0;

	if (!items)
		return -ENOMEM;
	s = lower_set_new(l, name, NFT_SET_INTERVAL, NFT_DTYPE_INET_SERVICE, 2);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!(ports[i].protos & proto))
			continue;
		items[k].lo[0] = ports[i].lo >> 8;
		items[k].lo[1] = ports[i].lo & 0xff;
		items[k].hi[0] = ports[i].hi >> 8;
		items[k].hi[1] = ports[i].hi & 0xff;
		k++;
	}
	*out = s;
	return set_fill_union(l, s, items, k, 2);
}

static uint64_t rate_unit_seconds(enum pc_rate_unit u)
{
	switch (u) {
	case PC_PER_MINUTE:
		return 60;
	case PC_PER_HOUR:
		return 3600;
	case PC_PER_SECOND:
		break;
	}
	return 1;
}

/* limit without rate: 6 new connections a minute per source, burst 6. */
static struct pc_rate rule_meter_rate(const struct pc_rule *r)
{
	struct pc_rate rate = { .set = true, .count = 6, .unit = PC_PER_MINUTE, .burst = 6 };

	if (r->rate.set) {
		rate = r->rate;
		if (rate.burst == 0)
			rate.burst = rate.count;
	}
	return rate;
}

ssize_t pc_ruleset_set_find(const struct pc_ruleset *rs, const char *name)
{
	/* The sets come before the rules (ruleset_assemble, and
	 * pc_ruleset_chain_remake puts new ones after the last): a set not
	 * there is not looked for among 20,000 rules. */
	for (size_t i = 0; i < rs->n_objs && rs->objs[i].kind != PC_NFT_RULE; i++)
		if (rs->objs[i].kind == PC_NFT_SET &&
		    streq(nftnl_set_get_str(rs->objs[i].obj, NFTNL_SET_NAME), name))
			return (ssize_t)i;
	return -1;
}

/*
 * The limit meter of l's zone for family f, "meter4_ZONE": one for all the
 * zone's limit rules, made at its first, so that a limit added later makes
 * no set. Making one costs the kernel a hash table for the 65,535 sources
 * it may hold (1 MB, allocated and cleared). Its key is the source and the
 * rule's tag (struct rule_emit), so that each rule keeps its own rate for
 * each source; the element's timeout is the rule's.
 */
static int zone_meter_get(struct lower *l, int f, struct nftnl_set **out)
{
	const struct pc_rule *rule = l->rule;
	char name[SET_NAME_MAX];
	struct nftnl_set *s;
	ssize_t found;
	size_t z = 0;

	while (z < l->plan->n_zones && l->plan->zones[z].zone != l->zone)
		z++;
	if (z == l->plan->n_zones)
		return -EINVAL;
	if (!l->zone_meters && !(l->zone_meters = calloc(l->plan->n_zones, sizeof(*l->zone_meters))))
		return -ENOMEM;
	if (l->zone_meters[z][f]) {
		*out = l->zone_meters[z][f];
		return 0;
	}
	snprintf(name, sizeof(name), "meter%c_%s", f ? '6' : '4', l->zone->name);
	found = l->old ? pc_ruleset_set_find(l->old, name) : -1;
	if (found >= 0) {
		*out = l->zone_meters[z][f] = l->old->objs[found].obj;
		return 0;
	}
	/* The zone's, not a rule's: no entry made again takes it along. */
	l->rule = NULL;
	s = lower_set_new(l, name, NFT_SET_EVAL | NFT_SET_TIMEOUT,
			  ((f ? NFT_DTYPE_IP6ADDR : NFT_DTYPE_IPADDR) << NFT_DTYPE_BITS) |
				  NFT_DTYPE_MARK,
			  addr_len(f ? AF_INET6 : AF_INET) + 4);
	l->rule = rule;
	if (!s)
		return -ENOMEM;
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, 65535);
	nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, 60000);
	*out = l->zone_meters[z][f] = s;
	return 0;
}

/* Does zone z have a limit rule, in any direction? */
static bool zone_has_limits(const struct pc_plan *plan, size_t z)
{
	for (int dir = 0; dir < PC_N_DIRS; dir++) {
		const struct pc_plan_chain *c = &plan->zones[z].dir[dir];

		for (size_t e = 0; e < c->n_entries; e++)
			if (c->entries[e].kind == PC_ENTRY_RULE &&
			    c->entries[e].first->action == PC_LIMIT)
				return true;
	}
	return false;
}

static uint64_t digest_add(uint64_t h, const void *data, size_t n)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static int item_lo_cmp(const void *a, const void *b)
{
	return memcmp(((const struct span_item *)a)->lo, ((const struct span_item *)b)->lo, 16);
}

/*
 * The kernel set of a named set for one family: "set_NAME_v4", shared by
 * every rule that names it, with both families always there, so that a
 * changed list is an element change only. Hosts go into a hash set (an
 * O(1) insert however big), a family with a prefix into an interval set.
 */
static int named_set_get(struct lower *l, const struct pc_addrset *set, int f,
			 struct nftnl_set **out)
{
	const struct pc_config *cfg = l->plan->cfg;
	uint8_t family = f ? AF_INET6 : AF_INET;
	uint8_t width = addr_len(family);
	_cleanup_free_ struct span_item *items = NULL;
	struct pc_plan_spans spans = { .width = width };
	char name[SET_NAME_MAX];
	bool hosts = true;
	struct nftnl_set *s;
	size_t idx = 0, k = 0;
	uint64_t digest = 14695981039346656037ull; /* FNV-1a */
	int r;

	while (idx < cfg->n_sets && cfg->sets[idx] != set)
		idx++;
	if (idx == cfg->n_sets)
		return -EINVAL;
	if (!l->named && !(l->named = calloc(cfg->n_sets, sizeof(*l->named))))
		return -ENOMEM;
	if (l->named[idx][f]) {
		*out = l->named[idx][f];
		return 0;
	}
	items = calloc(set->n_addrs + 1, sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < set->n_addrs; i++) {
		if (set->addrs[i].family != family)
			continue;
		hosts = hosts && set->addrs[i].len == width * 8;
		key_from_prefix(&set->addrs[i], items[k].lo, items[k].hi);
		k++;
	}
	snprintf(name, sizeof(name), "set_%s_v%c", set->name, f ? '6' : '4');
	s = lower_set_new(l, name, hosts ? 0 : NFT_SET_INTERVAL,
			  f ? NFT_DTYPE_IP6ADDR : NFT_DTYPE_IPADDR, width);
	if (!s)
		return -ENOMEM;
	l->named[idx][f] = *out = s;
	if (hosts) {
		/* Keys one by one: flattening would join neighbours into ranges. */
		qsort(items, k, sizeof(*items), item_lo_cmp);
		for (size_t i = 0; i < k; i++) {
			struct elem_spec e = { .key = items[i].lo, .len = width, .verdict = -1 };

			if (i && !memcmp(items[i].lo, items[i - 1].lo, width))
				continue;
			l->n_elems++;
			digest = digest_add(digest, items[i].lo, width);
			r = set_add_elem(s, &e);
			if (r < 0)
				return r;
		}
	} else {
		r = spans_flatten(items, k, &spans);
		if (r >= 0)
			r = set_add_spans(s, &spans, false, NULL, NULL, &l->n_elems);
		for (size_t i = 0; r >= 0 && i < spans.n; i++) {
			digest = digest_add(digest, spans.items[i].lo, width);
			digest = digest_add(digest, spans.items[i].hi, width);
		}
		spans_free(&spans);
		if (r < 0)
			return r;
	}
	/* The set is the last one made: its object takes the digest. */
	l->sets.v[l->sets.n - 1].elems_digest = digest_add(digest, &k, sizeof(k)) | 1;
	return 0;
}

static int rule_sets_new(struct lower *l, const char *base, const struct pc_rule *r,
			 struct rule_sets *rs)
{
	static const uint8_t fams[2] = { AF_INET, AF_INET6 };
	char name[SET_NAME_MAX];
	int ret = 0;

	for (int f = 0; ret >= 0 && f < 2; f++) {
		if (r->from_set)
			ret = named_set_get(l, r->from_set, f, &rs->from[f]);
		if (ret >= 0 && r->to_set)
			ret = named_set_get(l, r->to_set, f, &rs->to[f]);
		if (ret >= 0 && prefixes_count(r->from, r->n_from, fams[f]) > 1 &&
		    !prefixes_any(r->from, r->n_from)) {
			snprintf(name, sizeof(name), "%s_from%c", base, f ? '6' : '4');
			ret = addr_set_new(l, name, r->from, r->n_from, fams[f], &rs->from[f]);
		}
		if (ret >= 0 && prefixes_count(r->to, r->n_to, fams[f]) > 1 &&
		    !prefixes_any(r->to, r->n_to)) {
			snprintf(name, sizeof(name), "%s_to%c", base, f ? '6' : '4');
			ret = addr_set_new(l, name, r->to, r->n_to, fams[f], &rs->to[f]);
		}
		if (ret >= 0 && r->action == PC_LIMIT)
			ret = zone_meter_get(l, f, &rs->meter[f]);
	}
	for (size_t p = 0; ret >= 0 && p < ARRAY_SIZE(pc_protos_all); p++) {
		static const char *const pnames[3] = { "tcp", "udp", "sctp" };

		if (rule_ports_of(r, pc_protos_all[p]) > 1) {
			snprintf(name, sizeof(name), "%s_%s", base, pnames[p]);
			ret = port_set_new(l, name, r->ports, r->n_ports, pc_protos_all[p],
					   &rs->ports[p]);
		}
		if (ret >= 0 && ports_of(r->sports, r->n_sports, pc_protos_all[p]) > 1) {
			snprintf(name, sizeof(name), "%s_s%s", base, pnames[p]);
			ret = port_set_new(l, name, r->sports, r->n_sports, pc_protos_all[p],
					   &rs->sports[p]);
		}
	}
	if (ret >= 0 && r->n_icmp_types > 1) {
		snprintf(name, sizeof(name), "%s_icmp", base);
		ret = icmp_set_new(l, name,
				   r->l4proto == IPPROTO_ICMP ? NFT_DTYPE_ICMP_TYPE
							      : NFT_DTYPE_ICMP6_TYPE,
				   r->icmp_types, r->n_icmp_types, &rs->icmp);
	}
	return ret;
}

/* ip saddr 10.0.0.0/8, or ip saddr @set for several prefixes. */
static int rule_add_addr_match(struct nftnl_rule *nr, const struct pc_prefix *p, size_t n,
			       uint8_t family, bool dst, bool pub, const struct nftnl_set *set)
{
	const struct pc_prefix *one = prefixes_first(p, n, family);
	uint8_t lo[16], hi[16], mask[16];
	uint32_t len = addr_len(family);
	int ret;

	if (!set && prefixes_any(p, n))
		return 0;
	if (dst)
		ret = rule_add_daddr(nr, pub, family, NFT_REG_1);
	else
		ret = rule_add_payload(nr, NFT_PAYLOAD_NETWORK_HEADER, addr_offset(family, false),
				       len, NFT_REG_1);
	if (ret < 0)
		return ret;
	if (set)
		return rule_add_lookup(nr, NFT_REG_1, set, -1);
	key_from_prefix(one, lo, hi);
	if (one->len < len * 8) {
		for (uint32_t i = 0; i < len; i++)
			mask[i] = (uint8_t)~(lo[i] ^ hi[i]);
		ret = rule_add_bitwise(nr, NFT_REG_1, mask, len);
	}
	return ret < 0 ? ret : rule_add_cmp(nr, NFT_CMP_EQ, NFT_REG_1, lo, len);
}

/* th dport 22 | 1000-2000 | @set (sport: offset 0); in pub_<zone> the
 * destination port is the original one (ct original proto-dst). */
static int rule_add_port_match(struct nftnl_rule *nr, const struct pc_port_range *ports, size_t n,
			       size_t p, uint32_t offset, bool pub, const struct nftnl_set *set)
{
	const struct pc_port_range *one = NULL;
	uint16_t lo, hi;
	int ret = offset == 2 ? rule_add_dport(nr, pub, NFT_REG_1)
			      : rule_add_payload(nr, NFT_PAYLOAD_TRANSPORT_HEADER, offset, 2, NFT_REG_1);

	if (ret < 0 || set)
		return ret < 0 ? ret : rule_add_lookup(nr, NFT_REG_1, set, -1);
	for (size_t i = 0; !one && i < n; i++) {
		if (ports[i].protos & pc_protos_all[p])
			one = &ports[i];
	}
	lo = htons(one->lo);
	hi = htons(one->hi);
	if (one->lo == one->hi)
		return rule_add_cmp(nr, NFT_CMP_EQ, NFT_REG_1, &lo, sizeof(lo));
	ret = rule_add_cmp(nr, NFT_CMP_GTE, NFT_REG_1, &lo, sizeof(lo));
	return ret < 0 ? ret : rule_add_cmp(nr, NFT_CMP_LTE, NFT_REG_1, &hi, sizeof(hi));
}

/* meta l4proto gre; icmp type 8 | @set. */
static int rule_add_l4_match(struct nftnl_rule *nr, const struct pc_rule *r,
			     const struct nftnl_set *types)
{
	int ret = rule_add_l4proto(nr, r->l4proto);

	if (ret < 0 || r->n_icmp_types == 0)
		return ret;
	ret = rule_add_payload(nr, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
	if (ret < 0)
		return ret;
	if (types)
		return rule_add_lookup(nr, NFT_REG_1, types, -1);
	return rule_add_cmp_u8(nr, NFT_REG_1, r->icmp_types[0]);
}

enum rule_part { PART_LOG, PART_METER, PART_MAIN };

struct rule_emit {
	const struct pc_rule *rule;
	const char *chain;
	bool pub; /* pub_<zone>: match the original destination */
	const char *zone;
	const struct rule_sets *sets;
	uint8_t family; /* 0: both */
	int proto;      /* index into pc_protos_all, -1: any protocol */
	const struct pc_settings *settings;
	uint32_t meter_tag; /* the rule's part of its zone meter's keys */
};

static int rule_add_matches(struct nftnl_rule *nr, const struct rule_emit *re)
{
	const struct pc_rule *r = re->rule;
	int f = re->family ? fam_index(re->family) : 0;
	int ret = 0;

	if (re->family) {
		ret = rule_add_nfproto(nr, re->family);
		if (ret >= 0)
			ret = rule_add_addr_match(nr, r->from, r->n_from, re->family, false, false,
						  re->sets->from[f]);
		if (ret >= 0)
			ret = rule_add_addr_match(nr, r->to, r->n_to, re->family, true, re->pub,
						  re->sets->to[f]);
	}
	if (ret >= 0 && re->proto >= 0)
		ret = rule_add_l4proto(nr, proto_l4(pc_protos_all[re->proto]));
	if (ret >= 0 && re->proto >= 0 && r->n_ports)
		ret = rule_add_port_match(nr, r->ports, r->n_ports, (size_t)re->proto, 2,
					  re->pub, re->sets->ports[re->proto]);
	if (ret >= 0 && re->proto >= 0 && r->n_sports)
		ret = rule_add_port_match(nr, r->sports, r->n_sports, (size_t)re->proto, 0,
					  false, re->sets->sports[re->proto]);
	if (ret >= 0 && r->l4proto)
		ret = rule_add_l4_match(nr, r, re->sets->icmp);
	return ret;
}

/* Where log-group says, and to the watch group as well, where portctld
 * reads it while someone runs portctl watch (an nflog group nobody reads
 * costs next to nothing). prefix: ours, "portctl ZONE WHAT ", which watch
 * parses; user_prefix: the same with the user's text in place of
 * "portctl", for the log-group statement only: the watch group keeps ours. */
static int rule_add_logs(struct nftnl_rule *nr, const char *prefix, const char *user_prefix,
			 int level, const struct pc_settings *st)
{
	bool watched = st->log_group == st->watch_group;
	int ret = rule_add_log(nr, watched ? prefix : user_prefix, st->log_group, level);

	if (ret >= 0 && !watched)
		ret = rule_add_log(nr, prefix, st->watch_group, -1);
	return ret;
}

static void rule_log_prefix(const struct rule_emit *re, const char *head, char *buf, size_t size)
{
	const char *file = re->rule->loc.file ? re->rule->loc.file : "-";
	const char *base = strrchr(file, '/');

	snprintf(buf, size, "%s %s %s:%u ", head, re->zone, base ? base + 1 : file,
		 re->rule->loc.line);
}

static int rule_add_tail(struct nftnl_rule *nr, const struct rule_emit *re, enum rule_part part)
{
	const struct pc_rule *r = re->rule;
	char prefix[LOG_PREFIX_MAX + 1], user_prefix[LOG_PREFIX_MAX + 1];
	struct pc_rate rate;
	uint64_t window;
	int ret;

	switch (part) {
	case PART_LOG:
		/* Logging has its own limit so a flood cannot flood the log. */
		rule_log_prefix(re, "portctl", prefix, sizeof(prefix));
		rule_log_prefix(re, r->log_prefix ? r->log_prefix : "portctl", user_prefix,
				sizeof(user_prefix));
		ret = rule_add_limit(nr, 10, 60, 5, false);
		return ret < 0 ? ret
			       : rule_add_logs(nr, prefix, user_prefix,
					       r->log_level_set ? r->log_level : -1, re->settings);
	case PART_METER:
		rate = rule_meter_rate(r);
		window = rate_unit_seconds(rate.unit) * 1000;
		ret = rule_add_payload(nr, NFT_PAYLOAD_NETWORK_HEADER,
				       addr_offset(re->family, false), addr_len(re->family),
				       NFT_REG_1);
		/* The key's second field, right after the address (NFT_REG_2 is
		 * NFT_REG32_04, which the kernel reports as NFT_REG_2). */
		if (ret >= 0)
			ret = rule_add_imm_u32(nr, re->family == AF_INET ? NFT_REG32_01 : NFT_REG_2,
					       re->meter_tag);
		if (ret >= 0)
			ret = rule_add_dynset_limit(nr, NFT_REG_1,
						    re->sets->meter[fam_index(re->family)],
						    window < 60000 ? 60000 : window, rate.count,
						    rate_unit_seconds(rate.unit), rate.burst);
		if (ret >= 0)
			ret = rule_add_counter(nr);
		return ret < 0 ? ret : rule_add_verdict(nr, PC_VERDICT_DROP);
	case PART_MAIN:
		break;
	}
	ret = 0;
	if (r->rate.set && r->action != PC_LIMIT)
		ret = rule_add_limit(nr, r->rate.count, rate_unit_seconds(r->rate.unit),
				     r->rate.burst ? r->rate.burst : 5, false);
	if (ret >= 0)
		ret = rule_add_counter(nr);
	return ret < 0 ? ret : rule_add_verdict(nr, action_verdict(r->action));
}

static int rule_part_lower(struct lower *l, struct rule_emit *re, enum rule_part part)
{
	char comment[PC_COMMENT_MAX + 1];
	int ret = 0;

	for (size_t t = 0; ret >= 0 && t < l->n_targets; t++) {
		struct nftnl_rule *nr = lower_rule_new(l, l->targets[t].chain);

		re->chain = l->targets[t].chain;
		re->pub = l->targets[t].pub;
		ret = nr ? rule_add_matches(nr, re) : -ENOMEM;
		if (ret >= 0)
			ret = rule_add_tail(nr, re, part);
		if (ret >= 0) {
			pc_rule_comment(re->rule, comment, sizeof(comment));
			ret = rule_set_comment(nr, comment);
		}
	}
	return ret;
}

/* A named set has a kernel set of each family, empty or not, so its rules
 * stay whatever the list holds: a changed list changes elements only. */
static bool rule_family_usable(const struct pc_rule *r, uint8_t family)
{
	bool from_ok = r->from_set || prefixes_any(r->from, r->n_from) ||
		       prefixes_count(r->from, r->n_from, family);
	bool to_ok = r->to_set || prefixes_any(r->to, r->n_to) || prefixes_count(r->to, r->n_to, family);

	if (r->l4proto == IPPROTO_ICMP || r->l4proto == IPPROTO_ICMPV6)
		return family == (r->l4proto == IPPROTO_ICMP ? AF_INET : AF_INET6) && from_ok && to_ok;
	return from_ok && to_ok;
}

/* One kernel rule per (family, protocol), preceded by its log and meter rules. */
static int rule_lower(struct lower *l, const char *base, const struct pc_rule *r)
{
	struct rule_sets sets = { 0 };
	struct rule_emit re = { .rule = r, .zone = l->zone->name, .sets = &sets,
				.settings = &l->plan->cfg->settings,
				.meter_tag = (uint32_t)pc_fnv1a(PC_FNV1A_START, base, strlen(base)) };
	bool by_family = !prefixes_any(r->from, r->n_from) || !prefixes_any(r->to, r->n_to) ||
			 r->from_set || r->to_set || r->action == PC_LIMIT ||
			 r->l4proto == IPPROTO_ICMP || r->l4proto == IPPROTO_ICMPV6;
	bool by_proto = r->n_ports || r->n_sports;
	static const uint8_t fams[3] = { 0, AF_INET, AF_INET6 };
	int ret = rule_sets_new(l, base, r, &sets);

	for (size_t f = by_family ? 1 : 0; ret >= 0 && f < (by_family ? 3u : 1u); f++) {
		if (fams[f] && !rule_family_usable(r, fams[f]))
			continue;
		re.family = fams[f];
		for (int p = by_proto ? 0 : -1; ret >= 0 && p < (by_proto ? 3 : 0); p++) {
			if (p >= 0 && !rule_has_proto(r, (size_t)p))
				continue;
			re.proto = p;
			if (r->log)
				ret = rule_part_lower(l, &re, PART_LOG);
			if (ret >= 0 && r->action == PC_LIMIT)
				ret = rule_part_lower(l, &re, PART_METER);
			if (ret >= 0)
				ret = rule_part_lower(l, &re, PART_MAIN);
		}
	}
	return ret;
}

/*
 * A rule of a few ports and addresses (RULE_EXPAND_MAX combinations at
 * most) is its kernel rules once per combination, one port and one prefix
 * of each side, with no set: a set per such rule would make thousands for
 * a zone of them, and the kernel finds a set by its name in a list, so the
 * table would load in quadratic time (10,000 rules of two ports each: 7.8 s
 * to start, 4.3 s to restart). The combinations keep the rule's comment,
 * verdict and meter tag, so they decide and count as the rule. Not for a
 * global rate or a log, which each combination would have again.
 */
#define RULE_EXPAND_MAX 8

static int entry_rule_lower(struct lower *l, const char *base, const struct pc_plan_entry *e)
{
	const struct pc_rule *r = e->first;
	bool from = r->n_from > 1 && !prefixes_any(r->from, r->n_from);
	bool to = r->n_to > 1 && !prefixes_any(r->to, r->n_to);
	size_t np = r->n_ports ? r->n_ports : 1, nf = from ? r->n_from : 1, nt = to ? r->n_to : 1;
	int ret = 0;

	if ((np == 1 && nf == 1 && nt == 1) || np * nf * nt > RULE_EXPAND_MAX || r->log ||
	    (r->rate.set && r->action != PC_LIMIT))
		return rule_lower(l, base, r);
	for (size_t i = 0; ret >= 0 && i < np * nf * nt; i++) {
		struct pc_rule one = *r;

		if (r->n_ports) {
			one.ports = &r->ports[i / (nf * nt)];
			one.n_ports = 1;
		}
		if (from) {
			one.from = &r->from[i / nt % nf];
			one.n_from = 1;
		}
		if (to) {
			one.to = &r->to[i % nt];
			one.n_to = 1;
		}
		ret = rule_lower(l, base, &one);
	}
	return ret;
}

static bool spans_decided_by(const struct pc_plan_spans *s, const struct pc_rule *r)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->items[i].rule == r)
			return true;
	return false;
}

/* Does rule r decide some part of run e? A rule a change takes out is
 * still in the configuration, in the range [e->first, e->last], but in
 * none of its segments; a rule the rules before it wholly shadow never
 * decides either. */
static bool run_decided_by(const struct pc_plan_entry *e, const struct pc_rule *r)
{
	switch (e->kind) {
	case PC_ENTRY_PORTS:
		for (size_t i = 0; i < e->n_ports; i++)
			if (e->ports[i].rule == r)
				return true;
		return false;
	case PC_ENTRY_ADDRS:
		return spans_decided_by(&e->addr4, r) || spans_decided_by(&e->addr6, r);
	case PC_ENTRY_PAIRS:
		for (size_t i = 0; i < e->n_pairs; i++)
			if (spans_decided_by(&e->pairs[i].addr4, r) ||
			    spans_decided_by(&e->pairs[i].addr6, r))
				return true;
		return false;
	case PC_ENTRY_RULE:
		break;
	}
	return e->first == r;
}

/* A small run lowered by rule (small_runs_by_rule): each
 * of its rules as a rule of its own, in order, so that the first that
 * matches decides as in the run. Its objects are the entry's (told by its
 * first rule), so that it is made again whole as any entry is; each kernel
 * rule's comment names its own rule, by_rule_at tells which (status counts
 * it there). */
static int entry_by_rule_lower(struct lower *l, size_t z, enum pc_dir dir, const char *base,
			       const struct pc_plan_entry *e)
{
	char rule_base[NAME_MAX_LEN];
	unsigned k = 0;
	int ret = 0;

	l->by_rule = true;
	for (const struct pc_rule *r = e->first; ret >= 0 && (uintptr_t)r <= (uintptr_t)e->last;
	     r++) {
		struct pc_plan_entry one = { .kind = PC_ENTRY_RULE, .first = r, .last = r };
		size_t at;

		if (!rule_in_chain(l->plan, r, z, dir) || !run_decided_by(e, r))
			continue;
		at = pc_put_str(rule_base, sizeof(rule_base), 0, base);
		at = pc_put_str(rule_base, sizeof(rule_base), at, "_r");
		pc_put_uint(rule_base, sizeof(rule_base), at, k++);
		l->by_rule_at = (uint32_t)(r - e->first);
		ret = entry_rule_lower(l, rule_base, &one);
	}
	l->by_rule = false;
	return ret;
}

static int entry_lower(struct lower *l, size_t z, enum pc_dir dir, const char *base,
		       const struct pc_plan_entry *e)
{
	if (small_runs_by_rule(l->small, e))
		return entry_by_rule_lower(l, z, dir, base, e);
	switch (e->kind) {
	case PC_ENTRY_PORTS:
		return entry_ports_lower(l, base, e);
	case PC_ENTRY_ADDRS:
		return entry_addrs_lower(l, base, e);
	case PC_ENTRY_PAIRS:
		return entry_pairs_lower(l, base, e);
	case PC_ENTRY_RULE:
		break;
	}
	return entry_rule_lower(l, base, e);
}

/* --- NAT: forward and masquerade (table inet portctl's nat chains) --- */

/*
 * The nat hooks see only a connection's first packet. prerouting picks the
 * client's zone as input does (source address, then input interface, then
 * the default zone) and jumps to nat_ZONE, which holds the zone's forwards:
 * DNAT, with PC_CTMARK_FORWARD set on the connection so that the forward
 * chain accepts it (a forward implies its accept). Masquerade is decided in
 * postrouting, where the input interface is no longer known: nat_ZONE of a
 * zone that masquerades writes the zone's number into the connection's
 * mark (PC_CTMARK_ZONE), and postrouting matches it with the out interface.
 * Banned sources skip NAT (accept): the filter chains drop them.
 */
struct nat_lower {
	char (*chains)[NAME_MAX_LEN]; /* nat_ZONE, indexed like plan->zones */
	uint32_t *zone_id;            /* masquerade's zone number, 0: none */
};

/* ip saddr @SET accept, each ban set: no NAT for a banned client. */
static int nat_ban_rules(struct lower *l, const char *chain,
			 struct nftnl_set *const sets[BAN_SETS])
{
	int ret = 0;

	for (int k = 0; ret >= 0 && k < BAN_SETS; k++) {
		uint8_t family = k / 2 == 0 ? AF_INET : AF_INET6;
		struct nftnl_rule *r = lower_rule_new(l, chain);

		ret = r ? rule_add_nfproto(r, family) : -ENOMEM;
		if (ret >= 0)
			ret = rule_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, addr_offset(family, false),
					       addr_len(family), NFT_REG_1);
		if (ret >= 0)
			ret = rule_add_lookup(r, NFT_REG_1, sets[k], -1);
		if (ret >= 0)
			ret = rule_add_verdict(r, PC_VERDICT_ACCEPT);
	}
	return ret;
}

/* ip saddr @zone_src4_rpf fib saddr . iif oif missing accept: a forged
 * source must not pick a zone's forwards either (input drops it). */
static int nat_rpf_rules(struct lower *l)
{
	int ret = 0;

	/* No set: no zone sources of the family, or reverse-path = off. */
	for (int f = 0; ret >= 0 && f < 2; f++)
		if (l->rpf[f])
			ret = rpf_rule_lower(l, "prerouting", f == 0 ? AF_INET : AF_INET6, l->rpf[f],
					     PC_VERDICT_ACCEPT);
	return ret;
}

/* ip saddr vmap @nat_src4 / iifname vmap @nat_iif: the inbound dispatch
 * of the filter side, jumping to the nat_ZONE chains. */
static int nat_dispatch_lower(struct lower *l, struct nat_lower *n)
{
	const struct pc_plan_dispatch *dp = &l->plan->dispatch[PC_DIR_IN];
	struct nftnl_set *s;
	struct nftnl_rule *r;
	int ret = 0;

	for (int f = 0; ret >= 0 && f < 2; f++) {
		uint8_t family = f == 0 ? AF_INET : AF_INET6;
		const struct pc_plan_spans *spans = f == 0 ? &dp->addr4 : &dp->addr6;

		if (spans->n == 0)
			continue;
		s = lower_vmap_new(l, f == 0 ? "nat_src4" : "nat_src6", NFT_SET_INTERVAL,
				   family == AF_INET ? NFT_DTYPE_IPADDR : NFT_DTYPE_IP6ADDR,
				   addr_len(family));
		ret = s ? set_add_spans(s, spans, true, dispatch_jump, n->chains, &l->n_elems)
			: -ENOMEM;
		r = ret < 0 ? NULL : lower_rule_new(l, "prerouting");
		ret = r ? rule_add_nfproto(r, family) : -ENOMEM;
		if (ret >= 0)
			ret = rule_add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, addr_offset(family, false),
					       addr_len(family), NFT_REG_1);
		if (ret >= 0)
			ret = rule_add_lookup(r, NFT_REG_1, s, NFT_REG_VERDICT);
	}
	if (ret >= 0)
		ret = iface_vmap_lower(l, "nat_iif", "prerouting", NFT_META_IIFNAME, dp, n->chains);
	r = ret < 0 ? NULL : lower_rule_new(l, "prerouting");
	return r ? rule_add_jump(r, n->chains[dp->default_zone]) : -ENOMEM;
}

/* One forward in nat_ZONE, a kernel rule per protocol:
 * ip saddr FROM meta l4proto tcp th dport 8080 counter
 *   ct mark set ct mark | FORWARD dnat ip to 10.0.0.5:80 */
static int forward_lower(struct lower *l, const char *chain, size_t z, size_t idx,
			 const struct pc_rule *fw)
{
	uint8_t family = fw->fwd_addr.family;
	uint8_t nfproto = family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
	struct rule_sets sets = { 0 };
	struct rule_emit re = { .rule = fw, .chain = chain, .sets = &sets, .family = family };
	char base[NAME_MAX_LEN], comment[PC_COMMENT_MAX + 1];
	uint16_t port = htons(fw->fwd_port);
	uint32_t local = RTN_LOCAL;
	int ret;

	snprintf(base, sizeof(base), "nat_%s_%zu", l->plan->zones[z].zone->name, idx);
	ret = rule_sets_new(l, base, fw, &sets);
	for (int p = 0; ret >= 0 && p < 3; p++) {
		struct nftnl_rule *nr;

		if (rule_ports_of(fw, pc_protos_all[p]) == 0)
			continue;
		re.proto = p;
		nr = lower_rule_new(l, chain);
		ret = nr ? rule_add_matches(nr, &re) : -ENOMEM;
		/* fib daddr type local: the host's own port, not routed traffic. */
		if (ret >= 0)
			ret = rule_add_fib(nr, NFTA_FIB_F_DADDR, NFT_FIB_RESULT_ADDRTYPE, NFT_REG_1);
		if (ret >= 0)
			ret = rule_add_cmp(nr, NFT_CMP_EQ, NFT_REG_1, &local, sizeof(local));
		if (ret >= 0)
			ret = rule_add_counter(nr);
		if (ret >= 0)
			ret = rule_add_ct_mark_set(nr, PC_CTMARK_FORWARD, PC_CTMARK_FORWARD);
		if (ret >= 0)
			ret = rule_add_data(nr, NFT_REG_1, fw->fwd_addr.addr, addr_len(family));
		if (ret >= 0 && fw->fwd_port)
			ret = rule_add_data(nr, NFT_REG_2, &port, sizeof(port));
		if (ret >= 0)
			ret = rule_add_dnat(nr, nfproto, fw->fwd_port != 0);
		if (ret >= 0) {
			pc_rule_comment(fw, comment, sizeof(comment));
			ret = rule_set_comment(nr, comment);
		}
	}
	return ret;
}

static int nat_zone_lower(struct lower *l, struct nat_lower *n, size_t z)
{
	const struct pc_config *cfg = l->plan->cfg;
	const char *chain = n->chains[z];
	struct nftnl_rule *r;
	int ret;

	l->zone = l->plan->zones[z].zone;
	ret = nat_ban_rules(l, chain, l->zone_bans[z]);
	if (ret >= 0 && n->zone_id[z]) {
		r = lower_rule_new(l, chain);
		ret = r ? rule_add_ct_mark_set(r, PC_CTMARK_ZONE,
					       n->zone_id[z] << PC_CTMARK_ZONE_SHIFT)
			: -ENOMEM;
	}
	for (size_t i = 0; ret >= 0 && i < cfg->n_rules; i++) {
		const struct pc_rule *fw = &cfg->rules[i];

		if (fw->action != PC_FORWARD)
			continue;
		for (size_t k = 0; ret >= 0 && k < (fw->n_zones ? fw->n_zones : 1); k++) {
			if (rule_zone_index(cfg, fw, k) != (ssize_t)z)
				continue;
			l->rule = fw;
			ret = forward_lower(l, chain, z, i, fw);
			l->rule = NULL;
		}
	}
	/* Done: a jump from the dispatch would come back and go on to the
	 * default zone's forwards. */
	r = ret < 0 ? NULL : lower_rule_new(l, chain);
	ret = r ? rule_add_verdict(r, PC_VERDICT_ACCEPT) : -ENOMEM;
	l->zone = NULL;
	return ret;
}

/* ct mark & ZONE == Z [ip saddr FROM] oifname "eth0" counter masquerade */
static int masq_lower(struct lower *l, struct nat_lower *n, const struct pc_rule *m)
{
	const struct pc_config *cfg = l->plan->cfg;
	struct rule_sets sets = { 0 };
	struct rule_emit re = { .rule = m, .chain = "postrouting", .sets = &sets, .proto = -1 };
	char base[NAME_MAX_LEN], comment[PC_COMMENT_MAX + 1];
	static const uint8_t fams[3] = { 0, AF_INET, AF_INET6 };
	bool by_family = !prefixes_any(m->from, m->n_from);
	int ret;

	snprintf(base, sizeof(base), "masq_%zu", (size_t)(m - cfg->rules));
	ret = rule_sets_new(l, base, m, &sets);
	for (size_t k = 0; ret >= 0 && k < (m->n_zones ? m->n_zones : 1); k++) {
		ssize_t z = rule_zone_index(cfg, m, k);

		for (size_t f = by_family ? 1 : 0; ret >= 0 && f < (by_family ? 3u : 1u); f++) {
			if (fams[f] && !prefixes_count(m->from, m->n_from, fams[f]))
				continue;
			re.family = fams[f];
			for (size_t i = 0; ret >= 0 && i < m->n_out_ifaces; i++) {
				char ifname[IFNAMSIZ] = { 0 };
				struct nftnl_rule *nr = lower_rule_new(l, "postrouting");

				strncpy(ifname, m->out_ifaces[i].name, IFNAMSIZ - 1);
				ret = nr ? rule_add_ct_match(nr, NFT_CT_MARK, PC_CTMARK_ZONE,
							     n->zone_id[z] << PC_CTMARK_ZONE_SHIFT)
					 : -ENOMEM;
				if (ret >= 0)
					ret = rule_add_matches(nr, &re);
				if (ret >= 0)
					ret = rule_add_meta(nr, NFT_META_OIFNAME, NFT_REG_1);
				if (ret >= 0)
					ret = rule_add_cmp(nr, NFT_CMP_EQ, NFT_REG_1, ifname,
							   (uint32_t)strlen(ifname) + 1);
				if (ret >= 0)
					ret = rule_add_counter(nr);
				if (ret >= 0)
					ret = rule_add_masq(nr);
				if (ret >= 0) {
					pc_rule_comment(m, comment, sizeof(comment));
					ret = rule_set_comment(nr, comment);
				}
			}
		}
	}
	return ret;
}

/* A zone number for each zone that masquerades, in zone order. */
static int nat_zone_ids(struct lower *l, struct nat_lower *n)
{
	const struct pc_config *cfg = l->plan->cfg;
	uint32_t next = 0;

	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct pc_rule *m = &cfg->rules[i];

		for (size_t k = 0; m->action == PC_MASQUERADE && k < (m->n_zones ? m->n_zones : 1);
		     k++) {
			ssize_t z = rule_zone_index(cfg, m, k);

			if (z >= 0 && !n->zone_id[z])
				n->zone_id[z] = 1; /* numbered below, in zone order */
		}
	}
	for (size_t z = 0; z < l->plan->n_zones; z++) {
		if (n->zone_id[z] && ++next > PC_CTMARK_ZONE >> PC_CTMARK_ZONE_SHIFT)
			return -ERANGE;
		if (n->zone_id[z])
			n->zone_id[z] = next;
	}
	return 0;
}

static int nat_chain_new(struct lower *l, const char *name, int hook, int prio)
{
	struct nftnl_chain *c = chain_new_nat(name, hook, prio);

	if (!c)
		return -ENOMEM;
	if (objlist_push(l, &l->chains, PC_NFT_CHAIN, c) < 0) {
		nftnl_chain_free(c);
		return -ENOMEM;
	}
	return 0;
}

/* Nothing at all without a forward or masquerade: a host that does no NAT
 * gets no nat chains (and its kernel need not have nat support). */
static int lower_nat(struct lower *l)
{
	size_t nz = l->plan->n_zones;
	struct nat_lower n = { .chains = calloc(nz, sizeof(*n.chains)),
			       .zone_id = calloc(nz, sizeof(*n.zone_id)) };
	int ret = n.chains && n.zone_id ? 0 : -ENOMEM;

	if (ret < 0 || !nat_rules_exist(l->plan->cfg))
		goto out;
	for (size_t z = 0; z < nz; z++)
		snprintf(n.chains[z], NAME_MAX_LEN, "nat_%s", l->plan->zones[z].zone->name);
	ret = nat_zone_ids(l, &n);
	if (ret >= 0)
		ret = nat_chain_new(l, "prerouting", NF_INET_PRE_ROUTING, NF_IP_PRI_NAT_DST);
	if (ret >= 0)
		ret = nat_chain_new(l, "postrouting", NF_INET_POST_ROUTING, NF_IP_PRI_NAT_SRC);
	for (size_t z = 0; ret >= 0 && z < nz; z++) {
		l->zone = l->plan->zones[z].zone;
		ret = lower_chain_new(l, n.chains[z], -1);
		l->zone = NULL;
	}
	if (ret >= 0)
		ret = nat_ban_rules(l, "prerouting", l->bans);
	if (ret >= 0)
		ret = nat_rpf_rules(l);
	if (ret >= 0)
		ret = nat_dispatch_lower(l, &n);
	for (size_t z = 0; ret >= 0 && z < nz; z++)
		ret = nat_zone_lower(l, &n, z);
	for (size_t i = 0; ret >= 0 && i < l->plan->cfg->n_rules; i++) {
		const struct pc_rule *m = &l->plan->cfg->rules[i];

		if (m->action != PC_MASQUERADE)
			continue;
		l->rule = m;
		ret = masq_lower(l, &n, m);
		l->rule = NULL;
	}
out:
	free(n.chains);
	free(n.zone_id);
	return ret;
}

/* --- zones and the whole table --- */

/* ct status dnat jump pub_<zone>: a new connection another table DNAT'ed
 * (a published port) is judged by the zone's in rules. Established and
 * invalid packets were settled by preamble_fwd. */
static int published_jump_lower(struct lower *l, const char *chain, size_t z)
{
	struct nftnl_rule *r = lower_rule_new(l, chain);
	int ret = r ? rule_add_ct_status(r, IPS_DST_NAT) : -ENOMEM;

	return ret < 0 ? ret : rule_add_jump(r, l->pub_names[z]);
}

/* log-denied: a log rule ahead of the policy's verdict, limited as a
 * rule's log is, its prefix naming the zone and "policy" in place of the
 * FILE:LINE a rule's log gives. */
static int policy_log_lower(struct lower *l, enum pc_dir dir)
{
	char prefix[LOG_PREFIX_MAX + 1], user_prefix[LOG_PREFIX_MAX + 1];
	const char *head = l->zone->log_prefix ? l->zone->log_prefix : "portctl";
	int ret = 0;

	snprintf(prefix, sizeof(prefix), "portctl %s policy %s ", l->zone->name,
		 dir_names[dir]);
	snprintf(user_prefix, sizeof(user_prefix), "%s %s policy %s ", head, l->zone->name,
		 dir_names[dir]);
	for (size_t t = 0; ret >= 0 && t < l->n_targets; t++) {
		struct nftnl_rule *r = lower_rule_new(l, l->targets[t].chain);

		ret = r ? rule_add_limit(r, 10, 60, 5, false) : -ENOMEM;
		if (ret >= 0)
			ret = rule_add_logs(r, prefix, user_prefix,
					    l->zone->log_level_set ? l->zone->log_level : -1,
					    &l->plan->cfg->settings);
	}
	return ret;
}

/* A block from e on: its chains, each jumped to from the chain of its
 * target (zone chain), where the entries from e on go. */
static int block_lower(struct lower *l, const char *const zone_targets[2],
		       const struct pc_plan_entry *e)
{
	int ret = 0;

	l->rule = NULL;
	block_enter(l, zone_targets, e);
	for (size_t t = 0; ret >= 0 && t < l->n_targets; t++) {
		struct nftnl_rule *r;

		ret = lower_chain_new(l, l->block_names[t], -1);
		r = ret < 0 ? NULL : lower_rule_new(l, zone_targets[t]);
		ret = r ? rule_add_jump(r, l->block_names[t]) : -ENOMEM;
	}
	return ret;
}

/* The zone's chain of one direction; the in chain's rules go to
 * pub_<zone> as well (published-ports = obey), sharing its maps and sets,
 * and pub_<zone> ends in the in policy too. */
static int zone_chain_lower(struct lower *l, size_t z, enum pc_dir dir)
{
	const struct pc_plan_chain *c = &l->plan->zones[z].dir[dir];
	const char *chain = l->chain_names[dir][z];
	const char *zone_targets[2];
	struct nftnl_rule *r;
	int ret = 0;

	l->zone = l->plan->zones[z].zone;
	small_runs_free(&l->small_own);
	l->small = chain_small_runs(c, &l->small_own, &ret);
	l->targets[0] = (struct target){ .chain = chain };
	l->n_targets = 1;
	if (dir == PC_DIR_IN && published_obey(l))
		l->targets[l->n_targets++] = (struct target){ .chain = l->pub_names[z], .pub = true };
	zone_targets[0] = chain;
	zone_targets[1] = l->pub_names[z];
	/* The zone's bans, then the built-in part, ahead of the zone's rules. */
	if (ret >= 0)
		ret = ban_rules_lower(l, !dir_by_source(dir), chain, l->zone_bans[z]);
	r = ret < 0 ? NULL : lower_rule_new(l, chain);
	ret = r ? rule_add_jump(r, preamble_chains[dir]) : -ENOMEM;
	if (ret >= 0 && dir == PC_DIR_FWD && published_obey(l))
		ret = published_jump_lower(l, chain, z);
	for (size_t i = 0; ret >= 0 && i < c->n_entries; i++) {
		const struct pc_plan_entry *e = &c->entries[i];
		char base[NAME_MAX_LEN];

		pc_plan_entry_base(base, sizeof(base), dir, l->zone->name, e);

		if (chain_block_starts(c, i))
			ret = block_lower(l, zone_targets, e);
		if (ret < 0)
			break;
		l->rule = e->first;
		ret = entry_lower(l, z, dir, base, e);
	}
	l->rule = NULL;
	for (size_t t = 0; t < l->n_targets; t++)
		l->targets[t].chain = zone_targets[t];
	if (ret >= 0 && c->policy == PC_VERDICT_DROP && dir != PC_DIR_FWD)
		ret = zone_ping_lower(l, chain);
	if (ret >= 0 && l->zone->log_denied && c->policy != PC_VERDICT_ACCEPT)
		ret = policy_log_lower(l, dir);
	for (size_t t = 0; ret >= 0 && t < l->n_targets; t++) {
		r = lower_rule_new(l, l->targets[t].chain);
		ret = r ? rule_add_counter(r) : -ENOMEM;
		ret = ret < 0 ? ret : rule_add_verdict(r, c->policy);
	}
	l->zone = NULL;
	return ret;
}

/* PREFIX_ZONE into out; zone names are short (PC_NAME_MAX), the prefixes
 * shorter. */
static void chain_name_put(char out[NAME_MAX_LEN], const char *prefix, const char *zone)
{
	size_t p = strlen(prefix), z = strlen(zone);

	if (p + 1 + z >= NAME_MAX_LEN)
		z = NAME_MAX_LEN - 2 - p;
	memcpy(out, prefix, p);
	out[p] = '_';
	memcpy(out + p + 1, zone, z);
	out[p + 1 + z] = '\0';
}

/* Every zone's chain names. A change made in place fills them too, for a
 * hundred zones: no snprintf, no zeroed arrays. */
static int chain_names_fill(struct lower *l)
{
	size_t n = l->plan->n_zones ? l->plan->n_zones : 1;

	for (int dir = 0; dir < PC_N_DIRS; dir++) {
		l->chain_names[dir] = malloc(n * sizeof(*l->chain_names[dir]));
		if (!l->chain_names[dir])
			return -ENOMEM;
		for (size_t z = 0; z < l->plan->n_zones; z++)
			chain_name_put(l->chain_names[dir][z], dir_names[dir],
				       l->plan->zones[z].zone->name);
	}
	l->pub_names = malloc(n * sizeof(*l->pub_names));
	if (!l->pub_names)
		return -ENOMEM;
	for (size_t z = 0; z < l->plan->n_zones; z++)
		chain_name_put(l->pub_names[z], "pub", l->plan->zones[z].zone->name);
	return 0;
}

static int lower_all(struct lower *l)
{
	struct nftnl_set *early = NULL;
	int ret = chain_names_fill(l);

	if (ret >= 0)
		ret = reject_chain_lower(l);
	for (size_t z = 0; ret >= 0 && z < l->plan->n_zones; z++) {
		l->zone = l->plan->zones[z].zone;
		for (int dir = 0; ret >= 0 && dir < PC_N_DIRS; dir++)
			ret = lower_chain_new(l, l->chain_names[dir][z], -1);
		if (ret >= 0 && published_obey(l))
			ret = lower_chain_new(l, l->pub_names[z], -1);
		l->zone = NULL;
	}
	for (int dir = 0; ret >= 0 && dir < PC_N_DIRS; dir++)
		ret = lower_chain_new(l, preamble_chains[dir], -1);
	if (ret >= 0)
		ret = ban_sets_lower(l);
	if (ret >= 0)
		ret = icmp_set_new(l, "icmp6_early", NFT_DTYPE_ICMP6_TYPE, icmp6_early,
				   sizeof(icmp6_early), &early);
	for (int dir = 0; ret >= 0 && dir < PC_N_DIRS; dir++)
		ret = preamble_lower(l, (enum pc_dir)dir, early);
	for (int dir = 0; ret >= 0 && dir < PC_N_DIRS; dir++)
		ret = base_chain_lower(l, (enum pc_dir)dir);
	for (size_t z = 0; ret >= 0 && z < l->plan->n_zones; z++) {
		for (int dir = 0; ret >= 0 && dir < PC_N_DIRS; dir++)
			ret = zone_chain_lower(l, z, (enum pc_dir)dir);
	}
	return ret < 0 ? ret : lower_nat(l);
}

static int ruleset_append(struct pc_ruleset *rs, struct objlist *ol)
{
	for (size_t i = 0; i < ol->n; i++) {
		struct pc_nft_object *o = PC_ARRAY_PUSH(rs->objs, rs->n_objs, rs->cap_objs);

		if (!o)
			return -ENOMEM;
		*o = ol->v[i];
	}
	/* The ruleset owns the objects now. */
	free(ol->v);
	ol->v = NULL;
	ol->n = ol->cap = 0;
	return 0;
}

static int ruleset_add_table(struct pc_ruleset *rs)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct pc_nft_object *o;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, PC_TABLE_NAME);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	o = PC_ARRAY_PUSH(rs->objs, rs->n_objs, rs->cap_objs);
	if (!o) {
		nftnl_table_free(t);
		return -ENOMEM;
	}
	o->kind = PC_NFT_TABLE;
	o->obj = t;
	return 0;
}

/* Table, then chains (map elements jump to them), sets, rules. */
static int ruleset_assemble(struct lower *l, struct pc_ruleset *rs)
{
	int ret = ruleset_add_table(rs);

	rs->n_chains = l->chains.n;
	rs->n_sets = l->sets.n;
	rs->n_rules = l->rules.n;
	rs->n_elems = l->n_elems;
	rs->bans_clock_ms = l->plan->now_ms;
	if (ret >= 0)
		ret = ruleset_append(rs, &l->chains);
	if (ret >= 0)
		ret = ruleset_append(rs, &l->sets);
	if (ret >= 0)
		ret = ruleset_append(rs, &l->rules);
	return ret;
}

int pc_ruleset_lower(const struct pc_plan *plan, struct pc_ruleset **out, struct pc_diags *d)
{
	struct lower l = { .plan = plan };
	struct pc_ruleset *rs = calloc(1, sizeof(*rs));
	int ret = rs ? lower_all(&l) : -ENOMEM;

	if (ret >= 0)
		ret = ruleset_assemble(&l, rs);
	objlist_free(&l.chains);
	objlist_free(&l.sets);
	objlist_free(&l.rules);
	for (int dir = 0; dir < PC_N_DIRS; dir++)
		free(l.chain_names[dir]);
	free(l.pub_names);
	free(l.zone_bans);
	free(l.zone_meters);
	free(l.named);
	small_runs_free(&l.small_own);
	if (ret < 0) {
		if (ret == -ENOMEM)
			pc_error(d, NULL, "out of memory while compiling the ruleset");
		if (ret == -ERANGE)
			pc_error(d, NULL, "more than 255 zones masquerade; at most 255 can");
		pc_ruleset_free(rs);
		return ret;
	}
	*out = rs;
	return 0;
}

/* The rules of an entry of zone z in direction dir: they are in its chain
 * (and in pub_<zone>), attributed to the entry's first rule. */
static bool entry_rule_obj(const struct pc_nft_object *o, const char *chain, const char *pub,
			   const struct pc_zone *zone, const struct pc_rule *first)
{
	const char *c;

	if (o->kind != PC_NFT_RULE || o->zone != zone || o->rule != first)
		return false;
	c = nftnl_rule_get_str(o->obj, NFTNL_RULE_CHAIN);
	return chain_of_zone(c, chain) || (pub && chain_of_zone(c, pub));
}

static struct pc_ruleset *ruleset_shell(const struct pc_ruleset *old, size_t extra)
{
	struct pc_ruleset *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return NULL;
	*rs = (struct pc_ruleset){ .n_chains = old->n_chains, .n_sets = old->n_sets,
				   .n_rules = old->n_rules, .n_elems = old->n_elems,
				   .installed = old->installed,
				   .bans_clock_ms = old->bans_clock_ms };
	/* Filled in order by the caller: not cleared (a megabyte at 20,000
	 * objects, at each change). */
	rs->objs = malloc((old->n_objs + extra + 1) * sizeof(*rs->objs));
	if (!rs->objs) {
		free(rs);
		return NULL;
	}
	rs->cap_objs = old->n_objs + extra + 1;
	return rs;
}

static int stale_carry(struct pc_ruleset *rs, const struct pc_stale_map *m, size_t obj,
		       const struct pc_plan *from)
{
	struct pc_stale_map *c = PC_ARRAY_PUSH(rs->stale, rs->n_stale, rs->cap_stale);

	if (!c)
		return -ENOMEM;
	*c = *m;
	c->obj = obj;
	rs->ports_from = from;
	return 0;
}

static int elem_uncount(struct nftnl_set_elem *e, void *data)
{
	(void)e;
	(*(size_t *)data)--;
	return 0;
}

static int ptr_cmp(const void *a, const void *b)
{
	const void *const *x = a, *const *y = b;

	return ((uintptr_t)*x > (uintptr_t)*y) - ((uintptr_t)*x < (uintptr_t)*y);
}

/* Whether o is an object of one of the old entries made again (sorted
 * by address): told by the entry's first rule, whatever its name. */
static inline bool object_of(const struct pc_nft_object *o, const struct pc_zone *zone,
			     const struct pc_rule **firsts, size_t n)
{
	/* Most objects are other entries', outside the few firsts' span. */
	return o->rule && o->zone == zone && n > 0 && (uintptr_t)o->rule >= (uintptr_t)firsts[0] &&
	       (uintptr_t)o->rule <= (uintptr_t)firsts[n - 1] &&
	       bsearch(&o->rule, firsts, n, sizeof(*firsts), ptr_cmp);
}

static int dynset_cb(struct nftnl_expr *e, void *data)
{
	*(bool *)data |= streq(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "dynset");
	return 0;
}

/* Does the kernel rule fill a meter (a limit rule's)? */
static bool rule_is_meter(struct nftnl_rule *r)
{
	bool found = false;

	nftnl_expr_foreach(r, dynset_cb, &found);
	return found;
}

static int jump_target_cb(struct nftnl_expr *e, void *data)
{
	const char **target = data;

	if (streq(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "immediate") &&
	    nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN))
		*target = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
	return 0;
}

/* Is o the rule that ends the head of zone's chain (zone_chain_lower), its
 * jump to the preamble? (The forward chains, whose head goes on, have no
 * entries.) */
static bool head_jump(const struct pc_nft_object *o, const char *chain, const struct pc_zone *zone,
		      const char *preamble)
{
	const char *target = NULL;

	if (o->kind != PC_NFT_RULE || o->zone != zone || o->rule ||
	    !streq(nftnl_rule_get_str(o->obj, NFTNL_RULE_CHAIN), chain))
		return false;
	nftnl_expr_foreach(o->obj, jump_target_cb, &target);
	return target && streq(target, preamble);
}

/*
 * Move zone's limit meters (sets of no rule, "meter4_ZONE" and
 * "meter6_ZONE") from the n objects of rs being made to its dropped ones.
 * Returns how many objects stay; the stale maps keep pointing at theirs.
 */
static size_t zone_meters_drop(struct pc_ruleset *rs, const struct pc_zone *zone, size_t n)
{
	char names[2][SET_NAME_MAX];
	size_t gone[2], k = 0;

	snprintf(names[0], sizeof(names[0]), "meter4_%s", zone->name);
	snprintf(names[1], sizeof(names[1]), "meter6_%s", zone->name);
	for (size_t i = 0; i < n; i++) {
		const struct pc_nft_object *o = &rs->objs[i];
		const char *name = o->kind == PC_NFT_SET && !o->rule && o->zone == zone
					   ? nftnl_set_get_str(o->obj, NFTNL_SET_NAME)
					   : NULL;

		if (k < 2 && name && (streq(name, names[0]) || streq(name, names[1]))) {
			rs->dropped[rs->n_dropped++] = *o;
			rs->n_sets--;
			gone[k++] = i;
		} else {
			rs->objs[i - k] = *o;
		}
	}
	for (size_t m = 0; m < rs->n_stale; m++)
		rs->stale[m].obj -= (k > 0 && rs->stale[m].obj > gone[0]) +
				    (k > 1 && rs->stale[m].obj > gone[1]);
	return n - k;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * How the blocks the plan's chain c is cut into differ from those old has
 * for the zone chain named chain, the entries [from, to) made again: 1 the
 * same; 0 one came (added, its first entry at *added_at) or went
 * (removed), or both (a block's first entry renamed, or one beginning in
 * [from, to), which may have moved there); -EOPNOTSUPP for more (a chain
 * grown to be cut, or shrunk not to be); -ENOMEM.
 */
static int blocks_diff(const struct pc_ruleset *old, const struct pc_plan_chain *c,
		       const char *chain, size_t from, size_t to, char added[NAME_MAX_LEN],
		       size_t *added_at, char removed[NAME_MAX_LEN])
{
	_cleanup_free_ const char **names = NULL;
	_cleanup_free_ bool *seen = NULL;
	size_t n = 0, cap = 0, n_seen = 0;
	char name[NAME_MAX_LEN];

	added[0] = removed[0] = '\0';
	/* The table and its chains come first, in every ruleset. */
	for (size_t i = 0; i < old->n_objs && old->objs[i].kind <= PC_NFT_CHAIN; i++) {
		const char *cn = old->objs[i].kind == PC_NFT_CHAIN
					 ? nftnl_chain_get_str(old->objs[i].obj, NFTNL_CHAIN_NAME)
					 : NULL;
		const char **p;

		if (!cn || streq(cn, chain) || !chain_of_zone(cn, chain))
			continue;
		if (!(p = PC_ARRAY_PUSH(names, n, cap)))
			return -ENOMEM;
		*p = cn;
	}
	if (n == 0 && !chain_cut(c->n_entries))
		return 1;
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	if (!(seen = calloc(n + 1, sizeof(*seen))))
		return -ENOMEM;
	for (size_t i = 0; i < c->n_entries; i++) {
		const char *key = name;
		const char **p;

		if (!chain_block_starts(c, i))
			continue;
		block_name(name, chain, &c->entries[i]);
		p = n ? bsearch(&key, names, n, sizeof(*names), name_cmp) : NULL;
		if (p) {
			seen[p - names] = true;
			n_seen++;
		} else if (added[0]) {
			return -EOPNOTSUPP;
		} else {
			memcpy(added, name, NAME_MAX_LEN);
			*added_at = i;
		}
	}
	if (n - n_seen > 1)
		return -EOPNOTSUPP;
	for (size_t k = 0; k < n; k++)
		if (!seen[k])
			snprintf(removed, NAME_MAX_LEN, "%s", names[k]);
	if (added[0] || n_seen != n)
		return 0;
	/* A block that begins among the entries made again, [from, to),
	 * under a name the chain had: names renumbered (name_nth) may have
	 * moved it there, so it is made again there, gone and come. */
	for (size_t i = from; i < to; i++)
		if (chain_block_starts(c, i)) {
			block_name(added, chain, &c->entries[i]);
			memcpy(removed, added, NAME_MAX_LEN);
			*added_at = i;
			return 0;
		}
	return 1;
}

/* Is o a block chain that went (gone[t]), or a jump of the zone to one? */
static bool block_gone(const struct pc_nft_object *o, const struct pc_zone *zone,
		       char gone[2][NAME_MAX_LEN])
{
	const char *name = NULL;

	if (!gone[0][0] || o->zone != zone || o->rule)
		return false;
	if (o->kind == PC_NFT_CHAIN)
		name = nftnl_chain_get_str(o->obj, NFTNL_CHAIN_NAME);
	else if (o->kind == PC_NFT_RULE)
		nftnl_expr_foreach(o->obj, jump_target_cb, &name);
	return name && (streq(name, gone[0]) || (gone[1][0] && streq(name, gone[1])));
}

int pc_ruleset_chain_remake(const struct pc_ruleset *old, const struct pc_plan *plan, size_t z,
			    int dir, size_t from, size_t to,
			    const struct pc_rule *const *old_firsts, size_t n_old,
			    const struct pc_rule *kept_tag, bool blocks_kept, struct pc_ruleset **out)
{
	const struct pc_plan_chain *c = &plan->zones[z].dir[dir];
	struct lower l = { .plan = plan, .old = old };
	_cleanup_free_ const struct pc_rule **firsts = NULL;
	struct pc_ruleset *rs = NULL;
	size_t after = SIZE_MAX, last_set = SIZE_MAX, last_chain = SIZE_MAX, n = 0, n_firsts;
	/* A block that comes at the change (its first entry there) or goes
	 * (its first entry taken out or renamed): added, removed per target. */
	char added[NAME_MAX_LEN] = "", removed[2][NAME_MAX_LEN] = { "", "" };
	size_t added_at = SIZE_MAX, to_end = to;
	const struct pc_rule *head_first;
	const char *zone_targets[2];
	bool meter_gone = false;
	uint32_t max_id = 0;
	const char *pub;
	int ret = 0;

	/* From the first entry on: the new rules go where the first old one
	 * made again, or the first kept, began. */
	head_first = from > 0		 ? NULL
		     : n_old		 ? old_firsts[0]
		     : kept_tag		 ? kept_tag
		     : to < c->n_entries ? c->entries[to].first
					 : NULL;
	if (to < from || to > c->n_entries)
		return -EOPNOTSUPP;
	/* A named set's kernel sets are made once for all its rules. */
	for (size_t e = from; e < to; e++)
		for (const struct pc_rule *r = c->entries[e].first;
		     (uintptr_t)r <= (uintptr_t)c->entries[e].last; r++)
			if (r->from_set_name.name || r->to_set_name.name)
				return -EOPNOTSUPP;
	/* The sets are together, before the rules (ruleset_assemble; new ones
	 * go after the last). */
	for (size_t i = 0; i < old->n_objs && old->objs[i].kind != PC_NFT_RULE; i++) {
		const struct pc_nft_object *o = &old->objs[i];

		if (o->kind == PC_NFT_CHAIN)
			last_chain = i;

		if (o->kind == PC_NFT_SET && old->bans_from)
			return -EINVAL; /* made whole first (pc_ruleset_bans_sync) */
		if (o->kind == PC_NFT_SET) {
			uint32_t id = nftnl_set_get_u32(o->obj, NFTNL_SET_ID);

			max_id = id > max_id ? id : max_id;
			last_set = i;
		}
	}
	if (last_set == SIZE_MAX)
		return -EOPNOTSUPP;
	ret = chain_names_fill(&l);
	l.next_set_id = max_id;
	l.zone = plan->zones[z].zone;
	if (ret >= 0)
		l.small = chain_small_runs(c, &l.small_own, &ret);
	if (ret >= 0) {
		l.targets[0] = (struct target){ .chain = l.chain_names[dir][z] };
		l.n_targets = 1;
	}
	if (ret >= 0 && dir == PC_DIR_IN && published_obey(&l))
		l.targets[l.n_targets++] = (struct target){ .chain = l.pub_names[z], .pub = true };
	pub = l.n_targets > 1 ? l.pub_names[z] : NULL;
	if (ret >= 0)
		ret = blocks_kept ? 1
				  : blocks_diff(old, c, l.chain_names[dir][z], from, to, added,
						&added_at, removed[0]);
	/* A block came or went: the entries after the change up to the next
	 * block move to the block before them or to the new one, made again
	 * there. A new block's first entry is the change's, and no other
	 * block begins among the entries made again. */
	for (size_t e = from; ret == 0 && e < to; e++)
		if (chain_block_starts(c, e) && !(added[0] && added_at == e))
			ret = -EOPNOTSUPP;
	if (ret == 0 && ((added[0] && (added_at < from || added_at >= to)) || kept_tag))
		ret = -EOPNOTSUPP;
	if (ret == 0)
		while (to_end < c->n_entries && !chain_block_starts(c, to_end))
			to_end++;
	if (ret == 0 && removed[0][0] && pub)
		snprintf(removed[1], NAME_MAX_LEN, "%s%s", pub,
			 removed[0] + strlen(l.chain_names[dir][z]));
	ret = ret > 0 ? 0 : ret;
	zone_targets[0] = l.chain_names[dir][z];
	zone_targets[1] = pub;
	/* The entries from `from` on go to the block they are in. */
	for (size_t e = from < c->n_entries ? from + 1 : c->n_entries; ret >= 0 && e-- > 0;)
		if (chain_block_starts(c, e)) {
			block_enter(&l, zone_targets, &c->entries[e]);
			break;
		}
	n_firsts = n_old + (to_end - to);
	if (ret >= 0 && !(firsts = calloc(n_firsts + 1, sizeof(*firsts))))
		ret = -ENOMEM;
	else if (ret >= 0 && n_old)
		memcpy(firsts, old_firsts, n_old * sizeof(*firsts));
	for (size_t e = to; ret >= 0 && e < to_end; e++)
		firsts[n_old + (e - to)] = c->entries[e].first;
	if (ret >= 0 && n_firsts > 1)
		qsort(firsts, n_firsts, sizeof(*firsts), ptr_cmp);
	/* The new rules go after entry from - 1's: before the chain's tail;
	 * or, from the first entry, where the old first entry's began: after
	 * the chain's head; or, in a chain of no entries, after its head.
	 * The last of entry from - 1's objects (or of the head's) is looked
	 * for from the end: the changes of the CLI's rules, last in their
	 * chains, pass over few objects. */
	for (size_t i = 1; ret >= 0 && from == 0 && head_first && i < old->n_objs; i++)
		if (entry_rule_obj(&old->objs[i], l.chain_names[dir][z], pub, l.zone, head_first)) {
			after = i - 1;
			break;
		}
	for (size_t i = old->n_objs; ret >= 0 && !(from == 0 && head_first) && i-- > 0;)
		if (from > 0 ? entry_rule_obj(&old->objs[i], l.chain_names[dir][z], pub, l.zone,
					      c->entries[from - 1].first)
			     : head_jump(&old->objs[i], l.chain_names[dir][z], l.zone,
					 preamble_chains[dir])) {
			after = i;
			break;
		}
	if (ret >= 0 && after == SIZE_MAX)
		ret = -EOPNOTSUPP;
	for (size_t e = from; ret >= 0 && e < to_end; e++) {
		const struct pc_plan_entry *pe = &c->entries[e];
		char base[NAME_MAX_LEN];

		pc_plan_entry_base(base, sizeof(base), dir, l.zone->name, pe);

		if (e == added_at)
			ret = block_lower(&l, zone_targets, pe);
		else if (e > from && chain_block_starts(c, e))
			block_enter(&l, zone_targets, pe);
		l.rule = pe->first;
		ret = entry_lower(&l, z, (enum pc_dir)dir, base, pe);
	}
	/* No chain but the new block's. */
	if (ret >= 0 && l.chains.n != (added[0] ? l.n_targets : 0))
		ret = -EOPNOTSUPP;
	if (ret >= 0 && (l.chains.n && last_chain == SIZE_MAX))
		ret = -EOPNOTSUPP;
	if (ret >= 0 && !(rs = ruleset_shell(old, l.chains.n + l.sets.n + l.rules.n)))
		ret = -ENOMEM;
	if (ret >= 0 && !(rs->dropped = malloc((old->n_objs + 1) * sizeof(*rs->dropped))))
		ret = -ENOMEM;
	for (size_t i = 0; ret >= 0 && i < old->n_objs; i++) {
		const struct pc_nft_object *o = &old->objs[i];
		bool gone = false;

		/* With no block gone, most objects are other entries' (or
		 * zones'): kept, without the questions below. */
		if (!removed[0][0] && !object_of(o, l.zone, firsts, n_firsts) && !o->stale &&
		    i != last_chain && i != last_set && i != after) {
			rs->objs[n] = *o;
			rs->objs[n++].shared = true;
			continue;
		}
		if (o->kind == PC_NFT_SET)
			gone = object_of(o, l.zone, firsts, n_firsts);
		else if (object_of(o, l.zone, firsts, n_firsts))
			gone = entry_rule_obj(o, l.chain_names[dir][z], pub, l.zone, o->rule);
		else
			gone = block_gone(o, l.zone, removed);
		/* Every rule of a block that goes goes. */
		if (!gone && removed[0][0] && o->kind == PC_NFT_RULE &&
		    (streq(nftnl_rule_get_str(o->obj, NFTNL_RULE_CHAIN), removed[0]) ||
		     (removed[1][0] &&
		      streq(nftnl_rule_get_str(o->obj, NFTNL_RULE_CHAIN), removed[1]))))
			ret = -EOPNOTSUPP;
		if (gone && o->kind == PC_NFT_RULE)
			meter_gone |= rule_is_meter(o->obj);
		if (gone && o->stale) {
			/* Compared by the difference: the caller makes it whole
			 * first; one it did not is not made in place. */
			ret = -EOPNOTSUPP;
		} else if (gone) {
			rs->dropped[rs->n_dropped++] = *o;
			rs->n_chains -= o->kind == PC_NFT_CHAIN;
			rs->n_sets -= o->kind == PC_NFT_SET;
			rs->n_rules -= o->kind == PC_NFT_RULE;
		} else {
			/* A stale map stays stale here: shared, the difference
			 * skips it, and its kernel set is what the plan says. */
			for (size_t k = 0; o->stale && k < old->n_stale; k++)
				if (old->stale[k].obj == i)
					ret = stale_carry(rs, &old->stale[k], n, old->ports_from);
			rs->objs[n] = *o;
			rs->objs[n++].shared = true;
		}
		if (i == last_chain)
			for (size_t j = 0; j < l.chains.n; j++)
				rs->objs[n++] = l.chains.v[j];
		/* New sets after old's: the ban sets keep their places first
		 * (pc_ruleset_bans_update finds them by position). */
		if (i == last_set)
			for (size_t j = 0; j < l.sets.n; j++)
				rs->objs[n++] = l.sets.v[j];
		if (i == after)
			for (size_t j = 0; j < l.rules.n; j++)
				rs->objs[n++] = l.rules.v[j];
	}
	/* The zone's last limit gone: its meters go too, as a full compile
	 * would have it. */
	if (ret >= 0 && meter_gone && !zone_has_limits(plan, z))
		n = zone_meters_drop(rs, l.zone, n);
	if (ret >= 0) {
		rs->n_objs = n;
		rs->n_chains += l.chains.n;
		rs->n_sets += l.sets.n;
		rs->n_rules += l.rules.n;
		rs->n_elems += l.n_elems;
		/* The ruleset owns them now. */
		l.chains.n = l.sets.n = l.rules.n = 0;
		for (size_t i = 0; i < rs->n_dropped; i++)
			if (rs->dropped[i].kind == PC_NFT_SET)
				nftnl_set_elem_foreach(rs->dropped[i].obj, elem_uncount, &rs->n_elems);
	}
	if (ret >= 0)
		*out = rs;
	else
		pc_ruleset_free(rs);
	objlist_free(&l.chains);
	objlist_free(&l.sets);
	objlist_free(&l.rules);
	for (int d = 0; d < PC_N_DIRS; d++)
		free(l.chain_names[d]);
	free(l.pub_names);
	free(l.zone_meters);
	free(l.named);
	small_runs_free(&l.small_own);
	return ret;
}

int pc_ruleset_fold(struct pc_ruleset *next, struct pc_ruleset *prev)
{
	_cleanup_free_ const void **own = calloc(prev->n_objs + 1, sizeof(*own));
	struct pc_nft_object *dropped = calloc(prev->n_dropped + next->n_dropped + 1,
					       sizeof(*dropped));
	size_t n_own = 0, n = 0;

	/* prev's element changes of shared maps would be lost with it. */
	if (!own || !dropped || prev->shared) {
		free(dropped);
		return own && dropped ? -EOPNOTSUPP : -ENOMEM;
	}
	/* prev's own objects, never installed. */
	for (size_t i = 0; i < prev->n_objs; i++)
		if (!prev->objs[i].shared)
			own[n_own++] = prev->objs[i].obj;
	if (n_own > 1)
		qsort(own, n_own, sizeof(*own), ptr_cmp);
	for (size_t i = 0; i < next->n_objs; i++)
		if (next->objs[i].shared &&
		    bsearch(&next->objs[i].obj, own, n_own, sizeof(*own), ptr_cmp))
			next->objs[i].shared = false;
	for (size_t k = 0; k < prev->n_dropped; k++)
		dropped[n++] = prev->dropped[k];
	for (size_t k = 0; k < next->n_dropped; k++)
		if (bsearch(&next->dropped[k].obj, own, n_own, sizeof(*own), ptr_cmp))
			object_free(&next->dropped[k]);
		else
			dropped[n++] = next->dropped[k];
	free(next->dropped);
	next->dropped = dropped;
	next->n_dropped = n;
	free(prev->objs);
	free(prev->stale);
	free(prev->dropped);
	free(prev);
	return 0;
}

void pc_ruleset_adopt(struct pc_ruleset *rs, struct pc_ruleset *old)
{
	for (size_t i = 0; i < rs->n_objs; i++)
		rs->objs[i].shared = false;
	for (size_t i = 0; i < rs->n_dropped; i++)
		object_free(&rs->dropped[i]);
	free(rs->dropped);
	rs->dropped = NULL;
	rs->n_dropped = 0;
	shared_edit_free(rs);
	free(old->objs);
	free(old->stale);
	free(old);
}

void pc_ruleset_free(struct pc_ruleset *rs)
{
	if (!rs)
		return;
	/* Objects shared with the ruleset it was made from are that one's. */
	for (size_t i = 0; i < rs->n_objs; i++)
		if (!rs->objs[i].shared)
			object_free(&rs->objs[i]);
	free(rs->objs);
	free(rs->stale);
	free(rs->dropped);
	shared_edit_free(rs);
	free(rs);
}
