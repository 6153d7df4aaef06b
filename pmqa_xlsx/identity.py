"""Who a return is from: the one spelling of an agency code, and the token issued with each
agency's workbook.

``normalise_code`` is the only place an agency code is normalised. The roster, the metadata
sheet and the identity block of a return all go through it, so a code typed in Thai or
full-width digits, or with spaces or invisible characters in it, is the same code as the plain
one, and can neither stand for another agency nor be told apart from its own.
``code_key`` is what two codes of one roster must not share. ``without_zeros`` and
``zeros_lost`` are the one rule for a code that lost its leading zeros (prefill's LAST,
merge's unknown agencies).

Each workbook ``generate_roster`` writes carries a random token in its metadata, recorded in
``manifest.csv``. ``load_manifest`` reads that file back; ``Manifest.problem`` says when a
return does not carry the token issued to its agency (a workbook made from another agency's,
from the blank form, or with its metadata edited).
"""

from __future__ import annotations

import csv
import hmac
import io
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import problems as P
from .cellmap import META_KEYS
from .errors import ManifestError
from .layout import META_SHEET
from .problems import Problem
from .words import Words

#: Where the token and the agency code are in the metadata sheet (column B).
TOKEN_CELL = f"B{META_KEYS.index('token') + 1}"
CODE_CELL = f"B{META_KEYS.index('agency_code') + 1}"
MANIFEST_REQUIRED = ("agency_code", "token")

_TOKEN = re.compile(r"[0-9a-f]{32}")
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): characters no font
# draws. With the formatting characters (category Cf) and spaces, they are removed from codes.
_IGNORABLE = ((0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
              (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
              (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
              (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
              (0xE0000, 0xE0FFF))


def _invisible(ch: str) -> bool:
    if ch.isspace() or unicodedata.category(ch) == "Cf":
        return True
    point = ord(ch)
    return point >= 0xAD and any(low <= point <= high for low, high in _IGNORABLE)


def normalise_code(value: object) -> str:
    """An agency code in its one spelling ("" for none).

    Unicode NFKC (full-width ``０３００５`` becomes ``03005``), every decimal digit as its
    ASCII digit (Thai ``๐๓๐๐๕``, Arabic-Indic...), and every space and invisible character
    removed (zero-width space, joiners, word joiner, byte order mark, soft hyphen, direction
    marks, variation selectors: the formatting characters and Unicode's default-ignorable
    code points). A whole number stored as a number (``3005.0``) loses its ``.0``. Case and
    leading zeros are kept: they are part of the code as issued.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value))
    kept = []
    for ch in text:
        if _invisible(ch):
            continue
        kept.append(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii()
                    else ch)
    return unicodedata.normalize("NFKC", "".join(kept))


def code_key(code: str) -> str:
    """What two codes of one roster must not share: the normalised code, case folded (two
    files named AB01 and ab01 are one file on Windows), without leading zeros (a spreadsheet
    that takes a code for a number drops them: 01001 becomes 1001)."""
    return normalise_code(code).casefold().lstrip("0") or "0"


def without_zeros(code: str) -> str | None:
    """A code of ASCII digits without its leading zeros (``3005`` for ``03005``); None for any
    other code. The one rule for "this code is that one, its leading zeros lost" (a
    spreadsheet application that takes a code for a number drops them)."""
    return code.lstrip("0") if code.isascii() and code.isdigit() else None


def zeros_lost(code: str, other: str) -> bool:
    """Whether ``code`` and ``other`` differ only by leading zeros (``3005`` and ``03005``)."""
    bare = without_zeros(code)
    return code != other and bare is not None and bare == without_zeros(other)


def new_token() -> str:
    """A fresh random token for one agency's workbook (128 bits, as 32 hex digits)."""
    return secrets.token_hex(16)


def is_token(text: str) -> bool:
    """Whether ``text`` is shaped like a token pmqa_xlsx issues."""
    return _TOKEN.fullmatch(text) is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Issued:
    """One agency's workbook as the manifest records it; ``line`` is its line in the file."""

    code: str
    token: str
    file: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class Manifest:
    """The workbooks issued in one round, by normalised agency code."""

    source: str
    issued: dict[str, Issued]

    def problem(self, file: str, agency_code: str | None, token: str | None) -> Problem | None:
        """The error for a return of ``agency_code`` carrying ``token``, or None when it
        carries the token issued to that agency. A return with no agency code is left to the
        reader's own ``no-agency-code``."""
        if not agency_code:
            return None
        name = Path(self.source).name
        issued = self.issued.get(normalise_code(agency_code))
        if issued is None:
            return P.make("not-issued", file=file, agency_code=agency_code, sheet=META_SHEET,
                          cell=CODE_CELL, agency=agency_code, manifest=name)
        where: dict[str, Any] = {"file": file, "agency_code": agency_code, "sheet": META_SHEET,
                 "cell": TOKEN_CELL, "agency": agency_code, "manifest": name,
                 "line": issued.line}
        if not token:
            return P.make("token-missing", **where)
        if not hmac.compare_digest(token.strip().encode(), issued.token.encode()):
            return P.make("token-mismatch", **where)
        return None


_UNEDITED = Words("กรุณาใช้ไฟล์ manifest.csv ที่ 'pmqa-xlsx generate --roster' เขียนไว้ "
                  "โดยไม่แก้ไข",
                  "use the manifest.csv that 'pmqa-xlsx generate --roster' wrote, unedited")
_GIVE = Words("กรุณาใช้ไฟล์ manifest.csv ที่ 'pmqa-xlsx generate --roster' เขียนไว้",
              "give the manifest.csv that 'pmqa-xlsx generate --roster' wrote")


def load_manifest(path: str | os.PathLike[str]) -> Manifest:
    """Read the ``manifest.csv`` that ``generate_roster`` wrote; raise ManifestError listing
    every problem with its line."""
    source = Path(path)
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise ManifestError(str(source), [Words(
            f"เปิดอ่านไฟล์ไม่ได้ ({exc.strerror or exc})",
            f"cannot read the file ({exc.strerror or exc})")]) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ManifestError(str(source), [Words(
            f"บรรทัดที่ {line}: ไฟล์ไม่ใช่ข้อความ UTF-8 " + _UNEDITED.th,
            f"line {line}: the file is not UTF-8 text; " + _UNEDITED.en)]) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise ManifestError(str(source), [Words(
            f"บรรทัดที่ {reader.line_num}: อ่านเป็น CSV ไม่ได้ ({exc}) " + _UNEDITED.th,
            f"line {reader.line_num}: {exc}; " + _UNEDITED.en)]) from exc
    return check_manifest(str(source), header, rows)


def check_manifest(source: str, header: list[str],
                   rows: list[tuple[int, list[str]]]) -> Manifest:
    """A Manifest from a header and (line, cells) rows, or ManifestError with every problem."""
    names = [h.strip().lower() for h in header]
    missing = [c for c in MANIFEST_REQUIRED if c not in names]
    if missing:
        found = ", ".join(h for h in header if h.strip())
        hint = Words("ไฟล์นี้สร้างก่อนที่แบบฟอร์มจะมีรหัสกำกับ กรุณาสร้างแบบฟอร์มใหม่แล้วส่ง"
                     "ฉบับนั้น หรือรวมผลโดยไม่ใช้ --manifest",
                     "it was written before workbooks carried a token: generate the workbooks "
                     "again and send those, or merge without --manifest") \
            if missing == ["token"] else _GIVE
        raise ManifestError(source, [Words(
            f"บรรทัดที่ 1: ไม่มีคอลัมน์ {', '.join(missing)} (พบ: {found or 'ไม่มีเลย'}) "
            + hint.th,
            f"line 1: missing column {', '.join(missing)} (found: {found or 'nothing'}); "
            + hint.en)])
    at = {name: names.index(name) for name in (*MANIFEST_REQUIRED, "file") if name in names}
    problems: list[Words] = []
    issued: dict[str, Issued] = {}
    tokens: dict[str, int] = {}
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue

        def get(column: str, cells: list[str] = cells) -> str:
            i = at.get(column)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        code, token = normalise_code(get("agency_code")), get("token")
        if not code:
            problems.append(Words(f"บรรทัดที่ {line}: ไม่มีรหัสหน่วยงาน (agency_code) "
                                  + _UNEDITED.th,
                                  f"line {line}: agency_code is empty; " + _UNEDITED.en))
        elif code in issued:
            first = issued[code].line
            problems.append(Words(f"บรรทัดที่ {line}: รหัสหน่วยงาน {code!r} ซ้ำกับบรรทัดที่ "
                                  f"{first} " + _UNEDITED.th,
                                  f"line {line}: agency_code {code!r} is listed again (first "
                                  f"at line {first}); " + _UNEDITED.en))
        if not is_token(token):
            shown = Words("ว่าง", "empty") if not token else Words(
                f"{token[:40]!r} ซึ่งไม่ใช่เลขฐานสิบหก 32 หลัก",
                f"{token[:40]!r}, not 32 hexadecimal digits")
            problems.append(Words(f"บรรทัดที่ {line}: รหัสกำกับ (token) {shown.th} "
                                  + _UNEDITED.th,
                                  f"line {line}: the token is {shown.en}; " + _UNEDITED.en))
        elif token in tokens:
            problems.append(Words(f"บรรทัดที่ {line}: รหัสกำกับ (token) ซ้ำกับบรรทัดที่ "
                                  f"{tokens[token]} ทั้งที่แบบฟอร์มของแต่ละหน่วยงานมีรหัสของตน"
                                  "เอง " + _UNEDITED.th,
                                  f"line {line}: the token is the same as line "
                                  f"{tokens[token]}'s; every agency's workbook has its own: "
                                  + _UNEDITED.en))
        else:
            tokens[token] = line
        if code and code not in issued:
            issued[code] = Issued(code=code, token=token, file=get("file"), line=line)
    if not issued and not problems:
        problems.append(Words("รายการนี้ไม่มีแบบฟอร์มเลย " + _GIVE.th,
                              "the manifest lists no workbooks; " + _GIVE.en))
    if problems:
        raise ManifestError(source, problems)
    return Manifest(source, issued)
