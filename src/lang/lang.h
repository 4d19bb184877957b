/* Internals of the rule language shared by the lexer, parser, validator and
 * loader; nothing here is visible to the other stages. */
#ifndef PORTCTL_LANG_H
#define PORTCTL_LANG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portctl/ast.h"
#include "portctl/config.h"
#include "portctl/diag.h"
#include "portctl/util.h"

/* A logical line (continuations joined) longer than this is refused: far
 * above a 10,000-address "deny from" line, and bounded so that a runaway
 * file gets one clear error. Long lists belong in set files. */
#define PC_LINE_MAX (16 * 1024 * 1024)
/* A file larger than this is refused before it is parsed. */
#define PC_FILE_MAX ((size_t)64 * 1024 * 1024)

enum tok_type {
	TOK_EOF,
	TOK_EOL,
	TOK_WORD,
	TOK_COMMA,
	TOK_STRING,
	TOK_ERROR, /* already reported; the caller skips the line */
};

struct token {
	enum tok_type type;
	const char *start; /* source bytes of the token */
	size_t len;
	struct pc_loc loc;
	/* TOK_STRING: the unescaped value, valid until the next token. */
	const char *str;
	size_t str_len;
};

struct lexer {
	const char *file;
	const char *buf;
	size_t len;
	size_t pos;
	uint32_t line, col;
	struct pc_diags *d;
	struct pc_strbuf strbuf; /* scratch for string values */
	struct token peeked;
	bool has_peeked;
	bool bol; /* the last token ended a line */
};

void lexer_init(struct lexer *lx, const char *file, const char *buf, size_t len,
		struct pc_diags *d);
void lexer_done(struct lexer *lx);
/* Next token; TOK_ERROR means a diagnostic was added. */
void lexer_next(struct lexer *lx, struct token *t);
const struct token *lexer_peek(struct lexer *lx);
/* Drop the rest of the current logical line, newline included. */
void lexer_skip_line(struct lexer *lx);
/* At the start of a line: report and skip it when it is too long.
 * Returns true when the line was skipped. */
bool lexer_skip_long_line(struct lexer *lx);

static inline bool tok_is(const struct token *t, const char *word)
{
	size_t n = strlen(word);

	return t->type == TOK_WORD && t->len == n && memcmp(t->start, word, n) == 0;
}

/* Printable, bounded copy of a word for messages ("\x01" for control bytes). */
const char *word_quote(char *buf, size_t size, const char *s, size_t len);

/* Keywords of the grammar: none of them may name a zone or service. */
bool keyword_is(const char *s, size_t len);
bool name_is_valid(const char *s, size_t len);
bool ifname_is_valid(const char *s, size_t len);
bool utf8_is_valid(const char *s, size_t len);

/* Levenshtein distance, giving up (returning max + 1) beyond max. */
unsigned edit_distance(const char *a, size_t alen, const char *b, size_t blen, unsigned max);
/* The closest of candidates within distance 2, or NULL. */
const char *suggest_from(const char *word, size_t len, const char *const *candidates, size_t n);

/* Open-addressing map from a string to an index; keys are not copied. */
struct strmap {
	struct strmap_slot {
		const char *key;
		size_t value;
	} * slots;
	size_t n, cap;
};

int strmap_put(struct strmap *m, const char *key, size_t value);
/* Returns true and sets *value when key is present. */
bool strmap_get(const struct strmap *m, const char *key, size_t *value);
void strmap_free(struct strmap *m);

/* Digits only, at most max: -EINVAL for other bytes, -ERANGE past max. */
int number_parse(const char *s, size_t len, uint32_t max, uint32_t *out);
/* The place of part of a word: off bytes in, len bytes long. */
struct pc_loc loc_sub(const struct pc_loc *loc, size_t off, size_t len);

/* Parse an address word ("10.0.0.0/8", "2001:db8::1", "any"). On error a
 * diagnostic is added at loc and -EINVAL returned. */
/* Clear the bits past the prefix length; true when any was set. */
bool prefix_clear_host_bits(uint8_t *addr, unsigned bytes, unsigned len);
int prefix_parse(struct pc_prefix *p, const char *s, size_t len, const struct pc_loc *loc,
		 struct pc_diags *d);
/* Parse one port item without its protocol ("80", "8000-8100"). */
int port_range_parse(struct pc_port_range *r, const char *s, size_t len, const struct pc_loc *loc,
		     struct pc_diags *d);

/* Append a string in the grammar's quoted form ("a \"b\""). */
int quote_append(struct pc_strbuf *sb, const char *s, size_t len);
const char *pc_log_level_word(uint8_t level);

#endif
