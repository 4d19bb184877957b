/* The client end of the protocol: connect to portctld's socket, send one
 * request, collect the (possibly multi-message) response with a time-out. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "portctl/proto.h"

int pc_client_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

static int client_send(int fd, const char *cmd, const json_t *args, int timeout_ms)
{
	_cleanup_free_ uint8_t *msg = NULL;
	size_t len;
	int r;

	r = pc_request_encode(cmd, args, &msg, &len);
	if (r < 0)
		return r;
	r = wait_fd(fd, POLLOUT, timeout_ms);
	if (r < 0)
		return r;
	if (send(fd, msg, len, MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

/* Receive one message into buf; the daemon never sends more than
 * PC_PROTO_MSG_MAX, MSG_TRUNC reveals a peer that does. */
static ssize_t client_recv(int fd, uint8_t *buf, int timeout_ms)
{
	ssize_t n;
	int r;

	r = wait_fd(fd, POLLIN, timeout_ms);
	if (r < 0)
		return r;
	do
		n = recv(fd, buf, PC_PROTO_MSG_MAX, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	if (n > PC_PROTO_MSG_MAX)
		return -EMSGSIZE;
	return n;
}

int pc_client_receive(int fd, int timeout_ms, struct pc_response *resp, char *reason,
		      size_t reason_size)
{
	_cleanup_free_ uint8_t *buf = malloc(PC_PROTO_MSG_MAX);
	struct pc_inmsg in = {0};
	int r;

	*resp = (struct pc_response){0};
	if (!buf)
		return -ENOMEM;
	do {
		ssize_t n = client_recv(fd, buf, timeout_ms);

		if (n < 0) {
			r = (int)n;
			snprintf(reason, reason_size, "%s",
				 r == -EPIPE ? "portctld closed the connection"
				 : r == -ETIMEDOUT
					 ? "portctld did not answer in time"
					 : strerror(-r));
			break;
		}
		r = pc_inmsg_feed(&in, buf, (size_t)n, reason, reason_size);
	} while (r == 0);
	if (r > 0)
		r = pc_inmsg_parse(&in, resp, reason, reason_size);
	pc_inmsg_free(&in);
	return r;
}

int pc_client_call(int fd, const char *cmd, const json_t *args, int timeout_ms,
		   struct pc_response *resp, char *reason, size_t reason_size)
{
	int r;

	*resp = (struct pc_response){0};
	r = client_send(fd, cmd, args, timeout_ms);
	if (r < 0) {
		snprintf(reason, reason_size, "cannot send request: %s", strerror(-r));
		return r;
	}
	return pc_client_receive(fd, timeout_ms, resp, reason, reason_size);
}
