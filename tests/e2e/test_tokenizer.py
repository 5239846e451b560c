"""The command line is not a shell: metacharacters, quotes, control
characters, long lines, file transfer attempts."""
import os
import subprocess

import pytest

from helpers import *

METACHAR = [
    ("ls; id", ";"),
    ("ls | id", "|"),
    ("ls && id", "&"),
    ("ls `id`", "`"),
    ("ls $(id)", "$"),
    ("ls $HOME", "$"),
    ("ls > /tmp/mgt-pwned", ">"),
    ("ls < /etc/passwd", "<"),
    ("ls (x)", "("),
    ("ls *", "*"),
    ("ls mgt-deploy@bastion:?", "?"),
    ("ls [a]", "["),
    ("ls {a,b}", "{"),
    ("ls ~", "~"),
    ("ls !!", "!"),
    ("ls a\\ b", "\\"),
    ("whoami;touch /tmp/mgt-pwned", ";"),
    ("new mgt-deploy@bastion:t1; touch /tmp/mgt-pwned", ";"),
    ("new mgt-deploy@bastion:t1 -- /bin/sleep 100 & touch /tmp/mgt-pwned", "&"),
    ("new mgt-deploy@bastion:t1 -- /bin/sleep $(touch /tmp/mgt-pwned)", "$"),
]


@pytest.mark.parametrize("cmd,char", METACHAR, ids=[m[0] for m in METACHAR])
def test_shell_metacharacters_refused(ssh, cmd, char):
    code, out, err = ssh("alice", cmd)
    assert code == USAGE, (out, err)
    msg = one_error_line(err)
    assert msg == ("muxgate: '%s' is not allowed here: this is not a shell "
                   "(quote it if you mean it literally)" % char), msg
    assert out == ""
    assert tmux_sessions(DEPLOY) == []
    for f in PWNED:
        assert not os.path.exists(f)


def test_quoted_words(gw, ssh):
    code, out, err = ssh("alice", "'whoami' \"--json\"")
    assert code == OK, err
    assert parse_json(out)["identity"] == "alice"


def test_quotes_group_words(ssh):
    """Inside quotes nothing is special, and no backslash escapes."""
    code, out, err = ssh("alice",
                         "new mgt-deploy@bastion:q1 -- /usr/bin/tail -f "
                         "/dev/null 'a\\' \"b;c\" '\"'")
    assert code == OK, err
    pid = tmux_pane_pid(DEPLOY, "q1")
    want = ["/usr/bin/tail", "-f", "/dev/null", "a\\", "b;c", '"']
    got = wait_for(lambda: open("/proc/%d/cmdline" % pid, "rb").read()
                   .decode().split("\0")[:-1] == want, 5)
    assert got, open("/proc/%d/cmdline" % pid, "rb").read()


@pytest.mark.parametrize("cmd", ["ls 'mgt-deploy@bastion", "ls \"x",
                                 "whoami '", "new mgt-deploy@bastion:u1 -- "
                                 "/bin/sleep '100"])
def test_unclosed_quote(ssh, cmd):
    code, out, err = ssh("alice", cmd)
    assert code == USAGE, (out, err)
    one_error_line(err)
    assert tmux_sessions(DEPLOY) == []


@pytest.mark.parametrize("ctl", ["\x1b[31m", "\x07", "\x7f", "\x01"])
def test_control_characters_refused(ssh, ctl):
    code, out, err = ssh("alice", "ls mgt-deploy@bastion" + ctl)
    assert code == USAGE, (out, err)
    one_error_line(err)
    assert "\x1b" not in err


def test_long_line_refused(ssh):
    code, out, err = ssh("alice", "ls " + "a" * 5000)
    assert code == USAGE, (out, err)
    one_error_line(err)


def test_long_line_refused_in_batch(ssh):
    code, out, err = ssh("alice", input="ls " + "a" * 5000 +
                         "\nnew mgt-deploy@bastion:l1\n")
    assert code == USAGE, (out, err)
    assert tmux_sessions(DEPLOY) == []


# ---- file transfer ----

TRANSFER = ["sftp", "scp -t /tmp/mgt-pwned", "scp -f /etc/passwd",
            "scp -r -t /tmp", "rsync --server -e.LsfxC . /tmp/mgt-pwned",
            "internal-sftp", "/usr/lib/openssh/sftp-server",
            "sftp-server"]


@pytest.mark.parametrize("cmd", TRANSFER)
def test_file_transfer_commands_refused(ssh, cmd):
    code, out, err = ssh("alice", cmd)
    assert code == USAGE, (out, err)
    one_error_line(err)
    assert out == ""
    assert not os.path.exists("/tmp/mgt-pwned")


def _client_opts(gw):
    return ["-F", "/dev/null", "-i", gw.key("alice"),
            "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "-o", "LogLevel=ERROR"]


def _no_new_files(gw, before):
    after = set(os.listdir("/home/" + GW))
    assert after == before, after - before
    assert not os.path.exists("/tmp/mgt-pwned")


def test_sftp_client_fails(gw, workdir):
    before = set(os.listdir("/home/" + GW))
    batch = os.path.join(workdir, "batch")
    local = os.path.join(workdir, "local-copy")
    with open(batch, "w") as f:
        f.write("put /etc/hostname /tmp/mgt-pwned\n"
                "put /etc/hostname upload\n"
                "get /etc/passwd %s\n" % local)
    p = run(["/usr/bin/sftp", "-P", str(gw.port), "-b", batch] +
            _client_opts(gw) + ["%s@127.0.0.1" % GW], check=False)
    assert p.returncode != 0, p.stdout
    assert not os.path.exists(local)
    _no_new_files(gw, before)


@pytest.mark.parametrize("legacy", [False, True], ids=["sftp-mode", "scp-mode"])
def test_scp_upload_fails(gw, workdir, legacy):
    before = set(os.listdir("/home/" + GW))
    src = os.path.join(workdir, "src")
    with open(src, "w") as f:
        f.write("payload\n")
    p = run(["/usr/bin/scp"] + (["-O"] if legacy else []) +
            ["-P", str(gw.port)] + _client_opts(gw) +
            [src, "%s@127.0.0.1:/tmp/mgt-pwned" % GW], check=False)
    assert p.returncode != 0, p.stderr
    p = run(["/usr/bin/scp"] + (["-O"] if legacy else []) +
            ["-P", str(gw.port)] + _client_opts(gw) +
            [src, "%s@127.0.0.1:upload" % GW], check=False)
    assert p.returncode != 0, p.stderr
    _no_new_files(gw, before)


@pytest.mark.parametrize("legacy", [False, True], ids=["sftp-mode", "scp-mode"])
def test_scp_download_fails(gw, workdir, legacy):
    dst = os.path.join(workdir, "dst")
    p = run(["/usr/bin/scp"] + (["-O"] if legacy else []) +
            ["-P", str(gw.port)] + _client_opts(gw) +
            ["%s@127.0.0.1:/etc/passwd" % GW, dst], check=False)
    assert p.returncode != 0, p.stderr
    assert not os.path.exists(dst)
