"""Forms of every shape the layout format allows, end to end, cell for cell.

A table of layouts (``CASES``: the fixtures in tests/layouts/, next year's revision in
docs/examples/ and the bundled form): for each, one workbook per agency is generated with
the Python API, every input is filled with a value of its own (a status, Thai text, a
number), LibreOffice re-saves and recalculates them all (one soffice start for every case),
and the returns are read back with ``read_return`` and ``consolidate`` given the layout, and
through ``pmqa-xlsx check --layout`` and ``merge --layout``. Every typed value must come back
under its sheet and cell, every indicator value under its own year's ``result_<BE year>``
column, every state ``ok``, and percent success and score as ``pmqa_xlsx.rules`` computes
them (and as LibreOffice computed them in the workbook).

Last, last year's returns (the bundled form, 2562) and next year's (pmqa4-2563) are read side
by side, each with its own layout.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from pmqa_xlsx import (
    build_cellmap,
    consolidate,
    generate_roster,
    generate_workbook,
    load_layout,
    quality,
    read_return,
)
from pmqa_xlsx.cellmap import CellMap, IndicatorRow, InputCell
from pmqa_xlsx.cli import main
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.libreoffice import convert_many
from pmqa_xlsx.roster import Agency
from pmqa_xlsx.rules import percent_success, score

from .conftest import FIXED_TIME, ROOT
from .lang import english

LAYOUTS = ROOT / "tests" / "layouts"
BUNDLED = ROOT / "layouts" / "pmqa4-2562.yaml"
NEXT_YEAR = ROOT / "docs" / "examples" / "pmqa4-2563.yaml"


@dataclass(frozen=True)
class Case:
    """One layout of the table, generated for ``year`` (None: the layout's fiscal year)."""

    name: str
    path: Path
    exercises: str
    year: int | None = None


CASES = [
    Case("bundled", BUNDLED, "the bundled form: grids, sub-rows, 5 tables of 10 rows"),
    Case("next-year", NEXT_YEAR, "version 2563.1, fiscal year 2563, a new row 3.4.6, a "
         "reworded blank, table 7.2.5 of 5 rows"),
    Case("category-1", LAYOUTS / "category-1.yaml", "a checklist only, no indicators sheet"),
    Case("cat1-cat2-results", LAYOUTS / "cat1-cat2-results.yaml",
         "two checklist sheets and an indicators sheet; blank ids repeated across sheets"),
    Case("four-statuses", LAYOUTS / "four-statuses.yaml",
         "four statuses, five result years, a 0-100 score full at 120 %, one decimal"),
    Case("four-statuses-2570", LAYOUTS / "four-statuses.yaml",
         "the same, generated for another fiscal year (results 2566-2570)", year=2570),
    Case("two-indicator-sheets", LAYOUTS / "two-indicator-sheets.yaml",
         "no checklist; indicator sheets of years 2560-2562 (target 2562, unit and "
         "direction) then 2561-2564 (target 2563, neither)"),
    Case("two-indicator-sheets-reversed", LAYOUTS / "two-indicator-sheets-reversed.yaml",
         "a checklist, then the four-year sheet before the three-year one"),
    Case("corners", LAYOUTS / "corners.yaml",
         "an item-level grid, fixed-text-only rows, a status alone, a 1,600-character topic, "
         "formula-like labels, a quoted sheet name, one result year, one row"),
]
BY_NAME = {case.name: case for case in CASES}

AGENCIES = (
    Agency(code="10001", name="กรมทดสอบรูปแบบฟอร์ม", ministry="กระทรวงทดสอบ"),
    Agency(code="10002", name="สำนักงานทดสอบ ๒ (ส่วนกลาง)", ministry="กระทรวงทดสอบ"),
)


@dataclass
class Round:
    """One case, generated, filled and re-saved by LibreOffice."""

    case: Case
    layout: Layout | None = None
    cellmap: CellMap | None = None
    roster: Path | None = None
    returns: Path | None = None  # the folder of re-saved returns, CODE.xlsx
    typed: dict[str, dict[tuple[str, str], Any]] = field(default_factory=dict)  # by code
    error: BaseException | None = None

    def file(self, code: str) -> Path:
        assert self.returns is not None
        return self.returns / f"{code}.xlsx"


# --------------------------------------------------------------------------------------------
# Building the rounds: one session, one LibreOffice start
# --------------------------------------------------------------------------------------------


def typed_value(cell: InputCell, n: int, agency: int) -> Any:
    """A value for the n-th input of the form, of its kind, distinct for each agency."""
    if cell.kind == "status":
        # not the first status: every blank is filled, and the bundled layout's first status
        # ("not started") with details is a warning of its checks
        return cell.choices[1 + (n + agency) % (len(cell.choices) - 1)]
    if cell.kind == "direction":
        return cell.choices[(n + agency) % len(cell.choices)]
    if cell.kind == "number":
        # spread over 5-185 so that percent success and score vary; the thousandths make
        # every number of a form its own, and the quarter each agency's
        return round((n * 37) % 181 + 5 + agency / 4 + n / 1000, 3)
    if cell.kind == "identity":
        return f"{cell.label} ของหน่วยงานที่ {agency + 1}"
    extra = "\nบรรทัดที่สอง ๑๒๓" if n % 4 == 0 else ""
    return f"คำตอบ {agency + 1} {cell.sheet}!{cell.ref} ({cell.item_id} {cell.field_id}){extra}"


def write_roster(path: Path, agencies: tuple[Agency, ...] = AGENCIES) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["agency_code", "agency_name", "ministry"])
        writer.writerows((a.code, a.name, a.ministry) for a in agencies)
    return path


def fill_workbook(cellmap: CellMap, src: Path, dst: Path, agency: int,
                  prefilled: Agency) -> dict[tuple[str, str], Any]:
    """Type a value into every unlocked input of ``src``; return {(sheet, cell): value} of
    everything the return holds (the roster's locked values included)."""
    book = openpyxl.load_workbook(src)
    typed: dict[tuple[str, str], Any] = {}
    roster_values = {"agency_code": prefilled.code, "agency_name": prefilled.name,
                     "ministry": prefilled.ministry}
    roster_of = {f.id: f.roster for f in cellmap.layout.identity.fields}
    for n, cell in enumerate(cellmap.inputs()):
        target = book[cell.sheet][cell.ref]
        if target.protection.locked:
            assert cell.kind == "identity" and roster_of[cell.field_id], cell
            typed[(cell.sheet, cell.ref)] = roster_values[roster_of[cell.field_id]]
            continue
        value = typed_value(cell, n, agency)
        target.value = value
        typed[(cell.sheet, cell.ref)] = value
    book.save(dst)
    book.close()
    return typed


def build_round(case: Case, folder: Path, staging: Path) -> tuple[Round, list[Path]]:
    """Generate and fill one case's workbooks into ``staging``; the files to re-save."""
    rnd = Round(case)
    layout = load_layout(case.path)
    rnd.layout, rnd.cellmap = layout, build_cellmap(layout, case.year)
    rnd.roster = write_roster(folder / "roster.csv")
    issued = folder / "issued"
    generate_roster(layout, rnd.roster, issued, year=case.year, generated_at=FIXED_TIME,
                    jobs=1)
    filled = []
    for i, agency in enumerate(AGENCIES):
        dst = staging / f"{case.name}--{agency.code}.xlsx"
        rnd.typed[agency.code] = fill_workbook(rnd.cellmap, issued / f"{agency.code}.xlsx",
                                               dst, i, agency)
        filled.append(dst)
    return rnd, filled


@pytest.fixture(scope="session")
def rounds(soffice: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Round]:
    base = tmp_path_factory.mktemp("shapes")
    staging, resaved = base / "filled", base / "libreoffice"
    staging.mkdir()
    built: dict[str, Round] = {}
    sources: list[Path] = []
    for case in CASES:
        folder = base / case.name
        folder.mkdir()
        try:
            built[case.name], files = build_round(case, folder, staging)
            sources.extend(files)
        except Exception as exc:  # noqa: BLE001 - reported by the case's own tests
            built[case.name] = Round(case, error=exc)
    convert_many(sources, resaved, recalc=True)
    for rnd in built.values():
        if rnd.error is None:
            rnd.returns = base / rnd.case.name / "returns"
            rnd.returns.mkdir()
            for code in rnd.typed:
                shutil.move(resaved / f"{rnd.case.name}--{code}.xlsx", rnd.file(code))
    return built


@pytest.fixture(params=[case.name for case in CASES])
def rnd(request: pytest.FixtureRequest, rounds: dict[str, Round]) -> Round:
    built = rounds[request.param]
    if built.error is not None:
        raise built.error
    return built


# --------------------------------------------------------------------------------------------
# What must come back
# --------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """pandas' missing values as None, numpy scalars as Python ones."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def expected_answers(rnd: Round, code: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    assert rnd.cellmap is not None
    typed = rnd.typed[code]
    return {(c.sheet, c.ref): (c.part, c.item_id, c.field_id, c.kind, c.year,
                               typed[(c.sheet, c.ref)]) for c in rnd.cellmap.inputs()}


def read_answers(frame: pd.DataFrame, code: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    rows = frame[frame["agency_code"].astype(str) == code]
    got = {}
    for r in rows.to_dict("records"):
        key = (str(r["sheet"]), str(r["cell"]))
        assert key not in got, f"{key} twice in the answers frame"
        got[key] = (str(r["part"]), str(r["item_id"]), str(r["field_id"]), str(r["kind"]),
                    _plain(r["year"]), _plain(r["value"]))
    return got


def result_years(cellmap: CellMap) -> list[int]:
    """Every result year of the form (all indicator sheets), once each, in order."""
    return sorted({c.year for r in cellmap.indicator_rows for f, c in r.cells.items()
                   if f.startswith("result_") and c.year is not None})


def expected_indicator(row: IndicatorRow, typed: dict[tuple[str, str], Any], layout: Layout,
                       years: list[int]) -> dict[str, Any]:
    sheet = row.percent.sheet

    def value(fld: str) -> Any:
        return typed[(sheet, row.cells[fld].ref)] if fld in row.cells else None

    target_year = row.cells["target"].year
    results = {f"result_{c.year}": typed[(sheet, c.ref)] for f, c in row.cells.items()
               if f.startswith("result_")}
    (compared,) = [typed[(sheet, c.ref)] for f, c in row.cells.items()
                   if f.startswith("result_") and c.year == target_year]
    percent = percent_success(value("target"), compared, value("direction"), layout.rules)
    return {"table_id": row.table_id, "row": row.number, "sheet": sheet,
            "target_year": target_year, "indicator": value("name"), "unit": value("unit"),
            "direction": value("direction"), "target": value("target"),
            **{f"result_{y}": None for y in years}, **results,
            "percent_success": percent, "score": score(percent, layout.rules)}


def check_indicators(frame: pd.DataFrame, rnd: Round, code: str,
                     years: list[int] | None = None) -> None:
    """Each indicator row once, each result under its own year's column (``years``: the
    result columns of the frame, by default the form's), the others blank, and the rule's
    percent success and score."""
    assert rnd.cellmap is not None and rnd.layout is not None
    years = years or result_years(rnd.cellmap)
    columns = [c for c in frame.columns if str(c).startswith("result_")]
    assert sorted(columns) == [f"result_{y}" for y in years]
    rows = frame[frame["agency_code"].astype(str) == code]
    typed = rnd.typed[code]
    want = {r.item_id: expected_indicator(r, typed, rnd.layout, years)
            for r in rnd.cellmap.indicator_rows}
    got: dict[str, dict[str, Any]] = {}
    for record in rows.to_dict("records"):
        item_id = str(record["item_id"])
        assert item_id not in got, f"indicator row {item_id} twice"
        got[item_id] = {k: _plain(record.get(k)) for k in want.get(item_id, record)}
    assert got == want


def check_answers(frame: pd.DataFrame, rnd: Round, code: str) -> None:
    assert read_answers(frame, code) == expected_answers(rnd, code)


def round_of(rnd: Round) -> str | None:
    """The round to declare, ``FORM:VERSION:YEAR``, where the returns are not of the layout's
    own fiscal year (else None: the single layout given declares it)."""
    assert rnd.layout is not None
    if rnd.case.year is None:
        return None
    return f"{rnd.layout.form.id}:{rnd.layout.form.version}:{rnd.case.year}"


# --------------------------------------------------------------------------------------------
# The Python API
# --------------------------------------------------------------------------------------------


def test_every_fixture_layout_passes_check_layout() -> None:
    files = sorted({case.path for case in CASES})
    assert {p.name for p in LAYOUTS.glob("*.yaml")} <= {p.name for p in files}
    for path in files:
        result = CliRunner().invoke(main, ["check-layout", str(path)])
        assert result.exit_code == 0, result.output
        assert result.output.startswith(f"{path}: ok (")


#: Excel's tallest row, in points: a taller one is not what Excel shows (nor, for some
#: versions, a file it opens without repairing it).
EXCEL_MAX_ROW_HEIGHT = 409


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_every_row_fits_excels_tallest(case: Case, tmp_path: Path) -> None:
    """A long topic or label must not ask for a row taller than Excel can show: the text
    would be cut, or the layout refused by check-layout with its YAML path."""
    path = tmp_path / "blank.xlsx"
    generate_workbook(load_layout(case.path), path, year=case.year, generated_at=FIXED_TIME)
    book = openpyxl.load_workbook(path)
    try:
        tall = {(ws.title, row): dim.height for ws in book.worksheets
                for row, dim in ws.row_dimensions.items()
                if dim.height is not None and dim.height > EXCEL_MAX_ROW_HEIGHT}
    finally:
        book.close()
    assert tall == {}


@pytest.mark.libreoffice
def test_read_return_gives_back_every_cell(rnd: Round) -> None:
    for code in rnd.typed:
        result = read_return(rnd.file(code), layouts=[rnd.layout])
        assert result.problems.empty, result.problems[["where", "code", "message_en"]].to_dict(
            "records") if "where" in result.problems else result.problems.to_dict("records")
        assert result.state == "ok"
        assert result.agency_code == code
        assert result.identity.fiscal_year == rnd.cellmap.year
        check_answers(result.answers, rnd, code)
        check_indicators(result.indicators, rnd, code)


@pytest.mark.libreoffice
def test_consolidate_gives_back_every_cell(rnd: Round) -> None:
    merged = consolidate(rnd.returns, roster=rnd.roster, layouts=[rnd.layout], jobs=1,
                         round=round_of(rnd))
    states = sorted(zip(merged.returns["agency_code"].astype(str),
                        merged.returns["state"].astype(str), strict=True))
    assert states == [(code, "ok") for code in sorted(rnd.typed)], merged.problems.to_dict(
        "records")
    assert merged.problems.empty
    for code in rnd.typed:
        check_answers(merged.answers, rnd, code)
        check_indicators(merged.indicators, rnd, code)


@pytest.mark.libreoffice
def test_libreoffice_computed_the_rule(rnd: Round) -> None:
    """The percent success and score LibreOffice computed and stored are the rule's."""
    assert rnd.cellmap is not None and rnd.layout is not None
    years = result_years(rnd.cellmap)
    for code in rnd.typed:
        book = openpyxl.load_workbook(rnd.file(code), data_only=True)
        try:
            stored, want = {}, {}
            for row in rnd.cellmap.indicator_rows:
                ws = book[row.percent.sheet]
                stored[row.item_id] = (ws[row.percent.ref].value, ws[row.score.ref].value)
                expected = expected_indicator(row, rnd.typed[code], rnd.layout, years)
                want[row.item_id] = (expected["percent_success"], expected["score"])
        finally:
            book.close()
        assert {k: _close(stored[k], v) for k, v in want.items()} == {k: True for k in want}, (
            stored, want)


def _close(found: tuple[Any, ...], want: tuple[Any, ...]) -> bool:
    """Stored formula results as expected: a blank as None, numbers within 1e-9."""
    return all((f in (None, "") and w is None) or (
        isinstance(f, int | float) and w is not None and abs(f - w) <= 1e-9)
        for f, w in zip(found, want, strict=True))


# --------------------------------------------------------------------------------------------
# The command line: check --layout, merge --layout
# --------------------------------------------------------------------------------------------


def invoke(*args: str) -> tuple[int, str]:
    """The command's exit code and output, in English (the tests read its English words)."""
    result = CliRunner().invoke(main, english(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.output, result.exception)
    return result.exit_code, result.output


def round_option(rnd: Round) -> list[str]:
    """``--round`` where the returns are not of the layout's own fiscal year (a single
    ``--layout`` declares the round of its own)."""
    declared = round_of(rnd)
    return [] if declared is None else ["--round", declared]


@pytest.mark.libreoffice
def test_cli_check_with_the_layout(rnd: Round) -> None:
    code, out = invoke("check", "--layout", str(rnd.case.path), *round_option(rnd),
                       str(rnd.returns))
    assert code == 0, out
    lines = [line for line in out.splitlines() if not line.startswith(" ")]
    # the numbers spread over 5-185, so some rows' percent success is beyond belief (185
    # against a target of 5): check warns of those (as the merge lists them as implausible),
    # and of nothing else
    cellmap, layout = rnd.cellmap, rnd.layout
    assert cellmap is not None and layout is not None
    years = result_years(cellmap)

    def odd(code: str) -> bool:
        rows = [expected_indicator(r, rnd.typed[code], layout, years)
                for r in cellmap.indicator_rows]
        return any(quality.broken_rule(v["target"], v["percent_success"],
                                       [v[k] for k in v if k.startswith("result_")
                                        and v[k] is not None], None) for v in rows)

    states = {c: "ok_with_warnings" if odd(c) else "ok" for c in rnd.typed}
    assert lines == [f"{rnd.file(c)}: {states[c]} (agency {c})" for c in sorted(rnd.typed)]
    warned = {line.split(":")[0].split()[-1] for line in out.splitlines()
              if line.startswith("  ")}
    assert warned <= {"percent-extreme", "target-like-fraction"}, out


@pytest.mark.libreoffice
def test_cli_merge_with_the_layout(rnd: Round, tmp_path: Path) -> None:
    out_dir = tmp_path / "parquet"
    code, out = invoke("merge", "--layout", str(rnd.case.path), *round_option(rnd),
                       "--roster", str(rnd.roster), str(rnd.returns),
                       "-o", str(tmp_path / "merged.xlsx"), "--parquet", str(out_dir),
                       "--jobs", "1")
    assert code == 0, out
    assert f"  returned (counted)  {len(rnd.typed):>6}   (0 with warnings)" in out, out
    returns = pd.read_parquet(out_dir / "returns.parquet")
    assert sorted(zip(returns["agency_code"], returns["state"], strict=True)) == [
        (c, "ok") for c in sorted(rnd.typed)]
    answers = pd.read_parquet(out_dir / "answers.parquet")
    indicators = pd.read_parquet(out_dir / "indicators.parquet")
    for c in rnd.typed:
        # in Parquet, numbers are in value_number (value is text, one type per column)
        numbers = answers.assign(value=answers["value"].where(answers["kind"] != "number",
                                                              answers["value_number"]))
        check_answers(numbers, rnd, c)
        check_indicators(indicators, rnd, c)


@pytest.mark.libreoffice
def test_cli_check_takes_a_folder_of_layouts(rounds: dict[str, Round], tmp_path: Path) -> None:
    """``--layouts DIR``: the returns of several forms, each read with its own layout."""
    names = ("category-1", "cat1-cat2-results", "corners")
    layouts, returns = tmp_path / "layouts", tmp_path / "returns"
    layouts.mkdir()
    for name in names:
        rnd = rounds[name]
        assert rnd.error is None, rnd.error
        shutil.copy(rnd.case.path, layouts / rnd.case.path.name)
        shutil.copytree(rnd.returns, returns / name)
    code, out = invoke("check", "--layouts", str(layouts), str(returns))
    assert code == 0, out
    assert out.count(": ok (agency ") == len(names) * len(AGENCIES), out


@pytest.mark.libreoffice
def test_cli_given_layouts_replace_the_bundled_ones(rounds: dict[str, Round]) -> None:
    """With --layout, a return of the bundled form is not of a form given: not counted."""
    bundled, other = rounds["bundled"], rounds["category-1"]
    assert bundled.error is None and other.error is None
    code, out = invoke("check", "--layout", str(other.case.path), str(bundled.returns))
    assert code == 1, out
    lines = [line for line in out.splitlines() if not line.startswith(" ")]
    assert [line.split(": ")[:2] for line in lines] == [
        [str(bundled.file(c)), line.split(": ")[1]] for c, line in zip(
            sorted(bundled.typed), lines, strict=True)]
    assert all(line.split(": ")[1].startswith("rejected") for line in lines), out


# --------------------------------------------------------------------------------------------
# Last year's returns beside next year's
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def two_rounds(rounds: dict[str, Round]) -> Iterator[tuple[Round, Round]]:
    old, new = rounds["bundled"], rounds["next-year"]
    for rnd in (old, new):
        if rnd.error is not None:
            raise rnd.error
    yield old, new


def _both_years(old: Round, new: Round, folder: Path) -> Path:
    """Last year's returns in 2562/, next year's in 2563/, the same agencies in both."""
    for rnd, year in ((old, "2562"), (new, "2563")):
        assert rnd.returns is not None
        shutil.copytree(rnd.returns, folder / year)
    return folder


@pytest.mark.libreoffice
def test_last_years_and_next_years_returns_each_read_with_its_own_layout(
        two_rounds: tuple[Round, Round], tmp_path: Path) -> None:
    old, new = two_rounds
    assert old.layout is not None and new.layout is not None
    assert new.layout.form.id == old.layout.form.id
    folder = _both_years(old, new, tmp_path / "returns")
    for rnd, year in ((old, "2562"), (new, "2563")):
        for code in rnd.typed:
            result = read_return(folder / year / f"{code}.xlsx",
                                 layouts=[old.layout, new.layout])
            assert (result.state, result.identity.form_version, result.identity.fiscal_year) \
                == ("ok", rnd.layout.form.version, int(year)), result.problems.to_dict(
                    "records")
            check_answers(result.answers, rnd, code)
            check_indicators(result.indicators, rnd, code)


@pytest.mark.libreoffice
@pytest.mark.parametrize("counted_year", ["2562", "2563"])
def test_one_consolidate_of_both_years_counts_the_round_declared(
        two_rounds: tuple[Round, Round], tmp_path: Path, counted_year: str) -> None:
    """One consolidate call over both years' returns, given both layouts: each return is read
    with its own; the declared round's are counted cell for cell, the other round's are
    listed as other_round with their own version and year, and nothing else is said of
    either (no 'newer-return-rejected' on an agency's counted return because its return of
    the other round is not counted)."""
    old, new = two_rounds
    assert old.layout is not None and new.layout is not None
    counted, other = (old, new) if counted_year == "2562" else (new, old)
    folder = _both_years(old, new, tmp_path / "returns")
    form = counted.layout.form
    merged = consolidate(folder, roster=counted.roster, layouts=[old.layout, new.layout],
                         round=f"{form.id}:{form.version}:{form.fiscal_year}", jobs=1)
    rows = {f"{Path(str(r['file'])).parent.name}/{Path(str(r['file'])).name}": r
            for r in merged.returns.to_dict("records")}
    want = {}
    for rnd in (old, new):
        assert rnd.layout is not None
        year = str(rnd.layout.form.fiscal_year)
        for code in rnd.typed:
            want[f"{year}/{code}.xlsx"] = (code, "ok" if rnd is counted else "other_round",
                                           rnd.layout.form.version, rnd.layout.form.fiscal_year)
    assert {k: (str(r["agency_code"]), str(r["state"]), str(r["form_version"]),
                int(r["fiscal_year"])) for k, r in rows.items()} == want
    found = sorted((Path(str(p["file"])).parent.name, str(p["code"]))
                   for p in merged.problems.to_dict("records"))
    assert found == sorted((str(other.layout.form.fiscal_year), "other-round")
                           for _ in other.typed), merged.problems.to_dict("records")
    for code in counted.typed:
        check_answers(merged.answers, counted, code)
        check_indicators(merged.indicators, counted, code)


def test_the_cases_cover_the_shapes_the_brief_names() -> None:
    """The table holds what it says it does (a fixture edited out of shape fails here)."""
    layouts = {case.name: load_layout(case.path) for case in CASES}
    statuses = {n: len(lay.statuses) for n, lay in layouts.items()}
    assert statuses["four-statuses"] == 4
    kinds = {n: [s.kind for s in lay.sheets] for n, lay in layouts.items()}
    assert kinds["category-1"] == ["checklist"]
    assert kinds["cat1-cat2-results"] == ["checklist", "checklist", "indicators"]
    assert kinds["two-indicator-sheets"] == ["indicators", "indicators"]
    four = layouts["four-statuses"]
    assert four.sheets[1].result_years == (-4, -3, -2, -1, 0)
    assert four.rules.default.score.max == 100  # type: ignore[union-attr]
    two = layouts["two-indicator-sheets"].sheets
    assert [(s.result_years, s.target_year, s.columns.unit is not None,
             s.columns.direction is not None) for s in two] == [
        ((-2, -1, 0), 0, True, True), ((-1, 0, 1, 2), 1, False, False)]
    reversed_ = [s for s in layouts["two-indicator-sheets-reversed"].sheets
                 if s.kind == "indicators"]
    assert [s.result_years for s in reversed_] == [(-1, 0, 1, 2), (-2, -1, 0)]
