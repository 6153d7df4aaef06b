"""merge --accept-errors: a deadline merge counts a return whose errors are all in answer
cells, those cells left out of the frames and listed; an error about the file as a whole
still rejects it, and without the option any error does."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from pmqa_xlsx import consolidate, generate_workbook
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.cli import main
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.roster import Agency

from .fill import fill


def _return(layout: Layout, cellmap: CellMap, folder: Path, code: str,
            overrides: dict[str, object]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    sent = folder.parent / f"sent-{code}.xlsx"
    generate_workbook(layout, sent, agency=Agency(code=code, name=f"กรม {code}"))
    fill(cellmap, sent, folder / f"{code}.xlsx", overrides, agency_code=code)
    return folder / f"{code}.xlsx"


@pytest.fixture
def returns(layout: Layout, cellmap: CellMap, tmp_path: Path) -> Path:
    row = cellmap.indicator_rows[0]
    target, result = row.cells["target"], row.cells[row.compared]
    status = next(c for c in cellmap.inputs() if c.kind == "status")
    folder = tmp_path / "returns"
    _return(layout, cellmap, folder, "03005", {})
    _return(layout, cellmap, folder, "07007", {           # errors in answer cells only
        f"{target.sheet}!{target.ref}": "แปดสิบ", f"{status.sheet}!{status.ref}": "ทำแล้ว"})
    edited = _return(layout, cellmap, folder, "08004", {f"{result.sheet}!{result.ref}": "n/a"})
    book = openpyxl.load_workbook(edited)  # and a topic typed over: the sheet was edited
    label = next(lb for lb in cellmap.sheets[1].labels if lb.style == "topic")
    book[label.sheet].cell(label.row + 1, label.col + 1, "หัวข้อที่ถูกแก้")
    book.save(edited)
    return folder


def _states(merged: object) -> dict[str, str]:
    frame = merged.returns  # type: ignore[attr-defined]
    return dict(zip(frame["agency_code"], frame["state"], strict=True))


def test_without_the_option_any_error_rejects(returns: Path) -> None:
    assert _states(consolidate(returns)) == {"03005": "ok", "07007": "rejected",
                                             "08004": "rejected"}


def test_errors_in_answer_cells_only_are_counted_without_those_cells(
        returns: Path, cellmap: CellMap) -> None:
    merged = consolidate(returns, accept_errors=True)
    assert _states(merged) == {"03005": "ok", "07007": "counted_with_errors",
                               "08004": "rejected"}  # structure-changed: the file as a whole
    row = cellmap.indicator_rows[0]
    target = row.cells["target"]
    status = next(c for c in cellmap.inputs() if c.kind == "status")
    answers = merged.answers[merged.answers["agency_code"] == "07007"].set_index(
        ["sheet", "cell"])["value"]
    assert pd.isna(answers[(target.sheet, target.ref)])
    assert pd.isna(answers[(status.sheet, status.ref)])
    others = answers.drop([(target.sheet, target.ref), (status.sheet, status.ref)])
    assert others.notna().all()  # every other cell counted, as typed
    first = merged.indicators[(merged.indicators["agency_code"] == "07007")
                              & (merged.indicators["item_id"] == row.item_id)]
    assert pd.isna(first["target"].item()) and pd.isna(first["percent_success"].item())
    reason = merged.returns.set_index("agency_code").loc["07007", "reason_en"]
    assert reason.startswith("counted without 2 cells holding errors, left out of the frames")
    assert f"{target.sheet}!{target.ref}" in reason and f"{status.sheet}!{status.ref}" in reason
    errors = merged.problems[(merged.problems["agency_code"] == "07007")
                             & (merged.problems["severity"] == "error")]
    assert sorted(errors["code"]) == ["bad-status", "not-a-number"]  # still listed
    assert merged.summary()["counted_with_errors"] == 1


def test_merge_accept_errors_writes_and_says_so(returns: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["merge", "--lang", "en", str(returns),
                                       "--accept-errors", "-o", str(tmp_path / "m.xlsx")])
    assert result.exit_code == 1  # errors remain errors: someone must look
    assert "returned (counted)       2   (0 with warnings, 1 with errors left out)" in \
        result.output
    assert "counted_with_errors      1" in result.output
    frame = pd.read_excel(tmp_path / "m.xlsx", sheet_name="returns", dtype=str,
                          engine="openpyxl")
    assert dict(zip(frame["agency_code"], frame["state"], strict=True))["07007"] == \
        "counted_with_errors"
    plain = CliRunner().invoke(main, ["merge", "--lang", "en", str(returns), "-o",
                                      str(tmp_path / "p.xlsx")])
    assert "counted_with_errors" not in plain.output


def test_the_rounds_result_columns_are_there_when_nothing_is_counted(returns: Path) -> None:
    """Every return rejected: the indicators frame is empty but has its round's columns, so
    an analyst's script that reads result_2562 does not fail on a bad day."""
    merged = consolidate(sorted(returns.glob("0[78]*.xlsx")))
    assert merged.indicators.empty
    assert {"result_2560", "result_2561", "result_2562"} <= set(merged.indicators.columns)
