"""The ``pmqa-xlsx`` command line: parse, call one library function, print, pick an exit code.

Exit codes: 0 success; 1 a problem in the input (PmqaError: a bad layout or roster, an
unwritable output; ``check`` and ``merge``: a file rejected, not counted, or with errors); 2 a
usage error (an output that would replace an input among them); 130 and 143 stopped by SIGINT
(Ctrl+C) or SIGTERM, with a short message, no temporary file left and no worker running.

``check``, ``merge`` and ``demo`` print everything in Thai unless ``--lang en``: the states,
the problems, the summary and the errors of the call (``errors.PmqaError.text``). Printing
never fails: a character the terminal's or file's encoding lacks (cp874 on Thai Windows) is
printed as ``?`` (``tolerant_streams``).

Usage errors (exit 2) are Thai first as well (``_Usage``): a value click's checks refuse (a
path that must exist, be a file or a folder, be readable or writable; a whole number, one in
a range; one of the choices: ``_Path``, ``_Int``, ``_IntRange``, ``_Choice``), a missing or
an unknown option say what is wrong and name the option, under an ``Error:`` head in the
command's ``--lang``; ``generate``, ``layouts`` and ``check-layout``, which have no ``--lang``,
say it in Thai with the English in brackets. click's ``Usage:`` and ``Try`` lines stay.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import stat
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import click
import pandas as pd

from . import __version__
from .agency_result import (
    ResultsRefused,
    ResultsWritten,
    agency_pages,
    check_results_dir,
    prepared_results,
)
from .cellmap import build_cellmap
from .consolidate import (
    STATE_WORDS,
    STATES,
    Consolidated,
    check_files,
    collect_inputs,
    consolidate,
    file_state,
)
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
from .groups import GroupError, group_dir, group_paths, groups_of
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
from .prefill import REPORT_NAME, PrefillError, load_previous, plan_prefill
from .prefill import summary as prefill_summary
from .previous import Last, check_year, compare, comparison, load_last, round_year
from .read import ReadReturn, layout_set
from .roster import Agency, load_roster
from .rounds import Round, RoundError, declared_round
from .rounds import _year_problem_th as year_problem_th  # the Thai of fiscal_year_problem
from .summary import DeadlineError, parse_deadline
from .words import DEFAULT_LANG, LANGS, Lang, Words


def _year(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    problem = None if value is None else fiscal_year_problem(value)
    if problem and value is not None:
        raise _BadValue(Words(year_problem_th(value), problem), ctx, param)
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
            name = _named(path)
            raise _BadValue(Words(f"ไม่พบ {name} กรุณาตรวจชื่อไฟล์หรือโฟลเดอร์",
                                  f"{name} does not exist"), ctx, param)
    return values


def _lang_option(func: Callable[..., None]) -> Callable[..., None]:
    """``--lang th|en``: the language of everything the command prints (default Thai). Eager,
    so that even the errors found while the other arguments are parsed are in it."""
    return click.option(
        "--lang", type=_Choice(LANGS), default=DEFAULT_LANG, show_default=True,
        is_eager=True,
        help="The language of the messages: th (Thai) or en (English).")(func)


class _BadValue(click.BadParameter):
    """A value of an option or argument that cannot be used, said in Thai and English
    (``words``); ``_Usage`` picks the language and names the option."""

    def __init__(self, words: Words, ctx: click.Context | None,
                 param: click.Parameter | None) -> None:
        super().__init__(words.en, ctx=ctx, param=param)
        self.words = words


def _named(value: str | os.PathLike[str]) -> str:
    """A path given on the command line, quoted, as it may go to a terminal."""
    return repr(shown(path_text(value)))


class _Path(click.Path):
    """``click.Path`` whose checks (exists, a file or a folder, readable, writable) say what
    is wrong in Thai and English (``_BadValue``)."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        words = self._problem(value)
        if words is not None:
            raise _BadValue(words, ctx, param)
        return super().convert(value, param, ctx)

    def _problem(self, value: str | os.PathLike[str]) -> Words | None:
        """Why ``value`` does not pass this type's checks (the ones ``click.Path`` makes, in
        its order), or None."""
        if self.file_okay and self.allow_dash and value in ("-", b"-"):
            return None
        name = _named(value)
        path = os.path.realpath(value) if self.resolve_path else value
        try:
            st = os.stat(path)
        except OSError:
            if not self.exists:
                return None
            kind = (Words("ไฟล์", "file") if not self.dir_okay
                    else Words("โฟลเดอร์", "folder") if not self.file_okay
                    else Words("ไฟล์หรือโฟลเดอร์", "file or folder"))
            return Words(f"ไม่พบ{kind.th} {name} กรุณาตรวจชื่อและตำแหน่ง",
                         f"{kind.en} {name} does not exist; check the name and the folder")
        if not self.file_okay and stat.S_ISREG(st.st_mode):
            return Words(f"{name} เป็นไฟล์ แต่ต้องระบุโฟลเดอร์ กรุณาระบุชื่อโฟลเดอร์",
                         f"{name} is a file; give a folder")
        if not self.dir_okay and stat.S_ISDIR(st.st_mode):
            return Words(f"{name} เป็นโฟลเดอร์ แต่ต้องระบุไฟล์ กรุณาระบุชื่อไฟล์",
                         f"{name} is a folder; give a file")
        if self.readable and not os.access(path, os.R_OK):
            return Words(f"ไม่มีสิทธิ์อ่าน {name} กรุณาขอสิทธิ์อ่าน หรือคัดลอกไปไว้ที่อื่นก่อน",
                         f"{name} cannot be read: permission denied")
        if self.writable and not os.access(path, os.W_OK):
            return Words(f"ไม่มีสิทธิ์เขียน {name} กรุณาขอสิทธิ์เขียน หรือระบุที่อื่น",
                         f"{name} cannot be written: permission denied")
        return None


class _Int(click.types.IntParamType):
    """A whole number, or a ``_BadValue`` in Thai and English."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            raise _BadValue(Words(f"{shown(value)!r} ไม่ใช่จำนวนเต็ม กรุณาพิมพ์ตัวเลขเท่านั้น",
                                  f"{shown(value)!r} is not a whole number"),
                            ctx, param) from None


class _IntRange(click.IntRange):
    """``click.IntRange`` whose failures say what is wrong in Thai and English
    (``_BadValue``)."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        number = _Int().convert(value, param, ctx)
        try:
            return super().convert(number, param, ctx)
        except click.BadParameter:
            pass
        low = None if self.min is None else int(self.min) + bool(self.min_open)
        high = None if self.max is None else int(self.max) - bool(self.max_open)
        wanted = (Words(f"ตั้งแต่ {low} ถึง {high}", f"from {low} to {high}")
                  if low is not None and high is not None
                  else Words(f"ตั้งแต่ {low} ขึ้นไป", f"at least {low}") if low is not None
                  else Words(f"ไม่เกิน {high}", f"at most {high}"))
        raise _BadValue(Words(f"{number} ใช้ไม่ได้ ต้องเป็นจำนวนเต็ม{wanted.th}",
                              f"{number} is out of range: give a whole number {wanted.en}"),
                        ctx, param)


class _Choice(click.Choice):
    """``click.Choice`` whose failure lists the choices in Thai and English (``_BadValue``)."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            choices = ", ".join(repr(str(c)) for c in self.choices)
            raise _BadValue(Words(f"{shown(value)!r} ใช้ไม่ได้ กรุณาเลือกหนึ่งใน {choices}",
                                  f"{shown(value)!r} is not one of {choices}"),
                            ctx, param) from None


def _lang_of(ctx: click.Context | None) -> Lang | None:
    """The language of a command's messages: its ``--lang`` (Thai when not given or not
    valid), or None for a command without one, which says everything in Thai with the
    English in brackets. Before click has parsed ``--lang`` (an unknown option is found
    first), the last ``--lang`` on the command line."""
    if ctx is None or not any(p.name == "lang" for p in ctx.command.params):
        return None
    lang = ctx.params.get("lang")
    if lang is None:
        argv: list[str] = ctx.meta.get(_ARGV, [])
        given = [value for flag, value in zip(argv, argv[1:], strict=False) if flag == "--lang"]
        given += [arg.removeprefix("--lang=") for arg in argv if arg.startswith("--lang=")]
        lang = given[-1] if given else None
    return lang if lang in LANGS else DEFAULT_LANG


#: Where ``_Main`` keeps the command line, for ``_lang_of``.
_ARGV = "pmqa_xlsx.argv"


class _Usage(click.UsageError):
    """A usage error (exit 2) shown with click's ``Usage:`` and ``Try`` lines, then its
    ``Error:`` line in the command's language (``_lang_of``): a bad value names its option
    and says what is wrong (``_BadValue``); a missing option, an unknown option or command
    are said in Thai too; other usage errors keep their text, which the command already
    wrote in its language."""

    def __init__(self, error: click.UsageError) -> None:
        super().__init__(error.format_message(), ctx=error.ctx)
        self.error = error

    def show(self, file: IO[Any] | None = None) -> None:
        ctx = self.ctx
        if ctx is not None:
            hint = ""
            if ctx.command.get_help_option(ctx) is not None:
                names = ctx.command.get_help_option_names(ctx)
                hint = f"Try '{ctx.command_path} {max(names, key=len)}' for help.\n"
            click.echo(f"{ctx.get_usage()}\n{hint}", err=True, file=file, color=ctx.color)
        lang = _lang_of(ctx)
        words = self._words()
        if words is None:
            head = "Error" if lang == "en" else "ข้อผิดพลาด"
            text = f"{head}: {self.format_message()}"
        elif lang is None:
            text = f"ข้อผิดพลาด: {words.th}\n(Error: {words.en})"
        else:
            text = f"{'ข้อผิดพลาด' if lang == 'th' else 'Error'}: {words.text(lang)}"
        click.echo(text, err=True, file=file, color=ctx.color if ctx else None)

    def _words(self) -> Words | None:
        """The error in both languages, when it has them."""
        error = self.error
        hint = error.param.get_error_hint(error.ctx) if isinstance(
            error, click.BadParameter) and error.param is not None else None
        if isinstance(error, _BadValue):
            return error.words if hint is None else Words(
                f"{hint}: {error.words.th}", f"Invalid value for {hint}: {error.words.en}")
        if isinstance(error, click.MissingParameter) and hint is not None:
            return Words(f"ไม่ได้ระบุ {hint} ซึ่งต้องระบุ กรุณาดูวิธีใช้ด้วย --help",
                         error.format_message())
        if isinstance(error, click.NoSuchOption):
            return Words(f"ไม่มีตัวเลือก {error.option_name!r} กรุณาตรวจการสะกด หรือดูรายการ"
                         f"ตัวเลือกด้วย --help{_maybe(error.possibilities)}",
                         error.format_message())
        if _NoSuchCommand is not None and isinstance(error, _NoSuchCommand):
            return Words(f"ไม่มีคำสั่ง {error.command_name!r} กรุณาตรวจการสะกด หรือดูรายการ"
                         f"คำสั่งด้วย --help{_maybe(error.possibilities)}",
                         error.format_message())
        return None


#: click's error for an unknown command (click 8.4 and later; before, a plain UsageError,
#: left in English).
_NoSuchCommand: Any = getattr(click.exceptions, "NoSuchCommand", None)  # a class, or None


def _maybe(possibilities: Sequence[str] | None) -> str:
    """`` (หรือหมายถึง 'x')``: what a misspelt option or command may have meant."""
    return f" (หรือหมายถึง {', '.join(map(repr, sorted(possibilities)))})" if possibilities else ""


class _Failure(click.ClickException):
    """A problem of the call (exit 1), its ``Error:`` head in ``lang`` too."""

    def __init__(self, message: str, lang: Lang) -> None:
        super().__init__(message)
        self.lang = lang

    def show(self, file: IO[Any] | None = None) -> None:
        head = "ข้อผิดพลาด" if self.lang == "th" else "Error"
        click.echo(f"{head}: {self.format_message()}", err=True, file=file)


def _both(words: Words) -> str:
    """``words`` for a command without ``--lang``: the Thai, then the English in brackets."""
    return f"{words.th}\n({words.en})"


def _say(lang: Lang, words: Words) -> str:
    """``words`` in ``lang``."""
    return words.text(lang)


def _error(exc: PmqaError, lang: Lang) -> str:
    """An error of the call in ``lang``: one that lists layouts that do not load has a head
    sentence (the layouts' own problems are for their author, in English), the others their
    own text."""
    if isinstance(exc, LayoutsError):
        head = Words(f"ไฟล์แม่แบบ (layout) {len(exc.errors)} ไฟล์ใช้ไม่ได้ จึงไม่ได้อ่านแบบฟอร์มใด "
                     "กรุณาแก้ไฟล์แม่แบบตามรายการด้านล่าง หรือไม่ต้องระบุไฟล์นั้น:",
                     "no return was read: fix the layout, or leave it out")
        body = "\n".join(e.text(lang) for e in exc.errors)
        return f"{head.th}\n{body}" if lang == "th" else f"{body}\n{head.en}"
    return exc.text(lang)


@contextlib.contextmanager
def _interruptible(left: Callable[[], str], lang: Lang = "en") -> Iterator[None]:
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
                click.echo(f"\npmqa-xlsx: หยุดทำงานเพราะได้รับสัญญาณ {name} {left()}" if lang == "th"
                           else f"\npmqa-xlsx: stopped by {name}; {left()}", err=True)
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
        type=_Path(path_type=Path, file_okay=False),
        help="A folder of layout YAML files (repeatable).")(func)
    return click.option(
        "--layout", "layout_files", multiple=True, metavar="NAME|FILE",
        help="A layout the returns may be of: a YAML file or a bundled name (repeatable). "
             "Given layouts replace the bundled ones (default: every bundled layout).")(func)


def _layouts_and_round(files: tuple[str, ...], dirs: tuple[Path, ...], round_text: str | None,
                       lang: Lang = DEFAULT_LANG) -> tuple[tuple[Layout, ...] | None,
                                                           Round | None]:
    """The layouts named (None: the bundled ones) and the round declared. A layout that does
    not load ends the command (exit 1) listing its YAML paths; a bad --round is a usage
    error (exit 2). Messages in ``lang``."""
    given = bool(files or dirs)
    try:
        layouts = load_layouts(files, dirs)
    except LayoutsError as exc:
        raise _Failure(_error(exc, lang), lang) from exc
    try:
        declared = declared_round(round_text, layouts, layouts_given=given)
    except RoundError as exc:
        raise click.UsageError(exc.text(lang)) from exc
    return (layouts if given else None), declared


def _agencies_and_manifest(roster: Path | None, manifest_path: Path | None,
                           lang: Lang) -> tuple[list[Agency] | None, Manifest | None]:
    """The roster and the manifest given, or the command ends (exit 1) with their problems
    in ``lang``."""
    try:
        agencies = load_roster(roster) if roster else None
        manifest = load_manifest(manifest_path) if manifest_path else None
    except PmqaError as exc:
        raise _Failure(_error(exc, lang), lang) from exc
    return agencies, manifest


def _state(state: str, lang: Lang) -> str:
    """A return's state as people read it: ``ต้องแก้ไข [rejected]`` (the slug, which the
    README explains, in brackets), or the slug alone in English."""
    return f"{STATE_WORDS[state].th} [{state}]" if lang == "th" else state


def _feedback_option(func: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--feedback", "feedback_dir", type=_Path(path_type=Path),
        help="Write, into this folder, a copy of each return with problems, every problem "
             "cell marked with a note in Thai and a first sheet listing them, for the agency "
             "to fix and send back. Not inside an input folder.")(func)


def tolerant_streams(*streams: IO[str]) -> None:
    """Let ``streams`` (stdout and stderr by default) write any text: a character their
    encoding lacks becomes ``?`` instead of raising. On Thai Windows, output redirected to a
    file is cp874, which has no ✅ or Lao for a file name or an agency's text: printing that
    must not fail the command after its work is done. The encoding itself is kept."""
    for stream in streams or (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None or getattr(stream, "errors", None) in _TOLERANT:
            continue
        with contextlib.suppress(Exception):  # a replaced stream (a test's) is left as it is
            reconfigure(errors="replace")


#: Error handlers that already never fail on a character the encoding lacks.
_TOLERANT = frozenset({"replace", "backslashreplace", "namereplace",
                       "xmlcharrefreplace", "ignore"})


class _Main(click.Group):
    """The command group, making stdout and stderr tolerant before anything is printed, and
    every usage error Thai first (``_Usage``)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        tolerant_streams()
        return super().main(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGV] = list(args)
        return super().parse_args(ctx, args)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except _Usage:
            raise
        except click.UsageError as exc:
            raise _Usage(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _Usage:
            raise
        except click.UsageError as exc:  # a command's own, or click's parsing its arguments
            raise _Usage(exc) from exc


@click.group(cls=_Main)
@click.version_option(__version__, prog_name="pmqa-xlsx")
def main() -> None:
    """PMQA 4.0 self-assessment forms as protected Excel workbooks."""


@main.command()
@click.option("-o", "--output", "output", type=_Path(path_type=Path), required=True,
              help="The workbook to write, or with --roster the folder to write into.")
@click.option("--roster", type=_Path(path_type=Path, exists=True, dir_okay=False),
              help="CSV or XLSX with agency_code/รหัสหน่วยงาน, agency_name/ชื่อหน่วยงาน and "
                   "optional ministry/กระทรวง/สังกัด (see the README's Rosters): one "
                   "pre-filled workbook per agency.")
@click.option("--layout", "layout_name", metavar="NAME|FILE",
              help=f"A bundled layout name or a YAML file (default: {DEFAULT_LAYOUT}).")
@click.option("--year", type=_Int(), callback=_year,
              help="Fiscal year, Buddhist Era (default: the layout's). Shifts the target and "
                   "result years.")
@click.option("--password", callback=_password,
              help="Password for sheet and structure protection (deters editing; it is not "
                   "security). Thai and English letters, digits and keyboard symbols, at "
                   "most 255: hashed as Thai Excel hashes it.")
@click.option("--jobs", type=_IntRange(min=1), default=None,
              help="Processes for --roster (default: the cores available).")
@click.option("--force", is_flag=True,
              help="Write even where other workbooks are (-o a file that is not a blank "
                   "form; with --roster, a folder holding workbooks generate did not write).")
@click.option("--prefill", "last", metavar="LAST",
              type=_Path(path_type=Path, exists=True),
              help="With --roster: a previous round's merge output (its consolidated .xlsx, "
                   "or its --csv or --parquet folder). Each agency found in it gets its "
                   "indicator rows pre-filled (name, unit, direction, the result years this "
                   f"form also asks for), marked as carried over; {REPORT_NAME} says what "
                   "was carried and what could not be.")
def generate(output: Path, roster: Path | None, layout_name: str | None, year: int | None,
             password: str | None, jobs: int | None, force: bool, last: Path | None) -> None:
    """Write the form as a protected workbook (or one per roster agency).

    Refuses (exit 2) to replace what may be a filled return: a file at -o that is not a
    blank form, or with --roster a folder holding workbooks it did not write, unless --force.
    """
    layout = _layout(layout_name)
    left = ("every workbook written so far is whole and the others are as they were; "
            f"{MANIFEST_NAME} was not written: run generate again" if roster is not None
            else f"{output} is as it was")
    if last is not None and roster is None:
        raise click.UsageError("--prefill ต้องใช้คู่กับ --roster: ระบุรายชื่อหน่วยงานด้วย "
                               "(--prefill needs --roster)")
    with _interruptible(lambda: left):
        _generate(layout, output, roster, year, password, jobs, force, last)


def _generate(layout: Layout, output: Path, roster: Path | None, year: int | None,
              password: str | None, jobs: int | None, force: bool,
              last: Path | None = None) -> None:
    try:
        if roster is None:
            if output.suffix.lower() != ".xlsx":
                raise click.UsageError(_both(Words(
                    "-o ต้องเป็นชื่อไฟล์ .xlsx (หรือระบุ --roster พร้อมโฟลเดอร์ที่จะเขียน)",
                    "-o must name an .xlsx file (or give --roster and a folder)")))
            if not output.parent.is_dir():
                raise click.UsageError(_both(Words(
                    f"-o: ไม่พบโฟลเดอร์ {_path(output.parent)} กรุณาสร้างโฟลเดอร์ก่อน",
                    f"-o: folder {_path(output.parent)} does not exist")))
            generate_workbook(layout, output, year=year, password=password, force=force)
            click.echo(f"wrote {_path(output)}: {_what_was_written(layout, year)}")
        else:
            prefill = None
            if last is not None:
                agencies = load_roster(roster)
                previous = load_previous(last, [a.code for a in agencies])
                prefill = plan_prefill(build_cellmap(layout, year), previous, agencies)
            written = generate_roster(layout, roster, output, year=year, password=password,
                                      jobs=jobs, force=force, prefill=prefill)
            click.echo(f"wrote {len(written)} workbook{'s' if len(written) != 1 else ''} and "
                       f"{_path(output / MANIFEST_NAME)}: {_what_was_written(layout, year)}")
            if prefill is not None:  # generate has no --lang: Thai, the English in brackets
                words = prefill_summary(prefill, previous)
                click.echo(f"{words.th}\n({words.en})")
    except OutputRefused as exc:
        raise click.UsageError(_both(exc.words) if exc.words else str(exc)) from exc
    except PrefillError as exc:  # LAST refused: nothing written, exit 2 (Thai, English after)
        raise click.UsageError(_both(exc.words)) from exc
    except PmqaError as exc:  # a roster's problems in Thai, as everything people act on
        raise _Failure(exc.text(DEFAULT_LANG), DEFAULT_LANG) from exc


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
@click.argument("path", type=_Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--against", "old_path", metavar="OLD.yaml",
              type=_Path(path_type=Path, exists=True, dir_okay=False),
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
@click.argument("files", nargs=-1, required=True, type=_Path(path_type=Path),
                callback=_present)
@click.option("--roster", type=_Path(path_type=Path, exists=True, dir_okay=False),
              help="The agencies expected: a return of an agency not on it is an error.")
@click.option("--manifest", "manifest_path",
              type=_Path(path_type=Path, exists=True, dir_okay=False),
              help="The manifest.csv of the workbooks issued: a return without its agency's "
                   "token is an error.")
@_feedback_option
@_layout_options
@_lang_option
def check(files: tuple[Path, ...], roster: Path | None, manifest_path: Path | None,
          feedback_dir: Path | None, layout_files: tuple[str, ...],
          layout_dirs: tuple[Path, ...], round_text: str | None, lang: Lang) -> None:
    """Check returned workbooks (files, or folders of them) and list each file's problems,
    located as sheet!cell.

    Exits 0 when every file can be counted, 1 when a file is rejected or has an error (or a
    layout, the roster or the manifest cannot be used), 2 on a usage error (folders given that
    hold no file at all among them).
    """
    layouts, declared = _layouts_and_round(layout_files, layout_dirs, round_text, lang)
    agencies, manifest = _agencies_and_manifest(roster, manifest_path, lang)
    agency = _say(lang, Words("หน่วยงาน", "agency"))
    entries = collect_inputs(files)
    if not entries:  # only empty folders: nothing checked is not "every file can be counted"
        names = ", ".join(_path(path) for path in files)
        raise click.UsageError(_say(lang, Words(
            f"ไม่พบไฟล์ให้ตรวจใน {names} (โฟลเดอร์ว่าง) กรุณาตรวจว่าระบุโฟลเดอร์ที่เก็บแบบฟอร์มที่ได้รับคืน",
            f"no file to check in {names}: the folders given are empty; give the folder the "
            "returns are in")))
    if feedback_dir is not None:
        _feedback_dir(feedback_dir, entries, files, lang)
    left = Words("ไม่ได้เขียนไฟล์ใด", "nothing was written") if feedback_dir is None else Words(
        "สำเนาแบบฟอร์มสำหรับแก้ไขที่เขียนไปแล้วครบถ้วนทุกไฟล์ กรุณาตรวจใหม่เพื่อให้ได้ครบ",
        "the feedback copies written so far are whole; check again for all")
    with _interruptible(lambda: _say(lang, left), lang):
        failed = False
        with_problems: list[ReadReturn] = []
        for read in check_files(entries, agencies, manifest=manifest, layouts=layouts,
                                round=declared):
            if feedback_dir is not None and read.problems:
                with_problems.append(read)
            click.echo(f"{shown(read.file)}: {_state(file_state(read), lang)}" + (
                f" ({agency} {shown(read.agency_code)})" if read.agency_code else ""))
            for problem in read.problems:
                where = problem.where or "-"
                click.echo(f"  {_severity(problem.severity, lang)} {shown(where):<18} "
                           f"{problem.code}: {shown(problem.text(lang))}")
            failed = failed or read.state == "rejected"
        if feedback_dir is not None:
            flagged = {read.file for read in with_problems}
            _write_feedback(from_reads(with_problems, entries), feedback_dir, len(entries),
                            lang=lang, clean=[e for e in entries if e.name not in flagged])
    if failed:
        raise SystemExit(1)


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=_Path(path_type=Path),
                callback=_present)
@click.option("--roster", type=_Path(path_type=Path, exists=True, dir_okay=False),
              help="The agencies expected: lists who did not return and unknown agencies.")
@click.option("--manifest", "manifest_path",
              type=_Path(path_type=Path, exists=True, dir_okay=False),
              help="The manifest.csv of the workbooks issued: a return without its agency's "
                   "token is rejected.")
@click.option("-o", "--output", type=_Path(path_type=Path), required=True,
              help="The consolidated workbook to write (.xlsx).")
@click.option("--csv", "csv_dir", type=_Path(path_type=Path, file_okay=False),
              help="Also write the frames (and implausible.csv) as CSV files into this folder.")
@click.option("--parquet", "parquet_dir", type=_Path(path_type=Path, file_okay=False),
              help="Also write the frames as Parquet files into this folder (pyarrow).")
@click.option("--jobs", type=_IntRange(min=1), default=None,
              help="Processes that read the returns (default: the cores available).")
@click.option("--accept-errors", is_flag=True,
              help="Count a return whose errors are all in answer cells (a word in a number "
                   "cell, a choice not on the list...) as counted_with_errors, those cells "
                   "left out of the frames and listed; without it, any error rejects the "
                   "return. Errors about the file as a whole still reject it.")
@click.option("--deadline", "deadline_text", metavar="YYYY-MM-DD",
              help="The returns' deadline, in BE or CE (2569-03-31 or 2026-03-31): the "
                   "summary counts returns saved on or before the end of that day (Thai "
                   "time) as on time, the others as late.")
@click.option("--by", "by_column", metavar="COLUMN",
              help="Also write one consolidated workbook per group of agencies: those with "
                   "one value in this roster column (ministry, or an extra column such as "
                   "ภาค). Needs --roster.")
@click.option("--by-dir", type=_Path(path_type=Path, file_okay=False),
              help="The folder for the --by workbooks (default: beside -o, named "
                   "OUTPUT-by-COLUMN).")
@click.option("--previous", "previous_path", metavar="LAST", type=_Path(path_type=Path),
              help="The previous round's merge output (its consolidated .xlsx, or the folder "
                   "its --csv or --parquet wrote): adds the changes since then (changes and "
                   "score_changes sheets and files, a summary section) and a warning on each "
                   "result that differs from what the agency reported for that year last "
                   "round. A LAST that is not merge's output is a usage error (exit 2), found "
                   "before any return is read; so is one not of an earlier fiscal year than "
                   "this round (found before reading with --round, else before writing).")
@_feedback_option
@click.option("--results", "results_dir", type=_Path(path_type=Path, file_okay=False),
              help="Write, into this folder, each counted agency's result on one A4 page: "
                   "<code>-result.xlsx, and its PDF when LibreOffice is installed. Not inside "
                   "an input folder.")
@_layout_options
@_lang_option
def merge(inputs: tuple[Path, ...], roster: Path | None, manifest_path: Path | None,
          output: Path, csv_dir: Path | None, parquet_dir: Path | None,
          jobs: int | None, accept_errors: bool, deadline_text: str | None,
          by_column: str | None, by_dir: Path | None, previous_path: Path | None,
          feedback_dir: Path | None, results_dir: Path | None,
          layout_files: tuple[str, ...], layout_dirs: tuple[Path, ...],
          round_text: str | None, lang: Lang) -> None:
    """Merge returned workbooks (files or folders) of one round into one consolidated
    dataset.

    Exits 1 when any file was rejected or any problem is an error (the outputs are still
    written), or when the returns span several rounds and none was declared (nothing is
    written; the rounds are listed); 0 otherwise; 2 on a usage error, such as an output that
    would replace an input or the roster, or a --previous LAST that is not a previous merge's
    output (checked before any return is read; nothing is written).
    """
    if output.suffix.lower() != ".xlsx":
        raise click.UsageError(_say(lang, Words("-o ต้องเป็นชื่อไฟล์ .xlsx",
                                                "-o must name an .xlsx file")))
    if not output.parent.is_dir():
        raise click.UsageError(_say(lang, Words(
            f"-o: ไม่พบโฟลเดอร์ {_path(output.parent)} กรุณาสร้างโฟลเดอร์ก่อน",
            f"-o: folder {_path(output.parent)} does not exist")))
    if parquet_dir is not None:
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise click.UsageError(_say(lang, Words(
                "--parquet ต้องใช้ pyarrow กรุณาติดตั้งด้วยคำสั่ง pip install pyarrow",
                "--parquet needs pyarrow: pip install pyarrow"))) from exc
    deadline = None
    if deadline_text is not None:
        try:
            deadline = parse_deadline(deadline_text)
        except DeadlineError as exc:
            raise click.UsageError(_say(lang, Words("--deadline: ", "--deadline: ")
                                        + exc.words)) from exc
    if by_column is not None and roster is None:
        raise click.UsageError(_say(lang, Words(
            "--by ต้องใช้คู่กับ --roster (บัญชีรายชื่อหน่วยงานบอกว่าหน่วยงานใดอยู่กลุ่มใด)",
            "--by needs --roster (the roster says which agency is in which group)")))
    if by_dir is not None and by_column is None:
        raise click.UsageError(_say(lang, Words("--by-dir ต้องใช้คู่กับ --by",
                                                "--by-dir needs --by")))
    layouts, declared = _layouts_and_round(layout_files, layout_dirs, round_text, lang)
    agencies, manifest = _agencies_and_manifest(roster, manifest_path, lang)
    by = _by_groups(by_column, by_dir, output, agencies or [], lang) if by_column else None
    # with a roster, only its agencies of LAST are kept; without, LAST is checked now and its
    # counted returns' agencies read once the returns say who they are
    last = _last(previous_path, layouts, [output, csv_dir, parquet_dir], lang,
                 [a.code for a in agencies] if agencies is not None else [],
                 declared.fiscal_year if declared is not None else None) \
        if previous_path is not None else None
    written: list[Path] = []
    job = _MergeJob(inputs, agencies, manifest, roster, layouts, declared, jobs, accept_errors,
                    feedback_dir, lang, deadline, by, results_dir, last)
    with _interruptible(lambda: _say(lang, _LEFT_WRITTEN if written else _LEFT_UNWRITTEN),
                        lang):
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
    lang: Lang = DEFAULT_LANG
    deadline: date | None = None
    by: _ByGroups | None = None
    results: Path | None = None
    last: Last | None = None


def _last(path: Path, layouts: tuple[Layout, ...] | None, outputs: list[Path | None],
          lang: Lang, codes: list[str], year: int | None, *, all_scores: bool = False
          ) -> Last:
    """merge --previous: LAST read (before any return is; only the agencies of ``codes``
    kept: none, only LAST checked, without a roster), or a usage error (exit 2): not there,
    not merge's output, one of this merge's outputs (which would replace it), or (given this
    round's ``year``, --round) not of an earlier round."""
    here = os.path.realpath(path)
    for out in outputs:
        if out is not None and os.path.realpath(out) == here:
            raise click.UsageError(_say(lang, Words(
                f"--previous: {_path(path)} เป็นไฟล์ผลลัพธ์ของการรวมผลครั้งนี้ด้วย ซึ่งจะถูกเขียน"
                "ทับ กรุณาระบุผลลัพธ์ครั้งนี้ไว้ที่อื่น",
                f"--previous: {_path(path)} is also an output of this merge and would be "
                "replaced; write this merge's outputs elsewhere")))
    try:
        last = load_last(path, layout_set(layouts).layouts, codes, all_scores=all_scores)
        if year is not None:
            check_year(last, year)
    except PrefillError as exc:
        raise click.UsageError(_say(lang, Words("--previous: ", "--previous: ")) + exc.text(lang)
                               ) from exc
    return last


@dataclass(frozen=True)
class _ByGroups:
    """merge --by: the folder, and each group's agency codes and workbook."""

    directory: Path
    codes: dict[str, tuple[str, ...]]
    paths: dict[str, Path]


def _by_groups(column: str, directory: Path | None, output: Path, agencies: list[Agency],
               lang: Lang) -> _ByGroups:
    """The groups of ``merge --by`` and where they go, or a usage error (exit 2): a column
    the roster does not have, a folder that is a file or whose parent does not exist."""
    try:
        codes = groups_of(agencies, column)
    except GroupError as exc:
        raise click.UsageError(exc.text(lang)) from exc
    folder = directory if directory is not None else group_dir(output, column)
    if os.path.lexists(folder) and not folder.is_dir():
        raise click.UsageError(_say(lang, Words(
            f"--by-dir: {_path(folder)} เป็นไฟล์ ไม่ใช่โฟลเดอร์ กรุณาระบุโฟลเดอร์อื่น",
            f"--by-dir: {_path(folder)} is a file, not a folder; give another folder")))
    if not folder.parent.is_dir():
        raise click.UsageError(_say(lang, Words(
            f"--by-dir: ไม่พบโฟลเดอร์ {_path(folder.parent)}",
            f"--by-dir: folder {_path(folder.parent)} does not exist")))
    return _ByGroups(folder, codes, group_paths(folder, codes))


_LEFT_WRITTEN = Words("เขียนผลลัพธ์เสร็จแล้ว กรุณารวมผลใหม่เพื่อดูสรุป",
                      "the outputs were written; merge again to see the summary")
_LEFT_UNWRITTEN = Words("ยังไม่ได้เขียนผลลัพธ์ ไฟล์ผลลัพธ์เดิมยังอยู่เหมือนเดิม และไม่มีไฟล์"
                        "ชั่วคราวค้างอยู่",
                        "the outputs were not written: the previous ones are as they were, and "
                        "no temporary file is left")


def _merge(job: _MergeJob, output: Path, csv_dir: Path | None, parquet_dir: Path | None,
           written: list[Path]) -> bool:
    """merge's work: consolidate, write (into ``written``), print; True if it must exit 1."""
    from .report import output_files, write_outputs

    # No output may replace an input or the roster; a previous merge's outputs where this one
    # writes (even inside an input folder) are replaced, and not read.
    outputs = [Output("-o", output),
               *(Output("--csv", p) for p in (output_files(csv_dir, ".csv") if csv_dir else [])),
               *(Output("--parquet", p) for p in (output_files(parquet_dir, ".parquet")
                                                  if parquet_dir else [])),
               *(Output("--by", p) for p in (job.by.paths.values() if job.by else []))]
    lang = job.lang
    entries = collect_inputs(job.inputs)
    try:
        own = merge_outputs(outputs, entries, job.inputs, job.roster)
    except OutputRefused as exc:
        raise click.UsageError(exc.text(lang)) from exc
    files = [e for e in entries if e not in own]
    if job.feedback is not None:
        _feedback_dir(job.feedback, files, job.inputs, lang,
                      [(o.option, o.path) for o in outputs])
    others = [(o.option, o.path) for o in outputs] + (
        [("--feedback", job.feedback)] if job.feedback is not None else [])
    if job.results is not None:
        _results_dir(job.results, (), job.inputs, others, lang)
    try:
        with click.progressbar(length=len(files), file=sys.stderr, show_pos=True,
                               label=_say(lang, Words("กำลังอ่านแบบฟอร์ม", "reading returns"))
                               ) as bar:
            result = consolidate(files, job.agencies, manifest=job.manifest,
                                 layouts=job.layouts, round=job.round,
                                 accept_errors=job.accept_errors,
                                 progress=lambda _: bar.update(1), jobs=job.jobs)
    except RoundError as exc:
        raise _Failure(exc.text(lang) + "\n" + _say(lang, Words(
            "ไม่ได้เขียนไฟล์ใด", "nothing was written")), lang) from exc
    if job.last is not None:
        year = round_year(result)
        if job.round is None and year is not None:  # this round's year is known only now
            try:
                check_year(job.last, year)
            except PrefillError as exc:
                raise click.UsageError(_say(lang, Words("--previous: ", "--previous: "))
                                       + exc.text(lang) + "\n" + _say(lang, Words(
                                           "ไม่ได้เขียนไฟล์ใด", "nothing was written"))) from exc
        last = job.last
        if job.agencies is None:  # no roster: the agencies of the returns counted, now known
            counted = sorted({str(c) for c in result.scores["agency_code"].dropna()})
            last = _last(last.source, job.layouts, [], lang, counted, None, all_scores=True)
        result = compare(result, last)
    groups = {job.by.paths[value]: result.subset(codes)
              for value, codes in job.by.codes.items()} if job.by else {}
    pages = agency_pages(result, job.agencies, feedback=job.feedback is not None) \
        if job.results is not None else []
    if job.results is not None:
        _results_dir(job.results, [p.code for p in pages], job.inputs, others, lang)
    results = None
    try:
        # the agencies' results (pages, PDFs: the slowest part) are made first, then put in
        # place with the workbook and the CSVs, as one set: an interrupt or a failure
        # anywhere leaves every previous output, results included, as it was
        with _group_folder(job.by), (prepared_results(pages, job.results)
                                     if job.results is not None
                                     else contextlib.nullcontext()) as prepared:
            also = prepared.files if prepared is not None else ()
            targets = write_outputs(result, result.layouts or job.layouts or [load_layout()],
                                    workbook=output, csv_dir=csv_dir, parquet_dir=parquet_dir,
                                    groups=groups, roster=job.agencies,
                                    deadline=job.deadline, also=also)
            placed = {target for _, target in also}
            written.extend(t for t in targets if t not in placed)
            if prepared is not None:
                results = prepared.written(targets)
    except (PmqaError, OSError) as exc:
        text = exc.text(lang) if isinstance(exc, PmqaError) else str(exc)
        raise _Failure(_say(lang, Words(
            f"เขียนผลลัพธ์ไม่ได้ (ไฟล์ผลลัพธ์เดิมยังอยู่เหมือนเดิม): {text}",
            f"cannot write the outputs (the previous ones are as they were): {text}")),
            lang) from exc
    refused = result.returns[result.returns["state"].isin(("rejected", "unknown_agency",
                                                           "other_round", "empty"))]
    for line in summary_lines(result.summary(), len(files), result.round, job.accept_errors,
                              lang):
        click.echo(line)
    if len(refused):
        click.echo(_say(lang, Words(
            "ไม่ได้นับ (เหตุผลทั้งหมดอยู่ในแผ่นงาน returns และปัญหาทั้งหมดอยู่ในแผ่นงาน "
            "problems):",
            "Not counted (every reason is in the returns sheet, every problem in the "
            "problems sheet):")))
        reasons = refused[f"reason_{lang}"]
        for name, reason in list(zip(refused["file"], reasons, strict=True))[:_LISTED]:
            click.echo(f"  {shown(Path(str(name)).name)}: {shown(reason)}")
        if len(refused) > _LISTED:
            more = len(refused) - _LISTED
            click.echo(_say(lang, Words(f"  ... และอีก {more} ไฟล์", f"  ... and {more} more")))
    if job.last is not None:
        click.echo(comparison(result).words(_path(job.last.source)).text(lang))
    for path in written:
        if path not in groups:
            click.echo(_wrote(path, lang))
    if job.by is not None:
        click.echo(_by_lines(job.by, result, lang))
    if results is not None and job.results is not None:
        click.echo(_results_lines(results, job.results, lang))
    if job.feedback is not None:
        flagged = set(result.problems["file"].dropna().astype(str))
        by_file = {p.source: p for p in pages}
        copies = [dataclasses.replace(item, page=by_file.get(item.entry.name))
                  for item in from_consolidated(result.problems, files, job.layouts)]
        _write_feedback(copies, job.feedback,
                        len(files), job.jobs, lang,
                        clean=[e for e in files if e.name not in flagged])
    return bool(len(refused)) or bool((result.problems["severity"] == "error").any())


@contextlib.contextmanager
def _group_folder(by: _ByGroups | None) -> Iterator[None]:
    """The folder of merge --by's workbooks, made if it is not there, and removed again if
    the block fails or is interrupted (the set is then not written: the folder would be
    all that is left of it)."""
    if by is None:
        yield
        return
    made = not os.path.lexists(by.directory)
    by.directory.mkdir(exist_ok=True)
    try:
        yield
    except BaseException:
        if made:
            with contextlib.suppress(OSError):
                by.directory.rmdir()
        raise


def _results_dir(folder: Path, codes: Sequence[str], given: tuple[Path, ...],
                 others: list[tuple[str, Path]], lang: Lang) -> None:
    """Refuse (usage error, exit 2) a --results folder the results cannot go into."""
    try:
        check_results_dir(folder, codes, given, others)
    except ResultsRefused as exc:
        raise click.UsageError(exc.words.text(lang)) from exc


def _results_lines(done: ResultsWritten, folder: Path, lang: Lang) -> str:
    """What merge --results wrote, and why there are no PDFs if there are none."""
    books, pdfs = len(done.workbooks), len(done.pdfs)
    text = _say(lang, Words(
        f"เขียนผลรายหน่วยงาน {books:,} ไฟล์" + (f" และ PDF {pdfs:,} ไฟล์" if pdfs else "")
        + f" ในโฟลเดอร์ {_path(folder)} แล้ว",
        f"wrote {books:,} agency results" + (f" and {pdfs:,} PDFs" if pdfs else "")
        + f" in {_path(folder)}"))
    if done.no_pdf is not None:
        text += "\n  " + done.no_pdf.text(lang)
    for path in done.stale[:_LISTED]:
        name = _path(path.name)
        text += "\n  " + _say(lang, Words(
            f"ผลเก่า {name} ยังอยู่ในโฟลเดอร์ {_path(folder)}: การรวมผลครั้งนี้ไม่ได้นับแบบฟอร์ม"
            "ของหน่วยงานนี้ จึงไม่ได้เขียนผลใหม่ให้ ไม่ต้องส่งไฟล์นี้",
            f"an earlier result, {name}, is still in {_path(folder)}: this merge counted no "
            "return of its agency, so it wrote no new one; do not send it"))
    if len(done.stale) > _LISTED:
        more = len(done.stale) - _LISTED
        text += "\n  " + _say(lang, Words(f"... และผลเก่าอีก {more:,} ไฟล์",
                                           f"... and {more:,} more earlier results"))
    return text


def _by_lines(by: _ByGroups, result: Consolidated, lang: Lang) -> str:
    """What merge --by wrote, and which returns are in no group's workbook."""
    ungrouped = int((~result.returns["agency_code"].astype(object).isin(
        {c for codes in by.codes.values() for c in codes}).to_numpy(dtype=bool)).sum())
    n = len(by.paths)
    text = _say(lang, Words(f"เขียนไฟล์แยกตามกลุ่ม {n} ไฟล์ ในโฟลเดอร์ {_path(by.directory)} แล้ว",
                            f"wrote {n} group workbooks in {_path(by.directory)}"))
    if ungrouped:
        text += "\n" + _say(lang, Words(
            f"  ไฟล์ {ungrouped} ไฟล์ไม่อยู่ในกลุ่มใด (หน่วยงานไม่อยู่ในบัญชีรายชื่อ หรืออ่านรหัส"
            "หน่วยงานไม่ได้) จึงมีอยู่ในไฟล์รวมผลหลักเท่านั้น",
            f"  {ungrouped} file{'s are' if ungrouped != 1 else ' is'} in no group (agency "
            "not on the roster, or not readable): only in the main workbook"))
    return text


def summary_lines(summary: dict[str, int], files: int, counted_round: Round | None,
                  accept_errors: bool, lang: Lang = DEFAULT_LANG) -> list[str]:
    """The summary merge prints: files read (and the round), returns counted, then a line
    for each state not counted (with counted_with_errors when ``accept_errors``)."""
    counted = summary["ok"] + summary["ok_with_warnings"] + summary["counted_with_errors"]
    warned, errors = summary["ok_with_warnings"], summary["counted_with_errors"]
    states = STATES[2 if accept_errors else 3:]
    head = Words("ส่งแล้ว (นับผล)", "returned (counted)").text(lang)
    wide = max(_width(text) for text in [head, *(_state(state, lang) for state in states)])
    if lang == "th":
        lines = [f"อ่าน {files} ไฟล์" + (f" รอบ {counted_round} ({counted_round.describe().th})"
                                          if counted_round else ""),
                 f"  {_pad(head, wide)} {counted:>6}   (มีข้อควรตรวจสอบ {warned} ฉบับ"
                 + (f", มีช่องที่ผิดซึ่งไม่นับ {errors} ฉบับ" if accept_errors else "") + ")"]
    else:
        wide = max(wide, 19)  # as the English summary always was
        lines = [f"{files} files read" + (f"; round {counted_round}" if counted_round else ""),
                 f"  {_pad(head, wide)} {counted:>6}   ({warned} with warnings"
                 + (f", {errors} with errors left out" if accept_errors else "") + ")"]
    lines.extend(f"  {_pad(_state(state, lang), wide)} {summary[state]:>6}" for state in states)
    return lines


def _severity(severity: str, lang: Lang) -> str:
    """``error`` / ``warning`` as a problem line shows it."""
    if lang == "en":
        return f"{severity:<7}"
    return _pad("ผิดพลาด" if severity == "error" else "ควรตรวจ", 7)


def _wrote(path: str | os.PathLike[str], lang: Lang) -> str:
    return _say(lang, Words(f"เขียนไฟล์ {_path(path)} แล้ว", f"wrote {_path(path)}"))


_LISTED = 20  # files not counted that merge lists on the terminal


def _feedback_dir(folder: Path, entries: list[InputFile], given: tuple[Path, ...],
                  lang: Lang = DEFAULT_LANG,
                  outputs: list[tuple[str, Path]] | None = None) -> None:
    """Refuse a feedback folder that lies in an input folder, or where a copy would replace
    an input, one of the command's ``outputs`` (option, path) or any file that is not an
    earlier feedback copy (usage error, exit 2, in ``lang``), before anything is read."""
    try:
        check_feedback_dir(folder, entries, given, outputs or ())
    except FeedbackRefused as exc:
        raise click.UsageError(exc.words.text(lang)) from exc


def _write_feedback(returns: list[ReturnFeedback], folder: Path, read: int,
                    jobs: int | None = 1, lang: Lang = DEFAULT_LANG,
                    clean: list[InputFile] | None = None) -> None:
    """Write the feedback copies and say (in ``lang``) what was written (``input → copy``,
    the first ``_LISTED``), which returns got none (of ``read`` files: those without
    problems, and those that could not be copied), and which earlier copies in the folder
    are of returns that now have none (``clean``)."""
    try:
        done = write_feedback(returns, folder, jobs=jobs, clean=clean or ())
    except OSError as exc:
        raise click.ClickException(Words(
            f"เขียนสำเนาผลการตรวจไปที่ {_path(folder)} ไม่ได้: {exc}",
            f"cannot write the feedback copies to {_path(folder)}: {exc}").text(lang)) from exc
    click.echo(Words(f"เขียนสำเนาผลการตรวจ {len(done.written):,} ไฟล์ไปที่ {_path(folder)}",
                     f"wrote {len(done.written):,} feedback copies to {_path(folder)}"
                     ).text(lang))
    for name, copy in done.written[:_LISTED]:
        click.echo(f"  {shown(name)} → {_path(copy)}")
    if len(done.written) > _LISTED:
        click.echo("  " + Words(f"... และอีก {len(done.written) - _LISTED:,} ไฟล์",
                                f"... and {len(done.written) - _LISTED:,} more").text(lang))
    without = read - len(returns)
    if without:
        click.echo("  " + Words(f"{without:,} ไฟล์ไม่มีปัญหา จึงไม่ต้องมีสำเนาผลการตรวจ",
                                f"{without:,} files have no problems, so no copy").text(lang))
    for name, reason in done.skipped[:_LISTED]:
        click.echo(f"  {shown(name)}: {shown(reason.text(lang))}")
    if len(done.skipped) > _LISTED:
        click.echo("  " + Words(f"... และอีก {len(done.skipped) - _LISTED:,} ไฟล์",
                                f"... and {len(done.skipped) - _LISTED:,} more").text(lang))
    for name, copy in done.stale[:_LISTED]:
        click.echo("  " + Words(
            f"สำเนาเก่าของ {shown(name)} ยังอยู่ใน {_path(folder)} ({_path(copy.name)}): "
            "ไฟล์นี้ไม่มีปัญหาแล้ว ไม่ต้องส่ง",
            f"the old copy of {shown(name)} is still in {_path(folder)} ({_path(copy.name)}): "
            "that return has no problems now; do not send it").text(lang))
    if len(done.stale) > _LISTED:
        click.echo("  " + Words(f"... และสำเนาเก่าอีก {len(done.stale) - _LISTED:,} ไฟล์",
                                f"... and {len(done.stale) - _LISTED:,} more old copies"
                                ).text(lang))


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
@click.option("--out", type=_Path(path_type=Path, file_okay=False), default="pmqa-demo",
              show_default=True, help="The folder to write the demo's outputs into.")
@_lang_option
def demo(out: Path, lang: Lang) -> None:
    """Generate, then merge the sample returns: the whole job on the bundled defaults."""
    from .demo import run_demo

    try:
        run = run_demo(out)
    except (PmqaError, OSError) as exc:
        text = exc.text(lang) if isinstance(exc, PmqaError) else str(exc)
        raise _Failure(_say(lang, Words(f"รันตัวอย่างไม่ได้: {text}",
                                        f"the demo could not run: {text}")), lang) from exc
    result = run.result
    count = int(result.returns["file"].notna().sum())
    click.echo(_say(lang, Words(
        f"รวมผลแบบฟอร์มตัวอย่าง {count} ฉบับใน {run.returns} กับบัญชีรายชื่อหน่วยงาน:\n",
        f"Merged the {count} sample returns in {run.returns} against the roster:\n")))
    heads = _DEMO_HEADS[lang]
    states = [_state(state, lang) for state in result.returns["state"]]
    wide = max([17, *(_width(text) + 1 for text in states)])
    click.echo(f"  {_pad(heads[0], 22)} {_pad(heads[1], 8)} {_pad(heads[2], wide)}"
               f" {_pad(heads[3], 6, right=True)} {_pad(heads[4], 8, right=True)}")
    no_return = _say(lang, Words("(ไม่มีแบบฟอร์ม)", "(no return)"))
    row: Any  # a frame's row, by its columns' names
    for row, state in zip(result.returns.itertuples(index=False), states, strict=True):
        name = Path(row.file).name if isinstance(row.file, str) else no_return
        errors = "" if pd.isna(row.errors) else str(row.errors)
        warnings = "" if pd.isna(row.warnings) else str(row.warnings)
        code = row.agency_code if isinstance(row.agency_code, str) else ""
        line = (f"  {_pad(name, 22)} {_pad(code, 8)} {_pad(state, wide)} "
                f"{_pad(errors, 6, right=True)} {_pad(warnings, 8, right=True)}")
        click.echo(line.rstrip())
    problems = result.problems[result.problems["severity"] == "error"]
    if len(problems):
        click.echo(_say(lang, Words("\nสิ่งที่ต้องแก้ในแบบฟอร์มที่ไม่ผ่าน:",
                                    "\nWhat the rejected returns must fix:")))
        p: Any  # a frame's row, by its columns' names
        for p in problems.itertuples(index=False):
            where = f"{p.sheet}!{p.cell}" if isinstance(p.cell, str) else "-"
            message = p.message_th if lang == "th" else p.message_en
            click.echo(f"  {Path(p.file).name if isinstance(p.file, str) else '-'} "
                       f"{where}: {message}")
    click.echo(_say(lang, Words("\nผลลัพธ์:", "\nOutputs:")))
    for label, path in zip(_DEMO_OUTPUTS[lang], (run.blank, run.agencies, run.manifest,
                                                 run.consolidated, run.csv), strict=True):
        click.echo(f"  {_pad(label, 22)} {_path(path)}")


_DEMO_HEADS: dict[Lang, tuple[str, ...]] = {
    "th": ("ไฟล์", "หน่วยงาน", "สถานะ", "ผิดพลาด", "ควรตรวจ"),
    "en": ("file", "agency", "state", "errors", "warnings")}
_DEMO_OUTPUTS: dict[Lang, tuple[str, ...]] = {
    "th": ("แบบฟอร์มเปล่า", "แบบฟอร์มรายหน่วยงาน", "รายการแบบฟอร์มที่ออกให้", "ไฟล์รวมผล",
           "ตารางข้อมูล CSV"),
    "en": ("blank form", "one form per agency", "their manifest", "consolidated workbook",
           "the frames as CSV")}


def _width(text: str) -> int:
    """The columns ``text`` takes on a terminal: Thai vowel and tone marks above or below a
    letter take none of their own."""
    return sum(0 if unicodedata.category(ch) in ("Mn", "Me") else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` terminal columns (``_width``)."""
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


if __name__ == "__main__":
    main()
