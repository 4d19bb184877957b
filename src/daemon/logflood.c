/* Rate-limited logging: 250,000 refused connections make one line per
 * interval, not 250,000, and the summary still names who caused them. */
#include "config.h"

#include <stdio.h>

#include "logflood.h"

bool log_flood_note(struct log_flood *f, uid_t uid, uint64_t now)
{
	if (f->until == 0) {
		f->until = now + LOG_FLOOD_INTERVAL_MS;
		return true;
	}
	f->n++;
	if (uid == LOG_FLOOD_NO_UID)
		return false;
	for (size_t i = 0; i < LOG_FLOOD_UIDS; i++) {
		if (f->uids[i].n == 0)
			f->uids[i].uid = uid;
		if (f->uids[i].uid == uid) {
			f->uids[i].n++;
			return false;
		}
	}
	f->n_other++;
	return false;
}

uint64_t log_flood_deadline(const struct log_flood *f)
{
	return f->until ? f->until : UINT64_MAX;
}

void log_flood_flush(struct log_flood *f, uint64_t now)
{
	char who[256] = "";
	size_t off = 0;

	if (f->until == 0 || now < f->until)
		return;
	if (f->n == 0) {
		f->until = 0;
		return;
	}
	for (size_t i = 0; i < LOG_FLOOD_UIDS && f->uids[i].n; i++)
		off += (size_t)snprintf(who + off, sizeof(who) - off, "%s%lu of uid %u",
					off ? ", " : "", f->uids[i].n, (unsigned)f->uids[i].uid);
	if (f->n_other)
		snprintf(who + off, sizeof(who) - off, "%s%lu of other users", off ? ", " : "",
			 f->n_other);
	log_full_errno(f->level, 0, "%s %lu %s in the last %d s%s%s%s", f->verb, f->n, f->what,
		       LOG_FLOOD_INTERVAL_MS / 1000, *who ? " (" : "", who, *who ? ")" : "");
	f->n = f->n_other = 0;
	memset(f->uids, 0, sizeof(f->uids));
	f->until = now + LOG_FLOOD_INTERVAL_MS;
}
