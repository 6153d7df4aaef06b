"""The roster: which agencies a round goes to (CSV or XLSX with a code, a name and an
optional ministry column, and any extra columns such as region or agency type).

This module owns reading a roster as people make one in Excel:

- **headings** in English or Thai (``HEADINGS``: agency_code = รหัสหน่วยงาน, agency_name =
  ชื่อหน่วยงาน, ministry = กระทรวง or สังกัด), compared once NFKC-normalised, case folded and
  without spaces, ``_`` or ``-``;
- a **title row** (or several) above the header: the header is the first of the first
  ``HEADER_ROWS`` rows that holds the required headings;
- **codes stored as numbers** in an XLSX roster: taken as the cell shows them where its number
  format shows leading zeros (``00000`` shows 1001 as 01001), refused with the cell otherwise;
- **extra columns**, kept in order on each ``Agency`` for the frames' breakdowns.
- **the file as it is, not as it is named**: an XLSX by its content (even named ``.csv``),
  every sheet's stored dimension ignored, the sheet with the header found (the active one
  first); a CSV in UTF-8 or in Thai Excel's plain "CSV" (Windows-874), split at commas or,
  where its header is found so, at semicolons or tabs; an ``.xls``, ``.ods`` or encrypted
  workbook refused saying what it is and how to save it.

Loading checks every row before anything is written: a missing or duplicate code, a missing
name, or a code that cannot be a file name is reported with its line number, in Thai and
English (``Words``). Codes are normalised by ``identity.normalise_code`` (the same as in
returns), so ``๐๓๐๐๕`` is 03005; two codes that are one once normalised, or differ only in
case or leading zeros, are refused.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any

from .errors import RosterError
from .identity import code_key, normalise_code
from .numfmt import builtin_format, render_whole
from .words import Words

REQUIRED_COLUMNS = ("agency_code", "agency_name")
OPTIONAL_COLUMNS = ("ministry",)

#: The headings each column may have, in English or Thai. Headings are compared once
#: normalised (``heading_key``): ``Agency Code``, ``AGENCY-CODE`` and ``รหัส หน่วยงาน`` match.
HEADINGS: dict[str, tuple[str, ...]] = {
    "agency_code": ("agency_code", "รหัสหน่วยงาน", "รหัสส่วนราชการ"),
    "agency_name": ("agency_name", "ชื่อหน่วยงาน", "ชื่อส่วนราชการ"),
    "ministry": ("ministry", "กระทรวง", "สังกัด"),
}

#: The header must be within the first rows: any rows above it are titles.
HEADER_ROWS = 10

#: What a column is called in Thai messages when the roster gives no heading of its own.
_THAI_NAMES = {"agency_code": "รหัสหน่วยงาน", "agency_name": "ชื่อหน่วยงาน",
               "ministry": "กระทรวง"}

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\s]')
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}
_HEADING_NOISE = re.compile(r"[\s_\-\u200b-\u200f\u2060\ufeff\u00ad]")


@dataclass(frozen=True, slots=True, kw_only=True)
class Agency:
    """One agency of the roster; ``line`` is where it was found (the header is above it).

    ``extra`` holds the roster's other columns (region, agency type...) as (heading, value)
    pairs in the roster's order; the merge's frames carry them for breakdowns.
    """

    code: str
    name: str
    ministry: str = ""
    line: int = 0
    extra: tuple[tuple[str, str], ...] = field(default=())

    @property
    def file_name(self) -> str:
        return f"{self.code}.xlsx"

    @property
    def extras(self) -> dict[str, str]:
        """The extra columns as a dict, in the roster's order."""
        return dict(self.extra)


@dataclass(frozen=True, slots=True)
class CellValue:
    """A cell of an XLSX roster that does not hold text: a number, a date or TRUE/FALSE, with
    its number format and where it is (``Sheet1!A3``)."""

    value: object
    number_format: str
    ref: str

    @property
    def text(self) -> str:
        """The value as plain text, for columns other than the code."""
        value = self.value
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, datetime) and value.time() == time():
            return value.date().isoformat()
        if isinstance(value, date | time | datetime):
            return value.isoformat()
        return str(value)


Cell = str | CellValue


def heading_key(heading: str) -> str:
    """A heading as compared: NFKC, case folded, without spaces, ``_``, ``-`` or invisible
    characters."""
    return _HEADING_NOISE.sub("", unicodedata.normalize("NFKC", heading).casefold())


_COLUMN_OF = {heading_key(h): column for column, hs in HEADINGS.items() for h in hs}


def load_roster(path: str | os.PathLike[str]) -> list[Agency]:
    """Read and check a roster; raise RosterError listing every bad row.

    What the file is comes from its content, not its name (``_kind``): an XLSX is read as one
    even when named ``.csv``; an ``.xls``, an ``.ods`` or an encrypted workbook is refused
    saying what it is and how to save it. A CSV is UTF-8, or Thai Excel's plain "CSV"
    (Windows-874) when it decodes as that and its header is found (``_read_csv``)."""
    source = Path(path)
    sheet: str | None = None
    try:
        kind = _kind(source)
        refused = _REFUSED.get(kind)
        if refused is not None:
            raise RosterError(str(source), [refused])
        if kind == "xlsx" or (kind == "other" and source.suffix.lower() in _XLSX_SUFFIXES):
            sheet, rows, at = _read_xlsx(source)
        else:
            rows = _read_csv(source)
            at = find_header(str(source), rows)
    except RosterError:
        raise
    except Exception as exc:  # noqa: BLE001 - any unreadable file becomes one located problem
        raise RosterError(str(source), [Words(
            f"เปิดไฟล์ไม่ได้: {exc}; ตรวจว่าเป็นไฟล์ CSV (UTF-8) หรือ XLSX ที่ Excel เปิดได้",
            f"cannot read the file: {exc}")]) from exc
    line, header = rows[at]
    try:
        return check_roster(str(source), [_text(c) for c in header], rows[at + 1:],
                            header_line=line)
    except RosterError as exc:
        if sheet is None:
            raise
        raise RosterError(exc.source, exc.problems, header_line=exc.header_line,
                          sheet=sheet) from None


_XLSX_SUFFIXES = {".xlsx", ".xlsm"}

_SAVE_AS = Words(
    "เปิดไฟล์ใน Excel แล้วใช้ บันทึกเป็น (Save As) → 'Excel Workbook (*.xlsx)' หรือ "
    "'CSV UTF-8 (Comma delimited)'",
    "open it in Excel and use Save As → 'Excel Workbook (*.xlsx)' or "
    "'CSV UTF-8 (Comma delimited)'")

#: Files recognised by their content that cannot be read as a roster, and what to do.
_REFUSED: dict[str, Words] = {
    "ole": Words("ไฟล์นี้เป็นไฟล์ Excel รุ่นเก่า (.xls, Excel 97-2003) หรือไฟล์ Excel ที่ตั้ง"
                 "รหัสผ่านสำหรับเปิด ซึ่งอ่านไม่ได้; ",
                 "the file is an old Excel workbook (.xls, Excel 97-2003) or one with a "
                 "password to open, which cannot be read; ") + _SAVE_AS
    + Words(" โดยไม่ตั้งรหัสผ่าน", " without a password"),
    "ods": Words("ไฟล์นี้เป็นไฟล์ OpenDocument (.ods เช่นจาก LibreOffice) ซึ่งอ่านไม่ได้; ",
                 "the file is an OpenDocument spreadsheet (.ods, e.g. from LibreOffice), "
                 "which cannot be read; ") + _SAVE_AS
    + Words(" (ใน LibreOffice: ไฟล์ → บันทึกเป็น → 'Excel 2007-365 (.xlsx)')",
            " (in LibreOffice: File → Save As → 'Excel 2007-365 (.xlsx)')"),
    "zip": Words("ไฟล์นี้เป็นไฟล์บีบอัด (zip) ไม่ใช่ตารางรายชื่อ; ",
                 "the file is a zip archive, not a roster; ") + _SAVE_AS,
}

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


def _kind(path: Path) -> str:
    """What the file is by its content: ``xlsx`` (a zip with ``xl/workbook.xml``), ``ods``,
    ``zip`` (any other zip), ``ole`` (an .xls, or a workbook encrypted with a password to
    open), or ``other`` (text, or something the readers will refuse)."""
    import zipfile

    with path.open("rb") as file:
        head = file.read(len(_OLE_MAGIC))
    if head == _OLE_MAGIC:
        return "ole"
    if not head.startswith(b"PK"):
        return "other"
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if ("mimetype" in names and archive.getinfo("mimetype").file_size < 256
                    and archive.read("mimetype").strip() == _ODS_MIME):
                return "ods"
    except zipfile.BadZipFile:
        return "other"
    return "xlsx" if "xl/workbook.xml" in names else "zip"


def find_header(source: str, rows: Sequence[tuple[int, Sequence[Cell]]]) -> int:
    """The index in ``rows`` of the header: the first of the first ``HEADER_ROWS`` rows that
    holds every required heading (rows above it are titles). RosterError if none does,
    naming the row that came closest."""
    best: tuple[int, int] | None = None  # (required headings found, index)
    for index, (_, cells) in enumerate(rows[:HEADER_ROWS]):
        found = {_COLUMN_OF.get(heading_key(_text(c))) for c in cells}
        count = sum(1 for c in REQUIRED_COLUMNS if c in found)
        if count == len(REQUIRED_COLUMNS):
            return index
        if any(_text(c).strip() for c in cells) and (best is None or count > best[0]):
            best = (count, index)
    if best is None:
        raise RosterError(source, [Words(
            "ไฟล์ไม่มีข้อมูล; แถวแรกต้องเป็นหัวตาราง (รหัสหน่วยงาน, ชื่อหน่วยงาน) แล้วตามด้วย"
            "หนึ่งแถวต่อหนึ่งหน่วยงาน",
            "the roster is empty; put a header (agency_code, agency_name) and one row per "
            "agency under it")])
    line, cells = rows[best[1]]
    header = [_text(c) for c in cells]
    raise _missing_columns(source, header, [c for c in REQUIRED_COLUMNS if c not in
                                            {_COLUMN_OF.get(heading_key(h)) for h in header}],
                           line)


def check_roster(source: str, header: Sequence[str], rows: Sequence[tuple[int, Sequence[Cell]]],
                 *, header_line: int = 1) -> list[Agency]:
    """Agencies from a header and (line, cells) rows, or RosterError with every problem.

    ``header_line`` is where the header is in the file (said in messages when it is not the
    first line). A cell is text, or (XLSX) a ``CellValue``: a code stored as a number is taken
    as its number format shows it when that shows leading zeros, refused otherwise.
    """
    columns, extra, problems = _columns(header, header_line)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise _missing_columns(source, header, missing, header_line)
    named = {c: header[i].strip() for c, i in columns.items()}
    agencies: list[Agency] = []
    seen: dict[str, tuple[int, str]] = {}  # code_key -> (line, code)
    untitled: dict[int, int] = {}  # column without a heading -> first line with data in it
    for line, cells in rows:
        if not any(_text(c).strip() for c in cells):
            continue
        for i, cell in enumerate(cells):
            if (i >= len(header) or not heading_key(header[i])) and _text(cell).strip():
                untitled.setdefault(i, line)

        def get(column: str, cells: Sequence[Cell] = cells) -> str:
            i = columns.get(column)
            return _text(cells[i]).strip() if i is not None and i < len(cells) else ""

        i = columns["agency_code"]
        raw = cells[i] if i < len(cells) else ""
        typed, trouble = _typed_code(raw)
        heading = named["agency_code"]
        if trouble is not None:
            problems.append(_at(line, raw) + trouble)
            code = ""
        else:
            code = normalise_code(typed)
            problem = _code_problem(line, heading, typed, code, seen)
            if problem is not None:
                problems.append(problem)
        name = get("agency_name")
        if not name:
            problems.append(Words(
                f"แถว {line}: {named['agency_name']} ว่างอยู่; ใส่ชื่อหน่วยงาน",
                f"line {line}: {named['agency_name']} is empty; give the agency's name"))
        values = [(named.get(c, c), get(c)) for c in ("agency_name", "ministry")]
        values += [(h, _text(cells[i]).strip() if i < len(cells) else "") for h, i in extra]
        for shown, value in values:
            if _CONTROL.search(value):
                problems.append(Words(
                    f"แถว {line}: {shown} มีอักขระควบคุมที่มองไม่เห็น; พิมพ์ช่องนี้ใหม่",
                    f"line {line}: {shown} holds a control character; retype it"))
        agencies.append(Agency(code=code, name=name, ministry=get("ministry"), line=line,
                               extra=tuple(values[2:])))
    for i, line in sorted(untitled.items()):
        problems.append(Words(
            f"แถว {line} คอลัมน์ {_letter(i)}: มีข้อมูลแต่คอลัมน์นี้ไม่มีหัวคอลัมน์ (แถว "
            f"{header_line}); ใส่หัวคอลัมน์ เช่น ภาค หรือลบข้อมูลในคอลัมน์นี้",
            f"line {line}, column {_letter(i)}: data in a column without a heading (line "
            f"{header_line}); give the column a heading, e.g. region, or clear it"))
    if not agencies and not problems:
        problems.append(Words(
            f"ไม่มีรายชื่อหน่วยงาน; ใส่หนึ่งแถวต่อหนึ่งหน่วยงานใต้หัวตาราง (แถว {header_line})",
            "the roster has no agencies; add one row per agency under the header"))
    if problems:
        raise RosterError(source, problems, header_line=header_line)
    return agencies


def _missing_columns(source: str, header: Sequence[str], missing: Sequence[str],
                     header_line: int) -> RosterError:
    """The error for a header (at ``header_line``) without the ``missing`` columns."""
    found = ", ".join(h.strip() for h in header if h.strip())
    th_missing = ", ".join(f"{_THAI_NAMES[c]} ({c})" for c in missing)
    return RosterError(source, [Words(
        f"แถว {header_line}: ไม่พบคอลัมน์ {th_missing} (พบ: {found or 'ไม่มี'}); แถวหัวตาราง"
        f"ต้องมีคอลัมน์ รหัสหน่วยงาน และ ชื่อหน่วยงาน (หรือ agency_code, agency_name) "
        f"และอาจมี กระทรวง หรือ สังกัด (ministry); หัวตารางต้องอยู่ใน {HEADER_ROWS} แถวแรก",
        f"line {header_line}: missing column {', '.join(missing)} (found: "
        f"{found or 'nothing'}); the header needs {', '.join(REQUIRED_COLUMNS)} and may "
        f"have {', '.join(OPTIONAL_COLUMNS)}")], header_line=header_line)


def _columns(header: Sequence[str], header_line: int
             ) -> tuple[dict[str, int], list[tuple[str, int]], list[Words]]:
    """Where each known column is, the extra columns (heading, index) in order, and the
    header's problems: a heading twice, or an extra heading a frame already has. (A column of
    data without a heading is found by the rows.)"""
    columns: dict[str, int] = {}
    extra: list[tuple[str, int]] = []
    problems: list[Words] = []
    first: dict[str, int] = {}  # heading_key -> index
    for i, heading in enumerate(header):
        shown = heading.strip()
        key = heading_key(shown)
        if not key:
            continue
        where = f"{header_line} คอลัมน์ {_letter(i)}"
        if key in first:
            problems.append(Words(
                f"แถว {where}: หัวคอลัมน์ {shown!r} ซ้ำกับคอลัมน์ {_letter(first[key])}; "
                "ตั้งชื่อหัวคอลัมน์ให้ไม่ซ้ำกัน หรือลบคอลัมน์ที่ซ้ำ",
                f"line {header_line}, column {_letter(i)}: heading {shown!r} repeats column "
                f"{_letter(first[key])}; give each column its own heading or delete one"))
            continue
        first[key] = i
        column = _COLUMN_OF.get(key)
        if column is not None and column in columns:
            problems.append(Words(
                f"แถว {where}: คอลัมน์ {shown!r} เป็นคอลัมน์เดียวกับ {header[columns[column]].strip()!r}"
                f" (คอลัมน์ {_letter(columns[column])}); ให้เหลือไว้คอลัมน์เดียว",
                f"line {header_line}, column {_letter(i)}: {shown!r} is the same column as "
                f"{header[columns[column]].strip()!r} (column {_letter(columns[column])}); "
                "keep one of them"))
        elif column is not None:
            columns[column] = i
        elif shown in _frame_columns() or shown.startswith(_RESERVED_PREFIXES):
            problems.append(Words(
                f"แถว {where}: หัวคอลัมน์ {shown!r} ซ้ำกับชื่อคอลัมน์ที่ผลการรวมใช้อยู่แล้ว; "
                "เปลี่ยนชื่อหัวคอลัมน์นี้ เช่น เติมคำว่า roster_ ข้างหน้า",
                f"line {header_line}, column {_letter(i)}: heading {shown!r} is a column the "
                "merge's frames already have; rename it, e.g. with roster_ in front"))
        else:
            extra.append((shown, i))
    return columns, extra, problems


#: Extra columns named like the scores frame's per-table columns would collide with them.
_RESERVED_PREFIXES = ("scored_", "score_sum_", "score_mean_")


@cache
def _frame_columns() -> frozenset[str]:
    """The columns of the frames that carry extra roster columns (returns and scores)."""
    from .consolidate import RETURN_COLUMNS  # imported here: consolidate imports this module
    from .read.frames import SCORE_COLUMNS

    return frozenset((*RETURN_COLUMNS, *SCORE_COLUMNS))


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _text(cell: Cell) -> str:
    return cell.text if isinstance(cell, CellValue) else cell


def _at(line: int, cell: Cell) -> Words:
    where = f" (cell {cell.ref})" if isinstance(cell, CellValue) else ""
    th = f" (เซลล์ {cell.ref})" if isinstance(cell, CellValue) else ""
    return Words(f"แถว {line}{th}: ", f"line {line}{where}: ")


_TO_TEXT = Words(
    "จัดรูปแบบคอลัมน์รหัสเป็น ข้อความ (Text) แล้วพิมพ์รหัสใหม่ให้มีเลข 0 นำหน้าครบ "
    "หรือใช้รูปแบบตัวเลขที่แสดงเลข 0 นำหน้า เช่น 00000",
    "format the code column as Text and type the codes again with their leading zeros, or "
    "use a number format that shows the zeros, such as 00000")


def _typed_code(cell: Cell) -> tuple[str, Words | None]:
    """The code as the roster shows it, or why a cell that is not text cannot be taken as one.

    Text is taken as it is. A whole number is taken as its number format shows it only where
    that format shows leading zeros (it pads 1 to ``01`` or more, and shows this number as
    digits alone): only then can the zeros Excel dropped be seen again. Anything else (General,
    ``0``, ``#,##0``, a fraction, a date, TRUE/FALSE) is refused, never guessed."""
    if not isinstance(cell, CellValue):
        return cell.strip(), None
    value, fmt = cell.value, cell.number_format
    if isinstance(value, bool):
        return "", Words(f"รหัสหน่วยงานเป็นค่า {cell.text} ไม่ใช่รหัส; ", f"agency code is "
                         f"{cell.text}, not a code; ") + _TO_TEXT
    if isinstance(value, date | time | datetime):
        return "", Words(f"Excel เปลี่ยนรหัสหน่วยงานเป็นวันที่ ({cell.text}); ",
                         f"Excel took the agency code for a date ({cell.text}); ") + _TO_TEXT
    if not isinstance(value, int | float) or not float(value).is_integer() or value < 0:
        return "", Words(f"รหัสหน่วยงาน {cell.text} เป็นตัวเลขที่ไม่ใช่จำนวนเต็ม ไม่ใช่รหัส; ",
                         f"agency code {cell.text} is a number with a fraction or a sign, "
                         "not a code; ") + _TO_TEXT
    if value >= 1e15:  # Excel keeps 15 significant digits: the code's own may be lost
        return "", Words(f"รหัสหน่วยงาน {cell.text} ถูกเก็บเป็นตัวเลขที่ยาวเกิน 15 หลัก Excel "
                         "จึงอาจเปลี่ยนตัวเลขท้ายไปแล้ว; ",
                         f"agency code {cell.text} is stored as a number of more than 15 "
                         "digits, so Excel may have changed its last digits; ") + _TO_TEXT
    whole = int(value)
    shown, one = render_whole(fmt, whole), render_whole(fmt, 1)
    pads = one is not None and len(one.strip()) > 1 and one.strip().startswith("0")
    if shown is not None and pads and shown.strip().isascii() and shown.strip().isdigit():
        return shown.strip(), None
    return "", Words(
        f"รหัสหน่วยงาน {whole} ถูกเก็บเป็นตัวเลข Excel จึงอาจตัดเลข 0 ข้างหน้าทิ้งไปแล้ว "
        f"และรูปแบบตัวเลขของเซลล์ ({fmt}) ไม่ได้แสดงเลข 0 นำหน้า; ",
        f"agency code {whole} is stored as a number, so Excel may have dropped its leading "
        f"zeros, and the cell's number format ({fmt}) does not show them; ") + _TO_TEXT


def _code_problem(line: int, heading: str, typed: str, code: str,
                  seen: dict[str, tuple[int, str]]) -> Words | None:
    """Why a code cannot be an agency's (recording it in ``seen`` when it can)."""
    if not code:
        if not typed:
            return Words(f"แถว {line}: {heading} ว่างอยู่; ใส่รหัสของทุกหน่วยงาน",
                         f"line {line}: {heading} is empty; give every agency its code")
        return Words(f"แถว {line}: {heading} มีแต่ช่องว่างหรืออักขระที่มองไม่เห็น; "
                     "ใส่รหัสของทุกหน่วยงาน",
                     f"line {line}: {heading} is only spaces or invisible characters; give "
                     "every agency its code")
    bad = _file_name_words(code)
    if bad is not None:
        return Words(f"แถว {line}: {heading} {_shown_th(typed, code)} ",
                     f"line {line}: {heading} {_shown(typed, code)} ") + bad
    if code_key(code) in seen:
        return _clash(line, heading, typed, code, *seen[code_key(code)])
    seen[code_key(code)] = (line, code)
    return None


def _shown_th(typed: str, code: str) -> str:
    return repr(typed) if typed == code else f"{typed!r} (อ่านได้เป็น {code!r})"


def _shown(typed: str, code: str) -> str:
    """A code as the roster has it, and as it reads once normalised when that differs."""
    return repr(typed) if typed == code else f"{typed!r} (read as {code!r})"


def _clash(line: int, heading: str, typed: str, code: str, first_line: int,
           first: str) -> Words:
    """Why a code cannot stand beside an earlier one (same ``code_key``)."""
    if code.casefold() == first.casefold():  # AB01 and ab01 would share a file on Windows
        return Words(
            f"แถว {line}: {heading} {_shown_th(typed, code)} ซ้ำกับแถว {first_line}; "
            "ให้แต่ละหน่วยงานมีรหัสของตนเอง",
            f"line {line}: {heading} {_shown(typed, code)} is a duplicate of line "
            f"{first_line}; give each agency its own code")
    return Words(
        f"แถว {line}: {heading} {_shown_th(typed, code)} ต่างจาก {first!r} (แถว {first_line}) "
        "แค่เลข 0 ข้างหน้า ซึ่งโปรแกรมตารางคำนวณตัดทิ้งเมื่อถือรหัสเป็นตัวเลข; "
        "ให้แต่ละหน่วยงานมีรหัสที่ต่างกันมากกว่าเลข 0 ข้างหน้า",
        f"line {line}: {heading} {_shown(typed, code)} differs from {first!r} (line "
        f"{first_line}) only by leading zeros, which a spreadsheet drops when it takes a "
        "code for a number; give each agency a code that differs in more than leading zeros")


def check_agencies(agencies: Sequence[Agency],
                   source: str = "the list of agencies") -> list[Agency]:
    """Agencies given as objects pass the same checks as a roster file's rows (their extra
    columns too: the union of their headings, in the order first met)."""
    extra: dict[str, None] = {}
    for agency in agencies:
        extra.update((heading, None) for heading, _ in agency.extra)
    header = ["agency_code", "agency_name", "ministry", *extra]
    rows = [(a.line or i + 2, [a.code, a.name, a.ministry,
                               *(a.extras.get(h, "") for h in extra)])
            for i, a in enumerate(agencies)]
    return check_roster(source, header, rows)


def file_name_problem(code: str) -> str | None:
    """Why ``code`` cannot name a file on every system (in English), or None if it can."""
    bad = _file_name_words(code)
    return bad.en if bad is not None else None


def _file_name_words(code: str) -> Words | None:
    """Why ``code`` cannot name a file on every system, or None if it can."""
    bad = sorted(set(_UNSAFE.findall(code)))
    if bad:
        shown = " ".join(repr(c) for c in bad)
        return Words(f"มีอักขระที่ใช้ในชื่อไฟล์ไม่ได้ ({shown}); ใช้ตัวอักษร ตัวเลข - _ .",
                     f"has characters unsafe in a file name ({shown}); use letters, digits, "
                     "- _ .")
    if not code[0].isalnum():
        return Words("ต้องขึ้นต้นด้วยตัวอักษรหรือตัวเลข", "must start with a letter or a digit")
    if code.endswith("."):
        return Words("ต้องไม่ลงท้ายด้วย '.'", "must not end with '.'")
    if code.split(".")[0].upper() in _RESERVED:
        return Words("เป็นชื่อที่ Windows สงวนไว้สำหรับอุปกรณ์; เลือกรหัสอื่น",
                     "is a name Windows reserves for devices; choose another code")
    if len(code) > 64:
        return Words(f"ยาว {len(code)} ตัวอักษร; ใช้ไม่เกิน 64 ตัว",
                     f"is {len(code)} characters; use at most 64")
    return None


def _read_csv(path: Path) -> list[tuple[int, list[Cell]]]:
    """Every row of a CSV roster with the line it ends on.

    UTF-8 (with or without Excel's byte order mark) is read as it is. Anything else is read as
    Windows-874 (what Thai Excel's plain "CSV" save writes) only where it decodes as that
    strictly, reads as Thai text (``_reads_as_thai``) and its header is found in the first
    rows; otherwise it is refused, saying how to save it as UTF-8."""
    raw = path.read_bytes()
    try:
        return _csv_rows(raw.decode("utf-8-sig"), str(path))
    except UnicodeDecodeError as exc:
        rows = _thai_ansi_rows(str(path), raw)
        if rows is not None:
            return rows
        line = raw[: exc.start].count(b"\n") + 1
        raise RosterError(str(path), [Words(
            f"แถว {line}: ไฟล์ไม่ได้บันทึกเป็น UTF-8; ใน Excel ใช้ บันทึกเป็น (Save As) → "
            "'CSV UTF-8 (Comma delimited)'",
            f"line {line}: the file is not UTF-8 text; in Excel use Save As → "
            "'CSV UTF-8 (Comma delimited)'")]) from exc


#: The separators a spreadsheet saves a CSV with: the comma, and where the system's list
#: separator is another, that one (a semicolon in many locales; a tab in Unicode text).
_SEPARATORS = (",", ";", "\t")


def _csv_rows(text: str, source: str = "") -> list[tuple[int, list[Cell]]]:
    """The rows of a CSV, split at the first separator its header is found with
    (``find_header``), the comma first; if none finds it, split at commas (and the header's
    problem is reported as it is)."""
    first: list[tuple[int, list[Cell]]] | None = None
    for separator in _SEPARATORS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
        rows: list[tuple[int, list[Cell]]] = [(reader.line_num, list(row)) for row in reader]
        if first is None:
            first = rows
        try:
            find_header(source, rows)
        except RosterError:
            continue
        return rows
    assert first is not None
    return first


#: Thai marks written above or below a letter (and the vowel sara am): each follows a letter.
_THAI_MARK = re.compile(r"(?<![\u0e01-\u0e4e])[\u0e31\u0e33-\u0e3a\u0e47-\u0e4e]")


def _thai_ansi_rows(source: str, raw: bytes) -> list[tuple[int, list[Cell]]] | None:
    """The rows of a Windows-874 CSV, or None when ``raw`` is not one: it must decode
    strictly, read as Thai text, and hold the header (with the known headings)."""
    try:
        text = raw.decode("cp874")
    except UnicodeDecodeError:
        return None
    if not _reads_as_thai(text):
        return None
    rows = _csv_rows(text, source)
    try:
        find_header(source, rows)
    except RosterError:
        return None
    return rows


def _reads_as_thai(text: str) -> bool:
    """Whether decoded text is plausible Thai: no mark above or below a letter stands without
    a Thai letter before it (as it does when Latin-1 or Windows-1252 text, ``é`` say, is
    decoded as Windows-874)."""
    return _THAI_MARK.search(text) is None


def _read_xlsx(path: Path) -> tuple[str | None, list[tuple[int, list[Cell]]], int]:
    """The sheet that holds the roster, its rows and the index of its header row.

    The sheet is the first that holds the header (``find_header``): the active sheet, then
    the others in order. Its name is returned when it is not the first sheet looked at (so
    messages name it), None otherwise. RosterError when no sheet holds the header: the one
    sheet's problem, or, with several, every sheet looked at and what each lacks."""
    from openpyxl import load_workbook

    # given as an open file, openpyxl goes by the content, not the name (.csv, .xls...)
    with path.open("rb") as file:
        return _read_workbook(str(path), load_workbook(file, read_only=True, data_only=True))


def _read_workbook(path: str, workbook: Any) -> tuple[str | None, list[tuple[int, list[Cell]]],
                                                      int]:
    """``_read_xlsx`` of an open read-only workbook (closed here)."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    try:
        sheets = [s for s in workbook.worksheets if isinstance(s, ReadOnlyWorksheet)]
        active = workbook.active if workbook.sheetnames else None
        if active in sheets:
            sheets.remove(active)
            sheets.insert(0, active)
        failures: list[tuple[str, RosterError]] = []
        for sheet in sheets:
            head = _sheet_rows(sheet, limit=HEADER_ROWS)
            try:
                at = find_header(path, head)
            except RosterError as exc:
                failures.append((sheet.title, exc))
                continue
            return (sheet.title if failures else None), _sheet_rows(sheet), at
    finally:
        workbook.close()
    if not failures:
        raise RosterError(path, [Words(
            "ไฟล์ไม่มีแผ่นงานที่เป็นตาราง; " + _SAVE_AS.th,
            "the workbook has no worksheet; " + _SAVE_AS.en)])
    if len(failures) == 1:
        raise failures[0][1]
    looked = ", ".join(repr(title) for title, _ in failures)
    problems = [Words(
        f"ไม่พบแถวหัวตาราง (รหัสหน่วยงาน, ชื่อหน่วยงาน) ในแผ่นงานใดเลย (ดูแล้ว: {looked}); "
        f"ใส่หัวตารางไว้ใน {HEADER_ROWS} แถวแรกของแผ่นงานที่มีรายชื่อ",
        f"no sheet holds the header (agency_code, agency_name) (looked at: {looked}); put "
        f"it in the first {HEADER_ROWS} rows of the sheet with the agencies")]
    for title, failure in failures:
        problems += [Words(f"แผ่นงาน {title!r}: ", f"sheet {title!r}: ") + p
                     for p in failure.problems if isinstance(p, Words)]
    raise RosterError(path, problems)


def _sheet_rows(sheet: object, limit: int | None = None) -> list[tuple[int, list[Cell]]]:
    """The rows of a read-only sheet (up to ``limit``): text as text, anything else as a
    CellValue with its number format (Thai and CJK built-in ids by their code) and its cell.

    The sheet's stored dimension is never trusted (``reset_dimensions``): a file written by
    another program may say ``A1:C2`` and hold more rows and columns."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    assert isinstance(sheet, ReadOnlyWorksheet)
    sheet.reset_dimensions()
    rows: list[tuple[int, list[Cell]]] = []
    for line, cells in enumerate(sheet.iter_rows(max_row=limit), start=1):
        row: list[Cell] = []
        for col, cell in enumerate(cells, start=1):
            value = cell.value
            if value is None:
                row.append("")
            elif isinstance(value, str):
                row.append(value)
            else:
                ref = f"{sheet.title}!{get_column_letter(col)}{line}"
                row.append(CellValue(value, _number_format(cell), ref))
        rows.append((line, row))
    return rows


def _number_format(cell: object) -> str:
    """A cell's number format code; a built-in id openpyxl does not know (Thai Excel's 59-81)
    by the code numfmt gives it."""
    style = getattr(cell, "style_array", None)
    format_id = getattr(style, "numFmtId", None)
    if isinstance(format_id, int) and format_id < 164:
        return builtin_format(format_id)
    return str(getattr(cell, "number_format", "General") or "General")
