/* Dropping privileges after start-up: portctld keeps CAP_NET_ADMIN (to
 * change nftables) and nothing else, and can never regain anything. */
#include "config.h"

#include <cap-ng.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/prctl.h>

#include "log.h"
#include "serve.h"

int privs_drop(void)
{
	bool setpcap;

	/* Unknown: try the bounding set too, as libcap-ng would. */
	setpcap = capng_get_caps_process() < 0 ||
		  capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_ADMIN) < 0)
		return log_error_errno(-EINVAL, "cannot keep CAP_NET_ADMIN");
	/* Only CAP_SETPCAP may shrink the bounding set. Under systemd,
	 * CapabilityBoundingSet= already did, without leaving us that one
	 * (libcap-ng would log a failure); and with no_new_privs nothing can
	 * be gained through the bounding set anyway. */
	if (capng_apply(setpcap ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS) < 0)
		return log_error_errno(-EPERM, "cannot drop capabilities (libcap-ng)");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return log_error_errno(-errno, "prctl(PR_SET_NO_NEW_PRIVS): %m");
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
