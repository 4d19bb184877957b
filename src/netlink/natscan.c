/* Reading other tables' DNAT rules (portctl/natscan.h): a dump of each
 * table's rules, each rule followed expression by expression through the
 * registers, keeping the rules whose every match we understand. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include "internal.h"
#include "portctl/compile.h"
#include "portctl/natscan.h"

#define REGS 20 /* 32-bit registers, NFT_REG32_00 .. 15, plus room */

enum reg_kind {
	REG_NONE,
	REG_L4PROTO,
	REG_DPORT,
	REG_IIFNAME,
	REG_DADDR,
	REG_ADDRTYPE, /* fib daddr type: "local" holds for the host's ports */
	REG_DATA,
	REG_OTHER
};

struct reg {
	enum reg_kind kind;
	uint8_t family; /* REG_DADDR */
	uint8_t data[16];
	uint32_t len;
};

struct rule_walk {
	uint8_t table_family;
	struct reg regs[REGS];
	struct pc_nat_entry e;
	bool dnat, unknown;
};

struct scan_ctx {
	struct pc_nat_scan *out;
	int err;
};

/* NFT_REG_1..4 are 16 bytes, four 32-bit registers each. */
static int reg_index(uint32_t reg)
{
	if (reg >= NFT_REG32_00 && reg - NFT_REG32_00 < 16)
		return (int)(reg - NFT_REG32_00);
	if (reg >= NFT_REG_1 && reg <= NFT_REG_4)
		return (int)(reg - NFT_REG_1) * 4;
	return -1;
}

static struct reg *reg_get(struct rule_walk *w, const struct nftnl_expr *e, uint16_t attr)
{
	int i = reg_index(nftnl_expr_get_u32(e, attr));

	return i < 0 ? NULL : &w->regs[i];
}

static void walk_meta(struct rule_walk *w, const struct nftnl_expr *e)
{
	struct reg *r;

	if (!nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG)) {
		w->unknown = true; /* meta set */
		return;
	}
	r = reg_get(w, e, NFTNL_EXPR_META_DREG);
	if (!r)
		return;
	switch (nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY)) {
	case NFT_META_L4PROTO:
		r->kind = REG_L4PROTO;
		break;
	case NFT_META_IIFNAME:
		r->kind = REG_IIFNAME;
		break;
	case NFT_META_NFPROTO:
		r->kind = REG_NONE; /* the family: the nat expression names it */
		break;
	default:
		r->kind = REG_OTHER;
	}
}

static void walk_payload(struct rule_walk *w, const struct nftnl_expr *e)
{
	uint32_t base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
	uint32_t off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
	uint32_t len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
	struct reg *r;

	if (!nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG)) {
		w->unknown = true; /* payload set */
		return;
	}
	r = reg_get(w, e, NFTNL_EXPR_PAYLOAD_DREG);
	if (!r)
		return;
	r->kind = REG_OTHER;
	if (base == NFT_PAYLOAD_TRANSPORT_HEADER && off == 2 && len == 2) {
		r->kind = REG_DPORT;
	} else if (base == NFT_PAYLOAD_NETWORK_HEADER) {
		bool v4 = w->table_family != NFPROTO_IPV6, v6 = w->table_family != NFPROTO_IPV4;

		if ((v4 && off == 9 && len == 1) || (v6 && off == 6 && len == 1))
			r->kind = REG_L4PROTO;
		else if (v4 && off == 16 && len == 4)
			r->kind = REG_DADDR, r->family = AF_INET;
		else if (v6 && off == 24 && len == 16)
			r->kind = REG_DADDR, r->family = AF_INET6;
	}
}

static void walk_cmp(struct rule_walk *w, const struct nftnl_expr *e)
{
	uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), len = 0;
	const uint8_t *d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
	struct reg *r = reg_get(w, e, NFTNL_EXPR_CMP_SREG);
	uint16_t port;

	if (!r || !d) {
		w->unknown = true;
		return;
	}
	switch (r->kind) {
	case REG_NONE:
		return;
	case REG_L4PROTO:
		if (op != NFT_CMP_EQ || len != 1)
			break;
		w->e.l4proto = d[0];
		return;
	case REG_DPORT:
		if (len != 2)
			break;
		memcpy(&port, d, 2);
		port = ntohs(port);
		if (op == NFT_CMP_EQ)
			w->e.dport_lo = w->e.dport_hi = port;
		else if (op == NFT_CMP_GTE)
			w->e.dport_lo = port, w->e.dport_hi = w->e.dport_hi ? w->e.dport_hi : 65535;
		else if (op == NFT_CMP_LTE)
			w->e.dport_hi = port, w->e.dport_lo = w->e.dport_lo ? w->e.dport_lo : 1;
		else
			break;
		return;
	case REG_IIFNAME:
		/* A wildcard ("docker*") compares fewer bytes, without the NUL. */
		if ((op != NFT_CMP_EQ && op != NFT_CMP_NEQ) || len == 0 || len > 16 ||
		    d[len - 1] != '\0')
			break;
		memcpy(w->e.iifname, d, len);
		w->e.iif_not = op == NFT_CMP_NEQ;
		return;
	case REG_DADDR:
		if (op != NFT_CMP_EQ || len != (r->family == AF_INET ? 4u : 16u))
			break;
		w->e.daddr_family = r->family;
		memcpy(w->e.daddr, d, len);
		return;
	case REG_ADDRTYPE:
		if (op != NFT_CMP_EQ || len != 4 || memcmp(d, &(uint32_t){RTN_LOCAL}, 4) != 0)
			break;
		return;
	case REG_DATA:
	case REG_OTHER:
		break;
	}
	w->unknown = true;
}

static void walk_fib(struct rule_walk *w, const struct nftnl_expr *e)
{
	struct reg *r = reg_get(w, e, NFTNL_EXPR_FIB_DREG);

	if (r)
		r->kind = nftnl_expr_get_u32(e, NFTNL_EXPR_FIB_FLAGS) == NFTA_FIB_F_DADDR &&
				  nftnl_expr_get_u32(e, NFTNL_EXPR_FIB_RESULT) == NFT_FIB_RESULT_ADDRTYPE
			  ? REG_ADDRTYPE
			  : REG_OTHER;
}

static void walk_immediate(struct rule_walk *w, const struct nftnl_expr *e)
{
	struct reg *r;
	const void *d;
	uint32_t len = 0;

	if (nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) == NFT_REG_VERDICT)
		return; /* jump, return, accept: after the match */
	r = reg_get(w, e, NFTNL_EXPR_IMM_DREG);
	d = nftnl_expr_get(e, NFTNL_EXPR_IMM_DATA, &len);
	if (!r || !d || len > sizeof(r->data)) {
		w->unknown = true;
		return;
	}
	r->kind = REG_DATA;
	r->len = len;
	memcpy(r->data, d, len);
}

static void walk_nat(struct rule_walk *w, const struct nftnl_expr *e)
{
	uint32_t fam = nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_FAMILY);
	struct reg *a, *p;

	if (nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE) != NFT_NAT_DNAT)
		return;
	w->dnat = true;
	a = nftnl_expr_is_set(e, NFTNL_EXPR_NAT_REG_ADDR_MIN) ? reg_get(w, e, NFTNL_EXPR_NAT_REG_ADDR_MIN)
							       : NULL;
	p = nftnl_expr_is_set(e, NFTNL_EXPR_NAT_REG_PROTO_MIN)
		? reg_get(w, e, NFTNL_EXPR_NAT_REG_PROTO_MIN)
		: NULL;
	w->e.to_family = fam == NFPROTO_IPV6 ? AF_INET6 : AF_INET;
	if (!a || a->kind != REG_DATA || a->len != (fam == NFPROTO_IPV6 ? 16u : 4u) ||
	    (p && (p->kind != REG_DATA || p->len != 2))) {
		w->unknown = true;
		return;
	}
	memcpy(w->e.to_addr, a->data, a->len);
	if (p) {
		memcpy(&w->e.to_port, p->data, 2);
		w->e.to_port = ntohs(w->e.to_port);
	}
}

/* iptables-nft's "-j DNAT --to-destination A[:P]" (docker's rules): an xt
 * target whose info is nf_nat_range2 (rev 2), nf_nat_range (rev 1) or,
 * IPv4 only, nf_nat_ipv4_multi_range_compat (rev 0). */
static void walk_xt_dnat(struct rule_walk *w, const struct nftnl_expr *e)
{
	uint32_t rev = nftnl_expr_get_u32(e, NFTNL_EXPR_TG_REV), len = 0;
	const void *info = nftnl_expr_get(e, NFTNL_EXPR_TG_INFO, &len);
	bool v6 = w->table_family == NFPROTO_IPV6;
	uint32_t flags;
	uint16_t port;

	w->dnat = true;
	w->e.to_family = v6 ? AF_INET6 : AF_INET;
	if (rev >= 1 && info && len >= sizeof(struct nf_nat_range)) {
		struct nf_nat_range r;

		memcpy(&r, info, sizeof(r));
		flags = r.flags;
		memcpy(w->e.to_addr, &r.min_addr, v6 ? 16 : 4);
		port = r.min_proto.all;
	} else if (rev == 0 && !v6 && info && len >= sizeof(struct nf_nat_ipv4_multi_range_compat)) {
		struct nf_nat_ipv4_multi_range_compat r;

		memcpy(&r, info, sizeof(r));
		flags = r.range[0].flags;
		memcpy(w->e.to_addr, &r.range[0].min_ip, 4);
		port = r.range[0].min.all;
	} else {
		w->unknown = true;
		return;
	}
	if (!(flags & NF_NAT_RANGE_MAP_IPS))
		w->unknown = true;
	if (flags & NF_NAT_RANGE_PROTO_SPECIFIED)
		w->e.to_port = ntohs(port);
}

static int expr_cb(struct nftnl_expr *e, void *data)
{
	struct rule_walk *w = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (streq(name, "meta"))
		walk_meta(w, e);
	else if (streq(name, "payload"))
		walk_payload(w, e);
	else if (streq(name, "cmp"))
		walk_cmp(w, e);
	else if (streq(name, "immediate"))
		walk_immediate(w, e);
	else if (streq(name, "fib"))
		walk_fib(w, e);
	else if (streq(name, "nat"))
		walk_nat(w, e);
	else if (streq(name, "target") &&
		 streq(nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME), "DNAT"))
		walk_xt_dnat(w, e);
	else if (!streq(name, "counter") && !streq(name, "log"))
		w->unknown = true; /* sets, marks, bitwise, xt: not the simple shape */
	return 0;
}

static int scan_cb(const struct nlmsghdr *nlh, void *data)
{
	struct scan_ctx *x = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct rule_walk w = { 0 };
	struct pc_nat_entry *slot;

	if (!r || nftnl_rule_nlmsg_parse(nlh, r) < 0) {
		nftnl_rule_free(r);
		x->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	w.table_family = (uint8_t)nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY);
	if (w.table_family == NFPROTO_INET &&
	    streq(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), PC_TABLE_NAME))
		goto out; /* ours: explain knows them from the files */
	nftnl_expr_foreach(r, expr_cb, &w);
	if (!w.dnat)
		goto out;
	if (w.unknown) {
		x->out->n_unknown++;
		goto out;
	}
	snprintf(w.e.table, sizeof(w.e.table), "%s", nftnl_rule_get_str(r, NFTNL_RULE_TABLE));
	snprintf(w.e.chain, sizeof(w.e.chain), "%s", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	w.e.table_family = w.table_family;
	w.e.handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	slot = PC_ARRAY_PUSH(x->out->items, x->out->n, x->out->cap);
	if (!slot) {
		x->err = -ENOMEM;
		nftnl_rule_free(r);
		return MNL_CB_ERROR;
	}
	*slot = w.e;
out:
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* A dump that another program's commit cut short (EINTR: a container
 * runtime committing as containers start) is read again, up to this many
 * times. */
#define NAT_SCAN_TRIES 16

/* The namespace's tables, by family and name. */
struct table_name {
	uint8_t family;
	char name[256];
};

struct tables_ctx {
	struct table_name *items;
	size_t n, cap;
	int err;
};

static int tables_cb(const struct nlmsghdr *nlh, void *data)
{
	struct tables_ctx *x = data;
	struct nftnl_table *t = nftnl_table_alloc();
	struct table_name *slot;

	if (!t || nftnl_table_nlmsg_parse(nlh, t) < 0 ||
	    !(slot = PC_ARRAY_PUSH(x->items, x->n, x->cap))) {
		nftnl_table_free(t);
		x->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	slot->family = (uint8_t)nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY);
	snprintf(slot->name, sizeof(slot->name), "%s", nftnl_table_get_str(t, NFTNL_TABLE_NAME));
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static int tables_list(struct pc_nl *nl, struct tables_ctx *x)
{
	int r = -EINTR;

	for (int i = 0; r == -EINTR && i < NAT_SCAN_TRIES; i++) {
		x->n = 0;
		r = nl_dump_family(nl, NFT_MSG_GETTABLE, NFPROTO_UNSPEC, NULL, NULL, tables_cb, x);
		if (x->err)
			r = x->err;
	}
	return r;
}

/* The rules of one table, into out; what a cut dump read is dropped. */
static int table_scan(struct pc_nl *nl, const struct table_name *t, struct pc_nat_scan *out)
{
	size_t n = out->n, n_unknown = out->n_unknown;
	struct nftnl_rule *filter = nftnl_rule_alloc();
	int r = -EINTR;

	if (!filter)
		return -ENOMEM;
	nftnl_rule_set_str(filter, NFTNL_RULE_TABLE, t->name);
	for (int i = 0; r == -EINTR && i < NAT_SCAN_TRIES; i++) {
		struct scan_ctx x = { .out = out };

		out->n = n;
		out->n_unknown = n_unknown;
		r = nl_dump_family(nl, NFT_MSG_GETRULE, t->family, nl_rule_payload, filter, scan_cb,
				   &x);
		if (x.err)
			r = x.err;
	}
	nftnl_rule_free(filter);
	return r;
}

/* Table by table, ours left out: a dump of one table's rules is short, so
 * others' commits seldom cut it, where a dump of every rule (ours, 20,000
 * of them, among them) could be cut at each try while a program commits
 * in a loop. */
int pc_nl_nat_scan(struct pc_nl *nl, struct pc_nat_scan *out)
{
	struct tables_ctx tables = { 0 };
	int r;

	*out = (struct pc_nat_scan){ 0 };
	r = tables_list(nl, &tables);
	for (size_t i = 0; r >= 0 && i < tables.n; i++)
		if (tables.items[i].family != NFPROTO_INET ||
		    !streq(tables.items[i].name, PC_TABLE_NAME))
			r = table_scan(nl, &tables.items[i], out);
	free(tables.items);
	if (r < 0)
		pc_nat_scan_free(out);
	return r;
}

void pc_nat_scan_free(struct pc_nat_scan *s)
{
	free(s->items);
	*s = (struct pc_nat_scan){ 0 };
}

bool pc_nat_entry_matches(const struct pc_nat_entry *e, uint8_t family, uint8_t l4proto,
			  uint16_t port, const uint8_t *daddr, const char *iif)
{
	if (e->to_family != family || (e->l4proto && e->l4proto != l4proto))
		return false;
	if (e->daddr_family && daddr &&
	    memcmp(e->daddr, daddr, e->daddr_family == AF_INET ? 4 : 16) != 0)
		return false;
	if (e->dport_lo && (port < e->dport_lo || port > e->dport_hi))
		return false;
	if (e->iifname[0] && !e->iif_not && (!iif || !streq(iif, e->iifname)))
		return false;
	return !(e->iifname[0] && e->iif_not && iif && streq(iif, e->iifname));
}

void pc_nat_entry_to_format(const struct pc_nat_entry *e, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(e->to_family, e->to_addr, a, sizeof(a));
	if (!e->to_port)
		snprintf(buf, size, "%s", a);
	else if (e->to_family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", a, e->to_port);
	else
		snprintf(buf, size, "%s:%u", a, e->to_port);
}
