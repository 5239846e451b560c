"""
Helpers of tests/e2e/test_audit.py: the audit daemon, ausearch, a syslog
listener and the capability muxgate needs to write audit records.

Nothing here is a fixture (the fixtures are in test_audit.py); the test
module imports `from audit_util import *` next to `from helpers import *`.

Records are read back with the real ausearch, twice per query: without -i
(the raw text, where the hex encoding of values can be checked byte for
byte) and with -i (what an administrator sees); both are matched by the
record's serial number.  ausearch always gets --input-logs: without it,
ausearch reads stdin when stdin is not a terminal.
"""
import contextlib
import os
import re
import signal
import socket
import subprocess
import threading
import time

from helpers import BASE_ENV, GW, SYS_PATH, pid_alive, run, uid_of, _s

AUDITD = "/sbin/auditd"
AUDITD_PIDFILE = "/run/auditd.pid"
DEV_LOG = "/dev/log"
CAP_AUDIT_WRITE = 29            # linux/capability.h
ALL_TYPES = ("USER_AUTH", "USER_ACCT", "USER_CMD", "USER_START", "USER_END",
             "USER_ERR", "TRUSTED_APP")
# Fields muxgate writes through audit_encode_nv_string: always either
# "quoted" or hex.  (op= is a fixed word; the numbers are plain decimal.)
STRING_FIELDS = ("identity", "key", "host", "tmux_user", "session", "owner",
                 "attach", "attach_mode", "recording", "rec_hash", "reason",
                 "ref")
NUMBER_FIELDS = ("bytes_in", "bytes_out", "duration", "rec_bytes", "ttl")
# muxgate's fields in the order audit.c writes them.
FIELD_ORDER = STRING_FIELDS[:10] + NUMBER_FIELDS + ("ref", "reason")
# What libaudit appends after muxgate's own fields.
LIBAUDIT_FIELDS = ("exe", "hostname", "addr", "terminal", "res")

# ausearch parses -ts with strptime("%x"), so the date is written in the
# same locale ausearch runs in: C.
AUSEARCH_ENV = dict(BASE_ENV, LC_ALL="C", LANG="C")


# ---- the audit daemon ----

def audit_status():
    """`auditctl -s` as a dict of ints, or (None, why) if the kernel
    refuses (no audit support, no CAP_AUDIT_CONTROL in a container)."""
    try:
        p = run(["auditctl", "-s"], check=False, env=AUSEARCH_ENV)
    except FileNotFoundError:
        return None, "auditctl not found (Debian package auditd)"
    if p.returncode != 0:
        return None, "auditctl -s failed (%d): %s" % (
            p.returncode, (_s(p.stderr) + _s(p.stdout)).strip())
    st = {}
    for line in _s(p.stdout).splitlines():
        parts = line.split()
        if len(parts) >= 2 and re.fullmatch(r"-?\d+", parts[1]):
            st[parts[0]] = int(parts[1])
    if "pid" not in st or "enabled" not in st:
        return None, "cannot parse auditctl -s: %r" % _s(p.stdout)
    return st, None


def daemon_pid():
    """The pid the kernel knows as its audit daemon (0: none)."""
    st, _ = audit_status()
    if st is None:
        return 0
    pid = st["pid"]
    return pid if pid > 0 and pid_alive(pid) else 0


def start_auditd():
    """Start /sbin/auditd (it daemonizes); return its pid, or raise."""
    p = run([AUDITD], check=False, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (
            AUDITD, p.returncode, (_s(p.stderr) + _s(p.stdout)).strip()))
    deadline = time.time() + 15
    while time.time() < deadline:
        pid = daemon_pid()
        if pid:
            return pid
        time.sleep(0.1)
    raise RuntimeError("%s started but never registered with the kernel "
                       "(auditctl -s shows no pid)" % AUDITD)


def stop_auditd(pid):
    """Stop the audit daemon PID (only ever one this module started) and
    wait until it is gone and unregistered."""
    if not pid_alive(pid):
        return
    with contextlib.suppress(OSError, ValueError):
        fpid = int(open(AUDITD_PIDFILE).read().strip())
        assert fpid == pid, "%s says %d, the kernel %d" % (
            AUDITD_PIDFILE, fpid, pid)
    cmd = open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0")[0]
    assert os.path.basename(cmd) == b"auditd", cmd
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 15
    while time.time() < deadline:
        if not pid_alive(pid) and daemon_pid() == 0:
            break
        time.sleep(0.1)
    else:
        raise RuntimeError("auditd (pid %d) did not stop" % pid)
    # auditd removes its pid file on a clean exit; muxgate's daemon check
    # (without CAP_AUDIT_CONTROL) reads it.
    deadline = time.time() + 5
    while os.path.exists(AUDITD_PIDFILE) and time.time() < deadline:
        time.sleep(0.1)


def probe(tag, timeout=15):
    """Send a user record with auditctl -m and wait for ausearch to see it:
    proves that records reach the log ausearch reads."""
    since = time.time()
    run(["auditctl", "-m", "muxgate-e2e-probe %s" % tag], env=AUSEARCH_ENV)
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = ausearch(["-m", "USER"], since)
        if tag in out:
            return True
        time.sleep(0.2)
    return False


# ---- ausearch ----

def ts_args(since):
    """-ts for SINCE (epoch seconds), one second early: -ts is per second."""
    t = time.localtime(int(since) - 1)
    return ["-ts", time.strftime("%m/%d/%y", t), time.strftime("%H:%M:%S", t)]


def ausearch(args, since, interpret=False):
    """Raw text of `ausearch --input-logs [-i] -ts SINCE ARGS` ('' when
    nothing matched: ausearch then exits 1 with <no matches>)."""
    cmd = ["ausearch", "--input-logs"] + (["-i"] if interpret else []) + \
        ts_args(since) + list(args)
    p = run(cmd, check=False, env=AUSEARCH_ENV, timeout=60)
    err = _s(p.stderr)
    if p.returncode != 0 and "<no matches>" not in err:
        raise RuntimeError("%r failed (%d): %s" % (cmd, p.returncode, err))
    return _s(p.stdout)


RAW_RE = re.compile(r"^type=(\w+) msg=audit\((\d+\.\d+):(\d+)\): (.*)$")
INTERP_RE = re.compile(r"^type=(\w+) msg=audit\([^)]*:(\d+)\) : ")


class Record:
    """One user-space audit record: type, time, serial, pid, uid, the raw
    msg='...' text, its fields in order (pairs) and the `ausearch -i` line."""

    def __init__(self, line):
        m = RAW_RE.match(line)
        assert m, "unexpected ausearch line %r" % line
        self.line = line
        self.type, self.time, self.serial = m.group(1), float(m.group(2)), \
            m.group(3)
        body = m.group(4).split("\x1d")[0]     # log_format=ENRICHED
        i = body.find(" msg='")
        assert i >= 0 and body.endswith("'"), "no msg='...' in %r" % line
        self.head = dict(kv.split("=", 1) for kv in body[:i].split()
                         if "=" in kv)
        self.pid = int(self.head.get("pid", "-1"))
        self.uid = int(self.head.get("uid", "-1"))
        self.msg = body[i + len(" msg='"):-1]
        self.pairs = []
        for word in self.msg.split(" "):
            k, sep, v = word.partition("=")
            assert sep, "a word without '=' in %r" % self.msg
            self.pairs.append((k, v))
        self.interp = None

    def names(self):
        return [k for k, v in self.pairs]

    def raw(self, name):
        vals = [v for k, v in self.pairs if k == name]
        assert len(vals) <= 1, "field %s %d times in %r" % (
            name, len(vals), self.msg)
        return vals[0] if vals else None

    def get(self, name, default=None):
        """The decoded value of NAME: "quoted" or hex for strings."""
        v = self.raw(name)
        if v is None:
            return default
        if name in NUMBER_FIELDS:
            assert re.fullmatch(r"\d+", v), "%s=%s" % (name, v)
            return int(v)
        if name in STRING_FIELDS:
            return decode_value(v)
        return v

    def __getitem__(self, name):
        v = self.get(name)
        assert v is not None, "no field %s in %r" % (name, self.msg)
        return v

    @property
    def op(self):
        return self.raw("op")

    @property
    def res(self):
        return self.raw("res")

    def __repr__(self):
        return "<%s %s>" % (self.type, self.msg)


def decode_value(v):
    """audit_encode_nv_string's value: "text", or the bytes as upper-case
    hex (what `xxd -r -p` decodes)."""
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        assert '"' not in v[1:-1], v
        return v[1:-1]
    assert re.fullmatch(r"(?:[0-9A-F]{2})+", v), \
        "a value neither quoted nor hex: %r" % v
    return bytes.fromhex(v).decode("utf-8")


def records(since, types=ALL_TYPES, interpret=True):
    """muxgate's records (op=muxgate-*) from SINCE on, oldest first."""
    args = ["-m", ",".join(types)]
    out = ausearch(args, since)
    recs = []
    for line in out.splitlines():
        if not line.startswith("type="):
            continue
        r = Record(line)
        if r.time < since - 0.05:
            continue
        if not (r.op or "").startswith("muxgate-"):
            continue
        recs.append(r)
    if interpret and recs:
        by_serial = {}
        for line in ausearch(args, since, interpret=True).splitlines():
            m = INTERP_RE.match(line)
            if m:
                by_serial[m.group(2)] = line.rstrip()
        for r in recs:
            r.interp = by_serial.get(r.serial)
    return recs


def matches(r, want):
    for k, v in want.items():
        if k == "type":
            if r.type != v:
                return False
        elif k == "pid":
            if r.pid != v:
                return False
        elif k == "exe":
            if r.raw("exe") != '"%s"' % v:
                return False
        elif callable(v):
            if not v(r.get(k)):
                return False
        elif r.get(k) != v:
            return False
    return True


def find(since, **want):
    return [r for r in records(since) if matches(r, want)]


def wait_records(since, count=1, timeout=15, settle=0.3, **want):
    """Records matching WANT, once at least COUNT arrived (or TIMEOUT);
    queried again after SETTLE seconds so that duplicates show up."""
    deadline = time.time() + timeout
    got = []
    while time.time() < deadline:
        got = find(since, **want)
        if len(got) >= count:
            break
        time.sleep(0.25)
    time.sleep(settle)
    return find(since, **want)


def expect_one(since, **want):
    """Exactly one record matching WANT (waits for it)."""
    got = wait_records(since, **want)
    assert len(got) == 1, "expected exactly one record matching %r, got " \
        "%d:\n%s\nall muxgate records since then:\n%s" % (
            want, len(got), "\n".join(map(repr, got)),
            "\n".join(map(repr, records(since, interpret=False))))
    return got[0]


def of_process(since, pid):
    """Every muxgate record written by process PID since SINCE."""
    return [r for r in records(since) if r.pid == pid]


def check_encoding(r):
    """The msg is only muxgate's fields then libaudit's, each once, each
    string value quoted or hex."""
    names = r.names()
    assert names[0] == "op", r.msg
    assert names[-len(LIBAUDIT_FIELDS):] == list(LIBAUDIT_FIELDS), r.msg
    ours = names[1:-len(LIBAUDIT_FIELDS)]
    assert all(n in FIELD_ORDER for n in ours), \
        "unexpected fields in %r" % r.msg
    assert ours == sorted(ours, key=FIELD_ORDER.index), r.msg
    assert len(set(names)) == len(names), "a field twice in %r" % r.msg
    for n in ours:
        r.get(n)        # asserts "quoted" or hex / decimal
    assert r.res in ("success", "failed"), r.msg


# ---- syslog ----

SYSLOG_RE = re.compile(r"^<(\d+)>(\w{3} [ \d]\d \d\d:\d\d:\d\d) "
                       r"([^\[: ]+)\[(\d+)\]: (.*)$", re.S)
LOG_AUTHPRIV = 10
LOG_ERR, LOG_WARNING, LOG_NOTICE = 3, 4, 5


class SyslogMessage:
    def __init__(self, data):
        self.data = data
        m = SYSLOG_RE.match(data)
        self.ok = m is not None
        if m:
            pri = int(m.group(1))
            self.facility, self.severity = pri >> 3, pri & 7
            self.ident, self.pid = m.group(3), int(m.group(4))
            self.text = m.group(5).rstrip("\n")
        else:
            self.facility = self.severity = self.pid = None
            self.ident = self.text = None

    def __repr__(self):
        return repr(self.data)


class SyslogListener:
    """A unix datagram socket at /dev/log, bound only if /dev/log does not
    exist, removed afterwards (only if it is still ours); a thread collects
    what arrives."""

    def __init__(self):
        self.msgs = []
        self.lock = threading.Lock()
        self.sock = None
        self.ino = None
        self.thread = None
        self.stopping = False

    def start(self):
        if os.path.lexists(DEV_LOG):
            raise FileExistsError(DEV_LOG)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(DEV_LOG)          # EADDRINUSE if someone made one meanwhile
        self.sock = s
        self.ino = os.lstat(DEV_LOG).st_ino
        os.chmod(DEV_LOG, 0o666)  # the gateway account sends to it
        s.settimeout(0.2)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def _loop(self):
        while not self.stopping:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.msgs.append(SyslogMessage(data.decode("utf-8",
                                                           "replace")))

    def stop(self):
        self.stopping = True
        if self.thread is not None:
            self.thread.join(5)
        with contextlib.suppress(OSError):
            if os.lstat(DEV_LOG).st_ino == self.ino:
                os.unlink(DEV_LOG)
        if self.sock is not None:
            self.sock.close()

    def messages(self):
        with self.lock:
            return list(self.msgs)

    def wait(self, pred, count=1, timeout=10, settle=0.5):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len([m for m in self.messages() if pred(m)]) >= count:
                break
            time.sleep(0.1)
        time.sleep(settle)
        return [m for m in self.messages() if pred(m)]


class AuthLogReader:
    """When /dev/log already exists (a syslog daemon runs): read what it
    appends to /var/log/auth.log (Debian: auth,authpriv.*).  The priority
    is not in the file: facility and severity stay None."""

    LINE_RES = (
        re.compile(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ "
                   r"([^\[: ]+)\[(\d+)\]: (.*)$"),
        re.compile(r"^\d{4}-\d\d-\d\dT\S+ \S+ ([^\[: ]+)\[(\d+)\]: (.*)$"),
    )

    def __init__(self, path="/var/log/auth.log"):
        self.path = path
        self.pos = os.path.getsize(path)

    def start(self):
        return self

    def stop(self):
        pass

    def messages(self):
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            data = f.read().decode("utf-8", "replace")
        out = []
        for line in data.splitlines():
            for rx in self.LINE_RES:
                m = rx.match(line)
                if m:
                    msg = SyslogMessage("")
                    msg.data, msg.ok = line, True
                    msg.ident, msg.pid, msg.text = m.group(1), \
                        int(m.group(2)), m.group(3)
                    out.append(msg)
                    break
        return out

    wait = SyslogListener.wait


def syslog_daemon_running():
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            name = open("/proc/%s/comm" % d).read().strip()
        except OSError:
            continue
        if name in ("rsyslogd", "syslog-ng", "syslogd", "systemd-journal"):
            return name
    return None


# ---- capabilities ----

def proc_caps(pid):
    """{'CapInh': int, 'CapPrm': ..., 'CapEff': ..., 'CapBnd', 'CapAmb'}"""
    caps = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k.startswith("Cap"):
                caps[k] = int(v.strip(), 16)
    return caps


def getcap(path):
    p = run(["getcap", path], check=False)
    return _s(p.stdout).strip()


def setcap(path, caps):
    """setcap CAPS PATH, or `setcap -r PATH` for CAPS=None."""
    if caps is None:
        if getcap(path):
            run(["setcap", "-r", path])
    else:
        run(["setcap", caps, path])


def processes_of(uid, exe):
    """Pids of processes of UID whose executable is EXE."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if os.stat("/proc/" + d).st_uid != uid:
                continue
            if os.readlink("/proc/%s/exe" % d) == exe:
                pids.append(int(d))
        except OSError:
            continue
    return pids


# ---- the log file itself, for many quick look-ups ----

def audit_log_path(conf="/etc/audit/auditd.conf"):
    """auditd's log_file (its default when auditd.conf does not say)."""
    with contextlib.suppress(OSError):
        for line in open(conf):
            k, sep, v = line.partition("=")
            if sep and k.strip() == "log_file":
                return v.strip()
    return "/var/log/audit/audit.log"


class AuditTail:
    """The records appended to auditd's log after a mark(), read from the
    file itself: ausearch reads the whole log on every query, too slow for
    a check after each of hundreds of cases.  A rotation in between is
    followed (the rest of the rotated file, then the new one)."""

    def __init__(self, path=None):
        self.path = path or audit_log_path()

    def mark(self):
        st = os.stat(self.path)
        return (st.st_ino, st.st_size, time.time())

    def _read(self, mark):
        ino, off, _ = mark
        st = os.stat(self.path)
        data = b""
        if st.st_ino != ino:
            with contextlib.suppress(OSError):
                with open(self.path + ".1", "rb") as f:
                    if os.fstat(f.fileno()).st_ino == ino:
                        f.seek(off)
                        data = f.read()
            off = 0
        with open(self.path, "rb") as f:
            f.seek(off)
            data += f.read()
        return data.decode("utf-8", "replace")

    def records(self, mark):
        """muxgate's records (op=muxgate-*) written since MARK."""
        out = []
        for line in self._read(mark).splitlines():
            if not line.startswith("type=") or "op=muxgate-" not in line:
                continue
            r = Record(line)
            if r.time >= mark[2] - 0.05 and \
                    (r.op or "").startswith("muxgate-"):
                out.append(r)
        return out

    def wait(self, mark, pred, timeout=5.0):
        """The records since MARK for which PRED holds, once there is one
        (or after TIMEOUT: auditd writes a little after the event)."""
        end = time.time() + timeout
        while True:
            got = [r for r in self.records(mark) if pred(r)]
            if got or time.time() > end:
                return got
            time.sleep(0.05)
