"""A review of the reader, as an attacker: files where the value counted differed from what
Excel or LibreOffice shows with no problem reported, legitimate files refused, and files within
every limit that cost far more to read than a return. Each test holds one class of finding
(the rule is in numfmt.py, xlsxread.py or read/), with the case that showed it.

What LibreOffice shows was measured by opening each package in LibreOffice 7.4 (its display
strings, through a CSV export "as shown"); the tests marked ``libreoffice`` measure it again.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from xlsxwriter.utility import xl_rowcol_to_cell

from pmqa_xlsx import read_return, xlsxread
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.numfmt import shows_as, shows_text
from pmqa_xlsx.roster import Agency

from . import corpus
from .package import MAIN, add_style, make_package, set_cell, sheet_xml
from .test_package import codes_at, edited, first, value_at

AGENCY = Agency(code="03011", name="กรมทดสอบการทบทวน", ministry="กระทรวงทดสอบ")


@pytest.fixture(scope="module")
def good(layout: Layout, cellmap: CellMap, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("review")
    return corpus.good_return(layout, cellmap, AGENCY, work, work / "03011.xlsx")


def sheet_edit(good: Path, target: Path, sheet_name: str,
               change: Any, styles: Any = None) -> Path:
    """The good return with one sheet's XML (and optionally the styles) passed through a
    function."""
    member = corpus.sheet_part(good, sheet_name)

    def edit(name: str, data: bytes) -> bytes:
        if name == member:
            return change(data)
        if name == "xl/styles.xml" and styles is not None:
            return styles(data)
        return data
    return corpus.rewrite_zip(good, target, edit)


# -- 1. number formats: what a number shows as -----------------------------------------------

@pytest.mark.parametrize(("code", "value"), [
    ("[<0]0;0", -5), ("[>=0]0;0", -5), ("[>100]0;[<0]0;0.0", -5),
])
def test_a_conditional_format_may_drop_a_minus(code: str, value: float) -> None:
    """LibreOffice shows -5 as "5" under these: the conditions choose a section that adds no
    sign. (Counted -5, shown 5, nothing said: before, every numeric section was only asked
    whether it shows digits.)"""
    assert shows_as(code, value) == "unsigned"


@pytest.mark.parametrize("code", ['-0', '(0)', '"-"0', '\\-0', '0-', '*-0', '[Red]-#,##0'])
def test_a_positive_number_that_looks_negative_is_not_shown_as_itself(code: str) -> None:
    """5 under "-0" shows "-5" (and "(5)", "5-"): the agency saw a negative number."""
    assert shows_as(code, 5) == "signed"


@pytest.mark.parametrize(("code", "value"), [("#,###", 0), ("#", 0.3), ("#.##", 0.004),
                                             ("#,###", 0.4), ("?", 0)])
def test_placeholders_without_a_zero_show_nothing_near_zero(code: str, value: float) -> None:
    """"#,###" shows nothing for 0, as a sheet that hides zeros does (which was caught)."""
    assert shows_as(code, value) == "hidden"


@pytest.mark.parametrize(("code", "value"), [
    ("#,###", 5), ("#.##", 0.3), ("# ?/?", 0), ("0;-0", -5), ("#,##0.00_);\\(#,##0.00\\)", -5),
    ("_-* #,##0.00_-;\\-* #,##0.00_-;_-* \"-\"??_-;_-@_-", 0),
    ("_-* #,##0.00_-;\\-* #,##0.00_-;_-* \"-\"??_-;_-@_-", 5),
    ("_-[$฿-41E]* #,##0.00_-;\\-[$฿-41E]* #,##0.00_-;_-[$฿-41E]* \"-\"??_-;_-@_-", 0),
    ("[$฿-41E]#,##0.00;[RED]\\-[$฿-41E]#,##0.00", -5), ("0.00_-", 5), ("0.00*-", 5),
    ("[<=9999999]###-####;(###) ###-####", 0), ("0;@", -5), ("0;0;@", 0), ("@", -5),
])
def test_formats_excel_and_libreoffice_write_still_show_numbers_as_themselves(
        code: str, value: float) -> None:
    """Thai and European accounting formats (a zero as a dash, with a currency sign), a text
    section that is the last: no false alarm."""
    assert shows_as(code, value) == "number"


@pytest.mark.parametrize(("code", "value", "verdict"), [
    ("@;0", 5, "hidden"), ("0;@;0", -5, "hidden"), ("0;@", -5, "number"),
])
def test_only_a_last_section_with_text_is_the_text_section(code: str, value: float,
                                                           verdict: str) -> None:
    """LibreOffice: "0;@" shows -5 as -5 (the @ section is for text), "@;0" shows 5 as
    nothing and "0;@;0" shows -5 as nothing (the @ section is a numeric one)."""
    assert shows_as(code, value) == verdict


def test_a_code_longer_than_excel_allows_is_not_lexed() -> None:
    long = "0" + " " * 300 + "%"
    assert shows_as(long, 0.85) == "unchecked" and not shows_text(long)
    assert shows_as("0" + " " * 200 + "%", 0.85) == "percent"


def _lo_shown(soffice: str, path: Path, out: Path) -> list[str]:
    """Column A of the first sheet as LibreOffice shows it (a CSV export "as shown")."""
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless",
                        "--norestore", "--nologo", "--nodefault", "--nolockcheck",
                        "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,"
                        "true,true", "--outdir", str(out), str(path)],
                       capture_output=True, timeout=180, check=True)
    with (out / (path.stem + ".csv")).open(encoding="utf-8", newline="") as handle:
        return [row[0] if row else "" for row in csv.reader(handle)]


@pytest.mark.libreoffice
def test_libreoffice_shows_what_the_verdicts_say(soffice: str, tmp_path: Path) -> None:
    """Each (code, value): where the reader says "number", LibreOffice shows the number with
    its sign; where it says otherwise, LibreOffice does not."""
    cases = [("[<0]0;0", -5, "5"), ("[>=0]0;0", -5, "5"), ("-0", 5, "-5"), ("(0)", 5, "(5)"),
             ("0-", 5, "5-"), ("#,###", 0, ""), ("#", 0.3, ""), ("0;@", -5, "-5"),
             ("0;0;@", 0, "0"), ("@;0", 5, ""), ("#,##0.00_);\\(#,##0.00\\)", -5, "(5.00)"),
             ("[$฿-41E]#,##0.00;[RED]\\-[$฿-41E]#,##0.00", -5, "-฿5.00")]
    formats = "".join(f'<numFmt numFmtId="{200 + i}" formatCode="{_attr(code)}"/>'
                      for i, (code, _, _) in enumerate(cases))
    xfs = '<xf numFmtId="0"/>' + "".join(f'<xf numFmtId="{200 + i}" applyNumberFormat="1"/>'
                                         for i in range(len(cases)))
    rows = "".join(f'<row r="{i + 1}"><c r="A{i + 1}" s="{i + 1}"><v>{value}</v></c></row>'
                   for i, (_, value, _) in enumerate(cases))
    path = make_package(tmp_path / "formats.xlsx", [("S", sheet_xml(rows))],
                        styles=_styles(f"<numFmts>{formats}</numFmts>", xfs))
    shown = _lo_shown(soffice, path, tmp_path / "csv")
    for (code, value, expected), seen in zip(cases, shown, strict=False):
        assert seen.strip() == expected, (code, value, seen)
        assert (shows_as(code, value) == "number") == (_as_number(seen) == value), (code, seen)


def _as_number(shown: str) -> float | None:
    """A number as a person reads it off the screen: -5, (5.00), -฿5.00; else None."""
    text = shown.strip().replace(",", "").replace("฿", "")
    if text.startswith("(") and text.endswith(")"):
        text = "-" + text[1:-1]
    try:
        return float(text)
    except ValueError:
        return None


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _styles(numfmts: str = "", xfs: str = '<xf numFmtId="0"/>', extra: str = "") -> str:
    return (f'<?xml version="1.0"?><styleSheet xmlns="{MAIN}">{numfmts}<fonts count="1"><font/>'
            '</fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders>'
            f'<cellStyleXfs><xf numFmtId="0"/></cellStyleXfs><cellXfs>{xfs}</cellXfs>{extra}'
            "</styleSheet>")


# -- 2. number formats in returns ------------------------------------------------------------

@pytest.mark.parametrize(("field", "inner", "code"), [
    ("result_1", "<v>-5</v>", "[<0]0;0"), ("result_1", "<v>5</v>", "-0"),
    ("result_1", "<v>0</v>", "#,###"), ("target", "<v>85</v>", "0" + " " * 300),
])
def test_a_number_its_format_misshows_is_an_error_in_a_return(
        good: Path, cellmap: CellMap, tmp_path: Path, field: str, inner: str,
        code: str) -> None:
    cell = first(cellmap, "number", field)
    result = read_return(edited(good, tmp_path / "f.xlsx", cell, inner, 't="n"', 180, code))
    assert codes_at(result, cell) == ["format-hides-value"]


def test_thousands_of_long_format_codes_cost_no_more_than_a_few(
        good: Path, cellmap: CellMap, tmp_path: Path) -> None:
    """15,000 distinct 250-character codes took 19 s to lex, each one, used or not. Only the
    styles of input cells are classified, and only MAX_FORMAT_CHARS characters of distinct
    codes per workbook: beyond, a style is unchecked (flagged), in the order of the inputs."""
    numbers = [c for c in cellmap.inputs() if c.kind == "number"][:100]
    with zipfile.ZipFile(good) as package:
        styles = package.read("xl/styles.xml")
    indices = []
    for i in range(len(numbers)):
        styles, index = add_style(styles, 300 + i, f"0.00{' ' * 240}{'_)' * 4}{i:03d}")
        indices.append(index)
    members = {c.sheet: corpus.sheet_part(good, c.sheet) for c in numbers}

    def change(name: str, data: bytes) -> bytes:
        if name == "xl/styles.xml":
            return styles
        for cell, index in zip(numbers, indices, strict=True):
            if members[cell.sheet] == name:
                data = set_cell(data, cell.ref, "<v>85</v>", f's="{index}"')
        return data
    result = read_return(corpus.rewrite_zip(good, tmp_path / "codes.xlsx", change))
    flagged = [c for c in numbers if codes_at(result, c) == ["format-hides-value"]]
    budget = read_module_budget()
    lexed = budget // 255
    assert len(flagged) == len(numbers) - lexed
    assert flagged == numbers[lexed:]  # the first inputs' codes were read, in order


def read_module_budget() -> int:
    from pmqa_xlsx import read

    return read.MAX_FORMAT_CHARS


def test_a_plain_number_in_the_date_blank_is_read_as_shown(good: Path, cellmap: CellMap,
                                                          tmp_path: Path) -> None:
    """43555 under General (or @) shows 43555; it was counted as 31/03/2019 with no
    warning. A date format still makes it the date shown."""
    cell = next(c for c in cellmap.inputs() if c.field_id == "date")
    result = read_return(edited(good, tmp_path / "d.xlsx", cell, "<v>43555</v>", 't="n"'))
    assert value_at(result, cell) == "43555" and codes_at(result, cell) == []
    result = read_return(edited(good, tmp_path / "e.xlsx", cell, "<v>43555</v>", 't="n"', 14))
    assert value_at(result, cell) == "31/03/2019"


# -- 3. the package read as spreadsheets read it ---------------------------------------------

@pytest.mark.parametrize(("inner", "attrs"), [
    ("<v>1</v><v>2</v>", ""), ("<f>1+1</f><f>2+2</f><v>2</v>", ""),
    ("<is><t>a</t></is><is><t>b</t></is>", 't="inlineStr"'), ("<v>5</v>", 't="x"'),
    ("<v>31/03/2019</v>", 't="d"'), ("<v>0</v><is><t>85</t></is>", 't="inlineStr"'),
])
def test_a_cell_spreadsheets_would_read_differently_refuses_the_file(
        good: Path, cellmap: CellMap, tmp_path: Path, inner: str, attrs: str) -> None:
    """Two values in one cell: the reader counted the first, LibreOffice shows the last. An
    unknown type: counted 5, LibreOffice shows nothing. A value and an inline text: counted
    the text, LibreOffice shows nothing. A t="d" that is no ISO date."""
    cell = first(cellmap, "number", "target")
    result = read_return(edited(good, tmp_path / "c.xlsx", cell, inner, attrs))
    assert result.problems["code"].tolist() == ["inconsistent-package"]


def test_a_shared_string_index_is_ascii_digits(tmp_path: Path) -> None:
    """int() reads "1_0" as 10 and "١" as 1; LibreOffice shows strings 1 and 0."""
    shared = f'<?xml version="1.0"?><sst xmlns="{MAIN}">' + "".join(
        f"<si><t>s{i}</t></si>" for i in range(12)) + "</sst>"
    path = make_package(tmp_path / "s.xlsx", [("S", sheet_xml(
        '<row r="1"><c r="A1" t="s"><v>1_0</v></c><c r="B1" t="s"><v>\u0661</v></c>'
        '<c r="C1" t="s"><v>3</v></c></row>'))], shared=shared)
    with xlsxread.open_package(path) as package:
        cells = package.read_cells(package.sheets[0]).cells
    assert str(cells[(0, 0)].value) == str(cells[(0, 1)].value) == "#REF-STRING"
    assert cells[(0, 2)].value == "s3"


def test_an_iso_date_cell_is_the_serial_a_spreadsheet_shows(good: Path, cellmap: CellMap,
                                                           tmp_path: Path) -> None:
    """t="d": LibreOffice shows 43555 under General; the reader counted the text
    "2019-03-31T00:00:00". Now it is the serial, in the workbook's date system, and a date
    format shows it as a date."""
    cell = first(cellmap, "number", "target")
    result = read_return(edited(good, tmp_path / "d.xlsx", cell, "<v>2019-03-31T00:00:00</v>",
                                't="d"', 14))
    assert codes_at(result, cell) == ["typed-as-date"]
    assert "43555" in result.problems["message_en"].iloc[0]
    text = first(cellmap, "text")
    result = read_return(edited(good, tmp_path / "t.xlsx", text, "<v>2019-03-31</v>", 't="d"'))
    assert value_at(result, text) == 43555.0
    with_1904 = edited(good, tmp_path / "n.xlsx", cell, "<v>2023-04-01</v>", 't="d"', 14,
                       book=lambda b: b.replace(b"<workbookPr", b'<workbookPr date1904="1"', 1))
    assert "43555" in read_return(with_1904).problems["message_en"].iloc[0]


@pytest.mark.parametrize("twice", [
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="0"/></numFmts>',
    '<numFmt numFmtId="164" formatCode="0"/>',
])
def test_styles_given_twice_refuse_the_file(tmp_path: Path, twice: str) -> None:
    """A second numFmts element defining 164 as "0%": LibreOffice showed 85%, the reader
    read the first ("0") and counted 0.85 as a plain number."""
    first_formats = '<numFmts count="1"><numFmt numFmtId="164" formatCode="0%"/>'
    numfmts = (first_formats + "</numFmts>" + twice) if twice.startswith("<numFmts") else \
        (first_formats + twice + "</numFmts>")
    path = make_package(tmp_path / "s.xlsx", [("S", sheet_xml(
        '<row r="1"><c r="A1" s="1"><v>0.85</v></c></row>'))],
        styles=_styles(numfmts, '<xf numFmtId="0"/><xf numFmtId="164"/>'))
    with xlsxread.open_package(path) as package, pytest.raises(xlsxread.FileRefused) as info:
        package.styles()
    assert info.value.code == "inconsistent-package"


def test_the_same_format_given_twice_alike_is_read(tmp_path: Path) -> None:
    numfmts = ('<numFmts count="2"><numFmt numFmtId="164" formatCode="0%"/>'
               '<numFmt numFmtId="164" formatCode="0%"/></numFmts>')
    path = make_package(tmp_path / "s.xlsx", [("S", sheet_xml(""))],
                        styles=_styles(numfmts, '<xf numFmtId="0"/><xf numFmtId="164"/>'))
    with xlsxread.open_package(path) as package:
        assert package.number_formats() == ["General", "0%"]


def test_every_cols_element_hides_columns(good: Path, cellmap: CellMap,
                                          tmp_path: Path) -> None:
    """The schema allows several <cols>; LibreOffice hides column A from the first of two,
    the reader kept only the last, and an answer in a hidden column went unflagged."""
    cell = first(cellmap, "number", "target")
    col = cell.col + 1
    hiding = f'<cols><col min="{col}" max="{col}" width="9" hidden="1"/></cols>' \
             f'<cols><col min="{col + 30}" max="{col + 30}" width="9"/></cols>'.encode()

    def change(data: bytes) -> bytes:
        data = re.sub(rb"<cols>.*?</cols>", b"", data, count=1, flags=re.S)
        return data.replace(b"<sheetData", hiding + b"<sheetData", 1)
    result = read_return(sheet_edit(good, tmp_path / "c.xlsx", cell.sheet, change))
    assert codes_at(result, cell) == ["hidden-input"]


def test_a_row_too_low_to_show_anything_hides_its_answers(good: Path, cellmap: CellMap,
                                                         tmp_path: Path) -> None:
    cell = first(cellmap, "text")
    result = read_return(sheet_edit(
        good, tmp_path / "r.xlsx", cell.sheet,
        lambda data: re.sub(rb'(<row r="' + str(cell.row + 1).encode() + rb'"[^>]*?ht=")[^"]*',
                            lambda m: m.group(1) + b"0.3", data, count=1)))
    assert codes_at(result, cell) == ["hidden-input"]


def test_a_conditional_format_in_a_utf16_sheet_is_seen(good: Path, cellmap: CellMap,
                                                       tmp_path: Path) -> None:
    """The check looked for the bytes "conditionalFormatting", which UTF-16 does not hold."""
    built = corpus.BUILDERS["conditional-number-format.xlsx"]
    plain = tmp_path / "cf.xlsx"
    built(good, plain, None, cellmap, tmp_path)
    cell = first(cellmap, "number")
    member = corpus.sheet_part(plain, cell.sheet)

    def utf16(name: str, data: bytes) -> bytes:
        if name != member:
            return data
        text = data.decode("utf-8")
        text = re.sub(r"^<\?xml[^>]*\?>", "", text)
        return ('<?xml version="1.0" encoding="UTF-16"?>' + text).encode("utf-16")
    result = read_return(corpus.rewrite_zip(plain, tmp_path / "cf16.xlsx", utf16))
    assert "conditional-number-format" in result.problems["code"].tolist()


def test_content_types_compare_without_regard_to_case(tmp_path: Path) -> None:
    """A media type is case-insensitive; LibreOffice reads such a file and the reader
    refused it."""
    path = make_package(tmp_path / "a.xlsx", [("S", sheet_xml(
        '<row r="1"><c r="A1"><v>1</v></c></row>'))])
    upper = corpus.rewrite_zip(path, tmp_path / "b.xlsx", lambda n, d: d.replace(
        b"worksheet+xml", b"Worksheet+XML") if n == "[Content_Types].xml" else d)
    with xlsxread.open_package(upper) as package:
        assert package.read_cells(package.sheets[0]).cells[(0, 0)].value == 1.0


@pytest.mark.parametrize("target", [b"./worksheets/sheet1.xml", b"Worksheets/Sheet1.xml"])
def test_a_target_spreadsheets_resolve_differently_refuses_the_file(tmp_path: Path,
                                                                     target: bytes) -> None:
    """LibreOffice finds no part at "./worksheets/sheet1.xml", nor at another letter case
    (Excel ignores case): the reader read the sheet LibreOffice shows empty."""
    path = make_package(tmp_path / "a.xlsx", [("S", sheet_xml(
        '<row r="1"><c r="A1"><v>1</v></c></row>'))])
    odd = corpus.rewrite_zip(path, tmp_path / "b.xlsx", lambda n, d: d.replace(
        b'Target="worksheets/sheet1.xml"', b'Target="' + target + b'"')
        if n.endswith("workbook.xml.rels") else d)
    with pytest.raises(xlsxread.FileRefused) as info:
        with xlsxread.open_package(odd) as package:
            package.read_cells(package.sheets[0])
    assert info.value.code == "inconsistent-package"


# -- 4. answers no one sees ------------------------------------------------------------------

def test_an_answer_under_merged_cells_is_pointed_out(good: Path, cellmap: CellMap,
                                                     tmp_path: Path) -> None:
    """Merged D10:E10: a spreadsheet shows D10's value across both, never E10's."""
    cell = first(cellmap, "number", "target")
    left = xl_rowcol_to_cell(cell.row, cell.col - 1)

    def change(data: bytes) -> bytes:
        merge = f'<mergeCell ref="{left}:{cell.ref}"/>'.encode()
        if b"<mergeCells" in data:
            return re.sub(rb"(<mergeCells[^>]*>)", lambda m: m.group(1) + merge, data, count=1)
        return data.replace(b"</sheetData>", b"</sheetData><mergeCells>" + merge +
                            b"</mergeCells>", 1)
    result = read_return(sheet_edit(good, tmp_path / "m.xlsx", cell.sheet, change))
    assert codes_at(result, cell) == ["covered-input"]
    assert result.state == "ok_with_warnings"


@pytest.mark.parametrize("kind", ["array", "&#97;rray", "arr&#x61;y", "dataTable",
                                  "d&#97;taTable"])
def test_an_array_formula_over_inputs_is_a_formula_in_each(good: Path, cellmap: CellMap,
                                                          tmp_path: Path, kind: str) -> None:
    """Only the first cell of an array formula (or a data table) holds <f>; the others hold
    its results, which were counted as typed. However its kind is written: a character
    reference is the same attribute value to every spreadsheet."""
    target = first(cellmap, "number", "target")
    result_1 = first(cellmap, "number", "result_1")
    assert result_1.row == target.row

    def change(data: bytes) -> bytes:
        data = set_cell(data, target.ref, f'<f t="{kind}" ref="{target.ref}:{result_1.ref}">'
                        "{70,80}</f><v>70</v>")
        return set_cell(data, result_1.ref, "<v>80</v>")
    result = read_return(sheet_edit(good, tmp_path / "a.xlsx", target.sheet, change))
    assert codes_at(result, target) == ["formula-in-input"]
    assert codes_at(result, result_1) == ["formula-in-input"]


def test_answers_on_a_hidden_sheet_are_pointed_out(good: Path, cellmap: CellMap,
                                                   tmp_path: Path) -> None:
    sheet = first(cellmap, "text").sheet
    hidden = corpus.rewrite_zip(good, tmp_path / "h.xlsx", lambda n, d: re.sub(
        rb'(<sheet [^>]*name="' + sheet.encode() + rb'"[^>]*state=")visible', lambda m:
        m.group(1) + b"hidden", d) if n == "xl/workbook.xml" else d)
    result = read_return(hidden)
    found = result.problems[result.problems["code"] == "hidden-sheet"]
    assert found["sheet"].tolist() == [sheet] and result.state == "ok_with_warnings"


# -- 5. what costs time ----------------------------------------------------------------------

def test_a_text_s_length_is_what_it_shows(good: Path, cellmap: CellMap,
                                          tmp_path: Path) -> None:
    """30,000 characters with 1,000 line ends written as _x000D_ are 36,000 in the file:
    not too long (it was refused as 36,000 characters)."""
    cell = first(cellmap, "text")
    text = ("ก" * 29 + "_x000D_") * 1000
    result = read_return(edited(good, tmp_path / "t.xlsx", cell, f"<is><t>{text}</t></is>",
                                't="inlineStr"'))
    assert codes_at(result, cell) == []
    assert len(value_at(result, cell)) == 30_000


@pytest.mark.parametrize("declaration", ["<!DOCTYPE worksheet>", '<!ENTITY e "x">'])
@pytest.mark.parametrize("size", ["small", "large"])
def test_a_doctype_or_entity_refuses_a_part_of_any_size(tmp_path: Path, declaration: str,
                                                         size: str) -> None:
    """A large part is first searched for "<!" (by numpy's count), then for the declarations;
    a small one by bytes' search: either way the part is refused."""
    rows = '<row r="1"><c r="A1"><v>1</v></c></row>'
    if size == "large":
        rows += "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>'
                        for r in range(2, 2 + xlsxread._NUMPY_FROM // 30))
    xml = sheet_xml(rows).replace("<worksheet ", declaration + "<worksheet ", 1)
    assert (len(xml) >= xlsxread._NUMPY_FROM) == (size == "large")
    path = make_package(tmp_path / "d.xlsx", [("S", xml)])
    with xlsxread.open_package(path) as package, pytest.raises(xlsxread.FileRefused) as info:
        package.read_cells(package.sheets[0])
    assert info.value.code == "xml-doctype"


@pytest.mark.parametrize("attack", ["attributes", "namespaces", "escapes", "bytes"])
def test_what_costs_time_without_elements_is_bounded(tmp_path: Path, attack: str) -> None:
    """Within the element limit, these each cost 50 to 250 times a return to read:
    800,000 attributes on one element, 300,000 namespace declarations, 2 million _xHHHH_
    escapes, 96 MB of whitespace. Now refused before parsing."""
    if attack == "attributes":
        filler = " ".join(f'a{i}="1"' for i in range(xlsxread.MAX_ATTRIBUTES + 10))
        rows = f'<row r="1" {filler}><c r="A1"><v>1</v></c></row>'
    elif attack == "namespaces":
        filler = " ".join(f'xmlns:n{i}="u"' for i in range(xlsxread.MAX_NAMESPACES + 10))
        rows = f'<row r="1" {filler}><c r="A1"><v>1</v></c></row>'
    elif attack == "escapes":
        rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>' + "_x0E01_" * 4000 +
                       "</t></is></c></row>"
                       for r in range(1, xlsxread.MAX_ESCAPES // 4000 + 3))
    else:  # whitespace that does not compress well (a bomb's ratio is caught already)
        blanks = bytes.maketrans(bytes(range(256)), b" \t\r\n" * 64)
        rows = '<row r="1"><c r="A1"><v>1</v></c></row>' + os.urandom(
            xlsxread.MAX_READ_BYTES + 10).translate(blanks).decode()
    path = make_package(tmp_path / f"{attack}.xlsx", [("S", sheet_xml(rows))])
    with xlsxread.open_package(path) as package, pytest.raises(xlsxread.FileRefused) as info:
        package.read_cells(package.sheets[0])
    assert info.value.code in ("too-large", "zip-bomb")


@pytest.mark.parametrize("twice", ['<workbookPr date1904="0"/><workbookPr date1904="1"/>',
                                   '<sheets/>'])
def test_a_workbook_setting_given_twice_refuses_the_file(tmp_path: Path, twice: str) -> None:
    """Two workbookPr: LibreOffice takes the 1904 system from the second, the reader took the
    first; two sheets lists: LibreOffice shows the sheets of both."""
    path = make_package(tmp_path / "w.xlsx", [("S", sheet_xml(""))], workbook_pr=twice)
    with pytest.raises(xlsxread.FileRefused) as info:
        xlsxread.open_package(path)
    assert info.value.code == "inconsistent-package"


@pytest.mark.parametrize("setting", ["sheetViews", "sheetFormatPr", "mergeCells", "dimension"])
def test_a_sheet_setting_given_twice_refuses_the_file_in_words(tmp_path: Path,
                                                               setting: str) -> None:
    """Two sheetViews (or any setting the schema allows once): spreadsheets differ on which
    one they apply. The refusal named the setting with a plain text where a Thai and English
    message was expected, and the reader failed with an AttributeError instead."""
    element = {"sheetViews": '<sheetViews><sheetView workbookViewId="0"/></sheetViews>',
               "sheetFormatPr": '<sheetFormatPr defaultRowHeight="15"/>',
               "mergeCells": '<mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells>',
               "dimension": '<dimension ref="A1"/>'}[setting]
    before, after = (element * 2, "") if setting != "mergeCells" else ("", element * 2)
    path = make_package(tmp_path / "s.xlsx", [("S", sheet_xml(
        '<row r="1"><c r="A1"><v>1</v></c></row>', before=before, after=after))])
    with xlsxread.open_package(path) as package, pytest.raises(xlsxread.FileRefused) as info:
        package.read_cells(package.sheets[0])
    assert info.value.code == "inconsistent-package"
    assert f"<{setting}>" in info.value.message.th
    assert f"two {setting} elements" in info.value.message.en


@pytest.mark.parametrize(("runs", "codes"), [
    ('<r><t>10</t></r><r><rPr><vertAlign val="superscript"/></rPr><t>2</t></r>',
     ["format-hides-value"]),
    ('<r><t>8</t></r><r><rPr><strike/></rPr><t>5</t></r>', ["format-hides-value"]),
    # bold digits show 85, but as text: not counted, as the workbook's formulas do not
    ('<r><rPr><b/></rPr><t>8</t></r><r><t>5</t></r>', ["number-as-text"]),
])
def test_digits_drawn_raised_or_struck_out_are_not_the_number_seen(
        good: Path, cellmap: CellMap, tmp_path: Path, runs: str, codes: list[str]) -> None:
    """"10" and a superscript "2" show 10² but were counted as 102 (the text "10²" in
    Unicode is refused; this is the same thing in rich text)."""
    cell = first(cellmap, "number", "result_1")
    result = read_return(edited(good, tmp_path / "r.xlsx", cell, f"<is>{runs}</is>",
                                't="inlineStr"'))
    assert codes_at(result, cell) == codes


_VML = ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:x="urn:schemas-microsoft-com:office:'
        'excel"><v:shape id="s1" type="#_x0000_t202" style="position:absolute"><x:ClientData '
        'ObjectType="{kind}"><x:Row>4</x:Row><x:Column>5</x:Column>{visible}</x:ClientData>'
        "</v:shape></xml>")


@pytest.mark.parametrize(("kind", "visible", "drawn"), [
    ("Note", "", False), ("Note", "<x:Visible/>", True), ("Text", "", True),
])
def test_legacy_shapes_over_a_sheet_are_pointed_out(good: Path, cellmap: CellMap,
                                                    tmp_path: Path, kind: str, visible: str,
                                                    drawn: bool) -> None:
    """A VML text box, or a note shown open (as LibreOffice saves one), is drawn over the
    cells like a DrawingML shape, which was flagged; a closed note (a red corner) is not."""
    path = corpus.with_sheet_part(good, tmp_path / "v.xlsx", first(cellmap, "text").sheet,
                                  "legacyDrawing", "vmlDrawing", "vmlDrawing1.vml",
                                  _VML.format(kind=kind, visible=visible).encode())
    codes = read_return(path).problems["code"].tolist()
    assert ("drawing-over-form" in codes) == drawn, codes


def test_a_rich_text_is_still_hidden_by_its_format(good: Path, cellmap: CellMap,
                                                   tmp_path: Path) -> None:
    cell = first(cellmap, "text")
    runs = '<r><t>ก</t></r><r><rPr><strike/></rPr><t>ข</t></r>'
    result = read_return(edited(good, tmp_path / "t.xlsx", cell, f"<is>{runs}</is>",
                                't="inlineStr"', 190, ";;;"))
    assert codes_at(result, cell) == ["format-hides-value"]
    assert value_at(result, cell).__class__ is str
