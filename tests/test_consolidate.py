"""Consolidation: a folder of mixed returns and a roster -> one dataset that accounts for every
file and every roster agency; the consolidated workbook and CSVs; check and merge commands."""

from __future__ import annotations

import csv
import os
import re
import shutil
import time
from datetime import UTC, datetime
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
from pmqa_xlsx.libreoffice import convert
from pmqa_xlsx.report import write_csvs, write_workbook
from pmqa_xlsx.roster import Agency, load_roster

from .conftest import ROOT
from .fill import fill
from .lang import english

ROSTER = ROOT / "samples" / "roster.csv"
ISSUED = datetime(2026, 1, 1, tzinfo=UTC)  # when the round's workbooks were generated
INJECTION = '=HYPERLINK("http://example.com/x","คลิก")'


@pytest.fixture(scope="module")
def returns(layout: Layout, cellmap: CellMap, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder like the central office gets: good returns, a duplicate, a return with
    mistakes, one from an agency not on the roster, a stray file and a lock file."""
    root = tmp_path_factory.mktemp("round")
    blank = root / "sent"
    generate_roster(layout, ROSTER, blank, generated_at=ISSUED)
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
    os.utime(folder / "07007-first.xlsx", (1_770_000_000, 1_770_000_000))  # 2026-02-02
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
        "07007-final.xlsx": "ok_with_warnings",  # the first return differs from it
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
    assert merged.summary() == {"ok": 2, "ok_with_warnings": 1, "counted_with_errors": 0,
                                "rejected": 3,
                                "other_round": 0, "duplicate": 1, "unknown_agency": 1,
                                "empty": 0, "missing": 3}


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
    assert by_code["duplicate"]["message_en"] == P.message(
        "duplicate", "en", agency="07007", chosen="07007-final.xlsx", difference=P.difference(
            "07007-final.xlsx", 1, ["หมวด 7.2!B10"]))
    assert Path(by_code["duplicate"]["file"]).name == "07007-first.xlsx"
    assert by_code["unknown-agency"]["agency_code"] == "99999"
    assert by_code["not-excel"]["message_en"] == P.message("not-excel", "en",
                                                           kind="an unknown format")
    missing = problems[problems["code"] == "missing-return"]
    assert set(missing["agency_code"]) == {"21003", "15005", "20001"}
    rejected = missing[missing["agency_code"] == "21003"]["message_en"].item()
    assert "21003.xlsx could not be counted" in rejected
    assert set(problems["severity"]) <= {"error", "warning"}


def test_consolidated_workbook(merged: Any, layout: Layout, tmp_path: Path) -> None:
    path = tmp_path / "consolidated.xlsx"
    write_workbook(merged, path, [layout], roster=load_roster(ROSTER))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["summary", "answers", "indicators", "problems", "returns",
                              "scores", "implausible", "changes", "score_changes"]
    summary = book["summary"]
    # native charts: return rate by ministry, statuses of each checklist's items
    assert len(summary._charts) == 2  # noqa: SLF001
    rows = {str(summary.cell(r, 1).value).split(" / ")[-1]:
            [summary.cell(r, c).value for c in range(3, 9)]
            for r in range(1, summary.max_row + 1)}
    assert rows["ok"][0] == 2 and rows["ok, with warnings"][0] == 1 and rows["missing"][0] == 3
    # item 3.1.1: shares of the three counted agencies, by status (and blank), add up to 1
    assert sum(v for v in rows["ข้อ 3.1.1"][:4] if isinstance(v, int | float)) == \
        pytest.approx(1.0)
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
    assert book.sheetnames == ["summary", "answers", "indicators", "problems", "returns",
                              "scores", "implausible", "changes", "score_changes"]
    assert book["answers"].cell(4, 2).value == "03005"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, english(args))
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
    assert "  returned (counted)       3   (1 with warnings)" in text
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


# -- which return counts ----------------------------------------------------------------------


def with_modified(src: Path, dst: Path, stamp: str | None) -> Path:
    """A copy of a return whose docProps/core.xml says it was last saved at ``stamp``."""
    import re
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "docProps/core.xml":
                text = data.decode()
                text = re.sub(r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              "" if stamp is None else rf"\g<1>{stamp}\g<2>", text)
                data = text.encode()
            zout.writestr(info.filename, data)
    return dst


@pytest.mark.parametrize(("older", "newer"), [
    ("2026-03-01T20:00:00Z", "2026-03-01T20:00:00.5Z"),        # fractions of a second
    ("2026-03-02T01:00:00+07:00", "2026-03-01T20:00:00Z"),     # 18:00Z is older than 20:00Z
    (None, "2026-02-01T00:00:00Z"),                            # no time at all is the oldest
])
def test_the_newest_return_counts(returns: Path, tmp_path: Path, older: str | None,
                                  newer: str) -> None:
    source = returns / "08004.xlsx"
    with_modified(source, tmp_path / "b-new.xlsx", newer)
    old = with_modified(source, tmp_path / "a-old.xlsx", older)
    os.utime(old, (2_000_000_000, 2_000_000_000))  # the file times say the opposite
    merged = consolidate(tmp_path)
    states = dict(zip(merged.returns["file"].map(lambda f: Path(f).name),
                      merged.returns["state"], strict=True))
    assert states == {"a-old.xlsx": "duplicate", "b-new.xlsx": "ok"}


def test_an_empty_return_never_replaces_a_filled_one(layout: Layout, returns: Path,
                                                     tmp_path: Path) -> None:
    generate_roster(layout, ROSTER, tmp_path / "sent")
    shutil.copy(returns / "08004.xlsx", tmp_path / "filled.xlsx")
    shutil.copy(tmp_path / "sent" / "08004.xlsx", tmp_path / "saved-later-empty.xlsx")
    os.utime(tmp_path / "filled.xlsx", (1_770_000_000, 1_770_000_000))
    merged = consolidate([tmp_path / "filled.xlsx", tmp_path / "saved-later-empty.xlsx"])
    states = dict(zip(merged.returns["file"].map(lambda f: Path(f).name),
                      merged.returns["state"], strict=True))
    # the empty one is newer, yet listed as empty: the filled older one counts
    assert states == {"filled.xlsx": "ok", "saved-later-empty.xlsx": "empty"}
    assert len(merged.indicators) == 50


def test_a_newer_rejected_return_is_pointed_out(returns: Path, cellmap: CellMap,
                                                tmp_path: Path) -> None:
    shutil.copy(returns / "21003.xlsx", tmp_path / "21003-new.xlsx")  # has an error
    # an old, good return of 21003 (openpyxl stamps the time it saves: set it afterwards)
    book = openpyxl.load_workbook(returns / "08004.xlsx")
    book["_meta"]["B5"] = "21003"
    book["คำชี้แจง"][cellmap.identity_cell("agency_code").ref] = "21003"
    book.save(tmp_path.parent / "edited.xlsx")
    with_modified(tmp_path.parent / "edited.xlsx", tmp_path / "old.xlsx",
                  "2026-02-01T00:00:00Z")
    merged = consolidate(tmp_path)
    problems = merged.problems[merged.problems["code"] == "newer-return-rejected"]
    assert problems["message_en"].tolist() == [P.message(
        "newer-return-rejected", "en", agency="21003", newer="21003-new.xlsx")]
    assert Path(problems["file"].item()).name == "old.xlsx"


def _return_of_2563(layout: Layout, tmp_path: Path, code: str = "15005",
                    name: str = "15005.xlsx") -> Path:
    from pmqa_xlsx import build_cellmap, generate_workbook
    from pmqa_xlsx.roster import Agency

    generate_workbook(layout, tmp_path / f"sent-{code}.xlsx", year=2563,
                      agency=Agency(code=code, name="กรมการจัดหางาน"))
    fill(build_cellmap(layout, 2563), tmp_path / f"sent-{code}.xlsx", tmp_path / name)
    return tmp_path / name


def test_a_declared_round_lists_returns_of_another_as_other_round(
        layout: Layout, returns: Path, tmp_path: Path) -> None:
    later = _return_of_2563(layout, tmp_path)
    merged = consolidate([returns / "03005.xlsx", returns / "08004.xlsx", later],
                         round=f"{layout.form.id}:{layout.form.version}:2562")
    row = merged.returns[merged.returns["agency_code"] == "15005"]
    assert row["state"].item() == "other_round"
    (message,) = merged.problems[merged.problems["code"] == "other-round"]["message_en"]
    assert message == P.message(
        "other-round", "en", found=f"fiscal year 2563 (form {layout.form.id} version "
        f"{layout.form.version})", expected=f"fiscal year 2562 (form {layout.form.id} "
        f"version {layout.form.version})", round=f"{layout.form.id}:{layout.form.version}:2563")
    assert str(merged.round) == f"{layout.form.id}:{layout.form.version}:2562"
    assert set(merged.answers["agency_code"].astype(str)) == {"03005", "08004"}


def test_the_minority_round_is_counted_when_declared(layout: Layout, returns: Path,
                                                     tmp_path: Path) -> None:
    """No vote: one return of 2563 among two of 2562 is the one counted when 2563 is
    declared (with the year alone, the bundled layouts being of one form and version)."""
    later = _return_of_2563(layout, tmp_path)
    merged = consolidate([returns / "03005.xlsx", returns / "08004.xlsx", later], round="2563")
    states = dict(zip(merged.returns["agency_code"], merged.returns["state"], strict=True))
    assert states == {"03005": "other_round", "08004": "other_round", "15005": "ok"}


def test_without_a_declaration_several_rounds_stop_the_merge(layout: Layout, returns: Path,
                                                            tmp_path: Path) -> None:
    from pmqa_xlsx.rounds import Round, SeveralRounds

    later = _return_of_2563(layout, tmp_path)
    with pytest.raises(SeveralRounds) as caught:
        consolidate([returns / "03005.xlsx", returns / "08004.xlsx", later])
    form, version = layout.form.id, layout.form.version
    assert dict(caught.value.counts) == {Round(form, version, 2562): 2,
                                         Round(form, version, 2563): 1}
    text = str(caught.value)
    first = text.index(f"--round {form}:{version}:2562   2 returns from 2 agencies")
    assert first < text.index(f"--round {form}:{version}:2563   1 return from 1 agency ")


def test_copies_of_an_off_roster_file_cannot_outvote_the_round(
        layout: Layout, returns: Path, tmp_path: Path) -> None:
    """Four copies of one return of another year from an agency not on the roster: they are
    unknown agencies, not a round; the genuine returns are counted and nothing stops."""
    copies = [_return_of_2563(layout, tmp_path, code="99999", name=f"copy{i}.xlsx")
              for i in range(4)]
    roster = [Agency(code=c, name=c) for c in ("03005", "08004", "15005")]
    merged = consolidate([returns / "03005.xlsx", returns / "08004.xlsx", *copies], roster)
    states = merged.returns.set_index("file")["state"]
    assert states[str(returns / "03005.xlsx")] == "ok"
    assert {states[str(c)] for c in copies} == {"unknown_agency"}


def test_a_single_layout_declares_the_round(layout: Layout, returns: Path,
                                            tmp_path: Path) -> None:
    later = _return_of_2563(layout, tmp_path)
    merged = consolidate([returns / "03005.xlsx", later], layouts=[layout])
    assert merged.round is not None and merged.round.fiscal_year == layout.form.fiscal_year
    states = dict(zip(merged.returns["agency_code"], merged.returns["state"], strict=True))
    assert states == {"03005": "ok", "15005": "other_round"}


@pytest.mark.parametrize(("text", "words"), [
    ("2563:x", "give FORM:VERSION:YEAR"),
    ("a:b:25x", "in digits"),
    ("nope:1:2563", "no layout given is form 'nope' version '1'"),
    ("2020", "looks like a CE year"),
])
def test_a_bad_round_says_what_to_give(text: str, words: str) -> None:
    from pmqa_xlsx.rounds import RoundError

    with pytest.raises(RoundError, match=re.escape(words)):
        consolidate([], round=text)


def test_consolidate_takes_one_path_as_text(returns: Path) -> None:
    merged = consolidate(str(returns / "03005.xlsx"))
    assert merged.returns["file"].tolist() == [str(returns / "03005.xlsx")]


# -- what the outputs hold --------------------------------------------------------------------


def test_csv_holds_the_frames_values(merged: Any, tmp_path: Path) -> None:
    write_csvs(merged, tmp_path)
    indicators = pd.read_csv(tmp_path / "indicators.csv", encoding="utf-8-sig",
                             dtype={"agency_code": str})
    expected = merged.indicators
    for column in ("target", "result_2562", "percent_success", "score"):
        assert indicators[column].tolist() == pytest.approx(
            expected[column].astype(float).tolist(), nan_ok=True)
    assert indicators["agency_code"].tolist() == expected["agency_code"].tolist()
    answers = pd.read_csv(tmp_path / "answers.csv", encoding="utf-8-sig", dtype=str,
                          keep_default_na=False)
    negative = answers[answers["value"].str.startswith("-")]
    assert all(v.lstrip("-").replace(".", "").isdigit() for v in negative["value"])


def test_workbook_cells_have_the_right_types(merged: Any, layout: Layout, cellmap: CellMap,
                                             tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    write_workbook(merged, path, [layout])
    book = openpyxl.load_workbook(path)
    indicators = book["indicators"]
    heads = [c.value for c in indicators[1]]
    first = [c for c in indicators[2]]
    for name in ("row", "target_year", "target", "percent_success", "score"):
        assert first[heads.index(name)].data_type == "n", name
    returns = book["returns"]
    heads = [c.value for c in returns[1]]
    assert returns.cell(2, heads.index("filled") + 1).data_type == "n"
    answers = book["answers"]
    rows = [[c.value for c in answers[r]][:4] for r in (1, 2, 3)]
    assert rows == [["file", "agency_code", "identity agency_name", "identity agency_code"],
                    ["", "", "ชื่อหน่วยงาน", "รหัสหน่วยงาน"],
                    ["", "", f"คำชี้แจง!{cellmap.identity_cell('agency_name').ref}",
                     f"คำชี้แจง!{cellmap.identity_cell('agency_code').ref}"]]


def test_a_rerun_does_not_read_its_own_outputs(returns: Path, tmp_path: Path) -> None:
    folder = tmp_path / "r"
    shutil.copytree(returns, folder)
    args = ("merge", str(folder), "-o", str(folder / "consolidated.xlsx"), "--csv",
            str(folder / "csv"))
    first, second = run(*args), run(*args)
    assert first == second


def test_outputs_written_into_the_input_folder_leave_its_returns_in(returns: Path,
                                                                   tmp_path: Path) -> None:
    """Found in review: --csv pointing at the input folder excluded the whole folder."""
    folder = tmp_path / "r"
    shutil.copytree(returns, folder)
    count = len(list(folder.iterdir()))
    runner = CliRunner()
    for _ in range(2):  # the second run finds the first run's CSVs there, and skips them
        result = runner.invoke(main, ["merge", "--lang", "en", str(folder), "-o",
                                       str(tmp_path / "out.xlsx"),
                                      "--csv", str(folder)])
        assert f"{count} files read" in result.output, result.output


def test_a_nameless_file_of_a_counted_agency_does_not_stop_the_summary(
        returns: Path, cellmap: CellMap, tmp_path: Path) -> None:
    """The summary names each counted return by its own file: another file of the same agency
    whose name cell is blank (a rejected copy, read after it) once made the summary fail with
    a TypeError while writing the workbook."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(returns / "08004.xlsx", folder / "08004.xlsx")
    book = openpyxl.load_workbook(returns / "08004.xlsx")
    book["คำชี้แจง"][cellmap.identity_cell("agency_name").ref] = None
    book["หมวด 7.2"][cellmap.indicator_rows[0].cells["target"].ref] = "ไม่มีข้อมูล"
    book.save(folder / "zz-08004-copy.xlsx")
    out = tmp_path / "merged.xlsx"
    result = CliRunner().invoke(main, ["merge", str(folder), "-o", str(out)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    merged = consolidate(folder)
    rows = merged.returns.set_index(merged.returns["file"].map(lambda f: Path(f).name))
    assert rows.loc["zz-08004-copy.xlsx", "agency_name"] is pd.NA
    assert rows.loc["08004.xlsx", "state"] in ("ok", "ok_with_warnings")
    book = openpyxl.load_workbook(out, read_only=True)
    cells = [v for row in book["summary"].iter_rows(values_only=True) for v in row]
    assert f"{rows.loc['08004.xlsx', 'agency_name']} (08004)" in cells
