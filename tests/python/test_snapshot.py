"""The compiled snapshot (.rxpack) from Python: save/load, bytes, pickling, and refusals."""

from __future__ import annotations

import pickle
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import rxcaution
from rxcaution import DataError, KnowledgeBase

REGIMENS = [
    ["methadone", "ketamine"],
    ["Suboxone", "alprazolam", "gabapentin"],
    ["naltrexone", "oxycodone", "ondansetron"],
    ["esketamine", "phentermine", "sertraline"],
]


def _reports(kb: KnowledgeBase) -> list[str]:
    return [kb.check(meds, conditions=["hypokalemia"]).to_json() for meds in REGIMENS]


def test_snapshot_bytes_round_trip(kb):
    data = kb.to_snapshot()
    assert isinstance(data, bytes)
    assert data[:8] == b"\x89RXPACK\n"
    assert struct.unpack_from("<I", data, 8) == (3,)
    copy = KnowledgeBase.from_snapshot(data, origin="copy.rxpack")
    assert copy.info.origin == "copy.rxpack"
    assert _reports(copy) == _reports(kb)
    assert copy.to_json() == kb.to_json()
    assert copy.to_snapshot() == data


def test_save_and_load_by_path(kb, tmp_path: Path):
    path = tmp_path / "curated.rxpack"
    kb.save(path)
    loaded = KnowledgeBase.load(path)
    assert loaded.info.origin == str(path)
    assert _reports(loaded) == _reports(kb)
    assert rxcaution.KnowledgeBase.load(str(path)).info.interactions == kb.info.interactions


def test_pickle_is_the_snapshot_and_old_json_pickles_still_load(kb):
    state = kb.__getstate__()
    assert state == (kb.to_snapshot(), "<builtin>")
    clone = pickle.loads(pickle.dumps(kb))
    assert clone.info == kb.info
    assert _reports(clone) == _reports(kb)
    # A pickle written before snapshots held the pack's JSON text.
    old = KnowledgeBase.__new__(KnowledgeBase)
    old.__setstate__(kb.to_json())
    assert _reports(old) == _reports(kb)


def test_damaged_and_foreign_bytes_are_refused(kb):
    data = kb.to_snapshot()
    with pytest.raises(DataError) as info:
        KnowledgeBase.from_snapshot(b'{"manifest": {}}', origin="x.rxpack")
    assert str(info.value) == "x.rxpack: not an rxcaution snapshot (it does not start with the .rxpack signature)"
    assert info.value.file == "x.rxpack"
    with pytest.raises(DataError) as info:
        KnowledgeBase.from_snapshot(data[:100], origin="x.rxpack")
    assert str(info.value) == (
        f"x.rxpack: truncated snapshot: the header promises {len(data) - 32} bytes of data, the file has 68"
    )
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0x01
    with pytest.raises(DataError, match=r"^x\.rxpack: damaged snapshot: checksum mismatch"):
        KnowledgeBase.from_snapshot(bytes(damaged), origin="x.rxpack")
    newer = bytearray(data)
    struct.pack_into("<I", newer, 8, 7)
    with pytest.raises(DataError) as info:
        KnowledgeBase.from_snapshot(bytes(newer), origin="x.rxpack")
    assert str(info.value) == (
        "x.rxpack: snapshot format version 7 is not supported (this library reads version 3); "
        "compile the pack again (rxcaution compile)"
    )


def test_truncated_file_on_disk_names_the_file(kb, tmp_path: Path):
    path = tmp_path / "cut.rxpack"
    path.write_bytes(kb.to_snapshot()[:20])
    with pytest.raises(DataError) as info:
        KnowledgeBase.load(path)
    assert str(info.value) == f"{path}: truncated snapshot: 20 bytes, shorter than the 32-byte header"


def test_cli_compile_then_check_with_the_snapshot(tmp_path: Path):
    out = tmp_path / "pack.rxpack"
    from rxcaution.__main__ import main

    assert main(["compile", str(Path(__file__).resolve().parents[2] / "data"), "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89RXPACK\n"
    run = subprocess.run(
        [sys.executable, "-m", "rxcaution", "check", "--pack", str(out), "--format", "json", "methadone", "ketamine"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert '"rule": "ketamine-methadone"' in run.stdout
