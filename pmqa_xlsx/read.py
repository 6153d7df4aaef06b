"""The reader: one returned workbook -> identity, answers, indicators and located problems.

Returns are untrusted. The reader identifies the form from the metadata sheet (whatever its
visibility), checks every locked label around the inputs to catch a sheet that was unprotected
and edited, then reads each input cell through the layout's cell map: values as people type
them, every one with its sheet and cell, every doubt a located problem. Percent success and
score are recomputed by the layout's rule; cached formula results are only compared.
Reading always returns: a file that cannot be read is a result with state ``rejected``.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from math import isfinite
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_rowcol_to_cell

from . import problems as P
from .cellmap import (
    CellMap,
    FormulaCell,
    IndicatorRow,
    InputCell,
    build_cellmap,
    target_result_field,
)
from .identity import normalise_code
from .inputs import path_text
from .layout import META_SHEET, IndicatorSheet, Layout, bundled_layouts, load_layout
from .numfmt import parse_format, render, shows_as, shows_text
from .problems import Problem
from .rules import percent_success, score
from .values import is_blank, parse_number
from .xlsxread import (
    MAX_TEXT,
    Cell,
    Cells,
    ErrorValue,
    FileRefused,
    MarkedText,
    Package,
    RichValue,
    SheetData,
    open_package,
)

#: Columns of the answers frame (see the README for their meaning and dtypes).
ANSWER_COLUMNS = ("file", "agency_code", "part", "item_id", "field_id", "kind", "label",
                  "year", "value", "sheet", "cell")

#: Columns every indicators frame has; result_<year> columns come between target and
#: percent_success, one per result year.
INDICATOR_COLUMNS = ("file", "agency_code", "table_id", "row", "item_id", "indicator", "unit",
                     "direction", "target_year", "target", "percent_success", "score", "sheet",
                     "cells")

#: Files that are never returns: Excel's and LibreOffice's lock files, and what operating
#: systems leave in folders. They are listed (with a warning), never read.
LOCK_PREFIXES = ("~$", ".~lock.")
SYSTEM_FILES = {".ds_store", "thumbs.db", "desktop.ini"}
#: Temporary and partial files, never returns either: pmqa_xlsx's own (``.NAME.XXXX.tmp``,
#: see outputs.py), other programs' (Word's ``~WRL0001.tmp``, LibreOffice's ``lu1234.tmp``)
#: and downloads or copies under way. Listed (with a warning), never opened.
TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download",
                 ".opdownload", ".filepart")

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
_ODS_MIME = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who returned the file and which form it is."""

    agency_code: str | None = None
    form_id: str | None = None
    form_version: str | None = None
    fiscal_year: int | None = None
    fingerprint: str | None = None
    generated_at: str | None = None
    modified: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    token: str | None = None  # issued with the agency's workbook (identity.py)


@dataclass(slots=True)
class ReadReturn:
    """The raw outcome of reading one file; frames are built from it on demand, so that a
    merge of thousands of files builds each frame once."""

    file: str
    identity: Identity
    problems: list[Problem]
    cellmap: CellMap | None = None
    values: list[Any] | None = None  # aligned with cellmap inputs
    indicator_rows: list[tuple[Any, ...]] = field(default_factory=list)  # see _indicator_rows
    mtime: float = 0.0
    filled: int = 0  # input cells that hold something (counted where the file is read)

    @property
    def agency_code(self) -> str | None:
        return self.identity.agency_code

    def __getstate__(self) -> tuple[Any, ...]:
        # Sent between processes: the cell map travels as its key, not as itself.
        key = (self.cellmap.layout.fingerprint, self.cellmap.year) if self.cellmap else None
        return (self.file, self.identity, self.problems, key, self.values,
                self.indicator_rows, self.mtime, self.filled)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        (self.file, self.identity, self.problems, key, self.values, self.indicator_rows,
         self.mtime, self.filled) = state
        self.cellmap = _cellmap_by_key(key) if key else None

    @property
    def readable(self) -> bool:
        return self.values is not None and not any(P.rejects(p) for p in self.problems)

    @property
    def state(self) -> str:
        """ok, ok_with_warnings or rejected (any error rejects: it must be fixed and resent)."""
        if not self.readable or any(p.severity == "error" for p in self.problems):
            return "rejected"
        return "ok_with_warnings" if self.problems else "ok"


@dataclass(frozen=True)
class ReturnResult:
    """One returned workbook as frames. ``state`` is ok, ok_with_warnings or rejected."""

    file: str
    state: str
    identity: Identity
    answers: pd.DataFrame
    indicators: pd.DataFrame
    problems: pd.DataFrame

    @property
    def agency_code(self) -> str | None:
        return self.identity.agency_code


def read_return(path: str | os.PathLike[str],
                layouts: Sequence[Layout] | None = None) -> ReturnResult:
    """Read one returned workbook. Never raises for a bad file: see ``.problems``.

    Args:
        path: The .xlsx file.
        layouts: The layouts it may be a return of (default: the bundled ones).
    """
    raw = read_raw(Path(path), layouts)
    return ReturnResult(
        file=raw.file, state=raw.state, identity=raw.identity,
        answers=answers_frame([raw]), indicators=indicators_frame([raw]),
        problems=P.problems_frame(raw.problems),
    )


def read_raw(path: Path, layouts: Sequence[Layout] | None = None, *,
             name: str | None = None) -> ReadReturn:
    """Read one file into a ReadReturn (the merge's unit of work).

    ``name`` is the file as recorded (``ReadReturn.file``): by default the path as valid text
    (``inputs.path_text``); the path itself is what is opened.
    """
    if name is None:
        name = path_text(path)
    try:
        status = path.stat()
    except OSError:
        status = None
    mtime = status.st_mtime if status is not None else 0.0
    not_a_return = never_a_return(path.name)
    if not_a_return is not None:
        return ReadReturn(name, Identity(), [P.make("not-a-return", file=name,
                                                    **not_a_return)], mtime=mtime)
    if status is not None and not stat.S_ISREG(status.st_mode):
        # a pipe or a device would block or never end: never opened
        return ReadReturn(name, Identity(), [P.make(
            "unreadable", file=name, detail="it is not a regular file (a pipe, a socket or a "
            "device)")], mtime=mtime)
    refused = _sniff(path)
    if refused is not None:
        code, fields = refused
        return ReadReturn(name, Identity(), [P.make(code, file=name, **fields)], mtime=mtime)
    try:
        with open_package(path) as package:
            result = _read_package(package, name, register_layouts(tuple(layouts or ())))
    except FileRefused as exc:
        code = exc.code if exc.code in P.CATALOGUE else "damaged-file"
        return ReadReturn(name, Identity(), [P.make(code, file=name, detail=exc.message)],
                          mtime=mtime)
    except Exception as exc:  # noqa: BLE001 - one file must never stop a merge
        # Not a refusal the reader knows: a fault of the reader on this file. It is named as
        # such (the fuzz test holds it at zero), and the merge goes on.
        detail = f"{type(exc).__name__}: {exc}"[:300]
        return ReadReturn(name, Identity(), [P.make("reader-failed", file=name,
                                                    detail=detail)], mtime=mtime)
    result.mtime = mtime
    if path_text(path) != os.fspath(path):  # read as usual, but nobody can type its name
        result.problems.append(P.make("bad-file-name", file=name))
    result.problems = [_with_agency(p, result.agency_code) for p in result.problems]
    return result


_NOT_RETURNS = (
    (lambda n: n.startswith(LOCK_PREFIXES) or n.lower() in SYSTEM_FILES,
     {"what": "a lock file that Excel or LibreOffice leaves while a workbook is open, or a "
              "file the operating system keeps",
      "fix": "close the workbook, or delete this file from the folder"}),
    (lambda n: n.lower().endswith(TEMP_SUFFIXES),
     {"what": "a temporary or partly written file (a save, a copy or a download under way, or "
              "one that was interrupted)",
      "fix": "wait until it is finished and use the finished file, or delete this one from "
             "the folder"}),
)


def never_a_return(file_name: str) -> dict[str, str] | None:
    """What a file is, by its name alone, if it can never be a return (a lock, system,
    temporary or partial file): the ``what`` and ``fix`` of its not-a-return problem."""
    for matches, words in _NOT_RETURNS:
        if matches(file_name):
            return words
    return None


def answers_frame(reads: Iterable[ReadReturn]) -> pd.DataFrame:
    """One row per input cell of each readable return, blank cells included (value <NA>).

    The text columns are categoricals built from codes: the cell map's columns repeat once per
    return, so the frame costs little more than the values themselves.
    """
    parts = []
    for group in _by_cellmap(reads):
        cellmap = group[0].cellmap
        assert cellmap is not None
        meta = _cell_meta(cellmap)
        n, k = len(meta), len(group)
        columns: dict[str, Any] = {
            "file": _repeated([r.file for r in group], n),
            "agency_code": _repeated([r.agency_code for r in group], n),
        }
        for name in ("part", "item_id", "field_id", "kind", "label", "year", "sheet", "cell"):
            column = meta[name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                columns[name] = pd.Categorical.from_codes(
                    np.tile(column.cat.codes.to_numpy(), k), dtype=column.dtype)
            else:
                columns[name] = pd.array(np.tile(column.to_numpy(), k), dtype=column.dtype)
        values = np.empty(n * k, dtype=object)
        values[:] = [pd.NA if v is None or (v.__class__ is str and not v.strip()) else v
                     for r in group for v in (r.values or ())]
        columns["value"] = values
        parts.append(pd.DataFrame(columns)[list(ANSWER_COLUMNS)])
    if not parts:
        return _empty_answers()
    if len(parts) == 1:
        return parts[0]
    frame = pd.concat(parts, ignore_index=True)
    for column in ("file", "agency_code", "part", "item_id", "field_id", "kind", "label",
                   "sheet", "cell"):
        frame[column] = frame[column].astype("category")
    return frame


def _repeated(labels: list[str | None], times: int) -> pd.Categorical:
    """Each label ``times`` times, in order, as a categorical."""
    categories = sorted(set(x for x in labels if x is not None))
    index = {c: i for i, c in enumerate(categories)}
    codes = np.array([index[x] if x is not None else -1 for x in labels], dtype=np.int32)
    return pd.Categorical.from_codes(np.repeat(codes, times), categories=categories)


def indicators_frame(reads: Iterable[ReadReturn]) -> pd.DataFrame:
    """One row per filled indicator row of each readable return."""
    parts = []
    for group in _by_cellmap(reads):
        cellmap = group[0].cellmap
        assert cellmap is not None
        plan = _indicator_plan(cellmap)
        years = [c.year for f, c in plan[0][0].cells.items() if f.startswith("result_")] \
            if plan else []
        records = [(read.file, read.agency_code, n, name, unit, direction, target, percent,
                    points, *results)
                   for read in group
                   for n, name, unit, direction, target, results, percent, points
                   in read.indicator_rows]
        results = [f"result_{year}" for year in years]
        frame = pd.DataFrame.from_records(records, columns=[
            "file", "agency_code", "n", "indicator", "unit", "direction", "target",
            "percent_success", "score", *results])
        at = frame["n"].to_numpy()
        rows = [p[0] for p in plan]
        for column, values in (("table_id", [r.table_id for r in rows]),
                               ("row", [r.number for r in rows]),
                               ("item_id", [r.item_id for r in rows]),
                               ("target_year", [r.cells["target"].year for r in rows]),
                               ("sheet", [r.percent.sheet for r in rows]),
                               ("cells", [p[4] for p in plan])):
            frame[column] = np.asarray(values, dtype=object)[at] if len(at) else []
        parts.append(frame[[*INDICATOR_COLUMNS[:10], *results, *INDICATOR_COLUMNS[10:]]])
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {c: [] for c in INDICATOR_COLUMNS})
    for column in ("file", "agency_code", "table_id", "item_id", "indicator", "unit",
                   "direction", "sheet", "cells"):
        frame[column] = frame[column].astype("string")
    for column in frame.columns:
        if column == "target" or column.startswith(("result_", "percent_", "score")):
            frame[column] = frame[column].astype("Float64")
    frame["row"] = frame["row"].astype("Int64")
    frame["target_year"] = frame["target_year"].astype("Int64")
    return frame


# --------------------------------------------------------------------------------------------
# Private: identifying the file and the form
# --------------------------------------------------------------------------------------------


def _sniff(path: Path) -> tuple[str, dict[str, str]] | None:
    """A refusal (code, fields) for files that are not xlsx at all, from their first bytes."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return None  # open_package reports it
    if head.startswith(_OLE_MAGIC):
        with path.open("rb") as handle:
            data = handle.read(2_000_000)
        return ("password-protected" if _ENCRYPTED_MARK in data else "old-excel-format"), {}
    if head.startswith(b"PK") and _ODS_MIME in head[:200]:
        return "ods-file", {}
    if head.startswith(b"PK") or not head:
        return None  # a zip (checked further by open_package), or empty (damaged)
    return "not-excel", {"kind": _looks_like(head)}


def _looks_like(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table")):
        return "a web page (HTML) renamed to .xlsx"
    if text.startswith(b"<?xml"):
        return "an XML file"
    if b"," in text[:400] or b";" in text[:400] or b"\t" in text[:400]:
        return "CSV or plain text"
    return "an unknown format"


_LAYOUTS: dict[str, Layout] = {}  # every layout seen, by fingerprint
_CELLMAPS: dict[tuple[str, int], CellMap] = {}
_BUNDLED: list[Layout] = []


def register_layouts(extra: tuple[Layout, ...]) -> dict[tuple[str, str], Layout]:
    """Layouts a return may be of, by (form id, version): the bundled ones, then ``extra``."""
    if not _BUNDLED:
        _BUNDLED.extend(load_layout(path) for path in bundled_layouts().values())
    known: dict[tuple[str, str], Layout] = {}
    for layout in (*_BUNDLED, *extra):
        known[(layout.form.id, layout.form.version)] = layout
        _LAYOUTS[layout.fingerprint] = layout
    return known


def _cellmap(layout: Layout, year: int) -> CellMap:
    key = (layout.fingerprint, year)
    cellmap = _CELLMAPS.get(key)
    if cellmap is None:
        _LAYOUTS[layout.fingerprint] = layout
        cellmap = _CELLMAPS[key] = build_cellmap(layout, year)
    return cellmap


def _cellmap_by_key(key: tuple[str, int]) -> CellMap:
    if key not in _CELLMAPS:
        if key[0] not in _LAYOUTS:
            register_layouts(())
        return _cellmap(_LAYOUTS[key[0]], key[1])
    return _CELLMAPS[key]


def _read_package(package: Package, file: str,
                  registry: dict[tuple[str, str], Layout]) -> ReadReturn:
    if package.has_macros():
        return ReadReturn(file, Identity(), [P.make("macro-workbook", file=file)])
    meta_sheet = package.sheet(META_SHEET)
    if meta_sheet is None:
        return ReadReturn(file, Identity(), [P.make("no-metadata", file=file, sheet=META_SHEET)])
    cells = package.read_cells(meta_sheet, max_row=50, max_col=2).cells
    meta = {str(cells[(r, 0)].value).strip(): cells.get((r, 1), Cell(None)).value
            for r in range(50) if (r, 0) in cells}
    form_id, version = _meta_text(meta.get("form_id")), _meta_text(meta.get("form_version"))
    modified, bad_properties = package.modified()
    identity = Identity(
        agency_code=_code(meta.get("agency_code")), form_id=form_id, form_version=version,
        fingerprint=_meta_text(meta.get("layout_fingerprint")),
        generated_at=_meta_text(meta.get("generated_at")), modified=modified,
        token=_meta_text(meta.get("token")),
    )
    known_forms = sorted({f for f, _ in registry})
    if form_id not in known_forms:
        return ReadReturn(file, identity, [P.make(
            "other-form", file=file, sheet=META_SHEET, cell="B1", found=_short(form_id or ""),
            known=", ".join(known_forms))])
    layout = registry.get((form_id, version or ""))
    if layout is None:
        versions = sorted(v for f, v in registry if f == form_id)
        return ReadReturn(file, identity, [P.make(
            "unknown-version", file=file, sheet=META_SHEET, cell="B2", form=form_id,
            found=_short(version or ""), known=", ".join(versions))])
    year = parse_number(meta.get("fiscal_year"))
    if year is None or not 2400 <= year <= 2800 or not float(year).is_integer():
        return ReadReturn(file, identity, [P.make(
            "bad-metadata", file=file, sheet=META_SHEET, cell="B4",
            detail=f"fiscal year {_short(repr(meta.get('fiscal_year')))}")])
    identity = Identity(**{**_identity_dict(identity), "fiscal_year": int(year)})
    problems: list[Problem] = []
    if bad_properties:
        problems.append(P.make("unreadable-properties", file=file))
    if identity.fingerprint != layout.fingerprint:
        problems.append(P.make("fingerprint-mismatch", file=file, sheet=META_SHEET, cell="B3",
                               form=layout.form.id, version=layout.form.version))
    return _read_form(package, file, identity, _cellmap(layout, int(year)), problems)


def _identity_dict(identity: Identity) -> dict[str, Any]:
    return {name: getattr(identity, name) for name in Identity.__dataclass_fields__}


# --------------------------------------------------------------------------------------------
# Private: reading the form through its cell map
# --------------------------------------------------------------------------------------------


def _read_form(package: Package, file: str, identity: Identity, cellmap: CellMap,
               problems: list[Problem]) -> ReadReturn:
    sheets: dict[str, SheetData] = {}
    styles = package.styles()
    display = _display_of(styles.formats, package.date1904)
    for plan in cellmap.sheets:
        info = package.sheet(plan.name)
        if info is None:
            return ReadReturn(file, identity, [*problems, P.make(
                "missing-sheet", file=file, sheet=plan.name)])
        data = package.read_cells(info)
        sheets[plan.name] = data
        changed = _structure_problem(plan.labels, data.cells, file)
        if changed is not None:
            return ReadReturn(file, identity, [*problems, changed])
        problems.extend(_stray_values(plan, data.cells, data.beyond, file))
        problems.extend(_sheet_display_problems(plan.name, data, styles, file))
    values: list[Any] = []
    flagged, hides_text, styles_known = display.flagged, display.hides_text, display.count
    for cell, sheet, pos in _input_positions(cellmap):
        found = sheets[sheet].cells.get(pos)
        if found is None:
            values.append(None)
            continue
        value = found.value
        if found.formula is None and found.full_length is None:
            # The common shapes, inline: a finite number in a number cell, a listed choice,
            # a non-blank text (each passes _read_input unchanged and without problems).
            kind, cls = cell.kind, value.__class__
            if kind == "number" and cls is float and isfinite(value) and (
                    cell.number is None or cell.number.accepts(value)):
                if found.style >= styles_known or flagged[found.style]:
                    problems.extend(_number_shown(cell, found, display, file))
                values.append(value)
                continue
            if cls is str and found.style < styles_known and not hides_text[found.style] \
                    and (value in cell.choices if cell.choices else (
                        kind == "text" and len(value) <= MAX_TEXT and value.strip()
                        and "\ufffd" not in value)):
                values.append(value)
                continue
        value, cell_problems = _read_input(cell, found, file)
        if found.style >= styles_known:
            cell_problems.append(P.make("unknown-style", file=file, sheet=cell.sheet,
                                        cell=cell.ref, label=cell.label,
                                        style=f"{found.style:,}"))
        elif found.value.__class__ is float:
            if cell.kind == "number":
                cell_problems.extend(_number_shown(cell, found, display, file))
            elif cell.kind in ("text", "identity"):
                value = _text_shown(cell, found, value, display, file, cell_problems)
        elif isinstance(found.value, str) and display.hides_text[found.style]:
            cell_problems.append(_hidden_value(
                cell, found, file, "nothing or another text" if display.lexed(found.style)
                else _SHOWN_AS["unchecked"]))
        if value.__class__ is MarkedText:
            value = str(value)  # the mark has done its work (in _read_number)
        if value.__class__ is str and "\ufffd" in value and cell.kind in ("text", "identity"):
            cell_problems.append(P.make("lost-character", file=file, sheet=cell.sheet,
                                        cell=cell.ref, label=cell.label))
        values.append(value)
        problems.extend(cell_problems)
    problems.extend(_hidden_inputs(cellmap, sheets, values, file))
    problems.extend(_unseen_inputs(cellmap, sheets, values, file,
                                   {plan.name: package.sheet(plan.name) for plan in
                                    cellmap.sheets}))
    code = _agency_code(cellmap, values, identity, file, problems)
    identity = Identity(**{**_identity_dict(identity), "agency_code": code,
                           "fields": _identity_fields(cellmap, values)})
    problems = [_with_agency(p, code) for p in problems]
    read = ReadReturn(file, identity, problems, cellmap=cellmap, values=values,
                      filled=sum(1 for v in values if not is_blank(v)))
    read.indicator_rows = _indicator_rows(read, {n: d.cells for n, d in sheets.items()})
    if all(is_blank(values[i]) for i in _answer_indices(cellmap)):
        read.problems.append(P.make("empty-return", file=file, agency_code=code))
    return read


#: The characters of distinct number format codes a workbook's inputs may use before the
#: rest are not lexed (lexing is Python, character by character): a return uses a few codes
#: of a few dozen characters; a file with thousands of long codes would cost seconds.
MAX_FORMAT_CHARS = 16_384


class _Verdicts(dict[int, bool]):
    """A style's verdict, worked out when a cell first asks for it."""

    def __init__(self, display: _Display, which: int) -> None:
        super().__init__()
        self.display, self.which = display, which

    def __missing__(self, style: int) -> bool:
        return self.display.classify(style)[self.which]


class _Display:
    """How a workbook's styles show values: each style's format code, whether a number under
    it may show as something other than itself (``flagged``) and whether it hides a text
    (``hides_text``). A workbook may define 20,000 styles; only those of input cells are
    classified, each when first asked, and only the first MAX_FORMAT_CHARS characters of
    distinct codes are lexed: a code beyond is ``unchecked`` (flagged). The budget is spent
    in the order of the form's inputs, so a file gets the same verdicts whatever was read
    before it."""

    def __init__(self, formats: tuple[str, ...], date1904: bool) -> None:
        self.formats = formats
        self.date1904 = date1904
        self.count = max(1, len(formats))  # 1 if none: every cell is General
        self.flagged = _Verdicts(self, 0)
        self.hides_text = _Verdicts(self, 1)
        self._lexed: dict[str, bool] = {}  # code -> lexed (within the budget) or not
        self._budget = MAX_FORMAT_CHARS

    def code(self, style: int) -> str:
        return self.formats[style] if style < len(self.formats) else "General"

    def _lex(self, code: str) -> bool:
        lexed = self._lexed.get(code)
        if lexed is None:
            lexed = self._lexed[code] = len(code) <= self._budget
            if lexed:
                self._budget -= len(code)
        return lexed

    def lexed(self, style: int) -> bool:
        return self._lex(self.code(style))

    def classify(self, style: int) -> tuple[bool, bool]:
        code = self.code(style)
        verdict = _classified(code) if self._lex(code) else (True, True)
        self.flagged[style], self.hides_text[style] = verdict
        return verdict

    def verdict(self, style: int, value: float) -> str:
        """How the number ``value`` shows under the style (numfmt.shows_as), or
        ``unchecked`` for a code beyond the budget."""
        code = self.code(style)
        return shows_as(code, value) if self._lex(code) else "unchecked"


_CLASSIFIED: dict[str, tuple[bool, bool]] = {}  # code -> (flagged, hides text), any workbook


def _classified(code: str) -> tuple[bool, bool]:
    known = _CLASSIFIED.get(code)
    if known is None:
        if len(_CLASSIFIED) > 4096:
            _CLASSIFIED.clear()
        known = _CLASSIFIED[code] = (not _shows_numbers_plainly(code), not shows_text(code))
    return known


def _display_of(formats: tuple[str, ...], date1904: bool) -> _Display:
    return _Display(formats, date1904)


def _shows_numbers_plainly(code: str) -> bool:
    """Whether every number shows as itself under ``code``: the verdict for a positive, a
    negative and a zero value (the sections a value can fall in) is "number"."""
    fmt = parse_format(code)
    return fmt.general or all(shows_as(code, v) == "number" for v in (1.5, -1.5, 0.0))


_SHOWN_AS = {"hidden": "nothing, or a text in its place", "scaled": "it in thousands",
             "unsigned": "it without its minus sign",
             "signed": "it as a negative number (with a minus sign or in parentheses)",
             "unchecked": "it in a number format too long to check"}


def _number_shown(cell: InputCell, found: Cell, display: _Display,
                  file: str) -> list[Problem]:
    """A number input shown as a percentage or a date (typed as one, not as the plain
    number), or shown as something else altogether: the number counted is not the one seen."""
    if found.style >= display.count:
        return [P.make("unknown-style", file=file, sheet=cell.sheet, cell=cell.ref,
                       label=cell.label, style=f"{found.style:,}")]
    code = display.code(found.style)
    verdict = display.verdict(found.style, found.value)
    if verdict == "number":
        return []
    if verdict in ("percent", "date"):
        shown = f"{found.value:g}" if verdict == "percent" else \
            f"{found.value:g} ({render(code, found.value, display.date1904)})"
        return [P.make(f"typed-as-{verdict}", file=file, sheet=cell.sheet, cell=cell.ref,
                       label=cell.label, found=shown)]
    return [_hidden_value(cell, found, file, _SHOWN_AS[verdict])]


def _text_shown(cell: InputCell, found: Cell, value: Any, display: _Display, file: str,
                problems: list[Problem]) -> Any:
    """A number in a text blank, read as the spreadsheet shows it: a date or percent format
    (a pasted cell) makes it that date or percentage, with a warning, never a raw serial;
    the date blank of the identity takes a date as its answer. A number shown plainly is
    read as that number, in the date blank too (43555 under General is what the agency saw,
    not 31/03/2019)."""
    code = display.code(found.style)
    verdict = display.verdict(found.style, found.value)
    if verdict in _SHOWN_AS:
        problems.append(_hidden_value(cell, found, file, _SHOWN_AS[verdict]))
        return value
    if cell.kind == "identity" and cell.field_id == "date" and verdict == "date":
        return render(code, found.value, display.date1904)
    if verdict in ("percent", "date"):
        shown = render(code, found.value, display.date1904)
        problems.append(P.make("shown-as-formatted", file=file, sheet=cell.sheet, cell=cell.ref,
                               label=cell.label, found=f"{found.value:g}",
                               what="percentage" if verdict == "percent" else "date",
                               shown=shown))
        return shown
    return value


def _hidden_value(cell: InputCell, found: Cell, file: str, shown: str) -> Problem:
    return P.make("format-hides-value", file=file, sheet=cell.sheet, cell=cell.ref,
                  label=cell.label, found=_short(_display_value(found.value)), shown=shown)


def _sheet_display_problems(sheet: str, data: SheetData, styles: Any,
                            file: str) -> list[Problem]:
    """What about a sheet as a whole may show values other than those counted: shapes drawn
    over it, conditional formats that change number formats."""
    out = []
    if data.drawing:
        out.append(P.make("drawing-over-form", file=file, sheet=sheet))
    if data.conditional_formats and styles.conditional_number_formats:
        out.append(P.make("conditional-number-format", file=file, sheet=sheet))
    return out


def _hidden_inputs(cellmap: CellMap, sheets: dict[str, SheetData], values: list[Any],
                   file: str) -> list[Problem]:
    """Filled inputs that no one may have seen: in a hidden row or column, or a zero on a
    sheet that hides zeros."""
    out: list[Problem] = []
    if not any(d.hidden_rows or d.hidden_cols or d.hides_zeros for d in sheets.values()):
        return out  # the common case: nothing hidden anywhere
    for (cell, sheet, pos), value in zip(_input_positions(cellmap), values, strict=True):
        data = sheets[sheet]
        if not (data.hidden_rows or data.hidden_cols or data.hides_zeros) or is_blank(value):
            continue
        if pos[0] in data.hidden_rows or pos[1] in data.hidden_cols:
            out.append(P.make("hidden-input", file=file, sheet=sheet, cell=cell.ref,
                              label=cell.label, found=_short(_display_value(value))))
        elif data.hides_zeros and cell.kind == "number" and value == 0:
            out.append(P.make("format-hides-value", file=file, sheet=sheet, cell=cell.ref,
                              label=cell.label, found="0",
                              shown="nothing (the sheet is set not to show zeros)"))
    return out


def _unseen_inputs(cellmap: CellMap, sheets: dict[str, SheetData], values: list[Any],
                   file: str, infos: dict[str, Any]) -> list[Problem]:
    """Inputs whose value is not what a spreadsheet shows there, or is not shown at all: on a
    hidden sheet, inside merged cells (only the first cell of a merge is shown), inside the
    range of an array formula (every cell of it shows the formula's result, though only the
    first holds the formula). The inputs a sheet's ranges cover are worked out once per set
    of ranges (every return of one generator has the same merges)."""
    out = []
    positions = _input_positions(cellmap)
    for name, data in sheets.items():
        info = infos.get(name)
        if info is not None and info.state != "visible":
            count = sum(1 for (_, sheet, _), value in zip(positions, values, strict=True)
                        if sheet == name and not is_blank(value))
            if count:
                out.append(P.make("hidden-sheet", file=file, sheet=name, count=count))
        if data.formula_ranges:
            for i in _covered_inputs(cellmap, name, data.formula_ranges):
                cell = positions[i][0]
                out.append(P.make("formula-in-input", file=file, sheet=name, cell=cell.ref,
                                  label=cell.label,
                                  formula="an array formula that fills several cells"))
        if data.merges:
            formulas = set(_covered_inputs(cellmap, name, data.formula_ranges)) \
                if data.formula_ranges else set()
            for i in _covered_inputs(cellmap, name, data.merges):
                if i in formulas or is_blank(values[i]):
                    continue
                cell = positions[i][0]
                out.append(P.make("covered-input", file=file, sheet=name, cell=cell.ref,
                                  label=cell.label, found=_short(_display_value(values[i]))))
    return out


@lru_cache(maxsize=256)
def _covered_inputs(cellmap: CellMap, sheet: str,
                    ranges: tuple[tuple[int, int, int, int], ...]) -> tuple[int, ...]:
    """The indices of ``sheet``'s inputs that ``ranges`` cover other than as their first cell
    (another cell's value is shown there)."""
    box = _input_boxes(cellmap).get(sheet)
    if box is None:
        return ()
    paint = _covered(ranges, box)
    if paint is None:
        return ()
    r0, c0 = box[:2]
    return tuple(i for i, (_, name, pos) in enumerate(_input_positions(cellmap))
                 if name == sheet and paint[pos[0] - r0, pos[1] - c0] > 0)


def _covered(ranges: tuple[tuple[int, int, int, int], ...],
             box: tuple[int, int, int, int]) -> Any:
    """Over ``box`` (the inputs' rows and columns of a sheet), how many of ``ranges`` cover
    each cell other than as their first cell (> 0: another cell's value is shown there), or
    None if no range meets the box. One array operation per range: ranges may overlap, and a
    sheet may hold thousands."""
    r0, c0, r1, c1 = box
    paint = np.zeros((r1 - r0 + 1, c1 - c0 + 1), dtype=np.int32)
    met = False
    for top, left, bottom, right in ranges:
        a, b, c, d = max(top, r0), max(left, c0), min(bottom, r1), min(right, c1)
        if a > c or b > d:
            continue
        met = True
        paint[a - r0:c - r0 + 1, b - c0:d - c0 + 1] += 1
        if a == top and b == left:
            paint[a - r0, b - c0] -= 1  # the first cell shows its own value
    return paint if met else None


@lru_cache(maxsize=32)
def _input_boxes(cellmap: CellMap) -> dict[str, tuple[int, int, int, int]]:
    """Per sheet, the first and last row and column of its inputs."""
    boxes: dict[str, tuple[int, int, int, int]] = {}
    for cell in cellmap.inputs():
        r0, c0, r1, c1 = boxes.get(cell.sheet, (cell.row, cell.col, cell.row, cell.col))
        boxes[cell.sheet] = (min(r0, cell.row), min(c0, cell.col), max(r1, cell.row),
                             max(c1, cell.col))
    return boxes


@lru_cache(maxsize=32)
def _answer_indices(cellmap: CellMap) -> list[int]:
    """Inputs that are answers, not identity."""
    return [i for i, c in enumerate(cellmap.inputs()) if c.kind != "identity"]


@lru_cache(maxsize=32)
def _input_positions(cellmap: CellMap) -> list[tuple[InputCell, str, tuple[int, int]]]:
    return [(c, c.sheet, (c.row, c.col)) for c in cellmap.inputs()]


@lru_cache(maxsize=32)
def _index(cellmap: CellMap) -> dict[tuple[str, str, str], int]:
    return {c.key: i for i, c in enumerate(cellmap.inputs())}


def _with_agency(problem: Problem, code: str | None) -> Problem:
    if problem.agency_code == code or code is None:
        return problem
    return Problem(problem.file, code, problem.sheet, problem.cell, problem.severity,
                   problem.code, problem.message)


def _structure_problem(labels: tuple[Any, ...], cells: Cells, file: str) -> Problem | None:
    """The first locked label (in reading order) that is not where the layout puts it,
    located, with the number of rows inserted or deleted above it when the labels below line
    up again at another offset."""
    ordered, expected = _in_reading_order(labels)
    for i, (pos, text) in enumerate(expected):
        found = cells.get(pos)
        value = found.value if found is not None else None
        if value.__class__ is str and value == text:  # the common case, quickly
            continue
        if _shown(cells, *pos) == text:
            continue
        label = ordered[i]
        shift = _best_shift(ordered[i:], cells)
        detail = ""
        if shift:
            rows = "row" if abs(shift) == 1 else "rows"
            what = "inserted" if shift > 0 else "deleted"
            detail = f" ({abs(shift)} {rows} {what} above; it is now at row " \
                     f"{label.row + shift + 1})" if shift > 0 else \
                     f" ({abs(shift)} {rows} {what} above)"
        return P.make("structure-changed", file=file, sheet=label.sheet,
                      cell=xl_rowcol_to_cell(label.row, label.col),
                      expected=_short(label.text), found=_short(_shown(cells, label.row,
                                                                       label.col)),
                      shift=detail)
    return None


_ORDERED: dict[int, tuple[list[Any], list[tuple[tuple[int, int], str]]]] = {}


def _in_reading_order(
    labels: tuple[Any, ...],
) -> tuple[list[Any], list[tuple[tuple[int, int], str]]]:
    """A plan's labels by row, then column, and each one's position and stripped text (kept
    per plan: plans live as long as their cell map)."""
    if id(labels) not in _ORDERED:
        ordered = sorted(labels, key=lambda lb: (lb.row, lb.col))
        _ORDERED[id(labels)] = (ordered, [((lb.row, lb.col), lb.text.strip()) for lb in ordered])
    return _ORDERED[id(labels)]


def _shown(cells: Cells, row: int, col: int) -> str:
    found = cells.get((row, col))
    return "" if found is None or found.value is None else str(found.value).strip()


def _best_shift(labels: Sequence[Any], cells: Cells, reach: int = 40) -> int:
    """The row offset at which most of ``labels`` match again (0 if none does well)."""
    best, best_score = 0, 0
    for shift in range(-reach, reach + 1):
        if shift == 0:
            continue
        score_ = sum(1 for lb in labels if lb.row + shift >= 0
                     and _shown(cells, lb.row + shift, lb.col) == lb.text.strip())
        if score_ > best_score:
            best, best_score = shift, score_
    return best if best_score >= max(3, len(labels) // 2) else 0


def _stray_values(plan: Any, cells: Cells, beyond: tuple[int, int] | None,
                  file: str) -> list[Problem]:
    known, last_row, last_col = _known_cells(plan)
    out = []
    strays = 0
    for pos in sorted(cells.keys() - known):
        cell = cells[pos]
        if is_blank(cell.value) and cell.formula is None:
            continue
        # inside the form's area, a value where none belongs means the sheet was edited
        code = "misplaced-value" if pos[0] <= last_row and pos[1] <= last_col else \
            "stray-value"
        if code == "stray-value":
            strays += 1
            if strays > STRAYS_LISTED:
                continue  # counted below, not listed one by one
        shown = _display_value(cell.value) if cell.formula is None else "=" + cell.formula
        out.append(P.make(code, file=file, sheet=plan.name, cell=xl_rowcol_to_cell(*pos),
                          found=_short(shown)))
    if strays > STRAYS_LISTED:
        out.append(P.make("many-stray-values", file=file, sheet=plan.name,
                          count=strays - STRAYS_LISTED, listed=STRAYS_LISTED))
    if beyond is not None:
        out.append(P.make("far-cell", file=file, sheet=plan.name,
                          cell=xl_rowcol_to_cell(*beyond), row=beyond[0] + 1, col=beyond[1] + 1))
    return out


STRAYS_LISTED = 20  # stray values listed one by one per sheet; the rest are counted
_KNOWN: dict[int, tuple[frozenset[tuple[int, int]], int, int]] = {}


def _known_cells(plan: Any) -> tuple[frozenset[tuple[int, int]], int, int]:
    """Every position the plan puts something at, and the form's last row and column."""
    if id(plan) not in _KNOWN:
        known = {(c.row, c.col) for c in plan.inputs} | {(f.row, f.col) for f in plan.formulas}
        for label in plan.labels:
            for r in range(label.row, (label.last_row or label.row) + 1):
                for c in range(label.col, (label.last_col or label.col) + 1):
                    known.add((r, c))
        _KNOWN[id(plan)] = (frozenset(known), max(r for r, _ in known), len(plan.widths) - 1)
    return _KNOWN[id(plan)]


def _read_input(cell: InputCell, found: Cell | None, file: str) -> tuple[Any, list[Problem]]:
    """The value of one input cell as the person typed it, and its problems."""
    if found is None:
        return None, []
    where = {"file": file, "sheet": cell.sheet, "cell": cell.ref}
    value = found.value
    problems: list[Problem] = []
    if found.formula is not None:
        shown = _short("=" + found.formula) if found.formula else "copied from another cell"
        problems.append(P.make("formula-in-input", **where, label=cell.label, formula=shown))
    if isinstance(value, ErrorValue):
        problems.append(P.make("error-value", **where, label=cell.label, found=value.text))
        return value.text, problems
    if isinstance(value, RichValue):
        problems.append(P.make("rich-value", **where, label=cell.label))
        return None, problems
    if isinstance(value, bool):
        value = "TRUE" if value else "FALSE"
    if is_blank(value):
        return None, problems
    if isinstance(value, str) and len(value) > MAX_TEXT:
        problems.append(P.make("text-too-long", **where, label=cell.label,
                               length=found.full_length or len(value), limit=MAX_TEXT))
        return value[:MAX_TEXT], problems
    return _KIND_READERS[cell.kind](cell, value, where, problems)


def _read_number(cell: InputCell, value: Any, where: dict[str, str],
                 problems: list[Problem]) -> tuple[Any, list[Problem]]:
    number = parse_number(value)
    if number is None:
        problems.append(P.make("not-a-number", **where, label=cell.label, found=_short(value)))
        return value, problems
    if value.__class__ is MarkedText:  # "10" and a raised "2": 10² on screen, "102" here
        problems.append(P.make("format-hides-value", **where, label=cell.label,
                               found=_short(value), shown="some of its digits raised, "
                               "lowered or struck out"))
    rule = cell.number
    if rule is not None and not rule.accepts(number):
        problems.append(P.make("number-out-of-range", **where, label=cell.label,
                               found=f"{number:g}", rule=_rule_text(rule)))
    return number, problems


def _read_choice(cell: InputCell, value: Any, where: dict[str, str],
                 problems: list[Problem]) -> tuple[Any, list[Problem]]:
    text = str(value).strip() if not isinstance(value, float) else f"{value:g}"
    if text in cell.choices:
        return text, problems
    # NFKC on both sides: Thai ำ may be typed as one character or as ํ + า
    canonical = {unicodedata.normalize("NFKC", c): c for c in cell.choices}
    text = canonical.get(unicodedata.normalize("NFKC", text), text)
    if text not in cell.choices:
        code = "bad-status" if cell.kind == "status" else "bad-choice"
        problems.append(P.make(code, **where, label=cell.label, found=_short(text),
                               choices=" / ".join(cell.choices)))
        return value, problems
    return text, problems


def _read_text(cell: InputCell, value: Any, where: dict[str, str],
               problems: list[Problem]) -> tuple[Any, list[Problem]]:
    if cell.kind == "identity" and isinstance(value, float) and value.is_integer():
        return str(int(value)), problems  # a code or a phone number typed as digits
    return value, problems


_KIND_READERS = {
    "number": _read_number,
    "status": _read_choice,
    "direction": _read_choice,
    "text": _read_text,
    "identity": _read_text,
}


def _rule_text(rule: Any) -> str:
    parts = []
    if rule.greater_than is not None:
        parts.append(f"it must be above {rule.greater_than:g}")
    if rule.at_least is not None:
        parts.append(f"it must be at least {rule.at_least:g}")
    if rule.at_most is not None:
        parts.append(f"it must be at most {rule.at_most:g}")
    return " and ".join(parts)


def _agency_code(cellmap: CellMap, values: list[Any], identity: Identity, file: str,
                 problems: list[Problem]) -> str | None:
    """The agency: the code the workbook was made for, else the code typed in it."""
    field_id = next((f.id for f in cellmap.layout.identity.fields if f.roster == "agency_code"),
                    None)
    cell = cellmap.identity_cell(field_id) if field_id else None
    typed = _code(values[_index(cellmap)[cell.key]]) if cell else None
    made_for = identity.agency_code
    if made_for and typed and typed != made_for:
        problems.append(P.make("agency-code-mismatch", file=file, sheet=cell.sheet if cell else
                               None, cell=cell.ref if cell else None, found=typed,
                               expected=made_for))
    code = made_for or typed
    if not code and cell is not None:
        problems.append(P.make("no-agency-code", file=file, sheet=cell.sheet, cell=cell.ref))
    return code


def _identity_fields(cellmap: CellMap, values: list[Any]) -> dict[str, Any]:
    return {c.field_id: v for c, v in zip(cellmap.inputs(), values, strict=True)
            if c.kind == "identity"}


def _indicator_rows(read: ReadReturn, sheets: dict[str, Cells]) -> list[tuple[Any, ...]]:
    """Filled indicator rows, compactly: (index in the plan, indicator, unit, direction,
    target, results, percent success, score), the last two recomputed by the rule; cached
    results that disagree become warnings. ``indicators_frame`` spells them out."""
    cellmap = read.cellmap
    assert cellmap is not None and read.values is not None
    rules = cellmap.layout.rules
    all_values = read.values
    out = []
    for n, (row, indices, name, unit, direction_at, target_at, results_at,
            compared_at) in enumerate(_indicator_slots(cellmap)):
        row_values = [all_values[i] for i in indices]
        if all(map(is_blank, row_values)):
            continue
        target = _number_or_none(all_values[target_at])
        results = tuple(map(_number_or_none, [all_values[i] for i in results_at]))
        direction = all_values[direction_at] if direction_at is not None else None
        percent = percent_success(target, _number_or_none(all_values[compared_at]),
                                  direction if isinstance(direction, str) else None, rules)
        points = score(percent, rules)
        _check_cached(row, sheets, percent, points, read)
        out.append((n, _str_or_none(all_values[name]),
                    _str_or_none(all_values[unit]) if unit is not None else None,
                    _str_or_none(direction), target, results, percent, points))
    return out


@lru_cache(maxsize=32)
def _indicator_slots(cellmap: CellMap) -> list[tuple[Any, ...]]:
    """Per indicator row, where its values are among the inputs: (row, all its indices,
    name, unit, direction, target, results, the result compared with the target); unit and
    direction are None where the table has no such column."""
    slots = []
    for row, fields, indices, compared, _ in _indicator_plan(cellmap):
        at = dict(zip(fields, indices, strict=True))
        slots.append((row, indices, at["name"], at.get("unit"), at.get("direction"),
                      at["target"], tuple(at[f] for f in fields if f[:7] == "result_"),
                      at[compared]))
    return slots


@lru_cache(maxsize=32)
def _indicator_plan(cellmap: CellMap) -> list[tuple[IndicatorRow, tuple[str, ...],
                                                     tuple[int, ...], str, str]]:
    """Per indicator row: its fields, their indices among the inputs, the result the target
    is compared with, and the row's range (``B10:J10``)."""
    index = _index(cellmap)
    target_fields = {s.id: target_result_field(s) for s in cellmap.layout.sheets
                     if isinstance(s, IndicatorSheet)}
    tables = {t.id: s.id for s in cellmap.layout.sheets if isinstance(s, IndicatorSheet)
              for t in s.tables}
    plan = []
    for row in cellmap.indicator_rows:
        fields = tuple(row.cells)
        first = min(c.col for c in row.cells.values())
        cells = (f"{xl_rowcol_to_cell(row.percent.row, first)}:"
                 f"{xl_rowcol_to_cell(row.percent.row, row.score.col)}")
        plan.append((row, fields, tuple(index[row.cells[f].key] for f in fields),
                     target_fields[tables[row.table_id]], cells))
    return plan


def _check_cached(row: IndicatorRow, sheets: dict[str, Cells], percent: float | None,
                  points: float | None, read: ReadReturn) -> None:
    """Problems of a row's formula cells: a formula replaced by a value, or a stored result
    that is not what the rule computes (both located on the formula's cell)."""
    for formula, computed in ((row.percent, percent), (row.score, points)):
        cell = sheets[formula.sheet].get((formula.row, formula.col))
        if cell is None or cell.formula is None:
            if cell is not None and not is_blank(cell.value):
                read.problems.append(P.make(
                    "formula-removed", **_formula_where(row, formula, read),
                    found=_short(cell.value)))
            continue
        if not cell.cached:
            continue  # re-saved without results (openpyxl): nothing to compare
        value = cell.value
        cached = value if value.__class__ is float and isfinite(value) else _number_or_none(value)
        if cached is None and computed is None or (
                cached is not None and computed is not None and abs(cached - computed) <= 1e-6):
            continue
        read.problems.append(P.make(
            "cached-mismatch", **_formula_where(row, formula, read),
            cached="blank" if cached is None else f"{cached:g}",
            computed="blank" if computed is None else f"{computed:g}"))


def _formula_where(row: IndicatorRow, formula: FormulaCell, read: ReadReturn) -> dict[str, Any]:
    return {"file": read.file, "agency_code": read.agency_code, "sheet": formula.sheet,
            "cell": formula.ref, "label": f"{formula.kind.replace('_', ' ')} of {row.item_id}"}


@lru_cache(maxsize=32)
def _cell_meta(cellmap: CellMap) -> pd.DataFrame:
    inputs = list(cellmap.inputs())
    frame = pd.DataFrame({
        "part": [c.part for c in inputs],
        "item_id": [c.item_id for c in inputs],
        "field_id": [c.field_id for c in inputs],
        "kind": [c.kind for c in inputs],
        "label": [c.label for c in inputs],
        "year": pd.array([c.year for c in inputs], dtype="Int64"),
        "sheet": [c.sheet for c in inputs],
        "cell": [c.ref for c in inputs],
    })
    for name in ("part", "item_id", "field_id", "kind", "label", "sheet", "cell"):
        frame[name] = frame[name].astype("category")
    return frame


def _by_cellmap(reads: Iterable[ReadReturn]) -> list[list[ReadReturn]]:
    groups: dict[int, list[ReadReturn]] = {}
    for read in reads:
        if read.values is not None and read.cellmap is not None:
            groups.setdefault(id(read.cellmap), []).append(read)
    return list(groups.values())


def _empty_answers() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="category") for c in ANSWER_COLUMNS})
    frame["year"] = frame["year"].astype("Int64")
    frame["value"] = frame["value"].astype(object)
    return frame


def _text(value: Any) -> str | None:
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _meta_text(value: Any) -> str | None:
    """A metadata value as text, cut to 256 characters (no metadata value is longer; the
    sheet can hold 32,767 per cell)."""
    text = _text(value)
    return text[:256] if text is not None else None


def _code(value: Any) -> str | None:
    """An agency code from a cell, in its one spelling (``identity.normalise_code``), cut to
    256 characters as metadata values are."""
    text = _text(value)
    return (normalise_code(text[:256]) or None) if text is not None else None


def _str_or_none(value: Any) -> str | None:
    return None if is_blank(value) else _display_value(value)


def _display_value(value: Any) -> str:
    """A value as a spreadsheet shows it: 85.0 as "85"."""
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e15 else repr(value)
    return str(value)


def _number_or_none(value: Any) -> float | None:
    if value.__class__ is float:
        return value if isfinite(value) else None
    return parse_number(value) if not is_blank(value) else None


def _short(value: Any, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
