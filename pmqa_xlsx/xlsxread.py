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
    has one, and whether a cached result was stored for that formula."""

    value: Any
    formula: str | None = None
    cached: bool = True


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
        handler = _SheetHandler(shared, max_row, max_col)
        self._parse(sheet.path, handler)
        return handler.cells, handler.beyond

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
    """Shared strings, rich-text runs joined; phonetic runs (rPh) left out, as Excel shows."""

    def __init__(self) -> None:
        self.strings: list[str] = []
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
            self.strings.append("".join(self._parts))
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
                self._length += min(len(data), room)


class _SheetHandler:
    """Cells of one worksheet: value, formula and whether a cached value was stored."""

    def __init__(self, shared: list[str], max_row: int, max_col: int) -> None:
        self.shared, self.max_row, self.max_col = shared, max_row, max_col
        self.cells: Cells = {}
        self.beyond: tuple[int, int] | None = None
        self._row = -1
        self._col = -1
        self._pos: tuple[int, int] | None = None
        self._type = "n"
        self._what: str | None = None  # "v", "f" or "t" (inline string) while inside one
        self._v: list[str] = []
        self._f: list[str] | None = None
        self._t: list[str] = []
        self._has_v = False
        self._in_is = False

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
            self._v, self._f, self._t, self._has_v = [], None, [], False
        elif local == "row":
            r = attrs.get("r")
            self._row = int(r) - 1 if r and r.isdigit() else self._row + 1
            self._col = -1
        elif self._pos is None:
            return
        elif local == "v":
            self._what, self._has_v = "v", True
        elif local == "f":
            self._what, self._f = "f", []
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
        if self._what == "v":
            self._v.append(data)
        elif self._what == "f" and self._f is not None:
            self._f.append(data)
        elif self._what == "t":
            room = MAX_TEXT + 1 - sum(map(len, self._t))
            if room > 0:
                self._t.append(data[:room])

    def _finish_cell(self, pos: tuple[int, int]) -> None:
        value = self._value()
        formula = "".join(self._f) if self._f is not None else None
        if value is None and formula is None:
            return
        row, col = pos
        if row >= self.max_row or col >= self.max_col:
            if self.beyond is None:
                self.beyond = pos
            return
        # An empty <v/> of a numeric cell is no result at all (openpyxl writes it when it
        # re-saves a file); Excel stores a blank text result as t="str" with an empty <v>.
        cached = self._type in ("inlineStr", "str") and (self._has_v or self._type ==
                                                         "inlineStr") or bool(
            self._has_v and "".join(self._v).strip())
        self.cells[pos] = Cell(value=value, formula=formula, cached=cached)

    def _value(self) -> Any:
        kind = self._type
        if kind == "inlineStr":
            return "".join(self._t)
        if not self._has_v:
            return None
        raw = "".join(self._v)
        if kind == "s":
            try:
                return self.shared[int(raw)]
            except (ValueError, IndexError):
                return ErrorValue("#REF-STRING")
        if kind == "str":
            return raw
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind == "e":
            return ErrorValue(raw)
        if kind == "d":
            return raw
        if not raw.strip():
            return None
        try:
            return float(raw)
        except ValueError:
            return raw
