"""The form's own checks (``checks:``, pmqa_xlsx.checks): on a table of filled variants,
LibreOffice's live count, lists and reason cells equal the reader's problems, cell for cell;
and the layout key is validated with YAML paths."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from openpyxl.utils import range_boundaries

from pmqa_xlsx import LayoutError, build_cellmap, generate_workbook, parse_layout
from pmqa_xlsx.cellmap import CellMap, InputCell, completeness
from pmqa_xlsx.checks import PROBLEM_CODES, conditional_formats, filled, reason_text
from pmqa_xlsx.layout import WARNING_MARK, Layout, resolve_layout_path
from pmqa_xlsx.libreoffice import convert_many
from pmqa_xlsx.read import read_raw

from .conftest import FIXED_TIME

RAW: dict[str, Any] = yaml.safe_load(resolve_layout_path(None).read_text(encoding="utf-8"))
NUMBER_CODES = ("not-a-number", "number-out-of-range")


def variant_layout(blanks: int | str = "all") -> Layout:
    """The bundled layout with whole-number targets, and ``blanks`` for details_required."""
    data = copy.deepcopy(RAW)
    data["sheets"][1]["validation"]["target"]["whole_number"] = True
    for check in data["checks"]["list"]:
        if check["check"] == "details_required":
            check["blanks"] = blanks
    return parse_layout(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


LAYOUTS = {"all": variant_layout(), "one": variant_layout(1)}
S = {s.id: s.label for s in LAYOUTS["all"].statuses}
DONE, NOT_STARTED, STARTING = S["done"], S["not_started"], S["starting"]


def base(cellmap: CellMap) -> dict[tuple[str, str], Any]:
    """A complete, valid return: every status done, every blank filled, the first indicator
    row of each table complete, the other rows empty."""
    out: dict[tuple[str, str], Any] = {}
    for cell in cellmap.inputs():
        key = (cell.item_id, cell.field_id)
        if cell.kind == "identity":
            out[key] = "99001" if cell.field_id == "agency_code" else f"ข้อมูล {cell.field_id}"
        elif cell.kind == "status":
            out[key] = DONE
        elif cell.part == "3":
            out[key] = f"รายละเอียด {cell.item_id} {cell.field_id}"
        elif cell.item_id.endswith(".1"):  # 7.2.x.1, not 7.2.x.10
            out[key] = _indicator_value(cell)
    return out


def _indicator_value(cell: InputCell) -> Any:
    return {"name": f"ตัวชี้วัด {cell.item_id}", "unit": "ร้อยละ", "direction": None,
            "target": 80.0}.get(cell.field_id, 75.5)


# (name, layout, {(item, field): value}, [(item, field, code)] expected by hand)
VARIANTS: list[tuple[str, str, dict[tuple[str, str], Any], list[tuple[str, str, str]]]] = [
    ("complete", "all", {}, []),
    ("status missing", "all", {("3.1.1", "status"): None},
     [("3.1.1", "status", "status-required")]),
    ("sub-row status missing", "all", {("3.4.2.a", "status"): None},
     [("3.4.2.a", "status", "status-required")]),
    ("status of a sub-row with a grid missing", "all", {("3.2.2.b", "status"): None},
     [("3.2.2.b", "status", "status-required")]),
    ("done, one detail missing", "all", {("3.1.1", "trend"): None},
     [("3.1.1", "trend", "details-required")]),
    ("done, both details missing", "all", {("3.1.1", "trend"): None, ("3.1.1", "policy"): None},
     [("3.1.1", "trend", "details-required"), ("3.1.1", "policy", "details-required")]),
    ("done, a detail of spaces", "all", {("3.3.1", "innovation"): "   "},
     [("3.3.1", "innovation", "details-required")]),
    ("done, a grid cell missing", "all", {("3.2.2.b", "recipient_2.needs"): None},
     [("3.2.2.b", "recipient_2.needs", "details-required")]),
    ("not started, details filled", "all", {("3.1.1", "status"): NOT_STARTED},
     [("3.1.1", "trend", "details-unexpected"), ("3.1.1", "policy", "details-unexpected")]),
    ("not started, one detail filled", "all",
     {("3.4.5", "status"): NOT_STARTED},
     [("3.4.5", "technology", "details-unexpected")]),
    ("not started, no details", "all", {("3.1.2", "status"): NOT_STARTED,
                                        ("3.1.2", "sources"): None,
                                        ("3.1.2", "response"): None}, []),
    ("starting, no details", "all", {("3.3.2", "status"): STARTING,
                                     ("3.3.2", "innovation"): None}, []),
    ("starting, details filled", "all", {("3.3.3", "status"): STARTING}, []),
    ("not started, no blanks at all", "all", {("3.4.2.b", "status"): NOT_STARTED}, []),
    ("every status missing", "all", {k: None for k in [
        ("3.1.1", "status"), ("3.1.2", "status"), ("3.1.3", "status")]},
     [("3.1.1", "status", "status-required"), ("3.1.2", "status", "status-required"),
      ("3.1.3", "status", "status-required")]),
    ("no indicator name", "all", {("7.2.1.1", "name"): None},
     [("7.2.1.1", "name", "indicator-needs-name")]),
    ("indicator name of spaces", "all", {("7.2.2.1", "name"): "  "},
     [("7.2.2.1", "name", "indicator-needs-name")]),
    ("target alone", "all", {("7.2.1.2", "target"): 50.0},
     [("7.2.1.2", "name", "indicator-needs-name"),
      ("7.2.1.2", "result_3", "target-without-result")]),
    ("name and target, no result", "all", {("7.2.1.2", "name"): "ก", ("7.2.1.2", "target"): 5.0},
     [("7.2.1.2", "result_3", "target-without-result")]),
    ("results without target", "all", {("7.2.1.1", "target"): None},
     [("7.2.1.1", "target", "result-without-target")]),
    ("one old result alone", "all", {("7.2.3.2", "result_1"): 10.0},
     [("7.2.3.2", "name", "indicator-needs-name"),
      ("7.2.3.2", "target", "result-without-target")]),
    ("target-year result missing", "all", {("7.2.1.1", "result_3"): None},
     [("7.2.1.1", "result_3", "target-without-result")]),
    ("only the target-year result missing, others there", "all",
     {("7.2.4.1", "result_3"): None, ("7.2.4.1", "result_1"): 1.0},
     [("7.2.4.1", "result_3", "target-without-result")]),
    ("name alone", "all", {("7.2.5.2", "name"): "ตัวชี้วัดใหม่"}, []),
    ("unit missing", "all", {("7.2.1.1", "unit"): None}, []),
    ("a row emptied", "all", {("7.2.3.1", f): None for f in
                              ("name", "unit", "target", "result_1", "result_2", "result_3")},
     []),
    ("target zero", "all", {("7.2.1.1", "target"): 0.0},
     [("7.2.1.1", "target", "number-out-of-range")]),
    ("target not whole", "all", {("7.2.2.1", "target"): 85.5},
     [("7.2.2.1", "target", "number-out-of-range")]),
    ("target in words", "all", {("7.2.1.1", "target"): "แปดสิบ"},
     [("7.2.1.1", "target", "not-a-number")]),
    ("result too large", "all", {("7.2.1.1", "result_2"): 2e12},
     [("7.2.1.1", "result_2", "number-out-of-range")]),
    ("result negative, allowed", "all", {("7.2.1.1", "result_1"): -5.0}, []),
    ("result in words", "all", {("7.2.5.1", "result_3"): "N/A"},
     [("7.2.5.1", "result_3", "not-a-number")]),
    ("several at once", "all", {("3.1.1", "policy"): None, ("3.1.2", "status"): NOT_STARTED,
                                ("7.2.2.1", "target"): None, ("7.2.4.3", "target"): 9.0},
     [("3.1.1", "policy", "details-required"), ("3.1.2", "sources", "details-unexpected"),
      ("3.1.2", "response", "details-unexpected"), ("7.2.2.1", "target", "result-without-target"),
      ("7.2.4.3", "name", "indicator-needs-name"),
      ("7.2.4.3", "result_3", "target-without-result")]),
    ("one of two details is enough", "one", {("3.1.1", "trend"): None}, []),
    ("none of two details", "one", {("3.1.1", "trend"): None, ("3.1.1", "policy"): None},
     [("3.1.1", "trend", "details-required"), ("3.1.1", "policy", "details-required")]),
    ("one of eight grid cells is enough", "one",
     {("3.2.2.b", f"{r}.{c}"): None for r in ("recipient_1", "recipient_2", "stakeholder_1")
      for c in ("who", "needs")}, []),
]


def _fill(layout: Layout, blank: Path, dst: Path, values: dict[tuple[str, str], Any]) -> None:
    book = openpyxl.load_workbook(blank)
    for cell in build_cellmap(layout).inputs():
        value = values.get((cell.item_id, cell.field_id))
        if value is not None:
            book[cell.sheet][cell.ref] = value
    book.save(dst)


def _live_lines(path: Path, cellmap: CellMap) -> tuple[set[tuple[str, str, str, str]], str, str]:
    """The live lists as (sheet, cell, severity, Thai message), the live count, and the
    completeness count, as LibreOffice computed them."""
    book = openpyxl.load_workbook(path, data_only=True)
    first = book[cellmap.sheets[0].name]
    out = set()
    for listed in cellmap.check_lists:
        text = first[listed.cell.ref].value or ""
        assert text == "" or text.endswith("\n"), text
        for line in text.splitlines():
            severity = "warning" if line.startswith(WARNING_MARK + " ") else "error"
            ref, message = line.removeprefix(WARNING_MARK + " ").split(": ", 1)
            out.add((listed.sheet, ref, severity, message))
    kinds = {f.kind: f for f in cellmap.sheets[0].formulas}
    return out, first[kinds["check_count"].ref].value, first[kinds["completeness"].ref].value


@pytest.mark.libreoffice
def test_libreoffice_shows_live_what_the_reader_reports(soffice: str, tmp_path: Path) -> None:
    blanks, filled_paths = {}, []
    for tag, layout in LAYOUTS.items():
        blanks[tag] = tmp_path / f"blank-{tag}.xlsx"
        generate_workbook(layout, blanks[tag], generated_at=FIXED_TIME)
    for n, (_, tag, changes, _) in enumerate(VARIANTS):
        cellmap = build_cellmap(LAYOUTS[tag])
        path = tmp_path / f"v{n:02d}.xlsx"
        _fill(LAYOUTS[tag], blanks[tag], path, {**base(cellmap), **changes})
        filled_paths.append(path)
    recalculated = convert_many(filled_paths, tmp_path / "lo", recalc=True)
    seen_codes: set[str] = set()
    for (name, tag, _, expected), path in zip(VARIANTS, recalculated, strict=True):
        layout = LAYOUTS[tag]
        cellmap = build_cellmap(layout)
        where = {(c.item_id, c.field_id): c for c in cellmap.inputs()}
        raw = read_raw(path, [layout])
        assert raw.plan is not None and raw.values is not None, (name, raw.problems)
        found = [p for p in raw.problems if p.code in (*PROBLEM_CODES.values(), *NUMBER_CODES)]
        # the reader, against the table
        assert sorted((p.sheet, p.cell, p.code) for p in found) == sorted(
            (where[(i, f)].sheet, where[(i, f)].ref, code) for i, f, code in expected), name
        seen_codes.update(p.code for p in found)
        # LibreOffice's live lists, against the reader, cell for cell
        live, count, complete = _live_lines(path, cellmap)
        thai = {(i.cell.sheet, i.cell.ref, i.check.kind): i.check.message_th
                for i in cellmap.instances}
        kind_of = {code: kind for kind, code in PROBLEM_CODES.items()}
        reader = {(p.sheet, p.cell, p.severity,
                   thai[(p.sheet, p.cell, kind_of.get(p.code, "number"))]) for p in found}
        assert live == reader, name
        errors = sum(1 for p in found if p.severity == "error")
        warnings = len(found) - errors
        assert count == f"ต้องแก้ไข {errors} จุด" + (
            f", ควรตรวจสอบ {warnings} จุด" if warnings else ""), name
        index = raw.plan.index
        values = raw.values

        def value_of(cell: InputCell, index: Any = index, values: Any = values) -> Any:
            return values[index[cell.key]]

        assert complete == completeness(cellmap, value_of), name
        # each reason cell beside its row, as the Python side gives it
        book = openpyxl.load_workbook(path, data_only=True)
        for reason in cellmap.reasons:
            shown = book[reason.cell.sheet][reason.cell.ref].value or ""
            assert shown == reason_text(reason.instances, value_of), (name, reason.cell.ref)
    assert seen_codes == {*PROBLEM_CODES.values(), *NUMBER_CODES}


def test_the_blank_form_shows_every_status_missing(layout: Layout, cellmap: CellMap,
                                                  blank_path: Path) -> None:
    """What a fresh workbook shows before any recalculation: the Python side's values."""
    book = openpyxl.load_workbook(blank_path)  # formulas
    first = book[cellmap.sheets[0].name]
    kinds = {f.kind: f for f in cellmap.sheets[0].formulas}
    assert first[kinds["check_count"].ref].value.startswith('="ต้องแก้ไข "&')
    values = openpyxl.load_workbook(blank_path, data_only=True)[cellmap.sheets[0].name]
    statuses = sum(1 for c in cellmap.inputs() if c.kind == "status")
    assert values[kinds["check_count"].ref].value == f"ต้องแก้ไข {statuses} จุด"
    assert values[kinds["completeness"].ref].value == "0 / 54"


def test_every_check_is_a_conditional_format_of_its_cell(cellmap: CellMap,
                                                        blank_path: Path) -> None:
    book = openpyxl.load_workbook(blank_path)
    for plan in cellmap.sheets[1:]:
        ws = book[plan.name]
        rules = ws.conditional_formatting
        found = sorted((cell, rule.formula[0]) for cf in rules for rule in cf.rules
                       for ref in str(cf.sqref).split() for row in ws.iter_rows(*_bounds(ref))
                       for cell in [c.coordinate for c in row])
        instances = [i for i in cellmap.instances if i.cell.sheet == plan.name]
        wanted = sorted((i.cell.ref, condition) for group, condition in
                        conditional_formats(instances) for i in group)
        assert found == wanted and {ref for ref, _ in found} == {i.cell.ref for i in instances}


def _bounds(ref: str) -> tuple[int, int, int, int]:
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    return min_row, max_row, min_col, max_col


def test_checks_formulas_fit_excel(cellmap: CellMap) -> None:
    formulas = [f.formula for f in cellmap.formulas()] + [
        i.condition() for i in cellmap.instances]
    assert max(len(f) for f in formulas) < 8_192


@pytest.mark.parametrize(("value", "is_filled"), [
    (None, False), ("", False), ("   ", False), ("\n\t", False), (" ก ", True), (0.0, True),
    ("\u00a0", True),  # a no-break space is not removed by TRIM or CLEAN
])
def test_filled_is_what_the_spreadsheet_says(value: Any, is_filled: bool) -> None:
    assert filled(value) is is_filled


def _problems(change: Any) -> list[str]:
    data = copy.deepcopy(RAW)
    change(data)
    with pytest.raises(LayoutError) as info:
        parse_layout(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return list(info.value.problems)


def test_checks_are_validated_with_their_yaml_paths() -> None:
    def bad(d: dict[str, Any]) -> None:
        checks = d["checks"]
        checks["count"] = "ต้องแก้ไข จุด"
        checks["list"][0]["check"] = "required"
        checks["list"][1]["status"] = "finished"
        checks["list"][1]["blanks"] = 0
        checks["list"][2]["severity"] = "fatal"
        checks["list"][3]["status"] = "done"
        checks["list"][4]["message_th"] = "สอง\nบรรทัด"
        checks["list"].append(dict(checks["list"][5]))
        checks["colour"] = "red"
        d["sheets"][1]["validation"]["target"]["whole_number"] = "yes"

    problems = _problems(bad)
    assert problems == [
        "$.sheets[1].validation.target.whole_number: must be true or false, found text",
        "$.checks.colour: unknown key 'colour'; did you mean 'column'?",
        "$.checks.count: must contain {n} once, where the number goes",
        "$.checks.list[0].check: must be one of status_required, details_required, "
        "details_unexpected, indicator_name, result_without_target, target_without_result, "
        "found 'required'",
        "$.checks.list[1].status: 'finished' is not a status id; use one of not_started, "
        "starting, done",
        "$.checks.list[1].blanks: must be between 1 and 100, found 0",
        "$.checks.list[2].severity: must be error or warning, found 'fatal'",
        "$.checks.list[3].status: only the details checks name a status, not indicator_name",
        "$.checks.list[4].message_th: must be one line (the live lists put one problem per "
        "line)",
        "$.checks.list[6].check: duplicate check (of this kind and status) "
        "'target_without_result ' (first at $.checks.list[5].check)",
    ]


def test_a_layout_without_checks_has_no_live_checks() -> None:
    data = copy.deepcopy(RAW)
    del data["checks"]
    cellmap = build_cellmap(parse_layout(yaml.safe_dump(data, allow_unicode=True)))
    assert not cellmap.reasons and not cellmap.check_lists
    assert re.fullmatch(r'=\(COUNTA\(.*\)\)&" / 54"', cellmap.sheets[0].formulas[0].formula)
