/* portctld's privilege separation: a small process forked as root before
 * the daemon drops to its own user, which writes 90-portctl.rules (in a
 * root-owned rules.d) for it and does nothing else. */
#ifndef PORTCTL_DAEMON_PRIVSEP_H
#define PORTCTL_DAEMON_PRIVSEP_H

#include <stdbool.h>

/*
 * Fork the writer for path, the one file it will ever write. It drops
 * every capability (keeping uid 0), closes every other descriptor and
 * serves rules_file_commit() requests over a SOCK_SEQPACKET socketpair
 * until the daemon's end closes. Returns 0 or -errno.
 */
int privsep_start(const char *path);
/* Close the channel (the writer exits) and reap the writer. */
void privsep_stop(void);
/* Whether rules_file_commit() goes through the writer. */
bool privsep_running(void);
/* In a forked child: fd moved to 3, every descriptor above it closed.
 * Returns the new fd or -errno. */
int fds_close_except(int fd);

#endif
