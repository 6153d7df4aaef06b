"""The form displays and prints right: fonts named (never the theme's), every text's rows tall
enough for it (measured with the real font, and in LibreOffice's PDF), answer boxes sized by
the layout, the status column as wide as the longest status, table headers on every page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from pmqa_xlsx import (
    build_cellmap,
    consolidate,
    fontmetrics,
    generate_workbook,
    load_layout,
    read_return,
    textmetrics,
)
from pmqa_xlsx.cellmap import SheetPlan, page_height, status_column_width
from pmqa_xlsx.errors import LayoutError
from pmqa_xlsx.layout import DEFAULT_INPUT_LINES, Layout, layouts_dir, parse_layout
from pmqa_xlsx.libreoffice import convert
from pmqa_xlsx.report import write_workbook
from pmqa_xlsx.roster import Agency
from pmqa_xlsx.styles import font_of

from .fill import fill

FONTS = Path("/usr/share/fonts/truetype/tlwg")
BUNDLED = (layouts_dir() / "pmqa4-2562.yaml").read_text(encoding="utf-8")


def _data() -> dict[str, Any]:
    return yaml.safe_load(BUNDLED)


def _layout(data: dict[str, Any]) -> Layout:
    return parse_layout(yaml.safe_dump(data, allow_unicode=True))


def long_labels() -> Layout:
    """The bundled form with every topic, blank label, fixed text and title three times as
    long, and a longer status."""
    data = _data()
    sheet = data["sheets"][0]
    for section in sheet["sections"]:
        section["title"] = " ".join([section["title"]] * 2)
        for item in section["items"]:
            item["topic"] = " ".join([item["topic"]] * 3)
            for row in item.get("rows", [item]):
                for blank in row.get("blanks", []):
                    blank["label"] = "".join([blank["label"]] * 3)
                if "text" in row:
                    row["text"] = " ".join([row["text"]] * 3)
    data["statuses"][2]["label"] = "มีการดำเนินการครบถ้วนโดยมีรายละเอียดดังต่อไปนี้ทุกข้อ"
    for table in data["sheets"][1]["tables"]:
        table["description"] = " ".join([table["description"]] * 3)
    return _layout(data)


# -- fonts --------------------------------------------------------------------------------------

def _fonts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as package:
        styles = package.read("xl/styles.xml").decode()
    return re.findall(r"<font>.*?</font>", re.search(r"<fonts[^>]*>(.*?)</fonts>", styles,
                                                   re.S).group(1), re.S)


def test_no_font_carries_a_theme_scheme(tmp_path: Path, layout: Layout) -> None:
    """Excel draws a font marked <scheme val="minor"/> in the theme's font (Tahoma for Thai):
    no font of the blank form, an agency's form or the consolidated workbook is marked, and
    every one is named the layout's font."""
    blank, agency = tmp_path / "blank.xlsx", tmp_path / "01001.xlsx"
    generate_workbook(layout, blank)
    generate_workbook(layout, agency, agency=Agency(code="01001", name="กรมทดสอบ",
                                                    ministry="กระทรวงทดสอบ"))
    merged = tmp_path / "merged.xlsx"
    write_workbook(consolidate([agency]), merged, [layout])
    for path in (blank, agency, merged):
        fonts = _fonts(path)
        assert fonts, path
        for font in fonts:
            assert "<scheme" not in font, (path.name, font)
            assert f'<name val="{layout.style.font}"/>' in font, (path.name, font)


# -- the width table is the font's ------------------------------------------------------------

def _font(bold: bool) -> Any:
    from fontTools import ttLib as ttlib  # the test extra has fontTools
    path = FONTS / ("Laksaman-Bold.ttf" if bold else "Laksaman.ttf")
    if not path.exists():
        pytest.fail(f"{path} is missing: apt-get install fonts-thai-tlwg (scripts/setup)")
    return ttlib.TTFont(path)


class RealFont:
    """The text measured with fontTools on the font file itself, wrapped as loosely as a
    spreadsheet may (at spaces, and inside a word at any letter): the fewest lines Excel or
    LibreOffice can show it in."""

    def __init__(self, bold: bool) -> None:
        font = _font(bold)
        self.cmap, self.hmtx = font.getBestCmap(), font["hmtx"]
        self.em = font["head"].unitsPerEm
        os2 = font["OS/2"]
        self.line_em = (os2.usWinAscent + os2.usWinDescent) / self.em

    def units(self, ch: str) -> int:
        if unicodedata.category(ch) == "Mn":
            return 0
        glyph = self.cmap.get(ord(ch))
        return self.hmtx[glyph][0] if glyph else self.em

    def fewest_lines(self, text: str, room_px: float, size: float) -> int:
        scale = size * 96 / 72 / self.em
        total = 0
        for paragraph in text.split("\n"):
            lines, used = 1, 0.0
            for i, word in enumerate(paragraph.split(" ")):
                width = sum(self.units(c) for c in word) * scale
                space = self.units(" ") * scale if i and used else 0.0
                if used + space + width <= room_px:
                    used += space + width
                    continue
                if width <= room_px:  # to the next line, whole
                    lines, used = lines + 1, width
                    continue
                used += space  # broken inside, from where the line is
                for ch in word:
                    w = self.units(ch) * scale
                    if used + w > room_px and used > 0:
                        lines, used = lines + 1, 0.0
                    used += w
            total += lines
        return total


@pytest.mark.parametrize("bold", [False, True])
def test_the_width_table_is_the_fonts(bold: bool) -> None:
    """Every width in the table is Laksaman's advance (combining marks 0), and its units."""
    real = RealFont(bold)
    table = fontmetrics.BOLD if bold else fontmetrics.REGULAR
    assert fontmetrics.UNITS_PER_EM == real.em
    assert len(table) > 200
    for code, width in table.items():
        assert width == real.units(chr(code)), hex(code)
    assert all(table[c] == 0 for c in table if unicodedata.category(chr(c)) == "Mn")


def _rows_of(path: Path, sheet: str) -> dict[int, float]:
    """Row heights (1-based rows) as the workbook stores them; the default for the others."""
    wb = load_workbook(path)
    try:
        ws = wb[sheet]
        default = ws.sheet_format.defaultRowHeight
        out = {r: (d.height if d.height is not None else default)
               for r, d in ws.row_dimensions.items()}
        return {**{r: default for r in range(1, ws.max_row + 1)}, **out}
    finally:
        wb.close()


def _texts(plan: SheetPlan) -> list[tuple[str, int, int, int, int, str]]:
    """(text, first row, last row, first col, last col, format) of every text of the sheet:
    labels, and each dropdown's every choice."""
    out = [(lb.text, lb.row, lb.last_row or lb.row, lb.col, lb.last_col or lb.col, lb.style)
           for lb in plan.labels]
    out += [(choice, c.row, c.row, c.col, c.col, "input") for c in plan.inputs
            for choice in c.choices]
    return out


@pytest.mark.parametrize("which", ["bundled", "long labels"])
def test_every_text_of_the_form_fits_its_rows_in_the_real_font(
        which: str, tmp_path: Path) -> None:
    """For every topic, label, status, section title, header and instruction: its lines
    wrapped at its column width(s) in the real font, at its size and weight, fit the height
    of its row(s) in the workbook written."""
    layout = load_layout() if which == "bundled" else long_labels()
    path = tmp_path / "form.xlsx"
    generate_workbook(layout, path)
    cellmap = build_cellmap(layout)
    fonts = {False: RealFont(False), True: RealFont(True)}
    checked = 0
    for plan in cellmap.sheets:
        heights = _rows_of(path, plan.name)
        for text, first, last, c0, c1, style in _texts(plan):
            size, bold = font_of(style, layout.style)
            # the column as Excel/LibreOffice draw it: stored width x the digit width
            room = textmetrics.text_room(plan.widths[c0:c1 + 1], layout.style.size)
            lines = fonts[bold].fewest_lines(text, room, size)
            need = lines * fonts[bold].line_em * size
            have = sum(heights[r + 1] for r in range(first, last + 1))
            assert have >= need, (plan.name, first + 1, text[:40], lines, have, need)
            checked += 1
    assert checked > 150


def test_a_text_of_many_lines_is_measured_as_many_lines() -> None:
    """The measure itself: a line break, a long word and a long sentence."""
    room = textmetrics.text_room((34.0,), 16)
    assert textmetrics.count_lines("ก\nข\nค", room, 16) == 3
    word = "ก" * 200  # one run of no spaces: about 3 widths of the column
    width = textmetrics.text_width(word, 16)
    assert textmetrics.count_lines(word, room, 16) >= width / room
    assert textmetrics.count_lines("ก", room, 16) == 1
    # bold is wider than regular, and a bigger size wider than a smaller one
    text = "การประเมินความพึงพอใจ"
    assert textmetrics.text_width(text, 16, bold=True) > textmetrics.text_width(text, 16)
    assert textmetrics.text_width(text, 20) > textmetrics.text_width(text, 16)
    assert textmetrics.text_width("ที่", 16) == textmetrics.text_width("ท", 16)


# -- input boxes, the status column ------------------------------------------------------------

def _blank_height(layout: Layout, item: str, field: str) -> float:
    plan = build_cellmap(layout).sheets[1]
    (cell,) = [c for c in plan.inputs if (c.item_id, c.field_id) == (item, field)]
    return plan.heights[cell.row]


def test_answer_boxes_hold_the_layouts_lines() -> None:
    """A blank's box holds style.input_lines lines (3 by default), or its own ``lines``."""
    size = 16
    assert _blank_height(load_layout(), "3.4.4", "method") == \
        textmetrics.lines_height(DEFAULT_INPUT_LINES, size)
    data = _data()
    data["style"]["input_lines"] = 5
    data["sheets"][0]["sections"][3]["items"][3]["blanks"][0]["lines"] = 8
    layout = _layout(data)
    assert _blank_height(layout, "3.4.4", "method") == textmetrics.lines_height(8, size)
    assert _blank_height(layout, "3.4.5", "technology") == textmetrics.lines_height(5, size)


@pytest.mark.parametrize(("where", "value", "message"), [
    ("style", 0, "$.style.input_lines: must be between 1 and 12, found 0"),
    ("style", "3", "$.style.input_lines: must be a whole number, found text '3'"),
    ("blank", 13, "$.sheets[0].sections[3].items[3].blanks[0].lines: must be between 1 and 12, "
                  "found 13"),
])
def test_bad_lines_are_refused_where_they_are(where: str, value: Any, message: str) -> None:
    data = _data()
    if where == "style":
        data["style"]["input_lines"] = value
    else:
        data["sheets"][0]["sections"][3]["items"][3]["blanks"][0]["lines"] = value
    with pytest.raises(LayoutError) as caught:
        _layout(data)
    assert message in caught.value.problems


@pytest.mark.parametrize("which", ["bundled", "long labels"])
def test_the_status_column_fits_the_longest_status_and_its_arrow(which: str) -> None:
    layout = load_layout() if which == "bundled" else long_labels()
    plan = build_cellmap(layout).sheets[1]
    status_col = next(c.col for c in plan.inputs if c.kind == "status")
    room = textmetrics.text_room((plan.widths[status_col],), layout.style.size)
    longest = max(textmetrics.text_width(s.label, layout.style.size) for s in layout.statuses)
    assert room >= longest + 20
    assert plan.widths[status_col] == status_column_width(layout)
    # one line: every status row is as tall as one line at least, never taller for it
    for c in plan.inputs:
        if c.kind == "status":
            assert plan.heights.get(c.row, plan.default_height) >= plan.default_height


# -- printing ----------------------------------------------------------------------------------

def test_long_tables_print_their_headers(tmp_path: Path, layout: Layout) -> None:
    """หมวด 3 repeats its header row on every page; each indicator table starts a page (its
    header at the top) and, measured, fits on it, the sheet's titles repeated above."""
    path = tmp_path / "form.xlsx"
    generate_workbook(layout, path)
    cellmap = build_cellmap(layout)
    wb = load_workbook(path)
    try:
        checklist, indicators = cellmap.sheets[1], cellmap.sheets[2]
        assert wb[checklist.name].print_title_rows == "$3:$3"
        header_row = next(lb.row for lb in checklist.labels if lb.style == "header")
        assert header_row == 2
        ws = wb[indicators.name]
        assert ws.print_title_rows == "$1:$2"
        breaks = [b.id for b in ws.row_breaks.brk]
        titles = [lb.row for lb in indicators.labels if lb.style == "subtitle"
                  and lb.text in {t.title for t in layout.sheets[1].tables}]
        # a break above each table but the first (from the empty row above its title)
        assert breaks == [r - 1 for r in titles[1:]]
    finally:
        wb.close()


def _pages(plan: SheetPlan) -> list[range]:
    edges = [0, *plan.page_breaks, max(lb.last_row or lb.row for lb in plan.labels) + 1]
    return [range(a, b) for a, b in zip(edges, edges[1:], strict=False)]


@pytest.mark.parametrize("which", ["bundled", "long labels"])
def test_no_page_cuts_an_item_or_a_table(which: str) -> None:
    """A merged topic cut by a page's end is cut off on paper: every item of หมวด 3 is on
    one page, every indicator table too, and every page holds what it is given (measured at
    the scale the sheet prints at, its repeated rows on top; the breaks are placed with 5% to
    spare, but the indicator sheet's first page, its titles and a table, fills 99%: LibreOffice
    prints it on one page, see the PDF test)."""
    layout = load_layout() if which == "bundled" else long_labels()
    for plan in build_cellmap(layout).sheets[1:]:
        pages = _pages(plan)
        room = page_height(plan, layout.style.size, fill=1.0)
        repeated = range(plan.repeat_rows[0], plan.repeat_rows[1] + 1)
        for n, page in enumerate(pages):
            rows = [*(repeated if n else ()), *page]
            assert sum(plan.heights.get(r, plan.default_height) for r in rows) <= room, \
                (plan.name, n + 1)
        for lb in plan.labels:
            if lb.last_row is not None:
                assert any(lb.row in p and lb.last_row in p for p in pages), (plan.name, lb)
        if plan.kind == "indicators":  # a page that holds indicator rows shows their header
            inputs = {c.row for c in plan.inputs}
            for page in pages:
                top = min((r for r in page if r in inputs), default=None)
                if top is not None:
                    assert any(lb.style == "header" and lb.row in page and lb.row < top
                               for lb in plan.labels), (plan.name, page)


def test_a_table_taller_than_a_page_repeats_its_header_where_it_is_cut(tmp_path: Path) -> None:
    """A table of 40 rows runs over pages: it is cut between rows, its header written again
    at the top of each next page, and every row still reads back where it was typed."""
    data = _data()
    data["sheets"][1]["rows"] = 40
    layout = _layout(data)
    plan = build_cellmap(layout).sheets[2]
    first_table = [c for c in plan.inputs if c.part == "7.2.1" and c.field_id == "name"]
    assert len(first_table) == 40
    inside = [b for b in plan.page_breaks if first_table[0].row < b <= first_table[-1].row]
    assert len(inside) >= 2
    headers = {lb.row for lb in plan.labels if lb.style == "header"}
    assert all(b in headers and b + 1 in headers for b in inside)
    blank, filled = tmp_path / "blank.xlsx", tmp_path / "filled.xlsx"
    generate_workbook(layout, blank)
    cellmap = build_cellmap(layout)
    typed = fill(cellmap, blank, filled)
    answers = read_return(filled, layouts=[layout]).answers
    read = {(s, c): v for s, c, v in zip(answers["sheet"].astype(str),
                                         answers["cell"].astype(str), answers["value"],
                                         strict=True) if v is not pd.NA}
    assert read == typed



# -- LibreOffice's PDF -------------------------------------------------------------------------

def _pdf_blocks(path: Path, out: Path) -> list[str]:
    """The text blocks of LibreOffice's PDF of ``path`` (pdftotext's, about one a cell), each
    squeezed (``_squeeze``)."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils (scripts/setup)")
    pdf = convert(path, out, "pdf")
    html = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True, timeout=60).stdout
    return [_squeeze("".join(re.findall(r"<word[^>]*>([^<]*)</word>", block)))
            for block in re.findall(r"<block[^>]*>(.*?)</block>", html, re.S)]


def _squeeze(text: str) -> str:
    """The letters of ``text`` that take width, in order: pdftotext detaches Thai vowel and
    tone marks from their letters (even across lines) and adds spaces inside words."""
    text = unicodedata.normalize("NFC", text).replace("&amp;", "&").replace("&lt;", "<")
    return "".join(ch for ch in text.replace("&gt;", ">")
                   if not ch.isspace() and unicodedata.category(ch) != "Mn")


def _ends(text: str, letters: int = 8) -> tuple[str, str]:
    squeezed = _squeeze(text)
    return squeezed[:letters], squeezed[-letters:]


def _unprinted(texts: list[str], blocks: list[str]) -> list[str]:
    """The texts with a paragraph whose first or last letters are not printed: a row too
    short drops a cell's last lines from the PDF. (Not the whole text: pdftotext may split a
    cell's lines into blocks, and put another cell's lines between them.)"""
    printed = "".join(blocks)
    return [t for t in texts for line in t.split("\n")
            if line.strip() and not all(end in printed for end in _ends(line))]


@pytest.mark.libreoffice
def test_libreoffices_pdf_drops_what_a_short_row_clips(tmp_path: Path, soffice: str) -> None:
    """The check below can fail: a label in a row too short for it loses its last lines in
    LibreOffice's PDF."""
    import xlsxwriter

    path = tmp_path / "clipped.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet()
        fmt = wb.add_format({"font_name": "TH Sarabun New", "font_size": 16,
                             "text_wrap": True, "valign": "top"})
        ws.set_column(0, 0, 30)
        ws.set_row(0, 20)
        ws.write_string(0, 0, "บรรทัดแรก\nบรรทัดที่สองหายไป\nบรรทัดที่สามหายไป", fmt)
    blocks = _pdf_blocks(path, tmp_path)
    assert _unprinted(["บรรทัดแรก"], blocks) == []
    assert _unprinted(["บรรทัดแรก\nบรรทัดที่สองหายไป\nบรรทัดที่สามหายไป"], blocks) != []


@pytest.mark.libreoffice
@pytest.mark.parametrize("which", ["bundled", "long labels"])
def test_libreoffices_pdf_prints_every_label_whole(which: str, tmp_path: Path,
                                                  soffice: str) -> None:
    layout = load_layout() if which == "bundled" else long_labels()
    path = tmp_path / "form.xlsx"
    generate_workbook(layout, path)
    blocks = _pdf_blocks(path, tmp_path)
    labels = [lb.text for plan in build_cellmap(layout).sheets for lb in plan.labels]
    assert len(labels) > 150
    assert _unprinted(labels, blocks) == []


# -- LibreOffice's optimal heights -------------------------------------------------------------

UNO_PYTHON = "/usr/bin/python3"


def _libreoffice_heights(path: Path, soffice: str) -> dict[str, dict[str, list[int]]]:
    """Row heights as LibreOffice loads ``path`` and its optimal ones (1/100 mm), by UNO."""
    probe = subprocess.run([UNO_PYTHON, "-c", "import uno"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.fail("LibreOffice's Python (python3-uno) is missing: apt-get install python3-uno "
                    "(scripts/setup)")
    script = Path(__file__).with_name("lo_optimal_heights.py")
    done = subprocess.run([UNO_PYTHON, str(script), soffice, str(path)], capture_output=True,
                          text=True, check=True, timeout=240)
    return json.loads(done.stdout)


@pytest.mark.libreoffice
@pytest.mark.parametrize("which", ["bundled", "long labels"])
def test_every_row_is_at_least_as_tall_as_libreoffices_optimal(which: str, tmp_path: Path,
                                                              soffice: str) -> None:
    """LibreOffice does not fit rows on opening an xlsx; asked to (optimal height, which
    leaves merged cells out), it never wants a row taller than the form's."""
    layout = load_layout() if which == "bundled" else long_labels()
    path = tmp_path / "form.xlsx"
    generate_workbook(layout, path)
    heights = _libreoffice_heights(path, soffice)
    cellmap = build_cellmap(layout)
    assert list(heights) == [p.name for p in cellmap.sheets]
    compared = 0
    for plan in cellmap.sheets:
        loaded, optimal = heights[plan.name]["loaded"], heights[plan.name]["optimal"]
        for row, (have, want) in enumerate(zip(loaded, optimal, strict=True)):
            planned = plan.heights.get(row, plan.default_height)
            assert abs(have / 2540 * 72 - planned) < 0.5, (plan.name, row + 1)
            assert have >= want, (plan.name, row + 1, have, want)
            compared += 1
    assert compared > 100


@pytest.mark.libreoffice
def test_libreoffice_prints_a_long_tables_header_on_each_of_its_pages(tmp_path: Path,
                                                                     soffice: str) -> None:
    data = _data()
    data["sheets"][1]["rows"] = 40
    layout = _layout(data)
    path = tmp_path / "long.xlsx"
    generate_workbook(layout, path)
    pdf = convert(path, tmp_path, "pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    sheet = layout.sheets[1]
    pages = [p for p in map(_squeeze, text.split("\f")) if _squeeze(sheet.title) in p]
    assert len(pages) > len(sheet.tables)  # the tables run over pages
    for page in pages:
        assert _squeeze(sheet.columns.indicator) in page and _squeeze(sheet.columns.score) in page
