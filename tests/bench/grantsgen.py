"""
tests/bench/grantsgen.py — grants in a gateway.state for the benchmarks
(tests/bench/grants, and relay G of tests/bench/run), written by
tests/bench/grants_gen (grants_gen.c: the gateway's own grants_add() and
grants_update(), so the entries are muxgate's, MACs and indexes
included).  Standard library only.

    import grantsgen
    gen = grantsgen.build()                      # make tests/bench/grants_gen
    ids = grantsgen.write(gen, STATE, lines)     # [(id, kind)], in order
    grantsgen.line(requester, kind, ...)         # one line of its input
    grantsgen.recheck(gen, STATE, ID, runs)      # what the relay's
                                                 # re-check costs, in us
"""
import os
import subprocess

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GEN = os.path.join(REPO, "tests", "bench", "grants_gen")
KINDS = ("pending", "lapsed", "self", "active", "expired", "denied",
         "revoked")


class GenError(Exception):
    pass


def build():
    """tests/bench/grants_gen, made (or found up to date) by make against
    the objects of `make muxgate`; its path."""
    p = subprocess.run(["make", "-s", "--no-print-directory", "-C", REPO,
                        "tests/bench/grants_gen"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0 or not os.access(GEN, os.X_OK):
        raise GenError("make tests/bench/grants_gen: %s"
                       % p.stdout.decode(errors="replace").strip())
    return GEN


def line(requester, kind, action="attach", host="bastion", user="root",
         session=None, duration=3600, ago=0, after=0, by=None):
    """One grant for grants_gen's standard input (grants_gen.c says what
    each field and KIND mean)."""
    if kind not in KINDS:
        raise ValueError("unknown kind %s" % kind)
    return "%s %s %s %s %s %d %d %d %s %s\n" % (
        requester, action, host, user, session or "-", duration, ago, after,
        kind, by or "-")


# A line of grants_gen's input: state_sweep(), which removes the pending
# index entries that back-dated requests leave expired (grants_gen.c).
SWEEP = "sweep\n"


def write(gen, state, lines):
    """Store LINES (from line(), or SWEEP) into the state at STATE (made
    if it does not exist); [(id, kind)] of the grants, in the order of
    LINES, SWEEP left out."""
    p = subprocess.run([gen, state], input="".join(lines).encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise GenError("grants_gen %s: %s" % (
            state, p.stderr.decode(errors="replace").strip()))
    out = [tuple(x.split()) for x in p.stdout.decode().splitlines()
           if not x.startswith("swept ")]
    want = sum(1 for x in lines if x != SWEEP)
    if len(out) != want or any(len(x) != 2 for x in out):
        raise GenError("grants_gen %s: %d grants written of %d"
                       % (state, len(out), want))
    return out


def recheck(gen, state, grant_id, runs=2000):
    """What grant_ended() of gateway/attach.c costs once a second, in
    microseconds (median, p90): {"unchanged": (..), "changed": (..)}."""
    p = subprocess.run([gen, state, "--recheck", grant_id, "--runs",
                        str(runs)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise GenError("grants_gen --recheck: %s"
                       % p.stderr.decode(errors="replace").strip())
    res = {}
    for ln in p.stdout.decode().splitlines():
        k, med, p90 = ln.split()
        res[k] = (float(med), float(p90))
    if set(res) != {"unchanged", "changed"}:
        raise GenError("grants_gen --recheck: unexpected output")
    return res
