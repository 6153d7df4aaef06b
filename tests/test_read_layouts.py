"""Layouts are an input of the reader: the set given replaces the bundled one, a return is
matched to its layout by fingerprint first, a return of another edit of a version is named
as such (and never blamed on the agency), a broken bundled layout is an error of the call,
and returns of two rounds are read side by side, each with its own layout, also in worker
processes."""

from __future__ import annotations

import pickle
import shutil
from collections import OrderedDict
from pathlib import Path

import pandas as pd
import pytest

from pmqa_xlsx import consolidate, generate_workbook, read_return
from pmqa_xlsx import problems as P
from pmqa_xlsx.cellmap import build_cellmap
from pmqa_xlsx.consolidate import read_all
from pmqa_xlsx.layout import (
    META_SHEET,
    Layout,
    LayoutsError,
    parse_layout,
    resolve_layout_path,
)
from pmqa_xlsx.read import (
    LayoutSet,
    answers_frame,
    bind_plans,
    indicators_frame,
    plan,
    read_raw,
)
from pmqa_xlsx.roster import Agency

from .conftest import FIXED_TIME
from .fill import fill

AGENCY = Agency(code="03005", name="กรมการปกครอง", ministry="กระทรวงมหาดไทย")
PROMPT = 'prompt: "พิมพ์วันที่ เช่น 31/03/2562 (ปี พ.ศ.)"'
BLANK_LABEL = "{id: trend, label: โดยแนวโน้มการเปลี่ยนแปลงนั้น คือ}"


def bundled_text() -> str:
    return resolve_layout_path(None).read_text(encoding="utf-8")


def edited(old: str, new: str, source: str) -> Layout:
    """The bundled layout with one change, version kept: another edit of that version."""
    text = bundled_text()
    assert old in text
    return parse_layout(text.replace(old, new), source=source)


@pytest.fixture(scope="module")
def prompt_edit() -> Layout:
    """An edit that changes no label: a prompt (a validation message)."""
    return edited(PROMPT, 'prompt: "วันที่กรอก (ปี พ.ศ.)"', "edit-prompt.yaml")


@pytest.fixture(scope="module")
def label_edit() -> Layout:
    """An edit that changes a label beside a blank."""
    return edited(BLANK_LABEL, "{id: trend, label: แนวโน้มที่เห็น คือ}", "edit-label.yaml")


@pytest.fixture(scope="module")
def next_year() -> Layout:
    """Next year's revision: another version, fiscal year and result years."""
    text = bundled_text().replace('version: "2562.1"', 'version: "2563.1"').replace(
        "fiscal_year: 2562", "fiscal_year: 2563").replace(
        "result_years: [-2, -1, 0]", "result_years: [-3, -2, -1, 0]")
    return parse_layout(text, source="pmqa4-2563.yaml")


def made_from(layout: Layout, folder: Path, name: str, code: str = AGENCY.code) -> Path:
    """A return of ``layout``, every input filled."""
    agency = Agency(code=code, name=AGENCY.name, ministry=AGENCY.ministry)
    blank = folder / f"blank-{name}"
    generate_workbook(layout, blank, agency=agency, generated_at=FIXED_TIME)
    fill(build_cellmap(layout), blank, folder / name, agency_code=code)
    return folder / name


@pytest.fixture(scope="module")
def returns(layout: Layout, prompt_edit: Layout, label_edit: Layout, next_year: Layout,
            tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("layouts")
    return {"bundled": made_from(layout, folder, "bundled.xlsx"),
            "prompt": made_from(prompt_edit, folder, "prompt.xlsx"),
            "label": made_from(label_edit, folder, "label.xlsx"),
            "next": made_from(next_year, folder, "next.xlsx", code="04001")}


def codes(path: Path, layouts: list[Layout] | None) -> list[str]:
    return read_return(path, layouts).problems["code"].tolist()


# -- the set of layouts ----------------------------------------------------------------------


def test_given_layouts_replace_the_bundled_ones(returns: dict[str, Path], layout: Layout,
                                                next_year: Layout) -> None:
    assert codes(returns["bundled"], None) == []
    assert codes(returns["next"], [next_year]) == []
    problem = read_return(returns["bundled"], [next_year]).problems.iloc[0]
    assert (problem["code"], problem["cell"]) == ("unknown-version", "B2")
    assert codes(returns["next"], None) == ["unknown-version"]
    assert codes(returns["next"], [layout, next_year]) == []


def test_unknown_form_and_version_name_both_possible_faults(returns: dict[str, Path],
                                                            next_year: Layout) -> None:
    """The agency may have sent another round's workbook, or the central office may have
    given the wrong layouts: the message says both, listing the layouts given."""
    message = read_return(returns["bundled"], [next_year]).problems.iloc[0]["message_en"]
    given = "pmqa4-cat3-cat7.2 2563.1 (pmqa4-2563.yaml)"
    assert message == P.message("unknown-version", "en", form="pmqa4-cat3-cat7.2", found="2562.1",
                                known=given)
    assert "another round's workbook" in message and "central office" in message
    assert given in message


def test_a_broken_bundled_layout_is_an_error_of_the_call(
        returns: dict[str, Path], layout: Layout, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a reason to reject returns (reader-failed, as it was): the call raises, listing
    the broken file; layouts given are read with, whatever is bundled."""
    folder = tmp_path / "layouts"
    folder.mkdir()
    shutil.copy(resolve_layout_path(None), folder / "pmqa4-2562.yaml")
    (folder / "unfinished.yaml").write_text("form: {id: x\n", encoding="utf-8")
    monkeypatch.setattr("pmqa_xlsx.layout.layouts_dir", lambda: folder)
    with pytest.raises(LayoutsError, match="unfinished.yaml"):
        read_return(returns["bundled"])
    with pytest.raises(LayoutsError, match="unfinished.yaml"):
        consolidate([returns["bundled"]])
    assert read_return(returns["bundled"], [layout]).state == "ok"
    assert consolidate([returns["bundled"]], layouts=[layout]).summary()["ok"] == 1


def test_an_empty_set_of_layouts_is_refused(returns: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="at least one layout"):
        read_raw(returns["bundled"], [])


# -- matching a return to its layout ---------------------------------------------------------


def test_the_fingerprint_picks_the_exact_edit(returns: dict[str, Path], layout: Layout,
                                              prompt_edit: Layout, label_edit: Layout) -> None:
    """Three edits of one version given: each return is read with its own, no warning."""
    given = [layout, prompt_edit, label_edit]
    for name, expected in (("bundled", layout), ("prompt", prompt_edit),
                           ("label", label_edit)):
        read = read_raw(returns[name], given)
        assert read.state == "ok", read.problems
        assert read.cellmap is not None and read.cellmap.layout.fingerprint == \
            expected.fingerprint


def test_another_edit_with_the_same_labels_is_read_with_a_warning(
        returns: dict[str, Path], layout: Layout, prompt_edit: Layout) -> None:
    result = read_return(returns["prompt"], [layout])
    assert result.state == "ok_with_warnings"
    (problem,) = result.problems.to_dict("records")
    assert (problem["code"], problem["sheet"], problem["cell"]) == (
        "layout-edited", META_SHEET, "B3")
    assert problem["message_en"] == P.message(
        "layout-edited", "en", form=layout.form.id, version=layout.form.version,
        source=Path(layout.source).name, found=prompt_edit.fingerprint[:12] + "…",
        expected=layout.fingerprint[:12] + "…")
    same = read_return(returns["bundled"], [layout]).answers
    pd.testing.assert_series_equal(result.answers["value"], same["value"])


def test_another_edit_that_moved_a_label_says_the_layout_changed(
        returns: dict[str, Path], layout: Layout, label_edit: Layout) -> None:
    """Not structure-changed ("the sheet was unprotected"): the agency did nothing wrong."""
    result = read_return(returns["label"], [layout])
    assert result.state == "rejected"
    (problem,) = result.problems.to_dict("records")
    assert (problem["code"], problem["sheet"], problem["cell"]) == (
        "layout-changed", "หมวด 3", "D5")
    assert problem["message_en"].startswith(
        "expected 'โดยแนวโน้มการเปลี่ยนแปลงนั้น คือ' here but found 'แนวโน้มที่เห็น คือ': the "
        "workbook was made from another edit of form pmqa4-cat3-cat7.2 version 2562.1")
    assert "unprotected" not in problem["message_en"]
    assert "central office should give the layout file" in problem["message_en"]


def test_of_several_other_edits_the_one_whose_labels_fit_is_used(
        returns: dict[str, Path], prompt_edit: Layout, label_edit: Layout) -> None:
    """A return of an edit not given, with two other edits of its version given: read with
    the one whose labels it has, whatever the order."""
    for given in ([label_edit, prompt_edit], [prompt_edit, label_edit]):
        read = read_raw(returns["bundled"], given)
        assert [p.code for p in read.problems] == ["layout-edited"]
        assert read.cellmap is not None and read.cellmap.layout is prompt_edit


def test_metadata_that_disagrees_with_its_fingerprint_is_not_an_exact_match(
        returns: dict[str, Path], layout: Layout, next_year: Layout, tmp_path: Path) -> None:
    """A version typed over in _meta, naming another layout given: the metadata is damaged
    (the file is not read as the version it claims, nor blamed on the layouts)."""
    import openpyxl

    book = openpyxl.load_workbook(returns["bundled"])
    book[META_SHEET]["B2"] = "2563.1"
    book.save(tmp_path / "x.xlsx")
    (problem,) = read_return(tmp_path / "x.xlsx", [layout, next_year]).problems.to_dict(
        "records")
    assert (problem["code"], problem["cell"]) == ("bad-metadata", "B2")
    assert "form version '2563.1' does not go with its layout fingerprint, which is form " \
        "pmqa4-cat3-cat7.2 version 2562.1's" in problem["message_en"]
    assert codes(tmp_path / "x.xlsx", [layout]) == ["unknown-version"]
    assert codes(tmp_path / "x.xlsx", [next_year]) == ["layout-changed"]


# -- two rounds side by side -----------------------------------------------------------------


def test_two_rounds_read_side_by_side_in_workers(returns: dict[str, Path], layout: Layout,
                                                 next_year: Layout, tmp_path: Path) -> None:
    """Last year's and this year's returns in one read_all, in two processes, each read with
    its own layout; the frames hold both, each value under its own year."""
    files = []
    for i in range(20):
        for name in ("bundled", "next"):
            files.append(tmp_path / f"{name}-{i:02d}.xlsx")
            shutil.copy(returns[name], files[-1])
    reads = read_all(files, layouts=[layout, next_year], jobs=2)
    assert {r.state for r in reads} == {"ok"}
    assert [r.cellmap.layout.form.version for r in reads if r.cellmap] == \
        ["2562.1", "2563.1"] * 20
    alone = {name: read_return(returns[name], [layout, next_year]) for name in returns
             if name in ("bundled", "next")}
    answers = answers_frame(reads)
    assert len(answers) == 20 * (len(alone["bundled"].answers) + len(alone["next"].answers))
    indicators = indicators_frame(reads)
    years = [c for c in indicators.columns if c.startswith("result_")]
    assert years == ["result_2560", "result_2561", "result_2562", "result_2563"]
    for name, result in alone.items():
        mine = indicators[indicators["file"] == str(tmp_path / f"{name}-00.xlsx")]
        theirs = result.indicators
        for column in theirs.columns:
            if column != "file":
                assert mine[column].tolist() == theirs[column].tolist(), (name, column)
        if name == "bundled":
            assert mine["result_2563"].isna().all()


def test_a_read_sent_between_processes_carries_its_plans_key(
        returns: dict[str, Path], layout: Layout, next_year: Layout,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Pickled as the plan's key, not the plan; bound again where the layouts are known,
    refused by the frames (never dropped) where they are not."""
    read = read_raw(returns["next"], [layout, next_year])
    data = pickle.dumps(read)
    assert len(data) < 20_000  # the values, not the layout or its cell map
    monkeypatch.setattr(plan, "_PLANS", OrderedDict())  # another process: no plan kept
    copy = pickle.loads(data)
    assert copy.plan is None and copy.plan_key == read.plan_key
    with pytest.raises(LookupError, match="bind its plan"):
        answers_frame([copy])
    bind_plans([copy], [layout])  # not its layout: left unbound
    assert copy.plan is None
    bind_plans([copy], [layout, next_year])
    assert copy.plan is not None and copy.plan.key == read.plan_key
    pd.testing.assert_frame_equal(answers_frame([copy]), answers_frame([read]))


def test_plans_are_kept_by_value_and_bounded(layout: Layout, next_year: Layout,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan, "_PLANS", OrderedDict())
    monkeypatch.setattr(plan, "PLANS_KEPT", 2)
    first = plan.plan_for(layout, 2562)
    assert plan.plan_for(layout, 2562) is first
    copy = parse_layout(bundled_text(), source="copy.yaml")  # another object, same content
    assert plan.plan_for(copy, 2562) is first
    plan.plan_for(layout, 2563)
    plan.plan_for(next_year, 2563)
    assert plan.kept_plan(first.key) is None  # evicted, oldest first
    again = plan.plan_for(layout, 2562)
    assert again is not first and again.key == first.key
    assert [s.cell.ref for s in again.inputs] == [s.cell.ref for s in first.inputs]


def test_a_layout_set_keeps_one_layout_per_fingerprint(layout: Layout,
                                                       prompt_edit: Layout) -> None:
    copy = parse_layout(bundled_text(), source="copy.yaml")
    known = LayoutSet.of([layout, prompt_edit, copy])
    assert known.layouts == (layout, prompt_edit)
    assert known.by_version[(layout.form.id, layout.form.version)] == (layout, prompt_edit)
