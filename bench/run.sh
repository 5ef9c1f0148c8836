#!/usr/bin/env bash
# bench/run.sh [-d SECONDS] [-c CONNECTIONS] [-r ROUNDS] [-w "1 2"]
#
# wrk on loopback against, for each worker count:
#   (a) nginx serving a tiny body directly (the backend itself),
#   (b) nginx proxy_pass to that backend with upstream keep-alive,
#   (c) mgwd proxying to the same backend,
# alternating b and c (b c b c ...) so machine drift hits both alike, and
# prints requests/s, p50/p99 latency, each proxy's RSS, and the ratio
# mgwd / nginx proxy of each round.  Also mgwd's idle RSS per worker and
# the time from exec to the first proxied 200.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
dur=10 conns=50 rounds=2 wlist="1 2"
while getopts d:c:r:w: o; do
	case $o in
	d) dur=$OPTARG ;; c) conns=$OPTARG ;; r) rounds=$OPTARG ;;
	w) wlist=$OPTARG ;; *) exit 1 ;;
	esac
done
MGWD=${MGWD:-$top/build/mgwd}
[ -x "$MGWD" ] || MGWD=$top/mgwd
[ -x "$MGWD" ] || { echo "build mgwd first (tools/quickstart.sh)"; exit 1; }
command -v wrk >/dev/null || { echo "wrk missing: sh tools/deps.sh bench"; exit 1; }
command -v nginx >/dev/null || { echo "nginx missing: sh tools/deps.sh bench"; exit 1; }

B=$(mktemp -d /tmp/mgw-bench.XXXXXX)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$B"
}
trap cleanup EXIT
port() { python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
waitport() {
	local i
	for i in $(seq 1 500); do
		curl -fsS -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null && return 0
		read -r -t 0.01 _ < <(:) || true
	done
	return 1
}
rss_of() {	# total RSS in kB of the given pids
	local t=0 p r
	for p in "$@"; do
		r=$(awk '/^VmRSS:/ { print $2 }' /proc/"$p"/status 2>/dev/null)
		t=$((t + ${r:-0}))
	done
	echo $t
}
children() { pgrep -P "$1" | tr '\n' ' '; }

nginx_conf() {	# name port workers body
	mkdir -p "$B/$1"
	cat > "$B/$1/nginx.conf" <<EOC
daemon off;
worker_processes $3;
pid $B/$1/nginx.pid;
error_log $B/$1/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 1000000;
	client_body_temp_path $B/$1/b; proxy_temp_path $B/$1/p;
	fastcgi_temp_path $B/$1/f; uwsgi_temp_path $B/$1/u; scgi_temp_path $B/$1/s;
	upstream backend { server 127.0.0.1:$BP; keepalive 64; }
	server {
		listen 127.0.0.1:$2;
		$4
	}
}
EOC
}

BP=$(port)
nginx_conf backend "$BP" 1 'location / { return 200 "hello from the backend\n"; }'
nginx -c "$B/backend/nginx.conf" & pids="$pids $!"
waitport "$BP" || { echo "backend did not start"; exit 1; }

run_wrk() {	# url -> "rps p50 p99"
	wrk -t2 -c"$conns" -d"${dur}s" --latency "$1" > "$B/wrk.out" 2>&1
	awk '/Requests\/sec/ { rps = $2 }
	    /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
	    END { printf "%s %s %s\n", rps, p50, p99 }' "$B/wrk.out"
}

echo "# mgw benchmark $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, wrk -t2 -c$conns -d${dur}s, loopback"
echo "# mgwd $($MGWD -V | awk '{print $2}'), $(nginx -v 2>&1 | sed 's/.*: //')"
echo
echo "(a) backend nginx direct:"
read -r rps p50 p99 < <(run_wrk "http://127.0.0.1:$BP/")
echo "    $rps req/s  p50 $p50  p99 $p99"

for w in $wlist; do
	NP=$(port) MP=$(port) MA=$(port)
	nginx_conf "proxy$w" "$NP" "$w" 'location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }'
	cat > "$B/mgw$w.conf" <<EOC
gateway: { workers = $w; user = "root"; pid_file = "$B/mgw$w.pid";
	control_socket = "$B/mgw$w.sock"; error_log = "$B/mgw$w.err";
	access_log = "off"; };
listeners = ( { name = "http"; listen = "127.0.0.1:$MP"; },
	{ name = "admin"; listen = "127.0.0.1:$MA"; admin = true; } );
limits: { max_connections = 10000; };
apis = ( { name = "bench"; base_path = "/";
	endpoints = { production = [ "http://127.0.0.1:$BP" ]; keepalive = 64; }; } );
EOC
	startup=$(python3 bench/startup.py "$MGWD" "$B/mgw$w.conf" "$MP" /)
	nginx -c "$B/proxy$w/nginx.conf" & npid=$!; pids="$pids $npid"
	"$MGWD" -d -f "$B/mgw$w.conf" 2>>"$B/mgwd.log" & mpid=$!; pids="$pids $mpid"
	waitport "$NP" && waitport "$MP" || { echo "proxies did not start"; exit 1; }
	idle=$(rss_of $(children "$mpid"))
	echo
	echo "workers=$w: mgwd exec to first proxied 200: ${startup} ms; idle RSS $((idle / w)) kB per worker"
	printf '    %-6s %-12s %10s %9s %9s %10s\n' round side req/s p50 p99 rss_kB
	for r in $(seq 1 "$rounds"); do
		read -r nrps np50 np99 < <(run_wrk "http://127.0.0.1:$NP/")
		nrss=$(rss_of $(children "$npid"))
		read -r mrps mp50 mp99 < <(run_wrk "http://127.0.0.1:$MP/")
		mrss=$(rss_of $(children "$mpid"))
		printf '    %-6s %-12s %10s %9s %9s %10s\n' "$r" "nginx-proxy" "$nrps" "$np50" "$np99" "$nrss"
		printf '    %-6s %-12s %10s %9s %9s %10s\n' "$r" "mgwd" "$mrps" "$mp50" "$mp99" "$mrss"
		echo "    round $r ratio mgwd/nginx-proxy: $(python3 -c "print('%.2f' % ($mrps / $nrps))")"
	done
	kill "$npid" "$mpid"; wait "$npid" "$mpid" 2>/dev/null
done
