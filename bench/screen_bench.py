"""Population screening throughput (issue 11), in one run, on the DDInter-derived pack.

Contenders on the same synthetic population (bench/population.py: Zipf-like drug popularity,
2-20 medications per regimen skewed to small lists, some misspellings and unknown names):

* dict peer: a dict of lower-cased name pairs, every pair of a regimen looked up (bench/peers.py);
* ``kb.check`` in a loop;
* ``kb.screen`` on 1 and 2 threads, with the regimens as a list of lists of str (the form the dict
  peer and the ``kb.check`` loop get them in), as a pandas long DataFrame with a str medication
  column, and as the same DataFrame with a categorical (dictionary-encoded) medication column;
* the C++ screen alone on 1 and 2 threads (the regimens dictionary-encoded beforehand: no Python
  list read, no table built);
* ``rxcaution.dask.screen`` on a ``LocalCluster`` with 2 worker processes (1 thread each), the
  long table written as 8 Parquet files of consecutive regimens: against the single-process
  2-thread DataFrame screen (the issue's target), timed in alternation on the running cluster with
  the knowledge base shipped, for the rows gathered into the client (``compute``, from partitions
  already in the cluster and from the files; and with ``rxcaution.dask.collect``, which fetches
  each partition as it finishes), kept in the cluster (``persist``) and written as
  Parquet (``to_parquet``); cluster start-up, shipping and the first call are reported apart.

Throughput is pair-evaluations per second: the sum over regimens of n(n-1)/2 for n medications.
The loops use CPU time of the process (the machine is shared), screen and Dask wall time.
Optionally (--cli-regimens N) the command line screens an N-regimen Parquet file and its time and
peak resident memory are read from ``/usr/bin/time -v``.

    python bench/screen_bench.py                         # 200,000 regimens
    python bench/screen_bench.py --regimens 1000000 --cli-regimens 1000000 --json out.json

The DDInter CSVs are read from ../shared/datasets/ddinter (never copied into the repository); the
script exits 0 with a message when they are absent.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import ddinter_pack  # noqa: E402  (sibling scripts)
import peers  # noqa: E402
import population  # noqa: E402


def pair_evals(regimens: list[list[str]]) -> int:
    return sum(len(r) * (len(r) - 1) // 2 for r in regimens)


def best_of(fn, repeats: int, clock=time.perf_counter) -> float:
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return min(times) if repeats > 2 else statistics.median(times)


def split_parquet(frame, partitions: int, directory: Path) -> Path:
    """The long table as `partitions` Parquet files of consecutive regimens (no regimen split), the
    way a population extract is usually written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.parquet"):
        old.unlink()
    ids = frame["regimen_id"].to_numpy()
    bounds = [ids.min() + (ids.max() - ids.min() + 1) * k // partitions for k in range(partitions + 1)]
    for k, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
        part = frame[(frame.regimen_id >= lo) & (frame.regimen_id < hi)]
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), directory / f"part-{k:03d}.parquet")
    return directory


def run_dask(kb, frame, partitions: int, work: Path, repeats: int, glibc_malloc: bool = False) -> dict:
    """Dask on a LocalCluster of 2 worker processes (1 thread each) against the single-process
    2-thread screen, timed in alternation (best of `repeats`), for three ways of using the result:

    * ``compute``: the rows end in the client's memory as one DataFrame (the partitions in the
      cluster already, as after ``persist``; and from the Parquet files, reading included on both
      sides);
    * ``collect`` (``rxcaution.dask.collect``): the same, each partition fetched as it finishes
      and concatenated in the client;
    * ``persist``: the rows stay in the cluster's memory (from the Parquet files);
    * ``to_parquet``: the rows are written as Parquet (from the Parquet files; one file for the
      single process, one per partition for Dask).
    The cluster start-up, shipping the knowledge base and a first call are timed apart.

    Dask starts its worker processes with MALLOC_TRIM_THRESHOLD_=65536 (its
    ``distributed.nanny.pre-spawn-environ``), which also fixes glibc's mmap threshold at 128 KiB:
    every block of 128 KiB and more a partition allocates is then a fresh mapping, paid for in page
    faults (9,300 for a partition of 125,000 regimens: 68 ms against 52 ms). ``glibc_malloc``
    unsets it for this cluster (Dask's documented way: the variable set to None)."""
    try:
        import dask.dataframe as dd
        import pandas as pd
        from distributed import Client, LocalCluster, wait

        import rxcaution.dask as rx_dask
    except ImportError as exc:
        return {"error": f"not available ({exc})"}
    import shutil

    source = split_parquet(frame, partitions, work / "population-parts")
    out_dir = work / "dask-results"
    single_out = work / "screen-results-single.parquet"
    import dask

    begin = time.perf_counter()
    environ = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None} if glibc_malloc else {}
    with dask.config.set(environ), LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                                host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.wait_for_workers(2)
        started = time.perf_counter() - begin
        persisted = dd.read_parquet(str(source)).persist()
        wait(persisted)
        start = time.perf_counter()
        # The knowledge base, installed once in each worker process by the first screen() on this
        # client; the later calls use the workers' copy.
        rx_dask.screen(persisted, kb)
        shipped = time.perf_counter() - start
        start = time.perf_counter()
        n = len(client.compute(rx_dask.screen(persisted, kb)).result())  # imports, first touch on workers
        first = time.perf_counter() - start

        def dask_persist():
            rows = rx_dask.screen(dd.read_parquet(str(source)), kb).persist()
            wait(rows)
            client.cancel(rows)

        def dask_to_parquet():
            shutil.rmtree(out_dir, ignore_errors=True)
            rx_dask.screen(dd.read_parquet(str(source)), kb).to_parquet(str(out_dir), write_index=False)

        contenders = {
            "single, in memory": lambda: kb.screen(frame, threads=2),
            "dask compute, partitions in the cluster": lambda: client.compute(
                rx_dask.screen(persisted, kb)).result(),
            "single, read Parquet + screen": lambda: kb.screen(pd.read_parquet(source), threads=2),
            "dask compute from Parquet": lambda: client.compute(
                rx_dask.screen(dd.read_parquet(str(source)), kb)).result(),
            "dask collect, partitions in the cluster": lambda: rx_dask.collect(
                rx_dask.screen(persisted, kb)),
            "dask collect from Parquet": lambda: rx_dask.collect(
                rx_dask.screen(dd.read_parquet(str(source)), kb)),
            "dask persist from Parquet": dask_persist,
            "single, read Parquet + screen + write Parquet": lambda: kb.screen(
                pd.read_parquet(source), threads=2).rows.to_parquet(single_out),
            "dask to_parquet from Parquet": dask_to_parquet,
        }
        times: dict = {name: [] for name in contenders}
        for _ in range(repeats):
            for name, fn in contenders.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    best = {name: min(values) for name, values in times.items()}
    ratios = {
        "compute, partitions in the cluster / screen in memory": best["dask compute, partitions in the cluster"]
        / best["single, in memory"],
        "compute from Parquet / read + screen": best["dask compute from Parquet"]
        / best["single, read Parquet + screen"],
        "collect, partitions in the cluster / screen in memory": best["dask collect, partitions in the cluster"]
        / best["single, in memory"],
        "collect from Parquet / read + screen": best["dask collect from Parquet"]
        / best["single, read Parquet + screen"],
        "persist from Parquet / read + screen": best["dask persist from Parquet"]
        / best["single, read Parquet + screen"],
        "to_parquet / read + screen + write": best["dask to_parquet from Parquet"]
        / best["single, read Parquet + screen + write Parquet"],
    }
    print(f"  (Dask, {partitions} partitions: cluster start-up {started:.2f} s, shipping the knowledge base to both "
          f"workers {shipped:.2f} s, first call {first:.2f} s; {n:,} rows)")
    for name, seconds in best.items():
        print(f"    {name:<48} {seconds:7.3f} s")
    for name, ratio in ratios.items():
        print(f"    Dask / single process 2 threads, {name}: {ratio:.2f}x")
    return {"seconds": best["dask collect, partitions in the cluster"], "best": best, "ratios": ratios,
            "with_startup": started + shipped + first, "startup": started, "ship_kb": shipped, "first_call": first,
            "rows": n}


def run_cli(pack: Path, parquet: Path, out: Path) -> dict:
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "rxcaution", "screen", str(parquet), "--out", str(out),
           "--pack", str(pack), "--allow-unresolved"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", proc.stderr)
    seconds = None
    if wall:
        parts = [float(p) for p in wall.group(1).split(":")]
        seconds = sum(p * 60 ** (len(parts) - 1 - k) for k, p in enumerate(parts))
    return {"exit": proc.returncode, "peak_rss_mb": int(rss.group(1)) / 1024 if rss else None, "seconds": seconds,
            "summary": proc.stdout.strip().splitlines()[:4], "output_mb": out.stat().st_size / 1e6 if out.exists() else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ddinter", type=Path, default=ddinter_pack.DEFAULT_DDINTER)
    parser.add_argument("--regimens", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--check-sample", type=int, default=50_000, help="regimens timed for the loops")
    parser.add_argument("--dask-partitions", type=int, default=8)
    parser.add_argument("--dask-glibc-malloc", action="store_true",
                        help="start the Dask workers without Dask's MALLOC_TRIM_THRESHOLD_ (see run_dask)")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--cli-regimens", type=int, default=0, help="also time the CLI on a Parquet file this big")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the pack and files here (default: temp)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not ddinter_pack.dataset_files(args.ddinter):
        print(f"DDInter dataset not found at {args.ddinter}: nothing to measure (it is not part of the repository).")
        return 0
    import pandas as pd

    import rxcaution

    tmp = tempfile.TemporaryDirectory() if args.workdir is None else None
    work = Path(tmp.name) if tmp else args.workdir
    work.mkdir(parents=True, exist_ok=True)
    pack_path = work / "ddinter-pack.json"
    if not pack_path.exists():
        data = ddinter_pack.read_ddinter(args.ddinter)
        ddinter_pack.write_pack(ddinter_pack.build_pack(data, ddinter_pack.select_pairs(data, None)), pack_path)
    kb = rxcaution.KnowledgeBase.load(str(pack_path), max_file_bytes=1 << 30)
    substances, _ = population.pack_names(pack_path)
    regs = [meds for _, meds in population.regimens(substances, args.regimens, seed=args.seed, zipf=0.8, min_size=2,
                                                     max_size=20, misspell_rate=0.02, unknown_rate=0.01)]
    frame = pd.DataFrame([(i, m) for i, meds in enumerate(regs) for m in meds], columns=["regimen_id", "medication"])
    evals = pair_evals(regs)
    sample = regs[: args.check_sample]
    sample_evals = pair_evals(sample)
    print(f"population: {len(regs):,} regimens, {len(frame):,} medications (mean {len(frame) / len(regs):.2f}), "
          f"{evals:,} pair-evaluations; pack {kb.info.name} {kb.info.version}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    results: dict[str, float | str] = {}

    pairs = peers.dict_peer_load(ddinter_pack.dataset_files(args.ddinter))
    results["dict peer loop"] = sample_evals / best_of(lambda: [peers.dict_peer_check(pairs, r) for r in sample],
                                                       args.repeats, time.process_time)
    results["kb.check loop"] = sample_evals / best_of(lambda: [kb.check(r) for r in sample], args.repeats,
                                                      time.process_time)
    # On one thread CPU time is also shown: on a shared machine it leaves out the time other
    # processes held the core (the loops above use it too).
    results["kb.screen list, 1 thread (CPU time)"] = evals / best_of(lambda: kb.screen(regs, threads=1), args.repeats,
                                                                    time.process_time)
    for threads in (1, 2):
        results[f"kb.screen list, {threads} thread{'s' * (threads > 1)}"] = evals / best_of(
            lambda t=threads: kb.screen(regs, threads=t), args.repeats)
    # The C++ screen alone: the same regimens dictionary-encoded beforehand (bench/peers.py's
    # engine_call), so no Python list is read and no table is built: what the core does per regimen.
    engine = peers.engine_call(rxcaution, kb, regs)
    if engine is not None:
        for threads in (1, 2):
            results[f"C++ screen alone, {threads} thread{'s' * (threads > 1)}"] = evals / best_of(
                lambda t=threads: engine(t), args.repeats)
    results["kb.screen DataFrame, 1 thread"] = evals / best_of(lambda: kb.screen(frame, threads=1), args.repeats)
    results["kb.screen DataFrame, 2 threads"] = evals / best_of(lambda: kb.screen(frame, threads=2), args.repeats)
    # The same table with its medication column dictionary-encoded (pandas Categorical), as a
    # Parquet file written with dictionary encoding or read_csv(dtype="category") gives it.
    categorical = frame.astype({"medication": "category"})
    results["kb.screen DataFrame categorical, 1 thread"] = evals / best_of(
        lambda: kb.screen(categorical, threads=1), args.repeats)
    results["kb.screen DataFrame categorical, 1 thread (CPU time)"] = evals / best_of(
        lambda: kb.screen(categorical, threads=1), args.repeats, time.process_time)
    dask_info = None
    if not args.no_dask:
        dask_info = run_dask(kb, frame, args.dask_partitions, work, args.repeats, args.dask_glibc_malloc)
        if "error" in dask_info:
            results["rxcaution.dask.screen, 2 workers"] = dask_info["error"]
        else:
            # The rows into the client the faster way (rxcaution.dask.collect), partitions in the cluster.
            results["rxcaution.dask.screen, 2 workers"] = evals / dask_info["seconds"]
            results["rxcaution.dask.screen, 2 workers, from cluster start-up"] = evals / dask_info["with_startup"]

    width = max(map(len, results))
    base = results["dict peer loop"]
    for name, value in results.items():
        if isinstance(value, str):
            print(f"  {name:<{width}}  {value}")
        else:
            print(f"  {name:<{width}}  {value / 1e6:8.2f} M pair-evals/s  ({value / base:6.1f}x the dict peer)")
    one, two = results["kb.screen list, 1 thread"], results["kb.screen list, 2 threads"]
    dask = results.get("rxcaution.dask.screen, 2 workers")
    cpu_one = results["kb.screen list, 1 thread (CPU time)"]
    print("targets (issue 11):")
    print(f"  screen 1 thread {one / 1e6:.1f} M/s wall, {cpu_one / 1e6:.1f} M/s CPU time (target >= 50 M/s), "
          f"{cpu_one / base:.1f}x the dict peer in CPU time (target >= 20x) - list of lists in")
    cat_one = results["kb.screen DataFrame categorical, 1 thread (CPU time)"]
    print(f"  screen 1 thread, categorical DataFrame in: {results['kb.screen DataFrame categorical, 1 thread'] / 1e6:.1f}"
          f" M/s wall, {cat_one / 1e6:.1f} M/s CPU time, {cat_one / base:.1f}x the dict peer in CPU time")
    print(f"  screen 2 threads / 1 thread = {two / one:.2f}x (target >= 1.7x)")
    if "C++ screen alone, 1 thread" in results:
        e1, e2 = results["C++ screen alone, 1 thread"], results["C++ screen alone, 2 threads"]
        print(f"  C++ screen alone: 1 thread {e1 / 1e6:.1f} M/s wall, {e1 / base:.1f}x the dict peer; "
              f"2 threads / 1 thread = {e2 / e1:.2f}x")
    frame_two = results["kb.screen DataFrame, 2 threads"]
    if isinstance(dask, float):
        malloc = " (workers without Dask's MALLOC_TRIM_THRESHOLD_)" if args.dask_glibc_malloc else ""
        for name, ratio in dask_info["ratios"].items():
            print(f"  Dask 2 workers / single process 2 threads, {name}: {ratio:.2f}x (target <= 2x){malloc}")
        print(f"  ({frame_two / results['rxcaution.dask.screen, 2 workers, from cluster start-up']:.1f}x counting "
              "cluster start-up, shipping the knowledge base and the first call)")
    cli = None
    if args.cli_regimens:
        parquet = work / f"population-{args.cli_regimens}.parquet"
        if not parquet.exists():
            population.main([str(pack_path), str(parquet), "--regimens", str(args.cli_regimens), "--seed",
                             str(args.seed)])
        cli = run_cli(pack_path, parquet, work / "screen-results.parquet")
        print(f"CLI: {args.cli_regimens:,} regimens from Parquet in {cli['seconds']:.1f} s, peak RSS "
              f"{cli['peak_rss_mb']:.0f} MB, exit {cli['exit']}, output {cli['output_mb']:.0f} MB")
        for line in cli["summary"]:
            print("  " + line)
    if args.json:
        args.json.write_text(json.dumps({"results": results, "cli": cli, "dask": dask_info, "regimens": len(regs),
                                         "load_average_end": os.getloadavg()[0],
                                         "pair_evaluations": evals}, indent=2), encoding="utf-8")
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
