"""contrib/systemd/muxgate.service: `muxgate serve` keeps working inside
the unit's sandbox.  systemd does not run here, so the sandbox is made by
hand from the unit file itself: its CapabilityBoundingSet (setpriv), its
ProtectSystem=full (/usr, /boot and /etc read-only in a mount namespace)
and its UMask.  Then a client logs in, creates a session through sudo
and kills it, as the unit's users would.  The same for `muxgate prune`
and `muxgate reap` in theirs."""
import json
import os
import re
import shutil
import time

import pytest

from helpers import *
from serve_util import *
from helpers import _s

UNIT = os.path.join(REPO, "contrib", "systemd", "muxgate.service.in")
TARGET = "mgt-deploy@bastion:"
CAP_NUMBERS = {"CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_NET_BIND_SERVICE": 10,
               "CAP_SYS_RESOURCE": 24, "CAP_AUDIT_WRITE": 29}   # capability.h


def cap_bnd(pid):
    for line in open("/proc/%s/status" % pid):
        if line.startswith("CapBnd:"):
            return int(line.split()[1], 16)
    raise AssertionError("no CapBnd in /proc/%s/status" % pid)


def unit_settings():
    out = {}
    for line in open(UNIT):
        m = re.match(r"^([A-Za-z]+)=(.*)$", line.strip())
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


class SandboxedServe(Serve):
    def __init__(self, gw, directory, caps, **kw):
        super().__init__(gw, directory, **kw)
        self.caps = caps

    def argv(self):
        bounding = "-all," + ",".join(
            "+" + c[len("CAP_"):].lower() for c in self.caps)
        # ProtectSystem=full: read-only /usr, /boot, /efi and /etc.
        ro = " ".join(
            'mount --bind "%s" "%s" && mount -o remount,bind,ro "%s" &&'
            % (d, d, d) for d in ("/usr", "/etc", "/boot") if os.path.isdir(d))
        script = '%s exec setpriv --bounding-set %s -- "$@"' % (ro, bounding)
        return ["unshare", "--mount", "--propagation", "private", "--",
                "/bin/sh", "-c", script, "sh"] + super().argv()


def test_serve_works_in_the_unit_sandbox(gw, workdir):
    if shutil.which("setpriv", path=SYS_PATH) is None:
        pytest.skip("setpriv not found (package util-linux)")
    p = run(["unshare", "--mount", "--", "/bin/true"], check=False)
    if p.returncode != 0:
        pytest.skip("no mount namespace here: %s" % p.stderr)
    u = unit_settings()
    assert u.get("NoNewPrivileges") is None, "sudo needs new privileges"
    assert u["PrivateTmp"] == ["no"], "tmux sockets live in /tmp"
    assert u["ProtectSystem"] == ["full"]
    caps = u["CapabilityBoundingSet"][0].split()
    umask = int(u["UMask"][0], 8)
    s = SandboxedServe(gw, workdir, caps)
    s.start(umask=umask)
    try:
        # What the unit allows, of what this (maybe container's) root has.
        want = sum(1 << CAP_NUMBERS[c] for c in caps) & cap_bnd("self")
        assert cap_bnd(s.pid) == want, (hex(cap_bnd(s.pid)), caps)
        c = s.client()
        code, out, err = c.ssh("alice", "new %sunit-new" % TARGET, timeout=20)
        assert code == OK, (out, err, s.log())
        assert tmux_sessions(DEPLOY) == ["unit-new"]
        code, out, err = c.ssh("alice", "ls %sunit-new" % TARGET, timeout=20)
        assert code == OK and "unit-new" in out, (out, err)
        code, out, err = c.ssh("alice", "kill %sunit-new --yes" % TARGET,
                               timeout=20)
        assert code == OK, (out, err)
        assert tmux_sessions(DEPLOY) == []
    finally:
        s.stop()


PRUNE_UNIT = os.path.join(REPO, "contrib", "systemd", "muxgate-prune.service.in")


def test_prune_runs_as_the_prune_unit_runs_it(gw, policy_edit, workdir):
    """User=GATEWAY_USER, NoNewPrivileges=yes, CAP_AUDIT_WRITE ambient and
    nothing else in the bounding set: prune still removes what it must."""
    if shutil.which("setpriv", path=SYS_PATH) is None:
        pytest.skip("setpriv not found (package util-linux)")
    from test_prune import Recs, policy_with
    u = {}
    for line in open(PRUNE_UNIT):
        m = re.match(r"^([A-Za-z]+)=(.*)$", line.strip())
        if m:
            u[m.group(1)] = m.group(2)
    assert u["User"] == "@GATEWAY_USER@" and u["NoNewPrivileges"] == "yes"
    assert u["AmbientCapabilities"] == u["CapabilityBoundingSet"] == \
        "CAP_AUDIT_WRITE"
    recs = Recs(os.path.join(workdir, "rec"))
    policy_edit.write(policy_with(gw, recordings=recs.root))
    old, fresh = recs.add(100), recs.add(1)
    p = run(["setpriv", "--reuid", GW, "--regid", GW, "--init-groups",
             "--inh-caps", "-all,+audit_write",
             "--ambient-caps", "-all,+audit_write",
             "--bounding-set", "-all,+audit_write", "--no-new-privs", "--",
             gw.bin, "prune", "--older-than", "90d", "-f", gw.policy],
            check=False)
    assert p.returncode == OK, _s(p.stderr)
    assert _s(p.stdout) == "removed %s\n" % old
    assert not os.path.exists(old) and os.path.exists(fresh)


REAP_UNIT = os.path.join(REPO, "contrib", "systemd", "muxgate-reap.service.in")


def test_reap_runs_as_the_reap_unit_runs_it(gw, ssh):
    """User=GATEWAY_USER, the unit's bounding set and ProtectSystem=full,
    without NoNewPrivileges (sudo must become the tmux user): reap still
    kills a session whose TTL is up."""
    if shutil.which("setpriv", path=SYS_PATH) is None:
        pytest.skip("setpriv not found (package util-linux)")
    p = run(["unshare", "--mount", "--", "/bin/true"], check=False)
    if p.returncode != 0:
        pytest.skip("no mount namespace here: %s" % p.stderr)
    u = {}
    for line in open(REAP_UNIT):
        m = re.match(r"^([A-Za-z]+)=(.*)$", line.strip())
        if m:
            u[m.group(1)] = m.group(2)
    assert u["User"] == "@GATEWAY_USER@"
    assert "NoNewPrivileges" not in u, "sudo needs new privileges"
    assert u["PrivateTmp"] == "no", "tmux sockets live in /tmp"
    assert u["ProtectSystem"] == "full"
    caps = u["CapabilityBoundingSet"].split()
    code, out, err = ssh("alice", "new %sunit-reap --ttl 1s --json" % TARGET)
    assert code == OK, err
    time.sleep(max(0.0, json.loads(out)["expires"] + 1.05 - time.time()))
    ro = " ".join(
        'mount --bind "%s" "%s" && mount -o remount,bind,ro "%s" &&'
        % (d, d, d) for d in ("/usr", "/etc", "/boot") if os.path.isdir(d))
    bounding = "-all," + ",".join("+" + c[len("CAP_"):].lower()
                                  for c in caps)
    script = ('%s exec setpriv --reuid %s --regid %s --init-groups '
              '--bounding-set %s -- "$@"' % (ro, GW, GW, bounding))
    p = run(["unshare", "--mount", "--propagation", "private", "--",
             "/bin/sh", "-c", script, "sh", gw.bin, "reap", "-f", gw.policy],
            check=False, env=dict(BASE_ENV, HOME="/home/" + GW))
    assert p.returncode == OK, _s(p.stderr)
    assert "reaped %sunit-reap (created by alice, ttl 1s)\n" % TARGET in \
        _s(p.stdout), _s(p.stdout)
    assert not tmux_has(DEPLOY, "unit-reap")
