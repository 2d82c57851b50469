"""The benchmark scripts of bench/ still run (so that they cannot rot between benchmark runs).

Runs bench/ddinter_pack.py and bench/peers.py in quick mode on a small slice of the DDInter CSVs
(read from ../shared/datasets/ddinter or $RXCAUTION_DDINTER_DIR at run time, never copied into the
repository; those tests skip when the folder is absent), and bench/population.py on the mini test
pack. Timings are not asserted: only that the scripts work and that what they build is right.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
DDINTER_DIR = Path(os.environ.get("RXCAUTION_DDINTER_DIR", REPO.parent / "shared" / "datasets" / "ddinter"))
MINI_PACK = REPO / "tests" / "data" / "mini_bundled.json"
SLICE = 400

needs_ddinter = pytest.mark.skipif(
    not DDINTER_DIR.is_dir() or not any(DDINTER_DIR.glob("ddinter_downloads_code_*.csv")),
    reason=f"DDInter dataset not found at {DDINTER_DIR} (it is not part of the repository)",
)


def run(script: str, *args: object, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH / script), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, check=False)


def ddinter_levels() -> dict[tuple[str, str], str]:
    """Unique unordered pairs of the CSVs -> Level, read here independently of the scripts."""
    levels: dict[tuple[str, str], str] = {}
    for path in sorted(DDINTER_DIR.glob("ddinter_downloads_code_*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                a, b = sorted((row["DDInterID_A"], row["DDInterID_B"]))
                levels[(a, b)] = row["Level"]
    return levels


@pytest.mark.parametrize("script", ["ddinter_pack.py", "peers.py"])
def test_absent_dataset_is_said_plainly_and_exits_0(script, tmp_path):
    missing = tmp_path / "no-ddinter-here"
    args = [tmp_path / "pack.json", "--ddinter", missing] if script == "ddinter_pack.py" else ["--ddinter", missing, "--quick"]
    proc = run(script, *args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"DDInter dataset not found at {missing}:"), proc.stdout
    assert not (tmp_path / "pack.json").exists()


@pytest.fixture(scope="module")
def sliced_pack(tmp_path_factory):
    if not DDINTER_DIR.is_dir() or not any(DDINTER_DIR.glob("ddinter_downloads_code_*.csv")):
        pytest.skip(f"DDInter dataset not found at {DDINTER_DIR} (it is not part of the repository)")
    out = tmp_path_factory.mktemp("bench") / "ddinter-slice.json"
    proc = run("ddinter_pack.py", out, "--ddinter", DDINTER_DIR, "--slice", SLICE)
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


@needs_ddinter
def test_pack_has_one_rule_per_rated_pair_with_ddinter_level(sliced_pack):
    path, stdout = sliced_pack
    pack = json.loads(path.read_text(encoding="utf-8"))
    assert len(pack["interactions"]) == SLICE
    assert [s["id"] for s in pack["sources"]] == ["ddinter"]
    assert "CC BY-NC-SA 4.0" in pack["manifest"]["licence"]
    assert "CC BY-NC-SA 4.0" in pack["sources"][0]["notes"]
    # Every rule carries exactly the Level DDInter gives its pair; no Unknown pair became a rule.
    levels = ddinter_levels()
    ids = {s["id"]: s["notes"].removeprefix("DDInter drug ") for s in pack["substances"]}
    for rule in pack["interactions"]:
        a, b = sorted(ids[p["substance"]] for p in rule["participants"])
        assert rule["severity"] == levels[(a, b)].lower(), rule["id"]
        assert rule["sources"] == [{"source": "ddinter"}]
    used = {p["substance"] for rule in pack["interactions"] for p in rule["participants"]}
    assert used == set(ids), "one substance per drug of a rated pair, no other"
    unknown = sum(1 for level in levels.values() if level == "Unknown")
    assert f"Unknown-level pairs left out: {unknown:,} (no severity in DDInter; never rated minor)" in stdout
    assert f"pack: {len(ids):,} substances, {SLICE:,} interaction rules" in stdout


@needs_ddinter
def test_pack_loads_and_checks_in_rxcaution(sliced_pack):
    rxcaution = pytest.importorskip("rxcaution")
    path, _ = sliced_pack
    pack = json.loads(path.read_text(encoding="utf-8"))
    kb = rxcaution.KnowledgeBase.load(str(path))
    assert len(kb.interactions()) == SLICE
    rule = pack["interactions"][0]
    names = {s["id"]: s["name"] for s in pack["substances"]}
    a, b = (names[p["substance"]] for p in rule["participants"])
    report = kb.check([a, b])
    assert [w.rule for w in report.warnings] == [rule["id"]]
    assert str(report.warnings[0].severity) == rule["severity"]


@needs_ddinter
def test_peers_quick_run_covers_every_section(sliced_pack, tmp_path):
    pytest.importorskip("rxcaution")
    path, _ = sliced_pack
    out = tmp_path / "figures.json"
    proc = run("peers.py", "--ddinter", DDINTER_DIR, "--pack", path, "--slice", SLICE, "--quick",
               "--repeat", 1, "--json", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for heading in ("(a) load", "(b) per-check latency, 10 names", "(b) per-check latency, 20 names",
                    "(c) bulk throughput", "(d) one-substance queries", "(e) rendering"):
        assert heading in proc.stdout
    assert "DIFFERENT" not in proc.stdout
    assert re.search(r"agreement on \d+ 20-name regimens: dict peer [\d,]+ pairs", proc.stdout)
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["rules"] == SLICE
    by_name = {(f["section"], f["contender"]): f for f in figures["figures"]}
    for key in [("load", "dict peer (CSV -> dict)"), ("load", "rxcaution from_json(text)"),
                ("check10", "dict peer"), ("check10", "rxcaution kb.check"), ("check20", "rxcaution kb.check"),
                ("bulk", "dict peer loop"), ("bulk", "rxcaution check loop"),
                ("rules_for", "rxcaution kb.rules_for(id)"), ("between", "rxcaution kb.interactions_between(a, b)"),
                ("render", "rxcaution report.to_json()"), ("bulk", "rxcaution kb.screen, 2 threads"),
                ("bulk", "rxcaution kb.screen (as_arrow=True), 1 thread"),
                ("bulk", "rxcaution kb.screen engine (C++ screen, no Python lists or tables), 2 threads")]:
        assert by_name[key]["value"] > 0, key
    assert re.search(r"kb.screen pandas, Arrow and engine on the bulk regimens [\d,]+ rows each", proc.stdout)
    # Absent features are reported as such, never as a figure of 0.
    for record in figures["figures"]:
        assert record["value"] is None or record["value"] > 0, record
        if record["value"] is None:
            assert record["note"].startswith("not available") or record["note"].startswith("failed"), record


@needs_ddinter
def test_peers_times_the_code_before_in_the_same_run(sliced_pack, tmp_path):
    # Any directory holding an rxcaution package serves as "the code before": here, this one.
    rxcaution = pytest.importorskip("rxcaution")
    path, _ = sliced_pack
    package = Path(rxcaution.__file__).resolve().parent.parent
    out = tmp_path / "figures.json"
    proc = run("peers.py", "--ddinter", DDINTER_DIR, "--pack", path, "--slice", SLICE, "--quick", "--repeat", 1,
               "--before-package", package, "--json", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    by_name = {(f["section"], f["contender"]): f for f in json.loads(out.read_text(encoding="utf-8"))["figures"]}
    for key in [("before", "before: from_json(text)"), ("before", "before: load(path)"),
                ("before-wall", "before: load(path) wall time"), ("before", "before: builtin() (curated pack)"),
                ("load-wall", "rxcaution load(path) wall time")]:
        assert by_name[key]["value"] > 0, key
    assert re.search(r"JSON load, the code before / this code, same run: from_json [\d.]+x, load\(path\) [\d.]+x CPU "
                     r"and [\d.]+x wall \(target >= 3x\)", proc.stdout), proc.stdout
    assert "the code before " in proc.stdout


def test_population_is_deterministic_and_drawn_from_the_pack(tmp_path):
    names = {s["name"].lower() for s in json.loads(MINI_PACK.read_text(encoding="utf-8"))["substances"]}
    first, second, other = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    for out, seed in ((first, 3), (second, 3), (other, 4)):
        proc = run("population.py", MINI_PACK, out, "--regimens", 300, "--seed", seed, "--max-size", 4,
                   "--misspell", 0, "--unknown", 0)
        assert proc.returncode == 0, proc.stderr
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    with first.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["regimen_id", "medication"]
    per_regimen: dict[str, list[str]] = {}
    for row in rows:
        per_regimen.setdefault(row["regimen_id"], []).append(row["medication"].lower())
    assert len(per_regimen) == 300
    assert all(2 <= len(meds) <= 4 and len(set(meds)) == len(meds) for meds in per_regimen.values())
    assert {m for meds in per_regimen.values() for m in meds} <= names


def test_population_misspells_and_invents_names_when_asked(tmp_path):
    names = {s["name"].lower() for s in json.loads(MINI_PACK.read_text(encoding="utf-8"))["substances"]}
    out = tmp_path / "p.csv"
    proc = run("population.py", MINI_PACK, out, "--regimens", 500, "--misspell", 0.3, "--unknown", 0.2, "--max-size", 3)
    assert proc.returncode == 0, proc.stderr
    with out.open(newline="", encoding="utf-8") as handle:
        typed = [row["medication"].lower() for row in csv.DictReader(handle)]
    outside = [m for m in typed if m not in names]
    assert 0.2 * len(typed) < len(outside) < 0.7 * len(typed)


@needs_ddinter
def test_screen_bench_quick_run_reports_every_contender(tmp_path):
    pytest.importorskip("rxcaution")
    pytest.importorskip("pandas")
    out = tmp_path / "screen.json"
    proc = run("screen_bench.py", "--ddinter", DDINTER_DIR, "--regimens", 3000, "--check-sample", 500,
               "--repeats", 1, "--no-dask", "--workdir", tmp_path, "--json", out, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "population: 3,000 regimens" in proc.stdout
    figures = json.loads(out.read_text(encoding="utf-8"))
    for name in ("dict peer loop", "kb.check loop", "kb.screen list, 1 thread", "kb.screen list, 2 threads",
                 "kb.screen DataFrame, 2 threads", "C++ screen alone, 1 thread", "C++ screen alone, 2 threads"):
        assert figures["results"][name] > 0, name
    assert "screen 2 threads / 1 thread = " in proc.stdout
    assert "C++ screen alone: 1 thread " in proc.stdout
