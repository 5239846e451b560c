"""`muxgate prune` (muxgate(8), PRUNE): retention for recordings.  Whole
recordings older than --older-than go; fresh ones, those of live attaches
and anything that is not a regular file named like a recording stay."""
import os
import pwd
import secrets
import time

import pytest

from helpers import *
from relay_util import *

DAY = 86400
TARGET = "mgt-deploy@bastion:"


def _name(days_ago=0):
    when = time.strftime("%Y%m%d-%H%M%S",
                         time.gmtime(time.time() - days_ago * DAY))
    return "%s-%s.cast" % (when, secrets.token_hex(8))


def _chown_gw(path):
    pw = pwd.getpwnam(GW)
    os.lchown(path, pw.pw_uid, pw.pw_gid)


class Recs:
    """A recordings root of the test's own (gateway.recordings), owned by
    the gateway account as muxgate makes it."""

    def __init__(self, root):
        self.root = root
        os.mkdir(root, 0o700)
        _chown_gw(root)

    def dir(self, identity="alice"):
        d = os.path.join(self.root, identity)
        if not os.path.isdir(d):
            os.mkdir(d, 0o700)
            _chown_gw(d)
        return d

    def add(self, days_ago, identity="alice", name=None):
        f = os.path.join(self.dir(identity), name or _name(days_ago))
        with open(f, "w") as fp:
            fp.write('{"version": 2, "width": 80, "height": 24}\n')
        os.chmod(f, 0o600)
        _chown_gw(f)
        age(f, days_ago)
        return f


def age(path, days_ago):
    t = time.time() - days_ago * DAY
    os.utime(path, (t, t), follow_symlinks=False)


@pytest.fixture
def recs(gw, policy_edit, workdir):
    r = Recs(os.path.join(workdir, "rec"))
    policy_edit.write(policy_with(gw, recordings=r.root))
    return r


def prune(gw, *args):
    p = run([gw.bin, "prune", "-f", gw.policy] + list(args), check=False)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_prune_removes_old_keeps_fresh(gw, recs):
    old1, old2 = recs.add(100), recs.add(91, identity="eve")
    fresh = recs.add(10)
    code, out, err = prune(gw, "--older-than", "90d")
    assert code == OK, err
    assert err == ""
    assert sorted(out.splitlines()) == sorted(
        ["removed " + old1, "removed " + old2]), out
    assert not os.path.lexists(old1) and not os.path.lexists(old2)
    assert os.path.exists(fresh)
    # Nothing left to do: no output, success.
    assert prune(gw, "--older-than", "90d") == (OK, "", "")


def test_prune_units(gw, recs):
    f = recs.add(2)
    assert prune(gw, "--older-than", "3d") == (OK, "", "")
    assert prune(gw, "--older-than", "47h")[:2] == (OK, "removed %s\n" % f)


def test_prune_dry_run_removes_nothing(gw, recs):
    old = recs.add(100)
    fresh = recs.add(1)
    code, out, err = prune(gw, "--older-than", "90d", "--dry-run")
    assert code == OK, err
    assert out == "would remove %s\n" % old, out
    assert os.path.exists(old) and os.path.exists(fresh)


def test_prune_keeps_recording_of_live_attach(gw, recs, spawn):
    s = "prune-live"
    tmux_new(DEPLOY, s, "/bin/cat")
    c = spawn("alice", "attach " + TARGET + s)
    wait_client(DEPLOY, s)
    got = wait_for(lambda: recordings_of(gw, "alice", s, root=recs.root))
    assert len(got) == 1, got
    live = got[0]
    age(live, 200)          # an idle attach writes nothing for days
    old = recs.add(100)
    code, out, err = prune(gw, "--older-than", "90d")
    assert code == OK, err
    attach_id = CAST_NAME.match(os.path.basename(live)).group(2)
    assert sorted(out.splitlines()) == sorted([
        "kept %s: attach %s is live" % (live, attach_id),
        "removed " + old]), out
    assert os.path.exists(live) and not os.path.exists(old)
    detach(c)
    assert finish(c)[0] == OK
    # Once the attach has ended, its recording is just old.
    age(live, 200)
    assert prune(gw, "--older-than", "90d")[:2] == (OK, "removed %s\n" % live)


def test_prune_refuses_symlinks_and_strangers(gw, recs, workdir):
    target = os.path.join(workdir, "precious")
    with open(target, "w") as fp:
        fp.write("not a recording\n")
    age(target, 300)
    link = os.path.join(recs.dir(), _name(300))
    os.symlink(target, link)
    age(link, 300)
    dlink = os.path.join(recs.root, "mallory")
    os.symlink(workdir, dlink)
    age(dlink, 300)
    stranger = recs.add(300, name="notes.txt")
    old = recs.add(100)
    code, out, err = prune(gw, "--older-than", "90d")
    assert code == FAIL, (out, err)
    assert out == "removed %s\n" % old, out
    lines = sorted(err.splitlines())
    assert lines == sorted([
        "muxgate: prune: refusing %s: a symbolic link" % link,
        "muxgate: prune: refusing %s: a symbolic link" % dlink,
        "muxgate: prune: refusing %s: not named like a recording" % stranger,
    ]), err
    for p in (target, link, dlink, stranger):
        assert os.path.lexists(p), p


@pytest.mark.parametrize("bad", ["", "0", "90x", "-5d", "d", "9 d",
                                 "99999999999999d"])
def test_prune_bad_duration(gw, recs, bad):
    old = recs.add(100)
    code, out, err = prune(gw, "--older-than", bad)
    assert code == USAGE, (out, err)
    assert "bad duration" in one_error_line(err)
    assert out == ""
    assert os.path.exists(old)


def test_prune_usage(gw, recs):
    code, out, err = prune(gw)
    assert code == USAGE, err
    assert err.startswith("muxgate: prune: --older-than is required\n"
                          "usage: muxgate prune"), err


def test_prune_audit_record_per_removal(gw, policy_edit, recs):
    from audit_util import SyslogListener
    try:
        listener = SyslogListener().start()
    except (FileExistsError, OSError) as e:
        pytest.skip("cannot listen on /dev/log here (%s)" % e)
    try:
        text = policy_with(gw, recordings=recs.root).replace(
            "  audit: none\n", "  audit: syslog\n", 1)
        policy_edit.write(text)
        old = recs.add(100)
        dry = prune(gw, "--older-than", "90d", "--dry-run")
        assert dry[0] == OK, dry
        code, out, err = prune(gw, "--older-than", "90d")
        assert code == OK, err
        got = listener.wait(lambda m: "op=muxgate-prune" in (m.text or ""))
        assert len(got) == 1, listener.messages()
        assert got[0].text == ('type=USER_CMD op=muxgate-prune '
                               'recording="%s" res=success' % old), got[0]
    finally:
        listener.stop()


def test_prune_refuses_directories_others_can_write(gw, recs):
    # Anyone could have put files there: they are not muxgate's to judge.
    planted = recs.add(100, identity="eve")
    os.chmod(os.path.dirname(planted), 0o777)
    old = recs.add(100)
    code, out, err = prune(gw, "--older-than", "90d")
    assert code == FAIL, (out, err)
    assert out == "removed %s\n" % old, out
    assert one_error_line(err) == (
        "muxgate: prune: refusing %s: writable by group or others"
        % os.path.dirname(planted)), err
    assert os.path.exists(planted)
    os.chmod(recs.root, 0o1777)
    code, out, err = prune(gw, "--older-than", "90d")
    assert (code, out) == (FAIL, ""), (out, err)
    assert one_error_line(err) == (
        "muxgate: prune: refusing %s: writable by group or others"
        % recs.root), err
