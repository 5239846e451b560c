"""
Helpers of test_serve.py: `muxgate serve` (gateway/serve.c) started by the
tests themselves, next to the suite's sshd, on the suite's policy, users
and keys.

A Serve runs `GW_BIN serve -f POLICY --listen 127.0.0.1:PORT --host-key
FILE --user mgt-gw` as root, in a process group of its own (the listener
forks one process per connection into that group; the shells it starts
make sessions of their own).  stop() ends the whole group.

`Serve.client()` is a copy of the suite's Gateway whose port is the
server's: gw.ssh(), gw.spawn() and the relay_util helpers that take a
gateway then talk to `muxgate serve` with exactly the options they use
against sshd.

Import with `from serve_util import *` after `from helpers import *`.
"""
import contextlib
import copy
import os
import re
import signal
import socket
import subprocess
import time

from helpers import *

SERVE_LISTENING = re.compile(r"muxgate serve\[(\d+)\]: listening on "
                             r"127\.0\.0\.1:(\d+)$", re.M)

# Listeners of the live Serve instances: the module's clean_state spares
# them when it kills what the gateway account left behind.
LIVE_LISTENERS = set()


class ServeStartError(RuntimeError):
    pass


class Serve:
    """One `muxgate serve`; its files live in DIRECTORY (root, 0755)."""

    def __init__(self, gw, directory, host_key=None, user=GW, port=None,
                 extra_args=(), policy=None):
        self.gw = gw
        self.dir = directory
        self.host_key = host_key or os.path.join(directory,
                                                 "ssh_host_ed25519_key")
        self.user = user
        self.port = port or free_port()
        self.extra_args = list(extra_args)
        self.policy = policy or gw.policy
        self.log_path = os.path.join(directory, "serve-%d.log" % self.port)
        self.proc = None
        self.listener = None

    def argv(self):
        a = [self.gw.bin, "serve", "-f", self.policy,
             "--listen", "127.0.0.1:%d" % self.port,
             "--host-key", self.host_key]
        if self.user is not None:
            a += ["--user", self.user]
        return a + self.extra_args

    def start(self, timeout=10, umask=0o022):
        """Start and wait for "listening on"; ServeStartError (with the
        log) if it exits first."""
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                stderr=log, env=BASE_ENV, start_new_session=True,
                preexec_fn=lambda: os.umask(umask))
        finally:
            log.close()
        end = time.time() + timeout
        while True:
            m = [x for x in SERVE_LISTENING.finditer(self.log())
                 if int(x.group(2)) == self.port]
            if m:
                # the listener (under strace: not the process started)
                self.listener = int(m[-1].group(1))
                LIVE_LISTENERS.add(self.listener)
                return self
            if self.proc.poll() is not None:
                raise ServeStartError("muxgate serve exited %d: %s" % (
                    self.proc.returncode, self.log()))
            if time.time() > end:
                self.stop()
                raise ServeStartError("muxgate serve is not listening "
                                      "after %ds: %s" % (timeout, self.log()))
            time.sleep(0.05)

    @property
    def pid(self):
        """The listener's pid."""
        return self.listener

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM to the process group (listener and connections), then
        SIGKILL to whatever is left of it."""
        if self.proc is None:
            return
        LIVE_LISTENERS.discard(self.listener)
        pgid = self.proc.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        wait_for(lambda: self.proc.poll() is not None and
                 not group_members(pgid), 5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)

    # ---- the log ----
    def log(self):
        try:
            return open(self.log_path, "rb").read().decode("utf-8",
                                                          "replace")
        except FileNotFoundError:
            return ""

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except FileNotFoundError:
            return 0

    def log_since(self, offset):
        return self.log().encode()[offset:].decode("utf-8", "replace")

    def wait_log(self, pattern, offset=0, timeout=5):
        """The first match of the regex PATTERN in the log after OFFSET."""
        rx = re.compile(pattern, re.M)
        got = wait_for(lambda: rx.search(self.log_since(offset)), timeout)
        assert got, "no log line matches %r: %r" % (pattern,
                                                   self.log_since(offset))
        return got

    # ---- clients ----
    def client(self):
        """The suite's Gateway, talking to this server."""
        g = copy.copy(self.gw)
        g.port = self.port
        return g

    def connections(self, table=None):
        """The connection processes: the listener's children."""
        table = table if table is not None else procs_lite()
        return sorted(p for p, (ppid, _) in table.items()
                      if ppid == self.pid)


def group_members(pgid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            st = open("/proc/%s/stat" % d).read()
        except OSError:
            continue
        rest = st[st.rindex(")") + 2:].split()
        if int(rest[2]) == pgid and rest[0] != "Z":
            out.append(int(d))
    return out


def procs_lite():
    """pid -> (ppid, euid) for every process but zombies."""
    table = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            st = open("/proc/%s/stat" % d).read()
            status = open("/proc/%s/status" % d).read()
        except OSError:
            continue
        rest = st[st.rindex(")") + 2:].split()
        if rest[0] == "Z":
            continue
        m = re.search(r"(?m)^Uid:\s+\d+\s+(\d+)", status)
        table[int(d)] = (int(rest[1]), int(m.group(1)) if m else -1)
    return table


def kill_user_processes_except(name, spare):
    """SIGKILL every process whose effective user is NAME (one of our
    mgt-* test users) but the pids in SPARE; until none is left."""
    assert name.startswith("mgt-")
    if not user_exists(name):
        return
    uid = uid_of(name)
    for _ in range(30):
        victims = [p for p, (_, euid) in procs_lite().items()
                   if euid == uid and p not in spare]
        if not victims:
            return
        for p in victims:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(p, signal.SIGKILL)
        time.sleep(0.1)


def kill_tmux_servers_sparing(spare):
    """helpers.kill_tmux_servers(), but the pids in SPARE survive."""
    for u in TEST_USERS:
        if not user_exists(u):
            continue
        uid = uid_of(u)
        sock = "/tmp/tmux-%d/default" % uid
        if os.path.exists(sock):
            run(["runuser", "-u", u, "--", "tmux", "kill-server"],
                check=False, env=tmux_env(), timeout=10)
        kill_user_processes_except(u, spare)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(sock)


# ---- raw TCP ------------------------------------------------------------------

def tcp_connect(port, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                 b"\0\0\0\0\0\0\0\0")
    return s


def read_banner(s, timeout=5):
    """The server's identification line, or b"" if it closed first."""
    s.settimeout(timeout)
    buf = b""
    while b"\n" not in buf:
        try:
            d = s.recv(256)
        except (ConnectionResetError, socket.timeout):
            return buf
        if not d:
            return buf
        buf += d
    return buf


def closed_within(s, timeout):
    """Seconds until the peer closes S (reading and dropping anything it
    sends), or None if it is still open after TIMEOUT."""
    t0 = time.monotonic()
    end = t0 + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            d = s.recv(4096)
        except socket.timeout:
            return None
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - t0
        if not d:
            return time.monotonic() - t0


# ---- the policy ------------------------------------------------------------------

def policy_with_serve(gw, **settings):
    """The suite's policy with a gateway.serve mapping of SETTINGS."""
    text = gw.policy_text
    assert "  audit: none\n" in text
    add = "  serve:\n" + "".join("    %s: %s\n" % (k, v)
                                 for k, v in settings.items())
    return text.replace("  audit: none\n", "  audit: none\n" + add, 1)



@contextlib.contextmanager
def running_serve(gw, name):
    """A Serve in GW.base/NAME for the length of a `with` block."""
    d = os.path.join(gw.base, name)
    os.makedirs(d, 0o755, exist_ok=True)
    s = Serve(gw, d)
    s.start()
    try:
        yield s
    finally:
        s.stop()


@contextlib.contextmanager
def state_sparing_serve(alarm=90):
    """conftest.clean_state for modules with a live serve listener: the
    test users' processes and tmux servers go, the listeners and the
    PWNED files do not stay, and a test may take ALARM seconds."""
    def _alarm(signum, frame):
        raise TimeoutError("test took longer than %d seconds" % alarm)

    def _clean():
        kill_tmux_servers_sparing(set(LIVE_LISTENERS))
        for f in PWNED:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f)
    _clean()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(alarm)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        _clean()
