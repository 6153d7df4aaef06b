"""The next round from this one: generate --roster R --prefill LAST, from each of the three forms
merge writes (consolidated workbook, CSV folder, Parquet folder)."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from pmqa_xlsx import generate_roster
from pmqa_xlsx.cellmap import CellMap, build_cellmap
from pmqa_xlsx.cli import main
from pmqa_xlsx.consolidate import check_files, consolidate, file_state
from pmqa_xlsx.layout import (
    META_CARRIED_KEY,
    META_CARRIED_MAX,
    META_CARRIED_ROW,
    META_SHEET,
    Layout,
    load_layout,
)
from pmqa_xlsx.libreoffice import convert_many
from pmqa_xlsx.parallel import worker_count
from pmqa_xlsx.prefill import (
    LEGEND,
    NOTE,
    REPORT_COLUMNS,
    REPORT_NAME,
    PrefillError,
    load_previous,
    plan_prefill,
    summary,
)
from pmqa_xlsx.read import read_return
from pmqa_xlsx.roster import Agency
from pmqa_xlsx.styles import CARRIED_FILL

from .conftest import ROOT
from .fill import fill

NEXT_LAYOUT = ROOT / "docs" / "examples" / "pmqa4-2563.yaml"
ISSUED = datetime(2026, 1, 1, tzinfo=UTC)
FIRST = [Agency(code="03005", name="กรมการปกครอง", ministry="กระทรวงมหาดไทย"),
         Agency(code="07007", name="กรมสรรพากร", ministry="กระทรวงการคลัง"),
         Agency(code="21003", name="กรมอนามัย", ministry="กระทรวงสาธารณสุข")]
#: The next round: two agencies that returned (03005, 07007), one that did not (21003) and one
#: new (08004).
NEXT = [*FIRST, Agency(code="08004", name="กรมส่งเสริมการเกษตร", ministry="กระทรวงเกษตรฯ")]
RETURNED = ("03005", "07007")
FORMS = ("xlsx", "csv", "parquet")


def _roster(path: Path, agencies: list[Agency]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["agency_code", "agency_name", "ministry"])
        writer.writerows([a.code, a.name, a.ministry] for a in agencies)
    return path


@pytest.fixture(scope="module")
def last(layout: Layout, cellmap: CellMap, tmp_path_factory: pytest.TempPathFactory
         ) -> dict[str, Path]:
    """A first round (the bundled layout, 2562) generated, filled by two of three agencies and
    merged into a workbook, a CSV folder and a Parquet folder."""
    root = tmp_path_factory.mktemp("round1")
    issued = root / "issued"
    generate_roster(layout, FIRST, issued, generated_at=ISSUED, jobs=1)
    returns = root / "returns"
    returns.mkdir()
    for code in RETURNED:
        source = next(issued.glob(f"*{code}*.xlsx"))
        fill(cellmap, source, returns / source.name, agency_code=code)
    out = {"xlsx": root / "consolidated.xlsx", "csv": root / "csv", "parquet": root / "pq"}
    result = CliRunner().invoke(main, [
        "merge", str(returns), "--roster", str(_roster(root / "r1.csv", FIRST)),
        "-o", str(out["xlsx"]), "--csv", str(out["csv"]), "--parquet", str(out["parquet"])])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def next_layout() -> Layout:
    return load_layout(NEXT_LAYOUT)


@pytest.fixture(scope="module")
def indicators(last: dict[str, Path]) -> pd.DataFrame:
    """LAST's indicators, as merge wrote them (the CSV's text kept as text)."""
    return pd.read_csv(last["csv"] / "indicators.csv", dtype={"agency_code": str,
                                                              "item_id": str, "table_id": str},
                       keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module", params=FORMS)
def next_round(request: pytest.FixtureRequest, last: dict[str, Path], next_layout: Layout,
               tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The next round's workbooks, generated with --prefill from one form of LAST."""
    root = tmp_path_factory.mktemp(f"round2-{request.param}")
    out = root / "issued"
    result = CliRunner().invoke(main, [
        "generate", "--roster", str(_roster(root / "r2.csv", NEXT)), "--layout",
        str(NEXT_LAYOUT), "-o", str(out), "--prefill", str(last[request.param]), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    return out, result.output


def _workbook(folder: Path, code: str) -> Path:
    return next(folder.glob(f"*{code}*.xlsx"))


def test_carried_cells_hold_last_values(next_round: tuple[Path, str], next_layout: Layout,
                                        indicators: pd.DataFrame) -> None:
    """Name, unit, direction and the overlapping result years hold exactly LAST's values; the
    target and the new target year's result are empty; carried cells are inputs, marked."""
    folder, _ = next_round
    cellmap = build_cellmap(next_layout)
    rows = {(r.table_id, r.item_id): r for r in cellmap.indicator_rows}
    fields = {"indicator": "name", "unit": "unit", "direction": "direction"}
    checked = 0
    for code in RETURNED:
        book = openpyxl.load_workbook(_workbook(folder, code))
        mine = indicators[indicators["agency_code"] == code]
        assert len(mine) > 0
        for record in mine.itertuples(index=False):
            row = rows.get((record.table_id, record.item_id))
            if row is None:
                continue
            sheet = book[row.cells["name"].sheet]
            expected: dict[str, Any] = {fld: getattr(record, col) for col, fld in fields.items()}
            for fld, cell in row.cells.items():
                if fld.startswith("result_") and f"result_{cell.year}" in mine.columns:
                    expected[fld] = float(getattr(record, f"result_{cell.year}"))
            for fld, value in expected.items():
                target = sheet[row.cells[fld].ref]
                assert target.value == value, (code, row.item_id, fld)
                assert target.fill.fgColor.rgb == "FF" + CARRIED_FILL[1:]
                assert not target.protection.locked
                assert target.comment is not None
                assert target.comment.text.startswith(NOTE.th.format(year=2562))
                checked += 1
            assert sheet[row.cells["target"].ref].value is None
            assert sheet[row.cells[row.compared].ref].value is None  # 2563: new
    assert checked > 100


def test_years_and_rows_not_in_the_new_form_are_reported(
        next_round: tuple[Path, str], indicators: pd.DataFrame, next_layout: Layout) -> None:
    folder, output = next_round
    with (folder / REPORT_NAME).open(encoding="utf-8-sig", newline="") as fh:
        report = list(csv.DictReader(fh))
    assert tuple(report[0]) == REPORT_COLUMNS
    cellmap = build_cellmap(next_layout)
    new_years = {c.year for r in cellmap.indicator_rows for c in r.cells.values() if c.year}
    for code in RETURNED:
        mine = [r for r in report if r["agency_code"] == code]
        old_years = {r["year"] for r in mine if r["year"]}
        dropped = {y for y in old_years if int(y) not in new_years}
        assert dropped == {"2560"}
        assert all(r["carried"] == "no" and r["reason_th"] for r in mine
                   if r["year"] in dropped)
        # 7.2.5 has 5 rows in the new form: rows 6-10 are not carried, and say why
        beyond = [r for r in mine if r["table_id"] == "7.2.5" and int(r["row"]) > 5]
        assert beyond and all(r["carried"] == "no" and "ไม่มีแถวนี้" in r["reason_th"]
                              for r in beyond)
        carried = [r for r in mine if r["carried"] == "yes"]
        filled = indicators[(indicators["agency_code"] == code)
                            & ~((indicators["table_id"] == "7.2.5")
                                & (indicators["row"] > 5))]
        assert len(carried) == len(filled) * 5  # name, unit, direction, 2561, 2562
    missing = {r["agency_code"] for r in report if r["carried"] == "no" and not r["table_id"]}
    assert missing == {"21003", "08004"}
    assert "21003" in output and "08004" in output and REPORT_NAME in output


def test_agencies_missing_from_last_get_blank_workbooks(next_round: tuple[Path, str],
                                                        next_layout: Layout) -> None:
    folder, _ = next_round
    cellmap = build_cellmap(next_layout)
    for code in ("21003", "08004"):
        book = openpyxl.load_workbook(_workbook(folder, code))
        for row in cellmap.indicator_rows:
            for cell in row.cells.values():
                assert book[cell.sheet][cell.ref].value is None
                assert book[cell.sheet][cell.ref].comment is None


def _carried_rows(cellmap: CellMap, book: Any) -> list[Any]:
    return [r for r in cellmap.indicator_rows
            if book[r.cells["name"].sheet][r.cells["name"].ref].value is not None]


def _meta_record(book: Any) -> list[tuple[Any, ...]]:
    return [row for row in book[META_SHEET].iter_rows(
        min_row=META_CARRIED_ROW + 1, max_col=4, values_only=True) if row[0] is not None]


def test_the_metadata_records_each_carried_cell(next_round: tuple[Path, str],
                                                next_layout: Layout) -> None:
    """The record in the metadata names exactly the carried cells (their fill tells them),
    with the values they hold; a workbook with nothing carried has no record."""
    folder, _ = next_round
    cellmap = build_cellmap(next_layout)
    book = openpyxl.load_workbook(_workbook(folder, RETURNED[0]))
    carried = [(c.sheet, c.ref, book[c.sheet][c.ref].value) for c in cellmap.inputs()
               if book[c.sheet][c.ref].fill.fgColor.rgb == "FF" + CARRIED_FILL[1:]]
    assert len(carried) > 100
    assert [(k, sheet, ref, value) for k, sheet, ref, value in _meta_record(book)] == [
        (META_CARRIED_KEY, *c) for c in carried]
    blank = openpyxl.load_workbook(_workbook(folder, "08004"))
    assert _meta_record(blank) == []


def test_an_untouched_prefilled_return_is_empty(next_round: tuple[Path, str],
                                                next_layout: Layout, tmp_path: Path) -> None:
    """Sent back as issued, a pre-filled return is empty, as a blank one is: one problem
    (empty-return), ``check`` says empty, and a merge does not count it: its agency is
    missing."""
    folder, _ = next_round
    path = _workbook(folder, RETURNED[0])
    result = read_return(path, [next_layout])
    assert list(result.problems["code"]) == ["empty-return"]
    assert [file_state(r) for r in check_files([path], layouts=[next_layout])] == ["empty"]
    returns = tmp_path / "returns"
    returns.mkdir()
    shutil.copy(path, returns / path.name)
    merged = consolidate(returns, NEXT, layouts=[next_layout]).returns
    states = sorted(zip(merged["agency_code"], merged["state"], strict=True))
    assert (RETURNED[0], "empty") in states
    assert sorted(c for c, s in states if s == "missing") == sorted(a.code for a in NEXT)


@pytest.mark.libreoffice
def test_an_untouched_return_saved_by_libreoffice_is_empty(
        soffice: str, next_round: tuple[Path, str], next_layout: Layout,
        tmp_path: Path) -> None:
    """Opened and saved again in LibreOffice without a change: the record and the carried
    values come through alike, the return is still empty; with one status chosen it is not."""
    folder, _ = next_round
    path = _workbook(folder, RETURNED[0])
    cellmap = build_cellmap(next_layout)
    status = next(iter(cellmap.status_cells()))

    def choose(b: Any) -> None:
        b[status.sheet][status.ref].value = status.choices[1]

    (tmp_path / "typed").mkdir()
    typed = _typed(path, tmp_path / "typed", choose)
    typed = typed.rename(typed.with_name("typed.xlsx"))
    saved = convert_many([path, typed], tmp_path / "lo")
    assert list(read_return(saved[0], [next_layout]).problems["code"]) == ["empty-return"]
    assert "empty-return" not in set(read_return(saved[1], [next_layout]).problems["code"])


def _typed(path: Path, tmp_path: Path, edit: Any) -> Path:
    book = openpyxl.load_workbook(path)
    edit(book)
    out = tmp_path / path.name
    book.save(out)
    return out


def test_a_return_with_anything_typed_is_read_as_before(next_round: tuple[Path, str],
                                                        next_layout: Layout,
                                                        tmp_path: Path) -> None:
    """One status typed, or one carried value typed over: the return is the agency's, read
    as any other (the form's checks: no status chosen; results but no target)."""
    folder, _ = next_round
    cellmap = build_cellmap(next_layout)
    path = _workbook(folder, RETURNED[0])
    book = openpyxl.load_workbook(path)
    rows = _carried_rows(cellmap, book)
    statuses = list(cellmap.status_cells())
    first = statuses[0]

    def one_status(b: Any) -> None:
        b[first.sheet][first.ref].value = first.choices[1]

    (tmp_path / "s").mkdir()
    result = read_return(_typed(path, tmp_path / "s", one_status), [next_layout])
    found = sorted(zip(result.problems["cell"], result.problems["code"], strict=True))
    assert found == sorted([(r.cells["target"].ref, "result-without-target") for r in rows]
                           + [(c.ref, "status-required") for c in statuses[1:]])
    result_cell = next(c for f, c in rows[0].cells.items()
                       if f.startswith("result_") and book[c.sheet][c.ref].value is not None)

    def changed(b: Any) -> None:
        b[result_cell.sheet][result_cell.ref].value = \
            book[result_cell.sheet][result_cell.ref].value + 1

    (tmp_path / "c").mkdir()
    result = read_return(_typed(path, tmp_path / "c", changed), [next_layout])
    codes = set(result.problems["code"])
    assert "empty-return" not in codes and {"result-without-target", "status-required"} <= codes
    frame = result.indicators
    got = frame[frame["item_id"] == rows[0].item_id].iloc[0]
    assert got[f"result_{result_cell.year}"] == book[result_cell.sheet][result_cell.ref].value + 1


def test_a_return_with_everything_typed_reads_the_carried_values(
        next_round: tuple[Path, str], next_layout: Layout, tmp_path: Path) -> None:
    """Statuses and targets typed: the carried values are read back as the return's own."""
    folder, _ = next_round
    cellmap = build_cellmap(next_layout)
    path = _workbook(folder, RETURNED[0])
    book = openpyxl.load_workbook(path)
    rows = _carried_rows(cellmap, book)

    def confirm(b: Any) -> None:
        for row in rows:
            b[row.cells["target"].sheet][row.cells["target"].ref].value = 100.0
        for cell in cellmap.status_cells():
            b[cell.sheet][cell.ref].value = cell.choices[1]  # "starting": asks for no details

    confirmed = read_return(_typed(path, tmp_path, confirm), [next_layout])
    assert confirmed.state in ("ok", "ok_with_warnings"), confirmed.problems
    assert set(confirmed.problems["severity"]) <= {"warning"}
    assert "empty-return" not in set(confirmed.problems["code"])
    frame = confirmed.indicators
    assert sorted(zip(frame["table_id"], frame["item_id"], strict=True)) == sorted(
        (r.table_id, r.item_id) for r in rows)
    for row in rows:  # what was carried is read as the return's value
        got = frame[frame["item_id"] == row.item_id].iloc[0]
        assert got["indicator"] == book[row.cells["name"].sheet][row.cells["name"].ref].value


#: Ways to spoil the record of an untouched return; each makes the reader ignore it whole.
SPOILED = {
    "not-an-answer": lambda rec: rec.__setitem__((0, 2), "A1"),
    "never-carried": lambda rec: rec.__setitem__((0, 2), _TARGET_REF),
    "another-sheet": lambda rec: rec.__setitem__((0, 1), "ไม่มีแผ่นนี้"),
    "cell-twice": lambda rec: (rec.__setitem__((1, 1), rec[(0, 1)]),
                               rec.__setitem__((1, 2), rec[(0, 2)])),
    "wrong-key": lambda rec: rec.__setitem__((0, 0), "carried?"),
    "no-value": lambda rec: rec.__setitem__((0, 3), None),
    "true-false": lambda rec: rec.__setitem__((0, 3), True),
    "a-gap": lambda rec: rec.__setitem__((len(rec) // 4 + 1, 0), "carried"),
    "a-fifth-column": lambda rec: rec.__setitem__((0, 4), "x"),
    "number-as-ref": lambda rec: rec.__setitem__((0, 2), 12.0),
}


def _spoil(book: Any, how: str) -> None:
    sheet = book[META_SHEET]
    record: dict[tuple[int, int], Any] = {}
    for r, row in enumerate(sheet.iter_rows(min_row=META_CARRIED_ROW + 1, max_col=4,
                                            values_only=True)):
        for c, value in enumerate(row):
            if value is not None:
                record[(r, c)] = value
    SPOILED[how](record)
    for (r, c), value in record.items():
        target = sheet.cell(row=META_CARRIED_ROW + 1 + r, column=c + 1)
        target.value = value
        if isinstance(value, str):
            target.data_type = "s"


@pytest.mark.parametrize("how", sorted(SPOILED))
def test_a_spoiled_record_is_ignored(how: str, next_round: tuple[Path, str],
                                     next_layout: Layout, tmp_path: Path) -> None:
    """A record that is not exactly what generate writes is ignored whole: the untouched
    return is read as one holding those values (the form's checks), never a crash."""
    folder, _ = next_round
    path = _typed(_workbook(folder, RETURNED[0]), tmp_path, lambda b: _spoil(b, how))
    result = read_return(path, [next_layout])
    codes = set(result.problems["code"])
    assert "reader-failed" not in codes and "empty-return" not in codes
    assert {"result-without-target", "status-required"} <= codes


_TARGET_REF = build_cellmap(load_layout(NEXT_LAYOUT)).indicator_rows[0].cells["target"].ref


def test_a_forged_record_can_only_say_what_is_there(next_round: tuple[Path, str],
                                                    next_layout: Layout,
                                                    tmp_path: Path) -> None:
    """A record forged to name one typed indicator name with its value makes that return
    empty (all it holds is what the record says), but not once anything else is typed; a
    record naming a cell generate never carries (a status) is ignored."""
    folder, _ = next_round
    cellmap = build_cellmap(next_layout)
    name = cellmap.indicator_rows[0].cells["name"]
    status = next(iter(cellmap.status_cells()))
    blank = _workbook(folder, "08004")  # nothing carried: no record

    def forge(b: Any, cell: Any, value: str, extra: bool) -> None:
        b[cell.sheet][cell.ref].value = value
        if extra:
            b[status.sheet][status.ref].value = status.choices[1]
        for col, text in enumerate((META_CARRIED_KEY, cell.sheet, cell.ref, value), start=1):
            b[META_SHEET].cell(row=META_CARRIED_ROW + 1, column=col).value = text

    def read(case: str, *args: Any) -> set[str]:
        (tmp_path / case).mkdir()
        path = _typed(blank, tmp_path / case, lambda b: forge(b, *args))
        return set(read_return(path, [next_layout]).problems["code"])

    assert read("alone", name, "ตัวชี้วัด", False) == {"empty-return"}
    assert "empty-return" not in read("more", name, "ตัวชี้วัด", True)
    assert "empty-return" not in read("status", status, status.choices[1], False)


def test_a_record_beyond_its_bound_is_ignored(next_round: tuple[Path, str],
                                              next_layout: Layout, tmp_path: Path) -> None:
    """Rows of the record beyond META_CARRIED_MAX: not read, and the record ignored."""
    folder, _ = next_round

    def far(b: Any) -> None:
        b[META_SHEET].cell(row=META_CARRIED_ROW + META_CARRIED_MAX + 5, column=1).value = "x"

    result = read_return(_typed(_workbook(folder, RETURNED[0]), tmp_path, far), [next_layout])
    assert "empty-return" not in set(result.problems["code"])
    assert "reader-failed" not in set(result.problems["code"])


def test_the_three_forms_of_last_carry_the_same(last: dict[str, Path],
                                                next_layout: Layout) -> None:
    cellmap = build_cellmap(next_layout)
    plans = [plan_prefill(cellmap, load_previous(last[f]), NEXT) for f in FORMS]
    answers = [{c: p.answers for c, p in plan.agencies.items()} for plan in plans]
    assert answers[0] == answers[1] == answers[2]
    assert set(answers[0]) == set(RETURNED)
    assert [p.report for p in plans[1:]] == [plans[0].report] * 2


def test_formula_and_text_in_last_are_not_run(last: dict[str, Path], next_layout: Layout,
                                              tmp_path: Path) -> None:
    """An edited LAST: an indicator typed as '=1+1' stays that text; a formula put into a
    result cell of the workbook is not carried, and says why."""
    frame = pd.read_csv(last["csv"] / "indicators.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "indicator"] = "'=HYPERLINK(\"http://x\",\"y\")"
    folder = tmp_path / "csv"
    folder.mkdir()
    frame.to_csv(folder / "indicators.csv", index=False, encoding="utf-8-sig")
    previous = load_previous(folder)
    first = previous.rows[frame.loc[0, "agency_code"]][0]
    assert first.texts["name"] == '=HYPERLINK("http://x","y")'
    book = openpyxl.load_workbook(last["xlsx"])
    sheet = book["indicators"]
    column = [c.value for c in sheet[1]].index("result_2561") + 1
    sheet.cell(row=2, column=column).value = "=1+1"
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    plan = plan_prefill(build_cellmap(next_layout), load_previous(edited), NEXT)
    refused = [r for r in plan.report if r[4] == "result_2561" and r[6] == "=1+1"]
    assert len(refused) == 1 and refused[0][7] == "no" and "สูตร" in refused[0][8]
    # the text is written as text into the new workbook: never a formula or a link
    text_plan = plan_prefill(build_cellmap(next_layout), previous, NEXT)
    generate_roster(next_layout, NEXT, tmp_path / "out", prefill=text_plan, jobs=1)
    row = build_cellmap(next_layout).indicator_rows[0]
    code = frame.loc[0, "agency_code"]
    assert (row.table_id, row.item_id) == (first.table_id, first.item_id)
    cell = openpyxl.load_workbook(_workbook(tmp_path / "out", code))[
        row.cells["name"].sheet][row.cells["name"].ref]
    assert (cell.value, cell.data_type, cell.hyperlink) == (first.texts["name"], "s", None)


def test_workers_write_the_same_workbooks(last: dict[str, Path], next_layout: Layout,
                                          tmp_path: Path) -> None:
    """Carried values travel to worker processes: --jobs does not change a byte."""
    roster = NEXT + [Agency(code=f"990{n:02d}", name=f"กรมใหม่ {n}") for n in range(8)]
    plan = plan_prefill(build_cellmap(next_layout), load_previous(last["csv"]), roster)
    tokens = {a.code: f"{n:032x}" for n, a in enumerate(roster, start=1)}
    assert worker_count(2, len(roster), per_worker=5) == 2  # as generate_roster counts them
    digests = [{g.path.name: g.sha256 for g in generate_roster(
        next_layout, roster, tmp_path / f"j{jobs}", prefill=plan, jobs=jobs, tokens=tokens,
        generated_at=ISSUED)} for jobs in (1, 2)]
    assert digests[0] == digests[1] and len(digests[0]) == len(roster)
    assert (tmp_path / "j1" / REPORT_NAME).read_bytes() == \
        (tmp_path / "j2" / REPORT_NAME).read_bytes()


def test_an_agency_with_two_returns_in_last_carries_the_first(last: dict[str, Path],
                                                              tmp_path: Path) -> None:
    frame = pd.read_csv(last["csv"] / "indicators.csv", dtype=str, keep_default_na=False)
    code = frame.loc[0, "agency_code"]
    mine = frame[frame["agency_code"] == code]
    other = mine.assign(file="again.xlsx", indicator="อีกฉบับ")
    folder = tmp_path / "csv"
    folder.mkdir()
    pd.concat([mine, other]).to_csv(folder / "indicators.csv", index=False,
                                    encoding="utf-8-sig")
    rows = load_previous(folder).rows[code]
    assert [r.texts["name"] for r in rows] == list(mine["indicator"])


@pytest.mark.parametrize("make", ["not_ours_xlsx", "missing_columns", "empty_folder",
                                  "not_xlsx"])
def test_bad_last_is_refused_and_nothing_written(make: str, last: dict[str, Path],
                                                 blank_path: Path, tmp_path: Path) -> None:
    if make == "not_ours_xlsx":  # a form, not a consolidated workbook
        bad = tmp_path / "form.xlsx"
        shutil.copy(blank_path, bad)
    elif make == "missing_columns":
        bad = tmp_path / "csv"
        bad.mkdir()
        frame = pd.read_csv(last["csv"] / "indicators.csv", dtype=str)
        frame.drop(columns=["item_id"]).to_csv(bad / "indicators.csv", index=False)
    elif make == "empty_folder":
        bad = tmp_path / "empty"
        bad.mkdir()
    else:
        bad = tmp_path / "roster.txt"
        bad.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(PrefillError):
        load_previous(bad)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "generate", "--roster", str(_roster(tmp_path / "r.csv", NEXT)), "-o", str(out),
        "--prefill", str(bad)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert str(bad.name) in result.output
    assert not out.exists()


def test_prefill_needs_a_roster(last: dict[str, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["generate", "-o", str(tmp_path / "x.xlsx"),
                                       "--prefill", str(last["csv"])])
    assert result.exit_code == 2
    assert "--roster" in result.output
    assert not (tmp_path / "x.xlsx").exists()


def test_the_same_layout_a_year_on_carries_every_row(last: dict[str, Path], layout: Layout,
                                                     indicators: pd.DataFrame) -> None:
    """The bundled layout with --year 2563: every filled row fits (7.2.5 keeps its 10 rows),
    2561 and 2562 are carried, 2560 is not, 2563 (the target year) is the agency's."""
    cellmap = build_cellmap(layout, 2563)
    plan = plan_prefill(cellmap, load_previous(last["xlsx"]), NEXT)
    for code in RETURNED:
        rows = len(indicators[indicators["agency_code"] == code])
        answers = plan.agencies[code].answers
        assert len(answers) == rows * 5
        years = {c.year for r in cellmap.indicator_rows for f, c in r.cells.items()
                 if (r.item_id, f) in answers and c.year}
        assert years == {2561, 2562}
    reasons = {(r[4], r[8]) for r in plan.report if r[7] == "no" and r[4]}
    assert reasons == {("result_2560", "แบบฟอร์มรอบใหม่ไม่มีปีนี้")}


# --------------------------------------------------------------------------------------------
# LAST as an analyst may hand it over: re-saved, edited, another round's layout, too big
# --------------------------------------------------------------------------------------------


def _answers(plan: Any) -> dict[str, dict[tuple[str, str], Any]]:
    return {code: p.answers for code, p in plan.agencies.items()}


def _frame(last: dict[str, Path]) -> pd.DataFrame:
    return pd.read_csv(last["csv"] / "indicators.csv", dtype=str, keep_default_na=False)


def _csv_last(tmp_path: Path, frame: pd.DataFrame, name: str = "csv") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    frame.to_csv(folder / "indicators.csv", index=False, encoding="utf-8-sig")
    return folder


def _generate(tmp_path: Path, last: Path, roster: list[Agency] = NEXT,
              layout: Path = NEXT_LAYOUT) -> Any:
    return CliRunner().invoke(main, [
        "generate", "--roster", str(_roster(tmp_path / "roster.csv", roster)), "--layout",
        str(layout), "-o", str(tmp_path / "out"), "--prefill", str(last), "--jobs", "1"])


@pytest.mark.libreoffice
def test_last_csv_saved_again_by_libreoffice_carries_the_same(
        soffice: str, last: dict[str, Path], next_layout: Layout, tmp_path: Path) -> None:
    """LibreOffice opens indicators.csv with its defaults (codes become numbers: 03005 is
    3005) and saves it as CSV again: every agency is still found, the same values carried."""
    import subprocess

    resaved = tmp_path / "resaved"
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
                    "--infilter=CSV:44,34,76,1", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1", "--outdir", str(resaved),
                    str(last["csv"] / "indicators.csv")], check=True, timeout=180,
                   capture_output=True)
    text = (resaved / "indicators.csv").read_text(encoding="utf-8")
    assert ",3005," in text and ",03005," not in text  # what the rule below is for
    cellmap = build_cellmap(next_layout)
    before = plan_prefill(cellmap, load_previous(last["csv"]), NEXT)
    after = plan_prefill(cellmap, load_previous(resaved), NEXT)
    assert _answers(after) == _answers(before) and set(_answers(after)) == set(RETURNED)
    notes = [(r[0], r[6], r[7]) for r in after.report if not r[1] and r[7] == "yes"]
    assert sorted(notes) == [(code, code.lstrip("0"), "yes") for code in RETURNED]


def test_codes_that_lost_their_leading_zeros_are_found(last: dict[str, Path],
                                                       next_layout: Layout,
                                                       tmp_path: Path) -> None:
    """A code of LAST that is a roster code without leading zeros is that agency's, when no
    other roster code and no other code of LAST could be meant; else nothing is carried for
    it, and the report says why."""
    frame = _frame(last)
    stripped = _csv_last(tmp_path, frame.assign(agency_code=frame["agency_code"].str.lstrip("0")))
    cellmap = build_cellmap(next_layout)
    plan = plan_prefill(cellmap, load_previous(stripped), NEXT)
    assert _answers(plan) == _answers(plan_prefill(cellmap, load_previous(last["csv"]), NEXT))
    assert plan.not_in_roster == ()
    (tmp_path / "cli").mkdir()
    result = _generate(tmp_path / "cli", stripped)
    assert result.exit_code == 0, result.output
    assert f"พบ {len(RETURNED)} หน่วยงานด้วยรหัสที่ไม่มีเลข 0 นำหน้า" in result.output
    # two roster agencies that differ by a leading zero: 3005 may be either
    rivals = [*NEXT, Agency(code="003005", name="กรมอื่น")]
    plan = plan_prefill(cellmap, load_previous(stripped), rivals)
    assert "03005" not in plan.agencies and "003005" not in plan.agencies
    notes = {r[0]: r[8] for r in plan.report if r[0] in ("03005", "003005") and not r[1]}
    assert set(notes) == {"03005", "003005"}
    assert "(003005, 3005)" in notes["03005"] and "(03005, 3005)" in notes["003005"]
    assert all("หลายหน่วยงาน" in why for why in notes.values())
    assert "3005" in plan.not_in_roster


def test_two_rows_for_one_indicator_carry_the_first_and_say_so(last: dict[str, Path],
                                                               next_layout: Layout,
                                                               tmp_path: Path) -> None:
    frame = _frame(last)
    first = frame.iloc[0]
    again = first.copy()
    again["indicator"] = "พิมพ์ซ้ำ"
    edited = _csv_last(tmp_path, pd.concat([frame, again.to_frame().T], ignore_index=True))
    previous = load_previous(edited)
    rows = [r for r in previous.rows[first["agency_code"]] if r.item_id == first["item_id"]]
    assert [(r.texts["name"], r.line) for r in rows] == [(first["indicator"], 2)]
    plan = plan_prefill(build_cellmap(next_layout), previous, NEXT)
    said = [r for r in plan.report if r[3] == first["item_id"] and not r[4]
            and r[0] == first["agency_code"]]
    assert len(said) == 1 and said[0][7] == "no"
    assert f"แถวที่ {len(frame) + 2}" in said[0][8] and "แถวที่ 2 ซึ่งมาก่อน" in said[0][8]
    assert f"row {len(frame) + 2} of LAST" in said[0][9]
    (tmp_path / "cli").mkdir()
    result = _generate(tmp_path / "cli", edited)
    assert result.exit_code == 0 and "รอบที่แล้วมีแถวซ้ำ 1 แถว" in result.output, result.output
    # the rows of a second file for one agency: one report row names both files
    mine = frame[frame["agency_code"] == first["agency_code"]]
    two = _csv_last(tmp_path, pd.concat([mine, mine.assign(file="again.xlsx")]), "two")
    plan = plan_prefill(build_cellmap(next_layout), load_previous(two), NEXT)
    said = [r for r in plan.report if "again.xlsx" in r[8]]
    assert len(said) == 1 and first["file"] in said[0][8] and said[0][7] == "no"


def _edited_by_hand(last: dict[str, Path], tmp_path: Path) -> tuple[Path, Any, Any]:
    """LAST's workbook with its first row deleted, three results typed over (as text: with
    a thousands separator, in Thai digits, in words) and its first column moved last."""
    book = openpyxl.load_workbook(last["xlsx"])
    sheet = book["indicators"]
    header = [c.value for c in sheet[1]]
    col = {name: i + 1 for i, name in enumerate(header)}
    deleted = (sheet.cell(row=2, column=col["agency_code"]).value,
               sheet.cell(row=2, column=col["item_id"]).value)
    sheet.delete_rows(2)
    sheet.cell(row=2, column=col["result_2561"]).value = "1,234.5"
    sheet.cell(row=3, column=col["result_2561"]).value = "๑๒"
    sheet.cell(row=4, column=col["result_2561"]).value = "ห้าสิบ"
    typed = [(sheet.cell(row=r, column=col["agency_code"]).value,
              sheet.cell(row=r, column=col["item_id"]).value) for r in (2, 3, 4)]
    sheet.move_range(f"A1:A{sheet.max_row}", cols=sheet.max_column)  # the first column last
    sheet.delete_cols(1)
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    return edited, deleted, typed


def test_last_edited_by_hand_carries_what_it_says(last: dict[str, Path], next_layout: Layout,
                                                  tmp_path: Path) -> None:
    """A row deleted is not carried; a result typed over as text with a thousands separator
    or Thai digits is read as that number; columns moved change nothing; a result that is not
    a number is not carried and says so."""
    edited, deleted, typed = _edited_by_hand(last, tmp_path)
    plan = plan_prefill(build_cellmap(next_layout), load_previous(edited), NEXT)
    assert (deleted[1], "name") not in plan.agencies[deleted[0]].answers
    cellmap = build_cellmap(next_layout)
    field = next(f for f, c in cellmap.indicator_rows[0].cells.items() if c.year == 2561)
    assert plan.agencies[typed[0][0]].answers[(typed[0][1], field)] == 1234.5
    assert plan.agencies[typed[1][0]].answers[(typed[1][1], field)] == 12.0
    assert (typed[2][1], field) not in plan.agencies[typed[2][0]].answers
    refused = [r for r in plan.report if r[6] == "ห้าสิบ"]
    assert len(refused) == 1 and refused[0][7] == "no" and refused[0][9] == "not a number"


def test_numbers_as_merge_writes_them_are_read(last: dict[str, Path], next_layout: Layout,
                                               tmp_path: Path) -> None:
    frame = _frame(last)
    frame.loc[0, "result_2561"] = "1e-05"
    frame.loc[1, "result_2561"] = "2.5E+3"
    previous = load_previous(_csv_last(tmp_path, frame))
    code = frame.loc[0, "agency_code"]
    results = {r.item_id: r.results.get(2561) for r in previous.rows[code]}
    assert results[frame.loc[0, "item_id"]] == 1e-05
    assert results[frame.loc[1, "item_id"]] == 2500.0


def test_a_round_of_the_other_layout_carries_what_both_ask(
        next_round: tuple[Path, str], layout: Layout, next_layout: Layout,
        tmp_path: Path) -> None:
    """LAST made with pmqa4-2563 (the next round, filled and merged), carried into the
    bundled form a year on (2564): the years both sheets ask for that are not the new target
    year, every row that fits (the bundled 7.2.5 has more rows, not fewer)."""
    folder, _ = next_round
    returns = tmp_path / "returns"
    returns.mkdir()
    cellmap = build_cellmap(next_layout)
    for code in RETURNED:
        source = _workbook(folder, code)
        fill(cellmap, source, returns / source.name, agency_code=code)
    merged = tmp_path / "csv"
    result = CliRunner().invoke(main, ["merge", str(returns), "--layout", str(NEXT_LAYOUT),
                                       "-o", str(tmp_path / "m.xlsx"), "--csv", str(merged)])
    assert result.exit_code == 0, result.output
    previous = load_previous(merged)
    old = build_cellmap(layout, 2564)
    plan = plan_prefill(old, previous, NEXT)
    target_year = old.indicator_rows[0].cells["target"].year
    asked = {c.year for r in old.indicator_rows for f, c in r.cells.items()
             if f.startswith("result_")}
    expected_years = (asked & set(previous.years)) - {target_year}
    assert expected_years  # the two layouts share a result year
    for code in RETURNED:
        carried = plan.agencies[code].answers
        years = {c.year for r in old.indicator_rows for f, c in r.cells.items()
                 if (r.item_id, f) in carried and c.year}
        assert years == expected_years
        rows = {r.item_id for r in previous.rows[code]}
        assert {item for item, f in carried if f == "name"} == rows
    why = {r[9] for r in plan.report if r[7] == "no" and r[4]}
    expected_why = {"the new form asks for no result of this year"}
    if target_year in previous.years:
        expected_why.add("the new round's target year: the agency reports it anew")
    assert why == expected_why


def test_nothing_to_carry_is_refused(last: dict[str, Path], tmp_path: Path) -> None:
    """A roster none of whose agencies is in LAST, or a LAST none of whose tables the form
    has, carries nothing: refused (exit 2) with what to check, nothing written."""
    others = [Agency(code="55555", name="กรมอื่น")]
    (tmp_path / "a").mkdir()
    result = _generate(tmp_path / "a", last["csv"], others)
    assert result.exit_code == 2, result.output
    assert "ไม่พบหน่วยงานใดในรายชื่อ" in result.output and "55555" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "a" / "out").exists()
    frame = _frame(last)
    other_form = _csv_last(tmp_path, frame.assign(table_id="9.9", item_id="9.9.1"))
    (tmp_path / "b").mkdir()
    result = _generate(tmp_path / "b", other_form)
    assert result.exit_code == 2, result.output
    assert "ไม่มีค่าใดยกเข้าแบบฟอร์มนี้ได้" in result.output and "--layout" in result.output
    assert not (tmp_path / "b" / "out").exists()


@pytest.mark.parametrize("form", FORMS)
def test_a_last_too_big_is_refused(form: str, last: dict[str, Path], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """More rows than MAX_LAST_ROWS (here lowered to 3), or more bytes than MAX_LAST_BYTES:
    refused whole, never read in part."""
    import pmqa_xlsx.prefill as prefill

    monkeypatch.setattr(prefill, "MAX_LAST_ROWS", 3)
    with pytest.raises(PrefillError, match="more than 3 rows"):
        load_previous(last[form])
    (tmp_path / "rows").mkdir()
    result = _generate(tmp_path / "rows", last[form])
    assert result.exit_code == 2 and "มีแถวเกิน 3 แถว" in result.output, result.output
    assert not (tmp_path / "rows" / "out").exists()
    monkeypatch.setattr(prefill, "MAX_LAST_ROWS", 1_048_576)
    monkeypatch.setattr(prefill, "MAX_LAST_BYTES", 1000)
    with pytest.raises(PrefillError, match="larger than"):
        load_previous(last[form])


def test_a_csv_saved_by_excel_in_thai_is_refused_saying_how(last: dict[str, Path],
                                                            tmp_path: Path) -> None:
    """Excel's plain "CSV" is the Windows code page (cp874 for Thai): refused, asking for
    CSV UTF-8, exit 2."""
    folder = tmp_path / "excel"
    folder.mkdir()
    text = (last["csv"] / "indicators.csv").read_text(encoding="utf-8-sig")
    (folder / "indicators.csv").write_bytes(text.encode("cp874"))
    with pytest.raises(PrefillError, match="CSV UTF-8"):
        load_previous(folder)
    result = _generate(tmp_path, folder)
    assert result.exit_code == 2 and "CSV UTF-8" in result.output, result.output


@pytest.mark.libreoffice
def test_last_edited_and_saved_by_libreoffice_carries_the_same(
        soffice: str, last: dict[str, Path], next_layout: Layout, tmp_path: Path) -> None:
    """The hand-edited LAST saved again by LibreOffice carries what it carried before."""
    edited, _, _ = _edited_by_hand(last, tmp_path)
    saved = convert_many([edited], tmp_path / "lo")[0]
    cellmap = build_cellmap(next_layout)
    before = plan_prefill(cellmap, load_previous(edited), NEXT)
    after = plan_prefill(cellmap, load_previous(saved), NEXT)
    assert _answers(after) == _answers(before) and set(_answers(after)) == set(RETURNED)
    assert after.report == before.report


def test_rows_kept_for_the_roster_only_plan_the_same(last: dict[str, Path],
                                                     next_layout: Layout,
                                                     tmp_path: Path) -> None:
    """load_previous(LAST, codes) keeps only the roster's rows (and those of its codes without
    leading zeros): the plan and the report are the same as from all of LAST."""
    frame = _frame(last)
    stripped = _csv_last(tmp_path, frame.assign(agency_code=frame["agency_code"].str.lstrip("0")))
    cellmap = build_cellmap(next_layout)
    for source in (last["xlsx"], last["csv"], stripped):
        for roster in (NEXT, NEXT[:1]):
            whole = plan_prefill(cellmap, load_previous(source), roster)
            part_previous = load_previous(source, [a.code for a in roster])
            part = plan_prefill(cellmap, part_previous, roster)
            assert _answers(part) == _answers(whole) and part.report == whole.report
            assert part.not_in_roster == whole.not_in_roster
    kept = load_previous(last["csv"], [RETURNED[0]])
    assert kept.rows[RETURNED[1]] == [] and kept.rows[RETURNED[0]]


# --------------------------------------------------------------------------------------------
# The new round's year against LAST's; what the report and the summary say
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [None, "2561"])
def test_a_last_of_the_same_or_a_later_year_is_refused(year: str | None, last: dict[str, Path],
                                                       layout: Layout, tmp_path: Path) -> None:
    """LAST's round (target_year 2562, the bundled layout's) into a new round of 2562 (no
    --year) or 2561: refused, exit 2, saying both years and --year; nothing written."""
    round_year = build_cellmap(layout).year
    new_year = int(year) if year else round_year
    out = tmp_path / "out"
    args = ["generate", "--roster", str(_roster(tmp_path / "r.csv", NEXT)), "-o", str(out),
            "--prefill", str(last["csv"]), "--jobs", "1"]
    result = CliRunner().invoke(main, [*args, *(["--year", year] if year else [])])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not out.exists()
    assert f"รอบที่แล้วเป็นปีงบประมาณ พ.ศ. {round_year}" in result.output
    assert f"รอบใหม่เป็นปี {new_year}" in result.output
    assert f"--year {round_year + 1}" in result.output
    assert result.output.index("รอบที่แล้ว") < result.output.index("previous round")
    with pytest.raises(PrefillError):
        plan_prefill(build_cellmap(layout, new_year), load_previous(last["csv"]), NEXT)


def test_no_result_year_in_common_is_warned(last: dict[str, Path], layout: Layout,
                                            tmp_path: Path) -> None:
    """A new round whose result years LAST has none of (the bundled layout in 2566): names,
    units and directions are carried, with a warning that says the years of both."""
    cellmap = build_cellmap(layout, 2566)
    previous = load_previous(last["csv"])
    asked = {c.year for r in cellmap.indicator_rows for f, c in r.cells.items()
             if f.startswith("result_") and c.year != r.cells["target"].year}
    assert not asked & set(previous.years)
    result = CliRunner().invoke(main, [
        "generate", "--roster", str(_roster(tmp_path / "r.csv", NEXT)), "-o",
        str(tmp_path / "out"), "--prefill", str(last["csv"]), "--year", "2566", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    warning = next(line for line in result.output.splitlines() if line.startswith("คำเตือน"))
    assert all(str(y) in warning for y in (*previous.years, *asked))
    assert "ไม่มีปีใดตรงกัน" in warning
    plan = plan_prefill(cellmap, previous, NEXT)
    assert {f for a in plan.agencies.values() for _, f in a.answers} == {
        "name", "unit", "direction"}
    year_on = plan_prefill(build_cellmap(layout, 2563), previous, NEXT)
    assert "คำเตือน" not in summary(year_on, previous).th


def test_the_summary_tells_values_not_asked_from_values_refused(
        last: dict[str, Path], layout: Layout, tmp_path: Path) -> None:
    """A year the new form does not ask for is counted apart from a value it asks for but
    cannot take; an agency with no counted return is said to be that, not absent."""
    previous = load_previous(last["csv"])
    plan = plan_prefill(build_cellmap(layout, 2563), previous, NEXT)
    not_asked = [r for r in plan.report if r[7] == "no" and r[4]]
    assert not_asked and plan.not_asked == len(not_asked) and plan.not_carried == 0
    words = summary(plan, previous)
    assert f"ไม่ได้ยก {len(not_asked)} ค่าที่แบบฟอร์มรอบใหม่ไม่ได้ถาม" in words.th
    assert "ยกไม่ได้" not in words.th
    assert "รอบที่แล้วไม่มีข้อมูลที่นับได้ของ 2 หน่วยงาน" in words.th
    missing = {r[0]: r[9] for r in plan.report if not r[1] and r[7] == "no"}
    assert set(missing) == {"21003", "08004"}
    assert all(why.startswith("no counted return") for why in missing.values())
    # a value the new form asks for but cannot take: counted as such
    frame = _frame(last)
    frame.loc[0, "result_2562"] = "สิบ"
    edited = load_previous(_csv_last(tmp_path, frame))
    words = summary(plan_prefill(build_cellmap(layout, 2563), edited, NEXT), edited)
    assert "ยกไม่ได้ 1 ค่าที่แบบฟอร์มรอบใหม่ถาม" in words.th


def test_report_values_are_written_as_indicators_csv_has_them(
        last: dict[str, Path], layout: Layout, tmp_path: Path) -> None:
    """A whole number carried shows as merge's CSV writes it (108, not 108.0): the report's
    value of each result is the text of the same cell of LAST's indicators.csv."""
    result = CliRunner().invoke(main, [
        "generate", "--roster", str(_roster(tmp_path / "r.csv", NEXT)), "-o",
        str(tmp_path / "out"), "--prefill", str(last["csv"]), "--year", "2563", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    report = pd.read_csv(tmp_path / "out" / REPORT_NAME, dtype=str, keep_default_na=False)
    frame = _frame(last).set_index(["agency_code", "table_id", "item_id"])
    results = report[report["field"].str.startswith("result_")]
    assert len(results) > 100
    for row in results.itertuples():
        assert row.value == frame.loc[(row.agency_code, row.table_id, row.item_id), row.field]
    assert not results["value"].str.endswith(".0").any()


def test_empty_return_mentions_carried_values_only_when_there_are_some(
        next_round: tuple[Path, str], next_layout: Layout, blank_path: Path) -> None:
    """An untouched pre-filled return is empty "(values carried over do not count)"; a blank
    workbook's and an uncarried roster workbook's empty-return say nothing of carried values."""
    folder, _ = next_round

    def empty(path: Path, layouts: list[Layout] | None = None) -> pd.DataFrame:
        problems = read_return(path, layouts).problems
        return problems[problems["code"] == "empty-return"].reset_index(drop=True)

    carried = empty(_workbook(folder, RETURNED[0]), [next_layout])
    blank = empty(_workbook(folder, "08004"), [next_layout])
    plain = empty(blank_path)  # the bundled form, no agency
    assert [len(p) for p in (carried, blank, plain)] == [1, 1, 1]
    assert carried["message_th"][0] == ("ยังไม่ได้กรอกข้อมูลใด ๆ (ค่าที่ยกมาจากรอบที่แล้วไม่นับ) "
                                        "กรุณากรอกแบบฟอร์มแล้วส่งมาใหม่")
    for problems in (blank, plain):
        assert problems["message_th"][0] == "ยังไม่ได้กรอกข้อมูลใด ๆ กรุณากรอกแบบฟอร์มแล้วส่งมาใหม่"
        assert "carried" not in problems["message_en"][0]


# --------------------------------------------------------------------------------------------
# A roster that lost its leading zeros, at merge: the same rule as LAST's codes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("in_workbook", "on_roster", "th", "en"), [
    ("03005", "3005", "บัญชีรายชื่อมีรหัส 3005 ซึ่งคือรหัสนี้ที่เลข 0 นำหน้าหายไป",
     "format the code column as text or type the codes with a leading '"),
    ("3005", "03005", "แก้รหัสในแบบฟอร์มเป็น 03005",
     "correct the workbook's code to 03005"),
])
def test_unknown_agency_says_when_only_leading_zeros_differ(
        in_workbook: str, on_roster: str, th: str, en: str, cellmap: CellMap,
        blank_path: Path, tmp_path: Path) -> None:
    """A return whose code is a roster code but for leading zeros (the roster's lost, or the
    workbook's) is unknown to the roster, and its reason says why and what to fix, in the
    returns frame, in check, and in merge's printed output; another unknown code does not."""
    returns = tmp_path / "returns"
    returns.mkdir()
    fill(cellmap, blank_path, returns / "a.xlsx", agency_code=in_workbook)
    fill(cellmap, blank_path, returns / "b.xlsx", agency_code="55555")
    roster = [Agency(code=on_roster, name="กรมการปกครอง"), Agency(code="07007", name="กรมสรรพากร")]
    frame = consolidate(returns, roster).returns
    frame = frame[frame["file"].notna() & (frame["file"] != "")]
    merged = frame.set_index(frame["file"].map(lambda f: Path(str(f)).name))
    assert merged.loc["a.xlsx", "state"] == merged.loc["b.xlsx", "state"] == "unknown_agency"
    assert th in merged.loc["a.xlsx", "reason_th"]
    assert en in merged.loc["a.xlsx", "reason_en"]
    reason = merged.loc["a.xlsx", "reason_th"]
    assert reason.index("ไม่อยู่ในบัญชีรายชื่อ") < reason.index(th) < reason.index("[unknown-agency]")
    assert "เลข 0" not in merged.loc["b.xlsx", "reason_th"]
    checked = {Path(r.file).name: [p.message_th for p in r.problems if p.code == "unknown-agency"]
               for r in check_files(sorted(returns.iterdir()), roster)}
    assert any(th in m for m in checked["a.xlsx"]) and checked["b.xlsx"]
    assert not any("เลข 0" in m for m in checked["b.xlsx"])
    result = CliRunner().invoke(main, [
        "merge", str(returns), "--roster", str(_roster(tmp_path / "r.csv", roster)),
        "-o", str(tmp_path / "m.xlsx")])
    assert th in result.output and "Traceback" not in result.output


# --------------------------------------------------------------------------------------------
# The legend of carried cells: where the agency sees it, on screen and on paper
# --------------------------------------------------------------------------------------------


def _legend_of(book: Any, cellmap: CellMap) -> tuple[Any, dict[str, str]]:
    """The instructions sheet's legend cell and each sheet's print header."""
    first = cellmap.sheets[0]
    assert first.carried_legend is not None
    cell = book[first.name].cell(row=first.carried_legend + 1, column=1)
    return cell, {ws.title: ws.oddHeader.left.text or "" for ws in book.worksheets}


def test_a_prefilled_workbook_explains_its_green_cells(next_round: tuple[Path, str],
                                                       next_layout: Layout, layout: Layout,
                                                       blank_path: Path) -> None:
    """In a pre-filled workbook the instructions sheet says what the carried fill means, in
    that fill, with the previous round's year, and each sheet with carried cells prints it at
    the top of its pages; a roster workbook with nothing carried and the blank form have
    neither. The legend's row is the cell map's, and the reader reads the workbook as before."""
    folder, _ = next_round
    cellmap = build_cellmap(next_layout)
    expected = LEGEND.format(years=" (พ.ศ. 2562)")
    book = openpyxl.load_workbook(_workbook(folder, RETURNED[0]))
    cell, headers = _legend_of(book, cellmap)
    assert cell.value == expected
    assert cell.fill.fgColor.rgb == "FF" + CARRIED_FILL[1:]
    carried_sheets = {c.sheet for c in cellmap.inputs()
                      if book[c.sheet][c.ref].fill.fgColor.rgb == "FF" + CARRIED_FILL[1:]}
    assert carried_sheets
    assert {name for name, text in headers.items() if text} == carried_sheets
    assert all(headers[name] == expected for name in carried_sheets)
    for path, plain_map in ((_workbook(folder, "08004"), cellmap),
                            (blank_path, build_cellmap(layout))):
        cell, headers = _legend_of(openpyxl.load_workbook(path), plain_map)
        assert cell.value is None and not any(headers.values())
    assert list(read_return(_workbook(folder, RETURNED[0]), [next_layout]).problems["code"]) \
        == ["empty-return"]


@pytest.mark.libreoffice
def test_the_legend_is_printed(soffice: str, next_round: tuple[Path, str],
                               tmp_path: Path) -> None:
    """LibreOffice's PDF of a pre-filled workbook holds the legend (the instructions sheet
    and the headers of the sheets with carried cells); a blank roster workbook's does not."""
    folder, _ = next_round
    pdfs = convert_many([_workbook(folder, RETURNED[0]), _workbook(folder, "08004")],
                        tmp_path, "pdf")
    legend = re.sub(r"\s+", "", LEGEND.format(years=" (พ.ศ. 2562)"))
    texts = [re.sub(r"\s+", "", subprocess.run(["pdftotext", str(pdf), "-"],
                                               capture_output=True, text=True,
                                               check=True).stdout) for pdf in pdfs]
    assert texts[0].count(legend) >= 2  # the instructions sheet, and a page's header
    assert "ช่องสีเขียวอ่อน" not in texts[1]
