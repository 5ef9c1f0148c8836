#!/usr/bin/env bash
# Revocation and the shared token cache, as an operator sees them: a JWT
# (PyJWT, key from the openssl CLI) that was verified and cached is
# refused with 401 revoked as soon as mgwctl revoke names its jti or its
# SHA-256, other tokens still pass; a revocation with an until lapses by
# itself; the list survives mgwctl reload and a full restart through
# security.revocation_file, and mgwctl revocations lists it; an API key
# is revoked by the hash the configuration holds; bad arguments and a bad
# revocation file are refused with a message (file:line); the cache
# counters show on /metrics and in mgwctl stats.
. "${top_srcdir:-.}/tests/lib.sh"

"$PYTHON" -c 'import jwt, cryptography' 2>/dev/null ||
    skip "python3-jwt (PyJWT) is not installed"
command -v openssl >/dev/null 2>&1 || fail "the openssl CLI is missing"

K=$T/keys
mkdir -p "$K"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$K/rsa.key" 2>/dev/null || fail "openssl genpkey"
openssl pkey -in "$K/rsa.key" -pubout -out "$K/rsa.pub.pem" 2>/dev/null ||
    fail "openssl pkey -pubout"
# NAME TOKEN lines: tokens with jti j1..j5 and one without a jti.
"$PYTHON" - "$K" > "$K/tokens" <<'EOF' || fail "minting tokens failed"
import sys, time, jwt
k = open(sys.argv[1] + "/rsa.key").read()
now = int(time.time())
def mint(jti):
    c = {"iss": "https://idp.test", "aud": "api://rv", "sub": "alice",
         "iat": now, "exp": now + 3600}
    if jti:
        c["jti"] = jti
    return jwt.encode(c, k, algorithm="RS256")
for j in ("j1", "j2", "j3", "j4", "j5"):
    print(j, mint(j))
print("nojti", mint(None))
EOF
tok() { awk -v n="$1" '$1 == n { print $2 }' "$K/tokens"; }
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }

APIKEY=k-$(openssl rand -hex 16)
start_upstream
U=http://127.0.0.1:$PORT
M=http://127.0.0.1:$ADMIN_PORT/metrics
RF=$T/revoked

conf() {	# [revocation_file]
	write_conf "$T/mgw.conf.new" <<EOC
metrics: { enabled = true; };
security: {
	jwt = ( { issuer = "https://idp.test"; audience = "api://rv";
		  keys = [ "$K/rsa.pub.pem" ]; algorithm = "RS256"; } );
	revocation_file = "${1:-$RF}";
	revocation_max = 64;
	token_cache: { size = "1m"; ttl = "5m"; };
};
consumers = (
	{ name = "alice-app"; jwt_subjects = [ "alice" ];
	  api_keys = [ "sha256:$(sha "$APIKEY")" ]; }
);
apis = (
	{ name = "jwt"; base_path = "/jwt"; security = [ "jwt" ];
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; }; },
	{ name = "key"; base_path = "/key"; security = [ "api_key" ];
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; }; }
);
EOC
	mv "$T/mgw.conf.new" "$T/mgw.conf"
}

# hit PATH TOKEN [HEADER]: the status; the body in $T/body.
hit() {
	local h=(-H "Authorization: Bearer $2")
	[ $# -lt 3 ] || h=(-H "$3")
	curl -s -o "$T/body" -w '%{http_code}' --max-time 10 "${h[@]}" "$U$1"
}
metric() {
	curl -fsS --max-time 5 "$M" | awk -v n="$1" '$1 == n { print $2 }'
}
want() {	# WHAT STATUS [CODE] PATH TOKEN [HEADER]
	local what=$1 st=$2 c=$3 s
	shift 3
	s=$(hit "$@")
	[ "$s" = "$st" ] || fail "$what: status $s, want $st: $(cat "$T/body")"
	[ "$c" = - ] || [ "$(code)" = "$c" ] ||
	    fail "$what: code '$(code)', want $c"
}
works() { [ "$(hit /jwt/x "$1")" = 200 ]; }

conf
"$MGWD" -n -f "$T/mgw.conf" > "$T/n.out" 2>&1 ||
    fail "configtest: $(cat "$T/n.out")"
mgw_start

# --- a token is verified once, then served from the shared cache
h0=$(metric mgw_token_cache_hits_total)
[ -n "$h0" ] || fail "no mgw_token_cache_hits_total on /metrics"
[ "$(metric mgw_token_cache_capacity)" -gt 0 ] ||
    fail "token cache capacity $(metric mgw_token_cache_capacity)"
want "j1 first" 200 - /jwt/x "$(tok j1)"
want "j1 again" 200 - /jwt/x "$(tok j1)"
want "j1 third" 200 - /jwt/x "$(tok j1)"
h1=$(metric mgw_token_cache_hits_total)
[ "$h1" -ge $((h0 + 2)) ] || fail "cache hits went from $h0 to $h1"
[ "$(metric mgw_token_cache_entries)" -ge 1 ] || fail "no cache entries"
ok "a token passes and is then found in the token cache (hits $h0 -> $h1)"
st=$(ctl stats) || fail "mgwctl stats"
printf '%s\n' "$st" | grep -Eq '^token_cache_hits: [1-9]' &&
    printf '%s\n' "$st" | grep -q '^token_cache_misses: ' &&
    printf '%s\n' "$st" | grep -Eq '^token_cache_entries: [1-9]' ||
    fail "mgwctl stats has no token cache numbers: $st"
curl -fsS --max-time 5 "http://127.0.0.1:$ADMIN_PORT/status" |
    "$PYTHON" -c 'import json, sys
j = json.load(sys.stdin)
assert j["token_cache_hits"] >= 2 and "token_cache_misses" in j, j
assert j["token_cache_entries"] >= 1, j' ||
    fail "/status has no token cache numbers"
ok "mgwctl stats and /status show the token cache"

# --- revoke by jti: the cached token is refused at once
out=$(ctl revoke j1) || fail "mgwctl revoke j1: $out"
[ "$out" = "revoked j1 until forever" ] || fail "revoke printed '$out'"
want "revoked j1" 401 revoked /jwt/x "$(tok j1)"
want "revoked j1 again" 401 revoked /jwt/x "$(tok j1)"
want "j2" 200 - /jwt/x "$(tok j2)"
[ "$(metric mgw_revoked_tokens)" = 1 ] ||
    fail "mgw_revoked_tokens $(metric mgw_revoked_tokens)"
ok "mgwctl revoke JTI: the cached token is 401 revoked at once, j2 still 200"

# --- revoke by the token's SHA-256
want "j3 cached" 200 - /jwt/x "$(tok j3)"
want "nojti cached" 200 - /jwt/x "$(tok nojti)"
out=$(ctl revoke "sha256:$(sha "$(tok j3)")") || fail "revoke hash: $out"
out=$(ctl revoke "SHA256:$(sha "$(tok nojti)" | tr a-f A-F)") ||
    fail "revoke upper-case hash: $out"
[ "$out" = "revoked sha256:$(sha "$(tok nojti)") until forever" ] ||
    fail "revoke hash printed '$out'"
want "revoked by hash" 401 revoked /jwt/x "$(tok j3)"
want "revoked by hash, no jti" 401 revoked /jwt/x "$(tok nojti)"
ok "mgwctl revoke sha256:HASH (either case): refused, with or without jti"

# --- an until: revoked now, works again once it has passed
want "j4 cached" 200 - /jwt/x "$(tok j4)"
out=$(ctl revoke j4 2s) || fail "revoke j4 2s: $out"
iso='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
printf '%s\n' "$out" | grep -Eq "^revoked j4 until $iso\$" ||
    fail "revoke with until printed '$out'"
want "j4 revoked for 2s" 401 revoked /jwt/x "$(tok j4)"
wait_until 10 works "$(tok j4)" || fail "j4 still refused after its until"
ok "a revocation with an until lapses by itself (2s)"
future=$(( $(date +%s) + 86400 ))
out=$(ctl revoke j5 "$future") || fail "revoke j5 unix: $out"
later=$(date -u -d @$((future + 3600)) +%Y-%m-%dT%H:%M:%SZ)
out=$(ctl revoke j5 "$later") || fail "revoke j5 iso: $out"
[ "$out" = "revoked j5 until $later" ] ||
    fail "revoke j5 iso printed '$out'"
want "j5" 401 revoked /jwt/x "$(tok j5)"
ok "until as Unix seconds and as an ISO time; re-adding replaces the until"

# --- an API key, by the hash in the configuration
want "api key" 200 - /key/x - "apikey: $APIKEY"
want "api key cached" 200 - /key/x - "apikey: $APIKEY"
out=$(ctl revoke "sha256:$(sha "$APIKEY")") || fail "revoke api key: $out"
want "revoked api key" 401 revoked /key/x - "apikey: $APIKEY"
ok "an API key revoked by its configured sha256 hash is 401 revoked"

# --- the list, the file, reload and restart
list=$(ctl revocations) || fail "mgwctl revocations"
for w in "jti:j1 0" "sha256:$(sha "$(tok j3)") 0" \
    "sha256:$(sha "$(tok nojti)") 0" "jti:j5 $((future + 3600))" \
    "sha256:$(sha "$APIKEY") 0"; do
	printf '%s\n' "$list" | grep -qxF "$w" ||
	    fail "mgwctl revocations lacks '$w': $list"
	grep -qxF "$w" "$RF" || fail "$RF lacks '$w'"
done
printf '%s\n' "$list" | grep -q j4 && fail "the lapsed j4 is still listed"
[ "$(printf '%s\n' "$list" | wc -l)" = 5 ] || fail "revocations: $list"
ok "mgwctl revocations lists the 5 live entries, as does $(basename "$RF")"
grep -qsF "$APIKEY" "$RF" "$T/error.log" "$T/mgwd.log" &&
    fail "the API key reached a file"
grep -qsF "$(tok j1 | cut -d. -f3)" "$RF" "$T/error.log" "$T/mgwd.log" &&
    fail "a token reached a file"
ok "no token or key in the revocation file or the logs"

out=$(ctl reload 2>&1) || fail "reload: $out"
want "j1 after reload" 401 revoked /jwt/x "$(tok j1)"
want "j3 after reload" 401 revoked /jwt/x "$(tok j3)"
want "j2 after reload" 200 - /jwt/x "$(tok j2)"
ok "revocations survive mgwctl reload"

mgw_stop
mgw_start
want "j1 after restart" 401 revoked /jwt/x "$(tok j1)"
want "nojti after restart" 401 revoked /jwt/x "$(tok nojti)"
want "api key after restart" 401 revoked /key/x - "apikey: $APIKEY"
want "j2 after restart" 200 - /jwt/x "$(tok j2)"
[ "$(ctl revocations | wc -l)" = 5 ] || fail "after restart: $(ctl revocations)"
ok "revocations survive a stop and start (revocation_file)"

# --- bad input
bad() {	# WHAT PATTERN ARGS...
	local what=$1 pat=$2 rc
	shift 2
	out=$(ctl "$@" 2>&1)
	rc=$?
	[ "$rc" = 1 ] || fail "$what: exit $rc: $out"
	printf '%s\n' "$out" | grep -Eq -- "$pat" || fail "$what: '$out'"
	ok "$what: exit 1, $(printf '%s\n' "$out" | head -n 1)"
}
bad "revoke without an argument" 'missing argument after revoke' revoke
bad "revoke a short hash" 'bad token hash' revoke sha256:abcd
bad "revoke a non-hex hash" 'bad token hash' revoke \
    "sha256:$(printf 'z%.0s' $(seq 64))"
bad "revoke until in the past" 'in the past' revoke j2 1000000000
bad "revoke garbage until" 'bad until "soon"' revoke j2 soon
bad "revoke a jti with a space" 'without spaces' revoke "a b"
bad "revoke three words" 'unexpected argument' revoke j2 1h extra
want "j2 still works" 200 - /jwt/x "$(tok j2)"

printf 'jti:ok 0\njti:nountil\n' > "$T/bad-revoked"
conf "$T/bad-revoked"
out=$("$MGWD" -n -f "$T/mgw.conf" 2>&1) && fail "mgwd -n took a bad file"
printf '%s\n' "$out" | grep -q "$T/bad-revoked:2: " ||
    fail "mgwd -n does not name file:line: $out"
ok "a malformed revocation file refuses the config: $(printf '%s\n' "$out" |
    grep -o 'bad-revoked:2: .*' | head -n 1)"
conf "$T/newdir/revoked"
out=$(ctl reload 2>&1) || fail "reload to a file in a new directory: $out"
out=$(ctl revoke unused-jti 2>&1) || fail "revoke into a new directory: $out"
grep -q '^jti:unused-jti 0$' "$T/newdir/revoked" ||
    fail "the revocation file was not written in a new directory"
ok "the revocation file's directory is made when missing"
conf "$T/unwritable/sub/revoked"
out=$(ctl reload 2>&1) || fail "reload to an unwritable file: $out"
out=$(ctl revoke j2 2>&1) && fail "revoke to an unwritable file exited 0"
printf '%s\n' "$out" | grep -q 'revoked, but not persisted' ||
    fail "unpersisted revoke said '$out'"
want "j2 revoked though not persisted" 401 revoked /jwt/x "$(tok j2)"
ok "a revocation that cannot be written still holds, and mgwctl exits 1"

# Prometheus syntax of the new families.
if command -v promtool >/dev/null 2>&1; then
	curl -fsS --max-time 5 "$M" | promtool check metrics >"$T/prom" 2>&1 ||
	    fail "promtool: $(cat "$T/prom")"
	ok "promtool check metrics"
fi
exit 0
