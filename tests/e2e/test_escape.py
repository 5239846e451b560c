"""Names and tags coming from tmux are attacker-controlled (the tmux user
can set them): they never reach the terminal as raw control bytes."""
import re

from helpers import *

ESC_NAME = "x\x1b]0;pwn\x07y"
EVIL_OWNER = "ev\x1b]0;il\x07\x1b[2J\x7f"


def raw_ssh(gw, key, command):
    """Like gw.ssh but returns stdout as bytes, unmodified."""
    p = run(gw.ssh_args(key) + [command], check=False)
    return p.returncode, p.stdout, p.stderr


def setup_sessions():
    tmux_new(DEPLOY, ESC_NAME, "/bin/cat")
    tmux_new(DEPLOY, "o1", "/bin/cat")
    tmux(DEPLOY, "set-option", "-t", "=o1:", "@muxgate-owner", EVIL_OWNER,
         check=True)
    names = tmux_sessions(DEPLOY)
    assert len(names) == 2
    return [n for n in names if n != "o1"][0]


def test_ls_text_has_no_raw_control_bytes(gw):
    setup_sessions()
    for cmd in ("ls", "ls mgt-deploy@bastion"):
        code, out, err = raw_ssh(gw, "alice", cmd)
        assert code == OK, err
        assert b"pwn" in out
        assert b"mgt-deploy@bastion:o1" in out
        ctl = [b for b in out if (b < 0x20 and b not in (0x09, 0x0a)) or b == 0x7f]
        assert not ctl, "raw control bytes %r in %r" % (ctl, out)


def test_ls_json_has_no_raw_control_bytes(gw):
    real_name = setup_sessions()
    code, out, err = raw_ssh(gw, "alice", "ls mgt-deploy@bastion --json")
    assert code == OK, err
    assert b"\x1b" not in out and b"\x07" not in out
    doc = parse_json(out.decode())
    names = {s["name"]: s for s in doc["hosts"][0]["sessions"]}
    # JSON carries the real session names (escaped by JSON, not altered)
    assert set(names) == {real_name, "o1"}, names
    owner = names["o1"]["owner"]
    assert owner is None or not re.search(r"[\x00-\x1f\x7f]", owner), owner
