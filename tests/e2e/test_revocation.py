"""
Revocation reaches shells that are already open: the policy is read again
when its file changes and the identity is checked again before every
command of the menu and of a batch; an idle menu logs out.  Also the
batch reader's bound on a line.
"""
import os
import subprocess
import threading
import time

import pexpect
import pytest

from helpers import *
from helpers import _s

PROMPT = "muxgate> "


def open_menu(spawn, key="alice"):
    c = spawn(key)
    c.expect_exact(PROMPT)
    c.send("whoami\r")
    c.expect(r"identity +%s" % key)
    c.expect_exact(PROMPT)
    return c


def finish(c, timeout=10):
    c.expect(pexpect.EOF, timeout=timeout)
    c.close()
    return c.exitstatus


def edited(gw, old, new):
    assert old in gw.policy_text, old
    return gw.policy_text.replace(old, new, 1)


ALICE = "  alice:\n    keys: [%s]\n    roles: [operator]\n"


def alice_block(gw):
    import json
    return ALICE % json.dumps(gw.keys["alice"])


@pytest.mark.parametrize("change,reason", [
    ("    disabled: true\n", "identity alice is disabled"),
    ("    expires: \"2020-01-01\"\n", "identity alice expired"),
    ("    from: [192.0.2.0/24]\n", "identity alice may not connect from"),
])
def test_open_menu_ends_when_identity_is_revoked(gw, spawn, policy_edit,
                                                 change, reason):
    c = open_menu(spawn)
    policy_edit.write(edited(gw, alice_block(gw), alice_block(gw) + change))
    c.send("new mgt-deploy@bastion:rv1\r")
    c.expect("access ended: %s" % reason)
    assert finish(c) == DENIED
    assert not tmux_has(DEPLOY, "rv1"), "new ran after revocation"


def test_open_menu_ends_when_key_is_removed(gw, spawn, policy_edit):
    import json
    c = open_menu(spawn)
    policy_edit.write(edited(gw, json.dumps(gw.keys["alice"]),
                             json.dumps("SHA256:" + "A" * 43)))
    c.send("ls\r")
    c.expect("access ended: key SHA256:\\S+ is no longer in the policy")
    assert finish(c) == DENIED


def test_open_menu_follows_changed_rules(gw, spawn, policy_edit):
    """A rule taken away applies to the next command; the shell stays."""
    c = open_menu(spawn)
    policy_edit.write(edited(
        gw, "        actions: [list, watch, attach, create, kill]\n",
        "        actions: [list]\n"))
    c.send("new mgt-deploy@bastion:rv2\r")
    c.expect("permission denied")
    c.expect_exact(PROMPT)
    assert not tmux_has(DEPLOY, "rv2")
    c.send("exit\r")
    assert finish(c) == 0


def test_open_menu_fails_closed_on_broken_policy(gw, spawn, policy_edit):
    c = open_menu(spawn)
    policy_edit.write(gw.policy_text + "\nbogus: [\n")
    c.send("ls\r")
    c.expect(r"access ended: the gateway is misconfigured; tell its "
             r"administrators \(reference [0-9a-f]{8}\)")
    assert finish(c) == FAIL


def test_open_menu_fails_closed_on_unsafe_policy(gw, spawn, policy_edit):
    c = open_menu(spawn)
    policy_edit.chmod(0o666)
    c.send("ls\r")
    c.expect("access ended")
    assert finish(c) == FAIL


def test_menu_unchanged_policy_keeps_working(gw, spawn):
    c = open_menu(spawn)
    for _ in range(3):
        c.send("whoami\r")
        c.expect(r"identity +alice")
        c.expect_exact(PROMPT)
    c.send("\x04")
    assert finish(c) == 0


def test_expiry_passing_while_the_menu_is_open(gw, spawn, policy_edit):
    """No file change at all: the clock alone ends access."""
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                         time.gmtime(time.time() + 4))
    policy_edit.write(edited(gw, alice_block(gw),
                             alice_block(gw) + "    expires: \"%s\"\n"
                             % when))
    c = open_menu(spawn)
    time.sleep(5)
    c.send("ls\r")
    c.expect("access ended: identity alice expired")
    assert finish(c) == DENIED


def test_batch_ends_when_identity_is_revoked(gw, policy_edit):
    """Commands queued in one batch: the revocation stops the rest."""
    p = subprocess.Popen(gw.ssh_args("alice"), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(b"whoami\n")
    p.stdin.flush()
    time.sleep(1.5)
    policy_edit.write(edited(gw, alice_block(gw),
                             alice_block(gw) + "    disabled: true\n"))
    out, err = p.communicate(b"new mgt-deploy@bastion:rv3\n", timeout=30)
    assert p.returncode == DENIED, (out, err)
    assert b"access ended: identity alice is disabled" in err
    assert not tmux_has(DEPLOY, "rv3")


def test_menu_idle_timeout(gw, spawn, policy_edit):
    policy_edit.write(edited(gw, "  audit: none\n",
                             "  audit: none\n  menu_idle_timeout: 2s\n"))
    c = spawn("alice")
    c.expect_exact(PROMPT)
    t0 = time.time()
    c.expect(r"no input for 2s: logging out", timeout=10)
    assert finish(c) == 0
    assert time.time() - t0 < 6


def test_menu_idle_timeout_counts_keys(gw, spawn, policy_edit):
    """Typing keeps the menu open; only a silence ends it."""
    policy_edit.write(edited(gw, "  audit: none\n",
                             "  audit: none\n  menu_idle_timeout: 3s\n"))
    c = spawn("alice")
    c.expect_exact(PROMPT)
    for ch in "whoami":
        time.sleep(1)
        c.send(ch)
    c.send("\r")
    c.expect(r"identity +alice")
    c.expect(r"no input for 3s: logging out", timeout=10)
    assert finish(c) == 0


def test_menu_idle_timeout_bad_value(gw, policy_edit):
    policy_edit.write(edited(gw, "  audit: none\n",
                             "  audit: none\n  menu_idle_timeout: soon\n"))
    code, out, err = gw.local("check", "-f", gw.policy)
    assert code == FAIL
    assert "gateway.menu_idle_timeout: bad duration 'soon'" in err


def test_batch_long_line_is_not_read_whole(gw):
    """A line with no end: refused after 4097 bytes, not buffered."""
    p = subprocess.Popen(gw.ssh_args("alice"), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sent = 0
    chunk = b"a" * 65536
    err = b""
    try:
        while sent < 300 * 1024 * 1024:
            p.stdin.write(chunk)
            sent += len(chunk)
    except BrokenPipeError:
        pass
    out, err = p.communicate(timeout=30)
    assert p.returncode == USAGE, err
    assert one_error_line(_s(err)) == \
        "muxgate: line longer than 4096 bytes", err
    # ssh stopped taking input long before 300 MB
    assert sent < 64 * 1024 * 1024, sent
