"""`muxgate serve` (gateway/serve.c): muxgate as its own SSH server, next
to the suite's sshd, on the same policy, users and keys.

A module fixture starts `muxgate serve -f POLICY --listen 127.0.0.1:PORT
--host-key FILE --user mgt-gw` as root (it drops to mgt-gw after binding)
and stops its process group at the end.  Tests that need other
gateway.serve settings start a second server on the edited policy (as a
restart would: the listener reads gateway.serve once).

Clients: the real OpenSSH client (ssh, sftp; the suite's options), and
Python paramiko as an independent SSH implementation.

This module overrides the suite's autouse `clean_state` fixture: the
suite's kills every process of mgt-gw between tests, which would kill the
listener; this one spares the live listeners and does the rest alike.
"""
import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import threading
import time

import pexpect
import pytest

from helpers import *
from helpers import _s
from relay_util import *
from serve_util import *

TARGET = "mgt-deploy@bastion:"
SSH_OPTS = ["-F", "/dev/null",
            "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes",
            "-o", "IdentitiesOnly=yes",
            "-o", "LogLevel=ERROR"]


# ---- fixtures ------------------------------------------------------------------

@pytest.fixture(autouse=True)
def clean_state(gw):
    """conftest.clean_state, but the listeners of live servers survive."""
    kill_tmux_servers_sparing(set(LIVE_LISTENERS))
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
        kill_tmux_servers_sparing(set(LIVE_LISTENERS))
        for f in PWNED:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f)


def _alarm(signum, frame):
    raise TimeoutError("test took longer than 90 seconds")


def _serve_dir(gw, name):
    d = os.path.join(gw.base, name)
    shutil.rmtree(d, ignore_errors=True)
    os.mkdir(d, 0o755)
    os.chmod(d, 0o755)
    return d


@pytest.fixture(scope="module")
def serve_server(gw):
    d = _serve_dir(gw, "serve")
    s = Serve(gw, d)
    assert not os.path.exists(s.host_key)
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def serve(serve_server):
    """The module's server, alive; .mark is the log size at the start."""
    assert serve_server.alive(), "the listener died: %s" % serve_server.log()
    serve_server.mark = serve_server.log_size()
    yield serve_server
    assert serve_server.alive(), "the listener died: %s" % serve_server.log()
    left = wait_for(lambda: not serve_server.connections(), 10)
    assert left, "connection processes left after the test: %r" % (
        serve_server.connections(),)


@pytest.fixture
def sgw(serve):
    """The suite's Gateway talking to the module's server."""
    return serve.client()


@pytest.fixture
def sspawn(sgw):
    """spawn(key, *command) through `muxgate serve`; closed at the end."""
    children = []

    def _spawn(key, *command, via=None, **kw):
        c = (via or sgw).spawn(key, *command, **kw)
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
def another_serve(gw):
    """another_serve(**kw) -> a second, started Serve (stopped at the end)."""
    servers = []

    def _start(name="serve2", **kw):
        s = Serve(gw, _serve_dir(gw, "%s-%d" % (name, len(servers))), **kw)
        servers.append(s)
        return s.start()
    yield _start
    for s in servers:
        s.stop()


def ssh_multi(port, keys, *command, extra=(), timeout=30):
    """ssh offering KEYS in that order."""
    args = ["/usr/bin/ssh"] + SSH_OPTS + ["-p", str(port)]
    for k in keys:
        args += ["-i", k]
    args += list(extra) + ["-T", "%s@127.0.0.1" % GW] + list(command)
    p = run(args, check=False, timeout=timeout)
    return p.returncode, _s(p.stdout), _s(p.stderr)


def auth_files(gw):
    return sorted(f for f in os.listdir(os.path.join(gw.base, "state"))
                  if f.startswith("auth-"))


def host_fingerprint(path):
    out = _s(run(["ssh-keygen", "-lf", path]).stdout).split()
    return out[1]


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


# ---- start-up: the host key, the account ----------------------------------------

def test_host_key_generated_0600_and_presented(gw, serve):
    st = os.lstat(serve.host_key)
    assert stat.S_ISREG(st.st_mode) and st.st_uid == 0, st
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    log = serve.log()
    assert "generated host key %s" % serve.host_key in log, log
    fp = host_fingerprint(serve.host_key)
    assert re.search(r"muxgate serve\[%d\]: host key ssh-ed25519 %s$"
                     % (serve.pid, re.escape(fp)), log, re.M), (fp, log)
    # what a client is shown is that key
    scan = run(["ssh-keyscan", "-t", "ed25519", "-p", str(serve.port),
                "127.0.0.1"], check=False)
    line = [l for l in _s(scan.stdout).split("\n") if "ssh-ed25519" in l]
    assert len(line) == 1, (scan.stdout, scan.stderr)
    pub = _s(run(["ssh-keygen", "-y", "-f", serve.host_key]).stdout).split()
    assert line[0].split()[1:3] == pub[:2], (line, pub)


def test_listener_runs_as_the_gateway_account(serve):
    status = open("/proc/%d/status" % serve.pid).read()
    pw = pwd.getpwnam(GW)
    uids = re.search(r"(?m)^Uid:\s+(.*)$", status).group(1).split()
    gids = re.search(r"(?m)^Gid:\s+(.*)$", status).group(1).split()
    groups = re.search(r"(?m)^Groups:\s*(.*)$", status).group(1).split()
    assert uids == [str(pw.pw_uid)] * 4, status
    assert gids == [str(pw.pw_gid)] * 4, status
    assert groups in ([], [str(pw.pw_gid)]), status
    assert listening(serve.port)


def test_existing_key_readable_by_others_is_refused(gw, workdir):
    key = os.path.join(workdir, "hostkey")
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key])
    for mode in (0o644, 0o640, 0o604, 0o660):
        os.chmod(key, mode)
        s = Serve(gw, workdir, host_key=key)
        with pytest.raises(ServeStartError):
            s.start()
        assert s.proc.returncode == FAIL, (oct(mode), s.log())
        assert "muxgate: refusing host key %s: it must be a file of this "\
            "user or root, mode 0600" % key in s.log(), s.log()
        assert "listening" not in s.log()
        assert not listening(s.port)
        assert stat.S_IMODE(os.stat(key).st_mode) == mode     # not "fixed"
    # a key of another user, 0600: refused as well
    os.chmod(key, 0o600)
    os.chown(key, uid_of(DEPLOY), 0)
    s = Serve(gw, workdir, host_key=key)
    with pytest.raises(ServeStartError):
        s.start()
    assert s.proc.returncode == FAIL, s.log()
    assert "refusing host key" in s.log(), s.log()
    # and a symbolic link to a good key
    os.chown(key, 0, 0)
    link = os.path.join(workdir, "link")
    os.symlink(key, link)
    s = Serve(gw, workdir, host_key=link)
    with pytest.raises(ServeStartError):
        s.start()
    assert "refusing host key" in s.log(), s.log()
    # the same key, 0600 root: accepted
    s = Serve(gw, workdir, host_key=key)
    try:
        s.start()
        assert "generated host key" not in s.log()
        assert re.search(r"host key ssh-ed25519 %s$" % re.escape(
            host_fingerprint(key)), s.log(), re.M), s.log()
    finally:
        s.stop()


def test_root_without_user_is_refused(gw, workdir):
    s = Serve(gw, workdir, user=None)
    with pytest.raises(ServeStartError):
        s.start()
    assert s.proc.returncode == FAIL, s.log()
    assert s.log().strip().split("\n") == [
        "muxgate: serve: refusing to run as root without --user NAME"], \
        s.log()
    assert not listening(s.port)
    assert not os.path.exists(s.host_key)   # refused before anything


def test_new_host_key_is_never_readable_by_others(gw, workdir):
    """Not even between its creation and the chmod to 0600 may others
    read the new key: the file is created under a umask (the caller's is
    022 here) or a mode that keeps them out."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    trace = os.path.join(workdir, "trace")
    keydir = os.path.join(workdir, "keys")
    os.mkdir(keydir, 0o755)
    s = Serve(gw, workdir, host_key=os.path.join(keydir, "hk"))
    real_argv = s.argv
    s.argv = lambda: [strace, "-f", "-qq", "-o", trace, "-e",
                      "trace=open,openat,openat2,creat,mknod,mknodat,"
                      "rename,renameat,renameat2,link,linkat,umask"] + \
        real_argv()
    try:
        s.start(umask=0o022)
    finally:
        s.stop()
    calls = open(trace).read()
    umask = 0o022           # ours, unless muxgate sets one
    created = []
    for line in calls.split("\n"):
        m = re.search(r"umask\((0[0-7]*)\)", line)
        if m:
            umask = int(m.group(1), 8)
            continue
        m = re.search(r'(?:open|openat|creat)\((?:[A-Z_0-9]+, )?"(%s/[^"]+)"'
                      r', ([^)]*?O_CREAT[^)]*?), (0[0-7]*)\)'
                      % re.escape(keydir), line)
        if m:
            created.append((m.group(1), int(m.group(3), 8) & ~umask))
    assert created, calls
    for path, mode in created:
        assert mode & 0o077 == 0, \
            "%s created with mode 0%o: the private key is readable by " \
            "others until the chmod" % (path, mode)
    assert stat.S_IMODE(os.stat(s.host_key).st_mode) == 0o600


# ---- one-shot commands --------------------------------------------------------------

ONE_SHOT = [
    ("alice", "whoami --json", OK),
    ("eve", "whoami --json", OK),
    ("alice", "ls --json", OK),
    ("alice", "ls", OK),
    ("alice", "hosts --json", OK),
    ("eve", "new %ssv-denied" % TARGET, DENIED),
    ("frank", "attach %ssv-one" % TARGET, DENIED),
    ("alice", "ls; id", USAGE),
    ("alice", "frobnicate", USAGE),
    ("alice", "kill %snosuch --yes" % TARGET, NOSESSION),
]


@pytest.mark.parametrize("key,command,code", ONE_SHOT,
                         ids=["%s:%s" % (k, c) for k, c, _ in ONE_SHOT])
def test_one_shot_same_as_under_sshd(gw, sgw, key, command, code):
    """Output and exit code are those of the ForceCommand path."""
    tmux_new(DEPLOY, "sv-one", "/bin/cat")
    via_sshd = gw.ssh(key, command)
    via_serve = sgw.ssh(key, command)
    assert via_serve[0] == code, via_serve
    assert via_serve == via_sshd, (via_serve, via_sshd)
    assert tmux_sessions(DEPLOY) == ["sv-one"]


def test_new_and_kill_one_shot(gw, sgw):
    """`new` starts a tmux server (through sudo) that outlives the
    command: the one-shot still ends, with the command's status."""
    code, out, err = sgw.ssh("alice", "new %ssv-new" % TARGET, timeout=15)
    assert code == OK, (out, err)
    assert tmux_sessions(DEPLOY) == ["sv-new"]
    code, out, err = sgw.ssh("alice", "kill %ssv-new --yes" % TARGET,
                             timeout=15)
    assert code == OK, (out, err)
    assert tmux_sessions(DEPLOY) == []


def test_whoami_json(gw, sgw, serve):
    code, out, err = sgw.ssh("alice", "whoami --json")
    assert code == OK, err
    assert err == ""
    assert parse_json(out) == {"identity": "alice",
                               "key": gw.fingerprints["alice"],
                               "roles": ["operator"]}
    m = serve.wait_log(
        r"127\.0\.0\.1 port (\d+): accepted publickey %s for user %s: "
        r"identity alice$" % (re.escape(gw.fingerprints["alice"]), GW),
        serve.mark)
    port = m.group(1)
    serve.wait_log(r"127\.0\.0\.1 port %s: identity alice: command$" % port,
                   serve.mark)
    serve.wait_log(r"127\.0\.0\.1 port %s: exit status 0$" % port,
                   serve.mark)
    # SSH_USER_AUTH's file is gone with the connection
    assert wait_for(lambda: auth_files(gw) == [], 5), auth_files(gw)


def test_ls_json(sgw):
    tmux_new(DEPLOY, "sv-ls", "/bin/cat")
    code, out, err = sgw.ssh("alice", "ls --json")
    assert code == OK, err
    rows = {(r["host"], r["user"]): r for r in parse_json(out)["hosts"]}
    names = [s["name"] for s in rows[("bastion", DEPLOY)]["sessions"]]
    assert names == ["sv-ls"], rows
    assert rows[("bastion", BUILD)]["status"] != "ok", rows


def test_denial_exit_3(sgw):
    code, out, err = sgw.ssh("eve", "new %ssv-no" % TARGET)
    assert code == DENIED, (out, err)
    assert out == ""
    one_error_line(err)
    assert tmux_sessions(DEPLOY) == []


def test_tokenizer_refusal_exit_2(sgw):
    code, out, err = sgw.ssh("alice", "whoami;touch /tmp/mgt-pwned")
    assert code == USAGE, (out, err)
    assert one_error_line(err) == (
        "muxgate: ';' is not allowed here: this is not a shell (quote it if "
        "you mean it literally)")
    assert not os.path.exists("/tmp/mgt-pwned")


def test_commands_on_stdin_without_a_terminal(gw, sgw):
    """No command, no pty: muxgate's batch mode on pipes, stdin's EOF
    reaches it."""
    via_serve = sgw.ssh("alice", input="whoami --json\nls --json\n")
    via_sshd = gw.ssh("alice", input="whoami --json\nls --json\n")
    assert via_serve[0] == OK, via_serve
    assert via_serve == via_sshd
    assert '"identity":"alice"' in via_serve[1].replace(" ", "")


def test_policy_is_read_again_by_each_shell(gw, sgw, policy_edit):
    """The listener keeps its policy; the shell reads the file again: an
    identity disabled since is refused at the next login."""
    text = gw.policy_text.replace("    roles: [operator]\n",
                                  "    roles: [operator]\n"
                                  "    disabled: true\n", 1)
    assert text != gw.policy_text
    policy_edit.write(text)
    code, out, err = sgw.ssh("alice", "whoami --json")
    assert code == DENIED, (out, err)
    assert out == ""
    assert "disabled" in one_error_line(err), err


# ---- interactive, through ssh -tt ---------------------------------------------------------

def test_interactive_menu(serve, sspawn):
    tmux_new(DEPLOY, "sv-m1", "/bin/cat")
    c = sspawn("alice")
    menu = read_menu(c)
    assert "muxgate \u2014 logged in as alice" in menu, menu
    menu_number(menu, TARGET + "sv-m1")
    assert re.search(r"(?m)^\s*mgt-build@bastion: forbidden", menu), menu
    c.send("whoami\r")
    assert "alice" in read_menu(c)
    c.send("ls; id\r")
    assert "not allowed here" in read_menu(c)
    c.send("exit\r")
    code, out = finish(c)
    assert code == OK, out
    serve.wait_log(r"port \d+: identity alice: shell$", serve.mark)


def test_attach_resize_detach(gw, serve, sgw, sspawn):
    s = "sv-att"
    tmux_new(DEPLOY, s, "/bin/cat")
    c = sspawn("alice", dimensions=(30, 120))
    n = menu_number(read_menu(c), TARGET + s)
    c.send(n + "\r")
    clients = wait_client(DEPLOY, s)
    assert clients[0].endswith(" 0"), clients      # read-write
    assert wait_window_size(DEPLOY, s, "120x29") == "120x29"
    c.send("typed-through-serve\r")
    wait_pane(DEPLOY, s, "typed-through-serve")
    c.setwinsize(40, 90)
    assert wait_window_size(DEPLOY, s, "90x39") == "90x39"
    c.setwinsize(25, 132)
    assert wait_window_size(DEPLOY, s, "132x24") == "132x24"
    detach(c)
    menu = read_menu(c)
    assert wait_for(lambda: not tmux_clients(DEPLOY), 5), tmux_clients(DEPLOY)
    menu_number(menu, TARGET + s)
    c.send("exit\r")
    code, out = finish(c)
    assert code == OK, out
    assert tmux_has(DEPLOY, s)
    # the recording names the client of SSH_CONNECTION and the TERM sent
    f = wait_recording(gw, "alice", s)
    header, events = read_cast(f)
    assert header["env"] == {"TERM": "xterm"}, header
    port = re.match(r"^127\.0\.0\.1 (\d+)$", header["muxgate"]["client"])
    assert port, header
    serve.wait_log(r"127\.0\.0\.1 port %s: identity alice: shell$"
                   % port.group(1), serve.mark)
    assert [e[2] for e in events if e[1] == "r"] == ["90x40", "132x25"], \
        [e for e in events if e[1] == "r"]


def test_attach_one_shot_and_detach(serve, sspawn):
    s = "sv-att1"
    tmux_new(DEPLOY, s, "/bin/cat")
    c = sspawn("alice", "attach " + TARGET + s)
    wait_client(DEPLOY, s)
    c.send("one-shot-attach\r")
    wait_pane(DEPLOY, s, "one-shot-attach")
    detach(c)
    code, out = finish(c)
    assert code == OK, out
    assert wait_for(lambda: not tmux_clients(DEPLOY), 5)


def test_watch_is_read_only(sspawn):
    s = "sv-watch"
    tmux_new(DEPLOY, s, "/bin/cat")
    c = sspawn("eve", "watch " + TARGET + s)
    clients = wait_client(DEPLOY, s)
    assert clients[0].endswith(" 1"), clients      # read-only
    tmux(DEPLOY, "send-keys", "-t", "=" + s + ":", "SHOWN-TO-EVE", "Enter",
         check=True)
    c.expect_exact("SHOWN-TO-EVE", timeout=5)
    c.send("EVE-TYPED-THIS\r")
    time.sleep(0.5)
    c.send(ESC)
    code, out = finish(c)
    assert code == OK, out
    assert "EVE-TYPED-THIS" not in tmux_capture(DEPLOY, s)
    assert wait_for(lambda: not tmux_clients(DEPLOY), 5)


def test_client_killed_mid_attach(gw, serve, sspawn):
    """kill -9 of the ssh client: the connection process, the shell and
    the tmux client go, the recording is closed and valid."""
    s = "sv-kill9"
    tmux_new(DEPLOY, s, "/bin/cat")
    c = sspawn("alice", "attach " + TARGET + s)
    wait_client(DEPLOY, s)
    f = wait_recording(gw, "alice", s)
    c.send("before-the-kill\r")
    wait_pane(DEPLOY, s, "before-the-kill")
    snap = AttachSnap(gw, s)
    table = procs()
    conns = serve.connections()
    assert len(conns) == 1, conns
    assert table[snap.pid].ppid == conns[0], (snap.pid, conns)
    assert auth_files(gw) != []
    os.kill(c.pid, signal.SIGKILL)
    t0 = time.time()
    assert wait_for(lambda: not tmux_clients(DEPLOY), 5), tmux_clients(DEPLOY)
    assert wait_for(lambda: not serve.connections(), 5), serve.connections()
    assert wait_for(lambda: pgrep_gw() == [serve.pid], 5), \
        (pgrep_gw(), serve.pid)
    gone = time.time() - t0
    assert_attach_ended(snap, DEPLOY, s, timeout=1)
    assert gone < 4, gone
    assert auth_files(gw) == []
    assert tmux_has(DEPLOY, s)
    header, events = read_cast(f)           # every line complete JSON
    assert header["muxgate"]["session"] == s
    assert "before-the-kill" in stream(events, "i", strip=False)
    serve.wait_log(r"port \d+: exit (status|signal) \d+$", serve.mark)
    assert serve.alive()


# ---- what is refused ---------------------------------------------------------------------

def test_password_and_keyboard_interactive_refused(sgw, serve):
    args = sgw.ssh_args("alice")
    i = args.index("-T")
    args[i:i] = ["-o", "PubkeyAuthentication=no",
                 "-o", "PreferredAuthentications=password,keyboard-interactive",
                 "-o", "NumberOfPasswordPrompts=1", "-v"]
    p = run(args + ["whoami"], check=False, timeout=15)
    err = _s(p.stderr)
    assert p.returncode == 255, err
    assert "Permission denied (publickey)." in err, err
    offered = set(re.findall(r"Authentications that can continue: (\S+)",
                             err))
    assert offered == {"publickey"}, offered
    # without BatchMode, nothing ever asks for a password either
    args = [a if a != "BatchMode=yes" else "BatchMode=no" for a in args]
    args.remove("-v")
    c = pexpect.spawn(args[0], args[1:] + ["whoami"], env=dict(BASE_ENV),
                      timeout=15, encoding="utf-8", codec_errors="replace")
    try:
        i = c.expect([pexpect.EOF, "(?i)password", "(?i)verification"])
        out = c.before
        assert i == 0, "prompted: %r" % out
        c.close()
        assert c.exitstatus == 255, out
        assert "Permission denied (publickey)" in out, out
    finally:
        c.close(force=True)


class OneListener:
    """A TCP server on 127.0.0.1 that greets every connection: what a
    working forward would reach."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = False
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            with contextlib.suppress(OSError):
                c.sendall(b"FORWARDED-HELLO\n")
            c.close()

    def close(self):
        self.stop = True
        self.t.join(2)
        self.sock.close()


def test_local_forward_refused(serve, sgw, sspawn):
    target = OneListener()
    lport = free_port()
    try:
        args = sgw.ssh_args("alice", tty=True)
        i = args.index("-tt")
        args[i:i] = ["-L", "127.0.0.1:%d:127.0.0.1:%d" % (lport,
                                                          target.port)]
        c = pexpect.spawn(args[0], args[1:], env=dict(BASE_ENV), timeout=15,
                          encoding="utf-8", codec_errors="replace")
        try:
            read_menu(c)
            assert wait_for(lambda: listening(lport), 5)
            for _ in range(2):
                with socket.create_connection(("127.0.0.1", lport),
                                              timeout=5) as s:
                    got = b""
                    s.settimeout(5)
                    try:
                        while True:
                            d = s.recv(100)
                            if not d:
                                break
                            got += d
                    except ConnectionResetError:
                        pass
                    assert got == b"", got
            assert target.accepted == 0
            # the session goes on
            c.send("whoami\r")
            assert "alice" in read_menu(c)
            c.send("exit\r")
            code, out = finish(c)
            assert code == OK, out
        finally:
            c.close(force=True)
    finally:
        target.close()
    assert target.accepted == 0


def test_remote_forward_refused(sgw):
    target = OneListener()
    rport = free_port()
    try:
        args = sgw.ssh_args("alice")
        i = args.index("-T")
        args[i:i] = ["-o", "ExitOnForwardFailure=yes",
                     "-R", "127.0.0.1:%d:127.0.0.1:%d" % (rport, target.port)]
        p = run(args + ["whoami"], check=False, timeout=15)
        assert p.returncode == 255, (p.stdout, p.stderr)
        assert "remote port forwarding failed" in _s(p.stderr), p.stderr
        assert "alice" not in _s(p.stdout)
        assert not listening(rport)
        assert target.accepted == 0
    finally:
        target.close()


def test_sftp_and_subsystems_refused(gw, serve, sgw, workdir):
    p = run(["/usr/bin/sftp", "-F", "/dev/null", "-b", "-",
             "-P", str(serve.port), "-i", gw.key("alice"),
             "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null",
             "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
             "%s@127.0.0.1" % GW], check=False, timeout=15,
            input=b"get /etc/passwd %s/x\n" % workdir.encode(), cwd=workdir)
    assert p.returncode != 0, (p.stdout, p.stderr)
    assert "subsystem request failed" in _s(p.stderr), p.stderr
    assert not os.path.exists(os.path.join(workdir, "x"))
    args = sgw.ssh_args("alice")
    i = args.index("-T")
    args[i:i] = ["-s"]
    p = run(args + ["sftp"], check=False, timeout=15)
    assert p.returncode == 255, (p.stdout, p.stderr)
    assert "subsystem request failed" in _s(p.stderr), p.stderr
    log = serve.log_since(serve.mark)
    assert len(re.findall(r"refused subsystem sftp$", log, re.M)) == 2, log


def test_x11_forwarding_refused(sgw):
    args = sgw.ssh_args("alice")
    i = args.index("-T")
    args[i:i] = ["-Y", "-o", "LogLevel=INFO"]
    env = dict(BASE_ENV, DISPLAY=":77")
    p = run(args + ["whoami --json"], check=False, timeout=15, env=env)
    assert p.returncode == OK, (p.stdout, p.stderr)
    assert parse_json(_s(p.stdout))["identity"] == "alice"
    assert "X11 forwarding request failed" in _s(p.stderr), p.stderr


@pytest.mark.parametrize("key", ["unknown", "bob", "carol", "dave"])
def test_refused_keys(gw, sgw, serve, key):
    """An unknown key; an expired, a disabled identity; one whose from:
    does not match 127.0.0.1."""
    code, out, err = sgw.ssh(key, "whoami --json")
    assert code == 255, (out, err)
    assert out == ""
    assert "Permission denied (publickey)." in err, err
    assert wait_for(lambda: "connection closed before login" in
                    serve.log_since(serve.mark), 5), serve.log()
    log = serve.log_since(serve.mark)
    assert "accepted publickey" not in log, log
    # The refusal may name the identity and why; no shell ever runs as it.
    assert "identity %s: " % key not in log, log


@pytest.mark.parametrize("key,why", [("unknown", "unknown key"),
                                     ("bob", "expired")])
def test_refused_key_is_logged(gw, sgw, serve, key, why):
    """docs/muxgate.8: "one line per event (listening, accepted or refused
    key, ...)".  gateway/serve-auth.c logs a refusal only for a signed
    attempt; OpenSSH first asks, unsigned, and never signs with a refused
    key."""
    code, out, err = sgw.ssh(key, "whoami --json")
    assert code == 255, (out, err)
    assert wait_for(lambda: "connection closed before login" in
                    serve.log_since(serve.mark), 5), serve.log()
    log = serve.log_since(serve.mark)
    assert re.search(r"refused key for user %s: .*%s" % (GW, re.escape(why)),
                     log), "no log line about the refused key: %r" % log


def test_max_auth_tries(gw, serve, another_serve, policy_edit):
    three = [gw.key("unknown"), gw.key("bob"), gw.key("alice")]
    # the default (6): two failed keys, then alice's
    code, out, err = ssh_multi(serve.port, three, "whoami --json")
    assert code == OK, err
    policy_edit.write(policy_with_serve(gw, max_auth_tries=2))
    s2 = another_serve()
    code, out, err = ssh_multi(s2.port, three, "whoami --json")
    assert code == 255, (out, err)
    assert out == ""
    s2.wait_log(r"port \d+: too many authentication failures$")
    assert "accepted publickey" not in s2.log()
    code, out, err = ssh_multi(s2.port, three[1:], "whoami --json")
    assert code == OK, err
    assert parse_json(out)["identity"] == "alice"


def test_login_grace_time(gw, serve, another_serve, policy_edit):
    policy_edit.write(policy_with_serve(gw, login_grace_time="2s"))
    s2 = another_serve()
    silent = tcp_connect(s2.port)
    talker = tcp_connect(s2.port)
    default = tcp_connect(serve.port)       # 30s there
    try:
        t0 = time.monotonic()
        talker.sendall(b"SSH-2.0-OpenSSH_9.2p1 mgt-e2e\r\n")
        assert read_banner(talker).startswith(b"SSH-2.0-")
        assert read_banner(default).startswith(b"SSH-2.0-")
        # the silent one reads the server's banner, then nothing happens
        assert read_banner(silent).startswith(b"SSH-2.0-")
        a = closed_within(silent, 4)
        b = closed_within(talker, 4 - (time.monotonic() - t0))
        assert a is not None and b is not None, (a, b)
        took = time.monotonic() - t0
        assert 1.5 <= took <= 3.5, took
        # the module's server (default 30s) has not closed its idle one
        assert closed_within(default, 0.2) is None
    finally:
        for s in (silent, talker, default):
            s.close()
    assert wait_for(lambda: not s2.connections(), 3), s2.connections()
    # and a real client still logs in
    code, out, err = s2.client().ssh("alice", "whoami --json")
    assert code == OK, err


def test_max_startups(gw, serve, another_serve, policy_edit, sspawn):
    """The plain number N of old: N:100:N, a hard cap.  (Idle connections
    here are given a minute before the banner deadline closes them.)"""
    policy_edit.write(policy_with_serve(gw, max_startups=3,
                                        banner_timeout="1m"))
    s2 = another_serve()
    idle = []
    try:
        for _ in range(3):
            idle.append(tcp_connect(s2.port))
            assert read_banner(idle[-1]).startswith(b"SSH-2.0-")
        extra = tcp_connect(s2.port)
        t0 = time.monotonic()
        assert read_banner(extra, timeout=3) == b""
        assert time.monotonic() - t0 < 1
        extra.close()
        s2.wait_log(r"127\.0\.0\.1 port \d+: dropped a connection: 3 "
                    r"unauthenticated connections already \(max_startups "
                    r"3:100:3\)$")
        # one of them goes: its place is free again
        idle.pop(0).close()
        assert wait_for(lambda: len(s2.connections()) == 2, 3), \
            s2.connections()
        time.sleep(0.1)     # the listener has seen it go
        idle.append(tcp_connect(s2.port))
        assert read_banner(idle[-1]).startswith(b"SSH-2.0-")
        extra = tcp_connect(s2.port)
        assert read_banner(extra, timeout=3) == b""
        extra.close()
        for s in idle:
            s.close()
        idle = []
        assert wait_for(lambda: not s2.connections(), 3), s2.connections()
        # logged-in connections do not count
        g2 = s2.client()
        shells = []
        for _ in range(4):
            shells.append(sspawn("alice", via=g2))
            read_menu(shells[-1])
        for _ in range(3):
            idle.append(tcp_connect(s2.port))
            assert read_banner(idle[-1]).startswith(b"SSH-2.0-")
        extra = tcp_connect(s2.port)
        assert read_banner(extra, timeout=3) == b""
        extra.close()
        for c in shells:
            c.send("exit\r")
            assert finish(c)[0] == OK
    finally:
        for s in idle:
            s.close()


def tcp_connect_from(source, port, timeout=5):
    """tcp_connect, from the loopback address SOURCE (127.0.0.0/8)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(source, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                 b"\0\0\0\0\0\0\0\0")
    return s


def test_idle_connections_do_not_lock_out(gw, serve, another_serve,
                                          policy_edit):
    """Three idle TCP connections used to fill max_startups: 3 until the
    login grace time, and a real login failed meanwhile.  Now one address
    holds at most per_source_max_startups of them, and only until the
    banner deadline."""
    policy_edit.write(policy_with_serve(gw, max_startups=3,
                                        per_source_max_startups=2,
                                        banner_timeout="2s"))
    s2 = another_serve()
    idle = []
    try:
        t0 = time.monotonic()
        for _ in range(6):
            idle.append(tcp_connect(s2.port))
        got = [read_banner(s) for s in idle]
        assert [b.startswith(b"SSH-2.0-") for b in got] == \
            [True, True, False, False, False, False], got
        s2.wait_log(r"127\.0\.0\.1 port \d+: dropped a connection: 2 "
                    r"unauthenticated connections from there already "
                    r"\(per_source_max_startups\)$")
        # another address logs in while they are there
        args = s2.client().ssh_args("alice")
        args[1:1] = ["-b", "127.0.0.2"]
        p = run(args + ["whoami --json"], check=False, timeout=15)
        assert p.returncode == OK, p.stderr
        assert parse_json(_s(p.stdout))["identity"] == "alice"
        assert time.monotonic() - t0 < 2
        # the silent ones go at the banner deadline
        took = [closed_within(s, 5 - (time.monotonic() - t0))
                for s in idle[:2]]
        assert None not in took, took
        gone = time.monotonic() - t0
        assert 1.5 <= gone <= 3.5, gone
        print("\nidle connections closed %.2fs after they were opened" %
              gone)
        s2.wait_log(r"127\.0\.0\.1 port \d+: no SSH banner within 2s$")
        assert wait_for(lambda: not s2.connections(), 3), s2.connections()
        # and the address they came from logs in again
        code, out, err = s2.client().ssh("alice", "whoami --json")
        assert code == OK, err
    finally:
        for s in idle:
            s.close()


def test_banner_deadline_only_for_the_first_line(gw, serve, another_serve,
                                                 policy_edit):
    """banner_timeout closes a connection that sent nothing; one that sent
    its identification line has the whole login grace time."""
    policy_edit.write(policy_with_serve(gw, banner_timeout="1s",
                                        login_grace_time="4s"))
    s2 = another_serve()
    silent = tcp_connect(s2.port)
    talker = tcp_connect(s2.port)
    try:
        t0 = time.monotonic()
        talker.sendall(b"SSH-2.0-OpenSSH_9.2p1 mgt-e2e\r\n")
        assert read_banner(silent).startswith(b"SSH-2.0-")
        assert read_banner(talker).startswith(b"SSH-2.0-")
        a = closed_within(silent, 3)
        assert a is not None and 0.5 <= time.monotonic() - t0 <= 2, a
        assert closed_within(talker, 1.5) is None
        b = closed_within(talker, 4)
        assert b is not None and 3 <= time.monotonic() - t0 <= 6
    finally:
        silent.close()
        talker.close()
    assert wait_for(lambda: not s2.connections(), 3), s2.connections()


def test_random_early_drop(gw, serve, another_serve, policy_edit):
    """max_startups START:RATE:FULL as sshd's: below START every
    connection is taken, from FULL none, in between some."""
    policy_edit.write(policy_with_serve(gw, max_startups="2:50:6",
                                        per_source_max_startups=100,
                                        banner_timeout="1m"))
    s2 = another_serve()
    idle = []
    try:
        for i in range(12):
            s = tcp_connect_from("127.0.0.%d" % (10 + i), s2.port)
            idle.append(s)
            if not read_banner(s).startswith(b"SSH-2.0-"):
                s.close()
                idle.pop()
            time.sleep(0.05)    # the listener has counted it
        assert 2 <= len(idle) <= 6, len(idle)
        assert wait_for(lambda: len(s2.connections()) == len(idle), 3)
        assert re.search(r"dropped a connection: [2-6] unauthenticated "
                         r"connections already \(max_startups 2:50:6\)$",
                         s2.log(), re.M), s2.log()
    finally:
        for s in idle:
            s.close()


# ---- paramiko, another SSH client ----------------------------------------------------------

def _paramiko():
    return pytest.importorskip("paramiko")


def pm_transport(gw, serve, key=None):
    """A paramiko Transport to SERVE, the host key checked, logged in
    with KEY's identity key (if KEY)."""
    paramiko = _paramiko()
    sock = socket.create_connection(("127.0.0.1", serve.port), timeout=10)
    t = paramiko.Transport(sock)
    t.start_client(timeout=10)
    pub = _s(run(["ssh-keygen", "-y", "-f", serve.host_key]).stdout).split()
    hk = t.get_remote_server_key()
    assert (hk.get_name(), hk.get_base64()) == (pub[0], pub[1])
    if key is not None:
        pk = paramiko.Ed25519Key.from_private_key_file(gw.key(key))
        t.auth_publickey(GW, pk)
        assert t.is_authenticated()
    return t


def _read_all(chan, timeout=10):
    out, err = b"", b""
    end = time.time() + timeout
    chan.settimeout(0.2)
    while time.time() < end:
        if chan.recv_ready():
            out += chan.recv(65536)
            continue
        if chan.recv_stderr_ready():
            err += chan.recv_stderr(65536)
            continue
        if chan.exit_status_ready() and chan.eof_received:
            break
        time.sleep(0.02)
    return out, err


def test_paramiko_exec_whoami_json(gw, serve):
    t = pm_transport(gw, serve, "alice")
    try:
        chan = t.open_session()
        chan.exec_command("whoami --json")
        out, err = _read_all(chan)
        assert chan.recv_exit_status() == OK, err
        assert err == b""
        assert json.loads(out) == {"identity": "alice",
                                   "key": gw.fingerprints["alice"],
                                   "roles": ["operator"]}
        chan = None
    finally:
        t.close()
    t = pm_transport(gw, serve, "eve")
    try:
        chan = t.open_session()
        chan.exec_command("new %ssv-pm" % TARGET)
        out, err = _read_all(chan)
        assert chan.recv_exit_status() == DENIED, (out, err)
        assert out == b"" and err.startswith(b"muxgate: "), err
    finally:
        t.close()


def test_paramiko_shell_with_pty(gw, serve):
    tmux_new(DEPLOY, "sv-pm1", "/bin/cat")
    t = pm_transport(gw, serve, "alice")
    try:
        chan = t.open_session()
        chan.get_pty(term="xterm", width=100, height=30)
        chan.invoke_shell()
        buf = b""
        end = time.time() + 10
        chan.settimeout(0.5)
        while b"muxgate> " not in buf and time.time() < end:
            with contextlib.suppress(socket.timeout):
                buf += chan.recv(4096)
        text = buf.decode("utf-8", "replace")
        assert "muxgate> " in text, text
        assert "muxgate \u2014 logged in as alice" in text, text
        menu_number(text, TARGET + "sv-pm1")
        chan.send("exit\r")
        assert chan.recv_exit_status() == OK
    finally:
        t.close()


def test_paramiko_only_publickey_is_offered(gw, serve):
    paramiko = _paramiko()
    t = pm_transport(gw, serve)
    try:
        for attempt in (lambda: t.auth_none(GW),
                        lambda: t.auth_password(GW, "secret")):
            with pytest.raises(paramiko.BadAuthenticationType) as e:
                attempt()
            assert e.value.allowed_types == ["publickey"], e.value
        assert not t.is_authenticated()
        # a key no identity holds: refused
        with pytest.raises(paramiko.AuthenticationException):
            t.auth_publickey(GW, paramiko.Ed25519Key.from_private_key_file(
                gw.key("unknown")))
        assert not t.is_authenticated()
        # no channel before the login
        with pytest.raises(paramiko.SSHException):
            t.open_session(timeout=5)
    finally:
        t.close()


def test_paramiko_forwarding_and_second_channel_refused(gw, serve):
    paramiko = _paramiko()
    target = OneListener()
    t = pm_transport(gw, serve, "alice")
    try:
        # before and after the session channel: no direct-tcpip
        with pytest.raises(paramiko.ChannelException):
            t.open_channel("direct-tcpip", ("127.0.0.1", target.port),
                           ("127.0.0.1", 4711), timeout=5)
        with pytest.raises(paramiko.SSHException):
            t.request_port_forward("127.0.0.1", 0)
        chan = t.open_session()
        with pytest.raises(paramiko.ChannelException):
            t.open_channel("direct-tcpip", ("127.0.0.1", target.port),
                           ("127.0.0.1", 4711), timeout=5)
        with pytest.raises(paramiko.ChannelException):
            t.open_session(timeout=5)       # one session per connection
        # sftp on the session channel: refused
        with pytest.raises(paramiko.SSHException):
            chan.invoke_subsystem("sftp")
        assert target.accepted == 0
    finally:
        t.close()
        target.close()
    serve.wait_log(r"refused subsystem sftp$", serve.mark)


# ---- stopping ----------------------------------------------------------------------------

def test_sigterm_stops_the_listener_not_the_sessions(gw, another_serve,
                                                     sspawn):
    """docs/muxgate.8: SIGTERM, SIGINT or SIGHUP stop the listener; a
    logged-in connection goes on, as under sshd."""
    s2 = another_serve()
    c = sspawn("alice", via=s2.client())
    read_menu(c)
    conns = s2.connections()
    assert len(conns) == 1, conns
    os.kill(s2.pid, signal.SIGTERM)
    assert s2.proc.wait(5) == OK, s2.log()
    assert re.search(r"muxgate serve\[%d\]: stopping on signal 15$" % s2.pid,
                     s2.log(), re.M), s2.log()
    assert not listening(s2.port)
    c.send("whoami\r")
    assert "alice" in read_menu(c)
    c.send("exit\r")
    code, out = finish(c)
    assert code == OK, out
    assert wait_for(lambda: not [p for p in conns if pid_alive(p)], 5)
    assert auth_files(gw) == []


def test_sigterm_ends_a_connection_cleanly(gw, serve, sspawn):
    """SIGTERM to a connection process (what `kill` or a service manager
    stopping the unit sends): the shell ends, and the SSH_USER_AUTH file,
    "removed when the connection ends" (docs/muxgate.8), is removed."""
    c = sspawn("alice")
    read_menu(c)
    conns = serve.connections()
    assert len(conns) == 1, conns
    shells = [p.pid for p in descendants(conns[0], procs())
              if is_muxgate(gw, p)]
    assert len(shells) == 1, shells
    assert len(auth_files(gw)) == 1, auth_files(gw)
    os.kill(conns[0], signal.SIGTERM)
    c.expect(pexpect.EOF, timeout=10)
    assert wait_for(lambda: not serve.connections(), 5)
    def live_shells():
        t = procs()
        return [p for p in shells if p in t and t[p].state != "Z"]
    assert wait_for(lambda: not live_shells(), 5), \
        "the shell outlived its connection: %r" % live_shells()
    left = wait_for(lambda: auth_files(gw) == [], 3) or auth_files(gw)
    for f in left if left is not True else ():
        os.unlink(os.path.join(gw.base, "state", f))   # for later tests
    assert left is True, "SSH_USER_AUTH file left behind: %r" % left


# ---- more of the protocol ----------------------------------------------------------------

def test_ssh_user_name_is_not_used(gw, serve):
    """docs/muxgate.8: "the SSH user name is not used": the key decides."""
    args = serve.client().ssh_args("alice")
    args[-1] = "somebody-else@127.0.0.1"
    p = run(args + ["whoami --json"], check=False, timeout=15)
    assert p.returncode == OK, p.stderr
    assert parse_json(_s(p.stdout))["identity"] == "alice"
    serve.wait_log(r"accepted publickey %s for user somebody-else: identity "
                   r"alice$" % re.escape(gw.fingerprints["alice"]),
                   serve.mark)


def test_client_keepalives_are_answered(serve, sgw):
    """OpenSSH's ServerAliveInterval asks the server for a reply every
    second; a server that never replies is dropped after CountMax."""
    args = sgw.ssh_args("alice", tty=True)
    i = args.index("-tt")
    args[i:i] = ["-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2"]
    c = pexpect.spawn(args[0], args[1:], env=dict(BASE_ENV), timeout=15,
                      encoding="utf-8", codec_errors="replace")
    try:
        read_menu(c)
        time.sleep(4.5)
        assert c.isalive(), c.before
        c.send("whoami\r")
        assert "alice" in read_menu(c)
        c.send("exit\r")
        code, out = finish(c)
        assert code == OK, out
    finally:
        c.close(force=True)


# ---- flow control: a client that sends much and reads little ------------------------

FLOOD_LINES = 60000


def _flood(args, how):
    """ssh with FLOOD_LINES "help" lines on stdin (fed by a thread, which
    blocks as soon as the windows are full) and a stdout nobody reads."""
    p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=BASE_ENV)

    def feed():
        with contextlib.suppress(OSError, ValueError):
            p.stdin.write(b"help\n" * FLOOD_LINES)
            p.stdin.close()
    threading.Thread(target=feed, daemon=True).start()
    return p


@pytest.mark.parametrize("how", ["killed", "terminated"])
def test_flood_then_client_gone_ends_everything(gw, serve, sgw, how):
    """A client pipes 60000 commands in and reads none of the output, then
    goes (kill -9: a reset; SIGTERM: ssh closes the connection).  serve
    wrote to the shell's stdin blocking while the shell blocked writing
    output serve no longer read: both stayed, with their SSH_USER_AUTH
    file, long after the client.  Now the connection process, the shell
    and the auth-* file go within seconds."""
    p = _flood(sgw.ssh_args("alice"), how)
    try:
        assert wait_for(lambda: len(serve.connections()) == 1, 10), \
            serve.connections()
        conn = serve.connections()[0]
        assert wait_for(lambda: [q for q in descendants(conn, procs())
                                 if is_muxgate(gw, q)], 10)
        shells = [q.pid for q in descendants(conn, procs())
                  if is_muxgate(gw, q)]
        assert len(auth_files(gw)) == 1, auth_files(gw)
        time.sleep(2)               # every buffer on the way fills up
        assert p.poll() is None     # the client is stuck, not done
        # what waits is held back by the windows, not piled up in serve
        rss = int(re.search(r"(?m)^VmRSS:\s+(\d+) kB",
                            open("/proc/%d/status" % conn).read()).group(1))
        assert rss < 32 * 1024, rss
        t0 = time.monotonic()
        if how == "killed":
            p.kill()
        else:
            p.terminate()
        p.wait(15)

        def left():
            t = procs()
            return [q for q in [conn] + shells
                    if q in t and t[q].state != "Z"] + auth_files(gw)
        assert wait_for(lambda: not left(), 10), \
            "left %.1fs after the client: %r" % (time.monotonic() - t0,
                                                 left())
        took = time.monotonic() - t0
        assert took < 5, took
        print("\nflood, client %s: cleaned up in %.2fs" % (how, took))
    finally:
        with contextlib.suppress(ProcessLookupError):
            p.kill()
        p.wait(5)


def test_flood_read_fully_completes(gw, serve, sgw):
    """The same 60000 commands from a client that reads all the output:
    every one runs, its output arrives complete, exit 0."""
    t0 = time.monotonic()
    code, out, err = sgw.ssh("alice", input=b"help\n" * FLOOD_LINES,
                             timeout=80)
    took = time.monotonic() - t0
    assert code == OK, err
    assert out.count("show this list") == FLOOD_LINES
    assert out.count("Targets are USER@HOST:SESSION.") == FLOOD_LINES
    print("\nflood read fully: %d lines, %d bytes in %.2fs" % (
        FLOOD_LINES, len(out), took))
    assert wait_for(lambda: auth_files(gw) == [], 5), auth_files(gw)
