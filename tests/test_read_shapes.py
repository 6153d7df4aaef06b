"""Forms of every shape the format allows read right, cell for cell: several indicator sheets
with different result years (in either order), unit and direction columns on one sheet and
not on another, four or more statuses, no indicators at all. Each result is under
``result_<its BE year>``; the frame's result columns are the union of the years, sorted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pmqa_xlsx import consolidate, generate_workbook, read_return
from pmqa_xlsx.cellmap import CellMap, build_cellmap
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.read import indicators_frame, read_raw
from pmqa_xlsx.roster import Agency
from pmqa_xlsx.rules import percent_success, score

from .conftest import FIXED_TIME
from .fill import fill
from .shapes import Sheet, shape

AGENCY = Agency(code="05001", name="กรมทดสอบรูปแบบ", ministry="กระทรวงทดสอบ")
PLAN_AHEAD = Sheet("7.6", result_years=(-1, 0, 1, 2), target_year=1, unit=False,
                   direction=False, tables=(1, 2))
LOOK_BACK = Sheet("7.1", result_years=(-2, -1, 0), target_year=0, tables=(2, 1))

SHAPES = {
    "two-sheets": dict(sheets=(LOOK_BACK, PLAN_AHEAD)),
    "two-sheets-reversed": dict(sheets=(PLAN_AHEAD, LOOK_BACK)),
    "indicators-only": dict(checklist=False, sheets=(PLAN_AHEAD, LOOK_BACK)),
    "five-statuses": dict(statuses=5, sheets=(Sheet("7.4", result_years=(-4, -3, -2, -1, 0)),)),
    "four-statuses-no-indicators": dict(statuses=4, sheets=()),
}


class Filled:
    """A return of one shape: its layout, cell map, file and what was typed, by cell."""

    def __init__(self, layout: Layout, path: Path, typed: dict[tuple[str, str], Any]) -> None:
        self.layout, self.path, self.typed = layout, path, typed
        self.cellmap: CellMap = build_cellmap(layout)


@pytest.fixture(scope="module", params=list(SHAPES))
def filled(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Filled:
    name = request.param
    layout = shape(f"shape-{name}", **SHAPES[name])  # type: ignore[arg-type]
    folder = tmp_path_factory.mktemp(name)
    generate_workbook(layout, folder / "blank.xlsx", agency=AGENCY, generated_at=FIXED_TIME)
    typed = fill(build_cellmap(layout), folder / "blank.xlsx", folder / f"{name}.xlsx",
                 agency_code=AGENCY.code)
    prefilled = {("คำชี้แจง", build_cellmap(layout).identity_cell(f).ref): v
                 for f, v in (("agency_name", AGENCY.name), ("agency_code", AGENCY.code))}
    return Filled(layout, folder / f"{name}.xlsx", {**typed, **prefilled})


def test_every_answer_reads_back(filled: Filled) -> None:
    result = read_return(filled.path, [filled.layout])
    assert result.state == "ok", result.problems.to_dict("records")
    answers = result.answers
    assert len(answers) == len(list(filled.cellmap.inputs()))
    got = {(s, c): v for s, c, v in zip(answers["sheet"].astype(str),
                                        answers["cell"].astype(str), answers["value"],
                                        strict=True) if v is not pd.NA}
    assert got == filled.typed
    years = {(c.sheet, c.ref): c.year for c in filled.cellmap.inputs()}
    for sheet, cell, year in zip(answers["sheet"].astype(str), answers["cell"].astype(str),
                                 answers["year"], strict=True):
        assert (pd.NA if years[(sheet, cell)] is None else years[(sheet, cell)]) is year or \
            year == years[(sheet, cell)]


def test_every_status_is_one_of_the_layouts(filled: Filled) -> None:
    """With four or more statuses, each is read as typed, the last ones included."""
    answers = read_return(filled.path, [filled.layout]).answers
    statuses = answers[answers["kind"] == "status"]["value"].tolist()
    labels = filled.layout.status_labels()
    assert set(statuses) <= set(labels)
    if len(labels) > 3 and len(statuses) >= len(labels):
        assert set(statuses) == set(labels)


def expected_indicators(filled: Filled) -> list[dict[str, Any]]:
    """Each indicator row as typed: every result under its own year, recomputed."""
    rules = filled.layout.rules
    rows = []
    for row in filled.cellmap.indicator_rows:
        def typed(field: str, row: Any = row) -> Any:
            cell = row.cells.get(field)
            return filled.typed.get((cell.sheet, cell.ref)) if cell is not None else None

        direction = typed("direction")
        percent = percent_success(typed("target"), typed(row.compared), direction, rules)
        rows.append({
            "table_id": row.table_id, "row": row.number, "item_id": row.item_id,
            "indicator": typed("name"), "unit": typed("unit"), "direction": direction,
            "target_year": row.cells["target"].year, "target": typed("target"),
            **{f"result_{c.year}": typed(f) for f, c in row.cells.items()
               if f.startswith("result_")},
            "percent_success": percent, "score": score(percent, rules),
            "sheet": row.percent.sheet,
        })
    return rows


def test_each_result_is_under_its_own_year(filled: Filled) -> None:
    indicators = read_return(filled.path, [filled.layout]).indicators
    years = sorted({c.year for r in filled.cellmap.indicator_rows for f, c in r.cells.items()
                    if f.startswith("result_")})
    results = [f"result_{y}" for y in years]
    assert [c for c in indicators.columns if c.startswith("result_")] == results
    assert indicators.columns.tolist()[10:-4] == results  # between target and percent_success
    expected = expected_indicators(filled)
    assert len(indicators) == len(expected)
    for got, want in zip(indicators.to_dict("records"), expected, strict=True):
        for column in ("target_year", *results, "unit", "direction"):
            want.setdefault(column, None)
        for column, value in want.items():
            found = got[column]
            assert (found is pd.NA and value is None) or found == value, (
                got["item_id"], column, found, value)
    for column in ("target", *results, "percent_success", "score"):
        assert str(indicators.dtypes[column]) == "Float64"


def test_a_merge_reads_every_shape(filled: Filled) -> None:
    """consolidate (and so merge) gives the same frames as read_return, in worker processes
    too (the plan travels as its key)."""
    alone = read_return(filled.path, [filled.layout])
    merged = consolidate([filled.path], layouts=[filled.layout], jobs=1)
    assert merged.summary()["ok"] == 1
    pd.testing.assert_frame_equal(merged.indicators, alone.indicators)
    pd.testing.assert_frame_equal(merged.answers, alone.answers)


def test_the_two_orders_of_two_sheets_give_one_frame(tmp_path: Path) -> None:
    """The bug of issue 11: the years of the first sheet were taken for every row (54 values
    under the wrong year in one order, a crash in the other). Both forms' rows, in one
    frame: the union of their years, <NA> where a sheet has no such year."""
    reads = []
    for name in ("two-sheets", "two-sheets-reversed"):
        layout = shape(f"shape-{name}", **SHAPES[name])  # type: ignore[arg-type]
        blank = tmp_path / f"blank-{name}.xlsx"
        generate_workbook(layout, blank, agency=AGENCY, generated_at=FIXED_TIME)
        fill(build_cellmap(layout), blank, tmp_path / f"{name}.xlsx", agency_code=AGENCY.code)
        reads.append(read_raw(tmp_path / f"{name}.xlsx", [layout]))
    frame = indicators_frame(reads)
    results = [c for c in frame.columns if c.startswith("result_")]
    assert results == [f"result_{y}" for y in range(2560, 2565)]
    by_sheet = {sheet: part for sheet, part in frame.groupby("sheet")}
    look_back, plan_ahead = by_sheet["หมวด 7.1"], by_sheet["หมวด 7.6"]
    assert look_back[["result_2563", "result_2564"]].isna().all().all()
    assert look_back[["result_2560", "result_2561", "result_2562"]].notna().all().all()
    assert plan_ahead[["result_2560"]].isna().all().all()
    assert plan_ahead[["result_2561", "result_2562", "result_2563", "result_2564"]] \
        .notna().all().all()
    assert plan_ahead["unit"].isna().all() and plan_ahead["direction"].isna().all()
    assert set(plan_ahead["target_year"]) == {2563} and set(look_back["target_year"]) == {2562}
    for read in reads:
        alone = indicators_frame([read])
        mine = frame[frame["file"] == read.file].reset_index(drop=True)
        for column in alone.columns:
            assert mine[column].tolist() == alone[column].tolist(), column
