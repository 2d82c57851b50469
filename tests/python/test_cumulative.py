"""Cumulative rules (issue 12 part 3): a risk across a set of medications, one warning naming
every input, in every output; dose thresholds compared with the dose written in the text."""

from __future__ import annotations

import rxcaution
from rxcaution import Severity, WarningKind


def kb() -> rxcaution.KnowledgeBase:
    return rxcaution.KnowledgeBase.builtin()


def cumulative(report: rxcaution.Report) -> list:
    return [w for w in report.warnings if w.kind == WarningKind.CUMULATIVE]


def test_opioid_benzodiazepine_gabapentinoid() -> None:
    report = kb().check(["oxycodone", "alprazolam", "gabapentin"])
    assert [(w.rule, str(w.kind)) for w in report.warnings] == [
        ("opioid-agonists-benzodiazepines", "drug-drug"),
        ("cumulative-opioid-cns-depressants", "cumulative"),
    ]
    (w,) = cumulative(report)
    assert w.severity == Severity.MAJOR
    assert str(w.evidence) == "secondary"
    assert w.id == "cumulative-opioid-cns-depressants:alprazolam+gabapentin+oxycodone"
    assert w.inputs == ["oxycodone", "alprazolam", "gabapentin"]
    assert w.input_indexes == [0, 1, 2]
    assert w.substances == ["oxycodone", "alprazolam", "gabapentin"]
    assert (w.group, w.group_lead) == (1, True)
    doc = report.to_dict()["warnings"][1]
    assert doc["kind"] == "cumulative"
    assert doc["inputs"] == ["oxycodone", "alprazolam", "gabapentin"]
    issue = report.to_fhir()["entry"][1]["resource"]
    assert [r["display"] for r in issue["implicated"]] == ["oxycodone", "alprazolam", "gabapentin"]
    assert issue["code"]["text"] == "cumulative"
    cards = report.to_cds_hooks(focus=[False, False, True])["cards"]
    assert [c["summary"].split(":")[0] for c in cards] == ["oxycodone + alprazolam + gabapentin"]
    assert "\n2. MAJOR [cumulative] oxycodone + alprazolam + gabapentin: " in report.to_text()


def test_two_depressants_or_no_opioid_do_not_fire() -> None:
    assert cumulative(kb().check(["oxycodone", "alprazolam"])) == []
    assert cumulative(kb().check(["alprazolam", "gabapentin", "zolpidem"])) == []
    assert cumulative(kb().check(["methadone", "methadone HCl", "Methadose"])) == []


def test_qt_rule_needs_a_risk_condition_and_reports_doses() -> None:
    assert cumulative(kb().check(["methadone", "ondansetron"])) == []
    report = kb().check(["methadone", "ondansetron"], conditions=["hypokalemia"])
    (w,) = cumulative(report)
    assert w.rule == "cumulative-qt-drugs-with-risk-condition"
    assert w.condition == "qt-prolongation-risk"
    assert w.summary.startswith("methadone + ondansetron with hypokalemia: Two or more QT-prolonging drugs")
    report = kb().check(["citalopram 60 mg daily", "ondansetron"], conditions=["low potassium"])
    (w,) = cumulative(report)
    assert (
        "dose: 'citalopram 60 mg daily': 60 mg/day of citalopram (60 mg daily), above the 40 mg/day the source names"
        in w.explanation
    )
    (w,) = cumulative(kb().check(["citalopram", "ondansetron"], conditions=["hypokalemia"]))
    assert " Dose: 'citalopram': dose of citalopram not given, so it is unknown whether it is above the 40 mg/day" in w.effect


def test_dose_text_resolves_and_rules_are_exposed() -> None:
    for text in ("methadone 120 mg daily", "methadone 250mg/day"):
        r = kb().resolve(text)
        assert (r.resolved, r.ingredients) == (True, ["methadone"]), text
    rules = {r.id: r for r in kb().cumulative_rules()}
    assert sorted(rules) == [
        "cumulative-maoi-serotonergic",
        "cumulative-opioid-cns-depressants",
        "cumulative-qt-drugs-with-risk-condition",
    ]
    qt = rules["cumulative-qt-drugs-with-risk-condition"]
    assert isinstance(qt, rxcaution.CumulativeRule)
    assert [(t.substance, t.above_mg_per_day) for t in qt.dose_thresholds] == [("citalopram", 40.0)]
    assert [(q.member.id, q.min) for q in rules["cumulative-opioid-cns-depressants"].requirements] == [
        ("cns-depressants", 3),
        ("opioids", 1),
    ]


def test_cli_show_prints_a_cumulative_rule() -> None:
    from rxcaution._core import run_cli

    code, out, err = run_cli(["show", "cumulative-qt-drugs-with-risk-condition"])
    assert (code, err) == (0, "")
    assert "kind: cumulative\n" in out
    assert 'requires: ["at least 2 of class qt-prolonging-drugs"]\n' in out
    assert 'dose_thresholds: ["citalopram above 40 mg/day"]\n' in out
