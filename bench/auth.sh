#!/usr/bin/env bash
# bench/auth.sh [-d SECONDS] [-r ROUNDS] [-n NCOLD] [-N NDISTINCT]
#
# What authentication costs through mgwd (2 workers, nginx backend, one
# gateway serving two APIs to the same backend):
#  1. cache warm: the same RS256 token on every request to a JWT API,
#     against the same API path with no security, alternated open/jwt in
#     one run, the ratio jwt/open per round;
#  2. cache cold: NCOLD distinct tokens per algorithm, cycled, more than
#     the (deliberately small) token cache holds, so every request
#     verifies a signature: throughput and the CPU cost per verification
#     it implies, against the warm figure of the same algorithm;
#  3. NDISTINCT distinct tokens cycled once: worker RSS and the cache's
#     entry count before and after stay bounded.
set -u
cd "$(dirname "$0")/.."
dur=10 rounds=2 ncold=3000 ndistinct=100000
while getopts d:r:n:N: o; do
	case $o in
	d) dur=$OPTARG ;; r) rounds=$OPTARG ;; n) ncold=$OPTARG ;;
	N) ndistinct=$OPTARG ;; *) exit 1 ;;
	esac
done
BENCH_NAME=abench
. bench/lib.sh
start_backend
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
"$PY" bench/auth-mint.py "$B/k" "$ncold" "$ndistinct" ||
    { echo "minting failed"; exit 1; }

P=$(port) A=$(port)
cat > "$B/auth.conf" <<EOC
gateway: { workers = 2; user = "root"; pid_file = "$B/mgwd.pid";
	control_socket = "$B/mgwd.sock"; error_log = "$B/mgwd.err"; access_log = "off"; };
listeners = ( { name = "http"; listen = "127.0.0.1:$P"; },
	{ name = "admin"; listen = "127.0.0.1:$A"; admin = true; } );
security: { jwt = ( { issuer = "https://bench.idp"; audience = "api://bench";
		jwks_file = "$B/k/bench.jwks"; } );
	token_cache = { size = "1m"; ttl = "1h"; };
	revocation_file = ""; };
apis = ( { name = "open"; version = "v1"; base_path = "/open";
		endpoints = { production = [ "http://127.0.0.1:$BP" ]; }; },
	{ name = "jwt"; version = "v1"; base_path = "/jwt"; security = [ "jwt" ];
		endpoints = { production = [ "http://127.0.0.1:$BP" ]; }; } );
EOC
"$MGWD" -d -f "$B/auth.conf" 2>>"$B/mgwd.log" & mpid=$!; pids="$pids $mpid"
waitport "$P" health || { echo "mgwd did not start"; cat "$B/mgwd.log"; exit 1; }
metric() { curl -fsS "http://127.0.0.1:$A/metrics" |
	awk -v m="$1" '$1 == m { print $2; f = 1 } END { if (!f) print "n/a" }'; }

# CPU time (clock ticks) the workers have used so far.
ticks() { local t=0 p; for p in $(pgrep -P "$mpid"); do
	t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done; echo $t; }
wrkrun() {	# [wrk options] path: "req/s us-of-worker-CPU-per-request"
	local t0 t1 path
	eval "path=\${$#}"
	t0=$(ticks)
	wrk -t2 -c50 -d"${dur}s" "${@:1:$#-1}" "http://127.0.0.1:$P$path" \
	    > "$B/wrk.out"
	t1=$(ticks)
	awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
	    /requests in/ { n = $1 } /Requests\/sec/ { r = $2 }
	    /Non-2xx/ { bad = $NF }
	    END { if (bad) print "ERR" bad; else printf "%s %.2f\n", r, t / hz * 1e6 / n }' \
	    "$B/wrk.out"
}
for kid in rs256 es256 eddsa hs256; do
	code=$(curl -s -o /dev/null -w '%{http_code}' \
	    -H "Authorization: Bearer $(cat "$B/k/warm.$kid")" \
	    "http://127.0.0.1:$P/jwt/x")
	[ "$code" = 200 ] || { echo "warm $kid token: HTTP $code"; exit 1; }
done
echo "# auth bench $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, wrk -t2 -c50 -d${dur}s, 2 workers"
echo "## 1. JWT RS256, cache warm, against the same API with no auth"
# Throughput on a shared machine swings with the neighbours; the workers'
# CPU time per request does much less, so both are reported.
ratios= cratios=
warm=$(cat "$B/k/warm.rs256")
for r in $(seq 1 "$rounds"); do
	set -- $(wrkrun /open/x) $(wrkrun -H "Authorization: Bearer $warm" /jwt/x)
	case "$*" in *ERR*) echo "round $r: non-2xx answers ($*)"; exit 1 ;; esac
	q=$(python3 -c "print('%.2f' % ($3 / $1))")
	c=$(python3 -c "print('%.2f' % ($2 / $4))")
	ratios="$ratios $q" cratios="$cratios $c"
	echo "round $r: open $1 req/s ($2 us CPU/req), jwt $3 req/s ($4 us CPU/req), ratio jwt/open $q, CPU open/jwt $c"
done
med() { python3 -c "import statistics, sys
print('%.2f' % statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
echo "median ratio jwt/open over $rounds rounds: $(med $ratios) (throughput), $(med $cratios) (worker CPU per request, open/jwt)"

echo "## 2. every request a cache miss: $ncold distinct tokens per algorithm"
echo "token cache capacity: $(metric mgw_token_cache_capacity) entries"
for kid in rs256 es256 eddsa hs256; do
	set -- $(wrkrun -H "Authorization: Bearer $(cat "$B/k/warm.$kid")" /jwt/x)
	m0=$(metric mgw_token_cache_misses_total)
	set -- "$@" $(TOKENS="$B/k/cold.$kid" wrkrun -s bench/tokens.lua /jwt/x)
	m1=$(metric mgw_token_cache_misses_total)
	case "$*" in *ERR*) echo "$kid: non-2xx answers ($*)"; exit 1 ;; esac
	python3 -c "
print('%-6s warm %6.0f req/s %5.1f us CPU/req; cold %6.0f req/s %5.1f us '
      'CPU/req: a verification costs ~%.0f us of worker CPU; '
      'cache misses +%s' % ('$kid', $1, $2, $3, $4, $4 - $2,
      '$m1' if '$m0' == 'n/a' else int(float('$m1') - float('$m0'))))"
done

echo "## 3. $ndistinct distinct tokens, each used once"
r1=$(rss "$mpid"); e1=$(metric mgw_token_cache_entries)
TOKENS="$B/k/distinct" wrk -t2 -c50 -d"${dur}s" -s bench/tokens.lua \
    "http://127.0.0.1:$P/jwt/x" | awk '/requests in/ { print "distinct run: " $1 " requests" }'
r2=$(rss "$mpid"); e2=$(metric mgw_token_cache_entries)
echo "workers RSS: $r1 kB before, $r2 kB after; cache entries: $e1 before, $e2 after (capacity $(metric mgw_token_cache_capacity))"
