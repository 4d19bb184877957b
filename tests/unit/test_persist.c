/* Unit tests of the CLI rules file writer: append versus replace, stale
 * answers with the current text, what it refuses, and the same through the
 * privileged writer's channel (a forked child, as portctld runs it). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/daemon/model.h"
#include "../../src/daemon/persist.h"
#include "../../src/daemon/privsep.h"

static char dir[] = "/tmp/test_persist.XXXXXX";
static char path[PATH_MAX];

static void setup(void)
{
	strcpy(dir, "/tmp/test_persist.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/90-portctl.rules", dir);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void put(const char *text, const char *mode)
{
	FILE *f = fopen(path, mode);

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static char *get(void)
{
	char *data = NULL;
	size_t len;

	ck_assert_int_eq(pc_read_file(path, RULES_FILE_MAX, &data, &len), 0);
	return data;
}

static ino_t inode(void)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_ino;
}

/* Entries of dir: only the rules file may be left (no temp file). */
static int entries(void)
{
	char cmd[PATH_MAX + 32];
	FILE *p;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static int commit(const char *expected, bool exists, const char *text, char **cur)
{
	size_t cur_len;

	return rules_file_commit(path, expected, strlen(expected), exists, text, strlen(text), cur,
				 &cur_len);
}

START_TEST(test_create)
{
	char *cur, *data;

	ck_assert_int_eq(commit("", false, "allow 1/tcp\n", &cur), 0);
	ck_assert_str_eq(data = get(), "allow 1/tcp\n");
	free(data);
	ck_assert_int_eq(entries(), 1);
}
END_TEST

START_TEST(test_append_keeps_the_inode)
{
	char *cur, *data;
	ino_t ino;

	put("allow 1/tcp\n", "w");
	ino = inode();
	ck_assert_int_eq(commit("allow 1/tcp\n", true, "allow 1/tcp\nallow 2/tcp\n", &cur), 0);
	ck_assert_str_eq(data = get(), "allow 1/tcp\nallow 2/tcp\n");
	free(data);
	ck_assert(inode() == ino);
}
END_TEST

START_TEST(test_hand_edit_is_stale)
{
	char *cur = NULL, *data;

	put("allow 1/tcp\n", "w");
	put("allow 9/tcp\n", "a");
	ck_assert_int_eq(commit("allow 1/tcp\n", true, "allow 1/tcp\nallow 2/tcp\n", &cur),
			 -ESTALE);
	ck_assert_str_eq(cur, "allow 1/tcp\nallow 9/tcp\n");
	free(cur);
	ck_assert_str_eq(data = get(), "allow 1/tcp\nallow 9/tcp\n");
	free(data);
	/* Redone on the current text, it goes through, the hand edit kept. */
	ck_assert_int_eq(commit("allow 1/tcp\nallow 9/tcp\n", true,
				"allow 1/tcp\nallow 9/tcp\nallow 2/tcp\n", &cur),
			 0);
	ck_assert_str_eq(data = get(), "allow 1/tcp\nallow 9/tcp\nallow 2/tcp\n");
	free(data);
}
END_TEST

START_TEST(test_replace_keeps_the_mode)
{
	char *cur = NULL, *data;
	struct stat st;
	ino_t ino;

	put("allow 1/tcp\nallow 2/tcp\n", "w");
	ck_assert_int_eq(chmod(path, 0640), 0);
	ino = inode();
	ck_assert_int_eq(commit("allow 1/tcp\nallow 2/tcp\n", true, "allow 2/tcp\n", &cur), 0);
	ck_assert_str_eq(data = get(), "allow 2/tcp\n");
	free(data);
	ck_assert(inode() != ino);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(entries(), 1);
	/* A replace over a file that changed: refused, nothing touched. */
	ck_assert_int_eq(commit("allow 1/tcp\nallow 2/tcp\n", true, "\n", &cur), -ESTALE);
	ck_assert_str_eq(cur, "allow 2/tcp\n");
	free(cur);
	ck_assert_int_eq(entries(), 1);
}
END_TEST

/* An echo >> that opened the file just before a replace swapped it out, and
 * writes a while later (a loaded machine): its line is carried over, not
 * left in the unlinked old file. */
START_TEST(test_replace_waits_for_a_held_up_writer)
{
	int ready[2];
	char *cur = NULL, *data, c;
	int status;
	ino_t ino;
	pid_t pid;

	put("allow 1/tcp\nallow 2/tcp\n", "w");
	ino = inode();
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(path, O_WRONLY | O_APPEND);
		struct stat st;

		if (fd < 0 || write(ready[1], "r", 1) != 1)
			_exit(1);
		do
			usleep(1000);
		while (stat(path, &st) == 0 && st.st_ino == ino);
		usleep(50000); /* well past the swap */
		_exit(write(fd, "allow 9/tcp\n", 12) == 12 ? 0 : 1);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(commit("allow 1/tcp\nallow 2/tcp\n", true, "allow 2/tcp\n", &cur), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_str_eq(data = get(), "allow 2/tcp\nallow 9/tcp\n");
	free(data);
	ck_assert_int_eq(entries(), 1);
	close(ready[0]);
	close(ready[1]);
}
END_TEST

START_TEST(test_created_meanwhile_and_removed_meanwhile)
{
	char *cur = NULL;

	put("allow 9/tcp\n", "w");
	ck_assert_int_eq(commit("", false, "allow 1/tcp\nallow 2/tcp\n", &cur), -ESTALE);
	ck_assert_str_eq(cur, "allow 9/tcp\n");
	free(cur);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(commit("allow 9/tcp\n", true, "allow 1/tcp\n", &cur), -ESTALE);
	ck_assert_ptr_null(cur);
}
END_TEST

START_TEST(test_refuses_fifo_and_symlink)
{
	char *cur = NULL;

	ck_assert_int_eq(mkfifo(path, 0644), 0);
	ck_assert_int_eq(commit("", true, "allow 1/tcp\n", &cur), -EINVAL);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink("/etc/passwd", path), 0);
	ck_assert_int_eq(commit("", true, "allow 1/tcp\n", &cur), -ELOOP);
}
END_TEST

/* Beyond one message of the channel (32 KiB), both ways. */
static char *big_text(size_t lines, const char *extra)
{
	struct pc_strbuf sb = {0};

	for (size_t i = 0; i < lines; i++)
		ck_assert_int_ge(pc_strbuf_printf(&sb, "allow %zu/tcp comment \"padding\"\n", i + 1),
				 0);
	ck_assert_int_ge(pc_strbuf_printf(&sb, "%s", extra), 0);
	return sb.buf;
}

START_TEST(test_through_the_writer)
{
	char *old = big_text(3000, ""), *hand = big_text(3000, "allow 9/tcp\n");
	char *new = big_text(3000, "allow 2/tcp\n"), *cur = NULL, *data;
	size_t cur_len;
	char other[PATH_MAX + 8];

	ck_assert_int_eq(privsep_start(path), 0);
	ck_assert(privsep_running());
	put(old, "w");
	ck_assert_int_eq(commit(old, true, new, &cur), 0);
	ck_assert_str_eq(data = get(), new);
	free(data);
	/* A hand edit comes back whole through the channel. */
	put(hand, "w");
	ck_assert_int_eq(commit(new, true, old, &cur), -ESTALE);
	ck_assert_str_eq(cur, hand);
	free(cur);
	/* Only the path it was given. */
	snprintf(other, sizeof(other), "%s/x", dir);
	ck_assert_int_eq(rules_file_commit(other, "", 0, false, "x\n", 2, &cur, &cur_len), -EPERM);
	privsep_stop();
	ck_assert(!privsep_running());
	free(old);
	free(hand);
	free(new);
}
END_TEST

/* The bans journal: records replayed over bans.json in order, written
 * into it when long, and a journal of another generation left out. */
static bool bans_equal(const struct bans *a, const struct bans *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->items[i].addr, b->items[i].addr) ||
		    strcmp(a->items[i].zone, b->items[i].zone) ||
		    strcmp(a->items[i].owner, b->items[i].owner) ||
		    a->items[i].expires != b->items[i].expires)
			return false;
	return true;
}

static void ban_of(unsigned i, struct ban *b)
{
	char addr[32];

	snprintf(addr, sizeof(addr), "198.18.%u.%u", i / 256 % 256, i % 256);
	ck_assert_int_eq(ban_parse(addr, i % 3 ? NULL : "lan", i % 5 ? 0 : 1u << 31, b), 0);
}

START_TEST(test_bans_journal)
{
	struct pc_paths paths = { .state_dir = dir };
	struct bans all = { 0 }, got = { 0 };
	char journal[PATH_MAX + 16];
	bool compacted = false;
	struct stat st;

	snprintf(journal, sizeof(journal), "%s/bans.journal", dir);
	ck_assert_int_eq(bans_save(&paths, &all), 0);
	/* Enough records to pass the journal's limit at least once. */
	for (unsigned i = 0; i < 6000; i++) {
		struct ban b;
		bool unban = i % 7 == 6;

		ban_of(unban ? i - 3 : i, &b);
		if (unban) {
			ssize_t k = bans_index(&all, &b);

			ck_assert_int_ge(k, 0);
			memmove(&all.items[k], &all.items[k + 1], (all.n - (size_t)k - 1) * sizeof(b));
			all.n--;
		} else {
			*(struct ban *)PC_ARRAY_PUSH(all.items, all.n, all.cap) = b;
		}
		ck_assert_int_eq(bans_record(&paths, &b, unban, &all), 0);
		if (stat(journal, &st) < 0)
			compacted = true;
	}
	ck_assert(compacted);
	ck_assert_int_eq(stat(journal, &st), 0);
	ck_assert_int_eq(bans_load(&paths, &got), 0);
	ck_assert(bans_equal(&got, &all));
	bans_clear(&got);

	/* bans.json written whole again (a crash before the journal's removal
	 * is the same as this copy put back): the old journal is not replayed. */
	{
		char cmd[3 * PATH_MAX];
		struct ban b;

		snprintf(cmd, sizeof(cmd), "cp '%s' '%s.old'", journal, journal);
		ck_assert_int_eq(system(cmd), 0);
		ban_of(0, &b);
		ck_assert_int_eq(bans_index(&all, &b), 0);
		memmove(&all.items[0], &all.items[1], (all.n - 1) * sizeof(b));
		all.n--;
		ck_assert_int_eq(bans_save(&paths, &all), 0);
		ck_assert_int_ne(stat(journal, &st), 0);
		snprintf(cmd, sizeof(cmd), "mv '%s.old' '%s'", journal, journal);
		ck_assert_int_eq(system(cmd), 0);
		ck_assert_int_eq(bans_load(&paths, &got), 0);
		ck_assert(bans_equal(&got, &all));
		bans_clear(&got);
	}
	bans_clear(&all);
}
END_TEST

/* No bans and no file of them: nothing written; the first ban is then a
 * journal that follows no bans.json, and is replayed. Once there is a
 * file, an empty list is written over it. */
START_TEST(test_bans_none_saved)
{
	struct pc_paths paths = { .state_dir = dir };
	struct bans all = { 0 }, got = { 0 };
	char file[PATH_MAX + 16];
	struct stat st;
	struct ban b;

	snprintf(file, sizeof(file), "%s/bans.json", dir);
	ck_assert_int_eq(bans_load(&paths, &got), 0);
	ck_assert_int_eq(bans_save(&paths, &all), 0);
	ck_assert_int_ne(stat(file, &st), 0);
	ban_of(1, &b);
	*(struct ban *)PC_ARRAY_PUSH(all.items, all.n, all.cap) = b;
	ck_assert_int_eq(bans_record(&paths, &b, false, &all), 0);
	ck_assert_int_eq(bans_load(&paths, &got), 0);
	ck_assert(bans_equal(&got, &all));
	bans_clear(&got);
	/* The journal is a file of bans: the empty list is written. */
	all.n = 0;
	ck_assert_int_eq(bans_save(&paths, &all), 0);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_eq(bans_load(&paths, &got), 0);
	ck_assert_uint_eq(got.n, 0);
	bans_clear(&got);
	bans_clear(&all);
}
END_TEST

/* Claims of several owners on one address: kept side by side through the
 * journal and bans.json, one owner's unban taking only its claim; the
 * kernel's ban is the one that lasts longest. */
START_TEST(test_bans_owners)
{
	struct pc_paths paths = { .state_dir = dir };
	struct bans all = { 0 }, got = { 0 };
	const char *owners[] = { "", "f2b-a", "f2b-b" };
	uint64_t expires;
	struct ban b, other, none;

	ck_assert_int_eq(ban_parse("198.51.100.9", NULL, 0, &other), 0);
	ck_assert_int_eq(bans_insert(&all, &other), 0);
	ck_assert_int_eq(bans_save(&paths, &all), 0);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_int_eq(ban_parse("203.0.113.7", NULL, 1000 + i, &b), 0);
		ck_assert_int_eq(ban_owner_set(&b, owners[i]), 0);
		ck_assert_int_eq(bans_insert(&all, &b), 0);
		ck_assert_int_eq(bans_record(&paths, &b, false, &all), 0);
		/* The administrator's, between two others: claims stay together. */
		if (i == 0) {
			ck_assert_int_eq(ban_parse("192.0.2.1", NULL, 0, &other), 0);
			ck_assert_int_eq(bans_insert(&all, &other), 0);
			ck_assert_int_eq(bans_record(&paths, &other, false, &all), 0);
		}
	}
	ck_assert_int_eq(bans_index(&all, &b), 3);
	/* Claims 1-3; found from any place among them or right after. */
	for (size_t at = 1; at <= 4; at++) {
		expires = 0;
		ck_assert(bans_effective(&all, &b, at, &expires));
		ck_assert_uint_eq(expires, 1002);
	}
	/* 192.0.2.1 at 4, never ending; 192.0.2.99 nowhere. */
	ck_assert(bans_effective(&all, &other, 4, &expires));
	ck_assert_uint_eq(expires, 0);
	ck_assert_int_eq(ban_parse("192.0.2.99", NULL, 0, &none), 0);
	ck_assert(!bans_effective(&all, &none, 5, &expires));
	ck_assert_int_eq(bans_load(&paths, &got), 0);
	ck_assert(bans_equal(&got, &all));
	bans_clear(&got);

	/* f2b-b's unban: f2b-a's claim (1001) is the kernel's ban now. */
	ck_assert_int_eq(bans_index(&all, &b), 3);
	all.items[3] = all.items[4];
	all.n--;
	ck_assert_int_eq(bans_record(&paths, &b, true, &all), 0);
	ck_assert(bans_effective(&all, &b, 3, &expires));
	ck_assert_uint_eq(expires, 1001);
	ck_assert_int_eq(bans_load(&paths, &got), 0);
	ck_assert(bans_equal(&got, &all));
	bans_clear(&got);
	ck_assert_int_eq(bans_save(&paths, &all), 0);
	ck_assert_int_eq(bans_load(&paths, &got), 0);
	ck_assert(bans_equal(&got, &all));
	bans_clear(&got);

	ck_assert_int_eq(ban_owner_set(&b, "f2b a"), -EINVAL);
	bans_clear(&all);
}
END_TEST

static Suite *persist_suite(void)
{
	Suite *s = suite_create("persist");
	TCase *tc = tcase_create("rules file");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_append_keeps_the_inode);
	tcase_add_test(tc, test_hand_edit_is_stale);
	tcase_add_test(tc, test_replace_keeps_the_mode);
	tcase_add_test(tc, test_replace_waits_for_a_held_up_writer);
	tcase_add_test(tc, test_created_meanwhile_and_removed_meanwhile);
	tcase_add_test(tc, test_refuses_fifo_and_symlink);
	tcase_add_test(tc, test_through_the_writer);
	suite_add_tcase(s, tc);
	tc = tcase_create("bans");
	/* 6,000 fsync'd appends: seconds on a slow disk or under ASan, not
	 * Check's default 4 s. */
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bans_journal);
	tcase_add_test(tc, test_bans_none_saved);
	tcase_add_test(tc, test_bans_owners);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(persist_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
