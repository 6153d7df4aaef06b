"""National scale, measured: generation and consolidation against what a user would write.

Not a test: a script that builds N per-agency workbooks and N filled returns, then times, in
one run and on this machine, side by side:

- ``generate_roster`` (templates, --jobs) against writing each agency's workbook from
  scratch with the plain generator, one at a time;
- ``consolidate()`` against ``pandas.read_excel`` (its default engine) on each file picking
  the input cells (what a user would write), and against the floor: python-calamine reading
  every sheet's grid of the same files;
- ``pmqa-xlsx merge`` end to end on M returns, consolidated workbook included, with its peak
  memory, and again on M/4 returns, to show how memory grows.

Usage (from the repository root, after scripts/setup; python-calamine is needed for the
floor: pip install python-calamine):

    .venv/bin/python benchmarks/run.py              # N=2000, M=8000
    .venv/bin/python benchmarks/run.py --n 500 --m 1000 --baseline-n 100
"""

from __future__ import annotations

import argparse
import os
import platform
import random
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="agencies and returns (2000)")
    parser.add_argument("--m", type=int, default=8000, help="returns for the merge (8000)")
    parser.add_argument("--baseline-n", type=int, default=300,
                        help="files the slow pandas baseline reads (300; files/s compared)")
    parser.add_argument("--keep", type=Path, help="keep the files in this folder")
    args = parser.parse_args()

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
        rows += bench_generate(layout, agencies[: args.n], work)
        returns = work / "returns"
        make_returns(layout, cellmap, agencies, returns)
        files = sorted(returns.iterdir())
        rows += bench_consolidate(cellmap, files[: args.n], args.baseline_n)
        rows += bench_merge(files, args.m, work)
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
        ("  speed-up", f"{slow / fast:.1f}x", "target: at least 5x"),
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
        ("  vs pandas", f"{ours_fps / pandas_fps:.1f}x faster", "target: at least 10x"),
        ("  vs the floor", f"{ours / floor_t:.2f}x its time", "target: at most 2x"),
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


def bench_merge(files: list[Path], m: int, work: Path) -> list[tuple[str, str, str]]:
    rows = []
    peaks = {}
    for count in (m // 4, m):
        folder = work / f"merge-{count}"
        folder.mkdir()
        for path in files[:count]:
            os.link(path, folder / path.name)
        print(f"pmqa-xlsx merge {count} returns")
        seconds, peak = run_measured([sys.executable, "-m", "pmqa_xlsx.cli", "merge",
                                      str(folder), "-o", str(work / f"merged-{count}.xlsx")])
        print(f"  {seconds:.1f} s, peak {peak:.0f} MiB")
        peaks[count] = peak
        rows.append((f"merge {count:,} returns", f"{seconds:.1f} s",
                     f"{count / seconds:,.0f} files/s, peak memory {peak:,.0f} MiB"
                     + (", target: under 120 s" if count == m else "")))
    low, high = m // 4, m
    slope = (peaks[high] - peaks[low]) / (high - low)
    rows.append(("  memory per return", f"{slope * 1024:.0f} KiB",
                 f"({peaks[low]:.0f} MiB at {low:,}, {peaks[high]:.0f} MiB at {high:,}): "
                 "the returns' data, kept for the frames"))
    return rows


def run_measured(command: list[str]) -> tuple[float, float]:
    """Wall time and peak resident memory (MiB) of a command and its worker processes."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{command} failed")
    return elapsed, usage.ru_maxrss / 1024


if __name__ == "__main__":
    main()
