"""The next round from this one: a previous round's indicators, read and mapped onto a new form.

``load_previous`` reads LAST, what ``merge`` wrote for a previous round: its consolidated
workbook (the ``indicators`` sheet), its CSV folder (``indicators.csv``) or its Parquet folder
(``indicators.parquet``). LAST is our own output but may have been edited by hand, so it is
read as untrusted: the file's size and the zip's members are bounded, a DOCTYPE is refused, no
formula is evaluated (a formula cell is not carried), text stays text (the CSV writer's ``'``
before a formula-like text is taken off again) and numbers must be finite. A LAST that is not
ours, or lacks a column, raises ``PrefillError`` (Thai and English) before anything is written.

``plan_prefill`` maps each roster agency's rows onto the new cell map by table id and row id
(``IndicatorRow.table_id``/``item_id``): name, unit, direction, and each ``result_<BE year>``
that is also a result year of the new sheet, never its target year. Everything else is a row of
the report (``REPORT_COLUMNS``): carried or not, and why not.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cellmap import CellMap
from .errors import PmqaError
from .identity import normalise_code
from .outputs import CSV_FORMULA_PREFIXES
from .roster import Agency
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

#: The note on every carried cell ({year}: the previous round's target year).
NOTE = Words("ยกมาจากรอบที่แล้ว ({year}): ตรวจสอบหรือแก้ไข",
             "carried over from the previous round ({year}): check or correct it")


class PrefillError(PmqaError):
    """LAST cannot be read as a previous round's output."""


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


@dataclass(frozen=True, slots=True)
class Refused:
    """A value of LAST that cannot be carried: ``why`` says so."""

    shown: str
    why: Words


@dataclass(frozen=True, slots=True, kw_only=True)
class Previous:
    """LAST's indicator rows, by normalised agency code."""

    source: Path
    rows: dict[str, list[PreviousRow]]
    years: tuple[int, ...]  # the result years LAST has columns for


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

    @property
    def carried(self) -> int:
        return sum(len(a.answers) for a in self.agencies.values())

    @property
    def not_carried(self) -> int:
        return sum(1 for r in self.report if r[7] == "no" and r[4])


def load_previous(path: str | os.PathLike[str]) -> Previous:
    """Read LAST (a consolidated .xlsx, or a folder holding indicators.csv or
    indicators.parquet): PrefillError if it is not what merge writes."""
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
    return _rows(source, header, records)


def plan_prefill(cellmap: CellMap, previous: Previous, agencies: Sequence[Agency]) -> Prefill:
    """Map LAST's rows of each roster agency onto ``cellmap``'s indicator rows."""
    by_id = {(r.table_id, r.item_id): r for r in cellmap.indicator_rows}
    tables = {r.table_id for r in cellmap.indicator_rows}
    report: list[tuple[Any, ...]] = []
    plans: dict[str, AgencyPrefill] = {}
    missing: list[str] = []
    roster = {a.code for a in agencies}
    for agency in agencies:
        rows = previous.rows.get(agency.code)
        if not rows:
            missing.append(agency.code)
            report.append((agency.code, "", "", "", "", "", "", "no", *_MISSING))
            continue
        plan = plans.setdefault(agency.code, AgencyPrefill())
        for row in rows:
            _map_row(row, by_id.get((row.table_id, row.item_id)), row.table_id in tables,
                     plan, report)
        if not plan.answers:
            del plans[agency.code]
    extra = tuple(sorted(set(previous.rows) - roster))
    for code in extra:
        report.append((code, "", "", "", "", "", "", "no", *_NOT_IN_ROSTER))
    return Prefill(agencies=plans, report=report, missing=tuple(missing), not_in_roster=extra)


def summary(prefill: Prefill, previous: Previous) -> Words:
    """A few lines for the command line: how much was carried, and for whom not."""
    agencies = len(prefill.agencies)
    th = [f"ยกค่าจากรอบที่แล้ว ({previous.source.name}) {prefill.carried} ช่อง "
          f"ให้ {agencies} หน่วยงาน; ยกไม่ได้ {prefill.not_carried} ค่า (ดู {REPORT_NAME})"]
    en = [f"carried {prefill.carried} cells from {previous.source.name} into {agencies} "
          f"agencies' workbooks; {prefill.not_carried} values not carried (see {REPORT_NAME})"]
    if prefill.missing:
        shown = ", ".join(prefill.missing[:10]) + (" …" if len(prefill.missing) > 10 else "")
        th.append(f"ไม่พบในรอบที่แล้ว {len(prefill.missing)} หน่วยงาน (ได้แบบฟอร์มว่าง): {shown}")
        en.append(f"{len(prefill.missing)} agencies not in the previous round (blank "
                  f"workbooks): {shown}")
    return Words("\n".join(th), "\n".join(en))


# --------------------------------------------------------------------------------------------
# Private: mapping
# --------------------------------------------------------------------------------------------

_MISSING = ("ไม่พบหน่วยงานนี้ในรอบที่แล้ว: ได้แบบฟอร์มว่าง",
            "the agency is not in the previous round: its workbook is blank")
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
_TEXT_FIELDS = (("name", "indicator"), ("unit", "unit"), ("direction", "direction"))


def _map_row(row: PreviousRow, new: Any, table_known: bool, plan: AgencyPrefill,
             report: list[tuple[Any, ...]]) -> None:
    def note(fld: str, year: Any, value: Any, why: Words | None) -> None:
        shown = value.shown if isinstance(value, Refused) else value
        report.append((row.agency_code, row.table_id, row.row, row.item_id, fld,
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


def _csv(path: Path) -> tuple[list[str], Iterable[list[Any]]]:
    _size(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise _not_ours(path, "ไม่ใช่ไฟล์ CSV แบบ UTF-8", "not a UTF-8 CSV file") from exc
    csv.field_size_limit(MAX_TEXT + 16)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise _not_ours(path, f"อ่านเป็น CSV ไม่ได้ ({exc})", f"not readable as CSV ({exc})") \
            from exc
    if not rows:
        raise _not_ours(path, "ไฟล์ว่าง", "the file is empty")
    return rows[0], (_uncsv(r) for r in rows[1:MAX_LAST_ROWS])


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


def _parquet(path: Path) -> tuple[list[str], Iterable[list[Any]]]:
    _size(path)
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise PrefillError(Words("การอ่านไฟล์ Parquet ต้องใช้ pyarrow: pip install pyarrow",
                                 "reading Parquet needs pyarrow: pip install pyarrow")) from exc
    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - any failure of a damaged file is the same answer
        raise _not_ours(path, "อ่านเป็นไฟล์ Parquet ไม่ได้", "not readable as Parquet") from exc
    if table.num_rows > MAX_LAST_ROWS:
        raise _not_ours(path, "มีแถวมากเกินไป", "too many rows")
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return list(table.column_names), ([c[i] for c in columns] for i in range(table.num_rows))


def _workbook(path: Path) -> tuple[list[str], Iterable[list[Any]]]:
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
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except PrefillError:
        raise
    except Exception as exc:  # noqa: BLE001 - zip, XML and openpyxl errors all mean: not ours
        raise _not_ours(path, "อ่านเป็นไฟล์ Excel ไม่ได้", "not readable as an xlsx file") \
            from exc
    try:
        if "indicators" not in book.sheetnames:
            raise _not_ours(path, "ไม่มีแผ่นงาน indicators", "has no indicators sheet")
        rows = book["indicators"].iter_rows()
        first = next(rows, None)
        if first is None:
            raise _not_ours(path, "แผ่นงาน indicators ว่าง", "its indicators sheet is empty")
        header = [str(c.value) if c.value is not None else "" for c in first]
        records = []
        for n, cells in enumerate(rows, start=1):
            if n >= MAX_LAST_ROWS:
                break
            records.append([_xlsx_value(c) for c in cells])
        return header, records
    except PrefillError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged sheet part
        raise _not_ours(path, "อ่านแผ่นงาน indicators ไม่ได้", "cannot read its indicators sheet") \
            from exc
    finally:
        book.close()


def _xlsx_value(cell: Any) -> Any:
    """A cell's stored value; a formula is never evaluated nor carried."""
    if getattr(cell, "data_type", None) == "f":
        return Refused(str(cell.value)[:80], Words("เป็นสูตร ไม่ใช่ค่าที่กรอก",
                                                   "a formula, not a value typed"))
    return cell.value


def _rows(source: Path, header: list[str], records: Iterable[list[Any]]) -> Previous:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    years = [(i, int(m.group(1))) for i, c in enumerate(header)
             if (m := _RESULT.fullmatch(c or ""))]
    if missing or not years:
        th, en = (", ".join(missing), ", ".join(missing)) if missing else ("result_<ปี>",
                                                                           "result_<year>")
        raise _not_ours(source, f"ไม่มีคอลัมน์ {th} ของตารางตัวชี้วัด",
                        f"lacks the indicators' column(s) {en}")
    at = {c: header.index(c) for c in (*REQUIRED_COLUMNS, "row", "target_year", "file")
          if c in header}
    out: dict[str, list[PreviousRow]] = {}
    seen: set[tuple[str, str, str]] = set()
    first_file: dict[str, Any] = {}  # an agency with two returns counted: the first one's rows
    width = len(header)
    for record in records:
        record = list(record) + [None] * (width - len(record))
        code = _text(record[at["agency_code"]])
        table, item = _text(record[at["table_id"]]), _text(record[at["item_id"]])
        if not isinstance(code, str) or not code or not isinstance(table, str) \
                or not isinstance(item, str):
            continue
        code = normalise_code(code)
        source_file = _text(record[at["file"]]) if "file" in at else None
        if first_file.setdefault(code, source_file) != source_file:
            continue
        key = (code, table, item)
        if key in seen:  # a row given twice (an edited LAST): the first is kept
            continue
        seen.add(key)
        texts = {fld: _text(record[at[column]]) for fld, column in _TEXT_FIELDS}
        results = {year: _number(record[i]) for i, year in years}
        out.setdefault(code, []).append(PreviousRow(
            agency_code=code, table_id=table, item_id=item,
            row=str(_text(record[at["row"]]) or "") if "row" in at else "",
            texts=texts, results={y: v for y, v in results.items() if v is not None},
            round_year=_year(record[at["target_year"]]) if "target_year" in at else None))
    return Previous(source=source, rows=out, years=tuple(y for _, y in years))


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
        try:
            number = float(str(value).strip())
        except ValueError:
            text = str(value).strip()
            return Refused(text[:80], Words("ไม่ใช่ตัวเลข", "not a number")) if text else None
    if not math.isfinite(number):
        return Refused(str(value), Words("ไม่ใช่ตัวเลข", "not a number"))
    return number


def _year(value: Any) -> int | None:
    number = _number(value)
    return int(number) if isinstance(number, float) and number.is_integer() else None



# --------------------------------------------------------------------------------------------
# Public for previous.py (merge --previous): LAST's other tables, read the same safe way
# --------------------------------------------------------------------------------------------


def read_last_csv(path: Path) -> tuple[list[str], Iterable[list[Any]]]:
    """A CSV table of LAST: its header and rows (bounded, text as text, ``'`` taken off)."""
    return _csv(path)


def read_last_parquet(path: Path) -> tuple[list[str], Iterable[list[Any]]]:
    """A Parquet table of LAST: its header and rows (bounded)."""
    return _parquet(path)


def check_last_size(path: Path) -> None:
    """PrefillError if LAST's file cannot be opened or is larger than MAX_LAST_BYTES."""
    _size(path)


def not_ours(source: Path, th: str, en: str) -> PrefillError:
    """The error for a LAST that is not what merge wrote (``th``/``en``: why)."""
    return _not_ours(source, th, en)


def last_cell_value(cell: Any) -> Any:
    """A workbook cell of LAST: its stored value, or a Refused for a formula."""
    return _xlsx_value(cell)
