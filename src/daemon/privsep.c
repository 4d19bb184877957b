/* Privilege separation (after OpenBSD's privsep daemons): the daemon,
 * running as its own user, asks a privileged writer to commit the CLI
 * rules file; the writer does only that, for the one path it was given.
 *
 * The channel is a SOCK_SEQPACKET socketpair. Every message is a fixed
 * header (version, type, payload length) and at most PS_CHUNK bytes of
 * payload. A request is PS_COMMIT (lengths, flag, the path) followed by the
 * expected and the new text in PS_DATA messages; the answer is PS_RESULT
 * followed by the file's current text in PS_DATA messages when stale. Any
 * message that breaks the format ends the writer. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "memory.h"
#include "persist.h"
#include "privsep.h"
#include "serve.h"

#define PS_VERSION 1
#define PS_CHUNK 32768
/* The writer fsyncs; beyond this it is stuck, and the daemon gives up. */
#define PS_TIMEOUT_S 30

enum ps_type {
	PS_COMMIT = 1,
	PS_RESULT = 2,
	PS_DATA = 3,
};

struct ps_hdr {
	uint32_t version;
	uint32_t type;
	uint32_t len; /* payload bytes after the header */
	uint32_t reserved;
};

struct ps_commit {
	uint64_t expected_len;
	uint64_t text_len;
	uint32_t expected_exists;
	uint32_t path_len; /* the path follows, without a NUL */
};

struct ps_result {
	int32_t status; /* 0 or -errno */
	uint32_t current_exists;
	uint64_t current_len;
};

/* The daemon's end; the one piece of state rules_file_commit() needs. */
static struct {
	int fd;
	pid_t pid;
	char path[PATH_MAX];
} ps = {.fd = -1};

static int ps_send(int fd, enum ps_type type, const void *a, size_t a_len, const void *b,
		   size_t b_len)
{
	struct ps_hdr h = {PS_VERSION, type, (uint32_t)(a_len + b_len), 0};
	struct iovec iov[] = {{&h, sizeof(h)}, {(void *)a, a_len}, {(void *)b, b_len}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 3};
	ssize_t n;

	if (a_len + b_len > PS_CHUNK)
		return -EMSGSIZE;
	do
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	return 0;
}

/* One message of type into payload (at most max bytes): its payload
 * length, -EPIPE when the other end closed, -EBADMSG when malformed. */
static ssize_t ps_recv(int fd, enum ps_type type, void *payload, size_t max)
{
	struct ps_hdr h;
	struct iovec iov[] = {{&h, sizeof(h)}, {payload, max}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
	ssize_t n;

	do
		n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	if (n == 0)
		return -EPIPE;
	/* Longer than the buffer, or descriptors attached: not ours. */
	if ((m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < sizeof(h) ||
	    h.version != PS_VERSION || h.type != type || h.reserved != 0 ||
	    h.len != (size_t)n - sizeof(h))
		return -EBADMSG;
	return (ssize_t)h.len;
}

static int ps_send_blob(int fd, const char *data, size_t len)
{
	for (size_t off = 0; off < len; off += PS_CHUNK) {
		size_t n = len - off < PS_CHUNK ? len - off : PS_CHUNK;
		int r = ps_send(fd, PS_DATA, data + off, n, NULL, 0);

		if (r < 0)
			return r;
	}
	return 0;
}

/* Exactly len bytes of PS_DATA into buf (len + 1 bytes; NUL-terminated). */
static int ps_recv_blob(int fd, char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t room = len - off < PS_CHUNK ? len - off : PS_CHUNK;
		ssize_t n = ps_recv(fd, PS_DATA, buf + off, room);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EBADMSG;
		off += (size_t)n;
	}
	buf[len] = '\0';
	return 0;
}

static char *blob_alloc(uint64_t len)
{
	return len > RULES_FILE_MAX ? NULL : malloc((size_t)len + 1);
}

/* The writer: one request, checked, done, answered. -EPIPE when the
 * daemon closed the channel; another -errno ends the writer. */
static int writer_serve_one(int fd, const char *path)
{
	struct {
		struct ps_commit c;
		char path[PATH_MAX];
	} req;
	_cleanup_free_ char *expected = NULL, *text = NULL, *current = NULL;
	struct ps_result res = {0};
	size_t current_len = 0;
	ssize_t n = ps_recv(fd, PS_COMMIT, &req, sizeof(req));
	int r;

	if (n < 0)
		return (int)n;
	if ((size_t)n < sizeof(req.c) || req.c.path_len != (size_t)n - sizeof(req.c) ||
	    req.c.expected_exists > 1 || (!req.c.expected_exists && req.c.expected_len) ||
	    req.c.expected_len > RULES_FILE_MAX || req.c.text_len > RULES_FILE_MAX)
		return -EBADMSG;
	expected = blob_alloc(req.c.expected_len);
	text = blob_alloc(req.c.text_len);
	if (!expected || !text)
		return -ENOMEM;
	r = ps_recv_blob(fd, expected, req.c.expected_len);
	if (r >= 0)
		r = ps_recv_blob(fd, text, req.c.text_len);
	if (r < 0)
		return r;
	/* The one path it was given at start, and no other. */
	if (req.c.path_len != strlen(path) || memcmp(req.path, path, req.c.path_len)) {
		log_error("privileged writer: refused a write to another file than %s", path);
		res.status = -EPERM;
	} else {
		res.status = rules_file_update(path, expected, req.c.expected_len,
					       req.c.expected_exists, text, req.c.text_len,
					       &current, &current_len);
	}
	res.current_exists = current != NULL;
	res.current_len = current_len;
	r = ps_send(fd, PS_RESULT, &res, sizeof(res), NULL, 0);
	if (r >= 0 && current)
		r = ps_send_blob(fd, current, current_len);
	return r;
}

/* Keep stdin, stdout, stderr (the log) and the channel, as fd 3. */
int fds_close_except(int fd)
{
	if (fd != 3) {
		if (dup3(fd, 3, O_CLOEXEC) < 0)
			return -errno;
		fd = 3;
	}
	if (close_range(4, ~0U, 0) < 0) {
		long max = sysconf(_SC_OPEN_MAX);

		for (long i = 4; i < (max > 0 ? max : 65536); i++)
			close((int)i);
	}
	return fd;
}

/* Wait for the next request; once idle, give back what the last one took
 * (memory.h), as the daemon does. */
static int writer_wait(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n = poll(&p, 1, PC_SERVER_TRIM_IDLE_MS);

	if (n == 0) {
		memory_release();
		n = poll(&p, 1, -1);
	}
	return n < 0 && errno != EINTR ? -errno : 0;
}

static _Noreturn void writer_run(int fd, pid_t parent, const char *path)
{
	sigset_t none;
	int r;

	/* The daemon's end closing is the signal to go; should it die
	 * without closing (it cannot), this is. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(0);
	(void)prctl(PR_SET_NAME, "portctld-priv");
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fd = fds_close_except(fd);
	r = fd < 0 ? fd : privs_drop_all();
	while (r >= 0) {
		r = writer_wait(fd);
		if (r >= 0)
			r = writer_serve_one(fd, path);
	}
	if (r != -EPIPE)
		log_error_errno(r, "privileged writer: %m; exiting");
	_exit(r == -EPIPE ? 0 : 1);
}

int privsep_start(const char *path)
{
	struct timeval tv = {.tv_sec = PS_TIMEOUT_S};
	pid_t parent = getpid(), pid;
	int sv[2];

	if (strlen(path) >= sizeof(ps.path))
		return log_error_errno(-ENAMETOOLONG, "path too long: %s", path);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return log_error_errno(-errno, "socketpair: %m");
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return log_error_errno(-errno, "cannot fork the privileged writer: %m");
	}
	if (pid == 0) {
		close(sv[0]);
		writer_run(sv[1], parent, path);
	}
	close(sv[1]);
	(void)setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ps.fd = sv[0];
	ps.pid = pid;
	strcpy(ps.path, path);
	log_debug("privileged writer for %s started (pid %d)", path, (int)pid);
	return 0;
}

void privsep_stop(void)
{
	if (ps.fd >= 0)
		close(ps.fd);
	ps.fd = -1;
	if (ps.pid > 0)
		while (waitpid(ps.pid, NULL, 0) < 0 && errno == EINTR)
			;
	ps.pid = 0;
}

bool privsep_running(void)
{
	return ps.pid > 0;
}

static int commit_send(const char *path, const char *expected, size_t expected_len,
		       bool expected_exists, const char *text, size_t len)
{
	struct ps_commit c = {expected_len, len, expected_exists, (uint32_t)strlen(path)};
	int r = ps_send(ps.fd, PS_COMMIT, &c, sizeof(c), path, c.path_len);

	if (r >= 0)
		r = ps_send_blob(ps.fd, expected, expected_len);
	if (r >= 0)
		r = ps_send_blob(ps.fd, text, len);
	return r;
}

/* The writer's answer: its status in *status; returns 0, or -errno when
 * the channel failed. */
static int commit_receive(int *status, char **current, size_t *current_len)
{
	struct ps_result res;
	_cleanup_free_ char *data = NULL;
	ssize_t n = ps_recv(ps.fd, PS_RESULT, &res, sizeof(res));
	int r;

	if (n < 0)
		return (int)n;
	if ((size_t)n != sizeof(res) || res.status > 0 || res.status < -4095 ||
	    res.current_exists > 1 || (res.current_exists && res.status != -ESTALE))
		return -EBADMSG;
	if (res.current_exists) {
		data = blob_alloc(res.current_len);
		if (!data)
			return -EBADMSG;
		r = ps_recv_blob(ps.fd, data, res.current_len);
		if (r < 0)
			return r;
		*current = TAKE_PTR(data);
		*current_len = res.current_len;
	}
	*status = res.status;
	return 0;
}

int rules_file_commit(const char *path, const char *expected, size_t expected_len,
		      bool expected_exists, const char *text, size_t len, char **current,
		      size_t *current_len)
{
	int r, status = 0;

	*current = NULL;
	*current_len = 0;
	if (!privsep_running())
		return rules_file_update(path, expected, expected_len, expected_exists, text, len,
					 current, current_len);
	if (ps.fd < 0)
		return -EPIPE;
	if (!streq(path, ps.path))
		return -EPERM;
	if (expected_len > RULES_FILE_MAX || len > RULES_FILE_MAX)
		return -EFBIG;
	r = commit_send(path, expected, expected_len, expected_exists, text, len);
	if (r >= 0)
		r = commit_receive(&status, current, current_len);
	if (r >= 0)
		return status;
	/* A broken channel cannot be re-synchronised, nor reopened without
	 * privileges: changes from the CLI fail from now on. */
	log_error_errno(r, "the privileged writer is gone (%m): changes from the command line "
			   "cannot be saved until portctld restarts");
	close(ps.fd);
	ps.fd = -1;
	return -EPIPE;
}
