/* Diagnostics: errors and warnings with their FILE:LINE:COL, collected so
 * that every problem is reported, not just the first. */
#ifndef PORTCTL_DIAG_H
#define PORTCTL_DIAG_H

#include <stdbool.h>
#include <stdio.h>

#include "portctl/ast.h"
#include "portctl/util.h"

enum pc_severity { PC_SEV_ERROR, PC_SEV_WARNING };

struct pc_diag {
	enum pc_severity severity;
	struct pc_loc loc; /* loc.file NULL: not tied to a place */
	char *message;     /* owned */
	char *hint;        /* owned, may be NULL: "did you mean 'https'?" */
};

/* Past this many diagnostics further ones are counted, not stored, so that
 * a 10 MB file of garbage cannot take unbounded memory. */
#define PC_DIAG_MAX 1000

struct pc_diags {
	struct pc_diag *items;
	size_t n, cap;
	size_t n_errors;
	size_t n_warnings;
	size_t n_dropped;
	bool redacted; /* pc_diags_redact: never print source lines */
};

void pc_diags_init(struct pc_diags *d);
void pc_diags_free(struct pc_diags *d);
/* d takes every diagnostic of from, which is emptied. */
void pc_diags_take(struct pc_diags *d, struct pc_diags *from);
void pc_diag_add(struct pc_diags *d, enum pc_severity sev, const struct pc_loc *loc,
		 const char *hint, const char *fmt, ...) _printf_(5, 6);
#define pc_error(d, loc, ...) pc_diag_add((d), PC_SEV_ERROR, (loc), NULL, __VA_ARGS__)
#define pc_warning(d, loc, ...) pc_diag_add((d), PC_SEV_WARNING, (loc), NULL, __VA_ARGS__)
static inline bool pc_diags_has_errors(const struct pc_diags *d)
{
	return d->n_errors > 0;
}

/* A source buffer, kept so diagnostics can show the offending line. */
/* What a source was read as, so that it can be parsed again alike. */
enum pc_source_kind { PC_SOURCE_OTHER, PC_SOURCE_RULES, PC_SOURCE_SETTINGS, PC_SOURCE_SET };

struct pc_source {
	char *name; /* owned; struct pc_loc.file points here */
	char *data; /* owned, NUL-terminated */
	size_t len;
	enum pc_source_kind kind;
	int origin; /* RULES: the enum pc_origin it was parsed with */
	/* Unique to this data in the process (pc_source_data_version): equal
	 * versions, equal texts, without reading them. */
	uint64_t version;
	/* The '\n's in data, once counted (pc_source_newlines): SIZE_MAX
	 * until then. Whoever replaces data sets it, or SIZE_MAX. */
	size_t newlines;
};

struct pc_sources {
	struct pc_source *items;
	size_t n, cap;
};

/* A version no source's data had before: for data put in a source. */
uint64_t pc_source_data_version(void);
/* Takes ownership of data. Returns the stored name (stable) or NULL. */
const char *pc_sources_add(struct pc_sources *s, const char *name, char *data, size_t len);
const struct pc_source *pc_sources_find(const struct pc_sources *s, const char *name);
/* The '\n's in src's data: counted once, then kept with it (a cache, so
 * src stays const to its readers). */
size_t pc_source_newlines(const struct pc_source *src);
void pc_sources_free(struct pc_sources *s);

/*
 * Print "FILE:LINE:COL: error: message", the source line and a caret under
 * the word, then "  hint: ..." when there is one. Diagnostics are printed
 * in file order (as the sources were added), then by line and column.
 */
void pc_diags_print(FILE *out, const struct pc_diags *d, const struct pc_sources *src);

/*
 * For a reader who may not see the files (the daemon reads them as a
 * privileged user): keep only FILE:LINE:COL and the severity; messages
 * and hints (which quote words of the file) become PC_DIAG_REDACTED, and
 * source lines are no longer printed.
 */
#define PC_DIAG_REDACTED "details hidden: run as root or as a member of the socket group"
void pc_diags_redact(struct pc_diags *d);

#endif
