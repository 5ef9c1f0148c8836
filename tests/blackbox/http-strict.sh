#!/usr/bin/env bash
# The strict request head check (worker/head-check.c): the table of raw
# cases in tests/http-cases.py, each with a request pipelined behind it,
# against a recording upstream that shows what mgwd forwarded.
. "${top_srcdir:-.}/tests/lib.sh"

command -v curl >/dev/null 2>&1 || skip "curl is not installed"
PYTHON=$(python3 -c 'import sys; print(sys.executable)') ||
    skip "python3 is not installed"

UP_PORT=$(free_port)
write_conf <<EOC
apis = (
	{ name = "strict"; base_path = "/api";
	  endpoints = { production = [ "http://127.0.0.1:$UP_PORT/up" ]; }; }
);
EOC
mgw_start
pids=$(worker_pids | sort)

"$PYTHON" "$top_srcdir/tests/http-cases.py" "$PORT" "$UP_PORT" > "$T/cases" 2>&1
rc=$?
cat "$T/cases"
[ "$rc" = 0 ] || fail "strict head cases failed"
ok "strict head cases: $(tail -n 1 "$T/cases")"

grep -q 'bare CR in the request head from 127.0.0.1: refused' "$T/mgwd.log" ||
    fail "no info line for a refused head"
ok "a refused head is logged with its request id"
[ "$(worker_pids | sort)" = "$pids" ] || fail "workers changed"
ok "the same workers serve throughout"
