#!/usr/bin/env python3
# tests/throttle_load.py: load and checks for the throttling black-box tests.
#
#   run  URL... --conns N --duration S --max M [--rate R] [--header H:V]
#        [--xff-distinct A.B.C.D] [--start-at MS] [--kill PID@MS] --out FILE
#       N keep-alive HTTP/1.1 connections (asyncio streams) send GETs
#       round-robin over the URLs (one host:port) until S seconds pass or M
#       requests were sent; R paces them to R requests/s in all.  Every
#       answer becomes a JSON line in FILE: s (status, 0 for an error), t
#       (X-Mgw-Throttle-Time), rem, reset, ra, lim, rl (RateLimit), rlp
#       (RateLimit-Policy), u (URL index), c (connection), sent and recv
#       (client wall clock, ms), err.  --kill sends SIGKILL to PID when
#       the wall clock reaches MS (epoch), timed by the event loop rather
#       than by a shell that the flood slows down.  Prints one summary
#       line.
#   check ALGO FILE --limit N --per MS [--burst B] [--url-index I]
#        [--min-full K] [--allow-errors]
#       What the guarantees of plugins/throttle.h say about the 200s of
#       one key under a flood, counted from FILE; exit 1 on a violation.
#   seq  URL --algo ALGO --limit N --per MS [--burst B] --duration S
#        [--probes K] [--header H:V]
#       One client on one connection: a paced pattern of bursts and pauses
#       for S seconds, every decision and quota header checked against a
#       reference model of the algorithm; then K Retry-After probes: after
#       a 429 at gateway time t with Retry-After s, a request at
#       t + (s - 1) s is decided as the model says (refused, in practice),
#       and one at t + s s is admitted.
#
# Every loop is bounded in count and time.  Times are the gateway's
# X-Mgw-Throttle-Time (mgwd with MGW_DEBUG_HOOKS=1): the key's clock at
# the decision, on CLOCK_REALTIME like time.time() here.
import argparse, asyncio, http.client, json, os, random, signal, sys, time
from urllib.parse import urlsplit


def now_ms():
    return time.time() * 1000.0


def wait_wall(ms, limit=30.0):
    """Poll the wall clock until it reaches ms (epoch), at most limit s."""
    end = time.monotonic() + limit
    while now_ms() < ms and time.monotonic() < end:
        left = (ms - now_ms()) / 1000.0
        time.sleep(min(max(left, 0.0005), 0.05))


def ceil_div(a, b):
    return -(-a // b)


def hdr_int(h, name):
    v = h.get(name)
    if v is None:
        return None
    try:
        return int(v)
    except ValueError:
        return None


def record(status, h, **kw):
    r = {"s": status, "t": hdr_int(h, "x-mgw-throttle-time"),
         "rem": hdr_int(h, "x-ratelimit-remaining"),
         "reset": hdr_int(h, "x-ratelimit-reset"),
         "ra": hdr_int(h, "retry-after"),
         "lim": hdr_int(h, "x-ratelimit-limit"),
         "rl": h.get("ratelimit"), "rlp": h.get("ratelimit-policy")}
    r.update(kw)
    return r


# --- run: the flood -------------------------------------------------------

async def read_response(reader):
    line = await reader.readline()
    if not line:
        raise ConnectionError("closed before the status line")
    parts = line.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ConnectionError("bad status line %r" % line[:80])
    status = int(parts[1])
    h = {}
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("closed in the head")
        if line in (b"\r\n", b"\n"):
            break
        k, _, v = line.decode("latin-1").partition(":")
        h[k.strip().lower()] = v.strip()
    if "chunked" in h.get("transfer-encoding", "").lower():
        while True:
            size = int((await reader.readline()).split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                break
            await reader.readexactly(size + 2)
    else:
        n = int(h.get("content-length", "0") or 0)
        if n:
            await reader.readexactly(n)
    return status, h


async def run_conn(cid, a, st, out):
    u0 = urlsplit(a.url[0])
    host, port = u0.hostname, u0.port or 80
    paths = []
    for url in a.url:
        u = urlsplit(url)
        paths.append((u.path or "/") + ("?" + u.query if u.query else ""))
    extra = "".join("%s\r\n" % x for x in a.header)
    reader = writer = None
    interval = a.conns / a.rate if a.rate > 0 else 0.0
    nxt = time.monotonic() + (random.random() * interval if interval else 0)
    while True:
        if time.monotonic() >= st["end"] or st["n"] >= a.max:
            break
        if interval:
            d = nxt - time.monotonic()
            if d > 0:
                await asyncio.sleep(d)
            nxt = max(nxt + interval, time.monotonic() - interval)
            if time.monotonic() >= st["end"]:
                break
        k = st["n"]
        st["n"] += 1
        ui = k % len(paths)
        xff = ""
        if a.xff_distinct:
            b = [int(x) for x in a.xff_distinct.split(".")]
            v = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) + k
            xff = "X-Forwarded-For: %d.%d.%d.%d\r\n" % (
                (v >> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255)
        req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s%s\r\n" %
               (paths[ui], host, port, extra, xff)).encode()
        sent = now_ms()
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), 10)
            writer.write(req)
            status, h = await asyncio.wait_for(read_response(reader),
                                               a.timeout)
            out.append(record(status, h, u=ui, c=cid, sent=round(sent),
                              recv=round(now_ms())))
            if h.get("connection", "").lower() == "close":
                writer.close()
                writer = None
        except (OSError, ConnectionError, asyncio.TimeoutError,
                asyncio.IncompleteReadError, ValueError) as e:
            out.append({"s": 0, "err": repr(e)[:120], "u": ui, "c": cid,
                        "sent": round(sent), "recv": round(now_ms())})
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


async def sleep_until(ms):
    while now_ms() < ms:
        await asyncio.sleep(min(0.05, max(0.0005, (ms - now_ms()) / 1e3)))


async def kill_at(spec, st, killed):
    pid, _, ms = spec.partition("@")
    await sleep_until(float(ms))
    if time.monotonic() < st["end"]:
        os.kill(int(pid), signal.SIGKILL)
        killed.append("%s@%+dms" % (pid, now_ms() - float(ms)))


async def run_all(a, killed):
    out = []
    if a.start_at:
        await sleep_until(a.start_at)
    st = {"n": 0, "end": time.monotonic() + a.duration}
    await asyncio.gather(*(run_conn(i, a, st, out) for i in range(a.conns)),
                         *(kill_at(k, st, killed) for k in a.kill))
    return out


def cmd_run(a):
    if a.conns < 1 or a.duration <= 0 or a.max < 1:
        sys.exit("run: bad --conns, --duration or --max")
    killed = []
    out = asyncio.run(run_all(a, killed))
    with open(a.out, "w") as f:
        for r in out:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
    cnt = {}
    for r in out:
        cnt[r["s"]] = cnt.get(r["s"], 0) + 1
    print("sent=%d ok=%d throttled=%d errors=%d other=%d%s" % (
        len(out), cnt.get(200, 0), cnt.get(429, 0), cnt.get(0, 0),
        len(out) - cnt.get(200, 0) - cnt.get(429, 0) - cnt.get(0, 0),
        "".join(" killed=" + k for k in killed)))


# --- check: bounds under a flood -----------------------------------------

def load(path, ui):
    rs = []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if ui is None or r.get("u") == ui:
                rs.append(r)
    return rs


class Bad(Exception):
    pass


def check_common(a, rs):
    errs = [r for r in rs if r["s"] == 0]
    other = [r for r in rs if r["s"] not in (0, 200, 429)]
    if other:
        raise Bad("unexpected statuses: %s" % other[:3])
    if errs and not a.allow_errors:
        raise Bad("%d requests failed: %s" % (len(errs), errs[:3]))
    for r in rs:
        if r["s"] in (200, 429) and r["t"] is None:
            raise Bad("no X-Mgw-Throttle-Time (MGW_DEBUG_HOOKS=1?): %s" % r)
        if r["s"] == 429 and (r["ra"] is None or r["ra"] < 1):
            raise Bad("429 without a positive Retry-After: %s" % r)
        if r["s"] in (200, 429) and r["lim"] != a.limit:
            raise Bad("X-RateLimit-Limit %s, want %d" % (r["lim"], a.limit))
    ok = sorted(r["t"] for r in rs if r["s"] == 200)
    if not ok:
        raise Bad("nothing admitted")
    if not any(r["s"] == 429 for r in rs):
        raise Bad("nothing refused: no overload")
    return ok, errs


def check_fixed(a, rs):
    ok, errs = check_common(a, rs)
    P, N = a.per, a.limit
    wins = {}
    for r in rs:
        if r["s"] in (200, 429):
            wins.setdefault(r["t"] // P, []).append(r)
    full = 0
    for w in sorted(wins):
        g = wins[w]
        adm = [r for r in g if r["s"] == 200]
        den = [r for r in g if r["s"] == 429]
        if len(adm) > N:
            raise Bad("window %d: %d admitted > %d" % (w * P, len(adm), N))
        if den and len(adm) != N:
            raise Bad("window %d: refused %d while only %d of %d admitted"
                      % (w * P, len(den), len(adm), N))
        if den:
            full += 1
        rems = sorted(r["rem"] for r in adm)
        if len(rems) != len(set(rems)) or any(x < 0 or x >= N for x in rems):
            raise Bad("window %d: X-RateLimit-Remaining %s" % (w * P, rems))
        if den and rems != list(range(N)):
            raise Bad("window %d: remaining %s, not %d..0 once each"
                      % (w * P, rems, N - 1))
        end = (w + 1) * P
        for r in g:
            if r["reset"] != ceil_div(end, 1000):
                raise Bad("window %d: X-RateLimit-Reset %s, window end %d"
                          % (w * P, r["reset"], end))
            if r["s"] == 429:
                if r["ra"] != ceil_div(end - r["t"], 1000) or r["rem"] != 0:
                    raise Bad("429 at %d: Retry-After %s, remaining %s; "
                              "window end %d" % (r["t"], r["ra"], r["rem"],
                                                 end))
            if not r["rl"] or ";r=%d;" % r["rem"] not in r["rl"]:
                raise Bad("RateLimit %r does not match remaining %s"
                          % (r["rl"], r["rem"]))
    if full < a.min_full:
        raise Bad("only %d exhausted windows, want %d" % (full, a.min_full))
    return ("%d windows of %d ms, %d exhausted with exactly %d admitted "
            "each; remaining %d..0 once per window; reset = window end; "
            "%d refused; %d errors" % (len(wins), P, full, N, N - 1,
                                       sum(r["s"] == 429 for r in rs),
                                       len(errs)))


def closeness(a, rs, ok, rate_ms):
    """Hammered from the first admission to the last answer, a key
    admits close to its rate: refused requests took nothing."""
    span = max(r["t"] for r in rs if r["s"] in (200, 429)) - ok[0]
    want = span * rate_ms
    if span < 2 * a.per:
        raise Bad("overload lasted only %d ms" % span)
    # Refused requests that counted would leave next to nothing; a
    # stalled gateway or client loses a little.
    if len(ok) < 0.75 * want:
        raise Bad("under overload only %d admitted in %d ms, want about %.0f"
                  % (len(ok), span, want))
    return span, want


def check_log(a, rs):
    ok, errs = check_common(a, rs)
    P, N = a.per, a.limit
    j = 0
    most = 0
    for i in range(len(ok)):
        while ok[j] <= ok[i] - P:
            j += 1
        most = max(most, i - j + 1)
        if i - j + 1 > N:
            raise Bad("%d admitted in (%d, %d], over %d"
                      % (i - j + 1, ok[i] - P, ok[i], N))
    span, want = closeness(a, rs, ok, N / P)
    return ("%d admitted in %d ms of overload (rate: %.0f); at most %d in "
            "any %d ms; %d refused; %d errors"
            % (len(ok), span, want, most, P, sum(r["s"] == 429 for r in rs),
               len(errs)))


def check_swindow(a, rs):
    ok, errs = check_common(a, rs)
    P, N = a.per, a.limit
    wins = {}
    for t in ok:
        wins.setdefault(t // P, []).append(t)
    checked = {}
    for w in sorted(wins):
        g = sorted(wins[w])
        if len(g) > N:
            raise Bad("window %d: %d admitted > %d" % (w * P, len(g), N))
        prev = len(wins.get(w - 1, []))
        for i, t in enumerate(g):
            e = t - w * P
            # The i-th admission saw cur = i and needed this.
            if prev * (P - e) + i * P >= N * P:
                raise Bad("window %d: admission %d at +%d ms with %d in the "
                          "window before" % (w * P, i + 1, e, prev))
        if prev == N:
            for f in (0.25, 0.5, 0.75):
                n = sum(1 for t in g if t - w * P < f * P)
                if n > ceil_div(int(N * f * 1000), 1000):
                    raise Bad("window %d: %d admitted by f=%.2f > ceil(%g)"
                              % (w * P, n, f, N * f))
                checked.setdefault(f, []).append(n)
    if not checked:
        raise Bad("no window followed a full one")
    span, want = closeness(a, rs, ok, N / P)
    return ("%d admitted in %d ms of overload (rate: %.0f); every window "
            "<= %d; after a full window "
            "admitted by f=0.25/0.5/0.75: %s (bounds %d/%d/%d); %d refused; "
            "%d errors" % (len(ok), span, want, N,
                           "/".join(str(max(v)) for _, v in
                                    sorted(checked.items())),
                           ceil_div(N, 4), ceil_div(N, 2),
                           ceil_div(3 * N, 4),
                           sum(r["s"] == 429 for r in rs), len(errs)))


def check_bucket(a, rs):
    ok, errs = check_common(a, rs)
    P, N = a.per, a.limit
    B = a.burst or N
    worst = None
    for i in range(len(ok)):
        for j in range(i, len(ok)):
            n = j - i + 1
            cap = B + N * (ok[j] - ok[i]) / P
            if n > cap:
                raise Bad("%d admitted in [%d, %d] (%d ms) > %g"
                          % (n, ok[i], ok[j], ok[j] - ok[i], cap))
            if worst is None or n - cap > worst[0]:
                worst = (n - cap, n, ok[j] - ok[i])
    span, want = closeness(a, rs, ok, N / P)
    return ("%d admitted in %d ms of overload (rate: %.0f); in every span t"
            " admitted <= %d + %d*t/%d (tightest: %d in %d ms); %d refused; "
            "%d errors" % (len(ok), span, want, B, N, P, worst[1], worst[2],
               sum(r["s"] == 429 for r in rs), len(errs)))


def cmd_check(a):
    rs = load(a.file, a.url_index)
    f = {"fixed_window": check_fixed, "sliding_log": check_log,
         "sliding_window": check_swindow, "token_bucket": check_bucket}[a.algo]
    try:
        print(f(a, rs))
    except Bad as e:
        print("violation: %s" % e)
        sys.exit(1)


# --- seq: one client against a reference model --------------------------

class Model:
    """The algorithms of plugins/throttle.h, written again from their text."""

    def __init__(self, algo, n, per, burst):
        self.algo, self.n, self.per = algo, n, per
        self.b = (burst or n) if algo == "token_bucket" else n
        self.T = ceil_div(per * 1000, n)        # us per token
        self.adm = []
        self.tat = 0

    def counts(self, t):
        w = t - t % self.per
        c = sum(1 for x in self.adm if w <= x)
        p = sum(1 for x in self.adm if w - self.per <= x < w)
        return w, c, p

    def admits(self, t, extra=0):
        """Would a request at t be admitted after extra more at t?"""
        N, P = self.n, self.per
        if self.algo == "fixed_window":
            return self.counts(t)[1] + extra < N
        if self.algo == "sliding_log":
            return sum(1 for x in self.adm if x > t - P) + extra < N
        if self.algo == "sliding_window":
            w, c, p = self.counts(t)
            c += extra
            return c < N and p * (P - (t - w)) + c * P < N * P
        tat = self.tat
        for _ in range(extra):
            tat = max(tat, t * 1000) + self.T
        return max(tat, t * 1000) - t * 1000 <= (self.b - 1) * self.T

    def take(self, t):
        self.adm.append(t)
        self.tat = max(self.tat, t * 1000) + self.T

    def remaining(self, t):
        k = 0
        while k <= self.b + self.n and self.admits(t, k):
            k += 1
        return k

    def retry(self, t):
        """ms from t until a request would be admitted (no other traffic)."""
        x = t
        while not self.admits(x):
            x += 1
            if x > t + 3 * self.per + 10:
                raise Bad("model: never admitted after %d" % t)
        return x - t

    def reset(self, t):
        """Unix seconds of X-RateLimit-Reset, or None: not modelled."""
        N, P = self.n, self.per
        if self.algo == "fixed_window":
            return ceil_div(t - t % P + P, 1000)
        if self.algo == "sliding_log":
            live = [x for x in self.adm if x > t - P]
            return ceil_div((live[-N:][0] + P) if live else t, 1000)
        if self.algo == "sliding_window":
            w, c, p = self.counts(t)
            return ceil_div(w + 2 * P if c else w + P if p else t, 1000)
        return None


def seq_request(conn, path, hdrs):
    sent = now_ms()
    conn.request("GET", path, headers=hdrs)
    resp = conn.getresponse()
    resp.read()
    h = {k.lower(): v for k, v in resp.getheaders()}
    return record(resp.status, h, sent=round(sent), recv=round(now_ms()))


def seq_decide(m, r, what):
    """Check one sequential decision against the model, then apply it."""
    t = r["t"]
    if r["s"] not in (200, 429) or t is None:
        raise Bad("%s: status %s, time %s" % (what, r["s"], t))
    if t < m.last:
        raise Bad("%s: gateway time went back %d -> %d" % (what, m.last, t))
    m.last = t
    want = m.admits(t)
    if (r["s"] == 200) != want:
        raise Bad("%s at %d: got %d, the model says %s (admitted before: "
                  "%s)" % (what, t, r["s"], 200 if want else 429,
                           [x - t for x in m.adm[-m.n - 2:]]))
    if r["s"] == 429:
        ra = ceil_div(m.retry(t), 1000)
        if r["ra"] != ra or r["rem"] != 0:
            raise Bad("%s 429 at %d: Retry-After %s remaining %s, want %d "
                      "and 0" % (what, t, r["ra"], r["rem"], ra))
    else:
        m.take(t)
        if r["rem"] != m.remaining(t):
            raise Bad("%s at %d: remaining %s, model %d"
                      % (what, t, r["rem"], m.remaining(t)))
    reset = m.reset(t)
    if reset is not None and r["reset"] != reset:
        raise Bad("%s at %d: X-RateLimit-Reset %s, model %d"
                  % (what, t, r["reset"], reset))
    if r["s"] == 429 and r["reset"] * 1000 < t + m.retry(t):
        raise Bad("%s at %d: X-RateLimit-Reset %s before Retry-After"
                  % (what, t, r["reset"]))
    if not r["rl"] or ";r=%d;" % r["rem"] not in r["rl"]:
        raise Bad("%s: RateLimit %r, remaining %s" % (what, r["rl"],
                                                      r["rem"]))


def fresh_quota(m):
    """Wait (bounded) for a whole quota early in a window, so that the
    burst that follows is refused with a Retry-After of more than 1 s
    (but for a token bucket, whose next token is never far)."""
    end = time.monotonic() + 3 * m.per / 1000.0 + 2
    full = m.remaining(round(now_ms()))
    while time.monotonic() < end:
        t = round(now_ms())
        if m.remaining(t) >= m.b and (m.algo in ("sliding_log",
                                                 "token_bucket") or
                                      t % m.per < 100):
            return
        time.sleep(0.002)
    raise Bad("no whole quota within %d ms (have %d)" % (3 * m.per, full))


def cmd_seq(a):
    u = urlsplit(a.url)
    path = (u.path or "/") + ("?" + u.query if u.query else "")
    hdrs = dict((x.split(":", 1)[0].strip(), x.split(":", 1)[1].strip())
                for x in a.header)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    m = Model(a.algo, a.limit, a.per, a.burst)
    m.last = 0
    rnd = random.Random(a.seed)
    n = n200 = n429 = 0
    try:
        # Bursts of 1..N+2 back to back, then a pause of up to a period.
        end = time.monotonic() + a.duration
        while time.monotonic() < end and n < 2000:
            for _ in range(rnd.randint(1, a.limit + 2)):
                r = seq_request(conn, path, hdrs)
                seq_decide(m, r, "request %d" % n)
                n += 1
                n200 += r["s"] == 200
                n429 += r["s"] == 429
            time.sleep(rnd.random() * a.per / 1000.0 * 0.6)
        if n200 == 0 or n429 == 0:
            raise Bad("pattern: %d admitted, %d refused" % (n200, n429))
        early = []
        for k in range(a.probes):
            if k == 0:
                fresh_quota(m)
            for _ in range(3 * a.limit + 5):
                r = seq_request(conn, path, hdrs)
                seq_decide(m, r, "probe %d fill" % k)
                if r["s"] == 429:
                    break
            else:
                raise Bad("probe %d: never refused" % k)
            t, ra = r["t"], r["ra"]
            need = m.retry(t)
            # Retry-After is the exact wait rounded up to a second.
            if not (ra - 1) * 1000 < need <= ra * 1000:
                raise Bad("probe %d: Retry-After %d for a wait of %d ms"
                          % (k, ra, need))
            # A second less than advised: still refused unless the gateway
            # only saw it after the exact wait.
            wait_wall(t + (ra - 1) * 1000 + 1)
            r1 = seq_request(conn, path, hdrs)
            seq_decide(m, r1, "probe %d early" % k)
            if r1["t"] < t + need and r1["s"] != 429:
                raise Bad("probe %d: admitted before the wait" % k)
            early.append("%s@+%dms" % (r1["s"], r1["t"] - t))
            if r1["s"] == 200:
                continue
            wait_wall(t + ra * 1000)
            r2 = seq_request(conn, path, hdrs)
            seq_decide(m, r2, "probe %d on time" % k)
            if r2["s"] != 200:
                raise Bad("probe %d: refused at +%d ms after Retry-After %d"
                          % (k, r2["t"] - t, ra))
            early.append("200@+%dms(ra=%d)" % (r2["t"] - t, ra))
    except Bad as e:
        print("violation: %s" % e)
        sys.exit(1)
    print("%d requests (%d admitted, %d refused) each decided as the model "
          "says, with its remaining/reset/Retry-After; probes: %s"
          % (n, n200, n429, " ".join(early)))


def main():
    ap = argparse.ArgumentParser()
    sp = ap.add_subparsers(dest="cmd", required=True)
    r = sp.add_parser("run")
    r.add_argument("url", nargs="+")
    r.add_argument("--conns", type=int, default=50)
    r.add_argument("--duration", type=float, required=True)
    r.add_argument("--max", type=int, required=True)
    r.add_argument("--rate", type=float, default=0)
    r.add_argument("--timeout", type=float, default=10)
    r.add_argument("--header", action="append", default=[])
    r.add_argument("--xff-distinct", default=None)
    r.add_argument("--start-at", type=float, default=0)
    r.add_argument("--kill", action="append", default=[])
    r.add_argument("--out", required=True)
    c = sp.add_parser("check")
    c.add_argument("algo", choices=["fixed_window", "sliding_log",
                                    "sliding_window", "token_bucket"])
    c.add_argument("file")
    c.add_argument("--limit", type=int, required=True)
    c.add_argument("--per", type=int, required=True)
    c.add_argument("--burst", type=int, default=0)
    c.add_argument("--url-index", type=int, default=None)
    c.add_argument("--min-full", type=int, default=3)
    c.add_argument("--allow-errors", action="store_true")
    s = sp.add_parser("seq")
    s.add_argument("url")
    s.add_argument("--algo", required=True)
    s.add_argument("--limit", type=int, required=True)
    s.add_argument("--per", type=int, required=True)
    s.add_argument("--burst", type=int, default=0)
    s.add_argument("--duration", type=float, required=True)
    s.add_argument("--probes", type=int, default=2)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--header", action="append", default=[])
    a = ap.parse_args()
    {"run": cmd_run, "check": cmd_check, "seq": cmd_seq}[a.cmd](a)


if __name__ == "__main__":
    main()
