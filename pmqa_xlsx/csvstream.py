"""The consolidated CSV files, written from the frames' columns (categorical codes, numpy
arrays) a block of rows at a time, byte for byte what ``csv.writer`` writes for the same rows.

The rules are those of the outputs (``outputs.csv_safe``, ``outputs.number_text``): every field
quoted (``"`` doubled inside), a finite number as plain digits, a blank (None, NA, NaN,
infinity) as ``""``, any other value as its text with ``'`` before a leading ``= + - @``, tab or
carriage return (so that no spreadsheet runs it); CRLF after each row; UTF-8 with a BOM, a lone
surrogate written as a visible ``\\udcff``. Each distinct text (a category, a text of an object
column) and each distinct number is quoted and encoded once (``sheetrows.column_arrays``), a
run of categorical columns of few combinations is joined once per combination
(``FieldGroup``), and the rows are joined as bytes. Differential tests hold the files to
``csv.writer`` over ``itertuples``.
"""

from __future__ import annotations

import codecs
import math
import numbers
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from .outputs import csv_safe, number_text
from .sheetrows import KEPT, column_blocks, column_codes

#: Rows joined and written at a time.
BLOCK_ROWS = 8192
#: How every field is encoded: UTF-8, a lone surrogate as a visible ``\\udcff`` (the same,
#: field by field, as the whole file through ``encoding="utf-8", errors="backslashreplace"``:
#: UTF-8 has no state from one character to the next).
ERRORS = "backslashreplace"
_BLANK = b'""'


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as CSV at ``path``: a header of its columns' names, then its rows."""
    columns = column_walks(frame)
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


def column_walks(frame: pd.DataFrame) -> list[Callable[[int, int], Sequence[bytes]]]:
    """Functions giving rows ``start``..``stop`` of a frame's columns as fields, one per
    column, except that a run of adjacent categorical (or text) columns whose values come in
    few combinations (an answer's file and agency code; its part, item, field, kind and
    label) is one function whose fields are the columns' joined by ``,`` (``FieldGroup``):
    one field a row for the run, not one a column. Which columns join is decided on the
    first block's rows: a column joins the run before it while the run's combinations there
    number at most one for ``GROUP_RATIO`` rows."""
    first = min(len(frame), BLOCK_ROWS)
    coded = [column_codes(frame[name], field_bytes, _BLANK) for name in frame.columns]
    walks: list[Callable[[int, int], Sequence[bytes]]] = []
    col = 0
    while col < len(coded):
        found = coded[col]
        end = col + 1
        if found is not None and first >= GROUP_RATIO:
            run = [found]
            key = _key(run, 0, first)
            while end < len(coded) and (more := coded[end]) is not None \
                    and math.prod(len(t) for _, t in [*run, more]) < 1 << 62:
                trial = key * len(more[1]) + more[0][:first].astype(np.int64) % len(more[1])
                if len(pd.unique(trial)) * GROUP_RATIO > first:
                    break
                run.append(more)
                key = trial
                end += 1
            if len(run) > 1:
                walks.append(FieldGroup(run))
                col = end
                continue
        walks.append(_column_fields(frame[frame.columns[col]]))
        col = end
    return walks


#: Rows a combination of a run of categorical columns stands for, at least, in the first
#: block, for the run to be written as one group of fields (``column_walks``).
GROUP_RATIO = 8


class FieldGroup:
    """A run of coded columns (``sheetrows.column_codes``: codes, and a table of fields)
    written as one: rows ``start``..``stop`` as the columns' fields joined by ``,``, each
    combination's joined once (kept for later blocks while no more than ``KEPT`` are)."""

    def __init__(self, columns: list[tuple[np.ndarray, np.ndarray]]) -> None:
        self.columns = columns
        self._kept: dict[int, bytes] = {}

    def __call__(self, start: int, stop: int) -> list[bytes]:
        found, keys = pd.factorize(_key(self.columns, start, stop), use_na_sentinel=False)
        kept = self._kept
        if len(kept) > KEPT:
            kept.clear()
        fields: list[bytes] = []
        for key in keys.tolist():
            field = kept.get(key)
            if field is None:
                parts: list[bytes] = []
                rest = key
                for _, table in reversed(self.columns):
                    rest, at = divmod(rest, len(table))
                    parts.append(table[at])
                field = kept[key] = b",".join(reversed(parts))
            fields.append(field)
        table = np.empty(len(fields), dtype=object)
        table[:] = fields
        return cast(list[bytes], table[found].tolist())


def _key(columns: list[tuple[np.ndarray, np.ndarray]], start: int, stop: int) -> np.ndarray:
    """Rows ``start``..``stop`` of a run of coded columns as one integer each, their codes'
    mixed radix (code -1, NA, as the last entry of its table: its blank field)."""
    key = np.zeros(stop - start, dtype=np.int64)
    for codes, table in columns:
        key *= len(table)
        key += codes[start:stop].astype(np.int64) % len(table)
    return key
