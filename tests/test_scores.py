"""Score rules per table and the checklist score: the YAML checked with its paths, each rule
in Python on cases worked by hand, and LibreOffice computing every formula to the Python
value, on a table of cases and on a filled form read back."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
import yaml
from xlsxwriter.utility import quote_sheetname

from pmqa_xlsx import (
    Agency,
    LayoutError,
    build_cellmap,
    consolidate,
    generate_workbook,
    parse_layout,
)
from pmqa_xlsx.cellmap import CellMap, status_ranges
from pmqa_xlsx.generate import render_workbook
from pmqa_xlsx.layout import BandedScore, ChecklistScore, Layout, TableRule, resolve_layout_path
from pmqa_xlsx.libreoffice import convert
from pmqa_xlsx.read import SCORE_COLUMNS, read_return
from pmqa_xlsx.rules import (
    checklist_score,
    checklist_score_formula,
    percent_formula,
    percent_success,
    score,
    score_formula,
)

from .conftest import FIXED_TIME

RAW: dict[str, Any] = yaml.safe_load(resolve_layout_path(None).read_text(encoding="utf-8"))
HIGHER, LOWER = "ยิ่งมากยิ่งดี", "ยิ่งน้อยยิ่งดี"
NOT_STARTED, STARTING, DONE = (s["label"] for s in RAW["statuses"])
PMQA = {"kind": "banded", "floor_percent": 75, "at_floor": 100, "per_percent": 20,
        "ceiling_percent": 95, "at_ceiling": 500, "below_floor": 0, "decimals": 2}


def scored(data: dict[str, Any]) -> None:
    """The bundled form with a rule of each kind: 7.2.1 the default (linear 0–5), 7.2.2
    PMQA's bands, 7.2.3 the bands with lower-is-better mirrored, 7.2.4 linear mirrored, 7.2.5
    bands of its own (below the floor scores -1, 3 decimals); and a checklist score. The
    form's checks are left out: the cases leave targets and results blank on purpose, and
    tests/test_checks.py holds the checks."""
    data.pop("checks", None)
    data["sheets"][1]["rows"] = len(CASES)
    data["rules"]["score_rules"] = {"pmqa_bands": PMQA}
    data["rules"]["tables"] = {
        "7.2.2": {"score": "pmqa_bands"},
        "7.2.3": {"score": "pmqa_bands", "lower_is_better": "mirror"},
        "7.2.4": {"lower_is_better": "mirror"},
        "7.2.5": {"score": {"kind": "banded", "floor_percent": 60, "at_floor": 1,
                            "per_percent": 0.1, "ceiling_percent": 100, "at_ceiling": 5,
                            "below_floor": -1, "decimals": 3}},
    }
    data["rules"]["checklist_score"] = {"label": "คะแนนการดำเนินการหมวด 3",
                                        "points": {"not_started": 0, "starting": 1,
                                                   "done": 2.5}}


def layout_after(*changes: Callable[[dict[str, Any]], None]) -> Layout:
    data = copy.deepcopy(RAW)
    for change in changes:
        change(data)
    return parse_layout(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def problems_after(change: Callable[[dict[str, Any]], None]) -> list[str]:
    with pytest.raises(LayoutError) as info:
        layout_after(change)
    return list(info.value.problems)


# target, result of the target year, direction: for every table's rule
CASES: list[tuple[object, object, str | None]] = [
    (100, 74.99, None),     # just below PMQA's floor
    (100, 75, None),        # at the floor
    (100, 75.01, None),     # just above it
    (100, 80, HIGHER),
    (100, 94.99, None),     # just below the ceiling
    (100, 95, None),        # at the ceiling
    (100, 95.01, None),     # just above it
    (100, 100, None),
    (100, 120, None),       # above the ceiling (and above 100 %)
    (100, 0, None),         # a result of zero
    (100, -10, None),       # a negative result
    (None, 50, None),       # blank target
    (100, None, None),      # blank result
    (None, None, LOWER),    # both blank
    (0, 50, None),          # a target of zero: no ratio
    (100, 80, LOWER),       # lower is better: ratio 125, mirror 120
    (100, 125, LOWER),      # ratio 80, mirror 75
    (100, 105, LOWER),      # ratio 95.24, mirror 95
    (100, 106, LOWER),      # ratio 94.34, mirror 94
    (100, 0, LOWER),        # ratio undefined, mirror 200
    (100, -5, LOWER),       # ratio undefined, mirror 205
    (50, 200, LOWER),       # ratio 25, mirror -200 (a negative percent)
    (4, 3, f" {LOWER} "),   # spaces around a pasted direction (TRIM)
    (4, 3, f"\t{LOWER}"),   # a tab is not a space: higher
    (8, 7.5, None),         # 93.75 %
    (3, 2.675, None),       # 89.17 %
    (160, 23, None),        # 14.375 in decimal, 14.374999999999998 in binary
    (1000, 7, None),
    (100, 60, None),        # at 7.2.5's floor
    (100, 59.99, None),     # just below it
]


def test_table_rules_resolve_by_table_then_sheet_then_default() -> None:
    layout = layout_after(scored, lambda d: d["rules"]["tables"].update(
        {"7.2": {"lower_is_better": "mirror"}}))
    rules = layout.rules
    assert rules.for_table("7.2.1").lower_is_better == "mirror"  # from the sheet's entry
    assert rules.for_table("7.2.1").score == rules.default.score
    assert rules.for_table("7.2.2").score == BandedScore(**{**PMQA, "kind": "banded"})
    assert rules.for_table("7.2.2").lower_is_better == "mirror"
    assert rules.for_table("7.2.5").score.decimals == 3  # type: ignore[union-attr]
    plain = layout_after(scored)
    assert plain.rules.for_table("7.2.1") == plain.rules.default
    assert plain.rules.default.lower_is_better == "ratio"
    assert plain.rules.checklist_score == ChecklistScore(
        label="คะแนนการดำเนินการหมวด 3", decimals=2,
        points=plain.rules.checklist_score.points)  # type: ignore[union-attr]
    assert [(p.id, p.points) for p in plain.rules.checklist_score.points] == [  # type: ignore[union-attr]
        ("not_started", 0.0), ("starting", 1.0), ("done", 2.5)]
    cellmap = build_cellmap(plain)
    assert {r.table_id: r.rule for r in cellmap.indicator_rows} == {
        t: plain.rules.for_table(t) for t in ("7.2.1", "7.2.2", "7.2.3", "7.2.4", "7.2.5")}


def test_the_default_rule_written_out_is_the_same_rule() -> None:
    """``kind: linear`` and ``lower_is_better: ratio`` are the defaults: written out, the
    bundled form's formulas are the same (its content, and fingerprint, are not)."""
    bundled = layout_after()
    explicit = layout_after(lambda d: d["rules"]["score"].update(kind="linear"),
                            lambda d: d["rules"]["percent_success"].update(
                                lower_is_better="ratio"))
    assert explicit.rules == bundled.rules and explicit.fingerprint != bundled.fingerprint
    formulas = [[f.formula for f in build_cellmap(lay).formulas()] for lay in (bundled, explicit)]
    assert formulas[0] == formulas[1]
    assert not any(f.kind == "checklist_score" for f in build_cellmap(bundled).formulas())


BAD_RULES: list[tuple[str, Callable[[dict[str, Any]], None], list[str]]] = [
    ("a typo in a score key",
     lambda d: d["rules"]["score"].update(maxx=5),
     ["$.rules.score.maxx: unknown key 'maxx'; did you mean 'max'?"]),
    ("an unknown kind",
     lambda d: d["rules"]["score"].update(kind="steps"),
     ["$.rules.score.kind: must be one of linear, banded, found 'steps'"]),
    ("a banded rule with linear keys",
     lambda d: d["rules"]["score"].update(kind="banded"),
     ["$.rules.score.max: unknown key 'max'; allowed: floor_percent, at_floor, per_percent, "
      "ceiling_percent, at_ceiling, below_floor, decimals, kind",
      "$.rules.score.full_at_percent: unknown key 'full_at_percent'; did you mean "
      "'floor_percent'?",
      *(f"$.rules.score.{k}: missing; this key is required" for k in (
          "floor_percent", "at_floor", "per_percent", "ceiling_percent", "at_ceiling",
          "below_floor"))]),
    ("a ceiling not above the floor, a key missing, text for a number",
     lambda d: d["rules"].update(
         score_rules={"b": {**PMQA, "ceiling_percent": 75, "at_floor": "100"}},
         tables={"7.2.1": {"score": "b"}}),
     ["$.rules.score_rules.b.at_floor: must be a number, found text '100'",
      "$.rules.score_rules.b.ceiling_percent: must be above floor_percent (75), found 75"]),
    ("a rule name that is not an id, and used by no table",
     lambda d: d["rules"].update(score_rules={"PMQA bands": PMQA}),
     ["$.rules.score_rules.PMQA bands: 'PMQA bands' must be lower-case letters, digits and _, "
      "like 'pmqa_bands'",
      "$.rules.score_rules.PMQA bands: the score rule 'PMQA bands' is used by no table: name "
      "it in $.rules.tables (as score: PMQA bands) or remove it"]),
    ("tables: an unknown id, a checklist's id, an unknown rule, an empty entry",
     lambda d: d["rules"].update(
         score_rules={"bands": PMQA},
         tables={"7.2.9": {"score": "bands"}, "3": {"score": "bands"},
                 "7.2.1": {"score": "bandz"}, "7.2.2": {}, "7.2.3": "bands"}),
     ["$.rules.tables[\"7.2.9\"]: '7.2.9' is not the id of an indicator table or indicator "
      "sheet; did you mean '7.2.5'?",
      "$.rules.tables.3: '3' is not the id of an indicator table or indicator sheet; ids: 7.2, "
      "7.2.1, 7.2.2, 7.2.3, 7.2.4, 7.2.5",
      "$.rules.tables[\"7.2.1\"].score: no score rule named 'bandz'; did you mean 'bands'?",
      "$.rules.tables[\"7.2.2\"]: give 'score', 'lower_is_better' or both",
      "$.rules.tables[\"7.2.3\"]: must be a mapping of keys, found text",
      "$.rules.score_rules.bands: the score rule 'bands' is used by no table: name it in "
      "$.rules.tables (as score: bands) or remove it"]),
    ("lower_is_better not one of the two",
     lambda d: d["rules"].update(tables={"7.2": {"lower_is_better": "inverse"}}),
     ["$.rules.tables[\"7.2\"].lower_is_better: must be one of ratio, mirror (ratio: target ÷ "
      "result × 100; mirror: 100 + (100 − result ÷ target × 100)), found 'inverse'"]),
    ("an inline rule in a table, checked where it is",
     lambda d: d["rules"].update(tables={"7.2.4": {"score": {"kind": "linear", "max": 0,
                                                              "full_at_percent": 100}}}),
     ["$.rules.tables[\"7.2.4\"].score.decimals: missing; this key is required",
      "$.rules.tables[\"7.2.4\"].score.max: must be above 0"]),
    ("checklist points: a status unknown, one missing, text",
     lambda d: d["rules"].update(checklist_score={
         "label": "คะแนน", "points": {"not_started": 0, "startng": 1, "done": "2"},
         "decimals": 9}),
     ["$.rules.checklist_score.points.startng: 'startng' is not the id of a status; did you "
      "mean 'starting'?",
      "$.rules.checklist_score.points.done: must be a number, found text '2'",
      "$.rules.checklist_score.points.starting: missing; give the points of every status (0 "
      "for none)",
      "$.rules.checklist_score.decimals: must be between 0 and 6, found 9"]),
    ("checklist score: keys missing or unknown",
     lambda d: d["rules"].update(checklist_score={"points": {}, "lable": "x"}),
     ["$.rules.checklist_score.lable: unknown key 'lable'; did you mean 'label'?",
      "$.rules.checklist_score.label: missing; this key is required",
      "$.rules.checklist_score.points: must have at least 1 entry; remove the key if there "
      "is none",
      *(f"$.rules.checklist_score.points.{s}: missing; give the points of every status (0 for "
        "none)" for s in ("not_started", "starting", "done"))]),
]


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in BAD_RULES],
                         ids=[c[0] for c in BAD_RULES])
def test_bad_rules_are_reported_with_their_paths_all_at_once(
        change: Callable[[dict[str, Any]], None], expected: list[str]) -> None:
    assert problems_after(change) == expected


def test_a_checklist_score_needs_a_checklist() -> None:
    def only_indicators(data: dict[str, Any]) -> None:
        scored(data)
        data["sheets"].pop(0)
    assert problems_after(only_indicators) == [
        "$.rules.checklist_score: the layout has no checklist sheet whose statuses could be "
        "scored; remove it"]


# percent -> score under PMQA's bands (75 % → 100, +20 a point, 95 % → 500), by hand
PMQA_BY_HAND = [(74.99, 0.0), (75.0, 100.0), (75.01, 100.2), (80.0, 200.0), (94.99, 499.8),
                (95.0, 500.0), (95.01, 500.0), (120.0, 500.0), (0.0, 0.0), (-10.0, 0.0),
                (93.75, 475.0), (None, None)]


@pytest.mark.parametrize(("percent", "points"), PMQA_BY_HAND)
def test_pmqa_bands_by_hand(percent: float | None, points: float | None) -> None:
    rule = layout_after(scored).rules.for_table("7.2.2")
    assert score(percent, rule) == points


@pytest.mark.parametrize(("target", "result", "ratio", "mirror"), [
    (100, 80, 125.0, 120.0), (100, 125, 80.0, 75.0), (100, 105, 95.24, 95.0),
    (100, 0, None, 200.0), (100, -5, None, 205.0), (50, 200, 25.0, -200.0),
    (0, 50, None, None), (None, 50, None, None), (100, None, None, None),
])
def test_lower_is_better_ratio_and_mirror_by_hand(target: float | None, result: float | None,
                                                  ratio: float | None,
                                                  mirror: float | None) -> None:
    rules = layout_after(scored).rules
    assert percent_success(target, result, LOWER, rules.for_table("7.2.2")) == ratio
    assert percent_success(target, result, LOWER, rules.for_table("7.2.3")) == mirror
    # higher is better, or a blank direction: the same under both
    for table in ("7.2.2", "7.2.3"):
        for direction in (None, HIGHER, ""):
            expected = percent_success(target, result, None, rules.default)
            assert percent_success(target, result, direction, rules.for_table(table)) == expected


def test_checklist_score_by_hand() -> None:
    spec = layout_after(scored).rules.checklist_score
    assert spec is not None
    assert checklist_score([], spec) == 0.0
    assert checklist_score([DONE, STARTING, None, NOT_STARTED, f" {DONE} ", "x", 2.5],
                           spec) == 6.0
    assert checklist_score([f"{DONE}\t"], spec) == 0.0  # TRIM removes spaces only


# --------------------------------------------------------------------------------------------
# LibreOffice: the formulas compute the Python values
# --------------------------------------------------------------------------------------------

# a status column's variants, each summed by one checklist-score formula
STATUS_VARIANTS: list[list[object]] = [
    [],
    [DONE] * 7,
    [NOT_STARTED, STARTING, DONE, None, DONE, STARTING, None],
    [f" {DONE} ", f"  {STARTING}", f"{DONE}   "],    # spaces TRIM removes
    [f"{DONE}\u00a0", f"\t{STARTING}", "done", "x"],  # what TRIM keeps: no status
    [2.5, 1, 0, DONE],                                # numbers are no status
]
POINTS = [{"not_started": 0, "starting": 1, "done": 2.5},
          {"not_started": 0.1, "starting": 0.1, "done": 0.1},  # 0.1 + 0.2 ≠ 0.3 in binary
          {"not_started": -1, "starting": 0, "done": 3}]


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _same(got: Any, expected: float | None) -> bool:
    if expected is None:
        return _blank(got)
    return isinstance(got, int | float) and got == pytest.approx(expected, abs=1e-9)


@pytest.mark.libreoffice
def test_libreoffice_computes_every_rule_as_python_does(soffice: str, tmp_path: Path) -> None:
    """Each case under each table's rule (and the default) as formulas over cells, with and
    without a direction column; each status variant under each set of points."""
    layout = layout_after(scored)
    rules: list[TableRule] = [layout.rules.default, *(r for _, r in layout.rules.tables)]
    specs = [layout_after(scored, lambda d, p=p: d["rules"]["checklist_score"].update(
        points=p)).rules.checklist_score for p in POINTS]
    path = tmp_path / "cases.xlsx"
    expected: list[tuple[str, str, float | None, str]] = []  # sheet, cell, value, case
    with xlsxwriter.Workbook(path, {"strings_to_formulas": False,
                                    "strings_to_numbers": False}) as book:
        ws = book.add_worksheet("rules")
        row = 0
        for r, rule in enumerate(rules):
            for target, result, direction in CASES:
                row += 1
                cells = [f"{c}{row + 1}" for c in "ABCDEFG"]
                for col, value in enumerate((target, result, direction)):
                    if isinstance(value, str):
                        ws.write_string(row, col, value)
                    elif value is not None:
                        ws.write_number(row, col, value)
                percent = percent_success(target, result, direction, rule)  # type: ignore[arg-type]
                plain = percent_success(target, result, None, rule)  # type: ignore[arg-type]
                case = f"rule {r}: {target}, {result}, {direction!r}"
                for cell, formula, value in (
                        (cells[3], percent_formula(cells[0], cells[1], cells[2], rule), percent),
                        (cells[4], score_formula(cells[3], rule), score(percent, rule)),
                        (cells[5], percent_formula(cells[0], cells[1], None, rule), plain),
                        (cells[6], score_formula(cells[5], rule), score(plain, rule))):
                    ws.write_formula(cell, formula, None, "")
                    expected.append(("rules", cell, value, case))
        ws = book.add_worksheet("ตรวจ สถานะ")  # a name that needs quoting
        for v, variant in enumerate(STATUS_VARIANTS):
            for i, value in enumerate(variant):
                if isinstance(value, str):
                    ws.write_string(1 + i, v, value)
                elif value is not None:
                    ws.write_number(1 + i, v, value)
            column = chr(ord("A") + v)
            for s, spec in enumerate(specs):
                assert spec is not None
                cell = f"{column}{12 + s}"
                ranges = [f"{quote_sheetname(ws.name)}!{column}2:{column}5",
                          f"{quote_sheetname(ws.name)}!{column}6:{column}9"]
                ws.write_formula(cell, checklist_score_formula(ranges, spec), None, "")
                expected.append((ws.name, cell, checklist_score(variant, spec),
                                 f"statuses {variant!r}, points {POINTS[s]}"))
    values = openpyxl.load_workbook(convert(path, tmp_path / "lo", recalc=True), data_only=True)
    wrong = [(case, cell, values[sheet][cell].value, value) for sheet, cell, value, case in expected
             if not _same(values[sheet][cell].value, value)]
    assert wrong == []
    assert len(expected) == len(rules) * len(CASES) * 4 + len(STATUS_VARIANTS) * len(POINTS)


# The cases a return may hold and still be counted (a target of 0 is an error in the form),
# and be read as typed: the reader takes a direction without the tab around it (as a status),
# which the formula's TRIM keeps, so that case is a cached-mismatch warning, as it should be.
FORM_CASES = [case for case in CASES if case[0] != 0 and "\t" not in (case[2] or "")]


@pytest.mark.libreoffice
def test_libreoffice_and_the_reader_agree_on_a_filled_scored_form(
        soffice: str, tmp_path: Path) -> None:
    """The form of a layout with a rule of each kind, every table filled with the cases and the
    statuses with a mix: LibreOffice's values of every percent, score and the checklist score
    are the reader's, which finds no cached result to disagree with, and the frames carry
    them."""
    layout = layout_after(scored)
    cellmap = build_cellmap(layout)
    blank = tmp_path / "blank.xlsx"
    generate_workbook(layout, blank, generated_at=FIXED_TIME)
    book = openpyxl.load_workbook(blank)
    book[cellmap.sheets[0].name][cellmap.identity_cell("agency_code").ref] = "01001"
    for row in cellmap.indicator_rows:
        if row.number > len(FORM_CASES):
            continue
        target, result, direction = FORM_CASES[row.number - 1]
        ws = book[row.percent.sheet]
        ws[row.cells["name"].ref] = f"ตัวชี้วัด {row.item_id}"
        ws[row.cells["target"].ref] = target
        ws[row.cells[row.compared].ref] = result
        ws[row.cells["direction"].ref] = direction
    statuses = list(cellmap.status_cells())
    mix = [DONE, STARTING, NOT_STARTED, None, f" {DONE} "]
    for i, cell in enumerate(statuses):
        book[cell.sheet][cell.ref] = mix[i % len(mix)]
    filled = tmp_path / "filled.xlsx"
    book.save(filled)
    recalculated = convert(filled, tmp_path / "lo", recalc=True)
    values = openpyxl.load_workbook(recalculated, data_only=True)

    wrong = []
    for row in cellmap.indicator_rows:
        target, result, direction = (FORM_CASES[row.number - 1] if row.number <= len(FORM_CASES)
                                     else (None, None, None))
        percent = percent_success(target, result, direction, row.rule)  # type: ignore[arg-type]
        for formula, value in ((row.percent, percent), (row.score, score(percent, row.rule))):
            got = values[formula.sheet][formula.ref].value
            if not _same(got, value):
                wrong.append((formula.kind, row.item_id, got, value))
    assert wrong == []
    spec = layout.rules.checklist_score
    assert spec is not None
    expected_score = checklist_score([mix[i % len(mix)] for i in range(len(statuses))], spec)
    cell = cellmap.checklist_score_cell()
    assert cell is not None
    assert values[cell.sheet][cell.ref].value == pytest.approx(expected_score)
    assert expected_score == 2.5 * 7 + 1 * 4  # 19 rows: 7 done (3 with spaces), 4 starting
    assert status_ranges(cellmap.sheets[1:]) == ["'หมวด 3'!C5:C41"]

    result = read_return(recalculated, [layout])
    codes = set(result.problems["code"])
    assert not codes & {"cached-mismatch", "formula-removed"}, result.problems
    merged = consolidate([recalculated], layouts=[layout])
    assert merged.returns["checklist_score"].tolist() == [expected_score]
    frame = merged.scores
    assert frame["checklist_score"].tolist() == [expected_score]
    assert frame["checklist_score_max"].tolist() == [2.5 * len(statuses)]
    for table in ("7.2.1", "7.2.2", "7.2.3", "7.2.4", "7.2.5"):
        shown = [values[r.score.sheet][r.score.ref].value for r in cellmap.indicator_rows
                 if r.table_id == table]
        numbers = [v for v in shown if not _blank(v)]
        assert frame[f"scored_{table}"].tolist() == [len(numbers)]
        assert frame[f"score_sum_{table}"].tolist() == [pytest.approx(sum(numbers))]
        assert frame[f"score_mean_{table}"].tolist() == [pytest.approx(sum(numbers)
                                                                       / len(numbers))]


def test_a_return_saved_with_its_results_reads_without_a_mismatch(tmp_path: Path) -> None:
    """A return as a spreadsheet saves it (``answers`` with their results cached): the reader
    recomputes every score and the checklist score to the cached values, and the frames carry
    them, by table."""
    layout = layout_after(scored)
    cellmap = build_cellmap(layout)
    answers: dict[tuple[str, str], Any] = {}
    for row in cellmap.indicator_rows:
        if row.number <= len(FORM_CASES):
            target, result, direction = FORM_CASES[row.number - 1]
            answers[(row.item_id, "name")] = f"ตัวชี้วัด {row.item_id}"
            for field, value in (("target", target), (row.compared, result),
                                 ("direction", direction)):
                if value is not None:
                    answers[(row.item_id, field)] = value
    statuses = list(cellmap.status_cells())
    for i, cell in enumerate(statuses):
        answers[(cell.item_id, "status")] = (DONE, STARTING, NOT_STARTED)[i % 3]
    path = tmp_path / "01001.xlsx"
    path.write_bytes(render_workbook(cellmap, agency=Agency(code="01001", name="กรมหนึ่ง"),
                                     generated_at=FIXED_TIME, answers=answers))
    merged = consolidate([path], layouts=[layout])
    assert merged.returns["state"].tolist() == ["ok"], merged.problems["message_en"].tolist()
    points = 2.5 * len(statuses[::3]) + 1 * len(statuses[1::3])
    assert merged.returns["checklist_score"].tolist() == [points]
    scores = merged.indicators.groupby("table_id")["score"].agg(["count", "sum"])
    for table, (count, total) in scores.iterrows():
        assert merged.scores[f"scored_{table}"].tolist() == [count]
        assert merged.scores[f"score_sum_{table}"].tolist() == [pytest.approx(total)]
    assert list(merged.scores.columns[:4]) == list(SCORE_COLUMNS)
    assert merged.scores["score_sum_7.2.2"].tolist() == [pytest.approx(sum(
        score(percent_success(t, r, d, layout.rules.for_table("7.2.2")),  # type: ignore[arg-type]
              layout.rules.for_table("7.2.2")) or 0 for t, r, d in FORM_CASES))]


def test_the_checklist_score_is_one_formula_over_the_status_column(
        cellmap: CellMap) -> None:
    assert cellmap.checklist_score_cell() is None
    assert len(build_cellmap(layout_after(scored)).sheets[0].formulas) == 3
    formula = build_cellmap(layout_after(scored)).checklist_score_cell()
    assert formula is not None and formula.formula == (
        f"=ROUND(SUMPRODUCT((TRIM('หมวด 3'!C5:C41)=\"{STARTING}\")*1+"
        f"(TRIM('หมวด 3'!C5:C41)=\"{DONE}\")*2.5),2)")


def test_the_documented_rules_load_and_mean_what_the_documentation_says() -> None:
    """docs/layout-format.md's example of ``rules:``, put into the bundled form."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "layout-format.md").read_text(
        encoding="utf-8")
    section = text[text.index("## `rules`"):]
    start = section.index("```yaml\n") + 8
    block = section[start:section.index("\n```", start)]
    documented = yaml.safe_load(block)["rules"]
    layout = layout_after(lambda d: d.update(rules=documented))
    rules = layout.rules
    assert rules.for_table("7.2.1").score == rules.for_table("7.2.2").score == BandedScore(
        **{**PMQA, "kind": "banded"})
    assert rules.for_table("7.2.5").lower_is_better == "mirror"
    assert rules.for_table("7.2.5").score == rules.for_table("7.2.1").score
    assert rules.for_table("7.2.4").score.floor_percent == 60  # type: ignore[union-attr]
    assert rules.checklist_score is not None and rules.checklist_score.decimals == 2
