#!/bin/sh
# The systemd units as installed: systemd-analyze verify must find nothing
# to complain about (unknown keys, bad values, missing executables), and
# the service's exposure score must stay at or below 2.3. Skips (77)
# without systemd-analyze.
set -u
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"

command -v systemd-analyze >/dev/null || { echo "SKIP: needs systemd-analyze"; exit 77; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# ExecStart must name an executable: the built daemon, by absolute path.
sed "s|@sbindir[@]/portctld|$top_builddir/src/daemon/portctld|" \
	"$top_srcdir/packaging/systemd/portctld.service.in" >"$tmp/portctld.service"
cp "$top_srcdir/packaging/systemd/portctld.socket" "$tmp/"
[ -x "$top_builddir/src/daemon/portctld" ] || { echo "FAIL: portctld not built"; exit 1; }
# The metrics service and its timer (which names the service it starts).
sed "s|@bindir[@]/portctl|$top_builddir/portctl|" \
	"$top_srcdir/packaging/systemd/portctl-metrics.service.in" >"$tmp/portctl-metrics.service"
cp "$top_srcdir/packaging/systemd/portctl-metrics.timer" "$tmp/"

out=$(cd "$tmp" && systemd-analyze verify --man=no ./portctld.socket ./portctld.service \
	./portctl-metrics.service ./portctl-metrics.timer 2>&1)
rc=$?
# Complaints about this machine's other units are not ours.
ours=$(printf '%s\n' "$out" | grep -i 'portctl' || true)
if [ $rc -ne 0 ] || [ -n "$ours" ]; then
	echo "FAIL: systemd-analyze verify (exit $rc):"
	printf '%s\n' "$out"
	exit 1
fi
echo "ok: systemd-analyze verify"

# --offline appeared in systemd 252; older versions cannot score a file.
if systemd-analyze security --help 2>&1 | grep -q -- '--offline'; then
	score=$(cd "$tmp" && systemd-analyze security --offline=true ./portctld.service 2>&1 |
		sed -n 's/.*Overall exposure level for portctld.service: \([0-9.]*\).*/\1/p')
	[ -n "$score" ] || { echo "FAIL: no exposure score"; exit 1; }
	echo "exposure score: $score"
	# 1.8 before privilege separation: the score counts CAP_SETUID,
	# CAP_SETGID, CAP_SETPCAP (the drop to user portctl) and CAP_CHOWN (the
	# state directory's hand-over) in the bounding set, not seeing that the
	# serving process has none of them, nor uid 0, after start-up.
	awk -v s="$score" 'BEGIN { exit !(s <= 2.3) }' || { echo "FAIL: exposure $score > 2.3"; exit 1; }
fi
exit 0
