"""The input cells: each value as the person typed it (numbers, choices, texts), read with
its cell's number format as the spreadsheet shows it, and what no one may have seen (hidden
rows, columns and sheets, zeros a sheet hides, cells under merges or inside array formulas,
drawings and conditional formats over a sheet); and the agency, from the identity block."""

from __future__ import annotations

import unicodedata
from math import isfinite
from typing import Any, TypedDict

from .. import problems as P
from ..cellmap import InputCell
from ..numfmt import parse_format, render, shows_as, shows_text
from ..problems import Problem
from ..prompts import number_text
from ..values import cell_number, decimal_text, is_blank, parse_number
from ..words import Words
from ..xlsxread import MAX_TEXT, Cell, ErrorValue, MarkedText, RichValue, SheetData
from .plan import Plan
from .records import Identity
from .text import code, display_value, short

#: The characters of distinct number format codes a workbook's inputs may use before the
#: rest are not lexed (lexing is Python, character by character): a return uses a few codes
#: of a few dozen characters; a file with thousands of long codes would cost seconds.
MAX_FORMAT_CHARS = 16_384


def read_values(plan: Plan, sheets: dict[str, SheetData], display: Display, file: str,
                problems: list[Problem]) -> list[Any]:
    """The value of every input, aligned with ``plan.inputs`` (None where blank); the
    problems of each cell are added to ``problems``."""
    values: list[Any] = []
    flagged, hides_text, styles_known = display.flagged, display.hides_text, display.count
    for sheet, slots, positions in plan.runs:  # a sheet's cells looked up in one pass
        found_at = map(sheets[sheet].cells.get, positions)
        for (cell, _, _), found in zip(slots, found_at, strict=True):
            if found is None:
                values.append(None)
                continue
            value = found.value
            if found.formula is None and found.full_length is None:
                # The common shapes, inline: a finite number in a number cell, a listed choice,
                # a non-blank text (each passes _read_input unchanged and without problems).
                kind, cls = cell.kind, value.__class__
                if kind == "number" and cls is float and isfinite(value) and (
                        cell.number is None or cell.number.accepts(value)):
                    if found.style >= styles_known or flagged[found.style]:
                        problems.extend(_number_shown(cell, found, display, file))
                    values.append(value)
                    continue
                if cls is str and found.style < styles_known and not hides_text[found.style] \
                        and (value in cell.choices if cell.choices else (
                            kind == "text" and len(value) <= MAX_TEXT and value.strip()
                            and "\ufffd" not in value)):
                    values.append(value)
                    continue
            value, cell_problems = _read_input(cell, found, file)
            if found.style >= styles_known:
                cell_problems.append(P.make("unknown-style", file=file, sheet=cell.sheet,
                                            cell=cell.ref, label=cell.label,
                                            style=f"{found.style:,}"))
            elif found.value.__class__ is float:
                if cell.kind == "number":
                    cell_problems.extend(_number_shown(cell, found, display, file))
                elif cell.kind in ("text", "identity"):
                    value = _text_shown(cell, found, value, display, file, cell_problems)
            elif isinstance(found.value, str) and display.hides_text[found.style]:
                cell_problems.append(_hidden_value(
                    cell, found, file, _NO_TEXT if display.lexed(found.style)
                    else _SHOWN_AS["unchecked"]))
            if value.__class__ is MarkedText:
                value = str(value)  # the mark has done its work (in _read_number)
            if value.__class__ is str and "\ufffd" in value and cell.kind in ("text", "identity"):
                cell_problems.append(P.make("lost-character", file=file, sheet=cell.sheet,
                                            cell=cell.ref, label=cell.label))
            values.append(value)
            problems.extend(cell_problems)
    return values


def sheet_display_problems(sheet: str, data: SheetData, styles: Any,
                           file: str) -> list[Problem]:
    """What about a sheet as a whole may show values other than those counted: shapes drawn
    over it, conditional formats that change number formats."""
    out = []
    if data.drawing:
        out.append(P.make("drawing-over-form", file=file, sheet=sheet))
    if data.conditional_formats and styles.conditional_number_formats:
        out.append(P.make("conditional-number-format", file=file, sheet=sheet))
    return out


def hidden_inputs(plan: Plan, sheets: dict[str, SheetData], values: list[Any],
                  file: str) -> list[Problem]:
    """Filled inputs that no one may have seen: in a hidden row or column, or a zero on a
    sheet that hides zeros."""
    out: list[Problem] = []
    if not any(d.hidden_rows or d.hidden_cols or d.hides_zeros for d in sheets.values()):
        return out  # the common case: nothing hidden anywhere
    for (cell, sheet, pos), value in zip(plan.inputs, values, strict=True):
        data = sheets[sheet]
        if not (data.hidden_rows or data.hidden_cols or data.hides_zeros) or is_blank(value):
            continue
        if pos[0] in data.hidden_rows or pos[1] in data.hidden_cols:
            out.append(P.make("hidden-input", file=file, sheet=sheet, cell=cell.ref,
                              label=cell.label, found=short(display_value(value))))
        elif data.hides_zeros and cell.kind == "number" and value == 0:
            out.append(P.make("format-hides-value", file=file, sheet=sheet, cell=cell.ref,
                              label=cell.label, found="0",
                              shown="nothing (the sheet is set not to show zeros)"))
    return out


def unseen_inputs(plan: Plan, sheets: dict[str, SheetData], values: list[Any],
                  file: str, infos: dict[str, Any]) -> list[Problem]:
    """Inputs whose value is not what a spreadsheet shows there, or is not shown at all: on a
    hidden sheet, inside merged cells (only the first cell of a merge is shown), inside the
    range of an array formula (every cell of it shows the formula's result, though only the
    first holds the formula). The inputs a sheet's ranges cover are worked out once per set
    of ranges (``Plan.covered_inputs``)."""
    out = []
    positions = plan.inputs
    for name, data in sheets.items():
        info = infos.get(name)
        if info is not None and info.state != "visible":
            count = sum(1 for (_, sheet, _), value in zip(positions, values, strict=True)
                        if sheet == name and not is_blank(value))
            if count:
                out.append(P.make("hidden-sheet", file=file, sheet=name, count=count))
        if data.formula_ranges:
            for i in plan.covered_inputs(name, data.formula_ranges):
                cell = positions[i].cell
                out.append(P.make("formula-in-input", file=file, sheet=name, cell=cell.ref,
                                  label=cell.label,
                                  formula="an array formula that fills several cells"))
        if data.merges:
            formulas = set(plan.covered_inputs(name, data.formula_ranges)) \
                if data.formula_ranges else set()
            for i in plan.covered_inputs(name, data.merges):
                if i in formulas:
                    continue
                cell = positions[i].cell
                if is_blank(values[i]):  # nothing hidden, but nothing can be typed there
                    out.append(P.make("covered-blank-input", file=file, sheet=name,
                                      cell=cell.ref, label=cell.label))
                    continue
                out.append(P.make("covered-input", file=file, sheet=name, cell=cell.ref,
                                  label=cell.label, found=short(display_value(values[i]))))
    return out


def agency_code(plan: Plan, values: list[Any], identity: Identity, file: str,
                problems: list[Problem]) -> str | None:
    """The agency: the code the workbook was made for, else the code typed in it."""
    cell = plan.inputs[plan.agency].cell if plan.agency is not None else None
    typed = code(values[plan.agency]) if plan.agency is not None else None
    made_for = identity.agency_code
    if made_for and typed and typed != made_for:
        problems.append(P.make("agency-code-mismatch", file=file, sheet=cell.sheet if cell else
                               None, cell=cell.ref if cell else None, found=typed,
                               expected=made_for))
    found = made_for or typed
    if not found and cell is not None:
        problems.append(P.make("no-agency-code", file=file, sheet=cell.sheet, cell=cell.ref))
    return found


def identity_fields(plan: Plan, values: list[Any]) -> dict[str, Any]:
    """The identity block's answers, by field id."""
    return {field_id: values[i] for field_id, i in plan.identity}


# --------------------------------------------------------------------------------------------
# How a workbook's styles show values
# --------------------------------------------------------------------------------------------


class _Verdicts(dict[int, bool]):
    """A style's verdict, worked out when a cell first asks for it."""

    def __init__(self, display: Display, which: int) -> None:
        super().__init__()
        self.display, self.which = display, which

    def __missing__(self, style: int) -> bool:
        return self.display.classify(style)[self.which]


class Display:
    """How a workbook's styles show values: each style's format code, whether a number under
    it may show as something other than itself (``flagged``) and whether it hides a text
    (``hides_text``). A workbook may define 20,000 styles; only those of input cells are
    classified, each when first asked, and only the first MAX_FORMAT_CHARS characters of
    distinct codes are lexed: a code beyond is ``unchecked`` (flagged). The budget is spent
    in the order of the form's inputs, so a file gets the same verdicts whatever was read
    before it."""

    def __init__(self, formats: tuple[str, ...], date1904: bool) -> None:
        self.formats = formats
        self.date1904 = date1904
        self.count = max(1, len(formats))  # 1 if none: every cell is General
        self.flagged = _Verdicts(self, 0)
        self.hides_text = _Verdicts(self, 1)
        self._lexed: dict[str, bool] = {}  # code -> lexed (within the budget) or not
        self._budget = MAX_FORMAT_CHARS

    def code(self, style: int) -> str:
        return self.formats[style] if style < len(self.formats) else "General"

    def _lex(self, code: str) -> bool:
        lexed = self._lexed.get(code)
        if lexed is None:
            lexed = self._lexed[code] = len(code) <= self._budget
            if lexed:
                self._budget -= len(code)
        return lexed

    def lexed(self, style: int) -> bool:
        return self._lex(self.code(style))

    def classify(self, style: int) -> tuple[bool, bool]:
        code = self.code(style)
        verdict = _classified(code) if self._lex(code) else (True, True)
        self.flagged[style], self.hides_text[style] = verdict
        return verdict

    def verdict(self, style: int, value: float) -> str:
        """How the number ``value`` shows under the style (numfmt.shows_as), or
        ``unchecked`` for a code beyond the budget."""
        code = self.code(style)
        return shows_as(code, value) if self._lex(code) else "unchecked"


_CLASSIFIED: dict[str, tuple[bool, bool]] = {}  # code -> (flagged, hides text), any workbook


def _classified(code: str) -> tuple[bool, bool]:
    known = _CLASSIFIED.get(code)
    if known is None:
        if len(_CLASSIFIED) > 4096:
            _CLASSIFIED.clear()
        known = _CLASSIFIED[code] = (not _shows_numbers_plainly(code), not shows_text(code))
    return known


def _shows_numbers_plainly(code: str) -> bool:
    """Whether every number shows as itself under ``code``: the verdict for a positive, a
    negative and a zero value (the sections a value can fall in) is "number"."""
    fmt = parse_format(code)
    return fmt.general or all(shows_as(code, v) == "number" for v in (1.5, -1.5, 0.0))


_SHOWN_AS = {
    "hidden": Words("เป็นค่าว่าง หรือแสดงข้อความอื่นแทน", "nothing, or a text in its place"),
    "scaled": Words("เป็นหลักพัน (ตัดสามหลักท้ายออก)", "it in thousands"),
    "unsigned": Words("โดยไม่มีเครื่องหมายลบ", "it without its minus sign"),
    "signed": Words("เป็นค่าติดลบ (มีเครื่องหมายลบหรืออยู่ในวงเล็บ)",
                    "it as a negative number (with a minus sign or in parentheses)"),
    "unchecked": Words("ด้วยรูปแบบตัวเลขที่ยาวเกินกว่าจะตรวจได้",
                       "it in a number format too long to check")}
_NO_TEXT = Words("เป็นค่าว่าง หรือแสดงข้อความอื่นแทน", "nothing or another text")
_FORMATTED_AS = {"percent": Words("เปอร์เซ็นต์", "percentage"),
                 "date": Words("วันที่", "date")}


def _number_shown(cell: InputCell, found: Cell, display: Display,
                  file: str) -> list[Problem]:
    """A number input shown as a percentage or a date (typed as one, not as the plain
    number), or shown as something else altogether: the number counted is not the one seen."""
    if found.style >= display.count:
        return [P.make("unknown-style", file=file, sheet=cell.sheet, cell=cell.ref,
                       label=cell.label, style=f"{found.style:,}")]
    code = display.code(found.style)
    verdict = display.verdict(found.style, found.value)
    if verdict == "number":
        return []
    if verdict == "percent":  # what to type: the percentage shown, as a plain number
        return [P.make("typed-as-percent", file=file, sheet=cell.sheet, cell=cell.ref,
                       label=cell.label, found=f"{found.value:g}",
                       meant=decimal_text(found.value, percent=True))]
    if verdict == "date":
        shown = f"{found.value:g} ({render(code, found.value, display.date1904)})"
        return [P.make("typed-as-date", file=file, sheet=cell.sheet, cell=cell.ref,
                       label=cell.label, found=shown)]
    return [_hidden_value(cell, found, file, _SHOWN_AS[verdict])]


def _text_shown(cell: InputCell, found: Cell, value: Any, display: Display, file: str,
                problems: list[Problem]) -> Any:
    """A number in a text blank, read as the spreadsheet shows it: a date or percent format
    (a pasted cell) makes it that date or percentage, with a warning, never a raw serial;
    the date blank of the identity takes a date as its answer. A number shown plainly is
    read as that number, in the date blank too (43555 under General is what the agency saw,
    not 31/03/2019)."""
    code = display.code(found.style)
    verdict = display.verdict(found.style, found.value)
    if verdict in _SHOWN_AS:
        problems.append(_hidden_value(cell, found, file, _SHOWN_AS[verdict]))
        return value
    if cell.kind == "identity" and cell.field_id == "date" and verdict == "date":
        return render(code, found.value, display.date1904)
    if verdict in ("percent", "date"):
        shown = render(code, found.value, display.date1904)
        problems.append(P.make("shown-as-formatted", file=file, sheet=cell.sheet, cell=cell.ref,
                               label=cell.label, found=f"{found.value:g}",
                               what=_FORMATTED_AS[verdict],
                               shown=shown))
        return shown
    return value


def _hidden_value(cell: InputCell, found: Cell, file: str, shown: Words) -> Problem:
    return P.make("format-hides-value", file=file, sheet=cell.sheet, cell=cell.ref,
                  label=cell.label, found=short(display_value(found.value)), shown=shown)


# --------------------------------------------------------------------------------------------
# One cell's value, by the kind of its input
# --------------------------------------------------------------------------------------------


class _Where(TypedDict):
    """Where an input cell's problems are, as ``P.make`` takes it (a plain dict at run time)."""

    file: str
    sheet: str
    cell: str


def _read_input(cell: InputCell, found: Cell | None, file: str) -> tuple[Any, list[Problem]]:
    """The value of one input cell as the person typed it, and its problems."""
    if found is None:
        return None, []
    where: _Where = {"file": file, "sheet": cell.sheet, "cell": cell.ref}
    value = found.value
    problems: list[Problem] = []
    if found.formula is not None:
        shown = short("=" + found.formula) if found.formula else "copied from another cell"
        problems.append(P.make("formula-in-input", **where, label=cell.label, formula=shown))
    if isinstance(value, ErrorValue):
        problems.append(P.make("error-value", **where, label=cell.label, found=value.text))
        return value.text, problems
    if isinstance(value, RichValue):
        problems.append(P.make("rich-value", **where, label=cell.label))
        return None, problems
    if isinstance(value, bool):
        value = "TRUE" if value else "FALSE"
    if is_blank(value):
        return None, problems
    if isinstance(value, str) and len(value) > MAX_TEXT:
        problems.append(P.make("text-too-long", **where, label=cell.label,
                               length=found.full_length or len(value), limit=MAX_TEXT))
        return value[:MAX_TEXT], problems
    return _KIND_READERS[cell.kind](cell, value, where, problems)


def _read_number(cell: InputCell, value: Any, where: _Where,
                 problems: list[Problem]) -> tuple[Any, list[Problem]]:
    number = cell_number(value)  # text never counts, as in the workbook's formulas
    if number is None:
        typed = parse_number(value)
        if typed is not None and value.__class__ is MarkedText:  # "10", a raised "2": 10²
            problems.append(P.make("format-hides-value", **where, label=cell.label,
                                   found=short(value), shown="some of its digits raised, "
                                   "lowered or struck out"))
        elif typed is not None:
            problems.append(P.make("number-as-text", **where, label=cell.label,
                                   found=short(value), number=number_text(typed)))
        else:
            problems.append(P.make("not-a-number", **where, label=cell.label,
                                   found=short(value)))
        return value, problems
    rule = cell.number
    if rule is not None and not rule.accepts(number):
        problems.append(P.make("number-out-of-range", **where, label=cell.label,
                               found=number_text(number), rule=_rule_text(rule)))
    return number, problems


def _read_choice(cell: InputCell, value: Any, where: _Where,
                 problems: list[Problem]) -> tuple[Any, list[Problem]]:
    text = str(value).strip() if not isinstance(value, float) else f"{value:g}"
    if text in cell.choices:
        return text, problems
    # NFKC on both sides: Thai ำ may be typed as one character or as ํ + า
    canonical = {unicodedata.normalize("NFKC", c): c for c in cell.choices}
    text = canonical.get(unicodedata.normalize("NFKC", text), text)
    if text not in cell.choices:
        code = "bad-status" if cell.kind == "status" else "bad-choice"
        problems.append(P.make(code, **where, label=cell.label, found=short(text),
                               choices=" / ".join(cell.choices)))
        return value, problems
    return text, problems


def _read_text(cell: InputCell, value: Any, where: _Where,
               problems: list[Problem]) -> tuple[Any, list[Problem]]:
    if cell.kind == "identity" and isinstance(value, float) and value.is_integer():
        return str(int(value)), problems  # a code or a phone number typed as digits
    return value, problems


_KIND_READERS = {
    "number": _read_number,
    "status": _read_choice,
    "direction": _read_choice,
    "text": _read_text,
    "identity": _read_text,
}


def _rule_text(rule: Any) -> Words:
    """What a number rule allows, as the fix of ``number-out-of-range``, its bounds as people
    write them (``1,000,000``)."""
    th, en = [], []
    if rule.greater_than is not None:
        th.append(f"มากกว่า {number_text(rule.greater_than)}")
        en.append(f"it must be above {number_text(rule.greater_than)}")
    if rule.at_least is not None:
        th.append(f"ไม่น้อยกว่า {number_text(rule.at_least)}")
        en.append(f"it must be at least {number_text(rule.at_least)}")
    if rule.at_most is not None:
        th.append(f"ไม่เกิน {number_text(rule.at_most)}")
        en.append(f"it must be at most {number_text(rule.at_most)}")
    if rule.whole_number:
        th.append("เป็นจำนวนเต็ม")
        en.append("it must be a whole number")
    return Words("กรุณาพิมพ์ตัวเลขที่" + " และ".join(th), " and ".join(en))
