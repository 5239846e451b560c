"""
Passwords stay out of keystroke logs (gateway.recording, docs/recordings.md):
real programs ask for passwords inside the tmux session (sudo, passwd,
bash's read -s, ssh to a further host), typed at a real terminal (the
OpenSSH client in a tmux pane, term_util.Term).  The secret is nowhere in
the recording, plain or sealed and exported with the auditor's key, while
what was typed around it is there and the answer is an "m" event of one
'*' per character; mask_input: all records no keystroke, none every one.

For these tests mgt-deploy has a password and may run /usr/bin/true with
sudo (SUDOERS_MASK, /etc/sudoers.d/mgt-mask); both are taken away after
each test, and a killed run's rule is removed by the next run.
"""
import contextlib
import glob
import json
import os
import re
import socket
import subprocess
import time

import pexpect
import pytest

from helpers import *
from helpers import _s
from relay_util import policy_with, read_cast, rec_root, recordings_of, \
    stream, wait_recording
from term_util import *

PASSWORD = "Tq7-mgt-Old-pw!x"       # mgt-deploy's, while a test runs
NEW_PASSWORD = "Vb4%mgt-New-pw#9"   # what passwd changes it to
SHELL_PROMPT = r"^bash-[0-9.]+\$ *$"
SUDO_PROMPT = r"^\[sudo\] password for %s: *$" % DEPLOY


@pytest.fixture(autouse=True)
def deploy_password(gw):
    """mgt-deploy gets PASSWORD and may run `sudo true` with it."""
    assert DEPLOY.startswith("mgt-")
    try:
        run(["chpasswd"], input=("%s:%s\n" % (DEPLOY, PASSWORD)).encode())
        tmp = SUDOERS_MASK + ".tmp~"
        with open(tmp, "w") as f:
            f.write("# muxgate e2e tests (tests/e2e/test_mask.py)\n"
                    "Defaults:%s !lecture, passwd_tries=3\n"
                    "%s ALL=(root) /usr/bin/true\n" % (DEPLOY, DEPLOY))
        os.chmod(tmp, 0o440)
        run(["visudo", "-cf", tmp])
        os.rename(tmp, SUDOERS_MASK)
        yield
    finally:
        for f in (SUDOERS_MASK, SUDOERS_MASK + ".tmp~"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f)
        run(["usermod", "-p", "*", DEPLOY], check=False)


def bash_session(name):
    tmux_new(DEPLOY, name, "/bin/bash", "--norc", "--noprofile")


def hits(t, pattern):
    return len(re.findall(pattern, t.screen(), re.M))


def wait_hits(t, pattern, more_than, timeout=15):
    """Wait for a new PATTERN on the screen: more than MORE_THAN of them.
    (An attach is a full screen redrawn in place: new text is not after
    old text, so it is counted, not looked for after a mark.)"""
    if not wait_for(lambda: hits(t, pattern) > more_than, timeout):
        raise AssertionError("no new %r on the screen: %r" % (pattern,
                                                              t.screen()))


def attach(terms, name):
    """alice attached to NAME (a bash) at a real terminal, at its prompt."""
    t = terms("alice", "attach %s@bastion:%s" % (DEPLOY, name))
    wait_hits(t, SHELL_PROMPT, 0)
    return t


def ask(t, text, prompt):
    """Type the command TEXT, and wait for the program's PROMPT."""
    n = hits(t, prompt)
    t.line(text)
    wait_hits(t, prompt, n)


def type_secret(t, secret, by_key=False):
    """SECRET and Enter: all at once, as a paste, or BY_KEY."""
    if by_key:
        for ch in secret:
            t.type(ch)
            time.sleep(0.02)
    else:
        t.type(secret)
    t.keys("Enter")


def command(t, text, until):
    """Type TEXT and Enter at the shell, and wait for a new UNTIL."""
    n = hits(t, until)
    t.line(text)
    wait_hits(t, until, n)


def detach(t):
    """tmux's own detach: the one-shot attach ends."""
    t.keys("C-b")
    t.type("d")
    assert t.wait_dead(15) == OK


def stars(events):
    """The '*' of the "m" events; each holds nothing but '*'."""
    ms = [e[2] for e in events if e[1] == "m"]
    assert all(s != "" and set(s) == {"*"} for s in ms), ms
    return sum(len(s) for s in ms)


def assert_secret_absent(data, *secrets):
    for s in secrets:
        assert s.encode() not in data, "%r is in the recording" % s


def shadow_hash(user):
    for line in open("/etc/shadow"):
        f = line.split(":")
        if f[0] == user:
            return f[1]
    raise AssertionError("no %s in /etc/shadow" % user)


# ---- sudo, passwd, read -s, ssh --------------------------------------------

def test_sudo_password_typed_key_by_key(gw, terms):
    name = "mask-sudo"
    bash_session(name)
    t = attach(terms, name)
    ask(t, "sudo -k; sudo true && echo SUDO-OK-$((6*7))", SUDO_PROMPT)
    type_secret(t, PASSWORD, by_key=True)
    wait_hits(t, r"^SUDO-OK-42$", 0)
    command(t, "echo AFTER-$((1+1))", r"^AFTER-2$")
    detach(t)

    f = wait_recording(gw, "alice", name)
    data = open(f, "rb").read()
    assert_secret_absent(data, PASSWORD)
    header, events = read_cast(f)
    assert header["muxgate"]["mask_input"] == "prompts", header
    typed = stream(events, "i", strip=False)
    assert "sudo -k; sudo true && echo SUDO-OK-$((6*7))\r" in typed, typed
    assert "echo AFTER-$((1+1))\r" in typed, typed
    # One '*' per key, the Enter included, in an event per read.
    assert stars(events) == len(PASSWORD) + 1, events
    assert len([e for e in events if e[1] == "m"]) > 1, events
    # The answer comes between the two commands.
    kinds = [e[1] for e in events if e[1] in "im"]
    first_m, last_m = kinds.index("m"), len(kinds) - 1 - kinds[::-1].index("m")
    assert "i" in kinds[:first_m] and "i" in kinds[last_m:], kinds
    assert "SUDO-OK-42" in stream(events, "o")


def test_passwd_three_prompts(gw, terms):
    name = "mask-passwd"
    bash_session(name)
    before = shadow_hash(DEPLOY)
    t = attach(terms, name)
    ask(t, "passwd", r"^Current password: *$")
    n = hits(t, r"^New password: *$")
    type_secret(t, PASSWORD)
    wait_hits(t, r"^New password: *$", n)
    type_secret(t, NEW_PASSWORD)
    wait_hits(t, r"^Retype new password: *$", 0)
    type_secret(t, NEW_PASSWORD)
    wait_hits(t, r"password updated successfully", 0)
    command(t, "echo CHANGED-$((2*5))", r"^CHANGED-10$")
    detach(t)
    assert shadow_hash(DEPLOY) != before

    f = wait_recording(gw, "alice", name)
    assert_secret_absent(open(f, "rb").read(), PASSWORD, NEW_PASSWORD)
    header, events = read_cast(f)
    typed = stream(events, "i", strip=False)
    assert "passwd\r" in typed, typed
    assert "echo CHANGED-$((2*5))\r" in typed, typed
    assert stars(events) == len(PASSWORD) + 2 * len(NEW_PASSWORD) + 3


def test_ssh_to_a_further_host(gw, terms, password_sshd):
    name = "mask-ssh"
    bash_session(name)
    t = attach(terms, name)
    ask(t, "ssh -F /dev/null -o StrictHostKeyChecking=no "
        "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "
        "-o PubkeyAuthentication=no "
        "-o PreferredAuthentications=password -p %d %s@127.0.0.1 "
        "echo REMOTE-$((3*3))" % (password_sshd, DEPLOY),
        r"%s@127\.0\.0\.1's password: *$" % DEPLOY)
    type_secret(t, PASSWORD)
    wait_hits(t, r"^REMOTE-9$", 0)
    detach(t)

    f = wait_recording(gw, "alice", name)
    assert_secret_absent(open(f, "rb").read(), PASSWORD)
    header, events = read_cast(f)
    assert "@127.0.0.1 echo REMOTE-$((3*3))\r" in \
        stream(events, "i", strip=False)
    assert stars(events) == len(PASSWORD) + 1


PW_SSHD = """\
# a further host for tests/e2e/test_mask.py: passwords only
Port {port}
ListenAddress 127.0.0.1
AddressFamily inet
HostKey {base}/ssh_host_ed25519_key
PidFile {dir}/sshd.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication no
AuthorizedKeysFile none
PermitRootLogin no
AllowUsers {user}
PrintMotd no
PrintLastLog no
"""


@pytest.fixture
def password_sshd(gw, workdir):
    """An sshd on 127.0.0.1 that lets mgt-deploy in with its password."""
    port = free_port()
    conf = os.path.join(workdir, "sshd_config")
    write_file(conf, PW_SSHD.format(port=port, base=gw.base, dir=workdir,
                                    user=DEPLOY))
    run(["/usr/sbin/sshd", "-t", "-f", conf])
    log = open(os.path.join(workdir, "sshd.log"), "wb")
    p = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", conf],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         env=BASE_ENV)
    try:
        def up():
            try:
                with socket.create_connection(("127.0.0.1", port), 1) as s:
                    s.settimeout(5)
                    return s.recv(64).startswith(b"SSH-")
            except OSError:
                return False
        assert wait_for(up, 15), open(os.path.join(workdir,
                                                   "sshd.log")).read()
        yield port
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
        log.close()


# ---- sealed: masked before sealing -----------------------------------------

@pytest.fixture
def auditor(gw, workdir):
    """An auditor's key pair: the secret key in a directory of root's,
    the public key where the gateway account reads it."""
    d = os.path.join(workdir, "auditor")
    p = run([gw.bin, "keygen", d], check=False)
    assert p.returncode == OK, p.stderr
    pub = os.path.join(workdir, "auditor.pub")
    with open(os.path.join(d, "auditor.pub")) as f, open(pub, "w") as g:
        g.write(f.read())
    os.chmod(pub, 0o644)
    return os.path.join(d, "auditor.key"), pub


def sealed_of(gw, name):
    for f in sorted(glob.glob(os.path.join(rec_root(gw), "alice",
                                           "*.sealed"))):
        if ('"session":"%s"' % name).encode() in open(f, "rb").readline():
            return f
    raise AssertionError("no sealed recording of %s" % name)


def test_read_s_in_a_sealed_recording(gw, terms, policy_edit, auditor,
                                      workdir):
    key, pub = auditor
    policy_edit.write(policy_with(gw, gateway_extra=[
        "recording_recipients: [%s]" % pub]))
    name = "mask-sealed"
    secret = "Sealed-s3cret-%d" % os.getpid()
    bash_session(name)
    t = attach(terms, name)
    ask(t, "read -s -p 'Password: ' v; echo; echo LEN-${#v}",
        r"^Password: *$")
    type_secret(t, secret)
    wait_hits(t, r"^LEN-%d$" % len(secret), 0)
    command(t, "echo SEALED-$((4*4))", r"^SEALED-16$")
    detach(t)

    f = sealed_of(gw, name)
    assert_secret_absent(open(f, "rb").read(), secret)
    p = run([gw.bin, "export", "--key", key, f], check=False)
    assert p.returncode == OK, p.stderr
    assert_secret_absent(p.stdout, secret)
    exported = os.path.join(workdir, "export.cast")
    with open(exported, "wb") as g:
        g.write(p.stdout)
    header, events = read_cast(exported)
    assert header["muxgate"]["mask_input"] == "prompts"
    typed = stream(events, "i", strip=False)
    assert "read -s -p 'Password: ' v; echo; echo LEN-${#v}\r" in typed
    assert "echo SEALED-$((4*4))\r" in typed
    assert stars(events) == len(secret) + 1
    p = run([gw.bin, "replay", "--cat", "--key", key, f], check=False)
    assert p.returncode == OK, p.stderr
    assert "LEN-%d" % len(secret) in _s(p.stdout)
    assert_secret_absent(p.stdout, secret)


# ---- mask_input: all, none ---------------------------------------------------

def mask_policy(gw, mode):
    return policy_with(gw, gateway_extra=["recording:",
                                          "  mask_input: %s" % mode])


def sudo_once(terms, name, by_key=False):
    bash_session(name)
    t = attach(terms, name)
    ask(t, "sudo -k; sudo true && echo SUDO-OK-$((6*7))", SUDO_PROMPT)
    type_secret(t, PASSWORD, by_key)
    wait_hits(t, r"^SUDO-OK-42$", 0)
    detach(t)


def test_mask_input_all_records_no_keystroke(gw, terms, policy_edit):
    policy_edit.write(mask_policy(gw, "all"))
    name = "mask-all"
    sudo_once(terms, name)
    f = wait_recording(gw, "alice", name)
    data = open(f, "rb").read()
    assert_secret_absent(data, PASSWORD)
    header, events = read_cast(f)
    assert header["muxgate"]["mask_input"] == "all"
    assert [e for e in events if e[1] in ("i", "m")] == [], events
    # What the screen showed is all there: the echo of the command too.
    out = stream(events, "o")
    assert "sudo -k; sudo true && echo SUDO-OK-$((6*7))" in out
    assert "SUDO-OK-42" in out


def test_mask_input_none_records_the_password(gw, terms, policy_edit):
    policy_edit.write(mask_policy(gw, "none"))
    name = "mask-none"
    sudo_once(terms, name)
    f = wait_recording(gw, "alice", name)
    header, events = read_cast(f)
    assert header["muxgate"]["mask_input"] == "none"
    assert PASSWORD + "\r" in stream(events, "i", strip=False)
    assert [e for e in events if e[1] == "m"] == []


def test_own_secret_prompts(gw, terms, policy_edit):
    """secret_prompts replaces the defaults: a prompt of the site's own is
    masked, and sudo's is not any more."""
    policy_edit.write(policy_with(gw, gateway_extra=[
        "recording:",
        "  secret_prompts:",
        "    - \"^Vault token> $\""]))
    name = "mask-own"
    token = "hvs-Token-%d" % os.getpid()
    bash_session(name)
    t = attach(terms, name)
    ask(t, "read -s -p 'Vault token> ' v; echo; echo GOT-${#v}",
        r"^Vault token> *$")
    type_secret(t, token)
    wait_hits(t, r"^GOT-%d$" % len(token), 0)
    ask(t, "sudo -k; sudo true && echo SUDO-OK-$((6*7))", SUDO_PROMPT)
    type_secret(t, PASSWORD)
    wait_hits(t, r"^SUDO-OK-42$", 0)
    detach(t)
    f = wait_recording(gw, "alice", name)
    assert_secret_absent(open(f, "rb").read(), token)
    header, events = read_cast(f)
    assert stars(events) == len(token) + 1
    assert PASSWORD + "\r" in stream(events, "i", strip=False)


def test_check_refuses_a_bad_prompt(gw, policy_edit, ssh):
    """A pattern that does not compile: muxgate check names its place,
    and the gateway refuses everyone until it is fixed."""
    text = policy_with(gw, gateway_extra=["recording:",
                                          "  secret_prompts: [\"(x\"]"])
    policy_edit.write(text)
    line = text.split("\n").index("    secret_prompts: [\"(x\"]") + 1
    p = run([gw.bin, "check", "-f", gw.policy], check=False)
    assert p.returncode == FAIL
    err = _s(p.stderr) + _s(p.stdout)
    assert "%s:%d:22: gateway.recording.secret_prompts: bad regular " \
        "expression '(x': " % (gw.policy, line) in err, err
    code, out, err = ssh("alice", "ls")
    assert code == FAIL
    misconfigured(gw, err)


# ---- the tools read "m" events ---------------------------------------------

def test_tools_read_masked_recordings(gw, terms, policy_edit, workdir):
    """replay, asciinema, recordings and verify (against the records of
    gateway.audit: syslog) take a recording with "m" events as any."""
    from audit_util import SyslogListener
    try:
        listener = SyslogListener().start()
    except (FileExistsError, OSError) as e:
        pytest.skip("no /dev/log of this test's own: %s" % e)
    try:
        policy_edit.write(gw.policy_text.replace("  audit: none\n",
                                                 "  audit: syslog\n"))
        name = "mask-tools"
        sudo_once(terms, name, by_key=True)
        f = wait_recording(gw, "alice", name)
        header, events = read_cast(f)
        aid = header["muxgate"]["attach_id"]
        ends = listener.wait(lambda m: m.text is not None and
                             "type=USER_END" in m.text and aid in m.text)
        assert ends, listener.messages()
        log = os.path.join(workdir, "syslog.log")
        with open(log, "w") as g:
            for msg in listener.messages():
                if msg.text is not None and aid in msg.text:
                    g.write(msg.data.rstrip("\n") + "\n")
    finally:
        listener.stop()
    assert stars(events) == len(PASSWORD) + 1
    p = run([gw.bin, "verify", "--audit-log", log, f], check=False)
    assert (p.returncode, _s(p.stdout)) == (OK, "%s: intact\n" % f), \
        (p.stdout, p.stderr)
    p = run([gw.bin, "replay", "--cat", f], check=False)
    assert p.returncode == OK and "SUDO-OK-42" in _s(p.stdout), p.stderr
    p = run([gw.bin, "replay", "--speed", "1000", f], check=False)
    assert p.returncode == OK and "SUDO-OK-42" in _s(p.stdout), p.stderr
    out, status = pexpect.run("asciinema cat " + f, withexitstatus=True,
                              timeout=30)
    assert status == 0 and b"SUDO-OK-42" in out, out
    p = run([gw.bin, "recordings", "--dir", rec_root(gw), "--session", name,
             "--json"], check=False)
    assert p.returncode == OK, p.stderr
    listed = json.loads(_s(p.stdout))["recordings"]
    assert [r["path"] for r in listed] == [f], listed
    assert listed[0]["duration"] >= events[-1][0] - 0.001, listed


# ---- a journey ---------------------------------------------------------------

def test_journey(gw, terms):
    """At the menu: attach, answer sudo, go on typing (recorded), another
    prompt abandoned with Ctrl-C (masked to the next Enter: the command
    typed after it too), more commands, detach; attach again, answer
    read -s, leave with the escape key, exit."""
    name = "mask-journey"
    target = "%s@bastion:%s" % (DEPLOY, name)
    second = "Second-s3cret-%d" % os.getpid()
    bash_session(name)
    t = terms("alice")
    t.prompt()

    # The marks are taken at the menu: an attach redraws in place.
    m = t.mark()
    t.line("attach " + target)
    wait_hits(t, SHELL_PROMPT, 0)
    ask(t, "sudo -k; sudo true && echo STEP1-$((1+1))", SUDO_PROMPT)
    type_secret(t, PASSWORD)
    wait_hits(t, r"^STEP1-2$", 0)
    command(t, "echo NORMAL-$((2+2))", r"^NORMAL-4$")
    ask(t, "sudo -k; sudo true", SUDO_PROMPT)
    n = hits(t, SHELL_PROMPT)
    t.type("qzx")
    t.keys("C-c")
    wait_hits(t, SHELL_PROMPT, n)
    hidden = "echo AFTER-CTRLC-$((5+5))"
    command(t, hidden, r"^AFTER-CTRLC-10$")
    command(t, "echo VISIBLE-$((7+7))", r"^VISIBLE-14$")
    t.keys("C-b")
    t.type("d")
    t.prompt(m)

    m = t.mark()
    t.line("attach " + target)
    wait_hits(t, r"^VISIBLE-14$", 0)
    ask(t, "read -s -p 'Password: ' v; echo; echo LEN-${#v}",
        r"^Password: *$")
    type_secret(t, second)
    wait_hits(t, r"^LEN-%d$" % len(second), 0)
    command(t, "echo SECOND-$((8+8))", r"^SECOND-16$")
    t.keys("C-]")
    t.prompt(m)
    t.line("exit")
    assert t.wait_dead(10) == OK

    recs = recordings_of(gw, "alice", name)
    assert len(recs) == 2, recs
    one, two = recs
    for f in recs:
        assert_secret_absent(open(f, "rb").read(), PASSWORD, second, "qzx")
    header, events = read_cast(one)
    typed = stream(events, "i", strip=False)
    assert "sudo -k; sudo true && echo STEP1-$((1+1))\r" in typed
    assert "echo NORMAL-$((2+2))\r" in typed
    assert "echo VISIBLE-$((7+7))\r" in typed
    assert hidden not in typed
    # The screen shows what ran, the hidden command's echo too.
    assert hidden in stream(events, "o")
    # The password and Enter; then qzx, Ctrl-C, the command and Enter.
    assert stars(events) == (len(PASSWORD) + 1) + (3 + 1) + \
        (len(hidden) + 1), events
    header, events = read_cast(two)
    typed = stream(events, "i", strip=False)
    assert "read -s -p 'Password: ' v; echo; echo LEN-${#v}\r" in typed
    assert "echo SECOND-$((8+8))\r" in typed
    assert stars(events) == len(second) + 1
