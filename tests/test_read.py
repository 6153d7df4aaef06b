"""The reader: the round trip at the centre (generate, fill every input, read: the same values
cell for cell), values as people type them, the LibreOffice round trip, and the frames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from pmqa_xlsx import generate_workbook, read_return
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.libreoffice import convert
from pmqa_xlsx.read import ANSWER_COLUMNS
from pmqa_xlsx.roster import Agency
from pmqa_xlsx.rules import percent_success, score

from .conftest import FIXED_TIME
from .fill import fill

AGENCY = Agency(code="03005", name="กรมการปกครอง", ministry="กระทรวงมหาดไทย")


@pytest.fixture(scope="module")
def agency_book(layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agency") / "03005.xlsx"
    generate_workbook(layout, path, agency=AGENCY, generated_at=FIXED_TIME)
    return path


@pytest.fixture(scope="module")
def filled(agency_book: Path, cellmap: CellMap,
           tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[tuple[str, str], Any]]:
    path = tmp_path_factory.mktemp("filled") / "03005.xlsx"
    typed = fill(cellmap, agency_book, path)
    return path, typed


def answers_by_cell(frame: pd.DataFrame) -> dict[tuple[str, str], Any]:
    return {(s, c): v for s, c, v in zip(frame["sheet"].astype(str), frame["cell"].astype(str),
                                         frame["value"], strict=True) if v is not pd.NA}


def test_round_trip_every_cell(filled: tuple[Path, dict], cellmap: CellMap) -> None:
    path, typed = filled
    result = read_return(path)
    assert result.state == "ok", result.problems.to_dict("records")
    assert result.problems.empty
    assert result.agency_code == "03005"
    answers = result.answers
    # one row per input cell of the form, blank or not
    assert len(answers) == len(list(cellmap.inputs())) == 404
    assert list(answers.columns) == list(ANSWER_COLUMNS)
    prefilled = {("คำชี้แจง", cellmap.identity_cell(f).ref): v for f, v in
                 (("agency_name", AGENCY.name), ("agency_code", AGENCY.code),
                  ("ministry", AGENCY.ministry))}
    assert answers_by_cell(answers) == {**typed, **prefilled}
    assert set(answers["file"].astype(str)) == {str(path)}
    assert set(answers["agency_code"].astype(str)) == {"03005"}


def test_answer_keys_and_labels(filled: tuple[Path, dict]) -> None:
    answers = read_return(filled[0]).answers
    row = answers[(answers["item_id"] == "3.2.2.b") & (answers["field_id"] == "recipient_1.who")]
    (record,) = row.to_dict("records")
    assert (record["part"], record["kind"], record["label"], record["sheet"]) == (
        "3", "text", "ผู้รับบริการลำดับที่ 1 คือ", "หมวด 3")
    target = answers[(answers["item_id"] == "7.2.1.1") & (answers["field_id"] == "target")]
    assert target["year"].tolist() == [2562]
    assert str(answers.dtypes["year"]) == "Int64"
    assert str(answers.dtypes["value"]) == "object"


def test_indicators_recomputed_by_the_rule(filled: tuple[Path, dict], cellmap: CellMap,
                                           layout: Layout) -> None:
    path, typed = filled
    indicators = read_return(path).indicators
    assert len(indicators) == 50
    first = cellmap.indicator_rows[0]
    (row,) = indicators[indicators["item_id"] == first.item_id].to_dict("records")
    sheet = first.percent.sheet
    target = typed[(sheet, first.cells["target"].ref)]
    result = typed[(sheet, first.cells["result_3"].ref)]
    direction = typed[(sheet, first.cells["direction"].ref)]
    expected = percent_success(target, result, direction, layout.rules)
    assert row["percent_success"] == expected and row["score"] == score(expected, layout.rules)
    assert (row["target"], row["result_2562"], row["result_2560"]) == (
        target, result, typed[(sheet, first.cells["result_1"].ref)])
    assert row["indicator"] == typed[(sheet, first.cells["name"].ref)]
    assert (row["sheet"], row["cells"], row["table_id"], row["row"]) == ("หมวด 7.2", "B10:J10",
                                                                       "7.2.1", 1)


# Text people put into number cells -> the problem, and the number it would be (values.py: a
# number cell counts a number only, as the workbook's ISNUMBER formulas do).
TYPED_NUMBERS = [
    ("๘๕", "number-as-text", "85"),
    ("1,234.5", "number-as-text", "1,234.5"),
    ("  72 ", "number-as-text", "72"),
    ("90", "number-as-text", "90"),   # a number stored as text
    ("abc", "not-a-number", None),
    ("50%", "not-a-number", None),
    ("N/A", "not-a-number", None),
    ("1,23", "not-a-number", None),
]


def test_values_as_people_type_them(agency_book: Path, cellmap: CellMap,
                                    tmp_path: Path) -> None:
    cells = [r.cells["target"] for r in cellmap.indicator_rows[: len(TYPED_NUMBERS)]]
    overrides = {f"{c.sheet}!{c.ref}": text for c, (text, _, _) in zip(cells, TYPED_NUMBERS,
                                                                       strict=True)}
    path = tmp_path / "typed.xlsx"
    fill(cellmap, agency_book, path, overrides)
    result = read_return(path)
    values = answers_by_cell(result.answers)
    errors = {(p["sheet"], p["cell"]): (p["code"], p["message_en"])
              for p in result.problems.to_dict("records")}
    for cell, (text, code, number) in zip(cells, TYPED_NUMBERS, strict=True):
        key = (cell.sheet, cell.ref)
        assert values[key] == text and errors[key][0] == code, text
        if number is not None:
            assert f"type it again as the number {number}, in Arabic digits" in errors[key][1]
    assert result.state == "rejected"


def test_blank_cells_are_na_and_not_counted_as_filled(agency_book: Path) -> None:
    result = read_return(agency_book)
    values = result.answers["value"]
    assert values.isna().sum() == 404 - 3  # only the three pre-filled identity fields
    assert result.indicators.empty
    assert result.problems["code"].tolist() == ["empty-return"]
    assert result.state == "ok_with_warnings"


def test_input_files_are_never_modified(filled: tuple[Path, dict]) -> None:
    path = filled[0]
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    read_return(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


@pytest.mark.libreoffice
def test_libreoffice_round_trip(soffice: str, filled: tuple[Path, dict], cellmap: CellMap,
                                tmp_path: Path) -> None:
    path, typed = filled
    resaved = convert(path, tmp_path / "lo", recalc=True)
    original, again = read_return(path), read_return(resaved)
    assert again.state == "ok", again.problems.to_dict("records")
    assert answers_by_cell(again.answers) == answers_by_cell(original.answers)
    columns = ["item_id", "indicator", "target", "result_2562", "percent_success", "score"]
    pd.testing.assert_frame_equal(again.indicators[columns], original.indicators[columns])
    # LibreOffice stored the formulas' results: the reader compared them and found no mismatch
    book = openpyxl.load_workbook(resaved, data_only=True)
    first = cellmap.indicator_rows[0]
    assert book["หมวด 7.2"][first.percent.ref].value == pytest.approx(
        original.indicators.iloc[0]["percent_success"])


@pytest.mark.libreoffice
def test_ods_returns_are_refused_with_how_to_save_as_xlsx(
    soffice: str, filled: tuple[Path, dict], tmp_path: Path
) -> None:
    ods = convert(filled[0], tmp_path / "ods", fmt="ods")
    result = read_return(ods)
    assert result.state == "rejected"
    (problem,) = result.problems.to_dict("records")
    assert problem["code"] == "ods-file"
    assert "Save As" in problem["message_en"] and ".xlsx" in problem["message_en"]
