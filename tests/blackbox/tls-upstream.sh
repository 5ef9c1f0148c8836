#!/usr/bin/env bash
# Upstream TLS against nginx with TLS on loopback: a verified backend
# (by name and by IP address, SNI sent), an unverifiable one and one
# whose certificate names another host (502 upstream_tls_error, logged
# with the reason), verification turned off, backend mutual TLS with a
# client certificate, and keep-alive pooling of TLS connections (one
# nginx connection serves many requests).  Also https:// endpoint
# configuration errors.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"

command -v curl >/dev/null 2>&1 || skip "curl is not installed"
command -v nginx >/dev/null 2>&1 || skip "nginx is not installed"
PYTHON=$(python3 -c 'import sys; print(sys.executable)') ||
    skip "python3 is not installed"
WORKERS=1

make_pki
NA=$(free_port); NB=$(free_port); NC=$(free_port); ND=$(free_port)
mkdir -p "$T/nginx"
body='"conn=$connection sni=$ssl_server_name dn=$ssl_client_s_dn proto=$ssl_protocol\n"'
{ nginx_conf_head; cat <<EOC
	keepalive_requests 1000;
	server { listen 127.0.0.1:$NA ssl;
		ssl_certificate $PKI/backend.crt; ssl_certificate_key $PKI/backend.key;
		location / { return 200 $body; } }
	server { listen 127.0.0.1:$NB ssl;
		ssl_certificate $PKI/wrong.crt; ssl_certificate_key $PKI/wrong.key;
		location / { return 200 $body; } }
	server { listen 127.0.0.1:$NC ssl;
		ssl_certificate $PKI/www.crt; ssl_certificate_key $PKI/www.key;
		location / { return 200 $body; } }
	server { listen 127.0.0.1:$ND ssl;
		ssl_certificate $PKI/backend.crt; ssl_certificate_key $PKI/backend.key;
		ssl_client_certificate $PKI/clientca.crt; ssl_verify_client on;
		location / { return 200 $body; } }
}
EOC
} > "$T/nginx/nginx.conf"
nginx -c "$T/nginx/nginx.conf" >>"$T/nginx/out.log" 2>&1 &
_bg_pids="$_bg_pids $!"
wait_until 10 curl -fsS -o /dev/null --max-time 2 --cacert "$PKI/ca.crt" \
    "https://127.0.0.1:$NA/" || fail "nginx with TLS did not start: $(cat "$T/nginx/error.log" "$T/nginx/out.log")"

ca="ca = \"$PKI/ca.crt\";"
write_conf <<EOC
apis = (
	{ name = "ok"; base_path = "/ok";
	  endpoints = { production = [ "https://127.0.0.1:$NA" ];
	      tls = { $ca server_name = "localhost"; }; }; },
	{ name = "ip"; base_path = "/ip";
	  endpoints = { production = [ "https://127.0.0.1:$NA" ]; tls = { $ca }; }; },
	{ name = "unverifiable"; base_path = "/unverifiable";
	  endpoints = { production = [ "https://127.0.0.1:$NB" ];
	      tls = { $ca server_name = "localhost"; }; }; },
	{ name = "mismatch"; base_path = "/mismatch";
	  endpoints = { production = [ "https://127.0.0.1:$NC" ];
	      tls = { $ca server_name = "localhost"; }; }; },
	{ name = "named"; base_path = "/named";
	  endpoints = { production = [ "https://127.0.0.1:$NC" ];
	      tls = { $ca server_name = "www.example.test"; }; }; },
	{ name = "noverify"; base_path = "/noverify";
	  endpoints = { production = [ "https://127.0.0.1:$NB" ];
	      tls = { verify = false; }; }; },
	{ name = "mtls"; base_path = "/mtls";
	  endpoints = { production = [ "https://127.0.0.1:$ND" ];
	      tls = { $ca server_name = "localhost"; certificate = "$PKI/mgwclient.crt";
		      key = "$PKI/mgwclient.key"; }; }; },
	{ name = "nocert"; base_path = "/nocert";
	  endpoints = { production = [ "https://127.0.0.1:$ND" ];
	      tls = { $ca server_name = "localhost"; }; }; },
	{ name = "sysca"; base_path = "/sysca";
	  endpoints = { production = [ "https://127.0.0.1:$NA" ]; }; }
);
EOC
"$MGWD" -n -f "$T/mgw.conf" >/dev/null 2>&1 ||
    fail "config refused: $("$MGWD" -n -f "$T/mgw.conf" 2>&1)"

# -- configuration errors ------------------------------------------------
sed "s|certificate = \"$PKI/mgwclient.crt\";|certificate = \"$PKI/mgwclient.crt\"; key = \"$PKI/backend.key\";|; s|key = \"$PKI/mgwclient.key\"; }|}|" \
    "$T/mgw.conf" > "$T/bad.conf"
out=$("$MGWD" -n -f "$T/bad.conf" 2>&1) && fail "bad upstream tls accepted"
printf '%s' "$out" | grep -q "bad.conf:[0-9]*: apis\[6\].endpoints.tls: " ||
    fail "upstream tls error without file:line: $out"
ok "mgwd -n refuses a bad upstream tls group with file:line"

mgw_start
GW=http://127.0.0.1:$PORT

out=$(curl -sS --max-time 10 "$GW/ok/x") || fail "verified backend: curl failed"
case $out in
conn=*' sni=localhost '*) ;;
*) fail "verified backend: $out" ;;
esac
out=$(curl -sS --max-time 10 "$GW/ip/x")
case $out in
conn=*' sni= '*) ;;
*) fail "verified backend by IP address (no SNI): $out" ;;
esac
out=$(curl -sS --max-time 10 "$GW/named/x")
case $out in
conn=*' sni=www.example.test '*) ;;
*) fail "server_name: $out" ;;
esac
ok "https:// upstream verified by name and address, SNI sent, server_name honoured"

for api in unverifiable mismatch sysca; do
	out=$(curl -sS --max-time 10 "$GW/$api/x" -w ' %{http_code}')
	case $out in
	*'"code":"upstream_tls_error"'*' 502') ;;
	*) fail "$api backend: $out" ;;
	esac
done
grep -q "upstream https://127.0.0.1:$NB: TLS handshake failed: certificate verify failed: unable to get local issuer certificate" "$T/mgwd.log" ||
    fail "unverifiable backend: reason not logged"
grep -q "upstream https://127.0.0.1:$NC: TLS handshake failed: certificate verify failed: hostname mismatch" "$T/mgwd.log" ||
    fail "hostname mismatch: reason not logged"
ok "unverifiable and mismatched backends: 502 upstream_tls_error, reason logged"

out=$(curl -sS --max-time 10 "$GW/noverify/x")
case $out in conn=*) ;; *) fail "verify = false: $out" ;; esac
out=$(curl -sS --max-time 10 "$GW/mtls/x")
case $out in
*'dn=CN=mgw-gateway,O=Example'*) ;;
*) fail "backend mTLS: $out" ;;
esac
out=$(curl -sS --max-time 10 "$GW/nocert/x" -w ' %{http_code}')
case $out in *' 400') ;; *) fail "backend mTLS without a certificate: $out" ;; esac
ok "verify = false; backend mutual TLS with the configured client certificate"

# -- pooling: one TLS connection for many requests -----------------------
conns=$(for i in 1 2 3 4 5 6; do curl -sS --max-time 10 "$GW/ok/p$i"; done |
    sed 's/ .*//' | sort -u | wc -l)
[ "$conns" -eq 1 ] || fail "pooled TLS: $conns nginx connections for 6 requests"
# Sequential keep-alive requests through one client connection, too.
conns=$(curl -sS --max-time 10 "$GW/ok/a" "$GW/ok/b" "$GW/ok/c" |
    sed 's/ .*//' | sort -u | wc -l)
[ "$conns" -eq 1 ] || fail "pooled TLS (one client): $conns nginx connections"
ok "TLS upstream connections are pooled and reused"

mgw_stop
