/* One daemon at a time (lock.c): a flock on "<socket>.lock", taken before
 * portctld touches the socket or the kernel, holding the owner's pid. */
#ifndef PORTCTL_DAEMON_LOCK_H
#define PORTCTL_DAEMON_LOCK_H

#include <sys/types.h>

/*
 * Take the lock of the daemon serving socket_path, creating the socket's
 * directory and the lock file as needed, and write our pid into it. Returns
 * the lock's fd (the caller keeps it open for the daemon's life; closing it
 * releases the lock), -EBUSY after logging "portctld is already running (pid
 * N)", or -errno.
 */
int daemon_lock_take(const char *socket_path);

/*
 * For one-shot modes that write the table: is a daemon of this network
 * namespace holding the lock of socket_path? Returns 0 (no), -EBUSY with
 * *holder set (0 when unknown), or -errno. Takes nothing.
 */
int daemon_lock_check(const char *socket_path, pid_t *holder);

#endif
