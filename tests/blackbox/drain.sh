#!/usr/bin/env bash
# Drain: a graceful stop and a reload both let the request in flight
# finish; new connections are refused once the listeners are closed;
# drain_timeout bounds how long an old worker may take.
. "${top_srcdir:-.}/tests/lib.sh"

WORKERS=2
start_upstream
conf() {
	write_conf <<EOC
apis = (
	{ name = "up"; base_path = "/up";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; }; }
);
EOC
}
U=http://127.0.0.1:$PORT

inflight() {	# inflight N: the upstream is answering N slow requests
	[ "$(curl -fsS --max-time 5 "http://127.0.0.1:$UP_PORT/inflight")" = "$1" ]
}
# slow MS: one slow request in the background; its status goes to
# $T/slow.code, its body to $T/slow.out, and its pid is $slow_pid.
slow() {
	rm -f "$T/slow.code" "$T/slow.out" "$T/slow.hdr"
	curl -sS -o "$T/slow.out" -D "$T/slow.hdr" -w '%{http_code}\n' --max-time 30 \
	    "$U/up/slow?ms=$1" > "$T/slow.code" 2>"$T/slow.err" &
	slow_pid=$!
	wait_until 10 inflight 1 || fail "the slow request did not reach the upstream"
}
refused() {	# a new connection to the HTTP listener is refused
	curl -sS -o /dev/null --max-time 5 "$U/up/ping" 2>/dev/null
	[ $? -eq 7 ]
}
# gen_workers GEN: the pids of generation GEN's workers.
gen_workers() {
	ctl status | awk -v g="$1" '/^worker: / && $4 == g { print $2 }'
}

# --- (1) graceful stop while a slow request is in flight
conf
mgw_start
slow 3000
kill -QUIT "$MGW_PID"
wait_until 10 refused || fail "new connections are not refused while draining"
inflight 1 || fail "the slow request finished before the refusal was seen"
ok "graceful stop: new connections are refused while the old request runs"
wait "$slow_pid"
[ "$(cat "$T/slow.code")" = 200 ] ||
    fail "slow request during QUIT: $(cat "$T/slow.code") $(cat "$T/slow.err")"
grep -q '"slow":true' "$T/slow.out" || fail "slow body: $(cat "$T/slow.out")"
grep -qi '^connection: close' "$T/slow.hdr" ||
    fail "no Connection: close while draining: $(cat "$T/slow.hdr")"
ok "graceful stop: the request in flight gets its 200 with Connection: close"
wait_until 20 eval '! kill -0 "$MGW_PID" 2>/dev/null' || fail "mgwd did not exit"
wait "$MGW_PID"
rc=$?
[ "$rc" -eq 0 ] || fail "mgwd exited $rc after a graceful stop"
MGW_PID=
ok "graceful stop: the master exits 0 afterwards"

# --- (2) reload while a slow request is in flight
conf
mgw_start
gen=$(status_get generation)
slow 3000
out=$(ctl reload 2>&1) || fail "reload: $out"
# The idle old worker leaves at once; the busy one stays until done.
wait_until 10 eval '[ "$(gen_workers "$gen" | grep -c .)" -eq 1 ]' ||
    fail "old workers after reload: $(ctl status)"
busy=$(gen_workers "$gen")
inflight 1 || fail "the slow request finished too early to check the drain"
ctl status | grep -q "^worker: $busy generation $gen slot [0-9]* draining$" ||
    fail "the busy old worker is not listed as draining: $(ctl status)"
ok "reload: old worker $busy drains while its request is in flight"
curl -fsS -o /dev/null --max-time 10 "$U/up/ping" ||
    fail "the new generation does not serve"
ok "reload: the new generation serves meanwhile"
wait "$slow_pid"
[ "$(cat "$T/slow.code")" = 200 ] ||
    fail "slow request during reload: $(cat "$T/slow.code") $(cat "$T/slow.err")"
grep -qi '^connection: close' "$T/slow.hdr" ||
    fail "no Connection: close from the draining worker: $(cat "$T/slow.hdr")"
ok "reload: the request in flight completes with 200 (Connection: close) on the old worker"
wait_until 10 gen_only $((gen + 1)) || fail "old worker still there: $(ctl status)"
kill -0 "$busy" 2>/dev/null && fail "old worker $busy did not exit"
ok "reload: the old worker exits once its request is done"
mgw_stop

# --- (3) drain_timeout kills an old worker that takes too long
DRAIN=1s conf
mgw_start
gen=$(status_get generation)
slow 5000
t0=$(date +%s%N)
out=$(ctl reload 2>&1) || fail "reload: $out"
wait "$slow_pid"
t1=$(date +%s%N)
code=$(cat "$T/slow.code")
[ "$code" != 200 ] || fail "the request outlived drain_timeout"
ms=$(( (t1 - t0) / 1000000 ))
[ "$ms" -ge 900 ] && [ "$ms" -lt 4500 ] ||
    fail "the old worker was stopped after $ms ms, want about 1000"
ok "drain_timeout 1s: the slow request is cut after $ms ms (status $code)"
wait_until 10 gen_only $((gen + 1)) || fail "old worker still there: $(ctl status)"
grep -Eq "worker [0-9]+ of generation $gen still busy after drain_timeout, killing it" \
    "$T/mgwd.log" || fail "the kill is not logged"
ok "drain_timeout: the kill is logged"
curl -fsS -o /dev/null --max-time 10 "$U/up/ping" || fail "not serving afterwards"
mgw_stop
ok "graceful stop"
