#!/usr/bin/env bash
# JWT verification against an independent minter: tests/jwt-mint.py makes
# keys with the openssl CLI and tokens with PyJWT (python3-jwt) in $T, a
# JWKS and a catalogue of valid tokens for every algorithm family and of
# attack tokens (RFC 8725 threats); test-jwt-cases verifies each with
# mgw's module and compares the outcome.  Skipped only without PyJWT.
. "${top_srcdir:-.}/tests/lib.sh"

"$PYTHON" -c 'import jwt, cryptography' 2>/dev/null ||
    skip "python3-jwt (PyJWT) is not installed"
command -v openssl >/dev/null 2>&1 || fail "the openssl CLI is missing"
prog=$top_builddir/tests/unit/test-jwt-cases
[ -x "$prog" ] || fail "$prog is not built (make check builds it)"

out=$("$PYTHON" "$top_srcdir/tests/jwt-mint.py" "$T" 2>&1) ||
    fail "jwt-mint.py failed: $out"
say "minted: $out"
"$prog" "$T/cases.json" > "$T/cases.out" 2>&1
rc=$?
grep -v '^ok - ' "$T/cases.out"
[ $rc -eq 0 ] || fail "test-jwt-cases: exit $rc"
n=$(grep -c '^ok - ' "$T/cases.out")
ok "$n minted tokens verified or refused as expected"
