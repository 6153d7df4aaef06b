"""Cell values as text: how the reader shows a value in a message or a record (``85.0`` as
``85``, cut short), reads a metadata value or an agency code, and takes a number or a text
from a cell that may hold anything."""

from __future__ import annotations

from math import isfinite
from typing import Any

from ..identity import normalise_code
from ..values import cell_number, is_blank


def text(value: Any) -> str | None:
    """A cell's value as stripped text (a whole number without ``.0``), None if blank."""
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def meta_text(value: Any) -> str | None:
    """A metadata value as text, cut to 256 characters (no metadata value is longer; the
    sheet can hold 32,767 per cell)."""
    found = text(value)
    return found[:256] if found is not None else None


def code(value: Any) -> str | None:
    """An agency code from a cell, in its one spelling (``identity.normalise_code``), cut to
    256 characters as metadata values are."""
    found = text(value)
    return (normalise_code(found[:256]) or None) if found is not None else None


def str_or_none(value: Any) -> str | None:
    return None if is_blank(value) else display_value(value)


def display_value(value: Any) -> str:
    """A value as a spreadsheet shows it: 85.0 as "85"."""
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e15 else repr(value)
    return str(value)


def number_or_none(value: Any) -> float | None:
    """The number a number cell counts (``values.cell_number``): text never, as in the
    workbook's formulas."""
    if value.__class__ is float:
        return value if isfinite(value) else None
    return cell_number(value)


def short(value: Any, limit: int = 60) -> str:
    """``value`` as text of at most ``limit`` characters (cut with an ellipsis)."""
    shown = str(value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
