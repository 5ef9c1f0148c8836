#!/usr/bin/env python3
# tests/http-cases.py GW_PORT UP_PORT: the strict request head check,
# table-driven on raw sockets.  A recording upstream on UP_PORT (loopback)
# keeps every request each upstream connection carried.  Each case is sent
# to mgwd on a new connection with a valid request pipelined behind it,
# then asserted: the statuses the client got, that the connection closed,
# and what the upstream received -- nothing for a refused head (so no
# smuggled request), exactly the case and the follow-up for a good one.
#
# Sources, read at their origin and written here anew:
#   RFC 9112 section 2.2 (bare CR, bare LF, empty lines before the request
#   line), 5.1 (no whitespace before the colon), 5.2 (obs-fold);
#   RFC 9110 section 5.1 and 5.6.2 (field name is a token), 5.5 (field
#   values: no CTL but HTAB; obs-text allowed);
#   nodejs/llhttp test/request/invalid.md, whose sections "Headers
#   separated by CR", "Headers separated by dummy characters", "Invalid
#   header token #1-#3" and "Illegal header field name line folding"
#   refuse what the cases below refuse (its "Spaces before headers"
#   refuses obs-fold too; mgw keeps replacing it, see below).
import re, socket, sys, threading, time

GW, UP = int(sys.argv[1]), int(sys.argv[2])
FOLLOW = b"GET /api/follow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
lock = threading.Lock()
got = []        # (conn number, request line, headers, body) in arrival order


def up_parse(n, buf):
    """Take whole requests off buf, record them; return what is left."""
    while True:
        i = buf.find(b"\r\n\r\n")
        if i < 0:
            return buf
        lines = buf[:i].split(b"\r\n")
        hdrs = []
        for l in lines[1:]:
            k, _, v = l.partition(b":")
            hdrs.append((k.lower(), v.strip(b" \t")))
        rest = buf[i + 4:]
        cl = [v for k, v in hdrs if k == b"content-length"]
        te = [v for k, v in hdrs if k == b"transfer-encoding"]
        body = b""
        if te:
            while True:
                j = rest.find(b"\r\n")
                if j < 0:
                    return buf
                size = int(rest[:j].split(b";")[0], 16)
                if len(rest) < j + 2 + size + 2:
                    return buf
                body += rest[j + 2:j + 2 + size]
                rest = rest[j + 2 + size + 2:]
                if size == 0:
                    break
        elif cl:
            if len(rest) < int(cl[0]):
                return buf
            body, rest = rest[:int(cl[0])], rest[int(cl[0]):]
        with lock:
            got.append((n, lines[0], hdrs, body))
        buf = rest
        yield_resp.append(n)


yield_resp = []


def up_conn(n, s):
    buf = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        del yield_resp[:]
        buf = up_parse(n, buf + d)
        for _ in list(yield_resp):
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nup")
    s.close()


def up_serve(ls):
    n = 0
    while True:
        s, _ = ls.accept()
        n += 1
        threading.Thread(target=up_conn, args=(n, s), daemon=True).start()


def statuses(data):
    # Bodies here are "up" or JSON: a status line can follow one directly.
    return [int(m) for m in re.findall(rb"HTTP/1\.[01] ([0-9]{3}) ", data)]


def exchange(raw):
    s = socket.create_connection(("127.0.0.1", GW))
    s.settimeout(5)
    s.sendall(raw + FOLLOW)
    data, closed = b"", False
    try:
        while True:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            data += d
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    s.close()
    return data, closed


R = b"GET /api/case HTTP/1.1\r\nHost: x\r\n"
P = b"POST /api/case HTTP/1.1\r\nHost: x\r\n"
cases = []      # (name, source, raw, kind, check)
# kind: "bad" 400 and close; "drop" closed without an answer; "good" 200
# for the case and the follow-up, check(headers, body) on what arrived.


def bad(name, src, raw):
    cases.append((name, src, raw, "bad", None))


def good(name, src, raw, check=None):
    cases.append((name, src, raw, "good", check))


def hdr(name, value):
    return lambda h, b: (name.lower(), value) in h


# The two 0.1.0 findings (issue 12).
bad("0.1.0: head ended by CRLF CR and a byte", "RFC 9112 2.2",
    R + b"\rX")
bad("0.1.0: empty field name", "RFC 9110 5.6.2; llhttp invalid.md Invalid header token #3",
    R + b": x\r\n\r\n")

# Bare CR in each position (RFC 9112 2.2; llhttp invalid.md "Headers
# separated by CR" and "Headers separated by dummy characters").
S = "RFC 9112 2.2"
bad("bare CR after the method", S,
    b"GET\r/api/case HTTP/1.1\r\nHost: x\r\n\r\n")
bad("bare CR in the target", S, b"GET /api/ca\rse HTTP/1.1\r\nHost: x\r\n\r\n")
bad("bare CR before the version", S,
    b"GET /api/case\rHTTP/1.1\r\nHost: x\r\n\r\n")
bad("bare CR ending the request line", S,
    b"GET /api/case HTTP/1.1\rHost: x\r\n\r\n")
bad("CR CR LF ending the request line", S,
    b"GET /api/case HTTP/1.1\r\r\nHost: x\r\n\r\n")
bad("bare CR in a field name", S, R + b"X-A\rB: c\r\n\r\n")
bad("bare CR before the colon", S, R + b"X-A\r: c\r\n\r\n")
bad("bare CR at a value's start", S, R + b"X-A: \rb\r\n\r\n")
bad("bare CR inside a value", S, R + b"X-A: a\rb\r\n\r\n")
bad("bare CR ending a value", S, R + b"X-A: a\rX-B: c\r\n\r\n")
bad("bare CR then SP in a value", S, R + b"X-A: a\r b\r\n\r\n")
bad("CR CR LF ending a value", S, R + b"X-A: a\r\r\n\r\n")
bad("bare CR in Host", S, b"GET /api/case HTTP/1.1\r\nHost: x\ry\r\n\r\n")
bad("bare CR in Content-Length", S, P + b"Content-Length: 1\r0\r\n\r\nx")
bad("bare CR at a header line's start", S, R + b"\rX-A: b\r\n\r\n")
bad("CR CR LF ending the head", S, R + b"\r\r\n")
bad("bare CR, bare LF ending the head", S, R + b"X-A: a\r\n\r\r\n")
cases.append(("bare CR before the request line", S,
    b"\rGET /api/case HTTP/1.1\r\nHost: x\r\n\r\n", "drop", None))

# Field names are tokens (RFC 9110 5.6.2; llhttp invalid.md "Invalid
# header token #1" and "#2").
S = "RFC 9110 5.6.2"
for ch in b'()<>@,;"/[]?={}\\' + bytes([0, 1, 0x1f, 0x7f, 0x80, 0xff]):
    bad("0x%02x in a field name" % ch, S,
        R + b"X" + bytes([ch]) + b"A: b\r\n\r\n")
bad("0x%02x leading a field name" % 0x22, S, R + b'"X: b\r\n\r\n')
bad("field line without a colon", "RFC 9112 5; llhttp invalid.md Illegal header field name line folding",
    R + b"X-NoColon\r\n\r\n")

# No whitespace between a field name and its colon (RFC 9112 5.1: a
# server MUST reject such a message with 400).
S = "RFC 9112 5.1"
bad("SP before the colon", S, R + b"X-A : b\r\n\r\n")
bad("HTAB before the colon", S, R + b"X-A\t: b\r\n\r\n")
bad("two SP before the colon", S, R + b"X-A  : b\r\n\r\n")
bad("SP before the colon of Host", S,
    b"GET /api/case HTTP/1.1\r\nHost : x\r\n\r\n")
bad("SP before the colon of Content-Length", S,
    P + b"Content-Length : 3\r\n\r\nabc")
bad("SP before the colon of Transfer-Encoding", S,
    P + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n")

# obs-fold (RFC 9112 5.2: a server refuses it with 400 or replaces each
# fold with SP; mgw replaces, and tests/blackbox/malformed.sh holds it to
# that): the value arrives unfolded, never as a CRLF that would split it.
# Whitespace before the first field line is refused (RFC 9112 2.2).
S = "RFC 9112 5.2"
def unfolded(name, words):
    def f(h, b):
        v = [x for k, x in h if k == name]
        return len(v) == 1 and v[0].split() == words and \
            b"\r" not in v[0] and b"\n" not in v[0]
    return f
good("obs-fold with SP", S, R + b"X-A: a\r\n b\r\n\r\n",
     unfolded(b"x-a", [b"a", b"b"]))
good("obs-fold with HTAB", S, R + b"X-A: a\r\n\tb\r\n\r\n",
     unfolded(b"x-a", [b"a", b"b"]))
good("two obs-folds", S, R + b"X-A: a\r\n b\r\n\tc\r\n\r\n",
     unfolded(b"x-a", [b"a", b"b", b"c"]))
bad("obs-fold with a CTL", "RFC 9110 5.5", R + b"X-A: a\r\n \x01b\r\n\r\n")
bad("obs-fold with a bare CR", "RFC 9112 2.2", R + b"X-A: a\r\n \rb\r\n\r\n")
bad("SP before the first field line", "RFC 9112 2.2",
    b"GET /api/case HTTP/1.1\r\n Host: x\r\n\r\n")
bad("HTAB before the first field line", "RFC 9112 2.2",
    b"GET /api/case HTTP/1.1\r\n\tHost: x\r\n\r\n")

# No CTL but HTAB in a field value (RFC 9110 5.5).
S = "RFC 9110 5.5"
for ch in list(range(0, 9)) + list(range(0x0b, 0x0d)) + \
        list(range(0x0e, 0x20)) + [0x7f]:
    bad("0x%02x in a field value" % ch, S,
        R + b"X-A: a" + bytes([ch]) + b"b\r\n\r\n")
bad("NUL in Host", S, b"GET /api/case HTTP/1.1\r\nHost: x\0\r\n\r\n")

# Good controls: each forwarded as sent, the follow-up answered.
S = "RFC 9110 5.5"
good("plain GET", "RFC 9112 3", R + b"\r\n")
good("HTAB inside a value", S, R + b"X-A: a\tb\r\n\r\n", hdr(b"x-a", b"a\tb"))
good("OWS around a value", S, R + b"X-A: \t a b \t\r\n\r\n", hdr(b"x-a",
    b"a b"))
good("obs-text UTF-8 in a value", S, R + b"X-A: caf\xc3\xa9\r\n\r\n",
     hdr(b"x-a", b"caf\xc3\xa9"))
good("obs-text 0x80 in a value", S, R + b"X-A: a\x80b\r\n\r\n", hdr(b"x-a",
    b"a\x80b"))
good("obs-text 0xff in a value", S, R + b"X-A: \xff\r\n\r\n", hdr(b"x-a",
    b"\xff"))
good("empty value", S, R + b"X-A:\r\n\r\n", hdr(b"x-a", b""))
good("no SP after the colon", S, R + b"X-A:b\r\n\r\n", hdr(b"x-a", b"b"))
good("colon in a value", S, R + b"X-A: a:b: c\r\n\r\n", hdr(b"x-a", b"a:b: c"))
good("delimiters in a value", S, R + b'X-A: "(a),<b>;{c}"\r\n\r\n',
     hdr(b"x-a", b'"(a),<b>;{c}"'))
good("every tchar in a name", "RFC 9110 5.6.2",
     R + b"X-!#$%&'*+.^`|~09az: v\r\n\r\n", hdr(b"x-!#$%&'*+.^`|~09az", b"v"))
good("long valid name", "RFC 9110 5.6.2",
    R + b"X-" + b"n" * 200 + b": v\r\n\r\n",
     hdr(b"x-" + b"n" * 200, b"v"))
good("one-character name", "RFC 9110 5.6.2", R + b"A: v\r\n\r\n", hdr(b"a",
    b"v"))
good("empty line before the request line", "RFC 9112 2.2",
    b"\r\n" + R + b"\r\n")
good("bare CR and NUL in a Content-Length body (not scanned)", "RFC 9112 6",
     P + b"Content-Length: 6\r\n\r\na\rb\0\r\r", lambda h,
         b: b == b"a\rb\0\r\r")
good("bare CR in a chunked body (not scanned)", "RFC 9112 7.1",
     P + b"Transfer-Encoding: chunked\r\n\r\n3\r\n\r\r:\r\n0\r\n\r\n",
     lambda h, b: b == b"\r\r:")
good("head split in pieces", "RFC 9112 2.2", R + b"X-A: split\r\n\r\n",
     hdr(b"x-a", b"split"))

ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", UP))
ls.listen(64)
threading.Thread(target=up_serve, args=(ls,), daemon=True).start()

failed = 0
for name, src, raw, kind, check in cases:
    with lock:
        del got[:]
    if name == "head split in pieces":
        s = socket.create_connection(("127.0.0.1", GW))
        s.settimeout(5)
        for i in range(0, len(raw), 7):
            s.sendall(raw[i:i + 7])
            time.sleep(0.01)
        s.sendall(FOLLOW)
        data, closed = b"", False
        while True:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            data += d
        s.close()
    else:
        data, closed = exchange(raw)
    time.sleep(0.05 if kind != "good" else 0)
    with lock:
        seen = list(got)
    st = statuses(data)
    why = None
    if not closed:
        why = "connection not closed"
    elif kind == "bad":
        if st != [400]:
            why = "statuses %r, want [400]" % st
        elif b'"code":"bad_request"' not in data:
            why = "no bad_request JSON body"
        elif seen:
            why = "upstream received %r" % [g[1] for g in seen]
    elif kind == "drop":
        if st or seen:
            why = "statuses %r, upstream %r" % (st, [g[1] for g in seen])
    else:
        paths = [g[1].split(b" ")[1].rsplit(b"/", 1)[-1] for g in seen]
        if st != [200, 200]:
            why = "statuses %r, want [200, 200]" % st
        elif paths != [b"case", b"follow"]:
            why = "upstream received %r" % [g[1] for g in seen]
        elif check is not None and not check(seen[0][2], seen[0][3]):
            why = "upstream saw %r %r" % (seen[0][2], seen[0][3])
    if why:
        failed += 1
        print("not ok - %s (%s): %s: %r" % (name, src, why, data[:300]))
    else:
        print("ok - %s (%s)" % (name, src))
print("# %d cases, %d failed" % (len(cases), failed))
sys.exit(1 if failed else 0)
