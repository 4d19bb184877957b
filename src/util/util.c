/* Arena, growable arrays and string buffers: the allocation helpers every
 * stage shares. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "portctl/util.h"

#define ARENA_CHUNK (64 * 1024)

struct arena_chunk {
	struct arena_chunk *next;
	size_t used;
	size_t size;
	max_align_t data[];
};

struct pc_arena {
	struct arena_chunk *head;
	size_t total;
};

struct pc_arena *pc_arena_new(void)
{
	return calloc(1, sizeof(struct pc_arena));
}

void pc_arena_free(struct pc_arena *a)
{
	if (!a)
		return;
	for (struct arena_chunk *c = a->head, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void *pc_arena_alloc(struct pc_arena *a, size_t size)
{
	const size_t align = _Alignof(max_align_t);
	struct arena_chunk *c = a->head;
	void *p;

	size = (size + align - 1) & ~(align - 1);
	if (size == 0)
		size = align;
	if (!c || c->size - c->used < size) {
		size_t csize = size > ARENA_CHUNK / 4 ? size : ARENA_CHUNK;

		/* A big object gets its own chunk behind the head, so the
		 * head's free space is not wasted. */
		c = malloc(sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->used = 0;
		c->size = csize;
		if (csize > ARENA_CHUNK && a->head) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
		a->total += csize;
	}
	p = (char *)c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

char *pc_arena_strndup(struct pc_arena *a, const char *s, size_t n)
{
	char *p = pc_arena_alloc(a, n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *pc_arena_strdup(struct pc_arena *a, const char *s)
{
	return pc_arena_strndup(a, s, strlen(s));
}

size_t pc_arena_size(const struct pc_arena *a)
{
	return a ? a->total : 0;
}

void *pc_array_push(void **items, size_t *n, size_t *cap, size_t elem_size)
{
	char *slot;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		void *p;

		if (ncap > SIZE_MAX / elem_size)
			return NULL;
		p = realloc(*items, ncap * elem_size);
		if (!p)
			return NULL;
		*items = p;
		*cap = ncap;
	}
	slot = (char *)*items + *n * elem_size;
	memset(slot, 0, elem_size);
	(*n)++;
	return slot;
}

int pc_strbuf_append(struct pc_strbuf *sb, const char *s, size_t n)
{
	if (sb->len + n + 1 > sb->cap) {
		size_t ncap = sb->cap ? sb->cap : 64;
		char *p;

		while (ncap < sb->len + n + 1)
			ncap *= 2;
		p = realloc(sb->buf, ncap);
		if (!p)
			return -ENOMEM;
		sb->buf = p;
		sb->cap = ncap;
	}
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

static size_t put_bytes(char *buf, size_t size, size_t at, const char *s, size_t n)
{
	size_t room = at < size ? size - 1 - at : 0;

	if (n > room)
		n = room;
	memcpy(buf + at, s, n);
	at += n;
	buf[at] = '\0';
	return at;
}

size_t pc_put_str(char *buf, size_t size, size_t at, const char *s)
{
	return put_bytes(buf, size, at, s, strlen(s));
}

size_t pc_put_hex64(char *buf, size_t size, size_t at, uint64_t v)
{
	char hex[16];

	for (int i = 15; i >= 0; i--, v >>= 4)
		hex[i] = "0123456789abcdef"[v & 15];
	return put_bytes(buf, size, at, hex, sizeof(hex));
}

size_t pc_put_uint(char *buf, size_t size, size_t at, unsigned long v)
{
	char digits[20];
	size_t d = sizeof(digits);

	do
		digits[--d] = (char)('0' + v % 10);
	while (v /= 10);
	return put_bytes(buf, size, at, digits + d, sizeof(digits) - d);
}

int pc_strbuf_printf(struct pc_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return pc_strbuf_append(sb, small, n);

	char *big = malloc(n + 1);
	int r;

	if (!big)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(big, n + 1, fmt, ap);
	va_end(ap);
	r = pc_strbuf_append(sb, big, n);
	free(big);
	return r;
}

void pc_strbuf_free(struct pc_strbuf *sb)
{
	free(sb->buf);
	*sb = (struct pc_strbuf){0};
}

int pc_open_read(const char *path, struct stat *st)
{
	/* O_NONBLOCK: opening a FIFO or a device must not wait for a writer
	 * or a carrier; fstat then tells what was opened. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* fd to its end, from where it stands (read) or from its start (pread:
 * the offset stays, for a descriptor opened to append). Sized for a
 * regular file as it is: read once, not copied as it grows. */
static int read_all(int fd, size_t max, bool from_start, char **data, size_t *len)
{
	_cleanup_free_ char *buf = NULL;
	size_t n = 0, cap = 65536;
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size <= max)
		cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t k;

		if (n == cap) {
			char *grown = cap <= max ? realloc(buf, 2 * cap + 1) : NULL;

			if (cap > max)
				return -EFBIG;
			if (!grown)
				return -ENOMEM;
			buf = grown;
			cap *= 2;
		}
		k = from_start ? pread(fd, buf + n, cap - n, (off_t)n) : read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > max)
			return -EFBIG;
	}
	buf[n] = '\0';
	*data = TAKE_PTR(buf);
	*len = n;
	return 0;
}

int pc_read_fd(int fd, size_t max, char **data, size_t *len)
{
	return read_all(fd, max, false, data, len);
}

int pc_pread_all(int fd, size_t max, char **data, size_t *len)
{
	return read_all(fd, max, true, data, len);
}

int pc_read_file(const char *path, size_t max, char **data, size_t *len)
{
	struct stat st;
	_cleanup_close_ int fd = pc_open_read(path, &st);

	if (fd < 0)
		return fd;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	return pc_read_fd(fd, max, data, len);
}

size_t pc_utf8_char_len(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c;
	size_t n;
	uint32_t cp;

	if (len == 0)
		return 0;
	c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n >= len)
		return 0;
	for (size_t k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n + 1;
}

size_t pc_utf8_valid_len(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len && (n = pc_utf8_char_len(s + i, len - i)) > 0)
		i += n;
	return i;
}

int pc_write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int pc_parent_dir_create(const char *path, mode_t mode)
{
	char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
	int r = 0;

	if (!dir)
		return -ENOMEM;
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, mode) < 0 && errno != EEXIST)
			r = -errno;
	}
	free(dir);
	return r;
}

uint64_t pc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t pc_fnv1a(uint64_t h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const uint8_t *)p)[i]) * 0x100000001b3u;
	return h;
}

/* Asked rule after rule, mostly for the name asked just before: that one
 * is the thread's to answer without the lock. */
#define NAME_ID_MAX 256

static struct {
	char **names; /* id - 1 → name */
	size_t n, cap;
	/* Open addressing by the name's hash: ids, 0 empty; never full
	 * beyond half, so that a name is found in a probe or two however
	 * many chains there are (a block chain per ~64 rules). */
	uint32_t *slots;
	size_t n_slots;
	pthread_mutex_t lock;
} name_ids = { .lock = PTHREAD_MUTEX_INITIALIZER };

static _Thread_local char name_last[NAME_ID_MAX];
static _Thread_local uint32_t name_last_id;

static uint32_t *name_slot(const char *name, size_t len)
{
	size_t mask = name_ids.n_slots - 1;

	for (size_t i = pc_fnv1a(PC_FNV1A_START, name, len) & mask;; i = (i + 1) & mask)
		if (!name_ids.slots[i] || streq(name_ids.names[name_ids.slots[i] - 1], name))
			return &name_ids.slots[i];
}

/* Room for one more name in the slots. 0 or -ENOMEM. */
static int name_slots_grow(void)
{
	size_t n_slots = name_ids.n_slots ? name_ids.n_slots * 2 : 64;
	uint32_t *old = name_ids.slots;

	if (2 * (name_ids.n + 1) <= name_ids.n_slots)
		return 0;
	name_ids.slots = calloc(n_slots, sizeof(*name_ids.slots));
	if (!name_ids.slots) {
		name_ids.slots = old;
		return -ENOMEM;
	}
	name_ids.n_slots = n_slots;
	for (size_t i = 0; i < name_ids.n; i++)
		*name_slot(name_ids.names[i], strlen(name_ids.names[i])) = (uint32_t)i + 1;
	free(old);
	return 0;
}

/* Every bit of the key moves every bit of the slot: a rule's signature
 * differs only in its top 16 bits for rules of addresses alone, and a
 * hash of a few middle bits put 10,000 such rules in 8 probe runs (a
 * start with a block list of 10,000 rules spent 126M instructions here). */
static uint64_t key_mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdu;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53u;
	return k ^ (k >> 33);
}

static size_t keycount_at(const struct pc_keycount *kc, uint64_t key)
{
	size_t mask = kc->n_slots - 1, i = (size_t)key_mix(key);

	for (i &= mask; kc->slots[i].used && kc->slots[i].key != key; i = (i + 1) & mask)
		;
	return i;
}

/* Room for one more key, at most half the slots used. */
static int keycount_grow(struct pc_keycount *kc)
{
	struct pc_keycount g = { .n_slots = 64 };

	if (kc->n_slots && 2 * (kc->n_used + 1) <= kc->n_slots)
		return 0;
	while (g.n_slots < 4 * (kc->n_used + 1))
		g.n_slots *= 2;
	if (!(g.slots = calloc(g.n_slots, sizeof(*g.slots))))
		return -ENOMEM;
	for (size_t i = 0; i < kc->n_slots; i++)
		if (kc->slots[i].n) {
			g.slots[keycount_at(&g, kc->slots[i].key)] = kc->slots[i];
			g.n_used++;
		}
	free(kc->slots);
	*kc = g;
	return 0;
}

int pc_keycount_add(struct pc_keycount *kc, uint64_t key, int by)
{
	struct pc_keycount_slot *s;

	if (by > 0 && keycount_grow(kc) < 0)
		return -ENOMEM;
	if (!kc->n_slots)
		return -EINVAL;
	s = &kc->slots[keycount_at(kc, key)];
	if (by < 0 && !s->n)
		return -EINVAL;
	if (!s->used) {
		*s = (struct pc_keycount_slot){ .key = key, .used = true };
		kc->n_used++;
	}
	s->n += by;
	return 0;
}

uint32_t pc_keycount_get(const struct pc_keycount *kc, uint64_t key)
{
	return kc->n_slots ? kc->slots[keycount_at(kc, key)].n : 0;
}

void pc_keycount_free(struct pc_keycount *kc)
{
	free(kc->slots);
	*kc = (struct pc_keycount){ 0 };
}

uint32_t pc_name_id(const char *name)
{
	size_t len = strlen(name);
	uint32_t id = 0, *slot;

	if (len >= NAME_ID_MAX)
		return 0;
	if (name_last_id && streq(name_last, name))
		return name_last_id;
	pthread_mutex_lock(&name_ids.lock);
	slot = name_slots_grow() < 0 ? NULL : name_slot(name, len);
	if (slot && *slot) {
		id = *slot;
	} else if (slot) {
		char **p = PC_ARRAY_PUSH(name_ids.names, name_ids.n, name_ids.cap);

		if (p && (*p = strdup(name)))
			id = *slot = (uint32_t)name_ids.n;
		else if (p)
			name_ids.n--;
	}
	pthread_mutex_unlock(&name_ids.lock);
	if (id) {
		memcpy(name_last, name, len + 1);
		name_last_id = id;
	}
	return id;
}

unsigned pc_newlines8(const char *s)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7fu, high = 0x8080808080808080u;
	uint64_t w;

	memcpy(&w, s, 8);
	w ^= 0x0a0a0a0a0a0a0a0au; /* a newline's byte is 0 now */
	/* A byte's high bit is set when the byte was 0 (no carry out); the
	 * multiply adds the 8 bits up in the top byte. */
	w = ~(((w & low7) + low7) | w) & high;
	return (unsigned)(((w >> 7) * 0x0101010101010101u) >> 56);
}

size_t pc_newlines(const char *s, size_t len)
{
	size_t n = 0, i = 0;

	for (; i + 8 <= len; i += 8)
		n += pc_newlines8(s + i);
	for (; i < len; i++)
		n += s[i] == '\n';
	return n;
}
