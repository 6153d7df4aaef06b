"""A small, bounded reader of untrusted xlsx packages: sheet names, cells with their values,
formulas, cached results and styles, number formats, and the document's modification time.

It reads only the parts the form needs, with limits checked before and while decompressing
(members, declared and actual sizes, ratios, cell positions, string counts and lengths), parses
them with lxml (libxml2) set to resolve no entities and fetch nothing, and refuses DOCTYPE and
entity declarations outright. Every refusal is a ``FileRefused`` with a stable code and a plain
message. Parts that every return of one generator shares (workbook, relationships, styles) are
read and checked in every file but parsed once per content.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

from lxml import etree

# Limits: generous for a form (a filled return is well under 1 MB), tight for a bomb.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_MEMBERS = 500
MAX_MEMBER_BYTES = 16 * 1024 * 1024  # one decompressed part (a return's sheet: < 1 MB)
MAX_TOTAL_BYTES = 96 * 1024 * 1024  # all parts read
MAX_RATIO = 200  # decompressed / compressed, per part
MAX_ROW = 5000  # cells beyond these are never kept (the form is far smaller)
MAX_COL = 100
MAX_TEXT = 32767  # Excel's own limit for one cell
MAX_SHARED_STRINGS = 200_000
MAX_CELLS = 20_000  # filled cells kept per sheet (the form's largest sheet has about 400)

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
_REFS: dict[str, tuple[int, int]] = {}
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


class Cell(NamedTuple):
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
            self._infos = {i.filename: i for i in self._zip.infolist()}
            self.sheets = self._workbook_sheets()
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
                   max_col: int = MAX_COL) -> tuple[Cells, tuple[int, int] | None]:
        """The sheet's cells within (max_row, max_col), and the first position beyond them
        that holds something (None if none)."""
        shared, lengths = self._shared_strings()
        return _sheet_cells(self._xml(sheet.path), shared, lengths, max_row, max_col)

    def has_macros(self) -> bool:
        """Whether the package holds a VBA project: by any part's name or by the content
        types (Excel finds the project through its relationship, so any name works)."""
        if any("vbaproject" in name.lower() for name in self._infos):
            return True
        if "[Content_Types].xml" not in self._infos:
            return False
        types = self._bytes("[Content_Types].xml").lower()
        return b"vbaproject" in types or b"macroenabled" in types

    def number_formats(self) -> list[str]:
        """The number format code of each cell style (cellXfs), in order."""
        if "xl/styles.xml" not in self._infos:
            return []
        data = self._bytes("xl/styles.xml")  # always read: decompressed, CRC-checked
        key = (len(data), hash(data))
        if key not in _STYLES_CACHE:
            _remember(_STYLES_CACHE, key, _number_formats(self._parse(data, "xl/styles.xml")))
        return _STYLES_CACHE[key]

    def modified(self) -> str | None:
        """docProps/core.xml's dcterms:modified, as written (ISO 8601), if present."""
        if "docProps/core.xml" not in self._infos:
            return None
        try:
            root = self._xml("docProps/core.xml")
        except FileRefused as exc:
            if exc.code == "damaged-file":
                return None  # document properties are not the form: unknown time, oldest
            raise
        found = root.find(_DCTERMS_MODIFIED)
        return (found.text or "").strip() or None if found is not None else None

    # -- private -------------------------------------------------------------------------

    def _workbook_sheets(self) -> list[SheetInfo]:
        book = self._infos.get("xl/workbook.xml")
        if book is None:
            raise FileRefused("not-a-workbook", "the file is a zip archive but not an Excel "
                              "workbook (no xl/workbook.xml)")
        rels = self._infos.get("xl/_rels/workbook.xml.rels")
        book_data = self._bytes("xl/workbook.xml")  # always read: decompressed, CRC-checked
        rels_data = self._bytes("xl/_rels/workbook.xml.rels") if rels is not None else b""
        key = (len(book_data), hash(book_data), len(rels_data), hash(rels_data))
        if key not in _SHEETS_CACHE:
            root = self._parse(book_data, "xl/workbook.xml")
            if root.tag.startswith("{" + _STRICT_NS):
                raise FileRefused("strict-ooxml", "the workbook is saved as 'Strict Open XML'; "
                                  "save it as an ordinary 'Excel Workbook (.xlsx)'")
            targets = {}
            if rels is not None:
                for rel in self._parse(rels_data, "xl/_rels/workbook.xml.rels"):
                    if rel.get("Id") is not None:
                        targets[rel.get("Id")] = rel.get("Target", "")
            sheets = []
            for element in root.iter(f"{{{_MAIN_NS}}}sheet", "sheet"):
                rid = next((v for k, v in element.attrib.items() if k.endswith("}id")), "")
                target = targets.get(rid)
                if target is None:
                    continue
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                    posixpath.join("xl", target))
                sheets.append(SheetInfo(name=element.get("name", ""), path=path,
                                        state=element.get("state", "visible")))
            _remember(_SHEETS_CACHE, key, sheets)
        return _SHEETS_CACHE[key]

    def _shared_strings(self) -> tuple[list[str], dict[int, int]]:
        if self._shared is None:
            if "xl/sharedStrings.xml" in self._infos:
                self._shared = _shared_strings(self._xml("xl/sharedStrings.xml"))
            else:
                self._shared = ([], {})
        return self._shared

    def _xml(self, member: str) -> Any:
        """The parsed root element of one part, read within the limits."""
        return self._parse(self._bytes(member), member)

    def _bytes(self, member: str) -> bytes:
        """One part's bytes, read within the limits; a part declaring a DOCTYPE is refused."""
        info = self._infos.get(member)
        if info is None:
            raise FileRefused("damaged-file", f"the workbook has no part {member}; it is "
                              "damaged: save it again from Excel")
        _check_member(info)
        try:
            with self._zip.open(info) as raw:
                limited = _Limited(raw, min(MAX_MEMBER_BYTES, MAX_TOTAL_BYTES - self._read_total),
                                   member)
                data = limited.read_all()
                self._read_total += limited.count
        except FileRefused:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise FileRefused("damaged-file", f"the workbook's part {member} cannot be "
                              f"decompressed ({exc}); the file is damaged: send it again"
                              ) from exc
        except Exception as exc:  # zlib.error and friends: damaged deflate data
            raise FileRefused("damaged-file", f"the workbook's part {member} is damaged "
                              f"({type(exc).__name__}); send the file again") from exc
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            raise FileRefused("xml-doctype", _DOCTYPE_MESSAGE)
        return data

    def _parse(self, data: bytes, member: str) -> Any:
        try:
            root = etree.fromstring(data, _PARSER)
        except etree.XMLSyntaxError as exc:
            if "huge" in str(exc).lower():
                raise FileRefused("too-large", f"the workbook's part {member} holds a text "
                                  "over 10 MB; no answer is that long: shorten it to at most "
                                  f"{MAX_TEXT:,} characters and send the file again") from exc
            raise FileRefused("damaged-file", f"the workbook's part {member} is not valid XML "
                              f"({exc}); save it again from Excel") from exc
        if root.getroottree().docinfo.internalDTD is not None:
            # the byte check in _bytes sees only ASCII-compatible encodings (not UTF-16);
            # the parser resolved nothing, but such a part is refused all the same
            raise FileRefused("xml-doctype", _DOCTYPE_MESSAGE)
        return root


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
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
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

    def read_all(self) -> bytes:
        chunks = []
        while chunk := self.read():
            chunks.append(chunk)
        return b"".join(chunks)

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(262144 if size < 0 else min(size, 262144))
        self.count += len(chunk)
        if self.count > self.limit:
            raise FileRefused("zip-bomb", f"the part {self.member} expands beyond "
                              f"{self.limit / 1e6:.0f} MB; it is not a return")
        return chunk


# --------------------------------------------------------------------------------------------
# Private: one reader per part
# --------------------------------------------------------------------------------------------

_DOCTYPE_MESSAGE = ("the workbook's XML declares a DOCTYPE or entities, which Excel never "
                    "writes; the file was made by another tool and may be hostile")
_M = "{" + _MAIN_NS + "}"
_C, _V, _F, _IS, _T, _RPH, _ROW = (_M + n for n in ("c", "v", "f", "is", "t", "rPh", "row"))
_DCTERMS_MODIFIED = "{http://purl.org/dc/terms/}modified"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          remove_comments=True, remove_pis=True)
_STYLES = {str(i): i for i in range(2048)}  # style attributes as written, parsed once
# Parts that are the same in every return of one generator, parsed once per content.
_SHEETS_CACHE: dict[tuple[int, ...], list[SheetInfo]] = {}
_STYLES_CACHE: dict[tuple[int, ...], list[str]] = {}


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= 64:
        cache.pop(next(iter(cache)))
    cache[key] = value


def _text_of(element: Any) -> str:
    """The text a cell shows: its <t> runs joined, phonetic hints (rPh) left out."""
    if len(element) == 1 and element[0].tag == _T:
        return element[0].text or ""
    return "".join(t.text or "" for t in element.iter(_T) if t.getparent().tag != _RPH)


def _cut(text: str) -> tuple[str, int | None]:
    """Text kept to MAX_TEXT + 1 characters, and its full length if it was cut."""
    if len(text) <= MAX_TEXT:
        return text, None
    return text[: MAX_TEXT + 1], len(text)


def _shared_strings(root: Any) -> tuple[list[str], dict[int, int]]:
    if len(root) > MAX_SHARED_STRINGS:
        raise FileRefused("zip-bomb", f"the workbook holds over {MAX_SHARED_STRINGS:,} "
                          "texts; it is not a return")
    strings: list[str] = []
    lengths: dict[int, int] = {}
    t_tag = _T
    for si in root:
        first = si[0] if len(si) == 1 else None
        text = (first.text or "") if first is not None and first.tag == t_tag else _text_of(si)
        if len(text) > MAX_TEXT:
            lengths[len(strings)] = len(text)
            text = text[: MAX_TEXT + 1]
        strings.append(unescape(text))
    return strings, lengths


def _number_formats(root: Any) -> list[str]:
    codes = {int(n.get("numFmtId")): n.get("formatCode", "")
             for n in root.iter(_M + "numFmt") if _digits(n.get("numFmtId") or "")}
    xfs = root.find(_M + "cellXfs")
    ids = [int(x.get("numFmtId", "0")) if _digits(x.get("numFmtId") or "0") else 0
           for x in (xfs if xfs is not None else ())]
    if len(ids) > 100_000:
        raise FileRefused("zip-bomb", "the workbook holds over 100,000 cell styles; it is not "
                          "a return")
    return [codes.get(i, BUILTIN_FORMATS.get(i, "General")) for i in ids]


def _sheet_cells(root: Any, shared: list[str], lengths: dict[int, int], max_row: int,
                 max_col: int) -> tuple[Cells, tuple[int, int] | None]:
    """Every cell that holds a value or a formula, by (row, col). The loop handles the
    common shapes inline (it is the reader's hot spot); a sheet with a cell placed by order
    rather than by address is read by ``_cells_by_order``."""
    cells: Cells = {}
    beyond: tuple[int, int] | None = None
    refs, styles, v_tag, f_tag, new = _REFS, _STYLES, _V, _F, tuple.__new__
    for c in root.iter(_C):
        if not len(c):
            continue  # a styled blank
        ref = c.get("r")
        pos = refs.get(ref) if ref is not None else None
        if pos is None:
            pos = split_ref(ref) if ref is not None else None
            if pos is None:
                return _cells_by_order(root, shared, lengths, max_row, max_col)
        kind = c.get("t")
        s = c.get("s")
        style = 0 if s is None else styles.get(s)
        if style is None:
            style = _style(s)
        first = c[0]
        count = len(c)
        cell: Cell | None
        if count == 1 and kind == "s" and first.tag == v_tag:
            try:
                index = int(first.text or "")
                if index < 0:
                    raise IndexError(index)  # shared[-1] would be the last string
                cell = new(Cell, (shared[index], None, True, style,
                                  lengths.get(index) if lengths else None))
            except (ValueError, IndexError):
                cell = _cell(c, shared, lengths)  # a broken index: the general reader says how
        elif (kind is None or kind == "n") and (
                (count == 1 and first.tag == v_tag) or (count == 2 and first.tag == f_tag
                                                        and c[1].tag == v_tag)):
            text = c[count - 1].text
            formula = None if count == 1 else first.text or ""
            if text and text.strip():
                try:
                    number: Any = float(text)
                except ValueError:
                    number = text
                cell = new(Cell, (number, formula, True, style, None))
            elif formula is not None:  # a formula without a stored result
                cell = new(Cell, (None, formula, False, style, None))
            else:
                continue  # <v/>: nothing
        else:
            cell = _cell(c, shared, lengths)
        if cell is None:
            continue
        if pos[0] >= max_row or pos[1] >= max_col:
            if beyond is None:
                beyond = pos
            continue
        cells[pos] = cell
        if len(cells) > MAX_CELLS:
            raise _too_many_cells()
    return cells, beyond


def _too_many_cells() -> FileRefused:
    return FileRefused("too-large", f"a sheet holds over {MAX_CELLS:,} filled cells; a return "
                       "has a few hundred: fill in the workbook the ministry sent, and only its "
                       "yellow cells")


def _cells_by_order(root: Any, shared: list[str], lengths: dict[int, int], max_row: int,
                    max_col: int) -> tuple[Cells, tuple[int, int] | None]:
    """Like _sheet_cells, for sheets where some cells have no r attribute: such a cell
    follows the one before it, as the schema allows."""
    cells: Cells = {}
    beyond: tuple[int, int] | None = None
    row_index = -1
    for row in root.iter(_ROW):
        r = row.get("r")
        row_index = int(r) - 1 if r and _digits(r) and int(r) >= 1 else row_index + 1
        col = -1  # the previous cell's column; -2: known only from prev_ref
        prev_ref = ""
        for c in row:
            ref = c.get("r")
            empty = len(c) == 0
            if ref is not None:
                if empty:  # a styled blank: its position matters only to a cell without r
                    prev_ref, col = ref, -2
                    continue
                pos = split_ref(ref) or (row_index, _next_col(col, prev_ref))
                col = pos[1]
            else:
                col = _next_col(col, prev_ref)
                pos = (row_index, col)
                if empty:
                    continue
            cell = _cell(c, shared, lengths)
            if cell is None:
                continue
            if pos[0] >= max_row or pos[1] >= max_col:
                if beyond is None:
                    beyond = pos
                continue
            cells[pos] = cell
            if len(cells) > MAX_CELLS:
                raise _too_many_cells()
    return cells, beyond


def _next_col(col: int, prev_ref: str) -> int:
    if col == -2:
        col = (split_ref(prev_ref) or (0, -1))[1]
    return col + 1


def _style(text: str) -> int:
    return int(text) if _digits(text) else 0


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts "²", which int() refuses."""
    return text.isascii() and text.isdigit()


def _cell(c: Any, shared: list[str], lengths: dict[int, int]) -> Cell | None:
    kind = c.get("t") or "n"
    style = c.get("s")
    v_text: str | None = None
    has_v = False
    formula: str | None = None
    inline: str | None = None
    for child in c:
        tag = child.tag
        if tag == _V:
            has_v, v_text = True, child.text
        elif tag == _F:
            formula = child.text or ""
        elif tag == _IS:
            inline = _text_of(child)
    full: int | None = None
    if kind == "inlineStr":
        text, full = _cut(inline or "")
        value = unescape(text)
    elif not has_v:
        value = None
    elif kind == "s":
        try:
            index = int(v_text or "")
            if index < 0:
                raise IndexError(index)
            value, full = shared[index], lengths.get(index)
        except (ValueError, IndexError):
            value = ErrorValue("#REF-STRING")
    elif kind == "str":
        text, full = _cut(v_text or "")
        value = unescape(text)
    elif kind == "b":
        value = (v_text or "").strip() in ("1", "true")
    elif kind == "e":
        value = ErrorValue(v_text or "")
    elif kind == "d":
        value = v_text
    elif not (v_text or "").strip():
        value = None
    else:
        try:
            value = float(v_text or "")
        except ValueError:
            value = v_text
    if value is None and formula is None:
        return None
    # An empty <v/> of a numeric cell is no result at all (openpyxl writes it when it
    # re-saves a file); Excel stores a blank text result as t="str" with an empty <v>.
    cached = kind == "inlineStr" or (kind == "str" and has_v) or bool(
        has_v and (v_text or "").strip())
    return Cell(value=value, formula=formula if formula is not None else None, cached=cached,
                style=_style(style) if style else 0, full_length=full)
