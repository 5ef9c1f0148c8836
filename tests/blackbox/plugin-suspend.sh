#!/usr/bin/env bash
# A loaded plugin that suspends requests (tests/plugins/suspend.c) and
# decides later, as mgw-plugin(3) describes: MGW_AGAIN from access, then
# mgw_request_resume() from a timer of the worker's loop.  The contract
# under test is the page's: a request answered with mgw_respond_error()
# before MGW_DONE gets that answer; one resumed with MGW_OK goes on to
# its content; cancel is never called for a request its plugin answered
# or resumed (it is for one that goes away before that); and the worker
# keeps serving throughout, also when the client left before the resume.  One worker,
# so that the plugin's counts in /metrics are the whole story.
. "${top_srcdir:-.}/tests/lib.sh"

WORKERS=1
U=http://127.0.0.1:$PORT
SO=$top_builddir/tests/plugins/suspend.so
[ -f "$SO" ] || { echo "plugin-suspend.sh: $SO not built"; exit 99; }
write_conf <<EOC
apis = (
	{ name = "m"; base_path = "/m";
	  endpoints = { mock = { status = 200; body = "mock"; }; }; }
);
plugins = ( { name = "suspend"; path = "$SO"; } );
EOC
mgw_start

count() {
	curl -fsS --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
	    sed -n "s/^mgw_test_suspend_total{outcome=\"$1\"} //p"
}

s=$(hit /m/a "X-Suspend: deny")
[ "$s" = 403 ] && [ "$(code)" = denied_by_suspend ] ||
    fail "deny: $s $(cat "$T/body")"
ok "a request the plugin answered while suspended gets its 403 (JSON body)"
s=$(hit /m/a "X-Suspend: allow")
[ "$s" = 200 ] && [ "$(cat "$T/body")" = mock ] ||
    fail "allow: $s $(cat "$T/body")"
ok "a request resumed with MGW_OK goes on to its content: 200"

# The client leaves while the plugin holds the request: the worker sees
# only the end of a whole request (it may be a half-close, which still
# gets its answer), so the plugin's resume comes first and the answer
# goes to a closed socket.  Nothing is cancelled: the plugin resumed.
curl -s -o /dev/null --max-time 0.1 -H "X-Suspend: hold" \
    "http://127.0.0.1:$PORT/m/a"
wait_until 10 eval '[ "$(count allowed)" = 2 ]' ||
    fail "the held request was never resumed: allowed $(count allowed)"
[ "$(count suspended)" = 3 ] && [ "$(count answered)" = 1 ] &&
    [ "$(count cancelled)" = 0 ] ||
    fail "counts: suspended $(count suspended) answered $(count answered) cancelled $(count cancelled)"
ok "no cancel for requests the plugin answered or resumed, even when the client had left"

# Keep-alive across suspensions: two suspended requests on one
# connection (curl reuses it) are answered in turn.
out=$(curl -s --max-time 10 -H "X-Suspend: deny" -w '%{http_code}\n' \
    -o /dev/null "http://127.0.0.1:$PORT/m/1" \
    -o /dev/null "http://127.0.0.1:$PORT/m/2" 2>&1)
[ "$(printf '%s\n' "$out" | grep -c '^403$')" = 2 ] ||
    fail "two suspended requests on one connection: $out"
[ "$(count cancelled)" = 0 ] || fail "cancelled moved to $(count cancelled)"
ok "two answered suspensions on one keep-alive connection: 403 403, no cancel"
[ "$(hit /m/a)" = 200 ] || fail "the worker stopped serving"

mgw_stop
exit 0
