"""The layout loader: the bundled layout loads, and every kind of mistake is reported with its
YAML path, all at once."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from pmqa_xlsx import LayoutError, load_layout, parse_layout
from pmqa_xlsx.layout import bundled_layouts, compute_fingerprint, iter_rows, resolve_layout_path

BUNDLED = resolve_layout_path(None)
RAW: dict[str, Any] = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))

CAT3 = "$.sheets[0]"
CAT7 = "$.sheets[1]"


def problems_after(change: Callable[[dict[str, Any]], None]) -> list[str]:
    data = copy.deepcopy(RAW)
    change(data)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    with pytest.raises(LayoutError) as info:
        parse_layout(text, source="test.yaml")
    return list(info.value.problems)


def items(data: dict[str, Any], section: int = 0) -> list[dict[str, Any]]:
    return data["sheets"][0]["sections"][section]["items"]


def test_bundled_layout_is_the_default_and_loads() -> None:
    assert "pmqa4-2562" in bundled_layouts()
    layout = load_layout()
    assert layout.form.fiscal_year == 2562
    assert [s.kind for s in layout.sheets] == ["checklist", "indicators"]
    checklist = layout.sheets[0]
    row_ids = [row.id for _, _, row in iter_rows(checklist)]  # type: ignore[arg-type]
    assert row_ids == [
        "3.1.1", "3.1.2", "3.1.3", "3.2.1.a", "3.2.1.b", "3.2.2.a", "3.2.2.b", "3.2.2.c",
        "3.3.1", "3.3.2", "3.3.3", "3.4.1", "3.4.2.a", "3.4.2.b", "3.4.2.c", "3.4.2.d",
        "3.4.3", "3.4.4", "3.4.5",
    ]
    indicators = layout.sheets[1]
    assert [t.id for t in indicators.tables] == [f"7.2.{i}" for i in range(1, 6)]  # type: ignore[union-attr]
    assert all(t.rows >= 10 for t in indicators.tables)  # type: ignore[union-attr]


def test_fingerprint_ignores_yaml_styling_but_not_content() -> None:
    layout = load_layout()
    restyled = yaml.safe_dump(RAW, allow_unicode=True, sort_keys=True, indent=4)
    assert parse_layout(restyled).fingerprint == layout.fingerprint == compute_fingerprint(layout)
    changed = copy.deepcopy(RAW)
    changed["sheets"][1]["rows"] = 12
    text = yaml.safe_dump(changed, allow_unicode=True)
    assert parse_layout(text).fingerprint != layout.fingerprint


# One case per kind of problem: (what is changed, the exact problem expected).
CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown key",
     lambda d: d["form"].update(titel="x"),
     "$.form.titel: unknown key 'titel'; did you mean 'title'?"),
    ("missing key",
     lambda d: d["form"].pop("version"),
     "$.form.version: missing; this key is required"),
    ("id given as a number",
     lambda d: d["sheets"][0]["sections"][0].update(id=3.1),
     f"{CAT3}.sections[0].id: must be text, found a number 3.1; put it in quotes"),
    ("duplicate id",
     lambda d: items(d)[1].update(id="3.1.1"),
     f"{CAT3}.sections[0].items[1].id: duplicate id '3.1.1' "
     f"(first at {CAT3}.sections[0].items[0].id)"),
    ("id outside its parent",
     lambda d: items(d, 1)[0].update(id="3.9.1"),
     f"{CAT3}.sections[1].items[0].id: '3.9.1' must start with its parent's id '3.2.'"),
    ("malformed id",
     lambda d: items(d)[0].update(id="3.1.1 "),
     f"{CAT3}.sections[0].items[0].id: '3.1.1 ' must be dot-separated letters and digits, "
     "like '3.1.1'"),
    ("bad field id",
     lambda d: items(d)[0]["blanks"][0].update(id="Trend"),
     f"{CAT3}.sections[0].items[0].blanks[0].id: 'Trend' must be lower-case letters, digits "
     "and _, like 'trend'"),
    ("duplicate blank id",
     lambda d: items(d)[0]["blanks"][1].update(id="trend"),
     f"{CAT3}.sections[0].items[0].blanks[1].id: duplicate field id 'trend' "
     f"(first at {CAT3}.sections[0].items[0].blanks[0].id)"),
    ("rows and blanks together",
     lambda d: items(d, 1)[0].update(blanks=[{"id": "x", "label": "x"}]),
     f"{CAT3}.sections[1].items[0].blanks: an item has either 'rows' or its own "
     "text/blanks/grid/after, not both; move it into a row"),
    ("empty text",
     lambda d: items(d)[0].update(topic="  "),
     f"{CAT3}.sections[0].items[0].topic: must not be empty"),
    ("too few statuses",
     lambda d: d.update(statuses=d["statuses"][:1]),
     "$.statuses: must have at least 2 entries"),
    ("duplicate status label",
     lambda d: d["statuses"][1].update(label=d["statuses"][0]["label"]),
     "$.statuses[1].label: duplicate status label 'ยังไม่ได้ดำเนินการ' "
     "(first at $.statuses[0].label)"),
    ("comma in a dropdown label",
     lambda d: d["statuses"][0].update(label="ยังไม่ได้, ดำเนินการ"),
     "$.statuses[0].label: 'ยังไม่ได้, ดำเนินการ' must not contain a comma or a double quote; "
     "a dropdown list would split it"),
    ("sheet name too long",
     lambda d: d["sheets"][0].update(sheet="ก" * 32),
     f"{CAT3}.sheet: '{'ก' * 32}' is 32 characters; a sheet name has at most 31"),
    ("sheet name with a bad character",
     lambda d: d["sheets"][0].update(sheet="หมวด 3/4"),
     f"{CAT3}.sheet: 'หมวด 3/4' must not contain [ ] : * ? / \\ or start or end with '"),
    ("duplicate sheet name",
     lambda d: d["sheets"][1].update(sheet="หมวด 3"),
     f"{CAT7}.sheet: duplicate sheet name 'หมวด 3' (first at {CAT3}.sheet)"),
    ("reserved sheet name",
     lambda d: d["instructions"].update(sheet="_meta"),
     "$.instructions.sheet: '_meta' is reserved for the metadata sheet"),
    ("unknown sheet kind",
     lambda d: d["sheets"][1].update(kind="table"),
     f"{CAT7}.kind: must be one of checklist, indicators, found 'table'"),
    ("CE fiscal year",
     lambda d: d["form"].update(fiscal_year=2019),
     "$.form.fiscal_year: 2019 looks like a CE year; give the Buddhist Era year (2562)"),
    ("fiscal year not a number",
     lambda d: d["form"].update(fiscal_year="2562"),
     "$.form.fiscal_year: must be a whole number, found text '2562'"),
    ("rows out of range",
     lambda d: d["sheets"][1].update(rows=0),
     f"{CAT7}.rows: must be between 1 and 500, found 0"),
    ("results without the target year",
     lambda d: d["sheets"][1].update(result_years=[-3, -2, -1]),
     f"{CAT7}.result_years: must include the target year (+0); percent success compares "
     "the target with that year's result"),
    ("year heading without {year}",
     lambda d: d["sheets"][1]["columns"].update(target_year="2562"),
     f"{CAT7}.columns.target_year: must contain {{year}}, where the target year goes"),
    ("contradictory number rule",
     lambda d: d["sheets"][1]["validation"]["target"].update(at_least=1),
     f"{CAT7}.validation.target: give 'greater_than' or 'at_least', not both"),
    ("no agency code field",
     lambda d: d["identity"]["fields"][1].pop("roster"),
     "$.identity.fields: no field has 'roster: agency_code'; returns could not be matched "
     "to agencies"),
    ("unknown roster column",
     lambda d: d["identity"]["fields"][3].update(roster="phone"),
     "$.identity.fields[3].roster: 'phone' is not a roster column; use one of agency_code, "
     "agency_name, ministry"),
    ("same direction labels",
     lambda d: d["rules"]["directions"].update(lower=d["rules"]["directions"]["higher"]),
     "$.rules.directions.lower: must differ from 'higher'"),
    ("score scale not positive",
     lambda d: d["rules"]["score"].update(max=0),
     "$.rules.score.max: must be above 0"),
    ("number not finite",
     lambda d: d["sheets"][1]["validation"]["results"].update(at_most=float("inf")),
     f"{CAT7}.validation.results.at_most: must be a finite number below 1e300, found inf"),
    ("dropdown prompt too long",
     lambda d: [s.update(label="ก" * 70 + s["id"]) for s in d["statuses"]],
     "$.statuses: the labels joined are 239 characters; a dropdown's prompt lists them in at "
     "most 200: shorten them"),
    ("list expected",
     lambda d: d["sheets"][0]["sections"][0].update(items={"id": "3.1.1"}),
     f"{CAT3}.sections[0].items: must be a list, found a mapping"),
]


@pytest.mark.parametrize(("change", "expected"), [(c, e) for _, c, e in CASES],
                         ids=[name for name, _, _ in CASES])
def test_each_kind_of_problem_is_reported_with_its_path(
    change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    assert expected in problems_after(change)


def test_every_problem_is_reported_at_once() -> None:
    def several(d: dict[str, Any]) -> None:
        d["form"].update(titel="x")
        items(d)[1].update(id="3.1.1")
        d["sheets"][1].update(rows=0)

    problems = problems_after(several)
    assert len(problems) == 3
    assert [p.split(":")[0] for p in problems] == [
        "$.form.titel", f"{CAT3}.sections[0].items[1].id", f"{CAT7}.rows"]


def test_a_missing_key_is_reported_once() -> None:
    def drop(d: dict[str, Any]) -> None:
        d.pop("rules")

    assert problems_after(drop) == ["$.rules: missing; this key is required"]


def test_yaml_syntax_error_has_line_and_column() -> None:
    with pytest.raises(LayoutError) as info:
        parse_layout("form:\n  id: [unclosed\n", source="bad.yaml")
    (problem,) = info.value.problems
    assert problem.startswith("$: not valid YAML at line 3, column 1")
    assert str(info.value).startswith("layout bad.yaml: 1 problem")


def test_duplicate_yaml_key_is_an_error() -> None:
    with pytest.raises(LayoutError) as info:
        parse_layout("form:\n  id: a\n  id: b\n")
    assert info.value.problems == ("$: not valid YAML at line 3, column 3: duplicate key 'id' "
                                   "(first at line 2)",)


def test_unknown_layout_name_lists_the_bundled_ones() -> None:
    with pytest.raises(LayoutError) as info:
        load_layout("pmqa-1999")
    assert info.value.problems == ("$: no such layout; bundled layouts: pmqa4-2562",)
