/* Disjoint key spans: flattening overlapping ranges by precedence, the one
 * algorithm behind port maps, address sets and longest-prefix dispatch. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "compile-internal.h"
#include "portctl/util.h"

int key_cmp(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 16);
}

bool key_inc(uint8_t *k, uint8_t width)
{
	for (int i = width - 1; i >= 0; i--) {
		if (++k[i] != 0)
			return true;
	}
	return false;
}

bool key_dec(uint8_t *k, uint8_t width)
{
	for (int i = width - 1; i >= 0; i--) {
		if (k[i]-- != 0)
			return true;
	}
	return false;
}

void key_from_prefix(const struct pc_prefix *p, uint8_t *lo, uint8_t *hi)
{
	unsigned int width = p->family == AF_INET ? 4 : 16;

	memset(lo, 0, 16);
	memset(hi, 0, 16);
	for (unsigned int i = 0; i < width; i++) {
		unsigned int bits = p->len > i * 8 ? p->len - i * 8 : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);

		lo[i] = p->addr[i] & mask;
		hi[i] = lo[i] | (uint8_t)~mask;
	}
}

static bool bit_at(const uint8_t *k, uint8_t width, unsigned i)
{
	return k[width - 1 - i / 8] >> (i % 8) & 1;
}

/* The byte of bit i (from the low end) of a key of width bytes; its mask
 * in *mask. */
static uint8_t *bit_byte(uint8_t *k, uint8_t width, unsigned i, uint8_t *mask)
{
	*mask = (uint8_t)(1u << (i % 8));
	return &k[width - 1 - i / 8];
}

int span_prefixes(const uint8_t *lo, const uint8_t *hi, uint8_t width,
		  int (*f)(const uint8_t *addr, unsigned len, void *arg), void *arg)
{
	unsigned bits = width * 8u;
	uint8_t cur[16] = { 0 }, end[16];

	memcpy(cur, lo, width);
	for (;;) {
		unsigned k = 0;
		int r;

		/* The widest block at cur that ends at or before hi: end is cur
		 * with its low k bits set, one more a step (a 10,000 networks'
		 * start spent 16% of it setting them all again at each step). */
		memcpy(end, cur, 16);
		while (k < bits && !bit_at(cur, width, k)) {
			uint8_t mask, *byte = bit_byte(end, width, k, &mask);

			*byte |= mask;
			if (memcmp(end, hi, width) > 0) {
				*byte &= (uint8_t)~mask;
				break;
			}
			k++;
		}
		r = f(cur, bits - k, arg);
		if (r < 0)
			return r;
		if (memcmp(end, hi, width) >= 0 || !key_inc(end, width))
			return 0;
		memcpy(cur, end, 16);
	}
}

static int item_cmp_lo(const void *a, const void *b)
{
	return key_cmp(((const struct span_item *)a)->lo, ((const struct span_item *)b)->lo);
}

static int point_cmp(const void *a, const void *b)
{
	return key_cmp(a, b);
}

static bool item_beats(const struct span_item *a, const struct span_item *b)
{
	if (a->prio != b->prio)
		return a->prio < b->prio;
	return a->seq < b->seq;
}

/* A binary min-heap of item pointers ordered by precedence. */
struct heap {
	const struct span_item **v;
	size_t n;
};

static void heap_push(struct heap *h, const struct span_item *it)
{
	size_t i = h->n++;

	h->v[i] = it;
	while (i > 0 && item_beats(h->v[i], h->v[(i - 1) / 2])) {
		const struct span_item *t = h->v[i];

		h->v[i] = h->v[(i - 1) / 2];
		h->v[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static void heap_pop(struct heap *h)
{
	size_t i = 0;

	h->v[0] = h->v[--h->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->n && item_beats(h->v[l], h->v[m]))
			m = l;
		if (r < h->n && item_beats(h->v[r], h->v[m]))
			m = r;
		if (m == i)
			return;
		const struct span_item *t = h->v[i];
		h->v[i] = h->v[m];
		h->v[m] = t;
		i = m;
	}
}

static bool span_same_decider(const struct pc_plan_span *s, const struct span_item *it)
{
	return s->rule == it->rule && s->verdict == it->verdict && s->zone == it->zone &&
	       s->ban == it->ban;
}

/* Append [lo, hi] decided by it, extending the last span when adjacent. */
static int spans_append(struct pc_plan_spans *out, const uint8_t *lo, const uint8_t *hi,
			const struct span_item *it)
{
	if (out->n > 0) {
		struct pc_plan_span *last = &out->items[out->n - 1];
		uint8_t next[16];

		memcpy(next, last->hi, 16);
		if (key_inc(next, out->width) && key_cmp(next, lo) == 0 &&
		    span_same_decider(last, it)) {
			memcpy(last->hi, hi, 16);
			return 0;
		}
	}
	struct pc_plan_span *s = PC_ARRAY_PUSH(out->items, out->n, out->cap);
	if (!s)
		return -ENOMEM;
	memcpy(s->lo, lo, 16);
	memcpy(s->hi, hi, 16);
	s->verdict = it->verdict;
	s->rule = it->rule;
	s->zone = it->zone;
	s->ban = it->ban;
	return 0;
}

/* Are the n keys at key, key + stride, ... in order? Rules are mostly
 * written in order (a list of ports, an inventory of hosts): their items
 * and points come sorted, and a start of 10,000 such rules spent 14% of
 * its time sorting them again. */
static bool keys_sorted(const uint8_t *key, size_t n, size_t stride)
{
	for (size_t i = 1; i < n; i++, key += stride)
		if (key_cmp(key, key + stride) > 0)
			return false;
	return true;
}

/* Every range start and every first key past a range end, sorted, unique. */
static int points_collect(const struct span_item *items, size_t n, uint8_t width,
			  uint8_t (**out)[16], size_t *n_out)
{
	uint8_t(*pts)[16] = malloc(2 * n * sizeof(*pts));
	size_t k = 0, u = 0;

	if (!pts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		memcpy(pts[k++], items[i].lo, 16);
		memcpy(pts[k], items[i].hi, 16);
		if (key_inc(pts[k], width))
			k++;
	}
	if (!keys_sorted(pts[0], k, sizeof(*pts)))
		qsort(pts, k, sizeof(*pts), point_cmp);
	for (size_t i = 0; i < k; i++) {
		if (u == 0 || key_cmp(pts[u - 1], pts[i]) != 0)
			memmove(pts[u++], pts[i], 16);
	}
	*out = pts;
	*n_out = u;
	return 0;
}

int spans_flatten(struct span_item *items, size_t n, struct pc_plan_spans *out)
{
	_cleanup_free_ uint8_t(*pts)[16] = NULL;
	_cleanup_free_ const struct span_item **heapv = NULL;
	struct heap h = { 0 };
	size_t n_pts, next = 0;
	int r;

	if (n == 0)
		return 0;
	if (!keys_sorted(items[0].lo, n, sizeof(*items)))
		qsort(items, n, sizeof(*items), item_cmp_lo);
	r = points_collect(items, n, out->width, &pts, &n_pts);
	if (r < 0)
		return r;
	heapv = malloc(n * sizeof(*heapv));
	if (!heapv)
		return -ENOMEM;
	h.v = heapv;

	for (size_t p = 0; p < n_pts; p++) {
		uint8_t hi[16];

		while (next < n && key_cmp(items[next].lo, pts[p]) <= 0)
			heap_push(&h, &items[next++]);
		while (h.n > 0 && key_cmp(h.v[0]->hi, pts[p]) < 0)
			heap_pop(&h);
		if (h.n == 0)
			continue;
		if (p + 1 < n_pts) {
			memcpy(hi, pts[p + 1], 16);
			key_dec(hi, out->width);
		} else {
			memset(hi, 0, 16);
			memset(hi, 0xff, out->width);
		}
		r = spans_append(out, pts[p], hi, h.v[0]);
		if (r < 0)
			return r;
	}
	return 0;
}

size_t spans_first_ending_at(const struct pc_plan_spans *spans, const uint8_t *key)
{
	size_t lo = 0, hi = spans->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(spans->items[mid].hi, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct pc_plan_span *spans_find(const struct pc_plan_spans *s, const uint8_t *key)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pc_plan_span *sp = &s->items[mid];

		if (key_cmp(key, sp->lo) < 0)
			hi = mid;
		else if (key_cmp(key, sp->hi) > 0)
			lo = mid + 1;
		else
			return sp;
	}
	return NULL;
}

bool span_is_host(const struct pc_plan_span *sp)
{
	return key_cmp(sp->lo, sp->hi) == 0;
}

int spans_split(const struct pc_plan_spans *in, struct pc_plan_spans out[SPANS_PARTS])
{
	for (int k = 0; k < SPANS_PARTS; k++)
		out[k] = (struct pc_plan_spans){ .width = in->width };
	for (size_t i = 0; i < in->n; i++) {
		const struct pc_plan_span *sp = &in->items[i];
		struct pc_plan_spans *o = &out[spans_part(!span_is_host(sp), sp->verdict)];
		struct pc_plan_span *s = PC_ARRAY_PUSH(o->items, o->n, o->cap);

		if (!s)
			return -ENOMEM;
		*s = *sp;
	}
	return 0;
}

int spans_union(const struct pc_plan_spans *in, struct pc_plan_spans *out)
{
	static const struct span_item anyone = {.rule = NULL};

	out->width = in->width;
	for (size_t i = 0; i < in->n; i++)
		if (spans_append(out, in->items[i].lo, in->items[i].hi, &anyone) < 0)
			return -ENOMEM;
	return 0;
}

void spans_free(struct pc_plan_spans *s)
{
	free(s->items);
	s->items = NULL;
	s->n = s->cap = 0;
}
