"""
Session names that tmux reads as ids.  On tmux 3.3a `-t =$0` is the
session whose id is $0, not the one named "$0": a session someone made
outside muxgate under the id of another would let attach, watch and kill
reach that other one.  muxgate refuses such names ('$', '@', '%' or '='
first) as targets and leaves such sessions out of its listings.
"""
import pexpect
import pytest

from helpers import *
from helpers import _s
from relay_util import read_menu

VICTIM = "victim"
REFUSED = "session names starting with '$', '@', '%' or '=' are refused"


def collide():
    """VICTIM, and a session named after VICTIM's id ("$0" on a fresh
    server): returns that name, after checking that tmux's exact target
    for it really is VICTIM."""
    tmux_new(DEPLOY, VICTIM, "/bin/cat")
    p = tmux(DEPLOY, "display-message", "-p", "-t", "=" + VICTIM + ":",
             "#{session_id}", check=True)
    vid = _s(p.stdout).strip()
    assert vid.startswith("$"), vid
    tmux_new(DEPLOY, vid, "/bin/cat")
    assert sorted(tmux_sessions(DEPLOY)) == sorted([vid, VICTIM])
    # The attack as tmux sees it: "=$0" is the victim.
    p = tmux(DEPLOY, "display-message", "-p", "-t", "=" + vid + ":",
             "#{session_name}", check=True)
    assert _s(p.stdout).strip() == VICTIM
    return vid


def assert_untouched(vid):
    assert sorted(tmux_sessions(DEPLOY)) == sorted([vid, VICTIM])
    assert tmux_clients(DEPLOY) == []


@pytest.mark.parametrize("prefix", ["", "="])
def test_kill_of_id_named_session_refused(ssh, prefix):
    vid = collide()
    code, out, err = ssh("alice", "kill 'mgt-deploy@bastion:%s%s' --yes"
                         % (prefix, vid))
    assert code == USAGE, (out, err)
    assert REFUSED in one_error_line(err)
    assert_untouched(vid)


@pytest.mark.parametrize("prefix", ["", "="])
def test_attach_of_id_named_session_refused(ssh, prefix):
    vid = collide()
    code, out, err = ssh("alice", "attach 'mgt-deploy@bastion:%s%s'"
                         % (prefix, vid), tty=True)
    assert code == USAGE, (out, err)
    assert REFUSED in out + err
    assert_untouched(vid)


@pytest.mark.parametrize("prefix", ["", "="])
def test_watch_of_id_named_session_refused(ssh, prefix):
    vid = collide()
    code, out, err = ssh("eve", "watch 'mgt-deploy@bastion:%s%s'"
                         % (prefix, vid), tty=True)
    assert code == USAGE, (out, err)
    assert REFUSED in out + err
    assert_untouched(vid)


@pytest.mark.parametrize("name", ["@1", "%1"])
def test_other_id_like_names_refused(ssh, name):
    tmux_new(DEPLOY, name, "/bin/cat")
    for cmd in ("kill 'mgt-deploy@bastion:%s' --yes",
                "ls 'mgt-deploy@bastion:%s'"):
        code, out, err = ssh("alice", cmd % name)
        assert code == USAGE, (cmd, out, err)
        assert REFUSED in one_error_line(err)
    assert tmux_sessions(DEPLOY) == [name]


def test_ls_leaves_id_named_sessions_out(ssh):
    vid = collide()
    code, out, err = ssh("alice", "ls mgt-deploy@bastion")
    assert code == OK, err
    assert "mgt-deploy@bastion:" + VICTIM in out
    assert vid not in out
    assert "1 not shown: name starting with '$', '@', '%' or '='" in out
    code, out, err = ssh("alice", "ls mgt-deploy@bastion --json")
    assert code == OK, err
    host = parse_json(out)["hosts"][0]
    assert [s["name"] for s in host["sessions"]] == [VICTIM]
    assert host["hidden_sessions"] == 1
    assert_untouched(vid)


def test_menu_leaves_id_named_sessions_out(spawn):
    vid = collide()
    c = spawn("alice")
    menu = read_menu(c)
    assert "mgt-deploy@bastion:" + VICTIM in menu
    assert "mgt-deploy@bastion:" + vid not in menu
    c.sendline("exit")
    c.expect(pexpect.EOF, timeout=10)
    assert_untouched(vid)
