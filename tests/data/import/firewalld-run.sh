#!/bin/sh
# firewalld-run.sh ROOT CONFIG WORKDIR: run the real firewalld (ROOT: the
# extracted packages, see generate.sh) on the configuration CONFIG in the
# current network namespace, as test_import_traffic.sh's original
# firewall: its own D-Bus daemon (socket in WORKDIR), /run and /var/log on
# tmpfs in a mount namespace of its own, so that nothing outside the
# namespace is touched. Prints "ready" once firewalld answers on the bus;
# runs until killed.
set -eu
P=$(realpath "$1")
cfg=$2
work=$3
export PYTHONPATH="$P/usr/lib/python3/dist-packages"
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$work/bus"
cat >"$work/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>$DBUS_SYSTEM_BUS_ADDRESS</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
CONF
dbus-daemon --config-file="$work/bus.conf" --nofork --nopidfile >/dev/null 2>&1 &
bus=$!
fw=""
trap 'kill $fw $bus 2>/dev/null; wait 2>/dev/null' EXIT
trap 'exit 0' TERM INT
unshare -m sh -c 'mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/log &&
	exec /usr/bin/python3 "$1/usr/sbin/firewalld" --nofork --nopid \
		--system-config "$2" --default-config "$1/usr/lib/firewalld"' \
	sh "$P" "$cfg" >"$work/firewalld.log" 2>&1 &
fw=$!
# Poll the condition (firewalld's own answer), at most 30 s.
n=0
until [ "$(/usr/bin/python3 "$P/usr/bin/firewall-cmd" --state 2>/dev/null)" = running ]; do
	n=$((n + 1))
	[ $n -lt 300 ] || { echo "firewalld did not start: $(tail -3 "$work/firewalld.log")"; exit 1; }
	kill -0 $fw 2>/dev/null || { echo "firewalld exited: $(tail -3 "$work/firewalld.log")"; exit 1; }
	sleep 0.1
done
echo ready
wait $fw
