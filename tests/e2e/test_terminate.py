"""
Ending live attaches: `terminate ATTACH_ID` from another SSH session, and
revocation by a policy edit, through the real sshd, with the attached
person at a real terminal (ssh in a tmux pane, term_util.Term).

The writer is alice (operator); frank's role gets the terminate action on
mgt-deploy for these tests; eve (observer) watches and may not terminate.
Each attach must end within 5 seconds, saying why, and leave the person
able to attach again.
"""
import json
import os
import time

import pytest

from helpers import *
from term_util import *

SESSION = "term-%d" % os.getpid()
TARGET = "%s@bastion:%s" % (DEPLOY, SESSION)


@pytest.fixture
def terms():
    made = []

    def _term(key, *command):
        t = Term(gw_ref[0], key, *command)
        made.append(t)
        return t
    yield _term
    for t in made:
        t.close()


gw_ref = []


@pytest.fixture(autouse=True)
def setup_terminate(gw, policy_edit):
    gw_ref[:] = [gw]
    text = gw.policy_text.replace(
        "        actions: [list, create, kill-own]\n",
        "        actions: [list, create, kill-own, terminate]\n", 1)
    assert text != gw.policy_text
    policy_edit.write(text)
    tmux_new(DEPLOY, SESSION)
    yield text


def live_attaches(gw, key="frank"):
    """(attach_id or None, identity, mode) of the viewers of SESSION."""
    code, out, err = gw.ssh(key, "ls --json %s@bastion" % DEPLOY)
    assert code == OK, err
    for host in parse_json(out)["hosts"]:
        for s in host["sessions"]:
            if s["name"] == SESSION:
                return [(v.get("attach_id"), v["identity"], v["mode"])
                        for v in s["viewers"]]
    return []


def wait_attached(gw, identity, mode):
    found = []

    def seen():
        found[:] = [v for v in live_attaches(gw)
                    if v[1] == identity and v[2] == mode]
        return bool(found)
    assert wait_for(seen, 15), live_attaches(gw)
    return found[0][0]


def test_terminate_a_writer_then_attach_again(gw, terms):
    t = terms("alice", "attach " + TARGET)
    aid = wait_attached(gw, "alice", "attach")
    assert aid is not None and len(aid) == 16
    # Someone without the terminate action does not see the handle.
    code, out, err = gw.ssh("eve", "ls --json %s@bastion" % DEPLOY)
    assert code == OK and aid not in out
    start = time.time()
    code, out, err = gw.ssh("frank", "terminate %s --reason 'disk swap'"
                            % aid)
    assert code == OK, err
    assert out.startswith("terminated %s: attach of alice on %s" % (
        aid, TARGET)), out
    t.wait(r"ended: terminated by frank: disk swap")
    assert t.wait_dead(10) == FAIL
    assert time.time() - start < 5 + 1
    assert not any(v[1] == "alice" for v in live_attaches(gw))
    # The request was for that attach only: a new one stands.
    t2 = terms("alice", "attach " + TARGET)
    wait_attached(gw, "alice", "attach")
    time.sleep(2.5)
    assert t2.dead() is None
    assert any(v[1] == "alice" for v in live_attaches(gw))


def test_terminate_a_watcher(gw, terms):
    t = terms("eve", "watch " + TARGET)
    aid = wait_attached(gw, "eve", "watch")
    code, out, err = gw.ssh("frank", "terminate " + aid)
    assert code == OK, err
    t.wait(r"ended: terminated by frank")
    t.wait_dead(10)


def test_terminate_refused_without_the_action(gw, terms):
    t = terms("alice", "attach " + TARGET)
    aid = wait_attached(gw, "alice", "attach")
    code, out, err = gw.ssh("eve", "terminate " + aid)
    assert code == DENIED, (out, err)
    assert one_error_line(err) == \
        "muxgate: permission denied: terminate on %s" % aid
    time.sleep(2.5)
    assert t.dead() is None
    assert any(v[1] == "alice" for v in live_attaches(gw))


@pytest.mark.parametrize("arg, code, text", [
    ("0123456789abcdef", NOSESSION, "no live attach or watch"),
    ("../../etc/passwd", USAGE, "bad attach id"),
    ("0123456789ABCDEF", USAGE, "bad attach id"),
    ("'$(touch /tmp/mgt-pwned)'", USAGE, "bad attach id"),
])
def test_terminate_bad_ids(gw, arg, code, text):
    c, out, err = gw.ssh("frank", "terminate " + arg)
    assert c == code, (out, err)
    assert text in one_error_line(err)
    assert not os.path.exists("/tmp/mgt-pwned")


def test_terminate_usage(gw):
    c, out, err = gw.ssh("frank", "terminate 0123456789abcdef --reason")
    assert c == USAGE and "usage: terminate" in one_error_line(err)


def test_policy_edit_ends_the_attach(gw, terms, policy_edit,
                                     setup_terminate):
    t = terms("alice", "attach " + TARGET)
    wait_attached(gw, "alice", "attach")
    start = time.time()
    policy_edit.write(setup_terminate.replace(
        "  alice:\n", "  alice:\n    disabled: true\n", 1))
    t.wait(r"ended: access ended: identity alice is disabled")
    t.wait_dead(10)
    assert time.time() - start < 5 + 1


def test_rule_removed_ends_the_watch(gw, terms, policy_edit,
                                     setup_terminate):
    t = terms("eve", "watch " + TARGET)
    wait_attached(gw, "eve", "watch")
    # eve's observer rule loses mgt-deploy.
    text = setup_terminate.replace(
        "      - hosts: {env: test}\n        tmux_users: [mgt-deploy, "
        "mgt-build]\n",
        "      - hosts: {env: test}\n        tmux_users: [mgt-build]\n", 1)
    assert text != setup_terminate
    policy_edit.write(text)
    t.wait(r"ended: access ended: watch on %s@bastion is no longer "
           r"allowed" % DEPLOY)
    t.wait_dead(10)


def test_terminated_in_the_menu_then_carry_on(gw, terms):
    """From the menu: attach, be terminated, land back at the prompt,
    list, attach again, detach with the escape key."""
    t = terms("alice")
    t.prompt()
    t.line("attach " + TARGET)
    aid = wait_attached(gw, "alice", "attach")
    mark = t.mark()
    code, out, err = gw.ssh("frank", "terminate %s --reason 'shift over'"
                            % aid)
    assert code == OK, err
    t.wait(r"ended: terminated by frank: shift over", since=mark)
    t.prompt(since=mark)
    mark = t.mark()
    t.line("ls " + TARGET)
    t.wait(SESSION, since=mark)
    t.prompt(since=mark)
    t.line("attach " + TARGET)
    wait_attached(gw, "alice", "attach")
    mark = t.mark()
    t.keys("C-]")
    t.wait(r"ended \(escape key\)", since=mark)
    t.prompt(since=mark)
    t.line("exit")
    assert t.wait_dead(10) == OK



def test_hostile_reasons(gw, terms):
    """The reason is typed by one person and shown on another's terminal.
    Control bytes (an OSC title, a screen clear) are refused before
    anything happens; shell syntax arrives as plain text."""
    t = terms("alice", "attach " + TARGET)
    aid = wait_attached(gw, "alice", "attach")
    code, out, err = gw.ssh("frank", "terminate %s --reason "
                            "'\x1b]0;PWNED\x07\x1b[2J'" % aid)
    assert code == USAGE, (out, err)
    assert "control character 0x1b" in one_error_line(err)
    time.sleep(2.5)
    assert t.dead() is None
    code, out, err = gw.ssh("frank", "terminate %s --reason "
                            "'$(touch /tmp/mgt-pwned); `id`'" % aid)
    assert code == OK, err
    t.wait(r"ended: terminated by frank: \$\(touch /tmp/mgt-pwned\); `id`")
    assert not os.path.exists("/tmp/mgt-pwned")
