"""Closing a workbook in a thread of its own (``xlsxtext.Workbook.close_in_background``), as
``merge`` does while it writes the CSVs: the package is what xlsxwriter's own close makes,
part for part; an error in the close is raised where it is waited for; an abandoned close
stops at its next chunk, closes its files and removes xlsxwriter's; and a failure of the
next file while a workbook closes leaves no staged file behind.
"""

from __future__ import annotations

import gc
import os
import threading
import warnings
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from pmqa_xlsx import report, xlsxtext
from pmqa_xlsx.consolidate import consolidate
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.xlsxtext import Workbook

from .test_consolidate import returns as returns  # noqa: PLC0414 - the corpus round, reused

CREATED = datetime(2026, 1, 2, 3, 4, 5)


def build(path: Path, **options: Any) -> Workbook:
    """A workbook using what xlsxwriter's close prepares: shared and inline strings,
    formats, a chart, a comment, a defined name, a print title, a table, an autofilter, data
    validation, and a sheet of rows spread over several chunks."""
    book = Workbook(str(path), options)
    book.set_properties({"created": CREATED})
    bold = book.add_format({"bold": True})
    first = book.add_worksheet("แรก")
    first.write_row(0, 0, ["ชื่อ", "ค่า", "=1+1"], bold)
    for row in range(1, 30):
        first.write_string(row, 0, f"หน่วยงาน {row} <r>x</r>")
        first.write_number(row, 1, row * 1.5)
    first.write_comment("A1", "หมายเหตุ")
    first.repeat_rows(0)
    first.autofilter(0, 0, 29, 1)
    first.data_validation(1, 1, 29, 1, {"validate": "decimal", "criteria": ">=", "value": 0})
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": ["แรก", 1, 1, 29, 1], "categories": ["แรก", 1, 0, 29, 0]})
    first.insert_chart("D2", chart)
    book.define_name("ค่า", "='แรก'!$B$2:$B$30")
    table = book.add_worksheet("table")
    if not options.get("constant_memory"):  # xlsxwriter has no tables in that mode
        table.add_table(0, 0, 5, 2, {"columns": [{"header": h} for h in ("a", "b", "c")]})
    big = book.add_worksheet("big")
    for row in range(3000):  # about 150 KB of sheet XML
        big.write_string(row, 0, f"row {row} " + "ข้อความ" * 3)
        big.write_number(row, 1, row)
    return book


def close_their_way(book: Workbook) -> None:
    """What ``Workbook.close`` does, with xlsxwriter's own ``_store_workbook`` and its own
    copy of constant_memory's rows into the sheets' parts (text swapped in as ours is)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(xlsxtext.Worksheet, "_write_optimized_sheet_data",
                      xlsxwriter.worksheet.Worksheet._write_optimized_sheet_data)
        xlsxwriter.Workbook._store_workbook(book)
    book._pmqa_texts.swap_into(book.filename)
    book.fileclosed = True
    for sheet in book.worksheets() if book.constant_memory else ():
        sheet._opt_close()
    book._remove_tmpdir()


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
        return {info.filename: package.read(info) for info in package.infolist()}


@pytest.mark.parametrize("constant_memory", [False, True])
def test_the_package_is_what_xlsxwriters_own_close_makes(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          constant_memory: bool) -> None:
    """Part for part and in order, with parts cut into many chunks (the chunk made small)."""
    options = {"constant_memory": constant_memory}
    theirs = build(tmp_path / "theirs.xlsx", **options)
    close_their_way(theirs)
    monkeypatch.setattr(xlsxtext, "_ZIP_CHUNK", 4096)
    ours = build(tmp_path / "ours.xlsx", **options)
    ours.close_in_background()
    ours.wait_closed()
    expected, found = parts(tmp_path / "theirs.xlsx"), parts(tmp_path / "ours.xlsx")
    assert list(found) == list(expected)
    assert max(len(data) for data in found.values()) > 30 * 4096  # many chunks indeed
    for name, data in expected.items():
        assert found[name] == data, name


def test_in_memory_workbooks_too(tmp_path: Path) -> None:
    theirs = build(tmp_path / "theirs.xlsx", in_memory=True)
    close_their_way(theirs)
    ours = build(tmp_path / "ours.xlsx", in_memory=True)
    ours.close()
    assert parts(tmp_path / "ours.xlsx") == parts(tmp_path / "theirs.xlsx")


def test_a_later_xlsxwriter_without_a_step_closes_its_own_way(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsxtext, "_STORE_STEPS", (*xlsxtext._STORE_STEPS, "_renamed"))
    used: list[str] = []
    real = xlsxwriter.Workbook._store_workbook
    monkeypatch.setattr(xlsxwriter.Workbook, "_store_workbook",
                        lambda self: (used.append("theirs"), real(self))[1])
    build(tmp_path / "book.xlsx").close()
    assert used == ["theirs"]
    assert "xl/worksheets/sheet3.xml" in parts(tmp_path / "book.xlsx")


def tmpdir_of(book: Workbook) -> str:
    assert book._own_tmpdir is not None
    return book._own_tmpdir


def no_file_left_open() -> list[str]:
    """ResourceWarnings of files nobody closed, found by collecting them now."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


def test_an_error_in_the_close_is_raised_by_wait_closed(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    def full(self: Workbook, package: zipfile.ZipFile, path: str, name: str) -> None:
        if name.startswith("xl/worksheets/sheet3"):
            raise OSError(28, "No space left on device")
        real(self, package, path, name)

    real = Workbook._add_part
    monkeypatch.setattr(Workbook, "_add_part", full)
    book = build(tmp_path / "book.xlsx", constant_memory=True)
    folder = tmpdir_of(book)
    book.close_in_background()
    with pytest.raises(xlsxwriter.exceptions.FileCreateError, match="No space left"):
        book.wait_closed()  # what xlsxwriter's close raises for it
    assert not os.path.exists(folder)
    assert no_file_left_open() == []
    book.wait_closed()  # raised once, then nothing is pending


@pytest.mark.parametrize("constant_memory", [True, False])
def test_an_abandoned_close_stops_and_tidies_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                constant_memory: bool) -> None:
    """Paused half way through the largest sheet (its rows streamed from their row file in
    constant_memory) until abandoned: when ``abandon`` returns, the thread has ended, its
    files are closed and xlsxwriter's temporary folder is gone."""
    reached = threading.Event()
    real_go_on = xlsxtext._Closing.go_on
    real_add_part = Workbook._add_part
    adding: list[str] = []

    def add_part(self: Workbook, package: zipfile.ZipFile, path: str, name: str) -> None:
        adding.append(name)
        real_add_part(self, package, path, name)

    def go_on(self: xlsxtext._Closing) -> None:
        if adding[-1] == "xl/worksheets/sheet3.xml" and not reached.is_set():
            reached.set()
            assert self._stop.wait(60), "never abandoned"
        real_go_on(self)

    monkeypatch.setattr(Workbook, "_add_part", add_part)
    monkeypatch.setattr(xlsxtext._Closing, "go_on", go_on)
    monkeypatch.setattr(xlsxtext, "_ZIP_CHUNK", 4096)
    book = build(tmp_path / "book.xlsx", constant_memory=constant_memory)
    folder = tmpdir_of(book)
    book.close_in_background()
    assert reached.wait(30)
    assert os.path.exists(folder)
    book.abandon()
    assert not any(t.name == "pmqa-close-workbook" for t in threading.enumerate())
    assert not os.path.exists(folder)
    assert no_file_left_open() == []
    book.wait_closed()  # abandoned: nothing to raise


def test_rows_are_streamed_in_at_their_mark_only(tmp_path: Path) -> None:
    """In constant_memory, a sheet's part on disk holds its settings and a mark; the rows go
    into the package from their row file (and the mark never reaches it)."""
    book = build(tmp_path / "book.xlsx", constant_memory=True)
    marked: list[bytes] = []
    real_add_part = Workbook._add_part

    def add_part(self: Workbook, package: zipfile.ZipFile, path: str, name: str) -> None:
        if path in self._pmqa_closing.rows_of:
            marked.append(Path(path).read_bytes())
        real_add_part(self, package, path, name)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Workbook, "_add_part", add_part)
        book.close()
    assert len(marked) == 2 and all(xlsxtext._ROWS_HERE.encode() in part and len(part) < 5000
                                    for part in marked)  # the first sheet and the big one
    found = parts(tmp_path / "book.xlsx")
    assert not any(xlsxtext._ROWS_HERE.encode() in data for data in found.values())
    assert b"<row r=\"3000\"" in found["xl/worksheets/sheet3.xml"]


def test_a_failure_while_a_workbook_closes_leaves_no_staged_file(
        returns: Path, layout: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first CSV fails while the workbook is compressed in the background: the close is
    stopped, and neither the workbook nor any CSV is left, staged or in place."""
    result = consolidate([returns], jobs=1)
    closing = threading.Event()
    real_go_on = xlsxtext._Closing.go_on

    def go_on(self: xlsxtext._Closing) -> None:
        closing.set()  # until abandoned (never, and the test fails, if not in the background)
        assert self._stop.wait(60), "never abandoned"
        real_go_on(self)

    def failing_csv(frame: Any, path: Path) -> None:
        assert closing.wait(30)  # the workbook is being closed meanwhile
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xlsxtext._Closing, "go_on", go_on)
    monkeypatch.setattr(report, "write_csv", failing_csv)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(OSError, match="No space left"):
        report.write_outputs(result, [layout], workbook=out / "merged.xlsx",
                             csv_dir=out / "csv")
    assert sorted(p.name for p in out.rglob("*")) == ["csv"]
    assert not any(t.name == "pmqa-close-workbook" for t in threading.enumerate())
    assert no_file_left_open() == []
