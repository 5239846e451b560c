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
             "contrib/tmpfiles.d/muxgate.conf", "contrib/audit/muxgate.rules")


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
               "GATEWAY_USER=mgt-x")

    # No capability on a staged file: it would not survive packaging.
    assert "setcap cap_audit_write+ep /usr/bin/muxgate" in out, out
    p = run(["getcap", "-r", dest], check=False)
    assert _s(p.stdout).strip() == "", _s(p.stdout)
    assert os.access(os.path.join(dest, "usr/bin/muxgate"), os.X_OK)

    doc = os.path.join(dest, "usr/share/doc/muxgate/contrib")
    texts = {}
    for rel in ("sshd_config.d/muxgate.conf", "sudoers.d/muxgate",
                "tmpfiles.d/muxgate.conf", "audit/muxgate.rules"):
        texts[rel] = open(os.path.join(doc, rel)).read()
    for rel, t in texts.items():
        assert "@" not in t.replace("%u", ""), (rel, t)
        assert "/usr/local" not in t, (rel, t)
    for rel in ("sshd_config.d/muxgate.conf", "audit/muxgate.rules"):
        assert "/usr/bin/muxgate" in texts[rel], rel
    for rel in ("sshd_config.d/muxgate.conf", "sudoers.d/muxgate",
                "tmpfiles.d/muxgate.conf"):
        assert "mgt-x" in texts[rel], rel
    assert "\nMatch User mgt-x\n" in texts["sshd_config.d/muxgate.conf"]
    assert "\tAuthorizedKeysFile /etc/ssh/authorized_keys/%u\n" in \
        texts["sshd_config.d/muxgate.conf"]
    assert "\nmgt-x ALL=(" in texts["sudoers.d/muxgate"]

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
