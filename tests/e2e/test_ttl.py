"""
Session TTLs: `new --ttl`, a rule's max_session_ttl, and `muxgate reap`
run as the gateway account (as muxgate-reap.service runs it), against
the real sshd, sudo and tmux.

Every test has a state directory of its own (gateway.state), so that the
tags of one test are never reaped by another.  TTLs are a few seconds
long; the tests sleep past them.
"""
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import time

import pytest

from helpers import *
from term_util import *
from audit_util import check_encoding, expect_one

TARGET = "mgt-deploy@bastion:"
# frank's builder rule, which these tests give a max_session_ttl.
BUILDER_RULE = ("      - hosts: [bastion]\n        tmux_users: [mgt-deploy]\n"
                "        actions: [list, create, kill-own]\n")


def ttl_policy(gw, state, frank_max=None, base=None):
    """The suite's policy with gateway.state STATE and, with FRANK_MAX, a
    max_session_ttl on frank's rule."""
    t = base if base is not None else gw.policy_text
    old = "  state: %s/state\n" % gw.base
    assert old in t
    t = t.replace(old, "  state: %s\n" % state, 1)
    if frank_max is not None:
        assert BUILDER_RULE in t
        t = t.replace(BUILDER_RULE, BUILDER_RULE +
                      "        max_session_ttl: %s\n" % frank_max, 1)
    return t


@pytest.fixture
def statedir(gw):
    """A fresh gateway.state of the gateway account's (a short path:
    gateway.state is at most 60 bytes), removed afterwards."""
    d = os.path.join(gw.base, "ttl-" + secrets.token_hex(4))
    os.mkdir(d, 0o700)
    pw = pwd.getpwnam(GW)
    os.chown(d, pw.pw_uid, pw.pw_gid)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def state(gw, policy_edit, statedir):
    """A state of the test's own; frank may create with at most 3s."""
    policy_edit.write(ttl_policy(gw, statedir, frank_max="3s"))
    return statedir


def reap(gw, *extra):
    """`muxgate reap` as the gateway account, with its environment."""
    return gw.local("reap", "-f", gw.policy, *extra, user=GW,
                    env={"HOME": "/home/" + GW, "USER": GW, "LOGNAME": GW},
                    timeout=60)


def ls_json(gw, key, target):
    code, out, err = gw.ssh(key, "ls --json " + target)
    assert code == OK, err
    return parse_json(out)


def session_of(doc, name):
    for h in doc["hosts"]:
        for s in h["sessions"]:
            if s["name"] == name:
                return s
    raise AssertionError("no session %s in %r" % (name, doc))


def sleep_past(expires):
    """Until the clock is past EXPIRES (epoch seconds), reap's `now`."""
    delay = expires + 1.05 - time.time()
    if delay > 0:
        time.sleep(delay)


# ---- the state files, as only root and muxgate see them ----

def ttl_key(host, user, session):
    h = hashlib.blake2b(("%s\0%s\0%s" % (host, user, session)).encode(),
                        digest_size=32)
    return "ttl/" + h.hexdigest()


def entry_path(state, key):
    return os.path.join(state, "kv", key.replace("/", "."))


def forge(state, key, value, expires):
    """An entry written as muxgate writes it (state-file.c), with the
    state's own MAC key: what only the gateway account and root can do."""
    mackey = open(os.path.join(state, "state.key"), "rb").read()
    body = ("muxgate-state 1 %s %d %d %d\n" % (key, 1, expires, len(value))
            ).encode() + value
    mac = hashlib.blake2b(body, digest_size=32, key=mackey).hexdigest()
    tmp = os.path.join(state, "forged.tmp")
    with open(tmp, "wb") as f:
        f.write(body + b"\nmac " + mac.encode() + b"\n")
    pw = pwd.getpwnam(GW)
    os.chown(tmp, pw.pw_uid, pw.pw_gid)
    os.chmod(tmp, 0o600)
    os.rename(tmp, entry_path(state, key))


def tag_value(host, user, session, created, ttl, by):
    return json.dumps({"host": host, "user": user, "session": session,
                       "created": created, "ttl": ttl,
                       "expires": created + ttl, "by": by},
                      separators=(",", ":")).encode()


# ---- new --ttl, ls, reap ----

def test_ttl_session_is_reaped_others_stay(gw, state, ssh):
    code, out, err = ssh("alice", "new %sshort --ttl 6s" % TARGET)
    assert code == OK, err
    assert out == "created %sshort (ttl 6s)\n" % TARGET, out
    code, out, err = ssh("alice", "new %slong --json" % TARGET)
    assert code == OK, err
    assert parse_json(out)["expires"] is None
    doc = ls_json(gw, "alice", "mgt-deploy@bastion")
    short, long_ = session_of(doc, "short"), session_of(doc, "long")
    assert short["expires"] == short["created"] + 6, short
    assert long_["expires"] is None, long_
    code, out, err = ssh("alice", "ls %sshort" % TARGET)
    assert code == OK and re.search(r", ttl [1-6]s\)", out), out
    code, out, err = ssh("alice", "ls %slong" % TARGET)
    assert code == OK and "ttl" not in out, out

    # Before its time, reap leaves it.
    code, out, err = reap(gw)
    assert (code, out, err) == (OK, "", "")
    assert tmux_has(DEPLOY, "short")

    sleep_past(short["expires"])
    code, out, err = reap(gw)
    assert code == OK, err
    assert out == "reaped %sshort (created by alice, ttl 6s)\n" % TARGET
    assert err == ""
    assert not tmux_has(DEPLOY, "short")
    assert tmux_has(DEPLOY, "long")
    # The tag went with it: nothing left to do.
    assert not os.path.exists(entry_path(state, ttl_key(
        "bastion", DEPLOY, "short")))
    assert reap(gw) == (OK, "", "")


def test_session_ended_by_itself_drops_the_tag(gw, state, ssh):
    code, out, err = ssh("alice", "new %sbrief --ttl 2s -- /bin/sleep 1"
                         % TARGET)
    assert code == OK, err
    assert wait_for(lambda: not tmux_has(DEPLOY, "brief"), 10)
    time.sleep(2.2)
    code, out, err = reap(gw)
    assert code == OK, err
    assert out == ("dropped the ttl of %sbrief: the session has ended\n"
                   % TARGET)


def test_max_session_ttl(gw, state, ssh):
    # Longer than the rule allows: refused, nothing created.
    code, out, err = ssh("frank", "new %sf1 --ttl 10s" % TARGET)
    assert code == DENIED, (out, err)
    assert one_error_line(err) == ("muxgate: permission denied: --ttl 10s "
                                   "on %sf1: the policy allows at most 3s"
                                   % TARGET)
    assert tmux_sessions(DEPLOY) == []
    assert not os.path.exists(os.path.join(state, "kv")) or not [
        f for f in os.listdir(os.path.join(state, "kv"))
        if f.startswith("ttl.")]

    # Without --ttl: the rule's max; a shorter one as asked.
    code, out, err = ssh("frank", "new %sf1 --json" % TARGET)
    assert code == OK, err
    made = parse_json(out)
    code, out, err = ssh("frank", "new %sf2 --ttl 2s" % TARGET)
    assert code == OK, err
    assert out == "created %sf2 (ttl 2s)\n" % TARGET
    doc = ls_json(gw, "frank", "mgt-deploy@bastion")
    f1, f2 = session_of(doc, "f1"), session_of(doc, "f2")
    assert made["expires"] == f1["expires"] == f1["created"] + 3, (made, f1)
    assert f2["expires"] == f2["created"] + 2

    # alice's rule has no max: her sessions last as long as she asks.
    code, out, err = ssh("alice", "new %sa1 --ttl 1h" % TARGET)
    assert code == OK, err
    code, out, err = ssh("alice", "new %sa2" % TARGET)
    assert code == OK, err

    sleep_past(f1["expires"])
    code, out, err = reap(gw)
    assert code == OK, err
    assert sorted(out.splitlines()) == [
        "reaped %sf1 (created by frank, ttl 3s)" % TARGET,
        "reaped %sf2 (created by frank, ttl 2s)" % TARGET]
    assert tmux_sessions(DEPLOY) == ["a1", "a2"]


def test_recreated_session_is_not_reaped(gw, state, ssh):
    """A tag is for the session it was made for, not for its name."""
    code, out, err = ssh("alice", "new %sre --ttl 2s --json" % TARGET)
    assert code == OK, err
    first = parse_json(out)["expires"]
    code, out, err = ssh("alice", "kill %sre --yes" % TARGET)
    assert code == OK, err
    # Made again outside muxgate, in a later second: the tag stays, and
    # tmux's creation time tells the two apart.
    time.sleep(1.1)
    tmux_new(DEPLOY, "re")
    sleep_past(first)
    code, out, err = reap(gw)
    assert code == OK, err
    assert out == ("dropped the ttl of %sre: the session of that name is a "
                   "newer one\n" % TARGET)
    assert tmux_has(DEPLOY, "re")
    assert reap(gw) == (OK, "", "")
    assert tmux_has(DEPLOY, "re")

    # Made again through muxgate, without --ttl: the old tag goes at once.
    tmux(DEPLOY, "kill-session", "-t", "=re", check=True)
    code, out, err = ssh("alice", "new %sre --ttl 2s --json" % TARGET)
    assert code == OK, err
    second = parse_json(out)["expires"]
    code, out, err = ssh("alice", "kill %sre --yes" % TARGET)
    assert code == OK, err
    code, out, err = ssh("alice", "new %sre --json" % TARGET)
    assert code == OK, err
    assert parse_json(out)["expires"] is None
    assert session_of(ls_json(gw, "alice", TARGET + "re"),
                      "re")["expires"] is None
    sleep_past(second)
    assert reap(gw) == (OK, "", "")
    assert tmux_has(DEPLOY, "re")


def test_session_made_again_between_look_and_kill_survives(gw, state, ssh):
    """reap looks (list-sessions), then kills by tmux's id of the session
    it asked for with its creation time: one made again under the name in
    between is not the one killed.  A one-shot tmux hook on list-sessions
    makes that race happen every time."""
    code, out, err = ssh("alice", "new %srace --ttl 2s --json" % TARGET)
    assert code == OK, err
    sleep_past(parse_json(out)["expires"])
    tmux(DEPLOY, "set-hook", "-g", "after-list-sessions",
         "set-hook -gu after-list-sessions ; kill-session -t =race ; "
         "new-session -d -s race", check=True)
    code, out, err = reap(gw)
    assert code == OK, err
    assert out == ("dropped the ttl of %srace: the session of that name is "
                   "a newer one\n" % TARGET), out
    assert err == ""
    # The hook ran (and went), and what it made under the name is alive.
    hooks = tmux(DEPLOY, "show-hooks", "-g")
    assert hooks.returncode == 0
    assert b"after-list-sessions[" not in hooks.stdout, hooks.stdout
    assert tmux_has(DEPLOY, "race")
    assert reap(gw) == (OK, "", "")
    assert tmux_has(DEPLOY, "race")


# ---- refused input ----

@pytest.mark.parametrize("line, says", [
    ("new %sb1 --ttl 2s --ttl 3s" % TARGET, "usage: new "),
    ("new %sb1 --ttl" % TARGET, "usage: new "),
    ("new %sb1 --ttl 5x" % TARGET, "bad --ttl '5x'"),
    ("new %sb1 --ttl 0" % TARGET, "bad --ttl '0'"),
    ("new %sb1 --ttl 0s" % TARGET, "bad --ttl '0s'"),
    ("new %sb1 --ttl -5m" % TARGET, "bad --ttl '-5m'"),
    ("new %sb1 --ttl 5" % TARGET, "bad --ttl '5'"),
    ("new %sb1 --ttl 99999d" % TARGET, "bad --ttl '99999d'"),
    ("new %sb1 --ttl 18446744073709551617s" % TARGET, "bad --ttl"),
    ("new %sb1 --ttl ' 5m'" % TARGET, "bad --ttl ' 5m'"),
    ("ls --ttl 5m", "ls: unknown option --ttl"),
    ("kill %sb1 --yes --ttl 5m" % TARGET, "kill: unknown option --ttl"),
    ("attach %sb1 --ttl 5m" % TARGET, "attach: unknown option --ttl"),
])
def test_bad_ttl_input(gw, state, ssh, line, says):
    code, out, err = ssh("alice", line)
    assert code == USAGE, (out, err)
    assert says in one_error_line(err), err
    assert out == ""
    assert tmux_sessions(DEPLOY) == []


def test_ttl_after_the_command_belongs_to_the_command(gw, state, ssh):
    """After "--" every word is the session's command's."""
    code, out, err = ssh("alice", "new %scmd -- /bin/sh -c 'sleep 100' "
                         "--ttl 1s" % TARGET)
    assert code == OK, err
    assert out == "created %scmd\n" % TARGET
    pid = tmux_pane_pid(DEPLOY, "cmd")
    assert wait_for(lambda: open("/proc/%d/cmdline" % pid, "rb").read()
                    .split(b"\0")[-3:-1] == [b"--ttl", b"1s"], 5)
    assert session_of(ls_json(gw, "alice", TARGET + "cmd"),
                      "cmd")["expires"] is None


# ---- reap refuses what it cannot trust ----

def test_tampered_entry_is_refused(gw, state, ssh):
    code, out, err = ssh("alice", "new %stamper --ttl 2s --json" % TARGET)
    assert code == OK, err
    expires = parse_json(out)["expires"]
    path = entry_path(state, ttl_key("bastion", DEPLOY, "tamper"))
    data = open(path, "rb").read()
    # Someone gives it a longer TTL by hand: the same length, no MAC.
    old = b'"ttl":2,'
    assert data.count(old) == 1, data
    with open(path, "r+b") as f:
        f.write(data.replace(old, b'"ttl":9,'))
    sleep_past(expires)
    code, out, err = reap(gw)
    assert code == FAIL, (out, err)
    line = one_error_line(err)
    assert line.startswith("muxgate: reap: refused: corrupt entry %s: "
                           % ttl_key("bastion", DEPLOY, "tamper")), line
    assert out == ""
    assert tmux_has(DEPLOY, "tamper")
    assert os.path.exists(path)


def test_hand_edited_entry_skipped_others_reaped(gw, state, ssh):
    """A tag the state refuses (edited by hand) is named in one line and
    left alone, at every run; the other tags are still reaped, and the
    run exits 1."""
    expires = 0
    for name in ("edited", "fine2"):
        code, out, err = ssh("alice", "new %s%s --ttl 2s --json"
                             % (TARGET, name))
        assert code == OK, err
        expires = max(expires, parse_json(out)["expires"])
    key = ttl_key("bastion", DEPLOY, "edited")
    path = entry_path(state, key)
    data = open(path, "rb").read()
    with open(path, "r+b") as f:
        f.write(data.replace(b'"ttl":2,', b'"ttl":7,'))
    sleep_past(expires)
    for run in range(2):
        code, out, err = reap(gw)
        assert code == FAIL, (out, err)
        line = one_error_line(err)
        assert line.startswith("muxgate: reap: refused: corrupt entry %s: "
                               % key), line
        assert out == ("reaped %sfine2 (created by alice, ttl 2s)\n"
                       % TARGET if run == 0 else "")
        assert tmux_has(DEPLOY, "edited")
        assert not tmux_has(DEPLOY, "fine2")
        assert os.path.exists(path)


def test_forged_entries_are_refused_others_reaped(gw, state, ssh):
    """Entries with a valid MAC (written with the state's key) that are
    not what muxgate writes: refused one by one, never acted on; the
    rest of the tags are still reaped."""
    for name in ("victim", "other", "fine"):
        code, out, err = ssh("alice", "new %s%s --ttl 2s --json"
                             % (TARGET, name))
        assert code == OK, err
    created = session_of(ls_json(gw, "alice", TARGET + "victim"),
                         "victim")["created"]
    past = created - 100
    # victim's tag, rewritten to claim it expired long ago, but with an
    # expiry that is not created + ttl.
    k1 = ttl_key("bastion", DEPLOY, "victim")
    v1 = json.loads(tag_value("bastion", DEPLOY, "victim", past, 2, "alice"))
    v1["expires"] = past + 1
    forge(state, k1, json.dumps(v1, separators=(",", ":")).encode(),
          int(time.time()) + 3600)
    # other's key, holding a valid tag of another session.
    k2 = ttl_key("bastion", DEPLOY, "other")
    forge(state, k2, tag_value("bastion", DEPLOY, "victim", created, 2,
                               "alice"), int(time.time()) + 3600)
    sleep_past(created + 2)
    code, out, err = reap(gw)
    assert code == FAIL, (out, err)
    assert out == "reaped %sfine (created by alice, ttl 2s)\n" % TARGET
    lines = sorted(err.splitlines())
    assert lines == sorted([
        "muxgate: reap: refused: bad ttl entry %s: expires is not created "
        "+ ttl" % k1,
        "muxgate: reap: refused: bad ttl entry %s: under another session's "
        "key" % k2]), err
    assert tmux_has(DEPLOY, "victim") and tmux_has(DEPLOY, "other")
    assert not tmux_has(DEPLOY, "fine")


def test_reap_fails_closed_without_a_policy(gw, state, ssh, policy_edit):
    code, out, err = ssh("alice", "new %skept --ttl 2s --json" % TARGET)
    assert code == OK, err
    sleep_past(parse_json(out)["expires"])
    policy_edit.chmod(0o666)
    code, out, err = reap(gw)
    assert code == FAIL, (out, err)
    assert "refused" in one_error_line(err) and "gateway.yaml" in err, err
    assert tmux_has(DEPLOY, "kept")
    policy_edit.chmod(0o644)
    code, out, err = reap(gw)
    assert (code, err) == (OK, ""), err
    assert not tmux_has(DEPLOY, "kept")


def test_reap_needs_the_gateway_account(gw, state, ssh):
    """The state is the gateway account's; root is told so, and kills
    nothing."""
    code, out, err = ssh("alice", "new %sacct --ttl 2s --json" % TARGET)
    assert code == OK, err
    sleep_past(parse_json(out)["expires"])
    code, out, err = gw.local("reap", "-f", gw.policy)
    assert code == FAIL, (out, err)
    assert one_error_line(err).startswith("muxgate: reap: "), err
    assert tmux_has(DEPLOY, "acct")


@pytest.mark.parametrize("args, says", [
    (["stray"], "unexpected argument stray"),
    (["--bogus"], "bad option --bogus"),
    (["-f"], "-f needs a value"),
])
def test_reap_usage(gw, args, says):
    code, out, err = gw.local("reap", *args)
    assert code == USAGE, (out, err)
    lines = err.splitlines()
    assert lines[0] == "muxgate: reap: " + says, err
    assert lines[1:] == ["usage: muxgate reap [-f CONFIG]"], err


# ---- the audit trail ----

def test_audit_records(gw, policy_edit, statedir, auditd, audit_cap, ssh):
    """new's records carry the TTL; each kill by reap is a record of its
    own naming the session, who created it and its TTL."""
    since = time.time()
    policy_edit.write(ttl_policy(gw, statedir, frank_max="3s").replace(
        "  audit: none\n", "  audit: auditd\n  audit_required: true\n", 1))
    name = "au-" + secrets.token_hex(4)
    code, out, err = ssh("frank", "new %s%s --ttl 10s" % (TARGET, name))
    assert code == DENIED, (out, err)
    code, out, err = ssh("frank", "new %s%s --json" % (TARGET, name))
    assert code == OK, err
    expires = parse_json(out)["expires"]
    refused = expect_one(since, type="USER_CMD", op="muxgate-new",
                         session=name, reason="permission-denied")
    assert refused.res == "failed" and refused["ttl"] == 10, refused
    made = expect_one(since, type="USER_CMD", op="muxgate-new", session=name,
                      res="success")
    assert made["identity"] == "frank" and made["ttl"] == 3, made

    sleep_past(expires)
    code, out, err = reap(gw)
    assert code == OK, err
    assert out == "reaped %s%s (created by frank, ttl 3s)\n" % (TARGET, name)
    r = expect_one(since, type="USER_CMD", op="muxgate-reap", session=name)
    assert r.res == "success", r
    assert (r["host"], r["tmux_user"], r["owner"], r["ttl"]) == \
        ("bastion", DEPLOY, "frank", 3), r
    assert r.get("identity") is None and r.get("key") is None, r
    assert r.uid == uid_of(GW), r
    for rec in (refused, made, r):
        check_encoding(rec)
    assert r.interp is not None and 'owner="frank"' in r.interp and \
        "ttl=3 " in r.interp, r.interp


# ---- remote hosts: one unreachable, the others still reaped ----

@pytest.fixture(scope="module")
def fleet(gw):
    import sys
    sys.path.insert(0, os.path.join(REPO, "tests", "hosts"))
    import testhosts
    fl = testhosts.Fleet(os.path.join(gw.base, "ttlhosts"), prefix="mgt-t",
                         addr_base=60, key_owner=GW)
    try:
        fl.up(1, stopped=1, connect_timeout="2s")
        yield fl
    finally:
        fl.down()


def test_unreachable_host_reported_others_reaped(gw, policy_edit, statedir,
                                                 fleet, ssh):
    st = statedir
    t = ttl_policy(gw, st)
    t = t.replace("gateway:\n", "gateway:\n" + fleet.gateway_yaml(2), 1)
    t = t.replace("\nhosts:\n", "\nhosts:\n" + fleet.policy_hosts(2), 1)
    t = t.replace("\nroles:\n", "\nroles:\n  fleet:\n    allow:\n"
                  "      - hosts: {testhosts: mgt-t}\n"
                  "        tmux_users: \"*\"\n"
                  "        actions: [list, create, kill]\n", 1)
    t = t.replace("    roles: [operator]\n", "    roles: [operator, fleet]\n",
                  1)
    policy_edit.write(t)
    ok, down = fleet.kind("ok")[0], fleet.kind("stopped")[0]
    try:
        remote = "%s@%s:r1" % (ok.app_user, ok.name)
        code, out, err = ssh("alice", "new %s --ttl 2s --json" % remote,
                             timeout=30)
        assert code == OK, err
        expires = parse_json(out)["expires"]
        code, out, err = ssh("alice", "new %slocal --ttl 2s" % TARGET)
        assert code == OK, err
        # A tag for the host that is down: made while it was up.
        key = ttl_key(down.name, down.app_user, "gone")
        forge(st, key, tag_value(down.name, down.app_user, "gone",
                                 expires - 2, 2, "alice"), expires + 3600)
        sleep_past(expires)
        code, out, err = reap(gw)
        assert code == FAIL, (out, err)
        assert sorted(out.splitlines()) == sorted([
            "reaped %s (created by alice, ttl 2s)" % remote,
            "reaped %slocal (created by alice, ttl 2s)" % TARGET]), out
        line = one_error_line(err)
        assert line.startswith("muxgate: reap: %s@%s:gone not reaped: "
                               % (down.app_user, down.name)), line
        assert "unreachable" in line, line
        assert tmux_sessions(ok.app_user) == []
        assert not tmux_has(DEPLOY, "local")
        # Kept for the next run, when the host may be back.
        assert os.path.exists(entry_path(st, key))
        code, out, err = reap(gw)
        assert code == FAIL and out == "", (out, err)
    finally:
        kill_user_processes(ok.app_user)


# ---- a person at a terminal ----

def test_journey_reaped_while_attached(gw, state):
    """alice makes a session with a TTL, attaches to it from the menu;
    reap ends it under her, and she is back at the prompt, makes another
    and leaves."""
    t = Term(gw, "alice")
    try:
        t.prompt()
        m = t.mark()
        t.line("new %sjt --ttl 4s" % TARGET)
        t.wait(r"created %sjt \(ttl 4s\)" % re.escape(TARGET), m)
        t.prompt(m)
        expires = session_of(ls_json(gw, "alice", TARGET + "jt"),
                             "jt")["expires"]
        m = t.mark()
        t.line("attach %sjt" % TARGET)
        assert wait_for(lambda: tmux_clients(DEPLOY, "jt"), 10)
        t.line("echo inside-$((6*7))")
        assert wait_for(lambda: "inside-42" in tmux_capture(DEPLOY, "jt"))
        sleep_past(expires)
        code, out, err = reap(gw)
        assert code == OK, err
        assert out == "reaped %sjt (created by alice, ttl 4s)\n" % TARGET
        t.prompt(m)
        assert t.dead() is None
        m = t.mark()
        t.line("new %sjt" % TARGET)
        t.wait(r"created %sjt\n" % re.escape(TARGET), m)
        t.prompt(m)
        m = t.mark()
        t.line("ls %sjt" % TARGET)
        t.wait(r"%sjt  \(1 window, created [^)]*owner alice\)"
               % re.escape(TARGET), m)
        t.prompt(m)
        assert "ttl" not in t.screen()[m:]
        t.line("exit")
        assert t.wait_dead() == OK
        assert tmux_has(DEPLOY, "jt")
    finally:
        t.close()
