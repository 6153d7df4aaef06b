"""Consolidation: a folder of mixed returns and a roster -> one dataset that accounts for every
file and every roster agency; the consolidated workbook and CSVs; check and merge commands."""

from __future__ import annotations

import csv
import os
import shutil
import time
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from pmqa_xlsx import consolidate, generate_roster
from pmqa_xlsx import problems as P
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.cli import main
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.report import write_csvs, write_workbook

from .conftest import ROOT
from .fill import fill
from .libreoffice import convert

ROSTER = ROOT / "samples" / "roster.csv"
INJECTION = '=HYPERLINK("http://example.com/x","คลิก")'


@pytest.fixture(scope="module")
def returns(layout: Layout, cellmap: CellMap, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder like the central office gets: good returns, a duplicate, a return with
    mistakes, one from an agency not on the roster, a stray file and a lock file."""
    root = tmp_path_factory.mktemp("round")
    blank = root / "sent"
    generate_roster(layout, ROSTER, blank)
    folder = root / "returns"
    folder.mkdir()
    text_cell = next(c for c in cellmap.inputs() if c.kind == "text" and c.sheet == "หมวด 3")
    first = cellmap.indicator_rows[0]
    fill(cellmap, blank / "03005.xlsx", folder / "03005.xlsx",
         {f"หมวด 3!{text_cell.ref}": INJECTION})
    fill(cellmap, blank / "07007.xlsx", folder / "07007-first.xlsx")
    time.sleep(0.01)
    fill(cellmap, blank / "07007.xlsx", folder / "07007-final.xlsx",
         {f"หมวด 7.2!{first.cells['name'].ref}": "ตัวชี้วัดฉบับแก้ไข"})
    os.utime(folder / "07007-first.xlsx", (1_700_000_000, 1_700_000_000))
    fill(cellmap, blank / "21003.xlsx", folder / "21003.xlsx",
         {f"หมวด 7.2!{first.cells['target'].ref}": "ไม่มีข้อมูล"})
    fill(cellmap, blank / "08004.xlsx", folder / "08004.xlsx")
    # made from the blank form, with an agency code the roster does not know
    blank_form = root / "blank.xlsx"
    from pmqa_xlsx import generate_workbook

    generate_workbook(layout, blank_form)
    fill(cellmap, blank_form, folder / "unknown.xlsx", agency_code="99999")
    (folder / "notes.txt").write_text("ส่งแล้วครับ", encoding="utf-8")
    shutil.copy(folder / "08004.xlsx", folder / "~$08004.xlsx")
    return folder


@pytest.fixture(scope="module")
def merged(returns: Path) -> Any:
    return consolidate([returns], roster=ROSTER)


def state_of(merged: Any) -> dict[str, str]:
    frame = merged.returns
    return {(Path(f).name if isinstance(f, str) else f"(roster) {c}"): s for f, c, s in
            zip(frame["file"].fillna(pd.NA).astype(object).where(frame["file"].notna(), None),
                frame["agency_code"], frame["state"], strict=True)}


def test_every_file_and_every_roster_agency_is_accounted_for(merged: Any, returns: Path) -> None:
    assert state_of(merged) == {
        "03005.xlsx": "ok",
        "07007-final.xlsx": "ok",
        "07007-first.xlsx": "duplicate",
        "08004.xlsx": "ok",
        "21003.xlsx": "rejected",
        "notes.txt": "rejected",
        "unknown.xlsx": "unknown_agency",
        "~$08004.xlsx": "rejected",
        "(roster) 21003": "missing",
        "(roster) 15005": "missing",
        "(roster) 20001": "missing",
    }
    assert len(merged.returns[merged.returns["file"].notna()]) == len(list(returns.iterdir()))
    assert merged.summary() == {"ok": 3, "ok_with_warnings": 0, "rejected": 3, "duplicate": 1,
                                "unknown_agency": 1, "missing": 3}


def test_only_counted_returns_feed_the_data_and_none_twice(merged: Any) -> None:
    answers = merged.answers
    assert sorted(set(answers["agency_code"].astype(str))) == ["03005", "07007", "08004"]
    assert len(answers) == 3 * 404
    files = set(answers["file"].astype(str))
    assert {Path(f).name for f in files} == {"03005.xlsx", "07007-final.xlsx", "08004.xlsx"}
    names = merged.indicators[merged.indicators["agency_code"] == "07007"]["indicator"]
    assert "ตัวชี้วัดฉบับแก้ไข" in set(names)  # the newest return of 07007 is the one used
    assert len(merged.indicators) == 3 * 50


def test_merge_problems_name_file_and_reason(merged: Any) -> None:
    problems = merged.problems
    by_code = {c: r for c, r in zip(problems["code"], problems.to_dict("records"),
                                    strict=True)}
    assert by_code["duplicate"]["message"] == P.message(
        "duplicate", agency="07007", chosen="07007-final.xlsx")
    assert Path(by_code["duplicate"]["file"]).name == "07007-first.xlsx"
    assert by_code["unknown-agency"]["agency_code"] == "99999"
    assert by_code["not-excel"]["message"] == P.message("not-excel", kind="an unknown format")
    missing = problems[problems["code"] == "missing-return"]
    assert set(missing["agency_code"]) == {"21003", "15005", "20001"}
    rejected = missing[missing["agency_code"] == "21003"]["message"].item()
    assert "21003.xlsx could not be counted" in rejected
    assert set(problems["severity"]) <= {"error", "warning"}


def test_consolidated_workbook(merged: Any, layout: Layout, tmp_path: Path) -> None:
    path = tmp_path / "consolidated.xlsx"
    write_workbook(merged, path, [layout])
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["summary", "answers", "indicators", "problems", "returns"]
    summary = book["summary"]
    assert len(summary._charts) == 2  # noqa: SLF001 - native charts, one per part
    rows = {summary.cell(r, 1).value: [summary.cell(r, c).value for c in range(2, 8)]
            for r in range(1, summary.max_row + 1)}
    assert rows["ok"][0] == 3 and rows["missing"][0] == 3
    # item 3.1.1: three counted agencies, by status
    assert sum(v for v in rows["3.1.1"][1:5] if isinstance(v, int | float)) == 3
    answers = book["answers"]
    assert answers.max_row == 3 + 3 and answers.max_column == 2 + 404
    assert [answers.cell(4 + i, 2).value for i in range(3)] == ["03005", "07007", "08004"]
    returns = book["returns"]
    assert returns.max_row == 1 + len(merged.returns)


def test_agency_text_never_becomes_a_formula_or_link(merged: Any, layout: Layout,
                                                     tmp_path: Path) -> None:
    path = tmp_path / "consolidated.xlsx"
    write_workbook(merged, path, [layout])
    book = openpyxl.load_workbook(path)
    found = [c for row in book["answers"].iter_rows() for c in row if c.value == INJECTION]
    assert len(found) == 1 and found[0].data_type == "s"
    assert not any(ws._hyperlinks for ws in book.worksheets)  # noqa: SLF001
    for csv_path in write_csvs(merged, tmp_path / "csv"):
        raw = csv_path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
        for row in rows:
            assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row)
        assert all(line.startswith('"') for line in raw.decode("utf-8-sig").splitlines()[:5])
    answers_csv = (tmp_path / "csv" / "answers.csv").read_text(encoding="utf-8-sig")
    assert '"\'' + INJECTION.replace('"', '""') + '"' in answers_csv


@pytest.mark.libreoffice
def test_consolidated_workbook_opens_in_libreoffice(soffice: str, merged: Any, layout: Layout,
                                                    tmp_path: Path) -> None:
    path = tmp_path / "consolidated.xlsx"
    write_workbook(merged, path, [layout])
    resaved = convert(path, tmp_path / "lo")
    book = openpyxl.load_workbook(resaved)
    assert book.sheetnames == ["summary", "answers", "indicators", "problems", "returns"]
    assert book["answers"].cell(4, 2).value == "03005"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_check_cli(returns: Path) -> None:
    code, out = run("check", str(returns / "03005.xlsx"))
    assert (code, out) == (0, f"{returns / '03005.xlsx'}: ok (agency 03005)\n")
    code, out = run("check", str(returns / "03005.xlsx"), str(returns / "21003.xlsx"))
    assert code == 1
    assert f"{returns / '21003.xlsx'}: rejected (agency 21003)" in out
    assert "  error   หมวด 7.2!E10       not-a-number: ค่าเป้าหมาย 2562: 'ไม่มีข้อมูล' is not a " \
           "number" in out
    code, out = run("check", str(returns / "missing.xlsx"))
    assert code == 2 and "does not exist" in out
    code, out = run("check")
    assert code == 2


def test_merge_cli(returns: Path, tmp_path: Path) -> None:
    out = tmp_path / "consolidated.xlsx"
    code, text = run("merge", str(returns), "--roster", str(ROSTER), "-o", str(out),
                     "--csv", str(tmp_path / "csv"), "--parquet", str(tmp_path / "pq"))
    assert code == 1  # some files were rejected; the outputs are written all the same
    assert "8 files read" in text
    assert "  returned (counted)       3   (0 with warnings)" in text
    assert "  rejected                 3" in text and "  missing                  3" in text
    assert out.exists() and (tmp_path / "csv" / "returns.csv").exists()
    frame = pd.read_parquet(tmp_path / "pq" / "answers.parquet")
    assert len(frame) == 3 * 404 and "value_number" in frame
    assert "Traceback" not in text


def test_merge_cli_all_good_exits_0(returns: Path, tmp_path: Path) -> None:
    code, _ = run("merge", str(returns / "03005.xlsx"), str(returns / "08004.xlsx"), "-o",
                  str(tmp_path / "c.xlsx"))
    assert code == 0


def test_merge_replaces_outputs_atomically(returns: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "consolidated.xlsx"
    out.write_bytes(b"previous consolidated file")

    def boom(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # the merge is interrupted half way through the workbook

    monkeypatch.setattr("pmqa_xlsx.report._write_answers", boom)
    with pytest.raises(KeyboardInterrupt):
        write_workbook(consolidate([returns / "03005.xlsx"]), out, [])
    assert out.read_bytes() == b"previous consolidated file"
    assert [p.name for p in tmp_path.iterdir()] == ["consolidated.xlsx"]
