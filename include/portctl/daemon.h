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
	/* The user to serve as after start-up (--user); NULL: PC_DAEMON_USER,
	 * or root with CAP_NET_ADMIN only when that user does not exist. */
	const char *user;
};

/* The system user the packages create for portctld. */
#define PC_DAEMON_USER "portctl"

/*
 * Run the daemon: bind the socket (or take it from systemd), open netlink,
 * fork the privileged writer, become the daemon's user with CAP_NET_ADMIN
 * only, apply the configuration (or keep / restore the
 * last good one), notify systemd, serve until SIGTERM or SIGINT. The rules
 * stay in the kernel when it returns. Returns 0 or -errno (already logged).
 */
int pc_daemon_run(const struct pc_daemon_args *args);

#endif
