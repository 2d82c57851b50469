#!/usr/bin/env python3
"""Writes a synthetic bundled pack at whole-formulary scale, for load-time and memory measurements.

Shaped like the DDInter-derived pack of issue 9 (about 2,000 substances, 130,000 pair rules, ~40 MB):
every rule carries summary, effect, mechanism, management and one citation, with text lengths of
that order. Deterministic (fixed seed). The facts are synthetic placeholders, never medical content.

    python3 bench/make_large_pack.py OUT.json [--substances 2000] [--rules 130000]
"""

from __future__ import annotations

import argparse
import json
import random


def make_pack(substances: int, rules: int) -> dict:
    rng = random.Random(42)
    pack: dict = {
        "manifest": {"name": "synthetic-large", "version": "1", "format_version": 1, "licence": "test"},
        "sources": [{"id": "s", "title": "synthetic source", "kind": "dataset", "grade": "secondary"}],
        "substances": [
            {"id": f"d{i}", "name": f"drug {i}", "synonyms": [f"drug number {i}"]} for i in range(substances)
        ],
        "classes": [],
        "interactions": [],
    }
    for c in range(40):
        members = sorted(set(rng.randrange(substances) for _ in range(50)))
        pack["classes"].append(
            {"id": f"c{c}", "name": f"class {c}",
             "members": [{"substance": f"d{m}", "sources": [{"source": "s"}]} for m in members]}
        )
    severities = ["minor", "moderate", "major", "contraindicated"]
    seen: set = set()
    for r in range(rules):
        while True:
            a, b = rng.randrange(substances), rng.randrange(substances)
            if a != b and (min(a, b), max(a, b)) not in seen:
                seen.add((min(a, b), max(a, b)))
                break
        second = {"class": f"c{r % 40}"} if r < 400 else {"substance": f"d{b}"}
        pack["interactions"].append({
            "id": f"r{r}",
            "participants": [{"substance": f"d{a}"}, second],
            "severity": severities[r % 4],
            "summary": f"Synthetic interaction {r} between drug {a} and drug {b}",
            "effect": f"Placeholder effect text for synthetic rule {r}.",
            "mechanism": {"type": "unknown"},
            "management": "Monitor, adjust the dose or avoid the combination.",
            "evidence": "secondary",
            "sources": [{"source": "s", "section": f"row {r}"}],
        })
    return pack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--substances", type=int, default=2000)
    parser.add_argument("--rules", type=int, default=130000)
    args = parser.parse_args()
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(make_pack(args.substances, args.rules), f, separators=(",", ":"))


if __name__ == "__main__":
    main()
