"""What makes national scale possible changes no result: template-based generation writes the
same workbooks as rendering each from scratch, several processes give the same files and
frames as one, and cells placed by order rather than by address are read where they are."""

from __future__ import annotations

import io
import os
import random
import re
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pmqa_xlsx import consolidate, generate_roster
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.generate import Template, render_workbook
from pmqa_xlsx.identity import new_token
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.roster import Agency
from pmqa_xlsx.xlsxread import open_package

from .package import make_package, sheet_xml

WHEN = datetime(2026, 3, 1, tzinfo=UTC)
AGENCIES = [Agency(code=f"T{i:03d}", name=f"หน่วยงาน & <{i}>", ministry="" if i % 7 else "ก")
            for i in range(120)]


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {name: package.read(name) for name in package.namelist()}


def test_a_personalised_template_is_the_workbook_rendered_from_scratch(
    layout: Layout, cellmap: CellMap
) -> None:
    for agency in (AGENCIES[0], AGENCIES[7]):  # with and without a ministry
        fields = frozenset(f.id for f in layout.identity.fields
                           if f.roster and {"agency_code": agency.code,
                                            "agency_name": agency.name,
                                            "ministry": agency.ministry}[f.roster])
        template = Template(cellmap, fields, "pw", WHEN)
        token = new_token()
        assert parts(template.personalise(agency, token)) == parts(
            render_workbook(cellmap, agency=agency, password="pw", generated_at=WHEN,
                            token=token))


def test_generation_is_the_same_with_one_process_or_two(layout: Layout,
                                                        tmp_path: Path) -> None:
    tokens = {a.code: new_token() for a in AGENCIES}
    one = generate_roster(layout, AGENCIES, tmp_path / "one", jobs=1, generated_at=WHEN,
                          tokens=tokens)
    two = generate_roster(layout, AGENCIES, tmp_path / "two", jobs=2, generated_at=WHEN,
                          tokens=tokens)
    assert [g.sha256 for g in one] == [g.sha256 for g in two]
    assert (tmp_path / "one" / "manifest.csv").read_bytes() == \
        (tmp_path / "two" / "manifest.csv").read_bytes()


def answers(cellmap: CellMap, seed: int) -> dict[tuple[str, str], Any]:
    rng = random.Random(seed)
    out: dict[tuple[str, str], Any] = {}
    for cell in cellmap.inputs():
        # a checklist blank is left empty now and then; every status is "starting", which
        # asks for no details, and indicator rows are whole: these returns break none of the
        # form's checks (but the one set with mistakes)
        skipped = rng.random() < 0.3
        if cell.kind == "identity" or skipped and cell.kind == "text" and cell.part == "3":
            continue
        if cell.kind == "status":
            out[(cell.item_id, cell.field_id)] = rng.choice(cell.choices) if seed == 0 \
                else cell.choices[1]
        elif cell.kind == "direction":
            out[(cell.item_id, cell.field_id)] = rng.choice(cell.choices)
        elif cell.kind == "number":
            bad = seed == 0 and rng.random() < 0.1  # one set of answers has mistakes
            out[(cell.item_id, cell.field_id)] = "N/A" if bad else rng.randint(1, 500)
        else:
            out[(cell.item_id, cell.field_id)] = f"คำตอบ {seed} {cell.item_id}"
    return out


@pytest.fixture(scope="module")
def many_returns(layout: Layout, cellmap: CellMap,
                 tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("many")
    fields = frozenset(f.id for f in layout.identity.fields if f.roster)
    templates = [Template(cellmap, fields, None, WHEN, answers(cellmap, s)) for s in range(5)]
    for i, agency in enumerate(AGENCIES[:60]):
        named = Agency(code=agency.code, name=agency.name, ministry="ก")
        (folder / f"{agency.code}.xlsx").write_bytes(templates[i % 5].personalise(named))
    (folder / "T001-again.xlsx").write_bytes(templates[2].personalise(
        Agency(code="T001", name="หน่วยงาน & <1>", ministry="ก")))
    return folder


def test_merging_is_the_same_with_one_process_or_two(many_returns: Path) -> None:
    one, two = consolidate(many_returns, jobs=1), consolidate(many_returns, jobs=2)
    assert one.summary()["rejected"] > 0 and one.summary()["duplicate"] == 1
    for name in ("answers", "indicators", "problems", "returns"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(two, name))


def test_cells_placed_by_order_are_read_where_they_are(tmp_path: Path) -> None:
    sheet = sheet_xml('<row r="2"><c r="B2" s="1"/><c t="inlineStr"><is><t>C2</t></is></c>'
                      '<c><v>4</v></c></row><row><c t="inlineStr"><is><t>A3</t></is></c></row>')
    path = make_package(tmp_path / "order.xlsx", [("S", sheet)])
    with open_package(path) as package:
        data = package.read_cells(package.sheets[0])
    assert {pos: c.value for pos, c in data.cells.items()} == {(1, 2): "C2", (1, 3): 4.0,
                                                              (2, 0): "A3"}
    assert data.beyond is None


# Every shape of cell a spreadsheet application writes, and some it does not: the reader's
# inline paths must give what its general cell reader gives.
_CELL_SHAPES = [
    '<c r="A1" t="s"><v>0</v></c>', '<c r="B1" s="3" t="s"><v>1</v></c>',
    '<c r="C1" s="7" t="s"><v>9</v></c>', '<c r="D1" t="s"><v>x</v></c>',
    '<c r="E1" t="s"><v></v></c>', '<c r="A2"><v>85</v></c>', '<c r="B2" s="12"><v>1.5E3</v></c>',
    '<c r="C2" t="n" s="4"><v>-0.25</v></c>', '<c r="D2"><v> </v></c>', '<c r="E2"><v/></c>',
    '<c r="F2"><v>abc</v></c>', '<c r="G2" s="5000"><v>7</v></c>', '<c r="H2" s="x"><v>7</v></c>',
    '<c r="I2"><v>inf</v></c>', '<c r="A3"><f>1+1</f><v>2</v></c>',
    '<c r="B3" s="18"><f>IF(A1="","",1)</f><v></v></c>', '<c r="C3"><f></f><v>3</v></c>',
    '<c r="D3" t="str"><f>"a"</f><v>a</v></c>', '<c r="E3" t="e"><f>1/0</f><v>#DIV/0!</v></c>',
    '<c r="F3" t="n"><f>A1</f><v>  </v></c>', '<c r="G3"><f t="shared" si="0">A1</f><v>4</v></c>',
    '<c r="H3"><v>5</v><f>A1</f></c>', '<c r="A4" t="b"><v>1</v></c>',
    '<c r="B4" t="e"><v>#N/A</v></c>', '<c r="C4" t="inlineStr"><is><t>in _x0041_</t></is></c>',
    '<c r="D4" t="str"><v>s</v></c>', '<c r="E4" t="d"><v>2026-01-01</v></c>',
    '<c r="F4" t="s"><v>0</v><f>A1</f></c>', '<c r="G4" s="2"/>',
]


def test_the_inline_paths_read_cells_as_the_general_reader_does() -> None:
    from lxml import etree

    from pmqa_xlsx import xlsxread

    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rows = "".join(f'<row r="{r}">' + "".join(c for c in _CELL_SHAPES
                                              if re.match(rf'<c r="[A-Z]+{r}"', c)) + "</row>"
                   for r in range(1, 5))
    root = etree.fromstring(f'<worksheet xmlns="{ns}"><sheetData>{rows}'
                            "</sheetData></worksheet>".encode())
    shared, lengths = ["zero", "one _x0042_"], {}
    data = xlsxread._sheet_cells(root, shared, lengths, 100, 100)  # noqa: SLF001
    cells, beyond = data.cells, data.beyond
    expected = {}
    for c in root.iter(f"{{{ns}}}c"):
        cell = xlsxread._cell(c, shared, lengths)  # noqa: SLF001
        if cell is not None:
            expected[xlsxread.split_ref(c.get("r"))] = cell
    assert beyond is None
    assert cells == expected
    assert cells[(0, 1)] == xlsxread.Cell("one _x0042_", None, True, 3)  # style kept
    assert cells[(1, 6)].style == 5000 and cells[(1, 7)].style == xlsxread.UNKNOWN_STYLE


def test_shared_strings_of_every_shape() -> None:
    from lxml import etree

    from pmqa_xlsx import xlsxread

    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    long = "ก" * (xlsxread.MAX_TEXT + 5)
    root = etree.fromstring(
        f'<sst xmlns="{ns}"><si><t>plain</t></si><si><t/></si><si><t>a_x000D_b</t></si>'
        f'<si><r><t>run </t></r><r><t>two</t></r></si><si><t>base</t><rPh><t>hint</t></rPh>'
        f"</si><si><t>{long}</t></si><si/></sst>".encode())
    strings, lengths = xlsxread._shared_strings(root)  # noqa: SLF001
    assert strings[:5] == ["plain", "", "a\rb", "run two", "base"]
    assert len(strings[5]) == xlsxread.MAX_TEXT + 1 and lengths == {5: len(long)}
    assert strings[6] == "" and len(strings) == 7


@pytest.mark.parametrize("name", ["literal _x0041_ here", "x\x01y", "ข & <ค> \"ง\""])
def test_personalised_text_is_escaped_as_xlsxwriter_escapes_it(cellmap: CellMap,
                                                               name: str) -> None:
    agency = Agency(code="E001", name=name, ministry="ก")
    fields = frozenset({"agency_code", "agency_name", "ministry"})
    template = Template(cellmap, fields, None, WHEN)
    token = new_token()
    assert parts(template.personalise(agency, token)) == parts(
        render_workbook(cellmap, agency=agency, generated_at=WHEN, token=token))


def test_a_value_that_looks_like_a_placeholder_stays_itself(cellmap: CellMap,
                                                           tmp_path: Path) -> None:
    """The values are swapped in one pass: an agency named like another placeholder keeps
    its name (swapped one after another, it got its ministry's)."""
    from pmqa_xlsx.read import read_raw

    fields = frozenset({"agency_code", "agency_name", "ministry"})
    template = Template(cellmap, fields, None, WHEN)
    for name in ("@@PMQA:ministry@@", "@@PMQA:token@@", "@@PMQA:agency_code@@"):
        agency = Agency(code="E002", name=name, ministry="กระทรวงทดสอบ")
        token = new_token()
        data = template.personalise(agency, token)
        assert parts(data) == parts(render_workbook(cellmap, agency=agency, generated_at=WHEN,
                                                    token=token))
        path = tmp_path / "p.xlsx"
        path.write_bytes(data)
        read = read_raw(path)
        assert read.identity.fields["agency_name"] == name
        assert read.identity.fields["ministry"] == "กระทรวงทดสอบ"


def test_a_write_failure_in_a_worker_is_a_message(layout: Layout, tmp_path: Path) -> None:
    from pmqa_xlsx import PmqaError

    (tmp_path / "out" / "T005.xlsx").mkdir(parents=True)  # a folder where a file should go
    with pytest.raises(PmqaError, match="T005.xlsx: cannot write"):
        generate_roster(layout, AGENCIES, tmp_path / "out", jobs=2, generated_at=WHEN)


def test_agencies_given_as_objects_are_checked_like_a_roster(layout: Layout,
                                                             tmp_path: Path) -> None:
    from pmqa_xlsx import RosterError

    bad = [Agency(code="../escaped", name="ก"), Agency(code="D1", name="ข"),
           Agency(code="D1", name="ค")]
    with pytest.raises(RosterError) as info:
        generate_roster(layout, bad, tmp_path / "out")
    assert len(info.value.problems) == 2 and not (tmp_path / "out").exists()


def test_categories_are_sorted_whatever_the_batch(many_returns: Path) -> None:
    merged = consolidate(many_returns, jobs=1)
    for column in ("file", "agency_code"):
        categories = list(merged.answers[column].cat.categories)
        assert categories == sorted(categories)


def test_a_damaged_shared_part_is_refused_even_after_a_good_file(many_returns: Path,
                                                                tmp_path: Path) -> None:
    from pmqa_xlsx import read_return

    good = many_returns / "T001.xlsx"
    assert read_return(good).state in ("ok", "ok_with_warnings")
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(damaged, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/workbook.xml":
                data = data.replace(b"<sheets>", b"<sheets><!DOCTYPE x>")
            out.writestr(info, data)
    assert read_return(damaged).problems["code"].tolist() == ["xml-doctype"]


def test_the_garbage_collector_is_left_as_it_was(many_returns: Path) -> None:
    import gc

    assert gc.isenabled()
    consolidate(many_returns, jobs=1)
    assert gc.isenabled()
    gc.disable()
    try:
        consolidate(many_returns, jobs=1)
        assert not gc.isenabled()
    finally:
        gc.enable()


def _dies_on_a_killer(path: Path, layouts: Any = None, **kwargs: Any) -> Any:
    """A reader that kills its process on one file, as a crash in a native library would."""
    if "killer" in Path(path).name:
        os._exit(3)
    from pmqa_xlsx.read import read_raw

    return read_raw(path, layouts, **kwargs)


def test_a_reading_process_that_dies_costs_one_file(many_returns: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib
    import multiprocessing

    consolidate_module = importlib.import_module("pmqa_xlsx.consolidate")  # not the function

    # the workers are forked, so they inherit the patched reader (Linux's default)
    assert multiprocessing.get_start_method() == "fork"
    folder = tmp_path / "returns"
    shutil.copytree(many_returns, folder)
    shutil.copy(folder / "T001.xlsx", folder / "T030-killer.xlsx")
    monkeypatch.setattr(consolidate_module, "read_raw", _dies_on_a_killer)
    merged = consolidate(folder, jobs=2)
    rows = {Path(f).name: (state, reason) for f, state, reason in
            zip(merged.returns["file"], merged.returns["state"], merged.returns["reason_en"],
                strict=True)}
    assert len(rows) == 62
    state, reason = rows["T030-killer.xlsx"]
    assert state == "rejected" and "[reader-failed]" in reason
    alone = consolidate(many_returns, jobs=1).returns.set_index("file")["state"]
    for path, expected in alone.items():
        assert rows[Path(str(path)).name][0] == expected  # every other file read as usual


def test_pipes_in_a_folder_are_listed_not_opened(many_returns: Path, tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    folder.mkdir()
    shutil.copy(many_returns / "T001.xlsx", folder)
    os.mkfifo(folder / "pipe.xlsx")  # opening it would wait for a writer forever
    merged = consolidate(folder, jobs=1)
    states = dict(zip(merged.returns["file"].map(lambda f: Path(f).name),
                      merged.returns["state"], strict=True))
    assert states == {"T001.xlsx": "ok", "pipe.xlsx": "rejected"}
    assert "not a regular file" in merged.returns["reason_en"].iloc[1]


def test_digits_python_accepts_and_excel_does_not_are_not_numbers() -> None:
    """Found in review: "²".isdigit() is True but int("²") raises, which surfaced as
    reader-failed; a negative shared-string index read the last string; row "0" gave -1.
    Rows numbered 0 or "²" are not where Excel puts any row: the sheet is refused."""
    from lxml import etree

    from pmqa_xlsx import xlsxread

    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

    def sheet(rows: str) -> object:
        return etree.fromstring(f'<worksheet xmlns="{ns}"><sheetData>{rows}</sheetData>'
                                "</worksheet>".encode())

    shared = ["first", "last"]
    cells = xlsxread._sheet_cells(sheet(  # noqa: SLF001
        '<row r="1"><c r="A1" s="²"><v>7</v></c><c r="B1" t="s"><v>-1</v></c></row>'),
        shared, {}, 100, 100).cells
    assert cells[(0, 0)] == xlsxread.Cell(7.0, None, True, xlsxread.UNKNOWN_STYLE)
    assert cells[(0, 1)].value == xlsxread.ErrorValue("#REF-STRING")
    for rows in ('<row r="0"><c><v>1</v></c></row>', '<row r="²"><c><v>2</v></c></row>'):
        with pytest.raises(xlsxread.FileRefused) as refused:
            xlsxread._sheet_cells(sheet(rows), shared, {}, 100, 100)  # noqa: SLF001
        assert refused.value.code == "inconsistent-package"
    styles = etree.fromstring(f'<styleSheet xmlns="{ns}"><numFmts><numFmt numFmtId="²" '
                              'formatCode="0%"/></numFmts><cellXfs><xf numFmtId="²"/>'
                              "</cellXfs></styleSheet>".encode())
    assert xlsxread._styles(styles).formats == ("General",)  # noqa: SLF001
