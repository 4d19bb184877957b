#!/bin/bash
# Install the .deb in a fresh Debian 12 chroot (never on this machine) and
# check what policy says: files, conffiles, group, units enabled; then
# remove (-r), purge (-P), and reinstall keeping an edited conffile.
#   usage: tests/packaging/deb-chroot.sh PATH/portctl_VERSION_ARCH.deb
# The chroot is a copy of the cached minbase at /var/tmp/fresh/base (made
# with debootstrap when missing, as /work/shared/tools/fresh-debian.sh does),
# entered with unshare -m + chroot; nothing starts a daemon there.
set -u
DEB=$(readlink -f "${1:?usage: $0 portctl_*.deb}")
BASE=/var/tmp/fresh/base
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for chroot"; exit 77; }
if [[ ! -f $BASE/.ok ]]; then
	command -v debootstrap >/dev/null || { echo "SKIP: needs debootstrap"; exit 77; }
	mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
	rm -rf "$BASE" && mkdir -p "$BASE"
	debootstrap --variant=minbase bookworm "$BASE" "$mirror" >/tmp/deb-chroot-debootstrap.log 2>&1 ||
		{ echo "FAIL: debootstrap (see /tmp/deb-chroot-debootstrap.log)"; exit 1; }
	touch "$BASE/.ok"
fi
ROOT=$(mktemp -d /var/tmp/fresh/deb.XXXX)
trap 'rm -rf "$ROOT"' EXIT
cp -a "$BASE/." "$ROOT/"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null
cp "$DEB" "$ROOT/root/"
# No maintainer script may start a service in the chroot.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod +x "$ROOT/usr/sbin/policy-rc.d"

cat >"$ROOT/root/check.sh" <<'IN'
set -u
export DEBIAN_FRONTEND=noninteractive
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }

cd /root
apt-get update -qq >/dev/null 2>&1
apt-get install -y -qq ./portctl_*.deb >/tmp/install.log 2>&1 || { cat /tmp/install.log; bad "apt-get install"; exit 1; }
ok "apt-get install ./$(ls portctl_*.deb)"
for f in /usr/bin/portctl /usr/sbin/portctld /etc/portctl/portctl.conf \
	/usr/share/portctl/zones.rules /usr/share/portctl/services.rules \
	/usr/share/portctl/defaults.rules \
	/lib/systemd/system/portctld.service /lib/systemd/system/portctld.socket \
	/usr/lib/sysusers.d/portctl.conf /usr/lib/tmpfiles.d/portctl.conf \
	/usr/share/man/man8/portctl.8.gz /usr/share/man/man8/portctld.8.gz \
	/usr/share/man/man5/portctl.rules.5.gz /usr/share/bash-completion/completions/portctl \
	/etc/fail2ban/action.d/portctl.conf; do
	check "[ -e $f ]" "installed $f"
done
check "[ -d /etc/portctl/rules.d ] && [ -z \"\$(ls -A /etc/portctl/rules.d)\" ]" "rules.d exists and is empty"
check "getent group portctl >/dev/null" "group portctl exists (systemd-sysusers)"
check "getent passwd portctl >/dev/null" "user portctl exists (systemd-sysusers)"
check "[ \"\$(stat -c '%a %U' /var/lib/portctl)\" = '750 portctl' ]" "/var/lib/portctl 0750 portctl's (systemd-tmpfiles)"
check "dpkg-query -W -f='\${Conffiles}' portctl | grep -q /etc/portctl/portctl.conf" "portctl.conf is a conffile"
check "[ -L /etc/systemd/system/sockets.target.wants/portctld.socket ]" "portctld.socket enabled"
check "[ -L /etc/systemd/system/sysinit.target.wants/portctld.service ]" "portctld.service enabled"
check "portctl check >/dev/null" "portctl check passes on the shipped configuration"
# The first boot must not cut SSH: the one shipped rule is defaults.rules' allow ssh.
check "grep -qx 'allow ssh.*' /usr/share/portctl/defaults.rules && portctl check | grep -q '^ok: 1 rule,'" \
	"shipped configuration: exactly one rule, allow ssh (defaults.rules)"
check "! dpkg-query -W -f='\${Conffiles}' portctl | grep -q defaults.rules" "defaults.rules is no conffile (/etc/portctl/defaults.rules overrides it)"
check "portctl --version | grep -q 'portctl '" "portctl --version"

# The admin's own rules and an edited conffile.
echo 'allow 22/tcp' >/etc/portctl/rules.d/10-admin.rules
echo 'log-level = debug' >>/etc/portctl/portctl.conf
mkdir -p /var/lib/portctl/last-good && touch /var/lib/portctl/last-good/x

dpkg -r portctl >/tmp/remove.log 2>&1 || bad "dpkg -r"
check "[ ! -e /usr/sbin/portctld ] && [ ! -e /usr/bin/portctl ]" "remove: programs gone"
check "grep -q 'log-level = debug' /etc/portctl/portctl.conf" "remove: conffile kept"
check "[ -e /etc/portctl/rules.d/10-admin.rules ]" "remove: admin rules kept"

apt-get install -y -qq ./portctl_*.deb >/tmp/install2.log 2>&1 || bad "reinstall"
check "grep -q 'log-level = debug' /etc/portctl/portctl.conf" "reinstall: edited conffile kept"
check "[ ! -e /etc/portctl/portctl.conf.dpkg-new ] && [ ! -e /etc/portctl/portctl.conf.dpkg-dist ]" "reinstall: no conffile prompt leftovers"

echo 'allow 8080/tcp' >/etc/portctl/rules.d/90-portctl.rules
dpkg -P portctl >/tmp/purge.log 2>&1 || { cat /tmp/purge.log; bad "dpkg -P"; }
check "[ ! -e /etc/portctl/rules.d/90-portctl.rules ]" "purge: 90-portctl.rules (portctld's) removed"
check "[ ! -e /etc/portctl/portctl.conf ]" "purge: conffile removed"
check "[ ! -e /var/lib/portctl ]" "purge: state removed"
check "[ ! -e /lib/systemd/system/portctld.service ]" "purge: units removed"
check "[ ! -e /etc/systemd/system/sockets.target.wants/portctld.socket ]" "purge: enablement links removed"
check "[ -e /etc/portctl/rules.d/10-admin.rules ]" "purge: admin rules (not conffiles) kept"
check "[ ! -e /etc/fail2ban/action.d/portctl.conf ]" "purge: fail2ban action removed"
echo "dpkg leftovers: $(dpkg -l portctl 2>/dev/null | tail -1 | cut -c1-2)"
exit $((fails > 0))
IN

unshare -m --propagation private bash -c '
	root=$1
	mount -t proc proc "$root/proc"; mount --rbind /sys "$root/sys"; mount --rbind /dev "$root/dev"
	mount -t tmpfs tmpfs "$root/run"; mount -t tmpfs tmpfs "$root/tmp"
	chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb \
		bash /root/check.sh' _ "$ROOT"
