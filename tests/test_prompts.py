"""The words of the data validations (prompts.py): built in one place, written as built, and
measured against Excel's limits as stored."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree

from pmqa_xlsx import prompts
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.layout import NumberRule


@pytest.mark.parametrize(("value", "text"), [
    (1e12, "1,000,000,000,000"), (-1e12, "-1,000,000,000,000"), (0.0, "0"), (-0.0, "0"),
    (85.0, "85"), (120.0, "120"), (-5.0, "-5"), (1250.5, "1,250.5"), (0.5, "0.5"),
    (0.001, "0.001"), (1e-6, "0.000001"), (1e20, "100,000,000,000,000,000,000"),
    (-2.5, "-2.5"), (1234567.125, "1,234,567.125"), (0.1 + 0.2, "0.3"),
])
def test_numbers_read_as_people_write_them(value: float, text: str) -> None:
    assert prompts.number_text(value) == text


@pytest.mark.parametrize("value", [0.0, 1e12, -1e12, 0.5, 1e-6, 120.0, -5.0, 1e-12, 3e15,
                                   -7.25e-9, 1e20, 123456789012345.0, 2.0 ** 60])
def test_number_text_has_no_exponent_and_means_the_same_number(value: float) -> None:
    text = prompts.number_text(value)
    assert not re.search(r"[eE]|\.0*$|\.\d*0$", text), text
    assert re.fullmatch(r"-?\d{1,3}(,\d{3})*(\.\d+)?", text), text
    assert float(text.replace(",", "")) == float(f"{value:.15g}")


@pytest.mark.parametrize(("rule", "words"), [
    (NumberRule(greater_than=0), "ตัวเลขมากกว่า 0"),
    (NumberRule(at_least=-1e12, at_most=1e12),
     "ตัวเลขระหว่าง -1,000,000,000,000 ถึง 1,000,000,000,000"),
    (NumberRule(at_least=0, at_most=1e12), "ตัวเลขระหว่าง 0 ถึง 1,000,000,000,000"),
    (NumberRule(greater_than=0, at_most=100), "ตัวเลขมากกว่า 0 และไม่เกิน 100"),
    (NumberRule(at_most=5), "ตัวเลขไม่เกิน 5"),
    (NumberRule(at_least=0.5), "ตัวเลขตั้งแต่ 0.5 ขึ้นไป"),
    (NumberRule(at_least=1e-6, at_most=120), "ตัวเลขระหว่าง 0.000001 ถึง 120"),
    (NumberRule(at_least=0, at_most=120, whole_number=True), "จำนวนเต็มระหว่าง 0 ถึง 120"),
    (NumberRule(whole_number=True), "จำนวนเต็ม"),
    (NumberRule(), "ตัวเลข"),
    (None, "ตัวเลข"),
])
def test_rules_in_words(rule: NumberRule | None, words: str) -> None:
    assert prompts.rule_words(rule) == words


@pytest.mark.parametrize("rule", [
    NumberRule(greater_than=0), NumberRule(at_most=5), NumberRule(at_most=-5),
    NumberRule(at_least=0, at_most=1, whole_number=True), NumberRule(greater_than=1e6),
    NumberRule(at_least=1e6, at_most=2e6), NumberRule(at_least=0.25, at_most=0.75), None,
])
def test_the_alerts_examples_are_numbers_the_rule_accepts(rule: NumberRule | None) -> None:
    alert = prompts.number_validation("x", rule).error_message
    assert alert.startswith("ช่องนี้รับเฉพาะ" + prompts.rule_words(rule))
    examples = alert.partition(" เช่น ")[2]
    for example in filter(None, examples.split(" หรือ ")):
        number = float(example.replace(",", ""))
        assert rule is None or rule.accepts(number), (rule, example)


def test_each_kind_of_validation_as_xlsxwriter_takes_it() -> None:
    assert prompts.list_validation(["ก", "ข"]).options() == {
        "validate": "list", "source": ["ก", "ข"], "input_title": "เลือกจากรายการ",
        "input_message": "คลิกลูกศรแล้วเลือก: ก / ข", "error_title": "ค่าไม่อยู่ในรายการ",
        "error_message": "กรุณาเลือกจากรายการเท่านั้น: ก / ข", "error_type": "stop"}
    number = prompts.number_validation("ค่าเป้าหมาย 2562", NumberRule(greater_than=0)).options()
    assert (number["criteria"], number["value"]) == (">", 0)
    assert number["input_message"] == "ค่าเป้าหมาย 2562: พิมพ์ตัวเลขมากกว่า 0"
    assert number["error_message"] == "ช่องนี้รับเฉพาะตัวเลขมากกว่า 0 เช่น 85 หรือ 1,250.5"
    open_ended = prompts.number_validation("x", NumberRule()).options()
    assert (open_ended["minimum"], open_ended["maximum"]) == (-1e307, 1e307)
    text = prompts.text_validation("ก" * 40, "พิมพ์วันที่")
    assert text is not None and text.options() == {
        "validate": "any", "input_title": "ก" * 32, "input_message": "พิมพ์วันที่"}
    assert prompts.text_validation("label", None) is None


def test_the_strictest_documented_limits_are_measured_as_stored() -> None:
    # the error alert: 224 (MS-OI29500), though xlsxwriter would write 255
    prefix = len("กรุณาเลือกจากรายการเท่านั้น: ")
    fits = prompts.list_validation(["ก" * (224 - prefix - 4), "ข"])
    assert prompts.utf16_length(fits.error_message) == 224 and fits.too_long() == []
    over = prompts.list_validation(["ก" * (225 - prefix - 4), "ข"])
    assert [(t.what, t.length, t.limit) for t in over.too_long()] == [("error alert", 225, 224)]
    # a character beyond U+FFFF counts two, and a literal escape counts as stored
    assert prompts.utf16_length("😀ก") == 3
    stored = prompts.text_validation("x", "_x0041_" * 30)
    assert stored is not None and [t.length for t in stored.too_long()] == [13 * 30]
    # the list itself: choices joined with commas
    listed = prompts.list_validation(["ก" * 100, "ข" * 100, "ค" * 60])
    assert ("list of choices", 262, 255) in [(t.what, t.length, t.limit)
                                             for t in listed.too_long()]


def test_the_workbook_holds_the_words_built_here(cellmap: CellMap, blank_path: object) -> None:
    book = openpyxl.load_workbook(blank_path)  # type: ignore[arg-type]
    written = {(sheet.title, str(dv.sqref).split()[0]): (dv.promptTitle, dv.prompt,
                                                         dv.errorTitle, dv.error)
               for sheet in book.worksheets for dv in sheet.data_validations.dataValidation}
    expected = {(cells[0].sheet, cells[0].ref): (v.input_title, v.input_message,
                                                 v.error_title or None, v.error_message or None)
                for plan in cellmap.sheets
                for v, cells in prompts.validation_groups(plan.inputs).items()}
    assert written == expected
    assert any("1,000,000,000,000" in words[1] for words in written.values())


#: What a number in a prompt must never look like: an exponent, a trailing ".0", a float's
#: noise (0.30000000000000004), a bare "e+"/"e-" anywhere.
_UNWRITTEN = re.compile(r"\d[eE][+-]?\d|[eE][+-]\d|\d\.0(?!\d)|\d{16,}|\.\d*0{6,}[1-9]")


def test_no_validation_text_of_the_bundled_form_writes_a_number_as_code_does(
        blank_path: Path) -> None:
    """Every prompt and alert of every sheet, read from the XML as Excel reads it."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    texts: list[str] = []
    with zipfile.ZipFile(blank_path) as package:
        for name in package.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                root = etree.fromstring(package.read(name))
                for dv in root.iter(f"{main}dataValidation"):
                    texts += [dv.get(a) or "" for a in
                              ("promptTitle", "prompt", "errorTitle", "error")]
    numbers = [t for t in texts if "ตัวเลข" in t or "จำนวนเต็ม" in t]
    assert numbers and any("1,000,000,000,000" in t for t in numbers)
    assert [t for t in texts if _UNWRITTEN.search(t)] == []
    assert all(" ." not in t and not re.search(r"\d,\d{1,2}(?!\d)", t) for t in texts)


def test_a_whole_number_cell_says_so_in_every_text() -> None:
    rule = NumberRule(at_least=0, at_most=120, whole_number=True)
    number = prompts.number_validation("จำนวนครั้ง", rule)
    assert number.validate == "integer" and number.bounds == (0, 120)
    assert number.input_message == "จำนวนครั้ง: พิมพ์จำนวนเต็มระหว่าง 0 ถึง 120"
    assert number.error_title == "ต้องเป็นจำนวนเต็ม"
    assert number.error_message == "ช่องนี้รับเฉพาะจำนวนเต็มระหว่าง 0 ถึง 120 เช่น 85 หรือ 12"
