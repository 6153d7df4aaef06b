"""Data quality of a merged round: the ``empty`` state and how return rates count it, the
implausible indicator rules (synthetic frames and real merged returns), robust statistics
against pandas, done-without-details per item, and the implausible sheet, CSV and Parquet."""

from __future__ import annotations

import csv
import math
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from pmqa_xlsx import consolidate, generate_roster
from pmqa_xlsx import quality as Q
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.cli import main
from pmqa_xlsx.consolidate import COUNTED, STATE_WORDS, Consolidated
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.report import write_csvs, write_parquets, write_workbook

from .conftest import ROOT
from .corpus import saved_at
from .fill import fill
from .lang import english_left

ROSTER = ROOT / "samples" / "roster.csv"  # 03005 07007 08004 15005 20001 21003
FRACTION = 0.8  # a target typed as a fraction: 0.8 for 80%


@pytest.fixture(scope="module")
def round_dir(layout: Layout, cellmap: CellMap,
              tmp_path_factory: pytest.TempPathFactory) -> Path:
    """03005 filled; 07007 filled with a fraction target; 08004 sent its blank back (alone);
    15005 a filled return and a newer empty one; 21003 an empty one and a rejected one;
    20001 nothing."""
    root = tmp_path_factory.mktemp("quality")
    sent = root / "sent"
    generate_roster(layout, ROSTER, sent)
    folder = root / "returns"
    folder.mkdir()
    first = cellmap.indicator_rows[0]
    fill(cellmap, sent / "03005.xlsx", folder / "03005.xlsx", agency_code="03005")
    fill(cellmap, sent / "07007.xlsx", folder / "07007.xlsx",
         {f"{first.cells['target'].sheet}!{first.cells['target'].ref}": FRACTION},
         agency_code="07007")
    shutil.copy(sent / "08004.xlsx", folder / "08004.xlsx")
    fill(cellmap, sent / "15005.xlsx", folder / "15005-filled.xlsx", agency_code="15005")
    time.sleep(1.1)  # the workbooks' times are in whole seconds
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    saved_at(sent / "15005.xlsx", folder / "15005-empty.xlsx", now)  # saved after the filled one
    shutil.copy(sent / "21003.xlsx", folder / "21003-empty.xlsx")
    fill(cellmap, sent / "21003.xlsx", folder / "21003-bad.xlsx",
         {f"{first.cells['target'].sheet}!{first.cells['target'].ref}": "ไม่มีข้อมูล"},
         agency_code="21003")
    return folder


@pytest.fixture(scope="module")
def merged(round_dir: Path) -> Any:
    return consolidate([round_dir], roster=ROSTER)


def _states(merged: Any) -> dict[str, str]:
    frame = merged.returns
    return {(Path(str(f)).name if pd.notna(f) else f"(roster) {c}"): s
            for f, c, s in zip(frame["file"], frame["agency_code"], frame["state"],
                               strict=True)}


# --------------------------------------------------------------------------------------------
# The empty state
# --------------------------------------------------------------------------------------------


def test_an_empty_return_has_its_own_state_and_is_never_chosen(merged: Any) -> None:
    assert _states(merged) == {
        "03005.xlsx": "ok",
        "07007.xlsx": "ok",
        "08004.xlsx": "empty",  # alone
        "15005-filled.xlsx": "ok",  # older than the empty one, and it counts
        "15005-empty.xlsx": "empty",
        "21003-empty.xlsx": "empty",  # beside a rejected one: neither counts
        "21003-bad.xlsx": "rejected",
        "(roster) 08004": "missing",
        "(roster) 20001": "missing",
        "(roster) 21003": "missing",
    }
    assert merged.summary()["empty"] == 3
    assert merged.summary()["duplicate"] == 0  # an empty file is no duplicate
    # only the counted returns feed the data
    assert set(merged.answers["agency_code"].astype(str)) == {"03005", "07007", "15005"}


def test_return_rates_count_an_empty_return_as_not_returned(merged: Any) -> None:
    returns = merged.returns
    roster = set(pd.read_csv(ROSTER, dtype=str)["agency_code"])
    returned = set(returns.loc[returns["state"].isin(COUNTED), "agency_code"].astype(str))
    missing = set(returns.loc[returns["state"] == "missing", "agency_code"].astype(str))
    # every roster agency once: returned or missing, never both, never neither
    assert returned == {"03005", "07007", "15005"}
    assert missing == {"08004", "20001", "21003"}
    assert returned | missing == roster and not returned & missing
    # counting files instead: the empty rows are not returns either
    files = returns[returns["file"].notna()]
    assert int(files["state"].isin(COUNTED).sum()) == 3


def test_the_reasons_say_empty(merged: Any) -> None:
    returns = merged.returns.set_index(merged.returns["file"].map(
        lambda f: Path(str(f)).name if pd.notna(f) else None))
    row = merged.returns[merged.returns["agency_code"] == "08004"]
    missing = row[row["state"] == "missing"].iloc[0]
    assert missing["reason_en"].endswith("; it sent an empty form, nothing filled in "
                                         "(08004.xlsx)")
    assert "แบบฟอร์มเปล่า" in missing["reason_th"]
    assert returns.loc["08004.xlsx", "reason_en"].endswith("[empty-return]")
    # beside a filled return, the empty one names the file that counts instead
    assert returns.loc["15005-empty.xlsx", "reason_en"].endswith(
        "[empty-return]; 15005-filled.xlsx of this agency, which is filled in, counts instead")
    assert "15005-filled.xlsx" in returns.loc["15005-empty.xlsx", "reason_th"]
    assert "counts instead" not in returns.loc["21003-empty.xlsx", "reason_en"]
    # 21003 sent an empty file and a rejected one: not only an empty form
    other = merged.returns[(merged.returns["agency_code"] == "21003")
                           & (merged.returns["state"] == "missing")].iloc[0]
    assert "could not be counted" in other["reason_en"]


def test_without_a_roster_an_empty_return_is_listed_and_nothing_is_missing(
        round_dir: Path) -> None:
    merged = consolidate([round_dir / "08004.xlsx", round_dir / "03005.xlsx"])
    assert _states(merged) == {"08004.xlsx": "empty", "03005.xlsx": "ok"}


def test_check_shows_the_empty_state(round_dir: Path) -> None:
    runner = CliRunner()
    th = runner.invoke(main, ["check", str(round_dir / "08004.xlsx")])
    assert th.exit_code == 0, th.output
    assert f"08004.xlsx: {STATE_WORDS['empty'].th} [empty]" in th.output
    en = runner.invoke(main, ["check", "--lang", "en", str(round_dir / "08004.xlsx")])
    assert "08004.xlsx: empty" in en.output


def test_merge_lists_the_empty_returns_as_not_counted(round_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["merge", "--lang", "en", str(round_dir), "--roster",
                                       str(ROSTER), "-o", str(tmp_path / "out.xlsx")])
    assert result.exit_code == 1, result.output  # 21003-bad.xlsx is rejected
    lines = result.output.splitlines()
    assert any(line.split() == ["empty", "3"] for line in lines), result.output
    assert any(line.strip().startswith("15005-empty.xlsx:") for line in lines)


# --------------------------------------------------------------------------------------------
# Implausible indicators
# --------------------------------------------------------------------------------------------


def _indicators(rows: list[tuple[float | None, float | None, float | None]]) -> pd.DataFrame:
    """An indicators-shaped frame: (target, a result, percent success) per row."""
    return pd.DataFrame({
        "file": [f"f{i}.xlsx" for i in range(len(rows))],
        "agency_code": [f"{i:05d}" for i in range(len(rows))],
        "table_id": "7.2.1", "row": list(range(1, len(rows) + 1)),
        "item_id": [f"7.2.1.{i + 1}" for i in range(len(rows))],
        "indicator": "ตัวชี้วัด", "unit": "ร้อยละ", "direction": "ยิ่งมากยิ่งดี",
        "target_year": 2562,
        "target": pd.array([r[0] for r in rows], dtype="Float64"),
        "result_2562": pd.array([r[1] for r in rows], dtype="Float64"),
        "percent_success": pd.array([r[2] for r in rows], dtype="Float64"),
        "score": pd.array([None] * len(rows), dtype="Float64"),
        "sheet": "หมวด 7.2", "cells": "B10:J10"})


_NO_ANSWERS = pd.DataFrame({c: [] for c in ("file", "part", "item_id", "field_id", "sheet",
                                            "cell")})


def test_each_rule_on_a_synthetic_round() -> None:
    typical = [(100.0, 90.0 + i, 90.0 + i) for i in range(20)]  # 90% .. 109%
    odd = [
        (FRACTION, 85.0, 10_625.0),  # 0.8 for 80%: both the fraction and the extreme rule
        (0.5, 20.0, 2.5),  # a fraction, lower is better: the percent looks harmless
        (1.0, 5.0, 500.0),  # target 1 but small results: above the fence, an outlier
        (10.0, 150.0, 1_500.0),  # extreme
        (100.0, 450.0, 450.0),  # above the fence and above 300%
        (100.0, 250.0, 250.0),  # above the fence, not above 300%: not listed
        (None, 50.0, None),  # no target
    ]
    frame = _indicators(typical + odd)
    percent = frame["percent_success"].astype("float64")
    q1, q3 = percent.quantile(0.25), percent.quantile(0.75)
    fence = q3 + Q.FENCE_IQR * (q3 - q1)
    assert fence < 250 and Q.upper_fence(frame["percent_success"]) == pytest.approx(fence)
    found = Q.implausible(frame, _NO_ANSWERS)
    assert list(zip(found["row"].tolist(), found["rule"].tolist(), strict=True)) == [
        (21, "target-like-fraction"), (22, "target-like-fraction"), (23, "percent-outlier"),
        (24, "percent-extreme"), (25, "percent-outlier")]
    assert list(found.columns) == [*Q.IMPLAUSIBLE_COLUMNS[:8], "result_2562",
                                   *Q.IMPLAUSIBLE_COLUMNS[8:]]
    first = found.iloc[0]
    assert first["target"] == FRACTION and first["result_2562"] == 85.0
    assert "0.8" in first["reason_th"] and "0.8" in first["reason_en"]
    assert "1,500%" in found.iloc[3]["reason_en"]
    for reason in found["reason_th"]:
        assert english_left(reason) == [], reason  # plain Thai for the officer
    assert "450%" in found.iloc[4]["reason_en"] and f"{fence:,.2f}".rstrip("0").rstrip(".") \
        in found.iloc[4]["reason_en"]


def test_a_groups_implausible_rows_are_judged_against_the_whole_round() -> None:
    """merge --by's per-group datasets (Consolidated.subset): an outlier of the round stays
    listed in its group, though the group alone is too small for a fence."""
    indicators = _indicators([(100.0, 90.0 + i, 90.0 + i) for i in range(20)]
                             + [(100.0, 450.0, 450.0)])
    empty = pd.DataFrame({"agency_code": pd.array([], dtype="string")})
    whole = Consolidated(answers=_NO_ANSWERS.assign(agency_code=[]), indicators=indicators,
                         problems=empty, returns=empty, scores=empty)
    outlier = str(indicators["agency_code"].iloc[-1])
    assert whole.implausible["agency_code"].tolist() == [outlier]
    group = whole.subset([outlier])
    assert Q.implausible(group.indicators, group.answers).empty  # one row: no fence
    assert group.implausible["agency_code"].tolist() == [outlier]
    assert whole.subset(["00000"]).implausible.empty


def test_no_fence_for_a_small_round() -> None:
    rows = [(100.0, 100.0, 100.0)] * (Q.FENCE_MIN_ROWS - 3) + [(100.0, 450.0, 450.0),
                                                               (10.0, 150.0, 1_500.0)]
    found = Q.implausible(_indicators(rows), _NO_ANSWERS)
    assert Q.upper_fence(_indicators(rows)["percent_success"]) is None
    assert found["rule"].tolist() == ["percent-extreme"]  # the 450% row needs a fence


def test_nothing_implausible_gives_an_empty_typed_frame() -> None:
    found = Q.implausible(_indicators([(100.0, 100.0, 100.0)] * 12), _NO_ANSWERS)
    assert found.empty and list(found.columns)[-3:] == ["rule", "reason_th", "reason_en"]
    empty = Q.implausible(_indicators([]), _NO_ANSWERS)
    assert empty.empty and str(empty["target"].dtype) == "Float64"


def test_a_fraction_target_in_real_returns_is_listed_with_its_cells(merged: Any,
                                                                    cellmap: CellMap) -> None:
    first = cellmap.indicator_rows[0]
    found = merged.implausible
    assert found["agency_code"].tolist() == ["07007"]
    row = found.iloc[0]
    assert row["rule"] == "target-like-fraction"
    assert Path(row["file"]).name == "07007.xlsx"
    assert (row["table_id"], row["item_id"]) == (first.cells["target"].part,
                                                  first.cells["target"].item_id)
    assert row["target"] == FRACTION
    target = first.cells["target"]
    assert row["target_cell"] == f"{target.sheet}!{target.ref}"
    results = [c for f, c in first.cells.items() if f.startswith("result_")]
    assert row["result_cells"] == ", ".join(f"{c.sheet}!{c.ref}" for c in results)
    indicators = merged.indicators
    same = indicators[(indicators["agency_code"] == "07007")
                      & (indicators["item_id"] == first.cells["target"].item_id)].iloc[0]
    assert row["percent_success"] == same["percent_success"]


def test_the_implausible_csv_parquet_and_sheet(merged: Any, layout: Layout,
                                               tmp_path: Path) -> None:
    written = write_csvs(merged, tmp_path / "csv")
    assert tmp_path / "csv" / "implausible.csv" in written
    with (tmp_path / "csv" / "implausible.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["agency_code"] for r in rows] == ["07007"]
    assert rows[0]["target"] == str(FRACTION)
    assert rows[0]["target_cell"] == merged.implausible.iloc[0]["target_cell"]
    pytest.importorskip("pyarrow")
    write_parquets(merged, tmp_path / "parquet")
    back = pd.read_parquet(tmp_path / "parquet" / "implausible.parquet")
    assert back["reason_en"].tolist() == merged.implausible["reason_en"].tolist()
    write_workbook(merged, tmp_path / "out.xlsx", [layout])
    sheet = _implausible_sheet(tmp_path / "out.xlsx")
    assert list(sheet[4][:len(merged.implausible.columns)]) == list(merged.implausible.columns)
    assert sheet[3][0] == "ไฟล์"
    by_name = dict(zip(sheet[4], sheet[5], strict=True))
    assert by_name["target"] == FRACTION
    assert by_name["target_cell"] == merged.implausible.iloc[0]["target_cell"]
    assert by_name["reason_th"] == merged.implausible.iloc[0]["reason_th"]



def _implausible_sheet(path: Path) -> list[tuple[Any, ...]]:
    """The rows of the consolidated workbook's implausible sheet, as values."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(book["implausible"].iter_rows(values_only=True))
    finally:
        book.close()

def test_the_sheet_says_when_nothing_is_implausible(round_dir: Path, layout: Layout,
                                                    tmp_path: Path) -> None:
    merged = consolidate([round_dir / "03005.xlsx"])
    write_workbook(merged, tmp_path / "out.xlsx", [layout])
    sheet = _implausible_sheet(tmp_path / "out.xlsx")
    assert sheet[5][0] == "ไม่พบตัวชี้วัดที่ค่าผิดปกติ / none found"


# --------------------------------------------------------------------------------------------
# Robust statistics
# --------------------------------------------------------------------------------------------


def test_robust_stats_agree_with_pandas() -> None:
    values = pd.Series([3.5, None, 120.0, 7.25, float("nan"), 99.0, -4.0, 110.5, 2_285.0],
                       dtype="Float64")
    numbers = values.dropna().astype("float64")
    stats = Q.robust_stats(values)
    assert stats.count == len(numbers) == 7
    assert stats.mean == pytest.approx(numbers.mean())
    assert stats.median == pytest.approx(numbers.median())
    assert stats.q1 == pytest.approx(numbers.quantile(0.25))
    assert stats.q3 == pytest.approx(numbers.quantile(0.75))
    assert (stats.min, stats.max) == (numbers.min(), numbers.max())
    assert stats.iqr == pytest.approx(numbers.quantile(0.75) - numbers.quantile(0.25))


def test_robust_stats_leave_out_text_and_blanks() -> None:
    assert Q.robust_stats(pd.Series(["12", True, None, 4.0, math.inf], dtype=object)) == \
        Q.robust_stats([4.0])
    none = Q.robust_stats(pd.Series([], dtype="Float64"))
    assert none.count == 0 and none.median is None and none.iqr is None


def test_stats_by_group_agree_with_groupby(merged: Any) -> None:
    frame = merged.indicators
    found = Q.stats_by(frame, "percent_success", "table_id").set_index("table_id")
    numbers = frame.assign(p=frame["percent_success"].astype("float64"))
    expected = numbers.groupby(numbers["table_id"].astype(str))["p"]
    assert list(found.index) == list(dict.fromkeys(frame["table_id"].astype(str)))
    for table, group in expected:
        assert found.loc[table, "count"] == group.count()
        assert found.loc[table, "median"] == pytest.approx(group.median())
        assert found.loc[table, "q1"] == pytest.approx(group.quantile(0.25))
        assert found.loc[table, "q3"] == pytest.approx(group.quantile(0.75))
    column = f"score_mean_{frame['table_id'].iloc[0]}"
    whole = Q.stats_by(merged.scores, column)
    assert len(whole) == 1 and whole.loc[0, "median"] == pytest.approx(
        merged.scores[column].astype("float64").median())


# --------------------------------------------------------------------------------------------
# Done without details
# --------------------------------------------------------------------------------------------


def test_done_without_details_counts_per_item(layout: Layout, cellmap: CellMap,
                                              tmp_path: Path) -> None:
    sent = tmp_path / "sent"
    generate_roster(layout, ROSTER, sent)
    blank_detail = next(c for c in cellmap.inputs() if c.kind == "text" and c.sheet == "หมวด 3")
    where = f"{blank_detail.sheet}!{blank_detail.ref}"
    for code in ("03005", "07007"):
        fill(cellmap, sent / f"{code}.xlsx", tmp_path / f"{code}.xlsx", {where: None},
             agency_code=code)
    fill(cellmap, sent / "08004.xlsx", tmp_path / "08004.xlsx", agency_code="08004")
    merged = consolidate([tmp_path / f"{c}.xlsx" for c in ("03005", "07007", "08004")],
                         roster=ROSTER)
    problems = merged.problems
    flagged = problems[problems["code"] == "details-required"]
    assert len(flagged) == 2  # one blank detail each
    counts = merged.done_without_details
    assert counts.to_dict("records") == [{"item_id": blank_detail.item_id, "agencies": 2,
                                          "files": 2, "cells": 2}]
    assert list(counts.columns) == list(Q.DONE_WITHOUT_DETAILS_COLUMNS)


def test_done_without_details_of_a_clean_round_is_empty(merged: Any) -> None:
    counts = merged.done_without_details
    assert counts.empty and list(counts.columns) == list(Q.DONE_WITHOUT_DETAILS_COLUMNS)


def test_an_agencys_text_in_the_implausible_sheet_and_csv_stays_text(
        layout: Layout, cellmap: CellMap, tmp_path: Path) -> None:
    first = cellmap.indicator_rows[0]
    hostile = '=HYPERLINK("http://example.com/x","คลิก")'
    sent = tmp_path / "sent"
    generate_roster(layout, ROSTER, sent)
    fill(cellmap, sent / "07007.xlsx", tmp_path / "07007.xlsx",
         {f"{c.sheet}!{c.ref}": v for c, v in ((first.cells["target"], FRACTION),
                                               (first.cells["name"], hostile))},
         agency_code="07007")
    merged = consolidate([tmp_path / "07007.xlsx"])
    assert merged.implausible["indicator"].tolist() == [hostile]
    write_workbook(merged, tmp_path / "out.xlsx", [layout])
    book = openpyxl.load_workbook(tmp_path / "out.xlsx")
    try:
        sheet = book["implausible"]
        col = list(merged.implausible.columns).index("indicator") + 1
        cell = sheet.cell(6, col)
        assert (cell.value, cell.data_type) == (hostile, "s")
    finally:
        book.close()
    write_csvs(merged, tmp_path / "csv")
    with (tmp_path / "csv" / "implausible.csv").open(encoding="utf-8-sig", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["indicator"] == "'" + hostile
