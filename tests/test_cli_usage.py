"""Usage errors of every command Thai first: each check click makes of a value (a path that
must exist, be a file or a folder, be readable or writable; a whole number in a range; one of
the choices), a missing option and an unknown one say what is wrong in the command's --lang
(Thai with the English in brackets for a command without one), naming the option, exit 2.

The cases are read off the click command objects, so a new option is covered by itself."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pmqa_xlsx import cli
from pmqa_xlsx.cli import main
from pmqa_xlsx.layout import fiscal_year_problem
from pmqa_xlsx.rounds import _year_problem_th

from .lang import english_left

THAI = re.compile("[\u0e00-\u0e7f]")
QUOTED = re.compile(r"'[^']*'")


def _thai_outside_quotes(text: str) -> bool:
    """Whether ``text`` has Thai other than in the names and values it quotes."""
    return bool(THAI.search(QUOTED.sub("", text)))

#: Every (command, parameter) of the command line.
PARAMS = [(name, param) for name, command in sorted(main.commands.items())
          for param in command.params]


def _ids(case: tuple[str, click.Parameter]) -> str:
    return f"{case[0]}:{case[1].name}"


def _cases(keep: Callable[[click.Parameter], bool]) -> list[tuple[str, click.Parameter]]:
    return [(name, param) for name, param in PARAMS if keep(param)]


def _path_type(param: click.Parameter) -> click.Path | None:
    return param.type if isinstance(param.type, click.Path) else None


def _langs(command: str) -> list[str | None]:
    """The --lang values to try: both for a command that has it, else None (no --lang)."""
    has = any(p.name == "lang" for p in main.commands[command].params)
    return ["th", "en"] if has else [None]


def _argv(command: str, param: click.Parameter, value: str, lang: str | None) -> list[str]:
    """``command`` given ``value`` for ``param`` alone (processed before the missing required
    ones, as click processes what is on the command line first)."""
    given = [value] if isinstance(param, click.Argument) else [param.opts[-1], value]
    return [command, *(["--lang", lang] if lang else []), *given]


def _error_lines(result: click.testing.Result) -> list[str]:
    """The ``Error:`` part of a usage error's output, after click's Usage and Try lines."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    usage, _, error = result.output.partition("\n\n")
    assert usage.startswith("Usage: ") and "--help' for help." in usage, result.output
    return error.rstrip("\n").split("\n")


def _hint(command: str, param: click.Parameter) -> str:
    """How click names ``param`` in its errors (``'-o' / '--output'``, ``'INPUTS...'``)."""
    return param.get_error_hint(click.Context(main.commands[command]))


def _assert_said(result: click.testing.Result, lang: str | None, named: list[str],
                 english: str) -> None:
    """The error is in ``lang`` (Thai then ``(Error: ...)`` English for None), each of
    ``named`` in each language's line, the English line ``english``-like."""
    lines = _error_lines(result)
    if lang == "en":
        assert len(lines) == 1 and lines[0].startswith("Error: "), lines
        assert not _thai_outside_quotes(lines[0]) and english in lines[0], lines
        assert all(name in lines[0] for name in named), lines
        return
    thai = lines[0]
    assert thai.startswith("ข้อผิดพลาด: ") and THAI.search(thai), lines
    assert english_left(thai.removeprefix("ข้อผิดพลาด: ")) == [], lines
    assert all(name in thai for name in named), lines
    if lang is None:  # no --lang: the English in brackets on the next line
        assert len(lines) == 2 and lines[1].startswith("(Error: ") and lines[1].endswith(")")
        assert not _thai_outside_quotes(lines[1]) and english in lines[1], lines
        assert all(name in lines[1] for name in named), lines
    else:
        assert len(lines) == 1, lines


def _run(argv: list[str]) -> click.testing.Result:
    return CliRunner().invoke(main, argv)


# -- the rule: no value is checked by one of click's own types ----------------------------------

#: click's value-checking types and the ones of cli.py that say their problems in Thai.
CHECKED = (click.Path, click.types.IntParamType, click.types.FloatParamType, click.Choice,
           click.DateTime, click.File, click.types.UUIDParameterType)
THAI_TYPES = (cli._Path, cli._Int, cli._IntRange, cli._Choice)


@pytest.mark.parametrize("case", PARAMS, ids=_ids)
def test_every_value_checked_is_checked_by_a_type_that_says_it_in_thai(
        case: tuple[str, click.Parameter]) -> None:
    param = case[1]
    if isinstance(param.type, CHECKED):
        assert isinstance(param.type, THAI_TYPES), (case, param.type)


# -- each kind of check, over every option that makes it -------------------------------------

EXISTS = _cases(lambda p: bool((t := _path_type(p)) and t.exists)
                or p.callback is cli._present)
FOLDERS = _cases(lambda p: bool((t := _path_type(p)) and not t.file_okay))
FILES = _cases(lambda p: bool((t := _path_type(p)) and not t.dir_okay))
READABLE = _cases(lambda p: bool((t := _path_type(p)) and t.readable))
WRITABLE = _cases(lambda p: bool((t := _path_type(p)) and t.writable))
RANGES = _cases(lambda p: isinstance(p.type, click.IntRange))
WHOLE = _cases(lambda p: isinstance(p.type, click.types.IntParamType))
CHOICES = _cases(lambda p: isinstance(p.type, click.Choice))


def test_the_kinds_are_found_on_the_command_line() -> None:
    """The cases are read off the commands: each kind the commands make is there."""
    names = {kind: {f"{c}:{p.name}" for c, p in cases} for kind, cases in (
        ("exists", EXISTS), ("folders", FOLDERS), ("files", FILES), ("ranges", RANGES),
        ("whole", WHOLE), ("choices", CHOICES), ("readable", READABLE))}
    assert {"generate:last", "merge:manifest_path", "merge:inputs"} <= names["exists"]
    assert {"merge:results_dir", "demo:out"} <= names["folders"]
    assert {"generate:roster", "check-layout:path"} <= names["files"]
    assert {"generate:jobs", "merge:jobs"} <= names["ranges"]
    assert "generate:year" in names["whole"] and "check:lang" in names["choices"]
    assert "merge:output" in names["readable"]


@pytest.mark.parametrize("case", EXISTS, ids=_ids)
def test_a_path_that_does_not_exist(case: tuple[str, click.Parameter], tmp_path: Path) -> None:
    command, param = case
    missing = tmp_path / "ไม่มี.xlsx"
    for lang in _langs(command):
        result = _run(_argv(command, param, str(missing), lang))
        _assert_said(result, lang, [_hint(command, param), repr(str(missing))],
                     "does not exist")
        assert not missing.exists()


@pytest.mark.parametrize("case", FOLDERS, ids=_ids)
def test_a_file_where_a_folder_is_wanted(case: tuple[str, click.Parameter],
                                         tmp_path: Path) -> None:
    command, param = case
    file = tmp_path / "roster.csv"
    file.write_text("agency_code,agency_name\n", encoding="utf-8")
    for lang in _langs(command):
        result = _run(_argv(command, param, str(file), lang))
        _assert_said(result, lang, [_hint(command, param), repr(str(file))], "is a file")
        assert "เป็นไฟล์" in result.output or lang == "en"
    assert file.read_text(encoding="utf-8") == "agency_code,agency_name\n"


@pytest.mark.parametrize("case", FILES, ids=_ids)
def test_a_folder_where_a_file_is_wanted(case: tuple[str, click.Parameter],
                                         tmp_path: Path) -> None:
    command, param = case
    for lang in _langs(command):
        result = _run(_argv(command, param, str(tmp_path), lang))
        _assert_said(result, lang, [_hint(command, param), repr(str(tmp_path))], "is a folder")
        assert "เป็นโฟลเดอร์" in result.output or lang == "en"
    assert list(tmp_path.iterdir()) == []


def _denied(monkeypatch: pytest.MonkeyPatch, target: Path, mode: int) -> None:
    """``os.access`` says no to ``mode`` on ``target`` (a test run as root can read and
    write anything, so permissions cannot make the case)."""
    real = os.access

    def access(path: object, wanted: int, *args: object, **kwargs: object) -> bool:
        if Path(os.fsdecode(path)) == target and wanted & mode:
            return False
        return real(path, wanted, *args, **kwargs)
    monkeypatch.setattr(os, "access", access)


def _existing(param: click.Parameter, tmp_path: Path) -> Path:
    """A file, or a folder where ``param`` wants one, that is there."""
    kind = _path_type(param)
    assert kind is not None
    if not kind.file_okay:
        (tmp_path / "folder").mkdir()
        return tmp_path / "folder"
    (tmp_path / "file.xlsx").write_bytes(b"PK")
    return tmp_path / "file.xlsx"


@pytest.mark.parametrize(("case", "mode", "english"), [
    *((case, os.R_OK, "cannot be read") for case in READABLE),
    *((case, os.W_OK, "cannot be written") for case in WRITABLE)],
    ids=lambda x: _ids(x) if isinstance(x, tuple) else str(x))
def test_a_path_that_cannot_be_read_or_written(case: tuple[str, click.Parameter], mode: int,
                                               english: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    command, param = case
    path = _existing(param, tmp_path)
    _denied(monkeypatch, path, mode)
    for lang in _langs(command):
        result = _run(_argv(command, param, str(path), lang))
        _assert_said(result, lang, [_hint(command, param), repr(str(path))], english)
        assert "ไม่มีสิทธิ์" in result.output or lang == "en"


def test_a_writable_path_says_so_in_thai(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No option wants a writable path yet: the check itself, on a command of the same group."""
    group = cli._Main(name="pmqa-xlsx")

    @group.command("put")
    @click.option("--into", type=cli._Path(path_type=Path, exists=True, writable=True))
    def put(into: Path) -> None:
        """A command with a writable --into."""

    (tmp_path / "f.csv").write_text("x", encoding="utf-8")
    _denied(monkeypatch, tmp_path / "f.csv", os.W_OK)
    result = CliRunner().invoke(group, ["put", "--into", str(tmp_path / "f.csv")])
    lines = _error_lines(result)
    assert lines[0].startswith("ข้อผิดพลาด: '--into': ไม่มีสิทธิ์เขียน "), lines
    assert lines[1].startswith("(Error: Invalid value for '--into': ") and \
        "cannot be written" in lines[1], lines


@pytest.mark.parametrize("case", RANGES, ids=_ids)
def test_a_number_out_of_its_range(case: tuple[str, click.Parameter]) -> None:
    command, param = case
    kind = param.type
    assert isinstance(kind, click.IntRange)
    outside = [int(kind.min) - 1 - int(bool(kind.min_open))] if kind.min is not None else []
    outside += [int(kind.max) + 1 + int(bool(kind.max_open))] if kind.max is not None else []
    assert outside, kind
    for value in outside:
        for lang in _langs(command):
            result = _run(_argv(command, param, str(value), lang))
            _assert_said(result, lang, [_hint(command, param), str(value)],
                         "is out of range: give a whole number")
            assert "ต้องเป็นจำนวนเต็ม" in result.output or lang == "en"


@pytest.mark.parametrize("case", WHOLE, ids=_ids)
def test_a_word_where_a_whole_number_is_wanted(case: tuple[str, click.Parameter]) -> None:
    command, param = case
    for lang in _langs(command):
        result = _run(_argv(command, param, "สิบ", lang))
        _assert_said(result, lang, [_hint(command, param), "'สิบ'"], "is not a whole number")
        assert "ไม่ใช่จำนวนเต็ม" in result.output or lang == "en"


@pytest.mark.parametrize("case", CHOICES, ids=_ids)
def test_a_value_not_among_the_choices(case: tuple[str, click.Parameter]) -> None:
    command, param = case
    kind = param.type
    assert isinstance(kind, click.Choice)
    choices = [repr(str(c)) for c in kind.choices]
    for lang in _langs(command):
        # --lang itself cannot be parsed: its command speaks Thai, the default
        said = "th" if param.name == "lang" else lang
        argv = _argv(command, param, "xx", None if param.name == "lang" else lang)
        _assert_said(_run(argv), said, [_hint(command, param), "'xx'", *choices],
                     "is not one of")


# -- options missing or unknown --------------------------------------------------------------

REQUIRED = _cases(lambda p: p.required)


@pytest.mark.parametrize("case", REQUIRED, ids=_ids)
def test_a_required_option_or_argument_left_out(case: tuple[str, click.Parameter],
                                                tmp_path: Path) -> None:
    command, param = case
    others = _given_but(command, param, tmp_path)
    for lang in _langs(command):
        result = _run([command, *(["--lang", lang] if lang else []), *others])
        _assert_said(result, lang, [_hint(command, param)], "Missing")
        assert "ไม่ได้ระบุ" in result.output or lang == "en"


def _given_but(command: str, left_out: click.Parameter, tmp_path: Path) -> list[str]:
    """Values that pass click's checks for the other required parameters of ``command``."""
    (tmp_path / "given.xlsx").write_bytes(b"PK")
    argv = []
    for param in main.commands[command].params:
        if not param.required or param is left_out:
            continue
        kind = _path_type(param)
        there = isinstance(param, click.Argument) or kind is None or kind.exists
        value = str(tmp_path / ("given.xlsx" if there else "out.xlsx"))
        argv += [value] if isinstance(param, click.Argument) else [param.opts[-1], value]
    return argv


@pytest.mark.parametrize("command", sorted(main.commands))
def test_an_unknown_option(command: str) -> None:
    for lang in _langs(command):
        result = _run([command, *(["--lang", lang] if lang else []), "--nonesuch"])
        _assert_said(result, lang, ["'--nonesuch'"], "No such option")
        assert "ไม่มีตัวเลือก" in result.output or lang == "en"


def test_an_unknown_command_in_thai_then_english() -> None:
    result = _run(["mereg"])
    _assert_said(result, None, ["'mereg'"], "No such command")
    assert "ไม่มีคำสั่ง 'mereg'" in result.output


def test_a_command_s_own_usage_error_gets_the_thai_head(tmp_path: Path) -> None:
    """An error the command words itself keeps its words; only click's English head goes."""
    result = _run(["merge", str(tmp_path), "-o", str(tmp_path / "nowhere" / "c.xlsx")])
    assert _error_lines(result) == [f"ข้อผิดพลาด: -o: ไม่พบโฟลเดอร์ {tmp_path / 'nowhere'} "
                                    "กรุณาสร้างโฟลเดอร์ก่อน"]
    result = _run(["generate", "-o", str(tmp_path / "nowhere" / "c.xlsx")])
    lines = _error_lines(result)
    assert lines[0].startswith("ข้อผิดพลาด: -o: ไม่พบโฟลเดอร์ ") and \
        lines[1] == f"(-o: folder {tmp_path / 'nowhere'} does not exist)", lines
    assert not (tmp_path / "nowhere").exists()




def test_an_unknown_option_found_before_lang_is_parsed_follows_the_last_lang() -> None:
    """click finds an unknown option before it reads --lang: the command line says it."""
    for argv, lang in ((["check", "--lang=en", "--nonesuch"], "en"),
                       (["merge", "--lang", "en", "--lang", "th", "--nonesuch"], "th"),
                       (["merge", "--lang", "xx", "--nonesuch"], "th")):
        _assert_said(_run(argv), lang, ["'--nonesuch'"], "No such option")


@pytest.mark.parametrize("year", [2026, 2900])
def test_a_year_that_is_not_a_be_fiscal_year(year: int, tmp_path: Path) -> None:
    """A CE year, or one no fiscal year can be: the rule's own words (layout's English,
    rounds' Thai), naming --year."""
    result = _run(["generate", "-o", str(tmp_path / "b.xlsx"), "--year", str(year)])
    english = fiscal_year_problem(year)
    assert english is not None
    _assert_said(result, None, ["'--year'", str(year)], english)
    assert _year_problem_th(year) in result.output and list(tmp_path.iterdir()) == []
