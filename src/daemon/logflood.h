/* Rate-limited logging of what clients can repeat at will (logflood.c): the
 * first event of an interval in full, the rest as one summary line. */
#ifndef PORTCTL_DAEMON_LOGFLOOD_H
#define PORTCTL_DAEMON_LOGFLOOD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "log.h"

#define LOG_FLOOD_INTERVAL_MS 10000
#define LOG_FLOOD_UIDS 4
/* For events with no peer to name (a failed accept). */
#define LOG_FLOOD_NO_UID ((uid_t)-1)

struct log_flood {
	/* Set once: the summary reads "<verb> N <what> in the last 10 s". */
	enum pc_log_level level;
	const char *verb, *what;
	uint64_t until; /* end of the interval being counted; 0: quiet */
	unsigned long n, n_other;
	struct {
		uid_t uid;
		unsigned long n;
	} uids[LOG_FLOOD_UIDS];
};

/* An event caused by uid at now (ms): true when the caller should log it in full
 * (the first after a quiet interval), false when it was only counted. */
bool log_flood_note(struct log_flood *f, uid_t uid, uint64_t now);
/* When the summary is due (UINT64_MAX: nothing counted). */
uint64_t log_flood_deadline(const struct log_flood *f);
/* Past the deadline: log the summary, and count on for another interval,
 * or go quiet when nothing came. */
void log_flood_flush(struct log_flood *f, uint64_t now);

#endif
