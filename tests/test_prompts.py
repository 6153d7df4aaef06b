"""The words of the data validations (prompts.py): built in one place, written as built, and
measured against Excel's limits as stored."""

from __future__ import annotations

import openpyxl
import pytest

from pmqa_xlsx import prompts
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.layout import NumberRule


@pytest.mark.parametrize(("value", "text"), [
    (1e12, "1,000,000,000,000"), (-1e12, "-1,000,000,000,000"), (0.0, "0"), (85.0, "85"),
    (1250.5, "1,250.5"), (0.001, "0.001"), (1e20, "1e+20"), (-2.5, "-2.5"),
])
def test_numbers_read_with_thousands_separators(value: float, text: str) -> None:
    assert prompts.number_text(value) == text


@pytest.mark.parametrize(("rule", "words"), [
    (NumberRule(greater_than=0), " มากกว่า 0"),
    (NumberRule(at_least=-1e12, at_most=1e12), " ตั้งแต่ -1,000,000,000,000 ถึง 1,000,000,000,000"),
    (NumberRule(greater_than=0, at_most=100), " มากกว่า 0 ถึง 100"),
    (NumberRule(at_most=5), " ไม่เกิน 5"),
    (NumberRule(), ""),
])
def test_rules_in_words(rule: NumberRule, words: str) -> None:
    assert prompts.rule_words(rule) == words


def test_each_kind_of_validation_as_xlsxwriter_takes_it() -> None:
    assert prompts.list_validation(["ก", "ข"]).options() == {
        "validate": "list", "source": ["ก", "ข"], "input_title": "เลือกจากรายการ",
        "input_message": "คลิกลูกศรแล้วเลือก: ก / ข", "error_title": "ค่าไม่อยู่ในรายการ",
        "error_message": "กรุณาเลือกจากรายการเท่านั้น: ก / ข", "error_type": "stop"}
    number = prompts.number_validation("ค่าเป้าหมาย 2562", NumberRule(greater_than=0)).options()
    assert (number["criteria"], number["value"]) == (">", 0)
    assert number["input_message"] == "ค่าเป้าหมาย 2562: ตัวเลขเท่านั้น มากกว่า 0"
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
