"""The reader's cost, phase by phase, against the calamine floor: the measurements behind the
reader decision of issue 15 (whether python-calamine may read the cell values in the workers).

Not a test: a script. Over the same returns, in one run, it measures each phase of reading a
return cumulatively (each stage does all the work of the one before it, and more), in
instructions per return (cachegrind, if valgrind is installed: they do not vary with the load
of a shared machine) and in milliseconds per return (the best of several passes, one process,
the collector paused as the reader pauses it):

- ``floor``: python-calamine reading every sheet's grid (benchmarks/run.py's floor);
- ``values``: that, and the grids turned into what the reader keeps, ``{(row, col): value}``
  of the cells that show something: the least work calamine's values take;
- ``preflight``: the bounded package reader opening the file (the zip's size, member and
  ratio limits, its local headers, the package's structure) and decompressing every sheet
  within the limits: what must run before calamine may see a file;
- ``parts``: that, and the shared strings and the styles parsed;
- ``trees``: that, and every sheet parsed by lxml;
- ``cells``: the package reader as the reader uses it (every sheet's cells walked);
- ``read``: ``read_raw``, the whole reading of a return (identity, structure, inputs, the
  form's checks);
- ``scan``: the pre-flight and the leanest scan the hybrid would need of every sheet's XML
  for what calamine cannot see (each cell's address, style, type and whether it holds a
  formula; no values, no texts of formulas);
- ``tokens``: ``parts``, and every sheet's cells cut out of its XML by one regular expression
  (address, style, type, the texts of formula and value) into the reader's cells, with no
  check of the XML at all: the least a reader in Python without lxml trees costs.

From these it derives each phase alone (unzip and limits, strings and styles, trees, cell
walk, checks) and the least a hybrid can cost: pre-flight + calamine's values + lean scan +
checks. The checks are ``read`` minus ``cells`` in instructions; in time they are also
measured directly (``read_raw`` with the time spent in ``Package.read_cells`` taken out).

Usage (from the repository root; python-calamine is needed: pip install -e '.[bench]'):

    .venv/bin/python benchmarks/run.py --n 200 --m 200 --keep /tmp/b   # or any returns
    .venv/bin/python benchmarks/reader_phases.py /tmp/b/returns --n 200 --cachegrind 40
"""

from __future__ import annotations

import argparse
import gc
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import calamine, machine  # noqa: E402

from pmqa_xlsx import xlsxread  # noqa: E402
from pmqa_xlsx.read import read_raw  # noqa: E402

Stage = Callable[[list[Path]], None]

#: One cell's start tag as the common writers write it (address, then style, then type), and
#: whether a formula follows: what the hybrid's scan would have to find in every cell.
_CELL = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"(?: s="([0-9]+)")?(?: t="([a-zA-Z]+)")?'
                   rb'(/>|>(<f[ >])?)')
#: One cell whole, in the shapes xlsxwriter writes (the benchmark's returns).
_TOKEN = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"(?: s="([0-9]+)")?(?: t="([a-zA-Z]+)")?'
                    rb'(?:/>|>(?:<f>([^<]*)</f>)?(?:<v>([^<]*)</v>)?</c>)')


def floor(files: list[Path]) -> None:
    calamine(files)


def values(files: list[Path]) -> None:
    from python_calamine import CalamineWorkbook

    for path in files:
        book = CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            {(r, c): v for r, row in enumerate(grid) for c, v in enumerate(row) if v != ""}
        book.close()


def preflight(files: list[Path]) -> None:
    for path in files:
        with xlsxread.open_package(path) as package:
            for sheet in package.sheets:
                package._bytes(sheet.path)


def parts(files: list[Path]) -> None:
    for path in files:
        with xlsxread.open_package(path) as package:
            package._shared_strings()
            package.styles()
            for sheet in package.sheets:
                package._bytes(sheet.path)


def trees(files: list[Path]) -> None:
    for path in files:
        with xlsxread.open_package(path) as package:
            package._shared_strings()
            package.styles()
            for sheet in package.sheets:
                xlsxread._parse(package._bytes(sheet.path), sheet.path)


def cells(files: list[Path]) -> None:
    for path in files:
        with xlsxread.open_package(path) as package:
            package.styles()
            for sheet in package.sheets:
                package.read_cells(sheet)


def read(files: list[Path]) -> None:
    for path in files:
        read_raw(path)


def tokens(files: list[Path]) -> None:
    for path in files:
        with xlsxread.open_package(path) as package:
            shared, _ = package._shared_strings()
            package.styles()
            for sheet in package.sheets:
                found = {}
                for m in _TOKEN.finditer(package._bytes(sheet.path)):
                    ref, style, kind, formula, value = m.groups()
                    if formula is None and value is None:
                        continue
                    if kind == b"s":
                        shown: object = shared[int(value)]
                    elif kind:
                        shown = value.decode()
                    else:
                        shown = float(value) if value else None
                    found[xlsxread.split_ref(ref.decode())] = xlsxread.Cell(
                        shown, formula.decode() if formula is not None else None, True,
                        int(style) if style else 0, None)


def scan(files: list[Path]) -> None:
    for path in files:
        with xlsxread.open_package(path) as package:
            for sheet in package.sheets:
                data = package._bytes(sheet.path)
                [(m[1], m[2], m[3], m[5]) for m in _CELL.finditer(data) if m[4] != b"/>"]


STAGES: dict[str, Stage] = {"floor": floor, "values": values, "preflight": preflight,
                            "parts": parts, "trees": trees, "cells": cells, "read": read,
                            "scan": scan, "tokens": tokens}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("returns", type=Path, help="a folder of returns (run.py --keep)")
    parser.add_argument("--n", type=int, default=200, help="returns timed (200)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes of each (3)")
    parser.add_argument("--cachegrind", type=int, default=0, metavar="K",
                        help="also count instructions over K returns (0: not)")
    parser.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    files = sorted(args.returns.glob("*.xlsx"))
    if args.stage is not None:  # one stage over the first --count files, under cachegrind
        gc.disable()
        STAGES[args.stage](files[: args.count])
        return
    files = files[: args.n]
    if not files:
        parser.error(f"no .xlsx files in {args.returns}")
    print(machine())
    print(f"{len(files)} returns timed, best of {args.repeat} passes; "
          f"instructions over {args.cachegrind or 'no'} returns\n")
    for stage in STAGES.values():
        stage(files[:1])  # imports, and the caches of the parts every return shares
    seconds = {name: float("inf") for name in STAGES}
    for _ in range(args.repeat):
        for name, stage in STAGES.items():
            gc.collect()
            gc.disable()
            start = time.perf_counter()
            stage(files)
            seconds[name] = min(seconds[name], time.perf_counter() - start)
            gc.enable()
    ms = {name: s / len(files) * 1000 for name, s in seconds.items()}
    ms["checks"] = min(checks_time(files) for _ in range(args.repeat)) / len(files) * 1000
    counts = instructions(args.returns, args.cachegrind) if args.cachegrind else {}
    report(ms, counts)


def checks_time(files: list[Path]) -> float:
    """Seconds ``read_raw`` spends on the files outside ``Package.read_cells`` and the
    opening of the package: the identity, structure and input checks and the form's
    checks."""
    spent = [0.0]
    plain_read, plain_open = xlsxread.Package.read_cells, xlsxread.Package.__init__

    def timed_read(self: xlsxread.Package, *args: object, **kwargs: object) -> object:
        start = time.perf_counter()
        try:
            return plain_read(self, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            spent[0] += time.perf_counter() - start

    def timed_open(self: xlsxread.Package, path: Path) -> None:
        start = time.perf_counter()
        try:
            plain_open(self, path)
        finally:
            spent[0] += time.perf_counter() - start

    xlsxread.Package.read_cells = timed_read  # type: ignore[method-assign,assignment]
    xlsxread.Package.__init__ = timed_open  # type: ignore[method-assign,assignment]
    try:
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        read(files)
        return time.perf_counter() - start - spent[0]
    finally:
        gc.enable()
        xlsxread.Package.read_cells = plain_read  # type: ignore[method-assign]
        xlsxread.Package.__init__ = plain_open  # type: ignore[method-assign]


def instructions(folder: Path, k: int) -> dict[str, float]:
    """Instructions per return of each stage: cachegrind over 10 and over 10 + k returns, the
    difference divided by k (start-up, imports and the first files' caches cancel out)."""
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: no instruction counts")
        return {}
    out = {}
    for name in STAGES:
        runs = [_refs(folder, name, count) for count in (_BASE, _BASE + k)]
        out[name] = (runs[1] - runs[0]) / k
    return out


_BASE = 10  # returns read in both runs of a stage (imports, caches, lazily built tables)


def _refs(folder: Path, stage: str, count: int) -> int:
    done = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, __file__, str(folder), "--stage", stage, "--count", str(count)],
        capture_output=True, text=True, check=True)
    found = re.search(r"I\s+refs:\s+([0-9,]+)", done.stderr)
    if found is None:
        raise SystemExit(f"cachegrind gave no count:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def report(ms: dict[str, float], counts: dict[str, float]) -> None:
    def row(label: str, t: float, c: float | None, note: str = "") -> None:
        mi = f"{c / 1e6:8.1f} M" if c is not None else "         -"
        ratio_c = f"{c / counts['floor']:5.2f}x" if c is not None else "     -"
        print(f"{label:<40} {t:7.2f} ms {t / ms['floor']:5.2f}x {mi} {ratio_c}  {note}")

    def get(name: str) -> float | None:
        return counts.get(name)

    def diff(a: str, b: str) -> float | None:
        ca, cb = get(a), get(b)
        return ca - cb if ca is not None and cb is not None else None

    print(f"{'per return':<40} {'time':>10} {'/floor':>6} {'instr.':>10} {'/floor':>6}")
    print("stages, each including the one before:")
    for name in ("floor", "values", "preflight", "parts", "trees", "cells", "read", "scan",
                 "tokens"):
        row(f"  {name}", ms[name], get(name))
    print("phases alone:")
    row("  unzip, limits, structure", ms["preflight"], get("preflight"))
    row("  shared strings and styles", ms["parts"] - ms["preflight"], diff("parts", "preflight"))
    row("  lxml trees of the sheets", ms["trees"] - ms["parts"], diff("trees", "parts"))
    row("  cell walk", ms["cells"] - ms["trees"], diff("cells", "trees"),
        "(cells minus trees)")
    row("  the reader's checks", ms["checks"], diff("read", "cells"),
        "(time: measured apart; instructions: read minus cells)")
    row("  calamine's values into a dict", ms["values"] - ms["floor"], diff("values", "floor"))
    row("  lean scan (no values)", ms["scan"] - ms["preflight"], diff("scan", "preflight"))
    bound_t = ms["preflight"] + ms["values"] + (ms["scan"] - ms["preflight"]) + ms["checks"]
    parts_c = [get("preflight"), get("values"), diff("scan", "preflight"), diff("read", "cells")]
    bound_c = sum(c for c in parts_c if c is not None) if None not in parts_c else None
    print("the least a hybrid costs (pre-flight + calamine's values + lean scan + checks):")
    row("  hybrid, lower bound", bound_t, bound_c)
    row("  today's reader", ms["read"], get("read"))
    tokens_c, checks_c = get("tokens"), diff("read", "cells")
    row("  no lxml: regex cells + checks", ms["tokens"] + ms["checks"],
        tokens_c + checks_c if tokens_c is not None and checks_c is not None else None,
        "(parts + regex cells + checks)")
    # 2x the floor, less what no reader may skip (the pre-flight) and what the checks cost:
    # what reading the values, formulas, types and styles of every sheet may cost at most
    room_c = (2 * counts["floor"] - counts["preflight"] - (counts["read"] - counts["cells"])
              if {"floor", "preflight", "read", "cells"} <= counts.keys() else None)
    row("  room at 2x for values+formulas+styles", 2 * ms["floor"] - ms["preflight"]
        - ms["checks"], room_c, "(2x floor - preflight - checks)")


if __name__ == "__main__":
    main()
