#!/usr/bin/env bash
# JWKS by URL: the master fetches an issuer's keys from a loopback JWKS
# endpoint (tests/jwks-server.py), refreshes them by Cache-Control max-age
# and hands them to the workers without a reload.  Keys from the openssl
# CLI (RSA and EC), JWKS and tokens from PyJWT.  Covered: keys fetched
# before the first request; rotation by refresh; the last good keys kept
# while the endpoint is down, answers 500 or serves garbage (one warning
# per streak); a reload with the same URL keeps serving; mgwd started
# with the endpoint down answers 503 auth_unavailable until it comes up;
# bad URLs refused by mgwd -n with file:line; https with a test CA, and an
# untrusted CA refused (logged, 503).
. "${top_srcdir:-.}/tests/lib.sh"

"$PYTHON" -c 'import jwt, cryptography' 2>/dev/null ||
    skip "python3-jwt (PyJWT) is not installed"
command -v openssl >/dev/null 2>&1 || fail "the openssl CLI is missing"
. "$top_srcdir/tests/tls-lib.sh"

K=$T/keys
mkdir -p "$K"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$K/a.key" 2>/dev/null || fail "openssl: RSA key"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$K/b.key" 2>/dev/null || fail "openssl: EC key"

# JWKS of key A (RS256) and key B (ES256), and one token per key and
# issuer: NAME TOKEN lines in $K/tokens.
"$PYTHON" - "$K" <<'EOP' || fail "cannot make the JWKS and tokens"
import json, os, sys, time
import jwt
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import get_default_algorithms
K = sys.argv[1]; ALGS = get_default_algorithms(); now = int(time.time())
keys = {}
for name, alg in (("a", "RS256"), ("b", "ES256")):
    with open(os.path.join(K, name + ".key"), "rb") as f:
        keys[name] = (alg, serialization.load_pem_private_key(f.read(), None))
def jwks(out, names):
    ks = []
    for n in names:
        alg, key = keys[n]
        j = json.loads(ALGS[alg].to_jwk(key.public_key()))
        j.update({"kid": n, "alg": alg, "use": "sig"})
        ks.append(j)
    with open(os.path.join(K, out), "w") as f:
        json.dump({"keys": ks}, f)
jwks("a.jwks", ["a"]); jwks("b.jwks", ["b"])
with open(os.path.join(K, "tokens"), "w") as f:
    for iss in ("url", "tls", "untrusted"):
        for n in ("a", "b"):
            alg, key = keys[n]
            t = jwt.encode({"iss": "https://%s.idp.test" % iss,
                            "aud": "api://mgw", "sub": "alice",
                            "iat": now - 10, "exp": now + 3600},
                           key, algorithm=alg, headers={"kid": n})
            f.write("%s-%s %s\n" % (iss, n, t))
EOP
tok() { awk -v n="$1" '$1 == n { print $2 }' "$K/tokens"; }

JP=$(free_port)		# the JWKS endpoint, http
SP=$(free_port)		# the JWKS endpoint, https
JWKS_PID=
cp "$K/a.jwks" "$K/live.jwks"
echo ok > "$K/mode"
echo 1 > "$K/maxage"

# jwks_up: the http endpoint, serving $K/live.jwks, until jwks_down.
jwks_up() {
	"$PYTHON" "$top_srcdir/tests/jwks-server.py" "$JP" "$K/live.jwks" \
	    --mode-file "$K/mode" --max-age-file "$K/maxage" \
	    >>"$T/jwks.log" 2>&1 &
	JWKS_PID=$!
	_bg_pids="$_bg_pids $!"
	wait_until 10 curl -fs -o /dev/null --max-time 2 \
	    "http://127.0.0.1:$JP/ping" || fail "the JWKS server did not start"
}
jwks_down() {
	kill -TERM "$JWKS_PID" 2>/dev/null
	wait "$JWKS_PID" 2>/dev/null
	JWKS_PID=
}
fetches() { curl -fsS --max-time 2 "http://127.0.0.1:$JP/count"; }
logs() { cat "$T/mgwd.log" "$T/error.log" 2>/dev/null; }
nlog() { logs | grep -c -- "$1"; }

# --- configuration errors: file:line
mock='endpoints = { mock = { status = 200; }; };'
check_bad ftp-url "ftp-url.conf:[0-9]+: .*jwks_url.*ftp://" <<EOC
security: { jwt = ( { issuer = "i"; jwks_url = "ftp://127.0.0.1/k"; } ); };
apis = ( { name = "a"; base_path = "/a"; security = [ "jwt" ]; $mock } );
EOC
check_bad no-host "no-host.conf:[0-9]+: .*jwks_url 'http:///k': no host" <<EOC
security: { jwt = ( { issuer = "i"; jwks_url = "http:///k"; } ); };
apis = ( { name = "a"; base_path = "/a"; security = [ "jwt" ]; $mock } );
EOC
check_bad bad-ca "bad-ca.conf:[0-9]+: .*jwks_ca .*nope.pem: No such file" <<EOC
security: { jwt = ( { issuer = "i"; jwks_url = "https://127.0.0.1:1/k";
	jwks_ca = "$K/nope.pem"; } ); };
apis = ( { name = "a"; base_path = "/a"; security = [ "jwt" ]; $mock } );
EOC

# --- the gateway
conf() {	# [extra issuers]
	write_conf <<EOC
security: {
	jwt = (
		{ issuer = "https://url.idp.test"; audience = "api://mgw";
		  jwks_url = "http://127.0.0.1:$JP/.well-known/jwks.json";
		  jwks_refresh = "2s"; jwks_timeout = "2s"; }
		${1:-}
	);
};
apis = ( { name = "sec"; base_path = "/sec"; security = [ "jwt" ]; $mock } );
EOC
}
U=http://127.0.0.1:$PORT
hit() {	# TOKEN-NAME: the status; body in $T/body
	curl -s -o "$T/body" -w '%{http_code}' --max-time 10 \
	    -H "Authorization: Bearer $(tok "$1")" "$U/sec/x"
}
is() { [ "$(hit "$1")" = "$2" ]; }

jwks_up
conf
"$MGWD" -n -f "$T/mgw.conf" > "$T/n.out" 2>&1 ||
    fail "configtest: $(cat "$T/n.out")"
mgw_start
s=$(hit url-a)
[ "$s" = 200 ] || fail "first request with key A: $s $(cat "$T/body")"
[ "$(fetches)" -ge 1 ] || fail "no fetch recorded"
s=$(hit url-b)
[ "$s" = 401 ] && [ "$(code)" = invalid_credentials ] ||
    fail "key B before rotation: $s $(code)"
ok "keys fetched before the first request: A 200, B 401"

# --- rotation by refresh (max-age 1 s), no reload
cp "$K/b.jwks" "$K/live.jwks"
wait_until 15 is url-b 200 || fail "key B not accepted after rotation"
s=$(hit url-a)
[ "$s" = 401 ] || fail "key A after rotation: $s"
[ "$(status_get generation)" = 1 ] || fail "a reload happened"
ok "rotation by URL refresh: B accepted, A refused, no reload"

# wait_fetches N: N more fetches answered than now.
wait_fetches() {
	local want=$(( $(fetches) + $1 ))
	wait_until 20 eval '[ "$(fetches)" -ge '"$want"' ]'
}
# streak WHAT PATTERN MODE: the server turns to MODE; the failure streak
# keeps key B and warns once, with PATTERN.  The warnings are counted
# before the mode changes: the master may fetch at once.
streak() {
	local w0=$(nlog "fetch failed:") r0
	echo "$3" > "$K/mode"
	wait_fetches 3 || fail "$1: the master stopped fetching"
	is url-b 200 || fail "$1: the last good keys are gone"
	[ "$(nlog "fetch failed:")" -eq $((w0 + 1)) ] ||
	    fail "$1: $(( $(nlog "fetch failed:") - w0 )) warnings, want 1"
	logs | grep "fetch failed:" | tail -n 1 | grep -q -- "$2" ||
	    fail "$1: warning '$(logs | grep "fetch failed:" | tail -n 1)'"
	# Back to normal: the master says so once it has fetched again.
	r0=$(nlog "fetched again")
	echo ok > "$K/mode"
	wait_until 20 eval '[ "$(nlog "fetched again")" -gt '"$r0"' ]' ||
	    fail "$1: no recovery logged"
	ok "$1: old keys kept, one warning ($2), recovery logged"
}
streak "endpoint serving garbage" "not a usable JWKS: line 1" garbage
streak "endpoint answering 500" "HTTP status 500" 500

# --- the endpoint down
w0=$(nlog "fetch failed:")
jwks_down
wait_until 20 eval '[ "$(nlog "fetch failed:")" -gt '"$w0"' ]' ||
    fail "no warning while the endpoint is down"
is url-b 200 || fail "key B while the endpoint is down"
logs | grep "fetch failed:" | tail -n 1 | grep -q "keeping the previous keys" ||
    fail "warning: $(logs | grep "fetch failed:" | tail -n 1)"
ok "endpoint down: key B still accepted, warned: $(logs |
    grep "fetch failed:" | tail -n 1 | sed 's/.*fetch failed: //')"
cp "$K/a.jwks" "$K/live.jwks"
jwks_up
wait_until 20 is url-a 200 || fail "key A after the endpoint came back"
ok "endpoint back with key A: accepted"

# --- reload with the same URL: the kept zone serves at once
echo 3600 > "$K/maxage"
wait_fetches 1 || fail "no fetch with the long max-age"
n0=$(fetches)
out=$(ctl reload 2>&1) || fail "reload: $out"
wait_until 20 gen_only 2 || fail "generation 2 did not take over"
is url-a 200 || fail "key A after the reload: $(cat "$T/body")"
[ "$(fetches)" -eq "$n0" ] || fail "the reload refetched the keys"
ok "reload with an unchanged jwks_url: keys kept, no refetch"

# --- mgwd started while the endpoint is down
mgw_stop
jwks_down
echo 1 > "$K/maxage"
mgw_start
s=$(hit url-a)
[ "$s" = 503 ] && [ "$(code)" = auth_unavailable ] ||
    fail "endpoint down at start: $s $(code) $(cat "$T/body")"
logs | grep -q "no keys for its issuers yet" ||
    fail "no warning for the failed first fetch"
ok "started with the endpoint down: 503 auth_unavailable"
jwks_up
wait_until 20 is url-a 200 || fail "key A after the endpoint came up"
ok "endpoint up: 200 without a reload"
mgw_stop

# --- https: jwks_ca trusted, and an untrusted CA; a URL that never
# answers delays the start by its jwks_timeout only
make_pki
start_blackhole
cp "$K/a.jwks" "$K/tls.jwks"
"$PYTHON" "$top_srcdir/tests/jwks-server.py" "$SP" "$K/tls.jwks" \
    --cert "$PKI/server.crt" --key "$PKI/server.key" \
    >>"$T/jwks-tls.log" 2>&1 &
_bg_pids="$_bg_pids $!"
wait_until 10 curl -fs -o /dev/null --max-time 2 --cacert "$PKI/ca.crt" \
    "https://127.0.0.1:$SP/ping" || fail "the https JWKS server did not start"
conf "
		, { issuer = \"https://tls.idp.test\"; audience = \"api://mgw\";
		  jwks_url = \"https://127.0.0.1:$SP/good\";
		  jwks_ca = \"$PKI/ca.crt\"; }
		, { issuer = \"https://untrusted.idp.test\";
		  audience = \"api://mgw\";
		  jwks_url = \"https://127.0.0.1:$SP/bad\";
		  jwks_ca = \"$PKI/otherca.crt\"; }
		, { issuer = \"https://hole.idp.test\";
		  jwks_url = \"http://127.0.0.1:$BLACKHOLE_PORT/k\";
		  jwks_timeout = \"300ms\"; }"
mgw_start
s=$(hit tls-a)
[ "$s" = 200 ] || fail "https with jwks_ca: $s $(cat "$T/body")"
ok "https jwks_url verified with jwks_ca: 200"
s=$(hit untrusted-a)
[ "$s" = 503 ] && [ "$(code)" = auth_unavailable ] ||
    fail "untrusted CA: $s $(code)"
logs | grep "127.0.0.1:$SP/bad: fetch failed" |
    grep -q "certificate verify failed" ||
    fail "no certificate warning: $(logs | grep "$SP/bad" | head -n 3)"
ok "untrusted CA: not fetched (certificate verify failed logged), 503"
is url-a 200 || fail "the http issuer beside the https ones"
ok "three issuers by URL side by side"
logs | grep "127.0.0.1:$BLACKHOLE_PORT/k: fetch failed" |
    grep -Eq "timed out|no answer within 300 ms" ||
    fail "no timeout warning: $(logs | grep "$BLACKHOLE_PORT" | head -n 3)"
ok "a jwks_url that never answers: timeout logged, the gateway serves"

# --- a reload that drops URLs: a new zone, seeded with the kept URL's
# document, so its issuer is served at once; the dropped fetchers go
# (the one on the black hole mid-fetch)
conf
out=$(ctl reload 2>&1) || fail "reload: $out"
wait_until 20 gen_only 2 || fail "generation 2 did not take over"
s=$(hit url-a)
[ "$s" = 200 ] || fail "key A right after the reload: $s $(cat "$T/body")"
s=$(hit tls-a)
[ "$s" = 401 ] || fail "a dropped issuer: $s"
ok "reload dropping URLs: the kept one serves at once, a dropped issuer is gone"
