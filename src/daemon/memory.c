/* The daemon's idle footprint. Start-up runs most of libc, libnftnl and
 * portctld itself, and the kernel maps each file page touched with its
 * neighbours (fault-around, 64 KiB): an idle daemon would keep ~2.4 MiB of
 * clean file pages mapped that only its next request needs. Unmapped, they
 * stay in the page cache (libc's shared with every process): what goes is
 * this process's hold on them, its RSS, not the system's memory. */
#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <sys/mman.h>

#include "memory.h"
#include "portctl/util.h"

/* Mappings released at once, after smaps is read: reading it runs much of
 * libc (stdio, scanf, malloc), which a release before the end would map
 * again. */
#define RELEASE_BATCH 128

struct mapping {
	unsigned long start, end;
	bool candidate; /* private, not writable, backed by a file */
};

/* A mapping's first line in smaps: "START-END PERMS OFFSET DEV INODE PATH". */
static bool mapping_parse(const char *line, struct mapping *m)
{
	unsigned long start, end, inode;
	char perms[5];
	int n = 0;

	if (sscanf(line, "%lx-%lx %4s %*x %*x:%*x %lu%n", &start, &end, perms, &inode, &n) != 4 ||
	    n == 0)
		return false;
	*m = (struct mapping){
		.start = start,
		.end = end,
		.candidate = inode != 0 && perms[1] != 'w' && perms[3] == 'p',
	};
	return true;
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

static void pages_release(void)
{
	struct mapping m = {0}, stack = {0}, batch[RELEASE_BATCH];
	char *line = NULL;
	size_t size = 0, n = 0;
	unsigned long kb;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return;
	while (getline(&line, &size, f) > 0) {
		if (mapping_parse(line, &m)) {
			if (strstr(line, " [stack]\n"))
				stack = m;
			continue;
		}
		if (sscanf(line, "Anonymous: %lu kB", &kb) != 1)
			continue;
		/* An anonymous page in a file mapping is a copy this process
		 * wrote: relocations made read-only after (RELRO), a debugger's
		 * breakpoint, a uprobe. MADV_DONTNEED would put the file's page
		 * back in its place. */
		if (!m.candidate || kb > 0)
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
