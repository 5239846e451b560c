"""The audit trail (docs/audit-events.md): one record per event, through
the real auditd (read back with ausearch), syslog, or nothing.

The test policy says `gateway.audit: none`; these tests switch it with
policy_edit.  Writing audit records needs CAP_AUDIT_WRITE, which the
gateway account mgt-gw does not have: the module gives the suite's copy of
muxgate `cap_audit_write+ep` (what `make install` does) and takes it away
again at the end.

The audit daemon: one already registered with the kernel is used as it is
and never stopped; if none runs, the module starts /sbin/auditd and stops
it at the end.  Kernel auditing that is off (auditctl -s: enabled 0, as
in a container started without it) is turned on for the module and off
again afterwards.  Tests that need "no daemon" stop that daemon when it is
the module's own and restart it afterwards; when the daemon belongs to
somebody else they hide it from muxgate instead, the way muxgate looks for
it without CAP_AUDIT_CONTROL: muxgate runs (as mgt-gw, with --identity) in
a private mount namespace where /run/auditd.pid is empty.

Every test uses its own session names, and the keys are generated per
run, so records of other muxgate instances writing to the same log never
match.
"""
import hashlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import time

import pexpect
import pytest

from helpers import *
from helpers import _s
from audit_util import *

FP_RE = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")
PROMPT = "muxgate> "


def tag(prefix):
    """A session name of its own for every test: [A-Za-z0-9_-]."""
    return "%s-%s" % (prefix, secrets.token_hex(4))


def policy_with(gw, mode, required=None, extra=""):
    """The test policy with gateway.audit MODE (and audit_required, and
    EXTRA lines of the gateway section)."""
    text = gw.policy_text
    assert "  audit: none\n" in text
    new = "  audit: %s\n" % mode
    if required is not None:
        new += "  audit_required: %s\n" % ("true" if required else "false")
    return text.replace("  audit: none\n", new + extra)


# ---- fixtures ----

@pytest.fixture
def no_cap(gw, audit_cap):
    """The copy without any capability, for one test."""
    setcap(gw.bin, None)
    assert getcap(gw.bin) == ""
    try:
        yield
    finally:
        setcap(gw.bin, "cap_audit_write+ep")


@pytest.fixture
def since():
    return time.time()


@pytest.fixture
def trail(gw, policy_edit, auditd, audit_cap, since):
    """audit: auditd and audit_required: true (so that a record that cannot
    be written is a refusal, not a silent loss); the test's start time."""
    policy_edit.write(policy_with(gw, "auditd", required=True))
    return since


class NoDaemon:
    """Run muxgate while no audit daemon is (visibly) running."""

    def __init__(self, gw, real, workdir=None):
        self.gw = gw
        self.real = real
        self.workdir = workdir

    def run(self, key, command=None, input=None):
        """KEY: the ssh key, and the identity of the same name."""
        if self.real:
            args = (command,) if command is not None else ()
            return self.gw.ssh(key, *args, input=input)
        empty = os.path.join(self.workdir, "no-auditd.pid")
        open(empty, "w").close()
        os.chmod(empty, 0o644)
        env = ["PATH=" + SYS_PATH, "LANG=C.UTF-8", "TERM=xterm",
               "HOME=/home/" + GW, "USER=" + GW, "LOGNAME=" + GW]
        if command is not None:
            env.append("SSH_ORIGINAL_COMMAND=" + command)
        script = ('if [ -e /run/auditd.pid ]; then '
                  'mount --bind "$1" /run/auditd.pid || exit 99; fi; '
                  'shift; exec "$@"')
        cmd = ["unshare", "--mount", "--propagation", "private", "--",
               "/bin/sh", "-c", script, "sh", empty,
               "runuser", "-u", GW, "--", "env", "-i"] + env + \
            [self.gw.bin, "shell", "-f", self.gw.policy, "--identity", key]
        kw = {"input": input.encode()} if input is not None else {}
        p = run(cmd, check=False, **kw)
        assert p.returncode != 99, "cannot hide /run/auditd.pid: %s" % \
            p.stderr
        return p.returncode, p.stdout.decode(), p.stderr.decode()


@pytest.fixture
def no_daemon(gw, auditd, workdir):
    if auditd.ours:
        auditd.stop()
        try:
            yield NoDaemon(gw, real=True)
        finally:
            auditd.start()
        return
    p = run(["unshare", "--mount", "--propagation", "private", "--",
             "/bin/true"], check=False)
    if p.returncode != 0:
        pytest.skip("the audit daemon (pid %d) is not this module's to stop, "
                    "and no mount namespace can hide it: %s"
                    % (auditd.pid, p.stderr.decode().strip()))
    yield NoDaemon(gw, real=False, workdir=workdir)


@pytest.fixture
def syslog():
    """Something that sees muxgate's syslog messages."""
    try:
        listener = SyslogListener().start()
    except FileExistsError:
        daemon = syslog_daemon_running()
        if daemon and os.path.exists("/var/log/auth.log"):
            listener = AuthLogReader()
        else:
            pytest.skip("/dev/log exists but no readable syslog output was "
                        "found (daemon: %s); it is not replaced" % daemon)
    except OSError as e:
        pytest.skip("cannot bind %s: %s" % (DEV_LOG, e))
    try:
        yield listener
    finally:
        listener.stop()


@pytest.fixture
def auditd_if_any(request):
    try:
        return request.getfixturevalue("auditd")
    except pytest.skip.Exception:
        return None


# ---- shared checks ----

def check_login(r, gw, key, identity=None):
    """A successful login record of KEY's connection."""
    assert r.type == "USER_AUTH" and r.op == "muxgate-login", r
    assert r.res == "success", r
    assert r["identity"] == (identity or key)
    assert r["key"] == gw.fingerprints[key]
    assert r.get("reason") is None, r
    assert r.uid == uid_of(GW), r
    check_encoding(r)
    check_interp(r, 'identity="%s"' % (identity or key),
                 "key=" + gw.fingerprints[key])


def check_interp(r, *snippets):
    """What `ausearch -i` prints for R."""
    assert r.interp is not None, "ausearch -i did not show %r" % r
    for s in ("type=" + r.type, "op=" + r.op, "res=" + r.res) + snippets:
        assert s in r.interp, "%r not in %r" % (s, r.interp)


def login_of(since, gw, key):
    return expect_one(since, type="USER_AUTH", op="muxgate-login",
                      key=gw.fingerprints[key])


def connection(since, gw, key, count):
    """The records of the one connection KEY made since SINCE: its login
    first, COUNT records in all."""
    login = login_of(since, gw, key)
    recs = wait_records(since, count=count, pid=login.pid)
    assert recs[0].serial == login.serial, recs
    assert len(recs) == count, "expected %d records of pid %d, got:\n%s" % (
        count, login.pid, "\n".join(map(repr, recs)))
    for r in recs:
        check_encoding(r)
    return recs


# ---- logins ----

def test_login_success_has_identity_and_key(gw, trail, ssh):
    name = tag("login")
    tmux_new(DEPLOY, name, "/bin/cat")
    code, out, err = ssh("alice", "ls mgt-deploy@bastion:" + name)
    assert code == OK, err
    login, cmd = connection(trail, gw, "alice", 2)
    check_login(login, gw, "alice")
    assert FP_RE.fullmatch(login["key"]), login
    assert cmd.type == "USER_CMD" and cmd.op == "muxgate-ls", cmd
    assert cmd["session"] == name


def test_login_unknown_key(gw, trail, ssh):
    code, out, err = ssh("unknown", "whoami")
    assert code == DENIED
    assert gw.fingerprints["unknown"] in one_error_line(err)
    r = expect_one(trail, type="USER_AUTH", key=gw.fingerprints["unknown"])
    assert r.op == "muxgate-login" and r.res == "failed", r
    assert r["reason"] == "unknown-key"
    assert r.get("identity") is None, r
    check_encoding(r)
    check_interp(r, "key=" + gw.fingerprints["unknown"],
                 'reason="unknown-key"')
    assert [x.serial for x in of_process(trail, r.pid)] == [r.serial]


@pytest.mark.parametrize("key,reason", [("bob", "expired"),
                                        ("carol", "disabled"),
                                        ("dave", "source-address")])
def test_login_refused_account(gw, trail, ssh, key, reason):
    code, out, err = ssh(key, "whoami")
    assert code == DENIED, (code, out, err)
    one_error_line(err)
    assert out == ""
    r = expect_one(trail, key=gw.fingerprints[key])
    assert r.type == "USER_ACCT", r
    assert r.op == "muxgate-login" and r.res == "failed", r
    assert r["identity"] == key
    assert r["reason"] == reason
    check_encoding(r)
    check_interp(r, 'identity="%s"' % key, "key=" + gw.fingerprints[key],
                 'reason="%s"' % reason)
    # nothing else from that connection: no login, no command
    assert [x.serial for x in of_process(trail, r.pid)] == [r.serial]


@pytest.mark.parametrize("reason", ["no-auth-info", "auth-info-unreadable",
                                    "no-public-key", "ambiguous-keys",
                                    "unknown-identity"])
def test_login_failures_without_sshd(gw, trail, workdir, reason):
    """What only a broken or unusual set-up produces, run as the gateway
    account the way sshd would (SSH_USER_AUTH is sshd's ExposeAuthInfo)."""
    auth = os.path.join(workdir, "auth-info")
    pub = lambda k: " ".join(gw.keys[k].split()[:2])
    env, args = {}, []
    if reason == "auth-info-unreadable":
        env["SSH_USER_AUTH"] = os.path.join(workdir, "missing")
    elif reason == "no-public-key":
        write_file(auth, "keyboard-interactive\n")
        env["SSH_USER_AUTH"] = auth
    elif reason == "ambiguous-keys":
        write_file(auth, "publickey %s\npublickey %s\n" % (pub("alice"),
                                                          pub("frank")))
        env["SSH_USER_AUTH"] = auth
    elif reason == "unknown-identity":
        args = ["--identity", "nobody"]
    env["SSH_ORIGINAL_COMMAND"] = "whoami"
    code, out, err = gw.local("shell", "-f", gw.policy, *args, env=env,
                              user=GW)
    assert code == DENIED, (code, out, err)
    one_error_line(err)
    r = expect_one(trail, type="USER_AUTH", exe=gw.bin, reason=reason)
    assert r.op == "muxgate-login" and r.res == "failed", r
    assert r.get("identity") is None, r
    if reason == "ambiguous-keys":
        assert r["key"] == gw.fingerprints["frank"]
    else:
        assert r.get("key") is None, r
    check_encoding(r)
    check_interp(r, 'reason="%s"' % reason)
    assert [x.serial for x in of_process(trail, r.pid)] == [r.serial]


# ---- commands ----

def test_allowed_command_and_denial(gw, trail, ssh):
    name = tag("cmd")
    tmux_new(DEPLOY, name, "/bin/cat")
    code, out, err = ssh("alice", "ls mgt-deploy@bastion:" + name)
    assert code == OK, err
    assert name in out
    ok = expect_one(trail, type="USER_CMD", session=name)
    assert ok.op == "muxgate-ls" and ok.res == "success", ok
    assert ok["identity"] == "alice"
    assert ok["key"] == gw.fingerprints["alice"]
    assert ok["host"] == "bastion" and ok["tmux_user"] == DEPLOY
    assert ok.get("reason") is None, ok
    check_encoding(ok)
    check_interp(ok, 'identity="alice"', 'host="bastion"',
                 'tmux_user="mgt-deploy"', 'session="%s"' % name)

    code, out, err = ssh("alice", "ls ops@web1:" + name)
    assert code == DENIED
    assert "permission denied" in one_error_line(err)
    denied = expect_one(trail, type="USER_CMD", session=name, host="web1")
    assert denied.op == "muxgate-ls" and denied.res == "failed", denied
    assert denied["reason"] == "permission-denied"
    assert denied["identity"] == "alice" and denied["tmux_user"] == "ops"
    assert denied.pid != ok.pid
    check_encoding(denied)
    check_interp(denied, 'host="web1"', 'reason="permission-denied"')
    # one login each, nothing else
    for r in (ok, denied):
        recs = of_process(trail, r.pid)
        assert [x.type for x in recs] == ["USER_AUTH", "USER_CMD"], recs
        check_login(recs[0], gw, "alice")


def test_new_and_kill(gw, trail, ssh):
    name = tag("nk")
    target = "mgt-deploy@bastion:" + name
    code, out, err = ssh("alice", "new " + target)
    assert code == OK, err
    assert tmux_has(DEPLOY, name)
    new = expect_one(trail, type="USER_CMD", op="muxgate-new", session=name)
    assert new.res == "success" and new["identity"] == "alice", new
    assert new.get("reason") is None
    check_interp(new, 'session="%s"' % name)

    # frank may kill only his own sessions
    code, out, err = ssh("frank", "kill %s --yes" % target)
    assert code == DENIED, err
    assert tmux_has(DEPLOY, name)
    r = expect_one(trail, type="USER_CMD", op="muxgate-kill", session=name,
                   identity="frank")
    assert r.res == "failed" and r["reason"] == "not-owner", r

    # not interactive and no --yes: refused before anything is looked up
    code, out, err = ssh("alice", "kill " + target)
    assert code == USAGE, err
    assert tmux_has(DEPLOY, name)

    code, out, err = ssh("alice", "kill %s --yes" % target)
    assert code == OK, err
    assert not tmux_has(DEPLOY, name)
    ok = wait_records(trail, count=1, type="USER_CMD", op="muxgate-kill",
                      session=name, identity="alice")
    assert len(ok) == 1, ok
    assert ok[0].res == "success" and ok[0].get("reason") is None, ok
    check_interp(ok[0], 'identity="alice"', 'session="%s"' % name)

    code, out, err = ssh("alice", "kill %s --yes" % target)
    assert code == NOSESSION, err
    gone = expect_one(trail, type="USER_CMD", op="muxgate-kill", session=name,
                      reason="no-such-session")
    assert gone.res == "failed" and gone.pid != ok[0].pid

    usage = expect_one(trail, type="USER_CMD", op="muxgate-kill",
                       reason="usage", key=gw.fingerprints["alice"])
    assert usage.res == "failed" and usage.get("session") is None, usage
    kills = wait_records(trail, count=4, type="USER_CMD", op="muxgate-kill",
                         key=lambda k: k in (gw.fingerprints["alice"],
                                             gw.fingerprints["frank"]))
    assert len(kills) == 4, kills
    for r in [new] + kills:
        check_encoding(r)


@pytest.mark.parametrize("command,code,op,res,reason", [
    ("whoami", OK, "muxgate-whoami", "success", None),
    ("hosts --json", OK, "muxgate-hosts", "success", None),
    ("frobnicate", USAGE, "muxgate-invalid", "failed", "unknown-command"),
    ("ls; id", USAGE, "muxgate-invalid", "failed", "malformed"),
    ("scp -f /etc/shadow", USAGE, "muxgate-invalid", "failed",
     "file-transfer"),
    ("ls --bogus", USAGE, "muxgate-ls", "failed", "usage"),
    ("attach nohost", USAGE, "muxgate-attach", "failed", "bad-target"),
    ("watch mgt-build@bastion:x", DENIED, "muxgate-watch", "failed",
     "permission-denied"),
], ids=["whoami", "hosts", "unknown-command", "malformed", "file-transfer",
        "usage", "bad-target", "deny-rule"])
def test_command_records(gw, trail, ssh, command, code, op, res, reason):
    key = "eve" if command.startswith("watch") else "alice"
    got, out, err = ssh(key, command)
    assert got == code, (got, out, err)
    login, cmd = connection(trail, gw, key, 2)
    check_login(login, gw, key)
    assert cmd.type == "USER_CMD", cmd
    assert (cmd.op, cmd.res, cmd.get("reason")) == (op, res, reason), cmd
    assert cmd["identity"] == key and cmd["key"] == gw.fingerprints[key]
    check_interp(cmd, 'identity="%s"' % key)
    if reason is not None:
        check_interp(cmd, 'reason="%s"' % reason)


def test_audit_none_writes_nothing(gw, auditd, audit_cap, ssh, since):
    """The suite's own policy: gateway.audit: none."""
    name = tag("none")
    code, out, err = ssh("alice", "new mgt-deploy@bastion:" + name)
    assert code == OK, err
    code, out, err = ssh("unknown", "whoami")
    assert code == DENIED
    time.sleep(1.5)
    assert find(since, session=name) == []
    assert find(since, key=gw.fingerprints["alice"]) == []
    assert find(since, key=gw.fingerprints["unknown"]) == []


# ---- encoding ----

HOSTILE = 'q%s "b" = c identity=mallory res=success'


def test_hostile_session_name_stays_one_field(gw, trail, ssh):
    name = HOSTILE % secrets.token_hex(4)
    tmux_new(DEPLOY, name, "/bin/cat")
    assert tmux_has(DEPLOY, name), tmux_sessions(DEPLOY)
    code, out, err = ssh("alice", "ls 'mgt-deploy@bastion:%s'" % name)
    assert code == OK, (out, err)
    r = expect_one(trail, type="USER_CMD", session=name)
    assert r.op == "muxgate-ls" and r.res == "success", r
    # One session= field, hex: exactly the name's bytes.
    raw = r.raw("session")
    assert re.fullmatch(r"[0-9A-F]+", raw), r.msg
    assert bytes.fromhex(raw) == name.encode()
    # Nothing forged: one identity (alice), one res, no "mallory".
    assert r.names().count("identity") == 1 and r["identity"] == "alice"
    assert r.names().count("res") == 1, r.msg
    assert "mallory" not in r.msg and "mallory" not in r.line
    assert r.line.split("\x1d")[0].count(" res=") == 1, r.line
    assert r.line.count(" identity=") == 1, r.line
    check_encoding(r)
    # ausearch -i shows it as hex too: it does not know the field.
    check_interp(r, "session=" + raw, 'identity="alice"')
    assert "mallory" not in r.interp


def needs_hex(value):
    """libaudit's rule (audit_value_needs_encoding): a double quote, a
    space or control byte, DEL or any non-ASCII byte."""
    return any(b == 0x22 or b < 0x21 or b >= 0x7f for b in value.encode())


@pytest.mark.parametrize("name", ["\u00e9t\u00e9", "a=b=c", "it's", "tab\tx"],
                         ids=["non-ascii", "equals", "single-quote", "tab"])
def test_value_encoding(gw, trail, ssh, name):
    name = "%s-%s" % (name, secrets.token_hex(4))
    code, out, err = ssh("alice", 'ls "ops@web1:%s"' % name)
    assert code == DENIED, err
    r = expect_one(trail, type="USER_CMD", session=name)
    assert r.res == "failed" and r["reason"] == "permission-denied", r
    raw = r.raw("session")
    if needs_hex(name):
        assert re.fullmatch(r"[0-9A-F]+", raw), r.msg
        assert bytes.fromhex(raw).decode() == name
        check_interp(r, "session=" + raw)
    else:
        assert raw == '"%s"' % name, r.msg
        check_interp(r, 'session="%s"' % name)
    assert all(0x20 <= ord(c) < 0x7f for c in r.msg), r.msg
    assert r.names().count("res") == 1 and r.names()[-1] == "res"
    check_encoding(r)


# ---- attach and watch ----

def read_menu(child):
    child.expect_exact(PROMPT)
    return child.before


def menu_number(menu, target):
    m = re.search(r"(?m)^\s*(\d+)\) %s(?![\w-])" % re.escape(target), menu)
    assert m, "no menu entry for %s in %r" % (target, menu)
    return m.group(1)


def detach(child):
    child.send("\x02")
    time.sleep(0.2)
    child.send("d")


def finish(child, timeout=10):
    child.expect(pexpect.EOF, timeout=timeout)
    child.close()
    return child.exitstatus


def check_attach_pair(gw, since, name, identity, mode, reason):
    start = expect_one(since, type="USER_START", session=name)
    end = expect_one(since, type="USER_END", session=name)
    for r, op in ((start, "muxgate-attach-start"),
                  (end, "muxgate-attach-end")):
        assert r.op == op, r
        assert r["identity"] == identity
        assert r["key"] == gw.fingerprints[identity]
        assert r["host"] == "bastion" and r["tmux_user"] == DEPLOY
        assert r["attach_mode"] == mode
        check_encoding(r)
        check_interp(r, 'identity="%s"' % identity, 'session="%s"' % name,
                     'attach="%s"' % r["attach"])
    assert start.pid == end.pid
    assert int(start.serial) < int(end.serial)
    assert re.fullmatch(r"[0-9a-f]{16}", start["attach"]), start
    assert end["attach"] == start["attach"]
    assert end["recording"] == start["recording"]
    rec = start["recording"]
    assert rec.startswith(os.path.join(gw.base, "recordings") + "/"), rec
    assert rec.endswith("-%s.cast" % start["attach"]), rec
    assert os.path.isfile(rec), rec
    assert start.res == "success"
    for f in ("bytes_in", "bytes_out", "duration", "reason"):
        assert start.get(f) is None, start
    # The trail anchors the file: the header when the attach started,
    # all of it when it ended.
    with open(rec, "rb") as f:
        data = f.read()
    header = data[:data.index(b"\n") + 1]
    assert start["rec_bytes"] == len(header), (start, len(header))
    assert start["rec_hash"] == hashlib.blake2b(header,
                                                digest_size=32).hexdigest()
    assert end["rec_bytes"] == len(data), (end, len(data))
    assert end["rec_hash"] == hashlib.blake2b(data, digest_size=32).hexdigest()
    assert end["reason"] == reason
    assert end.res == "success", end
    assert end["duration"] < 60
    check_interp(end, 'reason="%s"' % reason, "bytes_in=", "bytes_out=",
                 "duration=")
    return start, end


def test_attach_start_and_end(gw, trail, spawn):
    name = tag("att")
    tmux_new(DEPLOY, name, "/bin/cat")
    c = spawn("alice", "attach mgt-deploy@bastion:" + name)
    assert wait_for(lambda: tmux_clients(DEPLOY, name), 10)
    # The gateway process: CAP_AUDIT_WRITE only, nothing to hand down.
    pids = processes_of(uid_of(GW), gw.bin)
    assert pids, "no muxgate process of %s" % GW
    for pid in pids:
        caps = proc_caps(pid)
        assert caps["CapPrm"] == caps["CapEff"] == 1 << CAP_AUDIT_WRITE, caps
        assert caps["CapInh"] == 0 and caps.get("CapAmb", 0) == 0, caps
    typed = "typed-%s\r" % name
    c.send(typed)
    assert wait_for(lambda: "typed-" + name in tmux_capture(DEPLOY, name), 5)
    time.sleep(1.2)
    detach(c)
    assert finish(c) == OK
    cmd = expect_one(trail, type="USER_CMD", session=name)
    assert cmd.op == "muxgate-attach" and cmd.res == "success", cmd
    start, end = check_attach_pair(gw, trail, name, "alice", "attach",
                                   "detach")
    assert cmd.pid == start.pid and int(cmd.serial) < int(start.serial)
    assert end["bytes_in"] >= len(typed) + 2, end
    assert end["bytes_out"] > len(typed), end
    assert end["duration"] >= 1, end
    recs = of_process(trail, cmd.pid)
    assert [r.type for r in recs] == ["USER_AUTH", "USER_CMD", "USER_START",
                                     "USER_END"], recs


def test_watch_start_and_end_by_escape_key(gw, trail, spawn):
    name = tag("wat")
    tmux_new(DEPLOY, name, "/bin/cat")
    c = spawn("eve", "watch mgt-deploy@bastion:" + name)
    assert wait_for(lambda: tmux_clients(DEPLOY, name), 10)
    tmux(DEPLOY, "send-keys", "-t", "=%s:" % name, "SHOWN-" + name, "Enter",
         check=True)
    c.expect_exact("SHOWN-" + name, timeout=10)
    c.send("\x1d")              # ^]: the policy's default escape key
    assert finish(c) == OK
    cmd = expect_one(trail, type="USER_CMD", session=name)
    assert cmd.op == "muxgate-watch" and cmd.res == "success", cmd
    start, end = check_attach_pair(gw, trail, name, "eve", "watch", "escape")
    assert end["bytes_out"] > 0


@pytest.mark.parametrize("how", ["idle", "lifetime", "hangup", "signal"])
def test_attach_end_reasons(gw, policy_edit, auditd, audit_cap, since, spawn,
                            how):
    """An attach that does not end by the user's choice: USER_END
    res=failed with the reason.  A hangup (the ssh client dies) is tried a
    few times: whether its record is written has been a race."""
    limit = {"idle": "idle_timeout", "lifetime": "attach_lifetime"}.get(how)
    extra = "  limits:\n    %s: 2s\n" % limit if limit else ""
    policy_edit.write(policy_with(gw, "auditd", required=True, extra=extra))
    names = []
    for _ in range(3 if how == "hangup" else 1):
        name = tag(how)
        names.append(name)
        tmux_new(DEPLOY, name, "/bin/cat")
        c = spawn("alice", "attach mgt-deploy@bastion:" + name)
        assert wait_for(lambda: tmux_clients(DEPLOY, name), 10)
        if how == "hangup":
            c.terminate(force=True)         # the ssh client, by its pid
            assert wait_for(lambda: not processes_of(uid_of(GW), gw.bin), 10)
        elif how == "signal":
            pids = processes_of(uid_of(GW), gw.bin)
            assert len(pids) == 1, pids     # the gateway of this connection
            os.kill(pids[0], signal.SIGTERM)
        if how in ("idle", "lifetime", "signal"):
            assert finish(c, timeout=15) == FAIL
    lost = []
    for name in names:
        start = expect_one(since, type="USER_START", session=name)
        ends = wait_records(since, count=1, timeout=5, type="USER_END",
                            session=name)
        if not ends:
            lost.append(start)
            continue
        assert len(ends) == 1, ends
        end = ends[0]
        assert end["attach"] == start["attach"]
        assert end["reason"] == how, end
        assert end.res == "failed", end
        if limit:
            assert 2 <= end["duration"] <= 6, end
        check_encoding(end)
        check_interp(end, 'reason="%s"' % how)
        assert tmux_has(DEPLOY, name)
    assert not lost, "%d of %d attaches have a USER_START and no USER_END:" \
        "\n%s" % (len(lost), len(names), "\n".join(map(repr, lost)))


def test_attach_end_reason_disk_space(gw, policy_edit, auditd, audit_cap,
                                     since, spawn, workdir):
    """A session that prints without end fills the recordings file
    system to gateway.limits.recording_min_free: USER_END res=failed
    reason=disk-space, naming the recording."""
    from relay_util import small_fs
    name = tag("space")
    with small_fs(workdir, "2m") as (mnt, d):
        text = policy_with(gw, "auditd", required=True,
                           extra="  limits:\n    recording_min_free: 25%\n")
        old = "  recordings: %s/recordings\n" % gw.base
        assert old in text
        policy_edit.write(text.replace(old, "  recordings: %s\n" % d))
        tmux_new(DEPLOY, name, "/bin/sh", "-c",
                 "read x; while :; do echo flood-of-output-$$; done")
        c = spawn("alice", "attach mgt-deploy@bastion:" + name)
        assert wait_for(lambda: tmux_clients(DEPLOY, name), 10)
        c.send("\r")
        assert finish(c, timeout=30) == FAIL
        end = expect_one(since, type="USER_END", session=name)
        assert end["reason"] == "disk-space", end
        assert end.res == "failed", end
        assert end["recording"].startswith(d + "/alice/"), end
        check_interp(end, 'reason="disk-space"')


def test_checkpoints_anchor_a_long_attach(gw, policy_edit, auditd,
                                          audit_cap, since, spawn):
    """gateway.recording_checkpoint: every interval, a TRAIL record with
    the recording's hash and length so far; each is the hash of the
    file's first rec_bytes bytes, as it is on disk afterwards."""
    policy_edit.write(policy_with(gw, "auditd", required=True,
                                  extra="  recording_checkpoint: 1s\n"))
    name = tag("ckpt")
    tmux_new(DEPLOY, name, "/bin/cat")
    c = spawn("alice", "attach mgt-deploy@bastion:" + name)
    assert wait_for(lambda: tmux_clients(DEPLOY, name), 10)
    for i in range(3):
        c.send("line-%d\r" % i)
        time.sleep(1.1)
    detach(c)
    assert finish(c) == OK
    start, end = check_attach_pair(gw, since, name, "alice", "attach",
                                   "detach")
    cps = wait_records(since, count=2, type="TRUSTED_APP",
                       op="muxgate-attach-checkpoint", session=name)
    assert len(cps) >= 2, cps
    with open(end["recording"], "rb") as f:
        data = f.read()
    last = 0
    for cp in cps:
        check_encoding(cp)
        assert cp["attach"] == start["attach"] and cp.pid == start.pid
        assert cp.res == "success"
        n = cp["rec_bytes"]
        assert last <= n <= len(data), (cp, last, len(data))
        assert cp["rec_hash"] == hashlib.blake2b(data[:n],
                                                 digest_size=32).hexdigest()
        assert cp["duration"] >= 0
        last = n
    assert int(cps[-1].serial) < int(end.serial)


def verify(gw, *args):
    p = run([gw.bin, "verify"] + list(args), check=False)
    return p.returncode, _s(p.stdout), _s(p.stderr)


def recorded_attach(gw, spawn, name, lines=2):
    """An attach that types LINES lines and detaches: its recording."""
    tmux_new(DEPLOY, name, "/bin/cat")
    c = spawn("alice", "attach mgt-deploy@bastion:" + name)
    assert wait_for(lambda: tmux_clients(DEPLOY, name), 10)
    for i in range(lines):
        c.send("line-%d\r" % i)
        time.sleep(0.3)
    detach(c)
    assert finish(c) == OK
    return c


def test_verify_against_the_audit_trail(gw, trail, spawn, workdir):
    """muxgate verify: the recording as written is intact; a cut copy is
    truncated, an edited or extended one modified, one no record names
    unanchored; through ausearch and from the raw audit log alike."""
    name = tag("ver")
    recorded_attach(gw, spawn, name)
    end = expect_one(trail, type="USER_END", session=name)
    rec = end["recording"]
    code, out, err = verify(gw, rec)
    assert (code, out, err) == (OK, "%s: intact\n" % rec, ""), (code, out,
                                                                 err)
    log = "/var/log/audit/audit.log"
    if os.access(log, os.R_OK):
        code, out, err = verify(gw, "--audit-log", log, rec)
        assert (code, out) == (OK, "%s: intact\n" % rec), (code, out, err)
    with open(rec, "rb") as f:
        data = f.read()
    header_end = data.index(b"\n") + 1
    second = data.index(b"\n", header_end) + 1
    cases = {
        "cut": (data[:second + 5], "truncated at "),
        "flipped": (data[:second] + bytes([data[second] ^ 1]) +
                    data[second + 1:], "modified: "),
        "appended": (data + b'[99.0, "o", "forged"]\n',
                     "modified: 22 bytes were added after its end"),
        "header": (data.replace(b'"identity":"alice"', b'"identity":"alicf"'),
                   "modified: "),
    }
    for what, (content, want) in cases.items():
        copy = os.path.join(workdir, "copy-%s.cast" % what)
        with open(copy, "wb") as f:
            f.write(content)
        code, out, err = verify(gw, copy)
        assert code == FAIL, (what, code, out, err)
        assert out.startswith("%s: %s" % (copy, want)), (what, out)
        assert err == "", (what, err)
    stranger = os.path.join(workdir, "stranger.cast")
    with open(stranger, "wb") as f:
        f.write(data.replace(end["attach"].encode(), b"0" * 16))
    code, out, err = verify(gw, rec, stranger)
    assert code == FAIL
    assert out == "%s: intact\n%s: unanchored: no audit record names " \
        "attach %s\n" % (rec, stranger, "0" * 16), out


def test_verify_a_killed_relay_is_truncated_not_modified(
        gw, policy_edit, auditd, audit_cap, since, spawn):
    """kill -9 of the relay in the middle of an attach: no USER_END, the
    file ends wherever the last write left it, and it verifies as
    truncated, never modified; it still replays."""
    policy_edit.write(policy_with(gw, "auditd", required=True,
                                  extra="  recording_checkpoint: 1s\n"))
    name = tag("kill9")
    tmux_new(DEPLOY, name, "/bin/cat")
    c = spawn("alice", "attach mgt-deploy@bastion:" + name)
    assert wait_for(lambda: tmux_clients(DEPLOY, name), 10)
    start = expect_one(since, type="USER_START", session=name)
    for i in range(3):
        c.send("before-kill-%d\r" % i)
        time.sleep(0.8)
    wait_records(since, count=1, type="TRUSTED_APP", session=name)
    os.kill(start.pid, signal.SIGKILL)
    finish(c)
    rec = start["recording"]
    code, out, err = verify(gw, rec)
    assert code == FAIL, (code, out, err)
    assert out.startswith("%s: truncated at " % rec), out
    assert "no end record" in out, out
    p = run([gw.bin, "replay", "--cat", rec], check=False)
    assert p.returncode == OK, p.stderr


def test_verify_sealed_recordings(gw, policy_edit, auditd, audit_cap,
                                  since, spawn, workdir):
    """A sealed recording is anchored like a plain one: intact with and
    without the key; a relay killed with -9 leaves one that verifies as
    truncated (with the key: up to its last whole frame), not modified."""
    keydir = os.path.join(workdir, "auditor")
    p = run([gw.bin, "keygen", keydir], check=False)
    assert p.returncode == OK, p.stderr
    pub = os.path.join(workdir, "auditor.pub")
    shutil.copyfile(os.path.join(keydir, "auditor.pub"), pub)
    os.chmod(pub, 0o644)
    key = os.path.join(keydir, "auditor.key")
    policy_edit.write(policy_with(
        gw, "auditd", required=True,
        extra="  recording_checkpoint: 1s\n  recording_recipients: [%s]\n"
        % pub))
    name = tag("sver")
    recorded_attach(gw, spawn, name)
    end = expect_one(since, type="USER_END", session=name)
    rec = end["recording"]
    assert rec.endswith(".sealed"), rec
    for args in ((rec,), ("--key", key, rec)):
        code, out, err = verify(gw, *args)
        assert (code, out, err) == (OK, "%s: intact\n" % rec, ""), args
    with open(rec, "rb") as f:
        data = f.read()
    # The frames (docs/recording-format.md): header line, then
    # 4-byte big-endian length and ciphertext, the last one final.
    head = data[:data.index(b"\n") + 1]
    frames, off = [], len(head)
    while off < len(data):
        n = int.from_bytes(data[off:off + 4], "big")
        frames.append(data[off:off + 4 + n])
        off += 4 + n
    assert off == len(data) and len(frames) >= 3, len(frames)
    changed = {
        "flipped": data[:-8] + bytes([data[-8] ^ 0x40]) + data[-7:],
        "removed": head + b"".join(frames[:1] + frames[2:]),
        "swapped": head + b"".join([frames[1], frames[0]] + frames[2:]),
        "appended": data + frames[1],
        "header": data.replace(b'"identity":"alice"', b'"identity":"alicf"'),
    }
    for what, content in changed.items():
        copy = os.path.join(workdir, "%s.sealed" % what)
        with open(copy, "wb") as f:
            f.write(content)
        code, out, err = verify(gw, "--key", key, copy)
        assert code == FAIL, (what, out, err)
        assert out.startswith(copy + ": modified: "), (what, out)
        # Without the key only the hashes speak: never intact; a file
        # shortened past its last record reads as cut (recordings.md).
        code, out, err = verify(gw, copy)
        assert code == FAIL and ": intact" not in out, (what, out)
        if what in ("flipped", "appended", "header"):
            assert out.startswith(copy + ": modified: "), (what, out)
        p = run([gw.bin, "export", "--key", key, copy], check=False)
        assert p.returncode == FAIL, (what, p.stderr)
    cut = os.path.join(workdir, "cut.sealed")
    with open(cut, "wb") as f:
        f.write(head + b"".join(frames[:-1]))     # no final frame
    code, out, err = verify(gw, "--key", key, cut)
    assert code == FAIL and out.startswith(cut + ": truncated at "), out

    name = tag("skill")
    tmux_new(DEPLOY, name, "/bin/cat")
    c = spawn("alice", "attach mgt-deploy@bastion:" + name)
    assert wait_for(lambda: tmux_clients(DEPLOY, name), 10)
    start = expect_one(since, type="USER_START", session=name)
    for i in range(3):
        c.send("sealed-kill-%d\r" % i)
        time.sleep(0.8)
    wait_records(since, count=1, type="TRUSTED_APP", session=name)
    os.kill(start.pid, signal.SIGKILL)
    finish(c)
    rec = start["recording"]
    for args in ((rec,), ("--key", key, rec)):
        code, out, err = verify(gw, *args)
        assert code == FAIL, (args, out, err)
        assert out.startswith("%s: truncated at " % rec), (args, out)
    p = run([gw.bin, "export", "--key", key, rec], check=False)
    assert p.returncode == OK and b"sealed-kill-0" in p.stdout, p.stderr


def test_attach_mode_readable_with_ausearch_i(gw, trail, spawn):
    """`ausearch -i` must tell an attach from a watch.  (auparse interprets
    any field called mode= as a file mode.)"""
    name = tag("mode")
    tmux_new(DEPLOY, name, "/bin/cat")
    c = spawn("alice", "attach mgt-deploy@bastion:" + name)
    assert wait_for(lambda: tmux_clients(DEPLOY, name), 10)
    detach(c)
    assert finish(c) == OK
    start = expect_one(trail, type="USER_START", session=name)
    assert start["attach_mode"] == "attach"
    assert "attach" in re.search(r" attach_mode=(\S+)", start.interp).group(1), \
        start.interp


def test_menu_number_attach_is_recorded_as_attach(gw, trail, spawn):
    """The interactive menu: a number attaches; its USER_CMD must say
    op=muxgate-attach, whatever command was typed before."""
    name = tag("menu")
    target = "mgt-deploy@bastion:" + name
    tmux_new(DEPLOY, name, "/bin/cat")
    c = spawn("alice")
    menu = read_menu(c)
    c.send("whoami\r")
    read_menu(c)
    c.send(menu_number(menu, target) + "\r")
    assert wait_for(lambda: tmux_clients(DEPLOY, name), 10)
    detach(c)
    read_menu(c)
    c.send("exit\r")
    assert finish(c) == OK
    check_attach_pair(gw, trail, name, "alice", "attach", "detach")
    cmd = expect_one(trail, type="USER_CMD", session=name)
    assert cmd.res == "success", cmd
    assert cmd.op == "muxgate-attach", \
        "the menu attach was recorded as %s: %r" % (cmd.op, cmd)


def test_menu_number_is_an_ordinary_command(gw, trail, spawn):
    """A number is short for "attach TARGET" and goes the same way as the
    typed command: frank may only list mgt-deploy's sessions, so the
    number is refused, recorded, and the menu goes on."""
    name = tag("mnum")
    target = "mgt-deploy@bastion:" + name
    tmux_new(DEPLOY, name, "/bin/cat")
    c = spawn("frank")
    menu = read_menu(c)
    c.send(menu_number(menu, target) + "\r")
    c.expect_exact("muxgate: permission denied: attach on " + target)
    read_menu(c)
    assert tmux_clients(DEPLOY, name) == []
    c.send("whoami\r")
    c.expect_exact("identity frank")
    read_menu(c)
    c.send("exit\r")
    assert finish(c) == OK
    cmd = expect_one(trail, type="USER_CMD", op="muxgate-attach", session=name)
    assert cmd.res == "failed" and cmd["reason"] == "permission-denied", cmd
    assert cmd["identity"] == "frank"


def test_interactive_kill_not_confirmed(gw, trail, spawn):
    name = tag("conf")
    target = "mgt-deploy@bastion:" + name
    tmux_new(DEPLOY, name, "/bin/cat")
    c = spawn("alice")
    read_menu(c)
    c.send("kill %s\r" % target)
    c.expect_exact("Type the session name to confirm: ")
    c.send("not-%s\r" % name)
    read_menu(c)
    assert tmux_has(DEPLOY, name)
    c.send("kill %s\r" % target)
    c.expect_exact("Type the session name to confirm: ")
    c.send(name + "\r")
    read_menu(c)
    c.send("exit\r")
    assert finish(c) == OK
    assert not tmux_has(DEPLOY, name)
    recs = wait_records(trail, count=2, type="USER_CMD", session=name)
    assert [(r.op, r.res, r.get("reason")) for r in recs] == [
        ("muxgate-kill", "failed", "not-confirmed"),
        ("muxgate-kill", "success", None)], recs
    assert recs[0].pid == recs[1].pid
    for r in recs:
        check_encoding(r)


# ---- the policy ----

POLICY_BREAKS = ["syntax", "unknown-key", "writable"]


def break_policy(gw, policy_edit, how):
    """Make the live policy unusable; returns what the full error says."""
    if how == "syntax":
        policy_edit.write(gw.policy_text + "bogus: [\n")
        return gw.policy + ":"
    if how == "unknown-key":
        marker = "bogus_" + secrets.token_hex(4)
        policy_edit.write(gw.policy_text.replace(
            "  audit: none\n", "  audit: auditd\n  %s: 1\n" % marker))
        return marker
    policy_edit.chmod(0o666)
    return "writable"


def admin_lines(syslog, ref):
    return syslog.wait(lambda m: m.ident == "muxgate" and m.text is not None
                       and "(reference %s)" % ref in m.text)


@pytest.mark.parametrize("how", POLICY_BREAKS)
def test_policy_failure(gw, auditd, audit_cap, policy_edit, ssh, since, how):
    """The user gets a reference; the audit record has it and the error."""
    marker = break_policy(gw, policy_edit, how)
    code, out, err = ssh("alice", "whoami")
    assert code == FAIL, (code, out, err)
    ref = misconfigured(gw, err)
    r = expect_one(since, type="USER_ERR", ref=ref)
    assert r.op == "muxgate-policy" and r.res == "failed", r
    assert r.names() == ["op", "ref", "reason"] + list(LIBAUDIT_FIELDS), r.msg
    assert r.raw("ref") == '"%s"' % ref, r.msg
    assert re.fullmatch(r"[0-9A-F]+", r.raw("reason")), r.msg
    assert marker in r["reason"], r["reason"]
    assert r.uid == uid_of(GW)
    check_encoding(r)
    check_interp(r, 'ref="%s"' % ref, "reason=" + r.raw("reason"))
    # no login record, nothing else from that process
    assert [x.serial for x in of_process(since, r.pid)] == [r.serial]


@pytest.mark.parametrize("how", POLICY_BREAKS)
def test_policy_failure_details_in_syslog(gw, policy_edit, ssh, syslog, how):
    """What the user was not told is in the gateway's log, under the
    reference the user was given (whether or not auditd runs)."""
    marker = break_policy(gw, policy_edit, how)
    code, out, err = ssh("alice", "whoami")
    assert code == FAIL, (code, out, err)
    ref = misconfigured(gw, err)
    got = admin_lines(syslog, ref)
    assert len(got) == 1, (ref, syslog.messages())
    m = got[0]
    assert m.text.startswith("policy unusable (reference %s): " % ref), m
    assert gw.policy in m.text and marker in m.text, m
    check_priority(m, LOG_ERR)


def test_open_shell_broken_policy_gives_reference(gw, policy_edit, spawn,
                                                  syslog):
    """A menu whose policy breaks under it: the same one line, with the
    details in the log under its reference."""
    c = spawn("alice")
    c.expect_exact(PROMPT)
    policy_edit.write(gw.policy_text + "\nbogus: [\n")
    c.send("ls\r")
    c.expect(r"access ended: the gateway is misconfigured; tell its "
             r"administrators \(reference ([0-9a-f]{8})\)")
    ref = c.match.group(1)
    c.expect(pexpect.EOF, timeout=10)
    rest = c.before
    c.close()
    assert c.exitstatus == FAIL
    assert gw.policy not in rest and "bogus" not in rest, rest
    got = admin_lines(syslog, ref)
    assert len(got) == 1, (ref, syslog.messages())
    assert gw.policy in got[0].text, got[0]


# ---- audit_required ----

def test_required_refuses_without_daemon(gw, policy_edit, audit_cap,
                                         no_daemon):
    policy_edit.write(policy_with(gw, "auditd", required=True))
    code, out, err = no_daemon.run("alice", "ls")
    assert code == FAIL, (code, out, err)
    line = one_error_line(err)
    assert "audit" in line and "no audit daemon is running" in line, line
    assert out == ""
    name = tag("nod")
    code, out, err = no_daemon.run("alice", "new mgt-deploy@bastion:" + name)
    assert code == FAIL, (code, out, err)
    assert "audit" in one_error_line(err)
    assert not tmux_has(DEPLOY, name)


def test_outcome_not_decision_is_recorded(gw, trail, ssh, spawn):
    """One USER_CMD per attempt, with res=success only once the action
    happened: an allowed ls, attach or new whose session is missing or
    taken is recorded as failed, with the reason; nothing of an attach
    (USER_START) is recorded when it never began."""
    name = tag("outc")
    missing = "mgt-deploy@bastion:" + name
    for command, code, op, reason in (
            ("ls " + missing, NOSESSION, "muxgate-ls", "no-such-session"),
            ("kill %s --yes" % missing, NOSESSION, "muxgate-kill",
             "no-such-session")):
        t0 = time.time()
        got, out, err = ssh("alice", command)
        assert got == code, (command, got, out, err)
        one_error_line(err)
        login, cmd = connection(t0, gw, "alice", 2)
        assert (cmd.op, cmd.res, cmd.get("reason")) == (op, "failed",
                                                        reason), cmd
        check_encoding(cmd)

    c = spawn("alice", "attach " + missing)
    assert finish(c) == NOSESSION
    cmd = expect_one(trail, type="USER_CMD", op="muxgate-attach", session=name)
    assert cmd.res == "failed" and cmd["reason"] == "no-such-session", cmd
    assert [r for r in of_process(trail, cmd.pid)
            if r.type in ("USER_START", "USER_END")] == []

    tmux_new(DEPLOY, name, "/bin/cat")
    got, out, err = ssh("alice", "new " + missing)
    assert got == FAIL and "session exists" in one_error_line(err)
    cmd = expect_one(trail, type="USER_CMD", op="muxgate-new", session=name)
    assert cmd.res == "failed" and cmd["reason"] == "session-exists", cmd


def test_required_refuses_when_the_daemon_goes_mid_session(
        gw, policy_edit, auditd, audit_cap, workdir):
    """audit_required: the daemon stops while a shell is open (here: its
    pid file, where muxgate without CAP_AUDIT_CONTROL looks, empties).
    The next command is refused before it does anything, because the
    kernel would still have taken the record and dropped it."""
    policy_edit.write(policy_with(gw, "auditd", required=True))
    if not os.path.exists(AUDITD_PIDFILE):
        pytest.skip("no %s to stand in for" % AUDITD_PIDFILE)
    p = run(["unshare", "--mount", "--propagation", "private", "--",
             "/bin/true"], check=False)
    if p.returncode != 0:
        pytest.skip("no private mount namespace here: %s"
                    % _s(p.stderr).strip())
    pidfile = os.path.join(workdir, "auditd-mid.pid")
    with open(AUDITD_PIDFILE) as f, open(pidfile, "w") as g:
        g.write(f.read())
    os.chmod(pidfile, 0o644)
    name = tag("gone")
    env = ["PATH=" + SYS_PATH, "LANG=C.UTF-8", "HOME=/home/" + GW,
           "USER=" + GW, "LOGNAME=" + GW]
    script = ('mount --bind "$1" /run/auditd.pid || exit 99; shift; '
              'exec "$@"')
    cmd = ["unshare", "--mount", "--propagation", "private", "--",
           "/bin/sh", "-c", script, "sh", pidfile,
           "runuser", "-u", GW, "--", "env", "-i"] + env + \
        [gw.bin, "shell", "-f", gw.policy, "--identity", "alice"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        proc.stdin.write(b"whoami\n")
        proc.stdin.flush()
        assert proc.stdout.readline().startswith(b"identity"), \
            "the shell did not answer"
        open(pidfile, "w").close()          # the daemon is gone
        out, err = proc.communicate(
            ("new mgt-deploy@bastion:%s\n" % name).encode(), timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == FAIL, (proc.returncode, out, err)
    assert one_error_line(_s(err)) == (
        "muxgate: refused: audit_required is set and no audit daemon is "
        "running"), err
    assert not tmux_has(DEPLOY, name)


def test_required_refused_login_without_daemon_is_one_error(
        gw, policy_edit, audit_cap, no_daemon):
    """A refused login stays refused, with its own reason as the one error
    line: the record of a refusal is not required (audit.h), so its loss
    must not add a second, misleading "refused: audit_required" line."""
    policy_edit.write(policy_with(gw, "auditd", required=True))
    code, out, err = no_daemon.run("bob", "whoami")
    assert code == DENIED, (code, out, err)
    line = one_error_line(err)
    assert "expired" in line, line
    assert out == ""


def test_required_refuses_without_capability(gw, policy_edit, auditd, no_cap,
                                             ssh, since):
    policy_edit.write(policy_with(gw, "auditd", required=True))
    code, out, err = ssh("alice", "ls")
    assert code == FAIL, (code, out, err)
    line = one_error_line(err)
    assert "audit" in line and "not accepted" in line, line
    assert out == ""
    name = tag("nocap")
    code, out, err = ssh("alice", "new mgt-deploy@bastion:" + name)
    assert code == FAIL, (code, out, err)
    assert "audit" in one_error_line(err)
    assert not tmux_has(DEPLOY, name)
    time.sleep(1)
    assert find(since, key=gw.fingerprints["alice"]) == []


def test_required_refused_login_without_capability_is_one_error(
        gw, policy_edit, auditd, no_cap, ssh):
    """As above, through sshd: an unknown key is refused with one line."""
    policy_edit.write(policy_with(gw, "auditd", required=True))
    code, out, err = ssh("unknown", "whoami")
    assert code == DENIED, (code, out, err)
    line = one_error_line(err)
    assert "unknown key " + gw.fingerprints["unknown"] in line, line


def test_not_required_without_capability_is_allowed(gw, policy_edit, auditd,
                                                    no_cap, ssh):
    policy_edit.write(policy_with(gw, "auditd", required=False))
    name = tag("nocap")
    code, out, err = ssh("alice", "new mgt-deploy@bastion:" + name)
    assert code == OK, (code, out, err)
    assert tmux_has(DEPLOY, name)


# ---- muxgate check: will the records reach anything? ----

def check_hidden(gw, workdir, hide, *args):
    """`muxgate check -f POLICY ARGS` as the gateway account (as a login
    would look for the daemon), in a private mount namespace where each
    existing path of HIDE (/run/auditd.pid, /dev/log) is covered by an
    empty file: no daemon's pid, nothing listening."""
    p = run(["unshare", "--mount", "--propagation", "private", "--",
             "/bin/true"], check=False)
    if p.returncode != 0:
        pytest.skip("no private mount namespace here: %s"
                    % _s(p.stderr).strip())
    empty = os.path.join(workdir, "empty")
    open(empty, "w").close()
    os.chmod(empty, 0o644)
    script = ('e="$1"; shift; n="$1"; shift; '
              'while [ "$n" -gt 0 ]; do '
              'if [ -e "$1" ] || [ -S "$1" ]; then '
              'mount --bind "$e" "$1" || exit 99; fi; '
              'shift; n=$((n-1)); done; exec "$@"')
    env = ["PATH=" + SYS_PATH, "LANG=C.UTF-8", "HOME=/home/" + GW,
           "USER=" + GW, "LOGNAME=" + GW]
    cmd = ["unshare", "--mount", "--propagation", "private", "--",
           "/bin/sh", "-c", script, "sh", empty, str(len(hide))] + \
        list(hide) + ["runuser", "-u", GW, "--", "env", "-i"] + env + \
        [gw.bin, "check", "-f", gw.policy] + list(args)
    p = run(cmd, check=False)
    assert p.returncode != 99, "cannot hide %r: %s" % (hide, _s(p.stderr))
    # The warnings about the rest of the set-up are test_check_setup.py's.
    err = "".join(l for l in _s(p.stderr).splitlines(True)
                  if not l.startswith("muxgate: warning: setup: "))
    return p.returncode, _s(p.stdout), err


NOTHING = (AUDITD_PIDFILE, DEV_LOG)


def test_check_warns_when_records_reach_nothing(gw, policy_edit, workdir):
    policy_edit.write(policy_with(gw, "auditd", required=False))
    code, out, err = check_hidden(gw, workdir, NOTHING)
    assert code == OK, (code, out, err)
    assert out == "%s: OK\n" % gw.policy, out
    assert one_error_line(err) == (
        "muxgate: warning: audit records would be lost: no audit daemon "
        "is running and nothing listens on /dev/log"), err


def test_check_default_audit_warns_too(gw, policy_edit, workdir):
    """gateway.audit left out: auditd is the default."""
    policy_edit.write(gw.policy_text.replace("  audit: none\n", ""))
    code, out, err = check_hidden(gw, workdir, NOTHING)
    assert code == OK, (code, out, err)
    assert "audit records would be lost" in one_error_line(err)


def test_check_quiet_when_syslog_takes_the_records(gw, policy_edit, workdir,
                                                   syslog):
    policy_edit.write(policy_with(gw, "auditd", required=False))
    code, out, err = check_hidden(gw, workdir, (AUDITD_PIDFILE,))
    assert code == OK, (code, out, err)
    assert out == "%s: OK\n" % gw.policy and err == "", (out, err)


def test_check_syslog_mode_without_dev_log_warns(gw, policy_edit, workdir):
    policy_edit.write(policy_with(gw, "syslog"))
    code, out, err = check_hidden(gw, workdir, (DEV_LOG,))
    assert code == OK, (code, out, err)
    assert out == "%s: OK\n" % gw.policy, out
    assert one_error_line(err) == (
        "muxgate: warning: audit records would be lost: gateway.audit is "
        "syslog and nothing listens on /dev/log"), err


def test_check_audit_none_is_quiet(gw, policy_edit, workdir):
    code, out, err = check_hidden(gw, workdir, NOTHING)
    assert code == OK and err == "", (code, out, err)


@pytest.mark.parametrize("dev_log", [True, False])
def test_check_refuses_required_without_daemon(gw, policy_edit, workdir,
                                               request, dev_log):
    if dev_log:
        request.getfixturevalue("syslog")
    policy_edit.write(policy_with(gw, "auditd", required=True))
    hide = (AUDITD_PIDFILE,) if dev_log else NOTHING
    code, out, err = check_hidden(gw, workdir, hide)
    assert code == FAIL, (code, out, err)
    assert out == "", out
    assert one_error_line(err) == (
        "muxgate: refused: audit_required is set and no audit daemon is "
        "running: every login would be refused"), err


def test_check_required_with_daemon_is_ok(gw, policy_edit, auditd, workdir):
    policy_edit.write(policy_with(gw, "auditd", required=True))
    code, out, err = check_hidden(gw, workdir, (DEV_LOG,))
    assert code == OK, (code, out, err)
    assert out == "%s: OK\n" % gw.policy and err == "", (out, err)


# ---- syslog ----

def record_text(type_, op, fields, res):
    return "type=%s op=%s%s res=%s" % (type_, op, "".join(
        ' %s="%s"' % kv for kv in fields), res)


def syslog_of(syslog, pid):
    return [m for m in syslog.messages() if m.ident == "muxgate"
            and m.pid == pid]


def check_priority(m, severity):
    assert m.facility in (None, LOG_AUTHPRIV), m
    assert m.severity in (None, severity), m


def test_syslog_mode(gw, policy_edit, syslog, ssh, auditd_if_any):
    since = time.time()
    policy_edit.write(policy_with(gw, "syslog"))
    name = tag("sys")
    tmux_new(DEPLOY, name, "/bin/cat")
    code, out, err = ssh("alice", "ls mgt-deploy@bastion:" + name)
    assert code == OK, err
    fp = gw.fingerprints["alice"]
    want = record_text("USER_CMD", "muxgate-ls", [
        ("identity", "alice"), ("key", fp), ("host", "bastion"),
        ("tmux_user", DEPLOY), ("session", name)], "success")
    got = syslog.wait(lambda m: m.text == want)
    assert len(got) == 1, (want, syslog.messages())
    mine = syslog_of(syslog, got[0].pid)
    assert [m.text for m in mine] == [
        record_text("USER_AUTH", "muxgate-login",
                    [("identity", "alice"), ("key", fp)], "success"),
        want], mine
    for m in mine:
        check_priority(m, LOG_NOTICE)
    if auditd_if_any is not None:
        time.sleep(0.5)
        assert find(since, session=name) == []
        assert find(since, key=fp) == []


def test_fallback_without_daemon_goes_to_syslog(gw, policy_edit, audit_cap,
                                                no_daemon, syslog):
    policy_edit.write(policy_with(gw, "auditd", required=False))
    name = tag("fb")
    tmux_new(DEPLOY, name, "/bin/cat")
    code, out, err = no_daemon.run(
        "alice", input="ls mgt-deploy@bastion:%s\nwhoami\n" % name)
    assert code == OK, (code, out, err)
    assert err == "", err
    key = [("key", gw.fingerprints["alice"])] if no_daemon.real else []
    ls = record_text("USER_CMD", "muxgate-ls", [("identity", "alice")] + key +
                     [("host", "bastion"), ("tmux_user", DEPLOY),
                      ("session", name)], "success")
    got = syslog.wait(lambda m: m.text == ls)
    assert len(got) == 1, (ls, syslog.messages())
    mine = syslog_of(syslog, got[0].pid)
    assert [m.text for m in mine] == [
        "audit log unavailable (no audit daemon is running): writing "
        "records to syslog",
        record_text("USER_AUTH", "muxgate-login",
                    [("identity", "alice")] + key, "success"),
        ls,
        record_text("USER_CMD", "muxgate-whoami",
                    [("identity", "alice")] + key, "success"),
    ], mine
    check_priority(mine[0], LOG_WARNING)
    for m in mine[1:]:
        check_priority(m, LOG_NOTICE)


def test_fallback_without_capability_goes_to_syslog(gw, policy_edit, auditd,
                                                    no_cap, syslog, ssh,
                                                    since):
    policy_edit.write(policy_with(gw, "auditd", required=False))
    name = tag("fbc")
    tmux_new(DEPLOY, name, "/bin/cat")
    code, out, err = ssh("alice", input="ls mgt-deploy@bastion:%s\nhosts\n"
                         % name)
    assert code == OK, (code, out, err)
    fp = gw.fingerprints["alice"]
    ls = record_text("USER_CMD", "muxgate-ls", [
        ("identity", "alice"), ("key", fp), ("host", "bastion"),
        ("tmux_user", DEPLOY), ("session", name)], "success")
    got = syslog.wait(lambda m: m.text == ls)
    assert len(got) == 1, (ls, syslog.messages())
    mine = syslog_of(syslog, got[0].pid)
    warn = [m for m in mine if m.text.startswith("audit log unavailable")]
    assert len(warn) == 1, mine
    assert re.fullmatch(r"audit log unavailable \(the audit record was not "
                        r"accepted: [^()]+\): writing records to syslog",
                        warn[0].text), warn[0].text
    check_priority(warn[0], LOG_WARNING)
    assert [m.text for m in mine if m is not warn[0]] == [
        record_text("USER_AUTH", "muxgate-login",
                    [("identity", "alice"), ("key", fp)], "success"),
        ls,
        record_text("USER_CMD", "muxgate-hosts",
                    [("identity", "alice"), ("key", fp)], "success"),
    ], mine
    assert mine[0] is warn[0], mine
    assert find(since, key=fp) == []


# ---- contrib/audit/search-recipes.md, run as written ----

RECIPES_MD = os.path.join(REPO, "contrib", "audit", "search-recipes.md")
PLACEHOLDER_RE = re.compile(r"<[A-Z_]+>")


def recipes(path=RECIPES_MD):
    """(label, command) for every recipe of the file: the Command cell of
    each table row (inline code, `\\|` standing for `|`), and every line
    of every indented or fenced code block (labelled by the block)."""
    out = []
    lines = open(path, encoding="utf-8").read().splitlines()
    fence = None
    prev_blank = True
    for line in lines:
        if line.startswith("```"):
            if fence is None:
                fence = []
            else:
                out += [("code block", l.strip()) for l in fence if l.strip()]
                fence = None
        elif fence is not None:
            fence.append(line)
        elif line.startswith("|"):
            cells = [c.strip() for c in
                     re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            m = re.fullmatch(r"`(.+)`", cells[-1]) if len(cells) == 2 \
                else None
            if m:
                out.append((cells[0], m.group(1).replace("\\|", "|")))
        elif line.startswith("    ") and line.strip() and prev_blank:
            out.append(("code block", line.strip()))
            continue        # the next indented line continues the block
        prev_blank = line.strip() == "" or (line.startswith("    ") and
                                             prev_blank)
    return out


def test_recipes_are_found():
    """The parser sees the recipes: a table row it skipped would go
    untested."""
    got = recipes()
    assert len([r for r in got if r[0] != "code block"]) >= 10, got
    assert any(c.startswith("echo ") for _, c in got), got
    assert any(c.startswith("ls ") for _, c in got), got


def run_recipe(command, timeout=120):
    """COMMAND through /bin/sh on a terminal, as an administrator types it
    (ausearch reads stdin instead of the logs when it is not a
    terminal); its output lines."""
    c = pexpect.spawn("/bin/sh", ["-c", command], env=AUSEARCH_ENV,
                      timeout=timeout, encoding="utf-8",
                      codec_errors="replace", dimensions=(50, 4000))
    c.expect(pexpect.EOF)
    out = c.before
    c.close()
    return [l for l in out.replace("\r\n", "\n").split("\n") if l.strip()]


def lines_with(lines, *parts):
    return [l for l in lines if all(p in l for p in parts)]


class RecipeWorld:
    """What a real day left in the audit log: a login, an attach and its
    end, a denied command, a refused login, a kill, a policy failure and a
    change to the policy."""


def make_world(gw, trail, ssh, spawn, policy_edit):
    w = RecipeWorld()
    w.session = tag("rcp")
    w.denied = tag("rcpd")
    w.fp = gw.fingerprints["alice"]
    tmux_new(DEPLOY, w.session, "/bin/cat")
    c = spawn("alice", "attach mgt-deploy@bastion:" + w.session)
    assert wait_for(lambda: tmux_clients(DEPLOY, w.session), 10)
    time.sleep(0.5)
    detach(c)
    c.expect(pexpect.EOF, timeout=10)
    c.close()
    code, out, err = ssh("alice", "ls ops@web1:" + w.denied)
    assert code == DENIED, (code, out, err)
    code, out, err = ssh("bob", "whoami")
    assert code == DENIED, (code, out, err)
    code, out, err = ssh("alice", "kill mgt-deploy@bastion:%s --yes"
                         % w.session)
    assert code == OK, (code, out, err)
    start = expect_one(trail, type="USER_START", session=w.session)
    w.attach = start["attach"]
    w.recording = start["recording"]
    expect_one(trail, type="USER_END", attach=w.attach)
    expect_one(trail, type="USER_CMD", op="muxgate-kill", session=w.session)
    expect_one(trail, type="USER_CMD", session=w.denied)
    expect_one(trail, type="USER_ACCT", key=gw.fingerprints["bob"])
    good = open(gw.policy).read()
    policy_edit.write(good + "bogus: [\n")
    code, out, err = ssh("alice", "whoami")
    assert code == FAIL, (code, out, err)
    w.ref = misconfigured(gw, err)
    policy_edit.write(good)
    expect_one(trail, type="USER_ERR", ref=w.ref)
    return w


# What each recipe must find; a recipe not listed here fails the test.
RECIPE_EXPECT = [
    ("every muxgate record today", lambda w: [
        ["op=muxgate-login", "key=" + w.fp, "res=success"],
        ["op=muxgate-attach-start", 'attach="%s"' % w.attach],
        ["op=muxgate-attach-end", 'attach="%s"' % w.attach],
        ["op=muxgate-policy", 'ref="%s"' % w.ref]]),
    ("logins of one identity", lambda w: [
        ["type=USER_AUTH", "op=muxgate-login", 'identity="alice"',
         "key=" + w.fp]]),
    ("refused logins", lambda w: [
        ["op=muxgate-login", 'identity="bob"', 'reason="expired"',
         "res=failed"]]),
    ("every denied command", lambda w: [
        ["op=muxgate-ls", 'session="%s"' % w.denied,
         'reason="permission-denied"']]),
    ("kills", lambda w: [
        ["op=muxgate-kill", 'session="%s"' % w.session]]),
    ("attaches of a session", lambda w: [
        ["op=muxgate-attach-start", 'session="%s"' % w.session],
        ["op=muxgate-attach-end", 'session="%s"' % w.session]]),
    ("one attach, start to end", lambda w: [
        ["type=USER_START", 'attach="%s"' % w.attach],
        ["type=USER_END", 'attach="%s"' % w.attach]]),
    ("policy load failures", lambda w: [
        ["op=muxgate-policy", 'ref="%s"' % w.ref]]),
    ("the policy failure a user reported", lambda w: [
        ["type=USER_ERR", 'ref="%s"' % w.ref]]),
    ("changes to the policy", lambda w: [["key=muxgate-config"]]),
    ("echo ", lambda w: [['we"ird = x']]),
    ("ls ", lambda w: [[w.recording]]),
]
# Recipes whose every output line must be one of these records.
RECIPE_EXACT = {"one attach, start to end": 2,
                "the policy failure a user reported": 1}


def expectation(label, command):
    key = command if label == "code block" else label
    found = [(k, f) for k, f in RECIPE_EXPECT if key.startswith(k)]
    assert len(found) == 1, "no (or more than one) expectation in " \
        "RECIPE_EXPECT for the recipe %r: %r" % (label, command)
    return found[0]


def test_search_recipes_find_the_records(gw, trail, ssh, spawn,
                                         policy_edit):
    """Every recipe of contrib/audit/search-recipes.md, run as written
    through /bin/sh against the real audit log, finds what it promises."""
    watch = ["-w", gw.etc + "/", "-p", "wa", "-k", "muxgate-config"]
    p = run(["auditctl"] + watch, check=False, env=AUSEARCH_ENV)
    assert p.returncode == 0, "auditctl %s: %s" % (
        " ".join(watch), _s(p.stderr))
    try:
        w = make_world(gw, trail, ssh, spawn, policy_edit)
    finally:
        run(["auditctl", "-W"] + watch[1:], check=False, env=AUSEARCH_ENV)
    values = {"<IDENTITY>": "alice", "<SESSION>": w.session,
              "<ATTACH_ID>": w.attach, "<REFERENCE>": w.ref}
    recdir = os.path.dirname(os.path.dirname(w.recording))
    failures = []
    for label, command in recipes():
        key, want = expectation(label, command)
        cmd = command
        for ph, v in values.items():
            cmd = cmd.replace(ph, v)
        assert not PLACEHOLDER_RE.search(cmd), \
            "a placeholder the test does not know in %r" % command
        cmd = cmd.replace("/var/lib/muxgate/recordings", recdir)
        lines = run_recipe(cmd)
        for parts in want(w):
            if not lines_with(lines, *parts):
                failures.append("%r (%s) found no line with %r; it printed:"
                                "\n%s" % (command, label, parts,
                                          "\n".join(lines[-20:])))
        if key in RECIPE_EXACT and len(lines) != RECIPE_EXACT[key]:
            failures.append("%r printed %d lines, not %d:\n%s" % (
                command, len(lines), RECIPE_EXACT[key], "\n".join(lines)))
    assert not failures, "\n\n".join(failures)


def test_terminate_records(gw, policy_edit, auditd, audit_cap, since, spawn):
    """terminate: the terminator's USER_CMD names the attach's target, and
    the attach's USER_END says reason=terminated, in the real audit log."""
    text = policy_with(gw, "auditd", required=True).replace(
        "        actions: [list, create, kill-own]\n",
        "        actions: [list, create, kill-own, terminate]\n", 1)
    policy_edit.write(text)
    name = tag("term")
    tmux_new(DEPLOY, name, "/bin/cat")
    c = spawn("alice", "attach mgt-deploy@bastion:" + name)
    start = expect_one(since, type="USER_START", session=name)
    code, out, err = gw.ssh("frank", "terminate %s --reason 'audit test'"
                            % start["attach"])
    assert code == OK, err
    assert finish(c) == FAIL
    cmd = expect_one(since, type="USER_CMD", op="muxgate-terminate")
    assert cmd.res == "success", cmd
    assert cmd["identity"] == "frank"
    assert cmd["host"] == "bastion" and cmd["tmux_user"] == DEPLOY
    assert cmd["session"] == name
    end = expect_one(since, type="USER_END", session=name)
    assert end["attach"] == start["attach"]
    assert end["reason"] == "terminated" and end.res == "failed", end
    # Refused for eve: recorded as such, and nothing ended.
    tmux_new(DEPLOY, name + "b", "/bin/cat")
    c = spawn("alice", "attach mgt-deploy@bastion:%sb" % name)
    start = expect_one(since, type="USER_START", session=name + "b")
    code, out, err = gw.ssh("eve", "terminate " + start["attach"])
    assert code == DENIED, (out, err)
    denied = expect_one(since, type="USER_CMD", op="muxgate-terminate",
                        identity="eve")
    assert denied.res == "failed" and denied["reason"] == "permission-denied"
    assert denied["session"] == name + "b"
    detach(c)
    assert finish(c) == OK
