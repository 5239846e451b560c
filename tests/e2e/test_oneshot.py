"""One-shot commands over ssh: whoami, hosts, ls (text and --json)."""
import re
import time

import pytest

from helpers import *

ALL = ["list", "watch", "attach", "create", "kill", "kill-own"]
SESSION_KEYS = {"name", "windows", "created", "activity", "attached", "owner",
                "expires", "viewers"}


def rows_by_user(doc):
    assert set(doc) == {"hosts"}, doc
    rows = {}
    for row in doc["hosts"]:
        assert (row["host"], row["user"]) not in rows, "duplicate row %r" % row
        rows[(row["host"], row["user"])] = row
    return rows


# ---- whoami ----

def test_whoami_json_full_key_identity(gw, ssh):
    code, out, err = ssh("alice", "whoami --json")
    assert code == OK, err
    assert parse_json(out) == {"identity": "alice",
                               "key": gw.fingerprints["alice"],
                               "roles": ["operator"]}


def test_whoami_json_fingerprint_identity(gw, ssh):
    """eve's policy entry is the SHA256: fingerprint, not the key."""
    code, out, err = ssh("eve", "whoami --json")
    assert code == OK, err
    assert parse_json(out) == {"identity": "eve",
                               "key": gw.fingerprints["eve"],
                               "roles": ["observer"]}


def test_whoami_text(ssh):
    code, out, err = ssh("alice", "whoami")
    assert code == OK, err
    assert "alice" in out
    assert err == ""


def test_command_name_unique_prefix(gw, ssh):
    code, out, err = ssh("alice", "whoa --json")
    assert code == OK, err
    assert parse_json(out)["identity"] == "alice"


@pytest.mark.parametrize("cmd", ["h", "w", "frobnicate", "ls-all"])
def test_ambiguous_or_unknown_command_is_usage_error(ssh, cmd):
    code, out, err = ssh("alice", cmd)
    assert code == USAGE, (out, err)
    one_error_line(err)


def test_help(ssh):
    code, out, err = ssh("alice", "help")
    assert code == OK, err
    for word in ("ls", "new", "attach", "watch", "kill", "whoami"):
        assert word in out


# ---- hosts ----

def test_hosts_json_alice(ssh):
    """Exact document: only what alice may use (web1, which she is granted
    nothing on, is not disclosed), users in policy order, actions in the
    contract's order with the implied ones (attach->watch, kill->kill-own),
    and whether each (host, user) answers: mgt-build's sudo refuses."""
    code, out, err = ssh("alice", "hosts --json")
    assert code == OK, err
    assert parse_json(out) == {"hosts": [{"host": "bastion", "users": [
        {"user": "mgt-gw", "actions": ["list"], "status": "ok"},
        {"user": "mgt-deploy", "actions": ALL, "status": "ok"},
        {"user": "mgt-build", "actions": ALL, "status": "forbidden", "error": "sudo: a password is required"},
    ]}]}


def test_hosts_json_observer_with_deny_rule(ssh):
    code, out, err = ssh("eve", "hosts --json")
    assert code == OK, err
    assert parse_json(out) == {"hosts": [{"host": "bastion", "users": [
        {"user": "mgt-deploy", "actions": ["list", "watch"], "status": "ok"},
        {"user": "mgt-build", "actions": ["list"], "status": "forbidden", "error": "sudo: a password is required"},
    ]}]}


def test_hosts_text(ssh):
    code, out, err = ssh("alice", "hosts")
    assert code == OK, err
    assert "bastion" in out
    assert "mgt-deploy" in out
    assert "web1" not in out


# ---- ls ----

def test_ls_json_without_servers(ssh):
    """No tmux server for anyone: mgt-deploy and mgt-gw are ok with no
    sessions, mgt-build is forbidden (sudo refuses); exit 0 anyway."""
    code, out, err = ssh("alice", "ls --json")
    assert code == OK, err
    rows = rows_by_user(parse_json(out))
    assert set(rows) == {("bastion", "mgt-gw"), ("bastion", "mgt-deploy"),
                         ("bastion", "mgt-build")}
    for u in ("mgt-gw", "mgt-deploy"):
        assert rows[("bastion", u)] == {"host": "bastion", "user": u,
                                        "status": "ok", "sessions": []}
    build = rows[("bastion", "mgt-build")]
    assert set(build) == {"host", "user", "status", "error", "sessions"}
    assert build["status"] == "forbidden"
    assert build["sessions"] == []
    assert isinstance(build["error"], str) and build["error"]


def test_ls_json_sessions_shape_and_owner(gw, ssh):
    t0 = int(time.time())
    tmux_new(DEPLOY, "direct1", "/bin/cat")
    code, out, err = ssh("alice", "new mgt-deploy@bastion:made1")
    assert code == OK, err
    t1 = int(time.time())
    code, out, err = ssh("alice", "ls --json")
    assert code == OK, err
    rows = rows_by_user(parse_json(out))
    deploy = rows[("bastion", "mgt-deploy")]
    assert deploy["status"] == "ok"
    assert set(deploy) == {"host", "user", "status", "sessions"}
    by_name = {s["name"]: s for s in deploy["sessions"]}
    assert set(by_name) == {"direct1", "made1"}
    for s in by_name.values():
        assert set(s) == SESSION_KEYS, s
        for k in ("windows", "created", "activity", "attached"):
            assert type(s[k]) is int, (k, s)
        assert s["windows"] == 1
        assert s["attached"] == 0
        assert t0 - 2 <= s["created"] <= t1 + 2, s
        assert s["activity"] >= s["created"] - 1
    assert by_name["made1"]["owner"] == "alice"
    assert by_name["direct1"]["owner"] is None
    # No TTL for either (test_ttl.py has those).
    assert by_name["made1"]["expires"] is None
    assert by_name["direct1"]["expires"] is None


def _two_sessions(ssh):
    tmux_new(DEPLOY, "direct1", "/bin/cat")
    code, out, err = ssh("alice", "new mgt-deploy@bastion:made1")
    assert code == OK, err
    code, out, err = ssh("alice", "ls")
    assert code == OK, err
    assert err == ""
    return out.split("\n")


def test_ls_text_content(ssh):
    """What the text listing must hold, whatever its layout."""
    lines = _two_sessions(ssh)
    hdr = [l for l in lines if not l.startswith(" ") and l]
    assert [h.split(":")[0] for h in hdr] == ["mgt-gw@bastion",
                                              "mgt-deploy@bastion",
                                              "mgt-build@bastion"], lines
    assert re.match(r"^mgt-deploy@bastion: ok\b", hdr[1]), hdr
    assert re.match(r"^mgt-gw@bastion: ok\b", hdr[0]), hdr
    assert re.match(r"^mgt-build@bastion: forbidden\b", hdr[2]), hdr
    made = [l for l in lines if "mgt-deploy@bastion:made1" in l]
    direct = [l for l in lines if "mgt-deploy@bastion:direct1" in l]
    assert len(made) == 1 and len(direct) == 1, lines
    assert made[0].startswith("  ") and direct[0].startswith("  ")
    assert re.search(r"\b1 windows?\b", made[0]) and "0 attached" in made[0]
    assert re.search(r"created \d{4}-\d\d-\d\d \d\d:\d\d", made[0])
    assert "owner alice" in made[0]
    assert "owner" not in direct[0] or "owner -" in direct[0], direct


def test_ls_text_format(ssh):
    """The exact lines: `deploy@bastion: ok`, `gw@bastion: ok, no sessions`,
    `build@bastion: forbidden (sudo refused)` and
    `  deploy@bastion:NAME  (1 window, created 2026-11-23 19:00, 0 attached, owner alice)`."""
    lines = _two_sessions(ssh)
    missing = []
    for want in ("mgt-deploy@bastion: ok", "mgt-gw@bastion: ok, no sessions",
                 "mgt-build@bastion: forbidden (sudo refused)"):
        if want not in lines:
            missing.append(want)
    for name, owner in (("made1", ", owner alice"), ("direct1", "")):
        pat = (r"^  mgt-deploy@bastion:%s  \(1 window, created "
               r"\d{4}-\d\d-\d\d \d\d:\d\d, 0 attached%s\)$" % (name, owner))
        if not any(re.match(pat, l) for l in lines):
            missing.append(pat)
    assert not missing, "missing lines %r in output %r" % (missing, lines)


def test_list_alias(ssh):
    tmux_new(DEPLOY, "s1", "/bin/cat")
    code, out, err = ssh("alice", "list mgt-deploy@bastion --json")
    assert code == OK, err
    rows = rows_by_user(parse_json(out))
    assert list(rows) == [("bastion", "mgt-deploy")]
    assert [s["name"] for s in rows[("bastion", "mgt-deploy")]["sessions"]] \
        == ["s1"]


def test_ls_host(ssh):
    code, out, err = ssh("alice", "ls bastion --json")
    assert code in (OK, FAIL), err
    rows = rows_by_user(parse_json(out))
    assert set(rows) == {("bastion", "mgt-gw"), ("bastion", "mgt-deploy"),
                         ("bastion", "mgt-build")}


def test_ls_user_at_host(ssh):
    tmux_new(DEPLOY, "s1", "/bin/cat")
    code, out, err = ssh("alice", "ls mgt-deploy@bastion")
    assert code == OK, err
    assert "mgt-deploy@bastion: ok" in out.split("\n")
    assert "mgt-deploy@bastion:s1" in out
    assert "mgt-build" not in out and "mgt-gw" not in out


def test_ls_gateway_own_user(ssh):
    """mgt-gw's own tmux is run directly (no sudo); no server -> ok, empty."""
    code, out, err = ssh("alice", "ls mgt-gw@bastion --json")
    assert code == OK, err
    assert parse_json(out) == {"hosts": [{"host": "bastion", "user": "mgt-gw",
                                          "status": "ok", "sessions": []}]}


def test_ls_forbidden_user_prints_row_and_exits_1(ssh):
    code, out, err = ssh("alice", "ls mgt-build@bastion")
    assert code == FAIL, (out, err)
    assert re.search(r"^mgt-build@bastion: forbidden\b", out, re.M), out
    code, out, err = ssh("alice", "ls mgt-build@bastion --json")
    assert code == FAIL, (out, err)
    doc = parse_json(out)
    assert doc["hosts"][0]["status"] == "forbidden"
    assert doc["hosts"][0]["sessions"] == []


def test_ls_session(ssh):
    tmux_new(DEPLOY, "s1", "/bin/cat")
    code, out, err = ssh("alice", "ls mgt-deploy@bastion:s1 --json")
    assert code == OK, err
    doc = parse_json(out)
    assert [s["name"] for s in doc["hosts"][0]["sessions"]] == ["s1"]


def test_ls_missing_session_exit_4(ssh):
    tmux_new(DEPLOY, "s1", "/bin/cat")
    code, out, err = ssh("alice", "ls mgt-deploy@bastion:nosuch")
    assert code == NOSESSION, (out, err)
    one_error_line(err)


def test_ls_missing_session_no_server_exit_4(ssh):
    code, out, err = ssh("alice", "ls mgt-deploy@bastion:nosuch")
    assert code == NOSESSION, (out, err)


def test_ls_session_is_exact_match_not_prefix(ssh):
    """tmux's -t foo would match foobar: the gateway must use =foo."""
    tmux_new(DEPLOY, "foobar", "/bin/cat")
    code, out, err = ssh("alice", "ls mgt-deploy@bastion:foo")
    assert code == NOSESSION, (out, err)


def test_observer_ls(ssh):
    tmux_new(DEPLOY, "s1", "/bin/cat")
    code, out, err = ssh("eve", "ls --json")
    assert code == OK, err
    rows = rows_by_user(parse_json(out))
    assert set(rows) == {("bastion", "mgt-deploy"), ("bastion", "mgt-build")}
    assert [s["name"] for s in rows[("bastion", "mgt-deploy")]["sessions"]] \
        == ["s1"]


@pytest.mark.parametrize("mode,owner", [(0o777, "user"), (0o700, "root")],
                         ids=["0777-user", "0700-root"])
def test_unsafe_tmux_socket_directory(gw, ssh, mode, owner):
    """The tmux user's socket dir must be theirs and private."""
    d = "/tmp/tmux-%d" % uid_of(DEPLOY)
    shutil.rmtree(d, ignore_errors=True)
    os.mkdir(d)
    try:
        os.chown(d, 0 if owner == "root" else uid_of(DEPLOY), 0)
        os.chmod(d, mode)
        code, out, err = ssh("alice", "ls --json")
        assert code == OK, err
        row = rows_by_user(parse_json(out))[("bastion", "mgt-deploy")]
        assert row["status"] == "error", row
        assert "unsafe tmux socket directory" in row["error"], row
        assert row["sessions"] == []
        code, out, err = ssh("alice", "ls mgt-deploy@bastion")
        assert code == FAIL, (out, err)
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("lang", [True, False], ids=["client-LANG",
                                                     "no-client-locale"])
def test_ls_does_not_depend_on_the_client_locale(ssh, lang):
    """Clients that send no LANG (scripts, cron, other ssh_configs) get the
    same listing: tmux must not be left to mangle its output (without a
    UTF-8 locale tmux 3.3 prints the tab separators as '_')."""
    tmux_new(DEPLOY, "s1", "/bin/cat")
    code, out, err = ssh("alice", "ls mgt-deploy@bastion --json", lang=lang)
    assert code == OK, (out, err)
    row = parse_json(out)["hosts"][0]
    assert row["status"] == "ok", row
    assert [s["name"] for s in row["sessions"]] == ["s1"]
