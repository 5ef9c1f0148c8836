#!/usr/bin/env bash
# OAuth2 opaque tokens (RFC 7662 introspection) as a client, an upstream
# and an operator see them, against tests/introspect-server.py on
# loopback: an active token passes with its consumer (found by client_id
# in jwt_subjects) upstream, and its second use is served from the shm
# cache; inactive, expired, malformed and over-long tokens are 401s;
# scopes are 403s; an endpoint that is down, slow, failing, answering
# garbage or refusing the gateway's own credentials is a 503
# auth_unavailable, never a 401, within the configured timeout; a client
# leaving mid-introspection does not hurt the worker; 50 concurrent
# introspections all finish; jwt and oauth2 share a route; https with a
# CA file.
. "${top_srcdir:-.}/tests/lib.sh"

command -v openssl >/dev/null 2>&1 || fail "the openssl CLI is missing"
start_upstream
U=http://127.0.0.1:$PORT
IP_PORT=$(free_port)
TABLE=$T/table.json
CID="mgw gw"		# a space and a ':' and '&': RFC 6749 2.3.1 encoding
SECRET='s3c:r&t'
NOW=$(date +%s)

# table MODE [DELAY]: the endpoint's token table (re-read per request).
table() {
	MODE=$1 DELAY=${2:-3} NOW=$NOW "$PYTHON" - > "$TABLE.new" <<'EOP'
import json, os
now = int(os.environ["NOW"])
def act(**kw):
    d = {"active": True, "exp": now + 3600, "token_type": "Bearer"}
    d.update(kw)
    return d
t = {
    "tok-active": act(client_id="client-1", sub="user-1",
                      scope="read write", jti="jti-1"),
    "tok-write": act(client_id="client-1", scope="write"),
    "tok-user": act(username="bob", client_id="other"),
    "tok-inactive": {"active": False},
    "tok-expired": act(client_id="client-1", exp=now - 60),
    "tok-stranger": act(client_id="client-x", sub="nobody"),
    "tok-badexp": act(client_id="client-1", exp="tomorrow"),
    "tok-longsub": act(client_id="client-1", sub="s" * 300),
    "tok-slow": dict(act(client_id="client-1"), _mode="slow"),
}
for i in range(1, 51):
    t["c-%d" % i] = act(client_id="client-1", scope="read")
for i in range(1, 1001):
    t["n-%d" % i] = act(client_id="client-1", scope="read")
print(json.dumps({"mode": os.environ["MODE"],
                  "delay": float(os.environ["DELAY"]), "tokens": t}))
EOP
	mv "$TABLE.new" "$TABLE"
}

# start_idp [PORT [CERT KEY]]: the introspection endpoint.
start_idp() {
	local p=${1:-$IP_PORT} scheme=http
	shift 2>/dev/null
	[ $# -eq 2 ] && scheme=https
	"$PYTHON" "$top_srcdir/tests/introspect-server.py" "$p" "$TABLE" \
	    "$CID" "$SECRET" "$@" >>"$T/idp.log" 2>&1 &
	_bg_pids="$_bg_pids $!"
	IDP_PID=$!
	wait_until 10 curl -fsk -o /dev/null --max-time 2 \
	    "$scheme://127.0.0.1:$p/ping" || fail "introspection server did not start"
}
idp_count() { curl -fsS --max-time 5 "http://127.0.0.1:$IP_PORT/count"; }
table normal

mock='endpoints = { mock = { status = 200; }; };'
api="apis = ( { name = \"a\"; base_path = \"/a\"; security = [ \"oauth2\" ]; $mock } );"
# --- configuration errors: file:line
check_bad ftp-url "ftp-url.conf:[0-9]+: .*url.*ftp://x" <<EOC
security: { introspection = { url = "ftp://x"; }; };
$api
EOC
check_bad id-no-secret "id-no-secret.conf:[0-9]+: .*client_id and client_secret" <<EOC
security: { introspection = { url = "http://127.0.0.1:1/i";
	client_id = "gw"; }; };
$api
EOC
check_bad no-introspection "no-introspection.conf:[0-9]+: .*oauth2 needs security.introspection" <<EOC
$api
EOC
check_bad userinfo-url "userinfo-url.conf.*credentials in the URL" <<EOC
security: { introspection = { url = "http://u:p@127.0.0.1:1/i"; }; };
$api
EOC

# --- the gateway
JWT=0
if "$PYTHON" -c 'import jwt, cryptography' 2>/dev/null; then
	K=$T/keys
	out=$("$PYTHON" "$top_srcdir/tests/authn-mint.py" "$K" 2>&1) ||
	    fail "authn-mint.py failed: $out"
	JWT=1
fi
conf() {	# URL SECRET [EXTRA]
	local jwtconf= mixapi=
	if [ "$JWT" = 1 ]; then
		jwtconf="jwt = ( { issuer = \"https://a.idp.test\";
		    audience = \"api://mgw\"; jwks_file = \"$K/a.jwks\";
		    algorithm = \"RS256\"; } );"
		mixapi=", { name = \"mix\"; base_path = \"/mix\";
		    security = [ \"jwt\", \"oauth2\" ];
		    endpoints = { production = [ \"http://127.0.0.1:$UP_PORT\" ]; }; }"
	fi
	write_conf "$T/mgw.conf.new" <<EOC
security: {
	introspection = { url = "$1"; client_id = "$CID";
	    client_secret = "$2"; timeout = "1s"; ${3:-} };
	consumer_header = "X-Consumer";
	revocation_file = "";
	$jwtconf
};
consumers = (
	{ name = "app1"; jwt_subjects = [ "client-1" ]; },
	{ name = "bob-app"; jwt_subjects = [ "bob" ]; },
	{ name = "alice-app"; jwt_subjects = [ "alice" ]; }
);
apis = (
	{ name = "o"; base_path = "/o"; security = [ "oauth2" ];
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; };
	  resources = (
		{ path = "/read/*"; scopes = [ "read" ]; },
		{ path = "/admin/*"; scopes = [ "admin" ]; },
		{ path = "/*"; }
	  ); }
	$mixapi
);
EOC
	mv "$T/mgw.conf.new" "$T/mgw.conf"
}
IURL=http://127.0.0.1:$IP_PORT/introspect
conf "$IURL" "$SECRET"
"$MGWD" -n -f "$T/mgw.conf" > "$T/n.out" 2>&1 ||
    fail "configtest: $(cat "$T/n.out")"
ok "configtest accepts the introspection configuration"
start_idp
mgw_start

# hit PATH [TOKEN|-]: the status; headers in $T/h, body in $T/body.
hit() {
	local h=()
	[ "${2:--}" = - ] || h=(-H "Authorization: Bearer $2")
	curl -s -D "$T/h" -o "$T/body" -w '%{http_code}' --max-time 10 \
	    "${h[@]}" "$U$1"
}
# What mgwd logged (stderr with -d, and the error log if any).
logs() { cat "$T/mgwd.log" "$T/error.log" 2>/dev/null; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }

# --- an active token, then the cache
n0=$(idp_count)
s=$(hit /o/echo tok-active)
[ "$s" = 200 ] || fail "active token: $s $(cat "$T/body")"
[ "$(upstream_hdr x-consumer)" = app1 ] ||
    fail "X-Consumer upstream is '$(upstream_hdr x-consumer)'"
[ "$(upstream_hdr authorization)" = - ] ||
    fail "Authorization reached the upstream"
[ "$(idp_count)" -eq $((n0 + 1)) ] || fail "introspections: $(idp_count)"
ok "active token: 200, consumer app1 upstream, no Authorization upstream"
curl -fsS "http://127.0.0.1:$IP_PORT/last" | "$PYTHON" -c '
import json, sys
l = json.load(sys.stdin)
h = l["headers"]
assert l["path"] == "/introspect", l
assert l["form"] == {"token_type_hint": "access_token"}, l
assert l["token_length"] == len("tok-active"), l
assert h["content-type"] == "application/x-www-form-urlencoded", h
assert h["accept"] == "application/json", h
assert h["host"] == "127.0.0.1:'"$IP_PORT"'", h' ||
    fail "the introspection request is not RFC 7662's"
ok "POST form token + token_type_hint, Basic client credentials encoded"
for i in 1 2 3 4; do
	[ "$(hit /o/echo tok-active)" = 200 ] || fail "cached token: $i"
done
[ "$(idp_count)" -eq $((n0 + 1)) ] ||
    fail "repeat uses were introspected: $(idp_count)"
ok "repeat uses served from the token cache (endpoint count unchanged)"
s=$(hit /o/echo tok-user)
[ "$s" = 200 ] && [ "$(upstream_hdr x-consumer)" = bob-app ] ||
    fail "consumer by username: $s $(upstream_hdr x-consumer)"
ok "consumer found by the introspected username (no sub)"
s=$(hit /o/echo tok-stranger)
[ "$s" = 200 ] && [ "$(upstream_hdr x-consumer)" = - ] ||
    fail "unknown client: $s $(upstream_hdr x-consumer)"
ok "an active token of no consumer passes, with no X-Consumer upstream"

# --- refusals
inv='^Bearer realm="mgw", error="invalid_token"'
expect "no token" 401 missing_credentials '^Bearer realm="mgw"$' /o/x -
expect "inactive token" 401 invalid_credentials "$inv" /o/x tok-inactive
expect "unknown token" 401 invalid_credentials "$inv" /o/x tok-nobody
expect "active but expired" 401 expired "$inv" /o/x tok-expired
expect "over-long sub" 401 invalid_credentials "$inv" /o/x tok-longsub
n1=$(idp_count)
expect "malformed bearer token" 401 invalid_credentials "$inv" /o/x 'a"b'
big=$(head -c 9000 /dev/zero | tr '\0' 'A')
expect "token over 8 kB" 401 invalid_credentials "$inv" /o/x "$big"
[ "$(idp_count)" -eq "$n1" ] ||
    fail "malformed or huge tokens were sent to the endpoint"
ok "malformed and over-long tokens refused without an introspection"

# --- scopes
[ "$(hit /o/read/x tok-active)" = 200 ] || fail "scope read"
expect "scope write on a read resource" 403 insufficient_scope \
    'scope="read"' /o/read/x tok-write
expect "no admin scope" 403 insufficient_scope 'scope="admin"' \
    /o/admin/x tok-active

# --- 50 concurrent introspections, distinct tokens
n1=$(idp_count)
seq 1 50 | xargs -P 50 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
    --max-time 20 -H "Authorization: Bearer c-{}" "$U/o/read/x" \
    > "$T/conc.out"
good=$(grep -c '^200$' "$T/conc.out")
[ "$good" -eq 50 ] || fail "concurrent: $good of 50 answered 200: $(sort "$T/conc.out" | uniq -c | tr '\n' ' ')"
[ "$(idp_count)" -eq $((n1 + 50)) ] ||
    fail "concurrent: $(( $(idp_count) - n1 )) introspections, want 50"
ok "50 concurrent requests with distinct tokens: all 200, 50 introspections"

# --- the endpoint misbehaves: 503 auth_unavailable, never 401
# tnext: a fresh token the endpoint knows as active, in $TOK (not $(...):
# the counter must live in this shell).
n=0
tnext() { n=$((n + 1)); TOK=n-$n; }
for m in 500 garbage nojson; do
	table "$m"
	tnext
	expect "endpoint mode $m" 503 auth_unavailable - /o/x "$TOK"
	[ -z "$(header WWW-Authenticate)" ] ||
	    fail "$m: a 503 carries WWW-Authenticate"
done
table normal
expect "non-numeric exp in the answer" 503 auth_unavailable - /o/x tok-badexp

table slow 3
tnext
t0=$(ms)
s=$(hit /o/x "$TOK")
el=$(( $(ms) - t0 ))
[ "$s" = 503 ] && [ "$(code)" = auth_unavailable ] ||
    fail "slow endpoint: $s $(cat "$T/body")"
[ "$el" -ge 900 ] && [ "$el" -lt 2500 ] ||
    fail "slow endpoint answered after $el ms, timeout is 1000 ms"
ok "slow endpoint: 503 after $el ms (timeout 1s)"
wait_until 5 eval "logs | grep -q 'did not answer within 1000 ms'" ||
    fail "no timeout warning in the log"

# A request suspended in introspection when its worker starts draining
# (a reload): the plugin's answer, the 503 at the timeout, still reaches
# the client, and the draining worker closes the connection after it
# (RFC 9112 9.6: a server that closes says Connection: close).
table slow 3
tnext
c0=$(idp_count)
t0=$(ms)
curl -s -D "$T/dh" -o "$T/dbody" -w '%{http_code}' --max-time 10 \
    -H "Authorization: Bearer $TOK" "$U/o/x" > "$T/dcode" &
dpid=$!
wait_until 5 eval '[ "$(idp_count)" -gt "$c0" ]' ||
    fail "draining: the introspection was never asked"
ctl reload > "$T/reload.out" 2>&1 || fail "reload: $(cat "$T/reload.out")"
tr=$(( $(ms) - t0 ))
wait "$dpid"
[ "$(cat "$T/dcode")" = 503 ] &&
    grep -q '"code":"auth_unavailable"' "$T/dbody" ||
    fail "draining: $(cat "$T/dcode") $(cat "$T/dbody")"
! logs | grep -q 'AddressSanitizer\|runtime error' ||
    fail "draining: a sanitizer report: $(logs | grep -m3 'Sanitizer\|runtime error')"
if [ "$tr" -lt 900 ]; then
	grep -qi '^connection: close' "$T/dh" ||
	    fail "draining: the answer kept the connection open"
	ok "a request suspended when its worker drains gets its 503 (reload in $tr ms), then the close"
else
	ok "a request suspended during a reload gets its 503 (reload took $tr ms, after the timeout: drain path not reached)"
fi
table normal

pids=$(worker_pids | sort | tr '\n' ' ')
curl -s -o /dev/null --max-time 0.2 -H "Authorization: Bearer tok-slow" \
    "$U/o/x"
rc=$?
[ "$rc" -eq 28 ] || fail "curl --max-time 0.2: exit $rc, want 28"
tnext
curl -s -o /dev/null --max-time 0.2 -H "Authorization: Bearer $TOK" \
    "$U/o/x"
table normal
ctl status >/dev/null || fail "mgwd stopped answering"
wait_until 10 eval 'tnext; [ "$(hit /o/x "$TOK")" = 200 ]' ||
    fail "no 200 after clients left mid-introspection: $(cat "$T/body")"
[ "$(worker_pids | sort | tr '\n' ' ')" = "$pids" ] ||
    fail "a worker died: $pids -> $(worker_pids | tr '\n' ' ')"
ok "clients leaving mid-introspection: workers keep serving, none died"

# --- the gateway's own credentials are wrong: the endpoint says 401
conf "$IURL" "not-the-secret"
ctl reload > "$T/reload.out" 2>&1 || fail "reload: $(cat "$T/reload.out")"
wait_until 20 eval 'tnext; [ "$(hit /o/x "$TOK")" = 503 ]' ||
    fail "wrong client secret: $(cat "$T/body")"
[ "$(code)" = auth_unavailable ] || fail "wrong client secret: $(code)"
ok "wrong client secret configured: 503 auth_unavailable, not 401"
wait_until 10 eval "logs | grep -q 'answered HTTP 401 (check client_id'" ||
    fail "no warning about the gateway's credentials"
ok "the log says the endpoint refused the gateway's credentials"
conf "$IURL" "$SECRET"
ctl reload > "$T/reload.out" 2>&1 || fail "reload: $(cat "$T/reload.out")"
wait_until 20 eval 'tnext; [ "$(hit /o/x "$TOK")" = 200 ]' ||
    fail "right secret again: $(cat "$T/body")"
ok "right secret again: 200"

# --- the endpoint goes down
kill "$IDP_PID"
wait "$IDP_PID" 2>/dev/null
wait_until 10 eval '! curl -s -o /dev/null --max-time 1 http://127.0.0.1:$IP_PORT/ping'
before=$(logs | grep -c 'unreachable')
tnext
t0=$(ms)
s=$(hit /o/x "$TOK")
el=$(( $(ms) - t0 ))
[ "$s" = 503 ] && [ "$(code)" = auth_unavailable ] ||
    fail "endpoint down: $s $(cat "$T/body")"
[ "$el" -lt 900 ] || fail "endpoint down: answered after $el ms"
ok "endpoint down: 503 in $el ms, before the timeout"
for i in 1 2 3 4 5 6 7 8; do
	tnext
	[ "$(hit /o/x "$TOK")" = 503 ] || fail "endpoint down: $i"
done
after=$(logs | grep -c 'unreachable')
[ $((after - before)) -le "${WORKERS:-2}" ] ||
    fail "the outage was logged $((after - before)) times"
ok "the outage is logged once per worker ($((after - before)) lines), not per request"
[ "$(hit /o/echo tok-active)" = 200 ] ||
    fail "a cached token while the endpoint is down: $(cat "$T/body")"
ok "a cached token still passes while the endpoint is down"
start_idp
wait_until 10 eval 'tnext; [ "$(hit /o/x "$TOK")" = 200 ]' ||
    fail "endpoint back: $(cat "$T/body")"
ok "endpoint back: new tokens pass again"

# --- jwt and oauth2 on one route
if [ "$JWT" = 1 ]; then
	n1=$(idp_count)
	jwt=$(awk '$1 == "alg-rs256" { print $2 }' "$K/tokens")
	s=$(hit /mix/echo "$jwt")
	[ "$s" = 200 ] && [ "$(upstream_hdr x-consumer)" = alice-app ] ||
	    fail "JWT on jwt+oauth2: $s $(upstream_hdr x-consumer)"
	[ "$(idp_count)" -eq "$n1" ] || fail "a JWT was introspected"
	tnext
	s=$(hit /mix/echo "$TOK")
	[ "$s" = 200 ] && [ "$(upstream_hdr x-consumer)" = app1 ] ||
	    fail "opaque token on jwt+oauth2: $s $(upstream_hdr x-consumer)"
	[ "$(idp_count)" -eq $((n1 + 1)) ] ||
	    fail "the opaque token was not introspected"
	ok "security = [ jwt, oauth2 ]: a JWT goes to jwt, an opaque token to oauth2"
else
	say "python3-jwt missing: jwt + oauth2 route not tested"
fi

# --- https with a CA file
HP=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=idp.test \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$T/idp.key" \
    -out "$T/idp.crt" >/dev/null 2>&1 || fail "openssl req"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other \
    -keyout "$T/other.key" -out "$T/other.crt" >/dev/null 2>&1 ||
    fail "openssl req"
start_idp "$HP" "$T/idp.crt" "$T/idp.key"
conf "https://127.0.0.1:$HP/introspect" "$SECRET" "ca = \"$T/idp.crt\";"
ctl reload > "$T/reload.out" 2>&1 || fail "reload: $(cat "$T/reload.out")"
wait_until 20 eval 'tnext; [ "$(hit /o/x "$TOK")" = 200 ]' ||
    fail "https introspection: $(cat "$T/body")"
for i in 1 2 3; do
	tnext
	[ "$(hit /o/x "$TOK")" = 200 ] || fail "https keep-alive: $i"
done
ok "https endpoint verified with its CA file: 200"
conf "https://127.0.0.1:$HP/introspect" "$SECRET" "ca = \"$T/other.crt\";"
ctl reload > "$T/reload.out" 2>&1 || fail "reload: $(cat "$T/reload.out")"
wait_until 20 eval 'tnext; [ "$(hit /o/x "$TOK")" = 503 ]' ||
    fail "https with the wrong CA: $(cat "$T/body")"
ok "https endpoint with a certificate the CA does not sign: 503"
conf "https://127.0.0.1:$HP/introspect" "$SECRET" "ca = \"$T/nope.pem\";"
"$MGWD" -n -f "$T/mgw.conf" > "$T/n.out" 2>&1 &&
    fail "a missing ca file was accepted"
grep -q "nope.pem" "$T/n.out" || fail "ca error: $(cat "$T/n.out")"
ok "a missing ca file is a configuration error naming it"

# --- no token in the logs
for f in "$T/error.log" "$T/access.log" "$T/mgwd.log"; do
	[ -f "$f" ] || continue
	grep -qs 'tok-active\|tok-inactive\|c-17\b' "$f" &&
	    fail "a token reached $(basename "$f")"
done
ok "no token in the logs"
mgw_stop
ok "mgwd stopped cleanly"
