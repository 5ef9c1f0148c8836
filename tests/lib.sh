# tests/lib.sh: shared by the black-box tests.  Each test sources this,
# gets its own directory, ports, pid file and control socket, starts the
# real mgwd and waits for it to be ready (never for a fixed time), and is
# cleaned up by a trap whatever happens.  Exit 77 skips, 99 is a hard error.

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
MGWD=${MGWD:-$top_builddir/mgwd}
MGWCTL=${MGWCTL:-$top_builddir/mgwctl}
T=$(mktemp -d "${TMPDIR:-/tmp}/mgw-test.XXXXXX") || exit 99
MGW_PID=
_bg_pids=
# Sanitizer reports of any mgwd process land here and fail the test.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/ubsan:print_stacktrace=1"
exec 9<> <(:)	# a pipe nobody writes: read -t on it is a short wait

_cleanup() {
	local p
	if [ -n "$MGW_PID" ] && kill -0 "$MGW_PID" 2>/dev/null; then
		kill -TERM "$MGW_PID" 2>/dev/null
		wait_until 10 eval '! kill -0 '"$MGW_PID"' 2>/dev/null' ||
		    kill -KILL "$MGW_PID" 2>/dev/null
	fi
	for p in $_bg_pids; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $_bg_pids; do
		wait "$p" 2>/dev/null
	done
	if ls "$T"/asan.* "$T"/ubsan.* >/dev/null 2>&1; then
		echo "FAIL - sanitizer reports:"
		cat "$T"/asan.* "$T"/ubsan.* 2>/dev/null | head -60 | sed 's/^/# /'
		rm -rf "$T"
		exit 1
	fi
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "# kept $T"
	else
		rm -rf "$T"
	fi
}
trap _cleanup EXIT
trap 'exit 99' INT TERM

# Debian's interpreter directly: a version-manager shim in PATH can cost a
# second per call, which adds up over a test's many helper calls.
if [ -z "${PYTHON:-}" ]; then
	if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
export PYTHON

say() { printf '# %s\n' "$*"; }
ok() { printf 'ok - %s\n' "$*"; }
fail() {
	printf 'FAIL - %s\n' "$*"
	if [ -f "$T/mgwd.log" ]; then
		echo "# --- mgwd.log (last 30 lines)"
		tail -n 30 "$T/mgwd.log" | sed 's/^/# /'
	fi
	exit 1
}
skip() { printf 'SKIP - %s\n' "$*"; exit 77; }

# A short pause inside a polling loop (not a synchronisation by itself).
tick() { read -r -t "${1:-0.02}" _ <&9 || true; }

# wait_until SECONDS CMD...: poll CMD until it succeeds, at most SECONDS.
wait_until() {
	local limit=$1 end
	shift
	end=$(( $(date +%s%N) + limit * 1000000000 ))
	while ! "$@"; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		tick
	done
	return 0
}

# A free TCP port on 127.0.0.1, from the kernel.
free_port() {
	"$PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

PORT=$(free_port)
ADMIN_PORT=$(free_port)
SOCK=$T/mgwd.sock

# The gateway block every test config starts with.
gateway_block() {
	cat <<EOC
gateway: {
	workers = ${WORKERS:-2};
	user = "root";
	pid_file = "$T/mgwd.pid";
	control_socket = "$SOCK";
	error_log = "$T/error.log";
	access_log = "$T/access.log";
	drain_timeout = "${DRAIN:-10s}";
};
listeners = (
	{ name = "http"; listen = "127.0.0.1:$PORT"; },
	{ name = "admin"; listen = "127.0.0.1:$ADMIN_PORT"; admin = true; }
);
EOC
}

# write_conf [FILE] < body: the gateway block followed by stdin.
write_conf() {
	local f=${1:-$T/mgw.conf}
	{ gateway_block; cat; } > "$f"
}

ctl() { "$MGWCTL" -s "$SOCK" "$@"; }

# Ready: the control socket answers, every worker of the newest
# generation is up, and /health answers on the HTTP listener.
mgw_ready() {
	local st want=${WORKERS:-2}
	st=$(ctl status 2>/dev/null) || return 1
	[ "$(printf '%s\n' "$st" | grep -c '^worker: .*generation')" -ge "$want" ] || return 1
	curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/health"
}

# mgw_start [CONF]: start mgwd -d in the background and wait until ready.
mgw_start() {
	local conf=${1:-$T/mgw.conf}
	MGW_DEBUG_HOOKS=${MGW_DEBUG_HOOKS:-0} "$MGWD" -d -f "$conf" \
	    >>"$T/mgwd.log" 2>&1 &
	MGW_PID=$!
	wait_until 20 mgw_ready || fail "mgwd did not become ready"
}

# mgw_stop: graceful stop and wait for the master to exit.
mgw_stop() {
	[ -n "$MGW_PID" ] || return 0
	kill -QUIT "$MGW_PID" 2>/dev/null
	wait_until 30 eval '! kill -0 '"$MGW_PID"' 2>/dev/null' ||
	    fail "mgwd did not stop"
	wait "$MGW_PID" 2>/dev/null
	MGW_PID=
}

# worker_pids: pids of the current workers, from mgwctl status.
worker_pids() {
	ctl status | awk '/^worker: / { print $2 }'
}

# start_upstream [PORT]: the python test upstream (tests/upstream.py).
start_upstream() {
	UP_PORT=${1:-$(free_port)}
	"$PYTHON" "$top_srcdir/tests/upstream.py" "$UP_PORT" \
	    >>"$T/upstream.log" 2>&1 &
	_bg_pids="$_bg_pids $!"
	UP_PID=$!
	wait_until 10 curl -fsS -o /dev/null --max-time 2 \
	    "http://127.0.0.1:$UP_PORT/ping" || fail "test upstream did not start"
}

# nginx_conf_head: the start of a loopback nginx.conf kept under
# $T/nginx, up to and including "http {"; the caller adds its servers
# and the closing brace.  The caller makes $T/nginx first.
nginx_conf_head() {
	cat <<EOC
daemon off;
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $T/nginx/body;
	proxy_temp_path $T/nginx/proxy;
	fastcgi_temp_path $T/nginx/fastcgi;
	uwsgi_temp_path $T/nginx/uwsgi;
	scgi_temp_path $T/nginx/scgi;
EOC
}

# start_nginx: nginx on loopback as a real upstream, serving $T/www.
start_nginx() {
	command -v nginx >/dev/null 2>&1 || skip "nginx is not installed"
	NGX_PORT=$(free_port)
	mkdir -p "$T/www" "$T/nginx"
	{ nginx_conf_head; cat <<EOC
	server {
		listen 127.0.0.1:$NGX_PORT;
		root $T/www;
		location /nginx-echo { return 200 "\$request_method \$request_uri xff=\$http_x_forwarded_for rid=\$http_x_request_id host=\$http_host\n"; }
	}
}
EOC
	} > "$T/nginx/nginx.conf"
	nginx -c "$T/nginx/nginx.conf" >>"$T/nginx/out.log" 2>&1 &
	_bg_pids="$_bg_pids $!"
	wait_until 10 curl -fsS -o /dev/null --max-time 2 \
	    "http://127.0.0.1:$NGX_PORT/nginx-echo" || fail "nginx did not start"
}

# The helpers below run "${PYTHON:-python3}": a test that calls python
# often sets PYTHON to the interpreter python3 resolves to, once, since a
# version manager's shim can cost a second a call.

# raw_http PORT [SECONDS]: send stdin, as is and in one write, to
# 127.0.0.1:PORT, then print what comes back until the server closes the
# connection or SECONDS (default 10) pass.  For requests curl will not
# make: malformed ones, pipelines, partial heads.  Exit 0 when the server
# closed (EOF or reset), 2 when the time ran out with the connection still
# open, 3 when it could not connect.
raw_http() {
	"${PYTHON:-python3}" -c '
import socket, sys, time
port, limit = int(sys.argv[1]), float(sys.argv[2])
data = sys.stdin.buffer.read()
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=limit)
except OSError as e:
    sys.stderr.write("raw_http: connect: %s\n" % e); sys.exit(3)
if data:
    s.sendall(data)
end = time.monotonic() + limit; rc = 2
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        d = s.recv(65536)
    except socket.timeout:
        break
    except ConnectionResetError:
        rc = 0; break
    if not d:
        rc = 0; break
    sys.stdout.buffer.write(d); sys.stdout.buffer.flush()
sys.exit(rc)' "$1" "${2:-10}"
}

# http_statuses: the status codes of the HTTP responses on stdin, in
# order, one a line (interim 1xx included).  A status line need not start
# a line: it follows the previous body directly.
http_statuses() {
	LC_ALL=C grep -a -o -E 'HTTP/1\.[01] [0-9]{3} [A-Z]' | cut -d' ' -f2
}

# _hold_port FILE MODE: a background python that binds a port on
# 127.0.0.1 and holds it until killed, writing the port to FILE.
#   dead       bound, never listening: every connect is refused
#   blackhole  listening with a full accept queue that nobody drains:
#              the kernel drops further SYNs, so connects hang
_hold_port() {
	"${PYTHON:-python3}" -c '
import signal, socket, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 0))
port = l.getsockname()[1]; fill = []
if sys.argv[2] == "blackhole":
    l.listen(0)
    # The queue holds backlog + 1; fill it, then wait until it is full.
    for i in range(3):
        c = socket.socket(); c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fill.append(c)
    end = time.monotonic() + 5
    while time.monotonic() < end:
        p = socket.socket(); p.settimeout(0.2)
        try:
            p.connect(("127.0.0.1", port)); fill.append(p)
        except socket.timeout:
            p.close(); break
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % port)
signal.pause()' "$1" "$2" &
	_bg_pids="$_bg_pids $!"
	wait_until 10 test -s "$1" || fail "cannot hold a $2 port"
}

# start_dead_port: DEAD_PORT, a port on 127.0.0.1 that refuses
# connections for the whole test (no other process can take it).
start_dead_port() {
	_hold_port "$T/dead.port" dead
	DEAD_PORT=$(cat "$T/dead.port")
}

# start_blackhole: BLACKHOLE_PORT, a port on 127.0.0.1 where connecting
# never completes: a deterministic connect timeout on loopback.
start_blackhole() {
	_hold_port "$T/blackhole.port" blackhole
	BLACKHOLE_PORT=$(cat "$T/blackhole.port")
}

# --- process tests (reload, respawn, drain, lock, mgwctl, accesslog) ---

# status_get KEY: the value of "KEY: value" in mgwctl status.
status_get() {
	ctl status 2>/dev/null | sed -n "s/^$1: //p" | head -n 1
}

# gen_only GEN: generation GEN is current and its WORKERS workers are
# the only ones left (the old generation has drained and exited).
gen_only() {
	local st
	st=$(ctl status 2>/dev/null) || return 1
	printf '%s\n' "$st" | grep -qx "generation: $1" || return 1
	[ "$(printf '%s\n' "$st" | grep -c '^worker: ')" -eq "${WORKERS:-2}" ] ||
	    return 1
	! printf '%s\n' "$st" | grep '^worker: ' | grep -vq " generation $1 slot"
}

# listen_inode PORT: the inode of the socket listening on 127.0.0.1:PORT
# (one line per such socket), from /proc/net/tcp.
listen_inode() {
	awk -v p="$(printf '0100007F:%04X' "$1")" \
	    '$2 == p && $4 == "0A" { print $10 }' /proc/net/tcp
}

# Bounded client loops in the background: load_start SECONDS MAX URL...
# starts one, which runs until load_stop, SECONDS or MAX requests.  Each
# request appends "STATUS URL [error]" to $T/load.N; STATUS 000 is a
# connection error.  By default curl sends each round of URLs over one
# keep-alive connection (and, as any HTTP client may, retries a request
# on a reused connection the server closed before answering); with
# LOAD_NEWCONN=1 a python client opens a new connection per request.
_load_n=0
_load_pids=
load_start() {
	local secs=$1 max=$2 out
	shift 2
	_load_n=$((_load_n + 1))
	out=$T/load.$_load_n
	: > "$out"
	rm -f "$T/load.stop"
	if [ "${LOAD_NEWCONN:-0}" = 1 ]; then
		"$PYTHON" - "$out" "$T/load.stop" "$secs" "$max" "$@" <<'EOP' &
import http.client, os, sys, time
from urllib.parse import urlsplit
out, stop, secs, mx, urls = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
end = time.monotonic() + secs
n = 0
with open(out, "a", buffering=1) as f:
    while n < mx and time.monotonic() < end and not os.path.exists(stop):
        for url in urls:
            u = urlsplit(url)
            try:
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                c.request("GET", u.path + ("?" + u.query if u.query else ""))
                r = c.getresponse(); r.read(); c.close()
                f.write("%d %s\n" % (r.status, url))
            except Exception as e:
                f.write("000 %s %r\n" % (url, e))
            n += 1
EOP
	else
		(
			local u args=()
			for u in "$@"; do
				args+=(-o /dev/null "$u")
			done
			end=$(( $(date +%s) + secs )); n=0
			while [ "$n" -lt "$max" ] && [ "$(date +%s)" -lt "$end" ] &&
			    [ ! -e "$T/load.stop" ]; do
				curl -s --max-time 10 \
				    -w '%{http_code} %{url_effective} %{errormsg}\n' \
				    "${args[@]}" >> "$out" 2>/dev/null
				n=$((n + $#))
			done
		) &
	fi
	_load_pids="$_load_pids $!"
	_bg_pids="$_bg_pids $!"
}

# load_stop: stop every client loop and wait for them.
load_stop() {
	local p
	: > "$T/load.stop"
	for p in $_load_pids; do
		wait "$p" 2>/dev/null
	done
	_load_pids=
}

# load_total, load_failed: requests made and failed so far by the loops.
load_total() { cat "$T"/load.[0-9]* | wc -l; }
load_failed() { cat "$T"/load.[0-9]* | grep -vc '^200 '; }
# load_failures: the failed requests, for the report.
load_failures() { cat "$T"/load.[0-9]* | grep -v '^200 ' | head -n 20; }

# check_bad NAME PATTERN < config: the gateway block and the config on
# stdin go to $T/NAME.conf; mgwd -n must refuse it (exit 1) with an error
# matching PATTERN (grep -E), whose line is printed.
check_bad() {
	local name=$1 pattern=$2 rc out
	{ gateway_block; cat; } > "$T/$name.conf"
	"$MGWD" -n -f "$T/$name.conf" > "$T/$name.out" 2>&1
	rc=$?
	out=$(cat "$T/$name.out")
	[ "$rc" -eq 1 ] || fail "$name: mgwd -n exit $rc: $out"
	printf '%s\n' "$out" | grep -Eq -- "$pattern" ||
	    fail "$name: unexpected error: $out"
	ok "$name refused: $(printf '%s\n' "$out" | grep -E -- "$pattern" |
	    head -n 1 | sed "s|$T/||g")"
}

# hit PATH [HEADER...]: one request to $U (set by the test) with those
# headers; prints the status, leaves the headers in $T/h and the body in
# $T/body.  header NAME: a response header of the last hit.
hit() {
	local p=$1 x h=()
	shift
	for x in "$@"; do
		h+=(-H "$x")
	done
	curl -s -D "$T/h" -o "$T/body" -w '%{http_code}' --max-time 10 \
	    "${h[@]}" "$U$p"
}
header() { tr -d '\r' < "$T/h" | sed -n "s/^$1: //Ip" | head -n 1; }
# code: the error code of the last hit's JSON body (empty if none).
code() { "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["error"]["code"])' < "$T/body" 2>/dev/null; }
# upstream_hdr NAME: the header as tests/upstream.py saw it, or "-".
upstream_hdr() {
	"$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["headers"].get(sys.argv[1], "-"))' "$1" < "$T/body"
}
# expect WHAT STATUS CODE WWW-AUTH-PATTERN PATH TOKEN: a bearer request
# with hit() (the test's, taking PATH and TOKEN) gets STATUS, error CODE
# and a WWW-Authenticate matching the pattern ("-": not checked).
expect() {
	local what=$1 st=$2 c=$3 wa=$4 s
	s=$(hit "$5" "$6")
	[ "$s" = "$st" ] || fail "$what: status $s, want $st: $(cat "$T/body")"
	[ "$(code)" = "$c" ] || fail "$what: code $(code), want $c"
	[ "$wa" = - ] || header WWW-Authenticate | grep -Eq -- "$wa" ||
	    fail "$what: WWW-Authenticate '$(header WWW-Authenticate)'"
	ok "$what: $st $c"
}
