"""The data validation of every input cell: its rule, its words, and Excel's limits on them.

This module owns what Excel shows on an input cell: the title and message of the prompt
shown when the cell is selected, the title and message of the alert shown when a value is
refused, and the rule behind them (a dropdown's choices, a number's bounds). The generator
writes exactly these (``generate``), and loading a layout measures exactly these against
Excel's limits (``layout`` for dropdowns and prompts, ``limits`` for number cells), so that
a layout that loads can always be written and opened.

Excel's limits, in UTF-16 code units of the text as stored (a character beyond U+FFFF counts
2, and a literal ``_xHHHH_``, stored as ``_x005F_xHHHH_``, counts as stored):

- the input title and the error title: 32 ([MS-OI29500] 2.1.613 d, e; [MS-XLSB] DValStrings);
- the input message: 255 ([MS-OI29500] 2.1.613 a);
- the error message: 224 ([MS-OI29500] 2.1.613 c; [MS-XLSB] DValStrings says 225, and
  xlsxwriter checks 255: the strictest is kept);
- a dropdown's list, its choices joined with commas: 255 (xlsxwriter's ``data_validation``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from math import isfinite
from typing import TYPE_CHECKING, Any, Literal

from .xlsxtext import attribute_text

if TYPE_CHECKING:  # only types: layout.py and cellmap.py import this module
    from .cellmap import InputCell
    from .layout import NumberRule

INPUT_TITLE_MAX = 32
INPUT_MESSAGE_MAX = 255
ERROR_TITLE_MAX = 32
ERROR_MESSAGE_MAX = 224
LIST_SOURCE_MAX = 255

#: The bounds of a number cell whose layout gives none: any number Excel holds.
_ANY_NUMBER = (-1e307, 1e307)


@dataclass(frozen=True, slots=True, kw_only=True)
class Validation:
    """One data validation as written: its rule and its words (stored text, escaped as
    xlsxwriter writes attributes). Equal validations are written once, over all their cells.
    """

    validate: Literal["list", "decimal", "integer", "any"]
    input_title: str
    input_message: str
    error_title: str = ""
    error_message: str = ""
    source: tuple[str, ...] = ()  # a list's choices
    criteria: str = ""  # a decimal's: "between", ">", ">=" or "<="
    bounds: tuple[float, ...] = ()  # minimum and maximum for "between", else the value

    def options(self) -> dict[str, Any]:
        """The options of xlsxwriter's ``data_validation``."""
        out: dict[str, Any] = {"validate": self.validate, "input_title": self.input_title,
                               "input_message": self.input_message}
        if self.validate == "list":
            out["source"] = list(self.source)
        if self.criteria == "between":
            out.update(criteria="between", minimum=self.bounds[0], maximum=self.bounds[1])
        elif self.criteria:
            out.update(criteria=self.criteria, value=self.bounds[0])
        if self.error_message:
            out.update(error_title=self.error_title, error_message=self.error_message,
                       error_type="stop")
        return out

    def too_long(self) -> list[TooLong]:
        """Every text of this validation that is over Excel's limit."""
        texts = [("input title", self.input_title, INPUT_TITLE_MAX),
                 ("input message", self.input_message, INPUT_MESSAGE_MAX),
                 ("error title", self.error_title, ERROR_TITLE_MAX),
                 ("error alert", self.error_message, ERROR_MESSAGE_MAX)]
        if self.validate == "list":
            texts.append(("list of choices", ",".join(self.source), LIST_SOURCE_MAX))
        return [TooLong(what, text, utf16_length(text), limit) for what, text, limit in texts
                if utf16_length(text) > limit]


@dataclass(frozen=True, slots=True)
class TooLong:
    """A text of a data validation over Excel's limit."""

    what: str  # "input title", "input message", "error title", "error alert", "list of choices"
    text: str
    length: int
    limit: int

    def message(self, fix: str = "shorten it") -> str:
        """``the error alert Excel shows ('...') would be 230 characters, and Excel takes at
        most 224: shorten it by 6``, with ``fix`` saying what to shorten."""
        shown = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return (f"the {self.what} Excel shows ('{shown}') would be {self.length:,} "
                f"characters, and Excel takes at most {self.limit}: {fix} by "
                f"{self.length - self.limit:,}")


def list_validation(choices: Sequence[str]) -> Validation:
    """A dropdown of ``choices`` (a checklist row's statuses, an indicator's direction)."""
    listed = " / ".join(choices)
    return Validation(
        validate="list",
        source=tuple(choices),
        input_title="เลือกจากรายการ",
        input_message=attribute_text("คลิกลูกศรแล้วเลือก: " + listed),
        error_title="ค่าไม่อยู่ในรายการ",
        error_message=attribute_text("กรุณาเลือกจากรายการเท่านั้น: " + listed),
    )


def number_validation(label: str, rule: NumberRule | None) -> Validation:
    """A number cell labelled ``label`` (``ค่าเป้าหมาย 2562``), within ``rule``: the prompt
    ``ค่าเป้าหมาย 2562: พิมพ์ตัวเลขมากกว่า 0``, the alert with examples the rule accepts."""
    criteria, bounds = _criteria(rule)
    words = rule_words(rule)
    examples = " หรือ ".join(number_text(x) for x in _examples(rule))
    return Validation(
        validate="integer" if rule is not None and rule.whole_number else "decimal",
        criteria=criteria,
        bounds=bounds,
        input_title="พิมพ์ตัวเลขเท่านั้น",
        input_message=attribute_text(f"{label}: พิมพ์{words}"),
        error_title="ต้องเป็นจำนวนเต็ม" if rule is not None and rule.whole_number
        else "ต้องเป็นตัวเลข",
        error_message=attribute_text(f"ช่องนี้รับเฉพาะ{words}"
                                     + (f" เช่น {examples}" if examples else "")),
    )


def text_validation(label: str, prompt: str | None) -> Validation | None:
    """A free-text cell's prompt (``prompt:`` of a blank or identity field), titled with its
    label cut to Excel's 32 characters; None without a prompt."""
    if not prompt:
        return None
    return Validation(validate="any", input_title=attribute_text(label, INPUT_TITLE_MAX),
                      input_message=attribute_text(prompt))


def validation_for(cell: InputCell) -> Validation | None:
    """The data validation of an input cell, or None if it has none."""
    if cell.kind in ("status", "direction"):
        return list_validation(cell.choices)
    if cell.kind == "number":
        return number_validation(cell.label, cell.number)
    return text_validation(cell.label, cell.prompt)


def validation_groups(cells: Iterable[InputCell]) -> dict[Validation, list[InputCell]]:
    """The cells of each distinct validation, in the order of their first cell."""
    groups: dict[Validation, list[InputCell]] = {}
    built: dict[tuple[Any, ...], Validation | None] = {}  # what validation_for reads
    for cell in cells:
        key = (cell.kind, cell.choices, cell.label, cell.number, cell.prompt)
        validation = built[key] if key in built else built.setdefault(key, validation_for(cell))
        if validation is not None:
            groups.setdefault(validation, []).append(cell)
    return groups


def rule_words(rule: NumberRule | None) -> str:
    """A number rule in plain Thai: ``ตัวเลขมากกว่า 0``, ``จำนวนเต็มระหว่าง 0 ถึง 100``,
    ``ตัวเลขตั้งแต่ 0 ขึ้นไป``, ``ตัวเลขไม่เกิน 5``; ``ตัวเลข`` if the rule is open."""
    kind = "จำนวนเต็ม" if rule is not None and rule.whole_number else "ตัวเลข"
    if rule is None:
        return kind
    high = None if rule.at_most is None else number_text(rule.at_most)
    if rule.greater_than is not None:
        low = f"มากกว่า {number_text(rule.greater_than)}"
        return kind + low + ("" if high is None else f" และไม่เกิน {high}")
    if rule.at_least is not None:
        low_text = number_text(rule.at_least)
        return kind + (f"ตั้งแต่ {low_text} ขึ้นไป" if high is None
                       else f"ระหว่าง {low_text} ถึง {high}")
    return kind + ("" if high is None else f"ไม่เกิน {high}")


def number_text(value: float) -> str:
    """A number as people write it: thousands separated, no exponent, no trailing zeros,
    at most 15 significant digits as a spreadsheet holds it (``1,000,000,000,000``,
    ``0.000001``, ``-5``, ``1,250.5``)."""
    if not isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    held = Decimal(f"{value:.15g}")
    if held == 0:
        return "0"  # also -0.0
    return f"{held:,f}"


def utf16_length(text: str) -> int:
    """The length of ``text`` as Excel counts it: UTF-16 code units."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF) if not text.isascii() \
        else len(text)


#: Examples an alert may give, in order of preference: the first two the rule accepts.
_EXAMPLE_CANDIDATES = (85.0, 1250.5, 12.0, 3.0, 0.5, 0.0, -5.0)


def _examples(rule: NumberRule | None) -> list[float]:
    """Up to two numbers the rule accepts, to show how a number is typed (the bounds
    themselves where no usual number fits, as in ``มากกว่า 1,000,000``)."""
    fits = [x for x in _EXAMPLE_CANDIDATES if rule is None or rule.accepts(x)]
    if not fits and rule is not None:
        fits = [x for x in (rule.at_least, rule.at_most) if x is not None and rule.accepts(x)]
    return fits[:2]


def _criteria(rule: NumberRule | None) -> tuple[str, tuple[float, ...]]:
    if rule is None:
        return "between", _ANY_NUMBER
    low = rule.greater_than if rule.greater_than is not None else rule.at_least
    if low is not None and rule.at_most is not None:
        return "between", (low, rule.at_most)
    if rule.greater_than is not None:
        return ">", (rule.greater_than,)
    if rule.at_least is not None:
        return ">=", (rule.at_least,)
    if rule.at_most is not None:
        return "<=", (rule.at_most,)
    return "between", _ANY_NUMBER
