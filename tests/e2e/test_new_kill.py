"""new and kill over ssh, checked against the tmux servers directly."""
import os
import time

import pytest

from helpers import *


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read().decode().split("\0")[:-1]


def proc_uid(pid):
    return os.stat("/proc/%d" % pid).st_uid


# ---- new ----

def test_new_sets_owner_and_created(gw, ssh):
    t0 = int(time.time())
    code, out, err = ssh("alice", "new mgt-deploy@bastion:n1")
    assert code == OK, err
    t1 = int(time.time())
    assert tmux_sessions(DEPLOY) == ["n1"]
    assert tmux_option(DEPLOY, "n1", "@muxgate-owner") == "alice"
    created = tmux_option(DEPLOY, "n1", "@muxgate-created")
    assert created is not None and created.isdigit(), created
    assert t0 - 2 <= int(created) <= t1 + 2
    # The session's processes run as the tmux user.
    assert proc_uid(tmux_pane_pid(DEPLOY, "n1")) == uid_of(DEPLOY)


def test_new_create_alias(ssh):
    code, out, err = ssh("alice", "create mgt-deploy@bastion:n2")
    assert code == OK, err
    assert tmux_has(DEPLOY, "n2")


def test_new_with_command_runs_as_argv(ssh):
    code, out, err = ssh("alice", "new mgt-deploy@bastion:x -- /bin/sleep 1000")
    assert code == OK, err
    pid = tmux_pane_pid(DEPLOY, "x")
    assert wait_for(lambda: cmdline(pid) == ["/bin/sleep", "1000"], 5), \
        cmdline(pid)
    assert proc_uid(pid) == uid_of(DEPLOY)


def test_new_command_arguments_are_never_shell_expanded(ssh):
    cmd = ("new mgt-deploy@bastion:inj -- /usr/bin/tail -f /dev/null "
           "'$(touch /tmp/mgt-pwned)' \"`touch /tmp/mgt-pwned2`\" "
           "'x; touch /tmp/mgt-pwned' 'two words' '*'")
    code, out, err = ssh("alice", cmd)
    assert code == OK, err
    pid = tmux_pane_pid(DEPLOY, "inj")
    want = ["/usr/bin/tail", "-f", "/dev/null", "$(touch /tmp/mgt-pwned)",
            "`touch /tmp/mgt-pwned2`", "x; touch /tmp/mgt-pwned",
            "two words", "*"]
    assert wait_for(lambda: cmdline(pid) == want, 5), cmdline(pid)
    time.sleep(0.5)
    for f in PWNED:
        assert not os.path.exists(f), "%s was created: a shell ran" % f


@pytest.mark.parametrize("name", ["bad.name", "a/b", "x" * 65, "sp ace",
                                  "%s", "ünï"])
def test_new_bad_name_exit_2(ssh, name):
    code, out, err = ssh("alice", "new 'mgt-deploy@bastion:%s'" % name)
    assert code == USAGE, (out, err)
    one_error_line(err)
    assert tmux_sessions(DEPLOY) == []


def test_new_name_64_chars_ok(ssh):
    name = "A-_9" * 16
    code, out, err = ssh("alice", "new mgt-deploy@bastion:" + name)
    assert code == OK, err
    assert tmux_sessions(DEPLOY) == [name]


def test_new_existing_session_exit_1(ssh):
    tmux_new(DEPLOY, "dup", "/bin/cat")
    code, out, err = ssh("alice", "new mgt-deploy@bastion:dup")
    assert code == FAIL, (out, err)
    assert "session exists" in one_error_line(err)
    assert tmux_option(DEPLOY, "dup", "@muxgate-owner") is None or \
        tmux_option(DEPLOY, "dup", "@muxgate-owner") == ""


def test_new_is_not_fooled_by_prefix_match(ssh):
    """has-session -t foo would find foobar: the check must be exact."""
    tmux_new(DEPLOY, "foobar", "/bin/cat")
    code, out, err = ssh("alice", "new mgt-deploy@bastion:foo")
    assert code == OK, err
    assert sorted(tmux_sessions(DEPLOY)) == ["foo", "foobar"]
    assert tmux_option(DEPLOY, "foo", "@muxgate-owner") == "alice"
    assert tmux_option(DEPLOY, "foobar", "@muxgate-owner") in (None, "")


@pytest.mark.parametrize("command", ["-x /bin/sleep 1", "FOO=bar /bin/sleep 1",
                                     "--version"])
def test_new_command_first_word_refused(ssh, command):
    code, out, err = ssh("alice", "new mgt-deploy@bastion:c1 -- " + command)
    assert code == USAGE, (out, err)
    one_error_line(err)
    assert tmux_sessions(DEPLOY) == []


def test_new_denied_for_observer(ssh):
    code, out, err = ssh("eve", "new mgt-deploy@bastion:e1")
    assert code == DENIED, (out, err)
    one_error_line(err)
    assert tmux_sessions(DEPLOY) == []


def test_new_on_user_sudo_refuses_fails(ssh):
    code, out, err = ssh("alice", "new mgt-build@bastion:b1")
    assert code == FAIL, (out, err)
    one_error_line(err)
    assert tmux_sessions(BUILD) == []


def test_new_on_gateway_user_not_allowed(ssh):
    """alice may only list mgt-gw's sessions."""
    code, out, err = ssh("alice", "new mgt-gw@bastion:g1")
    assert code == DENIED, (out, err)
    assert tmux_sessions(GW) == []


# ---- kill ----

def test_kill_with_yes(ssh):
    tmux_new(DEPLOY, "k1", "/bin/cat")
    tmux_new(DEPLOY, "k2", "/bin/cat")
    code, out, err = ssh("alice", "kill mgt-deploy@bastion:k1 --yes")
    assert code == OK, err
    assert tmux_sessions(DEPLOY) == ["k2"]


def test_kill_without_yes_is_usage_error(ssh):
    tmux_new(DEPLOY, "k1", "/bin/cat")
    code, out, err = ssh("alice", "kill mgt-deploy@bastion:k1")
    assert code == USAGE, (out, err)
    one_error_line(err)
    assert tmux_sessions(DEPLOY) == ["k1"]


def test_kill_exact_name_only(ssh):
    tmux_new(DEPLOY, "foo", "/bin/cat")
    tmux_new(DEPLOY, "foobar", "/bin/cat")
    code, out, err = ssh("alice", "kill mgt-deploy@bastion:foo --yes")
    assert code == OK, err
    assert tmux_sessions(DEPLOY) == ["foobar"]


def test_kill_prefix_is_no_such_session(ssh):
    tmux_new(DEPLOY, "foo", "/bin/cat")
    tmux_new(DEPLOY, "foobar", "/bin/cat")
    code, out, err = ssh("alice", "kill mgt-deploy@bastion:fo --yes")
    assert code == NOSESSION, (out, err)
    one_error_line(err)
    assert sorted(tmux_sessions(DEPLOY)) == ["foo", "foobar"]


def test_kill_unique_prefix_is_no_such_session(ssh):
    """Only foobar exists: tmux -t foo would kill it."""
    tmux_new(DEPLOY, "foobar", "/bin/cat")
    code, out, err = ssh("alice", "kill mgt-deploy@bastion:foo --yes")
    assert code == NOSESSION, (out, err)
    assert tmux_sessions(DEPLOY) == ["foobar"]


def test_kill_pattern_is_no_such_session(ssh):
    """tmux also matches -t targets as fnmatch patterns."""
    tmux_new(DEPLOY, "foobar", "/bin/cat")
    code, out, err = ssh("alice", "kill 'mgt-deploy@bastion:foo*' --yes")
    assert code in (USAGE, NOSESSION), (out, err)
    assert tmux_sessions(DEPLOY) == ["foobar"]


def test_kill_missing_session_no_server(ssh):
    code, out, err = ssh("alice", "kill mgt-deploy@bastion:k1 --yes")
    assert code == NOSESSION, (out, err)


def test_kill_denied_for_observer(ssh):
    tmux_new(DEPLOY, "k1", "/bin/cat")
    code, out, err = ssh("eve", "kill mgt-deploy@bastion:k1 --yes")
    assert code == DENIED, (out, err)
    one_error_line(err)
    assert tmux_sessions(DEPLOY) == ["k1"]


# ---- kill-own: frank may kill only the sessions he made ----

def test_kill_own_session(ssh):
    code, out, err = ssh("frank", "new mgt-deploy@bastion:f1")
    assert code == OK, err
    assert tmux_option(DEPLOY, "f1", "@muxgate-owner") == "frank"
    code, out, err = ssh("frank", "kill mgt-deploy@bastion:f1 --yes")
    assert code == OK, (out, err)
    assert tmux_sessions(DEPLOY) == []


def test_kill_own_refuses_other_owners(ssh):
    code, out, err = ssh("alice", "new mgt-deploy@bastion:a1")
    assert code == OK, err
    tmux_new(DEPLOY, "d1", "/bin/cat")          # no owner at all
    for name in ("a1", "d1"):
        code, out, err = ssh("frank", "kill mgt-deploy@bastion:%s --yes" % name)
        assert code == DENIED, (name, out, err)
        one_error_line(err)
    assert sorted(tmux_sessions(DEPLOY)) == ["a1", "d1"]


def test_kill_own_hosts_json(ssh):
    code, out, err = ssh("frank", "hosts --json")
    assert code == OK, err
    assert parse_json(out) == {"hosts": [{"host": "bastion", "users": [
        {"user": "mgt-deploy", "actions": ["list", "create", "kill-own"],
         "status": "ok"}]}]}


def test_attach_prefix_is_no_such_session(ssh):
    tmux_new(DEPLOY, "foo", "/bin/cat")
    tmux_new(DEPLOY, "foobar", "/bin/cat")
    code, out, err = ssh("alice", "attach mgt-deploy@bastion:fo", tty=True)
    assert code == NOSESSION, (out, err)
    assert tmux_clients(DEPLOY) == []


def test_attach_unique_prefix_is_no_such_session(ssh):
    tmux_new(DEPLOY, "foobar", "/bin/cat")
    code, out, err = ssh("alice", "attach mgt-deploy@bastion:foo", tty=True)
    assert code == NOSESSION, (out, err)
    assert tmux_clients(DEPLOY) == []


@pytest.mark.parametrize("verb", ["attach", "watch"])
def test_attach_without_terminal(ssh, verb):
    tmux_new(DEPLOY, "a1", "/bin/cat")
    code, out, err = ssh("alice", "%s mgt-deploy@bastion:a1" % verb)
    assert code == USAGE, (out, err)
    msg = one_error_line(err)
    if verb == "attach":
        assert "attach needs a terminal (use ssh -t)" in msg
    else:
        assert "needs a terminal" in msg
    assert tmux_clients(DEPLOY) == []
