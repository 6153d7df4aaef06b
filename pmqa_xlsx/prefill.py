"""The next round from this one: a previous round's indicators, read and mapped onto a new form.

``load_previous`` reads LAST, what ``merge`` wrote for a previous round: its consolidated
workbook (the ``indicators`` sheet), its CSV folder (``indicators.csv``) or its Parquet folder
(``indicators.parquet``). LAST is our own output but may have been edited by hand, so it is
read as untrusted: the file's size, its rows and the zip's members are bounded (the CSV is
streamed), a DOCTYPE is refused, no formula is evaluated (a formula cell is not carried), text
stays text (the CSV writer's ``'`` before a formula-like text is taken off again) and numbers
must be finite (typed by hand as ``1,234.5`` or in Thai digits, they are read as numbers). A
LAST that is not ours, lacks a column or is too big raises ``PrefillError`` (Thai and
English) before anything is written. Of two rows for one indicator, or the rows of two files
for one agency, the first in LAST is kept and the others are ``Skipped`` (reported).

``plan_prefill`` maps each roster agency's rows onto the new cell map by table id and row id
(``IndicatorRow.table_id``/``item_id``): name, unit, direction, and each ``result_<BE year>``
that is also a result year of the new sheet, never its target year. An agency whose code lost
its leading zeros in LAST (a CSV saved again by a spreadsheet application) is found when only
one roster code can be meant (``identity.without_zeros``). Everything else is a row of the
report (``REPORT_COLUMNS``): carried or not, and why not. A LAST whose round is not before
the new form's fiscal year, or a plan that would carry nothing at all, raises
``PrefillError``; ``summary`` warns when no result year of LAST is one the form carries.
"""

from __future__ import annotations

import csv
import math
import os
import re
import zipfile
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cellmap import CellMap
from .errors import PmqaError
from .identity import normalise_code, without_zeros
from .outputs import CSV_FORMULA_PREFIXES, number_text
from .roster import Agency
from .values import parse_number
from .words import Words

REPORT_NAME = "prefill-report.csv"
REPORT_COLUMNS = ("agency_code", "table_id", "row", "item_id", "field", "year", "value",
                  "carried", "reason_th", "reason_en")
#: The columns LAST's indicators must have (result_<year> columns come on top).
REQUIRED_COLUMNS = ("agency_code", "table_id", "item_id", "indicator", "unit", "direction")
MAX_LAST_BYTES = 200 * 1024 * 1024  # a consolidated workbook of 8,000 agencies is ~60 MB
MAX_LAST_ROWS = 1_048_576
MAX_TEXT = 32_767  # Excel's limit for one cell
_ZIP_MEMBERS = 200
_ZIP_RATIO = 200
_RESULT = re.compile(r"result_(\d{4})")
_PLAIN_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
#: The columns of LAST that are read (result_<year> columns on top).
_READ_COLUMNS = (*REQUIRED_COLUMNS, "row", "target_year", "file")

#: The note on every carried cell ({year}: the previous round's target year).
NOTE = Words("ยกมาจากรอบที่แล้ว ({year}): ตรวจสอบหรือแก้ไข",
             "carried over from the previous round ({year}): check or correct it")

#: The line a pre-filled workbook's instructions sheet (and the print header of each sheet
#: with carried cells) gives them ({years}: `` (พ.ศ. 2562)``, the previous round's target
#: years, or nothing when LAST does not say). Thai only: the workbook is the agency's.
LEGEND = "ช่องสีเขียวอ่อน = ค่าที่ยกมาจากรอบที่แล้ว{years} ตรวจสอบ แล้วแก้ไขถ้าไม่ถูกต้อง"


class PrefillError(PmqaError):
    """LAST cannot be read as a previous round's output."""

    words: Words  # every one is raised with its Words


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviousRow:
    """One indicator row of LAST: where it was (agency, table, row id), what it said."""

    agency_code: str
    table_id: str
    item_id: str
    row: str
    texts: dict[str, Any]  # "name", "unit", "direction": str, or a Refused value
    results: dict[int, Any]  # BE year -> float, or a Refused value
    round_year: int | None  # the previous round's target year
    line: int = 0  # its row in LAST as a spreadsheet numbers it (the header is row 1)


@dataclass(frozen=True, slots=True)
class Refused:
    """A value of LAST that cannot be carried: ``why`` says so."""

    shown: str
    why: Words


@dataclass(frozen=True, slots=True, kw_only=True)
class Skipped:
    """A row of LAST that is not carried because another row says the same thing first: a
    second row for one indicator, or the rows of a second file (return) for one agency."""

    agency_code: str
    table_id: str
    item_id: str
    row: str
    why: Words


@dataclass(frozen=True, slots=True, kw_only=True)
class Previous:
    """LAST's indicator rows, by normalised agency code, and the rows skipped (by code)."""

    source: Path
    rows: dict[str, list[PreviousRow]]
    years: tuple[int, ...]  # the result years LAST has columns for
    skipped: dict[str, list[Skipped]] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class AgencyPrefill:
    """What goes into one agency's workbook: (item id, field id) -> value, and the previous
    round's year of each carried cell (for its note)."""

    answers: dict[tuple[str, str], Any] = field(default_factory=dict)
    years: dict[tuple[str, str], int | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Prefill:
    """The plan for a roster: each agency's values, the report rows, the agencies not in LAST."""

    agencies: dict[str, AgencyPrefill]
    report: list[tuple[Any, ...]]
    missing: tuple[str, ...]  # roster codes with no row in LAST
    not_in_roster: tuple[str, ...]  # codes of LAST not in the roster
    form_years: tuple[int, ...] = ()  # the result years the new form may carry (not its target's)

    @property
    def carried(self) -> int:
        return sum(len(a.answers) for a in self.agencies.values())

    @property
    def not_asked(self) -> int:
        """Values of LAST the new form does not ask for (a year, a row, a table, a column)."""
        return sum(1 for r in self.report if r[7] == "no" and r[4] and r[9] in _NOT_ASKED)

    @property
    def not_carried(self) -> int:
        """Values the new form asks for that could not be carried (refused, out of range)."""
        return sum(1 for r in self.report if r[7] == "no" and r[4] and r[9] not in _NOT_ASKED)


def load_previous(path: str | os.PathLike[str], codes: Collection[str] | None = None
                  ) -> Previous:
    """Read LAST (a consolidated .xlsx, or a folder holding indicators.csv or
    indicators.parquet): PrefillError if it is not what merge writes.

    With ``codes`` (a roster's, normalised), only the rows of those agencies are kept (and of
    codes that are one of them without leading zeros: see ``plan_prefill``); the other codes
    of LAST are listed with no rows, for the report. It saves memory when the roster is a
    part of the previous round (all of LAST is still read and checked)."""
    source = Path(path)
    if source.is_dir():
        if (source / "indicators.parquet").is_file():
            header, records = _parquet(source / "indicators.parquet")
        elif (source / "indicators.csv").is_file():
            header, records = _csv(source / "indicators.csv")
        else:
            raise PrefillError(Words(
                f"{source}: ไม่พบไฟล์ indicators.csv หรือ indicators.parquet ในโฟลเดอร์นี้ "
                "ให้ระบุโฟลเดอร์ที่คำสั่ง merge --csv หรือ --parquet เขียนไว้",
                f"{source}: holds no indicators.csv or indicators.parquet; give the folder "
                "merge --csv or --parquet wrote"))
    elif source.is_file() and source.suffix.lower() == ".xlsx":
        header, records = _workbook(source)
    else:
        raise PrefillError(Words(
            f"{source}: ไม่ใช่ไฟล์รวมผล (.xlsx) หรือโฟลเดอร์ CSV/Parquet ที่คำสั่ง merge เขียน",
            f"{source}: not a consolidated workbook (.xlsx) nor a CSV or Parquet folder "
            "written by merge"))
    return _rows(source, header, records, codes)


def plan_prefill(cellmap: CellMap, previous: Previous, agencies: Sequence[Agency]) -> Prefill:
    """Map LAST's rows of each roster agency onto ``cellmap``'s indicator rows.

    An agency is found in LAST by its code; failing that, by the same code without its
    leading zeros (``3005`` for ``03005``: a spreadsheet application that opened LAST may
    have read the codes as numbers), when that is one roster agency's and one code of LAST's
    only. Of two rows for one indicator the first in LAST is carried (``Skipped``); each is
    reported.

    Raises:
        PrefillError: LAST's round is of the new round's fiscal year or a later one (its
            ``target_year``: the next round is the year after, given with --year); or
            nothing at all would be carried (no roster agency in LAST, or none of
            its values fits this form): LAST is then another round's, ministry's or form's.
    """
    _check_round_year(previous, cellmap.year)
    by_id = {(r.table_id, r.item_id): r for r in cellmap.indicator_rows}
    tables = {r.table_id for r in cellmap.indicator_rows}
    report: list[tuple[Any, ...]] = []
    plans: dict[str, AgencyPrefill] = {}
    missing: list[str] = []
    found = _codes_in_last(previous, [a.code for a in agencies])
    for agency in agencies:
        last_code, why = found.get(agency.code, (None, None))
        rows = previous.rows.get(last_code) if last_code is not None else None
        if why is not None:
            report.append((agency.code, "", "", "", "", "", last_code or "",
                           "yes" if rows else "no", why.th, why.en))
        if not rows:
            missing.append(agency.code)
            if why is None:
                report.append((agency.code, "", "", "", "", "", "", "no", *_MISSING))
            continue
        assert last_code is not None
        plan = plans.setdefault(agency.code, AgencyPrefill())
        for row in rows:
            _map_row(agency.code, row, by_id.get((row.table_id, row.item_id)),
                     row.table_id in tables, plan, report)
        for skipped in previous.skipped.get(last_code, ()):
            report.append((agency.code, skipped.table_id, skipped.row, skipped.item_id, "", "",
                           "", "no", skipped.why.th, skipped.why.en))
        if not plan.answers:
            del plans[agency.code]
    used = {code for code, _ in found.values() if code is not None}
    extra = tuple(sorted(set(previous.rows) - used))
    for code in extra:
        report.append((code, "", "", "", "", "", "", "no", *_NOT_IN_ROSTER))
    form_years = sorted({c.year for r in cellmap.indicator_rows for f, c in r.cells.items()
                         if f.startswith("result_") and c.year is not None
                         and c.year != r.cells["target"].year})
    prefill = Prefill(agencies=plans, report=report, missing=tuple(missing),
                      not_in_roster=extra, form_years=tuple(form_years))
    if not plans:
        raise _nothing_carried(previous, prefill, [a.code for a in agencies])
    return prefill


def summary(prefill: Prefill, previous: Previous) -> Words:
    """A few lines for the command line: how much was carried, and for whom not."""
    agencies = len(prefill.agencies)
    th = [f"ยกค่าจากรอบที่แล้ว ({previous.source.name}) {prefill.carried} ช่อง "
          f"ให้ {agencies} หน่วยงาน (ดู {REPORT_NAME})"]
    en = [f"carried {prefill.carried} cells from {previous.source.name} into {agencies} "
          f"agencies' workbooks (see {REPORT_NAME})"]
    if prefill.not_asked:
        th.append(f"ไม่ได้ยก {prefill.not_asked} ค่าที่แบบฟอร์มรอบใหม่ไม่ได้ถาม (เช่น ปีที่ไม่มีในแบบฟอร์ม"
                  "ใหม่ หรือปีเป้าหมายที่หน่วยงานกรอกเอง)")
        en.append(f"{prefill.not_asked} values not carried because the new form does not ask "
                  "for them (e.g. a year it has no column for, or its target year)")
    if prefill.not_carried:
        th.append(f"ยกไม่ได้ {prefill.not_carried} ค่าที่แบบฟอร์มรอบใหม่ถาม (ค่าไม่ถูกต้องหรืออยู่นอกช่วง"
                  f"ที่รับ): หน่วยงานต้องกรอกเอง (ดูเหตุผลใน {REPORT_NAME})")
        en.append(f"{prefill.not_carried} values the new form asks for could not be carried "
                  f"(not valid, or outside what it accepts): the agencies type them (see the "
                  f"reasons in {REPORT_NAME})")
    if prefill.form_years and not set(prefill.form_years) & set(previous.years):
        theirs = ", ".join(str(y) for y in previous.years)
        ours = ", ".join(str(y) for y in prefill.form_years)
        th.append(f"คำเตือน: รอบที่แล้วมีผลของปี {theirs} แต่แบบฟอร์มรอบใหม่ถามผลของปี {ours} "
                  "ไม่มีปีใดตรงกัน จึงยกได้เฉพาะชื่อตัวชี้วัด หน่วยนับ และทิศทาง ตรวจสอบว่า --year "
                  "และไฟล์ของรอบที่แล้วถูกต้อง")
        en.append(f"warning: the previous round has results for {theirs} but the new form "
                  f"asks for {ours}: no year is in both, so only names, units and directions "
                  "were carried; check --year and LAST")
    skipped = sum(1 for r in prefill.report if r[7] == "no" and r[1] and not r[4])
    if skipped:
        th.append(f"รอบที่แล้วมีแถวซ้ำ {skipped} แถว: ใช้แถวที่มาก่อน (ดู {REPORT_NAME})")
        en.append(f"{skipped} rows of the previous round repeat an earlier one: the first is "
                  f"carried (see {REPORT_NAME})")
    zeros = sum(1 for r in prefill.report if r[7] == "yes" and not r[1])
    if zeros:
        th.append(f"พบ {zeros} หน่วยงานด้วยรหัสที่ไม่มีเลข 0 นำหน้า (ดู {REPORT_NAME})")
        en.append(f"{zeros} agencies found by their code without its leading zeros (see "
                  f"{REPORT_NAME})")
    if prefill.missing:
        shown = ", ".join(prefill.missing[:10]) + (" …" if len(prefill.missing) > 10 else "")
        th.append(f"รอบที่แล้วไม่มีข้อมูลที่นับได้ของ {len(prefill.missing)} หน่วยงาน (ไม่ได้ส่ง หรือส่งแล้ว"
                  f"นับไม่ได้; ได้แบบฟอร์มว่าง): {shown}")
        en.append(f"{len(prefill.missing)} agencies have no counted return in the previous "
                  f"round (none sent, or not counted; blank workbooks): {shown}")
    return Words("\n".join(th), "\n".join(en))


# --------------------------------------------------------------------------------------------
# Private: mapping
# --------------------------------------------------------------------------------------------

#: LAST's indicators hold counted returns only: an agency without rows there may have sent
#: nothing, or a return that was not counted (empty, rejected).
_MISSING = ("รอบที่แล้วไม่มีข้อมูลที่นับได้ของหน่วยงานนี้ (ไม่ได้ส่ง หรือส่งแล้วนับไม่ได้): ได้แบบฟอร์มว่าง",
            "no counted return of this agency in the previous round (none sent, or not "
            "counted): its workbook is blank")
_NOT_IN_ROSTER = ("หน่วยงานนี้ไม่อยู่ในรายชื่อหน่วยงานของรอบใหม่",
                  "the agency is not on the new round's roster")
_NO_TABLE = Words("ไม่มีตารางนี้ในแบบฟอร์มรอบใหม่", "the new form has no such table")
_NO_ROW = Words("ไม่มีแถวนี้ในแบบฟอร์มรอบใหม่", "the new form's table has no such row")
_NO_FIELD = Words("แบบฟอร์มรอบใหม่ไม่มีคอลัมน์นี้", "the new form has no such column")
_NO_YEAR = Words("แบบฟอร์มรอบใหม่ไม่มีปีนี้", "the new form asks for no result of this year")
_TARGET_YEAR = Words("เป็นปีเป้าหมายของรอบใหม่: หน่วยงานกรอกเอง",
                     "the new round's target year: the agency reports it anew")
_NOT_CHOICE = Words("ไม่ตรงกับตัวเลือกทิศทางของแบบฟอร์มรอบใหม่",
                    "not one of the new form's directions")
_NOT_ACCEPTED = Words("ค่านี้อยู่นอกช่วงที่แบบฟอร์มรอบใหม่รับ",
                      "outside what the new form's cell accepts")
#: The reasons (English) that say the new form does not ask for a value (not a failure).
_NOT_ASKED = frozenset(w.en for w in (_NO_TABLE, _NO_ROW, _NO_FIELD, _NO_YEAR, _TARGET_YEAR))
_TEXT_FIELDS = (("name", "indicator"), ("unit", "unit"), ("direction", "direction"))


def _map_row(code: str, row: PreviousRow, new: Any, table_known: bool, plan: AgencyPrefill,
             report: list[tuple[Any, ...]]) -> None:
    def note(fld: str, year: Any, value: Any, why: Words | None) -> None:
        shown = value.shown if isinstance(value, Refused) else value
        if isinstance(shown, float):
            shown = number_text(shown)  # 108, as indicators.csv has it, not 108.0
        report.append((code, row.table_id, row.row, row.item_id, fld,
                       "" if year is None else year, "" if shown is None else shown,
                       "no" if why else "yes", why.th if why else "", why.en if why else ""))

    values: list[tuple[str, str, int | None, Any]] = [
        (fld, column, None, row.texts.get(fld)) for fld, column in _TEXT_FIELDS]
    values += [(f"result_{y}", f"result_{y}", y, v) for y, v in sorted(row.results.items())]
    for fld, column, year, value in values:
        if value is None or value == "":
            continue
        if isinstance(value, Refused):
            note(column, year, value, value.why)
            continue
        if new is None:
            note(column, year, value, _NO_ROW if table_known else _NO_TABLE)
            continue
        cell, why = _cell_for(new, fld, year, value)
        if why is not None:
            note(column, year, value, why)
            continue
        plan.answers[(new.item_id, cell)] = value
        plan.years[(new.item_id, cell)] = row.round_year
        note(column, year, value, None)


def _codes_in_last(previous: Previous, roster: Sequence[str]
                   ) -> dict[str, tuple[str | None, Words | None]]:
    """For each roster code: the code of LAST its rows are under (None: not in LAST), and a
    note for the report when it is not the same code (leading zeros lost) or may be two."""
    bare = without_zeros
    out: dict[str, tuple[str | None, Words | None]] = {}
    exact = {c for c in roster if c in previous.rows}
    last_bare: dict[str, list[str]] = {}
    for code in previous.rows:
        if (key := bare(code)) is not None:
            last_bare.setdefault(key, []).append(code)
    roster_bare: dict[str, list[str]] = {}
    for code in roster:
        if (key := bare(code)) is not None:
            roster_bare.setdefault(key, []).append(code)
    for code in roster:
        if code in exact:
            out[code] = (code, None)
            continue
        key = bare(code)
        # a code of LAST that is this one without some leading zeros, and not a roster code
        shorter = [c for c in last_bare.get(key, []) if len(c) < len(code)
                   and c not in exact] if key is not None else []
        if not shorter or key is None:  # (no key: nothing shorter either)
            continue
        rivals = [c for c in roster_bare.get(key, []) if c != code]
        if len(shorter) == 1 and not rivals:
            out[code] = (shorter[0], Words(
                f"ในรอบที่แล้วรหัสของหน่วยงานนี้เป็น {shorter[0]} (เลข 0 นำหน้าหายไป เช่น เมื่อ"
                "เปิดไฟล์ด้วยโปรแกรมตารางคำนวณแล้วบันทึกอีกครั้ง): ถือเป็นหน่วยงานเดียวกัน",
                f"the previous round has this agency's code as {shorter[0]} (its leading "
                "zeros lost, e.g. by a spreadsheet application that saved the file again): "
                "taken as the same agency"))
        else:
            both = ", ".join(sorted({*shorter, *rivals}))
            out[code] = (None, Words(
                f"ไม่พบรหัสนี้ในรอบที่แล้ว และรหัสที่ไม่มีเลข 0 นำหน้าอาจเป็นของหลายหน่วยงาน "
                f"({both}) จึงไม่ได้ยกค่า: ได้แบบฟอร์มว่าง แก้รหัสในไฟล์รอบที่แล้วให้ตรงกับรายชื่อ",
                f"this code is not in the previous round, and without leading zeros it may be "
                f"several agencies' ({both}): nothing carried, its workbook is blank; correct "
                "the codes of the previous round's file to the roster's"))
    return out


def _check_round_year(previous: Previous, year: int) -> None:
    """Refuse a LAST whose round is not before the new round's fiscal year ``year``."""
    years = sorted({r.round_year for rows in previous.rows.values() for r in rows
                    if r.round_year is not None})
    if not years or years[-1] < year:
        return
    shown = ", ".join(str(y) for y in years)
    raise PrefillError(Words(
        f"{previous.source}: รอบที่แล้วเป็นปีงบประมาณ พ.ศ. {shown} แต่รอบใหม่เป็นปี {year} "
        "ซึ่งไม่ได้อยู่หลังรอบที่แล้ว จึงไม่ได้เขียนแบบฟอร์ม ระบุปีของรอบใหม่ด้วย --year "
        f"(เช่น --year {years[-1] + 1})",
        f"{previous.source}: the previous round is of fiscal year {shown} (BE) but the new "
        f"round is of {year}, which does not come after it, so nothing was written; give the "
        f"new round's year with --year (e.g. --year {years[-1] + 1})"))


def _nothing_carried(previous: Previous, prefill: Prefill, roster: Sequence[str]
                     ) -> PrefillError:
    source = previous.source
    if len(prefill.missing) == len(roster):
        ours = ", ".join(roster[:3])
        theirs = ", ".join(sorted(previous.rows)[:3]) or "-"
        return PrefillError(Words(
            f"{source}: ไม่พบหน่วยงานใดในรายชื่อเลย (รายชื่อมีรหัส เช่น {ours}; รอบที่แล้วมีรหัส "
            f"เช่น {theirs}) จึงไม่ได้เขียนแบบฟอร์ม ตรวจสอบว่าระบุไฟล์ของรอบที่แล้วและรายชื่อถูกต้อง",
            f"{source}: no roster agency is in it (the roster has codes such as {ours}; the "
            f"previous round has {theirs}), so nothing was written; check that LAST and the "
            "roster are the right ones"))
    reasons: dict[str, int] = {}
    for row in prefill.report:
        if row[7] == "no" and row[4]:
            reasons[row[9]] = reasons.get(row[9], 0) + 1
    worst = sorted(reasons.items(), key=lambda kv: -kv[1])[:3]
    th = {r[9]: r[8] for r in prefill.report}
    return PrefillError(Words(
        f"{source}: ไม่มีค่าใดยกเข้าแบบฟอร์มนี้ได้ ("
        + "; ".join(f"{th[en]} {n} ค่า" for en, n in worst)
        + ") จึงไม่ได้เขียนแบบฟอร์ม ตรวจสอบไฟล์แม่แบบ (--layout) และปี (--year)",
        f"{source}: none of its values fits this form ("
        + "; ".join(f"{en}: {n}" for en, n in worst)
        + "), so nothing was written; check --layout and --year"))


def _cell_for(new: Any, fld: str, year: int | None, value: Any) -> tuple[str, Words | None]:
    """The field of the new row that takes ``value``, or why none does."""
    if year is None:
        cell = new.cells.get(fld)
        if cell is None:
            return fld, _NO_FIELD
        if cell.choices and value not in cell.choices:
            return fld, _NOT_CHOICE
        return fld, None
    if new.cells["target"].year == year:
        return "", _TARGET_YEAR
    found = next((f for f, c in new.cells.items()
                  if f.startswith("result_") and c.year == year), None)
    if found is None:
        return "", _NO_YEAR
    rule = new.cells[found].number
    if rule is not None and not rule.accepts(value):
        return found, _NOT_ACCEPTED
    return found, None


# --------------------------------------------------------------------------------------------
# Private: reading LAST's three forms
# --------------------------------------------------------------------------------------------


def _not_ours(source: Path, th: str, en: str) -> PrefillError:
    return PrefillError(Words(f"{source}: {th} ให้ระบุผลของคำสั่ง merge ของรอบที่แล้ว",
                              f"{source}: {en}; give what merge wrote for the previous round"))


def _size(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _not_ours(path, "เปิดไฟล์ไม่ได้", f"cannot open it ({exc.strerror})") from exc
    if size > MAX_LAST_BYTES:
        raise _not_ours(path, f"ไฟล์ใหญ่เกิน {MAX_LAST_BYTES // 2**20} MB",
                        f"larger than {MAX_LAST_BYTES // 2**20} MB")


def _csv(path: Path) -> tuple[list[str], Iterator[list[Any]]]:
    """The header and the rows of a CSV, read as they are used (never the whole file in
    memory as text); the rows' iterator closes the file when closed or used up."""
    _size(path)
    csv.field_size_limit(MAX_TEXT + 16)
    lines = _csv_lines(path)
    header = next(lines)  # the generator has started: closing it now closes the file
    return header, lines


def _csv_lines(path: Path) -> Iterator[list[Any]]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise _not_ours(path, "เปิดไฟล์ไม่ได้", f"cannot open it ({exc.strerror})") from exc
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise _not_ours(path, "ไฟล์ว่าง", "the file is empty")
            yield header
            for n, row in enumerate(reader, start=1):
                if n > MAX_LAST_ROWS:
                    raise _too_many(path)
                yield _uncsv(row)
        except UnicodeDecodeError as exc:
            raise _not_ours(path, "ไม่ใช่ไฟล์ CSV แบบ UTF-8 (ถ้าบันทึกด้วย Excel ให้เลือกชนิดไฟล์ "
                            "CSV UTF-8)", "not a UTF-8 CSV file (saved from Excel: choose "
                            "CSV UTF-8)") from exc
        except csv.Error as exc:
            raise _not_ours(path, f"อ่านเป็น CSV ไม่ได้ ({exc})",
                            f"not readable as CSV ({exc})") from exc


def _too_many(path: Path) -> PrefillError:
    return _not_ours(path, f"มีแถวเกิน {MAX_LAST_ROWS:,} แถว", f"more than {MAX_LAST_ROWS:,} rows")


def _uncsv(row: list[str]) -> list[Any]:
    """A CSV row's fields as written: '' is blank, a ``'`` the writer put before formula-like
    text is taken off (numbers were written as plain digits, never so prefixed)."""
    out: list[Any] = []
    for value in row:
        if value == "":
            out.append(None)
        elif value.startswith("'") and value[1:].startswith(CSV_FORMULA_PREFIXES):
            out.append(value[1:])
        else:
            out.append(value)
    return out


def _parquet(path: Path) -> tuple[list[str], Iterator[list[Any]]]:
    _size(path)
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise PrefillError(Words("การอ่านไฟล์ Parquet ต้องใช้ pyarrow: pip install pyarrow",
                                 "reading Parquet needs pyarrow: pip install pyarrow")) from exc
    try:
        parquet = pq.ParquetFile(path)
        if parquet.metadata.num_rows > MAX_LAST_ROWS:
            raise _too_many(path)
        names = list(parquet.schema_arrow.names)
        wanted = [n for n in names if n in _READ_COLUMNS or _RESULT.fullmatch(n)]
        table = parquet.read(columns=wanted)  # only what is carried: not its other columns
    except PrefillError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of a damaged file is the same answer
        raise _not_ours(path, "อ่านเป็นไฟล์ Parquet ไม่ได้", "not readable as Parquet") from exc
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return list(table.column_names), ([c[i] for c in columns] for i in range(table.num_rows))


def _workbook(path: Path) -> tuple[list[str], Iterator[list[Any]]]:
    book = open_last_workbook(path)
    lines = _sheet_lines(path, book)
    header = next(lines)  # started: closing it now closes the sheet and the workbook
    return header, lines


def _sheet_lines(path: Path, book: Any) -> Iterator[list[Any]]:
    """The header and rows of LAST's indicators sheet, read as they are used; the sheet's
    stream and the workbook are closed when the iterator is closed or used up."""
    rows = None
    try:
        if "indicators" not in book.sheetnames:
            raise _not_ours(path, "ไม่มีแผ่นงาน indicators", "has no indicators sheet")
        rows = book["indicators"].iter_rows()
        first = next(rows, None)
        if first is None:
            raise _not_ours(path, "แผ่นงาน indicators ว่าง", "its indicators sheet is empty")
        yield [str(c.value) if c.value is not None else "" for c in first]
        for n, cells in enumerate(rows, start=1):
            if n > MAX_LAST_ROWS:
                raise _too_many(path)
            yield [_xlsx_value(c) for c in cells]
    except PrefillError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged sheet part
        raise _not_ours(path, "อ่านแผ่นงาน indicators ไม่ได้", "cannot read its indicators sheet") \
            from exc
    finally:
        if rows is not None:
            rows.close()  # its open stream of the sheet's part (a row cut short leaves it open)
        book.close()


def _xlsx_value(cell: Any) -> Any:
    """A cell's stored value; a formula is never evaluated nor carried."""
    if getattr(cell, "data_type", None) == "f":
        return Refused(str(cell.value)[:80], Words("เป็นสูตร ไม่ใช่ค่าที่กรอก",
                                                   "a formula, not a value typed"))
    return cell.value


def _rows(source: Path, header: list[str], records: Iterator[list[Any]],
          codes: Collection[str] | None = None) -> Previous:
    try:
        return _read_rows(source, header, records, codes)
    finally:
        close = getattr(records, "close", None)
        if close is not None:
            close()  # a CSV left unread is closed now


def _read_rows(source: Path, header: list[str], records: Iterable[list[Any]],
               codes: Collection[str] | None) -> Previous:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    years = [(i, int(m.group(1))) for i, c in enumerate(header)
             if (m := _RESULT.fullmatch(c or ""))]
    if missing or not years:
        th, en = (", ".join(missing), ", ".join(missing)) if missing else ("result_<ปี>",
                                                                           "result_<year>")
        raise _not_ours(source, f"ไม่มีคอลัมน์ {th} ของตารางตัวชี้วัด",
                        f"lacks the indicators' column(s) {en}")
    at = {c: header.index(c) for c in _READ_COLUMNS if c in header}
    out: dict[str, list[PreviousRow]] = {}
    skipped: dict[str, list[Skipped]] = {}
    seen: dict[tuple[str, str, str], int] = {}  # (code, table, row id) -> its line in LAST
    first_file: dict[str, Any] = {}  # an agency with two returns counted: the first one's rows
    other_files: set[tuple[str, Any]] = set()
    wanted = None if codes is None else {*codes, *(b for c in codes if (b := without_zeros(c)))}
    width = len(header)
    for line, record in enumerate(records, start=2):
        record = list(record) + [None] * (width - len(record))
        code = _text(record[at["agency_code"]])
        table, item = _text(record[at["table_id"]]), _text(record[at["item_id"]])
        if not isinstance(code, str) or not code or not isinstance(table, str) \
                or not isinstance(item, str):
            continue
        code = normalise_code(code)
        if wanted is not None and code not in wanted and without_zeros(code) not in wanted:
            out.setdefault(code, [])  # not the roster's: listed for the report, not kept
            continue
        row_id = str(_text(record[at["row"]]) or "") if "row" in at else ""
        source_file = _text(record[at["file"]]) if "file" in at else None
        kept_file = first_file.setdefault(code, source_file)
        if kept_file != source_file:
            if (code, source_file) not in other_files:  # said once per file
                other_files.add((code, source_file))
                skipped.setdefault(code, []).append(Skipped(
                    agency_code=code, table_id=table, item_id=item, row=row_id, why=Words(
                        f"รอบที่แล้วมีข้อมูลของหน่วยงานนี้จากอีกไฟล์ ({_shown(source_file)}; แถวที่ "
                        f"{line} ของไฟล์เป็นต้นไป): ใช้ของไฟล์ {_shown(kept_file)} ซึ่งมาก่อน",
                        f"the previous round has this agency's rows from a second file "
                        f"({_shown(source_file)}, from row {line} of LAST): those of "
                        f"{_shown(kept_file)}, which come first, are carried")))
            continue
        key = (code, table, item)
        if key in seen:  # a row given twice (an edited LAST): the first is kept
            skipped.setdefault(code, []).append(Skipped(
                agency_code=code, table_id=table, item_id=item, row=row_id, why=Words(
                    f"แถวซ้ำ: ตัวชี้วัดนี้มีอีกแถวในรอบที่แล้ว (แถวที่ {line} ของไฟล์) ใช้แถวที่ "
                    f"{seen[key]} ซึ่งมาก่อน",
                    f"a second row for this indicator in the previous round (row {line} of "
                    f"LAST): row {seen[key]}, the first, is carried")))
            continue
        seen[key] = line
        texts = {fld: _text(record[at[column]]) for fld, column in _TEXT_FIELDS}
        results = {year: _number(record[i]) for i, year in years}
        out.setdefault(code, []).append(PreviousRow(
            agency_code=code, table_id=table, item_id=item, row=row_id,
            texts=texts, results={y: v for y, v in results.items() if v is not None},
            round_year=_year(record[at["target_year"]]) if "target_year" in at else None,
            line=line))
    return Previous(source=source, rows=out, years=tuple(y for _, y in years),
                    skipped=skipped)


def _shown(value: Any) -> str:
    text = str(value) if value is not None else "-"
    return text if len(text) <= 80 else text[:79] + "…"


def _text(value: Any) -> Any:
    if value is None or isinstance(value, Refused):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if len(text) > MAX_TEXT:
        return Refused(text[:80] + "…", Words("ข้อความยาวเกินที่ช่องหนึ่งรับได้",
                                              "longer than a cell holds"))
    return text.strip() or None


def _number(value: Any) -> Any:
    if value is None or isinstance(value, Refused):
        return value
    if isinstance(value, bool):
        return Refused(str(value), Words("ไม่ใช่ตัวเลข", "not a number"))
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        if not text:
            return None
        # as merge writes numbers (plain ASCII, an exponent for the very large or small), or
        # as a person types them into a LAST opened in a spreadsheet ("1,234.5", Thai digits)
        typed = float(text) if _PLAIN_NUMBER.fullmatch(text) else parse_number(text)
        if typed is None:
            return Refused(text[:80], Words("ไม่ใช่ตัวเลข", "not a number"))
        number = typed
    if not math.isfinite(number):
        return Refused(str(value), Words("ไม่ใช่ตัวเลข", "not a number"))
    return number


def _year(value: Any) -> int | None:
    number = _number(value)
    return int(number) if isinstance(number, float) and number.is_integer() else None



# --------------------------------------------------------------------------------------------
# Public for previous.py (merge --previous): LAST's other tables, read the same safe way
# --------------------------------------------------------------------------------------------


def read_last_csv(path: Path) -> tuple[list[str], Iterator[list[Any]]]:
    """A CSV table of LAST: its header and rows, streamed (bounded, text as text, ``'`` taken
    off); close the rows' iterator if it is not used up."""
    return _csv(path)


def check_last_size(path: Path) -> None:
    """PrefillError if LAST's file cannot be opened or is larger than MAX_LAST_BYTES."""
    _size(path)


def not_ours(source: Path, th: str, en: str) -> PrefillError:
    """The error for a LAST that is not what merge wrote (``th``/``en``: why)."""
    return _not_ours(source, th, en)


def open_last_workbook(path: Path) -> Any:
    """LAST's consolidated workbook, opened read-only by openpyxl once its size and package
    pass (members, compression ratio, no DOCTYPE): PrefillError if not."""
    _size(path)
    import openpyxl  # only here: the xlsx form of LAST

    try:
        with zipfile.ZipFile(path) as package:
            infos = package.infolist()
            if len(infos) > _ZIP_MEMBERS or any(
                    i.file_size > _ZIP_RATIO * max(i.compress_size, 1024) for i in infos):
                raise _not_ours(path, "โครงสร้างไฟล์ผิดปกติ", "an unusual zip package")
            for info in infos:
                if info.filename.endswith((".xml", ".rels")):
                    with package.open(info) as member:
                        head = member.read(4096)
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        raise _not_ours(path, "มีการประกาศ DOCTYPE", "it declares a DOCTYPE")
        return openpyxl.load_workbook(path, read_only=True, data_only=False)
    except PrefillError:
        raise
    except Exception as exc:  # noqa: BLE001 - zip, XML and openpyxl errors all mean: not ours
        raise _not_ours(path, "อ่านเป็นไฟล์ Excel ไม่ได้", "not readable as an xlsx file") \
            from exc


def last_cell_value(cell: Any) -> Any:
    """A workbook cell of LAST: its stored value, or a Refused for a formula."""
    return _xlsx_value(cell)
