#!/usr/bin/python3
"""
tests/bench/serve.py — `muxgate serve` against OpenSSH's sshd with
`ForceCommand muxgate shell`, in one run.

Both servers run at once on free loopback ports, on the same policy, the
same gateway account and the same client key:

  sshd   /usr/sbin/sshd -D, ForceCommand MUXGATE shell -f POLICY
  serve  MUXGATE serve -f POLICY --listen 127.0.0.1:PORT --user GW

Measured (a and b interleaved, the order flipped every round, so that
drift of the machine hits both alike; one warm-up round not counted):

  a. connection to first prompt: `ssh -tt` on a pseudo-terminal of this
     script, from the fork until `muxgate> ` shows on the terminal;
  b. `ls --json` round trip: `ssh -T ... ls --json` from the fork until
     ssh has exited (exit status 0 and one JSON document checked);
  c. BENCH_SESSIONS (200) concurrent attaches: that many tmux sessions
     (running cat), one `ssh -tt ... attach` client each, all attached at
     once and held BENCH_HOLD seconds; every client must stay attached
     and echo what is typed into it.  Memory per connection: the PSS
     (/proc/PID/smaps_rollup) of muxgate's own processes (serve's
     per-connection process, or sshd's two, and the `muxgate shell`
     relay), of the tmux clients and of sudo, divided by the number of
     connections.  Run for: serve with the gateway account owning the
     tmux sessions (no sudo), serve with another user owning them (sudo),
     and sshd without sudo as the baseline.

Everything is made for the run and removed afterwards, also on Ctrl-C or
SIGTERM: the Unix users mgt-bsgw (gateway account) and mgt-bstmux (tmux
user reached through sudo), /etc/sudoers.d/mgt-bench-serve, and
/var/lib/mgt-bench-serve-<pid>-XXXX (root-owned 0755: the policy, keys,
sshd config, logs, a copy of muxgate).  Leftovers of a killed run are
removed at the start.  Runs are serialised by /run/lock/mgt-bench-serve.lock.

Environment: BENCH_RUNS (40; at least 30 for the targets to mean
anything), BENCH_SESSIONS (200), BENCH_HOLD (10 s), BENCH_PHASES (abc,
or a subset; c1/c2/c3 choose the parts of c: c1 serve without sudo,
c2 serve with sudo, c3 sshd), MUXGATE_BIN (./muxgate).
Quick run: BENCH_RUNS=5 BENCH_SESSIONS=20 tests/bench/serve.py
Needs root.  Reports and exits 0; exit 1 if it cannot run or a phase
failed (a client that did not attach or did not stay attached).
"""
import contextlib
import errno
import fcntl
import glob
import json
import os
import pwd
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time

sys.dont_write_bytecode = True     # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MUXGATE = os.path.abspath(os.environ.get("MUXGATE_BIN",
                                         os.path.join(REPO, "muxgate")))
SSH = "/usr/bin/ssh"
SSHD = "/usr/sbin/sshd"
TMUX = "/usr/bin/tmux"
GW = "mgt-bsgw"
TUSER = "mgt-bstmux"
USERS = (GW, TUSER)
SUDOERS = "/etc/sudoers.d/mgt-bench-serve"
LOCK = "/run/lock/mgt-bench-serve.lock"
PREFIX = "mgt-bench-serve-%d-" % os.getpid()
PROMPT = b"muxgate> "


def env_int(name, default, lo=1):
    try:
        v = int(os.environ.get(name, default))
    except ValueError:
        sys.exit("bench: %s must be a whole number" % name)
    return max(v, lo)


RUNS = env_int("BENCH_RUNS", 40)
SESSIONS = env_int("BENCH_SESSIONS", 200)
HOLD = env_int("BENCH_HOLD", 10, lo=0)
PHASES = os.environ.get("BENCH_PHASES", "abc")
BATCH = 20

ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "USER": "root",
    "LOGNAME": "root",
    "TERM": "xterm",
    "LANG": "C.UTF-8",
}


class BenchError(Exception):
    pass


class State:
    base = None
    lockfd = None
    users_made = []
    sudoers = False
    servers = []            # Popen of sshd and serve (own process groups)
    clients = {}            # pid -> master fd (ssh on a pty)
    tmux_users = set()


ST = State()


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def run(cmd, check=True, timeout=60, env=None, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    if "input" not in kw:
        kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.run(cmd, env=env or ENV, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise BenchError("%s failed (%d): %s" % (
            " ".join(cmd), p.returncode,
            (p.stderr or b"").decode(errors="replace").strip()))
    return p


def user_exists(u):
    try:
        pwd.getpwnam(u)
        return True
    except KeyError:
        return False


# --- processes --------------------------------------------------------------

def proc_table():
    """pid -> (ppid, euid, comm, cmdline, state) of every process."""
    t = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            st = open("/proc/%s/stat" % d).read()
            status = open("/proc/%s/status" % d).read()
            cmd = open("/proc/%s/cmdline" % d, "rb").read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        rest = st[st.rindex(")") + 2:].split()
        m = re.search(r"(?m)^Uid:\s+\d+\s+(\d+)", status)
        t[int(d)] = (int(rest[1]), int(m.group(1)) if m else -1, comm,
                     cmd.replace(b"\0", b" ").decode(errors="replace")
                     .strip(), rest[0])
    return t


def children_map(t):
    kids = {}
    for pid, (ppid, *_rest) in t.items():
        kids.setdefault(ppid, []).append(pid)
    return kids


def descendants(pid, kids):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for k in kids.get(p, ()):
            out.append(k)
            todo.append(k)
    return out


def pss_kib(pid):
    """Pss and Rss of PID in KiB, or None."""
    try:
        m = {}
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("Pss", "Rss"):
                    m[k] = int(v.split()[0])
        return m
    except (OSError, ValueError):
        return None


def kill_user_procs(user):
    """SIGKILL every process of one of OUR bench users, until none is left."""
    assert user.startswith("mgt-bs")
    if not user_exists(user):
        return
    uid = pwd.getpwnam(user).pw_uid
    for _ in range(50):
        victims = [p for p, v in proc_table().items()
                   if v[1] == uid and v[4] != "Z"]
        if not victims:
            return
        for p in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
        time.sleep(0.1)


# --- set-up and clean-up ------------------------------------------------------

def take_lock():
    ST.lockfd = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(ST.lockfd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        log("another tests/bench/serve.py runs: waiting for %s" % LOCK)
        fcntl.flock(ST.lockfd, fcntl.LOCK_EX)


def remove_user(u):
    if not user_exists(u):
        return
    uid = pwd.getpwnam(u).pw_uid
    if os.path.exists("/tmp/tmux-%d/default" % uid):
        run(["runuser", "-u", u, "--", TMUX, "kill-server"], check=False,
            timeout=20)
    kill_user_procs(u)
    run(["userdel", "-r", "-f", u], check=False)
    if user_exists(u):
        run(["userdel", "-f", u], check=False)
    shutil.rmtree("/home/%s" % u, ignore_errors=True)
    d = "/tmp/tmux-%d" % uid
    if os.path.isdir(d) and not os.path.islink(d):
        shutil.rmtree(d, ignore_errors=True)


def cleanup_leftovers():
    """What a killed earlier run left (we hold the lock: none is live)."""
    for d in glob.glob("/var/lib/mgt-bench-serve-*"):
        m = re.match(r"/var/lib/mgt-bench-serve-(\d+)-[^/]+$", d)
        if not m or os.path.islink(d) or not os.path.isdir(d):
            continue
        for pidfile in glob.glob(os.path.join(d, "*.pid")):
            try:
                pid = int(open(pidfile).read().strip())
                cmd = open("/proc/%d/cmdline" % pid, "rb").read()
                if d.encode() in cmd:
                    os.killpg(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass
        shutil.rmtree(d, ignore_errors=True)
    for u in USERS:
        remove_user(u)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(SUDOERS)


def setup():
    for u in USERS:
        run(["useradd", "-m", "-d", "/home/" + u, "-s", "/bin/sh", "-c",
             "muxgate serve benchmark (tests/bench/serve.py)", u])
        ST.users_made.append(u)
        run(["usermod", "-p", "*", u])
    tmp = SUDOERS + ".tmp"
    with open(tmp, "w") as f:
        f.write("# tests/bench/serve.py; removed at the end of the run\n"
                "Defaults:%s !requiretty, !lecture, env_reset\n"
                "%s ALL=(%s) NOPASSWD: %s\n" % (GW, GW, TUSER, TMUX))
    os.chmod(tmp, 0o440)
    try:
        run(["visudo", "-cf", tmp])
        os.rename(tmp, SUDOERS)
        ST.sudoers = True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    base = ST.base = tempfile.mkdtemp(prefix=PREFIX, dir="/var/lib")
    os.chmod(base, 0o755)
    gw = pwd.getpwnam(GW)
    for d, mode, owner in (("keys", 0o700, 0), ("authorized_keys", 0o755, 0),
                           ("logs", 0o755, 0),
                           ("state", 0o700, gw.pw_uid),
                           ("recordings", 0o700, gw.pw_uid)):
        p = os.path.join(base, d)
        os.mkdir(p, mode)
        os.chown(p, owner, gw.pw_gid if owner else 0)
        os.chmod(p, mode)
    binary = os.path.join(base, "muxgate")
    shutil.copyfile(MUXGATE, binary)
    os.chmod(binary, 0o755)
    keys = {}
    for name in ("bench", "benchsudo"):
        k = os.path.join(base, "keys", name)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name,
             "-f", k])
        keys[name] = open(k + ".pub").read().split()
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
         os.path.join(base, "sshd_host_key")])
    with open(os.path.join(base, "authorized_keys", GW), "w") as f:
        for name in keys:
            f.write(" ".join(keys[name][:2]) + "\n")
    policy = os.path.join(base, "gateway.yaml")
    with open(policy, "w") as f:
        f.write("""\
# tests/bench/serve.py
gateway:
  recordings: {base}/recordings
  state: {base}/state
  audit: none
  limits:
    attaches_per_identity: {cap}
    attaches_total: {cap}
    attach_lifetime: 0
    idle_timeout: 0
    recording_max: 1T
    recording_min_free: 0%
  serve:
    max_startups: 64
    per_source_max_startups: 64         # every client is 127.0.0.1
    login_grace_time: 60s
hosts:
  bastion:
    local: true
    tmux_users: [{gw}, {tuser}]
roles:
  own:
    allow:
      - {{hosts: [bastion], tmux_users: [{gw}], actions: [list, attach]}}
  other:
    allow:
      - {{hosts: [bastion], tmux_users: [{tuser}], actions: [list, attach]}}
identities:
  bench:
    keys: ["{k1}"]
    roles: [own]
  benchsudo:
    keys: ["{k2}"]
    roles: [other]
""".format(base=base, cap=max(1000, 2 * SESSIONS), gw=GW, tuser=TUSER,
           k1=" ".join(keys["bench"][:2]),
           k2=" ".join(keys["benchsudo"][:2])))
    os.chmod(policy, 0o644)
    run([binary, "check", "-f", policy])
    return base, binary, policy


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


SSHD_CONFIG = """\
# tests/bench/serve.py
Port {port}
ListenAddress 127.0.0.1
AddressFamily inet
HostKey {base}/sshd_host_key
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
AcceptEnv LANG LC_*
LogLevel INFO
MaxStartups 64:30:400
PermitUserEnvironment no

Match User {gw}
	ForceCommand {bin} shell -f {policy}
	ExposeAuthInfo yes
	AuthenticationMethods publickey
	DisableForwarding yes
	PermitTTY yes
	PermitUserRC no
	PermitTunnel no
	Banner none
"""


def wait_listening(proc, port, what, logpath):
    end = time.time() + 15
    while time.time() < end:
        if proc.poll() is not None:
            raise BenchError("%s exited: %s" % (what, open(logpath).read()))
        try:
            with socket.create_connection(("127.0.0.1", port), 1) as s:
                s.settimeout(5)
                if s.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise BenchError("%s is not listening on %d" % (what, port))


def start_servers(base, binary, policy):
    sport, mport = free_port(), free_port()
    conf = os.path.join(base, "sshd_config")
    with open(conf, "w") as f:
        f.write(SSHD_CONFIG.format(port=sport, base=base, gw=GW, bin=binary,
                                   policy=policy))
    if not os.path.isdir("/run/sshd"):
        os.makedirs("/run/sshd", 0o755)
    run([SSHD, "-t", "-f", conf])
    slog = os.path.join(base, "logs", "sshd.log")
    with open(slog, "ab") as lf:
        sshd = subprocess.Popen([SSHD, "-D", "-e", "-f", conf],
                                stdin=subprocess.DEVNULL, stdout=lf,
                                stderr=lf, env=ENV, start_new_session=True)
    ST.servers.append(sshd)
    mlog = os.path.join(base, "logs", "serve.log")
    with open(mlog, "ab") as lf:
        serve = subprocess.Popen(
            [binary, "serve", "-f", policy, "--listen",
             "127.0.0.1:%d" % mport, "--host-key",
             os.path.join(base, "serve_host_key"), "--user", GW],
            stdin=subprocess.DEVNULL, stdout=lf, stderr=lf, env=ENV,
            start_new_session=True)
    ST.servers.append(serve)
    with open(os.path.join(base, "serve.pid"), "w") as f:
        f.write("%d\n" % serve.pid)
    wait_listening(sshd, sport, "sshd", slog)
    wait_listening(serve, mport, "muxgate serve", mlog)
    return {"sshd": (sshd, sport), "serve": (serve, mport)}


def stop_server(p):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, sig)
        try:
            p.wait(5)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, signal.SIGKILL)


def cleanup():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    for pid, fd in list(ST.clients.items()):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid, fd in list(ST.clients.items()):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        with contextlib.suppress(OSError):
            os.close(fd)
    ST.clients.clear()
    for p in ST.servers:
        stop_server(p)
    for u in reversed(ST.users_made):
        remove_user(u)
    if ST.sudoers:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(SUDOERS)
    if ST.base and os.path.isdir(ST.base):
        shutil.rmtree(ST.base, ignore_errors=True)


def on_signal(signo, frame):
    raise KeyboardInterrupt


# --- clients ---------------------------------------------------------------------

def ssh_argv(base, port, key, tty, *command):
    return [SSH, "-F", "/dev/null", "-i", os.path.join(base, "keys", key),
            "-p", str(port), "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
            "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
            "-tt" if tty else "-T", "%s@127.0.0.1" % GW] + list(command)


def spawn_tty(argv, rows=24, cols=80):
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols,
                                                       0, 0))
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            os.closerange(3, 1 << 16)
            for sig in (signal.SIGPIPE, signal.SIGINT, signal.SIGTERM,
                        signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            os.execve(argv[0], argv, ENV)
        except BaseException:
            pass
        os._exit(127)
    os.close(slave)
    fl = fcntl.fcntl(master, fcntl.F_GETFL)
    fcntl.fcntl(master, fcntl.F_SETFL, fl | os.O_NONBLOCK)
    ST.clients[pid] = master
    return pid, master


def read_some(fd):
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return b""
    except OSError as e:
        if e.errno == errno.EIO:
            return None
        raise


def reap(pid, timeout=5):
    fd = ST.clients.get(pid)
    end = time.monotonic() + timeout
    status = None
    while time.monotonic() < end:
        got, status = os.waitpid(pid, os.WNOHANG)
        if got == pid:
            break
        if fd is not None:
            select.select([fd], [], [], 0.02)
            read_some(fd)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if fd is not None:
        os.close(fd)
    ST.clients.pop(pid, None)
    return status


def time_to_prompt(base, port):
    """Seconds from fork of `ssh -tt` until the prompt is on the pty."""
    t0 = time.perf_counter()
    pid, fd = spawn_tty(ssh_argv(base, port, "bench", True))
    buf = b""
    end = t0 + 30
    while PROMPT not in buf:
        r, _, _ = select.select([fd], [], [], max(0, end - time.perf_counter()))
        if not r:
            raise BenchError("no prompt after 30 s (port %d): %r"
                             % (port, buf[-300:]))
        d = read_some(fd)
        if d is None:
            raise BenchError("ssh ended before the prompt (port %d): %r"
                             % (port, buf[-300:]))
        buf += d
    t = time.perf_counter() - t0
    os.write(fd, b"exit\r")
    status = reap(pid)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        raise BenchError("ssh -tt exit status %r (port %d)" % (status, port))
    return t


def ls_round_trip(base, port):
    t0 = time.perf_counter()
    p = subprocess.run(ssh_argv(base, port, "bench", False, "ls --json"),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=ENV, timeout=30)
    t = time.perf_counter() - t0
    if p.returncode != 0:
        raise BenchError("ls --json exit %d (port %d): %s" % (
            p.returncode, port, p.stderr.decode(errors="replace")))
    doc = json.loads(p.stdout)
    if doc["hosts"][0]["status"] != "ok":
        raise BenchError("ls --json: %r" % doc)
    return t


# --- tmux ------------------------------------------------------------------------

def tmux_as(user, *args, check=True, timeout=60):
    ST.tmux_users.add(user)
    return run(["runuser", "-u", user, "--", TMUX, "-f", "/dev/null"] +
               list(args), check=check, timeout=timeout)


def make_sessions(user, n):
    names = ["b%03d" % i for i in range(n)]
    for k in range(0, n, 50):
        cmd = []
        for name in names[k:k + 50]:
            if cmd:
                cmd.append(";")
            cmd += ["new-session", "-d", "-s", name, "-x", "80", "-y", "24",
                    "/bin/cat"]
        tmux_as(user, *cmd)
    tmux_as(user, "set-option", "-g", "status", "off")
    return names


def attached_count(user):
    p = tmux_as(user, "list-clients", "-F", "#{session_name}", check=False)
    return len(p.stdout.split())


def capture_all(user, names):
    out = b""
    for k in range(0, len(names), 50):
        cmd = []
        for name in names[k:k + 50]:
            if cmd:
                cmd.append(";")
            cmd += ["capture-pane", "-p", "-t", "=%s:" % name]
        out += tmux_as(user, *cmd).stdout
    return out.decode(errors="replace")


# --- phase c -----------------------------------------------------------------------

def drain(fds, seconds):
    """Read whatever the clients print for SECONDS; the fds that ended."""
    ended = set()
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        live = [f for f in fds if f not in ended]
        if not live:
            break
        r, _, _ = select.select(live, [], [], min(left, 0.2))
        for f in r:
            if read_some(f) is None:
                ended.add(f)
    return ended


def categorise(pid, t):
    ppid, euid, comm, cmd, _ = t[pid]
    if comm == "muxgate":
        if cmd.split()[1:2] == ["shell"]:
            return "muxgate shell"
        return "serve connection"
    if comm == "sshd":
        return "sshd connection"
    if comm.startswith("tmux"):
        return "tmux client"
    if comm == "sudo":
        return "sudo"
    return comm


def concurrent(base, servers, which, user, key, n):
    """N attached sessions through WHICH (sshd or serve) to USER's tmux."""
    proc, port = servers[which]
    names = make_sessions(user, n)
    res = {"server": which, "user": user, "n": n, "failures": [],
           "attach_s": None}
    pids = {}
    t0 = time.monotonic()
    try:
        for k in range(0, n, BATCH):
            for name in names[k:k + BATCH]:
                pid, fd = spawn_tty(ssh_argv(
                    base, port, key, True, "attach %s@bastion:%s"
                    % (user, name)))
                pids[name] = (pid, fd)
            want = min(n, k + BATCH)
            end = time.monotonic() + 60
            while attached_count(user) < want:
                ended = drain([fd for _, fd in pids.values()], 0.2)
                if ended:
                    bad = [nm for nm, (_, fd) in pids.items() if fd in ended]
                    raise BenchError("%s: %d clients ended before "
                                     "attaching: %s" % (which, len(bad),
                                                        bad[:5]))
                if time.monotonic() > end:
                    raise BenchError("%s: %d of %d attached after 60 s" % (
                        which, attached_count(user), want))
        res["attach_s"] = time.monotonic() - t0
        fds = [fd for _, fd in pids.values()]
        log("%s/%s: %d attached in %.1f s; holding %d s" % (
            which, user, n, res["attach_s"], HOLD))
        ended = drain(fds, HOLD / 2.0)
        # memory, in the middle of the hold
        t = proc_table()
        kids = children_map(t)
        cats = {}
        server_tree = descendants(proc.pid, kids)
        for q in server_tree:
            c = categorise(q, t)
            if c not in ("serve connection", "sshd connection",
                         "muxgate shell", "tmux client", "sudo"):
                continue
            m = pss_kib(q)
            if m is None:
                continue
            agg = cats.setdefault(c, {"procs": 0, "Pss": 0, "Rss": 0})
            agg["procs"] += 1
            agg["Pss"] += m["Pss"]
            agg["Rss"] += m["Rss"]
        lm = pss_kib(proc.pid)
        res["listener_pss"] = lm["Pss"] if lm else None
        res["cats"] = cats
        ssh_pss = [pss_kib(pid) for pid, _ in pids.values()]
        res["ssh_client_pss"] = sum(m["Pss"] for m in ssh_pss if m)
        ended |= drain(fds, HOLD / 2.0)
        if ended:
            res["failures"].append("%d clients ended during the hold"
                                   % len(ended))
        have = attached_count(user)
        if have != n:
            res["failures"].append("%d of %d still attached" % (have, n))
        # every session still answers: type a word, see cat's echo
        for nm, (pid, fd) in pids.items():
            os.write(fd, ("ping-%s-%d\r" % (nm, os.getpid())).encode())
        drain(fds, 2)
        screens = capture_all(user, names)
        dead = [nm for nm in names
                if "ping-%s-%d" % (nm, os.getpid()) not in screens]
        if dead:
            res["failures"].append("%d sessions did not echo: %s" % (
                len(dead), dead[:5]))
        res["alive_after_hold"] = n - len(ended)
    finally:
        for pid, fd in pids.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid, fd in pids.values():
            reap(pid, timeout=5)
        # the server's per-connection processes must go
        end = time.monotonic() + 15
        while time.monotonic() < end:
            t = proc_table()
            left = [q for q in descendants(proc.pid, children_map(t))
                    if t[q][4] != "Z"]
            if not left:
                break
            time.sleep(0.2)
        res["left_after"] = len(left)
        tmux_as(user, "kill-server", check=False)
        if user != GW:      # GW runs the serve listener
            kill_user_procs(user)
    return res


# --- the report ------------------------------------------------------------------

def pct(v, q):
    s = sorted(v)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q / 100.0
    f = int(k)
    c = min(f + 1, len(s) - 1)
    return s[f] + (s[c] - s[f]) * (k - f)


def table(head, rows):
    w = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    out = []
    for j, r in enumerate([head] + rows):
        out.append("  ".join(str(c).ljust(w[i]) if i == 0 else
                             str(c).rjust(w[i]) for i, c in enumerate(r)))
        if j == 0:
            out.append("  ".join("-" * x for x in w))
    return "\n".join(out)


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    v = run([SSHD, "-V"], check=False).stderr.decode().strip()
    lib = run(["dpkg-query", "-W", "-f", "${Version}", "libssh-4"],
              check=False).stdout.decode()
    return "%d cores, %s, Linux %s; %s; libssh %s" % (
        os.cpu_count(), model, os.uname().release, v.split(",")[0], lib)


def report(timing, conc, elapsed):
    print()
    print("muxgate serve vs OpenSSH sshd + ForceCommand muxgate shell")
    print("machine: %s" % machine())
    print("%.0f s in all" % elapsed)
    rows = []
    summary = []
    for key, what, target in (
            ("prompt", "a. connect to first prompt (ssh -tt)", 1.0),
            ("ls", "b. ls --json round trip (ssh -T)", 1.0)):
        if key not in timing:
            continue
        s, m = timing[key]["sshd"], timing[key]["serve"]
        ms, mm = statistics.median(s), statistics.median(m)
        paired = statistics.median(b / a for a, b in zip(s, m))
        print()
        print("%s: %d runs each, interleaved, ms" % (what, len(s)))
        print(table(["server", "median", "p25", "p75", "p90", "min", "max"],
                    [[n, "%.1f" % (statistics.median(v) * 1e3),
                      "%.1f" % (pct(v, 25) * 1e3), "%.1f" % (pct(v, 75) * 1e3),
                      "%.1f" % (pct(v, 90) * 1e3), "%.1f" % (min(v) * 1e3),
                      "%.1f" % (max(v) * 1e3)]
                     for n, v in (("sshd (baseline)", s), ("serve", m))]))
        print("   ratio serve/sshd of the medians: %.3f; median of the "
              "paired ratios: %.3f; target <= %.1f: %s"
              % (mm / ms, paired, target,
                 "met" if mm / ms <= target else "MISSED"))
        summary.append([what.split(":")[0], "%.1f ms" % (ms * 1e3),
                        "%.1f ms" % (mm * 1e3), "%.3f" % (mm / ms),
                        "<= 1.0", "met" if mm / ms <= target else "MISSED"])
        results.add("serve", what, mm * 1e3, "ms",
                    baseline="sshd + ForceCommand muxgate shell",
                    baseline_value=ms * 1e3, compare="ratio", paired=paired,
                    target="ratio <= %.1f" % target, judged="ratio",
                    met=mm / ms <= target)
    if conc:
        print()
        print("c. concurrent attached sessions: PSS per connection, MiB "
              "(processes per connection in brackets)")
        rows = []
        for r in conc:
            n = r["n"]
            cats = r.get("cats", {})

            def per(c):
                a = cats.get(c)
                if not a:
                    return "-"
                return "%.2f [%.1f]" % (a["Pss"] / 1024.0 / n,
                                        a["procs"] / float(n))
            own = sum(cats[c]["Pss"] for c in ("serve connection",
                                               "sshd connection",
                                               "muxgate shell") if c in cats)
            rows.append([
                "%s, tmux user %s%s" % (r["server"], r["user"],
                                        " (sudo)" if r["user"] != GW else ""),
                n, "%d" % r.get("alive_after_hold", 0),
                "%.1f" % r["attach_s"] if r["attach_s"] else "-",
                per("serve connection"), per("sshd connection"),
                per("muxgate shell"),
                "%.2f" % (own / 1024.0 / n),
                per("tmux client"), per("sudo"),
                "%.2f" % (r["ssh_client_pss"] / 1024.0 / n)
                if r.get("ssh_client_pss") else "-",
                "%.2f" % (r["listener_pss"] / 1024.0)
                if r.get("listener_pss") else "-",
                "; ".join(r["failures"]) or "none"])
            r["own"] = own / 1024.0 / n
        print(table(["run", "sessions", "held", "attach s", "serve conn",
                     "sshd conn", "muxgate shell", "server+shell",
                     "tmux client", "sudo", "ssh client", "listener",
                     "failures"], rows))
        print("   'server+shell' is muxgate's own part for serve (its "
              "connection process and the shell/relay) and sshd's two "
              "processes plus the shell for sshd.")
        base = [r for r in conc if r["server"] == "sshd"]
        for r in conc:
            if r["server"] != "serve":
                continue
            ok = r["own"] < 8.0
            summary.append([
                "c. serve+shell PSS per connection (%s)" % r["user"],
                "%.2f MiB" % base[0]["own"] if base else "-",
                "%.2f MiB" % r["own"],
                "%.3f" % (r["own"] / base[0]["own"]) if base else "-",
                "< 8 MiB", "met" if ok else "MISSED"])
            summary.append([
                "c. %d concurrent attaches held (%s)" % (r["n"], r["user"]),
                "", "%d failures" % len(r["failures"]), "", "0 failures",
                "met" if not r["failures"] else "MISSED"])
            results.add(
                "serve", "c. serve+shell PSS per connection (%s)" % r["user"],
                r["own"], "MiB",
                baseline="sshd (its two processes + the shell)"
                if base else None,
                baseline_value=base[0]["own"] if base else None,
                compare="ratio" if base else None, target="< 8 MiB",
                judged="value", met=ok)
            results.add(
                "serve", "c. %d concurrent attaches held (%s)"
                % (r["n"], r["user"]), len(r["failures"]), "failures",
                target="0 failures", judged="value", met=not r["failures"])
    print()
    print("Summary")
    print(table(["figure", "sshd (baseline)", "serve", "serve/sshd",
                 "target", ""], summary))


def main():
    if os.geteuid() != 0:
        log("must run as root (users, sudoers, sshd)")
        return 1
    if not os.access(MUXGATE, os.X_OK):
        log("%s is not built: run 'make muxgate'" % MUXGATE)
        return 1
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 16 * SESSIONS + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    start = time.monotonic()
    failed = False
    try:
        take_lock()
        cleanup_leftovers()
        base, binary, policy = setup()
        servers = start_servers(base, binary, policy)
        timing = {}
        if "a" in PHASES or "b" in PHASES:
            kinds = [k for k, p in (("prompt", "a"), ("ls", "b"))
                     if p in PHASES]
            for k in kinds:
                timing[k] = {"sshd": [], "serve": []}
            log("a/b: %d runs each, interleaved (one warm-up round)" % RUNS)
            for i in range(RUNS + 1):
                order = ("sshd", "serve") if i % 2 == 0 else ("serve", "sshd")
                for k in kinds:
                    for which in order:
                        port = servers[which][1]
                        t = (time_to_prompt if k == "prompt"
                             else ls_round_trip)(base, port)
                        if i > 0:
                            timing[k][which].append(t)
                if i % 10 == 0 and i:
                    log("round %d/%d: %s" % (i, RUNS, "  ".join(
                        "%s %s %.0f/%.0f ms" % (
                            k, "sshd/serve",
                            statistics.median(timing[k]["sshd"]) * 1e3,
                            statistics.median(timing[k]["serve"]) * 1e3)
                        for k in kinds)))
        conc = []
        if "c" in PHASES:
            parts = re.findall(r"c([123])", PHASES) or ["1", "2", "3"]
            plan = {"1": ("serve", GW, "bench"),
                    "2": ("serve", TUSER, "benchsudo"),
                    "3": ("sshd", GW, "bench")}
            for p in parts:
                which, user, key = plan[p]
                log("c%s: %d sessions through %s, tmux user %s" % (
                    p, SESSIONS, which, user))
                r = concurrent(base, servers, which, user, key, SESSIONS)
                conc.append(r)
                if r["failures"]:
                    failed = True
                    log("c%s failures: %s" % (p, "; ".join(r["failures"])))
        for which in ("sshd", "serve"):
            if servers[which][0].poll() is not None:
                failed = True
                log("%s died during the run" % which)
        report(timing, conc, time.monotonic() - start)
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        return 130
    except BenchError as e:
        log("error: %s" % e)
        return 1
    finally:
        cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
