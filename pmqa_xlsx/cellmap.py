"""The cell map: where every label, input and formula of a layout lives in the workbook.

Computed once from a Layout and a fiscal year, with no I/O. The generator renders it and the
reader reads through it, so the two can never disagree about a cell: every input cell has a
stable key (part, item id, field id), its sheet and address, its kind and its validation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Literal

from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell

from . import checks as check_fns
from . import rules as rule_fns
from . import textmetrics
from .checks import Instance
from .layout import (
    ChecklistSheet,
    IndicatorSheet,
    Layout,
    NumberRule,
    Row,
    Style,
    TableRule,
    grid_field_id,
)
from .styles import font_of

InputKind = Literal["identity", "status", "text", "number", "direction"]
LabelStyle = Literal[
    "title", "subtitle", "heading", "header", "section", "id", "topic", "label", "text",
    "note", "number", "legend_input", "legend_locked", "legend_formula",
]
FormulaKind = Literal["percent_success", "score", "completeness", "indicator_count",
                      "checklist_score", "check", "check_list", "check_count"]

#: Keys of the metadata sheet, in order (column A; values in column B).
META_KEYS = (
    "form_id", "form_version", "layout_fingerprint", "fiscal_year", "agency_code",
    "generator", "generator_version", "generated_at", "token",
)

#: Excel's tallest row, in points ("Excel specifications and limits": row height 409 points).
MAX_ROW_HEIGHT = 409.0
#: Lines a grid's cell holds (short answers: a name, a need), at most the layout's default.
_GRID_LINES = 2
#: Lines an indicator row holds (its name may wrap once).
_INDICATOR_LINES = 2
#: Room for a dropdown's arrow beside the longest choice, in pixels (LibreOffice draws it in
#: the cell).
DROPDOWN_ARROW_PX = 20.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    """Fixed text, locked; a merged range when ``last_row``/``last_col`` are set."""

    sheet: str
    row: int
    col: int
    text: str
    style: LabelStyle
    last_row: int | None = None
    last_col: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InputCell:
    """A cell a person types into. (``part``, ``item_id``, ``field_id``) is its stable key."""

    sheet: str
    row: int  # zero-based, as xlsxwriter counts
    col: int
    kind: InputKind
    part: str  # "identity", a checklist sheet id ("3") or an indicator table id ("7.2.1")
    item_id: str  # identity field, checklist row ("3.2.2.b") or table row ("7.2.1.3")
    field_id: str  # "status", a blank id, "name", "target", "result_1", ...
    label: str
    choices: tuple[str, ...] = ()
    number: NumberRule | None = None
    prompt: str | None = None
    year: int | None = None  # BE year of a target or result
    ref: str = field(default="", compare=False)  # the A1 address ("E12"), derived

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", xl_rowcol_to_cell(self.row, self.col))

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.part, self.item_id, self.field_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class FormulaCell:
    """A locked, live formula with the value a fresh workbook should show."""

    sheet: str
    row: int
    col: int
    kind: FormulaKind
    item_id: str
    formula: str
    ref: str = field(default="", compare=False)  # the A1 address, derived

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", xl_rowcol_to_cell(self.row, self.col))


@dataclass(frozen=True, slots=True, kw_only=True)
class SheetPlan:
    """Everything on one sheet, and how it prints."""

    name: str
    kind: Literal["instructions", "checklist", "indicators"]
    widths: tuple[float, ...]
    labels: tuple[Label, ...]
    inputs: tuple[InputCell, ...]
    formulas: tuple[FormulaCell, ...]
    heights: dict[int, float] = field(default_factory=dict)
    default_height: float = 34.5  # the height of rows not in ``heights``: one line
    freeze_rows: int = 0
    repeat_rows: tuple[int, int] | None = None
    landscape: bool = False
    page_breaks: tuple[int, ...] = ()
    #: The instructions sheet's blank row above the legends, where a workbook with values
    #: carried over (generate --prefill) explains their fill; blank in any other workbook.
    carried_legend: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicatorRow:
    """The cells of one indicator row, by field id, for formulas and the reader; ``compared``
    is the field of the result its percent success compares with the target, ``rule`` its
    table's rule (the formulas' and the reader's)."""

    table_id: str
    item_id: str
    number: int
    cells: dict[str, InputCell]
    percent: FormulaCell
    score: FormulaCell
    compared: str
    rule: TableRule


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason:
    """The reason cell beside one row (``checks:``): the lines of its broken instances.
    ``section`` is the checklist section or indicator table the row is in."""

    cell: FormulaCell
    instances: tuple[Instance, ...]
    section: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckList:
    """One section's live list on the first sheet: its reason cells' lines, joined."""

    cell: FormulaCell
    section: str
    sheet: str  # the sheet of the section's inputs
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CellMap:
    """The whole workbook: one SheetPlan per visible sheet, in order. Compared and hashed by
    identity, so that derived tables can be cached per cell map."""

    layout: Layout
    year: int
    sheets: tuple[SheetPlan, ...]
    indicator_rows: tuple[IndicatorRow, ...]
    reasons: tuple[Reason, ...] = ()  # with ``checks:``: one per row that a check may flag
    check_lists: tuple[CheckList, ...] = ()  # with ``checks:``: one per section and table

    @property
    def instances(self) -> Iterator[Instance]:
        """Every check on every input cell, in sheet order (none without ``checks:``)."""
        for reason in self.reasons:
            yield from reason.instances

    def inputs(self) -> Iterator[InputCell]:
        for sheet in self.sheets:
            yield from sheet.inputs

    def formulas(self) -> Iterator[FormulaCell]:
        for sheet in self.sheets:
            yield from sheet.formulas

    def identity_cell(self, field_id: str) -> InputCell:
        return next(c for c in self.sheets[0].inputs if c.field_id == field_id)

    def checklist_score_cell(self) -> FormulaCell | None:
        """The instructions sheet's checklist score, if the layout declares one."""
        return next((f for f in self.sheets[0].formulas if f.kind == "checklist_score"), None)

    def status_cells(self) -> Iterator[InputCell]:
        """Every checklist row's status cell, in the cell map's order."""
        return (c for c in self.inputs() if c.kind == "status")


def build_cellmap(layout: Layout, year: int | None = None) -> CellMap:
    """Place every label, input and formula of ``layout`` for fiscal ``year`` (BE)."""
    fiscal_year = layout.form.fiscal_year if year is None else year
    plans: list[SheetPlan] = []
    indicator_rows: list[IndicatorRow] = []
    reasons: list[Reason] = []
    for sheet in layout.sheets:
        if isinstance(sheet, ChecklistSheet):
            plans.append(_plan_checklist(layout, sheet, reasons))
        else:
            plan, rows = _plan_indicators(layout, sheet, fiscal_year, reasons)
            plans.append(plan)
            indicator_rows.extend(rows)
    lists: list[CheckList] = []
    first = _plan_instructions(layout, plans, indicator_rows, reasons, lists)
    return CellMap(
        layout=layout,
        year=fiscal_year,
        sheets=(first, *plans),
        indicator_rows=tuple(indicator_rows),
        reasons=tuple(reasons),
        check_lists=tuple(lists),
    )


def expected_inputs(sheets: Iterable[SheetPlan]) -> list[InputCell]:
    """The cells the completeness count covers: identity, statuses and text blanks."""
    return [c for s in sheets if s.kind in ("instructions", "checklist") for c in s.inputs]


def count_formula(cells: Iterable[InputCell], term: str = "COUNTA({})") -> str:
    """``COUNTA`` (or ``term``) over the fewest ranges, sheet-qualified, that cover exactly
    ``cells``."""
    return "+".join(term.format(r) for r in _ranges(cells)) or "0"


def _ranges(cells: Iterable[InputCell]) -> list[str]:
    by_sheet: dict[str, list[InputCell]] = {}
    for cell in cells:
        by_sheet.setdefault(cell.sheet, []).append(cell)
    return [f"{quote_sheetname(sheet)}!{r}" for sheet, group in by_sheet.items()
            for r in runs(group)]


def completeness_formula(layout: Layout, expected: list[InputCell], statuses: str,
                         instances: Iterable[Instance]) -> str:
    """The live "filled X / Y" count. Without ``checks:``, X counts the cells that hold
    anything (COUNTA). With it, X counts valid entries only, as ``completeness`` does: filled
    identity fields and blanks (``checks.filled``) that no check flags, and statuses that are
    one of the choices (``statuses``: the range of the status labels on the first sheet)."""
    if layout.checks is None:
        return f'=({count_formula(expected)})&" / {len(expected)}"'
    texts = [c for c in expected if c.kind != "status"]
    status = [c for c in expected if c.kind == "status"]
    parts = [count_formula(texts, 'SUMPRODUCT(--(LEN(TRIM(CLEAN({})))>0))')]
    if status:
        parts.append("SUMPRODUCT(" + "+".join(f"COUNTIF({r},{statuses})"
                                               for r in _ranges(status)) + ")")
    flagged = [term for term in check_fns.flagged_filled_terms(
        i for i in instances if i.cell.kind != "number")]
    count = "+".join(parts) + ("-(" + "+".join(flagged) + ")" if flagged else "")
    return f'=({count})&" / {len(expected)}"'


def completeness(cellmap: CellMap, value_of: Callable[[InputCell], Any]) -> str:
    """What the completeness formula shows for these values (``value_of`` gives a cell's
    value): Python's side of ``completeness_formula``."""
    expected = [*cellmap.sheets[0].inputs, *expected_inputs(cellmap.sheets[1:])]
    if cellmap.layout.checks is None:
        filled = sum(1 for c in expected if value_of(c) is not None and value_of(c) != "")
    else:
        labels = set(cellmap.layout.status_labels())
        filled = sum(1 for c in expected if (value_of(c) in labels if c.kind == "status"
                                             else check_fns.filled(value_of(c))))
        filled -= check_fns.flagged_filled(
            (i for i in cellmap.instances if i.check.kind == "details_unexpected"), value_of)
    return f"{filled} / {len(expected)}"


@dataclass(slots=True)
class _Builder:
    """Collects one sheet's cells while a planner walks the layout."""

    name: str
    widths: tuple[float, ...]
    style: Style
    labels: list[Label] = field(default_factory=list)
    inputs: list[InputCell] = field(default_factory=list)
    formulas: list[FormulaCell] = field(default_factory=list)
    heights: dict[int, float] = field(default_factory=dict)

    def label(self, row: int, col: int, text: str, style: LabelStyle, *,
              last_row: int | None = None, last_col: int | None = None) -> None:
        self.labels.append(Label(sheet=self.name, row=row, col=col, text=text, style=style,
                                 last_row=last_row, last_col=last_col))

    def full_row(self, row: int, text: str, style: LabelStyle) -> None:
        """Text across the whole sheet width (``plan`` makes it tall enough)."""
        self.label(row, 0, text, style, last_col=len(self.widths) - 1)

    @property
    def default_height(self) -> float:
        return textmetrics.lines_height(1, self.style.size)

    def lines(self, count: float) -> float:
        """The height of a row that holds ``count`` lines of the layout's font."""
        return textmetrics.lines_height(count, self.style.size)

    def need(self, row: int, height: float) -> None:
        """Make ``row`` at least ``height`` points tall."""
        self.heights[row] = max(self.heights.get(row, self.default_height), height)

    def fit(self, text: str, first_col: int, last_col: int, style: str) -> float:
        """The height that shows all of ``text`` in format ``style`` over these columns."""
        size, bold = font_of(style, self.style)
        return textmetrics.fit_height(text, self.widths[first_col:last_col + 1], size,
                                      self.style.size, bold=bold)

    def formula(
        self, row: int, col: int, kind: FormulaKind, item_id: str, text: str
    ) -> FormulaCell:
        made = FormulaCell(sheet=self.name, row=row, col=col, kind=kind, item_id=item_id,
                           formula=text)
        self.formulas.append(made)
        return made

    def fit_rows(self, labels: Iterable[Label], inputs: Iterable[InputCell] = ()) -> None:
        """Make the rows of ``labels`` and ``inputs`` tall enough for their texts (``plan``
        does it for all; a planner may do it early, to know a row's height)."""
        spans = []
        for lb in labels:
            last_col = lb.last_col if lb.last_col is not None else lb.col
            height = self.fit(lb.text, lb.col, last_col, lb.style)
            if lb.last_row is None or lb.last_row == lb.row:
                self.need(lb.row, height)
            else:
                spans.append((lb.row, lb.last_row, height))
        for cell in inputs:
            if cell.choices:
                self.need(cell.row, max(self.fit(c, cell.col, cell.col, "input")
                                        for c in cell.choices))
        for first, last, height in spans:
            _spread(self.heights, first, last, height, self.default_height)

    def tall(self, first: int, last: int) -> float:
        """Rows ``first`` to ``last`` together, in points."""
        return sum(self.heights.get(r, self.default_height) for r in range(first, last + 1))

    def plan(self, kind: Literal["instructions", "checklist", "indicators"],
             **extra: Any) -> SheetPlan:
        """The sheet, every row tall enough for all of its text: each label's (measured in
        its own font over its columns; a label merged over rows spreads over them) and each
        dropdown's longest choice."""
        self.fit_rows(self.labels, self.inputs)
        return SheetPlan(name=self.name, kind=kind, widths=self.widths,
                         labels=tuple(self.labels), inputs=tuple(self.inputs),
                         formulas=tuple(self.formulas), heights=self.heights,
                         default_height=self.default_height,
                         **extra)


# --------------------------------------------------------------------------------------------
# Private: one planner per sheet kind
# --------------------------------------------------------------------------------------------


def _plan_instructions(
    layout: Layout, plans: list[SheetPlan], indicator_rows: list[IndicatorRow],
    reasons: list[Reason], lists: list[CheckList],
) -> SheetPlan:
    ins = layout.instructions
    sheet = _Builder(ins.sheet, (34.0, 80.0), layout.style)
    row = 0
    carried_legend = None
    lines: tuple[tuple[str, LabelStyle | None], ...] = (
        (layout.form.title, "title"), (ins.title, "heading"),
        *((f"{i}. {line}", "text") for i, line in enumerate(ins.lines, 1)),
        ("", None),
        (ins.legend.input, "legend_input"), (ins.legend.locked, "legend_locked"),
        (ins.legend.formula, "legend_formula"))
    for text, style in lines:
        if style:
            sheet.full_row(row, text, style)
        else:
            carried_legend = row
        row += 1
    row += 1
    first_status = row
    for i, status in enumerate(layout.statuses, start=1):
        sheet.label(row, 0, f"สถานะที่ {i}", "label")
        sheet.label(row, 1, status.label, "note")
        row += 1
    statuses = (f"{xl_rowcol_to_cell(first_status, 1, True, True)}:"
                f"{xl_rowcol_to_cell(row - 1, 1, True, True)}")
    sheet.full_row(row + 1, layout.identity.title, "heading")
    row += 2
    for fld in layout.identity.fields:
        sheet.label(row, 0, fld.label, "label")
        sheet.inputs.append(InputCell(
            sheet=sheet.name, row=row, col=1, kind="identity", part="identity",
            item_id="identity", field_id=fld.id, label=fld.label, prompt=fld.prompt,
        ))
        sheet.need(row, sheet.default_height + 6)
        row += 1
    row += 1
    expected = [*sheet.inputs, *expected_inputs(plans)]
    sheet.label(row, 0, ins.completeness, "label")
    instances = [i for r in reasons for i in r.instances]
    sheet.formula(row, 1, "completeness", "identity",
                  completeness_formula(layout, expected, statuses, instances))
    if indicator_rows:
        row += 1
        sheet.label(row, 0, ins.indicator_count, "label")
        sheet.formula(row, 1, "indicator_count", "identity",
                      "=" + count_formula(r.cells["name"] for r in indicator_rows))
    scored = layout.rules.checklist_score
    if scored is not None:
        row += 1
        sheet.label(row, 0, scored.label, "label")
        sheet.formula(row, 1, "checklist_score", "identity",
                      rule_fns.checklist_score_formula(status_ranges(plans), scored))
    if layout.checks is not None and reasons:
        _plan_check_lists(layout, sheet, row + 2, plans, reasons, lists)
    return sheet.plan("instructions", carried_legend=carried_legend)


#: Lines a live list's row is tall enough for at most (it may be made taller).
_LIST_LINES = 8


def _plan_check_lists(layout: Layout, sheet: _Builder, row: int, plans: list[SheetPlan],
                      reasons: list[Reason], lists: list[CheckList]) -> None:
    """The live count and one live list per section (or table) that has checks."""
    assert layout.checks is not None
    sheet.full_row(row, layout.checks.column, "heading")
    count = sheet.formula(row + 1, 1, "check_count", "checks", "")
    row += 2
    sections: dict[str, list[Reason]] = {}
    for reason in reasons:
        sections.setdefault(reason.section, []).append(reason)
    titles = _section_titles(layout)
    first = row
    for section, group in sections.items():
        text = titles[section]
        sheet.label(row, 0, text, "label")
        refs = "&".join(f"{quote_sheetname(r.cell.sheet)}!{r.cell.ref}" for r in group)
        made = sheet.formula(row, 1, "check_list", section, "=" + refs)
        possible = sum(len(r.instances) for r in group)
        sheet.need(row, sheet.lines(max(2, min(possible, _LIST_LINES))))
        lists.append(CheckList(cell=made, section=section, sheet=group[0].cell.sheet,
                               reasons=tuple(group)))
        row += 1
    span = f"{xl_rowcol_to_cell(first, 1)}:{xl_rowcol_to_cell(row - 1, 1)}"
    sheet.formulas[sheet.formulas.index(count)] = FormulaCell(
        sheet=count.sheet, row=count.row, col=count.col, kind="check_count", item_id="checks",
        formula=check_fns.count_formula(layout.checks, span))


def _section_titles(layout: Layout) -> dict[str, str]:
    """Each checklist section's and indicator table's heading in the live list."""
    out = {}
    for part in layout.sheets:
        if isinstance(part, ChecklistSheet):
            for section in part.sections:
                out[section.id] = f"{part.sheet}: {section.id} {section.title}"
        else:
            for table in part.tables:
                out[table.id] = f"{part.sheet}: {table.title}"
    return out


def status_ranges(plans: Iterable[SheetPlan]) -> list[str]:
    """Sheet-qualified ranges that cover every status cell of the checklist sheets and no
    other cell the form fills: per sheet, its status column from the first status to the
    last, split only where something else of the form is in that column."""
    out = []
    for plan in plans:
        statuses = [c for c in plan.inputs if c.kind == "status"]
        if not statuses:
            continue
        col = statuses[0].col
        rows = {c.row for c in statuses}
        other = sorted({c.row for c in plan.inputs if c.col == col and c.row not in rows}
                       | {lb.row for lb in plan.labels if lb.col == col})
        top, bottom = min(rows), max(rows)
        runs: list[list[int]] = [[]]
        for r in range(top, bottom + 1):
            if r in rows:
                runs[-1].append(r)
            elif r in other and runs[-1]:
                runs.append([])
        for run in runs:
            if run:
                a, b = xl_rowcol_to_cell(run[0], col), xl_rowcol_to_cell(run[-1], col)
                out.append(f"{quote_sheetname(plan.name)}!{a}" + (f":{b}" if a != b else ""))
    return out


def _plan_checklist(layout: Layout, sheet: ChecklistSheet, reasons: list[Reason]) -> SheetPlan:
    checks = layout.checks
    status_width = status_column_width(layout)
    out = _Builder(sheet.sheet, (8.0, 44.0, status_width, 34.0, 52.0,
                                 *((30.0,) if checks else ())), layout.style)
    id_col, topic_col, status_col, label_col, input_col, reason_col = range(6)
    cols = sheet.columns
    choices = layout.status_labels()
    out.full_row(0, layout.form.title, "title")
    out.full_row(1, sheet.title, "heading")
    header = 2
    for col, text in ((id_col, cols.id), (topic_col, cols.topic), (status_col, cols.status)):
        out.label(header, col, text, "header")
    out.label(header, label_col, cols.details, "header", last_col=input_col)
    if checks:
        out.label(header, reason_col, checks.column, "header")
    row = header + 1
    units: list[tuple[int, int]] = []  # each item's rows (with its section's title above)
    for section in sheet.sections:
        out.label(row, id_col, section.id, "id")
        out.label(row, topic_col, section.title, "section", last_col=input_col)
        row += 1
        for n, item in enumerate(section.items):
            first = row
            for paper_row in item.rows:
                lines = list(_row_lines(paper_row))
                status = InputCell(
                    sheet=out.name, row=row, col=status_col, kind="status", part=sheet.id,
                    item_id=paper_row.id, field_id="status",
                    label=_status_label(item.topic, paper_row), choices=choices,
                )
                out.inputs.append(status)
                blanks_at = len(out.inputs)
                for text, field_id, full_label, prompt, box in lines:
                    if field_id is None:
                        out.label(row, label_col, text, "text", last_col=input_col)
                    else:
                        out.label(row, label_col, text, "label")
                        out.inputs.append(InputCell(
                            sheet=out.name, row=row, col=input_col, kind="text", part=sheet.id,
                            item_id=paper_row.id, field_id=field_id, label=full_label,
                            prompt=prompt,
                        ))
                        out.need(row, out.lines(box or layout.style.input_lines))
                    row += 1
                if not lines:
                    out.need(row, out.lines(min(_GRID_LINES, layout.style.input_lines)))
                    row += 1
                if checks:
                    _reasons(out, reason_col, section.id, reasons, check_fns.checklist_instances(
                        checks, status, out.inputs[blanks_at:]))
            last = row - 1
            span = last if last > first else None
            out.label(first, id_col, item.id, "id", last_row=span)
            out.label(first, topic_col, item.topic, "topic", last_row=span)
            units.append((first - 1 if n == 0 else first, last))
    plan = out.plan("checklist", freeze_rows=header + 1, repeat_rows=(header, header),
                    landscape=True)
    return replace(plan, page_breaks=keep_together(plan, units, layout.style.size))


def _reasons(out: _Builder, col: int, section: str, reasons: list[Reason],
             instances: list[Instance]) -> None:
    """One reason cell per row of ``instances``' cells, in column ``col``."""
    by_row: dict[int, list[Instance]] = {}
    for instance in instances:
        by_row.setdefault(instance.cell.row, []).append(instance)
    for row, group in sorted(by_row.items()):
        made = out.formula(row, col, "check", group[0].cell.item_id,
                           check_fns.reason_formula(group))
        reasons.append(Reason(cell=made, instances=tuple(group), section=section))


def _spread(heights: dict[int, float], first: int, last: int, needed: float,
            default: float) -> None:
    """Make rows ``first`` to ``last`` together at least ``needed`` points tall (a topic
    merged over them), from the last row up, none past MAX_ROW_HEIGHT while another has
    room; what no row has room for goes on the last (the layout check refuses it). A row
    not in ``heights`` is ``default`` tall."""
    rows = range(first, last + 1)
    missing = needed - sum(heights.get(r, default) for r in rows)
    for r in reversed(rows):
        if missing <= 0:
            return
        have = heights.get(r, default)
        grow = min(missing, max(0.0, MAX_ROW_HEIGHT - have))
        heights[r] = have + grow
        missing -= grow
    if missing > 0:
        heights[last] += missing


def _row_lines(row: Row) -> Iterator[tuple[str, str | None, str, str | None, int | None]]:
    """(shown text, field id or None for fixed text, full label, prompt, lines of its box or
    None for the layout's default) for each line."""
    if row.text:
        yield row.text, None, row.text, None, None
    for blank in row.blanks:
        yield blank.label, blank.id, blank.label, blank.prompt, blank.lines
    if row.grid:
        for line in row.grid.rows:
            for j, col in enumerate(row.grid.columns):
                shown = f"· {line.label} {col.label}" if j == 0 else f"      {col.label}"
                yield (shown, grid_field_id(line, col), f"{line.label} {col.label}", None,
                       _GRID_LINES)
    if row.after:
        yield row.after, None, row.after, None, None


def _status_label(topic: str, row: Row) -> str:
    return f"{topic}: {row.text}" if row.text else topic


def _plan_indicators(
    layout: Layout, sheet: IndicatorSheet, fiscal_year: int, reasons: list[Reason]
) -> tuple[SheetPlan, list[IndicatorRow]]:
    cols = sheet.columns
    rules = layout.rules
    # Column order: number, indicator, [unit], [direction], target, results..., percent, score
    spec: list[tuple[str, float]] = [("number", 7.0), ("name", 42.0)]
    if cols.unit:
        spec.append(("unit", 13.0))
    if cols.direction:
        spec.append(("direction", 17.0))
    spec.append(("target", 13.0))
    result_fields = [f"result_{i}" for i in range(1, len(sheet.result_years) + 1)]
    spec.extend((f, 12.0) for f in result_fields)
    spec.extend((("percent_success", 13.0), ("score", 10.0)))
    checks = layout.checks
    if checks:
        spec.append(("reason", 30.0))
    col_of = {key: i for i, (key, _) in enumerate(spec)}
    out = _Builder(sheet.sheet, tuple(w for _, w in spec), layout.style)
    rows_out: list[IndicatorRow] = []
    breaks: list[int] = []
    out.full_row(0, layout.form.title, "title")
    out.full_row(1, sheet.title, "heading")
    row = 2
    heads: tuple[tuple[str | None, LabelStyle], ...] = (
        (sheet.subtitle, "subtitle"), (sheet.intro, "text"))
    for text, style in heads:
        if text:
            out.full_row(row, text, style)
            row += 1
    target_year = fiscal_year + sheet.target_year
    years = [fiscal_year + off for off in sheet.result_years]
    headers: list[tuple[str, str]] = [("number", cols.number), ("name", cols.indicator)]
    if cols.unit:
        headers.append(("unit", cols.unit))
    if cols.direction:
        headers.append(("direction", cols.direction))
    headers.extend((("percent_success", cols.percent_success), ("score", cols.score)))
    if checks:
        headers.append(("reason", checks.column))
    target_result = target_result_field(sheet)

    def header(top: int) -> float:
        """The table's two header rows at ``top``; their height."""
        bottom = top + 1
        at = len(out.labels)
        for key, text in headers:
            out.label(top, col_of[key], text, "header", last_row=bottom)
        out.label(top, col_of["target"], cols.target, "header")
        out.label(bottom, col_of["target"], cols.target_year.format(year=target_year), "header")
        first_result, last_result = col_of[result_fields[0]], col_of[result_fields[-1]]
        out.label(top, first_result, cols.results, "header",
                  last_col=last_result if last_result > first_result else None)
        for fld, year in zip(result_fields, years, strict=True):
            out.label(bottom, col_of[fld], str(year), "header")
        out.fit_rows(out.labels[at:])
        return out.tall(top, bottom)

    # A table taller than a page is cut where a row would pass the page's end, and its
    # header is written again at the top of the next page (a sheet repeats one range of rows
    # on every page, the sheet's titles here, so each table's own header is repeated so).
    # (the whole page: the bundled form's first table fills 99% of its page, and LibreOffice
    # prints it on one; cutting it would move the cells of returns already made)
    page = _page(out.widths, True, layout.style.size, fill=1.0)
    out.fit_rows(out.labels)
    repeated = out.tall(0, 1)
    used = out.tall(0, row)
    row_height = max([out.lines(_INDICATOR_LINES)]
                     + [out.fit(c, col_of["direction"], col_of["direction"], "input")
                        for c in (rules.higher, rules.lower) if cols.direction])
    for t_index, table in enumerate(sheet.tables):
        if t_index:  # each table on a page of its own, from the empty row above it
            breaks.append(row)
            used = repeated + out.tall(row, row)
        row += 1
        out.full_row(row, table.title, "subtitle")
        out.full_row(row + 1, table.description, "note")
        out.fit_rows(out.labels[-2:])
        header_height = header(row + 2)
        used += out.tall(row, row + 1) + header_height
        row += 4
        rule = rules.for_table(table.id)
        for n in range(1, table.rows + 1):
            if used + row_height > page and n > 1 and repeated + header_height + row_height \
                    <= page:  # (a header too tall to leave room for a row: no use cutting)
                breaks.append(row)
                used = repeated + header(row)
                row += 2
            used += row_height
            item_id = f"{table.id}.{n}"
            out.label(row, 0, str(n), "number")
            base = partial(InputCell, sheet=out.name, row=row, part=table.id, item_id=item_id)
            cells = {"name": base(col=col_of["name"], field_id="name", kind="text",
                                  label=cols.indicator)}
            if cols.unit:
                cells["unit"] = base(col=col_of["unit"], field_id="unit", kind="text",
                                     label=cols.unit)
            if cols.direction:
                cells["direction"] = base(col=col_of["direction"], field_id="direction",
                                          kind="direction", label=cols.direction,
                                          choices=(rules.higher, rules.lower))
            cells["target"] = base(col=col_of["target"], field_id="target", kind="number",
                                   label=f"{cols.target} {target_year}",
                                   number=sheet.target_validation, year=target_year)
            for fld, year in zip(result_fields, years, strict=True):
                cells[fld] = base(col=col_of[fld], field_id=fld, kind="number",
                                  label=f"{cols.results} {year}",
                                  number=sheet.result_validation, year=year)
            out.inputs.extend(cells.values())
            percent = out.formula(row, col_of["percent_success"], "percent_success", item_id,
                                  rule_fns.percent_formula(
                                      cells["target"].ref, cells[target_result].ref,
                                      cells["direction"].ref if "direction" in cells else None,
                                      rule))
            score = out.formula(row, col_of["score"], "score", item_id,
                                rule_fns.score_formula(percent.ref, rule))
            rows_out.append(IndicatorRow(table_id=table.id, item_id=item_id, number=n,
                                         cells=cells, percent=percent, score=score,
                                         compared=target_result, rule=rule))
            if checks:
                _reasons(out, col_of["reason"], table.id, reasons,
                         check_fns.indicator_instances(checks, cells, target_result))
            out.need(row, row_height)
            row += 1
    plan = out.plan("indicators", freeze_rows=2, repeat_rows=(0, 1), landscape=True,
                    page_breaks=tuple(breaks))
    return plan, rows_out


def target_result_field(sheet: IndicatorSheet) -> str:
    """The field id of the result compared with the target (``result_3`` by default)."""
    return f"result_{sheet.result_years.index(sheet.target_year) + 1}"


# --------------------------------------------------------------------------------------------
# Private: helpers
# --------------------------------------------------------------------------------------------


def runs(cells: Iterable[InputCell]) -> list[str]:
    """Maximal vertical runs of cells in one column, as A1 ranges."""
    by_col: dict[int, list[int]] = {}
    for c in cells:
        by_col.setdefault(c.col, []).append(c.row)
    ranges = []
    for col, rows in sorted(by_col.items()):
        rows.sort()
        start = prev = rows[0]
        for r in [*rows[1:], None]:
            if r is not None and r == prev + 1:
                prev = r
                continue
            a, b = xl_rowcol_to_cell(start, col), xl_rowcol_to_cell(prev, col)
            ranges.append(a if a == b else f"{a}:{b}")
            if r is not None:
                start = prev = r
    return ranges


#: A4 (ISO 216) in points, and the margins the generator prints with, in inches.
A4_POINTS = (841.89, 595.28)
PRINT_MARGINS = {"left": 0.5, "right": 0.5, "top": 0.6, "bottom": 0.7}
#: How full a page is filled before a break: room for the applications' own rounding.
PAGE_FILL = 0.95


def print_scale(plan: SheetPlan, default_size: float) -> float:
    """The scale the sheet prints at, fitted to the page's width (whole percents, at most
    100%, as Excel's "fit to 1 page wide" does)."""
    return _scale(plan.widths, plan.landscape, default_size)


def _scale(widths: tuple[float, ...], landscape: bool, default_size: float) -> float:
    wide = A4_POINTS[0] if landscape else A4_POINTS[1]
    room = wide - 72 * (PRINT_MARGINS["left"] + PRINT_MARGINS["right"])
    sheet = sum(textmetrics.column_pixels(w, default_size) for w in widths)
    return min(100, math.floor(100 * room / (sheet / textmetrics.PX_PER_PT))) / 100


def page_height(plan: SheetPlan, default_size: float, fill: float = PAGE_FILL) -> float:
    """How much of the sheet's height a printed page holds, in the sheet's points (the
    repeated rows included), filled to ``fill``."""
    return _page(plan.widths, plan.landscape, default_size, fill)


def _page(widths: tuple[float, ...], landscape: bool, default_size: float,
          fill: float = PAGE_FILL) -> float:
    high = A4_POINTS[1] if landscape else A4_POINTS[0]
    room = high - 72 * (PRINT_MARGINS["top"] + PRINT_MARGINS["bottom"])
    return room * fill / _scale(widths, landscape, default_size)


def keep_together(plan: SheetPlan, units: list[tuple[int, int]],
                  default_size: float) -> tuple[int, ...]:
    """Page breaks (the first row of each new page) so that no unit of rows (an item, whose
    topic is merged over its rows: a merged cell split by a page is cut off on paper) runs
    over a page's end, when it fits on a page at all."""
    def tall(first: int, last: int) -> float:
        return sum(plan.heights.get(r, plan.default_height) for r in range(first, last + 1))

    page = page_height(plan, default_size)
    repeated = tall(*plan.repeat_rows) if plan.repeat_rows else 0.0
    breaks: list[int] = []
    used = tall(0, units[0][0] - 1) if units else 0.0
    for first, last in units:
        height = tall(first, last)
        if used + height > page and used > repeated:
            breaks.append(first)
            used = repeated
        used += height
    return tuple(breaks)


def status_column_width(layout: Layout) -> float:
    """The status column's width, in characters: the longest status on one line, measured
    in the layout's font, with room for the dropdown's arrow."""
    longest = max(textmetrics.text_width(c.label, layout.style.size)
                  for c in layout.statuses)
    return textmetrics.chars_for(longest + DROPDOWN_ARROW_PX, layout.style.size)
