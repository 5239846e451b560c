"""
A person's session at the menu, in a real terminal (the OpenSSH client in
a tmux pane), once through sshd's ForceCommand and once through `muxgate
serve`: attach, come back, list, watch, attach again and detach with
tmux's own key, abandon a line with Ctrl-C, press Ctrl-\\ and Ctrl-Z, make
a session, attach it and end it from inside, kill, leave with Ctrl-D.

After every return to the prompt the gateway side's terminal is checked:
its descriptor is blocking and its whole state (`stty -g`) is what it was
at the first prompt.
"""
import contextlib
import os
import signal

import pytest

from helpers import *
from serve_util import *
from term_util import *

O_NONBLOCK = 0o4000


@pytest.fixture(autouse=True)
def clean_state(gw):
    with state_sparing_serve(120):
        yield


@pytest.fixture(scope="module")
def serve_server(gw):
    with running_serve(gw, "journey-serve") as s:
        yield s


@pytest.fixture(params=["sshd", "serve"])
def gateway(request, gw):
    if request.param == "sshd":
        return gw
    return request.getfixturevalue("serve_server").client()


@pytest.fixture
def term(gateway):
    terms = []

    def _term(key, *command):
        t = Term(gateway, key, *command)
        terms.append(t)
        return t
    yield _term
    for t in terms:
        t.close()


class Checker:
    """The gateway side of the terminal, checked at every prompt."""

    def __init__(self):
        shells = wait_for(gateway_shells, 10)
        assert shells and len(shells) == 1, shells
        (self.pid, self.tty), = shells.items()
        self.state = stty_g(self.tty)

    def check(self):
        assert not fd_flags(self.pid) & O_NONBLOCK, \
            "the terminal was left non-blocking"
        assert stty_g(self.tty) == self.state, stty_a(self.tty)


def test_journey(term):
    tmux_new(DEPLOY, "j1", "/bin/sh")
    t = term("alice")
    s = t.prompt()
    assert "logged in as alice" in s
    n = re.search(r"(?m)^\s*(\d+)\) mgt-deploy@bastion:j1\b", s).group(1)
    c = Checker()

    # attach by number, type a command, leave with the escape key
    m = t.mark()
    t.line(n)
    wait_client(DEPLOY, "j1")
    t.line("echo hello-$((40+2))")
    assert wait_for(lambda: "hello-42" in tmux_capture(DEPLOY, "j1"))
    t.keys("C-]")
    t.prompt(m)
    c.check()

    # ls, then watch the same session and leave it
    m = t.mark()
    t.line("ls")
    t.wait(r"mgt-deploy@bastion:j1", m)
    t.prompt(m)
    m = t.mark()
    t.line("watch mgt-deploy@bastion:j1")
    wait_client(DEPLOY, "j1")
    t.keys("C-]")
    t.prompt(m)
    c.check()

    # attach again, detach with tmux's prefix d
    m = t.mark()
    t.line("attach mgt-deploy@bastion:j1")
    wait_client(DEPLOY, "j1")
    t.keys("C-b")
    t.type("d")
    t.prompt(m)
    c.check()

    # a half-typed line and Ctrl-C; Ctrl-\ and Ctrl-Z do nothing
    m = t.mark()
    t.type("kill mgt-deploy@bas")
    t.keys("C-c")
    t.wait(r"\^C", m)
    t.prompt(m)
    t.keys("C-\\")
    t.keys("C-z")
    t.line("whoami")
    t.wait(r"(?m)^identity +alice", m)
    t.prompt(m)
    assert t.dead() is None
    c.check()

    # new, attach it, end it from inside
    m = t.mark()
    t.line("new mgt-deploy@bastion:j2")
    assert wait_for(lambda: tmux_has(DEPLOY, "j2"))
    t.prompt(m)
    m = t.mark()
    t.line("attach mgt-deploy@bastion:j2")
    wait_client(DEPLOY, "j2")
    t.line("exit")
    t.prompt(m)
    assert wait_for(lambda: not tmux_has(DEPLOY, "j2"))
    c.check()

    # kill, then Ctrl-D leaves with status 0
    m = t.mark()
    t.line("kill mgt-deploy@bastion:j1 --yes")
    assert wait_for(lambda: not tmux_has(DEPLOY, "j1"))
    t.prompt(m)
    c.check()
    t.keys("C-d")
    assert t.wait_dead() == 0


def test_many_attaches_in_a_row(term):
    tmux_new(DEPLOY, "r1", "/bin/sh")
    t = term("alice")
    t.prompt()
    c = Checker()
    for i in range(5):
        m = t.mark()
        t.line("attach mgt-deploy@bastion:r1")
        wait_client(DEPLOY, "r1")
        t.line("echo round-%d" % (i * 11))
        assert wait_for(lambda: "round-%d" % (i * 11) in
                        tmux_capture(DEPLOY, "r1"))
        t.keys("C-]")
        t.prompt(m)
        c.check()
    m = t.mark()
    t.line("whoami")
    t.wait(r"(?m)^identity +alice", m)
    t.line("exit")
    assert t.wait_dead() == 0


def test_signal_keys_at_the_prompt_keep_the_connection(term):
    t = term("alice")
    t.prompt()
    for key in ("C-c", "C-\\", "C-z", "C-c"):
        t.type("ls mgt-deploy@bastion")
        t.keys(key)
    m = t.mark()
    t.keys("C-u")
    t.line("whoami")
    t.wait(r"(?m)^identity +alice", m)
    t.prompt(m)
    assert t.dead() is None
    t.keys("C-d")
    assert t.wait_dead() == 0


def test_connection_dropped_at_the_prompt_leaves_nothing(term, gateway):
    tmux_new(DEPLOY, "d1", "/bin/sh")
    t = term("alice")
    t.prompt()
    pid = Checker().pid
    t.close()
    assert wait_for(lambda: not pid_alive(pid), 10), \
        "muxgate shell %d outlived its connection" % pid
    assert tmux_has(DEPLOY, "d1")


def wait_client(user, name, timeout=10):
    got = wait_for(lambda: tmux_clients(user, name), timeout)
    assert got, "no tmux client attached to %s's session %s" % (user, name)
