"""Sanity checks of the fixture itself (not of muxgate): when these fail,
every other failure is probably an environment problem."""
import os
import stat

from helpers import *


def test_sudoers_rule_allows_deploy_only(gw):
    ok = run(["runuser", "-u", GW, "--", "sudo", "-n", "-u", DEPLOY, "--",
              "/usr/bin/tmux", "-V"], check=False)
    assert ok.returncode == 0, ok.stderr
    no = run(["runuser", "-u", GW, "--", "sudo", "-n", "-u", BUILD, "--",
              "/usr/bin/tmux", "-V"], check=False)
    assert no.returncode != 0
    assert no.stderr.startswith(b"sudo:"), no.stderr


def test_test_directory_is_safe_for_policies(gw):
    for p in (gw.base, gw.etc, gw.policy, gw.bin):
        st = os.stat(p)
        assert st.st_uid == 0
        assert st.st_mode & 0o022 == 0, p
    assert stat.S_IMODE(os.stat(gw.key("alice")).st_mode) == 0o600


def test_sshd_is_listening(gw):
    assert gw.sshd.poll() is None
    with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as s:
        assert s.recv(64).startswith(b"SSH-2.0-")
