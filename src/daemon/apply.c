/* Load → compile → one kernel transaction, and the copy of the last
 * configuration that applied cleanly, kept under the state directory. */
#include "config.h"
#include <errno.h>
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

void pc_applied_free(struct pc_applied *a)
{
	if (!a)
		return;
	pc_ruleset_free(a->ruleset);
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
		r = pc_compile(a->cfg, &a->ruleset, d);
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

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
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

static int state_write_source(const char *tmp, const char *sub, const char *rel,
			      const struct pc_source *src)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s/%s", tmp, sub, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	r = mkdir_parents(path);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	r = write_all(fd, src->data, src->len);
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	return r;
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

int pc_state_save(const struct pc_paths *paths, const struct pc_config *cfg)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int r = 0;

	if (!paths->state_dir)
		return -EINVAL;
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.%ld", paths->state_dir, STATE_LAST_GOOD,
		     (long)getpid()) >= (int)sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s/%s", paths->state_dir, STATE_LAST_GOOD) >=
		    (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (mkdir(paths->state_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	(void)remove_tree(tmp);
	if (mkdir(tmp, 0755) < 0)
		return -errno;
	for (size_t i = 0; r >= 0 && i < cfg->sources.n; i++) {
		const struct pc_source *src = &cfg->sources.items[i];
		const char *rel = NULL;
		const char *sub = state_subdir(paths, src->name, &rel);

		if (sub)
			r = state_write_source(tmp, sub, rel, src);
	}
	if (r >= 0)
		r = state_swap_in(tmp, dir);
	if (r < 0)
		(void)remove_tree(tmp);
	return r;
}

int pc_state_paths(const struct pc_paths *paths, struct pc_paths *out, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s/etc", paths->state_dir, STATE_LAST_GOOD);
	int m;

	if (n < 0 || (size_t)n + 1 >= size)
		return -ENAMETOOLONG;
	m = snprintf(buf + n + 1, size - (size_t)n - 1, "%s/%s/share", paths->state_dir,
		     STATE_LAST_GOOD);
	if (m < 0 || (size_t)(n + 1 + m) >= size)
		return -ENAMETOOLONG;
	*out = *paths;
	out->sysconf_dir = buf;
	out->data_dir = buf + n + 1;
	return 0;
}
