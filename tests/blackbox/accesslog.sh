#!/usr/bin/env bash
# Access log: one combined-format line per request, never interleaved
# across workers; reopened on SIGUSR1 after a move; "off" writes nothing;
# workers that dropped privileges keep logging across a rotation.
. "${top_srcdir:-.}/tests/lib.sh"

WORKERS=2
mock_apis() {
	cat <<'EOC'
apis = ( { name = "m"; base_path = "/m";
	endpoints = { mock = { status = 200; body = "mock"; }; }; } );
EOC
}
mock_apis | write_conf
U=http://127.0.0.1:$PORT
LOG=$T/access.log
# ip - - [date] "METHOD uri HTTP/1.1" status bytes "referer" "ua"
RE='^127\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\] "[A-Z]+ [^ "]+ HTTP/1\.1" [0-9]{3} [0-9]+ "[^"]*" "[^"]*"$'

mgw_start
lines() { [ -f "$1" ] && grep -c . "$1" || echo 0; }

# --- N requests, N lines, in the combined format
n0=$(lines "$LOG")
for i in $(seq 1 20); do
	curl -fsS -o /dev/null --max-time 10 -A "bbtest/$i" -e "http://ref.example/$i" \
	    "$U/m/seq$i?q=$i" || fail "request $i"
done
curl -sS -o /dev/null --max-time 10 -X POST -d x "$U/nowhere" || fail "POST"
wait_until 10 eval '[ "$(lines "$LOG")" -ge $((n0 + 21)) ]' ||
    fail "$(( $(lines "$LOG") - n0 )) lines for 21 requests"
[ "$(lines "$LOG")" -eq $((n0 + 21)) ] || fail "too many lines: $(lines "$LOG")"
bad=$(grep -Evc "$RE" "$LOG")
[ "$bad" -eq 0 ] || fail "$bad lines not in the combined format: $(grep -Ev "$RE" "$LOG" | head -n 3)"
for i in $(seq 1 20); do
	grep -q "\"GET /m/seq$i?q=$i HTTP/1.1\" 200 [0-9]* \"http://ref.example/$i\" \"bbtest/$i\"$" "$LOG" ||
	    fail "request $i not logged as sent: $(grep "seq$i?" "$LOG")"
done
grep -q '"POST /nowhere HTTP/1.1" 404 [0-9]* "-" "curl/' "$LOG" ||
    fail "POST not logged: $(tail -n 1 "$LOG")"
ok "21 requests, 21 lines in the combined format, fields as sent"

# --- concurrent clients on two workers: no interleaved line
n0=$(lines "$LOG")
ua=$(printf 'x%.0s' $(seq 1 900))
for c in 1 2 3 4; do
	(
		args=()
		for i in $(seq 1 50); do
			args+=(-o /dev/null "$U/m/c$c-$i")
		done
		curl -sS --max-time 30 -A "conc-$c-$ua" "${args[@]}"
	) &
	conc="${conc:-} $!"
done
for p in $conc; do
	wait "$p" || fail "concurrent client failed"
done
wait_until 10 eval '[ "$(lines "$LOG")" -ge $((n0 + 200)) ]' ||
    fail "$(( $(lines "$LOG") - n0 )) lines for 200 concurrent requests"
[ "$(lines "$LOG")" -eq $((n0 + 200)) ] || fail "too many lines: $(lines "$LOG")"
bad=$(grep -Evc "$RE" "$LOG")
[ "$bad" -eq 0 ] || fail "$bad malformed (interleaved?) lines"
for c in 1 2 3 4; do
	[ "$(grep -c "\"GET /m/c$c-[0-9]* HTTP/1.1\" 200 [0-9]* \"-\" \"conc-$c-$ua\"$" "$LOG")" -eq 50 ] ||
	    fail "client $c: not 50 whole lines"
done
ok "200 requests from 4 concurrent clients: 200 whole lines"

# --- rotation: move the file, SIGUSR1, new lines go to a new file
reopened() {	# no worker still has the moved file open
	local p
	for p in $(worker_pids); do
		ls -l "/proc/$p/fd" 2>/dev/null | grep -q " $LOG.1\$" && return 1
	done
	return 0
}
mv "$LOG" "$LOG.1"
kill -USR1 "$MGW_PID"
k=0
rotated() {	# a fresh request's line lands in the new file
	k=$((k + 1))
	curl -fsS -o /dev/null --max-time 10 "$U/m/rot$k" || return 1
	[ -f "$LOG" ] && grep -q "GET /m/rot$k " "$LOG"
}
wait_until 20 rotated || fail "no new access.log after SIGUSR1"
wait_until 20 reopened || fail "a worker still writes to the moved file"
for i in $(seq 1 20); do
	curl -fsS -o /dev/null --max-time 10 "$U/m/after$i" || fail "request after$i"
done
wait_until 10 eval '[ "$(cat "$LOG" "$LOG.1" | grep -c "GET /m/after")" -ge 20 ]' ||
    fail "lines lost across the rotation"
for i in $(seq 1 20); do
	grep -q "GET /m/after$i " "$LOG" || fail "after$i not in the new file"
done
grep -Evq "$RE" "$LOG" && fail "malformed line after rotation"
grep -q "reopening log files" "$T/mgwd.log" || fail "the reopen is not logged"
ok "mv + SIGUSR1: new lines go to a new access.log"
mgw_stop

# --- access_log = "off" writes nothing
rm -f "$T"/access.log*
mock_apis | write_conf
sed -i 's|access_log = "[^"]*";|access_log = "off";|' "$T/mgw.conf"
grep -q 'access_log = "off"' "$T/mgw.conf" || fail "could not set access_log off"
mgw_start
for i in $(seq 1 10); do
	curl -fsS -o /dev/null --max-time 10 "$U/m/off$i" || fail "request off$i"
done
ctl stats > /dev/null
[ -z "$(ls "$T" | grep access)" ] || fail "access_log off wrote $(ls "$T" | grep access)"
! grep -rq "GET /m/off" "$T" 2>/dev/null || fail "a request was logged somewhere"
ok "access_log off: nothing written"
mgw_stop

# --- privilege drop: root master, workers as nobody, logging after rotation
if [ "$(id -u)" != 0 ]; then
	say "not root: privilege drop not tested"
	exit 0
fi
id nobody > /dev/null 2>&1 || { say "no user nobody"; exit 0; }
nobody_uid=$(id -u nobody)
chmod 0755 "$T"	# the workers must reach their files
mkdir "$T/logs"
chmod 1777 "$T/logs"
LOG=$T/logs/access.log
mock_apis | write_conf
sed -i -e 's|user = "root";|user = "nobody";|' \
    -e "s|access_log = \"[^\"]*\";|access_log = \"$LOG\";|" "$T/mgw.conf"
grep -q 'user = "nobody"' "$T/mgw.conf" || fail "could not set user nobody"
mgw_start
uid_of() { awk '/^Uid:/ { print $2 " " $3 " " $4 " " $5 }' "/proc/$1/status"; }
[ "$(uid_of "$MGW_PID")" = "0 0 0 0" ] || fail "master uids: $(uid_of "$MGW_PID")"
for p in $(worker_pids); do
	[ "$(uid_of "$p")" = "$nobody_uid $nobody_uid $nobody_uid $nobody_uid" ] ||
	    fail "worker $p uids: $(uid_of "$p")"
done
ok "master runs as root, workers as nobody ($nobody_uid)"
for i in $(seq 1 10); do
	curl -fsS -o /dev/null --max-time 10 "$U/m/priv$i" || fail "request priv$i"
done
wait_until 10 eval '[ "$(grep -c "GET /m/priv" "$LOG")" -eq 10 ]' ||
    fail "workers as nobody do not log: $(lines "$LOG") lines"
ok "workers as nobody serve and log"
mv "$LOG" "$LOG.1"
kill -USR1 "$MGW_PID"
k=0
wait_until 20 rotated || fail "workers as nobody: no new access.log after SIGUSR1"
wait_until 20 reopened || fail "a worker as nobody still writes to the moved file"
for i in $(seq 1 20); do
	curl -fsS -o /dev/null --max-time 10 "$U/m/privafter$i" || fail "privafter$i"
done
wait_until 10 eval '[ "$(grep -c "GET /m/privafter" "$LOG")" -eq 20 ]' ||
    fail "workers as nobody stopped logging after rotation"
ok "workers as nobody keep logging after mv + SIGUSR1 (owner $(stat -c %U "$LOG"))"
mgw_stop
ok "graceful stop"
