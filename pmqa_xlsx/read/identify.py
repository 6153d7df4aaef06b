"""Which file, and which form: what is never a return (by its name), what is not a workbook
(by its first bytes), the set of layouts a call reads with, the metadata sheet, and the
layout a return is matched to; and the record of the cells ``generate --prefill`` carried
over (``untouched``), by which a pre-filled return the agency sent back without typing
anything is read as empty.

A return is matched by the layout fingerprint in its metadata first: the exact layout it was
made from, even among several edits of one version. If no layout given has that fingerprint
but one has its form id and version, the return was made from another edit of that version
(``layout-edited``): it is read with the layout of that version whose labels it matches.
A form or version that no layout given describes is refused, saying both what the agency
and what the central office may have to do: the file may be another round's, or the layouts
given may not be the ones the workbooks were made from.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from .. import problems as P
from ..layout import (
    META_CARRIED_KEY,
    META_CARRIED_MAX,
    META_CARRIED_ROW,
    META_SHEET,
    Layout,
    bundled_layouts,
    fiscal_year_problem,
    load_layouts,
)
from ..problems import Problem
from ..values import parse_number
from ..words import Words, in_lang
from ..xlsxread import Cell, FileRefused, Package
from .plan import Plan
from .records import Identity
from .text import code, meta_text, short

#: Files that are never returns: Excel's and LibreOffice's lock files, and what operating
#: systems leave in folders. They are listed (with a warning), never read.
LOCK_PREFIXES = ("~$", ".~lock.")
SYSTEM_FILES = {".ds_store", "thumbs.db", "desktop.ini"}
#: Temporary and partial files, never returns either: pmqa_xlsx's own (``.NAME.XXXX.tmp``,
#: see outputs.py), other programs' (Word's ``~WRL0001.tmp``, LibreOffice's ``lu1234.tmp``)
#: and downloads or copies under way. Listed (with a warning), never opened.
TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download",
                 ".opdownload", ".filepart")
#: Layouts named one by one in a message that lists the layouts given.
LAYOUTS_LISTED = 8

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
_ODS_MIME = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"


_NOT_RETURNS = (
    (lambda n: n.startswith(LOCK_PREFIXES) or n.lower() in SYSTEM_FILES,
     {"what": Words("ไฟล์ล็อกที่ Excel หรือ LibreOffice สร้างไว้ขณะเปิดแบบฟอร์ม หรือไฟล์ที่"
                    "ระบบปฏิบัติการสร้างไว้เอง",
                    "a lock file that Excel or LibreOffice leaves while a workbook is open, or "
                    "a file the operating system keeps"),
      "fix": Words("กรุณาปิดแบบฟอร์มนั้น หรือลบไฟล์นี้ออกจากโฟลเดอร์",
                   "close the workbook, or delete this file from the folder")}),
    (lambda n: n.lower().endswith(TEMP_SUFFIXES),
     {"what": Words("ไฟล์ชั่วคราวหรือไฟล์ที่เขียนยังไม่เสร็จ (กำลังบันทึก คัดลอก หรือ"
                    "ดาวน์โหลดอยู่ หรือถูกขัดจังหวะ)",
                    "a temporary or partly written file (a save, a copy or a download under "
                    "way, or one that was interrupted)"),
      "fix": Words("กรุณารอจนเสร็จแล้วใช้ไฟล์ที่เสร็จแล้ว หรือลบไฟล์นี้ออกจากโฟลเดอร์",
                   "wait until it is finished and use the finished file, or delete this one "
                   "from the folder")}),
)


def never_a_return(file_name: str) -> dict[str, Any] | None:
    """What a file is, by its name alone, if it can never be a return (a lock, system,
    temporary or partial file): the ``what`` and ``fix`` (Words) of its not-a-return problem."""
    for matches, words in _NOT_RETURNS:
        if matches(file_name):
            return words
    return None


def sniff(path: Path) -> tuple[str, dict[str, Any]] | None:
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


# --------------------------------------------------------------------------------------------
# The layouts of a call
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LayoutSet:
    """The layouts one call reads returns with, in the order given (one per fingerprint),
    indexed by fingerprint and by (form id, version)."""

    layouts: tuple[Layout, ...]
    by_fingerprint: dict[str, Layout]
    by_version: dict[tuple[str, str], tuple[Layout, ...]]

    @classmethod
    def of(cls, layouts: Sequence[Layout]) -> LayoutSet:
        by_fingerprint: dict[str, Layout] = {}
        for layout in layouts:
            by_fingerprint.setdefault(layout.fingerprint, layout)
        unique = tuple(by_fingerprint.values())
        by_version: dict[tuple[str, str], tuple[Layout, ...]] = {}
        for layout in unique:
            version = (layout.form.id, layout.form.version)
            by_version[version] = (*by_version.get(version, ()), layout)
        return cls(unique, by_fingerprint, by_version)

    def describe(self) -> Words:
        """The layouts, for a message: ``form version (file)``, the first few by name."""
        shown = [(lo.form.id, lo.form.version, _file_name(lo))
                 for lo in self.layouts[:LAYOUTS_LISTED]]
        more = len(self.layouts) - LAYOUTS_LISTED
        return Words("; ".join(f"{f} รุ่น {v} ({in_lang(n, 'th')})" for f, v, n in shown)
                     + (f"; และอีก {more} ไฟล์" if more > 0 else ""),
                     "; ".join(f"{f} {v} ({in_lang(n, 'en')})" for f, v, n in shown)
                     + (f"; and {more} more" if more > 0 else ""))


def layout_set(layouts: Sequence[Layout] | None) -> LayoutSet:
    """The layouts a call reads with: those given (they replace the bundled ones), or the
    bundled ones for None (loaded once, and again when a bundled file changes).

    Raises:
        LayoutsError: a bundled layout does not load (every broken file listed).
        ValueError: an empty sequence was given.
    """
    if layouts is None:
        return _bundled()
    if isinstance(layouts, Layout) or not all(isinstance(lo, Layout) for lo in layouts):
        raise TypeError("layouts: give a sequence of Layout (load_layout, load_layouts), "
                        "or None for the bundled ones")
    if not layouts:
        raise ValueError("layouts: give at least one layout, or None for the bundled ones")
    return LayoutSet.of(layouts)


_BUNDLED: list[tuple[tuple[Any, ...], LayoutSet]] = []  # (the files' signature, their set)
_BUNDLED_LOCK = threading.Lock()


def _bundled() -> LayoutSet:
    paths = list(bundled_layouts().values())
    signature = tuple(_signature(p) for p in paths)
    with _BUNDLED_LOCK:
        if _BUNDLED and _BUNDLED[0][0] == signature:
            return _BUNDLED[0][1]
    found = LayoutSet.of(load_layouts())  # raises LayoutsError, listing every broken file
    with _BUNDLED_LOCK:
        _BUNDLED[:] = [(signature, found)]
    return found


def _signature(path: Path) -> tuple[str, int, int]:
    try:
        status = path.stat()
    except OSError:
        return (str(path), -1, -1)
    return (str(path), status.st_mtime_ns, status.st_size)


# --------------------------------------------------------------------------------------------
# The metadata sheet, and the layout a return is of
# --------------------------------------------------------------------------------------------


class Match(NamedTuple):
    """The layouts a return may be read with: the one whose fingerprint it carries, or, made
    from another edit of that version (``edited``), those of its form id and version."""

    layouts: tuple[Layout, ...]
    edited: bool


def identify(package: Package, file: str,
             known: LayoutSet) -> tuple[Identity, Match | None, list[Problem]]:
    """Who returned the file and which form it is, from its metadata sheet; the layouts it
    matches (None if it is refused: then the problems say why) and the problems so far."""
    meta_sheet = package.sheet(META_SHEET)
    if meta_sheet is None:
        return Identity(), None, [P.make("no-metadata", file=file, sheet=META_SHEET)]
    cells = package.read_cells(meta_sheet, max_row=50, max_col=2).cells
    meta = {str(cells[(r, 0)].value).strip(): cells.get((r, 1), Cell(None)).value
            for r in range(50) if (r, 0) in cells}
    form_id, version = meta_text(meta.get("form_id")), meta_text(meta.get("form_version"))
    fingerprint = meta_text(meta.get("layout_fingerprint"))
    modified, bad_properties = package.modified()
    identity = Identity(
        agency_code=code(meta.get("agency_code")), form_id=form_id, form_version=version,
        fingerprint=fingerprint, generated_at=meta_text(meta.get("generated_at")),
        modified=modified, token=meta_text(meta.get("token")),
    )
    match, refused = _match(identity, file, known)
    if refused is not None:
        return identity, None, [refused]
    assert match is not None
    year = parse_number(meta.get("fiscal_year"))
    if year is None or not float(year).is_integer() or abs(year) > 1e6 \
            or fiscal_year_problem(int(year)):
        return identity, None, [P.make(
            "bad-metadata", file=file, sheet=META_SHEET, cell="B4",
            detail=Words(f"ปีงบประมาณ {short(repr(meta.get('fiscal_year')))} ไม่ถูกต้อง",
                         f"fiscal year {short(repr(meta.get('fiscal_year')))}"))]
    identity = Identity(**{**identity_dict(identity), "fiscal_year": int(year)})
    problems: list[Problem] = []
    if bad_properties:
        problems.append(P.make("unreadable-properties", file=file))
    if match.edited:
        problems.append(edited_problem("layout-edited", file, identity, match.layouts[0],
                                       sheet=META_SHEET, cell="B3"))
    return identity, match, problems


def edited_problem(code_: str, file: str, identity: Identity, layout: Layout, *,
                   sheet: str | None, cell: str | None, **fields: Any) -> Problem:
    """``layout-edited`` or ``layout-changed``: a return of another edit of ``layout``'s
    version, read (or not) with ``layout``."""
    return P.make(code_, file=file, sheet=sheet, cell=cell, form=layout.form.id,
                  version=layout.form.version, source=_file_name(layout),
                  found=_fingerprint_text(identity.fingerprint),
                  expected=_fingerprint_text(layout.fingerprint), **fields)


def identity_dict(identity: Identity) -> dict[str, Any]:
    return {name: getattr(identity, name) for name in Identity.__dataclass_fields__}


def untouched(package: Package, plan: Plan, values: Sequence[Any],
              filled: Sequence[int]) -> bool:
    """Whether the return's only filled answers are cells ``generate --prefill`` carried over,
    each still holding the value carried: the agency typed nothing (the reader then reads it
    as empty). False if no answer is filled (that is plainly empty), or if the metadata holds
    no record of carried cells, or one that is not well formed.

    The record (rows of META_CARRIED_KEY, sheet, cell, value from META_CARRIED_ROW of the
    metadata sheet) comes from the file, so it is untrusted: a record with a row that is not
    exactly that shape, names a cell that generate never carries (only an indicator row's
    name, unit, direction and results of years other than the target's), names a cell twice,
    or goes on beyond META_CARRIED_MAX rows is ignored whole, and the return is read as any
    other. That is safe whatever the record says: the only thing a forged record can do is
    make the reader call a return empty whose every filled answer equals the record, and
    such a return holds nothing but what its record says was put there for the agency.

    ``filled``: the indices of the filled answers (the reader has worked them out).
    """
    if not filled:
        return False
    carriable = plan.carriable
    if not carriable.issuperset(filled):  # a status, a text, a target: typed by the agency
        return False
    record = _carried_record(package, plan, carriable)
    return record is not None and all(
        i in record and _same(values[i], record[i]) for i in filled)


def has_carried(package: Package, plan: Plan) -> bool:
    """Whether the metadata holds a well-formed record of cells ``generate --prefill``
    carried over (see ``untouched``): the workbook was pre-filled."""
    return _carried_record(package, plan, plan.carriable) is not None


# --------------------------------------------------------------------------------------------
# Private
# --------------------------------------------------------------------------------------------


def _carried_record(package: Package, plan: Plan,
                    carriable: frozenset[int]) -> dict[int, Any] | None:
    """The metadata's record of carried cells: input index -> value carried; None when there
    is none or it is not well formed (see ``untouched``)."""
    meta_sheet = package.sheet(META_SHEET)
    if meta_sheet is None:
        return None
    last = META_CARRIED_ROW + META_CARRIED_MAX
    try:
        data = package.read_cells(meta_sheet, max_row=last, max_col=4)
    except FileRefused:
        return None
    if data.beyond is not None:  # beyond the window: more rows, or more columns
        return None
    cells = data.cells
    rows = sorted({r for r, _ in cells if r >= META_CARRIED_ROW})
    if not rows:
        return None
    if rows != list(range(META_CARRIED_ROW, META_CARRIED_ROW + len(rows))):
        return None  # a gap: not a record generate writes
    record: dict[int, Any] = {}
    for row in rows:
        key, sheet, ref, value = (cells.get((row, col)) for col in range(4))
        if key is None or key.value != META_CARRIED_KEY or key.formula is not None:
            return None
        if sheet is None or ref is None or value is None or any(
                c.formula is not None for c in (sheet, ref, value)):
            return None
        if not isinstance(sheet.value, str) or not isinstance(ref.value, str):
            return None
        index = plan.input_at(sheet.value, ref.value)
        if index is None or index not in carriable or index in record:
            return None
        carried = value.value
        if isinstance(carried, bool) or not isinstance(carried, str | float) or (
                isinstance(carried, float) and not math.isfinite(carried)):
            return None
        record[index] = carried
    return record


def _same(found: Any, carried: Any) -> bool:
    """A value read equal to the value carried: text exactly, a number to the 15 significant
    digits a spreadsheet application keeps when it saves the workbook again."""
    if isinstance(found, float) and isinstance(carried, float):
        return math.isclose(found, carried, rel_tol=1e-14, abs_tol=0.0) or found == carried
    return found.__class__ is carried.__class__ and found == carried


def _match(identity: Identity, file: str,
           known: LayoutSet) -> tuple[Match | None, Problem | None]:
    form_id, version = identity.form_id or "", identity.form_version or ""
    exact = known.by_fingerprint.get(identity.fingerprint or "")
    if exact is not None and (exact.form.id, exact.form.version) == (form_id, version):
        return Match((exact,), edited=False), None
    same = known.by_version.get((form_id, version))
    if same and exact is not None:
        # made from one layout given, and claiming another's form and version: no generator
        # writes that; _meta was typed over
        which, found = ("id", form_id) if exact.form.id != form_id else ("version", version)
        return None, P.make(
            "bad-metadata", file=file, sheet=META_SHEET, cell="B1" if which == "id" else "B2",
            detail=Words(f"{'รหัสแบบฟอร์ม' if which == 'id' else 'รุ่นของแบบฟอร์ม'} "
                         f"{short(found)!r} ไม่ตรงกับรหัสตรวจสอบไฟล์แม่แบบ ซึ่งเป็นของแบบฟอร์ม "
                         f"{exact.form.id} รุ่น {exact.form.version}",
                         f"form {which} {short(found)!r} does not go with its layout "
                         f"fingerprint, which is form {exact.form.id} version "
                         f"{exact.form.version}'s"))
    if same:
        return Match(same, edited=True), None
    if not any(f == form_id for f, _ in known.by_version):
        return None, P.make("other-form", file=file, sheet=META_SHEET, cell="B1",
                            found=short(form_id), known=known.describe())
    return None, P.make("unknown-version", file=file, sheet=META_SHEET, cell="B2",
                        form=short(form_id), found=short(version), known=known.describe())


def _file_name(layout: Layout) -> str | Words:
    return Path(layout.source).name if layout.source else Words(
        "ไฟล์แม่แบบที่ไม่ได้มาจากไฟล์", "a layout without a file")


def _fingerprint_text(fingerprint: str | None) -> str | Words:
    return short(fingerprint, 13) if fingerprint else Words("ไม่มี", "none")


def _looks_like(head: bytes) -> Words:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table")):
        return Words("หน้าเว็บ (HTML) ที่เปลี่ยนชื่อเป็น .xlsx", "a web page (HTML) renamed to .xlsx")
    if text.startswith(b"<?xml"):
        return Words("ไฟล์ XML", "an XML file")
    if b"," in text[:400] or b";" in text[:400] or b"\t" in text[:400]:
        return Words("ไฟล์ CSV หรือไฟล์ข้อความธรรมดา", "CSV or plain text")
    return Words("ไฟล์ชนิดที่ไม่รู้จัก", "an unknown format")
