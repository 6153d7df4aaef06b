"""Consolidation: many returned workbooks (and a roster) -> one dataset, nothing lost.

Every input file gets a row in ``returns`` with its state; every roster agency without a
counted return gets a ``missing`` row. Of several returns from one agency the newest counts
(by the workbook's own modification time, then the file's, then the generation time) and the
others are listed as ``duplicate``. Only counted returns (ok, ok_with_warnings) feed
``answers`` and ``indicators``; every problem of every file is in ``problems``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import problems as P
from .layout import Layout
from .problems import Problem
from .read import ReadReturn, answers_frame, indicators_frame, read_raw
from .roster import Agency, load_roster

RETURN_COLUMNS = ("file", "agency_code", "agency_name", "state", "form_id", "form_version",
                  "fiscal_year", "generated_at", "modified", "filled", "errors", "warnings")
COUNTED = ("ok", "ok_with_warnings")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


@dataclass(frozen=True)
class Consolidated:
    """The merged dataset: four frames (columns documented in the README)."""

    answers: pd.DataFrame
    indicators: pd.DataFrame
    problems: pd.DataFrame
    returns: pd.DataFrame

    def summary(self) -> dict[str, int]:
        """How many files and agencies are in each state."""
        counts = self.returns["state"].value_counts()
        return {state: int(counts.get(state, 0)) for state in
                ("ok", "ok_with_warnings", "rejected", "duplicate", "unknown_agency", "missing")}


def collect_inputs(inputs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files as given, and every file inside given folders (recursively), sorted.

    Inside folders, hidden files and the manifest are skipped; everything else is read, so a
    stray file is listed as rejected rather than silently ignored.
    """
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()
                                and not p.name.startswith(".") and p.name != "manifest.csv"))
        else:
            files.append(path)
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def consolidate(
    paths: Iterable[str | os.PathLike[str]],
    roster: str | os.PathLike[str] | Sequence[Agency] | None = None,
    *,
    layouts: Sequence[Layout] | None = None,
    progress: Callable[[Path], None] | None = None,
) -> Consolidated:
    """Merge returned workbooks into one dataset.

    Args:
        paths: Files and folders of returns.
        roster: The agencies expected (a CSV/XLSX roster path or a list of Agency).
        layouts: The layouts returns may be of (default: the bundled ones).
        progress: Called after each file is read.
    """
    agencies = _agencies(roster)
    reads: list[ReadReturn] = []
    for path in collect_inputs(paths):
        reads.append(read_raw(path, layouts))
        if progress is not None:
            progress(path)
    return merge_reads(reads, agencies)


def merge_reads(reads: list[ReadReturn], agencies: Sequence[Agency] | None) -> Consolidated:
    """The merge of already-read returns (``consolidate`` minus the reading)."""
    states = {id(r): r.state for r in reads}
    problems: list[Problem] = [p for r in reads for p in r.problems]
    roster = {a.code: a for a in agencies} if agencies is not None else None

    if roster is not None:
        for read in reads:
            if states[id(read)] in COUNTED and read.agency_code not in roster:
                states[id(read)] = "unknown_agency"
                problems.append(P.make("unknown-agency", file=read.file,
                                       agency_code=read.agency_code,
                                       agency=read.agency_code or ""))
    by_agency: dict[str, list[ReadReturn]] = {}
    for read in reads:
        if states[id(read)] in COUNTED and read.agency_code:
            by_agency.setdefault(read.agency_code, []).append(read)
    for code, group in by_agency.items():
        if len(group) < 2:
            continue
        group.sort(key=_newest_first)
        chosen = group[0]
        for other in group[1:]:
            states[id(other)] = "duplicate"
            problems.append(P.make("duplicate", file=other.file, agency_code=code, agency=code,
                                   chosen=Path(chosen.file).name))
    counted = [r for r in reads if states[id(r)] in COUNTED]

    rows = [_return_row(r, states[id(r)], roster) for r in reads]
    if roster is not None:
        returned = {r.agency_code for r in counted}
        for agency in roster.values():
            if agency.code in returned:
                continue
            rows.append({"file": None, "agency_code": agency.code,
                         "agency_name": agency.name, "state": "missing"})
            refused = [Path(r.file).name for r in reads if r.agency_code == agency.code]
            why = f"; its file(s) {', '.join(refused)} could not be counted, see their " \
                  "problems" if refused else ""
            problems.append(P.make("missing-return", file="", agency_code=agency.code,
                                   agency=agency.code, name=agency.name, why=why))
    returns = pd.DataFrame(rows, columns=list(RETURN_COLUMNS))
    for column in ("file", "agency_code", "agency_name", "state", "form_id", "form_version",
                   "generated_at", "modified"):
        returns[column] = returns[column].astype("string")
    for column in ("fiscal_year", "filled", "errors", "warnings"):
        returns[column] = returns[column].astype("Int64")
    return Consolidated(
        answers=answers_frame(counted),
        indicators=indicators_frame(counted),
        problems=P.problems_frame(problems),
        returns=returns,
    )


def _agencies(roster: str | os.PathLike[str] | Sequence[Agency] | None) -> list[Agency] | None:
    if roster is None:
        return None
    if isinstance(roster, str | os.PathLike):
        return load_roster(roster)
    return list(roster)


def _newest_first(read: ReadReturn) -> tuple[str, float, str, str]:
    # Negated through sorting order: newest modification first, then newest file, then name.
    return (_inverted(read.identity.modified or ""), -read.mtime,
            _inverted(read.identity.generated_at or ""), read.file)


def _inverted(text: str) -> str:
    return "".join(chr(0x10FFFF - ord(c)) for c in text)


def _return_row(read: ReadReturn, state: str, roster: dict[str, Agency] | None) -> dict:
    name = None
    if roster is not None and read.agency_code in roster:
        name = roster[read.agency_code].name
    elif read.identity.fields.get("agency_name"):
        name = str(read.identity.fields["agency_name"])
    return {
        "file": read.file, "agency_code": read.agency_code, "agency_name": name, "state": state,
        "form_id": read.identity.form_id, "form_version": read.identity.form_version,
        "fiscal_year": read.identity.fiscal_year, "generated_at": read.identity.generated_at,
        "modified": read.identity.modified, "filled": read.filled if read.values else 0,
        "errors": sum(1 for p in read.problems if p.severity == "error"),
        "warnings": sum(1 for p in read.problems if p.severity == "warning"),
    }
