/* Answers made in a child process. The daemon is single-threaded: a read
 * that compiles the files or dumps the kernel's table (diff: most of a
 * second at 100,000 rules) would keep every other client waiting. A fork
 * holds a copy of the daemon as it was at the request, so the answer is
 * the one the daemon would have given then; the daemon pays the fork
 * alone and goes on serving. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"
#include "worker.h"

static struct worker {
	pid_t pid;
	uid_t uid;
	bool may_write;
} workers[WORKERS_MAX];
static size_t n_workers;

void worker_reap(void)
{
	for (size_t i = n_workers; i-- > 0;) {
		pid_t r = waitpid(workers[i].pid, NULL, WNOHANG);

		if (r == workers[i].pid || (r < 0 && errno == ECHILD))
			workers[i] = workers[--n_workers];
	}
}

/* Whether peer may start one more (see WORKERS_MAX). */
static bool worker_admit(const struct pc_peer *peer)
{
	size_t unpriv = 0, mine = 0;

	for (size_t i = 0; i < n_workers; i++) {
		unpriv += !workers[i].may_write;
		mine += !workers[i].may_write && workers[i].uid == peer->uid;
	}
	if (n_workers >= WORKERS_MAX)
		return false;
	return peer->may_write || (mine == 0 && unpriv < WORKERS_MAX - 1);
}

/* Send the whole response on fd (non-blocking, shared with nobody now)
 * before the deadline: a client that does not read is given up on, as
 * the server gives up on it. */
static int reply_send(int fd, const struct pc_reply *reply, uint64_t deadline)
{
	struct pc_outmsg out;
	struct iovec iov[2];
	int r = pc_outmsg_response(&out, reply->status, reply->message, reply->data);

	/* jansson refuses text that is not UTF-8 (server.c: client_respond). */
	if (r < 0)
		r = pc_outmsg_response(
		    &out, reply->status == PC_STATUS_OK ? PC_STATUS_FAILURE : reply->status,
		    "portctld could not encode its reply: text that is not UTF-8, or out of memory",
		    NULL);
	while (r >= 0 && pc_outmsg_frame(&out, iov)) {
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		uint64_t now = pc_now_ms();

		if (sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) {
			pc_outmsg_advance(&out);
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			r = -errno;
		else if (now >= deadline)
			r = -ETIMEDOUT;
		else if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			r = -errno;
	}
	pc_outmsg_free(&out);
	return r;
}

static _Noreturn void worker_run(int fd, pid_t parent, const struct pc_peer *peer,
				 uint64_t timeout_ms, void *userdata, json_t *args,
				 struct pc_reply *reply)
{
	uint64_t deadline;
	struct rusage ru;
	sigset_t none;
	int r;

	/* Nothing of the daemon's may outlive it (its lock, its socket). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	(void)prctl(PR_SET_NAME, "portctld-read");
	/* SIGTERM and SIGHUP are the daemon's (its signalfd): here they end
	 * the child, as they would any process. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fd = fds_close_except(fd);
	if (fd < 0)
		_exit(1);
	r = reply->worker(userdata, peer, args, reply);
	if (r < 0)
		reply_set(reply, PC_STATUS_FAILURE, "failed: %s", strerror(-r));
	deadline = pc_now_ms() + timeout_ms;
	r = reply_send(fd, reply, deadline);
	if (r < 0)
		log_info("client pid %d uid %u: the answer was not taken: %s", (int)peer->pid,
			 peer->uid, strerror(-r));
	if (getrusage(RUSAGE_SELF, &ru) >= 0)
		log_debug("uid %u pid %d: answered by worker pid %d in %lld us of CPU", peer->uid,
			  (int)peer->pid, (int)getpid(),
			  (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
			      ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	_exit(r < 0);
}

pid_t worker_start(int fd, const struct pc_peer *peer, uint64_t timeout_ms, void *userdata,
		   json_t *args, struct pc_reply *reply)
{
	pid_t parent = getpid(), pid;

	worker_reap();
	if (!worker_admit(peer)) {
		reply->worker = NULL;
		reply_set(reply, PC_STATUS_FAILURE,
			  "portctld is busy answering %zu such requests%s: try again when they "
			  "are done",
			  n_workers, peer->may_write ? "" : " (one at a time per user)");
		return -EBUSY;
	}
	pid = fork();
	if (pid < 0) {
		reply->worker = NULL;
		reply_set(reply, PC_STATUS_FAILURE, "cannot fork a worker: %s", strerror(errno));
		return log_error_errno(-errno, "cannot fork a worker: %m");
	}
	if (pid == 0)
		worker_run(fd, parent, peer, timeout_ms, userdata, args, reply);
	workers[n_workers++] = (struct worker){pid, peer->uid, peer->may_write};
	return pid;
}
