"""The one-page result an agency gets back after the round (``merge --results DIR``).

This module owns the page: what it says (``agency_pages``: one ``AgencyPage`` per counted
return), how it is laid out on one A4 portrait sheet (``write_page``; ``add_result_sheet`` puts
the same page into an openpyxl workbook, the agency's feedback copy), the folder of result
workbooks and their PDFs (``check_results_dir``, ``write_results``), and the marker that says
a file there is an earlier result (``is_result_file``).

What the page says, Thai first with the English small beside or below it:

1. the form's Thai title and fiscal year (Buddhist Era), the agency's name, code and ministry,
   the return counted and its state, the day the page was made (BE);
2. its scores (``summary.agency_scores``: the checklist score and the 7.2 score, one
   definition), and the mean score of each 7.2 table where there is room (``_plan``), each
   beside its ministry's median, the national median (of every counted agency with a score)
   and its rank in its ministry and nationally (``quality.rank_among``, the summary's rule
   too: 1 is the highest, equal scores share a rank); a note gives the national quartiles
   (``quality.robust_stats``);
3. its checklist rows by status (counts, and the share of the rows);
4. its data-quality notes: how many errors and warnings its counted return has, the cells left
   out (``counted_with_errors``), the items marked done without details (the rule of
   ``Consolidated.done_without_details``, for the agency alone), the implausible indicators
   (``Consolidated.implausible``) and the first problems, each with its cell and its Thai
   message.

One page, legible: the page declares its print scale, ``MIN_SCALE`` (not fit-to-page, which
LibreOffice clips the last row of when nearly full); the columns fill the printable width of
A4 portrait at that scale (the figure columns as wide as their headings' longest line, the
label column the rest); every row's height is measured (``textmetrics``: each line of a cell
at its own size); a label's English goes beside its Thai where both fit on one line; and the
list of problems is cut to what remains, with a line saying how many more there are, so that
the rows fit the printable height at that scale (``_BUDGET_PX``). Only a page whose fixed
part alone is taller declares a smaller scale (``_scale``), so that it still prints whole.
Agencies' text is data: every text goes through ``write_string`` of ``xlsxtext.Workbook``
(never a formula, a link or markup); rich strings hold our own labels only.

The result files are named from the agency code (``result_names``), each written whole, the
set replaced together (``outputs.OutputSet``); a file in the folder is replaced only if it is
an earlier result (a workbook carrying ``RESULT_MARKER`` in its custom properties, or the PDF
beside one). The page's sheet carries ``RESULT_MARKER`` in hidden H1 too: in a feedback copy
the reader ignores the sheet by that and its reserved name (``layout.RESERVED_SHEETS``).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from .cellmap import build_cellmap
from .consolidate import COUNTED, STATE_WORDS, Consolidated
from .errors import PmqaError
from .groups import file_names
from .inputs import path_text
from .layout import (
    FEEDBACK_MARKER_AT,
    RESULT_MARKER,
    RESULT_SHEET,
    ChecklistSheet,
    IndicatorSheet,
    Layout,
    iter_rows,
)
from .libreoffice import convert_many, soffice_path
from .outputs import OutputSet, forget_temporary, new_temporary_folder
from .quality import rank_among, robust_stats
from .roster import Agency
from .summary import agency_scores
from .textmetrics import (
    FIT_SLACK_EM,
    PX_PER_PT,
    ROW_PADDING_PX,
    chars_for,
    column_pixels,
    count_lines,
    digit_width,
    line_pixels,
    text_room,
    text_width,
)
from .words import Words
from .xlsxtext import Workbook

#: The custom document property of a result workbook, holding ``RESULT_MARKER``; the page's
#: sheet (``RESULT_SHEET``) also holds the marker in a hidden column, as the reader knows it.
RESULT_PROPERTY = "pmqa_xlsx"
#: What a result file's name ends with, after the agency code.
RESULT_SUFFIX = "-result"
#: Problems listed on the page at most (fewer where the page would run over).
LISTED_MAX = 12
#: The problems that come before the 7.2 score of each table: those rows are on the page
#: only if it holds them and this many problems (or all, if fewer).
LISTED_MIN = 3
#: How many PDFs one start of LibreOffice converts.
PDF_BATCH = 50

_BE = 543
_THAI_MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
                "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")
_FONT_NAME = "TH Sarabun New"
_SIZE = 13
_SMALL = 9
_TITLE_SIZE = 16
#: A4 portrait within the margins below, in points.
_MARGINS = {"left": 0.4, "right": 0.4, "top": 0.3, "bottom": 0.4}
#: The footer's distance from the sheet's bottom edge, in inches (its line ends within the
#: bottom margin).
_FOOTER_MARGIN = 0.2
_PRINTABLE_PT = (595.0 - 72.0 * (_MARGINS["left"] + _MARGINS["right"]),
                 842.0 - 72.0 * (_MARGINS["top"] + _MARGINS["bottom"]))
#: The score table's figure columns: each heading (Thai lines, then English lines, each line
#: kept whole) and the widest figure it holds; each column is as wide as its widest line.
_FIGURES = ((Words("หน่วยงาน\nนี้", "this agency"), "5.00"),
            (Words("มัธยฐาน\nกระทรวง", "ministry median"), "5.00"),
            (Words("มัธยฐาน\nทั้งหมด", "national median"), "5.00"),
            (Words("อันดับใน\nกระทรวง", "rank in ministry"), "999 / 999"),
            (Words("อันดับ\nทั้งหมด", "national rank"), "999 / 999"))
_PT_PER_PX = 0.75
#: The print scale the page is laid out for: the columns fill the printable width at this
#: scale, and the rows are chosen to fill no more than its height (``_BUDGET_PX``).
MIN_SCALE = 0.9
#: What the page leaves unused of the printable height, against rounding in the
#: spreadsheet applications' row heights.
_SAFETY = 0.98
#: The height the page may take at 100 %, in pixels.
_BUDGET_PX = _PRINTABLE_PT[1] / _PT_PER_PX / MIN_SCALE * _SAFETY


def _column_widths() -> tuple[float, ...]:
    """The columns' widths in characters: the figures' as wide as their widest line, the
    label column the rest of the printable width at ``MIN_SCALE``."""
    figures = []
    for words, sample in _FIGURES:
        lines = [(t, _SIZE, True) for t in words.th.split("\n")]
        lines += [(t, _SMALL, False) for t in words.en.split("\n")] + [(sample, _SIZE, False)]
        # chars_for keeps the slack of a line at the page's size; a smaller line needs less
        figures.append(max(chars_for(text_width(t, s, bold=b)
                                     - FIT_SLACK_EM * (_SIZE - s) * PX_PER_PT, _SIZE)
                           for t, s, b in lines))
    room = (_PRINTABLE_PT[0] / _PT_PER_PX / MIN_SCALE
            - sum(column_pixels(w, _SIZE) for w in figures))
    label = 1.0
    while column_pixels(label + 0.25, _SIZE) <= room:
        label += 0.25
    return (label, *figures)


#: Column widths in characters of the default font.
_WIDTHS = _column_widths()
_LAST = len(_WIDTHS) - 1


@dataclass(frozen=True, slots=True)
class ScoreLine:
    """One score of the page: the agency's, its ministry's median, the national median and
    quartiles, and its ranks (None where it has no score)."""

    label: Words
    value: float | None
    ministry_median: float | None
    national_median: float | None
    national_q1: float | None
    national_q3: float | None
    ministry_rank: int | None
    ministry_count: int
    national_rank: int | None
    national_count: int
    per_table: bool = False  # the mean score of one 7.2 table (left out where no room)


@dataclass(frozen=True, slots=True)
class Note:
    """One located data-quality note: the cell (``sheet!cell``, or "" for the whole file),
    its severity (error, warning, implausible) and the Thai and English messages."""

    cell: str
    severity: str
    message: Words


@dataclass(frozen=True, slots=True)
class AgencyPage:
    """What one agency's page says (see the module's notes)."""

    code: str
    name: str
    ministry: str
    file: str  # the file name shown
    state: str
    title: str
    fiscal_year: int | None
    round: str | None
    scores: tuple[ScoreLine, ...]
    statuses: tuple[tuple[str, int], ...]  # (status label, or "" for blank, rows)
    errors: int
    warnings: int
    left_out: Words | None
    without_details: tuple[str, ...]  # item ids
    implausible: tuple[Note, ...]
    notes: tuple[Note, ...]  # every problem of its counted return, errors first
    made: date = field(default_factory=date.today)
    source: str = ""  # the return's file as the frames record it
    feedback: bool = False  # sent with a feedback copy, which lists every problem


class ResultsRefused(PmqaError):
    """The results folder cannot be used (``words`` says why, in Thai and English)."""

    words: Words

    def __init__(self, words: Words) -> None:
        super().__init__(words.en)
        self.words = words


@dataclass(frozen=True, slots=True)
class ResultsWritten:
    """What ``write_results`` wrote: the workbooks and PDFs, and why there are no PDFs if
    there are none (``no_pdf``); and the earlier results it left in the folder (``stale``:
    result workbooks of agencies this merge counted no return of, each with its PDF beside
    it if there is one), which it lists and never removes."""

    workbooks: tuple[Path, ...]
    pdfs: tuple[Path, ...]
    no_pdf: Words | None
    stale: tuple[Path, ...] = ()


def agency_pages(result: Consolidated, roster: Sequence[Agency] | None, *,
                 made: date | None = None, feedback: bool = False) -> list[AgencyPage]:
    """One page per counted return, in the order of ``result.returns``. The round's figures
    (statistics, ranks, each file's problems, statuses and notes) are gathered once, so the
    pages of a round cost about as much as reading its frames once. ``feedback``: the
    agencies also get feedback copies (merge --feedback), where a page's line counting the
    problems not listed points to."""
    made = made or date.today()
    layout = result.layouts[0] if result.layouts else None
    returns = result.returns
    counted = returns[returns["state"].isin(COUNTED)] if len(returns) else returns
    tables = [t for s in (layout.sheets if layout else ()) if isinstance(s, IndicatorSheet)
              for t in s.tables]
    frame = agency_scores(result, roster)
    by_table = _table_scores(result, [t.id for t in tables])
    wanted = [("checklist", Words("คะแนนรายการตรวจ", "Checklist score")),
              ("score_72", Words("คะแนน 7.2 ทุกตาราง", "7.2 score"))]
    for table in tables:
        key = f"table_{table.id}"
        frame[key] = [by_table.get((c, table.id)) for c in frame["agency_code"]]
        wanted.append((key, Words(f"ตาราง {table.id}", "")))
    figures = _Figures(frame, [key for key, _ in wanted])
    facts = _Facts(result, layout)
    ministry_of = dict(zip(frame["agency_code"], frame["ministry"], strict=True))
    pages = []
    for row in counted.itertuples(index=False):
        code = str(row.agency_code)
        if code not in ministry_of:
            continue
        lines = tuple(figures.line(code, ministry_of[code], key, label)
                      for key, label in wanted)
        pages.append(_page(result, row, lines, facts, layout, ministry_of[code], made,
                           feedback))
    return pages


def result_names(codes: Iterable[str], suffix: str = ".xlsx") -> dict[str, str]:
    """Each agency code's result file name, ``<code>-result.xlsx``: the code made a safe file
    name on every system and the names distinct (``groups.file_names``)."""
    return {code: name[: -len(suffix)] + RESULT_SUFFIX + suffix
            for code, name in file_names(codes, suffix).items()}


def is_result_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a result workbook this module wrote (its custom property), or the
    PDF of one (a PDF beside such a workbook of the same name)."""
    target = Path(path)
    if target.suffix.lower() == ".pdf":
        with _opened(target) as head:
            if head is None or not head.startswith(b"%PDF"):
                return False
        return is_result_file(target.with_suffix(".xlsx"))
    try:
        with zipfile.ZipFile(target) as package, package.open("docProps/custom.xml") as part:
            data = part.read(1 << 16)
    except (OSError, KeyError, zipfile.BadZipFile, ValueError):
        return False
    return RESULT_MARKER.encode() in data


def check_results_dir(directory: str | os.PathLike[str], codes: Iterable[str],
                      given: Iterable[str | os.PathLike[str]],
                      outputs: Iterable[tuple[str, str | os.PathLike[str]]] = ()) -> Path:
    """Refuse (ResultsRefused) a results folder that is a file, is or lies in an input folder
    given (the next merge would read the pages as returns), is the folder of another output
    of the command (``outputs``: (option, path); a folder of --feedback), or holds a file
    that a result of one of ``codes`` would replace and that is not an earlier result.
    Nothing is written; returns the folder."""
    folder = Path(directory)
    shown = path_text(folder)
    if os.path.lexists(folder) and not folder.is_dir():
        raise ResultsRefused(Words(
            f"--results {shown}: เป็นไฟล์ ไม่ใช่โฟลเดอร์ ให้ระบุโฟลเดอร์สำหรับเก็บผลรายหน่วยงาน",
            f"--results {shown}: is a file, not a folder; give a folder for the results"))
    if not folder.parent.is_dir():
        raise ResultsRefused(Words(
            f"--results {shown}: ไม่พบโฟลเดอร์ {path_text(folder.parent)}",
            f"--results {shown}: folder {path_text(folder.parent)} does not exist"))
    resolved = Path(os.path.realpath(folder))
    for path in given:
        if not os.path.isdir(path):
            continue
        top = Path(os.path.realpath(path))
        if resolved == top or top in resolved.parents:
            raise ResultsRefused(Words(
                f"--results {shown}: อยู่ในโฟลเดอร์ข้อมูลนำเข้า {path_text(path)} ครั้งต่อไปที่รวมผล"
                "โฟลเดอร์นั้น ไฟล์ผลรายหน่วยงานจะถูกอ่านเป็นแบบฟอร์ม: ให้เลือกโฟลเดอร์อื่นที่อยู่นอก"
                "โฟลเดอร์ข้อมูลนำเข้า",
                f"--results {shown}: is inside the input folder {path_text(path)}, so the next "
                "merge of it would read the results as returns: choose a folder outside the "
                "inputs"))
    written = {}
    for option, path in outputs:
        real = os.path.realpath(path)
        written[real] = option
        if option == "--feedback" and Path(real) == resolved:
            raise ResultsRefused(Words(
                f"--results {shown}: เป็นโฟลเดอร์เดียวกับ --feedback ให้เก็บผลรายหน่วยงานแยกไว้"
                "อีกโฟลเดอร์หนึ่ง",
                f"--results {shown}: is the --feedback folder; keep the results in a folder "
                "of their own"))
    for name in result_names(codes).values():
        for target in (folder / name, folder / (Path(name).stem + ".pdf")):
            if os.path.realpath(target) in written:
                option = written[os.path.realpath(target)]
                raise ResultsRefused(Words(
                    f"--results {shown}: ผลของหน่วยงานจะเขียนทับ {path_text(target)} ซึ่งเป็น"
                    f"ผลลัพธ์ {option} ของคำสั่งนี้ ให้เลือกโฟลเดอร์อื่น",
                    f"--results {shown}: a result would replace {path_text(target)}, which "
                    f"this command writes ({option}): choose another folder"))
            if os.path.lexists(target) and not is_result_file(target):
                raise ResultsRefused(Words(
                    f"--results {shown}: มีไฟล์ {path_text(target)} อยู่แล้ว และไม่ใช่ผลราย"
                    "หน่วยงานที่เขียนไว้ครั้งก่อน ให้เลือกโฟลเดอร์อื่น หรือย้ายไฟล์นั้นออกก่อน",
                    f"--results {shown}: {path_text(target)} exists and is not an earlier "
                    "result: choose another folder, or move that file out first"))
    return folder


@dataclass(frozen=True, slots=True)
class PreparedResults:
    """Result pages made ready in a temporary folder, to be put in place with the merge's
    other outputs, as one set (``report.write_outputs(also=files)``): ``files`` pairs each
    file made with where it goes in ``folder``; ``no_pdf`` says why there are no PDFs."""

    folder: Path
    files: tuple[tuple[Path, Path], ...]
    no_pdf: Words | None

    def written(self, targets: Iterable[Path]) -> ResultsWritten:
        """What was written, once the files are in place (``targets``: all the set's), and
        the earlier results left in the folder (``stale_results``)."""
        mine = {target for _, target in self.files}
        placed = [t for t in targets if t in mine]
        stale: tuple[Path, ...] = ()
        with contextlib.suppress(OSError):  # written whole: a folder that cannot be listed
            stale = stale_results(self.folder, placed)  # now only leaves them unnamed
        return ResultsWritten(tuple(t for t in placed if t.suffix == ".xlsx"),
                              tuple(t for t in placed if t.suffix == ".pdf"), self.no_pdf,
                              stale)


@contextlib.contextmanager
def prepared_results(pages: Sequence[AgencyPage], directory: str | os.PathLike[str], *,
                     pdf: bool = True) -> Iterator[PreparedResults]:
    """Each page made as ``<code>-result.xlsx`` and, with ``pdf`` and LibreOffice present,
    its PDF, in a temporary folder removed when the block ends; ``directory`` is made if
    missing (and removed again if the block fails and it is still empty). Check the folder
    first (``check_results_dir``)."""
    folder = Path(directory)
    names = result_names(p.code for p in pages)
    made_folder = not os.path.lexists(folder)
    folder.mkdir(exist_ok=True)
    work = Path(new_temporary_folder("pmqa-results-"))
    try:
        books = []
        for page in pages:
            book = work / names[page.code]
            write_page(page, book)
            books.append(book)
        pdfs: list[Path] = []
        no_pdf = None
        if pdf and books and soffice_path() is None:
            no_pdf = Words("ไม่ได้ทำไฟล์ PDF เพราะเครื่องนี้ไม่มี LibreOffice (ติดตั้ง LibreOffice "
                           "แล้วสั่งรวมผลอีกครั้ง หรือเปิดไฟล์ .xlsx แล้วสั่งพิมพ์เป็น PDF เอง)",
                           "no PDFs were made: LibreOffice is not installed here (install it "
                           "and merge again, or open each .xlsx and print it to PDF)")
        elif pdf:
            try:
                for start in range(0, len(books), PDF_BATCH):
                    pdfs += convert_many(books[start:start + PDF_BATCH], work, "pdf")
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                pdfs = []
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                no_pdf = Words(f"ไม่ได้ทำไฟล์ PDF เพราะ LibreOffice แปลงไฟล์ไม่สำเร็จ ({first}) "
                               "ไฟล์ .xlsx เขียนครบแล้ว เปิดแล้วสั่งพิมพ์เป็น PDF เองได้",
                               f"no PDFs were made: LibreOffice failed ({first}); the .xlsx "
                               "files are written: open each and print it to PDF")
        yield PreparedResults(folder, tuple((made, folder / made.name)
                                            for made in [*books, *pdfs]), no_pdf)
    except BaseException:
        if made_folder:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if nothing is in it
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
        forget_temporary(work)


def write_results(pages: Sequence[AgencyPage], directory: str | os.PathLike[str], *,
                  pdf: bool = True) -> ResultsWritten:
    """Write each page as ``<code>-result.xlsx`` into ``directory`` (made if missing), and,
    with ``pdf`` and LibreOffice present, its PDF beside it; all the files replace the
    earlier ones together or not at all. Check the folder first (``check_results_dir``).
    (A merge puts them in place with its other outputs instead: ``prepared_results``.)"""
    with prepared_results(pages, directory, pdf=pdf) as prepared:
        with OutputSet() as out:
            for made, target in prepared.files:
                shutil.copyfile(made, out.stage(target))
            targets = out.commit()
        return prepared.written(targets)


def stale_results(directory: str | os.PathLike[str],
                  written: Iterable[str | os.PathLike[str]]) -> tuple[Path, ...]:
    """The earlier result workbooks in ``directory`` (``is_result_file``; the folder itself,
    not below it) that are not among ``written``: results an agency may still be sent by
    mistake, though this merge counted no return of it. Sorted by name."""
    keep = {Path(p).name.casefold() for p in written}
    found = []
    with os.scandir(directory) as entries:
        for entry in entries:
            name = entry.name
            if not name.casefold().endswith(f"{RESULT_SUFFIX}.xlsx") \
                    or name.casefold() in keep:
                continue
            if entry.is_file(follow_symlinks=False) and is_result_file(entry.path):
                found.append(Path(entry.path))
    return tuple(sorted(found, key=lambda p: p.name))


def write_page(page: AgencyPage, target: str | os.PathLike[str] | Any) -> None:
    """Write ``page`` as a workbook of one sheet (a path, or a binary file object)."""
    with Workbook(target, {"default_format_properties": {"font_name": _FONT_NAME,
                                                         "font_size": _SIZE}}) as workbook:
        workbook.set_custom_property(RESULT_PROPERTY, RESULT_MARKER)
        workbook.set_properties({"title": f"{page.title} {page.code}"})
        ws = workbook.add_worksheet(RESULT_SHEET)
        _PageWriter(workbook, ws).write(page)


def add_result_sheet(book: Any, page: AgencyPage, default_size: float) -> None:
    """Put ``page`` into an openpyxl workbook (a feedback copy) as the sheet ``RESULT_SHEET``,
    second (after the list of problems), replacing an earlier one of ours. ``default_size``
    is the workbook's default font size (the form's): the columns are set to the same pixels
    as in the standalone page."""
    remove_result_sheet(book)
    ws = book.create_sheet(RESULT_SHEET, min(1, len(book.worksheets)))
    _PageWriter(_OpenpyxlBook(), _OpenpyxlSheet(ws, default_size)).write(page)


def remove_result_sheet(book: Any) -> None:
    """Remove the page's sheet from an openpyxl workbook if it is ours (name and marker)."""
    if RESULT_SHEET not in book.sheetnames:
        return
    ws = book[RESULT_SHEET]
    row, col = FEEDBACK_MARKER_AT
    if ws.cell(row + 1, col + 1).value == RESULT_MARKER:
        book.remove(ws)


def be_date(day: date) -> str:
    """A day in Thai, Buddhist Era: ``1 ธันวาคม 2569``."""
    return f"{day.day} {_THAI_MONTHS[day.month - 1]} {day.year + _BE}"


# --------------------------------------------------------------------------------------------
# Private: the page's figures
# --------------------------------------------------------------------------------------------


def _table_scores(result: Consolidated, tables: Sequence[str]) -> dict[tuple[str, str], float]:
    """(agency code, table id) -> the mean score of the table's scored rows."""
    got: dict[tuple[str, str], float] = {}
    scores = result.scores
    for table in tables:
        column = f"score_mean_{table}"
        if column not in scores.columns:
            continue
        for code, value in zip(scores["agency_code"], scores[column], strict=True):
            if not pd.isna(value):
                got[(str(code), table)] = float(value)
    return got


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


class _Figures:
    """Each score's statistics and sorted values, nationally and per ministry."""

    def __init__(self, frame: pd.DataFrame, keys: Sequence[str]) -> None:
        self.value: dict[tuple[str, str], float | None] = {}
        groups: dict[tuple[str | None, str], list[float]] = {}
        for record in frame.to_dict("records"):
            code, ministry = str(record["agency_code"]), str(record["ministry"])
            for key in keys:
                value = _number(record[key])
                self.value[(code, key)] = value
                if value is not None:
                    groups.setdefault((None, key), []).append(value)
                    groups.setdefault((ministry, key), []).append(value)
        self.sorted = {k: sorted(v) for k, v in groups.items()}
        self.stats = {k: robust_stats(v) for k, v in groups.items()}

    def line(self, code: str, ministry: str, key: str, label: Words) -> ScoreLine:
        value = self.value.get((code, key))
        empty = robust_stats([])
        national = self.stats.get((None, key), empty)
        local = self.stats.get((ministry, key), empty)
        return ScoreLine(label, value, local.median, national.median, national.q1,
                         national.q3, self._rank(value, (ministry, key)), local.count,
                         self._rank(value, (None, key)), national.count,
                         per_table=key.startswith("table_"))

    def _rank(self, value: float | None, group: tuple[str | None, str]) -> int | None:
        """The value's rank in its group (``quality.rank_among``: equal values share it)."""
        if value is None:
            return None
        return rank_among(value, self.sorted.get(group, []))


class _Facts:
    """Each file's problems, implausible rows, statuses and items done without details,
    gathered once from the round's frames."""

    def __init__(self, result: Consolidated, layout: Layout | None) -> None:
        self.problems: dict[str, list[Any]] = {}
        p: Any  # a frame's row, by its columns' names
        for p in result.problems.itertuples(index=False):
            if not pd.isna(p.file):
                self.problems.setdefault(str(p.file), []).append(p)
        self.implausible: dict[str, list[Any]] = {}
        for p in result.implausible.itertuples(index=False):
            if not pd.isna(p.file):
                self.implausible.setdefault(str(p.file), []).append(p)
        self.statuses: dict[str, dict[str, int]] = {}
        answers = result.answers
        if len(answers):
            part = answers[(answers["kind"] == "status").to_numpy(dtype=bool)]
            for file, value in zip(part["file"], part["value"], strict=True):
                if not pd.isna(file) and value is not None and not pd.isna(value):
                    counts = self.statuses.setdefault(str(file), {})
                    counts[str(value)] = counts.get(str(value), 0) + 1
        # The rule of Consolidated.done_without_details, for one return: its
        # details-required problems placed on their items through the merge's cell maps.
        self.item_of: dict[tuple[str, str], str] = {}
        self.order: dict[str, int] = {}
        for each in result.layouts:
            for cell in build_cellmap(each).inputs():
                self.item_of.setdefault((cell.sheet, cell.ref), cell.item_id)
                self.order.setdefault(cell.item_id, len(self.order))
        self.layout = layout

    def without_details(self, file: str) -> tuple[str, ...]:
        items = {self.item_of[(str(p.sheet), str(p.cell))]
                 for p in self.problems.get(file, []) if p.code == "details-required"
                 and (str(p.sheet), str(p.cell)) in self.item_of}
        return tuple(sorted(items, key=lambda i: self.order.get(i, len(self.order))))

    def status_counts(self, file: str) -> tuple[tuple[str, int], ...]:
        """The return's checklist rows per status label of the layout, then "" (blank)."""
        if self.layout is None:
            return ()
        labels = list(self.layout.status_labels())
        got = self.statuses.get(file, {})
        counts = {label: got.get(label, 0) for label in labels}
        rows = sum(1 for s in self.layout.sheets if isinstance(s, ChecklistSheet)
                   for _ in iter_rows(s))
        return (*counts.items(), ("", max(0, rows - sum(counts.values()))))


def _page(result: Consolidated, row: Any, lines: tuple[ScoreLine, ...], facts: _Facts,
          layout: Layout | None, ministry: str, made: date,
          feedback: bool = False) -> AgencyPage:
    code, file = str(row.agency_code), str(row.file)
    order = {"error": 0, "warning": 1}
    notes = sorted((Note(_cell(p.sheet, p.cell), str(p.severity),
                         Words(str(p.message_th), str(p.message_en)))
                    for p in facts.problems.get(file, [])),
                   key=lambda n: order.get(n.severity, 2))
    odd = tuple(Note(str(p.target_cell), "implausible",
                     Words(f"ตัวชี้วัด {p.item_id}: {p.reason_th} (ผลอยู่ที่ {p.result_cells})",
                           f"indicator {p.item_id}: {p.reason_en} (results in "
                           f"{p.result_cells})"))
                for p in facts.implausible.get(file, []))
    state = str(row.state)
    left_out = None
    if state == "counted_with_errors" and not pd.isna(row.reason_th):
        left_out = Words(str(row.reason_th), str(row.reason_en))
    fiscal = row.fiscal_year
    return AgencyPage(
        code=code, name="" if pd.isna(row.agency_name) else str(row.agency_name),
        ministry=ministry, file=Path(file).name, state=state,
        title=layout.form.title if layout else "PMQA 4.0",
        fiscal_year=None if pd.isna(fiscal) else int(fiscal),
        round=str(result.round) if result.round is not None else None,
        scores=lines, statuses=facts.status_counts(file),
        errors=int(row.errors) if not pd.isna(row.errors) else 0,
        warnings=int(row.warnings) if not pd.isna(row.warnings) else 0,
        left_out=left_out, without_details=facts.without_details(file),
        implausible=odd, notes=tuple(notes), made=made, source=file, feedback=feedback)


def _cell(sheet: Any, cell: Any) -> str:
    if pd.isna(sheet) or pd.isna(cell):
        return ""
    return f"{sheet}!{cell}"


class _opened:
    """The first bytes of a file, or None if it cannot be read (a context manager)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> bytes | None:
        try:
            with self.path.open("rb") as handle:
                return handle.read(8)
        except OSError:
            return None

    def __exit__(self, *exc: object) -> None:
        return None


# --------------------------------------------------------------------------------------------
# Private: the page's writer, one method per block
# --------------------------------------------------------------------------------------------


def _shown(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f}"


#: A measured piece of a cell: (text, columns' widths, size, bold). Pieces of one cell joined
#: by a line break are measured one by one, each at its own size.
_Piece = tuple[str, Sequence[float], float, bool]


class _PageWriter:
    """Writes the page row by row, each row's height measured, and keeps the height used."""

    _KIND = {"error": Words("ผิดพลาด", "error"), "warning": Words("ควรตรวจ", "warning"),
             "implausible": Words("ค่าผิดปกติ", "implausible")}

    def __init__(self, workbook: Any, ws: Any) -> None:
        self.workbook, self.ws, self.row = workbook, ws, 0
        self.used_px = 0.0
        base = {"font_name": _FONT_NAME, "font_size": _SIZE, "valign": "top", "text_wrap": True}
        add = workbook.add_format
        self.f = {
            "title": add({**base, "bold": True, "font_size": _TITLE_SIZE}),
            "subtitle": add({**base, "font_size": _SMALL, "font_color": "#595959"}),
            "label": add({**base, "border": 1, "bg_color": "#F2F2F2"}),
            "text": add({**base, "border": 1}),
            "header": add({**base, "border": 1, "bold": True, "bg_color": "#D9E1F2"}),
            "score": add({**base, "border": 1, "num_format": "0.00"}),
            "figure": add({**base, "border": 1, "align": "right"}),
            "count": add({**base, "border": 1, "num_format": "#,##0"}),
            "share": add({**base, "border": 1, "num_format": "0.0%"}),
            "error": add({**base, "border": 1, "font_color": "#9C0006", "bg_color": "#FFC7CE"}),
            "warning": add({**base, "border": 1, "font_color": "#7F3F00",
                            "bg_color": "#F8CBAD"}),
            "note": add({**base, "font_size": _SMALL, "font_color": "#595959"}),
            # runs of a rich string
            "run": add({"font_name": _FONT_NAME, "font_size": _SIZE}),
            "run_bold": add({"font_name": _FONT_NAME, "font_size": _SIZE, "bold": True}),
            "run_small": add({"font_name": _FONT_NAME, "font_size": _SMALL,
                              "font_color": "#595959"}),
        }
        for col, width in enumerate(_WIDTHS):
            ws.set_column(col, col, width)
        row, col = FEEDBACK_MARKER_AT  # the marker the reader knows the sheet by
        ws.set_column(col, col, None, None, {"hidden": True})
        ws.write_string(row, col, RESULT_MARKER)
        ws.set_paper(9)
        ws.set_portrait()
        ws.set_margins(**_MARGINS)
        ws.hide_gridlines(2)
        ws.set_footer("&L&8pmqa_xlsx&R&8" + Words("หน้า 1", "page 1").th,
                      {"margin": _FOOTER_MARGIN})

    # -- measuring and writing cells ------------------------------------------------------

    @staticmethod
    def _height(cells: Sequence[Sequence[_Piece]]) -> float:
        """The row height (pt, whole pixels) that shows every cell's pieces."""
        px = max(sum(count_lines(t, text_room(w, _SIZE), s, bold=b) * line_pixels(s)
                     for t, w, s, b in pieces) for pieces in cells) + ROW_PADDING_PX
        return px * _PT_PER_PX

    def _end_row(self, cells: Sequence[Sequence[_Piece]]) -> None:
        height = self._height(cells)
        self.ws.set_row(self.row, height)
        self.used_px += height / _PT_PER_PX
        self.row += 1

    def _gap(self, pixels: int = 8) -> None:
        self.ws.set_row(self.row, pixels * _PT_PER_PX)
        self.used_px += pixels
        self.row += 1

    def _span(self, col: int, last: int, fmt: str) -> Sequence[float]:
        if last > col:
            self.ws.merge_range(self.row, col, self.row, last, "", self.f[fmt])
        return _WIDTHS[col:last + 1]

    def _words(self, col: int, words: Words, fmt: str, last: int | None = None, *,
               below: bool | None = None, bold: bool = False) -> list[_Piece]:
        """Our own label: the Thai, then the English small beside it where both fit on one
        line of the cell (``below`` None), else below it; ``below`` True or False forces."""
        widths = self._span(col, col if last is None else last, fmt)
        run = self.f["run_bold" if bold else "run"]
        if not words.en:
            self.ws.write_string(self.row, col, words.th, self.f[fmt])
            return [(words.th, widths, _SIZE, bold)]
        beside = _beside_fits(words, widths, bold)
        if below is None:
            below = not beside
        gap = "\n" if below else " "
        self.ws.write_rich_string(self.row, col, run, words.th + gap, self.f["run_small"],
                                  words.en, self.f[fmt])
        if below:
            return [(words.th, widths, _SIZE, bold), (words.en, widths, _SMALL, False)]
        if beside:  # one line: the Thai measured, the English in what is left of it
            return [(words.th, widths, _SIZE, bold)]
        return [(f"{words.th} {words.en}", widths, _SIZE, bold)]  # the English over-measured

    def _text(self, col: int, text: str, fmt: str, last: int | None = None, *,
              size: float = _SIZE, bold: bool = False) -> list[_Piece]:
        """Any text, an agency's included: always a string, never a formula or a link."""
        widths = self._span(col, col if last is None else last, fmt)
        self.ws.write_string(self.row, col, text, self.f[fmt])
        return [(text, widths, size, bold)]

    def _value(self, col: int, value: float | None, fmt: str) -> list[_Piece]:
        if value is None:
            return self._text(col, "–", "figure")
        self.ws.write_number(self.row, col, value, self.f[fmt])
        return [(f"{value:,.2f}", _WIDTHS[col:col + 1], _SIZE, False)]

    # -- blocks ---------------------------------------------------------------------------

    def write(self, page: AgencyPage) -> None:
        """The page as ``_plan`` fits it, at the print scale its rows need (``_scale``)."""
        tables, listed = _plan(page)
        self.blocks(page, tables=tables, listed=listed)
        self.ws.set_print_scale(_scale(self.used_px))

    def blocks(self, page: AgencyPage, *, tables: bool, listed: int) -> None:
        """Every block: with the per-table scores or not, and ``listed`` problems."""
        self.head(page)
        self.scores(page, tables)
        self.statuses(page)
        self.quality(page, listed)

    def head(self, page: AgencyPage) -> None:
        year = f" ปีงบประมาณ พ.ศ. {page.fiscal_year}" if page.fiscal_year else ""
        rnd = f" รอบ {page.round}" if page.round else ""
        self._end_row([self._text(0, f"ผลการประเมินตนเองของหน่วยงาน{year}{rnd}",
                                  "title", _LAST, size=_TITLE_SIZE, bold=True)])
        english = (f"{page.title} / PMQA 4.0 self-assessment: the agency's result"
                   + (f", fiscal year {page.fiscal_year} BE ({page.fiscal_year - _BE} CE)"
                      if page.fiscal_year else "")
                   + (f", round {page.round}" if page.round else "")
                   + f". ออกรายงานเมื่อ {be_date(page.made)} / made on {page.made.isoformat()}")
        self._end_row([self._text(0, english, "subtitle", _LAST, size=_SMALL)])
        self._gap()
        state = STATE_WORDS.get(page.state, Words(page.state, page.state))
        for label, value in ((Words("หน่วยงาน", "agency"),
                              f"{page.name} (รหัส {page.code}) สังกัด {page.ministry}"),
                             (Words("แบบฟอร์มที่นับผล", "return counted"),
                              f"{page.file}: {state.th} ({state.en})")):
            self._end_row([self._words(0, label, "label"),
                           self._text(1, value, "text", _LAST)])

    def scores(self, page: AgencyPage, tables: bool = True) -> None:
        self._gap()
        heads = [self._words(0, Words("1. คะแนน", "scores"), "header", bold=True)]
        heads += [self._words(c, w, "header", below=True, bold=True)
                  for c, (w, _) in enumerate(_FIGURES, start=1)]
        self._end_row(heads)
        for line in page.scores:
            if line.per_table and not tables:
                continue
            cells = [self._words(0, line.label, "label")]
            for col, value in ((1, line.value), (2, line.ministry_median),
                               (3, line.national_median)):
                cells.append(self._value(col, value, "score"))
            for col, rank, of in ((4, line.ministry_rank, line.ministry_count),
                                  (5, line.national_rank, line.national_count)):
                cells.append(self._text(col, "–" if rank is None else f"{rank} / {of}",
                                        "figure"))
            self._end_row(cells)
        scored = max((s.national_count for s in page.scores), default=0)
        in_ministry = max((s.ministry_count for s in page.scores), default=0)
        middle = [(s.label, s.national_q1, s.national_q3) for s in page.scores
                  if not s.per_table and s.national_q1 is not None
                  and s.national_q3 is not None]
        spread = Words("", "")
        if middle:
            spread = Words(" ควอร์ไทล์ที่ 1 ถึง 3 ของทั้งหมด: " + ", ".join(
                f"{label.th} {_shown(q1)}–{_shown(q3)}" for label, q1, q3 in middle),
                "; national Q1 to Q3: " + ", ".join(
                f"{label.en} {_shown(q1)}–{_shown(q3)}" for label, q1, q3 in middle))
        left = Words("", "")
        if not tables and any(s.per_table for s in page.scores):
            left = Words(" คะแนนรายตาราง 7.2 ดูในไฟล์รวมผล",
                         "; per-table scores: see the consolidated workbook")
        note = Words(f"คะแนน 7.2 เต็ม 5 มัธยฐานและอันดับคิดจากหน่วยงานที่มีคะแนน ({scored:,} "
                     f"แห่ง ในกระทรวง {in_ministry:,} แห่ง) อันดับ 1 คือสูงสุด "
                     "คะแนนเท่ากันได้อันดับเดียวกัน – คือไม่มีคะแนน",
                     f"7.2 scores out of 5; medians, ranks: of the {scored:,} agencies with a "
                     f"score ({in_ministry:,} in the ministry); 1 is the highest, ties share "
                     "a rank; – no score") + spread + left
        self._end_row([self._text(0, f"{note.th} / {note.en}", "note", _LAST, size=_SMALL)])

    def statuses(self, page: AgencyPage) -> None:
        if not page.statuses:
            return
        self._gap()
        self._end_row([self._words(0, Words("2. รายการตรวจตามสถานะ", "checklist rows by status"),
                                   "header", _LAST - 2, bold=True),
                       self._words(_LAST - 1, Words("ข้อ", "rows"), "header", bold=True),
                       self._words(_LAST, Words("ร้อยละ", "share"), "header", bold=True)])
        total = sum(n for _, n in page.statuses)
        for label, count in page.statuses:
            cell = self._text(0, label, "label", _LAST - 2) if label else \
                self._words(0, Words("ไม่ได้ตอบ", "blank"), "label", _LAST - 2)
            self.ws.write_number(self.row, _LAST - 1, count, self.f["count"])
            self.ws.write_number(self.row, _LAST, count / total if total else 0.0,
                                 self.f["share"])
            self._end_row([cell])

    def quality(self, page: AgencyPage, listed: int = LISTED_MAX) -> None:
        self._gap()
        self._end_row([self._words(0, Words("3. คุณภาพข้อมูล", "data quality"), "header",
                                   _LAST, bold=True)])
        facts = [(Words("ข้อผิดพลาด / คำเตือน", "errors / warnings"),
                  f"ผิดพลาด {page.errors:,} จุด ควรตรวจ {page.warnings:,} จุด")]
        if page.left_out is not None:
            facts.append((Words("ช่องที่ไม่นำมานับ", "cells left out"), page.left_out.th))
        facts += [
            (Words("ดำเนินการแล้วแต่ไม่มีรายละเอียด", "done without details"),
             f"{len(page.without_details):,} ข้อ: ข้อ {', '.join(page.without_details)}"
             if page.without_details else "ไม่มี"),
            (Words("ตัวชี้วัดที่ค่าผิดปกติ ควรตรวจสอบ", "implausible indicators"),
             f"{len(page.implausible):,} แถว" if page.implausible else "ไม่มี")]
        # the labels over the columns that make the rows lowest, the same for every fact
        last = min(range(3), key=lambda k: (sum(_fact_px(lb, v, k) for lb, v in facts), k))
        for label, value in facts:
            self._end_row([self._words(0, label, "label", last),
                           self._text(last + 1, value, "text", _LAST)])
        notes = [*page.implausible, *page.notes]
        if not notes:
            return
        if listed:
            self._notes_header()
        for note in notes[:listed]:
            self._note(note)
        if listed < len(notes):
            self._end_row([self._text(0, _more_text(len(notes) - listed, listed,
                                                   page.feedback), "note",
                                      _LAST, size=_SMALL)])

    def _notes_header(self) -> None:
        self._end_row([self._words(0, Words("ตำแหน่ง / ประเภท", "cell / kind"), "header",
                                   bold=True),
                       self._words(1, Words("สิ่งที่ต้องแก้ไขหรือตรวจสอบ", "what to fix or check"),
                                   "header", _LAST, bold=True)])

    def _note(self, note: Note) -> None:
        """A problem: its cell and kind in the first column (coloured by the kind), its
        message over the rest."""
        fmt = "error" if note.severity == "error" else "warning"
        self._end_row([self._text(0, _where(note), fmt),
                       self._text(1, note.message.th, "text", _LAST)])

    @classmethod
    def _more_px(cls, more: int, listed: int = 1, feedback: bool = False) -> float:
        return cls._height([[(_more_text(more, listed, feedback), _WIDTHS, _SMALL,
                              False)]]) / _PT_PER_PX


class _NullSheet:
    """A worksheet that takes the page writer's calls and keeps nothing: to measure a page."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def _measure(page: AgencyPage, *, tables: bool, listed: int) -> float:
    """The height of ``page`` at 100 %, in pixels, as ``_PageWriter.blocks`` lays it out."""
    writer = _PageWriter(_OpenpyxlBook(), _NullSheet())
    writer.blocks(page, tables=tables, listed=listed)
    return writer.used_px


def _plan(page: AgencyPage) -> tuple[bool, int]:
    """What the page holds within ``_BUDGET_PX``: the 7.2 score of each table if the page
    with them and its first ``LISTED_MIN`` problems fits, then as many problems as fit in
    what remains (``_listed``; none where not even the first fits: the line that counts them
    says where they all are)."""
    notes = [*page.implausible, *page.notes]
    least = min(len(notes), LISTED_MIN)
    tables = any(s.per_table for s in page.scores)
    if tables and _measure(page, tables=True, listed=least) > _BUDGET_PX:
        tables = False
    if not notes:
        return tables, 0
    more = _PageWriter._more_px(len(notes), feedback=page.feedback)
    # the page with the list's heading and its first problem, less that problem and the
    # line counting the rest: what the list needs in any case
    fixed = (_measure(page, tables=tables, listed=1) - _note_px(notes[0])
             - (more if len(notes) > 1 else 0.0))
    return tables, _listed(notes, _BUDGET_PX - fixed, more)


def _scale(used_px: float) -> int:
    """The print scale, in per cent, of a page ``used_px`` tall at 100 %: ``MIN_SCALE``,
    or less where the page's fixed part alone is taller than ``_BUDGET_PX`` (a very long
    name, many statuses), so that it still prints whole on one sheet."""
    fits = _PRINTABLE_PT[1] * _SAFETY / (used_px * _PT_PER_PX) if used_px else 1.0
    return max(10, min(round(MIN_SCALE * 100), math.floor(fits * 100)))


def _beside_fits(words: Words, widths: Sequence[float], bold: bool) -> bool:
    """Whether a label's Thai (at the page's size) and its English (small) fit on one line
    of a cell over ``widths``."""
    if "\n" in words.th or "\n" in words.en:
        return False
    room = text_room(widths, _SIZE) - FIT_SLACK_EM * _SIZE * PX_PER_PT
    return text_width(words.th + " ", _SIZE, bold=bold) + text_width(words.en, _SMALL) <= room


def _fact_px(label: Words, value: str, last: int) -> float:
    """The height of a fact's row with its label over the columns 0 to ``last``."""
    below = not _beside_fits(label, _WIDTHS[:last + 1], False)
    pieces = [(label.th, _WIDTHS[:last + 1], _SIZE, False)]
    if below:
        pieces.append((label.en, _WIDTHS[:last + 1], _SMALL, False))
    return _PageWriter._height([pieces, [(value, _WIDTHS[last + 1:], _SIZE, False)]])


def _where(note: Note) -> str:
    """A problem's cell (or the whole file) and its kind, in Thai: ``หมวด 7.2!E11 ผิดพลาด``."""
    kind = _PageWriter._KIND.get(note.severity, Words(note.severity, note.severity))
    return f"{note.cell or 'ทั้งไฟล์'} {kind.th}"


def _note_px(note: Note) -> float:
    """The height of a note's row, in pixels (as ``_PageWriter._note`` writes it)."""
    pieces = [[(_where(note), _WIDTHS[0:1], _SIZE, False)],
              [(note.message.th, _WIDTHS[1:], _SIZE, False)]]
    return _PageWriter._height(pieces) / _PT_PER_PX


def _listed(notes: Sequence[Note], budget_px: float, more_px: float) -> int:
    """How many of ``notes`` the page lists: as many as fit in ``budget_px`` (with the line
    saying how many more, if any are left), at most ``LISTED_MAX``."""
    used, listed = 0.0, 0
    for i, note in enumerate(notes[:LISTED_MAX]):
        need = _note_px(note) + (more_px if i < len(notes) - 1 else 0.0)
        if used + need > budget_px:
            break
        used += _note_px(note)
        listed += 1
    return listed


def _more_text(more: int, listed: int = 1, feedback: bool = False) -> str:
    """The line under the problems listed (``listed`` of them) that counts the rest, and
    where they all are: the feedback copy sent with the page, or, with none, the office
    that merged the returns (the consolidated workbook's problems sheet)."""
    where = Words("ทุกรายการพร้อมตำแหน่งอยู่ในสำเนาผลการตรวจที่ส่งให้หน่วยงาน",
                  "every one, with its cell, is in the feedback copy") if feedback else Words(
        "ขอรายการทั้งหมดพร้อมตำแหน่งได้จากหน่วยงานที่รวบรวมผล",
        "ask the office that merged the returns for every one, with its cell")
    if not listed:
        return (f"ปัญหา {more:,} รายการไม่พอที่ในหน้านี้ {where.th} / {more:,} problems do not "
                f"fit here: {where.en}")
    return f"... และอีก {more:,} รายการ {where.th} / and {more:,} more: {where.en}"


# --------------------------------------------------------------------------------------------
# Private: the few xlsxwriter calls the page makes, on an openpyxl worksheet
# --------------------------------------------------------------------------------------------


class _OpenpyxlBook:
    """``add_format`` as the page writer calls it: the properties are kept as they are."""

    @staticmethod
    def add_format(properties: dict[str, Any]) -> dict[str, Any]:
        return dict(properties)


class _OpenpyxlSheet:
    """An openpyxl worksheet behind the xlsxwriter calls of ``_PageWriter``; every text is
    stored as a string (``data_type`` "s"), never a formula."""

    def __init__(self, ws: Any, default_size: float) -> None:
        self.ws, self.default_size = ws, default_size

    def _style(self, cell: Any, f: dict[str, Any] | None) -> None:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        if not f:
            return
        cell.font = Font(name=f.get("font_name", _FONT_NAME), size=f.get("font_size", _SIZE),
                         bold=bool(f.get("bold")), color=_argb(f.get("font_color")))
        if f.get("bg_color"):
            colour = _argb(f["bg_color"])
            cell.fill = PatternFill(fill_type="solid", fgColor=colour, bgColor=colour)
        if f.get("border"):
            side = Side(style="thin")
            cell.border = Border(left=side, right=side, top=side, bottom=side)
        cell.alignment = Alignment(wrap_text=bool(f.get("text_wrap")),
                                   vertical="top" if f.get("valign") == "top" else None,
                                   horizontal=f.get("align"))
        if f.get("num_format"):
            cell.number_format = f["num_format"]

    def _cell(self, row: int, col: int) -> Any:
        return self.ws.cell(row + 1, col + 1)

    def set_column(self, first: int, last: int, width: float | None,
                   fmt: Any = None, options: dict[str, Any] | None = None) -> None:
        from openpyxl.utils import get_column_letter

        for col in range(first, last + 1):
            dim = self.ws.column_dimensions[get_column_letter(col + 1)]
            if width is not None:  # the same pixels as xlsxwriter's width at the page's font
                dim.width = column_pixels(width, _SIZE) / digit_width(self.default_size)
            if options and options.get("hidden"):
                dim.hidden = True

    def set_row(self, row: int, height: float) -> None:
        self.ws.row_dimensions[row + 1].height = height

    def set_paper(self, size: int) -> None:
        self.ws.page_setup.paperSize = size

    def set_portrait(self) -> None:
        self.ws.page_setup.orientation = "portrait"

    def set_print_scale(self, scale: int) -> None:
        self.ws.page_setup.scale = scale

    def set_margins(self, **margins: float) -> None:
        for side, inches in margins.items():
            setattr(self.ws.page_margins, side, inches)

    def hide_gridlines(self, option: int) -> None:
        self.ws.sheet_view.showGridLines = False
        self.ws.print_options.gridLines = False

    def set_footer(self, footer: str, options: dict[str, float] | None = None) -> None:
        """The page's footer, ``&L&8left&R&8right`` as the page writer gives it."""
        if options and "margin" in options:
            self.ws.page_margins.footer = options["margin"]
        found = re.fullmatch(r"&L&(\d+)(.*)&R&\d+(.*)", footer)
        if found is None:
            return
        size, left, right = found.groups()
        for part, text in ((self.ws.oddFooter.left, left), (self.ws.oddFooter.right, right)):
            part.text, part.size = text, int(size)

    def merge_range(self, r1: int, c1: int, r2: int, c2: int, text: str,
                    fmt: dict[str, Any]) -> None:
        self.ws.merge_cells(start_row=r1 + 1, start_column=c1 + 1, end_row=r2 + 1,
                            end_column=c2 + 1)
        for row in range(r1, r2 + 1):
            for col in range(c1, c2 + 1):
                self._style(self._cell(row, col), fmt)

    def write_string(self, row: int, col: int, text: str,
                     fmt: dict[str, Any] | None = None) -> None:
        cell = self._cell(row, col)
        cell.value = text
        cell.data_type = "s"
        self._style(cell, fmt)

    def write_number(self, row: int, col: int, value: float, fmt: dict[str, Any]) -> None:
        cell = self._cell(row, col)
        cell.value = float(value)
        self._style(cell, fmt)

    def write_rich_string(self, row: int, col: int, *parts: Any) -> None:
        from openpyxl.cell.rich_text import CellRichText, TextBlock
        from openpyxl.cell.text import InlineFont

        *runs, fmt = parts
        blocks = []
        for f, text in zip(runs[::2], runs[1::2], strict=True):
            blocks.append(TextBlock(InlineFont(rFont=f.get("font_name", _FONT_NAME),
                                               sz=f.get("font_size", _SIZE),
                                               b=bool(f.get("bold")) or None,
                                               color=_argb(f.get("font_color"))), text))
        cell = self._cell(row, col)
        cell.value = CellRichText(blocks)
        self._style(cell, fmt)


def _argb(colour: str | None) -> str | None:
    """``#RRGGBB`` as openpyxl's ARGB."""
    return None if not colour else "FF" + colour.lstrip("#").upper()
