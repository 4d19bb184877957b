/* The configuration object: its life cycle, look-ups, canonical text of
 * ports and addresses, portctl.conf settings, and argv turned into a line. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lang.h"

static void settings_default(struct pc_settings *s)
{
	*s = (struct pc_settings){
	    .cli_changes = true,
	    .bans = true,
	    .group = "portctl",
	    .socket_mode = 0666,
	    .log_level = PC_LOG_INFO,
	    .table_owner = true,
	    .drift = PC_DRIFT_REPAIR,
	    .reverse_path = PC_RPF_STRICT,
	    .log_group = -1,
	    .watch_group = 2,
	};
}

struct pc_config *pc_config_new(void)
{
	struct pc_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->arena = pc_arena_new();
	if (!cfg->arena) {
		free(cfg);
		return NULL;
	}
	settings_default(&cfg->settings);
	return cfg;
}

void pc_config_free(struct pc_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->zones);
	free(cfg->services);
	if (cfg->rules)
		free(cfg->rules - cfg->rules_front);
	pc_config_ports_forget(cfg);
	free(cfg->bans);
	free(cfg->sets);
	pc_sources_free(&cfg->sources);
	pc_arena_free(cfg->arena);
	free(cfg);
}

int pc_prefix_parse(const char *text, struct pc_prefix *out, struct pc_diags *d)
{
	struct pc_loc loc = { .file = NULL, .line = 1, .col = 1 };

	return prefix_parse(out, text, strlen(text), &loc, d);
}

int pc_number_parse(const char *text, uint32_t max, uint32_t *out)
{
	return number_parse(text, strlen(text), max, out);
}

int pc_port_parse(const char *text, uint16_t *out)
{
	uint32_t v;

	/* As the grammar: digits only, 1-65535. */
	if (number_parse(text, strlen(text), 65535, &v) < 0 || v == 0)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int pc_host_parse(const char *text, uint8_t *family, uint8_t addr[16])
{
	struct pc_prefix p;
	struct pc_diags d;
	int r;

	if (strchr(text, '/'))
		return -EINVAL;
	pc_diags_init(&d);
	r = pc_prefix_parse(text, &p, &d);
	pc_diags_free(&d);
	if (r < 0 || p.family == 0)
		return -EINVAL;
	*family = p.family;
	memcpy(addr, p.addr, 16);
	return 0;
}

bool pc_name_valid(const char *s)
{
	return name_is_valid(s, strlen(s));
}

int pc_config_ban_add(struct pc_config *cfg, const struct pc_prefix *addr, const char *zone,
		      uint64_t expires)
{
	struct pc_ban_entry *b;
	const char *z = zone ? pc_arena_strdup(cfg->arena, zone) : NULL;

	if (zone && !z)
		return -ENOMEM;
	b = PC_ARRAY_PUSH(cfg->bans, cfg->n_bans, cfg->cap_bans);
	if (!b)
		return -ENOMEM;
	*b = (struct pc_ban_entry){ .addr = *addr, .zone = z, .expires = expires };
	return 0;
}

static void rules_move(struct pc_config *cfg, size_t from, size_t to)
{
	struct pc_rule tmp = cfg->rules[from];

	if (from > to)
		memmove(&cfg->rules[to + 1], &cfg->rules[to], (from - to) * sizeof(tmp));
	else if (from < to)
		memmove(&cfg->rules[from], &cfg->rules[from + 1], (to - from) * sizeof(tmp));
	cfg->rules[to] = tmp;
}

static void rules_remove(struct pc_config *cfg, size_t i)
{
	memmove(&cfg->rules[i], &cfg->rules[i + 1], (cfg->n_rules - i - 1) * sizeof(cfg->rules[0]));
	cfg->n_rules--;
}

void pc_config_rule_move(struct pc_config *cfg, size_t from, size_t to)
{
	pc_config_ports_forget(cfg);
	rules_move(cfg, from, to);
}

void pc_config_rule_remove(struct pc_config *cfg, size_t i)
{
	pc_config_ports_forget(cfg);
	rules_remove(cfg, i);
}

/* --- the rules' ports, by port (pc_config_ports_alone) --- */

/* A port range of one protocol, as keys: the protocol's bit number << 16
 * | port, so that one sorted array holds every protocol. */
struct port_keys {
	uint32_t lo, hi;
};

struct pc_port_index {
	size_t n_rules;	   /* the configuration's when it was right */
	uint32_t *singles; /* ranges of one port, sorted, repeats kept */
	size_t n_singles, cap_singles;
	struct port_keys *spans; /* of more than one port, in no order */
	size_t n_spans, cap_spans;
};

void pc_config_ports_forget(struct pc_config *cfg)
{
	if (!cfg->port_index)
		return;
	free(cfg->port_index->singles);
	free(cfg->port_index->spans);
	free(cfg->port_index);
	cfg->port_index = NULL;
}

/* The first of the sorted singles not below key. */
static size_t singles_lower(const struct pc_port_index *ix, uint32_t key)
{
	size_t lo = 0, hi = ix->n_singles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->singles[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* r's next port range of one protocol as keys (from *i, *bit on, which
 * it moves past it); false when none is left. */
static bool keys_next(const struct pc_rule *r, size_t *i, unsigned *bit, struct port_keys *k)
{
	for (; *i < r->n_ports; (*i)++, *bit = 0) {
		const struct pc_port_range *pr = &r->ports[*i];

		for (; *bit < 3; (*bit)++) {
			if (pr->protos & (1u << *bit)) {
				k->lo = (uint32_t)*bit << 16 | pr->lo;
				k->hi = (uint32_t)*bit << 16 | pr->hi;
				(*bit)++;
				return true;
			}
		}
	}
	return false;
}

/* r's port ranges into ix (sorted: in their place; else at the end) or
 * out of it. 0, -ENOMEM, or -ENOENT (not there: the index was wrong). */
static int index_rule(struct pc_port_index *ix, const struct pc_rule *r, bool add, bool sorted)
{
	struct port_keys k;
	size_t i = 0;
	unsigned bit = 0;

	while (keys_next(r, &i, &bit, &k)) {
		if (k.lo == k.hi) {
			size_t at = sorted ? singles_lower(ix, k.lo) : ix->n_singles;

			if (add) {
				if (!PC_ARRAY_PUSH(ix->singles, ix->n_singles, ix->cap_singles))
					return -ENOMEM;
				memmove(&ix->singles[at + 1], &ix->singles[at],
					(ix->n_singles - 1 - at) * sizeof(*ix->singles));
				ix->singles[at] = k.lo;
			} else {
				if (at == ix->n_singles || ix->singles[at] != k.lo)
					return -ENOENT;
				memmove(&ix->singles[at], &ix->singles[at + 1],
					(ix->n_singles - at - 1) * sizeof(*ix->singles));
				ix->n_singles--;
			}
		} else if (add) {
			struct port_keys *slot = PC_ARRAY_PUSH(ix->spans, ix->n_spans, ix->cap_spans);

			if (!slot)
				return -ENOMEM;
			*slot = k;
		} else {
			size_t s = 0;

			while (s < ix->n_spans && (ix->spans[s].lo != k.lo || ix->spans[s].hi != k.hi))
				s++;
			if (s == ix->n_spans)
				return -ENOENT;
			ix->spans[s] = ix->spans[--ix->n_spans];
		}
	}
	return 0;
}

/* Keys (below 1 << 24) sorted by counting, a byte a pass: O(keys),
 * where qsort of 10,000 took longer than the delete they serve. */
static int keys_sort(uint32_t *v, size_t n)
{
	_cleanup_free_ uint32_t *tmp = malloc(n * sizeof(*tmp));
	size_t count[257];

	if (!tmp)
		return -ENOMEM;
	for (unsigned shift = 0; shift < 24; shift += 8) {
		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[((v[i] >> shift) & 0xff) + 1]++;
		for (size_t d = 1; d <= 256; d++)
			count[d] += count[d - 1];
		for (size_t i = 0; i < n; i++)
			tmp[count[(v[i] >> shift) & 0xff]++] = v[i];
		memcpy(v, tmp, n * sizeof(*v));
	}
	return 0;
}

int pc_config_ports_index(struct pc_config *cfg)
{
	struct pc_port_index *ix;

	if (cfg->port_index && cfg->port_index->n_rules == cfg->n_rules)
		return 0;
	pc_config_ports_forget(cfg);
	ix = calloc(1, sizeof(*ix));
	if (!ix)
		return -ENOMEM;
	cfg->port_index = ix;
	ix->n_rules = cfg->n_rules;
	for (size_t i = 0; i < cfg->n_rules; i++) {
		if (index_rule(ix, &cfg->rules[i], true, false) < 0) {
			pc_config_ports_forget(cfg);
			return -ENOMEM;
		}
	}
	if (ix->n_singles > 1 && keys_sort(ix->singles, ix->n_singles) < 0) {
		pc_config_ports_forget(cfg);
		return -ENOMEM;
	}
	return 0;
}

/* Rule r came (add) or goes; the index follows, or is dropped. */
static void index_update(struct pc_config *cfg, const struct pc_rule *r, bool add)
{
	struct pc_port_index *ix = cfg->port_index;

	if (!ix)
		return;
	/* When r came, the count has it already. */
	if (ix->n_rules + add != cfg->n_rules || index_rule(ix, r, add, true) < 0) {
		pc_config_ports_forget(cfg);
		return;
	}
	ix->n_rules = add ? ix->n_rules + 1 : ix->n_rules - 1;
}

bool pc_config_ports_alone(const struct pc_config *cfg, const struct pc_rule *r,
			   enum pc_proto proto, uint16_t lo, uint16_t hi)
{
	const struct pc_port_index *ix = cfg->port_index;
	uint32_t bit = (uint32_t)__builtin_ctz(proto);
	uint32_t klo = bit << 16 | lo, khi = bit << 16 | hi;
	size_t n_singles = 0, n_spans = 0, n_others = 0, i = 0;
	struct port_keys k;
	unsigned b = 0;

	/* Not made, or not of these rules: who knows. */
	if (!ix || ix->n_rules != cfg->n_rules)
		return false;
	/* r's own ranges there are in the index too. */
	while (keys_next(r, &i, &b, &k)) {
		if (k.hi < klo || k.lo > khi)
			continue;
		if (k.lo == k.hi)
			n_singles++;
		else
			n_spans++;
	}
	if (singles_lower(ix, khi + 1) - singles_lower(ix, klo) > n_singles)
		return false;
	for (size_t s = 0; s < ix->n_spans; s++)
		n_others += ix->spans[s].hi >= klo && ix->spans[s].lo <= khi;
	return n_others == n_spans;
}

/* snprintf(buf, size, "%s:%u", base, line) by hand (pc_put_*): a comment
 * per kernel element, 10,000 at a start with 10,000 rules, and snprintf's
 * format parsing was 8% of the daemon's start. */
static void file_line_format(char *buf, size_t size, const char *base, unsigned int line)
{
	size_t at;

	if (size == 0)
		return;
	at = pc_put_str(buf, size, 0, base);
	at = pc_put_str(buf, size, at, ":");
	pc_put_uint(buf, size, at, line);
}

void pc_rule_comment(const struct pc_rule *r, char *buf, size_t size)
{
	const char *file = r->loc.file ? r->loc.file : "-";
	const char *base = strrchr(file, '/');
	size_t n;

	base = base ? base + 1 : file;
	if (r->comment) {
		snprintf(buf, size, "%s", r->comment);
		return;
	}
	if (!streq(base, PC_CLI_RULES_FILE) || !r->text) {
		file_line_format(buf, size, base, r->loc.line);
		return;
	}
	n = strlen(r->text);
	if (n >= size) {
		/* Cut at a character's start, not inside one. */
		n = size - 1;
		while (n > 0 && ((unsigned char)r->text[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(buf, r->text, n);
	buf[n] = '\0';
}

static size_t rules_doubled(const struct pc_config *cfg)
{
	return cfg->cap_rules ? 2 * cfg->cap_rules : 8;
}

/* The rules into a new array of cap rules, with free slots before the
 * first; the former allocation in *old (NULL if none). */
static int rules_realloc(struct pc_config *cfg, size_t cap, void **old)
{
	size_t front = cap / 32;
	struct pc_rule *mem;

	*old = NULL;
	if (cap > SIZE_MAX / sizeof(*mem) - front)
		return -ENOMEM;
	mem = malloc((front + cap) * sizeof(*mem));
	if (!mem)
		return -ENOMEM;
	if (cfg->rules) {
		memcpy(mem + front, cfg->rules, cfg->n_rules * sizeof(*mem));
		*old = cfg->rules - cfg->rules_front;
	}
	cfg->rules = mem + front;
	cfg->rules_front = front;
	cfg->cap_rules = cap;
	return 0;
}

int pc_config_rules_reserve(struct pc_config *cfg, size_t lines)
{
	size_t want;
	void *old;

	/* A small file: the doublings cost little, and its lines may well be
	 * services or zones, not rules (an idle daemon keeps its memory). */
	want = cfg->n_rules + lines + lines / 8 + 64;
	if (lines < 1024 || want <= cfg->cap_rules)
		return 0;
	if (rules_realloc(cfg, want, &old) < 0)
		return -ENOMEM;
	free(old);
	return 0;
}

int pc_config_rules_grow(struct pc_config *cfg, struct pc_rules_moved *moved, void **old)
{
	const struct pc_rule *first = cfg->rules;
	int r;

	*moved = (struct pc_rules_moved){0};
	*old = NULL;
	if (cfg->n_rules < cfg->cap_rules)
		return 0;
	r = rules_realloc(cfg, rules_doubled(cfg), old);
	if (r >= 0 && first)
		*moved = (struct pc_rules_moved){.first = first, .end = first + cfg->n_rules,
						 .to = cfg->rules};
	return r;
}

struct pc_rule *pc_config_rule_push(struct pc_config *cfg)
{
	struct pc_rule *slot;
	void *old;

	if (cfg->n_rules == cfg->cap_rules) {
		if (rules_realloc(cfg, rules_doubled(cfg), &old) < 0)
			return NULL;
		free(old);
	}
	slot = &cfg->rules[cfg->n_rules++];
	memset(slot, 0, sizeof(*slot));
	return slot;
}

struct pc_rules_moved pc_config_rule_put(struct pc_config *cfg, size_t at)
{
	size_t last = cfg->n_rules - 1;
	struct pc_rule *old = cfg->rules, tmp = old[last];

	index_update(cfg, &tmp, true);
	if (at >= last - at || !cfg->rules_front) {
		rules_move(cfg, last, at);
		return (struct pc_rules_moved){ .first = &old[at], .end = &old[last], .by = 1 };
	}
	/* The first `at` rules one place down, into a free slot; the last
	 * slot is left behind, the count stays (it has the new rule). */
	memmove(old - 1, old, at * sizeof(tmp));
	cfg->rules = old - 1;
	cfg->rules_front--;
	cfg->cap_rules++;
	cfg->rules[at] = tmp;
	return (struct pc_rules_moved){ .first = old, .end = &old[at], .by = -1 };
}

struct pc_rules_moved pc_config_rule_take(struct pc_config *cfg, size_t at)
{
	struct pc_rule *old = cfg->rules;

	index_update(cfg, &old[at], false);
	if (at >= cfg->n_rules - 1 - at) {
		rules_remove(cfg, at);
		return (struct pc_rules_moved){ .first = &old[at + 1], .end = &old[cfg->n_rules + 1],
						.by = -1 };
	}
	memmove(old + 1, old, at * sizeof(*old));
	cfg->rules = old + 1;
	cfg->rules_front++;
	cfg->cap_rules--;
	cfg->n_rules--;
	return (struct pc_rules_moved){ .first = old, .end = &old[at], .by = 1 };
}

void pc_config_truncate(struct pc_config *cfg, size_t n_rules, size_t n_sources)
{
	/* Rules parsed but never put are not in the index: it holds. */
	if (n_rules != cfg->n_rules && cfg->port_index && cfg->port_index->n_rules != n_rules)
		pc_config_ports_forget(cfg);
	cfg->n_rules = n_rules;
	while (cfg->sources.n > n_sources) {
		struct pc_source *src = &cfg->sources.items[--cfg->sources.n];

		free(src->name);
		free(src->data);
	}
}

const struct pc_zone *pc_config_zone(const struct pc_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_zones; i++)
		if (streq(cfg->zones[i].name, name))
			return &cfg->zones[i];
	return NULL;
}

const struct pc_service *pc_config_service(const struct pc_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_services; i++)
		if (streq(cfg->services[i].name, name))
			return &cfg->services[i];
	return NULL;
}

static const char *protos_suffix(uint8_t protos)
{
	switch (protos) {
	case PC_PROTO_TCP:
		return "/tcp";
	case PC_PROTO_UDP:
		return "/udp";
	case PC_PROTO_SCTP:
		return "/sctp";
	default:
		return "";
	}
}

int pc_port_range_format(const struct pc_port_range *r, char *buf, size_t size)
{
	int n;

	if (r->lo == r->hi)
		n = snprintf(buf, size, "%u%s", r->lo, protos_suffix(r->protos));
	else
		n = snprintf(buf, size, "%u-%u%s", r->lo, r->hi, protos_suffix(r->protos));
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}


/* Words the shell kept whole but the grammar would split or misread. */
static bool word_needs_quotes(const char *w)
{
	if (!*w)
		return true;
	for (const unsigned char *s = (const unsigned char *)w; *s; s++)
		if (*s <= ' ' || *s == '"' || *s == '\\' || *s == '#' || *s == 0x7f)
			return true;
	return false;
}

char *pc_rule_text_from_argv(int argc, char *const argv[])
{
	struct pc_strbuf sb = {0};
	int r = pc_strbuf_append(&sb, "", 0);

	for (int i = 0; r >= 0 && i < argc; i++) {
		const char *w = argv[i];
		/* A comment or log prefix is one word even when it holds a comma. */
		bool after = i > 0 && (streq(argv[i - 1], "comment") || streq(argv[i - 1], "prefix"));
		bool quote = word_needs_quotes(w) || after;

		if (i > 0)
			r = pc_strbuf_append(&sb, " ", 1);
		if (r >= 0)
			r = quote ? quote_append(&sb, w, strlen(w))
				  : pc_strbuf_append(&sb, w, strlen(w));
	}
	if (r < 0) {
		pc_strbuf_free(&sb);
		return NULL;
	}
	return sb.buf;
}

/* One "key = value" setting: what it sets and how the value is read. */
struct setting {
	const char *key;
	int (*set)(struct pc_config *cfg, const char *value, size_t len, const struct pc_loc *loc,
		   struct pc_diags *d);
};

static int yes_no_parse(bool *out, const char *v, size_t len, const struct pc_loc *loc,
			struct pc_diags *d)
{
	char w[48];

	if (len == 3 && memcmp(v, "yes", 3) == 0)
		*out = true;
	else if (len == 2 && memcmp(v, "no", 2) == 0)
		*out = false;
	else
		return pc_diag_add(d, PC_SEV_ERROR, loc, "write yes or no", "invalid value '%s'",
				   word_quote(w, sizeof(w), v, len)),
		       -EINVAL;
	return 0;
}

static int set_default_zone(struct pc_config *cfg, const char *v, size_t len,
			    const struct pc_loc *loc, struct pc_diags *d)
{
	char w[48];

	if (!name_is_valid(v, len))
		return pc_error(d, loc, "invalid zone name '%s'", word_quote(w, sizeof(w), v, len)),
		       -EINVAL;
	cfg->settings.default_zone = pc_arena_strndup(cfg->arena, v, len);
	cfg->settings.default_zone_loc = *loc;
	return cfg->settings.default_zone ? 0 : -ENOMEM;
}

static int set_cli_changes(struct pc_config *cfg, const char *v, size_t len,
			   const struct pc_loc *loc, struct pc_diags *d)
{
	return yes_no_parse(&cfg->settings.cli_changes, v, len, loc, d);
}

static int set_bans(struct pc_config *cfg, const char *v, size_t len, const struct pc_loc *loc,
		    struct pc_diags *d)
{
	return yes_no_parse(&cfg->settings.bans, v, len, loc, d);
}

static int set_table_owner(struct pc_config *cfg, const char *v, size_t len,
			   const struct pc_loc *loc, struct pc_diags *d)
{
	return yes_no_parse(&cfg->settings.table_owner, v, len, loc, d);
}

static int set_socket_group(struct pc_config *cfg, const char *v, size_t len,
			    const struct pc_loc *loc, struct pc_diags *d)
{
	char w[48];

	for (size_t i = 0; i < len; i++) {
		char c = v[i];

		if (len > 32 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				  (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return pc_error(d, loc, "invalid group name '%s'",
					word_quote(w, sizeof(w), v, len)),
			       -EINVAL;
	}
	cfg->settings.group = pc_arena_strndup(cfg->arena, v, len);
	return cfg->settings.group ? 0 : -ENOMEM;
}

static int set_socket_mode(struct pc_config *cfg, const char *v, size_t len,
			   const struct pc_loc *loc, struct pc_diags *d)
{
	mode_t m = 0;
	char w[48];

	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '7' || len > 4)
			return pc_diag_add(d, PC_SEV_ERROR, loc, "write an octal mode such as 0660",
					   "invalid socket mode '%s'",
					   word_quote(w, sizeof(w), v, len)),
			       -EINVAL;
		m = m * 8 + (v[i] - '0');
	}
	if (m > 0777)
		return pc_diag_add(d, PC_SEV_ERROR, loc, "permission bits only, such as 0660",
				   "socket mode %s has bits beyond 0777",
				   word_quote(w, sizeof(w), v, len)),
		       -EINVAL;
	cfg->settings.socket_mode = m;
	return 0;
}

static int value_pick(const char *v, size_t len, const char *const *words, size_t n,
		      const struct pc_loc *loc, struct pc_diags *d)
{
	char w[48], hint[96];
	const char *s;

	for (size_t i = 0; i < n; i++)
		if (strlen(words[i]) == len && memcmp(words[i], v, len) == 0)
			return i;
	s = suggest_from(v, len, words, n);
	if (s) {
		snprintf(hint, sizeof(hint), "did you mean '%s'?", s);
	} else {
		size_t o = snprintf(hint, sizeof(hint), "one of:");

		for (size_t i = 0; i < n && o < sizeof(hint); i++)
			o += snprintf(hint + o, sizeof(hint) - o, " %s", words[i]);
	}
	pc_diag_add(d, PC_SEV_ERROR, loc, hint, "invalid value '%s'",
		    word_quote(w, sizeof(w), v, len));
	return -EINVAL;
}

static int set_log_level(struct pc_config *cfg, const char *v, size_t len, const struct pc_loc *loc,
			 struct pc_diags *d)
{
	static const char *const levels[] = {"err", "warning", "notice", "info", "debug"};
	int i = value_pick(v, len, levels, ARRAY_SIZE(levels), loc, d);

	if (i < 0)
		return i;
	cfg->settings.log_level = i;
	return 0;
}

static int set_drift(struct pc_config *cfg, const char *v, size_t len, const struct pc_loc *loc,
		     struct pc_diags *d)
{
	static const char *const modes[] = {"repair", "report"};
	int i = value_pick(v, len, modes, ARRAY_SIZE(modes), loc, d);

	if (i < 0)
		return i;
	cfg->settings.drift = i;
	return 0;
}

static int set_reverse_path(struct pc_config *cfg, const char *v, size_t len,
			    const struct pc_loc *loc, struct pc_diags *d)
{
	static const char *const modes[] = {"strict", "loose", "off"};
	int i = value_pick(v, len, modes, ARRAY_SIZE(modes), loc, d);

	if (i < 0)
		return i;
	cfg->settings.reverse_path = i;
	return 0;
}

static int set_published(struct pc_config *cfg, const char *v, size_t len,
			 const struct pc_loc *loc, struct pc_diags *d)
{
	static const char *const modes[] = {"obey", "runtime"};
	int i = value_pick(v, len, modes, ARRAY_SIZE(modes), loc, d);

	if (i < 0)
		return i;
	cfg->settings.published = i;
	return 0;
}

/* An nflog group number, 0-65535; with kernel_ok, "kernel" gives -1. */
static int group_parse(const char *v, size_t len, bool kernel_ok, const struct pc_loc *loc,
		       struct pc_diags *d, int *out)
{
	unsigned long n = 0;
	char w[48];

	if (kernel_ok && len == 6 && memcmp(v, "kernel", 6) == 0) {
		*out = -1;
		return 0;
	}
	for (size_t i = 0; i < len && n <= 65535; i++) {
		if (v[i] < '0' || v[i] > '9')
			break;
		n = n * 10 + (unsigned long)(v[i] - '0');
		if (i + 1 == len && n <= 65535) {
			*out = (int)n;
			return 0;
		}
	}
	return pc_diag_add(d, PC_SEV_ERROR, loc,
			   kernel_ok ? "write 'kernel' or an nflog group 0-65535"
				     : "write an nflog group 0-65535",
			   "invalid log group '%s'", word_quote(w, sizeof(w), v, len)),
	       -EINVAL;
}

static int set_log_group(struct pc_config *cfg, const char *v, size_t len,
			 const struct pc_loc *loc, struct pc_diags *d)
{
	return group_parse(v, len, true, loc, d, &cfg->settings.log_group);
}

static int set_watch_group(struct pc_config *cfg, const char *v, size_t len,
			   const struct pc_loc *loc, struct pc_diags *d)
{
	return group_parse(v, len, false, loc, d, &cfg->settings.watch_group);
}

static const struct setting settings[] = {
    {"default-zone", set_default_zone},
    {"cli-changes", set_cli_changes},
    {"bans", set_bans},
    {"socket-group", set_socket_group},
    {"socket-mode", set_socket_mode},
    {"log-level", set_log_level},
    {"table-owner", set_table_owner},
    {"drift", set_drift},
    {"reverse-path", set_reverse_path},
    {"published-ports", set_published},
    {"log-group", set_log_group},
    {"watch-group", set_watch_group},
};

static size_t trim_left(const char *s, size_t i, size_t end)
{
	while (i < end && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

static size_t trim_right(const char *s, size_t start, size_t end)
{
	while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r'))
		end--;
	return end;
}

static int setting_line_parse(struct pc_config *cfg, const char *file, uint32_t lineno,
			      const char *line, size_t n, struct pc_loc *seen, struct pc_diags *d)
{
	const char *hash = memchr(line, '#', n);
	size_t end = trim_right(line, 0, hash ? (size_t)(hash - line) : n);
	size_t ks = trim_left(line, 0, end), ke, vs;
	const char *eq = memchr(line, '=', end);
	struct pc_loc loc = {.file = file, .line = lineno, .col = ks + 1, .len = 1};
	const char *keys[ARRAY_SIZE(settings)];
	char w[48], hint[96];
	const char *s;

	if (memchr(line, '\0', n)) {
		loc.col = (const char *)memchr(line, '\0', n) - line + 1;
		return pc_error(d, &loc, "NUL byte in line"), -EINVAL;
	}
	if (pc_utf8_valid_len(line, n) < n) {
		loc.col = pc_utf8_valid_len(line, n) + 1;
		return pc_diag_add(d, PC_SEV_ERROR, &loc,
				   "save the file as UTF-8, e.g. with: iconv -f latin1 -t utf-8",
				   "invalid UTF-8 byte 0x%02x", (unsigned char)line[loc.col - 1]),
		       -EINVAL;
	}
	if (ks == end)
		return 0;
	if (!eq)
		return pc_diag_add(d, PC_SEV_ERROR, &loc, "write key = value",
				   "expected 'key = value'"),
		       -EINVAL;
	ke = trim_right(line, ks, eq - line);
	vs = trim_left(line, eq - line + 1, end);
	loc.len = ke - ks;
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		keys[i] = settings[i].key;
		if (strlen(settings[i].key) != ke - ks ||
		    memcmp(settings[i].key, line + ks, ke - ks) != 0)
			continue;
		if (seen[i].line) {
			snprintf(hint, sizeof(hint), "first set at line %u", seen[i].line);
			return pc_diag_add(d, PC_SEV_ERROR, &loc, hint, "'%s' is set twice",
					   settings[i].key),
			       -EINVAL;
		}
		seen[i] = loc;
		struct pc_loc vloc = {.file = file, .line = lineno, .col = vs + 1, .len = end - vs};

		if (vs == end)
			return pc_error(d, &vloc, "'%s' needs a value", settings[i].key), -EINVAL;
		return settings[i].set(cfg, line + vs, end - vs, &vloc, d);
	}
	s = suggest_from(line + ks, ke - ks, keys, ARRAY_SIZE(keys));
	snprintf(hint, sizeof(hint), "did you mean '%s'?", s ? s : "");
	return pc_diag_add(d, PC_SEV_ERROR, &loc, s ? hint : "see portctl.conf(5)",
			   "unknown setting '%s'", word_quote(w, sizeof(w), line + ks, ke - ks)),
	       -EINVAL;
}

int pc_settings_parse(struct pc_config *cfg, const char *name, char *data, size_t len,
		      struct pc_diags *d)
{
	struct pc_loc seen[ARRAY_SIZE(settings)] = {0};
	size_t errors = d->n_errors, off = 0;
	const char *file = pc_sources_add(&cfg->sources, name, data, len);
	uint32_t lineno = 0;

	if (!file) {
		free(data);
		return -ENOMEM;
	}
	cfg->sources.items[cfg->sources.n - 1].kind = PC_SOURCE_SETTINGS;
	while (off < len) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - data) - off : len - off;
		int r;

		lineno++;
		r = setting_line_parse(cfg, file, lineno, data + off, n, seen, d);
		if (r == -ENOMEM)
			return r;
		off += n + 1;
	}
	return d->n_errors > errors ? -EINVAL : 0;
}
