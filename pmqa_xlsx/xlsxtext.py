"""Text into the workbooks pmqa_xlsx writes, exactly as given: never markup, a formula or a link.

This module owns ``Workbook``, the one way pmqa_xlsx makes an xlsxwriter workbook, and
``ooxml_text`` / ``t_element``, the one way it escapes text for the package itself (the
personalised copies of ``generate --roster`` swap text into a rendered package).

Why it exists: xlsxwriter 3.3 writes a cell string that starts with ``<r>`` and ends with
``</r>`` into the XML unescaped (its pass-through for rich strings, in the shared strings and
in constant_memory's inline strings), so such text from an agency, a roster or a layout could
add runs, cells, formulas and links to the package. And it cannot write a lone surrogate at
all (the package is UTF-8), which would stop the whole write.

The rule: every cell string goes through one funnel, ``Worksheet._write_string``
(``write_string``, ``write`` and ``merge_range`` all end there). Text that starts with ``<``,
holds a character XML cannot carry (a lone surrogate) or holds a literal ``_xHHHH_`` (which
xlsxwriter escapes wrongly when two overlap: ``_x005F_x0042_`` would come back ``_x005FB``)
is written as a placeholder, random for each workbook so that no text can forge one. When
the package is closed, each placeholder's ``<t>`` element is replaced by the text escaped by
``ooxml_text`` (``&<>``; control characters and surrogates as ``_xHHHH_``; the underscore of
a literal ``_xHHHH_`` as ``_x005F_``), and every part is checked to hold no placeholder any
more. Headers and footers (``set_header``, ``set_footer``) take the same way for the last two
shapes. All other text is escaped by xlsxwriter itself, the same way. (The consolidated
workbook's data rows are the one exception to the funnel: ``sheetrows`` writes them as XML,
every text through ``t_element``.) No text becomes a
formula, a number or a link: those options are forced off. xlsxwriter's own temporary files
go in a folder of the workbook's own, removed whatever happens.

A workbook can also be closed in a thread of its own (``close_in_background``, then
``wait_closed``, or ``abandon`` to stop): the package is assembled as xlsxwriter assembles it
(``_store_workbook``, its own steps), but each part is compressed in chunks of 4 MiB, so that
zlib works outside the GIL while the caller goes on with its next file; and a constant_memory
sheet's rows go into the package straight from their row file, at a mark in the sheet's part.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import shutil
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape as xml_escape

import xlsxwriter
from xlsxwriter.worksheet import Worksheet as _XlsxWorksheet

from .outputs import forget_temporary, new_temporary, new_temporary_folder

#: Options that keep text text, whatever a caller passes.
TEXT_STAYS_TEXT = {"strings_to_formulas": False, "strings_to_urls": False,
                   "strings_to_numbers": False}

#: The longest text a cell holds, in UTF-16 code units (Excel's limit, as xlsxwriter counts).
EXCEL_MAX_TEXT = 32_767

# Text xlsxwriter would not write faithfully: its rich-string pass-through is taken for text
# starting with "<r>" (here: any "<" first, to be safe whatever the next version does); a
# lone surrogate cannot be encoded as UTF-8; and it escapes a literal _xHHHH_ without looking
# at overlaps, so "_x005F_x0042_" would come back as "_x005FB".
_NEEDS_PLACEHOLDER = re.compile("^<|[\ud800-\udfff]|_x[0-9a-fA-F]{4}_")
# The same, for text xlsxwriter writes as element data (headers and footers): no pass-through.
_NEEDS_PLACEHOLDER_AS_DATA = re.compile("[\ud800-\udfff]|_x[0-9a-fA-F]{4}_")
# The underscore of every _xHHHH_ in the text, overlapping ones included ("_x005F_x0042_"
# holds two): each is written _x005F_, so a reader decoding left to right gets the text back.
_LITERAL_ESCAPE = re.compile("_(?=x[0-9a-fA-F]{4}_)")
_UNWRITABLE = re.compile("([\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff])")
_PRESERVE = re.compile(r"^\s|\s$")  # as xlsxwriter decides xml:space="preserve"
_SWAPPED_PARTS = re.compile(r"^xl/(sharedStrings\.xml|worksheets/[^/]+\.xml)$")


def ooxml_text(value: str) -> str:
    """Text as it goes into an OOXML ``<t>`` element: a literal ``_xHHHH_`` kept literal as
    ``_x005F_xHHHH_``, control characters, lone surrogates and U+FFFE/U+FFFF as ``_xHHHH_``
    (what Excel and every reader decode back), then ``&``, ``<`` and ``>`` escaped."""
    value = _LITERAL_ESCAPE.sub("_x005F_", value)
    value = _UNWRITABLE.sub(lambda m: f"_x{ord(m.group(1)):04X}_", value)
    return xml_escape(value)


def t_element(value: str) -> bytes:
    """A ``<t>`` element holding ``value``, byte for byte as xlsxwriter writes plain text."""
    escaped = ooxml_text(value)
    space = ' xml:space="preserve"' if _PRESERVE.search(escaped) else ""
    return f"<t{space}>{escaped}</t>".encode()


def attribute_text(value: str, limit: int | None = None) -> str:
    """Text for an attribute xlsxwriter writes as it is given, apart from ``&<>"`` (data
    validation titles and messages): a literal ``_xHHHH_`` kept literal, as in cells, and cut
    to at most ``limit`` characters once escaped (Excel's limits count what is stored)."""
    escaped = _LITERAL_ESCAPE.sub("_x005F_", value)
    while limit is not None and len(escaped) > limit:
        value = value[:-1]
        escaped = _LITERAL_ESCAPE.sub("_x005F_", value)
    return escaped


class Worksheet(_XlsxWorksheet):
    """xlsxwriter's worksheet, with every cell string written faithfully (see the module)."""

    _pmqa_texts: _Placeholders
    _pmqa_closing: _Closing
    row_data_fh_closed: bool  # xlsxwriter's own (an untyped base class)

    def _write_string(self, row: int, col: int, string: str,
                      cell_format: Any = None) -> Any:
        if string.__class__ is not str or not _NEEDS_PLACEHOLDER.search(string):
            return super()._write_string(row, col, string, cell_format)
        fitted = _fit_cell(string)
        code = super()._write_string(row, col, self._pmqa_texts.placeholder(fitted),
                                     cell_format)
        return -2 if code == 0 and len(fitted) < len(string) else code  # -2: cut, as xlsxwriter

    def set_header(self, header: str = "", options: Any = None, margin: Any = None) -> None:
        super().set_header(self._as_data(header), options, margin)

    def set_footer(self, footer: str = "", options: Any = None, margin: Any = None) -> None:
        super().set_footer(self._as_data(footer), options, margin)

    def _as_data(self, text: str) -> str:
        if text.__class__ is str and _NEEDS_PLACEHOLDER_AS_DATA.search(text):
            return self._pmqa_texts.placeholder(text)
        return text

    def _write_optimized_sheet_data(self) -> None:
        """constant_memory's rows, left in their row file: the sheet's part holds a mark where
        they go, and ``Workbook._add_part`` streams the row file's bytes into the package at
        the mark. (xlsxwriter copies the rows into the part as text, decoding and encoding
        every character of them: a tenth of writing a consolidated workbook; then the part is
        read again to be compressed.) A sheet written anywhere but to a file on disk is left
        to xlsxwriter."""
        rows, part = self.row_data_fh, getattr(self.fh, "buffer", None)
        if self.dim_rowmin is None or rows is None or part is None or self.row_data_fh_closed:
            super()._write_optimized_sheet_data()
            return
        self._xml_start_tag("sheetData")
        rows.close()
        self.row_data_fh_closed = True
        self.fh.write(_ROWS_HERE)
        self._pmqa_closing.rows_of[self.fh.name] = self.row_data_filename
        self._xml_end_tag("sheetData")


class Workbook(xlsxwriter.Workbook):
    """xlsxwriter's workbook for everything pmqa_xlsx writes: text stays text, exactly.

    Use it like ``xlsxwriter.Workbook``, in a ``with`` block. If the block fails (or is
    interrupted), nothing is assembled: the file is left for its caller to remove, and
    xlsxwriter's temporary files are removed.
    """

    worksheet_class = Worksheet

    def __init__(self, filename: str | os.PathLike[str] | IO[bytes],
                 options: dict[str, Any] | None = None) -> None:
        options = {**(options or {}), **TEXT_STAYS_TEXT}
        # Every format in the font named, never the theme's: xlsxwriter marks a font that is
        # the default font <scheme val="minor"/>, and Excel then draws it in the theme's font
        # (Tahoma for Thai). Formats copy the default properties, so this reaches them all.
        options["default_format_properties"] = {
            **options.get("default_format_properties", {}), "font_scheme": "none"}
        self._own_tmpdir: str | None = None
        if not options.get("in_memory") and "tmpdir" not in options:
            self._own_tmpdir = new_temporary_folder("pmqa-xlsxwriter-")
            options["tmpdir"] = self._own_tmpdir
        self._pmqa_texts = _Placeholders()
        self._pmqa_closing = _Closing()
        super().__init__(filename, options)

    def add_worksheet(self, name: str | None = None, worksheet_class: Any = None) -> Any:
        sheet = super().add_worksheet(name, worksheet_class)
        sheet._pmqa_texts = self._pmqa_texts
        sheet._pmqa_closing = self._pmqa_closing
        return sheet

    def close_in_background(self) -> None:
        """Start closing the workbook (assembling and compressing the package) in a thread of
        its own, and return. Call ``wait_closed`` before using the file, or ``abandon``."""
        self._pmqa_closing.start(self.close)

    def wait_closed(self) -> None:
        """Wait for ``close_in_background`` to end, and raise what the close raised."""
        self._pmqa_closing.wait()

    def abandon(self) -> None:
        """Stop a close in the background at its next chunk and wait for it: the file is left,
        incomplete, for its caller to remove (xlsxwriter's temporary files are removed)."""
        self._pmqa_closing.abandon()

    def close(self) -> None:
        try:
            super().close()
            self._pmqa_texts.swap_into(self.filename)
        except BaseException:
            self._close_files()  # stopped half way: the files it had open
            raise
        finally:
            self._remove_tmpdir()

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        if self._pmqa_closing.started:  # closing in the background: its caller waits for it
            if kind is not None:
                self.abandon()
            return
        if kind is None:
            self.close()
            return
        # Failed or interrupted: do not spend time assembling a package nobody will use.
        self.fileclosed = True
        self._close_files()
        self._remove_tmpdir()

    def _close_files(self) -> None:
        """Close the sheets' row files (constant_memory) and any part left open."""
        for sheet in self.worksheets():
            if self.constant_memory:
                sheet._opt_close()
            part = getattr(sheet, "fh", None)
            if getattr(sheet, "internal_fh", False) and part is not None:
                part.close()

    def _remove_tmpdir(self) -> None:
        if self._own_tmpdir is not None:
            shutil.rmtree(self._own_tmpdir, ignore_errors=True)
            forget_temporary(self._own_tmpdir)
            self._own_tmpdir = None

    def _store_workbook(self) -> None:
        """xlsxwriter's own ``Workbook._store_workbook`` (3.2 to 3.3: the same steps, in the
        same order; tests/test_background_close.py holds the two to each other), except how a
        part on disk goes into the package: in chunks of 4 MiB, not zipfile's 8 KiB (each
        chunk is compressed outside the GIL, and a close in the background hands the GIL
        back and forth once per chunk), stopping between chunks when abandoned. An xlsxwriter
        without one of its steps (a later version) closes its own way."""
        if not all(hasattr(self, name) for name in _STORE_STEPS):
            super()._store_workbook()
            return
        xlsx_file = zipfile.ZipFile(self.filename, "w", compression=zipfile.ZIP_DEFLATED,
                                    allowZip64=self.allow_zip64)
        packager = self._get_packager()
        if not self.worksheets():
            self.add_worksheet()
        if self.worksheet_meta.activesheet == 0:
            self.worksheets_objs[0].selected = 1
            self.worksheets_objs[0].hidden = 0
        for sheet in self.worksheets():
            if sheet.index == self.worksheet_meta.activesheet:
                sheet.active = 1
        if self.vba_project:
            for sheet in self.worksheets():
                if sheet.vba_codename is None:
                    sheet.set_vba_name()
        self._prepare_sst_string_data()
        self._prepare_vml()
        self._prepare_defined_names()
        self._prepare_drawings()
        self._add_chart_data()
        self._prepare_tables()
        self._prepare_metadata()
        packager._add_workbook(self)
        packager._set_tmpdir(self.tmpdir)
        packager._set_in_memory(self.in_memory)
        xml_files = packager._create_package()
        packager = None
        try:
            self._add_parts(xlsx_file, xml_files)
        except BaseException:
            with contextlib.suppress(Exception):  # the file is its caller's to remove
                xlsx_file.close()
            raise
        xlsx_file.close()

    def _add_parts(self, xlsx_file: zipfile.ZipFile, xml_files: list[Any]) -> None:
        for file_id, (os_filename, xml_filename, is_binary) in enumerate(xml_files):
            if self.in_memory:
                zipinfo = zipfile.ZipInfo(xml_filename, (1980, 1, 1, 0, 0, 0))
                zipinfo.compress_type = xlsx_file.compression
                data = os_filename.getvalue()
                xlsx_file.writestr(zipinfo, data if is_binary else data.encode("utf-8"))
                continue
            # xlsxwriter's timestamp for parts on disk (31/1/1980, for portability)
            timestamp = time.mktime((1980, 1, 31, 0, 0, 0, 0, 0, -1))
            os.utime(os_filename, (timestamp, timestamp))
            try:
                self._add_part(xlsx_file, os_filename, xml_filename)
                os.remove(os_filename)
            except zipfile.LargeZipFile:
                for i in range(file_id, len(xml_files) - 1):
                    os.remove(xml_files[i][0])
                raise

    def _add_part(self, package: zipfile.ZipFile, path: str, name: str) -> None:
        """What ``ZipFile.write(path, name)`` does, a chunk of ``_ZIP_CHUNK`` at a time; a
        sheet's rows left in their row file streamed in at their mark."""
        info = zipfile.ZipInfo.from_file(path, name)
        info.compress_type = package.compression
        rows = self._pmqa_closing.rows_of.pop(path, None)
        head = tail = b""
        if rows is not None:
            with open(path, "rb") as source:  # the sheet's settings around its rows: small
                head, mark, tail = source.read().partition(_ROWS_HERE.encode())
            if not mark or _ROWS_HERE.encode() in tail:
                raise RuntimeError(f"internal error: {name} does not mark its rows once")
            info.file_size = len(head) + os.path.getsize(rows) + len(tail)  # zip64 or not
        with open(rows or path, "rb") as source, package.open(info, "w") as target:
            target.write(head)
            while chunk := source.read(_ZIP_CHUNK):
                self._pmqa_closing.go_on()
                target.write(chunk)
            target.write(tail)
        if rows is not None:
            os.remove(rows)


# --------------------------------------------------------------------------------------------
# Private: closing in the background, placeholders, and swapping the text into the package
# --------------------------------------------------------------------------------------------

#: xlsxwriter's steps (3.2 to 3.3) that ``Workbook._store_workbook`` takes as they are.
_STORE_STEPS = ("_get_packager", "worksheet_meta", "worksheets_objs", "vba_project",
                "_prepare_sst_string_data", "_prepare_vml", "_prepare_defined_names",
                "_prepare_drawings", "_add_chart_data", "_prepare_tables", "_prepare_metadata",
                "allow_zip64", "in_memory", "tmpdir")
#: Where a sheet's part on disk takes its rows (no text written into a part can hold it:
#: xlsxwriter writes no comment, and escapes every "<" of a text).
_ROWS_HERE = "<!--pmqa rows-->"
#: A part goes into the package this much at a time (zlib compresses it without the GIL).
_ZIP_CHUNK = 1 << 22


class _Abandoned(Exception):
    """A close in the background was asked to stop."""


class _Closing:
    """A workbook's close, run in a thread of its own; and the flag that stops it."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        #: a sheet's part on disk -> the row file whose rows go at its mark
        self.rows_of: dict[str, str] = {}

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self, close: Callable[[], None]) -> None:
        if self._thread is not None:
            raise RuntimeError("internal error: the workbook is already being closed")

        def run() -> None:
            try:
                close()
            except BaseException as error:  # noqa: BLE001 - raised again by wait()
                self._error = error

        self._thread = threading.Thread(target=run, name="pmqa-close-workbook")
        self._thread.start()

    def go_on(self) -> None:
        """Raise ``_Abandoned`` when the close has been asked to stop (between chunks)."""
        if self._stop.is_set():
            raise _Abandoned

    def wait(self) -> None:
        if self._thread is None:
            return
        self._thread.join()
        error, self._error = self._error, None
        if error is not None:
            raise error

    def abandon(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._error = None


class _Placeholders:
    """The texts of one workbook written as placeholders, and the swap that puts them back."""

    def __init__(self) -> None:
        self.prefix = f"pmqa{secrets.token_hex(16)}n"
        self.token_of: dict[str, str] = {}
        self.text_of: dict[str, str] = {}
        token = self.prefix.encode() + b"[0-9]+"
        # in a <t> element (cells), or as an element's whole text (headers and footers)
        self.pattern = re.compile(b"<t>(" + token + b")</t>|>(" + token + b")<")

    def placeholder(self, text: str) -> str:
        token = self.token_of.get(text)
        if token is None:
            token = self.token_of[text] = f"{self.prefix}{len(self.text_of)}"
            self.text_of[token] = text
        return token

    def swap_into(self, target: Any) -> None:
        """Replace each placeholder in the closed package ``target`` (a path or a BytesIO)."""
        if not self.text_of:
            return
        found: set[str] = set()
        if isinstance(target, io.BytesIO):
            source = io.BytesIO(target.getvalue())
            out = io.BytesIO()
            self._rewrite(source, out, found)
            target.seek(0)
            target.truncate()
            target.write(out.getvalue())
        else:
            path = Path(os.fspath(target))
            fd, tmp = new_temporary(path)
            try:
                os.fchmod(fd, os.stat(path).st_mode & 0o777)
                with os.fdopen(fd, "wb") as handle:
                    self._rewrite(path, handle, found)
                os.replace(tmp, path)
            finally:
                Path(tmp).unlink(missing_ok=True)
                forget_temporary(tmp)
        missing = set(self.text_of) - found
        if missing:
            raise RuntimeError(f"internal error: {len(missing)} text(s) written as placeholders "
                               "were not found in the package")

    def _rewrite(self, source: Any, out: Any, found: set[str]) -> None:
        prefix = self.prefix.encode()

        def swap(match: re.Match[bytes]) -> bytes:
            if match.group(1) is not None:
                token = match.group(1).decode()
                found.add(token)
                return t_element(self.text_of[token])
            token = match.group(2).decode()
            found.add(token)
            return b">" + ooxml_text(self.text_of[token]).encode() + b"<"

        with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w") as zout:
            for info in zin.infolist():
                swapping = bool(_SWAPPED_PARTS.match(info.filename))
                with zin.open(info) as member, zout.open(_copy_info(info), "w") as target:
                    _stream(member, target, self.pattern if swapping else None, swap, prefix)


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(info.filename, info.date_time)
    copy.compress_type = info.compress_type
    copy.external_attr = info.external_attr
    return copy


_CHUNK = 1 << 20


def _stream(member: IO[bytes], target: IO[bytes], pattern: re.Pattern[bytes] | None,
            swap: Callable[[re.Match[bytes]], bytes], prefix: bytes) -> None:
    """Copy a part, replacing matches of ``pattern`` (a bounded length) across chunk
    boundaries; a part that still holds ``prefix`` afterwards is an internal error."""
    longest = len(prefix) + 40
    carry = tail = b""
    while True:
        chunk = member.read(_CHUNK)
        buffer = carry + chunk
        final = not chunk
        safe = len(buffer) if final else max(0, len(buffer) - longest)
        pieces, pos = [], 0
        if pattern is not None:
            for match in pattern.finditer(buffer):
                if match.start() >= safe:
                    break
                pieces += [buffer[pos:match.start()], swap(match)]
                pos = match.end()
        cut = max(pos, safe)
        pieces.append(buffer[pos:cut])
        written = b"".join(pieces)
        if prefix in tail + written:
            raise RuntimeError("internal error: a text placeholder was left in the package")
        target.write(written)
        tail = (tail + written)[-len(prefix):]
        carry = buffer[cut:]
        if final:
            return


def _fit_cell(text: str) -> str:
    """Text cut to Excel's 32,767 UTF-16 code units, as xlsxwriter cuts what it writes."""
    if len(text) <= EXCEL_MAX_TEXT // 2:
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > EXCEL_MAX_TEXT:
            return text[:index]
    return text
