"""The attach relay, as a user sees it over `ssh -tt` (pexpect): attach and
detach, the escape key, window sizes, read-only watchers, the attach caps
and time limits, and what is left after every end (no tmux client, no
process, no zombie, no viewer in `ls --json`)."""
import os
import re
import signal
import time

import pexpect
import pytest

from helpers import *
from relay_util import *
from helpers import _s

TARGET = "mgt-deploy@bastion:"


def test_attach_one_shot_detach_viewers_and_cleanup(gw, spawn):
    s = "r-one"
    tmux_new(DEPLOY, s, "/bin/cat")
    assert viewers(gw, s) == []
    before = time.time()
    c = spawn("alice", "attach " + TARGET + s)
    wait_client(DEPLOY, s)
    snap = AttachSnap(gw, s)
    c.send("typed-one-shot\r")
    wait_pane(DEPLOY, s, "typed-one-shot")
    # ls --json: one viewer, alice attached since about now
    v = viewers(gw, s, key="eve")
    assert len(v) == 1, v
    assert v[0]["identity"] == "alice" and v[0]["mode"] == "attach", v
    assert before - 2 <= v[0]["since"] <= time.time() + 1, (before, v)
    # text ls: "; alice attached since HH:MM"
    code, out, err = gw.ssh("alice", "ls mgt-deploy@bastion")
    assert code == OK, err
    hhmm = time.strftime("%H:%M", time.localtime(v[0]["since"]))
    line = [l for l in out.split("\n") if (TARGET + s) in l]
    assert line and "; alice attached since %s)" % hhmm in line[0], out
    detach(c)
    code, out = finish(c)
    assert code == OK, out
    assert not muxgate_lines(out), out      # tmux says [detached] itself
    assert_attach_ended(snap, DEPLOY, s)
    assert tmux_has(DEPLOY, s)
    assert viewers(gw, s) == []


def test_attach_from_menu_detach_returns_to_menu(gw, spawn):
    s = "r-menu"
    tmux_new(DEPLOY, s, "/bin/cat")
    c = spawn("alice")
    n = menu_number(read_menu(c), TARGET + s)
    c.send(n + "\r")
    wait_client(DEPLOY, s)
    snap = AttachSnap(gw, s)
    assert [x["mode"] for x in viewers(gw, s)] == ["attach"]
    c.send("typed-from-menu\r")
    wait_pane(DEPLOY, s, "typed-from-menu")
    detach(c)
    menu = read_menu(c)
    menu_number(menu, TARGET + s)
    # the menu's muxgate lives on; the attach's processes do not
    assert_attach_ended(snap, DEPLOY, s, muxgate_gone=False)
    assert viewers(gw, s) == []
    c.send("exit\r")
    code, out = finish(c)
    assert code == OK, out


def test_escape_key_returns_to_menu_from_a_pane_ignoring_input(gw, spawn):
    """The pane's program ignores input (raw tty, sleeping): only the
    gateway's ^] gets the user out, after 0.5 s without another key."""
    s = "r-esc"
    tmux_new(DEPLOY, s, "/bin/sh", "-c", "stty raw -echo; exec sleep 1000")
    c = spawn("alice")
    n = menu_number(read_menu(c), TARGET + s)
    c.send(n + "\r")
    wait_client(DEPLOY, s)
    snap = AttachSnap(gw, s)
    c.send("\x03\x04q")         # nothing of this ends anything
    time.sleep(0.5)
    assert tmux_clients(DEPLOY, s)
    t0 = time.time()
    c.send(ESC)
    out = read_menu(c, timeout=5)
    took = time.time() - t0
    assert 0.3 <= took < 4, took
    assert "muxgate: attach to %s%s ended (escape key)" % (TARGET, s) \
        in out.replace("\r", ""), out
    assert_attach_ended(snap, DEPLOY, s, muxgate_gone=False)
    assert tmux_has(DEPLOY, s)
    c.send("exit\r")
    code, out = finish(c)
    assert code == OK, out


def test_escape_then_key_ends_one_shot_attach_of_busy_pane(gw, spawn):
    """^] followed at once by another key ends at that key; the one-shot
    attach exits 0."""
    s = "r-busy"
    tmux_new(DEPLOY, s, "/bin/sh", "-c",
             "stty raw -echo; while :; do date +%s.%N; sleep 0.02; done")
    c = spawn("alice", "attach " + TARGET + s)
    wait_client(DEPLOY, s)
    snap = AttachSnap(gw, s)
    time.sleep(0.5)
    c.send(ESC + "x")
    code, out = finish(c, timeout=5)
    assert code == OK, out
    assert "muxgate: attach to %s%s ended (escape key)" % (TARGET, s) \
        in out.replace("\r", ""), out[-500:]
    assert_attach_ended(snap, DEPLOY, s)


def test_double_escape_sends_one_escape_byte(gw, spawn):
    s = "r-esc2"
    tmux_new(DEPLOY, s, "/bin/sh", "-c", "stty -echo; exec cat -v")
    c = spawn("alice", "attach " + TARGET + s)
    wait_client(DEPLOY, s)
    snap = AttachSnap(gw, s)
    c.send("A" + ESC + ESC + "B\r")
    wait_pane(DEPLOY, s, "B")
    time.sleep(0.3)
    lines = [l.strip() for l in tmux_capture(DEPLOY, s).split("\n")
             if l.strip()]
    assert lines == ["A^]B"], lines
    assert tmux_clients(DEPLOY, s), "^]^] ended the attach"
    # and again, the two escape keys in separate writes (< 0.5 s apart)
    c.send("C" + ESC)
    time.sleep(0.1)
    c.send(ESC + "D\r")
    wait_pane(DEPLOY, s, "D")
    time.sleep(0.3)
    lines = [l.strip() for l in tmux_capture(DEPLOY, s).split("\n")
             if l.strip()]
    assert lines == ["A^]B", "C^]D"], lines
    detach(c)
    code, out = finish(c)
    assert code == OK, out
    assert_attach_ended(snap, DEPLOY, s)


def test_window_follows_writer_not_watcher(gw, spawn):
    s = "r-size"
    tmux_new(DEPLOY, s, "/bin/cat")
    w = spawn("alice", "attach " + TARGET + s, dimensions=(30, 120))
    wait_client(DEPLOY, s)
    wsnap = AttachSnap(gw, s)
    # the status line takes one row
    assert wait_window_size(DEPLOY, s, "120x29") == "120x29"
    w.setwinsize(40, 100)
    assert wait_window_size(DEPLOY, s, "100x39") == "100x39"
    # a watcher with another size joins: the window keeps the writer's
    v = spawn("eve", "watch " + TARGET + s, dimensions=(20, 60))
    wait_client(DEPLOY, s, n=2)
    vsnap = AttachSnap(gw, s, pid=[p for p in relays_of(gw, s)
                                   if p != wsnap.pid][0])
    v.expect_exact("\x1b[", timeout=5)        # it has drawn the window
    time.sleep(0.5)
    assert window_size(DEPLOY, s) == "100x39"
    v.setwinsize(50, 150)
    time.sleep(0.7)
    assert window_size(DEPLOY, s) == "100x39"
    # ...and still follows the writer
    w.setwinsize(35, 90)
    assert wait_window_size(DEPLOY, s, "90x34") == "90x34"
    v.send(ESC)
    code, out = finish(v)
    assert code == OK, out
    detach(w)
    code, out = finish(w)
    assert code == OK, out
    assert_attach_ended(vsnap, DEPLOY, s)
    assert_attach_ended(wsnap, DEPLOY, s)


def test_watcher_input_never_reaches_the_pane(gw, spawn):
    s = "r-ro"
    tmux_new(DEPLOY, s, "/bin/cat")
    w = spawn("alice", "attach " + TARGET + s)
    wait_client(DEPLOY, s)
    v = spawn("eve", "watch " + TARGET + s)
    wait_client(DEPLOY, s, n=2)
    snaps = [AttachSnap(gw, s, pid=p) for p in relays_of(gw, s)]
    assert len(snaps) == 2, snaps
    ro = sorted(c.split()[1] for c in tmux_clients(DEPLOY, s))
    assert ro == ["0", "1"], tmux_clients(DEPLOY, s)
    modes = sorted((x["identity"], x["mode"]) for x in viewers(gw, s))
    assert modes == [("alice", "attach"), ("eve", "watch")], modes
    code, out, err = gw.ssh("alice", "ls mgt-deploy@bastion")
    assert code == OK, err
    assert re.search(r"; (alice attached since \d\d:\d\d, eve watching "
                     r"since \d\d:\d\d|eve watching since \d\d:\d\d, alice "
                     r"attached since \d\d:\d\d)\)", out), out
    v.send("WATCHER-SECRET\r")
    v.send("\x02:kill-session\r")
    time.sleep(0.3)
    w.send("WRITER-TEXT\r")
    wait_pane(DEPLOY, s, "WRITER-TEXT")
    v.expect_exact("WRITER-TEXT", timeout=5)    # the watcher sees it
    time.sleep(0.5)
    screen = tmux_capture(DEPLOY, s)
    assert "WATCHER-SECRET" not in screen, screen
    assert "kill-session" not in screen, screen
    assert tmux_has(DEPLOY, s)
    v.send(ESC)
    code, out = finish(v)
    assert code == OK, out
    assert [x["identity"] for x in viewers(gw, s)] == ["alice"]
    detach(w)
    code, out = finish(w)
    assert code == OK, out
    for snap in snaps:
        assert_attach_ended(snap, DEPLOY, s)
    assert viewers(gw, s) == []


def _kill9_relay(gw, session):
    pid = relay_of(gw, session)
    assert pid in pgrep_gw(), (pid, pgrep_gw())
    os.kill(pid, signal.SIGKILL)
    return pid


def test_attaches_per_identity_cap_and_kill9_frees_the_slot(
        gw, spawn, policy_edit):
    policy_edit.write(policy_with(gw, limits={"attaches_per_identity": 1}))
    s = "r-cap1"
    tmux_new(DEPLOY, s, "/bin/cat")
    first = spawn("alice", "attach " + TARGET + s)
    wait_client(DEPLOY, s)
    snap = AttachSnap(gw, s)
    # a second attach of alice's is refused, even to another session...
    tmux_new(DEPLOY, s + "b", "/bin/cat")
    second = spawn("alice", "attach " + TARGET + s + "b")
    code, out = finish(second)
    assert code == FAIL, out
    assert muxgate_lines(out) == [
        "muxgate: attach refused: you already have 1 attaches open "
        "(gateway.limits.attaches_per_identity)"], out
    assert not tmux_clients(DEPLOY, s + "b")
    # ...but eve's watch is not (another identity)
    third = spawn("eve", "watch " + TARGET + s)
    wait_client(DEPLOY, s, n=2)
    third.send(ESC)
    assert finish(third)[0] == OK
    # kill -9 the relaying muxgate: its slot is free again
    _kill9_relay(gw, s)
    first.expect(pexpect.EOF, timeout=10)
    assert_attach_ended(snap, DEPLOY, s)
    again = spawn("alice", "attach " + TARGET + s + "b")
    wait_client(DEPLOY, s + "b")
    again.send("after-kill\r")
    wait_pane(DEPLOY, s + "b", "after-kill")
    detach(again)
    assert finish(again)[0] == OK


def test_attaches_total_cap_and_kill9_frees_the_slot(gw, spawn, policy_edit):
    policy_edit.write(policy_with(gw, limits={"attaches_total": 1}))
    s = "r-cap2"
    tmux_new(DEPLOY, s, "/bin/cat")
    first = spawn("alice", "watch " + TARGET + s)
    wait_client(DEPLOY, s)
    snap = AttachSnap(gw, s)
    other = spawn("eve", "watch " + TARGET + s)
    code, out = finish(other)
    assert code == FAIL, out
    assert muxgate_lines(out) == [
        "muxgate: attach refused: the gateway has 1 attaches open, its "
        "limit (gateway.limits.attaches_total)"], out
    assert len(tmux_clients(DEPLOY, s)) == 1
    # a refused attach keeps nothing (its per-identity slot is given
    # back): trying again gives the same answer
    other = spawn("eve", "watch " + TARGET + s)
    code, out = finish(other)
    assert code == FAIL and "attaches_total" in out, out
    _kill9_relay(gw, s)
    first.expect(pexpect.EOF, timeout=10)
    assert_attach_ended(snap, DEPLOY, s)
    assert viewers(gw, s) == []
    again = spawn("eve", "watch " + TARGET + s)
    wait_client(DEPLOY, s)
    assert [x["identity"] for x in viewers(gw, s)] == ["eve"]
    again.send(ESC)
    assert finish(again)[0] == OK


def test_attach_lifetime_ends_the_attach(gw, spawn, policy_edit):
    policy_edit.write(policy_with(gw, limits={"attach_lifetime": "3s"}))
    s = "r-life"
    tmux_new(DEPLOY, s, "/bin/cat")
    t0 = time.time()
    c = spawn("alice", "attach " + TARGET + s)
    wait_client(DEPLOY, s)
    snap = AttachSnap(gw, s)
    # steady input does not extend the lifetime
    for _ in range(8):
        c.send("k")
        time.sleep(0.25)
    code, out = finish(c, timeout=12)
    took = time.time() - t0
    assert code == FAIL, out
    assert 3 <= took <= 12, took
    # 3 s after the relay started: the end is the last event recorded
    header, events = read_cast(wait_recording(gw, "alice", s))
    assert 3.0 <= events[-1][0] < 4.5, events[-1]
    assert "muxgate: attach to %s%s ended: attach_lifetime of 3s reached" % (
        TARGET, s) in muxgate_lines(out), out[-500:]
    assert_attach_ended(snap, DEPLOY, s)
    assert tmux_has(DEPLOY, s)
    assert viewers(gw, s) == []


def test_idle_timeout_ends_idle_attach_only(gw, spawn, policy_edit):
    policy_edit.write(policy_with(gw, limits={"idle_timeout": "2s"}))
    idle_s, busy_s = "r-idle", "r-busyin"
    tmux_new(DEPLOY, idle_s, "/bin/cat")
    tmux_new(DEPLOY, busy_s, "/bin/cat")
    idle = spawn("alice", "attach " + TARGET + idle_s)
    busy = spawn("alice", "attach " + TARGET + busy_s)
    wait_client(DEPLOY, idle_s)
    isnap = AttachSnap(gw, idle_s)
    wait_client(DEPLOY, busy_s)
    bsnap = AttachSnap(gw, busy_s)
    t0 = time.time()
    # the pane printing does not count as input
    tmux(DEPLOY, "send-keys", "-t", "=" + idle_s + ":", "pane-output",
         "Enter")
    # input every 0.4 s for the busy one, until it has lived well past 2 s
    # and the idle one has ended (or 10 s)
    idle_end, sent = None, 0
    while time.time() - t0 < 10 and (idle_end is None or
                                     time.time() - t0 < 3.2):
        busy.send("z")
        sent += 1
        if idle_end is None and not idle.isalive():
            idle_end = time.time()
        time.sleep(0.4)
    code, out = finish(idle, timeout=1)
    assert code == FAIL, out
    assert "muxgate: attach to %s%s ended: no input for 2s (idle_timeout)" % (
        TARGET, idle_s) in muxgate_lines(out), out[-500:]
    assert idle_end is not None, "the idle attach did not end"
    # not before 2 s: the end is the last event of its recording
    header, events = read_cast(wait_recording(gw, "alice", idle_s))
    assert 2.0 <= events[-1][0] < 4, events[-1]
    assert_attach_ended(isnap, DEPLOY, idle_s)
    # the one with steady input is still there
    assert busy.isalive()
    assert tmux_clients(DEPLOY, busy_s)
    wait_pane(DEPLOY, busy_s, "z" * sent)
    detach(busy)
    code, out = finish(busy)
    assert code == OK, out
    assert_attach_ended(bsnap, DEPLOY, busy_s)


def test_lost_connection_ends_the_attach_cleanly(gw, spawn):
    """The user's ssh dies (kill -9 of the client): the relay sees the
    connection close and ends like any other end: cleaned up, and its
    recording written out to the last event (docs/recordings.md: "when the
    attach ends, however it ends: ... lost connection").  Three at once:
    how muxgate sees the hangup is a race."""
    names = ["r-hup%d" % i for i in range(3)]
    children, snaps = [], []
    for s in names:
        tmux_new(DEPLOY, s, "/bin/cat")
        children.append(spawn("alice", "attach " + TARGET + s))
    for s, c in zip(names, children):
        wait_client(DEPLOY, s)
        snaps.append(AttachSnap(gw, s))
        c.send("before-hangup-%s\r" % s)
    for s in names:
        wait_pane(DEPLOY, s, "before-hangup-" + s)
    for c in children:
        os.kill(c.pid, signal.SIGKILL)
    for s, snap in zip(names, snaps):
        assert_attach_ended(snap, DEPLOY, s)
        assert tmux_has(DEPLOY, s)
        assert viewers(gw, s) == []
    lost = []
    for s in names:
        header, events = read_cast(wait_recording(gw, "alice", s))
        if "before-hangup-" + s not in stream(events, "i"):
            lost.append((s, events[-2:]))
    assert not lost, "recordings missing their last events: %r" % lost


def _menu_tty(gw):
    """(pid, /dev/pts/N): the menu's muxgate (the gateway user's muxgate
    whose standard input is a terminal; a test has one menu) and that
    terminal, seen from the server."""
    found = []
    for pid in pgrep_gw():
        try:
            tty = os.readlink("/proc/%d/fd/0" % pid)
        except OSError:
            continue
        if tty.startswith("/dev/pts/"):
            found.append((pid, tty))
    assert len(found) == 1, "not one menu muxgate (did the menu end?): %r" \
        % found
    return found[0]


def _fd0_flags(pid):
    for line in open("/proc/%d/fdinfo/0" % pid):
        if line.startswith("flags:"):
            return int(line.split()[1], 8)
    raise AssertionError("no flags in /proc/%d/fdinfo/0" % pid)


def _stty(tty):
    return _s(run(["stty", "-g", "-F", tty]).stdout).strip()


def test_menu_terminal_unchanged_after_attaches(gw, spawn):
    """Attach and leave with the escape key, three times from one menu:
    the terminal comes back as it was each time (blocking, the same
    settings), and the menu still answers.  The menu's line editor keeps
    the terminal in its own mode at the prompt, so the settings are
    compared prompt to prompt."""
    s = "r-tty"
    tmux_new(DEPLOY, s, "/bin/cat")
    c = spawn("alice")
    n = menu_number(read_menu(c), TARGET + s)
    time.sleep(0.3)             # the editor sets its mode, then waits
    pid, tty = _menu_tty(gw)
    assert not _fd0_flags(pid) & os.O_NONBLOCK
    at_prompt = _stty(tty)
    for i, how in enumerate((n, "attach " + TARGET + s, n)):
        c.send(how + "\r")
        wait_client(DEPLOY, s)
        c.send("round-%d\r" % i)
        wait_pane(DEPLOY, s, "round-%d" % i)
        c.send(ESC)
        read_menu(c, timeout=5)
        time.sleep(0.3)
        assert _menu_tty(gw) == (pid, tty)
        flags = _fd0_flags(pid)
        assert not flags & os.O_NONBLOCK, \
            "attach %d left the terminal non-blocking (flags %o)" % (i, flags)
        assert _stty(tty) == at_prompt, i
        # what the user sees: the menu reads the next line and answers,
        # in cooked output (\r\n), instead of taking EAGAIN for Ctrl-D
        c.send("whoami\r")
        out = read_menu(c, timeout=5)
        assert "alice" in out and "\r\n" in out, (i, out)
    c.send("exit\r")
    code, out = finish(c)
    assert code == OK, out
