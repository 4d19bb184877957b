/* The CLI rules file of portctld: atomic file replacement and one-line
 * edits that keep the administrator's comments and formatting. */
#ifndef PORTCTL_DAEMON_PERSIST_H
#define PORTCTL_DAEMON_PERSIST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "portctl/config.h"
#include "portctl/util.h"

/* The file CLI changes are persisted in, under sysconf_dir/rules.d/. */
#define PC_CLI_RULES_FILE "90-portctl.rules"

/* Replace path's contents: temp file, fsync, rename, fsync the directory.
 * On error the old file is untouched. Returns 0 or -errno. */
int file_replace(const char *path, const char *data, size_t len, mode_t mode);

/* As the loader: rules files beyond 64 MiB are refused. */
#define RULES_FILE_MAX ((size_t)64 * 1024 * 1024)

/*
 * Make the CLI rules file hold text, but only if it still holds what the
 * daemon's model says it holds (expected; expected_exists false: no file;
 * no file and an empty one count as the same text), so that a concurrent
 * hand edit is never overwritten. When text extends expected, only the
 * tail is appended. Returns 0; -ESTALE when the file holds something else,
 * with its content in *current (malloc'ed, or NULL when there is no file;
 * the caller redoes the change on it); or -errno.
 * Goes through the privileged writer (privsep.c) when the daemon runs as
 * its own user, else calls rules_file_update() itself.
 */
int rules_file_commit(const char *path, const char *expected, size_t expected_len,
		      bool expected_exists, const char *text, size_t len, char **current,
		      size_t *current_len);

/*
 * rules_file_commit's work on the file itself, in this process: append
 * the tail with O_APPEND; or write a temp file and swap it in with
 * RENAME_EXCHANGE, checking the old file just before and just after the
 * swap (bytes appended meanwhile are carried over, a rewrite is swapped
 * back). What it cannot see: a writer that still holds the old file open
 * and writes after its last look, and an editor's rename that lands after
 * its last look (see doc/design.md).
 */
int rules_file_update(const char *path, const char *expected, size_t expected_len,
		      bool expected_exists, const char *text, size_t len, char **current,
		      size_t *current_len);

enum rules_edit {
	RULES_APPEND, /* rule_text at the end */
	RULES_INSERT, /* rule_text before line */
	RULES_DELETE, /* the logical line starting at line */
};

/* The text of a rules file after one edit; everything else (comments,
 * blank lines, the admin's formatting) is kept. out is freed by the caller. */
int rules_text_edit(const char *old, size_t old_len, enum rules_edit how, uint32_t line,
		    const char *rule_text, struct pc_strbuf *out);

/* How many physical lines the logical line starting at line spans. */
uint32_t rules_text_span(const char *text, size_t len, uint32_t line);
/* The line number an appended rule gets. */
uint32_t rules_text_next_line(const char *text, size_t len);

#endif
