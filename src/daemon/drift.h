/* Drift detection (drift.c): the nftables events that tell portctld when
 * another program changed its table, and the check-and-repair that follows. */
#ifndef PORTCTL_DAEMON_DRIFT_H
#define PORTCTL_DAEMON_DRIFT_H

#include <stdbool.h>
#include <stdint.h>

struct daemon;
struct drift;

/* Subscribe to nftables events (needs CAP_NET_ADMIN). Returns 0 or -errno. */
int drift_open(struct drift **out);
void drift_free(struct drift *dr);
int drift_fd(const struct drift *dr);

/*
 * The event socket is readable (userdata: struct daemon). When a commit of
 * another program touched table inet portctl, or events were lost, compare
 * the kernel's table with what was applied; log a difference and, with
 * drift = repair, put right what differs (at most a few times a
 * minute; beyond that, once more when the minute is over).
 */
void drift_event(void *userdata);

/* Did every commit of others since the events were last read leave table
 * inet portctl alone (userdata: struct daemon)? Reads them; when one did
 * not (or events were lost), the check runs soon from the loop. */
bool drift_quiet(void *userdata);

/* Subscribed after start-up's transaction (so that the kernel builds no
 * event per element of it): compare once if anyone committed in between. */
void drift_catch_up(struct daemon *dm);

/* When a check put off by the repair limit is due (ms, CLOCK_MONOTONIC;
 * UINT64_MAX: none), and running it once it is. */
uint64_t drift_deadline(const struct daemon *dm);
void drift_expire(struct daemon *dm);

#endif
