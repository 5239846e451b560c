"""`muxgate recordings` (muxgate(8), RECORDINGS LISTING): recordings found
by their headers, in gateway.recordings or an auditor's copy (--dir),
filtered, as text or JSON; sealed files listed from their first line;
whatever a file says comes out escaped; a file that cannot be read is
listed with why and makes the exit status 1."""
import json
import os
import pwd
import re
import secrets
import time

import pytest

from helpers import *
from relay_util import *

DAY = 86400
NOW = int(time.time())
HEAD = ["START", "DURATION", "SIZE", "SEALED", "IDENTITY", "MODE", "USER",
        "HOST", "SESSION", "ATTACH", "PATH"]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _chown_gw(path):
    pw = pwd.getpwnam(GW)
    os.lchown(path, pw.pw_uid, pw.pw_gid)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def header(start, identity="alice", host="bastion", user="mgt-deploy",
           session="build", mode="attach", aid=None):
    return {"version": 2, "width": 80, "height": 24, "timestamp": start,
            "env": {"TERM": "xterm"},
            "title": "%s@%s:%s" % (user, host, session),
            "muxgate": {"attach_id": aid or secrets.token_hex(8),
                        "identity": identity, "key": None, "host": host,
                        "tmux_user": user, "session": session, "mode": mode,
                        "client": "198.51.100.7 50022"}}


class Recs:
    """A recordings directory of the test's own, laid out and owned as
    the gateway makes it (OWNER None: root's, as an auditor's copy)."""

    def __init__(self, root, owner=GW):
        self.root = root
        self.owner = owner
        os.mkdir(root, 0o700)
        self._own(root)

    def _own(self, path):
        if self.owner is not None:
            _chown_gw(path)

    def dir(self, identity):
        d = os.path.join(self.root, identity)
        if not os.path.isdir(d):
            os.mkdir(d, 0o700)
            self._own(d)
        return d

    def write(self, identity, name, data):
        f = os.path.join(self.dir(identity), name)
        with open(f, "wb") as fp:
            fp.write(data)
        os.chmod(f, 0o600)
        self._own(f)
        return f

    def add(self, days_ago=1, duration=4.18126, sealed=False, dirname=None,
            **kw):
        """A recording that started DAYS_AGO, its header from KW."""
        start = NOW - int(days_ago * DAY)
        h = header(start, **kw)
        aid = h["muxgate"]["attach_id"]
        name = "%s-%s.%s" % (time.strftime("%Y%m%d-%H%M%S",
                                           time.gmtime(start)), aid,
                             "sealed" if sealed else "cast")
        if sealed:
            data = json.dumps({"muxgate_sealed": 2, "cast": h,
                               "recipients": ["age1xyz"],
                               "stream": "v1"}).encode() + b"\n" + \
                bytes(range(256)) + b"\n[9, \"o\", \"x\"]\n"
        else:
            data = (json.dumps(h) + "\n" +
                    '[0.010769, "o", "\\u001b[H\\u001b[2J$ "]\n'
                    '[1.028878, "i", "e"]\n' +
                    '[%.6f, "o", "[detached]\\r\\n"]\n' % duration).encode()
        return self.write(dirname or kw.get("identity", "alice"), name, data)


@pytest.fixture
def recs(gw, policy_edit, workdir):
    r = Recs(os.path.join(workdir, "rec"))
    policy_edit.write(policy_with(gw, recordings=r.root))
    return r


def listing(gw, *args, config=True):
    argv = [gw.bin, "recordings"] + (["-f", gw.policy] if config else [])
    p = run(argv + list(args), check=False)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def rows(out):
    """The rows of a text listing, each a list of cells, after checking
    the header row.  Cells are separated by two or more blanks."""
    lines = out.splitlines()
    assert lines[0].split() in (HEAD, HEAD + ["ERROR"]), out
    return [re.split(r"  +", l.strip()) for l in lines[1:]]


def paths(out):
    return [r[-1] for r in rows(out)]


def test_recordings_list_text(gw, recs):
    a = recs.add(2, identity="alice", session="build")
    b = recs.add(1, identity="bob", session="web", mode="watch",
                 duration=3725.5)
    c = recs.add(10, identity="alice", host="bastion", session="old")
    code, out, err = listing(gw)
    assert (code, err) == (OK, ""), err
    got = rows(out)
    assert [r[-1] for r in got] == [c, a, b], out
    start = NOW - 2 * DAY
    h = json.loads(open(a).readline())
    assert got[1] == [iso(start), "0:00:04", str(os.path.getsize(a)), "no",
                      "alice", "attach", "mgt-deploy", "bastion", "build",
                      h["muxgate"]["attach_id"], a], got
    assert got[2][1] == "1:02:05" and got[2][5] == "watch", got
    # Columns line up: every START, DURATION and SIZE ends where its
    # heading does.
    lines = out.splitlines()
    for word in ("DURATION", "SIZE"):
        end = lines[0].index(word) + len(word)
        assert all(l[end] == " " and l[end - 1] != " " for l in lines[1:]), \
            out


def test_recordings_list_filters(gw, recs):
    a = recs.add(30, identity="alice", host="bastion", user="mgt-deploy",
                 session="build")
    b = recs.add(5, identity="bob", host="bastion", user="mgt-build",
                 session="build")
    c = recs.add(1, identity="alice", host="web", user="mgt-deploy",
                 session="logs")

    def only(*args):
        code, out, err = listing(gw, *args)
        assert (code, err) == (OK, ""), (args, err)
        return paths(out) if out else []

    assert only("--identity", "alice") == [a, c]
    assert only("--identity", "alic") == []         # exact, not a prefix
    assert only("--host", "bastion") == [a, b]
    assert only("--user", "mgt-build") == [b]
    assert only("--session", "build") == [a, b]
    assert only("--identity", "alice", "--session", "build") == [a]
    assert only("--since", "7d") == [b, c]
    assert only("--since", "48h", "--host", "web") == [c]
    assert only("--until", "7d") == [a]
    assert only("--since", "31d", "--until", "2d") == [a, b]
    day = time.strftime("%Y-%m-%d", time.gmtime(NOW - 5 * DAY))
    assert only("--since", day, "--until",
                time.strftime("%Y-%m-%d", time.gmtime(NOW - 4 * DAY))) == [b]
    start_b = NOW - 5 * DAY
    assert only("--since", iso(start_b)) == [b, c]
    assert only("--until", iso(start_b)) == [a]      # before, not at
    assert only("--since", "2000-01-01", "--until", "2d") == [a, b]


def test_recordings_list_json(gw, recs):
    a = recs.add(3, identity="alice", duration=12.5)
    s = recs.add(1, identity="bob", sealed=True, session="secret")
    code, out, err = listing(gw, "--json")
    assert (code, err) == (OK, ""), err
    doc = parse_json(out)
    assert list(doc) == ["recordings"]
    got = doc["recordings"]
    assert [r["path"] for r in got] == [a, s]
    keys = {"path", "identity", "host", "tmux_user", "session", "mode",
            "attach_id", "start", "timestamp", "duration", "size", "sealed"}
    assert all(set(r) == keys for r in got), got
    h = json.loads(open(a).readline())
    assert got[0] == {
        "path": a, "identity": "alice", "host": "bastion",
        "tmux_user": "mgt-deploy", "session": "build", "mode": "attach",
        "attach_id": h["muxgate"]["attach_id"], "start": iso(NOW - 3 * DAY),
        "timestamp": NOW - 3 * DAY, "duration": 12.5,
        "size": os.path.getsize(a), "sealed": False}
    # Sealed: the header from "cast", no duration.
    assert got[1]["sealed"] is True and got[1]["duration"] is None
    assert got[1]["session"] == "secret" and got[1]["identity"] == "bob"
    assert got[1]["size"] == os.path.getsize(s)
    # Nothing found is an empty list, not nothing.
    code, out, err = listing(gw, "--json", "--identity", "nobody")
    assert (code, parse_json(out), err) == (OK, {"recordings": []}, "")


def test_recordings_list_sealed(gw, recs):
    s = recs.add(1, sealed=True, session="vault")
    code, out, err = listing(gw)
    assert (code, err) == (OK, ""), err
    (r,) = rows(out)
    assert r[1:4] == ["-", str(os.path.getsize(s)), "yes"], r
    assert r[8] == "vault" and r[-1] == s, r


def test_recordings_list_hostile_values_escaped(gw, recs):
    evil = {"identity": "eve\x1b[31m\nrm -rf", "host": "h\x1b]0;pwned\x07",
            "user": "u\r\x9b2J", "session": "s\nfake row\u202eevil",
            "mode": "watch\x1b[2J"}
    f = recs.add(1, dirname="eve\nx", **evil)
    code, out, err = listing(gw)
    assert (code, err) == (OK, ""), err
    # One row, and nothing a terminal would act on.
    assert len(out.splitlines()) == 2, out
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202e]", out), \
        repr(out)
    for shown in ("eve\\033[31m\\nrm -rf", "h\\033]0;pwned\\007",
                  "u\\r\\302\\2332J", "s\\nfake row\\342\\200\\256evil",
                  "watch\\033[2J", f.replace("\n", "\\n")):
        assert shown in out, (shown, out)
    # JSON carries them as they are, as JSON strings.
    code, out, err = listing(gw, "--json")
    assert code == OK, err
    (r,) = parse_json(out)["recordings"]
    assert r["identity"] == evil["identity"]
    assert r["session"] == evil["session"]
    assert r["tmux_user"] == evil["user"]
    assert r["path"] == f
    assert "\n" not in out.rstrip("\n") and "\x1b" not in out


def test_recordings_list_unreadable_files(gw, recs):
    good = recs.add(2)
    garbage = recs.write("alice", "20261123-202438-%s.cast" %
                         secrets.token_hex(8), b"\x1b[2Jgarbage\n[1, \"o\"]\n")
    code, out, err = listing(gw)
    assert code == FAIL, (out, err)
    assert one_error_line(err) == (
        "muxgate: recordings: %s: the first line is not one JSON object"
        % garbage), err
    got = rows(out)
    assert [r[-2] if len(r) > 11 else r[-1] for r in got] == [good, garbage]
    assert got[1] == ["-", "-", str(os.path.getsize(garbage)), "-", "-", "-",
                      "-", "-", "-", "-", garbage,
                      "the first line is not one JSON object"], got
    # Filters cannot tell whether it would match: still listed.
    code, out, err = listing(gw, "--json", "--host", "elsewhere")
    assert code == FAIL
    one_error_line(err)
    (r,) = parse_json(out)["recordings"]
    assert r["path"] == garbage
    assert r["error"] == "the first line is not one JSON object"
    assert r["identity"] is None and r["start"] is None
    assert r["sealed"] is None and r["duration"] is None


def test_recordings_list_bad_headers_and_links(gw, recs, workdir):
    recs.add(1)
    aid = lambda: secrets.token_hex(8)
    sealed_bad = recs.write("alice", "20261123-000000-%s.sealed" % aid(),
                            json.dumps(header(NOW)).encode() + b"\n")
    no_header = recs.write("alice", "20261123-000001-%s.cast" % aid(),
                           json.dumps({"version": 2}).encode() + b"\n")
    empty = recs.write("alice", "20261123-000002-%s.cast" % aid(), b"")
    target = os.path.join(workdir, "secret")
    with open(target, "w") as fp:
        fp.write(json.dumps(header(NOW, session="linked")) + "\n")
    link = os.path.join(recs.dir("alice"), "20261123-000003-%s.cast" % aid())
    os.symlink(target, link)
    dlink = os.path.join(recs.root, "mallory")
    os.symlink(recs.dir("alice"), dlink)
    recs.write("alice", "SHA256SUMS", b"not a recording\n")
    code, out, err = listing(gw, "--json")
    assert code == FAIL, (out, err)
    lines = sorted(err.splitlines())
    assert lines == sorted([
        "muxgate: recordings: %s: not a sealed recording header" % sealed_bad,
        "muxgate: recordings: %s: bad or missing timestamp in the header"
        % no_header,
        "muxgate: recordings: %s: empty file" % empty,
        "muxgate: recordings: %s: a symbolic link" % link,
        "muxgate: recordings: refusing %s: a symbolic link" % dlink,
    ]), err
    got = parse_json(out)["recordings"]
    assert len(got) == 5 and "error" not in got[0], got
    assert "linked" not in out


def test_recordings_list_dir_copy(gw, workdir):
    # An auditor's copy: root's, no policy involved.
    copy = Recs(os.path.join(workdir, "copy"), owner=None)
    a = copy.add(1, identity="carol")
    code, out, err = listing(gw, "--dir", copy.root, config=False)
    assert (code, err) == (OK, ""), err
    assert paths(out) == [a]
    code, out, err = listing(gw, "--dir", os.path.join(workdir, "none"),
                             config=False)
    assert (code, out) == (FAIL, ""), err
    assert "no such directory" in one_error_line(err)


def test_recordings_list_refuses_writable_dirs(gw, workdir):
    copy = Recs(os.path.join(workdir, "copy"), owner=None)
    a = copy.add(1, identity="carol")
    planted = copy.add(1, identity="mallory")
    os.chmod(os.path.dirname(planted), 0o777)
    code, out, err = listing(gw, "--dir", copy.root, config=False)
    assert code == FAIL, (out, err)
    assert one_error_line(err) == (
        "muxgate: recordings: refusing %s: writable by group or others"
        % os.path.dirname(planted)), err
    assert paths(out) == [a]
    os.chmod(copy.root, 0o1777)
    code, out, err = listing(gw, "--dir", copy.root, config=False)
    assert (code, out) == (FAIL, ""), (out, err)
    assert one_error_line(err) == (
        "muxgate: recordings: refusing %s: writable by group or others"
        % copy.root), err


def test_recordings_list_nothing_recorded_yet(gw, policy_edit, workdir):
    policy_edit.write(policy_with(gw, recordings=os.path.join(workdir, "no")))
    assert listing(gw) == (OK, "", "")
    code, out, err = listing(gw, "--json")
    assert (code, parse_json(out), err) == (OK, {"recordings": []}, "")


@pytest.mark.parametrize("args,msg", [
    (["--bogus"], "bad option --bogus"),
    (["--identity"], "--identity needs a value"),
    (["extra"], "unexpected argument extra"),
    (["--dir", "/x"], "-f and --dir exclude each other"),
])
def test_recordings_list_usage(gw, recs, args, msg):
    code, out, err = listing(gw, *args)
    assert (code, out) == (USAGE, ""), err
    assert err.startswith("muxgate: recordings: %s\nusage: muxgate recordings"
                          % msg), err


@pytest.mark.parametrize("bad", ["yesterday", "2026-02-30", "2026-11-23T25:00:00Z",
                                 "2026-11-23 10:00", "7w", "-1d", ""])
def test_recordings_list_bad_times(gw, recs, bad):
    for opt in ("--since", "--until"):
        code, out, err = listing(gw, opt, bad)
        assert (code, out) == (USAGE, ""), err
        assert one_error_line(err).startswith(
            "muxgate: recordings: bad %s " % opt), err


def test_recordings_list_policy_refused(gw, policy_edit):
    policy_edit.chmod(0o666)
    code, out, err = listing(gw)
    assert (code, out) == (FAIL, ""), err
    assert one_error_line(err).startswith("muxgate: %s: refused: " % gw.policy)


def test_recordings_list_a_real_attach(gw, recs, spawn):
    s = "reclist-real"
    tmux_new(DEPLOY, s, "/bin/cat")
    c = spawn("alice", "attach mgt-deploy@bastion:" + s)
    wait_client(DEPLOY, s)
    c.send("hello")
    wait_pane(DEPLOY, s, "hello")
    detach(c)
    assert finish(c)[0] == OK
    code, out, err = listing(gw, "--json", "--session", s)
    assert (code, err) == (OK, ""), err
    (r,) = parse_json(out)["recordings"]
    (path,) = recordings_of(gw, "alice", s, root=recs.root)
    assert r["path"] == path
    assert (r["identity"], r["host"], r["tmux_user"], r["mode"]) == (
        "alice", "bastion", DEPLOY, "attach")
    assert ISO.match(r["start"]) and abs(r["timestamp"] - time.time()) < 60
    assert r["attach_id"] == CAST_NAME.match(os.path.basename(path)).group(2)
    assert 0 < r["duration"] < 60 and r["sealed"] is False
    assert r["size"] == os.path.getsize(path)


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_recordings_list_help(gw, flag):
    code, out, err = gw.local("recordings", flag, user=GW)
    assert (code, err) == (OK, ""), err
    assert out.startswith("usage: muxgate recordings "), out
    code, out, err = gw.local("help")
    assert code == OK and "muxgate recordings " in out, out


def test_recordings_list_as_gateway_account(gw, recs):
    a = recs.add(1)
    code, out, err = gw.local("recordings", "-f", gw.policy, user=GW)
    assert (code, err) == (OK, ""), err
    assert paths(out) == [a]
