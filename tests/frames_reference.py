"""Frozen reference: the frame builders, ``problems_frame`` and ``quality.implausible`` as
they were before issue 15 made them faster (main 4f8f468), copied unchanged but for their
names' module. The differential tests (test_frames_equal.py) hold the library's builders to
these, frame for frame, dtypes included. Do not edit: they are the definition of "no
behaviour change"."""

# ruff: noqa
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from pmqa_xlsx.problems import PROBLEM_COLUMNS, Problem
from pmqa_xlsx.quality import (EXTREME_PERCENT, FENCE_IQR, FENCE_MIN_ROWS,
                               FRACTION_RESULT_MIN, FRACTION_TARGET_MAX, IMPLAUSIBLE_COLUMNS,
                               OUTLIER_PERCENT_MIN, RobustStats)
from pmqa_xlsx.read.frames import ANSWER_COLUMNS, INDICATOR_COLUMNS, SCORE_COLUMNS
from pmqa_xlsx.read.plan import Plan, PlanKey
from pmqa_xlsx.read.records import ReadReturn
from pmqa_xlsx.rules import excel_round
from pmqa_xlsx.words import Words


def scores_frame(reads: Iterable[ReadReturn]) -> pd.DataFrame:
    """One row per return read as a form: its checklist score (<NA> if its layout declares
    none) and the most it could be, then per indicator table how many of its rows have a
    score, their sum (rounded at 6 decimals, the most a score has) and their mean (<NA>
    where none has)."""
    groups = _by_plan(reads)
    tables: dict[str, None] = {}
    for plan, _ in groups:
        tables.update((slot.row.table_id, None) for slot in plan.indicators)
    records = []
    for plan, group in groups:
        spec = plan.layout.rules.checklist_score
        top = (max(0.0, *(p.points for p in spec.points)) * len(plan.statuses)
               if spec is not None else None)
        table_of = [slot.row.table_id for slot in plan.indicators]
        for read in group:
            sums: dict[str, list[float]] = {t: [] for t in tables}
            for row in read.indicator_rows:
                if row.score is not None:
                    sums[table_of[row.slot]].append(row.score)
            record: list[Any] = [read.file, read.agency_code, read.checklist_score, top]
            for table in tables:
                got = sums[table]
                total = excel_round(sum(got), 6) if got else None  # scores have at most 6
                record.extend((len(got), total, total / len(got) if total is not None else None))
            records.append(record)
    columns = [*SCORE_COLUMNS, *(f"{what}_{table}" for table in tables
                                 for what in ("scored", "score_sum", "score_mean"))]
    frame = pd.DataFrame.from_records(records, columns=columns) if records else \
        pd.DataFrame({c: [] for c in columns})
    for column in columns:
        if column in ("file", "agency_code"):
            frame[column] = frame[column].astype("string")
        elif column.startswith("scored_"):
            frame[column] = frame[column].astype("Int64")
        else:
            frame[column] = frame[column].astype("Float64")
    return frame


def answers_frame(reads: Iterable[ReadReturn]) -> pd.DataFrame:
    """One row per input cell of each readable return, blank cells included (value <NA>).

    The text columns are categoricals built from codes: the cell map's columns repeat once per
    return, so the frame costs little more than the values themselves.
    """
    parts = []
    for plan, group in _by_plan(reads):
        meta = plan.cell_meta
        n, k = len(meta), len(group)
        columns: dict[str, Any] = {
            "file": _repeated([r.file for r in group], n),
            "agency_code": _repeated([r.agency_code for r in group], n),
        }
        for name in ("part", "item_id", "field_id", "kind", "label", "year", "sheet", "cell"):
            column = meta[name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                columns[name] = pd.Categorical.from_codes(
                    np.tile(column.cat.codes.to_numpy(), k), dtype=column.dtype)
            else:
                columns[name] = pd.array(np.tile(column.to_numpy(), k), dtype=column.dtype)
        values = np.empty(n * k, dtype=object)
        values[:] = [pd.NA if v is None or (v.__class__ is str and not v.strip()) else v
                     for r in group for v in (r.values or ())]
        columns["value"] = values
        parts.append(pd.DataFrame(columns)[list(ANSWER_COLUMNS)])
    if not parts:
        return _empty_answers()
    if len(parts) == 1:
        return parts[0]
    frame = pd.concat(parts, ignore_index=True)
    for name in ("file", "agency_code", "part", "item_id", "field_id", "kind", "label",
                 "sheet", "cell"):
        frame[name] = frame[name].astype("category")
    return frame


def indicators_frame(reads: Iterable[ReadReturn], years: Iterable[int] = ()) -> pd.DataFrame:
    """One row per filled indicator row of each readable return; each result under
    ``result_<its BE year>`` (the columns: every year of the forms read, and ``years``,
    sorted: a merge gives its round's years, so that the columns are there even when no
    return is counted)."""
    groups = _by_plan(reads)
    years = sorted({y for plan, _ in groups for y in plan.result_years} | set(years))
    results = [f"result_{year}" for year in years]
    parts = [_indicators_part(plan, group, results) for plan, group in groups]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {c: [] for c in (*INDICATOR_COLUMNS[:10], *results, *INDICATOR_COLUMNS[10:])})
    for column in ("file", "agency_code", "table_id", "item_id", "indicator", "unit",
                   "direction", "sheet", "cells"):
        frame[column] = frame[column].astype("string")
    for column in ("target", *results, "percent_success", "score"):
        frame[column] = frame[column].astype("Float64")
    frame["row"] = frame["row"].astype("Int64")
    frame["target_year"] = frame["target_year"].astype("Int64")
    return frame


def _indicators_part(plan: Plan, group: list[ReadReturn], results: list[str]) -> pd.DataFrame:
    """The rows of one plan's reads, with every column of ``results`` (None where a row's
    sheet has no such year)."""
    column_of = {name: i for i, name in enumerate(results)}
    width = len(results)
    # where each slot's results go among the result columns
    places = [tuple(column_of[f"result_{y}"] for y in slot.result_years)
              for slot in plan.indicators]
    every = tuple(range(width))
    records = []
    for read in group:
        for n, name, unit, direction, target, found, percent, points in read.indicator_rows:
            placed: tuple[Any, ...] = found
            if places[n] != every:  # a sheet without some of the years
                row: list[Any] = [None] * width
                for column, value in zip(places[n], found, strict=True):
                    row[column] = value
                placed = tuple(row)
            records.append((read.file, read.agency_code, n, name, unit, direction, target,
                            percent, points, *placed))
    frame = pd.DataFrame.from_records(records, columns=[
        "file", "agency_code", "n", "indicator", "unit", "direction", "target",
        "percent_success", "score", *results])
    at = frame["n"].to_numpy()
    slots = plan.indicators
    per_slot: tuple[tuple[str, list[Any]], ...] = (
        ("table_id", [s.row.table_id for s in slots]),
        ("row", [s.row.number for s in slots]),
        ("item_id", [s.row.item_id for s in slots]),
        ("target_year", [s.row.cells["target"].year for s in slots]),
        ("sheet", [s.row.percent.sheet for s in slots]),
        ("cells", [s.cells for s in slots]))
    for name, values in per_slot:
        frame[name] = np.asarray(values, dtype=object)[at] if len(at) else []
    return frame[[*INDICATOR_COLUMNS[:10], *results, *INDICATOR_COLUMNS[10:]]]


def _by_plan(reads: Iterable[ReadReturn]) -> list[tuple[Plan, list[ReadReturn]]]:
    """The reads that were read as a form, grouped by plan (by its key: a plan compiled again
    is the same plan), in the order first seen."""
    groups: dict[PlanKey, tuple[Plan, list[ReadReturn]]] = {}
    for read in reads:
        if read.values is None:
            continue
        plan = read.plan
        if plan is None:
            raise LookupError(
                f"{read.file}: read in another process with a layout this one does not have "
                f"(fingerprint {(read.plan_key or ('?',))[0][:12]}); bind its plan first "
                "(pmqa_xlsx.read.bind_plans(reads, layouts))")
        groups.setdefault(plan.key, (plan, []))[1].append(read)
    return list(groups.values())


def _repeated(labels: list[str | None], times: int) -> pd.Categorical:
    """Each label ``times`` times, in order, as a categorical."""
    categories = sorted(set(x for x in labels if x is not None))
    index = {c: i for i, c in enumerate(categories)}
    codes = np.array([index[x] if x is not None else -1 for x in labels], dtype=np.int32)
    return pd.Categorical.from_codes(np.repeat(codes, times), categories=categories)


def _empty_answers() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="category") for c in ANSWER_COLUMNS})
    frame["year"] = frame["year"].astype("Int64")
    frame["value"] = frame["value"].astype(object)
    return frame



def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """The problems frame: columns PROBLEM_COLUMNS, all strings (missing as <NA>)."""
    frame = pd.DataFrame([[getattr(p, c) for c in PROBLEM_COLUMNS] for p in problems],
                         columns=list(PROBLEM_COLUMNS))
    return frame.astype("string")



def robust_stats(values: pd.Series | Iterable[Any]) -> RobustStats:
    """The robust statistics of ``values``: blanks (None, NA, NaN) are left out; anything that
    is not a number is too (text, True/False)."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    numbers = pd.Series([float(v) for v in series.astype(object).tolist() if _is_number(v)],
                        dtype="float64")
    if numbers.empty:
        return RobustStats(0, None, None, None, None, None, None)
    q1, median, q3 = (float(x) for x in numbers.quantile([0.25, 0.5, 0.75]).tolist())
    return RobustStats(count=len(numbers), mean=float(numbers.mean()), median=median, q1=q1,
                       q3=q3, min=float(numbers.min()), max=float(numbers.max()))


def upper_fence(percent: pd.Series) -> float | None:
    """The round's upper fence for percent success: Q3 + FENCE_IQR × IQR, None with fewer
    than FENCE_MIN_ROWS numbers."""
    stats = robust_stats(percent)
    if stats.count < FENCE_MIN_ROWS or stats.q3 is None or stats.iqr is None:
        return None
    return stats.q3 + FENCE_IQR * stats.iqr


def implausible(indicators: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """The indicator rows to check (rules in this module's docstring), in the indicators
    frame's order: where they are (file, agency, table, row, and the target's and results'
    cells, ``sheet!cell``, from ``answers``), their values, the rule and why in Thai and
    English. Columns IMPLAUSIBLE_COLUMNS with the result_<year> columns of ``indicators``."""
    results = [c for c in indicators.columns if str(c).startswith("result_")]
    columns = [*IMPLAUSIBLE_COLUMNS[:8], *results, *IMPLAUSIBLE_COLUMNS[8:]]
    fence = upper_fence(indicators["percent_success"]) if len(indicators) else None
    found: list[tuple[int, str, Words]] = []
    targets = indicators["target"].astype(object).tolist() if len(indicators) else []
    percents = indicators["percent_success"].astype(object).tolist() if len(indicators) else []
    values = [indicators[c].astype(object).tolist() for c in results]
    for at, (target, percent) in enumerate(zip(targets, percents, strict=True)):
        row_results = [v[at] for v in values if _is_number(v[at])]
        broken = _rule(target, percent, row_results, fence)
        if broken is not None:
            found.append((at, *broken))
    if not found:
        return _typed(pd.DataFrame({c: [] for c in columns}), results)
    picked = indicators.iloc[[at for at, _, _ in found]].reset_index(drop=True)
    cells = _cells_of(picked, answers)
    frame = picked[[*IMPLAUSIBLE_COLUMNS[:8], *results, "percent_success"]].copy()
    frame["target_cell"] = [cells.get(key, ("", ""))[0] for key in _keys(picked)]
    frame["result_cells"] = [cells.get(key, ("", ""))[1] for key in _keys(picked)]
    frame["rule"] = [rule for _, rule, _ in found]
    frame["reason_th"] = [why.th for _, _, why in found]
    frame["reason_en"] = [why.en for _, _, why in found]
    return _typed(frame[columns], results)


def _rule(target: Any, percent: Any, results: list[Any],
          fence: float | None) -> tuple[str, Words] | None:
    """The first rule a row breaks, and why; None if it breaks none."""
    top = max((float(r) for r in results), default=None)
    if _is_number(target) and 0 < float(target) <= FRACTION_TARGET_MAX and top is not None \
            and top >= FRACTION_RESULT_MIN:
        t = _shown(float(target))
        return "target-like-fraction", Words(
            f"ค่าเป้าหมาย {t} แต่ผลการดำเนินงานสูงถึง {_shown(top)} อาจพิมพ์เป้าหมายเป็นทศนิยม "
            f"(เช่น 0.8 แทน 80) ตรวจสอบค่าเป้าหมายกับหน่วยงาน",
            f"the target is {t} while a result is {_shown(top)}: perhaps a percent typed as a "
            "fraction (0.8 for 80); check the target with the agency")
    if not _is_number(percent):
        return None
    p = float(percent)
    if p >= EXTREME_PERCENT:
        return "percent-extreme", Words(
            f"ร้อยละความสำเร็จ {_shown(p)}% สูงเกินกว่าที่น่าเป็นไปได้ (ตั้งแต่ "
            f"{_shown(EXTREME_PERCENT)}% ขึ้นไป) ตรวจสอบค่าเป้าหมาย ผล และหน่วยนับกับหน่วยงาน",
            f"a percent success of {_shown(p)}% is implausible (at least "
            f"{_shown(EXTREME_PERCENT)}%); check the target, the results and the unit with "
            "the agency")
    if fence is not None and p > fence and p > OUTLIER_PERCENT_MIN:
        return "percent-outlier", Words(
            f"ร้อยละความสำเร็จ {_shown(p)}% สูงผิดปกติเมื่อเทียบกับทั้งรอบ (เกิน {_shown(fence)}% "
            "คือควอร์ไทล์ที่ 3 บวก 3 เท่าของช่วงควอร์ไทล์) ตรวจสอบค่าเป้าหมายและผลกับหน่วยงาน",
            f"a percent success of {_shown(p)}% is far above the round's typical range (above "
            f"{_shown(fence)}%: Q3 + 3 × IQR); check the target and the results with the agency")
    return None


def _keys(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    return list(zip(frame["file"].astype(str), frame["table_id"].astype(str),
                    frame["item_id"].astype(str), strict=True))


def _cells_of(picked: pd.DataFrame, answers: pd.DataFrame) -> dict[tuple[str, str, str],
                                                                      tuple[str, str]]:
    """(file, table, row item) -> (the target's cell, the results' cells), as sheet!cell."""
    wanted = set(_keys(picked))
    if answers.empty:
        return {}
    files = set(picked["file"].astype(str).tolist())
    mine = answers[answers["file"].astype(object).isin(files).to_numpy()]
    field_ids = mine["field_id"].astype(object)
    mine = mine[(field_ids.eq("target") | field_ids.astype(str).str.startswith("result_"))
                .fillna(False).to_numpy()]
    out: dict[tuple[str, str, str], tuple[list[str], list[str]]] = {}
    for file, part, item, field, sheet, cell in zip(
            *(mine[c].astype(object).tolist() for c in ("file", "part", "item_id", "field_id",
                                                         "sheet", "cell")), strict=True):
        file, part, item, field = str(file), str(part), str(item), str(field)
        key = (file, part, item)
        if key not in wanted:
            continue
        target, found = out.setdefault(key, ([], []))
        if field == "target":
            target.append(f"{sheet}!{cell}")
        elif field.startswith("result_"):
            found.append(f"{sheet}!{cell}")
    return {key: (", ".join(t), ", ".join(r)) for key, (t, r) in out.items()}


def _typed(frame: pd.DataFrame, results: list[str]) -> pd.DataFrame:
    for name in ("file", "agency_code", "table_id", "item_id", "indicator", "unit",
                 "target_cell", "result_cells", "rule", "reason_th", "reason_en"):
        frame[name] = frame[name].astype("string")
    for name in ("target", *results, "percent_success"):
        frame[name] = frame[name].astype("Float64")
    frame["row"] = frame["row"].astype("Int64")
    return frame.reset_index(drop=True)


def _is_number(value: Any) -> bool:
    """A finite number (numpy's too); never text, True/False, a blank or NaN."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) \
        and math.isfinite(float(value))


def _shown(number: float) -> str:
    """A number as people write it: thousands grouped, at most two decimals, no trailing 0s."""
    text = f"{number:,.2f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"



# summary.py, before issue 15 (the same rule, row by row)

from collections.abc import Sequence  # noqa: E402

from pmqa_xlsx.consolidate import Consolidated  # noqa: E402
from pmqa_xlsx.layout import ChecklistSheet, Layout, iter_rows  # noqa: E402
from pmqa_xlsx.previous import score_72  # noqa: E402
from pmqa_xlsx.roster import Agency  # noqa: E402
from pmqa_xlsx.summary import NO_MINISTRY  # noqa: E402


def agency_scores(result: Consolidated, roster: Sequence[Agency] | None) -> pd.DataFrame:
    """One row per counted return: agency_code, agency_name, ministry, checklist (score) and
    score_72 (the mean score of all its 7.2 rows with a score, every table together)."""
    scores = result.scores
    names = dict(zip(result.returns["agency_code"].astype(str),
                     result.returns["agency_name"], strict=True))
    ministry_of = {a.code: (a.ministry.strip() or NO_MINISTRY) for a in roster or ()}
    sums = [c for c in scores.columns if str(c).startswith("score_sum_")]
    rows = []
    for _, row in scores.iterrows():
        code = str(row["agency_code"])
        checklist = row["checklist_score"]
        rows.append({"agency_code": code, "agency_name": names.get(code) or "",
                     "ministry": ministry_of.get(code, NO_MINISTRY),
                     "checklist": None if pd.isna(checklist) else float(checklist),
                     "score_72": score_72((row[f"scored_{c[len('score_sum_'):]}"]
                                           for c in sums), (row[c] for c in sums))})
    return pd.DataFrame(rows, columns=["agency_code", "agency_name", "ministry", "checklist",
                                       "score_72"])


def status_shares(answers: pd.DataFrame, layout: Layout, sheet: ChecklistSheet,
                  counted: int) -> list[tuple[str, str, list[float]]]:
    """Per checklist row: (id, topic, [share of ``counted`` agencies per status, then blank])."""
    statuses = list(layout.status_labels())
    part = answers[(answers["kind"] == "status") & (answers["part"] == sheet.id)] \
        if len(answers) else answers
    counts: dict[str, dict[str, int]] = {}
    for item_id, value in zip(part.get("item_id", []), part.get("value", []), strict=True):
        key = "" if value is None or value is pd.NA else str(value)
        bucket = counts.setdefault(str(item_id), {})
        bucket[key] = bucket.get(key, 0) + 1
    rows = []
    for _, item, paper_row in iter_rows(sheet):
        got = counts.get(paper_row.id, {})
        shares = [got.get(s, 0) / counted if counted else 0.0 for s in statuses]
        shares.append(max(0.0, 1.0 - sum(shares)) if counted else 0.0)
        topic = item.topic if not paper_row.text else f"{item.topic}: {paper_row.text}"
        rows.append((paper_row.id, topic, shares))
    return rows
