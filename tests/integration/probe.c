/* Traffic probe for the integration tests: TCP/UDP connects that print
 * open, refused or timeout, and a dual-stack listener for many ports. */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "portctl/util.h"

#define LISTEN_MAX 64

static int addr_parse(const char *host, const char *port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;

	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -EINVAL;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int socket_bind_source(int fd, const char *src)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!src)
		return 0;
	if (addr_parse(src, "0", &ss, &len) < 0)
		return -EINVAL;
	return bind(fd, (struct sockaddr *)&ss, len) < 0 ? -errno : 0;
}

static const char *tcp_probe(const struct sockaddr_storage *ss, socklen_t len, const char *src,
			     int timeout_ms)
{
	_cleanup_close_ int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t elen = sizeof(err);

	if (fd < 0 || socket_bind_source(fd, src) < 0)
		return "error";
	if (connect(fd, (const struct sockaddr *)ss, len) == 0)
		return "open";
	if (errno != EINPROGRESS)
		return errno == ECONNREFUSED ? "refused" : "error";
	if (poll(&p, 1, timeout_ms) == 0)
		return "timeout";
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	if (err == 0)
		return "open";
	return err == ECONNREFUSED ? "refused" : err == ETIMEDOUT ? "timeout" : "error";
}

/* UDP: the listener echoes; an ICMP port unreachable shows as ECONNREFUSED. */
static const char *udp_probe(const struct sockaddr_storage *ss, socklen_t len, const char *src,
			     int timeout_ms)
{
	_cleanup_close_ int fd = socket(ss->ss_family, SOCK_DGRAM, 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[16];

	if (fd < 0 || socket_bind_source(fd, src) < 0)
		return "error";
	if (connect(fd, (const struct sockaddr *)ss, len) < 0 || send(fd, "ping", 4, 0) < 0)
		return "error";
	if (poll(&p, 1, timeout_ms) == 0)
		return "timeout";
	if (recv(fd, buf, sizeof(buf), 0) >= 0)
		return "open";
	return errno == ECONNREFUSED ? "refused" : "error";
}

static int listen_one(int type, int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
				  .sin6_addr = IN6ADDR_ANY_INIT };
	int fd = socket(AF_INET6, type | SOCK_NONBLOCK, 0), zero = 0, one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static void listener_serve(struct pollfd *fds, const int *types, size_t n)
{
	for (;;) {
		if (poll(fds, n, -1) < 0)
			return;
		for (size_t i = 0; i < n; i++) {
			struct sockaddr_storage peer;
			socklen_t plen = sizeof(peer);
			char buf[512];
			ssize_t len;
			int c;

			if (!(fds[i].revents & POLLIN))
				continue;
			if (types[i] == SOCK_STREAM) {
				c = accept(fds[i].fd, NULL, NULL);
				if (c >= 0)
					close(c);
				continue;
			}
			len = recvfrom(fds[i].fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
			if (len >= 0)
				sendto(fds[i].fd, buf, (size_t)len, 0, (struct sockaddr *)&peer, plen);
		}
	}
}

/* listen tcp:443 udp:53 ...; prints "ready" once every socket is bound. */
static int run_listen(int argc, char *argv[])
{
	struct pollfd fds[LISTEN_MAX];
	int types[LISTEN_MAX];
	size_t n = 0;

	for (int i = 0; i < argc && n < LISTEN_MAX; i++, n++) {
		int type = !strncmp(argv[i], "udp:", 4) ? SOCK_DGRAM : SOCK_STREAM;
		int fd = listen_one(type, atoi(strchr(argv[i], ':') ? strchr(argv[i], ':') + 1 : argv[i]));

		if (fd < 0) {
			fprintf(stderr, "probe: cannot listen on %s: %s\n", argv[i], strerror(-fd));
			return 1;
		}
		fds[n] = (struct pollfd){ .fd = fd, .events = POLLIN };
		types[n] = type;
	}
	printf("ready\n");
	fflush(stdout);
	listener_serve(fds, types, n);
	return 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: probe tcp|udp ADDR PORT [TIMEOUT_MS [SOURCE_ADDR]]\n"
			"       probe listen tcp:PORT|udp:PORT...\n");
}

int main(int argc, char *argv[])
{
	struct sockaddr_storage ss;
	socklen_t len;
	int timeout_ms;
	const char *src;

	if (argc >= 2 && streq(argv[1], "listen"))
		return run_listen(argc - 2, argv + 2);
	if (argc < 4 || (!streq(argv[1], "tcp") && !streq(argv[1], "udp"))) {
		usage();
		return 2;
	}
	if (addr_parse(argv[2], argv[3], &ss, &len) < 0) {
		fprintf(stderr, "probe: bad address %s port %s\n", argv[2], argv[3]);
		return 2;
	}
	timeout_ms = argc > 4 ? atoi(argv[4]) : 500;
	src = argc > 5 ? argv[5] : NULL;
	puts(streq(argv[1], "tcp") ? tcp_probe(&ss, len, src, timeout_ms) :
				     udp_probe(&ss, len, src, timeout_ms));
	return 0;
}
