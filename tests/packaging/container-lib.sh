# A booted Debian 12 container for the package's lifecycle scripts (sourced
# after tests/integration/lib.sh): systemd as PID 1 under systemd-nspawn,
# in a network namespace that lib.sh created, so peers in other namespaces
# send it real traffic and nothing touches this machine's firewall. The
# test drives it from outside: ct CMD runs CMD inside (all its namespaces
# and its root), and the host side probes, listens and runs nft monitor
# in the container's network namespace.
#
#   ct_prepare PKG...   copy the cached minbase, apt-get install PKG... in it
#   ct_boot NS          boot it in lib.sh's namespace NS; wait for systemd
#   ct CMD...           run CMD in the container
#   ct_poweroff         shut it down, wait for nspawn to exit
#
# The image is a copy of /var/tmp/fresh/base (tests/packaging/deb-chroot.sh
# makes it with debootstrap).

CT_BASE=/var/tmp/fresh/base
CT_ROOT=""
CT_NSPAWN=""
CT_PID=""

ct_require() {
	command -v systemd-nspawn >/dev/null || pc_skip "needs systemd-nspawn (systemd-container)"
	[ -f "$CT_BASE/.ok" ] || pc_skip "no minbase image at $CT_BASE: run tests/packaging/deb-chroot.sh first"
}

ct_cleanup() {
	rc=$?
	if [ -n "$CT_NSPAWN" ] && kill -0 "$CT_NSPAWN" 2>/dev/null; then
		kill "$CT_NSPAWN" 2>/dev/null
		wait "$CT_NSPAWN" 2>/dev/null
	fi
	[ -n "$CT_ROOT" ] && rm -rf "$CT_ROOT"
	(exit $rc)
	pc_cleanup
}

# ct_chroot CMD: a shell command in the image before it boots.
ct_chroot() {
	unshare -m --propagation private sh -c '
		mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" &&
		chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			DEBIAN_FRONTEND=noninteractive sh -c "$2"' _ "$CT_ROOT" "$1"
}

ct_prepare() {
	CT_ROOT=$(mktemp -d /var/tmp/fresh/ct.XXXXXX)
	trap ct_cleanup EXIT
	cp -a "$CT_BASE/." "$CT_ROOT/"
	cp /etc/resolv.conf "$CT_ROOT/etc/resolv.conf" 2>/dev/null
	ct_chroot "apt-get update -qq && apt-get install -y -qq --no-install-recommends \
		systemd systemd-sysv dbus $*" >"$PC_TMP/ct-prepare.log" 2>&1 ||
		{ tail -20 "$PC_TMP/ct-prepare.log" >&2; pc_fail "apt-get install in the image"; }
	# No getty on a console nobody reads.
	ln -sf /dev/null "$CT_ROOT/etc/systemd/system/console-getty.service"
}

# The container's PID 1 as this machine sees it: systemd, PID 1 of its own
# PID namespace, in the network namespace it was given.
ct_find_init() {
	netns=$(stat -L -c %i "/run/netns/$(pc_ns "$1")")
	for st in /proc/[0-9]*/status; do
		p=${st#/proc/}
		p=${p%/status}
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] || continue
		[ "$(stat -L -c %i "/proc/$p/ns/net" 2>/dev/null)" = "$netns" ] || continue
		grep -q '^NSpid:.*[[:space:]]1$' "$st" 2>/dev/null || continue
		CT_PID=$p
		return 0
	done
	return 1
}

ct_running() {
	case "$(ct systemctl is-system-running 2>/dev/null)" in
	running | degraded) return 0 ;;
	esac
	return 1
}

ct_boot() {
	# The host's /run may be on disk, where nspawn refuses to keep its
	# state: a tmpfs in a mount namespace of its own, with the network
	# namespace bound where that tmpfs does not hide it. --keep-unit and
	# --register=no: no host systemd or D-Bus is needed. CAP_NET_ADMIN,
	# which --private-network would imply, for the container's own netns.
	: >"$PC_TMP/ct-netns"
	unshare -m --propagation private sh -c '
		mount --bind "$2" "$3" && mount -t tmpfs tmpfs /run &&
		exec systemd-nspawn -q -D "$1" --network-namespace-path="$3" \
			--capability=CAP_NET_ADMIN --register=no --keep-unit -b' \
		_ "$CT_ROOT" "/run/netns/$(pc_ns "$1")" \
		"$PC_TMP/ct-netns" >"$PC_TMP/ct-boot.log" 2>&1 &
	CT_NSPAWN=$!
	pc_until 60 ct_find_init "$1" || { cat "$PC_TMP/ct-boot.log" >&2; pc_fail "the container did not start"; }
	pc_until 120 ct_running || {
		ct systemctl --failed --no-pager >&2
		pc_fail "the container's systemd did not reach running"
	}
}

ct() {
	nsenter -t "$CT_PID" -m -u -i -n -p -r -w /usr/bin/env -i \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb DEBIAN_FRONTEND=noninteractive "$@"
}

ct_poweroff() {
	ct systemctl poweroff --no-block >/dev/null 2>&1
	pc_until 60 sh -c "! kill -0 $CT_NSPAWN 2>/dev/null" || pc_fail "the container did not power off"
	wait "$CT_NSPAWN" 2>/dev/null
	CT_NSPAWN=""
}
