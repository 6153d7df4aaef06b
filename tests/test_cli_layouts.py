"""Layouts and rounds as inputs of check and merge: --layout, --layouts, --round.

A form revision written by a ministry (here: the bundled layout with another version and
fiscal year) is read by check and merge without touching the installed package; a layout
that does not load ends the command; a merge counts one declared round, never a vote.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from pmqa_xlsx import build_cellmap, generate_workbook, parse_layout
from pmqa_xlsx.cli import main
from pmqa_xlsx.consolidate import check_files
from pmqa_xlsx.layout import Layout, resolve_layout_path
from pmqa_xlsx.roster import Agency

from .fill import fill
from .lang import english


def run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, english(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def _revision(folder: Path, version: str = "2563.1", year: int = 2563) -> Path:
    """The bundled layout as a ministry's revision: another version and fiscal year."""
    text = resolve_layout_path(None).read_text(encoding="utf-8")
    text = text.replace('version: "2562.1"', f'version: "{version}"', 1)
    text = text.replace("fiscal_year: 2562", f"fiscal_year: {year}", 1)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"revision-{version}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _returned(layout: Layout, folder: Path, code: str, year: int | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    sent = folder.parent / f"sent-{code}-{layout.form.version}.xlsx"
    generate_workbook(layout, sent, year=year, agency=Agency(code=code, name=f"กรม {code}"))
    path = folder / f"{code}-{layout.form.version}.xlsx"
    fill(build_cellmap(layout, year or layout.form.fiscal_year), sent, path, agency_code=code)
    return path


@pytest.fixture(scope="module")
def revision(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Layout]:
    path = _revision(tmp_path_factory.mktemp("layouts"))
    return path, parse_layout(path.read_text(encoding="utf-8"), source=str(path))


def test_check_reads_a_new_layout_given_and_only_with_it(revision: tuple[Path, Layout],
                                                         tmp_path: Path) -> None:
    path, layout = revision
    returned = _returned(layout, tmp_path / "returns", "03005")
    code, out = run("check", "--layout", path, returned)
    assert code == 0 and out.startswith(f"{returned}: ok (agency 03005)")
    code, out = run("check", returned)  # the bundled layouts do not know version 2563.1
    assert code == 1 and "unknown-version" in out


def test_merge_with_a_layouts_folder(revision: tuple[Path, Layout], tmp_path: Path) -> None:
    path, layout = revision
    returns = tmp_path / "returns"
    for code in ("03005", "08004"):
        _returned(layout, returns, code)
    code, out = run("merge", "--layouts", path.parent, returns, "-o", tmp_path / "m.xlsx")
    assert code == 0, out
    assert f"2 files read; round {layout.form.id}:2563.1:2563" in out
    frame = pd.read_excel(tmp_path / "m.xlsx", sheet_name="returns", dtype=str,
                          engine="openpyxl")
    assert frame["state"].tolist() == ["ok", "ok"]


def test_last_years_returns_beside_this_years(revision: tuple[Path, Layout], layout: Layout,
                                              tmp_path: Path) -> None:
    """Both layouts given: each return is read with its own; the round declared decides what
    is counted, and the other round's returns are listed, not rejected as unreadable."""
    path, new = revision
    returns = tmp_path / "returns"
    old_file = _returned(layout, returns, "03005")
    new_file = _returned(new, returns, "08004")
    both = ("--layout", "pmqa4-2562", "--layout", path)
    code, out = run("check", *both, returns)
    assert code == 0 and f"{old_file}: ok" in out and f"{new_file}: ok" in out
    for declared in (f"{new.form.id}:2563.1:2563", "2563"):  # 2563: the one layout for it
        code, out = run("merge", *both, "--round", declared, returns, "-o",
                        tmp_path / "m.xlsx")
        assert code == 1  # a return not counted
        assert "other_round              1" in out and "round pmqa4-cat3-cat7.2:2563.1:2563" in out
    frame = pd.read_excel(tmp_path / "m.xlsx", sheet_name="returns", dtype=str,
                          engine="openpyxl")
    states = dict(zip(frame["agency_code"], frame["state"], strict=True))
    assert states == {"03005": "other_round", "08004": "ok"}


def test_several_rounds_and_no_declaration_stop_the_merge(revision: tuple[Path, Layout],
                                                          layout: Layout,
                                                          tmp_path: Path) -> None:
    path, new = revision
    returns = tmp_path / "returns"
    _returned(layout, returns, "03005")
    _returned(layout, returns, "07007")
    _returned(new, returns, "08004")
    code, out = run("merge", "--layout", "pmqa4-2562", "--layout", path, returns,
                    "-o", tmp_path / "m.xlsx")
    assert code == 1 and "Traceback" not in out
    assert f"--round {layout.form.id}:2562.1:2562   2 returns from 2 agencies" in out
    assert f"--round {new.form.id}:2563.1:2563   1 return from 1 agency " in out
    assert "nothing was written" in out and not (tmp_path / "m.xlsx").exists()


def test_a_layout_that_does_not_load_ends_the_command(tmp_path: Path, layout: Layout) -> None:
    returned = _returned(layout, tmp_path / "returns", "03005")
    bad = tmp_path / "bad.yaml"
    bad.write_text(resolve_layout_path(None).read_text(encoding="utf-8").replace(
        "  title: ระดับ", "  titel: ระดับ", 1), encoding="utf-8")
    for command in (("check",), ("merge", "-o", tmp_path / "m.xlsx")):
        code, out = run(*command, "--layout", "pmqa4-2562", "--layout", bad, returned)
        assert code == 1, out
        assert "$.form.titel: unknown key 'titel'" in out and "no return was read" in out
        assert "Traceback" not in out and "03005" not in out
    assert not (tmp_path / "m.xlsx").exists()
    code, out = run("check", "--layouts", tmp_path / "nowhere", returned)
    assert code == 1 and "no such folder" in out


@pytest.mark.parametrize(("value", "words"), [
    ("2564", "--round 2564: the layouts given are of 2 forms or versions"),
    ("x:y", "give FORM:VERSION:YEAR"),
    ("pmqa4-cat3-cat7.2:9.9:2563", "no layout given is form"),
])
def test_a_bad_round_is_a_usage_error(revision: tuple[Path, Layout], tmp_path: Path,
                                      value: str, words: str) -> None:
    path, _ = revision
    code, out = run("merge", "--layout", "pmqa4-2562", "--layout", path, "--round", value,
                    tmp_path, "-o", tmp_path / "m.xlsx")
    assert code == 2 and words in out


def test_check_judges_roster_and_round_in_the_library(revision: tuple[Path, Layout],
                                                      layout: Layout, tmp_path: Path) -> None:
    """check_files: what check prints, one file at a time; a single layout declares the
    round, so a return of the same form for another year is an error of its own."""
    _, new = revision
    returns = tmp_path / "returns"
    later = _returned(layout, returns, "03005", year=2563)
    stranger = _returned(layout, returns, "99999")
    reads = {Path(r.file).name: r for r in check_files(
        returns, [Agency(code="03005", name="ก")], layouts=[layout])}
    assert [p.code for p in reads[later.name].problems
            if p.severity == "error"] == ["other-round"]
    assert [p.code for p in reads[stranger.name].problems
            if p.severity == "error"] == ["unknown-agency"]
    assert reads[later.name].state == reads[stranger.name].state == "rejected"
    assert new.form.version == "2563.1"
