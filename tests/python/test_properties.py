"""Property tests (hypothesis) of the public Python API (issue 13).

Regimens are drawn from the built-in pack's vocabulary (medications around opioid use disorder
care, every other substance and product name, and unknown text); packs are drawn by mutating
tests/data/mini_bundled.json. Warnings are compared as projections that do not depend on where an
input sits in the list: (rule, kind, severity, frozenset of input strings, sorted substances,
condition) -- `Warning.id`, `input_indexes` and the summary text name positions or the order.

Example counts come from a hypothesis settings profile chosen by the HYPOTHESIS_PROFILE
environment variable: "ci" (default: moderate counts, derandomized so that CI is reproducible),
"dev" (more examples, random) or "thorough" (for a long local run). No example database is
written.
"""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, List, Sequence, Tuple, Type

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="needs hypothesis: pip install '.[test]'")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import rxcaution  # noqa: E402
from rxcaution import (  # noqa: E402
    DataError,
    IntegrityError,
    KnowledgeBase,
    NotFoundError,
    ParseError,
    Report,
    SchemaError,
    UnsupportedFormatVersion,
    WarningKind,
)

_COMMON = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=40, derandomize=True, **_COMMON)
settings.register_profile("dev", max_examples=200, **_COMMON)
settings.register_profile("thorough", max_examples=3000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

MINI_BUNDLED = Path(__file__).resolve().parents[1] / "data" / "mini_bundled.json"

KB = KnowledgeBase.builtin()

# Medications the built-in pack has rules about (every one resolves: checked below), so that drawn
# regimens fire warnings often; plus the whole vocabulary and text that resolves to nothing.
FOCUS = [
    "methadone", "buprenorphine", "Suboxone", "naltrexone", "naloxone", "ketamine", "esketamine", "lofexidine",
    "clonidine", "clarithromycin", "alprazolam", "diazepam", "ondansetron", "fluconazole", "rifampin", "tramadol",
    "sertraline", "alcohol", "gabapentin", "oxycodone", "fentanyl", "Vivitrol", "Sublocade", "Spravato",
    "ciprofloxacin", "haloperidol", "citalopram", "grapefruit juice",
]  # fmt: skip
VOCABULARY = sorted({s.name for s in KB.substances()} | {p.name for p in KB.products()})
UNKNOWN = ["no-such-drug", "vitamin zz", "X", "herbal sleep tonic"]
CONDITIONS = sorted(c.name for c in KB.conditions()) + ["not a condition"]

medication = st.one_of(
    st.sampled_from(FOCUS), st.sampled_from(FOCUS), st.sampled_from(VOCABULARY), st.sampled_from(UNKNOWN)
)
resolvable = st.one_of(st.sampled_from(FOCUS), st.sampled_from(VOCABULARY))
# Distinct input strings: a warning's inputs then name its pair of inputs unambiguously.
regimen = st.lists(medication, min_size=0, max_size=8, unique=True)
conditions = st.lists(st.sampled_from(CONDITIONS), max_size=3, unique=True)

Projection = Tuple[str, WarningKind, rxcaution.Severity, FrozenSet[str], Tuple[str, ...], str]


def projection(report: Report) -> "Counter[Projection]":
    """The warnings as a multiset of position-independent tuples."""
    return Counter(
        (w.rule, w.kind, w.severity, frozenset(w.inputs), tuple(sorted(w.substances)), w.condition)
        for w in report.warnings
    )


def test_the_focus_vocabulary_resolves() -> None:
    assert [m for m in FOCUS if not KB.resolve(m).resolved] == []
    assert [m for m in UNKNOWN if KB.resolve(m).resolved] == []


# --- regimens ---------------------------------------------------------------------------------------


@given(meds=regimen, conds=conditions, data=st.data())
def test_permuting_inputs_changes_no_warning(meds: List[str], conds: List[str], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(meds), label="medications permuted")
    shuffled_conds = data.draw(st.permutations(conds), label="conditions permuted")
    a = KB.check(meds, conditions=conds)
    b = KB.check(shuffled, conditions=shuffled_conds)
    assert projection(a) == projection(b)
    assert a.max_severity == b.max_severity
    assert sorted(a.unresolved) == sorted(b.unresolved)


@given(meds=regimen, conds=conditions, data=st.data())
def test_a_sub_regimen_has_exactly_the_warnings_of_its_pairs(
    meds: List[str], conds: List[str], data: st.DataObject
) -> None:
    """A sub-regimen's warnings are a subset of the full regimen's.

    `supersedes` could break a naive statement of this: a specific rule (methadone with QT
    prolonging drugs) replaces a general one (any two QT prolonging drugs) when both fire. The
    engine applies it per pair of inputs -- the general warning is dropped only when the specific
    rule fired for the same two inputs -- so what survives for a pair depends on that pair alone.
    Hence the property is stated per pair (and per input, for drug-condition warnings): restricted
    to the sub-regimen's inputs, the full regimen's warnings are EXACTLY the sub-regimen's. Adding
    medications adds pairs; it never removes or changes the warnings of an existing pair. (Were
    supersedes applied across the regimen, a warning of the sub-regimen could vanish from the
    full one, and this test would say so.)
    """
    keep = data.draw(st.lists(st.booleans(), min_size=len(meds), max_size=len(meds)), label="kept inputs")
    sub = [m for m, k in zip(meds, keep) if k]
    full_report = KB.check(meds, conditions=conds)
    sub_report = KB.check(sub, conditions=conds)
    kept = set(sub)
    # Cumulative warnings (issue 12) are about a set, not a pair: they are checked below.
    def pairs(report: Report) -> "Counter[Projection]":
        return Counter({p: n for p, n in projection(report).items() if p[1] != WarningKind.CUMULATIVE})

    restricted = Counter({p: n for p, n in pairs(full_report).items() if p[3] <= kept})
    assert pairs(sub_report) == restricted
    assert set(pairs(sub_report)) <= set(pairs(full_report))
    # A cumulative rule met by a sub-regimen is met by the whole, over at least the same inputs.
    full_sets = {w.rule: set(w.inputs) for w in full_report.warnings if w.kind == WarningKind.CUMULATIVE}
    for w in sub_report.warnings:
        if w.kind == WarningKind.CUMULATIVE:
            assert w.rule in full_sets and set(w.inputs) <= full_sets[w.rule], w.rule


@given(a=st.one_of(resolvable, st.sampled_from(UNKNOWN)), b=st.one_of(resolvable, st.sampled_from(UNKNOWN)))
def test_check_and_interactions_between_agree(a: str, b: str) -> None:
    report = KB.check([a, b])
    if not report.complete:
        with pytest.raises(NotFoundError) as caught:
            KB.interactions_between(a, b)
        assert caught.value.key in report.unresolved
        return
    rules = KB.interactions_between(a, b)
    drug_drug = [w for w in report.warnings if w.kind == WarningKind.DRUG_DRUG]
    assert Counter(r.id for r in rules) == Counter(w.rule for w in drug_drug)
    assert {r.id: r.severity for r in rules} == {w.rule: w.severity for w in drug_drug}
    assert Counter(r.id for r in KB.interactions_between(b, a)) == Counter(r.id for r in rules)


@given(meds=st.lists(resolvable, min_size=2, max_size=6, unique=True))
def test_the_pairs_of_a_regimen_agree_with_interactions_between(meds: List[str]) -> None:
    report = KB.check(meds)
    for i, a in enumerate(meds):
        for b in meds[i + 1 :]:
            in_regimen = Counter(
                w.rule for w in report.warnings if w.kind == WarningKind.DRUG_DRUG and set(w.inputs) == {a, b}
            )
            assert in_regimen == Counter(r.id for r in KB.interactions_between(a, b)), (a, b)


@given(meds=st.lists(resolvable, min_size=1, max_size=6, unique=True), data=st.data())
def test_duplicating_an_input_adds_no_warning(meds: List[str], data: st.DataObject) -> None:
    # Issue 13: a repeated entry is reported as a repeat and checked once (it used to be a
    # duplicate-ingredient warning with itself, and repeats multiplied the warnings).
    repeated = data.draw(st.sampled_from(meds), label="repeated input")
    position = data.draw(st.integers(0, len(meds)), label="position of the copy")
    with_copy = meds[:position] + [repeated] + meds[position:]
    assert projection(KB.check(with_copy)) == projection(KB.check(meds))


ROUND_TRIP = KnowledgeBase.from_json(KB.to_json(), origin="<round trip>")


@given(meds=regimen, conds=conditions)
def test_a_pack_round_tripped_through_json_gives_identical_reports(meds: List[str], conds: List[str]) -> None:
    assert ROUND_TRIP.check(meds, conditions=conds).to_json() == KB.check(meds, conditions=conds).to_json()


# --- packs ------------------------------------------------------------------------------------------

MINI: Dict[str, Any] = json.loads(MINI_BUNDLED.read_text(encoding="utf-8"))
MINI_KB = KnowledgeBase.from_json(json.dumps(MINI))
# Every name, synonym and product of the mini pack, and text it does not know.
MINI_NAMES = sorted(
    {s["name"] for s in MINI["substances"]}
    | {syn for s in MINI["substances"] for syn in s.get("synonyms", [])}
    | {p["name"] for p in MINI["products"]}
    | {"unknown"}
)
MINI_CONDITIONS = sorted({c["name"] for c in MINI["conditions"]} | {"nothing"})
SECTIONS = ["sources", "substances", "products", "classes", "conditions", "interactions", "contraindications"]
FREE_TEXT = {
    "interactions": ["summary", "effect", "management"],
    "contraindications": ["summary", "rationale", "management"],
}
SEVERITIES = ["minor", "moderate", "major", "contraindicated"]
# Printable text (hypothesis draws no surrogates), not blank.
prose = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(str.strip)


@st.composite
def valid_packs(draw: st.DrawFn, can_drop_rules: bool = True) -> Tuple[Dict[str, Any], bool]:
    """A mutated mini pack that is still valid, and whether its rules still fire as the original's
    (only order and wording changed)."""
    doc = copy.deepcopy(MINI)
    same_rules = True
    for section in SECTIONS:
        doc[section] = draw(st.permutations(doc[section]), label=f"{section} order")
    for section, fields in FREE_TEXT.items():
        for rule in doc[section]:
            for name in fields:
                if draw(st.booleans(), label=f"rewrite {section} {name}"):
                    rule[name] = draw(prose, label="text")
    if draw(st.booleans(), label="change severities"):
        same_rules = False
        for rule in doc["interactions"] + doc["contraindications"]:
            rule["severity"] = draw(st.sampled_from(SEVERITIES), label="severity")
    if can_drop_rules and draw(st.booleans(), label="drop rules"):
        same_rules = False
        for section in ("interactions", "contraindications"):
            keep = draw(st.lists(st.booleans(), min_size=len(doc[section]), max_size=len(doc[section])))
            doc[section] = [r for r, k in zip(doc[section], keep) if k]
    extra = draw(st.integers(0, 3), label="extra substances")
    doc["substances"] += [{"id": f"extra-{i}", "name": f"extrasubstance {i}"} for i in range(extra)]
    return doc, same_rules


@given(pack=valid_packs(), meds=st.lists(st.sampled_from(MINI_NAMES), max_size=5, unique=True),
       conds=st.lists(st.sampled_from(MINI_CONDITIONS), max_size=2, unique=True))
def test_random_valid_packs_load_and_check(
    pack: Tuple[Dict[str, Any], bool], meds: List[str], conds: List[str]
) -> None:
    doc, same_rules = pack
    kb = KnowledgeBase.from_json(json.dumps(doc))
    assert kb.info.substances == len(doc["substances"])
    assert kb.info.interactions == len(doc["interactions"])
    report = kb.check(meds, conditions=conds)
    assert sorted(report.unresolved) == sorted(MINI_KB.check(meds, conditions=conds).unresolved)
    if same_rules:  # order and wording do not change which rules fire
        assert projection(report) == projection(MINI_KB.check(meds, conditions=conds))
    round_trip = KnowledgeBase.from_json(kb.to_json())
    assert round_trip.check(meds, conditions=conds).to_json() == report.to_json()


def _required_field_deleted(doc: Dict[str, Any], draw: st.DrawFn) -> None:
    section, field = draw(st.sampled_from([
        ("substances", "id"), ("substances", "name"), ("interactions", "id"), ("interactions", "participants"),
        ("interactions", "severity"), ("interactions", "summary"), ("interactions", "mechanism"),
        ("contraindications", "condition"), ("contraindications", "subject"), ("sources", "id"), ("products", "name"),
    ]), label="required field")  # fmt: skip
    del draw(st.sampled_from(doc[section]), label="entry")[field]


def _wrong_type(doc: Dict[str, Any], draw: st.DrawFn) -> None:
    section, field = draw(st.sampled_from([
        ("substances", "name"), ("substances", "id"), ("interactions", "summary"), ("products", "ingredients"),
        ("conditions", "name"), ("sources", "title"),
    ]), label="field")  # fmt: skip
    entry = draw(st.sampled_from(doc[section]), label="entry")
    wrong: List[Any] = [7, 1.5, True, {"a": 1}] + ([["x"]] if field != "ingredients" else ["alpha"])
    entry[field] = draw(st.sampled_from(wrong), label="value of the wrong type")


def _unknown_field(doc: Dict[str, Any], draw: st.DrawFn) -> None:
    section = draw(st.sampled_from(["substances", "interactions", "contraindications", "classes"]), label="section")
    entry = draw(st.sampled_from(doc[section]), label="entry")
    entry["x-" + draw(st.text("abcdefghij", min_size=1, max_size=8), label="field name")] = "value"


def _dangling_reference(doc: Dict[str, Any], draw: st.DrawFn) -> None:
    rule = draw(st.sampled_from(doc["interactions"]), label="rule")
    rule["participants"][draw(st.integers(0, 1), label="side")] = {"substance": "no-such-substance"}


def _duplicate_id(doc: Dict[str, Any], draw: st.DrawFn) -> None:
    section = draw(st.sampled_from(["substances", "interactions", "sources", "conditions"]), label="section")
    doc[section].append(copy.deepcopy(draw(st.sampled_from(doc[section]), label="copied entry")))


def _enum_value(doc: Dict[str, Any], draw: st.DrawFn) -> None:
    rule = draw(st.sampled_from(doc["interactions"] + doc["contraindications"]), label="rule")
    rule["severity"] = draw(st.sampled_from(["severe", "Major ", "critical", "none"]), label="severity")


def _format_version(doc: Dict[str, Any], draw: st.DrawFn) -> None:
    doc["manifest"]["format_version"] = draw(
        st.integers(-(2**40), 2**40).filter(lambda v: v != 1), label="format_version"
    )


# (mutation, the documented error class it must raise)
INVALID: Dict[str, Tuple[Callable[[Dict[str, Any], st.DrawFn], None], Type[DataError]]] = {
    "required field deleted": (_required_field_deleted, SchemaError),
    "value of the wrong type": (_wrong_type, SchemaError),
    "unknown field": (_unknown_field, SchemaError),
    "dangling reference": (_dangling_reference, IntegrityError),
    "duplicate id": (_duplicate_id, IntegrityError),
    "severity not in the enumeration": (_enum_value, IntegrityError),
    "unsupported format_version": (_format_version, UnsupportedFormatVersion),
}


@given(pack=valid_packs(can_drop_rules=False), kind=st.sampled_from(sorted(INVALID)), data=st.data())
def test_random_invalid_packs_fail_with_their_documented_error(
    pack: Tuple[Dict[str, Any], bool], kind: str, data: st.DataObject
) -> None:
    doc, _ = pack
    mutate, expected = INVALID[kind]
    mutate(doc, data.draw)
    with pytest.raises(DataError) as caught:
        KnowledgeBase.from_json(json.dumps(doc), origin="<mutated>")
    assert isinstance(caught.value, expected), (kind, type(caught.value).__name__, str(caught.value))
    assert str(caught.value).startswith("<mutated>"), str(caught.value)  # the message names the place


@given(pack=valid_packs(), data=st.data())
def test_truncated_pack_text_is_a_parse_error(pack: Tuple[Dict[str, Any], bool], data: st.DataObject) -> None:
    text = json.dumps(pack[0])
    cut = data.draw(st.integers(0, len(text) - 1), label="cut at")
    with pytest.raises(ParseError) as caught:
        KnowledgeBase.from_json(text[:cut], origin="<cut>")
    assert caught.value.file == "<cut>" and caught.value.byte_offset <= cut


# Characters whose substitution anywhere in a valid pack may still give a valid pack (inside a
# string) or break it in every way (syntax, types, references, enumerations).
_ASCII_EDIT = st.sampled_from(list('{}[]":,0123456789.-+eE tfnul\\"abcxyz/'))
# Multi-byte UTF-8 characters, apart: see the example below.
_NON_ASCII_EDIT = st.sampled_from(["\u00e9", "\u4e2d", "\U0001F600"])


def _edit(text: str, edits: List[Tuple[int, str]]) -> str:
    chars = list(text)
    for at, char in edits:
        chars[at % len(chars)] = char
    return "".join(chars)


def _loads_or_raises_a_data_error(text: str) -> None:
    try:
        kb = KnowledgeBase.from_json(text, origin="<edited>")
    except DataError as exc:
        assert type(exc) in (ParseError, SchemaError, IntegrityError, UnsupportedFormatVersion, DataError)
        assert str(exc).startswith("<edited>"), str(exc)
    else:
        assert isinstance(kb.check(MINI_NAMES[:3]).warnings, list)


@given(pack=valid_packs(), edits=st.lists(st.tuples(st.integers(0, 2**20), _ASCII_EDIT), min_size=1, max_size=4))
def test_any_edit_of_a_pack_loads_or_raises_a_data_error(
    pack: Tuple[Dict[str, Any], bool], edits: List[Tuple[int, str]]
) -> None:
    _loads_or_raises_a_data_error(_edit(json.dumps(pack[0], ensure_ascii=False), edits))


# Found by this property (profile "thorough"): where JSON expects a value, a multi-byte UTF-8
# character made the ParseError message quote only its first byte ("last read: '\xc3'"); the
# message was then not UTF-8 and Python got a UnicodeDecodeError instead of the ParseError.
# `KnowledgeBase.from_json("é")` is the smallest case, kept as an explicit example (issue 13).
@example(pack=(copy.deepcopy(MINI), True), edits=[(0, "\u00e9")])
@given(pack=valid_packs(), edits=st.lists(st.tuples(st.integers(0, 2**20), _NON_ASCII_EDIT), min_size=1, max_size=4))
def test_any_non_ascii_edit_of_a_pack_loads_or_raises_a_data_error(
    pack: Tuple[Dict[str, Any], bool], edits: List[Tuple[int, str]]
) -> None:
    _loads_or_raises_a_data_error(_edit(json.dumps(pack[0], ensure_ascii=False), edits))
