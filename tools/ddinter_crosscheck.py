#!/usr/bin/env python3
"""Cross-check rxcaution's drug-drug severities against DDInter.

DDInter (Xiong et al., Nucleic Acids Res. 2022; CC BY-NC-SA 4.0) is read at run time from its CSV
downloads; nothing from it is copied into this repository. By default the CSVs are looked for in
``../shared/datasets/ddinter/`` relative to the repository root.

For every DDInter pair whose two drug names both resolve (by name, through ``KnowledgeBase.resolve``)
to substances of the built-in pack, our highest severity for the pair (``no rule`` when we have none)
is compared with DDInter's Level:

    contraindicated, major -> Major;  moderate -> Moderate;  minor -> Minor

DDInter's ``Unknown`` level means DDInter lists the pair without a severity. The exact-agreement rate
is computed over the pairs that both rate (we have a rule and DDInter's level is not Unknown).

Also reported: agreement by severity (for each DDInter level, how many of its pairs we rate at the same
level, at moderate or above, or at all; for each of our severities, how often DDInter agrees), the
coverage of DDInter's Major pairs that involve the opioid-use-disorder drugs (partners that do not
resolve count as not warned), the effect of the QT risk tiers (agreement on pairs of two
QT-prolonging drugs by tier pair), and pairs on which we warn while DDInter, which knows both drugs,
has no row for the pair.
Only 8 of DDInter's ATC-class files (A B D H L P R V) are available here; a missing row can only be
trusted when one of the two drugs has all its DDInter pairs in one available file (it has an ATC code
of that class), so the gap list says which pairs may simply sit in a missing file (C G J M N S).

Usage:
    python3 tools/ddinter_crosscheck.py [--ddinter-dir DIR] [--json OUT] [--examples N] [--pack PATH]
                                        [--misses] [--cli PROGRAM]

``--pack`` checks a pack folder or file (e.g. ``data``) instead of the built-in one, so a data edit can
be measured without rebuilding; ``--misses`` lists every DDInter Major pair of the OUD medicines that
we do not warn at moderate or above, grouped by OUD medicine (the curation work list).

Reference software, not medical advice: disagreements are leads for curation, not verdicts.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DDINTER_DIR = REPO.parent / "shared" / "datasets" / "ddinter"

DDINTER_LEVELS = ("Major", "Moderate", "Minor", "Unknown")
OUR_LEVELS = ("contraindicated", "major", "moderate", "minor", "no rule")
# Our severity -> the DDInter level it corresponds to.
TO_DDINTER = {"contraindicated": "Major", "major": "Major", "moderate": "Moderate", "minor": "Minor"}
SEVERITY_RANK = {"minor": 1, "moderate": 2, "major": 3, "contraindicated": 4}
AT_LEAST_MODERATE = ("contraindicated", "major", "moderate")
# The medicines of opioid use disorder care that the pack is built around (data/README.md).
OUD_SUBSTANCES = ("methadone", "buprenorphine", "naltrexone", "naloxone", "ketamine", "esketamine", "lofexidine", "clonidine")
# QT risk tiers of the pack (issue 12), most documented first; a substance counts in its first tier.
QT_TIERS = (
    ("tier 1", "qt-torsades-risk-drugs"),
    ("tier 2", "qt-labelled-prolongation-drugs"),
    ("review-listed", "qt-review-listed-drugs"),
)


# --- DDInter ----------------------------------------------------------------------------------------


@dataclass
class DDInter:
    names: dict[str, str] = field(default_factory=dict)  # DDInter id -> drug name
    levels: dict[tuple[str, str], str] = field(default_factory=dict)  # sorted id pair -> Level
    conflicts: list[tuple[tuple[str, str], str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    rows: int = 0
    # DDInter id -> files that hold every pair of the drug (its own ATC classes, as far as can be seen)
    complete_in: dict[str, set[str]] = field(default_factory=dict)

    def partners(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = defaultdict(set)
        for a, b in self.levels:
            out[a].add(b)
            out[b].add(a)
        return out


def load_ddinter(directory: Path) -> DDInter:
    """Reads every ddinter_downloads_code_*.csv of a directory into unique unordered pairs."""
    paths = sorted(directory.glob("ddinter_downloads_code_*.csv"))
    if not paths:
        raise FileNotFoundError(f"no ddinter_downloads_code_*.csv in {directory}")
    data = DDInter(files=[p.name for p in paths])
    pairs_by_file: dict[str, set[tuple[str, str]]] = {}
    for path in paths:
        in_file: set[tuple[str, str]] = set()
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            expected = ["DDInterID_A", "Drug_A", "DDInterID_B", "Drug_B", "Level"]
            if reader.fieldnames != expected:
                raise ValueError(f"{path.name}: unexpected header {reader.fieldnames}, expected {expected}")
            for row in reader:
                data.rows += 1
                a, b, level = row["DDInterID_A"], row["DDInterID_B"], row["Level"]
                if level not in DDINTER_LEVELS:
                    raise ValueError(f"{path.name}: unexpected Level {level!r}")
                data.names[a] = row["Drug_A"]
                data.names[b] = row["Drug_B"]
                key = (a, b) if a <= b else (b, a)
                in_file.add(key)
                old = data.levels.setdefault(key, level)
                if old != level:
                    data.conflicts.append((key, old, level))
        pairs_by_file[path.name] = in_file
    # A file for ATC class X holds every pair in which one drug has an X code. A drug all of whose
    # pairs are in one file therefore (almost certainly) has that class, so its partner list is
    # complete here even though some class files are missing.
    partners = data.partners()
    per_file_partners: dict[str, dict[str, int]] = {}
    for name, pairs in pairs_by_file.items():
        counts: Counter = Counter()
        for a, b in pairs:
            counts[a] += 1
            counts[b] += 1
        per_file_partners[name] = counts
    for drug, ps in partners.items():
        data.complete_in[drug] = {name for name, counts in per_file_partners.items() if counts[drug] == len(ps)}
    return data


# --- rxcaution --------------------------------------------------------------------------------------


@dataclass
class Resolved:
    resolved: bool
    kind: str = ""
    id: str = ""
    # Recognised through the drug vocabulary only (issue 10): a real drug the pack has no substance
    # (and so no rule) for. Such names are not pack substances in the comparison.
    vocabulary_only: bool = False


class PythonBackend:
    """The rxcaution Python package: KnowledgeBase.builtin()."""

    def __init__(self, pack: str | None = None) -> None:
        import rxcaution  # noqa: PLC0415 (imported here so --help works without the package)

        self.kb = rxcaution.KnowledgeBase.load(pack) if pack else rxcaution.KnowledgeBase.builtin()
        info = self.kb.info
        self.description = f"{info.name} {info.version} (rxcaution Python package" + (f", pack {pack})" if pack else ")")

    def resolve_many(self, names: list[str]) -> dict[str, Resolved]:
        out = {}
        for name in names:
            r = self.kb.resolve(name)
            out[name] = (
                Resolved(bool(r.resolved), str(r.kind).lower().rsplit(".", 1)[-1], r.id, bool(getattr(r, "vocabulary_only", False)))
                if r.resolved
                else Resolved(False)
            )
        return out

    def members_of(self, class_id: str) -> list[str]:
        """Substance ids of a class (transitively); [] when the pack has no such class."""
        try:
            return list(self.kb.members_of(class_id))
        except Exception:  # noqa: BLE001 (NotFoundError: an older pack without the class)
            return []

    def rules_between(self, substance_ids: list[str]) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """(a, b) sorted -> [(rule id, severity)] for every pair of the given substances with a rule."""
        out = {}
        for a, b in itertools.combinations(sorted(set(substance_ids)), 2):
            rules = self.kb.interactions_between(a, b)
            if rules:
                out[(a, b)] = [(r.id, str(r.severity).lower().rsplit(".", 1)[-1]) for r in rules]
        return out


class CliBackend:
    """The rxcaution command-line program (for use before the Python package is installed)."""

    def __init__(self, program: str, pack: str | None = None) -> None:
        import subprocess  # noqa: PLC0415

        self.program = program
        self.subprocess = subprocess
        # Every command takes the pack before its `--` (the CLI reads options before positional names).
        self.pack_args = ["--pack", pack] if pack else []
        stats = json.loads(self._run("stats", "--format", "json"))
        info = stats.get("pack", stats)
        self.description = f"{info.get('name', '?')} {info.get('version', '?')} (CLI {program}" + (
            f", pack {pack})" if pack else ")")

    def _run(self, command: str, *args: str, ok=(0,)) -> str:
        proc = self.subprocess.run([self.program, command, *self.pack_args, *args], capture_output=True, text=True,
                                   check=False)
        if proc.returncode not in ok:
            raise RuntimeError(f"{self.program} {command} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def resolve_many(self, names: list[str]) -> dict[str, Resolved]:
        out = {}
        for i in range(0, len(names), 200):
            chunk = names[i : i + 200]
            for item in json.loads(self._run("resolve", "--format", "json", "--", *chunk, ok=(0, 2))):
                ok = item["status"] == "resolved"
                out[item["input"]] = (
                    Resolved(ok, item["kind"] or "", item["id"] or "", bool(item.get("vocabulary_only", False)))
                    if ok
                    else Resolved(False)
                )
        return out

    def members_of(self, class_id: str) -> list[str]:
        proc = self.subprocess.run([self.program, "show", *self.pack_args, "--format", "json", class_id],
                                   capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            return []  # an older pack without the class
        shown = json.loads(proc.stdout)
        return list(shown.get("members", [])) if shown.get("kind") == "class" else []

    def rules_between(self, substance_ids: list[str]) -> dict[tuple[str, str], list[tuple[str, str]]]:
        ids = sorted(set(substance_ids))
        report = json.loads(self._run("check", "--format", "json", "--allow-unresolved", "--", *ids, ok=(0, 2, 3)))
        out: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for w in report["warnings"]:
            if w["kind"] != "drug-drug":
                continue
            a, b = sorted(w["substances"])
            if (w["rule"], w["severity"]) not in out[(a, b)]:
                out[(a, b)].append((w["rule"], w["severity"]))
        return dict(out)


# --- comparison -------------------------------------------------------------------------------------


def highest(rules: list[tuple[str, str]]) -> str:
    if not rules:
        return "no rule"
    return max((sev for _, sev in rules), key=SEVERITY_RANK.__getitem__)


def by_severity(compared: list[dict]) -> dict:
    """Agreement seen from each side: per DDInter level, and per severity of ours."""
    ddinter_side = {}
    for level in ("Major", "Moderate", "Minor"):
        rows = [c for c in compared if c["ddinter_level"] == level]
        ddinter_side[level] = {
            "pairs": len(rows),
            "same_level": sum(1 for c in rows if c["ours"] != "no rule" and TO_DDINTER[c["ours"]] == level),
            "at_least_moderate": sum(1 for c in rows if c["ours"] in AT_LEAST_MODERATE),
            "any_rule": sum(1 for c in rows if c["ours"] != "no rule"),
        }
    ours_side = {}
    for ours in OUR_LEVELS[:-1]:
        rows = [c for c in compared if c["ours"] == ours and c["ddinter_level"] != "Unknown"]
        ours_side[ours] = {
            "pairs_ddinter_rates": len(rows),
            "ddinter_agrees": sum(1 for c in rows if TO_DDINTER[ours] == c["ddinter_level"]),
        }
    return {"ddinter_level": ddinter_side, "ours": ours_side}


def oud_major_coverage(ddinter: DDInter, substance_of: dict[str, str], compared: list[dict], examples: int) -> dict:
    """DDInter's Major pairs in which one drug is an OUD medicine: how many we warn at moderate or above.

    A partner that does not resolve to a substance of the pack counts as not warned."""
    by_ids = {tuple(c["ddinter_ids"]): c for c in compared}
    per_drug: dict[str, dict[str, int]] = {s: {"major_pairs": 0, "warned": 0} for s in OUD_SUBSTANCES}
    misses = []
    total = warned = 0
    for (a, b), level in sorted(ddinter.levels.items()):
        if level != "Major":
            continue
        oud = [substance_of[x] for x in (a, b) if substance_of.get(x) in OUD_SUBSTANCES]
        if not oud:
            continue
        c = by_ids.get((a, b))
        ours = c["ours"] if c else "partner not in pack"
        ok = ours in AT_LEAST_MODERATE
        total += 1
        warned += ok
        for s in set(oud):
            per_drug[s]["major_pairs"] += 1
            per_drug[s]["warned"] += ok
        if not ok:
            misses.append({"ddinter": sorted([ddinter.names[a], ddinter.names[b]]), "ours": ours,
                           "oud": sorted(set(oud)),
                           "partner": next((ddinter.names[x] for x in (a, b) if substance_of.get(x) not in oud),
                                           ddinter.names[b])})
    misses.sort(key=lambda m: (m["ours"] == "partner not in pack", m["ddinter"]))
    return {
        "major_pairs": total,
        "warned_at_least_moderate": warned,
        "rate": (warned / total) if total else None,
        "per_drug": {s: v for s, v in per_drug.items() if v["major_pairs"]},
        "not_warned": len(misses),
        "not_warned_examples": misses[:examples],
        "not_warned_all": misses,
    }


def oud_partner_resolution(ddinter: DDInter, substance_of: dict[str, str], vocabulary_only: set[str]) -> dict:
    """DDInter's rated pairs in which one drug is an OUD medicine: how often the partner drug is a
    substance of the pack (it can meet a rule), and how often it is recognised at all (pack or drug
    vocabulary: an input that is reported as `no-rules` rather than as an unknown word)."""
    out = {}
    for level in ("Major", "Moderate", "Minor"):
        pairs = in_pack = recognised = 0
        for (a, b), lv in ddinter.levels.items():
            if lv != level:
                continue
            for x, y in ((a, b), (b, a)):
                if substance_of.get(x) in OUD_SUBSTANCES:
                    pairs += 1
                    in_pack += y in substance_of
                    recognised += y in substance_of or y in vocabulary_only
                    break
        out[level] = {
            "pairs": pairs,
            "partner_in_pack": in_pack,
            "partner_recognised": recognised,
            "in_pack_rate": (in_pack / pairs) if pairs else None,
            "recognised_rate": (recognised / pairs) if pairs else None,
        }
    return out


def qt_tier_effect(compared: list[dict], backend) -> dict:
    """Pairs of two QT-prolonging drugs, grouped by their tiers: our severity against DDInter's level."""
    tier_of: dict[str, str] = {}
    for label, class_id in QT_TIERS:
        for s in backend.members_of(class_id):
            tier_of.setdefault(s, label)
    if not tier_of:
        return {"available": False, "tiers": {}, "pairs": {}}
    order = [label for label, _ in QT_TIERS]
    groups: dict[str, dict] = {}
    for c in compared:
        a, b = c["substances"]
        if a not in tier_of or b not in tier_of:
            continue
        ta, tb = sorted((tier_of[a], tier_of[b]), key=order.index)
        key = f"{ta} x {tb}"
        g = groups.setdefault(key, {"pairs": 0, "both_rate": 0, "agree": 0,
                                    "table": {ours: {lvl: 0 for lvl in DDINTER_LEVELS} for ours in OUR_LEVELS}})
        g["pairs"] += 1
        g["table"][c["ours"]][c["ddinter_level"]] += 1
        if c["ours"] != "no rule" and c["ddinter_level"] != "Unknown":
            g["both_rate"] += 1
            g["agree"] += TO_DDINTER[c["ours"]] == c["ddinter_level"]
    for g in groups.values():
        g["agreement_rate"] = (g["agree"] / g["both_rate"]) if g["both_rate"] else None
    keys = sorted(groups, key=lambda k: [order.index(t) for t in k.split(" x ")])
    return {
        "available": True,
        "tiers": {label: sum(1 for t in tier_of.values() if t == label) for label in order},
        "pairs": {k: groups[k] for k in keys},
    }


def compare(ddinter: DDInter, backend, examples: int = 20) -> dict:
    names = sorted(set(ddinter.names.values()))
    resolution = backend.resolve_many(names)
    substance_of: dict[str, str] = {}  # DDInter id -> our substance id
    skipped_product: list[str] = []
    vocabulary_only: set[str] = set()  # DDInter ids recognised by the drug vocabulary only
    for ddid, name in ddinter.names.items():
        r = resolution[name]
        if not r.resolved:
            continue
        if r.vocabulary_only:
            vocabulary_only.add(ddid)
            continue
        if r.kind != "substance":
            skipped_product.append(name)
            continue
        substance_of[ddid] = r.id

    our_rules = backend.rules_between(list(substance_of.values()))

    table = {ours: {level: 0 for level in DDINTER_LEVELS} for ours in OUR_LEVELS}
    compared = []
    same_substance = 0
    for (a, b), level in sorted(ddinter.levels.items()):
        if a not in substance_of or b not in substance_of:
            continue
        sa, sb = substance_of[a], substance_of[b]
        if sa == sb:
            same_substance += 1
            continue
        key = (sa, sb) if sa <= sb else (sb, sa)
        rules = sorted(our_rules.get(key, []), key=lambda r: (-SEVERITY_RANK[r[1]], r[0]))
        ours = highest(rules)
        table[ours][level] += 1
        compared.append(
            {
                "ddinter": [ddinter.names[a], ddinter.names[b]],
                "ddinter_ids": [a, b],
                "substances": list(key),
                "ddinter_level": level,
                "ours": ours,
                "rules": [{"id": rid, "severity": sev} for rid, sev in rules],
            }
        )

    both_rate = [c for c in compared if c["ours"] != "no rule" and c["ddinter_level"] != "Unknown"]
    agree = [c for c in both_rate if TO_DDINTER[c["ours"]] == c["ddinter_level"]]
    disagreements = [c for c in both_rate if TO_DDINTER[c["ours"]] != c["ddinter_level"]]
    disagreements.sort(key=lambda c: (-SEVERITY_RANK[c["ours"]], c["ddinter_level"], c["substances"]))
    ddinter_only = [c for c in compared if c["ours"] == "no rule" and c["ddinter_level"] in ("Major", "Moderate")]
    ddinter_only.sort(key=lambda c: (c["ddinter_level"] != "Major", c["substances"]))

    # Pairs on which we warn while DDInter knows both drugs and has no row for the pair.
    ddinter_ids_of: dict[str, list[str]] = defaultdict(list)
    for ddid, sid in substance_of.items():
        ddinter_ids_of[sid].append(ddid)
    covered = set()
    for c in compared:
        covered.add(tuple(c["substances"]))
    no_row = []
    for (sa, sb), rules in sorted(our_rules.items()):
        rules = sorted(rules, key=lambda r: (-SEVERITY_RANK[r[1]], r[0]))
        if (sa, sb) in covered:
            continue
        if any(
            ((x, y) if x <= y else (y, x)) in ddinter.levels
            for x in ddinter_ids_of[sa]
            for y in ddinter_ids_of[sb]
        ):
            continue  # a DDInter pair exists but mapped to one substance on both sides (not compared)
        complete = sorted(
            {f for d in ddinter_ids_of[sa] + ddinter_ids_of[sb] for f in ddinter.complete_in.get(d, set())}
        )
        no_row.append(
            {
                "substances": [sa, sb],
                "ddinter": [ddinter.names[ddinter_ids_of[sa][0]], ddinter.names[ddinter_ids_of[sb][0]]],
                "ours": highest(rules),
                "rules": [{"id": rid, "severity": sev} for rid, sev in rules],
                # True: one drug's DDInter partner list is complete in an available file, so DDInter has no
                # record of the pair at all. False: the row may be in a missing class file (C G J M N S).
                "absent_from_ddinter": bool(complete),
                "complete_in": complete,
            }
        )
    no_row.sort(key=lambda c: (not c["absent_from_ddinter"], -SEVERITY_RANK[c["ours"]], c["substances"]))

    return {
        "pack": backend.description,
        "ddinter": {
            "files": ddinter.files,
            "rows": ddinter.rows,
            "pairs": len(ddinter.levels),
            "drugs": len(ddinter.names),
            "level_conflicts": len(ddinter.conflicts),
        },
        "drugs_resolved": len(substance_of),
        "drug_names_resolving_to_products": sorted(skipped_product),
        "pairs_considered": len(ddinter.levels),
        "pairs_both_resolved": len(compared) + same_substance,
        "pairs_same_substance": same_substance,
        "pairs_compared": len(compared),
        "substance_pairs_compared": len({tuple(c["substances"]) for c in compared}),
        "table": table,
        "pairs_both_rate": len(both_rate),
        "exact_agreements": len(agree),
        "agreement_rate": (len(agree) / len(both_rate)) if both_rate else None,
        "disagreements": disagreements,
        "by_severity": by_severity(compared),
        "oud_major_coverage": oud_major_coverage(ddinter, substance_of, compared, examples),
        "oud_partner_resolution": oud_partner_resolution(ddinter, substance_of, vocabulary_only),
        "qt_tiers": qt_tier_effect(compared, backend),
        "ddinter_major_or_moderate_without_rule": len(ddinter_only),
        "ddinter_only_examples": ddinter_only[:examples],
        "we_warn_ddinter_no_row": len(no_row),
        "we_warn_ddinter_no_record": sum(1 for c in no_row if c["absent_from_ddinter"]),
        "we_warn_ddinter_no_row_examples": no_row[:examples],
        "compared": compared,
    }


# --- output -----------------------------------------------------------------------------------------


def _pair(c: dict) -> str:
    return " + ".join(c["substances"])


def _rules(c: dict) -> str:
    return ", ".join(f"{r['id']} ({r['severity']})" for r in c["rules"])


def print_report(result: dict, examples: int = 20, out=None) -> None:
    out = out if out is not None else sys.stdout
    p = lambda *a: print(*a, file=out)  # noqa: E731
    d = result["ddinter"]
    p(f"rxcaution pack: {result['pack']}")
    codes = " ".join(f.removeprefix("ddinter_downloads_code_").removesuffix(".csv") for f in d["files"])
    p(f"DDInter: {d['rows']} rows in {len(d['files'])} ATC-class files ({codes}), "
      f"{d['pairs']} unique pairs, {d['drugs']} drugs, {d['level_conflicts']} level conflicts")
    p(f"DDInter drugs resolving to our substances: {result['drugs_resolved']}"
      f" (names resolving to products, skipped: {len(result['drug_names_resolving_to_products'])})")
    p(f"DDInter pairs considered: {result['pairs_considered']}; both drugs resolved: {result['pairs_both_resolved']}"
      f" (same substance on both sides, skipped: {result['pairs_same_substance']}); compared: {result['pairs_compared']}"
      f" ({result['substance_pairs_compared']} distinct substance pairs)")
    p("")
    p("Agreement table (rows: our highest severity; columns: DDInter Level)")
    header = f"{'ours':<16}" + "".join(f"{lvl:>10}" for lvl in DDINTER_LEVELS) + f"{'total':>10}"
    p(header)
    totals = Counter()
    for ours in OUR_LEVELS:
        row = result["table"][ours]
        totals.update(row)
        p(f"{ours:<16}" + "".join(f"{row[lvl]:>10}" for lvl in DDINTER_LEVELS) + f"{sum(row.values()):>10}")
    p(f"{'total':<16}" + "".join(f"{totals[lvl]:>10}" for lvl in DDINTER_LEVELS) + f"{sum(totals.values()):>10}")
    p("")
    rate = result["agreement_rate"]
    p(f"Exact agreement over pairs both rate (our rule, DDInter level not Unknown): "
      f"{result['exact_agreements']}/{result['pairs_both_rate']}"
      + (f" = {rate:.1%}" if rate is not None else " (none)")
      + "  [contraindicated+major=Major, moderate=Moderate, minor=Minor]")
    p("")
    bs = result["by_severity"]
    p("Agreement by severity, DDInter's side (pairs DDInter rates at this level):")
    p(f"  {'DDInter':<10}{'pairs':>8}{'same level':>12}{'>= moderate':>13}{'any rule':>10}")
    for level, row in bs["ddinter_level"].items():
        n = row["pairs"]
        pct = (lambda k: f"{row[k] / n:.1%}" if n else "-")
        p(f"  {level:<10}{n:>8}{pct('same_level'):>12}{pct('at_least_moderate'):>13}{pct('any_rule'):>10}")
    p("Agreement by severity, our side (our pairs that DDInter rates; how often DDInter agrees):")
    for ours, row in bs["ours"].items():
        n = row["pairs_ddinter_rates"]
        p(f"  {ours:<16}{n:>8}" + (f"{row['ddinter_agrees'] / n:>10.1%}" if n else f"{'-':>10}"))
    p("")
    oud = result["oud_major_coverage"]
    rate = oud["rate"]
    p(f"DDInter Major pairs involving the OUD medicines: {oud['major_pairs']}; warned at moderate or above: "
      f"{oud['warned_at_least_moderate']}" + (f" = {rate:.1%}" if rate is not None else ""))
    for drug, row in oud["per_drug"].items():
        p(f"  {drug:<14}{row['warned']:>5} / {row['major_pairs']}")
    p(f"  not warned: {oud['not_warned']} (first {min(examples, len(oud['not_warned_examples']))})")
    for m in oud["not_warned_examples"][:examples]:
        p(f"    {' + '.join(m['ddinter']):<44} {m['ours']}")
    p("")
    p("Partners of the OUD medicines in DDInter's rated pairs: in the pack (can meet a rule) / recognised at all "
      "(pack or drug vocabulary)")
    for level, row in result.get("oud_partner_resolution", {}).items():
        if row["pairs"]:
            p(f"  {level:<10}{row['pairs']:>6} pairs   in pack {row['in_pack_rate']:.1%}   recognised {row['recognised_rate']:.1%}")
    p("")
    qt = result["qt_tiers"]
    if qt["available"]:
        p("QT risk tiers: pairs of two QT-prolonging drugs by tier ("
          + ", ".join(f"{k}: {v} drugs" for k, v in qt["tiers"].items()) + ")")
        p(f"  {'tiers':<34}{'pairs':>7}{'both rate':>11}{'agree':>9}   ours→DDInter (Major/Moderate/Minor)")
        for key, g in qt["pairs"].items():
            r = g["agreement_rate"]
            cells = "; ".join(
                f"{ours} {g['table'][ours]['Major']}/{g['table'][ours]['Moderate']}/{g['table'][ours]['Minor']}"
                for ours in OUR_LEVELS if sum(g["table"][ours].values()))
            p(f"  {key:<34}{g['pairs']:>7}{g['both_rate']:>11}" + (f"{r:>9.1%}" if r is not None else f"{'-':>9}")
              + f"   {cells}")
    else:
        p("QT risk tiers: not available in this pack")
    p("")
    dis = result["disagreements"]
    p(f"Disagreements: {len(dis)}")
    for c in dis:
        p(f"  {_pair(c):<42} ours {c['ours']:<15} DDInter {c['ddinter_level']:<9} [{_rules(c)}]")
    p("")
    p(f"DDInter Major/Moderate pairs where we have no rule: {result['ddinter_major_or_moderate_without_rule']}"
      f" (first {min(examples, len(result['ddinter_only_examples']))})")
    for c in result["ddinter_only_examples"][:examples]:
        p(f"  {_pair(c):<42} DDInter {c['ddinter_level']}")
    p("")
    p(f"Pairs we warn on where DDInter knows both drugs but has no row: {result['we_warn_ddinter_no_row']}"
      f" ({result['we_warn_ddinter_no_record']} certainly not recorded by DDInter; the rest may be in its"
      f" missing class files C/G/J/M/N/S)")
    for c in result["we_warn_ddinter_no_row_examples"][:examples]:
        where = "no DDInter record" if c["absent_from_ddinter"] else "maybe in a missing file"
        p(f"  {_pair(c):<42} ours {c['ours']:<15} {where:<24} [{_rules(c)}]")


def print_misses(result: dict, out=None) -> None:
    """Every DDInter Major pair of an OUD medicine that we do not warn at moderate or above, by medicine."""
    out = out if out is not None else sys.stdout
    misses = result["oud_major_coverage"]["not_warned_all"]
    print(f"DDInter Major pairs of the OUD medicines not warned at moderate or above: {len(misses)}", file=out)
    by_drug: dict[str, list[dict]] = defaultdict(list)
    for m in misses:
        by_drug[" + ".join(m["oud"])].append(m)
    for drug in sorted(by_drug):
        rows = sorted(by_drug[drug], key=lambda m: (m["ours"], m["partner"].lower()))
        print(f"  {drug} ({len(rows)})", file=out)
        for m in rows:
            print(f"    {m['partner']:<40} {m['ours']}", file=out)


def make_backend(cli: str | None, pack: str | None = None):
    if cli:
        return CliBackend(cli, pack)
    try:
        return PythonBackend(pack)
    except ImportError as exc:
        raise SystemExit(
            f"the rxcaution Python package is not importable ({exc}); install it (pip install .) "
            "or pass --cli build/rxcaution"
        ) from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ddinter-dir", type=Path, default=DEFAULT_DDINTER_DIR,
                        help=f"folder of ddinter_downloads_code_*.csv (default: {DEFAULT_DDINTER_DIR})")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the full results as JSON to OUT")
    parser.add_argument("--examples", type=int, default=20, help="examples to print per list (default 20)")
    parser.add_argument("--cli", metavar="PROGRAM",
                        help="use the rxcaution command-line program instead of the Python package")
    parser.add_argument("--pack", metavar="PATH",
                        help="check this pack (a folder with manifest.json, or a pack file) instead of the built-in one")
    parser.add_argument("--misses", action="store_true",
                        help="also list every DDInter Major pair of the OUD medicines not warned at moderate or above")
    args = parser.parse_args(argv)
    if not args.ddinter_dir.is_dir():
        print(f"DDInter folder not found: {args.ddinter_dir}", file=sys.stderr)
        return 1
    ddinter = load_ddinter(args.ddinter_dir)
    result = compare(ddinter, make_backend(args.cli, args.pack), examples=args.examples)
    print_report(result, examples=args.examples)
    if args.misses:
        print("")
        print_misses(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"\nJSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
