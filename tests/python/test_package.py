"""The installed package: layout, version, exports, docstrings and the type stub."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import rxcaution
from rxcaution import _core

REPO = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(rxcaution.__file__).resolve().parent


def test_package_is_installed_with_its_extension_module():
    assert "site-packages" in PACKAGE_DIR.parts
    assert Path(_core.__file__).resolve().parent == PACKAGE_DIR


def test_wheel_ships_only_the_python_component():
    """The extension, the pure-Python modules and the typing markers; no data, headers or CMake files
    (the curated pack is compiled into the extension)."""
    files = sorted(p.name for p in PACKAGE_DIR.iterdir() if p.name not in ("__pycache__", "web"))
    extension = [f for f in files if f.startswith("_core.") and f != "_core.pyi"]
    assert len(extension) == 1 and extension[0].endswith((".so", ".pyd")), files
    others = set(files) - set(extension)
    assert {"__init__.py", "__main__.py", "_core.pyi", "py.typed"} <= others
    assert all(f.endswith(".py") for f in others - {"_core.pyi", "py.typed"}), files
    # The checker page's subpackage carries its page, script, style sheet and icon.
    web = PACKAGE_DIR / "web"
    shipped = sorted(str(p.relative_to(web)) for p in web.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert shipped == [
        "__init__.py",
        "__main__.py",
        "static/app.css",
        "static/app.js",
        "static/favicon.svg",
        "static/index.html",
    ]


def test_version_matches_the_cmake_project_and_the_distribution():
    cmake_version = re.search(r"project\(rxcaution\s+VERSION\s+([0-9.]+)", (REPO / "CMakeLists.txt").read_text()).group(1)
    assert rxcaution.__version__ == cmake_version
    assert _core.__version__ == cmake_version
    assert importlib.metadata.version("rxcaution") == cmake_version


def test_all_lists_every_public_name_of_the_extension_except_warning_and_run_cli():
    public = {n for n in dir(_core) if not n.startswith("_")}
    # `load` is the package's own helper (a pack or a list of packs), not the extension's.
    assert set(rxcaution.__all__) == (public - {"Warning", "run_cli"}) | {"__version__", "load"}
    assert len(rxcaution.__all__) == len(set(rxcaution.__all__))
    for name in public - {"run_cli"}:
        assert getattr(rxcaution, name) is getattr(_core, name)
    # Warning is reachable, but a star import must not shadow the built-in warning category.
    namespace: dict = {}
    exec("from rxcaution import *", namespace)
    assert "Warning" not in namespace
    assert rxcaution.Warning is _core.Warning


def _own_doc(obj) -> str:
    """The docstring without the signature line(s) pybind11 puts first."""
    doc = inspect.getdoc(obj) or ""
    lines = [ln for ln in doc.splitlines() if not re.match(r"^(\d+\. )?\w+\(.*\) -> ", ln) and ln != "Overloaded function."]
    return "\n".join(lines).strip()


def _public_members():
    for name in sorted(dir(_core)):
        if name.startswith("_"):
            continue
        obj = getattr(_core, name)
        yield name, obj
        if inspect.isclass(obj):
            for member_name, member in sorted(vars(obj).items()):
                if member_name.startswith("_") and member_name not in ("__str__", "__format__", "_missing_"):
                    continue
                if obj.__module__ == "rxcaution" or member_name in getattr(obj, "__members__", {}):
                    continue  # exception classes (inherited members) and enum members (documented below)
                yield f"{name}.{member_name}", member


@pytest.mark.parametrize("name, obj", list(_public_members()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_name_has_a_docstring(name, obj):
    target = obj.fget if isinstance(obj, property) else obj
    if isinstance(target, (classmethod, staticmethod)):
        target = target.__func__
    assert len(_own_doc(target)) >= 10, f"{name} has no docstring"


@pytest.mark.parametrize("enum_class", [rxcaution.Severity, rxcaution.EvidenceGrade, rxcaution.EntityKind, rxcaution.WarningKind])
def test_every_enum_member_is_documented(enum_class):
    for member in enum_class:
        assert member.__doc__ and member.__doc__ != enum_class.__doc__, member


def _bound_functions():
    yield "run_cli", _core.run_cli
    for name in dir(_core.KnowledgeBase):
        if not name.startswith("_"):
            attr = inspect.getattr_static(_core.KnowledgeBase, name)
            if isinstance(attr, staticmethod):
                attr = attr.__func__
            if callable(attr):
                yield f"KnowledgeBase.{name}", attr
    for name in ("to_json", "to_fhir_json", "to_cds_hooks_json"):
        yield f"Report.{name}", getattr(_core.Report, name)


@pytest.mark.parametrize("name, func", list(_bound_functions()), ids=lambda v: v if isinstance(v, str) else "")
def test_bound_functions_name_every_argument_and_document_them_numpydoc_style(name, func):
    doc = func.__doc__
    signature = doc.splitlines()[0]
    assert not re.search(r"\barg\d+\b", signature), signature
    params = [p.split(":")[0].strip() for p in re.search(r"\((.*)\)", signature).group(1).split(", ") if p]
    params = [p for p in params if p not in ("self", "*")]
    assert "Returns\n-------" in doc, name
    if params:
        assert "Parameters\n----------" in doc, name
        section = doc.split("Parameters\n----------", 1)[1]
        for p in params:
            assert re.search(rf"^{p}\b|, {p}\b", section, re.M), f"{name}: parameter {p} is not documented"


def test_stub_matches_the_extension_module(tmp_path):
    if importlib.util.find_spec("mypy") is None:
        pytest.fail("mypy is not installed; it is part of the test requirements: pip install 'rxcaution[test]'")
    allowlist = Path(__file__).resolve().parent / "stubtest_allowlist.txt"
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "rxcaution._core", "--allowlist", str(allowlist)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found in 1 module" in result.stdout


# --- the bindings follow the C++ headers -------------------------------------------------------------

_STRUCT = re.compile(r"^struct (\w+) \{\n(.*?)^\};", re.S | re.M)
_FIELD = re.compile(r"^    (?:[\w:]+(?:<[\w:<>, ]+>)?) (\w+)(?: = [^;]+)?;", re.M)
_ARGUMENT_STRUCTS = {
    "LoadOptions": ["max_file_bytes"],
    "CheckContext": ["conditions", "min_severity", "duplicate_therapy"],
    "CdsHooksOptions": ["focus", "include_active_interactions", "input_labels", "unresolved_condition_card", "info_cards"],
}
# The C++ Warning is plain data (indexes into the knowledge base); Python's Warning exposes the
# fields of WarningDetails instead, written on access. CdsInfoCard is a tuple in to_cds_hooks.
_PYTHON_NAMES = {"WarningDetails": "Warning"}
_NOT_BOUND_AS_CLASSES = {"Warning", "CdsInfoCard"}


def _header_structs():
    for header in ("entities.hpp", "report.hpp", "knowledge_base.hpp"):
        text = (REPO / "include" / "rxcaution" / header).read_text(encoding="utf-8")
        for name, body in _STRUCT.findall(text):
            yield name, _FIELD.findall(body)


@pytest.mark.parametrize("name, fields", list(_header_structs()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_field_of_every_public_struct_is_bound(name, fields):
    assert fields, f"no field parsed for {name}"
    if name in _NOT_BOUND_AS_CLASSES:
        assert not hasattr(_core, name) or name == "Warning"
        return
    if name in _ARGUMENT_STRUCTS:
        # Options structs become keyword arguments (check/regimen_dot; load/from_json; to_cds_hooks).
        assert fields == _ARGUMENT_STRUCTS[name]
        owner, functions = _core.KnowledgeBase, ("load", "from_json")
        if name == "CheckContext":
            functions = ("check", "regimen_dot")
        elif name == "CdsHooksOptions":
            owner, functions = _core.Report, ("to_cds_hooks",)
        for function in functions:
            signature = getattr(owner, function).__doc__.splitlines()[0]
            for field in fields:
                assert f"{field}: " in signature.split("*", 1)[1], (function, field)
        return
    cls = getattr(_core, _PYTHON_NAMES.get(name, name))
    properties = [n for n, v in vars(cls).items() if isinstance(v, property)]
    extra = {"Report": ["complete", "unresolved"]}.get(name, [])  # C++ const methods, properties in Python
    assert properties == fields + extra


def _header_enums():
    text = (REPO / "include" / "rxcaution" / "types.hpp").read_text(encoding="utf-8")
    for name, body in re.findall(r"enum class (\w+) : int \{(.*?)\};", text, re.S):
        body = re.sub(r"//[^\n]*", "", body)
        yield name, [m.split("=")[0].strip() for m in body.split(",") if m.strip()]


@pytest.mark.parametrize("name, members", list(_header_enums()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_enum_of_the_header_is_bound_with_pep8_member_names(name, members):
    upper = [re.sub(r"(?<!^)(?=[A-Z])", "_", m).upper() for m in members]
    assert [m.name for m in getattr(_core, name)] == upper


def _header_exceptions():
    text = (REPO / "include" / "rxcaution" / "errors.hpp").read_text(encoding="utf-8")
    for name, base, body in re.findall(r"class RXCAUTION_EXPORT (\w+) : public ([\w:]+) \{(.*?)\n\};", text, re.S):
        yield name, base, re.findall(r"\[\[nodiscard\]\] [^(]*?(\w+)\(\) const noexcept", body)


@pytest.mark.parametrize("name, base, accessors", list(_header_exceptions()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_exception_of_the_header_is_bound_with_its_accessors_as_attributes(name, base, accessors):
    cls = getattr(_core, name)
    assert issubclass(cls, Exception)
    if base != "std::runtime_error":
        assert cls.__bases__[0] is getattr(_core, base)
    # The attributes a raised instance carries, one per C++ accessor (DataError's `file` included).
    documented = re.findall(r"^(\w+) : ", cls.__doc__, re.M)
    inherited = ["file"] if issubclass(cls, _core.DataError) and name != "DataError" else []
    assert documented == accessors or documented == inherited + accessors
