"""Percent success and score: the rules, each in Python and as the workbook's formulas.

The paper form prints no rule, so the layout declares them (``rules:``) and this module
implements each twice, from the same parameters: ``percent_success()``/``score()`` for the
reader, ``percent_formula()``/``score_formula()`` for the generator, and likewise
``checklist_score()``/``checklist_score_formula()`` for an agency's checklist score. Tests
check that a real spreadsheet engine computes the formulas to the same values as the Python
functions. Each indicator table has its rule (``Rules.for_table``; the cell map gives each row
its table's), and a layout's ``Rules`` passed where a rule is asked for means its default.

The rules:

* percent success = result of the target year ÷ target × 100 (higher is better, also when the
  direction is blank); where lower is better, target ÷ result × 100 (``ratio``) or
  100 + (100 − result ÷ target × 100) (``mirror``);
* it is blank unless the target and that result are numbers, the target is above 0, and for
  ``ratio`` the result is above 0 (the ratio is undefined otherwise);
* score, ``linear``: min(max(percent, 0), full_at_percent) ÷ full_at_percent × max, so with
  the defaults 100 % or more earns 5 and 80 % earns 4;
* score, ``banded``: below ``floor_percent`` it is ``below_floor``; from ``ceiling_percent``
  it is ``at_ceiling``; in between, ``at_floor`` + (percent − floor_percent) × ``per_percent``
  (PMQA's 75/100/20/95/500: 74.99 % → 0, 75 % → 100, 80 % → 200, 95 % → 500);
* the checklist score = the sum of each status row's points by its status (blank, or text
  that is no status after TRIM: 0);
* all are rounded half away from zero, like Excel's ROUND, to the layout's decimals; a score
  is taken from the percent as rounded (the cell it refers to).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from math import isfinite
from typing import Any

from .layout import BandedScore, ChecklistScore, LinearScore, Rules, TableRule

_SPACES = re.compile(" +")


def excel_round(value: float, decimals: int) -> float:
    """Round half away from zero at ``decimals``, as Excel's and LibreOffice's ROUND do.

    The float is first taken at 15 significant digits, as spreadsheets hold and show it, so
    23 / 160 * 100 (14.374999999999998 in binary) rounds to 14.38 as in Excel and LibreOffice,
    and 2.675 to 2.68, not 2.67 as Python's round() gives.
    """
    if not isfinite(value) or abs(value) >= 1e15:
        # no decimals left to round at 15 significant digits (and Decimal's quantize would
        # need more digits than its context holds)
        return float(f"{value:.15g}") if isfinite(value) else value
    text = f"{value:.15g}"
    point = text.find(".")
    if 0 <= decimals <= _TEXT_DECIMALS and "e" not in text and (
            point < 0 or len(text) - point - 1 <= decimals):
        # Nothing to round: quantize would only add zeros, and a Decimal becomes a float
        # through its text, so the result is float(text) (a score of 5, a percent of 95.24)
        return float(text)
    quantum = _QUANTA.get(decimals)
    if quantum is None:
        quantum = _QUANTA[decimals] = Decimal(1).scaleb(-decimals)
    return float(Decimal(text).quantize(quantum, rounding=ROUND_HALF_UP))


_QUANTA: dict[int, Decimal] = {}  # decimals -> the quantum of ROUND at that many decimals
#: excel_round's text short path: at most 15 digits before the point and this many after stay
#: within Decimal's 28 digits, where quantize would raise InvalidOperation beyond (as it
#: still does)
_TEXT_DECIMALS = 12


def spreadsheet_trim(text: str) -> str:
    """What the spreadsheet TRIM function makes of ``text``: ASCII spaces removed at both
    ends and runs of them inside collapsed to one (other whitespace is kept)."""
    return _SPACES.sub(" ", text.strip(" "))


def is_lower_better(direction: str | None, rule: TableRule | Rules) -> bool:
    """Whether a direction cell's value means lower is better (blank means higher); the cell
    is compared after TRIM, exactly as the workbook's formula does."""
    return direction is not None and spreadsheet_trim(direction) == rule.lower


def percent_success(
    target: float | None, result: float | None, direction: str | None,
    rule: TableRule | Rules,
) -> float | None:
    """Percent success of one indicator row, or None where the rule leaves it blank."""
    rule = _table_rule(rule)
    if target is None or result is None or target <= 0:
        return None
    if is_lower_better(direction, rule):
        if rule.lower_is_better == "mirror":
            ratio = 100 + (100 - result / target * 100)
        elif result <= 0:
            return None
        else:
            ratio = target / result * 100
    else:
        ratio = result / target * 100
    if not isfinite(ratio):
        return None  # beyond any number (a spreadsheet shows #NUM!): no percent to report
    return excel_round(ratio, rule.percent_decimals)


def score(percent: float | None, rule: TableRule | Rules) -> float | None:
    """Score of a percent success by the rule's score rule, or None if the percent is blank."""
    if percent is None:
        return None
    points = _SCORES[(how := _table_rule(rule).score).kind][0](percent, how)
    return excel_round(points, how.decimals)


def percent_formula(target: str, result: str, direction: str | None,
                    rule: TableRule | Rules) -> str:
    """The percent-success formula over cell references (``direction`` None: no column)."""
    rule = _table_rule(rule)
    decimals = rule.percent_decimals
    higher = f"ROUND({result}/{target}*100,{decimals})"
    if direction is None:
        ratio = higher
    else:
        if rule.lower_is_better == "mirror":
            lower = f"ROUND(100+(100-{result}/{target}*100),{decimals})"
        else:
            lower = f'IF({result}>0,ROUND({target}/{result}*100,{decimals}),"")'
        label = rule.lower.replace('"', '""')
        ratio = f'IF(TRIM({direction})="{label}",{lower},{higher})'
    return f'=IF(AND(ISNUMBER({target}),ISNUMBER({result})),IF({target}>0,{ratio},""),"")'


def score_formula(percent: str, rule: TableRule | Rules) -> str:
    """The score formula over the percent-success cell."""
    how = _table_rule(rule).score
    points = _SCORES[how.kind][1](percent, how)
    return f'=IF(ISNUMBER({percent}),ROUND({points},{how.decimals}),"")'


def checklist_score(statuses: Iterable[object], spec: ChecklistScore) -> float:
    """An agency's checklist score from the values of its status cells: each cell's points
    by the status it holds (compared after TRIM, as the formula does), summed and rounded."""
    points = {p.label: p.points for p in spec.points}
    total = 0.0
    for value in statuses:
        if isinstance(value, str):
            total += points.get(spreadsheet_trim(value), 0.0)
    return excel_round(total, spec.decimals)


def checklist_score_formula(ranges: Sequence[str], spec: ChecklistScore) -> str:
    """The checklist-score formula over the (sheet-qualified) ranges of the status cells."""
    terms = [f'(TRIM({{r}})="{p.label.replace(chr(34), chr(34) * 2)}")*{_number(p.points)}'
             for p in spec.points if p.points]
    if not ranges or not terms:
        return f"=ROUND(0,{spec.decimals})"
    sums = "+".join("SUMPRODUCT(" + "+".join(t.format(r=r) for t in terms) + ")"
                    for r in ranges)
    return f"=ROUND({sums},{spec.decimals})"


# --------------------------------------------------------------------------------------------
# Private: one Python rule and one formula per kind of score rule
# --------------------------------------------------------------------------------------------


def _table_rule(rule: TableRule | Rules) -> TableRule:
    return rule.default if isinstance(rule, Rules) else rule


def _linear(percent: float, how: LinearScore) -> float:
    capped = min(max(percent, 0.0), how.full_at_percent)
    return capped / how.full_at_percent * how.max


def _linear_formula(percent: str, how: LinearScore) -> str:
    full = _number(how.full_at_percent)
    return f"MIN(MAX({percent},0),{full})/{full}*{_number(how.max)}"


def _banded(percent: float, how: BandedScore) -> float:
    if percent < how.floor_percent:
        return how.below_floor
    if percent >= how.ceiling_percent:
        return how.at_ceiling
    return how.at_floor + (percent - how.floor_percent) * how.per_percent


def _banded_formula(percent: str, how: BandedScore) -> str:
    floor, ceiling = _number(how.floor_percent), _number(how.ceiling_percent)
    return (f"IF({percent}<{floor},{_number(how.below_floor)},"
            f"IF({percent}>={ceiling},{_number(how.at_ceiling)},"
            f"{_number(how.at_floor)}+({percent}-{floor})*{_number(how.per_percent)}))")


#: Each kind's score and formula, which take a rule of that kind (Any: looked up by its kind).
_SCORES: dict[str, tuple[Callable[[float, Any], float], Callable[[str, Any], str]]] = {
    "linear": (_linear, _linear_formula),
    "banded": (_banded, _banded_formula),
}


def _number(value: float) -> str:
    """A number as a formula writes it; a negative one in parentheses (``1-(-5)``)."""
    text = f"{value:g}" if value == int(value) and abs(value) < 1e15 else repr(value)
    return f"({text})" if value < 0 else text
