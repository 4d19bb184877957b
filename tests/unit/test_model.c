/* Unit tests of the daemon's pure parts (src/daemon/model.c): the bans
 * (canonical text, expiry), composing them into a configuration, the files
 * parsed again from their texts, and the candidate a CLI change makes
 * (rule, runtime rule, file text). No kernel, no root. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/daemon/model.h"

static char root[] = "/tmp/portctl-model.XXXXXX";
static char etc[256], rules[256], state[256], data[512];
static struct daemon dm;

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void setup(void)
{
	char path[512];

	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(etc, sizeof(etc), "%s/etc", root);
	snprintf(rules, sizeof(rules), "%s/etc/rules.d", root);
	snprintf(state, sizeof(state), "%s/state", root);
	ck_assert_int_eq(mkdir(etc, 0755), 0);
	ck_assert_int_eq(mkdir(rules, 0755), 0);
	snprintf(path, sizeof(path), "%s/10-zones.rules", rules);
	write_file(path, "zone public interface eth0 default\n"
			 "zone internal interface eth1\n"
			 "allow 80/tcp\n");
	snprintf(path, sizeof(path), "%s/90-portctl.rules", rules);
	write_file(path, "# kept by hand\nallow 443/tcp\n");
	snprintf(path, sizeof(path), "%s/95-late.rules", rules);
	write_file(path, "allow 8443/tcp\n");
	dm = (struct daemon){0};
	pc_paths_default(&dm.paths);
	dm.paths.sysconf_dir = etc;
	snprintf(data, sizeof(data), "%s/rules", getenv("top_srcdir") ? getenv("top_srcdir") : "..");
	dm.paths.data_dir = data;
	dm.paths.state_dir = state;
	dm.source = SOURCE_FILES;
}

static void teardown(void)
{
	char cmd[300];

	pc_applied_free(dm.applied);
	runtime_clear(&dm.runtime);
	bans_clear(&dm.bans);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	ck_assert_int_eq(system(cmd), 0);
	memcpy(root + strlen(root) - 6, "XXXXXX", 6);
}

/* dm's model in force: the files as loaded. */
static void model_load(void)
{
	struct pc_diags d;

	pc_diags_init(&d);
	dm.applied = calloc(1, sizeof(*dm.applied));
	ck_assert_int_eq(pc_config_load(&dm.paths, &dm.applied->cfg, &d), 0);
	ck_assert(!pc_diags_has_errors(&d));
	pc_diags_free(&d);
}

static size_t rule_index(const struct pc_config *cfg, const char *text)
{
	for (size_t i = 0; i < cfg->n_rules; i++)
		if (streq(cfg->rules[i].text, text))
			return i;
	return SIZE_MAX;
}

START_TEST(test_ban_parse_canonical)
{
	struct ban b;

	ck_assert_int_eq(ban_parse("2001:DB8::0001", NULL, 0, &b), 0);
	ck_assert_str_eq(b.addr, "2001:db8::1");
	ck_assert_str_eq(b.zone, "");
	ck_assert_int_eq(ban_parse("10.0.0.0/8", "internal", 5, &b), 0);
	ck_assert_str_eq(b.addr, "10.0.0.0/8");
	ck_assert_str_eq(b.zone, "internal");
	ck_assert_uint_eq(b.expires, 5);
	/* Host bits under the prefix, "any", garbage, a bad zone name. */
	ck_assert_int_lt(ban_parse("10.0.0.1/8", NULL, 0, &b), 0);
	ck_assert_int_lt(ban_parse("any", NULL, 0, &b), 0);
	ck_assert_int_lt(ban_parse("10.0.0.300", NULL, 0, &b), 0);
	ck_assert_int_lt(ban_parse(NULL, NULL, 0, &b), 0);
	ck_assert_int_lt(ban_parse("10.0.0.1", "Bad Zone", 0, &b), 0);
}
END_TEST

START_TEST(test_bans_expire)
{
	struct bans bans = {0};
	struct ban *b;
	const uint64_t expiries[] = {0, 100, 50, 200};

	for (size_t i = 0; i < ARRAY_SIZE(expiries); i++) {
		b = PC_ARRAY_PUSH(bans.items, bans.n, bans.cap);
		ck_assert_ptr_nonnull(b);
		ck_assert_int_eq(ban_parse("192.0.2.1", NULL, expiries[i], b), 0);
		b->addr[8] = (char)('1' + i);
	}
	ck_assert_uint_eq(bans_next_expiry(&bans), 50);
	ck_assert_uint_eq(bans_expire(&bans, 99), 1);
	ck_assert_uint_eq(bans.n, 3);
	ck_assert_uint_eq(bans_next_expiry(&bans), 100);
	/* A ban expires at its second, not after. */
	ck_assert_uint_eq(bans_expire(&bans, 200), 2);
	ck_assert_uint_eq(bans.n, 1);
	ck_assert_uint_eq(bans.items[0].expires, 0);
	ck_assert_uint_eq(bans_next_expiry(&bans), 0);
	bans_clear(&bans);
}
END_TEST

static void ban_addr(unsigned i, struct ban *b)
{
	char addr[32];

	snprintf(addr, sizeof(addr), "198.18.%u.%u", i / 256 % 256, i % 256);
	ck_assert_int_eq(ban_parse(addr, NULL, 0, b), 0);
}

/* n bans of 198.18.0.0 onward, in that order. */
static void bans_seed(struct bans *bans, unsigned n)
{
	struct ban b;

	for (unsigned i = 0; i < n; i++) {
		ban_addr(i, &b);
		ck_assert_int_eq(bans_insert(bans, &b), 0);
	}
}

/* fail2ban's ban, unban, ban among many: neither the unban nor the next ban
 * copies the bans in force; each works in their array, whose room the next
 * ban appends to in place. */
START_TEST(test_bans_unban_then_ban_in_place)
{
	struct bans in_force = {0}, next = {0}, view = {0};
	struct ban b;
	struct ban *items;

	bans_seed(&in_force, 1000);
	items = in_force.items;
	/* Near the front: the ten before it move up over it. */
	ck_assert_int_eq(bans_view_without(&in_force, 10, 1, &next), 0);
	ck_assert_ptr_eq(next.items, items + 1);
	ck_assert_uint_eq(next.n, 999);
	ck_assert_str_eq(next.items[9].addr, "198.18.0.9");
	ck_assert_str_eq(next.items[10].addr, "198.18.0.11");
	ck_assert_str_eq(next.items[998].addr, "198.18.3.231");
	/* Not taken yet: the bans in force are all there, the lifted one first. */
	ck_assert_ptr_eq(in_force.items, items);
	ck_assert_uint_eq(in_force.n, 1000);
	ck_assert_str_eq(in_force.items[0].addr, "198.18.0.10");
	ck_assert_str_eq(in_force.items[10].addr, "198.18.0.9");
	/* Near the end: the seven after them move down, the three go last, in
	 * their order. */
	ck_assert_int_eq(bans_view_without(&in_force, 990, 3, &next), 0);
	ck_assert_ptr_eq(next.items, items);
	ck_assert_uint_eq(next.n, 997);
	ck_assert_str_eq(next.items[990].addr, "198.18.3.225");
	ck_assert_str_eq(in_force.items[997].addr, "198.18.3.222");
	ck_assert_str_eq(in_force.items[999].addr, "198.18.3.224");
	bans_release(&next, &in_force);
	ck_assert_ptr_eq(in_force.items, items);
	/* Taken: the oldest lifted. */
	ck_assert_int_eq(bans_view_without(&in_force, 0, 1, &next), 0);
	bans_take(&in_force, &next);
	ck_assert_uint_eq(in_force.n, 999);
	ck_assert_str_eq(in_force.items[0].addr, "198.18.0.0");
	ck_assert_str_eq(in_force.items[10].addr, "198.18.0.11");
	ck_assert_uint_gt(in_force.cap, in_force.n);
	items = in_force.items;
	ck_assert_int_eq(ban_parse("203.0.113.7", NULL, 0, &b), 0);
	ck_assert_int_eq(bans_view_append(&in_force, &b, &view), 0);
	ck_assert_ptr_eq(in_force.items, items);
	ck_assert_ptr_eq(view.items, items);
	ck_assert_uint_eq(view.n, 1000);
	ck_assert_str_eq(view.items[999].addr, "203.0.113.7");
	/* Not taken yet: the bans in force are as they were. */
	ck_assert_uint_eq(in_force.n, 999);
	bans_take(&in_force, &view);
	ck_assert_uint_eq(in_force.n, 1000);
	/* A copy for an edit has room as well. */
	ck_assert_int_eq(bans_copy(&in_force, &next), 0);
	ck_assert_uint_gt(next.cap, next.n);
	bans_clear(&next);
	bans_clear(&in_force);
}
END_TEST

/* fail2ban's steady state: the oldest ban lifted, a new one added, many
 * times over. The bans stay in the order they were made, and the slots
 * the lifted ones leave at the front are taken back, not piled up. */
START_TEST(test_bans_queue)
{
	struct bans in_force = {0}, next = {0};
	struct ban b;

	bans_seed(&in_force, 1000);
	for (unsigned i = 1000; i < 6000; i++) {
		ck_assert_int_eq(bans_view_without(&in_force, 0, 1, &next), 0);
		bans_take(&in_force, &next);
		ban_addr(i, &b);
		ck_assert_int_eq(bans_view_append(&in_force, &b, &next), 0);
		bans_take(&in_force, &next);
		ck_assert_uint_eq(in_force.n, 1000);
		ck_assert_uint_le(in_force.skip + in_force.cap, 2048);
	}
	for (unsigned i = 0; i < 1000; i++) {
		ban_addr(5000 + i, &b);
		ck_assert_str_eq(in_force.items[i].addr, b.addr);
	}
	bans_clear(&in_force);
}
END_TEST

/* A ban again (fail2ban's start bans its database again, oldest first):
 * made in the bans' own array, the renewed ban the newest, the others in
 * their order; not taken, the bans in force are as they were. */
START_TEST(test_bans_renew)
{
	struct bans in_force = {0}, next = {0};
	struct ban b;
	struct ban *items;

	bans_seed(&in_force, 1000);
	items = in_force.items;
	ban_addr(0, &b);
	b.expires = 77;
	ck_assert_int_eq(bans_view_renew(&in_force, 0, &b, &next), 0);
	ck_assert_ptr_eq(next.items, items + 1);
	ck_assert_uint_eq(next.n, 1000);
	ck_assert_str_eq(next.items[0].addr, "198.18.0.1");
	ck_assert_str_eq(next.items[999].addr, "198.18.0.0");
	ck_assert_uint_eq(next.items[999].expires, 77);
	ck_assert_uint_eq(in_force.n, 1000);
	ck_assert_str_eq(in_force.items[0].addr, "198.18.0.0");
	ck_assert_uint_eq(in_force.items[0].expires, 0);
	bans_release(&next, &in_force);
	/* In the middle: the 500 before it move up. */
	ban_addr(500, &b);
	b.expires = 88;
	ck_assert_int_eq(bans_view_renew(&in_force, 500, &b, &next), 0);
	bans_take(&in_force, &next);
	ck_assert_uint_eq(in_force.n, 1000);
	ck_assert_str_eq(in_force.items[0].addr, "198.18.0.0");
	ck_assert_str_eq(in_force.items[499].addr, "198.18.1.243");
	ck_assert_str_eq(in_force.items[500].addr, "198.18.1.245");
	ck_assert_str_eq(in_force.items[999].addr, "198.18.1.244");
	ck_assert_uint_eq(in_force.items[999].expires, 88);
	/* Every ban again in turn, oldest first: the array does not grow. */
	for (unsigned k = 0; k < 3000; k++) {
		b = in_force.items[0];
		b.expires = 1000 + k;
		ck_assert_int_eq(bans_view_renew(&in_force, 0, &b, &next), 0);
		bans_take(&in_force, &next);
		ck_assert_uint_le(in_force.skip + in_force.cap, 2048);
	}
	ck_assert_uint_eq(in_force.n, 1000);
	for (unsigned k = 0; k < 1000; k++)
		ck_assert_uint_eq(in_force.items[k].expires, 3000 + k);
	bans_clear(&in_force);
}
END_TEST

START_TEST(test_bans_compose_ahead_of_rules)
{
	struct bans bans = {0};
	struct pc_config *cfg;
	struct pc_diags d;
	size_t n_files;
	struct ban *b;

	model_load();
	pc_diags_init(&d);
	ck_assert_int_eq(config_from_sources(&dm.paths, dm.applied->cfg, &cfg, &d), 0);
	b = PC_ARRAY_PUSH(bans.items, bans.n, bans.cap);
	ck_assert_int_eq(ban_parse("203.0.113.7", NULL, 0, b), 0);
	b = PC_ARRAY_PUSH(bans.items, bans.n, bans.cap);
	ck_assert_int_eq(ban_parse("2001:db8::/64", "internal", 10, b), 0);
	b = PC_ARRAY_PUSH(bans.items, bans.n, bans.cap);
	ck_assert_int_eq(ban_parse("198.51.100.1", NULL, 30, b), 0);
	/* At 20 the second has expired: two bans, in their order, and no
	 * rule: bans are the compiler's own list. */
	n_files = cfg->n_rules;
	ck_assert_int_eq(bans_compose(&bans, 20, cfg, &d), 0);
	ck_assert_int_eq(pc_config_validate(cfg, &d), 0);
	ck_assert_uint_eq(cfg->n_rules, n_files);
	ck_assert_uint_eq(cfg->n_bans, 2);
	ck_assert_uint_eq(cfg->bans[0].addr.family, AF_INET);
	ck_assert_ptr_null(cfg->bans[0].zone);
	ck_assert_uint_eq(cfg->bans[1].expires, 30);
	/* Composed again, the list is replaced, not added to. */
	ck_assert_int_eq(bans_compose(&bans, 5, cfg, &d), 0);
	ck_assert_uint_eq(cfg->n_bans, 3);
	ck_assert_str_eq(cfg->bans[1].zone, "internal");
	ck_assert_uint_eq(cfg->bans[1].addr.family, AF_INET6);
	ck_assert_uint_eq(cfg->bans[1].addr.len, 64);
	ck_assert(!pc_diags_has_errors(&d));
	pc_diags_free(&d);
	pc_config_free(cfg);
	bans_clear(&bans);
}
END_TEST

START_TEST(test_cand_add_file_and_runtime)
{
	struct change ch = {.kind = CHANGE_ADD, .rule = "allow 22/tcp"};
	struct pc_reply reply = {0};
	struct cand c = {0};
	struct pc_diags d;

	model_load();
	dm.runtime.items = calloc(1, sizeof(char *));
	dm.runtime.items[0] = strdup("allow 9/tcp");
	dm.runtime.n = dm.runtime.cap = 1;
	pc_diags_init(&d);
	ck_assert_int_eq(cand_build(&dm, &ch, NULL, 0, &c, &reply, &d), 0);
	/* After 90-portctl.rules' own rule, before the runtime one and the
	 * later file; the file keeps its comment and gets the line. */
	ck_assert_uint_eq(rule_index(c.cfg, "allow 443/tcp") + 1, rule_index(c.cfg, "allow 22/tcp"));
	ck_assert_uint_eq(rule_index(c.cfg, "allow 22/tcp") + 1, rule_index(c.cfg, "allow 9/tcp"));
	ck_assert_uint_lt(rule_index(c.cfg, "allow 9/tcp"), rule_index(c.cfg, "allow 8443/tcp"));
	ck_assert(c.file_changed);
	ck_assert_str_eq(c.text90.buf, "# kept by hand\nallow 443/tcp\nallow 22/tcp\n");
	ck_assert_uint_eq(c.cfg->rules[rule_index(c.cfg, "allow 22/tcp")].loc.line, 3);
	cand_free(&c);

	/* --runtime: the runtime list grows, the file stays. */
	ch.runtime = true;
	c = (struct cand){0};
	ck_assert_int_eq(cand_build(&dm, &ch, NULL, 0, &c, &reply, &d), 0);
	ck_assert(!c.file_changed);
	ck_assert_uint_eq(c.runtime.n, 2);
	ck_assert_str_eq(c.runtime.items[1], "allow 22/tcp");
	cand_free(&c);
	pc_diags_free(&d);
}
END_TEST

START_TEST(test_cand_delete_and_hand_edit)
{
	struct change ch = {.kind = CHANGE_DELETE, .rule = "allow 443/tcp"};
	const char *edited = "# kept by hand\nallow 443/tcp\nallow 4000/tcp\n";
	struct pc_reply reply = {0};
	struct cand c = {0};
	struct pc_diags d;

	model_load();
	pc_diags_init(&d);
	ck_assert_int_eq(cand_build(&dm, &ch, NULL, 0, &c, &reply, &d), 0);
	ck_assert_str_eq(c.text90.buf, "# kept by hand\n");
	ck_assert_uint_eq(rule_index(c.cfg, "allow 443/tcp"), SIZE_MAX);
	cand_free(&c);

	/* The file as edited by hand meanwhile: the change is made on it. */
	c = (struct cand){0};
	ck_assert_int_eq(cand_build(&dm, &ch, edited, strlen(edited), &c, &reply, &d), 0);
	ck_assert_str_eq(c.text90.buf, "# kept by hand\nallow 4000/tcp\n");
	ck_assert_uint_ne(rule_index(c.cfg, "allow 4000/tcp"), SIZE_MAX);
	cand_free(&c);

	/* A rule of another file is not the CLI's to delete: refused. */
	ch.rule = "allow 80/tcp";
	c = (struct cand){0};
	ck_assert_int_eq(cand_build(&dm, &ch, NULL, 0, &c, &reply, &d), -ECANCELED);
	ck_assert_int_eq(reply.status, PC_STATUS_USAGE);
	ck_assert_ptr_nonnull(strstr(reply.message, "10-zones.rules"));
	free(reply.message);
	cand_free(&c);
	pc_diags_free(&d);
}
END_TEST

START_TEST(test_cand_bad_rule_names_its_word)
{
	struct change ch = {.kind = CHANGE_ADD, .rule = "allow 99999/tcp"};
	struct pc_reply reply = {0};
	struct cand c = {0};
	struct pc_diags d;

	model_load();
	pc_diags_init(&d);
	ck_assert_int_eq(cand_build(&dm, &ch, NULL, 0, &c, &reply, &d), -EINVAL);
	ck_assert(pc_diags_has_errors(&d));
	/* The diagnostic points into a source the candidate still holds. */
	ck_assert_ptr_nonnull(pc_sources_find(&c.cfg->sources, d.items[0].loc.file));
	cand_free(&c);
	pc_diags_free(&d);
}
END_TEST

/* The CLI file's lines are found a word at a time: the same as one byte
 * at a time, for texts of every length and newlines anywhere (also
 * continuations, an unterminated last line, empty lines). */
START_TEST(test_rules_text_lines)
{
	static const char alphabet[] = "ab\n\n\\ ";
	unsigned seed = 7;

	for (int t = 0; t < 2000; t++) {
		size_t len = (size_t)(rand_r(&seed) % 70);
		char text[80];
		uint32_t lines = 0;

		for (size_t i = 0; i < len; i++) {
			text[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
			lines += text[i] == '\n';
		}
		text[len] = '\0';
		ck_assert_uint_eq(rules_text_next_line(text, len, lines),
				  lines + 1 + (len > 0 && text[len - 1] != '\n'));
		for (uint32_t line = 1; line <= lines + 1; line++) {
			struct pc_strbuf out = { 0 };
			size_t off = 0, newlines = lines;

			/* The line's start, one byte at a time. */
			for (uint32_t l = 1; l < line; off++)
				l += text[off] == '\n';
			ck_assert_int_eq(rules_text_edit(text, len, RULES_INSERT, line, "X", &out,
							 &newlines), 0);
			/* The count kept is the new text's. */
			ck_assert_uint_eq(newlines, pc_newlines(out.buf, out.len));
			ck_assert_uint_eq(out.len, len + 2 + (off > 0 && text[off - 1] != '\n'));
			ck_assert(memcmp(out.buf, text, off) == 0);
			ck_assert(memcmp(out.buf + out.len - (len - off), text + off, len - off) == 0);
			pc_strbuf_free(&out);
			/* Found from the end (the count known) as from the start. */
			ck_assert_uint_eq(rules_text_span(text, len, line, lines),
					  rules_text_span(text, len, line, SIZE_MAX));
			/* A line deleted (with its continuations) and one
			 * appended keep the count too. */
			for (int h = 0; h < 2; h++) {
				newlines = lines;
				ck_assert_int_eq(rules_text_edit(text, len,
								 h ? RULES_DELETE : RULES_APPEND,
								 line, "a\\\nb", &out, &newlines),
						 0);
				ck_assert_uint_eq(newlines, pc_newlines(out.buf, out.len));
				pc_strbuf_free(&out);
			}
		}
	}
}
END_TEST

static Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tb = tcase_create("bans"), *tc = tcase_create("candidates");

	tcase_add_checked_fixture(tb, setup, teardown);
	tcase_add_test(tb, test_ban_parse_canonical);
	tcase_add_test(tb, test_rules_text_lines);
	tcase_add_test(tb, test_bans_expire);
	tcase_add_test(tb, test_bans_unban_then_ban_in_place);
	tcase_add_test(tb, test_bans_queue);
	tcase_add_test(tb, test_bans_renew);
	tcase_add_test(tb, test_bans_compose_ahead_of_rules);
	suite_add_tcase(s, tb);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cand_add_file_and_runtime);
	tcase_add_test(tc, test_cand_delete_and_hand_edit);
	tcase_add_test(tc, test_cand_bad_rule_names_its_word);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(model_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
