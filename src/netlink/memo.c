/* A restart that does not read the table back. At a clean stop the daemon
 * keeps a memo of what the kernel holds: a digest of its ruleset (the one
 * it installed last, nobody having committed since), its rules' kernel
 * handles, the generation, and which boot and network namespace that was.
 * Every change to any nftables table moves the generation, so when a start
 * finds the same generation in the same namespace and compiles a ruleset of
 * the same digest, the kernel holds exactly that ruleset: its rules'
 * handles come from the memo, not from a dump of 20,000 rules. */
#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "internal.h"
#include "portctl/util.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

#define MEMO_HEAD "portctl table memo 1\n"
#define MEMO_BOOT_ID "/proc/sys/kernel/random/boot_id"
/* More rules than any table holds: a bigger count is a damaged memo. */
#define MEMO_RULES_MAX (1u << 24)

static void memo_forget(struct pc_nl *nl)
{
	free(nl->memo.handles);
	nl->memo = (struct nl_memo){ 0 };
}

/* A chain's rules: how many so far (a rule's rank in its chain), and
 * where they start in the canonical order. Rulesets made in place hold
 * their sets and chains in another order than a compile of the same
 * configuration, never a chain's rules. */
struct chain_rank {
	const char *name;
	uint64_t hash;
	size_t n, base;
};

/* chain name's slot in an open-addressing table of cap (a power of two,
 * bigger than the chains); -1 when full. */
static ssize_t chain_slot(struct chain_rank *t, size_t cap, const char *name, uint64_t hash)
{
	for (size_t i = hash & (cap - 1), k = 0; k < cap; i = (i + 1) & (cap - 1), k++) {
		if (!t[i].name)
			t[i] = (struct chain_rank){ .name = name, .hash = hash };
		if (t[i].hash == hash && streq(t[i].name, name))
			return (ssize_t)i;
	}
	return -1;
}

static int chain_cmp(const void *a, const void *b)
{
	const struct chain_rank *x = *(const struct chain_rank *const *)a;
	const struct chain_rank *y = *(const struct chain_rank *const *)b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return strcmp(x->name, y->name);
}

struct digest {
	uint64_t sum, n;
	struct pc_strbuf b;
	const char *set;
	uint64_t clock_ms;
	/* The rules' objects in canonical order: by chain (its name's hash,
	 * then name), then rank. */
	size_t *rules;
	size_t n_rules;
};

static void digest_free(struct digest *g)
{
	pc_strbuf_free(&g->b);
	free(g->rules);
}

/* Eight bytes at a time, then a finaliser: sums of such values do not
 * cancel out by accident. */
static uint64_t words_hash(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s + i, n - i);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

/* The bytes gathered in g->b, one more object or element of the sum. */
static void digest_take(struct digest *g)
{
	g->sum += words_hash(g->b.buf, g->b.len);
	g->n++;
	g->b.len = 0;
}

static int put_bytes(struct pc_strbuf *b, uint16_t attr, const void *v, uint32_t len)
{
	if (!v)
		return 0;
	return attr_head_put(b, attr, len) < 0 || bytes_put(b, v, len) < 0 ? -ENOMEM : 0;
}

static int put_attrs(struct pc_strbuf *b, const void *obj, const uint16_t *attrs, size_t n,
		     bool (*is_set)(const void *, uint16_t),
		     const void *(*get)(const void *, uint16_t, uint32_t *))
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < n; i++) {
		uint32_t len = 0;

		if (is_set(obj, attrs[i]))
			r = put_bytes(b, attrs[i], get(obj, attrs[i], &len), len);
	}
	return r;
}

static bool chain_is(const void *c, uint16_t a) { return nftnl_chain_is_set(c, a); }
static const void *chain_get(const void *c, uint16_t a, uint32_t *len)
{
	return nftnl_chain_get_data(c, a, len);
}
static bool set_is(const void *s, uint16_t a) { return nftnl_set_is_set(s, a); }
static const void *set_get(const void *s, uint16_t a, uint32_t *len)
{
	return nftnl_set_get_data(s, a, len);
}
static bool elem_is(const void *e, uint16_t a) { return nftnl_set_elem_is_set(e, a); }
static const void *elem_get(const void *e, uint16_t a, uint32_t *len)
{
	return nftnl_set_elem_get((struct nftnl_set_elem *)e, a, len);
}

static const uint16_t chain_attrs[] = {
	NFTNL_CHAIN_NAME, NFTNL_CHAIN_TYPE,  NFTNL_CHAIN_HOOKNUM,  NFTNL_CHAIN_PRIO,
	NFTNL_CHAIN_POLICY, NFTNL_CHAIN_FLAGS, NFTNL_CHAIN_USERDATA,
};
/* Not its id (a name within one transaction) nor its handle. */
static const uint16_t set_attrs[] = {
	NFTNL_SET_NAME,     NFTNL_SET_FLAGS,   NFTNL_SET_KEY_TYPE, NFTNL_SET_KEY_LEN,
	NFTNL_SET_DATA_TYPE, NFTNL_SET_DATA_LEN, NFTNL_SET_POLICY,  NFTNL_SET_DESC_SIZE,
	NFTNL_SET_TIMEOUT,  NFTNL_SET_GC_INTERVAL, NFTNL_SET_USERDATA, NFTNL_SET_OBJ_TYPE,
	NFTNL_SET_DESC_CONCAT,
};
static const uint16_t elem_attrs[] = {
	NFTNL_SET_ELEM_FLAGS, NFTNL_SET_ELEM_KEY,  NFTNL_SET_ELEM_KEY_END,  NFTNL_SET_ELEM_VERDICT,
	NFTNL_SET_ELEM_CHAIN, NFTNL_SET_ELEM_DATA, NFTNL_SET_ELEM_USERDATA,
};

/* An element, its set's name with it, in the order-free sum. A ban's
 * timeout counts from the ruleset's clock: what is kept is when it ends. */
static int elem_digest_cb(struct nftnl_set_elem *e, void *data)
{
	struct digest *g = data;
	int r = bytes_put(&g->b, g->set, strlen(g->set) + 1);

	if (r >= 0)
		r = put_attrs(&g->b, e, elem_attrs, ARRAY_SIZE(elem_attrs), elem_is, elem_get);
	if (r >= 0 && nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT)) {
		uint64_t end = g->clock_ms + nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT);

		r = put_bytes(&g->b, NFTNL_SET_ELEM_TIMEOUT, &end, sizeof(end));
	}
	if (r < 0)
		return -1;
	digest_take(g);
	return 0;
}

static int set_digest(struct digest *g, const struct pc_nft_object *o)
{
	struct nftnl_set *s = o->obj;
	int r = bytes_put(&g->b, "S", 1);

	if (r >= 0)
		r = put_attrs(&g->b, s, set_attrs, ARRAY_SIZE(set_attrs), set_is, set_get);
	if (r >= 0 && nftnl_set_expr_foreach(s, expr_bytes_cb, &g->b) < 0)
		r = -EINVAL;
	/* A named address set's digest stands for its 100,000 elements. */
	if (r >= 0 && o->elems_digest)
		r = put_bytes(&g->b, 0, &o->elems_digest, sizeof(o->elems_digest));
	if (r < 0)
		return r;
	digest_take(g);
	if (o->elems_digest)
		return 0;
	g->set = nftnl_set_get_str(s, NFTNL_SET_NAME);
	return nftnl_set_elem_foreach(s, elem_digest_cb, g) < 0 ? -ENOMEM : 0;
}

static int rule_digest(struct digest *g, const struct nftnl_rule *rule, size_t rank)
{
	const char *chain = nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN);
	uint32_t len = 0;
	const void *udata = nftnl_rule_is_set(rule, NFTNL_RULE_USERDATA)
				    ? nftnl_rule_get_data(rule, NFTNL_RULE_USERDATA, &len)
				    : NULL;
	int r = bytes_put(&g->b, "R", 1);

	if (r >= 0)
		r = bytes_put(&g->b, chain, strlen(chain) + 1);
	if (r >= 0)
		r = put_bytes(&g->b, 0, &rank, sizeof(rank));
	if (r >= 0)
		r = put_bytes(&g->b, NFTNL_RULE_USERDATA, udata, len);
	/* An expression of a kind it does not know: no digest, no memo. */
	if (r >= 0 && nftnl_expr_foreach((struct nftnl_rule *)rule, expr_bytes_cb, &g->b) < 0)
		r = -EINVAL;
	if (r >= 0)
		digest_take(g);
	return r;
}

/* rs's digest into g->sum, its rules in canonical order in g->rules. */
static int ruleset_digest(const struct pc_ruleset *rs, struct digest *g)
{
	size_t cap = 16, n_chains = 0, at = 0;
	_cleanup_free_ struct chain_rank *ranks = NULL;
	_cleanup_free_ struct chain_rank **order = NULL;
	_cleanup_free_ size_t *slots = NULL, *objs = NULL;
	int r = 0;

	while (cap < 2 * rs->n_objs)
		cap *= 2;
	ranks = calloc(cap, sizeof(*ranks));
	slots = calloc(rs->n_objs ? rs->n_objs : 1, sizeof(*slots));
	g->rules = calloc(rs->n_objs ? rs->n_objs : 1, sizeof(*g->rules));
	if (!ranks || !slots || !g->rules)
		return -ENOMEM;
	g->clock_ms = rs->bans_clock_ms;
	for (size_t i = 0; r >= 0 && i < rs->n_objs; i++) {
		const struct pc_nft_object *o = &rs->objs[i];
		const char *name;
		ssize_t slot;

		switch (o->kind) {
		case PC_NFT_TABLE:
			name = nftnl_table_get_str(o->obj, NFTNL_TABLE_NAME);
			r = bytes_put(&g->b, "T", 1);
			if (r >= 0)
				r = bytes_put(&g->b, name, strlen(name) + 1);
			if (r >= 0)
				digest_take(g);
			break;
		case PC_NFT_CHAIN:
			r = bytes_put(&g->b, "C", 1);
			if (r >= 0)
				r = put_attrs(&g->b, o->obj, chain_attrs, ARRAY_SIZE(chain_attrs),
					      chain_is, chain_get);
			if (r >= 0)
				digest_take(g);
			break;
		case PC_NFT_SET:
			r = set_digest(g, o);
			break;
		case PC_NFT_RULE:
			name = nftnl_rule_get_str(o->obj, NFTNL_RULE_CHAIN);
			slot = chain_slot(ranks, cap, name, words_hash(name, strlen(name)));
			if (slot < 0) {
				r = -EINVAL;
				break;
			}
			n_chains += ranks[slot].n == 0;
			slots[g->n_rules] = (size_t)slot;
			g->rules[g->n_rules++] = i;
			r = rule_digest(g, o->obj, ranks[slot].n++);
			break;
		}
	}
	order = r >= 0 ? calloc(n_chains ? n_chains : 1, sizeof(*order)) : NULL;
	if (r >= 0 && !order)
		r = -ENOMEM;
	if (r < 0)
		return r;
	for (size_t i = 0, k = 0; i < cap; i++)
		if (ranks[i].n)
			order[k++] = &ranks[i];
	qsort(order, n_chains, sizeof(*order), chain_cmp);
	for (size_t k = 0; k < n_chains; k++) {
		order[k]->base = at;
		at += order[k]->n;
		order[k]->n = 0;
	}
	/* In array order each chain's rules come by rank. */
	objs = malloc((g->n_rules ? g->n_rules : 1) * sizeof(*objs));
	if (!objs)
		return -ENOMEM;
	memcpy(objs, g->rules, g->n_rules * sizeof(*objs));
	for (size_t i = 0; i < g->n_rules; i++) {
		struct chain_rank *c = &ranks[slots[i]];

		g->rules[c->base + c->n++] = objs[i];
	}
	g->sum = words_hash((const char *)&(uint64_t[2]){ g->sum, g->n }, 2 * sizeof(uint64_t));
	return 0;
}

/* This boot's id and our network namespace's cookie: 0, or -errno. */
static int memo_identity(struct pc_nl *nl, char boot[64], uint64_t *netns)
{
	_cleanup_free_ char *id = NULL;
	socklen_t len = sizeof(*netns);
	size_t n = 0;
	int r = pc_read_file(MEMO_BOOT_ID, 63, &id, &n);

	if (r < 0)
		return r;
	while (n > 0 && (id[n - 1] == '\n' || id[n - 1] == ' '))
		n--;
	if (n == 0 || strcspn(id, " \n") < n)
		return -EINVAL;
	memcpy(boot, id, n);
	boot[n] = '\0';
	if (getsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_NETNS_COOKIE, netns, &len) < 0)
		return -errno;
	return 0;
}

int pc_nl_memo_make(struct pc_nl *nl, const struct pc_ruleset *rs, char **out, size_t *out_len)
{
	struct digest g = { 0 };
	struct pc_strbuf t = { 0 };
	uint64_t netns = 0;
	uint32_t genid = 0;
	char boot[64];
	int r;

	*out = NULL;
	*out_len = 0;
	/* Only what our last commit installed, nobody's commit since. */
	if (!rs || !rs->installed || rs->installed != nl->commits || !nl->applied_genid)
		return 0;
	r = pc_nl_genid(nl, &genid);
	if (r < 0 || genid != nl->applied_genid)
		return r < 0 ? r : 0;
	r = memo_identity(nl, boot, &netns);
	if (r >= 0)
		r = ruleset_digest(rs, &g);
	for (size_t i = 0; r >= 0 && i < g.n_rules; i++)
		if (!rs->objs[g.rules[i]].handle)
			r = -ENOENT;
	if (r >= 0)
		r = pc_strbuf_printf(&t, MEMO_HEAD "boot %s\nnetns %" PRIu64 "\ngeneration %" PRIu32
				     "\ndigest %016" PRIx64 "\nrules %zu\n",
				     boot, netns, genid, g.sum, g.n_rules);
	for (size_t i = 0; r >= 0 && i < g.n_rules; i++)
		r = pc_strbuf_printf(&t, "%" PRIu64 "\n", rs->objs[g.rules[i]].handle);
	if (r >= 0)
		r = pc_strbuf_printf(&t, "check %016" PRIx64 "\n", words_hash(t.buf, t.len));
	digest_free(&g);
	if (r < 0) {
		pc_strbuf_free(&t);
		/* A rule without its handle, an expression it cannot digest:
		 * nothing to keep, the next start reads the table. */
		return r == -ENOMEM ? r : 0;
	}
	*out = t.buf;
	*out_len = t.len;
	return 1;
}

/* The value after "WORD " on the line at *p (moved past it), in base. */
static int memo_field(const char **p, const char *end, const char *word, int base, uint64_t *v)
{
	size_t n = strlen(word);
	const char *eol = memchr(*p, '\n', (size_t)(end - *p));
	char *stop;

	if (!eol || (size_t)(eol - *p) <= n || strncmp(*p, word, n) || (*p)[n] != ' ')
		return -EINVAL;
	errno = 0;
	*v = strtoull(*p + n + 1, &stop, base);
	if (errno || stop != eol || *p + n + 1 == stop)
		return -EINVAL;
	*p = eol + 1;
	return 0;
}

int pc_nl_memo_take(struct pc_nl *nl, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *check_at, *eol;
	struct nl_memo *m = &nl->memo;
	uint64_t netns = 0, v, sum, n_rules;
	char boot[64];
	size_t n;
	int r;

	memo_forget(nl);
	nl->memo_outcome = NULL;
	if (len < sizeof(MEMO_HEAD) || memcmp(text, MEMO_HEAD, sizeof(MEMO_HEAD) - 1))
		return 0;
	p += sizeof(MEMO_HEAD) - 1;
	r = memo_identity(nl, boot, &netns);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	n = strlen(boot);
	eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol || eol - p != (ptrdiff_t)(5 + n) || strncmp(p, "boot ", 5) || memcmp(p + 5, boot, n))
		return 0; /* another boot's */
	p = eol + 1;
	if (memo_field(&p, end, "netns", 10, &v) < 0 || v != netns)
		return 0; /* another namespace's */
	r = memo_field(&p, end, "generation", 10, &v);
	m->genid = (uint32_t)v;
	if (r >= 0 && v > UINT32_MAX)
		r = -EINVAL;
	if (r >= 0)
		r = memo_field(&p, end, "digest", 16, &m->digest);
	if (r >= 0)
		r = memo_field(&p, end, "rules", 10, &n_rules);
	if (r >= 0 && n_rules > MEMO_RULES_MAX)
		r = -EINVAL;
	if (r >= 0) {
		m->n_rules = (size_t)n_rules;
		m->handles = calloc(m->n_rules ? m->n_rules : 1, sizeof(*m->handles));
		r = m->handles ? 0 : -ENOMEM;
	}
	for (size_t i = 0; r >= 0 && i < m->n_rules; i++) {
		char *stop;

		eol = memchr(p, '\n', (size_t)(end - p));
		errno = 0;
		m->handles[i] = eol ? strtoull(p, &stop, 10) : 0;
		if (!eol || errno || stop != eol || !m->handles[i])
			r = -EINVAL;
		else
			p = eol + 1;
	}
	check_at = p;
	if (r >= 0)
		r = memo_field(&p, end, "check", 16, &sum);
	if (r >= 0 && (p != end || sum != words_hash(text, (size_t)(check_at - text))))
		r = -EINVAL;
	if (r < 0) {
		memo_forget(nl);
		return r == -ENOMEM ? r : 0;
	}
	m->taken = true;
	return 1;
}

int nl_memo_match(struct pc_nl *nl, const struct pc_ruleset *rs, uint32_t genid)
{
	const struct nl_memo *m = &nl->memo;
	struct digest g = { 0 };
	int r;

	if (!m->taken)
		return 0;
	r = m->genid == genid ? ruleset_digest(rs, &g) : 0;
	if (m->genid != genid)
		nl->memo_outcome = "nftables changed since the stop";
	else if (r < 0)
		nl->memo_outcome = "the ruleset compiled now could not be compared";
	else if (g.sum != m->digest || g.n_rules != m->n_rules)
		nl->memo_outcome = "the ruleset compiled now differs from the one left";
	else {
		nl->memo_outcome = PC_NL_MEMO_TAKEN;
		for (size_t i = 0; i < g.n_rules; i++)
			rs->objs[g.rules[i]].handle = m->handles[i];
		r = 1;
	}
	digest_free(&g);
	memo_forget(nl);
	return r == -ENOMEM ? r : r == 1;
}

const char *pc_nl_memo_outcome(const struct pc_nl *nl)
{
	return nl->memo_outcome;
}
