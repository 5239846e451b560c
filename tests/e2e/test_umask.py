"""
The umask of what muxgate starts: muxgate itself runs with umask 077 for
its own files, but a tmux server it starts, and every session in it, must
get the umask a login would (UMASK of /etc/login.defs, else 022).
"""
import os
import re
import stat

import pexpect

from helpers import *
from helpers import _s

UMASK_FILE = "/tmp/mgt-umask-file"


def login_umask():
    """UMASK of /etc/login.defs as muxgate reads it (first line wins,
    strictly octal), else 022."""
    try:
        text = open("/etc/login.defs").read()
    except OSError:
        return 0o022
    for line in text.split("\n"):
        words = line.split("#", 1)[0].split()
        if words[:1] != ["UMASK"]:
            continue
        if len(words) == 2 and re.fullmatch(r"[0-7]{1,4}", words[1]) and \
                int(words[1], 8) <= 0o777:
            return int(words[1], 8)
        return 0o022
    return 0o022


def expected_umask():
    # mgt-deploy is reached through sudo, whose default `umask` (0022) is
    # added to the caller's: what muxgate passes on, or stricter.
    return login_umask() | 0o022


def proc_umask(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    raise AssertionError("no Umask in /proc/%d/status" % pid)


def tmux_server_pid(user):
    p = tmux(user, "display-message", "-p", "#{pid}", check=True)
    return int(_s(p.stdout).strip())


def test_new_session_gets_login_umask_not_077(ssh):
    code, out, err = ssh("alice", "new mgt-deploy@bastion:um")
    assert code == OK, err
    want = expected_umask()
    shell = tmux_pane_pid(DEPLOY, "um")
    assert proc_umask(shell) == want, "%04o" % proc_umask(shell)
    assert proc_umask(tmux_server_pid(DEPLOY)) == want
    # Later sessions come from the same server: the same umask.
    code, out, err = ssh("alice", "new mgt-deploy@bastion:um2 -- "
                         "/usr/bin/sleep 1000")
    assert code == OK, err
    assert proc_umask(tmux_pane_pid(DEPLOY, "um2")) == want


def test_new_session_creates_files_with_login_umask(ssh):
    if os.path.exists(UMASK_FILE):
        os.unlink(UMASK_FILE)
    try:
        code, out, err = ssh("alice", "new mgt-deploy@bastion:touch -- "
                             "/usr/bin/touch " + UMASK_FILE)
        assert code == OK, err
        assert wait_for(lambda: os.path.exists(UMASK_FILE), 5)
        st = os.stat(UMASK_FILE)
        assert st.st_uid == uid_of(DEPLOY)
        assert stat.S_IMODE(st.st_mode) == 0o666 & ~expected_umask(), \
            "%04o" % stat.S_IMODE(st.st_mode)
    finally:
        if os.path.exists(UMASK_FILE):
            os.unlink(UMASK_FILE)


def proc_field(pid, name):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split(None, 1)[1].strip()
    return None


def test_only_children_lose_077(gw, spawn):
    """During an attach, the muxgate process keeps umask 077 for its own
    files while the tmux client it started has the login umask."""
    tmux_new(DEPLOY, "um", "/bin/cat")
    c = spawn("alice", "attach mgt-deploy@bastion:um")
    assert wait_for(lambda: tmux_clients(DEPLOY, "um"), 10)
    p = tmux(DEPLOY, "list-clients", "-t", "=um", "-F", "#{client_pid}",
             check=True)
    client = int(_s(p.stdout).split()[0])
    assert proc_umask(client) == expected_umask()
    pid, seen = client, []
    while pid > 1 and proc_field(pid, "Name") != "muxgate":
        seen.append(proc_field(pid, "Name"))
        pid = int(proc_field(pid, "PPid"))
    assert pid > 1, "no muxgate above the tmux client: %r" % seen
    assert proc_field(pid, "Uid").split()[0] == str(uid_of(GW))
    assert proc_umask(pid) == 0o077
    c.send("\x1d")          # the escape key ends the attach
    c.expect(pexpect.EOF, timeout=10)
