#!/usr/bin/env bash
# bench/ab.sh -a MGWD_A -b MGWD_B [-d SECONDS] [-r ROUNDS] [-c CONNS] [-w WORKERS]
#
# Two mgwd binaries, A (before) and B (after), in one run against one nginx
# backend on loopback, in two scenarios:
#   plain  one API proxied to the backend; metrics, analytics and the
#          access log off;
#   full   the same API behind JWT RS256 (one token, so the token cache is
#          warm after the first request), API and application throttling
#          with a policy that never rejects, analytics events, Prometheus
#          metrics and an access log.
# Each scenario starts A and B side by side with the same configuration
# (rendered from one text; only ports and file paths differ, and both
# binaries must accept both files with mgwd -n), then runs wrk against A,
# B, A, B ... for ROUNDS rounds of SECONDS each and prints per round the
# requests/s and the workers' CPU time per request of each, the ratio B/A,
# and per scenario the median ratio over the rounds: issue 11's bar is
# B/A within 3 %.  Defaults: -d 10 -r 3 -c 50 -w 2.
#
# The "before" binary is built from another commit in its own worktree:
#   git worktree add /tmp/mgw-before COMMIT && cd /tmp/mgw-before &&
#   autoreconf -fi && mkdir build && cd build && ../configure && make
set -u
cmdline="bench/ab.sh $*"
usage() {
	echo "usage: bench/ab.sh -a MGWD_A -b MGWD_B [-d SECONDS] [-r ROUNDS]" \
	    "[-c CONNS] [-w WORKERS]" >&2
	exit 1
}
A='' Bin='' dur=10 rounds=3 conns=50 workers=2
while getopts a:b:d:r:c:w: o; do
	case $o in
	a) A=$OPTARG ;; b) Bin=$OPTARG ;; d) dur=$OPTARG ;; r) rounds=$OPTARG ;;
	c) conns=$OPTARG ;; w) workers=$OPTARG ;; *) usage ;;
	esac
done
[ $OPTIND -gt $# ] || usage
{ [ -n "$A" ] && [ -n "$Bin" ]; } || usage
for n in "$dur" "$rounds" "$conns" "$workers"; do
	case $n in '' | *[!0-9]* | 0) usage ;; esac
done
# Absolute paths, before the cd to the project root.
A=$(readlink -f -- "$A") Bin=$(readlink -f -- "$Bin")
for m in "$A" "$Bin"; do
	[ -x "$m" ] || { echo "$m: not an executable" >&2; exit 1; }
done
cd "$(dirname "$0")/.." || exit 1
for t in wrk nginx; do
	command -v $t >/dev/null ||
	    { echo "$t missing: sh tools/deps.sh bench"; exit 1; }
done
# shellcheck disable=SC2034	# read by bench/lib.sh
BENCH_NAME=ab
# shellcheck source=bench/lib.sh
. bench/lib.sh
trap 'exit 130' INT TERM HUP	# and so through lib.sh's cleanup on EXIT
start_backend
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
"$PY" bench/auth-mint.py "$B/k" 0 0 || { echo "minting failed"; exit 1; }
token=$(cat "$B/k/warm.rs256")

mkconf() {	# scenario side port admin-port
	local d=$B/$1.$2 full='' on=false log=off
	mkdir -p "$d"
	[ "$1" = full ] && full=1 on=true log=$d/access.log
	cat > "$d/mgw.conf" <<EOC
gateway: { workers = $workers; user = "root"; pid_file = "$d/mgwd.pid";
	control_socket = "$d/mgwd.sock"; error_log = "$d/error.log";
	access_log = "$log"; };
listeners = ( { name = "http"; listen = "127.0.0.1:$3"; },
	{ name = "admin"; listen = "127.0.0.1:$4"; admin = true; } );
limits: { max_connections = 10000; };
metrics: { enabled = $on; };
analytics: { enabled = $on; directory = "$d/analytics";
	max_files = 4; };
EOC
	if [ -z "$full" ]; then
		cat >> "$d/mgw.conf" <<EOC
apis = ( { name = "bench"; version = "v1"; base_path = "/";
	endpoints = { production = [ "http://127.0.0.1:$BP" ]; keepalive = 64; }; } );
EOC
		return
	fi
	cat >> "$d/mgw.conf" <<EOC
shm: { size = "64m"; };
policies = ( { name = "huge"; requests = 2000000000; per = "1h"; } );
security: { jwt = ( { issuer = "https://bench.idp"; audience = "api://bench";
		jwks_file = "$B/k/bench.jwks"; } );
	token_cache = { size = "1m"; ttl = "1h"; };
	revocation_file = ""; };
consumers = ( { name = "bench"; tier = "huge"; jwt_subjects = [ "bench-0" ]; } );
apis = ( { name = "bench"; version = "v1"; base_path = "/"; security = [ "jwt" ];
	throttling = "huge";
	endpoints = { production = [ "http://127.0.0.1:$BP" ]; keepalive = 64; }; } );
EOC
}

# CPU time (clock ticks) the workers of master $1 have used so far.
ticks() {
	local t=0 p u
	for p in $(pgrep -P "$1"); do
		u=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null)
		t=$((t + ${u:-0}))
	done
	echo $t
}
# wrkrun MASTER PORT SECONDS [wrk options]: "req/s" and the microseconds of
# worker CPU per request, or "ERR ..." when an answer was not 2xx.
wrkrun() {
	local m=$1 p=$2 s=$3 t0 t1
	shift 3
	t0=$(ticks "$m")
	# wrk stops itself after -d; timeout is only there should it hang.
	timeout -k 5 $((s + 30)) wrk -t2 -c"$conns" -d"${s}s" --timeout 2s "$@" \
	    "http://127.0.0.1:$p/bench" > "$B/wrk.out" 2>&1
	t1=$(ticks "$m")
	awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
	    /requests in/ { n = $1 } /Requests\/sec/ { r = $2 }
	    /Non-2xx/ { bad = $NF } /Socket errors/ { sub(/.*errors: /, ""); se = $0 }
	    END { if (bad || !n) printf "ERR non-2xx:%s\n", bad + 0
		else printf "%s %.2f%s\n", r, t / hz * 1e6 / n, se ? " (" se ")" : "" }' \
	    "$B/wrk.out"
}
med() { python3 -c "import statistics, sys
print('%.3f' % statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
ratio() { python3 -c "import sys
print('%.3f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$@"; }

echo "# $cmdline"
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(load)," \
    "wrk -t2 -c$conns -d${dur}s, $workers workers, loopback," \
    "$(nginx -v 2>&1 | sed 's/.*: //') backend"
echo "# A: $A ($("$A" -V), sha256 $(sha256sum < "$A" | cut -c1-12))"
echo "# B: $Bin ($("$Bin" -V), sha256 $(sha256sum < "$Bin" | cut -c1-12))"
verdicts=
for sc in plain full; do
	hdr=()
	[ $sc = full ] && hdr=(-H "Authorization: Bearer $token")
	PA=$(port) AA=$(port) PB=$(port) AB=$(port)
	mkconf $sc a "$PA" "$AA"
	mkconf $sc b "$PB" "$AB"
	for c in "$B/$sc.a/mgw.conf" "$B/$sc.b/mgw.conf"; do
		for m in "$A" "$Bin"; do
			"$m" -n -f "$c" > "$B/n.out" 2>&1 ||
			    { echo "$m -n -f $c refused it:"; cat "$B/n.out"; exit 1; }
		done
	done
	"$A" -d -f "$B/$sc.a/mgw.conf" 2>>"$B/$sc.a/mgwd.log" & ma=$!; pids="$pids $ma"
	"$Bin" -d -f "$B/$sc.b/mgw.conf" 2>>"$B/$sc.b/mgwd.log" & mb=$!; pids="$pids $mb"
	{ waitport "$PA" health && waitport "$PB" health; } ||
	    { echo "mgwd did not start:"; cat "$B/$sc".?/mgwd.log; exit 1; }
	for p in "$PA" "$PB"; do
		code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "${hdr[@]}" \
		    "http://127.0.0.1:$p/bench")
		[ "$code" = 200 ] || { echo "$sc: GET /bench on :$p: HTTP $code"; exit 1; }
	done
	if [ $sc = plain ]; then
		echo "## plain: one API, metrics, analytics and access log off"
	else
		echo "## full: JWT RS256 (cached token), API and application throttling" \
		    "(never rejects), analytics, metrics, access log"
	fi
	# One second each first: connections, token cache and counters warm.
	wrkrun "$ma" "$PA" 1 "${hdr[@]}" > /dev/null
	wrkrun "$mb" "$PB" 1 "${hdr[@]}" > /dev/null
	ratios='' cratios=''
	for r in $(seq 1 "$rounds"); do
		a=$(wrkrun "$ma" "$PA" "$dur" "${hdr[@]}")
		b=$(wrkrun "$mb" "$PB" "$dur" "${hdr[@]}")
		case "$a $b" in *ERR*)
			echo "round $r: A $a, B $b: not every answer was 2xx"
			exit 1 ;;
		esac
		# Keep the disk bounded: the logs' content is not what is measured.
		for s in a b; do
			[ -f "$B/$sc.$s/access.log" ] && : > "$B/$sc.$s/access.log"
		done
		read -r ar ac arest <<< "$a"
		read -r br bc brest <<< "$b"
		q=$(ratio "$br" "$ar") c=$(ratio "$ac" "$bc")
		ratios="$ratios $q" cratios="$cratios $c"
		echo "round $r: A $ar req/s ($ac us CPU/req)${arest:+ $arest}," \
		    "B $br req/s ($bc us CPU/req)${brest:+ $brest}, ratio B/A $q, CPU A/B $c"
	done
	# shellcheck disable=SC2086	# one argument per round
	mq=$(med $ratios) mc=$(med $cratios)
	ok=$(python3 -c "print('yes' if abs(float('$mq') - 1) <= 0.03 else 'no')")
	echo "$sc: median ratio B/A over $rounds rounds: $mq (throughput), $mc" \
	    "(worker CPU per request, A/B); within 3 %: $ok"
	verdicts="$verdicts $sc=$mq"
	if [ $sc = full ]; then
		ev=$(cat "$B"/full.?/analytics/*.jsonl* 2>/dev/null | wc -l)
		echo "full: $ev analytics events written;" \
		    "metrics on A: $(curl -s -m 5 "http://127.0.0.1:$AA/metrics" |
		    grep -vc '^#') samples; throttle table on B:" \
		    "$("$(dirname "$Bin")/mgwctl" -s "$B/full.b/mgwd.sock" throttle show 2>&1 |
		    grep -E '^(entries|no_room)' | tr '\n' ' ')"
	fi
	kill "$ma" "$mb" 2>/dev/null; wait "$ma" "$mb" 2>/dev/null
done
echo "# medians B/A:$verdicts; load at the end $(load)"
