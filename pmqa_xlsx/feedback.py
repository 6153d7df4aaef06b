"""Feedback copies: for every return with problems, a copy of the agency's own file that shows
them, to fix and send back.

This module owns the copy: its first sheet (``FEEDBACK_SHEET``, placed first and active) lists
every problem of the return with a link to its cell, its severity and the Thai message, under
a heading that says what to do; each problem cell is marked with a fill (light red for an
error, orange for a warning) and a note in Thai (an agency's own note kept above ours); a
number that Excel re-formatted as a percentage or a date gets the form's number format back and
its stored value removed, what the cell showed quoted in the note with what to type instead,
from the stored number at full precision (``decimal_text``); a number a format hid gets the
form's format back and is kept. Every merged range over an input is unmerged. The copy says
which input it is of (``copy_of``), and a copy replaces only an earlier copy: never an input,
another output of the command or any other file (``check_feedback_dir``).

The copy is the agency's workbook loaded and saved by openpyxl (only files whose package the
reader opened: a file it refused as a whole gets no copy, and the result says why). What
openpyxl drops is put back or harmless: the ``ignoredErrors`` of each sheet (Excel's green
triangles on codes stored as text) are copied from the original's parts; cached formula
results are dropped, so the copy asks for a full calculation on load; the details of
``docProps/app.xml`` are not kept. Protection, validations, conditional formats, defined names,
the very hidden metadata sheet and its token stay as they were (tests/test_feedback.py compares
them). Every text written is stored as a string, never a formula or a link; links go to cells
of the copy only (``location``, never a target). The copy is written atomically; the input is
never modified.

The reader ignores the list sheet by its reserved name and the marker in its hidden column
(``read/reader.py``), and the notes' legacy drawing draws nothing over the form (notes are
kept closed), so a copy fixed and sent back is read as a normal return.
"""

from __future__ import annotations

import copy
import io
import os
import re
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .errors import PmqaError
from .inputs import InputFile, path_text
from .layout import (
    FEEDBACK_MARKER,
    FEEDBACK_MARKER_AT,
    FEEDBACK_SHEET,
    META_SHEET,
    Layout,
)
from .numfmt import format_kind, render, shows_as
from .outputs import atomic_write
from .parallel import worker_count, worker_pool
from .problems import CATALOGUE, fields_of
from .values import decimal_text
from .words import Words

if TYPE_CHECKING:
    import pandas as pd

    from .agency_result import AgencyPage
    from .cellmap import CellMap

#: Codes fixed in place: the form's number format is put back (and a number it showed as
#: something else removed; a hidden one kept), what the cell showed quoted in the note.
FIXABLE = frozenset({"typed-as-percent", "typed-as-date", "format-hides-value"})
#: Codes of files the reader did not open as a package (or must not be rewritten: macros):
#: no copy is written for them.
NOT_OPENED = frozenset({
    "unreadable", "too-large", "damaged-file", "not-a-workbook", "not-excel", "strict-ooxml",
    "zip-bomb", "xml-doctype", "old-excel-format", "password-protected", "ods-file",
    "macro-workbook", "inconsistent-package", "reader-failed", "not-a-return", "broken-link",
    "folder-loop", "unreadable-folder", "too-deep",
})
#: Fills of marked cells (ARGB): Excel's light red for errors, orange for warnings.
ERROR_FILL = "FFFFC7CE"
WARNING_FILL = "FFF8CBAD"
NOTE_AUTHOR = "pmqa_xlsx"  # the author of every note this module writes (and removes again)
#: The line between an agency's own note and ours, in a note of a marked cell.
NOTE_SEPARATOR = "-" * 20
SEVERITY_TH = {"error": "ข้อผิดพลาด (ต้องแก้)", "warning": "คำเตือน (ควรตรวจ)"}

_FONT = ("TH Sarabun New", 16.0)
_LINE = 1.5  # a line of text, in font sizes (TH Sarabun New's line spacing, with a margin)
_RESTORED = 10_000  # cells of one merge whose values and styles are restored, at most
_ARGB = re.compile(r"^[0-9A-Fa-f]{8}$")
_AUTHOR_COL = 9  # J: the author of an agency's own note on a marked cell (hidden)
_FILL_COL = 8  # I: the fill a marked cell had before (hidden), to put back on the next copy
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # characters no xlsx text may hold
_CELL = re.compile(r"^\$?([A-Z]{1,3})\$?([1-9][0-9]{0,6})$")
_AFTER_IGNORED = ("smartTags", "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF",
                  "picture", "oleObjects", "controls", "webPublishItems", "tableParts",
                  "extLst")
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


class FeedbackRefused(PmqaError):
    """The feedback folder would overwrite an input, or lies inside an input folder. The
    message is Thai; ``words`` holds it in Thai and English."""

    words: Words

    def __init__(self, words: Words) -> None:
        super().__init__(words.th)
        self.words = words


class ProblemLike(Protocol):
    """What a problem needs for feedback: a Problem, or a row of a problems frame."""

    file: Any
    sheet: Any
    cell: Any
    severity: Any
    code: Any
    message_th: Any


@dataclass(frozen=True, slots=True)
class ReturnFeedback:
    """One return's problems, to write a copy for: the entry read (its path is copied) and
    the cell map it was read through, if any (it gives the form's number formats)."""

    entry: InputFile
    problems: tuple[ProblemLike, ...]
    cellmap: CellMap | _LazyCellmap | None = None
    page: AgencyPage | None = None  # its one-page result, put in as a second sheet


@dataclass(slots=True)
class FeedbackResult:
    """What ``write_feedback`` did: the copies written (file as recorded, copy), the
    returns with problems that got none, each with why (Thai and English), and the earlier
    copies left in the folder for returns that now have no problems (file, copy)."""

    written: list[tuple[str, Path]] = field(default_factory=list)
    skipped: list[tuple[str, Words]] = field(default_factory=list)
    stale: list[tuple[str, Path]] = field(default_factory=list)


def check_feedback_dir(directory: str | os.PathLike[str], entries: Sequence[InputFile],
                       given: Iterable[str | os.PathLike[str]],
                       outputs: Iterable[tuple[str, str | os.PathLike[str]]] = ()) -> Path:
    """Refuse (FeedbackRefused) a feedback folder that is a file, is or lies inside an input
    folder given (the next check or merge would read the copies as returns), or where a copy
    could replace anything but an earlier feedback copy: an input, an output of the same
    command, or any other file (an issued workbook, whose manifest hash would break); returns
    the folder (not created yet). Nothing is written.

    ``entries`` are the inputs collected, ``given`` the paths as given on the command line,
    ``outputs`` the command's other outputs as (option, path), e.g. ("-o", "cl/all.xlsx").
    Every name a copy could take is checked (`` (2)`` ... for inputs of one name), whichever
    returns turn out to have problems.
    """
    folder = Path(directory)
    shown = path_text(folder)
    if os.path.lexists(folder) and not folder.is_dir():
        raise FeedbackRefused(Words(
            f"--feedback {shown}: เป็นไฟล์ ไม่ใช่โฟลเดอร์; ให้ระบุโฟลเดอร์สำหรับเก็บสำเนาผลการตรวจ",
            f"--feedback {shown}: is a file, not a folder; give a folder for the feedback "
            "copies"))
    resolved = _resolved(folder)
    for path in given:
        if not os.path.isdir(path):
            continue
        top = _resolved(Path(path))
        if resolved == top or top in resolved.parents:
            raise FeedbackRefused(Words(
                f"--feedback {shown}: อยู่ในโฟลเดอร์ข้อมูลนำเข้า {path_text(path)} ของคำสั่งนี้ "
                "ครั้งต่อไปที่ตรวจหรือรวมโฟลเดอร์นั้น สำเนาผลการตรวจจะถูกอ่านเป็นแบบฟอร์มซ้ำ: "
                "ให้เลือกโฟลเดอร์อื่นที่อยู่นอกโฟลเดอร์ข้อมูลนำเข้า",
                f"--feedback {shown}: is inside the input folder {path_text(path)} of this "
                "command, so the next check or merge of it would read the copies as duplicate "
                "returns: choose a folder outside the inputs"))
    inputs = {_resolved(e.path) for e in entries}
    nodes = {n for e in entries if (n := _inode(e.path)) is not None}
    written = {_resolved(Path(p)): option for option, p in outputs}
    used: set[str] = set()
    for entry in entries:
        target = folder / _unique_name(entry.path.name, used)
        at = _resolved(target)
        if at in inputs or (_inode(target) or (-1, -1)) in nodes:
            raise FeedbackRefused(Words(
                f"--feedback {shown}: สำเนาของ {entry.name} จะเขียนทับไฟล์ข้อมูลนำเข้าเอง: "
                "ให้เลือกโฟลเดอร์อื่น",
                f"--feedback {shown}: the copy of {entry.name} would replace that input "
                "itself: choose another folder"))
        if at in written:
            raise FeedbackRefused(Words(
                f"--feedback {shown}: สำเนาของ {entry.name} จะเขียนทับ {path_text(target)} "
                f"ซึ่งคำสั่งนี้เขียนเป็นผลลัพธ์ ({written[at]}): ให้เลือกโฟลเดอร์อื่นสำหรับสำเนา"
                "ผลการตรวจ",
                f"--feedback {shown}: the copy of {entry.name} would replace "
                f"{path_text(target)}, which this command writes ({written[at]}): choose "
                "another folder for the feedback copies"))
        if os.path.lexists(target) and copy_of(target) is None:
            raise FeedbackRefused(Words(
                f"--feedback {shown}: มีไฟล์ {path_text(target)} อยู่แล้ว และไม่ใช่สำเนาผลการตรวจ "
                f"(เช่น แบบฟอร์มที่ส่งให้หน่วยงาน) สำเนาของ {entry.name} จะเขียนทับไฟล์นั้น: "
                "ให้เลือกโฟลเดอร์อื่นที่ว่างหรือมีแต่สำเนาผลการตรวจ หรือย้ายไฟล์นั้นออกก่อน",
                f"--feedback {shown}: {path_text(target)} exists and is not a feedback copy "
                f"(an issued workbook, say); the copy of {entry.name} would replace it: choose "
                "an empty folder or one holding only feedback copies, or move that file away"))
    return folder


def copy_of(path: str | os.PathLike[str]) -> str | None:
    """The input (as recorded) a file is the feedback copy of, ``""`` for a copy that does not
    say (written before it was recorded), or None if the file is not a feedback copy (its
    first sheet's reserved name and marker, as the reader recognises it)."""
    from .xlsxread import FileRefused, open_package

    target = Path(path)
    if not target.is_file():
        return None
    row, col = FEEDBACK_MARKER_AT
    try:
        with open_package(target) as package:
            info = package.sheet(FEEDBACK_SHEET)
            if info is None:
                return None
            cells = package.read_cells(info, max_row=row + 2, max_col=col + 1).cells
    except (FileRefused, OSError, ValueError, zipfile.BadZipFile):
        return None
    marker, source = cells.get((row, col)), cells.get((row + 1, col))
    if marker is None or marker.value != FEEDBACK_MARKER:
        return None
    return str(source.value) if source is not None and isinstance(source.value, str) else ""


def from_reads(reads: Iterable[Any], entries: Sequence[InputFile]) -> list[ReturnFeedback]:
    """The returns with problems among reads (``check_files``' ReadReturn), matched to their
    entries by the name recorded."""
    by_name = {e.name: e for e in entries}
    out = []
    for read in reads:
        entry = by_name.get(read.file)
        if entry is not None and read.problems:
            out.append(ReturnFeedback(entry, tuple(read.problems), read.cellmap))
    return out


def from_consolidated(problems: pd.DataFrame, entries: Sequence[InputFile],
                      layouts: Sequence[Layout] | None = None) -> list[ReturnFeedback]:
    """The returns with problems in a merge's problems frame (merge-level ones, such as
    ``duplicate``, included), in the order of ``entries``; each one's cell map is found again
    from its metadata sheet and ``layouts`` (as the merge's: None for the bundled ones)."""
    rows: dict[str, list[ProblemLike]] = {}
    for row in problems.itertuples(index=False):
        name = _text(row.file)
        if name is not None:
            rows.setdefault(name, []).append(_Row(row))
    return [ReturnFeedback(e, tuple(rows[e.name]), _LazyCellmap(layouts))
            for e in entries if e.name in rows]


def write_feedback(returns: Sequence[ReturnFeedback], directory: str | os.PathLike[str], *,
                   jobs: int | None = 1, clean: Sequence[InputFile] = ()) -> FeedbackResult:
    """Write a feedback copy of every return into ``directory`` (created if need be), under
    its own file name (`` (2)`` before the suffix for a second input of that name). Each copy
    is written whole or not at all; a return that cannot be copied is in ``skipped`` with why.
    ``jobs``: processes that write the copies (None: the cores available; a copy takes about
    0.3 s); the result is the same whatever it is. A file in the way that is not an earlier
    feedback copy is never replaced (``check_feedback_dir`` refuses it before; here the
    return is skipped). ``clean``: the returns read that have no problems: an earlier copy of
    one of them left in the folder is in ``stale`` (it is not deleted).
    """
    folder = Path(directory)
    result = FeedbackResult()
    todo: list[tuple[ReturnFeedback, Path]] = []
    used: set[str] = set()
    for item in returns:
        refused = next((p for p in item.problems if _text(p.code) in NOT_OPENED), None)
        if refused is not None:
            result.skipped.append((item.entry.name, Words(
                f"ไม่ได้ทำสำเนาผลการตรวจ เพราะไม่ได้เปิดไฟล์นี้เป็นแบบฟอร์ม ({_text(refused.code)}): "
                "ทำตามวิธีแก้ในข้อความของปัญหานี้",
                f"no feedback copy, since the file was not opened as a workbook "
                f"({_text(refused.code)}): do what that problem's message says")))
        else:
            todo.append((item, folder / _unique_name(item.entry.path.name, used)))
    if clean:
        result.stale = _stale(folder, clean, {item.entry.name for item in returns},
                              {target for _, target in todo})
    if not todo:
        return result
    folder.mkdir(parents=True, exist_ok=True)
    workers = worker_count(jobs, len(todo), per_worker=8)
    if workers == 1:
        outcomes = [_write_one(job) for job in todo]
    else:
        with worker_pool(workers) as pool:  # on Ctrl+C or SIGTERM, its workers end at once
            outcomes = list(pool.map(_write_one, todo, chunksize=4))
    for (item, target), failure in zip(todo, outcomes, strict=True):
        if failure is None:
            result.written.append((item.entry.name, target))
        else:
            result.skipped.append((item.entry.name, failure))
    return result


def _write_one(job: tuple[ReturnFeedback, Path]) -> Words | None:
    """Write one copy (in this process or a worker); None, or why there is none."""
    item, target = job
    try:
        data = feedback_bytes(item)
    except Exception as exc:  # noqa: BLE001 - one file must never stop the others
        return Words(
            f"ไม่ได้ทำสำเนาผลการตรวจ เพราะโปรแกรมที่ทำสำเนาอ่านหรือบันทึกไฟล์นี้ไม่ได้ "
            f"({type(exc).__name__}): ทำตามวิธีแก้ในข้อความของปัญหาของไฟล์นี้ หรือให้หน่วยงานเปิดไฟล์ใน "
            "Excel บันทึกใหม่ แล้วส่งมาอีกครั้ง",
            f"no feedback copy: the file could not be opened or saved again "
            f"({type(exc).__name__}: {str(exc)[:200]}); the agency should open it in "
            "Excel, save it again and send it")
    if os.path.lexists(target) and copy_of(target) is None:
        return Words(
            f"ไม่ได้ทำสำเนาผลการตรวจ เพราะมีไฟล์ {path_text(target)} ที่ไม่ใช่สำเนาผลการตรวจอยู่แล้ว "
            "(ไม่เขียนทับ): ย้ายไฟล์นั้นออก แล้วตรวจอีกครั้ง",
            f"no feedback copy: {path_text(target)} exists and is not a feedback copy (it is "
            "not replaced): move it away and check again")
    atomic_write(target, data)
    return None


def _stale(folder: Path, clean: Sequence[InputFile], with_problems: set[str],
           writing: set[Path]) -> list[tuple[str, Path]]:
    """Earlier feedback copies in ``folder`` of returns that now have no problems: a copy
    says which input it is of (or, written before it said, has the input's file name)."""
    if not folder.is_dir():
        return []
    by_name = {e.name: e for e in clean}
    by_file: dict[str, InputFile] = {}
    for given in clean:
        by_file.setdefault(given.path.name.casefold(), given)
    problem_files = {Path(n).name.casefold() for n in with_problems}
    out = []
    try:
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xlsx")
    except OSError:
        return []
    for path in found:
        if path in writing:
            continue
        source = copy_of(path)
        if source is None:
            continue
        entry = by_name.get(source) if source else (
            by_file.get(path.name.casefold()) if path.name.casefold() not in problem_files
            else None)
        if entry is not None:
            out.append((entry.name, path))
    return out


def feedback_bytes(item: ReturnFeedback) -> bytes:
    """The feedback copy of one return, as the bytes of an xlsx package (with the agency's
    result page as its second sheet when ``item.page`` is given)."""
    import openpyxl

    from .agency_result import add_result_sheet, remove_result_sheet

    source = item.entry.path
    with warnings.catch_warnings():
        # openpyxl warns of what it drops (an x14 validation, an unknown extension): the
        # form's validations are classic ones (inline lists), which it keeps
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(source, rich_text=False)
    cellmap = item.cellmap.resolve(book) if isinstance(item.cellmap, _LazyCellmap) \
        else item.cellmap
    _undo_previous(book)
    remove_result_sheet(book)
    inputs = {(c.sheet, c.ref): c for c in cellmap.inputs()} if cellmap is not None else {}
    shown_again, unmerged = _uncover(book, source, inputs, item.problems)
    font = (cellmap.layout.style.font, cellmap.layout.style.size) if cellmap is not None \
        else _FONT
    problems = sorted(item.problems, key=lambda p: _order(book, p))
    notes: dict[tuple[str, str], list[str]] = {}
    worst: dict[tuple[str, str], str] = {}
    fills: dict[tuple[str, str], str] = {}
    authors: dict[tuple[str, str], str] = {}  # of the agency's own notes on marked cells
    texts: dict[int, str] = {}  # id(problem) -> its words, with what was fixed in place
    for problem in problems:
        text = texts[id(problem)] = _thai(problem)
        place = _place(book, problem)
        if place is None:
            continue
        if _text(problem.code) in FIXABLE:
            fixed = _fix_in_place(book, place, inputs.get(place), _text(problem.code) or "")
            if fixed:
                text = texts[id(problem)] = _what_is_wrong(problem) + fixed
        elif _text(problem.code) == "covered-input" and place in shown_again:
            text = texts[id(problem)] = text + (
                "\nแก้ให้แล้ว: ยกเลิกการผสานช่องแล้ว ช่องนี้จึงแสดงค่าที่เคยถูกซ่อนไว้ ตรวจว่าถูกต้อง")
        elif _text(problem.code) == "covered-blank-input" and place in unmerged:
            text = texts[id(problem)] = _what_is_wrong(problem) + (
                "\nแก้ให้แล้ว: ยกเลิกการผสานช่องแล้ว ช่องนี้จึงพิมพ์ได้ กรอกคำตอบในช่องนี้ถ้ามี")
        notes.setdefault(place, []).append(text)
        if worst.get(place) != "error":
            worst[place] = _text(problem.severity) or "error"
    for place, lines in notes.items():
        cell = book[place[0]][place[1]]
        fills[place] = _fill_of(cell)
        if cell.comment is not None and cell.comment.author != NOTE_AUTHOR:
            authors[place] = cell.comment.author or ""
        _mark(cell, worst[place], lines)
    _list_sheet(book, item.entry.name, [(p, texts[id(p)]) for p in problems], fills, authors,
                font)
    if item.page is not None:
        add_result_sheet(book, item.page, font[1])
    book.calculation.fullCalcOnLoad = True
    buffer = io.BytesIO()
    book.save(buffer)
    return _with_ignored_errors(buffer.getvalue(), source,
                                {ws.title: ws.path.lstrip("/") for ws in book.worksheets})


# --------------------------------------------------------------------------------------------
# Private: the messages
# --------------------------------------------------------------------------------------------


def _thai(problem: ProblemLike) -> str:
    """The problem's message in Thai."""
    return _clean(_text(problem.message_th) or "")


def _fix_in_place(book: Any, place: tuple[str, str], cell: Any, code: str) -> str:
    """Put the form's number format back on an input that shows a number as something else.
    A number the format changed (``typed-as-percent``, ``typed-as-date``: what is stored is
    not what was meant) is removed, and the note says what the cell showed and what to type,
    from the stored number at full precision; a number the format hid (``format-hides-value``)
    is kept, shown again, and the note asks to check it. The note's words on it."""
    if cell is None:
        return ""
    target = book[place[0]][place[1]]
    form_format = "General" if cell.kind == "number" else "@"
    number_format = target.number_format or "General"
    if number_format == form_format:
        return ""  # the format is the form's: the cause is elsewhere (a sheet hiding zeros)
    value = target.value
    target.number_format = form_format
    if cell.kind != "number" or not isinstance(value, int | float | datetime | date | time
                                               | timedelta) or isinstance(value, bool):
        return ("\nแก้ให้แล้ว: คืนรูปแบบของช่องตามแบบฟอร์ม ข้อความที่พิมพ์ไว้ยังอยู่ "
                "ตรวจว่าถูกต้อง")
    serial = _serial(value, book.epoch)
    if serial is None:
        return ("\nแก้ให้แล้ว: คืนรูปแบบตัวเลขของแบบฟอร์มแล้ว ตรวจค่าในช่องนี้ "
                "ถ้าไม่ถูกต้องให้พิมพ์ตัวเลขที่ต้องการ")
    shown = _shown(number_format, serial, _date1904(book))
    before = f"ช่องนี้เคยแสดง {shown}" if shown else "ช่องนี้เคยไม่แสดงอะไรเลย"
    stored = decimal_text(serial)
    if code == "format-hides-value":
        target.value = serial if isinstance(value, datetime | date | time | timedelta) \
            else value
        earlier = f"ก่อนหน้านี้แสดง {shown}" if shown else "ก่อนหน้านี้ไม่แสดงอะไรเลย"
        return (f"\nแก้ให้แล้ว: คืนรูปแบบตัวเลขของแบบฟอร์มแล้ว ช่องนี้จึงแสดงค่าที่เก็บไว้ คือ {stored} "
                f"({earlier}) ตรวจว่าตัวเลขนี้ถูกต้อง ถ้าไม่ถูกต้องให้พิมพ์ตัวเลขที่ถูกต้องแทน")
    target.value = None
    kind = format_kind(number_format)
    if kind == "percent":
        if abs(serial) < 1:
            meant = decimal_text(serial, percent=True)
            what = f"ถ้าหมายถึงร้อยละ {meant} ให้พิมพ์ {meant} (ไม่ต้องพิมพ์ %)"
        else:
            what = f"ถ้าหมายถึง {stored} ให้พิมพ์ {stored} (ไม่ต้องพิมพ์ %)"
    elif kind == "date":
        before = f"ช่องนี้เคยแสดงวันที่ {shown}" if shown else before
        what = (f"ถ้าหมายถึง {stored} ให้พิมพ์ {stored} อีกครั้ง ถ้าไม่ใช่ ให้พิมพ์ตัวเลขที่ต้องการ "
                "เป็นตัวเลขธรรมดา ไม่ใช่วันที่")
    else:
        what = f"ถ้าหมายถึง {stored} ให้พิมพ์ {stored} อีกครั้ง ถ้าไม่ใช่ ให้พิมพ์ตัวเลขที่ต้องการ"
    return (f"\nแก้ให้แล้วบางส่วน: {before} (ค่าที่เก็บไว้คือ {stored}) ได้ล้างค่าและคืนรูปแบบตัวเลข"
            f"ของแบบฟอร์มแล้ว {what}")


def _shown(number_format: str, serial: float, date1904: bool) -> str:
    """What a cell of ``number_format`` showed for ``serial``: '' if the format hides it."""
    try:
        if shows_as(number_format, serial) == "hidden":
            return ""
        return render(number_format, serial, date1904)
    except (ValueError, OverflowError):
        return decimal_text(serial)


def _what_is_wrong(problem: ProblemLike) -> str:
    """The problem's Thai message without the catalogue's how-to (its last sentence from
    "กรุณา", its fields whatever they hold), for a problem fixed in place: the copy's own
    words say what to do instead (the catalogue's "in a fresh copy of the form" would
    contradict them)."""
    text = _thai(problem)
    entry = CATALOGUE.get(_text(problem.code) or "")
    if entry is None:
        return text
    at = entry.template_th.rfind(" กรุณา")
    if at < 0:
        return text
    how_to = re.escape(entry.template_th[at:])
    for name in fields_of(entry.template_th[at:]):
        how_to = how_to.replace(re.escape("{" + name + "}"), ".+?")
    found = re.search(how_to + r"\Z", text, re.S)
    return text[: found.start()] if found else text


def _uncover(book: Any, source: Path, inputs: Iterable[tuple[str, str]],
             problems: Sequence[ProblemLike]) -> tuple[set[tuple[str, str]],
                                                        set[tuple[str, str]]]:
    """Unmerge every merged range that covers an input cell (of the cell map, or where the
    reader found ``covered-input``), whatever the problems: a merged input cannot be typed in
    nor marked. openpyxl drops the values and styles of covered cells on load, so they are
    taken again from the file as stored; an input is left unlocked, as the form has it.
    Returns the inputs that show a value the merge hid, and all the inputs unmerged."""
    import openpyxl
    from openpyxl.cell.cell import MergedCell
    from openpyxl.styles import Protection
    from openpyxl.utils import column_index_from_string

    wanted: dict[str, set[tuple[int, int]]] = {}
    for name, ref in [*inputs, *((_text(p.sheet), _text(p.cell)) for p in problems
                                 if _text(p.code) == "covered-input")]:
        match = _CELL.match(ref or "")
        if name in book.sheetnames and name not in (META_SHEET, FEEDBACK_SHEET) and match:
            wanted.setdefault(str(name), set()).add(
                (int(match.group(2)), column_index_from_string(match.group(1))))
    hits: dict[str, list[Any]] = {}
    for name, cells in wanted.items():
        found = [r for r in book[name].merged_cells.ranges
                 if any(r.min_row <= row <= r.max_row and r.min_col <= col <= r.max_col
                        for row, col in cells)]
        if found:
            hits[name] = found
    if not hits:
        return set(), set()
    stored = openpyxl.load_workbook(source, read_only=True)
    taken: dict[tuple[str, int, int], tuple[Any, int]] = {}
    try:
        for name, ranges in hits.items():
            for merged in ranges:
                area = (merged.max_row - merged.min_row + 1) * (merged.max_col - merged.min_col + 1)
                rows = stored[name].iter_rows(min_row=merged.min_row, max_row=merged.max_row,
                                              min_col=merged.min_col, max_col=merged.max_col)
                for row, line in enumerate(rows, merged.min_row):
                    for col, got in enumerate(line, merged.min_col):
                        if area > _RESTORED and (row, col) not in wanted[name]:
                            continue  # a huge merge: only its inputs are restored
                        taken[(name, row, col)] = (getattr(got, "value", None),
                                                   getattr(got, "_style_id", 0))
    finally:
        stored.close()
    done: set[tuple[str, str]] = set()
    freed: set[tuple[str, str]] = set()
    for name, ranges in hits.items():
        sheet = book[name]
        for merged in ranges:
            first = (merged.min_row, merged.min_col)
            sheet.unmerge_cells(merged.coord)
            for row in range(merged.min_row, merged.max_row + 1):
                for col in range(merged.min_col, merged.max_col + 1):
                    cell = sheet.cell(row, col)
                    if isinstance(cell, MergedCell) or (row, col) == first:
                        continue
                    value, style = taken.get((name, row, col), (None, 0))
                    if style:
                        cell._style = copy.copy(book._cell_styles[style])
                    if (row, col) in wanted[name]:
                        cell.protection = Protection(locked=False,
                                                     hidden=cell.protection.hidden)
                        freed.add((name, cell.coordinate))
                    if value is None or isinstance(value, bool) or not isinstance(
                            value, str | int | float | datetime | date | time | timedelta):
                        continue
                    cell.value = _clean(value) if isinstance(value, str) else value
                    if isinstance(value, str):
                        cell.data_type = "s"  # the agency's text, never a formula
                    if (row, col) in wanted[name]:
                        done.add((name, cell.coordinate))
    return done, freed


def _serial(value: Any, epoch: datetime) -> float | None:
    """A cell value openpyxl gave (a number, or a date it made of one) as Excel's number."""
    if isinstance(value, int | float):
        return float(value)
    from openpyxl.utils.datetime import to_excel

    try:
        return float(to_excel(value, epoch))
    except (TypeError, ValueError, OverflowError):
        return None


def _date1904(book: Any) -> bool:
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    return bool(book.epoch == CALENDAR_MAC_1904)


# --------------------------------------------------------------------------------------------
# Private: the marks and the list
# --------------------------------------------------------------------------------------------


def _place(book: Any, problem: ProblemLike) -> tuple[str, str] | None:
    """The (sheet, cell) to mark: a cell of a sheet of the copy, never the metadata's."""
    sheet, cell = _text(problem.sheet), _text(problem.cell)
    if sheet is None or cell is None or sheet == META_SHEET or sheet not in book.sheetnames:
        return None
    match = _CELL.match(cell)
    if match is None:
        return None
    from openpyxl.cell.cell import MergedCell
    from openpyxl.utils import column_index_from_string

    if column_index_from_string(match.group(1)) > 16384 or int(match.group(2)) > 1048576:
        return None
    ref = match.group(1) + match.group(2)
    if isinstance(book[sheet][ref], MergedCell):
        return None  # covered by a merge: listed, with its link, not marked
    return sheet, ref


def _order(book: Any, problem: ProblemLike) -> tuple[int, int, int, str]:
    """Problems in the order of the sheets, then rows and columns; the file's own first."""
    sheet, cell = _text(problem.sheet), _text(problem.cell)
    index = book.sheetnames.index(sheet) if sheet in book.sheetnames else -1
    match = _CELL.match(cell or "")
    if match is None:
        return (index, 0, 0, _text(problem.code) or "")
    from openpyxl.utils import column_index_from_string

    return (index, int(match.group(2)), column_index_from_string(match.group(1)),
            _text(problem.code) or "")


def _fill_of(cell: Any) -> str:
    fill = cell.fill
    if fill is None or fill.fill_type != "solid" or fill.fgColor is None \
            or fill.fgColor.type != "rgb":
        return ""
    return str(fill.fgColor.rgb)


def _mark(cell: Any, severity: str, texts: list[str]) -> None:
    """Fill ``cell`` and give it our note; a note of the agency's own stays, its text first,
    ours below ``NOTE_SEPARATOR`` (its author kept in the list sheet, to put back)."""
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    colour = ERROR_FILL if severity == "error" else WARNING_FILL
    cell.fill = PatternFill(fill_type="solid", fgColor=colour, bgColor=colour)
    if len(texts) == 1:
        body = texts[0]
    else:
        body = "\n".join(f"{n}. {t}" for n, t in enumerate(texts, 1))
    body = "ผลการตรวจ: " + body
    own = cell.comment
    if own is not None and own.author != NOTE_AUTHOR and own.text:
        body = f"{own.text}\n{NOTE_SEPARATOR}\n{body}"
    lines = sum(1 + len(line) // 45 for line in body.split("\n"))
    cell.comment = Comment(body[:30000], NOTE_AUTHOR, height=min(600, 24 + 18 * lines),
                           width=360)


def _fill_value(saved: Any) -> Any:
    """The fill to put back from the list sheet's hidden column: no fill for "none" or for
    anything that is not an ARGB colour (the column may have been edited)."""
    from openpyxl.styles import PatternFill

    text = str(saved).strip()
    if _ARGB.match(text):
        return PatternFill(fill_type="solid", fgColor=text, bgColor=text)
    return PatternFill(fill_type=None)


def _undo_previous(book: Any) -> None:
    """A copy being checked again (sent back still with problems): its old list and marks go,
    each marked cell's fill put back (and an agency's own note under ours), before the new
    ones are made."""
    if FEEDBACK_SHEET not in book.sheetnames:
        return
    sheet = book[FEEDBACK_SHEET]
    row, col = FEEDBACK_MARKER_AT
    if sheet.cell(row + 1, col + 1).value != FEEDBACK_MARKER:
        return  # a sheet of that name, not ours: left as it is
    from openpyxl.comments import Comment

    authors: dict[tuple[str, str], str] = {}
    for values in sheet.iter_rows(min_row=5, values_only=True):
        if len(values) <= _FILL_COL or values[1] is None or values[2] is None:
            continue
        name, ref, fill = str(values[1]), str(values[2]), values[_FILL_COL]
        if name not in book.sheetnames or _CELL.match(ref) is None:
            continue
        if len(values) > _AUTHOR_COL and values[_AUTHOR_COL] is not None:
            authors[(name, ref)] = str(values[_AUTHOR_COL])
        if fill is None:
            continue
        book[name][ref].fill = _fill_value(fill)
    for ws in book.worksheets:
        for line in ws.iter_rows():
            for cell in line:
                note = cell.comment
                if note is None or note.author != NOTE_AUTHOR:
                    continue
                at = (note.text or "").rfind(f"\n{NOTE_SEPARATOR}\n")
                if at >= 0:  # the agency's own note, ours below it
                    cell.comment = Comment(note.text[:at], authors.get(
                        (ws.title, cell.coordinate), ""), height=note.height, width=note.width)
                else:
                    cell.comment = None
    book.remove(sheet)


def _list_sheet(book: Any, file: str, problems: Sequence[tuple[ProblemLike, str]],
                fills: dict[tuple[str, str], str], authors: dict[tuple[str, str], str],
                font: tuple[str, float]) -> None:
    """The first sheet: what it is and what to do, then one row per problem (with its
    words)."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.hyperlink import Hyperlink

    sheet = book.create_sheet(FEEDBACK_SHEET, 0)
    for other in book.worksheets[1:]:
        other.sheet_view.tabSelected = False  # two selected tabs would group the sheets
    book.active = 0
    sheet.sheet_view.tabSelected = True
    name, size = font
    plain = Font(name=name, size=size)
    bold = Font(name=name, size=size, bold=True)
    link = Font(name=name, size=size, color="FF0563C1", underline="single")
    wrap = Alignment(wrap_text=True, vertical="top")
    side = Side(style="thin", color="FF808080")
    box = Border(left=side, right=side, top=side, bottom=side)
    header_fill = PatternFill(fill_type="solid", fgColor="FFD9E1F2", bgColor="FFD9E1F2")
    widths = {"A": 7, "B": 14, "C": 9, "D": 17, "E": 80}
    for col, width in widths.items():
        sheet.column_dimensions[col].width = width
    errors = sum(1 for p, _ in problems if _text(p.severity) == "error")
    warnings = len(problems) - errors
    _put(sheet, "A1", f"ผลการตรวจแบบฟอร์ม: {path_text(file)}",
         Font(name=name, size=size + 4, bold=True))
    _put(sheet, "A2", f"พบข้อผิดพลาด {errors:,} รายการ (ต้องแก้ก่อนจึงจะนับผล) และคำเตือน "
                      f"{warnings:,} รายการ (ควรตรวจ)", bold)
    _put(sheet, "A3", "แผ่นงานนี้แสดงปัญหาทุกรายการที่พบในไฟล์นี้ ช่องที่มีปัญหาในแบบฟอร์มระบายสีแดง "
                      "(ข้อผิดพลาด) หรือสีส้ม (คำเตือน) และมีหมายเหตุบอกวิธีแก้ (ชี้ที่ช่องเพื่ออ่าน) "
                      "คลิกที่ช่องในคอลัมน์ \"ช่อง\" เพื่อไปยังช่องนั้น แก้ไขในไฟล์นี้ให้ครบ บันทึก "
                      "แล้วส่งไฟล์นี้กลับมา (ไม่ต้องลบแผ่นงานนี้หรือสีที่ระบายไว้)", plain)
    for at in ("A1", "A2", "A3"):
        sheet.merge_cells(f"{at}:E{at[1:]}")
        sheet[at].alignment = wrap
    line = size * _LINE
    for r, lines in ((1, 1.4), (2, 1), (3, _lines(sheet["A3"].value, sum(widths.values()))),
                     (4, 1)):
        sheet.row_dimensions[r].height = line * lines + 4
    for col, title in zip("ABCDE", ("ลำดับ", "แผ่นงาน", "ช่อง", "ความรุนแรง", "ปัญหาและวิธีแก้"),
                          strict=True):
        cell = _put(sheet, f"{col}4", title, bold)
        cell.fill, cell.border, cell.alignment = header_fill, box, wrap
    marker_row, marker_col = FEEDBACK_MARKER_AT
    sheet.cell(marker_row + 1, marker_col + 1).value = FEEDBACK_MARKER
    sheet.cell(marker_row + 1, marker_col + 1).data_type = "s"
    sheet.column_dimensions["H"].hidden = True
    sheet.column_dimensions["I"].hidden = True
    sheet.column_dimensions["J"].hidden = True
    _put(sheet, f"H{marker_row + 2}", file, plain)  # the input it is a copy of (``copy_of``)
    for n, (problem, words) in enumerate(problems, 1):
        r = 4 + n
        where, ref = _text(problem.sheet), _text(problem.cell)
        severity = _text(problem.severity) or "error"
        number = sheet.cell(r, 1, n)  # a number: as text, Excel would flag it
        number.font = plain
        _put(sheet, f"B{r}", where or "-", plain)
        shown = _put(sheet, f"C{r}", ref or "-", plain)
        if where is not None and where in book.sheetnames and where != META_SHEET:
            target = ref if ref is not None and _CELL.match(ref) else "A1"
            shown.hyperlink = Hyperlink(ref=f"C{r}", location=f"{_quoted(where)}!{target}",
                                        tooltip="ไปยังช่องนี้")
            shown.font = link
            if ref is None:
                shown.value = "ทั้งแผ่นงาน"
        elif ref is None:
            shown.value = "ทั้งไฟล์"
        _put(sheet, f"D{r}", SEVERITY_TH.get(severity, severity), plain).fill = PatternFill(
            fill_type="solid", fgColor=ERROR_FILL if severity == "error" else WARNING_FILL)
        message = _put(sheet, f"E{r}", words, plain)
        place = (where, ref) if where is not None and ref is not None else None
        if place is not None and place in fills:
            sheet.cell(r, _FILL_COL + 1).value = fills[place] or "none"
            sheet.cell(r, _FILL_COL + 1).data_type = "s"
        if place is not None and place in authors:
            _put(sheet, f"J{r}", authors[place], plain)
        for c in "ABCDE":
            sheet[f"{c}{r}"].border = box
            sheet[f"{c}{r}"].alignment = wrap
        sheet.row_dimensions[r].height = min(409.0, line * _lines(message.value,
                                                                  widths["E"]) + 4)
    sheet.freeze_panes = "A5"
    sheet.print_title_rows = "4:4"
    sheet.print_area = f"A1:E{max(4, 4 + len(problems))}"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True


def _lines(text: str, width: float) -> int:
    """Lines a text wraps to in a column ``width`` characters wide (an estimate that errs
    tall: a Thai or Latin character of TH Sarabun New is narrower than Excel's width unit)."""
    per_line = max(10, int(width * 0.8))
    return max(1, sum(1 + len(part) // per_line for part in text.split("\n")))


def _put(sheet: Any, ref: str, text: str, font: Any) -> Any:
    """Text stored as a string (never a formula or a link), in ``font``."""
    cell = sheet[ref]
    cell.value = _clean(text)
    cell.data_type = "s"
    cell.font = font
    return cell


def _quoted(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


# --------------------------------------------------------------------------------------------
# Private: the package, the files
# --------------------------------------------------------------------------------------------


def _with_ignored_errors(data: bytes, source: Path, parts: dict[str, str]) -> bytes:
    """``data`` (openpyxl's package) with each sheet's ``ignoredErrors`` copied from the
    original's part of the same sheet (openpyxl drops them: Excel would then offer to turn
    codes stored as text, such as 03005, into numbers)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    found: dict[str, bytes] = {}
    with zipfile.ZipFile(source) as original:
        for name, part in _sheet_parts(original, parser).items():
            if name not in parts:
                continue
            try:
                root = etree.fromstring(original.read(part), parser)
            except (KeyError, etree.XMLSyntaxError):
                continue
            element = root.find(f"{{{_MAIN_NS}}}ignoredErrors")
            if element is not None:
                found[parts[name]] = etree.tostring(element)
    if not found:
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as saved, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as patched:
        for info in saved.infolist():
            content = saved.read(info)
            if info.filename in found:
                root = etree.fromstring(content, parser)
                element = etree.fromstring(found[info.filename], parser)
                after = next((child for child in root if isinstance(child.tag, str)
                              and etree.QName(child).localname in _AFTER_IGNORED), None)
                if after is not None:
                    after.addprevious(element)
                else:
                    root.append(element)
                content = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                         standalone=True)
            patched.writestr(info, content)
    return out.getvalue()


def _sheet_parts(package: zipfile.ZipFile, parser: Any) -> dict[str, str]:
    """Sheet name -> its part in the zip, from the workbook and its relationships."""
    from lxml import etree

    try:
        workbook = etree.fromstring(package.read("xl/workbook.xml"), parser)
        rels = etree.fromstring(package.read("xl/_rels/workbook.xml.rels"), parser)
    except (KeyError, etree.XMLSyntaxError):
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    out = {}
    for sheet in workbook.iter(f"{{{_MAIN_NS}}}sheet"):
        target = targets.get(sheet.get(f"{{{_REL_NS}}}id"), "")
        part = target.lstrip("/") if target.startswith("/") else "xl/" + target
        out[sheet.get("name", "")] = os.path.normpath(part).replace(os.sep, "/")
    return out


def _unique_name(name: str, used: set[str]) -> str:
    """``name``, or ``stem (2).suffix`` ... if a copy of that name (any case) is written."""
    stem, suffix = os.path.splitext(name)
    candidate, n = name, 1
    while candidate.casefold() in used:
        n += 1
        candidate = f"{stem} ({n}){suffix}"
    used.add(candidate.casefold())
    return candidate


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _text(value: Any) -> str | None:
    """A field of a problem or a frame row as text (None for missing, NA included)."""
    if value is None or value.__class__.__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(value, float) and value != value:
        return None
    return str(value)


def _clean(text: str) -> str:
    return _ILLEGAL.sub("\ufffd", str(text))


class _Row:
    """A row of a problems frame as a problem (missing fields as None)."""

    # set from the frame's columns (PROBLEM_COLUMNS), as ProblemLike names them
    file: Any
    sheet: Any
    cell: Any
    severity: Any
    code: Any
    message_th: Any

    def __init__(self, row: Any) -> None:
        for name in row._fields:
            setattr(self, name, _text(getattr(row, name)))


class _LazyCellmap:
    """The cell map of a return read in a merge, found from its metadata sheet."""

    def __init__(self, layouts: Sequence[Layout] | None) -> None:
        self.layouts = layouts

    def resolve(self, book: Any) -> CellMap | None:
        from .read.identify import layout_set
        from .read.plan import plan_for

        if META_SHEET not in book.sheetnames:
            return None
        meta = {str(r[0]).strip(): r[1] for r in book[META_SHEET].iter_rows(
            max_row=50, max_col=2, values_only=True) if r[0] is not None and len(r) > 1}
        known = layout_set(self.layouts)
        layout = known.by_fingerprint.get(str(meta.get("layout_fingerprint") or "")) or next(
            iter(known.by_version.get((str(meta.get("form_id") or ""),
                                       str(meta.get("form_version") or "")), ())), None)
        try:
            year = int(str(meta.get("fiscal_year")))
        except ValueError:
            return None
        if layout is None:
            return None
        try:
            return plan_for(layout, year).cellmap
        except Exception:  # noqa: BLE001 - no map: cells are marked, nothing fixed in place
            return None
