"""muxgate run locally (no ssh): check, --explain, --can, --version, help,
--identity."""
import os
import re

import pytest

from helpers import *

ERR_RE = re.compile(r"^(?P<file>/[^:]+):(?P<line>\d+):(?P<col>\d+): \S")


def position(text, needle, nth=0):
    """1-based (line, column) of the NTH occurrence of NEEDLE in TEXT."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(needle, i + 1)
    line = text.count("\n", 0, i) + 1
    col = i - (text.rfind("\n", 0, i) + 1) + 1
    return line, col


def test_version(gw):
    code, out, err = gw.local("--version")
    assert code == OK, err
    assert re.match(r"^muxgate \d+\.\d+\.\d+\S*\n?$", out), out


def test_help_subcommand(gw):
    code, out, err = gw.local("help")
    assert code == OK, err
    assert "shell" in out and "check" in out


def test_unknown_subcommand(gw):
    code, out, err = gw.local("frobnicate")
    assert code == USAGE, (out, err)
    one_error_line(err)


def test_check_good_policy(gw):
    code, out, err = gw.local("check", "-f", gw.policy)
    assert code == OK, err
    assert out.startswith("%s: OK" % gw.policy), out
    # Only warnings about the test machine's set-up (test_check_setup.py),
    # such as the gateway account being one of bastion's tmux users.
    lines = [l for l in err.split("\n") if l != ""]
    assert all(l.startswith("muxgate: warning: setup: ") for l in lines), err
    assert "muxgate: warning: setup: host bastion: tmux user mgt-gw is the " \
        "gateway account" in err, err


def test_check_bad_policy_reports_every_error(gw, workdir):
    text = gw.policy_text.replace(
        "actions: [list, watch, attach, create, kill]",
        "actions: [list, watch, attach, create, dance]")
    text = text.replace("roles: [observer]", "roles: [nosuchrole]")
    text += "colour: blue\n"
    p = os.path.join(workdir, "bad.yaml")
    write_file(p, text)
    code, out, err = gw.local("check", "-f", p)
    assert code == FAIL, (out, err)
    lines = [l for l in err.split("\n") if l != ""]
    positions = set()
    for l in lines:
        m = ERR_RE.match(l)
        assert m, "not FILE:LINE:COLUMN: message: %r" % l
        assert m.group("file") == p
        positions.add((int(m.group("line")), int(m.group("col"))))
    assert position(text, "dance") in positions, (lines, position(text, "dance"))
    assert position(text, "colour") in positions, lines
    # the undefined role is reported at the identity's roles list
    assert position(text, "[nosuchrole]") in positions, lines
    assert len(lines) >= 3
    assert "dance" in err and "colour" in err and "nosuchrole" in err
    assert "OK" not in out


def test_check_yaml_syntax_error(gw, workdir):
    p = os.path.join(workdir, "syntax.yaml")
    write_file(p, "hosts:\n  bastion: [local\nroles: {}\n")
    code, out, err = gw.local("check", "-f", p)
    assert code == FAIL, (out, err)
    lines = [l for l in err.split("\n") if l != ""]
    assert lines and all(ERR_RE.match(l) for l in lines), lines


def test_check_missing_required_keys(gw, workdir):
    p = os.path.join(workdir, "empty-ish.yaml")
    write_file(p, "hosts:\n  bastion:\n    local: true\n"
                  "    tmux_users: [mgt-deploy]\n")
    code, out, err = gw.local("check", "-f", p)
    assert code == FAIL, (out, err)
    lines = [l for l in err.split("\n") if l != ""]
    assert lines and all(ERR_RE.match(l) for l in lines), lines


def test_check_missing_file(gw, workdir):
    code, out, err = gw.local("check", "-f", os.path.join(workdir, "nope.yaml"))
    assert code == FAIL, (out, err)


# Anything but printable ASCII and the newline that ends each line: the
# policy below is ASCII but for the controls its author chose, and every
# one of them must come out escaped.
NOT_PLAIN_RE = re.compile(rb"[^\x20-\x7e\n]")


def check_bytes(gw, path):
    """muxgate check -f PATH, with stdout and stderr as bytes."""
    p = run([gw.bin, "check", "-f", path], check=False)
    return p.returncode, p.stdout, p.stderr


def test_check_escapes_hostile_policy_text(gw, workdir):
    """A policy's keys, values and file name are its author's, not the
    administrator's: check shows them escaped, one line per error, so that
    no escape sequence or newline of theirs reaches the terminal."""
    name = "evil\x1b]0;owned\x07\n\x1b[2J.yaml"
    shown = os.path.join(workdir, "evil\\033]0;owned\\007\\n\\033[2J.yaml")
    p = os.path.join(workdir, name)
    # YAML double quotes: \e is ESC, \u009b the C1 CSI, \n a newline.
    text = gw.policy_text.replace(
        "  audit: none\n",
        "  audit: none\n  limits:\n"
        "    idle_timeout: \"5\\e[8m\\u009b\\n\\rm\"\n")
    text += '"col\\e[31mour\\nroles": blue\n'
    write_file(p, text)
    code, out, err = check_bytes(gw, p)
    assert code == FAIL, (out, err)
    assert not NOT_PLAIN_RE.search(err), err
    lines = err.decode("utf-8").split("\n")
    assert lines[-1] == "", err
    lines = lines[:-1]
    assert len(lines) == 2, lines
    for l in lines:
        m = ERR_RE.match(l)
        assert m, "not FILE:LINE:COLUMN: message: %r" % l
        assert m.group("file") == shown, l
    assert any(("gateway.limits.idle_timeout: bad duration "
                "'5\\033[8m\\302\\233\\n\\rm'") in l for l in lines), lines
    assert any("unknown key 'col\\033[31mour\\nroles'" in l
               for l in lines), lines
    # The refusal names the file too.
    os.chmod(p, 0o664)
    code, out, err = check_bytes(gw, p)
    assert code == FAIL, (out, err)
    assert not NOT_PLAIN_RE.search(err), err
    assert err.decode("utf-8") == (
        "%s: refused: bad permissions on %s: writable by its group\n" %
        (shown, shown)), err
    # And so does the line of a policy that passes.
    write_file(p, gw.policy_text)
    code, out, err = check_bytes(gw, p)
    assert code == OK, (out, err)
    # Nothing but the warnings about the test machine's set-up.
    assert all(l.startswith(b"muxgate: warning: setup: ")
               for l in err.split(b"\n") if l), err
    assert not NOT_PLAIN_RE.search(err), err
    assert out.decode("utf-8") == "%s: OK\n" % shown, out


# ---- --explain ----

ALL = "list,watch,attach,create,kill,kill-own"


def test_explain_alice(gw):
    code, out, err = gw.local("check", "-f", gw.policy, "--explain", "alice")
    assert code == OK, err
    assert "operator" in out
    for user, acts in (("mgt-deploy", ALL), ("mgt-build", ALL),
                       ("mgt-gw", "list")):
        assert re.search(r"^\s+bastion\s+%s\s+%s\s*$" % (user, acts), out,
                         re.M), out


def test_explain_observer_with_deny(gw):
    code, out, err = gw.local("check", "-f", gw.policy, "--explain", "eve")
    assert code == OK, err
    assert "observer" in out
    assert re.search(r"^\s+bastion\s+mgt-deploy\s+list,watch\s*$", out, re.M), out
    assert re.search(r"^\s+bastion\s+mgt-build\s+list\s*$", out, re.M), out


@pytest.mark.parametrize("ident,word", [("bob", "expire"),
                                        ("carol", "disabled"),
                                        ("dave", "192.0.2.0/24")])
def test_explain_shows_identity_status(gw, ident, word):
    code, out, err = gw.local("check", "-f", gw.policy, "--explain", ident)
    assert code == OK, (out, err)
    assert word in out, out


# ---- --can ----

CAN = [
    ("alice", "attach", "mgt-deploy@bastion", OK, "allow: role operator allow[0]"),
    ("alice", "kill-own", "mgt-build@bastion:x", OK, "allow: role operator allow[0]"),
    ("alice", "list", "mgt-gw@bastion", OK, "allow: role operator allow[1]"),
    ("alice", "attach", "mgt-gw@bastion", DENIED,
     "deny: no allow rule matches (default deny)"),
    ("alice", "list", "ops@web1", DENIED,
     "deny: no allow rule matches (default deny)"),
    ("alice", "list", "ops@nohost", DENIED, "deny: no host nohost in the policy"),
    ("alice", "list", "root@bastion", DENIED,
     "deny: root is not a tmux user of bastion"),
    ("eve", "watch", "mgt-deploy@bastion:s", OK, "allow: role observer allow[0]"),
    ("eve", "attach", "mgt-deploy@bastion", DENIED,
     "deny: no allow rule matches (default deny)"),
    ("eve", "attach", "mgt-build@bastion", DENIED, "deny: role observer deny[0]"),
    ("eve", "watch", "mgt-build@bastion", DENIED, "deny: role observer deny[0]"),
    ("eve", "list", "mgt-build@bastion", OK, "allow: role observer allow[0]"),
    ("carol", "list", "mgt-deploy@bastion", DENIED,
     "deny: identity carol is disabled"),
]


@pytest.mark.parametrize("ident,action,target,code,line", CAN,
                         ids=["%s-%s-%s" % c[:3] for c in CAN])
def test_can(gw, ident, action, target, code, line):
    c, out, err = gw.local("check", "-f", gw.policy, "--can", ident, action,
                           target)
    assert (c, out) == (code, line + "\n"), (c, out, err)


def test_can_expired(gw):
    c, out, err = gw.local("check", "-f", gw.policy, "--can", "bob", "list",
                           "mgt-deploy@bastion")
    assert c == DENIED, (out, err)
    assert out.startswith("deny: identity bob expired at 2020-01-0"), out
    assert out.count("\n") == 1


def test_can_bad_action_is_usage_error(gw):
    c, out, err = gw.local("check", "-f", gw.policy, "--can", "alice",
                           "dance", "mgt-deploy@bastion")
    assert c == USAGE, (out, err)


# ---- --identity (authorized_keys command= form), run as the gateway user ----

def test_identity_option(gw):
    code, out, err = gw.local(
        "shell", "-f", gw.policy, "--identity", "alice", user=GW,
        env={"SSH_ORIGINAL_COMMAND": "whoami --json",
             "SSH_CONNECTION": "127.0.0.1 50000 127.0.0.1 22"})
    assert code == OK, err
    assert parse_json(out) == {"identity": "alice", "key": None,
                               "roles": ["operator"]}


@pytest.mark.parametrize("ident", ["bob", "carol", "nosuchidentity"])
def test_identity_option_refused(gw, ident):
    code, out, err = gw.local(
        "shell", "-f", gw.policy, "--identity", ident, user=GW,
        env={"SSH_ORIGINAL_COMMAND": "whoami",
             "SSH_CONNECTION": "127.0.0.1 50000 127.0.0.1 22"})
    assert code == DENIED, (out, err)
    one_error_line(err)


def test_identity_option_from_mismatch(gw):
    code, out, err = gw.local(
        "shell", "-f", gw.policy, "--identity", "dave", user=GW,
        env={"SSH_ORIGINAL_COMMAND": "whoami",
             "SSH_CONNECTION": "198.51.100.7 50000 127.0.0.1 22"})
    assert code == DENIED, (out, err)
    code, out, err = gw.local(
        "shell", "-f", gw.policy, "--identity", "dave", user=GW,
        env={"SSH_ORIGINAL_COMMAND": "whoami --json",
             "SSH_CONNECTION": "192.0.2.55 50000 127.0.0.1 22"})
    assert code == OK, (out, err)
    assert parse_json(out)["identity"] == "dave"


def test_no_identity(gw):
    """No SSH_USER_AUTH and no --identity: refused."""
    code, out, err = gw.local(
        "shell", "-f", gw.policy, user=GW,
        env={"SSH_ORIGINAL_COMMAND": "whoami",
             "SSH_CONNECTION": "127.0.0.1 50000 127.0.0.1 22"})
    assert code == DENIED, (out, err)
    assert one_error_line(err).startswith("muxgate: no identity")
