"""Speed of `KnowledgeBase.check` from Python (a benchmark script, not a test).

Uses the 10-drug regimen of bench/bench_check.cpp (BM_BuiltinCheck10), so that the two numbers
compare: the difference is the cost of the binding (argument conversion, GIL release, building the
Python Report). Run against the installed package:

    python bench/bench_python.py [--repeat 200] [--number 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import timeit

import rxcaution

TEN = ["methadone", "Suboxone", "alprazolam", "clarithromycin", "ondansetron",
       "sertraline", "gabapentin", "ketamine", "naltrexone", "quetiapine"]
CONDITIONS = ["hypertension", "long QT syndrome", "severe hepatic impairment"]


def measure(stmt, repeat: int, number: int) -> tuple[float, float, float]:
    """Median, min and max microseconds per call over `repeat` runs of `number` calls."""
    times = [t / number * 1e6 for t in timeit.repeat(stmt, repeat=repeat, number=number)]
    return statistics.median(times), min(times), max(times)


def main(argv: "list[str] | None" = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="timing runs (default 200)")
    parser.add_argument("--number", type=int, default=50, help="calls per run (default 50)")
    args = parser.parse_args(argv)

    kb = rxcaution.KnowledgeBase.builtin()
    report = kb.check(TEN)
    assert report.complete, report.unresolved  # every drug must resolve, or the check does less work
    print(f"rxcaution {rxcaution.__version__}, pack {kb.info.name} {kb.info.version}, Python {sys.version.split()[0]}")
    print(f"regimen: {len(TEN)} drugs -> {len(report.warnings)} warnings")

    cases = [
        ("check(10 drugs)", lambda: kb.check(TEN)),
        ("check(10 drugs, 3 conditions)", lambda: kb.check(TEN, conditions=CONDITIONS)),
        ("check(10 drugs) + to_dict()", lambda: kb.check(TEN).to_dict()),
        ("resolve('methadone hydrochloride')", lambda: kb.resolve("methadone hydrochloride")),
    ]
    print(f"{'case':40} {'median µs':>10} {'min µs':>10} {'max µs':>10}   ({args.repeat} x {args.number} calls)")
    for name, stmt in cases:
        median, low, high = measure(stmt, args.repeat, args.number)
        print(f"{name:40} {median:10.1f} {low:10.1f} {high:10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
