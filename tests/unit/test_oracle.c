/* The oracle: for randomised configurations and randomised sequences of
 * changes (rules of every kind added, inserted and deleted, zones edited,
 * bans added and lifted), the difference pc_nl_apply installs on top of
 * the previous ruleset leaves the kernel holding exactly what a full
 * compile of the new configuration makes (pc_nl_verify: rules, sets and
 * their elements), and the ban sets remade in place
 * (pc_ruleset_bans_update) print as the full compile's; and one ban or
 * unban at a time among overlapping bans of several zones and ends, made
 * in place (pc_plan_ban_edit, pc_ban_delta_elems, pc_nl_apply_elem_change),
 * leaves the kernel, the plan and the configuration as a full compile of
 * the bans after it; and one port rule inserted anywhere or deleted, made
 * in place (pc_rule_edit_prepare, pc_nl_apply_elem_change,
 * pc_rule_edit_commit), leaves the kernel and the plan as a full compile
 * of the rules after it. Real kernel, in a private network namespace;
 * deterministic seeds. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libnftnl/chain.h>

#include "compile_helper.h"
#include "portctl/netlink.h"

#define SEEDS 24
#define STEPS 12
#define MAX_LINES 256

/* The files the rules are in, in order: each line's file, never before
 * the line above's (a file's rules are together, as on disk). */
static const char *const files[] = { "10-a.rules", "90-portctl.rules", "95-b.rules" };
#define N_FILES 3

struct model {
	char *lines[MAX_LINES];
	unsigned file[MAX_LINES];
	size_t n;
	/* Zone edits: lan's interface, dmz's source, lan's inbound policy. */
	unsigned lan_if, dmz_src, lan_policy;
	char bans[8][48];
	size_t n_bans;
};

static unsigned rnd(unsigned *seed, unsigned n)
{
	return (unsigned)rand_r(seed) % n;
}

static const char *proto(unsigned *seed)
{
	static const char *const p[] = { "/tcp", "/udp", "", "/sctp" };

	return p[rnd(seed, 4)];
}

static char *rule_random(unsigned *seed)
{
	static const char *const actions[] = { "allow", "deny", "reject" };
	static const char *const zones[] = { "", " zone lan", " zone dmz", " zone lan,dmz" };
	const char *action = actions[rnd(seed, 3)];
	unsigned p = 1000 + rnd(seed, 200);
	char buf[160];

	switch (rnd(seed, 10)) {
	case 0:
		snprintf(buf, sizeof(buf), "%s %u-%u%s%s", action, p, p + rnd(seed, 50), proto(seed),
			 zones[rnd(seed, 4)]);
		break;
	case 1:
		snprintf(buf, sizeof(buf), "%s from 10.%u.%u.%u", action, rnd(seed, 3), rnd(seed, 4),
			 rnd(seed, 8));
		break;
	case 2:
		snprintf(buf, sizeof(buf), "%s from 10.%u.%u.0/24%s", action, rnd(seed, 3),
			 rnd(seed, 4), zones[rnd(seed, 4)]);
		break;
	case 3:
		snprintf(buf, sizeof(buf), "%s %u/tcp from 2001:db8:%x::/48", action,
			 rnd(seed, 2) ? 22 : p, rnd(seed, 16));
		break;
	case 4:
		snprintf(buf, sizeof(buf), "limit %u/tcp%s", p, rnd(seed, 2) ? " rate 10/second" : "");
		break;
	case 5:
		snprintf(buf, sizeof(buf), "allow %u%s log", p, proto(seed));
		break;
	case 6:
		snprintf(buf, sizeof(buf), "%s out %u/tcp to 192.0.2.%u", action, p, rnd(seed, 8));
		break;
	case 7:
		snprintf(buf, sizeof(buf), "allow %u/udp rate %u/minute", p, 1 + rnd(seed, 30));
		break;
	default:
		snprintf(buf, sizeof(buf), "%s %u%s%s", action, p, proto(seed), zones[rnd(seed, 4)]);
		break;
	}
	if (rnd(seed, 4) == 0) {
		size_t n = strlen(buf);

		snprintf(buf + n, sizeof(buf) - n, " comment \"c%u\"", rnd(seed, 5));
	}
	return strdup(buf);
}

static char *model_text(const struct model *m)
{
	static const char *const policies[] = { "drop", "accept", "reject" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	fprintf(f, "zone public interface eth0 default\n");
	fprintf(f, "zone lan interface eth%u policy in %s\n", 1 + m->lan_if,
		policies[m->lan_policy]);
	fprintf(f, "zone dmz source 10.%u.0.0/16\n", 100 + m->dmz_src);
	for (size_t i = 0; i < m->n; i++) {
		if (m->file[i] != (i ? m->file[i - 1] : 0))
			fprintf(f, "# %s\n", files[m->file[i]]);
		fprintf(f, "%s\n", m->lines[i]);
	}
	fclose(f);
	return buf;
}

/* The model's configuration: the zones and rules of files[0], then the
 * other files' rules, each parsed as its file. */
static struct pc_config *model_config(const struct model *m)
{
	char *texts[N_FILES] = { NULL };
	struct model part = *m;
	struct pc_config *cfg;

	for (unsigned f = 0; f < N_FILES; f++) {
		size_t len = 0;
		FILE *out;

		part.n = 0;
		for (size_t i = 0; i < m->n; i++)
			if (m->file[i] == f)
				part.file[part.n] = 0, part.lines[part.n++] = m->lines[i];
		if (f == 0) {
			texts[f] = model_text(&part);
			continue;
		}
		out = open_memstream(&texts[f], &len);
		ck_assert_ptr_nonnull(out);
		for (size_t i = 0; i < part.n; i++)
			fprintf(out, "%s\n", part.lines[i]);
		fclose(out);
	}
	/* The shipped default after them all, as portctld loads it. */
	cfg = config_from_files_defaults(files, (const char *const *)texts, N_FILES,
					 "allow 22/tcp comment \"default\"\n");
	for (unsigned f = 0; f < N_FILES; f++)
		free(texts[f]);

	for (size_t i = 0; i < m->n_bans; i++) {
		struct pc_prefix p = { .family = AF_INET, .len = 32 };
		char addr[48];
		char *zone;

		snprintf(addr, sizeof(addr), "%s", m->bans[i]);
		zone = strchr(addr, ' ');
		if (zone)
			*zone++ = '\0';
		ck_assert_int_eq(inet_pton(AF_INET, addr, p.addr), 1);
		ck_assert_int_eq(pc_config_ban_add(cfg, &p, zone, 0), 0);
	}
	return cfg;
}

static void ban_toggle(struct model *m, unsigned *seed)
{
	char b[48];

	snprintf(b, sizeof(b), "203.0.113.%u%s", rnd(seed, 6), rnd(seed, 3) ? "" : " lan");
	for (size_t i = 0; i < m->n_bans; i++)
		if (!strcmp(m->bans[i], b)) {
			memmove(m->bans[i], m->bans[i + 1], (m->n_bans - i - 1) * sizeof(m->bans[0]));
			m->n_bans--;
			return;
		}
	/* One ban per address, as the daemon keeps them. */
	for (size_t i = 0; i < m->n_bans; i++)
		if (!strncmp(m->bans[i], b, strcspn(b, " ")) && (m->bans[i][strcspn(b, " ")] == ' ' ||
								   !m->bans[i][strcspn(b, " ")]))
			return;
	if (m->n_bans < ARRAY_SIZE(m->bans))
		memcpy(m->bans[m->n_bans++], b, sizeof(b));
}

/* One random change. Returns whether it touched only the bans. */
static bool change_random(struct model *m, unsigned *seed)
{
	unsigned kind = rnd(seed, 10), at;

	if (kind <= 2 && m->n < MAX_LINES) { /* append */
		m->lines[m->n++] = rule_random(seed);
	} else if (kind <= 4 && m->n < MAX_LINES) { /* insert */
		at = rnd(seed, (unsigned)m->n + 1);
		memmove(&m->lines[at + 1], &m->lines[at], (m->n - at) * sizeof(char *));
		m->lines[at] = rule_random(seed);
		m->n++;
	} else if (kind <= 6 && m->n) { /* delete */
		at = rnd(seed, (unsigned)m->n);
		free(m->lines[at]);
		memmove(&m->lines[at], &m->lines[at + 1], (m->n - at - 1) * sizeof(char *));
		m->n--;
	} else if (kind == 7) { /* a zone edited */
		switch (rnd(seed, 3)) {
		case 0:
			m->lan_if = (m->lan_if + 1) % 3;
			break;
		case 1:
			m->dmz_src = (m->dmz_src + 1) % 3;
			break;
		default:
			m->lan_policy = (m->lan_policy + 1) % 3;
			break;
		}
	} else {
		ban_toggle(m, seed);
		return true;
	}
	return false;
}

static size_t mismatches(struct pc_nl *nl, const struct pc_ruleset *rs)
{
	struct pc_nl_mismatches mm = { 0 };
	size_t n;

	ck_assert_int_eq(pc_nl_verify(nl, rs, &mm), 0);
	for (size_t i = 0; i < mm.n; i++)
		fprintf(stderr, "mismatch %c %s: %s\n", mm.items[i].op, mm.items[i].what,
			mm.items[i].text);
	n = mm.n;
	pc_nl_mismatches_free(&mm);
	return n;
}

/* A test's kernel handle, plan and rulesets, and the model's lines, freed. */
static void oracle_end(struct model *m, struct pc_config *cfg, struct pc_nl *nl,
		       struct pc_plan *plan, struct pc_ruleset *rs)
{
	pc_ruleset_free(rs);
	pc_plan_free(plan);
	pc_config_free(cfg);
	for (size_t i = 0; i < m->n; i++)
		free(m->lines[i]);
	pc_nl_close(nl);
}

START_TEST(test_difference_is_full_compile)
{
	size_t incremental = 0, steps = 0;

	for (unsigned s = 1; s <= SEEDS; s++) {
		unsigned seed = s * 2654435761u;
		struct model m = { .n = 0 };
		struct pc_ruleset *old = NULL;
		struct pc_config *cfg;
		struct pc_nl *nl = NULL;
		struct pc_diags d;

		ck_assert_int_eq(pc_nl_open(&nl), 0);
		for (unsigned i = rnd(&seed, 40); i > 0; i--)
			m.lines[m.n++] = rule_random(&seed);
		cfg = model_config(&m);
		old = ruleset_from_config(cfg);
		pc_diags_init(&d);
		ck_assert_int_eq(pc_nl_apply(nl, old, NULL, 0, &d), 0);
		pc_diags_free(&d);
		for (unsigned step = 0; step < STEPS; step++) {
			bool bans_only = change_random(&m, &seed);
			struct pc_config *next = model_config(&m);
			struct pc_ruleset *rs = ruleset_from_config(next);

			/* Bans remade in place are the full compile's. */
			if (bans_only) {
				struct pc_ruleset *spare = ruleset_from_config(cfg);
				_cleanup_free_ char *want = ruleset_text(rs);
				_cleanup_free_ char *got = NULL;

				ck_assert_int_eq(pc_ruleset_bans_update(spare, next), 0);
				got = ruleset_text(spare);
				ck_assert_str_eq(got, want);
				pc_ruleset_free(spare);
			}
			pc_diags_init(&d);
			if (pc_nl_apply(nl, rs, old, 0, &d) != 0) {
				pc_diags_print(stderr, &d, &next->sources);
				ck_abort_msg("seed %u step %u: the kernel refused the change", s, step);
			}
			pc_diags_free(&d);
			/* A difference the kernel refuses was made on a wrong
			 * picture of it; the table replaced loses its counters. */
			ck_assert_msg(pc_nl_last_stats(nl)->diff_refused == 0,
				      "seed %u step %u: the kernel refused the difference (%d)", s, step,
				      pc_nl_last_stats(nl)->diff_refused);
			incremental += pc_nl_last_stats(nl)->incremental;
			steps++;
			if (mismatches(nl, rs)) {
				_cleanup_free_ char *text = model_text(&m);

				/* On stderr: Check's message has a size limit. */
				fprintf(stderr, "%s", text);
				ck_abort_msg("seed %u step %u: the kernel differs from the full compile "
					     "of the model on stderr",
					     s, step);
			}
			pc_ruleset_free(old);
			old = rs;
			pc_config_free(cfg);
			cfg = next;
		}
		pc_ruleset_free(old);
		pc_config_free(cfg);
		for (size_t i = 0; i < m.n; i++)
			free(m.lines[i]);
		pc_nl_close(nl);
	}
	/* The oracle must have judged differences, not only whole tables. */
	ck_assert_uint_ge(incremental * 2, steps);
}
END_TEST

/* The bans of the in-place test, in the daemon's order: a new ban goes
 * last, a ban again takes the new end in place, an unban takes it out. */
struct ban_model {
	struct pc_prefix p[64];
	const char *zone[64];
	uint64_t expires[64];
	size_t n;
};

static struct pc_config *bans_config(const char *text, const struct ban_model *bm)
{
	struct pc_config *cfg = config_from_text(text);

	for (size_t i = 0; i < bm->n; i++)
		ck_assert_int_eq(pc_config_ban_add(cfg, &bm->p[i], bm->zone[i], bm->expires[i]), 0);
	return cfg;
}

/* Overlapping prefixes of 198.51.100.0/24 and 2001:db8::/32 nest, in
 * three scopes, with ends that tie and that differ. */
static void ban_random(unsigned *seed, struct pc_prefix *p, const char **zone, uint64_t *expires)
{
	static const char *const zones[] = { NULL, NULL, "lan", "dmz" };
	static const uint8_t lens4[] = { 24, 25, 26, 28, 30, 32, 32, 32 };
	static const uint8_t lens6[] = { 32, 48, 64, 128 };
	uint64_t now = (uint64_t)time(NULL);
	unsigned len;

	*p = (struct pc_prefix){ 0 };
	if (rnd(seed, 4) == 0) {
		p->family = AF_INET6;
		len = lens6[rnd(seed, 4)];
		p->addr[0] = 0x20, p->addr[1] = 0x01, p->addr[2] = 0x0d, p->addr[3] = 0xb8;
		p->addr[5] = (uint8_t)rnd(seed, 2);
		p->addr[15] = (uint8_t)rnd(seed, 4);
	} else {
		p->family = AF_INET;
		len = lens4[rnd(seed, 8)];
		p->addr[0] = 198, p->addr[1] = 51, p->addr[2] = 100;
		p->addr[3] = (uint8_t)(rnd(seed, 8) * 32 + rnd(seed, 4));
	}
	p->len = (uint8_t)len;
	for (unsigned bit = len; bit < (p->family == AF_INET ? 32u : 128u); bit++)
		p->addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
	*zone = zones[rnd(seed, 4)];
	*expires = rnd(seed, 3) == 0 ? 0 : now + 3600 * (1 + rnd(seed, 3));
}

static bool zone_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

START_TEST(test_ban_edits_are_full_compile)
{
	for (unsigned s = 1; s <= SEEDS; s++) {
		unsigned seed = s * 40503u;
		struct model m = { .n = 0 };
		struct ban_model bm = { .n = 0 };
		_cleanup_free_ char *text = NULL;
		struct pc_ruleset *rs = NULL;
		struct pc_config *cfg;
		struct pc_plan *plan = NULL;
		struct pc_nl *nl = NULL;
		struct pc_diags d;

		ck_assert_int_eq(pc_nl_open(&nl), 0);
		for (unsigned i = rnd(&seed, 20); i > 0; i--)
			m.lines[m.n++] = rule_random(&seed);
		text = model_text(&m);
		cfg = bans_config(text, &bm);
		pc_diags_init(&d);
		ck_assert_int_eq(pc_plan_build(cfg, &plan, &d), 0);
		ck_assert_int_eq(pc_ruleset_lower(plan, &rs, &d), 0);
		ck_assert_int_eq(pc_nl_apply(nl, rs, NULL, 0, &d), 0);
		pc_diags_free(&d);
		for (unsigned step = 0; step < 3 * STEPS; step++) {
			struct pc_rule_append del = { 0 }, add = { 0 };
			struct pc_ban_delta dl;
			struct pc_prefix p;
			const char *zone;
			uint64_t expires;
			bool unban = false;
			size_t at = bm.n;
			struct pc_config *full;
			struct pc_ruleset *want, *mine = NULL;
			_cleanup_free_ char *want_text = NULL, *mine_text = NULL;
			int r;

			ban_random(&seed, &p, &zone, &expires);
			for (size_t i = 0; i < bm.n; i++)
				if (bm.p[i].family == p.family && bm.p[i].len == p.len &&
				    !memcmp(bm.p[i].addr, p.addr, 16) && zone_eq(bm.zone[i], zone))
					at = i;
			if (at < bm.n && rnd(&seed, 2)) {
				unban = true;
				memmove(&bm.p[at], &bm.p[at + 1], (bm.n - at - 1) * sizeof(p));
				memmove(&bm.zone[at], &bm.zone[at + 1], (bm.n - at - 1) * sizeof(zone));
				memmove(&bm.expires[at], &bm.expires[at + 1],
					(bm.n - at - 1) * sizeof(expires));
				bm.n--;
			} else if (at < bm.n) {
				bm.expires[at] = expires;
			} else if (bm.n < 64) {
				bm.p[bm.n] = p, bm.zone[bm.n] = zone, bm.expires[bm.n++] = expires;
			} else {
				continue;
			}
			r = pc_plan_ban_edit(plan, cfg, &p, zone, expires, unban, &dl);
			if (r == -EAGAIN) /* never at address 0 here */
				ck_abort_msg("seed %u step %u: refused", s, step);
			ck_assert_int_eq(r, 1);
			ck_assert_int_eq(pc_ban_delta_elems(rs, cfg, &dl, &del, &add), 0);
			pc_diags_init(&d);
			if (pc_nl_apply_elem_change(nl, rs, &del, &add, &d) != 0) {
				pc_diags_print(stderr, &d, &cfg->sources);
				ck_abort_msg("seed %u step %u: the kernel refused the change", s, step);
			}
			pc_diags_free(&d);
			pc_rule_append_free(&del);
			pc_rule_append_free(&add);
			pc_ban_delta_free(&dl);

			/* The kernel holds the full compile of the bans after it. */
			full = bans_config(text, &bm);
			want = ruleset_from_config(full);
			if (mismatches(nl, want))
				ck_abort_msg("seed %u step %u: the kernel differs from the full compile",
					     s, step);
			/* The plan and the configuration are the full compile's. */
			pc_diags_init(&d);
			ck_assert_int_eq(pc_ruleset_lower(plan, &mine, &d), 0);
			pc_diags_free(&d);
			want_text = ruleset_text(want);
			mine_text = ruleset_text(mine);
			ck_assert_str_eq(mine_text, want_text);
			/* And the ruleset in force, caught up, too. */
			ck_assert_ptr_eq(rs->bans_from, cfg);
			ck_assert_int_eq(pc_ruleset_bans_sync(rs), 0);
			free(mine_text);
			mine_text = ruleset_text(rs);
			ck_assert_str_eq(mine_text, want_text);
			pc_ruleset_free(mine);
			pc_ruleset_free(want);
			pc_config_free(full);
		}
		oracle_end(&m, cfg, nl, plan, rs);
	}
}
END_TEST

/* A rule for the in-place edits: mostly port-only (those are edited in
 * place), with address, limit and rate rules between them, which cut the
 * runs. A unique comment: the kernel's comments then do not depend on line
 * numbers, which the full compile of the text would count anew (so no
 * logged rules either: their log prefix names the line). */
static char *edit_rule_random(unsigned *seed, unsigned id)
{
	static const char *const actions[] = { "allow", "deny", "reject" };
	static const char *const zones[] = { "", "", " zone lan", " zone dmz", " zone lan,dmz" };
	const char *action = actions[rnd(seed, 3)];
	unsigned p = 1000 + rnd(seed, 60);
	char buf[160];
	int n;

	switch (rnd(seed, 19)) {
	case 0:
		n = snprintf(buf, sizeof(buf), "%s from 10.0.%u.0/24", action, rnd(seed, 4));
		break;
	/* Logged rules: their log prefixes name their lines, which the
	 * changes before them in their file move. */
	case 17:
		n = snprintf(buf, sizeof(buf), "%s %u%s log%s", action, p, proto(seed),
			     zones[rnd(seed, 5)]);
		break;
	case 18:
		n = snprintf(buf, sizeof(buf), "limit %u/tcp log prefix web", p);
		break;
	/* Addresses of a port (runs of ports), of one zone or several. */
	case 15:
		n = snprintf(buf, sizeof(buf), "%s %u/tcp from 10.0.%u.%u%s", action,
			     1022 + rnd(seed, 2) * rnd(seed, 3), rnd(seed, 4), rnd(seed, 8),
			     zones[rnd(seed, 5)]);
		break;
	/* The same toward one of two networks (runs toward a network: a
	 * rule next to a run toward the other is not of it), or of IPv6. */
	/* Toward networks that nest: two /28s, the /26 and the /16 around
	 * them, a host in them; an IPv6 /64, the /56 around it, a host; and
	 * toward one of each family. */
	case 16: {
		static const char *const nets4[] = { "192.0.2.0/28", "192.0.2.16/28", "192.0.2.0/26",
						     "192.0.0.0/16", "192.0.2.5" };
		static const char *const nets6[] = { "2001:db8:ff::/64", "2001:db8:ff::/56",
						     "2001:db8:ff::5" };

		unsigned shape = rnd(seed, 5);

		/* Dual stack: toward a network of each family, the IPv6 one
		 * reached by an IPv6 source or by none. */
		if (shape == 4)
			n = snprintf(buf, sizeof(buf), "%s %u/tcp from 10.0.%u.%u/%u%s to %s,%s%s",
				     action, 1022 + rnd(seed, 2), rnd(seed, 4), rnd(seed, 2) * 8,
				     29 + rnd(seed, 4), rnd(seed, 2) ? ",2001:db8:1::/48" : "",
				     nets4[rnd(seed, 5)], nets6[rnd(seed, 3)], zones[rnd(seed, 5)]);
		else if (shape)
			n = snprintf(buf, sizeof(buf), "%s %u/tcp from 10.0.%u.%u/%u to %s%s", action,
				     1022 + rnd(seed, 2) * rnd(seed, 3), rnd(seed, 4),
				     rnd(seed, 2) * 8, 29 + rnd(seed, 4), nets4[rnd(seed, 5)],
				     zones[rnd(seed, 5)]);
		else
			n = snprintf(buf, sizeof(buf), "%s %u/tcp from 2001:db8:%x::%x to %s%s", action,
				     1022 + rnd(seed, 2), rnd(seed, 2), rnd(seed, 8),
				     nets6[rnd(seed, 3)], zones[rnd(seed, 5)]);
		break;
	}
	/* Addresses alone (a block list): hosts, IPv6, destinations. */
	case 12:
		n = snprintf(buf, sizeof(buf), "%s from 10.0.%u.%u", action, rnd(seed, 4),
			     rnd(seed, 8));
		break;
	case 13:
		n = snprintf(buf, sizeof(buf), "%s from 2001:db8:%x::%x", action, rnd(seed, 2),
			     rnd(seed, 8));
		break;
	case 14:
		n = snprintf(buf, sizeof(buf), "%s out to 192.0.2.%u%s", action, rnd(seed, 8) * 32,
			     rnd(seed, 2) ? "/27" : "");
		break;
	case 1:
		n = snprintf(buf, sizeof(buf), "limit %u/tcp%s", p, zones[rnd(seed, 5)]);
		break;
	case 2:
		n = snprintf(buf, sizeof(buf), "allow %u/udp rate 5/minute", p);
		break;
	case 3:
	case 4:
	case 5:
		n = snprintf(buf, sizeof(buf), "%s %u-%u%s%s", action, p, p + rnd(seed, 12),
			     proto(seed), zones[rnd(seed, 5)]);
		break;
	case 6:
		n = snprintf(buf, sizeof(buf), "%s %u,%u%s%s", action, p, p + 1 + rnd(seed, 3),
			     proto(seed), zones[rnd(seed, 5)]);
		break;
	default:
		n = snprintf(buf, sizeof(buf), "%s %u%s%s", action, p, proto(seed),
			     zones[rnd(seed, 5)]);
		break;
	}
	snprintf(buf + n, sizeof(buf) - (size_t)n, " comment \"r%u\"", id);
	return strdup(buf);
}

/* Check's messages are short: the first line that differs, to stderr. */
static void texts_same(const char *got, const char *want, const char *what, unsigned s,
		       unsigned step)
{
	size_t i = 0, line = 0;

	if (streq(got, want))
		return;
	while (got[i] && got[i] == want[i])
		i++;
	while (i > 0 && got[i - 1] != '\n')
		i--;
	for (size_t k = 0; k < i; k++)
		line += got[k] == '\n';
	fprintf(stderr, "line %zu\ngot:  %.300s\nwant: %.300s\n", line + 1, got + i, want + i);
	ck_abort_msg("seed %u step %u: %s differs from the full compile", s, step, what);
}

/* Every object of rs names a rule of the configuration that objects name:
 * the first of an entry of its zone, a port forward or a masquerade
 * (pc_plan_rules_shift moves only those, and reads no object when no
 * entry's first moved). */
static void objects_name_entries(const struct pc_plan *plan, const struct pc_ruleset *rs,
				 unsigned s, unsigned step)
{
	const struct pc_config *cfg = plan->cfg;

	for (size_t i = 0; i < rs->n_objs; i++) {
		const struct pc_rule *r = rs->objs[i].rule;
		bool named = false;

		if (!r)
			continue;
		ck_assert_msg((uintptr_t)r >= (uintptr_t)cfg->rules &&
				      (uintptr_t)r < (uintptr_t)(cfg->rules + cfg->n_rules),
			      "seed %u step %u: object %zu names no rule", s, step, i);
		named = r->action == PC_FORWARD || r->action == PC_MASQUERADE;
		for (size_t z = 0; !named && z < plan->n_zones; z++)
			for (int dir = 0; !named && dir < PC_N_DIRS; dir++)
				for (size_t e = 0; !named && e < plan->zones[z].dir[dir].n_entries; e++)
					named = plan->zones[z].zone == rs->objs[i].zone &&
						plan->zones[z].dir[dir].entries[e].first == r;
		ck_assert_msg(named, "seed %u step %u: object %zu names %s:%u, no entry's first",
			      s, step, i, r->loc.file, r->loc.line);
	}
}

/* No set after a rule: pc_ruleset_set_find stops at the first rule. */
static void sets_before_rules(const struct pc_ruleset *rs, unsigned s, unsigned step)
{
	size_t first_rule = rs->n_objs;

	for (size_t i = 0; i < rs->n_objs; i++) {
		if (rs->objs[i].kind == PC_NFT_RULE && first_rule == rs->n_objs)
			first_rule = i;
		ck_assert_msg(rs->objs[i].kind != PC_NFT_SET || i < first_rule,
			      "seed %u step %u: set %zu after rule %zu", s, step, i, first_rule);
	}
}

/* The plan's entries, edited in place, are those pc_plan_build makes of
 * its configuration: rules, and what names each run (its anchor block),
 * which decides later renames. */
static void entries_as_built(const struct pc_plan *plan, unsigned s, unsigned step)
{
	struct pc_plan *built = NULL;
	struct pc_diags d;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_plan_build(plan->cfg, &built, &d), 0);
	pc_diags_free(&d);
	for (size_t z = 0; z < plan->n_zones; z++)
		for (int dir = 0; dir < PC_N_DIRS; dir++) {
			const struct pc_plan_chain *a = &plan->zones[z].dir[dir];
			const struct pc_plan_chain *b = &built->zones[z].dir[dir];

			ck_assert_uint_eq(a->n_entries, b->n_entries);
			for (size_t e = 0; e < a->n_entries; e++) {
				const struct pc_plan_entry *x = &a->entries[e], *y = &b->entries[e];

				ck_assert_msg(x->kind == y->kind && x->first == y->first &&
						      x->last == y->last && x->anchor == y->anchor &&
						      x->anchor_last == y->anchor_last &&
						      x->anchor_n == y->anchor_n &&
						      x->n_rules == y->n_rules &&
						      x->name_hash == y->name_hash &&
						      x->name_nth == y->name_nth,
					      "seed %u step %u: entry %zu of zone %zu dir %d: anchor %zu "
					      "of %zu rules, built %zu of %zu",
					      s, step, e, z, dir, x->anchor_n, x->n_rules, y->anchor_n,
					      y->n_rules);
			}
		}
	pc_plan_free(built);
}

/* The kernel, the plan and the ruleset in force after an in-place edit are
 * the full compile's of the text after it. */
static void edit_check(struct pc_nl *nl, const struct model *m, struct pc_plan *plan,
		       struct pc_ruleset *rs, unsigned s, unsigned step)
{
	struct pc_config *full = model_config(m);
	struct pc_ruleset *want = ruleset_from_config(full), *mine = NULL;
	_cleanup_free_ char *want_text = ruleset_text(want), *mine_text = NULL;
	struct pc_diags d;

	if (mismatches(nl, want)) {
		_cleanup_free_ char *text = model_text(m);

		/* On stderr: Check's message has a size limit. */
		fprintf(stderr, "%s", text);
		ck_abort_msg("seed %u step %u: the kernel differs from the full compile of the "
			     "model on stderr",
			     s, step);
	}
	objects_name_entries(plan, rs, s, step);
	sets_before_rules(rs, s, step);
	entries_as_built(plan, s, step);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_ruleset_lower(plan, &mine, &d), 0);
	pc_diags_free(&d);
	mine_text = ruleset_text(mine);
	texts_same(mine_text, want_text, "the plan", s, step);
	/* The ruleset in force, caught up, says what the kernel holds (its
	 * elements added in place come last: the order is not compared).
	 * Every third step only: the others leave stale maps for the next. */
	if (step % 3)
		goto out;
	ck_assert_int_eq(pc_ruleset_ports_sync(rs), 0);
	if (mismatches(nl, rs))
		ck_abort_msg("seed %u step %u: the ruleset in force differs from the kernel", s,
			     step);
out:
	pc_ruleset_free(mine);
	pc_ruleset_free(want);
	pc_config_free(full);
}

/* Entry changes that cut a port run in two, or join two (pc_ruleset_runs_edit);
 * those whose second part kept its sets. */
static size_t cuts, joins, kept_second;
/* Entry changes made while other maps were stale (left so, shared). */
static size_t stale_kept;
/* Address rules put at the end of their run or taken from it in place. */
static size_t addr_edits, pair_edits;
/* Entries of a rule of several zones put in or taken out in place; the
 * zones' changes among them that cut or joined a port run. */
static size_t multi_zone, multi_zone_cuts;
/* Changes that made again the logged rules whose lines they moved. */
static size_t relogs;

/* The line of a rule at index at of file's rules in m (as model_config
 * writes them: files[0] after its three zones), one before it in m. */
static uint32_t model_line(const struct model *m, size_t at, unsigned file)
{
	uint32_t line = file == 0 ? 4 : 1;

	for (size_t j = 0; j < at; j++)
		line += m->file[j] == file;
	return line;
}

/* cfg's rules of file from index from on move by delta lines, as portctld
 * moves them: the logged ones into logged (their log prefixes name their
 * lines). How many. */
static size_t lines_move(struct pc_config *cfg, size_t from, const char *file, int delta,
			 const struct pc_rule **logged)
{
	size_t n = 0;

	for (size_t i = from; i < cfg->n_rules; i++) {
		struct pc_rule *r = &cfg->rules[i];

		if (!r->loc.file || strcmp(r->loc.file, file) != 0)
			continue;
		r->loc.line = (uint32_t)((int)r->loc.line + delta);
		if (r->log)
			logged[n++] = r;
	}
	return n;
}

/* rs installed over old as a difference, not the table again (nothing
 * else was sent). */
static void difference_installed(struct pc_nl *nl, const struct pc_plan *plan,
				 const struct pc_ruleset *rs, const struct pc_ruleset *old,
				 const char *what, unsigned s, unsigned step)
{
	struct pc_diags d;

	pc_diags_init(&d);
	if (pc_nl_apply(nl, rs, old, 0, &d) != 0) {
		pc_diags_print(stderr, &d, &plan->cfg->sources);
		ck_abort_msg("seed %u step %u: the kernel refused the %s", s, step, what);
	}
	pc_diags_free(&d);
	ck_assert_msg(pc_nl_last_stats(nl)->incremental == 1,
		      "seed %u step %u: the %s replaced the table", s, step, what);
}

/* A rule that is (or was) an entry of its own, added or taken out in
 * place: its chain's entries from there on lowered alone into a ruleset
 * sharing the rest, installed as a difference. false when it is no such
 * rule. */
static bool entry_change(struct pc_nl *nl, struct pc_plan *plan, struct pc_ruleset **rs,
			 const struct pc_rule *r, bool remove, const struct pc_rule *const *logged,
			 size_t n_logged, unsigned s, unsigned step)
{
	struct pc_ruleset *relogged = NULL;
	struct pc_entry_edit e;
	int ret;

	/* As the daemon: only the maps of the entries made again made whole;
	 * other stale maps stay stale, shared; the logged rules whose lines
	 * moved made again with it. */
	ret = pc_entry_edit_prepare(plan, *rs, r, remove, &e);
	if (ret >= 0 && n_logged) {
		ret = pc_ruleset_rules_remake(plan, e.rs, logged, n_logged, &relogged);
		if (ret >= 0 && (ret = pc_ruleset_fold(relogged, e.rs)) < 0)
			pc_ruleset_free(relogged);
		else if (ret >= 0)
			e.rs = relogged;
		relogs += ret >= 0;
	}
	if (ret < 0) {
		ck_assert_int_eq(ret, -EOPNOTSUPP);
		pc_entry_edit_undo(plan, &e);
		return false;
	}
	stale_kept += (*rs)->n_stale > 0;
	multi_zone += e.n_plan > 1;
	for (size_t k = 0; k < e.n_plan; k++) {
		cuts += e.plan[k].cut;
		joins += e.plan[k].join;
		kept_second += e.plan[k].kept;
		multi_zone_cuts += e.n_plan > 1 && (e.plan[k].cut || e.plan[k].join || e.plan[k].kept);
	}
	difference_installed(nl, plan, e.rs, *rs, "entry change", s, step);
	pc_ruleset_adopt(e.rs, *rs);
	*rs = e.rs;
	pc_entry_edit_free(&e);
	return true;
}

/* Rules of several zones put in or taken out as elements in some zones and
 * an entry change in the others (pc_rule_edit_split). */
static size_t splits;

/* A port rule of several zones whose runs take it as elements in some
 * zones only, in place as portctld does it: the entry change of the
 * others, the logged rules whose lines moved made again onto it, the
 * elements riding on that: one difference. false when it is no such rule. */
static bool split_change(struct pc_nl *nl, struct pc_plan *plan, struct pc_ruleset **rs,
			 const struct pc_rule *r, bool remove, const struct pc_rule *const *logged,
			 size_t n_logged, unsigned s, unsigned step)
{
	struct pc_ruleset *relogged = NULL;
	struct pc_rule_edit ed;
	struct pc_entry_edit e;
	int ret = pc_rule_edit_split(plan, *rs, r, remove, &ed, &e);

	if (ret < 0) {
		ck_assert_int_eq(ret, -EOPNOTSUPP);
		return false;
	}
	if (n_logged) {
		ck_assert_int_eq(pc_ruleset_rules_remake(plan, e.rs, logged, n_logged, &relogged), 0);
		ck_assert_int_eq(pc_ruleset_fold(relogged, e.rs), 0);
		e.rs = relogged;
	}
	ck_assert_int_eq(pc_rule_edit_onto(&ed, *rs, e.rs), 0);
	difference_installed(nl, plan, e.rs, *rs, "split change", s, step);
	pc_rule_edit_back(&ed, e.rs);
	pc_ruleset_adopt(e.rs, *rs);
	*rs = e.rs;
	pc_entry_edit_free(&e);
	ck_assert_int_eq(pc_rule_edit_commit(plan, *rs, &ed), 0);
	pc_rule_edit_free(&ed);
	splits++;
	return true;
}

/* cfg compiled and installed whole, as portctld makes it with a
 * configuration in force (its index of ports made): for the in-place tests. */
static void oracle_start(struct pc_config *cfg, struct pc_nl **nl, struct pc_plan **plan,
			 struct pc_ruleset **rs)
{
	struct pc_diags d;

	ck_assert_int_eq(pc_nl_open(nl), 0);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_plan_build(cfg, plan, &d), 0);
	ck_assert_int_eq(pc_ruleset_lower(*plan, rs, &d), 0);
	ck_assert_int_eq(pc_nl_apply(*nl, *rs, NULL, 0, &d), 0);
	pc_diags_free(&d);
	ck_assert_int_eq(pc_config_ports_index(cfg), 0);
}

/* One configuration edited in place step by step (test_rule_edits_are_full_compile,
 * test_block_list_edits). */
struct edit_run {
	struct pc_nl *nl;
	struct model *m;
	struct pc_config *cfg;
	struct pc_plan *plan;
	struct pc_ruleset *rs;
	unsigned s, step;
	size_t in_place, entries;
};

/* The chains rs has besides the zones' own: their blocks. */
static size_t blocks_of(const struct pc_ruleset *rs)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->n_objs; i++)
		n += rs->objs[i].kind == PC_NFT_CHAIN &&
		     strstr(nftnl_chain_get_str(rs->objs[i].obj, NFTNL_CHAIN_NAME), "_B");
	return n;
}

/* In-place changes that made a block (a chain of a zone's), unmade one. */
static size_t blocks_made, blocks_unmade;

/* The rule at m's line at taken out (line NULL), or line put in there, in
 * file: in place as portctld does it (the port or address sets' elements,
 * else an entry of its own), checked against the full compile; refused,
 * everything is left as it was. */
static void edit_one(struct edit_run *x, size_t at, char *line, unsigned file)
{
	struct model *m = x->m;
	struct pc_config *cfg = x->cfg;
	bool remove = line == NULL;
	struct pc_rule_edit ed;
	size_t n_rules = cfg->n_rules, n_sources = cfg->sources.n, n_logged;
	const struct pc_rule *logged[MAX_LINES];
	struct pc_rules_moved moved;
	struct pc_diags d;
	size_t blocks = blocks_of(x->rs);
	int r;

	if (remove) {
		file = m->file[at];
		n_logged = lines_move(cfg, at + 1, files[file], -1, logged);
		r = pc_rule_edit_prepare(x->plan, x->rs, &cfg->rules[at], true, &ed);
	} else {
		if (cfg->n_rules == cfg->cap_rules) {
			free(line);
			return;
		}
		pc_diags_init(&d);
		ck_assert_int_eq(pc_parse_buffer(cfg, files[file], strdup(line), strlen(line),
						 PC_ORIGIN_CLI, &d),
				 0);
		ck_assert_int_eq(pc_config_validate_rule(cfg, cfg->n_rules - 1, &d), 0);
		pc_diags_free(&d);
		cfg->rules[cfg->n_rules - 1].loc.line = model_line(m, at, file);
		moved = pc_config_rule_put(cfg, at);
		pc_plan_rules_shift(x->plan, x->rs, &moved);
		n_logged = lines_move(cfg, at + 1, files[file], 1, logged);
		r = pc_rule_edit_prepare(x->plan, x->rs, &cfg->rules[at], false, &ed);
		if (r == -EOPNOTSUPP &&
		    !split_change(x->nl, x->plan, &x->rs, &cfg->rules[at], false, logged, n_logged,
				  x->s, x->step) &&
		    !entry_change(x->nl, x->plan, &x->rs, &cfg->rules[at], false, logged, n_logged,
				  x->s, x->step)) {
			/* Back as it was; the next step goes on from there. */
			lines_move(cfg, at + 1, files[file], -1, logged);
			moved = pc_config_rule_take(cfg, at);
			pc_plan_rules_shift(x->plan, x->rs, &moved);
			pc_config_truncate(cfg, n_rules, n_sources);
			free(line);
			return;
		}
		x->entries += r == -EOPNOTSUPP;
		memmove(&m->lines[at + 1], &m->lines[at], (m->n - at) * sizeof(char *));
		memmove(&m->file[at + 1], &m->file[at], (m->n - at) * sizeof(m->file[0]));
		m->lines[at] = line;
		m->file[at] = file;
		m->n++;
	}
	if (remove && r == -EOPNOTSUPP) {
		if (!split_change(x->nl, x->plan, &x->rs, &cfg->rules[at], true, logged, n_logged,
				  x->s, x->step) &&
		    !entry_change(x->nl, x->plan, &x->rs, &cfg->rules[at], true, logged, n_logged,
				  x->s, x->step)) {
			lines_move(cfg, at + 1, files[file], 1, logged);
			return;
		}
		x->entries++;
	}
	if (r != -EOPNOTSUPP) {
		struct pc_ruleset *relogged = NULL;

		ck_assert_int_eq(r, 0);
		addr_edits += ed.n_addrs > 0;
		pair_edits += ed.n_addrs > 0 && ed.addrs[0].pair;
		/* The logged rules whose lines moved made again, the elements
		 * riding on them: one difference. */
		if (n_logged) {
			ck_assert_int_eq(pc_ruleset_rules_remake(x->plan, x->rs, logged, n_logged,
								 &relogged),
					 0);
			ck_assert_int_eq(pc_rule_edit_onto(&ed, x->rs, relogged), 0);
			relogs++;
		}
		pc_diags_init(&d);
		r = relogged ? pc_nl_apply(x->nl, relogged, x->rs, 0, &d)
			     : pc_nl_apply_elem_change(x->nl, x->rs, &ed.del, &ed.add, &d);
		if (r != 0) {
			pc_diags_print(stderr, &d, &cfg->sources);
			ck_abort_msg("seed %u step %u: the kernel refused the change", x->s, x->step);
		}
		pc_diags_free(&d);
		ck_assert_msg(pc_nl_last_stats(x->nl)->incremental == 1,
			      "seed %u step %u: the change replaced the table", x->s, x->step);
		if (relogged) {
			pc_rule_edit_back(&ed, relogged);
			pc_ruleset_adopt(relogged, x->rs);
			x->rs = relogged;
		}
		ck_assert_int_eq(pc_rule_edit_commit(x->plan, x->rs, &ed), 0);
		pc_rule_edit_free(&ed);
	}
	if (remove) {
		moved = pc_config_rule_take(cfg, at);
		pc_plan_rules_shift(x->plan, x->rs, &moved);
		free(m->lines[at]);
		memmove(&m->lines[at], &m->lines[at + 1], (m->n - at - 1) * sizeof(char *));
		memmove(&m->file[at], &m->file[at + 1], (m->n - at - 1) * sizeof(m->file[0]));
		m->n--;
	}
	x->in_place++;
	blocks_made += blocks_of(x->rs) > blocks;
	blocks_unmade += blocks_of(x->rs) < blocks;
	edit_check(x->nl, m, x->plan, x->rs, x->s, x->step);
}

/* The lines (up to n, or the first NULL) into m. */
static void model_lines(struct model *m, const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n && lines[i]; i++)
		m->lines[m->n++] = strdup(lines[i]);
}

static void model_free(struct model *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->lines[i]);
	m->n = 0;
}

/* rs installed over old: taken by the kernel as a difference, and the
 * kernel holds rs. */
static void as_difference(struct pc_nl *nl, struct pc_ruleset *rs, struct pc_ruleset *old,
			  const char *what, const char *way)
{
	struct pc_diags d;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, rs, old, 0, &d), 0);
	ck_assert_msg(pc_nl_last_stats(nl)->diff_refused == 0,
		      "%s%s: the kernel refused the difference (%d)", what, way,
		      pc_nl_last_stats(nl)->diff_refused);
	ck_assert_msg(pc_nl_last_stats(nl)->incremental, "%s%s replaced the table", what, way);
	ck_assert_uint_eq(mismatches(nl, rs), 0);
	pc_diags_free(&d);
}

/* a's full compile installed, then b's as a difference and a's again:
 * each taken by the kernel as a difference, and each the full compile. */
static void there_and_back(const struct model *a, const struct model *b, const char *what)
{
	struct pc_config *cfg_a = model_config(a), *cfg_b = model_config(b);
	struct pc_ruleset *rs_a = ruleset_from_config(cfg_a), *rs_b = ruleset_from_config(cfg_b);
	struct pc_nl *nl = NULL;
	struct pc_diags d;

	ck_assert_int_eq(pc_nl_open(&nl), 0);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, rs_a, NULL, 0, &d), 0);
	as_difference(nl, rs_b, rs_a, what, "");
	as_difference(nl, rs_a, rs_b, what, ", back");
	pc_diags_free(&d);
	pc_ruleset_free(rs_a);
	pc_ruleset_free(rs_b);
	pc_config_free(cfg_a);
	pc_config_free(cfg_b);
	pc_nl_close(nl);
}

/* A restart (a new handle, the same configuration compiled again) finds
 * every rule the kernel reads back the same as the one compiled by its
 * bytes, and sends nothing: printing a rule to compare it (rules_signed)
 * costs ten times more, and a log's level the kernel reports unset, a
 * dynset's flags (a limit's meter) and its limit within made every logged
 * or limited rule printed at each start. */
START_TEST(test_restart_compares_bytes)
{
	static const char *const lines[] = {
		"allow 10001/tcp log",
		"allow 10002/tcp log level info prefix \"web\"",
		"limit 10003/tcp",
		"limit 10004/tcp rate 5/second burst 9 log",
		"reject 10005/tcp log",
		"deny 10006/udp log level debug",
		"allow 8080/tcp from 10.0.0.0/8,2001:db8::/32 rate 10/second burst 20 log",
		"allow 10007/tcp from 10.1.0.0/24 to 10.99.7.0/24",
		"deny from 203.0.113.7,2001:db8:bad::/48 log",
		"deny out 25/tcp log",
		"reject out to 198.51.100.0/24",
		"limit 22/tcp from 192.0.2.0/24",
	};
	struct model m = { .n = 0 };
	struct pc_config *cfg;
	struct pc_ruleset *first, *again;
	struct pc_nl *nl = NULL;
	struct pc_diags d;

	model_lines(&m, lines, ARRAY_SIZE(lines));
	cfg = model_config(&m);
	first = ruleset_from_config(cfg);
	again = ruleset_from_config(cfg);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_open(&nl), 0);
	ck_assert_int_eq(pc_nl_apply(nl, first, NULL, 0, &d), 0);
	pc_nl_close(nl);
	ck_assert_int_eq(pc_nl_open(&nl), 0);
	ck_assert_int_eq(pc_nl_apply(nl, again, NULL, 0, &d), 0);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 0);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->rules_signed, 0);
	ck_assert_uint_eq(mismatches(nl, again), 0);
	pc_nl_close(nl);
	/* Restarted on files edited meanwhile: a level the kernel's default
	 * (warn) is no change; another level, another rate, a limit's meter
	 * rate are, and the kernel ends as their full compile. */
	for (size_t v = 0; v < 4; v++) {
		static const struct {
			size_t line;
			const char *text;
			bool changes;
		} edits[] = {
			{ 0, "allow 10001/tcp log level warn", false },
			{ 0, "allow 10001/tcp log level err", true },
			{ 2, "limit 10003/tcp rate 7/minute", true },
			{ 3, "limit 10004/tcp rate 5/second burst 10 log", true },
		};
		struct pc_config *edited;
		struct pc_ruleset *rs;
		char *was = m.lines[edits[v].line];

		m.lines[edits[v].line] = strdup(edits[v].text);
		edited = model_config(&m);
		rs = ruleset_from_config(edited);
		ck_assert_int_eq(pc_nl_open(&nl), 0);
		ck_assert_int_eq(pc_nl_apply(nl, rs, NULL, 0, &d), 0);
		ck_assert(pc_nl_last_stats(nl)->incremental);
		ck_assert_msg((pc_nl_last_stats(nl)->n_msgs > 0) == edits[v].changes,
			      "%s: %zu messages", edits[v].text, pc_nl_last_stats(nl)->n_msgs);
		ck_assert_uint_eq(mismatches(nl, rs), 0);
		pc_nl_close(nl);
		free(m.lines[edits[v].line]);
		m.lines[edits[v].line] = was;
		pc_ruleset_free(rs);
		pc_config_free(edited);
		/* Back to the first files, for the next edit. */
		rs = ruleset_from_config(cfg);
		ck_assert_int_eq(pc_nl_open(&nl), 0);
		ck_assert_int_eq(pc_nl_apply(nl, rs, NULL, 0, &d), 0);
		ck_assert_uint_eq(mismatches(nl, rs), 0);
		pc_nl_close(nl);
		pc_ruleset_free(rs);
	}
	pc_diags_free(&d);
	pc_ruleset_free(first);
	pc_ruleset_free(again);
	pc_config_free(cfg);
	model_free(&m);
}
END_TEST

/* An interval put just below another whose line moved (its start goes and
 * comes again with the new comment): while the batch adds the new
 * interval, the old one's end must not stand alone, or the kernel's rbtree
 * refuses the new end (EEXIST) and the table is replaced, its counters
 * lost. Adjacent (the new end at the old start) and apart, both families;
 * and two intervals joined with a third shortened, whose ends deleted
 * alone the kernel refuses. A difference the kernel takes, and back. */
START_TEST(test_interval_below_moved_line)
{
	static const char *const before[][5] = {
		{ "deny from 10.0.1.0/24", "deny from 2001:db8:1::/48", "allow 22/tcp" },
		{ "deny from 10.0.1.0/24", "deny from 2001:db8:1::/48", "allow 22/tcp" },
		/* The deny intervals [.0, .64) [.128, 1.0) [2.0, 3.0). */
		{ "allow from 10.0.0.64/26", "allow from 10.0.9.9", "deny from 10.0.0.0/24",
		  "deny from 10.0.2.0/24", "allow 22/tcp" },
	};
	static const char *const after[][5] = {
		{ "deny from 10.0.0.0/24", "deny from 10.0.1.0/24", "deny from 2001:db8:1::/48",
		  "allow 22/tcp" },
		{ "deny from 10.0.0.0/25", "deny from 10.0.1.0/24", "deny from 2001:db8::/48",
		  "deny from 2001:db8:1::/48", "allow 22/tcp" },
		/* The first two joined, the third shortened, no line moved: an
		 * end after another interval's start, deleted alone, the kernel
		 * refuses (ENOENT); intervals go whole. */
		{ "allow from 10.0.9.8", "allow from 10.0.2.128/25", "deny from 10.0.0.0/24",
		  "deny from 10.0.2.0/24", "allow 22/tcp" },
	};

	for (size_t v = 0; v < ARRAY_SIZE(after); v++) {
		struct model a = { .n = 0 }, b = { .n = 0 };
		char what[32];

		snprintf(what, sizeof(what), "variant %zu", v);
		model_lines(&a, before[v], ARRAY_SIZE(before[v]));
		model_lines(&b, after[v], ARRAY_SIZE(after[v]));
		there_and_back(&a, &b, what);
		model_free(&a);
		model_free(&b);
	}
}
END_TEST

/* A rule that splits an interval of an address run's set of ranges in
 * two (deny from 10.0.0.4 put before deny from 10.0.0.0/24): the kernel's
 * rbtree refuses a boundary that comes inside one of its intervals, so the
 * interval goes and comes again in the same transaction. A difference,
 * not the table again, as the full compile and in place (the run made
 * again around the rule); and back. */
START_TEST(test_interval_cut_is_a_difference)
{
	static const char *const before[] = { "deny from 10.0.0.0/24 comment \"net\"",
					      "deny from 10.0.1.1 comment \"host\"",
					      "deny from 2001:db8::/64 comment \"net6\"",
					      "allow 22/tcp comment \"ssh\"" };
	/* The first interval cut; the IPv6 one's end moves inside it. */
	static const char *const after[] = { "deny from 10.0.0.4 comment \"cut\"",
					     "deny from 10.0.0.0/24 comment \"net\"",
					     "deny from 10.0.1.1 comment \"host\"",
					     "deny from 2001:db8::/65 comment \"net6\"",
					     "allow 22/tcp comment \"ssh\"" };
	struct model a = { .n = 0 }, b = { .n = 0 };
	struct pc_ruleset *rs = NULL;
	struct pc_plan *plan = NULL;
	struct pc_config *cfg_a;
	struct pc_nl *nl = NULL;

	model_lines(&a, before, ARRAY_SIZE(before));
	model_lines(&b, after, ARRAY_SIZE(after));
	/* The full compile's difference, there and back. */
	there_and_back(&a, &b, "the cut");
	model_free(&b);
	cfg_a = model_config(&a);
	/* In place: the run made again around the rule, and back. */
	oracle_start(cfg_a, &nl, &plan, &rs);
	struct edit_run x = { .nl = nl, .m = &a, .cfg = cfg_a, .plan = plan, .rs = rs };

	edit_one(&x, 0, strdup(after[0]), 0);
	ck_assert_uint_eq(x.in_place, 1);
	ck_assert_str_eq(a.lines[0], after[0]);
	edit_one(&x, 0, NULL, 0);
	ck_assert_uint_eq(x.in_place, 2);
	oracle_end(&a, cfg_a, nl, plan, x.rs);
}
END_TEST

/* 4 * STEPS random edits of x's model: a line taken out, or one of gen's
 * put in anywhere, into the file of the line above or the one below. */
static size_t edit_steps(struct edit_run *x, unsigned *seed, unsigned *id,
			 char *(*gen)(unsigned *seed, unsigned id))
{
	struct model *m = x->m;

	for (unsigned step = 0; step < 4 * STEPS; step++) {
		bool remove = m->n > 0 && (m->n == MAX_LINES || rnd(seed, 2));
		char *line = NULL;
		unsigned lo, file = 0;
		size_t at;

		x->step = step;
		if (remove) {
			at = rnd(seed, (unsigned)m->n);
		} else {
			line = gen(seed, (*id)++);
			at = rnd(seed, (unsigned)m->n + 1);
			lo = at > 0 ? m->file[at - 1] : 0;
			file = lo + rnd(seed, (at < m->n ? m->file[at] : N_FILES - 1) - lo + 1);
		}
		edit_one(x, at, line, file);
	}
	return 4 * STEPS;
}

START_TEST(test_rule_edits_are_full_compile)
{
	size_t in_place = 0, steps = 0, entries = 0;

	for (unsigned s = 1; s <= SEEDS; s++) {
		unsigned seed = s * 2246822519u, id = 0;
		struct model m = { .n = 0 };
		struct pc_ruleset *rs = NULL;
		struct pc_config *cfg;
		struct pc_plan *plan = NULL;
		struct pc_nl *nl = NULL;

		for (unsigned i = 1 + rnd(&seed, 60); i > 0; i--) {
			m.file[m.n] = m.n ? m.file[m.n - 1] : 0;
			m.file[m.n] += m.file[m.n] + 1 < N_FILES && rnd(&seed, 20) == 0;
			m.lines[m.n++] = edit_rule_random(&seed, id++);
		}
		/* Every third configuration has a big file, whose block names
		 * its run (more than 64 port rules), just over that size, with
		 * a small block of another file after it (or before it, the
		 * last file): the changes around it, in it, and across the
		 * size, which names the run by its last block. Every sixth,
		 * the other block is big too and longer: a change in the
		 * longer one can make the other the longest. */
		if (s % 3 == 0) {
			unsigned big = rnd(&seed, N_FILES), n_big = 60 + rnd(&seed, 10);
			unsigned small = big + 1 < N_FILES ? big + 1 : big - 1;
			unsigned n_small = s % 6 == 3 ? 70 + rnd(&seed, 10) : 3;
			size_t at = 0, n = n_big + n_small;

			while (at < m.n && m.file[at] < (small < big ? small : big) + 1)
				at++;
			memmove(&m.lines[at + n], &m.lines[at], (m.n - at) * sizeof(char *));
			memmove(&m.file[at + n], &m.file[at], (m.n - at) * sizeof(m.file[0]));
			for (unsigned i = 0; i < n; i++) {
				char line[64];

				snprintf(line, sizeof(line), "allow %u/tcp comment \"b%u\"", 2000 + i, i);
				m.lines[at + i] = strdup(line);
				if (small < big)
					m.file[at + i] = i < n_small ? small : big;
				else
					m.file[at + i] = i < n_big ? big : small;
			}
			m.n += n;
		}
		cfg = model_config(&m);
		oracle_start(cfg, &nl, &plan, &rs);
		struct edit_run x = { .nl = nl, .m = &m, .cfg = cfg, .plan = plan, .rs = rs, .s = s };

		steps += edit_steps(&x, &seed, &id, edit_rule_random);
		rs = x.rs;
		in_place += x.in_place;
		entries += x.entries;
		oracle_end(&m, cfg, nl, plan, rs);
	}
	/* Three steps in four at least are made in place, not refused (a
	 * port rule whose run's elements cannot take it makes the run again,
	 * run_remake), and entries must have come and gone too. */
	ck_assert_uint_ge(in_place * 4, steps * 3);
	ck_assert_uint_ge(entries, 20);
	/* Some of them cut a port run in two, some joined two. */
	ck_assert_uint_ge(cuts, 5);
	ck_assert_uint_ge(joins, 5);
	ck_assert_uint_ge(stale_kept, 20);
	fprintf(stderr, "oracle: %zu steps, %zu in place, %zu entries (%zu of several zones), "
		"%zu cuts, %zu joins, %zu with stale maps, %zu address edits, %zu with logged "
		"rules made again, %zu elements in some zones and entries in others, %zu cuts or "
		"joins in a rule of several zones, %zu cuts or joins whose second part kept its "
		"sets\n", steps, in_place, entries, multi_zone, cuts, joins, stale_kept, addr_edits,
		relogs, splits, multi_zone_cuts, kept_second);
	ck_assert_uint_ge(splits, 10);
	ck_assert_uint_ge(multi_zone_cuts, 3);
	ck_assert_uint_ge(relogs, 20);
	ck_assert_uint_gt(multi_zone, 10);
}
END_TEST

/* An address-only rule for a block list: mostly hosts, some networks,
 * both families, two addresses at times; few enough that they overlap. */
/* A rule of a block list; scope: its port besides ("" for addresses
 * alone, " 22/tcp": an address run scoped to that port); to_host: toward
 * one of three hosts of its first source's family (a run toward hosts;
 * with a second source of the other family, a rule of its own). */
static char *block_rule_random(unsigned *seed, unsigned id, const char *scope, bool to_host)
{
	static const char *const actions[] = { "deny", "deny", "deny", "allow", "reject" };
	char addr[2][48], buf[160], to[40] = "";

	for (int i = 0; i < 2; i++)
		switch (rnd(seed, 6)) {
		case 0:
			snprintf(addr[i], sizeof(addr[i]), "10.%u.%u.0/24", 1 + rnd(seed, 2),
				 rnd(seed, 4));
			break;
		case 1:
			snprintf(addr[i], sizeof(addr[i]), "2001:db8::%x", rnd(seed, 64));
			break;
		case 2:
			snprintf(addr[i], sizeof(addr[i]), "2001:db8:%x::/48", rnd(seed, 4));
			break;
		default:
			snprintf(addr[i], sizeof(addr[i]), "10.%u.%u.%u", rnd(seed, 2), rnd(seed, 4),
				 rnd(seed, 64));
			break;
		}
	if (to_host && strchr(addr[0], ':'))
		snprintf(to, sizeof(to), " to 2001:db8:ff::%u", 1 + rnd(seed, 3));
	else if (to_host)
		snprintf(to, sizeof(to), " to 192.0.2.%u", 1 + rnd(seed, 3));
	if (rnd(seed, 5))
		snprintf(buf, sizeof(buf), "%s%s from %s%s comment \"c%u\"", actions[rnd(seed, 5)],
			 scope, addr[0], to, id);
	else
		snprintf(buf, sizeof(buf), "%s%s from %s,%s%s comment \"c%u\"",
			 actions[rnd(seed, 5)], scope, addr[0], addr[1], to, id);
	return strdup(buf);
}

/* The ports of a rule of a run of ports: one of a dozen, over tcp, udp,
 * or both; at times two. */
static const char *ports_random(unsigned *seed, char *buf, size_t size)
{
	static const char *const protos[] = { "/tcp", "/tcp", "/udp", "" };
	unsigned a = 2000 + rnd(seed, 12);

	if (rnd(seed, 4))
		snprintf(buf, size, " %u%s", a, protos[rnd(seed, 4)]);
	else
		snprintf(buf, size, " %u,%u%s", a, 2000 + rnd(seed, 12), protos[rnd(seed, 4)]);
	return buf;
}

/* A block list written as rules, before the CLI's file (10-a.rules) or
 * after it (95-b.rules), and a port rule in the other: address rules put
 * anywhere among the CLI file's rules and taken out of them, as "portctl
 * deny from", "insert" and "delete" do, go in place into their run's sets
 * (the CLI's own run, or the one after it they join), or as entries of
 * their own, and the kernel, plan and ruleset are the full compile's each
 * time. */
START_TEST(test_block_list_edits)
{
	size_t before = addr_edits, pairs_before = pair_edits, in_place = 0;

	for (unsigned s = 1; s <= SEEDS / 3; s++) {
		unsigned seed = s * 3266489917u, id = 0, bulk = s % 2 ? 0 : 2;
		struct model m = { .n = 0 };
		struct pc_ruleset *rs = NULL;
		struct pc_config *cfg;
		struct pc_plan *plan = NULL;
		struct pc_nl *nl = NULL;
		size_t cli_lo = 0, cli_n;
		/* A quarter of the lists scoped to a port, a few rules of
		 * another scope among them; a quarter of rules of a port or two
		 * each (over tcp, udp or both), a dozen in all: runs of ports;
		 * a quarter of such rules toward a host each. */
		const char *scope = s % 4 == 0	 ? " 22/tcp"
				    : s % 4 == 2 ? ""
						 : "ports";
		char one_port[24];

#define SCOPE(seed) (strcmp(scope, "ports") ? scope : ports_random(seed, one_port, sizeof(one_port)))
#define TO_HOST (s % 4 == 3)
		for (unsigned file = 0; file < N_FILES; file++) {
			unsigned n = file == bulk ? 70 + rnd(&seed, 30) : file == 1 ? 3 : 0;

			if (file == 1)
				cli_lo = m.n;
			if (file != bulk && file != 1) {
				m.file[m.n] = file;
				m.lines[m.n++] = strdup("allow 8080/tcp comment \"web\"");
			}
			for (; n > 0; n--) {
				m.file[m.n] = file;
				m.lines[m.n++] = block_rule_random(&seed, id++, SCOPE(&seed),
								   TO_HOST);
			}
		}
		cli_n = 3;
		cfg = model_config(&m);
		oracle_start(cfg, &nl, &plan, &rs);

		struct edit_run x = { .nl = nl, .m = &m, .cfg = cfg, .plan = plan, .rs = rs, .s = s };

		for (unsigned step = 0; step < 4 * STEPS; step++) {
			size_t was = m.n;

			x.step = step;
			if (cli_n && (m.n == MAX_LINES || rnd(&seed, 3) == 0))
				edit_one(&x, cli_lo + rnd(&seed, (unsigned)cli_n), NULL, 1);
			else
				edit_one(&x, cli_lo + rnd(&seed, (unsigned)cli_n + 1),
					 block_rule_random(&seed, id++,
							   rnd(&seed, 8) ? SCOPE(&seed) : " 53/udp",
							   TO_HOST),
					 1);
			cli_n = cli_n + m.n - was;
		}
		in_place += x.in_place;
		oracle_end(&m, cfg, nl, plan, x.rs);
	}
#undef SCOPE
#undef TO_HOST
	fprintf(stderr,
		"block list: %zu address edits in place (%zu of runs of ports), %zu steps in place\n",
		addr_edits - before, pair_edits - pairs_before, in_place);
	ck_assert_uint_ge(addr_edits - before, 100);
	ck_assert_uint_ge(pair_edits - pairs_before, 100);
}
END_TEST

/* A rule that stays a kernel rule of its own: a port (or two), a source
 * (or two) and a destination network (no run takes both; toward a host, a
 * run of ports does), a limit or a rate; mostly of the default zone, at
 * times of one or two others. */
static char *own_rule_random(unsigned *seed, unsigned id)
{
	static const char *const actions[] = { "allow", "deny", "reject" };
	static const char *const zones[] = { "", "", "", "", "", "", "", "", " zone lan",
					     " zone public,lan" };
	unsigned p = 3000 + rnd(seed, 400);
	char buf[160];
	int n;

	switch (rnd(seed, 8)) {
	case 0:
		n = snprintf(buf, sizeof(buf), "limit %u/tcp%s", p, zones[rnd(seed, 10)]);
		break;
	case 1:
		n = snprintf(buf, sizeof(buf), "allow %u/udp rate 5/minute", p);
		break;
	/* A few ports and sources: a kernel rule per combination, no set.
	 * Of source ports (which no run takes) here and below. */
	case 2:
		n = snprintf(buf, sizeof(buf),
			     "%s %u,%u/tcp from 10.%u.%u.0/24,10.%u.0.0/16 port 1024-65535/tcp to 192.0.2.0/%u",
			     actions[rnd(seed, 3)], p, p + 1 + rnd(seed, 4), rnd(seed, 4), rnd(seed, 64),
			     rnd(seed, 4), 24 + rnd(seed, 8));
		break;
	default:
		n = snprintf(buf, sizeof(buf),
			     "%s %u/tcp from 10.%u.%u.0/24 port 1024-65535/tcp to 192.0.2.0/%u%s",
			     actions[rnd(seed, 3)], p, rnd(seed, 4), rnd(seed, 64), 24 + rnd(seed, 8),
			     zones[rnd(seed, 10)]);
		break;
	}
	snprintf(buf + n, sizeof(buf) - (size_t)n, " comment \"k%u\"", id);
	return strdup(buf);
}

/* A zone chain of hundreds of rules of their own, in a big file before
 * the CLI's or after it, is cut into blocks (chains the zone chain jumps
 * to): such rules put in and taken out anywhere, in the big file and in
 * the small ones, go in place into their block, and the kernel, plan and
 * ruleset are the full compile's each time, a change that makes or
 * unmakes a block among them (test_block_made_and_unmade makes sure). */
START_TEST(test_own_rule_blocks)
{
	size_t in_place = 0, steps = 0, entries = 0, blocks = 0, with_blocks = 0;

	for (unsigned s = 1; s <= SEEDS / 3; s++) {
		unsigned seed = s * 2654435769u, id = 0, bulk = s % 2 ? 0 : 2;
		struct model m = { .n = 0 };
		struct pc_ruleset *rs = NULL;
		struct pc_config *cfg;
		struct pc_plan *plan = NULL;
		struct pc_nl *nl = NULL;

		for (unsigned file = 0; file < N_FILES; file++)
			for (unsigned n = file == bulk ? 180 + rnd(&seed, 60) : 3; n > 0; n--) {
				m.file[m.n] = file;
				m.lines[m.n++] = own_rule_random(&seed, id++);
			}
		cfg = model_config(&m);
		oracle_start(cfg, &nl, &plan, &rs);
		/* A block begins at about one entry in 64: some seeds have few. */
		blocks += blocks_of(rs);
		with_blocks += blocks_of(rs) > 0;
		struct edit_run x = { .nl = nl, .m = &m, .cfg = cfg, .plan = plan, .rs = rs, .s = s };

		steps += edit_steps(&x, &seed, &id, own_rule_random);
		in_place += x.in_place;
		entries += x.entries;
		oracle_end(&m, cfg, nl, plan, x.rs);
	}
	fprintf(stderr, "blocks: %zu at the start (%zu configurations of %u), %zu steps, %zu in place "
		"(%zu entries; %zu made a block, %zu unmade one)\n", blocks, with_blocks, SEEDS / 3,
		steps, in_place, entries, blocks_made, blocks_unmade);
	ck_assert_uint_ge(with_blocks * 4, SEEDS / 3 * 3);
	/* Refused: the few that cut the runs of several zones. */
	ck_assert_uint_ge(entries * 10, steps * 8);
}
END_TEST

/* A rule of a mix in which runs stay small: ports, ranges, addresses,
 * addresses of a port, rules of their own, mostly of the default zone. */
static char *mixed_rule_random(unsigned *seed, unsigned id)
{
	static const char *const actions[] = { "allow", "deny", "reject" };
	unsigned p = 2000 + rnd(seed, 300);
	char buf[160];
	int n;

	switch (rnd(seed, 6)) {
	case 0:
		return own_rule_random(seed, id);
	case 1:
		n = snprintf(buf, sizeof(buf), "%s from 10.1.%u.%u", actions[rnd(seed, 3)],
			     rnd(seed, 4), rnd(seed, 64));
		break;
	case 2:
		n = snprintf(buf, sizeof(buf), "allow 22/tcp from 10.2.%u.%u%s", rnd(seed, 4),
			     rnd(seed, 64), rnd(seed, 4) ? "" : " zone lan");
		break;
	case 3:
		n = snprintf(buf, sizeof(buf), "%s %u-%u/tcp", actions[rnd(seed, 3)], p,
			     p + 1 + rnd(seed, 5));
		break;
	default:
		n = snprintf(buf, sizeof(buf), "%s %u/%s", actions[rnd(seed, 3)], p,
			     rnd(seed, 3) ? "tcp" : "udp");
		break;
	}
	snprintf(buf + n, sizeof(buf) - (size_t)n, " comment \"m%u\"", id);
	return strdup(buf);
}

/* A zone of hundreds of small runs (rules of different kinds in turn) is
 * cut into blocks, and its runs of fewer than 16 rules have no sets: each
 * of their rules is its kernel rules. Rules put in and taken out anywhere,
 * among them a stretch of 15 port rules that a change makes a run with
 * sets and back: the kernel, plan and ruleset are the full compile's each
 * time, and most changes are in place. */
START_TEST(test_small_runs_in_blocks)
{
	size_t in_place = 0, steps = 0, with_blocks = 0;

	for (unsigned s = 1; s <= SEEDS / 3; s++) {
		unsigned seed = s * 3266489917u, id = 0, stretch;
		struct model m = { .n = 0 };
		struct pc_ruleset *rs = NULL;
		struct pc_config *cfg;
		struct pc_plan *plan = NULL;
		struct pc_nl *nl = NULL;

		stretch = 20 + rnd(&seed, 150);
		while (m.n < 220) {
			m.file[m.n] = m.n < 200 ? 0 : 1 + (m.n > 210);
			if (m.n >= stretch && m.n < stretch + 15) {
				char line[80];

				snprintf(line, sizeof(line), "allow %u/tcp comment \"s%u\"",
					 3000 + id, id);
				id++;
				m.lines[m.n++] = strdup(line);
			} else {
				m.lines[m.n++] = mixed_rule_random(&seed, id++);
			}
		}
		cfg = model_config(&m);
		oracle_start(cfg, &nl, &plan, &rs);
		with_blocks += blocks_of(rs) > 0;
		struct edit_run x = { .nl = nl, .m = &m, .cfg = cfg, .plan = plan, .rs = rs, .s = s };

		steps += edit_steps(&x, &seed, &id, mixed_rule_random);
		in_place += x.in_place;
		oracle_end(&m, cfg, nl, plan, x.rs);
	}
	fprintf(stderr, "small runs in blocks: %zu configurations of %u with blocks, %zu steps, %zu in place\n",
		with_blocks, SEEDS / 3, steps, in_place);
	/* A block begins at about one entry in 64 (where its name hashes
	 * so): some seeds have none (6 of 8 have some here; 40 of 80 with
	 * the 240 seeds from 2001). A quarter keeps the test about blocks
	 * whatever the seeds. */
	ck_assert_uint_ge(with_blocks * 4, SEEDS / 3);
	ck_assert_uint_ge(in_place * 10, steps * 7);
}
END_TEST

/* A zone of 180 rules of their own keeps the sets of its few small runs
 * (a change there is elements alone); past 64 small runs it lowers them
 * rule by rule, those of a file of more than 64 alone while the other
 * files' are 64 at most. The change that crosses makes those small runs
 * otherwise: not in place. Every other step, before and after, is, the
 * kernel the full compile's. */
START_TEST(test_small_runs_flip)
{
	for (int back = 0; back < 2; back++) {
		unsigned seed = 2654435769u, id = 0;
		size_t refused = 0, refused_at = 0;
		struct model m = { .n = 0 };
		struct pc_ruleset *rs = NULL;
		struct pc_config *cfg;
		struct pc_plan *plan = NULL;
		struct pc_nl *nl = NULL;
		unsigned n_small = back ? 66 : 60;

		while (m.n < 180 + n_small) {
			char line[128];

			m.file[m.n] = 0;
			/* A port rule between two of their own: a run of its own. */
			if (m.n % 2 && m.n / 2 < n_small) {
				snprintf(line, sizeof(line), "allow %u/tcp comment \"f%u\"", 5000 + id, id);
				id++;
				m.lines[m.n++] = strdup(line);
			} else {
				/* Of the default zone, so that they keep the port
				 * rules apart in its chain; of source ports, so that
				 * no two in a row are a run, nor two a port rule's
				 * delete puts side by side. */
				snprintf(line, sizeof(line),
					 "deny %u/tcp from 10.%u.%u.0/24 port 1024-65535/tcp to 192.0.2.%u/%u comment \"o%u\"",
					 3000 + rnd(&seed, 400), rnd(&seed, 4), rnd(&seed, 64),
					 4 * (id % 3), 31 - id % 3, id);
				id++;
				m.lines[m.n++] = strdup(line);
			}
		}
		cfg = model_config(&m);
		oracle_start(cfg, &nl, &plan, &rs);
		struct edit_run x = { .nl = nl, .m = &m, .cfg = cfg, .plan = plan, .rs = rs };

		for (unsigned k = 0; k < 8; k++) {
			size_t before = x.in_place;

			x.step = k;
			if (back) {
				/* Each delete takes the last small run away (one in
				 * the middle renames those after it, name_nth, and
				 * moves blocks: another reason for the full path). */
				edit_one(&x, 2 * (n_small - 1 - k) + 1, NULL, 0);
			} else {
				char line[80];

				snprintf(line, sizeof(line), "allow %u/tcp comment \"g%u\"", 6000 + k, k);
				edit_one(&x, 2 * (n_small + k) + 1, strdup(line), 0);
			}
			if (x.in_place == before) {
				refused++;
				refused_at = k;
				break; /* the model stays as it was */
			}
		}
		/* The chain's small runs: the port ones, of one file, and the
		 * default's (allow 22/tcp after them all, of defaults.rules):
		 * 61 up to 65 at the fourth insert, all by rule then. Back: 66
		 * of the file, by rule (more than 64 of one file), the default's
		 * with its sets (1 of the other files); at the second delete 64
		 * of the file and 65 in all: the default's by rule too. */
		ck_assert_uint_eq(refused, 1);
		ck_assert_uint_eq(refused_at, back ? 1 : 3);
		oracle_end(&m, cfg, nl, plan, x.rs);
	}
}
END_TEST

/* A rule of its own whose entry begins a block (about one in 64) put in
 * among 200 others, in place: the block is made -- a chain, the zone's
 * jump to it, the entries after it up to the next block moved into it --
 * as the full compile makes it (edit_check), in one difference; taken out,
 * the block is unmade, its entries back in the block before. */
START_TEST(test_block_made_and_unmade)
{
	unsigned seed = 2654435769u, id = 0;
	size_t made = blocks_made, unmade = blocks_unmade, at = 100;
	struct model m = { .n = 0 };
	struct pc_ruleset *rs = NULL;
	struct pc_config *cfg;
	struct pc_plan *plan = NULL;
	struct pc_nl *nl = NULL;

	while (m.n < 200) {
		m.file[m.n] = 0;
		m.lines[m.n++] = own_rule_random(&seed, id++);
	}
	cfg = model_config(&m);
	oracle_start(cfg, &nl, &plan, &rs);
	ck_assert_uint_gt(blocks_of(rs), 0);
	struct edit_run x = { .nl = nl, .m = &m, .cfg = cfg, .plan = plan, .rs = rs };

	for (unsigned k = 0; blocks_made == made && k < 1000; k++) {
		char line[120];

		x.step = k;
		snprintf(line, sizeof(line),
			 "allow %u/tcp from 10.9.%u.0/24 to 198.51.100.0/23 comment \"n%u\"", 4000 + k,
			 k % 256, k);
		edit_one(&x, at, strdup(line), 0);
		/* Taken out again when it made none. */
		if (blocks_made == made)
			edit_one(&x, at, NULL, 0);
	}
	ck_assert_uint_eq(blocks_made, made + 1);
	edit_one(&x, at, NULL, 0);
	ck_assert_uint_eq(blocks_unmade, unmade + 1);
	/* Every step in place. */
	ck_assert_uint_eq(x.in_place, 2 * (size_t)x.step + 2);
	oracle_end(&m, cfg, nl, plan, x.rs);
}
END_TEST

/* One directed layout for test_big_run_joins: blocks of port rules
 * "FILE:COUNT" around the address rule r, in chain order. */
struct join_layout {
	unsigned before[3][2], after[3][2]; /* {file, count}, count 0 ends */
	unsigned r_file;
};

/* A rule between two port runs of which the first is big (its longest
 * block names it) taken out, the runs joined in place, then put back, the
 * run cut in place: the plan, the ruleset and the kernel are the full
 * compile's each time (the names of the runs' sets among them). The
 * layouts: the first run's last block joins the second's first (same
 * file); a small block of another file ends the first run and joins the
 * second's; the second run's block as long as the first's names the
 * joined run (the last of equals); a plain join. */
START_TEST(test_big_run_joins)
{
	static const struct join_layout layouts[] = {
		{ { { 0, 80 } }, { { 0, 3 }, { 2, 2 } }, 0 },
		{ { { 0, 80 }, { 1, 3 } }, { { 1, 2 }, { 2, 3 } }, 1 },
		{ { { 0, 70 } }, { { 2, 70 } }, 1 },
		{ { { 0, 70 } }, { { 2, 3 } }, 1 },
		/* The second run big, of a file after r's: the joined run
		 * keeps its sets, and the cut leaves them to the rest. */
		{ { { 1, 3 } }, { { 2, 80 } }, 1 },
		{ { { 0, 2 }, { 1, 3 } }, { { 1, 2 }, { 2, 80 } }, 1 },
	};
	size_t kept_before = kept_second;

	for (size_t li = 0; li < sizeof(layouts) / sizeof(layouts[0]); li++) {
		const struct join_layout *lay = &layouts[li];
		struct model m = { .n = 0 };
		struct pc_ruleset *rs = NULL;
		struct pc_config *cfg;
		struct pc_plan *plan = NULL;
		struct pc_nl *nl = NULL;
		struct pc_rules_moved moved;
		struct pc_diags d;
		unsigned port = 3000;
		size_t at = 0;
		char line[64];

		for (int side = 0; side < 2; side++) {
			const unsigned(*blocks)[2] = side ? lay->after : lay->before;

			for (int b = 0; b < 3 && blocks[b][1]; b++)
				for (unsigned i = 0; i < blocks[b][1]; i++) {
					snprintf(line, sizeof(line), "allow %u/tcp comment \"p%u\"", port,
						 port);
					port++;
					m.file[m.n] = blocks[b][0];
					m.lines[m.n++] = strdup(line);
				}
			if (!side) {
				at = m.n;
				m.file[m.n] = lay->r_file;
				m.lines[m.n++] = strdup("deny from 10.9.0.0/24 comment \"r\"");
			}
		}
		/* A rule of its own last: the shipped default after it is a run
		 * of its own, out of the joins. */
		m.file[m.n] = 2;
		m.lines[m.n++] = strdup("limit 9999/tcp comment \"end\"");
		cfg = model_config(&m);
		oracle_start(cfg, &nl, &plan, &rs);
		/* The second run's last rule taken out by elements first: its
		 * maps are stale (made again from the plan when next read
		 * whole), and must follow their entry through the join. */
		struct edit_run x = { .nl = nl, .m = &m, .cfg = cfg, .plan = plan, .rs = rs,
				      .s = (unsigned)li, .step = 1 };

		edit_one(&x, m.n - 2, NULL, 0);
		rs = x.rs;
		ck_assert_uint_eq(x.in_place, 1);
		ck_assert_uint_gt(rs->n_stale, 0);

		/* Out: the two runs joined. */
		ck_assert_msg(entry_change(nl, plan, &rs, &cfg->rules[at], true, NULL, 0, (unsigned)li, 0),
			      "layout %zu: the join was refused", li);
		moved = pc_config_rule_take(cfg, at);
		pc_plan_rules_shift(plan, rs, &moved);
		char *r_line = m.lines[at];
		memmove(&m.lines[at], &m.lines[at + 1], (m.n - at - 1) * sizeof(char *));
		memmove(&m.file[at], &m.file[at + 1], (m.n - at - 1) * sizeof(m.file[0]));
		m.n--;
		edit_check(nl, &m, plan, rs, (unsigned)li, 0);

		/* Back in: the run cut in two again. */
		pc_diags_init(&d);
		ck_assert_int_eq(pc_parse_buffer(cfg, files[lay->r_file], strdup(r_line),
						 strlen(r_line), PC_ORIGIN_CLI, &d),
				 0);
		ck_assert_int_eq(pc_config_validate_rule(cfg, cfg->n_rules - 1, &d), 0);
		pc_diags_free(&d);
		moved = pc_config_rule_put(cfg, at);
		pc_plan_rules_shift(plan, rs, &moved);
		ck_assert_msg(entry_change(nl, plan, &rs, &cfg->rules[at], false, NULL, 0, (unsigned)li, 1),
			      "layout %zu: the cut was refused", li);
		memmove(&m.lines[at + 1], &m.lines[at], (m.n - at) * sizeof(char *));
		memmove(&m.file[at + 1], &m.file[at], (m.n - at) * sizeof(m.file[0]));
		m.lines[at] = r_line;
		m.file[at] = lay->r_file;
		m.n++;
		edit_check(nl, &m, plan, rs, (unsigned)li, 3);

		oracle_end(&m, cfg, nl, plan, rs);
	}
	/* The last two layouts' joins and cuts kept the second run's sets. */
	ck_assert_uint_ge(kept_second - kept_before, 4);
}
END_TEST

/* The shipped default after the port run of a big file is a run of its
 * own, so a rule of its own appended to the CLI's file goes between the two
 * (no cut) and its delete leaves them apart (no join); after a small file
 * the default joins its run, which the rule then cuts and its delete joins
 * again. In place each time, and the full compile's. */
START_TEST(test_defaults_after_big_run)
{
	for (unsigned big = 0; big < 2; big++) {
		struct model m = { .n = 0 };
		struct pc_ruleset *rs = NULL;
		struct pc_config *cfg;
		struct pc_plan *plan = NULL;
		struct pc_nl *nl = NULL;
		char line[64];

		for (unsigned i = 0; i < (big ? 80u : 3u); i++) {
			snprintf(line, sizeof(line), "allow %u/tcp comment \"p%u\"", 3000 + i, i);
			m.file[m.n] = 0;
			m.lines[m.n++] = strdup(line);
		}
		cfg = model_config(&m);
		oracle_start(cfg, &nl, &plan, &rs);

		struct edit_run x = { .nl = nl, .m = &m, .cfg = cfg, .plan = plan, .rs = rs, .s = big };
		size_t z;

		/* After the big file the default is a run of its own. */
		ck_assert_int_eq(pc_plan_rule_chain(plan, &cfg->rules[0], &z), 0);
		ck_assert_uint_eq(plan->zones[z].dir[PC_DIR_IN].n_entries, big ? 2 : 1);
		if (big) {
			/* A rule of its own between the big run and the CLI's port
			 * rules, which the default joined: its delete joins them
			 * into a run the big file names, the default apart again
			 * (its run made again), in place; and one put inside that
			 * run cuts it, its rest with the default. */
			size_t n = m.n;

			edit_one(&x, m.n, strdup("deny from 10.8.0.0/24 comment \"v\""), 1);
			for (unsigned i = 0; i < 3; i++) {
				snprintf(line, sizeof(line), "allow %u/tcp comment \"q%u\"", 5000 + i, i);
				edit_one(&x, m.n, strdup(line), 1);
			}
			ck_assert_uint_eq(m.n, n + 4);
			ck_assert_uint_eq(plan->zones[z].dir[PC_DIR_IN].n_entries, 3);
			edit_one(&x, n, NULL, 1);
			ck_assert_msg(m.n == n + 3, "the join that leaves the default apart not in place");
			ck_assert_uint_eq(plan->zones[z].dir[PC_DIR_IN].n_entries, 2);
			/* One put among them cuts the run: its rest takes the
			 * default's run, made again; and its delete. */
			edit_one(&x, n + 1, strdup("deny from 10.8.1.0/24 comment \"u\""), 1);
			ck_assert_msg(m.n == n + 4, "the cut whose rest takes the default not in place");
			ck_assert_uint_eq(plan->zones[z].dir[PC_DIR_IN].n_entries, 3);
			edit_one(&x, n + 1, NULL, 1);
			ck_assert_uint_eq(m.n, n + 3);
			ck_assert_uint_eq(plan->zones[z].dir[PC_DIR_IN].n_entries, 2);
			for (unsigned i = 0; i < 3; i++)
				edit_one(&x, m.n - 1, NULL, 1);
			ck_assert_uint_eq(m.n, n);
		}
		/* The limit is the zone's first: its delete takes the zone's
		 * meters away too. */
		const char *own[] = { "deny from 10.9.0.0/24 comment \"x\"",
				      "allow 4001/tcp from 192.0.2.1 comment \"z\"",
				      "allow 4002/tcp log comment \"w\"",
				      "limit 4003/tcp comment \"l\"" };
		for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
			size_t n = m.n;

			x.step = (unsigned)(2 * i);
			edit_one(&x, m.n, strdup(own[i]), 1);
			ck_assert_msg(m.n == n + 1, "big %u: %s not in place", big, own[i]);
			/* Between the big run and the default's, or cutting the
			 * small run the default joined. */
			ck_assert_uint_eq(plan->zones[z].dir[PC_DIR_IN].n_entries, 3);
			x.step++;
			edit_one(&x, m.n - 1, NULL, 1);
			ck_assert_msg(m.n == n, "big %u: its delete not in place", big);
			ck_assert_uint_eq(plan->zones[z].dir[PC_DIR_IN].n_entries, big ? 2 : 1);
		}
		oracle_end(&m, cfg, nl, plan, x.rs);
	}
}
END_TEST

/* The first rule of a chain that has none (public's out, lan's in, dmz's
 * out) goes in place, after the chain's head, and its delete too. */
START_TEST(test_first_rule_of_a_chain)
{
	struct model m = { .n = 0 };
	struct pc_ruleset *rs = NULL;
	struct pc_config *cfg;
	struct pc_plan *plan = NULL;
	struct pc_nl *nl = NULL;
	const char *first[] = { "deny out to 203.0.113.9 comment \"o\"",
				"allow 4000/tcp zone lan comment \"l\"",
				"reject out 4001/tcp zone dmz to 192.0.2.1 comment \"d\"",
				"limit 4002/tcp zone lan comment \"m\"" };

	for (unsigned i = 0; i < 3; i++) {
		char line[64];

		snprintf(line, sizeof(line), "allow %u/tcp comment \"p%u\"", 3000 + i, i);
		m.file[m.n] = 0;
		m.lines[m.n++] = strdup(line);
	}
	cfg = model_config(&m);
	oracle_start(cfg, &nl, &plan, &rs);

	struct edit_run x = { .nl = nl, .m = &m, .cfg = cfg, .plan = plan, .rs = rs };

	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
		size_t n = m.n;

		x.step = (unsigned)(2 * i);
		edit_one(&x, m.n, strdup(first[i]), 1);
		ck_assert_msg(m.n == n + 1, "%s not in place", first[i]);
		x.step++;
		edit_one(&x, m.n - 1, NULL, 1);
		ck_assert_msg(m.n == n, "the delete of %s not in place", first[i]);
	}
	oracle_end(&m, cfg, nl, plan, x.rs);
}
END_TEST

/* A CLI rule that a rule before it in its run shadows whole (an allow of
 * one host for a port its network is denied) adds no element: the change
 * is in place, sends nothing, and the stats say so, not the last commit's
 * (seed 5001 of the block list test found it); its delete sends nothing
 * either. */
START_TEST(test_shadowed_rule_sends_nothing)
{
	struct model m = { .n = 0 };
	struct pc_ruleset *rs = NULL;
	struct pc_config *cfg;
	struct pc_plan *plan = NULL;
	struct pc_nl *nl = NULL;
	const char *lines[] = { "allow 8080/tcp comment \"web\"",
				/* the CLI's */
				"deny 2007 from 10.1.3.0/24 comment \"wide\"",
				"deny 2008/tcp from 10.1.4.7 comment \"other\"" };

	model_lines(&m, lines, 3);
	m.file[1] = m.file[2] = 1;
	cfg = model_config(&m);
	oracle_start(cfg, &nl, &plan, &rs);

	struct edit_run x = { .nl = nl, .m = &m, .cfg = cfg, .plan = plan, .rs = rs };

	edit_one(&x, 2, strdup("allow 2007 from 10.1.3.53 comment \"shadowed\""), 1);
	ck_assert_uint_eq(m.n, 4);
	ck_assert_uint_eq(x.in_place, 1);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 0);
	x.step++;
	edit_one(&x, 2, NULL, 1);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 0);
	/* Unshadowed, the same rule is an element. */
	x.step++;
	edit_one(&x, 1, strdup("allow 2007 from 10.1.3.53 comment \"first\""), 1);
	ck_assert_uint_eq(x.in_place, 3);
	ck_assert_uint_gt(pc_nl_last_stats(nl)->n_msgs, 0);
	oracle_end(&m, cfg, nl, plan, x.rs);
}
END_TEST

static void netns_enter(void)
{
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
}

int main(void)
{
	Suite *s = suite_create("oracle");
	TCase *tc = tcase_create("kernel");
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		fprintf(stderr, "test_oracle: needs root for a network namespace; skipped\n");
		return 77;
	}
	if (getenv("CK_FORK") && streq(getenv("CK_FORK"), "no")) {
		fprintf(stderr, "test_oracle: needs CK_FORK (a namespace of its own); skipped\n");
		return 77;
	}
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, netns_enter, NULL);
	tcase_add_test(tc, test_difference_is_full_compile);
	tcase_add_test(tc, test_ban_edits_are_full_compile);
	tcase_add_test(tc, test_rule_edits_are_full_compile);
	tcase_add_test(tc, test_big_run_joins);
	tcase_add_test(tc, test_block_list_edits);
	tcase_add_test(tc, test_defaults_after_big_run);
	tcase_add_test(tc, test_first_rule_of_a_chain);
	tcase_add_test(tc, test_shadowed_rule_sends_nothing);
	tcase_add_test(tc, test_own_rule_blocks);
	tcase_add_test(tc, test_block_made_and_unmade);
	tcase_add_test(tc, test_small_runs_in_blocks);
	tcase_add_test(tc, test_small_runs_flip);
	tcase_add_test(tc, test_interval_cut_is_a_difference);
	tcase_add_test(tc, test_interval_below_moved_line);
	tcase_add_test(tc, test_restart_compares_bytes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
