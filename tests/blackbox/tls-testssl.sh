#!/usr/bin/env bash
# testssl.sh's vulnerability checks (-U: Heartbleed, CCS, ticketbleed,
# ROBOT, renegotiation, CRIME, BREACH, POODLE, SWEET32, FREAK, DROWN,
# LOGJAM, BEAST, LUCKY13, RC4...) against a loopback TLS listener with
# the default settings: no finding may say VULNERABLE.  Bounded by a
# timeout; skipped only when testssl.sh is not installed.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/tls-lib.sh"

TESTSSL=$(command -v testssl || command -v testssl.sh) ||
    skip "testssl.sh is not installed (apt-get install testssl.sh)"
command -v curl >/dev/null 2>&1 || skip "curl is not installed"

make_pki
TLS_LISTENERS="	{ name = \"https\"; listen = \"127.0.0.1:$TLS_PORT\";
	  tls = { certificate = \"$PKI/server.crt\"; key = \"$PKI/server.key\"; }; },"
tls_write_conf <<EOC
apis = ( { name = "m"; base_path = "/";
	   endpoints = { mock = { body = "hello\n"; }; }; } );
EOC
mgw_start
wait_until 10 https_ready "$TLS_PORT" || fail "HTTPS listener not ready"

timeout 600 "$TESTSSL" --quiet --color 0 --warnings batch --ip one \
    --sneaky -U --logfile "$T/testssl.log" "127.0.0.1:$TLS_PORT" \
    >"$T/testssl.out" 2>&1
rc=$?
[ "$rc" -ne 124 ] || fail "testssl.sh did not finish in 10 minutes"
grep -q 'Heartbleed' "$T/testssl.out" ||
    fail "testssl.sh did not run its checks (exit $rc): $(tail -5 "$T/testssl.out")"
if grep -i 'VULNERABLE' "$T/testssl.out" | grep -vi 'not vulnerable'; then
	fail "testssl.sh reports a vulnerability"
fi
say "$(grep -ci 'not vulnerable' "$T/testssl.out") checks not vulnerable"
https_ready "$TLS_PORT" || fail "not serving after testssl.sh"
ok "testssl.sh -U: no VULNERABLE finding"
mgw_stop
