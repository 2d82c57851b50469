"""`Report.to_fhir()` validated as FHIR R4 with an independent validator, and its mapping checked.

The validator is `fhir.resources` 6.4.0, the last release whose models are FHIR R4 (4.0.1); later
releases moved to R4B (6.5) and R5 (7.x, 8.x, with R4B as a subpackage), and no release after 6.4
carries R4 proper. Its pydantic models check structure, cardinality, primitive formats and
unknown elements, but not coded values, required bindings or the JSON rules on empty values, so
this file checks those itself (`fhir_json_problems`, `REQUIRED_BINDINGS`).
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import rxcaution

fhir_resources = pytest.importorskip(
    "fhir.resources", reason="needs fhir.resources==6.4.0 (pip install 'rxcaution[test]')"
)

from fhir.resources.bundle import Bundle  # noqa: E402
from fhir.resources.detectedissue import DetectedIssue  # noqa: E402

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SEVERITY = {"contraindicated": "high", "major": "high", "moderate": "moderate", "minor": "low"}
# A cumulative warning (issue 12) is a drug interaction among several medications: DRG too.
ISSUE_CODE = {"drug-drug": "DRG", "drug-condition": "COND", "duplicate-therapy": "DUPTHPY", "cumulative": "DRG"}
# Required bindings of the elements the renderer fills (FHIR R4 value sets).
REQUIRED_BINDINGS = {
    "Bundle.type": {
        "document",
        "message",
        "transaction",
        "transaction-response",
        "batch",
        "batch-response",
        "history",
        "searchset",
        "collection",
    },
    "DetectedIssue.status": {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
    "DetectedIssue.severity": {"high", "moderate", "low"},
}
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")

# name -> (medications, conditions)
REGIMENS: Dict[str, Tuple[List[str], List[str]]] = {
    "drug-drug major": (["methadone", "clarithromycin"], []),
    "drug-drug contraindicated": (["Suboxone", "naltrexone"], []),
    "drug-drug minor": (["methadone", "didanosine"], []),
    "drug-condition": (["ketamine"], ["hypertension"]),
    "duplicate therapy": (["methadone", "methadone hydrochloride"], []),
    "mixed regimen": (["Suboxone", "alprazolam", "ketamine", "clonidine"], ["hypertension"]),
    "unresolved input": (["Zorblaxin 5 mg", "methadone", "clarithromycin"], []),
    "empty report": (["methadone"], []),
    "no rules": (["acetaminophen", "warfarin"], []),
    "no medications": ([], []),
}


def fhir_json_problems(value: Any, path: str = "$") -> Iterator[str]:
    """FHIR JSON rules pydantic does not check: no null, no empty string, object or array."""
    if value is None:
        yield f"{path} is null"
    elif isinstance(value, str):
        if not value.strip():
            yield f"{path} is an empty string"
    elif isinstance(value, list):
        if not value:
            yield f"{path} is an empty array"
        for i, item in enumerate(value):
            yield from fhir_json_problems(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        if not value:
            yield f"{path} is an empty object"
        for key, item in value.items():
            yield from fhir_json_problems(item, f"{path}.{key}")


def issues(bundle: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [
        entry["resource"] for entry in bundle.get("entry", []) if entry["resource"]["resourceType"] == "DetectedIssue"
    ]


@pytest.fixture(scope="module")
def rendered(kb: rxcaution.KnowledgeBase) -> Dict[str, Tuple[rxcaution.Report, Dict[str, Any]]]:
    out = {}
    for name, (meds, conditions) in REGIMENS.items():
        report = kb.check(meds, conditions=conditions)
        out[name] = (report, report.to_fhir())
    return out


def test_validator_is_fhir_r4() -> None:
    assert fhir_resources.__fhir_version__ == "4.0.1", (
        f"fhir.resources {fhir_resources.__version__} models FHIR {fhir_resources.__fhir_version__}, not R4 "
        "4.0.1: install fhir.resources==6.4.0"
    )


def test_the_validator_rejects_a_broken_issue(rendered) -> None:
    _, bundle = rendered["drug-drug major"]
    good = issues(bundle)[0]
    DetectedIssue.parse_obj(good)
    for broken in (
        {k: v for k, v in good.items() if k != "status"},  # status is 1..1
        {**good, "mitigation": [{"date": "2024-01-01"}]},  # mitigation.action is 1..1
        {**good, "implicated": [{"display": ""}]},  # strings must not be empty
        {**good, "severity": "high  risk"},  # a code has no leading, trailing or double spaces
        {**good, "implicatedResource": []},  # no such element in R4
    ):
        with pytest.raises(ValueError):
            DetectedIssue.parse_obj(broken)
    with pytest.raises(ValueError):
        Bundle.parse_obj({**bundle, "type": None})


def test_the_regimens_cover_every_kind_and_severity(rendered) -> None:
    kinds = {str(w.kind) for report, _ in rendered.values() for w in report.warnings}
    severities = {str(w.severity) for report, _ in rendered.values() for w in report.warnings}
    assert kinds == set(ISSUE_CODE)
    assert severities == set(SEVERITY)


@pytest.mark.parametrize("name", list(REGIMENS))
def test_bundle_and_each_detected_issue_validate_as_fhir_r4(rendered, name: str) -> None:
    report, bundle = rendered[name]
    assert json.loads(report.to_fhir_json()) == bundle
    parsed = Bundle.parse_obj(bundle)
    assert parsed.type == "collection"
    assert bundle["type"] in REQUIRED_BINDINGS["Bundle.type"]
    assert len(issues(bundle)) == len(report.warnings)
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        # Every entry validates as its own resource type (DetectedIssue; an OperationOutcome would
        # be the FHIR way to say that an input was not checked).
        assert resource["resourceType"] in ("DetectedIssue", "OperationOutcome")
        model = fhir_resources.construct_fhir_element(resource["resourceType"], resource)
        if resource["resourceType"] == "DetectedIssue":
            issue = DetectedIssue.parse_obj(resource)
            assert issue.status in REQUIRED_BINDINGS["DetectedIssue.status"]
            assert issue.severity in REQUIRED_BINDINGS["DetectedIssue.severity"]
            assert model == issue
        assert FHIR_ID.match(resource["id"]), resource["id"]
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
    full_urls = [entry["fullUrl"] for entry in bundle.get("entry", [])]
    assert len(full_urls) == len(set(full_urls)), "bdl-7: fullUrl must be unique in a Bundle"
    # Nothing was dropped or renamed on the way through the models.
    assert json.loads(parsed.json()) == {k: v for k, v in bundle.items() if v != []}


@pytest.mark.parametrize("name", [n for n in REGIMENS if n not in ("empty report", "no medications")])
def test_fhir_json_has_no_empty_values(rendered, name: str) -> None:
    _, bundle = rendered[name]
    assert list(fhir_json_problems(bundle)) == []


@pytest.mark.parametrize("name", ["empty report", "no medications"])
def test_empty_report_leaves_entry_out(rendered, name: str) -> None:
    _, bundle = rendered[name]
    assert list(fhir_json_problems(bundle)) == []
    assert "entry" not in bundle


def test_recognised_inputs_without_rules_get_an_informational_outcome(rendered) -> None:
    """A recognised medication no rule involves is never silent: one OperationOutcome each."""
    _, bundle = rendered["no rules"]
    outcomes = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "OperationOutcome"]
    texts = sorted(o["issue"][0]["details"]["text"] for o in outcomes)
    assert [(o["issue"][0]["severity"], o["issue"][0]["code"]) for o in outcomes] == [("information", "informational")] * 2
    assert texts == [
        "'acetaminophen' was recognised as acetaminophen, but this pack has no interaction rules for it: no warning "
        "about it does not mean it is safe.",
        "'warfarin' was recognised as Warfarin, but this pack has no interaction rules for it: no warning about it "
        "does not mean it is safe.",
    ]


@pytest.mark.parametrize("name", list(REGIMENS))
def test_severity_and_code_mapping(rendered, name: str) -> None:
    report, bundle = rendered[name]
    for warning, issue in zip(report.warnings, issues(bundle)):
        assert issue["severity"] == SEVERITY[str(warning.severity)]
        codings = issue["code"]["coding"]
        assert len(codings) == 1
        assert codings[0]["system"] == ACT_CODE
        assert codings[0]["code"] == ISSUE_CODE[str(warning.kind)]
        assert codings[0]["display"]
        assert issue["code"]["text"] == str(warning.kind)
        assert issue["status"] == "final"


@pytest.mark.parametrize("name", list(REGIMENS))
def test_implicated_are_the_callers_inputs_and_mitigation_is_the_management(rendered, name: str) -> None:
    report, bundle = rendered[name]
    for warning, issue in zip(report.warnings, issues(bundle)):
        assert [ref["display"] for ref in issue["implicated"]] == list(warning.inputs)
        meds = REGIMENS[name][0]
        assert [meds[i] for i in warning.input_indexes] == list(warning.inputs)
        assert [m["action"]["text"] for m in issue["mitigation"]] == [warning.management]
        assert issue["detail"].startswith(warning.summary)
        evidence_code = issue["evidence"][0]["code"][0]["text"]
        assert evidence_code == f"evidence grade: {warning.evidence}"
        urls = [s.url for s in warning.sources if s.url]
        if urls:
            assert issue["reference"] == urls[0]
        else:
            assert "reference" not in issue


def test_expected_issues_per_regimen(rendered) -> None:
    def summary(name: str) -> List[Tuple[str, str]]:
        report, bundle = rendered[name]
        return [(i["code"]["coding"][0]["code"], i["severity"]) for i in issues(bundle)]

    assert ("DRG", "high") in summary("drug-drug major")
    assert ("DRG", "high") in summary("drug-drug contraindicated")
    assert ("DRG", "low") in summary("drug-drug minor")
    assert summary("drug-condition") == [("COND", "moderate")]
    assert ("DUPTHPY", "moderate") in summary("duplicate therapy")
    assert summary("empty report") == []
    assert summary("no medications") == []


def test_rule_ids_behind_the_issues(rendered) -> None:
    report, _ = rendered["drug-drug major"]
    assert "methadone-cyp3a-inhibitors" in [w.rule for w in report.warnings]
    report, _ = rendered["drug-drug contraindicated"]
    assert "buprenorphine-naltrexone" in [w.rule for w in report.warnings]
    report, bundle = rendered["drug-condition"]
    assert [w.condition for w in report.warnings] == ["cardiovascular-disease"]
    assert [ref["display"] for ref in issues(bundle)[0]["implicated"]] == ["ketamine"]


def test_unresolved_input_is_not_implicated(rendered) -> None:
    report, bundle = rendered["unresolved input"]
    assert report.unresolved == ["Zorblaxin 5 mg"]
    assert issues(bundle), "the resolved medications are still checked"
    for issue in issues(bundle):
        assert "Zorblaxin 5 mg" not in [ref["display"] for ref in issue["implicated"]]


def test_ids_are_deterministic(kb: rxcaution.KnowledgeBase) -> None:
    meds, conditions = REGIMENS["mixed regimen"]
    first = kb.check(meds, conditions=conditions).to_fhir()
    second = kb.check(meds, conditions=conditions).to_fhir()
    assert first == second
    ids = [i["id"] for i in issues(first)]
    assert len(ids) == len(set(ids)) > 1
    # The same warning gets the same id in another regimen too (e.g. order-select then order-sign).
    major = {i["id"] for i in issues(kb.check(["methadone", "clarithromycin"]).to_fhir())}
    larger = {i["id"] for i in issues(kb.check(["methadone", "clarithromycin", "acetaminophen"]).to_fhir())}
    assert major <= larger


def test_issue_ids_match_cds_card_uuids(kb: rxcaution.KnowledgeBase) -> None:
    report = kb.check(["methadone", "clarithromycin"])
    ids = [i["id"] for i in issues(report.to_fhir())]
    # One card per alert group (issue 12): its uuid is the id of the group's leading issue.
    leads = [ids[g.lead] for g in report.groups]
    uuids = [c["uuid"] for c in report.to_cds_hooks()["cards"]][: len(leads)]
    assert leads == uuids


def test_unresolved_inputs_become_operation_outcomes(rendered) -> None:
    """An input that was not checked must not vanish from the FHIR output."""
    from fhir.resources.operationoutcome import OperationOutcome

    report, bundle = rendered["unresolved input"]
    outcomes = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "OperationOutcome"]
    assert len(outcomes) == len(report.unresolved) == 1
    OperationOutcome.parse_obj(outcomes[0])
    issue = outcomes[0]["issue"][0]
    assert issue["severity"] == "warning"
    assert issue["code"] == "not-found"
    assert issue["details"]["text"].startswith("Not checked: 'Zorblaxin 5 mg' is not a medication rxcaution knows")
    detected = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "DetectedIssue"]
    assert len(detected) == len(report.warnings)
