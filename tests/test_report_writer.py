"""The streamed writer of the consolidated outputs (sheetrows, csvstream) against the writer it
replaced (tests/report_before.py, frozen): on every dataset here, every part of the workbook is
byte for byte the same (the creation time aside) and every CSV file is byte for byte the same.

The datasets: the corpus round of test_consolidate (good returns, a duplicate, mistakes, an
agency off the roster), one return, no return, agencies' text at its most hostile (formula-like,
a literal ``_x0041_``, control characters, lone surrogates, markup, 40,000 characters, Thai,
white space at the edges), values of every kind in every kind of column (NA, NaN, infinities,
-0.0, big and small numbers, bools, numpy scalars), answers out of column order or twice in
one cell, and more rows than a sheet holds (the limit made small). Then the new workbook on
its own: every part well-formed XML, no formula and no link anywhere in the data sheets, and
the hostile text read back by openpyxl as it was given.
"""

from __future__ import annotations

import dataclasses
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from lxml import etree

from pmqa_xlsx import consolidate, report
from pmqa_xlsx.consolidate import COUNTED, Consolidated
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.previous import compare, load_last
from pmqa_xlsx.xlsxtext import EXCEL_MAX_TEXT

from . import report_before
from .corpus import INJECTIONS
from .test_consolidate import ROSTER
from .test_consolidate import returns as returns  # noqa: PLC0414 - the corpus round, reused

#: Text no writer may turn into anything but itself (the last is cut to Excel's limit).
HOSTILE = [
    *INJECTIONS, "http://example.invalid/x", "mailto:a@example.invalid", "_x0041_",
    "_x005F_x0042_", "a_x00e9_b_xD800_", "<r><t>injected</t></r>", "<b>&amp;</b> & < > \" '",
    "\x01\x07\x08\x0b\x0c\x1f กลาง \x00", "\r\nบรรทัด\r\n", "\ud800 lone", "lone \udcff",
    "\ufffe\uffff", " ขอบ ", "\tแท็บ", "ท้าย\n", "", '"quoted"', "'quote", "nan", "NA",
    "None", "True", "-0", "1e5", "ตัวชี้วัดภาษาไทย ๑๒๓",
    "ก" * 32_766 + "😀" + "ข" * 10, "😀" * 20_000 + "x" * 1_000,
]
#: Those Arrow's strings can hold (not a lone surrogate: the frames' text columns are Arrow's).
ARROW_SAFE = [t for t in HOSTILE if not re.search("[\ud800-\udfff]", t)]


def parts(path: Path) -> dict[str, bytes]:
    """Every part of a package (in order), its creation and modification times blanked."""
    with zipfile.ZipFile(path) as package:
        found = {info.filename: package.read(info) for info in package.infolist()}
    found["docProps/core.xml"] = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"T",
                                        found["docProps/core.xml"])
    return found


def written(module: Any, result: Consolidated, layouts: list[Layout], folder: Path
            ) -> tuple[dict[str, bytes], dict[str, bytes]]:
    folder.mkdir(parents=True)
    module.write_outputs(result, layouts, workbook=folder / "merged.xlsx",
                         csv_dir=folder / "csv")
    csvs = {name: (folder / "csv" / f"{name}.csv").read_bytes()
            for name in report.FRAME_NAMES}
    return parts(folder / "merged.xlsx"), csvs


def assert_written_as_before(result: Consolidated, layouts: list[Layout],
                             tmp_path: Path) -> dict[str, bytes]:
    """The new writer's workbook and CSVs equal the old one's; returns the new parts."""
    old_parts, old_csvs = written(report_before, result, layouts, tmp_path / "old")
    new_parts, new_csvs = written(report, result, layouts, tmp_path / "new")
    assert list(new_parts) == list(old_parts)
    for name, data in old_parts.items():
        assert new_parts[name] == data, f"{name} differs"
    for name, data in old_csvs.items():
        assert new_csvs[name] == data, f"{name}.csv differs"
    return new_parts


@pytest.fixture(scope="module")
def merged(returns: Path) -> Consolidated:
    return consolidate([returns], roster=ROSTER, jobs=1)


def test_corpus_round_written_as_before(merged: Consolidated, layout: Layout,
                                        tmp_path: Path) -> None:
    assert len(merged.answers) and len(merged.indicators) and len(merged.problems)
    assert_written_as_before(merged, [layout], tmp_path)


def test_one_return_written_as_before(returns: Path, layout: Layout, tmp_path: Path) -> None:
    one = consolidate([returns / "03005.xlsx"], jobs=1)
    assert len(one.returns) == 1
    assert_written_as_before(one, [layout], tmp_path)


def test_no_return_counted_written_as_before(returns: Path, layout: Layout,
                                             tmp_path: Path) -> None:
    """Files but no answers: the answers sheet has its header row only (held by xlsxwriter
    until it closes), the returns and problems sheets have rows."""
    refused = consolidate([returns / "notes.txt", returns / "21003.xlsx"], roster=ROSTER,
                          jobs=1)
    assert len(refused.answers) == 0 and len(refused.returns) and len(refused.problems)
    assert_written_as_before(refused, [layout], tmp_path)


def test_no_return_written_as_before(layout: Layout, tmp_path: Path) -> None:
    assert_written_as_before(consolidate([], jobs=1), [layout], tmp_path)
    assert_written_as_before(consolidate([], jobs=1), [], tmp_path / "no-layout")


def hostile(merged: Consolidated) -> Consolidated:
    """The round with agencies' text replaced by HOSTILE, in categorical, text and object
    columns, in the answers' values and in their field labels (the answers' header rows)."""
    answers = merged.answers.copy()
    texts = answers.index[answers["value"].map(lambda v: isinstance(v, str)).to_numpy()]
    values = answers["value"].astype(object).to_numpy(copy=True)
    for n, at in enumerate(texts):
        values[at] = HOSTILE[n % len(HOSTILE)]
    answers["value"] = values
    labels = answers["label"].cat.categories
    answers["label"] = answers["label"].cat.rename_categories(pd.Index(
        [ARROW_SAFE[n % len(ARROW_SAFE)] + f" {n}" for n in range(len(labels))], dtype=object))

    def spread(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        frame = frame.copy()
        for column in columns:
            text = [ARROW_SAFE[(n + len(column)) % len(ARROW_SAFE)] for n in range(len(frame))]
            frame[column] = pd.array(text, dtype=frame[column].dtype)
        return frame

    return dataclasses.replace(
        merged, answers=answers,
        indicators=spread(merged.indicators, ["indicator", "unit", "cells"]),
        problems=spread(merged.problems, ["message_th", "message_en", "sheet"]),
        returns=spread(merged.returns, ["reason_th", "reason_en", "agency_name"]))


def test_hostile_text_written_as_before(merged: Consolidated, layout: Layout,
                                        tmp_path: Path) -> None:
    assert_written_as_before(hostile(merged), [layout], tmp_path)


def every_kind(n: int) -> pd.DataFrame:
    """Columns of every dtype the frames use (and some they might), each with blanks."""
    objects = ["text", 4, 85.5, -0.0, 1e20, 1e-7, 2**63, np.float32(0.1), np.int16(-3),
               np.float64("nan"), float("inf"), -float("inf"), None, pd.NA, True, False,
               np.bool_(True), pd.Timestamp("2026-03-01"), "=1+1", "_x0041_", "\ud800"]
    floats = [0.5, float("nan"), float("inf"), -1e300, 3.0, 1e15, 123456789012345678.0]
    return pd.DataFrame({
        "file": pd.array([f"f{i % 3}.xlsx" for i in range(n)], dtype="string"),
        "agency_code": pd.Categorical([["03005", None, "=cmd"][i % 3] for i in range(n)]),
        "object": pd.Series([objects[i % len(objects)] for i in range(n)], dtype=object),
        "float": np.array([floats[i % len(floats)] for i in range(n)], dtype="float64"),
        "Float64": pd.array([None if i % 4 == 0 else floats[i % len(floats)]
                             for i in range(n)], dtype="Float64"),
        "int": np.arange(n, dtype="int64") * 7 - 20,
        "Int64": pd.array([None if i % 5 == 0 else i * 1000 for i in range(n)],
                          dtype="Int64"),
        "bool": np.array([i % 2 == 0 for i in range(n)]),
        "boolean": pd.array([None if i % 3 == 0 else i % 2 == 0 for i in range(n)],
                            dtype="boolean"),
        "int_category": pd.Categorical([[1, 2, None][i % 3] for i in range(n)]),
        "string_python": pd.array([None if i % 6 == 0 else HOSTILE[i % len(HOSTILE)]
                                   for i in range(n)], dtype=pd.StringDtype("python")),
        "str": pd.Series([ARROW_SAFE[(i * 7) % len(ARROW_SAFE)] for i in range(n)], dtype=str),
        "blank": pd.Series([None] * n, dtype=object),
    })


def test_values_of_every_kind_written_as_before(merged: Consolidated, layout: Layout,
                                                tmp_path: Path) -> None:
    frame = every_kind(60)
    # not compared (the summary reads the changes' own columns when compared)
    result = dataclasses.replace(merged, changes=frame, score_changes=frame.iloc[::-1])
    assert_written_as_before(result, [layout], tmp_path)


def test_answers_out_of_order_twice_and_split_written_as_before(
        merged: Consolidated, layout: Layout, tmp_path: Path) -> None:
    answers = merged.answers
    rng = np.random.default_rng(15)
    shuffled = answers.iloc[rng.permutation(len(answers))].sort_values(
        "file", kind="stable")  # each return's answers together, in no column order
    twice = answers.iloc[::7].copy()
    twice["value"] = ["ค่าที่สอง", None, 2.5, float("nan")] * (len(twice) // 4) + \
        ["ท้าย"] * (len(twice) % 4)
    # each answer of ``twice`` in its return's row again, after the first: the later stays,
    # unless it is blank
    twice_in_row = pd.concat([shuffled, twice]).sort_values("file", kind="stable")
    again = answers.iloc[: len(answers) // 3]  # the first returns again, after the others
    mixed = pd.concat([twice_in_row, again], ignore_index=True)
    assert_written_as_before(dataclasses.replace(merged, answers=mixed), [layout],
                             tmp_path / "categorical")
    as_objects = mixed.astype({"part": object, "agency_code": object, "label": object})
    assert_written_as_before(dataclasses.replace(merged, answers=as_objects), [layout],
                             tmp_path / "objects")


def test_more_rows_than_a_sheet_holds_written_as_before(
        merged: Consolidated, layout: Layout, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (report, report_before):
        monkeypatch.setattr(module, "EXCEL_MAX_ROWS", 12)
    frame = every_kind(30)
    # score_changes: exactly as many rows as fit (12 - 6 - 5 + 1), so no line about more
    result = dataclasses.replace(merged, changes=frame, score_changes=frame.iloc[:2])
    assert len(result.indicators) > 10 and len(result.implausible) < 6
    new = assert_written_as_before(result, [layout], tmp_path)
    sheets = _sheet_parts(new)
    assert b"more rows: see the CSV output" in sheets["indicators"]
    assert b"more rows: see the CSV output" in sheets["changes"]
    assert b"more rows: see the CSV output" not in sheets["score_changes"]


def xstring(text: str) -> str:
    """Text as Excel reads an OOXML string (ECMA-376 ST_Xstring): each ``_xHHHH_``, left to
    right, is the character U+HHHH (openpyxl gives the escapes as they are stored)."""
    return re.sub("_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def _sheet_parts(found: dict[str, bytes]) -> dict[str, bytes]:
    return {name: found[f"xl/worksheets/sheet{n}.xml"]
            for n, name in enumerate(report.WORKBOOK_SHEETS, start=1)}


def test_streamed_sheets_are_inert_well_formed_xml(merged: Consolidated, layout: Layout,
                                                   tmp_path: Path) -> None:
    """The new workbook alone: every XML part parses (lxml, strict), no data sheet holds a
    formula or a link, and every hostile text reads back as given (openpyxl)."""
    result = hostile(merged)
    path = tmp_path / "merged.xlsx"
    report.write_outputs(result, [layout], workbook=path)
    found = parts(path)
    for name, data in found.items():
        if name.endswith((".xml", ".rels")):
            etree.fromstring(data, etree.XMLParser(resolve_entities=False))  # raises if bad
    for name, data in _sheet_parts(found).items():
        if name != "summary":
            tree = etree.fromstring(data)
            ns = {"m": tree.nsmap[None]}
            assert tree.findall(".//m:f", ns) == [] and tree.findall(".//m:hyperlink", ns) == []
            assert b"<f>" not in data and b"hyperlink" not in data
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        seen = {xstring(cell) for sheet in ("answers", "indicators")
                for row in book[sheet].iter_rows(min_row=2, values_only=True)
                for cell in row if isinstance(cell, str)}
    finally:
        book.close()
    for text in HOSTILE:
        if len(text) <= EXCEL_MAX_TEXT // 2:
            assert text in seen, text
    assert "ก" * 32_766 in seen  # cut before the pair that would pass 32,767 units
    assert "😀" * 16_383 in seen  # 32,766 units: one more pair would pass the limit
    answers = _sheet_parts(found)["answers"]
    assert b"_x005F_x0041_" in answers and b"_x005F_x005F_x0042_" in answers
    assert b"_x0001__x0007__x0008__x000B__x000C__x001F_" in answers
    assert b"_xD800_ lone" in answers and b"lone _xDCFF_" in answers
    assert b'<t xml:space="preserve"> \xe0\xb8\x82\xe0\xb8\xad\xe0\xb8\x9a </t>' in answers
    assert b"&lt;r&gt;&lt;t&gt;injected" in answers and b"<r><t>injected" not in answers


def test_the_streamed_workbook_is_read_as_last(merged: Consolidated, layout: Layout,
                                               tmp_path: Path) -> None:
    """previous.load_last reads the new workbook as the previous round: every counted
    agency has its score row, and nothing changed against itself."""
    path = tmp_path / "last.xlsx"
    report.write_outputs(merged, [layout], workbook=path)
    again = compare(merged, load_last(path, [layout]))
    counted = merged.returns["state"].isin(COUNTED)
    assert len(again.score_changes) == int(counted.sum()) > 0
    assert again.score_changes["in_previous"].all()
    assert len(again.changes) == 0


def test_an_xlsxwriter_without_the_row_internals_is_refused_in_thai(
        returns: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The row stream uses xlsxwriter 3.x internals: without one (another version), merge
    says so in Thai with what to install, exits 1 without a traceback, and the previous
    workbook is as it was."""
    from click.testing import CliRunner

    from pmqa_xlsx import sheetrows
    from pmqa_xlsx.cli import main

    out = tmp_path / "merged.xlsx"
    out.write_bytes(b"the previous workbook")
    # as a later xlsxwriter would be: one of the names gone (xlsxwriter's own code, which
    # uses them too, would have moved with it; only the row stream's use is left behind)
    monkeypatch.setattr(sheetrows, "XLSXWRITER_INTERNALS",
                        (*sheetrows.XLSXWRITER_INTERNALS, "_renamed_in_a_later_version"))
    result = CliRunner().invoke(main, ["merge", str(returns), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "xlsxwriter" in result.output and "pip install 'xlsxwriter>=3.2,<4'" in \
        result.output and "ไฟล์ผลลัพธ์เดิมยังอยู่เหมือนเดิม" in result.output
    assert "Traceback" not in result.output
    assert out.read_bytes() == b"the previous workbook"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merged.xlsx"]
