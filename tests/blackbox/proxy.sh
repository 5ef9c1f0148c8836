#!/usr/bin/env bash
# Proxying end to end: the real mgwd between curl (or a raw socket) and
# real upstreams (nginx, tests/upstream.py).  Methods and bodies in both
# framings, streamed responses, path mapping, forwarding headers, request
# ids, hop-by-hop headers, HEAD, HTTP/1.0, keep-alive, pipelining,
# 100-continue, round robin, failover, and bounded worker memory while
# 300 MB go through in each direction.
. "${top_srcdir:-.}/tests/lib.sh"

command -v curl >/dev/null 2>&1 || skip "curl is not installed"
# Resolved once: a version manager's shim can cost a second a call.
PYTHON=$(python3 -c 'import sys; print(sys.executable)') ||
    skip "python3 is not installed"

start_upstream
UP1=$UP_PORT
start_upstream
UP2=$UP_PORT
UP_PORT=$UP1
start_nginx
start_dead_port

write_conf <<EOC
limits: { max_body_size = "1g"; };
apis = (
	{ name = "py"; base_path = "/api";
	  endpoints = { production = [ "http://127.0.0.1:$UP1/up" ]; }; },
	{ name = "ngx"; base_path = "/ngx";
	  endpoints = { production = [ "http://127.0.0.1:$NGX_PORT" ]; }; },
	{ name = "rr"; base_path = "/rr";
	  endpoints = { production = [ "http://127.0.0.1:$UP1",
	      "http://127.0.0.1:$UP2" ]; }; },
	{ name = "fo"; base_path = "/fo";
	  endpoints = { production = [ "http://127.0.0.1:$DEAD_PORT",
	      "http://127.0.0.1:$UP1" ]; retries = 1; }; }
);
EOC
# Under ASan, freed memory waits in a quarantine of 256 MB by default, and
# 300 MB through the buffers would fill it: RSS would measure ASan, not
# us.  A small quarantine keeps the memory check meaningful there.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8:thread_local_quarantine_size_kb=256"
mgw_start
GW=http://127.0.0.1:$PORT

c() { curl -sS --max-time 60 "$@"; }

# jget FILE EXPR: evaluate a python expression on the JSON in FILE (as j).
jget() {
	"$PYTHON" -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2" || fail "not JSON: $(head -c 300 "$1")"
}

# sha_of_pattern BYTE N: sha256 of N copies of BYTE, without a file.
sha_of_pattern() {
	"$PYTHON" -c 'import hashlib, sys
b, n = sys.argv[1].encode(), int(sys.argv[2])
h = hashlib.sha256(); blk = b * 1048576
while n > 0:
    h.update(blk[:min(n, len(blk))]); n -= len(blk)
print(h.hexdigest())' "$1" "$2"
}

sha() { sha256sum "$@" | cut -d' ' -f1; }

# --- methods and bodies --------------------------------------------------
head -c 3000000 /dev/urandom > "$T/body.bin"
BODY_SHA=$(sha "$T/body.bin")

c -o "$T/r.json" "$GW/api/echo"
[ "$(jget "$T/r.json" 'j["method"]')" = GET ] || fail "GET: $(cat "$T/r.json")"
ok "GET through the gateway to the python upstream"

for m in POST PUT; do
	c -X "$m" -H 'Expect:' --data-binary @"$T/body.bin" -o "$T/r.json" \
	    "$GW/api/echo"
	[ "$(jget "$T/r.json" 'j["method"], j["body_len"], j["sha256"]')" = \
	    "('$m', 3000000, '$BODY_SHA')" ] ||
	    fail "$m with Content-Length: $(cat "$T/r.json")"
	[ "$(jget "$T/r.json" 'j["headers"].get("content-length")')" = \
	    3000000 ] || fail "$m: Content-Length not forwarded"
	ok "$m with a Content-Length body arrives intact"

	c -X "$m" -H 'Expect:' -H 'Transfer-Encoding: chunked' \
	    --data-binary @"$T/body.bin" -o "$T/r.json" "$GW/api/echo"
	[ "$(jget "$T/r.json" 'j["method"], j["body_len"], j["sha256"]')" = \
	    "('$m', 3000000, '$BODY_SHA')" ] ||
	    fail "$m chunked: $(cat "$T/r.json")"
	[ "$(jget "$T/r.json" 'j["headers"].get("transfer-encoding")')" = \
	    chunked ] || fail "$m: chunked body not sent chunked"
	ok "$m with a chunked body arrives intact"
done

c -X POST -o "$T/r.json" "$GW/api/echo"
[ "$(jget "$T/r.json" 'j["body_len"], j["headers"].get("content-length")')" = \
    "(0, '0')" ] || fail "empty POST: $(cat "$T/r.json")"
ok "POST without a body is sent with Content-Length: 0"

head -c 5000000 /dev/urandom > "$T/www/big.bin"
# nginx's workers run as nobody; mktemp made $T private.
chmod 755 "$T" "$T/www"
chmod 644 "$T/www/big.bin"
c -o "$T/big.out" "$GW/ngx/big.bin"
[ "$(sha "$T/big.out")" = "$(sha "$T/www/big.bin")" ] ||
    fail "5 MB file from nginx differs"
ok "GET of a 5 MB file from nginx is intact"

for m in GET POST PUT; do
	if [ "$m" = GET ]; then
		out=$(c "$GW/ngx/nginx-echo?q=1")
	else
		# nginx takes 1 MB bodies by default.
		out=$(head -c 100000 "$T/body.bin" | c -X "$m" \
		    --data-binary @- "$GW/ngx/nginx-echo?q=1")
	fi
	case $out in
	"$m /nginx-echo?q=1 xff=127.0.0.1 rid="*" host=127.0.0.1:$NGX_PORT") ;;
	*) fail "$m to nginx: $out" ;;
	esac
done
ok "GET, POST and PUT through the gateway to nginx"

# --- streamed responses --------------------------------------------------
c -D "$T/h" -o "$T/chunked.out" "$GW/api/chunked?n=300&size=10000"
grep -qi '^transfer-encoding: chunked' "$T/h" || fail "chunked: not chunked"
want=$("$PYTHON" -c 'import hashlib
print(hashlib.sha256(b"".join(bytes([97 + i % 26]) * 10000
    for i in range(300))).hexdigest())')
[ "$(sha "$T/chunked.out")" = "$want" ] || fail "chunked response differs"
ok "chunked response streamed intact (3 MB)"

c -D "$T/h" -o "$T/close.out" "$GW/api/close?bytes=3000000"
[ "$(stat -c %s "$T/close.out")" = 3000000 ] &&
    [ "$(sha "$T/close.out")" = "$(sha_of_pattern x 3000000)" ] ||
    fail "close-delimited response differs"
grep -qi '^transfer-encoding: chunked' "$T/h" ||
    fail "close-delimited body not re-framed for an HTTP/1.1 client"
ok "close-delimited response streamed intact, re-framed as chunked"

c -D "$T/h" -o "$T/big.out" "$GW/api/big?bytes=20000000"
grep -qi '^content-length: 20000000' "$T/h" || fail "big: no Content-Length"
[ "$(sha "$T/big.out")" = "$(sha_of_pattern y 20000000)" ] ||
    fail "20 MB response differs"
ok "20 MB response with Content-Length streamed intact"

# --- path mapping --------------------------------------------------------
c -o "$T/r.json" "$GW/api/a/b/c?x=1&y=%20z&x=2"
[ "$(jget "$T/r.json" 'j["path"]')" = "/up/a/b/c?x=1&y=%20z&x=2" ] ||
    fail "path mapping: $(cat "$T/r.json")"
c -o "$T/r.json" "$GW/api"
[ "$(jget "$T/r.json" 'j["path"]')" = "/up" ] ||
    fail "base path alone: $(cat "$T/r.json")"
c -o "$T/r.json" "$GW/rr/x?k=v"
[ "$(jget "$T/r.json" 'j["path"]')" = "/x?k=v" ] ||
    fail "no prefix: $(cat "$T/r.json")"
ok "path mapped: endpoint prefix + rest after base path, query kept"

# --- forwarding headers and request ids ----------------------------------
c -H 'X-Forwarded-For: 6.6.6.6' -H 'X-Forwarded-Proto: https' \
    -H 'X-Forwarded-Host: evil.example' -H 'Host: gw.example:81' \
    -D "$T/h" -o "$T/r.json" "$GW/api/echo"
[ "$(jget "$T/r.json" '[j["headers"].get(k) for k in ("x-forwarded-for",
    "x-forwarded-proto", "x-forwarded-host", "host")]')" = \
    "['127.0.0.1', 'http', 'gw.example:81', '127.0.0.1:$UP1']" ] ||
    fail "forwarding headers: $(cat "$T/r.json")"
ok "X-Forwarded-For/Proto/Host set; client values replaced (untrusted peer)"

rid=$(tr -d '\r' < "$T/h" | awk -F': ' 'tolower($1) == "x-request-id" { print $2 }')
printf '%s\n' "$rid" | grep -Eqx '[0-9a-f]{32}' || fail "generated id: '$rid'"
[ "$(jget "$T/r.json" 'j["headers"].get("x-request-id")')" = "$rid" ] ||
    fail "generated id not forwarded upstream"
ok "X-Request-Id generated (32 hex), forwarded and returned"

c -H 'X-Request-Id: abc-123.X_y' -D "$T/h" -o "$T/r.json" "$GW/api/echo"
grep -qi '^x-request-id: abc-123.X_y' "$T/h" || fail "valid id not returned"
[ "$(jget "$T/r.json" 'j["headers"].get("x-request-id")')" = abc-123.X_y ] ||
    fail "valid id not forwarded"
c -H 'X-Request-Id: not valid!' -D "$T/h" -o "$T/r.json" "$GW/api/echo"
rid=$(tr -d '\r' < "$T/h" | awk -F': ' 'tolower($1) == "x-request-id" { print $2 }')
printf '%s\n' "$rid" | grep -Eqx '[0-9a-f]{32}' || fail "invalid id kept: '$rid'"
[ "$(jget "$T/r.json" 'j["headers"].get("x-request-id")')" = "$rid" ] ||
    fail "replacement id not forwarded"
ok "valid X-Request-Id kept end to end, invalid one replaced"

c -H 'Connection: keep-alive, X-Hop' -H 'X-Hop: 1' -H 'Keep-Alive: timeout=5' \
    -H 'Proxy-Connection: keep-alive' -H 'TE: trailers' -H 'Trailer: X-T' \
    -H 'Upgrade: foo/1' -H 'X-End: 2' -o "$T/r.json" "$GW/api/echo"
[ "$(jget "$T/r.json" '(sorted(k for k in j["headers"] if k in ("connection",
    "x-hop", "keep-alive", "proxy-connection", "te", "trailer", "upgrade")),
    j["headers"].get("x-end"))')" = "([], '2')" ] ||
    fail "hop-by-hop headers forwarded: $(cat "$T/r.json")"
ok "hop-by-hop headers (and those named in Connection) not forwarded"

# --- HEAD, HTTP/1.0 ------------------------------------------------------
printf 'HEAD /api/echo HTTP/1.1\r\nHost: x\r\n\r\nGET /api/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
    raw_http "$PORT" 20 > "$T/raw" || fail "HEAD: connection not closed"
"$PYTHON" - "$T/raw" <<'EOF2' || fail "HEAD: $(cat -A "$T/raw" | head -20)"
import sys
d = open(sys.argv[1], "rb").read()
h1, rest = d.split(b"\r\n\r\n", 1)
assert h1.startswith(b"HTTP/1.1 200"), h1
assert b"\r\ncontent-length: " in h1.lower(), h1
# No body after the HEAD response: the next bytes are the next response.
assert rest.startswith(b"HTTP/1.1 200"), rest[:80]
assert rest.endswith(b"pong"), rest[-40:]
EOF2
[ "$(c -I -o /dev/null -w '%{http_code}' "$GW/ngx/big.bin")" = 200 ] ||
    fail "HEAD to nginx"
ok "HEAD answered with headers only, connection reusable"

printf 'GET /api/echo HTTP/1.0\r\n\r\n' | raw_http "$PORT" 20 > "$T/raw" ||
    fail "HTTP/1.0: connection not closed"
head -1 "$T/raw" | grep -q '^HTTP/1.1 200' || fail "HTTP/1.0: $(head -1 "$T/raw")"
tail -1 "$T/raw" | grep -q '"method": "GET"' || fail "HTTP/1.0 body"
printf 'GET /api/chunked?n=4&size=5 HTTP/1.0\r\n\r\n' | raw_http "$PORT" 20 \
    > "$T/raw" || fail "HTTP/1.0 chunked: connection not closed"
"$PYTHON" - "$T/raw" <<'EOF2' || fail "HTTP/1.0 chunked: $(cat -A "$T/raw")"
import sys
d = open(sys.argv[1], "rb").read()
h, b = d.split(b"\r\n\r\n", 1)
assert b"transfer-encoding" not in h.lower(), h
assert b == b"aaaaabbbbbcccccddddd", b
EOF2
[ "$(c -0 -o /dev/null -w '%{http_code}' "$GW/api/echo")" = 200 ] ||
    fail "curl -0"
ok "HTTP/1.0 client: answered, close-delimited, never chunked"

# --- keep-alive, pipelining, 100-continue --------------------------------
n=$(c -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' \
    "$GW/api/echo" "$GW/api/echo?2" "$GW/ngx/nginx-echo" | tr '\n' ' ')
[ "$n" = "1 0 0 " ] || fail "keep-alive: num_connects $n"
ok "keep-alive: three requests on one connection"

printf 'GET /api/p1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /api/p2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /api/p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
    raw_http "$PORT" 20 > "$T/raw" || fail "pipeline: connection not closed"
"$PYTHON" - "$T/raw" <<'EOF2' || fail "pipeline: $(cat "$T/raw")"
import json, sys
d = open(sys.argv[1], "rb").read(); seen = []
while d:
    h, d = d.split(b"\r\n\r\n", 1)
    assert h.startswith(b"HTTP/1.1 200"), h
    n = int([l.split(b":")[1] for l in h.split(b"\r\n")
             if l.lower().startswith(b"content-length:")][0])
    j = json.loads(d[:n]); d = d[n:]
    seen.append((j["method"], j["path"], j["body_len"]))
assert seen == [("GET", "/up/p1", 0), ("POST", "/up/p2", 5),
                ("GET", "/up/p3", 0)], seen
EOF2
ok "pipelining: three requests in one write, three responses in order"

"$PYTHON" -c 'import sys
sys.stdout.write("".join("GET /api/n%d HTTP/1.1\r\nHost: x\r\n\r\n" % i
    for i in range(60)) + "GET /api/n60 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")' |
    raw_http "$PORT" 30 > "$T/raw" || fail "long pipeline: connection not closed"
"$PYTHON" -c 'import json, re, sys
d = open(sys.argv[1], "rb").read()
paths = re.findall(rb"\"path\": \"(/up/n[0-9]+)\"", d)
assert paths == [b"/up/n%d" % i for i in range(61)], paths
assert d.count(b"HTTP/1.1 200 OK") == 61' "$T/raw" ||
    fail "long pipeline: $(head -c 500 "$T/raw")"
ok "pipelining: 61 requests in one write, answered in order"

# A client that half-closes after its request still gets the answer.
"$PYTHON" - "$PORT" <<'EOF2' || fail "half-close"
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
s.shutdown(socket.SHUT_WR)
d = b""
while True:
    r = s.recv(65536)
    if not r:
        break
    d += r
h, b = d.split(b"\r\n\r\n", 1)
assert h.startswith(b"HTTP/1.1 200"), h
assert json.loads(b)["body_len"] == 3, b
EOF2
ok "a request followed by a half-close is answered"

head -c 2000000 /dev/urandom > "$T/body2.bin"
c -v --expect100-timeout 30 --data-binary @"$T/body2.bin" -o "$T/r.json" \
    "$GW/api/echo" 2> "$T/curl.err"
grep -q '^> Expect: 100-continue' "$T/curl.err" || fail "curl sent no Expect"
grep -q '^< HTTP/1.1 100 Continue' "$T/curl.err" || fail "no 100 Continue"
[ "$(jget "$T/r.json" 'j["body_len"], j["sha256"], "expect" in j["headers"]')" = \
    "(2000000, '$(sha "$T/body2.bin")', False)" ] ||
    fail "100-continue body: $(cat "$T/r.json")"
ok "Expect: 100-continue answered by the gateway, body intact"

# --- balancing -----------------------------------------------------------
urls=
for i in 1 2 3 4 5 6; do urls="$urls $GW/rr/echo"; done
# shellcheck disable=SC2086
ports=$(c $urls | "$PYTHON" -c 'import json, sys
print(" ".join(str(json.loads(l)["port"]) for l in sys.stdin))')
set -- $ports
[ $# = 6 ] || fail "round robin: $ports"
[ "$1" != "$2" ] && [ "$1" = "$3" ] && [ "$1" = "$5" ] &&
    [ "$2" = "$4" ] && [ "$2" = "$6" ] || fail "round robin: $ports"
case "$1 $2" in "$UP1 $UP2"|"$UP2 $UP1") ;; *) fail "round robin: $ports" ;; esac
ok "round robin alternates over two upstreams ($ports)"

for i in 1 2 3 4 5 6; do
	code=$(c -o "$T/r.json" -w '%{http_code}' "$GW/fo/echo")
	[ "$code" = 200 ] || fail "failover request $i: $code"
	[ "$(jget "$T/r.json" 'j["port"]')" = "$UP1" ] || fail "failover port"
done
ok "failover: one endpoint down, every request still 200"

# --- bounded memory while streaming 300 MB each way ----------------------
pids=$(worker_pids)
[ -n "$pids" ] || fail "no worker pids"
rss_of() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
idle=0
for p in $pids; do
	r=$(rss_of "$p")
	[ "${r:-0}" -gt "$idle" ] && idle=$r
done
limit=65536	# kB
if grep -aq __asan_init "$MGWD" 2>/dev/null; then
	# Shadow memory inflates the baseline; growth is what matters.
	limit=$((idle + 65536))
	say "ASan build: RSS limit is idle ($idle kB) + 64 MB"
fi
say "worker RSS idle: $idle kB"

# rss_watch OUT: sample the workers' VmRSS until $T/rss.stop appears (or
# 3 minutes pass); write the maximum in kB to OUT.
rss_watch() {
	local max=0 i=0 p r
	while [ ! -e "$T/rss.stop" ] && [ $i -lt 9000 ]; do
		for p in $pids; do
			r=$(rss_of "$p")
			[ "${r:-0}" -gt "$max" ] && max=$r
		done
		i=$((i + 1))
		tick 0.02
	done
	echo "$max" > "$1"
}

SIZE=$((300 * 1048576))
ZSHA=$("$PYTHON" -c 'import hashlib
h = hashlib.sha256(); z = bytes(1048576)
for i in range(300): h.update(z)
print(h.hexdigest())')

# curl -T - does not know the size: the body goes chunked.
rm -f "$T/rss.stop"
rss_watch "$T/rss.up" &
w=$!
head -c $SIZE /dev/zero | c -T - \
    -o "$T/r.json" "$GW/api/echo"
touch "$T/rss.stop"
wait "$w"
[ "$(jget "$T/r.json" 'j["body_len"], j["sha256"]')" = "($SIZE, '$ZSHA')" ] ||
    fail "300 MB upload: $(cat "$T/r.json")"
[ "$(cat "$T/rss.up")" -lt "$limit" ] ||
    fail "worker RSS reached $(cat "$T/rss.up") kB during a 300 MB upload"
ok "300 MB chunked upload streamed intact, worker RSS peak $(cat "$T/rss.up") kB"

# --data-binary @- reads it all first and sends a Content-Length (curl
# holds the 100 MB, not the gateway).
rm -f "$T/rss.stop"
rss_watch "$T/rss.upcl" &
w=$!
head -c $((100 * 1048576)) /dev/zero | c -H 'Expect:' --data-binary @- \
    -o "$T/r.json" "$GW/api/echo"
touch "$T/rss.stop"
wait "$w"
[ "$(jget "$T/r.json" 'j["body_len"], j["headers"].get("content-length")')" = \
    "($((100 * 1048576)), '$((100 * 1048576))')" ] ||
    fail "100 MB upload: $(cat "$T/r.json")"
[ "$(cat "$T/rss.upcl")" -lt "$limit" ] ||
    fail "worker RSS reached $(cat "$T/rss.upcl") kB during a 100 MB upload"
ok "100 MB Content-Length upload streamed intact, worker RSS peak $(cat "$T/rss.upcl") kB"

rm -f "$T/rss.stop"
rss_watch "$T/rss.down" &
w=$!
got=$(c "$GW/api/big?bytes=$SIZE" | sha256sum | cut -d' ' -f1)
touch "$T/rss.stop"
wait "$w"
[ "$got" = "$(sha_of_pattern y $SIZE)" ] || fail "300 MB download differs"
[ "$(cat "$T/rss.down")" -lt "$limit" ] ||
    fail "worker RSS reached $(cat "$T/rss.down") kB during a 300 MB download"
ok "300 MB download streamed intact, worker RSS peak $(cat "$T/rss.down") kB"

[ "$(worker_pids | sort)" = "$(printf '%s\n' $pids | sort)" ] ||
    fail "workers changed during the test"
ok "same workers throughout"
exit 0
