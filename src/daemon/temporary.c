/* Temporary rules: see temporary.h. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "handlers.h"
#include "log.h"
#include "persist.h"
#include "temporary.h"

int temporary_place(const struct daemon *dm, struct pc_config *cfg, struct runtime *out,
		    struct pc_diags *d)
{
	int r = runtime_temporary(&dm->runtime, (uint64_t)time(NULL), out);

	return r < 0 ? r : runtime_place(&dm->paths, cfg, out, d);
}

uint64_t temporary_deadline(const struct daemon *dm)
{
	uint64_t next = runtime_next_expiry(&dm->runtime), now = (uint64_t)time(NULL);

	if (!next)
		return UINT64_MAX;
	return expiry_retry_hold(&dm->temporary_retry,
				 pc_now_ms() + (next > now ? (next - now) * 1000 : 0));
}

/* The files in force with the runtime rules but the expired ones. */
static int temporary_next(struct daemon *dm, uint64_t now, struct next *nx, size_t *gone,
			  struct pc_diags *d)
{
	int r;

	*gone = 0;
	for (size_t i = 0; i < dm->runtime.n; i++) {
		uint64_t e = dm->runtime.expires ? dm->runtime.expires[i] : 0;

		if (e && e <= now) {
			(*gone)++;
			log_notice("temporary rule expired: %s", dm->runtime.items[i]);
			continue;
		}
		r = runtime_push(&nx->runtime, dm->runtime.items[i], e);
		if (r < 0)
			return r;
	}
	if (!*gone)
		return 0;
	r = config_from_sources(&dm->paths, dm->applied->cfg, &nx->cfg, d);
	return r < 0 ? r : runtime_place(&dm->paths, nx->cfg, &nx->runtime, d);
}

void temporary_expire_due(struct daemon *dm)
{
	struct next nx = {.panic = -1, .source = dm->source,
			  .intro = "expired temporary rules could not be removed:"};
	struct pc_reply reply = {0};
	struct pc_diags d;
	size_t gone;
	int r;

	/* No model to take them out of (files refused at start): later. */
	if (!dm->applied || !dm->applied->cfg) {
		expiry_retry_failed(&dm->temporary_retry);
		return;
	}
	/* Each in place, as its delete (the full path for what is left). */
	for (size_t i = 0; i < dm->runtime.n; i++) {
		uint64_t e = dm->runtime.expires ? dm->runtime.expires[i] : 0;
		_cleanup_free_ char *text = NULL;

		if (!e || e > (uint64_t)time(NULL))
			continue;
		text = strdup(dm->runtime.items[i]);
		if (!text || state_runtime_drop(dm, i, &reply) <= 0)
			break;
		log_notice("temporary rule expired: %s", text);
		i--; /* the next one took its place */
	}
	free(TAKE_PTR(reply.message));
	json_decref(TAKE_PTR(reply.data));
	pc_diags_init(&d);
	r = temporary_next(dm, (uint64_t)time(NULL), &nx, &gone, &d);
	if (r >= 0 && gone)
		r = state_commit(dm, &nx, &reply);
	if (r < 0)
		expiry_retry_failed(&dm->temporary_retry);
	else
		expiry_retry_done(&dm->temporary_retry);
	if (r < 0 && gone) {
		diags_log(&d);
		log_error("expired temporary rules could not be removed (tried again in %" PRIu64
			  " s): %s",
			  dm->temporary_retry.wait_ms / 1000,
			  reply.message ? reply.message : strerror(-r));
	}
	next_free(&nx);
	pc_diags_free(&d);
	free(reply.message);
	json_decref(reply.data);
}
