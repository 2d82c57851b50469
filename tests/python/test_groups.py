"""One alert per pair (issue 12 part 4): warnings about the same inputs are one group, led by the
most severe; text and CDS Hooks show one alert per group, JSON and FHIR keep every warning."""

from __future__ import annotations

import rxcaution


def test_ketamine_suboxone_is_one_group_with_two_rules() -> None:
    kb = rxcaution.KnowledgeBase.builtin()
    report = kb.check(["ketamine", "Suboxone"], conditions=["hypertension"])
    assert [(w.rule, w.group, w.group_lead) for w in report.warnings] == [
        ("buprenorphine-cns-depressants", 0, True),
        ("ketamine-buprenorphine", 0, False),
        ("ketamine-cardiovascular-disease", 1, True),
    ]
    assert [(g.lead, g.members) for g in report.groups] == [(0, [0, 1]), (2, [2])]
    assert isinstance(report.groups[0], rxcaution.WarningGroup)
    assert report.groups[0].to_dict() == {"lead": 0, "members": [0, 1]}


def test_json_warnings_carry_the_group_and_match_the_warning_objects() -> None:
    kb = rxcaution.KnowledgeBase.builtin()
    report = kb.check(["ketamine", "Suboxone"], conditions=["hypertension"])
    doc = report.to_dict()
    assert [(w["group"], w["group_lead"]) for w in doc["warnings"]] == [(0, True), (0, False), (1, True)]
    assert list(doc["warnings"][0])[-2:] == ["group", "group_lead"]  # fields added at the end only


def test_text_and_cds_show_one_alert_per_group() -> None:
    kb = rxcaution.KnowledgeBase.builtin()
    report = kb.check(["ketamine", "Suboxone"], conditions=["hypertension"])
    text = report.to_text()
    assert "3 warnings in 2 alerts (highest: MAJOR)\n" in text
    assert "   Further reasons for the same inputs (1):\n   1.2. MAJOR [drug-drug] ketamine + Suboxone: " in text
    cards = report.to_cds_hooks()["cards"]
    assert len(cards) == 2
    assert cards[0]["summary"].endswith(" (+1 further reason)")
    assert cards[0]["summary"].startswith("ketamine + Suboxone: Respiratory depression")
    assert "**Further reason 2 of 2: major** drug-drug - ketamine + Suboxone: Additive CNS" in cards[0]["detail"]
    assert cards[1]["summary"].startswith("ketamine with hypertension: ")


def test_shared_ingredient_entries_keep_a_card_each() -> None:
    kb = rxcaution.KnowledgeBase.builtin()
    report = kb.check(["Catapres", "Kapvay", "amitriptyline"])
    pair_ids = [w.id for w in report.warnings if w.input_indexes[-1] == 2]
    assert len(pair_ids) > len(set(pair_ids))  # two entries, one ingredient: the same warning id
    cards = report.to_cds_hooks()["cards"]
    assert len(cards) == len(report.groups)
    assert len({c["uuid"] for c in cards}) == len(cards)
    summaries = [c["summary"] for c in cards]
    assert any(s.startswith("Catapres + amitriptyline") for s in summaries), summaries
    assert any(s.startswith("Kapvay + amitriptyline") for s in summaries), summaries
    issue_ids = [e["resource"]["id"] for e in report.to_fhir()["entry"]]
    assert len(issue_ids) == len(set(issue_ids)) == len(report.warnings)
