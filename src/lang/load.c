/* The loader: reads portctl.conf, the shipped zones and services (or their
 * /etc replacements) and the administrator's rules.d, then validates. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lang.h"

void pc_paths_default(struct pc_paths *p)
{
	*p = (struct pc_paths){
	    .sysconf_dir = PORTCTL_SYSCONFDIR,
	    .data_dir = PORTCTL_DATADIR,
	    .state_dir = PORTCTL_STATEDIR,
	    .socket_path = PORTCTL_RUNDIR "/portctl.sock",
	};
}

struct loader {
	struct pc_config *cfg;
	struct pc_diags *d;
	int io_error; /* the first file that could not be read */
};

enum file_kind { FILE_SETTINGS, FILE_RULES, FILE_SET };

/* The path in the arena: diagnostics keep pointing at it. */
static const char *path_join(struct loader *l, const char *dir, const char *name)
{
	_cleanup_free_ char *p = NULL;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return pc_arena_strdup(l->cfg->arena, p);
}

static const char *kind_name(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	return "not a regular file";
}

/*
 * Whoever can write a file portctl reads, or the directory that holds it,
 * can change the firewall: it must belong to root or to the user we run as
 * (someone checking his own files) and be writable by no group or other.
 * st is of the file itself, after symlinks. Returns false after an error.
 */
static bool owner_check(struct loader *l, const char *path, const struct stat *st)
{
	struct pc_loc loc = {.file = path};
	_cleanup_free_ char *hint = NULL;
	const char *what = S_ISDIR(st->st_mode) ? "directory" : "file";
	uid_t me = geteuid();

	if (st->st_uid != 0 && st->st_uid != me) {
		if (asprintf(&hint, "if it is trusted, run: chown root %s", path) < 0)
			hint = NULL;
		pc_diag_add(l->d, PC_SEV_ERROR, &loc, hint,
			    "%s owned by uid %u, not root%s: that user could change the firewall "
			    "through it; refusing it",
			    what, (unsigned)st->st_uid, me ? " or you" : "");
		return false;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		if (asprintf(&hint, "run: chmod go-w %s", path) < 0)
			hint = NULL;
		pc_diag_add(l->d, PC_SEV_ERROR, &loc, hint,
			    "%s writable by %s (mode %04o): %s could change the firewall "
			    "through it; refusing it",
			    what, st->st_mode & S_IWOTH ? "every user" : "its group",
			    (unsigned)(st->st_mode & 07777),
			    st->st_mode & S_IWOTH ? "anyone" : "its members");
		return false;
	}
	return true;
}

/* A directory that holds files we read; a missing one is for the loader. */
static void dir_check(struct loader *l, const char *dir)
{
	struct stat st;

	if (dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		owner_check(l, dir, &st);
}

/*
 * Open without blocking and check what was opened: only a regular file
 * that no one but root (or we) can write. Returns the fd, -ENOENT when
 * missing, or another -errno after a diagnostic has been added.
 */
static int file_open(struct loader *l, const char *path, off_t *size)
{
	struct pc_loc loc = {.file = path};
	struct stat st;
	int fd = pc_open_read(path, &st);

	if (fd < 0)
		return fd;
	*size = st.st_size;
	if (!S_ISREG(st.st_mode)) {
		size_t n = strlen(path);

		pc_diag_add(l->d, PC_SEV_ERROR, &loc,
			    n > 6 && streq(path + n - 6, ".rules")
				? "remove it, or give it a name that does not end in .rules"
				: "replace it with a regular file",
			    "%s, not a regular file; refusing to read it", kind_name(st.st_mode));
		close(fd);
		return -EINVAL;
	}
	if (!owner_check(l, path, &st)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* Returns 0, -ENOENT when missing and optional, or another -errno after a
 * diagnostic has been added. */
static int file_load(struct loader *l, const char *path, enum file_kind kind, enum pc_origin origin,
		     bool optional)
{
	struct pc_loc loc = {.file = path};
	_cleanup_close_ int fd = -1;
	char *data = NULL;
	size_t len = 0;
	off_t size = 0;
	int r;

	if (!path)
		return -ENOMEM;
	r = fd = file_open(l, path, &size);
	if (r == -ENOENT && optional)
		return r;
	if (r == -EINVAL)
		return r;
	if (r >= 0)
		r = (uintmax_t)size > PC_FILE_MAX ? -EFBIG
						  : pc_read_fd(fd, PC_FILE_MAX, &data, &len);
	if (r == -EFBIG) {
		pc_diag_add(l->d, PC_SEV_ERROR, &loc,
			    kind == FILE_SET ? "split it into several sets"
					     : "split it into several files in rules.d/",
			    "file is larger than 64 MiB; refusing to read it");
		return -EINVAL;
	}
	if (r < 0) {
		pc_error(l->d, &loc, "cannot read: %s", strerror(-r));
		if (!l->io_error)
			l->io_error = r;
		return r;
	}
	if (kind == FILE_SETTINGS)
		return pc_settings_parse(l->cfg, path, data, len, l->d);
	if (kind == FILE_SET) {
		/* Parsed by validation, which finds it among the sources. */
		if (!pc_sources_add(&l->cfg->sources, path, data, len)) {
			free(data);
			return -ENOMEM;
		}
		l->cfg->sources.items[l->cfg->sources.n - 1].kind = PC_SOURCE_SET;
		return 0;
	}
	return pc_parse_file(l->cfg, path, data, len, origin, l->d);
}

/* SYSCONF_DIR/name replaces DATA_DIR/name whole. */
static int shipped_load_as(struct loader *l, const struct pc_paths *paths, const char *name,
			   enum pc_origin origin, bool optional)
{
	int r = file_load(l, path_join(l, paths->sysconf_dir, name), FILE_RULES, origin, true);

	if (r != -ENOENT)
		return r;
	return file_load(l, path_join(l, paths->data_dir, name), FILE_RULES, origin, optional);
}

static int shipped_load(struct loader *l, const struct pc_paths *paths, const char *name)
{
	return shipped_load_as(l, paths, name, PC_ORIGIN_SHIPPED, false);
}

/*
 * defaults.rules comes after every rule of rules.d/ (first match wins, so
 * the admin's "deny ssh" beats the shipped "allow ssh"). It is optional: a
 * data directory without it, or an empty /etc replacement, adds no rules.
 */
static int defaults_load(struct loader *l, const struct pc_paths *paths)
{
	int r = shipped_load_as(l, paths, PC_DEFAULTS_FILE, PC_ORIGIN_DEFAULTS, true);

	return r == -ENOENT ? 0 : r;
}

enum pc_origin pc_shipped_origin(const char *name)
{
	return streq(name, PC_DEFAULTS_FILE) ? PC_ORIGIN_DEFAULTS : PC_ORIGIN_SHIPPED;
}

static bool rules_name_wanted(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 6 && streq(name + n - 6, ".rules");
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* rules.d/ *.rules (or those of a candidate directory given instead) in
 * byte order; a missing rules.d means no rules, a missing candidate is an
 * error: whoever named it expects it to be read. */
static int rules_dir_load(struct loader *l, const struct pc_paths *paths, const char *candidate)
{
	const char *dir = candidate ? pc_arena_strdup(l->cfg->arena, candidate)
				    : path_join(l, paths->sysconf_dir, "rules.d");
	struct pc_loc loc = {.file = dir};
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	struct stat st;
	DIR *dp;

	if (!dir)
		return -ENOMEM;
	dp = opendir(dir);
	if (!dp) {
		int e = errno;

		if (e == ENOENT && !candidate)
			return 0;
		pc_error(l->d, &loc, "cannot open directory: %s", strerror(e));
		if (!l->io_error)
			l->io_error = -e;
		return l->io_error;
	}
	if (fstat(dirfd(dp), &st) == 0)
		owner_check(l, dir, &st);
	while ((de = readdir(dp))) {
		char **slot;

		if (!rules_name_wanted(de->d_name))
			continue;
		slot = PC_ARRAY_PUSH(names, n, cap);
		if (!slot || !(*slot = strdup(de->d_name))) {
			closedir(dp);
			names_free(names, slot ? n - 1 : n);
			return -ENOMEM;
		}
	}
	closedir(dp);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		const char *path = path_join(l, dir, names[i]);

		if (file_load(l, path, FILE_RULES, PC_ORIGIN_ADMIN, false) == -ENOMEM) {
			names_free(names, n);
			return -ENOMEM;
		}
	}
	names_free(names, n);
	return 0;
}

/* The files of "set NAME file PATH", each read once however many sets
 * name it. */
static int set_files_load(struct loader *l)
{
	struct pc_config *cfg = l->cfg;

	for (size_t i = 0; i < cfg->n_sets; i++) {
		const struct pc_addrset *s = cfg->sets[i];
		int r;

		if (!s->file || pc_sources_find(&cfg->sources, s->file))
			continue;
		/* A missing file is reported by validation, at the set. */
		r = file_load(l, s->file, FILE_SET, PC_ORIGIN_ADMIN, true);
		if (r == -ENOMEM)
			return r;
		if (r == -ENOENT && !l->io_error)
			l->io_error = r;
	}
	return 0;
}

/* rules_dir: read rules.d (candidate: this directory instead) and
 * defaults.rules; else only files. */
static int config_load(const struct pc_paths *paths, char *const files[], size_t n_files,
		       bool rules_dir, const char *candidate, struct pc_config **out,
		       struct pc_diags *d)
{
	struct loader l = {.d = d};
	size_t errors = d->n_errors;
	int r;

	*out = l.cfg = pc_config_new();
	if (!l.cfg)
		return -ENOMEM;
	if (paths->sysconf_dir)
		l.cfg->sets_dir = pc_arena_strdup(l.cfg->arena, paths->sysconf_dir);
	dir_check(&l, paths->sysconf_dir);
	dir_check(&l, paths->data_dir);
	r = file_load(&l, path_join(&l, paths->sysconf_dir, "portctl.conf"), FILE_SETTINGS,
		      PC_ORIGIN_ADMIN, true);
	if (r == -ENOMEM || shipped_load(&l, paths, "zones.rules") == -ENOMEM ||
	    shipped_load(&l, paths, "services.rules") == -ENOMEM)
		return -ENOMEM;
	if (rules_dir && (rules_dir_load(&l, paths, candidate) == -ENOMEM ||
			  defaults_load(&l, paths) == -ENOMEM))
		return -ENOMEM;
	for (size_t i = 0; i < n_files; i++)
		if (file_load(&l, pc_arena_strdup(l.cfg->arena, files[i]), FILE_RULES,
			      PC_ORIGIN_ADMIN, false) == -ENOMEM)
			return -ENOMEM;
	if (set_files_load(&l) == -ENOMEM)
		return -ENOMEM;
	if (pc_config_validate(l.cfg, d) == -ENOMEM)
		return -ENOMEM;
	if (l.io_error)
		return l.io_error;
	return d->n_errors > errors ? -EINVAL : 0;
}

int pc_config_load(const struct pc_paths *paths, struct pc_config **out, struct pc_diags *d)
{
	return config_load(paths, NULL, 0, true, NULL, out, d);
}

int pc_config_load_dir(const struct pc_paths *paths, const char *rules_dir,
		       struct pc_config **out, struct pc_diags *d)
{
	return config_load(paths, NULL, 0, true, rules_dir, out, d);
}

int pc_config_load_files(const struct pc_paths *paths, char *const files[], size_t n_files,
			 struct pc_config **out, struct pc_diags *d)
{
	return config_load(paths, files, n_files, false, NULL, out, d);
}
