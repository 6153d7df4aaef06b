"""What keeps a merge's memory low changes nothing it gives: the workers' reads sent in
parts and put together again are the reads as read, a merge's own reads let their indicator
rows go only where no one else sees them, and giving memory back is harmless anywhere."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pandas as pd
import pytest

from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.consolidate import (
    _read_batch,
    _unpacked,
    _Unpickler,
    collect_inputs,
    consolidate,
    merge_reads,
    read_all,
    read_input,
)
from pmqa_xlsx.generate import Template
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.parallel import give_back_memory
from pmqa_xlsx.read import ReadReturn, bind_plans, layout_set
from pmqa_xlsx.read.records import Identity, IndicatorValues

from .test_frames_equal import AGENCIES, WHEN, varied

FRAMES = ("answers", "indicators", "problems", "returns", "scores", "implausible")


@pytest.fixture(scope="module")
def folder(layout: Layout, cellmap: CellMap, tmp_path_factory: pytest.TempPathFactory
           ) -> Path:
    """Varied returns (counted, with errors, duplicates of one agency), a file that is not
    a workbook and one that is not a file of the form."""
    root = tmp_path_factory.mktemp("memory")
    fields = frozenset(f.id for f in layout.identity.fields if f.roster)
    templates = [Template(cellmap, fields, None, WHEN, varied(cellmap, s)) for s in range(6)]
    for i, agency in enumerate(AGENCIES[:40]):
        (root / agency.file_name).write_bytes(templates[i % 6].personalise(agency))
    (root / "again.xlsx").write_bytes(templates[0].personalise(AGENCIES[0]))
    (root / "notes.xlsx").write_text("not a workbook", encoding="utf-8")
    (root / "readme.txt").write_text("hello", encoding="utf-8")
    return root


def fields(read: ReadReturn) -> tuple[object, ...]:
    return (read.file, read.identity, read.problems, read.plan_key, read.values,
            read.indicator_rows, read.mtime, read.filled, read.checklist_score)


def test_a_batch_sent_in_parts_is_the_reads_as_read(folder: Path) -> None:
    entries = collect_inputs(folder)
    extra = layout_set(None).layouts
    direct = [read_input(entry, extra) for entry in entries]
    # as a worker sends it: through pickle, once more by the pool
    batch = pickle.loads(pickle.dumps(_read_batch(entries, extra)))
    assert batch[0] == len(entries)
    done = _unpacked([(5, batch)])
    assert sorted(done) == list(range(5, 5 + len(entries)))
    again = [done[5 + i] for i in range(len(entries))]
    bind_plans(again, extra)
    assert [fields(r) for r in again] == [fields(r) for r in direct]
    assert any(r.values is None for r in again) and any(r.indicator_rows for r in again)
    assert all(r.plan is not None for r in again if r.plan_key is not None)


def test_batches_come_back_in_their_places(folder: Path) -> None:
    entries = collect_inputs(folder)
    extra = layout_set(None).layouts
    starts = range(0, len(entries), 7)
    sent = [(start, _read_batch(entries[start:start + 7], extra)) for start in starts]
    done = _unpacked(sent)
    assert [done[i].file for i in range(len(entries))] == [e.name for e in entries]


def test_the_unpickler_finds_what_pickle_finds() -> None:
    things = [Identity(agency_code="A1", fields={"x": 1}),
              IndicatorValues(0, "i", None, "d", 1.0, (2.0, None), 50.0, 1.0), Path("a")]
    data = pickle.dumps(things, pickle.HIGHEST_PROTOCOL)
    assert _Unpickler(io.BytesIO(data)).load() == things == pickle.loads(data)


def test_consolidate_gives_the_frames_merge_reads_gives(folder: Path) -> None:
    """consolidate lets its own reads' indicator rows go while merging; merge_reads, given
    reads someone else holds, leaves them as they were; the frames are the same."""
    reads = read_all(collect_inputs(folder), jobs=2)
    rows = [list(r.indicator_rows) for r in reads]
    assert any(rows)
    merged = merge_reads(reads, None, accept_errors=True)
    assert [r.indicator_rows for r in reads] == rows
    own = consolidate(folder, accept_errors=True, jobs=2)
    assert set(merged.returns["state"]) >= {"ok_with_warnings", "counted_with_errors",
                                            "duplicate", "rejected"}
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(own, name), getattr(merged, name), obj=name)


def test_giving_memory_back_is_harmless() -> None:
    kept = [bytearray(1 << 20) for _ in range(8)]
    del kept[::2]
    give_back_memory()
    give_back_memory()
    assert all(len(b) == 1 << 20 for b in kept)


def test_a_batch_that_cannot_be_made_again_is_left_to_be_read_again(folder: Path) -> None:
    entries = collect_inputs(folder)
    extra = layout_set(None).layouts
    good = _read_batch(entries[:3], extra)
    for part in (1, 2, 3):
        broken = tuple(b"not a pickle" if i == part else x for i, x in enumerate(good))
        done = _unpacked([(0, good), (3, broken)])  # type: ignore[list-item]
        assert sorted(done) == [0, 1, 2]


def test_an_integer_column_over_several_blocks_is_written_as_before(tmp_path: Path) -> None:
    """The answers' year (Int64, a handful of values over millions of rows) is made into
    floats a block at a time, never as a copy as long as the column: the file is still the
    frozen writer's, across blocks, with NA, -0 and a short last block."""
    from pmqa_xlsx import csvstream

    from . import report_before

    n = csvstream.BLOCK_ROWS * 2 + 5  # several blocks, the last one short
    years = pd.array([None, 2562, 2560, None, 2561, -0, 7, 2562] * (n // 8) + [2570] * (n % 8),
                     dtype="Int64")
    frame = pd.DataFrame({"file": pd.Categorical(["a.xlsx"] * len(years)), "year": years,
                          "value": pd.Series(["x", 1.5, None, "=1"] * (len(years) // 4)
                                             + [2.0] * (len(years) % 4), dtype=object)})
    csvstream.write_csv(frame, tmp_path / "new.csv")
    report_before._csv(frame, tmp_path / "old.csv")
    assert (tmp_path / "new.csv").read_bytes() == (tmp_path / "old.csv").read_bytes()
