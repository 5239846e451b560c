"""The build and install targets, as a packager runs them, in a scratch
copy of the tree (the developer's build is not touched):
`make clean && make && make install DESTDIR=... PREFIX=/usr
GATEWAY_USER=mgt-x`, then `make uninstall`."""
import os
import shutil
import signal
import stat
import tempfile

import pytest

from helpers import *
from helpers import _s

GENERATED = ("contrib/sshd_config.d/muxgate.conf", "contrib/sudoers.d/muxgate",
             "contrib/tmpfiles.d/muxgate.conf", "contrib/audit/muxgate.rules",
             "contrib/systemd/muxgate.service",
             "contrib/systemd/muxgate-prune.service",
             "contrib/systemd/muxgate-reap.service",
             "contrib/sshd_config.d/muxgate-keys.conf",
             "contrib/systemd/muxgate-keys-index.service")
UNITS = ("muxgate.service", "muxgate-prune.service", "muxgate-prune.timer",
         "muxgate-reap.service", "muxgate-reap.timer",
         "muxgate-keys-index.service", "muxgate-keys-index.path")


def make(tree, *args, timeout=500):
    p = run(["make", "-C", tree, "-j%d" % (os.cpu_count() or 2)] + list(args),
            check=False, timeout=timeout,
            env=dict(BASE_ENV, MAKEFLAGS=""))
    assert p.returncode == 0, "make %s failed:\n%s%s" % (
        " ".join(args), _s(p.stdout), _s(p.stderr))
    return _s(p.stdout) + _s(p.stderr)


def files_under(root):
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(root)
                  for f in fs)


@pytest.fixture
def scratch():
    signal.alarm(900)       # a whole build; conftest resets the alarm
    base = tempfile.mkdtemp(prefix="mgt-install-")
    tree = os.path.join(base, "tree")
    shutil.copytree(REPO, tree, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".demo", "__pycache__", ".pytest_cache"))
    try:
        yield tree, os.path.join(base, "root")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_clean_build_install_uninstall(scratch):
    tree, dest = scratch
    make(tree, "clean")
    for g in GENERATED:
        assert not os.path.exists(os.path.join(tree, g)), g
        assert os.path.exists(os.path.join(tree, g + ".in")), g
    make(tree)
    out = make(tree, "install", "DESTDIR=" + dest, "PREFIX=/usr",
               "GATEWAY_USER=mgt-x", "KEYS_USER=mgt-keys")

    # No capability on a staged file: it would not survive packaging.
    assert "setcap cap_audit_write+ep /usr/bin/muxgate" in out, out
    p = run(["getcap", "-r", dest], check=False)
    assert _s(p.stdout).strip() == "", _s(p.stdout)
    assert os.access(os.path.join(dest, "usr/bin/muxgate"), os.X_OK)

    units = os.path.join(dest, "usr/lib/systemd/system")
    for u in UNITS:
        assert os.path.isfile(os.path.join(units, u)), u
    doc = os.path.join(dest, "usr/share/doc/muxgate/contrib")
    texts = {}
    for rel in ("sshd_config.d/muxgate.conf", "sudoers.d/muxgate",
                "tmpfiles.d/muxgate.conf", "audit/muxgate.rules",
                "sshd_config.d/muxgate-keys.conf"):
        texts[rel] = open(os.path.join(doc, rel)).read()
    for u in UNITS:
        texts[u] = open(os.path.join(units, u)).read()
    for rel, t in texts.items():
        assert "@" not in t.replace("%u", ""), (rel, t)
        assert "/usr/local" not in t, (rel, t)
    for rel in ("sshd_config.d/muxgate.conf", "audit/muxgate.rules",
                "muxgate.service", "muxgate-prune.service",
                "muxgate-reap.service"):
        assert "/usr/bin/muxgate" in texts[rel], rel
    for rel in ("sshd_config.d/muxgate.conf", "sudoers.d/muxgate",
                "tmpfiles.d/muxgate.conf", "muxgate.service",
                "muxgate-prune.service", "muxgate-reap.service"):
        assert "mgt-x" in texts[rel], rel
    assert "\nMatch User mgt-x\n" in texts["sshd_config.d/muxgate.conf"]
    assert "\tAuthorizedKeysFile /etc/ssh/authorized_keys/%u\n" in \
        texts["sshd_config.d/muxgate.conf"]
    assert "\nmgt-x ALL=(" in texts["sudoers.d/muxgate"]
    assert "User=mgt-x\n" in texts["muxgate-prune.service"]
    assert "User=mgt-x\n" in texts["muxgate-reap.service"]
    assert "ExecStart=/usr/bin/muxgate reap -f /etc/muxgate/gateway.yaml\n" \
        in texts["muxgate-reap.service"]
    assert "--user mgt-x\n" in texts["muxgate.service"]

    # What sshd and sudo make of them.
    p = run(["visudo", "-cf", os.path.join(doc, "sudoers.d/muxgate")],
            check=False)
    assert p.returncode == 0, _s(p.stdout) + _s(p.stderr)
    key = os.path.join(os.path.dirname(dest), "hostkey")
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key])
    conf = os.path.join(os.path.dirname(dest), "sshd_config")

    def effective(rel):
        """sshd -T of the generated file REL, for the gateway account."""
        with open(conf, "w") as f:
            f.write("HostKey %s\nUsePAM no\n" % key + texts[rel])
        p = run(["/usr/sbin/sshd", "-T", "-f", conf, "-C",
                 "user=mgt-x,host=client,addr=192.0.2.1"], check=False)
        assert p.returncode == 0, _s(p.stderr)
        return _s(p.stdout)
    out_t = effective("sshd_config.d/muxgate.conf")
    assert "forcecommand /usr/bin/muxgate shell -f /etc/muxgate/gateway.yaml" \
        in out_t, out_t
    assert "authorizedkeysfile /etc/ssh/authorized_keys/%u" in out_t, out_t

    # The AuthorizedKeysCommand variant.
    out_t = effective("sshd_config.d/muxgate-keys.conf")
    assert "authorizedkeyscommand /usr/bin/muxgate keys -f " \
        "/etc/muxgate/gateway.yaml %u %t %k" in out_t, out_t
    assert "authorizedkeyscommanduser mgt-keys" in out_t, out_t
    assert "authorizedkeysfile none" in out_t, out_t
    assert "forcecommand /usr/bin/muxgate shell -f /etc/muxgate/gateway.yaml" \
        in out_t, out_t
    assert "ExecStart=/usr/bin/muxgate keys --index -f " \
        "/etc/muxgate/gateway.yaml\n" in texts["muxgate-keys-index.service"]

    # systemd accepts the units (their binary made to exist here).
    if shutil.which("systemd-analyze", path=SYS_PATH):
        vdir = os.path.join(os.path.dirname(dest), "units")
        os.mkdir(vdir)
        for u in UNITS:
            with open(os.path.join(vdir, u), "w") as f:
                f.write(texts[u].replace("/usr/bin/muxgate",
                                         os.path.join(tree, "muxgate")))
        p = run(["systemd-analyze", "verify", "--man=no"] +
                [os.path.join(vdir, u) for u in UNITS], check=False)
        assert p.returncode == 0 and _s(p.stderr) == "", _s(p.stderr)

    # Nothing under share/doc is a program.
    for f in files_under(os.path.join(dest, "usr/share")):
        mode = os.lstat(f).st_mode
        assert stat.S_ISREG(mode) and not mode & 0o111, (f, oct(mode))

    make(tree, "uninstall", "DESTDIR=" + dest, "PREFIX=/usr")
    assert files_under(dest) == []
    assert not os.path.exists(os.path.join(dest, "usr/share/doc/muxgate"))

    # make clean again: generated files go, the templates stay.
    make(tree, "clean")
    for g in GENERATED:
        assert not os.path.exists(os.path.join(tree, g)), g
