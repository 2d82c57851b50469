"""Golden files: the CLI's output for a dozen curated regimens, in every format, byte for byte.

They pin the outputs before the engine refactor (issue 8) so that rendering from structured
warnings cannot change a byte by accident. Regenerate with `python tools/update_golden.py` only for
an intended change, and review the diff.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"


def _load_generator():
    spec = importlib.util.spec_from_file_location("update_golden", ROOT / "tools" / "update_golden.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


GENERATOR = _load_generator()
SPEC = json.loads((GOLDEN / "cases.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", SPEC["cases"], ids=[c["name"] for c in SPEC["cases"]])
def test_outputs_match_golden_files(case):
    for name, text in GENERATOR.outputs(case, SPEC["formats"]).items():
        expected = (GOLDEN / name).read_text(encoding="utf-8")
        assert text == expected, f"{name} differs from tests/golden/{name}"


def test_every_golden_file_belongs_to_a_case():
    names = {p.name for p in GOLDEN.iterdir() if p.name != "cases.json"}
    expected = set()
    for case in SPEC["cases"]:
        expected |= {f"{case['name']}.{fmt}" for fmt in SPEC["formats"]} | {f"{case['name']}.dot"}
    assert names == expected
