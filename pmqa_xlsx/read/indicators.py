"""The indicator rows: each filled row's values, percent success and score recomputed by the
layout's rule (the results cached in the file are never used), and the formula cells
checked: a formula replaced by a value, or a stored result the rule does not give, is a
warning on that cell."""

from __future__ import annotations

from math import isfinite
from typing import Any

from .. import problems as P
from ..cellmap import FormulaCell, IndicatorRow
from ..problems import Problem
from ..rules import percent_success, score
from ..values import is_blank
from ..xlsxread import Cells
from .plan import Plan
from .records import IndicatorValues
from .text import number_or_none, short, str_or_none


def indicator_rows(plan: Plan, values: list[Any], sheets: dict[str, Cells] | None, file: str,
                   agency_code: str | None, problems: list[Problem]) -> list[IndicatorValues]:
    """The filled indicator rows, in the plan's order; the problems of their formula cells
    are added to ``problems`` (not checked when ``sheets`` is None: the rows recomputed from
    values already read). ``indicators_frame`` spells them out."""
    rules = plan.layout.rules
    out = []
    for n, slot in enumerate(plan.indicators):
        if all(map(is_blank, [values[i] for i in slot.indices])):
            continue
        target = number_or_none(values[slot.target])
        results = tuple(map(number_or_none, [values[i] for i in slot.results]))
        direction = values[slot.direction] if slot.direction is not None else None
        percent = percent_success(target, number_or_none(values[slot.compared]),
                                  direction if isinstance(direction, str) else None, rules)
        points = score(percent, rules)
        if sheets is not None:
            problems.extend(_cached_problems(slot.row, sheets, percent, points, file,
                                             agency_code))
        out.append(IndicatorValues(  # positional: a row per filled indicator, in a merge
            n, str_or_none(values[slot.name]),
            str_or_none(values[slot.unit]) if slot.unit is not None else None,
            str_or_none(direction), target, results, percent, points))
    return out


# --------------------------------------------------------------------------------------------
# Private
# --------------------------------------------------------------------------------------------


def _cached_problems(row: IndicatorRow, sheets: dict[str, Cells], percent: float | None,
                     points: float | None, file: str,
                     agency_code: str | None) -> list[Problem]:
    """Problems of a row's formula cells: a formula replaced by a value, or a stored result
    that is not what the rule computes (both located on the formula's cell)."""
    out = []
    for formula, computed in ((row.percent, percent), (row.score, points)):
        cell = sheets[formula.sheet].get((formula.row, formula.col))
        if cell is None or cell.formula is None:
            if cell is not None and not is_blank(cell.value):
                out.append(P.make("formula-removed", **_where(row, formula, file, agency_code),
                                  found=short(cell.value)))
            continue
        if not cell.cached:
            continue  # re-saved without results (openpyxl): nothing to compare
        value = cell.value
        cached = value if value.__class__ is float and isfinite(value) else number_or_none(value)
        if cached is None and computed is None or (
                cached is not None and computed is not None and abs(cached - computed) <= 1e-6):
            continue
        out.append(P.make(
            "cached-mismatch", **_where(row, formula, file, agency_code),
            cached="blank" if cached is None else f"{cached:g}",
            computed="blank" if computed is None else f"{computed:g}"))
    return out


def _where(row: IndicatorRow, formula: FormulaCell, file: str,
           agency_code: str | None) -> dict[str, Any]:
    return {"file": file, "agency_code": agency_code, "sheet": formula.sheet,
            "cell": formula.ref, "label": f"{formula.kind.replace('_', ' ')} of {row.item_id}"}
