/* Named address sets: the list-file format (one address or prefix a line,
 * comments, blank lines) and membership, for the evaluator and explain. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lang.h"

const struct pc_addrset *pc_config_set(const struct pc_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_sets; i++)
		if (streq(cfg->sets[i]->name, name))
			return cfg->sets[i];
	return NULL;
}

/* Where a line's address ends: a blank, a comment, or a stray \r. */
static size_t word_end(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '#' && s[i] != ';' && s[i] != '\r')
		i++;
	return i;
}

static size_t blanks_skip(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
		i++;
	return i;
}

/*
 * "ADDR [; comment]": lists such as Spamhaus DROP put a note after a ';',
 * others after a '#'. A second word on a line is an error, not ignored:
 * "10.0.0.1 10.0.0.2" is more likely a mangled file than a note.
 */
static int line_parse(struct pc_config *cfg, struct pc_addrset *set, const char *file,
		      uint32_t lineno, const char *s, size_t n, size_t *cap, struct pc_diags *d)
{
	size_t i = blanks_skip(s, n, 0), e, k;
	struct pc_loc loc = {.file = file, .line = lineno};
	struct pc_prefix p, *slot;
	char w[48];

	(void)cfg;
	if (i == n || s[i] == '#' || s[i] == ';')
		return 0;
	if (memchr(s, '\0', n) || !utf8_is_valid(s, n)) {
		loc.col = 1;
		loc.len = 1;
		pc_error(d, &loc, "NUL byte or invalid UTF-8 in line");
		return -EINVAL;
	}
	e = i + word_end(s + i, n - i);
	loc.col = (uint32_t)i + 1;
	loc.len = (uint32_t)(e - i);
	k = blanks_skip(s, n, e);
	if (k < n && s[k] != '#' && s[k] != ';') {
		struct pc_loc l2 = {.file = file, .line = lineno, .col = (uint32_t)k + 1,
				    .len = (uint32_t)word_end(s + k, n - k)};

		pc_diag_add(d, PC_SEV_ERROR, &l2, "one address or prefix a line; a note goes after '#' or ';'",
			    "unexpected '%s' after the address",
			    word_quote(w, sizeof(w), s + k, l2.len));
		return -EINVAL;
	}
	if (prefix_parse(&p, s + i, e - i, &loc, d) < 0)
		return -EINVAL;
	if (p.family == 0) {
		pc_diag_add(d, PC_SEV_ERROR, &loc, "leave the set out of the rule instead",
			    "a set holds addresses and prefixes, not 'any'");
		return -EINVAL;
	}
	slot = pc_array_push((void **)&set->addrs, &set->n_addrs, cap, sizeof(*set->addrs));
	if (!slot)
		return -ENOMEM;
	*slot = p;
	return 0;
}

int pc_addrset_parse(struct pc_config *cfg, struct pc_addrset *set, const char *file,
		     const char *data, size_t len, struct pc_diags *d)
{
	size_t errors = d->n_errors, cap = 0, pos = 0;
	struct pc_prefix *v;
	uint32_t lineno = 0;
	int r = 0;

	set->addrs = NULL;
	set->n_addrs = 0;
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;

		lineno++;
		r = line_parse(cfg, set, file, lineno, data + pos, n, &cap, d);
		if (r == -ENOMEM)
			break;
		pos += n + 1;
	}
	/* Into the arena: the set lives as long as the configuration. */
	v = set->n_addrs ? pc_arena_alloc(cfg->arena, set->n_addrs * sizeof(*v)) : NULL;
	if (set->n_addrs && !v)
		r = -ENOMEM;
	if (v)
		memcpy(v, set->addrs, set->n_addrs * sizeof(*v));
	free(set->addrs);
	set->addrs = v;
	if (r == -ENOMEM) {
		set->n_addrs = 0;
		return r;
	}
	set->loaded = true;
	return d->n_errors > errors ? -EINVAL : 0;
}

/* old's set of that name, read from the same file with the same text. */
static const struct pc_addrset *set_same_text(const struct pc_config *cfg, const struct pc_addrset *s,
					      const struct pc_config *old)
{
	const struct pc_addrset *o = pc_config_set(old, s->name);
	const struct pc_source *a, *b;

	if (!o || !o->loaded || !o->file || !streq(o->file, s->file))
		return NULL;
	a = pc_sources_find(&cfg->sources, s->file);
	b = pc_sources_find(&old->sources, o->file);
	if (!a || !b || a->kind != PC_SOURCE_SET || b->kind != PC_SOURCE_SET || a->len != b->len ||
	    memcmp(a->data, b->data, a->len))
		return NULL;
	return o;
}

int pc_config_sets_reuse(struct pc_config *cfg, const struct pc_config *old)
{
	for (size_t i = 0; i < cfg->n_sets; i++) {
		struct pc_addrset *s = cfg->sets[i];
		const struct pc_source *src;
		const struct pc_addrset *o;

		if (s->loaded || !s->file || !(o = set_same_text(cfg, s, old)))
			continue;
		s->addrs = o->n_addrs ? pc_arena_alloc(cfg->arena, o->n_addrs * sizeof(*s->addrs))
				      : NULL;
		if (o->n_addrs && !s->addrs)
			return -ENOMEM;
		if (o->n_addrs)
			memcpy(s->addrs, o->addrs, o->n_addrs * sizeof(*s->addrs));
		s->n_addrs = o->n_addrs;
		/* Their locations name the source by its stored name: ours. */
		src = pc_sources_find(&cfg->sources, s->file);
		for (size_t k = 0; k < s->n_addrs; k++)
			s->addrs[k].loc.file = src->name;
		s->loaded = true;
	}
	return 0;
}

static bool prefix_has(const struct pc_prefix *p, uint8_t family, const uint8_t *addr)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (p->family != family)
		return false;
	if (memcmp(p->addr, addr, full))
		return false;
	return !rest || ((p->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

const struct pc_prefix *pc_addrset_find(const struct pc_addrset *set, uint8_t family,
					const uint8_t *addr)
{
	for (size_t i = 0; i < set->n_addrs; i++)
		if (prefix_has(&set->addrs[i], family, addr))
			return &set->addrs[i];
	return NULL;
}

bool pc_addrset_contains(const struct pc_addrset *set, uint8_t family, const uint8_t *addr)
{
	return pc_addrset_find(set, family, addr) != NULL;
}
