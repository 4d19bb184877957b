/* The grammar's words: keywords, names, ports and addresses, plus the
 * helpers that suggest a close name and quote text for messages. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lang.h"

/* With their lengths: a name is checked against them all, 20,000 times
 * in a start of 10,000 rules in 100 zones. */
#define KEYWORD(w) { w, sizeof(w) - 1 }
static const struct keyword {
	const char *word;
	size_t len;
} keywords[] = {
	KEYWORD("accept"), KEYWORD("allow"), KEYWORD("any"), KEYWORD("burst"),
	KEYWORD("comment"), KEYWORD("default"), KEYWORD("deny"), KEYWORD("drop"),
	KEYWORD("from"), KEYWORD("hour"), KEYWORD("in"), KEYWORD("interface"),
	KEYWORD("limit"), KEYWORD("log"), KEYWORD("minute"), KEYWORD("out"),
	KEYWORD("policy"), KEYWORD("rate"), KEYWORD("reject"), KEYWORD("sctp"),
	KEYWORD("second"), KEYWORD("service"), KEYWORD("set"), KEYWORD("source"),
	KEYWORD("tcp"), KEYWORD("to"), KEYWORD("udp"), KEYWORD("zone"),
	KEYWORD("forward"), KEYWORD("masquerade"),
	/* The words of protocol rules and source ports. */
	KEYWORD("icmp"), KEYWORD("icmpv6"), KEYWORD("proto"), KEYWORD("port"),
};

bool keyword_is(const char *s, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(keywords); i++)
		if (keywords[i].len == len && memcmp(keywords[i].word, s, len) == 0)
			return true;
	return false;
}

bool name_is_valid(const char *s, size_t len)
{
	if (len == 0 || len > PC_NAME_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return !keyword_is(s, len);
}

/* A name, or a prefix and a final '*' (br-*, veth*): every name it begins. */
bool ifname_is_valid(const char *s, size_t len)
{
	if (len > 1 && s[len - 1] == '*')
		len--;
	if (len == 0 || len > PC_IFNAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == ':' || c == '@' || c == '-'))
			return false;
	}
	return true;
}

bool utf8_is_valid(const char *str, size_t len)
{
	return pc_utf8_valid_len(str, len) == len;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Optimal string alignment: Levenshtein plus swapping two neighbours, the
 * commonest typo ("tpc" for "tcp"). */
unsigned edit_distance(const char *a, size_t alen, const char *b, size_t blen, unsigned max)
{
	unsigned rows[3][PC_NAME_MAX + 2];
	unsigned *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

	if (blen > PC_NAME_MAX || alen > PC_NAME_MAX + max)
		return max + 1;
	if ((alen > blen ? alen - blen : blen - alen) > max)
		return max + 1;
	for (size_t j = 0; j <= blen; j++)
		prev[j] = j;
	for (size_t i = 1; i <= alen; i++) {
		unsigned best = cur[0] = i;

		for (size_t j = 1; j <= blen; j++) {
			unsigned cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
			unsigned v = prev[j - 1] + cost;

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
			if (v < best)
				best = v;
		}
		if (best > max)
			return max + 1;

		unsigned *t = prev2;

		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[blen];
}

const char *suggest_from(const char *word, size_t len, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	unsigned best_d = 3;

	for (size_t i = 0; i < n; i++) {
		size_t clen = strlen(candidates[i]);
		unsigned dist;

		/* Equal but for case still deserves a hint: words are lower case. */
		if (clen == len && memcmp(candidates[i], word, len) == 0)
			continue;
		dist = edit_distance(word, len, candidates[i], clen, 2);
		if (dist < best_d && (dist < clen || clen > 2)) {
			best = candidates[i];
			best_d = dist;
		}
	}
	return best;
}

int strmap_put(struct strmap *m, const char *key, size_t value)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		struct strmap_slot *slots = calloc(ncap, sizeof(*slots));

		if (!slots)
			return -ENOMEM;
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->slots[i].key)
				continue;
			size_t h = 0;

			for (const char *p = m->slots[i].key; *p; p++)
				h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
			for (h &= ncap - 1; slots[h].key; h = (h + 1) & (ncap - 1))
				;
			slots[h] = m->slots[i];
		}
		free(m->slots);
		m->slots = slots;
		m->cap = ncap;
	}

	size_t h = 0;

	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	for (h &= m->cap - 1; m->slots[h].key; h = (h + 1) & (m->cap - 1)) {
		if (streq(m->slots[h].key, key)) {
			m->slots[h].value = value;
			return 0;
		}
	}
	m->slots[h].key = key;
	m->slots[h].value = value;
	m->n++;
	return 0;
}

bool strmap_get(const struct strmap *m, const char *key, size_t *value)
{
	size_t h = 0;

	if (!m->cap)
		return false;
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	for (h &= m->cap - 1; m->slots[h].key; h = (h + 1) & (m->cap - 1)) {
		if (streq(m->slots[h].key, key)) {
			*value = m->slots[h].value;
			return true;
		}
	}
	return false;
}

void strmap_free(struct strmap *m)
{
	free(m->slots);
	*m = (struct strmap){0};
}

const char *word_quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 8 < size; i++) {
		unsigned char c = s[i];

		if (c < 0x20 || c == 0x7f)
			o += snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = c;
	}
	if (o + 8 >= size && len > 0)
		o += snprintf(buf + o, size - o, "...");
	buf[o] = '\0';
	return buf;
}

int quote_append(struct pc_strbuf *sb, const char *s, size_t len)
{
	int r = pc_strbuf_append(sb, "\"", 1);

	for (size_t i = 0; r >= 0 && i < len; i++) {
		switch (s[i]) {
		case '"':
			r = pc_strbuf_append(sb, "\\\"", 2);
			break;
		case '\\':
			r = pc_strbuf_append(sb, "\\\\", 2);
			break;
		case '\n':
			r = pc_strbuf_append(sb, "\\n", 2);
			break;
		case '\t':
			r = pc_strbuf_append(sb, "\\t", 2);
			break;
		default:
			r = pc_strbuf_append(sb, s + i, 1);
		}
	}
	return r < 0 ? r : pc_strbuf_append(sb, "\"", 1);
}

/* Digits only, at most max: "0" allowed, signs and spaces not. */
int number_parse(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return -ERANGE;
	}
	*out = v;
	return 0;
}

int pc_duration_parse(const char *s, uint32_t *seconds)
{
	static const struct {
		char unit;
		uint32_t factor;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 } };
	size_t len = strlen(s);
	uint32_t factor = 1, v;
	int r;

	for (size_t i = 0; len > 1 && i < ARRAY_SIZE(units); i++)
		if (s[len - 1] == units[i].unit) {
			factor = units[i].factor;
			len--;
			break;
		}
	r = number_parse(s, len, PC_DURATION_MAX, &v);
	if (r < 0)
		return r;
	if (v == 0)
		return -EINVAL;
	if (v > PC_DURATION_MAX / factor)
		return -ERANGE;
	*seconds = v * factor;
	return 0;
}

void pc_duration_format(uint64_t seconds, char *buf, size_t size)
{
	static const struct {
		char unit;
		uint64_t factor;
	} units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	size_t len = 0, shown = 0;

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(units) && shown < 2 && len < size; i++) {
		uint64_t v = seconds / units[i].factor;

		if (v == 0 && !(shown == 0 && units[i].unit == 's'))
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%llu%c", (unsigned long long)v,
					units[i].unit);
		seconds -= v * units[i].factor;
		shown++;
		if (seconds == 0)
			break;
	}
}

struct pc_loc loc_sub(const struct pc_loc *loc, size_t off, size_t len)
{
	struct pc_loc l = *loc;

	l.col += off;
	l.len = len;
	return l;
}

static int port_parse(const char *s, size_t len, const struct pc_loc *loc, uint16_t *port,
		      struct pc_diags *d)
{
	char w[48];
	uint32_t v;
	int r = number_parse(s, len, 65535, &v);

	if (r == -EINVAL) {
		pc_error(d, loc, "invalid port '%s'", word_quote(w, sizeof(w), s, len));
		return r;
	}
	if (r == -ERANGE || v == 0) {
		pc_diag_add(d, PC_SEV_ERROR, loc, "ports are 1-65535", "port %s is out of range",
			    word_quote(w, sizeof(w), s, len));
		return -EINVAL;
	}
	*port = v;
	return 0;
}

int port_range_parse(struct pc_port_range *r, const char *s, size_t len, const struct pc_loc *loc,
		     struct pc_diags *d)
{
	const char *dash = memchr(s, '-', len);
	size_t n1 = dash ? (size_t)(dash - s) : len;
	struct pc_loc l1 = loc_sub(loc, 0, n1);
	char hint[64];

	r->loc = *loc;
	if (port_parse(s, n1, &l1, &r->lo, d) < 0)
		return -EINVAL;
	r->hi = r->lo;
	if (!dash)
		return 0;

	struct pc_loc l2 = loc_sub(loc, n1 + 1, len - n1 - 1);

	if (port_parse(dash + 1, len - n1 - 1, &l2, &r->hi, d) < 0)
		return -EINVAL;
	if (r->lo > r->hi) {
		snprintf(hint, sizeof(hint), "write %u-%u", r->hi, r->lo);
		pc_diag_add(d, PC_SEV_ERROR, loc, hint, "port range %u-%u is backwards", r->lo,
			    r->hi);
		return -EINVAL;
	}
	return 0;
}

int pc_prefix_format(const struct pc_prefix *p, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	int n;

	if (p->family == 0)
		n = snprintf(buf, size, "any");
	else if (!inet_ntop(p->family, p->addr, addr, sizeof(addr)))
		return -errno;
	else if (p->len == (p->family == AF_INET ? 32 : 128))
		n = snprintf(buf, size, "%s", addr);
	else
		n = snprintf(buf, size, "%s/%u", addr, p->len);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

/* Clear the bits past the prefix length; true when any was set. */
bool prefix_clear_host_bits(uint8_t *addr, unsigned bytes, unsigned len)
{
	bool set = false;

	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;
		uint8_t mask = keep ? (uint8_t)(0xff << (8 - keep)) : 0;

		set |= (addr[i] & ~mask) != 0;
		addr[i] &= mask;
	}
	return set;
}

int prefix_parse(struct pc_prefix *p, const char *s, size_t len, const struct pc_loc *loc,
		 struct pc_diags *d)
{
	char addr[64], w[80], hint[96], text[64];
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	uint32_t plen;

	*p = (struct pc_prefix){.loc = *loc};
	if (len == 3 && memcmp(s, "any", 3) == 0)
		return 0;
	if (alen == 0 || alen >= sizeof(addr))
		goto bad;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, p->addr) == 1) {
		p->family = AF_INET;
		p->len = 32;
	} else if (inet_pton(AF_INET6, addr, p->addr) == 1) {
		p->family = AF_INET6;
		p->len = 128;
	} else {
		goto bad;
	}
	if (slash) {
		struct pc_loc l = loc_sub(loc, alen + 1, len - alen - 1);
		unsigned max = p->family == AF_INET ? 32 : 128;

		if (number_parse(slash + 1, len - alen - 1, max, &plen) < 0 ||
		    (len - alen - 1 > 1 && slash[1] == '0')) {
			snprintf(hint, sizeof(hint), "an IPv%c prefix length is 0-%u",
				 p->family == AF_INET ? '4' : '6', max);
			pc_diag_add(d, PC_SEV_ERROR, &l, hint, "invalid prefix length '%s'",
				    word_quote(w, sizeof(w), slash + 1, len - alen - 1));
			return -EINVAL;
		}
		p->len = plen;
	}
	if (prefix_clear_host_bits(p->addr, p->family == AF_INET ? 4 : 16, p->len)) {
		pc_prefix_format(p, text, sizeof(text));
		snprintf(hint, sizeof(hint), "did you mean %s?", text);
		pc_diag_add(d, PC_SEV_ERROR, loc, hint, "'%s' has host bits set after the prefix",
			    word_quote(w, sizeof(w), s, len));
		return -EINVAL;
	}
	return 0;
bad:
	pc_diag_add(d, PC_SEV_ERROR, loc, "write an IPv4 or IPv6 address, a prefix, or 'any'",
		    "invalid address '%s'", word_quote(w, sizeof(w), s, len));
	return -EINVAL;
}
