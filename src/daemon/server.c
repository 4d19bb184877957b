/* portctld's socket server: one epoll loop over the listening socket, the
 * clients, a signalfd and a timerfd, with bounded clients, time and memory,
 * and slots that unprivileged clients cannot take from root or the group. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include "log.h"
#include "logflood.h"
#include "memory.h"
#include "serve.h"
#include "watch.h"
#include "worker.h"

#define SD_LISTEN_FDS_START 3
/* Connections taken per wake-up: a flood of them must not keep the loop
 * from the clients it already has (the listening socket stays readable). */
#define ACCEPT_BATCH 32

/* What hostile clients can repeat at will, logged at a bounded rate. */
enum flood_kind {
	FLOOD_REFUSED,
	FLOOD_EVICTED,
	FLOOD_BAD_REQUEST,
	FLOOD_SLOW_READER,
	FLOOD_ACCEPT,
	_FLOOD_MAX
};

struct client {
	uint64_t id; /* epoll data: an id, never a pointer that may be reused */
	int fd;
	struct pc_peer peer;
	uint64_t deadline; /* ms, CLOCK_MONOTONIC: idle or delivery limit */
	uint64_t since;    /* when it connected or last finished a request */
	bool answered;     /* has sent at least one request */
	bool close_after;  /* close once out is delivered */
	bool sending;
	bool watcher; /* portctl watch: no deadline, gets the packet events */
	struct pc_outmsg out;
};

struct pc_server {
	int listen_fd, epoll_fd, signal_fd, timer_fd;
	bool listen_owned; /* we bound it: unlink on exit */
	char *path;
	struct client *clients[PC_SERVER_MAX_CLIENTS];
	size_t n_clients;
	uint8_t *rxbuf;
	const struct pc_server_ops *ops;
	void *userdata;
	uint64_t next_id;
	uint64_t trim_at; /* when to give freed heap back (UINT64_MAX: done) */
	struct log_flood floods[_FLOOD_MAX];
	bool quit;
	uint64_t quit_at; /* after SIGTERM: the clients' last deadline */
	/* One more fd the daemon reads (server_watch), not owned. */
	int watch_fd;
	void (*watch_fn)(void *userdata);
	void *watch_data;
	/* portctl watch: the nflog socket, open while watchers > 0, and
	 * the events of this second (WATCH_MAX_PER_SECOND), the rest missed. */
	int nflog_fd;
	size_t n_watchers;
	uint64_t events_second;
	unsigned long events_sent, events_missed;
};

/* epoll data for the fixed fds; clients get ids from TAG_FIRST_CLIENT on. */
enum { TAG_LISTEN = 1, TAG_SIGNAL, TAG_TIMER, TAG_WATCH, TAG_NFLOG, TAG_FIRST_CLIENT };

/* systemd socket activation: exactly one listening fd at 3, for us. */
static int listen_fd_from_systemd(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");

	if (!pid || !fds || strtol(pid, NULL, 10) != getpid())
		return -ENOENT;
	if (strtol(fds, NULL, 10) != 1)
		return log_error_errno(-EINVAL, "LISTEN_FDS=%s: expected exactly one socket", fds);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (fcntl(SD_LISTEN_FDS_START, F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(SD_LISTEN_FDS_START, F_SETFD, FD_CLOEXEC) < 0)
		return log_error_errno(-errno, "socket from systemd: %m");
	return SD_LISTEN_FDS_START;
}

static int socket_dir_create(const char *path)
{
	int r = pc_parent_dir_create(path, 0755);

	return r < 0 ? log_error_errno(r, "cannot create the directory of %s: %m", path) : 0;
}

/* 1 when sa names a file nobody listens on, 0 when nothing is there,
 * -EADDRINUSE when something accepts connections on it. */
static int socket_stale(const struct sockaddr_un *sa)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct stat st;

	if (lstat(sa->sun_path, &st) < 0)
		return 0;
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return -EADDRINUSE;
	if (errno == ECONNREFUSED)
		return 1;
	/* EAGAIN: a full backlog; EPROTOTYPE: a listener of another type. */
	return errno == EAGAIN || errno == EPROTOTYPE ? -EADDRINUSE : -errno;
}

static int listen_fd_bind(const char *path, mode_t mode, gid_t group, bool have_group)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return log_error_errno(-ENAMETOOLONG, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	r = socket_dir_create(path);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_error_errno(-errno, "socket: %m");
	/* A stale socket from a crashed daemon would make bind fail. We hold
	 * the lock (lock.c), so no portctld serves it; anything else that
	 * still answers there is not ours to unlink. */
	r = socket_stale(&sa);
	if (r < 0)
		return log_error_errno(r, "%s is served by another process: %m", path);
	if (r > 0)
		unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return log_error_errno(-errno, "cannot bind %s: %m", path);
	if (chmod(path, mode) < 0)
		return log_error_errno(-errno, "chmod %s: %m", path);
	if (have_group && chown(path, (uid_t)-1, group) < 0)
		return log_error_errno(-errno, "chown %s: %m", path);
	if (listen(fd, 128) < 0)
		return log_error_errno(-errno, "listen %s: %m", path);
	r = fd;
	fd = -1;
	return r;
}

static int signal_fd_open(void)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD); /* a worker ended (worker.c) */
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	/* Writes to a vanished client must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int epoll_add(int epfd, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = {.events = events, .data.u64 = tag};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int server_setup_fds(struct pc_server *s)
{
	int r;

	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epoll_fd < 0)
		return -errno;
	s->signal_fd = signal_fd_open();
	if (s->signal_fd < 0)
		return s->signal_fd;
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->timer_fd < 0)
		return -errno;
	r = epoll_add(s->epoll_fd, s->listen_fd, EPOLLIN, TAG_LISTEN);
	if (r >= 0)
		r = epoll_add(s->epoll_fd, s->signal_fd, EPOLLIN, TAG_SIGNAL);
	if (r >= 0)
		r = epoll_add(s->epoll_fd, s->timer_fd, EPOLLIN, TAG_TIMER);
	return r;
}

static const struct log_flood flood_kinds[_FLOOD_MAX] = {
	[FLOOD_REFUSED] = {.level = PC_LOG_WARNING, .verb = "refused", .what = "clients"},
	[FLOOD_EVICTED] = {.level = PC_LOG_INFO, .verb = "closed", .what = "connections to make room"},
	[FLOOD_BAD_REQUEST] = {.level = PC_LOG_INFO, .verb = "refused", .what = "malformed requests"},
	[FLOOD_SLOW_READER] = {.level = PC_LOG_INFO, .verb = "dropped",
			       .what = "clients that did not read their response"},
	[FLOOD_ACCEPT] = {.level = PC_LOG_WARNING, .verb = "failed", .what = "accepts"},
};

int server_new(const char *path, mode_t mode, gid_t group, bool have_group,
	       const struct pc_server_ops *ops, void *userdata, struct pc_server **out)
{
	struct pc_server *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->listen_fd = s->epoll_fd = s->signal_fd = s->timer_fd = -1;
	s->nflog_fd = -1;
	s->ops = ops;
	s->userdata = userdata;
	s->next_id = TAG_FIRST_CLIENT;
	s->trim_at = UINT64_MAX;
	memcpy(s->floods, flood_kinds, sizeof(s->floods));
	s->rxbuf = malloc(PC_PROTO_MSG_MAX);
	if (!s->rxbuf) {
		server_free(s);
		return -ENOMEM;
	}
	s->listen_fd = listen_fd_from_systemd();
	if (s->listen_fd == -ENOENT) {
		s->listen_fd = listen_fd_bind(path, mode, group, have_group);
		s->listen_owned = s->listen_fd >= 0;
		s->path = strdup(path);
	} else if (s->listen_fd >= 0) {
		log_info("using the socket passed by systemd");
	}
	r = s->listen_fd < 0 ? s->listen_fd : server_setup_fds(s);
	if (r < 0) {
		server_free(s);
		return r;
	}
	*out = s;
	return 0;
}

static void client_free(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	pc_outmsg_free(&c->out);
	free(c);
}

static void server_drop_client(struct pc_server *s, size_t i, const char *why)
{
	struct client *c = s->clients[i];

	if (why)
		log_debug("client pid %d uid %u: %s", (int)c->peer.pid, c->peer.uid, why);
	/* The last watcher gone: stop reading the group. */
	if (c->watcher && --s->n_watchers == 0 && s->nflog_fd >= 0) {
		close(s->nflog_fd);
		s->nflog_fd = -1;
	}
	client_free(c);
	s->clients[i] = s->clients[--s->n_clients];
	s->clients[s->n_clients] = NULL;
}

static size_t server_find(const struct pc_server *s, uint64_t id)
{
	size_t i;

	for (i = 0; i < s->n_clients && s->clients[i]->id != id; i++)
		;
	return i;
}

void server_free(struct pc_server *s)
{
	if (!s)
		return;
	while (s->n_clients > 0)
		server_drop_client(s, s->n_clients - 1, NULL);
	if (s->listen_owned && s->path)
		unlink(s->path);
	for (int *fd = &s->listen_fd; fd <= &s->timer_fd; fd++)
		if (*fd >= 0)
			close(*fd);
	if (s->nflog_fd >= 0)
		close(s->nflog_fd);
	free(s->path);
	free(s->rxbuf);
	free(s);
}

int server_watch(struct pc_server *s, int fd, void (*fn)(void *userdata), void *userdata)
{
	int r;

	if (s->watch_fn)
		return -EBUSY;
	r = epoll_add(s->epoll_fd, fd, EPOLLIN, TAG_WATCH);
	if (r < 0)
		return r;
	s->watch_fd = fd;
	s->watch_fn = fn;
	s->watch_data = userdata;
	return 0;
}

size_t server_n_clients(const struct pc_server *s)
{
	return s->n_clients;
}

/*
 * Send as much of c's response as the socket takes now. Returns 1 when it
 * is all out, 0 when the socket is full (wait for EPOLLOUT), -errno when
 * the client is gone.
 */
static int client_flush(struct client *c)
{
	struct iovec iov[2];

	while (pc_outmsg_frame(&c->out, iov)) {
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};

		if (sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		pc_outmsg_advance(&c->out);
	}
	pc_outmsg_free(&c->out);
	return 1;
}

static int client_watch(struct pc_server *s, struct client *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.u64 = c->id};

	return epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0 ? -errno : 0;
}

/* Root and the socket group get time for a slow terminal; anyone else who
 * holds a slot without using it is closed quickly. */
static int client_timeout(const struct client *c)
{
	return c->peer.may_write ? PC_SERVER_TIMEOUT_MS : PC_SERVER_TIMEOUT_UNPRIV_MS;
}

static void client_idle(struct client *c)
{
	c->since = pc_now_ms();
	c->deadline = c->watcher ? UINT64_MAX : c->since + (uint64_t)client_timeout(c);
}

/* Queue a response and start sending it; the client stops being read
 * until it has taken the whole response, so one client holds one response. */
static int client_respond(struct pc_server *s, struct client *c, const struct pc_reply *reply)
{
	int r;

	pc_outmsg_free(&c->out);
	r = pc_outmsg_response(&c->out, reply->status, reply->message, reply->data);
	/* jansson refuses text that is not UTF-8: the client still gets an
	 * answer, with the command's failure status if it had one. */
	if (r < 0) {
		log_warning("reply to pid %d could not be encoded: not UTF-8, or out of memory",
			    (int)c->peer.pid);
		r = pc_outmsg_response(
		    &c->out, reply->status == PC_STATUS_OK ? PC_STATUS_FAILURE : reply->status,
		    "portctld could not encode its reply: text that is not UTF-8, or out of memory",
		    NULL);
	}
	if (r < 0)
		return r;
	c->deadline = pc_now_ms() + (uint64_t)client_timeout(c);
	r = client_flush(c);
	if (r < 0)
		return r;
	if (r == 0) {
		c->sending = true;
		return client_watch(s, c, EPOLLOUT);
	}
	client_idle(c);
	return c->close_after ? -ECONNRESET : 0;
}

static void reply_done(struct pc_reply *reply)
{
	free(reply->message);
	json_decref(reply->data);
	*reply = (struct pc_reply){0};
}

/* Tell a client why it is refused, best effort, without waiting. */
static void refuse_fd(int fd, int status, const char *message)
{
	struct pc_outmsg out;
	struct iovec iov[2];

	if (pc_outmsg_response(&out, status, message, NULL) < 0)
		return;
	if (pc_outmsg_frame(&out, iov)) {
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};

		(void)!sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	pc_outmsg_free(&out);
}

static bool server_flood(struct pc_server *s, enum flood_kind k, uid_t uid)
{
	return log_flood_note(&s->floods[k], uid, pc_now_ms());
}

/* Which connection goes first when one must: one that never asked
 * anything, then one between requests, then one still being answered;
 * the oldest first within each. */
enum { RANK_NEW, RANK_BETWEEN, RANK_SENDING };

static int client_rank(const struct client *c)
{
	return c->sending ? RANK_SENDING : c->answered ? RANK_BETWEEN : RANK_NEW;
}

/* The connection of uid (of that class) to close first, up to max_rank;
 * -1 when there is none. */
static ssize_t server_victim_of(const struct pc_server *s, uid_t uid, bool privileged, int max_rank)
{
	ssize_t best = -1;

	for (size_t i = 0; i < s->n_clients; i++) {
		const struct client *c = s->clients[i], *b;

		if (c->peer.uid != uid || c->peer.may_write != privileged ||
		    client_rank(c) > max_rank)
			continue;
		b = best < 0 ? NULL : s->clients[best];
		if (!b || client_rank(c) < client_rank(b) ||
		    (client_rank(c) == client_rank(b) && c->since < b->since))
			best = (ssize_t)i;
	}
	return best;
}

/* The uid holding most connections of a class, and how many; *n is 0 when
 * the class holds none. */
static uid_t server_top_uid(const struct pc_server *s, bool privileged, size_t *n)
{
	uid_t top = 0;

	*n = 0;
	for (size_t i = 0; i < s->n_clients; i++) {
		const struct client *c = s->clients[i];
		size_t k = 0;

		if (c->peer.may_write != privileged)
			continue;
		for (size_t j = 0; j < s->n_clients; j++)
			k += s->clients[j]->peer.uid == c->peer.uid &&
			     s->clients[j]->peer.may_write == privileged;
		if (k > *n) {
			*n = k;
			top = c->peer.uid;
		}
	}
	return top;
}

/*
 * Whether a newcomer gets a slot, and whose connection makes room for it
 * (*victim, -1: none). Unprivileged peers share all but PC_SERVER_RESERVED
 * slots, at most PC_SERVER_MAX_PER_UID each; root and the socket group may
 * take any slot, and when all are taken the uid holding most connections
 * gives one up. Returns 0, -EUSERS (the uid's own limit) or -EBUSY (full).
 */
static int server_admit(const struct pc_server *s, const struct pc_peer *p, ssize_t *victim)
{
	size_t n_uid = 0, n_unpriv = 0, n_top;
	uid_t top;

	*victim = -1;
	for (size_t i = 0; i < s->n_clients; i++) {
		n_unpriv += !s->clients[i]->peer.may_write;
		n_uid += s->clients[i]->peer.uid == p->uid;
	}
	if (p->may_write) {
		if (s->n_clients < PC_SERVER_MAX_CLIENTS)
			return 0;
		if (n_unpriv > 0) {
			top = server_top_uid(s, false, &n_top);
			*victim = server_victim_of(s, top, false, RANK_SENDING);
		} else {
			top = server_top_uid(s, true, &n_top);
			*victim = server_victim_of(s, top, true, RANK_BETWEEN);
		}
		return *victim >= 0 ? 0 : -EBUSY;
	}
	if (n_uid >= PC_SERVER_MAX_PER_UID) {
		/* A new connection of the same user replaces its oldest idle one:
		 * a stuck client of a real user does not lock the user out. */
		*victim = server_victim_of(s, p->uid, false, RANK_BETWEEN);
		return *victim >= 0 ? 0 : -EUSERS;
	}
	if (n_unpriv < PC_SERVER_MAX_CLIENTS - PC_SERVER_RESERVED &&
	    s->n_clients < PC_SERVER_MAX_CLIENTS)
		return 0;
	/* The shared slots are full: the user holding most gives one up, if
	 * that still leaves it more than the newcomer's user. */
	top = server_top_uid(s, false, &n_top);
	if (n_top > n_uid + 1)
		*victim = server_victim_of(s, top, false, RANK_BETWEEN);
	return *victim >= 0 ? 0 : -EBUSY;
}

static void server_evict(struct pc_server *s, size_t i)
{
	struct client *c = s->clients[i];

	if (server_flood(s, FLOOD_EVICTED, c->peer.uid))
		log_info("client pid %d uid %u closed to make room for a new connection",
			 (int)c->peer.pid, c->peer.uid);
	if (!c->sending)
		refuse_fd(c->fd, PC_STATUS_FAILURE,
			  "connection closed: portctld needed its slot for another client");
	server_drop_client(s, i, NULL);
}

static void server_refuse(struct pc_server *s, int fd, const struct pc_peer *p, int why)
{
	char msg[160];

	if (why == -EUSERS)
		snprintf(msg, sizeof(msg),
			 "portctld: uid %u already has %d connections open: close some and retry",
			 p->uid, PC_SERVER_MAX_PER_UID);
	else
		snprintf(msg, sizeof(msg),
			 "portctld has too many clients: try again in a few seconds");
	refuse_fd(fd, PC_STATUS_FAILURE, msg);
	close(fd);
	if (server_flood(s, FLOOD_REFUSED, p->uid))
		log_warning("client pid %d uid %u refused: %s", (int)p->pid, p->uid,
			    why == -EUSERS ? "too many connections of this user" : "no free slot");
}

static int server_accept_one(struct pc_server *s, int fd)
{
	struct client *c;
	struct pc_peer peer;
	gid_t group = 0;
	bool have_group = s->ops->write_group(s->userdata, &group);
	ssize_t victim;
	int r;

	r = peer_identify(fd, group, have_group, &peer);
	if (r < 0) {
		close(fd);
		return r;
	}
	r = server_admit(s, &peer, &victim);
	if (r < 0) {
		server_refuse(s, fd, &peer, r);
		return 0;
	}
	if (victim >= 0)
		server_evict(s, (size_t)victim);
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->id = s->next_id++;
	c->peer = peer;
	r = epoll_add(s->epoll_fd, fd, EPOLLIN, c->id);
	if (r < 0) {
		client_free(c);
		return r;
	}
	client_idle(c);
	s->clients[s->n_clients++] = c;
	return 0;
}

static void server_accept(struct pc_server *s)
{
	for (int n = 0; n < ACCEPT_BATCH; n++) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && server_flood(s, FLOOD_ACCEPT, LOG_FLOOD_NO_UID))
				log_warning_errno(-errno, "accept: %m");
			return;
		}
		server_accept_one(s, fd);
	}
}

/* portctl watch: c becomes a watcher, the group is read from now on; when
 * it cannot be, the reply says why instead. */
static void server_watcher_add(struct pc_server *s, struct client *c, struct pc_reply *reply)
{
	int fd = s->nflog_fd, r;

	if (fd < 0) {
		fd = watch_nflog_open(reply->stream_group);
		r = fd < 0 ? fd : epoll_add(s->epoll_fd, fd, EPOLLIN, TAG_NFLOG);
		if (r < 0) {
			if (fd >= 0)
				close(fd);
			json_decref(reply->data);
			reply->data = NULL;
			reply_set(reply, PC_STATUS_FAILURE,
				  "cannot read nflog group %u: %s%s", reply->stream_group,
				  strerror(-r),
				  r == -EBUSY ? " (another reader, such as ulogd, has it: set "
						"watch-group in portctl.conf to a free group)"
					      : "");
			return;
		}
		s->nflog_fd = fd;
	}
	c->watcher = true;
	s->n_watchers++;
}

/* One event to every watcher whose socket takes it now: a watcher still
 * sending an earlier one misses this one rather than queueing without
 * bound. */
static void server_broadcast(struct pc_server *s, const json_t *event)
{
	for (size_t i = s->n_clients; i-- > 0;) {
		struct client *c = s->clients[i];
		int r;

		if (!c->watcher || c->sending)
			continue;
		r = pc_outmsg_response(&c->out, PC_STATUS_OK, "", event);
		if (r >= 0) {
			r = client_flush(c);
			if (r == 0) {
				c->sending = true;
				c->deadline = pc_now_ms() + (uint64_t)client_timeout(c);
				r = client_watch(s, c, EPOLLOUT);
			}
		}
		if (r < 0)
			server_drop_client(s, i, "closed");
	}
}

/* A logged packet: to the watchers, at most WATCH_MAX_PER_SECOND a second;
 * those beyond are counted, and the count goes out as {"missed": N} ahead
 * of the next second's first event. */
static void server_event(json_t *event, void *userdata)
{
	struct pc_server *s = userdata;
	uint64_t second = pc_now_ms() / 1000;

	if (second != s->events_second) {
		s->events_second = second;
		s->events_sent = 0;
		if (s->events_missed) {
			json_t *m = json_pack("{s:I}", "missed", (json_int_t)s->events_missed);

			if (m)
				server_broadcast(s, m);
			json_decref(m);
			s->events_missed = 0;
		}
	}
	if (s->events_sent < WATCH_MAX_PER_SECOND) {
		s->events_sent++;
		server_broadcast(s, event);
	} else {
		s->events_missed++;
	}
	json_decref(event);
}

static void server_nflog(struct pc_server *s)
{
	int r = watch_nflog_read(s->nflog_fd, server_event, s);

	if (r < 0)
		log_warning_errno(r, "reading the watch nflog group: %m");
}

/* Read one request from c and answer it. Returns -errno to drop c. */
static int client_read(struct pc_server *s, struct client *c)
{
	struct pc_reply reply = {0};
	struct pc_request req;
	char reason[PC_PROTO_REASON_MAX];
	ssize_t n;
	int r;

	/* SOCK_SEQPACKET: a request arrives whole or not at all, so there is
	 * no half-read request to wait for; MSG_TRUNC gives an oversized one's
	 * real length, for the refusal. */
	n = recv(c->fd, s->rxbuf, PC_PROTO_MSG_MAX, MSG_TRUNC | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	c->answered = true;
	r = pc_request_decode(s->rxbuf, (size_t)n, &req, reason, sizeof(reason));
	if (r < 0) {
		/* A client that speaks garbage gets one answer and is closed:
		 * nothing it sends next can be trusted to be in step. */
		if (server_flood(s, FLOOD_BAD_REQUEST, c->peer.uid))
			log_info("client pid %d uid %u refused: %s", (int)c->peer.pid, c->peer.uid,
				 reason);
		c->close_after = true;
		reply_set(&reply, r == -EPROTONOSUPPORT ? PC_STATUS_FAILURE : PC_STATUS_USAGE, "%s",
			  reason);
	} else {
		s->ops->request(s->userdata, &c->peer, &req, &reply);
		/* A child answers it, on its copy of the connection: ours goes. */
		if (reply.worker && worker_start(c->fd, &c->peer, (uint64_t)client_timeout(c),
						 s->userdata, req.args, &reply) > 0) {
			pc_request_done(&req);
			reply_done(&reply);
			return -ECONNRESET;
		}
		pc_request_done(&req);
	}
	if (reply.stream)
		server_watcher_add(s, c, &reply);
	r = client_respond(s, c, &reply);
	reply_done(&reply);
	/* A compile, a counter dump or a big status leaves tens of MiB freed
	 * but scattered below live data: give them back when idle, or the
	 * daemon keeps its peak size for good. */
	s->trim_at = pc_now_ms() + PC_SERVER_TRIM_IDLE_MS;
	return r;
}

static int client_event(struct pc_server *s, struct client *c, uint32_t events)
{
	int r;

	if (c->sending) {
		if (events & (EPOLLERR | EPOLLHUP))
			return -ECONNRESET;
		r = client_flush(c);
		if (r <= 0)
			return r;
		c->sending = false;
		if (c->close_after)
			return -ECONNRESET;
		client_idle(c);
		return client_watch(s, c, EPOLLIN);
	}
	/* A watcher's connection carries no more requests: whatever it
	 * sends, or its hang-up, ends it. */
	if (c->watcher && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		return -ECONNRESET;
	if (events & EPOLLIN)
		return client_read(s, c);
	return events & (EPOLLERR | EPOLLHUP) ? -ECONNRESET : 0;
}

static void server_expire(struct pc_server *s)
{
	uint64_t now = pc_now_ms();

	for (size_t i = s->n_clients; i-- > 0;) {
		struct client *c = s->clients[i];

		if (c->deadline > now)
			continue;
		if (!c->sending)
			refuse_fd(c->fd, PC_STATUS_FAILURE,
				  s->quit ? "portctld is exiting" : "idle connection timed out");
		else if (server_flood(s, FLOOD_SLOW_READER, c->peer.uid))
			log_info("client pid %d uid %u dropped: did not read its response in %d ms",
				 (int)c->peer.pid, c->peer.uid, client_timeout(c));
		server_drop_client(s, i, "timed out");
	}
	for (size_t k = 0; k < _FLOOD_MAX; k++)
		log_flood_flush(&s->floods[k], now);
}

/* Arm the timer for the earliest client deadline (or disarm it). */
static void server_arm_timer(struct pc_server *s)
{
	struct itimerspec its = {0};
	uint64_t next = s->trim_at;

	for (size_t i = 0; i < s->n_clients; i++)
		if (s->clients[i]->deadline < next)
			next = s->clients[i]->deadline;
	for (size_t k = 0; k < _FLOOD_MAX; k++)
		if (log_flood_deadline(&s->floods[k]) < next)
			next = log_flood_deadline(&s->floods[k]);
	if (s->ops->deadline && s->ops->deadline(s->userdata) < next)
		next = s->ops->deadline(s->userdata);
	if (next != UINT64_MAX) {
		/* 0 would disarm; the deadline may already be past. */
		its.it_value.tv_sec = (time_t)(next / 1000);
		its.it_value.tv_nsec = (long)(next % 1000) * 1000000 + 1;
	}
	timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Stop accepting: a client still in the listening socket's queue is the
 * next daemon's (systemd keeps the socket across a restart). Those accepted
 * already are answered first, for PC_SERVER_DRAIN_MS at most; closing them
 * at once would fail a request sent just before the exit. */
static void server_quit(struct pc_server *s)
{
	if (s->quit)
		return;
	s->quit = true;
	s->quit_at = pc_now_ms() + PC_SERVER_DRAIN_MS;
	epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, s->listen_fd, NULL);
}

/* Quitting: no client deadline beyond quit_at, an answered one's included. */
static void server_drain(struct pc_server *s)
{
	for (size_t i = 0; i < s->n_clients; i++)
		if (s->clients[i]->deadline > s->quit_at)
			s->clients[i]->deadline = s->quit_at;
}

static void server_signal(struct pc_server *s)
{
	struct signalfd_siginfo si;

	while (read(s->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			worker_reap();
		} else if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: reloading");
			s->ops->reload(s->userdata);
		} else {
			log_info("%s: exiting, the rules stay in the kernel",
				 si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			server_quit(s);
		}
	}
}

static void server_dispatch(struct pc_server *s, const struct epoll_event *ev)
{
	uint64_t tag = ev->data.u64;
	uint64_t ticks;

	if (tag == TAG_LISTEN) {
		/* Already in this batch when SIGTERM came. */
		if (!s->quit)
			server_accept(s);
	} else if (tag == TAG_SIGNAL) {
		server_signal(s);
	} else if (tag == TAG_NFLOG) {
		if (s->nflog_fd >= 0)
			server_nflog(s);
	} else if (tag == TAG_WATCH) {
		s->watch_fn(s->watch_data);
		/* A drift check dumps the table (100,000 set elements: ~50 MiB). */
		s->trim_at = pc_now_ms() + PC_SERVER_TRIM_IDLE_MS;
	} else if (tag == TAG_TIMER) {
		(void)!read(s->timer_fd, &ticks, sizeof(ticks));
		if (pc_now_ms() >= s->trim_at) {
			memory_release();
			s->trim_at = UINT64_MAX;
		}
		server_expire(s);
		/* The copy's write or an expiry runs code the idle daemon
		 * need not keep mapped, like a request. */
		if (s->ops->deadline && s->ops->deadline(s->userdata) <= pc_now_ms())
			s->trim_at = pc_now_ms() + PC_SERVER_TRIM_IDLE_MS;
		if (s->ops->expire)
			s->ops->expire(s->userdata);
	} else {
		size_t i = server_find(s, tag);

		/* An earlier event of this batch may have dropped it. */
		if (i == s->n_clients)
			return;
		if (client_event(s, s->clients[i], ev->events) < 0)
			server_drop_client(s, i, "closed");
	}
}

/* In which pass of a batch an event is handled: root's and the group's
 * requests first, so that they never wait behind every other client that
 * happened to be ready at the same time; then the fixed fds (new
 * connections, signals, timers); then everyone else. */
static int event_pass(const struct pc_server *s, const struct epoll_event *ev)
{
	size_t i;

	if (ev->data.u64 < TAG_FIRST_CLIENT)
		return 1;
	i = server_find(s, ev->data.u64);
	return i < s->n_clients && s->clients[i]->peer.may_write ? 0 : 2;
}

int server_run(struct pc_server *s)
{
	struct epoll_event evs[64];
	int pass[ARRAY_SIZE(evs)];

	while (!s->quit || s->n_clients > 0) {
		int n;

		if (s->quit)
			server_drain(s);
		server_arm_timer(s);
		n = epoll_wait(s->epoll_fd, evs, ARRAY_SIZE(evs), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return log_error_errno(-errno, "epoll_wait: %m");
		}
		for (int i = 0; i < n; i++)
			pass[i] = event_pass(s, &evs[i]);
		for (int p = 0; p < 3; p++)
			for (int i = 0; i < n; i++)
				if (pass[i] == p)
					server_dispatch(s, &evs[i]);
	}
	return 0;
}
