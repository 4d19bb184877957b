/* Dropping privileges after start-up: portctld becomes its own user (or,
 * failing that, stays uid 0) with CAP_NET_ADMIN alone, to change nftables,
 * and can never regain anything. */
#include "config.h"

#include <cap-ng.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "serve.h"

/* Unknown: try the bounding set too, as libcap-ng would. Only CAP_SETPCAP
 * may shrink it; under systemd, CapabilityBoundingSet= may already have,
 * without leaving us that one (libcap-ng would log a failure), and with
 * no_new_privs nothing can be gained through it anyway. */
static bool may_clear_bounding(void)
{
	return capng_get_caps_process() < 0 ||
	       capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
}

static int no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return log_error_errno(-errno, "prctl(PR_SET_NO_NEW_PRIVS): %m");
	return 0;
}

int privs_drop(void)
{
	bool setpcap = may_clear_bounding();

	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_ADMIN) < 0)
		return log_error_errno(-EINVAL, "cannot keep CAP_NET_ADMIN");
	if (capng_apply(setpcap ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS) < 0)
		return log_error_errno(-EPERM, "cannot drop capabilities (libcap-ng)");
	return no_new_privs();
}

int privs_drop_all(void)
{
	bool setpcap = may_clear_bounding();

	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_apply(setpcap ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS) < 0)
		return log_error_errno(-EPERM, "cannot drop capabilities (libcap-ng)");
	return no_new_privs();
}

static bool name_numeric(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return *s >= '0' && *s <= '9' && !*end && !errno;
}

int privs_user_lookup(const char *name, bool explicit, struct privs_user *u)
{
	struct passwd *pw;
	unsigned long v;

	*u = (struct privs_user){.name = name};
	if (geteuid() != 0) {
		if (explicit)
			log_notice("not started as root: --user %s is ignored", name);
		return 0;
	}
	errno = 0;
	pw = getpwnam(name);
	if (!pw && name_numeric(name, &v) && v < (uid_t)-1)
		pw = getpwuid((uid_t)v);
	if (!pw && explicit)
		return log_error_errno(-ESRCH, "user '%s' does not exist", name);
	if (!pw) {
		log_warning("user '%s' does not exist: running as root with CAP_NET_ADMIN only "
			    "(create it, or choose one with --user)",
			    name);
		return 0;
	}
	if (pw->pw_uid == 0)
		return 0;
	u->change = true;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

static int own_tree(int dfd, const struct privs_user *u, unsigned depth);

/* Give one entry (and what is under it) to the user, through a file
 * descriptor: a name swapped for a symbolic link meanwhile is not
 * followed, and a file with a second name (a hard link to a root file
 * would be one) is left alone. */
static int own_entry(int dfd, const char *name, const struct privs_user *u, unsigned depth)
{
	_cleanup_close_ int fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	int r = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return 0;
	if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int sub = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (sub < 0)
			return -errno;
		r = own_tree(sub, u, depth + 1);
	} else if (st.st_nlink > 1) {
		return log_warning_errno(0, "not taking over %s: it has %ju names", name,
					 (uintmax_t)st.st_nlink);
	}
	if (r >= 0 && (st.st_uid != u->uid || st.st_gid != u->gid) &&
	    fchownat(fd, "", u->uid, u->gid, AT_EMPTY_PATH) < 0)
		r = -errno;
	return r;
}

static int own_tree(int dfd, const struct privs_user *u, unsigned depth)
{
	struct dirent *e;
	DIR *d;
	int r = 0, fd;

	if (depth > 16)
		return -ELOOP;
	fd = dup(dfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while (r >= 0 && (e = readdir(d)))
		if (!streq(e->d_name, ".") && !streq(e->d_name, ".."))
			r = own_entry(dfd, e->d_name, u, depth);
	closedir(d);
	return r;
}

int privs_state_dir_own(const char *dir, const struct privs_user *u)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	if (!u->change)
		return 0;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return log_warning_errno(-errno, "cannot create %s: %m", dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return log_warning_errno(-errno, "cannot open %s: %m", dir);
	r = own_tree(fd, u, 0);
	if (r >= 0 && (st.st_uid != u->uid || st.st_gid != u->gid) &&
	    fchown(fd, u->uid, u->gid) < 0)
		r = -errno;
	if (r < 0)
		return log_warning_errno(r, "cannot give %s to user %s: %m; saving state may fail",
					 dir, u->name);
	return 0;
}

int privs_drop_to(const struct privs_user *u)
{
	bool setpcap;
	uint64_t caps;
	int r;

	if (!u->change)
		return privs_drop();
	setpcap = may_clear_bounding();
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_ADMIN) < 0)
		return log_error_errno(-EINVAL, "cannot keep CAP_NET_ADMIN");
	r = capng_change_id((int)u->uid, (int)u->gid,
			    CAPNG_DROP_SUPP_GRP | (setpcap ? CAPNG_CLEAR_BOUNDING : 0));
	if (r < 0)
		return log_error_errno(-EPERM, "cannot become user %s (libcap-ng step %d)", u->name,
				       -r);
	r = no_new_privs();
	if (r < 0)
		return r;
	/* Trust, but verify: no way back to root, CAP_NET_ADMIN alone. */
	if (setuid(0) == 0 || getuid() != u->uid || geteuid() != u->uid ||
	    privs_effective(&caps) < 0 || caps != (UINT64_C(1) << CAP_NET_ADMIN))
		return log_error_errno(-EPERM, "dropping privileges did not take");
	log_info("serving as user %s (uid %u) with CAP_NET_ADMIN only", u->name,
		 (unsigned)u->uid);
	return 0;
}

int privs_effective(uint64_t *caps)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	const char *p;
	int r;

	r = pc_read_file("/proc/self/status", 64 * 1024, &data, &len);
	if (r < 0)
		return r;
	p = strstr(data, "\nCapEff:");
	if (!p || sscanf(p + 8, "%" SCNx64, caps) != 1)
		return -EIO;
	return 0;
}
