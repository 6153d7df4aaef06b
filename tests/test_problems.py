"""One case per problem code: each bad return is refused or flagged with the right code, at
the right place, with the catalogue's message; the reader never raises."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from pmqa_xlsx import generate_workbook, read_return, xlsxread
from pmqa_xlsx import problems as P
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.layout import META_SHEET, Layout
from pmqa_xlsx.roster import Agency
from pmqa_xlsx.words import Words

from .conftest import FIXED_TIME
from .corpus import rewrite_zip
from .fill import fill
from .lang import english_left

AGENCY = Agency(code="03005", name="กรมการปกครอง", ministry="กระทรวงมหาดไทย")


@pytest.fixture(scope="module")
def base(layout: Layout, cellmap: CellMap, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A return filled in completely and correctly."""
    folder = tmp_path_factory.mktemp("base")
    generate_workbook(layout, folder / "blank.xlsx", agency=AGENCY, generated_at=FIXED_TIME)
    fill(cellmap, folder / "blank.xlsx", folder / "ok.xlsx")
    return folder / "ok.xlsx"


def edit_book(src: Path, dst: Path, change: Callable[[openpyxl.Workbook], None]) -> Path:
    book = openpyxl.load_workbook(src)
    change(book)
    book.save(dst)
    return dst


def only(path: Path) -> dict:
    result = read_return(path)
    assert result.state == "rejected", result.problems.to_dict("records")
    (problem,) = result.problems.to_dict("records")
    return problem


def codes_at(path: Path) -> set[tuple[str, str | None, str | None]]:
    frame = read_return(path).problems
    return {(r["code"], r["sheet"] if r["sheet"] is not None else None, r["cell"])
            for r in frame.to_dict("records")}


# -- the file as a whole -----------------------------------------------------------------------


def test_unreadable(tmp_path: Path) -> None:
    problem = only(tmp_path / "nowhere.xlsx")
    assert problem["code"] == "unreadable" and "cannot read the file" in problem["message_en"]


def test_too_large(base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsxread, "MAX_FILE_BYTES", 1000)
    assert only(base)["code"] == "too-large"


def test_a_fault_of_the_reader_is_named_and_does_not_escape(
        base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pmqa_xlsx.read import reader

    def broken(*_: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(reader, "_read_package", broken)
    problem = only(base)
    assert problem["code"] == "reader-failed" and "KeyError: 'a bug'" in problem["message_en"]
    assert "report it" in problem["message_en"]


def test_a_zip_that_needs_a_newer_unzip_is_damaged(base: Path, tmp_path: Path) -> None:
    """Found by the fuzz test: zipfile raises NotImplementedError for such a zip."""
    data = bytearray(base.read_bytes())
    central = data.find(b"PK\x01\x02")
    data[central + 6] = 232  # "version needed to extract": 23.2
    (tmp_path / "new.xlsx").write_bytes(bytes(data))
    assert only(tmp_path / "new.xlsx")["code"] == "damaged-file"


def test_an_address_in_row_0_is_no_address() -> None:
    """Found by the fuzz test: "A0" gave row -1."""
    assert xlsxread.split_ref("A0") is None and xlsxread.split_ref("A00") is None
    assert xlsxread.split_ref("A1") == (0, 0) and xlsxread.split_ref("$B$2") == (1, 1)


def test_zip_without_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    problem = only(path)
    assert problem["code"] == "not-a-workbook" and "[Content_Types].xml" in problem["message_en"]


# -- identifying the form -------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "value", "code"), [
    ("B1", "some-other-form", "other-form"),
    ("B2", "2599.9", "unknown-version"),
    ("B4", "ปีนี้", "bad-metadata"),
])
def test_metadata_refusals(base: Path, tmp_path: Path, cell: str, value: str,
                           code: str) -> None:
    def change(book: openpyxl.Workbook) -> None:
        book[META_SHEET][cell] = value

    problem = only(edit_book(base, tmp_path / "x.xlsx", change))
    assert (problem["code"], problem["sheet"], problem["cell"]) == (code, META_SHEET, cell)


def test_other_form_message(base: Path, tmp_path: Path, layout: Layout) -> None:
    def change(book: openpyxl.Workbook) -> None:
        book[META_SHEET]["B1"] = "budget-form"

    problem = only(edit_book(base, tmp_path / "x.xlsx", change))
    assert problem["message_en"] == P.message(
        "other-form", "en", found="budget-form",
        known=f"{layout.form.id} {layout.form.version} ({Path(layout.source).name})")


def test_another_fingerprint_of_the_same_version_is_a_warning(base: Path,
                                                              tmp_path: Path) -> None:
    """Made from another edit of the version; its labels are the layout's: read, named
    (see test_read_layouts for the rest)."""
    def change(book: openpyxl.Workbook) -> None:
        book[META_SHEET]["B3"] = "0" * 64

    result = read_return(edit_book(base, tmp_path / "x.xlsx", change))
    assert result.state == "ok_with_warnings"
    assert result.problems["code"].tolist() == ["layout-edited"]
    assert "000000000000…" in result.problems["message_en"][0]


def test_structure_changed_rows_inserted(base: Path, tmp_path: Path) -> None:
    def insert(book: openpyxl.Workbook) -> None:
        book["หมวด 3"].insert_rows(8)

    problem = only(edit_book(base, tmp_path / "x.xlsx", insert))
    assert (problem["code"], problem["sheet"], problem["cell"]) == (
        "structure-changed", "หมวด 3", "D8")
    assert problem["agency_code"] == "03005"  # known from the metadata, even when refused
    assert "1 row inserted above; it is now at row 9" in problem["message_en"]


def test_structure_changed_rows_deleted(base: Path, tmp_path: Path) -> None:
    def delete(book: openpyxl.Workbook) -> None:
        book["หมวด 7.2"].delete_rows(12, 2)

    problem = only(edit_book(base, tmp_path / "x.xlsx", delete))
    assert (problem["code"], problem["sheet"]) == ("structure-changed", "หมวด 7.2")
    assert (problem["cell"], problem["message_en"]) == ("A12", P.message(
        "structure-changed", "en", expected="3", found="5", shift=" (2 rows deleted above)"))


def test_missing_sheet(base: Path, tmp_path: Path) -> None:
    def rename(book: openpyxl.Workbook) -> None:
        book["หมวด 7.2"].title = "Sheet7"

    problem = only(edit_book(base, tmp_path / "x.xlsx", rename))
    assert (problem["code"], problem["sheet"]) == ("missing-sheet", "หมวด 7.2")


# -- the agency -----------------------------------------------------------------------------


def test_no_agency_code(layout: Layout, cellmap: CellMap, tmp_path: Path) -> None:
    generate_workbook(layout, tmp_path / "blank.xlsx")
    code_cell = cellmap.identity_cell("agency_code")
    path = tmp_path / "x.xlsx"
    fill(cellmap, tmp_path / "blank.xlsx", path, {f"คำชี้แจง!{code_cell.ref}": None})
    problem = only(path)
    assert (problem["code"], problem["cell"]) == ("no-agency-code", code_cell.ref)


def test_agency_code_mismatch(base: Path, cellmap: CellMap, tmp_path: Path) -> None:
    ref = cellmap.identity_cell("agency_code").ref

    def change(book: openpyxl.Workbook) -> None:
        book["คำชี้แจง"][ref] = "07007"

    problem = only(edit_book(base, tmp_path / "x.xlsx", change))
    assert problem["message_en"] == P.message("agency-code-mismatch", "en", found="07007",
                                           expected="03005")


# -- one cell -------------------------------------------------------------------------------


def test_cell_problems(base: Path, cellmap: CellMap, tmp_path: Path) -> None:
    row = cellmap.indicator_rows[0]
    second = cellmap.indicator_rows[1]
    status = next(c for c in cellmap.inputs() if c.kind == "status")
    text = next(c for c in cellmap.inputs() if c.kind == "text" and c.sheet == "หมวด 3")

    def change(book: openpyxl.Workbook) -> None:
        ws = book["หมวด 7.2"]
        ws[row.cells["target"].ref] = "สิบ"
        ws[row.cells["result_1"].ref] = "=1+1"
        ws[row.cells["result_2"].ref] = "#N/A"
        ws[row.cells["direction"].ref] = "สูง"
        ws[second.cells["target"].ref] = 0
        ws[second.score.ref] = 3
        ws["L5"] = "ข้อความนอกแบบฟอร์ม"
        ws[row.cells["result_3"].ref] = 0.85
        ws[row.cells["result_3"].ref].number_format = "0%"  # Excel does this for "85%"
        ws[second.cells["result_1"].ref] = 45000
        ws[second.cells["result_1"].ref].number_format = "d/m/yyyy"
        book["หมวด 3"]["C6"] = "x"  # inside the form, where no input is
        book["หมวด 3"][status.ref] = "ทำแล้ว"
        book["หมวด 3"][text.ref] = "LONG-TEXT-MARKER"

    edited = edit_book(base, tmp_path / "edited.xlsx", change)
    # openpyxl cuts text at Excel's 32,767 characters; the package itself can hold more
    path = rewrite_zip(edited, tmp_path / "x.xlsx",
                       lambda n, d: d.replace(b"LONG-TEXT-MARKER", "ก".encode() * 40_000))
    result = read_return(path)
    found = {(r["code"], r["cell"]): r for r in result.problems.to_dict("records")}
    assert set(found) == {
        ("not-a-number", row.cells["target"].ref),
        ("formula-in-input", row.cells["result_1"].ref),
        ("error-value", row.cells["result_2"].ref),
        ("bad-choice", row.cells["direction"].ref),
        ("number-out-of-range", second.cells["target"].ref),
        ("formula-removed", second.score.ref),
        ("stray-value", "L5"),
        ("typed-as-percent", row.cells["result_3"].ref),
        ("typed-as-date", second.cells["result_1"].ref),
        ("misplaced-value", "C6"),
        ("bad-status", status.ref),
        ("text-too-long", text.ref),
    }
    assert found[("text-too-long", text.ref)]["message_en"] == P.message(
        "text-too-long", "en", label=text.label, length=40_000, limit=32_767)
    assert found[("not-a-number", row.cells["target"].ref)]["message_en"] == P.message(
        "not-a-number", "en", label="ค่าเป้าหมาย 2562", found="สิบ")
    assert found[("number-out-of-range", second.cells["target"].ref)]["message_en"] == P.message(
        "number-out-of-range", "en", label="ค่าเป้าหมาย 2562", found="0", rule="it must be above 0")
    # and in Thai, the rule composed in Thai too, no English left in any of them
    assert found[("number-out-of-range", second.cells["target"].ref)]["message_th"] == \
        "ค่าเป้าหมาย 2562: ใส่ 0 ไม่ได้ กรุณาพิมพ์ตัวเลขที่มากกว่า 0"
    assert found[("not-a-number", row.cells["target"].ref)]["message_th"] == \
        "ค่าเป้าหมาย 2562: 'สิบ' ไม่ใช่ตัวเลข กรุณาพิมพ์เฉพาะตัวเลข เช่น 85 หรือ 1,250.5"
    assert [(c, english_left(r["message_th"])) for c, r in found.items()
            if english_left(r["message_th"])] == []
    assert all(r["severity"] == P.CATALOGUE[code].severity for (code, _), r in found.items())
    assert result.state == "rejected"
    answers = result.answers
    values = {(s, c): v for s, c, v in zip(answers["sheet"].astype(str),
                                           answers["cell"].astype(str), answers["value"],
                                           strict=True) if v is not pd.NA}
    # nothing becomes a silent NaN: bad values stay in the answers as typed
    assert values[("หมวด 7.2", row.cells["target"].ref)] == "สิบ"
    assert values[("หมวด 7.2", row.cells["result_2"].ref)] == "#N/A"
    assert values[("หมวด 3", status.ref)] == "ทำแล้ว"


def test_cached_mismatch(base: Path, cellmap: CellMap, tmp_path: Path) -> None:
    ref = cellmap.indicator_rows[0].percent.ref

    def tamper(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet3.xml":
            pattern = (rb'(<c r="' + ref.encode() + rb'"[^>]*>(?:(?!</c>).)*?<f>.*?</f>)'
                       rb"(?:<v\s*/>|<v></v>)")
            data, n = re.subn(pattern, rb"\1<v>12.5</v>", data, count=1, flags=re.S)
            assert n == 1
        return data

    result = read_return(rewrite_zip(base, tmp_path / "x.xlsx", tamper))
    records = result.problems.to_dict("records")
    assert [(r["code"], r["cell"]) for r in records] == [("cached-mismatch", ref)]
    assert result.state == "ok_with_warnings"
    assert "showed 12.5 but the rule gives" in records[0]["message_en"]


def test_thai_text_is_compared_after_nfkc(base: Path, cellmap: CellMap, tmp_path: Path,
                                          layout: Layout) -> None:
    status = next(c for c in cellmap.inputs() if c.kind == "status")
    typed = layout.statuses[2].label.replace("ำ", "\u0e4d\u0e32")  # ำ as two characters
    assert typed != layout.statuses[2].label

    def change(book: openpyxl.Workbook) -> None:
        book["หมวด 3"][status.ref] = typed

    result = read_return(edit_book(base, tmp_path / "x.xlsx", change))
    assert result.state == "ok", result.problems.to_dict("records")
    value = result.answers.set_index(["sheet", "cell"]).loc[("หมวด 3", status.ref), "value"]
    assert value == layout.statuses[2].label


def test_ooxml_escapes_are_decoded(base: Path, cellmap: CellMap, tmp_path: Path) -> None:
    text = next(c for c in cellmap.inputs() if c.kind == "text" and c.sheet == "หมวด 3")

    def change(book: openpyxl.Workbook) -> None:
        book["หมวด 3"][text.ref] = "ESCAPE-MARKER"

    edited = edit_book(base, tmp_path / "edited.xlsx", change)
    path = rewrite_zip(edited, tmp_path / "x.xlsx",
                       lambda n, d: d.replace(b"ESCAPE-MARKER", b"a_x0041_b_x005F_x0041_c"))
    answers = read_return(path).answers.set_index(["sheet", "cell"])
    assert answers.loc[("หมวด 3", text.ref), "value"] == "aAb_x0041_c"


def test_every_code_has_a_case() -> None:
    """The catalogue and the cases stay in step: this file, the corpus of bad files
    (test_corpus), the limits (test_hostile), agencies' identity (test_identity) and numbers
    typed as text (test_thai_digits), the previous round (test_previous); merge codes are in
    test_consolidate."""
    text = "".join((Path(__file__).parent / name).read_text(encoding="utf-8")
                   for name in ("test_problems.py", "corpus.py", "test_hostile.py",
                                "test_identity.py", "test_read_layouts.py",
                                "test_thai_digits.py", "test_previous.py"))
    merge = {"duplicate", "unknown-agency", "missing-return", "empty-return",
             "newer-return-rejected", "other-round"}
    untested = [c for c in P.CATALOGUE if c not in merge and f'"{c}"' not in text]
    assert untested == []


def test_the_reader_never_raises_on_bytes(base: Path, tmp_path: Path) -> None:
    data = base.read_bytes()
    for i, cut in enumerate((10, 100, 1000, len(data) - 10)):
        path = tmp_path / f"cut{i}.xlsx"
        path.write_bytes(data[:cut])
        result = read_return(path)
        assert result.state == "rejected"
        assert result.problems["code"].tolist() == ["damaged-file"]


# -- the form's own checks (checks:) -----------------------------------------------------------


def test_each_check_is_a_located_problem_with_its_code(base: Path, cellmap: CellMap,
                                                       layout: Layout, tmp_path: Path) -> None:
    """One of each: the code, the cell, the layout's severity, and the message built from the
    catalogue's template with the layout's English and Thai (tests/test_checks.py holds the
    reader and the workbook's live lists equal on many more)."""
    cells = {(c.item_id, c.field_id): c for c in cellmap.inputs()}
    labels = {s.id: s.label for s in layout.statuses}
    changes = {("3.1.1", "status"): None,                       # status-required
               ("3.1.2", "sources"): None,                      # details-required (done)
               ("3.1.3", "status"): labels["not_started"],      # details-unexpected, twice
               ("7.2.1.1", "name"): None,                       # indicator-needs-name
               ("7.2.2.1", "target"): None,                     # result-without-target
               ("7.2.3.1", "result_3"): None}                   # target-without-result

    def change(book: openpyxl.Workbook) -> None:
        for key, value in changes.items():
            book[cells[key].sheet][cells[key].ref] = value

    result = read_return(edit_book(base, tmp_path / "checks.xlsx", change))
    assert result.state == "rejected"
    found = [(r["cell"], r["code"], r["severity"]) for r in
             result.problems.to_dict("records")]
    at = {key: cells[key].ref for key in cells}
    assert found == [
        (at[("3.1.1", "status")], "status-required", "error"),
        (at[("3.1.2", "sources")], "details-required", "error"),
        (at[("3.1.3", "technology")], "details-unexpected", "warning"),
        (at[("3.1.3", "usage")], "details-unexpected", "warning"),
        (at[("7.2.1.1", "name")], "indicator-needs-name", "error"),
        (at[("7.2.2.1", "target")], "result-without-target", "error"),
        (at[("7.2.3.1", "result_3")], "target-without-result", "warning"),
    ]
    check = next(c for c in layout.checks.list if c.kind == "result_without_target")
    messages = result.problems.set_index("code").loc["result-without-target"]
    label = cells[("7.2.2.1", "target")].label
    assert messages["message_en"] == P.message(
        "result-without-target", "en", label=label,
        message=Words(check.message_th, check.message_en)) == f"{label}: {check.message_en}"
    # the layout's Thai alone, as the workbook shows it live (no more English beside it)
    assert messages["message_th"] == f"ค่าเป้าหมาย 2562: {check.message_th}"


def test_a_merge_over_a_blank_input_is_a_warning_there(base: Path, cellmap: CellMap,
                                                       tmp_path: Path) -> None:
    """Merged into the cell on its left, a blank input cannot be typed in: a warning at the
    input (covered-blank-input), and only there (a value there is covered-input:
    test_review_reader)."""
    blank = next(c for c in cellmap.inputs() if c.kind == "text")
    left = openpyxl.utils.get_column_letter(blank.col) + str(blank.row + 1)

    def change(book: openpyxl.Workbook) -> None:
        book[blank.sheet].merge_cells(f"{left}:{blank.ref}")  # openpyxl blanks what it covers

    codes = codes_at(edit_book(base, tmp_path / "merged.xlsx", change))
    assert {c for c in codes if c[0].startswith("covered")} == {
        ("covered-blank-input", blank.sheet, blank.ref)}


# -- check: the implausible rules one return can break on its own ----------------------------


def _implausible_return(base: Path, cellmap: CellMap, folder: Path) -> tuple[Path, Any, Any]:
    """A return with one target typed as a fraction (0.85 for 85, results near 80) and one
    row whose percent success is beyond belief (a target of 2 against results of 50)."""
    fraction, extreme = cellmap.indicator_rows[0], cellmap.indicator_rows[1]

    def change(book: openpyxl.Workbook) -> None:
        for row, target, result in ((fraction, 0.85, 80.0), (extreme, 2.0, 50.0)):
            book[row.cells["target"].sheet][row.cells["target"].ref] = target
            for field, cell in row.cells.items():
                if field.startswith("result_"):
                    book[cell.sheet][cell.ref] = result
                elif field == "direction":  # more is better: the percent is result / target
                    book[cell.sheet][cell.ref] = row.rule.higher

    folder.mkdir(parents=True, exist_ok=True)
    return edit_book(base, folder / "odd.xlsx", change), fraction, extreme


def test_check_warns_of_a_target_typed_as_a_fraction_and_a_percent_beyond_belief(
        base: Path, cellmap: CellMap, tmp_path: Path) -> None:
    """check told the officer ``ok`` where the merge lists the row as implausible (and the
    score, capped, ranked the agency near the top): now it warns, on the cell to look at,
    and says what to type. A warning: the file can still be counted (exit 0)."""
    from click.testing import CliRunner

    from pmqa_xlsx.cli import main
    from pmqa_xlsx.consolidate import check_files

    path, fraction, extreme = _implausible_return(base, cellmap, tmp_path / "in")
    (read,) = list(check_files([path]))
    found = {(p.code, p.sheet, p.cell): p for p in read.problems
             if p.code in ("target-like-fraction", "percent-extreme")}
    target, percent = fraction.cells["target"], extreme.percent
    assert set(found) == {("target-like-fraction", target.sheet, target.ref),
                          ("percent-extreme", percent.sheet, percent.ref)}
    words = found[("target-like-fraction", target.sheet, target.ref)]
    assert words.severity == "warning"
    assert words.message_th.endswith("ถ้าเป้าหมายคือร้อยละ 85 กรุณาพิมพ์ 85")
    assert "the target is 0.85 while a result is 80" in words.message_en
    beyond = found[("percent-extreme", percent.sheet, percent.ref)]
    assert f"{extreme.item_id} is 2,500%" in beyond.message_en
    run = CliRunner().invoke(main, ["check", str(path)])
    assert run.exit_code == 0, run.output
    assert f"{target.sheet}!{target.ref}" in run.output and "กรุณาพิมพ์ 85" in run.output


def test_check_and_merge_hold_the_same_rows_by_one_rule(base: Path, cellmap: CellMap,
                                                        tmp_path: Path) -> None:
    """One rule (quality.broken_rule): the rows check warns of are the merge's implausible
    rows of those rules, cell for cell; the merge's own problems are as they were."""
    from pmqa_xlsx import consolidate
    from pmqa_xlsx.consolidate import check_files

    path, _, _ = _implausible_return(base, cellmap, tmp_path / "in")
    (read,) = list(check_files([path]))
    warned = sorted((p.code, f"{p.sheet}!{p.cell}") for p in read.problems
                    if p.code in ("target-like-fraction", "percent-extreme"))
    merged = consolidate([path])
    odd = merged.implausible
    listed = sorted((rule, cell if rule == "target-like-fraction" else "") for rule, cell in
                    zip(odd["rule"], odd["target_cell"], strict=True))
    assert [rule for rule, _ in listed] == [code for code, _ in warned]
    assert [cell for _, cell in listed if cell] == [
        cell for code, cell in warned if code == "target-like-fraction"]
    assert not merged.problems["code"].isin(["target-like-fraction", "percent-extreme"]).any()


def test_a_row_with_a_cell_in_error_is_not_judged_implausible_too(
        base: Path, cellmap: CellMap, tmp_path: Path) -> None:
    """85% typed in a percent-formatted target stores 0.85: its error says what to type, and
    no second warning about a fraction comes with it (as the form's checks, a cell's error
    first)."""
    from pmqa_xlsx.consolidate import check_files

    row = cellmap.indicator_rows[0]
    target = row.cells["target"]

    def change(book: openpyxl.Workbook) -> None:
        book[target.sheet][target.ref] = 0.85
        book[target.sheet][target.ref].number_format = "0%"
        for field, cell in row.cells.items():
            if field.startswith("result_"):
                book[cell.sheet][cell.ref] = 80.0

    (read,) = list(check_files([edit_book(base, tmp_path / "p.xlsx", change)]))
    at = [p.code for p in read.problems if (p.sheet, p.cell) == (target.sheet, target.ref)]
    assert at == ["typed-as-percent"]
