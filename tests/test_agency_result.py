"""merge --results: one page per counted agency, its scores against the medians, its
data-quality notes with their cells, on one A4 page; hostile agency text stays text."""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import zipfile
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from pmqa_xlsx import agency_result as AR
from pmqa_xlsx import build_cellmap, consolidate, generate_roster, generate_workbook, load_layout
from pmqa_xlsx import problems as P
from pmqa_xlsx.agency_result import (
    MIN_SCALE,
    AgencyPage,
    Note,
    agency_pages,
    be_date,
    is_result_file,
    result_names,
    write_page,
)
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.cli import main
from pmqa_xlsx.consolidate import Consolidated
from pmqa_xlsx.feedback import ReturnFeedback, write_feedback
from pmqa_xlsx.inputs import InputFile
from pmqa_xlsx.layout import (
    FEEDBACK_SHEET,
    RESULT_MARKER,
    RESULT_SHEET,
    Layout,
    LayoutError,
    parse_layout,
)
from pmqa_xlsx.libreoffice import convert
from pmqa_xlsx.read import read_return
from pmqa_xlsx.roster import load_roster
from pmqa_xlsx.textmetrics import column_pixels

from .fill import fill
from .lang import english, english_left

HOSTILE = '=HYPERLINK("http://evil.example/","คลิก")'
#: code -> (name, ministry, what it returns: "filled", "low", "fraction", "errors", None).
AGENCIES: dict[str, tuple[str, str, str | None]] = {
    "10001": ("กรมหนึ่ง", "กระทรวงการคลัง", "low"),
    "10002": (HOSTILE, "กระทรวงการคลัง", "fraction"),
    "10003": ("กรมไม่ส่ง", "กระทรวงการคลัง", None),
    "20001": ("กรมมีข้อผิด", "กระทรวงมหาดไทย", "errors"),
    "20002": ("+1", "กระทรวงมหาดไทย", "filled"),
    "20003": ("@SUM(A1:A9)", "กระทรวงมหาดไทย", "empty"),
}
COUNTED_CODES = ("10001", "10002", "20001", "20002")


def _key(cell: Any) -> str:
    return f"{cell.sheet}!{cell.ref}"


def _overrides(cellmap: CellMap, how: str) -> dict[str, Any]:
    rows = cellmap.indicator_rows
    if how == "low":  # results far under the target in three rows: lower 7.2 scores
        return {_key(r.cells[r.compared]): 20.0 + i for i, r in enumerate(rows[:3])}
    if how == "fraction":  # a target typed as a fraction: implausible
        return {_key(rows[0].cells["target"]): 0.8}
    if how == "errors":  # a word in a number cell, and a "done" row without its details
        status = next(c for c in cellmap.inputs() if c.kind == "status")
        details = [c for c in cellmap.inputs() if c.kind == "text" and c.item_id ==
                   status.item_id and c.sheet == status.sheet]
        return {_key(rows[1].cells["target"]): "ไม่มีข้อมูล",
                **{_key(c): None for c in details}}
    return {}


@pytest.fixture(scope="module")
def round_dir(layout: Layout, cellmap: CellMap,
              tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("results")
    roster = root / "roster.csv"
    lines = ["agency_code,agency_name,ministry"]
    lines += [f'{code},"{name.replace(chr(34), chr(34) * 2)}",{ministry}'
              for code, (name, ministry, _) in AGENCIES.items()]
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    generate_roster(layout, roster, root / "sent")
    returns = root / "returns"
    returns.mkdir()
    for code, (_, _, how) in AGENCIES.items():
        if how == "empty":
            shutil.copy(root / "sent" / f"{code}.xlsx", returns / f"{code}.xlsx")
        elif how is not None:
            fill(cellmap, root / "sent" / f"{code}.xlsx", returns / f"{code}.xlsx",
                 _overrides(cellmap, how), agency_code=code)
    (returns / "broken.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    return root


@pytest.fixture(scope="module")
def merged(round_dir: Path) -> tuple[Path, Consolidated, Any]:
    """merge --results (PDFs too when LibreOffice is there), and the same round in Python."""
    out = round_dir / "results"
    result = CliRunner().invoke(main, [
        "merge", str(round_dir / "returns"), "--roster", str(round_dir / "roster.csv"),
        "-o", str(round_dir / "all.xlsx"), "--accept-errors", "--results", str(out)])
    assert result.exit_code == 1, result.output  # a rejected file and an error: exit 1
    merged = consolidate([round_dir / "returns"], roster=round_dir / "roster.csv",
                         accept_errors=True)
    return out, merged, result


def _sheet(path: Path) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(path)
    try:
        return [tuple(c.value for c in row) for row in book[RESULT_SHEET].iter_rows()]
    finally:
        book.close()


def _row(rows: list[tuple[Any, ...]], start: str) -> tuple[Any, ...]:
    found = [r for r in rows if isinstance(r[0], str) and r[0].startswith(start)]
    assert len(found) == 1, (start, [r[0] for r in rows])
    return found[0]


def test_one_result_per_counted_agency_and_none_for_the_others(merged: Any) -> None:
    out, result, run = merged
    states: dict[str, set[str]] = {}
    for code, state in zip(result.returns["agency_code"].astype(str),
                           result.returns["state"], strict=True):
        states.setdefault(code, set()).add(state)
    assert states["10003"] == {"missing"} and states["20003"] == {"empty", "missing"}
    assert "rejected" in set(result.returns["state"])
    books = sorted(p.name for p in out.glob("*.xlsx"))
    assert books == [f"{code}-result.xlsx" for code in COUNTED_CODES]
    assert f"เขียนผลรายหน่วยงาน {len(COUNTED_CODES)} ไฟล์" in run.output
    assert all(is_result_file(out / name) for name in books)


def _independent_scores(result: Consolidated) -> pd.DataFrame:
    """Per counted agency, from the indicators frame alone: the mean score of its scored
    rows, all tables together and per table."""
    ind = result.indicators.dropna(subset=["score"])
    overall = ind.groupby("agency_code")["score"].mean().rename("all")
    per = ind.pivot_table(index="agency_code", columns="table_id", values="score",
                          aggfunc="mean")
    return per.join(overall)


def _rank(value: float, values: list[float]) -> int:
    return 1 + sum(1 for v in values if v > value + 1e-12)


@pytest.mark.parametrize("code", COUNTED_CODES)
def test_scores_and_medians_on_the_page_equal_the_frames(merged: Any, code: str) -> None:
    out, result, _ = merged
    frame = _independent_scores(result)
    ministry = {c: m for c, (_, m, _) in AGENCIES.items()}
    same = [c for c in frame.index if ministry[c] == ministry[code]]
    rows = _sheet(out / f"{code}-result.xlsx")
    tables = {f"ตาราง {t}": t for t in frame.columns if t != "all"}
    shown = {r[0] for r in rows} & set(tables)
    if not shown:  # no room for them with the problems listed: the note says where they are
        assert any(isinstance(r[0], str) and "คะแนนรายตาราง 7.2 ดูในไฟล์รวมผล" in r[0]
                   for r in rows)
    for label, column in {"คะแนน 7.2 ทุกตาราง": "all", **tables}.items():
        if label in tables and not shown:
            continue
        row = _row(rows, label)
        mine = float(frame.loc[code, column])
        everyone = [float(v) for v in frame[column]]
        ours = [float(frame.loc[c, column]) for c in same]
        assert row[1] == pytest.approx(mine)
        assert row[2] == pytest.approx(statistics.median(ours))
        assert row[3] == pytest.approx(statistics.median(everyone))
        assert row[4] == f"{_rank(mine, ours)} / {len(ours)}"
        assert row[5] == f"{_rank(mine, everyone)} / {len(everyone)}"
    # the bundled layout defines no checklist score: the page says "–", not 0
    assert _row(rows, "คะแนนรายการตรวจ")[1:4] == ("–", "–", "–")


def test_the_low_scorer_ranks_last_nationally(merged: Any) -> None:
    out, _, _ = merged
    row = _row(_sheet(out / "10001-result.xlsx"), "คะแนน 7.2 ทุกตาราง")
    assert row[5] == f"{len(COUNTED_CODES)} / {len(COUNTED_CODES)}"


def test_status_counts_are_the_agencys_answers(merged: Any, layout: Layout) -> None:
    out, result, _ = merged
    answers = result.answers
    for code in COUNTED_CODES:
        rows = _sheet(out / f"{code}-result.xlsx")
        mine = answers[(answers["agency_code"] == code) & (answers["kind"] == "status")]
        for label in layout.status_labels():
            row = _row(rows, label)
            assert row[4] == int((mine["value"] == label).sum())


def _fact(row: tuple[Any, ...]) -> Any:
    """A data-quality fact's value: the first cell after its label (which may span some)."""
    return next(v for v in row[1:] if v is not None)


def _notes(rows: list[tuple[Any, ...]]) -> dict[str, str]:
    """The problems listed: cell -> kind (the first column holds "<cell> <kind>")."""
    start = next((i for i, r in enumerate(rows) if isinstance(r[0], str)
                  and r[0].startswith("ตำแหน่ง")), None)
    if start is None:
        return {}
    return dict(r[0].rsplit(" ", 1) for r in rows[start + 1:]
                if isinstance(r[0], str) and "!" in r[0])


def test_data_quality_notes_name_the_cells(merged: Any, cellmap: CellMap) -> None:
    out, result, _ = merged
    problems = result.problems
    bad = problems[problems["agency_code"] == "20001"]
    cells = {f"{s}!{c}" for s, c in zip(bad["sheet"], bad["cell"], strict=True)}
    rows = _sheet(out / "20001-result.xlsx")
    listed = _notes(rows)
    # the problems listed are the return's, errors, and those left out are counted
    assert listed and set(listed) <= cells and set(listed.values()) == {"ผิดพลาด"}
    more = len(cells) - len(listed)
    assert not more or any(isinstance(r[0], str) and r[0].startswith(f"... และอีก {more} ")
                           for r in rows)
    row = _row(_sheet(out / "20001-result.xlsx"), "ดำเนินการแล้วแต่ไม่มีรายละเอียด")
    item = result.subset(["20001"]).done_without_details["item_id"].tolist()
    assert item and _fact(row).startswith(f"{len(item)} ข้อ") and item[0] in _fact(row)
    left = _row(_sheet(out / "20001-result.xlsx"), "ช่องที่ไม่นำมานับ")
    assert _fact(left) == result.returns.set_index("agency_code").loc["20001", "reason_th"]
    odd = result.implausible[result.implausible["agency_code"] == "10002"]
    assert len(odd) == 1
    target = _key(cellmap.indicator_rows[0].cells["target"])
    assert odd["target_cell"].iloc[0] == target
    assert _notes(_sheet(out / "10002-result.xlsx")) == {target: "ค่าผิดปกติ"}
    assert _notes(_sheet(out / "20002-result.xlsx")) == {}
    assert _fact(_row(_sheet(out / "20002-result.xlsx"), "ตัวชี้วัดที่ค่าผิดปกติ")) == "ไม่มี"


@pytest.mark.parametrize("code", ["10002", "20002"])
def test_hostile_agency_text_stays_a_string(merged: Any, code: str) -> None:
    out, _, _ = merged
    path = out / f"{code}-result.xlsx"
    name = AGENCIES[code][0]
    book = openpyxl.load_workbook(path)
    try:
        cells = [c for row in book[RESULT_SHEET].iter_rows() for c in row
                 if isinstance(c.value, str) and name in c.value]
        assert cells and all(c.data_type == "s" for c in cells)
        assert cells[0].value == f"{name} (รหัส {code}) สังกัด {AGENCIES[code][1]}"
    finally:
        book.close()
    with zipfile.ZipFile(path) as package:
        names = package.namelist()
        sheet = package.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    assert not [n for n in names if "externalLink" in n] and "hyperlink" not in sheet


def _print_setup(path: Path) -> dict[str, Any]:
    """The sheet's page setup, margins (inches) and rows' heights (points), as stored."""
    with zipfile.ZipFile(path) as package:
        sheet = package.read("xl/worksheets/sheet1.xml").decode()
    setup = re.search(r"<pageSetup [^>]*>", sheet)
    margins = re.search(r"<pageMargins [^>]*>", sheet)
    assert setup is not None and margins is not None
    attributes: dict[str, Any] = dict(re.findall(r'(\w+)="([^"]*)"', setup.group(0)))
    attributes["fitToPage"] = "1" if '<pageSetUpPr fitToPage="1"/>' in sheet else "0"
    attributes["margins"] = {k: float(v) for k, v in
                             re.findall(r'(\w+)="([^"]*)"', margins.group(0))}
    attributes["heights"] = [float(h) for h in re.findall(r'<row [^>]* ht="([0-9.]+)"', sheet)]
    attributes["footer"] = re.search(r"<oddFooter>&amp;L&amp;(\d+)", sheet)
    return attributes


def _assert_fits_a4_at_its_scale(path: Path) -> None:
    """The page prints on one A4 portrait sheet at the scale it declares (no fitting by the
    application), that scale at least MIN_SCALE, its columns the printable width at it."""
    setup = _print_setup(path)
    assert setup["paperSize"] == "9" and setup["orientation"] == "portrait"
    assert setup["fitToPage"] == "0"  # the scale is declared, not left to the application
    scale = int(setup["scale"]) / 100
    assert scale >= MIN_SCALE
    m = setup["margins"]
    # the rows at that scale within the height between the top and bottom margins
    assert sum(setup["heights"]) * scale <= 842.0 - 72.0 * (m["top"] + m["bottom"])
    assert setup["heights"] and all(h > 0 for h in setup["heights"])
    # the footer (one line at its size) and the header margin fit in the margins
    footer = setup["footer"]
    assert footer is not None
    assert 72.0 * m["footer"] + 1.5 * int(footer.group(1)) <= 72.0 * m["bottom"]
    assert m["header"] <= m["top"]
    # the columns fill the printable width at that scale, no wider
    width_pt = sum(column_pixels(w, AR._SIZE) for w in AR._WIDTHS) * 0.75 * scale
    printable = 595.0 - 72.0 * (m["left"] + m["right"])
    assert printable * 0.95 <= width_pt <= printable


def test_a4_portrait_one_page_at_its_declared_scale(merged: Any) -> None:
    out, _, _ = merged
    for code in COUNTED_CODES:  # with problems listed (10002, 20001) and without (20002)
        _assert_fits_a4_at_its_scale(out / f"{code}-result.xlsx")


def _long_page(notes: int, feedback: bool = False, tables: int = 5) -> AgencyPage:
    """A page that asks for much room: a long name, title and file name, ``tables`` 7.2
    tables, long statuses, many items without details, ``notes`` long problems."""
    long = "สำนักงานปลัดกระทรวงการพัฒนาสังคมและความมั่นคงของมนุษย์ส่วนภูมิภาคจังหวัดพระนครศรีอยุธยา"
    line = AR.ScoreLine(AR.Words("คะแนน 7.2 ทุกตาราง", "7.2 score"), 3.5, 3.4, 3.3, 3.0, 3.8,
                        12, 140, 311, 999)
    per_table = [AR.ScoreLine(AR.Words(f"ตาราง 7.2.{i}", ""), 3.5, 3.4, 3.3, 3.0, 3.8, 12,
                              140, 311, 999, per_table=True) for i in range(1, tables + 1)]
    message = AR.Words("ตัวชี้วัด 7.2.1.1: ค่าเป้าหมาย 0.8 แต่ผลการดำเนินงานสูงถึง 110 อาจพิมพ์"
                       "เป้าหมายเป็นทศนิยม (เช่น 0.8 แทน 80) ตรวจสอบค่าเป้าหมายกับหน่วยงาน", "odd")
    return AgencyPage(
        code="99999", name=long, ministry="กระทรวงการพัฒนาสังคมและความมั่นคงของมนุษย์",
        file="99999-แบบประเมินฉบับแก้ไขครั้งที่สองหลังตรวจทาน.xlsx", state="counted_with_errors",
        title="ระดับการพัฒนาองค์การสู่การเป็นระบบราชการ 4.0 (PMQA 4.0) ฉบับส่วนภูมิภาคและท้องถิ่น",
        fiscal_year=2569, round="2", scores=(line, line, *per_table),
        statuses=tuple((f"สถานะที่ {i} มีการดำเนินการโดยมีรายละเอียดดังนี้", i) for i in range(3))
        + (("", 3),),
        errors=notes, warnings=notes, left_out=AR.Words("นับโดยไม่รวม " + long, "left out"),
        without_details=tuple(f"{i}.{j}.1" for i in range(1, 7) for j in range(1, 3)),
        implausible=(), notes=(Note("หมวด 7.2!E10", "error", message),) * notes,
        made=date(2026, 12, 1), feedback=feedback)


@pytest.mark.parametrize(("notes", "feedback"), [(0, False), (2, False), (60, False),
                                                 (60, True)])
def test_a_page_with_long_names_and_five_tables_fits_at_its_scale(
        tmp_path: Path, notes: int, feedback: bool) -> None:
    path = tmp_path / "page.xlsx"
    write_page(_long_page(notes, feedback), path)
    _assert_fits_a4_at_its_scale(path)
    rows = _sheet(path)
    listed = sum(1 for r in rows if r[0] == "หมวด 7.2!E10 ผิดพลาด")
    assert listed <= min(notes, AR.LISTED_MAX)
    if listed < notes:  # the rest counted, and where they are: the feedback copy sent with
        # the page, or without one the office that merged (never a copy that is not there)
        where = "feedback copy" if feedback else "ask the office that merged the returns"
        assert any(isinstance(r[0], str) and f"{notes - listed} " in r[0]
                   and where in r[0] for r in rows)
        assert not any(isinstance(r[0], str) and "feedback copy" in r[0]
                       for r in rows) or feedback
    # the per-table rows are there only when the page holds them with its first problems
    shown = sum(1 for r in rows if isinstance(r[0], str) and r[0].startswith("ตาราง 7.2."))
    assert shown in (0, 5)
    if not shown:
        assert any(isinstance(r[0], str) and "คะแนนรายตาราง 7.2 ดูในไฟล์รวมผล" in r[0]
                   for r in rows)


def test_the_per_table_scores_are_kept_where_they_fit(tmp_path: Path) -> None:
    path = tmp_path / "page.xlsx"
    page = _long_page(0)
    short = AgencyPage(**{**{f: getattr(page, f) for f in AgencyPage.__dataclass_fields__},
                          "name": "กรมสั้น", "ministry": "กระทรวงสั้น", "file": "a.xlsx",
                          "title": "แบบสั้น", "left_out": None, "without_details": (),
                          "statuses": (("ก", 1), ("", 1))})
    write_page(short, path)
    rows = _sheet(path)
    assert [r[0] for r in rows if isinstance(r[0], str) and r[0].startswith("ตาราง 7.2.")] \
        == [f"ตาราง 7.2.{i}" for i in range(1, 6)]
    _assert_fits_a4_at_its_scale(path)


def _page(notes: int) -> AgencyPage:
    note = Note("หมวด 7.2!E10", "error", AR.Words(
        "ค่าเป้าหมาย 2562: 'ไม่มี' ไม่ใช่ตัวเลข กรุณาพิมพ์เฉพาะตัวเลข เช่น 85 หรือ 1,250.5",
        "not a number"))
    return AgencyPage(code="X1", name="กรมทดสอบ", ministry="กระทรวงทดสอบ", file="X1.xlsx",
                      state="counted_with_errors", title="แบบทดสอบ", fiscal_year=2569,
                      round=None, scores=(), statuses=(("ก", 3), ("", 1)), errors=notes,
                      warnings=0, left_out=AR.Words("นับโดยไม่รวม", "left out"),
                      without_details=("3.1.1",), implausible=(),
                      notes=(note,) * notes, made=date(2026, 12, 1))


def test_many_problems_are_cut_to_fit_and_the_rest_counted(tmp_path: Path) -> None:
    path = tmp_path / "page.xlsx"
    write_page(_page(60), path)
    rows = _sheet(path)
    listed = sum(1 for r in rows if r[0] == "หมวด 7.2!E10 ผิดพลาด")
    assert 1 <= listed < 60
    assert any(isinstance(r[0], str) and r[0].startswith(f"... และอีก {60 - listed} รายการ")
               for r in rows)
    _assert_fits_a4_at_its_scale(path)
    write_page(_page(2), path)
    rows = _sheet(path)
    assert sum(1 for r in rows if r[0] == "หมวด 7.2!E10 ผิดพลาด") == 2
    assert not any(isinstance(r[0], str) and r[0].startswith("...") for r in rows)


def test_title_and_dates_in_buddhist_era(merged: Any) -> None:
    out, _, _ = merged
    rows = _sheet(out / "20002-result.xlsx")
    assert "ปีงบประมาณ พ.ศ. 2562" in rows[0][0]
    assert be_date(date(2026, 12, 1)) == "1 ธันวาคม 2569"
    assert be_date(date.today()) in rows[1][0]


def test_result_names_are_safe_and_distinct() -> None:
    names = result_names(["A/1", "a/1", "CON", "10001"])
    assert names == {"A/1": "A_1-result.xlsx", "a/1": "a_1-2-result.xlsx",
                     "CON": "CON_-result.xlsx", "10001": "10001-result.xlsx"}


def test_results_folder_inside_an_input_folder_is_refused(round_dir: Path) -> None:
    folder = round_dir / "returns" / "results"
    run = CliRunner().invoke(main, ["merge", str(round_dir / "returns"), "-o",
                                    str(round_dir / "x.xlsx"), "--results", str(folder)])
    assert run.exit_code == 2
    assert "อยู่ในโฟลเดอร์ข้อมูลนำเข้า" in run.output
    assert not english_left(run.output.splitlines()[-1].removeprefix("Error: "))
    assert not folder.exists() and not (round_dir / "x.xlsx").exists()


def test_results_folder_equal_to_feedback_is_refused(round_dir: Path, tmp_path: Path) -> None:
    run = CliRunner().invoke(main, ["merge", str(round_dir / "returns"), "-o",
                                    str(tmp_path / "x.xlsx"), "--results", str(tmp_path / "f"),
                                    "--feedback", str(tmp_path / "f"), "--lang", "en"])
    assert run.exit_code == 2
    assert "is the --feedback folder" in run.output


def test_a_file_that_is_not_an_earlier_result_is_never_replaced(round_dir: Path,
                                                                tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    other = folder / "20002-result.xlsx"
    shutil.copy(round_dir / "sent" / "20002.xlsx", other)  # a workbook of someone else's
    before = other.read_bytes()
    run = CliRunner().invoke(main, ["merge", str(round_dir / "returns"), "--roster",
                                    str(round_dir / "roster.csv"), "-o",
                                    str(tmp_path / "x.xlsx"), "--accept-errors",
                                    "--results", str(folder)])
    assert run.exit_code == 2, run.output
    assert "ไม่ใช่ผลรายหน่วยงานที่เขียนไว้ครั้งก่อน" in run.output
    assert other.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["20002-result.xlsx"]
    assert not (tmp_path / "x.xlsx").exists()


def test_without_libreoffice_the_pdfs_are_not_made_and_it_says_why(
        round_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AR, "soffice_path", lambda: None)
    args = ["merge", str(round_dir / "returns"), "--roster", str(round_dir / "roster.csv"),
            "-o", str(tmp_path / "x.xlsx"), "--accept-errors", "--results",
            str(tmp_path / "r")]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 1, run.output  # as without --results: not an error of its own
    assert "ไม่ได้ทำไฟล์ PDF เพราะเครื่องนี้ไม่มี LibreOffice" in run.output
    assert sorted(p.suffix for p in (tmp_path / "r").iterdir()) == [".xlsx"] * 4
    lines = run.output[run.output.index("เขียนผลรายหน่วยงาน"):].splitlines()[:2]
    assert len(lines) == 2 and all(not english_left(line) for line in lines), lines
    run = CliRunner().invoke(main, english(args))
    assert "no PDFs were made: LibreOffice is not installed" in run.output
    assert f"wrote {len(COUNTED_CODES)} agency results in" in run.output


@pytest.mark.parametrize("lang", ["th", "en"])
def test_earlier_results_of_agencies_not_counted_now_are_listed_and_kept(
        round_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    """A result written by an earlier merge, for an agency whose return is not counted this
    time (fixed into an error, withdrawn), could still be sent to it: the merge names it, in
    the language asked, and leaves it (and its PDF) as it was; the others are replaced."""
    monkeypatch.setattr(AR, "soffice_path", lambda: None)
    folder = tmp_path / "r"
    returns = tmp_path / "returns"
    shutil.copytree(round_dir / "returns", returns)
    args = ["merge", str(returns), "--roster", str(round_dir / "roster.csv"), "-o",
            str(tmp_path / "x.xlsx"), "--accept-errors", "--results", str(folder),
            "--lang", lang]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 1, first.output
    assert "ผลเก่า" not in first.output and "earlier result" not in first.output
    stale = folder / "20002-result.xlsx"
    old = stale.read_bytes()
    (folder / "20002-result.pdf").write_bytes(b"%PDF-1.7 an earlier page")
    (folder / "notes-result.xlsx").write_bytes(b"not a result")  # someone else's file
    (returns / "20002.xlsx").unlink()  # 20002 is not counted this time
    (returns / "10001.xlsx").unlink()
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 1, second.output
    said = {"th": [f"ผลเก่า {name} ยังอยู่ในโฟลเดอร์ {folder}: การรวมผลครั้งนี้ไม่ได้นับแบบฟอร์ม"
                   "ของหน่วยงานนี้ จึงไม่ได้เขียนผลใหม่ให้ ไม่ต้องส่งไฟล์นี้"
                   for name in ("10001-result.xlsx", "20002-result.xlsx")],
            "en": [f"an earlier result, {name}, is still in {folder}: this merge counted no "
                   "return of its agency, so it wrote no new one; do not send it"
                   for name in ("10001-result.xlsx", "20002-result.xlsx")]}[lang]
    lines = [line.strip() for line in second.output.splitlines()]
    assert [line for line in lines if line in said] == said
    assert stale.read_bytes() == old
    assert (folder / "20002-result.pdf").read_bytes() == b"%PDF-1.7 an earlier page"
    assert (folder / "notes-result.xlsx").read_bytes() == b"not a result"
    assert AR.stale_results(folder, [folder / "10002-result.xlsx"]) == (
        folder / "10001-result.xlsx", folder / "20001-result.xlsx", stale)


def test_pages_from_the_api_match_the_files(merged: Any, round_dir: Path) -> None:
    _, result, _ = merged
    pages = agency_pages(result, load_roster(round_dir / "roster.csv"))
    assert [p.code for p in pages] == list(COUNTED_CODES)
    assert {p.code: p.ministry for p in pages} == {c: AGENCIES[c][1] for c in COUNTED_CODES}


@pytest.mark.libreoffice
def test_pdf_is_one_a4_page_with_the_name_and_scores(merged: Any, soffice: str) -> None:
    out, result, _ = merged
    frame = _independent_scores(result)
    for code in COUNTED_CODES:
        pdf = out / f"{code}-result.pdf"
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                              check=True).stdout
        assert re.search(r"^Pages:\s+1$", info, re.M), info
        size = re.search(r"Page size:\s+([0-9.]+) x ([0-9.]+) pts", info)
        assert size is not None
        assert (round(float(size.group(1))), round(float(size.group(2)))) == (595, 842)
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout
        squeezed = re.sub(r"\s+", "", text)
        assert re.sub(r"\s+", "", AGENCIES[code][0]) in squeezed
        shown = Decimal(repr(float(frame.loc[code, "all"]))).quantize(Decimal("0.01"),
                                                                      ROUND_HALF_UP)
        assert str(shown) in text  # as a spreadsheet rounds it: the decimal shown
        assert is_result_file(pdf)


#: Thai vowels and tone marks drawn above or below their letter: pdftotext may give them in
#: another order than the text was written in, so the comparison of texts leaves them out.
_THAI_MARKS = re.compile("[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]|\\s+")


def _squeezed(text: str) -> str:
    return _THAI_MARKS.sub("", text)


def _page_texts(path: Path) -> list[str]:
    """Every text the page's sheet prints (each cell's string; the hidden marker left out)."""
    book = openpyxl.load_workbook(path, rich_text=True)
    try:
        return [str(c.value) for row in book[RESULT_SHEET].iter_rows() for c in row
                if c.value is not None and not isinstance(c.value, int | float)
                and str(c.value) != RESULT_MARKER]
    finally:
        book.close()


@pytest.mark.libreoffice
def test_every_row_of_the_page_is_in_its_pdf(merged: Any, soffice: str,
                                             tmp_path: Path) -> None:
    """No row is clipped: every label and value of the sheet is in the PDF's text, for the
    pages of the round (with problems listed and without) and for pages asking for much
    room (long names, five tables, many problems), each on one A4 page."""
    out, _, _ = merged
    books = [out / f"{code}-result.xlsx" for code in COUNTED_CODES]
    for notes in (0, 2, 60):
        books.append(tmp_path / f"long{notes}.xlsx")
        write_page(_long_page(notes), books[-1])
    short = _long_page(0)
    books.append(tmp_path / "tables.xlsx")
    write_page(AgencyPage(**{**{f: getattr(short, f) for f in AgencyPage.__dataclass_fields__},
                             "name": "กรมสั้น", "left_out": None, "without_details": ()}),
               books[-1])
    for book in books:
        pdf = book.with_suffix(".pdf") if book.parent == out else convert(book, tmp_path, "pdf")
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                              check=True).stdout
        assert re.search(r"^Pages:\s+1$", info, re.M), (book.name, info)
        printed = _squeezed(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                           text=True, check=True).stdout)
        texts = _page_texts(book)
        assert any(t.startswith("ตัวชี้วัดที่ค่าผิดปกติ") for t in texts)  # the last fact
        # word by word: pdftotext may interleave the lines of cells side by side
        missing = [word for t in texts for word in t.split()
                   if _squeezed(word) not in printed]
        assert not missing, (book.name, missing)


# --- the page as a sheet of the agency's feedback copy ------------------------------------


@pytest.fixture(scope="module")
def with_feedback(round_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """merge --feedback F --results R: the feedback copies, each with its page."""
    root = tmp_path_factory.mktemp("with-feedback")
    run = CliRunner().invoke(main, [
        "merge", str(round_dir / "returns"), "--roster", str(round_dir / "roster.csv"),
        "-o", str(root / "all.xlsx"), "--accept-errors", "--results", str(root / "results"),
        "--feedback", str(root / "feedback")])
    assert run.exit_code == 1, run.output
    return root


def test_the_feedback_copy_holds_the_page_as_its_second_sheet(with_feedback: Path) -> None:
    copy = with_feedback / "feedback" / "20001.xlsx"
    book = openpyxl.load_workbook(copy)
    try:
        assert book.sheetnames[:2] == [FEEDBACK_SHEET, RESULT_SHEET]
        sheet = book[RESULT_SHEET]
        assert sheet["H1"].value == RESULT_MARKER and sheet.column_dimensions["H"].hidden
        assert sheet.page_setup.paperSize in (9, "9")
        assert sheet.page_setup.orientation == "portrait"
        assert not sheet.sheet_properties.pageSetUpPr.fitToPage
        assert int(sheet.page_setup.scale) >= MIN_SCALE * 100
        page = [tuple(c.value for c in row) for row in sheet.iter_rows()]
    finally:
        book.close()
    alone = _sheet(with_feedback / "results" / "20001-result.xlsx")
    assert [r[0] for r in page] == [r[0] for r in alone]  # the same rows, in the same order
    for label in ("คะแนน 7.2 ทุกตาราง", "ช่องที่ไม่นำมานับ"):
        assert [str(v) for v in _row(page, label)[:6]] == \
            [str(v) for v in _row(alone, label)[:6]]
    assert _notes(page) == _notes(alone)


def test_the_copy_with_its_page_reads_as_the_return_did(round_dir: Path,
                                                        with_feedback: Path) -> None:
    def found(path: Path) -> set[tuple[str, str]]:
        problems = read_return(path).problems
        return set(zip(problems["code"], problems["cell"].astype(str), strict=True))

    assert found(with_feedback / "feedback" / "20001.xlsx") == \
        found(round_dir / "returns" / "20001.xlsx")


def test_a_copy_fixed_and_sent_back_reads_as_a_normal_return(
        with_feedback: Path, cellmap: CellMap, tmp_path: Path) -> None:
    fixed = tmp_path / "in" / "20001.xlsx"
    fixed.parent.mkdir()
    book = openpyxl.load_workbook(with_feedback / "feedback" / "20001.xlsx")
    for key, value in _overrides(cellmap, "errors").items():
        sheet, ref = key.split("!")
        book[sheet][ref].value = 80.0 if value is not None else "รายละเอียดที่เติมแล้ว"
    book.save(fixed)
    read = read_return(fixed)
    assert read.state == "ok", read.problems[["code", "cell"]]
    assert read.problems.empty
    # checked again: the next copy (or none) never holds two pages
    run = CliRunner().invoke(main, ["merge", str(fixed.parent), "-o", str(tmp_path / "a.xlsx"),
                                    "--results", str(tmp_path / "r"), "--feedback",
                                    str(tmp_path / "f")])
    assert run.exit_code == 0, run.output
    assert (tmp_path / "r" / "20001-result.xlsx").exists()


def test_the_page_sheet_is_ignored_only_with_its_marker(tmp_path: Path) -> None:
    """Read with another edit of the version (layout-edited), a sheet the form does not have
    refuses the return; the page of a feedback copy does not, unless its marker is gone."""
    data = yaml.safe_load(Path(load_layout().source).read_text(encoding="utf-8"))
    data["sheets"][1]["validation"]["target"]["whole_number"] = True  # labels unchanged
    edited = parse_layout(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    cellmap = build_cellmap(load_layout())
    blank = tmp_path / "blank.xlsx"
    generate_workbook(load_layout(), blank)
    good = tmp_path / "in" / "good.xlsx"
    good.parent.mkdir()
    fill(cellmap, blank, good, agency_code="99001")
    entry = InputFile.of(good)
    problem = P.make("details-required", file=entry.name, sheet="หมวด 3", cell="E5",
                     label="รายละเอียด", message=AR.Words("ต้องกรอก", "required"))
    copy = write_feedback([ReturnFeedback(entry, (problem,), cellmap, _page(2))],
                          tmp_path / "out").written[0][1]
    assert openpyxl.load_workbook(copy).sheetnames[1] == RESULT_SHEET
    codes = set(read_return(copy, layouts=[edited]).problems["code"])
    assert "layout-changed" not in codes and "layout-edited" in codes
    book = openpyxl.load_workbook(copy)
    book[RESULT_SHEET]["H1"].value = "something else"
    book.save(tmp_path / "unmarked.xlsx")
    codes = set(read_return(tmp_path / "unmarked.xlsx", layouts=[edited]).problems["code"])
    assert "layout-changed" in codes


def test_layouts_may_not_use_the_page_sheet_name() -> None:
    text = Path(load_layout().source).read_text(encoding="utf-8")
    sheet = build_cellmap(load_layout()).sheets[1].name
    with pytest.raises(LayoutError, match="reserved for the agency's result page"):
        parse_layout(text.replace(f"sheet: {sheet}", f"sheet: {RESULT_SHEET}", 1))


def test_done_without_details_is_the_frames_for_each_agency(merged: Any,
                                                            round_dir: Path) -> None:
    """The page's items are Consolidated.done_without_details of the agency alone."""
    _, result, _ = merged
    pages = agency_pages(result, load_roster(round_dir / "roster.csv"))
    assert any(p.without_details for p in pages)
    for page in pages:
        expected = result.subset([page.code]).done_without_details["item_id"].tolist()
        assert list(page.without_details) == expected


@pytest.mark.libreoffice
def test_the_page_in_the_feedback_copy_prints_on_one_page(with_feedback: Path, soffice: str,
                                                          tmp_path: Path) -> None:
    pdf = convert(with_feedback / "feedback" / "20001.xlsx", tmp_path, "pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1))  # type: ignore[union-attr]
    texts = [subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"],
                            capture_output=True, text=True, check=True).stdout
             for n in range(1, pages + 1)]
    ours = [t for t in texts if "PMQA 4.0 self-assessment: the agency's result" in t]
    assert len(ours) == 1  # the whole page, and only it, on one printed page
    squeezed = re.sub(r"\s+", "", ours[0])
    assert "กรมมีข้อผิด" in squeezed
    assert "dataquality" in squeezed and "whattofixorcheck" in squeezed  # the last section


# --- one rank rule: the summary's list and each agency's page -----------------------------


def test_equal_scores_share_a_rank_and_the_next_skips() -> None:
    from pmqa_xlsx.quality import competition_ranks, rank_among

    assert competition_ranks([3.0, 5.0, 5.0, 1.0, 3.0]) == [3, 1, 1, 5, 3]
    assert competition_ranks([(1.0, 2.0), (1.0, 3.0), (1.0, 2.0)]) == [2, 1, 2]
    assert rank_among(4.0, [1.0, 4.0, 4.0, 9.0]) == 2


def _tied_scores(n: int) -> pd.DataFrame:
    """``n`` agencies' 7.2 scores with ties at the top, across the top cut of the summary's
    list, and at the bottom; one without a score."""
    values = [5.0, 5.0, 4.9, *[4.5] * 9, *[4.0 - i / 100 for i in range(n - 16)],
              2.0, 2.0, 2.0, None]
    return pd.DataFrame({"agency_code": [f"{i:05d}" for i in range(n)],
                         "agency_name": [f"กรม {i}" for i in range(n)],
                         "ministry": ["กระทรวงหนึ่ง" if i % 2 else "กระทรวงสอง" for i in range(n)],
                         "checklist": [None] * n, "score_72": values[:n]})


def test_the_summary_and_the_pages_give_each_agency_the_same_rank(tmp_path: Path) -> None:
    import xlsxwriter

    from pmqa_xlsx import summary

    frame = _tied_scores(30)
    path = tmp_path / "summary.xlsx"
    with xlsxwriter.Workbook(path) as book:
        writer = summary._Writer(book, book.add_worksheet("summary"))
        writer.scores(frame)
        writer.finish()
    rows = [r for r in openpyxl.load_workbook(path)["summary"].iter_rows(values_only=True)]
    listed = {str(r[0]).rsplit("(", 1)[1].rstrip(")"): r[2] for r in rows
              if isinstance(r[0], str) and r[0].startswith("กรม ")}
    figures = AR._Figures(frame, ["score_72"])
    on_page = {code: figures.line(code, ministry, "score_72", AR.Words("", "")).national_rank
               for code, ministry in zip(frame["agency_code"], frame["ministry"], strict=True)}
    for code, rank in listed.items():  # the same rank in both outputs; none without a score
        assert rank == on_page[code], code
    independent = {c: 1 + sum(1 for v in frame["score_72"] if v is not None and s is not None
                              and v > s) for c, s in zip(frame["agency_code"],
                                                         frame["score_72"], strict=True)}
    assert [listed[c] for c in ("00000", "00001", "00002")] == [1, 1, 3]
    assert all(listed[c] == independent[c] for c in listed if on_page[c] is not None)
    # the top 10 cut falls inside the tie at 4.5 (ranks 4 to 12): ten are listed, and a line
    # says how many more share rank 4; the bottom ten keep their ranks
    assert sum(1 for r in listed.values() if r is not None and r <= 4) == 10
    assert {"00026", "00027", "00028", "00029"} <= set(listed)
    assert any(isinstance(r[0], str) and r[0].startswith("… อีก 2 หน่วยงานได้ลำดับที่ 4 ")
               for r in rows)
