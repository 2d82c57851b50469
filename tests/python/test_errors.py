"""C++ exceptions arrive as the Python hierarchy, with their exact messages and attributes.

Broken packs are written on the fly into tmp_path from the tiny pack of conftest.py.
"""

from __future__ import annotations

import json
import os
import pickle

import pytest

import rxcaution
from rxcaution import (
    DataError,
    Error,
    IntegrityError,
    KnowledgeBase,
    NotFoundError,
    ParseError,
    SchemaError,
    UnsupportedFormatVersion,
)


def test_hierarchy():
    assert issubclass(Error, Exception)
    assert DataError.__mro__[1:3] == (Error, ValueError)
    for cls in (ParseError, SchemaError, IntegrityError, UnsupportedFormatVersion):
        assert cls.__bases__ == (DataError,)
        assert issubclass(cls, ValueError)
    assert NotFoundError.__mro__[1:3] == (Error, KeyError)
    assert not issubclass(NotFoundError, ValueError)
    assert not issubclass(DataError, KeyError)


@pytest.mark.parametrize(
    "cls", [Error, DataError, ParseError, SchemaError, IntegrityError, UnsupportedFormatVersion, NotFoundError]
)
def test_classes_live_in_the_public_package(cls):
    assert cls.__module__ == "rxcaution"
    assert getattr(rxcaution, cls.__name__) is cls


def test_malformed_json_file_raises_parse_error_with_position(write_pack):
    path = write_pack(None, name="bad.json", text='{\n  "manifest": {\n    "name": "tiny",\n  }\n}\n')
    with pytest.raises(ParseError) as info:
        KnowledgeBase.load(path)
    e = info.value
    assert (e.file, e.line, e.column, e.byte_offset) == (str(path), 4, 3, 40)
    assert str(e) == (
        f"{path}:4:3: invalid JSON at byte 40: syntax error while parsing object key - unexpected '}}'; "
        "expected string literal"
    )
    assert e.args == (str(e),)


def test_bad_json_text_passed_to_from_json_names_the_position():
    with pytest.raises(ParseError) as info:
        KnowledgeBase.from_json('{"manifest": ')
    e = info.value
    assert (e.file, e.line, e.column, e.byte_offset) == ("<memory>", 1, 14, 13)
    assert str(e) == (
        "<memory>:1:14: invalid JSON at byte 13: syntax error while parsing value - unexpected end of input; "
        "expected '[', '{', or a literal"
    )


def test_from_json_origin_names_the_text_in_errors():
    with pytest.raises(ParseError, match=r"^inline\.json:1:7: invalid JSON at byte 6: ") as info:
        KnowledgeBase.from_json("[1, 2,]", origin="inline.json")
    assert info.value.file == "inline.json"


def test_parse_error_in_one_file_of_a_pack_directory_names_that_file(tiny_pack, write_pack):
    directory = write_pack(tiny_pack, layout="dir")
    (directory / "classes.json").write_text('{"classes": [}', encoding="utf-8")
    with pytest.raises(ParseError) as info:
        KnowledgeBase.load(directory)
    assert info.value.file == f"{directory}/classes.json"
    assert (info.value.line, info.value.column, info.value.byte_offset) == (1, 14, 13)


def test_wrong_type_raises_schema_error_with_pointer(tiny_pack, write_pack):
    tiny_pack["interactions"][0]["severity"] = 3
    path = write_pack(tiny_pack)
    with pytest.raises(SchemaError) as info:
        KnowledgeBase.load(path)
    e = info.value
    assert (e.file, e.pointer, e.expected, e.found) == (str(path), "/interactions/0/severity", "a string", "number 3")
    assert str(e) == f"{path}:/interactions/0/severity: expected a string, got number 3"


def test_missing_required_field_raises_schema_error(tiny_pack):
    del tiny_pack["substances"][2]["name"]
    with pytest.raises(SchemaError) as info:
        KnowledgeBase.from_json(json.dumps(tiny_pack))
    assert (info.value.pointer, info.value.expected, info.value.found) == (
        "/substances/2/name",
        "a string",
        "nothing (the field is required)",
    )


def test_dangling_reference_and_rule_without_sources_are_listed_together(tiny_pack, write_pack):
    tiny_pack["interactions"][0]["participants"][1] = {"class": "hypnotics"}
    del tiny_pack["interactions"][1]["sources"]
    path = write_pack(tiny_pack)
    with pytest.raises(IntegrityError) as info:
        KnowledgeBase.load(path)
    e = info.value
    assert e.file == str(path)
    assert e.problems == [
        f"{path}:/interactions/1/sources: no source cited (every fact needs at least one source)",
        f'{path}:/interactions/0/participants/1: unknown class "hypnotics"',
    ]
    assert str(e) == f"{path}: 2 problems in the pack:\n  " + "\n  ".join(e.problems)


def test_unsupported_format_version(tiny_pack, write_pack):
    tiny_pack["manifest"]["format_version"] = 2
    path = write_pack(tiny_pack)
    with pytest.raises(UnsupportedFormatVersion) as info:
        KnowledgeBase.load(path)
    e = info.value
    assert (e.file, e.found, e.supported) == (str(path), 2, 1)
    assert str(e) == f"{path}: format_version 2 is not supported (this library reads 1)"


def test_oversized_file_raises_data_error(tiny_pack, write_pack):
    path = write_pack(tiny_pack)
    size = path.stat().st_size
    with pytest.raises(DataError) as info:
        KnowledgeBase.load(path, max_file_bytes=100)
    assert type(info.value) is DataError
    assert info.value.file == str(path)
    assert str(info.value) == f"{path}: file is {size} bytes, over the limit of 100 bytes"
    # The limit is inclusive: a file of exactly the limit loads.
    assert KnowledgeBase.load(path, max_file_bytes=size).info.name == "tiny"


def test_oversized_text_raises_data_error(tiny_pack):
    text = json.dumps(tiny_pack)
    with pytest.raises(DataError) as info:
        KnowledgeBase.from_json(text, max_file_bytes=len(text) - 1)
    assert type(info.value) is DataError
    assert str(info.value) == f"<memory>: text is {len(text)} bytes, over the limit of {len(text) - 1} bytes"
    assert KnowledgeBase.from_json(text, max_file_bytes=len(text)).info.name == "tiny"


def test_missing_file_raises_data_error(tmp_path):
    path = tmp_path / "missing.json"
    with pytest.raises(DataError) as info:
        KnowledgeBase.load(path)
    assert type(info.value) is DataError
    assert str(info.value) == f"{path}: no such file"


def test_data_errors_are_value_errors(tiny_pack):
    tiny_pack["manifest"]["format_version"] = 2
    with pytest.raises(ValueError):
        KnowledgeBase.from_json(json.dumps(tiny_pack))


def test_unknown_id_raises_not_found_error(tiny_kb):
    with pytest.raises(NotFoundError) as info:
        tiny_kb.substance("alpah")
    e = info.value
    assert isinstance(e, KeyError) and isinstance(e, Error)
    assert (e.key, e.suggestions) == ("alpah", [])
    assert str(e) == 'unknown substance "alpah"'
    assert e.args == ('unknown substance "alpah"',)


def test_unknown_medication_raises_not_found_error_with_suggestions(tiny_kb):
    with pytest.raises(KeyError) as info:
        tiny_kb.interactions_between("alpha", "gama")
    e = info.value
    assert type(e) is NotFoundError
    assert (e.key, e.suggestions) == ("gama", ["gamma"])
    # A plain KeyError would print repr(key) with extra quotes; the message reads as itself.
    assert str(e) == 'unknown medication "gama"; did you mean "gamma"?'


def test_not_found_suggestions_from_the_builtin_pack(kb):
    with pytest.raises(NotFoundError) as info:
        kb.interactions_between("methadne", "clarithromycin")
    assert info.value.suggestions == ["methadone", "Methadose"]
    assert str(info.value) == 'unknown medication "methadne"; did you mean "methadone" or "Methadose"?'


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda kb: kb.classes_of("sedatives"), 'unknown substance "sedatives"'),
        (lambda kb: kb.members_of("alpha"), 'unknown class "alpha"'),
        (lambda kb: kb.rules_for("nope"), 'unknown substance, product or class "nope"'),
        (lambda kb: kb.contraindications_for("nope"), 'unknown substance, product or class "nope"'),
        (lambda kb: kb.interaction("nope"), 'unknown interaction rule "nope"'),
    ],
)
def test_lookups_raise_not_found_with_the_kind_in_the_message(tiny_kb, call, message):
    with pytest.raises(NotFoundError) as info:
        call(tiny_kb)
    assert str(info.value) == message
    assert info.value.key in ("sedatives", "alpha", "nope")


def test_exceptions_pickle_with_their_attributes(tiny_pack):
    tiny_pack["interactions"][0]["severity"] = 3
    with pytest.raises(SchemaError) as info:
        KnowledgeBase.from_json(json.dumps(tiny_pack))
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is SchemaError
    assert str(copy) == str(info.value)
    assert (copy.file, copy.pointer, copy.expected, copy.found) == ("<memory>", "/interactions/0/severity", "a string", "number 3")


def test_other_errors_keep_their_python_types(tiny_kb):
    with pytest.raises(TypeError):
        tiny_kb.check("alpha")  # a string is not a medication list
    with pytest.raises(TypeError):
        KnowledgeBase.load(42)


# --- hostile input (issue 13): every failure is a documented error class with its position ---------


def test_number_overflow_is_a_parse_error_not_a_bare_runtime_error(tiny_pack):
    with pytest.raises(ParseError) as info:
        KnowledgeBase.from_json("1e999")
    assert (info.value.line, info.value.column, info.value.byte_offset) == (1, 5, 4)
    assert str(info.value) == "<memory>:1:5: invalid JSON at byte 4: number overflow parsing '1e999'"
    text = json.dumps(tiny_pack).replace('"title": "Tiny label"', '"title": -1e400', 1)
    assert "-1e400" in text
    with pytest.raises(ParseError, match=r"number overflow parsing '-1e400'$") as info:
        KnowledgeBase.from_json(text)
    assert info.value.byte_offset == text.index("-1e400") + len("-1e400") - 1


def test_empty_file_is_a_parse_error(tmp_path):
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    with pytest.raises(ParseError) as info:
        KnowledgeBase.load(path)
    assert str(info.value) == f"{path}:1:1: invalid JSON at byte 0: the text is empty (a pack is a JSON object)"


def test_nul_byte_and_invalid_utf8_in_a_pack_file(tiny_pack, tmp_path):
    text = json.dumps(tiny_pack).encode("utf-8")
    at = text.index(b"first letter")
    path = tmp_path / "pack.json"
    path.write_bytes(text[:at] + b"\xff" + text[at + 1 :])
    with pytest.raises(ParseError, match="ill-formed UTF-8 byte") as info:
        KnowledgeBase.load(path)
    assert info.value.byte_offset == at
    path.write_bytes(b'{"manifest": \x00}')
    with pytest.raises(ParseError) as info:
        KnowledgeBase.load(path)
    assert str(info.value) == f"{path}:1:14: invalid JSON at byte 13: a NUL byte (\\0) in the text; JSON text has none"
    tiny_pack["substances"][0]["name"] = "alpha\x00zine"
    with pytest.raises(SchemaError) as info:
        KnowledgeBase.from_json(json.dumps(tiny_pack))
    assert (info.value.pointer, info.value.expected) == ("/substances/0/name", "text without NUL characters")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
def test_non_regular_files_say_what_they_are(tmp_path):
    with pytest.raises(DataError) as info:
        KnowledgeBase.load("/dev/null")
    assert type(info.value) is DataError
    assert str(info.value) == "/dev/null: is a character device, not a pack file"
    fifo = tmp_path / "pack.json"
    os.mkfifo(fifo)
    with pytest.raises(DataError) as info:  # must not wait for a writer
        KnowledgeBase.load(fifo)
    assert str(info.value) == f"{fifo}: is a FIFO (named pipe), not a pack file"
    with pytest.raises(DataError) as info:
        KnowledgeBase.load(tmp_path)
    assert str(info.value) == (
        f"{tmp_path}: a directory without manifest.json (a pack directory holds manifest.json and the data files it names)"
    )


# --- issue 13: lone UTF-16 surrogates (no UTF-8 form) reach every entry point as unknown text ------


def test_lone_surrogates_are_unknown_text_not_type_errors():
    kb = rxcaution.KnowledgeBase.builtin()
    resolution = kb.resolve("\ud800")
    assert (resolution.input, resolution.resolved) == ("\ufffd", False)
    assert kb.resolve_condition("a\udc80").input == "a\ufffd"
    report = kb.check(["methadone", "x\udc80y", "clarithromycin"], conditions=["\ud800"])
    assert report.unresolved == ["x\ufffdy"]
    assert [w.rule for w in report.warnings][:1] == ["methadone-cyp3a-inhibitors"]
    assert not report.complete
    assert "x\ufffdy" in report.to_json()
    assert kb.find_substance("\ud800") is None
    with pytest.raises(rxcaution.NotFoundError, match='unknown substance "\ufffd"'):
        kb.substance("\ud800")
    with pytest.raises(rxcaution.NotFoundError):
        kb.interactions_between("\ud800", "methadone")
    assert "NOT CHECKED" in kb.regimen_dot(["\ud800"])


def test_from_json_with_a_lone_surrogate_is_a_parse_error():
    with pytest.raises(rxcaution.ParseError):
        rxcaution.KnowledgeBase.from_json("\ud800")
    with pytest.raises(rxcaution.ParseError):
        rxcaution.KnowledgeBase.from_json(b"\xed\xa0\x80")
    with pytest.raises(TypeError, match="text must be str or bytes, not int"):
        rxcaution.KnowledgeBase.from_json(42)  # type: ignore[arg-type]
