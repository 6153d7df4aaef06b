"""One file read from end to end, in order: refuse what is never a return or not a workbook,
identify the form and match its layout, check each sheet's structure, read the inputs and
the indicator rows. Reading always returns: a file that cannot be read is a result with
state ``rejected``; only a layout that does not load is raised (it is a fault of the call,
never of a return)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from .. import problems as P
from ..inputs import path_text
from ..layout import FEEDBACK_MARKER_AT, META_SHEET, RESERVED_SHEETS, Layout
from ..problems import Problem
from ..values import blank_flags
from ..words import Words
from ..xlsxread import FileRefused, Package, SheetData, SheetInfo, open_package
from .frames import answers_frame, indicators_frame
from .identify import (
    LayoutSet,
    Match,
    edited_problem,
    has_carried,
    identify,
    identity_dict,
    layout_set,
    never_a_return,
    sniff,
    untouched,
)
from .indicators import indicator_rows
from .inputs import (
    Display,
    agency_code,
    hidden_inputs,
    identity_fields,
    read_values,
    sheet_display_problems,
    unseen_inputs,
)
from .plan import Plan, plan_for
from .records import Identity, ReadReturn, ReturnResult
from .scores import checklist_value
from .structure import Misplaced, misplaced_label, stray_values


def read_return(path: str | os.PathLike[str],
                layouts: Sequence[Layout] | None = None) -> ReturnResult:
    """Read one returned workbook. Never raises for a bad file: see ``.problems``.

    Args:
        path: The .xlsx file.
        layouts: The layouts it may be a return of; they replace the bundled ones (default:
            the bundled ones).

    Raises:
        LayoutsError: ``layouts`` is None and a bundled layout does not load.
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

    ``layouts`` as ``read_return``'s. ``name`` is the file as recorded (``ReadReturn.file``):
    by default the path as valid text (``inputs.path_text``); the path itself is what is
    opened.

    Raises:
        LayoutsError: ``layouts`` is None and a bundled layout does not load.
    """
    known = layout_set(layouts)
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
            "unreadable", file=name, detail=Words(
                "รายการนี้ไม่ใช่ไฟล์ธรรมดา (เป็น pipe, socket หรืออุปกรณ์) จึงไม่ได้เปิดอ่าน",
                "it is not a regular file (a pipe, a socket or a device)"))], mtime=mtime)
    refused = sniff(path)
    if refused is not None:
        code, fields = refused
        return ReadReturn(name, Identity(), [P.make(code, file=name, **fields)], mtime=mtime)
    try:
        with open_package(path) as package:
            result = _read_package(package, name, known)
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


def bind_plans(reads: Iterable[ReadReturn], layouts: Sequence[Layout] | None = None) -> None:
    """Give each read that came from another process without its plan (it carries the plan's
    key) the plan of this process, compiled from ``layouts`` (as ``read_raw``'s) if need be.
    A read whose layout is not among them is left unbound (the frames then refuse it)."""
    known: LayoutSet | None = None
    for read in reads:
        if read.plan is not None or read.plan_key is None:
            continue
        known = known or layout_set(layouts)
        layout = known.by_fingerprint.get(read.plan_key.fingerprint)
        if layout is not None:
            read.plan = plan_for(layout, read.plan_key.year)


# --------------------------------------------------------------------------------------------
# Private: the steps
# --------------------------------------------------------------------------------------------


def _read_package(package: Package, file: str, known: LayoutSet) -> ReadReturn:
    if package.has_macros():
        return ReadReturn(file, Identity(), [P.make("macro-workbook", file=file)])
    identity, match, problems = identify(package, file, known)
    if match is None:
        return ReadReturn(file, identity, problems)
    assert identity.fiscal_year is not None
    sheets: dict[str, SheetData | None] = {}  # read once, whichever layout asks
    layout = _fitting(match, package, identity.fiscal_year, sheets)
    if layout is not match.layouts[0]:  # the warning names the layout the return is read with
        problems = [edited_problem("layout-edited", file, identity, layout, sheet=p.sheet,
                                   cell=p.cell) if p.code == "layout-edited" else p
                    for p in problems]
    return _read_form(package, file, identity, plan_for(layout, identity.fiscal_year),
                      problems, sheets, match)


def _fitting(match: Match, package: Package, year: int,
             sheets: dict[str, SheetData | None]) -> Layout:
    """The layout to read with: the one matched, or of several edits of the return's version
    (none of them its own), the first whose sheets and labels the return has, and nothing
    more (else the last: its structure problem is then reported)."""
    if len(match.layouts) == 1:
        return match.layouts[0]
    for layout in match.layouts:
        plan = plan_for(layout, year)
        if all((data := _sheet(package, check.name, sheets)) is not None
               and misplaced_label(check, data.cells) is None
               and not any(p.code == "stray-value"
                           for p in stray_values(check, data.cells, data.beyond, ""))
               for check in plan.sheets) \
                and _extra_sheet(package, plan) is None:
            return layout
    return match.layouts[-1]


def _extra_sheet(package: Package, plan: Plan) -> str | None:
    """A sheet of the workbook that ``plan``'s form does not have (its metadata and the list
    of a feedback copy aside)."""
    names = {check.name for check in plan.sheets}
    return next((info.name for info in package.sheets
                 if info.name != META_SHEET and info.name not in names
                 and not _feedback_sheet(package, info)), None)


def _feedback_sheet(package: Package, info: SheetInfo) -> bool:
    """Whether a sheet is one that pmqa_xlsx adds to a feedback copy, which is never read:
    the list of problems (feedback.py) or the agency's result page (agency_result.py), by
    its reserved name and the marker in its hidden column (``RESERVED_SHEETS``). Any other
    sheet the form does not have is judged as before."""
    marker = RESERVED_SHEETS.get(info.name)
    if marker is None:
        return False
    row, col = FEEDBACK_MARKER_AT
    try:
        found = package.read_cells(info, max_row=row + 1, max_col=col + 1).cells.get((row, col))
    except FileRefused:
        return False
    return found is not None and found.value == marker


def _sheet(package: Package, name: str, sheets: dict[str, SheetData | None]) -> SheetData | None:
    if name not in sheets:
        info = package.sheet(name)
        sheets[name] = package.read_cells(info) if info is not None else None
    return sheets[name]


def _read_form(package: Package, file: str, identity: Identity, plan: Plan,
               problems: list[Problem], cache: dict[str, SheetData | None],
               match: Match) -> ReadReturn:
    sheets: dict[str, SheetData] = {}
    styles = package.styles()
    display = Display(styles.formats, package.date1904)
    for check in plan.sheets:
        data = _sheet(package, check.name, cache)
        if data is None:
            return _refused(file, identity, problems, match, plan, P.make(
                "missing-sheet", file=file, sheet=check.name), sheet=check.name)
        sheets[check.name] = data
        misplaced = misplaced_label(check, data.cells)
        if misplaced is not None:
            return _refused(file, identity, problems, match, plan, misplaced.problem(file),
                            misplaced=misplaced)
        strays = stray_values(check, data.cells, data.beyond, file)
        beside = next((p for p in strays if p.code == "stray-value"), None)
        if match.edited and beside is not None:
            # the earlier edit's form goes on where this edit's ends (a row, item or table
            # the edit removed): its answers there would be dropped, the agency blamed
            return _refused(file, identity, problems, match, plan, beside, what=Words(
                f"แผ่นงาน {check.name!r} มีข้อมูลที่ {beside.cell} ซึ่งเลยส่วนท้ายของแบบฟอร์มฉบับนี้ "
                "(แถว ข้อ หรือตารางที่สองฉบับต่างกัน)",
                f"the sheet {check.name!r} holds something at {beside.cell} beyond where this "
                "edit's form ends (a row, item or table the edits differ by)"))
        problems.extend(strays)
        problems.extend(sheet_display_problems(check.name, data, styles, file))
    if match.edited:
        extra = _extra_sheet(package, plan)
        if extra is not None:  # a sheet of the earlier edit that this edit does not have
            return _refused(file, identity, problems, match, plan, P.make(
                "missing-sheet", file=file, sheet=extra), sheet=extra, what=Words(
                f"แบบฟอร์มนี้มีแผ่นงาน {extra!r} ซึ่งแบบฟอร์มฉบับที่ใช้ตรวจไม่มี",
                f"the workbook has a sheet {extra!r} that this edit's form does not"))
    values = read_values(plan, sheets, display, file, problems)
    problems.extend(hidden_inputs(plan, sheets, values, file))
    problems.extend(unseen_inputs(plan, sheets, values, file,
                                  {check.name: package.sheet(check.name)
                                   for check in plan.sheets}))
    code = agency_code(plan, values, identity, file, problems)
    identity = Identity(**{**identity_dict(identity), "agency_code": code,
                           "fields": identity_fields(plan, values)})
    problems = [_with_agency(p, code) for p in problems]
    cells = {n: d.cells for n, d in sheets.items()}
    blank = blank_flags(values)
    rows = indicator_rows(plan, values, cells, file, code, problems, blank)
    scored = checklist_value(plan, values, cells, file, code, problems)
    # nothing typed: every answer blank, or only the cells generate --prefill carried over,
    # each holding its value still (the metadata's record of them: identify.untouched)
    answered = [i for i in plan.answers if not blank[i]]
    empty = not answered or untouched(package, plan, values, answered)
    if plan.cellmap.reasons and not empty:
        # the form's own checks (a return with nothing filled in has one problem: that), but
        # on a cell already in error (a picture, an error value: its fix comes first, and the
        # workbook's live checks see an error there, not a value)
        wrong = {(p.sheet, p.cell) for p in problems if p.severity == "error"}
        problems.extend(_with_agency(p, code) for p in plan.checks.problems(values, file)
                        if (p.sheet, p.cell) not in wrong)
    if empty:
        carried = P.CARRIED_DO_NOT_COUNT if has_carried(package, plan) else P.NOTHING_CARRIED
        problems.append(P.make("empty-return", file=file, agency_code=code, carried=carried))
    return ReadReturn(file, identity, problems, plan=plan, values=values, indicator_rows=rows,
                      filled=blank.count(False), checklist_score=scored)


def _refused(file: str, identity: Identity, problems: list[Problem], match: Match,
             plan: Plan, problem: Problem, *, sheet: str | None = None,
             misplaced: Misplaced | None = None, what: Words | None = None) -> ReadReturn:
    """A return whose sheets are not the form's: edited by someone (``structure-changed``,
    ``missing-sheet``), or, made from another edit of the layout's version, changed by that
    edit (``layout-changed``, in place of ``layout-edited``)."""
    if not match.edited:
        return ReadReturn(file, identity, [*problems, problem])
    if what is None:
        what = misplaced.what() if misplaced is not None else Words(
            f"ไม่พบแผ่นงาน {sheet!r} (ถูกลบหรือเปลี่ยนชื่อ)", f"the sheet {sheet!r} is missing or renamed")
    changed = edited_problem("layout-changed", file, identity, plan.layout,
                             sheet=problem.sheet, cell=problem.cell, what=what)
    return ReadReturn(file, identity, [*(p for p in problems if p.code != "layout-edited"),
                                       changed])


def _with_agency(problem: Problem, code: str | None) -> Problem:
    if problem.agency_code == code or code is None:
        return problem
    return replace(problem, agency_code=code)
