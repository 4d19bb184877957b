/* The daemon's idle footprint. Start-up runs most of libc, libnftnl and
 * portctld itself, and the kernel maps each file page touched with its
 * neighbours (fault-around, 64 KiB): an idle daemon would keep ~2.4 MiB of
 * clean file pages mapped that only its next request needs. Unmapped, they
 * stay in the page cache (libc's shared with every process): what goes is
 * this process's hold on them, its RSS, not the system's memory. */
#include "config.h"

#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memory.h"
#include "portctl/util.h"

/* Mappings released at once, after the maps are read: reading them runs
 * stdio and malloc, which a release before the end would map again. */
#define RELEASE_BATCH 128

struct mapping {
	unsigned long start, end;
	bool candidate; /* private, not writable, backed by a file */
};

/* A hexadecimal or decimal field ending at one of the characters ends:
 * *p moved past that character. */
static bool field_take(const char **p, int base, const char *ends, unsigned long *v)
{
	char *after;

	if (!((**p >= '0' && **p <= '9') || (base == 16 && **p >= 'a' && **p <= 'f')))
		return false;
	*v = strtoul(*p, &after, base);
	if (!*after || !strchr(ends, *after))
		return false;
	*p = after + 1;
	return true;
}

/* A line of /proc/self/maps: "START-END PERMS OFFSET DEV INODE PATH". */
static bool mapping_parse(const char *line, struct mapping *m)
{
	unsigned long start, end, offset, major, minor, inode;
	const char *p = line, *perms;

	if (!field_take(&p, 16, "-", &start) || !field_take(&p, 16, " ", &end))
		return false;
	perms = p;
	if (strnlen(perms, 5) < 5 || perms[4] != ' ')
		return false;
	p += 5;
	if (!field_take(&p, 16, " ", &offset) || !field_take(&p, 16, ":", &major) ||
	    !field_take(&p, 16, " ", &minor) || !field_take(&p, 10, " \n", &inode))
		return false;
	*m = (struct mapping){
		.start = start,
		.end = end,
		.candidate = inode != 0 && perms[1] != 'w' && perms[3] == 'p',
	};
	return true;
}

#define PAGEMAP_PRESENT (1ull << 63)
#define PAGEMAP_SWAPPED (1ull << 62)
#define PAGEMAP_FILE (1ull << 61) /* a file's page (or shared anonymous) */

/* What m holds in memory: no page at all (nothing to give back), the
 * file's pages alone, or a page that is this process's own copy:
 * relocations made read-only after (RELRO), a debugger's breakpoint, a
 * uprobe, where MADV_DONTNEED would put the file's page back in its place.
 * The page map tells each page's kind, read for m's pages alone; smaps,
 * read before, had the kernel walk and print every mapping after every
 * burst of requests (with a ban every 0.7 s, a third of portctld's CPU).
 * Unreadable: taken as written. */
enum mapping_pages { PAGES_NONE, PAGES_FILE, PAGES_WRITTEN };

static enum mapping_pages mapping_pages(int pagemap, const struct mapping *m, unsigned long page)
{
	enum mapping_pages kind = PAGES_NONE;
	uint64_t e[512];

	for (unsigned long at = m->start / page, end = m->end / page; at < end;) {
		size_t n = end - at < ARRAY_SIZE(e) ? end - at : ARRAY_SIZE(e);
		ssize_t got = pread(pagemap, e, n * sizeof(*e), (off_t)(at * sizeof(*e)));

		if (got <= 0 || got % (ssize_t)sizeof(*e))
			return PAGES_WRITTEN;
		for (size_t i = 0; i < (size_t)got / sizeof(*e); i++) {
			if ((e[i] & PAGEMAP_SWAPPED) ||
			    ((e[i] & PAGEMAP_PRESENT) && !(e[i] & PAGEMAP_FILE)))
				return PAGES_WRITTEN;
			if (e[i] & PAGEMAP_PRESENT)
				kind = PAGES_FILE;
		}
		at += (size_t)got / sizeof(*e);
	}
	return kind;
}

static void mappings_release(const struct mapping *batch, size_t n)
{
	for (size_t i = 0; i < n; i++)
		(void)madvise((void *)batch[i].start, batch[i].end - batch[i].start, MADV_DONTNEED);
}

/* The main thread's stack below this frame is dead: a deep start-up or
 * reload leaves its pages behind (glibc gives back a cached thread's stack
 * alike). Two pages of margin for the calls below this one. */
static void stack_release(const struct mapping *stack)
{
	unsigned long sp = (unsigned long)__builtin_frame_address(0);
	unsigned long page = (unsigned long)sysconf(_SC_PAGESIZE);
	unsigned long end = (sp & ~(page - 1)) - 2 * page;

	if (sp > stack->start && sp < stack->end && end > stack->start)
		(void)madvise((void *)stack->start, end - stack->start, MADV_DONTNEED);
}

/* The page map of the process that opened it (memory_prepare), or -1. */
static int pagemap_fd = -1;
static pid_t pagemap_pid;

void memory_prepare(void)
{
	if (pagemap_fd < 0 || pagemap_pid != getpid()) {
		/* A fork's copy reads its parent's pages. */
		if (pagemap_fd >= 0)
			close(pagemap_fd);
		pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		pagemap_pid = getpid();
	}
}

static void pages_release(void)
{
	struct mapping m = {0}, stack = {0}, batch[RELEASE_BATCH];
	unsigned long page = (unsigned long)sysconf(_SC_PAGESIZE);
	int pagemap;
	char *line = NULL;
	size_t size = 0, n = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return;
	/* Another process's (a fork's), or never opened: this one's, if it
	 * may (root may; the daemon's user opened it before the drop). */
	memory_prepare();
	pagemap = pagemap_fd;
	while (getline(&line, &size, f) > 0) {
		if (!mapping_parse(line, &m))
			continue;
		if (strstr(line, " [stack]\n"))
			stack = m;
		if (!m.candidate || pagemap < 0 || mapping_pages(pagemap, &m, page) != PAGES_FILE)
			continue;
		batch[n++] = m;
		if (n == RELEASE_BATCH) {
			mappings_release(batch, n);
			n = 0;
		}
	}
	free(line);
	fclose(f);
	stack_release(&stack);
	mappings_release(batch, n);
}

void memory_release(void)
{
	/* The heap first: what runs after the last madvise maps again. */
	malloc_trim(0);
	pages_release();
}
