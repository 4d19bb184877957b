/* Interfaces between the modules of portctld's serve mode: privileges,
 * peers, readiness notification, the socket server and the command table. */
#ifndef PORTCTL_DAEMON_SERVE_H
#define PORTCTL_DAEMON_SERVE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "portctl/config.h"
#include "portctl/proto.h"

/* privs.c: the user portctld serves as, looked up at start. */
struct privs_user {
	const char *name;
	bool change; /* false: stay uid 0 (user root, a missing default user, not root) */
	uid_t uid;
	gid_t gid;
};

/* Look name up (explicit: given with --user). A missing explicit user is
 * an error (-ESRCH); a missing default one is a warning, and the daemon
 * stays root with CAP_NET_ADMIN only. */
int privs_user_lookup(const char *name, bool explicit, struct privs_user *u);
/* As root, before the drop: the state directory (created if missing) and
 * everything under it become the user's. No-op when the uid stays. */
int privs_state_dir_own(const char *dir, const struct privs_user *u);
/* Become u with CAP_NET_ADMIN alone (libcap-ng's capng_change_id: no
 * supplementary groups, bounding set cleared), no_new_privs; or, when the
 * uid stays, keep CAP_NET_ADMIN only. Checked after the fact. */
int privs_drop_to(const struct privs_user *u);
/* Keep CAP_NET_ADMIN only, and forbid regaining anything. */
int privs_drop(void);
/* No capability at all (the privileged writer keeps only uid 0). */
int privs_drop_all(void);
/* The effective capability mask of this process, from /proc/self/status. */
int privs_effective(uint64_t *caps);

/* notify.c: one "READY=1"-style datagram to $NOTIFY_SOCKET; 0 when unset. */
int notify_send(const char *state);

/* peer.c: who is on the other end of a client socket. */
struct pc_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool may_write; /* root, or a member of the socket group */
};

int peer_identify(int fd, gid_t group, bool have_group, struct pc_peer *peer);
/* Whether process pid (with the given uid) lists gid among its groups. */
bool peer_in_group(pid_t pid, uid_t uid, gid_t primary, gid_t gid);

/* server.c: the listening socket and the epoll loop. At most MAX_CLIENTS
 * connections; RESERVED of them only root and the socket group may use, and
 * one unprivileged uid holds at most MAX_PER_UID. */
#define PC_SERVER_MAX_CLIENTS 128
#define PC_SERVER_RESERVED 32
#define PC_SERVER_MAX_PER_UID 16
/* Time to send a request or read a response: root and the group, others. */
#define PC_SERVER_TIMEOUT_MS 5000
#define PC_SERVER_TIMEOUT_UNPRIV_MS 2000
/* After SIGTERM: time the clients accepted before it keep to send their
 * request and take the answer (a restart must not fail a fail2ban ban). */
#define PC_SERVER_DRAIN_MS 1000

/* Freed heap and the code pages a request mapped go back (memory.h) once
 * no request or deadline's work came for this long:
 * trimming after every request would cost a burst of bans (fail2ban) a
 * madvise and the page faults to take the memory again, each time. */
#define PC_SERVER_TRIM_IDLE_MS 500

/* What a handler answers; the server owns and frees it after sending. */
struct pc_reply {
	int status; /* enum pc_status */
	char *message;
	json_t *data;
	/* watch: after this reply the connection stays open and gets one
	 * response per packet logged to nflog group stream_group. */
	bool stream;
	uint16_t stream_group;
	/* Answered in a child process (worker.c) that takes the connection
	 * over: there, worker(userdata, peer, args, reply) fills this reply. */
	int (*worker)(void *userdata, const struct pc_peer *peer, json_t *args,
		      struct pc_reply *reply);
};

int reply_set(struct pc_reply *reply, int status, const char *fmt, ...) _printf_(3, 4);

struct pc_server_ops {
	/* A decoded request from peer; fills reply. */
	void (*request)(void *userdata, const struct pc_peer *peer, const struct pc_request *req,
			struct pc_reply *reply);
	/* SIGHUP. */
	void (*reload)(void *userdata);
	/* Who may change rules, looked up per connection (reload may change it). */
	bool (*write_group)(void *userdata, gid_t *gid);
	/* The daemon's own next deadline (ms, CLOCK_MONOTONIC; UINT64_MAX:
	 * none) and what to do when it has passed; both optional. */
	uint64_t (*deadline)(void *userdata);
	void (*expire)(void *userdata);
};

struct pc_server;

/*
 * Bind path (creating its directory, mode 0755) or take the socket systemd
 * passed (LISTEN_FDS/LISTEN_PID). mode and group (if have_group) are set on
 * a socket we bind. Returns 0 or -errno.
 */
int server_new(const char *path, mode_t mode, gid_t group, bool have_group,
	       const struct pc_server_ops *ops, void *userdata, struct pc_server **out);
void server_free(struct pc_server *s);
/* Run until SIGTERM or SIGINT. Returns 0 or -errno. */
int server_run(struct pc_server *s);
size_t server_n_clients(const struct pc_server *s);
/* Call fn(userdata) whenever fd is readable (one such fd: the netlink event
 * socket of drift.c). fd stays the caller's. Returns 0, -EBUSY or -errno. */
int server_watch(struct pc_server *s, int fd, void (*fn)(void *userdata), void *userdata);

#endif
