#!/usr/bin/python3
"""
testhosts — a fleet of fake remote hosts on this machine, for muxgate's
remote-host tests and benchmarks.

    /usr/bin/python3 tests/hosts/testhosts.py up N --dir DIR [options]
    /usr/bin/python3 tests/hosts/testhosts.py down --dir DIR [--prefix P]

Every host i of the fleet is a real OpenSSH sshd (`/usr/sbin/sshd -D -e -f
CONFIG`, UsePAM no) listening on its own loopback address 127.0.0.(B+i)
(B = --addr-base, 10 by default) and a free port, with its own ed25519
host key and its own accounts: the ssh_user PREFIXi-ops (mgt-h0-ops, ...),
which logs in with the gateway's key, and the tmux user PREFIXi-app, which
PREFIXi-ops may run /usr/bin/tmux as through sudo (one sudoers file for the
fleet, /etc/sudoers.d/PREFIX-testhosts, 0440, checked with visudo -cf).

Besides the healthy hosts, a fleet may have hosts of these kinds, numbered
after the healthy ones:

    stopped    an address and port with nothing listening (connection refused)
    hung       a listener that accepts TCP connections and never sends a byte
    mismatch   a working sshd whose known_hosts entry is another key
    unknown    a working sshd with no known_hosts entry at all
    forbidden  a working sshd whose ops account has no sudoers rule

Everything lives in DIR, which must be below /var/lib (root-owned and
closed to others all the way up: sshd's StrictModes checks the
AuthorizedKeysFile's directories, muxgate the policy's):

    DIR/fleet.json              what `down` needs (and what `up` printed)
    DIR/gateway_key[.pub]       the gateway's key (unless --pubkey is given)
    DIR/known_hosts             [127.0.0.X]:PORT ssh-ed25519 ... per host
    DIR/authorized_keys/USER    root-owned 0755 directory, 0644 files
    DIR/PREFIXi/                sshd_config, host key, pid file, log
    DIR/state/                  with --gateway-account: gateway.state

`up` prints the policy fragment (gateway.ssh settings and `hosts:`), or
with --json the fleet description.  `down` stops every sshd and listener it
started, kills the users' processes and the ssh ControlMaster processes
whose ControlPath is under DIR, removes the users, the sudoers file and
DIR.  Both are idempotent: `up` first removes what a crashed run with the
same DIR or the same PREFIX left behind.  /run/sshd is created when
missing and never removed.

Root only.  As a module: Fleet(dir, ...).up(n, stopped=1, ...), .down(),
.hosts, .policy_hosts(), .gateway_ssh() -- see the class.
"""
import argparse
import contextlib
import json
import os
import pwd
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time

SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = "/usr/bin/ssh-keygen"
TMUX = "/usr/bin/tmux"
SYS_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ENV = {"PATH": SYS_PATH, "HOME": "/root", "LANG": "C.UTF-8"}
KINDS = ("ok", "stopped", "hung", "mismatch", "unknown", "forbidden")
SELF = os.path.abspath(__file__)

SSHD_CONFIG = """\
# testhosts fake remote host {name} (tests/hosts/testhosts.py)
Port {port}
ListenAddress {address}
AddressFamily inet
HostKey {hdir}/ssh_host_ed25519_key
PidFile {hdir}/sshd.pid
UsePAM no
StrictModes yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthenticationMethods publickey
AuthorizedKeysFile {dir}/authorized_keys/%u
AllowUsers {ssh_user}
PermitRootLogin no
PermitUserEnvironment no
PrintMotd no
PrintLastLog no
AcceptEnv LANG LC_*
LogLevel {loglevel}
# Many gateways' first connections may arrive at once (a fleet-wide ls).
MaxStartups 200:30:400
"""


class Error(Exception):
    pass


def run(cmd, check=True, timeout=60, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.run(cmd, env=ENV, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise Error("%s failed (exit %d): %s" % (
            " ".join(cmd), p.returncode,
            (p.stderr or b"").decode("utf-8", "replace").strip()))
    return p


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def write_file(path, text, mode=0o644, uid=0, gid=0):
    tmp = path + ".tmp~"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chown(tmp, uid, gid)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def mkdir(path, mode=0o755, uid=0, gid=0):
    os.mkdir(path, mode)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def free_port(address):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((address, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def processes():
    """(pid, cmdline) of every process but this one."""
    me = os.getpid()
    for e in os.listdir("/proc"):
        if e.isdigit() and int(e) != me:
            c = cmdline(int(e))
            if c:
                yield int(e), c


def kill_wait(pids, timeout=5.0):
    """SIGTERM, then SIGKILL what is left after TIMEOUT; reaps our children."""
    pids = set(pids)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in list(pids):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pids.discard(pid)
        end = time.monotonic() + timeout
        while pids and time.monotonic() < end:
            for pid in list(pids):
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)
                if not os.path.exists("/proc/%d" % pid) or \
                        _zombie(pid):
                    pids.discard(pid)
            time.sleep(0.02)
        if not pids:
            return


def _zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def kill_control_masters(directory):
    """Kill the ssh ControlMaster processes whose ControlPath is under
    DIRECTORY (ssh titles a backgrounded master `ssh: PATH [mux]`)."""
    directory = os.path.realpath(directory).rstrip("/") + "/"
    pids = [pid for pid, c in processes()
            if c.startswith("ssh: " + directory) and "[mux]" in c]
    kill_wait(pids, 3.0)
    return len(pids)


def kill_user_processes(name):
    if not user_exists(name):
        return
    uid = pwd.getpwnam(name).pw_uid
    sock = "/tmp/tmux-%d/default" % uid
    if os.path.exists(sock):
        run(["runuser", "-u", name, "--", TMUX, "kill-server"], check=False,
            timeout=10)
    for _ in range(100):
        pids = uid_processes(uid)
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def uid_processes(uid):
    """Live processes with UID as their real, effective or saved uid."""
    out = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/status" % e) as f:
                st = f.read()
        except OSError:
            continue
        m = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", st, re.M)
        z = re.search(r"^State:\s+Z", st, re.M)
        if m and not z and str(uid) in m.groups():
            out.append(int(e))
    return out


def remove_user(name):
    if not user_exists(name):
        return
    uid = pwd.getpwnam(name).pw_uid
    kill_user_processes(name)
    run(["userdel", "-r", "-f", name], check=False)
    if user_exists(name):
        run(["userdel", "-f", name], check=False)
    shutil.rmtree("/home/" + name, ignore_errors=True)
    d = "/tmp/tmux-%d" % uid
    if os.path.isdir(d) and not os.path.islink(d):
        shutil.rmtree(d, ignore_errors=True)


def add_user(name, comment):
    run(["useradd", "-m", "-d", "/home/" + name, "-s", "/bin/sh",
         "-c", comment, name])
    # '!' (useradd's default) is a locked account for sshd with UsePAM no.
    run(["usermod", "-p", "*", name])
    d = "/tmp/tmux-%d" % pwd.getpwnam(name).pw_uid
    if os.path.isdir(d) and not os.path.islink(d):
        shutil.rmtree(d, ignore_errors=True)


def wait_banner(address, port, deadline):
    """True once ADDRESS:PORT answers with an SSH banner."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, port), timeout=1) as s:
                s.settimeout(2)
                if s.recv(64).startswith(b"SSH-"):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def check_dir(path):
    """DIR must be below /var/lib, never below /tmp, and every existing
    directory above it root-owned and closed to others."""
    path = os.path.abspath(path)
    if os.path.realpath(os.path.dirname(path)) != os.path.dirname(path):
        raise Error("%s: the directories above it may not be symlinks" % path)
    if not path.startswith("/var/lib/") or path.count("/") < 3 or \
            path.rstrip("/") in ("/var/lib",):
        raise Error("%s: the fleet directory must be below /var/lib" % path)
    p = os.path.dirname(path)
    while True:
        st = os.lstat(p)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or \
                st.st_mode & 0o022:
            raise Error("%s: must be a root-owned directory closed to others"
                        % p)
        if p == "/":
            break
        p = os.path.dirname(p)
    return path


class Host:
    def __init__(self, fleet, index, kind):
        self.index = index
        self.kind = kind
        self.id = "%s%d" % (fleet.prefix, index)          # mgt-h0
        self.name = "%s%d" % (fleet.name_prefix, index)   # h0 (policy name)
        self.address = "127.0.0.%d" % (fleet.addr_base + index)
        self.port = None
        self.ssh_user = self.id + "-ops"
        self.app_user = self.id + "-app"
        self.dir = os.path.join(fleet.dir, self.id)
        self.pid = None
        self.proc = None

    @property
    def tmux_users(self):
        return [self.app_user]

    @property
    def has_accounts(self):
        return self.kind not in ("stopped", "hung")

    @property
    def has_sshd(self):
        return self.kind not in ("stopped", "hung")

    def to_dict(self):
        return {"name": self.name, "kind": self.kind, "address": self.address,
                "port": self.port, "ssh_user": self.ssh_user,
                "tmux_users": self.tmux_users, "id": self.id,
                "dir": self.dir, "pid": self.pid}

    @classmethod
    def from_dict(cls, fleet, d):
        h = cls.__new__(cls)
        h.index = int(re.search(r"(\d+)$", d["id"]).group(1))
        h.kind = d["kind"]
        h.id = d["id"]
        h.name = d["name"]
        h.address = d["address"]
        h.port = d["port"]
        h.ssh_user = d["ssh_user"]
        h.app_user = d["tmux_users"][0]
        h.dir = d["dir"]
        h.pid = d.get("pid")
        h.proc = None
        return h


class Fleet:
    """A fleet of fake remote hosts under DIR.

    prefix: account and directory prefix (mgt-h -> mgt-h0-ops, mgt-h0-app);
      two fleets with different prefixes and directories can coexist.
    name_prefix: the hosts' policy names (default: prefix less "mgt-": h0).
    addr_base: host i listens on 127.0.0.(addr_base + i).
    key_owner: an existing account (the gateway's) that gets the generated
      private key (0600) and the known_hosts file (0644).
    gateway_account: create the account PREFIX-gw as key_owner, with
      DIR/state (0700) for gateway.state; removed by down().
    pubkey: use this public key line/file for the gateway instead of
      generating DIR/gateway_key.
    """

    def __init__(self, dir, prefix="mgt-h", name_prefix=None, addr_base=10,
                 key_owner=None, gateway_account=False, pubkey=None,
                 loglevel="INFO"):
        if not re.match(r"^mgt-[a-z][a-z0-9]*$", prefix) or len(prefix) > 16:
            raise Error("bad prefix %r: expected mgt-LETTERS" % prefix)
        self.dir = check_dir(dir)
        self.prefix = prefix
        self.name_prefix = name_prefix or prefix[len("mgt-"):]
        self.addr_base = addr_base
        self.gateway_user = prefix + "-gw" if gateway_account else key_owner
        self.gateway_account = gateway_account
        self.pubkey = pubkey
        self.loglevel = loglevel
        self.hosts = []
        self.sudoers = "/etc/sudoers.d/%s-testhosts" % prefix
        self.identity_file = os.path.join(self.dir, "gateway_key")
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        self.state = os.path.join(self.dir, "state") if gateway_account \
            else None
        self.connect_timeout = "5s"
        self._logs = []

    # ---- queries ----
    def kind(self, kind):
        return [h for h in self.hosts if h.kind == kind]

    def host(self, name):
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)

    def gateway_ssh(self):
        return {"identity_file": self.identity_file,
                "known_hosts": self.known_hosts,
                "connect_timeout": self.connect_timeout}

    def gateway_yaml(self, indent=0):
        """The `gateway:` keys (ssh, and state with gateway_account)."""
        p = " " * indent
        out = ""
        if self.state:
            out += "%sstate: %s\n" % (p, json.dumps(self.state))
        out += "%sssh:\n" % p
        for k, v in self.gateway_ssh().items():
            out += "%s  %s: %s\n" % (p, k, json.dumps(v))
        return out

    def policy_hosts(self, indent=2, labels=None, hosts=None,
                     extra_users=False):
        """Entries for the policy's `hosts:` mapping.  LABELS: extra labels;
        every host also gets testhosts: PREFIX and kind: KIND.
        EXTRA_USERS: list the ssh_user among the tmux users too."""
        p = " " * indent
        out = ""
        for h in hosts if hosts is not None else self.hosts:
            lab = {"testhosts": self.prefix, "kind": h.kind}
            lab.update(labels or {})
            users = h.tmux_users + ([h.ssh_user] if extra_users else [])
            out += "%s%s:\n" % (p, h.name)
            out += "%s  address: %s\n" % (p, h.address)
            out += "%s  port: %d\n" % (p, h.port)
            out += "%s  ssh_user: %s\n" % (p, h.ssh_user)
            out += "%s  tmux_users: [%s]\n" % (p, ", ".join(users))
            out += "%s  labels: {%s}\n" % (p, ", ".join(
                "%s: %s" % (k, json.dumps(v)) for k, v in lab.items()))
        return out

    def fragment(self):
        return ("# testhosts %s: %d hosts under %s\n"
                "# remove with: testhosts.py down --dir %s\n"
                "gateway:\n%shosts:\n%s" % (
                    self.prefix, len(self.hosts), self.dir, self.dir,
                    self.gateway_yaml(2), self.policy_hosts(2)))

    def to_dict(self):
        return {"dir": self.dir, "prefix": self.prefix,
                "name_prefix": self.name_prefix, "addr_base": self.addr_base,
                "gateway_user": self.gateway_user,
                "gateway_account": self.gateway_account,
                "sudoers": self.sudoers, "state": self.state,
                "gateway_ssh": self.gateway_ssh(),
                "hosts": [h.to_dict() for h in self.hosts]}

    def _save(self):
        write_file(os.path.join(self.dir, "fleet.json"),
                   json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, dir):
        """The fleet `up` described in DIR/fleet.json."""
        with open(os.path.join(check_dir(dir), "fleet.json")) as f:
            d = json.load(f)
        fl = cls(d["dir"], prefix=d["prefix"], name_prefix=d["name_prefix"],
                 addr_base=d["addr_base"],
                 key_owner=None if d["gateway_account"] else d["gateway_user"],
                 gateway_account=d["gateway_account"])
        fl.connect_timeout = d["gateway_ssh"]["connect_timeout"]
        fl.identity_file = d["gateway_ssh"]["identity_file"]
        fl.hosts = [Host.from_dict(fl, h) for h in d["hosts"]]
        return fl

    # ---- up ----
    def up(self, n, stopped=0, hung=0, mismatch=0, unknown=0, forbidden=0,
           connect_timeout="5s", timeout=30.0):
        if os.geteuid() != 0:
            raise Error("testhosts must run as root")
        self.connect_timeout = connect_timeout
        kinds = (["ok"] * n + ["stopped"] * stopped + ["hung"] * hung +
                 ["mismatch"] * mismatch + ["unknown"] * unknown +
                 ["forbidden"] * forbidden)
        if self.addr_base + len(kinds) > 254:
            raise Error("too many hosts for 127.0.0.%d and up"
                        % self.addr_base)
        self.cleanup()
        try:
            self._up(kinds, timeout)
        except BaseException:
            self.down()
            raise
        return self

    def _up(self, kinds, timeout):
        if not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", 0o755)      # sshd's privsep directory
        mkdir(self.dir)
        write_file(os.path.join(self.dir, ".testhosts"), self.prefix + "\n")
        self.hosts = [Host(self, i, k) for i, k in enumerate(kinds)]
        self._save()        # from here on, down() knows what to remove

        gw_uid = gw_gid = 0
        if self.gateway_account:
            add_user(self.gateway_user, "muxgate testhosts gateway")
        if self.gateway_user:
            pw = pwd.getpwnam(self.gateway_user)
            gw_uid, gw_gid = pw.pw_uid, pw.pw_gid
        if self.state:
            mkdir(self.state, 0o700, gw_uid, gw_gid)

        # the gateway's key
        if self.pubkey:
            if os.path.isfile(self.pubkey):
                pub = open(self.pubkey).read().strip()
            else:
                pub = self.pubkey.strip()
            self.identity_file = None
        else:
            run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C",
                 "%s-gateway" % self.prefix, "-f", self.identity_file])
            os.chown(self.identity_file, gw_uid, gw_gid)
            os.chmod(self.identity_file, 0o600)
            pub = open(self.identity_file + ".pub").read().strip()
        decoy = os.path.join(self.dir, "decoy_host_key")
        run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "decoy",
             "-f", decoy])
        decoy_pub = open(decoy + ".pub").read().split()[:2]

        # accounts and sudoers
        rules = []
        for h in self.hosts:
            if not h.has_accounts:
                continue
            add_user(h.ssh_user, "muxgate testhosts %s ssh_user" % h.name)
            add_user(h.app_user, "muxgate testhosts %s tmux user" % h.name)
            if h.kind != "forbidden":
                rules.append("Defaults:%s !requiretty, !lecture\n"
                             "%s ALL=(%s) NOPASSWD: %s\n" % (
                                 h.ssh_user, h.ssh_user, h.app_user, TMUX))
        if rules:
            tmp = "/etc/sudoers.d/.%s-testhosts.tmp" % self.prefix
            write_file(tmp, "# testhosts %s (%s); removed by its down\n%s" % (
                self.prefix, self.dir, "".join(rules)), mode=0o440)
            try:
                run(["visudo", "-cf", tmp])
                os.rename(tmp, self.sudoers)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)

        akdir = os.path.join(self.dir, "authorized_keys")
        mkdir(akdir)
        for h in self.hosts:
            if h.has_accounts:
                write_file(os.path.join(akdir, h.ssh_user), pub + "\n")

        # host keys, configs, known_hosts
        known = []
        for h in self.hosts:
            mkdir(h.dir, 0o755)
            if h.kind == "stopped":
                h.port = free_port(h.address)
                continue
            if h.kind == "hung":
                continue
            key = os.path.join(h.dir, "ssh_host_ed25519_key")
            run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C",
                 "%s-host" % h.id, "-f", key])
            h.port = free_port(h.address)
            kt = open(key + ".pub").read().split()[:2]
            if h.kind == "mismatch":
                kt = decoy_pub
            if h.kind != "unknown":
                known.append("[%s]:%d %s %s\n" % (h.address, h.port, kt[0],
                                                  kt[1]))
            write_file(os.path.join(h.dir, "sshd_config"), SSHD_CONFIG.format(
                name=h.name, port=h.port, address=h.address, hdir=h.dir,
                dir=self.dir, ssh_user=h.ssh_user, loglevel=self.loglevel))
        write_file(self.known_hosts, "".join(known), 0o644, gw_uid, gw_gid)
        self._save()

        # start everything, then wait for all of it
        for h in self.hosts:
            if h.has_sshd:
                conf = os.path.join(h.dir, "sshd_config")
                run([SSHD, "-t", "-f", conf])
                log = open(os.path.join(h.dir, "sshd.log"), "ab")
                self._logs.append(log)
                h.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", conf],
                                          stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=log, env=ENV,
                                          start_new_session=True)
                h.pid = h.proc.pid
            elif h.kind == "hung":
                h.port, h.proc = self._start_hung(h)
                h.pid = h.proc.pid
            self._save()
        deadline = time.monotonic() + timeout
        for h in self.hosts:
            if h.has_sshd:
                if not wait_banner(h.address, h.port, deadline):
                    raise Error("sshd of %s (%s:%d) did not start: %s" % (
                        h.name, h.address, h.port, self._log_tail(h)))
            elif h.kind == "hung":
                if not self._accepts(h, deadline):
                    raise Error("hung host %s does not accept" % h.name)
        for log in self._logs:
            log.close()
        self._logs = []
        return self

    def _start_hung(self, h):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((h.address, 0))
        s.listen(128)
        log = open(os.path.join(h.dir, "hung.log"), "ab")
        self._logs.append(log)
        try:
            p = subprocess.Popen(
                [sys.executable if sys.executable else "/usr/bin/python3",
                 SELF, "_hang", "--fd", str(s.fileno()), "--tag", h.id,
                 "--dir", self.dir],
                pass_fds=(s.fileno(),), stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, env=ENV, start_new_session=True)
            return s.getsockname()[1], p
        finally:
            s.close()

    @staticmethod
    def _accepts(h, deadline):
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((h.address, h.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    @staticmethod
    def _log_tail(h):
        try:
            with open(os.path.join(h.dir, "sshd.log"), "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return "(no log)"

    # ---- for tests ----
    def host_key(self, h):
        """H's current public host key (type and base64)."""
        with open(os.path.join(h.dir, "ssh_host_ed25519_key.pub")) as f:
            return " ".join(f.read().split()[:2])

    def served_key(self, h):
        """The ed25519 key H's sshd presents now (ssh-keyscan), or None."""
        p = run(["ssh-keyscan", "-T", "2", "-t", "ed25519", "-p",
                 str(h.port), h.address], check=False, timeout=10)
        for line in p.stdout.decode().splitlines():
            f = line.split()
            if len(f) >= 3 and not line.startswith("#"):
                return " ".join(f[1:3])
        return None

    def rekey(self, h, restore=False, timeout=10.0):
        """Give H's sshd a new host key (its known_hosts entry is left
        alone, so the gateway must see a changed key), or with RESTORE put
        the original back.  sshd -D re-executes itself on SIGHUP."""
        if not h.has_sshd or h.proc is None and h.pid is None:
            raise Error("%s has no sshd" % h.name)
        key = os.path.join(h.dir, "ssh_host_ed25519_key")
        orig = key + ".orig"
        if restore:
            if not os.path.exists(orig):
                return
            os.replace(orig, key)
            os.replace(orig + ".pub", key + ".pub")
        else:
            if not os.path.exists(orig):
                os.replace(key, orig)
                os.replace(key + ".pub", orig + ".pub")
            for f in (key, key + ".pub"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f)
            run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C",
                 "%s-host-rekeyed" % h.id, "-f", key])
        want = self.host_key(h)
        os.kill(h.pid, signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.served_key(h) == want:
                return
            time.sleep(0.1)
        raise Error("sshd of %s does not serve its new key" % h.name)

    def kill_tmux_servers(self):
        """Kill every process of the fleet's tmux users."""
        for h in self.hosts:
            if h.has_accounts:
                kill_user_processes(h.app_user)

    # ---- down ----
    def down(self):
        """Stop and remove everything of this fleet (also after a crash)."""
        for log in self._logs:
            with contextlib.suppress(Exception):
                log.close()
        self._logs = []
        if os.path.isdir(self.dir):
            kill_control_masters(self.dir)
        self._stop_processes()
        users = set()
        for h in self.hosts:
            users.update((h.ssh_user, h.app_user))
        users.update(self._leftover_users())
        if self.gateway_account and self.gateway_user:
            users.add(self.gateway_user)
        for u in sorted(users):
            remove_user(u)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.sudoers)
        with contextlib.suppress(FileNotFoundError):
            os.unlink("/etc/sudoers.d/.%s-testhosts.tmp" % self.prefix)
        if os.path.isdir(self.dir) and not os.path.islink(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)

    # Leftovers of a crashed run: by DIR and by PREFIX.
    def cleanup(self):
        if os.path.lexists(self.dir):
            if os.path.islink(self.dir) or not os.path.isdir(self.dir):
                raise Error("%s exists and is not a directory" % self.dir)
            if os.listdir(self.dir) and not os.path.exists(
                    os.path.join(self.dir, ".testhosts")):
                raise Error("%s exists, is not empty and was not made by "
                            "testhosts: refusing to remove it" % self.dir)
            with contextlib.suppress(Exception):
                old = Fleet.load(self.dir)
                old.down()
        self.down()

    def _leftover_users(self):
        pat = re.compile(r"^%s(\d+-(ops|app)|-gw)$" % re.escape(self.prefix))
        return [p.pw_name for p in pwd.getpwall() if pat.match(p.pw_name)]

    def _stop_processes(self):
        """Our sshds and hung listeners: by pid when known, else (crashed
        runs) by the config path or tag in their command line."""
        sshd_pat = re.compile(r"%s/%s\d+/sshd_config\b" % (
            re.escape(self.dir), re.escape(self.prefix)))
        any_pat = re.compile(r"/%s\d+/sshd_config\b" % re.escape(self.prefix))
        hang_pat = re.compile(r"testhosts\.py _hang .*--tag %s\d+\b" %
                              re.escape(self.prefix))
        pids = []
        for pid, c in processes():
            if ("sshd" in c and (sshd_pat.search(c) or any_pat.search(c))
                    and "[priv]" not in c) or hang_pat.search(c):
                pids.append(pid)
        for h in self.hosts:
            if h.proc is not None and h.proc.poll() is None:
                pids.append(h.proc.pid)
        kill_wait(set(pids))
        for h in self.hosts:
            if h.proc is not None:
                with contextlib.suppress(Exception):
                    h.proc.wait(1)
                h.proc = None


# ---- the hung host: accepts, reads and discards, never sends ----

def hang(fd):
    ls = socket.socket(fileno=fd)
    conns = []
    while True:
        r, _, _ = select.select([ls] + conns, [], [], 60)
        for s in r:
            if s is ls:
                c, _ = ls.accept()
                conns.append(c)
                continue
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                s.close()
                conns.remove(s)


def _interrupt(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="testhosts.py",
        description="Fake remote hosts (sshd, accounts, sudoers) for muxgate.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("up", help="start N healthy hosts (and others)")
    u.add_argument("n", type=int)
    u.add_argument("--dir", required=True)
    u.add_argument("--prefix", default="mgt-h")
    u.add_argument("--name-prefix", default=None)
    u.add_argument("--addr-base", type=int, default=10)
    for k in KINDS[1:]:
        u.add_argument("--" + k, type=int, default=0, metavar="K",
                       help="K %s hosts" % k)
    u.add_argument("--key-owner", default=None,
                   help="existing account that gets the private key")
    u.add_argument("--gateway-account", action="store_true",
                   help="create PREFIX-gw to own the key and DIR/state")
    u.add_argument("--pubkey", default=None,
                   help="the gateway's public key (file or line) to "
                   "authorize instead of generating one")
    u.add_argument("--connect-timeout", default="5s")
    u.add_argument("--json", action="store_true")
    d = sub.add_parser("down", help="stop and remove a fleet")
    d.add_argument("--dir", required=True)
    d.add_argument("--prefix", default=None,
                   help="also when DIR/fleet.json is gone (default mgt-h)")
    h = sub.add_parser("_hang")
    h.add_argument("--fd", type=int, required=True)
    h.add_argument("--tag", required=True)
    h.add_argument("--dir", required=True)
    a = ap.parse_args(argv)

    if a.cmd == "_hang":
        hang(a.fd)
        return 0
    if os.geteuid() != 0:
        print("testhosts: must run as root", file=sys.stderr)
        return 1
    # Ctrl-C or SIGTERM during `up` still runs its clean-up.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if a.cmd == "up":
            fl = Fleet(a.dir, prefix=a.prefix, name_prefix=a.name_prefix,
                       addr_base=a.addr_base, key_owner=a.key_owner,
                       gateway_account=a.gateway_account, pubkey=a.pubkey)
            fl.up(a.n, connect_timeout=a.connect_timeout,
                  **{k: getattr(a, k) for k in KINDS[1:]})
            if a.json:
                print(json.dumps(fl.to_dict(), indent=1))
            else:
                sys.stdout.write(fl.fragment())
        else:
            try:
                fl = Fleet.load(a.dir)
                if a.prefix and a.prefix != fl.prefix:
                    Fleet(a.dir, prefix=a.prefix).down()
            except (OSError, ValueError, KeyError):
                fl = Fleet(a.dir, prefix=a.prefix or "mgt-h")
            fl.down()
    except Error as e:
        print("testhosts: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("testhosts: interrupted (what was started is removed)",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
