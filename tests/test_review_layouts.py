"""A review of issue 11 (layouts as an input of check and merge, rounds, edits of a version),
as a ministry writing its own layout would meet it: each test holds one finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmqa_xlsx.errors import LayoutError
from pmqa_xlsx.layout import load_layout, parse_layout

BUNDLED = Path(__file__).resolve().parent.parent / "layouts" / "pmqa4-2562.yaml"


def _text() -> str:
    return BUNDLED.read_text(encoding="utf-8")


@pytest.mark.parametrize(("old", "new", "path"), [
    ('version: "2562.1"', 'version: " 2562.1 "', "$.form.version"),
    ('version: "2562.1"', 'version: "2562.1\\n2"', "$.form.version"),
    ("id: pmqa4-cat3-cat7.2", 'id: "pmqa4-cat3-cat7.2 "', "$.form.id"),
    ("label: ยังไม่ได้ดำเนินการ", 'label: " ยังไม่ได้ดำเนินการ"', "$.statuses[0].label"),
    ("higher: ยิ่งมากยิ่งดี", 'higher: "ยิ่งมากยิ่งดี "', "$.rules.directions.higher"),
])
def test_text_read_back_stripped_is_refused_at_load(old: str, new: str, path: str) -> None:
    # a version " 1 " passed check-layout, and every return was then refused
    # (unknown-version, or bad-metadata "fill in a fresh copy"), since _meta is read stripped
    text = _text()
    assert old in text
    with pytest.raises(LayoutError) as err:
        parse_layout(text.replace(old, new, 1))
    assert any(p.startswith(path + ":") for p in err.value.problems), err.value.problems


def test_plain_form_id_and_version_still_load() -> None:
    assert load_layout(BUNDLED).form.version == "2562.1"


def test_round_of_a_version_holding_a_colon_is_the_one_merge_suggests() -> None:
    # a merge listed "--round moph:1:a:2567" for version "1:a", and --round then refused it
    # ("no layout given is form 'moph:1' version 'a'")
    from pmqa_xlsx.rounds import Round, parse_round

    text = _text()
    colon = parse_layout(text.replace('version: "2562.1"', 'version: "2562:1"', 1))
    other = parse_layout(text.replace('version: "2562.1"', 'version: "2563.1"', 1))
    assert parse_round(str(Round.of_layout(colon)), [colon, other]) == \
        Round("pmqa4-cat3-cat7.2", "2562:1", 2562)
    assert parse_round("pmqa4-cat3-cat7.2:2563.1:2569", [colon, other]) == \
        Round("pmqa4-cat3-cat7.2", "2563.1", 2569)


# -- a same-version edit that removes what the earlier edit's returns hold ---------------------

@pytest.fixture(scope="module")
def returned(layout, cellmap, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pmqa_xlsx.roster import Agency

    from . import corpus

    work = tmp_path_factory.mktemp("review-layouts")
    agency = Agency(code="03012", name="กรมทบทวนแบบฟอร์ม", ministry="กระทรวงทดสอบ")
    return corpus.good_return(layout, cellmap, agency, work, work / "03012.xlsx")


def _edit(old: str, new: str, name: str):
    text = _text()
    assert old in text
    return parse_layout(text.replace(old, new, 1), source=name)


def _last_table_removed():
    text = _text()
    start = text.index('      - id: "7.2.5"')
    end = text.index("    validation:", start)
    return parse_layout(text[:start] + text[end:], source="no-7.2.5.yaml")


def _indicator_sheet_removed():
    text = _text()
    start = text.index("  - kind: indicators")
    end = text.index("rules:", start)
    return parse_layout(text[:start] + text[end:], source="no-7.2.yaml")


@pytest.mark.parametrize("edited", [_last_table_removed, _indicator_sheet_removed])
def test_an_edit_that_removes_the_end_of_the_form_is_layout_changed(returned: Path,
                                                                    edited) -> None:
    # the earlier edit's answers in the removed table (or sheet) were dropped: the return
    # was counted (layout-edited, ok_with_warnings) and the agency was told "type answers only
    # in the yellow cells" for each of them
    from pmqa_xlsx import read_return

    layout = edited()
    result = read_return(returned, layouts=[layout])
    codes = list(result.problems["code"])
    assert result.state == "rejected"
    assert codes == ["layout-changed"], codes
    assert "stray-value" not in codes


def test_of_several_edits_the_one_that_holds_the_whole_return_is_used_and_named(
        returned: Path) -> None:
    from pmqa_xlsx import read_return

    rule = _edit("full_at_percent: 100", "full_at_percent: 90", "rule-edit.yaml")
    result = read_return(returned, layouts=[_last_table_removed(), rule])
    assert result.state == "ok_with_warnings"
    edited = result.problems[result.problems["code"] == "layout-edited"]
    assert len(edited) == 1 and "(rule-edit.yaml;" in edited["message"].iloc[0]
    assert set(result.problems["code"]) == {"layout-edited"}


def test_the_fingerprint_docs_numbers_agree_as_written() -> None:
    # docs/layout-format.md said "5, 5.0 and 5e0 agree": PyYAML reads 5e0 as text
    import yaml

    from pmqa_xlsx.layout import canonical_json

    doc = (BUNDLED.parent.parent / "docs" / "layout-format.md").read_text(encoding="utf-8")
    assert "`5`, `5.0` and `5.0e+0` agree" in doc
    assert {canonical_json(yaml.safe_load(f"a: {n}")) for n in ("5", "5.0", "5.0e+0")} == \
        {'{"a":5}'}
    assert yaml.safe_load("a: 5e0")["a"] == "5e0"
