"""The reading plan of one layout for one fiscal year: everything the reader looks up, worked
out once from the cell map.

A plan holds the cell map, per sheet the labels to check (in reading order) and the
positions the form puts something at, and the input lookups as named records: each input's
position, the index of each input key, the answers (inputs that are not identity), the
agency code's input, each sheet's box of inputs, each indicator row's slots and the metadata
columns of the answers frame; and what every return would otherwise work out again: the
form's checks compiled against the inputs' positions (``checks.CompiledChecks``), the
inputs ``generate --prefill`` may carry, each sheet's run of inputs and its labels as
written. ``plan_for`` compiles plans and keeps the last ``PLANS_KEPT``
by value, (layout fingerprint, fiscal year): nothing is keyed by an object's identity, and a
plan evicted is compiled again, the same, when next asked for.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_rowcol_to_cell

from ..cellmap import (
    CellMap,
    FormulaCell,
    IndicatorRow,
    InputCell,
    Label,
    SheetPlan,
    build_cellmap,
)
from ..checks import CompiledChecks
from ..layout import Layout

#: Plans kept compiled (each a few hundred KB for the bundled form); a merge uses one or two.
PLANS_KEPT = 16
#: Sets of covering ranges (merges, array formulas) whose covered inputs a plan remembers.
COVERED_KEPT = 256


class PlanKey(NamedTuple):
    """What a plan is compiled from, by value: the layout's fingerprint and the BE year."""

    fingerprint: str
    year: int


class InputSlot(NamedTuple):
    """One input cell and where it is: its sheet and (row, column), zero-based."""

    cell: InputCell
    sheet: str
    pos: tuple[int, int]


class LabelCheck(NamedTuple):
    """A locked label the structure check compares: its position, its text stripped (as a
    cell holding it is compared), and the label itself."""

    pos: tuple[int, int]
    text: str
    label: Label


class Box(NamedTuple):
    """The first and last row and column of a sheet's inputs."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int


@dataclass(frozen=True, slots=True)
class SheetCheck:
    """What the structure check needs of one sheet: its labels in reading order (by row, then
    column), every position the form puts something at (labels, merged ranges included,
    inputs and formulas) and the form's last row and column."""

    name: str
    labels: tuple[LabelCheck, ...]
    known: frozenset[tuple[int, int]]
    last_row: int
    last_col: int
    #: the labels' positions and texts as the form writes them (not stripped), in the same
    #: order: a whole sheet compared at once
    positions: tuple[tuple[int, int], ...] = ()
    written: tuple[str, ...] = ()


class IndicatorSlot(NamedTuple):
    """One indicator row: its cells in the cell map, the indices of its inputs (all of them,
    then each field's; unit and direction are None where its table has no such column), the
    BE year of each of its results, the result its target is compared with (the cell map's
    ``IndicatorRow.compared``), and its range (``B10:J10``)."""

    row: IndicatorRow
    indices: tuple[int, ...]
    name: int
    unit: int | None
    direction: int | None
    target: int
    results: tuple[int, ...]
    result_years: tuple[int, ...]
    compared: int
    cells: str


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    """Everything the reader looks up for one (layout, fiscal year), compiled once."""

    key: PlanKey
    cellmap: CellMap
    sheets: tuple[SheetCheck, ...]  # one per sheet of the cell map, in order
    inputs: tuple[InputSlot, ...]  # in the cell map's order: values are aligned with it
    index: Mapping[tuple[str, str, str], int]  # input key -> its index among the inputs
    answers: tuple[int, ...]  # the inputs that are answers (not identity)
    identity: tuple[tuple[str, int], ...]  # (identity field id, its input's index)
    agency: int | None  # the input of the identity field pre-filled with the agency code
    boxes: Mapping[str, Box]  # sheet -> the box of its inputs
    indicators: tuple[IndicatorSlot, ...]
    result_years: tuple[int, ...]  # every result year of the form, sorted
    cell_meta: pd.DataFrame  # the answers frame's columns that come from the cell map
    statuses: tuple[int, ...]  # the status inputs, in order (the checklist score's)
    checklist_formula: FormulaCell | None  # the checklist score's cell, if any
    #: the inputs ``generate --prefill`` may carry a value into (identify.untouched)
    carriable: frozenset[int]
    checks: CompiledChecks  # the form's own checks over the values (checks.py)
    #: the inputs by sheet, in order: (sheet, its slots, their positions), one per run of
    #: one sheet's inputs in ``inputs`` (each sheet's cells looked up at once)
    runs: tuple[tuple[str, tuple[InputSlot, ...], tuple[tuple[int, int], ...]], ...]
    _covered: dict[tuple[str, tuple[tuple[int, int, int, int], ...]], tuple[int, ...]] = \
        field(default_factory=dict, repr=False)
    _at: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)

    def input_at(self, sheet: str | None, cell: str | None) -> int | None:
        """The index of the input at ``sheet``!``cell`` (A1), or None if none is there."""
        if not self._at:
            self._at.update({(slot.sheet, slot.cell.ref): i for i, slot in enumerate(self.inputs)})
        return self._at.get((sheet or "", cell or ""))

    @property
    def layout(self) -> Layout:
        return self.cellmap.layout

    def covered_inputs(self, sheet: str,
                       ranges: tuple[tuple[int, int, int, int], ...]) -> tuple[int, ...]:
        """The indices of ``sheet``'s inputs that ``ranges`` cover other than as their first
        cell (another cell's value is shown there), remembered per set of ranges: every
        return of one generator has the same merges."""
        memo = (sheet, ranges)
        found = self._covered.get(memo)
        if found is None:
            if len(self._covered) >= COVERED_KEPT:
                self._covered.clear()
            found = self._covered[memo] = self._cover(sheet, ranges)
        return found

    def _cover(self, sheet: str,
               ranges: tuple[tuple[int, int, int, int], ...]) -> tuple[int, ...]:
        box = self.boxes.get(sheet)
        if box is None:
            return ()
        paint = covered_counts(ranges, box)
        if paint is None:
            return ()
        r0, c0 = box.first_row, box.first_col
        return tuple(i for i, (_, name, pos) in enumerate(self.inputs)
                     if name == sheet and paint[pos[0] - r0, pos[1] - c0] > 0)


def plan_for(layout: Layout, year: int) -> Plan:
    """The plan of ``layout`` for fiscal ``year`` (BE): compiled, or kept from before."""
    key = PlanKey(layout.fingerprint, year)
    with _LOCK:
        plan = _PLANS.get(key)
        if plan is not None and (plan.layout is layout or plan.layout == layout):
            _PLANS.move_to_end(key)
            return plan
    plan = compile_plan(layout, year)
    with _LOCK:
        _PLANS[key] = plan
        _PLANS.move_to_end(key)
        while len(_PLANS) > PLANS_KEPT:
            _PLANS.popitem(last=False)
    return plan


def kept_plan(key: PlanKey) -> Plan | None:
    """The plan of ``key`` if one is kept compiled in this process (else None)."""
    with _LOCK:
        return _PLANS.get(key)


def compile_plan(layout: Layout, year: int) -> Plan:
    """Work out, from the cell map of ``layout`` for ``year``, everything the reader looks up."""
    cellmap = build_cellmap(layout, year)
    inputs = tuple(InputSlot(c, c.sheet, (c.row, c.col)) for c in cellmap.inputs())
    index = {slot.cell.key: i for i, slot in enumerate(inputs)}
    agency_field = next((f.id for f in layout.identity.fields if f.roster == "agency_code"),
                        None)
    agency = next((i for i, slot in enumerate(inputs) if slot.cell.kind == "identity"
                   and slot.cell.field_id == agency_field), None) if agency_field else None
    indicators = tuple(_indicator_slot(row, index) for row in cellmap.indicator_rows)
    return Plan(
        key=PlanKey(layout.fingerprint, year),
        cellmap=cellmap,
        sheets=tuple(_sheet_check(sheet) for sheet in cellmap.sheets),
        inputs=inputs,
        index=index,
        answers=tuple(i for i, slot in enumerate(inputs) if slot.cell.kind != "identity"),
        identity=tuple((slot.cell.field_id, i) for i, slot in enumerate(inputs)
                       if slot.cell.kind == "identity"),
        agency=agency,
        boxes=_boxes(inputs),
        indicators=indicators,
        result_years=tuple(sorted({y for slot in indicators for y in slot.result_years})),
        cell_meta=_cell_meta(inputs),
        statuses=tuple(i for i, slot in enumerate(inputs) if slot.cell.kind == "status"),
        checklist_formula=cellmap.checklist_score_cell(),
        carriable=_carriable(cellmap.indicator_rows, index),
        checks=CompiledChecks((reason.instances for reason in cellmap.reasons), index),
        runs=_runs(inputs),
    )


def covered_counts(ranges: tuple[tuple[int, int, int, int], ...], box: Box) -> np.ndarray | None:
    """Over ``box`` (the inputs' rows and columns of a sheet), how many of ``ranges`` cover
    each cell other than as their first cell (> 0: another cell's value is shown there), or
    None if no range meets the box. One array operation per range: ranges may overlap, and a
    sheet may hold thousands."""
    r0, c0, r1, c1 = box
    paint = np.zeros((r1 - r0 + 1, c1 - c0 + 1), dtype=np.int32)
    met = False
    for top, left, bottom, right in ranges:
        a, b, c, d = max(top, r0), max(left, c0), min(bottom, r1), min(right, c1)
        if a > c or b > d:
            continue
        met = True
        paint[a - r0:c - r0 + 1, b - c0:d - c0 + 1] += 1
        if a == top and b == left:
            paint[a - r0, b - c0] -= 1  # the first cell shows its own value
    return paint if met else None


# --------------------------------------------------------------------------------------------
# Private: compiling
# --------------------------------------------------------------------------------------------

_PLANS: OrderedDict[PlanKey, Plan] = OrderedDict()  # the last PLANS_KEPT, oldest first
_LOCK = threading.Lock()


def _sheet_check(sheet: SheetPlan) -> SheetCheck:
    ordered = sorted(sheet.labels, key=lambda lb: (lb.row, lb.col))
    known = {(c.row, c.col) for c in sheet.inputs} | {(f.row, f.col) for f in sheet.formulas}
    for label in sheet.labels:
        for r in range(label.row, (label.last_row or label.row) + 1):
            for c in range(label.col, (label.last_col or label.col) + 1):
                known.add((r, c))
    if sheet.carried_legend is not None:  # written by generate --prefill only
        known.update((sheet.carried_legend, c) for c in range(len(sheet.widths)))
    labels = tuple(LabelCheck((lb.row, lb.col), lb.text.strip(), lb) for lb in ordered)
    return SheetCheck(
        name=sheet.name,
        labels=labels,
        known=frozenset(known),
        last_row=max(r for r, _ in known),
        last_col=len(sheet.widths) - 1,
        positions=tuple(check.pos for check in labels),
        written=tuple(check.label.text for check in labels),
    )


def _indicator_slot(row: IndicatorRow, index: Mapping[tuple[str, str, str], int]
                    ) -> IndicatorSlot:
    at = {f: index[c.key] for f, c in row.cells.items()}
    results = [f for f in row.cells if f.startswith("result_")]
    first = min(c.col for c in row.cells.values())
    return IndicatorSlot(
        row=row,
        indices=tuple(at.values()),
        name=at["name"],
        unit=at.get("unit"),
        direction=at.get("direction"),
        target=at["target"],
        results=tuple(at[f] for f in results),
        # the cell map makes every result cell with its year: none is None
        result_years=tuple(row.cells[f].year for f in results),  # type: ignore[misc]  # see above
        compared=at[row.compared],
        cells=f"{xl_rowcol_to_cell(row.percent.row, first)}:"
              f"{xl_rowcol_to_cell(row.percent.row, row.score.col)}",
    )


def _carriable(rows: tuple[IndicatorRow, ...],
               index: Mapping[tuple[str, str, str], int]) -> frozenset[int]:
    """The inputs ``generate --prefill`` may carry a value into (prefill.py: an indicator
    row's name, unit, direction and each result but the target year's)."""
    out = []
    for row in rows:
        target_year = row.cells["target"].year if "target" in row.cells else None
        for fld, cell in row.cells.items():
            if fld in _CARRIED_TEXTS or (fld.startswith("result_") and cell.year != target_year):
                found = index.get(cell.key)
                if found is not None:
                    out.append(found)
    return frozenset(out)


_CARRIED_TEXTS = frozenset({"name", "unit", "direction"})


def _runs(inputs: tuple[InputSlot, ...]
          ) -> tuple[tuple[str, tuple[InputSlot, ...], tuple[tuple[int, int], ...]], ...]:
    runs: list[list[InputSlot]] = []
    for slot in inputs:
        if runs and runs[-1][0].sheet == slot.sheet:
            runs[-1].append(slot)
        else:
            runs.append([slot])
    return tuple((run[0].sheet, tuple(run), tuple(slot.pos for slot in run)) for run in runs)


def _boxes(inputs: tuple[InputSlot, ...]) -> dict[str, Box]:
    boxes: dict[str, Box] = {}
    for _, sheet, (row, col) in inputs:
        r0, c0, r1, c1 = boxes.get(sheet, (row, col, row, col))
        boxes[sheet] = Box(min(r0, row), min(c0, col), max(r1, row), max(c1, col))
    return boxes


def _cell_meta(inputs: tuple[InputSlot, ...]) -> pd.DataFrame:
    cells = [slot.cell for slot in inputs]
    frame = pd.DataFrame({
        "part": [c.part for c in cells],
        "item_id": [c.item_id for c in cells],
        "field_id": [c.field_id for c in cells],
        "kind": [c.kind for c in cells],
        "label": [c.label for c in cells],
        "year": pd.array([c.year for c in cells], dtype="Int64"),
        "sheet": [c.sheet for c in cells],
        "cell": [c.ref for c in cells],
    })
    for name in ("part", "item_id", "field_id", "kind", "label", "sheet", "cell"):
        frame[name] = frame[name].astype("category")
    return frame
