"""The command line as an administrator types it: every subcommand's
--help, options after operands, and what a one-shot `new` says."""
import json
import os
import secrets

import pytest

from helpers import *

SUBCOMMANDS = ("shell", "check", "serve", "replay", "prune", "reap")


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_subcommand_help(gw, sub, flag):
    code, out, err = gw.local(sub, flag)
    assert code == OK, (code, out, err)
    assert err == "", err
    assert out.startswith("usage: muxgate %s " % sub), out


@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_subcommand_help_as_gateway_account(gw, sub):
    """Help needs no policy and no privilege."""
    code, out, err = gw.local(sub, "--help", user=GW)
    assert code == OK, (code, out, err)
    assert out.startswith("usage: muxgate %s " % sub), out


@pytest.mark.parametrize("flag", ["help", "--help", "-h"])
def test_top_level_help(gw, flag):
    code, out, err = gw.local(flag)
    assert code == OK, (code, out, err)
    assert err == ""
    for sub in SUBCOMMANDS:
        assert "muxgate %s " % sub in out, out


def usage_error(err, *names):
    """Exit 2's stderr: first a line that says what was wrong (naming
    NAMES), then the usage; never the bare usage."""
    lines = err.splitlines()
    assert lines and lines[0].startswith("muxgate: "), err
    for n in names:
        assert n in lines[0], (n, err)
    assert all(l.startswith(("usage: ", "       ")) for l in lines[1:]), err
    return lines[0]


@pytest.mark.parametrize("args,names", [
    (["shell", "stray"], ["unexpected argument stray"]),
    (["shell", "--identity", "alice", "stray", "-f", "x"],
     ["unexpected argument stray"]),
    (["shell", "--bogus"], ["--bogus"]),
    (["shell", "-f"], ["-f needs a value"]),
    (["check", "stray"], ["unexpected argument stray"]),
    (["check", "--can", "alice", "list"], ["--can alice", "ACTION"]),
    (["check", "--explain", "alice", "--can", "alice", "list", "x@y"],
     ["--explain", "--can"]),
    (["check", "--can"], ["--can needs a value"]),
    (["serve", "stray"], ["unexpected argument stray"]),
    (["serve", "--user"], ["--user needs a value"]),
    (["replay"], ["no recording"]),
    (["replay", "a.cast", "b.cast"], ["b.cast"]),
    (["replay", "a.cast", "--bogus"], ["--bogus"]),
    (["replay", "a.cast", "--speed"], ["--speed needs a value"]),
])
def test_misplaced_or_bad_arguments_are_named(gw, args, names):
    code, out, err = gw.local(*args)
    assert code == USAGE, (code, out, err)
    assert out == ""
    usage_error(err, *names)


def write_cast(path):
    with open(path, "w") as f:
        f.write(json.dumps({"version": 2, "width": 80, "height": 24}) + "\n")
        f.write(json.dumps([0.05, "o", "hello-replay\r\n"]) + "\n")
        f.write(json.dumps([0.1, "o", "bye-replay\r\n"]) + "\n")


@pytest.mark.parametrize("args", [
    ["FILE", "--speed", "2"],
    ["--speed", "2", "FILE"],
    ["FILE", "--cat"],
    ["FILE", "--idle-limit", "1", "--speed", "4"],
])
def test_replay_options_after_the_file(gw, workdir, args):
    cast = os.path.join(workdir, "r.cast")
    write_cast(cast)
    code, out, err = gw.local("replay", *[cast if a == "FILE" else a
                                          for a in args])
    assert code == OK, (code, out, err)
    assert "hello-replay" in out and "bye-replay" in out, out


def test_check_options_after_the_can_operands(gw):
    code, out, err = gw.local("check", "--can", "alice", "list",
                              "mgt-deploy@bastion", "-f", gw.policy)
    assert code == OK, (code, out, err)
    assert out.startswith("allow: "), out


def test_one_shot_new_says_what_it_created(gw, ssh):
    name = "cli-" + secrets.token_hex(4)
    code, out, err = ssh("alice", "new mgt-deploy@bastion:" + name)
    assert code == OK, (code, out, err)
    assert out == "created mgt-deploy@bastion:%s\n" % name, out
    assert err == ""
    assert tmux_has(DEPLOY, name)


@pytest.mark.parametrize("command", [[], ["--", "/bin/sleep", "1000"]])
def test_new_json(gw, ssh, command):
    name = "cli-" + secrets.token_hex(4)
    code, out, err = ssh("alice", " ".join(
        ["new", "mgt-deploy@bastion:" + name, "--json"] + command))
    assert code == OK, (code, out, err)
    assert out.count("\n") == 1, out
    assert parse_json(out) == {"host": "bastion", "user": DEPLOY,
                               "session": name, "owner": "alice",
                               "expires": None}
    assert tmux_has(DEPLOY, name)


def test_new_refused_says_nothing_on_stdout(gw, ssh):
    code, out, err = ssh("eve", "new mgt-deploy@bastion:cli-no")
    assert code == DENIED, (code, out, err)
    assert out == ""
    one_error_line(err)
