"""
Shared helpers of test_relay.py and test_recording.py: the attach relay
and its recordings, seen from outside (ssh -tt under pexpect, tmux as the
tmux user, /proc, the files under gateway.recordings).

Import with `from relay_util import *` after `from helpers import *`.
"""
import contextlib
import glob
import json
import os
import pwd
import re
import stat
import subprocess
import time

import pexpect

from helpers import *
from helpers import _s

PROMPT = "muxgate> "
ESC = "\x1d"            # ^], the policy default escape key
ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|"
                  r"[()][A-Za-z0-9]|[=>78DEHMNOZc]|P[^\x1b]*\x1b\\)")


# ---- the policy ----------------------------------------------------------

def policy_with(gw, limits=None, recordings=None, gateway_extra=None):
    """The test policy with gateway.limits LIMITS (a dict of YAML scalars),
    another gateway.recordings path and/or extra gateway: lines."""
    text = gw.policy_text
    if recordings is not None:
        old = "  recordings: %s/recordings\n" % gw.base
        assert old in text
        text = text.replace(old, "  recordings: %s\n" % recordings)
    add = ""
    if limits:
        add += "  limits:\n" + "".join(
            "    %s: %s\n" % (k, json.dumps(v) if isinstance(v, str) else v)
            for k, v in limits.items())
    for line in gateway_extra or ():
        add += "  %s\n" % line
    assert "  audit: none\n" in text
    return text.replace("  audit: none\n", "  audit: none\n" + add, 1)


# ---- pexpect: menu, attach, detach -----------------------------------------

def read_menu(child, timeout=None):
    """Everything up to the next prompt."""
    if timeout is None:
        child.expect_exact(PROMPT)
    else:
        child.expect_exact(PROMPT, timeout=timeout)
    return child.before


def menu_number(menu, target):
    m = re.search(r"(?m)^\s*(\d+)\) %s(?![\w-])" % re.escape(target), menu)
    assert m, "no menu entry for %s in %r" % (target, menu)
    return m.group(1)


def detach(child):
    """C-b d: tmux's own detach."""
    child.send("\x02")
    time.sleep(0.2)
    child.send("d")


def finish(child, timeout=10):
    """Wait for the ssh client to end; its exit status, and all it printed
    after the last expect."""
    child.expect(pexpect.EOF, timeout=timeout)
    out = child.before
    child.close()
    return child.exitstatus, out


def wait_client(user, name, n=1, timeout=10):
    got = wait_for(lambda: len(tmux_clients(user, name)) >= n, timeout)
    assert got, "fewer than %d tmux clients on %s's session %s: %r" % (
        n, user, name, tmux_clients(user, name))
    return tmux_clients(user, name)


def wait_pane(user, name, text, timeout=5):
    """TEXT shows up in the pane (capture-pane)."""
    ok = wait_for(lambda: text in tmux_capture(user, name), timeout)
    assert ok, "%r never appeared in the pane of %s: %r" % (
        text, name, tmux_capture(user, name))


def window_size(user, name):
    p = tmux(user, "display-message", "-p", "-t", "=" + name + ":",
             "#{window_width}x#{window_height}", check=True)
    return _s(p.stdout).strip()


def wait_window_size(user, name, want, timeout=5):
    wait_for(lambda: window_size(user, name) == want, timeout)
    return window_size(user, name)


def muxgate_lines(text):
    """The `muxgate: ...` lines of a terminal transcript."""
    return [l.strip() for l in text.replace("\r", "\n").split("\n")
            if l.strip().startswith("muxgate: ")]


# ---- processes -------------------------------------------------------------

class Proc:
    def __init__(self, pid, ppid, state, ruid, euid, comm, cmdline, exe):
        self.pid, self.ppid, self.state = pid, ppid, state
        self.ruid, self.euid = ruid, euid
        self.comm, self.cmdline, self.exe = comm, cmdline, exe

    def __repr__(self):
        return "<%d ppid=%d %s uid=%d/%d %r>" % (
            self.pid, self.ppid, self.state, self.ruid, self.euid,
            " ".join(self.cmdline) or self.comm)


def procs():
    """pid -> Proc for every process now."""
    table = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        pid = int(d)
        try:
            st = open("/proc/%d/stat" % pid).read()
            status = open("/proc/%d/status" % pid).read()
            cmd = open("/proc/%d/cmdline" % pid, "rb").read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        rest = st[st.rindex(")") + 2:].split()
        m = re.search(r"(?m)^Uid:\s+(\d+)\s+(\d+)", status)
        try:
            exe = os.readlink("/proc/%d/exe" % pid)
        except OSError:
            exe = None
        table[pid] = Proc(pid, int(rest[1]), rest[0],
                          int(m.group(1)) if m else -1,
                          int(m.group(2)) if m else -1, comm,
                          [_s(a) for a in cmd.split(b"\0") if a], exe)
    return table


def descendants(pid, table):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for q in table.values():
            if q.ppid == p:
                out.append(q)
                todo.append(q.pid)
    return out


def is_muxgate(gw, p):
    return p.exe is not None and os.path.realpath(p.exe) == \
        os.path.realpath(gw.bin)


def pgrep_gw():
    """pgrep -u mgt-gw muxgate: the gateway user's muxgate processes."""
    r = run(["pgrep", "-u", GW, "-x", "muxgate"], check=False)
    return [int(x) for x in _s(r.stdout).split()]


def relay_of(gw, session, table=None):
    """The muxgate process relaying an attach/watch of SESSION: the
    muxgate (of user mgt-gw) above the `tmux attach-session -t =SESSION`
    (run through sudo); None if there is none."""
    table = table if table is not None else procs()
    for p in table.values():
        if "attach-session" not in p.cmdline or \
                ("=" + session) not in p.cmdline:
            continue
        q = p
        while q is not None and q.pid > 1:
            if is_muxgate(gw, q) and uid_of(GW) in (q.ruid, q.euid):
                return q.pid
            q = table.get(q.ppid)
    return None


def relays_of(gw, session):
    table = procs()
    found = set()
    for p in table.values():
        if "attach-session" in p.cmdline and ("=" + session) in p.cmdline:
            q = p
            while q is not None and q.pid > 1:
                if is_muxgate(gw, q):
                    found.add(q.pid)
                    break
                q = table.get(q.ppid)
    return sorted(found)


class AttachSnap:
    """The processes of one live attach: its relay muxgate and everything
    below it (sudo, sudo's monitor, the tmux client)."""

    def __init__(self, gw, session, timeout=10, pid=None):
        if pid is None:
            pid = wait_for(lambda: relay_of(gw, session), timeout)
        assert pid, "no muxgate relay process found for session %s: %r" % (
            session, [p for p in procs().values() if is_muxgate(gw, p)])
        table = procs()
        self.pid = pid
        self.below = descendants(pid, table)
        assert any(p.cmdline[:1] == ["/usr/bin/sudo"] or p.comm == "sudo"
                   for p in self.below), self.below
        assert pid in pgrep_gw(), (pid, pgrep_gw())


def gw_zombies():
    """Zombies nobody reaps: of the gateway user, or left by one of its
    processes (sudo runs as root).  An orphan waiting for init (ppid 1)
    is init's to reap, not the gateway's: init here reaps about once a
    second."""
    table = procs()
    gid = uid_of(GW)
    out = []
    for p in table.values():
        if p.state != "Z" or p.ppid <= 1:
            continue
        parent = table.get(p.ppid)
        if gid in (p.ruid, p.euid) or (parent is not None and
                                       gid in (parent.ruid, parent.euid)):
            out.append(p)
    return out


def assert_attach_ended(snap, user, session, muxgate_gone=True, timeout=8):
    """After an attach ended: no tmux client on SESSION, nothing left of
    the attach's processes (the relay's muxgate too, if MUXGATE_GONE: a
    one-shot attach), no zombie under the gateway user."""
    assert wait_for(lambda: not tmux_clients(user, session), timeout), \
        "tmux client still attached: %r" % tmux_clients(user, session)

    def leftovers():
        table = procs()
        pids = [p.pid for p in snap.below]
        if muxgate_gone:
            pids.append(snap.pid)
        return [table[p] for p in pids if p in table and
                (table[p].state != "Z" or table[p].ppid > 1)]
    assert wait_for(lambda: not leftovers(), timeout), \
        "processes of the attach left over: %r" % leftovers()
    assert wait_for(lambda: not gw_zombies(), timeout), \
        "zombies: %r" % gw_zombies()


# ---- ls --json viewers -------------------------------------------------------

def ls_session(gw, session, key="alice"):
    code, out, err = gw.ssh(key, "ls mgt-deploy@bastion --json")
    assert code == OK, err
    doc = parse_json(out)
    for s in doc["hosts"][0]["sessions"]:
        if s["name"] == session:
            return s
    raise AssertionError("no session %s in %r" % (session, doc))


def viewers(gw, session, key="alice"):
    return ls_session(gw, session, key)["viewers"]


# ---- recordings --------------------------------------------------------------

def rec_root(gw):
    return os.path.join(gw.base, "recordings")


CAST_NAME = re.compile(r"^(\d{8}-\d{6})-([0-9a-f]{16})\.cast$")


def recordings_of(gw, identity, session, root=None):
    """The recordings of IDENTITY whose header names SESSION."""
    out = []
    for f in sorted(glob.glob(os.path.join(root or rec_root(gw), identity,
                                           "*.cast"))):
        try:
            first = open(f, "rb").readline()
            h = json.loads(first.decode("utf-8"))
        except (OSError, ValueError):
            continue
        if h.get("muxgate", {}).get("session") == session:
            out.append(f)
    return out


def wait_recording(gw, identity, session, timeout=5):
    got = wait_for(lambda: recordings_of(gw, identity, session), timeout)
    assert len(got) == 1, "expected one recording of %s by %s, found %r" % (
        session, identity, got)
    return got[0]


def read_cast(path, allow_partial_last=False):
    """(header, events) of an asciicast v2 file; every line must be
    strict UTF-8 and one JSON document (but for a cut last line if
    ALLOW_PARTIAL_LAST)."""
    data = open(path, "rb").read()
    lines = data.split(b"\n")
    partial = None
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:
        # no newline at the end: the last line was cut short
        assert allow_partial_last, "last line of %s has no newline: %r" % (
            path, lines[-1][-200:])
        partial = lines.pop()
    assert lines, "empty recording %s" % path
    docs = []
    for i, raw in enumerate(lines, 1):
        try:
            docs.append(json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, ValueError) as e:
            raise AssertionError("%s:%d is not valid JSON/UTF-8 (%s): %r"
                                 % (path, i, e, raw[:300]))
    if partial is not None:
        try:
            docs.append(json.loads(partial.decode("utf-8")))
        except (UnicodeDecodeError, ValueError):
            pass    # a cut last line is allowed
    header, events = docs[0], docs[1:]
    assert isinstance(header, dict), header
    prev = 0.0
    for e in events:
        assert isinstance(e, list) and len(e) == 3, e
        assert isinstance(e[0], (int, float)) and e[0] >= prev, (e, prev)
        assert e[1] in ("o", "i", "m", "r"), e
        assert isinstance(e[2], str), e
        prev = e[0]
    return header, events


def stream(events, kind, strip=True):
    s = "".join(e[2] for e in events if e[1] == kind)
    return ANSI.sub("", s) if strip else s


def tty_run(argv, timeout=20):
    """Run ARGV on a terminal (pexpect); (exit status, output)."""
    out, code = pexpect.run(argv[0], args=argv[1:], withexitstatus=True,
                            timeout=timeout, env=dict(BASE_ENV),
                            encoding="utf-8", codec_errors="replace")
    return code, out


@contextlib.contextmanager
def small_fs(workdir, size):
    """A tmpfs of SIZE (e.g. "256k") on WORKDIR/fs, with a recordings
    directory of the gateway's (0700) in it; yields (mount point,
    recordings directory).  Unmounted afterwards, whatever happened."""
    mnt = os.path.join(workdir, "fs")
    os.mkdir(mnt, 0o755)
    run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0755" % size,
         "mgt-e2e-recs", mnt])
    try:
        d = os.path.join(mnt, "recs")
        os.mkdir(d)
        pw = pwd.getpwnam(GW)
        os.chown(d, pw.pw_uid, pw.pw_gid)
        os.chmod(d, 0o700)
        yield mnt, d
    finally:
        run(["umount", "-l", mnt], check=False)
