#!/usr/bin/env bash
# Access log: one combined-format line per request, never interleaved
# across workers; reopened on SIGUSR1 after a move; "off" writes nothing;
# per listener: a bad format is refused with file:line, json lines parse
# with the right fields, listeners share a file, "off", rotation of the
# json file; workers that dropped privileges keep logging across a
# rotation.
. "${top_srcdir:-.}/tests/lib.sh"

WORKERS=2
mock_apis() {
	cat <<'EOC'
apis = ( { name = "m"; base_path = "/m";
	endpoints = { mock = { status = 200; body = "mock"; }; }; } );
EOC
}
mock_apis | write_conf
U=http://127.0.0.1:$PORT
LOG=$T/access.log
# ip - - [date] "METHOD uri HTTP/1.1" status bytes "referer" "ua"
RE='^127\.0\.0\.1 - - \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\] "[A-Z]+ [^ "]+ HTTP/1\.1" [0-9]{3} [0-9]+ "[^"]*" "[^"]*"$'

mgw_start
lines() { [ -f "$1" ] && grep -c . "$1" || echo 0; }

# --- N requests, N lines, in the combined format
n0=$(lines "$LOG")
for i in $(seq 1 20); do
	curl -fsS -o /dev/null --max-time 10 -A "bbtest/$i" -e "http://ref.example/$i" \
	    "$U/m/seq$i?q=$i" || fail "request $i"
done
curl -sS -o /dev/null --max-time 10 -X POST -d x "$U/nowhere" || fail "POST"
wait_until 10 eval '[ "$(lines "$LOG")" -ge $((n0 + 21)) ]' ||
    fail "$(( $(lines "$LOG") - n0 )) lines for 21 requests"
[ "$(lines "$LOG")" -eq $((n0 + 21)) ] || fail "too many lines: $(lines "$LOG")"
bad=$(grep -Evc "$RE" "$LOG")
[ "$bad" -eq 0 ] || fail "$bad lines not in the combined format: $(grep -Ev "$RE" "$LOG" | head -n 3)"
for i in $(seq 1 20); do
	grep -q "\"GET /m/seq$i?q=$i HTTP/1.1\" 200 [0-9]* \"http://ref.example/$i\" \"bbtest/$i\"$" "$LOG" ||
	    fail "request $i not logged as sent: $(grep "seq$i?" "$LOG")"
done
grep -q '"POST /nowhere HTTP/1.1" 404 [0-9]* "-" "curl/' "$LOG" ||
    fail "POST not logged: $(tail -n 1 "$LOG")"
ok "21 requests, 21 lines in the combined format, fields as sent"

# --- concurrent clients on two workers: no interleaved line
n0=$(lines "$LOG")
ua=$(printf 'x%.0s' $(seq 1 900))
for c in 1 2 3 4; do
	(
		args=()
		for i in $(seq 1 50); do
			args+=(-o /dev/null "$U/m/c$c-$i")
		done
		curl -sS --max-time 30 -A "conc-$c-$ua" "${args[@]}"
	) &
	conc="${conc:-} $!"
done
for p in $conc; do
	wait "$p" || fail "concurrent client failed"
done
wait_until 10 eval '[ "$(lines "$LOG")" -ge $((n0 + 200)) ]' ||
    fail "$(( $(lines "$LOG") - n0 )) lines for 200 concurrent requests"
[ "$(lines "$LOG")" -eq $((n0 + 200)) ] || fail "too many lines: $(lines "$LOG")"
bad=$(grep -Evc "$RE" "$LOG")
[ "$bad" -eq 0 ] || fail "$bad malformed (interleaved?) lines"
for c in 1 2 3 4; do
	[ "$(grep -c "\"GET /m/c$c-[0-9]* HTTP/1.1\" 200 [0-9]* \"-\" \"conc-$c-$ua\"$" "$LOG")" -eq 50 ] ||
	    fail "client $c: not 50 whole lines"
done
ok "200 requests from 4 concurrent clients: 200 whole lines"

# --- rotation: move the file, SIGUSR1, new lines go to a new file
reopened() {	# no worker still has the moved file open
	local p
	for p in $(worker_pids); do
		ls -l "/proc/$p/fd" 2>/dev/null | grep -q " $LOG.1\$" && return 1
	done
	return 0
}
mv "$LOG" "$LOG.1"
kill -USR1 "$MGW_PID"
k=0
rotated() {	# a fresh request's line lands in the new file
	k=$((k + 1))
	curl -fsS -o /dev/null --max-time 10 "$U/m/rot$k" || return 1
	[ -f "$LOG" ] && grep -q "GET /m/rot$k " "$LOG"
}
wait_until 20 rotated || fail "no new access.log after SIGUSR1"
wait_until 20 reopened || fail "a worker still writes to the moved file"
for i in $(seq 1 20); do
	curl -fsS -o /dev/null --max-time 10 "$U/m/after$i" || fail "request after$i"
done
wait_until 10 eval '[ "$(cat "$LOG" "$LOG.1" | grep -c "GET /m/after")" -ge 20 ]' ||
    fail "lines lost across the rotation"
for i in $(seq 1 20); do
	grep -q "GET /m/after$i " "$LOG" || fail "after$i not in the new file"
done
grep -Evq "$RE" "$LOG" && fail "malformed line after rotation"
grep -q "reopening log files" "$T/mgwd.log" || fail "the reopen is not logged"
ok "mv + SIGUSR1: new lines go to a new access.log"
mgw_stop

# --- access_log = "off" writes nothing
rm -f "$T"/access.log*
mock_apis | write_conf
sed -i 's|access_log = "[^"]*";|access_log = "off";|' "$T/mgw.conf"
grep -q 'access_log = "off"' "$T/mgw.conf" || fail "could not set access_log off"
mgw_start
for i in $(seq 1 10); do
	curl -fsS -o /dev/null --max-time 10 "$U/m/off$i" || fail "request off$i"
done
ctl stats > /dev/null
[ -z "$(ls "$T" | grep access)" ] || fail "access_log off wrote $(ls "$T" | grep access)"
! grep -rq "GET /m/off" "$T" 2>/dev/null || fail "a request was logged somewhere"
ok "access_log off: nothing written"
mgw_stop

# --- formats: mgwd -n refuses a bad one with file:line, a file written
# in two formats and a listener file that cannot be opened
check_bad() {	# NAME PATTERN: $T/NAME.conf must be refused with PATTERN
	local name=$1 pattern=$2 rc out
	"$MGWD" -n -f "$T/$name.conf" > "$T/$name.out" 2>&1
	rc=$?
	out=$(cat "$T/$name.out")
	[ "$rc" -eq 1 ] || fail "$name: mgwd -n exit $rc: $out"
	printf '%s\n' "$out" | grep -Eq -- "$pattern" ||
	    fail "$name: unexpected error: $out"
	ok "$name refused: $(printf '%s\n' "$out" | head -n 1 | sed "s|$T/||g")"
}
P2=$(free_port)
P3=$(free_port)
P4=$(free_port)
# listeners_conf FILE < listener lines: FILE, with these listeners.
listeners_conf() {
	{
		gateway_block | sed '/^listeners = (/,$d'
		echo 'listeners = ('
		cat
		echo ');'
		mock_apis
	} > "$1"
}
listeners_conf "$T/badfmt.conf" <<EOC
	{ name = "http"; listen = "127.0.0.1:$PORT"; },
	{ name = "j"; listen = "127.0.0.1:$P2";
	  access_log_format = "xml"; }
EOC
check_bad badfmt "$T/badfmt.conf:[0-9]+: .*unknown access log format 'xml'"
mock_apis | write_conf "$T/badgfmt.conf"
sed -i 's|^\taccess_log = .*|&\n\taccess_log_format = "JSON";|' "$T/badgfmt.conf"
check_bad badgfmt "$T/badgfmt.conf:[0-9]+: .*unknown access log format 'JSON'"
listeners_conf "$T/mixed.conf" <<EOC
	{ name = "http"; listen = "127.0.0.1:$PORT"; },
	{ name = "j"; listen = "127.0.0.1:$P2"; access_log = "$T/access.log";
	  access_log_format = "json"; }
EOC
check_bad mixed "listener 'j': access_log .*access.log is already written in another format"
listeners_conf "$T/noopen.conf" <<EOC
	{ name = "http"; listen = "127.0.0.1:$PORT"; },
	{ name = "j"; listen = "127.0.0.1:$P2";
	  access_log = "$T/no/such/dir/j.log"; }
EOC
check_bad noopen "listener 'j': access_log $T/no/such/dir/j.log: No such file"

# --- per listener: the gateway's format is json, "http" overrides it
# with combined into the gateway's file; j1 and j2 share json.log (two
# spellings of one file), "quiet" logs nothing, admin logs to its own.
rm -f "$T"/access.log*
J=$T/json.log
start_upstream
{
	gateway_block | sed '/^listeners = (/,$d' |
	    sed 's|^\taccess_log = .*|&\n\taccess_log_format = "json";|'
	cat <<EOC
listeners = (
	{ name = "http"; listen = "127.0.0.1:$PORT";
	  access_log_format = "combined"; },
	{ name = "j1"; listen = "127.0.0.1:$P2"; access_log = "$J"; },
	{ name = "j2"; listen = "127.0.0.1:$P3"; access_log = "$T/./json.log";
	  access_log_format = "json"; },
	{ name = "quiet"; listen = "127.0.0.1:$P4"; access_log = "off"; },
	{ name = "admin"; listen = "127.0.0.1:$ADMIN_PORT"; admin = true;
	  access_log = "$T/admin.log"; }
);
throttling: { consumer_header = "X-Consumer"; };
consumers = ( { name = "app1"; } );
apis = (
	{ name = "m"; version = "v1"; base_path = "/m";
	  endpoints = { mock = { status = 200; body = "mock"; }; };
	  resources = ( { path = "/item/{id}"; }, { path = "/*"; } ); },
	{ name = "p"; base_path = "/p";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT" ]; }; }
);
EOC
} > "$T/mgw.conf"
"$MGWD" -n -f "$T/mgw.conf" > "$T/n.out" 2>&1 || fail "mgwd -n: $(cat "$T/n.out")"
mgw_start
: > "$T/expect"
# req PORT KIND CONSUMER PATH [CURL ARGS]: one request; its uri, listener
# port, kind, consumer and the X-Request-Id it was answered with go to
# $T/expect for the checker.
req() {
	local port=$1 kind=$2 cons=$3 path=$4 out
	shift 4
	out=$(curl -sS -o /dev/null --max-time 10 -H "X-Consumer: $cons" \
	    -w '%{http_code} %header{x-request-id}' "$@" \
	    "http://127.0.0.1:$port$path") || fail "request $path"
	printf '%s %s %s %s %s\n' "$path" "$port" "$kind" "$cons" "$out" \
	    >> "$T/expect"
}
n0=$(lines "$LOG")
for i in $(seq 1 10); do
	req "$PORT" mock app1 "/m/c$i"
	req "$P2" mock app1 "/m/item/$i?x=$i" -A "ua/$i" -e "http://r/$i"
	req "$P3" mock stranger "/m/j2-$i"
done
for i in $(seq 1 5); do
	req "$P2" proxy app1 "/p/echo/$i"
	req "$P3" 404 app1 "/nowhere/$i"
	curl -sS -o /dev/null --max-time 10 "http://127.0.0.1:$P4/m/quiet$i" ||
	    fail "quiet request $i"
	curl -fsS -o /dev/null --max-time 10 \
	    "http://127.0.0.1:$ADMIN_PORT/health?adm=$i" || fail "admin $i"
done
# Bytes a JSON log must not pass through as they are: not UTF-8 and a
# tab in the User-Agent, quotes and a backslash in the target.
"$PYTHON" -c 'import sys; sys.stdout.buffer.write(
    b"GET /m/w?a=\"b\"\\c HTTP/1.1\r\nHost: x\r\n"
    b"User-Agent: bad\xff\xfe\tutf\xc3\xa9 \xe2\x82\r\n"
    b"Connection: close\r\n\r\n")' | raw_http "$P2" > "$T/weird.out"
http_statuses < "$T/weird.out" | grep -qx 200 ||
    fail "weird request: $(head -n 1 "$T/weird.out")"
# Fields longer than their share of a line: cut, the line stays whole.
"$PYTHON" -c 'import sys; sys.stdout.buffer.write(
    b"GET /m/long?" + b"\\" * 2500 + b" HTTP/1.1\r\nHost: x\r\n"
    b"User-Agent: " + b"\"" * 2000 + b"\r\nConnection: close\r\n\r\n")' |
    raw_http "$P2" > "$T/long.out"
http_statuses < "$T/long.out" | grep -qx 200 ||
    fail "long request: $(head -n 1 "$T/long.out")"
nj=$(( 10 + 10 + 5 + 5 + 2 ))
wait_until 10 eval '[ "$(lines "$J")" -ge $nj ]' ||
    fail "$(lines "$J") lines in json.log for $nj requests"
wait_until 10 eval '[ "$(lines "$LOG")" -ge $((n0 + 10)) ]' ||
    fail "$(( $(lines "$LOG") - n0 )) combined lines for 10 requests"
wait_until 10 eval '[ "$(lines "$T/admin.log")" -ge 5 ]' ||
    fail "$(lines "$T/admin.log") admin lines for 5 requests"
[ "$(lines "$J")" -eq $nj ] || fail "json.log: $(lines "$J") lines, not $nj"
[ "$(lines "$LOG")" -eq $((n0 + 10)) ] ||
    fail "access.log: $(( $(lines "$LOG") - n0 )) lines, not 10"
bad=$(grep -Evc "$RE" "$LOG")
[ "$bad" -eq 0 ] || fail "$bad lines not in the combined format"
[ "$(grep -c 'GET /m/c[0-9]* HTTP' "$LOG")" -eq 10 ] ||
    fail "combined lines of listener http"
! cat "$T"/*.log* 2>/dev/null | grep -q "/m/quiet" ||
    fail "listener quiet (off) was logged"
ok "$nj requests on two listeners sharing json.log: $nj lines; 10 combined lines; off logs nothing"

# Every line of json.log and admin.log: valid UTF-8, one JSON object
# with every member in order, values as the requests were made.
"$PYTHON" - "$J" "$T/admin.log" "$T/expect" "$P2" "$P3" "$UP_PORT" <<'EOP' ||
import json, re, sys
jl, adm, exp, p2, p3, upp = sys.argv[1:]
keys = ["time", "remote_addr", "client_ip", "request_id", "method", "uri",
        "protocol", "status", "bytes_in", "bytes_out", "referer",
        "user_agent", "api", "api_version", "resource", "consumer",
        "upstream", "upstream_time", "request_time", "error_code",
        "listener"]
tre = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")
err = []
def load(path):
    out = []
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            try:
                o = json.loads(raw.decode("utf-8", "strict"))
            except Exception as e:
                err.append("%s:%d: %s: %r" % (path, n, e, raw[:200]))
                continue
            if len(raw) > 12288:
                err.append("%s:%d: %d bytes" % (path, n, len(raw)))
            if list(o) != keys:
                err.append("%s:%d: members %s" % (path, n, list(o)))
                continue
            if not tre.match(o["time"]):
                err.append("%s:%d: time %r" % (path, n, o["time"]))
            for k in ("status", "bytes_in", "bytes_out"):
                if type(o[k]) is not int:
                    err.append("%s:%d: %s %r" % (path, n, k, o[k]))
            if type(o["request_time"]) not in (int, float):
                err.append("%s:%d: request_time %r" % (path, n, o["request_time"]))
            if o["remote_addr"] != "127.0.0.1" or o["client_ip"] != "127.0.0.1":
                err.append("%s:%d: addresses %r" % (path, n, o))
            if o["protocol"] != "HTTP/1.1":
                err.append("%s:%d: protocol %r" % (path, n, o["protocol"]))
            out.append(o)
    return out
lines = load(jl)
by = {o["uri"]: o for o in lines}
if len(by) != len(lines):
    err.append("duplicate uris in json.log")
def check(uri, what, got, want):
    if got != want:
        err.append("%s: %s is %r, not %r" % (uri, what, got, want))
seen = 0
for row in open(exp):
    uri, port, kind, cons, status, rid = row.split()
    if port not in (p2, p3):
        continue
    seen += 1
    o = by.get(uri)
    if o is None:
        err.append("%s: not logged" % uri)
        continue
    check(uri, "listener", o["listener"], "j1" if port == p2 else "j2")
    check(uri, "request_id", o["request_id"], rid)
    check(uri, "status", o["status"], int(status))
    check(uri, "method", o["method"], "GET")
    check(uri, "consumer", o["consumer"], "app1" if cons == "app1" else None)
    if o["bytes_out"] <= 0:
        err.append("%s: bytes_out %r" % (uri, o["bytes_out"]))
    if kind == "mock":
        check(uri, "api", o["api"], "m")
        check(uri, "api_version", o["api_version"], "v1")
        check(uri, "upstream", o["upstream"], None)
        check(uri, "upstream_time", o["upstream_time"], None)
        check(uri, "error_code", o["error_code"], None)
        if uri.startswith("/m/item/"):
            i = uri.split("/")[3].split("?")[0]
            check(uri, "resource", o["resource"], "/item/{id}")
            check(uri, "user_agent", o["user_agent"], "ua/" + i)
            check(uri, "referer", o["referer"], "http://r/" + i)
        else:
            check(uri, "resource", o["resource"], "/*")
            check(uri, "referer", o["referer"], None)
    elif kind == "proxy":
        check(uri, "status", o["status"], 200)
        check(uri, "api", o["api"], "p")
        check(uri, "api_version", o["api_version"], None)
        check(uri, "upstream", o["upstream"], "http://127.0.0.1:" + upp)
        if type(o["upstream_time"]) not in (int, float):
            err.append("%s: upstream_time %r" % (uri, o["upstream_time"]))
        elif o["upstream_time"] > o["request_time"]:
            err.append("%s: upstream_time > request_time" % uri)
    else:
        check(uri, "status", o["status"], 404)
        for k in ("api", "api_version", "resource", "upstream",
                  "upstream_time"):
            check(uri, k, o[k], None)
        if not isinstance(o["error_code"], str) or not o["error_code"]:
            err.append("%s: error_code %r" % (uri, o["error_code"]))
w = by.get('/m/w?a="b"\\c')
if w is None:
    err.append("the request with quotes and a backslash: not logged as sent")
else:
    check("weird", "user_agent", w["user_agent"],
          "bad\ufffd\ufffd\tutf\u00e9 \ufffd\ufffd")
    check("weird", "consumer", w["consumer"], None)
l = [o for o in lines if o["uri"].startswith("/m/long?")]
if len(l) != 1:
    err.append("the request with long fields: %d lines" % len(l))
else:
    u, a = l[0]["uri"], l[0]["user_agent"]
    if not (100 < len(u) < 2508 and u == "/m/long?" + "\\" * (len(u) - 8)):
        err.append("long uri not cut as expected: %d bytes" % len(u))
    if not (100 < len(a) < 2000 and a == '"' * len(a)):
        err.append("long user_agent not cut as expected: %d bytes" % len(a))
if seen + 2 != len(lines):
    err.append("%d lines in json.log for %d requests" % (len(lines), seen + 2))
a = load(adm)
if len(a) != 5 or any(o["listener"] != "admin" or o["status"] != 200 or
                      not o["uri"].startswith("/health?adm=") for o in a):
    err.append("admin.log: %r" % a)
if err:
    print("\n".join(err[:20]))
    sys.exit(1)
print("# %d json lines checked" % (len(lines) + len(a)))
EOP
    fail "json lines"
ok "json.log: every line is one UTF-8 JSON object; request_id, consumer, api, resource, upstream, times as expected"
ok "json: a non-UTF-8 User-Agent with a tab, a target with quotes and a backslash, and over-long fields stay valid JSON"
ok "admin listener logs json to its own file"

# --- rotation of the shared json file: mv + SIGUSR1, nothing lost
reopened_json() {
	local p
	for p in $(worker_pids); do
		ls -l "/proc/$p/fd" 2>/dev/null | grep -q " $J.1\$" && return 1
	done
	return 0
}
mv "$J" "$J.1"
kill -USR1 "$MGW_PID"
k=0
rotated_json() {	# fresh requests on both listeners land in the new file
	k=$((k + 1))
	curl -fsS -o /dev/null --max-time 10 "http://127.0.0.1:$P2/m/rot1-$k" &&
	    curl -fsS -o /dev/null --max-time 10 "http://127.0.0.1:$P3/m/rot2-$k" ||
	    return 1
	[ -f "$J" ] && grep -q "\"/m/rot1-$k\"" "$J" && grep -q "\"/m/rot2-$k\"" "$J"
}
wait_until 20 rotated_json || fail "no new json.log after SIGUSR1"
wait_until 20 reopened_json || fail "a worker still writes to the moved json.log"
for i in $(seq 1 20); do
	curl -fsS -o /dev/null --max-time 10 "http://127.0.0.1:$P2/m/jafter$i" ||
	    fail "request jafter$i"
done
wait_until 10 eval '[ "$(grep -c "/m/jafter" "$J")" -ge 20 ]' ||
    fail "json lines lost across the rotation"
[ "$(cat "$J" "$J.1" | grep -c '"/m/rot[12]-')" -eq $((2 * k)) ] ||
    fail "rotation: $(cat "$J" "$J.1" | grep -c '"/m/rot[12]-') lines for $((2 * k)) requests"
[ "$(lines "$J.1")" -ge $nj ] || fail "the moved file lost lines"
"$PYTHON" -c 'import json, sys
for p in sys.argv[1:]:
    for l in open(p, "rb"):
        json.loads(l.decode("utf-8"))' "$J" "$J.1" || fail "a bad json line after rotation"
ok "mv json.log + SIGUSR1: both listeners write to the new file, none lost"
mgw_stop

# --- privilege drop: root master, workers as nobody, logging after rotation
if [ "$(id -u)" != 0 ]; then
	say "not root: privilege drop not tested"
	exit 0
fi
id nobody > /dev/null 2>&1 || { say "no user nobody"; exit 0; }
nobody_uid=$(id -u nobody)
chmod 0755 "$T"	# the workers must reach their files
mkdir "$T/logs"
chmod 1777 "$T/logs"
LOG=$T/logs/access.log
mock_apis | write_conf
sed -i -e 's|user = "root";|user = "nobody";|' \
    -e "s|access_log = \"[^\"]*\";|access_log = \"$LOG\";|" "$T/mgw.conf"
grep -q 'user = "nobody"' "$T/mgw.conf" || fail "could not set user nobody"
mgw_start
uid_of() { awk '/^Uid:/ { print $2 " " $3 " " $4 " " $5 }' "/proc/$1/status"; }
[ "$(uid_of "$MGW_PID")" = "0 0 0 0" ] || fail "master uids: $(uid_of "$MGW_PID")"
for p in $(worker_pids); do
	[ "$(uid_of "$p")" = "$nobody_uid $nobody_uid $nobody_uid $nobody_uid" ] ||
	    fail "worker $p uids: $(uid_of "$p")"
done
ok "master runs as root, workers as nobody ($nobody_uid)"
for i in $(seq 1 10); do
	curl -fsS -o /dev/null --max-time 10 "$U/m/priv$i" || fail "request priv$i"
done
wait_until 10 eval '[ "$(grep -c "GET /m/priv" "$LOG")" -eq 10 ]' ||
    fail "workers as nobody do not log: $(lines "$LOG") lines"
ok "workers as nobody serve and log"
mv "$LOG" "$LOG.1"
kill -USR1 "$MGW_PID"
k=0
wait_until 20 rotated || fail "workers as nobody: no new access.log after SIGUSR1"
wait_until 20 reopened || fail "a worker as nobody still writes to the moved file"
for i in $(seq 1 20); do
	curl -fsS -o /dev/null --max-time 10 "$U/m/privafter$i" || fail "privafter$i"
done
wait_until 10 eval '[ "$(grep -c "GET /m/privafter" "$LOG")" -eq 20 ]' ||
    fail "workers as nobody stopped logging after rotation"
ok "workers as nobody keep logging after mv + SIGUSR1 (owner $(stat -c %U "$LOG"))"
mgw_stop
ok "graceful stop"
