#!/usr/bin/env bash
# mgwctl: status and stats, log verbose|brief, stop; errors without a
# daemon and on bad commands; a second mgwd on the same socket or pid
# file is refused; mgwd without -d detaches once it is ready.
. "${top_srcdir:-.}/tests/lib.sh"

WORKERS=2
write_conf <<'EOC'
apis = ( { name = "m"; base_path = "/m";
	endpoints = { mock = { status = 200; body = "mock"; }; }; } );
EOC
U=http://127.0.0.1:$PORT

# --- no daemon yet
out=$(ctl status 2>&1) && fail "status without a daemon succeeded: $out"
printf '%s\n' "$out" | grep -q "^mgwctl: cannot connect to $SOCK: .* (is mgwd running?)$" ||
    fail "unexpected error without a daemon: $out"
ok "without a daemon: $out"

out=$(ctl frobnicate 2>&1) && fail "unknown command accepted"
printf '%s\n' "$out" | grep -q "unknown command: frobnicate" ||
    fail "unknown command not named: $out"
printf '%s\n' "$out" | grep -q "^usage: mgwctl" || fail "no usage: $out"
ok "unknown command: exit 1 and usage"
out=$("$MGWCTL" 2>&1) && fail "mgwctl without a command succeeded"
printf '%s\n' "$out" | grep -q "^usage: mgwctl" || fail "no usage: $out"
ok "no command: exit 1 and usage"

mgw_start

# --- status
st=$(ctl status) || fail "status failed"
keys=$(printf '%s\n' "$st" | sed -n 's/^\([a-z_0-9]*\): .*/\1/p' | uniq | tr '\n' ' ')
want="version pid generation uptime workers worker listener requests bytes_in bytes_out responses_1xx responses_2xx responses_3xx responses_4xx responses_5xx connections_accepted connections_active upstream_errors "
case $keys in
"$want"*) ;;
*) fail "status keys out of order:
got:  $keys
want: $want..." ;;
esac
ok "status keys in the documented order (undocumented extras: ${keys#"$want"})"
printf '%s\n' "$st" | grep -Eqx 'version: [0-9]+\.[0-9]+\.[0-9]+.*' || fail "version: $st"
[ "$(status_get pid)" = "$MGW_PID" ] || fail "pid: $(status_get pid), want $MGW_PID"
[ "$(status_get generation)" = 1 ] || fail "generation: $(status_get generation)"
printf '%s\n' "$st" | grep -Eqx 'uptime: [0-9]+' || fail "uptime: $st"
[ "$(status_get workers)" = 2 ] || fail "workers: $(status_get workers)"
[ "$(printf '%s\n' "$st" | grep -Ecx 'worker: [0-9]+ generation 1 slot [0-9]+')" -eq 2 ] ||
    fail "worker lines: $st"
for p in $(worker_pids); do
	[ "$(awk '/^PPid:/ { print $2 }' "/proc/$p/status")" = "$MGW_PID" ] ||
	    fail "worker $p is not a child of the master"
done
printf '%s\n' "$st" | grep -qx "listener: http 127.0.0.1:$PORT" || fail "http listener: $st"
printf '%s\n' "$st" | grep -qx "listener: admin 127.0.0.1:$ADMIN_PORT" ||
    fail "admin listener: $st"
ok "status: version, pid, generation, uptime, workers, worker and listener lines"

# --- stats
stats_get() { ctl stats | sed -n "s/^$1: //p"; }
st=$(ctl stats) || fail "stats failed"
for k in requests bytes_in bytes_out responses_1xx responses_2xx \
    responses_3xx responses_4xx responses_5xx connections_accepted \
    connections_active upstream_errors; do
	printf '%s\n' "$st" | grep -Eqx "$k: -?[0-9]+" || fail "stats lacks $k: $st"
done
r0=$(stats_get requests); ok2=$(stats_get responses_2xx)
f4=$(stats_get responses_4xx); in0=$(stats_get bytes_in); out0=$(stats_get bytes_out)
for i in 1 2 3 4 5; do
	curl -fsS -o /dev/null --max-time 10 "$U/m/$i" || fail "request $i"
done
curl -sS -o /dev/null --max-time 10 "$U/nowhere" || fail "request to /nowhere"
wait_until 10 eval '[ "$(stats_get requests)" -ge $((r0 + 6)) ]' ||
    fail "requests: $(stats_get requests), want >= $((r0 + 6))"
[ "$(stats_get responses_2xx)" -ge $((ok2 + 5)) ] || fail "responses_2xx did not grow by 5"
[ "$(stats_get responses_4xx)" -ge $((f4 + 1)) ] || fail "responses_4xx did not grow"
[ "$(stats_get bytes_in)" -gt "$in0" ] && [ "$(stats_get bytes_out)" -gt "$out0" ] ||
    fail "bytes_in/bytes_out did not grow"
ok "stats: requests, responses by class and bytes are counted"

# --- log verbose / brief (the master logs control commands at debug)
out=$(ctl log verbose) || fail "log verbose: $out"
[ "$out" = "log verbose" ] || fail "log verbose said: $out"
ctl status > /dev/null
wait_until 10 grep -q '\[debug\] master.*control: ' "$T/mgwd.log" ||
    fail "no debug lines after log verbose"
ok "log verbose: debug lines are logged"
out=$(ctl log brief) || fail "log brief: $out"
[ "$out" = "log brief" ] || fail "log brief said: $out"
n=$(grep -c '\[debug\]' "$T/mgwd.log")
ctl status > /dev/null
ctl stats > /dev/null
[ "$(grep -c '\[debug\]' "$T/mgwd.log")" -eq "$n" ] ||
    fail "debug lines after log brief: $(tail -n 3 "$T/mgwd.log")"
ok "log brief: no more debug lines"

# --- a second mgwd on the same control socket or pid file is refused
P2=$(free_port); A2=$(free_port)
sed -e "s/127.0.0.1:$PORT/127.0.0.1:$P2/" -e "s/127.0.0.1:$ADMIN_PORT/127.0.0.1:$A2/" \
    -e "s|$T/mgwd.pid|$T/second.pid|" "$T/mgw.conf" > "$T/second-sock.conf"
out=$("$MGWD" -d -f "$T/second-sock.conf" 2>&1) && fail "second mgwd on the same socket started"
printf '%s\n' "$out" | grep -q "another mgwd is running on $SOCK" ||
    fail "second mgwd (socket): unclear message: $out"
ok "second mgwd on the same control socket: $(printf '%s\n' "$out" | tail -n 1)"
sed -e "s/127.0.0.1:$PORT/127.0.0.1:$P2/" -e "s/127.0.0.1:$ADMIN_PORT/127.0.0.1:$A2/" \
    -e "s|$SOCK|$T/second.sock|" "$T/mgw.conf" > "$T/second-pid.conf"
out=$("$MGWD" -d -f "$T/second-pid.conf" 2>&1) && fail "second mgwd on the same pid file started"
printf '%s\n' "$out" | grep -q "mgwd is already running (pid $MGW_PID, $T/mgwd.pid)" ||
    fail "second mgwd (pid file): unclear message: $out"
[ ! -e "$T/second.sock" ] || fail "the refused mgwd left its socket behind"
ok "second mgwd on the same pid file: $(printf '%s\n' "$out" | tail -n 1)"
[ "$(cat "$T/mgwd.pid")" = "$MGW_PID" ] || fail "the pid file was overwritten"
[ "$(status_get pid)" = "$MGW_PID" ] || fail "the first mgwd lost its control socket"
curl -fsS -o /dev/null --max-time 10 "$U/m/x" || fail "the first mgwd stopped serving"
ok "the first mgwd is untouched"

# --- stop
[ -S "$SOCK" ] && [ -f "$T/mgwd.pid" ] || fail "no socket or pid file"
out=$(ctl stop) || fail "stop: $out"
wait_until 30 eval '! kill -0 "$MGW_PID" 2>/dev/null' || fail "mgwd did not stop"
wait "$MGW_PID"
rc=$?
[ "$rc" -eq 0 ] || fail "mgwd exited $rc after mgwctl stop"
MGW_PID=
[ ! -e "$SOCK" ] || fail "control socket left behind"
[ ! -e "$T/mgwd.pid" ] || fail "pid file left behind"
ok "mgwctl stop ($out): exit 0, socket and pid file removed"

# --- daemon mode (no -d)
out=$("$MGWD" -f "$T/mgw.conf" 2>&1)
rc=$?
[ -f "$T/mgwd.pid" ] && MGW_PID=$(cat "$T/mgwd.pid")
[ "$rc" -eq 0 ] || fail "mgwd in daemon mode exited $rc: $out"
[ -z "$out" ] || fail "mgwd in daemon mode printed: $out"
[ -n "$MGW_PID" ] && kill -0 "$MGW_PID" || fail "no daemon pid file"
# Ready when mgwd returns: the very first request is served.
curl -fsS -o /dev/null --max-time 10 "$U/m/x" || fail "the daemon does not serve"
[ "$(awk '/^PPid:/ { print $2 }' "/proc/$MGW_PID/status")" = 1 ] ||
    [ "$(awk '{ print $6 }' "/proc/$MGW_PID/stat")" = "$MGW_PID" ] ||
    fail "the daemon did not detach"
[ "$(status_get pid)" = "$MGW_PID" ] || fail "status pid: $(status_get pid)"
ok "mgwd -f: returns 0 once ready, pid file written, serving"
grep -q "mgwd .* started" "$T/error.log" || fail "no start in error_log"
ok "the daemon logs to error_log"
out=$(ctl stop) || fail "stop: $out"
wait_until 30 eval '! kill -0 "$MGW_PID" 2>/dev/null' || fail "daemon did not stop"
MGW_PID=
[ ! -e "$SOCK" ] && [ ! -e "$T/mgwd.pid" ] || fail "daemon left socket or pid file"
ok "mgwctl stop stops the daemon"

printf 'bogus_setting = 1;\n' >> "$T/mgw.conf"
out=$("$MGWD" -f "$T/mgw.conf" 2>&1 >/dev/null) && fail "bad config started in daemon mode"
printf '%s\n' "$out" | grep -q "mgw.conf:[0-9]*:.*bogus_setting" ||
    fail "bad config: no reason on stderr: $out"
[ ! -e "$SOCK" ] && [ ! -e "$T/mgwd.pid" ] || fail "bad config left socket or pid file"
ok "daemon mode with a bad config: exit 1, $(printf '%s\n' "$out" | head -n 1)"
