/* The daemon's log: leveled lines on stderr (the journal reads the "<N>"
 * priority prefix when stderr is a journal stream). */
#ifndef PORTCTL_DAEMON_LOG_H
#define PORTCTL_DAEMON_LOG_H

#include "portctl/config.h"
#include "portctl/util.h"

void log_set_max_level(enum pc_log_level level);
enum pc_log_level log_get_max_level(void);

/* Logs when level passes the threshold; returns r, so callers can write
 * "return log_error_errno(r, ...)". A message may use %m for strerror(-r). */
int log_full_errno(enum pc_log_level level, int r, const char *fmt, ...) _printf_(3, 4);

/*
 * Copy in to out (size bytes, NUL included) with every control character
 * (below 0x20, and 0x7f) as a visible escape: \n, \r, \t or \xHH. Text
 * from a client or a file can then neither start a log line of its own (a
 * forged "<3>" priority) nor drive a terminal. Returns the length written.
 */
size_t log_escape(char *out, size_t size, const char *in);

#define log_error(...) log_full_errno(PC_LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(PC_LOG_WARNING, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(PC_LOG_NOTICE, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(PC_LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full_errno(PC_LOG_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(r, ...) log_full_errno(PC_LOG_ERR, (r), __VA_ARGS__)
#define log_warning_errno(r, ...) log_full_errno(PC_LOG_WARNING, (r), __VA_ARGS__)

#endif
