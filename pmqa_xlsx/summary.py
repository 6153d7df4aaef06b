"""The consolidated workbook's summary sheet: what a director reads and prints.

This module owns the sheet's four sections, each a table (Thai headings, English beside them)
on its own printed page(s), and ``parse_deadline`` (merge's ``--deadline``):

1. returns by ministry (the roster's ``ministry``; "ไม่ระบุ" where it has none): expected,
   returned (counted), on time and late (with a deadline), missing, return rate;
2. each checklist item by status, as a share of the agencies counted;
3. the checklist score and the 7.2 score per agency, ranked, and their distributions (count,
   mean, minimum, quartiles, median, maximum);
4. data quality: the files in each state (counted, rejected, duplicates, empty returns where
   that state exists, missing...), agencies with an item marked done without details,
   warnings;
5. only with ``merge --previous``: compared with the previous round: agencies in both rounds
   and new, checklist statuses improved and fallen, results that differ (the changes sheet),
   the distribution of each agency's score changes, and the items whose status changed for
   the most agencies (``CHANGED_ITEMS`` at most).

Print setup: A4 landscape, each page fitted to the width, the sheet's title repeated on
every page, a page break before each section; a table longer than a page breaks where the
page ends (as estimated at the scale of the columns used) and its header row is written
again at the top of the next page, and its chart leaves that row out. Number formats:
counts ``#,##0``, shares ``0.0%`` (on fractions), scores ``0.00``. Charts are native; their
categories are text cells and are written with a text cache, so a spreadsheet labels the
axis with them (never 1, 2, 3...), even though the workbook is written in constant-memory
mode (where xlsxwriter cannot read the cells back).

A return is on time when its workbook-saved time (``modified``) is on or before the end of
the deadline's day in Thailand (UTC+07:00); a time saved without a zone is read as Thai time.
A counted return with no usable saved time is neither on time nor late: it is counted under
"no time".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, TypedDict

import pandas as pd
from xlsxwriter.utility import xl_range_abs
from xlsxwriter.worksheet import Worksheet

from .consolidate import COUNTED, STATE_WORDS, STATES, Consolidated
from .layout import ChecklistSheet, Layout, iter_rows
from .previous import Comparison, comparison, score_72
from .quality import competition_ranks, robust_stats
from .roster import Agency
from .textmetrics import column_pixels, fit_height, lines_height
from .words import Words

#: Thailand's time: deadlines are days there.
THAI_TIME = timezone(timedelta(hours=7))
#: Where an agency has no ministry on the roster (or there is no roster).
NO_MINISTRY = "ไม่ระบุ"
#: The most agencies listed in the ranking; beyond that, the top and bottom halves, however
#: wide the ties at the cuts (a line there says how many more share that rank).
RANKED_ALL = 20
#: The items listed in "compared with the previous round": those changed for most agencies.
CHANGED_ITEMS = 10
FORMATS = {"count": "#,##0", "share": "0.0%", "score": "0.00"}
_BE_OFFSET = 543
_DEADLINE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


class _Font(TypedDict):
    """The workbook's default font, as xlsxwriter's format properties."""

    font_name: str
    font_size: int


_FONT: _Font = {"font_name": "TH Sarabun New", "font_size": 14}
_TITLE_SIZE = 18
#: Column widths (characters): a label over A:B, then numbers.
_WIDTHS = (12.0, 36.0, *(16.0,) * 8)
#: A chart's width, and the most height it takes (a printed page's, at the page's scale).
_CHART_PX = (900, 600)
_PT_PER_PX = 0.75
#: A4 landscape within the margins set below (0.5 in left and right, 0.6 in top and bottom).
_PRINTABLE_PT = (842.0 - 2 * 36.0, 595.0 - 2 * 43.2)
#: The fewest columns the sheet uses (A:F: the scores' table, always written).
_MIN_COLUMNS = 6
#: The tallest a row can be (Excel's limit): a longer text is cut there, on screen and paper.
_MAX_ROW_PT = 409.5
#: The share of a page's estimated height the summary fills, kept spare for the applications'
#: own measure of the columns: a row past the real page's end would go to the next page on
#: its own, without the table's header. (LibreOffice, measuring its own way, fits some 10 %
#: more rows on a page than the estimate.)
_PAGE_SHARE = 0.97


def page_points(columns: int) -> float:
    """The height a printed page of the summary holds, in points at 100 %, when it uses
    ``columns`` columns: a spreadsheet fits the used columns (or the chart, if wider) to the
    page's width, at a whole percent as Excel does, and that scales the page's height by as
    much. A column's width is what Excel makes of the width xlsxwriter stores, in the
    default font (``textmetrics.column_pixels``)."""
    printed = max(sum(column_pixels(w, _FONT["font_size"]) for w in _WIDTHS[:columns]),
                  _CHART_PX[0]) * _PT_PER_PX
    scale = math.floor(100 * min(1.0, _PRINTABLE_PT[0] / printed)) / 100
    return _PAGE_SHARE * _PRINTABLE_PT[1] / scale


class DeadlineError(ValueError):
    """A ``--deadline`` that is not a date: ``words`` says so in Thai and English."""

    def __init__(self, words: Words) -> None:
        super().__init__(words.en)
        self.words = words


def parse_deadline(text: str) -> date:
    """``YYYY-MM-DD`` as a date; a year above 2400 is Buddhist Era (2569-03-31 is 2026-03-31).

    Raises:
        DeadlineError: the text is not such a date.
    """
    match = _DEADLINE.fullmatch(text.strip())
    hint = Words(f"วันที่ {text!r} ไม่ถูกต้อง พิมพ์เป็น ปปปป-ดด-วว เช่น 2569-03-31 (พ.ศ.) "
                 "หรือ 2026-03-31 (ค.ศ.)",
                 f"{text!r} is not a date: type YYYY-MM-DD, e.g. 2569-03-31 (BE) or "
                 "2026-03-31 (CE)")
    if match is None:
        raise DeadlineError(hint)
    year, month, day = (int(g) for g in match.groups())
    if year > 2400:
        year -= _BE_OFFSET
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise DeadlineError(hint) from exc


def on_time(modified: Any, deadline: date) -> bool | None:
    """Whether a workbook saved at ``modified`` (ISO 8601 text) was saved on or before the end
    of ``deadline``'s day, Thai time; None when there is no usable time."""
    if not isinstance(modified, str) or not modified.strip():
        return None
    try:
        saved = datetime.fromisoformat(modified.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if saved.tzinfo is None:
        saved = saved.replace(tzinfo=THAI_TIME)
    end = datetime.combine(deadline + timedelta(days=1), time(0), THAI_TIME)
    try:
        return saved.astimezone(UTC) < end.astimezone(UTC)
    except OverflowError:
        return saved.year <= deadline.year


@dataclass(frozen=True, slots=True)
class MinistryRow:
    """One line of the returns-by-ministry table (expected and missing None without a
    roster; on_time, late and no_time None without a deadline)."""

    ministry: str
    expected: int | None
    returned: int
    on_time: int | None
    late: int | None
    no_time: int | None

    @property
    def missing(self) -> int | None:
        """Agencies on the roster without a counted return."""
        return None if self.expected is None else self.expected - self.returned

    @property
    def rate(self) -> float | None:
        """Returned over expected (a fraction)."""
        return self.returned / self.expected if self.expected else None


def returns_by_ministry(returns: pd.DataFrame, roster: Sequence[Agency] | None,
                        deadline: date | None) -> list[MinistryRow]:
    """Per ministry (the roster's order of first appearance; no ministry last), then a total
    row named "รวม": expected agencies, counted returns, and on time/late by ``deadline``."""
    ministry_of = {a.code: (a.ministry.strip() or NO_MINISTRY) for a in roster or ()}
    expected: dict[str, int] = {}
    for agency in roster or ():
        key = ministry_of[agency.code]
        expected[key] = expected.get(key, 0) + 1
    counted = returns[returns["state"].isin(COUNTED)] if len(returns) else returns
    got: dict[str, list[bool | None]] = {key: [] for key in expected}
    for code, modified in zip(counted.get("agency_code", []), counted.get("modified", []),
                              strict=True):
        key = ministry_of.get(str(code), NO_MINISTRY)
        got.setdefault(key, []).append(on_time(modified, deadline) if deadline else None)
    keys = sorted(got, key=lambda k: (k == NO_MINISTRY, list(got).index(k)))
    rows = [_ministry_row(k, expected.get(k, 0) if roster is not None else None, got[k],
                          deadline) for k in keys]
    total = _ministry_row("รวม", sum(expected.values()) if roster is not None else None,
                          [v for k in keys for v in got[k]], deadline)
    return [*rows, total]


def _ministry_row(name: str, expected: int | None, times: list[bool | None],
                  deadline: date | None) -> MinistryRow:
    if deadline is None:
        return MinistryRow(name, expected, len(times), None, None, None)
    return MinistryRow(name, expected, len(times), sum(1 for t in times if t is True),
                       sum(1 for t in times if t is False), sum(1 for t in times if t is None))


def status_shares(answers: pd.DataFrame, layout: Layout, sheet: ChecklistSheet,
                  counted: int) -> list[tuple[str, str, list[float]]]:
    """Per checklist row: (id, topic, [share of ``counted`` agencies per status, then blank])."""
    statuses = list(layout.status_labels())
    part = answers[(answers["kind"] == "status") & (answers["part"] == sheet.id)] \
        if len(answers) else answers
    counts: dict[str, dict[str, int]] = {}
    pairs: Counter[tuple[str, str]] = Counter()
    if "item_id" in part and "value" in part:  # counted as texts, in order of appearance
        pairs.update(zip((str(i) for i in part["item_id"].astype(object).tolist()),
                         ("" if v is None or v is pd.NA else str(v)
                          for v in part["value"].astype(object).tolist()), strict=True))
    for (row_id, key), times in pairs.items():
        bucket = counts.setdefault(row_id, {})
        bucket[key] = bucket.get(key, 0) + times
    rows = []
    for _, item, paper_row in iter_rows(sheet):
        got = counts.get(paper_row.id, {})
        shares = [got.get(s, 0) / counted if counted else 0.0 for s in statuses]
        shares.append(max(0.0, 1.0 - sum(shares)) if counted else 0.0)
        topic = item.topic if not paper_row.text else f"{item.topic}: {paper_row.text}"
        rows.append((paper_row.id, topic, shares))
    return rows


def agency_scores(result: Consolidated, roster: Sequence[Agency] | None) -> pd.DataFrame:
    """One row per counted return: agency_code, agency_name, ministry, checklist (score) and
    score_72 (the mean score of all its 7.2 rows with a score, every table together)."""
    scores = result.scores
    # each return's own name (by its file: another file of its code, say a rejected one
    # without a name, is not it); <NA> when its cell was left out (--accept-errors): blank
    names = {file: "" if name is pd.NA or name is None else str(name) for file, name in zip(
        result.returns["file"].astype(object), result.returns["agency_name"].astype(object),
        strict=True) if file is not pd.NA and file is not None}
    ministry_of = {a.code: (a.ministry.strip() or NO_MINISTRY) for a in roster or ()}
    sums = [c for c in scores.columns if str(c).startswith("score_sum_")]
    # column by column (a row at a time through pandas costs a Series per row)
    scored = [scores[f"scored_{c[len('score_sum_'):]}"].astype(object).tolist() for c in sums]
    summed = [scores[c].astype(object).tolist() for c in sums]
    rows = []
    for at, (file, code_of, checklist) in enumerate(zip(
            scores["file"].astype(object).tolist(),
            scores["agency_code"].astype(object).tolist(),
            scores["checklist_score"].astype(object).tolist(), strict=True)):
        code = str(code_of)
        rows.append({"agency_code": code, "agency_name": names.get(file, ""),
                     "ministry": ministry_of.get(code, NO_MINISTRY),
                     "checklist": None if pd.isna(checklist) else float(checklist),
                     "score_72": score_72((column[at] for column in scored),
                                          (column[at] for column in summed))})
    return pd.DataFrame(rows, columns=["agency_code", "agency_name", "ministry", "checklist",
                                       "score_72"])


#: The distribution's statistics, in order, with their headings.
STATS = (("n", Words("จำนวน", "Count")), ("mean", Words("ค่าเฉลี่ย", "Mean")),
         ("min", Words("ต่ำสุด", "Minimum")), ("q1", Words("ควอร์ไทล์ที่ 1", "Q1")),
         ("median", Words("มัธยฐาน", "Median")), ("q3", Words("ควอร์ไทล์ที่ 3", "Q3")),
         ("max", Words("สูงสุด", "Maximum")))


def distribution(values: Sequence[float | None]) -> dict[str, float | None]:
    """Count, mean, minimum, quartiles (linear interpolation, as Excel's QUARTILE.INC),
    median and maximum of the values given (blanks left out); None where there are none:
    ``quality.robust_stats``, keyed as the summary's STATS."""
    stats = robust_stats(values)
    return {"n": stats.count, "mean": stats.mean, "min": stats.min, "q1": stats.q1,
            "median": stats.median, "q3": stats.q3, "max": stats.max}


def quality_counts(result: Consolidated) -> list[tuple[Words, int]]:
    """The data-quality lines: the files and agencies in each state (``STATES``: rejected,
    duplicates, empty where that state exists...), then the agencies with an item marked
    done without details, the implausible indicator rows, then the warnings."""
    counts = result.summary()
    problems = result.problems
    details = problems[problems["code"] == "details-required"] if len(problems) else problems
    lines = [(STATE_WORDS[state], counts[state]) for state in STATES]
    lines += [(Words("หน่วยงานที่ตอบ \"ดำเนินการแล้ว\" โดยไม่มีรายละเอียด",
                     "Agencies with done-without-details"),
               int(details["file"].nunique()) if len(details) else 0),
              (Words("ตัวชี้วัดที่ค่าผิดปกติ ควรตรวจสอบ (แผ่นงาน implausible)",
                     "Implausible indicators to check (sheet implausible)"),
               len(result.implausible)),
              (Words("รายการที่ควรตรวจสอบ (คำเตือน)", "Warnings"),
               int((problems["severity"] == "warning").sum()) if len(problems) else 0)]
    return lines


#: The statistics of the score changes shown (of ``STATS``).
_CHANGE_STATS = ("n", "q1", "median", "q3")


def previous_counts(counts: Comparison) -> list[tuple[Words, int]]:
    """The lines of "compared with the previous round": an agency counted in this round but
    not in the previous one is either on the previous round's returns table, not counted
    there (it did not return, or its return was empty or rejected), or not on it at all."""
    lines = [(Words("นับผลทั้งสองรอบ", "Counted in both rounds"), counts.compared),
             (Words("นับผลรอบนี้ ไม่ได้นับรอบที่แล้ว (ไม่ส่ง เปล่า หรือต้องแก้ไข)",
                    "Counted now, not counted last round (missing, empty, rejected)"),
              counts.not_counted),
             (Words("นับผลรอบนี้ ไม่มีในรอบที่แล้วเลย", "Counted now, not in the last round at all"),
              counts.not_in_last),
             (Words("นับผลรอบที่แล้ว ไม่ได้นับรอบนี้", "Counted then, not now"),
              len(counts.gone))]
    if counts.repaired:
        lines.append((Words("รหัสรอบที่แล้วที่เลข 0 นำหน้าหาย จับคู่แล้ว",
                            "Last round's codes that lost leading zeros, matched"),
                      counts.repaired))
    return [*lines,
            (Words("สถานะที่ดีขึ้น (ข้อ)", "Statuses improved"), counts.improved),
            (Words("สถานะที่ลดลง (ข้อ)", "Statuses fallen"), counts.fell),
            (Words("ผลที่ต่างจากรอบที่แล้ว (แผ่นงาน changes)",
                   "Results that differ from last round (sheet changes)"), counts.results)]


def changed_items(changes: pd.DataFrame, layouts: Sequence[Layout]
                  ) -> list[tuple[str, str, int, int]]:
    """(item id, topic, improved, fell) of the items whose status changed for the most
    agencies (``CHANGED_ITEMS`` at most; ties by the layout's order)."""
    part = changes[changes["kind"].astype(object) == "status"] if len(changes) else changes
    counts: dict[str, list[int]] = {}
    for item, step in zip(part["item_id"].astype(object), part["direction"].astype(object),
                          strict=True):
        pair = counts.setdefault(str(item), [0, 0])
        pair[0 if step == "up" else 1] += 1
    topics: dict[str, str] = {}
    order: dict[str, int] = {}
    for layout in layouts:
        for sheet in layout.sheets:
            if isinstance(sheet, ChecklistSheet):
                for _, item, paper_row in iter_rows(sheet):
                    topics.setdefault(paper_row.id, item.topic if not paper_row.text
                                      else f"{item.topic}: {paper_row.text}")
                    order.setdefault(paper_row.id, len(order))
    ranked = sorted(counts.items(), key=lambda kv: (-sum(kv[1]), order.get(kv[0], len(order)),
                                                    kv[0]))
    return [(item, topics.get(item, ""), up, down)
            for item, (up, down) in ranked[:CHANGED_ITEMS]]


def ranked_excerpt(ranks: Sequence[int], each: int
                   ) -> list[tuple[int, None] | tuple[int, tuple[int, int]]]:
    """What the ranked list shows of agencies ranked ``ranks`` (competition ranks, in rank
    order): the first ``each`` and the last ``each``, as ``(index, None)``; and at each cut
    where agencies not shown share the rank of the last one listed before it (or the first
    one listed after it), ``(index, (rank, how many not shown))``. However wide the ties,
    the list is at most ``2 * each`` agencies and two lines."""
    if len(ranks) <= 2 * each:
        return [(i, None) for i in range(len(ranks))]
    hidden = range(each, len(ranks) - each)
    top, bottom = ranks[each - 1], ranks[len(ranks) - each]
    out: list[tuple[int, None] | tuple[int, tuple[int, int]]] = [
        (i, None) for i in range(each)]
    shared_top = sum(1 for i in hidden if ranks[i] == top)
    if shared_top:
        out.append((each, (top, shared_top)))
    shared_bottom = sum(1 for i in hidden if ranks[i] == bottom)
    if shared_bottom and bottom != top:
        out.append((len(ranks) - each, (bottom, shared_bottom)))
    return [*out, *((i, None) for i in range(len(ranks) - each, len(ranks)))]


def category_label(text: str, word: str) -> str:
    """A chart category as text a spreadsheet keeps as text: text that reads as a number
    ("2024", which would make xlsxwriter reference the categories as numbers and a
    spreadsheet label the axis 1, 2, 3...) is preceded by ``word`` and a space."""
    try:
        float(text)
    except ValueError:
        return text
    return f"{word} {text}"


def write_summary(workbook: Any, ws: Worksheet, result: Consolidated,
                  layouts: Sequence[Layout], *, roster: Sequence[Agency] | None = None,
                  deadline: date | None = None) -> None:
    """Write the summary sheet ``ws`` (rows in order: the workbook may be constant-memory)."""
    checklists = [layout for layout in layouts
                  if any(isinstance(sheet, ChecklistSheet) for sheet in layout.sheets)]
    columns = max([_MIN_COLUMNS, len(_ministry_heads(deadline)) + 1,  # a label over A:B
                   *(len(_status_heads(list(layout.status_labels()))) + 1
                     for layout in checklists)])
    writer = _Writer(workbook, ws, columns)
    writer.title()
    writer.ministries(returns_by_ministry(result.returns, roster, deadline), deadline)
    counted = int(result.returns["state"].isin(COUNTED).sum()) if len(result.returns) else 0
    for layout in layouts:
        for sheet in layout.sheets:
            if isinstance(sheet, ChecklistSheet):
                writer.statuses(sheet, list(layout.status_labels()),
                                status_shares(result.answers, layout, sheet, counted), counted)
    writer.scores(agency_scores(result, roster))
    writer.quality(quality_counts(result))
    if result.previous_source is not None:
        writer.previous(result, layouts)
    writer.finish()


# --------------------------------------------------------------------------------------------
# Private: the sheet's writer, one method per section
# --------------------------------------------------------------------------------------------


def _bars_height(bars: int, each: int) -> int:
    """A bar chart's height in pixels: ``each`` per bar, title and axes, at most a page."""
    return min(_CHART_PX[1], 120 + each * bars)


def _head(th: str, en: str) -> str:
    return f"{th} / {en}"


def _ministry_heads(deadline: date | None) -> list[str]:
    heads = [_head("กระทรวง", "Ministry"), _head("จำนวนหน่วยงาน", "Expected"),
             _head("จำนวนแบบฟอร์มที่ส่งคืน", "Returns")]
    if deadline is not None:
        heads += [_head("ส่งทันกำหนด", "On time"), _head("ส่งช้า", "Late"),
                  _head("ไม่ทราบเวลาบันทึก", "No time")]
    return [*heads, _head("ยังไม่ส่ง", "Missing"), _head("อัตราการส่งคืน", "Return rate")]


def _status_heads(statuses: list[str]) -> list[str]:
    return [_head("ข้อ / ประเด็น", "Item"), *statuses, _head("ไม่ได้ตอบ", "Blank")]


class _Writer:
    def __init__(self, workbook: Any, ws: Worksheet, columns: int = _MIN_COLUMNS) -> None:
        self.workbook, self.ws, self.row = workbook, ws, 0
        self.page = page_points(columns)  # what a printed page holds
        self.breaks: list[int] = []
        self.heights: dict[int, float] = {}
        #: The table being written: its header row's writer (again at the top of each page the
        #: table continues on), and the rows it was written again at.
        self._repeat: Callable[[], None] | None = None
        self.repeated: set[int] = set()
        base = {**_FONT, "valign": "top"}
        self.f = {
            "title": workbook.add_format({**_FONT, "bold": True, "font_size": _TITLE_SIZE}),
            "section": workbook.add_format({**_FONT, "bold": True, "font_size": 16}),
            "header": workbook.add_format({**base, "bold": True, "bg_color": "#D9E1F2",
                                           "border": 1, "text_wrap": True}),
            "text": workbook.add_format({**base, "border": 1, "text_wrap": True}),
            "note": workbook.add_format({**base, "italic": True}),
            **{k: workbook.add_format({**base, "border": 1, "num_format": v})
               for k, v in FORMATS.items()},
            "total": workbook.add_format({**base, "border": 1, "bold": True}),
            **{f"total_{k}": workbook.add_format({**base, "border": 1, "bold": True,
                                                  "num_format": v})
               for k, v in FORMATS.items()},
        }
        for col, width in enumerate(_WIDTHS):
            ws.set_column(col, col, width)
        ws.set_default_row(lines_height(1, _FONT["font_size"]))
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        ws.set_footer("&Cหน้า &P")  # the page (&N would count every sheet's pages)

    def height(self, row: int, points: float) -> None:
        """Set a row's height (at most Excel's), and remember it to know how much of a page
        is used."""
        points = min(points, _MAX_ROW_PT)
        self.ws.set_row(row, points)
        self.heights[row] = points

    def _gap(self, then: float) -> None:
        """A blank row before what comes next (``then`` points tall): on this page if both
        fit, else at the top of the next (a page break before it), so that a blank row never
        runs past the page's end to a page of its own."""
        if self.used() + lines_height(1, _FONT["font_size"]) + then > self.page:
            self.breaks.append(self.row)
        self.row += 1

    def used(self) -> float:
        """The points used on the current printed page (the title repeated on it included),
        at 100 %: fitting the width only shrinks it."""
        start = max([0, *self.breaks])
        default = lines_height(1, _FONT["font_size"])
        return self.heights[0] + sum(self.heights.get(r, default)
                                     for r in range(max(start, 1), self.row))

    def title(self) -> None:
        self.height(0, lines_height(1, _TITLE_SIZE))
        self.ws.write_string(0, 0, _head("สรุปผลการประเมินตนเอง PMQA 4.0",
                                         "PMQA 4.0 self-assessment summary"), self.f["title"])
        self.row = 2

    def section(self, title: str, heads: list[str], note: str | None = None) -> None:
        """A section's title (a page break before it, but the first, and a blank row under
        the sheet's title, as on the first page), a note, its header."""
        if self.row > 2:
            self.breaks.append(self.row)
            self.row += 1
        self.height(self.row, lines_height(1, 16))
        self.ws.write_string(self.row, 0, title, self.f["section"])
        self.row += 1
        if note:
            self.ws.write_string(self.row, 0, note, self.f["note"])
            self.row += 1
        widths = [_WIDTHS[0] + _WIDTHS[1], *_WIDTHS[2:]]

        def header() -> None:
            self.height(self.row, max(fit_height(h, (widths[i],), 14, 14, bold=True)
                                      for i, h in enumerate(heads)))
            self._label_row(heads[0], "header")
            for col, text in enumerate(heads[1:], start=2):
                self.ws.write_string(self.row, col, text, self.f["header"])

        self.header = self.row
        self._table(header)

    def _table(self, header: Callable[[], None]) -> None:
        """A table's header row (``header`` writes it at the current row), written now and
        again at the top of each printed page the table's rows continue on (``_fits``): the
        sheet repeats only its title on every page, one row for all its tables."""
        header()
        self._repeat = header
        self.row += 1

    def _fits(self, height: float) -> None:
        """Before a table's row ``height`` points tall (at most Excel's, as ``height`` sets
        it): if it would run past the printed page, a page break, and the table's header row
        again at the top of the next page."""
        if self._repeat is None or self.used() + min(height, _MAX_ROW_PT) <= self.page:
            return
        self.breaks.append(self.row)
        self._repeat()
        self.repeated.add(self.row)
        self.row += 1

    def _label_row(self, text: str, fmt: str, *others: tuple[str, int]) -> None:
        """The row's label over A:B, the row tall enough for it and for ``others`` ((text,
        column) written after it), measured at their widths."""
        size = _FONT["font_size"]
        bold = fmt in ("header", "total")
        height = max([fit_height(text, (_WIDTHS[0] + _WIDTHS[1],), size, size, bold=bold),
                      *(fit_height(t, (_WIDTHS[c],), size, size, bold=bold)
                        for t, c in others)])
        if fmt != "header":  # a table's row: on the next page, under its header, if it must
            self._fits(height)
        if self.row not in self.heights or self.heights[self.row] < height:
            self.height(self.row, height)
        self.ws.merge_range(self.row, 0, self.row, 1, "", self.f[fmt])
        self.ws.write_string(self.row, 0, text, self.f[fmt])

    def cells(self, values: list[tuple[float | None, str]], total: bool = False) -> None:
        for col, (value, kind) in enumerate(values, start=2):
            fmt = self.f[f"total_{kind}" if total else kind]
            if value is None:
                self.ws.write_blank(self.row, col, None, fmt)
            else:
                self.ws.write_number(self.row, col, value, fmt)

    def ministries(self, rows: list[MinistryRow], deadline: date | None) -> None:
        heads = _ministry_heads(deadline)
        note = None
        if deadline is not None:
            be = deadline.year + _BE_OFFSET
            note = (f"กำหนดส่ง {deadline.day}/{deadline.month}/{be} (สิ้นวัน เวลาประเทศไทย) "
                    f"/ Deadline {deadline.isoformat()}, end of day, Thai time (UTC+7), "
                    "by the time each workbook was last saved")
        self.section(_head("1. การส่งคืนแบบฟอร์มรายกระทรวง", "Returns by ministry"), heads,
                     note)
        first = self.row
        for line in rows:
            total = line is rows[-1]
            self._label_row(category_label(line.ministry, "กระทรวง"),
                            "total" if total else "text")
            values: list[tuple[float | None, str]] = [(line.expected, "count"),
                                                      (line.returned, "count")]
            if deadline is not None:
                values += [(line.on_time, "count"), (line.late, "count"),
                           (line.no_time, "count")]
            values += [(line.missing, "count"), (line.rate, "share")]
            self.cells(values, total)
            self.row += 1
        body = rows[:-1]
        if body and rows[-1].expected is not None:
            rate_col = len(heads)
            self.chart("bar", first, [category_label(line.ministry, "กระทรวง") for line in body],
                       [(rate_col, [line.rate or 0.0 for line in body])],
                       _head("อัตราการส่งคืน", "Return rate"), percent=True,
                       height=_bars_height(len(body), 30))

    def statuses(self, sheet: ChecklistSheet, statuses: list[str],
                 rows: list[tuple[str, str, list[float]]], counted: int) -> None:
        heads = _status_heads(statuses)
        self.section(_head(f"2. {sheet.title}: ร้อยละของหน่วยงานตามสถานะ",
                           "share of agencies by status"), heads,
                     f"ร้อยละของหน่วยงานที่นับผล {counted:,} แห่ง / percent of the {counted:,} "
                     "agencies counted")
        first = self.row
        labels = [f"ข้อ {item_id}" for item_id, _, _ in rows]  # text, whatever the id
        for label, (_, topic, shares) in zip(labels, rows, strict=True):
            height = fit_height(topic, (_WIDTHS[1],), 14, 14)
            self._fits(height)
            self.height(self.row, height)
            self.ws.write_string(self.row, 0, label, self.f["text"])
            self.ws.write_string(self.row, 1, topic, self.f["text"])
            self.cells([(s, "share") for s in shares])
            self.row += 1
        series = [(2 + i, [r[2][i] for r in rows]) for i in range(len(statuses) + 1)]
        self.chart("bar", first, labels, series, _head("สถานะรายข้อ", "Status by item"),
                   percent=True, stacked=True, height=_bars_height(len(rows), 22))

    def scores(self, frame: pd.DataFrame) -> None:
        heads = [_head("หน่วยงาน", "Agency"), _head("ลำดับ", "Rank"),
                 _head("กระทรวง", "Ministry"), _head("คะแนนรายการตรวจ", "Checklist score"),
                 _head("คะแนน 7.2", "7.2 score")]
        ranked = frame.assign(_c=frame["checklist"].fillna(-math.inf),
                              _s=frame["score_72"].fillna(-math.inf)) \
            .sort_values(["_c", "_s", "agency_code"], ascending=[False, False, True],
                         kind="stable")
        shown: list[Any] = list(ranked.itertuples(index=False))  # rows of named columns
        # one rank rule with the agencies' pages: equal scores share a rank ("1, 1, 3")
        keys = list(zip(ranked["_c"], ranked["_s"], strict=True))
        picked = list(zip(competition_ranks(keys), shown, strict=True))
        listed = ranked_excerpt([rank for rank, _ in picked], RANKED_ALL // 2) \
            if len(picked) > RANKED_ALL else [(i, None) for i in range(len(picked))]
        note = None
        if len(listed) < len(picked) or any(more for _, more in listed):
            half = RANKED_ALL // 2
            note = (f"{half} อันดับแรกและ {half} อันดับสุดท้ายจาก {len(shown):,} หน่วยงาน "
                    f"/ the top {half} and the bottom {half} of {len(shown):,} agencies")
        self.section(_head("3. คะแนนรายหน่วยงาน", "Scores by agency"), heads, note)
        for index, more in listed:
            if more is not None:  # a cut: how many agencies not listed share that rank
                rank, count = more
                self._label_row(_head(f"… อีก {count:,} หน่วยงานได้ลำดับที่ {rank:,} เท่ากัน",
                                      f"{count:,} more agencies share rank {rank:,}"), "text")
                self.row += 1
                continue
            rank, row = picked[index]
            self._label_row(f"{row.agency_name} ({row.agency_code})", "text",
                            (row.ministry, 3))
            if pd.isna(row.checklist) and pd.isna(row.score_72):  # no score: no rank
                self.ws.write_blank(self.row, 2, None, self.f["count"])
            else:
                self.ws.write_number(self.row, 2, rank, self.f["count"])
            self.ws.write_string(self.row, 3, row.ministry, self.f["text"])
            for col, value in ((4, row.checklist), (5, row.score_72)):
                if value is None or pd.isna(value):
                    self.ws.write_blank(self.row, col, None, self.f["score"])
                else:
                    self.ws.write_number(self.row, col, float(value), self.f["score"])
            self.row += 1

        def header() -> None:
            self._label_row(_head("การกระจายของคะแนน", "Distribution"), "header",
                            (_head("คะแนนรายการตรวจ", "Checklist score"), 4),
                            (_head("คะแนน 7.2", "7.2 score"), 5))
            self.ws.write_string(self.row, 2, "", self.f["header"])
            self.ws.write_string(self.row, 3, "", self.f["header"])
            self.ws.write_string(self.row, 4, _head("คะแนนรายการตรวจ", "Checklist score"),
                                 self.f["header"])
            self.ws.write_string(self.row, 5, _head("คะแนน 7.2", "7.2 score"),
                                 self.f["header"])

        self._gap(2 * lines_height(2, 14))  # its header and a row at least below it
        self._table(header)
        stats = [distribution(frame["checklist"].tolist()),
                 distribution(frame["score_72"].tolist())]
        for key, words in STATS:
            self._label_row(_head(words.th, words.en), "text")
            kind = "count" if key == "n" else "score"
            self.ws.write_blank(self.row, 2, None, self.f["text"])
            self.ws.write_blank(self.row, 3, None, self.f["text"])
            for col, stat in enumerate(stats, start=4):
                value = stat[key]
                if value is None:
                    self.ws.write_blank(self.row, col, None, self.f[kind])
                else:
                    self.ws.write_number(self.row, col, value, self.f[kind])
            self.row += 1

    def quality(self, lines: list[tuple[Words, int]]) -> None:
        self.section(_head("4. คุณภาพข้อมูล", "Data quality"),
                     [_head("รายการ", "What"), _head("จำนวน", "Count")],
                     "รายละเอียดอยู่ในแผ่นงาน returns และ problems / details in the returns "
                     "and problems sheets")
        for words, count in lines:
            self._label_row(_head(words.th, words.en), "text")
            self.cells([(count, "count")])
            self.row += 1

    def previous(self, result: Consolidated, layouts: Sequence[Layout]) -> None:
        """Section 5: counts, the score changes' distribution, the items most changed."""
        counts = comparison(result)
        self.section(_head("5. เทียบกับรอบที่แล้ว", "Compared with the previous round"),
                     [_head("รายการ", "What"), _head("จำนวน", "Count")],
                     "รายละเอียดอยู่ในแผ่นงาน changes และ score_changes / details in the "
                     "changes and score_changes sheets")
        # the path given, wrapped within the tables' width (a note would run on across the
        # page, and a long one would shrink the whole printed sheet to fit it)
        year = Words(f" ปีงบประมาณ พ.ศ. {counts.year}", f", fiscal year {counts.year}") \
            if counts.year is not None else Words("", "")
        source = _head(f"ผลลัพธ์รอบที่แล้ว{year.th}",
                       f"Previous round{year.en}: {result.previous_source}")
        self.height(self.row, fit_height(source, _WIDTHS[:6], 14, 14))
        self.ws.merge_range(self.row, 0, self.row, 5, "", self.f["text"])
        self.ws.write_string(self.row, 0, source, self.f["text"])
        self.row += 1
        for words, count in previous_counts(counts):
            self._label_row(_head(words.th, words.en), "text")
            self.cells([(count, "count")])
            self.row += 1
        heads = [_head("ผลต่างของคะแนน (รอบนี้ - รอบที่แล้ว)", "Score change (now - before)"),
                 *(_head(w.th, w.en) for key, w in STATS if key in _CHANGE_STATS)]
        # a checklist score row only where a layout scores the checklist (none: no row of
        # zeros and blank quartiles)
        shown = [(Words("คะแนนรายการตรวจ", "Checklist score"), "checklist_score_change")] \
            if any(layout.rules.checklist_score is not None for layout in layouts) else []
        shown.append((Words("คะแนน 7.2", "7.2 score"), "score_72_change"))
        rows = [_head(w.th, w.en) for w, _ in shown]
        need = fit_height(heads[0], (_WIDTHS[0] + _WIDTHS[1],), 14, 14, bold=True) + sum(
            fit_height(r, (_WIDTHS[0] + _WIDTHS[1],), 14, 14) for r in rows)
        self._gap(need)  # the table does not fit below: a page of its own

        def header() -> None:
            self._label_row(heads[0], "header", *((h, c) for c, h in enumerate(heads[1:], 2)))
            for col, text in enumerate(heads[1:], start=2):
                self.ws.write_string(self.row, col, text, self.f["header"])

        self._table(header)
        frame = result.score_changes
        for words, column in shown:
            stats = distribution([None if pd.isna(v) else float(v) for v in frame[column]])
            self._label_row(_head(words.th, words.en), "text")
            self.cells([(stats[key], "count" if key == "n" else "score")
                        for key, _ in STATS if key in _CHANGE_STATS])
            self.row += 1
        items = changed_items(result.changes, layouts)
        heads = [_head("ข้อที่สถานะเปลี่ยนมากที่สุด", "Items changed most"),
                 _head("ดีขึ้น", "Improved"), _head("ลดลง", "Fell")]
        self.section(_head("6. ข้อที่สถานะเปลี่ยนจากรอบที่แล้วมากที่สุด",
                           "Items whose status changed most"), heads,
                     f"{CHANGED_ITEMS} ข้อแรก เรียงตามจำนวนหน่วยงานที่สถานะเปลี่ยน / the first "
                     f"{CHANGED_ITEMS}, by the agencies whose status changed")
        if not items:
            self._label_row(_head("ไม่มีข้อที่สถานะเปลี่ยน", "no status changed"), "text")
            self.row += 1
        for item_id, topic, up, down in items:
            self._label_row(f"ข้อ {item_id} {topic}".strip(), "text")
            self.cells([(up, "count"), (down, "count")])
            self.row += 1

    def chart(self, kind: str, first: int, labels: list[str],
              series: list[tuple[int, list[float]]], title: str, *, percent: bool = False,
              stacked: bool = False, height: int) -> None:
        """A native chart of the table just written, from its row ``first`` on, placed below
        it: its categories are the label cells (column A), with their text cached. Where the
        table went on over a page, its header written again there is left out: the chart's
        ranges are then the runs of rows between (a range of several areas, which Excel
        writes as ``(summary!$A$5:$A$30,summary!$A$32:$A$40)``)."""
        rows = [r for r in range(first, self.row) if r not in self.repeated][:len(labels)]
        runs: list[tuple[int, int]] = []
        for r in rows:
            if runs and runs[-1][1] == r - 1:
                runs[-1] = (runs[-1][0], r)
            else:
                runs.append((r, r))

        def cells(col: int) -> str | list[Any]:
            if len(runs) == 1:  # one area, as a list (what xlsxwriter writes the same)
                return ["summary", runs[0][0], col, runs[0][1], col]
            return "=(" + ",".join(f"summary!{xl_range_abs(a, col, b, col)}"
                                   for a, b in runs) + ")"

        chart = self.workbook.add_chart({"type": kind, **({"subtype": "percent_stacked"}
                                                          if stacked else {})})
        for col, values in series:
            chart.add_series({
                "name": ["summary", self.header, col],
                "categories": cells(0),
                "values": cells(col),
                "categories_data": labels, "values_data": values, "gap": 40,
            })
        font = {"name": _FONT["font_name"], "size": 12}
        chart.set_title({"name": title, "name_font": {**font, "size": 14}})
        chart.set_legend({"position": "bottom", "font": font} if len(series) > 1
                         else {"none": True})
        chart.set_y_axis({"reverse": True, "num_font": font})
        chart.set_x_axis({"num_font": font, "num_format": "0%", "max": 1, "min": 0}
                         if percent else {"num_font": font})
        chart.set_size({"width": _CHART_PX[0], "height": height})
        line = lines_height(1, _FONT["font_size"])
        covered = math.ceil(height * _PT_PER_PX / line)  # the rows under the chart
        self._gap(covered * line)  # the chart does not fit below: a page of its own
        self.ws.insert_chart(self.row, 0, chart, {"object_position": 3})
        self.row += covered

    def finish(self) -> None:
        self.ws.set_h_pagebreaks(self.breaks)
