"""Remote hosts over real OpenSSH: a fleet of fake remote hosts on this
machine (tests/hosts/testhosts.py: an sshd per host on 127.0.0.1X, its own
host key, ssh_user mgt-hI-ops and tmux user mgt-hI-app behind sudo),
reached by the gateway through /usr/bin/ssh with its own key, its own
known_hosts and shared connections.

Hosts: h0-h3 healthy, h4 stopped (nothing listens), h5 hung (accepts TCP,
never answers), h6 mismatch (known_hosts holds another key), h7 unknown
(no known_hosts entry), h8 forbidden (no sudoers rule for mgt-h8-ops).
"""
import contextlib
import hashlib
import json
import os
import pwd
import re
import shutil
import socket
import stat
import sys
import time

import pexpect
import pytest

from helpers import *

sys.path.insert(0, os.path.join(REPO, "tests", "hosts"))
import testhosts  # noqa: E402

CONNECT_TIMEOUT = 2             # seconds (gateway.ssh.connect_timeout)
LS_DEADLINE = CONNECT_TIMEOUT + 1
PREFIX = "mgt-h"

FLEET_ROLES = """\
  fleet-operator:
    allow:
      - hosts: {testhosts: mgt-h}
        tmux_users: "*"
        actions: [list, watch, attach, create, kill]
  fleet-observer:
    allow:
      - hosts: {testhosts: mgt-h}
        tmux_users: "*"
        actions: [list, watch]
"""


# ---- fixtures ----

@pytest.fixture(scope="module")
def fleet(gw):
    fl = testhosts.Fleet(os.path.join(gw.base, "hosts"), prefix=PREFIX,
                         key_owner=GW)
    try:
        fl.up(4, stopped=1, hung=1, mismatch=1, unknown=1, forbidden=1,
              connect_timeout="%ds" % CONNECT_TIMEOUT)
        yield fl
    finally:
        testhosts.kill_control_masters(os.path.join(gw.base, "state"))
        fl.down()


def _sub1(text, old, new):
    assert text.count(old) >= 1, "the test policy has no %r" % old
    return text.replace(old, new, 1)


def fleet_policy(gw, fl, state=None):
    """The suite's policy plus the fleet: gateway.ssh, the hosts, and
    fleet roles for alice (operator) and eve (observer)."""
    t = gw.policy_text
    t = _sub1(t, "gateway:\n", "gateway:\n" + fl.gateway_yaml(2))
    if state is not None:
        t = _sub1(t, "  state: %s/state\n" % gw.base, "  state: %s\n" % state)
    t = _sub1(t, "\nhosts:\n", "\nhosts:\n" + fl.policy_hosts(2))
    t = _sub1(t, "\nroles:\n", "\nroles:\n" + FLEET_ROLES)
    # alice's block comes first of those with roles [operator]
    t = _sub1(t, "    roles: [operator]\n",
              "    roles: [operator, fleet-operator]\n")
    t = _sub1(t, "    roles: [observer]\n",
              "    roles: [observer, fleet-observer]\n")
    return t


@pytest.fixture
def remote(gw, fleet, policy_edit):
    """The fleet policy is live; no tmux server on the fleet before/after."""
    fleet.kill_tmux_servers()
    policy_edit.write(fleet_policy(gw, fleet))
    yield fleet
    fleet.kill_tmux_servers()
    for h in fleet.kind("ok"):
        for f in ("args.out", "args.tmp"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join("/home", h.app_user, f))


# ---- helpers ----

def gwq(s):
    """S as one word for muxgate's command tokenizer (no backslashes there:
    a single quote is written inside double quotes)."""
    return "'" + s.replace("'", "'\"'\"'") + "'"


def rows(doc):
    return {(r["host"], r["user"]): r for r in doc["hosts"]}


def target(h, session=None):
    t = "%s@%s" % (h.app_user, h.name)
    return t if session is None else t + ":" + session


def state_ssh(gw):
    return os.path.join(gw.base, "state", "ssh")


def control_sockets(gw):
    d = state_ssh(gw)
    if not os.path.isdir(d):
        return []
    return sorted(f for f in os.listdir(d) if f.startswith("cm-"))


def remove_control_sockets(gw):
    d = state_ssh(gw)
    if os.path.isdir(d):
        testhosts.kill_control_masters(d)
    for f in control_sockets(gw):
        os.unlink(os.path.join(d, f))


def file_digest(path):
    st = os.stat(path)
    with open(path, "rb") as f:
        return (hashlib.sha256(f.read()).hexdigest(), st.st_size,
                st.st_mtime_ns, st.st_ino)


def accepted_logins(h):
    """How many connections H's sshd accepted so far."""
    with open(os.path.join(h.dir, "sshd.log"), "rb") as f:
        return f.read().count(b"Accepted publickey for " +
                              h.ssh_user.encode())


def gw_masters(gw):
    """ssh ControlMaster processes of the gateway account under state/."""
    out = []
    prefix = "ssh: " + state_ssh(gw) + "/cm-"
    for pid, c in testhosts.processes():
        if c.startswith(prefix) and "[mux]" in c:
            out.append((pid, os.stat("/proc/%d" % pid).st_uid))
    return out


def detach(child):
    child.send("\x02")
    time.sleep(0.2)
    child.send("d")


def finish(child, timeout=10):
    child.expect(pexpect.EOF, timeout=timeout)
    child.close()
    return child.exitstatus


def wait_client(user, name, timeout=10):
    got = wait_for(lambda: tmux_clients(user, name), timeout)
    assert got, "no tmux client attached to %s's session %s" % (user, name)
    return got


# ---- ls: statuses, deadlines ----

def test_fleet_is_up(remote):
    """Sanity of the fixture (not of muxgate)."""
    for h in remote.kind("ok") + remote.kind("forbidden"):
        with socket.create_connection((h.address, h.port), timeout=2) as s:
            assert s.recv(64).startswith(b"SSH-2.0-")
    key = os.stat(remote.identity_file)
    assert key.st_uid == uid_of(GW) and stat.S_IMODE(key.st_mode) == 0o600
    ok = run(["runuser", "-u", remote.kind("ok")[0].ssh_user, "--", "sudo",
              "-n", "-u", remote.kind("ok")[0].app_user, "--",
              "/usr/bin/tmux", "-V"], check=False)
    assert ok.returncode == 0, ok.stderr
    no = run(["runuser", "-u", remote.kind("forbidden")[0].ssh_user, "--",
              "sudo", "-n", "-u", remote.kind("forbidden")[0].app_user,
              "--", "/usr/bin/tmux", "-V"], check=False)
    assert no.returncode != 0


def test_ls_json_status_per_host_within_deadline(gw, ssh, remote):
    h0 = remote.kind("ok")[0]
    tmux_new(h0.app_user, "s0", "/bin/cat")
    known = file_digest(remote.known_hosts)
    t0 = time.monotonic()
    code, out, err = ssh("alice", "ls --json", timeout=20)
    elapsed = time.monotonic() - t0
    assert code == OK, (out, err)
    assert elapsed < LS_DEADLINE, \
        "ls took %.2fs, more than connect_timeout + 1s" % elapsed
    r = rows(parse_json(out))
    want_pairs = {(h.name, h.app_user) for h in remote.hosts}
    assert want_pairs <= set(r), sorted(r)
    # the local host still answers too
    assert r[("bastion", DEPLOY)]["status"] == "ok"
    for h in remote.kind("ok"):
        row = r[(h.name, h.app_user)]
        assert row["status"] == "ok", row
        assert "error" not in row, row
    assert [s["name"] for s in r[(h0.name, h0.app_user)]["sessions"]] == \
        ["s0"]
    for h in remote.kind("ok")[1:]:
        assert r[(h.name, h.app_user)]["sessions"] == []

    def st(kind):
        return r[(remote.kind(kind)[0].name, remote.kind(kind)[0].app_user)]
    assert (st("stopped")["status"], st("stopped")["error"]) == \
        ("unreachable", "connection refused")
    assert st("hung")["status"] == "timeout", st("hung")
    assert (st("mismatch")["status"], st("mismatch")["error"]) == \
        ("unreachable", "host key mismatch")
    assert st("unknown")["status"] == "unreachable", st("unknown")
    assert "unknown host key" in st("unknown")["error"], st("unknown")
    assert st("forbidden")["status"] == "forbidden", st("forbidden")
    for kind in ("stopped", "hung", "mismatch", "unknown", "forbidden"):
        assert st(kind)["sessions"] == [], st(kind)
    # no host key was learnt or changed
    assert file_digest(remote.known_hosts) == known
    assert not os.path.exists("/home/%s/.ssh/known_hosts" % GW)


def test_ls_text_status_lines(ssh, remote):
    code, out, err = ssh("alice", "ls", timeout=20)
    assert code == OK, (out, err)
    lines = out.split("\n")

    def line(kind):
        h = remote.kind(kind)[0]
        got = [l for l in lines if l.startswith(target(h) + ": ")]
        assert len(got) == 1, (kind, lines)
        return got[0]
    for h in remote.kind("ok"):
        assert target(h) + ": ok, no sessions" in lines, lines
    assert line("stopped") == target(remote.kind("stopped")[0]) + \
        ": unreachable (connection refused)"
    assert line("mismatch") == target(remote.kind("mismatch")[0]) + \
        ": unreachable (host key mismatch)"
    assert line("forbidden") == target(remote.kind("forbidden")[0]) + \
        ": forbidden (sudo refused)"
    assert re.match(r"^\S+: timeout\b", line("hung")), line("hung")


@pytest.mark.parametrize("kind,status,error", [
    ("stopped", "unreachable", "connection refused"),
    ("hung", "timeout", None),
    ("mismatch", "unreachable", "host key mismatch"),
    ("unknown", "unreachable", "unknown host key"),
    ("forbidden", "forbidden", None),
])
def test_ls_one_failing_host_exit_1(ssh, remote, kind, status, error):
    h = remote.kind(kind)[0]
    t0 = time.monotonic()
    code, out, err = ssh("alice", "ls %s --json" % target(h), timeout=20)
    elapsed = time.monotonic() - t0
    assert code == FAIL, (out, err)
    assert elapsed < LS_DEADLINE, elapsed
    doc = parse_json(out)
    assert len(doc["hosts"]) == 1
    row = doc["hosts"][0]
    assert (row["host"], row["user"], row["status"]) == \
        (h.name, h.app_user, status), row
    if error is not None:
        assert error in row["error"], row


def test_ls_healthy_host_alone(ssh, remote):
    h = remote.kind("ok")[1]
    tmux_new(h.app_user, "only", "/bin/cat")
    code, out, err = ssh("alice", "ls %s --json" % target(h))
    assert code == OK, (out, err)
    doc = parse_json(out)
    assert [(r["host"], r["user"], r["status"]) for r in doc["hosts"]] == \
        [(h.name, h.app_user, "ok")]
    assert [s["name"] for s in doc["hosts"][0]["sessions"]] == ["only"]
    code, out, err = ssh("alice", "ls %s" % target(h, "only"))
    assert code == OK, (out, err)
    code, out, err = ssh("alice", "ls %s" % target(h, "nosuch"))
    assert code == NOSESSION, (out, err)


# ---- new, kill, attach, watch ----

def test_new_ls_kill_on_remote_host(gw, ssh, remote):
    h = remote.kind("ok")[1]
    code, out, err = ssh("alice", "new %s -- /bin/sleep 1000" %
                         target(h, "n1"))
    assert code == OK, (out, err)
    assert tmux_sessions(h.app_user) == ["n1"]
    assert tmux_option(h.app_user, "n1", "@muxgate-owner") == "alice"
    pid = tmux_pane_pid(h.app_user, "n1")
    assert os.stat("/proc/%d" % pid).st_uid == uid_of(h.app_user)
    code, out, err = ssh("alice", "ls %s --json" % target(h))
    assert code == OK, (out, err)
    sess = parse_json(out)["hosts"][0]["sessions"]
    assert [(s["name"], s["owner"]) for s in sess] == [("n1", "alice")]
    code, out, err = ssh("alice", "new %s" % target(h, "n1"))
    assert code == FAIL, (out, err)
    assert "session exists" in one_error_line(err)
    code, out, err = ssh("alice", "kill %s --yes" % target(h, "n1"))
    assert code == OK, (out, err)
    assert tmux_sessions(h.app_user) == []
    code, out, err = ssh("alice", "kill %s --yes" % target(h, "n1"))
    assert code == NOSESSION, (out, err)


@pytest.mark.parametrize("kind,words", [
    ("stopped", "unreachable"),
    ("mismatch", "host key mismatch"),
    ("forbidden", "forbidden"),
])
def test_new_on_failing_host_one_error_line(ssh, remote, kind, words):
    h = remote.kind(kind)[0]
    code, out, err = ssh("alice", "new %s" % target(h, "x1"))
    assert code == FAIL, (out, err)
    assert words in one_error_line(err), err
    if h.has_accounts:
        assert tmux_sessions(h.app_user) == []


def test_attach_remote_and_detach(gw, spawn, remote):
    h = remote.kind("ok")[0]
    tmux_new(h.app_user, "a1", "/bin/cat")
    c = spawn("alice", "attach %s" % target(h, "a1"))
    wait_client(h.app_user, "a1")
    c.send("typed-through-two-hops\r")
    assert wait_for(lambda: "typed-through-two-hops" in
                    tmux_capture(h.app_user, "a1"), 5)
    tmux(h.app_user, "send-keys", "-t", "=a1:", "FROM-THE-PANE", "Enter",
         check=True)
    c.expect_exact("FROM-THE-PANE", timeout=10)
    detach(c)
    assert finish(c) == OK
    assert wait_for(lambda: not tmux_clients(h.app_user), 10)
    assert tmux_has(h.app_user, "a1")


def test_watch_remote_is_read_only(gw, spawn, remote):
    h = remote.kind("ok")[0]
    tmux_new(h.app_user, "w1", "/bin/cat")
    c = spawn("eve", "watch %s" % target(h, "w1"))
    clients = wait_client(h.app_user, "w1")
    assert len(clients) == 1 and clients[0].endswith(" 1"), clients
    tmux(h.app_user, "send-keys", "-t", "=w1:", "VISIBLE-OUTPUT", "Enter",
         check=True)
    c.expect_exact("VISIBLE-OUTPUT", timeout=10)
    c.send("SECRET-INPUT\r")
    time.sleep(0.3)
    c.send("\x02:kill-session\r")
    time.sleep(0.3)
    c.send("\x02x")
    time.sleep(0.3)
    c.send("y")
    time.sleep(0.8)
    assert tmux_has(h.app_user, "w1"), "a watcher killed the session"
    screen = tmux_capture(h.app_user, "w1")
    assert "SECRET-INPUT" not in screen and "kill-session" not in screen, \
        screen
    detach(c)
    try:
        c.expect(pexpect.EOF, timeout=3)
    except pexpect.TIMEOUT:
        c.send("\x1d")          # the gateway's escape key
        c.expect(pexpect.EOF, timeout=6)
    assert wait_for(lambda: not tmux_clients(h.app_user), 10)
    assert tmux_has(h.app_user, "w1")


def test_watch_denied_is_not_attach(ssh, remote):
    """eve may watch but not attach: refused before any ssh."""
    h = remote.kind("ok")[0]
    tmux_new(h.app_user, "w2", "/bin/cat")
    code, out, err = ssh("eve", "attach %s" % target(h, "w2"), tty=True)
    assert code == DENIED, (out, err)
    assert tmux_clients(h.app_user) == []


# ---- what crosses the remote shell ----

HOSTILE_ARGS = [
    "a'b\"c $(touch /tmp/mgt-pwned) ; d",
    "`touch /tmp/mgt-pwned2`",
    ";",
    "x;",
    "x\\;",
    "\\",
    "$HOME ${PATH} $0",
    "* ? [a-z]",
    "'",
    "\"",
    "  two  spaces  ",
    "--",
    "-t",
    "{} ~ ! # & | < > ( )",
    "tab\there",
    "\u00e9\u00e8 \u2603",
]


def test_hostile_command_argument_crosses_remote_shell(ssh, remote):
    """The example of the brief, exactly as a user would send it."""
    h = remote.kind("ok")[2]
    out_file = "/home/%s/args.out" % h.app_user
    value = "a'b\"c $(touch /tmp/mgt-pwned) ; d"
    cmd = ("new %s -- /bin/sh -c 'printf %%s \"$1\" > %s' x %s"
           % (target(h, "q1"), out_file, gwq(value)))
    code, out, err = ssh("alice", cmd)
    assert code == OK, (out, err)
    assert wait_for(lambda: os.path.exists(out_file) and
                    not tmux_has(h.app_user, "q1"), 10)
    with open(out_file, "rb") as f:
        assert f.read().decode() == value
    for p in PWNED:
        assert not os.path.exists(p), "%s was created: a shell ran" % p


def test_hostile_command_arguments_cross_remote_shell(ssh, remote):
    h = remote.kind("ok")[2]
    tmp = "/home/%s/args.tmp" % h.app_user
    out_file = "/home/%s/args.out" % h.app_user
    script = ('for a; do printf "%%s\\n" "$a"; done > %s && mv %s %s'
              % (tmp, tmp, out_file))
    cmd = "new %s -- /bin/sh -c %s x %s" % (
        target(h, "q2"), gwq(script), " ".join(gwq(a) for a in HOSTILE_ARGS))
    code, out, err = ssh("alice", cmd)
    assert code == OK, (out, err)
    assert wait_for(lambda: os.path.exists(out_file), 10)
    with open(out_file, "rb") as f:
        got = f.read().decode().split("\n")
    assert got[-1] == ""
    assert got[:-1] == HOSTILE_ARGS
    for p in PWNED:
        assert not os.path.exists(p), "%s was created: a shell ran" % p


HOSTILE_NAMES = [
    "a'b\"c $(touch /tmp/mgt-pwned) ;",
    "`touch /tmp/mgt-pwned2`",
    "x;",
    "-t",
    "*",
    "$HOME",
    "sp ace",
]


def test_hostile_session_names_cross_remote_shell(ssh, remote):
    """Sessions made on the host with names a shell would interpret: ls
    shows them as they are, ls and kill find exactly the one named."""
    h = remote.kind("ok")[3]
    for name in HOSTILE_NAMES:
        # tmux takes an argument ending in ';' as a command separator
        tmux_new(h.app_user, name[:-1] + "\\;" if name.endswith(";")
                 else name, "/bin/cat")
    tmux_new(h.app_user, "plain", "/bin/cat")
    # as tmux keeps them (it writes "$HOME" as "\\$HOME", for one)
    on_host = tmux_sessions(h.app_user)
    assert len(on_host) == len(HOSTILE_NAMES) + 1, on_host
    assert HOSTILE_NAMES[0] in on_host, on_host
    code, out, err = ssh("alice", "ls %s --json" % target(h))
    assert code == OK, (out, err)
    names = [s["name"] for s in parse_json(out)["hosts"][0]["sessions"]]
    assert sorted(names) == sorted(on_host)
    left = set(on_host)
    for name in sorted(left - {"plain"}):
        code, out, err = ssh("alice", "ls %s --json" % gwq(target(h, name)))
        assert code == OK, (name, out, err)
        got = [s["name"] for s in parse_json(out)["hosts"][0]["sessions"]]
        assert got == [name], (name, got)
        code, out, err = ssh("alice", "kill %s --yes" % gwq(target(h, name)))
        assert code == OK, (name, out, err)
        left.discard(name)
        assert sorted(tmux_sessions(h.app_user)) == sorted(left), name
    for p in PWNED:
        assert not os.path.exists(p), "%s was created: a shell ran" % p


# ---- host keys ----

def test_mismatched_host_key_never_accepted(gw, ssh, remote):
    h = remote.kind("mismatch")[0]
    remove_control_sockets(gw)
    known = file_digest(remote.known_hosts)
    before = accepted_logins(h)
    for _ in range(2):
        code, out, err = ssh("alice", "ls %s --json" % target(h))
        assert code == FAIL, (out, err)
        row = parse_json(out)["hosts"][0]
        assert (row["status"], row["error"]) == \
            ("unreachable", "host key mismatch"), row
    assert file_digest(remote.known_hosts) == known
    assert accepted_logins(h) == before, "the gateway logged in"
    assert control_sockets(gw) == [], "a connection was kept"


def test_rotated_host_key_never_accepted(gw, ssh, remote):
    """A healthy host whose key changes: refused until known_hosts says so;
    the known_hosts file is not touched."""
    h = remote.kind("ok")[3]
    code, out, err = ssh("alice", "ls %s --json" % target(h))
    assert code == OK, (out, err)
    remove_control_sockets(gw)      # no master: the next ssh sees the key
    known = file_digest(remote.known_hosts)
    try:
        remote.rekey(h)
        before = accepted_logins(h)
        code, out, err = ssh("alice", "ls %s --json" % target(h))
        assert code == FAIL, (out, err)
        row = parse_json(out)["hosts"][0]
        assert (row["status"], row["error"]) == \
            ("unreachable", "host key mismatch"), row
        code, out, err = ssh("alice", "new %s" % target(h, "r1"))
        assert code == FAIL, (out, err)
        assert "host key mismatch" in one_error_line(err)
        assert accepted_logins(h) == before, "the gateway logged in"
        assert tmux_sessions(h.app_user) == []
        assert file_digest(remote.known_hosts) == known
    finally:
        remote.rekey(h, restore=True)
    code, out, err = ssh("alice", "ls %s --json" % target(h))
    assert code == OK, (out, err)


# ---- connection sharing ----

def test_connection_sharing(gw, ssh, remote):
    h = remote.kind("ok")[1]
    remove_control_sockets(gw)
    before = accepted_logins(h)
    code, out, err = ssh("alice", "ls %s" % target(h))
    assert code == OK, (out, err)
    socks = control_sockets(gw)
    assert len(socks) == 1, socks
    p = os.path.join(state_ssh(gw), socks[0])
    st = os.lstat(p)
    assert stat.S_ISSOCK(st.st_mode)
    assert st.st_uid == uid_of(GW)
    assert stat.S_IMODE(st.st_mode) & 0o077 == 0, oct(st.st_mode)
    masters = gw_masters(gw)
    assert len(masters) == 1 and masters[0][1] == uid_of(GW), masters
    # more commands, one connection
    for cmd in ("ls %s --json" % target(h), "new %s" % target(h, "c1"),
                "ls %s" % target(h, "c1"), "kill %s --yes" % target(h, "c1")):
        code, out, err = ssh("alice", cmd)
        assert code == OK, (cmd, out, err)
    assert control_sockets(gw) == socks
    assert accepted_logins(h) - before == 1, \
        "%d logins for 5 commands" % (accepted_logins(h) - before)
    # the generated ssh_config is the gateway's own, closed to others
    conf = os.path.join(state_ssh(gw), "config")
    st = os.stat(conf)
    assert st.st_uid == uid_of(GW) and stat.S_IMODE(st.st_mode) == 0o600
    text = open(conf).read()
    for want in ('StrictHostKeyChecking "yes"', 'BatchMode "yes"',
                 'UpdateHostKeys "no"', 'ControlMaster "auto"',
                 'UserKnownHostsFile "%s"' % remote.known_hosts):
        assert want in text, want


def test_long_state_path(gw, ssh, remote, policy_edit):
    """gateway.state is any absolute path: a long one must either work
    (connection sharing included) or be refused by the policy check --
    never leave every remote host failing with ssh's 'ControlPath too
    long'."""
    state = os.path.join(gw.base, "state-" + "x" * 40)
    os.mkdir(state, 0o700)
    os.chown(state, uid_of(GW), pwd.getpwnam(GW).pw_gid)
    try:
        policy_edit.write(fleet_policy(gw, remote, state=state))
        code, out, err = gw.local("check", "-f", gw.policy)
        if code != OK:
            assert "gateway.state" in out + err, (out, err)
            return
        h = remote.kind("ok")[0]
        code, out, err = ssh("alice", "ls %s --json" % target(h))
        row = parse_json(out)["hosts"][0]
        assert (code, row["status"]) == (OK, "ok"), row
        socks = [f for f in os.listdir(os.path.join(state, "ssh"))
                 if f.startswith("cm-")]
        assert len(socks) == 1, socks
    finally:
        testhosts.kill_control_masters(state)
        shutil.rmtree(state, ignore_errors=True)


# ---- what crosses the generated ssh_config ----

# A known_hosts path that closes its quotes and goes on to another option.
INJECTED_KNOWN_HOSTS = ("/x\"\nProxyCommand /bin/touch /tmp/mgt-pwned\n"
                        "#")


def test_policy_value_cannot_inject_ssh_config(gw, ssh, remote, policy_edit):
    """A policy path with a quote and a newline would have written a
    ProxyCommand into the gateway's ssh_config, which ls then ran: the
    policy check refuses it, with one FILE:LINE:COL error, and so does
    every command, before any ssh runs."""
    t = _sub1(fleet_policy(gw, remote),
              "    known_hosts: %s\n" % json.dumps(remote.known_hosts),
              "    known_hosts: %s\n" % json.dumps(INJECTED_KNOWN_HOSTS))
    policy_edit.write(t)
    line = t.split("\n").index(
        "    known_hosts: %s" % json.dumps(INJECTED_KNOWN_HOSTS)) + 1
    for cmd in ("ls", "ls --json", "hosts",
                "ls %s" % target(remote.kind("ok")[0])):
        remove_control_sockets(gw)      # ssh would connect afresh
        code, out, err = ssh("alice", cmd, timeout=20)
        for p in PWNED:
            assert not os.path.exists(p), "%s was created: ssh ran the " \
                "injected ProxyCommand" % p
        assert code == FAIL, (cmd, out, err)
        misconfigured(gw, err)
    conf = os.path.join(state_ssh(gw), "config")
    if os.path.exists(conf):
        assert "ProxyCommand" not in open(conf).read()
    code, out, err = gw.local("check", "-f", gw.policy)
    assert code == FAIL, (out, err)
    errors = [l for l in err.split("\n") if l != ""]
    assert errors == [
        "%s:%d:18: gateway.ssh.known_hosts: a double quote (ssh_config "
        "values may not hold quotes, backslashes, whitespace, control "
        "characters or %%)" % (gw.policy, line)], err


# ---- the remote ssh_user's login shell ----

# fish reads \\ and \' inside single quotes; csh and tcsh expand ! there.
LOGIN_SHELL_ARGS = HOSTILE_ARGS + [
    "a\\\\b", "\\'", "it\\'s", "x!y", "!!", "!$", "%s%n", "^a^b",
    "$(touch /tmp/mgt-pwned)", "\\`touch /tmp/mgt-pwned2\\`",
]


@pytest.mark.parametrize("shell", ["/usr/bin/fish", "/usr/bin/csh",
                                   "/usr/bin/tcsh", "/usr/bin/zsh",
                                   "/usr/bin/dash"])
def test_remote_login_shell(gw, ssh, remote, shell):
    """The remote ssh_user's login shell may be any of these: ls lists,
    new runs exactly the argv asked for, nothing else runs."""
    if not os.access(shell, os.X_OK):
        pytest.skip("%s is not installed" % shell)
    h = remote.kind("ok")[2]
    old = pwd.getpwnam(h.ssh_user).pw_shell
    out_file = "/home/%s/args.out" % h.app_user
    tmp = "/home/%s/args.tmp" % h.app_user
    # sshd takes the shell at login: no shared connection from before.
    remove_control_sockets(gw)
    run(["usermod", "-s", shell, h.ssh_user])
    try:
        tmux_new(h.app_user, "ls1", "/bin/cat")
        code, out, err = ssh("alice", "ls %s --json" % target(h))
        assert code == OK, (out, err)
        assert [s["name"] for s in
                parse_json(out)["hosts"][0]["sessions"]] == ["ls1"]
        script = ('for a; do printf "%%s\\n" "$a"; done > %s && mv %s %s'
                  % (tmp, tmp, out_file))
        cmd = "new %s -- /bin/sh -c %s x %s" % (
            target(h, "q3"), gwq(script),
            " ".join(gwq(a) for a in LOGIN_SHELL_ARGS))
        code, out, err = ssh("alice", cmd)
        assert code == OK, (out, err)
        assert wait_for(lambda: os.path.exists(out_file), 10)
        with open(out_file, "rb") as f:
            got = f.read().decode().split("\n")
        assert got[:-1] == LOGIN_SHELL_ARGS and got[-1] == ""
        code, out, err = ssh("alice", "kill %s --yes" % target(h, "ls1"))
        assert code == OK, (out, err)
        assert not tmux_has(h.app_user, "ls1")
    finally:
        remove_control_sockets(gw)
        run(["usermod", "-s", old, h.ssh_user])
    for p in PWNED:
        assert not os.path.exists(p), "%s was created: a shell ran" % p
