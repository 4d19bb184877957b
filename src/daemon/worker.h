/* Answers made in a child process (worker.c): a read whose work grows with
 * the configuration runs in a fork of the daemon, which sends the answer
 * itself while the daemon serves its other clients. */
#ifndef PORTCTL_DAEMON_WORKER_H
#define PORTCTL_DAEMON_WORKER_H

#include <stdint.h>
#include <sys/types.h>

#include "serve.h"

/* Children answering at once; an unprivileged uid has at most one, and
 * the unprivileged together leave one to root and the socket group. */
#define WORKERS_MAX 4

/*
 * Fork a child that fills reply with reply->worker(userdata, peer, args,
 * reply), sends it on fd within timeout_ms and exits. The child holds a
 * copy of the daemon as it is now, fd and the standard streams alone.
 * Returns the child's pid to the daemon, which lets fd go; or -EBUSY (too
 * many workers) or -errno, with reply set to say so.
 */
pid_t worker_start(int fd, const struct pc_peer *peer, uint64_t timeout_ms, void *userdata,
		   json_t *args, struct pc_reply *reply);
/* Reap the workers that ended (SIGCHLD). */
void worker_reap(void);

#endif
