#!/usr/bin/env bash
# Throttling algorithms, counted from the gateway's own answers.  A flood
# of 50 keep-alive connections against one key per algorithm (20 per 1s)
# shows each guarantee of plugins/throttle.h: fixed_window admits exactly
# N in every window it refuses in, with X-RateLimit-Remaining N-1..0 and
# X-RateLimit-Reset the window end; sliding_log never more than N in any
# period; sliding_window at most N per window and ceil(N*f) by fraction f
# after a full window; token_bucket at most B + N*t/per in any span t.
# All four admit close to their rate while hammered, so refused requests
# never count.  Beside the flood, one sequential client per algorithm
# (5 per 2s) has every decision, remaining, reset and Retry-After checked
# against a model of the algorithm, and waits out a Retry-After: a
# second early it is still refused, on time it is admitted.
# Times are X-Mgw-Throttle-Time (MGW_DEBUG_HOOKS=1), the key's clock.
. "${top_srcdir:-.}/tests/lib.sh"

WORKERS=2
LOAD="$top_srcdir/tests/throttle_load.py"
PYTHON=$(command -v python3) || skip "python3 is not installed"

mock='endpoints = { mock = { status = 200; body = "ok"; }; };'
write_conf <<EOC
policies = (
	{ name = "fw"; requests = 20; per = "1s"; algorithm = "fixed_window"; },
	{ name = "sl"; requests = 20; per = "1s"; algorithm = "sliding_log"; },
	{ name = "sw"; requests = 20; per = "1s";
	  algorithm = "sliding_window"; },
	{ name = "tb"; requests = 20; per = "1s"; algorithm = "token_bucket";
	  burst = 5; },
	{ name = "sfw"; requests = 5; per = "2s"; algorithm = "fixed_window"; },
	{ name = "ssl"; requests = 5; per = "2s"; algorithm = "sliding_log"; },
	{ name = "ssw"; requests = 5; per = "2s";
	  algorithm = "sliding_window"; },
	{ name = "stb"; requests = 5; per = "2s"; algorithm = "token_bucket";
	  burst = 3; }
);
throttling: { unauthenticated_tier = "Unlimited"; };
apis = (
	{ name = "fw"; base_path = "/fw"; throttling = "fw"; $mock },
	{ name = "sl"; base_path = "/sl"; throttling = "sl"; $mock },
	{ name = "sw"; base_path = "/sw"; throttling = "sw"; $mock },
	{ name = "tb"; base_path = "/tb"; throttling = "tb"; $mock },
	{ name = "sfw"; base_path = "/sfw"; throttling = "sfw"; $mock },
	{ name = "ssl"; base_path = "/ssl"; throttling = "ssl"; $mock },
	{ name = "ssw"; base_path = "/ssw"; throttling = "ssw"; $mock },
	{ name = "stb"; base_path = "/stb"; throttling = "stb"; $mock }
);
EOC
MGW_DEBUG_HOOKS=1 mgw_start
U=http://127.0.0.1:$PORT

# --- the sequential clients run beside the flood; their checks are exact
# whatever the load does to their timing.
seq_pids=
for a in sfw:fixed_window ssl:sliding_log ssw:sliding_window \
    stb:token_bucket; do
	k=${a%%:*}
	timeout 90 "$PYTHON" "$LOAD" seq "$U/$k/x" --algo "${a#*:}" \
	    --limit 5 --per 2000 --burst 3 --duration 3 --probes 2 \
	    > "$T/seq.$k" 2>&1 &
	seq_pids="$seq_pids $k:$!"
	_bg_pids="$_bg_pids $!"
done

# --- one flood over the four keys, round-robin: 50 connections, 5 s.
out=$(timeout 60 "$PYTHON" "$LOAD" run "$U/fw/x" "$U/sl/x" "$U/sw/x" \
    "$U/tb/x" --conns 50 --duration 5 --max 60000 --out "$T/flood") ||
    fail "load client: $out"
say "flood: $out"
i=0
for a in fixed_window sliding_log sliding_window token_bucket; do
	res=$("$PYTHON" "$LOAD" check "$a" "$T/flood" --url-index $i \
	    --limit 20 --per 1000 --burst 5 --min-full 3) ||
	    fail "$a under a flood: $res"
	ok "$a 20/1s under a flood: $res"
	i=$((i + 1))
done
ok "fixed_window hammered for 5 s still admits exactly 20 in each new window: refused requests never count"

for p in $seq_pids; do
	k=${p%%:*}
	wait "${p#*:}" || fail "sequential $k: $(cat "$T/seq.$k")"
	ok "$k 5/2s, one client: $(cat "$T/seq.$k")"
done

kill -0 "$MGW_PID" || fail "mgwd died"
mgw_stop
ok "graceful stop"
