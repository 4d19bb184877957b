/* The compiled ruleset in nft's words, for "portctld --check": what an
 * administrator compares with "nft list ruleset", not libnftnl's register
 * dump. It knows the expressions portctl emits; anything else is shown in
 * libnftnl's form between brackets rather than guessed at. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "portctl/compile.h"
#include "portctl/util.h"

/* What a register holds: the words that loaded it and how to show a value
 * compared with it. */
enum value_kind { V_NUM, V_BE, V_PROTO, V_PORT, V_ADDR, V_NAME, V_NFPROTO, V_CTSTATE };

struct reg {
	char what[64];
	enum value_kind kind;
	bool masked;
	uint8_t mask[16];
	uint32_t mask_len;
	uint8_t data[16]; /* from an immediate, for nat */
	uint32_t data_len;
	uint32_t size; /* bytes a payload loaded */
};

struct rule_printer {
	FILE *out;
	struct reg regs[32];
	int family; /* from "meta nfproto": which header an offset means */
};

/* By 32-bit register: a 128-bit one (1-4) is its first four. */
static struct reg *reg_at(struct rule_printer *p, uint32_t r)
{
	if (r >= NFT_REG_1 && r <= NFT_REG_4)
		r = NFT_REG32_00 + (r - NFT_REG_1) * 4;
	return &p->regs[r % ARRAY_SIZE(p->regs)];
}

static void reg_load(struct rule_printer *p, uint32_t r, enum value_kind kind, const char *what)
{
	struct reg *g = reg_at(p, r);

	*g = (struct reg){.kind = kind};
	snprintf(g->what, sizeof(g->what), "%s", what);
}

static void ctstate_print(FILE *out, uint32_t bits)
{
	static const char *const names[] = {"invalid", "established", "related", "new", "untracked"};
	static const uint32_t flags[] = {1, 2, 4, 8, 64};
	bool first = true;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (bits & flags[i]) {
			fprintf(out, "%s%s", first ? "" : ",", names[i]);
			first = false;
		}
	if (first)
		fprintf(out, "0x%x", bits);
}

static void value_print(FILE *out, const struct reg *g, const uint8_t *d, uint32_t len)
{
	char buf[INET6_ADDRSTRLEN];
	uint32_t n = 0;

	switch (g->kind) {
	case V_PROTO: {
		const struct protoent *pe = len == 1 ? getprotobynumber(d[0]) : NULL;

		if (pe)
			fprintf(out, "%s", pe->p_name);
		else
			fprintf(out, "%u", len ? d[0] : 0);
		return;
	}
	case V_PORT:
		if (len == 2) {
			fprintf(out, "%u", (unsigned)d[0] << 8 | d[1]);
			return;
		}
		break;
	case V_ADDR:
		if ((len == 4 || len == 16) &&
		    inet_ntop(len == 4 ? AF_INET : AF_INET6, d, buf, sizeof(buf))) {
			fprintf(out, "%s", buf);
			return;
		}
		break;
	case V_NAME:
		fprintf(out, "\"%.*s\"", (int)strnlen((const char *)d, len), (const char *)d);
		return;
	case V_NFPROTO:
		if (len == 1 && (d[0] == NFPROTO_IPV4 || d[0] == NFPROTO_IPV6)) {
			fprintf(out, "%s", d[0] == NFPROTO_IPV4 ? "ipv4" : "ipv6");
			return;
		}
		break;
	case V_CTSTATE:
		if (len == 4) {
			memcpy(&n, d, 4);
			ctstate_print(out, n);
			return;
		}
		break;
	case V_NUM:
		if (len == 1 || len == 2 || len == 4) {
			memcpy(&n, d, len); /* host order, as meta and ct load */
			fprintf(out, "%u", len == 1 ? d[0] : len == 2 ? (uint16_t)n : n);
			return;
		}
		break;
	case V_BE:
		break;
	}
	fprintf(out, "0x");
	for (uint32_t i = 0; i < len; i++)
		fprintf(out, "%02x", d[i]);
}

static const char *meta_name(uint32_t key, enum value_kind *kind)
{
	*kind = V_NUM;
	switch (key) {
	case NFT_META_L4PROTO:
		*kind = V_PROTO;
		return "meta l4proto";
	case NFT_META_NFPROTO:
		*kind = V_NFPROTO;
		return "meta nfproto";
	case NFT_META_IIFNAME:
		*kind = V_NAME;
		return "iifname";
	case NFT_META_OIFNAME:
		*kind = V_NAME;
		return "oifname";
	case NFT_META_IIF:
		return "iif";
	case NFT_META_OIF:
		return "oif";
	case NFT_META_MARK:
		return "meta mark";
	case NFT_META_PKTTYPE:
		return "meta pkttype";
	case NFT_META_IIFTYPE:
		return "iiftype";
	default:
		return NULL;
	}
}

/* A header field by base, offset and length, as nft names it. */
static void payload_name(const struct rule_printer *p, uint32_t base, uint32_t off, uint32_t len,
			 char *buf, size_t size, enum value_kind *kind)
{
	bool v6 = p->family == NFPROTO_IPV6;

	*kind = V_BE;
	if (base == NFT_PAYLOAD_NETWORK_HEADER) {
		if (!v6 && len == 4 && (off == 12 || off == 16)) {
			*kind = V_ADDR;
			snprintf(buf, size, "ip %s", off == 12 ? "saddr" : "daddr");
			return;
		}
		if (len == 16 && (off == 8 || off == 24)) {
			*kind = V_ADDR;
			snprintf(buf, size, "ip6 %s", off == 8 ? "saddr" : "daddr");
			return;
		}
		if (!v6 && len == 1 && off == 9) {
			*kind = V_PROTO;
			snprintf(buf, size, "ip protocol");
			return;
		}
	} else if (base == NFT_PAYLOAD_TRANSPORT_HEADER) {
		if (len == 2 && (off == 0 || off == 2)) {
			*kind = V_PORT;
			snprintf(buf, size, "th %s", off == 0 ? "sport" : "dport");
			return;
		}
		if (len == 1 && off == 0) {
			*kind = V_NUM;
			snprintf(buf, size, "%s type", v6 ? "icmpv6" : "icmp");
			return;
		}
	}
	snprintf(buf, size, "@%s,%u,%u",
		 base == NFT_PAYLOAD_LL_HEADER ? "ll" : base == NFT_PAYLOAD_NETWORK_HEADER ? "nh" : "th",
		 off * 8, len * 8);
}

static void verdict_print(FILE *out, const struct nftnl_expr *e)
{
	int v = (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
	const char *chain = nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN)
				    ? nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN)
				    : "";

	switch (v) {
	case NF_ACCEPT:
		fprintf(out, " accept");
		break;
	case NF_DROP:
		fprintf(out, " drop");
		break;
	case NFT_JUMP:
		fprintf(out, " jump %s", chain);
		break;
	case NFT_GOTO:
		fprintf(out, " goto %s", chain);
		break;
	case NFT_RETURN:
		fprintf(out, " return");
		break;
	case NFT_CONTINUE:
		fprintf(out, " continue");
		break;
	default:
		fprintf(out, " verdict %d", v);
	}
}

/* The length of a contiguous mask of len bytes, or -1. */
static int prefix_len(const struct reg *g, uint32_t len)
{
	int n = 0;
	bool zeros = false;

	if (g->mask_len != len)
		return -1;
	for (uint32_t i = 0; i < len * 8; i++) {
		bool one = g->mask[i / 8] & (0x80u >> (i % 8));

		if (one && zeros)
			return -1;
		zeros = !one;
		n += one;
	}
	return n;
}

static void cmp_print(struct rule_printer *p, const struct nftnl_expr *e)
{
	static const char *const ops[] = {[NFT_CMP_EQ] = "",	 [NFT_CMP_NEQ] = "!= ",
					  [NFT_CMP_LT] = "< ",	 [NFT_CMP_LTE] = "<= ",
					  [NFT_CMP_GT] = "> ",	 [NFT_CMP_GTE] = ">= "};
	struct reg *g = reg_at(p, nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG));
	uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), len = 0;
	const uint8_t *d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);

	if (g->kind == V_NFPROTO && len == 1)
		p->family = d[0];
	if (g->kind == V_PROTO && len == 1 && op == NFT_CMP_EQ &&
	    (d[0] == IPPROTO_ICMPV6 || d[0] == IPPROTO_ICMP))
		p->family = d[0] == IPPROTO_ICMPV6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	/* "ct state & (established|related) != 0" is nft's "ct state established,related". */
	if (g->masked && g->kind == V_CTSTATE && op == NFT_CMP_NEQ) {
		fprintf(p->out, " %s ", g->what);
		value_print(p->out, g, g->mask, g->mask_len);
		return;
	}
	fprintf(p->out, " %s", g->what);
	if (g->masked && g->kind == V_ADDR && op == NFT_CMP_EQ && prefix_len(g, len) >= 0) {
		fprintf(p->out, " ");
		value_print(p->out, g, d, len);
		fprintf(p->out, "/%d", prefix_len(g, len));
		return;
	}
	if (g->masked) {
		fprintf(p->out, " & ");
		value_print(p->out, &(struct reg){.kind = V_BE}, g->mask, g->mask_len);
	}
	fprintf(p->out, " %s", op < ARRAY_SIZE(ops) && ops[op] ? ops[op] : "? ");
	value_print(p->out, g, d, len);
}

static void limit_print(FILE *out, const struct nftnl_expr *e)
{
	uint64_t unit = nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_UNIT);
	const char *per = unit == 1 ? "second" : unit == 60 ? "minute" : unit == 3600 ? "hour"
			  : unit == 86400 ? "day" : "?";
	bool bytes = nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_TYPE) == NFT_LIMIT_PKT_BYTES;

	fprintf(out, " limit rate %s%llu%s/%s burst %u %s",
		nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_FLAGS) & NFT_LIMIT_F_INV ? "over " : "",
		(unsigned long long)nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_RATE),
		bytes ? " bytes" : "", per, nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_BURST),
		bytes ? "bytes" : "packets");
}

static void unknown_print(FILE *out, const struct nftnl_expr *e)
{
	char buf[512];

	if (nftnl_expr_snprintf(buf, sizeof(buf), e, NFTNL_OUTPUT_DEFAULT, 0) < 0)
		buf[0] = '\0';
	fprintf(out, " [%s %s]", nftnl_expr_get_str(e, NFTNL_EXPR_NAME), buf);
}

static int expr_print(struct nftnl_expr *e, void *data)
{
	struct rule_printer *p = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	enum value_kind kind;
	char what[64];
	const char *s;

	if (streq(name, "meta") && nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG) &&
	    (s = meta_name(nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY), &kind))) {
		reg_load(p, nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG), kind, s);
	} else if (streq(name, "payload") && nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG)) {
		payload_name(p, nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE),
			     nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET),
			     nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN), what, sizeof(what), &kind);
		reg_load(p, nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG), kind, what);
		reg_at(p, nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG))->size =
			nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
	} else if (streq(name, "ct") && nftnl_expr_is_set(e, NFTNL_EXPR_CT_DREG)) {
		uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY);

		snprintf(what, sizeof(what), "ct %s",
			 key == NFT_CT_STATE ? "state" : key == NFT_CT_MARK ? "mark"
			 : key == NFT_CT_STATUS ? "status" : key == NFT_CT_PROTO_DST ? "original proto-dst"
			 : key == NFT_CT_PROTO_SRC ? "original proto-src" : "key");
		reg_load(p, nftnl_expr_get_u32(e, NFTNL_EXPR_CT_DREG),
			 key == NFT_CT_STATE ? V_CTSTATE
			 : key == NFT_CT_PROTO_DST || key == NFT_CT_PROTO_SRC ? V_PORT : V_NUM,
			 what);
	} else if (streq(name, "bitwise") && nftnl_expr_is_set(e, NFTNL_EXPR_BITWISE_MASK)) {
		struct reg *src = reg_at(p, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG));
		struct reg *dst = reg_at(p, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG));
		const void *m = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &dst->mask_len);

		*dst = *src;
		nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &dst->mask_len);
		dst->mask_len = dst->mask_len > sizeof(dst->mask) ? sizeof(dst->mask) : dst->mask_len;
		memcpy(dst->mask, m, dst->mask_len);
		dst->masked = true;
	} else if (streq(name, "cmp")) {
		cmp_print(p, e);
	} else if (streq(name, "lookup")) {
		const struct reg *g = reg_at(p, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG));

		/* A key of several fields is loaded into consecutive 32-bit
		 * registers, each field from the next one past the last. */
		for (int f = 0; f < 3 && g < p->regs + ARRAY_SIZE(p->regs) && (f == 0 || g->what[0]);
		     f++) {
			fprintf(p->out, "%s%s", f ? " . " : " ", g->what);
			if (g->masked) {
				fprintf(p->out, " & ");
				value_print(p->out, g, g->mask, g->mask_len);
			}
			g += g->size > 4 ? (g->size + 3) / 4 : 1;
		}
		fprintf(p->out, " %s@%s",
			nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG) ? "vmap "
			: nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV ? "!= "
											 : "",
			nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
	} else if (streq(name, "dynset")) {
		const struct reg *g = reg_at(p, nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY));
		/* A key's next field starts at the next 32-bit register. */
		const struct reg *next = g + (g->size + 3) / 4;

		fprintf(p->out, " %s @%s { %s",
			nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_OP) == NFT_DYNSET_OP_UPDATE ? "update"
											  : "add",
			nftnl_expr_get_str(e, NFTNL_EXPR_DYNSET_SET_NAME), g->what);
		if (g->size && next < p->regs + ARRAY_SIZE(p->regs) && next->what[0])
			fprintf(p->out, " . %s", next->what);
		if (nftnl_expr_is_set(e, NFTNL_EXPR_DYNSET_TIMEOUT))
			fprintf(p->out, " timeout %llus",
				(unsigned long long)nftnl_expr_get_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT) /
					1000);
		nftnl_expr_expr_foreach(e, expr_print, p);
		fprintf(p->out, " }");
	} else if (streq(name, "counter")) {
		fprintf(p->out, " counter");
	} else if (streq(name, "immediate")) {
		uint32_t dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG), len = 0;

		if (dreg == NFT_REG_VERDICT) {
			verdict_print(p->out, e);
		} else {
			struct reg *g = reg_at(p, dreg);
			const void *d = nftnl_expr_get(e, NFTNL_EXPR_IMM_DATA, &len);

			*g = (struct reg){.kind = V_BE};
			g->data_len = len > sizeof(g->data) ? sizeof(g->data) : len;
			memcpy(g->data, d, g->data_len);
			if (g->data_len == 4) { /* a field of a key: a limit rule's tag */
				uint32_t v;

				memcpy(&v, g->data, 4);
				snprintf(g->what, sizeof(g->what), "0x%08x", v);
			}
		}
	} else if (streq(name, "reject")) {
		uint32_t type = nftnl_expr_get_u32(e, NFTNL_EXPR_REJECT_TYPE);

		fprintf(p->out, " reject%s", type == NFT_REJECT_TCP_RST ? " with tcp reset" : "");
	} else if (streq(name, "log")) {
		fprintf(p->out, " log");
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_PREFIX))
			fprintf(p->out, " prefix \"%s\"", nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX));
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_GROUP))
			fprintf(p->out, " group %u", nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_GROUP));
	} else if (streq(name, "limit")) {
		limit_print(p->out, e);
	} else if (streq(name, "masq")) {
		fprintf(p->out, " masquerade");
	} else if (streq(name, "nat")) {
		const struct reg *a = reg_at(p, nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN));
		uint32_t fam = nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_FAMILY);

		fprintf(p->out, " %s %s to ",
			nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE) == NFT_NAT_DNAT ? "dnat" : "snat",
			fam == NFPROTO_IPV6 ? "ip6" : "ip");
		value_print(p->out, &(struct reg){.kind = V_ADDR}, a->data, a->data_len);
		if (nftnl_expr_is_set(e, NFTNL_EXPR_NAT_REG_PROTO_MIN)) {
			const struct reg *pt =
				reg_at(p, nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN));

			fprintf(p->out, ":");
			value_print(p->out, &(struct reg){.kind = V_PORT}, pt->data, pt->data_len);
		}
	} else {
		unknown_print(p->out, e);
	}
	return 0;
}

static int udata_comment_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT)
		*(const char **)data = nftnl_udata_get(attr);
	return 0;
}

static void rule_print(FILE *out, struct nftnl_rule *r)
{
	_cleanup_free_ char *text = NULL;
	size_t size = 0;
	struct rule_printer p = {.out = open_memstream(&text, &size)};
	const char *comment = NULL;
	uint32_t len = 0;
	const void *ud = nftnl_rule_is_set(r, NFTNL_RULE_USERDATA)
				 ? nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len)
				 : NULL;

	if (!p.out)
		return;
	nftnl_expr_foreach(r, expr_print, &p);
	if (ud)
		nftnl_udata_parse(ud, len, udata_comment_cb, &comment);
	if (comment)
		fprintf(p.out, " comment \"%s\"", comment);
	if (fclose(p.out) == 0 && text)
		fprintf(out, "\t\t%s\n", text[0] == ' ' ? text + 1 : text);
}

static const char *hook_name(uint32_t hook)
{
	static const char *const names[] = {"prerouting", "input", "forward", "output",
					    "postrouting"};

	return hook < ARRAY_SIZE(names) ? names[hook] : "?";
}

static void chain_print(FILE *out, const struct pc_ruleset *rs, struct nftnl_chain *c)
{
	const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);

	fprintf(out, "\n\tchain %s {\n", name);
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM)) {
		fprintf(out, "\t\ttype %s hook %s priority %d;",
			nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE) ? nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE)
								 : "filter",
			hook_name(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM)),
			(int)nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO));
		if (nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY))
			fprintf(out, " policy %s;",
				nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP ? "drop"
										 : "accept");
		fputc('\n', out);
	}
	for (size_t i = 0; i < rs->n_objs; i++) {
		const struct pc_nft_object *o = &rs->objs[i];

		if (o->kind == PC_NFT_RULE &&
		    streq(nftnl_rule_get_str(o->obj, NFTNL_RULE_CHAIN), name))
			rule_print(out, o->obj);
	}
	fprintf(out, "\t}\n");
}

/* An element's key by its length: an address, "proto . port", or bytes. */
static void key_print(FILE *out, const uint8_t *k, uint32_t len)
{
	if (len == 4 || len == 16)
		value_print(out, &(struct reg){.kind = V_ADDR}, k, len);
	else if (len == 1)
		fprintf(out, "%u", k[0]);
	else if (len == 8) /* inet_proto . inet_service, each in a 4-byte slot */
		fprintf(out, "%u . %u", k[0], (unsigned)k[4] << 8 | k[5]);
	else if (len == 12 || len == 24) { /* ... . an address: a run of ports' */
		fprintf(out, "%u . %u . ", k[0], (unsigned)k[4] << 8 | k[5]);
		value_print(out, &(struct reg){.kind = V_ADDR}, k + 8, len - 8);
	}
	else
		value_print(out, &(struct reg){.kind = V_BE}, k, len);
}

static void elem_verdict_print(FILE *out, struct nftnl_set_elem *e)
{
	int v = (int)nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT);
	const char *chain = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN)
				    ? nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN)
				    : "";

	fprintf(out, " : %s%s%s",
		v == NF_ACCEPT ? "accept" : v == NF_DROP ? "drop" : v == NFT_JUMP ? "jump"
		: v == NFT_GOTO ? "goto" : v == NFT_RETURN ? "return" : "continue",
		chain[0] ? " " : "", chain);
}

/* start..end-1 of an interval as nft shows it: ADDR/LEN when it is a
 * prefix, else START-LAST. The kernel keeps the end as the first key past it. */
static void interval_print(FILE *out, const uint8_t *start, const uint8_t *end, uint32_t len)
{
	uint8_t last[16];
	unsigned plen = len * 8;
	int i;

	memcpy(last, end, len);
	for (i = (int)len - 1; i >= 0 && last[i]-- == 0; i--)
		;
	while (plen > 0) {
		unsigned bit = plen - 1, byte = bit / 8, m = 0x80u >> (bit % 8);

		if ((start[byte] & m) || !(last[byte] & m))
			break;
		plen--;
	}
	key_print(out, start, len);
	if (memcmp(start, last, len) == 0)
		return;
	for (unsigned b = 0; b < plen; b++)
		if ((start[b / 8] ^ last[b / 8]) & (0x80u >> (b % 8)))
			plen = len * 8 + 1; /* not a prefix */
	if (plen <= len * 8) {
		fprintf(out, "/%u", plen);
		return;
	}
	fputc('-', out);
	key_print(out, last, len);
}

static void set_print(FILE *out, struct nftnl_set *s)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	uint32_t flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS), klen = 0;
	bool interval = flags & NFT_SET_INTERVAL, first = true;
	uint8_t start[16];
	uint32_t start_len = 0;
	struct nftnl_set_elem *e, *start_e = NULL;

	fprintf(out, "\n\tset %s {\n\t\tkey length %u;%s%s\n", nftnl_set_get_str(s, NFTNL_SET_NAME),
		nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), interval ? " flags interval;" : "",
		flags & NFT_SET_MAP ? " map;" : "");
	for (e = it ? nftnl_set_elems_iter_next(it) : NULL; e; e = nftnl_set_elems_iter_next(it)) {
		const uint8_t *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
		bool end = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
			   (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END);

		if (!k || klen > sizeof(start))
			continue;
		if (interval && !end) {
			if (start_len) { /* a start without an end: that key alone */
				fprintf(out, "%s", first ? "\t\telements = { " : ",\n\t\t\t     ");
				key_print(out, start, start_len);
				first = false;
			}
			memcpy(start, k, klen);
			start_len = klen;
			start_e = e;
			continue;
		}
		if (interval && !start_len)
			continue;
		fprintf(out, "%s", first ? "\t\telements = { " : ",\n\t\t\t     ");
		if (interval) {
			interval_print(out, start, k, klen);
			start_len = 0;
		} else {
			key_print(out, k, klen);
		}
		if (interval)
			e = start_e;
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT))
			elem_verdict_print(out, e);
		first = false;
	}
	if (start_len) {
		fprintf(out, "%s", first ? "\t\telements = { " : ",\n\t\t\t     ");
		key_print(out, start, start_len);
		fprintf(out, " and above");
		first = false;
	}
	if (!first)
		fprintf(out, " }\n");
	nftnl_set_elems_iter_destroy(it);
	fprintf(out, "\t}\n");
}

int pc_ruleset_print_nft(FILE *out, const struct pc_ruleset *rs)
{
	for (size_t i = 0; i < rs->n_objs; i++)
		if (rs->objs[i].kind == PC_NFT_TABLE)
			fprintf(out, "table inet %s {\n",
				nftnl_table_get_str(rs->objs[i].obj, NFTNL_TABLE_NAME));
	for (size_t i = 0; i < rs->n_objs; i++)
		if (rs->objs[i].kind == PC_NFT_SET)
			set_print(out, rs->objs[i].obj);
	for (size_t i = 0; i < rs->n_objs; i++)
		if (rs->objs[i].kind == PC_NFT_CHAIN)
			chain_print(out, rs, rs->objs[i].obj);
	fprintf(out, "}\n");
	return fflush(out) == EOF || ferror(out) ? -EIO : 0;
}
