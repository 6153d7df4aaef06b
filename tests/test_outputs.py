"""Outputs never destroy inputs (issue 10, class B): no output of merge or generate replaces
an input, the roster or a link to either (exit 2, nothing written); generate writes into a
folder of other workbooks only with --force; the outputs of one merge replace the previous
ones all together or not at all."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result

from pmqa_xlsx import consolidate
from pmqa_xlsx import outputs as outputs_module
from pmqa_xlsx.cellmap import build_cellmap
from pmqa_xlsx.cli import main
from pmqa_xlsx.generate import Template
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.outputs import OutputSet
from pmqa_xlsx.report import FRAME_NAMES, is_previous_output, write_outputs
from pmqa_xlsx.roster import Agency

from .conftest import FIXED_TIME, ROOT
from .fill import fill, ticked
from .lang import english

ROSTER = ROOT / "samples" / "roster.csv"


@pytest.fixture(scope="module")
def returns(layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two filled returns of roster agencies."""
    cellmap = build_cellmap(layout)
    fields = frozenset(f.id for f in layout.identity.fields if f.roster)
    text = next(c for c in cellmap.inputs() if c.kind == "text")
    template = Template(cellmap, fields, None, FIXED_TIME,
                        {**ticked(cellmap), (text.item_id, text.field_id): "x"})
    folder = tmp_path_factory.mktemp("returns")
    for code in ("03005", "07007"):
        (folder / f"{code}.xlsx").write_bytes(template.personalise(Agency(code=code, name="ก")))
    return folder


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


def invoke(*args: object) -> Result:
    result = CliRunner().invoke(main, english(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


@pytest.fixture
def folder(returns: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "returns"
    shutil.copytree(returns, copy)
    return copy


# -- merge ------------------------------------------------------------------------------------


def refused(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "writing there would destroy it" in result.output or "is a folder" in result.output
    for word in words:
        assert word in result.output, result.output


def test_merge_o_on_an_input_given_or_found_is_refused(folder: Path) -> None:
    before = digest(folder)
    refused(invoke("merge", folder / "03005.xlsx", "-o", folder / "03005.xlsx"),
                   "is the input", "given to this merge")
    refused(invoke("merge", folder, "-o", folder / "07007.xlsx"), "found in an input folder")
    refused(invoke("merge", folder / "03005.xlsx", folder / "07007.xlsx", "-o",
                   folder / ".." / folder.name / "07007.xlsx"), "given to this merge")
    assert digest(folder) == before


def test_merge_outputs_that_are_links_to_inputs_are_refused(folder: Path,
                                                            tmp_path: Path) -> None:
    before = digest(folder)
    (tmp_path / "soft.xlsx").symlink_to(folder / "03005.xlsx")
    os.link(folder / "07007.xlsx", tmp_path / "hard.xlsx")
    refused(invoke("merge", folder, "-o", tmp_path / "soft.xlsx"), "03005.xlsx")
    refused(invoke("merge", folder, "-o", tmp_path / "hard.xlsx"), "07007.xlsx")
    csv = tmp_path / "csv"
    csv.mkdir()
    (csv / "answers.csv").symlink_to(folder / "03005.xlsx")
    refused(invoke("merge", folder, "-o", tmp_path / "m.xlsx", "--csv", csv), "--csv")
    assert digest(folder) == before and not (tmp_path / "m.xlsx").exists()


def test_merge_outputs_on_the_roster_are_refused(folder: Path, tmp_path: Path) -> None:
    roster = tmp_path / "data" / "returns.csv"  # a roster named like a merge's CSV output
    roster.parent.mkdir()
    shutil.copy(ROSTER, roster)
    xlsx = tmp_path / "roster.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["agency_code", "agency_name"])
    book.active.append(["03005", "ก"])
    book.save(xlsx)
    refused(invoke("merge", folder, "--roster", roster, "-o", tmp_path / "m.xlsx", "--csv",
                   roster.parent), "is the roster")
    refused(invoke("merge", folder, "--roster", xlsx, "-o", xlsx), "is the roster")
    (tmp_path / "link.xlsx").symlink_to(xlsx)
    refused(invoke("merge", folder, "--roster", xlsx, "-o", tmp_path / "link.xlsx"),
            "is the roster")
    assert roster.read_bytes() == ROSTER.read_bytes()
    assert openpyxl.load_workbook(xlsx).active["A2"].value == "03005"


def test_merge_into_a_folder_or_over_a_stray_file_in_an_input_folder_is_refused(
        folder: Path, tmp_path: Path) -> None:
    (tmp_path / "box.xlsx").mkdir()
    refused(invoke("merge", folder, "-o", tmp_path / "box.xlsx"), "is a folder")
    (folder / "notes.xlsx").write_text("not ours")
    refused(invoke("merge", folder, "-o", folder / "notes.xlsx"), "notes.xlsx")
    (folder / "out").mkdir()
    (folder / "out" / "answers.csv").write_text("someone's own table\n")
    refused(invoke("merge", folder, "-o", tmp_path / "m.xlsx", "--csv", folder / "out"),
            "answers.csv")
    assert (folder / "out" / "answers.csv").read_text() == "someone's own table\n"


def test_a_previous_merge_inside_an_input_folder_is_replaced_and_not_read(
        folder: Path) -> None:
    args = ("merge", folder, "-o", folder / "merged.xlsx", "--csv", folder / "csv",
            "--parquet", folder / "pq")
    first, second = invoke(*args), invoke(*args)
    assert first.exit_code == second.exit_code == 0, second.output
    assert "2 files read" in second.output
    for path in (folder / "merged.xlsx", folder / "csv" / "returns.csv",
                 folder / "pq" / "answers.parquet"):
        assert is_previous_output(path), path
    assert not is_previous_output(folder / "03005.xlsx")


# -- one set of outputs -----------------------------------------------------------------------


def previous_set(out: Path) -> dict[Path, bytes]:
    """What a previous merge left in ``out`` (made up: the bytes are what matter)."""
    files = {out / "m.xlsx": b"old workbook", out / "csv" / "answers.csv": b"old a",
             out / "csv" / "returns.csv": b"old r"}
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def failing_replace(fail_on: str) -> Any:
    real = os.replace

    def replace(src: Any, dst: Any) -> None:
        if Path(dst).name == fail_on and Path(src).name.endswith(".tmp") \
                and not Path(dst).name.endswith(".tmp"):
            raise OSError(28, "No space left on device")
        real(src, dst)
    return replace


@pytest.mark.parametrize("links", [True, False], ids=["hard-links", "renames"])
def test_one_merge_replaces_all_its_outputs_or_none(folder: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    links: bool) -> None:
    out = tmp_path / "out"
    previous = previous_set(out)
    merged = consolidate(folder)
    monkeypatch.setattr(outputs_module.os, "replace", failing_replace("problems.csv"))
    if not links:  # a file system without hard links: the previous files are renamed aside
        def no_link(*args: Any, **kwargs: Any) -> None:
            raise OSError(1, "Operation not permitted")
        monkeypatch.setattr(outputs_module.os, "link", no_link)
    with pytest.raises(OSError, match="No space left"):
        write_outputs(merged, [], workbook=out / "m.xlsx", csv_dir=out / "csv")
    for path, data in previous.items():  # the workbook and answers.csv were put back
        assert path.read_bytes() == data
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == sorted(
        p.name for p in previous)  # no temporary file, no half of a new set
    monkeypatch.undo()
    written = write_outputs(merged, [], workbook=out / "m.xlsx", csv_dir=out / "csv")
    assert len(written) == 1 + len(FRAME_NAMES) and all(is_previous_output(p) for p in written)


def test_a_failed_write_leaves_the_previous_set_and_says_so(folder: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    out = tmp_path / "out"
    previous = previous_set(out)

    def full_disk(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pmqa_xlsx.report._parquet", full_disk)
    result = invoke("merge", folder, "-o", out / "m.xlsx", "--csv", out / "csv", "--parquet",
                    out / "pq")
    assert result.exit_code == 1
    assert "cannot write the outputs (the previous ones are as they were)" in result.output
    assert {p: p.read_bytes() for p in previous} == previous
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == sorted(
        p.name for p in previous)


def test_an_uncommitted_set_leaves_nothing(tmp_path: Path) -> None:
    with OutputSet() as staged:
        staged.stage(tmp_path / "a.xlsx").write_bytes(b"a")
        staged.stage(tmp_path / "b.csv").write_bytes(b"b")
    assert list(tmp_path.iterdir()) == []


# -- generate ---------------------------------------------------------------------------------


def test_generate_roster_refuses_a_folder_of_returns(folder: Path) -> None:
    before = digest(folder)
    result = invoke("generate", "--roster", ROSTER, "-o", folder)
    assert result.exit_code == 2
    assert "already holds workbooks that generate did not write there (03005.xlsx, " \
           "07007.xlsx)" in result.output and "--force" in result.output
    assert digest(folder) == before  # not one return replaced by a blank form
    forced = invoke("generate", "--roster", ROSTER, "-o", folder, "--force")
    assert forced.exit_code == 0 and digest(folder)["03005.xlsx"] != before["03005.xlsx"]


def test_generate_roster_replaces_its_own_workbooks_but_not_a_filled_one(
        cellmap: Any, tmp_path: Path) -> None:
    out = tmp_path / "sent"
    assert invoke("generate", "--roster", ROSTER, "-o", out).exit_code == 0
    again = invoke("generate", "--roster", ROSTER, "-o", out, "--year", "2569")
    assert again.exit_code == 0, again.output  # all listed in its manifest, unchanged
    (out / "~$03005.xlsx").write_bytes(b"lock")  # not a workbook: no reason to refuse
    fill(cellmap, out / "03005.xlsx", out / "03005.xlsx")  # an agency filled its copy there
    before = digest(out)
    result = invoke("generate", "--roster", ROSTER, "-o", out)
    assert result.exit_code == 2 and "(03005.xlsx)" in result.output
    assert digest(out) == before


def test_generate_roster_never_writes_over_its_roster(tmp_path: Path) -> None:
    out = tmp_path / "sent"
    out.mkdir()
    shutil.copy(ROSTER, out / "manifest.csv")  # the roster, kept where the manifest goes
    for flags in ((), ("--force",)):
        result = invoke("generate", "--roster", out / "manifest.csv", "-o", out, *flags)
        assert result.exit_code == 2 and "would be written over the roster" in result.output
    assert (out / "manifest.csv").read_bytes() == ROSTER.read_bytes()


def test_generate_o_replaces_a_blank_form_but_not_a_return(folder: Path,
                                                           tmp_path: Path) -> None:
    blank = tmp_path / "blank.xlsx"
    for _ in range(2):
        assert invoke("generate", "-o", blank).exit_code == 0  # a rerun: a blank form
    before = digest(folder)
    result = invoke("generate", "-o", folder / "03005.xlsx")
    assert result.exit_code == 2 and "is not a blank form" in result.output
    (tmp_path / "notes.xlsx").write_text("a note")
    assert invoke("generate", "-o", tmp_path / "notes.xlsx").exit_code == 2
    assert digest(folder) == before
    assert invoke("generate", "-o", folder / "03005.xlsx", "--force").exit_code == 0
