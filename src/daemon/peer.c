/* Identifying a client: SO_PEERCRED gives uid, gid and pid; the process's
 * supplementary groups (/proc/PID/status) decide whether it may change rules. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "serve.h"

/* Find "Name:\t..." in a /proc status text; NULL when absent. */
static const char *status_field(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ':')
			return p + n + 1;
	return NULL;
}

static bool status_uid_matches(const char *text, uid_t uid)
{
	const char *p = status_field(text, "Uid");
	unsigned long real;

	return p && sscanf(p, "%lu", &real) == 1 && real == uid;
}

static bool status_has_group(const char *text, gid_t gid)
{
	const char *p = status_field(text, "Groups");
	char *end;

	if (!p)
		return false;
	while (*p && *p != '\n') {
		unsigned long g = strtoul(p, &end, 10);

		if (end == p) {
			p++;
			continue;
		}
		if (g == gid)
			return true;
		p = end;
	}
	return false;
}

bool peer_in_group(pid_t pid, uid_t uid, gid_t primary, gid_t gid)
{
	_cleanup_free_ char *text = NULL;
	char path[64];
	size_t len;

	if (primary == gid)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (pc_read_file(path, 64 * 1024, &text, &len) < 0)
		return false;
	/* The pid may have exited and been reused by someone else: the uid
	 * must still be the one the kernel gave us at connect time. */
	return status_uid_matches(text, uid) && status_has_group(text, gid);
}

/* The supplementary groups the peer had when it connected (SO_PEERGROUPS,
 * Linux 4.13): 1 member, 0 not, -errno unknown. Unlike /proc/PID, it needs
 * no pid, which a client outside the daemon's PID namespace has not (0). */
static int peer_groups_have(int fd, gid_t gid)
{
	_cleanup_free_ gid_t *groups = NULL;
	socklen_t len = 64 * sizeof(gid_t);

	for (int i = 0; i < 2; i++) {
		free(groups);
		groups = malloc(len ? len : 1);
		if (!groups)
			return -ENOMEM;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
			for (size_t k = 0; k < len / sizeof(gid_t); k++)
				if (groups[k] == gid)
					return 1;
			return 0;
		}
		/* ERANGE: len now says how much room the list takes. */
		if (errno != ERANGE)
			return -errno;
	}
	return -ERANGE;
}

int peer_identify(int fd, gid_t group, bool have_group, struct pc_peer *peer)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int r;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	*peer = (struct pc_peer){.pid = cred.pid, .uid = cred.uid, .gid = cred.gid};
	if (cred.uid == 0 || !have_group || cred.gid == group) {
		peer->may_write = cred.uid == 0 || (have_group && cred.gid == group);
		return 0;
	}
	r = peer_groups_have(fd, group);
	peer->may_write = r > 0 || (r < 0 && peer_in_group(cred.pid, cred.uid, cred.gid, group));
	return 0;
}
