#!/usr/bin/env bash
# Prometheus metrics on the admin listener: exact traffic across two
# workers (statuses, methods, throttled, unrouted, upstream errors by
# endpoint and kind) shows up as exact values; promtool accepts the page;
# a scrape during a reload answers 200 and no counter goes backwards;
# 2000 distinct paths and 2000 distinct clients add no line and no byte
# of shared memory; worker restarts and reloads are counted; metrics can
# be disabled.  Skipped at the end, after every other check, only if
# promtool (Debian package prometheus) is absent.
. "${top_srcdir:-.}/tests/lib.sh"

WORKERS=2
command -v "$PYTHON" >/dev/null 2>&1 || skip "python3 is not installed"
start_upstream
start_dead_port
U=http://127.0.0.1:$PORT
M=http://127.0.0.1:$ADMIN_PORT/metrics

conf() {	# [metrics enabled]
	write_conf <<EOC
policies = ( { name = "p3"; requests = 3; per = "1h";
	algorithm = "sliding_log"; } );
apis = (
	{ name = "pets"; version = "v1"; base_path = "/pets";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; }; },
	{ name = "store"; version = "v2"; base_path = "/store";
	  throttling = "p3";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; }; },
	{ name = "dead"; base_path = "/dead";
	  endpoints = { production = [ "http://127.0.0.1:$DEAD_PORT" ]; }; },
	{ name = "slow"; base_path = "/slow";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT/x" ];
	  timeout = "300ms"; }; },
	{ name = "m"; base_path = "/m";
	  endpoints = { mock = { status = 200; body = "mock"; }; }; }
);
metrics: { enabled = ${1:-true}; max_apis = 16; max_endpoints = 8; };
EOC
}
conf
mgw_start

# scrape FILE: /metrics into FILE; fails unless 200.
scrape() {
	[ "$(curl -s -o "$1" -w '%{http_code}' --max-time 10 "$M")" = 200 ]
}
# check FILE 'name{labels}=value' ...: every sample has that exact value.
check() {
	"$PYTHON" - "$@" <<'EOP'
import re, sys
doc = open(sys.argv[1]).read()
vals = {}
for line in doc.splitlines():
    if line and not line.startswith("#"):
        k, v = line.rsplit(" ", 1)
        vals[k] = float(v)
bad = []
for want in sys.argv[2:]:
    k, v = want.rsplit("=", 1)
    if vals.get(k) != float(v):
        bad.append("%s is %s, want %s" % (k, vals.get(k), v))
if bad:
    sys.stderr.write("\n".join(bad) + "\n"); sys.exit(1)
EOP
}
# value FILE 'name{labels}': one sample's value (empty if absent).
value() {
	awk -v k="$2" 'substr($0, 1, length(k) + 1) == k " " { print $2 }' "$1"
}
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }

# --- exact traffic, spread over both workers by separate connections
for i in $(seq 1 37); do
	[ "$(status_of "$U/pets/echo/$i")" = 200 ] || fail "GET $i"
done
for i in $(seq 1 5); do
	[ "$(status_of -X POST -d "x=$i" "$U/pets/status?code=201")" = 201 ] ||
	    fail "POST $i"
done
for i in $(seq 1 4); do
	[ "$(status_of "$U/nowhere/$i")" = 404 ] || fail "unrouted $i"
done
got=
for i in $(seq 1 5); do
	got="$got$(status_of "$U/store/echo")."
done
[ "$got" = 200.200.200.429.429. ] || fail "store statuses: $got"
[ "$(status_of "$U/dead/x")" = 502 ] || fail "dead endpoint not 502"
[ "$(status_of "$U/slow/slow?ms=3000")" = 504 ] || fail "slow not 504"
ok "traffic sent: 37 GET, 5 POST, 4 unrouted, 5 store (2 throttled), 502, 504"

UP="http://127.0.0.1:$UP_PORT"
P='api="pets",version="v1"'
S='api="store",version="v2"'
expect=(
	"mgw_requests_total{$P,method=\"GET\",code=\"2xx\"}=37"
	"mgw_requests_total{$P,method=\"POST\",code=\"2xx\"}=5"
	"mgw_requests_total{$P,method=\"GET\",code=\"4xx\"}=0"
	"mgw_request_duration_seconds_count{$P}=42"
	"mgw_request_duration_seconds_bucket{$P,le=\"+Inf\"}=42"
	"mgw_upstream_duration_seconds_count{$P}=42"
	"mgw_requests_total{$S,method=\"GET\",code=\"2xx\"}=3"
	"mgw_requests_total{$S,method=\"GET\",code=\"4xx\"}=2"
	"mgw_throttled_total{$S,level=\"api\"}=2"
	"mgw_throttled_total{$P,level=\"api\"}=0"
	"mgw_upstream_duration_seconds_count{$S}=3"
	"mgw_requests_total{api=\"dead\",version=\"\",method=\"GET\",code=\"5xx\"}=1"
	"mgw_requests_total{api=\"slow\",version=\"\",method=\"GET\",code=\"5xx\"}=1"
	"mgw_unrouted_requests_total=4"
	"mgw_upstream_responses_total{endpoint=\"$UP\"}=45"
	"mgw_upstream_errors_total{endpoint=\"$UP\",kind=\"connect\"}=0"
	"mgw_upstream_responses_total{endpoint=\"http://127.0.0.1:$DEAD_PORT\"}=0"
	"mgw_upstream_errors_total{endpoint=\"http://127.0.0.1:$DEAD_PORT\",kind=\"connect\"}=1"
	"mgw_upstream_errors_total{endpoint=\"$UP/x\",kind=\"timeout\"}=1"
	"mgw_reloads_total=0"
	"mgw_worker_restarts_total=0"
)
# Counted at the end of each request: wait until the last ones are in.
wait_until 10 eval 'scrape "$T/m1" && check "$T/m1" "${expect[@]}" 2>/dev/null' ||
    { scrape "$T/m1"; check "$T/m1" "${expect[@]}"; fail "values differ from the traffic"; }
ok "/metrics values equal the traffic (${#expect[@]} samples checked)"

# Histogram buckets cumulative, +Inf equal to _count, byte counters sane.
"$PYTHON" - "$T/m1" <<'EOP' || fail "histogram or byte counters inconsistent"
import re, sys
b = {}
for line in open(sys.argv[1]):
    m = re.match(r'(\w+)_bucket\{(.*),le="([^"]+)"\} (\d+)$', line)
    if m:
        b.setdefault((m[1], m[2]), []).append(int(m[4])); continue
    m = re.match(r'(\w+)_count\{(.*)\} (\d+)$', line)
    if m:
        v = b[(m[1], m[2])]
        assert v == sorted(v) and v[-1] == int(m[3]), line
    m = re.match(r'mgw_(request|response)_bytes_total\{api="pets".*\} (\d+)$', line)
    if m:
        assert int(m[2]) > 42 * 20, line
EOP
ok "histograms cumulative, le=\"+Inf\" equals _count"

if command -v promtool >/dev/null 2>&1; then
	promtool check metrics < "$T/m1" > "$T/promtool.out" 2>&1 ||
	    fail "promtool check metrics: $(head -n 5 "$T/promtool.out")"
	ok "promtool check metrics passes"
fi

# --- memory: distinct paths and clients add no line and no byte
scrape "$T/m2" || fail "scrape"
lines0=$(wc -l < "$T/m2")
zone0=$(value "$T/m2" 'mgw_shm_zone_size_bytes{zone="metrics"}')
[ -n "$zone0" ] || fail "no metrics zone size"
"$PYTHON" - "$PORT" <<'EOP' || fail "distinct-path load failed"
import http.client, sys, time
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
end = time.monotonic() + 60
for i in range(2000):
    assert time.monotonic() < end, "too slow"
    for path, st in (("/m/p%d/x?q=%d" % (i, i), 200), ("/zz%d" % i, 404)):
        c.request("GET", path, headers={"X-Forwarded-For": "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255),
            "X-Consumer": "client-%d" % i, "User-Agent": "ua-%d" % i})
        r = c.getresponse(); r.read()
        assert r.status == st, (path, r.status)
EOP
wait_until 10 eval 'scrape "$T/m3" && check "$T/m3" "mgw_unrouted_requests_total=2004" 2>/dev/null' ||
    fail "unrouted count is not 2004"
check "$T/m3" "mgw_requests_total{api=\"m\",version=\"\",method=\"GET\",code=\"2xx\"}=2000" ||
    fail "mock API count"
lines1=$(wc -l < "$T/m3")
zone1=$(value "$T/m3" 'mgw_shm_zone_size_bytes{zone="metrics"}')
[ "$lines0" -eq "$lines1" ] || fail "/metrics grew from $lines0 to $lines1 lines"
[ "$zone0" = "$zone1" ] || fail "metrics zone grew from $zone0 to $zone1"
grep -q 'p1999\|10\.0\.7\|client-' "$T/m3" && fail "a path or client leaked into a label"
ok "4000 requests, 2000 paths and 2000 clients: still $lines1 lines, zone $zone1 bytes"

# --- a scrape during a reload: every scrape 200, no counter backwards
before=$T/m3
load_start 60 3000 "$M"
wait_until 10 eval '[ "$(load_total)" -ge 5 ]' || fail "scrape loop did not start"
ctl reload > "$T/reload.out" 2>&1 || fail "reload: $(cat "$T/reload.out")"
wait_until 30 gen_only 2 || fail "old generation did not drain"
n=$(load_total)
wait_until 10 eval '[ "$(load_total)" -ge $((n + 5)) ]' || fail "no scrape after the reload"
load_stop
[ "$(load_failed)" -eq 0 ] || fail "$(load_failed) of $(load_total) scrapes failed: $(load_failures)"
scrape "$T/m4" || fail "scrape after reload"
"$PYTHON" - "$before" "$T/m4" <<'EOP' || fail "a counter went backwards"
import sys
def load(p):
    d = {}
    for line in open(p):
        if line.startswith("#") or not line.strip(): continue
        k, v = line.rsplit(" ", 1); d[k] = float(v)
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
gauges = ("mgw_connections_active", "mgw_shm_zone_used_bytes", "mgw_start_time_seconds")
bad = [k for k in a if k in b and not k.startswith(gauges) and b[k] < a[k]]
missing = [k for k in a if k not in b]
if bad or missing:
    print("backwards: %s missing: %s" % (bad[:5], missing[:5])); sys.exit(1)
EOP
check "$T/m4" "mgw_reloads_total=1" \
    "mgw_requests_total{$P,method=\"GET\",code=\"2xx\"}=37" ||
    fail "reload not counted or counts lost"
ok "$(load_total) scrapes during a reload all 200; counters kept, mgw_reloads_total 1"

# --- a worker killed -9 is respawned and counted
victim=$(worker_pids | head -n 1)
kill -KILL "$victim"
wait_until 20 eval '[ "$(status_get worker_respawns)" = 1 ] && mgw_ready' ||
    fail "worker not respawned"
wait_until 10 eval 'scrape "$T/m5" && check "$T/m5" "mgw_worker_restarts_total=1" 2>/dev/null' ||
    fail "restart not counted: $(grep restarts "$T/m5")"
ok "kill -9 of a worker: mgw_worker_restarts_total 1"

# --- disabled: /metrics is 404 with a JSON error, the gateway serves
conf false
ctl reload > "$T/reload.out" 2>&1 || fail "reload: $(cat "$T/reload.out")"
wait_until 30 gen_only 3 || fail "old generation did not drain"
[ "$(status_of "$U/m/x")" = 200 ] || fail "gateway stopped serving"
code=$(curl -s -o "$T/off" -w '%{http_code}' --max-time 10 "$M")
[ "$code" = 404 ] && grep -q '"metrics are disabled"' "$T/off" ||
    fail "disabled /metrics: $code $(cat "$T/off")"
ok "metrics disabled: /metrics answers 404 \"metrics are disabled\""

command -v promtool >/dev/null 2>&1 ||
    skip "promtool is not installed (Debian package prometheus); every other check passed"
exit 0
