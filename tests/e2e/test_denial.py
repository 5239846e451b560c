"""Refusals: out-of-scope targets, refused identities, unsafe or invalid
policy files."""
import os
import re
import shutil
import tempfile

import pytest

from helpers import *

# Targets alice has no right on: a policy host she is granted nothing on,
# hosts and users that are not in the policy at all, and users of bastion
# that are not its tmux users.  All must look the same: exit 3.
OUT_OF_SCOPE = [
    ("ops", "web1"),            # in the policy, not granted
    ("mgt-deploy", "web1"),     # not a tmux user of web1
    ("ops", "nosuchhost"),      # host not in the policy
    ("nobody", "bastion"),      # user not in the policy
    ("root", "bastion"),        # real Unix user, not in the policy
    ("nosuchuser", "nosuchhost"),
]

VERBS = [
    ("ls {t}", False),
    ("ls {t}:s1", False),
    ("new {t}:s1", False),
    ("kill {t}:s1 --yes", False),
    ("attach {t}:s1", True),
    ("watch {t}:s1", True),
]


def message_lines(out, err):
    text = (out + "\n" + err).replace("\r", "")
    return [l for l in text.split("\n") if l.strip() != ""]


def normalize(line, user, host):
    line = line.replace("%s@%s" % (user, host), "USER@HOST")
    line = re.sub(r"(?<![\w.-])%s(?![\w-])" % re.escape(host), "HOST", line)
    line = re.sub(r"(?<![\w.-])%s(?![\w-])" % re.escape(user), "USER", line)
    return line


@pytest.mark.parametrize("verb,tty", VERBS, ids=[
    "ls-user", "ls-session", "new", "kill", "attach", "watch"])
def test_out_of_scope_targets_denied_alike(ssh, verb, tty):
    seen = {}
    for user, host in OUT_OF_SCOPE:
        t = "%s@%s" % (user, host)
        code, out, err = ssh("alice", verb.format(t=t), tty=tty)
        assert code == DENIED, (t, out, err)
        lines = message_lines(out, err)
        assert len(lines) == 1, (t, lines)
        assert lines[0].startswith("muxgate: "), lines
        seen[t] = normalize(lines[0], user, host)
    assert len(set(seen.values())) == 1, \
        "denials differ between existing and non-existing targets: %r" % seen


def test_ls_out_of_scope_host_denied_alike(ssh):
    msgs = {}
    for host in ("web1", "nosuchhost"):
        code, out, err = ssh("alice", "ls " + host)
        assert code == DENIED, (host, out, err)
        msgs[host] = normalize(one_error_line(err), "-", host)
    assert len(set(msgs.values())) == 1, msgs


def test_observer_attach_denied_but_may_list(ssh):
    tmux_new(DEPLOY, "s1", "/bin/cat")
    code, out, err = ssh("eve", "attach mgt-deploy@bastion:s1", tty=True)
    assert code == DENIED, (out, err)
    assert tmux_clients(DEPLOY) == []
    # deny watch on mgt-build also denies watching there
    tmux_new(DEPLOY, "s2", "/bin/cat")
    code, out, err = ssh("eve", "watch mgt-build@bastion:s2", tty=True)
    assert code == DENIED, (out, err)


# ---- identities ----

REFUSED = ["unknown", "bob", "carol", "dave"]


@pytest.mark.parametrize("key", REFUSED)
@pytest.mark.parametrize("command", ["whoami", "ls --json", "hosts",
                                     "new mgt-deploy@bastion:r1"])
def test_refused_identities_one_shot(gw, ssh, key, command):
    code, out, err = ssh(key, command)
    assert code == DENIED, (out, err)
    msg = one_error_line(err)
    assert out == ""
    if key == "unknown":
        assert msg.startswith("muxgate: unknown key " +
                              gw.fingerprints["unknown"]), msg
    assert tmux_sessions(DEPLOY) == []


@pytest.mark.parametrize("key", REFUSED)
def test_refused_identities_batch(ssh, key):
    code, out, err = ssh(key, input="new mgt-deploy@bastion:r1\nwhoami\n")
    assert code == DENIED, (out, err)
    one_error_line(err)
    assert tmux_sessions(DEPLOY) == []


@pytest.mark.parametrize("key", REFUSED)
def test_refused_identities_interactive(ssh, key):
    code, out, err = ssh(key, tty=True)
    assert code == DENIED, (out, err)
    assert "muxgate>" not in out
    assert "logged in as" not in out


def test_refusal_messages(ssh):
    _, _, err = ssh("bob", "whoami")
    assert "expired" in err, err
    _, _, err = ssh("carol", "whoami")
    assert "disabled" in err, err


# ---- unsafe policy file ----

COMMANDS = ["whoami", "ls", "ls --json", "hosts --json", "help",
            "new mgt-deploy@bastion:p1", "kill mgt-deploy@bastion:p1 --yes",
            "frobnicate"]


@pytest.mark.parametrize("mode", [0o666, 0o664, 0o646],
                         ids=["0666", "0664", "0646"])
def test_writable_policy_file_refused(gw, ssh, policy_edit, mode):
    tmux_new(DEPLOY, "p1", "/bin/cat")
    policy_edit.chmod(mode)
    for cmd in COMMANDS if mode == 0o666 else COMMANDS[:2]:
        code, out, err = ssh("alice", cmd)
        assert code == FAIL, (cmd, out, err)
        misconfigured(gw, err)
        assert out == "", (cmd, out)
    code, out, err = ssh("alice", input="whoami\n")
    assert code == FAIL, (out, err)
    misconfigured(gw, err)
    assert tmux_sessions(DEPLOY) == ["p1"]


def test_policy_in_world_writable_directory_refused(gw, ssh, policy_edit):
    tmux_new(DEPLOY, "p1", "/bin/cat")
    policy_edit.chmod_dir(0o777)
    for cmd in COMMANDS:
        code, out, err = ssh("alice", cmd)
        assert code == FAIL, (cmd, out, err)
        misconfigured(gw, err)
    code, out, err = ssh("alice", tty=True)
    assert code == FAIL, (out, err)
    assert "the gateway is misconfigured" in out and gw.etc not in out, out
    assert tmux_sessions(DEPLOY) == ["p1"]


@pytest.mark.parametrize("mode", [0o777, 0o775], ids=["0777", "0775"])
def test_policy_symlink_in_writable_directory_refused(gw, ssh, policy_edit,
                                                      workdir, mode):
    """The policy path is a symlink to a safe copy, but the directory
    holding the link may be written by others, who could point the link
    at their own policy between muxgate's check and its read: refused at
    login (the user is told to tell the administrators; `check` names
    that directory)."""
    real = os.path.join(workdir, "gateway.yaml")
    shutil.copyfile(gw.policy, real)
    os.chmod(real, 0o644)
    os.unlink(gw.policy)
    os.symlink(real, gw.policy)
    try:
        policy_edit.chmod_dir(mode)
        code, out, err = ssh("alice", "whoami")
        assert code == FAIL, (out, err)
        assert out == "", out
        # the person logging in learns nothing of the policy's path
        misconfigured(gw, err)
        # the administrator's check names the directory
        code, out, err = gw.local("check", "-f", gw.policy)
        assert code == FAIL, (out, err)
        assert "bad permissions on %s: writable by %s" % (
            gw.etc, "everyone" if mode & 0o002 else "its group") in err, err
        # The same link is fine once nobody else may write its directory.
        policy_edit.chmod_dir(0o755)
        code, out, err = ssh("alice", "whoami --json")
        assert code == OK, (out, err)
        assert parse_json(out)["identity"] == "alice"
    finally:
        if os.path.islink(gw.policy):
            os.unlink(gw.policy)


def test_policy_copy_below_tmp_refused(gw):
    """A copy of the (good) policy in /tmp/...: /tmp is world-writable."""
    d = tempfile.mkdtemp(prefix="mgt-e2e-", dir="/tmp")
    try:
        os.chmod(d, 0o755)
        p = os.path.join(d, "gateway.yaml")
        shutil.copyfile(gw.policy, p)
        os.chmod(p, 0o644)
        code, out, err = gw.local("shell", "-f", p, "--identity", "alice",
                                  env={"SSH_ORIGINAL_COMMAND": "whoami"},
                                  user=GW)
        assert code == FAIL, (out, err)
        misconfigured(gw, err)
        assert "/tmp" not in err, err
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_policy_owned_by_other_user_refused(gw, ssh, policy_edit):
    os.chown(gw.policy, uid_of(DEPLOY), 0)
    try:
        code, out, err = ssh("alice", "whoami")
        assert code == FAIL, (out, err)
        misconfigured(gw, err)
    finally:
        os.chown(gw.policy, 0, 0)


# ---- invalid policy ----

def test_invalid_policy_schema_error(gw, ssh, policy_edit):
    text = gw.policy_text + "colour: blue\n"
    line = text.count("\n")      # the last line
    policy_edit.write(text)
    for cmd in ("whoami", "ls", "help"):
        code, out, err = ssh("alice", cmd)
        assert code == FAIL, (cmd, out, err)
        misconfigured(gw, err)
        assert "colour" not in err, err
    # The administrator's tool keeps the details.
    code, out, err = gw.local("check", "-f", gw.policy)
    assert code == FAIL, (out, err)
    assert err.startswith("%s:%d:1: " % (gw.policy, line)), err
    assert "colour" in err
    code, out, err = ssh("alice", input="whoami\n")
    assert code == FAIL, (out, err)


def test_invalid_policy_yaml_syntax(gw, ssh, policy_edit):
    policy_edit.write("hosts: [bastion\nroles: {}\n")
    code, out, err = ssh("alice", "whoami")
    assert code == FAIL, (out, err)
    misconfigured(gw, err)


def test_missing_policy_fails(gw, ssh, policy_edit):
    os.unlink(gw.policy)
    code, out, err = ssh("alice", "whoami")
    assert code == FAIL, (out, err)
    misconfigured(gw, err)


def test_policy_owned_by_gateway_user_accepted(gw, ssh, policy_edit):
    """root or the gateway user may own the policy (not group/world
    writable)."""
    os.chown(gw.policy, uid_of(GW), 0)
    try:
        code, out, err = ssh("alice", "whoami --json")
        assert code == OK, (out, err)
        assert parse_json(out)["identity"] == "alice"
    finally:
        os.chown(gw.policy, 0, 0)
