"""Consolidated outputs: the workbook (summary, native charts, data sheets), CSV and Parquet.

The outputs of one merge are one set (``write_outputs``): every file is staged as a temporary
file beside its target and they all replace the previous ones together, or none does (an
error or an interrupt leaves the previous set as it was). Agencies' text is data: in the
workbook it is written through ``xlsxtext.Workbook`` (text stays exactly that text: never
markup, a formula or a link); in CSV every field is quoted and fields that a spreadsheet would
run as a formula are prefixed with ``'`` (OWASP's advice).

Speed: xlsxwriter (constant_memory) writes every sheet's settings, headers, the summary and
its charts; the data sheets' rows are streamed into its row files as XML from the frames'
columns (``sheetrows``: categorical codes, numpy arrays, each text escaped once), and the CSVs
likewise a block of rows at a time (``csvstream``). Both write exactly what the cell-by-cell
writer wrote (tests/report_before.py, kept as the reference; tests/test_report_writer.py).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TypedDict, TypeVar

import numpy as np
import pandas as pd
from xlsxwriter.worksheet import Worksheet

from .consolidate import Consolidated
from .csvstream import write_csv
from .layout import Layout
from .outputs import OutputSet
from .parallel import give_back_memory
from .roster import Agency
from .sheetrows import RowStream, answer_rows, frame_rows, is_plain_text
from .summary import write_summary
from .textmetrics import fit_height, lines_height
from .xlsxtext import Workbook

EXCEL_MAX_ROWS = 1_048_576
_PathT = TypeVar("_PathT", bound=str | os.PathLike[str])  # groups' keys: any one path type
#: The sheets of the consolidated workbook, in order (also how a previous one is recognised).
WORKBOOK_SHEETS = ("summary", "answers", "indicators", "problems", "returns", "scores",
                   "implausible", "changes", "score_changes")
#: The sheets of consolidated workbooks written before the scores, then the implausible sheet,
#: then the changes sheets were added.
_EARLIER_SHEETS = (WORKBOOK_SHEETS[:-4], WORKBOOK_SHEETS[:-3], WORKBOOK_SHEETS[:-2])


class _Font(TypedDict):
    """The workbook's default font, as xlsxwriter's format properties."""

    font_name: str
    font_size: int


_FONT: _Font = {"font_name": "TH Sarabun New", "font_size": 14}
_TITLE_SIZE = 18


def write_outputs(result: Consolidated, layouts: Sequence[Layout], *,
                  workbook: str | os.PathLike[str] | None = None,
                  csv_dir: str | os.PathLike[str] | None = None,
                  parquet_dir: str | os.PathLike[str] | None = None,
                  groups: Mapping[_PathT, Consolidated] | None = None,
                  roster: Sequence[Agency] | None = None,
                  deadline: date | None = None,
                  also: Sequence[tuple[Path, Path]] = ()) -> list[Path]:
    """Write the consolidated workbook, the CSV files and the Parquet files asked for, a
    consolidated workbook for each of ``groups`` (path -> that group's dataset, as
    ``groups.split_by`` makes them; their folders must exist), and ``also`` (files made
    already, each copied to where it goes: the agencies' results), as one set: all replace
    the previous ones, or none does. Returns the files written.

    ``roster`` (the agencies expected) gives the summaries' ministries and expected counts
    (each group's workbook: its own agencies'); ``deadline`` their on-time and late counts
    (see ``pmqa_xlsx.summary``)."""
    # Each workbook is closed (its package compressed) in the background while the next file
    # is written; each file's leftovers are given back before the next.
    with OutputSet() as outputs, _Closings() as closings:
        if workbook is not None:
            closings.add(_workbook(result, outputs.stage(workbook), layouts, roster, deadline))
            give_back_memory()
        for path, group in (groups or {}).items():
            closings.add(_workbook(group, outputs.stage(path), layouts,
                                   _members(roster, group), deadline))
            give_back_memory()
        if csv_dir is not None:
            Path(csv_dir).mkdir(parents=True, exist_ok=True)
            for name, frame in _frames(result):
                write_csv(frame, outputs.stage(Path(csv_dir) / f"{name}.csv"))
                give_back_memory()
        if parquet_dir is not None:
            Path(parquet_dir).mkdir(parents=True, exist_ok=True)
            for name, frame in _frames(result):
                _parquet(name, frame, outputs.stage(Path(parquet_dir) / f"{name}.parquet"))
                give_back_memory()
        for made, target in also:
            shutil.copyfile(made, outputs.stage(target))
        closings.wait()
        return outputs.commit()


class _Closings:
    """The workbooks being closed in the background, one at a time: ``add`` waits for the one
    before; ``wait`` for the last. Leaving the block otherwise (an error, an interrupt) stops
    it and waits, before the staged files are removed."""

    def __init__(self) -> None:
        self._pending: Workbook | None = None

    def __enter__(self) -> _Closings:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.abandon()

    def add(self, workbook: Workbook) -> None:
        try:
            self.wait()
        except BaseException as error:  # the one before failed: this one is not assembled
            workbook.__exit__(type(error), error, error.__traceback__)
            raise
        workbook.close_in_background()
        self._pending = workbook

    def wait(self) -> None:
        if self._pending is not None:
            self._pending.wait_closed()
            self._pending = None


def _members(roster: Sequence[Agency] | None, group: Consolidated) -> list[Agency] | None:
    """The roster's agencies in a group's dataset (its missing ones have rows too)."""
    if roster is None:
        return None
    codes = set(group.returns["agency_code"].astype(str))
    return [a for a in roster if a.code in codes]


def write_workbook(result: Consolidated, path: str | os.PathLike[str],
                   layouts: Sequence[Layout], *, roster: Sequence[Agency] | None = None,
                   deadline: date | None = None) -> None:
    """The consolidated workbook: summary with charts, then answers (one row per return),
    indicators, problems, returns, scores, the implausible indicator rows to check, and the
    changes and score changes since the previous round (empty without merge --previous)."""
    write_outputs(result, layouts, workbook=path, roster=roster, deadline=deadline)


def write_csvs(result: Consolidated, directory: str | os.PathLike[str]) -> list[Path]:
    """The frames of FRAME_NAMES as CSV: answers.csv, indicators.csv, problems.csv,
    returns.csv, scores.csv, implausible.csv, changes.csv and score_changes.csv (UTF-8,
    BOM)."""
    return write_outputs(result, [], csv_dir=directory)


def write_parquets(result: Consolidated, directory: str | os.PathLike[str]) -> list[Path]:
    """The frames of FRAME_NAMES as Parquet (needs pyarrow). In answers, ``value`` is text and
    ``value_number`` holds the numbers, since a Parquet column has one type."""
    return write_outputs(result, [], parquet_dir=directory)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``target`` that replaces it when the block succeeds."""
    with OutputSet() as outputs:
        yield outputs.stage(target)
        outputs.commit()


#: The frames written as files by write_csvs and write_parquets, by name.
FRAME_NAMES = ("answers", "indicators", "problems", "returns", "scores", "implausible",
               "changes", "score_changes")


def output_files(directory: str | os.PathLike[str], suffix: str) -> list[Path]:
    """The files write_csvs (".csv") or write_parquets (".parquet") writes into a folder."""
    return [Path(directory) / f"{name}{suffix}" for name in FRAME_NAMES]


def is_previous_output(path: str | os.PathLike[str]) -> bool:
    """Whether the file at ``path`` is what ``write_outputs`` writes: a consolidated workbook
    (by its sheets), or one of the CSV or Parquet files (by their first bytes). Only such a
    file may be replaced by a merge's output where an input could be."""
    check = _PREVIOUS_OUTPUT.get(Path(path).suffix.lower())
    try:
        return check is not None and check(Path(path))
    except Exception:  # noqa: BLE001 - a file that cannot be read as ours is not ours
        return False


def _is_workbook(path: Path) -> bool:
    with zipfile.ZipFile(path) as package, package.open("xl/workbook.xml") as member:
        data = member.read(1 << 20)
    names = re.findall(rb'<sheet name="([^"]*)"', data)
    return tuple(n.decode() for n in names) in (WORKBOOK_SHEETS, *_EARLIER_SHEETS)


def _is_csv(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(64).startswith('\ufeff"file","agency_code",'.encode())


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(4)
        handle.seek(-4, os.SEEK_END)
        return head == b"PAR1" == handle.read(4)


_PREVIOUS_OUTPUT = {".xlsx": _is_workbook, ".csv": _is_csv, ".parquet": _is_parquet}


def _workbook(result: Consolidated, path: Path, layouts: Sequence[Layout],
              roster: Sequence[Agency] | None, deadline: date | None) -> Workbook:
    """The consolidated workbook written, not yet closed: its caller closes it."""
    options = {"constant_memory": True, "default_format_properties": _FONT}
    workbook = Workbook(str(path), options)
    with contextlib.ExitStack() as unclosed:
        unclosed.push(workbook)  # its __exit__: on an error, nothing assembled
        formats = {
            "title": workbook.add_format({**_FONT, "bold": True, "font_size": _TITLE_SIZE}),
            "header": workbook.add_format({**_FONT, "bold": True, "bg_color": "#D9E1F2",
                                           "border": 1, "text_wrap": True,
                                           "valign": "top"}),
            "text": workbook.add_format({**_FONT}),
            "wrap": workbook.add_format({**_FONT, "text_wrap": True, "valign": "top"}),
            "number": workbook.add_format({**_FONT}),  # General: 4 shows as 4, 85.5 as 85.5
        }
        sheets = {name: workbook.add_worksheet(name) for name in WORKBOOK_SHEETS}
        write_summary(workbook, sheets["summary"], result, layouts, roster=roster,
                      deadline=deadline)
        give_back_memory()  # what the data-quality frames (made for the summary) let go
        _write_answers(sheets["answers"], result.answers, formats)
        give_back_memory()  # the answers' columns as cells, each a block at a time
        for name in ("indicators", "problems", "returns", "scores"):
            _write_frame(sheets[name], getattr(result, name), formats)
        _write_implausible(sheets["implausible"], result.implausible, formats)
        _write_changes(sheets["changes"], result.changes, formats, result.previous_source,
                       scores=False)
        _write_changes(sheets["score_changes"], result.score_changes, formats,
                       result.previous_source, scores=True)
        unclosed.pop_all()
    return workbook


def _parquet(name: str, frame: pd.DataFrame, path: Path) -> None:
    if name == "answers":
        frame = frame.copy()
        numbers = [v if isinstance(v, float) else None for v in frame["value"]]
        frame["value_number"] = pd.array(numbers, dtype="Float64")
        frame["value"] = pd.array([None if v is None or v is pd.NA else _utf8(str(v))
                                   for v in frame["value"]], dtype="string")
    frame.to_parquet(path, index=False)


def _utf8(text: str) -> str:
    """Text Arrow can hold: a lone surrogate written as a visible \udcff."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


# --------------------------------------------------------------------------------------------
# Private: one writer per sheet
# --------------------------------------------------------------------------------------------


def _frames(result: Consolidated) -> list[tuple[str, pd.DataFrame]]:
    return [(name, getattr(result, name)) for name in FRAME_NAMES]


def _write_answers(ws: Worksheet, answers: pd.DataFrame, formats: dict[str, Any]) -> None:
    """One row per counted return, one column per input cell; the first three rows say which
    field (item and field id), what it asks, and where it is in every return."""
    keys = ["file", "agency_code"]
    if answers.empty:
        for col, text in enumerate(keys):
            ws.write_string(0, col, text, formats["header"])
        return
    columns, field_of = _fields(answers)
    column_of = {(p, i, f): n for n, (p, i, f) in
                 enumerate(zip(columns["part"], columns["item_id"], columns["field_id"],
                               strict=True), start=len(keys))}
    ws.freeze_panes(3, 2)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 12)
    ws.set_column(2, len(column_of) + 1, _ANSWER_WIDTH)
    heads = [(col, (f"{item} {fld}", label, f"{sheet}!{cell}"))
             for (part, item, fld, label, sheet, cell) in columns.itertuples(index=False,
                                                                              name=None)
             for col in [column_of[(part, item, fld)]]]
    print_setup(ws, 0, 2, fit_width=False)
    ws.set_print_scale(_ANSWER_SCALE)  # not meant for paper: small, still readable
    ws.repeat_columns(1)  # the agency code on every page across
    # constant_memory: each row is written whole before the next one starts
    size = _FONT["font_size"]
    for row in range(3):
        ws.set_row(row, min(lines_height(_ANSWER_HEAD_LINES, size), max(
            [lines_height(1, size), *(fit_height(texts[row], (_ANSWER_WIDTH,), size, size,
                                                 bold=True) for _, texts in heads)])))
        for col, text in enumerate(keys):
            ws.write_string(row, col, text if row == 0 else "", formats["header"])
        for col, texts in heads:
            ws.write_string(row, col, texts[row], formats["header"])
    if not len(answers):
        return
    cols = field_of
    cols += len(keys)  # in place: one array as long as the answers, not two
    stream = RowStream(ws, 3, formats["text"], formats["number"])
    stream.write(answer_rows(answers, cols, 3, stream.cells))
    stream.close()


_FIELD = ["part", "item_id", "field_id"]
#: Answers looked at a time when their fields are numbered.
_FIELD_BLOCK = 1 << 16


def _fields(answers: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The answers' fields, each once in order of its first answer, with that answer's
    label, sheet and cell, as text (``answers[[...]].astype(str).drop_duplicates(subset=
    _FIELD)``); and each answer's field's place among them.

    When the field's columns are categorical of text with no blank (as consolidate makes
    them), a value is equal to another exactly when its text is: the fields are numbered
    from the codes, a block of answers at a time, and only their first rows are converted.
    """
    heads = [*_FIELD, "label", "sheet", "cell"]
    series = [answers[c] for c in _FIELD]
    if not all(isinstance(s.dtype, pd.CategoricalDtype) and is_plain_text(s) for s in series):
        columns = answers[heads].astype(str).drop_duplicates(subset=_FIELD)
        found = pd.MultiIndex.from_frame(columns[_FIELD]).get_indexer(
            pd.MultiIndex.from_arrays([s.astype(object) for s in series]))
        if (found < 0).any():
            raise KeyError("internal error: an answer of no column")
        return columns, found
    codes = [np.asarray(s.array.codes) for s in series]  # views (Series.cat.codes copies)
    sizes = [len(s.cat.categories) for s in series]
    place: dict[int, int] = {}
    firsts: list[int] = []
    found = np.empty(len(answers), dtype=np.int32)
    for start in range(0, len(answers), _FIELD_BLOCK):
        stop = start + _FIELD_BLOCK
        key = (codes[0][start:stop].astype(np.int64) * sizes[1]
               + codes[1][start:stop]) * sizes[2] + codes[2][start:stop]
        keys, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        for at in np.argsort(first, kind="stable").tolist():  # new fields, in order
            if int(keys[at]) not in place:
                place[int(keys[at])] = len(place)
                firsts.append(start + int(first[at]))
        table = np.array([place[k] for k in keys.tolist()], dtype=np.int32)
        found[start:stop] = table[inverse.reshape(-1)]
    return answers.iloc[firsts][heads].astype(str), found


#: The answers sheet's columns' width (characters), and the most lines a header row takes
#: (the question's text can be long: the rest shows in the cell, not on paper).
_ANSWER_WIDTH = 18
_ANSWER_HEAD_LINES = 3
#: The answers sheet's print scale (percent): hundreds of columns, printed across pages.
_ANSWER_SCALE = 60

#: Columns of a frame's sheet shown wide: the messages and reasons (Thai first, the English
#: beside it), and the file.
_WIDE = ("message_th", "message_en", "reason_th", "reason_en", "file")


def print_setup(ws: Worksheet, first_head: int, last_head: int, *,
                fit_width: bool = True) -> None:
    """A data sheet as it prints: A4 landscape, its columns fitted to one page wide (as many
    pages down as it needs; with ``fit_width`` False, at the sheet's scale, pages across as
    needed), its header rows (``first_head``..``last_head``) repeated on each page, gridlines
    printed, the sheet's name and page in the footer; every row at least as tall as a line
    of the font (a spreadsheet's default row is shorter than TH Sarabun New's line: the rows
    would print over each other)."""
    ws.set_default_row(lines_height(1, _FONT["font_size"]))
    ws.set_paper(9)
    ws.set_landscape()
    if fit_width:
        ws.fit_to_pages(1, 0)
    else:
        ws.print_across()  # a band of rows across all its columns, then the next band
    ws.repeat_rows(first_head, last_head)
    ws.hide_gridlines(0)  # shown, and printed
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_footer("&C&A หน้า &P")


def _heads_height(heads: Sequence[str], widths: Sequence[float]) -> float:
    """The height of a header row (bold, wrapped) that shows each head whole in its column."""
    size = _FONT["font_size"]
    return max([lines_height(1, size),
                *(fit_height(h, (w,), size, size, bold=True) for h, w in zip(
                    heads, widths, strict=True))])


def _write_frame(ws: Worksheet, frame: pd.DataFrame, formats: dict[str, Any]) -> None:
    ws.freeze_panes(1, 0)
    widths = [60 if name in _WIDE else 16 for name in frame.columns]
    print_setup(ws, 0, 0)
    ws.set_row(0, _heads_height([str(n) for n in frame.columns], widths))
    for col, name in enumerate(frame.columns):
        ws.write_string(0, col, str(name), formats["header"])
        ws.set_column(col, col, widths[col])
    limit = EXCEL_MAX_ROWS - 2
    _stream(ws, frame, 1, limit, formats,
            f"… {len(frame) - limit:,} more rows: see the CSV output")


def _stream(ws: Worksheet, frame: pd.DataFrame, first: int, limit: int,
            formats: dict[str, Any], more: str) -> None:
    """A frame's rows from row ``first`` to ``limit`` (then a line saying how many more), as
    the cell-by-cell writer wrote each cell, streamed (sheetrows)."""
    if not len(frame) or not len(frame.columns):
        return
    stream = RowStream(ws, first, formats["text"], formats["number"])
    stream.write(frame_rows(frame, first, limit, stream.cells, more))
    stream.close()


#: The implausible sheet's headings in Thai, above the columns' names.
_IMPLAUSIBLE_HEADS = {
    "file": "ไฟล์", "agency_code": "รหัสหน่วยงาน", "table_id": "ตาราง", "row": "แถว",
    "item_id": "รหัสแถว", "indicator": "ตัวชี้วัด", "unit": "หน่วยนับ", "target": "ค่าเป้าหมาย",
    "percent_success": "ร้อยละความสำเร็จ", "target_cell": "ช่องค่าเป้าหมาย",
    "result_cells": "ช่องผลการดำเนินงาน", "rule": "กฎที่พบ", "reason_th": "เหตุผล",
    "reason_en": "reason"}
_IMPLAUSIBLE_WIDE = ("file", "indicator", "result_cells", "reason_th", "reason_en")


def _write_implausible(ws: Worksheet, frame: pd.DataFrame, formats: dict[str, Any]) -> None:
    """The indicator rows to check: a title and the rules (Thai, then English), then a row of
    Thai headings over the columns' names, then the rows (or a line saying there are none)."""
    _write_titled(ws, frame, formats, "ตัวชี้วัดที่ค่าผิดปกติ ควรตรวจสอบกับหน่วยงาน / Implausible "
                  "indicators to check",
                  "เป้าหมายไม่เกิน 1 แต่ผลตั้งแต่ 10 (อาจพิมพ์ 0.8 แทน 80), ร้อยละ"
                  "ความสำเร็จตั้งแต่ 1,000% หรือสูงกว่าควอร์ไทล์ที่ 3 + 3×IQR ของทั้งรอบและเกิน "
                  "300% / a target of at most 1 with a result of 10 or more (0.8 for 80%), a "
                  "percent success of 1,000% or more, or above Q3 + 3×IQR of the round and "
                  "300%", _IMPLAUSIBLE_HEADS, _IMPLAUSIBLE_WIDE,
                  "ไม่พบตัวชี้วัดที่ค่าผิดปกติ / none found")


#: The changes and score_changes sheets' headings in Thai, above the columns' names.
_CHANGE_HEADS = {
    "file": "ไฟล์", "agency_code": "รหัสหน่วยงาน", "kind": "ชนิด (status/result)",
    "table_id": "ตาราง", "item_id": "ข้อ / รหัสแถว", "field_id": "ช่อง", "year": "ปี",
    "previous_choice": "สถานะรอบที่แล้ว", "current_choice": "สถานะรอบนี้",
    "direction": "ทิศทาง (up ดีขึ้น / down ลดลง)", "previous_value": "ค่ารอบที่แล้ว",
    "current_value": "ค่ารอบนี้", "difference": "ผลต่าง (รอบนี้ - รอบที่แล้ว)",
    "sheet": "แผ่นงาน", "cell": "ช่อง", "previous_file": "ไฟล์รอบที่แล้ว",
    "in_previous": "มีในรอบที่แล้ว", "checklist_score_previous": "คะแนนรายการตรวจ รอบที่แล้ว",
    "checklist_score": "คะแนนรายการตรวจ", "checklist_score_change": "คะแนนรายการตรวจ ผลต่าง",
    "score_72_previous": "คะแนน 7.2 รอบที่แล้ว", "score_72": "คะแนน 7.2",
    "score_72_change": "คะแนน 7.2 ผลต่าง"}
_CHANGE_WIDE = ("file", "previous_choice", "current_choice", "previous_file")


def _write_changes(ws: Worksheet, frame: pd.DataFrame, formats: dict[str, Any],
                   source: str | None, scores: bool) -> None:
    """The changes (or score_changes) since the previous round, titled like implausible."""
    if scores:
        title = "คะแนนเทียบกับรอบที่แล้ว / Scores compared with the previous round"
        rule = ("หนึ่งแถวต่อหน่วยงานที่นับผลในรอบนี้ ผลต่าง = รอบนี้ - รอบที่แล้ว / one row per "
                "agency counted in this round; change = this round - the previous")
    else:
        title = "สิ่งที่เปลี่ยนไปจากรอบที่แล้ว / Changes since the previous round"
        rule = ("สถานะรายการตรวจที่เปลี่ยน และผลของปีที่ทั้งสองรอบรายงานแต่ค่าต่างกัน เทียบตามรหัส"
                "ข้อ ตาราง แถว และปี สิ่งที่เทียบกันไม่ได้ไม่นับเป็นการเปลี่ยน / checklist statuses "
                "that changed, and results of a year both rounds report that differ, by item, "
                "table, row and year; what cannot be compared is not a change")
    if source is None:
        rule = ("ไม่ได้เทียบกับรอบที่แล้ว (รวมผลโดยไม่ได้ระบุ --previous) / not compared: "
                "merged without --previous")
    else:
        rule = f"{rule} ({source})"
    _write_titled(ws, frame, formats, title, rule, _CHANGE_HEADS, _CHANGE_WIDE,
                  "ไม่มีรายการ / none")


def _write_titled(ws: Worksheet, frame: pd.DataFrame, formats: dict[str, Any], title: str,
                  rule: str, heads: dict[str, str], wide: tuple[str, ...], none: str) -> None:
    """A title and a rule (wrapped over the columns' width, so it prints whole), then a row of
    Thai headings over the columns' names (both repeated on each printed page), then the rows
    (or ``none``); every row that wraps is as tall as its text, measured."""
    widths = [40 if name in wide else 14 for name in frame.columns]
    thai = [heads.get(str(name)) or (
        f"ผล {str(name).removeprefix('result_')}" if str(name).startswith("result_")
        else str(name)) for name in frame.columns]
    size = _FONT["font_size"]
    print_setup(ws, 3, 4)
    ws.set_row(0, lines_height(1, _TITLE_SIZE))
    ws.write_string(0, 0, title, formats["title"])
    ws.set_row(1, fit_height(rule, widths, size, size))
    if len(widths) > 1:
        ws.merge_range(1, 0, 1, len(widths) - 1, "", formats["wrap"])
    ws.write_string(1, 0, rule, formats["wrap"])
    ws.set_row(3, _heads_height(thai, widths))
    for col, head in enumerate(thai):
        ws.write_string(3, col, head, formats["header"])
        ws.set_column(col, col, widths[col])
    ws.set_row(4, _heads_height([str(n) for n in frame.columns], widths))
    for col, name in enumerate(frame.columns):
        ws.write_string(4, col, str(name), formats["header"])
    ws.freeze_panes(5, 0)
    if frame.empty:
        ws.write_string(5, 0, none, formats["text"])
        return
    limit = EXCEL_MAX_ROWS - 6
    _stream(ws, frame, 5, limit, formats,
            f"… {len(frame) - (limit - 5):,} more rows: see the CSV output")
