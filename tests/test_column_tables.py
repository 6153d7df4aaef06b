"""The coded walk over a column (``sheetrows.column_arrays``: each distinct value's field
made once, object columns told apart by each value's class) against the value-by-value walk
it spares, for the CSVs' encoded fields and the sheets' cells, over hostile values:
formula-like and markup text, control characters, lone surrogates, NA, None, NaN of several
bit patterns, infinities, -0.0, huge ints, bools, numpy scalars, subclasses of str and float,
dates, Decimals, in mixed object columns and in every other kind of column. Then whole CSV
files against the frozen row-by-row writer (tests/report_before.py), across block boundaries,
with runs of columns written as groups of fields, and the answers sheet made a few rows at a
time.
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest
from xlsxwriter.format import Format

from pmqa_xlsx import csvstream, sheetrows
from pmqa_xlsx.consolidate import Consolidated
from pmqa_xlsx.csvstream import field_bytes, number_bytes, write_csv
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.sheetrows import ValueCells, column_blocks, column_cells, object_fields

from . import report_before, test_report_writer
from .test_consolidate import returns as returns  # noqa: PLC0414 - the corpus round, reused
from .test_report_writer import ARROW_SAFE, HOSTILE
from .test_report_writer import merged as merged  # noqa: PLC0414


class Text(str):
    """A subclass of str whose text is not its value: must be written by its ``str``."""

    def __str__(self) -> str:
        return "=subclass"


class Number(float):
    """A subclass of float (as numpy's float64 is)."""


def _nan(bits: int) -> float:
    return cast(float, struct.unpack("<d", struct.pack("<Q", bits))[0])


#: Floats told apart by their bits: two zeros, NaNs of other payloads and signs.
FLOATS = [0.0, -0.0, 1.0, 4.0, 85.5, 0.1 + 0.2, 1e15, 1e16, -1e15, 5e-324, 1e-7, 1e300,
          123456789012345678.0, float("nan"), _nan(0xFFF8000000000000),
          _nan(0x7FF0000000000001), float("inf"), -float("inf")]
#: Every other kind of value an object column might hold.
OTHERS: list[Any] = [
    None, pd.NA, pd.NaT, True, False, np.bool_(False), 0, 1, -3, 2**63, -(2**63) - 1, 2**70,
    np.int16(-3), np.int64(2**62), np.uint64(2**64 - 1), np.float32(0.1), np.float64(-0.0),
    np.float64("nan"), np.float64(7.0), Number(2.5), Number(-0.0), Text("plain"),
    Decimal("1.10"), Decimal("NaN"), pd.Timestamp("2026-03-01"), np.datetime64("NaT"),
    b"bytes", ("a", 1), 1 + 2j]
TEXTS = [*HOSTILE, "0", "-0", "1.0", "inf", "NaN", "None", "<NA>", " "]
EVERYTHING = [*TEXTS, *FLOATS, *OTHERS]


def _mixed(n: int, seed: int) -> list[Any]:
    rng = np.random.default_rng(seed)
    return [EVERYTHING[i] for i in rng.integers(0, len(EVERYTHING), n)]


def columns() -> dict[str, pd.Series]:
    """Columns of every kind, each with its blanks; the object ones mixed at random."""
    n = 300
    floats = [FLOATS[i % len(FLOATS)] for i in range(n)]
    return {
        "mixed": pd.Series(_mixed(n, 1), dtype=object),
        "mixed_no_text": pd.Series([v for v in _mixed(3 * n, 2) if not isinstance(v, str)],
                                   dtype=object),
        "texts_and_blanks": pd.Series([[*TEXTS, None, pd.NA][i % (len(TEXTS) + 2)]
                                       for i in range(n)], dtype=object),
        "floats_only": pd.Series(floats, dtype=object),
        "blanks_only": pd.Series([None, pd.NA] * 20, dtype=object),
        "others_only": pd.Series(OTHERS * 3, dtype=object),
        "empty": pd.Series([], dtype=object),
        "float64": pd.Series(floats, dtype="float64"),
        "Float64": pd.Series(pd.array([None if i % 4 == 0 else floats[i]
                                       for i in range(n)], dtype="Float64")),
        "int64": pd.Series(np.arange(n, dtype="int64") * 7 - 20),
        "Int64": pd.Series(pd.array([None if i % 5 == 0 else i * 10**14 for i in range(n)],
                                    dtype="Int64")),
        "uint64": pd.Series(np.array([0, 2**64 - 1, 2**53 + 1] * 10, dtype="uint64")),
        "bool": pd.Series(np.array([i % 3 == 0 for i in range(n)])),
        "boolean": pd.Series(pd.array([None if i % 3 == 0 else i % 2 == 0 for i in range(n)],
                                      dtype="boolean")),
        "category": pd.Series(pd.Categorical([[*ARROW_SAFE, None][i % (len(ARROW_SAFE) + 1)]
                                              for i in range(n)])),
        "int_category": pd.Series(pd.Categorical([[1, 2, None][i % 3] for i in range(n)])),
        "string": pd.Series(pd.array([None if i % 6 == 0 else ARROW_SAFE[i % len(ARROW_SAFE)]
                                      for i in range(n)], dtype="string")),
        "string_python": pd.Series(pd.array([None if i % 6 == 0 else TEXTS[i % len(TEXTS)]
                                             for i in range(n)],
                                            dtype=pd.StringDtype("python"))),
        "dates": pd.Series(pd.to_datetime(["2026-01-01", None] * 5)),
    }


COLUMNS = columns()


def _blocks(walk: Any, n: int, size: int) -> list[Any]:
    out: list[Any] = []
    for start in range(0, n, size):
        out.extend(walk(start, min(start + size, n)))
    return out


@pytest.mark.parametrize("name", list(COLUMNS))
def test_csv_fields_made_once_are_those_made_value_by_value(name: str) -> None:
    series = COLUMNS[name]
    expected = [field_bytes(v) for v in series.astype(object).tolist()]
    walk = column_blocks(series, field_bytes, number_bytes, b'""')
    for size in (1, 7, 4096):
        assert _blocks(walk, len(series), size) == expected


class _Format:
    """What ValueCells asks of a format: its style id."""

    def __init__(self, xf: int) -> None:
        self.xf = xf

    def _get_xf_index(self) -> int:
        return self.xf


def _cells() -> tuple[ValueCells, list[int]]:
    started: list[int] = []
    cells = ValueCells(cast(Format, _Format(3)), cast(Format, _Format(5)),
                       lambda: started.append(1))
    return cells, started


@pytest.mark.parametrize("name", list(COLUMNS))
def test_sheet_cells_made_once_are_those_made_value_by_value(name: str) -> None:
    series = COLUMNS[name]
    general, _ = _cells()
    ref = '<c r="C' + sheetrows._ROW
    expected = [ref + cell if (cell := general(v)) else ""
                for v in series.astype(object).tolist()]
    cells, started = _cells()
    walk = column_cells(series, 2, cells)
    assert _blocks(walk, len(series), 64) == expected
    assert started == ([1] if any(expected) else [])  # the held row first, once


def test_object_values_are_told_apart_by_class_and_bits() -> None:
    """Equal values of other classes (1, 1.0, True; 0.0, -0.0; a str and its subclass) each
    keep their own field; every NaN and every blank is one blank."""
    values = np.empty(10, dtype=object)
    values[:] = [1, 1.0, True, 0.0, -0.0, "plain", Text("plain"), float("nan"), None, pd.NA]
    of_value = repr
    fields = object_fields(values, of_value, sheetrows._Kept(of_value),
                           sheetrows._Kept(lambda x: f"number {x!r}" if math.isfinite(x)
                                           else "blank"), "blank")
    assert fields.tolist() == [
        "1", "number 1.0", "True", "number 0.0", "number -0.0", "'plain'", "'plain'",
        "blank", "blank", "blank"]


@pytest.mark.parametrize("answers", [1, 7, 400])
def test_answers_made_a_few_rows_at_a_time_written_as_before(
        answers: int, merged: Consolidated, layout: Layout, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The answers sheet made a run of rows at a time, the runs shorter than a row, about
    one row, or a few: in order, out of order, twice in one cell, a return split."""
    monkeypatch.setattr(sheetrows, "BLOCK_ANSWERS", answers)
    test_report_writer.test_answers_out_of_order_twice_and_split_written_as_before(
        merged, layout, tmp_path)


def _frame(n: int) -> pd.DataFrame:
    cols = {name: series.iloc[np.arange(n) % max(len(series), 1)].reset_index(drop=True)
            for name, series in COLUMNS.items() if len(series)}
    return pd.DataFrame(cols)


@pytest.mark.parametrize("rows", [0, 1, 5, 64])
@pytest.mark.parametrize("block", [1, 3, 8192])
def test_csv_files_written_as_before(rows: int, block: int, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csvstream, "BLOCK_ROWS", block)
    frame = _frame(rows)
    hostile_names = frame.copy()
    hostile_names.columns = pd.Index([TEXTS[i % len(TEXTS)] + str(i)
                                      for i in range(len(frame.columns))], dtype=object)
    frames = {"all": frame, "no_columns": frame[[]], "hostile_names": hostile_names}
    for name, each in frames.items():
        write_csv(each, tmp_path / f"{name}.new")
        report_before._csv(each, tmp_path / f"{name}.old")
        assert (tmp_path / f"{name}.new").read_bytes() == \
            (tmp_path / f"{name}.old").read_bytes(), name


def _few(n: int, values: list[Any], step: int) -> list[Any]:
    return [values[(i // step) % len(values)] for i in range(n)]


@pytest.mark.parametrize("block", [64, 8192])
def test_csv_columns_of_few_combinations_joined_as_one_written_as_before(
        block: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs of categorical and text columns of few combinations (NA among them, hostile
    text) are written as one group of fields: the file is the frozen writer's, across
    blocks, with a column of many values breaking a run and a run at the end."""
    monkeypatch.setattr(csvstream, "BLOCK_ROWS", block)
    n = 1000
    frame = pd.DataFrame({
        "file": pd.Categorical(_few(n, ["a.xlsx", "=b.xlsx", None], 50)),
        "code": pd.array(_few(n, ["03005", None, '"q"'], 50), dtype="string"),
        "part": pd.Categorical(_few(n, ["หมวด 1", "@2"], 7)),
        "many": pd.Categorical([f"v{i}" for i in range(n)]),
        "kind": pd.array(_few(n, [*ARROW_SAFE[:3], None], 3), dtype="string"),
        "label": pd.Categorical(_few(n, ["-1", "\t", "x,y", "\r\n"], 3)),
        "value": pd.Series(_mixed(n, 3), dtype=object),
        "sheet": pd.Categorical(_few(n, ["s1", None], 11)),
        "cell": pd.Categorical(_few(n, ["A1", "B2", "C3"], 11)),
    })
    walks = csvstream.column_walks(frame)
    groups = [len(w.columns) for w in walks if isinstance(w, csvstream.FieldGroup)]
    assert groups == [3, 2, 2]  # file, code, part | many | kind, label | value | sheet, cell
    write_csv(frame, tmp_path / "new.csv")
    report_before._csv(frame, tmp_path / "old.csv")
    assert (tmp_path / "new.csv").read_bytes() == (tmp_path / "old.csv").read_bytes()
