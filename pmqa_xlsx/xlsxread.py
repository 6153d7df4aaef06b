"""A small, bounded reader of untrusted xlsx packages: sheet names, cells with their values,
formulas and cached results, and the document's modification time.

It reads only what the form needs, through expat, with limits checked before and while
decompressing (members, declared and actual sizes, cell positions, string lengths), and
refuses DOCTYPE and entity declarations outright (no entity expansion, no external
entities). Every refusal is a ``FileRefused`` with a stable code and a plain message.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

# Limits: generous for a form (a filled return is well under 1 MB), tight for a bomb.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_MEMBERS = 500
MAX_MEMBER_BYTES = 64 * 1024 * 1024  # one decompressed part
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # all parts read
MAX_RATIO = 200  # decompressed / compressed, per part
MAX_ROW = 5000  # cells beyond these are never kept (the form is far smaller)
MAX_COL = 100
MAX_TEXT = 32767  # Excel's own limit for one cell
MAX_SHARED_STRINGS = 200_000

#: Excel's built-in number formats that are not General (ECMA-376 18.8.30), for the kinds
#: the reader cares about: percentages, dates and times.
BUILTIN_FORMATS = {
    9: "0%", 10: "0.00%", 14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy",
    18: "h:mm AM/PM", 19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "m/d/yy h:mm",
    45: "mm:ss", 46: "[h]:mm:ss", 47: "mmss.0", 27: "[$-404]e/m/d", 30: "m/d/yy",
    36: "[$-404]e/m/d", 50: "[$-404]e/m/d", 57: "[$-404]e/m/d", 59: "t0", 67: "t0%",
    71: "ว/ด/ปปปป", 72: "ว-ดดด-ปป", 73: "ว-ดดด", 74: "ดดด-ปป", 75: "ช:นน", 76: "ช:นน:ทท",
    77: "ว/ด/ปปปป ช:นน", 78: "นน:ทท", 79: "[ช]:นน:ทท", 80: "นน:ทท.0", 81: "d/m/bb",
}
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape(text: str) -> str:
    """Decode OOXML's ``_xHHHH_`` escapes (``_x000D_`` is a carriage return, ``_x005F_`` an
    underscore), as Excel does when it shows the text."""
    if "_x" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]{1,7})$")


class FileRefused(Exception):
    """The file cannot be read as a return; ``code`` is a stable slug."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ErrorValue:
    """A spreadsheet error shown in a cell (``#DIV/0!``)."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell: its value (str, float, bool, ErrorValue or None), the formula if the cell
    has one, whether a cached result was stored for that formula, its style index, and the
    full length of a text cut at MAX_TEXT + 1 characters (None if not cut)."""

    value: Any
    formula: str | None = None
    cached: bool = True
    style: int = 0
    full_length: int | None = None


Cells = dict[tuple[int, int], Cell]  # (row, col), both zero-based


@dataclass(frozen=True, slots=True)
class SheetInfo:
    name: str
    path: str
    state: str  # visible, hidden, veryHidden


class Package:
    """An opened xlsx package; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip = _open_zip(path)
        self._read_total = 0
        try:
            self.sheets = self._workbook_sheets()
            self._shared: list[str] | None = None
            self._shared_lengths: dict[int, int] = {}
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
                   max_col: int = MAX_COL) -> tuple[Cells, tuple[int, int] | None]:
        """The sheet's cells within (max_row, max_col), and the first position beyond them
        that holds something (None if none)."""
        shared = self._shared_strings()
        handler = _SheetHandler(shared, max_row, max_col, self._shared_lengths)
        self._parse(sheet.path, handler)
        return handler.cells, handler.beyond

    def number_formats(self) -> list[str]:
        """The number format code of each cell style (cellXfs), in order."""
        if "xl/styles.xml" not in self._names():
            return []
        handler = _StylesHandler()
        self._parse("xl/styles.xml", handler)
        return [handler.codes.get(i, BUILTIN_FORMATS.get(i, "General")) for i in handler.xfs]

    def modified(self) -> str | None:
        """docProps/core.xml's dcterms:modified, as written (ISO 8601), if present."""
        if "docProps/core.xml" not in self._names():
            return None
        handler = _TextOf("modified")
        self._parse("docProps/core.xml", handler, required=False)
        return handler.text.strip() or None

    # -- private -------------------------------------------------------------------------

    def _names(self) -> set[str]:
        return {i.filename for i in self._zip.infolist()}

    def _workbook_sheets(self) -> list[SheetInfo]:
        names = self._names()
        if "xl/workbook.xml" not in names:
            raise FileRefused("not-a-workbook", "the file is a zip archive but not an Excel "
                              "workbook (no xl/workbook.xml)")
        book = _WorkbookHandler()
        self._parse("xl/workbook.xml", book)
        if book.strict:
            raise FileRefused("strict-ooxml", "the workbook is saved as 'Strict Open XML'; "
                              "save it as an ordinary 'Excel Workbook (.xlsx)'")
        rels = _RelsHandler()
        if "xl/_rels/workbook.xml.rels" in names:
            self._parse("xl/_rels/workbook.xml.rels", rels)
        sheets = []
        for name, rid, state in book.sheets:
            target = rels.targets.get(rid)
            if target is None:
                continue
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join("xl", target))
            sheets.append(SheetInfo(name=name, path=path, state=state))
        return sheets

    def _shared_strings(self) -> list[str]:
        if self._shared is None:
            handler = _SharedStringsHandler()
            if "xl/sharedStrings.xml" in self._names():
                self._parse("xl/sharedStrings.xml", handler)
            self._shared = handler.strings
            self._shared_lengths = handler.lengths
        return self._shared

    def _parse(self, member: str, handler: Any, required: bool = True) -> None:
        try:
            info = self._zip.getinfo(member)
        except KeyError as exc:
            if not required:
                return
            raise FileRefused("damaged-file", f"the workbook has no part {member}; it is "
                              "damaged: save it again from Excel") from exc
        _check_member(info)
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = handler.start
        parser.EndElementHandler = handler.end
        parser.CharacterDataHandler = handler.text_data
        parser.StartDoctypeDeclHandler = _refuse_doctype
        parser.EntityDeclHandler = _refuse_entity
        try:
            with self._zip.open(info) as raw:
                limited = _Limited(raw, min(MAX_MEMBER_BYTES, MAX_TOTAL_BYTES - self._read_total),
                                   member)
                parser.ParseFile(limited)
                self._read_total += limited.count
        except FileRefused:
            raise
        except expat.ExpatError as exc:
            raise FileRefused("damaged-file", f"the workbook's part {member} is not valid XML "
                              f"({expat.ErrorString(exc.code)}); save it again from Excel"
                              ) from exc
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise FileRefused("damaged-file", f"the workbook's part {member} cannot be "
                              f"decompressed ({exc}); the file is damaged: send it again"
                              ) from exc
        except Exception as exc:  # zlib.error and friends: damaged deflate data
            raise FileRefused("damaged-file", f"the workbook's part {member} is damaged "
                              f"({type(exc).__name__}); send the file again") from exc


def open_package(path: Path) -> Package:
    """Open an xlsx package for reading, or raise FileRefused."""
    return Package(path)


def split_ref(ref: str) -> tuple[int, int] | None:
    """``"E12"`` -> (11, 4), zero-based; None if it is not a cell reference."""
    match = _REF.match(ref)
    if not match:
        return None
    letters, digits = match.groups()
    col = 0
    for ch in letters:
        col = col * 26 + (ord(ch) - 64)
    return int(digits) - 1, col - 1


# --------------------------------------------------------------------------------------------
# Private: the zip and its limits
# --------------------------------------------------------------------------------------------


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FileRefused("unreadable", f"cannot read the file ({exc.strerror})") from exc
    if size > MAX_FILE_BYTES:
        raise FileRefused("too-large", f"the file is {size / 1e6:.0f} MB; a return is well "
                          f"under {MAX_FILE_BYTES // 1_000_000} MB: send the form itself")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise FileRefused("damaged-file", "the file is not a readable xlsx (a damaged or "
                          "truncated zip); save it again from Excel and resend it") from exc
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        archive.close()
        raise FileRefused("zip-bomb", f"the file holds {len(infos)} parts; a workbook has far "
                          "fewer: it is not a return")
    declared = sum(i.file_size for i in infos)
    if declared > MAX_TOTAL_BYTES:
        archive.close()
        raise FileRefused("zip-bomb", f"the file would expand to {declared / 1e6:.0f} MB; it "
                          "is not a return")
    return archive


def _check_member(info: zipfile.ZipInfo) -> None:
    if info.file_size > MAX_MEMBER_BYTES:
        raise FileRefused("zip-bomb", f"the part {info.filename} would expand to "
                          f"{info.file_size / 1e6:.0f} MB; it is not a return")
    if info.compress_size and info.file_size / info.compress_size > MAX_RATIO \
            and info.file_size > 1_000_000:
        raise FileRefused("zip-bomb", f"the part {info.filename} is compressed "
                          f"{info.file_size // info.compress_size}:1; it is not a return")


class _Limited:
    """A file object that refuses to yield more than ``limit`` bytes (sizes can lie)."""

    def __init__(self, raw: IO[bytes], limit: int, member: str) -> None:
        self.raw, self.limit, self.member, self.count = raw, limit, member, 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(65536 if size < 0 else min(size, 65536))
        self.count += len(chunk)
        if self.count > self.limit:
            raise FileRefused("zip-bomb", f"the part {self.member} expands beyond "
                              f"{self.limit / 1e6:.0f} MB; it is not a return")
        return chunk


def _refuse_doctype(*_: object) -> None:
    raise FileRefused("xml-doctype", "the workbook's XML declares a DOCTYPE or entities, which "
                      "Excel never writes; the file was made by another tool and may be hostile")


_refuse_entity = _refuse_doctype  # entities can only be declared inside a DOCTYPE


def _local(name: str) -> str:
    return name.rpartition(":")[2]


# --------------------------------------------------------------------------------------------
# Private: one expat handler per part
# --------------------------------------------------------------------------------------------


class _WorkbookHandler:
    def __init__(self) -> None:
        self.sheets: list[tuple[str, str, str]] = []
        self.strict = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "workbook":
            self.strict = any(v == _STRICT_NS for k, v in attrs.items() if k.startswith("xmlns"))
        elif local == "sheet":
            rid = next((v for k, v in attrs.items() if _local(k) == "id"), "")
            self.sheets.append((attrs.get("name", ""), rid, attrs.get("state", "visible")))

    def end(self, name: str) -> None:
        pass

    def text_data(self, data: str) -> None:
        pass


class _RelsHandler:
    def __init__(self) -> None:
        self.targets: dict[str, str] = {}

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if _local(name) == "Relationship" and "Id" in attrs:
            self.targets[attrs["Id"]] = attrs.get("Target", "")

    def end(self, name: str) -> None:
        pass

    def text_data(self, data: str) -> None:
        pass


class _TextOf:
    """Collects the text of the first element with a given local name."""

    def __init__(self, local: str) -> None:
        self.local, self.inside, self.done, self.text = local, False, False, ""

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if not self.done and _local(name) == self.local:
            self.inside = True

    def end(self, name: str) -> None:
        if self.inside and _local(name) == self.local:
            self.inside, self.done = False, True

    def text_data(self, data: str) -> None:
        if self.inside and len(self.text) < 200:
            self.text += data


class _SharedStringsHandler:
    """Shared strings, rich-text runs joined; phonetic runs (rPh) left out, as Excel shows.
    A text longer than MAX_TEXT is kept to MAX_TEXT + 1 characters; ``lengths`` has its
    full length."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self.lengths: dict[int, int] = {}
        self._parts: list[str] = []
        self._in_si = self._in_t = False
        self._skip = 0
        self._length = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "si":
            self._in_si, self._parts, self._length = True, [], 0
            if len(self.strings) >= MAX_SHARED_STRINGS:
                raise FileRefused("zip-bomb", f"the workbook holds over {MAX_SHARED_STRINGS:,} "
                                  "texts; it is not a return")
        elif local == "rPh":
            self._skip += 1
        elif local == "t" and self._in_si and not self._skip:
            self._in_t = True

    def end(self, name: str) -> None:
        local = _local(name)
        if local == "si":
            if self._length > MAX_TEXT:
                self.lengths[len(self.strings)] = self._length
            self.strings.append(unescape("".join(self._parts)))
            self._in_si = False
        elif local == "rPh":
            self._skip -= 1
        elif local == "t":
            self._in_t = False

    def text_data(self, data: str) -> None:
        if self._in_t:
            room = MAX_TEXT + 1 - self._length  # one more than allowed: too long is visible
            if room > 0:
                self._parts.append(data[:room])
            self._length += len(data)


class _SheetHandler:
    """Cells of one worksheet: value, formula, whether a cached value was stored, style.

    Text (a value, an inline string or a formula) is kept to MAX_TEXT + 1 characters while
    its full length is counted, so a 10 MB cell costs no more than a long one.
    """

    def __init__(self, shared: list[str], max_row: int, max_col: int,
                 shared_lengths: dict[int, int] | None = None) -> None:
        self.shared, self.max_row, self.max_col = shared, max_row, max_col
        self.shared_lengths = shared_lengths or {}
        self.cells: Cells = {}
        self.beyond: tuple[int, int] | None = None
        self._row = -1
        self._col = -1
        self._pos: tuple[int, int] | None = None
        self._type = "n"
        self._style = 0
        self._what: str | None = None  # "v", "f" or "t" (inline string) while inside one
        self._parts: dict[str, list[str]] = {"v": [], "f": [], "t": []}
        self._lengths: dict[str, int] = {"v": 0, "f": 0, "t": 0}
        self._has_v = self._has_f = self._in_is = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "c":
            ref = attrs.get("r")
            pos = split_ref(ref) if ref else None
            if pos is None:
                pos = (max(self._row, 0), self._col + 1)
            self._row, self._col = pos
            self._pos = pos
            self._type = attrs.get("t", "n")
            style = attrs.get("s", "0")
            self._style = int(style) if style.isdigit() else 0
            self._parts = {"v": [], "f": [], "t": []}
            self._lengths = {"v": 0, "f": 0, "t": 0}
            self._has_v = self._has_f = False
        elif local == "row":
            r = attrs.get("r")
            self._row = int(r) - 1 if r and r.isdigit() else self._row + 1
            self._col = -1
        elif self._pos is None:
            return
        elif local == "v":
            self._what, self._has_v = "v", True
        elif local == "f":
            self._what, self._has_f = "f", True
        elif local == "is":
            self._in_is = True
        elif local == "t" and self._in_is:
            self._what = "t"
        elif local == "rPh":
            self._in_is = False  # phonetic hints are not shown

    def end(self, name: str) -> None:
        local = _local(name)
        if local == "c" and self._pos is not None:
            self._finish_cell(self._pos)
            self._pos = None
        elif local in ("v", "f", "t"):
            self._what = None
        elif local == "is":
            self._in_is = False

    def text_data(self, data: str) -> None:
        what = self._what
        if what is None:
            return
        room = MAX_TEXT + 1 - self._lengths[what]
        if room > 0:
            self._parts[what].append(data[:room])
        self._lengths[what] += len(data)

    def _finish_cell(self, pos: tuple[int, int]) -> None:
        value, full_length = self._value()
        formula = "".join(self._parts["f"]) if self._has_f else None
        if value is None and formula is None:
            return
        row, col = pos
        if row >= self.max_row or col >= self.max_col:
            if self.beyond is None:
                self.beyond = pos
            return
        # An empty <v/> of a numeric cell is no result at all (openpyxl writes it when it
        # re-saves a file); Excel stores a blank text result as t="str" with an empty <v>.
        raw = "".join(self._parts["v"])
        cached = self._type == "inlineStr" or (self._type == "str" and self._has_v) or bool(
            self._has_v and raw.strip())
        self.cells[pos] = Cell(value=value, formula=formula, cached=cached, style=self._style,
                               full_length=full_length)

    def _value(self) -> tuple[Any, int | None]:
        kind = self._type
        if kind == "inlineStr":
            length = self._lengths["t"]
            return unescape("".join(self._parts["t"])), length if length > MAX_TEXT else None
        if not self._has_v:
            return None, None
        raw = "".join(self._parts["v"])
        if kind == "s":
            try:
                index = int(raw)
                return self.shared[index], self.shared_lengths.get(index)
            except (ValueError, IndexError):
                return ErrorValue("#REF-STRING"), None
        if kind == "str":
            length = self._lengths["v"]
            return unescape(raw), length if length > MAX_TEXT else None
        if kind == "b":
            return raw.strip() in ("1", "true"), None
        if kind == "e":
            return ErrorValue(raw), None
        if kind == "d":
            return raw, None
        if not raw.strip():
            return None, None
        try:
            return float(raw), None
        except ValueError:
            return raw, None


class _StylesHandler:
    """Number formats: the custom codes (numFmts) and each cell style's numFmtId (cellXfs)."""

    def __init__(self) -> None:
        self.codes: dict[int, str] = {}
        self.xfs: list[int] = []
        self._in_xfs = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "numFmt":
            fmt_id = attrs.get("numFmtId", "")
            if fmt_id.isdigit():
                self.codes[int(fmt_id)] = attrs.get("formatCode", "")
        elif local == "cellXfs":
            self._in_xfs = True
        elif local == "xf" and self._in_xfs:
            fmt_id = attrs.get("numFmtId", "0")
            self.xfs.append(int(fmt_id) if fmt_id.isdigit() else 0)
            if len(self.xfs) > 100_000:
                raise FileRefused("zip-bomb", "the workbook holds over 100,000 cell styles; "
                                  "it is not a return")

    def end(self, name: str) -> None:
        if _local(name) == "cellXfs":
            self._in_xfs = False

    def text_data(self, data: str) -> None:
        pass
