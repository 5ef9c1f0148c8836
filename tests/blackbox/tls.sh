#!/usr/bin/env bash
# HTTPS listeners: proxying over TLS, SNI selection (and refusal of an
# unknown name where configured), TLS 1.0/1.1 refused, session
# resumption through the shared ticket keys (across workers and across a
# reload, i.e. new processes), plain HTTP on the TLS port and TLS on the
# plain port answered without a hang, garbage and truncated handshakes
# and a renegotiation attempt refused and counted, a bad key refused by
# mgwd -n and by reload, certificate rotation by reload while an
# established TLS connection carries on, OCSP stapling from a file (and a
# bad staple refused), and ticket key rotation: a ticket survives one
# rotation, not two.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"

command -v curl >/dev/null 2>&1 || skip "curl is not installed"
PYTHON=$(python3 -c 'import sys; print(sys.executable)') ||
    skip "python3 is not installed"

make_pki
start_upstream

# A real OCSP response for server.crt: an index.txt CA database that has
# it valid, a request, and the CA answering it for a day.
mkdir -p "$PKI/ocsp"
printf 'V\t%s\t\t%s\tunknown\t%s\n' \
    "$(date -u -d "$(openssl x509 -in "$PKI/server.crt" -noout -enddate |
    cut -d= -f2)" +%y%m%d%H%M%SZ)" "$(serial_of "$PKI/server.crt")" \
    "$(openssl x509 -in "$PKI/server.crt" -noout -subject -nameopt compat |
    sed 's/^subject=//')" > "$PKI/ocsp/index.txt"
openssl ocsp -issuer "$PKI/ca.crt" -cert "$PKI/server.crt" \
    -reqout "$PKI/ocsp/req.der" >/dev/null 2>&1 || fail "openssl ocsp: request"
openssl ocsp -index "$PKI/ocsp/index.txt" -rsigner "$PKI/ca.crt" \
    -rkey "$PKI/ca.key" -CA "$PKI/ca.crt" -reqin "$PKI/ocsp/req.der" \
    -respout "$PKI/ocsp/resp.der" -ndays 1 >/dev/null 2>&1 ||
    fail "openssl ocsp: response"

# tls_conf [CERT]: the https listener (server.crt stapled) and a strict one.
tls_conf() {
	local cert=${1:-server} staple=
	[ "$cert" = server ] && staple="ocsp_staple = \"$PKI/ocsp/resp.der\";"
	TLS_LISTENERS="	{ name = \"https\"; listen = \"127.0.0.1:$TLS_PORT\";
	  tls = { certificate = \"$PKI/$cert.crt\"; key = \"$PKI/$cert.key\"; $staple
		  certificates = (
		    { certificate = \"$PKI/www.crt\"; key = \"$PKI/www.key\"; },
		    { certificate = \"$PKI/api.crt\"; key = \"$PKI/api.key\"; } );
	  }; },
	{ name = \"strict\"; listen = \"127.0.0.1:$TLS2_PORT\";
	  tls = { certificate = \"$PKI/server.crt\"; key = \"$PKI/server.key\";
		  unknown_sni = \"refuse\"; protocols = [ \"TLSv1.2\" ]; }; },"
	tls_write_conf <<EOC
apis = (
	{ name = "py"; base_path = "/api";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; }; }
);
EOC
}

# -- configtest: a bad key and a mismatched key, with file:line --------
tls_conf
cp "$T/mgw.conf" "$T/good.conf"
sed "s|$PKI/server.key|$PKI/www.key|" "$T/good.conf" > "$T/mismatch.conf"
echo "not a key" > "$T/bad.key"
sed "s|$PKI/server.key|$T/bad.key|" "$T/good.conf" > "$T/badkey.conf"
"$MGWD" -n -f "$T/good.conf" >/dev/null 2>&1 || fail "good TLS config refused"
out=$("$MGWD" -n -f "$T/mismatch.conf" 2>&1) && fail "mismatched key accepted"
printf '%s\n' "$out" | grep -q "mismatch.conf:[0-9]*: listeners\[0\].tls: $PKI/www.key: does not match the certificate" ||
    fail "mismatch: unclear error: $out"
out=$("$MGWD" -n -f "$T/badkey.conf" 2>&1) && fail "bad key accepted"
printf '%s\n' "$out" | grep -q "badkey.conf:[0-9]*: .*$T/bad.key: " ||
    fail "bad key: unclear error: $out"
ok "mgwd -n refuses a bad or mismatched key with file:line and the reason"

# -- configtest: bad OCSP staples ----------------------------------------
head -c 300 /dev/urandom > "$T/garbage.der"
# badstaple NAME FILE REASON: mgwd -n refuses FILE as server.crt's staple.
badstaple() {
	sed "s|$PKI/ocsp/resp.der|$2|" "$T/good.conf" > "$T/$1.conf"
	out=$("$MGWD" -n -f "$T/$1.conf" 2>&1) && fail "$1: staple accepted"
	printf '%s\n' "$out" | grep -q "$1.conf:[0-9]*: listeners\[0\].tls: ocsp_staple $2: $3" ||
	    fail "$1: unclear error: $out"
}
badstaple missing "$T/none.der" "No such file or directory"
badstaple garbage "$T/garbage.der" "not a DER OCSP response"
chmod 000 "$PKI/ocsp/req.der"
[ -r "$PKI/ocsp/req.der" ] ||	# root reads anything
    badstaple unreadable "$PKI/ocsp/req.der" "Permission denied"
chmod 644 "$PKI/ocsp/req.der"
# server.crt's response on the www certificate: about another serial.
sed "s|key = \"$PKI/www.key\"; }|key = \"$PKI/www.key\"; ocsp_staple = \"$PKI/ocsp/resp.der\"; }|" \
    "$T/good.conf" > "$T/foreign.conf"
out=$("$MGWD" -n -f "$T/foreign.conf" 2>&1) && fail "foreign staple accepted"
printf '%s\n' "$out" | grep -q "foreign.conf:[0-9]*: listeners\[0\].tls: ocsp_staple $PKI/ocsp/resp.der: not about this certificate" ||
    fail "foreign staple: unclear error: $out"
ok "mgwd -n refuses a missing, unreadable, garbled or foreign OCSP staple with file:line"

mgw_start
wait_until 10 https_ready "$TLS_PORT" || fail "HTTPS listener not ready"

# -- proxying ----------------------------------------------------------
body=$(curl -sS --max-time 10 --cacert "$PKI/ca.crt" \
    "https://localhost:$TLS_PORT/api/echo/x?y=1") || fail "HTTPS request failed"
printf '%s' "$body" | grep -q '"path": "/echo/x?y=1"' ||
    fail "HTTPS proxying: $body"
printf '%s' "$body" | grep -q '"x-forwarded-proto": "https"' ||
    fail "X-Forwarded-Proto is not https: $body"
alpn=$(curl -sS -v --max-time 10 --cacert "$PKI/ca.crt" \
    "https://localhost:$TLS_PORT/health" 2>&1 | grep 'ALPN: server accepted')
printf '%s' "$alpn" | grep -q 'http/1.1' || fail "ALPN: $alpn"
# A body both ways, bigger than the buffers, over one keep-alive TLS conn.
head -c 3000000 /dev/urandom > "$T/big"
sum=$(sha256sum < "$T/big" | cut -d' ' -f1)
body=$(curl -sS --max-time 30 --cacert "$PKI/ca.crt" --data-binary @"$T/big" \
    "https://localhost:$TLS_PORT/api/echo/post") || fail "POST over TLS failed"
printf '%s' "$body" | grep -q "$sum" || fail "POST body corrupted over TLS"
n=$(curl -sS --max-time 30 --cacert "$PKI/ca.crt" \
    "https://localhost:$TLS_PORT/api/big?bytes=4000000" | wc -c)
[ "$n" -eq 4000000 ] || fail "4 MB response over TLS: got $n bytes"
codes=$(curl -sS --max-time 10 --cacert "$PKI/ca.crt" \
    -w '%{http_code} %{num_connects}\n' \
    -o /dev/null "https://localhost:$TLS_PORT/api/echo/1" \
    -o /dev/null "https://localhost:$TLS_PORT/api/echo/2" \
    -o /dev/null "https://localhost:$TLS_PORT/api/echo/3")
[ "$codes" = "200 1
200 0
200 0" ] || fail "keep-alive over TLS: $codes"
ok "HTTPS proxying: bodies both ways, keep-alive, ALPN http/1.1, X-Forwarded-Proto"

# -- SNI ----------------------------------------------------------------
[ "$(served_serial "$TLS_PORT" www.example.test)" = "$(serial_of "$PKI/www.crt")" ] ||
    fail "SNI www.example.test: wrong certificate"
[ "$(served_serial "$TLS_PORT" x.api.example.test)" = "$(serial_of "$PKI/api.crt")" ] ||
    fail "SNI x.api.example.test (wildcard): wrong certificate"
[ "$(served_serial "$TLS_PORT" nomatch.example.test)" = "$(serial_of "$PKI/server.crt")" ] ||
    fail "unknown SNI: not the default certificate"
[ "$(served_serial "$TLS_PORT")" = "$(serial_of "$PKI/server.crt")" ] ||
    fail "no SNI: not the default certificate"
curl -sS --max-time 10 --cacert "$PKI/ca.crt" \
    --resolve "www.example.test:$TLS_PORT:127.0.0.1" -o /dev/null \
    "https://www.example.test:$TLS_PORT/health" || fail "curl with SNI www failed"
out=$(openssl s_client -connect "127.0.0.1:$TLS2_PORT" \
    -servername nomatch.example.test </dev/null 2>&1) &&
    fail "unknown_sni = refuse: handshake succeeded"
printf '%s' "$out" | grep -q "unrecognized name" ||
    fail "unknown_sni = refuse: no unrecognized_name alert: $out"
[ "$(served_serial "$TLS2_PORT" localhost)" = "$(serial_of "$PKI/server.crt")" ] ||
    fail "refuse listener: a matching name was refused"
ok "SNI picks the certificate (exact, wildcard, default), refuses where asked"

# -- OCSP stapling -------------------------------------------------------
out=$(openssl s_client -connect "127.0.0.1:$TLS_PORT" -status </dev/null 2>&1)
printf '%s' "$out" | grep -q 'OCSP Response Status: successful' ||
    fail "no stapled OCSP response: $(printf '%s' "$out" | grep -i ocsp)"
printf '%s' "$out" | grep -q 'Cert Status: good' ||
    fail "stapled OCSP response not good: $(printf '%s' "$out" | grep -i status)"
out=$(openssl s_client -connect "127.0.0.1:$TLS2_PORT" -status </dev/null 2>&1)
printf '%s' "$out" | grep -q 'OCSP response: no response sent' ||
    fail "a listener without ocsp_staple stapled: $(printf '%s' "$out" | grep -i ocsp)"
out=$(openssl s_client -connect "127.0.0.1:$TLS_PORT" </dev/null 2>&1)
printf '%s' "$out" | grep -q 'OCSP Response Status' &&
    fail "stapled to a client that did not ask"
ok "OCSP stapling: the file's response to clients that ask, nothing elsewhere"

# -- protocols -----------------------------------------------------------
f0=$(stat_of tls_failures)
for v in -tls1 -tls1_1; do
	openssl s_client "$v" -cipher 'DEFAULT@SECLEVEL=0' \
	    -connect "127.0.0.1:$TLS_PORT" </dev/null >"$T/old.out" 2>&1 &&
	    fail "$v handshake succeeded"
done
wait_until 5 eval '[ "$(stat_of tls_failures)" -ge $((f0 + 2)) ]' ||
    fail "TLS 1.0/1.1 attempts not counted as failures"
grep -q "handshake failed: unsupported protocol" "$T/mgwd.log" ||
    fail "old protocol refusal not logged with its reason"
curl -sS --max-time 10 --tls-max 1.1 --cacert "$PKI/ca.crt" -o /dev/null \
    "https://localhost:$TLS_PORT/health" 2>/dev/null && fail "curl TLS 1.1 accepted"
openssl s_client -tls1_3 -connect "127.0.0.1:$TLS2_PORT" </dev/null \
    >/dev/null 2>&1 && fail "protocols = [TLSv1.2]: TLS 1.3 accepted"
for v in -tls1_2 -tls1_3; do
	openssl s_client "$v" -connect "127.0.0.1:$TLS_PORT" </dev/null \
	    >/dev/null 2>&1 || fail "$v refused"
done
ok "TLS 1.0 and 1.1 refused, counted and logged; 1.2 and 1.3 served"

# -- resumption: tickets from shm ---------------------------------------
ctl log verbose >/dev/null
req='GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
# resume VERSION: 12 resumptions of one session, all must reuse it.
resume() {
	local v=$1 i out
	rm -f "$T/sess"
	printf "$req" | openssl s_client "$v" -connect "127.0.0.1:$TLS_PORT" \
	    -sess_out "$T/sess" -ign_eof >"$T/s0.out" 2>&1
	grep -q '^New' "$T/s0.out" || fail "$v: first handshake: $(head -5 "$T/s0.out")"
	[ -s "$T/sess" ] || fail "$v: no session ticket received"
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		out=$(printf "$req" | openssl s_client "$v" \
		    -connect "127.0.0.1:$TLS_PORT" -sess_in "$T/sess" \
		    -ign_eof 2>&1)
		printf '%s' "$out" | grep -q '^Reused' ||
		    fail "$v: resumption $i did not reuse the session"
		printf '%s' "$out" | grep -q healthy ||
		    fail "$v: resumed connection did not serve"
	done
}
r0=$(stat_of tls_resumed)
resume -tls1_2
resume -tls1_3
wait_until 5 eval '[ "$(stat_of tls_resumed)" -ge $((r0 + 24)) ]' ||
    fail "resumptions not counted"
nw=$(grep ' resumed$' "$T/mgwd.log" | grep -o 'worker/[0-9]*' | sort -u | wc -l)
say "resumed handshakes were served by $nw distinct workers"
# The session of generation 1 resumes on generation 2: other processes.
printf "$req" | openssl s_client -tls1_3 -connect "127.0.0.1:$TLS_PORT" \
    -sess_out "$T/sess.g1" -ign_eof >/dev/null 2>&1
old=$(worker_pids | sort | tr '\n' ' ')
ctl reload >/dev/null || fail "reload failed"
wait_until 20 eval '[ "$(worker_pids | sort | tr "\n" " ")" != "$old" ] &&
    ! ctl status | grep -q draining' || fail "reload did not replace the workers"
out=$(printf "$req" | openssl s_client -tls1_3 -connect "127.0.0.1:$TLS_PORT" \
    -sess_in "$T/sess.g1" -ign_eof 2>&1)
printf '%s' "$out" | grep -q '^Reused' ||
    fail "a session from before the reload did not resume on new workers"
ctl log brief >/dev/null
ok "sessions resume on every worker and across a reload (shm ticket keys)"

# -- plain HTTP on the TLS port, TLS on the plain port ------------------
out=$(curl -sS --max-time 10 "http://127.0.0.1:$TLS_PORT/health" -w ' %{http_code}')
case $out in
*'"code":"http_on_https_port"'*' 400') ;;
*) fail "plain HTTP on the TLS port: $out" ;;
esac
start=$(date +%s)
curl -sS --max-time 10 -k "https://127.0.0.1:$PORT/health" >/dev/null 2>&1
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 28 ] || fail "TLS on the plain port: curl exit $rc"
[ $(( $(date +%s) - start )) -lt 5 ] || fail "TLS on the plain port hung"
ok "plain HTTP on the TLS port gets a 400 JSON; TLS on the plain port fails fast"

# -- bad input ------------------------------------------------------------
f0=$(stat_of tls_failures)
# A handshake record header, then garbage.
"$PYTHON" -c 'import os, sys
sys.stdout.buffer.write(b"\x16\x03\x01\x02\x00" + os.urandom(512))' |
    raw_http "$TLS_PORT" 5 >/dev/null
[ $? -eq 0 ] || fail "garbage handshake: the connection was not closed"
# A truncated ClientHello: the first bytes of a real one, then EOF.
"$PYTHON" -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"\x16\x03\x01\x00\xf4\x01\x00\x00\xf0\x03\x03")
s.shutdown(socket.SHUT_WR)
sys.exit(0 if s.recv(100) == b"" else 1)' "$TLS_PORT" ||
    fail "truncated handshake: the connection was not closed"
wait_until 5 eval '[ "$(stat_of tls_failures)" -ge $((f0 + 2)) ]' ||
    fail "bad handshakes not counted"
# Renegotiation: OpenSSL clients ask with "R" on stdin (TLS 1.2).
{ printf 'R\n'; tick 0.5; } | openssl s_client -tls1_2 \
    -connect "127.0.0.1:$TLS_PORT" >"$T/reneg.out" 2>&1
grep -q RENEGOTIATING "$T/reneg.out" || fail "renegotiation not attempted"
grep -q 'New, TLSv1.2' "$T/reneg.out" || fail "renegotiation: no handshake"
[ "$(grep -c 'New, TLSv1.2' "$T/reneg.out")" -eq 1 ] ||
    fail "a client renegotiation succeeded"
https_ready "$TLS_PORT" || fail "not serving after bad handshakes"
ok "garbage, truncated handshakes and renegotiation refused and counted"

# -- rotation by reload, an established connection carries on -----------
mkfifo "$T/in"
openssl s_client -connect "127.0.0.1:$TLS_PORT" -CAfile "$PKI/ca.crt" \
    -ign_eof <"$T/in" >"$T/est.out" 2>&1 &
_bg_pids="$_bg_pids $!"
exec 8>"$T/in"
wait_until 10 grep -q 'Verify return code: 0' "$T/est.out" ||
    fail "established connection: no handshake"
tls_conf server2
cp "$T/mgw.conf" "$T/rotated.conf"
# First a rotation to a mismatched pair: refused, nothing changes.
sed "s|$PKI/server2.key|$PKI/api.key|" "$T/rotated.conf" > "$T/mgw.conf"
out=$(ctl reload 2>&1) && fail "reload with a mismatched key accepted"
printf '%s' "$out" | grep -q "does not match the certificate" ||
    fail "refused reload: unclear reason: $out"
[ "$(served_serial "$TLS_PORT")" = "$(serial_of "$PKI/server.crt")" ] ||
    fail "refused reload changed the certificate"
cp "$T/rotated.conf" "$T/mgw.conf"
ctl reload >/dev/null || fail "rotation reload failed"
wait_until 20 eval '[ "$(served_serial "$TLS_PORT")" = "$(serial_of "$PKI/server2.crt")" ]' ||
    fail "new connections do not get the rotated certificate"
printf 'GET /api/echo/after-rotation HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&8
wait_until 10 grep -q '"/echo/after-rotation"' "$T/est.out" ||
    fail "the established connection was dropped by the rotation"
exec 8>&-
ok "rotation by reload: new certificate for new connections, the old connection served"

mgw_stop
ok "clean stop"

# -- ticket key rotation ---------------------------------------------------
# Rotate every 2 s.  A ticket is tied to the number of rotations seen
# before and after it was issued (both the same), then tried after the
# next rotation (previous key: resumes) and after the one after (gone:
# a full handshake).  Rotations are counted from the master's log line.
TLS_LISTENERS="	{ name = \"https\"; listen = \"127.0.0.1:$TLS_PORT\";
	  tls = { certificate = \"$PKI/server.crt\"; key = \"$PKI/server.key\";
		  ticket_key_rotation = \"2s\"; }; },"
tls_write_conf < /dev/null
sed 's/"2s"/"1s"/' "$T/mgw.conf" > "$T/onesec.conf"
"$MGWD" -n -f "$T/onesec.conf" >/dev/null 2>&1 || fail "ticket_key_rotation 1s refused"
sed 's/"2s"/"0s"/' "$T/mgw.conf" > "$T/zerosec.conf"
"$MGWD" -n -f "$T/zerosec.conf" >/dev/null 2>&1 && fail "ticket_key_rotation 0s accepted"
: > "$T/mgwd.log"
mgw_start
wait_until 10 https_ready "$TLS_PORT" || fail "HTTPS listener not ready"
rotations() { grep -c 'session ticket keys rotated' "$T/mgwd.log"; }
# session V: a session of version V in $T/rot$V; 0 on a full handshake.
session() {
	printf "$req" | openssl s_client "$1" -connect "127.0.0.1:$TLS_PORT" \
	    -sess_out "$T/rot$1" -ign_eof 2>&1 | grep -q '^New'
}
# reused V: does the session of version V resume?
reused() {
	printf "$req" | openssl s_client "$1" -connect "127.0.0.1:$TLS_PORT" \
	    -sess_in "$T/rot$1" -ign_eof 2>&1 | grep -q '^Reused'
}
done=
for try in 1 2 3; do
	n0=$(rotations)
	session -tls1_2 && session -tls1_3 || fail "rotation: no session"
	[ "$(rotations)" -eq "$n0" ] || continue	# a rotation in between
	wait_until 10 eval '[ "$(rotations)" -ge $((n0 + 1)) ]' ||
	    fail "ticket keys not rotated within 10 s"
	r12=0 r13=0
	reused -tls1_2 && r12=1
	reused -tls1_3 && r13=1
	# Only meaningful if the second rotation had not come yet.
	[ "$(rotations)" -eq $((n0 + 1)) ] || continue
	[ $r12 = 1 ] || fail "TLS 1.2: a ticket did not survive one rotation"
	[ $r13 = 1 ] || fail "TLS 1.3: a ticket did not survive one rotation"
	wait_until 10 eval '[ "$(rotations)" -ge $((n0 + 2)) ]' ||
	    fail "ticket keys not rotated twice within 10 s"
	reused -tls1_2 && fail "TLS 1.2: a ticket survived two rotations"
	reused -tls1_3 && fail "TLS 1.3: a ticket survived two rotations"
	done=1
	break
done
[ -n "$done" ] || fail "rotation: no attempt fell between two rotations"
https_ready "$TLS_PORT" || fail "not serving after ticket key rotations"
mgw_stop
ok "ticket key rotation: a ticket resumes after one rotation, not after two"
