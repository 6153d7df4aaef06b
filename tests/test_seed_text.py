"""The seed form's text is all in the workbook, verbatim, and its blanks are the workbook's
text inputs, in paper order, each beside the seed's own words.

tests/data/seed_form.txt is a copy of the seed form's text (tabs are the paper's cells)."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

from pmqa_xlsx.cellmap import CellMap

SEED = Path(__file__).parent / "data" / "seed_form.txt"
DOTS = re.compile(r"\.{2,}")
ID_PREFIX = re.compile(r"^(\d+(?:\.\d+)+) ")
NOT_FORM_TEXT = {"[bookmark: _GoBack]", "3"}  # a Word artefact and the page number


def seed_fragments() -> list[str]:
    fragments = []
    for line in SEED.read_text(encoding="utf-8").splitlines():
        for cell in line.split("\t"):
            for part in DOTS.split(cell):
                text = part.replace("\xa0", " ").strip()  # Word's no-break spaces
                if text and text not in NOT_FORM_TEXT:
                    fragments.append(text)
    return fragments


def split_over_two_cells(fragment: str, cells: set[str]) -> bool:
    """A sub-row's text and its first blank's label are one line on paper, two cells here."""
    words = fragment.split(" ")
    return any(" ".join(words[:i]) in cells and " ".join(words[i:]) in cells
               for i in range(1, len(words)))


@pytest.fixture(scope="module")
def cell_texts(blank_path: Path) -> dict[str, dict[str, str]]:
    """Sheet -> cell address -> text, as a spreadsheet shows them."""
    workbook = openpyxl.load_workbook(blank_path)
    return {ws.title: {c.coordinate: c.value for row in ws.iter_rows() for c in row
                       if isinstance(c.value, str)} for ws in workbook.worksheets}


def test_every_fragment_of_the_seed_is_in_the_workbook(
    cell_texts: dict[str, dict[str, str]],
) -> None:
    everything = "\n".join(t for sheet in cell_texts.values() for t in sheet.values())
    fragments = seed_fragments()
    assert len(fragments) == 124  # counted in the seed: a parsing change would show
    # The workbook puts an item's id ("3.1.1") in its own column, before its topic.
    split = [part for f in fragments for part in ID_PREFIX.split(f) if part]
    cells = {t.strip() for sheet in cell_texts.values() for t in sheet.values()}
    missing = [f for f in split if f not in everything and not split_over_two_cells(f, cells)]
    assert missing == []


def test_headings_and_table_titles_are_whole_cells(
    cell_texts: dict[str, dict[str, str]],
) -> None:
    cells = {t.strip() for sheet in cell_texts.values() for t in sheet.values()}
    for text in (
        "ระดับการพัฒนาองค์การสู่การเป็นระบบราชการ 4.0",
        "หมวด 3 การให้ความสำคัญกับผู้รับบริการและผู้มีส่วนได้ส่วนเสีย",
        "หัวข้อ",
        "มีการดำเนินการโดยมีรายละเอียดดังนี้",
        "3.1.1",
        "หมวด 7 การบรรลุผลลัพธ์การดำเนินงาน",
        "7.2 การบรรลุผลลัพธ์ตามตัวชี้วัดด้านผู้รับบริการ และประชาชน",
        "ตัวชี้วัด",
        "ค่าเป้าหมาย",
        "ผลการดำเนินงาน",
        "ร้อยละ\nความสำเร็จ",
        "คะแนน",
        "2562\n(ตัวเลข)",
        "5. การแก้ไขเรื่องร้องเรียน",
    ):
        assert text in cells, text


def test_seed_blanks_are_the_text_inputs_in_order(
    cell_texts: dict[str, dict[str, str]], cellmap: CellMap
) -> None:
    text = SEED.read_text(encoding="utf-8")
    category3 = text[: text.index("หมวด 7")]
    seed_labels = []
    for line in category3.splitlines():
        for cell in line.split("\t"):
            pieces = DOTS.split(cell)
            seed_labels.extend(p.strip() for p in pieces[:-1])
    inputs = [c for c in cellmap.inputs() if c.sheet == "หมวด 3" and c.kind == "text"]
    assert len(seed_labels) == len(inputs) == 27
    sheet = cell_texts["หมวด 3"]
    for seed_label, cell in zip(seed_labels, inputs, strict=True):
        shown = sheet[f"D{cell.row + 1}"].strip()  # the label beside the input
        assert seed_label.endswith(shown), (seed_label, shown, cell.ref)


def test_each_paper_row_has_one_status(cellmap: CellMap) -> None:
    statuses = [c.item_id for c in cellmap.inputs() if c.kind == "status"]
    assert len(statuses) == len(set(statuses)) == 19
