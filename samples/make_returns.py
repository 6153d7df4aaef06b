"""Make samples/returns/: what a round of returns looks like when it reaches the central office.

Run from the repository root with LibreOffice installed (one return is re-saved by it):

    .venv/bin/python samples/make_returns.py

It generates each sample agency's workbook, fills it the way a person would (with openpyxl,
from samples/answers.yaml), and then:

- 03005, 15005: good returns;
- 07007: re-saved by LibreOffice, which recalculates and rewrites the whole file;
- 21003: typical mistakes (words and "N/A" in number cells, a status typed over the dropdown,
  Thai digits and a thousands separator pasted as text, which no formula counts);
- 08004: a first draft, then the final return a week later (the draft is a duplicate);
- 20001: never returns.

Every file gets a fixed save time, so the outputs are the same on every run and the newest
of two returns does not depend on when git checked the files out.
"""

from __future__ import annotations

import io
import re
import shutil
import sys
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import yaml

from pmqa_xlsx import build_cellmap, generate_workbook, load_layout, load_roster
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.libreoffice import convert

HERE = Path(__file__).resolve().parent
GENERATED = datetime(2019, 3, 1, 2, 0, tzinfo=UTC)  # the ministry sent the forms out
SAVED = {  # when each agency last saved its return
    "03005": "2019-03-28T09:12:00Z",
    "07007": "2019-03-30T15:40:00Z",
    "21003": "2019-03-25T10:05:00Z",
    "08004-draft": "2019-03-22T16:30:00Z",
    "08004": "2019-03-29T11:20:00Z",
    "15005": "2019-03-27T14:00:00Z",
}


def main() -> None:
    out = HERE / "returns"
    shutil.rmtree(out, ignore_errors=True)
    for path in build(out):
        print(f"wrote {path.relative_to(HERE.parent)}")


def build(out: Path) -> list[Path]:
    """Write the sample returns into ``out`` (created); return their paths."""
    layout = load_layout()
    cellmap = build_cellmap(layout)
    agencies = {a.code: a for a in load_roster(HERE / "roster.csv")}
    answers = yaml.safe_load((HERE / "answers.yaml").read_text(encoding="utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for code, data in answers.items():
            sent = work / f"sent-{code}.xlsx"
            generate_workbook(layout, sent, agency=agencies[code], generated_at=GENERATED)
            if "draft" in data:
                draft = {**data, "texts": {k: v for k, v in data["texts"].items()
                                           if k not in data["draft"]["drop"]},
                         "statuses": {**data["statuses"], **data["draft"].get("statuses", {})},
                         "indicators": {**data["indicators"], **data["draft"]["indicators"]}}
                fill(layout, cellmap, sent, work / "08004-draft.xlsx", draft)
                stamp(work / "08004-draft.xlsx", out / "08004-draft.xlsx", SAVED["08004-draft"])
            filled = work / f"{code}.xlsx"
            fill(layout, cellmap, sent, filled, data)
            if code == "07007":
                filled = convert(filled, work / "libreoffice", recalc=True)
            stamp(filled, out / f"{code}.xlsx", SAVED[code])
    return sorted(out.iterdir())


def fill(layout: Layout, cellmap: CellMap, src: Path, dst: Path, data: dict[str, Any]) -> None:
    """Type an agency's answers into its workbook, cell by cell."""
    book = openpyxl.load_workbook(src)
    labels = {s.id: s.label for s in layout.statuses}
    directions = {"higher": layout.rules.higher, "lower": layout.rules.lower}
    cells = {(c.item_id, c.field_id): c for c in cellmap.inputs()}

    def put(item: str, field: str, value: Any) -> None:
        cell = cells[(item, field)]
        book[cell.sheet][cell.ref] = value

    for field, value in data["identity"].items():
        put("identity", field, value)
    for row, status in data["statuses"].items():
        put(row, "status", labels[status])
    for key, text in data["texts"].items():
        put(*key.split(" "), text)
    for table, rows in data["indicators"].items():
        for n, (name, unit, direction, target, *results) in enumerate(rows, start=1):
            item = f"{table}.{n}"
            put(item, "name", name)
            put(item, "unit", unit)
            put(item, "direction", directions.get(direction))
            put(item, "target", target)
            for i, result in enumerate(results, start=1):
                put(item, f"result_{i}", result)
    for key, value in data.get("mistakes", {}).items():
        put(*key.split(" "), value)
    book.save(dst)


def stamp(src: Path, dst: Path, when: str) -> None:
    """Copy a workbook, setting the save time its spreadsheet application records."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + when.encode() + rb"\g<2>", data)
            zout.writestr(info, data)
    dst.write_bytes(buffer.getvalue())


if __name__ == "__main__":
    sys.exit(main())
