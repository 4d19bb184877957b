/* Identifying a client: SO_PEERCRED gives uid, gid and pid; the process's
 * supplementary groups (/proc/PID/status) decide whether it may change rules. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
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

int peer_identify(int fd, gid_t group, bool have_group, struct pc_peer *peer)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	*peer = (struct pc_peer){.pid = cred.pid, .uid = cred.uid, .gid = cred.gid};
	peer->may_write = cred.uid == 0 ||
			  (have_group && peer_in_group(cred.pid, cred.uid, cred.gid, group));
	return 0;
}
