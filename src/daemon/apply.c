/* Load → compile → one kernel transaction, and the copy of the last
 * configuration that applied cleanly, kept under the state directory. */
#include "config.h"
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "portctl/apply.h"
#include "portctl/util.h"

#define STATE_LAST_GOOD "last-good"
/* How often --apply-once makes its transaction when others commit
 * meanwhile (as the daemon's KERNEL_RESTARTS). */
#define APPLY_TRIES 16

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

void pc_applied_free(struct pc_applied *a)
{
	if (!a)
		return;
	pc_ruleset_free(a->ruleset);
	pc_plan_free(a->plan);
	pc_config_free(a->cfg);
	free(a);
}

int pc_apply_prepare(const struct pc_paths *paths, struct pc_applied **out, struct pc_diags *d)
{
	struct pc_applied *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->stage = PC_APPLY_CONFIG;
	*out = a;
	r = pc_config_load(paths, &a->cfg, d);
	if (r >= 0 && pc_diags_has_errors(d))
		r = -EINVAL;
	if (r >= 0)
		r = pc_plan_build(a->cfg, &a->plan, d);
	if (r >= 0)
		r = pc_ruleset_lower(a->plan, &a->ruleset, d);
	if (r >= 0 && pc_diags_has_errors(d))
		r = -EINVAL;
	if (r >= 0)
		a->stage = PC_APPLY_OK;
	return r;
}

int pc_apply_config(const struct pc_paths *paths, struct pc_nl *nl,
		    const struct pc_applied *previous, struct pc_applied **out, struct pc_diags *d)
{
	struct pc_applied *a;
	unsigned flags = 0;
	int r = pc_apply_prepare(paths, out, d);

	if (r < 0)
		return r;
	a = *out;
	if (a->cfg->settings.table_owner)
		flags |= PC_NL_OWNER;
	a->stage = PC_APPLY_KERNEL;
	/* Another program's commit in between (ERESTART), or in the middle of
	 * a read of the table (EINTR): once more, on what the kernel holds
	 * then (a container runtime starting at boot beside us); past
	 * APPLY_TRIES (one committing without pause), the table whole, which
	 * no commit of others refuses, its counters started again. */
	for (int i = 0;; i++) {
		bool last = i + 1 == APPLY_TRIES;
		struct pc_diags t;

		pc_diags_init(&t);
		r = pc_nl_apply(nl, a->ruleset, previous ? previous->ruleset : NULL,
				last ? flags | PC_NL_FULL : flags, &t);
		if (!pc_nl_raced(r) || last) {
			pc_diags_take(d, &t);
			break;
		}
		pc_diags_free(&t);
	}
	if (r < 0)
		return r;
	a->stage = PC_APPLY_STATE;
	r = pc_state_save(paths, a->cfg);
	/* One shot: nothing comes later to write it. */
	if (r >= 0)
		r = pc_state_flush();
	if (r < 0) {
		pc_warning(d, NULL, "applied, but saving the configuration under %s failed: %s",
			   paths->state_dir, strerror(-r));
		return r;
	}
	a->stage = PC_APPLY_OK;
	return 0;
}

/* Where a source file goes in the copy: "etc/REL" or "share/REL" for a
 * file under the configuration or data directory; NULL for anything else
 * (a command line), which is not a file to keep. */
static const char *state_subdir(const struct pc_paths *paths, const char *name, const char **rel)
{
	const struct {
		const char *dir, *sub;
	} roots[] = { { paths->sysconf_dir, "etc" }, { paths->data_dir, "share" } };

	for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
		size_t n = roots[i].dir ? strlen(roots[i].dir) : 0;

		if (!n || strncmp(name, roots[i].dir, n) || name[n] != '/')
			continue;
		*rel = name + n + 1;
		if (strstr(*rel, "..") || !**rel)
			return NULL;
		return roots[i].sub;
	}
	return NULL;
}

static int mkdir_parents(char *path)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			int r = -errno;

			*p = '/';
			return r;
		}
		*p = '/';
	}
	return 0;
}

/* len bytes of data as the whole file at path, fsync'd. */
static int file_write_synced(const char *path, const char *data, size_t len)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r;

	if (fd < 0)
		return -errno;
	r = pc_write_all(fd, data, len);
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	return r;
}

static int state_write_source(const char *tmp, const char *sub, const char *rel,
			      const struct pc_source *src)
{
	char path[PATH_MAX];
	int r;

	if (snprintf(path, sizeof(path), "%s/%s/%s", tmp, sub, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	r = mkdir_parents(path);
	return r < 0 ? r : file_write_synced(path, src->data, src->len);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static int remove_tree(const char *path)
{
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Put the finished copy in place: swap it with the old one in one step. */
static int state_swap_in(const char *tmp, const char *dir)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) == 0)
		return remove_tree(tmp);
	if (errno != ENOENT)
		return -errno;
	return rename(tmp, dir) < 0 ? -errno : 0;
}

/* The files of cfg that belong in the copy, in source order. */
struct state_file {
	const char *sub, *rel;
	const struct pc_source *src;
};

struct state_files {
	struct state_file *items;
	size_t n, cap;
};

static int state_files_collect(const struct pc_paths *paths, const struct pc_config *cfg,
			       struct state_files *out)
{
	for (size_t i = 0; i < cfg->sources.n; i++) {
		const struct pc_source *src = &cfg->sources.items[i];
		const char *rel = NULL;
		const char *sub = state_subdir(paths, src->name, &rel);
		struct state_file *f;

		if (!sub)
			continue;
		f = PC_ARRAY_PUSH(out->items, out->n, out->cap);
		if (!f)
			return -ENOMEM;
		*f = (struct state_file){ .sub = sub, .rel = rel, .src = src };
	}
	return 0;
}

/* Whether path holds exactly len bytes equal to data. */
static bool file_holds(const char *path, const char *data, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[16384];
	struct stat st;
	size_t off = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size != len)
		return false;
	while (off < len) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (size_t)n > len - off || memcmp(buf, data + off, (size_t)n))
			return false;
		off += (size_t)n;
	}
	return true;
}

/* Regular files in the copy, so that a file gone from the configuration is
 * noticed; nftw's callback has no context pointer, hence the walk by hand. */
static int files_count(const char *dir, size_t depth, size_t *n)
{
	_cleanup_(closedirp) DIR *dp = depth < 8 ? opendir(dir) : NULL;
	struct dirent *de;

	if (!dp)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dp))) {
		char path[PATH_MAX];
		int r;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		if (de->d_type == DT_DIR) {
			r = files_count(path, depth + 1, n);
			if (r < 0)
				return r;
		} else {
			(*n)++;
		}
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

/*
 * What the copy holds, or will hold once the pending write is done: one
 * entry per file, its length and a hash of its text when one was taken
 * (the text itself only until it is written: memory stays O(files), not a
 * second copy of every text). Each change is compared with it in memory and only the files that
 * differ are written, so that a change writes what it changes whatever the
 * configuration's size. The write itself is left for a moment
 * (STATE_SAVE_DELAY_MS): the CLI rules file already holds the change
 * durably, the copy is only the fallback for files that no longer load,
 * and a burst of changes writes it once. A crash before the write leaves
 * the previous copy, whole: an older good configuration, never a mix.
 */
#define STATE_SAVE_DELAY_MS 200

struct copy_entry {
	char *key; /* "etc/REL" or "share/REL" */
	uint64_t hash; /* of its text, when hashed */
	bool hashed;
	size_t len;
	char *data; /* to be written; NULL once it is */
	uint64_t version; /* of the source last compared: the same text */
};

static struct {
	char *state_dir; /* NULL: not known, compare with the disk */
	struct copy_entry *items;
	size_t n, cap;
	bool rebuild; /* a file to drop: the copy is made anew and swapped in */
	uint64_t due;
} copy = { .due = UINT64_MAX };

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A text's fingerprint, 8 bytes a step (~35 us for 10,000 rules): equal
 * texts have equal ones; different ones collide with odds of 2^-64, and
 * only someone who may write the configuration chooses them. */
static uint64_t text_hash(const char *data, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15u ^ len;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, data + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	for (; i < len; i++)
		h = (h ^ (unsigned char)data[i]) * 0x100000001b3u;
	h ^= h >> 29;
	return h * 0xc4ceb9fe1a85ec53u;
}

static void copy_entry_free(struct copy_entry *e)
{
	free(e->key);
	free(e->data);
}

/* Forget what the copy holds (and any write not yet made). */
static void copy_forget(void)
{
	for (size_t i = 0; i < copy.n; i++)
		copy_entry_free(&copy.items[i]);
	free(copy.items);
	free(copy.state_dir);
	copy = (typeof(copy)){ .due = UINT64_MAX };
}

/* src's text is to be written as e. */
static int copy_set(struct copy_entry *e, const struct pc_source *src)
{
	char *data = malloc(src->len ? src->len : 1);

	if (!data)
		return -ENOMEM;
	memcpy(data, src->data, src->len);
	free(e->data);
	e->data = data;
	e->len = src->len;
	e->hashed = false;
	return 0;
}

/* Whether e holds src's text (of e's length): the text still to be
 * written, else its hash, else (written by a change since, not hashed:
 * that would cost each change a pass over its file) the file itself. */
static bool copy_holds(struct copy_entry *e, const struct pc_source *src)
{
	char path[PATH_MAX];

	if (e->data)
		return !memcmp(e->data, src->data, src->len);
	if (e->hashed)
		return e->hash == text_hash(src->data, src->len);
	if (snprintf(path, sizeof(path), "%s/%s/%s", copy.state_dir, STATE_LAST_GOOD, e->key) >=
		    (int)sizeof(path) ||
	    !file_holds(path, src->data, src->len))
		return false;
	e->hash = text_hash(src->data, src->len);
	e->hashed = true;
	return true;
}

static int key_of(const struct state_file *f, char **key)
{
	return asprintf(key, "%s/%s", f->sub, f->rel) < 0 ? (*key = NULL, -ENOMEM) : 0;
}

/* New copies a crash left half made (".last-good.PID" of a process gone):
 * never read, but each may hold a whole configuration. */
static void copy_leftovers_remove(const char *state_dir)
{
	_cleanup_(closedirp) DIR *dp = opendir(state_dir);
	size_t n = strlen("." STATE_LAST_GOOD ".");
	struct dirent *de;

	while (dp && (de = readdir(dp))) {
		char path[PATH_MAX], *end;
		long pid;

		if (strncmp(de->d_name, "." STATE_LAST_GOOD ".", n))
			continue;
		errno = 0;
		pid = strtol(de->d_name + n, &end, 10);
		if (errno || *end || pid <= 0)
			continue;
		/* Another process's, still running: its own to finish. */
		if (pid != getpid() && !(kill((pid_t)pid, 0) < 0 && errno == ESRCH))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", state_dir, de->d_name) < (int)sizeof(path))
			(void)remove_tree(path);
	}
}

/* Not known yet (a start): the copy on disk is read once; files that
 * differ are marked, and any it holds beyond cfg's make it be rebuilt. */
static int copy_learn(const char *state_dir, const char *dir, const struct state_files *files)
{
	size_t n_present = 0, n_files = 0;
	int r;

	copy_leftovers_remove(state_dir);
	copy.state_dir = strdup(state_dir);
	if (!copy.state_dir)
		return -ENOMEM;
	for (size_t i = 0; i < files->n; i++) {
		const struct state_file *f = &files->items[i];
		struct copy_entry *e = PC_ARRAY_PUSH(copy.items, copy.n, copy.cap);
		char path[PATH_MAX];

		if (!e)
			return -ENOMEM;
		*e = (struct copy_entry){ .len = f->src->len,
					  .hash = text_hash(f->src->data, f->src->len),
					  .hashed = true,
					  .version = f->src->version };
		r = key_of(f, &e->key);
		if (r < 0)
			return r;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->key) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		if (file_holds(path, f->src->data, f->src->len)) {
			n_present++;
			continue;
		}
		n_present += access(path, F_OK) == 0;
		r = copy_set(e, f->src);
		if (r < 0)
			return r;
		e->hashed = true;
	}
	r = files_count(dir, 0, &n_files);
	if (r < 0)
		return r;
	copy.rebuild = n_files != n_present;
	return 0;
}

/* Known: cfg against the copy in memory; what differs is marked, a file
 * gone from the configuration is dropped (and the copy rebuilt). */
static int copy_compare(const struct state_files *files)
{
	size_t old_n = copy.n, at = 0, j = 0;
	_cleanup_free_ bool *seen = calloc(old_n + 1, sizeof(*seen));

	if (!seen)
		return -ENOMEM;
	for (size_t i = 0; i < files->n; i++) {
		const struct state_file *f = &files->items[i];
		_cleanup_free_ char *key = NULL;
		struct copy_entry *e;
		ssize_t k;
		int r = key_of(f, &key);

		if (r < 0)
			return r;
		/* Usually in the same order as last time: look where it was. */
		k = -1;
		for (size_t n = 0; k < 0 && n < old_n; n++)
			if (streq(copy.items[(at + n) % old_n].key, key))
				k = (ssize_t)((at + n) % old_n);
		if (k >= 0) {
			e = &copy.items[k];
			seen[k] = true;
			at = (size_t)k + 1;
		} else {
			e = PC_ARRAY_PUSH(copy.items, copy.n, copy.cap);
			if (!e)
				return -ENOMEM;
			*e = (struct copy_entry){ .key = TAKE_PTR(key) };
		}
		/* The text compared last time: not read again (O(change), not
		 * O(configuration), after a change in place). */
		if (k >= 0 && e->version == f->src->version && e->len == f->src->len)
			continue;
		if (k < 0 || e->len != f->src->len || !copy_holds(e, f->src)) {
			r = copy_set(e, f->src);
			if (r < 0)
				return r;
		}
		e->version = f->src->version;
	}
	for (size_t i = 0; i < copy.n; i++) {
		if (i < old_n && !seen[i]) {
			copy_entry_free(&copy.items[i]);
			copy.rebuild = true;
			continue;
		}
		copy.items[j++] = copy.items[i];
	}
	copy.n = j;
	return 0;
}

static size_t copy_n_dirty(void)
{
	size_t n = 0;

	for (size_t i = 0; i < copy.n; i++)
		n += copy.items[i].data != NULL;
	return n;
}

/* One file changed (a CLI rule, the usual case): replace just it, with a
 * rename, which keeps the copy whole at every instant. */
static int copy_replace_one(const char *dir, const struct copy_entry *e)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", dir, e->key) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, STATE_LAST_GOOD) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	r = mkdir_parents(path);
	if (r >= 0)
		r = file_write_synced(tmp, e->data, e->len);
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	*strrchr(path, '/') = '\0';
	return fsync_dir(path);
}

/* The directories of a new copy, made durable before it is swapped in. */
static int fsync_tree_dirs(const char *dir, size_t depth)
{
	_cleanup_(closedirp) DIR *dp = depth < 8 ? opendir(dir) : NULL;
	struct dirent *de;
	int r;

	if (!dp)
		return -errno;
	while ((de = readdir(dp))) {
		char path[PATH_MAX];

		if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		r = fsync_tree_dirs(path, depth + 1);
		if (r < 0)
			return r;
	}
	return fsync(dirfd(dp)) < 0 ? -errno : 0;
}

/* A new copy beside the old one, swapped in whole: the files that did not
 * change are hard links to the old copy's (never written in place, only
 * replaced), so this too costs what changed; the others are written. */
static int copy_rebuild(const char *dir)
{
	char tmp[PATH_MAX];
	int r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s/.%s.%ld", copy.state_dir, STATE_LAST_GOOD,
		     (long)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	(void)remove_tree(tmp);
	if (mkdir(tmp, 0755) < 0)
		return -errno;
	for (size_t i = 0; r >= 0 && i < copy.n; i++) {
		const struct copy_entry *e = &copy.items[i];
		char path[PATH_MAX], old[PATH_MAX];

		if (snprintf(path, sizeof(path), "%s/%s", tmp, e->key) >= (int)sizeof(path) ||
		    snprintf(old, sizeof(old), "%s/%s", dir, e->key) >= (int)sizeof(old)) {
			r = -ENAMETOOLONG;
			break;
		}
		r = mkdir_parents(path);
		if (r < 0)
			break;
		if (e->data)
			r = file_write_synced(path, e->data, e->len);
		else if (link(old, path) < 0)
			r = -errno; /* gone from the old copy: the next save reads the disk */
	}
	if (r >= 0)
		r = fsync_tree_dirs(tmp, 0);
	if (r >= 0)
		r = state_swap_in(tmp, dir);
	if (r < 0) {
		(void)remove_tree(tmp);
		return r;
	}
	/* The swap itself must survive a crash too. */
	return fsync_dir(copy.state_dir);
}

/* Write the whole copy beside the old one and swap it in. */
static int state_write_all(const struct pc_paths *paths, const char *dir,
			   const struct state_files *files)
{
	char tmp[PATH_MAX];
	int r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s/.%s.%ld", paths->state_dir, STATE_LAST_GOOD,
		     (long)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	(void)remove_tree(tmp);
	if (mkdir(tmp, 0755) < 0)
		return -errno;
	for (size_t i = 0; r >= 0 && i < files->n; i++)
		r = state_write_source(tmp, files->items[i].sub, files->items[i].rel,
				       files->items[i].src);
	if (r >= 0)
		r = fsync_tree_dirs(tmp, 0);
	if (r >= 0)
		r = state_swap_in(tmp, dir);
	if (r < 0) {
		(void)remove_tree(tmp);
		return r;
	}
	/* The swap itself must survive a crash too. */
	return fsync_dir(paths->state_dir);
}

uint64_t pc_state_save_due(void)
{
	return copy.due;
}

int pc_state_flush(void)
{
	char dir[PATH_MAX];
	size_t n_dirty;
	int r = 0;

	if (copy.due == UINT64_MAX)
		return 0;
	copy.due = UINT64_MAX;
	if (snprintf(dir, sizeof(dir), "%s/%s", copy.state_dir, STATE_LAST_GOOD) >=
	    (int)sizeof(dir))
		r = -ENAMETOOLONG;
	n_dirty = copy_n_dirty();
	if (r >= 0 && mkdir(copy.state_dir, 0755) < 0 && errno != EEXIST)
		r = -errno;
	if (r >= 0 && n_dirty == 1 && !copy.rebuild) {
		for (size_t i = 0; i < copy.n; i++)
			if (copy.items[i].data)
				r = copy_replace_one(dir, &copy.items[i]);
	} else if (r >= 0) {
		r = copy_rebuild(dir);
	}
	if (r < 0) {
		/* The disk is not what memory says: read it again next time. */
		copy_forget();
		return r;
	}
	for (size_t i = 0; i < copy.n; i++)
		free(TAKE_PTR(copy.items[i].data));
	copy.rebuild = false;
	return 0;
}

int pc_state_save(const struct pc_paths *paths, const struct pc_config *cfg)
{
	struct state_files files = { 0 };
	char dir[PATH_MAX];
	int r;

	if (!paths->state_dir)
		return -EINVAL;
	if (snprintf(dir, sizeof(dir), "%s/%s", paths->state_dir, STATE_LAST_GOOD) >=
	    (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (copy.state_dir && !streq(copy.state_dir, paths->state_dir)) {
		/* Another state directory (tests): this one's write first. */
		(void)pc_state_flush();
		copy_forget();
	}
	r = state_files_collect(paths, cfg, &files);
	if (r >= 0)
		r = copy.state_dir ? copy_compare(&files) : copy_learn(paths->state_dir, dir, &files);
	free(files.items);
	if (r < 0) {
		copy_forget();
		return r;
	}
	/* Writing and syncing costs more than comparing: an unchanged copy
	 * (a reload or a restart with the same files) is left alone. */
	if ((copy_n_dirty() > 0 || copy.rebuild) && copy.due == UINT64_MAX)
		copy.due = monotonic_ms() + STATE_SAVE_DELAY_MS;
	return 0;
}

int pc_state_paths(const struct pc_paths *paths, struct pc_paths *out, char *buf, size_t size)
{
	return pc_state_paths_named(paths, STATE_LAST_GOOD, out, buf, size);
}

int pc_state_paths_named(const struct pc_paths *paths, const char *name, struct pc_paths *out,
			 char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s/etc", paths->state_dir, name);
	int m;

	/* Read as it is now: the write left for later, first. */
	if (streq(name, STATE_LAST_GOOD))
		(void)pc_state_flush();
	if (n < 0 || (size_t)n + 1 >= size)
		return -ENAMETOOLONG;
	m = snprintf(buf + n + 1, size - (size_t)n - 1, "%s/%s/share", paths->state_dir, name);
	if (m < 0 || (size_t)(n + 1 + m) >= size)
		return -ENAMETOOLONG;
	*out = *paths;
	out->sysconf_dir = buf;
	out->data_dir = buf + n + 1;
	return 0;
}

int pc_state_remove_tree(const char *path)
{
	char dir[PATH_MAX];

	if (copy.state_dir &&
	    snprintf(dir, sizeof(dir), "%s/%s", copy.state_dir, STATE_LAST_GOOD) < (int)sizeof(dir) &&
	    streq(dir, path))
		copy_forget();
	return remove_tree(path);
}

/* Another copy than last-good, or last-good from another configuration
 * directory (a rollback): always written whole, then swapped in. */
int pc_state_save_named(const struct pc_paths *paths, const struct pc_paths *from,
			const char *name, const struct pc_config *cfg)
{
	struct state_files files = { 0 };
	char dir[PATH_MAX];
	int r;

	if (!paths->state_dir)
		return -EINVAL;
	if (snprintf(dir, sizeof(dir), "%s/%s", paths->state_dir, name) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (mkdir(paths->state_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* Written here whole: what pc_state_save kept in mind is not it. */
	if (streq(name, STATE_LAST_GOOD))
		copy_forget();
	r = state_files_collect(from, cfg, &files);
	if (r >= 0)
		r = state_write_all(paths, dir, &files);
	free(files.items);
	return r;
}
