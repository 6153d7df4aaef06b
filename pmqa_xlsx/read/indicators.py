"""The indicator rows: each filled row's values, percent success and score recomputed by its
table's rule (the results cached in the file are never used), and the formula cells
checked: a formula replaced by a value, or a stored result the rule does not give, is a
warning on that cell (``formula_problem``, also for the checklist score)."""

from __future__ import annotations

from collections.abc import Sequence
from math import isfinite
from typing import Any

from .. import problems as P
from ..cellmap import FormulaCell
from ..problems import Problem
from ..rules import percent_success, score
from ..values import blank_flags, is_blank
from ..words import Words
from ..xlsxread import Cells
from .plan import Plan
from .records import IndicatorValues
from .text import display_value, number_or_none, short


def indicator_rows(plan: Plan, values: list[Any], sheets: dict[str, Cells] | None, file: str,
                   agency_code: str | None, problems: list[Problem],
                   blank: Sequence[bool] | None = None) -> list[IndicatorValues]:
    """The filled indicator rows, in the plan's order, each by its table's rule; the problems
    of their formula cells are added to ``problems`` (not checked when ``sheets`` is None:
    the rows recomputed from values already read). ``indicators_frame`` spells them out.
    ``blank``, if given, is ``values.blank_flags(values)`` (the reader has it already)."""
    out = []
    if blank is None:
        blank = blank_flags(values)
    is_blank_at = blank.__getitem__
    for n, slot in enumerate(plan.indicators):
        if all(map(is_blank_at, slot.indices)):
            continue
        rule = slot.row.rule
        target = number_or_none(values[slot.target])
        results = tuple(map(number_or_none, map(values.__getitem__, slot.results)))
        direction = values[slot.direction] if slot.direction is not None else None
        percent = percent_success(target, number_or_none(values[slot.compared]),
                                  direction if isinstance(direction, str) else None, rule)
        points = score(percent, rule)
        checked = ((slot.row.percent, percent), (slot.row.score, points)) \
            if sheets is not None else ()
        for formula, computed in checked:
            fault = _formula_fault(formula, computed,
                                   sheets)  # type: ignore[arg-type]  # checked: sheets is set
            if fault is not None:  # the label is worded only for a problem
                kind = _KINDS[formula.kind]
                problems.append(_fault_problem(
                    formula, fault, file, agency_code,
                    Words(f"{kind.th}ของตัวชี้วัด {slot.row.item_id}",
                          f"{kind.en} of {slot.row.item_id}")))
        # as str_or_none gives them, from the blank flags
        unit = slot.unit
        out.append(IndicatorValues(  # positional: a row per filled indicator, in a merge
            n, None if blank[slot.name] else display_value(values[slot.name]),
            None if unit is None or blank[unit] else display_value(values[unit]),
            None if slot.direction is None or blank[slot.direction]
            else display_value(direction), target, results, percent, points))
    return out


#: The formula cells of an indicator row, in words (their labels in a message).
_KINDS = {"percent_success": Words("ร้อยละความสำเร็จ", "percent success"),
          "score": Words("คะแนน", "score")}
_BLANK = Words("ค่าว่าง", "blank")


def formula_problem(formula: FormulaCell, computed: float | None, sheets: dict[str, Cells],
                    file: str, agency_code: str | None, label: Words) -> Problem | None:
    """The problem of a live formula's cell, if any: replaced by a value
    (``formula-removed``), or holding a stored result that is not what the rule computes
    (``cached-mismatch``); both located on the formula's cell. A file re-saved without
    results (openpyxl) has nothing to compare."""
    fault = _formula_fault(formula, computed, sheets)
    return None if fault is None else _fault_problem(formula, fault, file, agency_code, label)


def _formula_fault(formula: FormulaCell, computed: float | None,
                   sheets: dict[str, Cells]) -> tuple[str, dict[str, Any]] | None:
    """``formula_problem``'s code and fields (where and label aside), or None."""
    cell = sheets[formula.sheet].get((formula.row, formula.col))
    if cell is None or cell.formula is None:
        if cell is not None and not is_blank(cell.value):
            return "formula-removed", {"found": short(cell.value)}
        return None
    if not cell.cached:
        return None
    value = cell.value
    cached = value if value.__class__ is float and isfinite(value) else number_or_none(value)
    if cached is None and computed is None or (
            cached is not None and computed is not None and abs(cached - computed) <= 1e-6):
        return None
    return "cached-mismatch", {"cached": _BLANK if cached is None else f"{cached:g}",
                               "computed": _BLANK if computed is None else f"{computed:g}"}


def _fault_problem(formula: FormulaCell, fault: tuple[str, dict[str, Any]], file: str,
                   agency_code: str | None, label: Words) -> Problem:
    code, fields = fault
    return P.make(code, file=file, agency_code=agency_code, sheet=formula.sheet,
                  cell=formula.ref, label=label, **fields)
