"""The merge's frames, built the fast way, are the frames the old builders gave: frame for
frame, dtypes included (the old builders are frozen in tests/frames_reference.py), on the
corpus of bad returns and on varied good ones; the CLI's CSV outputs are those written from
the reference frames; and the frames keep their memory-lean structure."""

from __future__ import annotations

import dataclasses
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from pmqa_xlsx import quality
from pmqa_xlsx.cellmap import CellMap, build_cellmap
from pmqa_xlsx.consolidate import (
    _read_one_by_one,
    cell_errors,
    collect_inputs,
    merge_reads,
    read_all,
    read_input,
    share_choices,
    without_cells,
)
from pmqa_xlsx.generate import Template
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.read import ReadReturn, answers_frame, indicators_frame, scores_frame
from pmqa_xlsx.read.reader import bind_plans, layout_set
from pmqa_xlsx.report import write_csvs
from pmqa_xlsx.roster import Agency

from . import frames_reference as ref
from .corpus import build, remove_deep

WHEN = datetime(2026, 3, 1, tzinfo=UTC)
AGENCIES = [Agency(code=f"F{i:03d}", name=f"หน่วยงาน {i}", ministry="ก") for i in range(48)]


def varied(cellmap: CellMap, seed: int) -> dict[tuple[str, str], Any]:
    """A return's answers, drawn to reach every rule of the frames and of ``implausible``:
    every status, blanks, text of spaces, fractions for targets, huge and tiny results (an even
    seed's return is counted; an odd one's has errors in answer cells)."""
    rng = random.Random(seed)
    sloppy = seed % 2  # an odd seed leaves cells blank, so its return has errors
    out: dict[tuple[str, str], Any] = {}
    for cell in cellmap.inputs():
        key = (cell.item_id, cell.field_id)
        pick = rng.random() if sloppy else 1.0
        if cell.kind == "identity" or pick < 0.15:
            continue
        if cell.choices:
            out[key] = rng.choice(cell.choices)
        elif cell.kind == "number":
            out[key] = rng.choice([0.5, 0.8, 1.0, 12.0, 80.0, 100.0, 250.5, 5000.0,
                                   round(rng.uniform(1, 1000), 2)])
        elif pick < 0.2:
            out[key] = "   "  # text of spaces only: blank in the frames
        else:
            out[key] = f"คำตอบ {seed} {cell.item_id} {cell.field_id}"
    return out


@pytest.fixture(scope="module")
def good_folder(layout: Layout, cellmap: CellMap,
                tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("varied")
    fields = frozenset(f.id for f in layout.identity.fields if f.roster)
    templates = [Template(cellmap, fields, None, WHEN, varied(cellmap, s)) for s in range(8)]
    for i, agency in enumerate(AGENCIES):
        (folder / agency.file_name).write_bytes(templates[i % 8].personalise(agency))
    return folder


@pytest.fixture(scope="module")
def good_reads(good_folder: Path) -> list[ReadReturn]:
    return read_all(collect_inputs(good_folder), jobs=2)


@pytest.fixture(scope="module")
def other_year_reads(layout: Layout, tmp_path_factory: pytest.TempPathFactory
                     ) -> list[ReadReturn]:
    """Returns of the form for another fiscal year: another plan, other result years."""
    folder = tmp_path_factory.mktemp("other-year")
    cellmap = build_cellmap(layout, layout.form.fiscal_year + 1)
    fields = frozenset(f.id for f in layout.identity.fields if f.roster)
    templates = [Template(cellmap, fields, None, WHEN, varied(cellmap, s)) for s in (8, 9)]
    for i, agency in enumerate(AGENCIES[:6]):
        (folder / agency.file_name).write_bytes(templates[i % 2].personalise(agency))
    return read_all(collect_inputs(folder), jobs=1)


@pytest.fixture(scope="module")
def corpus_reads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ReadReturn]]:
    root = tmp_path_factory.mktemp("corpus-frames")
    build(root)
    yield read_all(collect_inputs(root / "returns"), jobs=2)
    remove_deep(root)


def with_errors_left_out(reads: list[ReadReturn]) -> list[ReadReturn]:
    """The reads as ``--accept-errors`` counts them: answer cells with errors blanked."""
    out = []
    for read in reads:
        cells = cell_errors(read)
        out.append(without_cells(read, cells) if cells else read)
    return out


def assert_frames_as_reference(reads: list[ReadReturn]) -> None:
    pd.testing.assert_frame_equal(answers_frame(reads), ref.answers_frame(reads))
    pd.testing.assert_frame_equal(indicators_frame(reads, (2560, 2570)),
                                  ref.indicators_frame(reads, (2560, 2570)))
    pd.testing.assert_frame_equal(indicators_frame(reads), ref.indicators_frame(reads))
    pd.testing.assert_frame_equal(scores_frame(reads), ref.scores_frame(reads))


@pytest.mark.parametrize("which", ["good", "corpus", "all", "none"])
def test_the_frames_are_the_reference_frames(which: str, good_reads: list[ReadReturn],
                                             corpus_reads: list[ReadReturn],
                                             other_year_reads: list[ReadReturn]) -> None:
    reads = {"good": good_reads, "corpus": corpus_reads, "none": [],
             "all": corpus_reads + other_year_reads + good_reads}[which]
    assert_frames_as_reference(reads)
    assert_frames_as_reference(with_errors_left_out(reads))
    assert_frames_as_reference(reads[::-3])  # another order, another subset


def test_the_reads_reach_several_plans_and_errors(corpus_reads: list[ReadReturn],
                                                  other_year_reads: list[ReadReturn]) -> None:
    """What the test above relies on: reads of more than one plan (the concatenating path),
    the other one read as a form, and returns with errors in answer cells."""
    reads = corpus_reads + other_year_reads
    assert len({r.plan_key for r in reads if r.values is not None}) > 1
    assert all(r.values is not None for r in other_year_reads)
    assert any(cell_errors(r) for r in corpus_reads)


def test_the_merged_frames_and_implausible_are_the_reference(
        good_reads: list[ReadReturn], corpus_reads: list[ReadReturn]) -> None:
    for reads in (good_reads, corpus_reads + good_reads):
        merged = merge_reads(reads, None, accept_errors=True)
        assert len(merged.implausible) > 0 or reads is not good_reads
        expected = ref.implausible(merged.indicators, merged.answers)
        pd.testing.assert_frame_equal(merged.implausible, expected)
    assert len(merge_reads(good_reads, None).implausible) > 0


def test_implausible_is_the_reference_on_perturbed_frames(good_reads: list[ReadReturn]
                                                          ) -> None:
    """Frames a merge would not make, too: targets and percents set to fractions, blanks,
    infinities and huge numbers at random, answers with plain text columns (no categories),
    and indicators with object columns."""
    merged = merge_reads(good_reads, None)
    rng = np.random.default_rng(15)
    choices = [np.nan, np.inf, -np.inf, 0.0, 0.5, 1.0, 1e-300, 299.0, 301.0, 999.99, 1000.0,
               1e6]
    for trial in range(6):
        frame = merged.indicators.copy()
        for column in ("target", "percent_success", *[c for c in frame if
                                                      c.startswith("result_")]):
            values = frame[column].astype(object).to_numpy().copy()
            hit = rng.random(len(values)) < 0.3
            values[hit] = rng.choice(np.array(choices, dtype=object), int(hit.sum()))
            frame[column] = pd.array([None if isinstance(v, float) and np.isnan(v) else v
                                      for v in values], dtype="Float64")
        answers = merged.answers
        if trial % 2:
            answers = answers.astype({c: "string" for c in ("file", "part", "item_id",
                                                            "field_id", "sheet", "cell")})
        if trial == 5:
            frame = frame.astype({"target": object, "percent_success": object})
        pd.testing.assert_frame_equal(quality.implausible(frame, answers),
                                      ref.implausible(frame, answers))
    empty = merged.indicators.iloc[:0]
    pd.testing.assert_frame_equal(quality.implausible(empty, merged.answers),
                                  ref.implausible(empty, merged.answers))
    pd.testing.assert_frame_equal(quality.implausible(merged.indicators, merged.answers[:0]),
                                  ref.implausible(merged.indicators, merged.answers[:0]))


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_implausible_is_the_same_a_chunk_at_a_time(chunk: int, good_reads: list[ReadReturn],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer rows are looked at a chunk at a time: chunks that split a return, or a row,
    anywhere, find the same cells."""
    merged = merge_reads(good_reads, None)
    expected = ref.implausible(merged.indicators, merged.answers)
    assert len(expected) and len(merged.answers) > 3 * chunk
    monkeypatch.setattr(quality, "_CHUNK", chunk)
    pd.testing.assert_frame_equal(quality.implausible(merged.indicators, merged.answers),
                                  expected)


def test_robust_stats_of_float_columns_are_those_of_their_numbers() -> None:
    values = [1.5, None, float("nan"), float("inf"), -2.0, 7.25, float("-inf"), 3.0]
    as_float = quality.robust_stats(pd.Series(values, dtype="Float64"))
    as_numpy = quality.robust_stats(pd.Series(values, dtype="float64"))
    as_objects = quality.robust_stats(pd.Series(values, dtype=object))
    assert as_float == as_numpy == as_objects == ref.robust_stats(pd.Series(values,
                                                                            dtype="Float64"))
    assert as_objects.count == 4


def test_the_merge_outputs_are_written_from_the_reference_frames(
        good_folder: Path, good_reads: list[ReadReturn], tmp_path: Path) -> None:
    """``pmqa-xlsx merge --csv`` over varied returns writes, byte for byte, the CSV files of
    the reference frames of the same reads."""
    folder = good_folder
    done = subprocess.run([sys.executable, "-m", "pmqa_xlsx.cli", "merge", str(folder), "-o",
                           str(tmp_path / "merged.xlsx"), "--csv", str(tmp_path / "csv"),
                           "--jobs", "2"], capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    merged = merge_reads(good_reads, None)
    counted = [r for r in good_reads if r.state != "rejected"]  # no duplicates, none empty
    assert 0 < len(counted) < len(good_reads)
    expected = dataclasses.replace(
        merged, answers=ref.answers_frame(counted),
        indicators=ref.indicators_frame(counted, merged.indicators.columns.str.extract(
            r"^result_(\d+)$")[0].dropna().astype(int).tolist()),
        scores=ref.scores_frame(counted))
    expected.__dict__["implausible"] = ref.implausible(expected.indicators, expected.answers)
    write_csvs(expected, tmp_path / "expected")
    for path in sorted((tmp_path / "expected").iterdir()):
        got = (tmp_path / "csv" / path.name).read_bytes()
        assert got == path.read_bytes(), path.name


def test_choices_are_one_object_and_the_values_unchanged(good_folder: Path,
                                                         good_reads: list[ReadReturn]) -> None:
    read = good_reads[0]
    assert read.plan is not None and read.values is not None
    again = read_input(next(e for e in collect_inputs(good_folder) if e.name == read.file))
    assert again.values == read.values and again.indicator_rows == read.indicator_rows
    share_choices(again)
    assert again.values == read.values and again.indicator_rows == read.indicator_rows
    texts = {c for slot in again.plan.inputs for c in slot.cell.choices}
    shared = [v for slot, v in zip(again.plan.inputs, again.values, strict=True)
              if slot.cell.choices and isinstance(v, str) and v in texts]
    assert shared
    mine = {c: c for slot in again.plan.inputs for c in slot.cell.choices}
    assert all(v is mine[v] for v in shared)
    # read in worker processes: one object per batch of files, not one per file and cell
    by_text: dict[str, set[int]] = {}
    files_with: dict[str, int] = {}
    for r in good_reads:
        assert r.plan is not None and r.values is not None
        seen = set()
        for slot, value in zip(r.plan.inputs, r.values, strict=True):
            if slot.cell.kind == "status" and isinstance(value, str):
                by_text.setdefault(value, set()).add(id(value))
                seen.add(value)
        for text in seen:
            files_with[text] = files_with.get(text, 0) + 1
    assert by_text
    assert all(len(ids) < files_with[text] for text, ids in by_text.items())


def test_the_one_by_one_fallback_shares_choices_too(good_folder: Path,
                                                     tmp_path: Path) -> None:
    """After a reading process died, the files left are read one by one in a new worker
    (``_read_one_by_one``): those reads share each choice text too (one object per text in
    a read, not one per cell). A return re-saved by openpyxl holds its texts inline, so
    without the sharing every cell's text would be an object of its own."""
    source = sorted(good_folder.iterdir())[0]
    book = openpyxl.load_workbook(source)
    book.save(tmp_path / source.name)
    extra = layout_set(None).layouts
    [read] = _read_one_by_one(collect_inputs(tmp_path), extra, None)
    bind_plans([read], extra)
    assert read.plan is not None and read.values is not None
    objects: dict[str, set[int]] = {}
    cells: dict[str, int] = {}
    for slot, value in zip(read.plan.inputs, read.values, strict=True):
        if slot.cell.choices and isinstance(value, str) and value in slot.cell.choices:
            objects.setdefault(value, set()).add(id(value))
            cells[value] = cells.get(value, 0) + 1
    for row in read.indicator_rows:
        if isinstance(row.direction, str):
            objects.setdefault(row.direction, set()).add(id(row.direction))
            cells[row.direction] = cells.get(row.direction, 0) + 1
    assert max(cells.values()) > 1  # a text in several cells: something to share
    assert {text: len(ids) for text, ids in objects.items()} == dict.fromkeys(objects, 1)


def test_the_answers_frame_is_codes_and_values(good_reads: list[ReadReturn]) -> None:
    """The structure that keeps the answers small: every text column a categorical, the year
    Int64, only ``value`` of dtype object; and its cell-map columns share the plan's
    categories rather than holding a string per row."""
    answers = answers_frame(good_reads)
    assert [c for c in answers if answers[c].dtype == object] == ["value"]
    assert str(answers["year"].dtype) == "Int64"
    for column in ("file", "agency_code", "part", "item_id", "field_id", "kind", "label",
                   "sheet", "cell"):
        assert isinstance(answers[column].dtype, pd.CategoricalDtype), column
    plan = good_reads[0].plan
    assert plan is not None
    assert answers["label"].cat.categories.equals(plan.cell_meta["label"].cat.categories)


def test_the_summary_figures_are_the_reference(good_reads: list[ReadReturn],
                                               corpus_reads: list[ReadReturn]) -> None:
    """agency_scores and status_shares, column by column now, give the rows they gave row by
    row: with and without a roster (names, ministries), on counted and mixed returns."""
    from pmqa_xlsx.layout import ChecklistSheet
    from pmqa_xlsx.summary import agency_scores, status_shares

    roster = [Agency(code=a.code, name=a.name, ministry=m)
              for a, m in zip(AGENCIES, ["ก", "ข", " "] * 16, strict=False)]
    framed = 0
    for reads in (good_reads, corpus_reads + good_reads):
        merged = merge_reads(reads, None, accept_errors=True)
        for agencies in (None, roster):
            got, expected = (outcome(f, merged, agencies)
                             for f in (agency_scores, ref.agency_scores))
            if isinstance(expected, pd.DataFrame):
                assert isinstance(got, pd.DataFrame)
                pd.testing.assert_frame_equal(got, expected)
                framed += 1
            else:  # the reference took each code's name from its last file, and failed
                # when that one had none (a rejected copy): each return's own name now
                assert isinstance(got, pd.DataFrame) and expected[0] is TypeError
                own = dict(zip(merged.returns["file"], merged.returns["agency_name"],
                               strict=True))
                assert merged.returns["agency_name"].isna().any()
                for file, name in zip(merged.scores["file"], got["agency_name"], strict=True):
                    assert name == ("" if pd.isna(own[file]) else own[file])
                framed += 1
        counted = int(merged.summary()["ok"] + merged.summary()["ok_with_warnings"])
        for layout in merged.layouts:
            sheets = [s for s in layout.sheets if isinstance(s, ChecklistSheet)]
            assert sheets
            for sheet in sheets:
                for answers in (merged.answers, merged.answers[:0]):
                    assert status_shares(answers, layout, sheet, counted) == \
                        ref.status_shares(answers, layout, sheet, counted)
    assert framed >= 2


def outcome(function: Any, *args: Any) -> Any:
    """What ``function(*args)`` gives, or the type and text of what it raises."""
    try:
        return function(*args)
    except Exception as exc:  # noqa: BLE001 - compared, not handled
        return type(exc), str(exc)
