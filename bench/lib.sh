# bench/lib.sh: what the benchmark scripts share.  Sourced from the
# project root after BENCH_NAME is set; gives $MGWD, $MGWCTL, a scratch
# directory $B removed on exit with every process in $pids, and:
#   port            a free port on 127.0.0.1
#   waitport P [U]  wait until http://127.0.0.1:P/U answers (5 s at most)
#   rss PID         the summed RSS (kB) of PID's children, the workers
#   start_backend   nginx on $BP answering 200 "hello", the upstream
top=$(pwd)
MGWD=${MGWD:-$top/build/mgwd}
[ -x "$MGWD" ] || MGWD=$top/mgwd
MGWCTL=${MGWCTL:-$(dirname "$MGWD")/mgwctl}
B=$(mktemp -d "/tmp/mgw-${BENCH_NAME:-bench}.XXXXXX")
pids=
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$B"; }
trap cleanup EXIT
port() { python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
waitport() {
	local i
	for i in $(seq 1 500); do
		curl -fsS -o /dev/null "http://127.0.0.1:$1/${2:-}" 2>/dev/null && return 0
		read -r -t 0.01 _ < <(:) || true
	done
	return 1
}
rss() { local t=0 p; for p in $(pgrep -P "$1"); do
	t=$((t + $(awk '/^VmRSS:/ { print $2 }' /proc/$p/status))); done; echo $t; }
start_backend() {
	BP=$(port)
	mkdir -p "$B/ngx"
	cat > "$B/ngx/nginx.conf" <<EOC
daemon off; worker_processes 1; pid $B/ngx/pid; error_log $B/ngx/err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
	client_body_temp_path $B/ngx/b; proxy_temp_path $B/ngx/p; fastcgi_temp_path $B/ngx/f;
	uwsgi_temp_path $B/ngx/u; scgi_temp_path $B/ngx/s;
	server { listen 127.0.0.1:$BP; location / { return 200 "hello\n"; } } }
EOC
	nginx -c "$B/ngx/nginx.conf" & pids="$pids $!"
	waitport "$BP" || { echo "backend nginx did not start"; exit 1; }
}
