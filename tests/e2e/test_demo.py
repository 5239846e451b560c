"""
`make demo` (contrib/demo): the ssh line it prints must connect as
printed, with no host-key question.  The demo runs as root here, so it
serves root's own tmux sessions (contrib/demo adds --user root).
"""
import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time

import pytest

from helpers import *
from helpers import _s

DEMO = os.path.join(REPO, "contrib", "demo")


def _root_has_demo_session():
    p = run(["tmux", "has-session", "-t", "=demo"], check=False)
    return p.returncode == 0


def _wait_listening(port, proc, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        with contextlib.suppress(OSError):
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.settimeout(5)
                if s.recv(64).startswith(b"SSH-"):
                    return True
        time.sleep(0.1)
    return False


def _stop(proc):
    """The demo and everything it started (serve forks per connection)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


@pytest.fixture
def demo(workdir):
    """Run contrib/demo on a free port with its files in WORKDIR; yield
    (the printed ssh line, the directory); stop it all afterwards."""
    # contrib/demo runs the tree's ./muxgate, whatever binary the rest of
    # the suite tests (make check: the sanitized one).
    if not os.access(os.path.join(REPO, "muxgate"), os.X_OK):
        pytest.skip("contrib/demo runs the tree's ./muxgate: not built")
    had_session = _root_has_demo_session()
    state = "/tmp/muxgate-demo-0"       # where the demo puts a long state
    had_state = os.path.lexists(state)
    port = free_port()
    # Deep, as a clone in a home directory can be: the demo must cope
    # with a path too long for gateway.state.
    d = os.path.join(workdir, "demo")
    assert len(d) > 60
    log = open(os.path.join(workdir, "demo.log"), "w+b")
    # XDG_STATE_HOME: where the demo would go if it refused D; never
    # root's own home.
    env = dict(BASE_ENV, MUXGATE_DEMO_PORT=str(port), MUXGATE_DEMO_DIR=d,
               XDG_STATE_HOME=os.path.join(workdir, "state-home"))
    proc = subprocess.Popen([DEMO], stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    try:
        up = _wait_listening(port, proc)
        log.seek(0)
        out = _s(log.read())
        assert up, "the demo did not start serving on %d:\n%s" % (port, out)
        assert "cannot use" not in out, out
        lines = [l.strip() for l in out.splitlines()
                 if l.strip().startswith("ssh ")]
        assert len(lines) == 1, out
        yield lines[0], d
    finally:
        _stop(proc)
        log.close()
        if not had_session:
            run(["tmux", "kill-session", "-t", "=demo"], check=False)
        if not had_state:
            shutil.rmtree(state, ignore_errors=True)


def test_demo_printed_line_connects_without_host_key_question(demo):
    line, d = demo
    argv = shlex.split(line)
    assert argv[0] == "ssh" and argv[-1] == "localhost", line
    assert "UserKnownHostsFile=%s/known_hosts" % d in line, line
    # As printed, plus no questions at all, and a one-shot command.
    p = run(argv[:-1] + ["-o", "BatchMode=yes", argv[-1], "whoami"],
            check=False, timeout=30)
    err = _s(p.stderr)
    assert p.returncode == OK, "%s\n%s" % (line, err)
    assert re.search(r"^identity\s+root$", _s(p.stdout), re.M), _s(p.stdout)
    assert "Host key verification failed" not in err
    assert "Permanently added" not in err, err


def test_demo_known_hosts_names_both_addresses(demo):
    line, d = demo
    port = int(shlex.split(line)[2])
    pub = open(os.path.join(d, "ssh_host_ed25519_key.pub")).read().split()
    hosts = [l.split() for l in open(os.path.join(d, "known_hosts"))]
    assert sorted(h[0] for h in hosts) == sorted(
        ["[localhost]:%d" % port, "[127.0.0.1]:%d" % port]), hosts
    assert all(h[1:3] == pub[:2] for h in hosts), hosts
