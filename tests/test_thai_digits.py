"""A number cell holding text that reads as a number ("๘๕", "85", " 85 ", "1,234.5") is
treated the same by the workbook's live formulas and by the reader (values.py): not counted.

The formulas (percent success and score in rules.py, the number check in checks.py) test their
inputs with ISNUMBER, so such text leaves percent and score blank and is flagged live; the
reader reports it as ``number-as-text`` (type it again as the number, in Arabic digits), counts
no percent for its row, and finds no stored result that disagrees with its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from pmqa_xlsx import generate_workbook, read_return
from pmqa_xlsx import problems as P
from pmqa_xlsx.cellmap import CellMap, IndicatorRow, InputCell
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.libreoffice import convert_many
from pmqa_xlsx.roster import Agency
from pmqa_xlsx.values import cell_number, parse_number

from .conftest import FIXED_TIME

#: Text in a number cell -> the number a person means (what the reader's message asks for).
TEXTS = {"๘๕": "85", "85": "85", " 85 ": "85", "1,234.5": "1,234.5", "๑,๒๓๔.๕": "1,234.5"}
AGENCY = Agency(code="03005", name="กรมการปกครอง", ministry="กระทรวงมหาดไทย")
NUMBER_CODES = ("number-as-text", "not-a-number", "number-out-of-range")


def test_a_number_cell_counts_numbers_only() -> None:
    for text, meant in TEXTS.items():
        assert cell_number(text) is None, text
        assert parse_number(text) == float(meant.replace(",", "")), text
    assert cell_number(85.0) == 85.0 and cell_number(3) == 3.0
    assert cell_number(True) is None and cell_number(float("nan")) is None
    assert cell_number(None) is None


def cases(cellmap: CellMap) -> list[tuple[IndicatorRow, str, Any, Any]]:
    """One row per text as the target (result 90), one per text as the compared result
    (target 100), and a row of numbers: (row, the text or "", target, result)."""
    rows = iter(cellmap.indicator_rows)
    out: list[tuple[IndicatorRow, str, Any, Any]] = []
    for text in TEXTS:
        out.append((next(rows), text, text, 90.0))
        out.append((next(rows), text, 100.0, text))
    out.append((next(rows), "", 85.0, 90.0))
    return out


def filled(layout: Layout, cellmap: CellMap, folder: Path) -> Path:
    blank = folder / "blank.xlsx"
    generate_workbook(layout, blank, agency=AGENCY, generated_at=FIXED_TIME)
    book = openpyxl.load_workbook(blank)
    for row, _, target, result in cases(cellmap):
        sheet = book[row.cells["target"].sheet]
        sheet[row.cells["name"].ref] = f"ตัวชี้วัด {row.item_id}"
        for cell, value in ((row.cells["target"], target), (row.cells[row.compared], result)):
            sheet[cell.ref] = value
            if isinstance(value, str):
                sheet[cell.ref].data_type = "s"  # text, as pasted
    path = folder / "texts.xlsx"
    book.save(path)
    return path


def reader_view(path: Path, cellmap: CellMap) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The reader's percent and score of each case row (by item id), and its problems at the
    row's number cells (codes by cell)."""
    result = read_return(path)
    indicators = result.indicators.set_index("indicator")
    seen = {}
    for row, *_ in cases(cellmap):
        got = indicators.loc[f"ตัวชี้วัด {row.item_id}"]
        seen[row.item_id] = (_blank(got["percent_success"]), _blank(got["score"]))
    at: dict[str, list[str]] = {}
    for problem in result.problems.to_dict("records"):
        if problem["sheet"] == cellmap.indicator_rows[0].cells["target"].sheet:
            at.setdefault(problem["cell"], []).append(problem["code"])
    return seen, at


def _blank(value: Any) -> Any:
    return None if pd.isna(value) else float(value)


def test_the_reader_counts_no_text_and_says_which_number_to_type(
        layout: Layout, cellmap: CellMap, tmp_path: Path) -> None:
    path = filled(layout, cellmap, tmp_path)
    seen, at = reader_view(path, cellmap)
    messages = {(p["cell"], p["code"]): p["message_en"]
                for p in read_return(path).problems.to_dict("records")}
    for row, text, target, _result in cases(cellmap):
        if not text:
            assert seen[row.item_id] == (105.88, 5.0)
            continue
        cell: InputCell = row.cells["target"] if target == text else row.cells[row.compared]
        assert seen[row.item_id] == (None, None), text
        assert at[cell.ref] == ["number-as-text"], text
        assert messages[(cell.ref, "number-as-text")] == P.message(
            "number-as-text", "en", label=cell.label, found=text, number=TEXTS[text])
    # the form's own check agrees, in Python: each text cell's number instance is broken
    broken = {i.cell.ref for i in cellmap.instances if i.check.kind == "number"
              and i.broken(lambda c: _typed(cellmap, c))}
    assert broken == {ref for ref, codes in at.items() if "number-as-text" in codes}


def _typed(cellmap: CellMap, cell: InputCell) -> Any:
    for row, _, target, result in cases(cellmap):
        if cell is row.cells["target"]:
            return target
        if cell is row.cells[row.compared]:
            return result
    return None


@pytest.mark.libreoffice
def test_libreoffice_and_the_reader_agree_on_text_in_number_cells(
        soffice: str, layout: Layout, cellmap: CellMap, tmp_path: Path) -> None:
    path = filled(layout, cellmap, tmp_path)
    probe = tmp_path / "probe.xlsx"
    _probe_book(probe)
    recalculated, probed = convert_many([path, probe], tmp_path / "lo", recalc=True)
    values = openpyxl.load_workbook(recalculated, data_only=True)
    sheet = values[cellmap.indicator_rows[0].cells["target"].sheet]
    reasons = {f.row: f.ref for plan in cellmap.sheets for f in plan.formulas
               if f.kind == "check" and plan.name == sheet.title}
    seen, at = reader_view(recalculated, cellmap)
    for row, text, _, _ in cases(cellmap):
        live = (_blank_cell(sheet[row.percent.ref].value), _blank_cell(sheet[row.score.ref].value))
        assert live == seen[row.item_id], (text, live, seen[row.item_id])
        lines = (sheet[reasons[row.percent.row]].value or "").splitlines()
        live_cells = {line.split(": ", 1)[0] for line in lines}
        reader_cells = {ref for ref, codes in at.items()
                        if any(c in NUMBER_CODES for c in codes)
                        and ref in {c.ref for c in row.cells.values()}}
        assert live_cells == reader_cells and bool(live_cells) == bool(text), (text, lines)
    # LibreOffice's stored results are what the reader computes: no mismatch anywhere
    assert "cached-mismatch" not in {c for codes in at.values() for c in codes}
    # LibreOffice itself converts such text in arithmetic ("85"*1 is 85, Thai digits are
    # #VALUE!), which is why every formula tests ISNUMBER first rather than computing
    facts = openpyxl.load_workbook(probed, data_only=True)["probe"]
    got = {facts.cell(r, 1).value: (facts.cell(r, 2).value, facts.cell(r, 3).value)
           for r in range(1, len(PROBE) + 1)}
    assert got == PROBE


#: What LibreOffice 7.4 computes for =A*1 and =ISNUMBER(A) over text A (measured).
PROBE: dict[str, tuple[Any, Any]] = {
    "๘๕": ("#VALUE!", False), "85": (85, False), " 85 ": (85, False),
    "1,234.5": (1234.5, False),
}


def _probe_book(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "probe"
    for r, text in enumerate(PROBE, start=1):
        sheet.cell(r, 1).value = text
        sheet.cell(r, 1).data_type = "s"
        sheet.cell(r, 2).value = f"=A{r}*1"
        sheet.cell(r, 3).value = f"=ISNUMBER(A{r})"
    book.save(path)


def _blank_cell(value: Any) -> Any:
    return None if value in (None, "") else float(value)


def test_the_readers_number_messages_write_numbers_as_people_do(
        layout: Layout, cellmap: CellMap, tmp_path: Path) -> None:
    """No exponent in what the reader says either: 2e12 against the bounds ±1e12."""
    blank = tmp_path / "blank.xlsx"
    generate_workbook(layout, blank, agency=AGENCY, generated_at=FIXED_TIME)
    book = openpyxl.load_workbook(blank)
    row = cellmap.indicator_rows[0]
    sheet = book[row.cells["target"].sheet]
    sheet[row.cells["name"].ref] = "ตัวชี้วัด"
    sheet[row.cells["target"].ref] = 100.0
    sheet[row.cells[row.compared].ref] = 2e12
    path = tmp_path / "big.xlsx"
    book.save(path)
    problems = read_return(path).problems
    (message,) = problems[problems["code"] == "number-out-of-range"]["message_en"]
    assert "2,000,000,000,000 is not allowed; it must be at least -1,000,000,000,000 and it " \
           "must be at most 1,000,000,000,000" in message
    assert "e+" not in message
    (thai,) = problems[problems["code"] == "number-out-of-range"]["message_th"]
    assert "ใส่ 2,000,000,000,000 ไม่ได้ กรุณาพิมพ์ตัวเลขที่ไม่น้อยกว่า -1,000,000,000,000 และ" \
           "ไม่เกิน 1,000,000,000,000" in thai
