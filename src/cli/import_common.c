/* What the ufw and firewalld readers share: the output being built, the
 * report on standard error, zone names, and a small XML reader. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

void imp_printf(struct imp *im, struct pc_strbuf *sb, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0 || pc_strbuf_append(sb, s, (size_t)n) < 0)
		im->oom = true;
}

/* The grammar's strings: at most 128 bytes of UTF-8, no control
 * characters; the cut falls on a character boundary. */
void imp_comment(struct imp *im, struct pc_strbuf *sb, const char *text)
{
	char buf[129];
	size_t n = 0, len = strlen(text);

	while (n < len) {
		size_t c = pc_utf8_char_len(text + n, len - n);

		if (c == 0 || n + c > 128)
			break;
		if (c == 1 && ((unsigned char)text[n] < 0x20 || text[n] == 0x7f))
			buf[n] = ' ';
		else
			memcpy(buf + n, text + n, c);
		n += c;
	}
	buf[n] = '\0';
	imp_printf(im, sb, " comment \"");
	for (size_t i = 0; i < n; i++)
		imp_printf(im, sb, "%s%c", buf[i] == '"' || buf[i] == '\\' ? "\\" : "", buf[i]);
	imp_printf(im, sb, "\"");
}

static void imp_vreport(const struct imp *im, const char *where, const char *what, const char *fmt,
			va_list ap)
{
	fprintf(stderr, "%s import: %s: %s", im->prog, where, what);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void imp_skip(struct imp *im, const char *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	imp_vreport(im, where, "not converted: ", fmt, ap);
	va_end(ap);
	im->n_skipped++;
}

void imp_note(struct imp *im, const char *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	imp_vreport(im, where, "note: ", fmt, ap);
	va_end(ap);
}

bool imp_ifname_ok(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= 15 &&
	       strspn(name,
		      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:@-") == n;
}

/* portctl.rules(5)'s keywords, which cannot name a zone. */
static bool word_is_keyword(const char *s)
{
	static const char *const words[] = {
	    "allow",	 "deny",   "reject", "limit",	"in",	  "out",     "zone",
	    "from",	 "to",	   "rate",   "burst",	"log",	  "comment", "service",
	    "interface", "source", "policy", "default", "accept", "drop",    "any",
	    "tcp",	 "udp",	   "sctp",   "second",	"minute", "hour",
	};

	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (streq(s, words[i]))
			return true;
	return false;
}

const char *imp_zone_name(char *buf, const char *name, const char *prefix)
{
	size_t n = 0;

	for (const char *p = prefix; *p && n < 32; p++)
		buf[n++] = *p;
	for (const char *p = name; *p && n < 32; p++) {
		char c = (char)tolower((unsigned char)*p);

		buf[n++] = (isalnum((unsigned char)c) || c == '_') && isascii(c) ? c : '-';
	}
	buf[n] = '\0';
	if (n == 0 || !isalpha((unsigned char)buf[0]))
		snprintf(buf, 33, "z-%.29s", name);
	if (word_is_keyword(buf) && n + 5 <= 32)
		strcat(buf, "-zone");
	return buf;
}

/* --- XML --------------------------------------------------------------- */

void xml_free(struct xml_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n_kids; i++)
		xml_free(n->kids[i]);
	for (char **a = n->attrs; a && *a; a++)
		free(*a);
	free(n->attrs);
	free(n->kids);
	free(n->name);
	free(n->text);
	free(n);
}

const char *xml_attr(const struct xml_node *n, const char *name)
{
	for (char **a = n->attrs; a && a[0] && a[1]; a += 2)
		if (streq(a[0], name))
			return a[1];
	return NULL;
}

/* Character data or an attribute value with the five entities (and
 * numeric ASCII ones) decoded. */
static char *xml_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		static const struct {
			const char *ent;
			char c;
		} ents[] = {{"&amp;", '&'},
			    {"&lt;", '<'},
			    {"&gt;", '>'},
			    {"&quot;", '"'},
			    {"&apos;", '\''}};
		bool done = false;

		if (s[i] == '&') {
			for (size_t k = 0; k < ARRAY_SIZE(ents); k++) {
				size_t el = strlen(ents[k].ent);

				if (i + el <= len && strncmp(s + i, ents[k].ent, el) == 0) {
					*o++ = ents[k].c;
					i += el;
					done = true;
					break;
				}
			}
			if (!done && i + 2 < len && s[i + 1] == '#') {
				char *end;
				long v = s[i + 2] == 'x' ? strtol(s + i + 3, &end, 16)
							 : strtol(s + i + 2, &end, 10);

				if (*end == ';' && v > 0 && v < 0x80) {
					*o++ = (char)v;
					i = (size_t)(end - s) + 1;
					done = true;
				}
			}
		}
		if (!done)
			*o++ = s[i++];
	}
	*o = '\0';
	return out;
}

struct xml_parser {
	const char *p;
	size_t line;
	const char *err;
};

static void xml_skip_space(struct xml_parser *x)
{
	while (isspace((unsigned char)*x->p)) {
		if (*x->p == '\n')
			x->line++;
		x->p++;
	}
}

/* Skip past the next occurrence of end, counting lines. */
static bool xml_skip_past(struct xml_parser *x, const char *end)
{
	const char *q = strstr(x->p, end);

	if (!q)
		return false;
	for (; x->p < q; x->p++)
		if (*x->p == '\n')
			x->line++;
	x->p = q + strlen(end);
	return true;
}

static bool xml_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' || c == ':';
}

static int xml_push_attr(struct xml_node *n, size_t *na, char *s)
{
	char **a = realloc(n->attrs, (*na + 2) * sizeof(char *));

	if (!a) {
		free(s);
		return -1;
	}
	n->attrs = a;
	a[(*na)++] = s;
	a[*na] = NULL;
	return 0;
}

static struct xml_node *xml_element(struct xml_parser *x);

/* The content of n up to its end tag. */
static int xml_content(struct xml_parser *x, struct xml_node *n)
{
	struct pc_strbuf text = {0};

	for (;;) {
		const char *start = x->p;

		while (*x->p && *x->p != '<') {
			if (*x->p == '\n')
				x->line++;
			x->p++;
		}
		if (x->p > start && pc_strbuf_append(&text, start, (size_t)(x->p - start)) < 0)
			goto oom;
		if (!*x->p) {
			x->err = "end of file inside an element";
			goto fail;
		}
		if (strncmp(x->p, "<!--", 4) == 0) {
			if (!xml_skip_past(x, "-->")) {
				x->err = "unterminated comment";
				goto fail;
			}
		} else if (strncmp(x->p, "</", 2) == 0) {
			size_t len = strlen(n->name);

			if (strncmp(x->p + 2, n->name, len) != 0 || xml_name_char(x->p[2 + len])) {
				x->err = "mismatched end tag";
				goto fail;
			}
			x->p += 2 + len;
			xml_skip_space(x);
			if (*x->p != '>') {
				x->err = "malformed end tag";
				goto fail;
			}
			x->p++;
			break;
		} else {
			struct xml_node *k = xml_element(x);
			struct xml_node **kids;

			if (!k)
				goto fail;
			kids = PC_ARRAY_PUSH(n->kids, n->n_kids, n->cap_kids);
			if (!kids) {
				xml_free(k);
				goto oom;
			}
			*kids = k;
		}
	}
	if (text.len > 0) {
		size_t b = 0, e = text.len;

		while (b < e && isspace((unsigned char)text.buf[b]))
			b++;
		while (e > b && isspace((unsigned char)text.buf[e - 1]))
			e--;
		n->text = xml_decode(text.buf + b, e - b);
		if (!n->text)
			goto oom;
	}
	pc_strbuf_free(&text);
	return 0;
oom:
	x->err = "out of memory";
fail:
	pc_strbuf_free(&text);
	return -1;
}

static struct xml_node *xml_element(struct xml_parser *x)
{
	struct xml_node *n = calloc(1, sizeof(*n));
	const char *s;
	size_t na = 0;

	if (!n) {
		x->err = "out of memory";
		return NULL;
	}
	n->line = x->line;
	x->p++; /* '<' */
	s = x->p;
	while (xml_name_char(*x->p))
		x->p++;
	if (x->p == s) {
		x->err = "malformed tag";
		goto fail;
	}
	n->name = strndup(s, (size_t)(x->p - s));
	if (!n->name)
		goto oom;
	for (;;) {
		char q;

		xml_skip_space(x);
		if (*x->p == '/' && x->p[1] == '>') {
			x->p += 2;
			return n;
		}
		if (*x->p == '>') {
			x->p++;
			if (xml_content(x, n) < 0)
				goto fail;
			return n;
		}
		s = x->p;
		while (xml_name_char(*x->p))
			x->p++;
		if (x->p == s) {
			x->err = "malformed attribute";
			goto fail;
		}
		if (xml_push_attr(n, &na, strndup(s, (size_t)(x->p - s))) < 0 || !n->attrs[na - 1])
			goto oom;
		xml_skip_space(x);
		if (*x->p != '=') {
			x->err = "attribute without a value";
			goto fail;
		}
		x->p++;
		xml_skip_space(x);
		q = *x->p;
		if (q != '"' && q != '\'') {
			x->err = "attribute value without quotes";
			goto fail;
		}
		s = ++x->p;
		while (*x->p && *x->p != q)
			x->p++;
		if (!*x->p) {
			x->err = "unterminated attribute value";
			goto fail;
		}
		if (xml_push_attr(n, &na, xml_decode(s, (size_t)(x->p - s))) < 0 ||
		    !n->attrs[na - 1])
			goto oom;
		x->p++;
	}
oom:
	x->err = "out of memory";
fail:
	xml_free(n);
	return NULL;
}

struct xml_node *xml_parse(const char *data, const char **err, size_t *err_line)
{
	struct xml_parser x = {.p = data, .line = 1};
	struct xml_node *root = NULL;

	for (;;) {
		xml_skip_space(&x);
		if (strncmp(x.p, "<?", 2) == 0) {
			if (!xml_skip_past(&x, "?>"))
				break;
		} else if (strncmp(x.p, "<!--", 4) == 0) {
			if (!xml_skip_past(&x, "-->"))
				break;
		} else if (strncmp(x.p, "<!", 2) == 0) {
			if (!xml_skip_past(&x, ">"))
				break;
		} else if (*x.p == '<' && !root) {
			root = xml_element(&x);
			if (!root)
				break;
		} else if (!*x.p && root) {
			return root;
		} else {
			x.err = root ? "text after the document element" : "no document element";
			break;
		}
	}
	xml_free(root);
	*err = x.err ? x.err : "unterminated declaration or comment";
	*err_line = x.line;
	return NULL;
}
