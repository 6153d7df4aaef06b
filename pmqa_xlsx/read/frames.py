"""The frames of many reads: ``answers`` (one row per input cell of each readable return),
``indicators`` (one row per filled indicator row) and ``scores`` (one row per return: its
checklist score and each table's indicator scores), built once for a whole merge.

Every value goes under its own year: a result read from a column of BE year Y is in
``result_Y``, whichever sheet it is on. The indicators frame has one ``result_<year>`` column
per year that any of the forms read has, sorted; a row from a sheet without that year has
<NA> there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from ..rules import excel_round
from .plan import Plan, PlanKey
from .records import ReadReturn

#: Columns of the answers frame (see the README for their meaning and dtypes).
ANSWER_COLUMNS = ("file", "agency_code", "part", "item_id", "field_id", "kind", "label",
                  "year", "value", "sheet", "cell")

#: Columns every indicators frame has; result_<year> columns come between target and
#: percent_success, one per result year.
INDICATOR_COLUMNS = ("file", "agency_code", "table_id", "row", "item_id", "indicator", "unit",
                     "direction", "target_year", "target", "percent_success", "score", "sheet",
                     "cells")


#: Columns every scores frame has; for each indicator table of the forms read (in the
#: layouts' order) come ``scored_<table id>``, ``score_sum_<table id>`` and
#: ``score_mean_<table id>``.
SCORE_COLUMNS = ("file", "agency_code", "checklist_score", "checklist_score_max")


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
            columns[name] = _tiled(meta[name], k)
        # as a Series of dtype object: given as an array, pandas would try to infer a dtype
        # over every row, with a temporary array of each kind
        columns["value"] = pd.Series(_answer_values(group, n), dtype=object, copy=False)
        # the columns as they are, in order: no copy of 3 million rows
        parts.append(pd.DataFrame({c: columns.pop(c) for c in ANSWER_COLUMNS}, copy=False))
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


# --------------------------------------------------------------------------------------------
# Private
# --------------------------------------------------------------------------------------------


def _indicators_part(plan: Plan, group: list[ReadReturn], results: list[str]) -> pd.DataFrame:
    """The rows of one plan's reads, with every column of ``results`` (<NA> where a row's
    sheet has no such year), built column by column in the frame's dtypes: what repeats (a
    read's file and agency, a slot's table, row, item, year, sheet and cells) is made once
    and taken for each row."""
    column_of = {name: i for i, name in enumerate(results)}
    # where each slot's results go among the result columns
    places = [tuple(column_of[f"result_{y}"] for y in slot.result_years)
              for slot in plan.indicators]
    of_read: list[int] = []
    of_slot: list[int] = []
    texts: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
    numbers: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
    found: list[list[Any]] = [[] for _ in results]
    for at, read in enumerate(group):
        for n, name, unit, direction, target, values, percent, points in read.indicator_rows:
            of_read.append(at)
            of_slot.append(n)
            texts[0].append(name)
            texts[1].append(unit)
            texts[2].append(direction)
            numbers[0].append(target)
            numbers[1].append(percent)
            numbers[2].append(points)
            place = places[n]
            for column, value in zip(place, values, strict=True):
                found[column].append(value)
            if len(place) != len(results):  # a sheet without some of the years
                for column in set(range(len(results))) - set(place):
                    found[column].append(None)
    reads, slots = np.asarray(of_read, dtype=np.intp), np.asarray(of_slot, dtype=np.intp)
    every = plan.indicators
    columns: dict[str, Any] = {
        "file": _string([r.file for r in group]).take(reads),
        "agency_code": _string([r.agency_code for r in group]).take(reads),
        "table_id": _string([s.row.table_id for s in every]).take(slots),
        "row": pd.array([s.row.number for s in every], dtype="Int64").take(slots),
        "item_id": _string([s.row.item_id for s in every]).take(slots),
        "indicator": _string(texts[0]),
        "unit": _string(texts[1]),
        "direction": _string(texts[2]),
        "target_year": pd.array([s.row.cells["target"].year for s in every],
                                dtype="Int64").take(slots),
        "target": pd.array(numbers[0], dtype="Float64"),
        **{name: pd.array(values, dtype="Float64") for name, values in zip(results, found,
                                                                          strict=True)},
        "percent_success": pd.array(numbers[1], dtype="Float64"),
        "score": pd.array(numbers[2], dtype="Float64"),
        "sheet": _string([s.row.percent.sheet for s in every]).take(slots),
        "cells": _string([s.cells for s in every]).take(slots),
    }
    return pd.DataFrame(columns, copy=False)


def _string(values: list[Any]) -> Any:
    """Values as the frames' string dtype (None as <NA>)."""
    return pd.array(values, dtype="string")


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


def _tiled(column: pd.Series, times: int) -> Any:
    """A column of the cell map's, ``times`` times over, in its own dtype: a categorical by
    its codes, a masked (Int64) array by its values and mask, without a Python object per
    row."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return pd.Categorical.from_codes(np.tile(column.cat.codes.to_numpy(), times),
                                         dtype=column.dtype)
    array = column.array
    if isinstance(array, pd.arrays.IntegerArray):
        # the masked array's own parts
        data, mask = array._data, array._mask  # type: ignore[attr-defined]  # private: unstubbed
        return pd.arrays.IntegerArray(np.tile(data, times), np.tile(mask, times))
    return pd.array(np.tile(column.to_numpy(), times),
                    dtype=column.dtype)  # type: ignore[arg-type]  # stub: any dtype is taken


def _answer_values(group: list[ReadReturn], n: int) -> np.ndarray:
    """The ``value`` column: each return's values in turn, a blank (None, or text of spaces
    only) as <NA>; streamed into the array, so that no list of every row is made (and numpy
    does not look into each value for a sequence, as it does assigning a list)."""
    na = pd.NA

    def each() -> Iterator[Any]:
        for read in group:
            values = read.values or ()
            if len(values) != n:
                raise ValueError(f"{read.file}: {len(values)} values for {n} inputs")
            for v in values:
                yield na if v is None or (v.__class__ is str and not v.strip()) else v

    return np.fromiter(each(), dtype=object, count=n * len(group))


def _repeated(labels: list[str | None], times: int) -> pd.Categorical:
    """Each label ``times`` times, in order, as a categorical."""
    categories = sorted(set(x for x in labels if x is not None))
    index = {c: i for i, c in enumerate(categories)}
    codes = np.array([index[x] if x is not None else -1 for x in labels], dtype=np.int32)
    return pd.Categorical.from_codes(  # pandas-stubs want an Index; a list is taken
        np.repeat(codes, times), categories=categories)  # type: ignore[call-overload]  # stub


def _empty_answers() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="category") for c in ANSWER_COLUMNS})
    frame["year"] = frame["year"].astype("Int64")
    frame["value"] = frame["value"].astype(object)
    return frame
