"""``python -m rxcaution screen``: population screening from a file, streamed in bounded chunks.

    python -m rxcaution screen REGIMENS.csv|.parquet --out RESULTS.csv|.parquet|.jsonl
        [--regimen-column C] [--medication-column C] [--conditions FILE] [--condition-column C]
        [--min-severity S] [--threads N] [--pack P] [--summary-out FILE]
        [--allow-unresolved] [--fail-on S] [--chunk-rows N]

REGIMENS is a long table, one row per medication (``regimen_id,medication`` by default, as
``bench/population.py`` writes). A regimen's rows must be consecutive in the file: the file is
read in chunks of about ``--chunk-rows`` rows and a chunk always ends at the end of a regimen, so
memory stays bounded however long the file is. Conditions (``regimen_id,condition``) are read
whole (they are usually far smaller) and matched to each chunk's regimens; regimens that only the
conditions file names are screened after the last chunk (their unknown conditions are reported).

RESULTS has one row per warning and one per input that did not resolve (it was NOT checked), the
columns of ``KnowledgeBase.screen``'s ``rows``; ``--summary-out`` writes one row per regimen.

Exit status as ``rxcaution check``: 0 done; 1 usage, file or pack error; 2 an input could not be
resolved (unless --allow-unresolved); 3 a warning at or above --fail-on was found.

Needs pyarrow and pandas: ``pip install 'rxcaution[screen]'``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence, TextIO

from ._core import KnowledgeBase, Severity, disclaimer
from .screening import KINDS, SEVERITIES, require

EXIT_OK, EXIT_USAGE, EXIT_UNRESOLVED, EXIT_SEVERITY = 0, 1, 2, 3
INPUT_SUFFIXES = (".csv", ".parquet")
OUTPUT_SUFFIXES = (".csv", ".parquet", ".jsonl")


class UsageError(Exception):
    """Bad arguments or unreadable input: exit status 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would exit with status 2, which means "unresolved" here
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rxcaution screen", description="Screen a population of regimens from a file.",
                epilog="Exit status: 0 done; 1 usage, file or pack error; 2 an input could not be resolved "
                       "(unless --allow-unresolved); 3 a warning at or above --fail-on was found.")
    p.add_argument("regimens", type=Path, help="long table, one row per medication: .csv or .parquet")
    p.add_argument("--out", type=Path, required=True, help="results: .csv, .parquet or .jsonl")
    p.add_argument("--regimen-column", default="regimen_id")
    p.add_argument("--medication-column", default="medication")
    p.add_argument("--conditions", type=Path, default=None, help="long table of conditions: .csv or .parquet")
    p.add_argument("--condition-column", default="condition")
    p.add_argument("--min-severity", default="minor", choices=SEVERITIES)
    p.add_argument("--fail-on", default=None, choices=SEVERITIES)
    p.add_argument("--allow-unresolved", action="store_true")
    p.add_argument("--threads", type=int, default=0, help="worker threads (0: every core)")
    p.add_argument("--pack", type=Path, default=None, help="knowledge pack (default: the built-in pack)")
    p.add_argument("--summary-out", type=Path, default=None, help="one row per regimen: .csv, .parquet or .jsonl")
    p.add_argument("--chunk-rows", type=int, default=500_000, help="rows screened at once (memory bound)")
    p.add_argument("--progress", choices=["auto", "always", "never"], default="auto",
                   help="progress bar on stderr (auto: only when stderr is a terminal)")
    return p


# --- reading ---------------------------------------------------------------------------------------

def _batches(pa: Any, path: Path, columns: list[str], text_column: str, chunk_rows: int) -> tuple[Iterator[Any], Optional[int]]:
    """Record batches of the file's columns, and its row count when known (for the progress bar)."""
    if path.suffix == ".parquet":
        pq = require("pyarrow.parquet")
        f = pq.ParquetFile(str(path))
        missing = [c for c in columns if c not in f.schema_arrow.names]
        if missing:
            raise UsageError(f"{path}: no column {missing[0]!r} (columns: {', '.join(f.schema_arrow.names)})")
        return f.iter_batches(batch_size=min(chunk_rows, 1 << 20), columns=columns), f.metadata.num_rows
    pacsv = require("pyarrow.csv")
    reader = pacsv.open_csv(str(path), read_options=pacsv.ReadOptions(block_size=16 << 20),
                            convert_options=pacsv.ConvertOptions(include_columns=columns,
                                                                 column_types={text_column: pa.string()}))
    return iter(reader), None


def _read_all(pa: Any, path: Path, columns: list[str], text_column: str) -> Any:
    batches, _ = _batches(pa, path, columns, text_column, 1 << 20)
    return pa.Table.from_batches(list(batches)) if path.suffix == ".csv" else require("pyarrow.parquet").read_table(
        str(path), columns=columns)


def _regimen_chunks(pa: Any, batches: Iterator[Any], regimen_column: str, chunk_rows: int) -> Iterator[Any]:
    """Tables of about chunk_rows rows that never cut a regimen: the rows of the last regimen of a
    chunk wait for the next one."""
    pc = require("pyarrow.compute")
    pending: list[Any] = []
    pending_rows = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        pending_rows += batch.num_rows
        if pending_rows < chunk_rows:
            continue
        table = pa.Table.from_batches(pending)
        ids = table.column(regimen_column)
        last = ids[len(ids) - 1]
        # The trailing run of the last regimen id stays behind.
        same = pc.equal(ids, last) if last.is_valid else pc.is_null(ids)
        differs = pc.invert(same.fill_null(False)).to_numpy(zero_copy_only=False)
        import numpy as np

        idx = np.flatnonzero(differs)
        cut = 0 if len(idx) == 0 else int(idx[-1]) + 1
        if cut == 0:  # one regimen so far: keep reading
            continue
        yield table.slice(0, cut)
        rest = table.slice(cut)
        pending = rest.to_batches()
        pending_rows = rest.num_rows
    if pending_rows:
        yield pa.Table.from_batches(pending)


# --- writing ---------------------------------------------------------------------------------------

class _Writer:
    """Writes tables chunk by chunk as CSV, Parquet or JSON Lines (by extension)."""

    def __init__(self, pa: Any, path: Path):
        self.pa, self.path, self.kind = pa, path, path.suffix
        self._parquet: Any = None
        self._csv: Any = None
        self._schema: Any = None
        self._handle: Optional[TextIO] = None

    @staticmethod
    def plain(pa: Any, table: Any) -> Any:
        """Dictionary columns as plain strings, so that every chunk has the same schema."""
        fields = [pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type) for f in table.schema]
        return table.cast(pa.schema(fields))

    def write(self, table: Any) -> None:
        pa = self.pa
        table = self.plain(pa, table)
        if self.kind in (".parquet", ".csv") and self._parquet is None and self._csv is None:
            self._schema = table.schema
            if self.kind == ".parquet":
                self._parquet = require("pyarrow.parquet").ParquetWriter(str(self.path), self._schema)
            else:
                self._csv = require("pyarrow.csv").CSVWriter(str(self.path), self._schema)
        if self.kind == ".parquet":
            self._parquet.write_table(table.cast(self._schema))
        elif self.kind == ".csv":
            self._csv.write_table(table.cast(self._schema))
        else:
            if self._handle is None:
                self._handle = self.path.open("w", encoding="utf-8", newline="\n")
            names = table.column_names
            columns = [table.column(n).to_pylist() for n in names]
            for values in zip(*columns):
                self._handle.write(json.dumps(dict(zip(names, values)), ensure_ascii=False) + "\n")

    def close(self, empty_schema: Any) -> None:
        if self._parquet is None and self._csv is None and self._handle is None:
            self.write(empty_schema.empty_table())  # an empty result still gets its header / schema
        if self._parquet is not None:
            self._parquet.close()
        if self._csv is not None:
            self._csv.close()
        if self._handle is not None:
            self._handle.close()


# --- progress and summary ------------------------------------------------------------------------

class _Progress:
    def __init__(self, stream: TextIO, enabled: bool, total_rows: Optional[int]):
        self.stream, self.enabled, self.total = stream, enabled, total_rows
        self.start = time.perf_counter()

    def update(self, rows: int, regimens: int) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        if self.total:
            frac = min(1.0, rows / self.total)
            bar = "#" * int(frac * 30)
            text = f"\r[{bar:<30}] {frac * 100:5.1f}%  {regimens:,} regimens  {elapsed:6.1f} s"
        else:
            text = f"\r{rows:,} rows, {regimens:,} regimens  {elapsed:6.1f} s"
        self.stream.write(text)
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def main(argv: Optional[Sequence[str]] = None, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr) -> int:
    """Runs ``rxcaution screen``; returns the exit status (see the module documentation)."""
    try:
        args = _parser().parse_args(list(argv) if argv is not None else None)
    except UsageError as exc:
        stderr.write(f"rxcaution screen: {exc}\n(python -m rxcaution screen --help shows the usage)\n")
        return EXIT_USAGE
    try:
        pa = require("pyarrow")
        require("pandas")
    except ImportError as exc:
        stderr.write(f"rxcaution screen: {exc}\n")
        return EXIT_USAGE
    try:
        return _run(args, pa, stdout, stderr)
    except UsageError as exc:
        stderr.write(f"rxcaution screen: {exc}\n")
        return EXIT_USAGE
    except (OSError, ValueError, KeyError) as exc:  # unreadable file, bad column, pack errors (DataError is a ValueError)
        stderr.write(f"rxcaution screen: {exc}\n")
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001  (pyarrow parse errors and rxcaution errors: exit 1 with the message)
        stderr.write(f"rxcaution screen: {type(exc).__name__}: {exc}\n")
        return EXIT_USAGE


def _run(args: argparse.Namespace, pa: Any, stdout: TextIO, stderr: TextIO) -> int:
    for path, what, suffixes in ((args.regimens, "REGIMENS", INPUT_SUFFIXES), (args.out, "--out", OUTPUT_SUFFIXES),
                                 (args.conditions, "--conditions", INPUT_SUFFIXES),
                                 (args.summary_out, "--summary-out", OUTPUT_SUFFIXES)):
        if path is not None and path.suffix not in suffixes:
            raise UsageError(f"{what} {path}: expected {' or '.join(suffixes)}")
    for path in (args.regimens, args.conditions):
        if path is not None and not path.is_file():
            raise UsageError(f"{path}: no such file")
    if args.threads < 0:
        raise UsageError("--threads must be >= 0")
    if args.chunk_rows < 1:
        raise UsageError("--chunk-rows must be >= 1")
    kb = KnowledgeBase.load(str(args.pack), max_file_bytes=1 << 30) if args.pack else KnowledgeBase.builtin()
    rc, mc, cc = args.regimen_column, args.medication_column, args.condition_column
    pc = require("pyarrow.compute")
    np = require("numpy")
    conditions = None
    if args.conditions is not None:
        conditions = _read_all(pa, args.conditions, [rc, cc], cc)
    batches, total_rows = _batches(pa, args.regimens, [rc, mc], mc, args.chunk_rows)
    progress = _Progress(stderr, args.progress == "always" or (args.progress == "auto" and stderr.isatty()), total_rows)
    rows_out = _Writer(pa, args.out)
    summary_out = _Writer(pa, args.summary_out) if args.summary_out else None
    totals = {"regimens": 0, "medications": 0, "pairs": 0, "rows": 0, "with_warnings": 0,
              "unresolved_medications": 0, "unresolved_conditions": 0}
    by_severity = dict.fromkeys(SEVERITIES, 0)
    max_seen = -1
    rows_schema = summary_schema = None
    start = time.perf_counter()
    # Conditions rows whose regimen has had medication rows: the others (regimens that only the
    # conditions file names) are screened after the last chunk, as kb.screen screens them after
    # the other regimens, so that their unknown conditions are reported too.
    matched = None if conditions is None else np.zeros(conditions.num_rows, dtype=bool)

    def chunks() -> Any:
        yield from _regimen_chunks(pa, batches, rc, args.chunk_rows)
        if matched is not None and not matched.all():
            yield pa.table({rc: pa.array([], type=conditions.column(rc).type), mc: pa.array([], type=pa.string())})

    for chunk in chunks():
        cond_chunk = None
        if conditions is not None:
            if chunk.num_rows:
                ids = chunk.column(rc).cast(conditions.column(rc).type)
                mine = pc.is_in(conditions.column(rc), value_set=pc.unique(ids)).to_numpy(zero_copy_only=False)
                matched |= mine
            else:
                mine = ~matched
            cond_chunk = conditions.filter(pa.array(mine))
        result = kb.screen(chunk, conditions=cond_chunk, regimen_column=rc, medication_column=mc,
                           condition_column=cc, min_severity=Severity(args.min_severity), threads=args.threads,
                           as_arrow=True)
        rows_out.write(result.rows)
        rows_schema = _Writer.plain(pa, result.rows).schema
        if summary_out is not None:
            summary_out.write(result.summary)
            summary_schema = _Writer.plain(pa, result.summary).schema
        s = result.summary
        totals["regimens"] += s.num_rows
        totals["medications"] += chunk.num_rows
        totals["pairs"] += result.pairs_evaluated
        totals["rows"] += result.rows.num_rows
        totals["with_warnings"] += pc.sum(pc.greater(s.column("warnings"), 0)).as_py() or 0
        totals["unresolved_medications"] += pc.sum(s.column("unresolved_medications")).as_py() or 0
        totals["unresolved_conditions"] += pc.sum(s.column("unresolved_conditions")).as_py() or 0
        for v, name in enumerate(SEVERITIES):
            n = pc.sum(s.column(name)).as_py() or 0
            by_severity[name] += n
            if n:
                max_seen = max(max_seen, v)
        progress.update(totals["medications"], totals["regimens"])
    progress.done()
    if rows_schema is None:  # an empty file: write the header / schema alone
        rows_schema = _empty_schema(pa, rows=True)
        summary_schema = _empty_schema(pa, rows=False)
    rows_out.close(rows_schema)
    if summary_out is not None:
        summary_out.close(summary_schema)
    elapsed = time.perf_counter() - start
    warnings = sum(by_severity.values())
    stdout.write(
        f"screened {totals['regimens']:,} regimens ({totals['medications']:,} medication entries, "
        f"{totals['pairs']:,} pairs evaluated) in {elapsed:.1f} s\n"
        f"warnings: {warnings:,} in {totals['with_warnings']:,} regimens ("
        + ", ".join(f"{name} {by_severity[name]:,}" for name in reversed(SEVERITIES)) + ")\n"
        f"NOT CHECKED: {totals['unresolved_medications']:,} medication entries and "
        f"{totals['unresolved_conditions']:,} condition entries did not resolve\n"
        f"wrote {totals['rows']:,} rows to {args.out}"
        + (f" and {totals['regimens']:,} regimen summaries to {args.summary_out}" if summary_out else "") + "\n"
        + disclaimer() + "\n")
    if totals["unresolved_medications"] or totals["unresolved_conditions"]:
        stderr.write(f"rxcaution screen: NOT CHECKED: {totals['unresolved_medications']:,} medication and "
                     f"{totals['unresolved_conditions']:,} condition entries did not resolve "
                     "(rows of kind unresolved-medication / unresolved-condition)\n")
        if not args.allow_unresolved:
            return EXIT_UNRESOLVED
    if args.fail_on is not None and max_seen >= SEVERITIES.index(args.fail_on):
        return EXIT_SEVERITY
    return EXIT_OK


def _empty_schema(pa: Any, rows: bool) -> Any:
    from .screening import ROW_COLUMNS, SUMMARY_COLUMNS

    ints = {"input_a", "input_b", "superseded", "implicated", "medications", "conditions", "warnings", "minor", "moderate", "major",
            "contraindicated", "unresolved_medications", "unresolved_conditions"}
    names = ROW_COLUMNS if rows else SUMMARY_COLUMNS
    return pa.schema([(n, pa.int32() if n in ints else pa.bool_() if n == "complete" else pa.string()) for n in names])


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["main", "KINDS"]
