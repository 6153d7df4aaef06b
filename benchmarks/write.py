"""The consolidated outputs' writing, measured alone: the workbook and the CSVs of one merge.

Not a test: a script. ``make`` consolidates benchmark returns once (``run.py --keep DIR``
leaves them in DIR/returns) and pickles the dataset, ``times`` copies of it to one file
(the files renamed, so that each copy is a return of its own: 4 copies of 2,000 make the
8,000 of a national round); ``time`` writes it with ``report.write_outputs`` and prints the
wall time, the CPU time (``time.process_time``: less moved by a shared machine) and the peak
memory of writing (tracemalloc, Python's allocations); ``count`` writes it once, for
cachegrind to count instructions. Run the same pickle under two trees (PYTHONPATH) to
compare the code before and after, side by side:

    .venv/bin/python benchmarks/write.py make /tmp/bench0/returns /tmp/c2000.pickle
    .venv/bin/python benchmarks/write.py make /tmp/bench0/returns /tmp/c8000.pickle --times 4
    .venv/bin/python benchmarks/write.py time /tmp/c2000.pickle
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \\
        .venv/bin/python benchmarks/write.py count /tmp/c2000.pickle
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import tempfile
import time
import tracemalloc
from pathlib import Path

import pandas as pd

from pmqa_xlsx import consolidate, load_layout
from pmqa_xlsx.consolidate import Consolidated
from pmqa_xlsx.report import write_outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("make", "time", "count", "load"))
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--times", type=int, default=1, help="copies of the returns (make)")
    parser.add_argument("--repeat", type=int, default=3, help="timed writes (time)")
    parser.add_argument("--only", choices=("workbook", "csv"), help="write only this")
    parser.add_argument("--no-trace", action="store_true",
                        help="skip the traced write (tracemalloc slows writing 2-3 times)")
    args = parser.parse_args()
    if args.mode == "make":
        source, target = args.paths
        merged = consolidate([source])
        merged = copies(merged, args.times)
        for name in ("implausible",):  # derived on first use: part of the dataset, not timed
            getattr(merged, name)
        target.write_bytes(pickle.dumps(merged, protocol=pickle.HIGHEST_PROTOCOL))
        print(f"{len(merged.returns)} returns, {len(merged.answers):,} answers, "
              f"{len(merged.indicators):,} indicator rows -> {target}")
        return
    merged = pickle.loads(args.paths[0].read_bytes())
    layouts = [load_layout()]
    n = len(merged.returns)
    if args.mode == "load":  # the instructions of loading alone, to subtract from count's
        print(f"loaded {n} returns")
        return
    with tempfile.TemporaryDirectory() as work:
        outputs = {"workbook": Path(work) / "m.xlsx", "csv_dir": Path(work) / "csv"}
        if args.only == "workbook":
            del outputs["csv_dir"]
        elif args.only == "csv":
            del outputs["workbook"]

        def write() -> None:
            write_outputs(merged, layouts, **outputs)  # type: ignore[arg-type]

        if args.mode == "count":
            write()
            print(f"wrote {n} returns once")
            return
        loaded = _peak_rss()
        times, cpu = [], []
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            write()
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        rss = _peak_rss() - loaded
        peak = 0
        if not args.no_trace:
            tracemalloc.start()
            write()
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        size = (Path(work) / "m.xlsx").stat().st_size if args.only != "csv" else 0
    print(f"{n} returns: write_outputs ({args.only or 'workbook + CSVs'}) best {min(times):.2f} s, "
          f"all {', '.join(f'{t:.2f}' for t in times)} s; CPU (process_time, less moved by "
          f"a shared machine) best {min(cpu):.2f} s; peak traced memory "
          f"{peak / 2**20:,.0f} MiB ({peak / n / 1024:,.1f} KiB per return); peak RSS above "
          f"the loaded dataset {rss / 2**20:,.0f} MiB ({rss / n / 1024:,.1f} KiB per return); "
          f"workbook {size / 2**20:,.1f} MiB")


def _peak_rss() -> int:
    """The process's peak resident memory so far, in bytes (Linux: VmHWM)."""
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def copies(merged: Consolidated, times: int) -> Consolidated:
    """``times`` copies of a dataset's rows, the files renamed (``c1-…``) in each copy."""
    if times == 1:
        return merged

    def repeat(frame: pd.DataFrame) -> pd.DataFrame:
        parts = []
        for copy in range(times):
            part = frame.copy()
            if "file" in part.columns and copy:
                part["file"] = (f"c{copy}-" + part["file"].astype(str)).astype(
                    frame["file"].dtype if frame["file"].dtype != "category" else "category")
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    return dataclasses.replace(
        merged, **{name: repeat(getattr(merged, name))
                   for name in ("answers", "indicators", "problems", "returns", "scores")})


if __name__ == "__main__":
    main()
