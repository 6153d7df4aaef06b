"""The consolidated CSV files, written from the frames' columns (categorical codes, numpy
arrays) a block of rows at a time, byte for byte what ``csv.writer`` writes for the same rows.

The rules are those of the outputs (``outputs.csv_safe``, ``outputs.number_text``): every field
quoted (``"`` doubled inside), a finite number as plain digits, a blank (None, NA, NaN,
infinity) as ``""``, any other value as its text with ``'`` before a leading ``= + - @``, tab or
carriage return (so that no spreadsheet runs it); CRLF after each row; UTF-8 with a BOM, a lone
surrogate written as a visible ``\\udcff``. Each distinct text (a category) is quoted once.
A differential test holds the files to ``csv.writer`` over ``itertuples``.
"""

from __future__ import annotations

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


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as CSV at ``path``: a header of its columns' names, then its rows."""
    columns = [_column_fields(frame[name]) for name in frame.columns]
    with path.open("w", encoding="utf-8-sig", newline="", errors="backslashreplace") as fh:
        fh.write(",".join(quoted(csv_safe(c)) for c in frame.columns) + "\r\n")
        for start in range(0, len(frame), BLOCK_ROWS):
            stop = min(start + BLOCK_ROWS, len(frame))
            blocks = [column(start, stop) for column in columns]
            if blocks:
                fh.write("\r\n".join(map(",".join, zip(*blocks, strict=True))) + "\r\n")
            else:  # no columns: csv.writer writes an empty line for each row
                fh.write("\r\n" * (stop - start))


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


def _column_fields(series: pd.Series) -> Callable[[int, int], Sequence[str]]:
    """Rows ``start``..``stop`` of a column as quoted fields (``sheetrows.column_blocks``:
    each value's field made once)."""
    return column_blocks(series, field, lambda x: '"' + number_text(x) + '"', '""')
