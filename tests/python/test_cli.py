"""`python -m rxcaution` is the rxcaution command-line tool: same subcommands, output and exit codes.

Outputs are compared with what the library returns for the same question, so that the tool and the
API cannot drift apart. Set RXCAUTION_CLI to the C++ executable (e.g. build/rxcaution) to also
compare byte for byte with it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rxcaution import KnowledgeBase, Severity
from rxcaution._core import run_cli


def rx(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rxcaution", *args], capture_output=True, timeout=300)


def out(result: subprocess.CompletedProcess) -> str:
    return result.stdout.decode("utf-8")


def err(result: subprocess.CompletedProcess) -> str:
    return result.stderr.decode("utf-8")


# --- check ----------------------------------------------------------------------------------------


def test_check_prints_the_text_report(kb):
    result = rx("check", "Suboxone", "alprazolam")
    assert (result.returncode, err(result)) == (0, "")
    assert out(result) == kb.check(["Suboxone", "alprazolam"]).to_text()


def test_check_with_conditions(kb):
    result = rx("check", "--condition", "hypertension", "-c", "long QT syndrome", "ketamine", "methadone")
    assert result.returncode == 0
    assert out(result) == kb.check(["ketamine", "methadone"], conditions=["hypertension", "long QT syndrome"]).to_text()


@pytest.mark.parametrize(
    "fmt, render",
    [
        ("json", lambda r: r.to_json()),
        ("fhir", lambda r: r.to_fhir_json()),
        ("cds-hooks", lambda r: r.to_cds_hooks_json()),
        ("text", lambda r: r.to_text().rstrip("\n")),
    ],
)
def test_check_formats(kb, fmt, render):
    result = rx("check", "--format", fmt, "naltrexone", "methadone")
    assert result.returncode == 0
    assert out(result) == render(kb.check(["naltrexone", "methadone"])) + "\n"


def test_check_min_severity(kb):
    result = rx("check", "--format", "json", "--min-severity", "major", "methadone", "efavirenz", "clarithromycin")
    expected = kb.check(["methadone", "efavirenz", "clarithromycin"], min_severity=Severity.MAJOR)
    assert json.loads(out(result)) == expected.to_dict()
    assert {w["severity"] for w in json.loads(out(result))["warnings"]} == {"major"}


def test_unknown_medication_exits_2_and_says_it_was_not_checked(kb):
    result = rx("check", "Suboxone", "xyzzy")
    assert result.returncode == 2
    assert err(result) == "rxcaution: NOT CHECKED: unknown medication 'xyzzy'\n"
    assert out(result) == kb.check(["Suboxone", "xyzzy"]).to_text()
    allowed = rx("check", "--allow-unresolved", "Suboxone", "xyzzy")
    assert (allowed.returncode, err(allowed)) == (0, "rxcaution: NOT CHECKED: unknown medication 'xyzzy'\n")


def test_unknown_condition_exits_2():
    result = rx("check", "--condition", "flibbertigibbet", "methadone")
    assert result.returncode == 2
    assert err(result) == "rxcaution: NOT CHECKED: unknown condition 'flibbertigibbet'\n"


@pytest.mark.parametrize(
    "meds, fail_on, code",
    [
        (["Suboxone", "alprazolam"], "major", 3),
        (["Suboxone", "alprazolam"], "moderate", 3),
        (["Suboxone", "alprazolam"], "contraindicated", 0),
        (["naltrexone", "methadone"], "contraindicated", 3),
        (["methadone"], "minor", 0),
    ],
)
def test_fail_on_exits_3(meds, fail_on, code):
    assert rx("check", "--fail-on", fail_on, *meds).returncode == code


def test_bad_severity_is_a_usage_error():
    result = rx("check", "--fail-on", "severe", "methadone")
    assert result.returncode == 1
    assert err(result) == (
        'rxcaution: --fail-on: expected minor, moderate, major or contraindicated, got "severe"\n'
        "(rxcaution --help shows the usage)\n"
    )


# --- resolve, show, validate, stats -------------------------------------------------------------------


def test_resolve(kb):
    result = rx("resolve", "Subutex", "methadone HCl")
    assert (result.returncode, err(result)) == (0, "")
    lines = []
    for text in ("Subutex", "methadone HCl"):
        r = kb.resolve(text)
        lines.append(f"{r.input} -> {r.kind} {r.id} ({r.name}; matched by {r.matched_by}); ingredients: {' '.join(r.ingredients)}\n")
    assert out(result) == "".join(lines)
    assert lines[0] == "Subutex -> product subutex (Subutex; matched by brand); ingredients: buprenorphine\n"


def test_resolve_unknown_exits_2(kb):
    result = rx("resolve", "--format", "json", "Subutex", "methadne")
    assert result.returncode == 2
    doc = json.loads(out(result))
    assert [(d["input"], d["status"], d["id"]) for d in doc] == [("Subutex", "resolved", "subutex"), ("methadne", "unresolved", None)]
    assert doc[1]["suggestions"] == kb.resolve("methadne").suggestions


def test_show(kb):
    text = rx("show", "methadone")
    assert text.returncode == 0
    assert out(text).startswith("kind: substance\nid: methadone\nname: methadone\n")
    result = rx("show", "--format", "json", "methadone")
    assert result.returncode == 0
    doc = json.loads(out(result))
    assert (doc["kind"], doc["id"], doc["name"]) == ("substance", "methadone", "methadone")
    assert doc["classes"] == kb.classes_of("methadone")
    assert [r["id"] for r in doc["interactions"]] == [r.id for r in kb.rules_for("methadone")]
    assert [r["id"] for r in doc["contraindications"]] == [r.id for r in kb.contraindications_for("methadone")]


def test_show_a_rule(kb):
    result = rx("show", "--format", "json", "methadone-naltrexone")
    assert result.returncode == 0
    doc = json.loads(out(result))
    rule = kb.interaction("methadone-naltrexone")
    assert (doc["kind"], doc["id"], doc["severity"], doc["summary"]) == ("interaction", rule.id, "contraindicated", rule.summary)


def test_show_unknown_exits_1():
    result = rx("show", "methadne")
    assert result.returncode == 1
    assert err(result) == 'rxcaution: unknown id or name "methadne"; did you mean "methadone" or "Methadose"?\n'


def test_validate(tiny_pack, write_pack):
    directory = write_pack(tiny_pack, layout="dir")
    result = rx("validate", str(directory))
    assert (result.returncode, err(result)) == (0, "")
    assert out(result) == (
        f"{directory}: valid pack tiny 0.0.1 (4 substances, 1 products, 2 classes, 2 conditions, "
        "2 interaction rules, 1 contraindication rules, 2 sources)\n"
    )


def test_validate_reports_the_same_error_as_the_library(tiny_pack, write_pack):
    tiny_pack["interactions"][0]["participants"][1] = {"class": "hypnotics"}
    del tiny_pack["interactions"][1]["sources"]
    path = write_pack(tiny_pack)
    with pytest.raises(Exception) as info:
        KnowledgeBase.load(path)
    result = rx("validate", str(path))
    assert (result.returncode, out(result)) == (1, "")
    assert err(result) == f"rxcaution: {info.value}\n"


def test_stats(kb):
    result = rx("stats", "--format", "json")
    assert result.returncode == 0
    doc = json.loads(out(result))
    info = kb.info
    assert doc["pack"] == {"name": info.name, "version": info.version, "format_version": info.format_version}
    assert doc["counts"] == {
        "substances": info.substances,
        "products": info.products,
        "classes": info.classes,
        "class_memberships": info.class_memberships,
        "conditions": info.conditions,
        "interaction_rules": info.interactions,
        "contraindication_rules": info.contraindications,
        "treatments": info.treatments,
        "sources": info.sources,
        "compiled_substance_pairs": info.compiled_pairs,
    }
    assert sum(doc["interactions"]["by_severity"].values()) == info.interactions
    text = rx("stats")
    assert (text.returncode, out(text).splitlines()[0]) == (0, f"pack {info.name} {info.version}")


def test_pack_option_uses_another_pack(tiny_pack, write_pack):
    directory = write_pack(tiny_pack, layout="dir")
    result = rx("check", "--pack", str(directory), "AlphaBeta", "gamma")
    assert result.returncode == 0
    assert out(result) == KnowledgeBase.load(directory).check(["AlphaBeta", "gamma"]).to_text()


def test_graph(kb):
    result = rx("graph", "Suboxone", "alprazolam")
    assert result.returncode == 0
    assert out(result) == kb.regimen_dot(["Suboxone", "alprazolam"])
    whole = rx("graph", "--pack")
    assert (whole.returncode, out(whole)) == (0, kb.class_hierarchy_dot())


# --- usage ----------------------------------------------------------------------------------------


def test_version(kb):
    result = rx("--version")
    assert result.returncode == 0
    assert out(result) == f"rxcaution 0.1.0 (built-in pack {kb.info.name} {kb.info.version})\n"


def test_help_and_missing_command():
    help_ = rx("--help")
    assert help_.returncode == 0
    assert out(help_).startswith("rxcaution - medication interaction checks for opioid use disorder care\n")
    bare = rx()
    assert (bare.returncode, out(bare), err(bare)) == (1, "", out(help_))


def test_unknown_command():
    result = rx("frobnicate")
    assert (result.returncode, out(result)) == (1, "")
    assert err(result) == 'rxcaution: unknown command "frobnicate"\n(rxcaution --help shows the usage)\n'


def test_run_cli_returns_code_and_texts(kb):
    code, stdout, stderr = run_cli(["check", "Suboxone", "xyzzy"])
    assert (code, stderr) == (2, "rxcaution: NOT CHECKED: unknown medication 'xyzzy'\n")
    assert stdout == kb.check(["Suboxone", "xyzzy"]).to_text()


def test_main_returns_the_exit_code(capsys):
    from rxcaution.__main__ import main

    assert main(["resolve", "Subutex"]) == 0
    assert capsys.readouterr().out == "Subutex -> product subutex (Subutex; matched by brand); ingredients: buprenorphine\n"
    assert main(["check", "--fail-on", "major", "Suboxone", "alprazolam"]) == 3


# --- byte-for-byte against the C++ executable ---------------------------------------------------------

CLI = os.environ.get("RXCAUTION_CLI")
SAME_AS_EXECUTABLE = [
    ["check", "Suboxone", "alprazolam"],
    ["check", "--format", "json", "--condition", "hypertension", "ketamine", "Suboxone"],
    ["check", "--format", "fhir", "methadone", "clarithromycin"],
    ["check", "--format", "cds-hooks", "naltrexone", "methadone", "xyzzy"],
    ["check", "--fail-on", "major", "Suboxone", "alprazolam"],
    ["resolve", "Subutex", "methadne"],
    ["show", "methadone"],
    ["show", "cyp3a-inhibitors"],
    ["stats"],
    ["graph", "Suboxone", "alprazolam"],
    ["--version"],
    [],
    ["frobnicate"],
]


@pytest.mark.skipif(not CLI, reason="set RXCAUTION_CLI to the C++ rxcaution executable to compare with it")
@pytest.mark.parametrize("args", SAME_AS_EXECUTABLE, ids=" ".join)
def test_same_bytes_and_exit_code_as_the_executable(args):
    assert CLI is not None and (Path(CLI).is_file() or shutil.which(CLI)), CLI
    native = subprocess.run([CLI, *args], capture_output=True, timeout=300)
    python = rx(*args)
    assert (python.returncode, python.stdout, python.stderr) == (native.returncode, native.stdout, native.stderr)


def test_validate_reports_number_overflow_as_a_pack_error(tmp_path):
    # It used to print "internal error": nlohmann's out_of_range escaped the loader.
    path = tmp_path / "pack.json"
    path.write_text("1e999", encoding="utf-8")
    result = rx("validate", str(path))
    assert (result.returncode, out(result)) == (1, "")
    assert err(result) == f"rxcaution: {path}:1:5: invalid JSON at byte 4: number overflow parsing '1e999'\n"


def test_validate_names_a_character_device():
    result = rx("validate", "/dev/null")
    assert (result.returncode, err(result)) == (1, "rxcaution: /dev/null: is a character device, not a pack file\n")
