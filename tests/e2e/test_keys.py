"""
`muxgate keys`: the policy as the only list of keys, through the real
sshd.

An sshd of its own (another loopback port) runs with
`AuthorizedKeysFile none` and `AuthorizedKeysCommand muxgate keys -f
POLICY %u %t %k` as the unprivileged account mgt-keys, with the settings of
contrib/sshd_config.d/muxgate-keys.conf: a key the policy does not allow
is refused by sshd at authentication, before any muxgate shell runs.  A
second one, without ForceCommand, reads `muxgate keys --all` as its
authorized_keys file, so that the command= lines muxgate writes are what
runs.
"""
import contextlib
import json
import os
import re
import socket
import subprocess
import time

import pytest

from helpers import *
from helpers import _s

DENIED_AUTH = "Permission denied (publickey)"


class Sshd:
    """One more sshd on a free loopback port, stopped by stop()."""

    def __init__(self, gw, name, extra, forcecommand=True):
        self.gw = gw
        self.port = free_port()
        self.log = os.path.join(gw.base, "sshd-%s.log" % name)
        conf_text = SSHD_CONFIG.format(
            port=self.port, base=gw.base, gw=GW,
            forcecommand="%s shell -f %s" % (gw.bin, gw.policy))
        conf_text = conf_text.replace(
            "PidFile %s/sshd.pid" % gw.base,
            "PidFile %s/sshd-%s.pid" % (gw.base, name))
        conf_text = re.sub(r"(?m)^AuthorizedKeysFile .*$", extra, conf_text)
        if not forcecommand:
            conf_text = re.sub(r"(?m)^\tForceCommand .*\n", "", conf_text)
        self.conf = os.path.join(gw.base, "sshd_config-%s" % name)
        write_file(self.conf, conf_text)
        run(["/usr/sbin/sshd", "-t", "-f", self.conf])
        self.logf = open(self.log, "wb")
        self.proc = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-e", "-f", self.conf],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf,
            env=BASE_ENV)
        deadline = time.time() + 15
        while not self._listening():
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("sshd %s did not start: %s"
                                   % (name, self.log_text()))
            time.sleep(0.1)

    def _listening(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port),
                                          timeout=1) as s:
                s.settimeout(5)
                return s.recv(64).startswith(b"SSH-")
        except OSError:
            return False

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def ssh(self, key, *command, timeout=30):
        args = self.gw.ssh_args(key)
        args[args.index("-p") + 1] = str(self.port)
        p = run(args + list(command), check=False, timeout=timeout)
        return p.returncode, _s(p.stdout), _s(p.stderr)

    def stop(self):
        if os.environ.get("MGT_KEEP_LOG"):
            open("/tmp/mgt-sshd-%d.log" % self.port, "w").write(self.log_text())
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.logf.close()


@pytest.fixture(scope="module")
def akc(gw):
    """sshd with the policy as its only source of keys."""
    s = Sshd(gw, "keys",
             "AuthorizedKeysFile none\n"
             "AuthorizedKeysCommand %s keys -f %s %%u %%t %%k\n"
             "AuthorizedKeysCommandUser %s" % (gw.bin, gw.policy, KEYS_USER))
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def no_index(gw):
    idx = gw.policy + ".keys"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(idx)
    yield idx
    with contextlib.suppress(FileNotFoundError):
        os.unlink(idx)


def keys_cmd(gw, *args, user=KEYS_USER):
    return gw.local("keys", "-f", gw.policy, *args, user=user)


def key_args(gw, name):
    t, b64 = gw.keys[name].split()[:2]
    return t, b64


def shell_ran_for(akc, fp):
    """Did sshd accept this key (and so run the shell)?"""
    return ("Accepted publickey for %s" % GW) in akc.log_text() and \
        fp in akc.log_text()


# ---- the command itself, as sshd runs it ----

def test_listed_key_prints_one_line(gw, no_index):
    code, out, err = keys_cmd(gw, GW, *key_args(gw, "alice"))
    assert code == OK, err
    assert err == ""
    lines = out.splitlines()
    assert len(lines) == 1
    line = lines[0]
    assert line.startswith('restrict,pty,command="')
    assert '\\"--identity\\" \\"alice\\"' in line
    assert line.endswith(" ".join(key_args(gw, "alice")) + " muxgate:alice")


@pytest.mark.parametrize("who", ["unknown", "carol", "bob"])
def test_unknown_or_disabled_prints_nothing(gw, no_index, who):
    code, out, err = keys_cmd(gw, GW, *key_args(gw, who))
    assert (code, out, err) == (OK, "", "")


def test_other_user_prints_nothing(gw, no_index):
    code, out, err = keys_cmd(gw, "root", *key_args(gw, "alice"))
    assert (code, out, err) == (OK, "", "")
    code, out, err = keys_cmd(gw, "mgt-nosuchuser", *key_args(gw, "alice"))
    assert (code, out, err) == (OK, "", "")


def test_from_and_expiry_become_options(gw, no_index, policy_edit):
    text = gw.policy_text.replace(
        "  alice:\n", "  alice:\n    expires: 2099-03-04T05:06:07Z\n"
        "    from: [127.0.0.1, 10.0.0.0/8]\n", 1)
    policy_edit.write(text)
    code, out, err = keys_cmd(gw, GW, *key_args(gw, "alice"))
    assert code == OK, err
    assert ',from="127.0.0.1,10.0.0.0/8",expiry-time="20990304050607Z" ' \
        in out


def test_bad_key_argument(gw, no_index):
    t, b64 = key_args(gw, "alice")
    code, out, err = keys_cmd(gw, GW, "ssh-rsa", b64)
    assert code == USAGE and out == ""
    assert one_error_line(err).startswith("muxgate: keys: the key:")


def test_index_is_used_and_never_trusted_stale(gw, no_index, policy_edit):
    code, out, err = keys_cmd(gw, "--index", user=None)
    assert code == OK, err
    assert re.match(r"^%s: 6 identities, 6 keys\n$" % re.escape(no_index),
                    out), out
    st = os.stat(no_index)
    assert st.st_uid == 0 and st.st_mode & 0o777 == 0o644
    code, out, err = keys_cmd(gw, GW, *key_args(gw, "frank"))
    assert code == OK and "muxgate:frank" in out and err == ""
    # The policy changes; the index does not: frank is out at once.
    text = gw.policy_text.replace("  frank:\n", "  frank:\n    disabled: true\n",
                                  1)
    policy_edit.write(text)
    code, out, err = keys_cmd(gw, GW, *key_args(gw, "frank"))
    assert code == OK and out == ""
    assert "out of date" in one_error_line(err)
    # Rebuilt: the same answer, without the complaint.
    assert keys_cmd(gw, "--index", user=None)[0] == OK
    assert keys_cmd(gw, GW, *key_args(gw, "frank")) == (OK, "", "")
    assert keys_cmd(gw, GW, *key_args(gw, "alice"))[1].count("\n") == 1
    # Rewritten with the same bytes (a new inode and times): the hash
    # shows it is the same policy, and the index is used without a word.
    policy_edit.write(text)
    assert keys_cmd(gw, GW, *key_args(gw, "frank")) == (OK, "", "")


def test_index_written_by_others_is_refused(gw, no_index):
    assert keys_cmd(gw, "--index", user=None)[0] == OK
    os.chown(no_index, uid_of(KEYS_USER), uid_of(KEYS_USER))
    code, out, err = keys_cmd(gw, GW, *key_args(gw, "alice"))
    # Not trusted, so the policy is read: the answer is still right.
    assert code == OK and "muxgate:alice" in out
    assert "index unusable" in one_error_line(err)


@pytest.mark.parametrize("where", ["header", "alice's name"])
def test_corrupt_index_is_refused(gw, no_index, where):
    assert keys_cmd(gw, "--index", user=None)[0] == OK
    data = bytearray(open(no_index, "rb").read())
    if where == "header":
        data[8] ^= 0x55
    else:
        i = data.index(b"alice\0")
        data[i:i + 5] = b"al\"ce"
    with open(no_index, "wb") as f:
        f.write(bytes(data))
    code, out, err = keys_cmd(gw, GW, *key_args(gw, "alice"))
    # Not used: the policy is read, and the answer is still right.
    assert code == OK and out.endswith(" muxgate:alice\n")
    assert 'al"ce' not in out
    assert "unusable" in one_error_line(err)


def test_unreadable_policy_fails_closed(gw, no_index, policy_edit):
    policy_edit.chmod(0o600)
    code, out, err = keys_cmd(gw, GW, *key_args(gw, "alice"))
    assert code == FAIL and out == ""
    assert "Permission denied" in one_error_line(err)


def test_invalid_policy_fails_closed(gw, no_index, policy_edit):
    policy_edit.write(gw.policy_text + "bogus: 1\n")
    code, out, err = keys_cmd(gw, GW, *key_args(gw, "alice"))
    assert code == FAIL and out == ""
    one_error_line(err)


# ---- through sshd ----

def test_listed_key_logs_in_with_its_identity(gw, akc, no_index):
    # eve's key is in the policy by its SHA256: fingerprint only: sshd
    # gives the whole key, so the command can still answer for it.
    for name in ("alice", "frank", "eve"):
        code, out, err = akc.ssh(name, "whoami --json")
        assert code == OK, (err, akc.log_text()[-2000:])
        assert parse_json(out)["identity"] == name
        assert parse_json(out)["key"] == gw.fingerprints[name]


@pytest.mark.parametrize("with_index", [False, True])
def test_refused_by_sshd_itself(gw, akc, no_index, policy_edit, with_index):
    """Removed, disabled, expired, and from: outside: each is refused at
    authentication; the shell never runs."""
    text = gw.policy_text
    text = text.replace("  frank:\n", "  frank:\n    expires: 2020-01-01\n", 1)
    # alice's key leaves the policy; another key takes its place.
    text = text.replace(json.dumps(gw.keys["alice"]),
                        json.dumps(gw.keys["unknown"]), 1)
    policy_edit.write(text)
    if with_index:
        assert keys_cmd(gw, "--index", user=None)[0] == OK
    before = len(akc.log_text())
    # Removed, expired (edited and as written), disabled, from: outside.
    for name in ("alice", "frank", "bob", "carol", "dave"):
        code, out, err = akc.ssh(name, "whoami")
        assert code == 255, (name, out, err)
        assert DENIED_AUTH in err, (name, err)
        assert out == ""
    log = akc.log_text()[before:]
    assert "Accepted publickey" not in log
    assert "Starting session" not in log
    # The key that took alice's place gets in as alice.
    code, out, err = akc.ssh("unknown", "whoami --json")
    assert code == OK, err
    assert parse_json(out)["identity"] == "alice"


def test_unreadable_policy_logged_by_sshd(gw, akc, no_index, policy_edit):
    policy_edit.chmod(0o600)
    before = len(akc.log_text())
    code, out, err = akc.ssh("alice", "whoami")
    assert code == 255 and DENIED_AUTH in err
    log = akc.log_text()[before:]
    mine = [l for l in log.splitlines() if "muxgate: keys:" in l]
    assert len(mine) >= 1, log
    assert "Permission denied" in mine[0]
    assert "Accepted publickey" not in log


# ---- --all as a static authorized_keys file ----

@pytest.fixture
def static_file(gw):
    """sshd without ForceCommand reading `keys --all` output."""
    path = os.path.join(gw.base, "authorized_keys", "all-%s" % GW)
    s = Sshd(gw, "all", "AuthorizedKeysFile %s" % path, forcecommand=False)
    try:
        yield path, s
    finally:
        s.stop()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def test_all_is_an_authorized_keys_file(gw, static_file):
    path, s = static_file
    code, out, err = keys_cmd(gw, "--all", user=None)
    assert code == OK, err
    # carol is disabled, bob expired; eve is listed by fingerprint only.
    assert "# carol: disabled" in out
    assert "# bob: expired" in out
    assert "# eve: %s is listed by fingerprint only" % gw.fingerprints["eve"] \
        in out
    keylines = [l for l in out.splitlines() if not l.startswith("#")]
    assert len(keylines) == 3   # alice dave frank
    write_file(path, out)
    code, o, e = s.ssh("alice", "whoami --json")
    assert code == OK, (e, s.log_text()[-2000:])
    assert parse_json(o)["identity"] == "alice"
    for name in ("bob", "carol", "eve", "unknown"):
        code, o, e = s.ssh(name, "whoami")
        assert code == 255 and DENIED_AUTH in e, (name, e)
    # from: [192.0.2.0/24] became from=: sshd refuses dave from 127.0.0.1.
    code, o, e = s.ssh("dave", "whoami")
    assert code == 255 and DENIED_AUTH in e


def test_forced_identity_must_match_the_key(gw, static_file):
    """A command= line naming alice, given to frank's key: refused by
    muxgate (sshd exposes frank's key), where it used to log frank in as
    alice."""
    path, s = static_file
    code, out, err = keys_cmd(gw, "--all", user=None)
    alice_line = [l for l in out.splitlines() if l.endswith("muxgate:alice")]
    assert len(alice_line) == 1
    swapped = alice_line[0].replace(" ".join(key_args(gw, "alice")),
                                    " ".join(key_args(gw, "frank")))
    write_file(path, swapped + "\n")
    code, o, e = s.ssh("frank", "whoami --json")
    assert code == DENIED, (o, e)
    assert "does not belong to identity alice" in one_error_line(e)
    assert o == ""


def test_hostile_policy_values_stay_in_their_option(gw, static_file,
                                                    policy_edit):
    """Comments and odd characters in the policy's key lines never add
    an option or a line."""
    hostile = gw.keys["alice"].split()[:2]
    line = "%s %s x\",command=\"touch /tmp/mgt-pwned\"\nssh-ed25519 AAAA" % (
        hostile[0], hostile[1])
    text = gw.policy_text.replace(json.dumps(gw.keys["alice"]),
                                  json.dumps(line), 1)
    policy_edit.write(text)
    code, out, err = keys_cmd(gw, "--all", user=None)
    assert code == OK, err
    assert "mgt-pwned" not in out
    assert out.count("\n") == len(out.splitlines())
    for l in out.splitlines():
        if l.startswith("#"):
            continue
        assert l.count('command="') == 1
    code, out, err = keys_cmd(gw, GW, *key_args(gw, "alice"))
    assert code == OK and "mgt-pwned" not in out and out.count("\n") == 1
