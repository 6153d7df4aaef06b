"""The generated workbook as openpyxl sees it: sheets, protection, locked and unlocked cells,
validations, formulas, metadata, print setup and the Thai look."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from pmqa_xlsx import __version__, build_cellmap, generate_workbook
from pmqa_xlsx.cellmap import META_KEYS, CellMap, InputCell
from pmqa_xlsx.layout import META_SHEET, Layout
from pmqa_xlsx.outputs import legacy_password_hash
from pmqa_xlsx.styles import INPUT_FILL

from .conftest import FIXED_TIME


@pytest.fixture(scope="module")
def book(blank_path: Path) -> Iterator[Workbook]:
    workbook = openpyxl.load_workbook(blank_path)
    yield workbook
    workbook.close()


def validation_cells(ws: Worksheet) -> dict[str, list[object]]:
    """Cell address -> the validations that cover it."""
    covered: dict[str, list[object]] = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            min_col, min_row, max_col, max_row = range_boundaries(rng.coord)
            for r in range(min_row, max_row + 1):
                for c in range(min_col, max_col + 1):
                    covered.setdefault(ws.cell(r, c).coordinate, []).append(dv)
    return covered


def inputs_of(cellmap: CellMap, sheet: str, kind: str | None = None) -> list[InputCell]:
    return [c for c in cellmap.inputs() if c.sheet == sheet and (kind is None or c.kind == kind)]


def test_sheets_in_order_with_metadata_very_hidden(book: Workbook, layout: Layout) -> None:
    assert book.sheetnames == [layout.instructions.sheet, "หมวด 3", "หมวด 7.2", META_SHEET]
    states = {ws.title: ws.sheet_state for ws in book.worksheets}
    assert states == {layout.instructions.sheet: "visible", "หมวด 3": "visible",
                      "หมวด 7.2": "visible", META_SHEET: "veryHidden"}


def test_every_sheet_and_the_structure_are_protected(book: Workbook) -> None:
    for ws in book.worksheets:
        assert ws.protection.sheet, ws.title
        # In OOXML a true insertRows/deleteRows means the action is locked.
        assert ws.protection.insertRows and ws.protection.deleteRows
        assert ws.protection.insertColumns and ws.protection.deleteColumns
    assert book.security is not None
    assert book.security.lockStructure
    assert book.security.workbookPassword is None


def test_password_protects_sheets_and_structure(layout: Layout, tmp_path: Path) -> None:
    path = tmp_path / "pw.xlsx"
    generate_workbook(layout, path, password="ลับ123")
    workbook = openpyxl.load_workbook(path)
    expected = legacy_password_hash("ลับ123")
    assert all(ws.protection.password == expected for ws in workbook.worksheets)
    assert workbook.security.workbookPassword == expected


def test_password_hash_is_excels_legacy_hash() -> None:
    # Known value from ECMA-376 Part 4's algorithm (also what xlsxwriter and Excel write).
    assert legacy_password_hash("password") == "83AF"
    assert legacy_password_hash("") == "CE4B"


def test_unlocked_cells_are_exactly_the_inputs(book: Workbook, cellmap: CellMap) -> None:
    for ws in book.worksheets:
        unlocked = {c.coordinate for row in ws.iter_rows() for c in row
                    if c.protection is not None and not c.protection.locked}
        expected = {c.ref for c in inputs_of(cellmap, ws.title)}
        assert unlocked == expected, ws.title


def test_no_row_or_column_style_unlocks_cells(blank_path: Path) -> None:
    """A style on a whole column or row would unlock cells openpyxl never lists."""
    with zipfile.ZipFile(blank_path) as package:
        sheets = [n for n in package.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 4
        for name in sheets:
            xml = package.read(name).decode()
            assert not re.search(r"<col [^>]*style=", xml), name
            assert 'customFormat="1"' not in xml, name


def test_input_counts_match_the_paper(cellmap: CellMap) -> None:
    assert len(inputs_of(cellmap, "หมวด 3", "status")) == 19
    # 2+2+2 (3.1), 1+1 (3.2.1), 2+8+1 (3.2.2), 3 (3.3), 1+2+1+1 (3.4)
    assert len(inputs_of(cellmap, "หมวด 3", "text")) == 27
    assert len(cellmap.indicator_rows) == 50
    assert len(inputs_of(cellmap, "คำชี้แจง", "identity")) == 8


def test_status_cells_have_the_three_statuses_as_a_dropdown(
    book: Workbook, cellmap: CellMap, layout: Layout
) -> None:
    ws = book["หมวด 3"]
    covered = validation_cells(ws)
    expected = '"' + ",".join(layout.status_labels()) + '"'
    for cell in inputs_of(cellmap, "หมวด 3", "status"):
        (dv,) = covered[cell.ref]
        assert (dv.type, dv.formula1) == ("list", expected)
        assert not dv.showDropDown  # (true would hide the arrow)
        assert dv.showErrorMessage and dv.errorStyle in (None, "stop")
        assert dv.promptTitle and dv.prompt and dv.errorTitle and dv.error
    assert not {c.ref for c in inputs_of(cellmap, "หมวด 3", "text")} & covered.keys()


def test_number_cells_are_validated(book: Workbook, cellmap: CellMap) -> None:
    ws = book["หมวด 7.2"]
    covered = validation_cells(ws)
    for row in cellmap.indicator_rows:
        target = covered[row.cells["target"].ref]
        assert [(dv.type, dv.operator, float(dv.formula1)) for dv in target] == [
            ("decimal", "greaterThan", 0.0)]
        for field in ("result_1", "result_2", "result_3"):
            (dv,) = covered[row.cells[field].ref]
            assert dv.type == "decimal"
            assert dv.operator in (None, "between")  # absent means between, its default
            assert float(dv.formula1) == -1e12 and float(dv.formula2) == 1e12
        (direction,) = covered[row.cells["direction"].ref]
        assert (direction.type, direction.formula1) == ("list", '"ยิ่งมากยิ่งดี,ยิ่งน้อยยิ่งดี"')
        assert row.cells["name"].ref not in covered


def test_every_indicator_row_has_live_formulas(book: Workbook, cellmap: CellMap) -> None:
    ws = book["หมวด 7.2"]
    for row in cellmap.indicator_rows:
        target, result = row.cells["target"].ref, row.cells["result_3"].ref
        percent = ws[row.percent.ref].value
        assert percent.startswith("=IF(AND(ISNUMBER(") and f"{result}/{target}*100" in percent
        assert f"{target}/{result}*100" in percent  # the lower-is-better branch
        assert ws[row.score.ref].value.startswith(f"=IF(ISNUMBER({row.percent.ref})")
        assert ws[row.percent.ref].protection.locked and ws[row.score.ref].protection.locked


def test_fresh_formulas_cache_blank_not_zero(blank_path: Path, cellmap: CellMap) -> None:
    workbook = openpyxl.load_workbook(blank_path, data_only=True)
    ws = workbook["หมวด 7.2"]
    cached = {ws[f.ref].value for f in cellmap.formulas() if f.sheet == "หมวด 7.2"}
    assert cached <= {None, ""} and 0 not in cached
    first = workbook[cellmap.sheets[0].name]
    values = [first[f.ref].value for f in cellmap.sheets[0].formulas]
    # and the checks: every status is still to be chosen, nothing else is wrong
    statuses = [c for c in cellmap.inputs() if c.kind == "status"]
    assert values[:3] == ["0 / 54", 0, f"ต้องแก้ไข {len(statuses)} จุด"]
    lines = "".join(v or "" for v in values[3:]).splitlines()
    assert lines == [f"{c.ref}: ยังไม่ได้เลือกสถานะการดำเนินการ" for c in statuses]


def test_metadata_sheet(book: Workbook, layout: Layout) -> None:
    ws = book[META_SHEET]
    meta = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, len(META_KEYS) + 1)}
    assert meta == {
        "form_id": layout.form.id,
        "form_version": layout.form.version,
        "layout_fingerprint": layout.fingerprint,
        "fiscal_year": "2562",
        "agency_code": "",
        "generator": "pmqa_xlsx",
        "generator_version": __version__,
        "generated_at": FIXED_TIME.isoformat(timespec="seconds"),
        "token": "",  # a blank form is issued to no one
    }


def test_print_setup_and_thai_look(book: Workbook, cellmap: CellMap, layout: Layout) -> None:
    for plan in cellmap.sheets:
        ws = book[plan.name]
        assert ws.page_setup.paperSize == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        # fitToWidth is absent when it is 1, its default
        assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0)
        assert "&P" in ws.oddFooter.right.text and "&N" in ws.oddFooter.right.text
        assert ws.oddFooter.left.text == layout.form.title
        for cell in plan.inputs:
            c = ws[cell.ref]
            assert c.font.name == "TH Sarabun New" and c.font.sz == 16
            assert c.fill.fgColor.rgb == "FF" + INPUT_FILL[1:]
    cat3, cat7 = book["หมวด 3"], book["หมวด 7.2"]
    assert cat3.print_title_rows == "$3:$3" and cat3.freeze_panes == "A4"
    assert cat7.print_title_rows == "$1:$2" and cat7.freeze_panes == "A3"
    assert cat3.page_setup.orientation == "landscape"
    assert len(cat7.row_breaks.brk) == 4  # one table per page


def test_year_shifts_target_and_result_years(layout: Layout, tmp_path: Path) -> None:
    path = tmp_path / "2569.xlsx"
    generate_workbook(layout, path, year=2569)
    workbook = openpyxl.load_workbook(path)
    texts = {c.value for row in workbook["หมวด 7.2"].iter_rows() for c in row
             if isinstance(c.value, str)}
    assert {"2569\n(ตัวเลข)", "2567", "2568", "2569"} <= texts
    assert not {"2560", "2561", "2562\n(ตัวเลข)"} & texts
    assert workbook[META_SHEET]["B4"].value == "2569"
    cellmap = build_cellmap(layout, 2569)
    assert [cellmap.indicator_rows[0].cells[f].year
            for f in ("target", "result_1", "result_2", "result_3")] == [2569, 2567, 2568, 2569]


def test_structure_lock_sits_where_the_schema_puts_it(blank_path: Path) -> None:
    with zipfile.ZipFile(blank_path) as package:
        xml = package.read("xl/workbook.xml").decode()
        assert package.testzip() is None
    assert xml.index("<workbookPr") < xml.index("<workbookProtection") < xml.index("<bookViews>")


def test_completeness_formula_counts_exactly_the_expected_cells(
    book: Workbook, cellmap: CellMap
) -> None:
    first = cellmap.sheets[0]
    formula = book[first.name][first.formulas[0].ref].value
    expected = {(c.sheet, c.ref) for c in cellmap.inputs()
                if c.kind in ("identity", "status", "text") and c.sheet != "หมวด 7.2"}
    covered: list[tuple[str, str]] = []
    # with checks: filled texts and identity (CLEAN), valid statuses (COUNTIF), less the
    # details a check flags (after ")-(", cells counted already)
    counted = formula.split(")-(")[0]
    for sheet, ref in re.findall(r"(?:CLEAN|COUNTIF)\(('[^']+'|[^'!(]+)!([A-Z0-9:]+)", counted):
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        covered.extend((sheet.strip("'"), ws_cell.coordinate)
                       for row in book[sheet.strip("'")].iter_rows(min_row, max_row, min_col,
                                                                   max_col)
                       for ws_cell in row)
    assert len(covered) == len(set(covered)) and set(covered) == expected
    assert len(expected) == 54 and formula.endswith(f'&" / {len(expected)}"')


def test_text_inputs_keep_what_is_typed(book: Workbook, cellmap: CellMap) -> None:
    """Text inputs are formatted as text, so 03005 or 31/03/2562 are not turned into numbers
    or dates; number inputs are General, so numbers stay numbers."""
    for cell in cellmap.inputs():
        fmt = book[cell.sheet][cell.ref].number_format
        assert fmt == ("General" if cell.kind == "number" else "@"), (cell.sheet, cell.ref)


def test_number_cells_prompt_and_alert_in_thai(book: Workbook, cellmap: CellMap) -> None:
    covered = validation_cells(book["หมวด 7.2"])
    (dv,) = covered[cellmap.indicator_rows[0].cells["target"].ref]
    assert (dv.promptTitle, dv.errorTitle) == ("พิมพ์ตัวเลขเท่านั้น", "ต้องเป็นตัวเลข")
    assert dv.prompt == "ค่าเป้าหมาย 2562: พิมพ์ตัวเลขมากกว่า 0"
    assert dv.error == "ช่องนี้รับเฉพาะตัวเลขมากกว่า 0 เช่น 85 หรือ 1,250.5"


def test_blank_prompts_reach_the_cell(tmp_path: Path) -> None:
    from pmqa_xlsx.layout import parse_layout, resolve_layout_path

    text = resolve_layout_path(None).read_text(encoding="utf-8").replace(
        "- {id: trend, label: โดยแนวโน้มการเปลี่ยนแปลงนั้น คือ}",
        "- {id: trend, label: โดยแนวโน้มการเปลี่ยนแปลงนั้น คือ, prompt: ระบุแนวโน้มสั้นๆ}")
    layout = parse_layout(text)
    generate_workbook(layout, tmp_path / "p.xlsx")
    cell = next(c for c in build_cellmap(layout).inputs() if c.field_id == "trend")
    (dv,) = validation_cells(openpyxl.load_workbook(tmp_path / "p.xlsx")["หมวด 3"])[cell.ref]
    assert (dv.type, dv.prompt) == (None, "ระบุแนวโน้มสั้นๆ")  # "any" is the absent type


def test_files_are_readable_by_colleagues(blank_path: Path) -> None:
    import os
    import stat

    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(blank_path.stat().st_mode) == 0o666 & ~umask
