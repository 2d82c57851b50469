"""Population screening: many regimens checked in one call (``KnowledgeBase.screen``).

Input is a list of medication lists, or a table in long format (one row per medication, a
regimen id column and a medication column) as a pandas DataFrame or a pyarrow Table. The table's
columns are dictionary-encoded here (``pandas.factorize`` / pyarrow ``dictionary_encode``), so the
C++ core receives each distinct text once plus integer codes, and screens with the GIL released.

The result has two tables in long format:

``rows``
    one row per warning, then one per input that did not resolve (it was NOT checked): a regimen
    with no row has no warning among the inputs that were checked, which never means "safe".
    Columns: ``regimen``, ``kind``, ``severity``, ``evidence``, ``rule``, ``input_a``, ``input_b``
    (positions of the inputs inside the regimen), ``medication_a``, ``medication_b`` (their
    text), ``substance_a``, ``substance_b`` (ids), ``condition`` (the typed condition of a
    drug-condition, cumulative or unresolved-condition row), ``superseded`` (rules this warning
    replaced), ``implicated`` (cumulative rows: how many medications met the rule; ``input_a`` /
    ``input_b`` are the first two, ``explain`` lists them all; 0 on other rows).
``summary``
    one row per regimen: ``regimen``, ``medications``, ``conditions``, ``warnings``, counts per
    severity, ``max_severity``, ``unresolved_medications``, ``unresolved_conditions``,
    ``complete`` (every input resolved).

``explain(i)`` gives the full :class:`rxcaution.Warning` (summary, management, sources,
explanation) of row ``i``; ``report(regimen)`` the full :class:`rxcaution.Report` of a regimen.

pandas and pyarrow are optional: ``pip install 'rxcaution[screen]'``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence

from . import _core
from ._core import KnowledgeBase, Report, Severity, Warning, WarningKind

__all__ = ["ScreenResult", "screen", "ROW_COLUMNS", "SUMMARY_COLUMNS", "KINDS", "SEVERITIES"]

# Indexed by the core's row kind (ScreenRowKind): a cumulative row is 5, after the unresolved ones.
KINDS = ["drug-drug", "drug-condition", "duplicate-therapy", "unresolved-medication", "unresolved-condition",
         "cumulative"]
_UNRESOLVED_KINDS = (3, 4)
_ROW_TO_WARNING_KIND = {0: 0, 1: 1, 2: 2, 5: 3}
SEVERITIES = ["minor", "moderate", "major", "contraindicated"]
EVIDENCE = ["label", "label-quoted", "secondary", "weak", "derived"]
ROW_COLUMNS = ["regimen", "kind", "severity", "evidence", "rule", "input_a", "input_b", "medication_a",
               "medication_b", "substance_a", "substance_b", "condition", "superseded", "implicated"]
SUMMARY_COLUMNS = ["regimen", "medications", "conditions", "warnings", "minor", "moderate", "major",
                   "contraindicated", "max_severity", "unresolved_medications", "unresolved_conditions", "complete"]


def require(module: str, extra: str = "screen") -> Any:
    """Imports an optional dependency, or raises an ImportError naming the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"rxcaution screening needs {module.split('.')[0]}, which is not installed: "
                          f"pip install 'rxcaution[{extra}]'") from exc


@dataclass
class _Batch:
    """The columnar batch as screened (kept for explain/report)."""

    regimen_ids: Any  # numpy array or pyarrow array of regimen ids, one per regimen
    medication_texts: list
    regimen_offsets: Any
    medication_codes: Any
    condition_texts: list
    condition_offsets: Any  # None when no conditions
    condition_codes: Any
    # The texts are distinct exact str (the list encoder's): their categories need no check.
    texts_unique: bool = False

    def medications(self, r: int) -> list[str]:
        lo, hi = int(self.regimen_offsets[r]), int(self.regimen_offsets[r + 1])
        return [self.medication_texts[int(c)] for c in self.medication_codes[lo:hi]]

    def conditions(self, r: int) -> list[str]:
        if self.condition_offsets is None:
            return []
        lo, hi = int(self.condition_offsets[r]), int(self.condition_offsets[r + 1])
        return [self.condition_texts[int(c)] for c in self.condition_codes[lo:hi]]


@dataclass
class ScreenResult:
    """What :meth:`KnowledgeBase.screen` returns (see the module documentation for the columns)."""

    rows: Any
    """One row per warning or unresolved input (pandas DataFrame, or pyarrow Table)."""
    summary: Any
    """One row per regimen (pandas DataFrame, or pyarrow Table). Built on first access (the same
    table every time): a caller that reads only ``rows`` does not pay for it."""
    pairs_evaluated: int
    """Medication input pairs in the batch (sum of n(n-1)/2 over regimens)."""
    kb: KnowledgeBase = field(repr=False)
    _batch: _Batch = field(repr=False)
    _row_regimen: Any = field(repr=False)  # regimen position of every row (numpy)
    _options: dict = field(repr=False)

    def report(self, regimen: int) -> Report:
        """The full report of the regimen at position ``regimen`` (0-based, in summary order):
        the check screen ran for it, with every text written out."""
        return self.kb.check(self._batch.medications(regimen), conditions=self._batch.conditions(regimen),
                             min_severity=self._options["min_severity"],
                             duplicate_therapy=self._options["duplicate_therapy"])

    def explain(self, row: int) -> Warning:
        """The warning of row ``row`` (0-based position in ``rows``) written out in full.

        Raises ValueError for an unresolved-input row: it has no warning (the input was not
        checked); ``report(regimen).inputs`` gives its suggestions."""
        n = len(self._row_regimen)
        if not 0 <= row < n:
            raise IndexError(f"row {row} is outside the {n} rows")
        kind = int(self._columns["kind"][row])
        if kind in _UNRESOLVED_KINDS:
            raise ValueError(f"row {row} is an {KINDS[kind]} row: the input was not checked, there is no warning")
        regimen = int(self._row_regimen[row])
        # Warning rows of a regimen come in the report's order: the k-th one is warnings[k]
        # (the kinds filter may have left some out, so match the fields).
        report = self.report(regimen)
        a, b = int(self._columns["input_a"][row]), int(self._columns["input_b"][row])
        want = [a] if b < 0 else [a, b]
        warning_kind = _ROW_TO_WARNING_KIND[kind]
        for w in report.warnings:
            # A cumulative warning names every implicated input; the row holds the first two.
            inputs = list(w.input_indexes)[:2] if warning_kind == 3 else list(w.input_indexes)
            if int(w.kind) == warning_kind and inputs == want and w.rule == self._rule_id(row):
                return w
        raise ValueError(f"row {row}: its warning is not in the regimen's report")

    def __getstate__(self) -> dict:
        # Pickled and copied with its summary built (the deferred builder is a closure).
        state = dict(self.__dict__)
        state["_summary"] = self.summary
        return state

    # filled by screen()
    _columns: dict = field(default_factory=dict, repr=False)
    _rule_ids: list = field(default_factory=list, repr=False)  # every rule id of kb (rule_order indexes it)

    def _rule_id(self, row: int) -> Optional[str]:
        code = int(self._columns["rule"][row])
        return None if code < 0 else self._rule_ids[int(self._columns["rule_order"][code])]


class _Deferred:
    """A table built on first use, once, whichever thread asks first."""

    __slots__ = ("_build", "_lock")

    def __init__(self, build: Any) -> None:
        self._build, self._lock = build, threading.Lock()


def _get_summary(self: ScreenResult) -> Any:
    value = self.__dict__["_summary"]
    if isinstance(value, _Deferred):
        with value._lock:
            value = self.__dict__["_summary"]
            if isinstance(value, _Deferred):
                value = value._build()
                self.__dict__["_summary"] = value
    return value


def _set_summary(self: ScreenResult, value: Any) -> None:
    self.__dict__["_summary"] = value


# `summary` stays a dataclass field (constructor, repr and equality as before) whose value is kept
# in `_summary`: a _Deferred there is built on first read.
ScreenResult.summary = property(  # type: ignore[method-assign,assignment]
    _get_summary, _set_summary, doc="One row per regimen (pandas DataFrame, or pyarrow Table), built on first access.")


def _kinds(kinds: Optional[Iterable[Any]]) -> list:
    if kinds is None:
        return []
    out = []
    for k in kinds:
        out.append(k if isinstance(k, WarningKind) else WarningKind(str(k)))
    if not out:
        raise ValueError("screen(): kinds is empty; pass None for every kind")
    return out


def _is_pandas(obj: Any) -> bool:
    return type(obj).__module__.startswith("pandas") and hasattr(obj, "columns")


def _is_arrow(obj: Any) -> bool:
    return type(obj).__module__.startswith("pyarrow") and hasattr(obj, "schema")


def _encode_texts(np: Any, codes: Any, uniques: Any) -> tuple[list, Any]:
    """Distinct texts as str (a missing value becomes "", which never resolves) and int32 codes."""
    if isinstance(uniques, list):  # from _core._factorize_utf8: every one a str already
        texts = list(uniques)
    else:
        texts = ["" if u is None or (isinstance(u, float) and u != u) else (u if isinstance(u, str) else str(u))
                 for u in uniques]
    codes = np.asarray(codes)
    if (codes < 0).any():  # missing values
        texts.append("")
        codes = np.where(codes < 0, len(texts) - 1, codes)
    return texts, codes.astype(np.int32, copy=False)


def _csr(np: Any, regimen_codes: Any, value_codes: Any, regimens: int) -> tuple[Any, Any]:
    """Offsets and codes grouped by regimen; a regimen's entries keep their table order."""
    regimen_codes = np.asarray(regimen_codes, dtype=np.int64)
    # Compared in place (np.diff would first write a second 8-byte array as long as the table).
    if len(regimen_codes) > 1 and (regimen_codes[1:] < regimen_codes[:-1]).any():
        order = np.argsort(regimen_codes, kind="stable")
        regimen_codes = regimen_codes[order]
        value_codes = value_codes[order]
    offsets = np.zeros(regimens + 1, dtype=np.int64)
    np.cumsum(np.bincount(regimen_codes, minlength=regimens), out=offsets[1:])
    return offsets, np.ascontiguousarray(value_codes, dtype=np.int32)


def _utf8_chunks(column: Any) -> Optional[list]:
    """The Arrow buffers of a string column (pyarrow string / large_string, or a pandas column
    backed by one), chunk by chunk, for _core._factorize_utf8; None for any other column."""
    arrow = column
    if not (type(arrow).__module__.startswith("pyarrow")):
        dtype = getattr(column, "dtype", None)
        backed = getattr(dtype, "storage", None) in ("pyarrow", "pyarrow_numpy") or \
            type(dtype).__name__ == "ArrowDtype"
        if not backed or not hasattr(column.array, "__arrow_array__"):
            return None
        arrow = column.array.__arrow_array__()
    pa = require("pyarrow")
    if not (pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type)):
        return None
    wide = pa.types.is_large_string(arrow.type)
    chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
    return [(b[0], b[1], b[2], len(c), c.offset, wide) for c in chunks for b in [c.buffers()]]


def _factorize_texts(factorize: Any, column: Any, threads: int) -> tuple[Any, Any]:
    """pandas.factorize(column, sort=False), on the call's threads for an Arrow string column
    (pandas' own runs on one thread with the GIL held: 160-200 ms per 5 million medications)."""
    chunks = _utf8_chunks(column)
    if chunks is not None:
        return _core._factorize_utf8(chunks, threads)
    return factorize(column, sort=False)


def _column_codes(pd: Any, column: Any, threads: int) -> tuple[Any, Any, bool]:
    """A DataFrame column's codes and distinct values, as pandas.factorize(sort=False) gives them,
    and whether those values are known to be distinct str (a categorical of str: its own codes)."""
    coded = _categorical_codes(column)
    if coded is not None:
        return coded[0], coded[1], True
    codes, uniques = _factorize_texts(pd.factorize, column, threads)
    return codes, uniques, False


def _categorical_codes(column: Any) -> Optional[tuple[Any, list]]:
    """pandas.factorize(column, sort=False) of a categorical column whose categories are all str:
    its own codes renumbered by first appearance (_core._first_appearance_codes), the texts as a
    list; None for any other column."""
    dtype = getattr(column, "dtype", None)
    if type(dtype).__name__ != "CategoricalDtype" or dtype.categories.inferred_type != "string":
        return None
    np = require("numpy")
    coded = _core._first_appearance_codes(np.ascontiguousarray(column.array.codes), len(dtype.categories))
    if coded is None:
        return None
    codes, order = coded
    return codes, dtype.categories.take(order).tolist()


def _factorize_frame(pd: Any, np: Any, data: Any, conditions: Any, rc: str, mc: str, cc: str,
                     threads: int) -> _Batch:
    for frame, col in ((data, mc), (conditions, cc)):
        if frame is None:
            continue
        for c in (rc, col):
            if c not in frame.columns:
                raise KeyError(f"screen(): no column {c!r} (columns: {', '.join(map(str, frame.columns))}); "
                               "set regimen_column / medication_column / condition_column")
    keys = data[rc] if conditions is None else pd.concat([data[rc], conditions[rc]], ignore_index=True)
    runs = None
    if conditions is None and keys.dtype == np.int64:  # sorted ids: one pass, no hashing, no regrouping
        runs = _core._sorted_runs_int64(keys.to_numpy())
    med_codes, med_uniques, distinct = _column_codes(pd, data[mc], threads)
    texts, med_codes = _encode_texts(np, med_codes, med_uniques)
    # A categorical's categories are distinct str, and so are its texts unless a missing value
    # added "": the rows' categories need no check for repeats (a set of 77,455 texts, 2.2 ms).
    # The flag covers the conditions' texts too: only without them.
    unique = distinct and len(texts) == len(med_uniques) and conditions is None
    if runs is not None:  # the rows are grouped by regimen already: the runs are the offsets
        offsets, reg_uniques = runs
        regimens, codes = len(reg_uniques), med_codes
    else:
        reg_codes, reg_uniques = pd.factorize(keys, sort=False, use_na_sentinel=False)
        regimens = len(reg_uniques)
        offsets, codes = _csr(np, reg_codes[: len(data)], med_codes, regimens)
    batch = _Batch(np.asarray(reg_uniques), texts, offsets, codes, [], None, None, texts_unique=unique)
    if conditions is not None:
        c_codes, c_uniques, _ = _column_codes(pd, conditions[cc], threads)
        batch.condition_texts, c_codes = _encode_texts(np, c_codes, c_uniques)
        batch.condition_offsets, batch.condition_codes = _csr(np, reg_codes[len(data):], c_codes, regimens)
    return batch


def _factorize_arrow(pa: Any, np: Any, data: Any, conditions: Any, rc: str, mc: str, cc: str,
                     threads: int) -> _Batch:
    pc = require("pyarrow.compute")

    def column(table: Any, name: str) -> Any:
        if name not in table.column_names:
            raise KeyError(f"screen(): no column {name!r} (columns: {', '.join(table.column_names)}); "
                           "set regimen_column / medication_column / condition_column")
        return table.column(name)

    def encoded(col: Any, texts: bool = False) -> tuple[Any, list]:
        chunks = _utf8_chunks(col) if texts else None
        if chunks is not None:
            return _core._factorize_utf8(chunks, threads)
        enc = pc.dictionary_encode(col).combine_chunks()
        indices = enc.indices.to_numpy(zero_copy_only=False)
        if enc.indices.null_count:
            indices = np.where(pc.is_null(enc.indices).to_numpy(zero_copy_only=False), -1, indices)
        return indices, enc.dictionary.to_pylist()

    keys = column(data, rc)
    if conditions is not None:
        keys = pa.chunked_array(keys.chunks + column(conditions, rc).cast(keys.type).chunks, type=keys.type)
    reg_codes, reg_uniques = encoded(keys)
    if (reg_codes < 0).any():  # a missing regimen id is a regimen of its own
        reg_uniques.append(None)
        reg_codes = np.where(reg_codes < 0, len(reg_uniques) - 1, reg_codes)
    regimens = len(reg_uniques)
    med_codes, med_uniques = encoded(column(data, mc), texts=True)
    texts, med_codes = _encode_texts(np, med_codes, med_uniques)
    offsets, codes = _csr(np, reg_codes[: data.num_rows], med_codes, regimens)
    batch = _Batch(pa.array(reg_uniques, type=keys.type), texts, offsets, codes, [], None, None)
    if conditions is not None:
        c_codes, c_uniques = encoded(column(conditions, cc), texts=True)
        batch.condition_texts, c_codes = _encode_texts(np, c_codes, c_uniques)
        batch.condition_offsets, batch.condition_codes = _csr(np, reg_codes[data.num_rows:], c_codes, regimens)
    return batch


def screen(kb: KnowledgeBase, data: Any, *, conditions: Any = None, regimen_column: str = "regimen_id",
           medication_column: str = "medication", condition_column: str = "condition",
           min_severity: Severity = Severity.MINOR, kinds: Optional[Sequence[Any]] = None,
           duplicate_therapy: bool = True, threads: int = 0, as_arrow: bool = False,
           _arrow_text: bool = False, _rows_only: bool = False) -> ScreenResult:
    """Implementation of :meth:`KnowledgeBase.screen` (see its documentation).

    ``_arrow_text`` (private, for ``rxcaution.dask``): pandas rows whose text columns (rule,
    medications, substances, condition) are ``string[pyarrow]`` taken from Arrow dictionaries
    the core writes, instead of categoricals of Python str (which Dask partitions would have to
    convert back). ``_rows_only`` (private, for ``rxcaution.dask``, whose partitions return their
    rows alone): the result's ``summary`` is None, and the core writes no per-regimen totals."""
    np = require("numpy")
    out, batch, options = _screen_out(kb, data, conditions=conditions, regimen_column=regimen_column,
                                      medication_column=medication_column, condition_column=condition_column,
                                      min_severity=min_severity, kinds=kinds, duplicate_therapy=duplicate_therapy,
                                      threads=threads, as_arrow=as_arrow, _arrow_text=_arrow_text,
                                      _rows_only=_rows_only)
    rows, summary = _tables(np, out, batch, _ids_of(kb, int(out["rule_serial"])), as_arrow, _arrow_text)
    result = ScreenResult(rows=rows, summary=summary, pairs_evaluated=int(out["pairs_evaluated"]), kb=kb, _batch=batch,
                          _row_regimen=out["regimen"], _options=options)
    result._columns = {k: out[k] for k in ("kind", "input_a", "input_b", "rule", "rule_order")}
    result._rule_ids = _ids_of(kb, int(out["rule_serial"])).rules
    return result


def _screen_out(kb: KnowledgeBase, data: Any, *, conditions: Any = None, regimen_column: str = "regimen_id",
                medication_column: str = "medication", condition_column: str = "condition",
                min_severity: Any = Severity.MINOR, kinds: Optional[Sequence[Any]] = None,
                duplicate_therapy: bool = True, threads: int = 0, as_arrow: bool = False, _arrow_text: bool = False,
                _rows_only: bool = False) -> tuple[dict, _Batch, dict]:
    """screen() up to its tables: the core's columns (``out``), the batch they index, and the
    options as the result keeps them. ``rxcaution.dask`` sends the first two between processes
    and builds the rows (``_tables``) where they are wanted."""
    np = require("numpy")
    if as_arrow:
        require("pyarrow")
    else:
        require("pandas")
    if _arrow_text:
        if as_arrow:
            raise ValueError("screen(): _arrow_text gives pandas rows; it does not go with as_arrow")
        require("pyarrow")
    core_arrow = as_arrow or _arrow_text
    if threads < 0:
        raise ValueError("screen(): threads must be >= 0 (0 uses every core)")
    min_severity = min_severity if isinstance(min_severity, Severity) else Severity(str(min_severity))
    kind_list = _kinds(kinds)
    options = {"min_severity": min_severity, "duplicate_therapy": bool(duplicate_therapy)}

    if _is_pandas(data):
        pdm = require("pandas")
        if conditions is not None and not _is_pandas(conditions):
            raise TypeError("screen(): with a DataFrame, conditions must be a DataFrame too")
        batch = _factorize_frame(pdm, np, data, conditions, regimen_column, medication_column, condition_column,
                                 int(threads))
        out = None
    elif _is_arrow(data):
        pam = require("pyarrow")
        if conditions is not None and not _is_arrow(conditions):
            raise TypeError("screen(): with a pyarrow Table, conditions must be a Table too")
        batch = _factorize_arrow(pam, np, data, conditions, regimen_column, medication_column, condition_column,
                                 int(threads))
        out = None
    elif isinstance(data, (str, bytes)) or not hasattr(data, "__len__"):
        raise TypeError("screen(): data must be a list of lists of str, a pandas DataFrame or a pyarrow Table, "
                        f"not {type(data).__name__}")
    else:
        out = _core._screen_lists(kb, data, conditions, min_severity, bool(duplicate_therapy), kind_list, int(threads),
                                  core_arrow, not _rows_only)
        batch = _Batch(np.arange(len(out["regimen_offsets"]) - 1, dtype=np.int64), out["medication_texts"],
                       out["regimen_offsets"], out["medication_codes"], out["condition_texts"],
                       out["condition_offsets"] if conditions is not None else None,
                       out["condition_codes"] if conditions is not None else None,
                       texts_unique=bool(out["texts_exact_str"]))
    if out is None:
        out = _core._screen_columns(kb, batch.medication_texts, batch.regimen_offsets, batch.medication_codes,
                                    batch.condition_texts, batch.condition_offsets, batch.condition_codes,
                                    min_severity, bool(duplicate_therapy), kind_list, int(threads), core_arrow,
                                    not _rows_only)
    return out, batch, options


# Per knowledge base (keyed by its screen serial, unique for the life of the process): the rule and
# substance ids that the core's codes index, converted once. A few knowledge bases at most.
_ID_CACHE: dict = {}
_ID_CACHE_SIZE = 4
_ID_LOCK = threading.Lock()


class _Ids:
    """Rule and substance ids of one knowledge base, as pandas dtypes or pyarrow arrays on demand."""

    def __init__(self, rules: list, substances: list) -> None:
        self.rules, self.substances = rules, substances
        self._converted: dict = {}

    def get(self, what: str, convert: Any) -> Any:
        value = self._converted.get(what)
        if value is None:
            value = self._converted[what] = convert(getattr(self, what.split(":")[0]))
        return value


def _ids_of(kb: KnowledgeBase, serial: int) -> _Ids:
    with _ID_LOCK:
        ids = _ID_CACHE.get(serial)
        if ids is None:
            got_serial, rules, substances = _core._screen_ids(kb)
            if got_serial != serial:  # cannot happen: the serial is the knowledge base's own
                raise RuntimeError("screen(): knowledge base id table mismatch")
            while len(_ID_CACHE) >= _ID_CACHE_SIZE:
                _ID_CACHE.pop(next(iter(_ID_CACHE)))
            ids = _ID_CACHE[serial] = _Ids(rules, substances)
        return ids


def _unique_categories(np: Any, texts: list, codes: Any) -> tuple[list, Any]:
    """Categories must be unique: texts equal after str() (e.g. 1 and "1") share a code."""
    if len(set(texts)) == len(texts):
        return texts, codes
    first: dict = {}
    remap = np.array([first.setdefault(t, len(first)) for t in texts], dtype=np.int32)
    return list(first), np.where(codes >= 0, remap[np.maximum(codes, 0)], -1).astype(np.int32)


_FIXED_DTYPES: dict = {}


def _categorical_dtype(pd: Any, categories: Any, ordered: bool) -> Any:
    """A CategoricalDtype over categories known to be unique and non-null (the knowledge base's
    ids, the batch's distinct texts after _unique_categories): pandas' check of that (hashing
    every category) is skipped where pandas offers the fast path, which it uses itself."""
    index = pd.Index(categories, dtype=object, copy=False)
    fast = getattr(pd.CategoricalDtype, "_from_fastpath", None)
    if fast is not None:
        try:
            return fast(index, ordered)
        except TypeError:  # another signature: the checked constructor below
            pass
    return pd.CategoricalDtype(index, ordered=ordered)


def _tables(np: Any, out: dict, batch: _Batch, ids: _Ids, as_arrow: bool,
            arrow_text: bool = False) -> tuple[Any, Any]:
    regimen = out["regimen"]
    med_a, med_b, cond = out["medication_a"], out["medication_b"], out["condition"]
    # A set of 77,455 texts took 5.7 ms of every population screen: skipped when the texts are
    # known distinct, and for string columns, whose values repeated texts cannot change.
    if batch.texts_unique or arrow_text:
        med_texts, cond_texts = batch.medication_texts, batch.condition_texts
    else:
        med_texts, med_a = _unique_categories(np, list(batch.medication_texts), med_a)
        if len(med_texts) != len(batch.medication_texts):
            _, med_b = _unique_categories(np, list(batch.medication_texts), med_b)
        cond_texts, cond = _unique_categories(np, list(batch.condition_texts), cond)
    # Rules and substances: only those present become categories (in order of appearance), taken
    # from the knowledge base's id lists converted once (no str is built per call).
    rule_order, sub_order = out["rule_order"], out["substance_order"]
    rule_codes, sub_a, sub_b = out["rule"], out["substance_a"], out["substance_b"]
    with_summary = "summary_max_severity" in out  # not when the caller asked for the rows only
    if with_summary:
        max_sev = out["summary_max_severity"]
        um, uc = out["summary_unresolved_medications"], out["summary_unresolved_conditions"]
    if as_arrow or arrow_text:
        pa = require("pyarrow")
        # Built by the core from the ids' bytes (no Python str); taken from the knowledge base's
        # id arrays only when the core could not (more than 2 GiB of ids).
        rule_cats = (_arrow_strings(pa, out["rule_dictionary"]) if out.get("rule_dictionary") is not None else
                     ids.get("rules:arrow", lambda v: pa.array(v, type=pa.string())).take(rule_order))
        sub_cats = (_arrow_strings(pa, out["substance_dictionary"]) if out.get("substance_dictionary") is not None else
                    ids.get("substances:arrow", lambda v: pa.array(v, type=pa.string())).take(sub_order))
    else:
        rule_cats = _core._take_objects(ids.get("rules:numpy", lambda v: np.array(v, dtype=object)), rule_order)
        sub_cats = _core._take_objects(ids.get("substances:numpy", lambda v: np.array(v, dtype=object)), sub_order)
    cat_columns = {
        "kind": (out["kind"], KINDS, False),
        "severity": (out["severity"], SEVERITIES, True),
        "evidence": (out["evidence"], EVIDENCE, False),
        "rule": (rule_codes, rule_cats, False),
        "medication_a": (med_a, med_texts, False),
        "medication_b": (med_b, med_texts, False),
        "substance_a": (sub_a, sub_cats, False),
        "substance_b": (sub_b, sub_cats, False),
        "condition": (cond, cond_texts, False),
    }
    if as_arrow:
        pa = require("pyarrow")
        dictionaries: dict = {}

        def cat(codes: Any, categories: Any, ordered: bool) -> Any:
            # As dtype_of below: the fixed lists' dictionaries once per process, the others once per call.
            fixed = categories is KINDS or categories is SEVERITIES or categories is EVIDENCE
            cache = _FIXED_ARROW if fixed else dictionaries
            key = id(categories)
            if key not in cache:
                cache[key] = categories if isinstance(categories, pa.Array) else _arrow_texts(pa, categories)
            dictionary = cache[key]
            # Arrow's own check of the indices (safe=True) took half of each column's time; the
            # same check, that every index present is inside the dictionary, is one numpy max.
            if len(codes) and int(codes.max()) >= len(dictionary):
                raise RuntimeError("screen(): a category code outside its categories")  # cannot happen
            return pa.DictionaryArray.from_arrays(_arrow_int32(pa, np, codes), dictionary, ordered=ordered, safe=False)

        def opt_int(values: Any) -> Any:
            return _arrow_int32(pa, np, values)

        row_ids = batch_ids_arrow(pa, np, batch.regimen_ids, regimen)
        summary_ids = batch_ids_arrow(pa, np, batch.regimen_ids, None)
        make_table: Any = pa.table
    else:
        pd = require("pandas")

        dtypes: dict = {}

        def dtype_of(categories: Any, ordered: bool) -> Any:
            # One dtype per category list: its uniqueness is checked once, not once per column;
            # the fixed lists (kinds, severities, evidence) once per process.
            fixed = categories is KINDS or categories is SEVERITIES or categories is EVIDENCE
            cache = _FIXED_DTYPES if fixed else dtypes
            key = (id(categories), ordered)
            if key not in cache:
                cache[key] = (_categorical_dtype(pd, categories, ordered), categories)
            return cache[key][0]

        text_dtype = pd.StringDtype("pyarrow") if arrow_text else None
        text_dictionaries: dict = {}

        def cat(codes: Any, categories: Any, ordered: bool) -> Any:
            if arrow_text and not (categories is KINDS or categories is SEVERITIES or categories is EVIDENCE):
                # string[pyarrow] values taken from the column's dictionary (missing where the code
                # is -1); large_string first, which pandas keeps without a cast.
                key = id(categories)
                if key not in text_dictionaries:
                    arr = categories if isinstance(categories, pa.Array) else _arrow_texts(pa, categories)
                    text_dictionaries[key] = arr.cast(pa.large_string())
                dictionary = text_dictionaries[key]
                if len(codes) and int(codes.max()) >= len(dictionary):
                    raise RuntimeError("screen(): a category code outside its categories")  # cannot happen
                return pd.array(dictionary.take(_arrow_int32(pa, np, codes)), dtype=text_dtype)
            return pd.Categorical.from_codes(codes, dtype=dtype_of(categories, ordered), validate=False)

        def opt_int(values: Any) -> Any:
            return pd.arrays.IntegerArray(values.astype(np.int32, copy=False), values < 0)

        summary_ids = batch.regimen_ids
        if not isinstance(summary_ids, np.ndarray):  # ids of a pyarrow Table, answered as pandas
            summary_ids = summary_ids.to_pandas().to_numpy()
        row_ids = summary_ids[regimen] if len(regimen) else summary_ids[:0]

        def make_table(columns: dict) -> Any:
            # The dict's order is the columns' order: with columns= given as well, pandas builds
            # two indexes of the labels and looks every column up in one (a third of the frame's
            # construction time).
            return pd.DataFrame(columns, copy=False)

    row_cols = {"regimen": row_ids}
    for name in ROW_COLUMNS[1:]:
        if name in cat_columns:
            row_cols[name] = cat(*cat_columns[name])
        elif name in ("input_a", "input_b"):
            row_cols[name] = opt_int(out[name])
        else:
            row_cols[name] = out[name]
    if not with_summary:
        return make_table(row_cols), None
    # The summary's columns only: `out` (the rows' columns) is not kept alive by the deferred table.
    summary_in = {"regimen": summary_ids, "medications": out["summary_medications"],
                  "conditions": out["summary_conditions"], "warnings": out["summary_warnings"]}
    for name in SEVERITIES:
        summary_in[name] = out["summary_" + name]

    def summary() -> Any:
        summary_cols = dict(summary_in)
        summary_cols["max_severity"] = cat(max_sev, SEVERITIES, True)
        summary_cols["unresolved_medications"] = um
        summary_cols["unresolved_conditions"] = uc
        summary_cols["complete"] = (um == 0) & (uc == 0)
        return make_table(summary_cols)

    return make_table(row_cols), _Deferred(summary)


# The Arrow dictionaries of the fixed category lists (kinds, severities, evidence), made once.
_FIXED_ARROW: dict = {}


def _arrow_strings(pa: Any, buffers: Any) -> Any:
    """An Arrow string array over the (offsets, data) arrays the core wrote (no copy)."""
    offsets, data = buffers
    return pa.StringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(data))


def _arrow_int32(pa: Any, np: Any, values: Any) -> Any:
    """int32 values as an Arrow array, the negative ones missing. The validity bitmap is packed
    by numpy and the values are used in place: ``pa.array(values, mask=...)`` converted the mask
    value by value (50 us for 65,000 rows, eleven columns a screen)."""
    v = np.ascontiguousarray(values, dtype=np.int32)
    valid = v >= 0
    missing = len(v) - int(np.count_nonzero(valid))
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little")) if missing else None
    return pa.Array.from_buffers(pa.int32(), len(v), [bitmap, pa.py_buffer(v)], null_count=missing)


def _arrow_texts(pa: Any, texts: Any) -> Any:
    """Texts as an Arrow string array. Arrow strings are UTF-8, which a Python str holding a lone
    UTF-16 surrogate ("\\ud800") has no form in: such texts are given with each lone surrogate
    replaced by U+FFFD, as the library reads them (the pandas output keeps the caller's str)."""
    try:
        return pa.array(texts, type=pa.string())
    except UnicodeEncodeError:
        return pa.array([t.encode("utf-16", "surrogatepass").decode("utf-16", "replace") for t in texts],
                        type=pa.string())


def batch_ids_arrow(pa: Any, np: Any, ids: Any, take: Any) -> Any:
    arr = ids if isinstance(ids, (pa.Array, pa.ChunkedArray)) else pa.array(ids)
    return arr if take is None else arr.take(pa.array(take, type=pa.int64()))
