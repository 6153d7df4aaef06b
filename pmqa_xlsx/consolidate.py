"""Consolidation: many returned workbooks (and a roster) -> one dataset, nothing lost.

Every input file gets a row in ``returns`` with its state; every roster agency without a
counted return gets a ``missing`` row. Of several returns from one agency the newest counts
(by the workbook's own modification time, then the file's, then the generation time; a time
after the merge started or before the workbook was generated is not trusted) and the others
are listed as ``duplicate``. A return with nothing filled in is listed as ``empty``: it is not
counted (it never replaces a filled return of its agency, however new it is: a filled older
return counts), and its agency, with no counted return, also gets a ``missing`` row saying it
sent an empty form, so counting ``missing`` rows gives the agencies still to return. With
the manifest of the workbooks issued, a return that does not carry the token issued to its
agency is rejected. A return whose agency is not on the roster is ``unknown_agency``; its
reason says when its code is a roster code but for leading zeros. A merge counts one round
(see rounds.py): returns of another are listed as ``other_round``. Only counted returns (ok,
ok_with_warnings, counted_with_errors) feed ``answers``, ``indicators`` and ``scores``; every
problem of every file is in ``problems``. ``check_files`` is the same judgement for one file
at a time, without the choice between an agency's returns.
"""

from __future__ import annotations

import dataclasses
import io
import os
import pickle
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property, partial
from pathlib import Path
from typing import Any, cast

import pandas as pd

from . import problems as P
from . import quality
from .identity import Manifest, load_manifest, without_zeros, zeros_lost
from .inputs import InputFile, collect
from .layout import Layout
from .parallel import (
    gc_paused,
    give_back_memory,
    new_pool,
    stop_workers,
    worker_count,
    worker_pool,
)
from .previous import empty_changes, empty_score_changes
from .problems import Problem
from .read import (
    Identity,
    ReadReturn,
    answers_frame,
    bind_plans,
    indicators_frame,
    layout_set,
    read_raw,
    scores_frame,
)
from .read.indicators import indicator_rows
from .read.plan import Plan, PlanKey
from .roster import Agency, check_agencies, load_roster
from .rounds import Round, SeveralRounds, declared_round
from .rules import checklist_score
from .values import is_blank
from .words import Words

RETURN_COLUMNS = ("file", "agency_code", "agency_name", "state", "reason_th", "reason_en",
                  "duplicate_of", "differing_cells", "form_id", "form_version", "fiscal_year",
                  "generated_at", "modified", "filled", "errors", "warnings", "checklist_score")
COUNTED = ("ok", "ok_with_warnings", "counted_with_errors")
#: Every state a row of ``returns`` may have, in the order summaries list them.
STATES = ("ok", "ok_with_warnings", "counted_with_errors", "rejected", "other_round",
          "duplicate", "unknown_agency", "empty", "missing")
#: Each state in words, for people (the slug stays in the frames, and beside these on screen).
STATE_WORDS = {
    "ok": Words("ผ่าน", "ok"),
    "ok_with_warnings": Words("ผ่าน มีข้อควรตรวจสอบ", "ok, with warnings"),
    "counted_with_errors": Words("นับผล แต่ไม่รวมช่องที่ผิด", "counted, with errors left out"),
    "rejected": Words("ต้องแก้ไข", "rejected"),
    "other_round": Words("เป็นแบบฟอร์มของรอบอื่น", "of another round"),
    "duplicate": Words("ซ้ำ", "duplicate"),
    "unknown_agency": Words("ไม่อยู่ในบัญชีรายชื่อ", "not on the roster"),
    "empty": Words("ส่งแบบฟอร์มเปล่า", "empty form"),
    "missing": Words("ยังไม่ส่ง", "missing"),
}


@dataclass(frozen=True)
class Consolidated:
    """The merged dataset: five frames (columns documented in the README), the round counted
    (None if not declared and the counted returns are of one round or none) and the layouts
    of the returns counted; two data-quality frames are derived from them on first use
    (``implausible``, ``done_without_details``). With ``previous.compare`` (merge
    --previous), ``changes`` and ``score_changes`` hold what changed since the previous
    round, named by ``previous_source``."""

    answers: pd.DataFrame
    indicators: pd.DataFrame
    problems: pd.DataFrame
    returns: pd.DataFrame
    scores: pd.DataFrame
    round: Round | None = None
    layouts: tuple[Layout, ...] = ()
    #: Changes since the previous round (merge --previous; previous.py): empty without it.
    changes: pd.DataFrame = dataclasses.field(default_factory=empty_changes)
    score_changes: pd.DataFrame = dataclasses.field(default_factory=empty_score_changes)
    #: The name of the previous round's output compared with, or None.
    previous_source: str | None = None

    def summary(self) -> dict[str, int]:
        """How many files and agencies are in each state."""
        counts = self.returns["state"].value_counts()
        return {state: int(counts.get(state, 0)) for state in STATES}

    @cached_property
    def implausible(self) -> pd.DataFrame:
        """The indicator rows to check, with their cells and why (``quality.implausible``;
        the rules are in quality.py and the README)."""
        return quality.implausible(self.indicators, self.answers)

    @cached_property
    def done_without_details(self) -> pd.DataFrame:
        """Per checklist item, the agencies that marked it done with details and left the
        details blank (``quality.done_without_details``)."""
        return quality.done_without_details(self.problems, self.layouts)

    def subset(self, agency_codes: Iterable[str]) -> Consolidated:
        """The dataset of these agencies only: in every frame, the rows whose agency_code is
        one of them (in their order here, renumbered from 0); the round and layouts kept.
        Its implausible rows are this dataset's, judged against the whole round's range (a
        group's own would be too small a sample); done_without_details is the group's."""
        codes = set(agency_codes)

        def rows(frame: pd.DataFrame) -> pd.DataFrame:
            keep = frame["agency_code"].astype(object).isin(codes).to_numpy(dtype=bool)
            return frame[keep].reset_index(drop=True)

        part = dataclasses.replace(self, answers=rows(self.answers),
                                   indicators=rows(self.indicators),
                                   problems=rows(self.problems), returns=rows(self.returns),
                                   scores=rows(self.scores), changes=rows(self.changes),
                                   score_changes=rows(self.score_changes))
        part.__dict__["implausible"] = rows(self.implausible)  # what cached_property sets
        return part


def collect_inputs(inputs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
                   exclude: Iterable[str | os.PathLike[str]] = ()) -> list[InputFile]:
    """Files as given, and every file inside given folders (sorted), each once, each under a
    name that is valid text and its own (see ``inputs.collect``).

    Nothing inside a folder is skipped, so a stray file is listed rather than silently
    ignored; an entry that cannot be followed (a broken link, a loop, a folder that cannot be
    read or is too deep) is listed with its problem. Only ``exclude`` (files, or folders and
    all below them: the merge's own outputs) is left out.
    """
    return collect(inputs, exclude)


def consolidate(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str] | InputFile],
    roster: str | os.PathLike[str] | Sequence[Agency] | None = None,
    *,
    manifest: str | os.PathLike[str] | Manifest | None = None,
    layouts: Sequence[Layout] | None = None,
    round: Round | str | None = None,  # noqa: A002 - the word users know
    accept_errors: bool = False,
    progress: Callable[[Path], None] | None = None,
    jobs: int | None = None,
) -> Consolidated:
    """Merge returned workbooks into one dataset: one round's, each agency once.

    Args:
        paths: A file or folder of returns, or several (or entries of ``collect_inputs``,
            used as they are).
        roster: The agencies expected (a CSV/XLSX roster path or a list of Agency, checked
            and its codes normalised as a roster file's are).
        manifest: The ``manifest.csv`` of the workbooks issued (or a loaded Manifest): a
            return that does not carry the token issued to its agency is rejected.
        layouts: The layouts returns may be of (default: the bundled ones); given layouts
            replace the bundled ones. A single layout given declares the round.
        round: The round counted (a Round, or ``FORM:VERSION:YEAR``, or ``YEAR`` when the
            layouts are of one form and version); returns of other rounds are listed as
            ``other_round``. Without it (and without a single layout), returns of several
            rounds raise SeveralRounds, which lists them.
        accept_errors: Count a return whose errors are all in answer cells (``cell_errors``)
            as ``counted_with_errors``, those cells left out of the frames; without it, any
            error rejects the return.
        progress: Called after each file is read.
        jobs: Processes that read files (default: the cores available); the result is the
            same whatever it is.
    """
    agencies = _agencies(roster)
    issued = load_manifest(manifest) if isinstance(manifest, str | os.PathLike) else manifest
    counted_round = _round_of(round, layouts)
    started = datetime.now(UTC)
    merged = _merged(read_all(_entries(paths), layouts, progress, jobs), agencies,
                     manifest=issued, started=started, round=counted_round,
                     accept_errors=accept_errors, own=True)
    give_back_memory()  # the reads, gone now
    return merged


def check_files(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str] | InputFile],
    roster: str | os.PathLike[str] | Sequence[Agency] | None = None,
    *,
    manifest: str | os.PathLike[str] | Manifest | None = None,
    layouts: Sequence[Layout] | None = None,
    round: Round | str | None = None,  # noqa: A002 - the word users know
) -> Iterator[ReadReturn]:
    """Each file read and judged on its own, as a merge would judge it, in order, one at a
    time (``pmqa-xlsx check``): its own problems, then, when it was read as the form, the
    agency's place on the roster, its token against the manifest and its round (each an
    error). Arguments as ``consolidate``'s."""
    codes = {a.code for a in _agencies(roster) or ()} if roster is not None else None
    unknown = _unknown_agency(codes or ())
    issued = load_manifest(manifest) if isinstance(manifest, str | os.PathLike) else manifest
    counted_round = _round_of(round, layouts)
    for entry in _entries(paths):
        read = read_input(entry, layouts)
        if read.readable:
            read.problems.extend(quality.return_problems(read))
            if counted_round is not None and _round(read) != counted_round:
                read.problems.append(_other_round(read, counted_round))
            if codes is not None and read.agency_code not in codes:
                read.problems.append(unknown(read))
        if issued is not None:
            problem = issued_problem(read, issued)
            if problem is not None:
                read.problems.append(problem)
        yield read


def file_state(read: ReadReturn) -> str:
    """A file's state judged on its own (``check``): ok, ok_with_warnings, rejected, or
    ``empty`` when it would count but has nothing filled in (a merge does not count it)."""
    state = read.state
    return "empty" if state in COUNTED and not _has_answers(read) else state


def _entries(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str] | InputFile]
             ) -> list[InputFile]:
    if isinstance(paths, str | os.PathLike):
        return collect_inputs(paths)
    given = list(paths)
    if given and all(isinstance(p, InputFile) for p in given):
        return cast(list[InputFile], given)  # every one is (checked just above)
    return collect_inputs(given)


def _round_of(round_: Round | str | None, layouts: Sequence[Layout] | None) -> Round | None:
    if isinstance(round_, Round):
        return round_
    known = layout_set(layouts).layouts  # the set the reading uses (bundled: loaded once)
    return declared_round(round_, known, layouts_given=layouts is not None)


def read_all(files: Sequence[InputFile | str | os.PathLike[str]],
             layouts: Sequence[Layout] | None = None,
             progress: Callable[[Path], None] | None = None,
             jobs: int | None = None) -> list[ReadReturn]:
    """Read files (entries of ``collect_inputs``, or paths), in ``jobs`` processes, in the
    order given. ``layouts`` as ``consolidate``'s: a bundled one that does not load raises
    LayoutsError here, before any file is read."""
    extra = layout_set(layouts).layouts
    entries = [f if isinstance(f, InputFile) else InputFile.of(f) for f in files]
    jobs = worker_count(jobs, len(entries), per_worker=20)
    reads: list[ReadReturn] = []
    with gc_paused():
        if jobs == 1:
            for entry in entries:
                reads.append(read_input(entry, extra))
                if progress is not None:
                    progress(entry.path)
            return reads
        size = max(1, min(64, len(entries) // (jobs * 8)))
        starts = range(0, len(entries), size)
        sent: list[tuple[int, _Batch]] = []
        try:
            with worker_pool(jobs) as pool:  # on Ctrl+C or SIGTERM, its workers end at once
                batches = pool.map(partial(_read_batch, layouts=extra),
                                   [entries[i:i + size] for i in starts])
                for start, batch in zip(starts, batches, strict=True):
                    sent.append((start, batch))
                    if progress is not None:
                        for entry in entries[start:start + batch[0]]:
                            progress(entry.path)
        except Exception:  # noqa: BLE001 - a process died, or a result could not come back:
            pass  # the files left are read one by one below, each failure named
        done = _unpacked(sent)
        left = [i for i in range(len(entries)) if i not in done]
        for i, read in zip(left, _read_one_by_one([entries[i] for i in left], extra, progress),
                           strict=True):
            done[i] = read
        reads = [done[i] for i in range(len(entries))]
    bind_plans(reads, extra)  # the workers' reads came with their plans' keys only
    return reads


def _read_one_by_one(files: list[InputFile], layouts: tuple[Layout, ...],
                     progress: Callable[[Path], None] | None) -> list[ReadReturn]:
    """Files read in one worker process, one at a time, so that a file whose reading kills
    the process is named (``reader-failed``) and the rest are still read. Only used after a
    reading process died, which the reader's limits should make impossible."""
    reads = []
    pool = new_pool(1)
    try:
        for entry in files:
            try:
                read = pool.submit(read_input, entry, layouts).result()
            except Exception as exc:  # noqa: BLE001 - this file, named; the rest go on
                detail: Words | str
                if isinstance(exc, BrokenProcessPool):
                    pool.shutdown()
                    pool = new_pool(1)
                    detail = Words("โปรแกรมย่อยที่อ่านไฟล์นี้หยุดทำงานไปโดยไม่แจ้งสาเหตุ",
                                   "the process reading it stopped without a word")
                else:
                    detail = f"{type(exc).__name__}: {exc}"[:300]
                read = ReadReturn(entry.name, Identity(), [P.make(
                    "reader-failed", file=entry.name, detail=detail)])
            reads.append(read)
            if progress is not None:
                progress(entry.path)
    except BaseException:  # Ctrl+C, SIGTERM: the worker ends with us, now
        stop_workers(pool)
        raise
    pool.shutdown()
    return reads


#: A worker's reads of a batch of files as it sends them back (``_read_batch``): how many,
#: then three pickles: each read's answer values (None where it was not read as the form),
#: each read's indicator rows, and the reads without either. A tuple, not a class: nothing
#: to look up by name on arrival.
_Batch = tuple[int, bytes, bytes, bytes]


def _read_batch(files: list[InputFile], layouts: tuple[Layout, ...]) -> _Batch:
    """A worker's share: some files, read with the collector paused, each choice text one
    object (``read_input`` shares them: sent once per batch, not once per file), sent as
    ``_unpacked`` takes them."""
    with gc_paused():
        reads = [read_input(entry, layouts) for entry in files]
        values = [read.values for read in reads]
        rows = [read.indicator_rows for read in reads]
        for read in reads:
            read.values, read.indicator_rows = None, []
        protocol = pickle.HIGHEST_PROTOCOL
        return (len(reads), pickle.dumps(values, protocol), pickle.dumps(rows, protocol),
                pickle.dumps(reads, protocol))


def _unpacked(batches: list[tuple[int, _Batch]]) -> dict[int, ReadReturn]:
    """The reads of the workers' batches (each by its first file's place), made in three
    passes: every answer value, then the reads themselves, then their indicator rows.

    The values are the only part of a read that the frames keep (the answers' value column
    holds them); a merge lets the indicator rows go once their frames are built
    (``_merged``), then the rest. Made in this order, what stays is packed together in
    memory and what goes leaves whole arenas of Python's allocator empty, which it gives
    back to the system; made read by read, every arena would keep a few values, and stay.
    So would one that kept a single other object: a class's name as a pickle spells it,
    looked up on its module, stays in the interpreter's cache of lookups (``_Unpickler``
    looks up the interned name instead). After a merge of 8,000 returns, Python's allocator
    held 134 arenas of 1 MiB instead of 192.
    """
    values = {start: _loaded(batch[1]) for start, batch in batches}
    placed = {start: _loaded(batch[3]) for start, batch in batches if values[start] is not None}
    done: dict[int, ReadReturn] = {}
    for start, batch in batches:
        reads, kept = placed.get(start), values[start]
        rows = _loaded(batch[2]) if reads is not None else None
        if reads is None or kept is None or rows is None:
            continue  # a batch that could not be made again: its files are read one by one
        for offset, read in enumerate(reads):
            read.values, read.indicator_rows = kept[offset], rows[offset]
            done[start + offset] = read
    return done


def _loaded(data: bytes) -> Any:
    """A part of a batch made again (None if it cannot be, as the pool's own unpickling of
    a result that cannot come back fails: its files are then read one by one, each failure
    named)."""
    try:
        return _Unpickler(io.BytesIO(data)).load()
    except Exception:  # noqa: BLE001 - named file by file, by _read_one_by_one
        return None


class _Unpickler(pickle.Unpickler):
    """pickle's, finding a class by its name as the interpreter keeps it (``sys.intern``), so
    that no copy of the name made for one pickle outlives it."""

    def find_class(self, module_name: str, global_name: str, /) -> Any:
        return super().find_class(sys.intern(module_name), sys.intern(global_name))


def share_choices(read: ReadReturn) -> ReadReturn:
    """``read`` with each answer that is one of its cell's choices (a status, a direction)
    replaced by the plan's own text of that choice, in its values and its indicator rows:
    the same text, one object for every return instead of one per return and cell. Nothing
    else changes; returns the same object."""
    plan, values = read.plan, read.values
    if plan is None or values is None:
        return read
    places, texts = _choices_of(plan)
    for i in places:
        value = values[i]
        if value.__class__ is str:
            values[i] = texts.get(value, value)
    rows = read.indicator_rows
    for n, row in enumerate(rows):
        direction = row.direction
        if direction.__class__ is str and direction in texts and direction is not texts[direction]:
            rows[n] = row._replace(direction=texts[direction])
    return read


_CHOICES: dict[PlanKey, tuple[tuple[int, ...], dict[str, str]]] = {}


def _choices_of(plan: Plan) -> tuple[tuple[int, ...], dict[str, str]]:
    """The inputs of a plan that have choices, and each choice text by itself (kept per plan
    key: a handful of plans per process)."""
    found = _CHOICES.get(plan.key)
    if found is None:
        places = tuple(i for i, slot in enumerate(plan.inputs) if slot.cell.choices)
        texts = {c: c for slot in plan.inputs for c in slot.cell.choices}
        found = _CHOICES[plan.key] = (places, texts)
    return found


def read_input(entry: InputFile, layouts: Sequence[Layout] | None = None) -> ReadReturn:
    """One entry of ``collect_inputs`` read (or, if the walk found a problem with it, listed
    with that problem and never opened), each choice text one object (``share_choices``):
    every way of reading (one process, the workers' batches, one by one after a worker
    died) shares them here, once."""
    if entry.problem is not None:
        return ReadReturn(entry.name, Identity(), [entry.problem])
    return share_choices(read_raw(entry.path, layouts, name=entry.name))


def merge_reads(reads: list[ReadReturn], agencies: Sequence[Agency] | None, *,
                manifest: Manifest | None = None,
                started: datetime | None = None,
                round: Round | None = None,  # noqa: A002
                accept_errors: bool = False) -> Consolidated:
    """The merge of already-read returns (``consolidate`` minus the reading). ``started`` is
    when the merge started (default: now): a file's time after it is not trusted. ``round``
    and ``accept_errors`` as ``consolidate``'s."""
    return _merged(reads, agencies, manifest=manifest, started=started, round=round,
                   accept_errors=accept_errors, own=False)


def _merged(reads: list[ReadReturn], agencies: Sequence[Agency] | None, *,
            manifest: Manifest | None, started: datetime | None,
            round: Round | None,  # noqa: A002
            accept_errors: bool, own: bool) -> Consolidated:
    """``merge_reads``; with ``own`` (the reads are the merge's own, no one else's: those
    ``consolidate`` read), each read's indicator rows are let go once the frames made of
    them are built, before the answers' frame is (the merge's peak of memory)."""
    states = {id(r): file_state(r) for r in reads}
    left_out: dict[int, tuple[int, ...]] = {}  # counted_with_errors: the inputs left out
    if accept_errors:
        for read in reads:
            cells = cell_errors(read) if states[id(read)] == "rejected" else None
            if cells:
                states[id(read)], left_out[id(read)] = "counted_with_errors", cells
    problems: list[Problem] = [p for r in reads for p in r.problems]
    roster = {a.code: a for a in agencies} if agencies is not None else None

    def refuse(read: ReadReturn, state: str, problem: Problem) -> None:
        states[id(read)] = state
        problems.append(problem)

    if round is not None:
        for read in reads:
            if states[id(read)] in COUNTED and _round(read) != round:
                refuse(read, "other_round", _other_round(read, round))
    if roster is not None:
        unknown = _unknown_agency(roster)
        for read in reads:
            if states[id(read)] in COUNTED and read.agency_code not in roster:
                refuse(read, "unknown_agency", unknown(read))
    if manifest is not None:
        for read in reads:
            problem = issued_problem(read, manifest)
            if problem is not None:
                problems.append(problem)
                if states[id(read)] in COUNTED:
                    states[id(read)] = "rejected"
    if round is None:  # undeclared: one round, or the merge stops (no vote)
        found = Counter(_round(r) for r in reads if states[id(r)] in COUNTED)
        if len(found) > 1:
            by_round: dict[Round, set[str | None]] = {}
            for read in reads:
                if states[id(read)] in COUNTED:
                    by_round.setdefault(_round(read), set()).add(read.agency_code)
            raise SeveralRounds(found, {r: len(codes) for r, codes in by_round.items()})
    duplicates = _one_return_per_agency(reads, states, problems, started or datetime.now(UTC))
    counted = [r for r in reads if states[id(r)] in COUNTED]

    by_file: dict[str, list[Problem]] = {}
    for problem in problems:
        if problem.file is not None:
            by_file.setdefault(problem.file, []).append(problem)
    rows = [_return_row(r, states[id(r)], roster, by_file.get(r.file, []),
                        duplicates.get(id(r)), left_out.get(id(r))) for r in reads]
    counts_instead = {r.agency_code: Path(r.file).name for r in counted if r.agency_code}
    for row, read in zip(rows, reads, strict=True):
        if row["state"] == "empty" and read.agency_code in counts_instead:
            instead = counts_instead[read.agency_code]
            row["reason_th"] = (f"{row['reason_th'] or ''} ไฟล์ {instead} ของหน่วยงานนี้"
                                "ซึ่งกรอกข้อมูลแล้วเป็นไฟล์ที่นับผลแทน").strip()
            row["reason_en"] = (f"{row['reason_en'] or ''}; {instead} of this agency, "
                                "which is filled in, counts instead").lstrip("; ")
    if roster is not None:
        returned = {r.agency_code for r in counted}
        for agency in roster.values():
            if agency.code in returned:
                continue
            mine = [r for r in reads if r.agency_code == agency.code]
            files = ", ".join(Path(r.file).name for r in mine)
            if mine and all(states[id(r)] == "empty" for r in mine):
                why: Words | str = Words(
                    f" หน่วยงานนี้ส่งแบบฟอร์มเปล่า ไม่ได้กรอกข้อมูลเลย ({files})",
                    f"; it sent an empty form, nothing filled in ({files})")
            elif mine:
                why = Words(f" ไฟล์ {files} ของหน่วยงานนี้นับไม่ได้ ดูรายละเอียดในรายการปัญหา",
                            f"; its file(s) {files} could not be counted, see their problems")
            else:
                why = ""
            missing = P.make("missing-return", file=None, agency_code=agency.code,
                             agency=agency.code, name=agency.name, why=why)
            problems.append(missing)
            rows.append({"file": None, "agency_code": agency.code,
                         "agency_name": agency.name, "state": "missing",
                         "reason_th": missing.message_th, "reason_en": missing.message_en})
    returns = pd.DataFrame(rows, columns=list(RETURN_COLUMNS))
    for column in ("file", "agency_code", "agency_name", "state", "reason_th", "reason_en",
                   "duplicate_of",
                   "form_id", "form_version", "generated_at", "modified"):
        returns[column] = returns[column].astype("string")
    for column in ("fiscal_year", "differing_cells", "filled", "errors", "warnings"):
        returns[column] = returns[column].astype("Int64")
    returns["checklist_score"] = returns["checklist_score"].astype("Float64")
    layouts: dict[str, Layout] = {}
    for read in counted:
        if read.cellmap is not None:
            layouts.setdefault(read.cellmap.layout.fingerprint, read.cellmap.layout)
    counted = [without_cells(r, left_out[id(r)]) if id(r) in left_out else r for r in counted]
    # the round's result years: columns of the indicators frame even if nothing is counted
    years = {y for r in reads if r.plan is not None and (round is None or _round(r) == round)
             for y in r.plan.result_years}
    scores = scores_frame(counted)
    if roster is not None:  # the roster's extra columns, for breakdowns
        returns = _with_roster_columns(returns, roster, after="agency_name")
        scores = _with_roster_columns(scores, roster, after="agency_code")
    indicators = indicators_frame(counted, years)
    if own:
        for read in reads:
            read.indicator_rows = []
        for read in counted:  # and those without_cells made
            read.indicator_rows = []
    return Consolidated(
        answers=answers_frame(counted),
        indicators=indicators,
        problems=P.problems_frame(problems),
        returns=returns,
        scores=scores,
        round=round,
        layouts=tuple(layouts.values()),
    )


def issued_problem(read: ReadReturn, manifest: Manifest) -> Problem | None:
    """The error for a return the form was read from that does not carry the token the
    manifest issued to its agency (``merge`` and ``check`` with ``--manifest``)."""
    if read.values is None:
        return None  # not read as the form: its own problems say why
    return manifest.problem(read.file, read.agency_code, read.identity.token)


def cell_errors(read: ReadReturn) -> tuple[int, ...] | None:
    """The inputs (indices among its plan's) that hold every error of a return read as the
    form, when each error is in an answer cell: a word in a number cell, a value out of
    range, a choice not on the list, a formula typed in, a rule the layout declares. None
    if the return has no error, or has one that is not in an answer cell: about the file as
    a whole (its package, its structure, its identity, its round, its token), which no
    merge may count past."""
    plan = read.plan
    if read.values is None or plan is None or any(P.rejects(p) for p in read.problems):
        return None
    cells: set[int] = set()
    for problem in read.problems:
        if problem.severity != "error":
            continue
        at = plan.input_at(problem.sheet, problem.cell)
        if at is None or plan.inputs[at].cell.kind == "identity":
            return None
        cells.add(at)
    return tuple(sorted(cells)) or None


def without_cells(read: ReadReturn, cells: Sequence[int]) -> ReadReturn:
    """A copy of ``read`` with the inputs ``cells`` blank, and its indicator rows (percent
    success and score) recomputed without them: what a merge counts of a return
    ``counted_with_errors``."""
    assert read.values is not None and read.plan is not None
    values = list(read.values)
    for i in cells:
        values[i] = None
    plan = read.plan
    rows = indicator_rows(plan, values, None, read.file, read.agency_code, [])
    spec = plan.layout.rules.checklist_score
    points = checklist_score((values[i] for i in plan.statuses), spec) \
        if spec is not None and plan.checklist_formula is not None else None
    return ReadReturn(read.file, read.identity, read.problems, plan=plan, values=values,
                      indicator_rows=rows, mtime=read.mtime,
                      filled=sum(1 for v in values if not is_blank(v)), checklist_score=points)


def _other_round(read: ReadReturn, counted: Round) -> Problem:
    return P.make("other-round", file=read.file, agency_code=read.agency_code,
                  found=_round(read).describe(), expected=counted.describe(),
                  round=str(_round(read)))


def _round(read: ReadReturn) -> Round:
    ident = read.identity
    return Round(ident.form_id or "", ident.form_version or "", ident.fiscal_year or 0)


def _one_return_per_agency(reads: list[ReadReturn], states: dict[int, str],
                           problems: list[Problem],
                           started: datetime) -> dict[int, tuple[str, int | None]]:
    """Of an agency's counted returns the newest non-empty one counts; the others become
    duplicates, each compared with it cell by cell: one with answers that differs is pointed
    out on the one that counts, which may be the draft, the mistake or the forgery. A newer
    return that was rejected is pointed out on the one that counts too. The times of an
    agency's files are checked when it has more than one: a time that is not trusted is a
    warning on its file, and counts as the oldest.

    Returns, by id of each duplicate, the file that counts instead and in how many input
    cells they differ (None: they could not be compared)."""
    duplicates: dict[int, tuple[str, int | None]] = {}
    by_agency: dict[str, list[ReadReturn]] = {}
    for read in reads:
        if read.agency_code:
            by_agency.setdefault(read.agency_code, []).append(read)
    for code, group in by_agency.items():
        if len(group) < 2:
            continue  # one file: nothing to choose, its times are not used
        times: dict[int, _Times] = {}
        for read in group:
            times[id(read)], untrusted = _trusted_times(read, started)
            problems.extend(P.make("untrusted-time", file=read.file, agency_code=code,
                                   agency=code, count=len(group), what=P.TIME_WHAT[what],
                                   time=_shown_time(when), why=why)
                            for what, when, why in untrusted)
            if untrusted and states[id(read)] == "ok":
                states[id(read)] = "ok_with_warnings"
        counted = sorted((r for r in group if states[id(r)] in COUNTED),
                         key=lambda r: _rank(r, times[id(r)]), reverse=True)
        if not counted:
            continue
        chosen = counted[0]
        for other in counted[1:]:
            states[id(other)] = "duplicate"
            count, where = _differences(chosen, other)
            duplicates[id(other)] = (chosen.file, count)
            problems.append(P.make(
                "duplicate", file=other.file, agency_code=code, agency=code,
                chosen=Path(chosen.file).name,
                difference=P.difference(Path(chosen.file).name, count, where)))
            if count != 0 and _has_answers(other):  # an empty return cannot be the right one
                problems.append(P.make("duplicate-differs", file=chosen.file, agency_code=code,
                                       agency=code, other=Path(other.file).name,
                                       cells=P.cells_text(count, where)))
                _warned(states, chosen)
        for newer in group:
            if states[id(newer)] == "rejected" and times[id(newer)] > times[id(chosen)]:
                problems.append(P.make("newer-return-rejected", file=chosen.file,
                                       agency_code=code, agency=code,
                                       newer=Path(newer.file).name))
                _warned(states, chosen)  # counted, and someone should look
    return duplicates


def _warned(states: dict[int, str], read: ReadReturn) -> None:
    """A counted return that now has a warning (one counted with errors stays so)."""
    if states[id(read)] == "ok":
        states[id(read)] = "ok_with_warnings"


def _differences(a: ReadReturn, b: ReadReturn) -> tuple[int | None, list[str]]:
    """In how many input cells two returns differ (blank and empty text are the same), and
    where the first few are (``sheet!cell``); None if they are not of one cell map."""
    if a.values is None or b.values is None or a.cellmap is None or b.cellmap is None or (
            a.cellmap.layout.fingerprint, a.cellmap.year) != (b.cellmap.layout.fingerprint,
                                                             b.cellmap.year):
        return None, []
    where: list[str]
    count, where = 0, []
    for cell, x, y in zip(a.cellmap.inputs(), a.values, b.values, strict=True):
        if x == y or (is_blank(x) and is_blank(y)):
            continue
        count += 1
        if len(where) < P.CELLS_LISTED:
            where.append(f"{cell.sheet}!{cell.ref}")
    return count, where


_OLDEST = datetime.min.replace(tzinfo=UTC)  # also: no time at all
_LATEST = datetime.max.replace(tzinfo=UTC)
# When a return was last saved: the time its spreadsheet application stored in it, then the
# file's own time, then when the workbook was generated (missing or not trusted: oldest).
_Times = tuple[datetime, datetime, datetime]


def _trusted_times(read: ReadReturn,
                   started: datetime) -> tuple[_Times, list[tuple[str, datetime, Words]]]:
    """A return's times, each replaced by the oldest when it is not trusted: after the merge
    started (no file is saved in the future), or before the workbook was generated (no one
    saves a workbook before it exists). Also [(which, time, why)] for each one not trusted.

    A time of saving stored without a time zone is some place's local time, read as UTC: it is
    in the future only if it is in every zone (UTC-12 to UTC+14), and likewise before."""
    generated = _parse_time(read.identity.generated_at)
    stamps = {"modified": _parse_time(read.identity.modified),
              "mtime": _file_time(read.mtime), "generated_at": generated}
    floor = generated if generated <= started else _OLDEST  # a generation time not trusted
    trusted: dict[str, datetime] = {}
    untrusted: list[tuple[str, datetime, Words]] = []
    for what, when in stamps.items():
        ahead, behind = _ZONES if what == "modified" and _zoneless(read.identity.modified) \
            else (_NO_TIME, _NO_TIME)
        why = None
        if when > started + ahead:
            why = P.time_why("future")
        elif _OLDEST < when < floor and when + behind < floor:
            why = P.time_why("before", _shown_time(floor))
        if why is not None:
            untrusted.append((what, when, why))
        trusted[what] = _OLDEST if why is not None else when
    return (trusted["modified"], trusted["mtime"], trusted["generated_at"]), untrusted


def _rank(read: ReadReturn, times: _Times) -> tuple[bool, _Times, str]:
    # A return with answers beats an empty one, whatever their times.
    return (_has_answers(read), times, read.file)


def _has_answers(read: ReadReturn) -> bool:
    return not any(p.code == "empty-return" for p in read.problems)


def _shown_time(when: datetime) -> str:
    return when.isoformat(timespec="seconds")  # in UTC, as _parse_time and _file_time give


def _parse_time(text: str | None) -> datetime:
    if not text:
        return _OLDEST
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return _OLDEST
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # within hours of the calendar's ends (year 1 or 9999)
        return _LATEST if value.year > 1 else _OLDEST


_NO_TIME = timedelta(0)
_ZONES = (timedelta(hours=14), timedelta(hours=12))  # how far local time runs ahead, behind


def _zoneless(text: str | None) -> bool:
    try:
        return datetime.fromisoformat((text or "").strip().replace("Z", "+00:00")).tzinfo is None
    except ValueError:
        return False


def _file_time(mtime: float) -> datetime:
    if mtime <= 0:
        return _OLDEST
    try:
        return datetime.fromtimestamp(mtime, UTC)
    except (OverflowError, OSError, ValueError):
        return _LATEST


def _with_roster_columns(frame: pd.DataFrame, roster: dict[str, Agency], *,
                         after: str) -> pd.DataFrame:
    """``frame`` with the roster's extra columns (region, agency type...) after ``after``, by
    each row's agency_code: string dtype, <NA> where the agency is not on the roster."""
    headings: dict[str, None] = {}
    for agency in roster.values():
        headings.update((heading, None) for heading, _ in agency.extra)
    if not headings:
        return frame
    codes = frame["agency_code"].astype(object).tolist()
    at = cast(int, frame.columns.get_loc(after)) + 1  # int: a frame's column names are unique
    frame = frame.copy()
    for offset, heading in enumerate(headings):
        values = [roster[c].extras.get(heading) if isinstance(c, str) and c in roster else None
                  for c in codes]
        column = pd.array(values, dtype="string")
        frame.insert(at + offset, heading, column)  # type: ignore[arg-type]  # stub: takes arrays
    return frame


def _agencies(roster: str | os.PathLike[str] | Sequence[Agency] | None) -> list[Agency] | None:
    if roster is None:
        return None
    if isinstance(roster, str | os.PathLike):
        return load_roster(roster)
    return check_agencies(list(roster))  # the same checks and the same spelling of codes


def _return_row(read: ReadReturn, state: str, roster: dict[str, Agency] | None,
                problems: list[Problem], duplicate: tuple[str, int | None] | None,
                left_out: tuple[int, ...] | None = None) -> dict:
    name = None
    if roster is not None and read.agency_code in roster:
        name = roster[read.agency_code].name
    elif read.identity.fields.get("agency_name"):
        name = str(read.identity.fields["agency_name"])
    return {
        "file": read.file, "agency_code": read.agency_code, "agency_name": name, "state": state,
        **_reasons(_left_out(read, left_out) if left_out else _reason(state, problems)),
        "duplicate_of": duplicate[0] if duplicate else None,
        "differing_cells": duplicate[1] if duplicate else None,
        "form_id": read.identity.form_id, "form_version": read.identity.form_version,
        "fiscal_year": read.identity.fiscal_year, "generated_at": read.identity.generated_at,
        "modified": read.identity.modified, "filled": read.filled,
        "errors": sum(1 for p in problems if p.severity == "error"),
        "warnings": sum(1 for p in problems if p.severity == "warning"),
        "checklist_score": read.checklist_score,
    }


def _unknown_agency(roster: Iterable[str]) -> Callable[[ReadReturn], Problem]:
    """The ``unknown-agency`` problem of a return whose code is not on the roster; when the
    code is a roster code with its leading zeros lost, or the reverse (identity.zeros_lost:
    a roster or a code cell saved by a spreadsheet application that took codes for
    numbers), it says so and what to fix."""
    by_bare: dict[str, list[str]] = {}
    for code in roster:
        if (bare := without_zeros(code)) is not None:
            by_bare.setdefault(bare, []).append(code)

    def problem(read: ReadReturn) -> Problem:
        code = read.agency_code or ""
        made = P.make("unknown-agency", file=read.file, agency_code=read.agency_code,
                      agency=code)
        bare = without_zeros(code)
        near = [c for c in by_bare.get(bare, ()) if zeros_lost(code, c)] if bare else []
        if not near:
            return made
        shorter = [c for c in near if len(c) < len(code)]
        if shorter:
            hint = Words(
                f" บัญชีรายชื่อมีรหัส {shorter[0]} ซึ่งคือรหัสนี้ที่เลข 0 นำหน้าหายไป (รหัสในบัญชีรายชื่อ"
                "ถูกอ่านเป็นตัวเลข): เปิดบัญชีรายชื่อ จัดรูปแบบคอลัมน์รหัสเป็นข้อความ (Text) หรือพิมพ์รหัส"
                "โดยขึ้นต้นด้วย ' (เช่น '" + code + ") แล้วรวมผลใหม่",
                f" the roster has {shorter[0]}, this code with its leading zeros lost (the "
                "roster's codes were read as numbers): open the roster, format the code "
                f"column as text or type the codes with a leading ' (e.g. '{code}), and "
                "merge again")
        else:
            hint = Words(
                f" บัญชีรายชื่อมีรหัส {near[0]} ซึ่งรหัสนี้คือรหัสนั้นที่เลข 0 นำหน้าหายไป: แก้รหัสใน"
                f"แบบฟอร์มเป็น {near[0]} หรือตรวจรหัสในบัญชีรายชื่อ",
                f" the roster has {near[0]}, which is this code with its leading zeros: "
                f"correct the workbook's code to {near[0]}, or check the roster's")
        return dataclasses.replace(made, message_th=made.message_th + hint.th,
                                   message_en=made.message_en + hint.en)

    return problem


# The problem that explains a state that is not counted.
_STATE_CODES = {"duplicate": "duplicate", "unknown_agency": "unknown-agency",
                "other_round": "other-round", "empty": "empty-return"}


def _reasons(reason: Words | None) -> dict[str, str | None]:
    """The returns frame's reason_th and reason_en."""
    return {"reason_th": reason.th if reason else None,
            "reason_en": reason.en if reason else None}


def _left_out(read: ReadReturn, cells: tuple[int, ...]) -> Words:
    """Which cells of a return counted with errors were left out, in one line."""
    assert read.plan is not None
    where = [f"{read.plan.inputs[i].sheet}!{read.plan.inputs[i].cell.ref}"
             for i in cells[:P.CELLS_LISTED]]
    shown = ", ".join(where)
    extra = len(cells) - len(where)
    return Words(
        f"นับโดยไม่รวม {len(cells)} ช่องที่มีข้อผิดพลาด ซึ่งไม่ได้นำไปรวมในตารางข้อมูล "
        f"({shown}{f' และอีก {extra} ช่อง' if extra else ''}) ดูรายละเอียดในรายการปัญหา",
        f"counted without {len(cells)} cell{'s' if len(cells) != 1 else ''} holding "
        f"errors, left out of the frames ({shown}{f', and {extra} more' if extra else ''}); "
        "see its problems")


def _reason(state: str, problems: list[Problem]) -> Words | None:
    """Why a file is not counted, in one line: the problem that decided it, located, and how
    many more there are (all are in the problems frame). None for a counted file."""
    if state in COUNTED:
        return None
    candidates = ([p for p in problems if p.code == _STATE_CODES.get(state)]
                  or [p for p in problems if p.severity == "error"] or problems)
    if not candidates:
        return None
    decisive = candidates[0]
    where = f"{decisive.where}: " if decisive.where else ""
    others = len(problems) - 1
    return Words(
        f"{where}{decisive.message_th} [{decisive.code}]"
        + (f" (และปัญหาอื่นอีก {others} รายการ)" if others else ""),
        f"{where}{decisive.message_en} [{decisive.code}]"
        + (f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""))
