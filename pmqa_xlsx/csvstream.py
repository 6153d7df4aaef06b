"""The consolidated CSV files, written from the frames' columns (categorical codes, numpy
arrays) a block of rows at a time, byte for byte what ``csv.writer`` writes for the same rows.

The rules are those of the outputs (``outputs.csv_safe``, ``outputs.number_text``): every field
quoted (``"`` doubled inside), a finite number as plain digits, a blank (None, NA, NaN,
infinity) as ``""``, any other value as its text with ``'`` before a leading ``= + - @``, tab or
carriage return (so that no spreadsheet runs it); CRLF after each row; UTF-8 with a BOM, a lone
surrogate written as a visible ``\\udcff``. Each distinct text (a category, a text of an object
column) and each distinct number is quoted and encoded once (``sheetrows.column_table``), and
the rows are joined as bytes. A differential test holds the files to ``csv.writer`` over
``itertuples``.
"""

from __future__ import annotations

import codecs
import math
import numbers
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .outputs import csv_safe, number_text
from .sheetrows import column_blocks

#: Rows joined and written at a time.
BLOCK_ROWS = 8192
#: How every field is encoded: UTF-8, a lone surrogate as a visible ``\\udcff`` (the same,
#: field by field, as the whole file through ``encoding="utf-8", errors="backslashreplace"``:
#: UTF-8 has no state from one character to the next).
ERRORS = "backslashreplace"
_BLANK = b'""'


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as CSV at ``path``: a header of its columns' names, then its rows."""
    columns = [_column_fields(frame[name]) for name in frame.columns]
    header = ",".join(quoted(csv_safe(c)) for c in frame.columns) + "\r\n"
    with path.open("wb") as fh:
        fh.write(codecs.BOM_UTF8 + header.encode("utf-8", ERRORS))
        for start in range(0, len(frame), BLOCK_ROWS):
            stop = min(start + BLOCK_ROWS, len(frame))
            blocks = [column(start, stop) for column in columns]
            if blocks:
                fh.write(b"\r\n".join(map(b",".join, zip(*blocks, strict=True))) + b"\r\n")
            else:  # no columns: csv.writer writes an empty line for each row
                fh.write(b"\r\n" * (stop - start))


def quoted(text: str) -> str:
    """A field as csv.writer writes it with QUOTE_ALL."""
    return '"' + text.replace('"', '""') + '"'


def field(value: Any) -> str:
    """A value's field, quoted, as the row-by-row writer made it (tests/report_before.py:
    ``_csv_field``, then csv.writer)."""
    if value is None or value is pd.NA:
        return '""'
    if not isinstance(value, bool) and isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number):
            return '"' + number_text(number) + '"'
    if isinstance(value, float):  # NaN, infinities
        return '""'
    return quoted(csv_safe(value))


def field_bytes(value: Any) -> bytes:
    """``field`` encoded as the file is."""
    return field(value).encode("utf-8", ERRORS)


def number_bytes(number: float) -> bytes:
    """A finite number's field, encoded (digits, ``.``, ``e``, ``-``, ``+``: ASCII)."""
    return ('"' + number_text(number) + '"').encode("ascii")


def _column_fields(series: pd.Series) -> Callable[[int, int], Sequence[bytes]]:
    """Rows ``start``..``stop`` of a column as quoted, encoded fields
    (``sheetrows.column_blocks``: each distinct value's field made once)."""
    return column_blocks(series, field_bytes, number_bytes, _BLANK)
