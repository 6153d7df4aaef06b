"""Per-agency workbooks from a roster: identity pre-filled and locked, a manifest that
matches the files, and bad rosters refused with line numbers before anything is written."""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pmqa_xlsx import RosterError, generate_roster, load_roster
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.layout import META_SHEET, Layout
from pmqa_xlsx.libreoffice import convert
from pmqa_xlsx.styles import LOCKED_FILL
from pmqa_xlsx.words import Words

from .conftest import ROOT

SAMPLE_ROSTER = ROOT / "samples" / "roster.csv"


def english(error: RosterError) -> tuple[str, ...]:
    """The English of each problem; ``thai`` the Thai (every roster problem has both)."""
    assert all(isinstance(p, Words) for p in error.problems)
    return tuple(p.en for p in error.problems)


def thai(error: RosterError) -> tuple[str, ...]:
    return tuple(p.th for p in error.problems)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


@pytest.fixture(scope="module")
def roster_dir(layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("roster") / "out"
    generate_roster(layout, SAMPLE_ROSTER, out)
    return out


def test_sample_roster_loads_with_codes_as_text() -> None:
    agencies = load_roster(SAMPLE_ROSTER)
    assert [(a.code, a.line) for a in agencies][:2] == [("03005", 2), ("07007", 3)]
    assert agencies[0].name == "กรมการปกครอง" and agencies[0].ministry == "กระทรวงมหาดไทย"


def test_one_workbook_per_agency_and_a_matching_manifest(
    roster_dir: Path, layout: Layout
) -> None:
    agencies = load_roster(SAMPLE_ROSTER)
    files = sorted(p.name for p in roster_dir.iterdir())
    assert files == sorted([a.file_name for a in agencies] + ["manifest.csv"])
    raw = (roster_dir / "manifest.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [r["agency_code"] for r in rows] == [a.code for a in agencies]
    for row in rows:
        data = (roster_dir / row["file"]).read_bytes()
        assert row["sha256"] == hashlib.sha256(data).hexdigest()
        assert row["layout_fingerprint"] == layout.fingerprint
        assert (row["form_id"], row["form_version"], row["fiscal_year"]) == (
            layout.form.id, layout.form.version, "2562")
    assert raw.splitlines()[1].startswith(b'"')  # every field quoted


def test_identity_is_prefilled_and_locked(roster_dir: Path, cellmap: CellMap) -> None:
    book = openpyxl.load_workbook(roster_dir / "21003.xlsx")
    ws = book[cellmap.sheets[0].name]
    expected = {"agency_name": "กรมอนามัย", "agency_code": "21003", "ministry": "กระทรวงสาธารณสุข"}
    for field_id, value in expected.items():
        cell = ws[cellmap.identity_cell(field_id).ref]
        assert cell.value == value
        assert cell.protection.locked
        assert cell.fill.fgColor.rgb == "FF" + LOCKED_FILL[1:]
    respondent = ws[cellmap.identity_cell("respondent").ref]
    assert respondent.value is None and not respondent.protection.locked
    assert book[META_SHEET]["B5"].value == "21003"
    assert ws.oddFooter.left.text == "กรมอนามัย (21003)"
    completeness = ws[cellmap.sheets[0].formulas[0].ref]
    data_only = openpyxl.load_workbook(roster_dir / "21003.xlsx", data_only=True)
    assert data_only[ws.title][completeness.coordinate].value == "3 / 54"


@pytest.mark.libreoffice
def test_prefilled_workbook_survives_a_libreoffice_resave(
    soffice: str, roster_dir: Path, cellmap: CellMap, tmp_path: Path
) -> None:
    resaved = convert(roster_dir / "03005.xlsx", tmp_path, recalc=True)
    book = openpyxl.load_workbook(resaved)
    first = book[cellmap.sheets[0].name]
    assert first[cellmap.identity_cell("agency_code").ref].value == "03005"
    assert book[META_SHEET]["B5"].value == "03005"
    assert book[META_SHEET].sheet_state in ("hidden", "veryHidden")
    for ws in book.worksheets:
        assert ws.protection.sheet
    unlocked = {c.coordinate for row in book["หมวด 3"].iter_rows() for c in row
                if c.protection is not None and not c.protection.locked}
    assert unlocked == {c.ref for c in cellmap.inputs() if c.sheet == "หมวด 3"}
    values = openpyxl.load_workbook(resaved, data_only=True)
    assert values[first.title][cellmap.sheets[0].formulas[0].ref].value == "3 / 54"


BAD_ROSTERS = [
    ("missing code",
     "agency_code,agency_name\n,กรมหนึ่ง\n",
     ["line 2: agency_code is empty; give every agency its code"]),
    ("duplicate code",
     "agency_code,agency_name\n001,กรมหนึ่ง\n002,กรมสอง\n001,กรมสาม\n",
     ["line 4: agency_code '001' is a duplicate of line 2; give each agency its own code"]),
    ("unsafe characters",
     "agency_code,agency_name\n../x,กรมหนึ่ง\nA:B,กรมสอง\n",
     ["line 2: agency_code '../x' has characters unsafe in a file name ('/'); use letters, "
      "digits, - _ .",
      "line 3: agency_code 'A:B' has characters unsafe in a file name (':'); use letters, "
      "digits, - _ ."]),
    ("same code in another case",
     "agency_code,agency_name\nAB01,กรมหนึ่ง\nab01,กรมสอง\n",
     ["line 3: agency_code 'ab01' is a duplicate of line 2; give each agency its own code"]),
    ("code a spreadsheet would run",
     "agency_code,agency_name\n=1+1,กรมหนึ่ง\n",
     ["line 2: agency_code '=1+1' must start with a letter or a digit"]),
    ("reserved name",
     "agency_code,agency_name\nCON,กรมหนึ่ง\n",
     ["line 2: agency_code 'CON' is a name Windows reserves for devices; choose another code"]),
    ("missing name",
     "agency_code,agency_name,ministry\n001,,กระทรวง\n",
     ["line 2: agency_name is empty; give the agency's name"]),
    ("missing column",
     "code,name\n001,กรมหนึ่ง\n",
     ["line 1: missing column agency_code, agency_name (found: code, name); the header needs "
      "agency_code, agency_name and may have ministry"]),
    ("empty roster",
     "agency_code,agency_name\n",
     ["the roster has no agencies; add one row per agency under the header"]),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in BAD_ROSTERS],
                         ids=[n for n, _, _ in BAD_ROSTERS])
def test_bad_rosters_are_refused_with_line_numbers_and_nothing_is_written(
    layout: Layout, tmp_path: Path, text: str, expected: list[str]
) -> None:
    roster = write(tmp_path / "roster.csv", text)
    out = tmp_path / "out"
    with pytest.raises(RosterError) as info:
        generate_roster(layout, roster, out)
    assert list(english(info.value)) == expected
    for th, en in zip(thai(info.value), expected, strict=True):  # the same line, in Thai
        assert th.startswith(en.split(":")[0].replace("line", "แถว")) or ":" not in en
    assert "nothing was written" in str(info.value)
    assert not out.exists()


THAI_ROSTER = ("บัญชีรายชื่อหน่วยงาน ปี 2569\nรหัสหน่วยงาน,ชื่อหน่วยงาน,สังกัด,ภาค\n"
               "03005,กรมการปกครอง,กระทรวงมหาดไทย,กลาง\n21003,กรมชลประทาน,กระทรวงเกษตรฯ,เหนือ\n")


def test_a_thai_excel_plain_csv_in_windows_874_is_read(tmp_path: Path) -> None:
    """Thai Excel's plain "CSV" save writes Windows-874: read as that when its header is found."""
    roster = tmp_path / "roster.csv"
    roster.write_bytes(THAI_ROSTER.encode("cp874"))
    utf8 = write(tmp_path / "utf8.csv", THAI_ROSTER)
    assert load_roster(roster) == load_roster(utf8)
    agencies = load_roster(roster)
    assert [(a.code, a.name, a.ministry, a.extras, a.line) for a in agencies] == [
        ("03005", "กรมการปกครอง", "กระทรวงมหาดไทย", {"ภาค": "กลาง"}, 3),
        ("21003", "กรมชลประทาน", "กระทรวงเกษตรฯ", {"ภาค": "เหนือ"}, 4)]


@pytest.mark.parametrize("separator", [";", "\t"])
@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp874"])
def test_a_csv_separated_by_semicolons_or_tabs_is_read_as_by_commas(
        tmp_path: Path, separator: str, encoding: str) -> None:
    """Excel saves a CSV with the system's list separator: a semicolon in many locales (a
    tab as Unicode text). Such a roster is read as the comma one, in each encoding taken,
    where it was refused as "not UTF-8" (Windows-874) or for want of its headings; a comma
    inside a name then stays in the name."""
    text = THAI_ROSTER.replace(",", separator).replace("กระทรวงเกษตรฯ", "กระทรวงเกษตร, ฯ")
    roster = tmp_path / "roster.csv"
    roster.write_bytes(text.encode(encoding))
    agencies = load_roster(roster)
    assert [(a.code, a.name, a.ministry, a.extras, a.line) for a in agencies] == [
        ("03005", "กรมการปกครอง", "กระทรวงมหาดไทย", {"ภาค": "กลาง"}, 3),
        ("21003", "กรมชลประทาน", "กระทรวงเกษตร, ฯ", {"ภาค": "เหนือ"}, 4)]


def test_a_comma_roster_whose_names_hold_semicolons_stays_split_at_commas(
        tmp_path: Path) -> None:
    """The comma comes first: a comma roster is never re-split at a semicolon in a name."""
    roster = write(tmp_path / "roster.csv", "agency_code,agency_name\n001,กรม ก; ส่วน ข\n")
    assert [(a.code, a.name) for a in load_roster(roster)] == [("001", "กรม ก; ส่วน ข")]


@pytest.mark.parametrize("raw", [
    # Windows-874 that decodes, but its header is not there: not taken as a roster
    "รายชื่อ,หน่วยงาน\n03005,กรมการปกครอง\n".encode("cp874"),
    # Windows-1252 (é, ü): decodes as Windows-874 into marks with no letter under them
    "agency_code,agency_name\n001,Agence générale\n002,Büro\n".encode("cp1252"),
    # bytes undefined in Windows-874 (0xDB, 0xFF)
    b"agency_code,agency_name\n001,\xdb\xff\n",
], ids=["no-header", "cp1252", "undefined-bytes"])
def test_a_csv_neither_utf8_nor_thai_windows_874_says_how_to_save_it(tmp_path: Path,
                                                                      raw: bytes) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_bytes(raw)
    with pytest.raises(RosterError) as info:
        load_roster(roster)
    line = raw[:raw.index(next(b for b in raw if b > 0x7f).to_bytes())].count(b"\n") + 1
    assert english(info.value) == (f"line {line}: the file is not UTF-8 text; in Excel use "
                                   "Save As → 'CSV UTF-8 (Comma delimited)'",)
    assert thai(info.value)[0].startswith(f"แถว {line}: ไฟล์ไม่ได้บันทึกเป็น UTF-8")


def test_a_stale_stored_dimension_does_not_truncate_an_xlsx_roster(tmp_path: Path) -> None:
    """A program that writes ``<dimension ref="A1:C2"/>`` over three agencies and a fourth
    column: every row and column is still read."""
    import zipfile

    rows: list[list[object]] = [["รหัสหน่วยงาน", "ชื่อหน่วยงาน", "กระทรวง", "ภาค"],
                                ["03005", "กรมการปกครอง", "มหาดไทย", "กลาง"],
                                ["21003", "กรมชลประทาน", "เกษตรฯ", "เหนือ"],
                                ["15001", "กรมการท่องเที่ยว", "ท่องเที่ยวฯ", "ใต้"]]
    good = xlsx_roster(tmp_path / "good.xlsx", rows)
    stale = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(stale, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, count = re.subn(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:C2"/>',
                                      data)
                assert count == 1
            dst.writestr(item, data)
    agencies = load_roster(stale)
    assert [(a.code, a.extras) for a in agencies] == [(r[0], {"ภาค": r[3]}) for r in rows[1:]]
    assert agencies == load_roster(good)


def binary_roster(path: Path, kind: str) -> Path:
    """A file of ``kind`` as other programs write it (content only; the name is the test's)."""
    import zipfile

    if kind == "xls":  # the OLE compound-file header every .xls (and encrypted .xlsx) has
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    elif kind == "ods":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
            archive.writestr("content.xml", "<office:document-content/>")
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("roster.csv", "agency_code,agency_name\n")
    return path


@pytest.mark.parametrize(("kind", "en", "th"), [
    ("xls", "the file is an old Excel workbook (.xls, Excel 97-2003) or one with a password",
     "ไฟล์นี้เป็นไฟล์ Excel รุ่นเก่า (.xls, Excel 97-2003)"),
    ("ods", "the file is an OpenDocument spreadsheet (.ods", "ไฟล์นี้เป็นไฟล์ OpenDocument (.ods"),
    ("zip", "the file is a zip archive, not a roster", "ไฟล์นี้เป็นไฟล์บีบอัด (zip)"),
])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".xls", ".ods"])
def test_a_binary_roster_says_what_it_is_and_how_to_save_it(tmp_path: Path, kind: str, en: str,
                                                            th: str, suffix: str) -> None:
    roster = binary_roster(tmp_path / f"roster{suffix}", kind)
    before = roster.read_bytes()
    with pytest.raises(RosterError) as info:
        load_roster(roster)
    (problem,) = info.value.problems
    assert isinstance(problem, Words)
    assert problem.en.startswith(en) and problem.th.startswith(th)
    assert "'Excel Workbook (*.xlsx)' or 'CSV UTF-8 (Comma delimited)'" in problem.en
    assert "'Excel Workbook (*.xlsx)' หรือ 'CSV UTF-8 (Comma delimited)'" in problem.th
    assert "UTF-8 text" not in problem.en
    assert roster.read_bytes() == before


def test_a_workbook_without_a_worksheet_says_so(tmp_path: Path) -> None:
    import zipfile

    openpyxl.Workbook().save(tmp_path / "one.xlsx")
    empty = tmp_path / "empty.xlsx"
    with zipfile.ZipFile(tmp_path / "one.xlsx") as src, zipfile.ZipFile(empty, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/workbook.xml":
                data = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", data, flags=re.S)
            dst.writestr(item, data)
    with pytest.raises(RosterError) as info:
        load_roster(empty)
    (problem,) = info.value.problems
    assert isinstance(problem, Words)
    assert problem.en.startswith("the workbook has no worksheet; open it in Excel")
    assert problem.th.startswith("ไฟล์ไม่มีแผ่นงานที่เป็นตาราง; เปิดไฟล์ใน Excel")


def test_an_xlsx_roster_named_csv_is_read_as_the_workbook_it_is(tmp_path: Path) -> None:
    rows: list[list[object]] = [["agency_code", "agency_name"], ["03005", "กรมการปกครอง"]]
    named_csv = xlsx_roster(tmp_path / "roster.xlsx", rows).rename(tmp_path / "roster.csv")
    assert [(a.code, a.name) for a in load_roster(named_csv)] == [("03005", "กรมการปกครอง")]


def sheets_roster(path: Path, sheets: dict[str, list[list[object]]], active: int = 0) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    book.active = active
    book.save(path)
    return path


NOTES = [["หมายเหตุ: กรอกรายชื่อในแผ่นงานถัดไป"]]


def test_an_xlsx_roster_is_read_from_the_sheet_that_holds_the_header(tmp_path: Path) -> None:
    good: list[list[object]] = [["รหัสหน่วยงาน", "ชื่อหน่วยงาน"], ["03005", "กรมการปกครอง"]]
    later = sheets_roster(tmp_path / "later.xlsx", {"คำอธิบาย": NOTES, "รายชื่อ": good})
    assert [a.code for a in load_roster(later)] == ["03005"]
    # the active sheet is looked at first, even when another sheet also has a header
    other: list[list[object]] = [["agency_code", "agency_name"], ["21003", "กรมชลประทาน"]]
    active = sheets_roster(tmp_path / "active.xlsx", {"เก่า": other, "ใหม่": good}, active=1)
    assert [a.code for a in load_roster(active)] == ["03005"]


def test_a_problem_on_a_later_sheet_names_the_sheet(tmp_path: Path) -> None:
    rows: list[list[object]] = [["รหัสหน่วยงาน", "ชื่อหน่วยงาน"], ["03005", ""]]
    roster = sheets_roster(tmp_path / "r.xlsx", {"คำอธิบาย": NOTES, "รายชื่อ": rows})
    with pytest.raises(RosterError) as info:
        load_roster(roster)
    assert info.value.sheet == "รายชื่อ"
    assert english(info.value) == ("line 2: ชื่อหน่วยงาน is empty; give the agency's name",)
    assert info.value.text("th").splitlines()[0].endswith("(แผ่นงาน 'รายชื่อ')")
    assert str(info.value).splitlines()[0].endswith("(sheet 'รายชื่อ')")
    # on the first sheet looked at, no sheet is named
    first = sheets_roster(tmp_path / "first.xlsx", {"รายชื่อ": rows, "คำอธิบาย": NOTES})
    with pytest.raises(RosterError) as info:
        load_roster(first)
    assert info.value.sheet is None and "แผ่นงาน" not in info.value.text("th")


def test_no_sheet_with_the_header_names_every_sheet_looked_at(tmp_path: Path) -> None:
    roster = sheets_roster(tmp_path / "r.xlsx", {"คำอธิบาย": NOTES, "Sheet2": [["a", "b"]],
                                                 "ว่าง": []}, active=1)
    with pytest.raises(RosterError) as info:
        load_roster(roster)
    problems = english(info.value)
    assert problems[0] == ("no sheet holds the header (agency_code, agency_name) (looked at: "
                           "'Sheet2', 'คำอธิบาย', 'ว่าง'); put it in the first 10 rows of the "
                           "sheet with the agencies")
    assert [p.split(":")[0] for p in problems[1:]] == [
        "sheet 'Sheet2'", "sheet 'คำอธิบาย'", "sheet 'ว่าง'"]
    assert thai(info.value)[0].startswith("ไม่พบแถวหัวตาราง (รหัสหน่วยงาน, ชื่อหน่วยงาน) "
                                          "ในแผ่นงานใดเลย (ดูแล้ว: 'Sheet2', 'คำอธิบาย', 'ว่าง')")


def test_xlsx_roster_duplicates_are_found_among_codes_shown_with_zeros(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["agency_code", "agency_name", "ministry"])
    ws.append(["A01", "กรมหนึ่ง", "กระทรวงหนึ่ง"])
    ws.append([1002, "กรมสอง", None])
    ws.append([1002, "กรมสาม", None])
    ws["A3"].number_format = ws["A4"].number_format = "00000"
    book.save(tmp_path / "roster.xlsx")
    with pytest.raises(RosterError) as info:
        load_roster(tmp_path / "roster.xlsx")
    assert english(info.value) == ("line 4: agency_code '01002' is a duplicate of line 3; "
                                   "give each agency its own code",)


def test_control_characters_in_names_are_refused(tmp_path: Path) -> None:
    roster = write(tmp_path / "r.csv", "agency_code,agency_name\n001,กรม\x01หนึ่ง\n")
    with pytest.raises(RosterError) as info:
        load_roster(roster)
    assert english(info.value) == ("line 2: agency_name holds a control character; retype it",)


# -- one spelling of a code (issue 10: an agency's identity cannot be confused) ---------------

SPELLINGS = [  # (as the roster has it, the one code it is)
    ("๐๓๐๐๕", "03005"),               # Thai digits
    ("０３００５", "03005"),            # full-width digits
    (" 03 005 ", "03005"),            # spaces, inside too
    ("03\u200b005", "03005"),         # zero-width space
    ("\ufeff030\u200c0\u200d5\u2060", "03005"),  # byte order mark, joiners, word joiner
    ("030\u00ad05", "03005"),         # soft hyphen
    ("\u200e03005\u200f", "03005"),   # direction marks
    ("\u0660\u0663\u0660\u0660\u0665", "03005"),  # Arabic-Indic digits
    ("AB\u00a001", "AB01"),           # a no-break space
]


@pytest.mark.parametrize(("typed", "code"), SPELLINGS)
def test_a_code_is_read_in_its_one_spelling(tmp_path: Path, typed: str, code: str) -> None:
    roster = write(tmp_path / "r.csv", f"agency_code,agency_name\n{typed},กรมหนึ่ง\n")
    (agency,) = load_roster(roster)
    assert (agency.code, agency.file_name) == (code, f"{code}.xlsx")


@pytest.mark.parametrize(("typed", "code"), SPELLINGS)
def test_two_spellings_of_one_code_are_refused(tmp_path: Path, typed: str, code: str) -> None:
    roster = write(tmp_path / "r.csv", f"agency_code,agency_name\n{code},กรมหนึ่ง\n"
                                       f"{typed},กรมสอง\n")
    with pytest.raises(RosterError) as info:
        load_roster(roster)
    assert english(info.value) == (f"line 3: agency_code {typed.strip()!r} (read as {code!r}) "
                                   "is a duplicate of line 2; give each agency its own code",)


def test_codes_that_differ_only_by_leading_zeros_are_refused(layout: Layout,
                                                             tmp_path: Path) -> None:
    roster = write(tmp_path / "r.csv", "agency_code,agency_name\n01001,กรมหนึ่ง\n"
                   "02002,กรมสอง\n1001,กรมสาม\n๐๐๒๐๐๒,กรมสี่\nA1,กรมห้า\n0a1,กรมหก\n")
    out = tmp_path / "out"
    with pytest.raises(RosterError) as info:
        generate_roster(layout, roster, out)
    tail = ("only by leading zeros, which a spreadsheet drops when it takes a code for a "
            "number; give each agency a code that differs in more than leading zeros")
    assert english(info.value) == (
        f"line 4: agency_code '1001' differs from '01001' (line 2) {tail}",
        f"line 5: agency_code '๐๐๒๐๐๒' (read as '002002') differs from '02002' (line 3) {tail}",
        f"line 7: agency_code '0a1' differs from 'A1' (line 6) {tail}",
    )
    assert not out.exists()


def test_a_code_of_invisible_characters_only_is_empty(tmp_path: Path) -> None:
    roster = write(tmp_path / "r.csv", "agency_code,agency_name\n\u200b\u2060,กรมหนึ่ง\n")
    with pytest.raises(RosterError) as info:
        load_roster(roster)
    assert english(info.value) == ("line 2: agency_code is only spaces or invisible "
                                   "characters; give every agency its code",)


def test_agencies_given_as_objects_are_normalised_too(layout: Layout, tmp_path: Path) -> None:
    from pmqa_xlsx import Agency

    written = generate_roster(layout, [Agency(code="๐๓๐๐๕", name="กรมหนึ่ง")], tmp_path / "o")
    assert [g.path.name for g in written] == ["03005.xlsx"]
    book = openpyxl.load_workbook(written[0].path, read_only=True)
    assert book[META_SHEET]["B5"].value == "03005"
    book.close()


def test_an_xlsx_roster_number_beside_its_text_with_zeros_is_refused_at_its_cell(
    tmp_path: Path,
) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["agency_code", "agency_name"])
    ws.append(["01002", "กรมหนึ่ง"])
    ws.append([1002, "กรมสอง"])  # the same code, typed where Excel took it for a number
    book.save(tmp_path / "roster.xlsx")
    with pytest.raises(RosterError) as info:
        load_roster(tmp_path / "roster.xlsx")
    assert english(info.value)[0].startswith("line 3 (cell Sheet!A3): agency code 1002 is "
                                             "stored as a number")


# -- rosters as people make them in Excel (issue 13) --------------------------------------------

def xlsx_roster(path: Path, rows: list[list[object]],
                formats: dict[str, str] | None = None) -> Path:
    """An XLSX roster of ``rows`` (from A1), cells given a number format by address."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "รายชื่อ"
    for row in rows:
        ws.append(row)
    for cells in ws.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # the text itself, as Excel keeps '=กรม typed
    for ref, code in (formats or {}).items():
        ws[ref].number_format = code
    book.save(path)
    return path


def test_an_excel_csv_utf8_with_thai_headings_and_title_rows(tmp_path: Path) -> None:
    text = ("รายชื่อหน่วยงานที่ประเมิน PMQA 4.0 ปีงบประมาณ 2569,,,\n"
            ",,,\n"
            "รหัสหน่วยงาน,ชื่อหน่วยงาน,สังกัด,ภาค\n"
            "03005,กรมการปกครอง,กระทรวงมหาดไทย,กลาง\n"
            ",,,\n"
            "07007,กรมสรรพากร,กระทรวงการคลัง,\n"
            ",,,\n")
    roster = tmp_path / "รายชื่อ.csv"
    roster.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())  # as Excel saves
    agencies = load_roster(roster)
    assert [(a.code, a.name, a.ministry, a.line, a.extra) for a in agencies] == [
        ("03005", "กรมการปกครอง", "กระทรวงมหาดไทย", 4, (("ภาค", "กลาง"),)),
        ("07007", "กรมสรรพากร", "กระทรวงการคลัง", 6, (("ภาค", ""),)),
    ]


@pytest.mark.parametrize("headings", [
    ("agency_code", "agency_name", "ministry"),
    ("Agency Code", "Agency Name", "Ministry"),
    ("AGENCY-CODE", " agency_name ", "MINISTRY"),
    ("ａｇｅｎｃｙ＿ｃｏｄｅ", "agency\u200bname", "ministry"),  # full-width, a zero-width space
    ("รหัสหน่วยงาน", "ชื่อหน่วยงาน", "กระทรวง"),
    ("รหัส หน่วยงาน", "ชื่อ หน่วยงาน", "สังกัด"),
    ("รหัสส่วนราชการ", "ชื่อส่วนราชการ", "สังกัด"),
])
def test_heading_variants_name_the_same_columns(tmp_path: Path,
                                                headings: tuple[str, str, str]) -> None:
    roster = write(tmp_path / "r.csv", ",".join(headings) + "\n01001,กรมหนึ่ง,กระทรวงหนึ่ง\n")
    (agency,) = load_roster(roster)
    assert (agency.code, agency.name, agency.ministry, agency.extra) == (
        "01001", "กรมหนึ่ง", "กระทรวงหนึ่ง", ())


def test_every_documented_heading_is_in_the_readme() -> None:
    from pmqa_xlsx.roster import HEADINGS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for column, headings in HEADINGS.items():
        for heading in headings:
            assert f"`{heading}`" in readme, (column, heading)


@pytest.mark.parametrize(("number_format", "value", "code"), [
    ("00000", 1001, "01001"),
    ('"0"0000', 1001, "01001"),
    ("000#", 101, "0101"),
    ("00000", 21003, "21003"),  # a padding format: the number needs no zero
    ("[Blue]00000", 3005, "03005"),
    ("00000;-00000", 3005, "03005"),
    ("000000", 3005.0, "003005"),
])
def test_a_code_stored_as_a_number_is_taken_as_its_format_shows_it(
    tmp_path: Path, number_format: str, value: float, code: str
) -> None:
    roster = xlsx_roster(tmp_path / "r.xlsx", [
        ["รายชื่อหน่วยงาน"], ["รหัสหน่วยงาน", "ชื่อหน่วยงาน"], [value, "กรมหนึ่ง"]],
        {"A3": number_format})
    (agency,) = load_roster(roster)
    assert (agency.code, agency.line) == (code, 3)


@pytest.mark.parametrize(("value", "number_format", "en", "th"), [
    (1001, "General", "agency code 1001 is stored as a number, so Excel may have dropped its "
     "leading zeros, and the cell's number format (General) does not show them",
     "รหัสหน่วยงาน 1001 ถูกเก็บเป็นตัวเลข"),
    (1001, "0", "agency code 1001 is stored as a number", "(0) ไม่ได้แสดงเลข 0 นำหน้า"),
    (1001, "#,##0", "cell's number format (#,##0) does not show them", "(#,##0)"),
    (1001, "0000-0", "(0000-0) does not show them", "(0000-0)"),
    (1001, '"ID"00000', "does not show them", "ไม่ได้แสดงเลข 0 นำหน้า"),
    (1001.5, "00000", "agency code 1001.5 is a number with a fraction or a sign, not a code",
     "1001.5 เป็นตัวเลขที่ไม่ใช่จำนวนเต็ม"),
    (-1001, "00000", "agency code -1001 is a number with a fraction", "-1001"),
    (datetime(2019, 1, 1), "dd/mm/yyyy", "Excel took the agency code for a date (2019-01-01)",
     "Excel เปลี่ยนรหัสหน่วยงานเป็นวันที่"),
    (True, "General", "agency code is TRUE, not a code", "รหัสหน่วยงานเป็นค่า TRUE"),
    (10.0 ** 16, "0" * 20, "is stored as a number of more than 15 digits", "ยาวเกิน 15 หลัก"),
])
def test_a_code_stored_as_a_number_its_format_does_not_pad_is_refused_at_its_cell(
    tmp_path: Path, value: object, number_format: str, en: str, th: str
) -> None:
    roster = xlsx_roster(tmp_path / "r.xlsx", [
        ["รหัสหน่วยงาน", "ชื่อหน่วยงาน"], ["01002", "กรมหนึ่ง"], [value, "กรมสอง"]],
        {"A3": number_format})
    with pytest.raises(RosterError) as info:
        load_roster(roster)
    (problem,) = info.value.problems
    assert problem.en.startswith("line 3 (cell รายชื่อ!A3): ") and en in problem.en
    assert problem.th.startswith("แถว 3 (เซลล์ รายชื่อ!A3): ") and th in problem.th
    assert problem.en.endswith("format the code column as Text and type the codes again with "
                               "their leading zeros, or use a number format that shows the "
                               "zeros, such as 00000")


def test_an_xlsx_roster_with_codes_as_text_thai_headings_and_extra_columns(
    tmp_path: Path,
) -> None:
    roster = xlsx_roster(tmp_path / "r.xlsx", [
        ["บัญชีรายชื่อส่วนราชการ"],
        ["ปีงบประมาณ 2569"],
        ["รหัสหน่วยงาน", "ชื่อหน่วยงาน", "กระทรวง", "ภาค", "ประเภทหน่วยงาน", None],
        ["03005", "กรมการปกครอง", "กระทรวงมหาดไทย", "กลาง", "กรม", None],
        [None, None, None, None, None, None],
        ["๐๗๐๐๗", "กรมสรรพากร", "กระทรวงการคลัง", 2, "=กรม", None],
    ])
    agencies = load_roster(roster)
    assert [(a.code, a.line, a.extra) for a in agencies] == [
        ("03005", 4, (("ภาค", "กลาง"), ("ประเภทหน่วยงาน", "กรม"))),
        ("07007", 6, (("ภาค", "2"), ("ประเภทหน่วยงาน", "=กรม"))),
    ]


def test_a_problem_under_a_title_row_says_which_line_is_the_header(tmp_path: Path) -> None:
    roster = write(tmp_path / "r.csv", "รายชื่อหน่วยงาน\nรหัสหน่วยงาน,ชื่อหน่วยงาน\n01,\n")
    with pytest.raises(RosterError) as info:
        load_roster(roster)
    assert info.value.header_line == 2
    assert english(info.value) == ("line 3: ชื่อหน่วยงาน is empty; give the agency's name",)
    assert thai(info.value) == ("แถว 3: ชื่อหน่วยงาน ว่างอยู่; ใส่ชื่อหน่วยงาน",)
    assert str(info.value).splitlines()[0].endswith("nothing was written (header: line 2)")
    assert info.value.text("th").splitlines()[0].endswith(
        "จึงไม่ได้เขียนไฟล์ใด (หัวตารางคือแถว 2)")


def test_no_header_in_the_first_rows_names_the_row_that_came_closest(tmp_path: Path) -> None:
    roster = write(tmp_path / "r.csv", "รายชื่อ\nรหัสหน่วยงาน,ชื่อ\n01,กรมหนึ่ง\n")
    with pytest.raises(RosterError) as info:
        load_roster(roster)
    (problem,) = info.value.problems
    assert problem.en == ("line 2: missing column agency_name (found: รหัสหน่วยงาน, ชื่อ); the "
                          "header needs agency_code, agency_name and may have ministry")
    assert problem.th.startswith("แถว 2: ไม่พบคอลัมน์ ชื่อหน่วยงาน (agency_name) (พบ: "
                                 "รหัสหน่วยงาน, ชื่อ)")
    late = write(tmp_path / "late.csv", "title\n" * 10 + "agency_code,agency_name\n01,ก\n")
    with pytest.raises(RosterError) as info:
        load_roster(late)
    assert english(info.value)[0].startswith("line 1: missing column agency_code, agency_name")


@pytest.mark.parametrize(("header", "row", "expected"), [
    ("agency_code,agency_name,ภาค,ภาค", "01,ก,กลาง,เหนือ",
     "line 1, column D: heading 'ภาค' repeats column C; give each column its own heading or "
     "delete one"),
    ("agency_code,agency_name,Region,region ", "01,ก,กลาง,เหนือ",
     "line 1, column D: heading 'region' repeats column C; give each column its own heading "
     "or delete one"),
    ("agency_code,agency_name,รหัสหน่วยงาน", "01,ก,01",
     "line 1, column C: 'รหัสหน่วยงาน' is the same column as 'agency_code' (column A); keep "
     "one of them"),
    ("agency_code,agency_name,state", "01,ก,x",
     "line 1, column C: heading 'state' is a column the merge's frames already have; rename "
     "it, e.g. with roster_ in front"),
    ("agency_code,agency_name,scored_7.2", "01,ก,x",
     "line 1, column C: heading 'scored_7.2' is a column the merge's frames already have; "
     "rename it, e.g. with roster_ in front"),
    ("agency_code,agency_name,,ภาค", "01,ก,x,กลาง",
     "line 2, column C: data in a column without a heading (line 1); give the column a "
     "heading, e.g. region, or clear it"),
    ("agency_code,agency_name", "01,ก,x",
     "line 2, column C: data in a column without a heading (line 1); give the column a "
     "heading, e.g. region, or clear it"),
])
def test_bad_extra_headings_are_refused(tmp_path: Path, header: str, row: str,
                                        expected: str) -> None:
    roster = write(tmp_path / "r.csv", f"{header}\n{row}\n")
    with pytest.raises(RosterError) as info:
        load_roster(roster)
    assert english(info.value) == (expected,)
    assert thai(info.value)[0].startswith("แถว ")


def test_a_column_without_heading_or_data_is_ignored(tmp_path: Path) -> None:
    roster = write(tmp_path / "r.csv", "agency_code,agency_name,,\n01,ก,,\n")
    (agency,) = load_roster(roster)
    assert (agency.code, agency.extra) == ("01", ())


def test_extra_frame_columns_cover_every_column_of_returns_and_scores() -> None:
    from pmqa_xlsx.consolidate import RETURN_COLUMNS
    from pmqa_xlsx.read.frames import SCORE_COLUMNS
    from pmqa_xlsx.roster import _frame_columns

    assert _frame_columns() >= {*RETURN_COLUMNS, *SCORE_COLUMNS}


def test_extra_roster_columns_reach_the_returns_and_scores_frames(tmp_path: Path) -> None:
    from pmqa_xlsx import consolidate
    from pmqa_xlsx.report import write_workbook

    lines = SAMPLE_ROSTER.read_text(encoding="utf-8").splitlines()
    region = {"03005": "กลาง", "07007": "กลาง", "21003": "=1+1", "08004": "เหนือ"}
    codes = [line.split(",")[0] for line in lines[1:]]
    rows = [f"{lines[0]},ภาค,ประเภท"] + [
        f"{line},{region.get(line.split(',')[0], '')},กรม" for line in lines[1:]]
    roster = write(tmp_path / "roster.csv", "\n".join(rows) + "\n")
    returns_dir = ROOT / "samples" / "returns"
    # without 07007's row, its return is of an agency not on the roster: <NA> in its columns
    shorter = write(tmp_path / "short.csv", "\n".join(rows[:2] + rows[3:]) + "\n")
    for given, on_roster in ((roster, set(codes)), (shorter, set(codes) - {"07007"})):
        merged = consolidate(returns_dir, given, jobs=1)
        returns, scores = merged.returns, merged.scores
        columns = list(returns.columns)
        assert columns[columns.index("agency_name") + 1:][:2] == ["ภาค", "ประเภท"]
        assert list(scores.columns)[1:4] == ["agency_code", "ภาค", "ประเภท"]
        state = returns.loc[returns["agency_code"] == "07007", "state"].tolist()
        assert state == (["ok"] if "07007" in on_roster else ["unknown_agency"])
        for frame in (returns, scores):
            assert str(frame["ภาค"].dtype) == str(frame["ประเภท"].dtype) == "string"
            for code, got, kind in zip(frame["agency_code"], frame["ภาค"], frame["ประเภท"],
                                       strict=True):
                if code in on_roster:
                    assert (got, kind) == (region.get(code, ""), "กรม"), code
                else:
                    assert got is pd.NA and kind is pd.NA, code
    merged = consolidate(returns_dir, roster, jobs=1)
    out = tmp_path / "merged.xlsx"
    write_workbook(merged, out, merged.layouts)
    sheet = openpyxl.load_workbook(out)["returns"]
    header = [c.value for c in sheet[1]]
    at = header.index("ภาค") + 1
    shown = {row[1].value: row[at - 1] for row in sheet.iter_rows(min_row=2)}
    assert shown["21003"].value == "=1+1" and shown["21003"].data_type == "s"
    assert shown["08004"].value == "เหนือ"


def test_agencies_given_as_objects_keep_their_extra_columns(tmp_path: Path) -> None:
    from pmqa_xlsx import Agency
    from pmqa_xlsx.roster import check_agencies

    given = [Agency(code="01", name="ก", extra=(("ภาค", "กลาง"),)),
             Agency(code="02", name="ข", extra=(("ประเภท", "กรม"), ("ภาค", "เหนือ")))]
    assert [a.extras for a in check_agencies(given)] == [
        {"ภาค": "กลาง", "ประเภท": ""}, {"ภาค": "เหนือ", "ประเภท": "กรม"}]


# -- numfmt.render_whole: a whole number as its format shows it ------------------------------

@pytest.mark.parametrize(("number_format", "value", "shown"), [
    ("General", 1001, "1001"), ("0", 1001, "1001"), ("00000", 1001, "01001"),
    ('"0"0000', 1001, "01001"), ("000#", 101, "0101"), ("000#", 1001, "1001"),
    ("0000-00", 123456, "1234-56"), ("00", 12345, "12345"), ("#####", 0, ""),
    ("0", 0, "0"), ("[Red]00000", 12, "00012"), ("t00000", 12, "00012"),
    ("00000_)", 12, "00012 "), ('"ID"000', 5, "ID005"), ("\\A000", 5, "A005"),
    ("@", 5, "5"), ("00000;-00000;\"zero\"", 0, None), ("#,##0", 1001, None),
    ("0.00", 1001, None), ("yyyy-mm-dd", 1001, None), ("0%", 1, None), (";;;", 1, None),
    ("0.0E+00", 1, None), ("[>100]00000;0", 5, None), ("00000", -1, None),
])
def test_render_whole(number_format: str, value: int, shown: str | None) -> None:
    from pmqa_xlsx.numfmt import render_whole

    assert render_whole(number_format, value) == shown


def test_an_empty_roster_file_says_what_it_needs(tmp_path: Path) -> None:
    for roster in (write(tmp_path / "r.csv", ""), xlsx_roster(tmp_path / "r.xlsx", [])):
        with pytest.raises(RosterError) as info:
            load_roster(roster)
        assert english(info.value) == ("the roster is empty; put a header (agency_code, "
                                       "agency_name) and one row per agency under it",)
        assert thai(info.value)[0].startswith("ไฟล์ไม่มีข้อมูล")


def test_the_cli_prints_an_xlsx_rosters_problem_in_thai_at_its_cell(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pmqa_xlsx.cli import main

    roster = xlsx_roster(tmp_path / "รายชื่อ.xlsx", [
        ["รายชื่อหน่วยงาน"], ["รหัสหน่วยงาน", "ชื่อหน่วยงาน"], [3005, "กรมการปกครอง"]])
    result = CliRunner().invoke(main, ["generate", "--roster", str(roster),
                                       "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "แถว 3 (เซลล์ รายชื่อ!A3): รหัสหน่วยงาน 3005 ถูกเก็บเป็นตัวเลข" in result.output
    assert "หัวตารางคือแถว 2" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


@pytest.mark.libreoffice
def test_a_roster_saved_by_libreoffice_keeps_its_codes_formats(soffice: str,
                                                               tmp_path: Path) -> None:
    """Rosters are made in LibreOffice too: its xlsx (and ods→xlsx) keeps the cells' number
    formats, so a number code in a 00000 cell is still taken as shown, and one in General
    still refused."""
    made = xlsx_roster(tmp_path / "made.xlsx", [
        ["รายชื่อหน่วยงาน"], ["รหัสหน่วยงาน", "ชื่อหน่วยงาน", "ภาค"],
        [3005, "กรมการปกครอง", "กลาง"], ["07007", "กรมสรรพากร", "ใต้"]], {"A3": "00000"})
    ods = convert(made, tmp_path / "ods", "ods")
    for resaved in (convert(made, tmp_path / "xlsx"), convert(ods, tmp_path / "back")):
        agencies = load_roster(resaved)
        assert [(a.code, a.line, a.extra) for a in agencies] == [
            ("03005", 3, (("ภาค", "กลาง"),)), ("07007", 4, (("ภาค", "ใต้"),))]
    general = xlsx_roster(tmp_path / "general.xlsx", [
        ["รหัสหน่วยงาน", "ชื่อหน่วยงาน"], [3005, "กรมการปกครอง"]])
    with pytest.raises(RosterError) as info:
        load_roster(convert(general, tmp_path / "g"))
    assert english(info.value)[0].startswith("line 2 (cell รายชื่อ!A2): agency code 3005 is "
                                             "stored as a number")


def test_a_thai_excel_built_in_format_is_read_by_its_code(tmp_path: Path) -> None:
    """Thai Excel writes its built-in formats (ids 59-81) by id alone, which openpyxl reads as
    General; the roster names the format Excel shows (t0, id 59)."""
    import zipfile

    made = xlsx_roster(tmp_path / "made.xlsx", [
        ["รหัสหน่วยงาน", "ชื่อหน่วยงาน"], [3005, "กรมการปกครอง"]], {"A2": "0.000"})
    thai_ids = tmp_path / "thai.xlsx"
    with zipfile.ZipFile(made) as src, zipfile.ZipFile(thai_ids, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/styles.xml":
                custom = re.search(rb'<numFmt numFmtId="(\d+)" formatCode="0.000"\s*/>', data)
                assert custom is not None
                data = data.replace(custom.group(0), b"").replace(
                    b'numFmtId="' + custom.group(1) + b'"', b'numFmtId="59"')
            dst.writestr(item, data)
    with pytest.raises(RosterError) as info:
        load_roster(thai_ids)
    assert "the cell's number format (t0) does not show them" in english(info.value)[0]
