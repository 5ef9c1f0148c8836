#!/usr/bin/env bash
# Usage events (analytics): N requests on two workers give exactly N
# events, each a valid JSON line with the right fields; rotation by size
# under load, reloads under load and a graceful stop lose none; completed
# files are gzipped and max_files keeps the newest; a SIGKILLed worker's
# flushed events are completed by its successor; a bad directory is
# refused at start and at reload; a directory removed, a .tmp deleted and
# a full disk at run time are logged once and the gateway keeps serving.
. "${top_srcdir:-.}/tests/lib.sh"

WORKERS=2
start_upstream
start_dead_port
U=http://127.0.0.1:$PORT
EV=$T/ev
LOG=$T/mgwd.log

# conf DIR [analytics options...]
conf() {
	local dir=$1
	shift
	write_conf <<EOC
analytics: { enabled = true; directory = "$dir"; flush_interval = "100ms";
	$* };
policies = (
	{ name = "two"; requests = 2; per = "1h"; algorithm = "sliding_log"; },
	{ name = "Gold"; requests = 1000000; per = "1h"; }
);
throttling: { consumer_header = "X-Consumer"; };
consumers = ( { name = "app1"; tier = "Gold"; } );
apis = (
	{ name = "pets"; version = "v1"; base_path = "/pets";
	  resources = ( { path = "/pet/{id}"; methods = [ "GET" ]; },
			{ path = "/pet"; methods = [ "POST" ]; } );
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT/echo" ]; }; },
	{ name = "m"; base_path = "/m";
	  endpoints = { mock = { status = 200; body = "mock"; }; }; },
	{ name = "lim"; base_path = "/lim"; throttling = "two";
	  endpoints = { mock = { status = 200; body = "ok"; }; }; },
	{ name = "dead"; base_path = "/dead";
	  endpoints = { production = [ "http://127.0.0.1:$DEAD_PORT" ]; }; }
);
EOC
}

# The checker: every completed file (.jsonl, .jsonl.gz) of a directory,
# every line parsed as JSON with exactly the documented fields.
cat > "$T/check.py" <<'EOP'
import glob, gzip, json, os, re, sys
FIELDS = ["timestamp", "request_id", "api", "api_version", "resource",
    "method", "path", "consumer", "tier", "key_type", "client_ip",
    "user_agent", "status", "bytes_in", "bytes_out", "latency_ms",
    "upstream_latency_ms", "upstream", "throttled", "throttle_level",
    "error_code", "listener", "worker"]
NAME = re.compile(r"^events-\d{8}T\d{6}\.\d{3}Z-\d+-\d{6}\.jsonl(\.gz)?$")
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
def die(msg):
    print("FAIL - " + msg); sys.exit(1)
def events(d, maxsize=0):
    evs, files = [], sorted(os.listdir(d))
    for f in files:
        if f.endswith((".tmp", ".part")):
            die("incomplete file left: " + f)
        if not NAME.match(f):
            die("unexpected name: " + f)
        p = os.path.join(d, f)
        if maxsize and not f.endswith(".gz") and os.path.getsize(p) > maxsize:
            die("%s: %d bytes > %d" % (f, os.path.getsize(p), maxsize))
        raw = gzip.open(p).read() if f.endswith(".gz") else open(p, "rb").read()
        if raw and not raw.endswith(b"\n"):
            die(f + ": last line incomplete")
        for n, line in enumerate(raw.split(b"\n")[:-1]):
            try:
                e = json.loads(line.decode("utf-8"))
            except Exception as x:
                die("%s:%d: not JSON (%s): %r" % (f, n + 1, x, line[:200]))
            if list(e) != FIELDS:
                die("%s:%d: fields %s" % (f, n + 1, list(e)))
            if not TS.match(e["timestamp"]):
                die("%s:%d: timestamp %s" % (f, n + 1, e["timestamp"]))
            e["_file"] = f
            evs.append(e)
    return evs, files
mode, d = sys.argv[1], sys.argv[2]
if mode == "count":		# count DIR [MAXSIZE]: print events files ids
    evs, files = events(d, int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    ids = set(e["request_id"] for e in evs)
    print(len(evs), len(files), len(ids), len(set(e["worker"] for e in evs)))
elif mode == "ids":		# ids DIR: the request ids, one a line
    for e in events(d)[0]:
        print(e["request_id"])
elif mode == "expect":		# expect DIR FILE: the events match FILE
    evs, files = events(d)
    want = json.load(open(sys.argv[3]))
    byid = {}
    for e in evs:
        if e["request_id"] in byid:
            die("two events for request " + e["request_id"])
        byid[e["request_id"]] = e
    if len(evs) != len(want):
        die("%d events for %d requests" % (len(evs), len(want)))
    for w in want:
        e = byid.get(w["request_id"])
        if e is None:
            die("no event for %r" % w)
        for k, v in w.items():
            if k == "upstream_latency_ms":
                if (v is None) != (e[k] is None):
                    die("%s: %s=%r, want %r" % (w["request_id"], k, e[k], v))
            elif e[k] != v:
                die("%s: %s=%r, want %r (event %r)" % (w["request_id"], k, e[k], v, e))
        if not isinstance(e["latency_ms"], float) or e["latency_ms"] < 0:
            die("latency_ms %r" % e["latency_ms"])
        if e["bytes_out"] <= 0 or e["bytes_in"] <= 0:
            die("bytes %r %r" % (e["bytes_in"], e["bytes_out"]))
    print(len(evs), len(files), len(set(e["worker"] for e in evs)))
EOP

# The client: drive.py OUT N URL [new]: N GETs of URL (a %d in it is the
# request number) over one keep-alive connection, or a new connection each
# ("new").  A request that gets no answer (a connection a draining worker
# closed while idle) is sent again.  Writes the number of answers to OUT.
cat > "$T/drive.py" <<'EOP'
import http.client, sys, time
out, n, url, new = sys.argv[1], int(sys.argv[2]), sys.argv[3], len(sys.argv) > 4
host, port = "127.0.0.1", int(url.split(":")[2].split("/")[0])
path = "/" + url.split("/", 3)[3]
end = time.monotonic() + 120
c, got, fails = None, 0, 0
for i in range(n):
    while time.monotonic() < end:
        try:
            if c is None:
                c = http.client.HTTPConnection(host, port, timeout=10)
            c.request("GET", path.replace("%d", str(i)))
            r = c.getresponse(); r.read()
            got += 1
            if new or r.getheader("Connection", "").lower() == "close":
                c.close(); c = None
            break
        except (OSError, http.client.HTTPException):
            fails += 1
            c.close(); c = None
open(out, "w").write("%d %d\n" % (got, fails))
EOP

# drive_all NAME PROCS N URL [new]: PROCS clients in the background.
_drive_pids=
drive_start() {
	local name=$1 procs=$2 n=$3 url=$4 new=${5:-} i
	for i in $(seq 1 "$procs"); do
		"$PYTHON" "$T/drive.py" "$T/drive.$name.$i" "$n" "$url" $new &
		_drive_pids="$_drive_pids $!"
		_bg_pids="$_bg_pids $!"
	done
}
drive_wait() {
	local p
	for p in $_drive_pids; do
		wait "$p" || fail "a client failed"
	done
	_drive_pids=
}
answers() { cat "$T"/drive."$1".* | awk '{ s += $1 } END { print s + 0 }'; }
ev_count() { "$PYTHON" "$T/check.py" count "$@"; }
tmp_lines() { cat "$1"/events-*.jsonl.tmp 2>/dev/null | wc -l; }
# stop_ctl: mgwctl stop (graceful), and wait for the master to exit.
stop_ctl() {
	ctl stop > /dev/null || fail "mgwctl stop"
	wait_until 30 eval '! kill -0 '"$MGW_PID"' 2>/dev/null' ||
	    fail "mgwd did not stop"
	wait "$MGW_PID" 2>/dev/null
	MGW_PID=
}
# no_part DIR: no gzip is still running (a grandchild outlives its worker).
no_part() { ! ls "$1" | grep -Eq '\.(part|gz\.tmp)$'; }

# --- (1) N requests: exactly N events, fields as sent -----------------
conf "$EV"
mgw_start
"$PYTHON" - "$PORT" "$UP_PORT" "$DEAD_PORT" "$T/expect.json" <<'EOP' ||
import http.client, json, sys
port, up, dead, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
want, keep = [], http.client.HTTPConnection("127.0.0.1", port, timeout=10)
def req(method, url, headers={}, body=None, new=False, **exp):
    global keep
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10) if new else keep
    c.putrequest(method, url, skip_accept_encoding=True)
    for k, v in headers.items():
        c.putheader(k, v)
    if body is not None:
        c.putheader("Content-Length", str(len(body)))
    c.endheaders(body)
    r = c.getresponse(); r.read()
    if new or r.getheader("Connection", "").lower() == "close":
        c.close()
        if not new:
            keep = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    exp["request_id"] = r.getheader("X-Request-Id")
    exp["method"] = method
    if r.status != exp["status"]:
        sys.exit("%s %s: %d, want %d" % (method, url, r.status, exp["status"]))
    want.append(exp)
pets = dict(api="pets", api_version="v1", key_type="PRODUCTION",
    error_code=None, throttled=False, throttle_level=None,
    upstream="http://127.0.0.1:%s/echo" % up, upstream_latency_ms=0.0,
    client_ip="127.0.0.1", listener="http")
for i in range(240):
    h, who = {}, dict(consumer=None, tier=None)
    if i % 2 == 0:
        h, who = {"X-Consumer": "app1"}, dict(consumer="app1", tier="Gold")
    req("GET", "/pets/pet/%d" % i, h, new=(i % 3 == 0), status=200,
        resource="/pet/{id}", path="/pets/pet/%d" % i, **who, **pets)
for i in range(20):
    req("POST", "/pets/pet", {"X-Consumer": "app1"}, body=b"x" * 100,
        new=(i % 2 == 0), status=200, resource="/pet", path="/pets/pet",
        consumer="app1", tier="Gold", **pets)
for i in range(30):
    req("GET", "/nowhere/%d" % i, new=(i % 2 == 1), status=404, api=None,
        resource=None, consumer=None, upstream=None, upstream_latency_ms=None,
        error_code="not_found", key_type=None, path="/nowhere/%d" % i)
lim = dict(api="lim", api_version=None, resource=None, path="/lim/x",
    upstream=None, upstream_latency_ms=None, listener="http")
for i in range(2):
    req("GET", "/lim/x", status=200, throttled=False, error_code=None, **lim)
for i in range(2):
    req("GET", "/lim/x", status=429, throttled=True, throttle_level="api",
        error_code="throttled", **lim)
for i in range(5):
    req("GET", "/dead/x%d" % i, new=True, status=502, api="dead",
        upstream="http://127.0.0.1:%s" % dead, throttled=False)
req("GET", "/m/ua", {"User-Agent": b"bad\xff\xfe\xc3(ua\xe2\x82"}, status=200,
    user_agent="bad\ufffd\ufffd\ufffd(ua\ufffd\ufffd", api="m")
req("GET", "/m/ua2", {"User-Agent": "caf\u00e9 \u2603 \"q\" \\".encode()},
    status=200,
    user_agent="caf\u00e9 \u2603 \"q\" \\", api="m")
json.dump(want, open(out, "w"))
print(len(want))
EOP
    fail "the requests did not get the expected statuses"
N=$("$PYTHON" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/expect.json")
# The admin listener and /health make no event.
curl -fsS -o /dev/null "http://127.0.0.1:$ADMIN_PORT/status" || fail "GET /status"
curl -fsS -o /dev/null "$U/health" || fail "GET /health"
stop_ctl
r=$("$PYTHON" "$T/check.py" expect "$EV" "$T/expect.json") || { echo "$r"; fail "events do not match"; }
set -- $r
ok "$N requests: $1 events in $2 completed files from $3 workers, fields as sent (consumer, tier, resource template, 429 throttled, 502, non-UTF-8 User-Agent)"

# --- (2) rotation by size under load -----------------------------------
rm -rf "$EV"
conf "$EV" 'rotate_size = "64k"; buffer_size = "4k";'
mgw_start
drive_start rot 3 1000 "$U/m/rot%d"
drive_start rotn 2 500 "$U/pets/pet/%d" new
drive_wait
sent=$(answers rot); sent=$((sent + $(answers rotn)))
[ "$sent" -eq 4000 ] || fail "load: $sent answers for 4000 requests"
stop_ctl
r=$(ev_count "$EV" 65536) || { echo "$r"; fail "rotation"; }
set -- $r
[ "$1" -eq "$sent" ] || fail "rotation: $1 events for $sent requests"
[ "$3" -eq "$sent" ] || fail "rotation: $3 distinct request ids for $sent"
[ "$2" -ge 10 ] || fail "rotation: only $2 files"
ok "rotation under load: $sent requests, $1 events in $2 files of at most 64k, none left .tmp"

# --- (3) reloads under load, then QUIT --------------------------------
rm -rf "$EV"
conf "$EV" 'rotate_size = "64k";'
mgw_start
drive_start rl 2 1500 "$U/m/rl%d"
drive_start rln 2 400 "$U/m/rln%d" new
for g in 2 3 4; do
	ctl reload > /dev/null || fail "reload $g"
	wait_until 30 gen_only "$g" || fail "generation $g did not take over"
done
drive_wait
sent=$(( $(answers rl) + $(answers rln) ))
[ "$sent" -eq 3800 ] || fail "reload load: $sent answers for 3800 requests"
mgw_stop
r=$(ev_count "$EV") || { echo "$r"; fail "reload"; }
set -- $r
[ "$1" -eq "$sent" ] || fail "reloads: $1 events for $sent answered requests"
[ "$3" -eq "$sent" ] || fail "reloads: $3 distinct request ids for $sent"
ok "3 reloads under load and a graceful QUIT: $sent requests, $1 events from $4 workers"

# --- (4) gzip and max_files -------------------------------------------
rm -rf "$EV"
conf "$EV" 'rotate_size = "64k"; compress = true;'
mgw_start
drive_start gz 2 1000 "$U/m/gz%d"
drive_wait
sent=$(answers gz)
stop_ctl
wait_until 30 no_part "$EV" || fail "gzip did not finish: $(ls "$EV")"
ls "$EV" | grep -vq '\.jsonl\.gz$' && fail "not gzipped: $(ls "$EV" | grep -v '\.jsonl\.gz$')"
gunzip -t "$EV"/*.gz || fail "gunzip -t"
r=$(ev_count "$EV") || { echo "$r"; fail "gzip"; }
set -- $r
[ "$1" -eq "$sent" ] || fail "gzip: $1 events for $sent requests"
ok "compress: $1 events for $sent requests in $2 .jsonl.gz files, gunzip-able"

rm -rf "$EV"
conf "$EV" 'rotate_size = "64k"; compress = true; max_files = 3;'
mgw_start
drive_start mf 2 1000 "$U/m/mf%d"
drive_wait
last=$(curl -fsS -D - -o /dev/null "$U/m/last" | tr -d '\r' |
    sed -n 's/^X-Request-Id: //Ip')
[ -n "$last" ] || fail "no X-Request-Id"
stop_ctl
wait_until 30 no_part "$EV" || fail "gzip did not finish: $(ls "$EV")"
wait_until 10 eval '[ "$(ls "$EV" | wc -l)" -eq 3 ]' ||
    fail "max_files 3: $(ls "$EV" | wc -l) files: $(ls "$EV")"
"$PYTHON" "$T/check.py" ids "$EV" | grep -qx "$last" ||
    fail "max_files removed the newest events"
ok "max_files = 3: 3 files kept, the newest events among them"

# --- (5) a SIGKILLed worker: its flushed events are completed ---------
rm -rf "$EV"
conf "$EV"
mgw_start
for i in $(seq 1 20); do
	curl -fsS -o /dev/null --max-time 10 "$U/m/k$i" || fail "request k$i"
done
wait_until 10 eval '[ "$(tmp_lines "$EV")" -eq 20 ]' ||
    fail "events not flushed: $(tmp_lines "$EV")"
old=$(worker_pids)
kill -KILL $old
respawned() { [ "$(worker_pids | grep -vxF "$old" | wc -l)" -eq 2 ]; }
wait_until 20 respawned || fail "workers not respawned"
wait_until 10 eval '[ "$(ls "$EV" | grep -c "\.jsonl$")" -ge 1 ]' ||
    fail "orphans not completed: $(ls "$EV")"
grep -q "left by a worker that died" "$LOG" || fail "orphan completion not logged"
stop_ctl
r=$(ev_count "$EV") || { echo "$r"; fail "orphans"; }
set -- $r
[ "$1" -eq 20 ] || fail "SIGKILL: $1 events of 20 flushed"
ok "SIGKILLed workers: their 20 flushed events completed by the new workers"

# --- (6) bad directories at start and at reload ------------------------
: > "$T/afile"
conf "$T/afile/ev"
out=$("$MGWD" -n -f "$T/mgw.conf" 2>&1) && fail "mgwd -n accepted $T/afile/ev"
printf '%s\n' "$out" | grep -q "analytics.directory $T/afile/ev: .*Not a directory" ||
    fail "mgwd -n: $out"
ok "mgwd -n refuses a directory under a file: $(printf '%s\n' "$out" | head -n 1 | sed "s|$T/||g")"

rm -rf "$EV"
conf "$EV"
mgw_start
conf "$T/afile/ev"
out=$(ctl reload 2>&1) && fail "reload accepted a bad directory"
printf '%s\n' "$out" | grep -q "analytics.directory $T/afile/ev" ||
    fail "reload cause: $out"
for i in $(seq 1 10); do
	curl -fsS -o /dev/null --max-time 10 "$U/m/r$i" || fail "request r$i after a refused reload"
done
wait_until 10 eval '[ "$(tmp_lines "$EV")" -eq 10 ]' ||
    fail "old generation stopped writing: $(tmp_lines "$EV")"
ok "reload to a bad directory refused ($(printf '%s\n' "$out" | head -n 1 | sed "s|$T/||g")), old generation serves and meters"

# --- (7) a .tmp deleted under the daemon -------------------------------
rm -f "$EV"/*.tmp
for i in $(seq 1 10); do
	curl -fsS -o /dev/null --max-time 10 "$U/m/d$i" || fail "request d$i"
done
wait_until 10 eval '[ "$(tmp_lines "$EV")" -eq 10 ]' ||
    fail "no new .tmp after deletion: $(ls "$EV")"
grep -q "was removed; the events in it are lost, starting a new file" "$LOG" ||
    fail "the deletion is not logged"
ok "a deleted .tmp is noticed and logged, later events go to a new one"

# --- (8) the directory removed at run time, then restored --------------
rm -rf "$EV"
for i in $(seq 1 20); do
	curl -fsS -o /dev/null --max-time 10 "$U/m/gone$i" || fail "request gone$i while the directory is missing"
done
wait_until 10 grep -q "analytics: open $EV/events-[0-9]*.jsonl.tmp: No such file" "$LOG" ||
    fail "the missing directory is not logged"
errs() { curl -fsS "http://127.0.0.1:$ADMIN_PORT/metrics" 2>/dev/null |
    awk '/^mgw_analytics_write_errors_total / { print $2 }'; }
if [ -n "$(errs)" ]; then
	# Several failed retries, still one line per worker.
	wait_until 10 eval '[ "$(errs)" -ge 6 ]' || fail "write errors not counted: $(errs)"
	say "mgw_analytics_write_errors_total $(errs)"
fi
for p in $(worker_pids); do
	n=$(grep -c "\[$p\]: analytics: open .*No such file" "$LOG")
	[ "$n" -le 1 ] || fail "worker $p logged the condition $n times"
done
mkdir "$EV"
for i in $(seq 1 10); do
	curl -fsS -o /dev/null --max-time 10 "$U/m/back$i" || fail "request back$i"
done
wait_until 10 eval '[ "$(tmp_lines "$EV")" -eq 30 ]' ||
    fail "buffered events not written when the directory came back: $(tmp_lines "$EV")"
grep -q "analytics: writing .* again; 0 events were dropped" "$LOG" ||
    fail "the recovery is not logged"
stop_ctl
r=$(ev_count "$EV") || { echo "$r"; fail "directory back"; }
set -- $r
[ "$1" -eq 30 ] || fail "$1 events for the 30 requests since the directory went"
ok "directory removed: served 200s, logged once, 30 buffered events written once it came back"

# --- (9) a full disk (a small tmpfs) ------------------------------------
if [ "$(id -u)" != 0 ] || ! mkdir "$T/small" ||
    ! mount -t tmpfs -o size=128k tmpfs "$T/small" 2>/dev/null; then
	say "cannot mount a tmpfs: full disk not tested"
	exit 0
fi
trap 'umount "$T/small" 2>/dev/null; _cleanup' EXIT
conf "$T/small/ev" 'buffer_size = "4k"; rotate_size = "64k";'
mgw_start
full() { grep -q "analytics: write .*No space left on device" "$LOG"; }
i=0
while ! full && [ "$i" -lt 40 ]; do	# 128k is about 300 events
	i=$((i + 1))
	"$PYTHON" "$T/drive.py" "$T/fill.$i" 50 "$U/m/fill$i-%d" ||
	    fail "requests on a full disk"
	[ "$(cut -d' ' -f1 "$T/fill.$i")" -eq 50 ] || fail "requests on a full disk failed"
	wait_until 2 full
done
full || fail "no ENOSPC after $((i * 50)) requests"
ids=
for i in $(seq 1 10); do
	id=$(curl -fsS -D - -o /dev/null "$U/m/after$i" | tr -d '\r' |
	    sed -n 's/^X-Request-Id: //Ip')
	[ -n "$id" ] || fail "request after$i on a full disk"
	ids="$ids $id"
done
n=$(grep -c "analytics: write .*No space left on device" "$LOG")
[ "$n" -le 2 ] || fail "ENOSPC logged $n times by 2 workers"
mkdir "$T/keep"
mv "$T"/small/ev/*.jsonl "$T/keep/"	# the shipper takes the files away
wait_until 10 grep -q "analytics: writing .* again" "$LOG" ||
    fail "writes did not resume once space was freed"
stop_ctl
r=$(ev_count "$T/small/ev") || { echo "$r"; fail "full disk: bad files"; }
r2=$(ev_count "$T/keep") || { echo "$r2"; fail "full disk: bad files"; }
"$PYTHON" "$T/check.py" ids "$T/small/ev" > "$T/ids"
"$PYTHON" "$T/check.py" ids "$T/keep" >> "$T/ids"
for id in $ids; do
	grep -qx "$id" "$T/ids" || fail "event $id buffered during ENOSPC lost"
done
set -- $r $r2
ok "full disk: served 200s, logged $n times, files hold whole lines only ($(($1 + $5)) events), the 10 events buffered meanwhile written once space was freed"
umount "$T/small"
