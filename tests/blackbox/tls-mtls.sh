#!/usr/bin/env bash
# Mutual TLS: verify_client required and optional per listener, an API
# with mutual_tls = "mandatory" (401 client_certificate_required even on
# an optional listener), the verified certificate forwarded upstream as
# URL-encoded PEM replacing the client's header, the consumer found by
# fingerprint and by subject, expired, wrong-CA and revoked (CRL)
# certificates and a huge chain refused and counted, and the
# certificate header of a trusted proxy believed, of anyone else not.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"

command -v curl >/dev/null 2>&1 || skip "curl is not installed"
PYTHON=$(python3 -c 'import sys; print(sys.executable)') ||
    skip "python3 is not installed"

make_pki
start_upstream
FP=$(fingerprint "$PKI/mgwclient.crt")
# A client CA certificate only a trusted proxy presents, for its own consumer.
_leaf proxied clientca "/O=Example/CN=client-proxied" "basicConstraints=CA:FALSE
extendedKeyUsage=clientAuth" -days 30
PFP=$(fingerprint "$PKI/proxied.crt")

TLS_LISTENERS="	{ name = \"required\"; listen = \"127.0.0.1:$TLS_PORT\";
	  tls = { certificate = \"$PKI/server.crt\"; key = \"$PKI/server.key\";
		  client_ca = \"$PKI/clientca.crt\"; verify_client = \"required\";
		  crl = \"$PKI/clientca.crl\";
		  client_certificate_header = \"X-Client-Cert\"; }; },
	{ name = \"optional\"; listen = \"127.0.0.1:$TLS2_PORT\";
	  tls = { certificate = \"$PKI/server.crt\"; key = \"$PKI/server.key\";
		  client_ca = \"$PKI/clientca.crt\"; verify_client = \"optional\";
		  crl = \"$PKI/clientca.crl\";
		  client_certificate_header = \"X-Client-Cert\"; }; },"
tls_write_conf <<EOC
policies = ( { name = "OnePerMin"; requests = 1; per = "1m"; } );
consumers = (
	{ name = "by-fingerprint"; certificates = [ "$FP" ]; tier = "OnePerMin"; },
	{ name = "by-subject"; certificate_subjects = [ "CN=client-two,O=Example" ];
	  tier = "OnePerMin"; },
	{ name = "by-proxy"; certificates = [ "$PFP" ]; tier = "OnePerMin"; }
);
apis = (
	{ name = "open"; base_path = "/open";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; }; },
	{ name = "strict"; base_path = "/strict"; mutual_tls = "mandatory";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; }; }
);
EOC
sed -i 's|^\tdrain_timeout|\ttrusted_client_certificate_header = "X-SSL-Client-Cert";\n\ttrusted_proxies = [ "127.0.0.2" ];\n\tdrain_timeout|' "$T/mgw.conf"
# The header's certificate must verify: without a CA for the plain
# listener it never could, which is a configuration error.
out=$("$MGWD" -n -f "$T/mgw.conf" 2>&1) &&
    fail "trusted_client_certificate_header without a CA accepted"
printf '%s\n' "$out" | grep -q 'mgw.conf:[0-9]*: gateway: trusted_client_certificate_header needs trusted_client_certificate_ca, or client_ca on listener http' ||
    fail "header without a CA: unclear error: $out"
sed "s|^\tdrain_timeout|\ttrusted_client_certificate_crl = \"$T/none.crl\";\n\tdrain_timeout|" \
    "$T/mgw.conf" > "$T/crlonly.conf"
out=$("$MGWD" -n -f "$T/crlonly.conf" 2>&1) && fail "a CRL without a CA accepted"
printf '%s\n' "$out" | grep -q 'crlonly.conf:[0-9]*: gateway: trusted_client_certificate_crl needs trusted_client_certificate_ca' ||
    fail "CRL without a CA: unclear error: $out"
sed "s|^\tdrain_timeout|\ttrusted_client_certificate_ca = \"$T/none.pem\";\n\tdrain_timeout|" \
    "$T/mgw.conf" > "$T/noca.conf"
out=$("$MGWD" -n -f "$T/noca.conf" 2>&1) && fail "a missing CA file accepted"
printf '%s\n' "$out" | grep -q "noca.conf:[0-9]*: gateway: trusted_client_certificate_ca $T/none.pem: " ||
    fail "missing CA file: unclear error: $out"
sed -i "s|^\tdrain_timeout|\ttrusted_client_certificate_ca = \"$PKI/clientca.crt\";\n\ttrusted_client_certificate_crl = \"$PKI/clientca.crl\";\n\tdrain_timeout|" "$T/mgw.conf"
"$MGWD" -n -f "$T/mgw.conf" >/dev/null || fail "config refused: $("$MGWD" -n -f "$T/mgw.conf" 2>&1)"
ok "trusted_client_certificate_header needs a CA; a bad CA or a lone CRL is refused with file:line"
mgw_start

# c PORT CERT [curl args]: a request with a client certificate (or none).
c() {
	local port=$1 cert=$2
	shift 2
	if [ "$cert" = none ]; then
		curl -sS --max-time 10 --cacert "$PKI/ca.crt" "$@" \
		    "https://localhost:$port$URL"
	else
		curl -sS --max-time 10 --cacert "$PKI/ca.crt" \
		    --cert "$PKI/$cert.crt" --key "$PKI/$cert.key" "$@" \
		    "https://localhost:$port$URL"
	fi
}

# -- listener: required -----------------------------------------------------
URL=/open/echo/r
out=$(c "$TLS_PORT" client) || fail "required: a valid certificate was refused"
printf '%s' "$out" | grep -q '"path": "/echo/r"' || fail "required: $out"
f0=$(stat_of tls_failures)
c "$TLS_PORT" none >/dev/null 2>&1 && fail "required: no certificate accepted"
for bad in expired wrongclient revoked; do
	c "$TLS_PORT" "$bad" >/dev/null 2>&1 && fail "required: $bad certificate accepted"
done
wait_until 5 eval '[ "$(stat_of tls_failures)" -ge $((f0 + 4)) ]' ||
    fail "refused client certificates not counted"
for why in "certificate has expired" "unable to get local issuer certificate" \
    "certificate revoked" "peer did not return a certificate"; do
	grep -q "handshake failed: .*$why" "$T/mgwd.log" ||
	    fail "refusal not logged with its reason: $why"
done
ok "verify_client required: valid served; none, expired, wrong CA, revoked refused and logged"

# -- listener: optional ------------------------------------------------------
URL=/open/echo/o
c "$TLS2_PORT" none | grep -q '"path": "/echo/o"' ||
    fail "optional: no certificate was refused"
c "$TLS2_PORT" client | grep -q '"path": "/echo/o"' ||
    fail "optional: a valid certificate was refused"
c "$TLS2_PORT" expired >/dev/null 2>&1 && fail "optional: an expired certificate accepted"
c "$TLS2_PORT" revoked >/dev/null 2>&1 && fail "optional: a revoked certificate accepted"
ok "verify_client optional: with or without a certificate; a bad one refused"

# -- per API: mandatory ------------------------------------------------------
URL=/strict/echo/s
out=$(c "$TLS2_PORT" none -D "$T/h401" -w ' %{http_code}')
case $out in
*'"code":"client_certificate_required"'*' 401') ;;
*) fail "mandatory API without a certificate: $out" ;;
esac
grep -qi '^WWW-Authenticate: TLS' "$T/h401" ||
    fail "401 without WWW-Authenticate: $(cat "$T/h401")"
c "$TLS2_PORT" client | grep -q '"path": "/echo/s"' ||
    fail "mandatory API with a certificate refused"
out=$(curl -sS --max-time 10 "http://127.0.0.1:$PORT/strict/echo/s" -w ' %{http_code}')
case $out in
*'"code":"client_certificate_required"'*' 401') ;;
*) fail "mandatory API on plain HTTP: $out" ;;
esac
ok "mutual_tls mandatory: 401 client_certificate_required without a certificate, even where optional"

# -- forwarded certificate header -------------------------------------------
URL=/open/echo/h
out=$(c "$TLS2_PORT" client -H 'X-Client-Cert: forged')
pem=$(printf '%s' "$out" | "$PYTHON" -c 'import json, sys, urllib.parse
h = json.load(sys.stdin)["headers"]
print(urllib.parse.unquote(h.get("x-client-cert", "")), end="")')
[ "$(printf '%s' "$pem" | openssl x509 -noout -fingerprint -sha256 2>/dev/null)" = \
  "$(openssl x509 -in "$PKI/client.crt" -noout -fingerprint -sha256)" ] ||
    fail "X-Client-Cert is not the client's certificate: $(printf '%s' "$out" | head -c 300)"
out=$(c "$TLS2_PORT" none -H 'X-Client-Cert: forged')
printf '%s' "$out" | grep -qi 'x-client-cert' &&
    fail "a client's own X-Client-Cert was forwarded: $out"
ok "the verified certificate goes upstream URL-encoded, replacing the client's header"

# -- a huge chain ----------------------------------------------------------------
for i in $(seq 1 150); do cat "$PKI/clientca.crt"; done > "$T/chain.pem"
cat "$PKI/client.crt" "$T/chain.pem" > "$T/huge.crt"
f0=$(stat_of tls_failures)
curl -sS --max-time 10 --cacert "$PKI/ca.crt" --cert "$T/huge.crt" \
    --key "$PKI/client.key" "https://localhost:$TLS2_PORT/health" \
    >/dev/null 2>&1 && fail "a huge client chain was accepted"
wait_until 5 eval '[ "$(stat_of tls_failures)" -gt $f0 ]' ||
    fail "the huge chain was not counted"
grep -q 'handshake failed: excessive message size' "$T/mgwd.log" ||
    fail "huge chain: reason not logged"
https_ready "$TLS2_PORT" || fail "not serving after a huge chain"
ok "a huge client certificate chain is refused cleanly"

# -- trusted proxy header --------------------------------------------------------
enc=$("$PYTHON" -c 'import sys, urllib.parse
print(urllib.parse.quote(open(sys.argv[1]).read(), safe=""))' "$PKI/client.crt")
URL=/strict/echo/proxy
out=$(curl -sS --max-time 10 --interface 127.0.0.2 -H "X-SSL-Client-Cert: $enc" \
    "http://127.0.0.1:$PORT$URL")
printf '%s' "$out" | grep -q '"path": "/echo/proxy"' ||
    fail "trusted proxy's certificate header not believed: $out"
printf '%s' "$out" | grep -qi 'x-ssl-client-cert' ||
    fail "trusted proxy's header not forwarded"
out=$(curl -sS --max-time 10 -H "X-SSL-Client-Cert: $enc" \
    "http://127.0.0.1:$PORT$URL" -w ' %{http_code}')
case $out in
*'"code":"client_certificate_required"'*' 401') ;;
*) fail "an untrusted peer's certificate header was believed: $out" ;;
esac
URL=/open/echo/proxy2
out=$(curl -sS --max-time 10 -H "X-SSL-Client-Cert: $enc" "http://127.0.0.1:$PORT$URL")
printf '%s' "$out" | grep -qi 'x-ssl-client-cert' &&
    fail "an untrusted peer's certificate header was forwarded"
# Believed only once verified: against the gateway's CA on the plain
# listener, against the listener's own client_ca on a TLS one.
# hdr FILE: the URL-encoded PEM of a file, for the header.
hdr() {
	"$PYTHON" -c 'import sys, urllib.parse
print(urllib.parse.quote(open(sys.argv[1]).read(), safe=""))' "$1"
}
URL=/strict/echo/proxy
for bad in wrongclient revoked expired; do
	out=$(curl -sS --max-time 10 --interface 127.0.0.2 -D "$T/hb" \
	    -H "X-SSL-Client-Cert: $(hdr "$PKI/$bad.crt")" \
	    "http://127.0.0.1:$PORT$URL" -w ' %{http_code}')
	case $out in
	*'"code":"client_certificate_required"'*' 401') ;;
	*) fail "a trusted proxy's $bad certificate was believed: $out" ;;
	esac
	grep -qi '^WWW-Authenticate: TLS' "$T/hb" || fail "$bad: 401 without WWW-Authenticate"
done
for why in "unable to get local issuer certificate" "certificate revoked" \
    "certificate has expired"; do
	grep -q "X-SSL-Client-Cert from 127.0.0.2 ignored: $why" "$T/mgwd.log" ||
	    fail "an unverifiable header certificate not logged: $why"
done
out=$(curl -sS --max-time 10 --interface 127.0.0.2 \
    -H "X-SSL-Client-Cert: $(hdr "$PKI/wrongclient.crt")" \
    "http://127.0.0.1:$PORT/open/echo/unverified")
printf '%s' "$out" | grep -q '"path": "/echo/unverified"' || fail "open API: $out"
printf '%s' "$out" | grep -qi 'x-ssl-client-cert' &&
    fail "an unverifiable header certificate was forwarded upstream"
# On a TLS listener with its own client_ca (the proxy re-encrypts).
out=$(curl -sS --max-time 10 --interface 127.0.0.2 --cacert "$PKI/ca.crt" \
    -H "X-SSL-Client-Cert: $enc" "https://localhost:$TLS2_PORT$URL")
printf '%s' "$out" | grep -q '"path": "/echo/proxy"' ||
    fail "TLS listener: a proxy's certificate of its client_ca refused: $out"
out=$(curl -sS --max-time 10 --interface 127.0.0.2 --cacert "$PKI/ca.crt" \
    -H "X-SSL-Client-Cert: $(hdr "$PKI/wrongclient.crt")" \
    "https://localhost:$TLS2_PORT$URL" -w ' %{http_code}')
case $out in
*'"code":"client_certificate_required"'*' 401') ;;
*) fail "TLS listener: a proxy's wrong-CA certificate was believed: $out" ;;
esac
# A verified header certificate names its consumer (one request a minute).
codes=$(for i in 1 2; do curl -sS --max-time 10 --interface 127.0.0.2 \
    -H "X-SSL-Client-Cert: $(hdr "$PKI/proxied.crt")" -o /dev/null \
    -w '%{http_code} ' "http://127.0.0.1:$PORT/open/echo/by-proxy"; done)
[ "$codes" = "200 429 " ] || fail "a proxy's certificate did not name its consumer: $codes"
ok "trusted_client_certificate_header: believed from trusted_proxies only, once verified (CA, CRL, expiry)"

# -- consumers by certificate -------------------------------------------------
# Each consumer's tier admits one request a minute: a second request
# refused with 429 shows the certificate named the consumer.
URL=/open/echo/consumer
for cert in mgwclient client2; do
	codes=$(c "$TLS2_PORT" "$cert" -o /dev/null -w '%{http_code} '; c "$TLS2_PORT" "$cert" -o /dev/null -w '%{http_code}')
	[ "$codes" = "200 429" ] ||
	    fail "$cert: not throttled as its consumer: $codes"
done
codes=$(c "$TLS2_PORT" none -o /dev/null -w '%{http_code} '; c "$TLS2_PORT" none -o /dev/null -w '%{http_code}')
[ "$codes" = "200 200" ] || fail "no certificate: throttled as a consumer: $codes"
ok "the verified certificate names the consumer (fingerprint, subject)"


mgw_stop
