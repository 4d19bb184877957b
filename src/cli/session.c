/* The admin's SSH session, sent with every rule change so that portctld can
 * refuse a change that would cut it (the lock-out guard), and --force. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define SSH_VAR "SSH_CONNECTION="
/* sudo may sit under su, a shell, tmux...: a few levels are enough. */
#define ANCESTORS_MAX 16
#define ENVIRON_MAX (256 * 1024)

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *close_paren;
	_cleanup_close_ int fd = -1;
	ssize_t n;
	int ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip to the last ')'. */
	close_paren = strrchr(buf, ')');
	if (!close_paren || sscanf(close_paren + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/* SSH_CONNECTION from /proc/PID/environ, or NULL (not there, or not ours
 * to read). */
static char *environ_ssh(pid_t pid)
{
	char path[64];
	_cleanup_free_ char *buf = malloc(ENVIRON_MAX + 1);
	_cleanup_close_ int fd = -1;
	size_t len = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = buf ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return NULL;
	while (len < ENVIRON_MAX && (n = read(fd, buf + len, ENVIRON_MAX - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
		if (!strncmp(buf + i, SSH_VAR, strlen(SSH_VAR)))
			return strdup(buf + i + strlen(SSH_VAR));
	return NULL;
}

char *cli_ssh_connection(void)
{
	const char *own = getenv("SSH_CONNECTION");
	pid_t pid = getppid();

	if (own)
		return *own ? strdup(own) : NULL;
	/* sudo drops SSH_CONNECTION from the environment; the shell it was
	 * started from still has it. Only then look up the ancestors. */
	if (!getenv("SUDO_UID"))
		return NULL;
	for (int i = 0; i < ANCESTORS_MAX && pid > 1; i++, pid = parent_of(pid)) {
		char *v = environ_ssh(pid);

		if (v)
			return v;
	}
	return NULL;
}

int cli_guard_args(json_t *args, bool force)
{
	_cleanup_free_ char *ssh = cli_ssh_connection();

	if (force && json_object_set_new(args, "force", json_true()) < 0)
		return -ENOMEM;
	if (ssh && json_object_set_new(args, "ssh_connection", json_string(ssh)) < 0)
		return -ENOMEM;
	return 0;
}
