"""The cell walk's shared-string indexes, read through a table of the indexes as written
(xlsxread._INDEXES, filled as the walk meets them): every way an index can be written reads
as the general cell reader reads it, the first time and once the table holds it."""

from __future__ import annotations

import pytest
from lxml import etree

from pmqa_xlsx import xlsxread

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# indexes as a file may write them: plain, with leading zeros, past the strings, too long,
# with spaces or signs, other digits (which int() would take), none at all
INDEXES = ["0", "1", "2", "01", "002", "3", "10", "9999999999", "99999999999999", " 1", "1 ",
           "+1", "-0", "1_0", "١", "２", "", "1.0", "1e0"]


def _sheet(indexes: list[str]) -> etree._Element:
    cells = "".join(f'<c r="{_column(i)}1" t="s"><v>{text}</v></c>'
                    for i, text in enumerate(indexes))
    return etree.fromstring(f'<worksheet xmlns="{NS}"><sheetData><row r="1">{cells}</row>'
                            "</sheetData></worksheet>".encode())


def _column(index: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[index]


@pytest.mark.parametrize("strings", [["zero", "one", "two"], [], ["only"]])
def test_shared_string_indexes_read_as_the_general_reader_reads_them(
        strings: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsxread, "_INDEXES", {})
    root = _sheet(INDEXES)
    lengths = {1: 40_000} if len(strings) > 1 else {}  # a cut text keeps its full length
    expected = {}
    for c in root.iter(f"{{{NS}}}c"):
        cell = xlsxread._cell(c, strings, lengths)
        if cell is not None:
            expected[xlsxread.split_ref(c.get("r"))] = cell
    for _ in range(2):  # the table empty, then holding what the first walk met
        found = xlsxread._sheet_cells(root, strings, lengths, 100, 100).cells
        assert found == expected
        assert {k: type(v.value) for k, v in found.items()} == \
            {k: type(v.value) for k, v in expected.items()}
    if len(strings) == 3:
        # "01" and "002" are the strings 1 and 2, as Excel reads them; past the strings, an
        # error value
        assert found[(0, 3)].value == "one" and found[(0, 4)].value == "two"
        assert found[(0, 3)].full_length == 40_000
        assert isinstance(found[(0, 5)].value, xlsxread.ErrorValue)
    held = xlsxread._INDEXES
    assert held == {text: int(text) for text in INDEXES
                    if text.isascii() and text.isdigit() and len(text) <= 9}
