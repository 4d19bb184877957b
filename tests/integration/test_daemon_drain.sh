#!/bin/sh
# SIGTERM with clients connected (a restart by an upgrade, fail2ban banning
# meanwhile): a client the daemon accepted before the signal and whose
# request comes after it still gets its answer; one that never sends holds
# the exit up for PC_SERVER_DRAIN_MS at most. Under systemd, clients not
# yet accepted wait in the socket's queue for the next daemon
# (tests/packaging/deb-lifecycle.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

# client.py SOCKET: connects, says "connected", and sends a status request
# once a line comes on stdin (none: never); prints what came back.
cat >"$PC_TMP/client.py" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
print("connected", flush=True)
if not sys.stdin.readline():
    s.recv(1 << 16)
    sys.exit(0)
try:
    s.send(b"PCTL" + struct.pack(">BBH", 1, 1, 0) + b'{"cmd":"status"}')
    data = s.recv(1 << 20)
    print("answered" if data.startswith(b"PCTL") else "closed: %r" % data[:40], flush=True)
except OSError as e:
    print("error: %s" % e, flush=True)
PY

# start_client: the client in the background, on the fifo go; accepted once
# a later client has been answered (the daemon accepts in order).
start_client() {
	rm -f "$PC_TMP/go" && mkfifo "$PC_TMP/go"
	exec 3<>"$PC_TMP/go"
	python3 "$PC_TMP/client.py" "$PCD_SOCK" <"$PC_TMP/go" >"$PC_TMP/client.out" 2>&1 &
	CLIENT=$!
	PC_PIDS="$PC_PIDS $CLIENT"
	pc_until 10 grep -q connected "$PC_TMP/client.out" || pc_fail "the client did not connect"
	"$PCD_PORTCTL" -s "$PCD_SOCK" status >/dev/null || pc_fail "portctl status"
}
sigterm() {
	kill -TERM "$PCD_PID"
	pc_until 10 grep -q "SIGTERM: exiting" "$PC_TMP/portctld.log" || pc_fail "no SIGTERM in the log"
}
exited() { ! kill -0 "$PCD_PID" 2>/dev/null; }

pcd_log "a request sent after SIGTERM on a connection accepted before it is answered"
pcd_start
start_client
sigterm
echo go >&3
pc_until 10 grep -q "answered\|closed\|error" "$PC_TMP/client.out" || pc_fail "the client got nothing"
grep -q answered "$PC_TMP/client.out" || pc_fail "the client: $(tr "\n" " " <"$PC_TMP/client.out")"
pc_log "ok: $(tail -1 "$PC_TMP/client.out")"
pc_until 10 exited || pc_fail "portctld did not exit after its last client"
wait "$PCD_PID"
PCD_PID=""
exec 3>&-

pcd_log "a client that never sends does not keep portctld from exiting"
: >"$PC_TMP/portctld.log"
pcd_start
start_client
sigterm
pc_until 10 exited || pc_fail "portctld still runs with an idle client"
wait "$PCD_PID"
PCD_PID=""
exec 3>&-
pc_log "ok: exited with an idle client connected"
exit 0
