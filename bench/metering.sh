#!/usr/bin/env bash
# bench/metering.sh [-d SECONDS] [-r ROUNDS]
#
# Throughput of mgwd proxying to an nginx backend with metering off
# (analytics and metrics disabled) and on (one JSON event per request
# written to analytics files, Prometheus counters and histograms), the
# two gateways alternated off/on/off/on in one run, with the ratio on/off
# per round.  Then a run with a new path and client address on every
# request: the worker RSS and the /metrics document must stay the size
# they were.
set -u
cd "$(dirname "$0")/.."
dur=10 rounds=2
while getopts d:r: o; do
	case $o in
	d) dur=$OPTARG ;; r) rounds=$OPTARG ;; *) exit 1 ;;
	esac
done
BENCH_NAME=mbench
. bench/lib.sh
start_backend

mkconf() {	# name port admin-port on|off
	local en=false
	[ "$4" = on ] && en=true
	mkdir -p "$B/$1.analytics"
	cat > "$B/$1.conf" <<EOC
gateway: { workers = 2; user = "root"; pid_file = "$B/$1.pid";
	control_socket = "$B/$1.sock"; error_log = "$B/$1.err"; access_log = "off";
	trusted_proxies = [ "127.0.0.1/32" ]; };
listeners = ( { name = "http"; listen = "127.0.0.1:$2"; },
	{ name = "admin"; listen = "127.0.0.1:$3"; admin = true; } );
analytics: { enabled = $en; directory = "$B/$1.analytics"; max_files = 20; };
metrics: { enabled = $en; };
apis = ( { name = "bench"; version = "v1"; base_path = "/";
	endpoints = { production = [ "http://127.0.0.1:$BP" ]; }; } );
EOC
}
OFF=$(port) OFFA=$(port) ON=$(port) ONA=$(port)
mkconf off "$OFF" "$OFFA" off
mkconf on "$ON" "$ONA" on
"$MGWD" -d -f "$B/off.conf" 2>>"$B/mgwd.log" & offpid=$!; pids="$pids $offpid"
"$MGWD" -d -f "$B/on.conf" 2>>"$B/mgwd.log" & onpid=$!; pids="$pids $onpid"
waitport "$OFF" && waitport "$ON" || { echo "mgwd did not start"; exit 1; }

wrkrun() { wrk -t2 -c50 -d"${dur}s" "http://127.0.0.1:$1/" |
	awk '/Requests\/sec/ { print $2 }'; }
echo "# metering bench $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, wrk -t2 -c50 -d${dur}s, 2 workers"
ratios=
for r in $(seq 1 "$rounds"); do
	a=$(wrkrun "$OFF"); b=$(wrkrun "$ON")
	q=$(python3 -c "print('%.2f' % ($b / $a))")
	ratios="$ratios $q"
	echo "round $r: off $a req/s, on $b req/s, ratio on/off $q"
done
# On a shared machine single rounds swing; the median of many short
# alternating rounds is the figure to quote.
echo "median ratio on/off over $rounds rounds: $(python3 -c "import statistics, sys
print('%.2f' % statistics.median(float(x) for x in sys.argv[1:]))" $ratios)"
lines=$(cat "$B"/on.analytics/*.jsonl* 2>/dev/null | wc -l)
echo "analytics files so far: $(ls "$B/on.analytics" | wc -l), $lines complete lines"

# Distinct paths and clients: nothing may be keyed by them.
m1=$(curl -fsS "http://127.0.0.1:$ONA/metrics" | grep -vc '^#')
r1=$(rss "$onpid")
wrk -t2 -c50 -d"${dur}s" -s bench/distinct.lua "http://127.0.0.1:$ON/" |
    awk '/requests in/ { print "distinct run: " $1 " requests, each a new path and client" }'
m2=$(curl -fsS "http://127.0.0.1:$ONA/metrics" | grep -vc '^#')
r2=$(rss "$onpid")
echo "metrics samples: $m1 before, $m2 after; workers RSS: $r1 kB before, $r2 kB after"
