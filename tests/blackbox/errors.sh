#!/usr/bin/env bash
# Gateway-made errors: 404, 405 with Allow, 502 (refused, reset), 504
# (read and connect timeouts), all with the documented JSON body; /health
# on every listener; the admin listener's /status and its 404s.
. "${top_srcdir:-.}/tests/lib.sh"

command -v curl >/dev/null 2>&1 || skip "curl is not installed"
# Resolved once: a version manager's shim can cost a second a call.
PYTHON=$(python3 -c 'import sys; print(sys.executable)') ||
    skip "python3 is not installed"

start_upstream
start_dead_port
start_blackhole

write_conf <<EOC
apis = (
	{ name = "py"; base_path = "/api";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT/up" ];
	      timeout = "500ms"; }; },
	{ name = "res"; base_path = "/res";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; };
	  resources = (
		{ path = "/items/{id}"; methods = [ "GET", "DELETE" ]; },
		{ path = "/items"; methods = [ "POST" ]; }
	  ); },
	{ name = "refused"; base_path = "/refused";
	  endpoints = { production = [ "http://127.0.0.1:$DEAD_PORT" ];
	      retries = 0; }; },
	{ name = "bh"; base_path = "/bh";
	  endpoints = { production = [ "http://127.0.0.1:$BLACKHOLE_PORT" ];
	      connect_timeout = "500ms"; retries = 0; }; }
);
EOC
mgw_start
GW=http://127.0.0.1:$PORT
ADMIN=http://127.0.0.1:$ADMIN_PORT

c() { curl -sS --max-time 30 "$@"; }

# check_error STATUS CODE [CURL ARGS...]: the request is answered with
# STATUS, Content-Type application/json and exactly the documented body,
# whose request_id is the response's X-Request-Id.  The time the request
# took, in ms, is left in $T/ems.
check_error() {
	local status=$1 code=$2 got
	shift 2
	got=$(c -D "$T/eh" -o "$T/eb" -w '%{http_code} %{time_total}' "$@") ||
	    fail "$*: curl failed"
	echo "${got#* }" | awk '{ printf "%d\n", $1 * 1000 }' > "$T/ems"
	got=${got%% *}
	[ "$got" = "$status" ] || fail "$*: status $got, want $status: $(cat "$T/eb")"
	"$PYTHON" - "$T/eh" "$T/eb" "$status" "$code" <<'EOF2' ||
import json, sys
head = open(sys.argv[1], "rb").read().decode("latin-1")
hdr = {}
for line in head.split("\r\n")[1:]:
    if ":" in line:
        k, v = line.split(":", 1); hdr[k.strip().lower()] = v.strip()
assert hdr.get("content-type") == "application/json", hdr
body = open(sys.argv[2], "rb").read()
assert int(hdr["content-length"]) == len(body), (hdr, len(body))
j = json.loads(body)
assert list(j) == ["error"], j
e = j["error"]
assert sorted(e) == ["code", "message", "request_id", "status"], e
assert e["status"] == int(sys.argv[3]) and type(e["status"]) is int, e
assert e["code"] == sys.argv[4], e
assert isinstance(e["message"], str) and e["message"], e
assert e["request_id"] == hdr.get("x-request-id") and e["request_id"], (e, hdr)
EOF2
	    fail "$*: bad error response: $(cat "$T/eh" "$T/eb")"
}

# --- routing errors ------------------------------------------------------
check_error 404 not_found "$GW/nothing/here"
check_error 404 not_found "$GW/res/unknown"
check_error 404 not_found "$GW/apix"
ok "404 not_found with the JSON error body"

check_error 405 method_not_allowed -X PUT "$GW/res/items/7"
allow=$(tr -d '\r' < "$T/eh" | sed -n 's/^[Aa]llow: //p')
[ "$allow" = "GET, HEAD, DELETE" ] || fail "405 Allow: '$allow'"
check_error 405 method_not_allowed -X GET "$GW/res/items"
allow=$(tr -d '\r' < "$T/eh" | sed -n 's/^[Aa]llow: //p')
[ "$allow" = "POST" ] || fail "405 Allow: '$allow'"
ok "405 method_not_allowed with Allow ($allow)"

check_error 404 not_found -H 'X-Request-Id: my-req.1' "$GW/nothing"
grep -q '"request_id":"my-req.1"' "$T/eb" || fail "client id not in error body"
ok "error body carries the client's X-Request-Id"

[ "$(c -o /dev/null -w '%{http_code}' "$GW/res/items/7")" = 200 ] ||
    fail "allowed resource"
[ "$(c -o /dev/null -w '%{http_code}' -I "$GW/res/items/7")" = 200 ] ||
    fail "HEAD where GET is allowed"
[ "$(c -o /dev/null -w '%{http_code}' "$GW/api/status?code=503")" = 503 ] ||
    fail "upstream status not passed through"
ok "allowed methods pass; an upstream's own error status passes through"

# --- upstream errors -----------------------------------------------------
check_error 502 upstream_error "$GW/refused/x"
ok "502 upstream_error for a refused connection"

check_error 502 upstream_error "$GW/api/reset"
[ "$(c -o /dev/null -w '%{http_code}' "$GW/api/ping")" = 200 ] ||
    fail "not serving after a reset"
ok "502 upstream_error for a connection reset without an answer"

check_error 502 upstream_error "$GW/api/garbage"
check_error 502 upstream_error "$GW/api/bighead?bytes=70000"
[ "$(c -o /dev/null -w '%{http_code}' "$GW/api/bighead?bytes=2000")" = 200 ] ||
    fail "2 kB upstream header refused"
ok "502 upstream_error for an invalid response and a 70 kB response head"

# Cut off after the head went out: the only honest signal is closing the
# client connection, with less than Content-Length delivered, at once.
c -o "$T/trunc" -w '%{http_code} %{size_download}' \
    "$GW/api/truncate?bytes=2000000" > "$T/trunc.w" 2>/dev/null
rc=$?
[ "$rc" = 18 ] || fail "truncated response: curl exit $rc ($(cat "$T/trunc.w"))"
read -r tcode tsize < "$T/trunc.w"
[ "$tcode" = 200 ] && [ "$tsize" -lt 2000000 ] || fail "truncated response: $tcode $tsize"
[ "$(c -o /dev/null -w '%{http_code}' "$GW/api/ping")" = 200 ] ||
    fail "not serving after a truncated response"
ok "upstream closing mid-body closes the client connection (got $tsize of 2000000)"

# 504 proves the timeout fired before the answer due at 3 s; the time
# shows it did not fire early.
check_error 504 upstream_timeout "$GW/api/slow?ms=3000"
ms=$(cat "$T/ems")
[ "$ms" -ge 450 ] || fail "read timeout after $ms ms"
ok "504 upstream_timeout for a read timeout (500ms, answered in $ms ms)"

check_error 504 upstream_timeout "$GW/bh/x"
ms=$(cat "$T/ems")
[ "$ms" -ge 450 ] && [ "$ms" -lt 10000 ] || fail "connect timeout after $ms ms"
grep -q 'connect timed out' "$T/eb" || fail "connect timeout: $(cat "$T/eb")"
ok "504 upstream_timeout for a connect timeout (500ms, answered in $ms ms)"

# --- /health and the admin listener --------------------------------------
for u in "$GW" "$ADMIN"; do
	out=$(c -D "$T/h" "$u/health") || fail "$u/health"
	[ "$out" = '{"status":"healthy"}' ] || fail "$u/health: $out"
	grep -qi '^content-type: application/json' "$T/h" ||
	    fail "$u/health: not JSON"
	[ "$(c -I -o /dev/null -w '%{http_code}' "$u/health")" = 200 ] ||
	    fail "HEAD $u/health"
done
ok "/health answers on every listener"

c -D "$T/h" -o "$T/status.json" "$ADMIN/status" || fail "admin /status"
"$PYTHON" - "$T/status.json" <<'EOF2' || fail "admin /status: $(cat "$T/status.json")"
import json, sys
j = json.load(open(sys.argv[1]))
for k in ("version", "generation", "requests", "responses", "connections"):
    assert k in j, k
assert j["requests"] > 0 and j["responses"]["4xx"] > 0 and j["responses"]["5xx"] > 0, j
EOF2
ok "admin listener serves /status JSON"

check_error 404 not_found "$ADMIN/api/echo"
check_error 404 not_found "$ADMIN/res/items/1"
check_error 404 not_found "$GW/status"
ok "admin listener routes no APIs; /status is not on the API listener"
exit 0
