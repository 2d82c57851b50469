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
    kb = _knowledge_base(kb)
    if options["regimen_column"] not in part.columns:  # the regimen id is the index (set_index)
        part = part.reset_index()
    cond = None
    if conditions is not None:
        rc = options["regimen_column"]
        cond = conditions[conditions[rc].isin(part[rc].unique())]
    if len(part) == 0:
        return _meta(require("pandas"), part[options["regimen_column"]].dtype)
    # The text columns as string[pyarrow] straight from the core's Arrow dictionaries: no
    # categoricals of Python str to convert back afterwards: a 146,000-row partition took 49-50 ms
    # instead of 59-60 (docs/screening.md, "Ninth round").
    # Rows only: a partition's summary is not returned (its unresolved inputs are rows of their own).
    return screening.screen(kb, part, conditions=cond, _arrow_text=True, _rows_only=True, **options).rows


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
    if conditions is None:
        return rows
    # Regimens that have conditions but no medication row belong to no partition. kb.screen on the
    # whole table screens them after the others (their unresolved conditions are rows of their
    # own: never dropped), so they are one more partition at the end, made once every partition's
    # regimen ids are known.
    dd = require("dask.dataframe", "dask")
    ids = ddf.map_partitions(_regimen_ids, regimen_column, meta=meta["regimen"], align_dataframes=False)
    orphans = dask.delayed(_screen_orphans)(kb_arg, cond_arg, options, meta, *ids.to_delayed())
    return dd.concat([rows, dd.from_delayed([orphans], meta=meta, verify_meta=False)])


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
    compares the two on a population of 1,000,000 regimens). Without a distributed client (Dask's
    local schedulers concatenate in this process anyway) the partitions are computed by the
    current scheduler and concatenated the same way.

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
    if client is None:
        dask = require("dask", "dask")
        return _concat(pd, list(dask.compute(*rows.to_delayed())), rows)
    from distributed import as_completed

    if direct is None:
        direct = True if client.direct_to_workers is None else bool(client.direct_to_workers)
    futures = client.compute(rows.to_delayed())
    position = {future.key: i for i, future in enumerate(futures)}
    parts: list = [None] * len(futures)
    try:
        for batch in as_completed(futures).batches():
            for future, part in zip(batch, client.gather(batch, direct=direct)):
                parts[position[future.key]] = part
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
