"""The Thai government look: one xlsxwriter format per label style and cell kind.

TH Sarabun New (the layout's font), thin borders on table cells, shaded inputs (yellow),
locked pre-filled values (grey) and formulas (blue). Only the ``input`` format is unlocked.
"""

from __future__ import annotations

from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

from .layout import Style

INPUT_FILL = "#FFF2CC"
LOCKED_FILL = "#EDEDED"
FORMULA_FILL = "#DDEBF7"
HEADER_FILL = "#D9E1F2"
SECTION_FILL = "#E2EFDA"
#: The fills a conditional format gives a cell that breaks a check (Excel's own "light red
#: fill with dark red text" for errors; orange for warnings, unlike the inputs' yellow).
ERROR_FILL = "#FFC7CE"
WARNING_FILL = "#F8CBAD"
#: Inputs carried over from the previous round (``generate --prefill``): to check or correct.
CARRIED_FILL = "#E2F0D9"

_BASE: dict[str, Any] = {"valign": "top", "text_wrap": True}
_CELL: dict[str, Any] = {**_BASE, "border": 1, "border_color": "#808080"}

_SPECS: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "size_delta": 4, "align": "center", "valign": "vcenter"},
    "heading": {"bold": True, "size_delta": 2, "valign": "vcenter"},
    "subtitle": {"bold": True, "valign": "vcenter"},
    "text": {**_BASE},
    "note": {**_BASE, "italic": False},
    "header": {**_CELL, "bold": True, "align": "center", "valign": "vcenter",
               "bg_color": HEADER_FILL},
    "section": {**_CELL, "bold": True, "bg_color": SECTION_FILL},
    "id": {**_CELL, "bold": True, "align": "center"},
    "topic": {**_CELL},
    "label": {**_CELL},
    "number": {**_CELL, "align": "center"},
    "legend_input": {**_CELL, "bg_color": INPUT_FILL},
    "legend_locked": {**_CELL, "bg_color": LOCKED_FILL},
    "legend_formula": {**_CELL, "bg_color": FORMULA_FILL},
    # Text inputs are formatted as text ("@"), so that Excel and LibreOffice keep what is
    # typed: a code 03005, a phone 0812345678, a date 31/03/2562, a line starting with "-".
    "input": {**_CELL, "bg_color": INPUT_FILL, "locked": False, "num_format": "@"},
    "input_number": {**_CELL, "bg_color": INPUT_FILL, "locked": False, "num_format": "General",
                     "align": "right"},
    "carried": {**_CELL, "bg_color": CARRIED_FILL, "locked": False, "num_format": "@"},
    "carried_number": {**_CELL, "bg_color": CARRIED_FILL, "locked": False,
                       "num_format": "General", "align": "right"},
    "prefilled": {**_CELL, "bg_color": LOCKED_FILL, "num_format": "@"},
    "formula": {**_CELL, "bg_color": FORMULA_FILL, "num_format": "#,##0.00", "align": "right"},
    "formula_text": {**_CELL, "bg_color": FORMULA_FILL, "bold": True},
    "reason": {**_CELL, "bg_color": FORMULA_FILL, "font_color": "#9C0006"},
    "blank": {**_CELL},
    "meta": {},
}


def font_of(name: str, style: Style) -> tuple[float, bool]:
    """The font size and boldness of the format ``name`` (what its text is measured in)."""
    spec = _SPECS[name]
    return style.size + spec.get("size_delta", 0), bool(spec.get("bold"))


def make_formats(workbook: Workbook, style: Style) -> dict[str, Format]:
    """One format per style name, in the layout's font."""
    formats = {}
    for name, spec in _SPECS.items():
        props = {k: v for k, v in spec.items() if k != "size_delta"}
        props["font_name"] = style.font
        props["font_size"] = style.size + spec.get("size_delta", 0)
        formats[name] = workbook.add_format(props)
    # conditional formats: a fill (and a font colour) only, never a number format (the reader
    # flags conditional formats that change how numbers are shown)
    formats["check_error"] = workbook.add_format({"bg_color": ERROR_FILL,
                                                  "font_color": "#9C0006"})
    formats["check_warning"] = workbook.add_format({"bg_color": WARNING_FILL})
    return formats
