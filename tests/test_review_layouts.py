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
