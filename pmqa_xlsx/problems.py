"""The catalogue of problems: every code the reader and the merge report, with its severity
and message template, in one place.

A problem says where (file, sheet, cell), what is wrong and how to fix it. Codes are stable
slugs; tests build the expected text from the same templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

Severity = Literal["error", "warning"]

PROBLEM_COLUMNS = ("file", "agency_code", "sheet", "cell", "severity", "code", "message")


@dataclass(frozen=True, slots=True)
class Code:
    slug: str
    severity: Severity
    template: str
    rejects: bool = False  # the whole file is refused


_GIVEN = "the layouts given: {known}"
_CHECK = "{label}: {message_en} ({message_th})"
_RESEND = "fill in the workbook the ministry sent, in Excel or LibreOffice, and send that file"

_CODES = [
    # The file as a whole: nothing can be read from it.
    Code("unreadable", "error", "{detail}; check that the file is not open in another "
         "program and that you may read it", True),
    Code("too-large", "error", "{detail}", True),
    Code("damaged-file", "error", "{detail}", True),
    Code("not-a-workbook", "error", "{detail}; it was not opened further: " + _RESEND, True),
    Code("not-excel", "error", "the file is not an Excel workbook (it looks like {kind}); "
         "send the .xlsx workbook the ministry sent, filled in", True),
    Code("strict-ooxml", "error", "{detail}", True),
    Code("zip-bomb", "error", "{detail}; it was not opened further: " + _RESEND, True),
    Code("xml-doctype", "error", "{detail}; it was not opened further: " + _RESEND, True),
    Code("old-excel-format", "error", "the file is an old Excel 97-2003 workbook (.xls); open "
         "it in Excel and save it as 'Excel Workbook (.xlsx)'", True),
    Code("password-protected", "error", "the file is encrypted with a password to open; save "
         "it again without a password (File > Info > Protect Workbook) and resend it", True),
    Code("ods-file", "error", "the file is an OpenDocument spreadsheet (.ods); in LibreOffice "
         "use File > Save As, choose 'Excel 2007-365 (.xlsx)', and send that file", True),
    Code("macro-workbook", "error", "the file contains macros (.xlsm); macros are never run or "
         "accepted: save it as 'Excel Workbook (.xlsx)'", True),
    Code("inconsistent-package", "error", "{detail}: Excel would not read this file as it is "
         "stored, so what it shows cannot be vouched for; open the workbook in Excel or "
         "LibreOffice, save it again and send that copy, or " + _RESEND, True),
    Code("reader-failed", "error", "the file could not be read ({detail}); this is a fault of "
         "pmqa_xlsx, please report it with the file; meanwhile, open the file in Excel or "
         "LibreOffice, save it again and send that copy", True),
    Code("not-a-return", "warning", "this is {what}; it is not read ({fix})", True),
    Code("no-metadata", "error", "the workbook has no '{sheet}' metadata sheet, so it is not a "
         "form made by pmqa_xlsx (or the sheet was deleted); fill in the workbook the ministry "
         "sent", True),
    Code("other-form", "error", "the workbook is form '{found}', which none of the layouts "
         "given describes (" + _GIVEN + "); either it is not this round's workbook (then "
         "fill in the workbook the ministry sent for this round and send that file), or the "
         "layouts given are not the ones the workbooks were made from (then the central office "
         "should check or merge with that form's layout file)", True),
    Code("unknown-version", "error", "the workbook is form '{form}' version '{found}', and no "
         "layout given is of that version (" + _GIVEN + "); either it is another round's "
         "workbook (then fill in the current workbook the ministry sent and send that file), "
         "or the layouts given are not the ones the workbooks were made from (then the central "
         "office should check or merge with that version's layout file)", True),
    Code("layout-changed", "error", "{what}: the workbook was made from another edit of form "
         "{form} version {version} than the layout given for it ({source}; layout "
         "fingerprints {found} in the workbook, {expected} in the layout), and the two edits "
         "differ here, so nothing was read; this is most likely not the agency's doing: the "
         "central office should give the layout file the workbooks were made from, and "
         "check or merge with it", True),
    Code("bad-metadata", "error", "the metadata sheet is damaged ({detail}); fill in a fresh "
         "copy of the workbook", True),
    Code("structure-changed", "error", "expected {expected!r} here but found {found!r}{shift}: "
         "the sheet was unprotected and rows or columns were inserted, deleted or edited; copy "
         "the answers into a fresh copy of the workbook", True),
    Code("missing-sheet", "error", "the sheet '{sheet}' is missing or renamed; fill in a fresh "
         "copy of the workbook", True),
    Code("no-agency-code", "error", "the agency code is empty, so the return cannot be matched "
         "to an agency; type the agency's code in {sheet}!{cell}", True),
    Code("agency-code-mismatch", "error", "the agency code {found!r} differs from the code "
         "{expected!r} this workbook was made for; use the workbook sent to your agency", True),
    # The folders: an entry the walk of a folder cannot follow is listed, never opened.
    Code("broken-link", "error", "this is a link to {target}, which {why}; nothing was read "
         "through it: delete the link, or put the return itself here", True),
    Code("folder-loop", "warning", "this link leads back to {target}, a folder that holds it, "
         "so it was not followed (the files there are read once, from that folder); delete "
         "the link", True),
    Code("unreadable-folder", "error", "this folder could not be read (it {why}), so no return "
         "in it was read; check that you may open it, or copy the returns into a folder you "
         "can read", True),
    Code("too-deep", "error", "this folder is {depth} folders below {root}, deeper than the "
         "{limit} a check or a merge goes, so nothing in it was read; move the returns it "
         "holds nearer the top", True),
    Code("bad-file-name", "warning", "the name of this file (or of a folder above it) is not "
         "valid UTF-8 text, so its odd bytes are shown as \\xNN; the file was read, but "
         "rename it (letters, digits, - _ .) so that everyone can tell which file it is"),
    # One cell: the return is read, but must be fixed before it counts.
    Code("not-a-number", "error", "{label}: {found!r} is not a number; type digits only, "
         "such as 85 or 1,250.5"),
    Code("number-as-text", "error", "{label}: {found!r} is text, not a number, so the form's "
         "formulas do not count it (percent success and score stay blank); type it again as "
         "the number {number}, in Arabic digits (พิมพ์ใหม่เป็นตัวเลขอารบิก {number})"),
    Code("number-out-of-range", "error", "{label}: {found} is not allowed; {rule}"),
    Code("bad-status", "error", "{label}: {found!r} is not one of the statuses; choose one of: "
         "{choices}"),
    Code("bad-choice", "error", "{label}: {found!r} is not one of the choices; choose one of: "
         "{choices}"),
    Code("formula-in-input", "error", "{label}: the cell holds a formula ({formula}); type the "
         "value itself"),
    Code("error-value", "error", "{label}: the cell shows the error {found}; type the value "
         "itself"),
    Code("typed-as-percent", "error", "{label}: the cell is formatted as a percentage, so the "
         "spreadsheet stored {found} for what was typed; type the number itself (85 for "
         "85%) in a fresh copy of the form"),
    Code("typed-as-date", "error", "{label}: the cell is formatted as a date or time, so the "
         "spreadsheet stored {found} for what was typed; type the number itself"),
    Code("format-hides-value", "error", "{label}: the cell holds {found} but its format shows "
         "{shown}, so what is counted is not what the form shows; clear the cell and type the "
         "value again in a fresh copy of the form"),
    Code("unknown-style", "error", "{label}: the cell uses a style (number {style}) that the "
         "workbook does not define, so how a spreadsheet shows it is unknown; clear the cell "
         "and type the value again in a fresh copy of the form"),
    Code("rich-value", "error", "{label}: the cell shows a picture or linked data, not a "
         "typed value; delete it and type the value itself"),
    Code("conditional-number-format", "error", "a conditional format on this sheet changes how "
         "numbers are shown, so a cell may show another value than the one counted; copy the "
         "answers into a fresh copy of the workbook"),
    Code("misplaced-value", "error", "a value where the form has none: {found!r}; the sheet "
         "was unprotected and edited, so values may have moved: copy the answers into a fresh "
         "copy of the workbook"),
    Code("far-cell", "error", "a cell far outside the form (row {row:,}, column {col:,}) holds "
         "something; no one types there, so the file was edited outside the form or made by "
         "another tool, and it was not read beyond the form: copy the answers into a fresh "
         "copy of the workbook"),
    Code("text-too-long", "error", "{label}: the text is {length:,} characters; shorten it to "
         "at most {limit:,}"),
    # The form's own checks (the layout's checks:, pmqa_xlsx.checks): each message is the
    # layout's English, then its Thai, which the workbook shows live. The severity here is the
    # default; the layout declares each check's own.
    Code("status-required", "error", _CHECK),
    Code("details-required", "error", _CHECK),
    Code("details-unexpected", "warning", _CHECK),
    Code("indicator-needs-name", "error", _CHECK),
    Code("result-without-target", "error", _CHECK),
    Code("target-without-result", "warning", _CHECK),
    # Warnings: the return counts, but someone should look.
    Code("stray-value", "warning", "a value outside the form's input cells was ignored: "
         "{found!r}; type answers only in the yellow cells"),
    Code("many-stray-values", "warning", "{count:,} more values outside the form's input cells "
         "were ignored (the first {listed} are listed); type answers only in the yellow cells"),
    Code("shown-as-formatted", "warning", "{label}: the cell holds the number {found} formatted "
         "as a {what} (a pasted cell), so it is read as the spreadsheet shows it, {shown}; "
         "check that this is the answer, and type it as text if not"),
    Code("lost-character", "warning", "{label}: the text holds '\ufffd', a character lost in "
         "copying or saving (in the file it may be an unpaired surrogate, which no text can "
         "hold); check the text and type the lost character again"),
    Code("hidden-input", "warning", "{label}: the cell is in a hidden row or column, so its "
         "value {found!r} may not have been seen; it is read: unhide the row or column and "
         "check it"),
    Code("hidden-sheet", "warning", "the sheet is hidden, so its {count:,} filled answers may "
         "not have been seen; they are read: unhide the sheet (right-click a sheet tab, "
         "Unhide) and check them"),
    Code("covered-input", "warning", "{label}: the cell is inside merged cells, which show "
         "only the first cell's value, so its value {found!r} is not shown; it is read: "
         "unmerge the cells and check it"),
    Code("drawing-over-form", "warning", "the sheet has pictures or shapes drawn over it; they "
         "are not read and may cover answers: delete them, or check that none hides a cell"),
    Code("unreadable-properties", "warning", "the workbook's document properties (docProps) are "
         "damaged or oversized, so the time it was last saved is unknown: if the agency sent "
         "another return, that one counts; save the file again from Excel to mend it"),
    Code("cached-mismatch", "warning", "{label}: the workbook showed {cached} but the rule gives "
         "{computed}; the recomputed value is used"),
    Code("formula-removed", "warning", "{label}: the formula was replaced by a value ({found!r}); "
         "the recomputed value is used"),
    Code("layout-edited", "warning", "the workbook was made from another edit of form {form} "
         "version {version} than the layout given for it ({source}; layout fingerprints "
         "{found} in the workbook, {expected} in the layout); it was read with that layout, "
         "whose labels it has, but a choice, a rule or a year the edits changed may be misread: "
         "the central office should give the layout file the workbooks were made from, and "
         "check or merge with it"),
    Code("empty-return", "warning", "nothing is filled in; fill in the form and send it again"),
    # The merge.
    Code("duplicate", "warning", "agency {agency} sent more than one return; {chosen} is used "
         "(the newest) and this one is not counted: {difference}"),
    Code("duplicate-differs", "warning", "agency {agency} also sent {other}, which differs from "
         "this return in {cells} and is not counted; this one is counted as the newest: check "
         "that it is the right one (the other may be a draft, or this one a return filled in "
         "for the wrong agency, or forged)"),
    Code("unknown-agency", "error", "agency code {agency!r} is not on the roster; check the code "
         "in the workbook, or add the agency to the roster and merge again"),
    Code("newer-return-rejected", "warning", "agency {agency} sent a newer file, {newer}, "
         "which was rejected; this older return is used until the newer one is fixed"),
    Code("untrusted-time", "warning", "agency {agency} sent {count} files, and this one's "
         "{what}, {time}, is {why}: it is not used to tell which return is the newest (it counts "
         "as the oldest); check the clock of the computer that saved it, and which return is "
         "the right one"),
    Code("other-round", "error", "this return is for {found}, but this merge counts "
         "{expected}; it is not counted here: merge it with its own round (--round {round})"),
    Code("missing-return", "warning", "no counted return from agency {agency} ({name}){why}"),
    # Against the manifest of the workbooks issued (merge --manifest, check --manifest).
    Code("token-mismatch", "error", "the workbook does not carry the token issued to agency "
         "{agency} ({manifest}, line {line}), so it was not made from the workbook sent to that "
         "agency (it may be another agency's workbook, or its metadata was edited); it is not "
         "counted: ask the agency to fill in the workbook the ministry sent it and send that "
         "file"),
    Code("token-missing", "error", "the workbook carries no token, so it is not the workbook "
         "issued to agency {agency} ({manifest}, line {line}): a blank form, or one made before "
         "tokens were issued; it is not counted: ask the agency to fill in the workbook the "
         "ministry sent it and send that file"),
    Code("not-issued", "error", "agency {agency} is not in the manifest {manifest}: no "
         "workbook was issued to it in this round, or this is another round's manifest; it is "
         "not counted: check the agency code, or merge with the manifest that lists it"),
]

CATALOGUE: dict[str, Code] = {c.slug: c for c in _CODES}

CELLS_LISTED = 3  # differing cells named in duplicate and duplicate-differs


def cells_text(count: int | None, where: list[str]) -> str:
    """How many cells two returns differ in, and the first of them: "2 cells (หมวด 3!E5, ...)"."""
    if count is None:
        return "cells that could not be compared (the returns are of other layouts)"
    shown = ", ".join(where[:CELLS_LISTED]) + (", …" if count > CELLS_LISTED else "")
    return f"{count:,} cell{'s' if count != 1 else ''} ({shown})"


def difference(chosen: str, count: int | None, where: list[str]) -> str:
    """The end of a ``duplicate`` message: an identical copy, or how it differs."""
    if count == 0:
        return "it is an identical copy"
    return f"it differs from {chosen} in {cells_text(count, where)}; check which one is right"


#: The words of ``untrusted-time``: which time of the file, and why it is not trusted.
TIME_WHAT = {"modified": "time of saving stored in the workbook",
             "mtime": "modification time as a file", "generated_at": "time of generation"}
TIME_WHY = {"future": "in the future (after this merge started)",
            "before": "before the workbook was generated ({generated})"}


@dataclass(frozen=True, slots=True)
class Problem:
    file: str | None
    agency_code: str | None
    sheet: str | None
    cell: str | None
    severity: Severity
    code: str
    message: str

    @property
    def where(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or ""


def message(code: str, **fields: object) -> str:
    """The message of ``code`` with its fields filled in."""
    return CATALOGUE[code].template.format(**fields)


def make(code: str, *, file: str | None, agency_code: str | None = None, sheet: str | None = None,
         cell: str | None = None, severity: Severity | None = None, **fields: object) -> Problem:
    """A located problem from the catalogue (``severity``: the layout's, for its checks)."""
    entry = CATALOGUE[code]
    return Problem(file=file, agency_code=agency_code, sheet=sheet, cell=cell,
                   severity=severity or entry.severity, code=code,
                   message=message(code, sheet=sheet, cell=cell, **fields))


def rejects(problem: Problem) -> bool:
    return CATALOGUE[problem.code].rejects


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """The problems frame: columns PROBLEM_COLUMNS, all strings (missing as <NA>)."""
    frame = pd.DataFrame([[getattr(p, c) for c in PROBLEM_COLUMNS] for p in problems],
                         columns=list(PROBLEM_COLUMNS))
    return frame.astype("string")
