"""
Just-in-time grants end to end: `request`, `grants`, `approve`, `deny`,
`revoke` through the real sshd, attaches under a grant at a real terminal
(term_util.Term), the grant store under gateway.state, and the audit trail
through the real auditd.

The policy of this module (grants_policy) adds to the test policy:

  contractor  frank's only role: no allow rule at all; may request
              attach on mgt-deploy@bastion (max 1h, approvers: [lead],
              reason optional) and, as break-glass, create there
              (max 10m, approvers: none, reason required)
  lead        no rules; held by alice and eve: the approvers
  auditor     eve's: may request kill on mgt-deploy@bastion (approvers:
              [lead], so eve holds an approver role of her own request)
  operator    alice's, as before plus terminate

Every test starts without grants: the module removes the grant entries
from the state directory around each test.

"""
import glob
import os
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
from term_util import *
from audit_util import (AUDITD, AUSEARCH_ENV, audit_status, daemon_pid,
                        decode_value, expect_one, getcap, probe, processes_of,
                        records, setcap, start_auditd, stop_auditd)

SESSION = "jit-%d" % os.getpid()
TARGET = "%s@bastion:%s" % (DEPLOY, SESSION)
HEX = {n: n.encode().hex() for n in ("alice", "eve", "frank")}
ID_RE = r"[0-9a-f]{16}"

EXTRA_ROLES = """\
  lead: {}
  contractor:
    request:
      - hosts: [bastion]
        tmux_users: [mgt-deploy]
        actions: [attach]
        max_duration: 1h
        approvers: [lead]
        reason: optional
      - hosts: [bastion]
        tmux_users: [mgt-deploy]
        actions: [create]
        max_duration: 10m
        approvers: none
        reason: required
  auditor:
    request:
      - hosts: [bastion]
        tmux_users: [mgt-deploy]
        actions: [kill]
        max_duration: 1h
        approvers: [lead]
"""


def grants_policy(gw, audit=False):
    text = gw.policy_text
    new = text.replace("roles:\n", "roles:\n" + EXTRA_ROLES, 1)
    new = new.replace("        actions: [list, watch, attach, create, kill]\n",
                      "        actions: [list, watch, attach, create, kill, "
                      "terminate]\n", 1)
    for who, old, roles in (("alice", "[operator]", "[operator, lead]"),
                            ("eve", "[observer]", "[observer, lead, auditor]"),
                            ("frank", "[builder]", "[contractor]")):
        new, n = re.subn(r"(\n  %s:\n    keys: \[[^\n]*\]\n    roles: )%s\n"
                         % (who, re.escape(old)), r"\g<1>%s\n" % roles, new)
        assert n == 1, who
    if audit:
        new = new.replace("  audit: none\n",
                          "  audit: auditd\n  audit_required: true\n", 1)
    assert new.count("terminate]") == 1 and EXTRA_ROLES in new
    return new


def kv_dir(gw):
    return os.path.join(gw.base, "state", "kv")


def remove_grants(gw):
    for pat in ("grant.*", "grant-id.*", "grant-pending.*"):
        for f in glob.glob(os.path.join(kv_dir(gw), pat)):
            os.unlink(f)


def grant_file(gw, requester, gid):
    return os.path.join(kv_dir(gw), "grant.%s.%s" % (HEX[requester], gid))


@pytest.fixture(autouse=True)
def jit(gw, policy_edit):
    remove_grants(gw)
    policy_edit.write(grants_policy(gw))
    tmux_new(DEPLOY, SESSION)
    yield policy_edit
    remove_grants(gw)


# ---- helpers ----

def request(gw, key, what, duration="10m", reason=None, status="pending"):
    """`request WHAT --for DURATION [--reason REASON]` that must succeed;
    the new grant's id."""
    cmd = "request %s --for %s" % (what, duration)
    if reason is not None:
        cmd += " --reason '%s'" % reason
    code, out, err = gw.ssh(key, cmd)
    assert code == OK, (out, err)
    m = re.match(r"grant (%s)  %-8s %s  " % (ID_RE, status, key), out)
    assert m, out
    return m.group(1)


def approve(gw, key, gid):
    code, out, err = gw.ssh(key, "approve " + gid)
    assert code == OK, (out, err)
    assert out.startswith("approved %s  active   " % gid), out
    return out


def grants(gw, key):
    code, out, err = gw.ssh(key, "grants --json")
    assert code == OK, (out, err)
    return parse_json(out)


def grant(gw, key, gid, where="grants"):
    """KEY's view of grant GID (its own, or one it may approve), or None."""
    found = [g for g in grants(gw, key)[where] if g["id"] == gid]
    assert len(found) <= 1, found
    return found[0] if found else None


def attach_allowed(gw, key, target=TARGET, cmd="attach"):
    """Ask without a terminal: the policy's answer comes first, so exit 2
    ("needs a terminal") means allowed and exit 3 denied."""
    code, out, err = gw.ssh(key, "%s %s" % (cmd, target))
    if code == USAGE:
        assert "needs a terminal" in err, err
        return True
    assert code == DENIED, (code, out, err)
    assert "muxgate: permission denied: %s on %s" % (cmd, target) in err, err
    return False


def viewers(gw):
    """(attach_id, identity, mode) of SESSION's viewers, as alice sees."""
    code, out, err = gw.ssh("alice", "ls --json %s@bastion" % DEPLOY)
    assert code == OK, err
    for host in parse_json(out)["hosts"]:
        for s in host["sessions"]:
            if s["name"] == SESSION:
                return [(v.get("attach_id"), v["identity"], v["mode"])
                        for v in s["viewers"]]
    return []


def wait_attached(gw, identity="frank", mode="attach"):
    found = []

    def seen():
        found[:] = [v for v in viewers(gw) if v[1:] == (identity, mode)]
        return bool(found)
    assert wait_for(seen, 15), viewers(gw)
    return found[0][0]


# ---- 1. request, approval elsewhere, attach until the grant expires ----

def test_request_approve_attach_until_expiry(gw, terms):
    assert not attach_allowed(gw, "frank")
    t = terms("frank")
    t.prompt()
    mark = t.mark()
    t.line("request attach %s --for 10s --reason 'fix the deploy'" % TARGET)
    m = t.wait(r"grant (%s)  pending  frank  attach %s for 10s, lapses in "
               r"(1d|23h59m); reason: fix the deploy" % (ID_RE, re.escape(TARGET)),
               since=mark)
    gid = m.group(1)
    t.wait(r"waiting for approval by lead \(any identity of that role but "
           r"you\); see grants", since=mark)
    t.prompt(since=mark)

    # Pending: frank sees it, may not attach yet.
    code, out, err = gw.ssh("frank", "grants")
    assert code == OK, err
    assert re.search(r"^your grants:\n  %s  pending  frank  attach %s for "
                     r"10s" % (gid, re.escape(TARGET)), out, re.M), out
    assert "requests you may approve" not in out
    assert not attach_allowed(gw, "frank")
    g = grant(gw, "frank", gid)
    assert (g["status"], g["approver"], g["starts"], g["remaining"]) == \
        ("pending", None, None, None)

    # alice, in another SSH session, finds it among the requests she may
    # approve, and approves it.
    code, out, err = gw.ssh("alice", "grants")
    assert code == OK, err
    assert re.search(r"^requests you may approve:\n  %s  pending  frank  "
                     r"attach %s for 10s" % (gid, re.escape(TARGET)), out,
                     re.M), out
    out = approve(gw, "alice", gid)
    assert "approved by alice" in out
    g = grant(gw, "frank", gid)
    assert g["status"] == "active" and g["approver"] == "alice", g
    assert g["ends"] - g["starts"] == 10
    assert grant(gw, "alice", gid, "to_approve") is None

    # frank attaches from his menu and stays until the grant runs out.
    mark = t.mark()
    t.line("attach " + TARGET)
    wait_attached(gw)
    assert time.time() < g["ends"] - 2, "attached too late to see expiry"
    t.wait(r"ended: access ended: grant %s expired" % gid, since=mark,
           timeout=g["ends"] - time.time() + 8)
    assert time.time() < g["ends"] + 5
    t.prompt(since=mark)
    assert not any(v[1] == "frank" for v in viewers(gw))

    # Back at the menu: grants says expired, attach is refused again.
    mark = t.mark()
    t.line("grants")
    t.wait(r"%s  expired  frank  attach %s for 10s, approved by alice"
           % (gid, re.escape(TARGET)), since=mark)
    t.prompt(since=mark)
    mark = t.mark()
    t.line("attach " + TARGET)
    t.wait(r"muxgate: permission denied: attach on %s" % re.escape(TARGET),
           since=mark)
    t.prompt(since=mark)
    t.line("exit")
    assert t.wait_dead(10) == OK
    assert not attach_allowed(gw, "frank")
    assert grant(gw, "frank", gid)["status"] == "expired"


# ---- 2. nobody approves their own request ----

def test_self_approval_refused(gw):
    gid = request(gw, "frank", "attach " + TARGET)
    code, out, err = gw.ssh("frank", "approve " + gid)
    assert code == DENIED, (out, err)
    assert one_error_line(err) == \
        "muxgate: permission denied: nobody approves their own request"
    code, out, err = gw.ssh("frank", "deny " + gid)
    assert code == DENIED, (out, err)
    assert "nobody decides their own request" in one_error_line(err)
    # eve holds lead, the approver role of her own rule: still refused.
    kid = request(gw, "eve", "kill %s@bastion" % DEPLOY, reason="cleanup")
    code, out, err = gw.ssh("eve", "approve " + kid)
    assert code == DENIED, (out, err)
    assert one_error_line(err) == \
        "muxgate: permission denied: nobody approves their own request"
    assert grant(gw, "eve", kid, "to_approve") is None
    # Nothing changed.
    for who, i in (("frank", gid), ("eve", kid)):
        g = grant(gw, who, i)
        assert (g["status"], g["approver"], g["by"]) == \
            ("pending", None, None), g
    assert not attach_allowed(gw, "frank")
    assert grant(gw, "alice", gid, "to_approve")["status"] == "pending"


# ---- 3. break-glass: approvers: none, reason: required ----

def test_break_glass(gw):
    new = "new %s@bastion:bg-%s" % (DEPLOY, secrets.token_hex(3))
    code, out, err = gw.ssh("frank", new)
    assert code == DENIED, (out, err)
    code, out, err = gw.ssh("frank", "request create %s@bastion --for 5m"
                            % DEPLOY)
    assert code == USAGE, (out, err)
    assert one_error_line(err) == \
        "muxgate: request: a reason is required (--reason TEXT)"
    code, out, err = gw.ssh("frank", "request create %s@bastion --for 11m "
                            "--reason 'prod down'" % DEPLOY)
    assert code == DENIED, (out, err)
    assert "longer than 10m" in one_error_line(err)
    assert grants(gw, "frank") == {"grants": [], "to_approve": []}

    code, out, err = gw.ssh("frank", "request create %s@bastion --for 5m "
                            "--reason 'prod down'" % DEPLOY)
    assert code == OK, (out, err)
    m = re.fullmatch(r"grant (%s)  active   frank  create %s@bastion for 5m, "
                     r"(4m\d+s|5m) left; reason: prod down\n" % (ID_RE, DEPLOY),
                     out)
    assert m, out
    gid = m.group(1)
    # Works at once, without anybody's approval.
    code, out, err = gw.ssh("frank", new)
    assert code == OK, (out, err)
    assert tmux_has(DEPLOY, new.split(":")[1])
    g = grant(gw, "frank", gid)
    assert g["status"] == "active" and g["approver"] is None, g
    # There is nothing to approve.
    assert grant(gw, "alice", gid, "to_approve") is None
    code, out, err = gw.ssh("alice", "approve " + gid)
    assert code == DENIED, (out, err)
    # The requester ends it; then create is refused again.
    code, out, err = gw.ssh("frank", "revoke " + gid)
    assert code == OK and out == "revoked grant %s of frank\n" % gid, err
    code, out, err = gw.ssh("frank", new + "x")
    assert code == DENIED, (out, err)
    # Nobody approves break-glass access, but an operator who may
    # terminate attaches there may end it; an approver of other rules may
    # not.
    gid = request(gw, "frank", "create %s@bastion" % DEPLOY, duration="5m",
                  reason="prod down again", status="active")
    code, out, err = gw.ssh("eve", "revoke " + gid)
    assert code == DENIED, (out, err)
    assert "nor allowed to terminate there" in one_error_line(err), err
    code, out, err = gw.ssh("alice", "revoke %s --reason 'use the runbook'"
                            % gid)
    assert code == OK and out == "revoked grant %s of frank\n" % gid, err
    g = grant(gw, "frank", gid)
    assert g["status"] == "revoked" and g["by"] == "alice", g
    code, out, err = gw.ssh("frank", new + "y")
    assert code == DENIED, (out, err)


# ---- 4. revocation mid-attach, and withdrawing a request ----

def test_revoke_ends_the_attach_and_withdraw(gw, terms):
    gid = request(gw, "frank", "attach " + TARGET)
    approve(gw, "eve", gid)
    t = terms("frank", "attach " + TARGET)
    wait_attached(gw)
    start = time.time()
    code, out, err = gw.ssh("alice", "revoke %s --reason 'shift over'" % gid)
    assert code == OK, err
    assert out == "revoked grant %s of frank\n" % gid
    t.wait(r"ended: access ended: grant %s revoked by alice" % gid)
    assert t.wait_dead(10) == FAIL
    assert time.time() - start < 5 + 1
    g = grant(gw, "frank", gid)
    assert (g["status"], g["approver"], g["by"], g["note"]) == \
        ("revoked", "eve", "alice", "shift over"), g
    assert not attach_allowed(gw, "frank")
    code, out, err = gw.ssh("alice", "revoke " + gid)
    assert code == FAIL, (out, err)
    assert one_error_line(err) == \
        "muxgate: grant %s has already ended: it is revoked" % gid

    # frank withdraws a request of his own before anyone decides.
    wid = request(gw, "frank", "attach " + TARGET)
    assert grant(gw, "alice", wid, "to_approve") is not None
    code, out, err = gw.ssh("frank", "revoke %s --reason 'not needed'" % wid)
    assert code == OK and out == "revoked grant %s of frank\n" % wid, err
    assert grant(gw, "alice", wid, "to_approve") is None
    code, out, err = gw.ssh("alice", "approve " + wid)
    assert code == FAIL, (out, err)
    assert one_error_line(err) == \
        "muxgate: grant %s is not pending: it is revoked" % wid
    g = grant(gw, "frank", wid)
    assert (g["status"], g["approver"], g["by"], g["note"]) == \
        ("revoked", None, "frank", "not needed"), g
    code, out, err = gw.ssh("frank", "grants")
    assert re.search(r"%s  revoked  frank  attach .*, revoked by frank; "
                     r"note: not needed$" % wid, out, re.M), out
    assert not attach_allowed(gw, "frank")


def test_deny(gw):
    gid = request(gw, "frank", "attach " + TARGET, reason="please")
    code, out, err = gw.ssh("eve", "deny %s --reason 'ask tomorrow'" % gid)
    assert code == OK and out == "denied grant %s of frank\n" % gid, err
    g = grant(gw, "frank", gid)
    assert (g["status"], g["by"], g["note"], g["reason"]) == \
        ("denied", "eve", "ask tomorrow", "please"), g
    code, out, err = gw.ssh("alice", "approve " + gid)
    assert code == FAIL, (out, err)
    assert one_error_line(err) == \
        "muxgate: grant %s is not pending: it is denied" % gid
    assert not attach_allowed(gw, "frank")


# ---- 5. terminate of an attach under a grant: the grant stays ----

def test_terminate_an_attach_under_a_grant(gw, terms):
    gid = request(gw, "frank", "attach " + TARGET)
    approve(gw, "alice", gid)
    t = terms("frank", "attach " + TARGET)
    aid = wait_attached(gw)
    code, out, err = gw.ssh("alice", "terminate %s --reason 'lunch'" % aid)
    assert code == OK, err
    t.wait(r"ended: terminated by alice: lunch")
    assert t.wait_dead(10) == FAIL
    # Only that attach ended: the grant is active, frank may come back.
    assert grant(gw, "frank", gid)["status"] == "active"
    t2 = terms("frank", "attach " + TARGET)
    wait_attached(gw)
    t2.keys("C-]")
    assert t2.wait_dead(10) == OK


def test_policy_edit_ends_a_granted_attach(gw, terms, jit):
    """A grant counts only while a request rule still offers it."""
    gid = request(gw, "frank", "attach " + TARGET)
    approve(gw, "alice", gid)
    t = terms("frank", "attach " + TARGET)
    wait_attached(gw)
    text = grants_policy(gw)
    new = text.replace("        actions: [attach]\n        max_duration: 1h\n",
                       "        actions: [watch]\n        max_duration: 1h\n",
                       1)
    assert new != text
    start = time.time()
    jit.write(new)
    t.wait(r"ended: access ended: attach on %s@bastion is no longer allowed"
           % DEPLOY)
    assert t.wait_dead(10) == FAIL
    assert time.time() - start < 5 + 1
    assert not attach_allowed(gw, "frank")
    # Put back, the grant (still active) counts again.
    jit.write(text)
    assert attach_allowed(gw, "frank")


def test_attach_outlives_one_of_two_grants(gw, terms):
    """Two active grants cover the session: one ends in seconds, the
    other in ten minutes.  The attach is still allowed when the short one
    expires, so it must go on.  The short grant is made to sort first by
    id (which one an attach depends on follows the ids' order)."""
    long_ = request(gw, "frank", "attach %s@bastion" % DEPLOY)
    approve(gw, "alice", long_)
    for _ in range(20):
        short = request(gw, "frank", "attach " + TARGET, duration="8s")
        if short < long_:
            break
        code, out, err = gw.ssh("frank", "revoke " + short)
        assert code == OK, err
    assert short < long_
    approve(gw, "alice", short)
    ends = grant(gw, "frank", short)["ends"]
    t = terms("frank", "attach " + TARGET)
    wait_attached(gw)
    wait_for(lambda: time.time() > ends + 3, ends - time.time() + 5)
    assert grant(gw, "frank", short)["status"] == "expired"
    assert grant(gw, "frank", long_)["status"] == "active"
    assert attach_allowed(gw, "frank")
    assert t.dead() is None, t.screen()
    assert any(v[1] == "frank" for v in viewers(gw))
    t.keys("C-]")
    assert t.wait_dead(10) == OK


# ---- 6. grants outlive the processes and the sshd that made them ----

def restart_sshd(gw):
    """SIGHUP: sshd re-executes itself (same pid, new process image)."""
    log = os.path.join(gw.base, "sshd.log")

    def listening():
        return open(log, errors="replace").read().count("Server listening on")
    before = listening()
    os.kill(gw.sshd.pid, signal.SIGHUP)
    assert wait_for(lambda: listening() > before, 15), \
        open(log, errors="replace").read()[-2000:]

    def banner():
        try:
            with socket.create_connection(("127.0.0.1", gw.port), 1) as s:
                s.settimeout(5)
                return s.recv(64).startswith(b"SSH-")
        except OSError:
            return False
    assert wait_for(banner, 15)
    assert gw.sshd.poll() is None


def test_grant_survives_restart(gw, terms):
    gid = request(gw, "frank", "attach " + TARGET, reason="on call")
    approve(gw, "alice", gid)
    mux = lambda: processes_of(uid_of(GW), gw.bin)
    assert wait_for(lambda: not mux(), 10), mux()
    restart_sshd(gw)
    assert not mux()
    g = grant(gw, "frank", gid)
    assert (g["status"], g["approver"], g["reason"]) == \
        ("active", "alice", "on call"), g
    t = terms("frank", "attach " + TARGET)
    wait_attached(gw)
    t.keys("C-]")
    assert t.wait_dead(10) == OK
    assert grant(gw, "frank", gid)["status"] == "active"


# ---- 7. a grant entry changed by hand is refused, never trusted ----

def tamper(path, how, field):
    data = open(path, "rb").read()
    if how == "byte":
        # Same length, a different number: a later end, a longer duration.
        i = data.index(b'"%s":' % field.encode()) + len(field) + 3
        new = data[:i] + (b"9" if data[i:i + 1] != b"9" else b"8") + \
            data[i + 1:]
    else:
        new = data[:len(data) // 2] if field == "ends" else data[:-1]
    assert new != data
    # In place: the same file, owner and mode; only its bytes differ.
    with open(path, "r+b") as f:
        f.write(new)
        f.truncate(len(new))
    return data


def restore(path, data):
    with open(path, "r+b") as f:
        f.write(data)
        f.truncate(len(data))


@pytest.mark.parametrize("how", ["byte", "truncate"])
def test_tampered_grant_refused(gw, how):
    active = request(gw, "frank", "attach " + TARGET)
    approve(gw, "alice", active)
    pending = request(gw, "frank", "attach " + TARGET)
    assert attach_allowed(gw, "frank")
    fa, fp = grant_file(gw, "frank", active), grant_file(gw, "frank", pending)
    st = os.stat(fa)
    saved = {fa: tamper(fa, how, "ends"), fp: tamper(fp, how, "duration")}
    assert os.stat(fa).st_ino == st.st_ino and \
        os.stat(fa).st_mode == st.st_mode
    try:
        # Listed: what can be read; named, one line each: what cannot;
        # and the exit status says the list is not whole.
        code, out, err = gw.ssh("frank", "grants")
        assert code == FAIL, (out, err)
        lines = err.splitlines()
        assert len(lines) == 2, err
        for line, gid in zip(lines, sorted([active, pending])):
            assert line.startswith("muxgate: grants: warning: not listed: "
                                   "corrupt entry grant/%s/%s: "
                                   % (HEX["frank"], gid)), line
        assert active not in out and pending not in out, out
        # The attach the active grant allowed is not allowed now.
        code, out, err = gw.ssh("frank", "attach " + TARGET)
        assert code == DENIED, (out, err)
        assert "muxgate: permission denied: attach on %s" % TARGET in err
        assert "cannot be read" in err
        code, out, err = gw.ssh("frank", "attach " + TARGET, tty=True)
        assert code == DENIED, (out, err)
        assert not any(v[1] == "frank" for v in viewers(gw))
        # Nobody decides or lists from a corrupt entry.
        for key, cmd, gid in (("alice", "approve", pending),
                              ("eve", "deny", pending),
                              ("alice", "revoke", active),
                              ("frank", "revoke", pending)):
            code, out, err = gw.ssh(key, "%s %s" % (cmd, gid))
            assert code == FAIL, (key, cmd, out, err)
            assert one_error_line(err).startswith(
                "muxgate: %s: corrupt entry grant/%s/%s: " % (
                    cmd, HEX["frank"], gid)), err
            assert out == ""
        code, out, err = gw.ssh("alice", "grants")
        assert code == FAIL and "corrupt entry" in one_error_line(err), \
            (out, err)
        # check names them too, and decides without them.
        code, out, err = gw.local("check", "-f", gw.policy, "--explain",
                                  "frank")
        assert code == OK, (out, err)
        assert "grants in force" not in out, out
        lines = sorted(err.splitlines())
        assert len(lines) == 2, err
        for line, gid in zip(lines, sorted([active, pending])):
            assert line.startswith("muxgate: warning: grant not considered: "
                                   "corrupt entry grant/%s/%s: "
                                   % (HEX["frank"], gid)), line
        code, out, err = gw.local("check", "-f", gw.policy, "--can", "frank",
                                  "attach", TARGET)
        assert code == DENIED and out.startswith("deny: "), (out, err)
        assert len(err.splitlines()) == 2 and \
            "grant not considered: corrupt entry" in err, err
        # The tampered bytes are still there: nothing rewrote them.
        assert open(fa, "rb").read() != saved[fa]
    finally:
        for p, data in saved.items():
            restore(p, data)
    # Restored, both count again.
    assert grant(gw, "frank", active)["status"] == "active"
    assert grant(gw, "frank", pending)["status"] == "pending"
    assert attach_allowed(gw, "frank")
    approve(gw, "eve", pending)


# ---- 8. two approvals of one request at once ----

def test_concurrent_approvals(gw):
    for _ in range(6):
        gid = request(gw, "frank", "attach " + TARGET)
        procs = {k: subprocess.Popen(
            gw.ssh_args(k) + ["approve " + gid], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
            for k in ("alice", "eve")}
        res = {k: (p.wait(30),) + tuple(_s(x) for x in p.communicate())
               for k, p in procs.items()}
        ok = [k for k, r in res.items() if r[0] == OK]
        assert len(ok) == 1, res
        win, lose = ok[0], [k for k in res if k != ok[0]][0]
        assert res[win][1].startswith("approved %s  active" % gid), res
        assert "approved by %s" % win in res[win][1]
        code, out, err = res[lose]
        assert code == FAIL and out == "", res
        line = one_error_line(err)
        assert line in (
            "muxgate: grant %s was not approved: it is active, approved "
            "by %s" % (gid, win),
            "muxgate: grant %s is not pending: it is active" % gid), line
        g = grant(gw, "frank", gid)
        assert (g["status"], g["approver"]) == ("active", win), (g, res)
    # (Which one wins is up to timing; one of them always does.)


def test_concurrent_approve_and_deny(gw):
    """alice approves while eve denies: one decision, the other refused."""
    for _ in range(4):
        gid = request(gw, "frank", "attach " + TARGET)
        procs = {k: subprocess.Popen(
            gw.ssh_args(k) + ["%s %s" % (cmd, gid)], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
            for k, cmd in (("alice", "approve"), ("eve", "deny"))}
        res = {k: (p.wait(30),) + tuple(_s(x) for x in p.communicate())
               for k, p in procs.items()}
        ok = [k for k, r in res.items() if r[0] == OK]
        assert len(ok) == 1, res
        assert [r[0] for k, r in res.items() if k not in ok] == [FAIL], res
        g = grant(gw, "frank", gid)
        if ok == ["alice"]:
            assert (g["status"], g["approver"], g["by"]) == \
                ("active", "alice", None), (g, res)
        else:
            assert (g["status"], g["approver"], g["by"]) == \
                ("denied", None, "eve"), (g, res)


# ---- ls and hosts under a grant ----

def test_ls_and_hosts_show_the_granted_session(gw):
    other = SESSION + "-other"
    tmux_new(DEPLOY, other)
    code, out, err = gw.ssh("frank", "ls %s@bastion" % DEPLOY)
    assert code == DENIED, (out, err)
    gid = request(gw, "frank", "attach " + TARGET)
    approve(gw, "alice", gid)
    code, out, err = gw.ssh("frank", "ls --json %s@bastion" % DEPLOY)
    assert code == OK, err
    names = [s["name"] for h in parse_json(out)["hosts"]
             for s in h["sessions"]]
    assert names == [SESSION], out
    code, out, err = gw.ssh("frank", "ls")
    assert code == OK, err
    assert SESSION in out and other not in out, out
    code, out, err = gw.ssh("frank", "hosts")
    assert code == OK, err
    assert re.search(r"^bastion\s+%s\s" % DEPLOY, out, re.M), out
    assert BUILD not in out and "web1" not in out, out
    # The grant is for that session only; attach covers watch.
    assert attach_allowed(gw, "frank")
    assert attach_allowed(gw, "frank", cmd="watch")
    assert not attach_allowed(gw, "frank", "%s@bastion:%s" % (DEPLOY, other))
    assert not attach_allowed(gw, "frank", "%s@bastion:%s" % (BUILD, SESSION))
    # A grant for the whole user shows every session there.
    code, out, err = gw.ssh("frank", "revoke " + gid)
    assert code == OK, err
    code, out, err = gw.ssh("frank", "ls %s@bastion" % DEPLOY)
    assert code == DENIED, (out, err)
    gid = request(gw, "frank", "attach %s@bastion" % DEPLOY)
    approve(gw, "alice", gid)
    code, out, err = gw.ssh("frank", "ls --json %s@bastion" % DEPLOY)
    assert code == OK, err
    names = sorted(s["name"] for h in parse_json(out)["hosts"]
                   for s in h["sessions"])
    assert names == sorted([SESSION, other]), out


# ---- 9. the audit trail ----

@pytest.fixture(scope="module")
def auditd(gw):
    """A running audit daemon and cap_audit_write on the suite's muxgate,
    as tests/e2e/test_audit.py sets them up (and undoes it)."""
    for tool in ("auditctl", "ausearch", "setcap"):
        if shutil.which(tool, path=SYS_PATH) is None:
            pytest.skip("%s not found" % tool)
    st, why = audit_status()
    if st is None:
        pytest.skip("the kernel refuses audit here (%s)" % why)
    enabled_here = ours = False
    pid = 0
    try:
        if st["enabled"] == 0:
            p = run(["auditctl", "-e", "1"], check=False, env=AUSEARCH_ENV)
            if p.returncode != 0:
                pytest.skip("auditctl -e 1 failed: %s" % _s(p.stderr))
            enabled_here = True
        pid = daemon_pid()
        if not pid:
            if not os.access(AUDITD, os.X_OK):
                pytest.skip("no audit daemon runs and %s is not installed"
                            % AUDITD)
            try:
                pid = start_auditd()
            except RuntimeError as e:
                pytest.skip("cannot start the audit daemon: %s" % e)
            ours = True
        if not probe("grants-" + secrets.token_hex(4)):
            pytest.skip("records sent with auditctl -m never reach ausearch")
        setcap(gw.bin, "cap_audit_write+ep")
        assert "cap_audit_write" in getcap(gw.bin)
        yield
    finally:
        setcap(gw.bin, None)
        if ours and pid:
            stop_auditd(pid)
        if enabled_here:
            run(["auditctl", "-e", "0"], check=False, env=AUSEARCH_ENV)


FIELD_ORDER = ("op", "identity", "key", "host", "tmux_user", "session",
               "attach", "attach_mode", "recording", "rec_hash", "bytes_in",
               "bytes_out", "duration", "rec_bytes", "grant", "grant_action",
               "requester", "approver", "grant_for", "note", "ref", "reason")


def field(r, name):
    v = r.raw(name)
    if v is None or name == "grant_for":
        return v if v is None else int(v)
    return decode_value(v)


def of_grant(gid):
    return lambda v: v is not None and decode_value(v) == gid


def test_audit_records(gw, jit, auditd, terms):
    since = time.time()
    jit.write(grants_policy(gw, audit=True))
    gid = request(gw, "frank", "attach " + TARGET, reason="hotfix $(id)")
    code, out, err = gw.ssh("frank", "approve " + gid)
    assert code == DENIED
    approve(gw, "alice", gid)
    t = terms("frank", "attach " + TARGET)
    wait_attached(gw)
    code, out, err = gw.ssh("eve", "revoke %s --reason 'done now'" % gid)
    assert code == OK, err
    t.wait("revoked by eve")
    t.wait_dead(10)
    did = request(gw, "frank", "attach " + TARGET)
    code, out, err = gw.ssh("alice", "deny %s --reason 'no, sorry'" % did)
    assert code == OK, err

    def one(op, res="success", **want):
        return expect_one(since, type="USER_CMD", op="muxgate-" + op,
                          res=res, **want)

    r = one("request", grant=of_grant(gid))
    assert (r["identity"], r["host"], r["tmux_user"], r["session"]) == \
        ("frank", "bastion", DEPLOY, SESSION), r
    assert (field(r, "grant_action"), field(r, "requester"),
            field(r, "grant_for"), field(r, "note")) == \
        ("attach", "frank", 600, "hotfix $(id)"), r
    assert r.get("approver") is None, r

    r = one("approve", res="failed", grant=of_grant(gid))
    assert (r["identity"], r["reason"]) == ("frank", "permission-denied"), r
    r = one("approve", grant=of_grant(gid))
    assert r["identity"] == "alice"
    assert (field(r, "requester"), field(r, "approver"),
            field(r, "grant_action"), field(r, "grant_for")) == \
        ("frank", "alice", "attach", 600), r

    r = one("attach", grant=of_grant(gid))
    assert (r["identity"], r["session"]) == ("frank", SESSION), r
    start = expect_one(since, type="USER_START", grant=of_grant(gid))
    end = expect_one(since, type="USER_END", grant=of_grant(gid))
    assert start.op == "muxgate-attach-start" and start["identity"] == \
        "frank", start
    assert end.op == "muxgate-attach-end" and end["reason"] == "revoked", end
    assert end["attach"] == start["attach"]

    r = one("revoke", grant=of_grant(gid))
    assert r["identity"] == "eve"
    assert (field(r, "requester"), field(r, "approver"),
            field(r, "note")) == ("frank", "alice", "done now"), r

    r = one("request", grant=of_grant(did))
    assert r.get("note") is None, r
    r = one("deny", grant=of_grant(did))
    assert r["identity"] == "alice"
    assert (field(r, "requester"), field(r, "grant_action"),
            field(r, "grant_for"), field(r, "note")) == \
        ("frank", "attach", 600, "no, sorry"), r
    assert r.get("approver") is None, r
    # Every record of either grant names its id in grant=, and muxgate's
    # fields come in the documented order (docs/audit-events.md).
    seen = 0
    for rec in records(since):
        if field(rec, "grant") not in (gid, did):
            continue
        seen += 1
        ours = [n for n in rec.names() if n in FIELD_ORDER]
        assert ours == sorted(ours, key=FIELD_ORDER.index), rec
        assert len(set(rec.names())) == len(rec.names()), rec
    assert seen == 9, "one record per event"


# ---- 10. hostile input ----

def test_hostile_reasons(gw):
    for reason in ("'\x1b]52;c;cHduZWQ=\x07'", "$'\\e]52;c;cHduZWQ=\\a'",
                   "'a\x9bb'", "'%s'" % ("x" * 513)):
        code, out, err = gw.ssh("frank", "request attach %s --for 1m "
                                "--reason %s" % (TARGET, reason))
        assert code == USAGE, (reason, out, err)
        one_error_line(err)
        assert out == ""
    code, out, err = gw.ssh("frank",
                            "request attach %s --for 1m --reason 'a\udcffb'"
                            % TARGET)
    assert code == USAGE and "invalid UTF-8" in one_error_line(err), err
    assert grants(gw, "frank")["grants"] == []
    # 512 bytes is the most; printable UTF-8 is text.
    long = request(gw, "frank", "attach " + TARGET, reason="y" * 512)
    assert grant(gw, "frank", long)["reason"] == "y" * 512
    utf = request(gw, "frank", "attach " + TARGET, reason="Grüße, 日本")
    assert grant(gw, "alice", utf, "to_approve")["reason"] == "Grüße, 日本"
    # Shell syntax is kept, and shown, as text; it never runs.
    gid = request(gw, "frank", "attach " + TARGET,
                  reason="$(touch /tmp/mgt-pwned); `id` \\ ok")
    code, out, err = gw.ssh("alice", "grants")
    assert code == OK, err
    assert "; reason: $(touch /tmp/mgt-pwned); `id` \\ ok\n" in out, out
    assert grant(gw, "alice", gid, "to_approve")["reason"] == \
        "$(touch /tmp/mgt-pwned); `id` \\ ok"
    code, out, err = gw.ssh("alice", "revoke %s --reason '\x1b[2J'" % gid)
    assert code == USAGE, (out, err)
    assert grant(gw, "frank", gid)["status"] == "pending"
    assert not os.path.exists("/tmp/mgt-pwned")


@pytest.mark.parametrize("session", ["'a\u009bb'", "'a\udcffb'"])
def test_request_for_an_unstorable_session_name(gw, session):
    """A request must either be refused (exit 2) or stored readable: one
    requester must not break `grants` for every approver."""
    code, out, err = gw.ssh("frank", "request attach %s@bastion:%s --for 1m"
                            % (DEPLOY, session))
    assert code in (OK, USAGE), (out, err)
    for key in ("alice", "eve", "frank"):
        code, out, err = gw.ssh(key, "grants")
        assert code == OK, (key, out, err)


def test_bad_grant_ids(gw):
    for arg in ("../../x", "../../state.key", "0123456789abcdef0",
                "0123456789ABCDEF", "0123456789abcde",
                "'$(touch /tmp/mgt-pwned)'", "grant/x"):
        for cmd in ("approve", "deny", "revoke"):
            code, out, err = gw.ssh("alice", "%s %s" % (cmd, arg))
            assert code == USAGE, (cmd, arg, out, err)
            assert one_error_line(err).startswith(
                "muxgate: bad grant id '"), err
    assert not os.path.exists("/tmp/mgt-pwned")


def test_unknown_and_foreign_grants(gw):
    code, out, err = gw.ssh("alice", "approve 0123456789abcdef")
    assert code == NOSESSION, (out, err)
    assert one_error_line(err) == "muxgate: no grant 0123456789abcdef"
    # frank is no approver of eve's rule.
    kid = request(gw, "eve", "kill %s@bastion" % DEPLOY, reason="tidy up")
    for cmd in ("approve", "deny", "revoke"):
        code, out, err = gw.ssh("frank", "%s %s" % (cmd, kid))
        assert code == DENIED, (cmd, out, err)
        assert one_error_line(err).startswith(
            "muxgate: permission denied: %s %s (" % (cmd, kid)), err
    assert grant(gw, "frank", kid, "to_approve") is None
    assert grant(gw, "eve", kid)["status"] == "pending"
    approve(gw, "alice", kid)


def test_requests_refused(gw):
    for key, cmd, code, text in (
            ("alice", "request attach %s --for 5m" % TARGET, USAGE,
             "nothing to ask for"),
            ("frank", "request kill %s@bastion --for 5m" % DEPLOY, DENIED,
             "permission denied: request kill"),
            ("frank", "request attach %s --for 2h" % TARGET, DENIED,
             "longer than 1h"),
            ("frank", "request attach %s@bastion --for 5m" % BUILD, DENIED,
             "permission denied: request attach"),
            ("frank", "request attach ops@web1 --for 5m", DENIED,
             "permission denied: request attach"),
            ("eve", "request watch %s@bastion --for 5m" % BUILD, DENIED,
             "a deny rule covers it"),
            ("frank", "request attach %s" % TARGET, USAGE, "--for"),
            ("frank", "request attach %s --for 0s" % TARGET, USAGE,
             "bad duration"),
            ("frank", "request sudo %s --for 5m" % TARGET, USAGE,
             "unknown action")):
        c, out, err = gw.ssh(key, cmd)
        assert c == code, (cmd, out, err)
        assert text in one_error_line(err), (cmd, err)
    for key in ("alice", "eve", "frank"):
        assert grants(gw, key)["grants"] == []
