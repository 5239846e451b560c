"""Recordings of attaches and watches (docs/recordings.md): where the files
are and who may read them, the asciicast v2 header and events, players
(asciinema, muxgate replay), what survives kill -9, and the policy keys
recording_required, recording_max and recording_min_free."""
import datetime
import os
import pwd
import re
import shutil
import signal
import stat
import time

import pexpect
import pytest

from helpers import *
from relay_util import *

TARGET = "mgt-deploy@bastion:"


def _attach(spawn, s, key="alice", mode="attach", **kw):
    c = spawn(key, "%s %s%s" % (mode, TARGET, s), **kw)
    wait_client(DEPLOY, s)
    return c


def test_recording_path_modes_header_and_events(gw, spawn):
    s = "rec-basic"
    tmux_new(DEPLOY, s, "/bin/cat")
    t0 = int(time.time())
    c = _attach(spawn, s, dimensions=(30, 120))
    f = wait_recording(gw, "alice", s)
    c.send("IN-MARK-4711\r")
    wait_pane(DEPLOY, s, "IN-MARK-4711")
    c.setwinsize(33, 101)
    assert wait_window_size(DEPLOY, s, "101x32") == "101x32"
    detach(c)
    code, out = finish(c)
    assert code == OK, out
    t1 = int(time.time())

    # where, and who may read it
    gwuid = uid_of(GW)
    name = os.path.basename(f)
    m = CAST_NAME.match(name)
    assert m, name
    for d in (rec_root(gw), os.path.dirname(f)):
        st = os.lstat(d)
        assert stat.S_ISDIR(st.st_mode) and st.st_uid == gwuid, d
        assert stat.S_IMODE(st.st_mode) == 0o700, (d, oct(st.st_mode))
    assert os.path.dirname(f) == os.path.join(rec_root(gw), "alice")
    st = os.lstat(f)
    assert stat.S_ISREG(st.st_mode) and st.st_uid == gwuid, f
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)

    header, events = read_cast(f)
    # the header
    assert header["version"] == 2
    assert (header["width"], header["height"]) == (120, 30), header
    assert t0 - 1 <= header["timestamp"] <= t1 + 1, (t0, header, t1)
    when = datetime.datetime.fromtimestamp(
        header["timestamp"], datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    assert m.group(1) == when, (name, header["timestamp"])
    assert header["env"] == {"TERM": "xterm"}, header
    assert header["title"] == TARGET + s, header
    mg = header["muxgate"]
    client = mg.pop("client")
    assert mg == {"attach_id": m.group(2), "identity": "alice",
                  "key": gw.fingerprints["alice"], "host": "bastion",
                  "tmux_user": DEPLOY, "session": s, "mode": "attach",
                  "mask_input": "prompts"}, mg
    assert re.match(r"^127\.0\.0\.1 \d+$", client), client
    # the events
    assert open(f, "rb").read().endswith(b"\n")
    assert stream(events, "i", strip=False) == "IN-MARK-4711\r\x02d", events
    out = stream(events, "o")
    assert out.count("IN-MARK-4711") >= 2, out    # tty echo and cat
    assert [e[2] for e in events if e[1] == "r"] == ["101x33"], events
    # "exactly as the user's terminal received them": the client got the
    # "o" stream, nothing more, nothing less (a detach prints no message)
    c.logfile_read.flush()
    got = open(c.logfile_read.name, encoding="utf-8", newline="").read()
    assert got == stream(events, "o", strip=False)
    # the attach ended normally: tmux's own reset and message come last
    last = stream([e for e in events if e[1] == "o"][-1:], "o")
    assert "[detached" in last, events[-3:]


def test_escape_key_is_not_recorded_but_a_doubled_one_is(gw, spawn):
    s = "rec-esc"
    tmux_new(DEPLOY, s, "/bin/cat")
    c = _attach(spawn, s)
    f = wait_recording(gw, "alice", s)
    c.send("A" + ESC + ESC + "B\r")
    wait_pane(DEPLOY, s, "B")
    c.send(ESC)
    code, out = finish(c)
    assert code == OK, out
    header, events = read_cast(f)
    assert stream(events, "i", strip=False) == "A\x1dB\r", events
    assert "[terminated]" in stream(events[-2:], "o"), events[-3:]


def _spawn_term(gw, term, key, command, dimensions):
    """Like gw.spawn, with another TERM."""
    args = gw.ssh_args(key, tty=True) + [command]
    env = dict(BASE_ENV, TERM=term)
    return pexpect.spawn(args[0], args[1:], env=env, timeout=15,
                         dimensions=dimensions, encoding="utf-8",
                         codec_errors="replace")


def test_watch_recording_has_no_keystrokes(gw):
    s = "rec-watch"
    tmux_new(DEPLOY, s, "/bin/cat")
    c = _spawn_term(gw, "screen-256color", "eve", "watch " + TARGET + s,
                    (20, 70))
    try:
        _watch_recording(gw, s, c)
    finally:
        c.close(force=True)


def _watch_recording(gw, s, c):
    wait_client(DEPLOY, s)
    f = wait_recording(gw, "eve", s)
    tmux(DEPLOY, "send-keys", "-t", "=" + s + ":", "SHOWN-TO-EVE", "Enter",
         check=True)
    c.expect_exact("SHOWN-TO-EVE", timeout=5)
    c.send("EVE-TYPED-THIS\r")
    c.setwinsize(21, 71)
    time.sleep(0.5)
    c.send(ESC)
    code, out = finish(c)
    assert code == OK, out
    assert "EVE-TYPED-THIS" not in tmux_capture(DEPLOY, s)
    header, events = read_cast(f)
    assert os.path.dirname(f) == os.path.join(rec_root(gw), "eve")
    assert (header["width"], header["height"]) == (70, 20), header
    assert header["muxgate"]["mode"] == "watch", header
    assert header["env"] == {"TERM": "screen-256color"}, header
    assert header["muxgate"]["identity"] == "eve", header
    assert header["muxgate"]["key"] == gw.fingerprints["eve"], header
    assert [e for e in events if e[1] == "i"] == [], events
    raw = open(f, "rb").read()
    assert b"EVE-TYPED" not in raw
    assert "SHOWN-TO-EVE" in stream(events, "o")
    assert [e[2] for e in events if e[1] == "r"] == ["71x21"], events


def test_invalid_and_split_utf8_give_valid_json_lines(gw, spawn):
    s = "rec-utf8"
    tmux_new(DEPLOY, s, "/bin/sh")
    c = _attach(spawn, s)
    f = wait_recording(gw, "alice", s)
    # invalid UTF-8 printed in the pane
    c.send("printf '\\377\\376BAD-OUT-%s\\n' MARK\r")
    wait_pane(DEPLOY, s, "BAD-OUT-MARK")
    # invalid UTF-8 typed (a shell comment), and an e-acute split over
    # two reads
    c.send("# ")
    time.sleep(0.2)
    os.write(c.child_fd, b"\xff\xfeBAD-IN-MARK ")
    time.sleep(0.2)
    os.write(c.child_fd, b"\xc3")
    time.sleep(0.4)
    os.write(c.child_fd, b"\xa9-SPLIT\r")
    wait_pane(DEPLOY, s, "-SPLIT")
    # a flood of three-byte characters: reads of the tmux client's output
    # end inside characters now and then
    c.send("for i in $(seq 300); do printf '\\342\\202\\254%.0s' "
           "$(seq 100); echo; done; echo FLOOD-$((1+1))-DONE\r")
    wait_pane(DEPLOY, s, "FLOOD-2-DONE", timeout=15)
    detach(c)
    code, out = finish(c)
    assert code == OK, out
    header, events = read_cast(f)       # strict UTF-8, JSON on every line
    i = stream(events, "i", strip=False)
    assert "\ufffd\ufffdBAD-IN-MARK " in i, repr(i)
    assert "\u00e9-SPLIT" in i, repr(i)
    o = stream(events, "o")
    assert "BAD-OUT-MARK" in o and "FLOOD-2-DONE" in o
    assert o.count("\u20ac") >= 100 * 29, o.count("\u20ac")
    # tmux writes valid UTF-8 only: nothing may have been damaged
    assert "\ufffd" not in o, o[o.index("\ufffd") - 50:][:100]


def test_players_reproduce_the_output(gw, spawn):
    s = "rec-play"
    tmux_new(DEPLOY, s, "/bin/sh")
    c = _attach(spawn, s)
    f = wait_recording(gw, "alice", s)
    # the marker is only in the output, never typed as such
    c.send("echo PLAYED-$((6*7))-MARK\r")
    wait_pane(DEPLOY, s, "PLAYED-42-MARK")
    detach(c)
    code, out = finish(c)
    assert code == OK, out
    header, events = read_cast(f)
    assert "PLAYED-42-MARK" not in stream(events, "i")
    code, out = tty_run(["/usr/bin/asciinema", "cat", f])
    assert code == 0, out
    assert "PLAYED-42-MARK" in ANSI.sub("", out), out
    code, out, err = gw.local("replay", "--cat", f)
    assert code == OK, err
    assert "PLAYED-42-MARK" in ANSI.sub("", out), out
    assert err == ""
    # with the timing, sped up and idle-limited
    t = time.time()
    code, out, err = gw.local("replay", "--speed", "50", "--idle-limit",
                              "0.1", f)
    assert code == OK, err
    assert "PLAYED-42-MARK" in ANSI.sub("", out)
    assert time.time() - t < 5


def _kill_relay(gw, s, sig):
    pid = relay_of(gw, s)
    assert pid in pgrep_gw(), (pid, pgrep_gw())
    os.kill(pid, sig)


TICKER = "while :; do echo TICK $(date +%s.%N); sleep 0.1; done"
TICK = re.compile(r"TICK (\d+\.\d+)")


def _ticks_seen(c):
    """The ticks the user's terminal got so far (all read at once)."""
    try:
        while True:
            c.read_nonblocking(65536, timeout=0.05)
    except pexpect.TIMEOUT:
        pass
    c.logfile_read.flush()
    return [float(x) for x in TICK.findall(
        ANSI.sub("", open(c.logfile_read.name).read()))]


def _ticks_recorded(events):
    return [float(x) for x in TICK.findall(stream(events, "o"))]


def test_kill9_mid_attach_leaves_a_usable_file(gw, spawn):
    s = "rec-kill9"
    tmux_new(DEPLOY, s, "/bin/sh", "-c", TICKER)
    c = _attach(spawn, s)
    snap = AttachSnap(gw, s)
    f = wait_recording(gw, "alice", s)
    c.expect(r"TICK \d+", timeout=5)
    time.sleep(2.6)
    # what the user got went through the recorder first: the newest tick
    # the user got just before the kill
    seen = _ticks_seen(c)
    _kill_relay(gw, s, signal.SIGKILL)
    c.expect(pexpect.EOF, timeout=10)
    assert_attach_ended(snap, DEPLOY, s)
    header, events = read_cast(f, allow_partial_last=True)
    ticks = _ticks_recorded(events)
    assert ticks and seen, (events[:5], seen)
    # ticks come every ~0.1 s; at most about the last second is lost
    assert max(ticks) >= max(seen) - 1.5, (max(seen) - max(ticks),
                                          len(ticks), len(seen))
    code, out, err = gw.local("replay", "--cat", f)
    assert code == OK, err
    assert "TICK" in out


def test_sigterm_mid_attach_completes_the_file(gw, spawn):
    s = "rec-term"
    tmux_new(DEPLOY, s, "/bin/sh", "-c", TICKER)
    c = _attach(spawn, s)
    snap = AttachSnap(gw, s)
    f = wait_recording(gw, "alice", s)
    c.expect(r"TICK \d+", timeout=5)
    time.sleep(0.5)
    seen = _ticks_seen(c)
    _kill_relay(gw, s, signal.SIGTERM)
    code, out = finish(c)
    assert code == FAIL, out
    assert any(l.startswith("muxgate: attach to %s%s ended: " % (TARGET, s))
               for l in muxgate_lines(out)), out[-300:]
    assert_attach_ended(snap, DEPLOY, s)
    header, events = read_cast(f)       # complete: ends with a newline
    # nothing the user saw is missing
    assert seen and max(_ticks_recorded(events)) >= max(seen), seen[-3:]
    assert "[terminated]" in stream(events[-2:], "o"), events[-3:]


def _gw_dir(path, mode):
    os.mkdir(path)
    pw = pwd.getpwnam(GW)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, mode)


def _broken_recordings(kind, workdir):
    """A gateway.recordings that cannot be used; returns its path."""
    if kind == "world-writable":
        d = os.path.join(workdir, "recs")
        _gw_dir(d, 0o777)
    elif kind == "no-parent":
        d = os.path.join(workdir, "missing", "recs")
    elif kind == "identity-dir-group-writable":
        d = os.path.join(workdir, "recs")
        _gw_dir(d, 0o700)
        _gw_dir(os.path.join(d, "alice"), 0o770)
    elif kind == "identity-dir-symlink":
        d = os.path.join(workdir, "recs")
        _gw_dir(d, 0o700)
        _gw_dir(os.path.join(workdir, "elsewhere"), 0o700)
        os.symlink(os.path.join(workdir, "elsewhere"),
                   os.path.join(d, "alice"))
    elif kind == "root-owned":
        d = os.path.join(workdir, "recs")
        os.mkdir(d, 0o700)
    else:
        raise ValueError(kind)
    return d


KINDS = ["world-writable", "no-parent", "identity-dir-group-writable",
         "identity-dir-symlink", "root-owned"]


@pytest.mark.parametrize("kind", KINDS)
def test_recording_required_refuses_without_a_file(gw, spawn, policy_edit,
                                                   workdir, kind):
    d = _broken_recordings(kind, workdir)
    policy_edit.write(policy_with(gw, recordings=d))
    s = "rec-req"
    tmux_new(DEPLOY, s, "/bin/cat")
    c = spawn("alice", "attach " + TARGET + s)
    code, out = finish(c)
    assert code == FAIL, out
    lines = muxgate_lines(out)
    assert len(lines) == 1, out
    assert lines[0].startswith("muxgate: attach refused: recording: "), out
    assert not tmux_clients(DEPLOY, s)
    assert viewers(gw, s) == []
    files = [os.path.join(r, n) for r, _, ns in os.walk(workdir) for n in ns]
    assert files == [], files


def test_recording_not_required_attaches_with_a_warning(gw, spawn,
                                                        policy_edit, workdir):
    d = _broken_recordings("world-writable", workdir)
    policy_edit.write(policy_with(gw, recordings=d, gateway_extra=[
        "recording_required: false"]))
    s = "rec-noreq"
    tmux_new(DEPLOY, s, "/bin/cat")
    c = spawn("alice", "attach " + TARGET + s)
    c.expect_exact("muxgate: warning: attaching without a recording: ",
                   timeout=10)
    wait_client(DEPLOY, s)
    c.send("UNRECORDED-MARK\r")
    wait_pane(DEPLOY, s, "UNRECORDED-MARK")
    detach(c)
    code, out = finish(c)
    assert code == OK, out
    assert os.listdir(d) == []


def test_recording_min_free_refuses(gw, spawn, policy_edit):
    sv = os.statvfs(rec_root(gw))
    if 100.0 * sv.f_bavail / sv.f_blocks >= 99:
        pytest.skip("the file system is more than 99% free")
    policy_edit.write(policy_with(gw, limits={"recording_min_free": "99%"}))
    s = "rec-free"
    tmux_new(DEPLOY, s, "/bin/cat")
    c = spawn("alice", "attach " + TARGET + s)
    code, out = finish(c)
    assert code == FAIL, out
    lines = muxgate_lines(out)
    assert len(lines) == 1 and re.match(
        r"muxgate: attach refused: the recordings file system .* has "
        r"[0-9.]+% free, below the 99% minimum$", lines[0]), out
    assert not tmux_clients(DEPLOY, s)
    assert recordings_of(gw, "alice", s) == []


# Lots of output, from the first Enter on.
FLOOD = "read x; while :; do echo flood-of-output-0123456789-$$; done"


def test_recording_max_ends_the_attach(gw, spawn, policy_edit):
    policy_edit.write(policy_with(gw, limits={"recording_max": "64K"}))
    s = "rec-max"
    tmux_new(DEPLOY, s, "/bin/sh", "-c", FLOOD)
    c = spawn("alice", "attach " + TARGET + s)
    wait_client(DEPLOY, s)
    snap = AttachSnap(gw, s)
    c.send("\r")                # the flood starts
    code, out = finish(c, timeout=20)
    assert code == FAIL, out[-500:]
    f = wait_recording(gw, "alice", s)
    lines = muxgate_lines(out)
    assert any(l.startswith("muxgate: attach to %s%s ended: " % (TARGET, s))
               and "size limit (gateway.limits.recording_max)" in l
               and f in l for l in lines), lines
    assert_attach_ended(snap, DEPLOY, s)
    header, events = read_cast(f)
    raw = open(f, "rb").read()
    # the event that crosses the limit is the last one written
    assert len(raw) > 64 * 1024, len(raw)
    last = raw[:-1].rindex(b"\n") + 1
    assert last <= 64 * 1024, (last, len(raw))


def test_recording_max_not_required_goes_on_unrecorded(gw, spawn,
                                                       policy_edit):
    policy_edit.write(policy_with(gw, limits={"recording_max": "64K"},
                                  gateway_extra=["recording_required: false"]))
    s = "rec-max2"
    tmux_new(DEPLOY, s, "/bin/sh", "-c", FLOOD)
    c = spawn("alice", "attach " + TARGET + s)
    wait_client(DEPLOY, s)
    snap = AttachSnap(gw, s)
    f = wait_recording(gw, "alice", s)
    c.send("\r")                # the flood starts
    # read the flood until far more than 64K went through the relay
    got, end = 0, time.time() + 10
    while got < 512 * 1024 and time.time() < end:
        try:
            got += len(c.read_nonblocking(65536, timeout=0.2))
        except pexpect.TIMEOUT:
            pass
    assert got >= 512 * 1024, got
    assert c.isalive() and tmux_clients(DEPLOY, s), "the attach ended"
    detach(c)
    code, out = finish(c, timeout=15)
    assert_attach_ended(snap, DEPLOY, s)
    # the docs: it "may end with `muxgate: the recording could not be
    # completed` and exit status 1"
    assert code in (OK, FAIL), code
    if code == FAIL:
        assert "muxgate: the recording could not be completed" in \
            muxgate_lines(out), muxgate_lines(out)
    header, events = read_cast(f)
    raw = open(f, "rb").read()
    last = raw[:-1].rindex(b"\n") + 1
    assert last <= 64 * 1024 < len(raw), (last, len(raw))


def test_input_recorded_only_if_it_reached_the_session(gw, spawn):
    """Keys typed in the same read as the escape key and the key after it:
    what the recording says was input must have reached the pane, and
    the other way round."""
    s = "rec-escread"
    tmux_new(DEPLOY, s, "/bin/sh", "-c", "stty -echo; exec cat -v")
    c = _attach(spawn, s)
    f = wait_recording(gw, "alice", s)
    c.send("FIRST-LINE\r")
    wait_pane(DEPLOY, s, "FIRST-LINE")
    c.send("TYPED-BEFORE-ESC\r" + ESC + "x")
    code, out = finish(c)
    assert code == OK, out
    time.sleep(0.3)
    pane = tmux_capture(DEPLOY, s)
    header, events = read_cast(f)
    i = stream(events, "i", strip=False)
    assert i.startswith("FIRST-LINE\r"), repr(i)
    assert ("TYPED-BEFORE-ESC" in i) == ("TYPED-BEFORE-ESC" in pane), (
        "recorded input %r, pane %r" % (i, pane))


def _cast(path, lines):
    with open(path, "w") as fh:
        fh.write("".join(l + "\n" for l in lines))


HDR = '{"version": 2, "width": 80, "height": 24}'


def test_replay_timing_and_errors(gw, workdir):
    f = os.path.join(workdir, "t.cast")
    _cast(f, [HDR, '[0.1, "o", "one-"]', '[0.2, "i", "typed"]',
              '[0.3, "r", "90x30"]', '[1.3, "o", "two"]'])
    t = time.time()
    code, out, err = gw.local("replay", f)
    took = time.time() - t
    assert (code, out, err) == (OK, "one-two", ""), (code, out, err)
    assert 1.1 <= took < 3, took
    t = time.time()
    code, out, err = gw.local("replay", "--speed", "4", f)
    assert (code, out) == (OK, "one-two") and time.time() - t < 1.0, err
    t = time.time()
    code, out, err = gw.local("replay", "--idle-limit", "0.2", f)
    assert (code, out) == (OK, "one-two") and time.time() - t < 1.0, err
    code, out, err = gw.local("replay", "--cat", f)
    assert (code, out, err) == (OK, "one-two", "")

    # a last line cut short (a killed writer): played up to it, exit 0
    cut = os.path.join(workdir, "cut.cast")
    with open(cut, "w") as fh:
        fh.write(HDR + '\n[0.1, "o", "kept"]\n[0.2, "o", "lo')
    code, out, err = gw.local("replay", "--cat", cut)
    assert (code, out) == (OK, "kept"), (code, out, err)
    assert one_error_line(err) == \
        "muxgate: %s:3: incomplete last event ignored" % cut

    bad = os.path.join(workdir, "bad.cast")
    _cast(bad, [HDR, '[0.1, "o", "a"]', '[0.2, "o"]', '[0.3, "o", "b"]'])
    code, out, err = gw.local("replay", "--cat", bad)
    assert code == FAIL and out == "a", (code, out, err)
    assert one_error_line(err) == "muxgate: %s:3: malformed event" % bad
    _cast(bad, ['{"version": 1}', '[0.1, "o", "a"]'])
    code, out, err = gw.local("replay", "--cat", bad)
    assert code == FAIL and out == "", (code, out, err)
    assert one_error_line(err).startswith("muxgate: %s:1: " % bad)
    code, out, err = gw.local("replay", "--cat",
                              os.path.join(workdir, "missing.cast"))
    assert code == FAIL, (code, err)
    for args in (["--speed", "0", f], ["--idle-limit", "-1", f], [],
                 ["--cat", f, f], ["--bogus", f]):
        code, out, err = gw.local("replay", *args)
        assert code == USAGE, (args, code, err)


def _fill(mnt, leave):
    """A file of the root's that leaves about LEAVE bytes free on MNT."""
    sv = os.statvfs(mnt)
    n = sv.f_bavail * sv.f_frsize - leave
    with open(os.path.join(mnt, "filler"), "wb") as f:
        f.write(b"\0" * n)
    sv = os.statvfs(mnt)
    return sv.f_bavail * sv.f_frsize


def _paste(c, text, chunk=4096):
    """Type TEXT as a paste would: in big pieces, as fast as they go;
    stop quietly when the attach has ended."""
    for i in range(0, len(text), chunk):
        if not c.isalive():
            break
        try:
            c.send(text[i:i + chunk])
        except OSError:
            break


def test_paste_into_a_full_disk_sends_only_recorded_keys(gw, spawn,
                                                         policy_edit,
                                                         workdir):
    """The recordings file system has 20 KiB left and the free space check
    is off: a 2,500-line paste fills it.  Every line that reached the
    session is in the recording, the recording is whole (no cut event),
    and the attach ends saying why."""
    out_file = "/home/%s/paste-%d.out" % (DEPLOY, os.getpid())
    s = "rec-paste"
    with small_fs(workdir, "256k") as (mnt, d):
        free = _fill(mnt, 20 * 1024)
        assert 16 * 1024 <= free <= 24 * 1024, free
        policy_edit.write(policy_with(gw, recordings=d,
                                      limits={"recording_min_free": "0%"}))
        tmux_new(DEPLOY, s, "/bin/sh", "-c",
                 "stty -echo; exec cat > " + out_file)
        c = _attach(spawn, s)
        lines = ["paste-line-%04d-0123456789abcdef" % i for i in range(2500)]
        _paste(c, "".join(l + "\r" for l in lines))
        code, out = finish(c, timeout=20)
        assert code == FAIL, out[-500:]
        f = recordings_of(gw, "alice", s, root=d)
        assert len(f) == 1, f
        f = f[0]
        msg = [l for l in muxgate_lines(out)
               if l.startswith("muxgate: attach to %s%s ended: " %
                               (TARGET, s))]
        msg = msg[0] if msg else muxgate_lines(out)
        header, events = read_cast(f, allow_partial_last=True)
        recorded = stream(events, "i", strip=False).split("\r")
        # the last piece may be a line cut short: not a line that was sent
        recorded = set(recorded[:-1])
        whole = open(f, "rb").read().endswith(b"\n")
    time.sleep(1)       # what tmux still had for cat
    reached = open(out_file).read().split("\n")
    assert reached[-1] == "", reached[-1:]
    reached = reached[:-1]
    assert reached and len(reached) < len(lines), len(reached)
    missing = [l for l in reached if l not in recorded]
    assert "cannot write recording %s: No space left on device" % f \
        in msg, msg
    assert not missing, "%d lines reached the session unrecorded, e.g. %r" \
        " (%d recorded, %d reached)" % (len(missing), missing[:3],
                                        len(recorded), len(reached))
    assert whole, "the recording ends with an event cut short"


def test_output_filling_the_disk_ends_the_attach_before_it_is_full(
        gw, spawn, policy_edit, workdir):
    """The session prints without end: the recording grows until its file
    system falls below recording_min_free, and the attach ends there,
    before the disk is full, with a whole recording."""
    s = "rec-fill"
    with small_fs(workdir, "2m") as (mnt, d):
        policy_edit.write(policy_with(gw, recordings=d,
                                      limits={"recording_min_free": "25%"}))
        tmux_new(DEPLOY, s, "/bin/sh", "-c", FLOOD)
        c = _attach(spawn, s)
        snap = AttachSnap(gw, s)
        c.send("\r")                # the flood starts
        code, out = finish(c, timeout=30)
        assert code == FAIL, out[-500:]
        assert_attach_ended(snap, DEPLOY, s)
        lines = muxgate_lines(out)
        want = re.compile(
            r"muxgate: attach to %s ended: the recordings file system %s "
            r"has [0-9.]+%% free, below the 25%% minimum "
            r"\(gateway\.limits\.recording_min_free\)$" % (
                re.escape(TARGET + s), re.escape(d)))
        assert any(want.match(l) for l in lines), lines
        sv = os.statvfs(mnt)
        free = 100.0 * sv.f_bavail / sv.f_blocks
        # ended near the minimum: far from full, and not long before
        assert 10 <= free < 25, free
        f = recordings_of(gw, "alice", s, root=d)
        assert len(f) == 1, f
        header, events = read_cast(f[0])    # complete
        assert "flood-of-output" in stream(events, "o")
