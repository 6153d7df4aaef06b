"""The pmqa-xlsx command line through click's CliRunner: outputs, messages and exit codes."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from click.testing import CliRunner

from pmqa_xlsx.cli import main
from pmqa_xlsx.layout import META_SHEET, resolve_layout_path
from pmqa_xlsx.outputs import legacy_password_hash

from .conftest import ROOT
from .lang import english

#: What generate says it wrote with the bundled layout and its own year.
BUNDLED_2562 = ("form pmqa4-cat3-cat7.2 version 2562.1 (layout pmqa4-2562), fiscal year 2562 "
                "(ปีงบประมาณ พ.ศ. 2562)")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, english(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_generate_blank(tmp_path: Path) -> None:
    code, out = run("generate", "-o", str(tmp_path / "blank.xlsx"))
    assert (code, out) == (0, f"wrote {tmp_path / 'blank.xlsx'}: {BUNDLED_2562}, the layout's: "
                              "give --year for another\n")
    book = openpyxl.load_workbook(tmp_path / "blank.xlsx")
    assert book[META_SHEET]["B4"].value == "2562"


def test_generate_with_year_and_password(tmp_path: Path) -> None:
    code, out = run("generate", "-o", str(tmp_path / "b.xlsx"), "--year", "2569",
                    "--password", "pw")
    assert (code, out) == (0, f"wrote {tmp_path / 'b.xlsx'}: form pmqa4-cat3-cat7.2 version "
                              "2562.1 (layout pmqa4-2562), fiscal year 2569 (ปีงบประมาณ พ.ศ. "
                              "2569)\n")
    book = openpyxl.load_workbook(tmp_path / "b.xlsx")
    assert book[META_SHEET]["B4"].value == "2569"
    assert book.security.workbookPassword == legacy_password_hash("pw")
    assert all(ws.protection.password == legacy_password_hash("pw") for ws in book.worksheets)


def test_generate_roster(tmp_path: Path) -> None:
    code, out = run("generate", "--roster", str(ROOT / "samples" / "roster.csv"),
                    "-o", str(tmp_path / "out"))
    assert code == 0
    assert out == (f"wrote 6 workbooks and {tmp_path / 'out' / 'manifest.csv'}: {BUNDLED_2562}, "
                   "the layout's: give --year for another\n")
    assert len(list((tmp_path / "out").glob("*.xlsx"))) == 6


def test_bad_roster_exits_1_with_lines(tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_text("agency_code,agency_name\n1,ก\n1,ข\n", encoding="utf-8")
    code, out = run("generate", "--roster", str(roster), "-o", str(tmp_path / "out"))
    assert code == 1
    assert "แถว 3: agency_code '1' ซ้ำกับแถว 2" in out  # roster problems print in Thai
    assert "Traceback" not in out and not (tmp_path / "out").exists()


def test_ce_year_is_a_usage_error(tmp_path: Path) -> None:
    code, out = run("generate", "-o", str(tmp_path / "b.xlsx"), "--year", "2026")
    assert code == 2
    assert "2026 looks like a CE year; give the Buddhist Era year (2569)" in out


def test_output_must_be_xlsx(tmp_path: Path) -> None:
    code, out = run("generate", "-o", str(tmp_path / "b.xls"))
    assert code == 2 and "-o must name an .xlsx file" in out
    code, out = run("generate", "-o", str(tmp_path / "nowhere" / "b.xlsx"))
    assert code == 2 and "does not exist" in out


def test_bad_layout_exits_1_listing_problems(tmp_path: Path) -> None:
    text = resolve_layout_path(None).read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("  title: ระดับ", "  titel: ระดับ", 1), encoding="utf-8")
    code, out = run("generate", "-o", str(tmp_path / "b.xlsx"), "--layout", str(bad))
    assert code == 1
    assert "$.form.titel: unknown key 'titel'; did you mean 'title'?" in out
    assert "$.form.title: missing; this key is required" in out
    assert not (tmp_path / "b.xlsx").exists()
    code, out = run("check-layout", str(bad))
    assert code == 1 and "2 problems" in out


def test_check_and_list_layouts() -> None:
    code, out = run("check-layout", str(resolve_layout_path(None)))
    assert code == 0 and ": ok (pmqa4-cat3-cat7.2 2562.1" in out
    code, out = run("layouts")
    assert code == 0 and out.startswith("pmqa4-2562\tpmqa4-cat3-cat7.2 2562.1\t")


def test_unwritable_roster_output_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "07007.xlsx").mkdir(parents=True)  # a folder where a workbook should go
    code, text = run("generate", "--roster", str(ROOT / "samples" / "roster.csv"), "-o",
                     str(out))
    assert code == 1 and "Traceback" not in text
    assert "07007.xlsx: cannot write" in text and "the manifest was not" in text


def test_generate_names_a_layout_file_by_its_path_and_a_roster_of_one(tmp_path: Path) -> None:
    layout = tmp_path / "my-form.yaml"
    layout.write_bytes(resolve_layout_path(None).read_bytes())
    code, out = run("generate", "-o", str(tmp_path / "f.xlsx"), "--layout", str(layout),
                    "--year", "2563")
    assert (code, out) == (0, f"wrote {tmp_path / 'f.xlsx'}: form pmqa4-cat3-cat7.2 version "
                              f"2562.1 (layout {layout}), fiscal year 2563 (ปีงบประมาณ พ.ศ. "
                              "2563)\n")
    roster = tmp_path / "one.csv"
    roster.write_text("agency_code,agency_name\n01001,กรม ก\n", encoding="utf-8")
    code, out = run("generate", "--roster", str(roster), "-o", str(tmp_path / "out"))
    assert code == 0 and out.startswith(f"wrote 1 workbook and {tmp_path / 'out'}")
