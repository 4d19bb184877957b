/* Unit tests of the last good copy (pc_state_save, pc_state_flush): only
 * the files that changed are written, the write waits for the flush (until
 * then the old copy stays whole), files gone from the configuration leave
 * it, and a process killed at any instant of the write leaves either the
 * old copy or the new one. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portctl/apply.h"
#include "portctl/diag.h"
#include "portctl/util.h"

static char dir[] = "/tmp/test_state_copy.XXXXXX";
static char etc[PATH_MAX], share[PATH_MAX], state[PATH_MAX];
static struct pc_paths paths;

static void setup(void)
{
	char rd[PATH_MAX * 2];

	strcpy(dir, "/tmp/test_state_copy.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(etc, sizeof(etc), "%s/etc", dir);
	/* The shipped files, read where they are. */
	snprintf(share, sizeof(share), "%s/rules", TOP_SRCDIR);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(rd, sizeof(rd), "%s/rules.d", etc);
	ck_assert_int_eq(mkdir(etc, 0755), 0);
	ck_assert_int_eq(mkdir(rd, 0755), 0);
	paths = (struct pc_paths){ .sysconf_dir = etc, .data_dir = share, .state_dir = state };
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	(void)pc_state_flush();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* put NAME TEXT: etc/rules.d/NAME holds TEXT (NULL: removed). */
static void put(const char *name, const char *text)
{
	char path[PATH_MAX * 2];
	FILE *f;

	snprintf(path, sizeof(path), "%s/rules.d/%s", etc, name);
	if (!text) {
		ck_assert_int_eq(unlink(path), 0);
		return;
	}
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* The configuration the files hold, saved (not yet written). */
static void save(void)
{
	struct pc_config *cfg = NULL;
	struct pc_diags d;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_config_load(&paths, &cfg, &d), 0);
	ck_assert(!pc_diags_has_errors(&d));
	ck_assert_int_eq(pc_state_save(&paths, cfg), 0);
	pc_config_free(cfg);
	pc_diags_free(&d);
}

/* The copy of NAME: its text (static; "" when absent) and inode. */
static const char *copy_of(const char *name, ino_t *ino)
{
	static char buf[4096];
	char path[PATH_MAX * 2];
	struct stat st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/last-good/etc/rules.d/%s", state, name);
	buf[0] = '\0';
	if (ino)
		*ino = 0;
	f = fopen(path, "r");
	if (!f)
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	if (ino && fstat(fileno(f), &st) == 0)
		*ino = st.st_ino;
	fclose(f);
	return buf;
}

START_TEST(test_writes_only_what_changed)
{
	ino_t a0, b0, a1, b1, c1;

	put("10-a.rules", "allow 80/tcp\n");
	put("20-b.rules", "allow 81/tcp\n");
	save();
	/* Not written until flushed: a crash now leaves no copy (the first). */
	ck_assert_uint_ne(pc_state_save_due(), UINT64_MAX);
	ck_assert_str_eq(copy_of("10-a.rules", NULL), "");
	ck_assert_int_eq(pc_state_flush(), 0);
	ck_assert_uint_eq(pc_state_save_due(), UINT64_MAX);
	ck_assert_str_eq(copy_of("10-a.rules", &a0), "allow 80/tcp\n");
	ck_assert_str_eq(copy_of("20-b.rules", &b0), "allow 81/tcp\n");

	/* Nothing changed: nothing to write. */
	save();
	ck_assert_uint_eq(pc_state_save_due(), UINT64_MAX);

	/* One file changed: until the flush the copy is the old one, then
	 * only that file is new; the other is the same file, not rewritten. */
	put("10-a.rules", "allow 80/tcp\nallow 82/tcp\n");
	save();
	ck_assert_str_eq(copy_of("10-a.rules", NULL), "allow 80/tcp\n");
	ck_assert_int_eq(pc_state_flush(), 0);
	ck_assert_str_eq(copy_of("10-a.rules", &a1), "allow 80/tcp\nallow 82/tcp\n");
	copy_of("20-b.rules", &b1);
	ck_assert_uint_ne(a1, a0);
	ck_assert_uint_eq(b1, b0);

	/* Two changes before one flush: the last one is written. */
	put("10-a.rules", "allow 83/tcp\n");
	save();
	put("10-a.rules", "allow 84/tcp\n");
	save();
	ck_assert_int_eq(pc_state_flush(), 0);
	ck_assert_str_eq(copy_of("10-a.rules", &a0), "allow 84/tcp\n");
	/* Read again, the same: the text written (not hashed) is found the
	 * same on disk, nothing to write; one of the same length differs (next). */
	save();
	ck_assert_uint_eq(pc_state_save_due(), UINT64_MAX);

	/* Two files changed and one added: a new copy swapped in whole, the
	 * unchanged file in it a link to the old copy's. */
	put("10-a.rules", "allow 85/tcp\n");
	put("30-c.rules", "allow 86/tcp\n");
	copy_of("20-b.rules", &b0);
	save();
	ck_assert_int_eq(pc_state_flush(), 0);
	ck_assert_str_eq(copy_of("10-a.rules", &a1), "allow 85/tcp\n");
	ck_assert_str_eq(copy_of("30-c.rules", &c1), "allow 86/tcp\n");
	ck_assert_str_eq(copy_of("20-b.rules", &b1), "allow 81/tcp\n");
	ck_assert_uint_eq(b1, b0);

	/* A file gone from the configuration is gone from the copy. */
	put("30-c.rules", NULL);
	save();
	ck_assert_int_eq(pc_state_flush(), 0);
	ck_assert_str_eq(copy_of("30-c.rules", &c1), "");
	ck_assert_uint_eq(c1, 0);
	ck_assert_str_eq(copy_of("20-b.rules", NULL), "allow 81/tcp\n");
}
END_TEST

/* A file of the copy removed behind our back: the write that would link
 * it fails, and the next save reads the disk again and puts it back. */
START_TEST(test_copy_damaged)
{
	char path[PATH_MAX * 2];

	put("10-a.rules", "allow 80/tcp\n");
	put("20-b.rules", "allow 81/tcp\n");
	save();
	ck_assert_int_eq(pc_state_flush(), 0);
	snprintf(path, sizeof(path), "%s/last-good/etc/rules.d/20-b.rules", state);
	ck_assert_int_eq(unlink(path), 0);
	put("10-a.rules", "allow 82/tcp\n");
	put("30-c.rules", "allow 83/tcp\n");
	save();
	ck_assert_int_lt(pc_state_flush(), 0);
	/* Whole still: the old copy, less what was removed. */
	ck_assert_str_eq(copy_of("10-a.rules", NULL), "allow 80/tcp\n");
	save();
	ck_assert_int_eq(pc_state_flush(), 0);
	ck_assert_str_eq(copy_of("10-a.rules", NULL), "allow 82/tcp\n");
	ck_assert_str_eq(copy_of("20-b.rules", NULL), "allow 81/tcp\n");
	ck_assert_str_eq(copy_of("30-c.rules", NULL), "allow 83/tcp\n");
	/* A change undone before the write: the copy holds the files. */
	put("10-a.rules", "allow 84/tcp\n");
	save();
	put("10-a.rules", "allow 82/tcp\n");
	save();
	ck_assert_int_eq(pc_state_flush(), 0);
	ck_assert_str_eq(copy_of("10-a.rules", NULL), "allow 82/tcp\n");
}
END_TEST

/* A copy written by hand beside (pc_state_save_named of last-good, as a
 * rollback does) wins over a save not yet written, and the next save
 * compares with it on disk. */
START_TEST(test_named_copy_supersedes)
{
	struct pc_config *cfg = NULL;
	struct pc_diags d;

	put("10-a.rules", "allow 80/tcp\n");
	save();
	ck_assert_int_eq(pc_state_flush(), 0);
	put("10-a.rules", "allow 81/tcp\n");
	save();
	pc_diags_init(&d);
	put("10-a.rules", "allow 82/tcp\n");
	ck_assert_int_eq(pc_config_load(&paths, &cfg, &d), 0);
	ck_assert_int_eq(pc_state_save_named(&paths, &paths, "last-good", cfg), 0);
	ck_assert_uint_eq(pc_state_save_due(), UINT64_MAX);
	ck_assert_str_eq(copy_of("10-a.rules", NULL), "allow 82/tcp\n");
	pc_config_free(cfg);
	pc_diags_free(&d);
	/* The same files again: the copy holds them already. */
	save();
	ck_assert_uint_eq(pc_state_save_due(), UINT64_MAX);
}
END_TEST

/* Whether the copy holds exactly one of the two states (A: 10-a 80,
 * 20-b 81; B: 10-a 90, 20-b 91, 30-c 92), or nothing (none written yet). */
static int copy_state(void)
{
	char a[64], b[64], c[64];

	snprintf(a, sizeof(a), "%s", copy_of("10-a.rules", NULL));
	snprintf(b, sizeof(b), "%s", copy_of("20-b.rules", NULL));
	snprintf(c, sizeof(c), "%s", copy_of("30-c.rules", NULL));
	if (streq(a, "allow 80/tcp\n") && streq(b, "allow 81/tcp\n") && !*c)
		return 'A';
	if (streq(a, "allow 90/tcp\n") && streq(b, "allow 91/tcp\n") && streq(c, "allow 92/tcp\n"))
		return 'B';
	if (streq(a, "allow 90/tcp\n") && streq(b, "allow 81/tcp\n") && !*c)
		return 'a'; /* A with 10-a changed alone (the one-file step) */
	return 0;
}

/* A child flips the copy between two states as fast as it can and is
 * killed at some instant; whatever instant, the copy is a whole state. */
START_TEST(test_killed_at_any_instant)
{
	for (int round = 0; round < 40; round++) {
		pid_t pid;
		int status;

		char c[PATH_MAX * 2], lg[PATH_MAX * 2];

		/* The killed child's copy is not what this process kept in mind:
		 * start from none. */
		snprintf(lg, sizeof(lg), "%s/last-good", state);
		ck_assert_int_eq(pc_state_remove_tree(lg), 0);
		put("10-a.rules", "allow 80/tcp\n");
		put("20-b.rules", "allow 81/tcp\n");
		snprintf(c, sizeof(c), "%s/rules.d/30-c.rules", etc);
		(void)unlink(c);
		save();
		ck_assert_int_eq(pc_state_flush(), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			for (;;) {
				/* A → one file changed → B (two files, one added) → A. */
				put("10-a.rules", "allow 90/tcp\n");
				save();
				pc_state_flush();
				put("20-b.rules", "allow 91/tcp\n");
				put("30-c.rules", "allow 92/tcp\n");
				save();
				pc_state_flush();
				put("10-a.rules", "allow 80/tcp\n");
				put("20-b.rules", "allow 81/tcp\n");
				put("30-c.rules", NULL);
				save();
				pc_state_flush();
			}
		}
		usleep(200 + (useconds_t)(round * 397) % 5000);
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(copy_state() != 0, "round %d: the copy is a mix", round);
	}
	/* What the killed children left half made is removed when the copy
	 * is next read from the disk. */
	{
		char lg[PATH_MAX * 2];
		struct dirent *de;
		DIR *dp;

		snprintf(lg, sizeof(lg), "%s/last-good", state);
		ck_assert_int_eq(pc_state_remove_tree(lg), 0);
		save();
		dp = opendir(state);
		ck_assert_ptr_nonnull(dp);
		while ((de = readdir(dp)))
			ck_assert_msg(strncmp(de->d_name, ".last-good.", 11), "left over: %s",
				      de->d_name);
		closedir(dp);
	}
}
END_TEST

static Suite *state_copy_suite(void)
{
	Suite *s = suite_create("state_copy");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_writes_only_what_changed);
	tcase_add_test(tc, test_copy_damaged);
	tcase_add_test(tc, test_named_copy_supersedes);
	tcase_add_test(tc, test_killed_at_any_instant);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(state_copy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
