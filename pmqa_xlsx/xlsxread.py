"""A small, bounded reader of untrusted xlsx packages, read as Excel reads them: sheet names,
cells with their values, formulas, cached results and styles, number formats, the date system,
and the document's modification time.

The package is opened the way Excel opens it. The zip's central directory must agree with every
local header (names, compression, sizes, no overlapping entries) and name each part once (part
names compare without regard to ASCII case). Parts are found through the relationships and the
content types, never by a fixed name: the workbook from the package's relationships, the
sheets, shared strings and styles from the workbook's, each of the type its relationship says.
Cells are read only where Excel reads them (``worksheet/sheetData/row/c``, rows and cells in
order, each once); a cell placed anywhere else, a cell whose value is a picture or linked data
(``vm``), or a text hidden outside its string's runs refuses the file, since the value counted
would not be the value a spreadsheet shows. Phonetic runs are left out of texts.

Limits are checked before and while decompressing (members, declared and actual sizes, ratios)
and before parsing (the markup in a part and in the whole package bounds the time to parse and
walk it), then on what the parts hold (cell positions, strings, styles). lxml (libxml2) is set
to resolve no entities and fetch nothing, and DOCTYPE and entity declarations are refused
outright. Every refusal is a ``FileRefused`` with a stable code and a plain message. The parts
that describe the package and its styles, the same in every return of one generator, are read
and checked in every file but parsed once per content. A part whose two zip headers agree is
inflated straight from the file's bytes, never past its declared size; anything out of the
ordinary is read through zipfile, which says what is wrong.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np
from lxml import etree

from .numfmt import builtin_format
from .words import Words

# Limits: generous for a form (a filled return is well under 1 MB), tight for a bomb.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_MEMBERS = 500
MAX_MEMBER_BYTES = 16 * 1024 * 1024  # one decompressed part (a return's sheet: < 1 MB)
MAX_TOTAL_BYTES = 96 * 1024 * 1024  # all parts, as declared (pictures included)
# All parts read, decompressed: what costs time to inflate and parse byte by byte (about
# 18 ms a MB, so 8 MB costs some 18 times a return). A return is well under 1 MB; 127 text
# blanks of 5,000 Thai characters each (pages of text in every blank) are 1.9 MB, or 4.4 MB
# as openpyxl writes them (one character reference per Thai letter).
MAX_READ_BYTES = 8 * 1024 * 1024
# The parts that describe the package and its styles hold no answers: a return's are a few KB.
MAX_DESCRIPTION_BYTES = 4 * 1024 * 1024  # 20,000 styles (MAX_STYLES) fit
MAX_RATIO = 200  # decompressed / compressed, per part
# The markup ('<') in the parts read bounds the time to parse and walk them, whatever their
# bytes: a return's largest sheet holds about 2,100, the parts read about 5,000 in all.
MAX_MARKUP = 60_000
MAX_PACKAGE_MARKUP = 80_000
# Attributes ('='), namespace declarations and _xHHHH_ escapes cost time too, with no '<':
# a return holds about 3,000 '=' in its largest part, under 50 declarations in all and a
# handful of escapes (a carriage return is one).
MAX_ATTRIBUTES = 150_000
MAX_PACKAGE_ATTRIBUTES = 200_000
MAX_NAMESPACES = 2_000
MAX_ESCAPES = 200_000  # per package
MAX_MERGES = 10_000  # merged ranges per sheet (a form has a few dozen)
# Attributes and escapes are counted once the parts read pass this: below it (a return's
# parts are about 100 KB) the bytes bound them (80,000 '=' at most, 40% of the package's
# limit), and two more scans of every part would cost a return 3%.
_COUNT_FROM = 160 * 1024
MAX_PROPERTIES_BYTES = 64 * 1024  # docProps/core.xml (a few hundred bytes)
MAX_ROW = 5000  # cells beyond these are never kept (the form is far smaller)
MAX_COL = 100
MAX_TEXT = 32767  # Excel's own limit for one cell
MAX_SHARED_STRINGS = 50_000
MAX_STYLES = 20_000  # cell formats (a return: a few dozen)
MAX_NUMBER_FORMATS = 1_000  # number formats defined (Excel loads about 250 at most)
MAX_CELLS = 10_000  # filled cells kept per sheet (the form's largest sheet has about 400)
EXCEL_ROWS, EXCEL_COLS = 1_048_576, 16_384
#: The style of a cell whose style attribute is not a number a workbook could define ("x",
#: "²", 5,000 digits): no style the workbook has, which the reader reports.
UNKNOWN_STYLE = 1 << 31

_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape(text: str) -> str:
    """Decode OOXML's ``_xHHHH_`` escapes (``_x000D_`` is a carriage return, ``_x005F_`` an
    underscore), as Excel does when it shows the text. Escaped UTF-16 surrogate pairs become
    the one character they encode; a lone surrogate, which no text can hold, becomes U+FFFD
    (the replacement character), as Excel shows it."""
    if "_x" not in text:
        return text
    pieces = _ESCAPE.split(text)  # text, hex digits, text, hex digits, ..., text
    if len(pieces) == 1:
        return text
    pieces[1::2] = [chr(int(digits, 16)) for digits in pieces[1::2]]
    decoded = "".join(pieces)
    if _SURROGATE.search(decoded):
        decoded = decoded.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return decoded


_SURROGATE = re.compile("[\ud800-\udfff]")
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_REFS: dict[str, tuple[int, int]] = {}
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]{1,7})$")


class FileRefused(Exception):
    """The file cannot be read as a return; ``code`` is a stable slug, ``message`` says why
    in Thai and English."""

    def __init__(self, code: str, message: Words) -> None:
        super().__init__(message.en)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ErrorValue:
    """A spreadsheet error shown in a cell (``#DIV/0!``)."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class RichValue:
    """A cell that shows a picture or linked data (``vm``), not the value it stores."""

    stored: Any

    def __str__(self) -> str:
        return "a picture or linked data in the cell"


class Cell(NamedTuple):
    """One cell: its value (str, float, bool, ErrorValue, RichValue or None), the formula if
    the cell has one, whether a cached result was stored for that formula, its style index,
    and the full length of a text cut at MAX_TEXT + 1 characters (None if not cut)."""

    value: Any
    formula: str | None = None
    cached: bool = True
    style: int = 0
    full_length: int | None = None


Cells = dict[tuple[int, int], Cell]  # (row, col), both zero-based


@dataclass(frozen=True, slots=True)
class SheetData:
    """What one sheet holds for the reader: its cells within the read window, the first
    position beyond it that holds something, the rows and columns hidden (within the window),
    whether zeros are hidden (``showZeros="0"``), whether shapes or pictures are drawn over it,
    and whether it has conditional formats that may change how numbers are shown."""

    cells: Cells
    beyond: tuple[int, int] | None = None
    hidden_rows: frozenset[int] = frozenset()
    hidden_cols: frozenset[int] = frozenset()
    hides_zeros: bool = False
    drawing: bool = False
    conditional_formats: bool = False
    #: merged ranges (first row, first col, last row, last col), zero-based: a spreadsheet
    #: shows only the first cell of each
    merges: tuple[tuple[int, int, int, int], ...] = ()
    #: the ranges of array formulas (and data tables): every cell in one shows the formula's
    #: result, though only the first holds the formula
    formula_ranges: tuple[tuple[int, int, int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class SheetInfo:
    name: str
    path: str  # the part, as named in the zip ('' if the relationship leads nowhere)
    state: str  # visible, hidden, veryHidden
    problem: Words | None = None  # why the sheet's part cannot be read as a worksheet


@dataclass(frozen=True, slots=True)
class _Structure:
    """What the package's descriptive parts say: the sheets, where the shared strings, styles
    and document properties are, and the date system."""

    sheets: tuple[SheetInfo, ...]
    shared_strings: str | None
    styles: str | None
    core: str | None
    date1904: bool
    macros: bool
    wanted: tuple[str, ...] = field(default=())  # parts that must be in the zip


@dataclass(frozen=True, slots=True)
class Styles:
    """The number format code of each cell style (cellXfs), in order, and whether any
    differential format (used by conditional formats) carries a number format."""

    formats: tuple[str, ...]
    conditional_number_formats: bool


class Package:
    """An opened xlsx package; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip, self._data, self._starts = _open_zip(path)
        self._read_total = 0
        self._markup_total = 0
        self._attributes_total = 0
        self._escapes_total = 0
        try:
            self._infos = _index_members(self._zip)
            structure = self._structure()
            self.sheets = list(structure.sheets)
            self.date1904 = structure.date1904
            self._layout = structure
            self._shared: tuple[list[str], dict[int, int]] | None = None
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def sheet(self, name: str) -> SheetInfo | None:
        return next((s for s in self.sheets if s.name == name), None)

    def read_cells(self, sheet: SheetInfo, max_row: int = MAX_ROW,
                   max_col: int = MAX_COL) -> SheetData:
        """The sheet's cells within (max_row, max_col), and what else the reader needs of the
        sheet (see SheetData)."""
        if sheet.problem is not None:
            raise FileRefused("inconsistent-package", sheet.problem)
        shared, lengths = self._shared_strings()
        data = self._bytes(sheet.path)
        root = self._parse(data, sheet.path)
        if data[:1] == b"<" or data[:4] == b"\xef\xbb\xbf<":
            # ASCII-compatible: the bytes say whether there are conditional formats (element
            # names are always written out, in the sheet or in its extensions)
            conditional = b"conditionalFormatting" in data
        else:  # UTF-16 and the like: ask the tree (its extensions included)
            conditional = next(root.iter("{*}conditionalFormatting"), None) is not None
        found = _sheet_cells(root, shared, lengths, max_row, max_col, conditional=conditional,
                             date1904=self.date1904)
        legacy = next((child.get(f"{{{_REL_NS}}}id") for child in root
                       if child.tag == _M + "legacyDrawing"), None)
        if legacy is not None and not found.drawing and self._legacy_shapes(sheet.path, legacy):
            found = replace(found, drawing=True)
        return found

    def _legacy_shapes(self, sheet: str, rid: str) -> bool:
        """Whether a sheet's legacy (VML) drawing holds anything drawn over the cells: a
        shape, a text box, a control, or a note shown open. Notes kept closed (the red
        corner Excel and LibreOffice write for every comment) draw nothing over the form.
        VML is often not well-formed XML, so its bytes are read, not parsed."""
        rels_name = _rels_part(sheet)
        if _key(rels_name) not in self._infos:
            return False
        rels = _relationships(self._parse(self._bytes(rels_name, MAX_DESCRIPTION_BYTES),
                                          rels_name))
        target = next((t for i, _, t, external in rels if i == rid and not external), None)
        if target is None:
            return False
        part = _resolve(sheet, target)
        if _key(part) not in self._infos:
            return False
        vml = self._bytes(part, MAX_DESCRIPTION_BYTES).lower()
        kinds = re.findall(rb'objecttype\s*=\s*["\']([a-z]*)', vml)
        shapes = len(re.findall(rb"<v:(?:shape|rect|roundrect|oval|line|polyline|image)\b",
                                vml))
        return (any(kind != b"note" for kind in kinds) or b"<x:visible" in vml
                or shapes > len(kinds))

    def has_macros(self) -> bool:
        """Whether the package holds a VBA project: by any part's name, by the content types
        or by a relationship (Excel finds the project through its relationship, so any name
        works)."""
        if self._layout.macros or any("vbaproject" in k for k in self._infos):
            return True
        types = self._bytes("[Content_Types].xml", MAX_DESCRIPTION_BYTES).lower()
        return b"vbaproject" in types or b"macroenabled" in types

    def styles(self) -> Styles:
        """The number format code of each cell style, and the conditional formats' ones."""
        part = self._layout.styles
        if part is None:
            return Styles((), False)
        data = self._bytes(part, MAX_DESCRIPTION_BYTES)  # always read: decompressed, checked
        key = (len(data), hash(data))
        if key not in _STYLES_CACHE:
            _remember(_STYLES_CACHE, key, _styles(self._parse(data, part)))
        return _STYLES_CACHE[key]

    def number_formats(self) -> list[str]:
        """The number format code of each cell style (cellXfs), in order."""
        return list(self.styles().formats)

    def modified(self) -> tuple[str | None, bool]:
        """The document properties' dcterms:modified as written (ISO 8601), if present, and
        whether the properties part was unreadable or oversized (then the time is unknown)."""
        part = self._layout.core
        if part is None:
            return None, False
        info = self._infos.get(_key(part))
        if info is None:
            return None, False
        if info.file_size > MAX_PROPERTIES_BYTES:
            return None, True
        try:
            root = self._parse(self._bytes(part, limit=MAX_PROPERTIES_BYTES), part)
        except FileRefused as exc:
            if exc.code in ("damaged-file", "zip-bomb", "too-large"):
                return None, True  # document properties are not the form: unknown time
            raise
        found = root.find(_DCTERMS_MODIFIED)
        text = (found.text or "").strip() if found is not None else ""
        if len(text) > 64:
            return None, True
        return text or None, False

    # -- private -------------------------------------------------------------------------

    def _structure(self) -> _Structure:
        """The package's structure from its content types and relationships (parsed once per
        content; the parts it names are checked against this zip each time)."""
        names = ("[Content_Types].xml", "_rels/.rels")
        for name in names:
            if _key(name) not in self._infos:
                raise FileRefused("not-a-workbook", Words(
                    f"ไฟล์นี้เป็นไฟล์บีบอัด แต่ไม่ใช่ไฟล์ Excel (ไม่มีส่วน {name})",
                    f"the file is a zip archive but not an Excel workbook (it has no {name})"))
        types_data, root_rels = (self._bytes(n, MAX_DESCRIPTION_BYTES) for n in names)
        root_key = (len(types_data), hash(types_data), len(root_rels), hash(root_rels))
        if root_key not in _ROOT_CACHE:
            types = _content_types(self._parse(types_data, names[0]))
            found = _office_document(self._parse(root_rels, names[1]))
            _remember(_ROOT_CACHE, root_key, (types, found,
                                              _type_of(types, found) if found else ""))
        types, book, book_type = _ROOT_CACHE[root_key]
        if book is None or _key(book) not in self._infos:
            raise FileRefused("not-a-workbook", Words(
                "ไฟล์นี้เป็นไฟล์บีบอัด แต่ไม่ใช่ไฟล์ Excel (ไม่มีส่วนที่เป็นสมุดงาน)",
                "the file is a zip archive but not an Excel workbook (no workbook part is "
                "named by its relationships)"))
        if "macroenabled" in book_type.lower():
            return _Structure((), None, None, None, False, True)
        book_rels_name = _rels_part(book)
        book_data = self._bytes(book, MAX_DESCRIPTION_BYTES)
        rels_data = self._bytes(book_rels_name, MAX_DESCRIPTION_BYTES) \
            if _key(book_rels_name) in self._infos else b""
        key = (*root_key, len(book_data), hash(book_data), len(rels_data), hash(rels_data))
        if key not in _STRUCTURE_CACHE:
            _remember(_STRUCTURE_CACHE, key, _read_structure(
                types, root_rels, self._parse(book_data, book), book, book_type,
                self._parse(rels_data, book_rels_name) if rels_data else None))
        structure = _STRUCTURE_CACHE[key]
        for part in structure.wanted:
            if _key(part) not in self._infos:
                raise _no_part(part)
        sheets = tuple(s if s.problem is not None or _key(s.path) in self._infos else
                       SheetInfo(s.name, s.path, s.state, Words(
                           f"แผ่นงาน '{s.name}' ไม่มีส่วน {s.path} ในไฟล์",
                           f"the sheet '{s.name}' has no part {s.path}"))
                       for s in structure.sheets)
        return _Structure(sheets, structure.shared_strings, structure.styles, structure.core,
                          structure.date1904, structure.macros)

    def _shared_strings(self) -> tuple[list[str], dict[int, int]]:
        if self._shared is None:
            part = self._layout.shared_strings
            self._shared = _shared_strings(self._xml(part)) if part else ([], {})
        return self._shared

    def _xml(self, member: str) -> Any:
        """The parsed root element of one part, read within the limits."""
        return self._parse(self._bytes(member), member)

    def _bytes(self, member: str, limit: int = MAX_MEMBER_BYTES) -> bytes:
        """One part's bytes, read within the limits; a part declaring a DOCTYPE is refused,
        and so is one holding more markup than any return's part."""
        info = self._infos.get(_key(member))
        if info is None:
            raise _no_part(member)
        if info.filename.lstrip("/") != member.lstrip("/"):
            # Excel compares part names without regard to case, LibreOffice does not: one
            # would read this part and the other would not find it
            raise _inconsistent(
                f"ไฟล์อ้างถึงส่วน {_printable(member)} แต่เก็บไว้ในชื่อ "
                f"{_printable(info.filename)} ซึ่งแต่ละโปรแกรมอ่านต่างกัน",
                f"the package names the part {_printable(member)} but holds it as "
                f"{_printable(info.filename)}, and spreadsheets differ on whether that is the "
                "same part")
        _check_member(info)
        remaining = MAX_READ_BYTES - self._read_total
        if info.file_size > remaining:
            raise _too_much_read()
        if info.file_size > limit:
            raise FileRefused("too-large", Words(
                f"ส่วน {_printable(member)} ของไฟล์มีขนาด {info.file_size / 1e6:.1f} MB "
                f"ใหญ่กว่าแบบฟอร์มทั่วไปมาก (ไม่เกิน {limit / 1e6:.1f} MB) " + _RESEND.th,
                f"the workbook's part {_printable(member)} is {info.file_size / 1e6:.1f} MB, "
                f"far more than any return's (its limit: {limit / 1e6:.1f} MB): "
                + _RESEND.en))
        start = self._starts.get(info)
        data = None
        if start is not None and self._zip.fp is not None:  # not once the package is closed
            data = _inflate(self._data, start, info, min(limit, remaining))
        if data is not None:
            self._read_total += len(data)
        else:
            data = self._unzip(info, member, min(limit, remaining))
        return self._check_part(member, data)

    def _unzip(self, info: zipfile.ZipInfo, member: str, limit: int) -> bytes:
        """One member's bytes read through zipfile, at most ``limit`` of them; whatever is
        wrong with it said as zipfile finds it."""
        try:
            with self._zip.open(info) as raw:
                limited = _Limited(raw, limit, member)
                data = limited.read_all()
                self._read_total += limited.count
        except FileRefused:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise FileRefused("damaged-file", Words(
                f"ส่วน {member} ของไฟล์แตกไฟล์ไม่ได้ แสดงว่าไฟล์เสียหาย กรุณาส่งไฟล์มาใหม่",
                f"the workbook's part {member} cannot be decompressed ({exc}); the file is "
                "damaged: send it again")) from exc
        except Exception as exc:  # zlib.error and friends: damaged deflate data
            raise FileRefused("damaged-file", Words(
                f"ส่วน {member} ของไฟล์เสียหาย กรุณาส่งไฟล์มาใหม่",
                f"the workbook's part {member} is damaged ({type(exc).__name__}); send the "
                "file again")) from exc
        return data

    def _check_part(self, member: str, data: bytes) -> bytes:
        """A part's bytes, once read: one declaring a DOCTYPE is refused, and so is one
        holding more markup than any return's part."""
        # (either holds "<!", and a large part is searched for that first: numpy's count
        # of two bytes costs a tenth of bytes' search for "<!DOCTYPE")
        if _count(data, b"<!") and (b"<!DOCTYPE" in data or b"<!ENTITY" in data):
            raise FileRefused("xml-doctype", _DOCTYPE_MESSAGE)
        markup = _count(data, b"<")
        self._markup_total += markup
        if markup > MAX_MARKUP or self._markup_total > MAX_PACKAGE_MARKUP:
            raise FileRefused("too-large", _slow(
                f"ส่วน {member} ของไฟล์มีองค์ประกอบ XML {markup:,} รายการ มากกว่าแบบฟอร์ม"
                "ทั่วไปมาก (ไม่กี่พันรายการ)",
                f"the workbook's part {member} holds {markup:,} XML elements, far more than "
                "any return (a few thousand)"))
        if _count(data, b"xm") > MAX_NAMESPACES and data.count(b"xmlns") > MAX_NAMESPACES:
            raise FileRefused("too-large", _slow(
                f"ส่วน {member} ของไฟล์ประกาศเนมสเปซ XML มากกว่าแบบฟอร์มทั่วไปมาก",
                f"the workbook's part {member} declares far more XML namespaces than any "
                "return"))
        if self._read_total <= _COUNT_FROM:
            return data  # so few bytes read that they bound the rest themselves
        attributes = _count(data, b"=")
        self._attributes_total += attributes
        self._escapes_total += _count(data, b"_x")
        if attributes > MAX_ATTRIBUTES or self._attributes_total > MAX_PACKAGE_ATTRIBUTES \
                or self._escapes_total > MAX_ESCAPES:
            raise FileRefused("too-large", _slow(
                f"ส่วน {member} ของไฟล์มีแอตทริบิวต์ XML หรืออักขระที่เข้ารหัสไว้มากกว่า"
                "แบบฟอร์มทั่วไปมาก",
                f"the workbook's part {member} holds far more XML attributes or escaped "
                "characters than any return"))
        if self.load() > 1:
            raise FileRefused("too-large", _slow(
                "ส่วนต่าง ๆ ของไฟล์รวมกันมีข้อมูลมากกว่าแบบฟอร์มทั่วไปมาก (แต่ละส่วนไม่เกิน"
                "ขีดจำกัด แต่รวมกันเกิน)",
                "the workbook's parts together hold far more bytes, XML and escaped "
                "characters than any return (each within its limit, but not all at once)"))
        return data

    def load(self) -> float:
        """What the parts read so far cost, as a share of what a file may cost (read_cost)."""
        return read_cost(self._read_total, self._markup_total, self._attributes_total,
                         self._escapes_total)

    def _parse(self, data: bytes, member: str) -> Any:
        return _parse(data, member)


#: A part this large is counted with numpy (a compare of every byte at once, then a count):
#: bytes.count tests one byte at a time, four times the instructions on a return's sheet;
#: below it numpy's fixed cost outweighs the gain.
_NUMPY_FROM = 16 * 1024


def _count(data: bytes, needle: bytes) -> int:
    """How often ``needle`` (one byte, or two different bytes) occurs in ``data``: what
    ``data.count(needle)`` gives. Two different bytes cannot overlap themselves, so their
    occurrences are the places where the first is followed by the second."""
    if len(data) < _NUMPY_FROM:
        return data.count(needle)
    codes = np.frombuffer(data, np.uint8)
    if len(needle) == 1:
        return int(np.count_nonzero(codes == needle[0]))
    if len(needle) == 2 and needle[0] != needle[1]:
        return int(np.count_nonzero((codes[:-1] == needle[0]) & (codes[1:] == needle[1])))
    return data.count(needle)


def read_cost(read_bytes: int, markup: int, attributes: int, escapes: int) -> float:
    """What reading parts of these totals costs, as a share of what a file may cost (a file
    over 1 is refused): each dimension's share of its package limit, added up (elements and
    attributes come together, so the larger of the two counts), so that a file at several
    limits at once costs no more than one at a single limit. Layouts are measured with it
    too (limits.py), so that their returns fit."""
    return (read_bytes / MAX_READ_BYTES
            + max(markup / MAX_PACKAGE_MARKUP, attributes / MAX_PACKAGE_ATTRIBUTES)
            + escapes / MAX_ESCAPES)


def open_package(path: Path) -> Package:
    """Open an xlsx package for reading, or raise FileRefused."""
    return Package(path)


def split_ref(ref: str) -> tuple[int, int] | None:
    """``"E12"`` -> (11, 4), zero-based; None if it is not a cell reference."""
    known = _REFS.get(ref)
    if known is not None:
        return known
    match = _REF.match(ref)
    if not match:
        return None
    letters, digits = match.groups()
    if int(digits) < 1:
        return None  # rows count from 1: "A0" is no address
    col = 0
    for ch in letters:
        col = col * 26 + (ord(ch) - 64)
    pos = (int(digits) - 1, col - 1)
    if len(_REFS) < 100_000:  # the same few hundred addresses recur in every return
        _REFS[ref] = pos
    return pos


# --------------------------------------------------------------------------------------------
# Private: the zip and its limits
# --------------------------------------------------------------------------------------------

_RESEND = Words("กรุณากรอกแบบฟอร์มที่กระทรวงส่งให้ด้วย Excel หรือ LibreOffice แล้วส่งไฟล์นั้น"
                "กลับมา",
                "fill in the workbook the ministry sent, in Excel or LibreOffice, and send "
                "that file")


def _no_part(part: str) -> FileRefused:
    return FileRefused("damaged-file", Words(
        f"ไฟล์ไม่มีส่วน {part} แสดงว่าไฟล์เสียหาย กรุณาเปิดใน Excel แล้วบันทึกใหม่",
        f"the workbook has no part {part}; it is damaged: save it again from Excel"))


def _slow(th: str, en: str) -> Words:
    """A part too costly to read: what it holds, and what to do."""
    return Words(f"{th} จะใช้เวลาอ่านนานเกินไป {_RESEND.th}",
                 f"{en}: it would take too long to read; {_RESEND.en}")


def _cannot_read(exc: OSError) -> FileRefused:
    return FileRefused("unreadable", Words("เปิดอ่านไฟล์ไม่ได้",
                                           f"cannot read the file ({exc.strerror})"))


def _open_zip(path: Path) -> tuple[zipfile.ZipFile, bytes, dict[zipfile.ZipInfo, int]]:
    """The file read whole (it is small) and opened as a zip, its members within the limits
    and its local headers in agreement with its central directory; with the file's bytes and
    where the data of each member whose two headers carry the same flags starts (those are
    inflated straight from the bytes: _inflate)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _cannot_read(exc) from exc
    if size > MAX_FILE_BYTES:
        raise FileRefused("too-large", Words(
            f"ไฟล์มีขนาด {size / 1e6:.0f} MB ขณะที่แบบฟอร์มปกติมีขนาดไม่ถึง "
            f"{MAX_FILE_BYTES // 1_000_000} MB กรุณาส่งเฉพาะไฟล์แบบฟอร์ม",
            f"the file is {size / 1e6:.0f} MB; a return is well under "
            f"{MAX_FILE_BYTES // 1_000_000} MB: send the form itself"))
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _cannot_read(exc) from exc
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused("too-large", Words(
            f"ไฟล์มีขนาดเกิน {MAX_FILE_BYTES // 1_000_000} MB ขณะที่แบบฟอร์มปกติเล็กกว่านี้มาก "
            "กรุณาส่งเฉพาะไฟล์แบบฟอร์ม",
            f"the file is over {MAX_FILE_BYTES // 1_000_000} MB; a return is far smaller: "
            "send the form itself"))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError,
            struct.error) as exc:
        raise FileRefused("damaged-file", Words(
            "ไฟล์นี้ไม่ใช่ไฟล์ .xlsx ที่อ่านได้ (ไฟล์บีบอัดเสียหายหรือไม่ครบ) กรุณาเปิดใน Excel "
            "บันทึกใหม่ แล้วส่งมาใหม่",
            "the file is not a readable xlsx (a damaged or truncated zip); save it again "
            "from Excel and resend it")) from exc
    try:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise FileRefused("zip-bomb", Words(
                f"ไฟล์นี้มี {len(infos)} ส่วน ขณะที่แบบฟอร์มมีน้อยกว่านี้มาก " + _NOT_A_RETURN.th,
                f"the file holds {len(infos)} parts; a workbook has far fewer: "
                + _NOT_A_RETURN.en))
        declared = sum(i.file_size for i in infos)
        if declared > MAX_TOTAL_BYTES:
            raise FileRefused("zip-bomb", Words(
                f"ไฟล์นี้จะขยายเป็น {declared / 1e6:.0f} MB เมื่อแตกไฟล์ " + _NOT_A_RETURN.th,
                f"the file would expand to {declared / 1e6:.0f} MB; " + _NOT_A_RETURN.en))
        starts = _check_local_headers(data, infos, getattr(archive, "start_dir", len(data)))
    except BaseException:
        archive.close()
        raise
    return archive, data, starts


_LOCAL = struct.Struct("<4s5H3L2H")


def _check_local_headers(data: bytes, infos: list[zipfile.ZipInfo],
                         central: int) -> dict[zipfile.ZipInfo, int]:
    """Each member's local header says what the central directory says (name, compression,
    checksum and sizes), and no two members' data overlap: a zip that two readers would read
    differently is refused. Returns where the data starts of each member whose local header
    carries the same flags as its directory entry (zipfile decodes the local name by the
    local flags: any other member is left to zipfile to open)."""
    spans = []
    starts: dict[zipfile.ZipInfo, int] = {}
    for info in infos:
        start = info.header_offset
        header = data[start:start + _LOCAL.size]
        if len(header) < _LOCAL.size:
            raise _disagree(f"รายการของส่วน {_printable(info.filename)} ในไฟล์บีบอัดชี้เลย"
                            "ท้ายไฟล์",
                            f"the zip entry of {_printable(info.filename)} points past the "
                            "end of the file")
        (signature, _, flags, method, _, _, crc, compressed, size, name_len,
         extra_len) = _LOCAL.unpack(header)
        local_name = data[start + _LOCAL.size:start + _LOCAL.size + name_len]
        expected = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437",
                                             "surrogateescape")
        if signature != b"PK\x03\x04" or local_name != expected:
            raise _disagree(f"สารบัญของไฟล์บีบอัดระบุส่วน {_printable(info.filename)} แต่ข้อมูล"
                            "จริงเป็นส่วนอื่น",
                            f"the zip's directory names the part {_printable(info.filename)}"
                            " but its entry holds another")
        if method != info.compress_type or (flags & 0x1) != (info.flag_bits & 0x1):
            raise _disagree(f"สารบัญและข้อมูลของส่วน {_printable(info.filename)} ระบุวิธีจัดเก็บ"
                            "ไม่ตรงกัน",
                            f"the zip's directory and entry of {_printable(info.filename)} "
                            "disagree on how it is stored")
        if not flags & 0x08 and (crc != info.CRC or (
                compressed != 0xFFFFFFFF and compressed != info.compress_size) or (
                size != 0xFFFFFFFF and size != info.file_size)):
            raise _disagree(f"สารบัญและข้อมูลของส่วน {_printable(info.filename)} ระบุขนาดหรือ"
                            "ค่าตรวจสอบไม่ตรงกัน",
                            f"the zip's directory and entry of {_printable(info.filename)} "
                            "disagree on its size or checksum")
        end = start + _LOCAL.size + name_len + extra_len + info.compress_size
        spans.append((start, end, info.filename))
        if flags == info.flag_bits:
            starts[info] = start + _LOCAL.size + name_len + extra_len
    spans.sort()
    for (_, end, name), (start, _, other) in zip(spans, spans[1:], strict=False):
        if end > start:
            raise _disagree(f"ข้อมูลของส่วน {_printable(name)} และ {_printable(other)} ซ้อนทับกัน",
                            f"the zip entries of {_printable(name)} and "
                            f"{_printable(other)} overlap")
    if spans and spans[-1][1] > central:
        raise _disagree(f"ข้อมูลของส่วน {_printable(spans[-1][2])} ล้ำเข้าไปในสารบัญของไฟล์"
                        "บีบอัด",
                        f"the zip entry of {_printable(spans[-1][2])} runs into its "
                        "directory")
    return starts


def _index_members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The members by part name, compared as Excel compares them (ASCII case ignored); a name
    given twice refuses the file, since which copy a spreadsheet reads is anyone's guess."""
    index: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        if info.filename.endswith("/") and info.file_size == 0:
            continue  # a folder entry, which some zip tools add
        key = _key(info.filename)
        if key in index:
            raise _inconsistent(f"ไฟล์บีบอัดมีส่วน {_printable(info.filename)} ซ้ำสองครั้ง",
                                f"the zip holds the part {_printable(info.filename)} twice")
        index[key] = info
    return index


def _key(name: str) -> str:
    """A part name as compared: without its leading slash, ASCII letters in lower case."""
    return name.lstrip("/").translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(65, 91)}


def _printable(name: str) -> str:
    text = name.encode("utf-8", "backslashreplace").decode("utf-8")
    text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return text if len(text) <= 80 else text[:79] + "…"


def _disagree(th: str, en: str) -> FileRefused:
    """A zip whose directory and entries disagree: damaged, or edited to be read two ways."""
    return FileRefused("damaged-file", Words(
        f"{th} แสดงว่าไฟล์บีบอัดเสียหายหรือถูกแก้ไข โปรแกรมต่าง ๆ จึงอ่านได้ไม่ตรงกัน กรุณาเปิด"
        "แบบฟอร์มใน Excel บันทึกใหม่ แล้วส่งมาใหม่",
        f"{en}: the zip is damaged or was edited, so readers would differ on what it holds; "
        "save the workbook again from Excel and send it again"))


def _inconsistent(th: str, en: str) -> FileRefused:
    return FileRefused("inconsistent-package", Words(th, en))


#: The end of a refusal of a file no form becomes.
_NOT_A_RETURN = Words("แสดงว่าไม่ใช่แบบฟอร์มที่กรอกแล้ว", "it is not a return")


def _too_much_read() -> FileRefused:
    return FileRefused("too-large", Words(
        f"ส่วนต่าง ๆ ของไฟล์มีข้อความและโค้ดรวมกันเกิน {MAX_READ_BYTES // 2**20} MB มากกว่าที่"
        "ใช้อ่านแบบฟอร์ม (แบบฟอร์มที่กรอกแล้วมีไม่ถึง 1 MB) กรุณาตัดคำตอบที่ยาวที่สุดให้สั้นลง "
        "หรือ" + _RESEND.th.removeprefix("กรุณา"),
        f"the workbook's parts hold over {MAX_READ_BYTES // 2**20} MB of text and markup, "
        "more than a return is read with (a filled return holds under 1 MB): shorten the "
        "longest answers, or " + _RESEND.en))


def _check_member(info: zipfile.ZipInfo) -> None:
    if info.file_size > MAX_MEMBER_BYTES:
        raise FileRefused("zip-bomb", Words(
            f"ส่วน {_printable(info.filename)} จะขยายเป็น {info.file_size / 1e6:.0f} MB เมื่อ"
            "แตกไฟล์ " + _NOT_A_RETURN.th,
            f"the part {_printable(info.filename)} would expand to "
            f"{info.file_size / 1e6:.0f} MB; " + _NOT_A_RETURN.en))
    if info.compress_size and info.file_size / info.compress_size > MAX_RATIO \
            and info.file_size > 1_000_000:
        ratio = info.file_size // info.compress_size
        raise FileRefused("zip-bomb", Words(
            f"ส่วน {_printable(info.filename)} ถูกบีบอัดไว้ {ratio}:1 " + _NOT_A_RETURN.th,
            f"the part {_printable(info.filename)} is compressed {ratio}:1; "
            + _NOT_A_RETURN.en))


class _Limited:
    """A file object that refuses to yield more than ``limit`` bytes (sizes can lie)."""

    def __init__(self, raw: IO[bytes], limit: int, member: str) -> None:
        self.raw, self.limit, self.member, self.count = raw, limit, member, 0

    def read_all(self) -> bytes:
        chunks = []
        while chunk := self.read():
            chunks.append(chunk)
        return b"".join(chunks)

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(262144 if size < 0 else min(size, 262144))
        self.count += len(chunk)
        if self.count > self.limit:
            raise FileRefused("zip-bomb", Words(
                f"ส่วน {_printable(self.member)} ขยายเกิน {self.limit / 1e6:.0f} MB เมื่อแตกไฟล์ "
                + _NOT_A_RETURN.th,
                f"the part {_printable(self.member)} expands beyond "
                f"{self.limit / 1e6:.0f} MB; " + _NOT_A_RETURN.en))
        return chunk


def _inflate(data: bytes, start: int, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """A member's bytes, decompressed from the file's bytes in one call, exactly as zipfile
    would give them: or None if anything is out of the ordinary (a method other than stored
    or deflated, damaged data, more bytes than declared or than ``limit``, a wrong checksum),
    and then zipfile reads the member and says what is wrong as it always has. zipfile itself
    reads in chunks through several Python layers, which costs more than the inflating.
    ``start``: where the member's data begins (its local header checked)."""
    size = info.file_size
    compressed = data[start:start + info.compress_size]
    if len(compressed) != info.compress_size or size > limit:
        return None
    if info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-15)  # as zipfile's: raw deflate
        try:
            # at most one byte more than declared: zipfile stops at the declared size, so a
            # member longer than it says is left to zipfile
            out = inflater.decompress(compressed, size + 1)
            if len(out) > size:
                return None  # and not flushed: that would inflate the rest unbounded
            if not inflater.eof:
                out += inflater.flush()  # as zipfile does at the end of the data
        except zlib.error:
            return None
    elif info.compress_type == zipfile.ZIP_STORED:
        out = compressed
    else:
        return None
    if len(out) > size or zlib.crc32(out) != info.CRC:
        return None
    return out


# --------------------------------------------------------------------------------------------
# Private: the package's structure, from content types and relationships
# --------------------------------------------------------------------------------------------

_OFFICE_DOCUMENT = _REL_NS + "/officeDocument"
_STRICT_OFFICE_DOCUMENT = "http://purl.oclc.org/ooxml/officeDocument/relationships/" \
    "officeDocument"
_CORE = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/" \
    "core-properties"
_WORKSHEET, _SHARED_STRINGS, _STYLES_REL, _VBA = (
    _REL_NS + "/worksheet", _REL_NS + "/sharedStrings", _REL_NS + "/styles",
    "http://schemas.microsoft.com/office/2006/relationships/vbaProject")
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml."
_BOOK_TYPES = (_TYPE + "sheet.main+xml", _TYPE + "template.main+xml")
_PART_TYPES = {_WORKSHEET: _TYPE + "worksheet+xml",  # as compared: in lower case
               _SHARED_STRINGS: _TYPE + "sharedstrings+xml", _STYLES_REL: _TYPE + "styles+xml"}
_STRICT_MESSAGE = Words("แบบฟอร์มนี้บันทึกเป็นชนิด 'Strict Open XML' กรุณาบันทึกใหม่เป็น "
                        "'Excel Workbook (.xlsx)' แบบปกติ",
                        "the workbook is saved as 'Strict Open XML'; save it as an ordinary "
                        "'Excel Workbook (.xlsx)'")


def _content_types(root: Any) -> dict[str, str]:
    """Part name (as compared) -> content type, and '.ext' -> the default for an extension.
    Content types are media types, compared without regard to ASCII case."""
    types: dict[str, str] = {}
    for element in root:
        tag = element.tag
        if tag == f"{{{_TYPES_NS}}}Default":
            types["." + (element.get("Extension") or "").translate(_ASCII_LOWER)] = \
                element.get("ContentType", "").strip().translate(_ASCII_LOWER)
    for element in root:
        if element.tag == f"{{{_TYPES_NS}}}Override":
            types[_key(element.get("PartName") or "")] = \
                element.get("ContentType", "").strip().translate(_ASCII_LOWER)
    return types


def _default_type(types: dict[str, str], part: str) -> str:
    return types.get("." + posixpath.splitext(part)[1][1:].translate(_ASCII_LOWER), "")


def _type_of(types: dict[str, str], part: str) -> str:
    return types.get(_key(part)) or _default_type(types, part)


def _relationships(root: Any) -> list[tuple[str, str, str, bool]]:
    """(id, type, target, external) of each relationship."""
    return [(r.get("Id") or "", r.get("Type") or "", r.get("Target") or "",
             (r.get("TargetMode") or "").lower() == "external")
            for r in root if r.tag == f"{{{_PKG_REL_NS}}}Relationship"]


def _office_document(root: Any) -> str | None:
    rels = _relationships(root)
    if any(t == _STRICT_OFFICE_DOCUMENT for _, t, _, _ in rels):
        raise FileRefused("strict-ooxml", _STRICT_MESSAGE)
    books = [target for _, t, target, external in rels if t == _OFFICE_DOCUMENT and not external]
    if len(books) > 1:
        raise _inconsistent("ไฟล์ระบุส่วนที่เป็นสมุดงานไว้มากกว่าหนึ่งส่วน",
                            "the package names more than one workbook part")
    return _resolve("", books[0]) if books else None


def _rels_part(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(source: str, target: str) -> str:
    """A relationship's target as a part name, relative to the part it belongs to; one that
    leaves the package, or is not a plain path, refuses the file."""
    if any(ch in target for ch in "?#\\") or "://" in target:
        raise _outside(target)
    if "." in target.split("/"):
        # "./sheet1.xml": LibreOffice finds no part there, Excel may: not a plain path
        raise _inconsistent(f"ไฟล์มีการอ้างอิงที่ไม่ใช่ตำแหน่งปกติ ({_printable(target)})",
                            f"a relationship's target is not a plain path ({_printable(target)})")
    if target.startswith("/"):
        path = posixpath.normpath(target.lstrip("/"))
    else:
        path = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
    if path.startswith("..") or path in (".", ""):
        raise _outside(target)
    return path


def _outside(target: str) -> FileRefused:
    return _inconsistent(f"ไฟล์มีการอ้างอิงไปนอกไฟล์ ({_printable(target)})",
                         f"a relationship points outside the package ({_printable(target)})")


def _read_structure(types: dict[str, str], root_rels: bytes, book: Any, book_part: str,
                    book_type: str, book_rels: Any | None) -> _Structure:
    if book.tag.startswith("{" + _STRICT_NS):
        raise FileRefused("strict-ooxml", _STRICT_MESSAGE)
    if book.tag != f"{{{_MAIN_NS}}}workbook" or book_type not in _BOOK_TYPES:
        raise _inconsistent(f"ส่วน {_printable(book_part)} ที่ระบุว่าเป็นสมุดงานไม่ใช่สมุดงาน "
                            f"(ชนิดเนื้อหา: {_printable(book_type) or 'ไม่มี'})",
                            f"the part {_printable(book_part)} named as the workbook is not "
                            f"one (its content type is {_printable(book_type) or 'missing'})")
    # a second workbookPr (date1904) or sheets list: LibreOffice reads the later or both
    _once(book, _BOOK_SINGLES, Words("สมุดงาน", "the workbook"))
    rels = _relationships(book_rels) if book_rels is not None else []
    by_id: dict[str, tuple[str, str, bool]] = {}
    for rid, kind, target, external in rels:
        if rid in by_id:
            raise _inconsistent(f"การอ้างอิง {_printable(rid)} ของสมุดงานซ้ำสองครั้ง",
                                f"the workbook's relationship {_printable(rid)} is given twice")
        by_id[rid] = (kind, target, external)
    wanted: list[str] = []

    def single(kind: str, what: Words) -> str | None:
        found = [(t, ext) for k, t, ext in by_id.values() if k == kind]
        if not found:
            return None
        if len(found) > 1:
            raise _inconsistent(f"สมุดงานระบุส่วน{what.th}ไว้มากกว่าหนึ่งส่วน",
                                f"the workbook names more than one {what.en} part")
        target, external = found[0]
        if external:
            raise _inconsistent(f"ส่วน{what.th}ของสมุดงานอยู่นอกไฟล์",
                                f"the workbook's {what.en} are outside the package")
        part = _resolve(book_part, target)
        if _type_of(types, part) != _PART_TYPES[kind]:
            raise _inconsistent(f"ส่วน {_printable(part)} ที่ระบุว่าเป็น{what.th}ของสมุดงาน "
                                "ไม่ใช่ส่วนชนิดนั้น (ชนิดเนื้อหาไม่ตรง)",
                                f"the part {_printable(part)} named as the workbook's "
                                f"{what.en} is not one (its content type says otherwise)")
        wanted.append(part)
        return part

    shared = single(_SHARED_STRINGS, Words("ข้อความที่ใช้ร่วมกัน", "shared strings"))
    styles = single(_STYLES_REL, Words("รูปแบบเซลล์", "styles"))
    sheets: list[SheetInfo] = []
    names: set[str] = set()
    parts: dict[str, str] = {}
    sheets_element = book.find(f"{{{_MAIN_NS}}}sheets")
    for element in sheets_element if sheets_element is not None else ():
        if element.tag != f"{{{_MAIN_NS}}}sheet":
            continue
        name = element.get("name", "")
        if name.casefold() in names:
            raise _inconsistent(f"สมุดงานมีแผ่นงานชื่อ {_printable(name)} สองแผ่น",
                                f"the workbook has two sheets named {_printable(name)}")
        names.add(name.casefold())
        rid = element.get(f"{{{_REL_NS}}}id", "")
        state = element.get("state", "visible")
        kind, target, external = by_id.get(rid, ("", "", False))
        problem = None
        path = ""
        if kind != _WORKSHEET or external or not target:
            problem = Words(f"แผ่นงาน '{name}' ไม่ใช่แผ่นงานของไฟล์นี้",
                            f"the sheet '{name}' is not a worksheet of this package")
        else:
            path = _resolve(book_part, target)
            if _type_of(types, path) != _PART_TYPES[_WORKSHEET]:
                problem = Words(f"ส่วนของแผ่นงาน '{name}' ไม่ใช่แผ่นงาน",
                                f"the part of the sheet '{name}' is not a worksheet")
            elif _key(path) in parts:
                raise _inconsistent(f"แผ่นงาน {_printable(parts[_key(path)])} และ "
                                    f"{_printable(name)} ใช้ส่วนเดียวกันในไฟล์",
                                    f"the sheets {_printable(parts[_key(path)])} and "
                                    f"{_printable(name)} are the same part")
            parts[_key(path)] = name
        sheets.append(SheetInfo(name=name, path=path, state=state, problem=problem))
    props = book.find(f"{{{_MAIN_NS}}}workbookPr")
    date1904 = props is not None and (props.get("date1904") or "").strip().lower() in (
        "1", "true")
    core = None
    for _, kind, target, external in _relationships(_parse(root_rels, "_rels/.rels")):
        if kind == _CORE and not external:
            core = _resolve("", target)  # optional: a file may lack it
    macros = any(k == _VBA for k, _, _ in by_id.values())
    return _Structure(tuple(sheets), shared, styles, core, date1904, macros, tuple(wanted))


# --------------------------------------------------------------------------------------------
# Private: one reader per part
# --------------------------------------------------------------------------------------------

_DOCTYPE_MESSAGE = Words("ไฟล์ XML ภายในแบบฟอร์มประกาศ DOCTYPE หรือ ENTITY ซึ่ง Excel ไม่เคย"
                         "เขียน แสดงว่าไฟล์สร้างด้วยโปรแกรมอื่นและอาจเป็นอันตราย",
                         "the workbook's XML declares a DOCTYPE or entities, which Excel never "
                         "writes; the file was made by another tool and may be hostile")
_M = "{" + _MAIN_NS + "}"
_C, _V, _F, _IS, _T, _R, _ROW, _SI = (_M + n for n in ("c", "v", "f", "is", "t", "r", "row",
                                                        "si"))
_SHEET_DATA, _EXT_LST, _MERGE_CELL = _M + "sheetData", _M + "extLst", _M + "mergeCell"
_RPR, _VERT_ALIGN, _STRIKE = _M + "rPr", _M + "vertAlign", _M + "strike"
_DRAWN = frozenset((_M + "drawing", _M + "controls", _M + "oleObjects"))
_DCTERMS_MODIFIED = "{http://purl.org/dc/terms/}modified"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          remove_comments=True, remove_pis=True)
#: style attributes as written, parsed once (and a cell without one: style 0)
_STYLE_OF: dict[str | None, int] = {None: 0, **{str(i): i for i in range(2048)}}
#: Shared-string indexes as written -> their number: the same few hundred recur in every
#: return (filled as the walk meets them, bounded as _REFS is)
_INDEXES: dict[str, int] = {}
_NS = {"m": _MAIN_NS}
_COUNT_TEXTS = etree.XPath("count(//m:t)", namespaces=_NS)
_RUN_TAGS = (_R, _M + "rPh")
# Parts that are the same in every return of one generator, parsed once per content.
_ROOT_CACHE: dict[tuple[int, ...], tuple[dict[str, str], str | None, str]] = {}
_STRUCTURE_CACHE: dict[tuple[int, ...], _Structure] = {}
_STYLES_CACHE: dict[tuple[int, ...], Styles] = {}


def _parse(data: bytes, member: str) -> Any:
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        if "huge" in str(exc).lower():
            raise FileRefused("too-large", Words(
                f"ส่วน {_printable(member)} ของไฟล์มีข้อความยาวเกิน 10 MB ซึ่งไม่มีคำตอบใดยาว"
                f"ขนาดนั้น กรุณาตัดให้เหลือไม่เกิน {MAX_TEXT:,} ตัวอักษร แล้วส่งไฟล์มาใหม่",
                f"the workbook's part {_printable(member)} holds a text over 10 MB; no answer "
                f"is that long: shorten it to at most {MAX_TEXT:,} characters and send the "
                "file again")) from exc
        raise FileRefused("damaged-file", Words(
            f"ส่วน {_printable(member)} ของไฟล์ไม่ใช่ XML ที่ถูกต้อง กรุณาเปิดใน Excel แล้ว"
            "บันทึกใหม่",
            f"the workbook's part {_printable(member)} is not valid XML ({exc}); save it "
            "again from Excel")) from exc
    if root.getroottree().docinfo.internalDTD is not None:
        # the byte check in _bytes sees only ASCII-compatible encodings (not UTF-16);
        # the parser resolved nothing, but such a part is refused all the same
        raise FileRefused("xml-doctype", _DOCTYPE_MESSAGE)
    return root


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= 64:
        cache.pop(next(iter(cache)))
    cache[key] = value


class MarkedText(str):
    """A text some of whose characters a spreadsheet draws raised, lowered or struck out
    (rich-text runs): "10" and a superscript "2" show 10², though the text is "102"."""

    __slots__ = ()


def _text_of(element: Any) -> str:
    """The text a string shows: its <t>, or its runs' <t> joined; phonetic hints (rPh) and
    their properties are left out. A run drawn raised, lowered or struck out makes it a
    MarkedText."""
    if len(element) == 1 and element[0].tag == _T:
        return element[0].text or ""
    parts = []
    marked = False
    for child in element:
        tag = child.tag
        if tag == _T:
            parts.append(child.text or "")
        elif tag == _R:
            parts.extend(t.text or "" for t in child if t.tag == _T)
            properties = child.find(_RPR)
            if properties is not None and not marked:
                marked = _marks(properties)
    text = "".join(parts)
    return MarkedText(text) if marked else text


def _marks(properties: Any) -> bool:
    """Whether a run's properties draw it raised or lowered (vertAlign) or struck out."""
    for prop in properties:
        if prop.tag == _VERT_ALIGN and (prop.get("val") or "") in ("superscript", "subscript"):
            return True
        if prop.tag == _STRIKE and not _false(prop.get("val")):
            return True
    return False


def _marked_like(source: str, text: str) -> str:
    """``text`` (decoded or cut from ``source``) a MarkedText if ``source`` was one."""
    return MarkedText(text) if source.__class__ is MarkedText else text


def _placed_texts(si: Any) -> int:
    """The <t> of a string in their places: its own, its runs', its phonetic hints'."""
    count = 0
    for child in si:
        if child.tag == _T:
            count += 1
        elif child.tag in _RUN_TAGS:
            count += sum(1 for t in child if t.tag == _T)
    return count


def _cut(text: str) -> tuple[str, int | None]:
    """Text (decoded: its length is what it shows) kept to MAX_TEXT + 1 characters, and its
    full length if it was cut."""
    if len(text) <= MAX_TEXT:
        return text, None
    return text[: MAX_TEXT + 1], len(text)


def _shared_strings(root: Any) -> tuple[list[str], dict[int, int]]:
    """The shared strings, in order; a text anywhere but a string's own runs (where no
    spreadsheet shows it) refuses the part."""
    if root.tag != f"{_M}sst":
        raise _inconsistent("ส่วนข้อความที่ใช้ร่วมกันไม่ใช่ชนิดที่ถูกต้อง",
                            "the shared strings part is not one")
    if len(root) > MAX_SHARED_STRINGS + 1:
        raise _too_many_strings()
    strings: list[str] = []
    lengths: dict[int, int] = {}
    t_tag, si_tag = _T, _SI
    placed = 0  # texts where a spreadsheet reads them (or, phonetic, knowingly leaves them)
    for si in root:
        if si.tag != si_tag:
            if si.tag == _EXT_LST:
                continue
            raise _inconsistent("ส่วนข้อความที่ใช้ร่วมกันมีสิ่งที่ไม่ใช่ข้อความ",
                                "the shared strings hold something that is not a string")
        first = si[0] if len(si) == 1 else None
        if first is not None and first.tag == t_tag:
            text = first.text or ""
            placed += 1
        else:
            text = _text_of(si)
            placed += _placed_texts(si)
        raw = text
        text = unescape(text)  # first: "_x000D_" is one character shown
        if len(text) > MAX_TEXT:
            lengths[len(strings)] = len(text)
            text = text[: MAX_TEXT + 1]
        strings.append(_marked_like(raw, text))
    if _COUNT_TEXTS(root) != placed:
        raise _inconsistent("ส่วนข้อความที่ใช้ร่วมกันมีข้อความที่อยู่นอกรายการข้อความ",
                            "the shared strings hold a text outside any string")
    if len(strings) > MAX_SHARED_STRINGS:
        raise _too_many_strings()
    return strings, lengths


def _too_many_strings() -> FileRefused:
    return FileRefused("zip-bomb", Words(
        f"ไฟล์มีข้อความเกิน {MAX_SHARED_STRINGS:,} รายการ " + _NOT_A_RETURN.th,
        f"the workbook holds over {MAX_SHARED_STRINGS:,} texts; " + _NOT_A_RETURN.en))


def _styles(root: Any) -> Styles:
    """The number format of each cell style: its code where the styles define it, else the
    built-in one of its id; only ``styleSheet/numFmts/numFmt`` defines codes (a differential
    format's numFmt is a conditional format's, not a cell's). A collection given twice, or a
    format id defined twice with two codes, refuses the part: LibreOffice reads the later
    one, and what Excel reads is not known."""
    if root.tag != _M + "styleSheet":
        raise _inconsistent("ส่วนรูปแบบเซลล์ไม่ใช่ชนิดที่ถูกต้อง", "the styles part is not one")
    _once(root, _STYLE_COLLECTIONS, Words("ส่วนรูปแบบเซลล์", "the styles"))
    codes: dict[int, str] = {}
    formats = root.find(_M + "numFmts")
    if formats is not None and len(formats) > MAX_NUMBER_FORMATS:
        raise FileRefused("too-large", Words(
            f"ไฟล์กำหนดรูปแบบตัวเลขไว้เกิน {MAX_NUMBER_FORMATS:,} แบบ มากกว่าที่ Excel โหลดได้ "
            "(ประมาณ 250 แบบ) " + _RESEND.th,
            f"the workbook defines over {MAX_NUMBER_FORMATS:,} number formats, more than "
            "Excel can load (about 250): " + _RESEND.en))
    for n in formats if formats is not None else ():
        if n.tag == _M + "numFmt":
            format_id = _number(n.get("numFmtId") or "", default=-1)
            code = n.get("formatCode", "")
            if codes.get(format_id, code) != code:
                raise _inconsistent(f"รูปแบบตัวเลขหมายเลข {format_id} ถูกกำหนดซ้ำสองครั้ง",
                                    f"the styles define the number format {format_id} twice")
            codes[format_id] = code
    xfs = root.find(_M + "cellXfs")
    if xfs is not None and len(xfs) > MAX_STYLES:
        raise FileRefused("zip-bomb", Words(
            f"ไฟล์มีรูปแบบเซลล์เกิน {MAX_STYLES:,} แบบ " + _NOT_A_RETURN.th,
            f"the workbook holds over {MAX_STYLES:,} cell styles; " + _NOT_A_RETURN.en))
    xf_tag = _M + "xf"
    written = [x.get("numFmtId") or "0" for x in (xfs if xfs is not None else ())
               if x.tag == xf_tag]
    numbers = {text: _number(text) for text in set(written)}  # a few distinct ids
    ids = [numbers[text] for text in written]
    dxfs = root.find(_M + "dxfs")
    conditional = dxfs is not None and any(
        child.tag == _M + "numFmt" for dxf in dxfs for child in dxf)
    return Styles(tuple(codes[i] if i in codes else builtin_format(i) for i in ids),
                  conditional)


_BOOK_SINGLES = frozenset(f"{{{_MAIN_NS}}}{n}" for n in (
    "fileVersion", "workbookPr", "workbookProtection", "bookViews", "sheets", "definedNames",
    "calcPr"))
_STYLE_COLLECTIONS = frozenset(_M + n for n in (
    "numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs"))
_SHEET_SINGLES = frozenset(_M + n for n in (
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "sheetData", "mergeCells"))


def _once(root: Any, tags: frozenset[str], what: Words) -> None:
    """Each of ``tags`` at most once among the children of ``root`` (the schema's rule): a
    second copy is read by some spreadsheets and not by others."""
    seen: set[str] = set()
    for child in root:
        tag = child.tag
        if tag in tags:
            if tag in seen:
                element = tag.rsplit('}', 1)[-1]
                raise _inconsistent(f"{what.th}มีองค์ประกอบ <{element}> สองชุด",
                                    f"{what.en} hold two {element} elements")
            seen.add(tag)


def _sheet_cells(root: Any, shared: list[str], lengths: dict[int, int], max_row: int,
                 max_col: int, *, conditional: bool = False,
                 date1904: bool = False) -> SheetData:
    """Every cell that holds a value or a formula, by (row, col), where Excel reads cells:
    ``worksheet/sheetData/row/c``, rows and cells in order, each once (a row or cell without
    its address follows the one before it, as the schema allows). A cell anywhere else, or
    out of order, refuses the sheet. The loop handles the common shapes inline (it is the
    reader's hot spot). ``conditional``: the part mentions conditional formats (in the sheet
    or in its extensions, as Excel 2010 writes some). Each cell is asked whether it carries
    value metadata (``vm``), and each formula with a kind what range it fills (asking costs
    less than searching the part's bytes for them first). Columns may be described in
    several ``cols`` elements (the schema allows it), and all count."""
    if root.tag != f"{_M}worksheet":
        raise _inconsistent("ส่วนของแผ่นงานหนึ่งไม่ใช่แผ่นงาน", "a sheet's part is not a worksheet")
    sheet_data = None
    drawing = False
    hides_zeros = False
    hidden_mask = 0  # bit i: column i hidden
    zero_height = False
    merges: tuple[tuple[int, int, int, int], ...] = ()
    for child in root:
        tag = child.tag
        if tag == _SHEET_DATA:
            if sheet_data is not None:
                raise _inconsistent("แผ่นงานหนึ่งมีชุดข้อมูลเซลล์สองชุด",
                                    "a sheet holds two sets of cells")
            sheet_data = child
        elif tag in _DRAWN:
            drawing = True  # shapes, pictures, controls or embedded objects over the cells
        elif tag == _M + "sheetViews":
            hides_zeros = any(_false(v.get("showZeros")) for v in child)
        elif tag == _M + "cols":
            hidden_mask |= _hidden_columns(child, max_col)
        elif tag == _M + "sheetFormatPr":
            zero_height = _true(child.get("zeroHeight"))
        elif tag == _M + "mergeCells":
            merges = _merges(child)
    _once(root, _SHEET_SINGLES - {_SHEET_DATA}, Words("การตั้งค่าของแผ่นงานหนึ่ง",
                                                      "a sheet's settings"))
    formula_ranges: list[tuple[int, int, int, int]] = []
    cells: Cells = {}
    beyond: tuple[int, int] | None = None
    pos: tuple[int, int] | None  # a cell's (row, col); None only for an address that is not one
    hidden_rows: set[int] = set()
    refs, styles, v_tag, f_tag, c_tag, new = _REFS, _STYLE_OF, _V, _F, _C, tuple.__new__
    indexes, strings = _INDEXES, len(shared)
    is_tag, t_tag, last_col, last_row = _IS, _T, EXCEL_COLS, EXCEL_ROWS
    row_index = -1
    row_tag = _ROW
    current = None  # the row of the cells being walked
    col = -1
    placed: dict[Any, int] = {}  # rows and cells without an address, by the walk's order
    # Every cell of the part is walked in C (lxml's iter): empty rows cost nothing, and blank
    # cells (styles only: xlsxwriter writes one for each cell of a merged range) are passed
    # over. A cell's row is its parent, checked to be a row of the sheet's data as the row's
    # first cell comes, so a cell anywhere else (in an extension, outside the rows) is found.
    # Rows and cells without an address follow the one before them, counted back lazily.
    for c in root.iter(c_tag):
        count = len(c)
        if not count:
            continue  # a styled blank: nothing to see, and no other cell's place hangs on it
        row = c.getparent()
        if row is not current:
            if row.tag != row_tag or sheet_data is None or row.getparent() is not sheet_data:
                raise _inconsistent("แผ่นงานหนึ่งมีเซลล์ที่อยู่นอกแถว ซึ่ง Excel ไม่แสดง",
                                    "a sheet holds a cell outside its rows, where Excel shows "
                                    "none")
            current = row
            r = row.get("r")
            if r is None:
                number = _place_by_order(row, row_tag, _row_number, placed)
            else:
                number = int(r) - 1 if len(r) <= 7 and r.isdigit() and r.isascii() else -2
            if not row_index < number < last_row:
                raise _inconsistent(f"แถวของแผ่นงานหนึ่งเรียงลำดับผิดหรือเกินขอบเขต (แถว "
                                    f"{_printable((r or '')[:12])})",
                                    f"a sheet's rows are out of order or out of range (row "
                                    f"{_printable((r or '')[:12])})")
            row_index = number
            col = -1
            height = row.get("ht")
            if row.get("hidden") is not None or zero_height or (
                    height is not None and height[:1] in ("0", ".", "-")):
                if _row_hidden(row, zero_height):
                    hidden_rows.add(row_index)
        # attribute names as bytes: lxml takes them as they are (a str it encodes each time)
        ref = c.get(b"r")
        if ref is None:
            pos = (row_index, _place_by_order(c, c_tag, _column_number, placed))
        else:
            pos = refs.get(ref) or split_ref(ref)
            if pos is None:
                raise _bad_address(ref)
        at_row, at_col = pos
        if at_row != row_index or not col < at_col < last_col:
            raise _inconsistent(f"เซลล์ของแผ่นงานหนึ่งเรียงลำดับผิดหรือซ้ำกัน (ที่ "
                                f"{_printable(ref or '')})",
                                f"the cells of a sheet are out of order or given twice "
                                f"(at {_printable(ref or '')})")
        col = at_col
        kind = c.get(b"t")
        s = c.get(b"s")
        style = styles.get(s)  # no attribute (None): style 0
        if style is None:
            style = _number(s, default=UNKNOWN_STYLE)
        first = c[0]
        cell: Cell | None
        if c.get(b"vm") is not None:  # value metadata: a picture or linked data
            cell = _cell(c, shared, lengths, date1904)
            if cell is not None:
                cell = cell._replace(value=RichValue(cell.value))
        elif count == 1 and kind == "s" and first.tag == v_tag:
            text = first.text or ""
            index = indexes.get(text)
            if index is None and text.isdigit() and text.isascii() and len(text) <= 9:
                index = int(text)  # ASCII digits only: int() takes "1_0" and "١٢"
                if len(indexes) < 100_000:
                    indexes[text] = index
            if index is not None and index < strings:
                cell = new(Cell, (shared[index], None, True, style,
                                  lengths.get(index) if lengths else None))
            else:
                cell = _cell(c, shared, lengths, date1904)  # a broken index: the general reader
        elif (kind is None or kind == "n") and (
                (count == 1 and first.tag == v_tag) or (count == 2 and first.tag == f_tag
                                                        and (second := c[1]).tag == v_tag)):
            if count == 1:
                text, formula = first.text, None
            else:
                text, formula = second.text, first.text or ""
            if text and text.strip():
                try:  # as a spreadsheet stores a number: ASCII, no digit separators
                    stored = float(text) if text.isascii() and "_" not in text else text
                except ValueError:
                    stored = text
                cell = new(Cell, (stored, formula, True, style, None))
            elif formula is not None:  # a formula without a stored result
                cell = new(Cell, (None, formula, False, style, None))
            else:
                continue  # <v/>: nothing
        elif kind == "inlineStr" and count == 1 and first.tag == is_tag and len(first) == 1 \
                and first[0].tag == t_tag:  # a text stored in the cell (openpyxl writes it)
            text = unescape(first[0].text or "")
            if len(text) <= MAX_TEXT:
                cell = new(Cell, (text, None, True, style, None))
            else:
                cell = _cell(c, shared, lengths, date1904)
        else:
            cell = _cell(c, shared, lengths, date1904)
        if cell is None:
            continue
        if cell.formula is not None:  # an array formula or data table may fill a range
            f = first if first.tag == f_tag else c.find(f_tag)
            if f.get(b"t") is not None:
                spread = _formula_range(f)
                if spread is not None:
                    formula_ranges.append(spread)
        if at_row >= max_row or at_col >= max_col:
            if beyond is None:
                beyond = pos
            continue
        cells[pos] = cell
        if len(cells) > MAX_CELLS:
            raise _too_many_cells()
    hidden_cols = frozenset(i for i in range(max_col) if hidden_mask >> i & 1) \
        if hidden_mask else frozenset()
    return SheetData(cells, beyond, frozenset(r for r in hidden_rows if r < max_row),
                     hidden_cols, hides_zeros, drawing, conditional, merges,
                     tuple(formula_ranges))


def _range(ref: str) -> tuple[int, int, int, int] | None:
    """``"B2:D4"`` (or one cell) as (first row, first col, last row, last col), or None."""
    first, _, last = ref.partition(":")
    start = split_ref(first.strip())
    end = split_ref(last.strip()) if last else start
    if start is None or end is None:
        return None
    return (min(start[0], end[0]), min(start[1], end[1]), max(start[0], end[0]),
            max(start[1], end[1]))


def _merges(element: Any) -> tuple[tuple[int, int, int, int], ...]:
    """The merged ranges of a sheet; more than any form has refuses the sheet."""
    refs = [m.get("ref") or "" for m in element if m.tag == _MERGE_CELL]
    if len(refs) > MAX_MERGES:
        raise FileRefused("too-large", Words(
            f"แผ่นงานหนึ่งผสานเซลล์ไว้เกิน {MAX_MERGES:,} ช่วง ขณะที่แบบฟอร์มมีเพียงไม่กี่สิบช่วง "
            + _RESEND.th,
            f"a sheet merges over {MAX_MERGES:,} ranges of cells; a return has a few dozen: "
            + _RESEND.en))
    return _merged_ranges(tuple(refs))


@lru_cache(maxsize=256)
def _merged_ranges(refs: tuple[str, ...]) -> tuple[tuple[int, int, int, int], ...]:
    """The ranges of merge references (the same in every return of one generator: read
    once)."""
    out = []
    for ref in refs:
        found = _range(ref)
        if found is None:
            raise _inconsistent(f"แผ่นงานหนึ่งผสานเซลล์ที่ที่อยู่ที่ไม่ถูกต้อง "
                                f"({_printable(ref[:24])})",
                                f"a sheet merges cells at an address that is not one "
                                f"({_printable(ref[:24])})")
        if found[0] != found[2] or found[1] != found[3]:
            out.append(found)
    return tuple(out)


def _formula_range(f: Any) -> tuple[int, int, int, int] | None:
    """The range an array formula or data table fills, from its master cell's formula
    element, if wider than the cell itself."""
    if f.get("t") not in ("array", "dataTable"):
        return None
    found = _range(f.get("ref") or "")
    if found is None or (found[0] == found[2] and found[1] == found[3]):
        return None
    return found


def _place_by_order(element: Any, tag: str, number: Any, placed: dict[Any, int]) -> int:
    """The index of a row or cell written without its address: one past the one before it
    (blank cells and empty rows included), found by counting back to the nearest one with an
    address, or to the first; ``number`` reads an address. The index found is remembered on
    element in ``placed`` (the walk's own: it keeps those elements alive, so that they are
    found again by identity), so a run of such elements is counted back once, not once
    each."""
    steps = 1
    for before in element.itersiblings(tag, preceding=True):
        known = placed.get(before)
        if known is not None:
            index = known + steps
            break
        address = before.get("r")
        if address is not None:
            index = number(address) + steps
            break
        steps += 1
    else:
        index = steps - 1
    placed[element] = index
    return index


def _row_number(address: str) -> int:
    if len(address) <= 7 and address.isdigit() and address.isascii():
        return int(address) - 1
    raise _inconsistent(f"ที่อยู่ของแถวไม่ถูกต้อง ({_printable(address[:12])})",
                        f"a row's address is not one ({_printable(address[:12])})")


def _column_number(address: str) -> int:
    pos = _REFS.get(address) or split_ref(address)
    if pos is None:
        raise _bad_address(address)
    return pos[1]


#: A row lower than this (points) or a column narrower than this (characters) shows nothing
#: readable: as good as hidden.
MIN_ROW_HEIGHT = 1.0
MIN_COL_WIDTH = 0.5


def _row_hidden(row: Any, zero_height: bool) -> bool:
    if _true(row.get("hidden")):
        return True
    height = row.get("ht")
    if height is not None:
        try:
            return 0 <= float(height) < MIN_ROW_HEIGHT
        except ValueError:
            return False
    return zero_height


def _hidden_columns(cols: Any, max_col: int) -> int:
    """The columns hidden (or too narrow to show anything), as a bit mask: column i is bit
    i (a mask, so that many overlapping col elements cost little)."""
    mask = 0
    for col in cols:
        width = col.get("width")
        try:
            narrow = width is not None and 0 <= float(width) < MIN_COL_WIDTH
        except ValueError:
            narrow = False
        if _true(col.get("hidden")) or narrow:
            low = max(1, _number(col.get("min") or "", default=1))
            high = min(max_col, _number(col.get("max") or "", default=low))
            if high >= low:
                mask |= ((1 << (high - low + 1)) - 1) << (low - 1)
    return mask


def _true(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("1", "true")


def _false(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("0", "false")


def _too_many_cells() -> FileRefused:
    return FileRefused("too-large", Words(
        f"แผ่นงานหนึ่งมีเซลล์ที่มีข้อมูลเกิน {MAX_CELLS:,} ช่อง ขณะที่แบบฟอร์มมีเพียงไม่กี่ร้อย"
        "ช่อง กรุณากรอกแบบฟอร์มที่กระทรวงส่งให้ เฉพาะช่องสีเหลือง",
        f"a sheet holds over {MAX_CELLS:,} filled cells; a return has a few hundred: fill in "
        "the workbook the ministry sent, and only its yellow cells"))


def _bad_address(address: str) -> FileRefused:
    return _inconsistent(f"ที่อยู่ของเซลล์ไม่ถูกต้อง ({_printable(address[:12])})",
                         f"a cell's address is not one ({_printable(address[:12])})")


def _number(text: str, default: int = 0) -> int:
    """A non-negative integer attribute (a style, a row, a format id) as written, or
    ``default``: only ASCII digits, and few enough that no one means more (Python's int()
    refuses 4,300 digits with an exception)."""
    return int(text) if len(text) <= 9 and _digits(text) else default


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts "²", which int() refuses."""
    return text.isascii() and text.isdigit()


_TWICE = {"value": Words("ค่า", "value"), "formula": Words("สูตร", "formula"),
          "text": Words("ข้อความ", "text"),
          "both": Words("ค่า (ทั้งเป็นตัวเลขและเป็นข้อความ)", "value (as a number and as a text)")}


def _twice(c: Any, what: str) -> FileRefused:
    at = _printable((c.get('r') or '')[:12])
    return _inconsistent(f"เซลล์หนึ่งเก็บ{_TWICE[what].th}ไว้สองครั้ง (ที่ {at}) ซึ่งแต่ละ"
                         "โปรแกรมแสดงต่างกัน",
                         f"a cell holds its {_TWICE[what].en} twice (at {at}), and "
                         "spreadsheets differ on which one they show")


def iso_to_serial(text: str, date1904: bool = False) -> float | None:
    """An ISO 8601 date, date-time or time (``t="d"``) as the serial a spreadsheet stores
    for it in the workbook's date system, or None if it is not one."""
    try:
        if ":" in text and "-" not in text[:5]:  # a time of day alone: 12:30:00
            moment = time.fromisoformat(text.replace("Z", "+00:00"))
            return (moment.hour * 3600 + moment.minute * 60 + moment.second
                    + moment.microsecond / 1e6) / 86400
        day = datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None
    base = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
    serial = (day - base).total_seconds() / 86400
    if not date1904 and serial < 61:
        serial -= 1  # before Excel's phantom 29 February 1900
    return serial if serial >= 0 else None


def _float(text: str) -> Any:
    """A number as a spreadsheet stores it: ASCII, no digit separators; anything else (which
    Python's float() would take: "١٢", "1_000") stays the text it is."""
    if text.isascii() and "_" not in text:
        try:
            return float(text)
        except ValueError:
            pass
    return text


_CELL_TYPES = frozenset(("n", "s", "str", "inlineStr", "b", "e", "d"))


def _cell(c: Any, shared: list[str], lengths: dict[int, int],
          date1904: bool = False) -> Cell | None:
    """One cell, any shape. A type the schema does not know, or a value, formula or text
    given twice, refuses the sheet: spreadsheets differ on which one they show (LibreOffice
    shows the last value, and nothing for an unknown type)."""
    kind = c.get("t") or "n"
    if kind not in _CELL_TYPES:
        raise _inconsistent(f"เซลล์หนึ่งมีชนิดข้อมูลที่ไม่มีโปรแกรมใดรู้จัก "
                            f"({_printable(kind[:12])} ที่ {_printable((c.get('r') or '')[:12])})",
                            f"a cell has a type no spreadsheet knows ({_printable(kind[:12])}, "
                            f"at {_printable((c.get('r') or '')[:12])})")
    style = c.get("s")
    v_text: str | None = None
    has_v = False
    formula: str | None = None
    inline: str | None = None
    for child in c:
        tag = child.tag
        if tag == _V:
            if has_v:
                raise _twice(c, "value")
            has_v, v_text = True, child.text
        elif tag == _F:
            if formula is not None:
                raise _twice(c, "formula")
            formula = child.text or ""
        elif tag == _IS:
            if inline is not None:
                raise _twice(c, "text")
            inline = _text_of(child)
    if has_v and inline is not None:
        # a value and an inline text: the reader took the text, LibreOffice shows nothing
        raise _twice(c, "both")
    full: int | None = None
    value: str | float | bool | ErrorValue | None  # as Cell.value (the caller wraps a RichValue)
    if kind == "inlineStr":
        value, full = _cut(unescape(inline or ""))
        value = _marked_like(inline or "", value)
    elif not has_v:
        value = None
    elif kind == "s":
        text = (v_text or "").strip()
        if _digits(text) and len(text) <= 9 and int(text) < len(shared):
            value, full = shared[int(text)], lengths.get(int(text))
        else:
            value = ErrorValue("#REF-STRING")
    elif kind == "str":
        value, full = _cut(unescape(v_text or ""))
    elif kind == "b":
        value = (v_text or "").strip() in ("1", "true")
    elif kind == "e":
        value = ErrorValue((v_text or "")[:32])
    elif kind == "d":
        # an ISO 8601 date: spreadsheets store and show it as the serial of that day
        value = iso_to_serial((v_text or "").strip(), date1904)
        if value is None:
            raise _inconsistent(f"เซลล์หนึ่งเก็บวันที่ที่ไม่ถูกต้อง "
                                f"({_printable((v_text or '')[:24])})",
                                f"a cell holds a date that is not one "
                                f"({_printable((v_text or '')[:24])})")
    elif not (v_text or "").strip():
        value = None
    else:
        value = _float(v_text or "")
    if value is None and formula is None:
        return None
    # An empty <v/> of a numeric cell is no result at all (openpyxl writes it when it
    # re-saves a file); Excel stores a blank text result as t="str" with an empty <v>.
    cached = kind == "inlineStr" or (kind == "str" and has_v) or bool(
        has_v and (v_text or "").strip())
    return Cell(value=value, formula=formula if formula is not None else None, cached=cached,
                style=_number(style, default=UNKNOWN_STYLE) if style else 0, full_length=full)
