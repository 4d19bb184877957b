/* A configuration written back as rules-file text (portctl export), and two
 * configurations compared in rule-file words (portctl diff). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lang.h"
#include "portctl/export.h"

/* Middle parts of two rule lists larger than this (cells of the table) are
 * not aligned line by line: all of the old middle goes, all the new comes. */
#define DIFF_CELLS_MAX (4u * 1024 * 1024)

static int names_append(struct pc_strbuf *sb, const char *word, const struct pc_name *v, size_t n)
{
	int r = n ? pc_strbuf_printf(sb, " %s ", word) : 0;

	for (size_t i = 0; r >= 0 && i < n; i++)
		r = pc_strbuf_printf(sb, "%s%s", i ? "," : "", v[i].name);
	return r;
}

static int prefixes_append(struct pc_strbuf *sb, const char *word, const struct pc_prefix *v,
			   size_t n)
{
	char buf[64];
	int r = n ? pc_strbuf_printf(sb, " %s%s", word, word[0] ? " " : "") : 0;

	for (size_t i = 0; r >= 0 && i < n; i++) {
		r = pc_prefix_format(&v[i], buf, sizeof(buf));
		if (r >= 0)
			r = pc_strbuf_printf(sb, "%s%s", i ? "," : "", buf);
	}
	return r;
}

/* A path as one word of the grammar: quoted when it holds a blank, a
 * quote, a backslash, a comma or a '#'. */
static int quote_path(struct pc_strbuf *sb, const char *path)
{
	int r = 0;

	if (!path[strcspn(path, " \t\"\\,#")])
		return pc_strbuf_printf(sb, "%s", path);
	r = pc_strbuf_printf(sb, "\"");
	for (const char *c = path; r >= 0 && *c; c++)
		r = pc_strbuf_printf(sb, "%s%c", *c == '"' || *c == '\\' ? "\\" : "", *c);
	return r < 0 ? r : pc_strbuf_printf(sb, "\"");
}

static const char *policy_word(enum pc_policy p)
{
	return p == PC_POLICY_ACCEPT ? "accept" : p == PC_POLICY_DROP ? "drop" : "reject";
}

int pc_zone_text(const struct pc_zone *z, struct pc_strbuf *sb)
{
	int r = pc_strbuf_printf(sb, "zone %s", z->name);

	if (r >= 0)
		r = names_append(sb, "interface", z->interfaces, z->n_interfaces);
	if (r >= 0)
		r = prefixes_append(sb, "source", z->sources, z->n_sources);
	if (r >= 0 && z->policy_in != PC_POLICY_UNSET)
		r = pc_strbuf_printf(sb, " policy in %s", policy_word(z->policy_in));
	if (r >= 0 && z->policy_out != PC_POLICY_UNSET)
		r = pc_strbuf_printf(sb, " policy out %s", policy_word(z->policy_out));
	if (r >= 0 && z->policy_fwd != PC_POLICY_UNSET)
		r = pc_strbuf_printf(sb, " policy forward %s", policy_word(z->policy_fwd));
	if (r >= 0 && z->log_denied)
		r = pc_strbuf_printf(sb, " log-denied");
	if (r >= 0 && z->log_denied && z->log_level_set)
		r = pc_strbuf_printf(sb, " level %s", pc_log_level_word(z->log_level));
	if (r >= 0 && z->log_denied && z->log_prefix)
		r = pc_strbuf_printf(sb, " prefix ");
	if (r >= 0 && z->log_denied && z->log_prefix)
		r = quote_append(sb, z->log_prefix, strlen(z->log_prefix));
	/* Only a written "default": an inherited one comes back by itself. */
	if (r >= 0 && z->is_default && z->default_loc.line != 0)
		r = pc_strbuf_printf(sb, " default");
	return r < 0 ? r : 0;
}

int pc_service_text(const struct pc_service *s, struct pc_strbuf *sb)
{
	char buf[64];
	int r = pc_strbuf_printf(sb, "service %s ", s->name);

	for (size_t i = 0; r >= 0 && i < s->n_ports; i++) {
		r = pc_port_range_format(&s->ports[i], buf, sizeof(buf));
		if (r >= 0)
			r = pc_strbuf_printf(sb, "%s%s", i ? "," : "", buf);
	}
	return r < 0 ? r : 0;
}

/* "set NAME file PATH" (the file is not copied: it stays the source), or
 * "set NAME ADDR,..." for an inline one. */
int pc_set_text(const struct pc_addrset *s, struct pc_strbuf *sb)
{
	int r;

	if (s->file) {
		r = pc_strbuf_printf(sb, "set %s file ", s->name);
		return r < 0 ? r : quote_path(sb, s->file);
	}
	r = pc_strbuf_printf(sb, "set %s", s->name);
	return r < 0 ? r : prefixes_append(sb, "", s->addrs, s->n_addrs);
}

static int loc_comment(struct pc_strbuf *sb, const struct pc_loc *loc)
{
	if (!loc->file)
		return pc_strbuf_printf(sb, "\n");
	return pc_strbuf_printf(sb, "   # %s:%u\n", loc->file, loc->line);
}

int pc_config_export(const struct pc_config *cfg, struct pc_strbuf *sb)
{
	return pc_config_export_page(cfg, 0, cfg->n_rules, sb);
}

int pc_config_export_page(const struct pc_config *cfg, size_t from, size_t to,
			  struct pc_strbuf *sb)
{
	int r = 0;

	if (from > 0)
		goto rules;
	r = pc_strbuf_printf(sb, "# portctl export: the configuration in force as one rules "
				 "file.\n# Settings stay in portctl.conf; shipped zones, "
				 "services and defaults.rules are not repeated.\n");

	for (size_t i = 0; r >= 0 && i < cfg->n_zones; i++) {
		if (cfg->zones[i].origin == PC_ORIGIN_SHIPPED)
			continue;
		r = pc_zone_text(&cfg->zones[i], sb);
		if (r >= 0)
			r = loc_comment(sb, &cfg->zones[i].loc);
	}
	for (size_t i = 0; r >= 0 && i < cfg->n_services; i++) {
		if (cfg->services[i].origin == PC_ORIGIN_SHIPPED)
			continue;
		r = pc_service_text(&cfg->services[i], sb);
		if (r >= 0)
			r = loc_comment(sb, &cfg->services[i].loc);
	}
	for (size_t i = 0; r >= 0 && i < cfg->n_sets; i++) {
		r = pc_set_text(cfg->sets[i], sb);
		if (r >= 0)
			r = loc_comment(sb, &cfg->sets[i]->loc);
	}
	if (r >= 0)
		r = pc_strbuf_printf(sb, "# rules, first match wins\n");
rules:
	for (size_t i = from; r >= 0 && i < to && i < cfg->n_rules; i++) {
		/* The shipped defaults come back from defaults.rules, as the
		 * shipped zones and services do: a copy would be a second rule. */
		if (cfg->rules[i].origin == PC_ORIGIN_DEFAULTS)
			continue;
		r = pc_strbuf_printf(sb, "%s", cfg->rules[i].text);
		if (r >= 0)
			r = loc_comment(sb, &cfg->rules[i].loc);
	}
	return r < 0 ? r : 0;
}

void pc_changes_free(struct pc_changes *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->items[i].text);
	free(c->items);
	*c = (struct pc_changes){0};
}

/* Takes ownership of text (even on failure). */
static int change_add(struct pc_changes *c, char op, const char *kind, char *text,
		      const struct pc_loc *loc)
{
	struct pc_change *ch;

	if (!text)
		return -ENOMEM;
	ch = PC_ARRAY_PUSH(c->items, c->n, c->cap);
	if (!ch) {
		free(text);
		return -ENOMEM;
	}
	*ch = (struct pc_change){.op = op, .kind = kind, .text = text, .loc = loc};
	return 0;
}

static char *zone_string(const struct pc_zone *z)
{
	struct pc_strbuf sb = {0};

	if (pc_zone_text(z, &sb) < 0 || pc_strbuf_append(&sb, "", 0) < 0) {
		pc_strbuf_free(&sb);
		return NULL;
	}
	return sb.buf;
}

static char *service_string(const struct pc_service *s)
{
	struct pc_strbuf sb = {0};

	if (pc_service_text(s, &sb) < 0 || pc_strbuf_append(&sb, "", 0) < 0) {
		pc_strbuf_free(&sb);
		return NULL;
	}
	return sb.buf;
}

static const struct pc_zone *zone_find(const struct pc_config *cfg, const char *name)
{
	return pc_config_zone(cfg, name);
}

/* Zones of "from" that are gone or changed, then zones new or changed in "to". */
static int zones_diff(const struct pc_config *from, const struct pc_config *to,
		      struct pc_changes *out)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < from->n_zones; i++) {
		const struct pc_zone *a = &from->zones[i], *b = zone_find(to, a->name);
		_cleanup_free_ char *ta = zone_string(a), *tb = b ? zone_string(b) : NULL;

		if (!ta || (b && !tb))
			return -ENOMEM;
		if (!b || !streq(ta, tb))
			r = change_add(out, '-', "zone", TAKE_PTR(ta), &a->loc);
	}
	for (size_t i = 0; r >= 0 && i < to->n_zones; i++) {
		const struct pc_zone *b = &to->zones[i], *a = zone_find(from, b->name);
		_cleanup_free_ char *tb = zone_string(b), *ta = a ? zone_string(a) : NULL;

		if (!tb || (a && !ta))
			return -ENOMEM;
		if (!a || !streq(ta, tb))
			r = change_add(out, '+', "zone", TAKE_PTR(tb), &b->loc);
	}
	return r;
}

static int services_diff(const struct pc_config *from, const struct pc_config *to,
			 struct pc_changes *out)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < from->n_services; i++) {
		const struct pc_service *a = &from->services[i];
		const struct pc_service *b = pc_config_service(to, a->name);
		_cleanup_free_ char *ta = service_string(a), *tb = b ? service_string(b) : NULL;

		if (!ta || (b && !tb))
			return -ENOMEM;
		if (!b || !streq(ta, tb))
			r = change_add(out, '-', "service", TAKE_PTR(ta), &a->loc);
	}
	for (size_t i = 0; r >= 0 && i < to->n_services; i++) {
		const struct pc_service *b = &to->services[i];
		const struct pc_service *a = pc_config_service(from, b->name);
		_cleanup_free_ char *tb = service_string(b), *ta = a ? service_string(a) : NULL;

		if (!tb || (a && !ta))
			return -ENOMEM;
		if (!a || !streq(ta, tb))
			r = change_add(out, '+', "service", TAKE_PTR(tb), &b->loc);
	}
	return r;
}

static char *set_string(const struct pc_addrset *s)
{
	struct pc_strbuf sb = {0};

	if (pc_set_text(s, &sb) < 0 || pc_strbuf_append(&sb, "", 0) < 0) {
		pc_strbuf_free(&sb);
		return NULL;
	}
	return sb.buf;
}

static int prefix_ptr_cmp(const void *a, const void *b)
{
	const struct pc_prefix *x = *(const struct pc_prefix *const *)a;
	const struct pc_prefix *y = *(const struct pc_prefix *const *)b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

static const struct pc_prefix **prefixes_sorted(const struct pc_addrset *s)
{
	const struct pc_prefix **v = malloc((s->n_addrs + 1) * sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < s->n_addrs; i++)
		v[i] = &s->addrs[i];
	qsort(v, s->n_addrs, sizeof(*v), prefix_ptr_cmp);
	return v;
}

static int set_entry_change(struct pc_changes *out, char op, const struct pc_addrset *s,
			    const struct pc_prefix *p)
{
	char buf[64], *text = NULL;

	if (pc_prefix_format(p, buf, sizeof(buf)) < 0 || asprintf(&text, "@%s %s", s->name, buf) < 0)
		return -ENOMEM;
	return change_add(out, op, "set entry", text, &p->loc);
}

/* The entries of one list file read twice: a sorted merge, duplicates once. */
static int set_entries_diff(const struct pc_addrset *a, const struct pc_addrset *b,
			    struct pc_changes *out)
{
	_cleanup_free_ const struct pc_prefix **va = prefixes_sorted(a);
	_cleanup_free_ const struct pc_prefix **vb = prefixes_sorted(b);
	size_t i = 0, j = 0;
	int r = 0;

	if (!va || !vb)
		return -ENOMEM;
	while (r >= 0 && (i < a->n_addrs || j < b->n_addrs)) {
		int c = i == a->n_addrs ? 1 : j == b->n_addrs ? -1 : prefix_ptr_cmp(&va[i], &vb[j]);

		if (c < 0 && (i == 0 || prefix_ptr_cmp(&va[i - 1], &va[i])))
			r = set_entry_change(out, '-', a, va[i]);
		else if (c > 0 && (j == 0 || prefix_ptr_cmp(&vb[j - 1], &vb[j])))
			r = set_entry_change(out, '+', b, vb[j]);
		i += c <= 0;
		j += c >= 0;
	}
	return r;
}

/* Sets by name: their definition lines, then a list file's entries. */
static int sets_diff(const struct pc_config *from, const struct pc_config *to,
		     struct pc_changes *out)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < from->n_sets; i++) {
		const struct pc_addrset *a = from->sets[i], *b = pc_config_set(to, a->name);
		_cleanup_free_ char *ta = set_string(a), *tb = b ? set_string(b) : NULL;

		if (!ta || (b && !tb))
			return -ENOMEM;
		if (!b || !streq(ta, tb))
			r = change_add(out, '-', "set", TAKE_PTR(ta), &a->loc);
		else if (a->file)
			r = set_entries_diff(a, b, out);
	}
	for (size_t i = 0; r >= 0 && i < to->n_sets; i++) {
		const struct pc_addrset *b = to->sets[i], *a = pc_config_set(from, b->name);
		_cleanup_free_ char *tb = set_string(b), *ta = a ? set_string(a) : NULL;

		if (!tb || (a && !ta))
			return -ENOMEM;
		if (!a || !streq(ta, tb))
			r = change_add(out, '+', "set", TAKE_PTR(tb), &b->loc);
	}
	return r;
}

static int default_diff(const struct pc_config *from, const struct pc_config *to,
			struct pc_changes *out)
{
	const char *a = from->zones[from->default_zone].name;
	const char *b = to->zones[to->default_zone].name;
	char *ta, *tb;
	int r;

	if (streq(a, b))
		return 0;
	if (asprintf(&ta, "default-zone = %s", a) < 0)
		return -ENOMEM;
	r = change_add(out, '-', "default-zone", ta, NULL);
	if (r < 0)
		return r;
	if (asprintf(&tb, "default-zone = %s", b) < 0)
		return -ENOMEM;
	return change_add(out, '+', "default-zone", tb, NULL);
}

static int rule_change(struct pc_changes *out, char op, const struct pc_rule *r)
{
	return change_add(out, op, "rule", strdup(r->text), &r->loc);
}

static bool rules_equal(const struct pc_rule *a, const struct pc_rule *b)
{
	return streq(a->text, b->text);
}

/*
 * The middle of two rule lists (after their common head and tail), aligned
 * by a longest common subsequence of rule texts so that one added line in
 * the middle of 1,000 shows as one "+", not as 500 "-" and "+".
 */
static int rules_middle_diff(const struct pc_rule *a, size_t n, const struct pc_rule *b, size_t m,
			     struct pc_changes *out)
{
	_cleanup_free_ uint32_t *t = NULL;
	size_t i = 0, j = 0;
	int r = 0;

	if (n && m && (n + 1) * (m + 1) <= DIFF_CELLS_MAX)
		t = calloc((n + 1) * (m + 1), sizeof(*t));
	if (!t) {
		for (i = 0; r >= 0 && i < n; i++)
			r = rule_change(out, '-', &a[i]);
		for (j = 0; r >= 0 && j < m; j++)
			r = rule_change(out, '+', &b[j]);
		return r;
	}
	/* t[i][j]: length of the LCS of a[i..] and b[j..]. */
	for (size_t x = n; x-- > 0;)
		for (size_t y = m; y-- > 0;)
			t[x * (m + 1) + y] =
			    rules_equal(&a[x], &b[y])
				? t[(x + 1) * (m + 1) + y + 1] + 1
				: (t[(x + 1) * (m + 1) + y] >= t[x * (m + 1) + y + 1]
				       ? t[(x + 1) * (m + 1) + y]
				       : t[x * (m + 1) + y + 1]);
	while (r >= 0 && (i < n || j < m)) {
		if (i < n && j < m && rules_equal(&a[i], &b[j])) {
			i++;
			j++;
		} else if (j == m ||
			   (i < n && t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1])) {
			r = rule_change(out, '-', &a[i++]);
		} else {
			r = rule_change(out, '+', &b[j++]);
		}
	}
	return r;
}

static int rules_diff(const struct pc_config *from, const struct pc_config *to,
		      struct pc_changes *out)
{
	size_t head = 0, tail = 0, n = from->n_rules, m = to->n_rules;

	while (head < n && head < m && rules_equal(&from->rules[head], &to->rules[head]))
		head++;
	while (tail < n - head && tail < m - head &&
	       rules_equal(&from->rules[n - 1 - tail], &to->rules[m - 1 - tail]))
		tail++;
	return rules_middle_diff(from->rules + head, n - head - tail, to->rules + head,
				 m - head - tail, out);
}

int pc_config_diff(const struct pc_config *from, const struct pc_config *to, struct pc_changes *out)
{
	int r = zones_diff(from, to, out);

	if (r >= 0)
		r = services_diff(from, to, out);
	if (r >= 0)
		r = sets_diff(from, to, out);
	if (r >= 0 && from->n_zones && to->n_zones)
		r = default_diff(from, to, out);
	if (r >= 0)
		r = rules_diff(from, to, out);
	if (r < 0)
		pc_changes_free(out);
	return r;
}
