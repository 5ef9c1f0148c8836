#!/usr/bin/env bash
# HTTP Basic against an htpasswd file made by Apache's htpasswd: bcrypt
# (-B), sha256-crypt (-2) and sha512-crypt (-5) users pass with the right
# password and reach the upstream as their consumer, without the
# Authorization header; a wrong password and an unknown user get the same
# 401 with the Basic challenge; malformed headers are 401s, never 5xx; a
# bcrypt credential is verified once and then served from the shm cache;
# plain, {SHA}, MD5 and DES entries refuse the configuration with
# file:line; a changed password takes effect on reload, and a broken file
# refuses the reload while the old users keep working.
. "${top_srcdir:-.}/tests/lib.sh"

command -v htpasswd >/dev/null 2>&1 ||
    skip "htpasswd (apache2-utils) is not installed"

P=$T/users.htpasswd
htpasswd -cbB "$P" alice 'alice pw' 2>/dev/null &&
    htpasswd -b2 "$P" bob 'bob-pw' 2>/dev/null &&
    htpasswd -b5 "$P" carol 'cärol:pw' 2>/dev/null ||
    fail "htpasswd could not write $P"
printf '# a comment\n\n' >> "$P"
grep -q '^alice:\$2y\$' "$P" && grep -q '^bob:\$5\$' "$P" &&
    grep -q '^carol:\$6\$' "$P" || fail "unexpected hash schemes: $(cat "$P")"
start_upstream
U=http://127.0.0.1:$PORT

mock='endpoints = { mock = { status = 200; }; };'
bad_file() {	# NAME HTPASSWD-FLAG PATTERN: a file with one such entry
	cp "$P" "$T/$1.htpasswd"
	htpasswd -b"$2" "$T/$1.htpasswd" weak 'weak pw' 2>/dev/null ||
	    fail "htpasswd -$2 failed"
	check_bad "$1" "$T/$1.htpasswd:6: user weak: $3" <<EOC
security: { htpasswd = "$T/$1.htpasswd"; };
apis = ( { name = "a"; base_path = "/a"; security = [ "basic" ]; $mock } );
EOC
}
bad_file plain p "plain-text passwords are refused"
bad_file sha1 s "\\{SHA\\} hashes are unsalted and refused"
bad_file md5 m "MD5 hashes .* refused"
bad_file des d "DES crypt hashes are weak and refused"
printf 'no colon here\nx:\n' > "$T/shape.htpasswd"
# --- configuration errors: file:line
check_bad shape "shape.htpasswd:1: no ':'.*" <<EOC
security: { htpasswd = "$T/shape.htpasswd"; };
apis = ( { name = "a"; base_path = "/a"; security = [ "basic" ]; $mock } );
EOC
grep -q "shape.htpasswd:2: user x: empty hash" "$T/shape.out" ||
    fail "not every error of the file is reported: $(cat "$T/shape.out")"
ok "every bad line is reported, not only the first"
check_bad missing-file "missing-file.conf: security.htpasswd $T/nope: No such file" <<EOC
security: { htpasswd = "$T/nope"; };
apis = ( { name = "a"; base_path = "/a"; security = [ "basic" ]; $mock } );
EOC
check_bad unknown-user "consumers\\[0\\] \\(c\\): basic user dave is not in $P" <<EOC
security: { htpasswd = "$P"; };
consumers = ( { name = "c"; basic_users = [ "dave" ]; } );
apis = ( { name = "a"; base_path = "/a"; security = [ "basic" ]; $mock } );
EOC
check_bad bad-realm "security.basic_realm: .* control characters are not allowed" <<EOC
security: { htpasswd = "$P"; basic_realm = "a\\"b"; };
apis = ( { name = "a"; base_path = "/a"; security = [ "basic" ]; $mock } );
EOC

# --- the gateway
write_conf <<EOC
security: {
	htpasswd = "$P";
	basic_realm = "Test Realm";
	consumer_header = "X-Consumer";
};
consumers = (
	{ name = "web"; basic_users = [ "alice" ]; },
	{ name = "svc"; basic_users = [ "bob" ]; subscriptions = [ "other" ]; }
);
apis = (
	{ name = "sec"; base_path = "/sec"; security = [ "basic" ];
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; }; },
	{ name = "other"; base_path = "/other"; security = [ "basic" ]; $mock }
);
EOC
"$MGWD" -n -f "$T/mgw.conf" > "$T/n.out" 2>&1 ||
    fail "configtest: $(cat "$T/n.out")"
ok "configtest accepts bcrypt, sha256-crypt and sha512-crypt entries"
mgw_start

basic() { printf 'Authorization: Basic %s' "$(printf '%s' "$1" | base64 -w0)"; }
field() { "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["error"][sys.argv[1]])' "$1" < "$T/body" 2>/dev/null; }
challenge='Basic realm="Test Realm", charset="UTF-8"'
refused() {	# WHAT: the last hit was a 401 invalid_credentials
	[ "$S" = 401 ] || fail "$1: status $S, want 401: $(cat "$T/body")"
	[ "$(field code)" = invalid_credentials ] ||
	    fail "$1: code '$(field code)'"
	[ "$(header WWW-Authenticate)" = "$challenge" ] ||
	    fail "$1: WWW-Authenticate '$(header WWW-Authenticate)'"
}

# --- the right password, per scheme
S=$(hit /sec/echo "$(basic 'alice:alice pw')" "X-Consumer: forged")
[ "$S" = 200 ] || fail "alice (bcrypt): status $S: $(cat "$T/body")"
[ "$(upstream_hdr x-consumer)" = web ] ||
    fail "alice: X-Consumer upstream '$(upstream_hdr x-consumer)'"
[ "$(upstream_hdr authorization)" = - ] ||
    fail "Authorization went upstream"
ok "bcrypt user: 200, upstream sees X-Consumer web and no Authorization"
S=$(hit /other/x "$(basic 'bob:bob-pw')")
[ "$S" = 200 ] || fail "bob (sha256-crypt): status $S: $(cat "$T/body")"
S=$(hit /sec/x "$(basic 'bob:bob-pw')")
[ "$S" = 403 ] && [ "$(field code)" = not_subscribed ] ||
    fail "bob on sec: $S $(field code)"
ok "sha256-crypt user: 200 on its API, 403 not_subscribed elsewhere"
S=$(hit /sec/echo "$(basic 'carol:cärol:pw')" "X-Consumer: forged")
[ "$S" = 200 ] && [ "$(upstream_hdr x-consumer)" = - ] ||
    fail "carol (sha512-crypt): $S $(upstream_hdr x-consumer)"
ok "sha512-crypt user with a UTF-8 password holding ':': 200, no consumer"
S=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
    -u 'alice:alice pw' "$U/sec/x")
[ "$S" = 200 ] || fail "curl -u: $S"
ok "curl -u works as well"

# --- refusals
S=$(hit /sec/x "$(basic 'alice:wrong')")
refused "a wrong password"
m1=$(field message)
S=$(hit /sec/x "$(basic 'mallory:alice pw')")
refused "an unknown user"
[ "$(field message)" = "$m1" ] ||
    fail "unknown user and wrong password differ: '$(field message)' '$m1'"
ok "wrong password and unknown user: the same 401, $challenge"
S=$(hit /sec/x)
[ "$S" = 401 ] && [ "$(field code)" = missing_credentials ] &&
    [ "$(header WWW-Authenticate)" = "$challenge" ] ||
    fail "no credentials: $S $(field code) '$(header WWW-Authenticate)'"
ok "no credentials: 401 missing_credentials with the challenge"
big=$(head -c 10240 /dev/zero | tr '\0' Q)
for h in "Basic" "Basic !!!" "Basic $(printf alice | base64)" \
    "Basic $(printf ':pw' | base64)" "Basic YWxpY2U6YWxpY2UgcHc" \
    "Basic $(printf 'al\377ice:alice pw' | base64)" \
    "Basic $(printf 'alice:alice\001pw' | base64)" "bAsIc ====" \
    "Basic $big"; do
	S=$(hit /sec/x "Authorization: $h")
	case $S in
	401) refused "malformed '${h:0:30}'" ;;
	431) [ "${#h}" -gt 10000 ] || fail "'${h:0:30}': 431" ;;
	*) fail "malformed '${h:0:30}': status $S" ;;
	esac
done
ok "malformed Basic headers (no b64, no ':', no user, no padding, non-UTF-8, control, 10 kB): 401"

# --- the cache: bcrypt runs once for a repeated credential
metric() {
	curl -s --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
	    awk '$1 == "mgw_token_cache_hits_total" { print $2 }'
}
h0=$(metric)
urls=()
for i in $(seq 200); do urls+=(-o /dev/null "$U/sec/x"); done
s=$(curl -s -w '%{http_code}\n' --max-time 60 \
    -u 'alice:alice pw' "${urls[@]}" | sort | uniq -c | awk '{ print $2 "x" $1 }')
[ "$s" = 200x200 ] || fail "200 requests with one credential: $s"
h1=$(metric)
if [ -n "$h0" ] && [ -n "$h1" ]; then
	[ $((h1 - h0)) -ge 190 ] || fail "token cache hits rose by $((h1 - h0))"
	ok "200 requests with one bcrypt credential: all 200, cache hits +$((h1 - h0))"
else
	ok "200 requests with one bcrypt credential: all 200 (no cache metric)"
fi
grep -qs -e 'alice pw' -e "$(printf 'alice:alice pw' | base64)" \
    "$T/error.log" "$T/access.log" "$T/mgwd.log" &&
    fail "a password reached a log"
ok "no password in the logs"

# --- a changed password takes effect on reload
htpasswd -bB "$P" alice 'new pw' 2>/dev/null || fail "htpasswd update"
out=$(ctl reload 2>&1) || fail "reload: $out"
wait_until 20 mgw_ready || fail "not ready after reload"
wait_until 10 eval '[ "$(hit /sec/x "$(basic "alice:new pw")")" = 200 ]' ||
    fail "the new password is refused after reload: $(cat "$T/body")"
S=$(hit /sec/x "$(basic 'alice:alice pw')")
refused "the old password after reload"
ok "new password accepted and the cached old one refused after reload"

# --- a broken file refuses the reload; the old users keep working
cp "$P" "$P.good"
htpasswd -bp "$P" eve 'eve pw' 2>/dev/null
out=$(ctl reload 2>&1) && fail "a plain-text entry was accepted: $out"
printf '%s\n' "$out" | grep -q "users.htpasswd:[0-9]*: user eve: plain-text" ||
    fail "the refusal does not name file:line: $out"
S=$(hit /sec/x "$(basic 'alice:new pw')")
[ "$S" = 200 ] || fail "alice after a refused reload: $S"
S=$(hit /sec/x "$(basic 'eve:eve pw')")
refused "eve after a refused reload"
ok "a broken htpasswd refuses the reload; the old users keep working"
