#!/usr/bin/env bash
# The limits group enforced on the wire: 413 (Content-Length and a chunked
# body that grows too big), 431, 408 for a slow head and a stalled body,
# keepalive_timeout closing an idle connection, and max_connections
# answering the connection over the limit with 503.  Timeouts are waited
# for on the socket, never with a fixed sleep.
. "${top_srcdir:-.}/tests/lib.sh"

command -v curl >/dev/null 2>&1 || skip "curl is not installed"
# Resolved once: a version manager's shim can cost a second a call.
PYTHON=$(python3 -c 'import sys; print(sys.executable)') ||
    skip "python3 is not installed"

start_upstream

write_conf <<EOC
limits: {
	max_body_size = "100k";
	max_header_size = "4k";
	header_timeout = "1s";
	body_timeout = "1s";
	keepalive_timeout = "1s";
};
apis = (
	{ name = "py"; base_path = "/api";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT/up" ]; }; }
);
EOC
mgw_start
GW=http://127.0.0.1:$PORT

c() { curl -sS --max-time 30 "$@"; }

# code_of FILE: the JSON error code in FILE.
code_of() {
	"$PYTHON" -c 'import json, sys
print(json.load(open(sys.argv[1]))["error"]["code"])' "$1" 2>/dev/null
}

# raw_check NAME WANT MINMS MAXMS: raw_http's answer in $T/raw.NAME (exit
# status in $T/raw.NAME.rc, elapsed ms in $T/raw.NAME.ms) is a single
# WANT response, the connection was closed, within MINMS..MAXMS.
raw_run() {
	local name=$1 secs=$2 s rc
	s=$(date +%s%N)
	raw_http "$PORT" "$secs" > "$T/raw.$name"
	rc=$?
	echo $(( ($(date +%s%N) - s) / 1000000 )) > "$T/raw.$name.ms"
	echo "$rc" > "$T/raw.$name.rc"
}
raw_check() {
	local name=$1 want=$2 min=$3 max=$4 ms st
	ms=$(cat "$T/raw.$name.ms")
	[ "$(cat "$T/raw.$name.rc")" = 0 ] ||
	    fail "$name: connection left open: $(head -c 300 "$T/raw.$name")"
	st=$(http_statuses < "$T/raw.$name" | tr '\n' ' ')
	[ "$st" = "$want " ] || fail "$name: statuses '$st', want $want: $(head -c 400 "$T/raw.$name")"
	[ "$ms" -ge "$min" ] && [ "$ms" -le "$max" ] ||
	    fail "$name: answered after $ms ms, want $min..$max"
}

head -c 200000 /dev/urandom > "$T/200k"
head -c 100000 /dev/urandom > "$T/100k"

# --- 413 -----------------------------------------------------------------
code=$(c -H 'Expect:' --data-binary @"$T/200k" -o "$T/b" -w '%{http_code}' \
    "$GW/api/echo")
[ "$code" = 413 ] && [ "$(code_of "$T/b")" = payload_too_large ] ||
    fail "Content-Length over max_body_size: $code $(cat "$T/b")"
code=$(c -H 'Expect:' --data-binary @"$T/100k" -o "$T/b" -w '%{http_code}' \
    "$GW/api/echo")
[ "$code" = 200 ] || fail "body of exactly max_body_size: $code"
ok "413 payload_too_large for a Content-Length over max_body_size"

printf 'POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\nExpect: 100-continue\r\n\r\n' |
    raw_run expect 10
raw_check expect 413 0 5000
ok "413 at once for Expect: 100-continue with a body too big (no 100)"

code=$(c -H 'Expect:' -H 'Transfer-Encoding: chunked' \
    --data-binary @"$T/200k" -o "$T/b" -w '%{http_code}' "$GW/api/echo")
[ "$code" = 413 ] && [ "$(code_of "$T/b")" = payload_too_large ] ||
    fail "chunked body over max_body_size: $code $(cat "$T/b")"
code=$(c -H 'Expect:' -H 'Transfer-Encoding: chunked' \
    --data-binary @"$T/100k" -o "$T/b" -w '%{http_code}' "$GW/api/echo")
[ "$code" = 200 ] || fail "chunked body of exactly max_body_size: $code"
ok "413 payload_too_large for a chunked body growing over max_body_size"

# --- 431 -----------------------------------------------------------------
big=$(head -c 6000 /dev/zero | tr '\0' a)
code=$(c -H "X-Big: $big" -o "$T/b" -w '%{http_code}' "$GW/api/echo")
[ "$code" = 431 ] && [ "$(code_of "$T/b")" = header_too_large ] ||
    fail "huge header: $code $(cat "$T/b")"
"$PYTHON" -c 'import sys
sys.stdout.write("GET /api/echo HTTP/1.1\r\nHost: x\r\n" +
    "".join("X-H%d: 1\r\n" % i for i in range(200)) + "\r\n")' |
    raw_run many 10
raw_check many 431 0 5000
code=$(c -H "X-Big: ${big:0:3000}" -o /dev/null -w '%{http_code}' "$GW/api/echo")
[ "$code" = 200 ] || fail "header under max_header_size: $code"
ok "431 header_too_large for a huge header and for too many headers"

# --- 408 -----------------------------------------------------------------
printf 'GET /api/echo HTTP/1.1\r\nHost: x\r\nX-Slow: ' | raw_run head 10
raw_check head 408 800 6000
grep -q '"code":"request_timeout"' "$T/raw.head" || fail "408 code"
ok "408 request_timeout and close after header_timeout ($(cat "$T/raw.head.ms") ms)"

printf 'POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc' |
    raw_run body 10
raw_check body 408 800 6000
grep -q '"code":"request_timeout"' "$T/raw.body" || fail "408 code"
ok "408 request_timeout and close after body_timeout ($(cat "$T/raw.body.ms") ms)"

# A client trickling bytes does not extend header_timeout: neither the
# empty lines allowed before a request nor a head sent a byte at a time.
"$PYTHON" - "$PORT" <<'EOF2' > "$T/trickle" 2>&1 || fail "trickle: $(cat "$T/trickle")"
import socket, sys, time
port = int(sys.argv[1])
for what, data in (("empty lines", b"\r\n" * 100),
                   ("head", b"GET /api/echo HTTP/1.1\r\nHost: x\r\nX-Slow: " +
                    b"a" * 100)):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    t = time.monotonic(); got = b""; closed = False
    for i in range(len(data)):
        try:
            s.sendall(data[i:i + 1])
        except OSError:
            closed = True; break
        s.settimeout(0.2)
        try:
            r = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            closed = True; break
        if not r:
            closed = True; break
        got += r
    ms = int((time.monotonic() - t) * 1000)
    assert closed, "%s: still open after %d ms" % (what, ms)
    assert 700 <= ms <= 6000, "%s: closed after %d ms" % (what, ms)
    if what == "head":
        assert got.startswith(b"HTTP/1.1 408"), got
    print("%s: closed after %d ms" % (what, ms))
EOF2
ok "header_timeout is not extended by trickled bytes ($(tr '\n' ' ' < "$T/trickle"))"

# --- keepalive_timeout ---------------------------------------------------
"$PYTHON" - "$PORT" <<'EOF2' > "$T/ka" || fail "keepalive: $(cat "$T/ka")"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /api/echo HTTP/1.1\r\nHost: x\r\n\r\n")
d = b""
while b"\r\n\r\n" not in d:
    d += s.recv(65536)
h, b = d.split(b"\r\n\r\n", 1)
n = int([l.split(b":")[1] for l in h.split(b"\r\n")
         if l.lower().startswith(b"content-length:")][0])
while len(b) < n:
    b += s.recv(65536)
assert h.startswith(b"HTTP/1.1 200") and b"connection: close" not in h.lower(), h
t = time.monotonic()
s.settimeout(10)
assert s.recv(1) == b"", "bytes on an idle connection"
ms = int((time.monotonic() - t) * 1000)
print(ms)
assert 700 <= ms <= 6000, ms
EOF2
ok "keepalive_timeout closes an idle connection ($(cat "$T/ka") ms)"

# --- max_connections -----------------------------------------------------
mgw_stop
WORKERS=1
write_conf <<EOC
limits: { max_connections = 2; keepalive_timeout = "30s";
	header_timeout = "30s"; };
apis = (
	{ name = "py"; base_path = "/api";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT/up" ]; }; }
);
EOC
mgw_start
# The readiness probe's connection must be gone before we count.
wait_until 10 eval '[ "$(status_get connections_active)" = 0 ]' ||
    fail "connections_active stays $(status_get connections_active)"
"$PYTHON" - "$PORT" <<'EOF2' > "$T/mc" 2>&1 || fail "max_connections: $(cat "$T/mc")"
import select, socket, sys, time
port = int(sys.argv[1])

def get(s):
    """One request; the whole response (by its Content-Length), or what
    came before the connection closed."""
    s.sendall(b"GET /api/echo HTTP/1.1\r\nHost: x\r\n\r\n")
    d = b""
    while b"\r\n\r\n" not in d:
        r = s.recv(65536)
        if not r:
            return d
        d += r
    h, b = d.split(b"\r\n\r\n", 1)
    n = [l.split(b":")[1] for l in h.split(b"\r\n")
         if l.lower().startswith(b"content-length:")]
    while n and len(b) < int(n[0]):
        r = s.recv(65536)
        if not r:
            break
        b += r
    return h + b"\r\n\r\n" + b

def whole(s):
    d = b""
    while True:
        try:
            r = s.recv(65536)
        except ConnectionResetError:
            break
        if not r:
            break
        d += r
    return d

held = []
for i in range(2):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    assert get(s).startswith(b"HTTP/1.1 200"), "connection %d refused" % i
    held.append(s)
# The third: answered 503 at once, whether or not it has sent anything.
s = socket.create_connection(("127.0.0.1", port), timeout=10)
d = whole(s)
assert d.startswith(b"HTTP/1.1 503"), d
assert b'"code":"service_unavailable"' in d, d
h, b = d.split(b"\r\n\r\n", 1)
n = int([l.split(b":")[1] for l in h.split(b"\r\n")
         if l.lower().startswith(b"content-length:")][0])
assert n == len(b), (n, len(b), b)
s.close()
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"GET /api/echo HTTP/1.1\r\nHost: x\r\n\r\n")
d = whole(s)
assert d.startswith(b"HTTP/1.1 503"), d
print("503 for the third connection")
# The held ones still work; closing one makes room again.
d = get(held[0])
assert d.startswith(b"HTTP/1.1 200"), ("held connection dropped", d)
held[1].close()
end = time.monotonic() + 10
while True:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    d = get(s)
    if d.startswith(b"HTTP/1.1 200"):
        break
    assert d.startswith(b"HTTP/1.1 503"), d
    assert time.monotonic() < end, "no room after a close"
    s.close()
    select.select([], [], [], 0.05)	# a polling tick, bounded above
print("room again after a close")
EOF2
ok "max_connections = 2: the third connection gets 503 and is closed"

code=$(c -o /dev/null -w '%{http_code}' "$GW/api/echo")
[ "$code" = 200 ] || fail "not serving after the limit tests: $code"
ok "still serving"
exit 0
