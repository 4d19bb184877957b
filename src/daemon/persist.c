/* How portctld writes the CLI rules file rules.d/90-portctl.rules: one
 * edited line at a time, the file replaced atomically. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "log.h"
#include "persist.h"

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

/* Byte offset of the start of 1-based line n in text (len if past the end). */
static size_t line_offset(const char *text, size_t len, uint32_t n)
{
	size_t off = 0;

	for (uint32_t l = 1; l < n && off < len; l++) {
		const char *nl = memchr(text + off, '\n', len - off);

		off = nl ? (size_t)(nl - text) + 1 : len;
	}
	return off;
}

/* End of the logical line that starts at off: continuations ("\" at the
 * end of a physical line) belong to it. */
static size_t logical_line_end(const char *text, size_t len, size_t off)
{
	for (;;) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (!nl)
			return len;
		if (end == off || text[end - 1] != '\\')
			return end + 1;
		off = end + 1;
	}
}

uint32_t rules_text_span(const char *text, size_t len, uint32_t line)
{
	size_t at = line_offset(text, len, line);
	size_t end = logical_line_end(text, len, at);
	uint32_t n = 0;

	for (size_t i = at; i < end; i++)
		n += text[i] == '\n';
	return n > 0 ? n : 1;
}

uint32_t rules_text_next_line(const char *text, size_t len)
{
	uint32_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	/* An unterminated last line gets its newline before the new rule. */
	return n + 1 + (len > 0 && text[len - 1] != '\n');
}

int rules_text_edit(const char *old, size_t old_len, enum rules_edit how, uint32_t line,
		    const char *rule_text, struct pc_strbuf *out)
{
	size_t at = how == RULES_APPEND ? old_len : line_offset(old, old_len, line);
	size_t resume = at;
	int r;

	*out = (struct pc_strbuf){0};
	if (how == RULES_DELETE)
		resume = logical_line_end(old, old_len, at);
	r = pc_strbuf_append(out, old, at);
	if (r >= 0 && at > 0 && old[at - 1] != '\n')
		r = pc_strbuf_append(out, "\n", 1);
	if (r >= 0 && how != RULES_DELETE)
		r = pc_strbuf_printf(out, "%s\n", rule_text);
	if (r >= 0)
		r = pc_strbuf_append(out, old + resume, old_len - resume);
	if (r < 0)
		pc_strbuf_free(out);
	return r;
}
