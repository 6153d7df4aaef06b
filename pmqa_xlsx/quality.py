"""Data quality of a merged round: robust statistics, the rank rule, implausible indicators,
and checklist items marked done without their details.

Works on the consolidated frames only (consolidate.py builds them; report.py writes what this
module finds). Nothing here changes a frame or a value: it lists what an analyst should check,
each row with the cells to look at, and says why in Thai and in English.

The rules for an implausible indicator row (constants below, documented in the README):

- ``target-like-fraction``: the target is above 0 and at most ``FRACTION_TARGET_MAX`` (1)
  while a result is at least ``FRACTION_RESULT_MIN`` (10): a percent typed as a fraction
  ("0.8 for 80%").
- ``percent-extreme``: the percent success is at least ``EXTREME_PERCENT`` (1,000%).
- ``percent-outlier``: the percent success is above the round's upper fence, Q3 +
  ``FENCE_IQR`` (3) × IQR over every counted row with a percent success, and also above
  ``OUTLIER_PERCENT_MIN`` (300%); only when at least ``FENCE_MIN_ROWS`` rows have one. A low
  percent success is a result, not a typing mistake, so there is no lower fence.

A row is listed once, under the first rule it breaks in that order.
"""

from __future__ import annotations

import bisect
import math
import numbers
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import problems as P
from .cellmap import build_cellmap
from .layout import Layout
from .problems import Problem
from .read import ReadReturn
from .words import Words

#: A target at most this (and above 0) with a result of at least FRACTION_RESULT_MIN looks like
#: a percent typed as a fraction.
FRACTION_TARGET_MAX = 1.0
FRACTION_RESULT_MIN = 10.0
#: A percent success at least this is implausible whatever the round's spread.
EXTREME_PERCENT = 1_000.0
#: The upper fence: Q3 + FENCE_IQR × (Q3 − Q1) of the round's percent success.
FENCE_IQR = 3.0
#: Above the fence is listed only when also above this (a tight round has a low fence).
OUTLIER_PERCENT_MIN = 300.0
#: Fewer rows with a percent success than this: no fence is drawn.
FENCE_MIN_ROWS = 10

#: The rules, in the order a row is tested.
RULES = ("target-like-fraction", "percent-extreme", "percent-outlier")

#: The implausible frame's columns; the result_<year> columns of the indicators frame come
#: between target and percent_success.
IMPLAUSIBLE_COLUMNS = ("file", "agency_code", "table_id", "row", "item_id", "indicator", "unit",
                       "target", "percent_success", "target_cell", "result_cells", "rule",
                       "reason_th", "reason_en")
#: The done-without-details frame's columns.
DONE_WITHOUT_DETAILS_COLUMNS = ("item_id", "agencies", "files", "cells")


@dataclass(frozen=True, slots=True)
class RobustStats:
    """Count, mean, median, quartiles (pandas' default linear interpolation), min and max of
    the numbers of a series (blanks left out); every figure but count is None without one."""

    count: int
    mean: float | None
    median: float | None
    q1: float | None
    q3: float | None
    min: float | None
    max: float | None

    @property
    def iqr(self) -> float | None:
        """Q3 − Q1 (None without numbers)."""
        return None if self.q1 is None or self.q3 is None else self.q3 - self.q1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def robust_stats(values: pd.Series | Iterable[Any]) -> RobustStats:
    """The robust statistics of ``values``: blanks (None, NA, NaN) are left out; anything that
    is not a number is too (text, True/False)."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if series.dtype.kind == "f":  # a float column (Float64 or numpy's): its finite values
        floats = series.to_numpy(dtype="float64", na_value=np.nan)
        numbers = pd.Series(floats[np.isfinite(floats)], dtype="float64")
    else:
        numbers = pd.Series([float(v) for v in series.astype(object).tolist()
                             if _is_number(v)], dtype="float64")
    if numbers.empty:
        return RobustStats(0, None, None, None, None, None, None)
    q1, median, q3 = (float(x) for x in numbers.quantile([0.25, 0.5, 0.75]).tolist())
    return RobustStats(count=len(numbers), mean=float(numbers.mean()), median=median, q1=q1,
                       q3=q3, min=float(numbers.min()), max=float(numbers.max()))


def rank_among(value: Any, ordered: Sequence[Any]) -> int:
    """The rank of ``value`` among ``ordered`` (the group's values, sorted lowest first), 1
    the highest: 1 + how many are higher, so equal values share a rank and the next rank
    skips as many ("1, 1, 3", competition ranking). The one rank rule of the round's
    outputs (the summary's list of agencies, each agency's page)."""
    return 1 + len(ordered) - bisect.bisect_right(ordered, value)


def competition_ranks(keys: Sequence[Any]) -> list[int]:
    """Each key's ``rank_among`` all of ``keys`` (numbers, or tuples compared part by part)."""
    ordered = sorted(keys)
    return [rank_among(key, ordered) for key in keys]


def stats_by(frame: pd.DataFrame, value: str, by: str | None = None) -> pd.DataFrame:
    """``robust_stats`` of column ``value`` for each group of column ``by`` (in order of first
    appearance), or of the whole column without ``by``: one row each, columns ``by`` (if
    given), count, mean, median, q1, q3, min, max."""
    fields = list(RobustStats.__slots__)
    if by is None:
        groups: list[tuple[Any, pd.Series]] = [(None, frame[value])]
    else:
        keys = frame[by].astype(object)
        groups = [(key, frame.loc[(keys == key).to_numpy(), value])
                  for key in dict.fromkeys(keys.tolist()) if not _blank(key)]
    records = [{**({by: key} if by is not None else {}), **robust_stats(col).as_dict()}
               for key, col in groups]
    result = pd.DataFrame.from_records(records, columns=[*([by] if by else []), *fields])
    result["count"] = result["count"].astype("Int64")
    for name in fields[1:]:
        result[name] = result[name].astype("Float64")
    return result


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
    rows = list(_may_break_a_rule(indicators))

    def looked_at(name: str) -> list[Any]:  # only those rows' values: few, of many
        return indicators[name].iloc[rows].astype(object).tolist() if rows else []

    targets, percents = looked_at("target"), looked_at("percent_success")
    values = [looked_at(c) for c in results]
    for n, at in enumerate(rows):
        target, percent = targets[n], percents[n]
        row_results = [v[n] for v in values if _is_number(v[n])]
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


def done_without_details(problems: pd.DataFrame, layouts: Iterable[Layout]) -> pd.DataFrame:
    """Per checklist item, how many agencies and files marked it done with details but left
    details blank (the ``details-required`` problems: every file's, counted or not), and how
    many blank cells; items in their layout's order, only those with any. Cells are placed
    on their items through the cell maps of ``layouts`` (the merge's)."""
    item_of: dict[tuple[str, str], str] = {}
    order: dict[str, int] = {}
    for layout in layouts:
        for cell in build_cellmap(layout).inputs():
            item_of.setdefault((cell.sheet, cell.ref), cell.item_id)
            order.setdefault(cell.item_id, len(order))
    rows = problems[(problems["code"] == "details-required").fillna(False).to_numpy()]
    counts: dict[str, tuple[set[str], set[str], int]] = {}
    for file, code, sheet, cell in zip(rows["file"].astype(object), rows["agency_code"]
                                       .astype(object), rows["sheet"].astype(object),
                                       rows["cell"].astype(object), strict=True):
        item = item_of.get((str(sheet), str(cell)))
        if item is None:
            continue  # not a cell of the merge's layouts (a file of another one)
        agencies, files, blanks = counts.setdefault(item, (set(), set(), 0))
        if not _blank(code):
            agencies.add(str(code))
        if not _blank(file):
            files.add(str(file))
        counts[item] = (agencies, files, blanks + 1)
    items = sorted(counts, key=lambda i: order.get(i, len(order)))
    return pd.DataFrame({
        "item_id": pd.array(items, dtype="string"),
        "agencies": pd.array([len(counts[i][0]) for i in items], dtype="Int64"),
        "files": pd.array([len(counts[i][1]) for i in items], dtype="Int64"),
        "cells": pd.array([counts[i][2] for i in items], dtype="Int64"),
    }, columns=list(DONE_WITHOUT_DETAILS_COLUMNS))


# --------------------------------------------------------------------------------------------
# Private
# --------------------------------------------------------------------------------------------


def broken_rule(target: Any, percent: Any, results: Sequence[Any],
                fence: float | None) -> str | None:
    """The first rule (of RULES) an indicator row breaks, None if it breaks none: ``results``
    the row's numbers among its results; ``fence`` the round's upper fence (None: no
    ``percent-outlier``, as for one return on its own)."""
    top = max((float(r) for r in results), default=None)
    if _is_number(target) and 0 < float(target) <= FRACTION_TARGET_MAX and top is not None \
            and top >= FRACTION_RESULT_MIN:
        return "target-like-fraction"
    if not _is_number(percent):
        return None
    p = float(percent)
    if p >= EXTREME_PERCENT:
        return "percent-extreme"
    if fence is not None and p > fence and p > OUTLIER_PERCENT_MIN:
        return "percent-outlier"
    return None


def return_problems(read: ReadReturn) -> list[Problem]:
    """The rules one return can break on its own (a percent typed as a fraction, a percent
    success beyond belief: not the round's outliers), as warnings to the agency on the cell
    to look at (the target; the percent success), for ``check``: the merge lists the same
    rows among the implausible ones, for the central office."""
    if read.plan is None:
        return []
    # a row with a cell in error is judged once that is fixed (a percentage typed in a
    # percent-formatted cell stores 0.85: its own error says what to type)
    wrong = {(p.sheet, p.cell) for p in read.problems if p.severity == "error"}
    out = []
    for row in read.indicator_rows:
        numbers = [r for r in row.results if r is not None and _is_number(r)]
        rule = broken_rule(row.target, row.percent_success, numbers, None)
        if rule is None:
            continue
        cells = read.plan.indicators[row.slot].row
        if any((cell.sheet, cell.ref) in wrong for field, cell in cells.cells.items()
               if field == "target" or field.startswith("result_")):
            continue
        if rule == "target-like-fraction" and row.target is not None:  # it is: the rule
            at = cells.cells["target"]
            out.append(P.make("target-like-fraction", file=read.file,
                              agency_code=read.agency_code, sheet=at.sheet, cell=at.ref,
                              label=at.label, target=_shown(row.target),
                              result=_shown(max(numbers)),
                              meant=_shown(row.target * 100)))
        elif rule == "percent-extreme" and row.percent_success is not None:
            formula = cells.percent
            out.append(P.make("percent-extreme", file=read.file, agency_code=read.agency_code,
                              sheet=formula.sheet, cell=formula.ref, item=cells.item_id,
                              percent=_shown(row.percent_success),
                              bound=_shown(EXTREME_PERCENT)))
    return out


def _rule(target: Any, percent: Any, results: list[Any],
          fence: float | None) -> tuple[str, Words] | None:
    """The first rule a row breaks, and why (for the central office); None if it breaks
    none."""
    rule = broken_rule(target, percent, results, fence)
    if rule is None:
        return None
    if rule == "target-like-fraction":  # a result at least: the rule says so
        t, top = _shown(float(target)), _shown(max(float(r) for r in results))
        return "target-like-fraction", Words(
            f"ค่าเป้าหมาย {t} แต่ผลการดำเนินงานสูงถึง {top} อาจพิมพ์เป้าหมายเป็นทศนิยม "
            f"(เช่น 0.8 แทน 80) ตรวจสอบค่าเป้าหมายกับหน่วยงาน",
            f"the target is {t} while a result is {top}: perhaps a percent typed as a "
            "fraction (0.8 for 80); check the target with the agency")
    p = float(percent)
    if rule == "percent-extreme":
        return "percent-extreme", Words(
            f"ร้อยละความสำเร็จ {_shown(p)}% สูงเกินกว่าที่น่าเป็นไปได้ (ตั้งแต่ "
            f"{_shown(EXTREME_PERCENT)}% ขึ้นไป) ตรวจสอบค่าเป้าหมาย ผล และหน่วยนับกับหน่วยงาน",
            f"a percent success of {_shown(p)}% is implausible (at least "
            f"{_shown(EXTREME_PERCENT)}%); check the target, the results and the unit with "
            "the agency")
    if rule == "percent-outlier" and fence is not None:  # a fence: the rule says so
        f = _shown(fence)
        return "percent-outlier", Words(
            f"ร้อยละความสำเร็จ {_shown(p)}% สูงผิดปกติเมื่อเทียบกับทั้งรอบ (เกิน {f}% "
            "คือควอร์ไทล์ที่ 3 บวก 3 เท่าของช่วงควอร์ไทล์) ตรวจสอบค่าเป้าหมายและผลกับหน่วยงาน",
            f"a percent success of {_shown(p)}% is far above the round's typical range (above "
            f"{f}%: Q3 + 3 × IQR); check the target and the results with the agency")
    return None


def _may_break_a_rule(indicators: pd.DataFrame) -> Iterable[int]:
    """The rows ``_rule`` need look at, in order: every row that could break a rule (a target
    in the fraction range, or a percent success above the lower of the percent rules'
    bounds), found on the columns as floats; every row if a column is not numbers."""
    if not len(indicators):
        return ()
    try:
        target = indicators["target"].to_numpy(dtype="float64", na_value=np.nan)
        percent = indicators["percent_success"].to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        return range(len(indicators))
    with np.errstate(invalid="ignore"):
        could = ((target > 0) & (target <= FRACTION_TARGET_MAX)) \
            | (percent >= EXTREME_PERCENT) | (percent > OUTLIER_PERCENT_MIN)
    return np.flatnonzero(could).tolist()


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
    out: dict[tuple[str, str, str], tuple[list[str], list[str]]] = {}
    for file, part, item, field, sheet, cell in _target_and_result_rows(answers, files,
                                                                         wanted):
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


_PLACES = ("file", "part", "item_id", "field_id", "sheet", "cell")


def _target_and_result_rows(answers: pd.DataFrame, files: set[str],
                            wanted: set[tuple[str, str, str]]) -> Iterator[tuple[Any, ...]]:
    """The rows of ``answers`` (file, part, item_id, field_id, sheet, cell, each as
    ``astype(object)`` gives it) of a file in ``files`` whose field is the target or a result:
    with categorical columns (as a merge builds them) only those whose (file, part, item) is
    in ``wanted``, found on the categories' codes; otherwise (or with so many categories that the
    key below would not fit in 64 bits) every such row."""
    if not all(isinstance(answers[c].dtype, pd.CategoricalDtype) for c in _PLACES) or math.prod(
            len(answers[c].cat.categories) + 2 for c in ("file", "part", "item_id")) >= 2**62:
        mine = answers[answers["file"].astype(object).isin(files).to_numpy()]
        field_ids = mine["field_id"].astype(object)
        mine = mine[(field_ids.eq("target") | field_ids.astype(str).str.startswith("result_"))
                    .fillna(False).to_numpy()]
        yield from zip(*(mine[c].astype(object).tolist() for c in _PLACES), strict=True)
        return
    # Each column as codes into its categories plus a last one, np.nan (what astype(object)
    # gives for a missing value): code -1 indexes it as it is. The codes are the frame's own
    # (a view, not a copy).
    values: dict[str, np.ndarray] = {}
    codes: dict[str, np.ndarray] = {}
    for name in _PLACES:
        column = answers[name].array
        values[name] = np.array([*column.categories.astype(object).tolist(), np.nan],
                                dtype=object)
        codes[name] = column.codes
    is_field = np.array([str(f) == "target" or str(f).startswith("result_")
                         for f in values["field_id"]], dtype=bool)
    is_file = np.array([v in files for v in values["file"]], dtype=bool)
    # (file, part, item) as one number, over the texts of their categories (two categories
    # with one text share it): each category's number, and each wanted key's
    number: list[dict[str, int]] = []
    text_codes: list[np.ndarray] = []
    for name in ("file", "part", "item_id"):
        texts = [str(v) for v in values[name]]
        of_text = {t: i for i, t in enumerate(dict.fromkeys(texts))}
        number.append(of_text)
        text_codes.append(np.array([of_text[t] for t in texts], dtype=np.int64))
    wanted_keys = []
    for triple in wanted:
        k = 0
        for of_text, text in zip(number, triple, strict=True):
            if text not in of_text:
                break
            k = k * (len(of_text) + 1) + of_text[text]
        else:
            wanted_keys.append(k)
    wanted_array = np.array(wanted_keys, dtype=np.int64)
    for start in range(0, len(answers), _CHUNK):  # a chunk at a time: little memory
        end = start + _CHUNK
        rows = np.flatnonzero(is_field[codes["field_id"][start:end]]
                              & is_file[codes["file"][start:end]]) + start
        key = np.zeros(len(rows), dtype=np.int64)
        for of_text, text_code, name in zip(number, text_codes, ("file", "part", "item_id"),
                                            strict=True):
            key = key * (len(of_text) + 1) + text_code[codes[name][rows]]
        rows = rows[np.isin(key, wanted_array, kind="sort")]  # no table as large as the keys
        yield from zip(*(values[c][codes[c][rows]].tolist() for c in _PLACES), strict=True)


_CHUNK = 1 << 18  # answer rows looked at together by _target_and_result_rows


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
    if value.__class__ is float:  # the common case, without the abstract class's check
        return math.isfinite(value)
    return isinstance(value, numbers.Real) and not isinstance(value, bool) \
        and math.isfinite(float(value))


def _blank(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _shown(number: float) -> str:
    """A number as people write it: thousands grouped, at most two decimals, no trailing 0s."""
    text = f"{number:,.2f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"
