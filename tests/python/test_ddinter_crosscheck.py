"""tools/ddinter_crosscheck.py against the DDInter CSVs (read at run time, never copied here).

Skips when the DDInter folder (../shared/datasets/ddinter relative to the repository root, or
$RXCAUTION_DDINTER_DIR) is absent. Uses the rxcaution Python package; when it is not installed, the
command-line program of a CMake build (build/rxcaution, or $RXCAUTION_CLI) stands in.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TOOL = REPO / "tools" / "ddinter_crosscheck.py"
DDINTER_DIR = Path(os.environ.get("RXCAUTION_DDINTER_DIR", REPO.parent / "shared" / "datasets" / "ddinter"))

# Pairs checked by hand in the CSVs (file A; the naloxone pairs also in V), unordered.
KNOWN_PAIRS = {
    ("methadone", "naltrexone"): "Major",
    ("buprenorphine", "naltrexone"): "Major",
    ("methadone", "naloxone"): "Moderate",
    ("buprenorphine", "naloxone"): "Unknown",
}


def _load_tool():
    spec = importlib.util.spec_from_file_location("ddinter_crosscheck", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tool():
    return _load_tool()


@pytest.fixture(scope="module")
def backend(tool):
    try:
        return tool.PythonBackend()
    except ImportError:
        cli = os.environ.get("RXCAUTION_CLI") or shutil.which("rxcaution") or str(REPO / "build" / "rxcaution")
        if Path(cli).is_file() or shutil.which(cli):
            return tool.CliBackend(cli)
        pytest.skip("neither the rxcaution Python package nor the rxcaution program is available")


@pytest.fixture(scope="module")
def ddinter(tool):
    if not DDINTER_DIR.is_dir() or not any(DDINTER_DIR.glob("ddinter_downloads_code_*.csv")):
        pytest.skip(f"DDInter dataset not found at {DDINTER_DIR} (it is not part of the repository)")
    return tool.load_ddinter(DDINTER_DIR)


@pytest.fixture(scope="module")
def result(tool, ddinter, backend):
    return tool.compare(ddinter, backend)


def test_ddinter_loaded(ddinter):
    assert ddinter.rows > 0
    assert len(ddinter.levels) > 0
    assert not ddinter.conflicts, f"DDInter pairs with conflicting levels: {ddinter.conflicts[:5]}"
    assert all(a < b for a, b in ddinter.levels), "pairs are stored unordered (sorted)"


def test_some_pairs_resolve(result):
    assert result["drugs_resolved"] > 0
    assert result["pairs_compared"] > 0
    assert result["pairs_both_resolved"] >= result["pairs_compared"]
    assert result["pairs_considered"] >= result["pairs_both_resolved"]


def test_every_compared_pair_resolves(result, backend):
    names = sorted({n for c in result["compared"] for n in c["ddinter"]})
    resolution = backend.resolve_many(names)
    for c in result["compared"]:
        got = sorted(resolution[n].id for n in c["ddinter"])
        assert all(resolution[n].resolved and resolution[n].kind == "substance" for n in c["ddinter"]), c
        assert got == c["substances"], c


def test_table_totals(tool, result):
    table = result["table"]
    assert set(table) == set(tool.OUR_LEVELS)
    total = sum(sum(row.values()) for row in table.values())
    assert total == result["pairs_compared"] == len(result["compared"])
    both_rate = sum(
        table[ours][level] for ours in tool.OUR_LEVELS if ours != "no rule" for level in ("Major", "Moderate", "Minor")
    )
    assert both_rate == result["pairs_both_rate"]
    agree = table["contraindicated"]["Major"] + table["major"]["Major"] + table["moderate"]["Moderate"]
    agree += table["minor"]["Minor"]
    assert agree == result["exact_agreements"]
    assert len(result["disagreements"]) == result["pairs_both_rate"] - result["exact_agreements"]
    if result["pairs_both_rate"]:
        assert 0.0 <= result["agreement_rate"] <= 1.0


def test_rows_are_consistent(tool, result):
    for c in result["compared"]:
        assert c["ddinter_level"] in tool.DDINTER_LEVELS
        if c["rules"]:
            assert c["ours"] == max((r["severity"] for r in c["rules"]), key=tool.SEVERITY_RANK.__getitem__)
        else:
            assert c["ours"] == "no rule"
    for c in result["disagreements"]:
        assert tool.TO_DDINTER[c["ours"]] != c["ddinter_level"] != "Unknown"


def test_known_pairs(result):
    by_pair: dict = {}
    for c in result["compared"]:
        by_pair.setdefault(tuple(c["substances"]), []).append(c)
    for pair, level in KNOWN_PAIRS.items():
        assert pair in by_pair, f"{pair} was not compared"
        assert [c["ddinter_level"] for c in by_pair[pair]] == [level], (pair, by_pair[pair])
    # Naltrexone precipitates withdrawal in patients on methadone: our pack must warn at least as major.
    assert by_pair[("methadone", "naltrexone")][0]["ours"] in ("contraindicated", "major")


def test_agreement_by_severity_matches_the_table(tool, result):
    table, bs = result["table"], result["by_severity"]
    for level, row in bs["ddinter_level"].items():
        assert row["pairs"] == sum(table[ours][level] for ours in tool.OUR_LEVELS)
        assert row["any_rule"] == row["pairs"] - table["no rule"][level]
        assert row["at_least_moderate"] == sum(table[ours][level] for ours in tool.AT_LEAST_MODERATE)
        same = [ours for ours in tool.OUR_LEVELS[:-1] if tool.TO_DDINTER[ours] == level]
        assert row["same_level"] == sum(table[ours][level] for ours in same)
    for ours, row in bs["ours"].items():
        assert row["pairs_ddinter_rates"] == sum(table[ours][lvl] for lvl in ("Major", "Moderate", "Minor"))
        assert row["ddinter_agrees"] == table[ours][tool.TO_DDINTER[ours]]
    assert sum(row["ddinter_agrees"] for row in bs["ours"].values()) == result["exact_agreements"]


def test_oud_major_coverage_counts_unresolved_partners_as_misses(tool, ddinter, backend, result):
    oud = result["oud_major_coverage"]
    # Recount independently: every DDInter Major row in which one name resolves to an OUD substance.
    names = sorted(set(ddinter.names.values()))
    resolution = backend.resolve_many(names)
    oud_ids = {i for i, n in ddinter.names.items() if resolution[n].resolved and resolution[n].id in tool.OUD_SUBSTANCES}
    expected = [pair for pair, level in ddinter.levels.items() if level == "Major" and (set(pair) & oud_ids)]
    assert oud["major_pairs"] == len(expected) > 0
    assert oud["warned_at_least_moderate"] + oud["not_warned"] == oud["major_pairs"]
    assert oud["rate"] == pytest.approx(oud["warned_at_least_moderate"] / oud["major_pairs"])
    by_pair = {tuple(sorted(c["ddinter"])): c for c in result["compared"]}
    for miss in oud["not_warned_examples"]:
        c = by_pair.get(tuple(miss["ddinter"]))
        if miss["ours"] == "partner not in pack":
            assert c is None
        else:
            assert c is not None and c["ours"] == miss["ours"] and c["ours"] not in tool.AT_LEAST_MODERATE
    # methadone + naltrexone is one of them, and warned (contraindicated)
    assert oud["per_drug"]["naltrexone"]["warned"] >= 1


def test_qt_tier_effect(tool, backend, result):
    qt = result["qt_tiers"]
    if not qt["available"]:
        pytest.skip("this pack has no QT tier classes")
    tier_of = {}
    for label, class_id in tool.QT_TIERS:
        for s in backend.members_of(class_id):
            tier_of.setdefault(s, label)
    qt_pairs = [c for c in result["compared"] if all(s in tier_of for s in c["substances"])]
    assert sum(g["pairs"] for g in qt["pairs"].values()) == len(qt_pairs) > 0
    for key, g in qt["pairs"].items():
        labels = [label for label, _ in tool.QT_TIERS]
        a, b = key.split(" x ")
        assert a in labels and b in labels and labels.index(a) <= labels.index(b), key
        assert sum(sum(row.values()) for row in g["table"].values()) == g["pairs"]
        assert g["agree"] <= g["both_rate"] <= g["pairs"]
        # two QT-prolonging drugs always get a QT rule, so no pair of them goes unwarned
        assert sum(g["table"]["no rule"].values()) == 0, key
    # severity by tier: two review-listed drugs are never rated above moderate by the QT rules alone
    rr = qt["pairs"].get("review-listed x review-listed")
    if rr:
        assert rr["table"]["moderate"]["Major"] + rr["table"]["moderate"]["Moderate"] > 0


# Regression floors for the issue 12 targets, measured with this pack (see data/README.md): exact
# agreement on pairs both rate, and DDInter Major pairs of the OUD medicines warned at >= moderate.
def test_issue12_measurements_do_not_regress(result):
    assert result["agreement_rate"] >= 0.75
    assert result["oud_major_coverage"]["rate"] >= 0.80


def test_no_row_pairs_are_really_absent(ddinter, result):
    names = {v: k for k, v in ddinter.names.items()}
    for c in result["we_warn_ddinter_no_row_examples"]:
        a, b = (names[n] for n in c["ddinter"])
        assert (min(a, b), max(a, b)) not in ddinter.levels
        assert c["ours"] != "no rule"


def test_command_line(tool, ddinter, backend, tmp_path, capsys):
    if backend.__class__.__name__ == "CliBackend":
        argv = ["--cli", backend.program]
    else:
        argv = []
    out = tmp_path / "ddinter.json"
    assert tool.main(["--ddinter-dir", str(DDINTER_DIR), "--json", str(out), "--examples", "3", *argv]) == 0
    text = capsys.readouterr().out
    assert "Agreement table" in text and "Exact agreement" in text and "Disagreements:" in text
    assert "Agreement by severity, DDInter's side" in text and "DDInter Major pairs involving the OUD medicines" in text
    assert "QT risk tiers" in text
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["pairs_compared"] > 0
    assert set(data["by_severity"]["ddinter_level"]) == {"Major", "Moderate", "Minor"}
    assert data["oud_major_coverage"]["major_pairs"] > 0


def test_misses_list_every_unwarned_major_pair(tool, result, capsys):
    oud = result["oud_major_coverage"]
    misses = oud["not_warned_all"]
    assert len(misses) == oud["not_warned"]
    assert all(m["ours"] not in tool.AT_LEAST_MODERATE for m in misses)
    assert all(set(m["oud"]) <= set(tool.OUD_SUBSTANCES) and m["oud"] for m in misses)
    tool.print_misses(result)
    text = capsys.readouterr().out
    assert text.startswith(f"DDInter Major pairs of the OUD medicines not warned at moderate or above: {len(misses)}")
    for m in misses:
        assert f"    {m['partner']:<40} {m['ours']}" in text


def test_pack_option_checks_a_pack_folder(tool, ddinter, backend, tmp_path, capsys):
    # The repository's data/ folder is the built-in pack, so --pack data gives the same figures.
    argv = ["--cli", backend.program] if backend.__class__.__name__ == "CliBackend" else []
    out = tmp_path / "pack.json"
    assert tool.main(["--ddinter-dir", str(DDINTER_DIR), "--pack", str(REPO / "data"), "--misses",
                      "--examples", "0", "--json", str(out), *argv]) == 0
    text = capsys.readouterr().out
    assert "DDInter Major pairs of the OUD medicines not warned at moderate or above" in text
    data = json.loads(out.read_text(encoding="utf-8"))
    assert ", pack " in data["pack"]
    builtin = tool.compare(ddinter, backend, examples=0)
    assert data["exact_agreements"] == builtin["exact_agreements"]
    assert data["oud_major_coverage"]["warned_at_least_moderate"] == builtin["oud_major_coverage"]["warned_at_least_moderate"]
