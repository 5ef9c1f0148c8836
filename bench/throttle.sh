#!/usr/bin/env bash
# bench/throttle.sh [-d SECONDS] [-r ROUNDS] [-k KEYS]
#
# Throughput of mgwd proxying to an nginx backend with throttling off and
# on (a per-client-IP policy that never rejects, KEYS distinct clients
# through a trusted proxy), alternated off/on/off/on in one run, with the
# ratio on/off per round.  Then KEYS=1M distinct clients against a small
# zone: the table evicts, the worker RSS stays put.
set -u
cd "$(dirname "$0")/.."
dur=10 rounds=2 keys=10000
while getopts d:r:k: o; do
	case $o in
	d) dur=$OPTARG ;; r) rounds=$OPTARG ;; k) keys=$OPTARG ;; *) exit 1 ;;
	esac
done
BENCH_NAME=tbench
. bench/lib.sh
start_backend

mkconf() {	# name port shm throttled
	cat > "$B/$1.conf" <<EOC
gateway: { workers = 2; user = "root"; pid_file = "$B/$1.pid";
	control_socket = "$B/$1.sock"; error_log = "$B/$1.err"; access_log = "off";
	trusted_proxies = [ "127.0.0.1/32" ]; };
listeners = ( { name = "http"; listen = "127.0.0.1:$2"; } );
shm: { size = "$3"; };
policies = ( { name = "huge"; requests = 2000000000; per = "1h"; } );
throttling: { unauthenticated_tier = "$4"; };
apis = ( { name = "bench"; base_path = "/";
	endpoints = { production = [ "http://127.0.0.1:$BP" ]; }; } );
EOC
}
OFF=$(port) ON=$(port)
mkconf off "$OFF" 64m Unlimited
mkconf on "$ON" 64m huge
"$MGWD" -d -f "$B/off.conf" 2>>"$B/mgwd.log" & offpid=$!; pids="$pids $offpid"
"$MGWD" -d -f "$B/on.conf" 2>>"$B/mgwd.log" & onpid=$!; pids="$pids $onpid"
waitport "$OFF" && waitport "$ON" || { echo "mgwd did not start"; exit 1; }

wrkrun() { KEYS=$keys wrk -t2 -c50 -d"${dur}s" -s bench/xff.lua "http://127.0.0.1:$1/" |
	awk '/Requests\/sec/ { print $2 }'; }
echo "# throttle bench $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, wrk -t2 -c50 -d${dur}s, $keys client keys, 2 workers"
for r in $(seq 1 "$rounds"); do
	a=$(wrkrun "$OFF"); b=$(wrkrun "$ON")
	echo "round $r: off $a req/s, on $b req/s, ratio on/off $(python3 -c "print('%.2f' % ($b / $a))")"
done
echo "table after: $("$MGWCTL" -s "$B/on.sock" throttle show | grep -E '^(entries|evictions|no_room)' | tr '\n' ' ')"

# A million distinct clients against a 2 MB zone: eviction, fixed memory.
kill "$onpid"; wait "$onpid" 2>/dev/null
SM=$(port)
mkconf small "$SM" 2m huge
"$MGWD" -d -f "$B/small.conf" 2>>"$B/mgwd.log" & smpid=$!; pids="$pids $smpid"
waitport "$SM" || exit 1
before=$(rss "$smpid")
KEYS=1000000 wrk -t2 -c50 -d"$((dur * 2))s" -s bench/xff.lua "http://127.0.0.1:$SM/" |
    awk '/requests in/ { print "1M-key run: " $1 " requests" }'
after=$(rss "$smpid")
echo "1M keys, 2m zone: workers RSS ${before} kB before, ${after} kB after; $("$MGWCTL" -s "$B/small.sock" throttle show | grep -E '^(entries|evictions|no_room)' | tr '\n' ' ')"
