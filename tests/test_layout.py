"""The layout loader: the bundled layout loads, and every kind of mistake is reported with its
YAML path, all at once."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from pmqa_xlsx import LayoutError, load_layout, parse_layout
from pmqa_xlsx.layout import (
    bundled_layouts,
    canonical_json,
    fiscal_year_problem,
    iter_rows,
    layout_fingerprint,
    resolve_layout_path,
)

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


# The bundled layout's fingerprint. Every workbook generated from it records this value, so a
# change here means the layout's content changed: regenerate samples/returns/ (and raise
# form.version if returns of the earlier edit are out there).
BUNDLED_FINGERPRINT = "17d819097eedd6ec57aea9481fca653e5f69b56425da8e2429230e048a42cf39"


def test_the_bundled_fingerprint_is_pinned() -> None:
    layout = load_layout()
    assert layout.fingerprint == BUNDLED_FINGERPRINT == layout_fingerprint(RAW)


def test_the_fingerprint_is_recomputed_from_its_documentation_alone() -> None:
    """docs/layout-format.md, "The fingerprint", done with nothing of pmqa_xlsx."""
    def canonical(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: canonical(value) for key, value in node.items()}
        if isinstance(node, list):
            return [canonical(value) for value in node]
        if isinstance(node, float) and node.is_integer() and abs(node) < 2**53:
            return int(node)
        return node

    data = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    text = json.dumps(canonical(data), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == BUNDLED_FINGERPRINT
    assert canonical_json(data) == text
    assert '"max":5}' in text and '"at_least":-1000000000000,' in text


class _Quoted(yaml.SafeDumper):
    """Every string in the given quotes."""


def _dump(data: Any, **options: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, width=10_000, **options)


def _quoted(style: str) -> str:
    dumper = type("Dumper", (_Quoted,), {})
    dumper.add_representer(str, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v,
                                                                style=style))
    return yaml.dump(RAW, Dumper=dumper, allow_unicode=True, width=10_000)


BUNDLED_TEXT = BUNDLED.read_text(encoding="utf-8")
SAME_CONTENT = {
    "comments and blank lines gone": _dump(RAW, sort_keys=False),
    "a comment added": BUNDLED_TEXT.replace("style:", "# a note\nstyle:  # and another", 1),
    "keys sorted": _dump(RAW, sort_keys=True),
    "keys reversed": _dump(json.loads(json.dumps(RAW), object_pairs_hook=lambda p: dict(
        reversed(p))), sort_keys=False),
    "flow style throughout": _dump(RAW, default_flow_style=True),
    "block style throughout": _dump(RAW, default_flow_style=False),
    "indented by 4": _dump(RAW, indent=4),
    "every string double-quoted": _quoted('"'),
    "every string single-quoted": _quoted("'"),
    "5.0 for 5, 1000000000000 for 1.0e+12": BUNDLED_TEXT.replace("max: 5", "max: 5.0").replace(
        "-1.0e+12", "-1000000000000"),
}


@pytest.mark.parametrize("text", SAME_CONTENT.values(), ids=SAME_CONTENT.keys())
def test_the_fingerprint_ignores_how_the_yaml_is_written(text: str) -> None:
    assert text != BUNDLED_TEXT
    assert parse_layout(text).fingerprint == BUNDLED_FINGERPRINT


CHANGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "one character of a label": lambda d: items(d)[0]["blanks"][0].update(
        label=items(d)[0]["blanks"][0]["label"] + "."),
    "an id": lambda d: (d["statuses"][0].update(id="not_yet"),  # and the check naming it
                        d["checks"]["list"][2].update(status="not_yet")),
    "a number": lambda d: d["sheets"][1].update(rows=11),
    "a number by a fraction": lambda d: d["rules"]["score"].update(max=5.5),
    "the order of a list": lambda d: d["statuses"].reverse(),
    "an optional key left out": lambda d: d["sheets"][1]["columns"].pop("unit"),
    "the default style given": lambda d: d.update(style={"font": "TH Sarabun New", "size": 16}),
    "the version": lambda d: d["form"].update(version="2562.2"),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_any_change_of_content_changes_the_fingerprint(
        change: Callable[[dict[str, Any]], None]) -> None:
    data = copy.deepcopy(RAW)
    data.pop("style")
    base = parse_layout(_dump(data)).fingerprint
    change(data)
    assert parse_layout(_dump(data)).fingerprint != base


def test_the_fiscal_year_rule() -> None:
    assert fiscal_year_problem(2569) is None
    assert fiscal_year_problem(2400) is None and fiscal_year_problem(2800) is None
    assert fiscal_year_problem(2026) == ("2026 looks like a CE year; give the Buddhist Era year "
                                         "(2569)")
    assert fiscal_year_problem(2801) == ("2801 is not a plausible Buddhist Era year (2400 to "
                                         "2800, e.g. 2569)")
    assert fiscal_year_problem(2399) is not None and fiscal_year_problem(1899) is not None


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
     "$.statuses: in the dropdown of these labels, the input message Excel shows ('คลิกลูกศรแล้ว"
     "เลือก: กกกกกกกกกกกกกกกกกกกกกกกกกกกกกกกกกกกกก...') would be 259 characters, and Excel "
     "takes at most 255: shorten the labels by 4"),
    ("dropdown alert too long (Excel's 224, not xlsxwriter's 255)",
     lambda d: [s.update(label="ก" * 60 + s["id"]) for s in d["statuses"]],
     "$.statuses: in the dropdown of these labels, the error alert Excel shows ('กรุณาเลือกจาก"
     "รายการเท่านั้น: กกกกกกกกกกกกกกกกกกกกกกกกกกกก...') would be 238 characters, and Excel "
     "takes at most 224: shorten the labels by 14"),
    ("direction labels too long",
     lambda d: d["rules"]["directions"].update(higher="ก" * 120, lower="ข" * 120),
     "$.rules.directions: in the dropdown of these labels, the error alert Excel shows ('กรุณา"
     "เลือกจากรายการเท่านั้น: กกกกกกกกกกกกกกกกกกกกกกกกกกกก...') would be 272 characters, and "
     "Excel takes at most 224: shorten the labels by 48"),
    ("prompt too long as stored",
     lambda d: d["identity"]["fields"][7].update(prompt="_x0041_" * 20),
     "$.identity.fields[7].prompt: the input message Excel shows ('_x005F_x0041__x005F_x0041_"
     "_x005F_x0041__x005F_x0041__x005...') would be 260 characters, and Excel takes at most "
     "255: shorten it by 5"),
    ("text over Excel's cell limit",
     lambda d: items(d)[0].update(topic="ก" * 32_768),
     f"{CAT3}.sections[0].items[0].topic: is 32,768 characters; an Excel cell holds at most "
     "32,767: shorten it"),
    ("text over the cell limit in UTF-16",
     lambda d: items(d)[0].update(topic="😀" * 16_384),
     f"{CAT3}.sections[0].items[0].topic: is 32,768 characters; an Excel cell holds at most "
     "32,767: shorten it"),
    ("sheet name too long in UTF-16",
     lambda d: d["sheets"][0].update(sheet="😀" * 16),
     f"{CAT3}.sheet: '{'😀' * 16}' is 32 characters; a sheet name has at most 31"),
    ("Excel's reserved sheet name",
     lambda d: d["sheets"][1].update(sheet="history"),
     f"{CAT7}.sheet: 'history' is a name Excel keeps for itself; choose another"),
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
    assert problem.startswith("$ (line 2): not valid YAML: the '[' opened at line 2, column 7 "
                              "is not closed (the parser noticed at line 3, column 1")
    assert str(info.value).startswith("layout bad.yaml: 1 problem")


def test_duplicate_yaml_key_is_an_error() -> None:
    with pytest.raises(LayoutError) as info:
        parse_layout("form:\n  id: a\n  id: b\n")
    assert info.value.problems[0] == ("$.form.id (line 3): the key 'id' is given twice in one "
                                      "mapping (first at line 2); keep one")


def test_unknown_layout_name_lists_the_bundled_ones() -> None:
    with pytest.raises(LayoutError) as info:
        load_layout("pmqa-1999")
    assert info.value.problems == ("$: no such layout; bundled layouts: pmqa4-2562",)
