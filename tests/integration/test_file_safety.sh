#!/bin/sh
# Files portctld reads are files it can trust: a FIFO, a directory named
# *.rules, a file or directory others can write, and bytes that are not
# UTF-8 are each a clear error naming the file, at start-up and at reload
# (refused, old rules kept, the daemon still answers); diagnostics sent to
# a user outside the socket group never quote what the daemon read; and a
# client cannot forge a line of the daemon's log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
command -v timeout >/dev/null || pc_skip "needs timeout"
pcd_setup
RULES="$PC_TMP/etc/rules.d"
P() {
	timeout 10 "$PCD_PORTCTL" -s "$PCD_SOCK" "$@"
}

pc_config_write 10-base.rules 'allow 443/tcp'
pcd_start
[ "$(pcd_nft_has 443)" = True ] || pc_fail "the base rules did not load"

# refused NAME TEXT...: reload exits 2 promptly, names the file with each
# TEXT; the old rules stay and status answers right after.
refused() {
	name=$1
	shift
	P reload >"$PC_TMP/out" 2>&1
	rc=$?
	[ $rc -eq 2 ] || pc_fail "$name: reload exited $rc, expected 2: $(cat "$PC_TMP/out")"
	grep -q "$name" "$PC_TMP/out" || pc_fail "$name not named: $(cat "$PC_TMP/out")"
	for text; do
		grep -qF -- "$text" "$PC_TMP/out" || pc_fail "$name: no '$text' in: $(cat "$PC_TMP/out")"
	done
	P status >/dev/null || pc_fail "$name: status failed after the refused reload"
	[ "$(pcd_nft_has 443)" = True ] || pc_fail "$name: the old rules are gone"
	[ "$(pcd_nft_has 444)" = False ] || pc_fail "$name: a refused rule reached the kernel"
}

# refused_at_start NAME TEXT: portctld started on it logs TEXT for the
# file, keeps the kernel's rules and answers.
refused_at_start() {
	pcd_stop
	: >"$PC_TMP/portctld.log"
	pcd_start
	grep -F -- "$1" "$PC_TMP/portctld.log" | grep -qF -- "$2" ||
		pc_fail "$1 not logged at start with '$2': $(cat "$PC_TMP/portctld.log")"
	grep -q "keeping the rules the kernel holds" "$PC_TMP/portctld.log" ||
		pc_fail "$1: rules not kept at start"
	[ "$(pcd_nft_has 443)" = True ] || pc_fail "$1: the old rules are gone at start"
	[ "$(pcd_nft_has 444)" = False ] || pc_fail "$1: a refused rule reached the kernel at start"
}

pcd_log "a symlink to a root-only file: refused, its content never reaches an outsider"
printf '%s\n' 'SECRETLINE root:$6$abcsecret:19000:0:99999:7:::' 'allow 444/tcp' >"$PC_TMP/secret"
chmod 600 "$PC_TMP/secret"
ln -s "$PC_TMP/secret" "$RULES/50-x.rules"
refused 50-x.rules "50-x.rules:1:1"
pcd_as_other diff >"$PC_TMP/out" 2>&1
rc=$?
[ $rc -eq 2 ] || pc_fail "diff by an outsider exited $rc, expected 2: $(cat "$PC_TMP/out")"
grep -q "50-x.rules:1:1: error: details hidden" "$PC_TMP/out" ||
	pc_fail "diff by an outsider does not name the place: $(cat "$PC_TMP/out")"
pcd_as_other --json diff >>"$PC_TMP/out" 2>&1
grep -E "SECRET|root:|abcsecret|19000" "$PC_TMP/out" && pc_fail "an outsider read the file"
# The group's members may change the rules; they see what is wrong.
pcd_as_member diff >"$PC_TMP/out" 2>&1
grep -q SECRETLINE "$PC_TMP/out" || pc_fail "a member was not shown the line: $(cat "$PC_TMP/out")"
refused_at_start 50-x.rules "50-x.rules:1:1"
rm "$RULES/50-x.rules"

pcd_log "a FIFO named *.rules: an error at once, no hang"
mkfifo "$RULES/60-fifo.rules"
P reload >"$PC_TMP/out" 2>&1
rc=$?
if [ $rc -eq 124 ]; then
	# Let the daemon out of its open() before failing.
	timeout 5 sh -c ": >'$RULES/60-fifo.rules'"
	pc_fail "reload hung on a FIFO"
fi
refused 60-fifo.rules "a FIFO, not a regular file"
refused_at_start 60-fifo.rules "a FIFO, not a regular file"
rm "$RULES/60-fifo.rules"
mkdir "$RULES/61-dir.rules"
refused 61-dir.rules "a directory, not a regular file"
rmdir "$RULES/61-dir.rules"

pcd_log "a rules file anyone can write"
pc_config_write 70-open.rules 'allow 444/tcp'
chmod 666 "$RULES/70-open.rules"
refused 70-open.rules "writable by every user (mode 0666)" "chmod go-w $RULES/70-open.rules"
refused_at_start 70-open.rules "writable by every user"
chmod 644 "$RULES/70-open.rules"
P reload >/dev/null || pc_fail "reload after chmod go-w"
[ "$(pcd_nft_has 444)" = True ] || pc_fail "the fixed file did not load"
rm "$RULES/70-open.rules"
P reload >/dev/null || pc_fail "reload without 70-open.rules"

pcd_log "rules.d owned by another user"
chown 65534 "$RULES"
refused rules.d "owned by uid 65534" "chown root $RULES"
refused_at_start rules.d "owned by uid 65534"
chown 0 "$RULES"

pcd_log "a Latin-1 byte in a comment: FILE:LINE:COL, exit 2, no dropped connection"
printf 'allow 22/tcp\nallow 444/tcp # caf\351\n' >"$RULES/80-latin.rules"
refused 80-latin.rules "80-latin.rules:2:20: error: invalid UTF-8 byte 0xe9 in a comment"
P diff >"$PC_TMP/out" 2>&1
rc=$?
[ $rc -eq 2 ] || pc_fail "diff of a Latin-1 file exited $rc: $(cat "$PC_TMP/out")"
printf 'allow 444/tcp comment "caf\351"\n' >"$RULES/80-latin.rules"
refused 80-latin.rules "80-latin.rules:1:27: error: invalid UTF-8 byte 0xe9 in a string"
pcd_as_other diff >"$PC_TMP/out" 2>&1
rc=$?
[ $rc -eq 2 ] || pc_fail "diff by an outsider of a Latin-1 file exited $rc: $(cat "$PC_TMP/out")"
refused_at_start 80-latin.rules "invalid UTF-8 byte 0xe9"
rm "$RULES/80-latin.rules"

pcd_log "an ordinary user checks his own files"
mkdir "$PC_TMP/user"
printf 'allow 8080/tcp\n' >"$PC_TMP/user/mine.rules"
chown -R 65534:65534 "$PC_TMP/user"
setpriv --reuid 65534 --regid 65534 --clear-groups "$PCD_PORTCTL" --config "$PC_TMP/etc" \
	--data-dir "$PC_TMP/share" check "$PC_TMP/user/mine.rules" >"$PC_TMP/out" 2>&1 ||
	pc_fail "check of one's own file: $(cat "$PC_TMP/out")"

pcd_log "a client cannot forge a log line; a reply that is not UTF-8 is still a reply"
cat >"$PC_TMP/client.py" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.send(b"PCTL\x01\x01\x00\x00" + json.dumps({"cmd": "status", sys.argv[2]: 1}).encode())
reply = s.recv(65536)
sys.exit(json.loads(reply[8:])["status"] if reply else 99)
PY
: >"$PC_TMP/portctld.log"
python3 "$PC_TMP/client.py" "$PCD_SOCK" "$(printf 'x\n<3>FORGED\033[2J')"
rc=$?
[ $rc -eq 2 ] || pc_fail "the forging client's request: $rc, expected 2 (refused)"
grep -q 'FORGED' "$PC_TMP/portctld.log" || pc_fail "the refusal was not logged"
grep -v '^portctld\[' "$PC_TMP/portctld.log" | grep . &&
	pc_fail "a line of the log was forged: $(cat "$PC_TMP/portctld.log")"
grep -qF 'x\n<3>FORGED\x1b[2J' "$PC_TMP/portctld.log" ||
	pc_fail "not escaped: $(cat "$PC_TMP/portctld.log")"
# The daemon quotes 32 bytes of the key: here half of a UTF-8 character.
python3 "$PC_TMP/client.py" "$PCD_SOCK" "$(printf '%031d\303\251' 0)"
rc=$?
[ $rc -eq 2 ] || pc_fail "a reply cut inside a UTF-8 character: $rc, expected 2"
P status >/dev/null || pc_fail "status after the hostile clients"
exit 0
