"""What a layout's workbook may hold: the reader's limits and Excel's, measured on its cell map.

This module owns the last checks of loading a layout (layout.parse_layout runs them once the
layout has no other problem): the cell map is built, and a return of it with every input
filled is measured against

- the reader's limits (xlsxread): cells beyond ``MAX_ROW`` rows or ``MAX_COL`` columns are
  never read; a sheet holds at most ``MAX_CELLS`` filled cells and ``MAX_MERGES`` merged
  ranges; a part at most ``MAX_MARKUP`` XML elements, ``MAX_ATTRIBUTES`` attributes and
  ``MAX_MEMBER_BYTES`` bytes; and the parts read together cost at most what one file may
  (``read_cost``: their bytes, elements, attributes and escapes as shares of
  ``MAX_READ_BYTES``, ``MAX_PACKAGE_MARKUP``, ``MAX_PACKAGE_ATTRIBUTES``, ``MAX_ESCAPES``);
- Excel's: 32,767 characters in a cell, 8,192 in a formula, 409 points in a row's height
  (text that needs more would be cut off), and the words of every data validation
  (prompts.py).

Each problem names the YAML path of what makes it so: the table, item or field where the
sheet grows past a limit, else the sheet.

How large a return is depends on the program that saved it, so the sizes here are upper
bounds: each filled cell costs what the costliest writer measured makes it cost (openpyxl's
text stored in the cell, for one sheet; shared strings, for the whole file), and every input
is taken as filled with text. Answers' own bytes come on top, and the reader has room for
them. tests/test_limits.py holds these bounds against returns written by xlsxwriter,
openpyxl and LibreOffice.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass

from xlsxwriter.utility import xl_rowcol_to_cell

from . import prompts
from .cellmap import MAX_ROW_HEIGHT, CellMap, InputCell, SheetPlan, build_cellmap
from .checks import conditional_formats
from .layout import IndicatorSheet, Layout, Places, iter_rows
from .textmetrics import PX_PER_PT, ROW_PADDING_PX
from .xlsxread import (
    MAX_ATTRIBUTES,
    MAX_CELLS,
    MAX_COL,
    MAX_MARKUP,
    MAX_MEMBER_BYTES,
    MAX_MERGES,
    MAX_PACKAGE_MARKUP,
    MAX_READ_BYTES,
    MAX_ROW,
    read_cost,
)
from .xlsxtext import EXCEL_MAX_TEXT, ooxml_text

#: Excel's limit on a formula, in characters ([MS-OI29500] 2.1.1085, ST_Formula).
EXCEL_MAX_FORMULA = 8_192


@dataclass(slots=True)
class Size:
    """What (part of) a filled return holds, as the reader counts it: XML elements ('<'),
    attributes ('='), ``_x`` escapes, bytes, and filled cells."""

    markup: int = 0
    attributes: int = 0
    escapes: int = 0
    bytes: int = 0
    cells: int = 0

    def add(self, other: Size) -> None:
        self.markup += other.markup
        self.attributes += other.attributes
        self.escapes += other.escapes
        self.bytes += other.bytes
        self.cells += other.cells

    def cost(self) -> float:
        """Its share of what the reader reads of one file (xlsxread.read_cost)."""
        return read_cost(self.bytes, self.markup, self.attributes, self.escapes)


# The costliest writer's markup, measured (elements, attributes, bytes, apart from the text):
# a cell holding text in one sheet (openpyxl: <c r s t><is><t>..</t></is></c>), or a formula
# and its result; a cell holding text in the whole file (shared strings: <c r s t><v>..</v>
# </c> and <si><t>..</t></si>); a row; a blank cell of a merged range; a merged range; a
# column's width; a validation; a page break; a sheet's frame (views, protection, page setup,
# footer); the rest of the file (content types, relationships, workbook, styles, properties,
# the metadata sheet).
_CELL = Size(markup=6, attributes=3, bytes=64)
_SHARED_CELL = Size(markup=8, attributes=4, bytes=96)
_ROW = Size(markup=2, attributes=8, bytes=120)
_MERGED_BLANK = Size(markup=2, attributes=3, bytes=32)  # openpyxl: <c r s t="n"></c>
_MERGE = Size(markup=1, attributes=1, bytes=32)
_COLUMN = Size(markup=1, attributes=9, bytes=130)
_VALIDATION = Size(markup=6, attributes=12, bytes=300)
_BREAK = Size(markup=1, attributes=4, bytes=50)
_FRAME = Size(markup=120, attributes=150, bytes=3_000)
_FILE = Size(markup=1_000, attributes=1_500, bytes=40_000)
_CONDITIONAL = Size(markup=3, attributes=4, bytes=110)  # conditionalFormatting, cfRule, formula
_PER_SHEET = Size(markup=3, attributes=10, bytes=400)  # its entries in the workbook's lists


def workbook_problems(layout: Layout, places: Places) -> list[str]:
    """Every limit a return of ``layout`` would pass, each with the YAML path to change."""
    early = _lower_bounds(layout)
    if early:
        return early  # too large to build the cell map for: it is far over anyway
    cellmap = build_cellmap(layout)
    problems: list[str] = []
    total = Size()
    total.add(_FILE)
    crossed = ""
    for index in range(len(cellmap.sheets)):
        sheet = _Sheet(cellmap, index, places)
        problems.extend(sheet.problems())
        total.add(_PER_SHEET)
        for row, size in sheet.rows(shared=True):
            total.add(size)
            if not crossed and total.cost() > 1:
                crossed = sheet.where(row)
    if crossed:
        problems.append(
            f"{crossed}: a return of this layout, every input filled, would be more than the "
            f"reader reads of one file (about {total.cost():.1%} of it: {total.markup:,} "
            f"XML elements of {MAX_PACKAGE_MARKUP:,}, {total.bytes / 2**20:.1f} MB of "
            f"{MAX_READ_BYTES // 2**20} MB, together); it gets there here: give fewer rows, "
            "tables or sheets")
    return problems


def measure(cellmap: CellMap) -> tuple[list[Size], Size]:
    """The bound on each sheet part of a filled return of ``cellmap``, and on the parts the
    reader reads together (the sheets' text counted in shared strings)."""
    parts = []
    total = Size()
    total.add(_FILE)
    for index in range(len(cellmap.sheets)):
        sheet = _Sheet(cellmap, index, Places(ids={}, fields={}))
        part = Size()
        for _, size in sheet.rows(shared=False):
            part.add(size)
        parts.append(part)
        total.add(_PER_SHEET)
        for _, size in sheet.rows(shared=True):
            total.add(size)
    return parts, total


# --------------------------------------------------------------------------------------------
# Private: one sheet measured row by row
# --------------------------------------------------------------------------------------------


class _Sheet:
    """One sheet plan, its YAML path, and its size row by row."""

    def __init__(self, cellmap: CellMap, index: int, places: Places) -> None:
        self.plan: SheetPlan = cellmap.sheets[index]
        self.layout_sheet = cellmap.layout.sheets[index - 1] if index else None
        self.path = f"$.sheets[{index - 1}]" if index else "$.instructions"
        self.places = places
        self.inputs = sorted(self.plan.inputs, key=lambda c: (c.row, c.col))
        self.input_rows = [c.row for c in self.inputs]
        self.validations = prompts.validation_groups(self.plan.inputs)
        self.instances = [i for i in cellmap.instances if i.cell.sheet == self.plan.name]
        # the longest text each checks' formula can show (every line of it), which a
        # spreadsheet stores as the formula's result
        reasons = {(r.cell.sheet, r.cell.ref): "".join(i.line() + "\n" for i in r.instances)
                   for r in cellmap.reasons}
        self.shown = {**reasons, **{
            (c.cell.sheet, c.cell.ref): "".join(reasons[(r.cell.sheet, r.cell.ref)]
                                                for r in c.reasons)
            for c in cellmap.check_lists}}
        self._counted: list[tuple[int, Size, int]] | None = None

    def problems(self) -> list[str]:
        plan, name = self.plan, self.plan.name
        out: list[str] = []
        cells = [(lb.row, lb.col) for lb in plan.labels if lb.text] \
            + [(c.row, c.col) for c in plan.inputs] + [(f.row, f.col) for f in plan.formulas]
        beyond = min((r for r, _ in cells if r >= MAX_ROW), default=None)
        if beyond is not None:
            last = max(r for r, _ in cells)
            out.append(f"{self.where(beyond)}: the sheet '{name}' would run to row {last + 1:,}, "
                       f"and the reader reads rows 1 to {MAX_ROW:,} only (it passes them "
                       "here): give fewer rows or tables, or spread them over more sheets")
        width = max([c for _, c in cells] + [lb.last_col or 0 for lb in plan.labels]) + 1
        if width > MAX_COL:
            where = (f"{self.path}.result_years" if isinstance(self.layout_sheet, IndicatorSheet)
                     else self.path)
            out.append(f"{where}: the sheet '{name}' would have {width} columns, and the reader "
                       f"reads {MAX_COL} at most: give fewer result years")
        merges = sum(1 for lb in plan.labels if lb.last_row is not None
                     or lb.last_col is not None)
        if merges > MAX_MERGES:
            out.append(f"{self.path}: the sheet '{name}' would have {merges:,} merged ranges, "
                       f"and the reader reads {MAX_MERGES:,} at most: give fewer rows")
        out.extend(self._part_problems())
        out.extend(self._text_problems())
        out.extend(self._height_problems())
        return out

    def _height_problems(self) -> list[str]:
        """Rows whose text needs more than Excel's tallest row: it would be cut off on
        screen and on paper, whatever anyone does."""
        inputs = set(self.input_rows)
        return [f"{self.where(row) if row in inputs else self.path}: the text of row {row + 1} "
                f"of the sheet '{self.plan.name}' "
                f"needs about {height:,.0f} points, and an Excel row is at most "
                f"{MAX_ROW_HEIGHT:,.0f} points tall (about "
                f"{_lines_in(MAX_ROW_HEIGHT, self.plan.default_height)} lines), so "
                "it would be cut off: shorten it, or split it over sub-rows"
                for row, height in sorted(self.plan.heights.items())
                if height > MAX_ROW_HEIGHT]

    def _part_problems(self) -> list[str]:
        part = Size()
        crossed: dict[str, int] = {}
        limits = (("cells", MAX_CELLS), ("markup", MAX_MARKUP), ("attributes", MAX_ATTRIBUTES),
                  ("bytes", MAX_MEMBER_BYTES))
        for row, size in self.rows(shared=False):
            part.add(size)
            for what, limit in limits:
                if what not in crossed and getattr(part, what) > limit:
                    crossed[what] = row
        words = {
            "cells": lambda: f"{part.cells:,} filled cells, more than the {MAX_CELLS:,}",
            "markup": lambda: f"about {part.markup:,} XML elements, more than the "
                              f"{MAX_MARKUP:,}",
            "attributes": lambda: f"about {part.attributes:,} XML attributes, more than the "
                                  f"{MAX_ATTRIBUTES:,}",
            "bytes": lambda: f"about {part.bytes / 2**20:.1f} MB, more than the "
                             f"{MAX_MEMBER_BYTES // 2**20} MB",
        }
        return [f"{self.where(row)}: with every input filled, the sheet '{self.plan.name}' "
                f"would hold {words[what]()} the reader reads in one sheet (it passes them "
                "here): give fewer rows or tables, or spread them over more sheets"
                for what, row in crossed.items()]

    def _text_problems(self) -> list[str]:
        out = []
        for label in self.plan.labels:
            if len(label.text) > EXCEL_MAX_TEXT // 2 \
                    and prompts.utf16_length(label.text) > EXCEL_MAX_TEXT:
                ref = xl_rowcol_to_cell(label.row, label.col)
                out.append(f"{self.path}: the text at '{label.sheet}'!{ref} "
                           f"('{label.text[:40]}...') would be "
                           f"{prompts.utf16_length(label.text):,} characters, and an Excel cell "
                           f"holds at most {EXCEL_MAX_TEXT:,}: shorten it")
        reported_check = False
        for formula in self.plan.formulas:
            if formula.kind == "check" and len(formula.formula) - 1 > EXCEL_MAX_FORMULA:
                if not reported_check:  # every row of the sheet alike: said once
                    out.append(f"$.checks: the reason formula at '{formula.sheet}'!"
                               f"{formula.ref} would be {len(formula.formula) - 1:,} "
                               f"characters, and Excel takes at most {EXCEL_MAX_FORMULA:,}: "
                               "the row has too many cells to check; give it fewer blanks "
                               "or result years")
                reported_check = True
            elif len(formula.formula) - 1 > EXCEL_MAX_FORMULA:
                where = {"completeness": "$.instructions.completeness",
                         "indicator_count": "$.instructions.indicator_count",
                         "checklist_score": "$.rules.checklist_score",
                         "check": "$.checks", "check_list": "$.checks",
                         "check_count": "$.checks"}.get(formula.kind, self.path)
                out.append(f"{where}: the formula at '{formula.sheet}'!{formula.ref} would be "
                           f"{len(formula.formula) - 1:,} characters, and Excel takes at most "
                           f"{EXCEL_MAX_FORMULA:,}: the form has too many separate runs of "
                           "input cells to count in one formula; give fewer items or blanks")
        for instance in self.instances:
            condition = instance.condition()
            if len(condition) > EXCEL_MAX_FORMULA:
                out.append(f"$.checks: the conditional format of '{self.plan.name}'!"
                           f"{instance.cell.ref} would be {len(condition):,} characters, and "
                           f"Excel takes at most {EXCEL_MAX_FORMULA:,}: give the row fewer "
                           "blanks, or drop 'blanks:' from details_required")
        for validation, cells in self.validations.items():
            for long in validation.too_long():
                where = self._validation_path(cells[0])
                fix = "shorten this label" if cells[0].kind == "number" else "shorten it"
                out.append(f"{where}: on the cells '{self.plan.name}'!{cells[0].ref}..., "
                           + long.message(fix))
        return out

    def _validation_path(self, cell: InputCell) -> str:
        if cell.kind == "status":
            return "$.statuses"
        if cell.kind == "direction":
            return "$.rules.directions"
        if cell.kind == "number":
            column = "target" if cell.field_id == "target" else "results"
            return f"{self.path}.columns.{column}"
        field = self.places.fields.get((cell.item_id, cell.field_id))
        return f"{field}.prompt" if field else self.path

    def where(self, row: int) -> str:
        """The YAML path of what the sheet holds at ``row``: the table, item or identity
        field of the first input from there on (else the last before), or the sheet."""
        if not self.inputs:
            return self.path
        at = min(bisect_left(self.input_rows, row), len(self.inputs) - 1)
        cell = self.inputs[at]
        if cell.kind == "identity":
            return self.places.fields.get(("identity", cell.field_id), self.path)
        key = cell.part if isinstance(self.layout_sheet, IndicatorSheet) else cell.item_id
        return self.places.ids.get(key, self.path)

    def rows(self, *, shared: bool) -> Iterator[tuple[int, Size]]:
        """The size of each row in order (the sheet's frame, columns, validations and page
        breaks with the first); ``shared``: as part of the whole file (text cells costing
        their shared strings too), else as the sheet's own part."""
        cell = _SHARED_CELL if shared else _CELL
        for row, base, texts in self._rows():
            size = Size(markup=base.markup + texts * cell.markup,
                        attributes=base.attributes + texts * cell.attributes,
                        escapes=base.escapes, bytes=base.bytes + texts * cell.bytes,
                        cells=base.cells + texts)
            yield row, size

    def _rows(self) -> list[tuple[int, Size, int]]:
        """Each row in order: its size apart from its text cells' markup, and how many text
        cells (labels and inputs) it has. Counted once, with plain integers: it is measured
        in every load of a layout."""
        if self._counted is not None:
            return self._counted
        plan = self.plan
        by_row: dict[int, list[int]] = {}  # row -> [markup, attributes, escapes, bytes, texts]

        def at(row: int) -> list[int]:
            counts = by_row.get(row)
            if counts is None:
                counts = by_row[row] = [_ROW.markup, _ROW.attributes, 0, _ROW.bytes, 0]
            return counts

        for label in plan.labels:
            counts = at(label.row)
            if label.text:
                counts[4] += 1
                _add_text(counts, label.text)
            if label.last_row is not None or label.last_col is not None:
                counts[0] += _MERGE.markup
                counts[1] += _MERGE.attributes
                counts[3] += _MERGE.bytes
                span = (label.last_col or label.col) - label.col + 1
                for row in range(label.row, (label.last_row or label.row) + 1):
                    blanks = span - (row == label.row)
                    other = at(row)
                    other[0] += blanks * _MERGED_BLANK.markup
                    other[1] += blanks * _MERGED_BLANK.attributes
                    other[3] += blanks * _MERGED_BLANK.bytes
        for input_cell in plan.inputs:
            at(input_cell.row)[4] += 1
        formulas: dict[int, int] = {}
        for formula in plan.formulas:
            counts = at(formula.row)
            counts[0] += _CELL.markup
            counts[1] += _CELL.attributes
            counts[3] += _CELL.bytes + 24  # and its cached result
            _add_text(counts, formula.formula)
            shown = self.shown.get((formula.sheet, formula.ref))
            if shown:  # a text result, at its longest, with xml:space="preserve"
                counts[1] += 1
                _add_text(counts, shown)
            formulas[formula.row] = formulas.get(formula.row, 0) + 1
        for group, condition in conditional_formats(self.instances):  # rule and formula
            counts = at(group[0].cell.row)
            counts[0] += _CONDITIONAL.markup
            counts[1] += _CONDITIONAL.attributes
            counts[3] += _CONDITIONAL.bytes + sum(len(i.cell.ref) + 1 for i in group)
            _add_text(counts, condition)
        for row in plan.heights:
            at(row)
        first = [_FRAME.markup, _FRAME.attributes, 0, _FRAME.bytes, 0]
        for extra, count in ((_COLUMN, len(plan.widths)), (_BREAK, len(plan.page_breaks)),
                             (_VALIDATION, len(self.validations))):
            first[0] += count * extra.markup
            first[1] += count * extra.attributes
            first[3] += count * extra.bytes
        for validation, cells in self.validations.items():
            _add_text(first, "".join((validation.input_title, validation.input_message,
                                      validation.error_title, validation.error_message,
                                      ",".join(validation.source))))
            first[3] += sum(len(c.ref) + 1 for c in cells)
        out = []
        for index, row in enumerate(sorted(by_row)):
            counts = by_row[row]
            if index == 0:
                counts = [a + b for a, b in zip(counts, first, strict=True)]
            out.append((row, Size(markup=counts[0], attributes=counts[1], escapes=counts[2],
                                  bytes=counts[3], cells=formulas.get(row, 0)), counts[4]))
        self._counted = out
        return out


def _add_text(counts: list[int], text: str) -> None:
    """A text's bytes, attributes ('=') and escapes as stored, into [markup, attributes,
    escapes, bytes, ...]."""
    if text.isascii() and not any(ch in text for ch in "&<>_"):
        counts[1] += text.count("=")
        counts[3] += len(text)
        return
    stored = ooxml_text(text)
    counts[1] += stored.count("=")
    counts[2] += stored.count("_x")
    counts[3] += len(stored.encode("utf-8", "surrogatepass"))


def _lower_bounds(layout: Layout) -> list[str]:
    """Problems certain before the cell map is built: input cells a sheet has at the least
    (a checklist row's status and blanks; an indicator row's target and results), each
    costing at least 4 XML elements. They keep a huge layout from being laid out at all."""
    problems = []
    total = 0
    for index, sheet in enumerate(layout.sheets):
        if isinstance(sheet, IndicatorSheet):
            count = sum(t.rows for t in sheet.tables) * (1 + len(sheet.result_years))
        else:
            count = sum(1 + len(row.blanks) + (len(row.grid.rows) * len(row.grid.columns)
                                               if row.grid else 0)
                        for _, _, row in iter_rows(sheet))
        total += count
        if count > MAX_CELLS or count * 4 > MAX_MARKUP:
            problems.append(f"$.sheets[{index}]: the sheet '{sheet.sheet}' would have at least "
                            f"{count:,} input cells, and the reader reads at most "
                            f"{min(MAX_CELLS, MAX_MARKUP // 4):,} in one sheet: give fewer "
                            "rows or tables, or spread them over more sheets")
    if not problems and total * 4 > MAX_PACKAGE_MARKUP:
        problems.append(f"$.sheets: the form would have at least {total:,} input cells, and "
                        f"the reader reads at most {MAX_PACKAGE_MARKUP // 4:,} in one file: "
                        "give fewer rows, tables or sheets")
    return problems


def _lines_in(height: float, one_line: float) -> int:
    """How many lines a row ``height`` points tall holds, when one line's row is ``one_line``
    points tall (textmetrics: whole pixels of line plus the row's padding)."""
    line_px = one_line * PX_PER_PT - ROW_PADDING_PX
    return int((height * PX_PER_PT - ROW_PADDING_PX) // line_px)
