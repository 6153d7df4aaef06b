"""Feedback copies (pmqa_xlsx/feedback.py, check/merge --feedback): a return with typical
mistakes gets a copy with exactly its problem cells marked, Thai notes and a first sheet of
working links; re-typed percent and date cells are fixed in place; the copy, fixed with
openpyxl (and re-saved by LibreOffice), is read as a normal return: ok. The marks add no
problem; what openpyxl would lose from the form is kept; unsafe folders are refused."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from pmqa_xlsx import build_cellmap, generate_workbook, load_layout, read_return
from pmqa_xlsx.cellmap import CellMap, InputCell
from pmqa_xlsx.cli import main
from pmqa_xlsx.consolidate import check_files, collect_inputs
from pmqa_xlsx.feedback import (
    ERROR_FILL,
    FIXABLE,
    NOTE_AUTHOR,
    WARNING_FILL,
    ReturnFeedback,
    from_consolidated,
    from_reads,
    write_feedback,
)
from pmqa_xlsx.inputs import InputFile
from pmqa_xlsx.layout import FEEDBACK_MARKER, FEEDBACK_SHEET, META_SHEET, LayoutError, parse_layout
from pmqa_xlsx.libreoffice import convert
from pmqa_xlsx.roster import Agency

from .fill import fill

CODE = "03001"
THAI = re.compile(r"[\u0e00-\u0e7f]")


@dataclass(frozen=True)
class Mistakes:
    """A filled return with typical mistakes, and the cells they are in."""

    path: Path
    cellmap: CellMap
    percent: InputCell  # a target typed as 85% (stored 0.85, formatted 0%)
    date: InputCell  # a result typed as a date (stored 43555, formatted d/m/yyyy)
    words: InputCell  # "ร้อยละ 85" in a number cell
    status: InputCell  # a status that is not one of the choices
    detail: InputCell  # a blank of a 'done' row left empty


def _cells(cellmap: CellMap) -> dict[str, InputCell]:
    inputs = list(cellmap.inputs())
    numbers = [c for c in inputs if c.kind == "number" and c.item_id.endswith(".1")]
    target = next(c for c in numbers if c.field_id == "target")
    results = [c for c in numbers if c.field_id.startswith("result") and c.row == target.row]
    statuses = [c for c in inputs if c.kind == "status"]
    detail = next(c for c in inputs if c.kind == "text" and c.item_id == statuses[1].item_id)
    return {"percent": target, "date": results[0], "words": results[1],
            "status": statuses[0], "detail": detail}


@pytest.fixture(scope="module")
def form(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CellMap]:
    layout = load_layout()
    path = tmp_path_factory.mktemp("form") / "blank.xlsx"
    generate_workbook(layout, path, agency=Agency(code=CODE, name="กรมทดสอบ",
                                                  ministry="กระทรวงทดสอบ"))
    return path, build_cellmap(layout)


def _mistakes(form: tuple[Path, CellMap], folder: Path, name: str = f"{CODE}.xlsx") -> Mistakes:
    blank, cellmap = form
    cells = _cells(cellmap)
    path = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    fill(cellmap, blank, path, {
        _key(cells["words"]): "ร้อยละ 85", _key(cells["status"]): "ทำแล้ว",
        _key(cells["detail"]): None}, agency_code=CODE)
    book = openpyxl.load_workbook(path)
    percent = book[cells["percent"].sheet][cells["percent"].ref]
    percent.value, percent.number_format = 0.85, "0%"  # what Excel stores for "85%"
    date = book[cells["date"].sheet][cells["date"].ref]
    date.value, date.number_format = 43555, "d/m/yyyy"  # what Excel stores for "31/3/2019"
    book.save(path)
    return Mistakes(path, cellmap, **cells)


def _key(cell: InputCell) -> str:
    return f"{cell.sheet}!{cell.ref}"


def _problems(path: Path) -> set[tuple[str, str, str]]:
    frame = read_return(path).problems
    return {(str(r.sheet), str(r.cell), str(r.code)) for r in frame.itertuples()}


def _check(*args: str) -> Any:
    return CliRunner().invoke(main, ["check", *args])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _marked(book: Any) -> dict[tuple[str, str], tuple[str, str]]:
    """(sheet, cell) -> (fill, note) of every cell carrying one of our notes."""
    out = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.comment is not None and cell.comment.author == NOTE_AUTHOR:
                    out[(ws.title, cell.coordinate)] = (cell.fill.fgColor.rgb, cell.comment.text)
    return out


@pytest.fixture(scope="module")
def checked(form: tuple[Path, CellMap],
            tmp_path_factory: pytest.TempPathFactory) -> tuple[Mistakes, Path, Any, str]:
    """The mistakes, ``check --feedback`` run on them: (mistakes, copy, result, input hash)."""
    root = tmp_path_factory.mktemp("checked")
    mistakes = _mistakes(form, root / "returns")
    before = _sha(mistakes.path)
    result = _check(str(root / "returns"), "--feedback", str(root / "feedback"))
    return mistakes, root / "feedback" / mistakes.path.name, result, before


def test_check_writes_a_copy_and_leaves_the_input(checked: tuple[Mistakes, Path, Any, str]
                                                  ) -> None:
    mistakes, copy, result, before = checked
    assert result.exit_code == 1, result.output  # the return is still rejected
    assert "เขียนสำเนาผลการตรวจ 1 ไฟล์ไปที่" in result.output
    assert copy.is_file()
    assert _sha(mistakes.path) == before  # the input is never modified


def test_exactly_the_problem_cells_are_marked(checked: tuple[Mistakes, Path, Any, str]) -> None:
    mistakes, copy, _, _ = checked
    problems = _problems(mistakes.path)
    codes = {(s, c): code for s, c, code in problems}
    expected = {(mistakes.percent.sheet, mistakes.percent.ref): "typed-as-percent",
                (mistakes.date.sheet, mistakes.date.ref): "typed-as-date",
                (mistakes.words.sheet, mistakes.words.ref): "not-a-number",
                (mistakes.status.sheet, mistakes.status.ref): "bad-status",
                (mistakes.detail.sheet, mistakes.detail.ref): "details-required"}
    assert {k: codes.get(k) for k in expected} == expected  # the mistakes are found
    marked = _marked(openpyxl.load_workbook(copy))
    assert set(marked) == {(s, c) for s, c, _ in problems}
    for (fill_, note) in marked.values():
        assert fill_ == ERROR_FILL  # every problem here is an error
        assert note.startswith("ผลการตรวจ: ") and THAI.search(note)


def test_percent_and_date_are_fixed_in_place(checked: tuple[Mistakes, Path, Any, str]) -> None:
    mistakes, copy, _, _ = checked
    book = openpyxl.load_workbook(copy)
    percent = book[mistakes.percent.sheet][mistakes.percent.ref]
    date = book[mistakes.date.sheet][mistakes.date.ref]
    for cell in (percent, date):
        assert cell.number_format == "General" and cell.value is None
    assert "85%" in percent.comment.text and "พิมพ์ 85" in percent.comment.text
    assert "31/03/2019" in date.comment.text and "ไม่ใช่วันที่" in date.comment.text
    words = book[mistakes.words.sheet][mistakes.words.ref]
    assert words.value == "ร้อยละ 85"  # nothing else the agency typed is removed
    status = book[mistakes.status.sheet][mistakes.status.ref]
    assert status.value == "ทำแล้ว"


def test_the_list_sheet(checked: tuple[Mistakes, Path, Any, str]) -> None:
    mistakes, copy, _, _ = checked
    book = openpyxl.load_workbook(copy)
    assert book.sheetnames[0] == FEEDBACK_SHEET and book.active.title == FEEDBACK_SHEET
    assert [ws.title for ws in book.worksheets if ws.sheet_view.tabSelected] == [FEEDBACK_SHEET]
    sheet = book[FEEDBACK_SHEET]
    assert sheet["H1"].value == FEEDBACK_MARKER and sheet.column_dimensions["H"].hidden
    assert "ส่งไฟล์นี้กลับ" in sheet["A3"].value
    assert sheet["A1"].font.name == "TH Sarabun New"
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4 == "9"  # A4
    rows = [r for r in sheet.iter_rows(min_row=5) if r[0].value is not None]
    problems = _problems(mistakes.path)
    assert len(rows) == len(problems)
    listed = set()
    for row in rows:
        name, ref, severity, message = (row[1].value, row[2].value, row[3].value, row[4].value)
        link = row[2].hyperlink
        assert link is not None and link.target is None  # inside the workbook only
        assert link.location == f"'{name}'!{ref}"
        assert book[name][ref] is not None
        assert severity == "ข้อผิดพลาด (ต้องแก้)" and message
        listed.add((name, ref))
    assert listed == {(s, c) for s, c, _ in problems}


def test_nothing_written_is_a_formula_or_an_external_link(
        checked: tuple[Mistakes, Path, Any, str]) -> None:
    _, copy, _, _ = checked
    with zipfile.ZipFile(copy) as package:
        names = package.namelist()
        first = package.read("xl/worksheets/sheet1.xml").decode()
        rels = [package.read(n).decode() for n in names if n.endswith(".rels")]
    assert "<f>" not in first and "<f " not in first
    assert not any("External" in r for r in rels)


def test_the_unfixed_copy_has_the_same_problems(checked: tuple[Mistakes, Path, Any, str]
                                                ) -> None:
    """Read as it is, the copy gives the original's problems, except on the cells fixed in
    place: those are blank now, and what the checks say of a blank (a result without its
    target) instead. The marks and the list add nothing."""
    mistakes, copy, _, _ = checked
    before, after = _problems(mistakes.path), _problems(copy)
    fixed = {(s, c) for s, c, code in before if code in FIXABLE}
    assert {p for p in before if p[:2] not in fixed} == {p for p in after if p[:2] not in fixed}
    on_fixed = {p for p in after if p[:2] in fixed}
    assert on_fixed == {(mistakes.percent.sheet, mistakes.percent.ref, "result-without-target")}


def _fix(mistakes: Mistakes, copy: Path, out: Path) -> None:
    """What the agency does in the copy: type each answer as the form asks, and save."""
    book = openpyxl.load_workbook(copy)
    answers = {mistakes.percent: 85, mistakes.date: 70, mistakes.words: 85,
               mistakes.status: mistakes.status.choices[-1], mistakes.detail: "รายละเอียด"}
    for cell, value in answers.items():
        book[cell.sheet][cell.ref].value = value
    book.save(out)


def test_the_fixed_copy_is_ok(checked: tuple[Mistakes, Path, Any, str], tmp_path: Path) -> None:
    mistakes, copy, _, _ = checked
    fixed = tmp_path / "fixed.xlsx"
    _fix(mistakes, copy, fixed)
    result = read_return(fixed)
    assert list(result.problems["code"]) == [] and result.state == "ok"
    assert _check(str(fixed)).exit_code == 0


@pytest.mark.libreoffice
def test_the_fixed_copy_resaved_by_libreoffice_is_ok(
        checked: tuple[Mistakes, Path, Any, str], tmp_path: Path, soffice: str) -> None:
    mistakes, copy, _, _ = checked
    fixed = tmp_path / "fixed.xlsx"
    _fix(mistakes, copy, fixed)
    saved = convert(fixed, tmp_path / "lo")
    with zipfile.ZipFile(saved) as package:  # LibreOffice kept the notes (their drawing)
        assert any("vmlDrawing" in n for n in package.namelist())
    result = read_return(saved)
    assert list(result.problems["code"]) == [] and result.state == "ok"


def _everywhere(cellmap: CellMap, file: str) -> Iterator[Any]:
    """A warning on every input cell (and one on each sheet): marks on the whole form."""
    @dataclass(frozen=True)
    class Fake:
        file: str
        sheet: str | None
        cell: str | None
        severity: str
        code: str
        message_th: str

    for cell in cellmap.inputs():
        yield Fake(file, cell.sheet, cell.ref, "warning", "stray-value", "ตรวจช่องนี้ =1+1")
    for plan in cellmap.sheets:
        yield Fake(file, plan.name, None, "warning", "hidden-sheet", "=HYPERLINK(\"x\")")


def test_marks_on_every_input_add_no_problem(form: tuple[Path, CellMap], tmp_path: Path) -> None:
    """Every reader check against a copy marked everywhere: a complete return stays ok, with
    the same answers, and the notes' drawing is not taken for shapes over the form."""
    blank, cellmap = form
    good = tmp_path / "in" / "good.xlsx"
    good.parent.mkdir()
    fill(cellmap, blank, good, agency_code=CODE)
    original = read_return(good)
    assert original.state == "ok"
    entry = InputFile.of(good)
    done = write_feedback([ReturnFeedback(entry, tuple(_everywhere(cellmap, entry.name)),
                                          cellmap)], tmp_path / "out")
    copy = done.written[0][1]
    marked = _marked(openpyxl.load_workbook(copy))
    assert len(marked) == len(list(cellmap.inputs()))
    assert {f for f, _ in marked.values()} == {WARNING_FILL}
    again = read_return(copy)
    assert again.state == "ok", again.problems.to_string()
    assert _values(again.answers) == _values(original.answers)
    sheet = openpyxl.load_workbook(copy)[FEEDBACK_SHEET]
    messages = [row[4] for row in sheet.iter_rows(min_row=5) if row[0].value is not None]
    assert {c.value for c in messages} == {"ตรวจช่องนี้ =1+1", '=HYPERLINK("x")'}
    assert {c.data_type for c in messages} == {"s"}  # text, never a formula


@pytest.mark.libreoffice
def test_marks_on_every_input_survive_libreoffice(form: tuple[Path, CellMap], tmp_path: Path,
                                                  soffice: str) -> None:
    blank, cellmap = form
    good = tmp_path / "good.xlsx"
    fill(cellmap, blank, good, agency_code=CODE)
    entry = InputFile.of(good)
    done = write_feedback([ReturnFeedback(entry, tuple(_everywhere(cellmap, entry.name)),
                                          cellmap)], tmp_path / "out")
    saved = convert(done.written[0][1], tmp_path / "lo")
    result = read_return(saved)
    assert result.state == "ok", result.problems.to_string()
    assert _values(result.answers) == _values(read_return(good).answers)


def _values(answers: Any) -> list[tuple[Any, ...]]:
    """The answers read, without the file they came from."""
    return [tuple(r) for r in answers.drop(columns=["file"]).astype(str).itertuples(index=False)]


def _form_facts(path: Path) -> dict[str, Any]:
    """What a copy must keep of the form, per sheet: state, protection, validations,
    conditional formats, print titles; the metadata; the workbook's structure lock."""
    book = openpyxl.load_workbook(path)
    facts: dict[str, Any] = {"lock": bool(book.security and book.security.lockStructure)}
    for ws in book.worksheets:
        if ws.title == FEEDBACK_SHEET:
            continue
        facts[ws.title] = (
            ws.sheet_state, ws.protection.sheet, ws.protection.password,
            sorted((str(v.sqref), v.type, v.formula1, v.formula2, v.prompt, v.error)
                   for v in ws.data_validations.dataValidation),
            sorted((str(cf.sqref), r.type, tuple(r.formula), r.priority,
                    r.dxf.fill.bgColor.rgb if r.dxf is not None and r.dxf.fill else None,
                    r.dxf.font.color.rgb if r.dxf is not None and r.dxf.font
                    and r.dxf.font.color else None)
                   for cf in ws.conditional_formatting for r in cf.rules),
            ws.print_title_rows, ws.print_area,
        )
    facts["meta"] = [tuple(r) for r in book[META_SHEET].iter_rows(values_only=True)]
    with zipfile.ZipFile(path) as package:
        facts["ignored"] = sorted(n for n in (len(re.findall(rb"<ignoredError ", package.read(n)))
                                  for n in package.namelist()
                                  if n.startswith("xl/worksheets/s")) if n)
    return facts


def test_the_copy_keeps_the_form(tmp_path: Path) -> None:
    """openpyxl's load and save keep what the form needs (checked one by one); the
    ignoredErrors it drops are put back, and a full calculation is asked for."""
    layout = load_layout()
    blank = tmp_path / "in" / "blank.xlsx"
    blank.parent.mkdir()
    generate_workbook(layout, blank, agency=Agency(code=CODE, name="กรมทดสอบ"),
                      password="secret", token="t0k3n")
    cellmap = build_cellmap(layout)
    entry = InputFile.of(blank)
    problems = list(_everywhere(cellmap, entry.name))[:3]
    done = write_feedback([ReturnFeedback(entry, tuple(problems), cellmap)], tmp_path / "out")
    copy = done.written[0][1]
    before, after = _form_facts(blank), _form_facts(copy)
    assert after == before
    assert before["lock"] and any(before["ignored"])
    sheets = [v for v in before.values() if isinstance(v, tuple)]
    assert all(any(v[i] for v in sheets) for i in (1, 2, 3, 4, 5))  # each fact is compared
    assert ("token", "t0k3n") in after["meta"]
    assert openpyxl.load_workbook(copy).calculation.fullCalcOnLoad


def test_merge_feedback(form: tuple[Path, CellMap], tmp_path: Path) -> None:
    """merge --feedback: a copy for the return with errors, for a duplicate (a merge-level
    warning), under its own name (two inputs with one name: ' (2)'); none for a file that is
    not a workbook, and the command says so."""
    blank, cellmap = form
    returns = tmp_path / "returns"
    _mistakes(form, returns / "a")
    (returns / "b").mkdir()
    fill(cellmap, blank, returns / "b" / f"{CODE}.xlsx", agency_code=CODE)
    fill(cellmap, blank, returns / "b" / "again.xlsx", agency_code=CODE)
    os.utime(returns / "b" / f"{CODE}.xlsx", (1e9, 1e9))  # again.xlsx is the newest
    (returns / "b" / "notes.xlsx").write_text("not a workbook", encoding="utf-8")
    out = tmp_path / "feedback"
    result = CliRunner().invoke(main, ["merge", str(returns), "-o", str(tmp_path / "m.xlsx"),
                                       "--jobs", "1", "--feedback", str(out)])
    assert result.exit_code == 1, result.output
    written = sorted(p.name for p in out.iterdir())
    assert written == [f"{CODE} (2).xlsx", f"{CODE}.xlsx"]  # a/03001 and b/03001, not again
    assert "เขียนสำเนาผลการตรวจ 2 ไฟล์" in result.output
    assert "1 ไฟล์ไม่มีปัญหา" in result.output  # again.xlsx, counted
    assert "notes.xlsx: ไม่ได้ทำสำเนาผลการตรวจ" in result.output
    lists = {}
    for path in out.iterdir():
        sheet = openpyxl.load_workbook(path)[FEEDBACK_SHEET]
        lists[path.name] = [r[4].value for r in sheet.iter_rows(min_row=5) if r[0].value]
    assert any("ส่งแบบฟอร์มมากกว่าหนึ่งฉบับ" in str(m) for m in lists[f"{CODE} (2).xlsx"])
    assert len(lists[f"{CODE}.xlsx"]) == len(_problems(returns / "a" / f"{CODE}.xlsx"))


def test_refused_folders(form: tuple[Path, CellMap], tmp_path: Path) -> None:
    mistakes = _mistakes(form, tmp_path / "returns")
    before = _sha(mistakes.path)
    inside = _check(str(tmp_path / "returns"), "--feedback", str(tmp_path / "returns" / "fb"))
    assert inside.exit_code == 2 and "อยู่ในโฟลเดอร์ข้อมูลนำเข้า" in inside.output
    same = _check(str(mistakes.path), "--feedback", str(tmp_path / "returns"))
    assert same.exit_code == 2 and "เขียนทับไฟล์ข้อมูลนำเข้า" in same.output
    (tmp_path / "file").write_text("x", encoding="utf-8")
    a_file = _check(str(mistakes.path), "--feedback", str(tmp_path / "file"))
    assert a_file.exit_code == 2 and "ไม่ใช่โฟลเดอร์" in a_file.output
    assert _sha(mistakes.path) == before
    assert not (tmp_path / "returns" / "fb").exists()


def test_a_file_refused_as_a_whole_gets_no_copy(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bad.xlsx").write_bytes(b"PK\x03\x04 truncated")
    result = _check(str(tmp_path / "in"), "--feedback", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "เขียนสำเนาผลการตรวจ 0 ไฟล์" in result.output
    assert "bad.xlsx: ไม่ได้ทำสำเนาผลการตรวจ" in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_copy_checked_again_gets_fresh_marks(checked: tuple[Mistakes, Path, Any, str],
                                               tmp_path: Path) -> None:
    """A copy sent back with one mistake fixed: its next copy has one list, and marks only
    on the problems left (the fixed cell's fill as the form's again)."""
    mistakes, copy, _, _ = checked
    partly = tmp_path / "in" / "partly.xlsx"
    partly.parent.mkdir()
    book = openpyxl.load_workbook(copy)
    book[mistakes.words.sheet][mistakes.words.ref].value = 85
    book.save(partly)
    form_fill = openpyxl.load_workbook(mistakes.path)[mistakes.words.sheet][
        mistakes.words.ref].fill.fgColor.rgb
    result = _check(str(partly), "--feedback", str(tmp_path / "out"))
    assert result.exit_code == 1
    again = openpyxl.load_workbook(tmp_path / "out" / "partly.xlsx")
    assert again.sheetnames.count(FEEDBACK_SHEET) == 1
    assert set(_marked(again)) == {(s, c) for s, c, _ in _problems(partly)}
    words = again[mistakes.words.sheet][mistakes.words.ref]
    assert words.comment is None and words.fill.fgColor.rgb == form_fill


def test_the_list_sheet_of_an_edited_layout_is_ignored(tmp_path: Path) -> None:
    """Read with another edit of the version (layout-edited), a sheet the form does not have
    refuses the return; the list sheet of a copy does not, unless its marker is gone."""
    data = yaml.safe_load(Path(load_layout().source).read_text(encoding="utf-8"))
    data["sheets"][1]["validation"]["target"]["whole_number"] = True  # labels unchanged
    edited = parse_layout(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    assert edited.fingerprint != load_layout().fingerprint
    cellmap = build_cellmap(load_layout())
    blank = tmp_path / "blank.xlsx"
    generate_workbook(load_layout(), blank)
    good = tmp_path / "in" / "good.xlsx"
    good.parent.mkdir()
    fill(cellmap, blank, good, agency_code=CODE)
    entry = InputFile.of(good)
    copy = write_feedback([ReturnFeedback(entry, tuple(_everywhere(cellmap, entry.name))[:1],
                                          cellmap)], tmp_path / "out").written[0][1]
    codes = set(read_return(copy, layouts=[edited]).problems["code"])
    assert "layout-changed" not in codes and "layout-edited" in codes
    book = openpyxl.load_workbook(copy)
    book[FEEDBACK_SHEET]["H1"].value = "something else"
    book.save(tmp_path / "unmarked.xlsx")
    codes = set(read_return(tmp_path / "unmarked.xlsx", layouts=[edited]).problems["code"])
    assert "layout-changed" in codes


def test_layouts_may_not_use_the_reserved_name() -> None:
    text = Path(load_layout().source).read_text(encoding="utf-8")
    sheet = build_cellmap(load_layout()).sheets[1].name
    with pytest.raises(LayoutError, match="reserved for the list of problems"):
        parse_layout(text.replace(f"sheet: {sheet}", f"sheet: {FEEDBACK_SHEET}", 1))


def test_a_text_box_among_the_notes_is_still_drawn_over_the_form(
        form: tuple[Path, CellMap], tmp_path: Path) -> None:
    """The notes' legacy drawing is not a shape over the form; a text box added to that same
    drawing is (``drawing-over-form``), as in any return."""
    blank, cellmap = form
    good = tmp_path / "in" / "good.xlsx"
    good.parent.mkdir()
    fill(cellmap, blank, good, agency_code=CODE)
    entry = InputFile.of(good)
    copy = write_feedback([ReturnFeedback(entry, tuple(_everywhere(cellmap, entry.name)),
                                          cellmap)], tmp_path / "out").written[0][1]
    box = (b'<v:shape id="box" type="#_x0000_t202" style="position:absolute"><x:ClientData '
           b'ObjectType="Text"><x:Row>4</x:Row><x:Column>5</x:Column></x:ClientData>'
           b"</v:shape></xml>")
    boxed = tmp_path / "boxed.xlsx"
    with zipfile.ZipFile(copy) as src, zipfile.ZipFile(boxed, "w") as dst:
        drawings = [n for n in src.namelist() if n.endswith(".vml")]
        assert drawings  # the notes' drawing, one per sheet with notes
        for info in src.infolist():
            data = src.read(info)
            if info.filename == drawings[0]:
                data = data.replace(b"</xml>", box)
            dst.writestr(info, data)
    assert "drawing-over-form" not in set(read_return(copy).problems["code"])
    assert "drawing-over-form" in set(read_return(boxed).problems["code"])


def test_cells_outside_the_form_are_marked_and_their_marks_stay_harmless(
        form: tuple[Path, CellMap], tmp_path: Path) -> None:
    """A value beside the form and one far beyond it are marked; once the agency deletes
    them, the marked (filled, annotated) empty cells are no problem. A file name that is not
    UTF-8 is kept, byte for byte, for its copy."""
    blank, cellmap = form
    folder = tmp_path / "in"
    folder.mkdir()
    name = os.fsdecode(b"\xff" + CODE.encode() + b".xlsx")
    path = folder / name
    fill(cellmap, blank, path, agency_code=CODE)
    sheet = cellmap.sheets[1].name
    book = openpyxl.load_workbook(path)
    book[sheet]["H3"], book[sheet]["CZ6000"] = "stray", "far"
    book.save(path)
    assert {(c, code) for _, c, code in _problems(path)} == {
        ("H3", "stray-value"), ("CZ6000", "far-cell"), ("<NA>", "bad-file-name")}
    result = _check(str(folder), "--feedback", str(tmp_path / "out"))
    assert result.exit_code == 1, result.output  # far-cell is an error
    copy = tmp_path / "out" / name
    assert os.fsencode(copy.name) == b"\xff" + CODE.encode() + b".xlsx"
    book = openpyxl.load_workbook(copy)
    assert set(_marked(book)) == {(sheet, "H3"), (sheet, "CZ6000")}
    book[sheet]["H3"], book[sheet]["CZ6000"] = None, None
    book.save(tmp_path / "fixed.xlsx")
    assert _problems(tmp_path / "fixed.xlsx") == set()


def test_copies_written_in_processes_are_the_same(form: tuple[Path, CellMap],
                                                   tmp_path: Path) -> None:
    """write_feedback(jobs=2) writes in worker processes (from a merge's frame, whose cell
    maps are found again in the workers) the same copies as in one process."""
    mistakes = _mistakes(form, tmp_path / "in")
    entries = [InputFile.of(mistakes.path)]
    for n in range(1, 16):
        copy = tmp_path / "in" / f"{n:02d}.xlsx"
        shutil.copyfile(mistakes.path, copy)
        entries.append(InputFile.of(copy))
    problems = read_return(mistakes.path).problems
    frame = pd.concat([problems.assign(file=e.name) for e in entries])
    returns = from_consolidated(frame, entries)
    one = write_feedback(returns, tmp_path / "one", jobs=1)
    two = write_feedback(returns, tmp_path / "two", jobs=2)
    assert [p.name for _, p in one.written] == [p.name for _, p in two.written]
    assert len(one.written) == 16 and one.skipped == two.skipped == []
    for (_, a), (_, b) in zip(one.written, two.written, strict=True):
        first, second = openpyxl.load_workbook(a), openpyxl.load_workbook(b)
        assert _marked(first) == _marked(second)
        assert [tuple(r) for r in first[FEEDBACK_SHEET].iter_rows(values_only=True)] == \
            [tuple(r) for r in second[FEEDBACK_SHEET].iter_rows(values_only=True)]
    fixed = openpyxl.load_workbook(two.written[0][1])[mistakes.percent.sheet][
        mistakes.percent.ref]
    assert fixed.number_format == "General" and fixed.value is None  # the cell map was found


#: What a copy of a corpus return may lose or change, by the original problem's code, with
#: what replaces it on that cell (None: nothing). openpyxl rewrites the document properties
#: (mended), drops shapes drawn over a sheet and a cell's rich-value link (the cell then
#: shows its cached error); the merged cells over an input are unmerged in the copy.
COPY_CHANGES: dict[str, str | None] = {"unreadable-properties": None,
                                       "drawing-over-form": None, "rich-value": "error-value",
                                       "covered-input": None}
#: Corpus files the reader opens but openpyxl cannot load (hostile styles or numbers).
OPENPYXL_REFUSES = {"conditional-number-format.xlsx", "huge-style-index.xlsx"}


def test_every_corpus_return_gets_a_faithful_copy_or_a_reason(tmp_path: Path) -> None:
    """Over the corpus of bad returns: every file refused as a whole is named without a copy;
    every other file with a problem gets a copy, which, read as it is, has the original's
    problems (but for the cells fixed in place and the changes listed in COPY_CHANGES)."""
    from . import corpus

    built = corpus.build(tmp_path / "corpus")
    try:
        _faithful_copies(tmp_path, {Path(p).name: Path(p) for p in built.values()})
    finally:
        corpus.remove_deep(tmp_path / "corpus")  # pytest's own clean-up would recurse deep


def _faithful_copies(tmp_path: Path, originals: dict[str, Path]) -> None:
    entries = collect_inputs(tmp_path / "corpus" / "returns")
    done = write_feedback(from_reads(check_files(entries), entries), tmp_path / "out")
    copies = {p.name: p for p in (tmp_path / "out").iterdir()}
    assert sorted(p.name for _, p in done.written) == sorted(copies)
    assert set(copies) <= set(originals) and len(copies) > 20
    for name, copy in copies.items():
        before, after = _problems(originals[name]), _problems(copy)
        fixed = {(s, c) for s, c, code in before if code in FIXABLE}
        before = {p for p in before if p[:2] not in fixed}
        after = {p for p in after if p[:2] not in fixed}
        assert {p[2] for p in before - after} <= set(COPY_CHANGES), name
        assert after - before == {(s, c, COPY_CHANGES[code]) for s, c, code in before - after
                                  if COPY_CHANGES[code] is not None}, name
    skipped = {Path(name).name: why.th for name, why in done.skipped}
    assert set(skipped) & set(copies) == set()
    assert {n for n, why in skipped.items() if "โปรแกรมที่ทำสำเนา" in why} == OPENPYXL_REFUSES
    assert len(skipped) > 20  # the files refused as a whole (their names, each)


# --------------------------------------------------------------------------------------------
# Rules found in review: what a copy may replace, what the notes say, merges, notes, fills
# --------------------------------------------------------------------------------------------


def _one_cell(form: tuple[Path, CellMap], folder: Path, value: Any, number_format: str,
              name: str = f"{CODE}.xlsx") -> tuple[Path, InputCell]:
    """A return whose first target holds ``value`` under ``number_format``."""
    blank, cellmap = form
    cell = _cells(cellmap)["percent"]
    path = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    fill(cellmap, blank, path, {}, agency_code=CODE)
    book = openpyxl.load_workbook(path)
    target = book[cell.sheet][cell.ref]
    target.value, target.number_format = value, number_format
    book.save(path)
    return path, cell


def _note_of(copy: Path, cell: InputCell) -> tuple[Any, str]:
    book = openpyxl.load_workbook(copy)
    target = book[cell.sheet][cell.ref]
    return target, target.comment.text if target.comment is not None else ""


def test_a_copy_never_replaces_an_issued_workbook_or_another_file(
        form: tuple[Path, CellMap], tmp_path: Path) -> None:
    """`cp -r out issued; check in/ --feedback issued/`: the issued workbook of the same name
    is not replaced (its manifest hash would break), nor any other file; exit 2, nothing
    written."""
    mistakes = _mistakes(form, tmp_path / "in")
    issued = tmp_path / "issued"
    issued.mkdir()
    shutil.copy(form[0], issued / mistakes.path.name)
    other = tmp_path / "other"
    other.mkdir()
    (other / mistakes.path.name).write_text("notes", encoding="utf-8")
    for folder in (issued, other):
        before = _sha(folder / mistakes.path.name)
        result = _check(str(tmp_path / "in"), "--feedback", str(folder))
        assert result.exit_code == 2, result.output
        assert "ไม่ใช่สำเนาผลการตรวจ" in result.output and mistakes.path.name in result.output
        assert _sha(folder / mistakes.path.name) == before
        assert sorted(p.name for p in folder.iterdir()) == [mistakes.path.name]
    english = CliRunner().invoke(main, ["check", str(tmp_path / "in"), "--feedback",
                                        str(issued), "--lang", "en"])
    assert english.exit_code == 2 and "is not a feedback copy" in english.output


def test_a_copy_may_replace_an_earlier_copy(form: tuple[Path, CellMap], tmp_path: Path) -> None:
    mistakes = _mistakes(form, tmp_path / "in")
    first = _check(str(tmp_path / "in"), "--feedback", str(tmp_path / "fb"))
    assert first.exit_code == 1, first.output
    copy = tmp_path / "fb" / mistakes.path.name
    os.utime(copy, (1e9, 1e9))
    again = _check(str(tmp_path / "in"), "--feedback", str(tmp_path / "fb"))
    assert again.exit_code == 1 and "เขียนสำเนาผลการตรวจ 1 ไฟล์" in again.output
    assert copy.stat().st_mtime > 1e9  # written again


def test_a_copy_never_replaces_an_output_of_the_same_merge(form: tuple[Path, CellMap],
                                                           tmp_path: Path) -> None:
    """`merge in/ -o cl/03001.xlsx --feedback cl/`: refused before anything is written."""
    mistakes = _mistakes(form, tmp_path / "in")
    out = tmp_path / "cl" / mistakes.path.name
    out.parent.mkdir()
    result = CliRunner().invoke(main, ["merge", str(tmp_path / "in"), "-o", str(out),
                                       "--jobs", "1", "--feedback", str(tmp_path / "cl")])
    assert result.exit_code == 2, result.output
    assert "ซึ่งคำสั่งนี้เขียนเป็นผลลัพธ์ (-o)" in result.output
    assert not any((tmp_path / "cl").iterdir())


@pytest.mark.parametrize(("value", "number_format", "showed", "typed"), [
    (85, "0%", "8500%", "85"),  # LibreOffice keeps 85 typed into a percent cell
    (0.855, "0%", "86%", "85.5"),  # Excel stores 85.5% as 0.855; the display rounds it
    (1.5, "0.00%", "150.00%", "1.5"),  # |x| >= 1: the number as stored, never "150.00"
    (0.85, "0%", "85%", "85"),
])
def test_the_number_to_type_comes_from_the_stored_value(
        form: tuple[Path, CellMap], tmp_path: Path, value: float, number_format: str,
        showed: str, typed: str) -> None:
    path, cell = _one_cell(form, tmp_path / "in", value, number_format)
    assert (cell.sheet, cell.ref, "typed-as-percent") in _problems(path)
    result = _check(str(tmp_path / "in"), "--feedback", str(tmp_path / "fb"))
    assert result.exit_code == 1, result.output
    target, note = _note_of(tmp_path / "fb" / path.name, cell)
    assert target.value is None and target.number_format == "General"
    assert f"เคยแสดง {showed} " in note
    assert f"ให้พิมพ์ {typed} " in note
    assert f"ให้พิมพ์ {typed}." not in note and f"ให้พิมพ์ {typed}0" not in note


def test_a_date_note_says_what_it_showed_and_asks_for_the_number(
        form: tuple[Path, CellMap], tmp_path: Path) -> None:
    path, cell = _one_cell(form, tmp_path / "in", 43555, "d/m/yyyy")
    _check(str(tmp_path / "in"), "--feedback", str(tmp_path / "fb"))
    target, note = _note_of(tmp_path / "fb" / path.name, cell)
    assert target.value is None
    assert "เคยแสดงวันที่ 31/03/2019" in note and "43555" in note and "ไม่ใช่วันที่" in note


def test_decimal_text_is_exact_and_short() -> None:
    from pmqa_xlsx.values import decimal_text

    assert decimal_text(0.1 + 0.2, percent=True) == "30"  # no float noise
    assert decimal_text(0.855, percent=True) == "85.5"
    assert decimal_text(1e-05) == "0.00001"  # never an exponent
    assert decimal_text(8500.0) == "8500"
    assert decimal_text(-0.07, percent=True) == "-7"
    assert decimal_text(1234567.891234567891) == "1234567.89123457"  # 15 significant digits


def test_a_hidden_value_is_kept_and_shown_again(form: tuple[Path, CellMap],
                                                tmp_path: Path) -> None:
    """`;;;` over 77: the form's format comes back and 77 stays (visible now); the note says
    it showed nothing and asks to check the number."""
    path, cell = _one_cell(form, tmp_path / "in", 77, ";;;")
    assert (cell.sheet, cell.ref, "format-hides-value") in _problems(path)
    _check(str(tmp_path / "in"), "--feedback", str(tmp_path / "fb"))
    target, note = _note_of(tmp_path / "fb" / path.name, cell)
    assert target.value == 77 and target.number_format == "General"
    assert "ก่อนหน้านี้ไม่แสดงอะไรเลย" in note and "คือ 77" in note
    assert "แสดง 77" not in note and "ให้ถ้า" not in note
    assert (cell.sheet, cell.ref, "format-hides-value") not in _problems(
        tmp_path / "fb" / path.name)


@pytest.mark.parametrize(("value", "number_format"), [(0.85, "0%"), (77, ";;;"),
                                                      (43555, "d/m/yyyy")])
def test_a_fixed_problem_says_no_fresh_copy_in_the_copy(
        form: tuple[Path, CellMap], tmp_path: Path, value: float, number_format: str) -> None:
    """The copy's note and list show what is wrong and the fix-in-place words, not the
    catalogue's "in a fresh copy of the form"; check itself still prints the catalogue's."""
    path, cell = _one_cell(form, tmp_path / "in", value, number_format)
    message = next(p.message_th for p in read_return(path).problems.itertuples()
                   if p.cell == cell.ref and p.code in FIXABLE)
    result = _check(str(tmp_path / "in"), "--feedback", str(tmp_path / "fb"))
    assert message in result.output  # check/merge keep the catalogue's message
    copy = tmp_path / "fb" / path.name
    _, note = _note_of(copy, cell)
    listed = [r[4].value for r in openpyxl.load_workbook(copy)[FEEDBACK_SHEET].iter_rows(
        min_row=5) if r[2].value == cell.ref]
    for text in (note, *listed):
        assert "ฉบับใหม่" not in text and "แก้ให้แล้ว" in text
        assert text.replace("ผลการตรวจ: ", "").startswith(message[:message.rfind(" กรุณา")])


def test_a_merge_over_a_blank_input_is_undone(form: tuple[Path, CellMap],
                                              tmp_path: Path) -> None:
    """Merged over a blank input (details-required there): in the copy the merge is gone,
    the input is marked, unlocked and can be typed in; the label keeps its text."""
    mistakes = _mistakes(form, tmp_path / "in")
    cell = mistakes.detail
    left = f"{openpyxl.utils.get_column_letter(cell.col)}{cell.row + 1}"
    book = openpyxl.load_workbook(mistakes.path)
    label = book[cell.sheet][left].value
    book[cell.sheet].merge_cells(f"{left}:{cell.ref}")
    book.save(mistakes.path)
    assert {(cell.sheet, cell.ref, "details-required"),
            (cell.sheet, cell.ref, "covered-blank-input")} <= _problems(mistakes.path)
    _check(str(tmp_path / "in"), "--feedback", str(tmp_path / "fb"))
    copy = openpyxl.load_workbook(tmp_path / "fb" / mistakes.path.name)
    sheet = copy[cell.sheet]
    assert not any(cell.ref in r for r in sheet.merged_cells.ranges)
    target = sheet[cell.ref]
    assert target.fill.fgColor.rgb == ERROR_FILL and target.comment.author == NOTE_AUTHOR
    assert target.protection.locked is False
    assert sheet[left].value == label
    assert "ช่องนี้จึงพิมพ์ได้" in target.comment.text
    assert (cell.sheet, cell.ref, "covered-blank-input") not in _problems(
        tmp_path / "fb" / mistakes.path.name)


def test_a_tampered_saved_fill_is_ignored(checked: tuple[Mistakes, Path, Any, str],
                                          tmp_path: Path) -> None:
    """A hidden saved fill edited to 'แดง': the next copy is written, that cell gets no fill."""
    mistakes, copy, _, _ = checked
    partly = tmp_path / "in" / "partly.xlsx"
    partly.parent.mkdir()
    book = openpyxl.load_workbook(copy)
    book[mistakes.words.sheet][mistakes.words.ref].value = 85
    rows = [r for r in book[FEEDBACK_SHEET].iter_rows(min_row=5)
            if r[2].value == mistakes.words.ref]
    rows[0][8].value = "แดง"
    book.save(partly)
    result = _check(str(partly), "--feedback", str(tmp_path / "out"))
    assert result.exit_code == 1 and "ValueError" not in result.output
    again = openpyxl.load_workbook(tmp_path / "out" / "partly.xlsx")
    words = again[mistakes.words.sheet][mistakes.words.ref]
    assert words.comment is None and words.fill.fill_type is None


def test_an_agencys_own_note_is_kept(checked: tuple[Mistakes, Path, Any, str],
                                     tmp_path: Path) -> None:
    from openpyxl.comments import Comment

    from pmqa_xlsx.feedback import NOTE_SEPARATOR

    mistakes, _, _, _ = checked
    source = tmp_path / "in" / "noted.xlsx"
    source.parent.mkdir()
    book = openpyxl.load_workbook(mistakes.path)
    book[mistakes.words.sheet][mistakes.words.ref].comment = Comment("ตัวเลขจากกองแผน", "สมชาย")
    book.save(source)
    _check(str(source), "--feedback", str(tmp_path / "fb"))
    first = tmp_path / "fb" / source.name
    note = openpyxl.load_workbook(first)[mistakes.words.sheet][mistakes.words.ref].comment
    assert note.text.startswith(f"ตัวเลขจากกองแผน\n{NOTE_SEPARATOR}\nผลการตรวจ: ")
    fixed = tmp_path / "in2" / source.name
    fixed.parent.mkdir()
    book = openpyxl.load_workbook(first)
    book[mistakes.words.sheet][mistakes.words.ref].value = 85
    book.save(fixed)
    _check(str(fixed), "--feedback", str(tmp_path / "fb2"))
    again = openpyxl.load_workbook(tmp_path / "fb2" / source.name)
    note = again[mistakes.words.sheet][mistakes.words.ref].comment
    assert (note.text, note.author) == ("ตัวเลขจากกองแผน", "สมชาย")


def test_every_copy_says_which_input_it_is_of(form: tuple[Path, CellMap],
                                              tmp_path: Path) -> None:
    returns = tmp_path / "returns"
    _mistakes(form, returns / "a")
    _mistakes(form, returns / "b")
    result = CliRunner().invoke(main, ["merge", str(returns), "-o", str(tmp_path / "m.xlsx"),
                                       "--jobs", "1", "--feedback", str(tmp_path / "fb")])
    entries = {e.path.parent.name: e.name for e in collect_inputs([returns])}
    lines = [line.strip() for line in result.output.splitlines() if "→" in line]
    assert len(lines) == 2
    for line in lines:
        name, copy = line.split(" → ")
        heading = openpyxl.load_workbook(copy)[FEEDBACK_SHEET]["A1"].value
        assert name in entries.values() and heading.endswith(name)
    assert {line.split(" → ")[0] for line in lines} == set(entries.values())


def test_an_old_copy_of_a_return_now_clean_is_named(form: tuple[Path, CellMap],
                                                    tmp_path: Path) -> None:
    blank, cellmap = form
    mistakes = _mistakes(form, tmp_path / "in")
    _check(str(tmp_path / "in"), "--feedback", str(tmp_path / "fb"))
    old = tmp_path / "fb" / mistakes.path.name
    before = _sha(old)
    fill(cellmap, blank, mistakes.path, agency_code=CODE)  # sent again, right this time
    result = _check(str(tmp_path / "in"), "--feedback", str(tmp_path / "fb"))
    assert result.exit_code == 0, result.output
    assert f"สำเนาเก่าของ {mistakes.path.name}" in result.output.replace(
        str(tmp_path / "in") + os.sep, "")
    assert "ไม่มีปัญหาแล้ว ไม่ต้องส่ง" in result.output
    assert _sha(old) == before  # left, not deleted


def test_a_long_list_of_copies_is_cut_short(form: tuple[Path, CellMap], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from pmqa_xlsx import cli

    monkeypatch.setattr(cli, "_LISTED", 1)
    for name in ("a.xlsx", "b.xlsx"):
        _mistakes(form, tmp_path / "in", name)
    result = _check(str(tmp_path / "in"), "--feedback", str(tmp_path / "fb"))
    assert "เขียนสำเนาผลการตรวจ 2 ไฟล์" in result.output
    assert len([line for line in result.output.splitlines() if "→" in line]) == 1
    assert "... และอีก 1 ไฟล์" in result.output


@pytest.mark.libreoffice
def test_a_copy_unmerged_and_fixed_is_ok_after_libreoffice(
        form: tuple[Path, CellMap], tmp_path: Path, soffice: str) -> None:
    """The blank merged over, unmerged in the copy: typed in, saved by LibreOffice, the return
    is ok and the cell is still an unlocked input."""
    mistakes = _mistakes(form, tmp_path / "in")
    cell = mistakes.detail
    left = f"{openpyxl.utils.get_column_letter(cell.col)}{cell.row + 1}"
    book = openpyxl.load_workbook(mistakes.path)
    book[cell.sheet].merge_cells(f"{left}:{cell.ref}")
    book.save(mistakes.path)
    _check(str(tmp_path / "in"), "--feedback", str(tmp_path / "fb"))
    fixed = tmp_path / "fixed.xlsx"
    _fix(mistakes, tmp_path / "fb" / mistakes.path.name, fixed)
    saved = convert(fixed, tmp_path / "lo")
    result = read_return(saved)
    assert list(result.problems["code"]) == [] and result.state == "ok"
    assert openpyxl.load_workbook(saved)[cell.sheet][cell.ref].protection.locked is False


def test_no_copy_name_may_be_an_output_of_the_command(tmp_path: Path) -> None:
    """Any output named to the command (-o, each --csv/--parquet file) is refused as a copy's
    name, with the option in the message, in Thai and English."""
    from pmqa_xlsx.feedback import FeedbackRefused, check_feedback_dir
    from pmqa_xlsx.report import output_files

    folder = tmp_path / "out"
    for option, suffix in (("--csv", ".csv"), ("--parquet", ".parquet")):
        path = output_files(folder, suffix)[0]
        entry = InputFile.of(tmp_path / "in" / path.name)
        outputs = [(option, p) for p in output_files(folder, suffix)]
        with pytest.raises(FeedbackRefused) as info:
            check_feedback_dir(folder, [entry], [tmp_path / "in"], outputs)
        assert f"({option})" in info.value.words.th and f"({option})" in info.value.words.en
        assert check_feedback_dir(tmp_path / "elsewhere", [entry], [tmp_path / "in"],
                                  outputs) == tmp_path / "elsewhere"
    assert not folder.exists()
