/* Small helpers every stage uses: cleanup attributes, an arena for the
 * syntax tree, growable arrays. Functions that can fail return -errno. */
#ifndef PORTCTL_UTIL_H
#define PORTCTL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* Hand a cleanup-owned pointer to the caller. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/*
 * Arena: many small allocations freed at once. The syntax tree of a whole
 * configuration lives in one arena, so loading 100,000 rules costs a few
 * large mallocs and freeing it is one walk over the chunks.
 */
struct pc_arena;

struct pc_arena *pc_arena_new(void);
void pc_arena_free(struct pc_arena *a);
/* Zeroed memory owned by the arena; NULL on allocation failure. */
void *pc_arena_alloc(struct pc_arena *a, size_t size);
char *pc_arena_strndup(struct pc_arena *a, const char *s, size_t n);
char *pc_arena_strdup(struct pc_arena *a, const char *s);
/* Bytes currently held by the arena (for benchmarks and limits). */
size_t pc_arena_size(const struct pc_arena *a);

/*
 * Growable array of fixed-size elements, malloc-backed. Grow by doubling;
 * returns a pointer to the new zeroed slot or NULL on failure.
 */
void *pc_array_push(void **items, size_t *n, size_t *cap, size_t elem_size);
#define PC_ARRAY_PUSH(v, n, cap) ((__typeof__(v))pc_array_push((void **)&(v), &(n), &(cap), sizeof(*(v))))

/* Growable string buffer. */
struct pc_strbuf {
	char *buf;
	size_t len;
	size_t cap;
};
int pc_strbuf_append(struct pc_strbuf *sb, const char *s, size_t n);
int pc_strbuf_printf(struct pc_strbuf *sb, const char *fmt, ...) _printf_(2, 3);
void pc_strbuf_free(struct pc_strbuf *sb);

/* snprintf's %s, %016llx and %u by hand, for names made by the ten
 * thousand (snprintf's format parsing was 6% of a start): each writes at
 * buf + at, cut to size - 1 and terminated (size > 0), and returns the
 * new end. */
size_t pc_put_str(char *buf, size_t size, size_t at, const char *s);
size_t pc_put_hex64(char *buf, size_t size, size_t at, uint64_t v);
size_t pc_put_uint(char *buf, size_t size, size_t at, unsigned long v);

/*
 * Open path read-only without blocking (a FIFO or a device in place of a
 * file must not hang the caller), and fstat what was opened, after
 * symlinks. Returns the fd or -errno.
 */
int pc_open_read(const char *path, struct stat *st);
/* Read fd to its end, bounded by max bytes (-EFBIG beyond). NUL-terminated. */
int pc_read_fd(int fd, size_t max, char **data, size_t *len);
/* The same from the file's start, whatever fd's offset (which stays). */
int pc_pread_all(int fd, size_t max, char **data, size_t *len);
/* Both: a regular file only (-EISDIR for a directory, -EINVAL otherwise). */
int pc_read_file(const char *path, size_t max, char **data, size_t *len);

/* Write all of data to fd, through EINTR and short writes. 0 or -errno. */
int pc_write_all(int fd, const char *data, size_t len);
/* Create the directory that holds path (mode, one level) unless it is
 * there already. 0 or -errno. */
int pc_parent_dir_create(const char *path, mode_t mode);

/* Strict UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF): the length of the character at s, 0 when it is not one. */
size_t pc_utf8_char_len(const char *s, size_t len);
/* How many leading bytes of s are valid UTF-8 (len when all are). */
size_t pc_utf8_valid_len(const char *s, size_t len);

/* Newlines among the 8 bytes at s, and in the len bytes at s: a word at
 * a time (a file of 10,000 rules is counted at each change of it). */
unsigned pc_newlines8(const char *s);
size_t pc_newlines(const char *s, size_t len);

/* FNV-1a of n bytes at p, from h (PC_FNV1A_START to begin): for hash
 * tables, not against an adversary. */
#define PC_FNV1A_START 0xcbf29ce484222325u
uint64_t pc_fnv1a(uint64_t h, const void *p, size_t n);

/* A number for name, the same for the same text for as long as the
 * process lives, another for any other (the names of a few chains: kept,
 * never freed). 0 when out of memory or longer than 255 bytes. */
uint32_t pc_name_id(const char *name);

/* How many times each 64-bit key was counted in: so that "is there any
 * with this key?" is answered without a pass over 10,000 of them. Keys
 * that stand for more than one thing may share a count: a count is then
 * at least right, never less. Zeroed: empty. */
struct pc_keycount {
	struct pc_keycount_slot {
		uint64_t key;
		uint32_t n;
		bool used; /* once: the slot stays in its probe run */
	} *slots;
	size_t n_slots, n_used;
};
/* key counted in (by 1) or out (-1): 0, -ENOMEM, or -EINVAL for one out
 * that was not in. */
int pc_keycount_add(struct pc_keycount *kc, uint64_t key, int by);
uint32_t pc_keycount_get(const struct pc_keycount *kc, uint64_t key);
void pc_keycount_free(struct pc_keycount *kc);

/* CLOCK_MONOTONIC in ms: the clock of every deadline portctld keeps. */
uint64_t pc_now_ms(void);

#endif
