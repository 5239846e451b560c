"""Batch mode: `ssh -T gateway < file` (no command, stdin not a tty)."""
import os

from helpers import *


def test_batch_runs_every_line(ssh):
    script = ("# a comment line\n"
              "\n"
              "whoami --json\n"
              "   \n"
              "new mgt-deploy@bastion:b1\n"
              "# another comment\n"
              "new mgt-deploy@bastion:b2 -- /bin/sleep 1000\n"
              "ls mgt-deploy@bastion:b1\n")
    code, out, err = ssh("alice", input=script)
    assert code == OK, (out, err)
    assert err == ""
    assert sorted(tmux_sessions(DEPLOY)) == ["b1", "b2"]
    assert '"identity"' in out and "alice" in out
    assert "mgt-deploy@bastion:b1" in out
    # no banner, no menu, no prompt
    assert "muxgate>" not in out
    assert "logged in as" not in out
    assert " 1) " not in out


def test_batch_stops_at_first_failure_exit_4(ssh):
    script = ("new mgt-deploy@bastion:b1\n"
              "ls mgt-deploy@bastion:nosuch\n"
              "new mgt-deploy@bastion:b2\n")
    code, out, err = ssh("alice", input=script)
    assert code == NOSESSION, (out, err)
    one_error_line(err)
    assert tmux_sessions(DEPLOY) == ["b1"]


def test_batch_stops_at_first_failure_exit_2(ssh):
    script = ("new mgt-deploy@bastion:c1\n"
              "ls; id\n"
              "new mgt-deploy@bastion:c2\n")
    code, out, err = ssh("alice", input=script)
    assert code == USAGE, (out, err)
    assert tmux_sessions(DEPLOY) == ["c1"]


def test_batch_stops_at_first_failure_exit_3(ssh):
    script = ("ls ops@web1\n"
              "new mgt-deploy@bastion:d1\n")
    code, out, err = ssh("alice", input=script)
    assert code == DENIED, (out, err)
    assert tmux_sessions(DEPLOY) == []


def test_batch_stops_at_first_failure_exit_1(ssh):
    tmux_new(DEPLOY, "dup", "/bin/cat")
    script = ("new mgt-deploy@bastion:dup\n"
              "new mgt-deploy@bastion:d2\n")
    code, out, err = ssh("alice", input=script)
    assert code == FAIL, (out, err)
    assert tmux_sessions(DEPLOY) == ["dup"]


def test_batch_kill_needs_yes(ssh):
    tmux_new(DEPLOY, "k1", "/bin/cat")
    tmux_new(DEPLOY, "k2", "/bin/cat")
    code, out, err = ssh("alice", input="kill mgt-deploy@bastion:k1\n"
                                        "kill mgt-deploy@bastion:k2 --yes\n")
    assert code == USAGE, (out, err)
    assert sorted(tmux_sessions(DEPLOY)) == ["k1", "k2"]
    code, out, err = ssh("alice", input="kill mgt-deploy@bastion:k2 --yes\n")
    assert code == OK, (out, err)
    assert tmux_sessions(DEPLOY) == ["k1"]


def test_batch_attach_needs_terminal(ssh):
    tmux_new(DEPLOY, "a1", "/bin/cat")
    code, out, err = ssh("alice", input="attach mgt-deploy@bastion:a1\n"
                                        "new mgt-deploy@bastion:a2\n")
    assert code == USAGE, (out, err)
    assert "needs a terminal" in one_error_line(err)
    assert tmux_sessions(DEPLOY) == ["a1"]
    assert tmux_clients(DEPLOY) == []


def test_batch_exit_stops(ssh):
    code, out, err = ssh("alice", input="whoami\nexit\nnew mgt-deploy@bastion:e1\n")
    assert code == OK, (out, err)
    assert tmux_sessions(DEPLOY) == []


def test_batch_empty_input(ssh):
    code, out, err = ssh("alice", input="")
    assert code == OK, (out, err)
    assert out == "" and err == ""


def test_batch_no_trailing_newline(ssh):
    code, out, err = ssh("alice", input="new mgt-deploy@bastion:n1")
    assert code == OK, (out, err)
    assert tmux_sessions(DEPLOY) == ["n1"]
