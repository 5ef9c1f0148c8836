#!/usr/bin/env bash
# Loadable plugins: the sample plugin (plugins/examples/hello.so) loads
# from the "plugins" list, adds its header to responses and refuses a
# request by a header rule.  Every bad plugin (missing file, not a shared
# object, a relative path, no mgw_plugin_entry, another ABI, another
# name, bad settings)
# is refused by mgwd -n with exit 1 and the plugin's name, and a reload
# to it is refused while the old generation keeps serving; a plugin whose
# init_worker fails passes mgwd -n (the hook runs in workers) but its
# reload fails and the old generation keeps serving; a worker crashing in
# a plugin's hook is respawned and the master names the plugin.  Last, a
# plugin compiled outside the tree against an installed copy (make
# install DESTDIR=...) with only pkg-config loads and changes responses,
# and every core symbol the built-in plugins use is exported by mgwd.
. "${top_srcdir:-.}/tests/lib.sh"

WORKERS=2
HELLO=$top_builddir/plugins/examples/hello.so
TP=$top_builddir/tests/plugins
for so in "$HELLO" "$TP/bad-abi.so" "$TP/no-entry.so" "$TP/init-fail.so" \
    "$TP/crash.so"; do
	[ -f "$so" ] || { echo "plugin.sh: $so not built (make check builds it)"; exit 99; }
done
printf 'this is not a shared object\n' > "$T/text.so"

# body [PLUGINS]: a mock API, then the plugins list (entries, one per
# argument; none: the hello plugin alone).
body() {
	cat <<EOC
apis = (
	{ name = "m"; base_path = "/m";
	  endpoints = { mock = { status = 200; body = "mock"; }; }; }
);
plugins = (
EOC
	local e sep=""
	if [ $# -eq 0 ]; then
		set -- "$(hello_entry)"
	fi
	for e in "$@"; do
		printf '%s\t%s\n' "$sep" "$e"
		sep=","
	done
	echo ");"
}
hello_entry() {
	printf '{ name = "hello"; path = "%s"; value = "world"; deny_header = "X-No-Hello"; %s}' \
	    "$HELLO" "${1:-}"
}

# The bad cases: NAME, the entry, the pattern the error must match: the
# entry's file:line and the plugin's name with the reason.
BAD_NAMES=(missing relative text no-entry bad-abi other-name unknown-key wrong-type no-value bad-header)
declare -A BAD_ENTRY BAD_PAT
BAD_ENTRY[missing]="{ name = \"hello\"; path = \"$T/nowhere/hello.so\"; value = \"x\"; }"
BAD_PAT[missing]="\.conf:[0-9]+: .*hello.*$T/nowhere/hello.so.*No such file or directory"
BAD_ENTRY[relative]="{ name = \"hello\"; path = \"plugins/examples/hello.so\"; value = \"x\"; }"
BAD_PAT[relative]="\.conf:[0-9]+: .*hello: plugins/examples/hello.so: not an absolute path"
BAD_ENTRY[text]="{ name = \"hello\"; path = \"$T/text.so\"; value = \"x\"; }"
BAD_PAT[text]="\.conf:[0-9]+: .*hello.*not a loadable shared object.*text.so"
BAD_ENTRY[no-entry]="{ name = \"noentry\"; path = \"$TP/no-entry.so\"; }"
BAD_PAT[no-entry]="\.conf:[0-9]+: .*noentry.*no-entry.so exports no mgw_plugin_entry"
BAD_ENTRY[bad-abi]="{ name = \"badabi\"; path = \"$TP/bad-abi.so\"; }"
BAD_PAT[bad-abi]="\.conf:[0-9]+: .*badabi.*ABI 6, expected 5"
BAD_ENTRY[other-name]="{ name = \"bye\"; path = \"$HELLO\"; value = \"x\"; }"
BAD_PAT[other-name]="\.conf:[0-9]+: .*bye.*is plugin \"hello\", not \"bye\""
BAD_ENTRY[unknown-key]=$(hello_entry 'colour = "red"; ')
BAD_PAT[unknown-key]="\.conf:[0-9]+:.*colour"
BAD_ENTRY[wrong-type]="{ name = \"hello\"; path = \"$HELLO\"; value = 5; }"
BAD_PAT[wrong-type]="\.conf:[0-9]+:.*value"
BAD_ENTRY[no-value]="{ name = \"hello\"; path = \"$HELLO\"; }"
BAD_PAT[no-value]="\.conf:[0-9]+:.*value"
# The plugin's own check of a value (o_check), at the value's line.
BAD_ENTRY[bad-header]=$(hello_entry 'header = "X Bad"; ')
BAD_PAT[bad-header]="\.conf:[0-9]+:.*\"X Bad\" is not a header name"

# --- mgwd -n: the good config passes, each bad one exits 1
body > "$T/body.good"
write_conf "$T/good.conf" < "$T/body.good"
out=$("$MGWD" -n -f "$T/good.conf" 2>&1) ||
    fail "mgwd -n refuses the hello plugin: $out"
ok "mgwd -n accepts the hello plugin"
for n in "${BAD_NAMES[@]}"; do
	check_bad "$n" "${BAD_PAT[$n]}" < <(body "${BAD_ENTRY[$n]}")
done
body "$(hello_entry)" '{ name = "initfail"; path = "'"$TP"'/init-fail.so"; }' \
    > "$T/body.initfail"
write_conf "$T/initfail.conf" < "$T/body.initfail"
out=$("$MGWD" -n -f "$T/initfail.conf" 2>&1) ||
    fail "mgwd -n refuses a plugin whose init_worker fails: $out"
ok "mgwd -n accepts a plugin whose init_worker fails (it runs in workers)"

# --- serving with the hello plugin
write_conf < "$T/body.good"
mgw_start
U=http://127.0.0.1:$PORT
s=$(hit /m/a)
[ "$s" = 200 ] || fail "GET /m/a: $s"
[ "$(header X-Hello)" = world ] ||
    fail "no X-Hello: world on the response: $(cat "$T/h")"
ok "hello adds X-Hello: world to responses"
s=$(hit /m/a "X-No-Hello: 1")
[ "$s" = 403 ] || fail "request with X-No-Hello: $s, want 403"
[ "$(code)" = denied_by_hello ] || fail "403 body: $(cat "$T/body")"
"$PYTHON" -c 'import json,sys; e = json.load(sys.stdin)["error"]
assert e["status"] == 403 and e["request_id"], e' < "$T/body" ||
    fail "403 body is not the gateway's JSON error: $(cat "$T/body")"
ok "a request carrying X-No-Hello gets 403 denied_by_hello (JSON body)"

# serving_gen GEN: generation GEN is current and answers with X-Hello.
serving_gen() {
	[ "$(status_get generation)" = "$1" ] || return 1
	[ "$(hit /m/a)" = 200 ] && [ "$(header X-Hello)" = world ]
}

# --- a reload to each bad config is refused; the old generation serves
gen=$(status_get generation)
for n in "${BAD_NAMES[@]}"; do
	cp "$T/$n.conf" "$T/mgw.conf"
	out=$(ctl reload 2>&1) && fail "reload to $n accepted: $out"
	printf '%s\n' "$out" | grep -Eq -- "${BAD_PAT[$n]}" ||
	    fail "reload to $n: unexpected reason: $out"
	serving_gen "$gen" || fail "after the refused reload to $n: $(ctl status)"
	ok "reload to $n refused, generation $gen keeps serving"
done

# --- init_worker fails: the new workers never become ready
cp "$T/initfail.conf" "$T/mgw.conf"
out=$(ctl reload 2>&1) && fail "reload to initfail accepted: $out"
serving_gen "$gen" || fail "after the failed initfail reload: $(ctl status)"
grep -q "initfail: init_worker failed on purpose" "$T/mgwd.log" ||
    fail "the init_worker cause is not logged"
wait_until 20 gen_only "$gen" || fail "initfail workers linger: $(ctl status)"
ok "reload to a failing init_worker refused ($out), generation $gen serves"

# --- a worker crashing inside a hook is respawned; the master names it
body "$(hello_entry)" '{ name = "crash"; path = "'"$TP"'/crash.so"; }' |
    write_conf
out=$(ctl reload 2>&1) || fail "reload to the crash plugin refused: $out"
gen=$((gen + 1))
wait_until 30 gen_only "$gen" || fail "generation $gen is not alone: $(ctl status)"
serving_gen "$gen" || fail "the crash plugin breaks plain requests"
old=$(worker_pids | sort | tr '\n' ' ')
s=$(hit /m/a "X-Crash: 1")
[ "$s" = 000 ] || fail "the crashing request got $s"
wait_until 20 grep -q "killed by signal 11" "$T/mgwd.log" ||
    fail "the crash is not logged"
# respawned: WORKERS workers again, one of them new.
respawned() {
	local p n=0 fresh=0
	for p in $(worker_pids 2>/dev/null); do
		n=$((n + 1))
		case " $old " in *" $p "*) ;; *) fresh=1 ;; esac
	done
	[ "$n" -eq "$WORKERS" ] && [ "$fresh" -eq 1 ]
}
wait_until 20 respawned || fail "no worker respawned: $(ctl status)"
wait_until 20 serving_gen "$gen" || fail "not serving after the respawn"
ok "a worker crashing in a hook is respawned and the gateway serves"
# Best effort in mgwd, but certain here: the hook marks its plugin in the
# worker's statistics slot before it runs.
line=$(grep "killed by signal 11" "$T/mgwd.log" | head -n 1)
printf '%s\n' "$line" | grep -q 'in plugin "crash" hook header_filter' ||
    fail "the master does not name the plugin: $line"
ok "the master names the crashing plugin: ${line#*master*: }"

# --- a plugin built out of the tree against the installed header
command -v pkg-config >/dev/null 2>&1 || skip "pkg-config is not installed"
[ -f "$top_builddir/Makefile" ] || skip "no Makefile in $top_builddir for make install"
D=$T/dest
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" \
    install DESTDIR="$D" > "$T/install.log" 2>&1 ||
    fail "make install DESTDIR failed: $(tail -n 20 "$T/install.log")"
pc=$(find "$D" -name mgw-plugin.pc | head -n 1)
[ -n "$pc" ] || fail "make install installed no mgw-plugin.pc"
h=$(find "$D" -path '*/mgw/plugin.h' | head -n 1)
[ -n "$h" ] || fail "make install installed no mgw/plugin.h"
find "$D" -name mgw-plugin.3 | grep -q . || fail "no mgw-plugin.3 installed"
ok "make install: ${h#$D}, ${pc#$D}, mgw-plugin.3"
export PKG_CONFIG_PATH=${pc%/*} PKG_CONFIG_SYSROOT_DIR=$D
cflags=$(pkg-config --cflags mgw-plugin) || fail "pkg-config --cflags mgw-plugin"
pdir=$(pkg-config --variable=pluginsdir mgw-plugin)
[ -n "$pdir" ] || fail "mgw-plugin.pc has no pluginsdir"
# pkgconf puts the sysroot in front of path variables, pkg-config not.
case $pdir in "$D"/*) ;; *) pdir=$D$pdir ;; esac
mkdir -p "$T/oot" "$pdir"
cat > "$T/oot/oot.c" <<'EOC'
#include <mgw/plugin.h>

static int
oot_header_filter(void *state, struct mgw_request *r)
{
	return (mgw_response_add_header(r, "X-Out-Of-Tree", "yes") == -1 ?
	    MGW_ERROR : MGW_OK);
}

const struct mgw_plugin mgw_plugin_entry = {
	.api = MGW_PLUGIN_API,
	.name = "oot",
	.header_filter = oot_header_filter
};
EOC
# Nothing of the source or build tree is on the command line.
(cd "$T/oot" && ${CC:-cc} -shared -fPIC -Wall -Werror $cflags \
    -o "$pdir/oot.so" oot.c) > "$T/oot/cc.log" 2>&1 ||
    fail "out-of-tree plugin does not compile with '$cflags': $(cat "$T/oot/cc.log")"
ok "out-of-tree plugin compiles with 'pkg-config --cflags mgw-plugin' ($cflags)"
body "$(hello_entry)" "{ name = \"oot\"; path = \"$pdir/oot.so\"; }" |
    write_conf
out=$(ctl reload 2>&1) || fail "reload to the out-of-tree plugin: $out"
gen=$((gen + 1))
wait_until 30 gen_only "$gen" || fail "generation $gen is not alone: $(ctl status)"
[ "$(hit /m/a)" = 200 ] || fail "GET /m/a with the out-of-tree plugin"
[ "$(header X-Out-Of-Tree)" = yes ] ||
    fail "no X-Out-Of-Tree header: $(cat "$T/h")"
[ "$(header X-Hello)" = world ] || fail "hello lost its header"
ok "the out-of-tree plugin loads and adds X-Out-Of-Tree: yes"

# The built-ins are ordinary users of the plugin API: whatever a built-in
# plugin's objects take from the rest of mgw (the core's accessors, lib/
# and shm/) is in mgwd's dynamic symbol table, so any of them would load
# from a shared object as it is, like hello.so.
if command -v nm >/dev/null 2>&1 &&
    [ -f "$top_builddir/libmgwplugins.a" ]; then
	nm -D --defined-only "$MGWD" | awk '{ print $NF }' | sort -u \
	    > "$T/exported"
	for a in libmgwmaster.a libmgwworker.a libmgwstatus.a libmgwlib.a \
	    libmgwshm.a; do
		nm --defined-only "$top_builddir/$a" 2>/dev/null
	done | awk 'NF == 3 && $2 ~ /[TDBR]/ { print $3 }' | sort -u \
	    > "$T/core"
	nm -u "$top_builddir/libmgwplugins.a" | awk 'NF >= 2 { print $NF }' |
	    sort -u > "$T/used"
	missing=$(comm -12 "$T/used" "$T/core" | comm -23 - "$T/exported")
	[ -z "$missing" ] ||
	    fail "built-in plugins use core symbols mgwd does not export: $missing"
	n=$(comm -12 "$T/used" "$T/core" | wc -l)
	ok "the built-in plugins use $n core symbols, all exported by mgwd"
fi

mgw_stop
exit 0
