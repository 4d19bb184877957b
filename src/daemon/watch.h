/* portctl watch: packets logged to the watch nflog group (watch.c), read
 * while at least one watcher is connected, as one JSON object each. */
#ifndef PORTCTL_DAEMON_WATCH_H
#define PORTCTL_DAEMON_WATCH_H

#include <jansson.h>
#include <stdint.h>

/* At most this many packets a second go to watchers; the rest are counted
 * and reported as one "missed" event, so a flood cannot starve the daemon. */
#define WATCH_MAX_PER_SECOND 50

/* A netlink socket bound to nflog group (copying packet headers only).
 * Returns the fd or -errno (-EBUSY: another reader, ulogd, holds the group). */
int watch_nflog_open(uint16_t group);
/* Everything queued on fd, without blocking: fn(event, userdata) per packet,
 * event owned by the callee. Returns 0 or -errno. */
int watch_nflog_read(int fd, void (*fn)(json_t *event, void *userdata), void *userdata);

#endif
