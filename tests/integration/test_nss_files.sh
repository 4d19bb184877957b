#!/bin/sh
# portctld serving as a user of /etc/passwd with a socket group of
# /etc/group (as the package installs them), where nsswitch.conf reads the
# files first, maps no NSS module: a name looked up beyond the files would
# load libnss_systemd and what it links for good, ~0.7 MiB of its idle
# memory of ~2.7 MiB. A numeric socket group still resolves.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
grep -Eq '^passwd:[[:space:]]+files([[:space:]]|$)' /etc/nsswitch.conf &&
	grep -Eq '^group:[[:space:]]+files([[:space:]]|$)' /etc/nsswitch.conf ||
	pc_skip "nsswitch.conf does not read the files first"
getent passwd nobody | grep -q '^nobody:' && grep -q '^nobody:' /etc/passwd ||
	pc_skip "no user nobody in /etc/passwd"
PC_PORTCTLD_REAL=$PC_PORTCTLD
PC_PORTCTLD="$PC_TMP/portctld-user"
printf '#!/bin/sh\nexec %s "$@" --user nobody\n' "$PC_PORTCTLD_REAL" >"$PC_PORTCTLD"
chmod +x "$PC_PORTCTLD"

pcd_log "user and group from the files: no NSS module mapped"
pcd_start
grep -q "libnss_" "/proc/$PCD_PID/maps" &&
	pc_fail "NSS modules loaded: $(grep -o 'libnss_[^ ]*' "/proc/$PCD_PID/maps" | sort -u)"
[ "$(stat -c %G "$PCD_SOCK")" = "$PCD_GROUP" ] || pc_fail "the socket's group is not $PCD_GROUP"
[ "$(awk '/^Uid:/ { print $2 }' "/proc/$PCD_PID/status")" = "$(id -u nobody)" ] ||
	pc_fail "not serving as nobody"
pcd_as_member allow 443/tcp >/dev/null || pc_fail "a member of the group cannot change rules"
pcd_stop

pcd_log "a numeric group still resolves"
pc_config_write portctl.conf "socket-group = $PCD_GID" "socket-mode = 0666"
pcd_start
[ "$(stat -c %g "$PCD_SOCK")" = "$PCD_GID" ] || pc_fail "the socket's gid is not $PCD_GID"
pcd_stop
exit 0
