/* Load → compile → one kernel transaction, and the copy of the last
 * configuration that applied cleanly, kept under the state directory. */
#include "config.h"
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portctl/apply.h"
#include "portctl/util.h"

#define STATE_LAST_GOOD "last-good"

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
	r = pc_nl_apply(nl, a->ruleset, previous ? previous->ruleset : NULL, flags, d);
	if (r < 0)
		return r;
	a->stage = PC_APPLY_STATE;
	r = pc_state_save(paths, a->cfg);
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

static int state_write_file(const char *path, const struct pc_source *src)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r;

	if (fd < 0)
		return -errno;
	r = pc_write_all(fd, src->data, src->len);
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
	return r < 0 ? r : state_write_file(path, src);
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
	bool differs; /* the copy lacks it or holds other bytes */
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

/* Marks the files whose copy differs; returns how many do, or -errno. *extra
 * tells whether the copy holds files the configuration no longer has. */
static ssize_t state_compare(const char *dir, struct state_files *files, bool *extra)
{
	size_t n_diff = 0, n_present = 0, n_files = 0;
	int r;

	for (size_t i = 0; i < files->n; i++) {
		struct state_file *f = &files->items[i];
		char path[PATH_MAX];

		if (snprintf(path, sizeof(path), "%s/%s/%s", dir, f->sub, f->rel) >=
		    (int)sizeof(path))
			return -ENAMETOOLONG;
		f->differs = !file_holds(path, f->src->data, f->src->len);
		n_diff += f->differs;
		n_present += !f->differs || access(path, F_OK) == 0;
	}
	r = files_count(dir, 0, &n_files);
	if (r < 0)
		return r;
	*extra = n_files != n_present;
	return (ssize_t)n_diff;
}

static int fsync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

/* One file changed (a CLI rule, the usual case): replace just it, with a
 * rename, which keeps the copy whole at every instant. */
static int state_replace_one(const char *dir, const struct state_file *f)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	char *slash;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s/%s", dir, f->sub, f->rel) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, STATE_LAST_GOOD) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	r = mkdir_parents(path);
	if (r >= 0)
		r = state_write_file(tmp, f->src);
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	slash = strrchr(path, '/');
	*slash = '\0';
	return fsync_dir(path);
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
		r = state_swap_in(tmp, dir);
	if (r < 0) {
		(void)remove_tree(tmp);
		return r;
	}
	/* The swap itself must survive a crash too. */
	return fsync_dir(paths->state_dir);
}

int pc_state_save(const struct pc_paths *paths, const struct pc_config *cfg)
{
	struct state_files files = { 0 };
	char dir[PATH_MAX];
	bool extra = false;
	ssize_t n_diff;
	int r;

	if (!paths->state_dir)
		return -EINVAL;
	if (snprintf(dir, sizeof(dir), "%s/%s", paths->state_dir, STATE_LAST_GOOD) >=
	    (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (mkdir(paths->state_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	r = state_files_collect(paths, cfg, &files);
	/* Writing and syncing costs more than reading: an unchanged copy
	 * (a reload or a restart with the same files) is left alone. */
	n_diff = r < 0 ? r : state_compare(dir, &files, &extra);
	if (n_diff < 0)
		r = (int)n_diff;
	else if (n_diff == 1 && !extra)
		for (size_t i = 0; i < files.n; i++) {
			if (files.items[i].differs)
				r = state_replace_one(dir, &files.items[i]);
		}
	else if (n_diff > 0 || extra)
		r = state_write_all(paths, dir, &files);
	free(files.items);
	return r;
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
	r = state_files_collect(from, cfg, &files);
	if (r >= 0)
		r = state_write_all(paths, dir, &files);
	free(files.items);
	return r;
}
