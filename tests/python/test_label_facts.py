"""The curated facts (data/interactions.json, data/contraindications.json), checked through Python.

First the seed facts by hand, with exact rule ids, severities and sources; then every curated rule
is made to fire through `KnowledgeBase.check` for a representative regimen.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from rxcaution import EntityKind, Severity, WarningKind

DATA = Path(__file__).resolve().parents[2] / "data"


def fired(report):
    return [(w.rule, w.kind, w.severity) for w in report.warnings]


def sources_of(report, rule):
    (warning,) = [w for w in report.warnings if w.rule == rule]
    return [s.id for s in warning.sources]


# --- seed facts -------------------------------------------------------------------------------------


def test_ketamine_with_suboxone_is_major_and_cites_the_haven_review(kb):
    report = kb.check(["ketamine", "Suboxone"])
    assert fired(report) == [
        ("buprenorphine-cns-depressants", WarningKind.DRUG_DRUG, Severity.MAJOR),
        ("ketamine-buprenorphine", WarningKind.DRUG_DRUG, Severity.MAJOR),
    ]
    assert sources_of(report, "ketamine-buprenorphine") == ["haven-ketamine-opioid-withdrawal", "lf-s1", "lf-s2"]
    (warning,) = [w for w in report.warnings if w.rule == "ketamine-buprenorphine"]
    assert warning.substances == ["ketamine", "buprenorphine"]
    assert warning.sources[0].title == kb.source("haven-ketamine-opioid-withdrawal").title
    # the seed rule replaces Ketalar's general CNS-depressant rule for this pair, and says so
    assert warning.explanation[-1] == "supersedes the more general rule ketamine-cns-depressants for this pair"


def test_methadone_with_clarithromycin_fires_the_cyp3a_inhibitor_rule(kb):
    report = kb.check(["methadone", "clarithromycin"])
    assert fired(report) == [
        ("methadone-cyp3a-inhibitors", WarningKind.DRUG_DRUG, Severity.MAJOR),
        ("methadone-qt-prolonging-drugs", WarningKind.DRUG_DRUG, Severity.MAJOR),
    ]
    rule = kb.interaction("methadone-cyp3a-inhibitors")
    assert (rule.first.kind, rule.first.id, rule.second.kind, rule.second.id) == (
        EntityKind.SUBSTANCE,
        "methadone",
        EntityKind.CLASS,
        "cyp3a-inhibitors",
    )
    assert "cyp3a-inhibitors" in kb.classes_of("clarithromycin")
    assert report.warnings[0].explanation[2] == "clarithromycin is a member of cyp3a-strong-inhibitors, a subclass of cyp3a-inhibitors"
    assert sources_of(report, "methadone-cyp3a-inhibitors") == ["lf-s2", "lf-s22", "lf-s21", "lf-s25"]
    assert [r.id for r in kb.interactions_between("methadone", "clarithromycin")] == [
        "methadone-cyp3a-inhibitors",
        "methadone-qt-prolonging-drugs",
    ]


def test_naltrexone_with_methadone_is_contraindicated(kb):
    report = kb.check(["naltrexone", "methadone"])
    assert report.max_severity is Severity.CONTRAINDICATED
    assert fired(report) == [
        ("methadone-naltrexone", WarningKind.DRUG_DRUG, Severity.CONTRAINDICATED),
    ]
    assert sources_of(report, "methadone-naltrexone") == ["lf-s63", "lf-s2", "lf-s67", "lf-s61"]


def test_suboxone_with_alprazolam_gives_major_warnings(kb):
    report = kb.check(["Suboxone", "alprazolam"])
    assert report.max_severity is Severity.MAJOR
    assert fired(report) == [("buprenorphine-cns-depressants", WarningKind.DRUG_DRUG, Severity.MAJOR)]
    assert report.warnings[0].substances == ["buprenorphine", "alprazolam"]
    assert report.warnings[0].explanation[2] == "alprazolam is a member of benzodiazepines, a subclass of cns-depressants"
    assert sources_of(report, "buprenorphine-cns-depressants") == ["lf-s40", "lf-s44", "lf-s2", "lf-s49"]


def test_sublingual_naloxone_in_suboxone_is_listed_but_not_checked(kb):
    suboxone = kb.resolve("Suboxone")
    assert (suboxone.kind, suboxone.id, suboxone.ingredients) == (EntityKind.PRODUCT, "suboxone", ["buprenorphine", "naloxone"])
    assert len(suboxone.not_checked) == 1 and suboxone.not_checked[0].startswith("naloxone: ")
    assert [i.substance for i in kb.product("suboxone").inactive_ingredients] == ["naloxone"]
    # naloxone on its own meets methadone; inside Suboxone it does not.
    assert "naloxone-methadone" in [w.rule for w in kb.check(["naloxone", "methadone"]).warnings]
    assert all("naloxone" not in w.substances for w in kb.check(["Suboxone", "methadone"]).warnings)


@pytest.mark.parametrize(
    "meds, conditions, expected",
    [
        (
            ["ketamine"],
            ["significant-hypertension"],
            [
                ("ketamine-significant-hypertension", Severity.CONTRAINDICATED, "significant-hypertension", ["lf-s8", "lf-s7"]),
                (
                    "ketamine-cardiovascular-disease",
                    Severity.MODERATE,
                    "cardiovascular-disease",
                    ["haven-ketamine-opioid-withdrawal", "lf-s6", "lf-s5"],
                ),
            ],
        ),
        (
            ["naltrexone"],
            ["opioid withdrawal"],
            [("naltrexone-opioid-withdrawal", Severity.CONTRAINDICATED, "opioid-withdrawal", ["lf-s63", "lf-s60"])],
        ),
        (
            ["Vivitrol"],
            ["acute hepatitis"],
            [("naltrexone-acute-hepatitis", Severity.CONTRAINDICATED, "acute-hepatitis", ["lf-s64", "lf-s68", "lf-s63"])],
        ),
        (
            ["methadone"],
            ["long QT syndrome"],
            [("methadone-qt-prolongation-risk", Severity.MAJOR, "qt-prolongation-risk", ["lf-s26", "lf-s32"])],
        ),
    ],
)
def test_drug_condition_facts(kb, meds, conditions, expected):
    report = kb.check(meds, conditions=conditions)
    assert [(w.rule, w.severity, w.condition, [s.id for s in w.sources]) for w in report.warnings] == expected
    assert {w.kind for w in report.warnings} == {WarningKind.DRUG_CONDITION}


@pytest.mark.parametrize(
    "text, kind, id, matched_by",
    [
        ("Subutex", EntityKind.PRODUCT, "subutex", "brand"),
        ("Sublocade", EntityKind.PRODUCT, "sublocade", "brand"),
        ("Vivitrol", EntityKind.PRODUCT, "vivitrol", "brand"),
        ("methadone HCl", EntityKind.SUBSTANCE, "methadone", "salt"),
        ("rxcui:6813", EntityKind.SUBSTANCE, "methadone", "rxcui"),
    ],
)
def test_names_people_type(kb, text, kind, id, matched_by):
    r = kb.resolve(text)
    assert (r.resolved, r.kind, r.id, r.matched_by) == (True, kind, id, matched_by)


# --- every curated rule, through Python -----------------------------------------------------------


def _rules(name):
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))[name]


def test_builtin_pack_holds_the_curated_rules_of_this_checkout(kb):
    """The installed wheel was built from the data next to these tests (rebuild it if this fails)."""
    assert [(r.id, str(r.severity)) for r in kb.interactions()] == [(r["id"], r["severity"]) for r in _rules("interactions")]
    assert [(r.id, str(r.severity)) for r in kb.contraindications()] == [
        (r["id"], r["severity"]) for r in _rules("contraindications")
    ]


def _inputs_for(kb, participants, limit=8):
    """Medication lists holding one member of each participant (two different ones if they are
    equal), the first member first: a general rule can be superseded for some members by a more
    specific one, so callers try these in order."""
    options = []
    for p in participants:
        if p.kind is EntityKind.CLASS:
            members = kb.members_of(p.id)
            assert members, f"class {p.id} has no member to test with"
            options.append(members[:limit])
        elif p.kind is EntityKind.PRODUCT:
            options.append([kb.product(p.id).name])
        else:
            options.append([p.id])
    if len(options) == 1:
        return [[m] for m in options[0]]
    return [[a, b] for a, b in itertools.product(*options) if a != b]


def _interaction_ids():
    return [r["id"] for r in _rules("interactions")]


def _contraindication_ids():
    return [r["id"] for r in _rules("contraindications")]


@pytest.mark.parametrize("rule_id", _interaction_ids())
def test_every_interaction_rule_fires(kb, rule_id):
    rule = kb.interaction(rule_id)
    tried = []
    for meds in _inputs_for(kb, [rule.first, rule.second]):
        matching = [w for w in kb.check(meds).warnings if w.rule == rule_id]
        if matching:
            break
        tried.append(meds)
    else:
        pytest.fail(f"{rule_id} fired for none of {tried}")
    assert len(matching) == 1
    w = matching[0]
    assert (w.kind, w.severity, w.evidence, w.management) == (WarningKind.DRUG_DRUG, rule.severity, rule.evidence, rule.management)
    assert [s.id for s in w.sources] == [c.source for c in rule.sources]


@pytest.mark.parametrize("rule_id", _contraindication_ids())
def test_every_contraindication_rule_fires(kb, rule_id):
    rule = kb.contraindication(rule_id)
    meds = _inputs_for(kb, [rule.subject])[0]
    matching = [w for w in kb.check(meds, conditions=[rule.condition]).warnings if w.rule == rule_id]
    assert len(matching) == 1, meds
    w = matching[0]
    assert (w.kind, w.severity, w.condition, w.management) == (
        WarningKind.DRUG_CONDITION,
        rule.severity,
        rule.condition,
        rule.management,
    )
    assert [s.id for s in w.sources] == [c.source for c in rule.sources]
