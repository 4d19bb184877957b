/* Unit tests for the daemon's idle release (memory.c): clean pages of a
 * read-only file mapping are unmapped and read back the same; a page this
 * process wrote into such a mapping keeps what it wrote. */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/daemon/memory.h"

#define PAGES 4

/* A temporary file of PAGES pages, page i filled with 'a' + i, mapped. */
static char *file_map(int prot, size_t *len)
{
	long page = sysconf(_SC_PAGESIZE);
	FILE *f = tmpfile();
	char *p;

	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < PAGES; i++)
		for (long k = 0; k < page; k++)
			fputc('a' + i, f);
	ck_assert_int_eq(fflush(f), 0);
	*len = (size_t)(PAGES * page);
	p = mmap(NULL, *len, prot, MAP_PRIVATE, fileno(f), 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	fclose(f);
	return p;
}

/* The Rss (kB) of the mapping that starts at p, or of the one named name,
 * from /proc/self/smaps. */
static long mapping_rss_of(const void *p, const char *name)
{
	char line[512], head[32];
	bool in = false;
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps", "re");

	ck_assert_ptr_nonnull(f);
	snprintf(head, sizeof(head), "%lx-", (unsigned long)p);
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, ' ') > strchr(line, '-'))
			in = name ? strstr(line, name) != NULL : strncmp(line, head, strlen(head)) == 0;
		if (in && sscanf(line, "Rss: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static long mapping_rss(const void *p)
{
	return mapping_rss_of(p, NULL);
}

/* Touch n KiB of stack, deeper and deeper. */
static int __attribute__((noinline)) stack_dig(int n)
{
	volatile char frame[1024];

	frame[0] = (char)n;
	return n > 0 ? stack_dig(n - 1) + frame[0] : 0;
}

START_TEST(test_clean_pages_released)
{
	size_t len;
	char *p = file_map(PROT_READ, &len);
	long page = sysconf(_SC_PAGESIZE);
	volatile char c = 0;

	for (int i = 0; i < PAGES; i++)
		c += p[i * page];
	ck_assert_int_gt(mapping_rss(p), 0);
	memory_release();
	ck_assert_int_eq(mapping_rss(p), 0);
	for (int i = 0; i < PAGES; i++)
		ck_assert_int_eq(p[i * page + 1], 'a' + i);
	(void)c;
	munmap(p, len);
}
END_TEST

START_TEST(test_written_page_kept)
{
	size_t len;
	char *p = file_map(PROT_READ | PROT_WRITE, &len);
	long page = sysconf(_SC_PAGESIZE);

	/* A private copy, then read-only again: as a debugger's breakpoint
	 * or a uprobe leaves a page of code. */
	p[page] = 'X';
	ck_assert_int_eq(mprotect(p, len, PROT_READ), 0);
	memory_release();
	ck_assert_int_eq(p[page], 'X');
	ck_assert_int_eq(p[0], 'a');
	munmap(p, len);
}
END_TEST

START_TEST(test_stack_released)
{
	long before;

	(void)stack_dig(1024);
	before = mapping_rss_of(NULL, " [stack]\n");
	ck_assert_int_ge(before, 1024);
	memory_release();
	ck_assert_int_lt(mapping_rss_of(NULL, " [stack]\n"), before - 512);
}
END_TEST

START_TEST(test_heap_kept)
{
	char *big = malloc(1 << 20), *small = malloc(64);

	ck_assert_ptr_nonnull(big);
	ck_assert_ptr_nonnull(small);
	memset(big, 'b', 1 << 20);
	strcpy(small, "kept");
	free(big);
	memory_release();
	ck_assert_str_eq(small, "kept");
	free(small);
}
END_TEST

static Suite *memory_suite(void)
{
	Suite *s = suite_create("memory");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_clean_pages_released);
	tcase_add_test(tc, test_written_page_kept);
	tcase_add_test(tc, test_stack_released);
	tcase_add_test(tc, test_heap_kept);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(memory_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
