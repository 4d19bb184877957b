/* A change as a difference: the messages that turn what we committed last
 * (old, with its rules' kernel handles) into rs, all in one batch. What both
 * hold stays in the kernel untouched, with its counters. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "internal.h"
#include "portctl/util.h"

/* Past the common head and tail of a chain, its rules are aligned with a
 * longest-common-subsequence table of at most this many cells; a middle
 * bigger than that (thousands of rules changed at once) is re-added. */
#define ALIGN_CELLS_MAX (1u << 20)

/* A chain or set of one side by name. */
struct named {
	const char *name;
	size_t obj;
};

struct names {
	struct named *items;
	size_t n, cap;
};

/* A rule as compared: its chain and expressions without counter values
 * (sig), its comment (FILE:LINE) apart, so that renumbering is seen as such.
 * The sig is made when first needed: a ruleset changed in place shares
 * the objects it did not change with the one in force, and one object is
 * one rule (rule_same), so a change costs the signatures of what it
 * changed, not of every rule. */
struct rule_ref {
	size_t obj;
	struct nftnl_rule *rule;
	struct pc_strbuf sig;
	bool signed_;
	/* Its expressions as bytes (expr_bytes_cb); keyed_ with key.buf
	 * NULL: an expression that has none. */
	struct pc_strbuf key;
	bool keyed_;
	bool udata_read;
	const void *udata;
	uint32_t udata_len;
	bool doomed;   /* old: it uses a set that goes away, so it goes too */
	bool carried;  /* old: a new rule goes on with its counter */
	ssize_t match; /* the rule of the other side it stays as, -1: none */
	ssize_t carry; /* new, added: the old rule whose counter it goes on with */
	/* new, added: the same rule in another chain of its zone chain's
	 * (chains_moves), whose counter it goes on with */
	const struct rule_ref *moved;
	const char *moved_chain;
};

struct chain_rules {
	const char *name;
	struct rule_ref *items;
	size_t n, cap;
};

/* A chain of one side by its rules' chain_key. */
struct chain_key {
	uint32_t key;
	const char *name;
};

/* One side's objects that may differ: those at idx (n_idx of them), or all
 * when idx is NULL; the others are the same objects on both sides, in the
 * same order (see islands_find). */
struct side {
	const struct pc_ruleset *rs;
	size_t *idx, n_idx;
	struct names chains, sets;
	struct chain_key *keys; /* by key */
	struct chain_rules *by_chain;
	size_t n, cap;
};

static int named_cmp(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

static const char *object_name(const struct pc_nft_object *o)
{
	return o->kind == PC_NFT_SET ? nftnl_set_get_str(o->obj, NFTNL_SET_NAME)
				     : nftnl_chain_get_str(o->obj, NFTNL_CHAIN_NAME);
}

static size_t side_n(const struct side *s)
{
	return s->idx ? s->n_idx : s->rs->n_objs;
}

/* The index in s->rs of s's k-th object. */
static size_t side_at(const struct side *s, size_t k)
{
	return s->idx ? s->idx[k] : k;
}

static int names_load(struct names *l, const struct side *s, enum pc_nft_kind kind)
{
	const struct pc_ruleset *rs = s->rs;

	for (size_t k = 0; k < side_n(s); k++) {
		size_t i = side_at(s, k);
		struct named *n;

		if (rs->objs[i].kind != kind)
			continue;
		n = PC_ARRAY_PUSH(l->items, l->n, l->cap);
		if (!n)
			return -ENOMEM;
		n->name = object_name(&rs->objs[i]);
		n->obj = i;
	}
	if (l->n)
		qsort(l->items, l->n, sizeof(*l->items), named_cmp);
	return 0;
}

static const struct named *names_find(const struct names *l, const char *name)
{
	struct named key = { .name = name };

	return l->n ? bsearch(&key, l->items, l->n, sizeof(*l->items), named_cmp) : NULL;
}

/* The other side's object of the same kind and name, or NULL. */
static const struct pc_nft_object *counterpart(const struct side *other, const struct pc_nft_object *o)
{
	const struct named *n = names_find(o->kind == PC_NFT_SET ? &other->sets : &other->chains,
					   object_name(o));

	return n ? &other->rs->objs[n->obj] : NULL;
}

static struct chain_rules *chain_rules_get(struct side *s, const char *name)
{
	struct chain_rules *c;

	/* Rules come chain after chain: the last one asked is the likely one. */
	for (size_t i = s->n; i-- > 0;)
		if (s->by_chain[i].name == name || streq(s->by_chain[i].name, name))
			return &s->by_chain[i];
	c = PC_ARRAY_PUSH(s->by_chain, s->n, s->cap);
	if (c)
		c->name = name;
	return c;
}

struct doom_ctx {
	const struct names *gone; /* old rules: the sets that go away */
	bool doomed;
};

static const char *expr_set_name(struct nftnl_expr *e, const char *name)
{
	if (streq(name, "lookup"))
		return nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
	if (streq(name, "dynset"))
		return nftnl_expr_get_str(e, NFTNL_EXPR_DYNSET_SET_NAME);
	return NULL;
}

static int doom_expr_cb(struct nftnl_expr *e, void *data)
{
	struct doom_ctx *c = data;
	const char *set = expr_set_name(e, nftnl_expr_get_str(e, NFTNL_EXPR_NAME));

	if (set && names_find(c->gone, set))
		c->doomed = true;
	return 0;
}

static void rule_ref_fill(struct rule_ref *ref, const struct pc_ruleset *rs, size_t i,
			  const struct names *gone)
{
	struct nftnl_rule *r = rs->objs[i].obj;
	struct doom_ctx c = { .gone = gone };

	ref->obj = i;
	ref->rule = r;
	ref->match = -1;
	ref->carry = -1;
	if (gone && gone->n)
		nftnl_expr_foreach(r, doom_expr_cb, &c);
	ref->doomed = c.doomed;
}

/* The expressions expr_bytes_cb makes into bytes: those whose attributes
 * are values (a dynset's, which holds expressions, with them), each with
 * its last attribute (0: none copied, a counter's and last's are state); one the
 * sigs print alike unset or 0, which the kernel reports when we leave it
 * unset (a lookup's flags, a reject's code, a bitwise's operation: mask
 * and xor); and one they do not print, which the kernel does not report
 * (a lookup's set id, a jump's chain id: names within the transaction);
 * and one whose default the kernel reports when we leave it unset (a log's
 * level). */
struct expr_kind {
	const char *name;
	uint16_t last;
	uint16_t zero_alike;
	uint16_t unprinted;
	uint16_t default_alike;
	uint32_t default_value;
	bool nests; /* expressions within, after its attributes */
};

static const struct expr_kind expr_kinds[] = {
	{ .name = "payload", .last = NFTNL_EXPR_PAYLOAD_FLAGS },
	{ .name = "cmp", .last = NFTNL_EXPR_CMP_DATA },
	{ .name = "meta", .last = NFTNL_EXPR_META_SREG },
	{ .name = "immediate", .last = NFTNL_EXPR_IMM_CHAIN_ID, .unprinted = NFTNL_EXPR_IMM_CHAIN_ID },
	{ .name = "bitwise", .last = NFTNL_EXPR_BITWISE_DATA, .zero_alike = NFTNL_EXPR_BITWISE_OP },
	{ .name = "lookup", .last = NFTNL_EXPR_LOOKUP_FLAGS, .zero_alike = NFTNL_EXPR_LOOKUP_FLAGS,
	  .unprinted = NFTNL_EXPR_LOOKUP_SET_ID },
	{ .name = "ct", .last = NFTNL_EXPR_CT_SREG },
	{ .name = "fib", .last = NFTNL_EXPR_FIB_FLAGS },
	{ .name = "range", .last = NFTNL_EXPR_RANGE_TO_DATA },
	{ .name = "nat", .last = NFTNL_EXPR_NAT_FLAGS },
	{ .name = "masq", .last = NFTNL_EXPR_MASQ_REG_PROTO_MAX },
	{ .name = "limit", .last = NFTNL_EXPR_LIMIT_FLAGS },
	{ .name = "reject", .last = NFTNL_EXPR_REJECT_CODE, .zero_alike = NFTNL_EXPR_REJECT_CODE },
	/* The kernel reports the level it logs at unset: 4, warn. */
	{ .name = "log", .last = NFTNL_EXPR_LOG_FLAGS, .default_alike = NFTNL_EXPR_LOG_LEVEL,
	  .default_value = 4 },
	{ .name = "quota", .last = NFTNL_EXPR_QUOTA_FLAGS }, /* not its use (CONSUMED) */
	{ .name = "counter" },
	{ .name = "last" },
	/* Its expressions (a limit's meter: the limit) follow it, bracketed;
	 * the attributes that hold them are not values. */
	{ .name = "dynset", .last = NFTNL_EXPR_DYNSET_FLAGS, .zero_alike = NFTNL_EXPR_DYNSET_FLAGS,
	  .unprinted = NFTNL_EXPR_DYNSET_SET_ID, .nests = true },
};

/* The kind of the expression named name, or NULL. libnftnl names each
 * kind by one constant string: its address, once seen, saves comparing
 * the names (a few for each of 600,000 expressions in a restart). */
static const struct expr_kind *expr_kind_of(const char *name)
{
	static struct kind_seen {
		const char *name;
		const struct expr_kind *kind;
	} seen[32];
	static size_t n_seen;
	const struct expr_kind *kind = NULL;

	for (size_t i = 0; i < n_seen; i++)
		if (seen[i].name == name)
			return seen[i].kind;
	for (size_t i = 0; !kind && i < ARRAY_SIZE(expr_kinds); i++)
		if (streq(name, expr_kinds[i].name))
			kind = &expr_kinds[i];
	if (n_seen < ARRAY_SIZE(seen))
		seen[n_seen++] = (struct kind_seen){ name, kind };
	return kind;
}

/* An expression as bytes: its name, then each attribute it has set, type,
 * length and value (of its kind, see expr_kinds). Equal bytes make equal
 * sigs, which print these attributes (so nothing they print may be left
 * out but what they print alike unset or 0, or unset or its default);
 * different bytes may still make equal sigs: rule_same then asks them. 0,
 * or -1 for an expression not made into bytes. */
int expr_bytes_cb(struct nftnl_expr *e, void *data)
{
	struct pc_strbuf *b = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	const struct expr_kind *kind = expr_kind_of(name);

	if (!kind || bytes_put(b, name, strlen(name) + 1) < 0)
		return -1;
	for (uint16_t type = NFTNL_EXPR_BASE; type <= kind->last; type++) {
		uint32_t len = 0;
		const void *v;

		if (type == kind->unprinted || !nftnl_expr_is_set(e, type) ||
		    (kind->nests &&
		     (type == NFTNL_EXPR_DYNSET_EXPR || type == NFTNL_EXPR_DYNSET_EXPRESSIONS)))
			continue;
		v = nftnl_expr_get(e, type, &len);
		if (v && type == kind->zero_alike && len <= sizeof(uint32_t) &&
		    !memcmp(v, "\0\0\0\0", len))
			continue;
		if (v && type == kind->default_alike && len == sizeof(uint32_t) &&
		    !memcmp(v, &kind->default_value, len))
			continue;
		if (!v || !len || attr_head_put(b, type, len) < 0 || bytes_put(b, v, len) < 0)
			return -1;
	}
	/* No attribute type is 0xffff, no name begins with 0xff: the
	 * brackets keep an expression within from one after. */
	if (kind->nests && (pc_strbuf_append(b, "\xff\xff[", 3) < 0 ||
			    nftnl_expr_expr_foreach(e, expr_bytes_cb, b) < 0 ||
			    pc_strbuf_append(b, "\xff\xff]", 3) < 0))
		return -1;
	return 0;
}

/* ref's key, made now if it is not yet: key.buf NULL when it has none. */
static void ref_keyed(struct rule_ref *ref)
{
	if (ref->keyed_)
		return;
	ref->keyed_ = true;
	if (nftnl_expr_foreach(ref->rule, expr_bytes_cb, &ref->key) < 0 ||
	    pc_strbuf_append(&ref->key, "", 0) < 0)
		pc_strbuf_free(&ref->key);
}

/* ref's sig, made now if it is not yet. 0 or -ENOMEM. */
static int ref_signed(struct rule_ref *ref)
{
	if (ref->signed_)
		return 0;
	ref->signed_ = true;
	/* As verify prints it: a rule read back from the kernel (held.c)
	 * compares equal to the one compiled. */
	if (nftnl_expr_foreach(ref->rule, expr_sig_cb, &ref->sig) < 0)
		return -ENOMEM;
	pc_strbuf_append(&ref->sig, "", 0); /* a rule without expressions too */
	return ref->sig.buf ? 0 : -ENOMEM;
}

static int chain_key_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct chain_key *)a)->key, y = ((const struct chain_key *)b)->key;

	return (x > y) - (x < y);
}

/* s->keys from s->chains. */
static int chain_keys_load(struct side *s)
{
	s->keys = calloc(s->chains.n + 1, sizeof(*s->keys));
	if (!s->keys)
		return -ENOMEM;
	for (size_t i = 0; i < s->chains.n; i++)
		s->keys[i] = (struct chain_key){ .key = pc_chain_key(s->chains.items[i].name),
						 .name = s->chains.items[i].name };
	qsort(s->keys, s->chains.n, sizeof(*s->keys), chain_key_cmp);
	return 0;
}

/* The name of the chain of rs's rule o: by its key, without reading the
 * rule (which costs a cache miss a rule among 20,000), else its own. */
static const char *rule_chain_name(const struct side *s, const struct pc_nft_object *o)
{
	struct chain_key key = { .key = o->chain_key }, *k;

	if (o->chain_key) {
		k = bsearch(&key, s->keys, s->chains.n, sizeof(*s->keys), chain_key_cmp);
		if (k)
			return k->name;
	}
	return nftnl_rule_get_str(o->obj, NFTNL_RULE_CHAIN);
}

/* Both sides' chains and sets by name; the rules of each chain in order.
 * gone: for old, the sets that go away (their rules go with them). */
static int side_load(struct side *s, const struct names *gone)
{
	const struct pc_ruleset *rs = s->rs;
	struct chain_rules *c = NULL;
	uint32_t c_key = 0;
	int r;

	r = names_load(&s->chains, s, PC_NFT_CHAIN);
	if (r >= 0)
		r = names_load(&s->sets, s, PC_NFT_SET);
	if (r >= 0)
		r = chain_keys_load(s);
	for (size_t k = 0; r >= 0 && k < side_n(s); k++) {
		size_t i = side_at(s, k);
		const struct pc_nft_object *o = &rs->objs[i];
		struct rule_ref *ref;

		if (o->kind != PC_NFT_RULE)
			continue;
		/* Rules come chain after chain. */
		if (!c || !o->chain_key || o->chain_key != c_key) {
			c = chain_rules_get(s, rule_chain_name(s, o));
			c_key = o->chain_key;
		}
		ref = c ? PC_ARRAY_PUSH(c->items, c->n, c->cap) : NULL;
		if (ref)
			rule_ref_fill(ref, rs, i, gone);
		else
			r = -ENOMEM;
	}
	return r;
}

/* s freed; its rules compared by their printed sig counted into *n_signed. */
static void side_free(struct side *s, size_t *n_signed)
{
	for (size_t i = 0; i < s->n; i++) {
		for (size_t j = 0; j < s->by_chain[i].n; j++) {
			*n_signed += s->by_chain[i].items[j].signed_;
			pc_strbuf_free(&s->by_chain[i].items[j].sig);
			pc_strbuf_free(&s->by_chain[i].items[j].key);
		}
		free(s->by_chain[i].items);
	}
	free(s->by_chain);
	free(s->keys);
	free(s->chains.items);
	free(s->sets.items);
	free(s->idx);
}

static struct chain_rules *side_chain(const struct side *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (streq(s->by_chain[i].name, name))
			return &s->by_chain[i];
	return NULL;
}

/* The sets of old (of its side's range) that rs lacks, or has with another
 * definition. */
static int sets_gone(const struct side *o_side, const struct side *new, struct names *gone)
{
	const struct pc_ruleset *old = o_side->rs;

	for (size_t k = 0; k < side_n(o_side); k++) {
		size_t i = side_at(o_side, k);
		const struct pc_nft_object *o = &old->objs[i];
		const struct pc_nft_object *c;
		struct named *n;
		int r;

		if (o->kind != PC_NFT_SET)
			continue;
		c = counterpart(new, o);
		/* One object in both rulesets (a change made on a copy that
		 * shares what it did not change): the same set. */
		r = !c ? 1 : c->obj == o->obj ? 0 : set_definition_differs(o->obj, c->obj);
		if (r < 0)
			return r;
		if (!r)
			continue;
		n = PC_ARRAY_PUSH(gone->items, gone->n, gone->cap);
		if (!n)
			return -ENOMEM;
		n->name = object_name(o);
		n->obj = i;
	}
	if (gone->n)
		qsort(gone->items, gone->n, sizeof(*gone->items), named_cmp);
	return 0;
}

/* Is old rule o new rule n? *err: -ENOMEM when a sig could not be made. */
static bool rule_same(struct rule_ref *o, struct rule_ref *n, int *err)
{
	if (o->doomed)
		return false;
	if (o->rule == n->rule)
		return true;
	/* The bytes first: printing each expression costs ten times more. */
	ref_keyed(o);
	ref_keyed(n);
	if (o->key.buf && n->key.buf && o->key.len == n->key.len &&
	    !memcmp(o->key.buf, n->key.buf, o->key.len))
		return true;
	if (ref_signed(o) < 0 || ref_signed(n) < 0) {
		*err = -ENOMEM;
		return false;
	}
	return o->sig.len == n->sig.len && !memcmp(o->sig.buf, n->sig.buf, o->sig.len);
}

/* ref's comment (FILE:LINE), read now if it is not yet. */
static void ref_udata_read(struct rule_ref *ref)
{
	if (ref->udata_read)
		return;
	ref->udata_read = true;
	if (nftnl_rule_is_set(ref->rule, NFTNL_RULE_USERDATA))
		ref->udata = nftnl_rule_get_data(ref->rule, NFTNL_RULE_USERDATA, &ref->udata_len);
}

static bool rule_comment_same(struct rule_ref *o, struct rule_ref *n)
{
	if (o->rule == n->rule)
		return true;
	ref_udata_read(o);
	ref_udata_read(n);
	return o->udata_len == n->udata_len && (!o->udata_len || !memcmp(o->udata, n->udata, o->udata_len));
}

static void rule_pair(struct rule_ref *o, size_t oi, struct rule_ref *n, size_t ni)
{
	o->match = (ssize_t)ni;
	n->match = (ssize_t)oi;
}

/* Pair the rules of one chain that stay, in order: the common head and
 * tail, then the longest common subsequence of what is left between. */
static int chain_align(struct chain_rules *o, struct chain_rules *nc)
{
	struct rule_ref *n = nc->items;
	size_t head = 0, tail = 0, mo, mn;
	uint32_t *t;
	int err = 0;

	while (head < o->n && head < nc->n && rule_same(&o->items[head], &n[head], &err)) {
		rule_pair(&o->items[head], head, &n[head], head);
		head++;
	}
	while (tail < o->n - head && tail < nc->n - head &&
	       rule_same(&o->items[o->n - 1 - tail], &n[nc->n - 1 - tail], &err)) {
		rule_pair(&o->items[o->n - 1 - tail], o->n - 1 - tail, &n[nc->n - 1 - tail],
			  nc->n - 1 - tail);
		tail++;
	}
	mo = o->n - head - tail;
	mn = nc->n - head - tail;
	if (err || !mo || !mn || mo > ALIGN_CELLS_MAX / mn)
		return err;
	/* t[i][j]: length of the common subsequence of the suffixes from i, j. */
	t = calloc((mo + 1) * (mn + 1), sizeof(*t));
	if (!t)
		return -ENOMEM;
#define T(i, j) t[(i) * (mn + 1) + (j)]
	for (size_t i = mo; i-- > 0;)
		for (size_t j = mn; j-- > 0;)
			T(i, j) = rule_same(&o->items[head + i], &n[head + j], &err)
					  ? T(i + 1, j + 1) + 1
					  : (T(i + 1, j) > T(i, j + 1) ? T(i + 1, j) : T(i, j + 1));
	for (size_t i = 0, j = 0; i < mo && j < mn;) {
		if (rule_same(&o->items[head + i], &n[head + j], &err) &&
		    T(i, j) == T(i + 1, j + 1) + 1) {
			rule_pair(&o->items[head + i], head + i, &n[head + j], head + j);
			i++, j++;
		} else if (T(i + 1, j) >= T(i, j + 1)) {
			i++;
		} else {
			j++;
		}
	}
#undef T
	free(t);
	return err;
}

/* Cut n bytes at p out of s. */
static void strbuf_cut(struct pc_strbuf *s, char *p, size_t n)
{
	memmove(p, p + n, s->len - (size_t)(p - s->buf) - n + 1);
	s->len -= n;
}

/* The carry shape of a limit's meter rule, the same before a zone had one
 * meter (97b6d89) and since: without the rule's tag (a 32-bit immediate
 * into the key), the element timeout the rule now gives (its unit's, as the
 * old meter's own), and with the meter's name as "meter4"/"meter6". Its
 * limit and matches stay: a limit changed on the way starts again. */
static void meter_shape(struct pc_strbuf *s)
{
	char *dyn = s->buf ? strstr(s->buf, "[dynset ") : NULL;
	char *p, *q, *name, *end;

	if (!dyn)
		return;
	for (p = s->buf; (p = strstr(p, "[immediate reg ")) != NULL;) {
		q = p + strlen("[immediate reg ");
		q += strspn(q, "0123456789");
		if (strncmp(q, " 0x", 3) != 0 || !(end = strstr(q, "] "))) {
			p = q;
			continue;
		}
		strbuf_cut(s, p, (size_t)(end + 2 - p));
	}
	dyn = strstr(s->buf, "[dynset ");
	name = strstr(dyn, " set ");
	if (!name)
		return;
	name += strlen(" set ");
	end = strchr(name, ' ');
	if (end) {
		size_t n = (size_t)(end - name);
		bool old = n > 7 && !strncmp(end - 7, "_meter", 6);
		bool now = !strncmp(name, "meter4_", 7) || !strncmp(name, "meter6_", 7);

		if (old || now) {
			char family = old ? end[-1] : name[5];

			memcpy(name, "meter", 5);
			name[5] = family;
			strbuf_cut(s, name + 6, n - 6);
			end = name + 6;
		}
		if (!strncmp(end, " timeout ", 9)) {
			q = end + 9 + strspn(end + 9, "0123456789");
			if (!strncmp(q, "ms", 2))
				strbuf_cut(s, end, (size_t)(q + 2 - end));
		}
	}
}

/* The rules of a chain that neither side keeps, as the same rule but for
 * the numbers in their set names (entries numbered again, see struct
 * elem_carry): each new one goes on with the counter of the first old one
 * of its shape. */
static int chain_carry(struct chain_rules *o, struct chain_rules *nc)
{
	struct pc_strbuf *shapes;
	size_t mo = 0, mn = 0;
	int r = 0;

	for (size_t i = 0; i < o->n; i++)
		mo += o->items[i].match < 0;
	for (size_t j = 0; j < nc->n; j++)
		mn += nc->items[j].match < 0;
	if (!mo || !mn || mo > ALIGN_CELLS_MAX / mn)
		return 0;
	shapes = calloc(o->n, sizeof(*shapes));
	if (!shapes)
		return -ENOMEM;
	for (size_t i = 0; i < o->n; i++)
		if (o->items[i].match < 0 && ref_signed(&o->items[i]) >= 0) {
			name_shape(o->items[i].sig.buf, &shapes[i]);
			meter_shape(&shapes[i]);
			if (!shapes[i].buf)
				r = -ENOMEM;
		}
	for (size_t j = 0; r >= 0 && j < nc->n; j++) {
		struct rule_ref *n = &nc->items[j];
		struct pc_strbuf shape = { 0 };

		if (n->match >= 0 || ref_signed(n) < 0)
			continue;
		name_shape(n->sig.buf, &shape);
		meter_shape(&shape);
		if (!shape.buf) {
			r = -ENOMEM;
			break;
		}
		for (size_t i = 0; i < o->n; i++)
			if (shapes[i].buf && streq(shapes[i].buf, shape.buf)) {
				n->carry = (ssize_t)i;
				o->items[i].carried = true;
				pc_strbuf_free(&shapes[i]);
				break;
			}
		pc_strbuf_free(&shape);
	}
	for (size_t i = 0; i < o->n; i++)
		pc_strbuf_free(&shapes[i]);
	free(shapes);
	return r;
}

/* A rule that stays as it is, comment included: its handle carries over. */
static bool rule_kept(const struct chain_rules *oc, struct rule_ref *n)
{
	return n->match >= 0 && rule_comment_same(&oc->items[n->match], n);
}

/* --- messages --- */

static int put_delete(struct batch *b, uint16_t type, const struct pc_nft_object *o,
		      uint64_t handle, const char *what)
{
	struct nlmsghdr *nlh = msg_start(b, type, NFPROTO_INET, 0);

	if (!nlh)
		return -ENOMEM;
	switch (o->kind) {
	case PC_NFT_RULE: {
		struct nftnl_rule *r = nftnl_rule_alloc();

		if (!r)
			return -ENOMEM;
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, PC_TABLE_NAME);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, nftnl_rule_get_str(o->obj, NFTNL_RULE_CHAIN));
		nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nftnl_rule_free(r);
		break;
	}
	case PC_NFT_SET: {
		struct nftnl_set *s = nftnl_set_alloc();

		if (!s)
			return -ENOMEM;
		nftnl_set_set_str(s, NFTNL_SET_TABLE, PC_TABLE_NAME);
		nftnl_set_set_str(s, NFTNL_SET_NAME, object_name(o));
		nftnl_set_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		break;
	}
	case PC_NFT_CHAIN: {
		struct nftnl_chain *c = nftnl_chain_alloc();

		if (!c)
			return -ENOMEM;
		nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, PC_TABLE_NAME);
		nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, object_name(o));
		nftnl_chain_nlmsg_build_payload(nlh, c);
		nftnl_chain_free(c);
		break;
	}
	case PC_NFT_TABLE:
		return -EINVAL;
	}
	return batch_commit(b, &(struct batch_origin){ .obj = -1, .what = what });
}

struct counter_set {
	uint64_t packets, bytes;
	bool done;
};

static int counter_set_cb(struct nftnl_expr *e, void *data)
{
	struct counter_set *v = data;

	if (!v->done && streq(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter")) {
		nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, v->packets);
		nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, v->bytes);
		v->done = true;
	}
	return 0;
}

static int rule_counter_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct rule_counter *)a)->handle;
	uint64_t y = ((const struct rule_counter *)b)->handle;

	return (x > y) - (x < y);
}

/* The rule again, starting from a counter, then back to 0 in the ruleset. */
static int put_rule_from(struct batch *b, const struct pc_ruleset *rs, size_t i,
			 struct rule_place place, uint64_t packets, uint64_t bytes)
{
	struct counter_set v = { .packets = packets, .bytes = bytes };
	int r;

	nftnl_expr_foreach(rs->objs[i].obj, counter_set_cb, &v);
	r = put_rule_at(b, rs->objs[i].obj, (ssize_t)i, place);
	v = (struct counter_set){ 0 };
	nftnl_expr_foreach(rs->objs[i].obj, counter_set_cb, &v);
	return r;
}


/* Where a chain changes, on each side (0: rs, 1: old): its rules that
 * differ lie together, before the rule both sides keep that closes them
 * (NULL: at the chain's end); on rs, that rule's handle and index. */
struct gap {
	uint32_t key;
	bool open[2], closed[2];
	const void *closer[2];
	uint64_t handle;
	size_t pos;
};

/* Rule counters asked for one by one; chains dumped for theirs, then all
 * (old_rule_counter). */
#define RULE_COUNTERS_ASKED_MAX 16
#define RULE_COUNTERS_CHAINS_MAX 8

struct delta_ctx {
	struct pc_nl *nl;
	struct batch *b;
	const struct pc_ruleset *rs, *old;
	struct side o, n;
	struct names gone;
	struct elem_carry carry;
	struct delta *d;
	/* Rules' counters read past a few asked for: those of the chains
	 * named, or of every rule (ctr_all). */
	struct rule_counter *ctr;
	size_t n_ctr, n_asked, n_ctr_chains;
	const char *ctr_chains[RULE_COUNTERS_CHAINS_MAX];
	bool ctr_all;
	struct gap *gaps; /* with the sides' idx: where each chain changes */
	size_t n_gaps, cap_gaps;
	size_t n_unclosed; /* sides of gaps open and not closed yet */
};

static int chains_add(struct delta_ctx *x)
{
	int r = 0;

	for (size_t k = 0; r >= 0 && k < side_n(&x->n); k++) {
		size_t i = side_at(&x->n, k);
		const struct pc_nft_object *o = &x->rs->objs[i];
		const struct pc_nft_object *c;

		if (o->kind != PC_NFT_CHAIN)
			continue;
		c = counterpart(&x->o, o);
		if (c) {
			/* A base chain is never re-added by a difference, so
			 * packets always pass it: if it must change, it is a
			 * new table. */
			r = chain_differs(o->obj, c->obj);
			if (r > 0)
				return 0;
			continue;
		}
		r = put_chain(x->b, o->obj, (ssize_t)i);
		x->d->counts.chains_added++;
	}
	return r < 0 ? r : 1;
}

/* A rule that goes whose counter no new rule goes on with: an element of
 * its comment may (struct carry_rule). */
static int rule_gone_carry(struct delta_ctx *x, struct rule_ref *ref, uint64_t handle)
{
	struct carry_rule *cr;

	ref_udata_read(ref);
	if (!ref->udata_len)
		return 0;
	cr = PC_ARRAY_PUSH(x->carry.rules, x->carry.n_rules, x->carry.cap_rules);
	if (!cr)
		return -ENOMEM;
	*cr = (struct carry_rule){ .udata = ref->udata,
				   .len = ref->udata_len,
				   .chain = nftnl_rule_get_str(ref->rule, NFTNL_RULE_CHAIN),
				   .handle = handle,
				   .rule = ref->rule };
	return 0;
}

/* Every rule of old that does not stay as it is, by handle. */
static int rules_delete(struct delta_ctx *x)
{
	int r = 0;

	for (size_t c = 0; r >= 0 && c < x->o.n; c++) {
		struct chain_rules *oc = &x->o.by_chain[c];
		struct chain_rules *nc = side_chain(&x->n, oc->name);

		for (size_t i = 0; r >= 0 && i < oc->n; i++) {
			struct rule_ref *ref = &oc->items[i];
			uint64_t h = x->old->objs[ref->obj].handle;

			if (ref->match >= 0 && nc && rule_comment_same(ref, &nc->items[ref->match]))
				continue;
			/* A rule we cannot name: only a new table is sure. */
			if (!h)
				return 0;
			r = put_delete(x->b, NFT_MSG_DELRULE, &x->old->objs[ref->obj], h, "rule delete");
			/* Its counter to an element, unless a new rule goes on
			 * with it (chain_carry, chains_moves). */
			if (r >= 0 && x->nl && (ref->match < 0 || !nc) && !ref->carried)
				r = rule_gone_carry(x, ref, h);
			if (ref->match < 0 || !nc)
				x->d->counts.rules_deleted++;
		}
	}
	return r < 0 ? r : 1;
}

/* Does rs's set o come new (or with another definition), or change its
 * elements? */
static bool set_comes(const struct delta_ctx *x, const struct pc_nft_object *o)
{
	const struct pc_nft_object *c = counterpart(&x->o, o);

	return !c || names_find(&x->gone, object_name(o)) ||
	       (c->obj != o->obj && !(o->elems_digest && o->elems_digest == c->elems_digest));
}

/* Does rs's shared set i gain elements (rs->shared)? */
static bool shared_gains(const struct pc_ruleset *rs, size_t i)
{
	for (size_t k = 0; rs->shared && k < rs->shared->add.n_sets; k++)
		if (rs->shared->add.sets[k].obj == i)
			return true;
	return false;
}

static bool shape_wanted(const struct pc_strbuf *shapes, size_t n, const char *name)
{
	struct pc_strbuf s = { 0 };
	bool found = false;

	name_shape(name, &s);
	for (size_t i = 0; s.buf && !found && i < n; i++)
		found = streq(shapes[i].buf, s.buf);
	pc_strbuf_free(&s);
	return found;
}

/* When sets come or go (entries numbered again), the kernel's elements of
 * the counted sets that go or change, of a shape that a set which comes or
 * changes has: their counters carry (see struct elem_carry). */
/* The shape of rs's set i, if it is counted and comes or gains elements. */
static int shape_add(const struct delta_ctx *x, size_t i, struct pc_strbuf **shapes, size_t *n,
		     size_t *cap)
{
	const struct pc_nft_object *o = &x->rs->objs[i];
	struct pc_strbuf *s;

	if (o->kind != PC_NFT_SET || !pc_nl_set_counted(o->obj) ||
	    !(set_comes(x, o) || shared_gains(x->rs, i)))
		return 0;
	s = PC_ARRAY_PUSH(*shapes, *n, *cap);
	if (!s)
		return -ENOMEM;
	*s = (struct pc_strbuf){ 0 };
	name_shape(object_name(o), s);
	return s->buf ? 0 : -ENOMEM;
}

/* Does a new rule come that goes on with no old rule's counter? */
static bool rules_orphaned(const struct delta_ctx *x)
{
	for (size_t c = 0; c < x->n.n; c++)
		for (size_t j = 0; j < x->n.by_chain[c].n; j++)
			if (x->n.by_chain[c].items[j].match < 0 && x->n.by_chain[c].items[j].carry < 0)
				return true;
	return false;
}

static int carry_load(struct delta_ctx *x)
{
	const struct pc_shared_edit *sh = x->rs->shared;
	struct pc_strbuf *shapes = NULL;
	size_t n = 0, cap = 0;
	bool renamed = x->gone.n > 0, orphans;
	int r = 0;

	for (size_t k = 0; !renamed && k < side_n(&x->n); k++) {
		const struct pc_nft_object *o = &x->rs->objs[side_at(&x->n, k)];

		renamed = o->kind == PC_NFT_SET && !counterpart(&x->o, o);
	}
	/* The sets that come, and the shared ones that gain (wherever they are). */
	for (size_t k = 0; renamed && r >= 0 && k < side_n(&x->n); k++)
		r = shape_add(x, side_at(&x->n, k), &shapes, &n, &cap);
	for (size_t k = 0; renamed && r >= 0 && sh && k < sh->add.n_sets; k++)
		r = shape_add(x, sh->add.sets[k].obj, &shapes, &n, &cap);
	/* What shared maps lose goes with its counters to the sets that come. */
	for (size_t i = 0; n && r >= 0 && x->rs->shared && i < x->rs->shared->del.n_sets; i++)
		r = elem_carry_load_elems(x->nl, &x->carry, x->rs->shared->del.sets[i].elems);
	/* And the sets that go when a new rule goes on with nothing: a run's
	 * rule become a rule of its own takes what its elements counted. */
	orphans = rules_orphaned(x);
	for (size_t k = 0; (n || orphans) && r >= 0 && k < side_n(&x->o); k++) {
		const struct pc_nft_object *o = &x->old->objs[side_at(&x->o, k)];
		const struct pc_nft_object *c;
		bool gone;

		if (o->kind != PC_NFT_SET || !pc_nl_set_counted(o->obj))
			continue;
		c = counterpart(&x->n, o);
		gone = !c || names_find(&x->gone, object_name(o));
		if (shape_wanted(shapes, n, object_name(o)) ? gone || set_comes(x, c)
							    : orphans && gone &&
								      run_set_name(object_name(o)))
			r = elem_carry_load(x->nl, &x->carry, o->obj, gone ? NULL : c->obj);
	}
	for (size_t i = 0; i < n; i++)
		pc_strbuf_free(&shapes[i]);
	free(shapes);
	return r;
}

static int sets_change(struct delta_ctx *x)
{
	/* Ban elements the kernel let lapse are neither deleted nor missed. */
	struct elem_lapse lapse = { .clock_ms = x->old->bans_clock_ms,
				    .by_ms = elem_lapse_now_ms() + ELEM_LAPSE_MARGIN_MS };
	int r = x->nl ? carry_load(x) : 0;
	const struct pc_shared_edit *sh = x->rs->shared;

	/* Shared maps that lose elements (a port run cut in two) or gain
	 * them (two joined), these with the counters of what they were. */
	for (size_t i = 0; r >= 0 && sh && i < sh->del.n_sets; i++)
		r = diff_build_set_elems(x->b, sh->del.sets[i].elems, (ssize_t)sh->del.sets[i].obj,
					 false);
	for (size_t i = 0; r >= 0 && sh && i < sh->add.n_sets; i++) {
		struct nftnl_set *dels = NULL;

		/* A rule's range cut in two, or pieces made one (a rule's
		 * element change sent with others): counters go on, as
		 * pc_nl_apply_elem_change has them. */
		for (size_t j = 0; x->nl && j < sh->del.n_sets; j++)
			if (sh->del.sets[j].obj == sh->add.sets[i].obj)
				dels = sh->del.sets[j].elems;
		r = dels ? diff_build_set_elems_pieces(x->nl, x->b, sh->add.sets[i].elems, dels,
						       (ssize_t)sh->add.sets[i].obj)
			 : diff_build_set_elems_carried(x->b, sh->add.sets[i].elems,
							(ssize_t)sh->add.sets[i].obj, &x->carry);
	}
	if (r < 0)
		return r;
	x->d->counts.elems_deleted += sh ? sh->del.n_ports : 0;
	x->d->counts.elems_added += sh ? sh->add.n_ports : 0;
	r = 1;

	/* Sets that stay: their elements. */
	for (size_t k = 0; r > 0 && k < side_n(&x->n); k++) {
		size_t i = side_at(&x->n, k);
		const struct pc_nft_object *o = &x->rs->objs[i];
		const struct pc_nft_object *c;

		if (o->kind != PC_NFT_SET)
			continue;
		c = counterpart(&x->o, o);
		/* One object in both (pc_ruleset_chain_remake shares them). */
		if (!c || c->obj == o->obj || names_find(&x->gone, object_name(o)) ||
		    (o->elems_digest && o->elems_digest == c->elems_digest))
			continue;
		if (o->elems_digest && c->elems_digest)
			r = diff_set_sorted(x->b, o->obj, c->obj, (ssize_t)i,
					    &x->d->counts.elems_added, &x->d->counts.elems_deleted);
		else
			r = diff_set(x->nl, x->b, o->obj, c->obj, (ssize_t)i, &lapse, &x->carry,
				     &x->d->counts.elems_added, &x->d->counts.elems_deleted);
	}
	/* Sets that go, or come back with another definition. */
	for (size_t i = 0; r > 0 && i < x->gone.n; i++) {
		r = put_delete(x->b, NFT_MSG_DELSET, &x->old->objs[x->gone.items[i].obj], 0,
			       "set delete");
		x->d->counts.sets_deleted++;
		r = r < 0 ? r : 1;
	}
	for (size_t k = 0; r > 0 && k < side_n(&x->n); k++) {
		size_t i = side_at(&x->n, k);
		const struct pc_nft_object *o = &x->rs->objs[i];

		if (o->kind != PC_NFT_SET)
			continue;
		if (counterpart(&x->o, o) && !names_find(&x->gone, object_name(o)))
			continue;
		r = put_set_carried(x->b, o->obj, (ssize_t)i, &x->carry);
		x->d->counts.sets_added++;
		r = r < 0 ? r : 1;
	}
	return r;
}

/* The counter of the old rule of chain and handle that a new rule or
 * element goes on with. The first few are asked for one by one (the kernel
 * walks the rule's chain, a block at most); past those, a chain's rules are
 * read with one dump of it (a block that went: its rules moved to the one
 * before), and past a few chains every rule of the table at once (a reload
 * that renames thousands). */

static bool counters_chain_read(const struct delta_ctx *x, const char *chain)
{
	for (size_t i = 0; i < x->n_ctr_chains; i++)
		if (streq(x->ctr_chains[i], chain))
			return true;
	return false;
}

static int counters_read(struct delta_ctx *x, const char *chain)
{
	struct rule_counter *more = NULL, *v;
	size_t n_more = 0;
	int r;

	if (x->n_ctr_chains == RULE_COUNTERS_CHAINS_MAX) {
		free(x->ctr);
		x->ctr = NULL;
		x->n_ctr = 0;
		x->ctr_all = true;
		chain = NULL;
	}
	/* A dump that others' commits cut short (to their own tables, most
	 * often) still holds what each rule it read counted, by handle: read
	 * on (a rule missed carries nothing). Against one committing without
	 * pause, a dump of thousands of rules is always cut short. */
	x->nl->dump_intr_read = true;
	r = rule_counters_read(x->nl, chain, &more, &n_more);
	x->nl->dump_intr_read = false;
	if (r >= 0 && chain)
		x->ctr_chains[x->n_ctr_chains++] = chain;
	if (r < 0 || !n_more) {
		free(more);
		return r;
	}
	v = realloc(x->ctr, (x->n_ctr + n_more) * sizeof(*v));
	if (!v) {
		free(more);
		return -ENOMEM;
	}
	memcpy(v + x->n_ctr, more, n_more * sizeof(*v));
	free(more);
	x->ctr = v;
	x->n_ctr += n_more;
	qsort(x->ctr, x->n_ctr, sizeof(*x->ctr), rule_counter_cmp);
	return 0;
}

static int old_rule_counter(struct delta_ctx *x, const char *chain, uint64_t handle,
			    uint64_t *packets, uint64_t *bytes)
{
	struct rule_counter key = { .handle = handle };
	const struct rule_counter *c;
	int r = 0;

	if (!x->ctr_all && x->n_asked < RULE_COUNTERS_ASKED_MAX) {
		x->n_asked++;
		return rule_counter_read(x->nl, chain, handle, packets, bytes);
	}
	if (!x->ctr_all && !counters_chain_read(x, chain))
		r = counters_read(x, chain);
	c = r >= 0 && x->n_ctr ? bsearch(&key, x->ctr, x->n_ctr, sizeof(*x->ctr), rule_counter_cmp)
			       : NULL;
	*packets = c ? c->packets : 0;
	*bytes = c ? c->bytes : 0;
	return r;
}

/* struct elem_carry's rule_ctr. */
static int rule_ctr_get(void *ctx, const char *chain, uint64_t handle, uint64_t *packets,
			uint64_t *bytes)
{
	return old_rule_counter(ctx, chain, handle, packets, bytes);
}

static struct gap *gap_of(struct delta_ctx *x, uint32_t key, bool add)
{
	struct gap *g;

	for (size_t i = 0; i < x->n_gaps; i++)
		if (x->gaps[i].key == key)
			return &x->gaps[i];
	if (!add || !(g = PC_ARRAY_PUSH(x->gaps, x->n_gaps, x->cap_gaps)))
		return NULL;
	*g = (struct gap){ .key = key };
	return g;
}

/* The rule of rs's chain name that closes its changes: its handle, 0 for
 * the chain's end; *pos: its index in rs, at least its place in the chain. */
static uint64_t gap_closer(struct delta_ctx *x, const char *name, size_t *pos)
{
	struct gap *g = x->gaps ? gap_of(x, pc_chain_key(name), false) : NULL;

	if (!g || !g->closer[0])
		return 0;
	*pos = g->pos;
	return g->handle;
}

/* The rules of rs's chain that do not stay, each before the next rule
 * that does (or at the end): their order is rs's. Rules that come
 * together go each after the one before it, by its id in the batch, where
 * that is cheaper than the kernel's walk to the kept rule's handle. */
static int chain_rules_add(struct delta_ctx *x, struct chain_rules *nc)
{
	const struct chain_rules *oc = side_chain(&x->o, nc->name);
	struct rule_place *at = calloc(nc->n ? nc->n : 1, sizeof(*at));
	size_t *pos = calloc(nc->n ? nc->n : 1, sizeof(*pos));
	struct rule_place next = { 0 };
	size_t next_pos = 0;
	int r = 0;

	if (!at || !pos) {
		free(at);
		free(pos);
		return -ENOMEM;
	}
	next.before = gap_closer(x, nc->name, &next_pos);
	for (size_t i = nc->n; i-- > 0;) {
		struct rule_ref *n = &nc->items[i];

		at[i] = next;
		pos[i] = next_pos;
		if (oc && rule_kept(oc, n)) {
			next.before = x->old->objs[oc->items[n->match].obj].handle;
			next_pos = oc->items[n->match].obj;
			x->d->handles[n->obj] = next.before;
		}
	}
	for (size_t i = 0; r >= 0 && i < nc->n; i++) {
		struct rule_ref *n = &nc->items[i];
		struct rule_place place = at[i];

		if (oc && rule_kept(oc, n))
			continue;
		if (place.before && i > 0 && !(oc && rule_kept(oc, &nc->items[i - 1])) &&
		    batch_rule_id_cheaper(x->b, pos[i]))
			place.after_id = x->b->last_rule_id;
		if (oc && (n->match >= 0 || n->carry >= 0)) {
			/* Only its comment changed (a line above it came or
			 * went), or it carries on an old rule's count (a
			 * rename): the counter goes on where it was. */
			const struct pc_nft_object *was =
				&x->old->objs[oc->items[n->match >= 0 ? n->match : n->carry].obj];
			uint64_t packets, bytes;

			r = old_rule_counter(x, oc->name, was->handle, &packets, &bytes);
			if (r >= 0)
				r = put_rule_from(x->b, x->rs, n->obj, place, packets, bytes);
			if (n->match >= 0)
				x->d->counts.rules_replaced++;
			else
				x->d->counts.rules_added++;
		} else if (n->moved) {
			uint64_t packets, bytes;

			r = old_rule_counter(x, n->moved_chain, x->old->objs[n->moved->obj].handle,
					     &packets, &bytes);
			if (r >= 0)
				r = put_rule_from(x->b, x->rs, n->obj, place, packets, bytes);
			x->d->counts.rules_added++;
		} else {
			uint64_t packets, bytes;

			/* A run's rule become a rule of its own goes on with
			 * what its elements counted. */
			ref_udata_read(n);
			r = elem_carry_take_comment(&x->carry, n->rule, n->udata, n->udata_len,
						    &packets, &bytes);
			if (r > 0)
				r = put_rule_from(x->b, x->rs, n->obj, place, packets, bytes);
			else if (r == 0)
				r = put_rule_at(x->b, x->rs->objs[n->obj].obj, (ssize_t)n->obj,
						place);
			x->d->counts.rules_added++;
		}
	}
	free(at);
	free(pos);
	return r;
}

static int chains_delete(struct delta_ctx *x)
{
	int r = 0;

	for (size_t k = 0; r >= 0 && k < side_n(&x->o); k++) {
		const struct pc_nft_object *o = &x->old->objs[side_at(&x->o, k)];

		if (o->kind != PC_NFT_CHAIN || counterpart(&x->n, o))
			continue;
		r = put_delete(x->b, NFT_MSG_DELCHAIN, o, 0, "chain delete");
		x->d->counts.chains_deleted++;
	}
	return r;
}

/*
 * In the order the kernel needs: new chains (rules and map elements may
 * jump to them); the rules that go (they hold the sets and chains that
 * go); element changes of sets that stay; sets that go, then new ones;
 * new rules at their places; chains that go, now unused.
 */
static int delta_emit(struct delta_ctx *x)
{
	int r = chains_add(x);

	if (r > 0)
		r = rules_delete(x);
	if (r > 0)
		r = sets_change(x);
	for (size_t c = 0; r > 0 && c < x->n.n; c++) {
		r = chain_rules_add(x, &x->n.by_chain[c]);
		r = r < 0 ? r : 1;
	}
	if (r > 0) {
		r = chains_delete(x);
		r = r < 0 ? r : 1;
	}
	return r;
}

static void sides_free(struct delta_ctx *x)
{
	side_free(&x->o, &x->d->counts.rules_signed);
	side_free(&x->n, &x->d->counts.rules_signed);
	free(x->gone.items);
	free(x->gaps);
	x->o = (struct side){ .rs = x->old };
	x->n = (struct side){ .rs = x->rs };
	x->gone = (struct names){ 0 };
	x->gaps = NULL;
	x->n_gaps = x->cap_gaps = x->n_unclosed = 0;
}

/* Back to comparing every object: nothing loaded, no handle carried. */
static void compare_whole(struct delta_ctx *x)
{
	sides_free(x);
	memset(x->d->handles, 0, x->rs->n_objs * sizeof(*x->d->handles));
}

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

	return (x > y) - (x < y);
}

/* A rule of side s (0: rs, 1: old) that differs, in chain key: its
 * chain's changes must lie together. */
static bool gap_open(struct delta_ctx *x, int s, uint32_t key)
{
	struct gap *g = key ? gap_of(x, key, true) : NULL;

	if (!g || g->closed[s])
		return false;
	x->n_unclosed += !g->open[s];
	g->open[s] = true;
	return true;
}

/* A rule both sides keep, rs's i-th and old's j-th: it closes its
 * chain's changes where they are open. */
static bool gap_close(struct delta_ctx *x, size_t i, size_t j)
{
	const struct pc_nft_object *o = &x->rs->objs[i];
	struct gap *g;

	if (!o->chain_key)
		return false;
	/* Most kept rules are far from any change: nothing to close. */
	g = x->n_unclosed ? gap_of(x, o->chain_key, false) : NULL;
	for (int s = 0; g && s < 2; s++)
		if (g->open[s] && !g->closed[s]) {
			x->n_unclosed--;
			g->closed[s] = true;
			g->closer[s] = o->obj;
			if (s == 0) {
				g->handle = x->old->objs[j].handle;
				g->pos = i;
			}
		}
	return true;
}

/*
 * The objects that differ, when rs was made in place from old (it shares
 * the objects it did not change, in the same order, and lists the ones it
 * left out): the sides' idx, the kept objects' handles carried, and where
 * each chain changes. Only those are compared, so a change costs what it
 * changed, not the 20,000 rules around it. Left as it is (all compared)
 * when rs was made otherwise, or a chain changes in two places, or its
 * rules went from one place and came at another (a rule moved).
 */
static int islands_find(struct delta_ctx *x)
{
	const struct pc_nft_object *n = x->rs->objs, *o = x->old->objs;
	size_t nn = x->rs->n_objs, no = x->old->n_objs, i = 0, j = 0, cap_n = 0, cap_o = 0;
	_cleanup_free_ const void **dropped = NULL;
	/* The same ruleset on both sides (a start that a memo says the
	 * kernel holds): every object stays. */
	bool ok = x->rs->dropped != NULL || x->rs == x->old;

	/* An idx, empty too, says that only those objects differ. */
	if (ok && (!(dropped = calloc(x->rs->n_dropped + 1, sizeof(*dropped))) ||
		   !(x->n.idx = calloc(1, sizeof(*x->n.idx))) ||
		   !(x->o.idx = calloc(1, sizeof(*x->o.idx)))))
		return -ENOMEM;
	cap_n = cap_o = ok;
	for (size_t k = 0; ok && k < x->rs->n_dropped; k++)
		dropped[k] = x->rs->dropped[k].obj;
	if (ok && x->rs->n_dropped > 1)
		qsort(dropped, x->rs->n_dropped, sizeof(*dropped), ptr_cmp);
	while (ok && (i < nn || j < no)) {
		bool moved = false;

		if (i < nn && j < no && n[i].obj == o[j].obj && n[i].kind == o[j].kind) {
			ok = n[i].kind != PC_NFT_RULE || gap_close(x, i, j);
			x->d->handles[i++] = o[j++].handle;
			continue;
		}
		for (; ok && i < nn && !n[i].shared; i++, moved = true) {
			ok = (n[i].kind != PC_NFT_RULE || gap_open(x, 0, n[i].chain_key)) &&
			     PC_ARRAY_PUSH(x->n.idx, x->n.n_idx, cap_n);
			if (ok)
				x->n.idx[x->n.n_idx - 1] = i;
		}
		for (; ok && j < no &&
		       bsearch(&o[j].obj, dropped, x->rs->n_dropped, sizeof(*dropped), ptr_cmp);
		     j++, moved = true) {
			ok = (o[j].kind != PC_NFT_RULE || gap_open(x, 1, o[j].chain_key)) &&
			     PC_ARRAY_PUSH(x->o.idx, x->o.n_idx, cap_o);
			if (ok)
				x->o.idx[x->o.n_idx - 1] = j;
		}
		ok = ok && moved;
	}
	/* A chain's changes on both sides: at the same place. */
	for (size_t k = 0; ok && k < x->n_gaps; k++)
		ok = !x->gaps[k].open[0] || !x->gaps[k].open[1] ||
		     x->gaps[k].closer[0] == x->gaps[k].closer[1];
	if (!ok)
		compare_whole(x);
	return 0;
}

/* Whether every set that goes is gone from rs, not made again otherwise:
 * then no rule rs keeps names it (pc_ruleset_chain_remake leaves out an
 * entry's sets with all of the entry's rules, a zone's meters with its
 * last limit), and the rules that did are among those that differ. */
static bool gone_left_out(const struct delta_ctx *x)
{
	for (size_t i = 0; i < x->gone.n; i++)
		if (counterpart(&x->n, &x->old->objs[x->gone.items[i].obj]))
			return false;
	return true;
}

/* The length of a chain's name without its block's part ("in_public" of
 * "in_public_B…"; no zone's name has an upper-case letter). */
static size_t chain_base_len(const char *name)
{
	const char *b = strstr(name, "_B");

	return b ? (size_t)(b - name) : strlen(name);
}

struct move {
	struct rule_ref *ref;
	const char *chain;
};

static int move_cmp(const void *a, const void *b)
{
	const struct rule_ref *x = ((const struct move *)a)->ref, *y = ((const struct move *)b)->ref;
	int c = strcmp(x->sig.buf, y->sig.buf);

	if (c)
		return c;
	if (x->udata_len != y->udata_len)
		return x->udata_len < y->udata_len ? -1 : 1;
	return x->udata_len ? memcmp(x->udata, y->udata, x->udata_len) : 0;
}

/* Rules that move between a zone chain and its blocks (a block made or
 * unmade by a reload, entries that change blocks): an old rule that no
 * rule of its chain stays as or goes on from, the same as a new one, its
 * comment too, in another chain of the same zone chain; the new one goes
 * on with its counter (nftables moves no rule between chains). */
static int chains_moves(struct delta_ctx *x)
{
	_cleanup_free_ struct move *olds = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	for (size_t c = 0; c < x->o.n; c++)
		for (size_t i = 0; i < x->o.by_chain[c].n; i++) {
			struct rule_ref *ref = &x->o.by_chain[c].items[i];
			struct move *m;

			if (ref->match >= 0 || ref->carried || ref->doomed)
				continue;
			if (ref_signed(ref) < 0 || !(m = PC_ARRAY_PUSH(olds, n, cap)))
				return -ENOMEM;
			ref_udata_read(ref);
			*m = (struct move){ .ref = ref, .chain = x->o.by_chain[c].name };
		}
	if (n == 0)
		return 0;
	qsort(olds, n, sizeof(*olds), move_cmp);
	for (size_t c = 0; r >= 0 && c < x->n.n; c++)
		for (size_t j = 0; j < x->n.by_chain[c].n; j++) {
			struct rule_ref *ref = &x->n.by_chain[c].items[j];
			const char *chain = x->n.by_chain[c].name;
			struct move key = { .ref = ref }, *m;

			if (ref->match >= 0 || ref->carry >= 0)
				continue;
			if (ref_signed(ref) < 0) {
				r = -ENOMEM;
				break;
			}
			ref_udata_read(ref);
			m = bsearch(&key, olds, n, sizeof(*olds), move_cmp);
			/* The first of equals not yet taken, of the same zone chain. */
			while (m && m > olds && !move_cmp(m - 1, &key))
				m--;
			while (m && m < olds + n && !move_cmp(m, &key) &&
			       (m->ref->carried || chain_base_len(m->chain) != chain_base_len(chain) ||
				strncmp(m->chain, chain, chain_base_len(chain)) || streq(m->chain, chain)))
				m++;
			if (!m || m == olds + n || move_cmp(m, &key))
				continue;
			m->ref->carried = true;
			ref->moved = m->ref;
			ref->moved_chain = m->chain;
		}
	return r;
}

/* Both sides loaded and their rules paired, over what differs. A set that
 * goes (or comes back otherwise) takes every rule using it along, wherever
 * it is: then the whole rulesets are compared, unless the change made in
 * place left it out with its rules (gone_left_out). */
static int sides_load(struct delta_ctx *x)
{
	int r = side_load(&x->n, NULL);

	if (r >= 0)
		r = names_load(&x->o.sets, &x->o, PC_NFT_SET);
	if (r >= 0)
		r = sets_gone(&x->o, &x->n, &x->gone);
	/* Made in place, a set that goes with every rule of its own (an
	 * entry's, a zone's meters) leaves no rule elsewhere to compare. */
	if (r >= 0 && x->gone.n && x->n.idx && !gone_left_out(x)) {
		compare_whole(x);
		return sides_load(x);
	}
	if (r >= 0) {
		free(x->o.sets.items);
		x->o.sets = (struct names){ 0 };
		r = side_load(&x->o, &x->gone);
	}
	for (size_t c = 0; r >= 0 && c < x->o.n; c++) {
		struct chain_rules *nc = side_chain(&x->n, x->o.by_chain[c].name);

		if (nc)
			r = chain_align(&x->o.by_chain[c], nc);
		if (nc && r >= 0)
			r = chain_carry(&x->o.by_chain[c], nc);
	}
	return r < 0 ? r : chains_moves(x);
}

int delta_build(struct pc_nl *nl, struct batch *b, const struct pc_ruleset *rs,
		const struct pc_ruleset *old, struct delta *d)
{
	struct delta_ctx x = { .nl = nl, .b = b, .rs = rs, .old = old, .d = d,
			       .o = { .rs = old },
			       .n = { .rs = rs },
			       .carry = { .looks_left = 1u << 20, .rule_ctr = rule_ctr_get } };
	int r;

	x.carry.ctx = &x;
	d->handles = calloc(rs->n_objs ? rs->n_objs : 1, sizeof(*d->handles));
	if (!d->handles)
		return -ENOMEM;
	r = islands_find(&x);
	if (r >= 0)
		r = sides_load(&x);
	if (r >= 0)
		r = delta_emit(&x);
	sides_free(&x);
	elem_carry_free(&x.carry);
	free(x.ctr);
	return r;
}
