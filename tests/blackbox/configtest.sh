#!/usr/bin/env bash
# mgwd -n: a good config passes; every kind of bad config fails with
# file:line; environment overrides are listed.
. "${top_srcdir:-.}/tests/lib.sh"

write_conf <<'EOF2'
apis = ( { name = "a"; base_path = "/a";
	endpoints = { mock = { status = 200; body = "a"; }; }; } );
EOF2
out=$("$MGWD" -n -f "$T/mgw.conf" 2>&1) || fail "good config refused: $out"
printf '%s\n' "$out" | grep -qx "configuration OK" || fail "no 'configuration OK': $out"
ok "good config passes"

out=$(MGW_GATEWAY_WORKERS=3 "$MGWD" -n -f "$T/mgw.conf" 2>&1) || fail "override refused: $out"
printf '%s\n' "$out" | grep -qx "override: MGW_GATEWAY_WORKERS=3" || fail "override not listed: $out"
ok "environment override listed"

out=$(MGW_GATEWAY_WORKERZ=3 "$MGWD" -n -f "$T/mgw.conf" 2>&1) && fail "unknown override accepted"
printf '%s\n' "$out" | grep -q "MGW_GATEWAY_WORKERZ" || fail "unknown override not named: $out"
ok "unknown override refused"

# bad: file, then a pattern the error must match (with file:line)
check_bad() {
	local name=$1 pattern=$2 out
	"$MGWD" -n -f "$T/$name.conf" > "$T/$name.out" 2>&1 && fail "$name: accepted"
	out=$(cat "$T/$name.out")
	printf '%s\n' "$out" | grep -Eq "$pattern" || fail "$name: unexpected error: $out"
	ok "$name refused: $(printf '%s\n' "$out" | head -1)"
}

{ gateway_block; echo 'apis = ( { name = "a"; base_path = "/a" } '; } > "$T/syntax.conf"
check_bad syntax "syntax.conf:[0-9]+:"

{ gateway_block; echo '@include "missing.conf"'; } > "$T/include.conf"
check_bad include "include.conf:[0-9]+:"

{ gateway_block; echo 'bogus = 1;'; } > "$T/unknown.conf"
check_bad unknown "unknown.conf:[0-9]+:.*bogus"

{ gateway_block | sed 's/workers = [0-9]*;/workers = "two";/'; } > "$T/type.conf"
check_bad type "type.conf:[0-9]+:.*workers"

{ gateway_block | sed 's/drain_timeout = "[^"]*";/drain_timeout = 30;/'; } > "$T/unit.conf"
check_bad unit "unit.conf:[0-9]+:.*drain_timeout"

{ gateway_block; printf 'limits: { max_body_size = "10m"; header_timeout = "10x"; };\n'; } > "$T/badunit.conf"
check_bad badunit "badunit.conf:[0-9]+:.*header_timeout"

{ gateway_block; printf 'apis = ( { name = "a"; base_path = "/a";\n endpoints = { production = [ "ftp://x" ]; }; } );\n'; } > "$T/url.conf"
check_bad url "url.conf:[0-9]+:"

# Every error is reported, not just the first.
{ gateway_block; printf 'bogus1 = 1;\nbogus2 = 2;\n'; } > "$T/many.conf"
"$MGWD" -n -f "$T/many.conf" > "$T/many.out" 2>&1 && fail "many: accepted"
grep -q bogus1 "$T/many.out" && grep -q bogus2 "$T/many.out" ||
    fail "not every error reported: $(cat "$T/many.out")"
ok "all errors reported at once"

"$MGWD" -n -f "$T/nonexistent.conf" > "$T/nx.out" 2>&1 && fail "missing file accepted"
ok "missing file refused: $(head -1 "$T/nx.out")"

"$MGWD" -x > "$T/usage.out" 2>&1 && fail "bad option accepted"
grep -q "usage: mgwd" "$T/usage.out" || fail "no usage on a bad option"
ok "bad option gives usage"

# An API is its name and version: the same pair twice is refused.
{ gateway_block; printf 'apis = ( { name = "a"; version = "v1"; base_path = "/a";\n endpoints = { mock = { status = 200; }; }; },\n { name = "a"; version = "v1"; base_path = "/b";\n endpoints = { mock = { status = 200; }; }; } );\n'; } > "$T/dupapi.conf"
check_bad dupapi "dupapi.conf:[0-9]+:.*duplicate API 'a' version v1"
{ gateway_block; printf 'apis = ( { name = "a"; version = "v1"; base_path = "/a";\n endpoints = { mock = { status = 200; }; }; },\n { name = "a"; version = "v2"; base_path = "/b";\n endpoints = { mock = { status = 200; }; }; } );\n'; } > "$T/twover.conf"
"$MGWD" -n -f "$T/twover.conf" >/dev/null 2>&1 || fail "two versions of one API refused"
ok "two versions of one API accepted"
