"""The roster: which agencies a round goes to (CSV or XLSX with ``agency_code``,
``agency_name`` and an optional ``ministry``).

Loading checks every row before anything is written: a missing or duplicate code, a missing
name, or a code that cannot be a file name is reported with its line number. Codes are
normalised by ``identity.normalise_code`` (the same as in returns), so ``๐๓๐๐๕`` is 03005;
two codes that are one once normalised, or differ only in case or leading zeros, are refused.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import RosterError
from .identity import code_key, normalise_code

REQUIRED_COLUMNS = ("agency_code", "agency_name")
OPTIONAL_COLUMNS = ("ministry",)

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\s]')
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}


@dataclass(frozen=True, slots=True, kw_only=True)
class Agency:
    """One agency of the roster; ``line`` is where it was found (1 is the header)."""

    code: str
    name: str
    ministry: str = ""
    line: int = 0

    @property
    def file_name(self) -> str:
        return f"{self.code}.xlsx"


def load_roster(path: str | Path) -> list[Agency]:
    """Read and check a roster; raise RosterError listing every bad row."""
    source = Path(path)
    try:
        if source.suffix.lower() in {".xlsx", ".xlsm"}:
            header, rows = _read_xlsx(source)
        else:
            header, rows = _read_csv(source)
    except RosterError:
        raise
    except Exception as exc:  # noqa: BLE001 - any unreadable file becomes one located problem
        raise RosterError(str(source), [f"cannot read the file: {exc}"]) from exc
    return check_roster(str(source), header, rows)


def check_roster(source: str, header: list[str], rows: list[tuple[int, list[str]]]) -> list[Agency]:
    """Agencies from a header and (line, cells) rows, or RosterError with every problem."""
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        found = ", ".join(h for h in header if h.strip()) or "nothing"
        raise RosterError(source, [
            f"line 1: missing column {', '.join(missing)} (found: {found}); the header needs "
            f"{', '.join(REQUIRED_COLUMNS)} and may have {', '.join(OPTIONAL_COLUMNS)}"
        ])
    index = {name: names.index(name) for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
             if name in names}
    problems: list[str] = []
    agencies: list[Agency] = []
    seen: dict[str, tuple[int, str]] = {}  # code_key -> (line, code)
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue

        def get(column: str, cells: list[str] = cells) -> str:
            i = index.get(column)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        typed, name = get("agency_code"), get("agency_name")
        code = normalise_code(typed)
        if not code:
            what = "empty" if not typed else "only spaces or invisible characters"
            problems.append(f"line {line}: agency_code is {what}; give every agency its code")
        else:
            bad = file_name_problem(code)
            if bad:
                problems.append(f"line {line}: agency_code {_shown(typed, code)} {bad}")
            elif code_key(code) in seen:
                problems.append(_clash(line, typed, code, *seen[code_key(code)]))
            else:
                seen[code_key(code)] = (line, code)
        if not name:
            problems.append(f"line {line}: agency_name is empty; give the agency's name")
        for column, value in (("agency_name", name), ("ministry", get("ministry"))):
            if _CONTROL.search(value):
                problems.append(f"line {line}: {column} holds a control character; retype it")
        agencies.append(Agency(code=code, name=name, ministry=get("ministry"), line=line))
    if not agencies and not problems:
        problems.append("the roster has no agencies; add one row per agency under the header")
    if problems:
        raise RosterError(source, problems)
    return agencies


def _shown(typed: str, code: str) -> str:
    """A code as the roster has it, and as it reads once normalised when that differs."""
    return repr(typed) if typed == code else f"{typed!r} (read as {code!r})"


def _clash(line: int, typed: str, code: str, first_line: int, first: str) -> str:
    """Why a code cannot stand beside an earlier one (same ``code_key``)."""
    if code.casefold() == first.casefold():  # AB01 and ab01 would share a file on Windows
        return (f"line {line}: agency_code {_shown(typed, code)} is a duplicate of line "
                f"{first_line}; give each agency its own code")
    return (f"line {line}: agency_code {_shown(typed, code)} differs from {first!r} (line "
            f"{first_line}) only by leading zeros, which a spreadsheet drops when it takes a "
            "code for a number; give each agency a code that differs in more than leading "
            "zeros")


def check_agencies(agencies: list[Agency], source: str = "the list of agencies") -> list[Agency]:
    """Agencies given as objects pass the same checks as a roster file's rows."""
    header = ["agency_code", "agency_name", "ministry"]
    rows = [(a.line or i + 2, [a.code, a.name, a.ministry]) for i, a in enumerate(agencies)]
    return check_roster(source, header, rows)


def file_name_problem(code: str) -> str | None:
    """Why ``code`` cannot name a file on every system, or None if it can."""
    bad = sorted(set(_UNSAFE.findall(code)))
    if bad:
        shown = " ".join(repr(c) for c in bad)
        return f"has characters unsafe in a file name ({shown}); use letters, digits, - _ ."
    if not code[0].isalnum():
        return "must start with a letter or a digit"
    if code.endswith("."):
        return "must not end with '.'"
    if code.split(".")[0].upper() in _RESERVED:
        return "is a name Windows reserves for devices; choose another code"
    if len(code) > 64:
        return f"is {len(code)} characters; use at most 64"
    return None


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RosterError(str(path), [
            f"line {line}: the file is not UTF-8 text; in Excel use Save As → "
            "'CSV UTF-8 (Comma delimited)'"
        ]) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    rows = [(reader.line_num, row) for row in reader]
    return header, rows


def _read_xlsx(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = [(i, [_cell_text(v) for v in values])
                for i, values in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()
    if not rows:
        return [], []
    return rows[0][1], rows[1:]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
