"""rxcaution: medication interaction checks around opioid use disorder care.

rxcaution is reference software, not medical advice. No warning found does not mean a
combination is safe, and a medication that did not resolve was not checked at all
(see ``Report.complete`` and ``Report.unresolved``).

Quick start::

    import rxcaution

    kb = rxcaution.KnowledgeBase.builtin()   # the curated pack, compiled in; or .load(path)
    report = kb.check(["Suboxone", "alprazolam"], conditions=["hypertension"])
    for w in report.warnings:
        print(w.severity, w.summary, w.management, w.sources)

The package is a thin layer over the C++ library, whose names it keeps (PEP 8 spelling):
``KnowledgeBase``, ``Report``, ``Warning``, the entities (``Substance``, ``InteractionRule``...)
and the error hierarchy. Results are copies: they never refer back into a knowledge base.

Enumerations
------------
``Severity``, ``EvidenceGrade``, ``WarningKind`` and ``EntityKind`` are standard
``enum.IntEnum`` classes, created from the C++ enums by pybind11's ``native_enum`` and converted
at the boundary in both directions. That choice gives, with no custom code, what a Python
caller expects of an enum: ordering (``w.severity >= Severity.MAJOR``), hashing, pickling,
``isinstance(x, enum.IntEnum)`` and iteration over the members. Members use PEP 8 upper-case
names (``Severity.CONTRAINDICATED``, ``EvidenceGrade.LABEL_QUOTED``); ``str()`` and f-strings give
the stable lowercase spelling used in packs and reports (``str(Severity.MAJOR) == "major"``),
and that spelling is accepted back: ``Severity("major") is Severity.MAJOR``.

Errors
------
``Error`` is the base of every rxcaution exception. ``DataError`` (also a ``ValueError``) and its
subclasses ``ParseError``, ``SchemaError``, ``IntegrityError`` and ``UnsupportedFormatVersion``
describe a pack that cannot be used, with the file, JSON pointer, line and column as
attributes. ``NotFoundError`` (also a ``KeyError``) carries the ``key`` and close
``suggestions``; its ``str()`` is the plain message.

Threads and pickling
--------------------
A ``KnowledgeBase`` is immutable. Loading and ``check`` release the GIL, so one knowledge base
can serve many threads at once. It pickles as its compiled snapshot (``to_snapshot`` /
``from_snapshot``, also ``save`` and ``load`` of a ``.rxpack`` file) and copies cheaply (copies
share the compiled pack).

Command line
------------
``python -m rxcaution ...`` runs the same code as the ``rxcaution`` executable, with the same
output and exit statuses.
"""

from __future__ import annotations

from ._core import (
    Annotation,
    Citation,
    ClassMember,
    Condition,
    ConditionResolution,
    ContraindicationRule,
    CumulativeRequirement,
    CumulativeRule,
    DataError,
    DoseThreshold,
    DrugClass,
    DuplicateTherapyPolicy,
    EntityKind,
    Error,
    EvidenceGrade,
    Identifiers,
    Implicated,
    InactiveIngredient,
    IntegrityError,
    InteractionRule,
    KnowledgeBase,
    Mechanism,
    LimitError,
    NotFoundError,
    PackInfo,
    PackLayer,
    ParseError,
    Participant,
    Product,
    Profile,
    ProfileItem,
    Report,
    Resolution,
    Coverage,
    ConditionCode,
    SchemaError,
    Severity,
    Source,
    NotChecked,
    SourceRef,
    Substance,
    Symptom,
    Treatment,
    UnsupportedFormatVersion,
    Warning,
    WarningGroup,
    WarningKind,
    disclaimer,
    release_screen_memory,
    screen_memory_kept,
)
from ._core import __version__ as __version__

import os as _os
from typing import Sequence as _Sequence, Union as _Union

_PathLike = _Union[str, "_os.PathLike[str]"]


def load(packs: _Union[_PathLike, _Sequence[_PathLike]], *, max_file_bytes: int = 64 * 1024 * 1024) -> KnowledgeBase:
    """Loads a pack, or several packs layered (the first leads where they overlap).

    Parameters
    ----------
    packs : str, os.PathLike or a list of them
        A pack directory or file, or a list of them, highest priority first; ``"builtin"`` in a
        list is the built-in pack (``rxcaution.load(["builtin", "ddinter.json"])``).
    max_file_bytes : int, default 67108864
        Files larger than this are rejected with a :class:`DataError` before parsing.

    Returns
    -------
    KnowledgeBase
        See :meth:`KnowledgeBase.load`.
    """
    if isinstance(packs, (str, _os.PathLike)):
        packs = [packs]
    return KnowledgeBase.load(list(packs), max_file_bytes=max_file_bytes)

# `Warning` is deliberately left out of __all__: a star import would shadow the built-in
# warning category. Use `rxcaution.Warning`.
__all__ = [
    "disclaimer",
    "release_screen_memory",
    "screen_memory_kept",
    "load",
    "Annotation",
    "PackLayer",
    "Citation",
    "Coverage",
    "ConditionCode",
    "ClassMember",
    "Condition",
    "ConditionResolution",
    "ContraindicationRule",
    "CumulativeRequirement",
    "CumulativeRule",
    "DoseThreshold",
    "DataError",
    "DrugClass",
    "DuplicateTherapyPolicy",
    "EntityKind",
    "Error",
    "EvidenceGrade",
    "Identifiers",
    "Implicated",
    "InactiveIngredient",
    "IntegrityError",
    "InteractionRule",
    "KnowledgeBase",
    "Mechanism",
    "LimitError",
    "NotFoundError",
    "PackInfo",
    "ParseError",
    "Participant",
    "Product",
    "Profile",
    "ProfileItem",
    "Report",
    "Resolution",
    "SchemaError",
    "Severity",
    "Source",
    "NotChecked",
    "SourceRef",
    "Substance",
    "Symptom",
    "Treatment",
    "UnsupportedFormatVersion",
    "WarningGroup",
    "WarningKind",
    "__version__",
]
