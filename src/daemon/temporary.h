/* Temporary rules (portctl allow ... --timeout DURATION): runtime rules
 * with an expiry, kept in STATE/temporary.json so that they outlive a
 * reload and a restart with the time they have left, and removed by the
 * daemon's timer through the one path (state_commit) when it comes. The
 * kernel has no timeout for a rule (only for set elements), so the daemon
 * keeps the time: at start a rule that expired while it was down is not
 * put back. */
#ifndef PORTCTL_DAEMON_TEMPORARY_H
#define PORTCTL_DAEMON_TEMPORARY_H

#include "model.h"
#include "persist.h"

/* Ten years, as for bans: a longer timeout is a typo. */
#define TEMPORARY_MAX (3650u * 24 * 3600)

/* The temporary rules of dm still in force, placed in cfg (files only). */
int temporary_place(const struct daemon *dm, struct pc_config *cfg, struct runtime *out,
		    struct pc_diags *d);
/* The monotonic deadline (ms) of the next temporary rule to expire,
 * UINT64_MAX if none. */
uint64_t temporary_deadline(const struct daemon *dm);
/* Remove the temporary rules whose time has come. */
void temporary_expire_due(struct daemon *dm);

#endif
