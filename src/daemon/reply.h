/* Replies and log lines the handlers share (reply.c). */
#ifndef PORTCTL_DAEMON_REPLY_H
#define PORTCTL_DAEMON_REPLY_H

#include <stdbool.h>

#include "model.h"

int reply_diags(struct pc_reply *reply, int status, const char *intro, const struct pc_diags *d,
		const struct pc_config *cfg);
/* Log each diagnostic as FILE:LINE:COL: message (hint). */
void diags_log(const struct pc_diags *d);
/* Every read command needs a model of the configuration the kernel
 * holds: 0, or -ENODATA with the reply saying what to do. */
int need_model(const struct daemon *dm, struct pc_reply *reply);
/* The log line and reply of a change that went through. */
void change_done(const struct pc_peer *peer, const char *verb, bool runtime, const char *summary,
		 struct pc_reply *reply);


#endif
