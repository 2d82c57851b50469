"""`python -m rxcaution screen` (issue 11): CSV and Parquet in, CSV / Parquet / JSON Lines out,
chunking that never splits a regimen, the end summary and the exit codes of `check`; and the
Dask front end on a real LocalCluster with two worker processes."""

from __future__ import annotations

import json
import os
import pickle
import random
import subprocess
import sys
from pathlib import Path

import pytest

import rxcaution

pd = pytest.importorskip("pandas", reason="pandas is part of the test extra: pip install 'rxcaution[test]'")
pa = pytest.importorskip("pyarrow", reason="pyarrow is part of the test extra: pip install 'rxcaution[test]'")
import pyarrow.parquet as pq  # noqa: E402

from rxcaution.screening import ROW_COLUMNS  # noqa: E402

KB = rxcaution.KnowledgeBase.builtin()


def population(n: int, seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = random.Random(seed)
    names = [s.name for s in KB.substances()] + ["zorvatinex", "Suboxone", "METHADONE"]
    meds = [(r, m) for r in range(n) for m in rng.sample(names, rng.randint(1, 7))]
    conds = [(r, rng.choice(["hypertension", "long QT syndrome", "not a condition"])) for r in range(0, n, 4)]
    return (pd.DataFrame(meds, columns=["regimen_id", "medication"]),
            pd.DataFrame(conds, columns=["regimen_id", "condition"]))


def run(*args: object, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rxcaution", "screen", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, check=False)


def expected(meds: pd.DataFrame, conds: pd.DataFrame | None, **kw) -> pd.DataFrame:
    rows = KB.screen(meds, conditions=conds, **kw).rows
    return rows.astype(object).where(rows.notna(), None)


def normalise(frame: pd.DataFrame) -> list[tuple]:
    frame = frame[ROW_COLUMNS].astype(object).where(frame[ROW_COLUMNS].notna(), None)
    return [tuple(None if v is None else (int(v) if isinstance(v, float) and v.is_integer() else v) for v in row)
            for row in frame.itertuples(index=False)]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("screen")
    meds, conds = population(600)
    # Two regimens that only the conditions file names (one condition unknown): screened after the
    # last chunk, as kb.screen screens them after the other regimens.
    conds = pd.concat([conds, pd.DataFrame({"regimen_id": [9001, 9002], "condition": ["blorpitis", "hypertension"]})],
                      ignore_index=True)
    meds.to_csv(d / "pop.csv", index=False)
    pq.write_table(pa.Table.from_pandas(meds, preserve_index=False), d / "pop.parquet", row_group_size=500)
    conds.to_csv(d / "cond.csv", index=False)
    return d, meds, conds


@pytest.mark.parametrize("src, dst", [("pop.csv", "out.csv"), ("pop.parquet", "out.parquet"),
                                      ("pop.parquet", "out.jsonl")])
def test_files_in_and_out_equal_kb_screen_with_small_chunks(files, src, dst):
    d, meds, conds = files
    out = d / dst
    # 97-row chunks: many chunk boundaries, each must fall between regimens.
    proc = run(d / src, "--out", out, "--conditions", d / "cond.csv", "--chunk-rows", 97, "--threads", 2,
               "--allow-unresolved")
    assert proc.returncode == 0, proc.stderr
    if dst.endswith(".csv"):
        got = pd.read_csv(out, keep_default_na=True)
    elif dst.endswith(".parquet"):
        got = pq.read_table(out).to_pandas()
    else:
        got = pd.DataFrame([json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()])
    assert list(got.columns) == ROW_COLUMNS
    assert normalise(got) == normalise(expected(meds, conds))
    assert normalise(got)[-1][:2] == (9001, "unresolved-condition")
    lines = proc.stdout.splitlines()
    summary = KB.screen(meds, conditions=conds).summary
    assert lines[0].startswith(f"screened {len(summary):,} regimens ({len(meds):,} medication entries, ")
    unresolved = int(summary["unresolved_medications"].sum())
    unresolved_c = int(summary["unresolved_conditions"].sum())
    assert lines[2] == (f"NOT CHECKED: {unresolved:,} medication entries and {unresolved_c:,} condition entries "
                        "did not resolve")
    assert lines[-1] == rxcaution.disclaimer()
    assert proc.stderr.startswith("rxcaution screen: NOT CHECKED:")  # and no progress bar: not a terminal
    assert "\r" not in proc.stderr


def test_exit_codes_follow_check(tmp_path):
    ok = tmp_path / "ok.csv"
    pd.DataFrame({"regimen_id": [1, 1], "medication": ["methadone", "ketamine"]}).to_csv(ok, index=False)
    assert run(ok, "--out", tmp_path / "r.csv").returncode == 0
    assert run(ok, "--out", tmp_path / "r.csv", "--fail-on", "major").returncode == 3
    assert run(ok, "--out", tmp_path / "r.csv", "--fail-on", "contraindicated").returncode == 0
    unknown = tmp_path / "unknown.csv"
    pd.DataFrame({"regimen_id": [1], "medication": ["zorvatinex"]}).to_csv(unknown, index=False)
    proc = run(unknown, "--out", tmp_path / "u.csv")
    assert proc.returncode == 2
    assert run(unknown, "--out", tmp_path / "u.csv", "--allow-unresolved").returncode == 0
    bad = run(ok, "--out", tmp_path / "r.txt")
    assert bad.returncode == 1 and "--out" in bad.stderr and "expected .csv or .parquet or .jsonl" in bad.stderr
    missing = run(tmp_path / "nope.csv", "--out", tmp_path / "r.csv")
    assert missing.returncode == 1 and "no such file" in missing.stderr
    column = run(ok, "--out", tmp_path / "r.csv", "--medication-column", "drug")
    assert column.returncode == 1 and "drug" in column.stderr
    assert run("--out", tmp_path / "r.csv").returncode == 1  # usage: no input


def test_cxx_executable_points_to_python():
    exe = os.environ.get("RXCAUTION_CLI")
    if not exe or not Path(exe).exists():
        pytest.skip("RXCAUTION_CLI (the C++ executable) not set; tools/run-tests.sh sets it")
    proc = subprocess.run([exe, "screen", "x.csv", "--out", "y.csv"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr == ("rxcaution: screen runs in the Python package: python -m rxcaution screen "
                           "REGIMENS.csv|.parquet --out RESULTS.csv|.parquet|.jsonl (pip install 'rxcaution[screen]')\n")


# --- Dask ------------------------------------------------------------------------------------------

def _plain(frame):
    """kb.screen's rows with every text column other than kind, severity and evidence as
    string[pyarrow] (missing values <NA>), converted value by value: the reference for the
    partitions' own conversion."""
    texts = ["rule", "medication_a", "medication_b", "substance_a", "substance_b", "condition"]
    return frame.assign(**{c: pd.array(frame[c].astype(object).where(frame[c].notna(), None).tolist(),
                                       dtype=pd.StringDtype("pyarrow")) for c in texts})


def test_dask_localcluster_two_processes_equals_single_process():
    dd = pytest.importorskip("dask.dataframe", reason="dask is part of the test extra")
    distributed = pytest.importorskip("distributed", reason="distributed is part of the test extra")
    import rxcaution.dask as rx_dask

    meds, conds = population(1500, seed=9)
    # Regimens with conditions and no medication row: kb.screen reports their unknown conditions
    # after the other regimens, and so must the partitions.
    conds = pd.concat([conds, pd.DataFrame({"regimen_id": [7001, 7002], "condition": ["blorpitis", "hypertension"]})],
                      ignore_index=True)
    parts = [meds[(meds.regimen_id >= lo) & (meds.regimen_id < lo + 400)] for lo in range(0, 1500, 400)]
    ddf = dd.concat([dd.from_pandas(p, npartitions=1) for p in parts])
    want = _plain(KB.screen(meds, conditions=conds).rows).reset_index(drop=True)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, death_timeout=60) as cluster, \
            distributed.Client(cluster, timeout=60) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        future = client.compute(rx_dask.screen(ddf, KB, conditions=conds))
        got = future.result(timeout=240).reset_index(drop=True)
        # set_index keeps each regimen in one partition too
        by_index = client.compute(rx_dask.screen(dd.from_pandas(meds, npartitions=3).set_index("regimen_id",
                                                                                            sorted=True), KB,
                                                 conditions=conds)).result(timeout=240).reset_index(drop=True)
        # The knowledge base was installed in each worker process once: the later calls used the
        # same objects (nothing copied or unpickled again), whatever replicas of scattered data
        # Dask's active memory manager drops between calls.
        installed = [entry for entry in rx_dask._INSTALLED.values() if entry[0] is client]
        assert len(installed) == 1 and installed[0][1] is KB
        token = installed[0][2]

        def held_ids() -> dict:
            return client.run(lambda: {k: id(v) for k, v in rx_dask._WORKER_VALUES.items()})

        before = held_ids()
        assert len(before) == 2 and all(token in held for held in before.values())
        client.amm.run_once()
        again = client.compute(rx_dask.screen(ddf, KB, conditions=conds)).result(timeout=240)
        assert [entry[2] for entry in rx_dask._INSTALLED.values() if entry[0] is client] == [token]
        assert held_ids() == before
        # A worker that joins later gets it as it starts.
        cluster.scale(3)
        client.wait_for_workers(3, timeout=120)
        assert len([held for held in held_ids().values() if token in held]) == 3
        grown = client.compute(rx_dask.screen(ddf, KB, conditions=conds)).result(timeout=240)
        pd.testing.assert_frame_equal(grown.reset_index(drop=True), want)
        # The last two knowledge bases per client stay installed: rows of an older one say so.
        old_rows = rx_dask.screen(ddf, KB)
        others = []
        for version in ("9.0.1", "9.0.2"):
            pack = json.loads(KB.to_json())
            pack["manifest"]["version"] = version
            others.append(rxcaution.KnowledgeBase.from_json(json.dumps(pack)))
        for other in others:
            rx_dask.screen(ddf, other)
        assert all(token not in held for held in held_ids().values())
        with pytest.raises(RuntimeError, match="no longer installed on this worker"):
            client.compute(old_rows).result(timeout=240)
        # The token names the content: another client session with an equal knowledge base finds
        # it installed (one copy per distinct knowledge base on a cluster that outlives its clients).
        reinstalled = rx_dask.screen(ddf, KB)  # installed again, under the same token
        assert all(token in held for held in held_ids().values())
        objects = held_ids()
        with distributed.Client(cluster, timeout=60) as second:
            assert rx_dask._installed(second, KB).token == token
            assert held_ids() == objects  # found there: not sent or replaced again
            pd.testing.assert_frame_equal(
                second.compute(rx_dask.screen(ddf, KB)).result(timeout=240).reset_index(drop=True),
                client.compute(reinstalled).result(timeout=240).reset_index(drop=True))
        # collect: the partitions fetched as they finish and concatenated here, in partition order.
        collected = rx_dask.collect(rx_dask.screen(ddf, KB, conditions=conds))
        assert isinstance(collected.index, pd.RangeIndex)
        # It releases only its own references: rows persisted by the caller stay in the cluster.
        kept = client.persist(rx_dask.screen(ddf, KB))
        distributed.wait(kept)
        from_kept = rx_dask.collect(kept, client=client)
        relayed = rx_dask.collect(kept, client=client, direct=False)  # through the scheduler
        assert kept.compute().reset_index(drop=True).equals(from_kept)
        assert relayed.equals(from_kept)
        # A partition's error reaches the caller (kb.screen refuses a negative thread count).
        with pytest.raises(ValueError, match=r"threads must be >= 0"):
            rx_dask.collect(rx_dask.screen(ddf, KB, threads=-1), client=client)
    # The cache holds a closed client's entry only until the next call prunes it.
    assert all(entry[0].status in ("closed", "closing") for entry in rx_dask._INSTALLED.values()
               if entry[0] is client)
    pd.testing.assert_frame_equal(again.reset_index(drop=True), want)
    # kind, severity and evidence keep kb.screen's fixed categoricals; the texts whose categories
    # would differ per partition travel as Arrow-backed strings, the same dtype in every partition.
    text = pd.StringDtype("pyarrow")
    assert {str(got[c].dtype) for c in ("rule", "medication_a", "medication_b", "substance_a", "substance_b",
                                        "condition")} == {str(text)}
    single = KB.screen(meds, conditions=conds).rows
    for c in ("kind", "severity", "evidence"):
        assert got[c].dtype == single[c].dtype
    assert got["condition"].isna().any()
    assert got[got["regimen"] >= 7000][["regimen", "kind", "condition"]].values.tolist() == [
        [7001, "unresolved-condition", "blorpitis"]]
    assert (got["medication_a"].isna() == (got["kind"] == "unresolved-condition")).all()
    assert len(want) > 1000
    pd.testing.assert_frame_equal(got, want)
    pd.testing.assert_frame_equal(by_index, want)
    pd.testing.assert_frame_equal(collected, want)
    pd.testing.assert_frame_equal(from_kept, _plain(KB.screen(meds).rows).reset_index(drop=True))


def test_dask_to_parquet_of_partitions_with_different_rules_reads_back_equal(tmp_path):
    """Partitions with different rules, texts and substances write one Parquet dataset (the
    partition schemas agree) that reads back as kb.screen's rows."""
    dd = pytest.importorskip("dask.dataframe", reason="dask is part of the test extra")
    import dask

    import rxcaution.dask as rx_dask

    meds, _ = population(900, seed=11)
    parts = [meds[(meds.regimen_id >= lo) & (meds.regimen_id < lo + 300)] for lo in range(0, 900, 300)]
    ddf = dd.concat([dd.from_pandas(p, npartitions=1) for p in parts])
    want = _plain(KB.screen(meds).rows).reset_index(drop=True)
    rules = [set(KB.screen(p).rows["rule"].dropna()) for p in parts]
    assert rules[0] != rules[1] and rules[1] != rules[2]
    with dask.config.set(scheduler="sync"):
        rx_dask.screen(ddf, KB).to_parquet(tmp_path / "out", write_index=False)
        # Without a distributed client, the partitions are computed here and concatenated the same way.
        pd.testing.assert_frame_equal(rx_dask.collect(rx_dask.screen(ddf, KB)), want)
        # screen()'s own result is collected from compact partitions (integer columns and Arrow
        # dictionaries, rows built here; fewer bytes between processes than the rows).
        rows = rx_dask.screen(ddf, KB)
        screened = dask.compute(*rx_dask._compact_tasks(*rows.__dict__[rx_dask._PLAN]))
        assert [type(part) for part in screened] == [rx_dask._Screened] * 3
        built = [rx_dask._rows(part) for part in screened]
        for part, frame in zip(screened, built):
            assert len(pickle.dumps(part, protocol=5)) < len(pickle.dumps(frame, protocol=5))
        pd.testing.assert_frame_equal(pd.concat(built, ignore_index=True), want)
        # A partition of 20,000 regimens: its texts are a small part of it, and it is under half the rows.
        big, _ = population(20000, seed=12)
        (part,) = dask.compute(*rx_dask._compact_tasks(*rx_dask.screen(dd.from_pandas(big, npartitions=1),
                                                                      KB).__dict__[rx_dask._PLAN]))
        frame = rx_dask._rows(part)
        assert len(frame) > 5000
        assert len(pickle.dumps(part, protocol=5)) < 0.5 * len(pickle.dumps(frame, protocol=5))
        pd.testing.assert_frame_equal(frame, _plain(KB.screen(big).rows).reset_index(drop=True))
        # Anything derived from it has no plan: its own partitions are collected, as compute() gives them.
        major = rows[rows["severity"] >= "major"]
        assert rx_dask._PLAN not in major.__dict__
        pd.testing.assert_frame_equal(rx_dask.collect(major), major.compute())
        pd.testing.assert_frame_equal(rx_dask.collect(major).reset_index(drop=True),
                                      want[want["severity"] >= "major"].reset_index(drop=True))
        # Regimen ids in the index (set_index) are read from there on the compact path too.
        by_index = dd.from_pandas(meds, npartitions=3).set_index("regimen_id", sorted=True)
        pd.testing.assert_frame_equal(rx_dask.collect(rx_dask.screen(by_index, KB)), want)
        # Any other Dask DataFrame: a meaningful index is kept, as compute() keeps it.
        indexed = dd.from_pandas(meds.set_index("regimen_id"), npartitions=3)
        pd.testing.assert_frame_equal(rx_dask.collect(indexed), indexed.compute())
        assert rx_dask.collect(indexed).index.equals(meds.set_index("regimen_id").index)
    back = pd.read_parquet(tmp_path / "out", dtype_backend="pyarrow")
    assert len(back) == len(want) > 100
    for column in ROW_COLUMNS:
        assert back[column].astype(object).where(back[column].notna(), None).tolist() == \
            want[column].astype(object).where(want[column].notna(), None).tolist(), column


def test_arrow_text_rows_equal_the_plain_conversion_of_the_pandas_rows():
    # rxcaution.dask's partitions take their text columns from the core's Arrow dictionaries
    # (screening.screen(..., _arrow_text=True)); they must equal kb.screen's rows converted value
    # by value, dtypes included: unknown names, conditions, rows without a rule or a substance.
    from rxcaution import screening

    meds, conds = population(800, seed=21)
    conds = pd.concat([conds, pd.DataFrame({"regimen_id": [9001], "condition": ["hypertension"]})], ignore_index=True)
    for kwargs in ({}, {"conditions": conds}, {"conditions": conds, "min_severity": "major"}):
        want = _plain(KB.screen(meds, **kwargs).rows)
        got = screening.screen(KB, meds, _arrow_text=True, **kwargs).rows
        pd.testing.assert_frame_equal(got, want)
        assert len(got) > 0 and got["rule"].isna().any() and got["rule"].notna().any()
    with pytest.raises(ValueError, match="_arrow_text gives pandas rows"):
        screening.screen(KB, meds, _arrow_text=True, as_arrow=True)
