#!/usr/bin/env python3
"""tests/introspect-server.py PORT TABLE CLIENT_ID CLIENT_SECRET [CERT KEY]

A loopback RFC 7662 token introspection endpoint for the black-box tests.

  POST /introspect   form token=...&token_type_hint=...; the client must
                     send HTTP Basic CLIENT_ID:CLIENT_SECRET, each
                     form-urlencoded first (RFC 6749 2.3.1), else 401.
                     Answers the token's entry in TABLE, or
                     {"active": false} for a token it does not know.
  GET /count         the number of introspections asked so far
  GET /last          what the last introspection sent, as JSON (the
                     form fields but the token, and the request headers)
  GET /ping          200 "pong": the server is ready

TABLE is a JSON file, read again on every request so a test can change
it while the server runs:

  {"mode": "normal" | "slow" | "500" | "garbage" | "nojson",
   "delay": SECONDS,            how long "slow" waits (default 5)
   "tokens": {"TOKEN": {...the introspection response...}, ...}}

A token's entry may hold "_mode" to misbehave for that token only.  With
CERT and KEY the server speaks https.
"""
import base64
import json
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus

PORT, TABLE, CLIENT_ID, CLIENT_SECRET = (int(sys.argv[1]), sys.argv[2],
                                         sys.argv[3], sys.argv[4])
count = 0
last = {}
lock = threading.Lock()


def table():
    try:
        with open(TABLE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def client_ok(header):
    if not header or not header.startswith("Basic "):
        return False
    try:
        raw = base64.b64decode(header[6:], validate=True).decode()
    except ValueError:
        return False
    cid, sep, secret = raw.partition(":")
    return (sep == ":" and unquote_plus(cid) == CLIENT_ID and
            unquote_plus(secret) == CLIENT_SECRET)


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, code, data, ctype="application/json", extra=None):
        if isinstance(data, str):
            data = data.encode()
        self.send_response(code)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/ping":
            self.send(200, "pong", "text/plain")
        elif self.path == "/count":
            with lock:
                n = count
            self.send(200, "%d\n" % n, "text/plain")
        elif self.path == "/last":
            with lock:
                body = json.dumps(last)
            self.send(200, body)
        else:
            self.send(404, '{"error":"not_found"}')

    def do_POST(self):
        global count, last
        n = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(n).decode("latin-1")
        form = parse_qs(body, keep_blank_values=True)
        token = form.get("token", [""])[0]
        with lock:
            count += 1
            last = {
                "path": self.path,
                "form": {k: v[0] for k, v in form.items() if k != "token"},
                "token_length": len(token),
                "headers": {k.lower(): v for k, v in self.headers.items()
                            if k.lower() != "authorization"},
            }
        t = table()
        entry = t.get("tokens", {}).get(token)
        mode = t.get("mode", "normal")
        if isinstance(entry, dict) and "_mode" in entry:
            mode = entry["_mode"]
        if mode == "slow":
            time.sleep(float(t.get("delay", 5)))
        if not client_ok(self.headers.get("Authorization")):
            self.send(401, '{"error":"invalid_client"}',
                      extra={"WWW-Authenticate": 'Basic realm="idp"'})
            return
        if mode == "500":
            self.send(500, '{"error":"server_error"}')
            return
        if mode == "garbage":
            self.send(200, "<html>this is not json</html>", "text/html")
            return
        if mode == "nojson":
            self.send(200, '{"scope": "read"}')
            return
        if not isinstance(entry, dict):
            entry = {"active": False}
        entry = {k: v for k, v in entry.items() if k != "_mode"}
        self.send(200, json.dumps(entry))


class S(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 drops SYNs when the gateway's workers
    # open their connections at once: a 1 s retransmit, not a test.
    request_queue_size = 128


srv = S(("127.0.0.1", PORT), H)
if len(sys.argv) > 6:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[5], sys.argv[6])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
