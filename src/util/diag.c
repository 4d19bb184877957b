/* Diagnostics: collect errors and warnings with their places, keep the
 * sources they point into, and print them with the offending line. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "portctl/diag.h"

/* Source lines longer than this are shown as a window around the word. */
#define SHOW_WIDTH 160

void pc_diags_init(struct pc_diags *d)
{
	*d = (struct pc_diags){0};
}

void pc_diags_free(struct pc_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].message);
		free(d->items[i].hint);
	}
	free(d->items);
	pc_diags_init(d);
}

void pc_diags_take(struct pc_diags *d, struct pc_diags *from)
{
	for (size_t i = 0; i < from->n; i++)
		pc_diag_add(d, from->items[i].severity, &from->items[i].loc, from->items[i].hint,
			    "%s", from->items[i].message ? from->items[i].message : "");
	pc_diags_free(from);
}

static _printf_(1, 0) char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

void pc_diag_add(struct pc_diags *d, enum pc_severity sev, const struct pc_loc *loc,
		 const char *hint, const char *fmt, ...)
{
	struct pc_diag *item;
	va_list ap;

	if (sev == PC_SEV_ERROR)
		d->n_errors++;
	else
		d->n_warnings++;
	if (d->n >= PC_DIAG_MAX) {
		d->n_dropped++;
		return;
	}
	item = PC_ARRAY_PUSH(d->items, d->n, d->cap);
	if (!item) {
		d->n_dropped++;
		return;
	}
	item->severity = sev;
	if (loc)
		item->loc = *loc;
	va_start(ap, fmt);
	item->message = vformat(fmt, ap);
	va_end(ap);
	item->hint = hint ? strdup(hint) : NULL;
}

uint64_t pc_source_data_version(void)
{
	static uint64_t last;

	return ++last;
}

const char *pc_sources_add(struct pc_sources *s, const char *name, char *data, size_t len)
{
	struct pc_source *src;
	char *copy = strdup(name);

	if (!copy)
		return NULL;
	src = PC_ARRAY_PUSH(s->items, s->n, s->cap);
	if (!src) {
		free(copy);
		return NULL;
	}
	src->name = copy;
	src->data = data;
	src->len = len;
	src->version = pc_source_data_version();
	src->newlines = SIZE_MAX;
	src->kind = PC_SOURCE_OTHER;
	src->origin = 0;
	return copy;
}

const struct pc_source *pc_sources_find(const struct pc_sources *s, const char *name)
{
	if (!s || !name)
		return NULL;
	/* Locations point at the stored name, so identity finds it fast. */
	for (size_t i = 0; i < s->n; i++)
		if (s->items[i].name == name)
			return &s->items[i];
	for (size_t i = 0; i < s->n; i++)
		if (streq(s->items[i].name, name))
			return &s->items[i];
	return NULL;
}

size_t pc_source_newlines(const struct pc_source *src)
{
	if (src->newlines == SIZE_MAX)
		((struct pc_source *)src)->newlines = pc_newlines(src->data, src->len);
	return src->newlines;
}

void pc_sources_free(struct pc_sources *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->items[i].name);
		free(s->items[i].data);
	}
	free(s->items);
	*s = (struct pc_sources){0};
}

/* Remembers where the last line was found, so printing diagnostics of one
 * file in order costs one pass over it, not one per diagnostic. */
struct line_cursor {
	const struct pc_source *src;
	uint32_t line;
	size_t off;
};

static bool line_find(struct line_cursor *c, const struct pc_source *src, uint32_t line,
		      const char **start, size_t *len)
{
	size_t off;
	uint32_t cur;

	if (c->src == src && c->line <= line) {
		cur = c->line;
		off = c->off;
	} else {
		cur = 1;
		off = 0;
	}
	while (cur < line && off < src->len) {
		const char *nl = memchr(src->data + off, '\n', src->len - off);

		if (!nl)
			return false;
		off = nl - src->data + 1;
		cur++;
	}
	if (cur != line || off > src->len)
		return false;
	c->src = src;
	c->line = cur;
	c->off = off;

	const char *nl = memchr(src->data + off, '\n', src->len - off);
	size_t n = nl ? (size_t)(nl - src->data) - off : src->len - off;

	if (n > 0 && src->data[off + n - 1] == '\r')
		n--;
	*start = src->data + off;
	*len = n;
	return true;
}

/* Print the source line (control bytes as '?') and the caret line under
 * the word, keeping tabs so the caret lines up in a terminal. */
static void line_print(FILE *out, const char *line, size_t len, const struct pc_loc *loc)
{
	size_t col = loc->col ? loc->col - 1 : 0;
	size_t from = 0, to = len, wlen = loc->len ? loc->len : 1;
	bool cut_left = false, cut_right = false;

	if (col > len)
		col = len;
	if (len > SHOW_WIDTH) {
		from = col > SHOW_WIDTH / 2 ? col - SHOW_WIDTH / 2 : 0;
		to = from + SHOW_WIDTH < len ? from + SHOW_WIDTH : len;
		cut_left = from > 0;
		cut_right = to < len;
	}
	fputs(cut_left ? "..." : "", out);
	for (size_t i = from, n; i < to; i += n) {
		unsigned char ch = line[i];

		/* Whole UTF-8 characters only: the line may go into a JSON reply. */
		n = ch >= 0x80 ? pc_utf8_char_len(line + i, to - i) : 1;
		if (n > 1) {
			fwrite(line + i, 1, n, out);
			continue;
		}
		fputc(ch == '\t' || (ch >= 0x20 && ch < 0x7f) ? ch : '?', out);
		n = 1;
	}
	fputs(cut_right ? "...\n" : "\n", out);
	fputs(cut_left ? "   " : "", out);
	for (size_t i = from; i < col && i < to; i++)
		fputc(line[i] == '\t' ? '\t' : ' ', out);
	fputc('^', out);
	for (size_t i = 1; i < wlen && col + i < to; i++)
		fputc('~', out);
	fputc('\n', out);
}

static void diag_print(FILE *out, const struct pc_diag *g, const struct pc_sources *src,
		       struct line_cursor *cursor)
{
	const char *sev = g->severity == PC_SEV_ERROR ? "error" : "warning";
	const struct pc_source *s;
	const char *line;
	size_t len;

	if (!g->loc.file)
		fprintf(out, "%s: %s\n", sev, g->message ? g->message : "(out of memory)");
	else if (g->loc.line == 0)
		fprintf(out, "%s: %s: %s\n", g->loc.file, sev,
			g->message ? g->message : "(out of memory)");
	else
		fprintf(out, "%s:%u:%u: %s: %s\n", g->loc.file, g->loc.line, g->loc.col, sev,
			g->message ? g->message : "(out of memory)");
	if (g->loc.file && g->loc.line > 0) {
		s = pc_sources_find(src, g->loc.file);
		if (s && line_find(cursor, s, g->loc.line, &line, &len))
			line_print(out, line, len, &g->loc);
	}
	if (g->hint)
		fprintf(out, "  hint: %s\n", g->hint);
}

/* Printing order: file by file in the order they were read, then by place;
 * diagnostics without a place first; otherwise as they were added. */
struct diag_order {
	size_t source;
	const struct pc_diag *g;
	size_t seq;
};

static size_t source_index(const struct pc_sources *src, const char *file)
{
	if (!src || !file)
		return 0;
	for (size_t i = 0; i < src->n; i++)
		if (src->items[i].name == file)
			return i + 1;
	return src->n + 1;
}

static int order_cmp(const void *a, const void *b)
{
	const struct diag_order *x = a, *y = b;

	if (x->source != y->source)
		return x->source < y->source ? -1 : 1;
	if (x->g->loc.line != y->g->loc.line)
		return x->g->loc.line < y->g->loc.line ? -1 : 1;
	if (x->g->loc.col != y->g->loc.col)
		return x->g->loc.col < y->g->loc.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void pc_diags_print(FILE *out, const struct pc_diags *d, const struct pc_sources *src)
{
	struct line_cursor cursor = {0};
	struct diag_order *order = calloc(d->n ? d->n : 1, sizeof(*order));
	/* Redacted: sources still order the files, but no line is shown. */
	const struct pc_sources *lines = d->redacted ? NULL : src;

	for (size_t i = 0; i < d->n; i++) {
		if (!order) {
			diag_print(out, &d->items[i], lines, &cursor);
			continue;
		}
		order[i] =
		    (struct diag_order){source_index(src, d->items[i].loc.file), &d->items[i], i};
	}
	if (order) {
		qsort(order, d->n, sizeof(*order), order_cmp);
		for (size_t i = 0; i < d->n; i++)
			diag_print(out, order[i].g, lines, &cursor);
	}
	free(order);
	if (d->n_dropped > 0)
		fprintf(out, "... and %zu more diagnostics not shown\n", d->n_dropped);
}

void pc_diags_redact(struct pc_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].message);
		free(d->items[i].hint);
		d->items[i].message = strdup(PC_DIAG_REDACTED);
		d->items[i].hint = NULL;
	}
	d->redacted = true;
}
