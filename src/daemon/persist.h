/* The CLI rules file of portctld: atomic file replacement and one-line
 * edits that keep the administrator's comments and formatting. */
#ifndef PORTCTL_DAEMON_PERSIST_H
#define PORTCTL_DAEMON_PERSIST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "portctl/config.h"
#include "portctl/util.h"


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

/* Small files of the state directory (markers, the bans): written whole
 * and atomically. 0 or -errno. */
int state_file_path(const struct pc_paths *paths, const char *name, char *buf, size_t size);
int state_file_write(const struct pc_paths *paths, const char *name, const char *text);
int state_file_remove(const struct pc_paths *paths, const char *name);
bool state_file_exists(const struct pc_paths *paths, const char *name);

/* The bans, kept in the state directory across restarts and upgrades. */
#define BANS_FILE "bans.json"
struct bans;
#define BANS_JOURNAL "bans.journal"
/* Past this size the journal is written into bans.json (about 2,500 records). */
#define BANS_JOURNAL_MAX (256u * 1024)
struct ban;
/* All the bans, written whole (the journal taken away). */
int bans_save(const struct pc_paths *paths, const struct bans *bans);
/* One ban or unban, b, appended to the journal and fsync'd; all: the bans
 * after it, written whole instead when the journal is long. */
int bans_record(const struct pc_paths *paths, const struct ban *b, bool unban,
		const struct bans *all);
/* bans.json, then the journal over it. Malformed entries are logged and
 * left out; no file is no ban. */
int bans_load(const struct pc_paths *paths, struct bans *out);

struct runtime;
#define TEMPORARY_FILE "temporary.json"
/* Save the temporary rules of rt (none: the file is removed). */
int temporary_save(const struct pc_paths *paths, const struct runtime *rt);
/* The saved temporary rules still in force at now. */
int temporary_load(const struct pc_paths *paths, uint64_t now, struct runtime *out);

#endif
