"""The consolidated workbook's large data sheets, streamed: their rows as sheet XML, from the
frames' columns (categorical codes, numpy arrays), written into xlsxwriter's own row stream.

xlsxwriter (through ``xlsxtext.Workbook``, ``constant_memory``) still writes every sheet and
everything about it: widths, heights, freeze panes, print setup, footers, header rows, the
summary and its charts. Only the data rows below the headers come from here, and they are the
bytes xlsxwriter would write for the same cells (a differential test holds every part of the
package to the cell-by-cell writer): ``<row>`` with the sheet's default height, each cell with
its style id, numbers as ``<v>`` (``%.16G``; NaN and infinities blank), everything else as an
inline string, never a formula, never a link.

Text is escaped here, always, the one way: ``xlsxtext.ooxml_text`` (``&<>``; control
characters, lone surrogates and U+FFFE/U+FFFF as ``_xHHHH_``; the underscore of a literal
``_xHHHH_`` as ``_x005F_``), cut first to Excel's 32,767 UTF-16 units, ``xml:space="preserve"``
for leading or trailing white space. Each distinct text (a category, a value) is escaped once.

How a sheet is handed over (``RowStream``): after xlsxwriter has written the header rows, the
pending row is flushed (``_write_single_row``, as xlsxwriter does when a later row starts), the
streamed rows are appended to the sheet's row file, and the sheet's dimensions are extended to
the last cell written (``_check_dimensions``), so that ``<dimension>`` is what xlsxwriter
would compute. These are xlsxwriter 3.x internals of constant_memory mode; the differential
test is what says they still hold.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from itertools import repeat
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from .errors import PmqaError
from .words import Words
from .xlsxtext import _fit_cell, t_element

#: Rows turned into XML at a time (bounds the memory of a block's per-cell strings).
BLOCK_ROWS = 4096
#: Answers made into the answers sheet's rows at a time (whole rows: at least one).
BLOCK_ANSWERS = 1 << 16
#: Characters of rows' XML gathered before they are written to the sheet's row file.
WRITE_CHARS = 1 << 20
#: Distinct texts whose cells are kept for reuse (then forgotten: memory stays bounded).
_TEXTS_KEPT = 1 << 16
#: Fields a column's walk keeps from one block for the next ones (then forgotten: agencies'
#: free texts are mostly distinct, and a kept field is a copy of its text).
KEPT = 1 << 13
# In a row's or a cell's XML, where the row number goes: a character escaped text never holds
# (ooxml_text writes every control character as _xHHHH_), replaced once per row.
_ROW = "\x00"
#: A column's field: str (the sheets' cells) or bytes (the CSVs' fields).
T = TypeVar("T", str, bytes)


#: The xlsxwriter internals a row stream uses (constant_memory mode, xlsxwriter 3.x).
XLSXWRITER_INTERNALS = ("_write_single_row", "_check_dimensions", "row_data_fh",
                        "previous_row")


def check_internals(ws: Worksheet) -> None:
    """Refuse, before any row is streamed, an xlsxwriter whose worksheet lacks the internals
    the row stream relies on (a version other than the 3.x pyproject.toml allows): a message
    saying what to install, not a half-written workbook (the outputs are staged: nothing of
    the merge's previous outputs is touched)."""
    missing = [name for name in XLSXWRITER_INTERNALS if not hasattr(ws, name)]
    if missing:
        import xlsxwriter

        version = getattr(xlsxwriter, "__version__", "?")
        raise PmqaError(Words(
            f"xlsxwriter รุ่น {version} ที่ติดตั้งไว้ไม่ตรงกับที่โปรแกรมนี้ใช้ "
            "(ต้องเป็นรุ่น 3.x) ให้ติดตั้งใหม่ด้วยคำสั่ง pip install 'xlsxwriter>=3.2,<4' แล้วสั่ง "
            "merge อีกครั้ง",
            f"the installed xlsxwriter {version} lacks "
            f"what this program uses ({', '.join(missing)}; it needs 3.x): install "
            "'xlsxwriter>=3.2,<4' and merge again"))


def text_tail(text: str) -> str:
    """The inline string element of a cell holding ``text``: ``<is><t>…</t></is></c>``, the
    text cut to Excel's limit and escaped by ``xlsxtext.t_element`` (its one way)."""
    return "<is>" + t_element(_fit_cell(text)).decode() + "</is></c>"


class ValueCells:
    """A cell's XML after its reference (``"`` closes the reference), from a value as the
    cell-by-cell writer wrote it (tests/report_before.py: ``_write_value``): str as text; a
    finite number (bool aside) as a number; None, NA, NaN and infinities blank (``""``);
    anything else as its ``str``. Text is escaped once per distinct text.

    The style ids are those xlsxwriter gave the text and number formats, taken when the
    first cell is made (``start`` is called first: it writes the row xlsxwriter holds), as
    xlsxwriter takes them when it writes that cell: ids are given in the order of first use.
    """

    def __init__(self, text: Format, number: Format, start: Callable[[], None]) -> None:
        self._formats = (text, number)
        self._start = start
        self._text_head: str | None = None
        self._number_head = ""
        self._texts: dict[str, str] = {}

    def _heads(self) -> str:
        self._start()
        text, number = (f._get_xf_index() for f in self._formats)
        self._number_head = f'" s="{number}"><v>'
        self._text_head = f'" s="{text}" t="inlineStr">'
        return self._text_head

    def text(self, text: str) -> str:
        cell = self._texts.get(text)
        if cell is None:
            if len(self._texts) >= _TEXTS_KEPT:
                self._texts.clear()
            head = self._text_head or self._heads()
            cell = self._texts[text] = head + text_tail(text)
        return cell

    def number(self, number: float) -> str:
        if self._text_head is None:
            self._heads()
        return f"{self._number_head}{number:.16G}</v></c>"

    def __call__(self, value: Any) -> str:
        kind = value.__class__
        if kind is str:
            return self.text(value)
        if kind is float:
            return self.number(value) if math.isfinite(value) else ""
        if value is None or value is pd.NA:
            return ""
        if not isinstance(value, bool) and isinstance(value, numbers.Real):
            number = float(value)
            return self.number(number) if math.isfinite(number) else ""
        return "" if isinstance(value, float) else self.text(str(value))


def column_cells(series: pd.Series, col: int, cells: ValueCells
                 ) -> Callable[[int, int], Sequence[str]]:
    """A function giving rows ``start``..``stop`` of a frame's column as cells' XML (the
    reference's row left as a marker; ``""`` for a blank), as the cell-by-cell writer wrote
    ``frame[c].astype(object).tolist()`` (``column_blocks``)."""
    ref = f'<c r="{xl_col_to_name(col)}{_ROW}'
    number = cells.number
    return column_blocks(series, lambda v: ref + cell if (cell := cells(v)) else "",
                         lambda x: ref + number(x), "")


def column_blocks(series: pd.Series, of_value: Callable[[Any], T],
                  of_number: Callable[[float], T], blank: T
                  ) -> Callable[[int, int], list[T]]:
    """A function giving rows ``start``..``stop`` of a column, each as ``of_value`` of its
    value (``series.astype(object)``'s), the sheets' and the CSVs' one walk over a column
    (``column_arrays``)."""
    arrays = column_arrays(series, of_value, of_number, blank)
    return lambda start, stop: arrays(start, stop).tolist()


def column_arrays(series: pd.Series, of_value: Callable[[Any], T],
                  of_number: Callable[[float], T], blank: T
                  ) -> Callable[[int, int], np.ndarray]:
    """A function giving rows ``start``..``stop`` of a column as an object array of
    ``of_value`` of each value (``series.astype(object)``'s), each distinct value's made
    once: categorical and text columns from their codes (``of_value`` once per category,
    ``blank`` for NA); numeric ones from a float array (``of_number`` once per distinct
    finite number, told apart by its bits, ``blank`` for NaN, NA and infinities); numpy's
    object columns by the class of each value (``object_fields``); any other dtype (bool,
    dates) value by value. What is made from a block's values is kept for the next blocks
    while no more than ``KEPT`` are (memory stays bounded by a block's)."""
    dtype = series.dtype
    coded = column_codes(series, of_value, blank)
    if coded is not None:
        codes, table = coded
        return lambda start, stop: table[codes[start:stop]]
    numbers = _Kept(lambda x: of_number(x) if math.isfinite(x) else blank)
    if dtype.kind in "iuf":  # numpy's and pandas' nullable numbers (NA: NaN, blank)
        array = series.array  # as floats a block at a time: no copy as long as the column

        def numbers_of(start: int, stop: int) -> np.ndarray:
            floats = array[start:stop].to_numpy(dtype="float64", na_value=np.nan)
            return _numbers(np.ascontiguousarray(floats), numbers)
        return numbers_of
    if isinstance(dtype, np.dtype) and dtype.kind == "O":  # numpy's object arrays
        objects = series.to_numpy(dtype=object)
        texts = _Kept(of_value)
        return lambda start, stop: object_fields(objects[start:stop], of_value, texts,
                                                 numbers, blank)

    def values_of(start: int, stop: int) -> np.ndarray:
        return _table([of_value(v) for v in series.iloc[start:stop].astype(object).tolist()])
    return values_of


def column_codes(series: pd.Series, of_value: Callable[[Any], T], blank: T
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """A categorical or text column as ``(codes, table)``: ``table[codes]`` is ``of_value``
    of each value, made once per category (code -1, NA, takes the last entry: ``blank``);
    None for a column of another dtype."""
    dtype = series.dtype
    if not isinstance(dtype, pd.CategoricalDtype | pd.StringDtype):
        return None
    values: list[Any]
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.asarray(series.array.codes)  # a view (Series.cat.codes copies)
        values = pd.Series(dtype.categories).astype(object).tolist()
    else:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        values = pd.Series(uniques).astype(object).tolist()
    return codes, _table([*(of_value(v) for v in values), blank])


def object_fields(values: np.ndarray, of_value: Callable[[Any], T], texts: _Kept[T],
                  numbers: _Kept[T], blank: T) -> np.ndarray:
    """``[of_value(v) for v in values]`` as an object array, by the class of each value:
    every str (that class exactly) told apart from the others by its text, ``of_value``
    once per distinct text (``texts``); every float (exactly) by its bits, as a number
    column's (``numbers``); None and NA ``blank``; any other value (a subclass of str or
    float, an int, a bool, numpy's scalars, dates…) ``of_value`` of it, value by value."""
    n = len(values)
    kinds = np.fromiter(map(_KINDS.get, map(type, values), repeat(_OTHER)), dtype=np.int8,
                        count=n)
    out = np.full(n, blank, dtype=object)
    is_str = kinds == _KINDS[str]
    if is_str.any():
        codes, found = pd.factorize(values[is_str], use_na_sentinel=False)
        distinct = found.tolist()
        out[is_str] = texts.table(distinct, distinct)[codes]
    is_float = kinds == _KINDS[float]
    if is_float.any():
        out[is_float] = _numbers(values[is_float].astype(np.float64), numbers)
    other = kinds == _OTHER
    if other.any():
        out[other] = _table([of_value(v) for v in values[other].tolist()])
    return out


#: The classes ``object_fields`` tells apart, by a code each (by identity: a class, not its
#: subclasses); None and NA share the code of a blank.
_KINDS: dict[type, int] = {str: 0, float: 1, type(None): 2, type(pd.NA): 2}
_OTHER = 3


class _Kept(Generic[T]):
    """What ``make`` gives for each key (a text; a number's bits), made once while kept:
    forgotten all at once past ``KEPT``, so that memory stays bounded."""

    def __init__(self, make: Callable[[Any], T]) -> None:
        self._make: Callable[[Any], T] = make
        self._made: dict[Any, T] = {}

    def table(self, keys: list[Any], values: list[Any]) -> np.ndarray:
        """``make`` of each of ``values`` (told apart by ``keys``), as an object array."""
        made = self._made
        if len(made) + len(keys) > KEPT:
            made.clear()
        out: list[T] = []
        for key, value in zip(keys, values, strict=True):
            field = made.get(key)
            if field is None:
                field = made[key] = self._make(value)
            out.append(field)
        return _table(out)


def _numbers(floats: np.ndarray, kept: _Kept[T]) -> np.ndarray:
    """A float array's fields (``kept``'s), each distinct value's made once, told apart by
    their bits (so that -0.0 and 0.0 stay two values)."""
    codes, bits = pd.factorize(floats.view(np.int64), use_na_sentinel=False)
    return kept.table(bits.tolist(), bits.view(np.float64).tolist())[codes]


def _table(made: list[Any]) -> np.ndarray:
    """``made`` as an object array (never split into characters or bytes)."""
    table = np.empty(len(made), dtype=object)
    table[:] = made
    return table


class RowStream:
    """Data rows appended to one constant_memory worksheet below what xlsxwriter wrote."""

    def __init__(self, ws: Worksheet, first_row: int, text: Format, number: Format) -> None:
        check_internals(ws)
        self.ws = ws
        self.first_row = self.next_row = first_row
        self.last_row: int | None = None
        self.cols: set[int] = set()
        self.started = False
        self.cells = ValueCells(text, number, self.start)
        self._open = f'<row r="{_ROW}"{_row_attributes(ws)}>'

    def start(self) -> None:
        """Write the row xlsxwriter holds (the last header row), as it does when a cell of a
        later row is written: before the first data cell."""
        if not self.started:
            self.started = True
            self.ws._write_single_row(self.first_row)

    def write(self, rows: Iterator[tuple[int, list[int], str | list[str]]]) -> None:
        """Write ``(row, columns written, cells' XML)`` (rows ascending, from ``first_row``;
        the columns: all of them, or at least the row's first and last, as only those extend
        the sheet's dimensions; the XML: one text with the row's number left as a marker, or
        a list of pieces with the number in place; a row with no cell is not written, as
        xlsxwriter writes none)."""
        out: list[str] = []
        size = 0
        fh = self.ws.row_data_fh
        head, tail = self._open.split(_ROW)
        for row, cols, body in rows:
            if row < self.next_row:
                raise ValueError(f"internal error: row {row} after row {self.next_row - 1}")
            self.next_row = row + 1
            if not body:
                continue
            self.start()
            self.last_row = row
            self.cols.update(cols)
            number = str(row + 1)
            out += (head, number, tail)
            if body.__class__ is str:
                out.append(body.replace(_ROW, number))
                size += len(body)
            else:
                out += body
                size += len(body) << 6  # pieces: a cell's reference, its number, the rest
            out.append("</row>")
            if size >= WRITE_CHARS:
                fh.write("".join(out))
                out, size = [], 0
        fh.write("".join(out))

    def close(self) -> None:
        """The sheet's dimensions extended to the cells written; xlsxwriter's next row after."""
        ws = self.ws
        if self.last_row is None:  # nothing written: the sheet is as xlsxwriter left it
            return
        for col in (min(self.cols), max(self.cols)):
            if ws._check_dimensions(self.last_row, col):
                raise ValueError(f"internal error: cell ({self.last_row}, {col}) is "
                                 "outside the sheet")
        ws.previous_row = self.next_row


def frame_rows(frame: pd.DataFrame, first_row: int, limit: int, cells: ValueCells,
               more: str) -> Iterator[tuple[int, list[int], str]]:
    """A frame's rows from ``first_row``, each as ``(row, its columns, cells' XML)``; past
    row ``limit``, one row with the text ``more`` in its first cell and no further."""
    columns = [column_cells(frame[name], col, cells) for col, name in enumerate(frame.columns)]
    everything = list(range(len(columns)))
    total = len(frame)
    last = min(total, limit - first_row + 1)  # the frame's rows that fit
    for start in range(0, last, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, last)
        blocks = [column(start, stop) for column in columns]
        written = [col for col, block in enumerate(blocks) if any(block)]
        for row, values in enumerate(zip(*blocks, strict=True), start=first_row + start):
            body = "".join(values)
            yield row, (written if len(written) < len(everything) else everything), body
    if total > last:
        row = first_row + last
        yield row, [0], f'<c r="A{_ROW}' + cells.text(more)


def answer_rows(answers: pd.DataFrame, cols: np.ndarray, first_row: int,
                cells: ValueCells) -> Iterator[tuple[int, list[int], list[str]]]:
    """The answers sheet's rows, as the cell-by-cell writer wrote them: a row for each run
    of answers of one (file, agency code), its file and code in the first two columns, each
    answer in its field's column (``cols``, one per answer); a blank answer writes no cell,
    and of two answers in one cell the later one stays.

    The rows are made a run of rows at a time (about ``BLOCK_ANSWERS`` answers): their
    answers' cells from the values' column (``column_arrays``: each distinct text escaped
    once, each distinct number formatted once), the blank ones dropped, each row given as
    its cells' pieces (reference, row number, the rest) for ``RowStream.write`` to join."""
    n = len(answers)
    if n == 0:
        return
    files = _codes(answers["file"])
    agency = answers["agency_code"]
    if not is_plain_text(agency):
        agency = agency.astype(str)
    agencies = _codes(agency)
    new_row = np.r_[True, (files[1:] != files[:-1]) | (agencies[1:] != agencies[:-1])]
    starts = np.flatnonzero(new_row)
    file_texts = answers["file"].iloc[starts].tolist()
    code_texts = agency.iloc[starts].tolist()
    in_order = bool(np.all((cols[1:] > cols[:-1]) | new_row[1:]))
    values = column_arrays(answers["value"], cells, cells.number, "")
    refs = _table([f'<c r="{xl_col_to_name(c)}' for c in range(int(cols.max()) + 1)])
    text = cells.text
    ends = [*starts[1:].tolist(), n]
    k = 0
    while k < len(starts):
        begin = int(starts[k])  # rows k..last-1: answers begin..end
        last = len(starts) if n - begin <= BLOCK_ANSWERS else max(
            k + 1, int(np.searchsorted(starts, begin + BLOCK_ANSWERS, "right")) - 1)
        end = ends[last - 1]
        tails = values(begin, end)
        row_of = np.cumsum(new_row[begin:end]) - 1
        at = np.flatnonzero(np.fromiter(map(bool, tails), dtype=bool, count=end - begin))
        at_cols = cols[begin:end][at]
        if not in_order:  # some row has answers out of column order, or two in one cell:
            # by row, then column, then as they came; of one cell's, the last stays
            at = at[np.lexsort((at, at_cols, row_of[at]))]
            rows_at, at_cols = row_of[at], cols[begin:end][at]
            keep = np.r_[(rows_at[1:] != rows_at[:-1]) | (at_cols[1:] != at_cols[:-1]), True]
            at, at_cols = at[keep], at_cols[keep]
        # each written answer's reference, its row's number (set below), then its cell
        items: list[str] = [""] * (3 * len(at))
        items[0::3] = refs[at_cols].tolist()
        items[2::3] = tails[at].tolist()
        last_cols = at_cols.tolist()
        bounds = np.searchsorted(row_of[at], np.arange(last - k + 1)).tolist()
        for j in range(last - k):
            a, b = bounds[j], bounds[j + 1]
            row = first_row + k + j
            number = str(row + 1)
            items[3 * a + 1:3 * b:3] = [number] * (b - a)
            body = ['<c r="A', number, text(file_texts[k + j]), '<c r="B', number,
                    text(code_texts[k + j]), *items[3 * a:3 * b]]
            yield row, ([0, 1, last_cols[b - 1]] if b > a else [0, 1]), body
        k = last


def is_plain_text(series: pd.Series) -> bool:
    """Whether every value of ``series`` is a str (categorical of text, or text, no blank):
    ``series.astype(str)`` would give the same values."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        return bool((np.asarray(series.array.codes) >= 0).all()) and (
            isinstance(categories.dtype, pd.StringDtype)
            or all(c.__class__ is str for c in categories))
    return isinstance(dtype, pd.StringDtype) and not bool(series.isna().any())


def _codes(series: pd.Series) -> np.ndarray:
    """Integer codes equal where the values are equal (NA as -1): a categorical's own."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return np.asarray(series.array.codes)  # a view (Series.cat.codes copies)
    codes, _ = pd.factorize(series, use_na_sentinel=True)
    return np.asarray(codes)


def _row_attributes(ws: Worksheet) -> str:
    """The attributes of a ``<row>`` that has no settings of its own, as xlsxwriter 3 writes
    them (``Worksheet._write_row`` without row_info or spans)."""
    height = ws.default_row_height
    attributes = ""
    if height != ws.original_row_height:  # the sheet's default row, set: every row says it
        attributes += f' ht="{height * 0.75:.16g}" customHeight="1"'
    if ws.excel_version == 2010:
        attributes += ' x14ac:dyDescent="0.25"'
    return attributes
