"""Population screening on more than one machine: ``rxcaution.dask.screen`` over a Dask DataFrame.

Each partition is screened by ``KnowledgeBase.screen`` on a worker; the knowledge base travels to
each worker once, never once per partition: with a ``distributed`` client it is installed in every
worker process by a worker plugin (a worker that joins later gets it as it starts) and later calls
with the same knowledge base on the same client use that copy; without a client it is a single
task of the graph that every partition depends on.

    from distributed import Client
    import dask.dataframe as dd
    import rxcaution, rxcaution.dask

    client = Client("tcp://scheduler:8786")          # an existing cluster (or LocalCluster())
    ddf = dd.read_parquet("population/*.parquet")    # regimen_id, medication: long format
    kb = rxcaution.KnowledgeBase.load("pack.json")
    rows = rxcaution.dask.screen(ddf, kb)            # lazy Dask DataFrame of result rows
    rows.to_parquet("results/")                      # rows kept as files, or
    table = rxcaution.dask.collect(rows)             # into this process (faster than rows.compute())

A regimen's rows must all be in the same partition (e.g. write the files so that no regimen spans
two of them, or ``ddf.set_index("regimen_id")`` first); within a partition they are grouped as in
``KnowledgeBase.screen``. The rows of the partitions, concatenated in partition order, are then
exactly what ``kb.screen`` gives for the whole table. ``kind``, ``severity`` and ``evidence`` are
the same pandas categoricals as there (fixed category lists, known to Dask); the other text
columns (``rule``, ``medication_a/b``, ``substance_a/b``, ``condition``) are strings, dtype
``string[pyarrow]``, where ``kb.screen`` gives categoricals of the texts present: every partition
then has the same dtypes (``to_parquet`` needs that), and the rows travel between processes as
Arrow buffers, not Python objects.

Needs ``pip install 'rxcaution[dask]'``.
"""

from __future__ import annotations

import threading
from typing import Any, Optional, Sequence

from ._core import KnowledgeBase, Severity
from . import screening
from .screening import EVIDENCE, KINDS, ROW_COLUMNS, SEVERITIES, require

__all__ = ["screen", "collect"]

# kind, severity and evidence keep kb.screen's categoricals: their categories are fixed lists, the
# same in every partition (known to Dask, one byte per row). The other text columns hold input
# texts, rule and substance ids: as categoricals their categories would differ per partition, so
# Dask would union them when it concatenates partitions (0.5-0.8 s for 8 partitions of the
# 1,000,000-regimen benchmark population) and to_parquet would refuse partitions whose code width
# differs from the first one's. They travel as Arrow strings instead.
_FIXED = {"kind": (KINDS, False), "severity": (SEVERITIES, True), "evidence": (EVIDENCE, False)}
_TEXT_COLUMNS = ["rule", "medication_a", "medication_b", "substance_a", "substance_b", "condition"]


# In each worker process: the knowledge bases installed by _Install (by token).
_WORKER_VALUES: dict = {}
_WORKER_LOCK = threading.Lock()

try:  # distributed is optional: without it, screen() embeds the knowledge base in the graph
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:  # pragma: no cover - the dask extra installs distributed
    _WorkerPlugin = object


class _Install(_WorkerPlugin):  # type: ignore[misc, valid-type]
    """Installs a knowledge base in every worker process of a cluster, once (a worker that joins
    later gets it when it starts), for the partitions to find by token.

    Scattered data would not do: Dask's active memory manager drops the replicas of data no task
    is waiting for down to one (every 2 s by default), so between two calls every other worker
    would lose its copy and get it again, and unpickle it again, in the next call."""

    # The token names the knowledge base's content: a plugin of that name already on the cluster
    # (installed by another client session with the same knowledge base) is kept, not replaced.
    idempotent = True

    def __init__(self, token: str, pickled: bytes) -> None:
        # The pickle the token was computed from, so the knowledge base is serialised once.
        self.token = token
        self.pickled = pickled

    def setup(self, worker: Any) -> None:
        import pickle

        kb = pickle.loads(self.pickled)
        self.pickled = b""  # this worker's copy of the plugin: the bytes are not needed again
        with _WORKER_LOCK:
            _WORKER_VALUES[self.token] = kb

    def teardown(self, worker: Any) -> None:
        with _WORKER_LOCK:
            _WORKER_VALUES.pop(self.token, None)


class _Installed:
    """A knowledge base installed on the workers, named in the graph by its token alone.

    The graph's keys also depend on the installation (`nonce`): the token names the content, and
    rows computed while their knowledge base was no longer installed leave failed keys behind,
    which a new call with the same keys would otherwise be given instead of a new computation."""

    __slots__ = ("token", "nonce")

    def __init__(self, token: str, nonce: str) -> None:
        self.token = token
        self.nonce = nonce

    def __getstate__(self) -> Any:
        return self.token

    def __setstate__(self, token: Any) -> None:
        self.token = token
        self.nonce = ""

    def __dask_tokenize__(self) -> Any:
        return ("rxcaution.dask._Installed", self.token, self.nonce)

    def get(self) -> KnowledgeBase:
        with _WORKER_LOCK:
            kb = _WORKER_VALUES.get(self.token)
        if kb is None:
            raise RuntimeError("rxcaution.dask: the knowledge base of these rows is no longer installed on this worker "
                               f"(at most {_INSTALLED_PER_CLIENT} knowledge bases are kept per client, the most "
                               "recently screened): call rxcaution.dask.screen again")
        return kb


def _knowledge_base(kb: Any) -> KnowledgeBase:
    """The knowledge base a graph task was given: installed on this worker, or passed as data."""
    return kb.get() if isinstance(kb, _Installed) else kb


def _screen_partition(part: Any, kb: Any, conditions: Any, options: dict) -> Any:
    """The rows of one partition (the tasks of screen()'s Dask DataFrame)."""
    return _rows(_screen_compact(part, kb, conditions, options))


# The core's columns that _rows needs to build a partition's rows (screening._tables).
_COMPACT_COLUMNS = ("regimen", "kind", "severity", "evidence", "rule", "input_a", "input_b", "medication_a",
                    "medication_b", "substance_a", "substance_b", "condition", "superseded", "implicated",
                    "rule_order", "substance_order", "rule_dictionary", "substance_dictionary")


class _Screened:
    """A partition screened, its rows not built yet: the core's integer columns and the Arrow
    dictionaries of texts they index. The rows of the benchmark population are 137 bytes each (six
    string columns); this is 64 bytes a row. collect() has the workers send this and builds
    the rows in the client (_rows: the same code, on the same values, as on a worker)."""

    def __init__(self, out: dict, batch: Any) -> None:
        self.out, self.batch = out, batch


def _screen_compact(part: Any, kb: Any, conditions: Any, options: dict) -> Any:
    """One partition screened, as a _Screened (or as its rows when it has none, or when the core
    gave no Arrow dictionaries of the rule and substance ids: the rows are then built here, with
    this process's copy of the knowledge base)."""
    kb = _knowledge_base(kb)
    pd = require("pandas")
    if options["regimen_column"] not in part.columns:  # the regimen id is the index (set_index)
        part = part.reset_index()
    cond = None
    if conditions is not None:
        rc = options["regimen_column"]
        cond = conditions[conditions[rc].isin(part[rc].unique())]
    if len(part) == 0:
        return _meta(pd, part[options["regimen_column"]].dtype)
    # The text columns as string[pyarrow] straight from the core's Arrow dictionaries: no
    # categoricals of Python str to convert back afterwards: a 146,000-row partition took 49-50 ms
    # instead of 59-60 (docs/screening.md, "Ninth round").
    # Rows only: a partition's summary is not returned (its unresolved inputs are rows of their own).
    out, batch, _ = screening._screen_out(kb, part, conditions=cond, as_arrow=False, _arrow_text=True,
                                          _rows_only=True, **options)
    np = require("numpy")
    if out.get("rule_dictionary") is None or out.get("substance_dictionary") is None:
        return screening._tables(np, out, batch, screening._ids_of(kb, int(out["rule_serial"])), False, True)[0]
    pa = require("pyarrow")
    regimen = out["regimen"]
    if len(batch.regimen_ids) <= np.iinfo(np.int32).max:
        regimen = regimen.astype(np.int32)
    columns = {name: out[name] for name in _COMPACT_COLUMNS}
    columns["regimen"] = regimen
    # The texts as Arrow arrays (buffers, not one Python str each, between processes).
    texts = screening._Batch(batch.regimen_ids, screening._arrow_texts(pa, batch.medication_texts), None, None,
                             screening._arrow_texts(pa, batch.condition_texts), None, None)
    return _Screened(columns, texts)


def _rows(screened: Any) -> Any:
    """A partition's rows from _screen_compact's result."""
    if not isinstance(screened, _Screened):
        return screened
    return screening._tables(require("numpy"), screened.out, screened.batch, None, False, True)[0]


def _meta(pd: Any, regimen_dtype: Any) -> Any:
    """A result with no rows and the dtypes of every partition's result."""
    text = pd.StringDtype("pyarrow")
    columns: dict = {}
    for name in ROW_COLUMNS:
        if name == "regimen":
            columns[name] = pd.Series([], dtype=regimen_dtype)
        elif name in _FIXED:
            categories, ordered = _FIXED[name]
            columns[name] = pd.Series(pd.Categorical([], categories=categories, ordered=ordered))
        elif name in _TEXT_COLUMNS:
            columns[name] = pd.Series([], dtype=text)
        elif name in ("input_a", "input_b"):
            columns[name] = pd.Series([], dtype="Int32")
        else:
            columns[name] = pd.Series([], dtype="int32")
    return pd.DataFrame(columns)


# Knowledge bases installed on the workers, per client: (client id, kb id) -> (client, kb, token,
# nonce of this installation).
# A later call on the same client finds the copy the workers hold (shipping and unpickling a large
# knowledge base takes about a second; the screen of a partition takes milliseconds). Entries
# whose client has closed are dropped; at most a few knowledge bases per client are kept
# (the oldest is removed from the workers). The token is a digest of the knowledge base's
# snapshot, so a cluster that outlives its clients holds one copy per distinct knowledge base,
# not one per client session.
_INSTALLED: dict = {}
_INSTALLED_PER_CLIENT = 2


def _installed(client: Any, kb: KnowledgeBase) -> _Installed:
    import hashlib
    import pickle
    import uuid

    for key in [k for k, entry in _INSTALLED.items() if entry[0].status in ("closed", "closing")]:
        del _INSTALLED[key]
    key = (id(client), id(kb))
    entry = _INSTALLED.get(key)
    # The kb itself is kept in the entry, so its id() cannot be reused by another knowledge base.
    if entry is not None and entry[1] is kb:
        return _Installed(entry[2], entry[3])
    mine = [k for k in _INSTALLED if k[0] == id(client)]
    while len(mine) >= _INSTALLED_PER_CLIENT:
        client.unregister_worker_plugin(_INSTALLED.pop(mine.pop(0))[2])
    pickled = pickle.dumps(kb, protocol=pickle.HIGHEST_PROTOCOL)  # its snapshot
    token = "rxcaution-kb-" + hashlib.blake2b(pickled, digest_size=16).hexdigest()
    client.register_plugin(_Install(token, pickled), name=token)
    nonce = uuid.uuid4().hex
    _INSTALLED[key] = (client, kb, token, nonce)
    return _Installed(token, nonce)


def screen(ddf: Any, kb: Optional[KnowledgeBase] = None, *, conditions: Any = None,
           regimen_column: str = "regimen_id", medication_column: str = "medication",
           condition_column: str = "condition", min_severity: Severity = Severity.MINOR,
           kinds: Optional[Sequence[Any]] = None, duplicate_therapy: bool = True, threads: int = 1) -> Any:
    """Screens a Dask DataFrame in long format, partition by partition (lazy).

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        One row per medication (``regimen_column``, ``medication_column``); each regimen within
        one partition.
    kb : KnowledgeBase or distributed.Future, optional
        The knowledge base (default: the built-in pack). Installed in each worker process once:
        later calls with the same knowledge base on the same client use the workers' copy (the
        last two knowledge bases per client are kept; rows of an older one can no longer be
        computed and say so). A Future of ``client.scatter(kb, broadcast=True)`` is used as it
        is, as data the partitions depend on.
    conditions : pandas.DataFrame, optional
        Conditions in long format (``regimen_column``, ``condition_column``); sent once like kb.
        Regimens that have conditions but no medication row are screened in one more partition at
        the end, as ``kb.screen`` screens them after the others (an unknown condition of theirs is a
        row of its own); that partition waits for every partition's regimen ids.
    min_severity, kinds, duplicate_therapy
        As for :meth:`KnowledgeBase.screen`.
    threads : int, default 1
        Threads per partition (Dask already runs one task per worker thread).

    Returns
    -------
    dask.dataframe.DataFrame
        The result rows (columns of ``KnowledgeBase.screen``'s ``rows``; ``kind``, ``severity`` and
        ``evidence`` categoricals as there, the other text columns as ``string[pyarrow]``).
    """
    dask = require("dask", "dask")
    require("dask.dataframe", "dask")
    pd = require("pandas", "dask")
    if kb is None:
        kb = KnowledgeBase.builtin()
    options = {"regimen_column": regimen_column, "medication_column": medication_column,
               "condition_column": condition_column, "min_severity": min_severity, "kinds": kinds,
               "duplicate_therapy": duplicate_therapy, "threads": threads}
    for column in (regimen_column, medication_column):
        if column not in ddf.columns and not (column == regimen_column and ddf.index.name == column):
            raise KeyError(f"screen(): no column {column!r} (columns: {', '.join(map(str, ddf.columns))})")
    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):
        client = None

    def once(value: Any) -> Any:
        """`value` for every partition, sent once: a knowledge base is installed in every worker
        process when a client is active (see _Install), other data scattered to every worker;
        without a client, one graph task that every partition depends on."""
        # A Future is passed as it is: wrapped in dask.delayed it would become a new task per call,
        # and the knowledge base would be copied between the workers again each time (measured:
        # about 6 s per call for the DDInter-derived pack, against 0.1 s).
        if type(value).__name__ == "Future":  # already scattered by the caller
            return value
        if client is not None:
            return _installed(client, value) if isinstance(value, KnowledgeBase) else \
                client.scatter(value, broadcast=True, hash=False)
        return dask.delayed(value, pure=True)

    kb_arg = once(kb)
    cond_arg = None if conditions is None else once(conditions)
    meta = _meta(pd, (ddf[regimen_column] if regimen_column in ddf.columns else ddf.index).dtype)
    rows = ddf.map_partitions(_screen_partition, kb_arg, cond_arg, options, meta=meta, align_dataframes=False)
    if conditions is not None:
        dd = require("dask.dataframe", "dask")
        rows = dd.concat([rows, dd.from_delayed([_orphans(ddf, kb_arg, cond_arg, options, meta)], meta=meta,
                                                verify_meta=False)])
    # How collect() gets these rows with less to send (see _compact_tasks): kept on this object
    # only, so anything derived from it (filtered, persisted) is collected as it is.
    object.__setattr__(rows, _PLAN, (ddf, kb_arg, cond_arg, options, meta))
    return rows


# The attribute of screen()'s result that collect() reads.
_PLAN = "_rxcaution_screen_plan"


def _orphans(ddf: Any, kb_arg: Any, cond_arg: Any, options: dict, meta: Any) -> Any:
    """Regimens that have conditions but no medication row belong to no partition. kb.screen on the
    whole table screens them after the others (their unresolved conditions are rows of their own:
    never dropped), so they are one more partition at the end (a Delayed), made once every
    partition's regimen ids are known."""
    dask = require("dask", "dask")
    ids = ddf.map_partitions(_regimen_ids, options["regimen_column"], meta=meta["regimen"], align_dataframes=False)
    return dask.delayed(_screen_orphans)(kb_arg, cond_arg, options, meta, *ids.to_delayed())


def _compact_tasks(ddf: Any, kb_arg: Any, cond_arg: Any, options: dict, meta: Any) -> list:
    """screen()'s partitions as Delayed _Screened values (_screen_compact), then the orphans'
    rows when there are conditions: in the order of screen()'s partitions."""
    dask = require("dask", "dask")
    compact = dask.delayed(_screen_compact)
    tasks = [compact(part, kb_arg, cond_arg, options) for part in ddf.to_delayed()]
    if cond_arg is not None:
        tasks.append(_orphans(ddf, kb_arg, cond_arg, options, meta))
    return tasks


def _regimen_ids(part: Any, regimen_column: str) -> Any:
    pd = require("pandas", "dask")
    ids = part[regimen_column] if regimen_column in part.columns else part.index.to_series()
    return pd.Series(ids.unique(), dtype=ids.dtype, name="regimen")


def _screen_orphans(kb: Any, conditions: Any, options: dict, meta: Any, *ids: Any) -> Any:
    """The rows of the regimens that only the conditions table names, as kb.screen gives them."""
    kb = _knowledge_base(kb)
    pd = require("pandas", "dask")
    rc = options["regimen_column"]
    present = pd.concat(list(ids), ignore_index=True) if ids else pd.Series([], dtype=conditions[rc].dtype)
    alone = conditions[~conditions[rc].isin(present)]
    if len(alone) == 0:
        return meta
    none = pd.DataFrame({rc: pd.Series([], dtype=alone[rc].dtype),
                         options["medication_column"]: pd.Series([], dtype=object)})
    return screening.screen(kb, none, conditions=alone, _arrow_text=True, _rows_only=True, **options).rows


def collect(rows: Any, client: Any = None, *, direct: Optional[bool] = None) -> Any:
    """The rows of ``screen`` (or of any Dask DataFrame) as one pandas DataFrame in this process.

    With a ``distributed`` client (``client``, or else the default one), every partition is fetched
    straight from the worker that holds it as soon as it is done, while the others are still being
    screened, and the partitions are concatenated here, in partition order. ``rows.compute()``
    gives the same rows, but Dask first moves every partition onto one worker, concatenates them
    there, and sends the whole table to the client through the scheduler: the rows cross between
    processes three times, and nothing moves before the last partition is done (docs/screening.md
    compares the two on a population of 1,000,000 regimens). When ``rows`` is the DataFrame
    :func:`screen` returned (not one derived from it: filtered, persisted...), each worker sends its
    partition's integer columns and the texts they index, 64 bytes a row instead of the 137 of the
    rows on the benchmark population, and the rows are built here: the same rows. Without a
    distributed client (Dask's local schedulers concatenate in this process anyway) the
    partitions are computed by the current scheduler and concatenated the same way.

    Parameters
    ----------
    rows : dask.dataframe.DataFrame
        E.g. the result of :func:`screen`.
    client : distributed.Client, optional
        The client to compute with (default: the current client, if any).
    direct : bool, optional
        Fetch the partitions from the workers directly (default: the client's
        ``direct_to_workers`` setting when one was made, else True). When this process cannot
        reach the workers, pass False: the scheduler relays them (Dask also falls back to the
        scheduler for a partition it could not fetch directly, after its connect timeout).

    Returns
    -------
    pandas.DataFrame
        The rows with a fresh ``RangeIndex`` (as ``KnowledgeBase.screen``'s ``rows``) when every
        partition has a RangeIndex, as ``screen``'s partitions do; otherwise the partitions'
        index, as ``compute()`` gives it. The dtypes of the partitions. Peak memory in this
        process: the partitions plus their concatenation.

    Raises
    ------
    Exception
        The first error a partition raised on a worker (the other partitions are released).
    """
    pd = require("pandas", "dask")
    require("dask.dataframe", "dask")
    if client is None:
        try:
            from distributed import get_client

            client = get_client()
        except (ImportError, ValueError):
            client = None
    # screen()'s own result: its partitions are sent as _Screened (64 bytes a row instead of 137 on
    # the benchmark population) and their rows built here, the same rows compute() gives. Anything
    # else: its partitions.
    plan = getattr(rows, "__dict__", {}).get(_PLAN)
    tasks = _compact_tasks(*plan) if plan is not None else rows.to_delayed()
    if client is None:
        dask = require("dask", "dask")
        return _concat(pd, [_rows(part) for part in dask.compute(*tasks)], rows)
    from distributed import as_completed

    if direct is None:
        direct = True if client.direct_to_workers is None else bool(client.direct_to_workers)
    futures = client.compute(tasks)
    position = {future.key: i for i, future in enumerate(futures)}
    parts: list = [None] * len(futures)
    try:
        for batch in as_completed(futures).batches():
            for future, part in zip(batch, client.gather(batch, direct=direct)):
                parts[position[future.key]] = _rows(part)
    finally:
        # Only this call's references: a partition someone else holds (e.g. persisted rows) stays.
        for future in futures:
            future.release()
    return _concat(pd, parts, rows)


def _concat(pd: Any, parts: list, rows: Any) -> Any:
    """The partitions in order. Partitions that each carry a RangeIndex (as screen's do) get one
    fresh RangeIndex; any other index is kept, as compute() keeps it."""
    if not parts:
        return rows._meta.copy()
    if all(isinstance(part.index, pd.RangeIndex) for part in parts):
        return pd.concat(parts, ignore_index=True)
    return pd.concat(parts)
