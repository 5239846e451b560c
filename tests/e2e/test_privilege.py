"""
Least privilege, as a process in a session made through the gateway sees
it: a probe run inside the session writes what it has to a file the test
reads (`ls -l /proc/self/fd`, the `Cap*` lines of /proc/self/status,
`env`).  Its descriptors are those of a session tmux makes directly as the
same user, its capabilities are none (muxgate itself holds
CAP_AUDIT_WRITE here, as installed), and its environment has nothing of
the gateway's: not sshd's variables, not what the client sent.

The gateway process itself is non-dumpable: its /proc/PID files belong to
root, and the gateway account, its own uid, cannot read its environment.
So are `muxgate serve`, the process it forks for a connection, and the
`muxgate shell` that process starts.

The sessions are reached both ways muxgate has: through sudo (mgt-deploy)
and directly (mgt-gw, the gateway account's own tmux), with the default
shell and with a startup command, and in one login that goes through new,
attach, detach, ls, attach again and Ctrl-C at the prompt.
"""
import contextlib
import os
import re
import subprocess

import pytest

from helpers import *
from helpers import _s
from audit_util import getcap, proc_caps, setcap
from term_util import Term, gateway_shells

# What the client sends: sshd accepts MGT_* and LC_* (helpers.SSHD_CONFIG).
CLIENT_ENV = "MGT_EVIL=1 LC_NUMERIC=evil LC_CTYPE=C.UTF-8;id"
# Never in a session: sshd's, the client's, the loader's, muxgate's.
FORBIDDEN_RE = re.compile(r"^(SSH_[A-Z_]*|MUXGATE_[A-Z_]*|LD_[A-Z_]*|"
                          r"MGT_[A-Z_]*|LC_NUMERIC|LC_MESSAGES)=", re.M)

PROBE = """#!/bin/sh
# probe OUT: what this process has, in OUT.fd, OUT.cap, OUT.env, then OUT.
out=$1
ls -l /proc/self/fd > "$out.fd" 2>&1
grep '^Cap' /proc/self/status > "$out.cap"
env > "$out.env"
: > "$out"
"""


class ClientEnv:
    """The gateway, reached by a client that sends CLIENT_ENV."""

    def __init__(self, gw):
        self.gw = gw

    def ssh_args(self, key, tty=False, lang=True):
        args = self.gw.ssh_args(key, tty=tty, lang=lang)
        return args[:1] + ["-o", "SetEnv=" + CLIENT_ENV] + args[1:]

    def ssh(self, key, *command, timeout=30):
        p = run(self.ssh_args(key) + list(command), check=False,
                timeout=timeout)
        return p.returncode, _s(p.stdout), _s(p.stderr)


@pytest.fixture
def capped(gw):
    """The gateway binary with the capability `make install` gives it.
    Not for the dumpable tests: a file capability alone makes a process
    non-dumpable at its execve."""
    old = getcap(gw.bin)
    setcap(gw.bin, "cap_audit_write+ep")
    try:
        yield
    finally:
        setcap(gw.bin, old.split(" ", 1)[1] if " " in old else None)


@pytest.fixture
def box(gw, workdir, policy_edit):
    """The probe, a private directory for each tmux user's results, and a
    policy that lets alice make sessions for the gateway account too."""
    probe = os.path.join(workdir, "probe")
    write_file(probe, PROBE, mode=0o755)
    outs = {}
    for u in (DEPLOY, GW):
        d = os.path.join(workdir, "out-" + u)
        os.mkdir(d, 0o700)
        os.chown(d, uid_of(u), -1)
        outs[u] = d
    policy_edit.write(gw.policy_text.replace(
        "        tmux_users: [mgt-gw]\n        actions: [list]\n",
        "        tmux_users: [mgt-gw]\n"
        "        actions: [list, attach, create, kill]\n"))
    try:
        yield probe, outs
    finally:
        for u in (DEPLOY, GW):
            run(["tmux", "-L", "mgt-base", "kill-server"], check=False)
            run(["runuser", "-u", u, "--", "tmux", "-L", "mgt-base",
                 "kill-server"], check=False, env=tmux_env())


def read_probe(out, timeout=10):
    assert wait_for(lambda: os.path.exists(out), timeout), \
        "the probe wrote nothing to %s" % out
    r = {}
    for part in ("fd", "cap", "env"):
        with open("%s.%s" % (out, part)) as f:
            r[part] = f.read()
    return r


def fds(listing, out):
    """`ls -l /proc/self/fd` as {fd: target}, the varying parts named."""
    got = {}
    for line in listing.split("\n"):
        m = re.search(r" (\d+) -> (.*)$", line)
        if not m:
            continue
        t = m.group(2).replace(out, "OUT")
        t = re.sub(r"^/dev/pts/\d+$", "/dev/pts/N", t)
        t = re.sub(r"^/proc/\d+/fd$", "/proc/PID/fd", t)
        t = re.sub(r"^(socket|pipe|anon_inode):.*", r"\1", t)
        got[int(m.group(1))] = t
    return got


def caps(text):
    return {k: int(v, 16) for k, v in
            re.findall(r"^(Cap\w+):\s+([0-9a-f]+)$", text, re.M)}


def baseline(user, probe, outdir, name, command):
    """The probe in a session tmux makes directly as USER, on a server of
    its own (not one muxgate started)."""
    out = os.path.join(outdir, "base-" + name)
    args = ["runuser", "-u", user, "--", "/usr/bin/tmux", "-L", "mgt-base",
            "new-session", "-d", "-s", name, "-x", "100", "-y", "30"]
    if command:
        run(args + [probe, out], env=tmux_env())
    else:
        run(args, env=tmux_env())
        run(["runuser", "-u", user, "--", "/usr/bin/tmux", "-L", "mgt-base",
             "send-keys", "-t", "=" + name + ":", "%s %s" % (probe, out),
             "Enter"], env=tmux_env())
    return read_probe(out), out


def check_probe(got, out, base, base_out):
    """Nothing of the gateway in what the session's process has."""
    assert fds(got["fd"], out) == fds(base["fd"], base_out), \
        (got["fd"], base["fd"])
    # 0-2 the pane's terminal (1 the probe's own redirection), 3 the
    # directory ls reads: nothing else.
    assert fds(got["fd"], out) == {0: "/dev/pts/N", 1: "OUT.fd",
                                   2: "OUT.fd", 3: "/proc/PID/fd"}, got["fd"]
    c = caps(got["cap"])
    assert c["CapInh"] == c["CapPrm"] == c["CapEff"] == c["CapAmb"] == 0, c
    assert c["CapBnd"] == caps(base["cap"])["CapBnd"], (c, base["cap"])
    bad = FORBIDDEN_RE.findall(got["env"])
    assert not bad, "leaked into the session: %r\n%s" % (bad, got["env"])
    assert "LC_CTYPE=C.UTF-8;id" not in got["env"]


def gateway_pid_of(pred, timeout=10):
    """The one muxgate process of the gateway account matching PRED."""
    def find():
        pids = [p for p in gateway_processes() if pred(p)]
        return pids if len(pids) == 1 else None
    pids = wait_for(find, timeout)
    assert pids, "no single muxgate process of %s" % GW
    return pids[0]


def gateway_processes():
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        with contextlib.suppress(OSError):
            if proc_uid(d) == uid_of(GW) and \
                    open("/proc/%s/comm" % d).read().strip() == "muxgate":
                out.append(int(d))
    return out


def environ(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return dict(v.split(b"=", 1) for v in f.read().split(b"\0") if v)


def assert_not_dumpable(pid):
    """PID's /proc files are root's, and its own uid cannot read them."""
    assert proc_uid(pid) == uid_of(GW)
    # The directory itself keeps the process's uid (procps reads it).
    assert os.stat("/proc/%d" % pid).st_uid == uid_of(GW)
    for f in ("environ", "mem", "fd", "maps"):
        assert os.stat("/proc/%d/%s" % (pid, f)).st_uid == 0, f
    for f in ("environ", "mem"):
        p = run(["runuser", "-u", GW, "--", "cat", "/proc/%d/%s" % (pid, f)],
                check=False)
        assert p.returncode != 0 and b"Permission denied" in p.stderr, \
            (f, p.returncode, p.stderr)
        assert p.stdout == b""
    p = run(["runuser", "-u", GW, "--", "ls", "/proc/%d/fd" % pid],
            check=False)
    assert p.returncode != 0 and b"Permission denied" in p.stderr, p.stderr
    # Without a file capability: non-dumpable by its own doing.
    assert proc_caps(pid)["CapPrm"] == 0


def test_a_process_of_the_same_uid_is_dumpable(gw):
    """The control: without PR_SET_DUMPABLE the gateway account could read
    the environment of its own processes."""
    p = subprocess.Popen(["runuser", "-u", GW, "--", "/usr/bin/sleep", "30"],
                         env=BASE_ENV)
    try:
        pid = wait_for(lambda: [int(d) for d in os.listdir("/proc")
                                if d.isdigit() and _is_sleep(d)], 5)
        assert pid
        pid = pid[0]
        assert os.stat("/proc/%d/environ" % pid).st_uid == uid_of(GW)
        r = run(["runuser", "-u", GW, "--", "cat", "/proc/%d/environ" % pid],
                check=False)
        assert r.returncode == 0 and b"PATH=" in r.stdout, r.stderr
    finally:
        p.kill()
        p.wait()


def _is_sleep(d):
    with contextlib.suppress(OSError):
        return proc_uid(d) == uid_of(GW) and \
            open("/proc/%s/comm" % d).read().strip() == "sleep"
    return False


@pytest.mark.parametrize("user", [DEPLOY, GW])
@pytest.mark.parametrize("command", [False, True],
                         ids=["default-shell", "startup-command"])
def test_new_session_has_nothing_of_the_gateway(gw, box, capped, user,
                                                command):
    probe, outs = box
    name = "pv" + ("c" if command else "s")
    out = os.path.join(outs[user], name)
    line = "new %s@bastion:%s" % (user, name)
    if command:
        line += " -- %s %s" % (probe, out)
    code, stdout, err = ClientEnv(gw).ssh("alice", line)
    assert code == OK, err
    if not command:
        assert tmux_has(user, name)
        tmux(user, "send-keys", "-t", "=" + name + ":",
             "%s %s" % (probe, out), "Enter", check=True)
    got = read_probe(out)
    base, base_out = baseline(user, probe, outs[user], name, command)
    check_probe(got, out, base, base_out)
    # The gateway had its capability; the session has none (check_probe).
    assert "cap_audit_write" in getcap(gw.bin)


def test_gateway_process_is_not_dumpable(gw, box):
    """A one-shot command that stays a while (an attach) is enough to look
    at the gateway process: its environment holds what sshd and the client
    gave it, and only root can read it."""
    tmux_new(DEPLOY, "nd", "/bin/cat")
    t = Term(ClientEnv(gw), "alice", "attach mgt-deploy@bastion:nd")
    try:
        assert wait_for(lambda: tmux_clients(DEPLOY, "nd"), 10)
        pid = gateway_pid_of(lambda p: True)
        assert_not_dumpable(pid)
        env = environ(pid)   # root may
        assert env.get(b"MGT_EVIL") == b"1", sorted(env)
        assert b"SSH_USER_AUTH" in env and b"SSH_CONNECTION" in env
        assert env.get(b"SSH_ORIGINAL_COMMAND") == \
            b"attach mgt-deploy@bastion:nd"
        t.keys("C-]")
        t.wait_dead()
    finally:
        t.close()


def test_journey_keeps_the_session_clean(gw, box):
    """One login: new, attach and probe, detach, ls, attach again and
    probe, Ctrl-C at the prompt, exit; the gateway process stays
    non-dumpable, and the session never gets anything of it."""
    probe, outs = box
    out_dir = outs[DEPLOY]
    base, base_out = baseline(DEPLOY, probe, out_dir, "jb", False)
    t = Term(ClientEnv(gw), "alice")
    try:
        t.prompt()
        shells = wait_for(gateway_shells, 10)
        assert shells and len(shells) == 1, shells
        pid, = shells
        assert_not_dumpable(pid)
        assert environ(pid).get(b"MGT_EVIL") == b"1"

        m = t.mark()
        t.line("new mgt-deploy@bastion:jr")
        assert wait_for(lambda: tmux_has(DEPLOY, "jr"))
        t.prompt(m)
        assert_not_dumpable(pid)

        for round in (1, 2):
            m = t.mark()
            t.line("attach mgt-deploy@bastion:jr")
            assert wait_for(lambda: tmux_clients(DEPLOY, "jr"), 10)
            out = os.path.join(out_dir, "round%d" % round)
            t.line("%s %s" % (probe, out))
            check_probe(read_probe(out), out, base, base_out)
            assert_not_dumpable(pid)
            if round == 1:
                t.keys("C-]")           # muxgate's escape key
            else:
                t.keys("C-b")           # tmux's own detach
                t.type("d")
            t.prompt(m)
            assert_not_dumpable(pid)
            if round == 1:
                m = t.mark()
                t.line("ls")
                t.wait(r"mgt-deploy@bastion:jr", m)
                t.prompt(m)

        m = t.mark()
        t.type("kill mgt-deploy@bas")
        t.keys("C-c")
        t.wait(r"\^C", m)
        t.prompt(m)
        assert t.dead() is None
        assert_not_dumpable(pid)
        # The session, seen once more from outside the gateway.
        out = os.path.join(out_dir, "after")
        tmux(DEPLOY, "send-keys", "-t", "=jr:", "%s %s" % (probe, out),
             "Enter", check=True)
        check_probe(read_probe(out), out, base, base_out)
        t.line("exit")
        assert t.wait_dead() == 0
        assert wait_for(lambda: not pid_alive(pid), 10)
    finally:
        t.close()


def test_serve_its_connections_and_their_shells_are_not_dumpable(gw):
    """muxgate serve (started as root, running as the gateway account), the
    process it forks for a connection, and the `muxgate shell` that one
    starts (a fresh execve, dumpable again until its main() says not)."""
    from serve_util import running_serve
    tmux_new(DEPLOY, "sv", "/bin/cat")
    with running_serve(gw, "privilege-serve") as s:
        t = Term(s.client(), "alice", "attach mgt-deploy@bastion:sv")
        try:
            assert wait_for(lambda: tmux_clients(DEPLOY, "sv"), 10)
            pids = gateway_processes()
            assert s.pid in pids, (s.pid, pids)
            conns = [p for p in pids if _ppid(p) == s.pid]
            shells = [p for p in pids if _ppid(p) in conns]
            assert len(conns) == 1 and len(shells) == 1, (pids, conns,
                                                          shells)
            for pid in (s.pid, conns[0], shells[0]):
                assert_not_dumpable(pid)
            assert b"SSH_USER_AUTH" in environ(shells[0])   # root may
            t.keys("C-]")
            t.wait_dead()
        finally:
            t.close()


def _ppid(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])
