#!/usr/bin/env bash
# bench/tls.sh [-d SECONDS] [-c CONNECTIONS] [-r ROUNDS] [-w "1 2"]
#
# HTTPS on loopback, for each worker count: wrk against
#   (A) nginx terminating TLS and proxying to a plain nginx backend, and
#   (B) mgwd doing the same,
# with one ECDSA P-256 certificate, the same protocols (TLS 1.2, 1.3) and
# ciphers (Mozilla intermediate) and the same worker count, alternating
# A B A B so machine drift hits both alike.  Two measures per round:
#   keep-alive   requests/s over established TLS connections
#   handshakes   requests/s with "Connection: close": one full TLS
#                handshake per request (wrk does not resume sessions)
# and the ratio mgwd / nginx of each.
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
for c in wrk nginx openssl curl; do
	command -v $c >/dev/null || { echo "$c missing: sh tools/deps.sh bench"; exit 1; }
done

B=$(mktemp -d /tmp/mgw-tlsbench.XXXXXX)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$B"
}
trap cleanup EXIT
port() { python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
waitport() {	# port [https]
	local i
	for i in $(seq 1 500); do
		curl -kfsS -o /dev/null "${2:-http}://127.0.0.1:$1/" 2>/dev/null &&
		    return 0
		read -r -t 0.01 _ < <(:) || true
	done
	return 1
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$B/key.pem" -out "$B/cert.pem" -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
CIPHERS="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

nginx_conf() {	# name workers server-block
	mkdir -p "$B/$1"
	cat > "$B/$1/nginx.conf" <<EOC
daemon off;
worker_processes $2;
pid $B/$1/nginx.pid;
error_log $B/$1/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 1000000;
	client_body_temp_path $B/$1/b; proxy_temp_path $B/$1/p;
	fastcgi_temp_path $B/$1/f; uwsgi_temp_path $B/$1/u; scgi_temp_path $B/$1/s;
	upstream backend { server 127.0.0.1:$BP; keepalive 64; }
	$3
}
EOC
}

BP=$(port)
nginx_conf backend 1 "server { listen 127.0.0.1:$BP;
	location / { return 200 \"hello from the backend\n\"; } }"
nginx -c "$B/backend/nginx.conf" & pids="$pids $!"
waitport "$BP" || { echo "backend did not start"; exit 1; }

run_wrk() {	# url [header] -> "rps p99"
	if [ $# -gt 1 ]; then
		wrk -t2 -c"$conns" -d"${dur}s" --latency -H "$2" "$1" > "$B/wrk.out" 2>&1
	else
		wrk -t2 -c"$conns" -d"${dur}s" --latency "$1" > "$B/wrk.out" 2>&1
	fi
	awk '/Requests\/sec/ { rps = $2 } /^ +99%/ { p99 = $2 }
	    END { printf "%s %s\n", rps, p99 }' "$B/wrk.out"
}
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }

echo "# mgw TLS benchmark $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, wrk -t2 -c$conns -d${dur}s, loopback"
echo "# mgwd $($MGWD -V | awk '{print $2}'), $(nginx -v 2>&1 | sed 's/.*: //'), $(openssl version | cut -d' ' -f1-2)"
echo "# ECDSA P-256 certificate, TLS 1.2+1.3, Mozilla intermediate ciphers; TLS 1.3 negotiated"

for w in $wlist; do
	NP=$(port) MP=$(port) MH=$(port)
	nginx_conf "proxy$w" "$w" "server {
		listen 127.0.0.1:$NP ssl;
		ssl_certificate $B/cert.pem; ssl_certificate_key $B/key.pem;
		ssl_protocols TLSv1.2 TLSv1.3; ssl_ciphers $CIPHERS;
		ssl_session_tickets on;
		location / { proxy_pass http://backend; proxy_http_version 1.1;
			proxy_set_header Connection \"\"; } }"
	cat > "$B/mgw$w.conf" <<EOC
gateway: { workers = $w; user = "root"; pid_file = "$B/mgw$w.pid";
	control_socket = "$B/mgw$w.sock"; error_log = "$B/mgw$w.err";
	access_log = "off"; };
listeners = ( { name = "https"; listen = "127.0.0.1:$MP";
	tls = { certificate = "$B/cert.pem"; key = "$B/key.pem"; }; },
	{ name = "http"; listen = "127.0.0.1:$MH"; } );
limits: { max_connections = 10000; };
apis = ( { name = "bench"; base_path = "/";
	endpoints = { production = [ "http://127.0.0.1:$BP" ]; keepalive = 64; }; } );
EOC
	nginx -c "$B/proxy$w/nginx.conf" & npid=$!; pids="$pids $npid"
	"$MGWD" -d -f "$B/mgw$w.conf" 2>>"$B/mgwd.log" & mpid=$!; pids="$pids $mpid"
	waitport "$NP" https && waitport "$MP" https ||
	    { echo "proxies did not start"; cat "$B/mgwd.log"; exit 1; }
	echo
	echo "workers=$w"
	printf '    %-6s %-7s %12s %9s %14s %9s\n' round side keepalive/s p99 handshakes/s p99
	for r in $(seq 1 "$rounds"); do
		read -r nk nk99 < <(run_wrk "https://127.0.0.1:$NP/")
		read -r nh nh99 < <(run_wrk "https://127.0.0.1:$NP/" "Connection: close")
		read -r mk mk99 < <(run_wrk "https://127.0.0.1:$MP/")
		read -r mh mh99 < <(run_wrk "https://127.0.0.1:$MP/" "Connection: close")
		printf '    %-6s %-7s %12s %9s %14s %9s\n' "$r" nginx "$nk" "$nk99" "$nh" "$nh99"
		printf '    %-6s %-7s %12s %9s %14s %9s\n' "$r" mgwd "$mk" "$mk99" "$mh" "$mh99"
		echo "    round $r ratio mgwd/nginx: keep-alive $(ratio "$mk" "$nk"), handshakes $(ratio "$mh" "$nh")"
	done
	kill "$npid" "$mpid"; wait "$npid" "$mpid" 2>/dev/null
done
