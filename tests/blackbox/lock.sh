#!/usr/bin/env bash
# The general zone lock: a worker SIGKILLed while it holds the lock does
# not wedge the others.  The master breaks the dead holder's lock when it
# reaps it; the surviving worker and the respawned one both take it.
. "${top_srcdir:-.}/tests/lib.sh"

WORKERS=2
export MGW_DEBUG_HOOKS=1
write_conf <<'EOC'
apis = ( { name = "m"; base_path = "/m";
	endpoints = { mock = { status = 200; body = "mock"; }; }; } );
EOC
mgw_start
A=http://127.0.0.1:$ADMIN_PORT

# lock_try: one /debug/lock-try on a new connection; prints "STATUS BODY".
lock_try() {
	curl -sS --max-time 10 -w ' %{http_code}' "$A/debug/lock-try" 2>&1
}
json_num() {	# json_num KEY: the number after "KEY": on stdin
	sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

# try_all PIDS: /debug/lock-try on fresh connections until every pid in
# PIDS has answered 200 locked (the kernel picks the accepting worker, so
# this takes a few tries); every answer must be 200.
try_all() {
	local want=$1 seen=" " out pid i
	for i in $(seq 1 200); do
		out=$(lock_try)
		case $out in
		*'"locked":true'*' 200') ;;
		*) fail "lock-try: $out" ;;
		esac
		pid=$(printf '%s' "$out" | json_num pid)
		broken=$(printf '%s' "$out" | json_num broken)
		case $seen in *" $pid "*) ;; *) seen="$seen$pid " ;; esac
		local p all=1
		for p in $want; do
			case $seen in *" $p "*) ;; *) all=0 ;; esac
		done
		[ "$all" = 1 ] && return 0
	done
	fail "not every worker of ($want) answered lock-try: saw$seen"
}

pids=$(worker_pids | tr '\n' ' ')
try_all "$pids"
ok "/debug/lock-try answers 200 locked on both workers ($pids)"

out=$(curl -fsS --max-time 10 "$A/debug/lock-hold") || fail "lock-hold failed"
holder=$(printf '%s' "$out" | json_num pid)
case " $pids " in *" $holder "*) ;; *) fail "lock-hold answered by $holder" ;; esac
other=$(printf '%s\n' $pids | grep -vx "$holder")
ok "worker $holder holds the zone lock"

# While it is held, a try (from either worker) gives up after 3 s.
out=$(lock_try)
case $out in *' 503') ;; *) fail "lock-try while held: $out" ;; esac
ok "lock-try while the lock is held: 503 (wedged)"

kill -KILL "$holder"
new_worker() {
	local p
	for p in $(worker_pids); do
		[ "$p" = "$other" ] || [ "$p" = "$holder" ] || return 0
	done
	return 1
}
wait_until 20 new_worker || fail "no respawn after killing $holder: $(ctl status)"
wait_until 20 eval '[ "$(worker_pids | grep -c .)" -eq 2 ]' ||
    fail "workers: $(ctl status)"
respawned=$(worker_pids | grep -vx "$other")
ok "holder $holder killed, worker $respawned respawned"

try_all "$other $respawned"
[ "${broken:-0}" -ge 1 ] || fail "lock-try says broken: ${broken:-?}"
ok "the surviving worker $other and the new worker $respawned take the lock (broken: $broken)"

# The lock still works as a lock: hold it again in a live worker, then
# kill that one too; the remaining one still gets it.
out=$(curl -fsS --max-time 10 "$A/debug/lock-hold") || fail "second lock-hold failed"
holder=$(printf '%s' "$out" | json_num pid)
other=$(worker_pids | grep -vx "$holder")
kill -KILL "$holder"
wait_until 20 new_worker || fail "no respawn after killing $holder"
wait_until 20 eval '[ "$(worker_pids | grep -c .)" -eq 2 ]' ||
    fail "workers: $(ctl status)"
respawned=$(worker_pids | grep -vx "$other")
try_all "$other $respawned"
[ "$broken" -ge 2 ] || fail "broken count did not grow: $broken"
ok "a second dead holder is handled too (broken: $broken)"
grep -q "worker $holder (generation 1) killed by signal 9" "$T/mgwd.log" ||
    fail "the death is not logged"
curl -fsS -o /dev/null --max-time 10 "http://127.0.0.1:$PORT/m/x" ||
    fail "the gateway does not serve"
ok "the gateway serves"
mgw_stop
ok "graceful stop"
