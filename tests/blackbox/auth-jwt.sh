#!/usr/bin/env bash
# JWT authentication as a client, an upstream and an operator see it.
# Keys from the openssl CLI, tokens from PyJWT (tests/authn-mint.py):
# every algorithm family passes through mgwd to the python upstream, which
# gets no Authorization and the consumer in X-Consumer; each claim failure
# and attack token is a 401 with its code and WWW-Authenticate; scopes are
# a 403 naming the scope; security = [] opens a resource; two issuers with
# two JWKS and one with PEM keys; JWKS rotation by reload, and a broken
# JWKS refused on reload with the old keys still in force; the consumer
# named by the token's sub is throttled at its application tier.
. "${top_srcdir:-.}/tests/lib.sh"

"$PYTHON" -c 'import jwt, cryptography' 2>/dev/null ||
    skip "python3-jwt (PyJWT) is not installed"
command -v openssl >/dev/null 2>&1 || fail "the openssl CLI is missing"

K=$T/keys
out=$("$PYTHON" "$top_srcdir/tests/authn-mint.py" "$K" 2>&1) ||
    fail "authn-mint.py failed: $out"
cp "$K/a.jwks" "$K/a-live.jwks"
start_upstream
U=http://127.0.0.1:$PORT

tok() { awk -v n="$1" '$1 == n { print $2 }' "$K/tokens"; }

# --- configuration errors: file:line
mock='endpoints = { mock = { status = 200; }; };'
check_bad bad-jwks "$T/bad-jwks.conf:[0-9]+: security.jwt\\[0\\]: jwks_file .*bad.jwks" <<EOC
security: { jwt = ( { issuer = "i"; jwks_file = "$K/bad.jwks"; } ); };
EOC
check_bad missing-jwks "bad-jwks.conf|missing-jwks.conf:[0-9]+: .*$K/nope.jwks: No such file" <<EOC
security: { jwt = ( { issuer = "i"; jwks_file = "$K/nope.jwks"; } ); };
EOC
check_bad private-pem "private-pem.conf:[0-9]+: .*b.key: a private key" <<EOC
security: { jwt = ( { issuer = "i"; keys = [ "$K/b.key" ];
	algorithm = "RS256"; } ); };
EOC
check_bad unknown-mech "unknown-mech.conf:[0-9]+: apis\\[0\\].security: unknown security mechanism 'kerberos'" <<EOC
security: { jwt = ( { issuer = "i"; jwks_file = "$K/b.jwks"; } ); };
apis = ( { name = "a"; base_path = "/a"; security = [ "kerberos" ]; $mock } );
EOC
check_bad jwt-no-issuer "jwt-no-issuer.conf:[0-9]+: .*jwt needs at least one issuer" <<EOC
apis = ( { name = "a"; base_path = "/a"; security = [ "jwt" ]; $mock } );
EOC
check_bad two-sources "two-sources.conf:[0-9]+: security.jwt\\[0\\]: set one of jwks_file, jwks_url or keys" <<EOC
security: { jwt = ( { issuer = "i"; jwks_file = "$K/b.jwks";
	keys = [ "$K/b.pub.pem" ]; } ); };
EOC

# --- the gateway
conf() {	# JWKS file of issuer A
	write_conf "$T/mgw.conf.new" <<EOC
policies = ( { name = "Two"; requests = 2; per = "1h";
	algorithm = "sliding_log"; } );
security: {
	jwt = (
		{ issuer = "https://a.idp.test"; audience = [ "api://mgw",
		  "api://alt" ]; jwks_file = "$1"; algorithm = "RS256"; },
		{ issuer = "https://b.idp.test"; audience = "api://b";
		  jwks_file = "$K/b.jwks"; leeway = "5s"; },
		{ issuer = "https://c.idp.test"; audience = "api://c";
		  keys = [ "$K/b.pub.pem" ]; algorithm = "RS256"; }
	);
	consumer_header = "X-Consumer";
	claims_header = "X-Claims";
};
consumers = (
	{ name = "alice-app"; jwt_subjects = [ "alice" ]; },
	{ name = "app42"; jwt_subjects = [ "app-42" ]; },
	{ name = "carol-app"; jwt_subjects = [ "carol" ];
	  subscriptions = [ "other" ]; },
	{ name = "gold"; jwt_subjects = [ "dave" ]; tier = "Two"; }
);
apis = (
	{ name = "sec"; base_path = "/sec"; security = [ "jwt" ];
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; };
	  resources = (
		{ path = "/open/*"; security = []; },
		{ path = "/read/*"; scopes = [ "read" ]; },
		{ path = "/admin/*"; scopes = [ "admin", "root" ]; },
		{ path = "/*"; }
	  ); },
	{ name = "other"; base_path = "/other"; security = [ "jwt" ]; $mock },
	{ name = "free"; base_path = "/free";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; }; }
);
EOC
	mv "$T/mgw.conf.new" "$T/mgw.conf"
}
conf "$K/a-live.jwks"
"$MGWD" -n -f "$T/mgw.conf" > "$T/n.out" 2>&1 ||
    fail "configtest: $(cat "$T/n.out")"
ok "configtest accepts the security configuration"
mgw_start

# hit PATH [TOKEN|-] [HEADER...]: the status; headers in $T/h, body $T/body.
hit() {
	local p=$1 t=${2:--} x h=()
	shift 2 2>/dev/null || shift
	[ "$t" = - ] || h+=(-H "Authorization: Bearer $t")
	for x in "$@"; do
		h+=(-H "$x")
	done
	curl -s -D "$T/h" -o "$T/body" -w '%{http_code}' --max-time 10 \
	    "${h[@]}" "$U$p"
}

# --- every algorithm family, through to the upstream
for a in rs256 rs384 rs512 ps256 ps384 ps512 es256 es384 es512 eddsa \
    hs256 hs384 hs512; do
	s=$(hit /sec/echo "$(tok alg-$a)" "X-Consumer: forged")
	[ "$s" = 200 ] || fail "$a: status $s: $(cat "$T/body")"
	[ "$(upstream_hdr authorization)" = - ] ||
	    fail "$a: Authorization reached the upstream"
	[ "$(upstream_hdr x-consumer)" = alice-app ] ||
	    fail "$a: X-Consumer upstream is '$(upstream_hdr x-consumer)'"
done
ok "every algorithm family passes; upstream gets X-Consumer, no Authorization"
hit /sec/echo "$(tok alg-rs256)" > /dev/null
claims=$(upstream_hdr x-claims)
printf '%s' "$claims" | "$PYTHON" -c 'import base64,json,sys
s = sys.stdin.read(); c = json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
sys.exit(0 if c["sub"] == "alice" and c["iss"] == "https://a.idp.test" else 1)' ||
    fail "X-Claims upstream is not the claims: '$claims'"
ok "X-Claims carries the validated claims, base64url"
s=$(hit /sec/echo "$(tok client-app)")
[ "$s" = 200 ] && [ "$(upstream_hdr x-consumer)" = app42 ] ||
    fail "consumer by client_id: $s $(upstream_hdr x-consumer)"
ok "consumer found by client_id"
s=$(hit /sec/echo "$(tok stranger)" "X-Consumer: forged")
[ "$s" = 200 ] && [ "$(upstream_hdr x-consumer)" = - ] ||
    fail "unknown subject: $s, X-Consumer '$(upstream_hdr x-consumer)'"
ok "a valid token of no consumer passes, with no X-Consumer upstream"

# --- refusals
inv='^Bearer realm="mgw", error="invalid_token", error_description="[^"]+"$'
expect "no token" 401 missing_credentials '^Bearer realm="mgw"$' /sec/x -
s=$(hit /sec/x - "Authorization: Basic YTpi")
[ "$s" = 401 ] && [ "$(code)" = missing_credentials ] ||
    fail "Basic credentials: $s $(code)"
ok "Basic instead of Bearer: 401 missing_credentials"
expect "expired" 401 expired "$inv" /sec/x "$(tok expired)"
expect "nbf in the future" 401 invalid_credentials "$inv" /sec/x "$(tok nbf)"
expect "no exp" 401 invalid_credentials "$inv" /sec/x "$(tok no-exp)"
expect "wrong issuer" 401 invalid_credentials "$inv" /sec/x "$(tok wrong-iss)"
expect "wrong audience" 401 invalid_credentials "$inv" /sec/x "$(tok wrong-aud)"
expect "bad signature" 401 invalid_credentials "$inv" /sec/x "$(tok bad-sig)"
expect "another key's signature" 401 invalid_credentials "$inv" /sec/x \
    "$(tok other-key)"
expect "alg none" 401 invalid_credentials "$inv" /sec/x "$(tok alg-none)"
expect "unknown kid" 401 invalid_credentials "$inv" /sec/x "$(tok unknown-kid)"
expect "garbage" 401 invalid_credentials "$inv" /sec/x "$(tok garbage)"
expect "issuer B's key under issuer A" 401 invalid_credentials "$inv" /sec/x \
    "$(tok issuer-b-as-a)"
grep -qs "$(tok alg-rs256 | cut -d. -f3)" "$T/error.log" "$T/access.log" \
    "$T/mgwd.log" &&
    fail "a token reached a log"
ok "no token in the logs"

# --- scopes and subscriptions
expect "scope write on a read resource" 403 insufficient_scope \
    '^Bearer realm="mgw", error="insufficient_scope", scope="read"$' \
    /sec/read/x "$(tok scope-write)"
grep -q "'read'" "$T/body" || fail "the 403 does not name the scope"
expect "no scope on a read resource" 403 insufficient_scope 'scope="read"' \
    /sec/read/x "$(tok scope-none)"
[ "$(hit /sec/read/x "$(tok alg-es256)")" = 200 ] || fail "scope read"
[ "$(hit /sec/admin/x "$(tok scope-admin)")" = 200 ] || fail "scp admin"
expect "read on an admin resource" 403 insufficient_scope \
    'scope="admin root"' /sec/admin/x "$(tok alg-rs256)"
ok "scopes: any one of the resource's, from scope or scp"
expect "consumer not subscribed" 403 not_subscribed - /sec/x \
    "$(tok unsubscribed)"
[ "$(hit /other/x "$(tok unsubscribed)")" = 200 ] ||
    fail "carol on her subscribed API"
ok "subscriptions: carol reaches only 'other'"

# --- open routes
[ "$(hit /sec/open/echo)" = 200 ] || fail "security = [] resource"
[ "$(hit /free/echo - "X-Consumer: forged")" = 200 ] || fail "open API"
[ "$(upstream_hdr x-consumer)" = - ] || fail "forged X-Consumer went upstream"
ok "security = [] opens a resource; an API without security is open"

# --- issuers B (second JWKS) and C (PEM keys)
[ "$(hit /sec/x "$(tok issuer-b)")" = 200 ] || fail "issuer B: $(cat "$T/body")"
[ "$(hit /sec/x "$(tok issuer-c)")" = 200 ] || fail "issuer C: $(cat "$T/body")"
ok "two issuers with two JWKS, and one with PEM keys"

# --- throttling by the consumer the token names
s=$(for i in 1 2 3; do hit /sec/x "$(tok gold)"; echo; done | tr '\n' ' ')
[ "$s" = "200 200 429 " ] || fail "gold tier: $s"
[ "$(code)" = throttled ] || fail "gold tier: code $(code)"
ok "consumer by sub is throttled at its application tier (2, then 429)"

# --- metrics count the refusals
curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" > "$T/metrics"
grep -q 'mgw_auth_failures_total{.*reason="expired".*} [1-9]' "$T/metrics" ||
    grep -q 'mgw_auth_failures_total{.*expired.*} [1-9]' "$T/metrics" ||
    fail "no expired refusal in /metrics"
ok "auth failures in /metrics"

# --- rotation by reload
[ "$(hit /sec/x "$(tok rot1)")" = 200 ] || fail "rot1 before rotation"
[ "$(hit /sec/x "$(tok rot2)")" = 401 ] || fail "rot2 before rotation"
cp "$K/a-rot.jwks" "$K/a-live.jwks"
out=$(ctl reload 2>&1) || fail "reload: $out"
wait_until 20 mgw_ready || fail "not ready after reload"
wait_until 10 eval '[ "$(hit /sec/x "$(tok rot2)")" = 200 ]' ||
    fail "rot2 after rotation"
[ "$(hit /sec/x "$(tok rot1)")" = 401 ] || fail "rot1 after rotation"
ok "rotation by reload: the new key is accepted, the old refused"
cp "$K/bad.jwks" "$K/a-live.jwks"
out=$(ctl reload 2>&1) && fail "a broken JWKS was accepted: $out"
printf '%s\n' "$out" | grep -q "a-live.jwks" ||
    fail "the refusal does not name the file: $out"
[ "$(hit /sec/x "$(tok rot2)")" = 200 ] || fail "old keys after refusal"
ok "a broken JWKS refuses the reload; the old keys keep working"
