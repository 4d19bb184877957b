/* Replies and log lines the handlers share: diagnostics as a reply and
 * as log lines, the answer of a change that went through, and the
 * refusal of a read command when there is no model. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "reply.h"

int reply_set(struct pc_reply *reply, int status, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	free(reply->message);
	reply->message = m;
	reply->status = status;
	return m ? 0 : -ENOMEM;
}

int reply_diags(struct pc_reply *reply, int status, const char *intro, const struct pc_diags *d,
		const struct pc_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_t *list = json_array();

	if (!f || !list) {
		if (f)
			fclose(f);
		json_decref(list);
		return -ENOMEM;
	}
	fprintf(f, "%s\n", intro);
	pc_diags_print(f, d, cfg ? &cfg->sources : NULL);
	fclose(f);
	for (size_t i = 0; i < d->n; i++) {
		const struct pc_diag *g = &d->items[i];

		json_array_append_new(
			list, json_pack("{s:s,s:s?,s:i,s:i,s:s,s:s?}", "severity",
					g->severity == PC_SEV_ERROR ? "error" : "warning", "file",
					g->loc.file, "line", (int)g->loc.line, "column",
					(int)g->loc.col, "message", g->message, "hint", g->hint));
	}
	/* Strip the last newline: the CLI prints the message as a line. */
	if (len > 0 && text[len - 1] == '\n')
		text[len - 1] = '\0';
	free(reply->message);
	reply->message = text;
	reply->status = status;
	json_decref(reply->data);
	reply->data = json_pack("{s:o}", "diagnostics", list);
	return 0;
}

void diags_log(const struct pc_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct pc_diag *g = &d->items[i];

		log_full_errno(g->severity == PC_SEV_ERROR ? PC_LOG_ERR : PC_LOG_WARNING, 0,
			       "%s:%u:%u: %s%s%s%s", g->loc.file ? g->loc.file : "portctld",
			       g->loc.line, g->loc.col, g->message, g->hint ? " (hint: " : "",
			       g->hint ? g->hint : "", g->hint ? ")" : "");
	}
	if (d->n_dropped)
		log_error("... and %zu more diagnostics", d->n_dropped);
}

int need_model(const struct daemon *dm, struct pc_reply *reply)
{
	if (dm->applied && dm->applied->cfg)
		return 0;
	reply_set(reply, PC_STATUS_FAILURE,
		  "portctld kept the rules the kernel had at start-up but has no valid "
		  "configuration describing them: fix the errors it logged, then run "
		  "'portctl reload'");
	return -ENODATA;
}

void change_done(const struct pc_peer *peer, const char *verb, bool runtime, const char *summary,
		 struct pc_reply *reply)
{
	log_notice("uid %u pid %d: %s %s%s", peer->uid, (int)peer->pid, verb, summary,
		   runtime ? " (runtime)" : "");
	reply_set(reply, PC_STATUS_OK, "%s%s: %s", verb,
		  runtime ? " until the next reload (--runtime)" : "", summary);
}
