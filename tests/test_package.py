"""What is counted is what the agency typed and saw: number formats as spreadsheets store them,
the package read as Excel reads it, text and numbers no file should hold, and limits on what
costs time. Each class has its rule in the code (numfmt.py, xlsxread.py, values.py, read/)
and here the cases that hold it, on real returns edited part by part and on packages built by
hand; the corpus (tests/corpus.py) holds one file per class for check and merge."""

from __future__ import annotations

import re
import struct
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pmqa_xlsx import read_return, xlsxread
from pmqa_xlsx.cellmap import CellMap, InputCell
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.numfmt import (
    BUILTIN_FORMATS,
    parse_format,
    render,
    serial_to_date,
    shows_as,
    shows_text,
)
from pmqa_xlsx.roster import Agency
from pmqa_xlsx.values import parse_number

from . import corpus
from .package import add_style, make_package, set_cell, sheet_xml

AGENCY = Agency(code="03007", name="กรมทดสอบรูปแบบ", ministry="กระทรวงทดสอบ")


@pytest.fixture(scope="module")
def good(layout: Layout, cellmap: CellMap, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("good")
    return corpus.good_return(layout, cellmap, AGENCY, work, work / "03007.xlsx")


def first(cellmap: CellMap, kind: str, field: str | None = None) -> InputCell:
    return next(c for c in cellmap.inputs() if c.kind == kind
                and (field is None or c.field_id == field))


def edited(good: Path, target: Path, cell: InputCell, inner: str, attrs: str = "",
           format_id: int | None = None, code: str | None = None,
           book: Any = None, sheet: Any = None) -> Path:
    """The good return with one input cell rewritten (and its style, the workbook or the
    sheet edited)."""
    member = corpus.sheet_part(good, cell.sheet)
    with zipfile.ZipFile(good) as package:
        styles = package.read("xl/styles.xml")
    if format_id is not None:
        styles, index = add_style(styles, format_id, code)
        attrs = f's="{index}" {attrs}'

    def change(name: str, data: bytes) -> bytes:
        if name == member:
            data = set_cell(data, cell.ref, inner, attrs)
            return sheet(data) if sheet else data
        if name == "xl/styles.xml":
            return styles
        if name == "xl/workbook.xml" and book:
            return book(data)
        return data
    return corpus.rewrite_zip(good, target, change)


def codes_at(result: Any, cell: InputCell) -> list[str]:
    frame = result.problems
    return frame[(frame["sheet"] == cell.sheet) & (frame["cell"] == cell.ref)]["code"].tolist()


def value_at(result: Any, cell: InputCell) -> Any:
    frame = result.answers
    row = frame[(frame["sheet"] == cell.sheet) & (frame["cell"] == cell.ref)]
    return row["value"].iloc[0]


# -- number formats -------------------------------------------------------------------------

PERCENT_IDS = {9, 10, 67, 68}
DATE_IDS = {*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59), *range(71, 82)}


def test_every_built_in_id_is_known_and_classified() -> None:
    """Ids 0-81, the locale-specific ones included (27-36 and 50-58 CJK, 59-81 Thai): the
    percentages and the dates and times are recognised as such whatever the locale."""
    assert set(range(82)) <= set(BUILTIN_FORMATS)
    for format_id, code in BUILTIN_FORMATS.items():
        kind = parse_format(code).kind
        assert (kind == "percent") == (format_id in PERCENT_IDS), (format_id, code)
        assert (kind == "date") == (format_id in DATE_IDS), (format_id, code)
    assert BUILTIN_FORMATS[68] == "t0.00%"


@pytest.mark.parametrize(("code", "value", "verdict"), [
    ("General", 85, "number"), ("0.00", 85, "number"), ("#,##0 บาท", 85, "number"),
    ('0"%"', 85, "number"), ('0 "mm"', 85, "number"), ("0.00E+00", 85, "number"),
    ("# ?/?", 0.5, "number"), ("t#,##0", 85, "number"), ("@", 85, "number"),
    ("[Red]General", 85, "number"), ("[$฿-41E]#,##0.00", 85, "number"),
    ("0%", 0.85, "percent"), ("t0.00%", 0.85, "percent"), ("0.0 %;[Red]-0.0 %", -0.1,
                                                              "percent"),
    ("d/m/yyyy", 43555, "date"), ("ว/ด/ปปปป", 43555, "date"), ("d/m/bb", 43555, "date"),
    ("mm:ss", 0.5, "date"), ("[h]:mm", 1.5, "date"), ("h:mm AM/PM", 0.5, "date"),
    ('yyyy"年"m"月"', 43555, "date"), ("[$-D07041E]d mmm yy", 43555, "date"),
    (";;;", 85, "hidden"), ('"ผ่าน"', 85, "hidden"), ("0;-0;;@", 0, "hidden"),
    ("0;-0;;@", 5, "number"), ("#,##0,", 85000, "scaled"), ("0.0,,", 1, "scaled"),
    ("0;0", -5, "unsigned"), ("0;(0)", -5, "number"), ('0;"-"0', -5, "number"),
    ('_(* #,##0_);_(* \\(#,##0\\);_(* "-"_);_(@_)', 0, "number"),
    ('_(* #,##0_);_(* \\(#,##0\\);_(* "-"_);_(@_)', -3, "number"),
    ("[>=100]0;0.0", 5, "number"), ("[>=100]0;;", 5, "hidden"),
])
def test_how_a_number_is_shown(code: str, value: float, verdict: str) -> None:
    assert shows_as(code, value) == verdict


def test_formats_that_hide_text() -> None:
    assert shows_text("@") and shows_text("General") and shows_text("0;0;0")
    assert not shows_text(";;;") and not shows_text('0;0;0;"-"')
    assert shows_text('0;0;0;"Text: "@')


@pytest.mark.parametrize(("code", "value", "date1904", "shown"), [
    ("d/m/yyyy", 43555, False, "31/03/2019"), ("d/m/yyyy", 43555, True, "01/04/2023"),
    ("d/m/bb", 43555, False, "31/03/2562"), ("ว/ด/ปปปป", 43555, False, "31/03/2562"),
    ("[$-D07041E]d/m/yyyy", 43555, False, "31/03/2562"),
    ("d/m/yyyy h:mm", 43555.75, False, "31/03/2019 18:00"), ("[h]:mm", 1.5, False, "36:00"),
    ("0%", 0.85, False, "85%"), ("0.00%", 0.8555, False, "85.55%"),
    ("#,##0.0%", 12.3456, False, "1,234.6%"),
])
def test_a_date_or_percent_as_it_is_shown(code: str, value: float, date1904: bool,
                                          shown: str) -> None:
    assert render(code, value, date1904) == shown


def test_serials_in_both_date_systems() -> None:
    assert serial_to_date(43555) == date(2019, 3, 31)
    assert serial_to_date(43555, date1904=True) == date(2023, 4, 1)  # 1,462 days later
    assert serial_to_date(1) == date(1900, 1, 1) and serial_to_date(61) == date(1900, 3, 1)
    assert serial_to_date(0, date1904=True) == date(1904, 1, 1)
    assert serial_to_date(-1) is None and serial_to_date(3e6) is None
    assert serial_to_date(2_958_465, date1904=True) is None  # past 9999 in 1904's system


@pytest.mark.parametrize(("format_id", "code"), [
    (9, None), (10, None), (67, None), (68, None), (170, "0.0%"), (171, '[Red]0.00" "%'),
])
def test_a_percent_in_a_number_cell_is_an_error_whatever_its_id(
        good: Path, cellmap: CellMap, tmp_path: Path, format_id: int, code: str | None) -> None:
    cell = first(cellmap, "number", "target")
    result = read_return(edited(good, tmp_path / "p.xlsx", cell, "<v>0.85</v>", 't="n"',
                                format_id, code))
    assert codes_at(result, cell) == ["typed-as-percent"]
    assert result.state == "rejected"


@pytest.mark.parametrize(("stored", "meant"), [("0.85", "85"), ("0.873", "87.3"),
                                              ("1.5", "150"), ("0.0005", "0.05")])
def test_a_percent_typed_is_answered_with_the_number_to_type(
        good: Path, cellmap: CellMap, tmp_path: Path, stored: str, meant: str) -> None:
    """The message says what to type for this cell (what it showed, without the %), not an
    example of another number: 0.873 stored is "87.3 for 87.3%"."""
    cell = first(cellmap, "number", "target")
    result = read_return(edited(good, tmp_path / "p.xlsx", cell, f"<v>{stored}</v>", 't="n"',
                                10, None))
    found = result.problems[result.problems["cell"] == cell.ref]
    assert list(found["code"]) == ["typed-as-percent"]
    assert f"({meant} for {meant}%)" in found["message_en"].iloc[0]
    assert f"({meant} แทน {meant}%)" in found["message_th"].iloc[0]


@pytest.mark.parametrize("format_id", [14, 22, 27, 31, 36, 50, 57, 58, 71, 77, 81])
def test_a_date_in_a_number_cell_is_an_error_whatever_its_id(
        good: Path, cellmap: CellMap, tmp_path: Path, format_id: int) -> None:
    cell = first(cellmap, "number", "target")
    result = read_return(edited(good, tmp_path / "d.xlsx", cell, "<v>43555</v>", 't="n"',
                                format_id))
    assert codes_at(result, cell) == ["typed-as-date"]


def test_dates_are_read_in_the_workbook_s_date_system(good: Path, cellmap: CellMap,
                                                      tmp_path: Path) -> None:
    """The 1904 system shifts every serial by 1,462 days: the date typed in a number cell is
    named as the agency saw it, and so is a date pasted into a text blank."""
    def date1904(book: bytes) -> bytes:
        return book.replace(b"<sheets>", b'<workbookPr date1904="1"/><sheets>', 1) \
            if b"<workbookPr" not in book else book.replace(b"<workbookPr",
                                                            b'<workbookPr date1904="1"', 1)
    number = first(cellmap, "number", "target")
    result = read_return(edited(good, tmp_path / "n.xlsx", number, "<v>43555</v>", 't="n"', 14,
                                book=date1904))
    message = result.problems[result.problems["code"] == "typed-as-date"]["message_en"].iloc[0]
    assert "01/04/2023" in message  # 31/03/2019 in the 1900 system
    text = first(cellmap, "text")
    result = read_return(edited(good, tmp_path / "t.xlsx", text, "<v>43555</v>", 't="n"', 14,
                                book=date1904))
    assert value_at(result, text) == "01/04/2023"


@pytest.mark.parametrize(("inner", "format_id", "code", "shown"), [
    ("<v>43555</v>", 14, None, "31/03/2019"), ("<v>43555</v>", 71, None, "31/03/2562"),
    ("<v>0.85</v>", 9, None, "85%"), ("<v>0.4375</v>", 170, "h:mm", "10:30"),
])
def test_a_number_pasted_into_a_text_blank_is_read_as_shown(
        good: Path, cellmap: CellMap, tmp_path: Path, inner: str, format_id: int,
        code: str | None, shown: str) -> None:
    """Never the raw serial (43555.0): the text the spreadsheet showed, with a warning."""
    cell = first(cellmap, "text")
    result = read_return(edited(good, tmp_path / "x.xlsx", cell, inner, 't="n"', format_id,
                                code))
    assert value_at(result, cell) == shown
    assert codes_at(result, cell) == ["shown-as-formatted"]
    assert result.state == "ok_with_warnings"


@pytest.mark.parametrize(("field", "inner", "code", "shown"), [
    ("target", "<v>85</v>", ";;;", "nothing"), ("target", "<v>85000</v>", "#,##0,", "thousands"),
    ("target", "<v>85</v>", '"ผ่าน"', "nothing"), ("result_1", "<v>-5</v>", "0;0", "minus"),
    ("result_1", "<v>0</v>", "0;-0;;@", "nothing"),
])
def test_a_format_that_shows_another_number_is_an_error(
        good: Path, cellmap: CellMap, tmp_path: Path, field: str, inner: str, code: str,
        shown: str) -> None:
    cell = first(cellmap, "number", field)
    result = read_return(edited(good, tmp_path / "h.xlsx", cell, inner, 't="n"', 172, code))
    assert codes_at(result, cell) == ["format-hides-value"]
    message = result.problems[result.problems["code"] == "format-hides-value"]["message_en"]
    assert shown in message.iloc[0]


def test_a_format_that_hides_a_text_is_an_error(good: Path, cellmap: CellMap,
                                                 tmp_path: Path) -> None:
    cell = first(cellmap, "text")
    result = read_return(edited(good, tmp_path / "t.xlsx", cell, "<is><t>คำตอบ</t></is>",
                                't="inlineStr"', 173, ";;;"))
    assert codes_at(result, cell) == ["format-hides-value"]


def test_a_sheet_that_hides_zeros_hides_a_typed_zero(good: Path, cellmap: CellMap,
                                                     tmp_path: Path) -> None:
    cell = first(cellmap, "number", "result_1")
    result = read_return(edited(
        good, tmp_path / "z.xlsx", cell, "<v>0</v>", 't="n"',
        sheet=lambda data: re.sub(rb"<sheetView\b", b'<sheetView showZeros="0"', data,
                                  count=1)))
    assert codes_at(result, cell) == ["format-hides-value"]


def test_a_style_that_does_not_exist_is_an_error(good: Path, cellmap: CellMap,
                                                 tmp_path: Path) -> None:
    cell = first(cellmap, "number", "target")
    for style in ("999", "x", "9" * 5000):
        result = read_return(edited(good, tmp_path / "s.xlsx", cell, "<v>85</v>",
                                    f's="{style}"'))
        assert codes_at(result, cell) == ["unknown-style"], style


@pytest.mark.parametrize(("text", "number"), [
    ("10²", None), ("⁵", None), ("１２", None), ("١٢", None), ("①", None), ("12½", None),
    ("๘๕", 85.0), ("1,234.5", 1234.5), (" 72 ", 72.0), ("−3", -3.0),
])
def test_only_ascii_and_thai_digits_make_numbers(text: str, number: float | None) -> None:
    assert parse_number(text) == number


def test_a_stored_number_python_reads_and_excel_does_not_stays_text(
        good: Path, cellmap: CellMap, tmp_path: Path) -> None:
    cell = first(cellmap, "number", "target")
    for stored in ("1_000", "١٢"):
        result = read_return(edited(good, tmp_path / "v.xlsx", cell, f"<v>{stored}</v>",
                                    't="n"'))
        assert codes_at(result, cell) == ["not-a-number"] and value_at(result, cell) == stored


# -- the package read as Excel reads it -----------------------------------------------------


def test_parts_are_found_through_relationships_whatever_their_names(
        good: Path, layout: Layout, cellmap: CellMap, tmp_path: Path) -> None:
    """Workbook, styles and sheets renamed (letter case too), decoys at the usual names: the
    same answers, cell for cell, as the original."""
    target = tmp_path / "renamed.xlsx"
    corpus.READER_BUILDERS["parts-renamed.xlsx"](good, target, layout, cellmap, tmp_path)
    with zipfile.ZipFile(target) as package:
        assert "xl/Book.XML" in package.namelist() and "xl/styles.xml" in package.namelist()
    original, renamed = read_return(good), read_return(target)
    assert renamed.state == "ok", renamed.problems
    pd.testing.assert_frame_equal(original.answers.drop(columns="file"),
                                  renamed.answers.drop(columns="file"))


def test_shared_strings_and_styles_under_any_name(tmp_path: Path) -> None:
    sheet = sheet_xml('<row r="1"><c r="A1" t="s" s="1"><v>0</v></c><c r="B1" s="1"><v>0.5</v>'
                      "</c></row>")
    shared = (f'<sst xmlns="{corpus.MAIN_NS.decode()}"><si><t>ข้อความ</t><rPh sb="0" eb="1">'
              "<t>hint</t></rPh></si></sst>")
    styles = (f'<styleSheet xmlns="{corpus.MAIN_NS.decode()}"><cellXfs><xf numFmtId="0"/>'
              '<xf numFmtId="9"/></cellXfs></styleSheet>')
    path = make_package(tmp_path / "any.xlsx", [("S", sheet)], shared=shared, styles=styles,
                        names={"shared": "xl/Strings/Texts.XML", "styles": "xl/LOOK.xml",
                               "workbook": "data/book.xml"})
    with xlsxread.open_package(path) as package:
        cells = package.read_cells(package.sheets[0]).cells
        assert cells[(0, 0)].value == "ข้อความ"  # the phonetic hint left out
        assert package.number_formats() == ["General", "0%"]


def _zip(entries: list[tuple[bytes, bytes]], central: list[tuple[bytes, int, int]] | None = None,
         ) -> bytes:
    """A stored (uncompressed) zip written by hand: ``entries`` as (name, data), and a central
    directory naming (name, entry index, local offset override or -1)."""
    import zlib

    out = bytearray()
    offsets, records = [], []
    for name, data in entries:
        offsets.append(len(out))
        crc = zlib.crc32(data)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, len(data),
                           len(data), len(name), 0) + name + data
        records.append((name, crc, len(data)))
    directory = bytearray()
    listed = central or [(name, i, -1) for i, (name, _) in enumerate(entries)]
    for name, index, offset in listed:
        _, crc, size = records[index]
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, crc, size,
                                 size, len(name), 0, 0, 0, 0, 0,
                                 offsets[index] if offset < 0 else offset) + name
    start = len(out)
    out += directory
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(listed), len(listed),
                       len(directory), start, 0)
    return bytes(out)


def test_the_zip_directory_and_its_entries_must_agree(good: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(good) as package:
        parts = [(i.filename.encode(), package.read(i)) for i in package.infolist()]
    plain = tmp_path / "plain.xlsx"
    plain.write_bytes(_zip(parts))
    assert read_return(plain).state == "ok"  # a hand-written zip of the same parts reads
    renamed = [(name, index, -1) for index, (name, _) in enumerate(parts)]
    sheet = next(i for i, (n, _) in enumerate(parts) if n.endswith(b"sheet3.xml"))
    renamed[sheet] = (b"xl/worksheets/sheet9.xml", sheet, -1)  # another name than its entry
    overlapping = [*((n, i, -1) for i, (n, _) in enumerate(parts)),
                   (b"xl/extra.xml", sheet, -1)]  # two names for one entry's data
    for name, data in (("names.xlsx", _zip(parts, renamed)),
                       ("overlap.xlsx", _zip(parts, overlapping))):
        path = tmp_path / name
        path.write_bytes(data)
        result = read_return(path)
        assert result.problems["code"].tolist() == ["damaged-file"], name
        assert "zip" in result.problems["message_en"].iloc[0]


@pytest.mark.parametrize("other", [lambda n: n, str.upper, lambda n: n.replace("xl/", "XL/")])
def test_a_part_named_twice_refuses_the_file(good: Path, tmp_path: Path, other: Any) -> None:
    member = corpus.sheet_part(good, "หมวด 7.2")
    with zipfile.ZipFile(good) as package:
        data = package.read(member)
    path = tmp_path / "twice.xlsx"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corpus.rewrite_zip(good, path, lambda name, old: old, {other(member): data})
    assert read_return(path).problems["code"].tolist() == ["inconsistent-package"]


@pytest.mark.parametrize(("rows", "after"), [
    ('<row r="1"><c r="A1"><v>1</v></c><c r="A1"><v>2</v></c></row>', ""),  # twice
    ('<row r="1"><c r="B1"><v>1</v></c><c r="A1"><v>2</v></c></row>', ""),  # out of order
    ('<row r="2"><c r="A2"><v>1</v></c></row><row r="1"><c r="A1"><v>2</v></c></row>', ""),
    ('<row r="1"><c r="A2"><v>1</v></c></row>', ""),  # the address of another row
    ('<row r="1"><c r="A1"><v>1</v></c></row>',
     f'<extLst><ext uri="x"><c xmlns="{corpus.MAIN_NS.decode()}" r="B1"><v>9</v></c></ext>'
     "</extLst>"),  # a cell where no spreadsheet shows one
    ('<row r="1"><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-'
     'compatibility/2006"><c r="A1"><v>1</v></c></mc:AlternateContent></row>', ""),
    ('<row r="' + "9" * 5000 + '"><c><v>1</v></c></row>', ""),  # a row past any sheet's
    ('<row r="1"><c r="XFE1"><v>1</v></c></row>', ""),  # a column past any sheet's
])
def test_cells_are_read_only_where_excel_reads_them(tmp_path: Path, rows: str,
                                                     after: str) -> None:
    path = make_package(tmp_path / "cells.xlsx", [("S", sheet_xml(rows, after=after))])
    with xlsxread.open_package(path) as package, pytest.raises(xlsxread.FileRefused) as info:
        package.read_cells(package.sheets[0])
    assert info.value.code == "inconsistent-package"


def test_shared_strings_with_a_text_outside_any_string_are_refused(tmp_path: Path) -> None:
    ns = corpus.MAIN_NS.decode()
    for shared in (f'<sst xmlns="{ns}"><si><t>a</t><x><t>b</t></x></si></sst>',
                   f'<sst xmlns="{ns}"><foo/><si><t>a</t></si></sst>'):
        path = make_package(tmp_path / "sst.xlsx", [("S", sheet_xml(
            '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'))], shared=shared)
        with xlsxread.open_package(path) as package, \
                pytest.raises(xlsxread.FileRefused) as info:
            package.read_cells(package.sheets[0])
        assert info.value.code == "inconsistent-package"


@pytest.mark.parametrize("change", [
    # a sheet's relationship to another sheet's part
    lambda rels: rels.replace(b'Target="worksheets/sheet1.xml"', b'Target="worksheets/'
                              b'sheet2.xml"'),
    # to a part outside the package
    lambda rels: rels.replace(b'Target="worksheets/sheet1.xml"', b'Target="http://example.'
                              b'invalid/s.xml" TargetMode="External"'),
    # two workbooks' worth of shared strings
    lambda rels: rels.replace(b"</Relationships>", b'<Relationship Id="rX" Type="http://'
                              b"schemas.openxmlformats.org/officeDocument/2006/relationships/"
                              b'sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
    # the styles' relationship to a worksheet
    lambda rels: rels.replace(b'Target="styles.xml"', b'Target="worksheets/sheet1.xml"'),
])
def test_a_relationship_to_the_wrong_part_is_refused(tmp_path: Path, change: Any) -> None:
    ns = corpus.MAIN_NS.decode()
    sheets = [("A", sheet_xml('<row r="1"><c r="A1"><v>1</v></c></row>')),
              ("B", sheet_xml('<row r="1"><c r="A1"><v>2</v></c></row>'))]
    path = make_package(tmp_path / "rel.xlsx", sheets,
                        shared=f'<sst xmlns="{ns}"><si><t>x</t></si></sst>',
                        styles=f'<styleSheet xmlns="{ns}"><cellXfs><xf numFmtId="0"/>'
                               "</cellXfs></styleSheet>")
    forged = tmp_path / "forged.xlsx"
    corpus.rewrite_zip(path, forged, lambda name, data: change(data)
                       if name == "xl/_rels/workbook.xml.rels" else data)
    with pytest.raises(xlsxread.FileRefused) as info:
        with xlsxread.open_package(forged) as package:
            package.read_cells(package.sheets[0])
    assert info.value.code == "inconsistent-package"


def test_a_picture_in_a_cell_is_not_its_value(good: Path, cellmap: CellMap,
                                              tmp_path: Path) -> None:
    cell = first(cellmap, "number", "target")
    result = read_return(edited(good, tmp_path / "r.xlsx", cell, "<v>#VALUE!</v>",
                                't="e" vm="1"'))
    assert codes_at(result, cell) == ["rich-value"]


def test_hidden_rows_and_columns_are_pointed_out(good: Path, cellmap: CellMap,
                                                 tmp_path: Path) -> None:
    cell = first(cellmap, "text")
    row = str(cell.row + 1).encode()
    path = edited(good, tmp_path / "h.xlsx", cell, "<is><t>ซ่อนไว้</t></is>", 't="inlineStr"',
                  sheet=lambda d: re.sub(rb'<row r="' + row + rb'"', lambda m: m.group() +
                                         b' hidden="1"', d, count=1))
    result = read_return(path)
    assert codes_at(result, cell) == ["hidden-input"] and result.state == "ok_with_warnings"
    assert value_at(result, cell) == "ซ่อนไว้"  # read all the same
    column = f'<col min="{cell.col + 1}" max="{cell.col + 1}" width="0" customWidth="1"/>'
    path = edited(good, tmp_path / "c.xlsx", cell, "<is><t>ซ่อนไว้</t></is>", 't="inlineStr"',
                  sheet=lambda d: re.sub(rb"<cols>", b"<cols>" + column.encode(), d, count=1))
    assert codes_at(read_return(path), cell) == ["hidden-input"]


def test_shapes_and_conditional_number_formats_over_the_form(
        good: Path, layout: Layout, cellmap: CellMap, tmp_path: Path) -> None:
    for name, code, state in (("drawing.xlsx", "drawing-over-form", "ok_with_warnings"),
                              ("conditional-number-format.xlsx", "conditional-number-format",
                               "rejected")):
        target = tmp_path / name
        corpus.READER_BUILDERS[name](good, target, layout, cellmap, tmp_path)
        result = read_return(target)
        # the number format is in the workbook's shared styles: every sheet with conditional
        # formats (both form sheets, whose checks are conditional formats) may show it
        sheets = ["หมวด 3", "หมวด 7.2"] if code == "conditional-number-format" else [None]
        assert result.problems["code"].tolist() == [code] * len(sheets)
        if code == "conditional-number-format":
            assert result.problems["sheet"].tolist() == sheets
        assert result.state == state


# -- text and numbers no file should hold ---------------------------------------------------


def test_escapes_decode_to_text_a_file_can_hold() -> None:
    assert xlsxread.unescape("_xD83D__xDE00_") == "\U0001f600"  # an escaped pair: one emoji
    assert xlsxread.unescape("a_xD800_b") == "a\ufffdb"  # a lone surrogate: U+FFFD
    assert xlsxread.unescape("_xDC00__xD800_") == "\ufffd\ufffd"  # a pair the wrong way round
    assert xlsxread.unescape("_x005F_xD800_") == "_xD800_"  # an escaped escape stays literal
    for text in ("_xD800_", "x_xDFFF_", "_xD83D_"):
        xlsxread.unescape(text).encode("utf-8")  # never a string that cannot be written


def test_a_lone_surrogate_in_an_answer_is_located_and_written(good: Path, cellmap: CellMap,
                                                              tmp_path: Path) -> None:
    cell = first(cellmap, "text")
    result = read_return(edited(good, tmp_path / "s.xlsx", cell, "<is><t>ก_xD800_ข</t></is>",
                                't="inlineStr"'))
    assert value_at(result, cell) == "ก\ufffdข"
    assert codes_at(result, cell) == ["lost-character"]
    result.answers.to_csv(tmp_path / "a.csv")  # writes, as UTF-8


def test_huge_numbers_where_an_index_is_expected_never_raise(tmp_path: Path) -> None:
    big = "9" * 5000
    ns = corpus.MAIN_NS.decode()
    sheet = sheet_xml(f'<row r="1"><c r="A1" t="s" s="{big}"><v>{big}</v></c>'
                      f'<c r="B1"><v>{big}</v></c></row>')
    styles = (f'<styleSheet xmlns="{ns}"><numFmts><numFmt numFmtId="{big}" formatCode="0%"/>'
              f'</numFmts><cellXfs><xf numFmtId="{big}"/></cellXfs></styleSheet>')
    path = make_package(tmp_path / "big.xlsx", [("S", sheet)], styles=styles,
                        shared=f'<sst xmlns="{ns}"><si><t>x</t></si></sst>')
    with xlsxread.open_package(path) as package:
        cells = package.read_cells(package.sheets[0]).cells
        assert package.number_formats() == ["General"]
    assert cells[(0, 0)].value == xlsxread.ErrorValue("#REF-STRING")
    assert cells[(0, 0)].style == xlsxread.UNKNOWN_STYLE
    assert cells[(0, 1)].value == float("inf")


def test_document_properties_are_capped(good: Path, layout: Layout, cellmap: CellMap,
                                        tmp_path: Path) -> None:
    target = tmp_path / "props.xlsx"
    corpus.READER_BUILDERS["docprops-oversized.xlsx"](good, target, layout, cellmap, tmp_path)
    result = read_return(target)
    assert result.problems["code"].tolist() == ["unreadable-properties"]
    assert result.identity.modified is None


def test_metadata_values_are_capped(good: Path, tmp_path: Path) -> None:
    member = corpus.sheet_part(good, "_meta")
    path = corpus.rewrite_zip(good, tmp_path / "meta.xlsx", lambda name, data: re.sub(
        rb'(<c r="B8"[^>]*>)<is><t>[^<]*</t></is>', lambda m: m.group(1) + b"<is><t>" +
        b"2026-11-24T09:00:00+00:00" * 1000 + b"</t></is>", data) if name == member else data)
    result = read_return(path)
    assert len(result.identity.generated_at or "") <= 256


# -- what costs time is bounded -------------------------------------------------------------


def test_markup_beyond_any_return_is_refused_before_it_is_parsed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A part with more markup than MAX_MARKUP is refused from a count of its bytes: lxml
    never builds its tree (parsing and walking are what cost time)."""
    rows = "".join(f'<row r="{r}">' + "".join(f'<c r="{c}{r}" s="1"/>' for c in "ABCD")
                   + "</row>" for r in range(1, 25_001))
    path = make_package(tmp_path / "blanks.xlsx", [("S", sheet_xml(rows))])
    parsed: list[str] = []
    real = xlsxread._parse  # noqa: SLF001

    def counting(data: bytes, member: str) -> Any:
        parsed.append(member)
        return real(data, member)
    monkeypatch.setattr(xlsxread, "_parse", counting)
    with xlsxread.open_package(path) as package, pytest.raises(xlsxread.FileRefused) as info:
        package.read_cells(package.sheets[0])
    assert info.value.code == "too-large" and "xl/worksheets/sheet1.xml" not in parsed
    assert rows.count("<") > xlsxread.MAX_MARKUP


def test_markup_is_bounded_across_the_package(tmp_path: Path) -> None:
    """Each part under the limit, together over it: refused all the same."""
    per_sheet = xlsxread.MAX_MARKUP // 5 * 2  # 40% of the part limit, in '<'
    rows = "".join(f'<row r="{r}"><c r="A{r}" s="1"/></row>' for r in range(1, per_sheet // 3))
    sheets = [(f"S{i}", sheet_xml(rows)) for i in range(8)]
    path = make_package(tmp_path / "many.xlsx", sheets)
    with xlsxread.open_package(path) as package, pytest.raises(xlsxread.FileRefused) as info:
        for sheet in package.sheets:
            package.read_cells(sheet)
    assert info.value.code == "too-large"
