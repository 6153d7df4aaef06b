"""Year over year: merge --previous LAST, from each of the three forms merge writes
(consolidated workbook, CSV folder, Parquet folder).

A first round (the bundled layout, 2562) is returned by three of four agencies; the second
(the same form a year on, 2563, or the revised layout docs/examples/pmqa4-2563.yaml) by all
four: each return holds the previous round's statuses and results for the years both ask
for, except the changes this module makes, so the changes found must be exactly those."""

from __future__ import annotations

import csv
import html
import itertools
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from pmqa_xlsx import generate_roster
from pmqa_xlsx.cellmap import CellMap, build_cellmap
from pmqa_xlsx.cli import main
from pmqa_xlsx.consolidate import COUNTED, Consolidated, consolidate
from pmqa_xlsx.layout import Layout, load_layout
from pmqa_xlsx.libreoffice import convert
from pmqa_xlsx.prefill import PrefillError, load_previous
from pmqa_xlsx.previous import (
    CHANGE_COLUMNS,
    SCORE_CHANGE_COLUMNS,
    compare,
    comparison,
    difference,
    load_last,
    shown_number,
)
from pmqa_xlsx.report import FRAME_NAMES, WORKBOOK_SHEETS, is_previous_output, write_workbook
from pmqa_xlsx.roster import Agency
from pmqa_xlsx.summary import previous_counts

from .conftest import ROOT
from .fill import fill
from .lang import english
from .ooxml import only_sheet

REVISED = ROOT / "docs" / "examples" / "pmqa4-2563.yaml"
ISSUED = datetime(2026, 1, 1, tzinfo=UTC)
AGENCIES = [Agency(code="01001", name="สำนักงานปลัดสำนักนายกรัฐมนตรี", ministry="สำนักนายกฯ"),
            Agency(code="03005", name="กรมการปกครอง", ministry="กระทรวงมหาดไทย"),
            Agency(code="07007", name="กรมสรรพากร", ministry="กระทรวงการคลัง"),
            Agency(code="21003", name="กรมอนามัย", ministry="กระทรวงสาธารณสุข")]
FIRST_RETURNED = ("01001", "03005", "07007")  # 21003 returns only in the second round: new
FORMS = ("xlsx", "csv", "parquet")
UNCHANGED, CHANGED, RESULT_ONLY, NEW = "01001", "03005", "07007", "21003"


def _roster(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["agency_code", "agency_name", "ministry"])
        writer.writerows([a.code, a.name, a.ministry] for a in AGENCIES)
    return path


def _statuses(cellmap: CellMap) -> list[Any]:
    return [c for c in cellmap.inputs() if c.kind == "status"]


def _results(cellmap: CellMap) -> list[Any]:
    return [c for c in cellmap.inputs() if c.field_id.startswith("result_")]


@pytest.fixture(scope="module")
def first(layout: Layout, cellmap: CellMap, tmp_path_factory: pytest.TempPathFactory
          ) -> dict[str, Any]:
    """Round 1, merged into the three forms; what each agency typed, by (part, item, field)
    for statuses and (part, item, year) for results. 03005 put its first item at the middle
    status (the rest of its checklist, as everyone's, at the last)."""
    root = tmp_path_factory.mktemp("round1")
    generate_roster(layout, AGENCIES, root / "issued", generated_at=ISSUED, jobs=1)
    (root / "returns").mkdir()
    middle = _statuses(cellmap)[0]
    typed: dict[str, dict[tuple[Any, ...], Any]] = {}
    for code in FIRST_RETURNED:
        source = next((root / "issued").glob(f"*{code}*.xlsx"))
        overrides = {f"{middle.sheet}!{middle.ref}": middle.choices[1]} if code == CHANGED \
            else {}
        cells = fill(cellmap, source, root / "returns" / source.name, overrides, code)
        typed[code] = {
            **{(c.part, c.item_id, c.field_id): cells[(c.sheet, c.ref)]
               for c in _statuses(cellmap)},
            **{(c.part, c.item_id, c.year): cells[(c.sheet, c.ref)] for c in _results(cellmap)}}
    out = {"xlsx": root / "consolidated.xlsx", "csv": root / "csv", "parquet": root / "pq"}
    result = CliRunner().invoke(main, [
        "merge", str(root / "returns"), "--roster", str(_roster(root / "r.csv")), "-o",
        str(out["xlsx"]), "--csv", str(out["csv"]), "--parquet", str(out["parquet"])])
    assert result.exit_code == 0, result.output
    return {"out": out, "typed": typed, "root": root}


def _second(layout: Layout, year: int | None, first: dict[str, Any], folder: Path,
            changes: dict[str, dict[str, Any]]) -> dict[str, Path]:
    """Round 2 returns of every agency: round 1's statuses and results where this form has
    the item or the row and year, then ``changes`` ("sheet!cell" -> value, by agency)."""
    cellmap = build_cellmap(layout, year)
    generate_roster(layout, AGENCIES, folder / "issued", year=year, generated_at=ISSUED, jobs=1)
    (folder / "returns").mkdir()
    paths = {}
    for agency in AGENCIES:
        before = first["typed"].get(agency.code, {})
        overrides: dict[str, Any] = {}
        for c in _statuses(cellmap):
            if (c.part, c.item_id, c.field_id) in before:
                overrides[f"{c.sheet}!{c.ref}"] = before[(c.part, c.item_id, c.field_id)]
        for c in _results(cellmap):
            if (c.part, c.item_id, c.year) in before:
                overrides[f"{c.sheet}!{c.ref}"] = before[(c.part, c.item_id, c.year)]
        overrides.update(changes.get(agency.code, {}))
        source = next((folder / "issued").glob(f"*{agency.code}*.xlsx"))
        fill(cellmap, source, folder / "returns" / source.name, overrides, agency.code)
        paths[agency.code] = folder / "returns" / source.name
    return paths


def _planned(cellmap: CellMap, first: dict[str, Any]) -> tuple[dict[str, dict[str, Any]],
                                                               set[tuple[Any, ...]]]:
    """The changes made in round 2 (by agency, "sheet!cell" -> value), and the rows the changes
    frame must hold for them: 03005's first item up (middle -> last status), its second down
    (last -> middle), one result 7.5 more and one 0.01 more; a result of 03005 changed by
    float noise only (not a change); one result of 07007 changed (its only change)."""
    statuses = _statuses(cellmap)
    up, down = statuses[0], statuses[1]
    both = [c for c in _results(cellmap) if (c.part, c.item_id, c.year)
            in first["typed"][CHANGED]]
    more, little, noise = both[0], both[3], both[5]
    other = both[7]
    typed = first["typed"]

    def was(code: str, c: Any) -> float:
        return typed[code][(c.part, c.item_id, c.year)]

    changes = {
        CHANGED: {f"{up.sheet}!{up.ref}": up.choices[2], f"{down.sheet}!{down.ref}":
                  down.choices[1], f"{more.sheet}!{more.ref}": was(CHANGED, more) + 7.5,
                  f"{little.sheet}!{little.ref}": was(CHANGED, little) + 0.01,
                  f"{noise.sheet}!{noise.ref}": was(CHANGED, noise) * (1 + 1e-12)},
        RESULT_ONLY: {f"{other.sheet}!{other.ref}": was(RESULT_ONLY, other) - 20}}
    expected = {
        (CHANGED, "status", up.item_id, up.choices[1], up.choices[2], "up", up.sheet, up.ref),
        (CHANGED, "status", down.item_id, down.choices[2], down.choices[1], "down", down.sheet,
         down.ref)}
    for code, c, now in ((CHANGED, more, was(CHANGED, more) + 7.5),
                         (CHANGED, little, was(CHANGED, little) + 0.01),
                         (RESULT_ONLY, other, was(RESULT_ONLY, other) - 20)):
        expected.add((code, "result", c.part, c.item_id, c.year, was(code, c), now, c.sheet,
                      c.ref))
    return changes, expected


def _found(changes: pd.DataFrame) -> set[tuple[Any, ...]]:
    out: set[tuple[Any, ...]] = set()
    for row in changes.astype(object).itertuples(index=False):
        if row.kind == "status":
            out.add((row.agency_code, "status", row.item_id, row.previous_choice,
                     row.current_choice, row.direction, row.sheet, row.cell))
        else:
            out.add((row.agency_code, "result", row.table_id, row.item_id, int(row.year),
                     float(row.previous_value), float(row.current_value), row.sheet, row.cell))
    return out


@pytest.fixture(scope="module")
def second(layout: Layout, first: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
           ) -> dict[str, Any]:
    """Round 2 (the bundled layout a year on, 2563), its returns and the changes planned."""
    folder = tmp_path_factory.mktemp("round2")
    changes, expected = _planned(build_cellmap(layout, 2563), first)
    paths = _second(layout, 2563, first, folder, changes)
    return {"folder": folder, "paths": paths, "expected": expected}


@pytest.fixture(scope="module", params=FORMS)
def merged(request: pytest.FixtureRequest, first: dict[str, Any], second: dict[str, Any],
           tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Round 2 merged with --previous, from one form of LAST, with --csv."""
    out = tmp_path_factory.mktemp(f"merged-{request.param}")
    result = CliRunner().invoke(main, english([
        "merge", str(second["folder"] / "returns"), "--roster",
        str(_roster(out / "r.csv")), "-o", str(out / "c.xlsx"), "--csv", str(out / "csv"),
        "--previous", str(first["out"][request.param])]))
    assert result.exit_code == 0, result.output
    frames = {name: pd.read_csv(out / "csv" / f"{name}.csv", dtype=str,
                                keep_default_na=False, na_values=[""])
              for name in ("changes", "score_changes", "problems", "returns")}
    return {"out": out / "c.xlsx", "frames": frames, "output": result.output,
            "form": request.param}


def _library_result(first: dict[str, Any], second: dict[str, Any], form: str = "csv"
                    ) -> Consolidated:
    layouts = [load_layout()]
    result = consolidate(second["folder"] / "returns", _roster(second["folder"] / "r.csv"),
                         jobs=1)
    return compare(result, load_last(first["out"][form], layouts))


def test_changes_are_exactly_those_made(merged: dict[str, Any], second: dict[str, Any]
                                        ) -> None:
    changes = merged["frames"]["changes"]
    assert list(changes.columns) == list(CHANGE_COLUMNS)
    assert _found(changes) == second["expected"]
    # nothing for the unchanged agency, nor for the new one
    assert not set(changes["agency_code"]) & {UNCHANGED, NEW}
    # the cell is in this round's return, its file the one counted
    files = {code: Path(p).name for code, p in second["paths"].items()}
    assert {Path(f).name for f in changes["file"]} == {files[CHANGED], files[RESULT_ONLY]}


def test_three_forms_of_last_give_the_same_changes(first: dict[str, Any],
                                                   second: dict[str, Any]) -> None:
    found = [_found(_library_result(first, second, form).changes) for form in FORMS]
    assert found[0] == found[1] == found[2] == second["expected"]


def test_warnings_sit_on_the_differing_results(merged: dict[str, Any],
                                               second: dict[str, Any]) -> None:
    problems = merged["frames"]["problems"]
    mine = problems[problems["code"] == "result-differs-previous"]
    where = {(row.agency_code, row.sheet, row.cell) for row in mine.itertuples()}
    assert where == {(e[0], e[7], e[8]) for e in second["expected"] if e[1] == "result"}
    assert set(mine["severity"]) == {"warning"}
    # the message names the year and the previous value, Thai and English
    for row in mine.itertuples():
        expected = next(e for e in second["expected"]
                        if e[1] == "result" and (e[0], e[7], e[8]) ==
                        (row.agency_code, row.sheet, row.cell))
        assert f"ผล ปี {expected[4]}" in row.message_th
        assert f"({shown_number(expected[5])} ในรอบปีงบประมาณ พ.ศ. 2562 รอบนี้" \
            in row.message_th
        assert "in the round of fiscal year 2562" in row.message_en
        assert str(expected[4]) in row.message_en
        # the agency is told the round; the analyst's file is named only in their frames
        last = Path(str(first_source(merged)))
        assert last.name not in row.message_th and last.name not in row.message_en


def first_source(merged: dict[str, Any]) -> str:
    """The name of the LAST that ``merged`` was compared with (``first``'s outputs)."""
    return {"xlsx": "consolidated.xlsx", "csv": "csv", "parquet": "pq"}[merged["form"]]


def test_state_and_warnings_count_agree_with_problems(merged: dict[str, Any]) -> None:
    returns, problems = merged["frames"]["returns"], merged["frames"]["problems"]
    warnings = problems[problems["severity"] == "warning"]["file"].value_counts()
    counted = returns[returns["state"].isin(COUNTED)]
    for row in counted.itertuples():
        assert int(row.warnings) == int(warnings.get(row.file, 0)), row.file
        assert row.state == ("ok_with_warnings" if int(row.warnings) else "ok"), row.file
    by_code = dict(zip(counted["agency_code"], counted["state"], strict=True))
    # 07007's only warning is its changed result: it was ok without --previous
    assert by_code[RESULT_ONLY] == "ok_with_warnings"
    assert by_code[UNCHANGED] == "ok" and by_code[NEW] == "ok"


def test_score_changes_per_agency(merged: dict[str, Any], first: dict[str, Any]) -> None:
    scores = merged["frames"]["score_changes"]
    assert list(scores.columns) == list(SCORE_CHANGE_COLUMNS)
    assert set(scores["agency_code"]) == {a.code for a in AGENCIES}
    in_previous = dict(zip(scores["agency_code"], scores["in_previous"], strict=True))
    assert in_previous == {UNCHANGED: "True", CHANGED: "True", RESULT_ONLY: "True",
                           NEW: "False"}
    before = pd.read_csv(first["out"]["csv"] / "scores.csv", dtype={"agency_code": str})
    sums = [c for c in before.columns if c.startswith("score_sum_")]
    for row in scores.itertuples():
        if row.agency_code == NEW:
            assert pd.isna(row.score_72_previous) and pd.isna(row.score_72_change)
            continue
        last = before[before["agency_code"] == row.agency_code].iloc[0]
        expected = sum(last[c] for c in sums) / sum(last[f"scored_{c[10:]}"] for c in sums)
        assert float(row.score_72_previous) == pytest.approx(expected, rel=1e-12)
        assert float(row.score_72_change) == pytest.approx(
            float(row.score_72) - float(row.score_72_previous), rel=1e-9, abs=1e-12)
    # the bundled layout declares no checklist score: none in either round, no difference
    assert scores["checklist_score_change"].isna().all()


def _rows(path: Path, sheet: str) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(book[sheet].iter_rows(values_only=True))
    finally:
        book.close()


def _summary_counts(path: Path) -> dict[str, Any]:
    return {str(row[0]): row[2] for row in _rows(path, "summary") if row[0]}


def test_summary_section_shows_the_counts(merged: dict[str, Any],
                                          second: dict[str, Any]) -> None:
    rows = _summary_counts(merged["out"])
    results = sum(1 for e in second["expected"] if e[1] == "result")
    counts = comparison(Consolidated(
        answers=pd.DataFrame(), indicators=pd.DataFrame(), problems=pd.DataFrame(),
        returns=pd.DataFrame(), scores=pd.DataFrame(),
        changes=merged["frames"]["changes"], score_changes=merged["frames"]["score_changes"]
        .assign(in_previous=lambda f: f["in_previous"] == "True",
                in_current=lambda f: f["in_current"] == "True")))
    # 21003 is on the first round's roster, not counted there (missing): not counted, not new
    assert (counts.compared, counts.not_counted, counts.not_in_last, counts.gone,
            counts.improved, counts.fell, counts.results, counts.year) == \
        (3, 1, 0, (), 1, 1, results, 2562)
    for words, count in previous_counts(counts):
        label = f"{words.th} / {words.en}"
        assert rows.get(label) == count, label
    assert any(label.startswith("5. เทียบกับรอบที่แล้ว") for label in rows)
    # the items that changed most: the two items changed, one up and one down
    sheet = _rows(merged["out"], "summary")
    at = next(n for n, row in enumerate(sheet) if str(row[0] or "").startswith("6. "))
    listed = [row[:4] for row in sheet[at + 3:] if row[0]]
    ups = {e[2]: 1 for e in second["expected"] if e[1] == "status" and e[5] == "up"}
    downs = {e[2]: 1 for e in second["expected"] if e[1] == "status" and e[5] == "down"}
    assert [(str(label).split()[1], up, down) for label, _, up, down in listed] == \
        [(item, ups.get(item, 0), downs.get(item, 0)) for item in sorted({*ups, *downs})]
    # the printed summary says how many agencies were compared and how many results differ
    assert ("3 agencies in both rounds, 1 not counted in the previous round, 0 not in it at "
            "all, 0 counted then but not now") in merged["output"]
    assert "fiscal year 2562" in merged["output"]
    assert f"{results} results differ" in merged["output"]


def test_changes_sheets_and_outputs(merged: dict[str, Any]) -> None:
    book = openpyxl.load_workbook(merged["out"], read_only=True)
    assert book.sheetnames == list(WORKBOOK_SHEETS)
    book.close()
    rows = _rows(merged["out"], "changes")
    assert rows[4][:len(CHANGE_COLUMNS)] == CHANGE_COLUMNS  # the names under Thai headings
    assert rows[3][CHANGE_COLUMNS.index("previous_choice")] == "สถานะรอบที่แล้ว"
    assert len(rows) - 5 == len(merged["frames"]["changes"])
    assert {"changes", "score_changes"} <= set(FRAME_NAMES)
    assert (merged["out"].parent / "csv" / "changes.csv").is_file()


def test_a_new_output_is_still_a_valid_last(merged: dict[str, Any]) -> None:
    """The workbook written with the changes sheets: recognised as merge's own output, a LAST
    for generate --prefill and for merge --previous."""
    path = merged["out"]
    assert is_previous_output(path)
    assert is_previous_output(path.parent / "csv" / "changes.csv")
    assert set(load_previous(path).rows) == {a.code for a in AGENCIES}
    last = load_last(path, [load_layout()])
    assert last.agencies == {a.code for a in AGENCIES}


def test_parquet_output_holds_the_frames(first: dict[str, Any], second: dict[str, Any],
                                         tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [
        "merge", str(second["folder"] / "returns"), "-o", str(tmp_path / "c.xlsx"),
        "--parquet", str(tmp_path / "pq"), "--previous", str(first["out"]["parquet"])])
    assert result.exit_code == 0, result.output
    changes = pd.read_parquet(tmp_path / "pq" / "changes.parquet")
    assert _found(changes) == second["expected"]
    scores = pd.read_parquet(tmp_path / "pq" / "score_changes.parquet")
    assert scores["in_previous"].dtype == "boolean"


def test_merge_by_groups_get_their_part(first: dict[str, Any], second: dict[str, Any]) -> None:
    result = _library_result(first, second)
    part = result.subset([CHANGED])
    assert set(part.changes["agency_code"]) == {CHANGED}
    assert _found(part.changes) == {e for e in second["expected"] if e[0] == CHANGED}
    assert list(part.score_changes["agency_code"]) == [CHANGED]
    assert part.previous_source == result.previous_source


def test_without_previous_nothing_is_compared(second: dict[str, Any], layout: Layout,
                                              tmp_path: Path) -> None:
    result = consolidate(second["folder"] / "returns", jobs=1)
    assert result.changes.empty and result.score_changes.empty
    assert result.previous_source is None
    write_workbook(result, tmp_path / "c.xlsx", [layout])
    rows = _summary_counts(tmp_path / "c.xlsx")
    assert not any(label.startswith("5. ") for label in rows)
    changes = _rows(tmp_path / "c.xlsx", "changes")
    assert "--previous" in changes[1][0]


def test_a_revised_layout_compares_only_what_both_have(first: dict[str, Any], layout: Layout,
                                                       tmp_path: Path) -> None:
    """Round 2 on pmqa4-2563.yaml: its new checklist row 3.4.6 and the rows 7.2.5 no longer
    has are not compared; a change in a row both have is."""
    revised = load_layout(REVISED)
    cellmap = build_cellmap(revised)
    new_row = next(c for c in _statuses(cellmap) if c.item_id == "3.4.6")
    kept = next(c for c in _results(cellmap) if c.part == "7.2.5" and c.item_id == "7.2.5.1"
                and (c.part, c.item_id, c.year) in first["typed"][CHANGED])
    was = first["typed"][CHANGED][(kept.part, kept.item_id, kept.year)]
    changes = {CHANGED: {f"{new_row.sheet}!{new_row.ref}": new_row.choices[0],
                         f"{kept.sheet}!{kept.ref}": was + 1}}
    _second(revised, None, first, tmp_path, changes)
    out = tmp_path / "c.xlsx"
    result = CliRunner().invoke(main, [
        "merge", str(tmp_path / "returns"), "--layout", str(REVISED), "-o", str(out),
        "--csv", str(tmp_path / "csv"), "--previous", str(first["out"]["xlsx"])])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "csv" / "changes.csv", dtype=str, keep_default_na=False,
                        na_values=[""])
    assert _found(frame) == {(CHANGED, "result", kept.part, kept.item_id, kept.year, was,
                              was + 1, kept.sheet, kept.ref)}
    gone = {f"7.2.5.{n}" for n in range(6, 11)}
    assert gone.isdisjoint({c.item_id for c in cellmap.inputs()})  # the layout's revision
    assert any(k[1] in gone for k in first["typed"][CHANGED])  # round 1 had them


def _merge_with(last: Path, second: dict[str, Any], out: Path) -> Any:
    return CliRunner().invoke(main, [
        "merge", str(second["folder"] / "returns"), "-o", str(out / "c.xlsx"),
        "--previous", str(last)])


@pytest.mark.parametrize("make", ["form", "no_answers_column", "no_scores", "text_file",
                                  "same_as_output"])
def test_a_bad_last_is_a_usage_error_and_nothing_is_written(
        make: str, first: dict[str, Any], second: dict[str, Any], blank_path: Path,
        tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    if make == "form":  # a form, not a consolidated workbook
        bad = tmp_path / "form.xlsx"
        shutil.copy(blank_path, bad)
    elif make in ("no_answers_column", "no_scores"):
        bad = tmp_path / "csv"
        shutil.copytree(first["out"]["csv"], bad)
        if make == "no_scores":
            (bad / "scores.csv").unlink()
        else:
            frame = pd.read_csv(bad / "answers.csv", dtype=str, keep_default_na=False)
            frame.drop(columns=["kind"]).to_csv(bad / "answers.csv", index=False)
    elif make == "text_file":
        bad = tmp_path / "last.txt"
        bad.write_text("not merge's output", encoding="utf-8")
    else:
        bad = out / "c.xlsx"
        shutil.copy(first["out"]["xlsx"], bad)
    if make != "same_as_output":
        with pytest.raises(PrefillError):
            load_last(bad, [load_layout()])
    before = sorted(p.name for p in out.iterdir())
    result = _merge_with(bad, second, out)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "--previous" in result.output
    assert bad.name in result.output
    assert "กำลังอ่านแบบฟอร์ม" not in result.output  # refused before any return was read
    assert sorted(p.name for p in out.iterdir()) == before
    english_out = CliRunner().invoke(main, english([
        "merge", str(second["folder"] / "returns"), "-o", str(out / "c.xlsx"),
        "--previous", str(bad)]))
    assert english_out.exit_code == 2 and "merge" in english_out.output


def test_formula_looking_text_in_last_stays_text(first: dict[str, Any], layout: Layout,
                                                 tmp_path: Path) -> None:
    """A status typed as '=1+1' in LAST's CSV is that text (not on the list of statuses: not
    compared); a formula put into LAST's workbook is never evaluated nor compared."""
    folder = tmp_path / "csv"
    shutil.copytree(first["out"]["csv"], folder)
    frame = pd.read_csv(folder / "answers.csv", dtype=str, keep_default_na=False)
    at = frame.index[(frame["kind"] == "status") & (frame["agency_code"] == CHANGED)][0]
    frame.loc[at, "value"] = "'=1+1"
    frame.to_csv(folder / "answers.csv", index=False, encoding="utf-8-sig")
    key = (frame.loc[at, "item_id"], frame.loc[at, "field_id"])
    assert load_last(folder, [layout]).statuses[CHANGED][key] == "=1+1"
    book = openpyxl.load_workbook(first["out"]["xlsx"])
    sheet = book["answers"]
    heads = [c.value for c in sheet[1]]
    column = heads.index(f"{key[0]} {key[1]}") + 1
    row = next(r for r in range(4, sheet.max_row + 1) if sheet.cell(r, 2).value == CHANGED)
    sheet.cell(row, column).value = "=CONCAT(\"a\",\"b\")"
    results = book["indicators"]
    year_col = [c.value for c in results[1]].index("result_2561") + 1
    results.cell(2, year_col).value = "=1+1"
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    last = load_last(edited, [layout])
    assert key not in last.statuses[CHANGED]
    code = str(results.cell(2, 2).value)
    table, item = (str(results.cell(2, [c.value for c in results[1]].index(n) + 1).value)
                   for n in ("table_id", "item_id"))
    assert (table, item, 2561) not in last.results[code]


def test_numbers_shown_in_messages() -> None:
    assert [shown_number(v) for v in (80.0, 80.5, 1234.5, -3.0)] == \
        ["80", "80.5", "1,234.5", "-3"]


def _pdf_pages(path: Path, tmp_path: Path) -> int:
    pdf = convert(only_sheet(path, "summary", tmp_path), tmp_path, "pdf")
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


@pytest.mark.libreoffice
def test_the_compared_sections_print_on_pages_of_their_own(first: dict[str, Any],
                                                           second: dict[str, Any],
                                                           layout: Layout, soffice: str,
                                                           tmp_path: Path) -> None:
    # LAST at a long path, which the section names: it wraps in its row, never widening the
    # printed sheet (which would shrink every page to fit it, and let a page run past the
    # writer's breaks)
    deep = tmp_path / ("ผลการรวมรอบปีงบประมาณที่แล้ว-" * 2) / ("ผลรวมรอบปีงบประมาณ-" * 2) / "csv"
    shutil.copytree(first["out"]["csv"], deep)
    plain = consolidate(second["folder"] / "returns", _roster(tmp_path / "r.csv"), jobs=1)
    result = compare(plain, load_last(deep, [layout]))
    assert len(str(result.previous_source)) > 150
    with_previous = tmp_path / "with.xlsx"
    without = tmp_path / "without.xlsx"
    write_workbook(result, with_previous, [layout])
    write_workbook(plain, without, [layout])

    def breaks(path: Path) -> int:
        with zipfile.ZipFile(path) as book:
            return len(re.findall(rb"<brk ", book.read("xl/worksheets/sheet1.xml")))

    # every page as the writer broke them, none broken again by the application; sections 5
    # and 6 each begin a page, and 5's table of score changes takes one of its own when it
    # does not fit below the counts
    assert _pdf_pages(without, tmp_path) == breaks(without) + 1
    assert _pdf_pages(with_previous, tmp_path) == breaks(with_previous) + 1
    assert breaks(without) + 2 <= breaks(with_previous) <= breaks(without) + 3


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_a_long_answers_table_is_refused_never_cut_short(
        form: str, first: dict[str, Any], layout: Layout, monkeypatch: pytest.MonkeyPatch
        ) -> None:
    """The long answers table has a row per cell of each return (millions in a large round):
    past the bound it is refused, not read in part (which would miss agencies' statuses)."""
    import pmqa_xlsx.previous as previous

    rows = len(pd.read_csv(first["out"]["csv"] / "answers.csv", dtype=str))
    monkeypatch.setattr(previous, "MAX_ANSWER_ROWS", rows - 1)
    with pytest.raises(PrefillError, match=f"more than {rows - 1:,} rows"):
        load_last(first["out"][form], [layout])
    monkeypatch.setattr(previous, "MAX_ANSWER_ROWS", rows)
    assert load_last(first["out"][form], [layout]).statuses.keys() == set(FIRST_RETURNED)


def test_answers_not_in_utf8_are_refused(first: dict[str, Any], layout: Layout,
                                         tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    shutil.copytree(first["out"]["csv"], folder)
    (folder / "answers.csv").write_bytes("\"file\",\"agency_code\"\r\n\"ก\"".encode("cp874"))
    with pytest.raises(PrefillError, match="UTF-8"):
        load_last(folder, [layout])


def test_a_large_answers_csv_is_read_past_prefills_size_bound(
        first: dict[str, Any], layout: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    """answers.csv is the largest table (about 75 KB per return): it has its own bound, so a
    large round's LAST is not refused for the size its indicators would be."""
    import pmqa_xlsx.prefill as prefill
    import pmqa_xlsx.previous as previous

    size = (first["out"]["csv"] / "answers.csv").stat().st_size
    monkeypatch.setattr(prefill, "MAX_LAST_BYTES", size - 1)  # the other tables are smaller
    assert load_last(first["out"]["csv"], [layout]).statuses.keys() == set(FIRST_RETURNED)
    monkeypatch.setattr(previous, "MAX_ANSWER_BYTES", size - 1)
    with pytest.raises(PrefillError, match="larger than"):
        load_last(first["out"]["csv"], [layout])


def test_codes_that_lost_their_leading_zeros_in_last_are_the_same_agencies(
        first: dict[str, Any], second: dict[str, Any], tmp_path: Path) -> None:
    """LAST's CSV saved again by a spreadsheet application: 01001 became 1001 and 03005 became
    3005 in every table; they are still compared (prefill's rule: the one code they can be)."""
    folder = tmp_path / "csv"
    shutil.copytree(first["out"]["csv"], folder)
    for name in ("answers", "indicators", "scores"):
        frame = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        frame["agency_code"] = frame["agency_code"].str.lstrip("0")
        frame.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8-sig")
    last = load_last(folder, [load_layout()])
    assert {"1001", "3005"} <= last.agencies
    result = compare(consolidate(second["folder"] / "returns", jobs=1), last)
    assert _found(result.changes) == second["expected"]
    both = dict(zip(result.score_changes["agency_code"], result.score_changes["in_previous"],
                    strict=True))
    assert both == {UNCHANGED: True, CHANGED: True, RESULT_ONLY: True, NEW: False}
    repaired = dict(zip(result.score_changes["agency_code"],
                        result.score_changes["previous_code"], strict=True))
    assert {k: v for k, v in repaired.items() if not pd.isna(v)} == {
        UNCHANGED: "1001", CHANGED: "3005", RESULT_ONLY: "7007"}
    counts = comparison(result)
    assert counts.repaired == 3
    assert "3 agency codes of the previous round had lost their leading zeros" in \
        counts.words("csv").en
    # only this merge's agencies kept: a code without its zeros is one of them
    assert load_last(folder, [load_layout()], codes=[CHANGED]).agencies == {"3005"}


def _returns_of(second: dict[str, Any], folder: Path, leave_out: tuple[str, ...] = ()) -> Path:
    """A copy of round 2's returns folder without the returns of ``leave_out``."""
    folder.mkdir()
    for code, path in second["paths"].items():
        if code not in leave_out:
            shutil.copy(path, folder / path.name)
    return folder


@pytest.mark.parametrize("declared", [True, False])
@pytest.mark.parametrize("which", ["same", "later"])
def test_a_last_not_of_an_earlier_round_is_refused(
        which: str, declared: bool, first: dict[str, Any], second: dict[str, Any],
        merged: dict[str, Any], tmp_path: Path) -> None:
    """LAST of this round (2563 against 2563), or of a later one (2562 against 2563), is a
    usage error naming both years, nothing written: before any return is read with --round,
    after reading (when only then is this round's year known) without."""
    out = tmp_path / "out"
    out.mkdir()
    if which == "same":
        returns, last, year, last_year = second["folder"] / "returns", merged["out"], 2563, 2563
    else:
        returns, last, year, last_year = first["root"] / "returns", merged["out"], 2562, 2563
    args = ["merge", str(returns), "-o", str(out / "c.xlsx"), "--csv", str(out / "csv"),
            "--previous", str(last), *(["--round", str(year)] if declared else [])]
    for lang, words in (("th", (f"ปีงบประมาณ พ.ศ. {last_year}", f"พ.ศ. {year}")),
                        ("en", (f"fiscal year {last_year}", f"fiscal year {year}"))):
        result = CliRunner().invoke(main, english(args) if lang == "en" else args)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and "--previous" in result.output
        assert all(w in result.output for w in words), result.output
        assert ("รอบเดียวกับรอบนี้" if which == "same" else "รอบหลังรอบนี้") in result.output \
            or lang == "en"
        reading = "กำลังอ่านแบบฟอร์ม" if lang == "th" else "reading returns"
        assert (reading in result.output) != declared
        assert list(out.iterdir()) == []


def test_a_last_that_is_not_there_is_named_as_not_found(second: dict[str, Any],
                                                        tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = _merge_with(tmp_path / "nope.xlsx", second, out)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "nope.xlsx: ไม่พบไฟล์หรือโฟลเดอร์นี้" in result.output
    assert "ไม่ใช่ไฟล์รวมผล" not in result.output
    assert list(out.iterdir()) == []


def test_agencies_counted_last_round_but_not_this_one_are_reported(
        first: dict[str, Any], second: dict[str, Any], tmp_path: Path) -> None:
    """01001 and 07007 did not return this round: a score_changes row each (in_current
    false, last round's scores, no file), counted and named on the console."""
    returns = _returns_of(second, tmp_path / "returns", (UNCHANGED, RESULT_ONLY))
    result = compare(consolidate(returns, jobs=1), load_last(first["out"]["csv"],
                                                             [load_layout()]))
    scores = result.score_changes
    assert list(scores.columns) == list(SCORE_CHANGE_COLUMNS)
    gone = scores[~scores["in_current"].astype(bool)]
    assert sorted(gone["agency_code"]) == [UNCHANGED, RESULT_ONLY]
    assert gone["file"].isna().all() and gone["score_72"].isna().all()
    assert gone["in_previous"].all() and gone["score_72_previous"].notna().all()
    counts = comparison(result)
    assert (counts.compared, counts.gone) == (1, (UNCHANGED, RESULT_ONLY))
    out = tmp_path / "out"
    out.mkdir()
    printed = CliRunner().invoke(main, english([
        "merge", str(returns), "-o", str(out / "c.xlsx"), "--previous",
        str(first["out"]["csv"])]))
    assert printed.exit_code == 0, printed.output
    assert f"2 counted then but not now ({UNCHANGED}, {RESULT_ONLY})" in printed.output


def test_new_agencies_are_split_by_lasts_returns_table(first: dict[str, Any],
                                                       second: dict[str, Any],
                                                       tmp_path: Path) -> None:
    """21003 was on the first round's roster, missing (not counted); with its row taken out
    of LAST's returns table it is not in the previous round at all."""
    result = consolidate(second["folder"] / "returns", jobs=1)
    on_roster = compare(result, load_last(first["out"]["csv"], [load_layout()]))
    row = on_roster.score_changes.set_index("agency_code").loc[NEW]
    assert (bool(row["in_previous"]), row["previous_state"]) == (False, "missing")
    counts = comparison(on_roster)
    assert (counts.not_counted, counts.not_in_last, counts.new) == (1, 0, 1)
    folder = tmp_path / "csv"
    shutil.copytree(first["out"]["csv"], folder)
    frame = pd.read_csv(folder / "returns.csv", dtype=str, keep_default_na=False)
    frame[frame["agency_code"] != NEW].to_csv(folder / "returns.csv", index=False)
    absent = comparison(compare(result, load_last(folder, [load_layout()])))
    assert (absent.not_counted, absent.not_in_last, absent.new) == (0, 1, 1)


@pytest.mark.parametrize("file_row_first", [True, False])
def test_a_file_sent_last_round_says_more_than_its_missing_row(first: dict[str, Any],
                                                               second: dict[str, Any],
                                                               file_row_first: bool,
                                                               tmp_path: Path) -> None:
    """An agency whose return was not counted last round has two rows in LAST's returns
    table: its file's (rejected, empty...) and the missing row merge adds. Its previous state
    is its file's, whichever row comes first; a counted row outranks both."""
    result = consolidate(second["folder"] / "returns", jobs=1)
    folder = tmp_path / "csv"
    shutil.copytree(first["out"]["csv"], folder)
    frame = pd.read_csv(folder / "returns.csv", dtype=str, keep_default_na=False)
    missing = frame[frame["agency_code"] == NEW]
    assert list(missing["state"]) == ["missing"]
    sent = missing.assign(state="rejected", file=f"{NEW}.xlsx")
    rows = [sent, missing] if file_row_first else [missing, sent]
    pd.concat([frame[frame["agency_code"] != NEW], *rows]).to_csv(folder / "returns.csv",
                                                                  index=False)
    compared = compare(result, load_last(folder, [load_layout()]))
    row = compared.score_changes.set_index("agency_code").loc[NEW]
    assert (bool(row["in_previous"]), row["previous_state"]) == (False, "rejected")
    counted = compared.score_changes.set_index("agency_code").loc[CHANGED]
    assert counted["previous_state"] in COUNTED


@pytest.mark.parametrize("form", FORMS)
def test_only_this_merges_agencies_of_last_are_kept(form: str, first: dict[str, Any]) -> None:
    every = load_last(first["out"][form], [load_layout()])
    assert every.agencies == set(FIRST_RETURNED) and every.year == 2562
    mine = load_last(first["out"][form], [load_layout()], codes=[CHANGED, NEW])
    assert mine.agencies == {CHANGED}
    assert set(mine.statuses) == set(mine.results) == set(mine.scores) == {CHANGED}
    assert mine.statuses[CHANGED] == every.statuses[CHANGED]
    assert mine.results[CHANGED] == every.results[CHANGED]
    assert mine.year == 2562 and mine.states[NEW] == "missing"


def test_a_difference_has_the_decimals_of_its_numbers() -> None:
    assert difference(4.654, 4.386) == 0.268
    assert 4.654 - 4.386 != 0.268  # the float noise the rule takes away
    assert difference(80.0, 75.5) == 4.5 and difference(1.1, 2.2) == -1.1
    assert difference(2 / 3, 0.0) == pytest.approx(2 / 3, rel=1e-14)
    assert difference(1e-20, 0.0) == 1e-20  # beyond 15 decimals: as it is


def test_section_5_names_the_year_and_leaves_out_a_score_the_layout_has_not(
        merged: dict[str, Any]) -> None:
    """The bundled layout scores no checklist: no "Checklist score" row of zeros and blank
    quartiles, only the 7.2 score's; the previous round is named by its year."""
    labels = [str(row[0]) for row in _rows(merged["out"], "summary") if row[0]]
    at = next(n for n, label in enumerate(labels) if label.startswith("5. "))
    part = labels[at:next(n for n, label in enumerate(labels) if label.startswith("6. "))]
    assert "คะแนน 7.2 / 7.2 score" in part
    assert not any(label.startswith("คะแนนรายการตรวจ") for label in part)
    assert any(label.startswith("ผลลัพธ์รอบที่แล้ว ปีงบประมาณ พ.ศ. 2562 / Previous round, "
                                "fiscal year 2562: ") for label in part)


#: The data sheets and their repeated header rows (1-based, as print titles name them).
_DATA_SHEETS = {"indicators": "$1:$1", "problems": "$1:$1", "returns": "$1:$1",
                "scores": "$1:$1", "implausible": "$4:$5", "changes": "$4:$5",
                "score_changes": "$4:$5"}


def test_data_sheets_print_landscape_one_page_wide_with_their_headers(
        merged: dict[str, Any]) -> None:
    """Each data sheet (not answers: too wide) on A4 landscape, one page wide, its header rows
    repeated, gridlines printed; each header row as tall as its tallest head, measured."""
    from pmqa_xlsx.textmetrics import fit_height, lines_height

    with zipfile.ZipFile(merged["out"]) as package:
        workbook = package.read("xl/workbook.xml").decode()
        parts = {name: package.read(f"xl/worksheets/sheet{n}.xml").decode()
                 for n, name in enumerate(WORKBOOK_SHEETS, start=1)}
    for name, rows in _DATA_SHEETS.items():
        xml = parts[name]
        setup = re.search(r"<pageSetup [^>]*>", xml)
        assert setup is not None, name
        assert all(f in setup.group(0) for f in ('paperSize="9"', 'orientation="landscape"',
                                                 'fitToHeight="0"')), (name, setup.group(0))
        assert 'fitToWidth="0"' not in setup.group(0)  # 1, xlsx's default, is left out
        assert '<pageSetUpPr fitToPage="1"/>' in xml and 'gridLines="1"' in xml, name
        row = re.search(r'<sheetFormatPr defaultRowHeight="([\d.]+)" customHeight="1"', xml)
        assert row is not None and float(row.group(1)) == lines_height(1, 14), name
        assert f"<definedName name=\"_xlnm.Print_Titles\" localSheetId=\"" \
               f"{WORKBOOK_SHEETS.index(name)}\">{name}!{rows}</definedName>" in workbook, name
    # answers (too wide for one page) prints at a fixed scale across pages instead:
    # test_summary.py's test_printing_the_workbook_prints_the_summary_and_the_answers_readably
    assert "fitToPage" not in parts["answers"]
    # the changes sheet: its Thai headings' row (4) holds its tallest heading whole
    heights = {int(m.group(1)): float(m.group(2)) for m in re.finditer(
        r'<row r="(\d+)"[^>]* ht="([\d.]+)"[^>]*customHeight="1"', parts["changes"])}
    longest = max(fit_height(h, (14.0,), 14, 14, bold=True)
                  for h in ("ผลต่าง (รอบนี้ - รอบที่แล้ว)", "ทิศทาง (up ดีขึ้น / down ลดลง)"))
    assert longest > lines_height(1, 14)  # they wrap in their 14-wide columns
    assert heights[4] >= longest
    assert heights[1] == lines_height(1, 18)  # the title, at its size
    assert heights[2] >= lines_height(1, 14) and heights[5] >= lines_height(1, 14)


@pytest.mark.libreoffice
@pytest.mark.parametrize("merged", ["csv"], indirect=True)  # one form of LAST is enough
def test_the_changes_sheet_prints_its_title_and_headers_whole(merged: dict[str, Any],
                                                              soffice: str,
                                                              tmp_path: Path) -> None:
    """LibreOffice's PDF of the changes sheet: one page, landscape, the title, the rule, both
    header rows and the data rows on it, one above the other, none overlapping."""
    pdf = convert(only_sheet(merged["out"], "changes", tmp_path), tmp_path, "pdf")
    boxes = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
    words = [(float(m.group(2)), float(m.group(4)), html.unescape(m.group(5)))
             for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                                  r'yMax="([\d.]+)">([^<]*)</word>', boxes)]
    page = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', boxes)
    assert page is not None and float(page.group(1)) > float(page.group(2))  # landscape

    def top(word: str) -> tuple[float, float]:
        return next((y0, y1) for y0, y1, w in words if w == word)

    title, rule = top("Changes"), top("checklist")
    thai_head, names = top("ข้อ"), top("previous_file")
    rows = sorted({(y0, y1) for y0, y1, w in words if w in ("status", "result")
                   and y0 > names[1]})
    assert len(rows) == len(merged["frames"]["changes"])  # every change, on this page
    assert title[1] <= rule[0] and rule[1] <= thai_head[0] and names[1] <= rows[0][0]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(rows))  # rows do not overlap
    assert top("what") and top("change")  # the rule's last words are on the page too


@pytest.mark.parametrize("form", FORMS)
def test_without_a_roster_last_is_checked_first_then_read_for_the_returns_counted(
        form: str, first: dict[str, Any], second: dict[str, Any], tmp_path: Path) -> None:
    """No codes kept: LAST checked (its year and returns table read), nothing else kept; then,
    the returns read, only the counted agencies' statuses and results, every agency's scores
    (so one counted last round only is still known): the same changes as the whole of LAST."""
    checked = load_last(first["out"][form], [load_layout()], codes=[])
    assert (checked.agencies, checked.year) == (set(), 2562)
    assert set(checked.states) == {a.code for a in AGENCIES}
    returns = _returns_of(second, tmp_path / "returns", (UNCHANGED,))
    result = consolidate(returns, jobs=1)
    counted = sorted(result.scores["agency_code"].dropna())
    part = load_last(first["out"][form], [load_layout()], counted, all_scores=True)
    assert set(part.statuses) | set(part.results) == {CHANGED, RESULT_ONLY}
    assert set(part.scores) == set(FIRST_RETURNED)
    whole = compare(result, load_last(first["out"][form], [load_layout()]))
    mine = compare(result, part)
    assert _found(mine.changes) == _found(whole.changes) != set()
    gone = mine.score_changes[~mine.score_changes["in_current"].astype(bool)]
    assert list(gone["agency_code"]) == [UNCHANGED]
