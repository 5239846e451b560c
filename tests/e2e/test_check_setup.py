"""
`muxgate check`'s warnings about the system around the policy, on real
accounts and real sudoers rules: a gateway account of its own (mgt-lpgw,
with a root-owned home below the test directory and /bin/sh), a tmux user
(mgt-lpt1), and the rule `mgt-lpgw ALL=(mgt-lpt1) NOPASSWD: /usr/bin/tmux`
in /etc/sudoers.d/mgt-lp-check (checked with visudo -cf, removed at the
end).  The clean set-up warns about nothing; each test then makes one
thing dangerous, as an attacker or a careless administrator would, and
expects exactly its warning, the "OK" line and exit 0.
"""
import contextlib
import os
import shutil

import pytest

from helpers import *
from helpers import _s

LPGW = "mgt-lpgw"
LPT = "mgt-lpt1"
SUDOERS_LP = "/etc/sudoers.d/mgt-lp-check"
W = "muxgate: warning: setup: "
CLEAN_RULE = "%s ALL=(%s) NOPASSWD: /usr/bin/tmux\n" % (LPGW, LPT)


def install_sudoers(text):
    tmp = "/etc/sudoers.d/.mgt-lp-check.tmp"
    with open(tmp, "w") as f:
        f.write("# muxgate e2e tests (test_check_setup.py)\n" + text)
    os.chmod(tmp, 0o440)
    try:
        run(["visudo", "-cf", tmp])
        os.rename(tmp, SUDOERS_LP)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def remove_all():
    for u in (LPGW, LPT):
        remove_user(u)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(SUDOERS_LP)


class Setup:
    def __init__(self, gw):
        self.gw = gw
        self.top = os.path.join(gw.base, "lp")      # root 0755
        self.home = os.path.join(self.top, "home")  # the gateway's home
        self.policy = os.path.join(gw.etc, "lp.yaml")

    def write_policy(self, tmux_users=(LPT,), account=LPGW):
        write_file(self.policy, """\
gateway:
  audit: none
  account: {account}
  recordings: {base}/recordings
  state: {base}/state
hosts:
  bastion:
    local: true
    tmux_users: [{users}]
roles: {{}}
identities: {{}}
""".format(account=account, base=self.gw.base, users=", ".join(tmux_users)))

    def check(self, user=None):
        """muxgate check on the set-up's policy: (code, out, warnings)."""
        code, out, err = self.gw.local("check", "-f", self.policy, user=user)
        assert code == OK, (code, out, err)
        assert out == "%s: OK\n" % self.policy, out
        lines = [l for l in err.split("\n") if l != ""]
        for l in lines:
            assert l.startswith(W), "not a setup warning: %r" % l
        return [l[len(W):] for l in lines]

    def reset(self):
        """The clean set-up."""
        run(["usermod", "-s", "/bin/sh", LPGW])
        shutil.rmtree(self.home, ignore_errors=True)
        os.chmod(self.top, 0o755)
        os.mkdir(self.home, 0o755)
        os.chmod(self.home, 0o755)
        install_sudoers(CLEAN_RULE)
        self.write_policy()


@pytest.fixture(scope="module")
def lp(gw):
    remove_all()
    s = Setup(gw)
    try:
        os.mkdir(s.top, 0o755)
        os.chmod(s.top, 0o755)
        run(["useradd", "-M", "-d", s.home, "-s", "/bin/sh", "-c",
             "muxgate e2e check-setup gateway", LPGW])
        run(["useradd", "-m", "-d", "/home/" + LPT, "-s", "/bin/sh", "-c",
             "muxgate e2e check-setup tmux user", LPT])
        yield s
    finally:
        remove_all()
        shutil.rmtree(s.top, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(s.policy)


@pytest.fixture
def setup(lp):
    lp.reset()
    yield lp
    lp.reset()


def test_clean_setup_warns_about_nothing(setup):
    assert setup.check() == []


def test_not_root_says_sudo_was_not_checked(setup):
    assert setup.check(user=LPGW) == [
        "not run as root: the sudo rights of the gateway account and the "
        "tmux users were not checked"]


def test_gateway_account_as_tmux_user(setup):
    setup.write_policy(tmux_users=(LPT, LPGW))
    assert setup.check() == [
        "host bastion: tmux user %s is the gateway account: whoever may "
        "create or attach there runs commands as the account that may run "
        "tmux as every tmux user" % LPGW]


def test_root_as_tmux_user(setup):
    setup.write_policy(tmux_users=(LPT, "root"))
    got = setup.check()
    assert got[0] == ("host bastion: tmux user root has uid 0: whoever may "
                      "create or attach there is root"), got
    # And whatever sudo rights root has here, each one line.
    assert all(l.startswith("tmux user root may use sudo: ")
               for l in got[1:]), got


def test_tmux_user_who_can_sudo(setup):
    install_sudoers(CLEAN_RULE + "%s ALL=(root) NOPASSWD: /usr/bin/id\n"
                    % LPT)
    assert setup.check() == [
        "tmux user %s may use sudo: (root) NOPASSWD: /usr/bin/id" % LPT]


@pytest.mark.parametrize("rule,why", [
    ("(ALL) NOPASSWD: /usr/bin/tmux", "as any user (ALL)"),
    ("(root) NOPASSWD: /usr/bin/tmux", "as root"),
    ("(%s) NOPASSWD: ALL" % LPT, "any command (ALL)"),
    ("(%s) NOPASSWD: /usr/bin/tmux, /bin/sh" % LPT,
     "a command other than tmux without arguments"),
    ("(%s) NOPASSWD: /usr/bin/tmux -L other" % LPT,
     "a command other than tmux without arguments"),
    ("(%s) NOPASSWD:SETENV: /usr/bin/tmux" % LPT,
     "SETENV: the caller may set the environment"),
    ("(%s : root) NOPASSWD: /usr/bin/tmux" % LPT, "with a runas group"),
    ("(%s, %s) NOPASSWD: /usr/bin/tmux" % (LPT, GW),
     "as a user that is not a local tmux user"),
])
def test_gateway_sudo_rights_beyond_tmux(setup, rule, why):
    install_sudoers("%s ALL=%s\n" % (LPGW, rule))
    got = setup.check()
    assert len(got) == 1, got
    prefix = "the gateway account %s may run more than tmux as the tmux " \
        "users: " % LPGW
    assert got[0].startswith(prefix) and got[0].endswith(": " + why), got
    # sudo -l shows the rule its own way (tags in its order): the runas
    # list is there as written.
    assert got[0][len(prefix):].startswith(rule.split(")")[0] + ")"), got


def test_home_owned_by_the_account(setup):
    os.chown(setup.home, uid_of(LPGW), -1)
    assert setup.check() == [
        "the gateway account's home %s is owned by %s, not root: whoever "
        "can write it can add files that sshd, the login shell and tmux read there"
        % (setup.home, LPGW)]


@pytest.mark.parametrize("mode,who", [(0o775, "its group"),
                                      (0o757, "everyone"),
                                      (0o1777, "everyone")])
def test_home_or_parent_writable_by_others(setup, mode, who):
    os.chmod(setup.home, mode)
    assert setup.check() == [
        "the gateway account's home %s is writable by %s: whoever can write "
        "it can add files that sshd, the login shell and tmux read there"
        % (setup.home, who)]
    os.chmod(setup.home, 0o755)
    os.chmod(setup.top, mode)
    assert setup.check() == [
        "the directory %s is writable by %s: whoever can write it can "
        "replace the gateway account's home" % (setup.top, who)]


@pytest.mark.parametrize("name", [".bashrc", ".profile", ".ssh/rc",
                                  ".ssh/environment", ".ssh/authorized_keys",
                                  ".tmux.conf", ".zshenv"])
def test_file_the_account_can_write(setup, name):
    path = os.path.join(setup.home, name)
    os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
    write_file(path, "# planted\n", mode=0o644, owner=uid_of(LPGW))
    assert setup.check() == [
        "in the gateway account's home, %s is owned by %s, not root: "
        "whoever can write it can run code as the gateway account before "
        "muxgate starts"
        % (path, LPGW)]
    # Root's, but anyone may write it: as bad.
    os.chown(path, 0, 0)
    os.chmod(path, 0o666)
    assert setup.check() == [
        "in the gateway account's home, %s is writable by everyone: "
        "whoever can write it can run code as the gateway account before "
        "muxgate starts"
        % path]
    # Root's and 0644: fine.
    os.chmod(path, 0o644)
    assert setup.check() == []


def test_dot_ssh_directory_of_the_account(setup):
    d = os.path.join(setup.home, ".ssh")
    os.mkdir(d, 0o700)
    os.chown(d, uid_of(LPGW), -1)
    assert setup.check() == [
        "in the gateway account's home, %s is owned by %s, not root: "
        "whoever can write it can run code as the gateway account before "
        "muxgate starts"
        % (d, LPGW)]


def test_root_owned_link_to_a_file_the_account_writes(setup, workdir):
    """A root-owned symbolic link is judged by what it points to."""
    target = os.path.join(workdir, "bashrc")
    write_file(target, "# planted\n", owner=uid_of(LPGW))
    link = os.path.join(setup.home, ".bashrc")
    os.symlink(target, link)
    got = setup.check()
    assert got == [
        "in the gateway account's home, %s is owned by %s, not root: "
        "whoever can write it can run code as the gateway account before "
        "muxgate starts"
        % (link, LPGW)], got


@pytest.mark.parametrize("shell", ["/bin/bash", "/usr/bin/zsh",
                                   "/bin/rbash"])
def test_login_shell_that_reads_startup_files(setup, shell):
    run(["usermod", "-s", shell, LPGW])
    assert setup.check() == [
        "the gateway account's login shell is %s: sshd runs the ForceCommand "
        "through it, and a shell other than sh may read startup files first "
        "(bash ~/.bashrc, zsh ~/.zshenv): use /bin/sh" % shell]


@pytest.mark.parametrize("shell", ["/bin/sh", "/bin/dash", "/usr/sbin/nologin",
                                   "/bin/false"])
def test_login_shells_that_read_nothing(setup, shell):
    run(["usermod", "-s", shell, LPGW])
    assert setup.check() == []


def test_muxgate_as_login_shell(setup):
    run(["usermod", "-s", setup.gw.bin, LPGW])
    assert setup.check() == []


def test_no_such_account(setup):
    setup.write_policy(account="mgt-lpnobody")
    assert setup.check() == [
        "no account mgt-lpnobody on this machine (gateway.account)"]


def test_warnings_do_not_hide_errors(setup, workdir):
    """A policy that does not load is still exit 1 and no warnings."""
    os.chown(setup.home, uid_of(LPGW), -1)
    bad = os.path.join(workdir, "bad.yaml")
    write_file(bad, open(setup.policy).read() + "colour: blue\n")
    code, out, err = setup.gw.local("check", "-f", bad)
    assert code == FAIL, (out, err)
    assert W not in err and "colour" in err, err
