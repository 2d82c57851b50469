#!/usr/bin/env python3
"""Regenerates tests/golden/ from the current build: the CLI's output for each pinned regimen in
every output format, plus the regimen picture (DOT). Run it only when a change of output is
intended, then review `git diff tests/golden`.

Usage: python tools/update_golden.py   (with the rxcaution package importable)
"""

from __future__ import annotations

import json
from pathlib import Path

from rxcaution._core import run_cli

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden"


def outputs(case: dict, formats: list[str]) -> dict[str, str]:
    """The files of one case: name -> expected stdout (exit status on the first line)."""
    files = {}
    for fmt in formats:
        code, out, err = run_cli(["check", "--format", fmt, *case["args"]])
        files[f"{case['name']}.{fmt}"] = f"exit {code}\n{err}---\n{out}"
    # graph takes medications only; drop the values of --condition/--min-severity options.
    args, skip = [], False
    for a in case["args"]:
        if skip:
            skip = False
            continue
        if a in ("--condition", "--min-severity"):
            skip = True
            continue
        if a.startswith("--"):
            continue
        args.append(a)
    code, out, err = run_cli(["graph", *args])
    files[f"{case['name']}.dot"] = f"exit {code}\n{err}---\n{out}"
    return files


def main() -> None:
    spec = json.loads((GOLDEN / "cases.json").read_text())
    for case in spec["cases"]:
        for name, text in outputs(case, spec["formats"]).items():
            (GOLDEN / name).write_text(text, encoding="utf-8", newline="")


if __name__ == "__main__":
    main()
