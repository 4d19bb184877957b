/* How portctld writes the CLI rules file rules.d/90-portctl.rules: one
 * edited line at a time, appended or replaced atomically, never over a
 * hand edit. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "persist.h"
#include "model.h"

static void fsync_dir_of(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	_cleanup_close_ int dfd = -1;

	if (!slash)
		return;
	*slash = '\0';
	dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd);
}

/* A temp file beside path, opened O_APPEND (so that carried-over bytes and
 * a hand edit written at the same time never overwrite each other). A dot
 * name ending in ".tmp": no loader ever reads it as rules. */
static int temp_beside(const char *path, char **tmp)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	int fd;

	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if (asprintf(tmp, "%s/.%s.XXXXXX.tmp", dir, slash + 1) < 0) {
		*tmp = NULL;
		return -ENOMEM;
	}
	fd = mkostemps(*tmp, 4, O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		free(*tmp);
		*tmp = NULL;
		return -errno;
	}
	return fd;
}

int file_replace(const char *path, const char *data, size_t len, mode_t mode)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = temp_beside(path, &tmp);
	int r;

	if (fd < 0)
		return fd;
	r = pc_write_all(fd, data, len);
	if (r == 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	/* The rename itself must survive a crash too. */
	fsync_dir_of(path);
	return 0;
}

static bool text_is(const char *a, size_t a_len, const char *b, size_t b_len)
{
	return a_len == b_len && (a_len == 0 || !memcmp(a, b, a_len));
}

static bool text_starts_with(const char *a, size_t a_len, const char *b, size_t b_len)
{
	return a_len >= b_len && (b_len == 0 || !memcmp(a, b, b_len));
}

/* Hand the file's current content to the caller: -ESTALE. */
static int stale(char **data, size_t len, char **current, size_t *current_len)
{
	*current = TAKE_PTR(*data);
	*current_len = len;
	return -ESTALE;
}

/* The file at path now: -ENOENT, or its content. Not a regular file
 * (a FIFO, a device): -EINVAL, as the loader refuses it too. */
static int path_read(const char *path, char **data, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	return pc_pread_all(fd, RULES_FILE_MAX, data, len);
}

static bool same_inode(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Whether path still names the open file fd. */
static int path_is_fd(const char *path, int fd)
{
	struct stat a, b;

	if (fstat(fd, &a) < 0)
		return -errno;
	if (lstat(path, &b) < 0)
		return errno == ENOENT ? 0 : -errno;
	return same_inode(&a, &b);
}

/* Append bytes [from, end of file) of src to dst (O_APPEND); *from moves
 * on. Returns how many bytes were carried, or -errno. */
static ssize_t carry_tail(int src, size_t *from, int dst)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0, n;
	int r = pc_pread_all(src, RULES_FILE_MAX, &data, &len);

	if (r < 0)
		return r;
	if (len <= *from)
		return 0;
	n = len - *from;
	r = pc_write_all(dst, data + *from, n);
	if (r < 0)
		return r;
	*from = len;
	return (ssize_t)n;
}

/* The text extends what the file holds: append only the tail, so that a
 * line someone appends by hand meanwhile is kept (O_APPEND: both land
 * whole, one after the other). */
static int rules_append(const char *path, int fd, const char *tail, size_t n, char **current,
			size_t *current_len)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r;

	if (n == 0)
		return 0;
	r = pc_write_all(fd, tail, n);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0)
		return r;
	/* Replaced by rename meanwhile (sed -i, an editor): the tail went to
	 * the old file; the caller redoes the change on the new one. */
	r = path_is_fd(path, fd);
	if (r != 0)
		return r < 0 ? r : 0;
	r = path_read(path, &data, &len);
	if (r == -ENOENT)
		return -ESTALE;
	return r < 0 ? r : stale(&data, len, current, current_len);
}

/* After the exchange: tmp holds the old file (fd). Whatever was appended
 * to it after our last look (a writer that opened it before the swap) is
 * carried over to the new one (nfd). Returns 0, or -ESTALE when the old
 * file was rewritten rather than appended to (then the caller swaps back). */
static int settle_old(int fd, size_t *from, size_t expected_len, const char *expected, int nfd)
{
	/* A writer still holding the old file may write again; a few rounds
	 * catch those that write right after their open, as echo >> does. */
	for (int round = 0; round < 4; round++) {
		_cleanup_free_ char *data = NULL;
		size_t len = 0;
		ssize_t k;
		int r = pc_pread_all(fd, RULES_FILE_MAX, &data, &len);

		if (r < 0)
			return r;
		if (!text_starts_with(data, len, expected, expected_len))
			return -ESTALE;
		k = carry_tail(fd, from, nfd);
		if (k < 0)
			return (int)k;
		if (k == 0)
			break;
	}
	return fsync(nfd) < 0 ? -errno : 0;
}

/* The old file is unlinked, but a writer that opened it just before the
 * swap (echo >>, held up on a loaded machine) may still write into it.
 * A read lease is granted only while nobody has a file open for writing,
 * so wait for that (readers don't matter), carrying over what they wrote;
 * then nobody can write to it any more: it has no name. Our own write
 * descriptor (*fdp) would stand in the way, so it is closed here. */
static void settle_old_writers(int *fdp, size_t *from, size_t expected_len, const char *expected,
			       int nfd, const char *path)
{
	char self[64];
	_cleanup_close_ int rfd = -1;
	useconds_t wait_us = 100;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", *fdp);
	rfd = open(self, O_RDONLY | O_CLOEXEC);
	if (rfd < 0) {
		/* No /proc: one last look, a moment later. */
		(void)usleep(2000);
		(void)settle_old(*fdp, from, expected_len, expected, nfd);
		return;
	}
	close(*fdp);
	*fdp = -1;
	for (;;) {
		bool alone = fcntl(rfd, F_SETLEASE, F_RDLCK) == 0;
		int e = errno;

		(void)settle_old(rfd, from, expected_len, expected, nfd);
		if (alone) {
			(void)fcntl(rfd, F_SETLEASE, F_UNLCK);
			return;
		}
		if ((e != EAGAIN && e != EBUSY) || wait_us > 500000) {
			/* Not ours to lease (another owner), or a program keeps it
			 * open for writing (an editor): what it writes later is lost. */
			if (e == EAGAIN || e == EBUSY)
				log_warning("%s: a program kept the replaced file open for writing; "
					    "what it writes from now on is lost", path);
			return;
		}
		(void)usleep(wait_us);
		wait_us *= 2;
	}
}

/* Replace the file whole, but only if it still holds expected at the
 * instant of the swap: temp file, fsync, check, exchange (the old file
 * stays reachable under the temp name), check again, then drop it. */
static int rules_replace(const char *path, int *fdp, const char *expected, size_t expected_len,
			 const char *text, size_t len, char **current, size_t *current_len)
{
	int fd = *fdp;
	_cleanup_free_ char *tmp = NULL, *data = NULL;
	_cleanup_close_ int nfd = temp_beside(path, &tmp);
	size_t carried = expected_len; /* the old file's bytes the new one has */
	mode_t mode = 0644;
	struct stat st;
	size_t n = 0;
	int r;

	if (nfd < 0)
		return nfd;
	if (fd >= 0 && fstat(fd, &st) == 0)
		mode = st.st_mode & 07777;
	r = pc_write_all(nfd, text, len);
	if (r == 0 && (fchmod(nfd, mode) < 0 || fsync(nfd) < 0))
		r = -errno;
	if (r < 0)
		goto out;
	if (fd < 0) {
		/* There was no file: create it only if there still is none. */
		r = renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0 ? -errno : 0;
		/* Without RENAME_NOREPLACE, link(2) refuses an existing name too. */
		if (r == -EINVAL)
			r = link(tmp, path) < 0 ? -errno : 0;
		if (r == 0) {
			unlink(tmp);
			fsync_dir_of(path);
			return 0;
		}
		if (r == -EEXIST && (r = path_read(path, &data, &n)) >= 0)
			r = stale(&data, n, current, current_len);
		goto out;
	}
	/* The last look before the swap: the same file, the same bytes. */
	r = path_is_fd(path, fd);
	if (r == 1) {
		r = pc_pread_all(fd, RULES_FILE_MAX, &data, &n);
		if (r < 0)
			goto out;
		r = text_is(data, n, expected, expected_len);
		free(TAKE_PTR(data));
	}
	if (r == 0) {
		r = path_read(path, &data, &n);
		r = r == -ENOENT ? -ESTALE : r < 0 ? r : stale(&data, n, current, current_len);
		goto out;
	}
	if (r < 0)
		goto out;
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) < 0) {
		r = -errno;
		/* A file system without exchange: a plain rename, after which
		 * appends to the old file are still carried over, but one
		 * rewritten in place at that instant can no longer be put back. */
		if (r == -EINVAL && rename(tmp, path) == 0)
			r = settle_old(fd, &carried, expected_len, expected, nfd);
		if (r == -ESTALE)
			r = log_warning_errno(0, "%s was rewritten while portctld replaced it; "
					      "that edit is lost", path);
		if (r == 0)
			fsync_dir_of(path);
		goto out;
	}
	/* tmp must hold the old file: had the path been replaced between the
	 * look and the exchange, that newcomer is the admin's, not ours. */
	r = path_is_fd(tmp, fd);
	if (r == 1)
		r = settle_old(fd, &carried, expected_len, expected, nfd);
	else if (r == 0)
		r = -ESTALE;
	if (r == -ESTALE) {
		/* Swap back: the admin's edit stays, with anything appended to
		 * our text in the instant it was in place. */
		size_t from = len;
		_cleanup_close_ int ofd = open(tmp, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);

		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) < 0) {
			r = -errno;
			goto out;
		}
		if (ofd >= 0)
			(void)carry_tail(nfd, &from, ofd);
		if ((r = path_read(path, &data, &n)) >= 0)
			r = stale(&data, n, current, current_len);
		goto out;
	}
	if (r < 0)
		goto out;
	unlink(tmp);
	fsync_dir_of(path);
	settle_old_writers(fdp, &carried, expected_len, expected, nfd, path);
	return 0;
out:
	/* Not ours any more, or never in place. */
	unlink(tmp);
	return r;
}

int rules_file_update(const char *path, const char *expected, size_t expected_len,
		      bool expected_exists, const char *text, size_t len, char **current,
		      size_t *current_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *data = NULL;
	struct stat st;
	size_t n = 0;
	int r;

	*current = NULL;
	*current_len = 0;
	fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		return -errno;
	if (fd >= 0) {
		if (fstat(fd, &st) < 0)
			return -errno;
		if (!S_ISREG(st.st_mode))
			return -EINVAL;
		r = pc_pread_all(fd, RULES_FILE_MAX, &data, &n);
		if (r < 0)
			return r;
	}
	/* No file and an empty one are the same text, as to the loader. */
	(void)expected_exists;
	if (!text_is(data, n, expected, expected_len))
		return stale(&data, n, current, current_len);
	if (fd >= 0 && text_starts_with(text, len, expected, expected_len))
		return rules_append(path, fd, text + expected_len, len - expected_len, current,
				    current_len);
	return rules_replace(path, &fd, expected, expected_len, text, len, current, current_len);
}

int state_file_path(const struct pc_paths *paths, const char *name, char *buf, size_t size)
{
	if (!paths->state_dir)
		return -EINVAL;
	return snprintf(buf, size, "%s/%s", paths->state_dir, name) >= (int)size ? -ENAMETOOLONG
										   : 0;
}

int state_file_write(const struct pc_paths *paths, const char *name, const char *text)
{
	char path[PATH_MAX];
	int r = state_file_path(paths, name, path, sizeof(path));

	if (r >= 0 && mkdir(paths->state_dir, 0755) < 0 && errno != EEXIST)
		r = -errno;
	return r < 0 ? r : file_replace(path, text, strlen(text), 0644);
}

int state_file_remove(const struct pc_paths *paths, const char *name)
{
	char path[PATH_MAX];
	int r = state_file_path(paths, name, path, sizeof(path));

	if (r >= 0 && unlink(path) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

bool state_file_exists(const struct pc_paths *paths, const char *name)
{
	char path[PATH_MAX];

	return state_file_path(paths, name, path, sizeof(path)) >= 0 && access(path, F_OK) == 0;
}

/*
 * The bans are kept as bans.json, written whole, and bans.journal, one
 * line per ban or unban made since, appended and fsync'd: a ban among
 * 10,000 costs one short write, not the whole list. The journal names the
 * generation of bans.json it follows; each whole write takes the next one,
 * so that a journal left behind by a crash between the two (bans.json
 * written, the journal not yet removed) is never replayed over it.
 */
static uint64_t bans_generation;

static json_t *ban_json(const struct ban *b)
{
	return json_pack("{s:s,s:s?,s:I,s:s?}", "address", b->addr, "zone",
			 b->zone[0] ? b->zone : NULL, "expires", (json_int_t)b->expires, "by",
			 b->owner[0] ? b->owner : NULL);
}

/* No bans and no file of them: what the state directory says already
 * (a start without bans writes and syncs nothing). */
static bool bans_none_saved(const struct pc_paths *paths, const struct bans *bans)
{
	char path[PATH_MAX];

	if (bans->n)
		return false;
	if (state_file_path(paths, BANS_FILE, path, sizeof(path)) < 0 || access(path, F_OK) == 0 ||
	    errno != ENOENT)
		return false;
	return state_file_path(paths, BANS_JOURNAL, path, sizeof(path)) >= 0 &&
	       access(path, F_OK) < 0 && errno == ENOENT;
}

int bans_save(const struct pc_paths *paths, const struct bans *bans)
{
	_cleanup_free_ char *text = NULL;
	json_t *list;
	json_t *doc;
	char journal[PATH_MAX];
	int r;

	if (bans_none_saved(paths, bans))
		return 0;
	list = json_array();
	for (size_t i = 0; list && i < bans->n; i++) {
		if (json_array_append_new(list, ban_json(&bans->items[i])) < 0) {
			json_decref(list);
			return -ENOMEM;
		}
	}
	doc = list ? json_pack("{s:i,s:I,s:o}", "version", 1, "generation",
			       (json_int_t)(bans_generation + 1), "bans", list)
		   : NULL;
	text = doc ? json_dumps(doc, JSON_INDENT(1)) : NULL;
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	r = state_file_write(paths, BANS_FILE, text);
	if (r < 0)
		return r;
	bans_generation++;
	/* Now stale (its generation is not bans.json's): removed, or ignored. */
	if (state_file_path(paths, BANS_JOURNAL, journal, sizeof(journal)) >= 0 &&
	    unlink(journal) == 0)
		fsync_dir_of(journal);
	return 0;
}

int bans_record(const struct pc_paths *paths, const struct ban *b, bool unban,
		const struct bans *all)
{
	_cleanup_free_ char *line = NULL;
	_cleanup_close_ int fd = -1;
	char path[PATH_MAX];
	json_t *rec;
	struct stat st;
	size_t len;
	int r = state_file_path(paths, BANS_JOURNAL, path, sizeof(path));

	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	/* Long enough: written whole, which also takes the journal away. */
	if ((size_t)st.st_size >= BANS_JOURNAL_MAX)
		return bans_save(paths, all);
	rec = ban_json(b);
	if (rec && json_object_set_new(rec, "op", json_string(unban ? "unban" : "ban")) < 0)
		json_decref(TAKE_PTR(rec));
	line = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
	json_decref(rec);
	if (!line)
		return -ENOMEM;
	len = strlen(line);
	if (st.st_size == 0) {
		/* A new journal: it follows this generation of bans.json. */
		_cleanup_free_ char *head = NULL;

		if (asprintf(&head, "{\"generation\":%llu}\n%s\n",
			     (unsigned long long)bans_generation, line) < 0)
			return -ENOMEM;
		r = pc_write_all(fd, head, strlen(head));
	} else {
		line[len] = '\n'; /* json_dumps's NUL: the record ends on its own line */
		r = pc_write_all(fd, line, len + 1);
	}
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	if (r < 0) {
		/* No half record for the next one to be glued to. */
		if (ftruncate(fd, st.st_size) < 0)
			log_warning_errno(-errno, "%s: cannot take back a half record: %m", path);
		return r;
	}
	if (st.st_size == 0)
		fsync_dir_of(path);
	return 0;
}

/* Replay bans.journal (f) over *out when it follows the bans.json read. */
static int bans_journal_replay(FILE *f, const char *path, struct bans *out)
{
	_cleanup_free_ char *line = NULL;
	size_t size = 0, lineno = 0;
	ssize_t n;

	while ((n = getline(&line, &size, f)) > 0) {
		json_t *rec = json_loads(line, 0, NULL), *zone = json_object_get(rec, "zone");
		const char *op = json_string_value(json_object_get(rec, "op"));
		struct ban b;
		ssize_t i;

		lineno++;
		if (lineno == 1) {
			json_t *g = json_object_get(rec, "generation");
			bool follows = json_is_integer(g) &&
				       (uint64_t)json_integer_value(g) == bans_generation;

			json_decref(rec);
			if (!follows)
				return 0; /* left by a crash before its removal: in bans.json */
			continue;
		}
		if (!op || ban_parse(json_string_value(json_object_get(rec, "address")),
				     json_is_string(zone) ? json_string_value(zone) : NULL,
				     (uint64_t)json_integer_value(json_object_get(rec, "expires")),
				     &b) < 0 ||
		    ban_owner_set(&b, json_string_value(json_object_get(rec, "by"))) < 0) {
			/* A crash in the middle of a write: never acknowledged. */
			log_error("%s:%zu: malformed record, left out", path, lineno);
			json_decref(rec);
			continue;
		}
		i = bans_index(out, &b);
		if (streq(op, "unban")) {
			if (i >= 0) {
				memmove(&out->items[i], &out->items[i + 1],
					(out->n - (size_t)i - 1) * sizeof(b));
				out->n--;
			}
		} else if (i >= 0) {
			out->items[i].expires = b.expires;
		} else if (bans_insert(out, &b) < 0) {
			json_decref(rec);
			return -ENOMEM;
		}
		json_decref(rec);
	}
	return 0;
}

static int bans_journal_load(const struct pc_paths *paths, struct bans *out);

int bans_load(const struct pc_paths *paths, struct bans *out)
{
	char path[PATH_MAX];
	json_error_t err;
	json_t *doc, *v;
	size_t i;
	int r = state_file_path(paths, BANS_FILE, path, sizeof(path));

	*out = (struct bans){0};
	bans_generation = 0;
	if (r < 0)
		return r;
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? bans_journal_load(paths, out) : -errno;
	doc = json_load_file(path, 0, &err);
	if (!doc) {
		log_error("%s:%d: cannot read the bans: %s", path, err.line, err.text);
		return -EINVAL;
	}
	json_array_foreach(json_object_get(doc, "bans"), i, v)
	{
		json_t *zone = json_object_get(v, "zone");
		struct ban b, *slot;

		if (ban_parse(json_string_value(json_object_get(v, "address")),
			      json_is_string(zone) ? json_string_value(zone) : NULL,
			      (uint64_t)json_integer_value(json_object_get(v, "expires")), &b) < 0 ||
		    ban_owner_set(&b, json_string_value(json_object_get(v, "by"))) < 0) {
			log_error("%s: ban %zu is malformed, left out", path, i + 1);
			continue;
		}
		slot = PC_ARRAY_PUSH(out->items, out->n, out->cap);
		if (!slot) {
			json_decref(doc);
			return -ENOMEM;
		}
		*slot = b;
	}
	bans_generation = (uint64_t)json_integer_value(json_object_get(doc, "generation"));
	json_decref(doc);
	return bans_journal_load(paths, out);
}

static int bans_journal_load(const struct pc_paths *paths, struct bans *out)
{
	char path[PATH_MAX];
	int r = state_file_path(paths, BANS_JOURNAL, path, sizeof(path));
	FILE *f;

	if (r < 0)
		return r;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	r = bans_journal_replay(f, path, out);
	fclose(f);
	return r;
}

/* Temporary rules (temporary.h): the runtime rules with an end, saved so
 * that they outlive a reload and a restart with the time they have left. */
int temporary_save(const struct pc_paths *paths, const struct runtime *rt)
{
	_cleanup_free_ char *text = NULL;
	json_t *list = json_array(), *doc;
	size_t n = 0;

	for (size_t i = 0; list && rt->expires && i < rt->n; i++) {
		if (!rt->expires[i])
			continue;
		n++;
		if (json_array_append_new(list, json_pack("{s:s,s:I}", "rule", rt->items[i],
							  "expires",
							  (json_int_t)rt->expires[i])) < 0) {
			json_decref(list);
			return -ENOMEM;
		}
	}
	if (list && n == 0) {
		json_decref(list);
		return state_file_exists(paths, TEMPORARY_FILE)
			       ? state_file_remove(paths, TEMPORARY_FILE)
			       : 0;
	}
	doc = list ? json_pack("{s:i,s:o}", "version", 1, "rules", list) : NULL;
	text = doc ? json_dumps(doc, JSON_INDENT(1)) : NULL;
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	return state_file_write(paths, TEMPORARY_FILE, text);
}

int temporary_load(const struct pc_paths *paths, uint64_t now, struct runtime *out)
{
	char path[PATH_MAX];
	json_error_t err;
	json_t *doc, *v;
	size_t i;
	int r = state_file_path(paths, TEMPORARY_FILE, path, sizeof(path));

	*out = (struct runtime){0};
	if (r < 0)
		return r;
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? 0 : -errno;
	doc = json_load_file(path, 0, &err);
	if (!doc) {
		log_error("%s:%d: cannot read the temporary rules: %s", path, err.line, err.text);
		return -EINVAL;
	}
	json_array_foreach(json_object_get(doc, "rules"), i, v)
	{
		const char *rule = json_string_value(json_object_get(v, "rule"));
		json_int_t e = json_integer_value(json_object_get(v, "expires"));

		if (!rule || e <= 0) {
			log_error("%s: temporary rule %zu is malformed, left out", path, i + 1);
			continue;
		}
		if ((uint64_t)e <= now) {
			log_info("temporary rule '%s' expired while portctld was stopped", rule);
			continue;
		}
		if (runtime_push(out, rule, (uint64_t)e) < 0) {
			json_decref(doc);
			runtime_clear(out);
			return -ENOMEM;
		}
	}
	json_decref(doc);
	return 0;
}
