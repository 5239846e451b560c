"""
Attacks on the menu's line editor, typed in a real terminal through sshd
and through `muxgate serve`, by an operator and by a watch-only identity:
every way into libedit's own command prompt and editor (ESC x, M-x as a
meta byte, vi mode's ':' and 'v', `bind` from a startup file), readline's
(C-x C-e), and terminal control strings.  None may start a program: no
file appears, the shell has no child, no editor library is mapped, and the
prompt still answers.
"""
import contextlib
import os
import pwd
import signal
import time

import pytest

from helpers import *
from serve_util import *
from term_util import *

PWN = "touch %s" % PWNED[0]

# (name, [bytes or str to type, ...])
ROUTES = [
    ("esc-x-bind-vi-v", [b"\x1bx", "bind -v\r", b"\x1b", "v",
                         ":!%s\r" % PWN, ":q!\r"]),
    ("meta-x-byte", [b"\xf8", "bind -v\r", b"\x1bv", ":!%s\r" % PWN]),
    ("esc-x-edit", [b"\x1bx", "edit\r", b"\x1bx", "history -f /tmp/x\r"]),
    ("esc-x-echotc", [b"\x1bx", "echotc cl\r", b"\x1bx", "settc li 1\r",
                      b"\x1bx", "telltc\r"]),
    ("vi-colon", [b"\x1bx", "bind -v\r", b"\x1b", ":", "! %s\r" % PWN]),
    ("vi-histedit", [b"\x1bx", "bind -v\r", b"\x1b", "v", b"\x1b:",
                     "!%s\r" % PWN, b"\x1bZZ"]),
    ("readline-edit-and-execute", [b"\x18\x05", PWN + "\r", b"\x18e"]),
    ("bind-typed", ["bind -v\r", "bind ^A ed-command\r", b"\x01",
                    "!%s\r" % PWN]),
    ("terminal-strings", [b"\x1b]0;" + PWN.encode() + b"\x07",
                          b"\x1bP+q" + PWN.encode() + b"\x1b\\",
                          b"\x1b[200~" + PWN.encode() + b"\x1b[201~\r"]),
    ("quoted-insert", [b"\x16\x1bx", "bind -v\r", b"\x16\x03"]),
]


@pytest.fixture(autouse=True)
def clean_state(gw):
    with state_sparing_serve(90):
        yield


@pytest.fixture(scope="module")
def serve_server(gw):
    with running_serve(gw, "escape-serve") as s:
        yield s


@pytest.fixture(scope="module")
def editrc(gw):
    """A startup file that would turn every key into the command prompt,
    in the gateway account's home, and EDITRC pointing at it."""
    home = pwd.getpwnam(GW).pw_dir
    path = os.path.join(home, ".editrc")
    existed = os.path.exists(path)
    if not existed:
        with open(path, "w") as f:
            f.write("bind -v\nbind ^A ed-command\nbind ^E vi-histedit\n")
        os.chown(path, uid_of(GW), -1)
    yield path
    if not existed:
        os.unlink(path)


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if int(open("/proc/%s/stat" % d).read().rsplit(")", 1)[1]
                       .split()[1]) == pid:
                    out.append(int(d))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    return out


ALL = ("all", [k for _, keys in ROUTES for k in keys + [b"\x03"]])

# Each route on its own through sshd for an operator; every route in one
# session for a watch-only identity, and through serve.
CASES = [("sshd", "alice", r) for r in ROUTES] + [
    ("sshd", "eve", ALL), ("serve", "alice", ALL), ("serve", "eve", ALL)]


@pytest.fixture
def gateway(request, gw):
    if request.param == "sshd":
        return gw
    return request.getfixturevalue("serve_server").client()


@pytest.mark.parametrize("gateway,who,route", CASES, indirect=["gateway"],
                         ids=["%s-%s-%s" % (g, w, r[0]) for g, w, r in CASES])
def test_no_way_out_of_the_prompt(gateway, editrc, who, route):
    name, keys = route
    t = Term(gateway, who)
    try:
        t.prompt()
        shells = wait_for(gateway_shells, 10)
        assert len(shells) == 1, shells
        pid, _ = shells.popitem()
        maps = open("/proc/%d/maps" % pid).read()
        assert "libedit" not in maps and "libreadline" not in maps
        for k in keys:
            if isinstance(k, bytes):
                t.raw(k)
            else:
                t.type(k.rstrip("\r"))
                if k.endswith("\r"):
                    t.keys("Enter")
            time.sleep(0.15)
            assert not children(pid), "the menu started %r" % [
                open("/proc/%d/cmdline" % c, "rb").read()
                for c in children(pid)]
        time.sleep(0.5)
        assert not any(os.path.exists(f) for f in PWNED)
        assert not children(pid)
        # the prompt still answers, as the same identity
        t.keys("C-c")
        m = t.mark()
        t.line("whoami")
        t.wait(r"(?m)^identity +%s" % who, m)
        # ^D typed before the prompt is back would meet the terminal's
        # own line discipline (end of file), not the menu
        t.prompt(m)
        assert t.dead() is None
        t.keys("C-d")
        assert t.wait_dead() == 0
    finally:
        t.close()
    assert not any(os.path.exists(f) for f in PWNED)
