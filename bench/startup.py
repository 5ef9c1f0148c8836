#!/usr/bin/env python3
# bench/startup.py MGWD CONF PORT PATH: milliseconds from exec of `mgwd -d`
# to the first 200 proxied through it.  Polls without sleeping; bounded
# to 10 s.  Prints the number, then stops mgwd.
import os, signal, socket, subprocess, sys, time

mgwd, conf, port, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
req = ("GET %s HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n" % path).encode()
t0 = time.monotonic()
p = subprocess.Popen([mgwd, "-d", "-f", conf], stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
ms = None
while time.monotonic() - t0 < 10:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.sendall(req)
        data = s.recv(64)
        s.close()
        if data.startswith(b"HTTP/1.1 200"):
            ms = (time.monotonic() - t0) * 1000
            break
    except OSError:
        pass
p.send_signal(signal.SIGTERM)
p.wait(timeout=10)
print("%.1f" % ms if ms is not None else "timeout")
