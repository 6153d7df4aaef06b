"""The generator: renders a layout's cell map as a protected, printable xlsx workbook.

``generate_workbook`` writes one workbook (blank, or pre-filled for one agency);
``generate_roster`` writes one per agency of a roster, each with a random token of its own in
the metadata, plus ``manifest.csv`` recording every file, its sha256 and its token. Workbooks are
written with ``xlsxtext.Workbook`` (text stays exactly that text: never markup, a formula or a
link), then the package is patched to lock the workbook structure and written atomically.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from . import __version__
from .cellmap import (
    META_KEYS,
    CellMap,
    IndicatorRow,
    InputCell,
    SheetPlan,
    build_cellmap,
    completeness,
    runs,
)
from .checks import Instance, conditional_formats, count_text, reason_text
from .errors import PmqaError
from .guards import form_output, roster_outputs
from .identity import is_token, new_token, normalise_code
from .layout import META_CARRIED_KEY, META_CARRIED_ROW, META_SHEET, WARNING_MARK, Layout
from .outputs import (
    atomic_write,
    csv_bytes,
    legacy_password_hash,
    lock_workbook_structure,
    password_bytes,
)
from .parallel import worker_count, worker_pool
from .prefill import LEGEND, NOTE, REPORT_COLUMNS, REPORT_NAME, Prefill
from .prompts import validation_groups
from .roster import Agency, check_agencies, load_roster
from .rules import checklist_score, percent_success, score
from .styles import CARRIED_FILL, make_formats
from .xlsxtext import Workbook, ooxml_text, t_element

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ("file", "agency_code", "agency_name", "ministry", "sha256",
                    "layout_fingerprint", "form_id", "form_version", "fiscal_year", "token")


@dataclass(frozen=True, slots=True, kw_only=True)
class Generated:
    """One written workbook."""

    path: Path
    sha256: str
    agency: Agency | None
    token: str | None = None  # the token in its metadata (see identity.py)


def generate_workbook(
    layout: Layout,
    path: str | os.PathLike[str],
    *,
    year: int | None = None,
    agency: Agency | None = None,
    password: str | None = None,
    generated_at: datetime | None = None,
    token: str | None = None,
    force: bool = False,
) -> Generated:
    """Write the form as a protected workbook at ``path``.

    Args:
        layout: The form to render.
        path: Where to write the .xlsx (replaced atomically).
        year: The fiscal year, Buddhist Era; the layout's by default.
        agency: Pre-fill and lock the identity fields the roster provides.
        password: Optional password for sheet and structure protection, hashed as Thai
            Excel hashes it (``outputs.legacy_password_hash``); one Windows-874 cannot
            encode, or longer than 255 characters, raises ``outputs.PasswordError``.
        generated_at: The time recorded in the metadata; now by default.
        token: The token recorded in the metadata (``identity.new_token()``); none by
            default. ``generate_roster`` gives each agency's workbook its own.
        force: Replace a file at ``path`` even if it is not a blank form (by default that is
            refused with OutputRefused: it may be a filled return).

    Returns:
        The path written, the sha256 of its bytes and the token.
    """
    if password:
        password_bytes(password)  # PasswordError before anything is looked at or written
    form_output(path, force=force, layouts=(layout,))
    data = render_workbook(build_cellmap(layout, year), agency=agency, password=password,
                           generated_at=generated_at, token=token)
    target = Path(path)
    try:
        atomic_write(target, data)
    except OSError as exc:
        raise PmqaError(f"{target}: cannot write the workbook ({exc.strerror or exc})") from exc
    return Generated(path=target, sha256=hashlib.sha256(data).hexdigest(), agency=agency,
                     token=token)


def generate_roster(
    layout: Layout,
    roster: str | os.PathLike[str] | Sequence[Agency],
    out_dir: str | os.PathLike[str],
    *,
    year: int | None = None,
    password: str | None = None,
    jobs: int | None = None,
    generated_at: datetime | None = None,
    tokens: Mapping[str, str] | None = None,
    force: bool = False,
    prefill: Prefill | None = None,
) -> list[Generated]:
    """Write one pre-filled workbook per roster agency into ``out_dir``, and ``manifest.csv``.

    The roster is checked first: if any row is bad, RosterError lists them and nothing is
    written. So is the folder: a workbook there that a previous generate did not write (by
    its ``manifest.csv``) refuses the run with OutputRefused unless ``force``, and a file to
    write that is the roster itself always does.

    The form is rendered once (per set of roster fields the agencies have) with
    placeholders, and each agency's workbook is a copy with its values swapped in: the same
    workbook as rendering it from scratch, many times faster. ``jobs`` processes share the
    agencies (default: the cores available); the files are the same whatever ``jobs`` is.

    Each workbook carries a token drawn at random for its agency, recorded in the manifest
    (``merge --manifest`` refuses a return that does not carry its agency's). ``tokens`` (agency
    code -> token) gives some or all of them instead: to issue a lost workbook again with the
    token already recorded.

    ``prefill`` (prefill.plan_prefill: a previous round's values mapped onto this form) fills
    each agency's indicator rows found in it, marked as carried over (their own fill and a
    note on each cell; they stay inputs; a legend of the fill in the instructions sheet and
    in the print header of each sheet with carried cells), and writes
    ``prefill-report.csv`` beside the manifest. Those workbooks are rendered one by one
    (their values differ); the others are copies of the template as without it.
    """
    if password:
        password_bytes(password)  # PasswordError before anything is read or written
    agencies = (load_roster(roster) if isinstance(roster, str | os.PathLike)
                else check_agencies(list(roster)))
    issued = _tokens(agencies, tokens or {})
    directory = Path(out_dir)
    if directory.exists() and not directory.is_dir():
        raise PmqaError(f"{directory}: exists and is not a folder; give a folder for -o")
    extra = [REPORT_NAME] if prefill is not None else []
    roster_outputs(directory, [*(a.file_name for a in agencies), MANIFEST_NAME, *extra],
                   roster if isinstance(roster, str | os.PathLike) else None, force=force)
    cellmap = build_cellmap(layout, year)
    when = generated_at or datetime.now(UTC)
    # a workbook with carried values is rendered whole (~20x a template copy): worth a
    # process for far fewer of them
    jobs = worker_count(jobs, len(agencies), per_worker=50 if prefill is None else 5)
    carried = prefill.agencies if prefill is not None else {}
    chunks = [[(a, issued[a.code], _carried(carried.get(a.code))) for a in agencies[i::jobs]]
              for i in range(jobs)]
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if jobs == 1:
            results = [_write_agencies(layout, year, password, when, directory, chunks[0])]
        else:
            with worker_pool(jobs) as pool:  # on Ctrl+C or SIGTERM, its workers end at once
                results = list(pool.map(_write_agencies, *zip(*[
                    (layout, year, password, when, directory, chunk) for chunk in chunks],
                    strict=True)))
        digests = {name: digest for result in results for name, digest in result}
        written = [Generated(path=directory / a.file_name, sha256=digests[a.file_name],
                             agency=a, token=issued[a.code]) for a in agencies]
        rows = [
            (g.path.name, a.code, a.name, a.ministry, g.sha256, layout.fingerprint,
             layout.form.id, layout.form.version, cellmap.year, g.token)
            for g, a in zip(written, agencies, strict=True)
        ]
        if prefill is not None:
            atomic_write(directory / REPORT_NAME, csv_bytes(REPORT_COLUMNS, prefill.report))
        atomic_write(directory / MANIFEST_NAME, csv_bytes(MANIFEST_COLUMNS, rows))
    except _WriteFailed as exc:
        raise PmqaError(f"{exc.path}: cannot write ({exc.reason}); the manifest was not "
                        "written") from None
    except OSError as exc:
        raise PmqaError(f"{directory}: cannot write ({exc.strerror or exc}); the manifest was "
                        "not written") from exc
    return written


def _tokens(agencies: Sequence[Agency], given: Mapping[str, str]) -> dict[str, str]:
    """Each agency's token: the one given for its code, else a new random one."""
    chosen = {normalise_code(code): token for code, token in given.items()}
    bad = sorted(code for code, token in chosen.items() if not is_token(token))
    if bad:
        raise PmqaError(f"tokens: the token of {', '.join(bad)} is not 32 hexadecimal digits "
                        "(lower case); give the tokens the manifest recorded, or none")
    out = {a.code: chosen.get(a.code) or new_token() for a in agencies}
    if len(set(out.values())) < len(out):
        raise PmqaError("tokens: two agencies are given the same token; every agency's "
                        "workbook needs its own")
    return out


#: The values carried into one workbook and the previous round's year of each (its note).
_Carried = tuple[dict[tuple[str, str], Any], dict[tuple[str, str], int | None]]


def _carried(plan: Any) -> _Carried | None:
    return (dict(plan.answers), dict(plan.years)) if plan is not None else None


class _WriteFailed(Exception):
    """A worker could not write a file (rebuilt from its args when sent to the parent)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(path, reason)
        self.path, self.reason = path, reason


def _write_agencies(layout: Layout, year: int | None, password: str | None, when: datetime,
                    directory: Path, agencies: Sequence[tuple[Agency, str, _Carried | None]]
                    ) -> list[tuple[str, str]]:
    """Write some agencies' workbooks, each with its token and the values carried into it, if
    any (in a worker process or not): [(file name, sha256)]."""
    cellmap = build_cellmap(layout, year)
    templates: dict[frozenset[str], Template] = {}
    out = []
    for agency, token, carried in agencies:
        if carried is not None:  # values of its own: rendered for it alone
            data = render_workbook(cellmap, agency=agency, password=password, generated_at=when,
                                   answers=carried[0], token=token, carried=carried[1])
        else:
            fields = frozenset(_prefill(layout, agency))
            if fields not in templates:
                templates[fields] = Template(cellmap, fields, password, when)
            data = templates[fields].personalise(agency, token)
        target = directory / agency.file_name
        try:
            atomic_write(target, data)
        except OSError as exc:
            raise _WriteFailed(target, exc.strerror or str(exc)) from None
        out.append((agency.file_name, hashlib.sha256(data).hexdigest()))
    return out


_TOKEN = {"code": "@@PMQA:agency_code@@", "name": "@@PMQA:agency_name@@",
          "ministry": "@@PMQA:ministry@@", "token": "@@PMQA:token@@"}
_PLACEHOLDERS = re.compile(b"|".join(re.escape(f"<t>{t}</t>".encode())
                                     for t in _TOKEN.values()))


class Template:
    """The form rendered once with placeholders where the roster's values go (and, for
    benchmarks and tests, with answers filled in).

    The placeholders are shared strings (identity cells, the metadata's agency code and token)
    and the footer of every sheet; ``personalise`` swaps in an agency's values, XML-escaped,
    and repacks the package, copying every other part unchanged.
    """

    def __init__(self, cellmap: CellMap, fields: frozenset[str], password: str | None,
                 when: datetime, answers: Mapping[tuple[str, str], Any] | None = None) -> None:
        roster_of = {f.id: f.roster for f in cellmap.layout.identity.fields}
        present = {roster_of[f] for f in fields}
        self.placeholder = Agency(
            code=_TOKEN["code"],
            name=_TOKEN["name"] if "agency_name" in present else "",
            ministry=_TOKEN["ministry"] if "ministry" in present else "")
        self.layout = cellmap.layout
        data = render_workbook(cellmap, agency=self.placeholder, password=password,
                               generated_at=when, answers=answers, token=_TOKEN["token"])
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            self.parts = [(info, package.read(info)) for info in package.infolist()]
        self.footer = ooxml_text(_footer(self.layout, self.placeholder)).encode()

    def personalise(self, agency: Agency, token: str | None = None) -> bytes:
        """The workbook of ``agency`` with ``token`` in its metadata (a new random one by
        default): byte for byte ``render_workbook`` with the same agency and token."""
        strings = {f"<t>{_TOKEN['code']}</t>".encode(): agency.code,
                   f"<t>{_TOKEN['name']}</t>".encode(): agency.name,
                   f"<t>{_TOKEN['ministry']}</t>".encode(): agency.ministry,
                   f"<t>{_TOKEN['token']}</t>".encode(): token or new_token()}
        footer = ooxml_text(_footer(self.layout, agency)).encode()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as package:
            for info, data in self.parts:
                if info.filename == "xl/sharedStrings.xml":
                    # one pass: a value swapped in is never taken for another placeholder
                    # (an agency named "@@PMQA:ministry@@" keeps its name)
                    data = _PLACEHOLDERS.sub(lambda m: t_element(strings[m.group()]), data)
                elif info.filename.startswith("xl/worksheets/sheet"):
                    data = data.replace(self.footer, footer)
                package.writestr(info, data, compress_type=info.compress_type)
        return out.getvalue()


def render_workbook(
    cellmap: CellMap,
    *,
    agency: Agency | None = None,
    password: str | None = None,
    generated_at: datetime | None = None,
    answers: Mapping[tuple[str, str], Any] | None = None,
    token: str | None = None,
    carried: Mapping[tuple[str, str], int | None] | None = None,
) -> bytes:
    """The bytes of the protected workbook for ``cellmap`` (``token`` in its metadata, if
    given).

    ``answers`` ((item id, field id) -> value) fills input cells the way a spreadsheet
    application saves a return, formula results included: for benchmarks and tests, and for
    the values carried over from a previous round. The cells of ``carried`` ((item id, field
    id) -> the previous round's year) are marked as such: their own fill and a note.
    """
    layout = cellmap.layout
    when = generated_at or datetime.now(UTC)
    buffer = io.BytesIO()
    options = {
        "in_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "default_format_properties": {"font_name": layout.style.font,
                                      "font_size": layout.style.size},
    }
    prefill = _prefill(layout, agency)
    with Workbook(buffer, options) as workbook:
        formats = make_formats(workbook, layout.style)
        workbook.set_properties({
            "title": layout.form.title,
            "subject": f"{layout.form.id} {layout.form.version} ({cellmap.year})",
            "author": "pmqa_xlsx",
            "created": when.astimezone(UTC).replace(tzinfo=None),  # xlsxwriter writes it as UTC
        })
        footer = _footer(layout, agency)
        cached = _formula_results(cellmap, answers) if answers else {}
        cached.update(_check_results(cellmap, prefill, answers or {}))
        legend = _carried_legend(carried) if carried else None
        if legend is not None:
            formats["legend_carried"] = workbook.add_format({
                "bg_color": CARRIED_FILL, "border": 1, "border_color": "#808080",
                "valign": "top", "text_wrap": True, "font_name": layout.style.font,
                "font_size": layout.style.size})
        for plan in cellmap.sheets:
            worksheet = workbook.add_worksheet(plan.name)
            _write_sheet(worksheet, plan, formats, prefill, footer, password, answers or {},
                         cached, [i for i in cellmap.instances if i.cell.sheet == plan.name],
                         carried or {}, legend)
        _write_completeness(cellmap, prefill, workbook, formats, cached)
        _write_meta(workbook.add_worksheet(META_SHEET), cellmap, agency, when, formats, password,
                    token, _carried_record(cellmap, answers or {}, carried or {}))
        workbook.worksheets()[0].activate()
    return lock_workbook_structure(buffer.getvalue(), password)


# --------------------------------------------------------------------------------------------
# Private: one writer per part of the sheet plan
# --------------------------------------------------------------------------------------------


def _write_sheet(
    worksheet: Worksheet,
    plan: SheetPlan,
    formats: dict[str, Format],
    prefill: dict[str, str],
    footer: str,
    password: str | None,
    answers: Mapping[tuple[str, str], Any],
    cached: dict[tuple[str, int, int], Any],
    instances: Sequence[Instance] = (),
    carried: Mapping[tuple[str, str], int | None] | None = None,
    legend: str | None = None,
) -> None:
    worksheet.set_default_row(plan.default_height)
    for col, width in enumerate(plan.widths):
        worksheet.set_column(col, col, width)
    for row, height in plan.heights.items():
        worksheet.set_row(row, height)
    for label in plan.labels:
        fmt = formats[label.style]
        if label.last_row is not None or label.last_col is not None:
            worksheet.merge_range(label.row, label.col, label.last_row or label.row,
                                  label.last_col or label.col, "", fmt)
        worksheet.write_string(label.row, label.col, label.text, fmt)
    for cell in plan.inputs:
        key = (cell.item_id, cell.field_id)
        if carried and key in carried:
            _write_carried(worksheet, cell, formats, answers[key], carried[key])
        else:
            _write_input(worksheet, cell, formats, prefill, answers.get(key))
    _write_validations(worksheet, plan.inputs)
    for formula in plan.formulas:
        if formula.kind in ("percent_success", "score", "check"):
            worksheet.write_formula(formula.row, formula.col, formula.formula,
                                    formats["reason" if formula.kind == "check" else "formula"],
                                    cached.get((plan.name, formula.row, formula.col), ""))
    _write_check_formats(worksheet, instances, formats)
    last_row = max([lb.last_row or lb.row for lb in plan.labels] + [c.row for c in plan.inputs])
    worksheet.ignore_errors({"number_stored_as_text":
                             f"A1:{xl_rowcol_to_cell(last_row, len(plan.widths) - 1)}"})
    _protect(worksheet, password, {"format_rows": True}, "protection")
    _print_setup(worksheet, plan, footer)
    if legend is not None:
        _write_legend(worksheet, plan, formats, legend, carried or {})


def _write_input(worksheet: Worksheet, cell: InputCell, formats: dict[str, Format],
                 prefill: dict[str, str], answer: Any = None) -> None:
    if cell.kind == "identity" and cell.field_id in prefill:
        worksheet.write_string(cell.row, cell.col, prefill[cell.field_id], formats["prefilled"])
        return
    fmt = formats["input_number" if cell.kind == "number" else "input"]
    if isinstance(answer, int | float) and not isinstance(answer, bool):
        worksheet.write_number(cell.row, cell.col, answer, fmt)
    elif answer is not None:
        worksheet.write_string(cell.row, cell.col, str(answer), fmt)
    else:
        worksheet.write_blank(cell.row, cell.col, None, fmt)


def _write_carried(worksheet: Worksheet, cell: InputCell, formats: dict[str, Format],
                   value: Any, year: int | None) -> None:
    """A value carried over from the previous round: still an input, in its own fill, with a
    note saying where it came from (kept closed: a red corner, as every note)."""
    shown = _carried_value(cell, value)
    if isinstance(shown, float):
        worksheet.write_number(cell.row, cell.col, shown, formats["carried_number"])
    else:
        worksheet.write_string(cell.row, cell.col, shown, formats["carried"])
    note = NOTE.th.format(year=year if year is not None else "-")
    worksheet.write_comment(cell.row, cell.col, note, {"x_scale": 1.6})


def _carried_legend(carried: Mapping[tuple[str, str], int | None]) -> str:
    """The line that explains a pre-filled workbook's carried cells (prefill.LEGEND)."""
    years = sorted({y for y in carried.values() if y is not None})
    return LEGEND.format(years=f" (พ.ศ. {', '.join(map(str, years))})" if years else "")


def _write_legend(worksheet: Worksheet, plan: SheetPlan, formats: dict[str, Format],
                  legend: str, carried: Mapping[tuple[str, str], int | None]) -> None:
    """The legend of carried cells where the agency sees it: in the instructions sheet's row
    for it (the cell map's ``carried_legend``, above the other legends), and printed at the
    top of each page of a sheet with carried cells (notes do not print)."""
    if plan.carried_legend is not None:
        worksheet.merge_range(plan.carried_legend, 0, plan.carried_legend,
                              len(plan.widths) - 1, "", formats["legend_carried"])
        worksheet.write_string(plan.carried_legend, 0, legend, formats["legend_carried"])
    if any((c.item_id, c.field_id) in carried for c in plan.inputs):
        worksheet.set_header("&L" + legend.replace("&", "&&"))


def _carried_value(cell: InputCell, value: Any) -> float | str:
    """A carried value as its cell holds it (``_write_carried`` writes this)."""
    return float(value) if cell.kind == "number" else str(value)


def _carried_record(cellmap: CellMap, answers: Mapping[tuple[str, str], Any],
                    carried: Mapping[tuple[str, str], int | None]
                    ) -> list[tuple[str, str, float | str]]:
    """(sheet, A1 reference, value) of each carried cell, in the cell map's order."""
    return [(cell.sheet, cell.ref, _carried_value(cell, answers[key]))
            for cell in cellmap.inputs()
            if (key := (cell.item_id, cell.field_id)) in carried]


def _write_check_formats(worksheet: Worksheet, instances: Sequence[Instance],
                         formats: dict[str, Format]) -> None:
    """The conditional formats that mark the cells of the sheet that break a check
    (``checks.conditional_formats``)."""
    for group, condition in conditional_formats(instances):
        first = group[0].cell
        options: dict[str, Any] = {"type": "formula", "criteria": "=" + condition,
                                   "format": formats[f"check_{group[0].check.severity}"]}
        if len(group) > 1:  # one column: its runs of rows as ranges (B10:B19 B25:B34 ...)
            options["multi_range"] = " ".join(runs(i.cell for i in group))
        _check(worksheet.conditional_format(first.row, first.col, first.row, first.col,
                                            options), f"conditional format of {first.ref}")


def _check_results(cellmap: CellMap, prefill: Mapping[str, str],
                   answers: Mapping[tuple[str, str], Any]) -> dict[tuple[str, int, int], Any]:
    """The checks' reason cells, live lists, live count and completeness as a spreadsheet
    shows them for these answers (a fresh workbook: the empty form's)."""
    def value_of(cell: InputCell) -> Any:
        if cell.kind == "identity" and cell.field_id in prefill:
            return prefill[cell.field_id]
        return answers.get((cell.item_id, cell.field_id))

    out: dict[tuple[str, int, int], Any] = {}
    first = cellmap.sheets[0]
    for formula in first.formulas:
        if formula.kind == "completeness":
            out[(first.name, formula.row, formula.col)] = completeness(cellmap, value_of)
    if cellmap.layout.checks is None:
        return out
    errors = warnings = 0
    for reason in cellmap.reasons:
        text = reason_text(reason.instances, value_of)
        out[(reason.cell.sheet, reason.cell.row, reason.cell.col)] = text
    for listed in cellmap.check_lists:
        text = "".join(out[(r.cell.sheet, r.cell.row, r.cell.col)] for r in listed.reasons)
        out[(first.name, listed.cell.row, listed.cell.col)] = text
        marks = text.count(WARNING_MARK)
        warnings += marks
        errors += text.count("\n") - marks
    for formula in first.formulas:
        if formula.kind == "check_count":
            out[(first.name, formula.row, formula.col)] = count_text(
                cellmap.layout.checks, errors, warnings)
    return out


def _formula_results(cellmap: CellMap, answers: Mapping[tuple[str, str], Any]
                     ) -> dict[tuple[str, int, int], Any]:
    """Percent success and score as a spreadsheet application would have stored them."""
    out: dict[tuple[str, int, int], Any] = {}
    for row in cellmap.indicator_rows:
        def get(field: str, row: IndicatorRow = row) -> Any:
            return answers.get((row.item_id, field))

        target, result = get("target"), get(row.compared)
        numeric = all(isinstance(v, int | float) for v in (target, result))
        percent = percent_success(target, result, get("direction"), row.rule) if numeric \
            else None
        points = score(percent, row.rule)
        out[(row.percent.sheet, row.percent.row, row.percent.col)] = \
            "" if percent is None else percent
        out[(row.score.sheet, row.score.row, row.score.col)] = "" if points is None else points
    scored = cellmap.layout.rules.checklist_score
    for formula in cellmap.sheets[0].formulas:
        if formula.kind == "checklist_score" and scored is not None:
            out[(formula.sheet, formula.row, formula.col)] = checklist_score(
                (answers.get((c.item_id, c.field_id)) for c in cellmap.status_cells()), scored)
    return out


def _write_validations(worksheet: Worksheet, cells: tuple[InputCell, ...]) -> None:
    """One data validation per distinct rule and words (prompts.py), over all of its cells."""
    for validation, group in validation_groups(cells).items():
        first = group[0]
        options = validation.options()
        refs = " ".join(c.ref for c in group)
        if len(group) > 1:
            options["multi_range"] = refs
        _check(worksheet.data_validation(first.row, first.col, first.row, first.col, options),
               f"data validation of {refs}")


def _write_completeness(
    cellmap: CellMap, prefill: dict[str, str], workbook: Any, formats: dict[str, Format],
    cached: dict[tuple[str, int, int], Any],
) -> None:
    """The instructions sheet's live counts and lists, with the values the workbook shows."""
    first = cellmap.sheets[0]
    worksheet = workbook.get_worksheet_by_name(first.name)
    fmt = formats["formula_text"]
    for formula in first.formulas:
        value = cached.get((first.name, formula.row, formula.col), 0)
        worksheet.write_formula(formula.row, formula.col, formula.formula,
                                formats["reason"] if formula.kind == "check_list" else fmt, value)


def _write_meta(
    worksheet: Worksheet,
    cellmap: CellMap,
    agency: Agency | None,
    when: datetime,
    formats: dict[str, Format],
    password: str | None,
    token: str | None,
    carried: Sequence[tuple[str, str, Any]] = (),
) -> None:
    """The metadata: META_KEYS in rows 1-9, then from META_CARRIED_ROW one row per carried
    cell (META_CARRIED_KEY, sheet, A1 reference, the value as the cell holds it)."""
    layout = cellmap.layout
    values = {
        "form_id": layout.form.id,
        "form_version": layout.form.version,
        "layout_fingerprint": layout.fingerprint,
        "fiscal_year": str(cellmap.year),
        "agency_code": agency.code if agency else "",
        "generator": "pmqa_xlsx",
        "generator_version": __version__,
        "generated_at": when.astimezone(UTC).isoformat(timespec="seconds"),
        "token": token or "",
    }
    worksheet.set_column(0, 0, 22)
    worksheet.set_column(1, 1, 70)
    for row, key in enumerate(META_KEYS):
        worksheet.write_string(row, 0, key, formats["meta"])
        worksheet.write_string(row, 1, values[key], formats["meta"])
    for row, (sheet, ref, value) in enumerate(carried, start=META_CARRIED_ROW):
        worksheet.write_string(row, 0, META_CARRIED_KEY, formats["meta"])
        worksheet.write_string(row, 1, sheet, formats["meta"])
        worksheet.write_string(row, 2, ref, formats["meta"])
        if isinstance(value, float):
            worksheet.write_number(row, 3, value, formats["meta"])
        else:
            worksheet.write_string(row, 3, value, formats["meta"])
    worksheet.very_hidden()
    _protect(worksheet, password, {}, "protection of the metadata sheet")


def _print_setup(worksheet: Worksheet, plan: SheetPlan, footer: str) -> None:
    worksheet.set_paper(9)  # A4
    if plan.landscape:
        worksheet.set_landscape()
    else:
        worksheet.set_portrait()
    worksheet.fit_to_pages(1, 0)
    worksheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
    worksheet.set_footer(footer)
    if plan.repeat_rows:
        worksheet.repeat_rows(*plan.repeat_rows)
    if plan.freeze_rows:
        worksheet.freeze_panes(plan.freeze_rows, 0)
    if plan.page_breaks:
        worksheet.set_h_pagebreaks(list(plan.page_breaks))


def _footer(layout: Layout, agency: Agency | None) -> str:
    """Left: the agency (or the form), right: page N of M. '&' is escaped as '&&'."""
    who = f"{agency.name} ({agency.code})" if agency else layout.form.title
    who = who[:80].replace("&", "&&")
    return f"&L{who}&Rหน้า &P / &N"


def _prefill(layout: Layout, agency: Agency | None) -> dict[str, str]:
    """Identity field id -> value from the roster (non-empty values only)."""
    if agency is None:
        return {}
    values = {"agency_code": agency.code, "agency_name": agency.name,
              "ministry": agency.ministry}
    return {f.id: values[f.roster] for f in layout.identity.fields
            if f.roster and values.get(f.roster)}


def _protect(worksheet: Worksheet, password: str | None, options: dict[str, bool],
             what: str) -> None:
    """Protect the sheet, with the hash Thai Excel computes for ``password`` (outputs.py's
    ``legacy_password_hash``, the one the workbook structure gets too): xlsxwriter's own
    hashes Unicode code points, so it is given no password and the hash is set after."""
    _check(worksheet.protect("", options), what)
    if password:
        worksheet.protect_options["password"] = legacy_password_hash(password)


def _check(code: int | None, what: str) -> None:
    """xlsxwriter reports bad options by a warning and a negative code: make it an error."""
    if code is not None and code < 0:
        raise PmqaError(f"internal error: xlsxwriter refused the {what} (code {code})")
