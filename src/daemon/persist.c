/* How portctld writes the CLI rules file rules.d/90-portctl.rules: one
 * edited line at a time, the file replaced atomically. */
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

int file_replace(const char *path, const char *data, size_t len, mode_t mode)
{
	_cleanup_free_ char *tmp = NULL, *dir = strdup(path);
	_cleanup_close_ int fd = -1, dfd = -1;
	char *slash = dir ? strrchr(dir, '/') : NULL;
	int r = 0;

	if (!slash)
		return -EINVAL;
	*slash = '\0';
	/* A dot name ending in ".tmp": no loader ever reads it as rules. */
	if (asprintf(&tmp, "%s/.%s.XXXXXX.tmp", dir, slash + 1) < 0)
		return -ENOMEM;
	fd = mkstemps(tmp, 4);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len && r == 0;) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (r == 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	/* The rename itself must survive a crash too. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);
	return 0;
}

int rules_file_commit(const char *path, const char *expected, size_t expected_len,
		      bool expected_exists, const char *text, size_t len, char **current,
		      size_t *current_len)
{
	char *data = NULL;
	size_t n = 0;
	int r = pc_read_file(path, 64 * 1024 * 1024, &data, &n);

	*current = NULL;
	*current_len = 0;
	if (r < 0 && r != -ENOENT)
		return r;
	if ((r == -ENOENT) != !expected_exists ||
	    (r >= 0 && (n != expected_len || memcmp(data, expected, n)))) {
		*current = data;
		*current_len = n;
		return -ESTALE;
	}
	free(data);
	return file_replace(path, text, len, 0644);
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

int bans_save(const struct pc_paths *paths, const struct bans *bans)
{
	_cleanup_free_ char *text = NULL;
	json_t *list = json_array(), *doc;

	for (size_t i = 0; list && i < bans->n; i++) {
		const struct ban *b = &bans->items[i];

		if (json_array_append_new(list, json_pack("{s:s,s:s?,s:I}", "address", b->addr,
							  "zone", b->zone[0] ? b->zone : NULL,
							  "expires", (json_int_t)b->expires)) < 0) {
			json_decref(list);
			return -ENOMEM;
		}
	}
	doc = list ? json_pack("{s:i,s:o}", "version", 1, "bans", list) : NULL;
	text = doc ? json_dumps(doc, JSON_INDENT(1)) : NULL;
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	return state_file_write(paths, BANS_FILE, text);
}

int bans_load(const struct pc_paths *paths, struct bans *out)
{
	char path[PATH_MAX];
	json_error_t err;
	json_t *doc, *v;
	size_t i;
	int r = state_file_path(paths, BANS_FILE, path, sizeof(path));

	*out = (struct bans){0};
	if (r < 0)
		return r;
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? 0 : -errno;
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
			      (uint64_t)json_integer_value(json_object_get(v, "expires")), &b) < 0) {
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
	json_decref(doc);
	return 0;
}
