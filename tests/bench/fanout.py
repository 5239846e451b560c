#!/usr/bin/python3
"""
tests/bench/fanout.py — muxgate's remote-host listing over real OpenSSH:
its overhead on one host, its fan-out over 50, and its deadlines.

    make muxgate && sudo /usr/bin/python3 tests/bench/fanout.py [--rounds N]

tests/hosts/testhosts.py starts 52 fake remote hosts on this machine (an
sshd per host on 127.0.0.100 and up, accounts mgt-fI-ops / mgt-fI-app,
sudoers, known_hosts): f0-f49 healthy, each with one tmux session, f50
stopped (nothing listens) and f51 hung (accepts TCP, never answers).  The
gateway account is mgt-f-gw; gateway.state is DIR/state.  muxgate is run
as `muxgate shell -f POLICY --identity bench` with SSH_ORIGINAL_COMMAND,
directly as mgt-f-gw (setuid in the child: no runuser, no PAM, no sshd in
front).  Everything is measured interleaved, round after round, and
reported as medians over the rounds:

  (a) overhead   `ls mgt-f0-app@f0 --json` through muxgate, warm (the
                 connection to f0 is shared), against the same thing by
                 hand over the same shared connection:
                 ssh -F DIR/state/ssh/config muxgate.f0 \\
                     'sudo -n -u mgt-f0-app -- tmux list-sessions'
                 target: ratio <= 1.2
  (b) fan-out    `ls --json` across the 50 healthy hosts against the sum
                 of the 50 single-host `ls USER@HOST --json` times of the
                 same round, warm and cold (cold: after `ssh -O exit` of
                 every master); target: ratio <= 0.6.  (a) and (b) run
                 with connect_timeout 30s: they measure speed, and 50
                 first handshakes at once, ssh and sshd on the same two
                 cores, need more than 5 s of them
  (c) deadlines  `ls --json` across 48 healthy + f50 + f51, warm
                 (connect_timeout 2s): must return within connect_timeout
                 + 1 s with 48 ok, 1 unreachable, 1 timeout.  Also once
                 per round cold, for information.

Every answer is checked (statuses, the session listed); a round with a
wrong answer counts as a failure.  Everything (hosts, accounts, sudoers,
sshds, masters, DIR=/var/lib/mgt-fanout-bench) is removed at the end, also
on Ctrl-C or SIGTERM, and leftovers of a killed run at the start.  It
takes the e2e lock (/run/lock/mgt-e2e.lock) while measuring so that an e2e
run does not share the two cores with it (--no-lock: don't).

Exit 0 when every target is met, 1 when one is missed or a run failed,
2 when it cannot run (or is interrupted).  Runtime 3-4 minutes with the
default 5 rounds on 2 cores, plus any wait for the lock.
"""
import argparse
import contextlib
import fcntl
import json
import os
import pwd
import shutil
import signal
import statistics
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.dont_write_bytecode = True     # no __pycache__ in the tree
sys.path.insert(0, os.path.join(REPO, "tests", "hosts"))
sys.path.insert(0, os.path.join(REPO, "tests", "bench"))
import testhosts  # noqa: E402
import results  # noqa: E402

MUXGATE = os.path.abspath(os.environ.get("MUXGATE_BIN",
                                         os.path.join(REPO, "muxgate")))
DIR = "/var/lib/mgt-fanout-bench"
PREFIX = "mgt-f"
HEALTHY = 50
DEADLINE_HEALTHY = 48
CONNECT_TIMEOUT_DL = 2          # seconds, for (c)
# (a) and (b) measure speed, not deadlines: with every host on this
# machine's cores, 50 first handshakes at once need several seconds of
# them (ssh and sshd, each some 140 ms of CPU), and a 5 s deadline would
# turn (b) cold into a test of the machine.  Deadlines are (c)'s.
CONNECT_TIMEOUT_B = "30s"
LOCK = "/run/lock/mgt-e2e.lock"


def _interrupt(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


class Bench:
    def __init__(self, args):
        self.args = args
        self.fleet = None
        self.gw = None          # pwd entry of the gateway account
        self.results = {}       # name -> list of seconds
        self.failures = []
        self.counts = {}        # (c) what -> statuses of each run

    # ---- set-up ----
    def setup(self):
        fl = testhosts.Fleet(DIR, prefix=PREFIX, addr_base=100,
                             gateway_account=True, loglevel="ERROR")
        self.fleet = fl
        t0 = time.monotonic()
        fl.up(HEALTHY, stopped=1, hung=1, connect_timeout="5s")
        self.gw = pwd.getpwnam(fl.gateway_user)
        self.bin = os.path.join(DIR, "muxgate")
        shutil.copyfile(MUXGATE, self.bin)
        os.chmod(self.bin, 0o755)
        etc = os.path.join(DIR, "etc")
        os.mkdir(etc, 0o755)
        rec = os.path.join(fl.state, "recordings")
        os.mkdir(rec, 0o700)
        os.chown(rec, self.gw.pw_uid, self.gw.pw_gid)
        idkey = os.path.join(DIR, "bench_identity")
        testhosts.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                       "bench", "-f", idkey])
        pub = open(idkey + ".pub").read().strip()
        healthy = fl.kind("ok")
        self.hosts = healthy
        self.stopped = fl.kind("stopped")[0]
        self.hung = fl.kind("hung")[0]
        self.policy_all = os.path.join(etc, "fanout.yaml")
        self.policy_dl = os.path.join(etc, "deadline.yaml")
        testhosts.write_file(self.policy_all, self.policy(
            fl, healthy, CONNECT_TIMEOUT_B, rec, pub))
        fl.connect_timeout = "%ds" % CONNECT_TIMEOUT_DL
        testhosts.write_file(self.policy_dl, self.policy(
            fl, healthy[:DEADLINE_HEALTHY] + [self.stopped, self.hung],
            fl.connect_timeout, rec, pub))
        for p in (self.policy_all, self.policy_dl):
            r = subprocess.run([self.bin, "check", "-f", p],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise testhosts.Error("policy %s: %s%s" % (p, r.stdout,
                                                          r.stderr))
        # one tmux session per healthy host, so every listing has a row
        for h in healthy:
            testhosts.run(["runuser", "-u", h.app_user, "--", "/usr/bin/tmux",
                           "new-session", "-d", "-s", "bench", "/bin/cat"])
        self.ssh_config = os.path.join(fl.state, "ssh", "config")
        log("set-up: %d hosts in %.1fs" % (len(fl.hosts),
                                           time.monotonic() - t0))

    @staticmethod
    def policy(fl, hosts, timeout, rec, pub):
        fl.connect_timeout = timeout
        return ("gateway:\n  audit: none\n  recordings: %s\n%shosts:\n%s"
                "roles:\n  bench:\n    allow:\n"
                "      - hosts: {testhosts: %s}\n"
                "        tmux_users: \"*\"\n        actions: [list]\n"
                "identities:\n  bench:\n    keys: [%s]\n"
                "    roles: [bench]\n" % (
                    json.dumps(rec), fl.gateway_yaml(2),
                    fl.policy_hosts(2, hosts=hosts), PREFIX, json.dumps(pub)))

    # ---- running things as the gateway account ----
    def _run(self, argv, env_extra=None, timeout=60):
        env = {"PATH": "/usr/bin:/bin", "HOME": self.gw.pw_dir,
               "LANG": "C.UTF-8", "USER": self.gw.pw_name,
               "LOGNAME": self.gw.pw_name}
        env.update(env_extra or {})
        t0 = time.perf_counter()
        p = subprocess.run(argv, env=env, cwd="/", user=self.gw.pw_uid,
                           group=self.gw.pw_gid, extra_groups=[],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        return time.perf_counter() - t0, p

    def muxgate(self, command, policy=None):
        return self._run([self.bin, "shell", "-f", policy or self.policy_all,
                          "--identity", "bench"],
                         {"SSH_ORIGINAL_COMMAND": command})

    def by_hand(self, h):
        return self._run(["/usr/bin/ssh", "-F", self.ssh_config,
                          "muxgate." + h.name,
                          "sudo -n -u %s -- tmux list-sessions" % h.app_user])

    def exit_masters(self):
        """`ssh -O exit` of every master, then wait until none is left."""
        # By socket: DIR/state/ssh/config is rewritten by every muxgate
        # process from its own policy, and the deadline policy lacks hosts.
        procs = []
        d = os.path.join(self.fleet.state, "ssh")
        for f in sorted(os.listdir(d)):
            if not f.startswith("cm-"):
                continue
            procs.append(subprocess.Popen(
                ["/usr/bin/ssh", "-F", "/dev/null", "-o",
                 "ControlPath=" + os.path.join(d, f), "-O", "exit",
                 "master"], user=self.gw.pw_uid,
                group=self.gw.pw_gid, extra_groups=[], cwd="/",
                env={"PATH": "/usr/bin:/bin", "HOME": self.gw.pw_dir},
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL))
        for p in procs:
            p.wait(30)
        end = time.monotonic() + 10
        while self.masters() and time.monotonic() < end:
            time.sleep(0.02)
        left = self.masters()
        if left:
            raise testhosts.Error("%d masters left after ssh -O exit" %
                                  len(left))
        time.sleep(0.3)         # let the hosts' sshds finish their side

    def masters(self):
        pre = "ssh: " + os.path.join(self.fleet.state, "ssh") + "/cm-"
        return [pid for pid, c in testhosts.processes()
                if c.startswith(pre) and "[mux]" in c]

    # ---- checks ----
    def check_single(self, what, h, t, p):
        try:
            doc = json.loads(p.stdout)
            rows = doc["hosts"]
            ok = (p.returncode == 0 and len(rows) == 1 and
                  rows[0]["host"] == h.name and rows[0]["status"] == "ok" and
                  [s["name"] for s in rows[0]["sessions"]] == ["bench"])
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            self.fail("%s %s: exit %d, %r %r" % (what, h.name, p.returncode,
                                                p.stdout[:300], p.stderr[:300]))
        return t

    def check_hand(self, h, t, p):
        if p.returncode != 0 or not p.stdout.startswith(b"bench:"):
            self.fail("by hand %s: exit %d, %r %r" % (
                h.name, p.returncode, p.stdout[:200], p.stderr[:200]))
        return t

    def statuses(self, p):
        try:
            return {(r["host"]): (r["status"], r.get("error"), len(
                r["sessions"])) for r in json.loads(p.stdout)["hosts"]}
        except (ValueError, KeyError, TypeError):
            return None

    def check_fanout(self, what, t, p):
        st = self.statuses(p)
        want = {h.name: ("ok", None, 1) for h in self.hosts}
        if p.returncode != 0 or st != want:
            bad = {k: v for k, v in (st or {}).items() if v != want.get(k)}
            self.fail("%s: exit %d, %d rows, wrong: %s %r" % (
                what, p.returncode, len(st or {}), bad, p.stderr[:300]))
        return t

    def check_deadline(self, what, t, p, strict=True):
        """STRICT: a wrong status or a late answer is a failure; else it
        is only reported (the cold case, for information)."""
        st = self.statuses(p) or {}
        counts = {}
        for s, _, _ in st.values():
            counts[s] = counts.get(s, 0) + 1
        good = (p.returncode == 0 and
                counts == {"ok": DEADLINE_HEALTHY, "unreachable": 1,
                           "timeout": 1} and
                st.get(self.stopped.name, ("",))[0] == "unreachable" and
                st.get(self.hung.name, ("",))[0] == "timeout")
        late = t >= CONNECT_TIMEOUT_DL + 1
        self.counts.setdefault(what, []).append(
            ",".join("%d %s" % (n, s) for s, n in sorted(counts.items())) +
            (" LATE" if late else ""))
        report = self.fail if strict else (lambda m: log("note: " + m))
        if not good:
            bad = {k: v for k, v in st.items() if v[0] != "ok"}
            if len(bad) > 6:
                bad = "%d hosts not ok, e.g. %s" % (
                    len(bad), sorted(bad.items())[:3])
            report("%s: exit %d, statuses %s: %s" % (what, p.returncode,
                                                    counts, bad))
        if late:
            report("%s: took %.2fs (connect_timeout %ds + 1s)" % (
                what, t, CONNECT_TIMEOUT_DL))
        return t

    def fail(self, msg):
        self.failures.append(msg)
        log("FAILED: " + msg)

    def add(self, name, t):
        self.results.setdefault(name, []).append(t)

    # ---- one round ----
    def round(self, r):
        h0 = self.hosts[0]
        pairs = self.args.pairs
        # warm: every host has its master (the previous round or the warm-up)
        for i in range(pairs):
            order = (0, 1) if (i + r) % 2 == 0 else (1, 0)
            for k in order:
                if k == 0:
                    t, p = self.muxgate("ls %s@%s --json" % (h0.app_user,
                                                             h0.name))
                    self.add("a_muxgate", self.check_single("a", h0, t, p))
                else:
                    t, p = self.by_hand(h0)
                    self.add("a_hand", self.check_hand(h0, t, p))
        total = 0.0
        for h in self.hosts:
            t, p = self.muxgate("ls %s@%s --json" % (h.app_user, h.name))
            total += self.check_single("b warm single", h, t, p)
        self.add("b_warm_sum", total)
        t, p = self.muxgate("ls --json")
        self.add("b_warm_fanout", self.check_fanout("b warm fan-out", t, p))
        t, p = self.muxgate("ls --json", self.policy_dl)
        self.add("c_warm", self.check_deadline("c warm", t, p))
        # cold
        self.exit_masters()
        total = 0.0
        for h in self.hosts:
            t, p = self.muxgate("ls %s@%s --json" % (h.app_user, h.name))
            total += self.check_single("b cold single", h, t, p)
        self.add("b_cold_sum", total)
        self.exit_masters()
        t, p = self.muxgate("ls --json")
        self.add("b_cold_fanout", self.check_fanout("b cold fan-out", t, p))
        self.exit_masters()
        t, p = self.muxgate("ls --json", self.policy_dl)
        self.add("c_cold", self.check_deadline("c cold", t, p, strict=False))
        # warm again for the next round (and for (c) next time)
        t, p = self.muxgate("ls --json")
        self.check_fanout("warm-up", t, p)
        log("round %d: a %.1f/%.1f ms, b warm %.2f/%.2f s, b cold %.2f/%.2f "
            "s, c %.2f s (cold %.2f s)" % (
                r + 1, 1000 * self.results["a_muxgate"][-1],
                1000 * self.results["a_hand"][-1],
                self.results["b_warm_fanout"][-1],
                self.results["b_warm_sum"][-1],
                self.results["b_cold_fanout"][-1],
                self.results["b_cold_sum"][-1], self.results["c_warm"][-1],
                self.results["c_cold"][-1]))

    def warm_up(self):
        for _ in range(2):
            t, p = self.muxgate("ls --json")
            self.check_fanout("warm-up", t, p)
            t, p = self.by_hand(self.hosts[0])
            self.check_hand(self.hosts[0], t, p)

    # ---- report ----
    def report(self):
        med = {k: statistics.median(v) for k, v in self.results.items()}
        rng = {k: (min(v), max(v), len(v)) for k, v in self.results.items()}
        rows = []

        def row(label, key, base_label, base_key=None, base=None, target=None,
                unit="ms"):
            v = med[key]
            b = med[base_key] if base_key else base
            ratio = v / b
            ok = ratio <= target if target is not None else None
            rows.append((label, v, rng[key], base_label, b,
                         rng.get(base_key), ratio, target, ok, unit))
            return ok

        verdicts = [
            row("(a) ls 1 host via muxgate, warm", "a_muxgate",
                "ssh+sudo+tmux by hand, same master", "a_hand",
                target=1.2),
            row("(b) ls 50 hosts, warm", "b_warm_fanout",
                "sum of 50 single-host ls, warm", "b_warm_sum",
                target=0.6, unit="s"),
            row("(b) ls 50 hosts, cold", "b_cold_fanout",
                "sum of 50 single-host ls, cold", "b_cold_sum",
                target=0.6, unit="s"),
            row("(c) ls 48+stopped+hung, warm", "c_warm",
                "connect_timeout + 1 s", base=CONNECT_TIMEOUT_DL + 1.0,
                target=1.0, unit="s"),
            row("(c) same, cold (information)", "c_cold",
                "connect_timeout + 1 s", base=CONNECT_TIMEOUT_DL + 1.0,
                unit="s"),
        ]
        # (c) is a deadline: every run must make it, not only the median
        worst = max(self.results["c_warm"])
        if worst >= CONNECT_TIMEOUT_DL + 1:
            verdicts[3] = False

        def fmt(v, unit):
            return "%8.1f ms" % (v * 1000) if unit == "ms" else "%8.3f s " % v

        print()
        print("muxgate fan-out benchmark: %d rounds, (a) %d pairs a round; "
              "medians (min-max, n)" % (self.args.rounds, self.args.pairs))
        print("%-34s %11s %-22s   %-37s %11s  %6s %7s %s" % (
            "figure", "median", "(min-max, n)", "baseline", "median",
            "ratio", "target", ""))
        for (label, v, (lo, hi, n), blabel, b, brng, ratio, target, ok,
             unit) in rows:
            spread = "(%s-%s, %d)" % (
                ("%.1f" % (lo * 1000)) if unit == "ms" else "%.2f" % lo,
                ("%.1f" % (hi * 1000)) if unit == "ms" else "%.2f" % hi, n)
            print("%-34s %11s %-22s   %-37s %11s  %6.2f %7s %s" % (
                label, fmt(v, unit), spread, blabel, fmt(b, unit), ratio,
                "<= %.1f" % target if target is not None else "-",
                "" if ok is None else ("ok" if ok else "MISSED")))
        pairs = [m / h for m, h in zip(self.results["a_muxgate"],
                                       self.results["a_hand"])]
        print("(a) median of the %d per-pair ratios (each muxgate run next to "
              "its by-hand run): %.2f" % (len(pairs),
                                          statistics.median(pairs)))
        print("(c) connect_timeout %ds; worst warm %.2f s, worst cold %.2f s"
              % (CONNECT_TIMEOUT_DL, worst, max(self.results["c_cold"])))
        for what, runs in sorted(self.counts.items()):
            print("(c) %s statuses per run: %s" % (what, "; ".join(runs)))
        print("per-host cost: warm single %.1f ms, cold single %.1f ms; "
              "fan-out per host warm %.1f ms, cold %.1f ms" % (
                  1000 * med["b_warm_sum"] / HEALTHY,
                  1000 * med["b_cold_sum"] / HEALTHY,
                  1000 * med["b_warm_fanout"] / HEALTHY,
                  1000 * med["b_cold_fanout"] / HEALTHY))
        print("load average at the end: %s" % open(
            "/proc/loadavg").read().strip())
        if self.failures:
            print("%d wrong answers or missed deadlines:" % len(self.failures))
            for f in self.failures[:20]:
                print("  " + f)
        for (label, v, _, blabel, b, _, ratio, target, _, unit), ok in \
                zip(rows, verdicts):
            k = 1000 if unit == "ms" else 1
            results.add(
                "fanout", label, v * k, unit, baseline=blabel,
                baseline_value=b * k, compare="ratio",
                paired=statistics.median(pairs) if label.startswith("(a)")
                else None,
                target=None if target is None else "ratio <= %.1f" % target,
                judged="ratio", met=ok,
                note="and every warm run within the deadline"
                if label.startswith("(c)") and target is not None else None)
        results.add("fanout", "(c) worst warm run", worst, "s",
                    baseline="connect_timeout + 1 s",
                    baseline_value=CONNECT_TIMEOUT_DL + 1.0,
                    compare="ratio")
        return all(v is not False for v in verdicts) and not self.failures


def log(msg):
    print("fanout: " + msg, file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int,
                    default=int(os.environ.get("FANOUT_ROUNDS", "5")))
    ap.add_argument("--pairs", type=int,
                    default=int(os.environ.get("FANOUT_PAIRS", "20")),
                    help="(a) pairs of measurements per round")
    ap.add_argument("--no-lock", action="store_true")
    ap.add_argument("--keep", action="store_true",
                    help="leave the fleet up (testhosts.py down --dir %s)"
                    % DIR)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("fanout: must run as root (users, sudoers, sshds)",
              file=sys.stderr)
        return 2
    if not os.access(MUXGATE, os.X_OK):
        print("fanout: %s not built: make muxgate" % MUXGATE, file=sys.stderr)
        return 2
    # Also SIGINT: a shell starts background jobs with it ignored.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    lock = None
    if not args.no_lock:
        lock = open(LOCK, "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("waiting for %s (an e2e run)" % LOCK)
            fcntl.flock(lock, fcntl.LOCK_EX)
    b = Bench(args)
    t0 = time.monotonic()
    try:
        b.setup()
        b.warm_up()
        for r in range(args.rounds):
            b.round(r)
        ok = b.report()
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        ok = None
    except testhosts.Error as e:
        log("cannot run: %s" % e)
        ok = None
    finally:
        if not args.keep:
            with contextlib.suppress(KeyboardInterrupt):
                if b.fleet is not None:
                    b.fleet.down()
                else:
                    testhosts.Fleet(DIR, prefix=PREFIX).down()
        if lock is not None:
            lock.close()
    log("total %.0fs" % (time.monotonic() - t0))
    if ok is None:
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
