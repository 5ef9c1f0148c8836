#!/usr/bin/env bash
# API keys as a client, an upstream and an operator see them.  Keys are
# random per run and the config holds only their SHA-256: a key in the
# apikey header or the api_key query parameter reaches the upstream as
# the consumer in X-Consumer, with the key itself removed (header, and the
# query parameter while the other parameters stay) unless
# forward_credentials is set; wrong, missing, huge and non-UTF-8 keys are
# 401s with a challenge, never 5xx; a consumer not subscribed is a 403;
# its tier throttles it; in security = [ "jwt", "api_key" ] a request
# with only a key passes by api_key; a key in clear and a hash listed
# twice refuse the configuration.
. "${top_srcdir:-.}/tests/lib.sh"

command -v openssl >/dev/null 2>&1 || fail "the openssl CLI is missing"
command -v sha256sum >/dev/null 2>&1 || fail "sha256sum is missing"

key() { openssl rand -hex 24; }
hash() { printf 'sha256:%s' "$(printf %s "$1" | sha256sum | cut -d' ' -f1)"; }
K1=$(key); K2=$(key); K3=$(key); K4=$(key)
[ "$K1" != "$K2" ] || fail "openssl rand gave the same key twice"
# A JWT issuer only so that "jwt" may be listed before "api_key".
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$T/rsa.key" 2>/dev/null &&
    openssl pkey -in "$T/rsa.key" -pubout -out "$T/rsa.pub.pem" ||
    fail "openssl could not make an RSA key"
start_upstream
U=http://127.0.0.1:$PORT

# --- configuration errors: file:line
mock='endpoints = { mock = { status = 200; }; };'
check_bad key-in-clear "key-in-clear.conf:[0-9]+: .*API key hash" <<EOC
consumers = ( { name = "a"; api_keys = [ "$K1" ]; } );
apis = ( { name = "a"; base_path = "/a"; security = [ "api_key" ]; $mock } );
EOC
check_bad duplicate-hash "duplicate-hash.conf: consumers\\[1\\] \\(b\\): API key hash also listed for consumer a" <<EOC
consumers = ( { name = "a"; api_keys = [ "$(hash "$K1")" ]; },
	{ name = "b"; api_keys = [ "$(hash "$K2")", "$(hash "$K1")" ]; } );
apis = ( { name = "a"; base_path = "/a"; security = [ "api_key" ]; $mock } );
EOC
check_bad duplicate-same "duplicate-same.conf: consumers\\[0\\] \\(a\\): API key hash also listed for consumer a" <<EOC
consumers = ( { name = "a"; api_keys = [ "$(hash "$K1")", "$(hash "$K1")" ]; } );
apis = ( { name = "a"; base_path = "/a"; security = [ "api_key" ]; $mock } );
EOC

# --- the gateway
conf() {	# FORWARD_CREDENTIALS
	write_conf "$T/mgw.conf.new" <<EOC
policies = ( { name = "One"; requests = 1; per = "1h";
	algorithm = "sliding_log"; } );
security: {
	jwt = ( { issuer = "https://idp.test"; audience = "api://mgw";
		  keys = [ "$T/rsa.pub.pem" ]; algorithm = "RS256"; } );
	api_key_query = "api_key";
	consumer_header = "X-Consumer";
	forward_credentials = $1;
};
consumers = (
	{ name = "app1"; api_keys = [ "$(hash "$K1")" ]; },
	{ name = "app2"; api_keys = [ "$(hash "$K2")" ];
	  subscriptions = [ "other" ]; },
	{ name = "tiny"; api_keys = [ "$(hash "$K3")" ]; tier = "One"; }
);
apis = (
	{ name = "sec"; base_path = "/sec"; security = [ "api_key" ];
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; }; },
	{ name = "both"; base_path = "/both"; security = [ "jwt", "api_key" ];
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; }; },
	{ name = "other"; base_path = "/other"; security = [ "api_key" ];
	  $mock }
);
EOC
	mv "$T/mgw.conf.new" "$T/mgw.conf"
}
conf false
"$MGWD" -n -f "$T/mgw.conf" > "$T/n.out" 2>&1 ||
    fail "configtest: $(cat "$T/n.out")"
ok "configtest accepts API keys given as sha256 hashes"
mgw_start

upstream() {	# KEY: a field of the upstream's echo ("headers.NAME" too)
	"$PYTHON" -c 'import json,sys
d = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d.get(k, "-") if isinstance(d, dict) else "-"
print(d)' "$1" < "$T/body"
}
refused() {	# WHAT STATUS CODE: the last hit was refused so
	[ "$S" = "$2" ] || fail "$1: status $S, want $2: $(cat "$T/body")"
	[ "$(code)" = "$3" ] || fail "$1: code '$(code)', want $3"
}

# --- a key in the header
S=$(hit /sec/echo "apikey: $K1" "X-Consumer: forged")
[ "$S" = 200 ] || fail "header key: status $S: $(cat "$T/body")"
[ "$(upstream headers.x-consumer)" = app1 ] ||
    fail "header key: X-Consumer upstream is '$(upstream headers.x-consumer)'"
[ "$(upstream headers.apikey)" = - ] || fail "the apikey header went upstream"
ok "header key: 200, upstream sees X-Consumer app1 and no apikey header"
S=$(hit /sec/echo "APIKEY: $K2")
[ "$S" = 403 ] && [ "$(code)" = not_subscribed ] ||
    fail "app2 on sec: $S $(code)"
ok "a consumer not subscribed to the API: 403 not_subscribed"
S=$(hit /other/x "apikey: $K2")
[ "$S" = 200 ] || fail "app2 on its subscribed API: $S $(cat "$T/body")"
ok "the same key on its subscribed API: 200 (header name case-insensitive)"

# --- a key in the query
S=$(hit "/sec/echo?a=1&api_key=$K1&b=x%20y")
[ "$S" = 200 ] || fail "query key: status $S: $(cat "$T/body")"
p=$(upstream path)
case $p in
*"$K1"*|*api_key*) fail "the key went upstream in the URL: $p" ;;
*'?a=1&b=x%20y') ;;
*) fail "the other parameters did not go upstream as sent: $p" ;;
esac
[ "$(upstream headers.x-consumer)" = app1 ] || fail "query key: consumer"
ok "query key: 200, upstream URL keeps a=1&b=x%20y and lacks api_key"
pct=$(printf '%%%02X%s' "'${K1:0:1}" "${K1:1}")
S=$(hit "/sec/echo?api_key=$pct")
[ "$S" = 200 ] && [ "$(upstream path)" = /echo ] ||
    fail "percent-encoded query key: $S $(upstream path)"
ok "a percent-encoded query key is decoded; nothing left, no '?' upstream"
S=$(hit "/sec/echo?api_key=%zz$K1")
refused "a badly escaped query key" 401 invalid_credentials
ok "a badly escaped query key: 401 invalid_credentials"

# --- refusals
S=$(hit /sec/x "apikey: $K4")
refused "an unknown key" 401 invalid_credentials
header WWW-Authenticate | grep -q '^APIKey header="apikey"' ||
    fail "no APIKey challenge: '$(header WWW-Authenticate)'"
ok "an unknown key: 401 invalid_credentials, WWW-Authenticate: $(header WWW-Authenticate)"
S=$(hit /sec/x)
refused "no key" 401 missing_credentials
header WWW-Authenticate | grep -q '^APIKey' ||
    fail "no challenge without a key: '$(header WWW-Authenticate)'"
ok "no key: 401 missing_credentials with the challenge"
S=$(hit /sec/x "apikey;")
refused "an empty key" 401 invalid_credentials
ok "an empty key header: 401 invalid_credentials"
S=$(curl -s -D "$T/h" -o "$T/body" -w '%{http_code}' --max-time 10 \
    -H "$(printf 'apikey: \377\376%s\200' "$K1")" "$U/sec/x")
refused "a non-UTF-8 key" 401 invalid_credentials
ok "a non-UTF-8 key: 401 invalid_credentials"
big=$(head -c 10240 /dev/zero | tr '\0' k)
S=$(hit /sec/x "apikey: $big")
case $S in
401) [ "$(code)" = invalid_credentials ] || fail "10 kB key: $(code)" ;;
431) ;;
*) fail "a 10 kB key: status $S" ;;
esac
ok "a 10 kB key: $S, no 5xx"
S=$(hit "/sec/x?api_key=$big")
case $S in 401|414|431) ;; *) fail "a 10 kB query key: status $S" ;; esac
ok "a 10 kB query key: $S, no 5xx"
grep -qs -e "$K1" -e "$K2" "$T/error.log" "$T/mgwd.log" &&
    fail "a key reached the error log"
grep -qs -e "$K1" -e "$K2" "$T/access.log" && fail "a key reached the access log"
grep -qs "api_key=REDACTED" "$T/access.log" ||
    fail "no redacted query key in the access log"
ok "no key in the error or access log (query keys show as REDACTED)"

# --- the first mechanism that finds its credential decides
S=$(hit /both/echo "apikey: $K1")
[ "$S" = 200 ] && [ "$(upstream headers.x-consumer)" = app1 ] ||
    fail "jwt, api_key with only a key: $S $(cat "$T/body")"
ok "security = [ jwt, api_key ]: a request with only a key passes by api_key"
S=$(hit /both/echo "apikey: $K1" "Authorization: Bearer not.a.jwt")
refused "a bad bearer token before a good key" 401 invalid_credentials
ok "a bearer token is tried first: a bad one is a 401 despite a good key"

# --- the consumer's tier throttles it
s=$(for i in 1 2; do hit /sec/x "apikey: $K3"; echo; done | tr '\n' ' ')
[ "$s" = "200 429 " ] || fail "tier One: $s"
[ "$(code)" = throttled ] || fail "tier One: code $(code)"
ok "the key's consumer is throttled at its tier (1, then 429)"

# --- forward_credentials = true keeps the key
conf true
out=$(ctl reload 2>&1) || fail "reload: $out"
wait_until 20 mgw_ready || fail "not ready after reload"
wait_until 10 eval '[ "$(hit /sec/echo "apikey: $K1")" = 200 ] &&
    [ "$(upstream headers.apikey)" = "$K1" ]' ||
    fail "forward_credentials: the header did not go upstream"
S=$(hit "/sec/echo?api_key=$K1&a=1")
[ "$S" = 200 ] && [ "$(upstream path)" = "/echo?api_key=$K1&a=1" ] ||
    fail "forward_credentials: query $S $(upstream path)"
ok "forward_credentials = true: the key goes upstream in header and query"
