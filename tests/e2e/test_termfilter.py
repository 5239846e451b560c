"""
What a watched session may do to a watcher's terminal, through the real
sshd, sudo and tmux: the watched user's tmux has `allow-passthrough on`
and `set-clipboard on` (their server, their options), and a program in
the session prints, among ordinary text, colours and a hyperlink:

  - OSC 52 with a payload (tmux forwards it: set-clipboard),
  - CSI 21 t, the title report (through tmux's passthrough),
  - DECRQSS (DCS $ q m ST, through the passthrough),
  - OSC 52 wrapped in the passthrough (DCS tmux; ESC ESC ]52;... ST),
  - and wrapped twice, so that the terminal itself gets a passthrough
    (as a watcher whose own terminal is tmux would).

A watcher's terminal (read raw on a pseudo-terminal of the test's own)
gets none of them, nor tmux's own queries (DA2, XTVERSION), while text,
colours, the title and the hyperlink arrive; a writer loses only OSC 52,
and with gateway.allow_clipboard keeps it too.  The recordings keep the
original bytes, and `muxgate replay` filters them as a watcher's terminal
is filtered.  The journey watches from the menu of a real terminal (ssh
in a tmux pane whose tmux would take OSC 52 into a paste buffer).
"""
import base64
import json
import os
import re
import time

import pytest

from helpers import *
from relay_util import policy_with, recordings_of
from term_util import *

P1 = base64.b64encode(b"mgt-clip-direct").decode()
P2 = base64.b64encode(b"mgt-clip-passthrough").decode()
P3 = base64.b64encode(b"mgt-clip-nested").decode()

# printf formats for /bin/sh (dash): \033 is ESC, \\ a backslash; inside
# tmux's passthrough every ESC of the wrapped sequence is doubled.
SCRIPT = r"""#!/bin/sh
# The watched user's program: at each go-N file, hostile sequences among
# ordinary output.
n=1
while :; do
	while [ ! -e DIR/go-$n ]; do sleep 0.1; done
	printf 'MGT-BEFORE-%s\r\n' $n
	printf '\033]52;c;%s\007' P1
	printf '\033Ptmux;\033\033[21t\033\\'
	printf '\033Ptmux;\033\033P$qm\033\033\\\033\\'
	printf '\033Ptmux;\033\033]52;c;%s\007\033\\' P2
	printf '\033Ptmux;\033\033Ptmux;\033\033\033\033]52;c;%s\007'  P3
	printf '\033\033\\\033\\'
	printf '\033[31mMGT-RED-%s\033[0m\r\n' $n
	printf '\033Ptmux;\033\033]8;;http://example.com/mgt\033\033\\\033\\'
	printf 'MGT-LINK'
	printf '\033Ptmux;\033\033]8;;\033\033\\\033\\\r\n'
	printf 'MGT-AFTER-%s\r\n' $n
	n=$((n+1))
done
"""

# What must never reach a watcher, and is in the recording (tmux unwraps
# one passthrough, so the terminal sees the inner sequences raw).
HOSTILE = (b"\x1b]52;", P1.encode(), P2.encode(), P3.encode(), b"\x1b[21t",
           b"\x1bP$qm", b"\x1bPtmux;", b"\x1b[>c", b"\x1b[>q")
CLIPBOARD = (b"\x1b]52;", P1.encode(), P2.encode(), P3.encode())
LINK_OPEN = b"\x1b]8;;http://example.com/mgt\x1b\\"
LINK_CLOSE = b"\x1b]8;;\x1b\\"


class Hostile:
    """A session of mgt-deploy running SCRIPT, its tmux server with
    allow-passthrough, set-clipboard and set-titles on."""

    def __init__(self, workdir, name):
        self.dir = workdir
        self.name = name
        self.target = "%s@bastion:%s" % (DEPLOY, name)
        self.n = 0
        script = os.path.join(workdir, "hostile.sh")
        write_file(script, SCRIPT.replace("DIR", workdir)
                   .replace("P1", P1).replace("P2", P2).replace("P3", P3),
                   mode=0o755)
        tmux_new(DEPLOY, name, "/bin/sh", script)
        for opt, val in (("allow-passthrough", "on"),
                         ("set-clipboard", "on"), ("set-titles", "on")):
            tmux(DEPLOY, "set-option", "-g", opt, val, check=True)

    def fire(self):
        """The program prints its sequences once more; their number."""
        self.n += 1
        write_file(os.path.join(self.dir, "go-%d" % self.n), "")
        wait_pane(DEPLOY, self.name, "MGT-AFTER-%d" % self.n)
        return self.n


def wait_pane(user, name, text, timeout=10):
    assert wait_for(lambda: text in tmux_capture(user, name), timeout), \
        tmux_capture(user, name)


def wait_viewer(user, name, readonly, timeout=15):
    want = "1" if readonly else "0"
    assert wait_for(lambda: any(c.endswith(" " + want) for c in
                                tmux_clients(user, name)), timeout), \
        tmux_clients(user, name)


def output_of(path):
    """The "o" events of a recording, joined, as bytes."""
    out = []
    with open(path, encoding="utf-8") as f:
        f.readline()
        for line in f:
            ev = json.loads(line)
            if ev[1] == "o":
                out.append(ev[2])
    return "".join(out).encode("utf-8", "surrogateescape")


def assert_none_of(data, forbidden, what):
    for f in forbidden:
        assert f not in data, "%s: %r reached it: %r" % (what, f, data)


def assert_ordinary(data, n, what):
    """Text, colour, title and hyperlink of round N arrived."""
    for text in (b"MGT-BEFORE-%d" % n, b"MGT-RED-%d" % n, b"MGT-AFTER-%d" % n,
                 b"MGT-LINK", LINK_OPEN, LINK_CLOSE):
        assert text in data, "%s: no %r in %r" % (what, text, data)
    assert re.search(rb"\x1b\[[0-9;]*31mMGT-RED-%d" % n, data), \
        "%s: no red in %r" % (what, data)
    assert re.search(rb"\x1b\]0;[^\x07\x1b]*\x07", data), \
        "%s: no title in %r" % (what, data)


@pytest.fixture
def hostile(gw, workdir):
    return Hostile(workdir, "tf-%d-%d" % (os.getpid(), time.time() * 1000
                                          % 100000))


@pytest.fixture
def raws():
    made = []

    def _raw(gw, key, *command):
        t = RawTerm(gw, key, *command)
        made.append(t)
        return t
    yield _raw
    for t in made:
        t.close()


def run_hostile(gw, raws, hostile, key, verb):
    """KEY attaches (VERB) on a raw terminal, the session prints its
    sequences, KEY leaves with the escape key; the bytes the terminal
    got."""
    t = raws(gw, key, "%s %s" % (verb, hostile.target))
    wait_viewer(DEPLOY, hostile.name, verb == "watch")
    t.settle()
    n = hostile.fire()
    t.wait(b"MGT-AFTER-%d" % n)
    t.settle()
    t.send(b"\x1d")
    assert t.wait_exit() == OK, bytes(t.data)
    return bytes(t.data)


def test_watcher_gets_none_of_it(gw, raws, hostile):
    data = run_hostile(gw, raws, hostile, "eve", "watch")
    assert_none_of(data, HOSTILE, "the watcher's terminal")
    assert_ordinary(data, 1, "the watcher's terminal")
    # tmux sent it all to its client: the recording has every byte.
    recs = recordings_of(gw, "eve", hostile.name)
    assert len(recs) == 1, recs
    rec = output_of(recs[0])
    for h in HOSTILE:
        assert h in rec, "the recording lacks %r: %r" % (h, rec)
    assert b"\x1b]52;c;" + P2.encode() in rec
    assert b"\x1bPtmux;\x1b\x1b]52;c;" + P3.encode() in rec


def test_replay_filters_the_recording(gw, raws, hostile):
    run_hostile(gw, raws, hostile, "eve", "watch")
    rec = recordings_of(gw, "eve", hostile.name)[0]
    for args in (("--cat",), ("--speed", "1000", "--idle-limit", "0.01")):
        p = run([gw.bin, "replay"] + list(args) + [rec], check=False)
        assert p.returncode == OK, p.stderr
        assert p.stderr == b""
        assert_none_of(p.stdout, HOSTILE, "replay %s" % " ".join(args))
        assert_ordinary(p.stdout, 1, "replay %s" % " ".join(args))
    # export is the file itself, evidence included.
    code, out, err = gw.local("export", rec)
    assert code == OK, err
    assert out == open(rec).read()
    assert "\\u001b]52;;" + P1 in out


def test_writer_loses_only_the_clipboard(gw, raws, hostile):
    data = run_hostile(gw, raws, hostile, "alice", "attach")
    assert_none_of(data, CLIPBOARD, "the writer's terminal")
    assert_ordinary(data, 1, "the writer's terminal")
    # The rest reaches a writer, tmux's own queries included.
    for kept in (b"\x1b[21t", b"\x1bP$qm\x1b\\", b"\x1b[>c", b"\x1b[>q"):
        assert kept in data, "the writer's terminal lacks %r: %r" % (
            kept, data)
    # The passthrough too, cut short where its doubled ESC began.
    assert b"\x1bPtmux;\x1b\\" in data, data
    rec = output_of(recordings_of(gw, "alice", hostile.name)[0])
    for c in CLIPBOARD:
        assert c in rec, "the recording lacks %r: %r" % (c, rec)


def test_writer_with_allow_clipboard(gw, raws, hostile, policy_edit):
    policy_edit.write(policy_with(gw, gateway_extra=["allow_clipboard: "
                                                     "true"]))
    data = run_hostile(gw, raws, hostile, "alice", "attach")
    assert b"\x1b]52;;" + P1.encode() in data, data
    assert b"\x1b]52;c;" + P2.encode() in data, data
    assert b"\x1bPtmux;\x1b\x1b]52;c;" + P3.encode() in data, data
    assert_ordinary(data, 1, "the writer's terminal")
    # A watcher gets the full filter whatever the policy says.
    data = run_hostile(gw, raws, hostile, "eve", "watch")
    assert_none_of(data, HOSTILE, "the watcher's terminal")
    assert_ordinary(data, 2, "the watcher's terminal")


def buffers(t):
    """The paste buffers of a Term's own tmux: what OSC 52 made."""
    return t._tmux("list-buffers", "-F", "#{buffer_sample}")


def test_clipboard_reaches_a_real_terminal_only_when_allowed(
        gw, hostile, policy_edit):
    """The check of the journey below is not empty: with allow_clipboard,
    the outer terminal (a tmux with set-clipboard on) does take the
    session's OSC 52 into a paste buffer."""
    policy_edit.write(policy_with(gw, gateway_extra=["allow_clipboard: "
                                                     "true"]))
    t = Term(gw, "alice", "attach " + hostile.target)
    try:
        t._tmux("set-option", "-g", "set-clipboard", "on")
        wait_viewer(DEPLOY, hostile.name, False)
        hostile.fire()
        t.wait("MGT-AFTER-1")
        assert wait_for(lambda: "mgt-clip-direct" in buffers(t), 5), \
            buffers(t)
        t.keys("C-]")
        assert t.wait_dead(10) == OK
    finally:
        t.close()


def left(t, n):
    """The Nth watch of the journey ended with the escape key and the
    prompt is back (the watch drew over the screen, so the screen is
    counted, not marked); the mark of that prompt."""
    assert wait_for(lambda: t.screen().count("ended (escape key)") >= n,
                    15), t.screen()
    s = t.screen()
    t.prompt(since=s.rindex("ended (escape key)"))
    return t.mark()


def test_journey_watch_hostile_escape_watch_again(gw, hostile):
    """From the menu of a real terminal: watch, the session prints its
    sequences, leave with the escape key, back at the prompt, watch
    again, Ctrl-C (a watcher's keys go nowhere), leave, Ctrl-C at the
    prompt, exit.  The terminal's clipboard is never set."""
    t = Term(gw, "eve")
    try:
        t._tmux("set-option", "-g", "set-clipboard", "on")
        t.prompt()
        t.line("watch " + hostile.target)
        wait_viewer(DEPLOY, hostile.name, True)
        # The watch draws over the screen: each round's text is its own.
        hostile.fire()
        t.wait("MGT-AFTER-1")
        t.wait("MGT-RED-1")
        t.keys("C-]")
        left(t, 1)
        assert buffers(t) == ""

        t.line("watch " + hostile.target)
        wait_viewer(DEPLOY, hostile.name, True)
        hostile.fire()
        t.wait("MGT-AFTER-2")
        t.keys("C-c")
        # Dropped: the program in the session goes on.
        hostile.fire()
        t.wait("MGT-AFTER-3")
        t.keys("C-]")
        mark = left(t, 2)
        t.type("half a line")
        t.keys("C-c")
        t.prompt(since=mark)
        t.line("exit")
        assert t.wait_dead(10) == OK
        assert buffers(t) == ""
        assert tmux_has(DEPLOY, hostile.name)
    finally:
        t.close()
