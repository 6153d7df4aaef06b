"""Loading a layout checks it against every limit of the reader and of Excel (limits.py): a
layout that loads is generated, filled and read back; one that would not be is refused at
load, at the YAML path of what makes it too big. The size bounds are held against returns
written by xlsxwriter, openpyxl and LibreOffice."""

from __future__ import annotations

import copy
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pmqa_xlsx import LayoutError, build_cellmap, generate_workbook, parse_layout, read_return
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.generate import render_workbook
from pmqa_xlsx.layout import Layout, resolve_layout_path
from pmqa_xlsx.libreoffice import convert
from pmqa_xlsx.limits import measure
from pmqa_xlsx.xlsxread import MAX_CELLS, MAX_COL, MAX_MARKUP, MAX_ROW, open_package

from .fill import fill
from .steps import calls

RAW: dict[str, Any] = yaml.safe_load(resolve_layout_path(None).read_text(encoding="utf-8"))
LARGEST_ROWS = 100  # indicator rows per table (of 5) the bundled layout can be given
# (111 before a table taller than a page repeated its header on each page it runs over and
# before the longer live message of a number typed as text)


def changed(change: Callable[[dict[str, Any]], None]) -> str:
    data = copy.deepcopy(RAW)
    change(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)


def problems_after(change: Callable[[dict[str, Any]], None]) -> list[str]:
    with pytest.raises(LayoutError) as info:
        parse_layout(changed(change))
    return list(info.value.problems)


def with_rows(rows: int) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["sheets"][1].update(rows=rows)


def sub_rows(count: int) -> Callable[[dict[str, Any]], None]:
    """Category 3 as one item of ``count`` sub-rows, each a status, a text and an after."""
    def change(d: dict[str, Any]) -> None:
        d["sheets"][0]["sections"] = [{"id": "3.1", "title": "หัวข้อ", "items": [{
            "id": "3.1.1", "topic": "เรื่อง", "rows": [
                {"id": f"3.1.1.r{i}", "text": "ข้อความ", "after": "ท้าย"}
                for i in range(count)]}]}]
    return change


# -- the reader's limits -----------------------------------------------------------------------

def test_the_largest_layout_loads_and_one_row_more_does_not() -> None:
    parse_layout(changed(with_rows(LARGEST_ROWS)))
    assert problems_after(with_rows(LARGEST_ROWS + 1)) == [
        "$.sheets[1].tables[4]: a return of this layout, every input filled, would be more "
        "than the reader reads of one file (about 100.4% of it: 51,749 XML elements of 80,000, "
        "2.9 MB of 8 MB, together); it gets there here: give fewer rows, tables or sheets"]


def test_rows_past_the_readers_last_are_refused_at_the_item() -> None:
    found = problems_after(sub_rows(2_600))
    # title, heading, header and section take rows 1 to 4; sub-row k starts at row 5 + 2k
    assert (f"$.sheets[0].sections[0].items[0].rows[2498]: the sheet 'หมวด 3' would run to "
            f"row 5,204, and the reader reads rows 1 to {MAX_ROW:,} only (it passes them here): "
            "give fewer rows or tables, or spread them over more sheets") in found


def test_columns_past_the_readers_last_are_refused_at_the_result_years() -> None:
    def years(count: int, checks: bool = False) -> Callable[[dict[str, Any]], None]:
        def change(d: dict[str, Any]) -> None:
            d["sheets"][1].update(result_years=list(range(-50, count - 50)))
            if not checks:
                del d["checks"]  # the reason column would add one, and a long formula
        return change

    parse_layout(changed(years(MAX_COL - 7)))  # number, name, unit, direction, target, 2 rules
    assert problems_after(years(MAX_COL - 6)) == [
        f"$.sheets[1].result_years: the sheet 'หมวด 7.2' would have {MAX_COL + 1} columns, and "
        f"the reader reads {MAX_COL} at most: give fewer result years"]
    # with checks, the reason column beside each row checks every result: its formula
    # passes Excel's limit long before the sheet passes the reader's columns
    found = problems_after(years(60, checks=True))
    assert found == [
        "$.checks: the reason formula at 'หมวด 7.2'!BP10 would be 16,594 characters, and "
        "Excel takes at most 8,192: the row has too many cells to check; give it fewer blanks "
        "or result years"]


def test_too_many_cells_in_one_sheet_are_refused_at_the_table() -> None:
    found = problems_after(with_rows(220))
    cells = [p for p in found if f"more than the {MAX_CELLS:,} the reader" in p]
    assert len(cells) == 1
    # 11,000 inputs and formulas, the reason cells, and the header written again on each page
    # a table runs over: the fourth table passes the limit
    assert cells[0].startswith("$.sheets[1].tables[3]: with every input filled, the sheet "
                               "'หมวด 7.2' would hold 13,")
    # the reason cells and conditional formats of the checks: the markup passes a table
    # earlier than the cells do
    assert any(p.startswith("$.sheets[1].tables[3]: ") and f"more than the {MAX_MARKUP:,}" in p
               for p in found)


def test_sheets_each_within_the_limits_can_be_too_much_together() -> None:
    def three_sheets(d: dict[str, Any]) -> None:
        sheet = d["sheets"][1]
        sheet["rows"] = 60  # 100 is the most one sheet may have (LARGEST_ROWS)
        for n in (8, 9):
            more = copy.deepcopy(sheet)
            more.update(id=f"{n}", sheet=f"หมวด {n}")
            for table in more["tables"]:
                table["id"] = table["id"].replace("7.2", f"{n}")
            d["sheets"].append(more)

    (problem,) = problems_after(three_sheets)
    assert problem.startswith("$.sheets[2].tables[")
    assert "would be more than the reader reads of one file" in problem


def test_a_huge_layout_is_refused_before_it_is_laid_out() -> None:
    def huge(d: dict[str, Any]) -> None:
        d["sheets"][1]["rows"] = 500
        d["sheets"][1]["tables"] = [{"id": f"7.2.{i}", "title": "t", "description": "d"}
                                    for i in range(1, 1001)]

    assert problems_after(huge) == [
        "$.sheets[1]: the sheet 'หมวด 7.2' would have at least 2,000,000 input cells, and the "
        "reader reads at most 10,000 in one sheet: give fewer rows or tables, or spread them "
        "over more sheets"]
    # refused before it is laid out: no more work (function calls, counted) per character
    # of its YAML than the bundled layout takes, laid out (laying out 2,000,000 cells would
    # take thousands of times more)
    text, bundled = changed(huge), changed(lambda d: None)
    assert calls(parse_layout, text, expect=LayoutError) / len(text) < calls(
        parse_layout, bundled) / len(bundled)


# -- Excel's limits ----------------------------------------------------------------------------

def test_a_formula_over_excels_length_is_refused_at_its_label() -> None:
    found = problems_after(sub_rows(500))  # 500 separate runs of status cells to count
    assert len(found) == 1
    assert found[0].startswith("$.instructions.completeness: the formula at 'คำชี้แจง'!B29 "
                               "would be ")
    assert found[0].endswith("and Excel takes at most 8,192: the form has too many separate "
                             "runs of input cells to count in one formula; give fewer items "
                             "or blanks")


def test_a_number_prompt_over_excels_length_is_refused_at_its_column() -> None:
    found = problems_after(lambda d: d["sheets"][1]["columns"].update(target="ก" * 230))
    assert found[0] == (
        "$.sheets[1].columns.target: on the cells 'หมวด 7.2'!E10..., the input message Excel "
        f"shows ('{'ก' * 57}...') would be 257 characters, and Excel takes at most 255: "
        "shorten this label by 2")
    # and the heading of each table, 230 letters in a column 13 wide, no Excel row can show
    assert len(found) == 1 + 5 and all("an Excel row is at most 409 points" in p
                                       for p in found[1:])


def test_a_composed_text_over_excels_cell_is_refused_at_its_sheet() -> None:
    found = problems_after(lambda d: d["instructions"]["lines"].__setitem__(0, "ก" * 32_766))
    assert found == [
        f"$.instructions: the text at 'คำชี้แจง'!A3 ('1. {'ก' * 37}...') would be 32,769 "
        "characters, and an Excel cell holds at most 32,767: shorten it",
        "$.instructions: the text of row 3 of the sheet 'คำชี้แจง' needs about 10,240 points, "
        "and an Excel row is at most 409 points tall (about 12 lines), so it would be cut off: "
        "shorten it, or split it over sub-rows"]


# -- the bounds hold against real returns ------------------------------------------------------

def every_input_as_text(cellmap: CellMap) -> dict[tuple[str, str], Any]:
    """The costliest answers: text in every input (number cells included)."""
    return {(c.item_id, c.field_id): f"คำตอบ {n}" for n, c in enumerate(cellmap.inputs())}


def actual_sizes(path: Path, layout: Layout) -> tuple[list[tuple[int, int]], tuple[int, int],
                                                       list[int]]:
    """Per visible sheet part ('<', '='), the reader's totals over what it reads, and its
    filled cells per sheet."""
    cellmap = build_cellmap(layout)
    with zipfile.ZipFile(path) as archive, open_package(path) as package:
        parts, cells = [], []
        for plan in cellmap.sheets:
            info = package.sheet(plan.name)
            assert info is not None
            data = archive.read(info.path.lstrip("/"))
            parts.append((data.count(b"<"), data.count(b"=")))
            cells.append(len(package.read_cells(info).cells))
        meta = package.sheet("_meta")
        assert meta is not None
        package.read_cells(meta, max_row=50, max_col=2)
        return parts, (package._markup_total, int(package.load() * 1000)), cells


def check_bounds(path: Path, layout: Layout) -> None:
    parts, total = measure(build_cellmap(layout))
    actual_parts, (markup, cost), cells = actual_sizes(path, layout)
    for bound, (elements, attributes), filled in zip(parts, actual_parts, cells, strict=True):
        assert elements <= bound.markup and attributes <= bound.attributes
        assert filled <= bound.cells
    assert markup <= total.markup and cost <= total.cost() * 1000
    result = read_return(path, layouts=[layout])
    assert "too-large" not in set(result.problems["code"]), result.problems


@pytest.fixture(scope="module")
def largest() -> Layout:
    return parse_layout(changed(with_rows(LARGEST_ROWS)))


@pytest.mark.parametrize("which", ["bundled", "largest"])
def test_the_bounds_hold_for_xlsxwriter_and_openpyxl(which: str, largest: Layout,
                                                     tmp_path: Path) -> None:
    layout = parse_layout(changed(lambda d: None)) if which == "bundled" else largest
    cellmap = build_cellmap(layout)
    written = tmp_path / "xlsxwriter.xlsx"
    written.write_bytes(render_workbook(cellmap, answers=every_input_as_text(cellmap)))
    check_bounds(written, layout)
    blank = tmp_path / "blank.xlsx"
    blank.write_bytes(render_workbook(cellmap))
    fill(cellmap, blank, tmp_path / "openpyxl.xlsx", overrides={
        f"{c.sheet}!{c.ref}": f"คำตอบ {n}" for n, c in enumerate(cellmap.inputs())
        if c.kind not in ("status", "direction")})
    check_bounds(tmp_path / "openpyxl.xlsx", layout)


@pytest.mark.libreoffice
def test_the_bounds_hold_for_libreoffice(largest: Layout, soffice: str, tmp_path: Path) -> None:
    cellmap = build_cellmap(largest)
    written = tmp_path / "filled.xlsx"
    written.write_bytes(render_workbook(cellmap, answers=every_input_as_text(cellmap)))
    check_bounds(convert(written, tmp_path / "lo"), largest)


def _topic(data: dict[str, Any], item: int, words: int) -> None:
    data["sheets"][0]["sections"][3]["items"][item]["topic"] = "มีการตอบสนองกลับต่อข้อร้องเรียน " * words


def test_a_text_no_excel_row_can_show_is_refused_at_its_item() -> None:
    """An Excel row is at most 409 points: a topic on one row that needs more would be cut
    off on screen and on paper, so the layout is refused where the topic is."""
    (problem,) = problems_after(lambda d: _topic(d, 3, 120))  # 3.4.4: a single row
    assert problem.startswith("$.sheets[0].sections[3].items[3]: the text of row ")
    assert "an Excel row is at most 409 points" in problem


def test_a_long_topic_over_sub_rows_is_spread_and_every_row_fits(tmp_path: Path) -> None:
    """3.4.2 has four sub-rows: a topic needing about 1,000 points is spread over them, none past
    Excel's 409, and the workbook says so in its XML (Excel would refuse a taller row)."""
    layout = parse_layout(changed(lambda d: _topic(d, 1, 40)))
    plan = build_cellmap(layout).sheets[1]
    rows = [c.row for c in plan.inputs if c.item_id.startswith("3.4.2.")]
    heights = [plan.heights.get(r, 25.0) for r in sorted(set(rows))]
    assert max(heights) <= 409 and sum(heights) > 409
    generate_workbook(layout, tmp_path / "tall.xlsx")
    with zipfile.ZipFile(tmp_path / "tall.xlsx") as package:
        sheet = package.read("xl/worksheets/sheet2.xml").decode()
    assert max(float(h) for h in re.findall(r'\bht="([0-9.]+)"', sheet)) <= 409
