/* The parser: one grammar for rule files and the command line. Builds zone,
 * service and rule nodes in the configuration's arena; a bad line is
 * reported and skipped so that one pass finds every error of a file. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "lang.h"

enum rule_opt { OPT_ZONE, OPT_FROM, OPT_TO, OPT_RATE, OPT_LOG, OPT_COMMENT, OPT_N };
static const char *const opt_words[OPT_N] = {"zone", "from", "to", "rate", "log", "comment"};

enum zone_opt {
	ZOPT_INTERFACE,
	ZOPT_SOURCE,
	ZOPT_POLICY_IN,
	ZOPT_POLICY_OUT,
	ZOPT_DEFAULT,
	ZOPT_POLICY_FWD,
	ZOPT_LOG_DENIED,
	ZOPT_N
};
/* The words, indexed apart from enum zone_opt: "policy" is two options. */
enum zone_word { ZWORD_INTERFACE, ZWORD_SOURCE, ZWORD_POLICY, ZWORD_DEFAULT, ZWORD_LOG_DENIED };
static const char *const zone_opt_words[] = {
	[ZWORD_INTERFACE] = "interface", [ZWORD_SOURCE] = "source", [ZWORD_POLICY] = "policy",
	[ZWORD_DEFAULT] = "default", [ZWORD_LOG_DENIED] = "log-denied"};
static const char *const statement_words[] = {"allow", "deny",	 "reject", "limit",
					      "zone",  "service", "set"};
/* NAT statements (nat_parse), parsed apart from the filter rules. */
static const char *const nat_words[] = {"forward", "masquerade"};
static const char *const proto_words[] = {"tcp", "udp", "sctp"};
static const char *const unit_words[] = {"second", "minute", "hour"};
static const char *const policy_words[] = {"accept", "drop", "reject"};

/* Scratch lists reused from one statement to the next, so parsing does not
 * malloc per token; a finished statement is copied into the arena. */
struct parser {
	struct pc_config *cfg;
	struct lexer lx;
	struct pc_diags *d;
	enum pc_origin origin;
	struct pc_strbuf text;
	bool joined; /* the last token of text was a comma */
	bool nomem;

	struct pc_port_range *ports;
	size_t n_ports, cap_ports, pending;
	struct pc_name *names; /* services of a rule, interfaces of a zone */
	size_t n_names, cap_names;
	struct pc_name *zones;
	size_t n_zones, cap_zones;
	struct pc_prefix *from; /* also a zone's sources */
	size_t n_from, cap_from;
	struct pc_prefix *to;
	size_t n_to, cap_to;
	/* A protocol rule's ICMP types; where source ports start in ports. */
	uint8_t *types;
	size_t n_types, cap_types;
	uint8_t l4proto;
	bool have_sports;
	size_t sport_at;
	/* "from @NAME" / "to @NAME" of the rule being parsed. */
	struct pc_name from_set, to_set;
	bool in_source; /* a zone's sources: no set there */
};

#define fail(p, loc, hint, ...)                                                                    \
	(pc_diag_add((p)->d, PC_SEV_ERROR, (loc), (hint), __VA_ARGS__), -EINVAL)

static void text_add(struct parser *p, const struct token *t)
{
	int r = 0;

	switch (t->type) {
	case TOK_COMMA:
		r = pc_strbuf_append(&p->text, ",", 1);
		p->joined = true;
		break;
	case TOK_WORD:
	case TOK_STRING:
		if (p->text.len > 0 && !p->joined)
			r = pc_strbuf_append(&p->text, " ", 1);
		if (r >= 0)
			r = t->type == TOK_WORD ? pc_strbuf_append(&p->text, t->start, t->len)
						: quote_append(&p->text, t->str, t->str_len);
		p->joined = false;
		break;
	default:
		return;
	}
	if (r < 0)
		p->nomem = true;
}

static void take(struct parser *p, struct token *t)
{
	lexer_next(&p->lx, t);
	text_add(p, t);
}

static const char *tok_describe(const struct token *t, char *buf, size_t size)
{
	char w[48];

	switch (t->type) {
	case TOK_EOF:
	case TOK_EOL:
		return "end of line";
	case TOK_COMMA:
		return "','";
	case TOK_STRING:
		return "a string";
	default:
		snprintf(buf, size, "'%s'", word_quote(w, sizeof(w), t->start, t->len));
		return buf;
	}
}

/* An error at t, unless the lexer already reported one there. */
static int expected(struct parser *p, const struct token *t, const char *what, const char *after)
{
	char buf[64];

	if (t->type == TOK_ERROR)
		return -EINVAL;
	return fail(p, &t->loc, NULL, "expected %s after '%s', got %s", what, after,
		    tok_describe(t, buf, sizeof(buf)));
}

static char *arena_word(struct parser *p, const char *s, size_t len)
{
	char *c = pc_arena_strndup(p->cfg->arena, s, len);

	if (!c)
		p->nomem = true;
	return c;
}

static void *arena_copy(struct parser *p, const void *src, size_t n, size_t size)
{
	void *c;

	if (n == 0)
		return NULL;
	c = pc_arena_alloc(p->cfg->arena, n * size);
	if (!c) {
		p->nomem = true;
		return NULL;
	}
	return memcpy(c, src, n * size);
}

static int word_index(const struct token *t, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tok_is(t, words[i]))
			return i;
	return -1;
}

/* A word that is not one of words: the error names them, with a hint. */
static int word_unknown(struct parser *p, const struct token *t, const char *what,
			const char *const *words, size_t n)
{
	char w[48], hint[96];
	const char *s = suggest_from(t->start, t->len, words, n);

	if (s)
		snprintf(hint, sizeof(hint), "did you mean '%s'?", s);
	return fail(p, &t->loc, s ? hint : NULL, "unknown %s '%s'", what,
		    word_quote(w, sizeof(w), t->start, t->len));
}

typedef int (*item_fn)(struct parser *p, const struct token *t);

/* item { "," item }: each item is one word. */
static int list_parse(struct parser *p, const char *what, const char *after, item_fn fn)
{
	struct token t;
	int r;

	for (;;) {
		take(p, &t);
		if (t.type != TOK_WORD)
			return expected(p, &t, what, after);
		r = fn(p, &t);
		if (r < 0)
			return r;
		if (lexer_peek(&p->lx)->type != TOK_COMMA)
			return 0;
		take(p, &t);
		after = ",";
	}
}

static int proto_parse(struct parser *p, const struct token *t, size_t off, uint8_t *protos)
{
	struct token pt = *t;
	int i;

	pt.start += off;
	pt.len -= off;
	pt.loc = loc_sub(&t->loc, off, pt.len);
	i = word_index(&pt, proto_words, ARRAY_SIZE(proto_words));
	if (i < 0)
		return word_unknown(p, &pt, "protocol", proto_words, ARRAY_SIZE(proto_words));
	*protos = 1u << i;
	return 0;
}

/* PORT [ "-" PORT ] [ "/" PROTO ]; a protocol also applies to the items
 * before it that had none. */
static int port_item_parse(struct parser *p, const struct token *t)
{
	const char *slash = memchr(t->start, '/', t->len);
	size_t n = slash ? (size_t)(slash - t->start) : t->len;
	struct pc_loc loc = loc_sub(&t->loc, 0, n);
	struct pc_port_range r = {0};
	uint8_t protos = 0;

	if (port_range_parse(&r, t->start, n, &loc, p->d) < 0)
		return -EINVAL;
	if (slash && proto_parse(p, t, n + 1, &protos) < 0)
		return -EINVAL;
	r.loc = t->loc;

	struct pc_port_range *slot = PC_ARRAY_PUSH(p->ports, p->n_ports, p->cap_ports);

	if (!slot) {
		p->nomem = true;
		return -ENOMEM;
	}
	*slot = r;
	if (protos) {
		for (size_t i = p->pending; i < p->n_ports; i++)
			p->ports[i].protos = protos;
		p->pending = p->n_ports;
	}
	return 0;
}

static void ports_finish(struct parser *p)
{
	for (size_t i = p->pending; i < p->n_ports; i++)
		p->ports[i].protos = PC_PROTO_DEFAULT;
	p->pending = p->n_ports;
}

static bool word_is_port(const struct token *t)
{
	return t->len > 0 && t->start[0] >= '0' && t->start[0] <= '9';
}

static int name_push(struct parser *p, struct pc_name **v, size_t *n, size_t *cap,
		     const struct token *t)
{
	struct pc_name *slot = pc_array_push((void **)v, n, cap, sizeof(**v));

	if (!slot || !(slot->name = arena_word(p, t->start, t->len))) {
		p->nomem = true;
		return -ENOMEM;
	}
	slot->loc = t->loc;
	return 0;
}

/* A zone or service name where one is defined or referred to. */
static int name_check(struct parser *p, const struct token *t, const char *what)
{
	char w[48];

	if (name_is_valid(t->start, t->len))
		return 0;
	if (keyword_is(t->start, t->len))
		return fail(p, &t->loc, "choose another name",
			    "'%s' is a keyword and cannot name a %s",
			    word_quote(w, sizeof(w), t->start, t->len), what);
	return fail(p, &t->loc,
		    "a name is a lower-case letter, then up to 31 of a-z, 0-9, '_' and '-'",
		    "invalid %s name '%s'", what, word_quote(w, sizeof(w), t->start, t->len));
}

/* The directions a rule or a zone policy names, indexed by enum pc_dir. */
static const char *const dir_words[PC_N_DIRS] = {"in", "out", "forward"};

static int dir_word(const struct token *t)
{
	return word_index(t, dir_words, PC_N_DIRS);
}

static int target_item_parse(struct parser *p, const struct token *t)
{
	char w[48];

	if (word_is_port(t))
		return port_item_parse(p, t);
	if (dir_word(t) >= 0)
		return fail(p, &t->loc, "write it once, right after the action",
			    "the direction '%s' is out of place", dir_words[dir_word(t)]);
	if (keyword_is(t->start, t->len))
		return fail(p, &t->loc, NULL, "expected a port or a service name, got keyword '%s'",
			    word_quote(w, sizeof(w), t->start, t->len));
	if (memchr(t->start, '/', t->len))
		return fail(p, &t->loc, "a service brings its own protocols",
			    "a service name takes no '/PROTO': '%s'",
			    word_quote(w, sizeof(w), t->start, t->len));
	if (name_check(p, t, "service") < 0)
		return -EINVAL;
	return name_push(p, &p->names, &p->n_names, &p->cap_names, t);
}

static int service_port_parse(struct parser *p, const struct token *t)
{
	char w[48];

	if (!word_is_port(t))
		return fail(p, &t->loc, "a service is defined by ports, e.g. 80/tcp,443/tcp",
			    "expected a port, got '%s'",
			    word_quote(w, sizeof(w), t->start, t->len));
	return port_item_parse(p, t);
}

static int sport_item_parse(struct parser *p, const struct token *t)
{
	char w[48];

	if (!word_is_port(t))
		return fail(p, &t->loc, "write source ports as numbers, e.g. port 53/udp",
			    "expected a port, got '%s'",
			    word_quote(w, sizeof(w), t->start, t->len));
	return port_item_parse(p, t);
}

static int zone_name_parse(struct parser *p, const struct token *t)
{
	if (name_check(p, t, "zone") < 0)
		return -EINVAL;
	return name_push(p, &p->zones, &p->n_zones, &p->cap_zones, t);
}

static int ifname_parse(struct parser *p, const struct token *t)
{
	char w[48];

	if (!ifname_is_valid(t->start, t->len))
		return fail(p, &t->loc,
			    "1-15 bytes of A-Z, a-z, 0-9, '_', '.', ':', '@' and '-', "
			    "or a prefix and '*' (br-*)",
			    "invalid interface name '%s'",
			    word_quote(w, sizeof(w), t->start, t->len));
	return name_push(p, &p->names, &p->n_names, &p->cap_names, t);
}

static int addr_push(struct parser *p, struct pc_prefix **v, size_t *n, size_t *cap,
		     const struct token *t)
{
	struct pc_prefix a, *slot;

	if (prefix_parse(&a, t->start, t->len, &t->loc, p->d) < 0)
		return -EINVAL;
	slot = pc_array_push((void **)v, n, cap, sizeof(**v));
	if (!slot) {
		p->nomem = true;
		return -ENOMEM;
	}
	*slot = a;
	return 0;
}

/* "@NAME" in an address list: a named set, which stands alone there. */
static int set_ref_parse(struct parser *p, const struct token *t, struct pc_name *ref, size_t n)
{
	char w[48];

	if (p->in_source)
		return fail(p, &t->loc, "list the zone's sources, or put them in rules",
			    "a zone source cannot be a set");
	if (!name_is_valid(t->start + 1, t->len - 1))
		return fail(p, &t->loc, "a set name is [a-z][a-z0-9_-]*, at most 32 bytes",
			    "invalid set name '%s'", word_quote(w, sizeof(w), t->start, t->len));
	if (ref->name || n)
		return fail(p, &t->loc, "put the addresses into the set, or write two rules",
			    "a set stands alone in an address list");
	ref->name = arena_word(p, t->start + 1, t->len - 1);
	ref->loc = t->loc;
	return ref->name ? 0 : -ENOMEM;
}

static int addr_or_set_push(struct parser *p, struct pc_prefix **v, size_t *n, size_t *cap,
			    struct pc_name *ref, const struct token *t)
{
	if (t->len > 0 && t->start[0] == '@')
		return set_ref_parse(p, t, ref, *n);
	if (ref->name)
		return fail(p, &t->loc, "put the addresses into the set, or write two rules",
			    "a set stands alone in an address list");
	return addr_push(p, v, n, cap, t);
}

static int from_parse(struct parser *p, const struct token *t)
{
	return addr_or_set_push(p, &p->from, &p->n_from, &p->cap_from, &p->from_set, t);
}

/* 10.0.0.5:80 or [2001:db8::5]:80: a forward's target, not a rule's
 * destination (an IPv6 address has more than one ':'). */
static bool word_is_host_port(const struct token *t)
{
	const char *colon = memchr(t->start, ':', t->len);

	return t->type == TOK_WORD && t->len > 0 &&
	       (t->start[0] == '[' ||
		(colon && !memchr(colon + 1, ':', t->len - (size_t)(colon - t->start) - 1)));
}

static int to_parse(struct parser *p, const struct token *t)
{
	char w[48];

	/* "allow forward 8080 to 10.0.0.5:80" mixes the direction and the
	 * port forwarding statement. */
	if (word_is_host_port(t))
		return fail(p, &t->loc,
			    "to forward a port, start the line with it: forward PORT to ADDR:PORT",
			    "'to' takes addresses here, not '%s'",
			    word_quote(w, sizeof(w), t->start, t->len));
	return addr_or_set_push(p, &p->to, &p->n_to, &p->cap_to, &p->to_set, t);
}

static int source_parse(struct parser *p, const struct token *t)
{
	if (tok_is(t, "any"))
		return fail(p, &t->loc, "leave 'source' out, or bind the zone as the default",
			    "a zone source must be an address or prefix, not 'any'");
	p->in_source = true;
	return from_parse(p, t);
}

/* 'any' means every address and so stands alone. */
static int addrs_check_any(struct parser *p, const struct pc_prefix *v, size_t n)
{
	if (n < 2)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].family == 0)
			return fail(p, &v[i].loc, "leave 'any' out, or the other addresses",
				    "'any' cannot be combined with other addresses");
	return 0;
}

/* "write zone a,b": the hint for a list option given twice. */
static int repeated_list(struct parser *p, const struct token *kw, const char *first)
{
	struct pc_strbuf hint = {0};
	char buf[64];
	int r = pc_strbuf_printf(&hint, "write %s ", first);

	if (tok_is(kw, "zone") || tok_is(kw, "interface")) {
		const struct pc_name *v = tok_is(kw, "zone") ? p->zones : p->names;
		size_t n = tok_is(kw, "zone") ? p->n_zones : p->n_names;

		for (size_t i = 0; r >= 0 && i < n && hint.len < 200; i++)
			r = pc_strbuf_printf(&hint, "%s%s", i ? "," : "", v[i].name);
	} else {
		const struct pc_prefix *v = tok_is(kw, "to") ? p->to : p->from;
		size_t n = tok_is(kw, "to") ? p->n_to : p->n_from;

		for (size_t i = 0; r >= 0 && i < n && hint.len < 200; i++) {
			pc_prefix_format(&v[i], buf, sizeof(buf));
			r = pc_strbuf_printf(&hint, "%s%s", i ? "," : "", buf);
		}
	}
	pc_diag_add(p->d, PC_SEV_ERROR, &kw->loc, r < 0 ? NULL : hint.buf, "'%s' is given twice",
		    first);
	pc_strbuf_free(&hint);
	return -EINVAL;
}

static int count_parse(struct parser *p, const struct token *t, const char *s, size_t len,
		       const struct pc_loc *loc, uint32_t *out)
{
	char w[48];

	if (number_parse(s, len, 1000000000, out) < 0 || *out == 0)
		return fail(p, loc, "a count is 1-1000000000", "invalid count '%s'",
			    word_quote(w, sizeof(w), s, len));
	return 0;
}

/* "rate" COUNT "/" UNIT [ "burst" COUNT ] */
static int rate_parse(struct parser *p, const struct token *kw, struct pc_rate *rate)
{
	struct token t, ut;
	const char *slash;
	size_t n;
	int u;

	take(p, &t);
	if (t.type != TOK_WORD)
		return expected(p, &t, "COUNT/second, /minute or /hour", "rate");
	slash = memchr(t.start, '/', t.len);
	if (!slash)
		return fail(p, &t.loc, "write e.g. rate 10/minute", "a rate needs a unit");
	n = slash - t.start;
	struct pc_loc cl = loc_sub(&t.loc, 0, n);

	if (count_parse(p, &t, t.start, n, &cl, &rate->count) < 0)
		return -EINVAL;
	ut = t;
	ut.start = slash + 1;
	ut.len = t.len - n - 1;
	ut.loc = loc_sub(&t.loc, n + 1, ut.len);
	u = word_index(&ut, unit_words, ARRAY_SIZE(unit_words));
	if (u < 0)
		return word_unknown(p, &ut, "rate unit", unit_words, ARRAY_SIZE(unit_words));
	rate->unit = u;
	rate->set = true;
	rate->loc = kw->loc;
	if (!tok_is(lexer_peek(&p->lx), "burst"))
		return 0;
	take(p, &t);
	take(p, &t);
	if (t.type != TOK_WORD)
		return expected(p, &t, "a count", "burst");
	return count_parse(p, &t, t.start, t.len, &t.loc, &rate->burst);
}

static int comment_parse(struct parser *p, struct pc_rule *rule)
{
	struct token t;
	const char *s;
	size_t n;

	lexer_next(&p->lx, &t);
	if (t.type != TOK_STRING && t.type != TOK_WORD)
		return expected(p, &t, "a string", "comment");
	/* The canonical text always quotes a comment, however written. */
	if (t.type == TOK_WORD) {
		struct token q = t;

		q.type = TOK_STRING;
		q.str = t.start;
		q.str_len = t.len;
		text_add(p, &q);
	} else {
		text_add(p, &t);
	}
	s = t.type == TOK_STRING ? t.str : t.start;
	n = t.type == TOK_STRING ? t.str_len : t.len;
	if (n > PC_COMMENT_MAX)
		return fail(p, &t.loc, "shorten it",
			    "comment is %zu bytes long, at most %d are allowed", n, PC_COMMENT_MAX);
	rule->comment = arena_word(p, s, n);
	rule->comment_loc = t.loc;
	return rule->comment ? 0 : -ENOMEM;
}

static const char *const log_level_words[] = {"emerg", "alert", "crit", "err",
					      "warn",  "notice", "info", "debug"};

const char *pc_log_level_word(uint8_t level)
{
	return level < ARRAY_SIZE(log_level_words) ? log_level_words[level] : "warn";
}

/* After "log" or "log-denied": [level LEVEL] [prefix TEXT], in either order. */
static int log_parse(struct parser *p, bool *level_set, uint8_t *level, const char **prefix)
{
	struct token t;

	for (;;) {
		const struct token *next = lexer_peek(&p->lx);
		const char *s;
		size_t n;
		int i;

		if ((tok_is(next, "level") && *level_set) || (tok_is(next, "prefix") && *prefix))
			return fail(p, &next->loc, NULL, "'%s' is given twice",
				    tok_is(next, "level") ? "level" : "prefix");
		if (tok_is(next, "level")) {
			take(p, &t);
			take(p, &t);
			if (t.type != TOK_WORD)
				return expected(p, &t, "a log level", "level");
			i = word_index(&t, log_level_words, ARRAY_SIZE(log_level_words));
			if (i < 0)
				return word_unknown(p, &t, "log level", log_level_words,
						    ARRAY_SIZE(log_level_words));
			*level_set = true;
			*level = i;
		} else if (tok_is(next, "prefix")) {
			take(p, &t);
			lexer_next(&p->lx, &t);
			if (t.type != TOK_STRING && t.type != TOK_WORD)
				return expected(p, &t, "a string", "prefix");
			s = t.type == TOK_STRING ? t.str : t.start;
			n = t.type == TOK_STRING ? t.str_len : t.len;
			/* Quoted in the canonical text, however written. */
			t.type = TOK_STRING;
			t.str = s;
			t.str_len = n;
			text_add(p, &t);
			if (n == 0 || n > PC_LOG_PREFIX_MAX)
				return fail(p, &t.loc, "the kernel keeps 128 bytes, ours included",
					    "log prefix is %zu bytes long, 1 to %d are allowed", n,
					    PC_LOG_PREFIX_MAX);
			if (memchr(s, '\n', n))
				return fail(p, &t.loc, NULL, "a log prefix is one line");
			*prefix = arena_word(p, s, n);
			if (!*prefix)
				return -ENOMEM;
		} else {
			return 0;
		}
	}
}

static int icmp_type_item_parse(struct parser *p, const struct token *t)
{
	const char *names[32];
	bool v6 = p->l4proto == IPPROTO_ICMPV6;
	size_t n = pc_icmp_type_names(v6, names, ARRAY_SIZE(names));
	uint8_t *slot, type;

	if (pc_icmp_type_parse(v6, t->start, t->len, &type) < 0)
		return word_unknown(p, t, v6 ? "ICMPv6 type" : "ICMP type", names, n);
	if (p->n_types && memchr(p->types, type, p->n_types))
		return 0;
	slot = PC_ARRAY_PUSH(p->types, p->n_types, p->cap_types);
	if (!slot) {
		p->nomem = true;
		return -ENOMEM;
	}
	*slot = type;
	return 0;
}

/* "icmp" [ TYPE { "," TYPE } ] | "icmpv6" [ … ] | "proto" NAME|NUMBER */
static int l4_target_parse(struct parser *p)
{
	const char *names[16];
	const struct token *next;
	struct token t;

	take(p, &t);
	if (tok_is(&t, "proto")) {
		size_t n = pc_ip_proto_names(names, ARRAY_SIZE(names));

		take(p, &t);
		if (t.type != TOK_WORD)
			return expected(p, &t, "a protocol name or number", "proto");
		if (tok_is(&t, "tcp") || tok_is(&t, "udp") || tok_is(&t, "sctp") ||
		    tok_is(&t, "icmp") || tok_is(&t, "icmpv6"))
			return fail(p, &t.loc, "write e.g. 'allow 1-65535/tcp' or 'allow icmp'",
				    "'proto' is for other protocols");
		if (pc_ip_proto_parse(t.start, t.len, &p->l4proto) < 0)
			return word_unknown(p, &t, "IP protocol", names, n);
		return 0;
	}
	p->l4proto = tok_is(&t, "icmp") ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	next = lexer_peek(&p->lx);
	if (next->type != TOK_WORD || word_index(next, opt_words, OPT_N) >= 0)
		return 0;
	return list_parse(p, "an ICMP type", tok_is(&t, "icmp") ? "icmp" : "icmpv6",
			  icmp_type_item_parse);
}

/* "from" ADDRS "port" PORTS: the source ports, after the target's ports. */
static int sports_parse(struct parser *p, const struct token *from)
{
	struct token t;

	if (p->have_sports)
		return fail(p, &from->loc, NULL, "'port' is given twice");
	if (p->l4proto)
		return fail(p, &from->loc, "source ports are for tcp, udp and sctp rules",
			    "a protocol rule takes no 'port'");
	take(p, &t);
	p->have_sports = true;
	p->sport_at = p->n_ports;
	p->pending = p->n_ports;
	if (list_parse(p, "a port", "port", sport_item_parse) < 0)
		return -EINVAL;
	ports_finish(p);
	return 0;
}

static int rule_option_parse(struct parser *p, struct pc_rule *rule, const struct token *kw,
			     struct pc_loc *seen)
{
	int o = word_index(kw, opt_words, OPT_N);
	char w[48];
	bool again;
	int r;

	if (o < 0) {
		if (tok_is(kw, "level") || tok_is(kw, "prefix"))
			return fail(p, &kw->loc, "write e.g. log level info prefix \"ssh\"",
				    "'%s' belongs after 'log'",
				    tok_is(kw, "level") ? "level" : "prefix");
		if (tok_is(kw, "port"))
			return fail(p, &kw->loc, "source ports follow the addresses: from any port 53",
				    "'port' is out of place");
		if (dir_word(kw) >= 0)
			return target_item_parse(p, kw);
		if (kw->type == TOK_WORD && (word_is_port(kw) || memchr(kw->start, ':', kw->len)))
			return fail(p, &kw->loc,
				    "write lists without spaces, e.g. 80,443/tcp; put "
				    "addresses after 'from' or 'to'",
				    "unexpected '%s'",
				    word_quote(w, sizeof(w), kw->start, kw->len));
		return word_unknown(p, kw, "option", opt_words, OPT_N);
	}
	again = seen[o].line != 0;
	seen[o] = kw->loc;
	switch (o) {
	case OPT_ZONE:
		r = list_parse(p, "a zone name", "zone", zone_name_parse);
		break;
	case OPT_FROM:
		r = list_parse(p, "an address", "from", from_parse);
		if (r >= 0 && tok_is(lexer_peek(&p->lx), "port"))
			r = sports_parse(p, kw);
		break;
	case OPT_TO:
		r = list_parse(p, "an address", "to", to_parse);
		break;
	default:
		if (again)
			return fail(p, &kw->loc, NULL, "'%s' is given twice", opt_words[o]);
		if (o == OPT_RATE)
			return rate_parse(p, kw, &rule->rate);
		if (o == OPT_COMMENT)
			return comment_parse(p, rule);
		rule->log = true;
		return log_parse(p, &rule->log_level_set, &rule->log_level, &rule->log_prefix);
	}
	if (r < 0)
		return r;
	if (again)
		return repeated_list(p, kw, opt_words[o]);
	return 0;
}

static int rule_store(struct parser *p, struct pc_rule *rule)
{
	struct pc_config *cfg = p->cfg;
	struct pc_rule *slot;

	size_t n_dports = p->have_sports ? p->sport_at : p->n_ports;

	rule->ports = arena_copy(p, p->ports, n_dports, sizeof(*p->ports));
	rule->n_ports = n_dports;
	rule->n_written_ports = n_dports;
	rule->sports = arena_copy(p, p->ports + n_dports, p->n_ports - n_dports, sizeof(*p->ports));
	rule->n_sports = p->n_ports - n_dports;
	rule->l4proto = p->l4proto;
	rule->icmp_types = arena_copy(p, p->types, p->n_types, sizeof(*p->types));
	rule->n_icmp_types = p->n_types;
	rule->services = arena_copy(p, p->names, p->n_names, sizeof(*p->names));
	rule->n_services = p->n_names;
	rule->zones = arena_copy(p, p->zones, p->n_zones, sizeof(*p->zones));
	rule->n_zones = p->n_zones;
	rule->from = arena_copy(p, p->from, p->n_from, sizeof(*p->from));
	rule->n_from = p->n_from;
	rule->to = arena_copy(p, p->to, p->n_to, sizeof(*p->to));
	rule->n_to = p->n_to;
	rule->from_set_name = p->from_set;
	rule->to_set_name = p->to_set;
	rule->text = arena_word(p, p->text.buf, p->text.len);
	if (p->nomem)
		return -ENOMEM;
	slot = pc_config_rule_push(cfg);
	if (!slot)
		return -ENOMEM;
	*slot = *rule;
	return 0;
}

static int rule_parse(struct parser *p, const struct token *act, enum pc_action action)
{
	struct pc_rule rule = {.loc = act->loc, .origin = p->origin, .action = action};
	struct pc_loc seen[OPT_N] = {0};
	const struct token *next;
	struct token t;
	int r;

	if (p->origin == PC_ORIGIN_SHIPPED)
		return fail(p, &act->loc, "put rules in rules.d/",
			    "shipped files may hold only zone and service definitions");
	next = lexer_peek(&p->lx);
	if (dir_word(next) >= 0) {
		rule.dir = (enum pc_dir)dir_word(next);
		take(p, &t);
		next = lexer_peek(&p->lx);
	}
	if (tok_is(next, "icmp") || tok_is(next, "icmpv6") || tok_is(next, "proto")) {
		r = l4_target_parse(p);
		if (r < 0)
			return r;
	} else if (next->type == TOK_WORD && word_index(next, opt_words, OPT_N) < 0) {
		r = list_parse(p, "a port or a service", "", target_item_parse);
		if (r < 0)
			return r;
		ports_finish(p);
	} else if (next->type == TOK_COMMA || next->type == TOK_STRING) {
		take(p, &t);
		return expected(p, &t, "a port, a service or an option", statement_words[action]);
	}
	for (;;) {
		take(p, &t);
		if (t.type == TOK_EOL || t.type == TOK_EOF)
			break;
		if (t.type != TOK_WORD)
			return expected(p, &t, "an option", "the target");
		r = rule_option_parse(p, &rule, &t, seen);
		if (r < 0)
			return r;
	}
	if (addrs_check_any(p, p->from, p->n_from) < 0 || addrs_check_any(p, p->to, p->n_to) < 0)
		return -EINVAL;
	return rule_store(p, &rule);
}

/* --- NAT statements: forward and masquerade --- */

/* "to" HOST[:PORT] | "[" IPv6 "]"[:PORT] | IPv6: where a forward goes. */
static int fwd_dest_parse(struct parser *p, struct pc_rule *rule, const struct token *t)
{
	const char *s = t->start, *port = NULL;
	size_t n = t->len, off = 0;
	const char *colon = memchr(s, ':', n);
	char w[48];

	if (n > 0 && s[0] == '[') {
		const char *end = memchr(s, ']', n);

		if (!end || (end + 1 < s + n && end[1] != ':'))
			return fail(p, &t->loc, "write [2001:db8::5]:80", "invalid address '%s'",
				    word_quote(w, sizeof(w), s, n));
		off = 1;
		port = end + 1 < s + n ? end + 2 : NULL;
		n = (size_t)(end - s) - 1;
	} else if (colon && !memchr(colon + 1, ':', n - (size_t)(colon + 1 - s))) {
		port = colon + 1; /* IPv4:PORT; an IPv6 address without [] has no port */
		n = (size_t)(colon - s);
	}
	if (memchr(s + off, '/', n))
		return fail(p, &t->loc, "forward to one address, e.g. 10.0.0.5:80",
			    "'%s' is not a host address", word_quote(w, sizeof(w), t->start, t->len));
	if (prefix_parse(&rule->fwd_addr, s + off, n, &t->loc, p->d) < 0)
		return -EINVAL;
	if (rule->fwd_addr.family == 0)
		return fail(p, &t->loc, "give the address to forward to", "cannot forward to 'any'");
	rule->fwd_addr.loc = t->loc;
	if (port) {
		size_t plen = t->len - (size_t)(port - t->start);
		struct pc_loc pl = loc_sub(&t->loc, (size_t)(port - t->start), plen);
		uint32_t v;

		if (number_parse(port, plen, 65535, &v) < 0 || v == 0)
			return fail(p, &pl, "a port is 1-65535", "invalid port '%s'",
				    word_quote(w, sizeof(w), port, plen));
		rule->fwd_port = (uint16_t)v;
	}
	return 0;
}

static int nat_option_parse(struct parser *p, struct pc_rule *rule, const struct token *kw,
			    bool *seen_to)
{
	bool fwd = rule->action == PC_FORWARD;
	struct token t;
	char w[48];

	if (tok_is(kw, "zone"))
		return p->n_zones ? repeated_list(p, kw, "zone")
				  : list_parse(p, "a zone name", "zone", zone_name_parse);
	if (tok_is(kw, "from"))
		return p->n_from ? repeated_list(p, kw, "from")
				 : list_parse(p, "an address", "from", from_parse);
	if (tok_is(kw, "comment"))
		return rule->comment_loc.line ? fail(p, &kw->loc, NULL, "'comment' is given twice")
					      : comment_parse(p, rule);
	if (fwd && tok_is(kw, "to")) {
		if (*seen_to)
			return fail(p, &kw->loc, NULL, "'to' is given twice");
		*seen_to = true;
		take(p, &t);
		if (t.type != TOK_WORD)
			return expected(p, &t, "an address (10.0.0.5:80, [2001:db8::5]:80)", "to");
		return fwd_dest_parse(p, rule, &t);
	}
	if (!fwd && tok_is(kw, "out"))
		return p->n_names ? fail(p, &kw->loc, "write out a,b", "'out' is given twice")
				  : list_parse(p, "an interface name", "out", ifname_parse);
	return fail(p, &kw->loc,
		    fwd ? "forward takes to, zone, from and comment"
			: "masquerade takes out, zone, from and comment",
		    "unexpected '%s' in a %s statement", word_quote(w, sizeof(w), kw->start, kw->len),
		    fwd ? "forward" : "masquerade");
}

/*
 * forward TARGET to ADDR[:PORT] [zone Z] [from ADDR] [comment C]
 * masquerade out IFACE[,…] [zone Z] [from ADDR] [comment C]
 */
static int nat_parse(struct parser *p, const struct token *act, enum pc_action action)
{
	struct pc_rule rule = {.loc = act->loc, .origin = p->origin, .action = action};
	bool seen_to = false;
	struct token t;
	int r;

	if (p->origin == PC_ORIGIN_SHIPPED)
		return fail(p, &act->loc, "put rules in rules.d/",
			    "shipped files may hold only zone and service definitions");
	if (action == PC_FORWARD) {
		const struct token *next = lexer_peek(&p->lx);

		if (next->type != TOK_WORD || tok_is(next, "to"))
			return fail(p, &next->loc, "e.g. forward 8080/tcp to 10.0.0.5:80",
				    "'forward' needs the port clients connect to");
		/* First on a line, forward is the statement; a rule on routed
		 * traffic puts the direction after its action. */
		if (dir_word(next) >= 0)
			return fail(p, &next->loc,
				    "a rule on routed traffic is e.g. 'allow forward 80/tcp'; "
				    "a port forward is 'forward 8080/tcp to 10.0.0.5:80'",
				    "'forward' starts a port forward and takes no direction '%s'",
				    dir_words[dir_word(next)]);
		r = list_parse(p, "a port or a service", "forward", target_item_parse);
		if (r < 0)
			return r;
		ports_finish(p);
	}
	for (;;) {
		take(p, &t);
		if (t.type == TOK_EOL || t.type == TOK_EOF)
			break;
		if (t.type != TOK_WORD)
			return expected(p, &t, "an option", action == PC_FORWARD ? "forward"
										  : "masquerade");
		r = nat_option_parse(p, &rule, &t, &seen_to);
		if (r < 0)
			return r;
	}
	if (action == PC_FORWARD && !seen_to)
		return fail(p, &act->loc, "e.g. forward 8080/tcp to 10.0.0.5:80",
			    "'forward' needs 'to ADDR[:PORT]'");
	if (action == PC_MASQUERADE && p->n_names == 0)
		return fail(p, &act->loc, "e.g. masquerade zone internal out eth0",
			    "'masquerade' needs 'out IFACE'");
	/* Its lowering matches the addresses written, not a set's. */
	if (p->from_set.name)
		return fail(p, &p->from_set.loc, "list the addresses after 'from'",
			    "'%s' takes addresses, not a set",
			    action == PC_FORWARD ? "forward" : "masquerade");
	if (addrs_check_any(p, p->from, p->n_from) < 0)
		return -EINVAL;
	if (action == PC_MASQUERADE) {
		/* The interfaces, not services: the names list held them. */
		rule.out_ifaces = arena_copy(p, p->names, p->n_names, sizeof(*p->names));
		rule.n_out_ifaces = p->n_names;
		p->n_names = 0;
	}
	return rule_store(p, &rule);
}

static int zone_store(struct parser *p, struct pc_zone *z)
{
	struct pc_zone *slot;

	z->interfaces = arena_copy(p, p->names, p->n_names, sizeof(*p->names));
	z->n_interfaces = p->n_names;
	z->sources = arena_copy(p, p->from, p->n_from, sizeof(*p->from));
	z->n_sources = p->n_from;
	if (p->nomem)
		return -ENOMEM;
	slot = PC_ARRAY_PUSH(p->cfg->zones, p->cfg->n_zones, p->cfg->cap_zones);
	if (!slot)
		return -ENOMEM;
	*slot = *z;
	return 0;
}

static int policy_parse(struct parser *p, struct pc_zone *z, const struct token *kw,
			struct pc_loc *seen)
{
	struct token t;
	int i, slot, dir;

	take(p, &t);
	dir = dir_word(&t);
	if (dir < 0)
		return expected(p, &t, "'in', 'out' or 'forward'", "policy");
	slot = dir == PC_DIR_IN ? ZOPT_POLICY_IN : dir == PC_DIR_OUT ? ZOPT_POLICY_OUT
								     : ZOPT_POLICY_FWD;
	if (seen[slot].line)
		return fail(p, &kw->loc, NULL, "'policy %s' is given twice", dir_words[dir]);
	seen[slot] = kw->loc;
	take(p, &t);
	if (t.type != TOK_WORD)
		return expected(p, &t, "accept, drop or reject", "policy");
	i = word_index(&t, policy_words, ARRAY_SIZE(policy_words));
	if (i < 0)
		return word_unknown(p, &t, "policy", policy_words, ARRAY_SIZE(policy_words));
	if (slot == ZOPT_POLICY_IN)
		z->policy_in = PC_POLICY_ACCEPT + i;
	else if (slot == ZOPT_POLICY_OUT)
		z->policy_out = PC_POLICY_ACCEPT + i;
	else
		z->policy_fwd = PC_POLICY_ACCEPT + i;
	return 0;
}

static int zone_option_parse(struct parser *p, struct pc_zone *z, const struct token *kw,
			     struct pc_loc *seen)
{
	int o = word_index(kw, zone_opt_words, ARRAY_SIZE(zone_opt_words));
	enum zone_opt opt;
	bool again;
	int r;

	if (o < 0)
		return word_unknown(p, kw, "zone option", zone_opt_words,
				    ARRAY_SIZE(zone_opt_words));
	if (o == ZWORD_POLICY)
		return policy_parse(p, z, kw, seen);
	if (o == ZWORD_DEFAULT) {
		if (seen[ZOPT_DEFAULT].line)
			return fail(p, &kw->loc, NULL, "'default' is given twice");
		seen[ZOPT_DEFAULT] = kw->loc;
		z->is_default = true;
		z->default_loc = kw->loc;
		return 0;
	}
	if (o == ZWORD_LOG_DENIED) {
		if (seen[ZOPT_LOG_DENIED].line)
			return fail(p, &kw->loc, NULL, "'log-denied' is given twice");
		seen[ZOPT_LOG_DENIED] = kw->loc;
		z->log_denied = true;
		return log_parse(p, &z->log_level_set, &z->log_level, &z->log_prefix);
	}
	opt = o == ZWORD_INTERFACE ? ZOPT_INTERFACE : ZOPT_SOURCE;
	again = seen[opt].line != 0;
	seen[opt] = kw->loc;
	if (opt == ZOPT_INTERFACE)
		r = list_parse(p, "an interface name", "interface", ifname_parse);
	else
		r = list_parse(p, "an address or prefix", "source", source_parse);
	if (r < 0)
		return r;
	return again ? repeated_list(p, kw, zone_opt_words[o]) : 0;
}

static int zone_parse(struct parser *p, const struct token *kw)
{
	struct pc_loc seen[ZOPT_N] = {0};
	struct pc_zone z = {.origin = p->origin};
	struct token t;
	int r;

	take(p, &t);
	if (t.type != TOK_WORD)
		return expected(p, &t, "a zone name", "zone");
	if (name_check(p, &t, "zone") < 0)
		return -EINVAL;
	z.name = arena_word(p, t.start, t.len);
	z.loc = t.loc;
	for (;;) {
		take(p, &t);
		if (t.type == TOK_EOL || t.type == TOK_EOF)
			break;
		if (t.type != TOK_WORD)
			return expected(p, &t, "a zone option", "the zone name");
		r = zone_option_parse(p, &z, &t, seen);
		if (r < 0)
			return r;
	}
	return zone_store(p, &z);
}

static int service_parse(struct parser *p, const struct token *kw)
{
	struct pc_service s = {.origin = p->origin}, *slot;
	struct token t;
	int r;

	take(p, &t);
	if (t.type != TOK_WORD)
		return expected(p, &t, "a service name", "service");
	if (name_check(p, &t, "service") < 0)
		return -EINVAL;
	s.name = arena_word(p, t.start, t.len);
	s.loc = t.loc;
	r = list_parse(p, "a port", s.name ? s.name : "service", service_port_parse);
	if (r < 0)
		return r;
	ports_finish(p);
	take(p, &t);
	if (t.type != TOK_EOL && t.type != TOK_EOF)
		return expected(p, &t, "end of line", "the ports");
	s.ports = arena_copy(p, p->ports, p->n_ports, sizeof(*p->ports));
	s.n_ports = p->n_ports;
	if (p->nomem)
		return -ENOMEM;
	slot = PC_ARRAY_PUSH(p->cfg->services, p->cfg->n_services, p->cfg->cap_services);
	if (!slot)
		return -ENOMEM;
	*slot = s;
	return 0;
}

/* A set file's path: a relative one is under the configuration directory
 * (so the state directory's last good copy resolves to its own copy). */
static const char *path_resolve(struct parser *p, const char *s, size_t n)
{
	const char *dir = p->cfg->sets_dir;
	char *path;

	if (n == 0 || memchr(s, '\0', n))
		return arena_word(p, "", 0);
	if (s[0] == '/' || !dir)
		return arena_word(p, s, n);
	path = pc_arena_alloc(p->cfg->arena, strlen(dir) + n + 2);
	if (!path)
		return NULL;
	sprintf(path, "%s/%.*s", dir, (int)n, s);
	return path;
}

/*
 * "set" NAME ( "file" PATH | ADDR { "," ADDR } ). The file is read by the
 * loader and its lines parsed by validation: the parser reads no file.
 * A relative PATH is relative to the configuration directory.
 */
static int set_parse(struct parser *p, const struct token *kw)
{
	struct pc_addrset *s, **slot;
	struct token t;
	int r;

	if (p->origin != PC_ORIGIN_ADMIN)
		return fail(p, &kw->loc, "define sets in a file of rules.d/",
			    "a set can be defined only in the administrator's rule files");
	take(p, &t);
	if (t.type != TOK_WORD)
		return expected(p, &t, "a set name", "set");
	if (name_check(p, &t, "set") < 0)
		return -EINVAL;
	s = pc_arena_alloc(p->cfg->arena, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct pc_addrset){.name = arena_word(p, t.start, t.len), .loc = t.loc};
	if (tok_is(lexer_peek(&p->lx), "file")) {
		take(p, &t);
		take(p, &t);
		if (t.type != TOK_WORD && t.type != TOK_STRING)
			return expected(p, &t, "a file name", "file");
		s->file_loc = t.loc;
		s->file = path_resolve(p, t.type == TOK_STRING ? t.str : t.start,
				       t.type == TOK_STRING ? t.str_len : t.len);
		if (!s->file)
			return -ENOMEM;
		if (!s->file[0])
			return fail(p, &t.loc, NULL, "a set file needs a name");
	} else {
		r = list_parse(p, "an address or 'file'", s->name ? s->name : "set", from_parse);
		if (r < 0)
			return r;
		if (p->from_set.name)
			return fail(p, &p->from_set.loc, "list its addresses here",
				    "a set cannot hold another set");
		if (addrs_check_any(p, p->from, p->n_from) < 0 || (p->n_from && !p->from[0].family))
			return fail(p, &p->from[0].loc, "leave the set out of the rule instead",
				    "a set holds addresses and prefixes, not 'any'");
		s->addrs = arena_copy(p, p->from, p->n_from, sizeof(*p->from));
		s->n_addrs = p->n_from;
		s->loaded = true;
	}
	take(p, &t);
	if (t.type != TOK_EOL && t.type != TOK_EOF)
		return expected(p, &t, "end of line", "the set");
	if (p->nomem || !s->name)
		return -ENOMEM;
	slot = PC_ARRAY_PUSH(p->cfg->sets, p->cfg->n_sets, p->cfg->cap_sets);
	if (!slot)
		return -ENOMEM;
	*slot = s;
	return 0;
}

static void parser_reset(struct parser *p)
{
	p->text.len = 0;
	p->joined = false;
	p->n_ports = p->pending = 0;
	p->n_names = p->n_zones = p->n_from = p->n_to = 0;
	p->n_types = 0;
	p->l4proto = 0;
	p->have_sports = false;
	p->sport_at = 0;
	p->from_set = p->to_set = (struct pc_name){0};
	p->in_source = false;
}

static int statement_parse(struct parser *p, const struct token *first)
{
	int i = word_index(first, statement_words, ARRAY_SIZE(statement_words));
	static const enum pc_action actions[] = {PC_ALLOW, PC_DENY, PC_REJECT, PC_LIMIT};

	if (i < 0 && tok_is(first, nat_words[0]))
		return nat_parse(p, first, PC_FORWARD);
	if (i < 0 && tok_is(first, nat_words[1]))
		return nat_parse(p, first, PC_MASQUERADE);
	if (i < 0)
		return word_unknown(p, first, "statement", statement_words,
				    ARRAY_SIZE(statement_words));
	if (i < 4)
		return rule_parse(p, first, actions[i]);
	if (i == 6)
		return set_parse(p, first);
	/* A definition there would rank neither as shipped nor as the admin's. */
	if (p->origin == PC_ORIGIN_DEFAULTS)
		return fail(p, &first->loc, "define zones and services in rules.d/ or zones.rules",
			    "defaults.rules may hold only rules");
	if (i == 4)
		return zone_parse(p, first);
	return service_parse(p, first);
}

static int line_start_unexpected(struct parser *p, const struct token *t)
{
	char buf[64];

	if (t->type == TOK_ERROR)
		return -EINVAL;
	return fail(p, &t->loc, NULL,
		    "a line starts with allow, deny, reject, limit, forward, masquerade, zone, "
		    "service or set, not %s",
		    tok_describe(t, buf, sizeof(buf)));
}

static int parser_run(struct parser *p)
{
	struct token t;
	int r;

	for (;;) {
		if (lexer_skip_long_line(&p->lx))
			continue;
		parser_reset(p);
		take(p, &t);
		if (t.type == TOK_EOF)
			return 0;
		if (t.type == TOK_EOL)
			continue;
		if (t.type == TOK_WORD)
			r = statement_parse(p, &t);
		else
			r = line_start_unexpected(p, &t);
		if (r == -ENOMEM || p->nomem)
			return -ENOMEM;
		if (r < 0)
			lexer_skip_line(&p->lx);
	}
}

int pc_parse_file(struct pc_config *cfg, const char *name, char *data, size_t len,
		  enum pc_origin origin, struct pc_diags *d)
{
	size_t newlines = pc_newlines(data, len), at = cfg->sources.n;
	int r;

	if (pc_config_rules_reserve(cfg, newlines) < 0) {
		free(data);
		return -ENOMEM;
	}
	r = pc_parse_buffer(cfg, name, data, len, origin, d);
	if (cfg->sources.n > at)
		cfg->sources.items[at].newlines = newlines;
	return r;
}

int pc_parse_buffer(struct pc_config *cfg, const char *name, char *data, size_t len,
		    enum pc_origin origin, struct pc_diags *d)
{
	size_t errors = d->n_errors;
	struct parser p = {.cfg = cfg, .d = d, .origin = origin};
	const char *file = pc_sources_add(&cfg->sources, name, data, len);
	int r;

	if (!file) {
		free(data);
		return -ENOMEM;
	}
	cfg->sources.items[cfg->sources.n - 1].kind = PC_SOURCE_RULES;
	cfg->sources.items[cfg->sources.n - 1].origin = (int)origin;
	lexer_init(&p.lx, file, data, len, d);
	r = parser_run(&p);
	lexer_done(&p.lx);
	pc_strbuf_free(&p.text);
	free(p.ports);
	free(p.names);
	free(p.zones);
	free(p.from);
	free(p.to);
	free(p.types);
	if (r < 0)
		return r;
	return d->n_errors > errors ? -EINVAL : 0;
}
