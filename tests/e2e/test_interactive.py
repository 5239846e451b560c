"""Interactive use through `ssh -tt` (pexpect): the menu, attach, watch,
interactive kill."""
import re
import time

import pexpect
import pytest

from helpers import *

PROMPT = "muxgate> "
CONFIRM = "Type the session name to confirm: "


def read_menu(child):
    """Everything up to the next prompt (banner and/or menu)."""
    child.expect_exact(PROMPT)
    return child.before


def menu_number(menu, target):
    m = re.search(r"(?m)^\s*(\d+)\) %s(?![\w-])" % re.escape(target), menu)
    assert m, "no menu entry for %s in %r" % (target, menu)
    return m.group(1)


def detach(child):
    """C-b d: tmux's own detach."""
    child.send("\x02")
    time.sleep(0.2)
    child.send("d")


def finish(child, timeout=10):
    child.expect(pexpect.EOF, timeout=timeout)
    child.close()
    return child.exitstatus


def wait_client(user, name, timeout=10):
    got = wait_for(lambda: tmux_clients(user, name), timeout)
    assert got, "no tmux client attached to %s's session %s" % (user, name)
    return got


def wait_no_client(user, timeout=10):
    assert wait_for(lambda: not tmux_clients(user), timeout), \
        tmux_clients(user)


def test_banner_menu_prompt_whoami_exit(spawn):
    tmux_new(DEPLOY, "m1", "/bin/cat")
    c = spawn("alice")
    menu = read_menu(c)
    assert "muxgate \u2014 logged in as alice" in menu, menu
    menu_number(menu, "mgt-deploy@bastion:m1")
    assert re.search(r"(?m)^\s*mgt-build@bastion: forbidden", menu), menu
    c.send("whoami\r")
    out = read_menu(c)
    assert "alice" in out
    c.send("exit\r")
    assert finish(c) == 0


def test_menu_format(ssh, spawn):
    """`  1) deploy@bastion:build  (2 windows, created ..., 1 attached, owner
    alice)` and `    build@bastion: forbidden (sudo refused)`."""
    tmux_new(DEPLOY, "m1", "/bin/cat")
    code, out, err = ssh("alice", "new mgt-deploy@bastion:m2")
    assert code == OK, err
    c = spawn("alice")
    menu = read_menu(c).replace("\r", "")
    missing = [p for p in (
        r"(?m)^ *\d+\) mgt-deploy@bastion:m1  \(1 window, created "
        r"[-0-9]+ [0-9:]+, 0 attached\)$",
        r"(?m)^ *\d+\) mgt-deploy@bastion:m2  \(1 window, created "
        r"[-0-9]+ [0-9:]+, 0 attached, owner alice\)$",
        r"(?m)^ *mgt-build@bastion: forbidden \(sudo refused\)$")
        if not re.search(p, menu)]
    assert not missing, "no line matches %r in the menu %r" % (missing, menu)
    c.send("exit\r")
    assert finish(c) == 0


def test_ctrl_d_leaves(spawn):
    c = spawn("alice")
    read_menu(c)
    c.send("\x04")
    assert finish(c) == 0


def test_empty_line_reshows_menu(spawn):
    tmux_new(DEPLOY, "m1", "/bin/cat")
    c = spawn("alice")
    read_menu(c)
    c.send("\r")
    menu = read_menu(c)
    menu_number(menu, "mgt-deploy@bastion:m1")
    c.send("quit\r")
    assert finish(c) == 0


def test_errors_do_not_end_the_interactive_session(spawn):
    c = spawn("alice")
    read_menu(c)
    c.send("ls ops@web1\r")
    out = read_menu(c)
    assert "muxgate: " in out
    c.send("ls; id\r")
    out = read_menu(c)
    assert "not allowed here" in out
    c.send("whoami\r")
    assert "alice" in read_menu(c)
    c.send("exit\r")
    assert finish(c) == 0


def test_menu_number_attaches_and_menu_returns(spawn):
    tmux_new(DEPLOY, "m1", "/bin/cat")
    c = spawn("alice")
    n = menu_number(read_menu(c), "mgt-deploy@bastion:m1")
    c.send(n + "\r")
    clients = wait_client(DEPLOY, "m1")
    assert len(clients) == 1
    # alice attaches (read-write): what she types reaches the pane
    c.send("typed-by-alice\r")
    assert wait_for(lambda: "typed-by-alice" in tmux_capture(DEPLOY, "m1"), 5)
    detach(c)
    menu = read_menu(c)
    wait_no_client(DEPLOY)
    menu_number(menu, "mgt-deploy@bastion:m1")
    assert tmux_has(DEPLOY, "m1")
    c.send("exit\r")
    assert finish(c) == 0


def test_attach_one_shot_and_detach(spawn):
    tmux_new(DEPLOY, "a1", "/bin/cat")
    c = spawn("alice", "attach mgt-deploy@bastion:a1")
    wait_client(DEPLOY, "a1")
    c.send("hello-from-attach\r")
    assert wait_for(lambda: "hello-from-attach" in tmux_capture(DEPLOY, "a1"), 5)
    detach(c)
    assert finish(c) == 0
    wait_no_client(DEPLOY)
    assert tmux_has(DEPLOY, "a1")


def test_attach_one_shot_missing_session(spawn):
    c = spawn("alice", "attach mgt-deploy@bastion:nosuch")
    assert finish(c) == NOSESSION


def _end_watch(c, until=pexpect.EOF):
    """Leave a watch.  How is not in the contract: tmux's detach (C-b d)
    if the keys reach tmux, else the gateway's escape key (^], the policy
    default); returns the index of what worked, or kills the client."""
    detach(c)
    try:
        c.expect(until, timeout=2)
        return 0
    except pexpect.TIMEOUT:
        pass
    c.send("\x1d")
    try:
        c.expect(until, timeout=6)
        return 1
    except pexpect.TIMEOUT:
        c.terminate(force=True)
        raise AssertionError("could not leave the watch with C-b d or ^]")


def _try_to_interfere(c):
    """Everything a watcher might try: type, tmux commands, confirmations."""
    c.send("SECRET-INPUT\r")
    time.sleep(0.3)
    c.send("\x02:kill-session\r")
    time.sleep(0.3)
    c.send("\x02&")
    time.sleep(0.3)
    c.send("y")
    time.sleep(0.3)
    c.send("\x02x")
    time.sleep(0.3)
    c.send("y")
    time.sleep(0.3)
    c.send("\x1b")          # cancel any prompt that might be open
    time.sleep(0.8)         # longer than tmux's escape-time


@pytest.mark.parametrize("key", ["eve", "alice"])
def test_watch_is_read_only(spawn, key):
    tmux_new(DEPLOY, "w1", "/bin/cat")
    c = spawn(key, "watch mgt-deploy@bastion:w1")
    wait_client(DEPLOY, "w1")
    # the watcher sees the pane
    tmux(DEPLOY, "send-keys", "-t", "=w1:", "VISIBLE-OUTPUT", "Enter",
         check=True)
    c.expect_exact("VISIBLE-OUTPUT", timeout=10)
    _try_to_interfere(c)
    assert tmux_has(DEPLOY, "w1"), "a watcher killed the session"
    screen = tmux_capture(DEPLOY, "w1")
    assert "VISIBLE-OUTPUT" in screen
    assert "SECRET-INPUT" not in screen, screen
    assert "kill-session" not in screen, screen
    _end_watch(c)
    wait_no_client(DEPLOY)
    assert tmux_has(DEPLOY, "w1")


def test_observer_menu_number_watches(spawn):
    tmux_new(DEPLOY, "w2", "/bin/cat")
    c = spawn("eve")
    n = menu_number(read_menu(c), "mgt-deploy@bastion:w2")
    c.send(n + "\r")
    wait_client(DEPLOY, "w2")
    tmux(DEPLOY, "send-keys", "-t", "=w2:", "SHOWN", "Enter", check=True)
    c.expect_exact("SHOWN", timeout=10)
    c.send("NOT-FOR-THE-PANE\r")
    time.sleep(1)
    assert "NOT-FOR-THE-PANE" not in tmux_capture(DEPLOY, "w2")
    _end_watch(c, until=PROMPT)
    wait_no_client(DEPLOY)
    c.send("exit\r")
    assert finish(c) == 0


def test_interactive_kill_asks_for_the_name(spawn):
    tmux_new(DEPLOY, "k1", "/bin/cat")
    tmux_new(DEPLOY, "k2", "/bin/cat")
    c = spawn("alice")
    read_menu(c)
    c.send("kill mgt-deploy@bastion:k1\r")
    c.expect_exact(CONFIRM)
    c.send("k2\r")              # the wrong name: nothing is killed
    read_menu(c)
    assert sorted(tmux_sessions(DEPLOY)) == ["k1", "k2"]
    c.send("kill mgt-deploy@bastion:k1\r")
    c.expect_exact(CONFIRM)
    c.send("k1\r")
    read_menu(c)
    assert tmux_sessions(DEPLOY) == ["k2"]
    c.send("exit\r")
    assert finish(c) == 0


def test_escape_sequences_in_menu_are_neutralised(spawn):
    tmux_new(DEPLOY, "x\x1b]0;pwn\x07y", "/bin/cat")
    tmux_new(DEPLOY, "o1", "/bin/cat")
    tmux(DEPLOY, "set-option", "-t", "=o1:", "@muxgate-owner",
         "ev\x1b]0;il\x07\x1b[2J", check=True)
    c = spawn("alice")
    menu = read_menu(c)
    assert "pwn" in menu
    assert "\x1b]0;" not in menu, repr(menu)
    assert "\x1b[2J" not in menu, repr(menu)
    assert "\x07" not in menu, repr(menu)
    c.send("ls\r")
    out = read_menu(c)
    assert "pwn" in out
    assert "\x1b]0;" not in out and "\x1b[2J" not in out, repr(out)
    c.send("exit\r")
    assert finish(c) == 0
