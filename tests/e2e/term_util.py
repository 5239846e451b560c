"""
A real terminal for the journey tests: the OpenSSH client runs inside a
pane of a private tmux server (root's, on its own socket, never one of
the test users'), driven with send-keys and read with capture-pane, as a
person at a terminal would use the gateway.

Term(gw, key) starts `ssh -tt` to the gateway in the pane; the pane stays
after ssh exits so that its last screen and exit status can be read.

RawTerm(gw, key) is the other way round: `ssh -tt` on a pseudo-terminal of
the test's own, keeping every byte the gateway sends exactly as a
terminal would receive it (escape sequences included), for tests of what
may reach a user's terminal.
Import with `from term_util import *` after `from helpers import *`.
"""
import contextlib
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import tempfile
import termios
import time

from helpers import *

TMUX = "/usr/bin/tmux"


class Term:
    def __init__(self, gw, key, *command, width=120, height=40):
        self.sock = "mgt-term-%d-%d" % (os.getpid(), int(time.time() * 1000))
        # tmux 3.3a does not always show a dead pane's exit status: the
        # pane's shell writes ssh's own to a file.
        fd, self.status_file = tempfile.mkstemp(prefix="mgt-term-")
        os.close(fd)
        os.unlink(self.status_file)
        args = gw.ssh_args(key, tty=True) + list(command)
        self._tmux("-f", "/dev/null", "new-session", "-d", "-s", "t",
                   "-x", str(width), "-y", str(height),
                   "/bin/sh", "-c", 'env TERM=xterm-256color LANG=C.UTF-8 '
                   '"$@"; echo $? > %s.tmp && mv %s.tmp %s' % (
                       (self.status_file,) * 3), "sh", *args)
        self._tmux("set-option", "-t", "t", "remain-on-exit", "on")
        self._tmux("set-option", "-t", "t", "history-limit", "5000")

    def _tmux(self, *args, check=True):
        p = subprocess.run([TMUX, "-L", self.sock] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=dict(BASE_ENV, TERM="xterm-256color"),
                           timeout=20)
        if check and p.returncode != 0:
            raise RuntimeError("tmux %r: %s" % (args, p.stderr.decode()))
        return p.stdout.decode("utf-8", "replace")

    # ---- typing ----
    def type(self, text):
        """Literal text (no Enter)."""
        self._tmux("send-keys", "-t", "t", "-l", text)

    def keys(self, *names):
        """tmux key names: Enter, C-c, C-], Escape, Up, ..."""
        self._tmux("send-keys", "-t", "t", *names)

    def raw(self, data):
        """Bytes as they are, hex-encoded for send-keys -H."""
        self._tmux("send-keys", "-t", "t", "-H",
                   *["%02x" % b for b in data])

    def line(self, text):
        self.type(text)
        self.keys("Enter")

    # ---- reading ----
    def screen(self):
        """The whole pane with its scroll-back, trailing blanks removed."""
        return self._tmux("capture-pane", "-p", "-J", "-S", "-", "-t",
                          "t").rstrip("\n")

    def mark(self):
        """A position in the output: wait() after it sees only newer text."""
        return len(self.screen())

    def wait(self, pattern, since=0, timeout=15):
        """Wait for the regex PATTERN on the screen after SINCE."""
        rx = re.compile(pattern, re.M)
        end = time.time() + timeout
        while True:
            s = self.screen()
            m = rx.search(s, since)
            if m:
                return m
            if time.time() > end:
                raise AssertionError("no %r on the screen after %d: %r"
                                     % (pattern, since, s[since:]))
            time.sleep(0.1)

    def prompt(self, since=0, timeout=15):
        """Wait for an empty `muxgate> ` prompt on the last line, with
        output after SINCE."""
        end = time.time() + timeout
        while True:
            s = self.screen()
            last = s.split("\n")[-1].rstrip() if s else ""
            if len(s) > since and last == "muxgate>":
                return s
            if time.time() > end:
                raise AssertionError("no empty prompt after %d: %r" % (
                    since, s[since:]))
            time.sleep(0.1)

    def dead(self):
        """ssh's exit status once it has exited, else None."""
        try:
            return int(open(self.status_file).read())
        except (FileNotFoundError, ValueError):
            return None

    def wait_dead(self, timeout=15):
        if not wait_for(lambda: self.dead() is not None, timeout):
            ps = subprocess.run(["ps", "-eo", "pid,ppid,pgid,tty,stat,args"],
                                stdout=subprocess.PIPE).stdout.decode()
            raise AssertionError("ssh still runs: %r\n%s" % (
                self.screen(), "\n".join(
                    l for l in ps.split("\n")
                    if "muxgate" in l or "sshd" in l or "ssh " in l)))
        return self.dead()

    def close(self):
        self._tmux("kill-server", check=False)
        for f in (self.status_file, self.status_file + ".tmp"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f)


class RawTerm:
    """`ssh -tt` to the gateway on a pseudo-terminal the test reads raw:
    `data` is every byte the terminal got.  Nothing answers the
    terminal's requests: a test sees them instead."""

    def __init__(self, gw, key, *command, width=120, height=40,
                 term="xterm-256color"):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ,
                    struct.pack("HHHH", height, width, 0, 0))
        self.proc = subprocess.Popen(
            gw.ssh_args(key, tty=True) + list(command), stdin=slave,
            stdout=slave, stderr=slave, start_new_session=True,
            env=dict(BASE_ENV, TERM=term, LANG="C.UTF-8"))
        os.close(slave)
        self.data = bytearray()

    def pump(self, timeout=0.1):
        """Read what is there, waiting up to TIMEOUT for the first byte;
        False once the other side is gone."""
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return True
        try:
            d = os.read(self.master, 65536)
        except OSError:
            return False
        self.data += d
        return bool(d)

    def mark(self):
        return len(self.data)

    def wait(self, needle, since=0, timeout=15):
        """Wait for the bytes NEEDLE after SINCE; where they start."""
        end = time.time() + timeout
        while True:
            i = self.data.find(needle, since)
            if i >= 0:
                return i
            if time.time() > end or not self.pump(0.1):
                raise AssertionError("no %r after %d: %r" % (
                    needle, since, bytes(self.data[since:])))

    def settle(self, quiet=0.5, limit=5):
        """Read until QUIET seconds pass with nothing new."""
        end = time.time() + limit
        while time.time() < end:
            n = len(self.data)
            if not self.pump(quiet) or len(self.data) == n:
                return

    def send(self, data):
        os.write(self.master, data)

    def wait_exit(self, timeout=15):
        end = time.time() + timeout
        while self.proc.poll() is None and time.time() < end:
            self.pump(0.1)
        self.settle(0.2, 2)
        return self.proc.wait(timeout=1)

    def close(self):
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        os.close(self.master)


def gateway_shells(user=GW):
    """{pid: tty} of the interactive `muxgate shell` processes of USER."""
    out = {}
    uid = uid_of(user)
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            st = os.stat("/proc/" + d)
            if st.st_uid != uid:
                continue
            argv = open("/proc/%s/cmdline" % d, "rb").read().split(b"\0")
            if not any(a.endswith(b"muxgate") for a in argv[:1]) or \
                    b"shell" not in argv:
                continue
            tty = os.readlink("/proc/%s/fd/0" % d)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if tty.startswith("/dev/pts/"):
            out[int(d)] = tty
    return out


def fd_flags(pid, fd=0):
    """The open flags of PID's descriptor FD (from /proc/PID/fdinfo)."""
    for line in open("/proc/%d/fdinfo/%d" % (pid, fd)):
        if line.startswith("flags:"):
            return int(line.split()[1], 8)
    raise AssertionError("no flags in fdinfo")


def stty_g(tty):
    """`stty -g` of a terminal: its whole state in one comparable word."""
    return subprocess.run(["stty", "-g", "-F", tty], check=True,
                          stdout=subprocess.PIPE,
                          timeout=10).stdout.decode().strip()


def stty_a(tty):
    return subprocess.run(["stty", "-a", "-F", tty], check=True,
                          stdout=subprocess.PIPE,
                          timeout=10).stdout.decode()
