"""The ``pmqa-xlsx`` command line: parse, call one library function, print, pick an exit code.

Exit codes: 0 success; 1 a problem in the input (PmqaError: a bad layout or roster, an
unwritable output; ``check`` and ``merge``: a file rejected, not counted, or with errors); 2 a
usage error (an output that would replace an input among them); 130 and 143 stopped by SIGINT
(Ctrl+C) or SIGTERM, with a short message, no temporary file left and no worker running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pandas as pd

from . import __version__
from .consolidate import STATES, check_files, collect_inputs, consolidate
from .errors import PmqaError
from .feedback import (
    FeedbackRefused,
    ReturnFeedback,
    check_feedback_dir,
    from_consolidated,
    from_reads,
    write_feedback,
)
from .generate import MANIFEST_NAME, generate_roster, generate_workbook
from .guards import Output, OutputRefused, merge_outputs
from .identity import Manifest, load_manifest
from .inputs import InputFile, path_text
from .layout import (
    DEFAULT_LAYOUT,
    Layout,
    LayoutsError,
    bundled_layouts,
    fiscal_year_problem,
    load_layout,
    load_layouts,
)
from .outputs import PasswordError, password_bytes, remove_temporaries
from .parallel import Terminated, sigterm_raises
from .read import ReadReturn
from .roster import Agency, load_roster
from .rounds import Round, RoundError, declared_round
from .words import Words


def _year(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    problem = None if value is None else fiscal_year_problem(value)
    if problem:
        raise click.BadParameter(problem)
    return value


def _password(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A password Thai Excel can unlock with, or a usage error (exit 2) before anything is
    read or written, in Thai then English."""
    if value:
        try:
            password_bytes(value)
        except PasswordError as exc:
            raise click.UsageError(f"{exc.words.th}\n{exc.words.en}", ctx=ctx) from None
    return value


def _present(ctx: click.Context, param: click.Parameter,
             values: tuple[Path, ...]) -> tuple[Path, ...]:
    """Inputs that exist, as entries of a folder: a link that leads nowhere or loops is
    there (and listed with its problem), a path that is not there at all is a usage error."""
    for path in values:
        if not os.path.lexists(path):
            raise click.BadParameter(f"{shown(path_text(path))!r} does not exist", ctx=ctx,
                                     param=param)
    return values


@contextlib.contextmanager
def _interruptible(left: Callable[[], str]) -> Iterator[None]:
    """SIGINT and SIGTERM end the command with a line saying what is left (``left()``) and exit
    130 or 143, not a traceback. The library's ``finally`` blocks have removed its temporary
    files and ended its workers by then; ``remove_temporaries`` is the backstop."""
    with sigterm_raises():
        try:
            yield
        except (KeyboardInterrupt, Terminated) as exc:
            restore = _ignoring(signal.SIGINT, signal.SIGTERM)  # a second Ctrl+C is dropped
            try:
                remove_temporaries()
                name, code = ("SIGTERM", 143) if isinstance(exc, Terminated) else ("SIGINT", 130)
                click.echo(f"\npmqa-xlsx: stopped by {name}; {left()}", err=True)
            finally:
                restore()
            raise SystemExit(code) from None


def _ignoring(*signals: signal.Signals) -> Callable[[], None]:
    """Ignore ``signals`` (dropped, not held) until the returned function is called."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in signals}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return restore


def _layout(name: str | None) -> Layout:
    try:
        return load_layout(name)
    except PmqaError as exc:
        raise click.ClickException(str(exc)) from exc


def _layout_options(func: Callable[..., None]) -> Callable[..., None]:
    """``--layout`` (repeatable), ``--layouts DIR`` and ``--round``: the layouts the
    returns are read with and the round counted, for ``check`` and ``merge``."""
    func = click.option(
        "--round", "round_text", metavar="FORM:VERSION:YEAR",
        help="The round counted: form id, version and fiscal year (BE), or the year alone "
             "when the layouts are of one form and version. A single --layout declares it by "
             "itself. Returns of other rounds are listed as other_round.")(func)
    func = click.option(
        "--layouts", "layout_dirs", multiple=True, metavar="DIR",
        type=click.Path(path_type=Path, file_okay=False),
        help="A folder of layout YAML files (repeatable).")(func)
    return click.option(
        "--layout", "layout_files", multiple=True, metavar="NAME|FILE",
        help="A layout the returns may be of: a YAML file or a bundled name (repeatable). "
             "Given layouts replace the bundled ones (default: every bundled layout).")(func)


def _layouts_and_round(files: tuple[str, ...], dirs: tuple[Path, ...],
                       round_text: str | None) -> tuple[tuple[Layout, ...] | None, Round | None]:
    """The layouts named (None: the bundled ones) and the round declared. A layout that does
    not load ends the command (exit 1) listing its YAML paths; a bad --round is a usage
    error (exit 2)."""
    given = bool(files or dirs)
    try:
        layouts = load_layouts(files, dirs)
    except LayoutsError as exc:
        raise click.ClickException(f"{exc}\nno return was read: fix the layout, or leave "
                                   "it out") from exc
    try:
        declared = declared_round(round_text, layouts, layouts_given=given)
    except RoundError as exc:
        raise click.UsageError(str(exc)) from exc
    return (layouts if given else None), declared


def _feedback_option(func: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--feedback", "feedback_dir", type=click.Path(path_type=Path),
        help="Write, into this folder, a copy of each return with problems, every problem "
             "cell marked with a note in Thai and a first sheet listing them, for the agency "
             "to fix and send back. Not inside an input folder.")(func)


@click.group()
@click.version_option(__version__, prog_name="pmqa-xlsx")
def main() -> None:
    """PMQA 4.0 self-assessment forms as protected Excel workbooks."""


@main.command()
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), required=True,
              help="The workbook to write, or with --roster the folder to write into.")
@click.option("--roster", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="CSV or XLSX with agency_code/รหัสหน่วยงาน, agency_name/ชื่อหน่วยงาน and "
                   "optional ministry/กระทรวง/สังกัด (see the README's Rosters): one "
                   "pre-filled workbook per agency.")
@click.option("--layout", "layout_name", metavar="NAME|FILE",
              help=f"A bundled layout name or a YAML file (default: {DEFAULT_LAYOUT}).")
@click.option("--year", type=int, callback=_year,
              help="Fiscal year, Buddhist Era (default: the layout's). Shifts the target and "
                   "result years.")
@click.option("--password", callback=_password,
              help="Password for sheet and structure protection (deters editing; it is not "
                   "security). Thai and English letters, digits and keyboard symbols, at "
                   "most 255: hashed as Thai Excel hashes it.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Processes for --roster (default: the cores available).")
@click.option("--force", is_flag=True,
              help="Write even where other workbooks are (-o a file that is not a blank "
                   "form; with --roster, a folder holding workbooks generate did not write).")
def generate(output: Path, roster: Path | None, layout_name: str | None, year: int | None,
             password: str | None, jobs: int | None, force: bool) -> None:
    """Write the form as a protected workbook (or one per roster agency).

    Refuses (exit 2) to replace what may be a filled return: a file at -o that is not a
    blank form, or with --roster a folder holding workbooks it did not write, unless --force.
    """
    layout = _layout(layout_name)
    left = ("every workbook written so far is whole and the others are as they were; "
            f"{MANIFEST_NAME} was not written: run generate again" if roster is not None
            else f"{output} is as it was")
    with _interruptible(lambda: left):
        _generate(layout, output, roster, year, password, jobs, force)


def _generate(layout: Layout, output: Path, roster: Path | None, year: int | None,
              password: str | None, jobs: int | None, force: bool) -> None:
    try:
        if roster is None:
            if output.suffix.lower() != ".xlsx":
                raise click.UsageError("-o must name an .xlsx file (or give --roster and a "
                                       "folder)")
            if not output.parent.is_dir():
                raise click.UsageError(f"-o: folder {output.parent} does not exist")
            generate_workbook(layout, output, year=year, password=password, force=force)
            click.echo(f"wrote {_path(output)}: {_what_was_written(layout, year)}")
        else:
            written = generate_roster(layout, roster, output, year=year, password=password,
                                      jobs=jobs, force=force)
            click.echo(f"wrote {len(written)} workbook{'s' if len(written) != 1 else ''} and "
                       f"{_path(output / MANIFEST_NAME)}: {_what_was_written(layout, year)}")
    except OutputRefused as exc:
        raise click.UsageError(str(exc)) from exc
    except PmqaError as exc:
        raise click.ClickException(str(exc)) from exc


def _what_was_written(layout: Layout, year: int | None) -> str:
    """``form pmqa4-cat3-cat7.2 version 2562.1 (layout pmqa4-2562), fiscal year 2562
    (ปีงบประมาณ พ.ศ. 2562)``, saying when the year is the layout's own, not --year."""
    source = Path(layout.source)
    name = source.stem if bundled_layouts().get(source.stem) == source else _path(source)
    fiscal = layout.form.fiscal_year if year is None else year
    default = ", the layout's: give --year for another" if year is None else ""
    return (f"form {shown(layout.form.id)} version {shown(layout.form.version)} (layout "
            f"{name}), fiscal year {fiscal} (ปีงบประมาณ พ.ศ. {fiscal}){default}")


@main.command("layouts")
def list_layouts() -> None:
    """List the bundled layouts."""
    for name, path in bundled_layouts().items():
        layout = _layout(str(path))
        click.echo(f"{name}\t{layout.form.id} {layout.form.version}\t{layout.form.title}")


@main.command("check-layout")
@click.argument("path", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--against", "old_path", metavar="OLD.yaml",
              type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="An earlier edit of the layout: say whether the content changed, and warn "
                   "if it did but the form's version did not.")
def check_layout(path: Path, old_path: Path | None) -> None:
    """Validate a layout YAML file and list every problem with its path.

    With --against, compare it with an earlier edit: returns of two edits of one form id and
    version are told apart only by their fingerprint, so a change of content should come
    with a new form.version. The warning still exits 0.
    """
    layout = _layout(str(path))
    click.echo(f"{_path(path)}: ok ({layout.form.id} {layout.form.version}, fingerprint "
               f"{layout.fingerprint[:12]})")
    if old_path is not None:
        click.echo(_compared(layout, _layout(str(old_path)), old_path))


def _compared(new: Layout, old: Layout, old_path: Path) -> str:
    """One line on how ``new`` differs from the earlier edit ``old``."""
    was = f"{_path(old_path)} ({old.form.id} {old.form.version}, fingerprint " \
          f"{old.fingerprint[:12]})"
    if new.fingerprint == old.fingerprint:
        return f"no change: the same content as {was}"
    if new.form.id != old.form.id:
        return f"another form: the form id is {new.form.id!r}, {was} has {old.form.id!r}"
    if new.form.version == old.form.version:
        return (f"warning: the content differs from {was} but form.version is still "
                f"{new.form.version!r}: returns of the two edits would be told apart only by "
                "their fingerprint; raise form.version in the new edit")
    return f"version {old.form.version!r} -> {new.form.version!r}: the content differs from {was}"


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path),
                callback=_present)
@click.option("--roster", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="The agencies expected: a return of an agency not on it is an error.")
@click.option("--manifest", "manifest_path",
              type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="The manifest.csv of the workbooks issued: a return without its agency's "
                   "token is an error.")
@_feedback_option
@_layout_options
def check(files: tuple[Path, ...], roster: Path | None, manifest_path: Path | None,
          feedback_dir: Path | None, layout_files: tuple[str, ...],
          layout_dirs: tuple[Path, ...], round_text: str | None) -> None:
    """Check returned workbooks (files, or folders of them) and list each file's problems,
    located as sheet!cell.

    Exits 0 when every file can be counted, 1 when a file is rejected or has an error (or a
    layout, the roster or the manifest cannot be used), 2 on a usage error.
    """
    layouts, declared = _layouts_and_round(layout_files, layout_dirs, round_text)
    try:
        agencies = load_roster(roster) if roster else None
        manifest = load_manifest(manifest_path) if manifest_path else None
    except PmqaError as exc:
        raise click.ClickException(str(exc)) from exc
    entries = collect_inputs(files)
    if feedback_dir is not None:
        _feedback_dir(feedback_dir, entries, files)
    with _interruptible(lambda: "nothing was written" if feedback_dir is None else
                        "the feedback copies written so far are whole; check again for all"):
        failed = False
        with_problems: list[ReadReturn] = []
        for read in check_files(entries, agencies, manifest=manifest, layouts=layouts,
                                round=declared):
            if feedback_dir is not None and read.problems:
                with_problems.append(read)
            click.echo(f"{shown(read.file)}: {read.state}" + (
                f" (agency {shown(read.agency_code)})" if read.agency_code else ""))
            for problem in read.problems:
                where = problem.where or "-"
                click.echo(f"  {problem.severity:<7} {shown(where):<18} {problem.code}: "
                           f"{shown(problem.message)}")
            failed = failed or read.state == "rejected"
        if feedback_dir is not None:
            _write_feedback(from_reads(with_problems, entries), feedback_dir, len(entries))
    if failed:
        raise SystemExit(1)


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path),
                callback=_present)
@click.option("--roster", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="The agencies expected: lists who did not return and unknown agencies.")
@click.option("--manifest", "manifest_path",
              type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="The manifest.csv of the workbooks issued: a return without its agency's "
                   "token is rejected.")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The consolidated workbook to write (.xlsx).")
@click.option("--csv", "csv_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Also write the five frames as CSV files into this folder.")
@click.option("--parquet", "parquet_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Also write the five frames as Parquet files into this folder (pyarrow).")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Processes that read the returns (default: the cores available).")
@click.option("--accept-errors", is_flag=True,
              help="Count a return whose errors are all in answer cells (a word in a number "
                   "cell, a choice not on the list...) as counted_with_errors, those cells "
                   "left out of the frames and listed; without it, any error rejects the "
                   "return. Errors about the file as a whole still reject it.")
@_feedback_option
@_layout_options
def merge(inputs: tuple[Path, ...], roster: Path | None, manifest_path: Path | None,
          output: Path, csv_dir: Path | None, parquet_dir: Path | None,
          jobs: int | None, accept_errors: bool, feedback_dir: Path | None,
          layout_files: tuple[str, ...], layout_dirs: tuple[Path, ...],
          round_text: str | None) -> None:
    """Merge returned workbooks (files or folders) of one round into one consolidated
    dataset.

    Exits 1 when any file was rejected or any problem is an error (the outputs are still
    written), or when the returns span several rounds and none was declared (nothing is
    written; the rounds are listed); 0 otherwise; 2 on a usage error, such as an output that
    would replace an input or the roster.
    """
    if output.suffix.lower() != ".xlsx":
        raise click.UsageError("-o must name an .xlsx file")
    if not output.parent.is_dir():
        raise click.UsageError(f"-o: folder {output.parent} does not exist")
    if parquet_dir is not None:
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise click.UsageError("--parquet needs pyarrow: pip install pyarrow") from exc
    layouts, declared = _layouts_and_round(layout_files, layout_dirs, round_text)
    try:
        agencies = load_roster(roster) if roster else None
        manifest = load_manifest(manifest_path) if manifest_path else None
    except PmqaError as exc:
        raise click.ClickException(str(exc)) from exc
    written: list[Path] = []
    job = _MergeJob(inputs, agencies, manifest, roster, layouts, declared, jobs, accept_errors,
                    feedback_dir)
    with _interruptible(lambda: "the outputs were written; merge again to see the summary"
                        if written else "the outputs were not written: the previous ones are "
                        "as they were, and no temporary file is left"):
        failed = _merge(job, output, csv_dir, parquet_dir, written)
    if failed:
        raise SystemExit(1)


@dataclass(frozen=True)
class _MergeJob:
    """What merge reads, and how it judges it."""

    inputs: tuple[Path, ...]
    agencies: list[Agency] | None
    manifest: Manifest | None
    roster: Path | None
    layouts: tuple[Layout, ...] | None
    round: Round | None
    jobs: int | None
    accept_errors: bool = False
    feedback: Path | None = None


def _merge(job: _MergeJob, output: Path, csv_dir: Path | None, parquet_dir: Path | None,
           written: list[Path]) -> bool:
    """merge's work: consolidate, write (into ``written``), print; True if it must exit 1."""
    from .report import output_files, write_outputs

    # No output may replace an input or the roster; a previous merge's outputs where this one
    # writes (even inside an input folder) are replaced, and not read.
    outputs = [Output("-o", output),
               *(Output("--csv", p) for p in (output_files(csv_dir, ".csv") if csv_dir else [])),
               *(Output("--parquet", p) for p in (output_files(parquet_dir, ".parquet")
                                                  if parquet_dir else []))]
    entries = collect_inputs(job.inputs)
    try:
        own = merge_outputs(outputs, entries, job.inputs, job.roster)
    except OutputRefused as exc:
        raise click.UsageError(str(exc)) from exc
    files = [e for e in entries if e not in own]
    if job.feedback is not None:
        _feedback_dir(job.feedback, files, job.inputs)
    try:
        with click.progressbar(length=len(files), label="reading returns", file=sys.stderr,
                               show_pos=True) as bar:
            result = consolidate(files, job.agencies, manifest=job.manifest,
                                 layouts=job.layouts, round=job.round,
                                 accept_errors=job.accept_errors,
                                 progress=lambda _: bar.update(1), jobs=job.jobs)
    except RoundError as exc:
        raise click.ClickException(f"{exc}\nnothing was written") from exc
    try:
        written.extend(write_outputs(result, result.layouts or job.layouts or [load_layout()],
                                     workbook=output, csv_dir=csv_dir,
                                     parquet_dir=parquet_dir))
    except OSError as exc:
        raise click.ClickException(f"cannot write the outputs (the previous ones are as they "
                                   f"were): {exc}") from exc
    summary = result.summary()
    click.echo(f"{len(files)} files read" + (f"; round {result.round}" if result.round else ""))
    counted = summary["ok"] + summary["ok_with_warnings"] + summary["counted_with_errors"]
    click.echo(f"  returned (counted)  {counted:>6}   ({summary['ok_with_warnings']} with "
               "warnings" + (f", {summary['counted_with_errors']} with errors left out"
                             if job.accept_errors else "") + ")")
    for state in STATES[2 if job.accept_errors else 3:]:
        click.echo(f"  {state:<19} {summary[state]:>6}")
    refused = result.returns[result.returns["state"].isin(("rejected", "unknown_agency",
                                                           "other_round"))]
    if len(refused):
        click.echo("Not counted (every reason is in the returns sheet, every problem in the "
                   "problems sheet):")
        for row in refused.head(_LISTED).itertuples(index=False):
            click.echo(f"  {shown(Path(str(row.file)).name)}: {shown(row.reason)}")
        if len(refused) > _LISTED:
            click.echo(f"  ... and {len(refused) - _LISTED} more")
    for path in written:
        click.echo(f"wrote {_path(path)}")
    if job.feedback is not None:
        _write_feedback(from_consolidated(result.problems, files, job.layouts), job.feedback,
                        len(files), job.jobs)
    return bool(len(refused)) or bool((result.problems["severity"] == "error").any())


_LISTED = 20  # files not counted that merge lists on the terminal


def _feedback_dir(folder: Path, entries: list[InputFile], given: tuple[Path, ...]) -> None:
    """Refuse a feedback folder that would replace an input or lies in an input folder
    (usage error, exit 2), before anything is read."""
    try:
        check_feedback_dir(folder, entries, given)
    except FeedbackRefused as exc:
        raise click.UsageError(str(exc)) from exc


def _write_feedback(returns: list[ReturnFeedback], folder: Path, read: int,
                    jobs: int | None = 1) -> None:
    """Write the feedback copies and say what was written, and which returns got none (of
    ``read`` files: those without problems, and those that could not be copied)."""
    try:
        done = write_feedback(returns, folder, jobs=jobs)
    except OSError as exc:
        raise click.ClickException(Words(
            f"เขียนสำเนาผลการตรวจไปที่ {_path(folder)} ไม่ได้: {exc}",
            f"cannot write the feedback copies to {_path(folder)}: {exc}").text()) from exc
    click.echo(Words(f"เขียนสำเนาผลการตรวจ {len(done.written):,} ไฟล์ไปที่ {_path(folder)}",
                     f"wrote {len(done.written):,} feedback copies to {_path(folder)}").text())
    clean = read - len(returns)
    if clean:
        click.echo("  " + Words(f"{clean:,} ไฟล์ไม่มีปัญหา จึงไม่ต้องมีสำเนาผลการตรวจ",
                                f"{clean:,} files have no problems, so no copy").text())
    for name, reason in done.skipped[:_LISTED]:
        click.echo(f"  {shown(name)}: {shown(reason.text())}")
    if len(done.skipped) > _LISTED:
        click.echo("  " + Words(f"... และอีก {len(done.skipped) - _LISTED:,} ไฟล์",
                                f"... and {len(done.skipped) - _LISTED:,} more").text())


_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(32), *range(127, 160))}


def shown(text: object) -> str:
    """Text from a returned file as it may go to a terminal: control characters (escape
    sequences, carriage returns, new lines) written as visible ``\\xNN``, so a file cannot
    rewrite the screen or forge a line of output; a lone surrogate (which no terminal can be
    sent) as ``\\udcff``."""
    text = str(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.translate(_CONTROLS)


def _path(path: str | os.PathLike[str]) -> str:
    """A path given or made from one, as it may go to a terminal (``shown``): a name that is
    not UTF-8 is shown with ``\\xNN`` for its odd bytes."""
    return shown(path_text(path))


@main.command()
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default="pmqa-demo",
              show_default=True, help="The folder to write the demo's outputs into.")
def demo(out: Path) -> None:
    """Generate, then merge the sample returns: the whole job on the bundled defaults."""
    from .demo import run_demo

    try:
        run = run_demo(out)
    except (PmqaError, OSError) as exc:
        raise click.ClickException(f"the demo could not run: {exc}") from exc
    result = run.result
    click.echo(f"Merged the {int(result.returns['file'].notna().sum())} sample returns in "
               f"{run.returns} against the roster:\n")
    click.echo(f"  {'file':<22} {'agency':<8} {'state':<17} {'errors':>6} {'warnings':>8}")
    for row in result.returns.itertuples(index=False):
        name = Path(row.file).name if isinstance(row.file, str) else "(no return)"
        errors = "" if pd.isna(row.errors) else str(row.errors)
        warnings = "" if pd.isna(row.warnings) else str(row.warnings)
        click.echo(f"  {name:<22} {row.agency_code:<8} {row.state:<17} {errors:>6} "
                   f"{warnings:>8}")
    problems = result.problems[result.problems["severity"] == "error"]
    if len(problems):
        click.echo("\nWhat the rejected returns must fix:")
        for p in problems.itertuples(index=False):
            where = f"{p.sheet}!{p.cell}" if isinstance(p.cell, str) else "-"
            click.echo(f"  {Path(p.file).name if isinstance(p.file, str) else '-'} "
                       f"{where}: {p.message}")
    click.echo("\nOutputs:")
    for label, path in (("blank form", run.blank), ("one form per agency", run.agencies),
                        ("their manifest", run.manifest),
                        ("consolidated workbook", run.consolidated),
                        ("the frames as CSV", run.csv)):
        click.echo(f"  {label:<22} {_path(path)}")


if __name__ == "__main__":
    main()
