"""The checklist score of a return: recomputed from its status cells by the layout's points
(the result cached in the file is never used), and its formula cell on the instructions sheet
checked as percent success and score are."""

from __future__ import annotations

from typing import Any

from ..problems import Problem
from ..rules import checklist_score
from ..words import Words
from ..xlsxread import Cells
from .indicators import formula_problem
from .plan import Plan


def checklist_value(plan: Plan, values: list[Any], sheets: dict[str, Cells], file: str,
                    agency_code: str | None, problems: list[Problem]) -> float | None:
    """The return's checklist score, or None if the layout declares none; a problem of its
    formula cell is added to ``problems``."""
    spec = plan.layout.rules.checklist_score
    formula = plan.checklist_formula
    if spec is None or formula is None:
        return None
    computed = checklist_score((values[i] for i in plan.statuses), spec)
    problem = formula_problem(formula, computed, sheets, file, agency_code,
                              Words("คะแนนรวมของแบบประเมิน", "checklist score"))
    if problem is not None:
        problems.append(problem)
    return computed
