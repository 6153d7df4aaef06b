"""Year over year (``merge --previous LAST``): what changed since the previous round.

``load_last`` reads LAST, what ``merge`` wrote for the previous round, in any of its three forms
(the consolidated workbook, its CSV folder, its Parquet folder; the forms ``generate --prefill``
takes): its indicators through ``prefill.load_previous``, its checklist statuses from its
answers (the workbook's ``answers`` sheet is wide, one row per return under three header rows;
``answers.csv``/``answers.parquet`` are long), its scores, and from its returns table its
fiscal year and each agency's state there. Given this merge's agency codes (its roster's) it
keeps only theirs, as prefill keeps its roster's. LAST is untrusted, read with prefill's
readers: bounded, no formula evaluated (a formula cell is not compared), text stays text; the
long answers table, the largest, is streamed under its own bounds (MAX_ANSWER_BYTES,
MAX_ANSWER_ROWS). A LAST that is not there, not ours, or lacks a table or a column, raises
``PrefillError`` (Thai and English), before any return is read; ``check_year`` refuses one
that is not of an earlier round than this one. A code of LAST that lost its leading zeros is
taken as this round's agency when it can be no other.

``compare`` adds to a merge's dataset, per agency counted in both rounds:

- ``changes``: one row per checklist status that changed (both rounds answered, both answers
  on the layout's list of statuses; ``direction`` up or down that list) and per result of a
  year both rounds report that differs (by table id, row id and BE year; numbers equal within
  a relative 1e-9, float noise only, are the same), with the cell in this round's return;
- ``score_changes``: one row per agency counted in either round: its checklist score and 7.2
  score in both rounds and their difference (``in_previous`` false for an agency not counted
  last round, ``previous_state`` its state on LAST's returns table if it is there;
  ``in_current`` false for one counted last round only); each difference to the decimals of
  its two numbers (``difference``);
- a ``result-differs-previous`` warning on the cell of each differing result, naming the
  previous round by its year (the agency receives it), counted in its return's ``warnings``
  (a return ``ok`` becomes ``ok_with_warnings``).

What cannot be compared is not a change: an item, a row or a year only one round's layout has,
a cell blank in either round, a status not on the list, a value of LAST that is a formula or
not a number.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import math
import os
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import problems as P
from .cellmap import build_cellmap
from .identity import normalise_code
from .inputs import path_text
from .layout import Layout
from .outputs import CSV_FORMULA_PREFIXES
from .prefill import (
    MAX_LAST_ROWS,
    MAX_TEXT,
    PrefillError,
    Refused,
    check_last_size,
    last_cell_value,
    load_previous,
    not_ours,
    open_last_workbook,
    read_last_csv,
)
from .rules import excel_round
from .words import Words

if TYPE_CHECKING:
    from .consolidate import Consolidated

#: Columns of the changes frame (README, "Frames").
CHANGE_COLUMNS = ("file", "agency_code", "kind", "table_id", "item_id", "field_id", "year",
                  "previous_choice", "current_choice", "direction", "previous_value",
                  "current_value", "difference", "sheet", "cell", "previous_file")
#: Columns of the score_changes frame (README, "Frames").
SCORE_CHANGE_COLUMNS = ("file", "agency_code", "in_previous", "in_current", "previous_state",
                        "previous_code", "previous_year", "previous_file",
                        "checklist_score_previous", "checklist_score", "checklist_score_change",
                        "score_72_previous", "score_72", "score_72_change")
#: The most rows LAST's long answers table may have (a row per cell of each return), and its
#: largest file (CSV: about 75 KB per return, so 8,000 returns are 600 MB).
MAX_ANSWER_ROWS = 16 * 1_048_576
MAX_ANSWER_BYTES = 4 * 1024**3
#: Numbers this close (relative) are the same number: float noise, never a real change.
REL_TOLERANCE = 1e-9
_ANSWER_HEADS = ("agency_code", "item_id", "field_id", "kind", "value")
_SCORE_HEADS = ("agency_code", "checklist_score")
_RETURN_HEADS = ("agency_code", "state", "fiscal_year")


@dataclass(frozen=True, slots=True, kw_only=True)
class Last:
    """What the previous round's merge wrote, by normalised agency code: each agency's
    checklist statuses ((item id, field id) -> text), results ((table id, row id, BE year) ->
    number), scores (checklist, 7.2; None where it had none) and the file counted."""

    source: Path
    statuses: dict[str, dict[tuple[str, str], str]]
    results: dict[str, dict[tuple[str, str, int], float]]
    scores: dict[str, tuple[float | None, float | None]]
    files: dict[str, str]
    #: LAST's fiscal year (BE): its counted returns' (the returns table), else its indicators'
    #: target year; None if it says neither.
    year: int | None = None
    #: Each agency on LAST's returns table (counted or not: missing, empty, rejected...) and its
    #: state there; empty if LAST has no returns table.
    states: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def agencies(self) -> set[str]:
        """The agencies counted in the previous round."""
        return set(self.statuses) | set(self.results) | set(self.scores)


def load_last(path: str | Path, layouts: Sequence[Layout],
              codes: Collection[str] | None = None, *, all_scores: bool = False) -> Last:
    """Read LAST (a consolidated .xlsx, or a folder of merge's CSV or Parquet files); the
    statuses kept are those of the checklist cells of ``layouts`` (the layouts this merge
    reads with). Raises PrefillError if LAST is not there or is not what merge writes.

    With ``codes`` (this merge's agencies: its roster's codes, normalised), only those
    agencies' statuses, results and scores are kept (and those of a code that is one of them
    without its leading zeros), as ``generate --prefill`` keeps its roster's: all of LAST is
    still read and checked, but memory no longer grows with it (2,026 agencies' LAST for a
    30-agency roster: see the README). LAST's year and returns table are read whole. With
    ``codes`` empty, nothing is kept and the answers' rows are not even read (their header is
    checked): LAST checked before the returns are read, when only they say who is in this
    merge (no roster). With ``all_scores``, every agency's scores are kept all the same (a row
    per agency: small), so that, without a roster, the agencies counted last round but not in
    this one are still known."""
    source = Path(path)
    if not os.path.lexists(source):
        raise PrefillError(Words(f"{path_text(source)}: ไม่พบไฟล์หรือโฟลเดอร์นี้ กรุณาตรวจสอบชื่อ"
                                 "และที่อยู่ของผลการรวมผลรอบที่แล้ว",
                                 f"{path_text(source)}: no such file or folder; check the name "
                                 "and place of the previous round's merge output"))
    keep = None if codes is None else {*codes, *(b for c in codes if (b := _bare(c)))}
    indicators = load_previous(source, keep)  # the form is checked, and indicators read, here
    wanted = {(c.item_id, c.field_id) for layout in layouts
              for c in build_cellmap(layout).inputs() if c.kind == "status"}
    returns: tuple[Counter[int], dict[str, str]] = (Counter(), {})
    if source.is_dir():
        pq = (source / "indicators.parquet").is_file()
        read = _table_parquet if pq else read_last_csv
        suffix = ".parquet" if pq else ".csv"
        answers = source / f"answers{suffix}"
        scores = source / f"scores{suffix}"
        for table in (answers, scores):
            if not table.is_file():
                raise not_ours(source, f"ไม่พบไฟล์ {table.name}", f"holds no {table.name}")
        with _answers_table(answers, rows=keep is None or bool(keep)) as (header, records):
            statuses, files = _long_statuses(answers, header, records, wanted, keep)
        score_of = _closed(scores, read, lambda h, r: _scores(scores, h, r,
                                                              None if all_scores else keep))
        table = source / f"returns{suffix}"
        if table.is_file():
            returns = _closed(table, read, lambda h, r: _returns(table, h, r))
    else:
        statuses, files, score_of, returns = _workbook(source, wanted, keep, all_scores)
    results: dict[str, dict[tuple[str, str, int], float]] = {}
    targets: Counter[int] = Counter()
    for code, rows in indicators.rows.items():
        if not rows:
            continue  # a code of LAST not among ``codes``: listed by load_previous, no rows
        mine = results.setdefault(code, {})
        for row in rows:
            if row.round_year is not None:
                targets[row.round_year] += 1
            for year, value in row.results.items():
                if isinstance(value, float):  # a Refused value is not compared
                    mine[(row.table_id, row.item_id, year)] = value
    years, states = returns
    round_year = (years or targets).most_common(1)[0][0] if (years or targets) else None
    return Last(source=source, statuses=statuses, results=results, scores=score_of,
                files=files, year=round_year, states=states)


def check_year(last: Last, year: int) -> None:
    """Refuse (PrefillError, Thai and English) a LAST that is not of an earlier round than
    fiscal year ``year`` (BE): the same round, or a later one, would report every change the
    wrong way round, and warn agencies of differences that are none."""
    if last.year is not None and last.year >= year:
        same = last.year == year
        raise PrefillError(Words(
            f"{path_text(last.source)}: เป็นผลการรวมผลของปีงบประมาณ พ.ศ. {last.year} "
            + ("ซึ่งเป็นรอบเดียวกับรอบนี้" if same else "ซึ่งเป็นรอบหลังรอบนี้")
            + f" (ปีงบประมาณ พ.ศ. {year}) จึงเทียบไม่ได้ กรุณาระบุผลการรวมผลของรอบก่อนหน้า "
            f"(ปีงบประมาณก่อน พ.ศ. {year})",
            f"{path_text(last.source)}: it is the merge of fiscal year {last.year}, "
            + ("the same round as this one" if same else "a later round than this one")
            + f" (fiscal year {year}), so nothing can be compared; give the merge output of "
            f"an earlier round (a fiscal year before {year})"))


def round_year(result: Consolidated) -> int | None:
    """This round's fiscal year (BE): the declared round's, else its counted returns' (one
    round: consolidate stops on several); None if nothing was counted."""
    from .consolidate import COUNTED  # consolidate imports this module

    if result.round is not None:
        return result.round.fiscal_year
    returns = result.returns
    if not len(returns):
        return None
    counted = returns[returns["state"].astype(object).isin(COUNTED).to_numpy(dtype=bool)]
    years = Counter(int(y) for y in counted["fiscal_year"].astype(object) if not _missing(y))
    return years.most_common(1)[0][0] if years else None


def _bare(code: str) -> str | None:
    """A code without its leading zeros (3005 for 03005), if it is digits and has any."""
    if code.isascii() and code.isdigit() and code.startswith("0"):
        return code.lstrip("0") or None
    return None


def _closed(path: Path, read: Any, use: Any) -> Any:
    """``use(header, records)`` of a LAST table read by ``read``, its rows closed after."""
    header, records = read(path)
    try:
        return use(header, records)
    finally:
        close = getattr(records, "close", None)
        if close is not None:
            close()  # a table left unread (a column missing) is closed now


def empty_changes() -> pd.DataFrame:
    """A changes frame with no rows (a merge without --previous)."""
    return _typed_changes([])


def empty_score_changes() -> pd.DataFrame:
    """A score_changes frame with no rows (a merge without --previous)."""
    return _typed_scores([])


def score_72(scored: Iterable[Any], sums: Iterable[Any]) -> float | None:
    """An agency's 7.2 score: the mean score of all its 7.2 rows with a score, every table
    together (the sum of the tables' score sums over the rows scored); None if none is."""
    count = sum(int(n) for n in scored if not _missing(n))
    total = sum(float(s) for s in sums if not _missing(s))
    return total / count if count else None


def compare(result: Consolidated, last: Last) -> Consolidated:
    """``result`` with its changes since ``last``: the changes and score_changes frames, a
    ``result-differs-previous`` warning per differing result (in problems, and in its return's
    warnings and state), and ``previous_source`` set."""
    answers = result.answers
    counted = _counted_files(result)
    last, renamed = _zeros_restored(last, counted)
    rows: list[dict[str, Any]] = []
    new_problems: list[P.Problem] = []
    if len(answers):
        mine = answers["agency_code"].astype(object).isin(last.agencies).to_numpy(dtype=bool)
        kinds = answers["kind"].astype(object).to_numpy()
        statuses = answers[mine & (kinds == "status")]
        results = answers[mine & answers["field_id"].astype(str).str.startswith("result_")
                          .to_numpy(dtype=bool)]
        rows += _status_changes(statuses, last, counted, _orders(result.layouts))
        rows += _result_changes(results, last, counted, new_problems,
                                _round_words(last.year))
    warned: dict[str, int] = {}
    for problem in new_problems:
        warned[str(problem.file)] = warned.get(str(problem.file), 0) + 1
    problems = result.problems
    if new_problems:
        problems = pd.concat([problems, P.problems_frame(new_problems)], ignore_index=True)
    return dataclasses.replace(result, changes=_typed_changes(rows),
                               score_changes=_score_changes(result, last, counted, renamed),
                               problems=problems, returns=_warned(result.returns, warned),
                               previous_source=path_text(last.source))


def _zeros_restored(last: Last, codes: Iterable[str]) -> tuple[Last, dict[str, str]]:
    """``last`` with a code that lost its leading zeros (LAST saved again by a spreadsheet
    application: 3005 for 03005) under this round's code, when that is the only code of both
    rounds it can be (prefill's rule); any other code stays as it is, not compared. Also
    this round's code -> LAST's, of each code so restored (score_changes' previous_code)."""
    def bare(code: str) -> str | None:
        return code.lstrip("0") if code.isascii() and code.isdigit() else None

    now = set(codes)
    theirs = last.agencies
    by_bare: dict[str, list[str]] = {}
    for code in now:
        if (key := bare(code)) is not None:
            by_bare.setdefault(key, []).append(code)
    renamed: dict[str, str] = {}
    for old in theirs - now:
        key = bare(old)
        mine = [c for c in by_bare.get(key, []) if len(c) > len(old) and c not in theirs] \
            if key is not None else []
        if len(mine) == 1 and key is not None and len(by_bare[key]) == 1:
            renamed[old] = mine[0]
    if not renamed:
        return last, {}

    def moved(table: dict[str, Any]) -> dict[str, Any]:
        return {renamed.get(code, code): value for code, value in table.items()}

    return dataclasses.replace(last, statuses=moved(last.statuses), results=moved(last.results),
                               scores=moved(last.scores), files=moved(last.files),
                               states=moved(last.states)), {v: k for k, v in renamed.items()}


def _columns_of(frame: pd.DataFrame, *names: str) -> Iterator[tuple[Any, ...]]:
    return zip(*(frame[n].astype(object).tolist() for n in names), strict=True)


def _status_changes(part: pd.DataFrame, last: Last, counted: dict[str, str],
                    orders: list[tuple[str, ...]]) -> list[dict[str, Any]]:
    rows = []
    for file, code, item, fld, value, sheet, cell in _columns_of(
            part, "file", "agency_code", "item_id", "field_id", "value", "sheet", "cell"):
        before = last.statuses[code].get((item, fld)) if code in last.statuses else None
        if before is None or value is None or value is pd.NA or counted.get(code) != file:
            continue
        now = str(value)
        step = _step(orders, before, now)
        if step is not None:
            rows.append({"file": file, "agency_code": code, "kind": "status",
                         "item_id": item, "field_id": fld, "previous_choice": before,
                         "current_choice": now, "direction": step, "sheet": sheet,
                         "cell": cell, "previous_file": last.files.get(code)})
    return rows


def _result_changes(part: pd.DataFrame, last: Last, counted: dict[str, str],
                    problems: list[P.Problem], previous_round: Words) -> list[dict[str, Any]]:
    """The results that differ, each also a warning on its cell (into ``problems``): the
    warning goes to the agency, so it names the previous round, not the analyst's file."""
    rows = []
    for file, code, table, item, fld, year, value, sheet, cell in _columns_of(
            part, "file", "agency_code", "part", "item_id", "field_id", "year", "value",
            "sheet", "cell"):
        if not isinstance(value, float) or value != value or year is None or year is pd.NA:
            continue  # blank (or, in a hand-made frame, not a number): not compared
        theirs = last.results.get(code)
        before = theirs.get((table, item, int(year))) if theirs else None
        if before is None or math.isclose(before, value, rel_tol=REL_TOLERANCE, abs_tol=0.0) \
                or counted.get(code) != file:
            continue
        rows.append({"file": file, "agency_code": code, "kind": "result", "table_id": table,
                     "item_id": item, "field_id": fld, "year": int(year),
                     "previous_value": before, "current_value": value,
                     "difference": difference(value, before), "sheet": sheet, "cell": cell,
                     "previous_file": last.files.get(code)})
        problems.append(P.make(
            "result-differs-previous", file=file, agency_code=code, sheet=sheet, cell=cell,
            year=int(year), item=item, previous=shown_number(before),
            current=shown_number(value), previous_round=previous_round))
    return rows


def _round_words(year: int | None) -> Words:
    """The previous round as an agency knows it: by its fiscal year."""
    if year is None:
        return Words("รอบที่แล้ว", "the previous round")
    return Words(f"รอบปีงบประมาณ พ.ศ. {year}", f"the round of fiscal year {year}")


def difference(now: float, before: float) -> float:
    """``now - before`` to the decimals the two numbers have (each taken at 15 significant
    digits, as a spreadsheet holds and shows it): 4.654 - 4.386 is 0.268, never the
    0.2679999999999998 of binary floats. One rule for every difference compared."""
    places = max(_decimals(now), _decimals(before))
    change = now - before
    return excel_round(change, places) if places <= 15 else change


def _decimals(value: float) -> int:
    mantissa, _, exponent = f"{value:.15g}".partition("e")
    return max(len(mantissa.partition(".")[2]) - int(exponent or 0), 0)


def shown_number(value: float) -> str:
    """A number as a message shows it: 80, 80.5, 1,234.5 (up to 15 significant digits)."""
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.15g}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """The counts merge prints and the summary shows: agencies compared; counted now but not
    in the previous round, split into those on LAST's returns table but not counted there
    (missing, empty, rejected...) and those not on it at all; counted then but not now (and
    their codes); codes of LAST that lost their leading zeros, restored; statuses improved
    and fallen; results that differ; LAST's fiscal year."""

    compared: int
    not_counted: int
    not_in_last: int
    gone: tuple[str, ...] = ()
    repaired: int = 0
    improved: int
    fell: int
    results: int
    year: int | None = None

    @property
    def new(self) -> int:
        """Counted in this round, not in the previous one (on LAST's roster or not)."""
        return self.not_counted + self.not_in_last

    def words(self, source: str) -> Words:
        year = Words(f"ปีงบประมาณ พ.ศ. {self.year}, ", f"fiscal year {self.year}, ") \
            if self.year is not None else Words("", "")
        gone = _listed(self.gone)
        text = Words(
            f"เทียบกับรอบที่แล้ว ({year.th}{source}): หน่วยงานที่นับผลทั้งสองรอบ "
            f"{self.compared:,} แห่ง ไม่ได้นับผลในรอบที่แล้ว {self.not_counted:,} แห่ง "
            f"ไม่มีในรอบที่แล้วเลย {self.not_in_last:,} แห่ง นับผลในรอบที่แล้วแต่ไม่ได้นับรอบนี้ "
            f"{len(self.gone):,} แห่ง{f' ({gone})' if gone else ''} สถานะดีขึ้น "
            f"{self.improved:,} ข้อ ลดลง {self.fell:,} ข้อ ผลการดำเนินงานที่ต่างจากรอบที่แล้ว "
            f"{self.results:,} ค่า (ดูแผ่นงาน changes และ score_changes)",
            f"compared with the previous round ({year.en}{source}): {self.compared:,} "
            f"agencies in both rounds, {self.not_counted:,} not counted in the previous round, "
            f"{self.not_in_last:,} not in it at all, {len(self.gone):,} counted then but not "
            f"now{f' ({gone})' if gone else ''}; {self.improved:,} statuses improved, "
            f"{self.fell:,} fell; {self.results:,} results differ from last round (see the "
            "changes and score_changes sheets)")
        if self.repaired:
            text = text + Words(
                f"\n  รหัสหน่วยงาน {self.repaired:,} รหัสในผลรอบที่แล้วไม่มีเลข 0 นำหน้า (ไฟล์ถูก"
                "เปิดและบันทึกด้วยโปรแกรมตารางคำนวณ) จึงจับคู่กับรหัสของรอบนี้ที่เป็นไปได้รหัสเดียว "
                "(คอลัมน์ previous_code ของ score_changes)",
                f"\n  {self.repaired:,} agency codes of the previous round had lost their "
                "leading zeros (saved again by a spreadsheet application) and were matched "
                "to the one code of this round they can be (score_changes' previous_code)")
        return text


_LISTED_CODES = 10


def _listed(codes: Sequence[str]) -> str:
    shown = ", ".join(codes[:_LISTED_CODES])
    return shown + (f", ... +{len(codes) - _LISTED_CODES:,}" if len(codes) > _LISTED_CODES
                    else "")


def comparison(result: Consolidated) -> Comparison:
    """The counts of ``result``'s comparison with the previous round."""
    scores, changes = result.score_changes, result.changes

    def column(name: str) -> list[Any]:
        return scores[name].astype(object).tolist() if name in scores else [None] * len(scores)

    now = [v is not False and not _missing(v) and bool(v) for v in column("in_current")] \
        if "in_current" in scores else [True] * len(scores)
    before = [bool(v) and not _missing(v) for v in column("in_previous")]
    states = column("previous_state")
    codes = column("agency_code")
    kinds = changes["kind"].astype(object)
    steps = changes["direction"].astype(object)
    fresh = [s for n, b, s in zip(now, before, states, strict=True) if n and not b]
    on_roster = any(not _missing(s) for s in states)
    absent = sum(1 for s in fresh if _missing(s)) if on_roster else 0
    return Comparison(
        compared=sum(1 for n, b in zip(now, before, strict=True) if n and b),
        not_counted=len(fresh) - absent, not_in_last=absent,
        gone=tuple(str(c) for c, n, b in zip(codes, now, before, strict=True) if b and not n),
        repaired=sum(1 for v in column("previous_code") if not _missing(v)),
        improved=int((steps == "up").sum()), fell=int((steps == "down").sum()),
        results=int((kinds == "result").sum()),
        year=next((int(y) for y in column("previous_year") if not _missing(y)), None))


# --------------------------------------------------------------------------------------------
# Private: comparing
# --------------------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _counted_files(result: Consolidated) -> dict[str, str]:
    """The file counted for each agency (the answers hold counted returns only)."""
    answers = result.answers
    if not len(answers):
        return {}
    pairs = answers[["agency_code", "file"]].astype(object).drop_duplicates()
    return {code: file for code, file in zip(pairs["agency_code"], pairs["file"], strict=True)
            if isinstance(code, str)}


def _orders(layouts: Sequence[Layout]) -> list[tuple[str, ...]]:
    return [layout.status_labels() for layout in layouts]


def _step(orders: list[tuple[str, ...]], before: str | None, now: str) -> str | None:
    """"up" or "down" the first list of statuses holding both answers; None if they are the
    same or cannot be ordered (not compared)."""
    if before is None or before == now:
        return None
    for labels in orders:
        if before in labels and now in labels:
            return "up" if labels.index(now) > labels.index(before) else "down"
    return None


def _score_changes(result: Consolidated, last: Last, counted: dict[str, str],
                   renamed: dict[str, str]) -> pd.DataFrame:
    """A row per agency counted in either round: this round's first (in the scores' order),
    then those counted in the previous round only (``in_current`` false, no file, no score
    of this round), by code."""
    scores = result.scores
    tables = [str(c)[len("score_sum_"):] for c in scores.columns
              if str(c).startswith("score_sum_")]
    columns = {name: scores[name].astype(object).tolist() for name in
               ("file", "agency_code", "checklist_score",
                *(f"scored_{t}" for t in tables), *(f"score_sum_{t}" for t in tables))}
    rows = []
    known = last.agencies
    seen: set[str] = set()
    for i, (file, code) in enumerate(zip(columns["file"], columns["agency_code"], strict=True)):
        if _missing(code) or counted.get(code) != file:
            continue
        seen.add(code)
        points = columns["checklist_score"][i]
        checklist = None if _missing(points) else float(points)
        now_72 = score_72((columns[f"scored_{t}"][i] for t in tables),
                          (columns[f"score_sum_{t}"][i] for t in tables))
        before = last.scores.get(code) or (None, None)
        rows.append({"file": file, "agency_code": code, "in_previous": code in known,
                     "in_current": True, "previous_state": last.states.get(code),
                     "previous_code": renamed.get(code), "previous_year": last.year,
                     "previous_file": last.files.get(code),
                     "checklist_score_previous": before[0], "checklist_score": checklist,
                     "checklist_score_change": _less(checklist, before[0]),
                     "score_72_previous": before[1], "score_72": now_72,
                     "score_72_change": _less(now_72, before[1])})
    for code in sorted(known - seen):
        before = last.scores.get(code) or (None, None)
        rows.append({"file": None, "agency_code": code, "in_previous": True,
                     "in_current": False, "previous_state": last.states.get(code),
                     "previous_code": None, "previous_year": last.year,
                     "previous_file": last.files.get(code),
                     "checklist_score_previous": before[0], "score_72_previous": before[1]})
    return _typed_scores(rows)


def _less(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else difference(now, before)


def _warned(returns: pd.DataFrame, warned: dict[str, int]) -> pd.DataFrame:
    """The returns frame with each file's new warnings counted, ``ok`` -> ``ok_with_warnings``."""
    if not warned:
        return returns
    returns = returns.copy()
    added = pd.array([warned.get(f, 0) if isinstance(f, str) else 0
                      for f in returns["file"].astype(object)], dtype="Int64")
    # pandas-stubs type the comparison of an IntegerArray as a bool; it is elementwise
    more = (added > 0).to_numpy(dtype=bool)  # type: ignore[attr-defined, operator]  # stub
    returns["warnings"] = returns["warnings"].where(~more, returns["warnings"].fillna(0)
                                                    + added)
    ok = more & (returns["state"].astype(object) == "ok").to_numpy(dtype=bool)
    returns["state"] = returns["state"].where(~ok, "ok_with_warnings")
    return returns


def _typed_changes(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))
    for column in CHANGE_COLUMNS:
        if column == "year":
            frame[column] = frame[column].astype("Int64")
        elif column in ("previous_value", "current_value", "difference"):
            frame[column] = frame[column].astype("Float64")
        else:
            frame[column] = frame[column].astype("string")
    return frame


def _typed_scores(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(SCORE_CHANGE_COLUMNS))
    for column in SCORE_CHANGE_COLUMNS:
        if column in ("in_previous", "in_current"):
            frame[column] = frame[column].astype("boolean")
        elif column == "previous_year":
            frame[column] = frame[column].astype("Int64")
        elif column in ("file", "agency_code", "previous_state", "previous_code",
                        "previous_file"):
            frame[column] = frame[column].astype("string")
        else:
            frame[column] = frame[column].astype("Float64")
    return frame


# --------------------------------------------------------------------------------------------
# Private: reading LAST's answers and scores
# --------------------------------------------------------------------------------------------


def _columns(source: Path, header: list[Any], needed: Sequence[str], table: str
             ) -> dict[str, int]:
    names = [str(h) if h is not None else "" for h in header]
    missing = [c for c in needed if c not in names]
    if missing:
        shown = ", ".join(missing)
        raise not_ours(source, f"ตาราง {table} ไม่มีคอลัมน์ {shown}",
                       f"its {table} table lacks the column(s) {shown}")
    return {c: names.index(c) for c in (*needed, "file") if c in names}


def _text(value: Any) -> str | None:
    """A text cell of LAST, or None (blank, a formula, a number where text belongs)."""
    if value is None or isinstance(value, Refused | bool | int | float):
        return None
    text = str(value).strip()
    return text if text and len(text) <= MAX_TEXT else None


def _code(value: Any) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, Refused) or value is None:
        return None
    text = str(value).strip()
    return normalise_code(text) if text else None


@contextlib.contextmanager
def _answers_table(path: Path, rows: bool = True
                   ) -> Iterator[tuple[list[str], Iterable[list[Any]]]]:
    """LAST's long answers table, streamed: it has a row per cell of each return, so more rows
    than the other tables (8,000 returns of 474 cells: 3.8 million); its size is bounded by
    MAX_ANSWER_BYTES (not prefill's MAX_LAST_BYTES: 2,000 agencies' answers.csv is 150 MB; only
    the statuses are kept, so memory does not grow with it), and the rows by MAX_ANSWER_ROWS
    (more is refused, never cut short)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise not_ours(path, "เปิดไฟล์ไม่ได้", f"cannot open it ({exc.strerror})") from exc
    if size > MAX_ANSWER_BYTES:
        raise not_ours(path, f"ไฟล์ใหญ่เกิน {MAX_ANSWER_BYTES // 2**20:,} MB",
                       f"larger than {MAX_ANSWER_BYTES // 2**20:,} MB")
    if path.suffix == ".parquet":
        yield _answers_parquet(path, rows)
        return
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise not_ours(path, "เปิดไฟล์ไม่ได้", f"cannot open it ({exc.strerror})") from exc
    csv.field_size_limit(MAX_TEXT + 16)
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise not_ours(path, "อ่านเป็นไฟล์ CSV แบบ UTF-8 ไม่ได้",
                           "not readable as a UTF-8 CSV") from exc
        if header is None:
            raise not_ours(path, "ไฟล์ว่าง", "the file is empty")
        yield header, _csv_rows(path, reader)


def _csv_rows(path: Path, reader: Iterator[list[str]]) -> Iterator[list[Any]]:
    """The rows of a CSV, as merge wrote them: '' is blank, the ``'`` before formula-like
    text taken off."""
    try:
        for n, row in enumerate(reader):
            if n >= MAX_ANSWER_ROWS:
                raise not_ours(path, f"มีแถวมากกว่า {MAX_ANSWER_ROWS:,} แถว",
                               f"more than {MAX_ANSWER_ROWS:,} rows")
            yield [None if v == "" else v[1:] if v.startswith("'")
                   and v[1:].startswith(CSV_FORMULA_PREFIXES) else v for v in row]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise not_ours(path, "อ่านเป็นไฟล์ CSV แบบ UTF-8 ไม่ได้", "not readable as a UTF-8 CSV"
                       ) from exc


def _answers_parquet(path: Path, rows: bool = True) -> tuple[list[str], Iterable[list[Any]]]:
    """The status rows of LAST's answers.parquet: only the columns compared are read (none,
    only the schema checked, without ``rows``)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise PrefillError(Words("การอ่านไฟล์ Parquet ต้องใช้ pyarrow: pip install pyarrow",
                                 "reading Parquet needs pyarrow: pip install pyarrow")) from exc
    try:
        names = list(pq.read_schema(path).names)
    except Exception as exc:  # noqa: BLE001 - any failure of a damaged file is the same answer
        raise not_ours(path, "อ่านเป็นไฟล์ Parquet ไม่ได้", "not readable as Parquet") from exc
    _columns(path, names, _ANSWER_HEADS, "answers")
    wanted = [c for c in (*_ANSWER_HEADS, "file") if c in names]
    if not rows:
        return wanted, iter(())
    try:
        table = pq.read_table(path, columns=wanted)
        if table.num_rows > MAX_ANSWER_ROWS:
            raise not_ours(path, f"มีแถวมากกว่า {MAX_ANSWER_ROWS:,} แถว",
                           f"more than {MAX_ANSWER_ROWS:,} rows")
        table = table.filter(pc.equal(table["kind"].cast(pa.string()), "status"))
        columns = [table.column(c).cast(pa.string()).to_pylist() for c in wanted]
    except PrefillError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged file, or columns of other types
        raise not_ours(path, "อ่านตาราง answers ในไฟล์ Parquet ไม่ได้",
                       "cannot read its answers table as Parquet") from exc
    return wanted, ([c[i] for c in columns] for i in range(table.num_rows))


def _table_parquet(path: Path) -> tuple[list[str], Iterable[list[Any]]]:
    """A small table of LAST as Parquet (scores, returns: a row per agency), bounded by
    MAX_LAST_ROWS as prefill's tables: only the columns compared are read (agency, state,
    year, checklist score, the tables' scored and score_sum)."""
    check_last_size(path)
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise PrefillError(Words("การอ่านไฟล์ Parquet ต้องใช้ pyarrow: pip install pyarrow",
                                 "reading Parquet needs pyarrow: pip install pyarrow")) from exc
    try:
        parquet = pq.ParquetFile(path)
        if parquet.metadata.num_rows > MAX_LAST_ROWS:
            raise not_ours(path, f"มีแถวเกิน {MAX_LAST_ROWS:,} แถว",
                           f"more than {MAX_LAST_ROWS:,} rows")
        names = list(parquet.schema_arrow.names)
        wanted = [n for n in names if n in (*_SCORE_HEADS, *_RETURN_HEADS)
                  or n.startswith(("scored_", "score_sum_"))]
        table = parquet.read(columns=wanted)
    except PrefillError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of a damaged file is the same answer
        raise not_ours(path, "อ่านเป็นไฟล์ Parquet ไม่ได้", "not readable as Parquet") from exc
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return list(table.column_names), ([c[i] for c in columns] for i in range(table.num_rows))


def _returns(source: Path, header: list[Any], records: Iterable[list[Any]]
             ) -> tuple[Counter[int], dict[str, str]]:
    """LAST's returns table: the fiscal years of its counted returns (how many each), and
    each agency's state: a counted one if it has any (an agency may have several rows), else
    the first state of a file it sent (empty, rejected...), else ``missing`` (the row merge
    adds for an agency without a counted return comes after its files' rows, or alone)."""
    from .consolidate import COUNTED  # consolidate imports this module

    at = _columns(source, header, _RETURN_HEADS, "returns")
    years: Counter[int] = Counter()
    states: dict[str, str] = {}
    for record in records:
        record = list(record) + [None] * (len(header) - len(record))
        code = _code(record[at["agency_code"]])
        state = _text(record[at["state"]])
        if code is None or state is None:
            continue
        if state in COUNTED:
            year = _number(record[at["fiscal_year"]])
            if year is not None and year.is_integer():
                years[int(year)] += 1
        if _state_rank(state, COUNTED) > _state_rank(states.get(code), COUNTED):
            states[code] = state
    return years, states


def _state_rank(state: str | None, counted: Sequence[str]) -> int:
    """Which of an agency's states in LAST says most: a counted one, then a file's, then the
    ``missing`` row merge adds (nothing at all ranks lowest)."""
    if state is None:
        return 0
    if state in counted:
        return 3
    return 1 if state == "missing" else 2


def _long_statuses(source: Path, header: list[Any], records: Iterable[list[Any]],
                   wanted: set[tuple[str, str]], keep: set[str] | None
                   ) -> tuple[dict[str, dict[tuple[str, str], str]], dict[str, str]]:
    at = _columns(source, header, _ANSWER_HEADS, "answers")
    statuses: dict[str, dict[tuple[str, str], str]] = {}
    files: dict[str, str] = {}
    if keep is not None and not keep:
        return statuses, files  # no agency kept: the rows are not read, only the header
    for record in records:
        record = list(record) + [None] * (len(header) - len(record))
        code = _code(record[at["agency_code"]])
        if code is None or record[at["kind"]] != "status" or (keep is not None
                                                                 and code not in keep):
            continue
        file = str(record[at["file"]]) if "file" in at else ""
        if files.setdefault(code, file) != file:
            continue  # an agency twice (an edited LAST): its first return's rows
        key = (str(record[at["item_id"]]), str(record[at["field_id"]]))
        value = _text(record[at["value"]])
        if key in wanted and value is not None:
            statuses.setdefault(code, {})[key] = value
    return statuses, files


def _scores(source: Path, header: list[Any], records: Iterable[list[Any]],
            keep: set[str] | None) -> dict[str, tuple[float | None, float | None]]:
    at = _columns(source, header, _SCORE_HEADS, "scores")
    names = [str(h) if h is not None else "" for h in header]
    sums = [(i, names.index(f"scored_{name[len('score_sum_'):]}")) for i, name in
            enumerate(names) if name.startswith("score_sum_")
            and f"scored_{name[len('score_sum_'):]}" in names]
    out: dict[str, tuple[float | None, float | None]] = {}
    for record in records:
        record = list(record) + [None] * (len(header) - len(record))
        code = _code(record[at["agency_code"]])
        if code is None or code in out or (keep is not None and code not in keep):
            continue
        out[code] = (_number(record[at["checklist_score"]]),
                     score_72((_number(record[j]) for _, j in sums),
                              (_number(record[i]) for i, _ in sums)))
    return out


def _number(value: Any) -> float | None:
    """A number of LAST (a CSV's text too); None for anything else, a formula included."""
    if value is None or isinstance(value, Refused | bool):
        return None
    try:
        number = float(value if isinstance(value, int | float) else str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _workbook(source: Path, wanted: set[tuple[str, str]], keep: set[str] | None,
              all_scores: bool = False
              ) -> tuple[dict[str, dict[tuple[str, str], str]], dict[str, str],
                         dict[str, tuple[float | None, float | None]],
                         tuple[Counter[int], dict[str, str]]]:
    """The answers (wide: three header rows, then one row per return; of ``keep``'s agencies
    if given), the scores and the returns sheet of a consolidated workbook; load_previous has
    already checked its size and package, but the
    package is checked again here (it may have changed since)."""
    book = open_last_workbook(source)  # the package checked again: it may have changed
    try:
        for name in ("answers", "scores"):
            if name not in book.sheetnames:
                raise not_ours(source, f"ไม่มีแผ่นงาน {name}", f"has no {name} sheet")
        rows = book["answers"].iter_rows()
        heads = [[last_cell_value(c) for c in row] for row in _take(rows, 3)]
        if not heads or heads[0][:2] != ["file", "agency_code"]:
            raise not_ours(source, "แผ่นงาน answers ไม่ได้ขึ้นต้นด้วยคอลัมน์ file, agency_code",
                           "its answers sheet does not start with file, agency_code")
        columns = []
        for col, head in enumerate(heads[0][2:], start=2):
            item, _, fld = str(head or "").rpartition(" ")
            if (item, fld) in wanted:
                columns.append((col, (item, fld)))
        statuses: dict[str, dict[tuple[str, str], str]] = {}
        files: dict[str, str] = {}
        for n, row in enumerate(rows):
            if n >= MAX_LAST_ROWS or (keep is not None and not keep):
                break  # (no agency kept: the rows are not read)
            values = [last_cell_value(c) for c in row]
            values += [None] * (len(heads[0]) - len(values))
            code = _code(values[1])
            if code is None or code in files or (keep is not None and code not in keep):
                continue
            files[code] = str(values[0] or "")
            mine = statuses.setdefault(code, {})
            for col, key in columns:
                text = _text(values[col])
                if text is not None:
                    mine[key] = text
        score_rows = book["scores"].iter_rows()
        header = [last_cell_value(c) for c in next(score_rows, ())]
        score_of = _scores(source, header, ([last_cell_value(c) for c in r] for r in
                                            _take(score_rows, MAX_LAST_ROWS)),
                           None if all_scores else keep)
        returns: tuple[Counter[int], dict[str, str]] = (Counter(), {})
        if "returns" in book.sheetnames:
            return_rows = book["returns"].iter_rows()
            header = [last_cell_value(c) for c in next(return_rows, ())]
            returns = _returns(source, header, ([last_cell_value(c) for c in r] for r in
                                                _take(return_rows, MAX_LAST_ROWS)))
        return statuses, files, score_of, returns
    except PrefillError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged sheet part
        raise not_ours(source, "อ่านแผ่นงาน answers หรือ scores ไม่ได้",
                       "cannot read its answers or scores sheet") from exc
    finally:
        book.close()


def _take(rows: Iterable[Any], n: int) -> list[Any]:
    out = []
    for row in rows:
        out.append(row)
        if len(out) >= n:
            break
    return out
