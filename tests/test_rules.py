"""Percent success and score: the Python rule on a table of cases, and LibreOffice computing
the workbook's formulas to the same values."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from pmqa_xlsx import percent_success, score
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.libreoffice import convert
from pmqa_xlsx.rules import excel_round

HIGHER, LOWER = "ยิ่งมากยิ่งดี", "ยิ่งน้อยยิ่งดี"

# target, result of the target year, direction -> percent success, score (by hand)
CASES: list[tuple[object, object, str | None, float | None, float | None]] = [
    (100, 80, None, 80.0, 4.0),
    (80, 100, None, 125.0, 5.0),          # over 100 %: the score is capped
    (50, 50, HIGHER, 100.0, 5.0),
    (0, 50, None, None, None),            # zero target: no ratio, never #DIV/0!
    (None, 50, None, None, None),         # blank target
    (100, None, None, None, None),        # blank result
    (10, 5, LOWER, 200.0, 5.0),           # lower is better: target / result
    (5, 10, LOWER, 50.0, 2.5),
    (5, 0, LOWER, None, None),            # lower is better, result 0: undefined
    (3, 2, None, 66.67, 3.33),
    (7, 1, None, 14.29, 0.71),
    (100, -20, None, -20.0, 0.0),         # a negative percent scores 0
    (1_000_000, 333_333, None, 33.33, 1.67),
    (8, 1, None, 12.5, 0.63),             # half rounds away from zero, as in Excel
    (200, 1, None, 0.5, 0.03),
    (4, 3, f" {LOWER} ", 133.33, 5.0),    # stray spaces around a pasted direction
    (-5, 3, None, None, None),            # negative target (the validation forbids it)
    (3, 2.675, None, 89.17, 4.46),
    (160, 23, None, 14.38, 0.72),         # 14.374999999999998 in binary: spreadsheets say .38
    (200, 9, None, 4.5, 0.23),            # score 0.225 (0.22499999999999998 in binary)
    (1000, 7, None, 0.7, 0.04),           # score 0.035
    (4, 3, f"\t{LOWER}", 75.0, 3.75),     # TRIM removes spaces only: a tab is not "lower"
    (4, 3, f"{LOWER}\u00a0", 75.0, 3.75),  # nor is a no-break space
]


@pytest.mark.parametrize(("target", "result", "direction", "percent", "points"), CASES)
def test_python_rule(layout: Layout, target: object, result: object, direction: str | None,
                     percent: float | None, points: float | None) -> None:
    got = percent_success(target, result, direction, layout.rules)  # type: ignore[arg-type]
    assert got == percent
    assert score(got, layout.rules) == points


def test_excel_round_is_half_away_from_zero() -> None:
    assert excel_round(2.675, 2) == 2.68  # Python's round() gives 2.67
    assert excel_round(23 / 160 * 100, 2) == 14.38
    assert excel_round(0.625, 2) == 0.63
    assert excel_round(-0.625, 2) == -0.63
    assert excel_round(12.5, 0) == 13.0


@pytest.mark.libreoffice
def test_libreoffice_computes_the_python_rule(
    soffice: str, blank_path: Path, cellmap: CellMap, layout: Layout, tmp_path: Path
) -> None:
    workbook = openpyxl.load_workbook(blank_path)
    ws = workbook["หมวด 7.2"]
    rows = cellmap.indicator_rows
    assert len(rows) >= len(CASES)
    for row, (target, result, direction, _, _) in zip(rows, CASES, strict=False):
        ws[row.cells["name"].ref] = f"ตัวชี้วัด {row.item_id}"
        ws[row.cells["target"].ref] = target
        ws[row.cells["result_3"].ref] = result
        ws[row.cells["result_1"].ref] = 1  # other years do not enter the rule
        ws[row.cells["direction"].ref] = direction
    filled = tmp_path / "filled.xlsx"
    workbook.save(filled)

    recalculated = convert(filled, tmp_path / "lo", recalc=True)
    values = openpyxl.load_workbook(recalculated, data_only=True)["หมวด 7.2"]
    for row, (target, result, direction, percent, points) in zip(rows, CASES, strict=False):
        got_percent = values[row.percent.ref].value
        got_score = values[row.score.ref].value
        case = (row.item_id, target, result, direction)
        if percent is None:
            assert got_percent in (None, ""), case
            assert got_score in (None, ""), case
        else:
            assert got_percent == pytest.approx(percent, abs=1e-9), case
            assert got_score == pytest.approx(points, abs=1e-9), case
    # rows left empty stay blank after recalculation too
    for row in rows[len(CASES):]:
        assert values[row.percent.ref].value in (None, "")
        assert values[row.score.ref].value in (None, "")


@pytest.mark.libreoffice
def test_blank_workbook_shows_blank_not_zero_in_libreoffice(
    soffice: str, blank_path: Path, cellmap: CellMap, tmp_path: Path
) -> None:
    # Without recalculation LibreOffice shows the cached values; with it, the formulas' own.
    for recalc in (False, True):
        resaved = convert(blank_path, tmp_path / f"recalc-{recalc}", recalc=recalc)
        book = openpyxl.load_workbook(resaved, data_only=True)
        ws = book["หมวด 7.2"]
        shown = {ws[f.ref].value for f in cellmap.formulas() if f.sheet == "หมวด 7.2"}
        assert shown <= {None, ""}, (recalc, shown)
        first = cellmap.sheets[0]
        assert book[first.name][first.formulas[0].ref].value == "0 / 54"


def test_numbers_beyond_the_ordinary(layout: Layout) -> None:
    """Found by the fuzz test: Decimal's quantize failed on huge ratios."""
    assert excel_round(1e300, 2) == 1e300
    assert excel_round(123456789012345.67, 2) == 123456789012346.0  # 15 significant digits
    assert excel_round(float("inf"), 2) == float("inf")
    assert percent_success(1.0, 1e300, None, layout.rules) == 1e302
    assert score(1e302, layout.rules) == 5.0
    # a ratio beyond any float (a spreadsheet shows #NUM!) has no percent
    assert percent_success(1e-300, 1e12, None, layout.rules) is None
