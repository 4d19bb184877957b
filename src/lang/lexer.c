/* The lexer: turns a buffer into words, commas, strings and line ends,
 * joining continued lines and keeping each token's physical FILE:LINE:COL. */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "lang.h"

void lexer_init(struct lexer *lx, const char *file, const char *buf, size_t len, struct pc_diags *d)
{
	*lx = (struct lexer){
	    .file = file,
	    .buf = buf,
	    .len = len,
	    .line = 1,
	    .col = 1,
	    .d = d,
	    .bol = true,
	};
}

void lexer_done(struct lexer *lx)
{
	pc_strbuf_free(&lx->strbuf);
}

static struct pc_loc lexer_loc(const struct lexer *lx, uint32_t len)
{
	return (struct pc_loc){.file = lx->file, .line = lx->line, .col = lx->col, .len = len};
}

#define UTF8_HINT "save the file as UTF-8, e.g. with: iconv -f latin1 -t utf-8"

/* The error for the byte at lx->pos, which starts no UTF-8 character. */
static void lexer_utf8_error(struct lexer *lx, const char *where)
{
	struct pc_loc loc = lexer_loc(lx, 1);

	pc_diag_add(lx->d, PC_SEV_ERROR, &loc, UTF8_HINT, "invalid UTF-8 byte 0x%02x in %s",
		    (unsigned char)lx->buf[lx->pos], where);
}

static void lexer_advance(struct lexer *lx, size_t n)
{
	lx->pos += n;
	lx->col += n;
}

static void lexer_newline(struct lexer *lx, size_t at)
{
	lx->pos = at + 1;
	lx->line++;
	lx->col = 1;
}

/* A backslash at pos followed only by blanks up to the newline continues
 * the line; returns the newline's position, or 0 when it does not. */
static size_t continuation_at(const struct lexer *lx, size_t pos)
{
	size_t i = pos + 1;

	while (i < lx->len && (lx->buf[i] == ' ' || lx->buf[i] == '\t' || lx->buf[i] == '\r'))
		i++;
	return i < lx->len && lx->buf[i] == '\n' ? i : 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void lexer_skip_blanks(struct lexer *lx)
{
	while (lx->pos < lx->len) {
		char c = lx->buf[lx->pos];
		size_t nl;

		if (is_blank(c) ||
		    (c == '\r' && lx->pos + 1 < lx->len && lx->buf[lx->pos + 1] == '\n'))
			lexer_advance(lx, 1);
		else if (c == '\\' && (nl = continuation_at(lx, lx->pos)))
			lexer_newline(lx, nl);
		else
			break;
	}
}

/* A comment runs to the end of the physical line; any UTF-8 but NUL. */
static int lexer_skip_comment(struct lexer *lx)
{
	const char *start = lx->buf + lx->pos;
	const char *nl = memchr(start, '\n', lx->len - lx->pos);
	size_t n = nl ? (size_t)(nl - start) : lx->len - lx->pos;
	const char *nul = memchr(start, '\0', n);
	size_t valid = pc_utf8_valid_len(start, n);

	if (nul) {
		lexer_advance(lx, nul - start);
		struct pc_loc loc = lexer_loc(lx, 1);

		pc_error(lx->d, &loc, "NUL byte in line");
		/* The rest is still comment: skipping it must not read a
		 * trailing '\' as a continuation. */
		lexer_advance(lx, n - (nul - start));
		return -EINVAL;
	}
	if (valid < n) {
		lexer_advance(lx, valid);
		lexer_utf8_error(lx, "a comment");
		lexer_advance(lx, n - valid);
		return -EINVAL;
	}
	lexer_advance(lx, n);
	return 0;
}

static bool is_word_end(const struct lexer *lx, size_t i)
{
	char c = lx->buf[i];

	return is_blank(c) || c == '\n' || c == ',' || c == '#' || c == '"' || c == '\0' ||
	       (c == '\r' && i + 1 < lx->len && lx->buf[i + 1] == '\n') ||
	       (c == '\\' && continuation_at(lx, i));
}

static void lexer_word(struct lexer *lx, struct token *t)
{
	size_t start = lx->pos, i = lx->pos;
	bool high = false;

	while (i < lx->len && !is_word_end(lx, i)) {
		unsigned char c = lx->buf[i];

		if (c < 0x20 || c == 0x7f) {
			lexer_advance(lx, i - start);
			struct pc_loc loc = lexer_loc(lx, 1);

			pc_error(lx->d, &loc, "control character 0x%02x in line", c);
			t->type = TOK_ERROR;
			return;
		}
		high |= c >= 0x80;
		i++;
	}
	t->type = TOK_WORD;
	t->start = lx->buf + start;
	t->len = i - start;
	t->loc = lexer_loc(lx, t->len);
	if (high && (i = pc_utf8_valid_len(t->start, t->len)) < t->len) {
		lexer_advance(lx, i);
		lexer_utf8_error(lx, "a word");
		lexer_advance(lx, t->len - i);
		t->type = TOK_ERROR;
		return;
	}
	lexer_advance(lx, t->len);
}

/* Move past the rest of a broken string so the line can be skipped. */
static void lexer_string_abandon(struct lexer *lx)
{
	while (lx->pos < lx->len && lx->buf[lx->pos] != '\n' && lx->buf[lx->pos] != '"')
		lexer_advance(lx, lx->buf[lx->pos] == '\\' && lx->pos + 1 < lx->len &&
					  lx->buf[lx->pos + 1] != '\n'
				      ? 2
				      : 1);
	if (lx->pos < lx->len && lx->buf[lx->pos] == '"')
		lexer_advance(lx, 1);
}

static int string_escape(char c)
{
	switch (c) {
	case '\\':
		return '\\';
	case '"':
		return '"';
	case 'n':
		return '\n';
	case 't':
		return '\t';
	default:
		return -1;
	}
}

static void lexer_string_fail(struct lexer *lx, struct token *t)
{
	lexer_string_abandon(lx);
	t->type = TOK_ERROR;
}

static void lexer_string(struct lexer *lx, struct token *t)
{
	struct pc_loc open = lexer_loc(lx, 1);
	size_t start = lx->pos;

	lx->strbuf.len = 0;
	if (pc_strbuf_append(&lx->strbuf, "", 0) < 0)
		goto nomem;
	lexer_advance(lx, 1);
	for (;;) {
		if (lx->pos >= lx->len || lx->buf[lx->pos] == '\n') {
			pc_diag_add(lx->d, PC_SEV_ERROR, &open,
				    "close it with '\"' on the same line", "unterminated string");
			t->type = TOK_ERROR;
			return;
		}
		unsigned char c = lx->buf[lx->pos];
		char out = c;
		size_t n = 1;

		if (c == '"')
			break;
		if (c == '\\' && (lx->pos + 1 >= lx->len || lx->buf[lx->pos + 1] == '\n')) {
			pc_diag_add(lx->d, PC_SEV_ERROR, &open,
				    "close it with '\"' on the same line", "unterminated string");
			t->type = TOK_ERROR;
			return;
		}
		if (c == '\\') {
			int e = string_escape(lx->buf[lx->pos + 1]);

			if (e < 0) {
				struct pc_loc loc = lexer_loc(lx, 2);

				pc_diag_add(lx->d, PC_SEV_ERROR, &loc,
					    "the escapes are \\\\, \\\", \\n and \\t",
					    "unknown escape in string");
				lexer_string_fail(lx, t);
				return;
			}
			out = e;
			lexer_advance(lx, 1);
		} else if (c < 0x20 || c == 0x7f) {
			struct pc_loc loc = lexer_loc(lx, 1);

			pc_diag_add(lx->d, PC_SEV_ERROR, &loc, c == '\t' ? "write it as \\t" : NULL,
				    "control character 0x%02x in string", c);
			lexer_string_fail(lx, t);
			return;
		} else if (c >= 0x80 &&
			   !(n = pc_utf8_char_len(lx->buf + lx->pos, lx->len - lx->pos))) {
			lexer_utf8_error(lx, "a string");
			lexer_string_fail(lx, t);
			return;
		}
		if (pc_strbuf_append(&lx->strbuf, n > 1 ? lx->buf + lx->pos : &out, n) < 0)
			goto nomem;
		lexer_advance(lx, n);
	}
	lexer_advance(lx, 1);
	t->type = TOK_STRING;
	t->start = lx->buf + start;
	t->len = lx->pos - start;
	t->loc = open;
	t->loc.len = t->len;
	t->str = lx->strbuf.buf;
	t->str_len = lx->strbuf.len;
	return;
nomem:
	pc_error(lx->d, &open, "out of memory");
	lexer_string_fail(lx, t);
}

static void lexer_scan(struct lexer *lx, struct token *t)
{
	*t = (struct token){0};
	lexer_skip_blanks(lx);
	if (lx->pos >= lx->len) {
		t->type = TOK_EOF;
		t->loc = lexer_loc(lx, 1);
		return;
	}
	switch (lx->buf[lx->pos]) {
	case '#':
		if (lexer_skip_comment(lx) < 0) {
			t->type = TOK_ERROR;
			return;
		}
		lexer_scan(lx, t);
		return;
	case '\n':
		t->type = TOK_EOL;
		t->loc = lexer_loc(lx, 1);
		lexer_newline(lx, lx->pos);
		return;
	case ',':
		t->type = TOK_COMMA;
		t->start = lx->buf + lx->pos;
		t->len = 1;
		t->loc = lexer_loc(lx, 1);
		lexer_advance(lx, 1);
		return;
	case '"':
		lexer_string(lx, t);
		return;
	case '\0':
		t->loc = lexer_loc(lx, 1);
		pc_error(lx->d, &t->loc, "NUL byte in line");
		t->type = TOK_ERROR;
		return;
	default:
		lexer_word(lx, t);
		return;
	}
}

void lexer_next(struct lexer *lx, struct token *t)
{
	if (lx->has_peeked) {
		*t = lx->peeked;
		lx->has_peeked = false;
	} else {
		lexer_scan(lx, t);
	}
	lx->bol = t->type == TOK_EOL || t->type == TOK_EOF;
}

const struct token *lexer_peek(struct lexer *lx)
{
	if (!lx->has_peeked) {
		lexer_scan(lx, &lx->peeked);
		lx->has_peeked = true;
	}
	return &lx->peeked;
}

/*
 * Find where the logical line starting at lx->pos ends: quotes and
 * comments are respected so a '#' or '\' inside a string does not end or
 * continue it. Returns the position of the final newline (or the end),
 * its length without continuations, and how many continuations it has.
 */
static size_t line_extent(const struct lexer *lx, size_t *logical, uint32_t *n_cont)
{
	size_t i = lx->pos, n = 0, nl;
	bool in_str = false;

	*n_cont = 0;
	while (i < lx->len && lx->buf[i] != '\n') {
		char c = lx->buf[i];

		if (!in_str && c == '#') {
			const char *e = memchr(lx->buf + i, '\n', lx->len - i);
			size_t end = e ? (size_t)(e - lx->buf) : lx->len;

			n += end - i;
			i = end;
			break;
		}
		if (!in_str && c == '\\' && (nl = continuation_at(lx, i))) {
			i = nl + 1;
			(*n_cont)++;
			continue;
		}
		if (in_str && c == '\\' && i + 1 < lx->len && lx->buf[i + 1] != '\n') {
			i += 2;
			n += 2;
			continue;
		}
		if (c == '"')
			in_str = !in_str;
		i++;
		n++;
	}
	*logical = n;
	return i;
}

static void lexer_jump(struct lexer *lx, size_t end, uint32_t n_cont)
{
	lx->line += n_cont;
	if (end < lx->len) {
		lexer_newline(lx, end);
	} else {
		lx->pos = lx->len;
		lx->col = 1;
	}
	lx->has_peeked = false;
	lx->bol = true;
}

void lexer_skip_line(struct lexer *lx)
{
	size_t logical, end;
	uint32_t n_cont;

	if (lx->has_peeked) {
		enum tok_type type = lx->peeked.type;

		lx->has_peeked = false;
		if (type == TOK_EOL || type == TOK_EOF)
			return;
	} else if (lx->bol) {
		return;
	}
	end = line_extent(lx, &logical, &n_cont);
	lexer_jump(lx, end, n_cont);
}

bool lexer_skip_long_line(struct lexer *lx)
{
	size_t logical, end;
	uint32_t n_cont;

	/* A logical line is no longer than the bytes left: a file shorter
	 * than the cap (every file but a list pasted into one) is not read
	 * here a second time, a character at a time. */
	if (lx->has_peeked || lx->len - lx->pos <= PC_LINE_MAX)
		return false;
	end = line_extent(lx, &logical, &n_cont);
	if (logical <= PC_LINE_MAX)
		return false;

	struct pc_loc loc = lexer_loc(lx, 1);

	pc_diag_add(lx->d, PC_SEV_ERROR, &loc,
		    "put long address lists in a set file: set NAME file PATH, then from @NAME",
		    "line is longer than %d MiB", PC_LINE_MAX / (1024 * 1024));
	lexer_jump(lx, end, n_cont);
	return true;
}
