"""
Hostile input, end to end: every line of hostile/inputs.tsv is one case,
sent through the real sshd (or run as sshd would run muxgate), and held
to the same contract: the documented exit code, exactly one clear error
line for a refusal, nothing unescaped on the terminal, no crash, no hang,
no tmux session created or killed, no recording unless an attach was
allowed, and the refusal's audit record.

The data file's format is described at its top and in README.md.  The
cases of one entry point share their set-up (one policy, one ssh
connection, one interactive login), so this module keeps its own
`clean_state`: the suite's kills every process of the test users around
each test, which would end the shared login.
"""
import base64
import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest

from helpers import *
from helpers import _s
from audit_util import AuditTail, processes_of
from term_util import RawTerm

sys.path.insert(0, os.path.join(REPO, "tests", "hosts"))
import testhosts  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "hostile", "inputs.tsv")
ENTRIES = ("command", "prompt", "target", "session", "startup", "policy",
           "authkey", "authinfo", "env", "winsize", "attach")
FLAGS = ("stdin", "argv", "tty", "raw", "exact", "ends", "policy", "limit",
         "xfail")
CASE_TIMEOUT = 10           # seconds: a case that takes longer hangs
PROMPT = b"muxgate> "
SESSION = "hx-victim"       # a session of mgt-deploy that must survive
FAILING = ("Sanitizer", "runtime error:", "core dumped", "Segmentation",
           "Aborted", "Traceback", "assertion", "double free",
           "stack smashing")


# ---- the data file ----

_ESCAPES = {"\\": b"\\", "t": b"\t", "n": b"\n", "r": b"\r", "0": b"\0",
            "e": b"\x1b", "s": b" "}


def decode(text):
    """The input column's escapes: \\\\ \\t \\n \\r \\0 \\e (ESC) \\s (a
    space) and \\xHH (any byte); every other character is its UTF-8."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        n = text[i + 1:i + 2]
        if n == "x":
            h = text[i + 2:i + 4]
            if not re.fullmatch(r"[0-9A-Fa-f]{2}", h):
                raise ValueError("bad \\x escape in %r" % text)
            out.append(int(h, 16))
            i += 4
        elif n in _ESCAPES:
            out += _ESCAPES[n]
            i += 2
        else:
            raise ValueError("unknown escape \\%s in %r" % (n, text))
    return bytes(out)


def size(arg):
    """100M, 64K or a number of bytes."""
    m = re.fullmatch(rb"(\d+)([KM]?)", arg)
    assert m, arg
    return int(m.group(1)) * {b"": 1, b"K": 1024, b"M": 1 << 20}[m.group(2)]


def random_key():
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + \
        secrets.token_bytes(32)
    return b"ssh-ed25519 " + base64.b64encode(blob)


def _gen_laughs(ctx, levels, width):
    levels, width = int(levels), int(width)
    text = b"l0: &l0 [lol]\n"
    for i in range(1, levels + 1):
        text += b"l%d: &l%d [%s]\n" % (i, i, b", ".join(
            [b"*l%d" % (i - 1)] * width))
    return ctx["policy"] + text


def _gen_identities(ctx, n):
    lines = [ctx["policy"]]
    for i in range(int(n)):
        lines.append(b"  id%d:\n    keys: [\"%s\"]\n    roles: [observer]\n"
                     % (i, random_key()))
    return b"".join(lines)


def _gen_big(ctx, n):
    n = size(n)
    line = b"# " + b"x" * 77 + b"\n"
    return ctx["policy"] + line * (n // len(line) + 1)


GENERATORS = {
    # gen:repeat:N:UNIT[:PREFIX[:SUFFIX]]  PREFIX + N * UNIT + SUFFIX
    "repeat": lambda ctx, n, unit, pre=b"", suf=b"": pre + unit * size(n) +
    suf,
    # gen:nested:N  a policy whose hosts: is N sequences deep
    "nested": lambda ctx, n: b"hosts: " + b"[" * int(n) + b"]" * int(n) +
    b"\n",
    # gen:nestedmap:N  ... N mappings deep
    "nestedmap": lambda ctx, n: b"hosts: " + b"{a: " * int(n) + b"b" +
    b"}" * int(n) + b"\n",
    # gen:laughs:LEVELS:WIDTH  the test policy and "billion laughs"
    "laughs": _gen_laughs,
    # gen:identities:N  the test policy and N more identities
    "identities": _gen_identities,
    # gen:big:SIZE  the test policy padded with comments to SIZE bytes
    "big": _gen_big,
    # gen:bigkey:SIZE  the test policy and a mapping key of SIZE bytes
    "bigkey": lambda ctx, n: ctx["policy"] + b"k" * size(n) + b": 1\n",
    # gen:bigscalar:SIZE  the host label's value SIZE bytes long
    "bigscalar": lambda ctx, n: ctx["policy"].replace(
        b"labels: {env: test}", b"labels: {env: " + b"v" * size(n) + b"}"),
    # gen:randomkey  a well-formed ed25519 key nobody holds
    "randomkey": lambda ctx: random_key(),
}


class Case:
    def __init__(self, lineno, fields):
        if len(fields) < 8:
            raise ValueError("line %d: %d fields, 8 expected" % (
                lineno, len(fields)))
        (self.entry, self.name, self.raw_input, code, err, audit, flags,
         self.comment) = fields[:7] + ["\t".join(fields[7:])]
        self.lineno = lineno
        if self.entry not in ENTRIES:
            raise ValueError("line %d: unknown entry point %r" % (
                lineno, self.entry))
        if not re.fullmatch(r"[A-Za-z0-9_.+-]+", self.name):
            raise ValueError("line %d: bad name %r" % (lineno, self.name))
        self.exit = None if code == "-" else int(code)
        self.err = None if err == "-" else re.compile(err)
        self.audit = None if audit == "-" else re.compile(audit)
        self.flags = {}
        for f in ([] if flags == "-" else flags.split(",")):
            k, _, v = f.partition(":")
            if k not in FLAGS:
                raise ValueError("line %d: unknown flag %r" % (lineno, k))
            self.flags[k] = v
        if not self.raw_input.startswith("gen:"):
            decode(self.raw_input)      # a bad escape fails at collection

    @property
    def id(self):
        return "%s-%s" % (self.entry, self.name)

    def data(self, ctx):
        """The input's bytes: decoded, generated, placeholders filled."""
        if self.raw_input.startswith("gen:"):
            name, *args = self.raw_input[4:].split(":")
            return GENERATORS[name](ctx, *[decode(a) for a in args])
        d = decode(self.raw_input)
        for k, v in ctx.items():
            d = d.replace(b"@%s@" % k.upper().encode(), v)
        return d


def load_cases():
    cases = []
    with open(DATA, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line == "" or line.startswith("#"):
                continue
            cases.append(Case(n, line.split("\t")))
    return cases


CASES = load_cases()


def params(entry):
    out = []
    for c in CASES:
        if c.entry != entry:
            continue
        marks = []
        if "xfail" in c.flags:
            marks.append(pytest.mark.xfail(strict=True,
                                           reason=c.flags["xfail"]))
        out.append(pytest.param(c, id=c.id, marks=marks))
    return out


def test_data_file():
    """Every line parsed (a bad one fails collection), unique ids, every
    entry point used, and at least 220 cases."""
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted(
        i for i in set(ids) if ids.count(i) > 1)
    assert {c.entry for c in CASES} == set(ENTRIES)
    assert len(CASES) >= 220, len(CASES)


# ---- what every case must leave as it was ----

_SNAP = ('for s; do echo "== $s"; [ -S "$s" ] && /usr/bin/tmux -S "$s" '
         'list-sessions -F "#{session_id} #{session_name} '
         '#{session_created}" 2>&1; done; exit 0')


def tmux_state(users=(GW, DEPLOY, BUILD)):
    """Every session of every tmux user, in one command (root may ask any
    tmux server of this machine)."""
    socks = ["/tmp/tmux-%d/default" % uid_of(u) for u in users]
    p = run(["/bin/sh", "-c", _SNAP, "sh"] + socks, check=False,
            timeout=CASE_TIMEOUT)
    return _s(p.stdout)


_BAD_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e"
                        "\u2066-\u2069]")


def clean_text(b, what, tty=False):
    """B is UTF-8 with no control character but newline and tab (and
    carriage return on a terminal), no C1 control, no bidi override."""
    try:
        text = b.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError("%s is not UTF-8 (%s): %r" % (what, e, b[:300]))
    t = text.replace("\r", "") if tty else text
    m = _BAD_CHARS.search(t)
    assert m is None, "raw %r in %s: %r" % (m.group(), what, b[:300])
    for w in FAILING:
        assert w not in text, "%r in %s: %r" % (w, what, text[:600])
    return text


def message_lines(text):
    return [l for l in text.replace("\r", "").split("\n") if l.strip()]


class Hostile:
    """One module's shared set-up: the policy (with the audit trail when
    the machine has one), an ssh ControlMaster for alice, the recordings
    directory, the audit log."""

    def __init__(self, gw, audit):
        self.gw = gw
        self.audit = audit
        self.recdir = os.path.join(gw.base, "recordings")
        text = gw.policy_text
        if audit is not None:
            text = text.replace("  audit: none\n", "  audit: auditd\n")
        self.policy_text = text
        self.cm = os.path.join(gw.base, "hx-cm")
        self.master = None
        self.work = os.path.join(gw.base, "hostile")
        self.ctx = {"policy": text.encode(), "base": gw.base.encode(),
                    "alice": gw.keys["alice"].encode(),
                    "alicekey": " ".join(
                        gw.keys["alice"].split()[:2]).encode(),
                    "frankkey": " ".join(
                        gw.keys["frank"].split()[:2]).encode()}

    def start(self):
        self.gw.write_policy(self.policy_text)
        os.makedirs(self.work, 0o755, exist_ok=True)
        os.chmod(self.work, 0o755)
        args = self.gw.ssh_args("alice")
        self.master = subprocess.Popen(
            args[:-2] + ["-M", "-N", "-S", self.cm, "-o",
                         "ControlPersist=no", args[-1]],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=BASE_ENV)
        assert wait_for(lambda: os.path.exists(self.cm), 10), \
            "the ssh ControlMaster did not start"

    def stop(self):
        if self.master is not None:
            run(self.gw.ssh_args("alice")[:-2] + ["-S", self.cm, "-O", "exit",
                                                  "127.0.0.1"], check=False)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.master.wait(5)
            if self.master.poll() is None:
                self.master.kill()
                self.master.wait()
        self.gw.write_policy(self.gw.policy_text)
        shutil.rmtree(self.work, ignore_errors=True)

    def data(self, case):
        return case.data(self.ctx)

    # ---- running muxgate ----
    def ssh(self, command, tty=False, input=None, key="alice", shared=True,
            env=None, argv=False):
        """ssh KEY COMMAND (bytes) through the shared connection; returns
        (code, stdout, stderr) as bytes.  A timeout is a hang."""
        args = self.gw.ssh_args(key, tty=tty)
        if shared:
            args = args[:-1] + ["-S", self.cm, "-o", "ControlMaster=no",
                                args[-1]]
        if command is not None:
            # "--": a command starting with '-' is not ssh's option.
            args += [b"--"] + (command.split(b" ") if argv else [command])
        kw = {"input": input} if input is not None else {}
        p = run(args, check=False, timeout=CASE_TIMEOUT,
                env=env if env is not None else BASE_ENV, **kw)
        return p.returncode, p.stdout, p.stderr

    def as_gateway(self, env, *args):
        """muxgate as the gateway account, the way sshd runs it."""
        e = ["PATH=" + SYS_PATH, "LANG=C.UTF-8", "HOME=/home/" + GW,
             "USER=" + GW, "LOGNAME=" + GW] + env
        p = run(["runuser", "-u", GW, "--", "env", "-i"] + e +
                [self.gw.bin] + list(args), check=False,
                timeout=CASE_TIMEOUT)
        return p.returncode, p.stdout, p.stderr

    # ---- one case ----
    def recordings(self):
        return {os.path.join(d, f) for d, _, fs in os.walk(self.recdir)
                for f in fs}

    def begin(self):
        return {"tmux": tmux_state(), "recs": self.recordings(),
                "audit": self.audit.mark() if self.audit else None}

    def check(self, case, before, code, out, err, tty=False, new_recs=0,
              one_line=None):
        """The contract, for one run of CASE."""
        assert code >= 0, "killed by signal %d" % -code
        assert code != 255 or case.exit == 255, \
            "ssh failed or muxgate died (255): %r %r" % (out, err)
        o = clean_text(out, "stdout", tty)
        e = clean_text(err, "stderr", tty)
        if case.exit is not None:
            assert code == case.exit, "exit %d, not %d: %r %r" % (
                code, case.exit, o[-600:], e[-600:])
        if one_line is None:
            one_line = code != 0
        if one_line:
            lines = message_lines((o + "\n" + e) if tty else e)
            assert len(lines) == 1, "not one error line: %r" % lines[:20]
            assert lines[0].startswith("muxgate: "), lines
            assert len(lines[0]) < 2000, "an error line of %d bytes" % len(
                lines[0])
            if case.err is not None:
                assert case.err.search(lines[0]), (case.err.pattern,
                                                   lines[0])
        elif case.err is not None:
            assert case.err.search(o + e), (case.err.pattern, o, e)
        elif not tty:
            assert e == "", e
        self.check_state(before, new_recs)
        self.check_audit(case, before)

    def check_state(self, before, new_recs=0):
        after = tmux_state()
        assert after == before["tmux"], "tmux sessions changed:\n%s\n->\n%s" \
            % (before["tmux"], after)
        recs = self.recordings() - before["recs"]
        assert len(recs) == new_recs, "recordings: %r" % sorted(recs)
        for f in PWNED:
            assert not os.path.exists(f), "%s was created" % f

    def check_audit(self, case, before, want=None):
        """The refusal's record: exactly one whose reason matches."""
        rx = want or case.audit
        if rx is None or self.audit is None:
            return None
        got = self.audit.wait(before["audit"], lambda r: r.get("reason")
                              is not None and rx.fullmatch(r.get("reason")))
        assert len(got) == 1, "audit records with reason %r: %r\nall: %r" % (
            rx.pattern, got, self.audit.records(before["audit"]))
        return got[0]


@pytest.fixture(autouse=True)
def clean_state(gw):
    """This module's: no kill between cases (they share logins), a bound
    on each case instead."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _alarm(signum, frame):
    raise TimeoutError("case took longer than 60 seconds: it hangs")


@pytest.fixture(scope="module")
def hx(gw, request):
    """The module's set-up, with the audit trail if the machine has one
    (auditd running, cap_audit_write on the suite's muxgate)."""
    kill_tmux_servers()
    audit = None
    try:
        request.getfixturevalue("auditd")
        request.getfixturevalue("audit_cap")
        audit = AuditTail()
    except pytest.skip.Exception:
        pass
    h = Hostile(gw, audit)
    try:
        h.start()
        # A session everyone's input aims at: it must outlive every case.
        tmux_new(DEPLOY, SESSION, "/bin/cat")
        yield h
    finally:
        h.stop()
        kill_tmux_servers()
        for f in PWNED:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f)


# ---- command: the SSH command ----

@pytest.mark.parametrize("case", params("command"))
def test_command(hx, case):
    data = hx.data(case)
    b = hx.begin()
    if "stdin" in case.flags:
        code, out, err = hx.ssh(None, input=data)
    else:
        code, out, err = hx.ssh(data, tty="tty" in case.flags,
                                argv="argv" in case.flags)
    hx.check(case, b, code, out, err, tty="tty" in case.flags)


# ---- target and session: hostile targets and names ----

TARGET_VERBS = (("attach", b"attach %s", True), ("watch", b"watch %s", True),
                ("kill", b"kill %s --yes", False), ("new", b"new %s", False))


def gwq(b):
    """B as one word for muxgate's tokenizer: single quotes, a single
    quote inside double quotes."""
    return b"'" + b.replace(b"'", b"'\"'\"'") + b"'"


@pytest.mark.parametrize("case", params("target"))
def test_target(hx, case):
    data = hx.data(case)
    for verb, fmt, tty in TARGET_VERBS:
        b = hx.begin()
        code, out, err = hx.ssh(fmt % (data if "raw" in case.flags
                                       else gwq(data)), tty=tty)
        try:
            hx.check(case, b, code, out, err, tty=tty)
        except AssertionError as e:
            raise AssertionError("%s: %s" % (verb, e)) from None


@pytest.mark.parametrize("case", params("session"))
def test_session(hx, case):
    """Refused, or (exit 0) made under exactly that name, which `kill`
    then finds as a name (never as a tmux option or target)."""
    data = hx.data(case)
    t = gwq(b"%s@bastion:" % DEPLOY.encode() + data)
    b = hx.begin()
    code, out, err = hx.ssh(b"new " + t)
    if case.exit == 0 and code == 0:
        made = tmux_has(DEPLOY, data.decode())
        kcode, kout, kerr = hx.ssh(b"kill " + t + b" --yes")
        assert made, tmux_sessions(DEPLOY)
        assert kcode == 0, (kout, kerr)
    hx.check(case, b, code, out, err)


# ---- startup: the command `new` starts ----

def pane_argv(user, name):
    """The argv of the session's program (after /usr/bin/env's exec)."""
    pid = tmux_pane_pid(user, name)
    return open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0")[:-1]


@pytest.fixture(scope="module")
def remote(hx):
    """One remote host (tests/hosts/testhosts.py: its own sshd, reached by
    the gateway over OpenSSH), where alice may create and kill: what `new`
    starts there crosses the remote host's shell."""
    fl = testhosts.Fleet(os.path.join(hx.gw.base, "hx-hosts"),
                         prefix="mgt-hx", key_owner=GW)
    try:
        fl.up(1, connect_timeout="2s")
        h = fl.kind("ok")[0]
        t = hx.policy_text
        for old, new in (
                ("gateway:\n", "gateway:\n" + fl.gateway_yaml(2)),
                ("\nhosts:\n", "\nhosts:\n" + fl.policy_hosts(2)),
                ("\nroles:\n", "\nroles:\n  hx-remote:\n    allow:\n"
                 "      - hosts: [%s]\n        tmux_users: [%s]\n"
                 "        actions: [list, create, kill]\n" % (
                     h.name, h.app_user)),
                ("    roles: [operator]\n",
                 "    roles: [operator, hx-remote]\n")):
            assert old in t, old
            t = t.replace(old, new, 1)
        hx.policy_text = t
        hx.gw.write_policy(t)
        yield h
    finally:
        testhosts.kill_control_masters(os.path.join(hx.gw.base, "state"))
        fl.down()


def start_on(hx, user, host, name, argv):
    """new USER@HOST:NAME -- ARGV (each word quoted): ARGV must be what
    the session's program runs with."""
    t = b"%s@%s:%s" % (user.encode(), host.encode(), name.encode())
    code, out, err = hx.ssh(b"new " + t + b" -- " +
                            b" ".join(gwq(a) for a in argv))
    assert code == 0, (out, err)
    try:
        assert wait_for(lambda: pane_argv(user, name) == argv, 5), \
            pane_argv(user, name)
    finally:
        tmux(user, "kill-session", "-t", "=" + name)
    assert out.decode() == "created %s\n" % t.decode(), out


@pytest.mark.parametrize("case", params("startup"))
def test_startup(hx, remote, case):
    """Exit 0: the input is one argument of a start command, and must
    reach it as exactly those bytes, through no shell, on this host and
    on a remote one.  Otherwise (or with `raw`) it is the text after `--`
    as typed, and refused."""
    data = hx.data(case)
    name = "hx-su-%d" % case.lineno
    t = b"%s@bastion:%s" % (DEPLOY.encode(), name.encode())
    if case.exit == 0 and "raw" not in case.flags:
        argv = [b"/usr/bin/tail", b"-f", b"/dev/null", b"--", data]
        line = b"new " + t + b" -- " + b" ".join(gwq(a) for a in argv)
    else:
        argv = None
        line = b"new " + t + b" -- " + data
    b = hx.begin()
    code, out, err = hx.ssh(line)
    if case.exit == 0 and code == 0:
        try:
            if argv is not None:
                assert wait_for(lambda: pane_argv(DEPLOY, name) == argv,
                                5), pane_argv(DEPLOY, name)
        finally:
            tmux(DEPLOY, "kill-session", "-t", "=" + name)
        assert out.decode() == "created %s\n" % t.decode(), out
    hx.check(case, b, code, out, err)
    if argv is not None:
        start_on(hx, remote.app_user, remote.name, name, argv)
        assert tmux_sessions(remote.app_user) == []
        hx.check_state(b)


# ---- policy: hostile policy files ----

@pytest.mark.parametrize("case", params("policy"))
def test_policy(hx, case):
    """Refused at login, whatever the file: exit 1, the one line that
    tells the user to tell the administrators, and the reason (which
    names the problem) in the audit record; within the case's bound."""
    data = hx.data(case)
    try:
        with open(hx.gw.policy + ".tmp~", "wb") as f:
            f.write(data)
        os.chmod(hx.gw.policy + ".tmp~", 0o644)
        os.rename(hx.gw.policy + ".tmp~", hx.gw.policy)
        b = hx.begin()
        t0 = time.time()
        code, out, err = hx.ssh(b"whoami")
        took = time.time() - t0
    except subprocess.TimeoutExpired:
        # The muxgate still loading it would slow every later case.
        for pid in processes_of(uid_of(GW), hx.gw.bin):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        raise
    finally:
        hx.gw.write_policy(hx.policy_text)
    hx.check(case, b, code, out, err)
    if code == FAIL:
        misconfigured(hx.gw, err.decode())
    assert took < CASE_TIMEOUT, took


# ---- authkey: what `muxgate keys` is fed, and keys: in the policy ----

@pytest.mark.parametrize("case", params("authkey"))
def test_authkey(hx, case):
    """The input is TYPE and KEY, as sshd's %t %k (split at the first
    space), given to `muxgate keys` as the AuthorizedKeysCommandUser; it
    must never print an authorized_keys line.  With `policy`, the input
    is a `keys:` entry of alice instead, and the policy is refused."""
    data = hx.data(case)
    b = hx.begin()
    if "policy" in case.flags:
        key = '"%s"' % "".join(
            c if 0x20 <= ord(c) < 0x7f and c not in '"\\' else
            "\\x%02x" % ord(c) if ord(c) < 0x100 else "\\u%04x" % ord(c)
            for c in data.decode("utf-8", "surrogateescape"))
        text = hx.policy_text.replace(
            "keys: [%s]" % json.dumps(hx.gw.keys["alice"]), "keys: [%s]" % key, 1)
        assert text != hx.policy_text
        try:
            hx.gw.write_policy(text)
            code, out, err = hx.ssh(b"whoami")
        finally:
            hx.gw.write_policy(hx.policy_text)
        hx.check(case, b, code, out, err)
        return
    typ, _, key = data.partition(b" ")
    p = run(["runuser", "-u", KEYS_USER, "--", hx.gw.bin, "keys", "-f",
             hx.gw.policy, GW, typ, key], check=False, timeout=CASE_TIMEOUT)
    assert p.stdout == b"", "an authorized_keys line: %r" % p.stdout
    hx.check(case, b, p.returncode, p.stdout, p.stderr)


# ---- authinfo: the file sshd writes for ExposeAuthInfo ----

@pytest.mark.parametrize("case", params("authinfo"))
def test_authinfo(hx, case):
    """muxgate shell as the gateway account with SSH_USER_AUTH naming a
    file of the input's bytes (`path:P`: naming P itself)."""
    data = hx.data(case)
    if data.startswith(b"path:"):
        path = data[5:].decode()
    else:
        path = os.path.join(hx.work, "auth-%d" % case.lineno)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o644)
    b = hx.begin()
    try:
        code, out, err = hx.as_gateway(["SSH_USER_AUTH=" + path,
                                        "SSH_ORIGINAL_COMMAND=whoami",
                                        "SSH_CONNECTION=127.0.0.1 1 "
                                        "127.0.0.1 22"],
                                       "shell", "-f", hx.gw.policy)
    finally:
        if path.startswith(hx.work):
            os.unlink(path)
    hx.check(case, b, code, out, err)


# ---- env: what an ssh client may send ----

@pytest.mark.parametrize("case", params("env"))
def test_env(hx, case):
    """NAME=VALUE sent with SendEnv (TERM: in the pty request, with a
    terminal); `ls` of mgt-deploy must work as without it."""
    data = hx.data(case)
    name, _, value = data.partition(b"=")
    env = {k.encode(): v.encode() for k, v in BASE_ENV.items()}
    env[name] = value
    args = hx.gw.ssh_args("alice", tty=True)
    args = args[:-1] + ["-o", "SendEnv=" + name.decode()] + args[-1:]
    b = hx.begin()
    p = run(args + ["ls --json %s@bastion" % DEPLOY], check=False,
            timeout=CASE_TIMEOUT, env=env)
    hx.check(case, b, p.returncode, p.stdout, p.stderr, tty=True)
    if case.exit == 0:
        doc = parse_json(_s(p.stdout).replace("\r", ""))
        assert doc["hosts"][0]["status"] == "ok", doc
        assert SESSION in [s["name"] for s in doc["hosts"][0]["sessions"]], \
            doc


# ---- winsize and attach: the terminal ----

class Attached:
    """A fresh session of mgt-deploy whose program writes every byte it
    reads to a file, and `attach` to it from a RawTerm (the real ssh
    client on a pseudo-terminal of the test's own)."""

    def __init__(self, hx, name, width=120, height=40, verb="attach"):
        self.hx = hx
        self.name = name
        self.file = "/home/%s/%s.in" % (DEPLOY, name)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.file)
        tmux_new(DEPLOY, name, "/bin/sh", "-c",
                 "stty raw -echo; exec cat > %s" % self.file)
        self.term = RawTerm(hx.gw, "alice", "%s %s@bastion:%s" % (
            verb, DEPLOY, name), width=width, height=height)
        assert wait_for(lambda: tmux_clients(DEPLOY, name), 10) or \
            self.term.proc.poll() is not None, "no client attached"

    def received(self):
        try:
            return open(self.file, "rb").read()
        except FileNotFoundError:
            return b""

    def send(self, data):
        """DATA in pieces, reading the terminal meanwhile (a full pty
        would otherwise stall both sides)."""
        for i in range(0, len(data), 4096):
            self.term.send(data[i:i + 4096])
            self.term.pump(0)

    def close(self):
        self.term.close()
        tmux(DEPLOY, "kill-session", "-t", "=" + self.name)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.file)


END_MARK = b"hx-end-of-input"


@pytest.mark.parametrize("case", params("attach"))
def test_attach(hx, case):
    """The input typed during an attach.  It must reach the session
    (exactly, with `exact`), the session must still take input after it,
    and the escape key must still end the attach; with `ends`, the input
    itself ends the attach (exit 0, the audit reason)."""
    data = hx.data(case)
    # What the relay passes on: the escape key typed twice is sent once.
    sent = data.replace(b"\x1d\x1d", b"\x1d") + END_MARK
    name = "hx-at-%d" % case.lineno
    b = hx.begin()
    a = Attached(hx, name)
    try:
        a.send(data)
        if "ends" not in case.flags:
            a.send(END_MARK)
            got = wait_for(lambda: END_MARK in a.received(), 10)
            assert got, "the session stopped taking input: %r" % \
                a.received()[-200:]
            if "exact" in case.flags:
                assert a.received() == sent, a.received()[:300]
            a.send(b"\x1d")
        code = a.term.wait_exit(CASE_TIMEOUT)
        out = bytes(a.term.data)
    finally:
        a.close()
    # What the terminal got is the gateway's and tmux's drawing: only the
    # session's own output (nothing, here) could be unsafe, so it is
    # checked for what the input may not bring back, not for escapes.
    assert b"\x1b]52" not in out and b"\x1bP" not in out, out[-300:]
    assert code == case.exit, (code, out[-400:])
    text = out.decode("utf-8", "replace")
    for w in FAILING:
        assert w not in text, text[-600:]
    assert re.search(r"muxgate: attach to \S+ ended \(escape key\)|"
                     r"\[detached \(from session", text), text[-400:]
    hx.check_state(b, new_recs=1)
    r = hx.check_audit(case, b)
    if r is not None and "ends" not in case.flags:
        # Every byte reached tmux, whatever tmux made of it.
        assert r["bytes_in"] == len(sent), (r, len(sent))


@pytest.mark.parametrize("case", params("winsize"))
def test_winsize(hx, case):
    """`menu:WxH[>WxH]` or `attach:WxH[>WxH]`: log in (or attach) on a
    terminal of that size, optionally resized to the second one, and use
    it: the prompt answers, the escape key ends the attach."""
    data = hx.data(case).decode()
    m = re.fullmatch(r"(menu|attach):(\d+)x(\d+)(?:>(\d+)x(\d+))?", data)
    assert m, data
    w, h = int(m.group(2)), int(m.group(3))
    b = hx.begin()
    if m.group(1) == "attach":
        a = Attached(hx, "hx-ws-%d" % case.lineno, width=w, height=h)
        term = a.term
    else:
        a = None
        term = RawTerm(hx.gw, "alice", width=w, height=h)
    try:
        if a is None:
            term.wait(PROMPT)
        if m.group(4):
            fcntl_winsize(term.master, int(m.group(4)), int(m.group(5)))
            os.kill(term.proc.pid, signal.SIGWINCH)
            time.sleep(0.3)
        if a is None:
            since = term.mark()
            term.send(b"whoami\r")
            term.wait(b"alice", since)
            term.wait(PROMPT, since)
            term.send(b"\x04")
        else:
            a.send(b"size-ok")
            assert wait_for(lambda: b"size-ok" in a.received(), 10), \
                a.received()
            a.send(b"\x1d")
        code = term.wait_exit(CASE_TIMEOUT)
        text = bytes(term.data).decode("utf-8", "replace")
    finally:
        if a is not None:
            a.close()
        else:
            term.close()
    assert code == case.exit, (code, text[-400:])
    for w_ in FAILING:
        assert w_ not in text, text[-600:]
    hx.check_state(b, new_recs=1 if a is not None else 0)
    hx.check_audit(case, b)


def fcntl_winsize(fd, w, h):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", h, w, 0, 0))


# ---- prompt: the interactive menu's line ----

@pytest.fixture(scope="module")
def prompt_term(hx):
    t = RawTerm(hx.gw, "alice")
    t.wait(PROMPT)
    t.settle(0.3)
    yield t
    t.close()


_CURSOR = re.compile(rb"(?:\x1b\[[0-9;]*[A-Za-z]|\r)*")


def wait_prompt(t, since, timeout=CASE_TIMEOUT):
    """The prompt drawn again after SINCE, and nothing after it for a
    moment: the line was taken and answered."""
    end = time.time() + timeout
    while True:
        t.settle(0.3, 2)
        tail = bytes(t.data[since:])
        i = tail.rfind(PROMPT)
        if i >= 0 and _CURSOR.fullmatch(tail[i + len(PROMPT):]):
            return tail
        if t.proc.poll() is not None or time.time() > end:
            raise AssertionError("no prompt came back: %r" % tail[-400:])


@pytest.mark.parametrize("case", params("prompt"))
def test_prompt(hx, prompt_term, case):
    """The input typed at the prompt, then Enter: the prompt comes back,
    the error line (if the line was refused) is shown, and no escape or
    control sequence of the input reaches the terminal as it was."""
    t = prompt_term
    assert t.proc.poll() is None, "the shared login ended"
    data = hx.data(case)
    b = hx.begin()
    since = t.mark()
    t.send(data if "raw" in case.flags else data + b"\r")
    tail = wait_prompt(t, since)
    text = tail.decode("utf-8", "replace").replace("\r", "")
    for w in FAILING:
        assert w not in text, text
    for i, c in enumerate(data):
        if c == 0x1b or 0x80 <= c <= 0x9f or c in (0x07, 0x90, 0x9b, 0x9d):
            frag = data[i:i + 3]
            assert frag not in tail, "%r of the input reached the " \
                "terminal: %r" % (frag, tail[-300:])
    if case.err is not None:
        assert case.err.search(text), (case.err.pattern, text)
    hx.check_state(b)
    hx.check_audit(case, b)
