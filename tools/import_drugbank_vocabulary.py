#!/usr/bin/env python3
"""Turns the DrugBank open vocabulary CSV (CC0) into data/vocabulary/drugbank-vocabulary.tsv.

The TSV is what the library embeds and parses (src/vocabulary.cpp): one drug per line,
`drugbank_id TAB name TAB cas TAB unii TAB synonyms` with synonyms separated by `|`.

What is left out, and why (the counts are printed):
- the accession numbers and InChI keys (nobody types them);
- synonyms longer than 60 characters (systematic chemical names: never typed as a medication,
  and a third of the bytes);
- synonyms of at most 6 characters without a lowercase letter (acronyms such as "NMDA", listed
  under ketamine: an acronym names many things, and a wrong resolution is worse than none);
- synonyms equal to the drug's own name (ignoring case).
Tabs inside a field become spaces; `|` inside a synonym (never seen) would be dropped with a count.

Usage: python3 tools/import_drugbank_vocabulary.py [CSV] [-o OUT]
"""

from __future__ import annotations

import argparse
import collections
import csv
import hashlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CSV = ROOT.parent / "shared" / "datasets" / "drugbank-vocabulary" / "drugbank_vocabulary.csv"
DEFAULT_OUT = ROOT / "data" / "vocabulary" / "drugbank-vocabulary.tsv"
COLUMNS = ["DrugBank ID", "Accession Numbers", "Common name", "CAS", "UNII", "Synonyms", "Standard InChI Key"]
MAX_SYNONYM = 60


def normalize(text: str) -> str:
    """Mirror of rxcaution::detail::normalize_name (ASCII letters lowered, runs of other ASCII
    joined by one space, apostrophes dropped, non-ASCII bytes kept)."""
    out: list[str] = []
    space = False
    for ch in text.encode("utf-8"):
        c = chr(ch)
        if ("a" <= c <= "z") or ("0" <= c <= "9") or ch >= 0x80:
            if space and out:
                out.append(" ")
            space = False
            out.append(c)
        elif "A" <= c <= "Z":
            if space and out:
                out.append(" ")
            space = False
            out.append(c.lower())
        elif c == "'":
            pass
        else:
            space = True
    return "".join(out)


def clean(text: str) -> str:
    return re.sub(r"[\t\r\n]", " ", text).strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", nargs="?", type=Path, default=DEFAULT_CSV)
    ap.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    raw = args.csv.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    reader = csv.DictReader(raw.decode("utf-8").splitlines())
    if reader.fieldnames != COLUMNS:
        print(f"{args.csv}: expected columns {COLUMNS}, found {reader.fieldnames}", file=sys.stderr)
        return 1
    counts = collections.Counter()
    lines: list[str] = []
    keys: dict[str, set[str]] = collections.defaultdict(set)
    seen_ids: set[str] = set()
    for row in reader:
        db = clean(row["DrugBank ID"])
        if not re.fullmatch(r"DB\d{5}", db) or db in seen_ids:
            counts["rows dropped: bad or repeated DrugBank id"] += 1
            continue
        seen_ids.add(db)
        name = clean(row["Common name"])
        if not name:
            counts["rows dropped: no name"] += 1
            continue
        cas, unii = clean(row["CAS"]), clean(row["UNII"])
        synonyms: list[str] = []
        for s in row["Synonyms"].split(" | "):
            s = clean(s)
            if not s:
                continue
            if "|" in s:
                counts["synonyms dropped: contain '|'"] += 1
            elif len(s) > MAX_SYNONYM:
                counts[f"synonyms dropped: longer than {MAX_SYNONYM} characters"] += 1
            elif len(s) <= 6 and not re.search(r"[a-z]", s):
                counts["synonyms dropped: acronyms (<= 6 characters, no lowercase)"] += 1
            elif normalize(s) == normalize(name) or s in synonyms:
                counts["synonyms dropped: same as the name or repeated"] += 1
            else:
                synonyms.append(s)
        counts["drugs"] += 1
        counts["synonyms kept"] += len(synonyms)
        counts["with CAS"] += bool(cas)
        counts["with UNII"] += bool(unii)
        for k in [name, *synonyms]:
            keys[normalize(k)].add(db)
        lines.append("\t".join([db, name, cas, unii, "|".join(synonyms)]))
    ambiguous = {k: v for k, v in keys.items() if len(v) > 1}
    header = [
        "# DrugBank open vocabulary (DrugBank Open Data, CC0 1.0), transformed by tools/import_drugbank_vocabulary.py",
        f"# source file sha256 {digest}",
        "# columns: drugbank_id, name, cas, unii, synonyms (|-separated)",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    for k, v in sorted(counts.items()):
        print(f"{k}: {v}")
    print(f"names (normalised) naming two or more drugs, reported as ambiguous when typed: {len(ambiguous)}")
    for k in sorted(ambiguous)[:20]:
        print(f"  {k!r}: {', '.join(sorted(ambiguous[k]))}")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
