"""Report, Warning and the resolutions, and the report renderings as seen from Python.

The content of the FHIR and CDS Hooks renderings is tested elsewhere; here, that the binding hands
them over faithfully (text and parsed forms agree, indentation, Unicode).
"""

from __future__ import annotations

import json

import pytest

import rxcaution
from rxcaution import EntityKind, EvidenceGrade, Severity, WarningKind

MEDS = ["AlphaBeta", "delta", "zeta"]
CONDITIONS = ["high blood pressure", "gout"]


@pytest.fixture(scope="module")
def report(tiny_kb):
    return tiny_kb.check(MEDS, conditions=CONDITIONS)


def test_report_fields(report):
    assert isinstance(report, rxcaution.Report)
    assert (report.pack_name, report.pack_version) == ("tiny", "0.0.1")
    assert [(r.input, r.resolved, r.kind, r.id) for r in report.inputs] == [
        ("AlphaBeta", True, EntityKind.PRODUCT, "alphabeta"),
        ("delta", True, EntityKind.SUBSTANCE, "delta"),
        ("zeta", False, EntityKind.SUBSTANCE, ""),
    ]
    assert report.inputs[2].suggestions == ["beta"]
    assert [(c.input, c.resolved, c.id) for c in report.conditions] == [
        ("high blood pressure", True, "hypertension"),
        ("gout", False, ""),
    ]
    assert report.max_severity is Severity.CONTRAINDICATED
    assert report.complete is False
    assert report.unresolved == ["zeta"]


def test_complete_report_without_warnings(tiny_kb):
    report = tiny_kb.check(["alpha"])
    assert (report.complete, report.unresolved, report.warnings, report.max_severity) == (True, [], [], None)


def test_drug_condition_warning(report):
    (w,) = report.warnings
    assert isinstance(w, rxcaution.Warning)
    assert w.to_dict() == {
        "id": "delta-hypertension:delta",
        "kind": "drug-condition",
        "severity": "contraindicated",
        "rule": "delta-hypertension",
        "inputs": ["delta"],
        "input_indexes": [1],
        "substances": ["delta"],
        "condition": "hypertension",
        "summary": "delta with high blood pressure: Delta raises blood pressure",
        "effect": "Pressor effect.",
        "mechanism": "",
        "management": "Do not use delta.",
        "evidence": "label",
        "seriousness": "",
        "disagreement": "",
        "sources": [
            {"id": "t-label", "title": "Tiny label", "section": "§4", "url": "https://example.org/label", "grade": "label"}
        ],
        "explanation": [
            "'delta' resolved to substance delta",
            "patient condition 'high blood pressure' resolved to hypertension",
            "rule delta-hypertension: delta in hypertension (contraindicated, evidence label)",
        ],
        # Filled only in a layered knowledge base.
        "pack": "",
        "annotations": [],
        "group": 0,
        "group_lead": True,
    }


def test_drug_drug_warning_attributes(tiny_kb):
    w = tiny_kb.check(["AlphaBeta", "gamma"]).warnings[0]
    assert (w.id, w.kind, w.severity, w.rule) == (
        "alpha-depressants:alpha+gamma",
        WarningKind.DRUG_DRUG,
        Severity.MAJOR,
        "alpha-depressants",
    )
    assert (w.inputs, w.input_indexes, w.substances, w.condition) == (["AlphaBeta", "gamma"], [0, 1], ["alpha", "gamma"], "")
    assert (w.summary, w.effect, w.mechanism, w.management) == (
        "AlphaBeta + gamma: Alpha with a depressant",
        "Deep sedation.",
        "pharmacodynamic: Additive.",
        "Avoid the combination.",
    )
    assert (w.evidence, w.seriousness, w.disagreement) == (EvidenceGrade.LABEL, "boxed", "")
    (source,) = w.sources
    assert isinstance(source, rxcaution.SourceRef)
    assert (source.id, source.title, source.section, source.url, source.grade) == (
        "t-label",
        "Tiny label",
        "BOXED",
        "https://example.org/label",
        EvidenceGrade.LABEL,
    )
    assert w.explanation == [
        "'AlphaBeta' resolved to product AlphaBeta, which contains alpha and beta",
        "'gamma' resolved to substance gamma",
        "gamma is a member of sedatives, a subclass of depressants",
        "rule alpha-depressants: alpha x class depressants (major, evidence label)",
    ]
    assert repr(w) == (
        "Warning(kind=WarningKind.DRUG_DRUG, severity=Severity.MAJOR, rule='alpha-depressants', "
        "inputs=['AlphaBeta', 'gamma'])"
    )


def test_repr(report):
    assert repr(report) == (
        "Report(pack='tiny 0.0.1', inputs=3, warnings=1, max_severity=Severity.CONTRAINDICATED, complete=False)"
    )
    assert repr(report.inputs[0]) == (
        "Resolution(input='AlphaBeta', resolved=True, kind=EntityKind.PRODUCT, id='alphabeta', matched_by='brand')"
    )
    assert repr(report.conditions[1]) == "ConditionResolution(input='gout', resolved=False, id='')"


def test_equality(tiny_kb, report):
    assert tiny_kb.check(MEDS, conditions=CONDITIONS) == report
    assert tiny_kb.check(MEDS) != report
    assert tiny_kb.check(list(reversed(MEDS)), conditions=CONDITIONS) != report
    assert report != report.to_dict()


def test_to_json_is_the_documented_contract(report):
    text = report.to_json()
    assert text.startswith('{\n  "pack": {\n    "name": "tiny",')
    assert '"section": "§4"' in text  # UTF-8 text, not \u escapes
    assert "\n" not in report.to_json(indent=-1)
    assert json.loads(report.to_json(indent=-1)) == json.loads(text)
    assert report.to_json(indent=4).startswith('{\n    "pack"')
    doc = report.to_dict()
    assert doc == json.loads(text)
    assert list(doc) == ["pack", "inputs", "conditions", "warnings", "max_severity", "complete", "unresolved", "disclaimer"]
    assert (doc["max_severity"], doc["complete"], doc["unresolved"]) == ("contraindicated", False, ["zeta"])
    assert doc["inputs"][2] == {
        "input": "zeta",
        "status": "unresolved",
        "id": None,
        "name": None,
        "kind": None,
        "matched_by": None,
        "ingredients": [],
        "not_checked": [],
        "suggestions": ["beta"],
        "duplicate_of": None,
        "coverage": "unresolved",
        "drugbank": None,
        "vocabulary_only": False,
        "ambiguous": [],
    }
    assert doc["disclaimer"] == (
        "rxcaution is reference software, not medical advice. No warning found does not mean a combination is safe."
    )


def test_to_text(report):
    text = report.to_text()
    assert text.startswith("rxcaution check - pack tiny 0.0.1\nReference software, not medical advice.\n")
    assert "  zeta -> NOT CHECKED: unknown medication; did you mean beta?\n" in text
    assert "1. CONTRAINDICATED [drug-condition] delta with high blood pressure: Delta raises blood pressure\n" in text
    assert text.endswith("WARNING: 1 medication was NOT CHECKED: 'zeta'. Their interactions are unknown.\n")


def test_fhir_text_and_dict_agree(report):
    bundle = report.to_fhir()
    assert isinstance(bundle, dict)
    assert bundle == json.loads(report.to_fhir_json())
    assert bundle == json.loads(report.to_fhir_json(indent=-1))
    assert "\n" not in report.to_fhir_json(indent=-1)
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    issues = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DetectedIssue"]
    assert [i["severity"] for i in issues] == ["high"]  # the one contraindicated warning


def test_cds_hooks_text_and_dict_agree(report):
    response = report.to_cds_hooks()
    assert isinstance(response, dict)
    assert response == json.loads(report.to_cds_hooks_json())
    assert response == json.loads(report.to_cds_hooks_json(indent=-1))
    assert "\n" not in report.to_cds_hooks_json(indent=-1)
    assert [c["indicator"] for c in response["cards"]] == ["critical", "info"]
    assert response["cards"][0]["summary"] == "delta with high blood pressure: Delta raises blood pressure"
