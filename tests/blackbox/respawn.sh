#!/usr/bin/env bash
# Respawn: a worker killed under load is replaced, the gateway keeps
# serving, the death is logged; a worker that keeps dying is respawned
# with a growing delay.
. "${top_srcdir:-.}/tests/lib.sh"

WORKERS=2
start_upstream
write_conf <<EOC
apis = (
	{ name = "up"; base_path = "/up";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; }; },
	{ name = "m"; base_path = "/m";
	  endpoints = { mock = { status = 200; body = "mock"; }; }; }
);
EOC
mgw_start
U=http://127.0.0.1:$PORT

load_start 240 200000 "$U/up/ping" "$U/m/a" "$U/m/b"
LOAD_NEWCONN=1 load_start 240 200000 "$U/m/c" "$U/up/ping"
progressed() { [ "$(load_total)" -ge "$1" ]; }
wait_until 20 progressed 20 || fail "the clients make no progress"

# new_worker OLDPIDS: a worker pid not in OLDPIDS is listed, and there
# are WORKERS workers again.
new_worker() {
	local p pids
	pids=$(worker_pids 2>/dev/null) || return 1
	[ "$(printf '%s\n' "$pids" | grep -c .)" -eq "$WORKERS" ] || return 1
	for p in $pids; do
		case " $1 " in *" $p "*) ;; *) echo "$p"; return 0 ;; esac
	done
	return 1
}

# --- one worker killed under load
old=$(worker_pids | tr '\n' ' ')
victim=${old%% *}
gen=$(status_get generation)
# Each client is sequential, so only the request it has in flight when
# the worker dies may fail: remember where each client's log stands.
declare -A at_kill
for f in "$T"/load.[0-9]*; do
	at_kill[$f]=$(wc -l < "$f")
done
kill -KILL "$victim"
wait_until 20 new_worker "$old" > /dev/null ||
    fail "no new worker after killing $victim: $(ctl status)"
newpid=$(new_worker "$old")
ok "worker $victim killed, worker $newpid replaces it"
ctl status | grep -q "^worker: $newpid generation $gen slot" ||
    fail "the new worker is not of generation $gen: $(ctl status)"
ctl status | grep -q "^worker: $victim " && fail "$victim still listed"
[ "$(status_get worker_respawns)" -ge 1 ] || fail "worker_respawns not counted"
ok "status lists the new worker in generation $gen, worker_respawns counted"
grep -q "worker $victim (generation $gen) killed by signal 9" "$T/mgwd.log" ||
    fail "the death of $victim is not logged"
grep -Eq "respawning worker [0-9]+ of generation $gen in [0-9]+ ms" \
    "$T/mgwd.log" || fail "the respawn is not logged"
ok "the error log records the death and the respawn"

# From here on every request must succeed.
want=$(( $(load_total) + 150 ))
wait_until 40 progressed "$want" || fail "the clients stalled after respawn"
for i in $(seq 1 50); do
	curl -fsS -o /dev/null --max-time 10 "$U/m/after$i" ||
	    fail "request $i after the respawn failed"
done
ok "50 sequential requests after the respawn succeed"
# Each client may lose the one request it had on the killed worker's
# connection (a client can finish several requests between our count and
# the kill, so its position is not known exactly); any second failure is
# a request the gateway dropped after the respawn.
for f in "$T"/load.[0-9]*; do
	bad=$(tail -n +$((at_kill[$f] + 1)) "$f" | grep -v '^200 ')
	[ "$(printf '%s' "$bad" | grep -c .)" -le 1 ] ||
	    fail "requests failed after the kill: $(printf '%s\n' "$bad" | head -n 5)"
done
nfail=$(load_failed)
[ "$nfail" -le 2 ] || fail "$nfail requests failed, more than the 2 in flight:
$(load_failures)"
ok "under load: only $nfail request(s) in flight at the kill failed, all later ones succeed"

# --- the same worker index killed again and again: growing backoff
idx=$(sed -n "s/.*respawning worker \([0-9]*\) of generation $gen in.*/\1/p" \
    "$T/mgwd.log" | tail -n 1)
[ -n "$idx" ] || fail "no respawn index in the log"
pid=$newpid
for k in 1 2 3 4; do
	old=$(worker_pids | tr '\n' ' ')
	kill -KILL "$pid"
	wait_until 30 new_worker "$old" > /dev/null ||
	    fail "kill $k: no respawn: $(ctl status)"
	pid=$(new_worker "$old")
done
delays=$(sed -n "s/.*respawning worker $idx of generation $gen in \([0-9]*\) ms/\1/p" \
    "$T/mgwd.log" | tr '\n' ' ')
set -- $delays
[ $# -ge 5 ] || fail "expected 5 respawns of worker $idx, log has: $delays"
shift $(($# - 4))
[ "$1" -lt "$2" ] && [ "$2" -lt "$3" ] && [ "$3" -lt "$4" ] && [ "$4" -ge 400 ] ||
    fail "respawn delays do not grow: $delays"
ok "a worker that keeps dying is respawned with backoff: $delays ms"

# The gateway still serves with both workers.
wait_until 20 eval '[ "$(worker_pids | grep -c .)" -eq 2 ]' ||
    fail "workers: $(ctl status)"
for i in $(seq 1 20); do
	curl -fsS -o /dev/null --max-time 10 "$U/m/final$i" ||
	    fail "request $i after the backoff failed"
done
ok "serving with $WORKERS workers after the crash loop"
load_stop
say "$(load_total) requests under load, $(load_failed) failed around the kills"
mgw_stop
ok "graceful stop"
