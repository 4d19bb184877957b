/* systemd readiness notification, written by hand: one datagram to
 * $NOTIFY_SOCKET is all sd_notify() does, not worth a libsystemd dependency. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "serve.h"

/* Fill sa from $NOTIFY_SOCKET: a path, or '@' for an abstract name. */
static int notify_address(const char *path, struct sockaddr_un *sa, socklen_t *salen)
{
	size_t n = strlen(path);

	if (n < 2 || n >= sizeof(sa->sun_path) || (path[0] != '/' && path[0] != '@'))
		return -EINVAL;
	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	memcpy(sa->sun_path, path, n);
	if (path[0] == '@')
		sa->sun_path[0] = '\0';
	*salen = offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/');
	return 0;
}

int notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen;
	_cleanup_close_ int fd = -1;
	int r;

	if (!path)
		return 0;
	r = notify_address(path, &sa, &salen);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0)
		return -errno;
	return 1;
}
