"""`muxgate keygen DIR` (muxgate(8), KEYGEN): an auditor key pair for
sealed recordings (docs/recording-format.md), its files and modes, its
fingerprint, and what it refuses."""
import base64
import hashlib
import os
import pwd
import re
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from helpers import *

FP_RE = re.compile(r"^BLAKE2B:[A-Za-z0-9+/]{43}$")
PUB_RE = re.compile(r"^muxgate-auditor-pub ([A-Za-z0-9+/]{43}=)\n$")
KEY_RE = re.compile(r"^muxgate-auditor-key ([A-Za-z0-9+/]{43}=)\n$")


def read(path):
    with open(path) as f:
        return f.read()


def fingerprint(pub_text):
    """The format's fingerprint, computed independently of muxgate."""
    pk = base64.b64decode(PUB_RE.match(pub_text).group(1))
    assert len(pk) == 32
    digest = hashlib.blake2b(pk, digest_size=32).digest()
    return "BLAKE2B:" + base64.b64encode(digest).decode().rstrip("=")


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def usage_error(err):
    """Exit 2: one `muxgate:` line that says what was wrong, then only
    the usage."""
    lines = err.splitlines()
    assert lines and lines[0].startswith("muxgate: keygen: "), err
    assert lines[1:] == ["usage: muxgate keygen DIR"], err
    return lines[0]


def test_keygen_writes_the_pair_and_prints_its_fingerprint(gw, workdir):
    d = os.path.join(workdir, "auditor")
    code, out, err = gw.local("keygen", d)
    assert code == OK, (code, out, err)
    assert err == ""
    assert out.count("\n") == 1 and FP_RE.match(out.rstrip("\n")), out
    assert mode(d) == 0o700 and os.path.isdir(d)
    key, pub = os.path.join(d, "auditor.key"), os.path.join(d, "auditor.pub")
    assert sorted(os.listdir(d)) == ["auditor.key", "auditor.pub"]
    assert stat.S_ISREG(os.lstat(key).st_mode) and mode(key) == 0o600
    assert stat.S_ISREG(os.lstat(pub).st_mode) and mode(pub) == 0o644
    assert out.rstrip("\n") == fingerprint(read(pub))
    # The public key is the X25519 public key of the secret one.
    sk = base64.b64decode(KEY_RE.match(read(key)).group(1))
    derived = X25519PrivateKey.from_private_bytes(sk).public_key() \
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert derived == base64.b64decode(PUB_RE.match(read(pub)).group(1))


def test_keygen_pairs_differ(gw, workdir):
    fps = set()
    for n in ("a", "b"):
        code, out, err = gw.local("keygen", os.path.join(workdir, n))
        assert code == OK, (code, out, err)
        fps.add(out)
    assert len(fps) == 2


def test_keygen_as_another_user_into_its_own_directory(gw, workdir):
    """No privilege needed; the modes do not depend on the caller."""
    d = os.path.join(workdir, "gwkeys")
    os.mkdir(d, 0o700)
    pw = pwd.getpwnam(GW)
    os.chown(d, pw.pw_uid, pw.pw_gid)
    code, out, err = gw.local("keygen", d, user=GW)
    assert code == OK, (code, out, err)
    for name, m in (("auditor.key", 0o600), ("auditor.pub", 0o644)):
        st = os.lstat(os.path.join(d, name))
        assert st.st_uid == pw.pw_uid and stat.S_IMODE(st.st_mode) == m
    assert out.rstrip("\n") == fingerprint(read(os.path.join(d,
                                                             "auditor.pub")))


def test_keygen_refuses_to_overwrite(gw, workdir):
    d = os.path.join(workdir, "auditor")
    code, out, err = gw.local("keygen", d)
    assert code == OK, (code, out, err)
    before = {n: read(os.path.join(d, n)) for n in os.listdir(d)}
    code, out2, err = gw.local("keygen", d)
    assert code == FAIL, (code, out2, err)
    assert out2 == ""
    line = one_error_line(err)
    assert "auditor.key" in line and "not overwriting" in line, line
    assert {n: read(os.path.join(d, n)) for n in os.listdir(d)} == before


def test_keygen_refuses_when_only_the_public_file_exists(gw, workdir):
    d = os.path.join(workdir, "auditor")
    os.mkdir(d, 0o700)
    with open(os.path.join(d, "auditor.pub"), "w") as f:
        f.write("someone else's\n")
    code, out, err = gw.local("keygen", d)
    assert code == FAIL, (code, out, err)
    assert "auditor.pub" in one_error_line(err)
    # All or nothing: no secret key without its public file.
    assert os.listdir(d) == ["auditor.pub"]
    assert read(os.path.join(d, "auditor.pub")) == "someone else's\n"


@pytest.mark.parametrize("dirmode", [0o777, 0o770, 0o1777, 0o702])
def test_keygen_refuses_a_directory_others_may_write(gw, workdir, dirmode):
    d = os.path.join(workdir, "open")
    os.mkdir(d)
    os.chmod(d, dirmode)
    code, out, err = gw.local("keygen", d)
    assert code == FAIL, (code, out, err)
    assert out == ""
    line = one_error_line(err)
    assert d in line and "group or others may write" in line, line
    assert os.listdir(d) == []


def test_keygen_refuses_a_directory_of_another_user(gw, workdir):
    d = os.path.join(workdir, "theirs")
    os.mkdir(d, 0o700)
    pw = pwd.getpwnam(DEPLOY)
    os.chown(d, pw.pw_uid, pw.pw_gid)
    code, out, err = gw.local("keygen", d)
    assert code == FAIL, (code, out, err)
    assert "neither this user nor root" in one_error_line(err)
    assert os.listdir(d) == []


def test_keygen_refuses_a_symbolic_link(gw, workdir):
    real = os.path.join(workdir, "real")
    os.mkdir(real, 0o700)
    link = os.path.join(workdir, "link")
    os.symlink(real, link)
    code, out, err = gw.local("keygen", link)
    assert code == FAIL, (code, out, err)
    assert "symbolic link" in one_error_line(err)
    assert os.listdir(real) == []


def test_keygen_needs_the_parent(gw, workdir):
    d = os.path.join(workdir, "no", "such")
    code, out, err = gw.local("keygen", d)
    assert code == FAIL, (code, out, err)
    assert "cannot create" in one_error_line(err)


@pytest.mark.parametrize("args,names", [
    ([], ["no directory given"]),
    ([""], ["no directory given"]),
    (["a", "b"], ["not also b"]),
    (["--bogus", "a"], ["bad option --bogus"]),
    (["a", "-x"], ["bad option -x"]),
])
def test_keygen_usage_errors(gw, workdir, args, names):
    code, out, err = gw.local("keygen", *args)
    assert code == USAGE, (code, out, err)
    assert out == ""
    line = usage_error(err)
    for n in names:
        assert n in line, (n, line)
    assert not os.path.exists("a") and not os.path.exists("b")


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_keygen_help(gw, flag):
    code, out, err = gw.local("keygen", flag)
    assert code == OK, (code, out, err)
    assert err == ""
    assert out == "usage: muxgate keygen DIR\n"


def test_top_level_help_names_keygen(gw):
    code, out, err = gw.local("help")
    assert code == OK, (code, out, err)
    assert "muxgate keygen DIR" in out
