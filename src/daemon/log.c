/* Leveled logging to stderr for portctld, systemd style: log_error_errno()
 * logs and hands back the error so one line both reports and propagates. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

/* The one piece of process-wide mutable state: the threshold is set once
 * from portctl.conf (and on reload), and every module logs through it,
 * as syslog's own mask works. */
static enum pc_log_level log_max_level = PC_LOG_INFO;

static const char *const level_names[] = {
	[PC_LOG_ERR] = "error",	  [PC_LOG_WARNING] = "warning", [PC_LOG_NOTICE] = "notice",
	[PC_LOG_INFO] = "info",	  [PC_LOG_DEBUG] = "debug",
};

/* syslog priorities of our levels, for the journal's "<N>" prefix. */
static const int level_prio[] = {
	[PC_LOG_ERR] = 3, [PC_LOG_WARNING] = 4, [PC_LOG_NOTICE] = 5,
	[PC_LOG_INFO] = 6, [PC_LOG_DEBUG] = 7,
};

void log_set_max_level(enum pc_log_level level)
{
	log_max_level = level;
}

enum pc_log_level log_get_max_level(void)
{
	return log_max_level;
}

size_t log_escape(char *out, size_t size, const char *in)
{
	size_t o = 0;

	if (size == 0)
		return 0;
	/* Room for the longest escape ("\x1b") and the NUL. */
	for (; *in && o + 5 <= size; in++) {
		unsigned char c = *in;

		if (c >= 0x20 && c != 0x7f) {
			out[o++] = c;
			continue;
		}
		out[o++] = '\\';
		if (c == '\n')
			out[o++] = 'n';
		else if (c == '\r')
			out[o++] = 'r';
		else if (c == '\t')
			out[o++] = 't';
		else
			o += snprintf(out + o, size - o, "x%02x", c);
	}
	out[o] = '\0';
	return o;
}

int log_full_errno(enum pc_log_level level, int r, const char *fmt, ...)
{
	char raw[2048], line[4 * sizeof(raw)];
	va_list ap;

	if (level > log_max_level)
		return r;
	/* %m in fmt means the error passed in, not whatever errno holds now. */
	errno = r < 0 ? -r : r;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	log_escape(line, sizeof(line), raw);
	if (getenv("JOURNAL_STREAM"))
		fprintf(stderr, "<%d>%s\n", level_prio[level], line);
	else
		fprintf(stderr, "portctld[%d]: %s: %s\n", (int)getpid(), level_names[level], line);
	return r;
}
