"""Percent success and score: the one rule, in Python and as the workbook's formulas.

The paper form prints no rule, so the layout declares one (``rules:``) and this module
implements it twice, from the same parameters: ``percent_success()``/``score()`` for the reader,
and ``percent_formula()``/``score_formula()`` for the generator. Tests check that a real
spreadsheet engine computes the formulas to the same values as the Python functions.

The rule:

* percent success = result of the target year ÷ target × 100 (higher is better, also when the
  direction is blank), or target ÷ result × 100 (lower is better);
* it is blank unless the target and that result are numbers, the target is above 0, and for
  lower-is-better the result is above 0 (the ratio is undefined otherwise);
* score = min(max(percent, 0), full_at_percent) ÷ full_at_percent × max: linear, capped, so
  with the defaults 100 % or more earns 5 and 80 % earns 4;
* both are rounded half away from zero, like Excel's ROUND, to the layout's decimals.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from math import isfinite

from .layout import Rules

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
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(f"{value:.15g}").quantize(quantum, rounding=ROUND_HALF_UP))


def spreadsheet_trim(text: str) -> str:
    """What the spreadsheet TRIM function makes of ``text``: ASCII spaces removed at both
    ends and runs of them inside collapsed to one (other whitespace is kept)."""
    return _SPACES.sub(" ", text.strip(" "))


def is_lower_better(direction: str | None, rules: Rules) -> bool:
    """Whether a direction cell's value means lower is better (blank means higher); the cell
    is compared after TRIM, exactly as the workbook's formula does."""
    return direction is not None and spreadsheet_trim(direction) == rules.lower


def percent_success(
    target: float | None, result: float | None, direction: str | None, rules: Rules
) -> float | None:
    """Percent success of one indicator row, or None where the rule leaves it blank."""
    if target is None or result is None or target <= 0:
        return None
    if is_lower_better(direction, rules):
        if result <= 0:
            return None
        ratio = target / result * 100
    else:
        ratio = result / target * 100
    if not isfinite(ratio):
        return None  # beyond any number (a spreadsheet shows #NUM!): no percent to report
    return excel_round(ratio, rules.percent_decimals)


def score(percent: float | None, rules: Rules) -> float | None:
    """Score on the layout's scale for a percent success, or None if the percent is blank."""
    if percent is None:
        return None
    capped = min(max(percent, 0.0), rules.full_at_percent)
    return excel_round(capped / rules.full_at_percent * rules.score_max, rules.score_decimals)


def percent_formula(target: str, result: str, direction: str | None, rules: Rules) -> str:
    """The percent-success formula over cell references (``direction`` None: no column)."""
    higher = f"ROUND({result}/{target}*100,{rules.percent_decimals})"
    if direction is None:
        ratio = higher
    else:
        lower = f"ROUND({target}/{result}*100,{rules.percent_decimals})"
        label = rules.lower.replace('"', '""')
        ratio = f'IF(TRIM({direction})="{label}",IF({result}>0,{lower},""),{higher})'
    return f'=IF(AND(ISNUMBER({target}),ISNUMBER({result})),IF({target}>0,{ratio},""),"")'


def score_formula(percent: str, rules: Rules) -> str:
    """The score formula over the percent-success cell."""
    full = _number(rules.full_at_percent)
    top = _number(rules.score_max)
    return (
        f"=IF(ISNUMBER({percent}),"
        f"ROUND(MIN(MAX({percent},0),{full})/{full}*{top},{rules.score_decimals}),\"\")"
    )


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else repr(value)
