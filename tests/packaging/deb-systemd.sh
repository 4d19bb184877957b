#!/bin/bash
# Boot the installed .deb under a real systemd: a Debian 12 container
# (systemd-nspawn, systemd as its PID 1) with a private network namespace,
# so nothing here touches this machine's firewall. Checks what only a
# running systemd shows: the units enabled at boot, Type=notify reaching
# READY, socket activation, ExecReload, a restart keeping the rules,
# CAP_NET_ADMIN alone, state saved after a reload, idle memory given
# back, and the exposure score of the hardened unit.
#   usage: tests/packaging/deb-systemd.sh PATH/portctl_VERSION_ARCH.deb
# Needs root and systemd-nspawn (Debian's systemd-container); the image is
# a copy of the cached minbase at /var/tmp/fresh/base (see deb-chroot.sh).
set -u
DEB=$(readlink -f "${1:?usage: $0 portctl_*.deb}")
BASE=/var/tmp/fresh/base
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v systemd-nspawn >/dev/null || { echo "SKIP: needs systemd-nspawn (systemd-container)"; exit 77; }
[ -f "$BASE/.ok" ] || { echo "SKIP: no minbase image at $BASE: run tests/packaging/deb-chroot.sh first"; exit 77; }
ROOT=$(mktemp -d /var/tmp/fresh/boot.XXXX)
trap 'rm -rf "$ROOT"' EXIT
cp -a "$BASE/." "$ROOT/"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null
cp "$DEB" "$ROOT/root/"

# Install as an administrator would, in the image (no systemd runs yet).
unshare -m --propagation private bash -c '
	mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" &&
	chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
		bash -c "cd /root && apt-get update -qq &&
			apt-get install -y -qq systemd systemd-sysv dbus nftables ./portctl_*.deb"' \
	_ "$ROOT" >"$ROOT/install.log" 2>&1 || { cat "$ROOT/install.log"; echo "FAIL: install"; exit 1; }

cat >"$ROOT/root/probe.sh" <<'IN'
#!/bin/bash
# Runs once the container reached multi-user.target; results to /root/results.
exec >/root/results 2>&1
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }
prop() { systemctl show -p "$2" --value "$1"; }

check '[ "$(systemctl is-enabled portctld.service)" = enabled ]' "portctld.service enabled"
check '[ "$(systemctl is-enabled portctld.socket)" = enabled ]' "portctld.socket enabled"
check '[ "$(prop portctld.service ActiveState)" = active ]' "portctld.service active after boot"
check '[ "$(prop portctld.service StatusText)" = serving ]' "Type=notify: READY=1 and STATUS=serving"
check 'prop portctld.service Before | grep -qw network-pre.target' "ordered before network-pre.target"
check 'nft list table inet portctl | grep -q "tcp . 22 "' "the shipped default (allow ssh) is in the kernel"
check 'portctl allow 443/tcp >/dev/null' "portctl allow 443/tcp"
check 'nft list table inet portctl | grep -q "tcp . 443 "' "443 in the kernel table"
pid=$(prop portctld.service MainPID)
check 'grep -q "^CapEff:[[:space:]]*0000000000001000$" /proc/$pid/status' "the daemon keeps CAP_NET_ADMIN alone"
check 'grep -q "^Uid:[[:space:]]*$(id -u portctl)[[:space:]]" /proc/$pid/status' "the daemon serves as user portctl"
check 'pgrep -P $pid -x portctld-priv >/dev/null' "the privileged writer runs beside it"
check 'grep -q "^NoNewPrivs:[[:space:]]*1$" /proc/$pid/status' "no new privileges"
# Idle (500 ms after its last request) the daemon gives back the clean
# pages of its libraries and code; telling them from the pages it wrote
# needs its page map, which it opens before dropping root.
sleep 1.5
rss_file=$(sed -n 's/^RssFile:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$pid/status)
check '[ "${rss_file:-99999}" -lt 1536 ]' "idle, the hardened daemon gave back its clean file pages (RssFile ${rss_file:-?} kB)"
check '! journalctl -u portctld.service --no-pager | grep -qi "fail"' "start-up logged no failure"
check 'systemctl reload portctld.service' "systemctl reload (ExecReload: SIGHUP)"
sleep 0.5
check 'journalctl -u portctld.service --no-pager | grep -q "SIGHUP: reloading"' "the reload reached the daemon"
check '[ "$(prop portctld.service MainPID)" = "$pid" ]' "reload kept the process"
# A root service's StateDirectory= is handed to root at every command
# systemd runs for it, ExecReload= included: the daemon (user portctl)
# must still save its state after a reload.
check 'portctl allow 444/tcp >/dev/null' "portctl allow 444/tcp after the reload"
sleep 0.5
check 'grep -q "^allow 444/tcp" /var/lib/portctl/last-good/etc/rules.d/90-portctl.rules' \
	"after a reload the daemon still saves its state (the last good copy holds 444/tcp)"
check 'portctl ban 198.51.100.7 >/dev/null' "a ban after the reload"
check '! journalctl -u portctld.service --no-pager | grep -q "cannot save"' "nothing it could not save"
check 'systemctl restart portctld.service' "systemctl restart"
check '[ "$(prop portctld.service ActiveState)" = active ]' "active after restart"
check 'nft list table inet portctl | grep -q "tcp . 443 "' "443 kept across the restart (persisted)"
check 'nft list table inet portctl | grep -q "198.51.100.7"' "the ban made after the reload kept across the restart"
check 'systemctl stop portctld.service' "systemctl stop"
check 'nft list table inet portctl | grep -q "tcp . 443 "' "the rules stay in the kernel when the daemon stops"
check '[ "$(prop portctld.socket ActiveState)" = active ]' "the socket stays listening"
check 'portctl status >/dev/null' "portctl status through the socket starts the daemon"
check '[ "$(prop portctld.service ActiveState)" = active ]' "socket activation started portctld.service"
score=$(systemd-analyze security portctld.service --no-pager 2>/dev/null |
	sed -n 's/.*Overall exposure level for portctld.service: \([0-9.]*\).*/\1/p')
echo "exposure: systemd-analyze security portctld.service: ${score:-?}"
# The bound of test_units.sh (bba2cc0): the bounding set holds what the
# start needs before the drop, which systemd-analyze counts.
check 'awk -v s="$score" "BEGIN { exit !(s != \"\" && s <= 2.3) }"' "exposure score ${score:-?} <= 2.3"
journalctl -u portctld.service --no-pager >/root/journal 2>&1
echo "fails: $fails"
IN
chmod +x "$ROOT/root/probe.sh"
cat >"$ROOT/etc/systemd/system/portctl-probe.service" <<'IN'
[Unit]
Description=portctl packaging probe
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/root/probe.sh
ExecStartPost=/bin/systemctl poweroff --no-block

[Install]
WantedBy=multi-user.target
IN
ln -sf /etc/systemd/system/portctl-probe.service \
	"$ROOT/etc/systemd/system/multi-user.target.wants/portctl-probe.service"

# The host's /run may be on disk, where nspawn refuses to keep its state:
# give it a tmpfs in a mount namespace of its own. --keep-unit and
# --register=no: no host systemd or D-Bus is needed.
timeout 300 unshare -m --propagation private bash -c '
	mount -t tmpfs tmpfs /run &&
	systemd-nspawn -q -D "$1" --private-network --register=no --keep-unit -b' _ "$ROOT" \
	>"$ROOT/boot.log" 2>&1
rc=$?
if [ ! -f "$ROOT/root/results" ]; then
	tail -40 "$ROOT/boot.log"
	echo "FAIL: the container did not run the probe (systemd-nspawn exit $rc)"
	exit 1
fi
cat "$ROOT/root/results"
grep -q "^fails: 0$" "$ROOT/root/results" || { cat "$ROOT/root/journal"; exit 1; }
