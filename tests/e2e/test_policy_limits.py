"""
Policy files that try to make loading slow or large (gateway.yaml(5),
LIMITS): installed as the live policy, each must refuse a login at once
with the one line a broken policy gives (exit 1), and `muxgate check -f`
must name the bound and where it was passed, in one line.  The ssh client
and check run with a deadline: before the limits, the alias bombs below
did not finish in minutes.
"""
import os

import pytest

from helpers import *

# A login or a check that takes longer than this is a hang, not a refusal.
DEADLINE = 30


def laughs(base):
    """Nine levels of anchored lists of nine aliases of the level before."""
    t = base + "x-laughs:\n  a0: &a0 [\"lol\"]\n"
    for i in range(1, 10):
        t += "  a%d: &a%d [%s]\n" % (i, i, ", ".join(["*a%d" % (i - 1)] * 9))
    # The third alias of level 6 passes the limit: line 7 of these.
    line = base.count("\n") + 8
    return t, "%d:22: aliases stand for more than 16777216 bytes" % line


def identities(base):
    """200,000 identities, each an alias of one with 20,000 keys."""
    t = base.replace("identities:\n", "identities:\n  i0: &i {keys: &ks ["
                     + ", ".join(["\"SHA256:%043d\"" % 0] * 20000)
                     + "], roles: [operator]}\n", 1)
    t += "".join("  i%d: *i\n" % n for n in range(1, 200000))
    return t, "aliases stand for more than 16777216 bytes"


def nesting(base):
    """10,000 levels of lists under a key: the root mapping is level 1, so
    the 64th '[' (column 67) is the 65th level."""
    return base + "x: " + "[" * 10000 + "]" * 10000 + "\n", \
        "%d:67: lists and mappings nested deeper than 64 levels" % (
            base.count("\n") + 1)


def scalar(base):
    return base + "x: \"" + "a" * (1 << 20) + "\"\n", \
        "%d:4: scalar longer than 65536 bytes" % (base.count("\n") + 1)


BOMBS = {"laughs": laughs, "identities": identities, "nesting": nesting,
         "scalar": scalar}


def install(gw, policy_edit, how):
    text, says = BOMBS[how](gw.policy_text)
    assert len(text) <= 4194304
    policy_edit.write(text)
    return says


def check_says(gw, says):
    code, out, err = gw.local("check", "-f", gw.policy, timeout=DEADLINE)
    assert code == FAIL, (code, out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(gw.policy + ":"), lines[0]
    assert says in lines[0], lines[0]
    # The message never repeats a long value.
    assert len(lines[0]) < 400, lines[0]


@pytest.mark.parametrize("how", sorted(BOMBS))
def test_bomb_refuses_login(gw, policy_edit, ssh, how):
    says = install(gw, policy_edit, how)
    code, out, err = gw.ssh("alice", "whoami", timeout=DEADLINE)
    assert code == FAIL, (code, out, err)
    assert out == ""
    misconfigured(gw, err)
    check_says(gw, says)


def test_oversized_policy_refused_unread(gw, policy_edit, ssh):
    """100 MB (sparse): refused from its size, before it is read."""
    policy_edit.write(gw.policy_text)
    with open(gw.policy, "r+b") as f:
        f.truncate(100 * 1024 * 1024)
    code, out, err = gw.ssh("alice", "whoami", timeout=DEADLINE)
    assert code == FAIL, (code, out, err)
    misconfigured(gw, err)
    code, out, err = gw.local("check", "-f", gw.policy, timeout=DEADLINE)
    assert code == FAIL
    assert err == "%s:0:0: larger than 4194304 bytes\n" % gw.policy, err


def test_anchors_still_work(gw, policy_edit, ssh):
    """A legitimate anchor: a list of roles, reused by an alias."""
    t = gw.policy_text
    assert "identities:\n" in t
    t = t.replace("identities:\n", "identities:\n  x-one:\n"
                  "    keys: [\"SHA256:%043d\"]\n    roles: &r [operator]\n"
                  "  x-two:\n    keys: [\"SHA256:%043d\"]\n    roles: *r\n"
                  % (0, 1), 1)
    policy_edit.write(t)
    code, out, err = gw.local("check", "-f", gw.policy, timeout=DEADLINE)
    assert code == OK, err
    code, out, err = gw.ssh("alice", "whoami", timeout=DEADLINE)
    assert code == OK, err
