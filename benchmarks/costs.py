"""What the costliest file within every limit costs to read, against a normal return.

Not a test: a script. It builds a normal return (the benchmark's, as run.py makes them) and,
from it, the file that costs most to read along each dimension the limits bound, each just
within every limit (so the reader reads it rather than refusing it), then reads each one in
this process, several times, and reports the best time of each as a ratio to the normal
return's, in one run. The issue's bar: about 20× at most.

Usage (from the repository root, after scripts/setup):

    .venv/bin/python benchmarks/costs.py            # 7 repetitions each
    .venv/bin/python benchmarks/costs.py --repeat 15 --keep /tmp/costs
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import WHEN, answers, machine  # noqa: E402

from pmqa_xlsx import build_cellmap, load_layout, xlsxread  # noqa: E402
from pmqa_xlsx.generate import Template  # noqa: E402
from pmqa_xlsx.parallel import gc_paused  # noqa: E402
from pmqa_xlsx.read import read_raw  # noqa: E402
from pmqa_xlsx.roster import Agency  # noqa: E402

Parts = dict[str, bytes]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="reads of each file (7)")
    parser.add_argument("--keep", type=Path, help="keep the files in this folder")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="pmqa-costs-"))
    work.mkdir(parents=True, exist_ok=True)
    print(machine())
    print(f"limits: {xlsxread.MAX_MARKUP:,} '<' per part, {xlsxread.MAX_PACKAGE_MARKUP:,} per "
          f"package, {xlsxread.MAX_ATTRIBUTES:,} '=' per part, "
          f"{xlsxread.MAX_PACKAGE_ATTRIBUTES:,} per package, {xlsxread.MAX_ESCAPES:,} escapes, "
          f"{xlsxread.MAX_READ_BYTES // 2**20} MiB read, "
          f"{xlsxread.MAX_MEMBER_BYTES // 2**20} MiB per part, "
          f"{xlsxread.MAX_FILE_BYTES // 2**20} MiB per file, {xlsxread.MAX_CELLS:,} filled "
          f"cells per sheet\n")
    try:
        layout = load_layout()
        cellmap = build_cellmap(layout)
        fields = frozenset(f.id for f in layout.identity.fields if f.roster)
        agency = Agency(code="C0001", name="หน่วยงานทดสอบต้นทุน", ministry="กระทรวงทดสอบ")
        normal = Template(cellmap, fields, None, WHEN, answers(cellmap, 1)).personalise(agency)
        long_text = Template(cellmap, fields, None, WHEN, {
            **answers(cellmap, 1),
            **{(c.item_id, c.field_id): ("ก" * xlsxread.MAX_TEXT) for c in cellmap.inputs()
               if c.kind == "text"}}).personalise(agency)
        cases = {"a normal return": normal, "every text blank at 32,767 characters": long_text}
        parts = _parts(normal)
        for name, build in CASES.items():
            cases[name] = _within_limits(build, parts, work / "probe.xlsx")
        rows = []
        base = None
        for name, data in cases.items():
            path = work / f"{len(rows):02d}.xlsx"
            path.write_bytes(data)
            seconds, read = _best(path, args.repeat)
            if base is None:
                base = seconds
            codes = sorted({p.code for p in read.problems})
            rows.append((name, len(data), seconds, read.state, codes))
        width = max(len(r[0]) for r in rows)
        print(f"{'file':<{width}}  {'size':>9}  {'read':>9}  {'ratio':>6}  state")
        for name, size, seconds, state, codes in rows:
            print(f"{name:<{width}}  {size / 1e6:>7.2f}MB  {seconds * 1e3:>7.1f}ms  "
                  f"{seconds / base:>5.1f}x  {state} {' '.join(codes)}")
        worst = max(rows[1:], key=lambda r: r[2])
        print(f"\ncostliest: {worst[0]}, {worst[2] / base:.1f}x a normal return")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


#: What the builders put in, as a share of what each limit allows on its own: the limits are
#: also checked together (xlsxread's load), so a file at one limit may be over them all.
SCALE = [1.0]


def _within_limits(build: Callable[[Parts], Parts], parts: Parts, probe: Path) -> bytes:
    """The builder's file at the largest scale the reader reads rather than refuses as
    too large (all the limits at once)."""
    for scale in (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.5):
        SCALE[0] = scale
        data = _zip(build(dict(parts)))
        probe.write_bytes(data)
        if "too-large" not in {p.code for p in read_raw(probe).problems}:
            return data
    return data


def _best(path: Path, repeat: int) -> tuple[float, object]:
    """The best of ``repeat`` reads, with the collector paused as the merge pauses it."""
    best, read = float("inf"), None
    with gc_paused():
        for _ in range(repeat):
            start = time.perf_counter()
            read = read_raw(path)
            best = min(best, time.perf_counter() - start)
    return best, read


def _parts(data: bytes) -> Parts:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {info.filename: package.read(info) for info in package.infolist()}


def _zip(parts: Parts) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(name, data)
    return out.getvalue()


# -- one builder per dimension: just within the limits ----------------------------------------

_SHEET = "xl/worksheets/sheet3.xml"  # หมวด 7.2, the largest sheet
_SHEETS = [f"xl/worksheets/sheet{i}.xml" for i in (1, 2, 3)]


def _budget(parts: Parts, names: list[str]) -> int:
    """The '<' that may be added to ``names`` (each part and the package within the limit)."""
    used = sum(parts[n].count(b"<") for n in parts if n.endswith(".xml") or n.endswith(".rels"))
    per_part = min(xlsxread.MAX_MARKUP - max(parts[n].count(b"<") for n in names),
                   (xlsxread.MAX_PACKAGE_MARKUP - used) // len(names))
    return int(per_part * 0.98 * SCALE[0])


def _append_rows(sheet: bytes, rows: bytes) -> bytes:
    return re.sub(rb"</sheetData>", lambda _: rows + b"</sheetData>", sheet, count=1)


def _styled_blanks(parts: Parts) -> Parts:
    """Blank cells with a style, as a careless paste of formats leaves them, in every sheet."""
    for name in _SHEETS:
        budget = _budget(parts, _SHEETS)
        per_row = 10
        rows = b"".join(b'<row r="%d">' % r + b"".join(
            b'<c r="%s%d" s="1"/>' % (col, r) for col in (b"AA", b"AB", b"AC", b"AD", b"AE",
                                                          b"AF", b"AG", b"AH", b"AI", b"AJ"))
            + b"</row>" for r in range(200, 200 + budget // (per_row + 2)))
        parts[name] = _append_rows(parts[name], rows)
    return parts


def _empty_rows(parts: Parts) -> Parts:
    """Rows with nothing in them, formatted: one element each."""
    for name in _SHEETS:
        budget = _budget(parts, _SHEETS)
        rows = b"".join(b'<row r="%d" ht="20" customHeight="1"/>' % r
                        for r in range(200, 200 + budget))
        parts[name] = _append_rows(parts[name], rows)
    return parts


def _stray_values(parts: Parts) -> Parts:
    """Filled cells beside the form, up to the limit of filled cells per sheet (or of
    markup)."""
    for name in _SHEETS:
        rows, cells, r = [], 0, 200
        budget = _budget(parts, _SHEETS)
        while cells < xlsxread.MAX_CELLS - 500 and (cells + 10) * 4.2 < budget:
            rows.append(b'<row r="%d">' % r + b"".join(
                b'<c r="%s%d"><v>%d</v></c>' % (col, r, cells + i) for i, col in enumerate(
                    (b"AA", b"AB", b"AC", b"AD", b"AE", b"AF", b"AG", b"AH", b"AI", b"AJ")))
                + b"</row>")
            cells += 10
            r += 1
        parts[name] = _append_rows(parts[name], b"".join(rows))
    return parts


def _many_styles(parts: Parts) -> Parts:
    """Cell formats up to the limit, with as many number format codes as allowed."""
    count = xlsxread.MAX_STYLES - 100
    codes = xlsxread.MAX_NUMBER_FORMATS - 50
    formats = b"".join(b'<numFmt numFmtId="%d" formatCode="0.%s"/>' % (200 + i, b"0" * (i % 30))
                       for i in range(codes))
    xfs = b"".join(b'<xf numFmtId="%d" fontId="0" fillId="0" borderId="0"/>' % (200 + i % codes)
                   for i in range(count))
    styles = parts["xl/styles.xml"]
    styles = re.sub(rb"<numFmts[^>]*>", lambda m: m.group() + formats, styles, count=1) \
        if b"<numFmts" in styles else styles.replace(b"<fonts", b"<numFmts>" + formats +
                                                     b"</numFmts><fonts", 1)
    parts["xl/styles.xml"] = re.sub(rb"(<cellXfs[^>]*>)", lambda m: m.group(1) + xfs, styles,
                                    count=1)
    return parts


def _many_strings(parts: Parts) -> Parts:
    """Shared strings no cell uses, up to the markup limit of the part."""
    budget = _budget(parts, ["xl/sharedStrings.xml"])
    extra = b"".join(b"<si><t>%d</t></si>" % i for i in range(budget // 4))
    parts["xl/sharedStrings.xml"] = parts["xl/sharedStrings.xml"].replace(
        b"</sst>", extra + b"</sst>")
    return parts


def _long_codes(parts: Parts) -> Parts:
    """Every number input in its own style, each with a distinct code of 255 characters (the
    longest Excel keeps): the lexer reads MAX_FORMAT_CHARS of them, the rest are flagged."""
    from pmqa_xlsx import read

    cellmap = build_cellmap(load_layout())
    numbers = [c for c in cellmap.inputs() if c.kind == "number"]
    styles = parts["xl/styles.xml"]
    first = len(re.findall(rb"<xf\b", re.search(rb"<cellXfs[^>]*>(.*?)</cellXfs>", styles,
                                                 re.S).group(1)))
    formats = b"".join(b'<numFmt numFmtId="%d" formatCode="0.00%s%03d"/>'
                       % (300 + i, b"_)" * 124, i) for i in range(len(numbers)))
    xfs = b"".join(b'<xf numFmtId="%d" fontId="0" fillId="0" borderId="0"/>' % (300 + i)
                   for i in range(len(numbers)))
    styles = re.sub(rb"<numFmts[^>]*>", lambda m: m.group() + formats, styles, count=1) \
        if b"<numFmts" in styles else styles.replace(b"<fonts", b"<numFmts>" + formats +
                                                     b"</numFmts><fonts", 1)
    parts["xl/styles.xml"] = re.sub(rb"(</cellXfs>)", lambda m: xfs + m.group(1), styles,
                                    count=1)
    for i, cell in enumerate(numbers):
        name = next(n for n in _SHEETS if n in parts and f'<c r="{cell.ref}"'.encode() in
                    parts[n] and cell.sheet == "หมวด 7.2") if cell.sheet == "หมวด 7.2" else None
        if name:
            parts[name] = re.sub(rb'(<c r="' + cell.ref.encode() + rb'")( s="\d+")?',
                                 lambda m, i=i: m.group(1) + b' s="%d"' % (first + i),
                                 parts[name], count=1)
    assert read.MAX_FORMAT_CHARS
    return parts


def _attributes(parts: Parts) -> Parts:
    """Attributes up to their limit, on elements no one reads."""
    budget = int(min(xlsxread.MAX_ATTRIBUTES, xlsxread.MAX_PACKAGE_ATTRIBUTES - sum(
        d.count(b"=") for d in parts.values())) * 0.95 * SCALE[0])
    filler = b" ".join(b'a%d="1"' % i for i in range(budget))
    parts[_SHEET] = parts[_SHEET].replace(b"<sheetData>", b"<sheetData " + filler + b">", 1)
    return parts


def _escapes(parts: Parts) -> Parts:
    """_xHHHH_ escapes up to their limit, in texts the form reads."""
    budget = int(xlsxread.MAX_ESCAPES * 0.95 * SCALE[0])
    text = b"".join(b"_x0E%02X_" % (1 + i % 0x2D) for i in range(4000))
    extra = b"".join(b"<si><t>%d" % i + text + b"</t></si>" for i in range(budget // 4000))
    parts["xl/sharedStrings.xml"] = parts["xl/sharedStrings.xml"].replace(
        b"</sst>", extra + b"</sst>")
    return parts


def _bytes_read(parts: Parts) -> Parts:
    """Whitespace that does not compress well, up to the bytes read, in the sheets."""
    import os

    blanks = bytes.maketrans(bytes(range(256)), b" \t\r\n" * 64)
    used = sum(len(parts[n]) for n in parts if n.endswith((".xml", ".rels"))
               and "theme" not in n)
    each = int((xlsxread.MAX_READ_BYTES - used) * 0.97 * SCALE[0]) // len(_SHEETS)
    for name in _SHEETS:
        parts[name] = parts[name].replace(b"</sheetData>", os.urandom(each).translate(blanks)
                                          + b"</sheetData>", 1)
    return parts


def _character_references(parts: Parts) -> Parts:
    """Thai written as character references (as openpyxl writes inline strings), up to the
    bytes read, in texts no cell uses."""
    used = sum(len(parts[n]) for n in parts if n.endswith((".xml", ".rels"))
               and "theme" not in n)
    import random

    pick = random.Random(7)
    count = int((xlsxread.MAX_READ_BYTES - used) * 0.97 * SCALE[0]) // 7 // 4000
    extra = b"".join(b"<si><t>%d" % i + b"".join(b"&#%d;" % pick.randrange(3585, 3630)
                                                 for _ in range(4000)) + b"</t></si>"
                     for i in range(count))
    parts["xl/sharedStrings.xml"] = parts["xl/sharedStrings.xml"].replace(
        b"</sst>", extra + b"</sst>")
    return parts


def _merges(parts: Parts) -> Parts:
    """Merged ranges over the form, up to their limit."""
    count = int((xlsxread.MAX_MERGES - 100) * SCALE[0])
    merges = b"".join(b'<mergeCell ref="A%d:J%d"/>' % (r, r + 80) for r in range(1, count + 1))
    sheet = parts[_SHEET]
    sheet = re.sub(rb"<mergeCells[^>]*>.*?</mergeCells>", b"", sheet, count=1, flags=re.S)
    parts[_SHEET] = sheet.replace(b"</sheetData>", b"</sheetData><mergeCells>" + merges +
                                  b"</mergeCells>", 1)
    return parts


def _many_members(parts: Parts) -> Parts:
    """Parts no one reads, up to the limit of members."""
    for i in range(xlsxread.MAX_MEMBERS - len(parts)):
        parts[f"xl/media/image{i}.bin"] = bytes(range(256)) * 4
    return parts


def _large_file(parts: Parts) -> Parts:
    """A file just under the size limit, its bulk in a part no one reads."""
    import os

    parts["xl/media/big.bin"] = os.urandom(xlsxread.MAX_FILE_BYTES - 200_000)
    return parts


CASES: dict[str, Callable[[Parts], Parts]] = {
    "styled blank cells, every sheet at its markup": _styled_blanks,
    "empty formatted rows, every sheet at its markup": _empty_rows,
    "values beside the form, at the limits": _stray_values,
    "20,000 cell styles, 950 number formats": _many_styles,
    "200 number inputs, each its own 255-character code": _long_codes,
    "attributes at their limit": _attributes,
    "escaped characters at their limit": _escapes,
    "whitespace in the sheets, at the bytes read": _bytes_read,
    "character references, at the bytes read": _character_references,
    "merged ranges at their limit": _merges,
    "unused shared strings at the part's markup": _many_strings,
    "500 parts": _many_members,
    "a 50 MB file": _large_file,
}


if __name__ == "__main__":
    main()
