"""Every public method of KnowledgeBase, and the entity classes, against the tiny pack of conftest.py."""

from __future__ import annotations

import copy
import gc
import json
import os
import pickle
import weakref
from pathlib import Path

import pytest

import rxcaution
from rxcaution import EntityKind, EvidenceGrade, KnowledgeBase, NotFoundError, Severity


# --- construction ---------------------------------------------------------------------------------


def _summary(kb: KnowledgeBase):
    """Everything a pack holds, as plain data, to compare knowledge bases."""
    kinds = ("substances", "products", "classes", "conditions", "interactions", "contraindications", "treatments", "profiles", "sources")
    return {k: [e.to_dict() for e in getattr(kb, k)()] for k in kinds}


def test_load_directory_manifest_bundled_file_and_text_alike(tiny_pack, write_pack):
    directory = write_pack(tiny_pack, layout="dir")
    bundled = write_pack(tiny_pack, name="tiny.json")
    loaded = [
        KnowledgeBase.load(directory),
        KnowledgeBase.load(str(directory / "manifest.json")),
        KnowledgeBase.load(bundled),
        KnowledgeBase.from_json(json.dumps(tiny_pack)),
        KnowledgeBase.from_json(json.dumps(tiny_pack).encode("utf-8")),
    ]
    assert [kb.info.origin for kb in loaded] == [
        str(directory),
        f"{directory}/manifest.json",
        str(bundled),
        "<memory>",
        "<memory>",
    ]
    first = _summary(loaded[0])
    for kb in loaded[1:]:
        assert _summary(kb) == first


def test_load_accepts_path_like_objects(tiny_pack, write_pack):
    path = write_pack(tiny_pack)

    class Custom(os.PathLike):
        def __fspath__(self) -> str:
            return str(path)

    assert KnowledgeBase.load(Custom()).info.origin == str(path)


def test_info(tiny_kb):
    info = tiny_kb.info
    assert isinstance(info, rxcaution.PackInfo)
    assert info.to_dict() == {
        "name": "tiny",
        "version": "0.0.1",
        "format_version": 1,
        "licence": "CC0-1.0",
        "description": "A pack for the Python tests.",
        "origin": "<tiny>",
        "substances": 4,
        "products": 1,
        "classes": 2,
        "class_memberships": 2,
        "conditions": 2,
        "interactions": 2,
        "contraindications": 1,
        "treatments": 1,
        "sources": 2,
        "compiled_pairs": 3,
        # A single pack is its own one layer.
        "layers": [
            {"name": "tiny", "version": "0.0.1", "licence": "CC0-1.0", "origin": "<tiny>", "substances": 4,
             "interactions": 2, "unified_by_id": 0, "unified_by_identifier": 0, "unified_by_name": 0,
             "ambiguous": 0, "added": 0, "annotating_rules": 0}
        ],
    }
    assert repr(info) == "PackInfo(name='tiny', version='0.0.1', origin='<tiny>')"


def test_repr(tiny_kb):
    assert repr(tiny_kb) == (
        "<KnowledgeBase tiny 0.0.1 from <tiny>: 4 substances, 1 products, 2 classes, "
        "2 interaction rules, 1 contraindication rules>"
    )


def test_builtin_is_shared_and_named(kb):
    again = KnowledgeBase.builtin()
    assert again.info == kb.info
    assert kb.info.origin == "<builtin>"
    assert kb.info.name == "rxcaution-curated"
    assert kb.info.format_version == 1


# --- resolution -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, kind, id, matched_by, ingredients",
    [
        ("alpha", EntityKind.SUBSTANCE, "alpha", "name", ["alpha"]),
        ("ALPHA", EntityKind.SUBSTANCE, "alpha", "name", ["alpha"]),
        ("alfa", EntityKind.SUBSTANCE, "alpha", "synonym", ["alpha"]),
        ("alpha hydrochloride", EntityKind.SUBSTANCE, "alpha", "salt", ["alpha"]),
        ("alpha HCl", EntityKind.SUBSTANCE, "alpha", "salt", ["alpha"]),
        ("1001", EntityKind.SUBSTANCE, "alpha", "rxcui", ["alpha"]),
        ("rxcui:1001", EntityKind.SUBSTANCE, "alpha", "rxcui", ["alpha"]),
        ("AlphaBeta", EntityKind.PRODUCT, "alphabeta", "brand", ["alpha", "beta"]),
        ("Alpha-Beta", EntityKind.PRODUCT, "alphabeta", "brand", ["alpha", "beta"]),
    ],
)
def test_resolve(tiny_kb, text, kind, id, matched_by, ingredients):
    r = tiny_kb.resolve(text)
    assert isinstance(r, rxcaution.Resolution)
    assert (r.input, r.resolved, r.kind, r.id, r.matched_by, r.ingredients, r.suggestions, r.not_checked) == (
        text,
        True,
        kind,
        id,
        matched_by,
        ingredients,
        [],
        [],
    )


def test_resolve_unknown_text_gives_suggestions_and_never_raises(tiny_kb):
    r = tiny_kb.resolve("alpah")
    assert (r.resolved, r.id, r.name, r.matched_by, r.ingredients, r.suggestions) == (False, "", "", "", [], ["alpha"])
    assert tiny_kb.resolve("zzz").suggestions == []


def test_resolve_condition(tiny_kb):
    r = tiny_kb.resolve_condition("high blood pressure")
    assert isinstance(r, rxcaution.ConditionResolution)
    assert r.to_dict() == {
        "input": "high blood pressure",
        "resolved": True,
        "id": "hypertension",
        "name": "Hypertension",
        "suggestions": [],
        "matched_by": "synonym",
    }
    miss = tiny_kb.resolve_condition("hypertensoin")
    assert (miss.resolved, miss.id, miss.suggestions) == (False, "", ["Hypertension"])


# --- checks ---------------------------------------------------------------------------------------


def test_check(tiny_kb):
    report = tiny_kb.check(["AlphaBeta", "gamma"])
    assert [(w.rule, w.kind, w.severity) for w in report.warnings] == [
        ("alpha-depressants", rxcaution.WarningKind.DRUG_DRUG, Severity.MAJOR),
        ("sedatives", rxcaution.WarningKind.DUPLICATE_THERAPY, Severity.MODERATE),
    ]


def test_check_accepts_any_sequence(tiny_kb):
    assert tiny_kb.check(("AlphaBeta", "gamma")) == tiny_kb.check(["AlphaBeta", "gamma"])


def test_check_with_conditions(tiny_kb):
    report = tiny_kb.check(["delta"], conditions=["high blood pressure"])
    assert [(w.rule, w.kind, w.severity, w.condition) for w in report.warnings] == [
        ("delta-hypertension", rxcaution.WarningKind.DRUG_CONDITION, Severity.CONTRAINDICATED, "hypertension")
    ]
    assert tiny_kb.check(["delta"]).warnings == []


def test_check_min_severity_filters(tiny_kb):
    meds = ["AlphaBeta", "gamma", "delta"]
    assert [w.rule for w in tiny_kb.check(meds).warnings] == ["alpha-depressants", "sedatives", "gamma-delta"]
    assert [w.rule for w in tiny_kb.check(meds, min_severity=Severity.MODERATE).warnings] == ["alpha-depressants", "sedatives"]
    assert [w.rule for w in tiny_kb.check(meds, min_severity=Severity.MAJOR).warnings] == ["alpha-depressants"]
    assert tiny_kb.check(meds, min_severity=Severity.CONTRAINDICATED).warnings == []


def test_check_duplicate_therapy_switch(tiny_kb):
    assert [w.rule for w in tiny_kb.check(["beta", "gamma"]).warnings] == ["sedatives"]
    assert tiny_kb.check(["beta", "gamma"], duplicate_therapy=False).warnings == []
    # Two spellings of one ingredient are a duplicate therapy...
    same = tiny_kb.check(["alpha", "alfa"])
    assert [(w.rule, w.evidence, w.substances) for w in same.warnings] == [
        ("duplicate-ingredient", EvidenceGrade.DERIVED, ["alpha"])
    ]
    assert tiny_kb.check(["alpha", "alfa"], duplicate_therapy=False).warnings == []
    # ...while the same entry twice is a repeat, checked once (issue 13).
    repeated = tiny_kb.check(["delta", "Delta"])
    assert repeated.warnings == []
    assert [r.duplicate_of for r in repeated.inputs] == [None, 0]


def test_interactions_between(tiny_kb):
    rules = tiny_kb.interactions_between("AlphaBeta", "gamma")
    assert [r.id for r in rules] == ["alpha-depressants"]
    assert isinstance(rules[0], rxcaution.InteractionRule)
    assert [r.id for r in tiny_kb.interactions_between("delta", "gamma")] == ["gamma-delta"]
    assert tiny_kb.interactions_between("alpha", "delta") == []


# --- lookups --------------------------------------------------------------------------------------

LOOKUPS = [
    ("find_substance", "substance", "alpha", rxcaution.Substance),
    ("find_product", "product", "alphabeta", rxcaution.Product),
    ("find_class", "drug_class", "sedatives", rxcaution.DrugClass),
    ("find_condition", "condition", "hypertension", rxcaution.Condition),
    ("find_source", "source", "t-label", rxcaution.Source),
    ("find_interaction", "interaction", "gamma-delta", rxcaution.InteractionRule),
    ("find_contraindication", "contraindication", "delta-hypertension", rxcaution.ContraindicationRule),
    ("find_treatment", "treatment", "rest", rxcaution.Treatment),
]


@pytest.mark.parametrize("find, get, id, cls", LOOKUPS)
def test_find_and_get(tiny_kb, find, get, id, cls):
    found = getattr(tiny_kb, find)(id)
    assert isinstance(found, cls)
    assert found.id == id
    assert getattr(tiny_kb, get)(id) == found
    assert getattr(tiny_kb, find)("no-such-id") is None
    with pytest.raises(NotFoundError) as info:
        getattr(tiny_kb, get)("no-such-id")
    assert info.value.key == "no-such-id"


def test_ids_are_not_names(tiny_kb):
    assert tiny_kb.find_product("AlphaBeta") is None
    assert tiny_kb.find_substance("alfa") is None


def test_find_profile(tiny_kb):
    profile = tiny_kb.find_profile("alpha")
    assert profile.to_dict() == {
        "substance": "alpha",
        "mechanisms": [
            {
                "id": "a-mech",
                "name": "Agonism",
                "description": "Binds.",
                "sources": [{"source": "t-review", "section": "", "grade": "secondary", "note": ""}],
            }
        ],
        "benefits": [],
        "risks": [],
    }
    assert tiny_kb.find_profile("beta") is None


@pytest.mark.parametrize(
    "method, ids",
    [
        ("substances", ["alpha", "beta", "gamma", "delta"]),
        ("products", ["alphabeta"]),
        ("classes", ["depressants", "sedatives"]),
        ("conditions", ["hypertension", "withdrawal"]),
        ("interactions", ["alpha-depressants", "gamma-delta"]),
        ("contraindications", ["delta-hypertension"]),
        ("treatments", ["rest"]),
        ("sources", ["t-label", "t-review"]),
    ],
)
def test_collections_in_pack_order(tiny_kb, method, ids):
    assert [e.id for e in getattr(tiny_kb, method)()] == ids


def test_profiles_collection(tiny_kb):
    assert [p.substance for p in tiny_kb.profiles()] == ["alpha"]


def test_class_graph_queries(tiny_kb):
    assert tiny_kb.classes_of("gamma") == ["depressants", "sedatives"]
    assert tiny_kb.classes_of("alpha") == []
    assert tiny_kb.members_of("depressants") == ["beta", "gamma"]
    assert tiny_kb.members_of("sedatives") == ["beta", "gamma"]
    assert [r.id for r in tiny_kb.rules_for("gamma")] == ["alpha-depressants", "gamma-delta"]
    assert [r.id for r in tiny_kb.rules_for("depressants")] == ["alpha-depressants"]
    assert [r.id for r in tiny_kb.contraindications_for("delta")] == ["delta-hypertension"]
    assert tiny_kb.contraindications_for("alpha") == []


def test_rule_objects_are_shared_outlive_the_knowledge_base_and_do_not_keep_it(tiny_pack):
    # Rule objects refer to the compiled data instead of copying it. A query that returns a rule
    # already handed out gives the same object; the rules stay readable after the KnowledgeBase
    # object is gone, and holding them does not keep that Python object alive (no cycle).
    kb = KnowledgeBase.from_json(json.dumps(tiny_pack), origin="<tiny>")
    first = kb.rules_for("gamma")
    assert [r.id for r in first] == ["alpha-depressants", "gamma-delta"]
    again = kb.rules_for("gamma")
    assert all(a is b for a, b in zip(first, again))
    assert kb.rules_for("depressants")[0] is first[0]
    assert kb.interactions_between("gamma", "delta")[0] is first[1]
    contra = kb.contraindications_for("delta")
    assert kb.contraindications_for("delta")[0] is contra[0]
    alive = weakref.ref(kb)
    del kb, again
    gc.collect()
    assert alive() is None
    assert [(r.id, r.severity, r.first.id, r.second.id) for r in first] == [
        ("alpha-depressants", Severity.MAJOR, "alpha", "depressants"),
        ("gamma-delta", Severity.MINOR, "gamma", "delta")]
    assert first[0].sources and first[0].to_dict()["id"] == "alpha-depressants"
    assert contra[0].id == "delta-hypertension" and contra[0].condition == "hypertension"


def test_regimen_dot(tiny_kb):
    dot = tiny_kb.regimen_dot(["AlphaBeta", "gamma"])
    assert dot.startswith('digraph G {\nrankdir=LR;\nlabel="rxcaution: AlphaBeta + gamma";\n')
    assert dot.endswith("}\n")
    assert '[label="alpha-depressants\\nmajor", shape=note' in dot
    assert '[label="sedatives\\nmoderate", shape=note' in dot
    without = tiny_kb.regimen_dot(["AlphaBeta", "gamma"], duplicate_therapy=False)
    assert "alpha-depressants\\nmajor" in without
    assert "sedatives\\nmoderate" not in without
    assert "moderate" not in tiny_kb.regimen_dot(["AlphaBeta", "gamma"], min_severity=Severity.MAJOR)
    assert "delta-hypertension" in tiny_kb.regimen_dot(["delta"], conditions=["hypertension"])


def test_class_hierarchy_dot(tiny_kb):
    assert tiny_kb.class_hierarchy_dot() == (
        "digraph G {\n"
        "rankdir=LR;\n"
        'label="rxcaution pack tiny 0.0.1: class hierarchy";\n'
        "labelloc=t;\n"
        'node [fontname="Helvetica"];\n'
        'edge [fontname="Helvetica", fontsize=10];\n'
        '0[label="Depressants\\n(2 substances)", shape=hexagon, style=filled, fillcolor="#f4cccc"];\n'
        '1[label="Sedatives\\n(2 substances)", shape=hexagon, style=filled, fillcolor="#f4cccc"];\n'
        '1->0 [label="subclass of", color="gray", fontcolor="gray", penwidth=1];\n'
        "}\n"
    )


# --- serialisation, pickling, copies --------------------------------------------------------------


def test_to_json_round_trips(tiny_kb):
    text = tiny_kb.to_json()
    doc = json.loads(text)
    assert doc["manifest"]["name"] == "tiny"
    assert [s["id"] for s in doc["substances"]] == ["alpha", "beta", "gamma", "delta"]
    again = KnowledgeBase.from_json(text)
    assert _summary(again) == _summary(tiny_kb)
    assert again.to_json() == text


def test_pickle_round_trip_gives_identical_results(tiny_kb):
    # Pickled as the compiled snapshot (issue 9): nothing is parsed or compiled on unpickling.
    state = tiny_kb.__getstate__()
    assert state == (tiny_kb.to_snapshot(), tiny_kb.info.origin)
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        clone = pickle.loads(pickle.dumps(tiny_kb, protocol=protocol))
        assert type(clone) is KnowledgeBase
        assert _summary(clone) == _summary(tiny_kb)
        meds = ["AlphaBeta", "gamma", "delta"]
        assert clone.check(meds, conditions=["hypertension"]) == tiny_kb.check(meds, conditions=["hypertension"])


def test_builtin_pickles_to_identical_check_results(kb):
    clone = pickle.loads(pickle.dumps(kb))
    assert (clone.info.name, clone.info.version) == (kb.info.name, kb.info.version)
    for meds in (["Suboxone", "alprazolam"], ["methadone", "clarithromycin", "ketamine"], ["naltrexone", "Subutex"]):
        expected = kb.check(meds, conditions=["long QT syndrome"])
        assert clone.check(meds, conditions=["long QT syndrome"]) == expected
        assert clone.check(meds, conditions=["long QT syndrome"]).to_json() == expected.to_json()


def test_copies_share_the_pack(tiny_kb):
    for clone in (copy.copy(tiny_kb), copy.deepcopy(tiny_kb)):
        assert type(clone) is KnowledgeBase and clone is not tiny_kb
        assert clone.info == tiny_kb.info
        assert clone.check(["AlphaBeta", "gamma"]) == tiny_kb.check(["AlphaBeta", "gamma"])


# --- entity classes -------------------------------------------------------------------------------


def test_entity_to_dict_gives_plain_data(tiny_kb):
    assert tiny_kb.substance("alpha").to_dict() == {
        "id": "alpha",
        "name": "alpha",
        "synonyms": ["alfa"],
        "salts": ["hydrochloride"],
        "kind": "drug",
        "identifiers": {
            "rxcui": "1001",
            "rxcui_products": [],
            "atc": ["X01AA01"],
            "unii": "",
            "salt_unii": {"hydrochloride": "UNII1"},
            "drugbank": "",
            "setid": "",
        },
        "identifier_sources": [{"source": "t-label", "section": "", "grade": "label", "note": ""}],
        "notes": "The first letter.",
    }
    assert tiny_kb.interaction("gamma-delta").to_dict() == {
        "id": "gamma-delta",
        "first": {"kind": "substance", "id": "gamma"},
        "second": {"kind": "substance", "id": "delta"},
        "severity": "minor",
        "summary": "Gamma with delta",
        "effect": "Slightly more gamma.",
        "mechanism": {"type": "pharmacokinetic", "detail": ""},
        "management": "Monitor.",
        "evidence": "secondary",
        "seriousness": "",
        "severity_basis": "",
        "sources": [{"source": "t-review", "section": "", "grade": "secondary", "note": ""}],
        "disagreement": "",
        "notes": "",
        "supersedes": [],
    }
    json.dumps([e.to_dict() for e in tiny_kb.classes()])  # JSON-compatible throughout


def test_entity_attributes(tiny_kb):
    cls = tiny_kb.drug_class("sedatives")
    assert (cls.name, cls.description, cls.parents) == ("Sedatives", "", ["depressants"])
    assert [(m.substance, m.strength, m.note) for m in cls.members] == [("beta", "", ""), ("gamma", "strong", "Very.")]
    assert cls.members[1].sources[0].grade is EvidenceGrade.SECONDARY
    policy = cls.duplicate_therapy
    assert (policy.severity, policy.management, policy.sources[0].section) == (Severity.MODERATE, "Use one sedative.", "Table 2")
    assert tiny_kb.drug_class("depressants").duplicate_therapy is None
    product = tiny_kb.product("alphabeta")
    assert (product.name, product.synonyms, product.ingredients, product.route, product.form) == (
        "AlphaBeta",
        ["Alpha-Beta"],
        ["alpha", "beta"],
        "oral",
        "tablet",
    )
    assert product.inactive_ingredients == [] and product.identifier_sources == []
    condition = tiny_kb.condition("withdrawal")
    assert [(s.name, s.sources[0].source) for s in condition.symptoms] == [("yawning", "t-review")]
    rule = tiny_kb.contraindication("delta-hypertension")
    assert (rule.subject.kind, rule.subject.id, rule.condition, rule.rationale) == (
        EntityKind.SUBSTANCE,
        "delta",
        "hypertension",
        "Pressor effect.",
    )
    treatment = tiny_kb.treatment("rest")
    assert (treatment.kind, treatment.treats, treatment.substances, treatment.complements) == ("lifestyle", ["withdrawal"], [], [])
    source = tiny_kb.source("t-label")
    assert (source.publisher, source.date, source.url, source.kind, source.grade) == (
        "Tiny Pharma",
        "2024-01",
        "https://example.org/label",
        "label",
        EvidenceGrade.LABEL,
    )


def test_entity_reprs(tiny_kb):
    assert repr(tiny_kb.substance("alpha")) == "Substance(id='alpha', name='alpha', kind='drug')"
    assert repr(tiny_kb.interaction("alpha-depressants")) == (
        "InteractionRule(id='alpha-depressants', first=Participant(kind=EntityKind.SUBSTANCE, id='alpha'), "
        "second=Participant(kind=EntityKind.CLASS, id='depressants'), severity=Severity.MAJOR)"
    )
    assert repr(tiny_kb.source("t-review")) == "Source(id='t-review', title='Tiny review', grade=EvidenceGrade.SECONDARY)"


def test_entities_are_read_only_values(tiny_kb):
    substance = tiny_kb.substance("alpha")
    with pytest.raises(AttributeError):
        substance.name = "omega"
    synonyms = substance.synonyms
    synonyms.append("changed")  # every read returns a copy: neither the entity nor the pack changes
    assert substance.synonyms == ["alfa"]
    assert tiny_kb.substance("alpha").synonyms == ["alfa"]
    assert tiny_kb.substance("alpha") == tiny_kb.substance("alpha")
    assert tiny_kb.substance("alpha") != tiny_kb.substance("beta")
    assert tiny_kb.substance("alpha") != "alpha"
    with pytest.raises(TypeError):
        hash(tiny_kb.substance("alpha"))


@pytest.mark.parametrize("cls", [rxcaution.Substance, rxcaution.Warning, rxcaution.Report, KnowledgeBase])
def test_classes_cannot_be_instantiated_or_subclassed(cls):
    with pytest.raises(TypeError):
        cls()
    with pytest.raises(TypeError):
        type("Sub", (cls,), {})


# --- vocabulary and coverage (issue 10) -----------------------------------------------------------


def test_coverage_says_what_the_pack_can_say_about_each_input() -> None:
    kb = rxcaution.KnowledgeBase.builtin()
    report = kb.check(["warfarin", "ketamine", "ketamne", "salbutamol"])
    assert [i.coverage for i in report.inputs] == [
        rxcaution.Coverage.NO_RULES,
        rxcaution.Coverage.COVERED,
        rxcaution.Coverage.UNRESOLVED,
        rxcaution.Coverage.UNRESOLVED,
    ]
    inputs = report.to_dict()["inputs"]
    assert [i["coverage"] for i in inputs] == ["no-rules", "covered", "unresolved", "unresolved"]
    assert (inputs[0]["id"], inputs[0]["drugbank"], inputs[0]["vocabulary_only"], inputs[0]["matched_by"]) == (
        "DB00682",
        "DB00682",
        True,
        "vocabulary-name",
    )
    assert inputs[3]["ambiguous"] == ["Albuterol (DB01001)", "Levosalbutamol (DB13139)"]
    assert str(rxcaution.Coverage.NO_RULES) == "no-rules" and rxcaution.Coverage("no-rules") is rxcaution.Coverage.NO_RULES
    assert "recognised, but this pack has no interaction rules for Warfarin" in report.to_text()


def test_rxnorm_style_names_resolve_to_every_ingredient() -> None:
    kb = rxcaution.KnowledgeBase.builtin()
    r = kb.resolve("acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet")
    assert (r.resolved, r.kind, r.id, r.matched_by, r.ingredients) == (
        True,
        rxcaution.EntityKind.PRODUCT,
        "",
        "rxnorm-name",
        ["acetaminophen", "oxycodone"],
    )
    assert kb.resolve("{30 (buprenorphine 8 MG / naloxone 2 MG Sublingual Tablet) } Pack").ingredients == [
        "buprenorphine",
        "naloxone",
    ]


def test_condition_codes_and_word_order() -> None:
    kb = rxcaution.KnowledgeBase.builtin()
    assert [(c.system, c.code) for c in kb.condition("opioid-use-disorder").codes] == [
        ("icd-10-cm", "F11.1"),
        ("icd-10-cm", "F11.2"),
    ]
    r = kb.resolve_condition("asthma, severe")
    assert (r.id, r.matched_by) == ("acute-or-severe-asthma", "words")
    assert not kb.resolve_condition("severe").resolved
