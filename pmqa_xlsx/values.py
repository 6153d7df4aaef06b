"""Values as people type them: numbers with Thai digits, thousands separators and spaces,
and numbers stored as text; and the one rule of what a number cell counts.

**A number cell counts a number only** (``cell_number``): the workbook's formulas test their
inputs with ``ISNUMBER`` (percent success, score, the form's checks), so text in a number cell,
even text that reads as a number (``"๘๕"``, ``"85"``, ``" 85 "``, ``"1,234.5"``), leaves the
percent and score blank and is flagged live, and the reader treats it the same: not counted,
and reported so the agency types it again as a number (``parse_number`` says which). Reading
such text as its number in the formulas too would take Excel's ``VALUE`` (which also reads
``50%``, ``1e5`` and dates, by the computer's locale) behind ten nested ``SUBSTITUTE``s for
the Thai digits at every reference: past Excel's formula length on a row's reason cell.

``parse_number`` accepts exactly what a person means as a number and nothing else: ``float()``
is too lenient ("nan", "inf", "1_000", any Unicode digits) and pandas' coercion too strict.
Only the ASCII digits and the Thai digits make numbers: ``10²`` is not 102 (NFKC would make it
so), and Arabic-Indic, full-width or circled digits are not digits either.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from decimal import Context, Decimal

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_MINUSES = str.maketrans({"\u2212": "-", "\u2013": "-", "\ufe63": "-", "\uff0d": "-"})
_NUMBER = re.compile(r"^[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?$|^[+-]?\.[0-9]+$")


def parse_number(value: object) -> float | None:
    """The number a cell holds or a person typed, or None if it is not one.

    Numbers pass when finite. Text passes after NFKC normalisation, Thai digits mapped to
    ASCII and surrounding spaces removed, if it is a plain decimal with proper thousands groups:
    ``"1,234.5"``, ``" ๘๕ "``, ``"-3"``. ``"50%"``, ``"N/A"``, ``"1.2.3"``, ``"1e5"`` are not.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    if not isinstance(value, str):
        return None
    if not _only_digits_we_read(value):
        return None
    text = unicodedata.normalize("NFKC", value).translate(_THAI_DIGITS).translate(_MINUSES)
    text = text.strip()
    if not _NUMBER.match(text):
        return None
    number = float(text.replace(",", ""))
    return number if math.isfinite(number) else None


def cell_number(value: object) -> float | None:
    """The number a number cell counts, as the workbook's formulas do (``ISNUMBER``): a
    finite number; None for text of any kind (``parse_number`` reads what it would mean),
    booleans, blanks and errors."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _only_digits_we_read(text: str) -> bool:
    """No digit-like character (Unicode categories Nd, No, Nl) but 0-9 and ๐-๙."""
    if text.isascii():
        return True
    return not any(unicodedata.category(ch)[0] == "N" and not ("0" <= ch <= "9" or
                                                               "๐" <= ch <= "๙")
                   for ch in text)


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def blank_flags(values: Sequence[object]) -> list[bool]:
    """``is_blank`` of each value, in one pass: the reader asks it of every input of a return
    more than once (its filled answers, their count), and a call per value costs more than
    the test."""
    return [v is None or (isinstance(v, str) and not v.strip()) for v in values]


def decimal_text(number: float, *, percent: bool = False) -> str:
    """``number`` (× 100 if ``percent``) as plain decimal digits, exactly as stored: from its
    shortest repr, at most 15 significant digits (what a spreadsheet keeps), no exponent, no
    trailing zeros (0.855 -> "0.855", as a percent "85.5"; 1e-05 -> "0.00001")."""
    exact = Decimal(repr(float(number)))
    if percent:
        exact = exact * 100
    rounded = Context(prec=15).plus(exact)
    text = format(rounded.normalize(), "f")
    return "0" if text in ("-0", "") else text
