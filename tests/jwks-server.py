#!/usr/bin/env python3
"""tests/jwks-server.py PORT JWKS [options]: a loopback JWKS endpoint for
tests/blackbox/auth-jwks-url.sh.

  GET /count    200, the number of JWKS fetches answered so far
  GET /ping     200 "pong" (readiness)
  GET anything  the file JWKS, re-read on every request, counted

Options:
  --max-age N        send Cache-Control: max-age=N
  --max-age-file F   the same, N read from F on every request (if it exists)
  --mode-file F      read on every request if it exists: "ok" (default),
                     "500" (an error status) or "garbage" (200, not JSON)
  --cert C --key K   serve https with this certificate and key
"""
import argparse
import os
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

count = 0
count_lock = threading.Lock()


def read(path, default=None):
    try:
        with open(path, "rb") as f:
            return f.read()
    except (OSError, TypeError):
        return default


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *a):
        pass

    def answer(self, code, body, ctype="application/json", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        global count
        if self.path == "/count":
            with count_lock:
                n = count
            return self.answer(200, b"%d\n" % n, "text/plain")
        if self.path == "/ping":
            return self.answer(200, b"pong\n", "text/plain")
        with count_lock:
            count += 1
        mode = (read(args.mode_file, b"ok") or b"ok").strip()
        if mode == b"500":
            return self.answer(500, b'{"error":"down"}')
        if mode == b"garbage":
            return self.answer(200, b"<html>this is not a JWK set")
        extra = []
        age = args.max_age
        v = read(args.max_age_file)
        if v is not None and v.strip():
            age = int(v)
        if age is not None:
            extra.append(("Cache-Control", "public, max-age=%d" % age))
        body = read(args.jwks)
        if body is None:
            return self.answer(404, b'{"error":"no such file"}')
        self.answer(200, body, "application/jwk-set+json", extra)


p = argparse.ArgumentParser()
p.add_argument("port", type=int)
p.add_argument("jwks")
p.add_argument("--max-age", type=int)
p.add_argument("--max-age-file")
p.add_argument("--mode-file")
p.add_argument("--cert")
p.add_argument("--key")
args = p.parse_args()

srv = ThreadingHTTPServer(("127.0.0.1", args.port), H)
srv.daemon_threads = True
if args.cert:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
