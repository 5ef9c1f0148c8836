#!/usr/bin/env bash
# Malformed and hostile requests, sent on raw sockets: each is answered
# with its 4xx (or 5xx where documented) and the connection is closed,
# paths are normalised before routing, and the same workers keep serving.
. "${top_srcdir:-.}/tests/lib.sh"

command -v curl >/dev/null 2>&1 || skip "curl is not installed"
# Resolved once: a version manager's shim can cost a second a call.
PYTHON=$(python3 -c 'import sys; print(sys.executable)') ||
    skip "python3 is not installed"

start_upstream

write_conf <<EOC
apis = (
	{ name = "py"; base_path = "/api";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT/up" ]; }; }
);
EOC
mgw_start
GW=http://127.0.0.1:$PORT
pids=$(worker_pids | sort)

# bad NAME STATUS FORMAT: send printf FORMAT on a new connection; the
# answer must be exactly one STATUS response with the JSON error body, and
# the connection must be closed.
bad() {
	local name=$1 want=$2 fmt=$3 rc st
	# shellcheck disable=SC2059
	printf "$fmt" | raw_http "$PORT" 10 > "$T/raw"
	rc=$?
	[ "$rc" = 0 ] || fail "$name: connection not closed (rc $rc): $(head -c 300 "$T/raw")"
	st=$(http_statuses < "$T/raw" | tr '\n' ' ')
	[ "$st" = "$want " ] ||
	    fail "$name: got '$st', want $want: $(head -c 400 "$T/raw" | cat -v)"
	grep -aq "^{\"error\":{\"status\":$want,\"code\":\"" "$T/raw" ||
	    fail "$name: no JSON error body: $(cat -v "$T/raw")"
	grep -aqi '^connection: close' "$T/raw" ||
	    fail "$name: no Connection: close: $(cat -v "$T/raw")"
	ok "$name: $want and closed"
}

H='Host: x\r\n'
bad "bad request line (method)"	400 'G@T /api/echo HTTP/1.1\r\n'"$H"'\r\n'
bad "HTTP/0.9 request line (no version)"	505 'GET /api/echo\r\n'"$H"'\r\n'
bad "bad request line (junk version)"	400 'GET /api/echo HTTX/1.1\r\n'"$H"'\r\n'
bad "bad request line (extra field)"	400 'GET /api/echo HTTP/1.1 x\r\n'"$H"'\r\n'
bad "bad request line (space in target)"	400 'GET /api/e cho HTTP/1.1\r\n'"$H"'\r\n'
bad "NUL in a header value"	400 'GET /api/echo HTTP/1.1\r\n'"$H"'X-A: a\0b\r\n\r\n'
bad "NUL in a header name"	400 'GET /api/echo HTTP/1.1\r\n'"$H"'X-\0A: b\r\n\r\n'
bad "bare CR in a header"	400 'GET /api/echo HTTP/1.1\r\n'"$H"'X-A: a\rb: c\r\n\r\n'
bad "bare CR ending a header"	400 'GET /api/echo HTTP/1.1\r\n'"$H"'X-A: a\r\rX-B: c\r\n\r\n'
bad "header without a colon"	400 'GET /api/echo HTTP/1.1\r\n'"$H"'X-NoColon\r\n\r\n'
bad "space before the colon"	400 'GET /api/echo HTTP/1.1\r\n'"$H"'Content-Length : 3\r\n\r\nabc'
bad "HTTP/1.1 without Host"	400 'GET /api/echo HTTP/1.1\r\n\r\n'
bad "Content-Length with Transfer-Encoding" 400 \
    'POST /api/echo HTTP/1.1\r\n'"$H"'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
bad "Transfer-Encoding with Content-Length" 400 \
    'POST /api/echo HTTP/1.1\r\n'"$H"'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n'
bad "duplicate differing Content-Length"	400 \
    'POST /api/echo HTTP/1.1\r\n'"$H"'Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'
bad "Content-Length list"	400 \
    'POST /api/echo HTTP/1.1\r\n'"$H"'Content-Length: 3, 4\r\n\r\nabcd'
bad "non-numeric Content-Length"	400 'POST /api/echo HTTP/1.1\r\n'"$H"'Content-Length: abc\r\n\r\n'
bad "negative Content-Length"	400 'POST /api/echo HTTP/1.1\r\n'"$H"'Content-Length: -1\r\n\r\n'
bad "signed Content-Length"	400 'POST /api/echo HTTP/1.1\r\n'"$H"'Content-Length: +3\r\n\r\nabc'
bad "overflowing Content-Length"	400 \
    'POST /api/echo HTTP/1.1\r\n'"$H"'Content-Length: 99999999999999999999999\r\n\r\n'
bad "bad chunk size"	400 \
    'POST /api/echo HTTP/1.1\r\n'"$H"'Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'
bad "chunk without CRLF after data"	400 \
    'POST /api/echo HTTP/1.1\r\n'"$H"'Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n'
bad "smuggling: Transfer-Encoding chunked, identity" 400 \
    'POST /api/echo HTTP/1.1\r\n'"$H"'Transfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n'
bad "smuggling: Transfer-Encoding twice" 400 \
    'POST /api/echo HTTP/1.1\r\n'"$H"'Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n'
bad "smuggling: Transfer-Encoding identity" 400 \
    'POST /api/echo HTTP/1.1\r\n'"$H"'Transfer-Encoding: identity\r\n\r\n'
bad "smuggling: Transfer-Encoding chunked twice" 400 \
    'POST /api/echo HTTP/1.1\r\n'"$H"'Transfer-Encoding: chunked, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'
bad "smuggling: Transfer-Encoding in HTTP/1.0" 400 \
    'POST /api/echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'
bad "smuggling: Transfer-Encoding xchunked" 400 \
    'POST /api/echo HTTP/1.1\r\n'"$H"'Transfer-Encoding: xchunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'
bad "Transfer-Encoding gzip, chunked (unsupported)" 501 \
    'POST /api/echo HTTP/1.1\r\n'"$H"'Transfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'
bad "HTTP/2.0 request" 505 'GET /api/echo HTTP/2.0\r\n'"$H"'\r\n'
bad "HTTP/3.0 request" 505 'GET /api/echo HTTP/3.0\r\n'"$H"'\r\n'
bad "absolute-form target" 400 'GET http://127.0.0.1/api/echo HTTP/1.1\r\n'"$H"'\r\n'
bad "asterisk-form target" 400 'OPTIONS * HTTP/1.1\r\n'"$H"'\r\n'
bad "path traversal /a/../../etc/passwd" 400 'GET /a/../../etc/passwd HTTP/1.1\r\n'"$H"'\r\n'
bad "path traversal /api/../../etc/passwd" 400 'GET /api/../../etc/passwd HTTP/1.1\r\n'"$H"'\r\n'
bad "encoded traversal /api/%2e%2e/%2e%2e/x" 400 'GET /api/%%2e%%2e/%%2e%%2e/x HTTP/1.1\r\n'"$H"'\r\n'
bad "%00 in the path" 400 'GET /api/a%%00b HTTP/1.1\r\n'"$H"'\r\n'
bad "%2F in the path" 400 'GET /api/a%%2Fb HTTP/1.1\r\n'"$H"'\r\n'
bad "bad escape in the path" 400 'GET /api/a%%zzb HTTP/1.1\r\n'"$H"'\r\n'
bad "CONNECT" 501 'CONNECT 127.0.0.1:22 HTTP/1.1\r\n'"$H"'\r\n'

# A malformed request after a good one on the same connection: the good
# one is answered, then the bad one, then the connection closes.
printf 'GET /api/ping HTTP/1.1\r\nHost: x\r\n\r\nGET /api/echo HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n' |
    raw_http "$PORT" 10 > "$T/raw" || fail "pipelined bad request: not closed"
[ "$(http_statuses < "$T/raw" | tr '\n' ' ')" = "200 400 " ] ||
    fail "pipelined bad request: $(cat -v "$T/raw")"
ok "a bad request pipelined after a good one: 200, 400, closed"

# Normalisation: what the upstream saw, from /echo.
# upath PATH: the path the upstream saw for a request to PATH.
upath() {
	curl -sS --max-time 10 --path-as-is "$GW$1" | "$PYTHON" -c '
import json, sys
print(json.load(sys.stdin)["path"])'
}
[ "$(upath '/api/x/%2e%2e/y')" = /up/y ] || fail "%2e%2e: $(upath '/api/x/%2e%2e/y')"
[ "$(upath '/api/x/%2E./y?q=%2e%2e')" = '/up/y?q=%2e%2e' ] ||
    fail "%2E.: $(upath '/api/x/%2E./y?q=%2e%2e')"
ok "%2e%2e is decoded and resolved before routing (/api/x/%2e%2e/y -> /up/y)"
[ "$(upath '/api//a///b')" = /up/a/b ] || fail "//: $(upath '/api//a///b')"
[ "$(upath '//api/./a/./b/')" = /up/a/b/ ] || fail "//api: $(upath '//api/./a/./b/')"
ok "// collapsed and . removed (/api//a///b -> /up/a/b)"
[ "$(upath '/api/a%20b/%7Efoo')" = '/up/a%20b/~foo' ] ||
    fail "escapes: $(upath '/api/a%20b/%7Efoo')"
ok "the path is re-encoded for the upstream (/api/a%20b/%7Efoo -> /up/a%20b/~foo)"
code=$(curl -sS --max-time 10 --path-as-is -o /dev/null -w '%{http_code}' \
    "$GW/x/%2e%2e/api/ping")
[ "$code" = 200 ] || fail "/x/%2e%2e/api/ping: $code"
code=$(curl -sS --max-time 10 --path-as-is -o /dev/null -w '%{http_code}' \
    "$GW/api/%2e%2e/nothing")
[ "$code" = 404 ] || fail "/api/%2e%2e/nothing: $code"
ok "routing uses the normalised path (in and out of an API)"

# An obsolete line folding reaches the upstream as spaces, never as a
# CRLF that would split the header there (RFC 9112 section 5.2).
printf 'GET /api/echo HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\tc\r\nConnection: close\r\n\r\n' |
    raw_http "$PORT" 10 > "$T/raw" || fail "obs-fold: not closed"
sed -n '$p' "$T/raw" | "$PYTHON" -c '
import json, re, sys
v = json.load(sys.stdin)["headers"]["x-a"]
assert re.fullmatch(r"a[ \t]+b[ \t]+c", v), repr(v)' ||
    fail "obs-fold: $(cat -v "$T/raw")"
ok "obsolete line folding forwarded as spaces"

# The one coding understood, in any case and with spaces, is accepted.
printf 'POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  Chunked \r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n' |
    raw_http "$PORT" 10 > "$T/raw" || fail "Chunked: not closed"
sed -n '$p' "$T/raw" | "$PYTHON" -c '
import json, sys
assert json.load(sys.stdin)["body_len"] == 3' ||
    fail "Transfer-Encoding: Chunked refused: $(cat -v "$T/raw")"
ok "Transfer-Encoding: Chunked (any case, spaces) is accepted"

# --- no crash ------------------------------------------------------------
[ "$(curl -sS --max-time 10 "$GW/api/ping")" = pong ] ||
    fail "not serving after the malformed requests"
[ "$(worker_pids | sort)" = "$pids" ] ||
    fail "workers changed: $pids -> $(worker_pids | sort | tr '\n' ' ')"
[ "$(status_get worker_respawns)" = 0 ] || fail "a worker was respawned"
ok "still serving, with the same workers"
exit 0
