"""What makes national scale possible changes no result: template-based generation writes the
same workbooks as rendering each from scratch, several processes give the same files and
frames as one, and cells placed by order rather than by address are read where they are."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pmqa_xlsx import consolidate, generate_roster
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.generate import Template, render_workbook
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.roster import Agency
from pmqa_xlsx.xlsxread import open_package

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
        assert parts(template.personalise(agency)) == parts(
            render_workbook(cellmap, agency=agency, password="pw", generated_at=WHEN))


def test_generation_is_the_same_with_one_process_or_two(layout: Layout,
                                                        tmp_path: Path) -> None:
    one = generate_roster(layout, AGENCIES, tmp_path / "one", jobs=1, generated_at=WHEN)
    two = generate_roster(layout, AGENCIES, tmp_path / "two", jobs=2, generated_at=WHEN)
    assert [g.sha256 for g in one] == [g.sha256 for g in two]
    assert (tmp_path / "one" / "manifest.csv").read_bytes() == \
        (tmp_path / "two" / "manifest.csv").read_bytes()


def answers(cellmap: CellMap, seed: int) -> dict[tuple[str, str], Any]:
    rng = random.Random(seed)
    out: dict[tuple[str, str], Any] = {}
    for cell in cellmap.inputs():
        if cell.kind == "identity" or rng.random() < 0.3:
            continue
        if cell.kind in ("status", "direction"):
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
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
             'openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="2">'
             '<c r="B2" s="1"/><c t="inlineStr"><is><t>C2</t></is></c><c><v>4</v></c></row>'
             '<row><c t="inlineStr"><is><t>A3</t></is></c></row></sheetData></worksheet>')
    book = ('<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>')
    rels = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="x" '
            'Target="worksheets/sheet1.xml"/></Relationships>')
    path = tmp_path / "order.xlsx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("xl/workbook.xml", book)
        package.writestr("xl/_rels/workbook.xml.rels", rels)
        package.writestr("xl/worksheets/sheet1.xml", sheet)
    with open_package(path) as package:
        cells, beyond = package.read_cells(package.sheets[0])
    assert {pos: c.value for pos, c in cells.items()} == {(1, 2): "C2", (1, 3): 4.0,
                                                         (2, 0): "A3"}
    assert beyond is None


@pytest.mark.parametrize("name", ["literal _x0041_ here", "x\x01y", "ข & <ค> \"ง\""])
def test_personalised_text_is_escaped_as_xlsxwriter_escapes_it(cellmap: CellMap,
                                                               name: str) -> None:
    agency = Agency(code="E001", name=name, ministry="ก")
    fields = frozenset({"agency_code", "agency_name", "ministry"})
    template = Template(cellmap, fields, None, WHEN)
    assert parts(template.personalise(agency)) == parts(
        render_workbook(cellmap, agency=agency, generated_at=WHEN))


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
