"""The enumerations: standard IntEnums with PEP 8 names, ordered, picklable, spelled like the C++ to_string."""

from __future__ import annotations

import copy
import enum
import pickle

import pytest

import rxcaution
from rxcaution import EntityKind, EvidenceGrade, Severity, WarningKind

SPELLINGS = {
    Severity: {"MINOR": "minor", "MODERATE": "moderate", "MAJOR": "major", "CONTRAINDICATED": "contraindicated"},
    EvidenceGrade: {
        "LABEL": "label",
        "LABEL_QUOTED": "label-quoted",
        "SECONDARY": "secondary",
        "WEAK": "weak",
        "DERIVED": "derived",
    },
    EntityKind: {
        "SUBSTANCE": "substance",
        "PRODUCT": "product",
        "CLASS": "class",
        "CONDITION": "condition",
        "TREATMENT": "treatment",
    },
    WarningKind: {"DRUG_DRUG": "drug-drug", "DRUG_CONDITION": "drug-condition", "DUPLICATE_THERAPY": "duplicate-therapy",
                  "CUMULATIVE": "cumulative"},
}
ALL_MEMBERS = [m for cls in SPELLINGS for m in cls]


@pytest.mark.parametrize("enum_class", list(SPELLINGS))
def test_enums_are_int_enums_with_pep8_names_in_cpp_order(enum_class):
    assert issubclass(enum_class, enum.IntEnum)
    assert [m.name for m in enum_class] == list(SPELLINGS[enum_class])
    assert [int(m) for m in enum_class] == list(range(len(SPELLINGS[enum_class])))


@pytest.mark.parametrize("member", ALL_MEMBERS, ids=repr)
def test_str_format_and_parse_use_the_stable_spelling(member):
    spelling = SPELLINGS[type(member)][member.name]
    assert str(member) == spelling
    assert f"{member}" == spelling
    assert f"{member:>20}" == spelling.rjust(20)
    assert type(member)(spelling) is member
    assert type(member)(spelling.upper()) is member
    assert type(member)(int(member)) is member


@pytest.mark.parametrize("member", ALL_MEMBERS, ids=repr)
def test_members_pickle_and_copy_to_themselves(member):
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(member, protocol=protocol)) is member
    assert copy.deepcopy(member) is member


def test_severity_is_ordered():
    assert Severity.MINOR < Severity.MODERATE < Severity.MAJOR < Severity.CONTRAINDICATED
    assert Severity.MAJOR >= Severity.MAJOR
    assert not Severity.MODERATE >= Severity.MAJOR
    assert max([Severity.MODERATE, Severity.CONTRAINDICATED, Severity.MINOR]) is Severity.CONTRAINDICATED
    assert sorted([Severity.MAJOR, Severity.MINOR, Severity.CONTRAINDICATED]) == [
        Severity.MINOR,
        Severity.MAJOR,
        Severity.CONTRAINDICATED,
    ]


def test_evidence_grade_orders_from_strongest():
    assert min(EvidenceGrade) is EvidenceGrade.LABEL
    assert EvidenceGrade.LABEL < EvidenceGrade.LABEL_QUOTED < EvidenceGrade.SECONDARY < EvidenceGrade.WEAK


def test_repr_and_hashing_are_the_standard_enum_ones():
    assert repr(Severity.MAJOR) == "<Severity.MAJOR: 2>"
    assert {Severity.MAJOR: "x"}[Severity.MAJOR] == "x"
    assert hash(Severity.MAJOR) == hash(2)
    assert Severity.MAJOR == 2


@pytest.mark.parametrize("bad", ["severe", "", "label", 7, -1, None, 2.5])
def test_unknown_values_are_rejected(bad):
    with pytest.raises(ValueError, match="is not a valid Severity"):
        Severity(bad)


def test_values_crossing_the_boundary_are_the_enum_members(tiny_kb):
    report = tiny_kb.check(["AlphaBeta", "gamma"], min_severity=Severity.MODERATE)
    assert [w.severity for w in report.warnings] == [Severity.MAJOR, Severity.MODERATE]
    assert report.warnings[0].severity is Severity.MAJOR
    assert report.warnings[1].kind is WarningKind.DUPLICATE_THERAPY
    assert report.warnings[0].evidence is EvidenceGrade.LABEL
    assert report.inputs[0].kind is EntityKind.PRODUCT
    assert report.max_severity is Severity.MAJOR
    assert report.warnings[0].severity >= rxcaution.Severity.MAJOR


@pytest.mark.parametrize("bad", [2, "major", True])
def test_min_severity_accepts_only_severity_members(tiny_kb, bad):
    with pytest.raises(TypeError, match="incompatible function arguments"):
        tiny_kb.check(["alpha"], min_severity=bad)
