"""Synthetic population of medication regimens for screening benchmarks (issue 11).

Draws regimens from the substance names of a pack (e.g. the DDInter-derived pack of
bench/ddinter_pack.py) and writes them in long format, one row per medication:

    regimen_id,medication
    0,Methadone
    0,Sertraline
    ...

    python bench/population.py PACK.json population.csv [--regimens 1000000] [--seed 1]
    python bench/population.py PACK.json population.parquet --conditions conditions.csv

What makes it look like a real population rather than uniform noise:

* drug popularity is Zipf-like: the drug of popularity rank r is drawn with weight 1 / r**s
  (s = --zipf, 0.8 by default: the most common drug is in about a quarter of
  regimens), ranks being a seeded shuffle of the pack's substances, so a few
  drugs are in many regimens and most are rare;
* regimen size (2 to 20 by default) is skewed towards small lists: P(k) proportional to
  exp(-(k - min) / 4), so most regimens have 2 to 6 medications and a few have 15 or more;
* names are typed the way people type them: mostly the pack name, some in lower or upper case,
  some misspelt (--misspell rate: one letter dropped, doubled, swapped or replaced), some not in
  the pack at all (--unknown rate: made-up names such as "zorvatinex");
* a medication is not repeated within a regimen (the misspelt variant of one is, at times).

The optional conditions table (regimen_id, condition) draws 0 to 3 conditions per regimen from the
pack's conditions or, when it has none (the DDInter pack has none), from the conditions of
rxcaution's built-in pack when rxcaution is installed.

Output is deterministic for a given pack, seed and options. Parquet needs pyarrow (rows are written
in batches); CSV needs nothing. Writing is streamed, so memory stays flat for any --regimens.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import itertools
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Iterator

LETTERS = "abcdefghijklmnopqrstuvwxyz"
SYLLABLES = ["zor", "va", "ti", "nex", "qua", "lin", "pra", "mo", "dex", "ul", "ro", "fen", "xa", "bu", "cil", "tor"]
BATCH = 200_000  # rows per Parquet batch / CSV flush


def pack_names(pack: Path) -> tuple[list[str], list[str]]:
    """Substance and condition display names of a bundled pack (JSON) in pack order."""
    data = json.loads(pack.read_text(encoding="utf-8"))
    substances = [s["name"] for s in data.get("substances", [])]
    conditions = [c["name"] for c in data.get("conditions", [])]
    return substances, conditions


def builtin_condition_names() -> list[str]:
    try:
        import rxcaution
    except ImportError:
        return []
    return [c.name for c in rxcaution.KnowledgeBase.builtin().conditions()]


def misspell(name: str, rng: random.Random) -> str:
    """One typing slip: a dropped, doubled, swapped or replaced letter (names of 4+ letters)."""
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(letters) < 4:
        return name + rng.choice(LETTERS)
    i = rng.choice(letters[1:-1])
    kind = rng.randrange(4)
    if kind == 0:
        return name[:i] + name[i + 1:]
    if kind == 1:
        return name[:i] + name[i] + name[i:]
    if kind == 2 and i + 1 < len(name):
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    return name[:i] + rng.choice(LETTERS) + name[i + 1:]


def unknown_name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


def regimens(substances: list[str], n: int, *, seed: int, zipf: float, min_size: int, max_size: int,
             misspell_rate: float, unknown_rate: float) -> Iterator[tuple[int, list[str]]]:
    """(regimen_id, medications as typed) for n regimens; deterministic by seed."""
    rng = random.Random(seed)
    ranked = substances[:]
    rng.shuffle(ranked)
    cum = list(itertools.accumulate(1.0 / (r ** zipf) for r in range(1, len(ranked) + 1)))
    total = cum[-1]
    sizes = list(range(min_size, max_size + 1))
    size_cum = list(itertools.accumulate(math.exp(-(k - min_size) / 4.0) for k in sizes))
    size_total = size_cum[-1]
    for regimen_id in range(n):
        size = sizes[bisect.bisect_left(size_cum, rng.random() * size_total)]
        size = min(size, len(ranked))
        chosen: list[str] = []
        seen: set[int] = set()
        while len(chosen) < size:
            if rng.random() < unknown_rate:
                chosen.append(unknown_name(rng))
                continue
            idx = min(bisect.bisect_left(cum, rng.random() * total), len(ranked) - 1)
            if idx in seen:
                continue
            seen.add(idx)
            name = ranked[idx]
            roll = rng.random()
            if roll < misspell_rate:
                name = misspell(name, rng)
            elif roll < misspell_rate + 0.15:
                name = name.lower()
            elif roll < misspell_rate + 0.18:
                name = name.upper()
            chosen.append(name)
        yield regimen_id, chosen


def condition_rows(n: int, names: list[str], seed: int) -> Iterator[tuple[int, str]]:
    rng = random.Random(seed + 7919)  # its own stream: adding conditions leaves the regimens unchanged
    for regimen_id in range(n):
        for name in rng.sample(names, min(len(names), rng.choice((0, 0, 0, 1, 1, 2, 3)))):
            yield regimen_id, name


def write_rows(path: Path, header: tuple[str, str], rows: Iterator[tuple[int, str]]) -> int:
    """Writes (int, str) rows as CSV or Parquet (by extension); returns the row count."""
    count = 0
    if path.suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise SystemExit(f"{path}: Parquet output needs pyarrow (pip install pyarrow), or write .csv") from None
        schema = pa.schema([(header[0], pa.int64()), (header[1], pa.string())])
        with pq.ParquetWriter(str(path), schema) as writer:
            while True:
                batch = list(itertools.islice(rows, BATCH))
                if not batch:
                    break
                ids, values = zip(*batch)
                writer.write_table(pa.table({header[0]: list(ids), header[1]: list(values)}, schema=schema))
                count += len(batch)
        return count
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pack", type=Path, help="bundled pack JSON whose substance names are drawn")
    parser.add_argument("out", type=Path, help="regimens, long format: .csv or .parquet")
    parser.add_argument("--regimens", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-size", type=int, default=2)
    parser.add_argument("--max-size", type=int, default=20)
    parser.add_argument("--zipf", type=float, default=0.8, help="Zipf exponent of drug popularity")
    parser.add_argument("--misspell", type=float, default=0.02, help="share of names misspelt")
    parser.add_argument("--unknown", type=float, default=0.01, help="share of names not in the pack")
    parser.add_argument("--conditions", type=Path, default=None,
                        help="also write a conditions table (regimen_id, condition): .csv or .parquet")
    args = parser.parse_args(argv)
    if not 1 <= args.min_size <= args.max_size:
        parser.error("need 1 <= --min-size <= --max-size")

    substances, conditions = pack_names(args.pack)
    if not substances:
        parser.error(f"{args.pack} has no substances")
    start = time.perf_counter()
    stats = {"medications": 0, "max": 0}

    def long_rows() -> Iterator[tuple[int, str]]:
        for regimen_id, meds in regimens(substances, args.regimens, seed=args.seed, zipf=args.zipf,
                                         min_size=args.min_size, max_size=args.max_size,
                                         misspell_rate=args.misspell, unknown_rate=args.unknown):
            stats["medications"] += len(meds)
            stats["max"] = max(stats["max"], len(meds))
            for med in meds:
                yield regimen_id, med

    rows = write_rows(args.out, ("regimen_id", "medication"), long_rows())
    print(f"wrote {args.out}: {args.regimens:,} regimens, {rows:,} rows "
          f"(mean {rows / max(args.regimens, 1):.2f} medications, max {stats['max']}) "
          f"drawn from {len(substances):,} substances, seed {args.seed}, {time.perf_counter() - start:.1f} s")
    if args.conditions is not None:
        names = conditions or builtin_condition_names()
        if not names:
            print("no conditions table: the pack has no conditions and rxcaution's built-in pack is not available")
        else:
            n = write_rows(args.conditions, ("regimen_id", "condition"), condition_rows(args.regimens, names, args.seed))
            origin = "the pack" if conditions else "rxcaution's built-in pack"
            print(f"wrote {args.conditions}: {n:,} rows drawn from {len(names)} conditions of {origin}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
