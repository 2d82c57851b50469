"""Build a DDInter-derived knowledge pack (bundled JSON) for benchmarks at whole-formulary scale.

Reads the DDInter CSV downloads (../shared/datasets/ddinter, or --ddinter DIR) at run time and
writes one bundled pack (docs/data-model.md, "bundled" form) to the path given on the command
line:

    python bench/ddinter_pack.py /tmp/ddinter-pack.json [--ddinter DIR] [--slice N]

The pack holds one substance per DDInter drug that has at least one rated pair (1,902 with the
eight files A, B, D, H, L, P, R, V) and one interaction rule per rated pair (130,422). DDInter is
the pack's one source.

DDInter's Level "Unknown" means DDInter lists the pair but gives no severity. The pack format has
no "unknown" severity, and rating such a pair "minor" would state a fact DDInter does not state, so
those pairs are left out and counted in the summary instead.

DDInter is CC BY-NC-SA 4.0: the pack written here is a derived data set under the same licence.
It is a benchmark input, never a file of this repository, and it is not clinical content of
rxcaution (the rules carry no effect, mechanism or management beyond what the CSVs say).

Exits 0 with a plain message when the DDInter folder is absent (so CI without the data passes).

`rxcaution import ddinter DIR -o OUT.json` (apps/import_ddinter.cpp) is the user-facing importer.
On the eight files both give the same pairs and severities (1,902 substances, 130,422 rules,
Unknown left out, 0 conflicting Levels); the importer also joins DDInter drugs to the curated
pack's substances (their ids) so that the result layers under it (`--pack builtin --pack OUT`).
This script stays for the benchmarks, whose peers need a standalone pack with name-derived ids.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DDINTER = Path(os.environ.get("RXCAUTION_DDINTER_DIR", REPO.parent / "shared" / "datasets" / "ddinter"))

HEADER = ["DDInterID_A", "Drug_A", "DDInterID_B", "Drug_B", "Level"]
LEVELS = {"Major": "major", "Moderate": "moderate", "Minor": "minor"}  # "Unknown" has no severity
LICENCE = "CC BY-NC-SA 4.0"
# The CSVs give only a Level: effect and management are said to be absent, never made up. Kept
# short because 130k rules repeat it (the pack size is part of what is measured).
NOT_GIVEN = "Not given in the DDInter CSV; see DDInter."


@dataclass
class DDInterPairs:
    """Unique unordered DDInter pairs (by DDInter id) read from the CSV files."""

    files: list[str] = field(default_factory=list)
    rows: int = 0
    names: dict[str, str] = field(default_factory=dict)  # DDInter id -> drug name
    levels: dict[tuple[str, str], str] = field(default_factory=dict)  # (id, id) sorted -> Level
    conflicts: int = 0

    def rated(self) -> list[tuple[str, str, str]]:
        """Pairs with a severity (Major/Moderate/Minor), in a stable order: (id_a, id_b, Level)."""
        return sorted((a, b, lvl) for (a, b), lvl in self.levels.items() if lvl in LEVELS)


def dataset_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("ddinter_downloads_code_*.csv")) if directory.is_dir() else []


def read_ddinter(directory: Path) -> DDInterPairs:
    """Reads every ddinter_downloads_code_*.csv of `directory` into unique unordered pairs.

    A pair appears once per ATC-class file of either drug; DDInter never gives one pair two
    Levels in these files, but a conflict is counted (and the first Level kept) rather than
    trusted silently.
    """
    paths = dataset_files(directory)
    if not paths:
        raise FileNotFoundError(f"no ddinter_downloads_code_*.csv in {directory}")
    data = DDInterPairs(files=[p.name for p in paths])
    for path in paths:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            if header != HEADER:
                raise ValueError(f"{path.name}: unexpected header {header}, expected {HEADER}")
            for id_a, name_a, id_b, name_b, level in reader:
                data.rows += 1
                if level not in LEVELS and level != "Unknown":
                    raise ValueError(f"{path.name}: unexpected Level {level!r}")
                data.names[id_a] = name_a
                data.names[id_b] = name_b
                key = (id_a, id_b) if id_a <= id_b else (id_b, id_a)
                old = data.levels.setdefault(key, level)
                if old != level:
                    data.conflicts += 1
    return data


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def select_pairs(data: DDInterPairs, slice_size: int | None) -> list[tuple[str, str, str]]:
    """The rated pairs the pack (and every peer of bench/peers.py) uses.

    `slice_size` keeps the first N rated pairs in id order: a small, reproducible pack for smoke
    tests; None keeps all.
    """
    rated = data.rated()
    return rated if slice_size is None else rated[:slice_size]


def build_pack(data: DDInterPairs, pairs: list[tuple[str, str, str]]) -> dict:
    """The bundled pack for `pairs` (see the module docstring for what goes in and what does not)."""
    drug_ids = sorted({d for a, b, _ in pairs for d in (a, b)}, key=lambda d: int(d[len("DDInter"):]))
    ids: dict[str, str] = {}
    used: set[str] = set()
    for d in drug_ids:
        base = slug(data.names[d]) or slug(d)
        sid = base if base not in used else f"{base}-{slug(d)}"
        used.add(sid)
        ids[d] = sid
    citation = [{"source": "ddinter"}]
    substances = [
        {"id": ids[d], "name": data.names[d], "notes": f"DDInter drug {d}"}
        for d in drug_ids
    ]
    interactions = []
    for a, b, level in pairs:
        interactions.append({
            "id": f"ddinter-{a[len('DDInter'):]}-{b[len('DDInter'):]}",
            "participants": [{"substance": ids[a]}, {"substance": ids[b]}],
            "severity": LEVELS[level],
            "summary": f"DDInter level {level}",
            "effect": NOT_GIVEN,
            "mechanism": {"type": "unknown"},
            "management": NOT_GIVEN,
            "evidence": "secondary",
            "sources": citation,
        })
    return {
        "manifest": {
            "name": "ddinter-bench",
            "version": "1.0.0",
            "format_version": 1,
            "licence": f"{LICENCE} (derived from DDInter; non-commercial use only; share alike)",
            "description": (
                "Benchmark pack derived from the DDInter CSV downloads (ATC files "
                + ", ".join(f[len("ddinter_downloads_code_"):-len(".csv")] for f in data.files)
                + "): one substance per drug with a rated pair, one rule per rated pair. "
                "Pairs DDInter rates Unknown are left out. Not rxcaution clinical content; never commit it."
            ),
        },
        "sources": [{
            "id": "ddinter",
            "title": "DDInter: an online drug-drug interaction database towards improving clinical "
                     "decision-making and patient safety (CSV downloads)",
            "publisher": "Computational Biology & Drug Design group, Central South University (scbdd.com)",
            "url": "https://ddinter.scbdd.com/download/",
            "kind": "dataset",
            "grade": "secondary",
            "notes": f"Licence {LICENCE}. Xiong G et al., Nucleic Acids Res. 2022;50(D1):D1200-D1207.",
        }],
        "substances": substances,
        "interactions": interactions,
    }


def summary_lines(data: DDInterPairs, pairs: list[tuple[str, str, str]], pack: dict) -> list[str]:
    all_levels = Counter(data.levels.values())
    kept = Counter(level for _, _, level in pairs)
    rated_drugs = {d for (a, b), lvl in data.levels.items() if lvl in LEVELS for d in (a, b)}
    return [
        f"DDInter files: {', '.join(data.files)} ({data.rows:,} rows, {len(data.levels):,} unique pairs, "
        f"{len(data.names):,} drugs, {data.conflicts} conflicting Levels)",
        "unique pairs by Level: " + ", ".join(f"{k} {v:,}" for k, v in sorted(all_levels.items())),
        f"Unknown-level pairs left out: {all_levels.get('Unknown', 0):,} (no severity in DDInter; never rated minor); "
        f"drugs with only Unknown pairs left out: {len(data.names) - len(rated_drugs):,}",
        f"pack: {len(pack['substances']):,} substances, {len(pack['interactions']):,} interaction rules ("
        + ", ".join(f"{k} {v:,}" for k, v in sorted(kept.items())) + "), 1 source (DDInter, " + LICENCE + ")",
    ]


def write_pack(pack: dict, out: Path) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(pack, ensure_ascii=False, separators=(",", ":"))
    out.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="where to write the pack JSON (outside the repository)")
    parser.add_argument("--ddinter", type=Path, default=DEFAULT_DDINTER,
                        help=f"folder with ddinter_downloads_code_*.csv (default {DEFAULT_DDINTER})")
    parser.add_argument("--slice", type=int, default=None, metavar="N",
                        help="keep only the first N rated pairs (smoke tests)")
    args = parser.parse_args(argv)

    if not dataset_files(args.ddinter):
        print(f"DDInter dataset not found at {args.ddinter}: no pack built (it is not part of the repository).")
        return 0
    data = read_ddinter(args.ddinter)
    pairs = select_pairs(data, args.slice)
    pack = build_pack(data, pairs)
    size = write_pack(pack, args.out)
    for line in summary_lines(data, pairs, pack):
        print(line)
    print(f"wrote {args.out} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
