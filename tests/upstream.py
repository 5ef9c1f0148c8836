#!/usr/bin/env python3
# tests/upstream.py PORT: a small HTTP/1.1 upstream for the black-box tests.
#   /ping                  200 "pong"
#   /echo...               200 JSON: method, path, headers, body length, sha256
#   /slow?ms=N             answers after N ms
#   /chunked?n=K&size=S    K chunks of S bytes (chunked response)
#   /close?bytes=N         N bytes, no length: ends by closing
#   /reset                 closes the socket without an answer
#   /big?bytes=N           N bytes with Content-Length, streamed
#   /status?code=N         answers with that status
#   /garbage               a response that is not HTTP, then closes
#   /truncate?bytes=N      Content-Length N, N/2 bytes, then closes
#   /bighead?bytes=N       200 with a header of N bytes
#   /inflight              200, the number of /slow requests in progress
#   /count...              200 "counted", one more hit
#   /hits                  200, the number of /count requests so far
import hashlib, json, socket, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

inflight = 0
inflight_lock = threading.Lock()
hits = 0

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass

    def setup(self):
        # Head and body go out in two writes: without this, Nagle and
        # delayed ACK hold the second back ~40 ms on a reused connection.
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def body(self):
        te = self.headers.get("Transfer-Encoding", "")
        h = hashlib.sha256(); n = 0
        if "chunked" in te.lower():
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                left = size
                while left:
                    d = self.rfile.read(min(left, 65536)); h.update(d); n += len(d); left -= len(d)
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", "0") or 0)
            while left:
                d = self.rfile.read(min(left, 65536))
                if not d: break
                h.update(d); n += len(d); left -= len(d)
        return n, h.hexdigest()

    def send(self, code, data, ctype="application/json", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items(): self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(data)

    def handle_any(self):
        global inflight, hits
        u = urlsplit(self.path); q = parse_qs(u.query); p = u.path
        n, digest = self.body()
        if p.endswith("/ping"):
            return self.send(200, b"pong", "text/plain")
        if p.endswith("/inflight"):
            return self.send(200, b"%d" % inflight, "text/plain")
        if p.endswith("/hits"):
            return self.send(200, b"%d" % hits, "text/plain")
        if "/count" in p:
            with inflight_lock: hits += 1
            return self.send(200, b"counted", "text/plain")
        if p.endswith("/slow"):
            with inflight_lock: inflight += 1
            try:
                time.sleep(int(q.get("ms", ["1000"])[0]) / 1000.0)
            finally:
                with inflight_lock: inflight -= 1
            return self.send(200, b'{"slow":true}\n')
        if p.endswith("/chunked"):
            k = int(q.get("n", ["3"])[0]); s = int(q.get("size", ["10"])[0])
            self.send_response(200); self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
            for i in range(k):
                self.wfile.write(b"%x\r\n" % s + bytes([97 + i % 26]) * s + b"\r\n")
            self.wfile.write(b"0\r\n\r\n"); return
        if p.endswith("/close"):
            b = int(q.get("bytes", ["100"])[0])
            self.send_response(200); self.send_header("Connection", "close"); self.end_headers()
            self.wfile.write(b"x" * b); self.close_connection = True; return
        if p.endswith("/reset"):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.close_connection = True; self.connection.close(); return
        if p.endswith("/big"):
            b = int(q.get("bytes", ["1000000"])[0])
            self.send_response(200); self.send_header("Content-Length", str(b)); self.end_headers()
            chunk = b"y" * 65536
            while b > 0:
                self.wfile.write(chunk[:min(b, 65536)]); b -= 65536
            return
        if p.endswith("/garbage"):
            self.wfile.write(b"HTTP/1.1 2x0 Nonsense\r\n\r\n"); self.wfile.flush()
            self.close_connection = True; return
        if p.endswith("/truncate"):
            b = int(q.get("bytes", ["100000"])[0])
            self.send_response(200); self.send_header("Content-Length", str(b)); self.end_headers()
            self.wfile.write(b"t" * (b // 2)); self.wfile.flush()
            self.close_connection = True; return
        if p.endswith("/bighead"):
            b = int(q.get("bytes", ["100000"])[0])
            return self.send(200, b"big head\n", "text/plain", {"X-Big": "h" * b})
        if p.endswith("/status"):
            return self.send(int(q.get("code", ["200"])[0]), b'{"status":"set"}\n')
        out = {"method": self.command, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
               "body_len": n, "sha256": digest, "port": self.server.server_address[1]}
        self.send(200, (json.dumps(out) + "\n").encode())

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = handle_any

class S(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 drops connects when a gateway opens many
    # upstream connections at once, which stalls them for seconds.
    request_queue_size = 128

S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
