/* The daemon's idle footprint (memory.c): what it gives back to the system
 * once a request, a reload or the start-up is over. */
#ifndef PORTCTL_DAEMON_MEMORY_H
#define PORTCTL_DAEMON_MEMORY_H

/*
 * Give back what an idle process does not use: the freed heap (malloc_trim),
 * the main thread's stack below the caller's frame, and the clean pages of
 * the program's and its libraries' read-only file mappings -- code and
 * constants that the next request maps again, from the page cache, when it
 * runs them. A mapping with a page this process wrote (relocations, a
 * breakpoint, a uprobe) is kept whole. Best effort: nothing to report.
 */
void memory_release(void);

/*
 * Open what memory_release reads the kind of each page from
 * (/proc/self/pagemap): only its owner may open it, and a process that
 * dropped root is not its owner any more; call it before the drop.
 */
void memory_prepare(void);

#endif
