"""
Helpers of the muxgate end-to-end tests (the fixtures are in conftest.py;
test modules do `from helpers import *`, never `from conftest import *`,
which would re-define the session fixtures once per module).

End-to-end setup for muxgate: real Unix users, a real sudoers rule, a real
OpenSSH sshd whose ForceCommand is the built muxgate, real tmux servers.

Everything lives under /var/lib/mgt-e2e-<pid>/ (root-owned, 0755: muxgate
refuses policy files below world-writable directories such as /tmp) and is
removed at the end of the session, also when tests fail.  Leftovers of an
earlier crashed run (users, sudoers rule, directories, sshd) are removed
first.

Requires root.  The binary under test is $MUXGATE_BIN (default: the
repository's ./muxgate).  $MUXGATE_E2E_FORCECOMMAND replaces sshd's
ForceCommand (only to debug the set-up itself, e.g. with a script that
prints its environment).
"""
import contextlib
import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import time

import pexpect
import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MUXGATE_BIN = os.environ.get("MUXGATE_BIN", os.path.join(REPO, "muxgate"))

GW = "mgt-gw"           # the gateway account (sshd ForceCommand runs muxgate)
DEPLOY = "mgt-deploy"   # tmux user the gateway may sudo to
BUILD = "mgt-build"     # tmux user the gateway may NOT sudo to (forbidden)
KEYS_USER = "mgt-keys"  # sshd's AuthorizedKeysCommandUser (test_keys.py)
TEST_USERS = (GW, DEPLOY, BUILD, KEYS_USER)
SUDOERS = "/etc/sudoers.d/mgt-muxgate"
# test_mask.py's: a tmux user's password may run /usr/bin/true with sudo.
SUDOERS_MASK = "/etc/sudoers.d/mgt-mask"
PWNED = ("/tmp/mgt-pwned", "/tmp/mgt-pwned2")

IDENTITY_KEYS = ("alice", "bob", "carol", "dave", "eve", "frank", "unknown")

SYS_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BASE_ENV = {
    "PATH": SYS_PATH,
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "TERM": "xterm",
}

# Exit codes of the contract.
OK, FAIL, USAGE, DENIED, NOSESSION = 0, 1, 2, 3, 4


def run(cmd, check=True, env=None, timeout=60, **kw):
    """subprocess.run with text output captured and a timeout."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    if "input" not in kw:
        kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.run(cmd, env=env if env is not None else BASE_ENV,
                       timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError("command %r failed (exit %d): %s %s" % (
            cmd, p.returncode, _s(p.stdout), _s(p.stderr)))
    return p


def _s(b):
    if isinstance(b, bytes):
        return b.decode("utf-8", "replace")
    return b or ""


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def uid_of(name):
    return pwd.getpwnam(name).pw_uid


def kill_user_processes(name):
    """Kill the tmux server and every process of one of OUR test users."""
    assert name.startswith("mgt-")
    if not user_exists(name):
        return
    # SIGKILL, not `tmux kill-server`: a tmux server left busy by an
    # earlier run would not answer it.
    kill_uids({uid_of(name)})


def remove_user(name):
    assert name.startswith("mgt-")
    if not user_exists(name):
        return
    uid = uid_of(name)
    kill_user_processes(name)
    run(["userdel", "-r", "-f", name], check=False)
    if user_exists(name):
        # userdel -r fails when the home or mail spool is missing; retry
        # without -r, then remove what is left by hand.
        run(["userdel", "-f", name], check=False)
    shutil.rmtree("/home/%s" % name, ignore_errors=True)
    remove_tmux_dir(uid)


def remove_tmux_dir(uid):
    d = "/tmp/tmux-%d" % uid
    if os.path.isdir(d) and not os.path.islink(d):
        shutil.rmtree(d, ignore_errors=True)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def proc_uid(pid):
    """The real uid of process PID.  Not the owner of /proc/PID, which is
    root for a non-dumpable process such as muxgate."""
    with open("/proc/%d/status" % int(pid)) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    raise AssertionError("no Uid in /proc/%d/status" % pid)


def cleanup_leftovers():
    """Remove what an earlier crashed run may have left behind."""
    for d in glob.glob("/var/lib/mgt-e2e-*"):
        m = re.match(r"/var/lib/mgt-e2e-(\d+)$", d)
        if not m or not os.path.isdir(d) or os.path.islink(d):
            continue
        owner = int(m.group(1))
        if owner != os.getpid() and pid_alive(owner):
            continue    # another live run (not supported, but do no harm)
        pidfile = os.path.join(d, "sshd.pid")
        try:
            spid = int(open(pidfile).read().strip())
            cmdline = open("/proc/%d/cmdline" % spid, "rb").read()
            if b"sshd" in cmdline and d.encode() in cmdline:
                os.kill(spid, signal.SIGTERM)
        except (OSError, ValueError):
            pass
        shutil.rmtree(d, ignore_errors=True)
    for u in TEST_USERS:
        remove_user(u)
    for f in (SUDOERS, SUDOERS_MASK, SUDOERS_MASK + ".tmp~"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f)
    for f in PWNED:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_file(path, text, mode=0o644, owner=0):
    tmp = path + ".tmp~"
    with open(tmp, "w") as f:
        f.write(text)
    os.chown(tmp, owner, owner)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def policy_yaml(base, keys, fingerprints):
    """The test policy.  KEYS: identity -> public key line."""
    q = json.dumps   # YAML accepts JSON strings
    return """\
# muxgate e2e test policy
gateway:
  recordings: {base}/recordings
  state: {base}/state
  audit: none
  account: mgt-gw
hosts:
  bastion:
    local: true
    tmux_users: [mgt-gw, mgt-deploy, mgt-build]
    labels: {{env: test}}
  web1:
    address: 192.0.2.10
    ssh_user: ops
    tmux_users: [ops]
roles:
  operator:
    allow:
      - hosts: [bastion]
        tmux_users: [mgt-deploy, mgt-build]
        actions: [list, watch, attach, create, kill]
      - hosts: [bastion]
        tmux_users: [mgt-gw]
        actions: [list]
  observer:
    allow:
      - hosts: {{env: test}}
        tmux_users: [mgt-deploy, mgt-build]
        actions: [list, watch]
    deny:
      - hosts: [bastion]
        tmux_users: [mgt-build]
        actions: [watch]
  builder:
    allow:
      - hosts: [bastion]
        tmux_users: [mgt-deploy]
        actions: [list, create, kill-own]
identities:
  alice:
    keys: [{alice}]
    roles: [operator]
  bob:
    keys: [{bob}]
    roles: [operator]
    expires: "2020-01-01"
  carol:
    keys: [{carol}]
    roles: [operator]
    disabled: true
  dave:
    keys: [{dave}]
    roles: [operator]
    from: [192.0.2.0/24]
  eve:
    keys: [{eve_fp}]
    roles: [observer]
  frank:
    keys: [{frank}]
    roles: [builder]
""".format(base=base, alice=q(keys["alice"]), bob=q(keys["bob"]),
           carol=q(keys["carol"]), dave=q(keys["dave"]),
           eve_fp=q(fingerprints["eve"]), frank=q(keys["frank"]))


SSHD_CONFIG = """\
# muxgate e2e sshd (started by tests/e2e/conftest.py)
Port {port}
ListenAddress 127.0.0.1
AddressFamily inet
HostKey {base}/ssh_host_ed25519_key
PidFile {base}/sshd.pid
UsePAM no
StrictModes yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile {base}/authorized_keys/%u
AllowUsers {gw}
PrintMotd no
PrintLastLog no
# As Debian's default sshd_config: the client's locale reaches muxgate.
# MGT_*: test_privilege.py sends a variable of its own, which reaches
# muxgate and must go no further.
AcceptEnv LANG LC_* MGT_*
LogLevel VERBOSE
MaxStartups 50:30:100
# contrib/sshd_config.d/muxgate.conf has PermitUserEnvironment inside its
# Match block, which sshd refuses ("not allowed within a Match block"):
# it can only be set globally.
PermitUserEnvironment no
Subsystem sftp /usr/lib/openssh/sftp-server

# The same settings as contrib/sshd_config.d/muxgate.conf.
Match User {gw}
	ForceCommand {forcecommand}
	ExposeAuthInfo yes
	AuthenticationMethods publickey
	PubkeyAuthentication yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	DisableForwarding yes
	PermitTTY yes
	PermitUserRC no
	PermitTunnel no
	Banner none
"""


class Gateway:
    """Everything the tests need to talk to the gateway."""

    def __init__(self, base):
        self.base = base
        self.bin = os.path.join(base, "muxgate")
        self.etc = os.path.join(base, "etc")
        self.policy = os.path.join(self.etc, "gateway.yaml")
        self.keydir = os.path.join(base, "keys")
        self.logdir = os.path.join(base, "logs")
        self.port = None
        self.keys = {}          # name -> public key line
        self.fingerprints = {}  # name -> SHA256:...
        self.sshd = None
        self.policy_text = None

    # ---- keys ----
    def key(self, name):
        return os.path.join(self.keydir, name)

    # ---- ssh client ----
    def ssh_args(self, key, tty=False, lang=True):
        """LANG: send the client's LANG (C.UTF-8) as Debian's default
        ssh_config does (SendEnv LANG LC_*); False: send no locale."""
        args = ["/usr/bin/ssh", "-F", "/dev/null", "-i", self.key(key),
                "-p", str(self.port),
                "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=yes",
                "-o", "IdentitiesOnly=yes",
                "-o", "LogLevel=ERROR"]
        if lang:
            args += ["-o", "SendEnv=LANG"]
        args.append("-tt" if tty else "-T")
        args.append("%s@127.0.0.1" % GW)
        return args

    def ssh(self, key, *command, tty=False, input=None, timeout=30,
            lang=True):
        """Run the real ssh client; returns (exit code, stdout, stderr).

        COMMAND words are joined by ssh with spaces, exactly as a user's
        ssh would: pass one string to control the quoting muxgate sees.
        """
        args = self.ssh_args(key, tty=tty, lang=lang) + list(command)
        if isinstance(input, str):
            input = input.encode()
        kw = {"input": input} if input is not None else {}
        p = run(args, check=False, timeout=timeout, **kw)
        return p.returncode, _s(p.stdout), _s(p.stderr)

    def spawn(self, key, *command, timeout=15, dimensions=(30, 120)):
        """An interactive `ssh -tt` session under pexpect (text mode)."""
        args = self.ssh_args(key, tty=True) + list(command)
        env = dict(BASE_ENV)
        child = pexpect.spawn(args[0], args[1:], env=env, timeout=timeout,
                              dimensions=dimensions, encoding="utf-8",
                              codec_errors="replace")
        os.makedirs(self.logdir, exist_ok=True)
        child.logfile_read = open(os.path.join(
            self.logdir, "pexpect-%d-%d.log" % (time.time(), child.pid)),
            "w")
        return child

    # ---- muxgate run locally (no ssh) ----
    def local(self, *args, env=None, user=None, timeout=30):
        cmd = [self.bin] + list(args)
        e = dict(BASE_ENV)
        if env:
            e.update(env)
        if user is not None:
            cmd = ["runuser", "-u", user, "--", "env", "-i"] + \
                ["%s=%s" % kv for kv in sorted(e.items())] + cmd
        p = run(cmd, check=False, env=e, timeout=timeout)
        return p.returncode, _s(p.stdout), _s(p.stderr)

    # ---- policy manipulation (restored by the policy_edit fixture) ----
    def write_policy(self, text):
        write_file(self.policy, text)


def tmux_env():
    return {"PATH": SYS_PATH, "TERM": "xterm", "LANG": "C.UTF-8"}


def as_user(user):
    """subprocess keywords that run a command as USER the way `runuser -u
    USER` does (its groups, and HOME, SHELL, USER and LOGNAME from the
    password file), without runuser's PAM session: the tests run tmux
    this way thousands of times."""
    pw = pwd.getpwnam(user)
    return {"user": pw.pw_uid, "group": pw.pw_gid,
            "extra_groups": os.getgrouplist(user, pw.pw_gid),
            "env_add": {"HOME": pw.pw_dir, "SHELL": pw.pw_shell,
                        "USER": user, "LOGNAME": user}}


def run_as(user, cmd, env=None, **kw):
    """run() of CMD as USER (see as_user)."""
    a = as_user(user)
    e = dict(env if env is not None else BASE_ENV)
    e.update(a.pop("env_add"))
    return run(cmd, env=e, **a, **kw)


def tmux(user, *args, check=False):
    """Run tmux as USER (directly, not through muxgate)."""
    p = run_as(user, ["/usr/bin/tmux"] + list(args), check=False,
               env=tmux_env(), timeout=20)
    if check and p.returncode != 0:
        raise RuntimeError("tmux %r as %s failed: %s" % (args, user,
                                                         _s(p.stderr)))
    return p


def tmux_sessions(user):
    p = tmux(user, "list-sessions", "-F", "#{session_name}")
    if p.returncode != 0:
        return []
    return [l for l in _s(p.stdout).split("\n") if l != ""]


def tmux_new(user, name, *command):
    """Create a detached session directly as USER (no muxgate)."""
    tmux(user, "new-session", "-d", "-s", name, "-x", "100", "-y", "30",
         *command, check=True)


def tmux_has(user, name):
    return tmux(user, "has-session", "-t", "=" + name).returncode == 0


def tmux_clients(user, name=None):
    """Clients attached to USER's server (to session NAME if given)."""
    args = ["list-clients", "-F", "#{client_name} #{client_readonly}"]
    if name is not None:
        args += ["-t", "=" + name]
    p = tmux(user, *args)
    if p.returncode != 0:
        return []
    return [l for l in _s(p.stdout).split("\n") if l != ""]


def tmux_capture(user, name):
    p = tmux(user, "capture-pane", "-p", "-t", "=" + name + ":", check=True)
    return _s(p.stdout)


def tmux_option(user, name, option):
    p = tmux(user, "show-options", "-v", "-t", "=" + name + ":", option)
    return _s(p.stdout).rstrip("\n") if p.returncode == 0 else None


def tmux_pane_pid(user, name):
    p = tmux(user, "list-panes", "-t", "=" + name + ":", "-F", "#{pane_pid}",
             check=True)
    return int(_s(p.stdout).split()[0])


def pids_of_uids(uids):
    """Live processes whose real or effective uid is in UIDS, read from
    /proc/PID/status (the owner of /proc/PID is root for a process that is
    not dumpable, such as muxgate)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/status" % d) as f:
                status = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        m = re.search(r"^Uid:\s+(\d+)\s+(\d+)", status, re.M)
        if re.search(r"^State:\s+Z", status, re.M) or m is None:
            continue
        if int(m.group(1)) in uids or int(m.group(2)) in uids:
            pids.append(int(d))
    return pids


def kill_uids(uids, timeout=5.0):
    """SIGKILL every process of UIDS until none is left (as pkill -KILL -u,
    in one pass over /proc instead of one process per user)."""
    end = time.time() + timeout
    while True:
        pids = pids_of_uids(uids)
        if not pids or time.time() > end:
            return pids
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)


def kill_tmux_servers():
    """Between tests: no tmux server, no process of the test users."""
    uids = {uid_of(u) for u in TEST_USERS if user_exists(u)}
    kill_uids(uids)
    for uid in uids:
        with contextlib.suppress(FileNotFoundError):
            os.unlink("/tmp/tmux-%d/default" % uid)


def wait_for(pred, timeout=10.0, interval=0.1):
    end = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > end:
            return v
        time.sleep(interval)


# ---- small assertion helpers shared by the tests ----

def one_error_line(stderr):
    """The contract: errors are exactly one line `muxgate: MESSAGE`."""
    lines = [l for l in stderr.replace("\r\n", "\n").split("\n") if l != ""]
    assert len(lines) == 1, "expected exactly one stderr line, got %r" % stderr
    assert lines[0].startswith("muxgate: "), stderr
    return lines[0]


MISCONFIGURED_RE = re.compile(
    r"^muxgate: (access ended: )?the gateway is misconfigured; tell its "
    r"administrators \(reference ([0-9a-f]{8})\)$")


def misconfigured(gw, stderr, ended=False):
    """A broken policy as the person logging in sees it: one line, no path,
    no FILE:LINE; returns the reference the gateway's log has."""
    line = one_error_line(stderr)
    m = MISCONFIGURED_RE.match(line)
    assert m and bool(m.group(1)) == ended, line
    assert gw.base not in line and "yaml" not in line, line
    assert not re.search(r":\d+:\d+", line), line
    return m.group(2)


def parse_json(stdout):
    """Exactly one JSON document on stdout."""
    try:
        return json.loads(stdout)
    except ValueError as e:
        raise AssertionError("stdout is not exactly one JSON document (%s): %r"
                             % (e, stdout))
