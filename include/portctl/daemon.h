/* portctld's serve mode: apply the configuration, then answer portctl on
 * the Unix socket until SIGTERM. portctld.c parses options and calls it. */
#ifndef PORTCTL_DAEMON_H
#define PORTCTL_DAEMON_H

#include <stdbool.h>

#include "portctl/config.h"

struct pc_daemon_args {
	/* Every path; pc_paths_default() fills what the options leave out. */
	struct pc_paths paths;
	/* -1: take log-level from portctl.conf; else an enum pc_log_level. */
	int log_level;
};

/*
 * Run the daemon: bind the socket (or take it from systemd), open netlink,
 * drop to CAP_NET_ADMIN only, apply the configuration (or keep / restore the
 * last good one), notify systemd, serve until SIGTERM or SIGINT. The rules
 * stay in the kernel when it returns. Returns 0 or -errno (already logged).
 */
int pc_daemon_run(const struct pc_daemon_args *args);

#endif
