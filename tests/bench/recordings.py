#!/usr/bin/python3
"""
tests/bench/recordings.py — `muxgate recordings` over 10,000 recordings.

    make muxgate && sudo /usr/bin/python3 tests/bench/recordings.py [--runs N]

Writes BENCH_RECORDINGS (10,000) recordings as the gateway writes them,
RECORDINGS/IDENTITY/YYYYMMDD-HHMMSS-ATTACHID.cast, into a fresh
root-owned 0700 directory /var/lib/mgt-bench-recordings-<pid>-XXXX:

  - 40 identities, 12 hosts, 5 tmux users, 60 session names, a year of
    start times, attach and watch;
  - each plain recording has the header record.c writes and the events
    of a short attach: tmux drawing the whole screen, keystrokes and
    their echo, a resize, tmux's reset at the end, 4-7 KB in all; one in a
    hundred has a long session behind it (512 KiB of output), so that a
    listing that read whole files would show;
  - one in ten is a sealed-style file (NAME.sealed): its first line the
    {"muxgate_sealed":2,"cast":HEADER,...} object, then binary frames;
  - one in a thousand ends with an event cut short, as a killed writer
    leaves it.

Then times, interleaved round after round (one warm-up round not
counted; the files are in the page cache, as on a gateway that has just
written them):

  (a) muxgate recordings --dir DIR
  (b) muxgate recordings --dir DIR --json
  (c) muxgate recordings --dir DIR --identity ID --host H --since 90d

and reports the median (min-max) of each.  Every answer is checked: exit
0, one row (or JSON object) per recording, (c) exactly the recordings
the bench knows match.  Target: each median under 1 s.

Everything is removed at the end, also on Ctrl-C or SIGTERM, and
leftovers of a killed run at the start.  It takes the e2e lock
(/run/lock/mgt-e2e.lock) while measuring, so that an e2e run does not
share the cores with it (--no-lock: don't).  Exit 0 when the target is
met, 1 when it is missed or an answer is wrong, 2 when it cannot run.
"""
import argparse
import base64
import fcntl
import glob
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True     # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MUXGATE = os.path.abspath(os.environ.get("MUXGATE_BIN",
                                         os.path.join(REPO, "muxgate")))
PREFIX = "mgt-bench-recordings-%d-" % os.getpid()
LOCK = "/run/lock/mgt-e2e.lock"
TARGET = 1.0            # seconds, for each median
DAY = 86400

SCREEN = ("\x1b[?1049h\x1b[22;0;0t\x1b[?1h\x1b=\x1b[H\x1b[2J\x1b[?12l"
          "\x1b[?25h\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1005l"
          "\x1b(B\x1b[m\x1b[1;1H\x1b[1;24r\x1b[H$ \x1b[K\r\n\x1b[K"
          "\x1b[30m\x1b[42m\r\n[%s] 0:sh*  \"bastion\" 20:24 23-Nov-26"
          "\x1b(B\x1b[m\x1b[?12l\x1b[?25h\x1b[1;3H")
RESET = ("\x1b[1;24r\x1b(B\x1b[m\x1b[?1l\x1b>\x1b[H\x1b[2J\x1b[?12l\x1b[?25h"
         "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1005l\x1b[?7727l"
         "\x1b[?1004l\x1b[?1049l\x1b[23;0;0t[detached (from session %s)]\r\n")


def log(msg):
    print("recordings: " + msg, file=sys.stderr, flush=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def cleanup_leftovers():
    for d in glob.glob("/var/lib/mgt-bench-recordings-*"):
        m = re.match(r"/var/lib/mgt-bench-recordings-(\d+)-[^/]+$", d)
        if m and not os.path.islink(d) and os.path.isdir(d) and \
                int(m.group(1)) != os.getpid() and \
                not pid_alive(int(m.group(1))):
            log("removing %s, left by a killed run" % d)
            shutil.rmtree(d, ignore_errors=True)


def ev(t, kind, data):
    # As record.c writes them: six decimals, JSON string data.
    return "[%.6f, %s, %s]\n" % (t, json.dumps(kind), json.dumps(data))


class Corpus:
    def __init__(self, root, n, rng):
        self.root = root
        self.n = n
        self.rng = rng
        self.identities = ["user%02d" % i for i in range(40)]
        self.hosts = ["bastion"] + ["web%02d" % i for i in range(11)]
        self.users = ["deploy", "build", "ops", "app", "root"]
        self.sessions = ["s%02d" % i for i in range(60)]
        self.headers = []       # (identity, host, start) of each recording
        self.bytes = 0
        self.sealed = 0

    def header(self, start, identity, host, user, session, mode, aid):
        return json.dumps({
            "version": 2, "width": 120, "height": 40, "timestamp": start,
            "env": {"TERM": "xterm-256color"},
            "title": "%s@%s:%s" % (user, host, session),
            "muxgate": {
                "attach_id": aid, "identity": identity,
                "key": "SHA256:" + base64.b64encode(
                    self.rng.randbytes(32)).decode().rstrip("="),
                "host": host, "tmux_user": user, "session": session,
                "mode": mode, "client": "198.51.100.%d %d" % (
                    self.rng.randrange(1, 255),
                    self.rng.randrange(1024, 65535))}},
            separators=(",", ":"))

    def events(self, session, mode, big, cut):
        t = self.rng.uniform(0.005, 0.02)
        # tmux draws the whole 120x40 screen when the client attaches
        words = ("make", "deploy", "ok", "tail", "-f", "/var/log/app.log",
                 "GET", "/api/v1/items", "200", "12ms", "warning:", "retry")
        screen = "".join(
            "\x1b[%dH%s\x1b[K" % (row, " ".join(
                self.rng.choice(words) for _ in range(self.rng.randrange(
                    4, 16)))[:118]) for row in range(1, 40))
        out = [ev(t, "o", SCREEN % session + screen)]
        for c in "ls -l /var/log\r":
            t += self.rng.uniform(0.05, 0.3)
            if mode == "attach":
                out.append(ev(t, "i", c))
            out.append(ev(t + 0.001, "o", c if c != "\r" else "\r\n"))
        t += 0.01
        listing = "".join("-rw-r----- 1 root adm %6d Nov 23 20:%02d log.%d\r\n"
                          % (self.rng.randrange(99999), i % 60, i)
                          for i in range(12))
        out.append(ev(t, "o", listing))
        if big:
            chunk = "x" * 4000 + "\r\n"
            for _ in range(128):
                t += self.rng.uniform(0.01, 2)
                out.append(ev(t, "o", chunk))
        t += self.rng.uniform(0.5, 5)
        out.append(ev(t, "r", "100x30"))
        t += self.rng.uniform(1, 3600)
        out.append(ev(t, "o", RESET % session))
        if cut:
            out.append(ev(t + 0.5, "o", "half an event")[:12])
        return "".join(out)

    def write(self):
        now = int(time.time())
        for i in range(self.n):
            identity = self.rng.choice(self.identities)
            host = self.rng.choice(self.hosts)
            user = self.rng.choice(self.users)
            session = self.rng.choice(self.sessions)
            mode = "watch" if self.rng.random() < 0.2 else "attach"
            start = now - self.rng.randrange(365 * DAY)
            aid = "%016x" % self.rng.getrandbits(64)
            sealed = i % 10 == 9
            name = "%s-%s.%s" % (time.strftime("%Y%m%d-%H%M%S",
                                               time.gmtime(start)), aid,
                                 "sealed" if sealed else "cast")
            d = os.path.join(self.root, identity)
            if not os.path.isdir(d):
                os.mkdir(d, 0o700)
            h = self.header(start, identity, host, user, session, mode, aid)
            if sealed:
                first = json.dumps({"muxgate_sealed": 2,
                                    "cast": json.loads(h),
                                    "recipients": ["age1" + "q" * 58],
                                    "stream": "age-v1"},
                                   separators=(",", ":"))
                data = (first + "\n").encode() + self.rng.randbytes(
                    self.rng.randrange(1000, 8000))
                self.sealed += 1
            else:
                data = (h + "\n" + self.events(
                    session, mode, big=i % 100 == 50,
                    cut=i % 1000 == 500)).encode()
            with open(os.path.join(d, name), "xb") as f:
                f.write(data)
            os.chmod(os.path.join(d, name), 0o600)
            self.bytes += len(data)
            self.headers.append((identity, host, start))


def timed(argv):
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, cwd="/",
                       env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    return time.perf_counter() - t0, p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int,
                    default=int(os.environ.get("BENCH_RUNS", "7")))
    ap.add_argument("--count", type=int,
                    default=int(os.environ.get("BENCH_RECORDINGS", "10000")))
    ap.add_argument("--no-lock", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        log("must run as root (the scratch directory is under /var/lib)")
        return 2
    if not os.access(MUXGATE, os.X_OK):
        log("%s not built: make muxgate" % MUXGATE)
        return 2
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    base = lock = None
    try:
        cleanup_leftovers()
        base = tempfile.mkdtemp(prefix=PREFIX, dir="/var/lib")  # 0700
        root = os.path.join(base, "recordings")
        os.mkdir(root, 0o700)
        t0 = time.monotonic()
        c = Corpus(root, args.count, random.Random(20261123))
        c.write()
        log("wrote %d recordings (%d sealed), %.1f MB, in %.1fs" % (
            c.n, c.sealed, c.bytes / 1e6, time.monotonic() - t0))
        if not args.no_lock:
            lock = open(LOCK, "a")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log("waiting for %s (an e2e run)" % LOCK)
                fcntl.flock(lock, fcntl.LOCK_EX)
        return measure(args, c, root)
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        return 2
    finally:
        if lock is not None:
            lock.close()
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)


def measure(args, c, root):
    ident, host = c.identities[7], c.hosts[0]
    since = int(time.time()) - 90 * DAY
    want_c = sum(1 for i, h, s in c.headers
                 if i == ident and h == host and s >= since)
    queries = [
        ("(a) text", [MUXGATE, "recordings", "--dir", root], c.n, False),
        ("(b) --json", [MUXGATE, "recordings", "--dir", root, "--json"],
         c.n, True),
        ("(c) --identity --host --since", [
            MUXGATE, "recordings", "--dir", root, "--identity", ident,
            "--host", host, "--since", "90d"], want_c, False),
    ]
    times = {q[0]: [] for q in queries}
    failures = []
    for r in range(args.runs + 1):
        order = queries if r % 2 == 0 else list(reversed(queries))
        for label, argv, want, is_json in order:
            t, p = timed(argv)
            try:
                if is_json:
                    got = len(json.loads(p.stdout)["recordings"])
                else:
                    got = len(p.stdout.splitlines()) - (1 if want else 0)
            except (ValueError, KeyError):
                got = None
            if p.returncode != 0 or got != want or p.stderr:
                failures.append("%s: exit %d, %r rows (want %d): %r" % (
                    label, p.returncode, got, want, p.stderr[:300]))
            if r > 0:       # round 0 warms up
                times[label].append(t)
    print()
    print("muxgate recordings: %d recordings (%d sealed, %.1f MB) in %d "
          "identity directories; %d runs each after a warm-up, page cache "
          "warm" % (c.n, c.sealed, c.bytes / 1e6, len(
              os.listdir(root)), args.runs))
    print("%-32s %11s  %-22s %6s  %s" % ("query", "median", "(min-max)",
                                         "rows", "target"))
    ok = not failures
    for label, argv, want, _ in queries:
        v = times[label]
        med = statistics.median(v)
        met = med < TARGET
        ok = ok and met
        print("%-32s %8.1f ms  %-22s %6d  < %.0f ms %s" % (
            label, med * 1000, "(%.1f-%.1f ms)" % (min(v) * 1000,
                                                   max(v) * 1000),
            want, TARGET * 1000, "ok" if met else "MISSED"))
        results.add("recordings", "%s, %d recordings" % (label, c.n),
                    med * 1000, "ms", target="< %.0f ms" % (TARGET * 1000),
                    judged="value", met=met,
                    note="%d row%s" % (want, "" if want == 1 else "s"))
    print("per recording, (a): %.1f us" % (
        statistics.median(times[queries[0][0]]) * 1e6 / c.n))
    results.add("recordings", "(a) text, per recording",
                statistics.median(times[queries[0][0]]) * 1e6 / c.n, "us")
    print("load average at the end: %s" % open("/proc/loadavg").read().strip())
    for f in failures[:10]:
        print("WRONG: " + f)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
