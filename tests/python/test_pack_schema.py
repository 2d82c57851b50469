"""The JSON Schema data/schema/pack.schema.json against the pack files and against broken documents.

Every file of data/ and the loader fixtures must validate; documents broken in one place must be
rejected at that place. Where the Python package is importable, each mutated document is also given to
the C++ loader (KnowledgeBase.from_json) to check that schema and loader accept the same shapes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

jsonschema = pytest.importorskip("jsonschema")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DATA = REPO / "data"
SCHEMA_PATH = DATA / "schema" / "pack.schema.json"
FIXTURES = REPO / "tests" / "data"
MINI_BUNDLED = FIXTURES / "mini_bundled.json"


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _errors(validator, document) -> list:
    """All errors, including those nested in if/then/anyOf contexts, as (path tuple, message)."""
    out = []

    def walk(errs):
        for e in errs:
            out.append((tuple(e.absolute_path), e.message))
            if e.context:
                walk(e.context)

    walk(validator.iter_errors(document))
    return out


def _pack_files() -> list[Path]:
    files = sorted(DATA.glob("*.json")) + sorted((FIXTURES / "mini").glob("*.json"))
    return files


def test_schema_is_valid_draft_2020_12(schema):
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_data_directory_has_pack_files():
    names = {p.name for p in DATA.glob("*.json")}
    assert "manifest.json" in names
    manifest = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["files"]) <= names, "manifest lists files that are not in data/"


@pytest.mark.parametrize("path", _pack_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pack_file_is_valid(validator, path):
    document = json.loads(path.read_text(encoding="utf-8"))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{path.name}: {e.json_path}: {e.message}" for e in errors[:20])


def test_bundled_fixture_is_valid(validator):
    document = json.loads(MINI_BUNDLED.read_text(encoding="utf-8"))
    assert not list(validator.iter_errors(document))


def test_whole_pack_as_bundle_is_valid(validator):
    """The data files merged into one bundled pack (what KnowledgeBase.to_json produces)."""
    manifest = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))
    bundle: dict = {"manifest": {k: v for k, v in manifest.items() if k != "files"}}
    for name in manifest["files"]:
        for section, items in json.loads((DATA / name).read_text(encoding="utf-8")).items():
            bundle.setdefault(section, []).extend(items)
    assert not list(validator.iter_errors(bundle))


# Loader fixtures that the C++ loader rejects for a shape reason: the schema must reject them at the
# same JSON pointer. (invalid_integrity / invalid_name_clash / invalid_evidence_grade are integrity
# problems that a schema cannot see; invalid_parse is not JSON.)
SHAPE_FIXTURES = {
    "invalid_schema_type.json": ("interactions", 0, "severity"),
    "invalid_schema_unknown_field.json": ("substances", 1),
    "invalid_unverified.json": ("interactions", 1, "evidence"),
    "invalid_format_version.json": ("manifest", "format_version"),
    "invalid_missing_sources.json": ("classes", 0, "members", 0, "sources"),
}


@pytest.mark.parametrize("name,path", sorted(SHAPE_FIXTURES.items()))
def test_loader_shape_fixtures_are_rejected(validator, name, path):
    document = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    paths = [p for p, _ in _errors(validator, document)]
    assert path in paths, f"{name}: expected an error at {path}, got {paths}"


# --- mutations of the mini bundled pack ------------------------------------------------------------
# (description, path to the value, new value or DELETE, expected error path or None when valid)
DELETE = object()

MUTATIONS = [
    # broken documents, with the path the error must point at
    ("severity not in enum", ("interactions", 0, "severity"), "severe", ("interactions", 0, "severity")),
    ("severity not a string", ("interactions", 0, "severity"), 3, ("interactions", 0, "severity")),
    ("rule evidence weak", ("interactions", 1, "evidence"), "weak", ("interactions", 1, "evidence")),
    ("rule evidence unverified", ("contraindications", 0, "evidence"), "unverified",
     ("contraindications", 0, "evidence")),
    ("citation grade derived", ("interactions", 0, "sources", 0, "grade"), "derived",
     ("interactions", 0, "sources", 0, "grade")),
    ("citation grade U", ("products", 0, "sources", 0, "grade"), "U", ("products", 0, "sources", 0, "grade")),
    ("unknown field in rule", ("interactions", 0, "severty"), "major", ("interactions", 0)),
    ("unknown field in citation", ("interactions", 0, "sources", 0, "page"), "3", ("interactions", 0, "sources", 0)),
    ("unknown section", ("drugs",), [], ()),
    ("section not an array", ("substances",), {}, ("substances",)),
    ("rule without sources", ("interactions", 1, "sources"), DELETE, ("interactions", 1)),
    ("rule with empty sources", ("interactions", 1, "sources"), [], ("interactions", 1, "sources")),
    ("membership without sources", ("classes", 0, "members", 0, "sources"), DELETE, ("classes", 0, "members", 0)),
    ("product without sources", ("products", 1, "sources"), DELETE, ("products", 1)),
    ("product without ingredients", ("products", 1, "ingredients"), DELETE, ("products", 1)),
    ("product with no ingredient", ("products", 1, "ingredients"), [], ("products", 1, "ingredients")),
    ("empty summary", ("interactions", 0, "summary"), "", ("interactions", 0, "summary")),
    ("missing mechanism", ("interactions", 0, "mechanism"), DELETE, ("interactions", 0)),
    ("mechanism type not in enum", ("interactions", 0, "mechanism", "type"), "chemical",
     ("interactions", 0, "mechanism", "type")),
    ("three participants", ("interactions", 0, "participants"),
     [{"substance": "alpha"}, {"substance": "beta"}, {"substance": "gamma"}], ("interactions", 0, "participants")),
    ("participant with two keys", ("interactions", 0, "participants", 0), {"substance": "alpha", "class": "sedatives"},
     ("interactions", 0, "participants", 0)),
    ("empty participant", ("interactions", 0, "participants", 0), {}, ("interactions", 0, "participants", 0)),
    ("participant of unknown kind", ("contraindications", 0, "subject"), {"condition": "heart-disease"},
     ("contraindications", 0, "subject")),
    ("seriousness not in enum", ("interactions", 0, "seriousness"), "label", ("interactions", 0, "seriousness")),
    ("substance kind not in enum", ("substances", 1, "kind"), "mineral", ("substances", 1, "kind")),
    ("id not a slug", ("substances", 3, "id"), "Delta_Pam", ("substances", 3, "id")),
    ("identifiers without identifier_sources", ("substances", 1, "identifiers"), {"unii": "X1"}, ("substances", 1)),
    ("ATC string needs identifier_sources", ("substances", 1, "identifiers"), {"atc": "N01AX03"}, ("substances", 1)),
    ("product setid needs identifier_sources", ("products", 1, "identifiers"), {"setid": "abc"}, ("products", 1)),
    ("unknown identifier", ("substances", 0, "identifiers", "ndc"), "0000", ("substances", 0, "identifiers")),
    ("salt_unii value not a string", ("substances", 0, "identifiers", "salt_unii"), {"hydrochloride": 1},
     ("substances", 0, "identifiers", "salt_unii", "hydrochloride")),
    ("source without grade", ("sources", 1, "grade"), DELETE, ("sources", 1)),
    ("source grade unverified", ("sources", 1, "grade"), "unverified", ("sources", 1, "grade")),
    ("class without members", ("classes", 0, "members"), DELETE, ("classes", 0)),
    ("duplicate_therapy without management", ("classes", 1, "duplicate_therapy", "management"), DELETE,
     ("classes", 1, "duplicate_therapy")),
    ("symptom without sources", ("conditions", 0, "symptoms"), [{"name": "sweating"}], ("conditions", 0, "symptoms", 0)),
    ("inactive ingredient without note", ("products", 0, "inactive_ingredients"),
     [{"substance": "beta", "sources": [{"source": "src-label"}]}], ("products", 0, "inactive_ingredients", 0)),
    ("treatment without description", ("treatments",),
     [{"id": "t", "name": "T", "kind": "support", "sources": [{"source": "src-label"}]}], ("treatments", 0)),
    ("profile item without sources", ("profiles",),
     [{"substance": "alpha", "risks": [{"id": "r", "name": "R", "description": "d"}]}], ("profiles", 0, "risks", 0)),
    ("citation with empty source", ("interactions", 0, "sources", 0, "source"), "",
     ("interactions", 0, "sources", 0, "source")),
    ("format_version 2", ("manifest", "format_version"), 2, ("manifest", "format_version")),
    ("format_version a string", ("manifest", "format_version"), "1", ("manifest", "format_version")),
    ("manifest without licence", ("manifest", "licence"), DELETE, ("manifest",)),
    ("unknown manifest field", ("manifest", "author"), "x", ("manifest",)),
    # documents that are valid (the loader accepts them too)
    ("optional fields null", ("substances", 1, "synonyms"), None, None),
    ("substance kind empty means drug", ("substances", 1, "kind"), "", None),
    ("substance kind environmental", ("substances", 1, "kind"), "environmental", None),
    ("empty seriousness", ("interactions", 1, "seriousness"), "", None),
    ("null seriousness", ("interactions", 1, "seriousness"), None, None),
    ("product participant", ("interactions", 1, "participants", 0), {"product": "alpha-brand"}, None),
    ("product subject", ("contraindications", 0, "subject"), {"product": "combo"}, None),
    ("substance setid needs no identifier_sources", ("substances", 1, "identifiers"), {"setid": "abc"}, None),
    ("product unii needs no identifier_sources", ("products", 1, "identifiers"), {"unii": "X1"}, None),
    ("empty identifiers", ("substances", 1, "identifiers"), {"rxcui": "", "atc": [], "salt_unii": {}}, None),
    ("single ATC string", ("substances", 0, "identifiers", "atc"), "N01AX03", None),
    ("empty class", ("classes", 0, "members"), [], None),
    ("null duplicate_therapy", ("classes", 1, "duplicate_therapy"), None, None),
    ("class notes", ("classes", 0, "notes"), "free text", None),
    ("any source kind", ("sources", 1, "kind"), "podcast", None),
    ("weak product citation", ("products", 1, "sources", 0, "grade"), "weak", None),
    ("citation grade label-quoted", ("products", 0, "sources", 0, "grade"), "label-quoted", None),
    ("mechanism without detail", ("interactions", 0, "mechanism"), {"type": "pharmacokinetic-and-pharmacodynamic"},
     None),
    ("inactive ingredient", ("products", 0, "inactive_ingredients"),
     [{"substance": "beta", "note": "not absorbed", "sources": [{"source": "src-label"}]}], None),
    ("treatment", ("treatments",),
     [{"id": "t", "name": "T", "kind": "support", "description": "d", "sources": [{"source": "src-label"}]}], None),
    ("profile", ("profiles",),
     [{"substance": "alpha", "mechanisms": None,
       "risks": [{"id": "Risk 1", "name": "R", "description": "d", "sources": [{"source": "src-review"}]}]}], None),
    ("symptoms", ("conditions", 0, "symptoms"), [{"name": "sweating", "sources": [{"source": "src-label"}]}], None),
    ("bundled manifest with files (ignored)", ("manifest", "files"), ["x.json"], None),
    ("null manifest description", ("manifest", "description"), None, None),
]


def _mutate(document: dict, path: tuple, value) -> dict:
    doc = copy.deepcopy(document)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = copy.deepcopy(value)
    return doc


@pytest.fixture(scope="module")
def mini_bundled() -> dict:
    return json.loads(MINI_BUNDLED.read_text(encoding="utf-8"))


@pytest.mark.parametrize("description,path,value,error_path", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_mutation(validator, mini_bundled, description, path, value, error_path):
    document = _mutate(mini_bundled, path, value)
    errors = _errors(validator, document)
    if error_path is None:
        assert not errors, f"{description}: unexpected errors {errors}"
    else:
        paths = [p for p, _ in errors]
        assert error_path in paths, f"{description}: expected an error at {error_path}, got {errors}"


# Documented differences (see the schema's description): the schema is stricter than the loader here.
SCHEMA_STRICTER = [
    ("severity in capitals", ("interactions", 0, "severity"), "Major", ("interactions", 0, "severity")),
    ("citation grade null", ("interactions", 0, "sources", 0, "grade"), None, ("interactions", 0, "sources", 0, "grade")),
    ("citation grade empty", ("interactions", 0, "sources", 0, "grade"), "", ("interactions", 0, "sources", 0, "grade")),
]


@pytest.mark.parametrize("description,path,value,error_path", SCHEMA_STRICTER, ids=[m[0] for m in SCHEMA_STRICTER])
def test_schema_stricter_than_loader(validator, mini_bundled, description, path, value, error_path):
    document = _mutate(mini_bundled, path, value)
    assert error_path in [p for p, _ in _errors(validator, document)]


def test_manifest_file_errors_point_at_field(validator):
    manifest = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))
    broken = dict(manifest, files=[])
    assert ("files",) in [p for p, _ in _errors(validator, broken)]
    broken = {k: v for k, v in manifest.items() if k != "format_version"}
    assert () in [p for p, _ in _errors(validator, broken)]  # "format_version" is a required property
    broken = dict(manifest, format_version=2)
    assert ("format_version",) in [p for p, _ in _errors(validator, broken)]


def test_data_file_rejects_manifest_fields_mixed_with_sections(validator):
    document = {"substances": [], "licence": "x"}
    assert _errors(validator, document), "a document mixing manifest keys and sections must be rejected"


# --- the schema agrees with the C++ loader ---------------------------------------------------------


def test_mutations_agree_with_loader(mini_bundled):
    """Every mutated document is accepted by the loader exactly when the schema accepts it."""
    rxcaution = pytest.importorskip("rxcaution", reason="the rxcaution Python package is not installed")
    disagreements = []
    for description, path, value, error_path in MUTATIONS:
        document = _mutate(mini_bundled, path, value)
        try:
            rxcaution.KnowledgeBase.from_json(json.dumps(document))
            accepted = True
        except rxcaution.DataError:
            accepted = False
        if accepted != (error_path is None):
            disagreements.append(f"{description}: loader {'accepts' if accepted else 'rejects'}")
    assert not disagreements, "\n".join(disagreements)


def test_to_json_of_the_builtin_pack_is_valid(validator):
    """to_json is written from the loaded structs: it must stay a document the schema accepts."""
    rxcaution = pytest.importorskip("rxcaution", reason="the rxcaution Python package is not installed")
    document = json.loads(rxcaution.KnowledgeBase.builtin().to_json())
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]
    assert not errors, "\n".join(errors[:20])
