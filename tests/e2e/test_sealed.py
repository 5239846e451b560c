"""Sealed recordings (docs/recording-format.md, gateway.recording_recipients):
an attach through sshd with the policy naming auditors' public keys
writes a .sealed file that only their secret keys open, with replay and
export; tampering is caught; the gateway account holds nothing that
reads it."""
import json
import os
import subprocess
import time

import pexpect
import pytest

from helpers import *
from helpers import _s

TARGET = "mgt-deploy@bastion:"


def keygen(gw, d):
    p = run([gw.bin, "keygen", d], check=False)
    assert p.returncode == OK, p.stderr
    return _s(p.stdout).strip()


@pytest.fixture
def auditors(gw, workdir):
    """Two auditors' key pairs: secret keys in root's 0700 directories, the
    public keys where the gateway account can read them."""
    keys = {}
    for who in ("ann", "ben"):
        d = os.path.join(workdir, "secret-" + who)
        keygen(gw, d)
        pub = os.path.join(workdir, "%s.pub" % who)
        with open(os.path.join(d, "auditor.pub")) as f, open(pub, "w") as g:
            g.write(f.read())
        os.chmod(pub, 0o644)
        keys[who] = (os.path.join(d, "auditor.key"), pub)
    return keys


def sealed_policy(gw, pubs):
    text = gw.policy_text
    assert "  audit: none\n" in text
    return text.replace("  audit: none\n", "  audit: none\n"
                        "  recording_recipients: [%s]\n" % ", ".join(pubs))


def attach_and_type(gw, name, typed):
    tmux_new(DEPLOY, name, "/bin/cat")
    c = gw.spawn("alice", "attach " + TARGET + name)
    assert wait_for(lambda: tmux_clients(DEPLOY, name), 10)
    c.send(typed + "\r")
    assert wait_for(lambda: typed in tmux_capture(DEPLOY, name), 5)
    c.send("\x02")
    time.sleep(0.2)
    c.send("d")
    c.expect(pexpect.EOF)
    c.close()
    return c.exitstatus


def recording_of(gw, name):
    d = os.path.join(gw.base, "recordings", "alice")
    for f in sorted(os.listdir(d)):
        path = os.path.join(d, f)
        with open(path, "rb") as fp:
            if name.encode() in fp.readline():
                return path
    raise AssertionError("no recording for %s" % name)


def test_sealed_round_trip(gw, policy_edit, auditors, workdir):
    policy_edit.write(sealed_policy(gw, [auditors["ann"][1],
                                         auditors["ben"][1]]))
    name = "seal-%d" % os.getpid()
    typed = "secret-typed-%d" % os.getpid()
    assert attach_and_type(gw, name, typed) == OK
    rec = recording_of(gw, name)
    assert rec.endswith(".sealed"), rec
    st = os.stat(rec)
    assert st.st_mode & 0o777 == 0o600
    with open(rec, "rb") as f:
        data = f.read()
    # The header is readable, the events are not.
    assert b'"muxgate_sealed":2' in data.split(b"\n", 1)[0]
    assert typed.encode() not in data

    for who in ("ann", "ben"):
        p = run([gw.bin, "export", "--key", auditors[who][0], rec],
                check=False)
        assert p.returncode == OK, p.stderr
        out = _s(p.stdout)
        assert typed in out, out[:300]
        assert out.startswith('{"version":2'), out[:100]
    exported = os.path.join(workdir, "export.cast")
    with open(exported, "w") as f:
        f.write(out)
    # asciinema wants a terminal even to cat.
    out, status = pexpect.run("asciinema cat " + exported, withexitstatus=True,
                              timeout=30)
    assert status == 0 and typed in _s(out), out
    p = run([gw.bin, "replay", "--cat", "--key", auditors["ann"][0], rec],
            check=False)
    assert p.returncode == OK and typed in _s(p.stdout), p.stderr
    # The listing reads the header of the file the gateway wrote.
    p = run([gw.bin, "recordings", "--dir",
             os.path.join(gw.base, "recordings"), "--session", name,
             "--json"], check=False)
    assert p.returncode == OK, p.stderr
    listed = json.loads(_s(p.stdout))
    assert [r["sealed"] for r in listed["recordings"]] == [True], listed


def test_sealed_refusals_and_tampering(gw, policy_edit, auditors, workdir):
    policy_edit.write(sealed_policy(gw, [auditors["ann"][1]]))
    name = "sealt-%d" % os.getpid()
    assert attach_and_type(gw, name, "abc") == OK
    rec = recording_of(gw, name)
    # No key, and a key it is not sealed to: one line each, exit 1.
    p = run([gw.bin, "replay", "--cat", rec], check=False)
    assert p.returncode == FAIL
    assert "--key" in one_error_line(_s(p.stderr))
    p = run([gw.bin, "export", "--key", auditors["ben"][0], rec], check=False)
    assert p.returncode == FAIL and p.stdout == b""
    assert "not sealed to the key" in one_error_line(_s(p.stderr))

    with open(rec, "rb") as f:
        data = f.read()
    head = data.index(b"\n") + 1
    cases = {
        "flipped": data[:-5] + bytes([data[-5] ^ 1]) + data[-4:],
        "header": data.replace(b'"identity":"alice"', b'"identity":"alicf"'),
        "appended": data + data[head:head + 40],
    }
    for what, content in cases.items():
        copy = os.path.join(workdir, "%s.sealed" % what)
        with open(copy, "wb") as f:
            f.write(content)
        p = run([gw.bin, "export", "--key", auditors["ann"][0], copy],
                check=False)
        assert p.returncode == FAIL, (what, p.stdout, p.stderr)
    cut = os.path.join(workdir, "cut.sealed")
    with open(cut, "wb") as f:
        f.write(data[:-3])
    p = run([gw.bin, "export", "--key", auditors["ann"][0], cut], check=False)
    assert p.returncode == OK, p.stderr
    assert "truncated" in one_error_line(_s(p.stderr))


def test_gateway_account_cannot_open_it(gw, policy_edit, auditors):
    """Nothing the gateway account can read opens a finished sealed
    recording: no auditor.key anywhere it can read, and the secret keys
    it is pointed at are not readable to it."""
    policy_edit.write(sealed_policy(gw, [auditors["ann"][1]]))
    name = "sealg-%d" % os.getpid()
    assert attach_and_type(gw, name, "xyz") == OK
    rec = recording_of(gw, name)
    p = run(["runuser", "-u", GW, "--", gw.bin, "export", "--key",
             auditors["ann"][0], rec], check=False)
    assert p.returncode == FAIL and p.stdout == b"", p.stdout
    script = ("find / -xdev \\( -path /proc -o -path /sys \\) -prune -o "
              "-type f -readable -size -2k -print 2>/dev/null | "
              "xargs -r grep -l '^muxgate-auditor-key ' 2>/dev/null; true")
    p = run(["runuser", "-u", GW, "--", "/bin/sh", "-c", script],
            check=False, timeout=120)
    assert _s(p.stdout).strip() == "", _s(p.stdout)


def test_unreadable_recipient_refuses_the_attach(gw, policy_edit, workdir):
    """recording_required (the default) and a recipient that cannot be
    loaded: no plain fallback, the attach is refused with one line."""
    policy_edit.write(sealed_policy(gw, [os.path.join(workdir, "nope.pub")]))
    name = "sealr-%d" % os.getpid()
    tmux_new(DEPLOY, name, "/bin/cat")
    code, out, err = gw.ssh("alice", "attach " + TARGET + name, tty=True)
    assert code == FAIL, (code, out, err)
    assert "recording_recipients" in out + err, (out, err)
    assert tmux_clients(DEPLOY, name) == []


def test_check_names_an_unreadable_recipient(gw, policy_edit, workdir,
                                             auditors):
    missing = os.path.join(workdir, "gone.pub")
    policy_edit.write(sealed_policy(gw, [auditors["ann"][1], missing]))
    p = run([gw.bin, "check", "-f", gw.policy], check=False)
    assert p.returncode == FAIL, p.stdout
    line = one_error_line(_s(p.stderr))
    assert "recording_recipients" in line and "gone.pub" in line, line
    policy_edit.write(sealed_policy(gw, [auditors["ann"][1]]))
    p = run([gw.bin, "check", "-f", gw.policy], check=False)
    assert p.returncode == OK, p.stderr
