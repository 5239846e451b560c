"""
pytest fixtures of the muxgate end-to-end tests; the helpers they use are
in helpers.py.  See helpers.py for what the set-up creates and removes.
"""
import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time

import pytest

from helpers import *
from helpers import _s
from audit_util import *


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


@pytest.fixture(scope="session")
def gw():
    """Set up users, sudoers, the test directory, keys, policy and sshd."""
    if os.geteuid() != 0:
        pytest.exit("the muxgate e2e tests must run as root", returncode=1)
    if not os.access(MUXGATE_BIN, os.X_OK):
        pytest.exit("muxgate binary %s not found: run `make muxgate`"
                    % MUXGATE_BIN, returncode=1)
    # Make SIGTERM/SIGHUP run the finalizers too.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGHUP, _raise_interrupt)

    cleanup_leftovers()
    stack = contextlib.ExitStack()
    try:
        g = _setup(stack)
    except BaseException:
        stack.close()
        raise
    try:
        yield g
    finally:
        stack.close()


def _setup(stack):
    base = "/var/lib/mgt-e2e-%d" % os.getpid()
    g = Gateway(base)

    # ---- users ----
    for u in TEST_USERS:
        stack.callback(remove_user, u)
        run(["useradd", "-m", "-d", "/home/" + u, "-s", "/bin/sh",
             "-c", "muxgate e2e test account", u])
        # '!' would count as a locked account for sshd (UsePAM no).
        run(["usermod", "-p", "*", u])
        remove_tmux_dir(uid_of(u))

    # ---- sudoers: mgt-gw may run tmux as mgt-deploy, NOT as mgt-build ----
    stack.callback(lambda: os.path.exists(SUDOERS) and os.unlink(SUDOERS))
    tmp = "/etc/sudoers.d/.mgt-muxgate.tmp"
    with open(tmp, "w") as f:
        f.write("# muxgate e2e tests (tests/e2e/conftest.py); removed at "
                "the end of the run\n"
                "Defaults:%s !requiretty, !lecture, env_reset\n"
                "%s ALL=(%s) NOPASSWD: /usr/bin/tmux\n" % (GW, GW, DEPLOY))
    os.chmod(tmp, 0o440)
    try:
        run(["visudo", "-cf", tmp])
        os.rename(tmp, SUDOERS)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    run(["visudo", "-c"])

    # ---- the test directory ----
    stack.callback(shutil.rmtree, base, True)
    os.mkdir(base, 0o755)
    os.chmod(base, 0o755)
    for d, mode, owner in (("etc", 0o755, 0), ("keys", 0o700, 0),
                           ("authorized_keys", 0o755, 0),
                           ("logs", 0o755, 0),
                           ("state", 0o700, uid_of(GW)),
                           ("recordings", 0o700, uid_of(GW))):
        p = os.path.join(base, d)
        os.mkdir(p)
        os.chown(p, owner, owner if owner == 0 else pwd.getpwnam(GW).pw_gid)
        os.chmod(p, mode)
    shutil.copyfile(MUXGATE_BIN, g.bin)
    os.chmod(g.bin, 0o755)

    # ---- keys ----
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "e2e-host",
         "-f", os.path.join(base, "ssh_host_ed25519_key")])
    for name in IDENTITY_KEYS:
        k = g.key(name)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
             "%s@mgt-e2e" % name, "-f", k])
        os.chmod(k, 0o600)
        g.keys[name] = open(k + ".pub").read().strip()
        fp = _s(run(["ssh-keygen", "-lf", k + ".pub"]).stdout).split()[1]
        assert fp.startswith("SHA256:")
        g.fingerprints[name] = fp
    write_file(os.path.join(base, "authorized_keys", GW),
               "".join(g.keys[n] + "\n" for n in IDENTITY_KEYS))

    # ---- policy ----
    g.policy_text = policy_yaml(base, g.keys, g.fingerprints)
    write_file(g.policy, g.policy_text)

    # ---- sshd ----
    if not os.path.isdir("/run/sshd"):
        os.makedirs("/run/sshd", 0o755)
        stack.callback(lambda: os.path.isdir("/run/sshd") and
                       not os.listdir("/run/sshd") and os.rmdir("/run/sshd"))
    g.port = free_port()
    conf = os.path.join(base, "sshd_config")
    forcecommand = os.environ.get(
        "MUXGATE_E2E_FORCECOMMAND",
        "%s shell -f %s" % (g.bin, g.policy))
    write_file(conf, SSHD_CONFIG.format(port=g.port, base=base, gw=GW,
                                        forcecommand=forcecommand))
    run(["/usr/sbin/sshd", "-t", "-f", conf])
    log = open(os.path.join(base, "sshd.log"), "wb")
    stack.callback(log.close)
    sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", conf],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            env=BASE_ENV)
    g.sshd = sshd
    stack.callback(_stop_sshd, sshd)
    deadline = time.time() + 15
    while True:
        if sshd.poll() is not None:
            raise RuntimeError("sshd exited (%d): %s" % (
                sshd.returncode, open(os.path.join(base, "sshd.log")).read()))
        try:
            with socket.create_connection(("127.0.0.1", g.port), timeout=1) as s:
                s.settimeout(5)
                if s.recv(64).startswith(b"SSH-"):
                    break
        except OSError:
            pass
        if time.time() > deadline:
            raise RuntimeError("sshd did not start listening on port %d"
                               % g.port)
        time.sleep(0.1)
    return g


def _stop_sshd(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


@pytest.fixture(autouse=True)
def clean_state(gw):
    """Every test starts and ends without tmux servers or leftover files."""
    kill_tmux_servers()
    for f in PWNED:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(90)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        kill_tmux_servers()
        for f in PWNED:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f)


def _alarm(signum, frame):
    raise TimeoutError("test took longer than 90 seconds")


@pytest.fixture
def ssh(gw):
    """ssh(key, *command, tty=False, input=None) -> (code, stdout, stderr)"""
    return gw.ssh


@pytest.fixture
def spawn(gw):
    """spawn(key, *command) -> pexpect child of `ssh -tt`; closed at the end."""
    children = []

    def _spawn(key, *command, **kw):
        c = gw.spawn(key, *command, **kw)
        children.append(c)
        return c
    yield _spawn
    for c in children:
        with contextlib.suppress(Exception):
            if c.isalive():
                c.terminate(force=True)
        with contextlib.suppress(Exception):
            c.close(force=True)
        with contextlib.suppress(Exception):
            c.logfile_read.close()


@pytest.fixture
def terms(gw):
    """terms(KEY, *COMMAND): a real terminal (term_util.Term: the OpenSSH
    client in a tmux pane) logged in with KEY; all closed afterwards."""
    from term_util import Term
    made = []

    def _term(key, *command):
        t = Term(gw, key, *command)
        made.append(t)
        return t
    yield _term
    for t in made:
        t.close()


@pytest.fixture
def policy_edit(gw):
    """Change the live policy file (text, mode, directory mode) for one test;
    the original is restored afterwards."""
    class Editor:
        def write(self, text):
            gw.write_policy(text)

        def chmod(self, mode):
            os.chmod(gw.policy, mode)

        def chmod_dir(self, mode):
            os.chmod(gw.etc, mode)

    try:
        yield Editor()
    finally:
        os.chmod(gw.etc, 0o755)
        gw.write_policy(gw.policy_text)
        os.chmod(gw.policy, 0o644)


@pytest.fixture
def workdir(gw, request):
    """A fresh root-owned 0755 directory below the test base (safe for
    policy files), removed afterwards."""
    d = os.path.join(gw.base, "work-" + re.sub(r"[^A-Za-z0-9_]", "_",
                                               request.node.name)[:60])
    shutil.rmtree(d, ignore_errors=True)
    os.mkdir(d, 0o755)
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


# ---- the audit trail (test_audit.py, test_hostile.py) ----

class Daemon:
    def __init__(self, pid, ours):
        self.pid = pid
        self.ours = ours

    def stop(self):
        assert self.ours, "never stop an audit daemon this module did not start"
        stop_auditd(self.pid)
        self.pid = 0

    def start(self):
        assert self.ours
        self.pid = start_auditd()
        assert probe("restart-" + secrets.token_hex(4)), \
            "the restarted auditd writes no records"


@pytest.fixture(scope="module")
def auditd(gw):
    for tool in ("auditctl", "ausearch"):
        if shutil.which(tool, path=SYS_PATH) is None:
            pytest.skip("%s not found (Debian package auditd)" % tool)
    st, why = audit_status()
    if st is None:
        pytest.skip("the kernel refuses audit here (%s): no audit records "
                    "can be tested" % why)
    # A machine (or container) that booted with auditing off: turn it on
    # for this module, as auditd's own rules (-e 1) would, and back off.
    enabled_here = False
    if st["enabled"] == 0:
        p = run(["auditctl", "-e", "1"], check=False, env=AUSEARCH_ENV)
        if p.returncode != 0:
            pytest.skip("kernel auditing is disabled (auditctl -e 0) and "
                        "auditctl -e 1 failed: %s" % (_s(p.stderr) +
                                                     _s(p.stdout)).strip())
        enabled_here = True
    try:
        yield from _auditd_running()
    finally:
        if enabled_here:
            run(["auditctl", "-e", "0"], check=False, env=AUSEARCH_ENV)


def _auditd_running():
    pid = daemon_pid()
    d = Daemon(pid, ours=False)
    if not pid:
        if not os.access(AUDITD, os.X_OK):
            pytest.skip("no audit daemon runs and %s is not installed"
                        % AUDITD)
        try:
            d = Daemon(start_auditd(), ours=True)
        except RuntimeError as e:
            pytest.skip("cannot start the audit daemon: %s" % e)
    try:
        if not probe("start-" + secrets.token_hex(4)):
            pytest.skip("auditd (pid %d) runs but a record sent with "
                        "auditctl -m never reached what ausearch reads" % d.pid)
        yield d
    finally:
        if d.ours and d.pid:
            stop_auditd(d.pid)


@pytest.fixture(scope="module")
def audit_cap(gw):
    """cap_audit_write+ep on the suite's copy of muxgate, as make install."""
    if shutil.which("setcap", path=SYS_PATH) is None:
        pytest.skip("setcap not found (package libcap2-bin)")
    setcap(gw.bin, "cap_audit_write+ep")
    assert "cap_audit_write" in getcap(gw.bin), getcap(gw.bin)
    try:
        yield
    finally:
        setcap(gw.bin, None)
