#!/usr/bin/env bash
# The status page: /status (JSON) counts the traffic sent, exactly per
# API, with rates, error rate and percentiles over the rolling window;
# mgwctl stats prints the same numbers; /status.html is self-contained,
# renders the traffic in headless Chromium with no console message
# (screenshot kept as tests/artifacts/status.png) and shows a failed
# fetch on the page; the counts survive a reload.
. "${top_srcdir:-.}/tests/lib.sh"

WORKERS=2
write_conf <<'EOC'
policies = ( { name = "L3"; requests = 3; per = "1h";
	algorithm = "sliding_log"; } );
apis = (
	{ name = "alpha"; version = "v1"; base_path = "/a";
	  endpoints = { mock = { status = 200; body = "A"; }; }; },
	{ name = "beta"; version = "2.0"; base_path = "/b";
	  endpoints = { mock = { status = 503; body = "down"; }; }; },
	{ name = "gamma"; base_path = "/g"; throttling = "L3";
	  endpoints = { mock = { status = 200; body = "G"; }; }; },
	{ name = "odd_name-1.x"; base_path = "/o";
	  endpoints = { mock = { status = 200; body = "O"; }; }; }
);
EOC
U=http://127.0.0.1:$PORT
ADMIN=http://127.0.0.1:$ADMIN_PORT
ART=$top_builddir/tests/artifacts

mgw_start
status() { curl -fsS --max-time 5 -o "$T/status.json" "$ADMIN/status"; }

# check PYTHON-EXPR: true when the expression holds for j, the /status
# document, and a (its APIs by name).
check() {
	status || return 1
	"$PYTHON" - "$T/status.json" "$1" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
a = {x["name"]: x for x in j["apis"]}
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)
EOF
}

# --- the document's shape before any traffic
status || fail "GET /status"
"$PYTHON" - "$T/status.json" <<'EOF' || fail "/status shape: $(cat "$T/status.json")"
import json, sys
j = json.load(open(sys.argv[1]))
for k in ("version", "generation", "requests", "bytes_in", "bytes_out",
    "responses", "connections", "upstream_errors", "window_seconds",
    "requests_per_second", "error_rate", "latency_ms", "throttled", "apis"):
    assert k in j, k
assert sorted(j["responses"]) == ["1xx", "2xx", "3xx", "4xx", "5xx"], j
assert sorted(j["connections"]) == ["accepted", "active"], j
assert sorted(j["latency_ms"]) == ["p50", "p99"], j
names = [a["name"] for a in j["apis"]]
assert names == ["alpha", "beta", "gamma", "odd_name-1.x"], names
for a in j["apis"]:
    assert sorted(a) == sorted(["name", "version", "requests",
        "requests_per_second", "error_rate", "p50_ms", "p99_ms",
        "throttled"]), a
    assert a["requests"] == 0 and a["throttled"] == 0, a
assert j["apis"][0]["version"] == "v1" and j["apis"][2]["version"] is None
EOF
ok "/status: the totals, the window and one object per API, in config order"

# Two samples first, so the window's oldest one predates the traffic.
wait_until 10 check 'j["window_seconds"] >= 1' ||
    fail "no window after 10 s: $(cat "$T/status.json")"

# --- known traffic, over several connections (so both workers serve)
pids=
for c in 1 2 3 4; do
	args=()
	for i in 1 2 3 4 5; do
		args+=(-o /dev/null "$U/a/$c/$i")
	done
	curl -sS --max-time 10 -w '%{http_code}\n' "${args[@]}" \
	    > "$T/alpha.$c" &
	pids="$pids $!"
done
for p in $pids; do
	wait "$p" || fail "alpha client failed"
done
[ "$(cat "$T"/alpha.* | grep -c '^200$')" -eq 20 ] || fail "alpha: $(cat "$T"/alpha.*)"
for i in 1 2 3 4 5; do
	curl -sS --max-time 10 -o /dev/null -w '%{http_code}\n' "$U/b/$i"
done > "$T/beta"
[ "$(grep -c '^503$' "$T/beta")" -eq 5 ] || fail "beta: $(cat "$T/beta")"
for i in 1 2 3 4 5; do
	curl -sS --max-time 10 -o /dev/null -w '%{http_code}\n' "$U/g/$i"
done > "$T/gamma"
[ "$(tr '\n' ' ' < "$T/gamma")" = "200 200 200 429 429 " ] ||
    fail "gamma: $(cat "$T/gamma")"
curl -fsS --max-time 10 -o /dev/null "$U/o/1" -o /dev/null "$U/o/2" ||
    fail "odd_name-1.x"
ok "sent 20 to alpha, 5 to beta (503), 5 to gamma (2 throttled), 2 to odd"

counts() {	# ALPHA: the expected counts, alpha having had ALPHA requests
	printf '%s' 'a["alpha"]["requests"] == '"$1"' and
	    a["beta"]["requests"] == 5 and a["gamma"]["requests"] == 5 and
	    a["odd_name-1.x"]["requests"] == 2 and
	    a["gamma"]["throttled"] == 2 and a["alpha"]["throttled"] == 0 and
	    j["throttled"] == 2 and j["requests"] >= '"$(($1 + 12))"' and
	    j["responses"]["5xx"] >= 5 and j["responses"]["4xx"] >= 2'
}
wait_until 10 check "$(counts 20)" ||
    fail "counts: $(cat "$T/status.json")"
ok "/status counts exactly: $(sed 's/.*"apis"://' "$T/status.json" | cut -c1-200)..."

# The window holds all of it once a sample after the traffic is taken:
# rate x window = count, every beta answer an error, latency known.
window='j["window_seconds"] > 0 and
    round(a["alpha"]["requests_per_second"] * j["window_seconds"]) == 20 and
    round(a["beta"]["requests_per_second"] * j["window_seconds"]) == 5 and
    round(j["requests_per_second"] * j["window_seconds"]) == 32 and
    a["beta"]["error_rate"] == 1 and a["alpha"]["error_rate"] == 0 and
    abs(j["error_rate"] - 5 / 32) < 0.0002 and
    a["alpha"]["p50_ms"] is not None and a["alpha"]["p50_ms"] > 0 and
    a["alpha"]["p99_ms"] >= a["alpha"]["p50_ms"] and
    j["latency_ms"]["p50"] is not None and
    j["latency_ms"]["p99"] >= j["latency_ms"]["p50"]'
wait_until 8 check "$window" || fail "window: $(cat "$T/status.json")"
"$PYTHON" - "$T/status.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
print("# window %.1f s: %.3f req/s, error rate %.4f, p50 %s ms, p99 %s ms" % (
    j["window_seconds"], j["requests_per_second"], j["error_rate"],
    j["latency_ms"]["p50"], j["latency_ms"]["p99"]))
EOF
ok "/status window: requests/s x window = requests, error rates, p50 <= p99"

# --- mgwctl stats: the same per-API numbers, in an aligned table
st=$(ctl stats) || fail "mgwctl stats"
printf '%s\n' "$st" > "$T/stats.txt"
status || fail "GET /status"
"$PYTHON" - "$T/status.json" "$T/stats.txt" <<'EOF' || fail "stats and /status differ:
$st"
import json, re, sys
j = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read().rstrip("\n")
head, table = text.split("\n\n", 1)
kv = dict(l.split(": ", 1) for l in head.splitlines())
for k in ("requests", "bytes_in", "responses_2xx", "connections_active",
    "reloads", "worker_respawns", "window_seconds", "requests_per_second",
    "error_rate", "latency_p50_ms", "latency_p99_ms", "throttled"):
    assert k in kv, k
assert int(kv["throttled"]) == j["throttled"] == 2, kv
assert float(kv["requests_per_second"]) > 0, kv
rows = table.splitlines()
assert re.match(r"^API +VERSION +REQS +REQ/S +ERR% +P50ms +P99ms +THROTTLED$",
    rows[0]), rows[0]
assert len({len(r) for r in rows}) == 1, "rows not aligned"
ends = [m.end() for m in re.finditer(r"\S+", rows[0])]
api = {}
for r in rows[1:]:
    cells = re.split(r"  +", r.strip())
    name = cells[0]
    api[name] = cells
    # Numbers end under their heading.
    num = [m.end() for m in re.finditer(r"\S+", r)][-6:]
    assert num == ends[-6:], (r, num, ends)
for a in j["apis"]:
    c = api[a["name"]]
    assert int(c[2]) == a["requests"], (c, a)
    assert int(c[7]) == a["throttled"], (c, a)
    assert c[1] == (a["version"] or "-"), (c, a)
assert api["beta"][4] == "100.00" and api["alpha"][4] == "0.00", api
assert float(api["alpha"][3]) > 0 and api["alpha"][5] != "-", api
EOF
ok "mgwctl stats: key: value totals and an aligned table with /status's counts"
printf '%s\n' "$st" | sed -n '/^API/,$p' | sed 's/^/# /'

# --- /status.html: one small self-contained page
curl -fsS --max-time 5 -D "$T/h" -o "$T/page.html" "$ADMIN/status.html" ||
    fail "GET /status.html"
grep -qi '^content-type: text/html' "$T/h" || fail "/status.html: $(grep -i content-type "$T/h")"
size=$(wc -c < "$T/page.html")
[ "$size" -lt 8192 ] || fail "/status.html is $size bytes"
refs=$(grep -Eo '(src|href|url)[=(]"?[^" )>]*' "$T/page.html" | grep -v 'href="data:' || true)
[ -z "$refs" ] || fail "/status.html refers to other assets: $refs"
ok "/status.html: text/html, $size bytes, no external asset"

# --- headless Chromium
CHROME=$(command -v chromium || command -v chromium-browser) ||
    skip "chromium is not installed (Debian package chromium)"
export HOME=$T/home
mkdir -p "$HOME" "$ART"
chrome() {	# LOG ARGS...: one bounded headless run, stderr to LOG
	local log=$1 n
	shift
	_chrome_n=$(( ${_chrome_n:-0} + 1 ))
	n=$_chrome_n
	timeout 60 "$CHROME" --headless=new --no-sandbox --disable-gpu \
	    --no-first-run --disable-extensions --user-data-dir="$T/chrome.$n" \
	    --enable-logging=stderr --v=0 --virtual-time-budget=6000 \
	    "$@" 2> "$log"
}

# The harness first: Chromium must report a page's console on stderr,
# or a silent pass below would prove nothing.
cat > "$T/bad.html" <<'EOF'
<!doctype html><link rel="icon" href="data:,"><p id="x">x</p><script>
setTimeout(function () { null.boom; }, 100);</script>
EOF
chrome "$T/bad.log" --dump-dom "file://$T/bad.html" > /dev/null ||
    fail "chromium failed on a local page: $(tail -n 5 "$T/bad.log")"
grep -q 'CONSOLE.*Uncaught TypeError' "$T/bad.log" ||
    fail "chromium does not log console errors: $(grep -c . "$T/bad.log") lines"
ok "harness: chromium reports an uncaught error of a page on stderr"

# Live traffic while the page renders, so its rates are not zero.
load_start 120 20000 "$U/a/live"
wait_until 10 check 'a["alpha"]["requests_per_second"] > 0' ||
    fail "no rate under load: $(cat "$T/status.json")"
chrome "$T/dom.log" --dump-dom "$ADMIN/status.html" > "$T/dom.html" ||
    fail "chromium --dump-dom failed: $(tail -n 5 "$T/dom.log")"
if grep -E 'CONSOLE|Uncaught' "$T/dom.log" > "$T/console"; then
	fail "console messages on /status.html: $(cat "$T/console")"
fi
"$PYTHON" - "$T/dom.html" <<'EOF' || fail "rendered page: $(cat "$T/dom.html")"
import re, sys
d = open(sys.argv[1]).read()
rows = re.findall(r"<tr[^>]*>(.*?)</tr>", re.sub(r"\s+", " ", d))
cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows]
by = {c[0]: c for c in cells if c}
assert int(by["alpha"][2]) >= 20 and by["gamma"][7] == "2", by
assert by["odd_name-1.x"][2] == "2", by
assert float(by["alpha"][3]) > 0 and by["alpha"][5] != "-", by
assert re.search(r'<span id="state"( class="")?>mgw [^<]*generation 1, updated [^<]*<', d)
m = re.search(r'<b id="t-req">(\d+)</b>', d)
assert m and int(m.group(1)) >= 32, m
EOF
ok "chromium renders /status.html: the API table shows the traffic, no console message"

chrome "$T/shot.log" --window-size=1100,600 \
    --screenshot="$ART/status.png" "$ADMIN/status.html" ||
    fail "chromium --screenshot failed: $(tail -n 5 "$T/shot.log")"
[ "$(head -c 8 "$ART/status.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] ||
    fail "no PNG screenshot at $ART/status.png"
! grep -E 'CONSOLE|Uncaught' "$T/shot.log" || fail "console messages in the screenshot run"
ok "screenshot: $ART/status.png ($(wc -c < "$ART/status.png") bytes)"
load_stop
[ "$(load_failed)" -eq 0 ] || fail "load: $(load_failures)"
ALPHA=$((20 + $(load_total)))
wait_until 10 check "$(counts $ALPHA)" ||
    fail "after $(load_total) more to alpha: $(cat "$T/status.json")"
ok "$(load_total) more requests to alpha during the renders: alpha counts $ALPHA exactly"

# A failed fetch is shown on the page, not thrown: the same page from a
# server whose /status is missing.
WWW_PORT=$(free_port)
mkdir -p "$T/www"
cp "$T/page.html" "$T/www/status.html"
"$PYTHON" -m http.server --bind 127.0.0.1 --directory "$T/www" "$WWW_PORT" \
    > "$T/www.log" 2>&1 &
_bg_pids="$_bg_pids $!"
www_up() {
	curl -fsS -o /dev/null --max-time 2 \
	    "http://127.0.0.1:$WWW_PORT/status.html" 2>/dev/null
}
wait_until 10 www_up || fail "http.server did not start"
chrome "$T/err.log" --dump-dom "http://127.0.0.1:$WWW_PORT/status.html" \
    > "$T/err.html" || fail "chromium failed: $(tail -n 5 "$T/err.log")"
grep -q '<span id="state" class="err">cannot load /status: HTTP 404</span>' "$T/err.html" ||
    fail "fetch error not shown: $(grep -o '<span id="state"[^/]*' "$T/err.html")"
! grep -q 'Uncaught' "$T/err.log" || fail "uncaught error after a failed fetch: $(grep Uncaught "$T/err.log")"
ok "a failed /status fetch shows on the page, nothing uncaught"

# --- a reload keeps the counts and the window
ctl reload > /dev/null || fail "reload"
wait_until 20 gen_only 2 || fail "generation 2 did not take over"
wait_until 10 check 'j["generation"] == 2 and '"$(counts $ALPHA)" ||
    fail "after reload: $(cat "$T/status.json")"
st=$(ctl stats) || fail "mgwctl stats after reload"
printf '%s\n' "$st" | grep -Eq "^alpha +v1 +$ALPHA " || fail "stats after reload: $st"
printf '%s\n' "$st" | grep -qx 'reloads: 1' || fail "reloads: $st"
ok "after a reload: generation 2 serves the same counts; stats says reloads: 1"
exit 0
