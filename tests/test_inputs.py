"""No file name and no folder stops a check or a merge (issue 10, class A): names that are not
UTF-8, links to folders, loops, dangling links, trees too deep, folders that cannot be read,
temporary and partial files. Each is read, or listed with a located problem; none crashes
anything or is dropped silently. (The corpus holds one of each too: tests/corpus.py.)"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from pmqa_xlsx import consolidate
from pmqa_xlsx import inputs as inputs_module
from pmqa_xlsx.cli import main, shown
from pmqa_xlsx.consolidate import collect_inputs, read_input
from pmqa_xlsx.inputs import path_text
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.read import TEMP_SUFFIXES, read_raw
from pmqa_xlsx.roster import Agency

from .conftest import FIXED_TIME
from .fill import ticked
from .ooxml import inspect

BAD = os.fsdecode(b"\xff\xfe-03001.xlsx")  # as Python lists it: lone surrogates


@pytest.fixture(scope="module")
def good(layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A good return (of agency G001, with a few answers)."""
    from pmqa_xlsx.cellmap import build_cellmap
    from pmqa_xlsx.generate import Template

    cellmap = build_cellmap(layout)
    fields = frozenset(f.id for f in layout.identity.fields if f.roster)
    text = next(c for c in cellmap.inputs() if c.kind == "text")
    template = Template(cellmap, fields, None, FIXED_TIME,
                        {**ticked(cellmap), (text.item_id, text.field_id): "x"})
    path = tmp_path_factory.mktemp("good") / "G001.xlsx"
    path.write_bytes(template.personalise(Agency(code="G001", name="กรมทดสอบ")))
    return path


def states(folder: Path) -> dict[str, tuple[str, list[str]]]:
    merged = consolidate(folder, jobs=1)
    codes = merged.problems.groupby("file")["code"].apply(list).to_dict()
    return {str(f)[len(path_text(folder)) + 1:]: (s, codes.get(f, []))
            for f, s in zip(merged.returns["file"], merged.returns["state"], strict=True)}


# -- names --------------------------------------------------------------------------------------


def test_a_name_that_is_not_utf8_is_read_shown_escaped_and_opened_by_its_bytes(
        good: Path, tmp_path: Path) -> None:
    shutil.copy(good, tmp_path / BAD)
    assert os.fsencode(tmp_path / BAD).endswith(b"\xff\xfe-03001.xlsx")
    read = read_raw(tmp_path / BAD)
    assert read.file == path_text(tmp_path) + "/\\xff\\xfe-03001.xlsx"
    assert read.state == "ok_with_warnings" and read.agency_code == "G001"
    assert [p.code for p in read.problems] == ["bad-file-name"]
    read.file.encode("utf-8")  # valid text: any frame, terminal or file can take it


def test_an_escaped_name_that_meets_a_real_one_gets_its_own(good: Path, tmp_path: Path) -> None:
    shutil.copy(good, tmp_path / BAD)
    shutil.copy(good, tmp_path / "\\xff\\xfe-03001.xlsx")  # a real name, backslashes and all
    entries = collect_inputs(tmp_path)
    assert len({e.name for e in entries}) == 2 == len(entries)
    assert sorted(e.name[len(str(tmp_path)) + 1:] for e in entries) == [
        "\\xff\\xfe-03001.xlsx", "\\xff\\xfe-03001.xlsx (2)"]
    assert {e.path.name for e in entries} == {BAD, "\\xff\\xfe-03001.xlsx"}  # opened as they are


def test_a_merge_over_a_bad_name_writes_every_output_and_names_it(good: Path,
                                                                   tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    folder.mkdir()
    shutil.copy(good, folder / BAD)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["merge", "--lang", "en", str(folder), "-o",
                                       str(tmp_path / "m.xlsx"), "--csv", str(out),
                                       "--parquet", str(out)])
    assert result.exit_code == 0, result.output  # counted: the name is only a warning
    shown_name = f"{folder}/\\xff\\xfe-03001.xlsx"
    workbook = inspect(tmp_path / "m.xlsx")
    assert shown_name in workbook.cells["returns"].values()
    assert shown_name in (out / "returns.csv").read_text(encoding="utf-8-sig")
    assert shown_name in set(pd.read_parquet(out / "returns.parquet")["file"])
    result = CliRunner().invoke(main, ["check", "--lang", "en", str(folder / BAD)])
    assert result.exit_code == 0 and result.output.startswith(f"{shown_name}: ok_with_warnings")
    assert "bad-file-name: the name of this file" in result.output


def test_shown_never_fails_on_text_no_terminal_can_take() -> None:
    assert shown("a\udcff\x1b[2Jb\n") == "a\\udcff\\x1b[2Jb\\x0a"
    assert path_text("ok/ไทย.xlsx") == "ok/ไทย.xlsx"
    assert path_text("x\ud800") == "x\\ud800"  # not from a file system: still valid text


# -- links and folders --------------------------------------------------------------------------


def test_a_folder_reached_twice_is_read_once(good: Path, tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    (folder / "a").mkdir(parents=True)
    shutil.copy(good, folder / "a" / "G001.xlsx")
    (folder / "link-to-a").symlink_to("a", target_is_directory=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.symlink_to(folder / "a", target_is_directory=True)
    entries = collect_inputs([folder, elsewhere, folder / "a"])
    assert [e.name for e in entries] == [str(folder / "a" / "G001.xlsx")]


def test_links_that_lead_nowhere_or_round_are_listed(good: Path, tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    folder.mkdir()
    shutil.copy(good, folder / "G001.xlsx")
    (folder / "self.xlsx").symlink_to("self.xlsx")
    (folder / "a.xlsx").symlink_to("b.xlsx")
    (folder / "b.xlsx").symlink_to("a.xlsx")
    (folder / "gone.xlsx").symlink_to("nowhere/gone.xlsx")
    (folder / "up").symlink_to("..", target_is_directory=True)
    found = states(folder)
    assert found == {
        "G001.xlsx": ("ok", []),
        "a.xlsx": ("rejected", ["broken-link"]), "b.xlsx": ("rejected", ["broken-link"]),
        "gone.xlsx": ("rejected", ["broken-link"]), "self.xlsx": ("rejected", ["broken-link"]),
        "up": ("rejected", ["folder-loop"])}
    merged = consolidate(folder, jobs=1)
    reasons = dict(zip(merged.returns["file"].map(lambda f: Path(f).name),
                       merged.returns["reason_en"], strict=True))
    assert "a link to self.xlsx, which leads round in a loop of links" in reasons["self.xlsx"]
    assert "a link to nowhere/gone.xlsx, which does not exist" in reasons["gone.xlsx"]
    assert f"leads back to {tmp_path}, a folder that holds it" in reasons["up"]


def test_a_link_given_on_the_command_line_is_checked_not_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "loop.xlsx").symlink_to("loop.xlsx")
    result = CliRunner().invoke(main, ["check", "--lang", "en", str(tmp_path / "loop.xlsx")])
    assert result.exit_code == 1 and "broken-link: this is a link to loop.xlsx" in result.output
    result = CliRunner().invoke(main, ["check", "--lang", "en", str(tmp_path / "missing.xlsx")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_a_tree_deeper_than_the_walk_goes_is_listed_once(
        good: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs_module, "MAX_DEPTH", 3)
    folder = tmp_path / "returns"
    bottom = folder.joinpath(*"abcdef")
    bottom.mkdir(parents=True)
    shutil.copy(good, folder / "a" / "b" / "G001.xlsx")
    shutil.copy(good, bottom / "G001-deep.xlsx")
    found = states(folder)
    assert found == {"a/b/G001.xlsx": ("ok", []), "a/b/c/d": ("rejected", ["too-deep"])}


def test_a_folder_that_cannot_be_listed_is_listed(good: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "returns"
    (folder / "locked").mkdir(parents=True)
    shutil.copy(good, folder / "G001.xlsx")
    real = os.scandir

    def scandir(path: object) -> object:  # the tests run as root, whom chmod does not stop
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(inputs_module.os, "scandir", scandir)
    assert states(folder) == {"G001.xlsx": ("ok", []), "locked": ("rejected",
                                                                  ["unreadable-folder"])}


def test_check_takes_folders_and_lists_what_it_found_in_them(good: Path, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    shutil.copy(good, tmp_path / "sub" / "G001.xlsx")
    (tmp_path / "sub" / "broken.xlsx").symlink_to("nothing")
    result = CliRunner().invoke(main, ["check", "--lang", "en", str(tmp_path)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if not line.startswith("  ")]
    assert lines == [f"{tmp_path}/sub/G001.xlsx: ok (agency G001)",
                     f"{tmp_path}/sub/broken.xlsx: rejected"]


@pytest.mark.parametrize("lang", ["th", "en"])
def test_check_over_folders_that_hold_nothing_says_so_and_exits_2(tmp_path: Path,
                                                                 lang: str) -> None:
    """Nothing checked is not "every file can be counted": an officer who points check at
    the wrong (empty) folder is told so, in the language asked, and the exit code says it."""
    (tmp_path / "inbox" / "empty").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    folders = [str(tmp_path / "inbox"), str(tmp_path / "other")]
    result = CliRunner().invoke(main, ["check", "--lang", lang, *folders])
    assert result.exit_code == 2 and result.exception is not None
    assert isinstance(result.exception, SystemExit)
    said = {"th": "ไม่พบไฟล์ให้ตรวจใน", "en": "no file to check in"}[lang]
    assert f"{said} {folders[0]}, {folders[1]}" in result.output
    assert "Traceback" not in result.output


def test_check_over_a_folder_with_one_file_checks_it(good: Path, tmp_path: Path) -> None:
    """The empty-folder refusal is about the folders together: one file anywhere is checked."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "one").mkdir()
    shutil.copy(good, tmp_path / "one" / "G001.xlsx")
    result = CliRunner().invoke(main, ["check", "--lang", "en", str(tmp_path / "empty"),
                                       str(tmp_path / "one")])
    assert (result.exit_code, result.output) == (0, f"{tmp_path}/one/G001.xlsx: ok (agency "
                                                    "G001)\n")


# -- temporary and partial files ----------------------------------------------------------------


@pytest.mark.parametrize("name", [".G001.xlsx.x8k2m1q0.tmp", "~WRL0003.tmp", "lu12345.tmp",
                                  "G001.xlsx.part", "G001.xlsx.partial", "G001.xlsx.crdownload",
                                  "G001.xlsx.download", "G001.xlsx.opdownload",
                                  "G001.xlsx.filepart", "G001.XLSX.TMP", "x.temp"])
def test_temporary_and_partial_files_are_listed_and_never_opened(tmp_path: Path,
                                                                 name: str) -> None:
    os.mkfifo(tmp_path / name)  # opening it would wait for a writer forever
    read = read_input(collect_inputs(tmp_path)[0])
    assert read.state == "rejected" and [p.code for p in read.problems] == ["not-a-return"]
    assert "a temporary or partly written file" in read.problems[0].message_en
    assert name.lower().endswith(TEMP_SUFFIXES)


def test_our_own_temporary_files_are_named_so(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """What outputs.atomic_write and OutputSet leave behind if killed is never a return."""
    from pmqa_xlsx import outputs

    seen: list[str] = []
    real = os.replace

    def spy(src: str, dst: object) -> None:
        seen.append(Path(src).name)
        real(src, dst)

    monkeypatch.setattr(outputs.os, "replace", spy)
    outputs.atomic_write(tmp_path / "G001.xlsx", b"x")
    with outputs.OutputSet() as staged:
        staged.stage(tmp_path / "merged.xlsx").write_bytes(b"y")
        staged.commit()
    assert len(seen) == 2
    for name in seen:
        assert name.startswith(".") and name.endswith(".tmp")
        assert read_raw(tmp_path / name).problems[0].code == "not-a-return"


def test_outputs_whose_names_are_not_utf8_are_written_and_shown(good: Path,
                                                                tmp_path: Path) -> None:
    """Found in review: 'wrote <path>' went to a strict terminal as a lone surrogate."""
    odd = os.fsdecode(b"\xff")
    result = CliRunner().invoke(main, ["merge", "--lang", "en", str(good), "-o",
                                       str(tmp_path / f"{odd}.xlsx"), "--csv",
                                       str(tmp_path / odd)])
    assert result.exit_code == 0, result.output
    assert f"wrote {tmp_path}/\\xff.xlsx\n" in result.output
    assert f"wrote {tmp_path}/\\xff/answers.csv\n" in result.output
    assert os.path.exists(os.fsencode(tmp_path) + b"/\xff.xlsx")
    result = CliRunner().invoke(main, ["generate", "-o", str(tmp_path / f"{odd}-blank.xlsx")])
    assert result.exit_code == 0
    assert result.output.startswith(f"wrote {tmp_path}/\\xff-blank.xlsx: ")
