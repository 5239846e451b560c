#!/usr/bin/python3
"""
tests/bench/results.py — the benchmarks' machine-readable figures.

When the environment variable BENCH_RESULTS names a file, every benchmark
appends to it one JSON object per figure, one a line (JSON Lines), beside
its usual report; tests/bench/report turns the file into RESULTS.md.
Without BENCH_RESULTS nothing is written.

A figure:

  bench           the benchmark: relay, seal-speed, termfilter-speed,
                  fanout, serve, recordings, keys, policy-load, grants
  figure          what is measured, e.g. "D muxgate throughput vs E floor"
  value, unit     the figure itself (a median unless the figure says)
  baseline        what it is compared with in the same run, or null
  baseline_value  that baseline's figure, in the same unit, or null
  ratio           value / baseline_value, when compared as a ratio
  difference      value - baseline_value, when compared as a difference
                  (one of the two is set when there is a baseline)
  paired          the same comparison taken between runs adjacent in
                  time (median of the per-pair ratios or differences),
                  where the bench measures it, else null
  target          the target, as the benchmark's README states it
                  ("<= +10 us"), or null: the figure has no target
  judged          which number the target applies to: value, ratio,
                  difference or paired (null without a target)
  met             true or false, or null: no target, or not judged
  note            a short remark, or null

A benchmark's exit status, written by the `make bench` driver:

  {"bench": NAME, "exit": N}

From Python: `import results; results.add("keys", "last", 6.86, "ms",
...)`.  From a shell: `tests/bench/results.py add --bench B --figure F
--value V --unit U [--baseline NAME --baseline-value V --compare
ratio|difference] [--paired V] [--target T --judged J --met yes|no]
[--note N]`, and `tests/bench/results.py exit NAME CODE`.
"""
import argparse
import json
import math
import os
import sys

ENV = "BENCH_RESULTS"
COMPARE = ("ratio", "difference")
JUDGED = ("value", "ratio", "difference", "paired")


def enabled():
    return bool(os.environ.get(ENV))


def _num(v):
    """A finite float, or None (JSON has no NaN)."""
    if v is None or isinstance(v, bool):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _append(obj):
    path = os.environ.get(ENV)
    if not path:
        return
    line = json.dumps(obj, sort_keys=False) + "\n"
    # One write(2) of the whole line, appended: lines of processes that
    # share the file do not interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def figure(bench, figure, value, unit, baseline=None, baseline_value=None,
           compare=None, paired=None, target=None, judged=None, met=None,
           note=None):
    """The record of one figure, as add() writes it."""
    if compare not in (None,) + COMPARE:
        raise ValueError("compare: ratio or difference, not %r" % compare)
    if judged not in (None,) + JUDGED:
        raise ValueError("judged: one of %s, not %r" % (JUDGED, judged))
    value, baseline_value = _num(value), _num(baseline_value)
    ratio = difference = None
    if compare and value is not None and baseline_value is not None:
        if compare == "difference":
            difference = value - baseline_value
        elif baseline_value != 0:
            ratio = value / baseline_value
    if target is None:
        judged = met = None
    return {"bench": bench, "figure": figure, "value": value, "unit": unit,
            "baseline": baseline, "baseline_value": baseline_value,
            "ratio": ratio, "difference": difference, "paired": _num(paired),
            "target": target, "judged": judged,
            "met": None if met is None else bool(met), "note": note}


def add(bench, name, value, unit, **kw):
    """Append one figure to $BENCH_RESULTS (nothing when it is unset)."""
    if enabled():
        _append(figure(bench, name, value, unit, **kw))


def add_exit(bench, code):
    """Append a benchmark's exit status."""
    if enabled():
        _append({"bench": bench, "exit": int(code)})


def _float(s):
    try:
        return float(s)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: %r" % s)


def main(argv):
    ap = argparse.ArgumentParser(
        prog="tests/bench/results.py",
        description="Append a figure or an exit status to $BENCH_RESULTS.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add", help="one figure")
    a.add_argument("--bench", required=True)
    a.add_argument("--figure", required=True)
    a.add_argument("--value", required=True, type=_float)
    a.add_argument("--unit", required=True)
    a.add_argument("--baseline")
    a.add_argument("--baseline-value", type=_float)
    a.add_argument("--compare", choices=COMPARE)
    a.add_argument("--paired", type=_float)
    a.add_argument("--target")
    a.add_argument("--judged", choices=JUDGED)
    a.add_argument("--met", choices=("yes", "no"))
    a.add_argument("--note")
    e = sub.add_parser("exit", help="a benchmark's exit status")
    e.add_argument("bench")
    e.add_argument("code", type=int)
    args = ap.parse_args(argv)
    if args.cmd == "exit":
        add_exit(args.bench, args.code)
        return 0
    add(args.bench, args.figure, args.value, args.unit,
        baseline=args.baseline, baseline_value=args.baseline_value,
        compare=args.compare, paired=args.paired, target=args.target,
        judged=args.judged,
        met=None if args.met is None else args.met == "yes",
        note=args.note)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
