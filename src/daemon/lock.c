/* One daemon at a time: a second portctld must neither unlink the socket
 * the first one serves nor fight it over the table, so the lock comes first. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "lock.h"
#include "log.h"

/* Next to the socket, so tests that move the socket move the lock too, and
 * it does not depend on who bound the socket (systemd or us). */
static char *lock_path(const char *socket_path)
{
	char *p;

	return asprintf(&p, "%s.lock", socket_path) < 0 ? NULL : p;
}

static int lock_dir_create(const char *path)
{
	int r = pc_parent_dir_create(path, 0755);

	return r < 0 ? log_error_errno(r, "cannot create the directory of %s: %m", path) : 0;
}

/* The holder writes its pid just after taking the lock: a reader that comes
 * in between sees an empty file for a moment. 0 when it never shows. */
static pid_t lock_holder(int fd)
{
	char buf[24];

	for (int i = 0; i < 100; i++) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		char *end;
		long v;

		if (n > 0) {
			buf[n] = '\0';
			v = strtol(buf, &end, 10);
			if (end != buf && *end == '\n' && v > 0 && v <= INT_MAX)
				return (pid_t)v;
		}
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	return 0;
}

int daemon_lock_take(const char *socket_path)
{
	_cleanup_free_ char *path = lock_path(socket_path);
	_cleanup_close_ int fd = -1;
	struct stat st;
	char pid[24];
	pid_t holder;
	int n, r;

	if (!path)
		return -ENOMEM;
	r = lock_dir_create(path);
	if (r < 0)
		return r;
	/* O_NONBLOCK|O_NOFOLLOW: a FIFO or a symlink planted there must not
	 * hang or redirect us. */
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	if (fd < 0)
		return log_error_errno(-errno, "cannot open %s: %m", path);
	if (fstat(fd, &st) < 0)
		return log_error_errno(-errno, "cannot stat %s: %m", path);
	if (!S_ISREG(st.st_mode))
		return log_error_errno(-EINVAL, "%s is not a regular file", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return log_error_errno(-errno, "cannot lock %s: %m", path);
		holder = lock_holder(fd);
		if (holder > 0)
			log_error("portctld is already running (pid %d)", (int)holder);
		else
			log_error("portctld is already running (%s is locked)", path);
		return -EBUSY;
	}
	/* The file is never unlinked: a second daemon could lock the old
	 * inode while a third creates a new one. */
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_warning_errno(errno ? -errno : -EIO, "cannot write our pid into %s: %m", path);
	r = fd;
	fd = -1;
	return r;
}

/* Whether pid lives in our network namespace; when we cannot tell (it
 * exited, or lives in another PID namespace), assume it does. */
static bool netns_shared(pid_t pid)
{
	struct stat self, other;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat("/proc/self/ns/net", &self) < 0 || stat(path, &other) < 0)
		return true;
	return self.st_dev == other.st_dev && self.st_ino == other.st_ino;
}

int daemon_lock_check(const char *socket_path, pid_t *holder)
{
	_cleanup_free_ char *path = lock_path(socket_path);
	_cleanup_close_ int fd = -1;

	*holder = 0;
	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* Shared and let go at once: we only ask. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return -errno;
	*holder = lock_holder(fd);
	/* The lock is a file but the table belongs to a network namespace: a
	 * daemon in another one keeps another table. */
	if (*holder > 0 && !netns_shared(*holder))
		return 0;
	return -EBUSY;
}
