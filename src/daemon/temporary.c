/* Temporary rules: see temporary.h. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "handlers.h"
#include "log.h"
#include "persist.h"
#include "temporary.h"

int temporary_save(const struct pc_paths *paths, const struct runtime *rt)
{
	_cleanup_free_ char *text = NULL;
	json_t *list = json_array(), *doc;
	size_t n = 0;

	for (size_t i = 0; list && rt->expires && i < rt->n; i++) {
		if (!rt->expires[i])
			continue;
		n++;
		if (json_array_append_new(list, json_pack("{s:s,s:I}", "rule", rt->items[i],
							  "expires",
							  (json_int_t)rt->expires[i])) < 0) {
			json_decref(list);
			return -ENOMEM;
		}
	}
	if (list && n == 0) {
		json_decref(list);
		return state_file_exists(paths, TEMPORARY_FILE)
			       ? state_file_remove(paths, TEMPORARY_FILE)
			       : 0;
	}
	doc = list ? json_pack("{s:i,s:o}", "version", 1, "rules", list) : NULL;
	text = doc ? json_dumps(doc, JSON_INDENT(1)) : NULL;
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	return state_file_write(paths, TEMPORARY_FILE, text);
}

int temporary_load(const struct pc_paths *paths, uint64_t now, struct runtime *out)
{
	char path[PATH_MAX];
	json_error_t err;
	json_t *doc, *v;
	size_t i;
	int r = state_file_path(paths, TEMPORARY_FILE, path, sizeof(path));

	*out = (struct runtime){0};
	if (r < 0)
		return r;
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? 0 : -errno;
	doc = json_load_file(path, 0, &err);
	if (!doc) {
		log_error("%s:%d: cannot read the temporary rules: %s", path, err.line, err.text);
		return -EINVAL;
	}
	json_array_foreach(json_object_get(doc, "rules"), i, v)
	{
		const char *rule = json_string_value(json_object_get(v, "rule"));
		json_int_t e = json_integer_value(json_object_get(v, "expires"));

		if (!rule || e <= 0) {
			log_error("%s: temporary rule %zu is malformed, left out", path, i + 1);
			continue;
		}
		if ((uint64_t)e <= now) {
			log_info("temporary rule '%s' expired while portctld was stopped", rule);
			continue;
		}
		if (runtime_push(out, rule, (uint64_t)e) < 0) {
			json_decref(doc);
			runtime_clear(out);
			return -ENOMEM;
		}
	}
	json_decref(doc);
	return 0;
}

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
	return pc_now_ms() + (next > now ? (next - now) * 1000 : 0);
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

	if (!dm->applied || !dm->applied->cfg)
		return;
	pc_diags_init(&d);
	r = temporary_next(dm, (uint64_t)time(NULL), &nx, &gone, &d);
	if (r >= 0 && gone)
		r = state_commit(dm, &nx, &reply);
	if (r < 0 && gone) {
		diags_log(&d);
		log_error("expired temporary rules could not be removed: %s",
			  reply.message ? reply.message : strerror(-r));
	}
	next_free(&nx);
	pc_diags_free(&d);
	free(reply.message);
	json_decref(reply.data);
}
