"""Shared fixtures of the Python tests, and the guard that they test the INSTALLED package.

The tests exercise `rxcaution` as a user gets it from `pip install .`: the wheel's extension
module and pure-Python files. Importing it from the source tree (bindings/python/rxcaution, e.g.
through PYTHONPATH or an editable install) would test something else, so that stops the run.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any, Callable, Dict

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCE_PACKAGE = REPO / "bindings" / "python" / "rxcaution"


def _in_source_tree(location: Path) -> bool:
    # An installed copy lives in a site-packages directory (possibly of a venv inside the repo).
    return location == SOURCE_PACKAGE or (location.is_relative_to(REPO) and "site-packages" not in location.parts)


# Look before importing: a source-tree copy (PYTHONPATH, editable install) has no compiled _core
# and would fail with a confusing ImportError.
_spec = importlib.util.find_spec("rxcaution")
if _spec is not None and _spec.origin and _in_source_tree(Path(_spec.origin).resolve().parent):
    pytest.exit(
        f"rxcaution would be imported from the source tree ({Path(_spec.origin).parent}), not from an installed "
        f"wheel. Install it (pip install {REPO}) and run pytest without PYTHONPATH pointing into the repository "
        "or an editable install.",
        returncode=4,
    )
try:
    import rxcaution
except ImportError as exc:  # reported in the header; the tests that need it fail on import
    rxcaution = None  # type: ignore[assignment]
    _IMPORT_ERROR: "ImportError | None" = exc
else:
    _IMPORT_ERROR = None
    if _in_source_tree(Path(rxcaution.__file__).resolve().parent):  # e.g. a path hook redirecting the import
        pytest.exit(f"rxcaution was imported from the source tree ({rxcaution.__file__}); install it instead.", returncode=4)


def pytest_report_header(config: pytest.Config) -> str:
    if rxcaution is None:
        return f"rxcaution: NOT INSTALLED ({_IMPORT_ERROR}); run `pip install {REPO}` first"
    return f"rxcaution {rxcaution.__version__} from {Path(rxcaution.__file__).resolve().parent}"


@pytest.fixture(scope="session")
def kb() -> "rxcaution.KnowledgeBase":
    """The built-in curated pack."""
    if rxcaution is None:
        pytest.fail(f"rxcaution is not installed: {_IMPORT_ERROR}")
    return rxcaution.KnowledgeBase.builtin()


# A small pack written for these tests, so that API tests assert exact values that do not move
# when the curated data grows. Every field kind the loader reads appears at least once.
TINY_PACK: Dict[str, Any] = {
    "manifest": {
        "name": "tiny",
        "version": "0.0.1",
        "format_version": 1,
        "licence": "CC0-1.0",
        "description": "A pack for the Python tests.",
    },
    "sources": [
        {
            "id": "t-label",
            "title": "Tiny label",
            "publisher": "Tiny Pharma",
            "date": "2024-01",
            "url": "https://example.org/label",
            "kind": "label",
            "grade": "label",
        },
        {"id": "t-review", "title": "Tiny review", "kind": "review", "grade": "secondary", "notes": "A review."},
    ],
    "substances": [
        {
            "id": "alpha",
            "name": "alpha",
            "synonyms": ["alfa"],
            "salts": ["hydrochloride"],
            "identifiers": {"rxcui": "1001", "atc": ["X01AA01"], "salt_unii": {"hydrochloride": "UNII1"}},
            "identifier_sources": [{"source": "t-label"}],
            "notes": "The first letter.",
        },
        {"id": "beta", "name": "beta"},
        {"id": "gamma", "name": "gamma"},
        {"id": "delta", "name": "delta", "kind": "supplement"},
    ],
    "products": [
        {
            "id": "alphabeta",
            "name": "AlphaBeta",
            "synonyms": ["Alpha-Beta"],
            "ingredients": ["alpha", "beta"],
            "route": "oral",
            "form": "tablet",
            "sources": [{"source": "t-label", "section": "§1"}],
        }
    ],
    "classes": [
        {"id": "depressants", "name": "Depressants", "description": "Things that depress.", "members": []},
        {
            "id": "sedatives",
            "name": "Sedatives",
            "parents": ["depressants"],
            "members": [
                {"substance": "beta", "sources": [{"source": "t-review"}]},
                {"substance": "gamma", "strength": "strong", "note": "Very.", "sources": [{"source": "t-review"}]},
            ],
            "duplicate_therapy": {
                "severity": "moderate",
                "management": "Use one sedative.",
                "sources": [{"source": "t-review", "section": "Table 2"}],
            },
        },
    ],
    "conditions": [
        {"id": "hypertension", "name": "Hypertension", "synonyms": ["high blood pressure"]},
        {
            "id": "withdrawal",
            "name": "Withdrawal",
            "symptoms": [{"name": "yawning", "sources": [{"source": "t-review"}]}],
        },
    ],
    "interactions": [
        {
            "id": "alpha-depressants",
            "participants": [{"substance": "alpha"}, {"class": "depressants"}],
            "severity": "major",
            "summary": "Alpha with a depressant",
            "effect": "Deep sedation.",
            "mechanism": {"type": "pharmacodynamic", "detail": "Additive."},
            "management": "Avoid the combination.",
            "evidence": "label",
            "seriousness": "boxed",
            "sources": [{"source": "t-label", "section": "BOXED"}],
        },
        {
            "id": "gamma-delta",
            "participants": [{"substance": "gamma"}, {"substance": "delta"}],
            "severity": "minor",
            "summary": "Gamma with delta",
            "effect": "Slightly more gamma.",
            "mechanism": {"type": "pharmacokinetic"},
            "management": "Monitor.",
            "evidence": "secondary",
            "sources": [{"source": "t-review"}],
        },
    ],
    "contraindications": [
        {
            "id": "delta-hypertension",
            "subject": {"substance": "delta"},
            "condition": "hypertension",
            "severity": "contraindicated",
            "summary": "Delta raises blood pressure",
            "rationale": "Pressor effect.",
            "management": "Do not use delta.",
            "evidence": "label",
            "sources": [{"source": "t-label", "section": "§4"}],
        }
    ],
    "treatments": [
        {
            "id": "rest",
            "name": "Rest",
            "kind": "lifestyle",
            "description": "Rest.",
            "treats": ["withdrawal"],
            "sources": [{"source": "t-review"}],
        }
    ],
    "profiles": [
        {
            "substance": "alpha",
            "mechanisms": [
                {"id": "a-mech", "name": "Agonism", "description": "Binds.", "sources": [{"source": "t-review"}]}
            ],
        }
    ],
}


@pytest.fixture
def tiny_pack() -> Dict[str, Any]:
    """A fresh, mutable copy of the tiny pack (a bundled pack document)."""
    return copy.deepcopy(TINY_PACK)


@pytest.fixture(scope="session")
def tiny_kb() -> "rxcaution.KnowledgeBase":
    """The tiny pack, loaded."""
    if rxcaution is None:
        pytest.fail(f"rxcaution is not installed: {_IMPORT_ERROR}")
    return rxcaution.KnowledgeBase.from_json(json.dumps(TINY_PACK), origin="<tiny>")


@pytest.fixture
def write_pack(tmp_path: Path) -> Callable[..., Path]:
    """Writes a pack document to tmp_path: `write_pack(doc)` -> path of a bundled file;
    `write_pack(doc, layout="dir")` -> a directory with manifest.json and one file per section."""

    def write(document: Any, name: str = "pack.json", layout: str = "bundled", text: "str | None" = None) -> Path:
        if layout == "bundled":
            path = tmp_path / name
            path.write_text(text if text is not None else json.dumps(document, indent=2), encoding="utf-8")
            return path
        assert layout == "dir"
        directory = tmp_path / "pack"
        directory.mkdir()
        manifest = dict(document["manifest"])
        sections = [k for k in document if k != "manifest"]
        manifest["files"] = [f"{s}.json" for s in sections]
        (directory / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        for s in sections:
            (directory / f"{s}.json").write_text(json.dumps({s: document[s]}, indent=2), encoding="utf-8")
        return directory

    return write
