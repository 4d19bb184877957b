/* Drift detection (drift.c): the netlink event socket that tells portctld
 * when someone else committed, and the check-and-repair that follows. */
#ifndef PORTCTL_DAEMON_DRIFT_H
#define PORTCTL_DAEMON_DRIFT_H

#include <sys/types.h>

struct daemon;
struct drift;

/* Subscribe to NFNLGRP_NFTABLES (needs CAP_NET_ADMIN). Returns 0 or -errno. */
int drift_open(struct drift **out);
void drift_free(struct drift *dr);
int drift_fd(const struct drift *dr);

/* The event socket is readable (userdata: struct daemon). */
void drift_event(void *userdata);

/*
 * Compare the kernel's table with what dm applied; on a difference log it
 * and, with drift = repair, apply the ruleset again in full. who is the
 * committing pid for the log. Returns 1 when it differed, 0 when not, or
 * -errno.
 */
int drift_check(struct daemon *dm, pid_t who);

#endif
