"""Layered packs (issue 10 part 4) from Python and the command line, and CDS Hooks requests as
real clients send them (part 5): their own prefetch keys, single resources, the deprecated
medication-prescribe hook and DSTU3/STU3 shapes.

The layered fixture pack is a format fixture: the real pairs in it carry the Level DDInter gives
them (../shared/datasets/ddinter/SOURCE.md: Methadone-Naltrexone Major); "Testdrug" names are
invented and carry no pharmacology.
"""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

import rxcaution

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cds"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _rule(rid: str, a: str, b: str, severity: str, level: str) -> Dict[str, Any]:
    return {
        "id": rid,
        "participants": [{"substance": a}, {"substance": b}],
        "severity": severity,
        "summary": f"DDInter rates this pair {level}",
        "effect": "Not given.",
        "mechanism": {"type": "unknown"},
        "management": "Not given.",
        "evidence": "secondary",
        "sources": [{"source": "ddinter"}],
    }


@pytest.fixture(scope="module")
def ddinter_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pack = {
        "manifest": {"name": "DDInter", "version": "test-1", "format_version": 1, "licence": "CC BY-NC-SA 4.0"},
        "sources": [{"id": "ddinter", "title": "DDInter (test fixture)", "kind": "dataset", "grade": "secondary"}],
        "substances": [
            {"id": "methadone", "name": "Methadone"},
            {"id": "ddinter-1263", "name": "Naltrexone"},
            {"id": "ddinter-9001", "name": "Testdrug A"},
            {"id": "ddinter-9002", "name": "Testdrug B"},
        ],
        "interactions": [
            _rule("ddinter-1166-1263", "methadone", "ddinter-1263", "major", "Major"),
            _rule("ddinter-9001-9002", "ddinter-9001", "ddinter-9002", "minor", "Minor"),
        ],
    }
    path = tmp_path_factory.mktemp("layers") / "ddinter.json"
    path.write_text(json.dumps(pack), encoding="utf-8")
    return path


def test_load_list_layers_packs_and_names_each(ddinter_fixture: Path) -> None:
    kb = rxcaution.load(["builtin", ddinter_fixture])
    same = rxcaution.KnowledgeBase.load(["builtin", str(ddinter_fixture)])
    builtin = rxcaution.KnowledgeBase.builtin()
    assert [(l.name, l.version, l.licence) for l in kb.info.layers] == [
        (builtin.info.name, builtin.info.version, builtin.info.licence),
        ("DDInter", "test-1", "CC BY-NC-SA 4.0"),
    ]
    layer = kb.info.layers[1]
    assert (layer.unified_by_id, layer.unified_by_name, layer.added, layer.ambiguous) == (1, 1, 2, 0)
    assert same.info == kb.info
    assert rxcaution.load("builtin").info == builtin.info
    assert len(builtin.info.layers) == 1
    with pytest.raises(TypeError, match="each pack must be str or os.PathLike, not int"):
        rxcaution.KnowledgeBase.load(["builtin", 42])
    with pytest.raises(rxcaution.DataError, match="no pack given"):
        rxcaution.KnowledgeBase.load([])


def test_curated_rule_leads_and_ddinter_rating_is_an_annotation(ddinter_fixture: Path) -> None:
    kb = rxcaution.load(["builtin", ddinter_fixture])
    alone = rxcaution.KnowledgeBase.builtin().check(["methadone", "naltrexone"])
    report = kb.check(["methadone", "naltrexone"])
    assert [w.rule for w in report.warnings] == [w.rule for w in alone.warnings]
    lead = report.warnings[0]
    assert lead.pack == rxcaution.KnowledgeBase.builtin().info.name
    [note] = lead.annotations
    assert (note.pack, note.rule, note.severity) == ("DDInter", "ddinter-1166-1263", rxcaution.Severity.MAJOR)
    expected = (
        "DDInter rates this pair Major (agrees)."
        if lead.severity == rxcaution.Severity.MAJOR
        else f"DDInter rates this pair Major (this warning: {lead.severity})."
    )
    assert note.text == expected
    doc = json.loads(report.to_json())
    assert doc["warnings"][0]["annotations"][0]["text"] == expected
    assert [l["name"] for l in doc["pack"]["layers"]] == [rxcaution.KnowledgeBase.builtin().info.name, "DDInter"]


def test_layered_knowledge_base_pickles_by_its_packs(ddinter_fixture: Path) -> None:
    kb = rxcaution.load(["builtin", ddinter_fixture])
    again = pickle.loads(pickle.dumps(kb))
    assert again.info == kb.info
    assert again.check(["Testdrug A", "Testdrug B"]).to_json() == kb.check(["Testdrug A", "Testdrug B"]).to_json()


def test_cli_pack_twice_with_builtin(ddinter_fixture: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "rxcaution", "check", "--pack", "builtin", "--pack", str(ddinter_fixture),
         "Testdrug A", "Testdrug B"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "rxcaution check - packs (the first leads where they overlap):\n" in proc.stdout
    assert "  DDInter test-1 (licence: CC BY-NC-SA 4.0)\n" in proc.stdout
    assert "1. MINOR [drug-drug] Testdrug A + Testdrug B: DDInter rates this pair Minor\n" in proc.stdout
    assert "   Pack: DDInter\n" in proc.stdout


# --- CDS Hooks as real clients send it -------------------------------------------------------------

cds_hooks = pytest.importorskip("rxcaution.cds_hooks", reason="needs the cds extra: pip install 'rxcaution[cds]'")
SIGN = cds_hooks.SERVICES["rxcaution-order-sign"]


def _fixture(name: str) -> Dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _order(rid: str, text: str, rtype: str = "MedicationRequest", status: str = "draft") -> Dict[str, Any]:
    return {"resourceType": rtype, "id": rid, "status": status, "medicationCodeableConcept": {"text": text}}


def _sign(drafts: list, prefetch: Dict[str, Any], hook: str = "order-sign") -> Dict[str, Any]:
    context: Dict[str, Any] = {"patientId": "pat-1"}
    if hook == "medication-prescribe":
        context["medications"] = drafts
    else:
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection",
                                  "entry": [{"resource": r} for r in drafts]}
    return {"hook": hook, "hookInstance": "11111111-2222-3333-4444-555555555555", "context": context,
            "prefetch": prefetch}


def _bundle(*resources: Dict[str, Any]) -> Dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def _cards(kb: rxcaution.KnowledgeBase, body: Dict[str, Any]) -> list:
    return cds_hooks.evaluate_request(kb, SIGN, body)["cards"]


ACTIVE_NALTREXONE = _order("active-1", "naltrexone", status="active")
STANDARD = {"medicationRequests": _bundle(ACTIVE_NALTREXONE), "medicationStatements": None, "conditions": None}


def test_prefetch_is_read_by_resource_type_whatever_the_key() -> None:
    kb = rxcaution.KnowledgeBase.builtin()
    expected = _cards(kb, _sign([_order("d1", "methadone")], STANDARD))
    assert any("methadone + naltrexone" in c["summary"] for c in expected), expected
    for prefetch in (
        {"activeMeds": _bundle(ACTIVE_NALTREXONE), "problems": None},          # the client's own keys
        {"med1": ACTIVE_NALTREXONE, "patient": {"resourceType": "Patient", "id": "pat-1"}},  # a single resource
        {"everything": _bundle(ACTIVE_NALTREXONE, {"resourceType": "Patient", "id": "pat-1"})},
    ):
        cards = _cards(kb, _sign([_order("d1", "methadone")], prefetch))
        # The same warning cards, byte for byte; only the missing-data card may differ.
        assert [c for c in cards if c["indicator"] != "info"] == [c for c in expected if c["indicator"] != "info"]
    # The data this service asks for came under other keys: no "not sent" card for medications.
    cards = _cards(kb, _sign([_order("d1", "methadone")], {"activeMeds": _bundle(ACTIVE_NALTREXONE)}))
    missing = [c for c in cards if c["summary"].startswith("Some patient data was not sent")]
    assert len(missing) == 1 and "`medicationRequests`" not in missing[0]["detail"]
    assert "`medicationStatements` (MedicationStatement)" in missing[0]["detail"]


def test_medication_prescribe_hook_and_dstu3_shapes() -> None:
    kb = rxcaution.KnowledgeBase.builtin()
    expected = _cards(kb, _sign([_order("d1", "methadone")], STANDARD))
    # CDS Hooks 1.0: context.medications, an array of (DSTU2) MedicationOrder resources.
    old = _sign([_order("d1", "methadone", rtype="MedicationOrder")],
                {"medications": _bundle(dict(ACTIVE_NALTREXONE, resourceType="MedicationOrder"))},
                hook="medication-prescribe")
    cards = _cards(kb, old)
    warn = [c for c in cards if c["indicator"] != "info"]
    assert [c["summary"] for c in warn] == [c["summary"] for c in expected if c["indicator"] != "info"]
    assert [c["uuid"] for c in warn] == [c["uuid"] for c in expected if c["indicator"] != "info"]
    # The same hook with a Bundle, at its own discovery entry.
    assert "rxcaution-medication-prescribe" in cds_hooks.SERVICES
    bundled = copy.deepcopy(old)
    bundled["context"]["medications"] = _bundle(_order("d1", "methadone"))
    assert [c["uuid"] for c in _cards(kb, bundled) if c["indicator"] != "info"] == [c["uuid"] for c in warn]
    # STU3: string clinicalStatus; a resolved condition is no longer checked, an active one is.
    body = _fixture("order-sign-ketamine-hypertension.json")
    r4_cards = _cards(kb, body)
    stu3 = copy.deepcopy(body)
    for entry in stu3["prefetch"]["conditions"]["entry"]:
        res = entry["resource"]
        res["clinicalStatus"] = "active"
        if "verificationStatus" in res:
            res["verificationStatus"] = res["verificationStatus"]["coding"][0]["code"]
    assert _cards(kb, stu3) == r4_cards
    resolved = copy.deepcopy(stu3)
    for entry in resolved["prefetch"]["conditions"]["entry"]:
        entry["resource"]["clinicalStatus"] = "resolved"
    assert not any("Hypertension" in c["summary"] for c in _cards(kb, resolved))
    assert any("Hypertension" in c["summary"] for c in r4_cards)
    # A STU3 MedicationStatement the patient does not take (taken: "n") is not checked.
    not_taken = dict(ACTIVE_NALTREXONE, resourceType="MedicationStatement", taken="n")
    cards = _cards(kb, _sign([_order("d1", "methadone")], {"statements": _bundle(not_taken)}))
    assert not any("naltrexone" in c["summary"] for c in cards)


def test_service_pack_option_layers_and_answers_ddinter_only_pairs(ddinter_fixture: Path) -> None:
    kb = cds_hooks.load_packs(["builtin", str(ddinter_fixture)])
    assert [l.name for l in kb.info.layers][1] == "DDInter"
    cards = _cards(kb, _sign([_order("d1", "Testdrug A")], {"meds": _bundle(_order("a1", "Testdrug B", status="active"))}))
    [card] = [c for c in cards if c["summary"].startswith("Testdrug A + Testdrug B")]
    assert card["summary"] == "Testdrug A + Testdrug B: DDInter rates this pair Minor"
    assert card["indicator"] == "info"  # minor severity
    assert "**Pack:** DDInter" in card["detail"]
    assert cds_hooks.load_packs([]).info == rxcaution.KnowledgeBase.builtin().info
