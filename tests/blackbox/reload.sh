#!/usr/bin/env bash
# Reload: twenty reloads under constant load lose no request; a broken
# config is refused with file:line and the old generation keeps serving;
# listeners are added and removed while unchanged ones keep their socket;
# the statistics totals survive; a reload during a reload is refused.
. "${top_srcdir:-.}/tests/lib.sh"

WORKERS=2
start_upstream
EXTRA_PORT=$(free_port)

# conf [extra]: an upstream API and a mock API; "extra" adds a listener.
conf() {
	{
		gateway_block
		cat <<EOC
apis = (
	{ name = "up"; base_path = "/up";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; }; },
	{ name = "m"; base_path = "/m";
	  endpoints = { mock = { status = 200; body = "mock"; }; }; }
);
EOC
	} > "$T/mgw.conf.new"
	if [ "${1:-}" = extra ]; then
		sed -i "s|^listeners = (|&\n\t{ name = \"extra\"; listen = \"127.0.0.1:$EXTRA_PORT\"; },|" \
		    "$T/mgw.conf.new"
	fi
	mv "$T/mgw.conf.new" "$T/mgw.conf"
}

conf
mgw_start
U=http://127.0.0.1:$PORT
inode=$(listen_inode "$PORT")
[ -n "$inode" ] || fail "no listening socket found for port $PORT"

# Three bounded clients: two keep-alive curl loops, one python loop that
# opens a new connection per request.  All stop at load_stop; their own
# bound (300 s) must outlast the whole test, which takes 90 s under ASan
# on a busy 2-core machine, or phase 2 would see them stop by themselves.
load_start 300 400000 "$U/up/ping" "$U/m/a" "$U/up/echo/1" "$U/m/b"
load_start 300 400000 "$U/m/c" "$U/up/ping" "$U/m/d"
LOAD_NEWCONN=1 load_start 300 400000 "$U/up/ping" "$U/m/e"

# progressed N: the clients made at least N requests more than before.
progressed() { [ "$(load_total)" -ge "$1" ]; }

# --- (1) 20 reloads under load, alternating mgwctl reload and SIGHUP
wait_until 20 progressed 30 || fail "the clients make no progress"
prev_req=$(status_get requests)
for i in $(seq 1 20); do
	gen=$(status_get generation)
	if [ $((i % 2)) -eq 1 ]; then
		out=$(ctl reload 2>&1) || fail "reload $i: mgwctl reload failed: $out"
		printf '%s\n' "$out" | grep -q "generation $((gen + 1)) active" ||
		    fail "reload $i: unexpected verdict: $out"
	else
		kill -HUP "$MGW_PID"
	fi
	wait_until 30 gen_only $((gen + 1)) ||
	    fail "reload $i: generation $((gen + 1)) is not alone: $(ctl status)"
	req=$(status_get requests)
	[ "$req" -ge "$prev_req" ] ||
	    fail "reload $i: requests went back from $prev_req to $req"
	prev_req=$req
	# Let the clients reach the new generation before the next reload.
	want=$(( $(load_total) + 10 ))
	wait_until 20 progressed "$want" || fail "reload $i: the clients stalled"
done
nfail=$(load_failed)
[ "$nfail" -eq 0 ] || fail "$nfail requests failed during reloads:
$(load_failures)"
ntot=$(load_total)
[ "$ntot" -ge 300 ] || fail "only $ntot requests during 20 reloads"
ok "20 reloads (mgwctl and SIGHUP) under load: $ntot requests, 0 failed"
[ "$(status_get reloads)" -eq 20 ] ||
    fail "status says reloads: $(status_get reloads), want 20"
ok "status counts 20 reloads"

# --- (4) the totals survive reloads: every request of ours is counted
req=$(status_get requests)
[ "$req" -ge "$ntot" ] ||
    fail "requests: $req after reloads, but the clients made $ntot"
ok "statistics totals survive reloads (requests: $req >= $ntot)"

# --- (2) a broken config is refused; the old generation keeps serving
gen=$(status_get generation)
pids=$(worker_pids | sort)
cp "$T/mgw.conf" "$T/mgw.conf.good"
printf 'bogus_setting = 1;\n' >> "$T/mgw.conf"
badline=$(grep -n '^bogus_setting' "$T/mgw.conf" | cut -d: -f1)
before=$(load_total)
out=$(ctl reload 2>&1) && fail "broken config accepted: $out"
printf '%s\n' "$out" | grep -q "mgw.conf:$badline:.*bogus_setting" ||
    fail "the reason lacks file:line: $out"
ok "broken config refused: $(printf '%s\n' "$out" | grep -m1 'mgw.conf:')"
# Several errors: a heading, then each reason on its own line.
printf 'bogus_other = 2;\n' >> "$T/mgw.conf"
out=$(ctl reload 2>&1) && fail "broken config accepted: $out"
printf '%s\n' "$out" | head -n 1 | grep -qx "mgwctl: reload refused:" ||
    fail "no 'reload refused:' heading: $out"
printf '%s\n' "$out" | grep -q "^$T/mgw.conf:$badline: .*bogus_setting" &&
    printf '%s\n' "$out" | grep -q "^$T/mgw.conf:$((badline + 1)): .*bogus_other" ||
    fail "not every reason with file:line: $out"
ok "two errors: 'mgwctl: reload refused:' and one file:line reason per line"
kill -HUP "$MGW_PID"	# the same, by signal: also refused
wait_until 20 progressed $((before + 40)) ||
    fail "the clients stalled after a refused reload"
[ "$(status_get generation)" = "$gen" ] || fail "generation changed"
[ "$(worker_pids | sort)" = "$pids" ] ||
    fail "workers changed after a refused reload: $(ctl status)"
[ "$(load_failed)" -eq 0 ] || fail "requests failed around a refused reload:
$(load_failures)"
ok "old generation $gen keeps serving with the same workers"
grep -q "reload refused, generation $gen keeps serving" "$T/mgwd.log" ||
    fail "the refusal is not logged"
ok "the refusal is logged"
mv "$T/mgw.conf.good" "$T/mgw.conf"
out=$(ctl reload 2>&1) || fail "fixed config refused: $out"
wait_until 30 gen_only $((gen + 1)) || fail "fixed config: $(ctl status)"
ok "fixed config reloads: $out"

# --- (3) listeners: add one, remove it; the unchanged one is kept
gen=$(status_get generation)
conf extra
out=$(ctl reload 2>&1) || fail "reload with a new listener: $out"
wait_until 30 gen_only $((gen + 1)) || fail "new listener: $(ctl status)"
ctl status | grep -qx "listener: extra 127.0.0.1:$EXTRA_PORT" ||
    fail "status does not list the new listener: $(ctl status)"
curl -fsS --max-time 10 "http://127.0.0.1:$EXTRA_PORT/m/x" > "$T/extra.out" ||
    fail "the new listener does not answer"
grep -qx mock "$T/extra.out" || fail "new listener: $(cat "$T/extra.out")"
ok "a listener added by reload answers"
[ "$(listen_inode "$PORT")" = "$inode" ] ||
    fail "the unchanged listener was rebound: $inode -> $(listen_inode "$PORT")"
ok "the unchanged listener keeps its socket (inode $inode)"
gen=$((gen + 1))
conf
out=$(ctl reload 2>&1) || fail "reload removing a listener: $out"
wait_until 30 gen_only $((gen + 1)) || fail "listener removed: $(ctl status)"
ctl status | grep -q "^listener: extra" && fail "extra still listed"
curl -sS -o /dev/null --max-time 10 "http://127.0.0.1:$EXTRA_PORT/m/x" \
    2>/dev/null
rc=$?
[ "$rc" -eq 7 ] || fail "the removed listener is not refused (curl exit $rc)"
[ -z "$(listen_inode "$EXTRA_PORT")" ] ||
    fail "something still listens on the removed port"
ok "a listener removed by reload refuses connections"
[ "$(listen_inode "$PORT")" = "$inode" ] ||
    fail "the unchanged listener was rebound: $inode -> $(listen_inode "$PORT")"
ok "the unchanged listener still has its socket"
[ "$(load_failed)" -eq 0 ] || fail "requests failed during listener changes:
$(load_failures)"
ok "no request failed during listener changes"

# --- (5) a reload while one is in flight is refused.  The master is
# stopped while SIGHUP and mgwctl reload both reach it, so it sees them
# at once: whichever it takes first starts a reload, the other is
# refused (mgwctl says so, or the refused SIGHUP is logged).
ctl_blocked() {	# mgwctl PID has connected and waits for its answer
	ls -l "/proc/$1/fd" 2>/dev/null | grep -q 'socket:' &&
	    [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = S ]
}
gen=$(status_get generation)
nref=$(grep -c "reload refused: a reload is already in progress" "$T/mgwd.log")
kill -STOP "$MGW_PID"
kill -HUP "$MGW_PID"
"$MGWCTL" -s "$SOCK" reload > "$T/ctl5.out" 2>&1 &
ctlpid=$!
wait_until 10 ctl_blocked "$ctlpid" || { kill -CONT "$MGW_PID";
    fail "mgwctl reload did not get to wait"; }
kill -CONT "$MGW_PID"
wait "$ctlpid"
rc=$?
out=$(cat "$T/ctl5.out")
if [ "$rc" -ne 0 ]; then
	printf '%s\n' "$out" | grep -q "a reload is already in progress" ||
	    fail "concurrent reload: unexpected failure: $out"
	ok "mgwctl reload during a SIGHUP reload is refused: $out"
else
	wait_until 10 eval '[ "$(grep -c "reload refused: a reload is already in progress" "$T/mgwd.log")" -gt "$nref" ]' ||
	    fail "mgwctl reload ($out) and SIGHUP both accepted"
	ok "SIGHUP during a mgwctl reload is refused (logged)"
fi
wait_until 30 gen_only $((gen + 1)) ||
    fail "concurrent reloads: not exactly one new generation: $(ctl status)"
ok "exactly one new generation ($((gen + 1)))"

load_stop
nfail=$(load_failed)
[ "$nfail" -eq 0 ] || fail "$nfail requests failed:
$(load_failures)"
ok "$(load_total) requests in all, 0 failed"
mgw_stop
ok "graceful stop"
