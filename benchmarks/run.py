"""National scale, measured: generation and consolidation against what a user would write.

Not a test: a script that builds N per-agency workbooks and N filled returns, then times, in
one run and on this machine, side by side:

- ``generate_roster`` (templates, --jobs) against writing each agency's workbook from
  scratch with the plain generator, one at a time;
- ``consolidate()`` against ``pandas.read_excel`` (its default engine) on each file picking
  the input cells (what a user would write), and against the floor: python-calamine reading
  every sheet's grid of the same files;
- ``pmqa-xlsx merge`` end to end on M returns, the consolidated workbook and ``--csv``
  included (issue 15's target), and again on M/4 returns, each with its peak memory and its
  memory per return above start: the peak memory of the merge's processes minus that of the
  same command merging an empty folder, divided by the returns (and the slope between M/4
  and M, which leaves the fixed cost out too). The merge's memory is the sum of its
  processes' proportional set sizes (Pss: a page two processes share counts half in each,
  so the reading workers, forked from the merge, are counted for the pages they copied or
  made, once), sampled every 0.1 s; the largest resident memory of one of its processes
  (what the kernel reports on exit) is printed beside it. With ``--before TREE`` (a checkout
  of the code before a change, e.g. a git worktree of main) each merge is also run with
  TREE's code, just before this tree's, for a side-by-side comparison in one run;
- with ``--instructions K`` (valgrind installed), the instructions per return, counted by
  cachegrind (``--cache-sim=no``) in one process: reading K returns, merging them (frames,
  data quality) and writing their outputs (workbook and CSVs), each the difference between
  two runs that differ by that step only. Counts do not vary with the machine's load as wall
  times do, so a change can be judged on a noisy machine.

Every target of issue 15 is printed beside its measure, met or not.

Usage (from the repository root, after scripts/setup; python-calamine is needed for the
floor: pip install python-calamine):

    .venv/bin/python benchmarks/run.py              # N=2000, M=8000
    .venv/bin/python benchmarks/run.py --n 500 --m 1000 --baseline-n 100 --instructions 50
    .venv/bin/python benchmarks/run.py --returns DIR --only merge   # DIR: make_returns' files
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pmqa_xlsx import build_cellmap, consolidate, generate_roster, generate_workbook, load_layout
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.generate import Template
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.parallel import available_cores
from pmqa_xlsx.roster import Agency

WHEN = datetime(2026, 3, 1, tzinfo=UTC)
PARTS = ("generate", "consolidate", "merge")
#: Issue 15's targets.
MERGE_SECONDS = 30.0  # merge of 8,000 returns, workbook and CSVs included, on 2 cores
KIB_PER_RETURN = 50.0  # the merge's peak memory above its start, per return
FLOOR_TIMES = 2.0  # consolidate() at most this times python-calamine's time
PANDAS_TIMES = 10.0  # consolidate() at least this times faster than pandas.read_excel
GENERATE_TIMES = 5.0  # generate --roster at least this times faster than from scratch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="agencies and returns (2000)")
    parser.add_argument("--m", type=int, default=8000, help="returns for the merge (8000)")
    parser.add_argument("--baseline-n", type=int, default=300,
                        help="files the slow pandas baseline reads (300; files/s compared)")
    parser.add_argument("--keep", type=Path, help="keep the files in this folder")
    parser.add_argument("--instructions", type=int, nargs="?", const=100, default=None,
                        metavar="K", help="also count instructions per return with cachegrind "
                        "on K returns (100 if K is not given)")
    parser.add_argument("--returns", type=Path,
                        help="use the returns in this folder (as make_returns wrote them, at "
                        "least M) instead of making them; they are not modified")
    parser.add_argument("--before", type=Path, metavar="TREE",
                        help="also run each merge with the code in TREE (its pmqa_xlsx first on "
                        "the path), just before this tree's")
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"the parts to run, of {','.join(PARTS)} (default: all)")
    args = parser.parse_args()
    parts = set(filter(None, args.only.split(",")))  # --only "": none of them
    if parts - set(PARTS):
        parser.error(f"--only: unknown part(s) {', '.join(sorted(parts - set(PARTS)))}")

    layout = load_layout()
    cellmap = build_cellmap(layout)
    work = Path(args.keep or tempfile.mkdtemp(prefix="pmqa-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(machine())
    print(f"N = {args.n} agencies and returns, M = {args.m} returns for the merge, "
          f"{available_cores()} cores, jobs = default\n")
    rows: list[tuple[str, str, str]] = []
    try:
        agencies = [Agency(code=f"B{i:05d}", name=f"หน่วยงานทดสอบที่ {i}",
                           ministry=f"กระทรวงที่ {i % 20}") for i in range(args.m)]
        if "generate" in parts:
            rows += bench_generate(layout, agencies[: args.n], work)
        if args.returns is not None:
            files = sorted(args.returns.iterdir())
            if len(files) < args.m:
                raise SystemExit(f"--returns: {len(files)} files, --m asks for {args.m}")
        else:
            returns = work / "returns"
            make_returns(layout, cellmap, agencies, returns)
            files = sorted(returns.iterdir())
        if "consolidate" in parts:
            rows += bench_consolidate(cellmap, files[: args.n], args.baseline_n)
        if "merge" in parts:
            rows += bench_merge(files, args.m, work, args.before)
        if args.instructions is not None:
            rows += bench_instructions(files[: args.instructions], work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    width = max(len(r[0]) for r in rows)
    print()
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>14}  {note}")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"machine: {cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, "
            f"Python {platform.python_version()}, {platform.system()}")


def timed(label: str, work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - start
    print(f"  {label}: {elapsed:.2f} s", flush=True)
    return elapsed, result


# -- generation -------------------------------------------------------------------------------


def bench_generate(layout: Layout, agencies: list[Agency],
                   work: Path) -> list[tuple[str, str, str]]:
    n = len(agencies)
    print(f"generate {n} per-agency workbooks")
    fast, _ = timed("generate_roster (templates, jobs)",
                    lambda: generate_roster(layout, agencies, work / "gen-fast",
                                            generated_at=WHEN))
    (work / "gen-slow").mkdir()

    def from_scratch() -> None:
        for agency in agencies:
            generate_workbook(layout, work / "gen-slow" / agency.file_name, agency=agency,
                              generated_at=WHEN)

    slow, _ = timed("baseline: the plain generator, one agency at a time", from_scratch)
    return [
        ("generate --roster", f"{n / fast:,.0f} files/s", f"{fast:.1f} s for {n}"),
        ("  baseline (from scratch)", f"{n / slow:,.0f} files/s", f"{slow:.1f} s for {n}"),
        ("  speed-up", f"{slow / fast:.1f}x",
         target(f"at least {GENERATE_TIMES:g}x", slow / fast >= GENERATE_TIMES)),
    ]


# -- returns ----------------------------------------------------------------------------------


def make_returns(layout: Layout, cellmap: CellMap, agencies: list[Agency], out: Path) -> None:
    """Filled returns, as a spreadsheet application saves them: ten different sets of answers
    spread over the agencies, each personalised with the agency's identity."""
    print(f"make {len(agencies)} filled returns (not timed)")
    fields = frozenset(f.id for f in layout.identity.fields if f.roster)
    templates = [Template(cellmap, fields, None, WHEN, answers(cellmap, seed))
                 for seed in range(10)]
    out.mkdir(parents=True, exist_ok=True)
    for i, agency in enumerate(agencies):
        (out / agency.file_name).write_bytes(templates[i % 10].personalise(agency))


def answers(cellmap: CellMap, seed: int) -> dict[tuple[str, str], Any]:
    """A good return, varied: each row in a random status, with the details the form's checks
    ask for (all of a "done" row's, most of a "starting" row's, none of a "not started"
    row's: the bundled statuses' order), and some indicator rows in full."""
    rng = random.Random(seed)
    out: dict[tuple[str, str], Any] = {}
    used_rows = {r.item_id for r in cellmap.indicator_rows if rng.random() < 0.4}
    status_of = {c.item_id: rng.randrange(len(c.choices)) for c in cellmap.inputs()
                 if c.kind == "status"}
    for cell in cellmap.inputs():
        key = (cell.item_id, cell.field_id)
        if cell.kind == "identity":
            if cell.field_id not in ("agency_code", "agency_name", "ministry"):
                out[key] = f"ข้อมูล {cell.field_id} {seed}"
        elif cell.kind == "status":
            out[key] = cell.choices[status_of[cell.item_id]]
        elif cell.kind == "text" and cell.item_id in status_of:
            chosen = status_of[cell.item_id]
            if chosen and (chosen == 2 or rng.random() < 0.8):
                out[key] = f"รายละเอียดการดำเนินงานของหน่วยงาน ข้อ {cell.item_id} ชุดที่ {seed}"
        elif cell.item_id in used_rows:
            if cell.kind == "number":
                out[key] = round(rng.uniform(10, 1000), 2)
            elif cell.kind == "direction":
                out[key] = rng.choice(cell.choices)
            else:
                out[key] = f"ตัวชี้วัด {cell.item_id}" if cell.field_id == "name" else "ร้อยละ"
    return out


# -- consolidation ----------------------------------------------------------------------------


def bench_consolidate(cellmap: CellMap, files: list[Path],
                      baseline_n: int) -> list[tuple[str, str, str]]:
    n = len(files)
    print(f"consolidate {n} returns")
    ours, merged = timed("consolidate() (jobs)", lambda: consolidate(files))
    assert merged.summary()["ok"] == n, merged.summary()
    sample = files[:baseline_n]
    pandas_t, _ = timed(f"baseline: pandas.read_excel on {len(sample)} files",
                        lambda: [pandas_pick(cellmap, f) for f in sample])
    floor_t, _ = timed("floor: python-calamine, every sheet's grid", lambda: calamine(files))
    ours_fps, pandas_fps, floor_fps = n / ours, len(sample) / pandas_t, n / floor_t
    return [
        ("consolidate()", f"{ours_fps:,.0f} files/s", f"{ours:.1f} s for {n}"),
        ("  baseline: pandas.read_excel", f"{pandas_fps:,.0f} files/s",
         f"{pandas_t:.1f} s for {len(sample)}"),
        ("  floor: python-calamine grids", f"{floor_fps:,.0f} files/s",
         f"{floor_t:.1f} s for {n}, one process"),
        ("  vs pandas", f"{ours_fps / pandas_fps:.1f}x faster",
         target(f"at least {PANDAS_TIMES:g}x", ours_fps / pandas_fps >= PANDAS_TIMES)),
        ("  vs the floor", f"{ours / floor_t:.2f}x its time",
         target(f"at most {FLOOR_TIMES:g}x", ours / floor_t <= FLOOR_TIMES)),
    ]


def pandas_pick(cellmap: CellMap, path: Path) -> list[Any]:
    """What a user would write: read every sheet with pandas, pick the input cells."""
    import pandas as pd

    sheets = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
    picked = []
    for cell in cellmap.inputs():
        frame = sheets[cell.sheet]
        inside = cell.row < frame.shape[0] and cell.col < frame.shape[1]
        picked.append(frame.iat[cell.row, cell.col] if inside else None)
    return picked


def calamine(files: list[Path]) -> None:
    from python_calamine import CalamineWorkbook

    for path in files:
        book = CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        book.close()


# -- merge end to end -------------------------------------------------------------------------


def bench_merge(files: list[Path], m: int, work: Path,
                before: Path | None = None) -> list[tuple[str, str, str]]:
    """``pmqa-xlsx merge`` with the workbook and --csv, on M/4 and M returns, and on none (the
    memory the command takes before any return: its start); with ``before``, each also run
    with the code in that tree, just before."""
    rows = []
    trees: list[tuple[str, Path | None]] = [("", None)]
    if before is not None:
        trees.insert(0, (" (before)", before))
    peaks: dict[tuple[str, int], float] = {}
    for count in (0, m // 4, m):
        folder = work / f"merge-{count}"
        folder.mkdir()
        for path in files[:count]:
            os.link(path, folder / path.name)
        for label, tree in trees:
            print(f"pmqa-xlsx merge {count} returns, workbook and --csv{label}")
            out = (work / f"merged-{count}{label.strip(' ()')}").resolve()
            run = run_measured([sys.executable, "-m", "pmqa_xlsx.cli", "merge",
                                str(folder.resolve()), "-o", f"{out}.xlsx", "--csv",
                                f"{out}-csv"], tree)
            print(f"  {run.seconds:.1f} s, peak {run.peak:.0f} MiB (Pss of its processes, "
                  f"summed), largest process {run.largest:.0f} MiB, {run.processes} processes")
            peaks[label, count] = run.peak
            if not count:
                continue
            above = (run.peak - peaks[label, 0]) * 1024 / count
            rows.append((f"merge {count:,} returns{label}", f"{run.seconds:.1f} s",
                         f"{count / run.seconds:,.0f} files/s, workbook and CSVs"
                         + (", " + target(f"at most {MERGE_SECONDS:g} s for 8,000",
                                          run.seconds * 8000 / count <= MERGE_SECONDS)
                            if count == m and not label else "")))
            rows.append(("  peak memory", f"{run.peak:,.0f} MiB",
                         f"{above:.0f} KiB per return above start ({peaks[label, 0]:.0f} MiB "
                         f"merging none); largest process {run.largest:,.0f} MiB"
                         + (", " + target(f"at most {KIB_PER_RETURN:g} KiB",
                                          above <= KIB_PER_RETURN)
                            if count == m and not label else "")))
    low, high = m // 4, m
    for label, _ in trees:
        slope = (peaks[label, high] - peaks[label, low]) / (high - low)
        rows.append((f"  memory per return (slope){label}", f"{slope * 1024:.0f} KiB",
                     f"between {low:,} ({peaks[label, low]:.0f} MiB) and {high:,} "
                     f"({peaks[label, high]:.0f} MiB): the merge's processes' Pss, summed"))
    return rows


def target(text: str, met: bool) -> str:
    return f"target: {text} — " + ("met" if met else "NOT MET")


# -- instructions -----------------------------------------------------------------------------

#: The steps counted, each run as ``python -c`` under cachegrind: the script does every step
#: up to and including its own; a step's count is its run's minus the previous step's.
_STEPS = ("read", "merge", "write")
_STEP_SCRIPT = """
import sys
from pathlib import Path
from pmqa_xlsx.consolidate import collect_inputs, read_all, merge_reads
from pmqa_xlsx.report import write_outputs
from pmqa_xlsx.read import layout_set
step, out = sys.argv[1], Path(sys.argv[2])
files = [Path(p) for p in sys.argv[3:]]
layout_set(None)  # the bundled layouts, loaded: part of starting
if step != "start":
    reads = read_all(collect_inputs(files), jobs=1)
if step in ("merge", "write"):
    merged = merge_reads(reads, None)
    del reads
    merged.implausible, merged.done_without_details
if step == "write":
    write_outputs(merged, merged.layouts, workbook=out / "merged.xlsx", csv_dir=out / "csv")
"""


def bench_instructions(files: list[Path], work: Path) -> list[tuple[str, str, str]]:
    """Instructions per return of reading, merging and writing, in one process (cachegrind):
    each step counted on K/4 and on K returns, its cost per return the difference over the
    K - K/4 returns between (what does not grow with the returns, such as importing, the
    summary sheet or the first use of a layout, left out)."""
    k = len(files)
    if shutil.which("valgrind") is None:
        print("instructions: valgrind is not installed, skipped")
        return [("instructions per return", "skipped", "valgrind is not installed")]
    sizes = (max(1, k // 4), k)
    if sizes[0] == sizes[1]:
        raise SystemExit("--instructions: give K of at least 2")
    print(f"instructions (cachegrind, one process, {sizes[0]} and {k} returns)")
    counts: dict[tuple[str, int], int] = {}
    for step in _STEPS:
        for size in sizes:
            out = work / f"instructions-{step}-{size}"
            out.mkdir()
            command = ["valgrind", "--tool=cachegrind", "--cache-sim=no",
                       "--cachegrind-out-file=/dev/null", sys.executable, "-c", _STEP_SCRIPT,
                       step, str(out), *(str(f) for f in files[:size])]
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
            if done.returncode != 0 or found is None:
                raise SystemExit(f"cachegrind {step} failed:\n{done.stderr[-2000:]}")
            counts[step, size] = int(found.group(1).replace(",", ""))
            print(f"  {step}, {size} returns: {counts[step, size]:,} instructions "
                  f"({time.perf_counter() - start:.0f} s under valgrind)")
    rows = [("instructions per return", "", f"cachegrind, one process, {sizes[0]} and {k} "
             "returns: the steps' costs that grow with the returns")]
    previous = None
    for step in _STEPS:
        grown = counts[step, sizes[1]] - counts[step, sizes[0]]
        own = grown - (previous if previous is not None else 0)
        previous = grown
        rows.append((f"  {step}", f"{own / (sizes[1] - sizes[0]) / 1e6:.1f} M",
                     {"read": "reading, one process (jobs=1)",
                      "merge": "merge_reads, implausible, done_without_details",
                      "write": "the consolidated workbook and the CSV files"}[step]))
    return rows


@dataclasses.dataclass(frozen=True)
class Measured:
    """A command's wall time, and its memory (MiB): ``peak``, the largest sum of its
    processes' Pss seen (sampled); ``largest``, the peak resident memory of its largest
    process (the kernel's, on exit); ``processes``, how many were seen."""

    seconds: float
    peak: float
    largest: float
    processes: int


#: Seconds between two samples of a command's memory.
_SAMPLE = 0.1


def run_measured(command: list[str], tree: Path | None = None) -> Measured:
    """Run a command (with ``tree``'s pmqa_xlsx first on the path, if given) and measure it.

    Its memory is sampled every ``_SAMPLE`` seconds: the sum, over the command's process and
    every process under it, of its Pss (``/proc/PID/smaps_rollup``: its resident pages, each
    shared page divided among the processes that share it; so a forked child is counted for
    what it copied or made, and what it shares with its parent once)."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree), *filter(None, [
            env.get("PYTHONPATH")])])
    start = time.perf_counter()
    # python -m puts the working folder first on the path: TREE's, for TREE's code
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=env, cwd=tree)
    peak, seen = 0, {process.pid}
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid == process.pid:
            break
        tree_pids = _descendants(process.pid)
        seen.update(tree_pids)
        peak = max(peak, sum(_pss(p) for p in tree_pids))
        time.sleep(_SAMPLE)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"{command} failed")
    return Measured(elapsed, peak / 1024, usage.ru_maxrss / 1024, len(seen))


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process under it, as /proc has them now."""
    found, todo = [], [pid]
    while todo:
        here = todo.pop()
        found.append(here)
        try:
            todo += [int(c) for c in Path(f"/proc/{here}/task/{here}/children").read_text(
                ).split()]
        except OSError:  # gone meanwhile
            pass
    return found


def _pss(pid: int) -> int:
    """A process's Pss in KiB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            return next((int(line.split()[1]) for line in rollup if line.startswith("Pss:")), 0)
    except OSError:
        return 0


if __name__ == "__main__":
    main()
