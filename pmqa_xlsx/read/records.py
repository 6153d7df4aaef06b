"""What reading a file gives: who returned it and which form it is (``Identity``), the raw
outcome of reading it (``ReadReturn``, the merge's unit of work, sent between processes) and
the same as frames (``ReturnResult``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pandas as pd

from .. import problems as P
from ..cellmap import CellMap
from ..problems import Problem
from .plan import Plan, PlanKey, kept_plan


@dataclass(frozen=True, slots=True)
class Identity:
    """Who returned the file and which form it is."""

    agency_code: str | None = None
    form_id: str | None = None
    form_version: str | None = None
    fiscal_year: int | None = None
    fingerprint: str | None = None
    generated_at: str | None = None
    modified: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    token: str | None = None  # issued with the agency's workbook (identity.py)


class IndicatorValues(NamedTuple):
    """One filled indicator row, as read: its place among the plan's indicator slots, its
    texts and numbers (results in its columns' order, a number cell holding no number as
    None), and percent success and score recomputed by its table's rule."""

    slot: int
    indicator: str | None
    unit: str | None
    direction: str | None
    target: float | None
    results: tuple[float | None, ...]
    percent_success: float | None
    score: float | None


@dataclass(slots=True)
class ReadReturn:
    """The raw outcome of reading one file; frames are built from it on demand, so that a
    merge of thousands of files builds each frame once.

    Sent between processes without its plan: only the plan's key travels, and the receiving
    process binds it to its own plan (``reader.bind_plans``; a plan it keeps compiled is
    bound at once)."""

    file: str
    identity: Identity
    problems: list[Problem]
    plan: Plan | None = None
    values: list[Any] | None = None  # aligned with the plan's inputs
    indicator_rows: list[IndicatorValues] = field(default_factory=list)
    mtime: float = 0.0
    filled: int = 0  # input cells that hold something (counted where the file is read)
    plan_key: PlanKey | None = None  # the plan's key, kept while no plan is bound
    checklist_score: float | None = None  # recomputed, if the layout declares one

    def __post_init__(self) -> None:
        if self.plan is not None:
            self.plan_key = self.plan.key

    @property
    def agency_code(self) -> str | None:
        return self.identity.agency_code

    @property
    def cellmap(self) -> CellMap | None:
        """The cell map the file was read through (None if it was not read as a form)."""
        return self.plan.cellmap if self.plan is not None else None

    def __getstate__(self) -> tuple[Any, ...]:
        # Sent between processes: the plan travels as its key, not as itself.
        return (self.file, self.identity, self.problems, self.plan_key, self.values,
                self.indicator_rows, self.mtime, self.filled, self.checklist_score)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        (self.file, self.identity, self.problems, self.plan_key, self.values,
         self.indicator_rows, self.mtime, self.filled, self.checklist_score) = state
        self.plan = kept_plan(self.plan_key) if self.plan_key is not None else None

    @property
    def readable(self) -> bool:
        return self.values is not None and not any(P.rejects(p) for p in self.problems)

    @property
    def state(self) -> str:
        """ok, ok_with_warnings or rejected (any error rejects: it must be fixed and resent)."""
        if not self.readable or any(p.severity == "error" for p in self.problems):
            return "rejected"
        return "ok_with_warnings" if self.problems else "ok"


@dataclass(frozen=True)
class ReturnResult:
    """One returned workbook as frames. ``state`` is ok, ok_with_warnings or rejected."""

    file: str
    state: str
    identity: Identity
    answers: pd.DataFrame
    indicators: pd.DataFrame
    problems: pd.DataFrame

    @property
    def agency_code(self) -> str | None:
        return self.identity.agency_code
