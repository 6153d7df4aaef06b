"""merge --by COLUMN: one consolidated workbook per roster group, each holding exactly the
main workbook's rows of that group's agencies (missing ones included), named by the group's
value made safe as a file name, written with the main outputs as one set."""

from __future__ import annotations

import csv
import shutil
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from pmqa_xlsx import consolidate, generate_roster, generate_workbook
from pmqa_xlsx import report as report_module
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.cli import main
from pmqa_xlsx.groups import NO_VALUE, GroupError, file_names, groups_of, safe_stem, split_by
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.report import WORKBOOK_SHEETS
from pmqa_xlsx.roster import Agency, load_roster

from .fill import fill
from .lang import english

ISSUED = datetime(2026, 1, 1, tzinfo=UTC)
#: code, name, ministry, region: three ministries, two of whose names are one once made safe
#: as file names ("/" and ":" are not allowed in a Windows name), and one agency with none.
AGENCIES = [
    ("03005", "กรมการปกครอง", "กระทรวงมหาดไทย", "กลาง"),
    ("03006", "กรมที่ดิน", "กระทรวงมหาดไทย", "เหนือ"),
    ("07007", "กรมสรรพากร", "กระทรวงการคลัง/งบประมาณ", "กลาง"),
    ("07008", "กรมศุลกากร", "กระทรวงการคลัง/งบประมาณ", "ใต้"),
    ("21003", "กรมอนามัย", "กระทรวงการคลัง:งบประมาณ", "เหนือ"),
    ("21004", "กรมควบคุมโรค", "", "ใต้"),
]
RETURNED = ("03005", "07007", "07008", "21003")  # 03006 and 21004 are missing
# the sheets that are a frame as it is (summary and implausible have a title above theirs)
DATA_SHEETS = [s for s in WORKBOOK_SHEETS
               if s not in ("summary", "implausible", "changes", "score_changes")]


@pytest.fixture(scope="module")
def round_(layout: Layout, cellmap: CellMap, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A roster of three ministries (and a ภาค column), their filled returns (two agencies
    missing) and a return from an agency not on the roster."""
    root = tmp_path_factory.mktemp("by")
    roster = root / "roster.csv"
    with roster.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["agency_code", "agency_name", "ministry", "ภาค"])
        writer.writerows(AGENCIES)
    generate_roster(layout, roster, root / "sent", generated_at=ISSUED)
    returns = root / "returns"
    returns.mkdir()
    for code in RETURNED:
        fill(cellmap, root / "sent" / f"{code}.xlsx", returns / f"{code}.xlsx")
    generate_workbook(layout, root / "blank.xlsx")
    fill(cellmap, root / "blank.xlsx", returns / "stranger.xlsx", agency_code="99999")
    return root


def run(*args: object, lang_en: bool = True) -> tuple[int, str]:
    argv = english(args) if lang_en else [str(a) for a in args]
    result = CliRunner().invoke(main, argv)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def rows(path: Path, sheet: str) -> tuple[list[tuple], list[tuple]]:
    """A sheet's header rows (three in answers, when it has data; else one) and data rows."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        grid = [tuple(r) for r in book[sheet].iter_rows(values_only=True)]
    finally:
        book.close()
    heads = 3 if sheet == "answers" and len(grid) > 1 else 1
    return grid[:heads], grid[heads:]


def returns_of(path: Path) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name="returns", dtype=str, engine="openpyxl",
                         keep_default_na=False, na_values=[""])


def expected_groups() -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for code, _, ministry, _ in AGENCIES:
        groups.setdefault(ministry or NO_VALUE, set()).add(code)
    return groups


def test_one_workbook_per_ministry_with_exactly_its_agencies_rows(round_: Path,
                                                                tmp_path: Path) -> None:
    out = tmp_path / "consolidated.xlsx"
    code, text = run("merge", round_ / "returns", "--roster", round_ / "roster.csv",
                     "-o", out, "--by", "ministry")
    assert code == 1, text  # the stranger's return is not counted; the outputs are written
    folder = tmp_path / "consolidated-by-ministry"
    # Thai names kept; "/" and ":" replaced, the second of the two names made distinct
    names = {"กระทรวงมหาดไทย": "กระทรวงมหาดไทย.xlsx",
             "กระทรวงการคลัง/งบประมาณ": "กระทรวงการคลัง_งบประมาณ.xlsx",
             "กระทรวงการคลัง:งบประมาณ": "กระทรวงการคลัง_งบประมาณ-2.xlsx",
             NO_VALUE: f"{NO_VALUE}.xlsx"}
    assert sorted(p.name for p in folder.iterdir()) == sorted(names.values())
    assert f"wrote 4 group workbooks in {folder}" in text
    assert "1 file is in no group (agency not on the roster" in text
    compared = dict.fromkeys(DATA_SHEETS, 0)
    for ministry, codes in expected_groups().items():
        group = folder / names[ministry]
        assert openpyxl.load_workbook(group, read_only=True).sheetnames == list(WORKBOOK_SHEETS)
        for sheet in DATA_SHEETS:
            main_heads, main_rows = rows(out, sheet)
            heads, got = rows(group, sheet)
            at = main_heads[0].index("agency_code")
            want = [r for r in main_rows if r[at] in codes]
            assert got == want, (ministry, sheet)
            compared[sheet] += len(want)
            if want:
                assert heads == main_heads, (ministry, sheet)
        returns = returns_of(group)
        assert set(returns["agency_code"]) == codes  # every agency, returned or missing
    on_roster = {a[0] for a in AGENCIES}
    for sheet in DATA_SHEETS:  # every row of the roster's agencies is in one group's file
        main_heads, main_rows = rows(out, sheet)
        at = main_heads[0].index("agency_code")
        assert compared[sheet] == sum(r[at] in on_roster for r in main_rows) > 0, sheet
    # the missing agencies are in their groups, as missing
    states = {m: dict(zip(f["agency_code"], f["state"], strict=True)) for m, f in (
        (m, returns_of(folder / names[m]))
        for m in ("กระทรวงมหาดไทย", NO_VALUE))}
    assert states["กระทรวงมหาดไทย"] == {"03005": "ok", "03006": "missing"}
    assert states[NO_VALUE] == {"21004": "missing"}
    # the return from an agency not on the roster is in the main workbook and no group's
    main_returns = returns_of(out)
    assert "99999" in set(main_returns["agency_code"])
    assert all("99999" not in set(returns_of(p)
                                  ["agency_code"].dropna()) for p in folder.iterdir())


def test_by_an_extra_roster_column_into_a_folder_given(round_: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.xlsx"
    folder = tmp_path / "ส่งภาค"
    code, text = run("merge", round_ / "returns", "--roster", round_ / "roster.csv",
                     "-o", out, "--by", "ภาค", "--by-dir", folder, lang_en=False)
    assert code == 1, text
    assert f"เขียนไฟล์แยกตามกลุ่ม 3 ไฟล์ ในโฟลเดอร์ {folder} แล้ว" in text
    regions: dict[str, set[str]] = {}
    for agency, _, _, region in AGENCIES:
        regions.setdefault(region, set()).add(agency)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{r}.xlsx" for r in regions)
    for region, codes in regions.items():
        frame = returns_of(folder / f"{region}.xlsx")
        assert set(frame["agency_code"]) == codes
        assert set(frame["ภาค"]) == {region}  # the roster's extra column rides along


def test_split_by_cuts_every_frame_without_losing_a_row(round_: Path) -> None:
    agencies = load_roster(round_ / "roster.csv")
    merged = consolidate([round_ / "returns"], agencies)
    parts = split_by(merged, agencies, "กระทรวง")  # the Thai heading names the same column
    assert {k: set(v.returns["agency_code"]) for k, v in parts.items()} == expected_groups()
    on_roster = {a.code for a in agencies}
    for name in ("answers", "indicators", "problems", "returns", "scores"):
        whole = getattr(merged, name)
        kept = whole[whole["agency_code"].astype(object).isin(on_roster).to_numpy(dtype=bool)]
        assert sum(len(getattr(p, name)) for p in parts.values()) == len(kept) > 0, name
        for part in parts.values():
            assert list(getattr(part, name).columns) == list(whole.columns)
            assert list(getattr(part, name).index) == list(range(len(getattr(part, name))))
    assert all(p.round == merged.round and p.layouts == merged.layouts for p in parts.values())


def test_safe_file_names() -> None:
    names = file_names(["ก/ข", "ก:ข", "ก?ข", "CON", "nul.txt", " .ซ่อน. ", "...", "Aa", "aA",
                        "ก\x07ข"])
    assert names == {"ก/ข": "ก_ข.xlsx", "ก:ข": "ก_ข-2.xlsx", "ก?ข": "ก_ข-3.xlsx",
                     "CON": "CON_.xlsx", "nul.txt": "nul.txt_.xlsx", " .ซ่อน. ": "ซ่อน.xlsx",
                     "...": "_.xlsx", "Aa": "Aa.xlsx", "aA": "aA-2.xlsx",
                     "ก\x07ข": "ก_ข-4.xlsx"}
    # a long Thai name is cut to fit any file system, never between a consonant and its mark
    long = "กระทรวงที่มีชื่อยาวมาก" * 30
    stem = safe_stem(long)
    assert len(stem.encode("utf-8")) <= 200 and long.startswith(stem)
    assert unicodedata.category(long[len(stem)]) not in ("Mn", "Mc")
    assert safe_stem('<>:"/\\|?*') == "_" * 9


def test_groups_of_an_unknown_column_lists_the_columns_there_are(round_: Path) -> None:
    agencies = load_roster(round_ / "roster.csv")
    with pytest.raises(GroupError) as caught:
        groups_of(agencies, "จังหวัด")
    assert caught.value.text("en") == ("--by: the roster has no column 'จังหวัด'; the columns "
                                       "to group by are ministry, ภาค")
    assert "ministry, ภาค" in caught.value.text("th")
    assert groups_of(agencies, " ministry ") == groups_of(agencies, "Ministry")


def test_a_roster_without_ministries_cannot_be_grouped_by_ministry() -> None:
    plain = [Agency(code="03005", name="กรมการปกครอง"), Agency(code="07007", name="กรมสรรพากร")]
    with pytest.raises(GroupError) as caught:
        groups_of(plain, "ministry")
    assert caught.value.text("en").endswith("it has no ministry column nor any other column "
                                            "to group by")
    regions = [Agency(code="03005", name="ก", extra=(("ภาค", "กลาง"),)),
               Agency(code="07007", name="ข", extra=(("ภาค", ""),))]
    assert groups_of(regions, "ภาค") == {"กลาง": ("03005",), NO_VALUE: ("07007",)}
    with pytest.raises(GroupError, match="the columns to group by are ภาค$"):
        groups_of(regions, "กระทรวง")


@pytest.mark.parametrize(("args", "th", "en"), [
    (("--by", "ministry"), "--by ต้องใช้คู่กับ --roster", "--by needs --roster"),
    (("--roster", "ROSTER", "--by", "จังหวัด"), "ไม่พบคอลัมน์ 'จังหวัด'",
     "the roster has no column 'จังหวัด'"),
    (("--roster", "ROSTER", "--by-dir", "x"), "--by-dir ต้องใช้คู่กับ --by",
     "--by-dir needs --by"),
])
def test_usage_errors(round_: Path, tmp_path: Path, args: tuple[str, ...], th: str,
                      en: str) -> None:
    argv = [str(round_ / "roster.csv") if a == "ROSTER" else a for a in args]
    out = tmp_path / "c.xlsx"
    for lang, words in (("th", th), ("en", en)):
        code, text = run("merge", round_ / "returns", "-o", out, *argv, "--lang", lang)
        assert code == 2 and words in text and "Traceback" not in text, text
    assert list(tmp_path.iterdir()) == []


def test_a_group_folder_that_is_a_file_is_a_usage_error(round_: Path, tmp_path: Path) -> None:
    (tmp_path / "c-by-ministry").write_text("not a folder", encoding="utf-8")
    code, text = run("merge", round_ / "returns", "--roster", round_ / "roster.csv",
                     "-o", tmp_path / "c.xlsx", "--by", "ministry")
    assert code == 2 and "is a file, not a folder" in text
    assert not (tmp_path / "c.xlsx").exists()


def test_a_group_workbook_never_replaces_an_input(round_: Path, tmp_path: Path,
                                                  cellmap: CellMap) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    victim = inputs / "กระทรวงมหาดไทย.xlsx"  # a return that happens to bear a group's name
    fill(cellmap, round_ / "sent" / "03005.xlsx", victim)
    before = victim.read_bytes()
    code, text = run("merge", inputs, "--roster", round_ / "roster.csv",
                     "-o", tmp_path / "c.xlsx", "--by", "ministry", "--by-dir", inputs)
    assert code == 2 and f"--by {victim}" in text and "found in an input folder" in text
    assert victim.read_bytes() == before and not (tmp_path / "c.xlsx").exists()


def test_a_failure_writes_nothing(round_: Path, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A group's workbook that cannot be written: no output is replaced, none is added, no
    temporary file is left, and the folder made for the groups is gone."""
    out = tmp_path / "c.xlsx"
    args = ("merge", round_ / "returns", "--roster", round_ / "roster.csv", "-o", out,
            "--csv", tmp_path / "csv")
    assert run(*args)[0] == 1 and out.exists()
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    real = report_module._workbook

    def failing(result, path, layouts, *rest):  # type: ignore[no-untyped-def]
        if "กระทรวงการคลัง" in path.name:
            raise OSError(28, "No space left on device")
        return real(result, path, layouts, *rest)

    monkeypatch.setattr(report_module, "_workbook", failing)
    code, text = run(*args, "--by", "ministry")
    assert code == 1 and "cannot write the outputs" in text
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert not (tmp_path / "c-by-ministry").exists()


def test_group_workbooks_in_an_input_folder_are_replaced_and_not_read(round_: Path,
                                                                      tmp_path: Path) -> None:
    """Merging again into the same folder of returns: the previous group workbooks are the
    merge's own outputs, replaced and never read as returns."""
    returns = tmp_path / "returns"
    shutil.copytree(round_ / "returns", returns)
    args = ("merge", returns, "--roster", round_ / "roster.csv", "-o", returns / "c.xlsx",
            "--by", "ministry")
    first = run(*args)
    again = run(*args)
    assert first == again and first[0] == 1 and "5 files read" in first[1]
    assert len(list((returns / "c-by-ministry").iterdir())) == 4
