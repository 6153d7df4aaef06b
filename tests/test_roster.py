"""Per-agency workbooks from a roster: identity pre-filled and locked, a manifest that
matches the files, and bad rosters refused with line numbers before anything is written."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import openpyxl
import pytest

from pmqa_xlsx import RosterError, generate_roster, load_roster
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.layout import META_SHEET, Layout
from pmqa_xlsx.libreoffice import convert
from pmqa_xlsx.styles import LOCKED_FILL

from .conftest import ROOT

SAMPLE_ROSTER = ROOT / "samples" / "roster.csv"


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
    assert list(info.value.problems) == expected
    assert "nothing was written" in str(info.value)
    assert not out.exists()


def test_roster_not_utf8_says_how_to_save_it(tmp_path: Path) -> None:
    roster = write(tmp_path / "roster.csv", "agency_code,agency_name\n001,กรมหนึ่ง\n",
                   encoding="cp874")
    with pytest.raises(RosterError) as info:
        load_roster(roster)
    assert info.value.problems == ("line 2: the file is not UTF-8 text; in Excel use Save As → "
                                   "'CSV UTF-8 (Comma delimited)'",)


def test_xlsx_roster(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["agency_code", "agency_name", "ministry"])
    ws.append(["A01", "กรมหนึ่ง", "กระทรวงหนึ่ง"])
    ws.append([1002, "กรมสอง", None])
    ws.append([1002, "กรมสาม", None])
    book.save(tmp_path / "roster.xlsx")
    with pytest.raises(RosterError) as info:
        load_roster(tmp_path / "roster.xlsx")
    assert info.value.problems == ("line 4: agency_code '1002' is a duplicate of line 3; give "
                                   "each agency its own code",)


def test_control_characters_in_names_are_refused(tmp_path: Path) -> None:
    roster = write(tmp_path / "r.csv", "agency_code,agency_name\n001,กรม\x01หนึ่ง\n")
    with pytest.raises(RosterError) as info:
        load_roster(roster)
    assert info.value.problems == ("line 2: agency_name holds a control character; retype it",)


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
    assert info.value.problems == (f"line 3: agency_code {typed.strip()!r} (read as {code!r}) "
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
    assert info.value.problems == (
        f"line 4: agency_code '1001' differs from '01001' (line 2) {tail}",
        f"line 5: agency_code '๐๐๒๐๐๒' (read as '002002') differs from '02002' (line 3) {tail}",
        f"line 7: agency_code '0a1' differs from 'A1' (line 6) {tail}",
    )
    assert not out.exists()


def test_a_code_of_invisible_characters_only_is_empty(tmp_path: Path) -> None:
    roster = write(tmp_path / "r.csv", "agency_code,agency_name\n\u200b\u2060,กรมหนึ่ง\n")
    with pytest.raises(RosterError) as info:
        load_roster(roster)
    assert info.value.problems == ("line 2: agency_code is only spaces or invisible "
                                   "characters; give every agency its code",)


def test_agencies_given_as_objects_are_normalised_too(layout: Layout, tmp_path: Path) -> None:
    from pmqa_xlsx import Agency

    written = generate_roster(layout, [Agency(code="๐๓๐๐๕", name="กรมหนึ่ง")], tmp_path / "o")
    assert [g.path.name for g in written] == ["03005.xlsx"]
    book = openpyxl.load_workbook(written[0].path, read_only=True)
    assert book[META_SHEET]["B5"].value == "03005"
    book.close()


def test_an_xlsx_roster_number_and_its_text_with_zeros_are_refused(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["agency_code", "agency_name"])
    ws.append(["01002", "กรมหนึ่ง"])
    ws.append([1002, "กรมสอง"])  # the same code, typed where Excel took it for a number
    book.save(tmp_path / "roster.xlsx")
    with pytest.raises(RosterError) as info:
        load_roster(tmp_path / "roster.xlsx")
    assert info.value.problems[0].startswith("line 3: agency_code '1002' differs from '01002' "
                                             "(line 2) only by leading zeros")
