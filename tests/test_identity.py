"""An agency's identity cannot be confused or taken (issue 10): one spelling of a code in the
roster, the metadata and the identity block; a token issued with each agency's workbook and
checked against the manifest."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from pmqa_xlsx import PmqaError, consolidate, generate_roster, generate_workbook, read_return
from pmqa_xlsx import problems as P
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.cli import main
from pmqa_xlsx.consolidate import merge_reads, read_all
from pmqa_xlsx.errors import ManifestError
from pmqa_xlsx.generate import MANIFEST_NAME
from pmqa_xlsx.identity import code_key, is_token, load_manifest, new_token, normalise_code
from pmqa_xlsx.layout import META_SHEET, Layout
from pmqa_xlsx.roster import Agency

from .conftest import FIXED_TIME
from .corpus import saved_at
from .fill import fill
from .lang import english

AGENCY = Agency(code="03005", name="กรมการปกครอง", ministry="กระทรวงมหาดไทย")
OTHER = Agency(code="07007", name="กรมสรรพากร", ministry="กระทรวงการคลัง")
# The ways one code arrives: Thai digits, full-width digits, spaces, invisible characters.
SPELLINGS = ["๐๓๐๐๕", "０３００５", " 03005 ", "030\u200b05", "\ufeff03005", "0300\u00ad5",
             "03\u2060005\u200d", "๐๓0\u200c05"]


@pytest.fixture(scope="module")
def issued(layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("issued") / "03005.xlsx"
    generate_workbook(layout, path, agency=AGENCY, generated_at=FIXED_TIME)
    return path


@pytest.fixture(scope="module")
def blank(layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("blank") / "blank.xlsx"
    generate_workbook(layout, path, generated_at=FIXED_TIME)
    return path


def edited(src: Path, dst: Path, change: Callable[[openpyxl.Workbook], None]) -> Path:
    book = openpyxl.load_workbook(src)
    change(book)
    book.save(dst)
    return dst


def set_meta_code(code: str) -> Callable[[openpyxl.Workbook], None]:
    def change(book: openpyxl.Workbook) -> None:
        book[META_SHEET]["B5"] = code
    return change


# -- one spelling -----------------------------------------------------------------------------


def test_normalising_is_idempotent_and_ignores_invisible_characters() -> None:
    rng = random.Random(10)
    pieces = ["0", "3", "๕", "５", "٣", "A", "ก", " ", "\u00a0", "\u200b", "\u00ad", "\ufeff",
              "\u2060", "\ufe0f", "e\u0301", "\u3000", "\u202e", "-", "_"]
    invisible = {" ", "\u00a0", "\u200b", "\u00ad", "\ufeff", "\u2060", "\ufe0f", "\u3000",
                 "\u202e"}
    for _ in range(2000):
        text = "".join(rng.choices(pieces, k=rng.randint(0, 8)))
        once = normalise_code(text)
        assert normalise_code(once) == once, repr(text)
        assert not any(ch in invisible for ch in once), repr(text)
        plain = "".join(ch for ch in text if ch not in invisible)
        assert once == normalise_code(plain), repr(text)
        assert all(ch.isascii() for ch in once if ch.isdecimal())


def test_one_code_whatever_its_spelling() -> None:
    assert {normalise_code(s) for s in SPELLINGS} == {"03005"}
    assert normalise_code(3005.0) == "3005" and normalise_code(None) == ""
    assert code_key("01001") == code_key("1001") == code_key("๐๑๐๐๑")
    assert code_key("AB01") == code_key("ab01") and code_key("000") == code_key("0")
    assert code_key("1001") != code_key("10010")


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_metadata_code_is_read_in_its_one_spelling(issued: Path, cellmap: CellMap,
                                                       tmp_path: Path, spelling: str) -> None:
    filled = tmp_path / "filled.xlsx"
    fill(cellmap, issued, filled)
    result = read_return(edited(filled, tmp_path / "x.xlsx", set_meta_code(spelling)))
    assert (result.state, result.agency_code) == ("ok", "03005")  # no code mismatch either


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_typed_code_is_read_in_its_one_spelling(blank: Path, cellmap: CellMap,
                                                    tmp_path: Path, spelling: str) -> None:
    ref = f"คำชี้แจง!{cellmap.identity_cell('agency_code').ref}"
    fill(cellmap, blank, tmp_path / "x.xlsx", {ref: spelling})
    result = read_return(tmp_path / "x.xlsx")
    assert (result.state, result.agency_code) == ("ok", "03005")
    assert result.identity.fields["agency_code"] == spelling  # the answer stays as typed


def test_a_typed_code_that_differs_once_normalised_is_a_mismatch(issued: Path, cellmap: CellMap,
                                                                 tmp_path: Path) -> None:
    ref = cellmap.identity_cell("agency_code").ref
    filled = tmp_path / "filled.xlsx"
    fill(cellmap, issued, filled)

    def change(book: openpyxl.Workbook) -> None:
        book["คำชี้แจง"][ref] = "๐๗๐๐๗\u200b"

    result = read_return(edited(filled, tmp_path / "x.xlsx", change))
    assert result.problems["message_en"].tolist() == [P.message(
        "agency-code-mismatch", "en", found="07007", expected="03005")]


def test_a_return_in_thai_digits_is_its_roster_agency_and_no_other(
    issued: Path, layout: Layout, cellmap: CellMap, tmp_path: Path
) -> None:
    """The issue: a code in Thai digits was another agency than the same code in ASCII."""
    folder = tmp_path / "returns"
    folder.mkdir()
    filled = tmp_path / "filled.xlsx"
    fill(cellmap, issued, filled)
    edited(filled, folder / "thai.xlsx", set_meta_code("๐๓๐๐๕"))
    other = tmp_path / "07007.xlsx"
    generate_workbook(layout, other, agency=OTHER, generated_at=FIXED_TIME)
    fill(cellmap, other, folder / "07007.xlsx")
    for roster in ([AGENCY, OTHER], [Agency(code="๐๓๐๐๕", name=AGENCY.name), OTHER]):
        merged = consolidate(folder, roster=roster)
        states = dict(zip(merged.returns["agency_code"], merged.returns["state"], strict=True))
        assert states == {"03005": "ok", "07007": "ok"}, roster


# -- the token issued with each workbook ------------------------------------------------------


@pytest.fixture(scope="module")
def sent(layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workbooks issued to AGENCY and OTHER, with their manifest."""
    out = tmp_path_factory.mktemp("sent")
    generate_roster(layout, [AGENCY, OTHER], out, generated_at=FIXED_TIME)
    return out


def manifest_rows(folder: Path) -> list[dict[str, str]]:
    text = (folder / MANIFEST_NAME).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def meta_of(path: Path) -> dict[str, str]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {r[0]: r[1] for r in book[META_SHEET].iter_rows(values_only=True)}
    finally:
        book.close()


def test_each_issued_workbook_carries_its_own_token_in_the_manifest(sent: Path) -> None:
    rows = manifest_rows(sent)
    assert [r["agency_code"] for r in rows] == ["03005", "07007"]
    tokens = [r["token"] for r in rows]
    assert len(set(tokens)) == 2 and all(is_token(t) for t in tokens)
    for row in rows:
        assert meta_of(sent / row["file"])["token"] == row["token"]
        assert read_return(sent / row["file"]).identity.token == row["token"]


def test_tokens_are_drawn_afresh_and_can_be_issued_again(layout: Layout, sent: Path,
                                                         tmp_path: Path) -> None:
    again = generate_roster(layout, [AGENCY, OTHER], tmp_path / "new", generated_at=FIXED_TIME)
    assert {g.token for g in again}.isdisjoint(r["token"] for r in manifest_rows(sent))
    # a lost workbook issued again with its recorded token is the same file
    recorded = {r["agency_code"]: r["token"] for r in manifest_rows(sent)}
    (same,) = generate_roster(layout, [AGENCY], tmp_path / "lost", generated_at=FIXED_TIME,
                              tokens={"๐๓๐๐๕": recorded["03005"]})
    assert same.path.read_bytes() == (sent / "03005.xlsx").read_bytes()
    with pytest.raises(PmqaError, match="the token of 03005 is not 32 hexadecimal digits"):
        generate_roster(layout, [AGENCY], tmp_path / "bad", tokens={"03005": "secret"})
    with pytest.raises(PmqaError, match="two agencies are given the same token"):
        generate_roster(layout, [AGENCY, OTHER], tmp_path / "bad",
                        tokens=dict.fromkeys(("03005", "07007"), "a" * 32))
    assert not (tmp_path / "bad").exists()


def returns_of(sent: Path, layout: Layout, cellmap: CellMap, folder: Path) -> Path:
    """Good returns of both agencies, then the three kinds a manifest catches: OTHER's code
    put into AGENCY's workbook (its token is AGENCY's), the blank form filled in for OTHER (no
    token), and a workbook made for an agency that was never issued one."""
    folder.mkdir()
    fill(cellmap, sent / "03005.xlsx", folder / "03005.xlsx")
    fill(cellmap, sent / "07007.xlsx", folder / "07007.xlsx")
    ref = cellmap.identity_cell("agency_code").ref

    def claim_other(book: openpyxl.Workbook) -> None:
        book[META_SHEET]["B5"] = OTHER.code
        book["คำชี้แจง"][ref] = OTHER.code

    edited(folder / "03005.xlsx", folder / "forged.xlsx", claim_other)
    blank_form = folder.parent / "blank.xlsx"
    generate_workbook(layout, blank_form, generated_at=FIXED_TIME)
    fill(cellmap, blank_form, folder / "from-blank.xlsx", agency_code="๐๗๐๐๗")
    stranger = folder.parent / "stranger.xlsx"
    generate_workbook(layout, stranger, agency=Agency(code="99001", name="ก"),
                      generated_at=FIXED_TIME, token=new_token())
    fill(cellmap, stranger, folder / "stranger.xlsx")
    return folder


def test_a_return_without_its_agencys_token_is_rejected(sent: Path, layout: Layout,
                                                        cellmap: CellMap,
                                                        tmp_path: Path) -> None:
    folder = returns_of(sent, layout, cellmap, tmp_path / "returns")
    merged = consolidate(folder, manifest=sent / MANIFEST_NAME)
    rows = {Path(f).name: (state, reason) for f, state, reason in zip(
        merged.returns["file"], merged.returns["state"], merged.returns["reason_en"],
        strict=True)}
    assert {name: state for name, (state, _) in rows.items()} == {
        "03005.xlsx": "ok", "07007.xlsx": "ok_with_warnings", "forged.xlsx": "rejected",
        "from-blank.xlsx": "rejected", "stranger.xlsx": "rejected"}
    for name, code in (("forged.xlsx", "token-mismatch"), ("from-blank.xlsx", "token-missing"),
                       ("stranger.xlsx", "not-issued")):
        assert f"[{code}]" in rows[name][1], rows[name]
    problems = merged.problems.set_index("code")
    assert problems.loc["token-mismatch", "message_en"] == P.message(
        "token-mismatch", "en", agency="07007", manifest=MANIFEST_NAME, line=3)
    assert (problems.loc["token-mismatch", "sheet"], problems.loc["token-mismatch", "cell"]) \
        == (META_SHEET, "B9")
    assert problems.loc["token-missing", "message_en"] == P.message(
        "token-missing", "en", agency="07007", manifest=MANIFEST_NAME, line=3)
    assert problems.loc["not-issued", "message_en"] == P.message(
        "not-issued", "en", agency="99001", manifest=MANIFEST_NAME)
    # the files claiming 07007 are newer than its own: they never replace it, and are pointed
    # out on it
    counted = merged.answers[merged.answers["agency_code"] == "07007"]["file"].astype(str)
    assert {Path(f).name for f in counted} == {"07007.xlsx"}
    newer = merged.problems[merged.problems["code"] == "newer-return-rejected"]
    assert {Path(f).name for f in newer["file"]} == {"07007.xlsx"}
    assert sorted(newer["message_en"]) == [
        P.message("newer-return-rejected", "en", agency="07007", newer=name)
        for name in ("forged.xlsx", "from-blank.xlsx")]


def test_without_a_manifest_tokens_are_not_asked_for(sent: Path, layout: Layout,
                                                     cellmap: CellMap, tmp_path: Path) -> None:
    folder = returns_of(sent, layout, cellmap, tmp_path / "returns")
    merged = consolidate(folder)
    assert not merged.problems["code"].isin(["token-mismatch", "token-missing",
                                             "not-issued"]).any()


def test_the_manifest_can_be_given_loaded(sent: Path, cellmap: CellMap, tmp_path: Path) -> None:
    fill(cellmap, sent / "03005.xlsx", tmp_path / "03005.xlsx")
    manifest = load_manifest(sent / MANIFEST_NAME)
    assert set(manifest.issued) == {"03005", "07007"}
    merged = consolidate(tmp_path / "03005.xlsx", manifest=manifest)
    assert merged.returns["state"].tolist() == ["ok"]


def test_check_and_merge_with_a_manifest(sent: Path, layout: Layout, cellmap: CellMap,
                                         tmp_path: Path) -> None:
    folder = returns_of(sent, layout, cellmap, tmp_path / "returns")
    manifest = str(sent / MANIFEST_NAME)
    code, out = run("check", "--manifest", manifest, str(folder / "03005.xlsx"))
    assert (code, out) == (0, f"{folder / '03005.xlsx'}: ok (agency 03005)\n")
    code, out = run("check", "--manifest", manifest, str(folder / "forged.xlsx"))
    assert code == 1 and f"{folder / 'forged.xlsx'}: rejected (agency 07007)" in out
    assert "  error   _meta!B9           token-mismatch: " in out
    code, out = run("check", str(folder / "forged.xlsx"))  # without it, nothing to compare
    assert code == 0
    code, out = run("merge", str(folder), "--manifest", manifest, "-o",
                    str(tmp_path / "merged.xlsx"))
    assert code == 1 and "  rejected                 3" in out and "[token-mismatch]" in out


BAD_MANIFESTS = [
    ("written before tokens",
     '"file","agency_code","sha256"\n"03005.xlsx","03005","ab"\n',
     ["line 1: missing column token (found: file, agency_code, sha256); it was written before "
      "workbooks carried a token: generate the workbooks again and send those, or merge "
      "without --manifest"]),
    ("not a manifest",
     "agency_code,agency_name\n03005,กรม\n",
     ["line 1: missing column token (found: agency_code, agency_name); it was written before "
      "workbooks carried a token: generate the workbooks again and send those, or merge "
      "without --manifest"]),
    ("a roster",
     "code,name\n03005,กรม\n",
     ["line 1: missing column agency_code, token (found: code, name); give the manifest.csv "
      "that 'pmqa-xlsx generate --roster' wrote"]),
    ("bad rows",
     "agency_code,token\n03005," + "a" * 32 + "\n๐๓๐๐๕," + "b" * 32 + "\n07007,secret\n"
     ",\n08004," + "a" * 32 + "\n",
     ["line 3: agency_code '03005' is listed again (first at line 2); use the manifest.csv "
      "that 'pmqa-xlsx generate --roster' wrote, unedited",
      "line 4: the token is 'secret', not 32 hexadecimal digits; use the manifest.csv that "
      "'pmqa-xlsx generate --roster' wrote, unedited",
      "line 6: the token is the same as line 2's; every agency's workbook has its own: use the "
      "manifest.csv that 'pmqa-xlsx generate --roster' wrote, unedited"]),
    ("an empty code and token",
     "file,agency_code,token\n03005.xlsx,,\n",
     ["line 2: agency_code is empty; use the manifest.csv that 'pmqa-xlsx generate --roster' "
      "wrote, unedited",
      "line 2: the token is empty; use the manifest.csv that 'pmqa-xlsx generate --roster' "
      "wrote, unedited"]),
    ("no rows",
     "agency_code,token\n",
     ["the manifest lists no workbooks; give the manifest.csv that 'pmqa-xlsx generate "
      "--roster' wrote"]),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in BAD_MANIFESTS],
                         ids=[n for n, _, _ in BAD_MANIFESTS])
def test_a_manifest_that_cannot_be_used_lists_every_problem(tmp_path: Path, text: str,
                                                            expected: list[str]) -> None:
    path = tmp_path / "manifest.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert list(info.value.problems_in("en")) == expected


def test_a_manifest_that_is_not_utf8_says_where(tmp_path: Path) -> None:
    path = tmp_path / "manifest.csv"
    path.write_bytes("agency_code,token\n03005,กรม\n".encode("cp874"))
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert info.value.problems_in("en") == ("line 2: the file is not UTF-8 text; use the "
                                            "manifest.csv that 'pmqa-xlsx generate --roster' "
                                            "wrote, unedited",)
    assert info.value.problems_in("th")[0].startswith("บรรทัดที่ 2: ไฟล์ไม่ใช่ข้อความ UTF-8")


def test_a_bad_manifest_is_an_error_of_the_command(sent: Path, tmp_path: Path) -> None:
    path = tmp_path / "manifest.csv"
    path.write_text("agency_code,token\n03005,nope\n", encoding="utf-8")
    out = tmp_path / "merged.xlsx"
    for args in (["merge", str(sent), "-o", str(out)], ["check", str(sent / "03005.xlsx")]):
        code, text = run(*args, "--manifest", str(path))
        assert code == 1, text
        assert f"manifest {path}: 1 problem; no return was checked against it" in text
        assert "line 2: the token is 'nope', not 32 hexadecimal digits" in text
        assert "Traceback" not in text
        code, text = run(*args, "--manifest", str(path), "--lang", "th")
        assert code == 1, text
        assert f"รายการแบบฟอร์มที่ออกให้ (manifest) {path}: พบปัญหา 1 รายการ" in text
        assert "บรรทัดที่ 2: รหัสกำกับ (token) 'nope' ซึ่งไม่ใช่เลขฐานสิบหก 32 หลัก" in text
    assert not out.exists()
    code, text = run("merge", str(sent), "-o", str(out), "--manifest", str(tmp_path / "none"))
    assert code == 2 and "does not exist" in text  # click's own message, in English


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, english(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


# -- times that are not trusted ---------------------------------------------------------------

LATER = "2026-11-30T08:00:00Z"  # after FIXED_TIME, when the workbooks were generated


@pytest.fixture(scope="module")
def answered(issued: Path, cellmap: CellMap, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("answered") / "03005.xlsx"
    fill(cellmap, issued, path)
    return path


def outcome(merged: Any) -> dict[str, tuple[str, list[str]]]:
    """file name -> (state, the codes of its problems)."""
    codes: dict[str, list[str]] = {}
    for file, code in zip(merged.problems["file"], merged.problems["code"], strict=True):
        if isinstance(file, str):
            codes.setdefault(Path(file).name, []).append(code)
    return {Path(f).name: (s, sorted(codes.get(Path(f).name, []))) for f, s in
            zip(merged.returns["file"], merged.returns["state"], strict=True)}


def test_a_copy_dated_2099_does_not_replace_the_return(answered: Path, tmp_path: Path) -> None:
    saved_at(answered, tmp_path / "03005.xlsx", LATER, mtime=LATER)
    saved_at(answered, tmp_path / "03005-2099.xlsx", "2099-01-01T00:00:00Z",
             mtime="2099-01-01T00:00:00Z")
    merged = consolidate(tmp_path)
    assert outcome(merged) == {
        "03005.xlsx": ("ok", []),
        "03005-2099.xlsx": ("duplicate", ["duplicate", "untrusted-time", "untrusted-time"])}
    messages = merged.problems[merged.problems["code"] == "untrusted-time"]["message_en"]
    assert messages.tolist() == [P.message(
        "untrusted-time", "en", agency="03005", count=2, what=P.TIME_WHAT[what],
        time="2099-01-01T00:00:00+00:00", why=P.time_why("future"))
        for what in ("modified", "mtime")]


def test_a_time_before_the_workbook_was_generated_is_not_used(answered: Path,
                                                              tmp_path: Path) -> None:
    # x says it was saved in 2020, before its workbook existed (2026-11-24): taken at its word
    # it would beat y, which stores no time of saving; not trusted, the file times decide
    saved_at(answered, tmp_path / "x.xlsx", "2020-05-01T00:00:00Z", mtime="2026-11-25T00:00:00Z")
    saved_at(answered, tmp_path / "y.xlsx", None, mtime="2026-11-28T00:00:00Z")
    merged = consolidate(tmp_path)
    assert outcome(merged) == {"x.xlsx": ("duplicate", ["duplicate", "untrusted-time"]),
                               "y.xlsx": ("ok", [])}
    (message,) = merged.problems[merged.problems["code"] == "untrusted-time"]["message_en"]
    assert message == P.message(
        "untrusted-time", "en", agency="03005", count=2, what=P.TIME_WHAT["modified"],
        time="2020-05-01T00:00:00+00:00",
        why=P.time_why("before", "2026-11-24T09:00:00+00:00"))


def test_a_generation_time_in_the_future_is_not_trusted_either(answered: Path,
                                                               tmp_path: Path) -> None:
    def forge(book: openpyxl.Workbook) -> None:
        book[META_SHEET]["B8"] = "2099-01-01T00:00:00+00:00"

    edited(answered, tmp_path / "forged.xlsx", forge)
    saved_at(tmp_path / "forged.xlsx", tmp_path / "b.xlsx", "2020-05-01T00:00:00Z",
             mtime="2026-11-25T00:00:00Z")
    (tmp_path / "forged.xlsx").unlink()
    saved_at(answered, tmp_path / "a.xlsx", "2026-11-26T00:00:00Z", mtime=LATER)
    merged = consolidate(tmp_path)
    # b's generation time is not trusted, so its time of saving is not held to it (nor
    # used): b's 2020 still loses to a's 2026
    assert outcome(merged) == {"a.xlsx": ("ok", []),
                               "b.xlsx": ("duplicate", ["duplicate", "untrusted-time"])}
    (message,) = merged.problems[merged.problems["code"] == "untrusted-time"]["message_en"]
    assert P.TIME_WHAT["generated_at"].en in message


def test_times_are_checked_against_when_the_merge_started(answered: Path,
                                                          tmp_path: Path) -> None:
    files = [saved_at(answered, tmp_path / "a.xlsx", "2026-11-25T00:00:00Z", mtime=LATER),
             saved_at(answered, tmp_path / "b.xlsx", "2026-11-27T00:00:00Z", mtime=LATER)]
    reads = read_all(files, jobs=1)
    states = merge_reads(reads, None, started=datetime(2026, 12, 31, tzinfo=UTC)).returns
    assert states["state"].tolist() == ["duplicate", "ok"]
    # a merge that started before b was saved (and before both files' times) cannot trust them
    merged = merge_reads(reads, None, started=datetime(2026, 11, 26, tzinfo=UTC))
    assert outcome(merged) == {"a.xlsx": ("ok_with_warnings", ["untrusted-time"]),
                               "b.xlsx": ("duplicate", ["duplicate", "untrusted-time",
                                                        "untrusted-time"])}


def test_one_return_dated_2099_is_counted_without_a_word(answered: Path, tmp_path: Path) -> None:
    saved_at(answered, tmp_path / "only.xlsx", "2099-01-01T00:00:00Z",
             mtime="2099-01-01T00:00:00Z")
    assert outcome(consolidate(tmp_path)) == {"only.xlsx": ("ok", [])}


@pytest.mark.parametrize("stamp", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00",
                                   "not a time", "2026-13-45T99:00:00Z", ""])
def test_times_at_the_ends_of_the_calendar_do_not_stop_the_merge(answered: Path,
                                                                 tmp_path: Path,
                                                                 stamp: str) -> None:
    saved_at(answered, tmp_path / "a.xlsx", LATER, mtime=LATER)
    saved_at(answered, tmp_path / "b.xlsx", stamp, mtime="2026-11-25T00:00:00Z")
    result = outcome(consolidate(tmp_path))
    assert result["a.xlsx"] == ("ok", [])
    assert result["b.xlsx"][0] == "duplicate"
    assert ("untrusted-time" in result["b.xlsx"][1]) == stamp.startswith("9999")


# -- two returns of one agency that differ ----------------------------------------------------


def texts(cellmap: CellMap, n: int) -> list[str]:
    """The first ``n`` text inputs of หมวด 3, as sheet!cell."""
    cells = [c for c in cellmap.inputs() if c.kind == "text" and c.sheet == "หมวด 3"][:n]
    return [f"{c.sheet}!{c.ref}" for c in cells]


def variant(cellmap: CellMap, issued: Path, dst: Path, stamp: str, changed: list[str]) -> Path:
    """A return of ``issued`` saved at ``stamp``, with other answers in ``changed``."""
    fill(cellmap, issued, dst.with_suffix(".tmp"), dict.fromkeys(changed, "คำตอบอื่น"))
    saved_at(dst.with_suffix(".tmp"), dst, stamp, mtime=stamp)
    dst.with_suffix(".tmp").unlink()
    return dst


def test_returns_that_differ_say_in_how_many_cells(issued: Path, cellmap: CellMap,
                                                   tmp_path: Path) -> None:
    changed = texts(cellmap, 5)
    variant(cellmap, issued, tmp_path / "draft.xlsx", "2026-11-25T00:00:00Z", changed)
    variant(cellmap, issued, tmp_path / "final.xlsx", "2026-11-26T00:00:00Z", [])
    variant(cellmap, issued, tmp_path / "copy.xlsx", "2026-11-25T12:00:00Z", [])
    merged = consolidate(tmp_path)
    assert outcome(merged) == {
        "copy.xlsx": ("duplicate", ["duplicate"]),
        "draft.xlsx": ("duplicate", ["duplicate"]),
        "final.xlsx": ("ok_with_warnings", ["duplicate-differs"])}
    problems = {(Path(f).name, c): m for f, c, m in zip(
        merged.problems["file"], merged.problems["code"], merged.problems["message_en"],
        strict=True)}
    assert problems[("draft.xlsx", "duplicate")] == P.message(
        "duplicate", "en", agency="03005", chosen="final.xlsx",
        difference=P.difference("final.xlsx", 5, changed[:3]))
    assert "differs from final.xlsx in 5 cells (" + ", ".join(changed[:3]) + ", …); check " \
        "which one is right" in problems[("draft.xlsx", "duplicate")]
    assert problems[("copy.xlsx", "duplicate")].endswith(": it is an identical copy")
    assert problems[("final.xlsx", "duplicate-differs")] == P.message(
        "duplicate-differs", "en", agency="03005", other="draft.xlsx",
        cells=P.cells_text(5, changed[:3]))
    returns = merged.returns.set_index(merged.returns["file"].map(lambda f: Path(f).name))
    assert returns.loc["draft.xlsx", "duplicate_of"] == str(tmp_path / "final.xlsx")
    assert returns.loc["copy.xlsx", "duplicate_of"] == str(tmp_path / "final.xlsx")
    assert returns.loc["draft.xlsx", "differing_cells"] == 5
    assert returns.loc["copy.xlsx", "differing_cells"] == 0
    assert returns.loc["final.xlsx", ["duplicate_of", "differing_cells"]].isna().all()
    assert str(returns["differing_cells"].dtype) == "Int64"


def test_a_later_return_for_the_wrong_agency_is_counted_but_pointed_out(
    sent: Path, cellmap: CellMap, tmp_path: Path
) -> None:
    """The issue's case: A fills in B's workbook by mistake, later than B's own return; both
    carry B's token. It counts (it is the newest), and both files say they differ."""
    variant(cellmap, sent / "07007.xlsx", tmp_path / "07007.xlsx", "2026-11-25T00:00:00Z", [])
    changed = texts(cellmap, 12)
    variant(cellmap, sent / "07007.xlsx", tmp_path / "filled-by-03005.xlsx",
            "2026-11-27T00:00:00Z", changed)
    merged = consolidate(tmp_path, manifest=sent / MANIFEST_NAME)
    assert outcome(merged) == {
        "07007.xlsx": ("duplicate", ["duplicate"]),
        "filled-by-03005.xlsx": ("ok_with_warnings", ["duplicate-differs"])}
    (warning,) = merged.problems[merged.problems["code"] == "duplicate-differs"]["message_en"]
    assert warning.startswith("agency 07007 also sent 07007.xlsx, which differs from this "
                              f"return in 12 cells ({', '.join(changed[:3])}, …)")


def test_an_empty_duplicate_is_not_pointed_out_on_the_filled_one(sent: Path, cellmap: CellMap,
                                                                 tmp_path: Path) -> None:
    variant(cellmap, sent / "07007.xlsx", tmp_path / "filled.xlsx", "2026-11-25T00:00:00Z", [])
    saved_at(sent / "07007.xlsx", tmp_path / "empty.xlsx", "2026-11-27T00:00:00Z",
             mtime="2026-11-27T00:00:00Z")
    merged = consolidate(tmp_path)
    # empty, not a duplicate: it is never chosen, so never compared with the filled one
    assert outcome(merged) == {"empty.xlsx": ("empty", ["empty-return"]),
                               "filled.xlsx": ("ok", [])}


def test_one_cell_and_blank_cells(issued: Path, cellmap: CellMap, tmp_path: Path) -> None:
    # a unit: a text no check asks for (a detail of a "done" row is required: blank, the
    # return would be rejected, and a rejected return is no duplicate)
    unit = next(c for c in cellmap.inputs() if c.field_id == "unit")
    one = f"{unit.sheet}!{unit.ref}"
    variant(cellmap, issued, tmp_path / "a.xlsx", "2026-11-25T00:00:00Z", [one])
    fill(cellmap, issued, tmp_path / "b.tmp", {one: "   "})  # spaces only: blank, as in a
    blanked = fill(cellmap, issued, tmp_path / "c.tmp", {one: None})
    assert (one.split("!")[0], one.split("!")[1]) not in blanked
    saved_at(tmp_path / "b.tmp", tmp_path / "b.xlsx", "2026-11-26T00:00:00Z")
    saved_at(tmp_path / "c.tmp", tmp_path / "c.xlsx", "2026-11-27T00:00:00Z")
    merged = consolidate([tmp_path / "a.xlsx", tmp_path / "b.xlsx", tmp_path / "c.xlsx"])
    problems = dict(zip(merged.problems["file"].map(lambda f: Path(f).name),
                        merged.problems["message_en"], strict=True))
    assert problems["a.xlsx"].endswith(f"it differs from c.xlsx in 1 cell ({one}); check which "
                                       "one is right")
    assert problems["b.xlsx"].endswith(": it is an identical copy")


def test_the_consolidated_workbook_and_csv_list_both_returns(issued: Path, cellmap: CellMap,
                                                             tmp_path: Path) -> None:
    folder = tmp_path / "returns"
    folder.mkdir()
    variant(cellmap, issued, folder / "draft.xlsx", "2026-11-25T00:00:00Z", texts(cellmap, 2))
    variant(cellmap, issued, folder / "final.xlsx", "2026-11-26T00:00:00Z", [])
    code, _ = run("merge", str(folder), "-o", str(tmp_path / "m.xlsx"), "--csv",
                  str(tmp_path / "csv"))
    assert code == 0  # warnings only
    book = openpyxl.load_workbook(tmp_path / "m.xlsx", read_only=True)
    rows = list(book["returns"].iter_rows(values_only=True))
    book.close()
    head = list(rows[0])
    table = {Path(r[0]).name: dict(zip(head, r, strict=True)) for r in rows[1:]}
    assert table["draft.xlsx"]["duplicate_of"] == str(folder / "final.xlsx")
    assert table["draft.xlsx"]["differing_cells"] == 2
    assert table["final.xlsx"]["state"] == "ok_with_warnings"
    with (tmp_path / "csv" / "returns.csv").open(encoding="utf-8-sig", newline="") as handle:
        csv_rows = {Path(r["file"]).name: r for r in csv.DictReader(handle)}
    assert (csv_rows["draft.xlsx"]["duplicate_of"], csv_rows["draft.xlsx"]["differing_cells"]) \
        == (str(folder / "final.xlsx"), "2")


@pytest.mark.parametrize("offset", [-5, 0, 7])
def test_an_issued_workbook_is_saved_when_it_was_generated(layout: Layout, tmp_path: Path,
                                                           offset: int) -> None:
    """Found on the way: the time of saving was written in the generator's time zone, marked
    as UTC; west of Greenwich an untouched workbook seemed saved before it was generated."""
    when = datetime(2026, 11, 24, 4, 0, tzinfo=timezone(timedelta(hours=offset)))
    generate_workbook(layout, tmp_path / "w.xlsx", agency=AGENCY, generated_at=when)
    identity = read_return(tmp_path / "w.xlsx").identity
    assert datetime.fromisoformat(identity.modified.replace("Z", "+00:00")) == when
    assert datetime.fromisoformat(identity.generated_at) == when


@pytest.mark.parametrize(("stamp", "trusted"), [
    ("2026-12-10T08:00:00", True),     # no zone: the local time of a place ahead of UTC
    ("2026-12-10T08:00:00Z", False),   # the same, in UTC: in the future
    ("2026-12-11T12:00:00", False),    # no zone, but in the future in every zone
    ("2026-11-24T00:00:00", True),     # no zone: 9 hours before generation in UTC, not west
    ("2026-11-23T20:00:00", False),    # before generation in every zone
])
def test_a_time_of_saving_without_a_zone_is_judged_in_every_zone(answered: Path,
                                                                 tmp_path: Path, stamp: str,
                                                                 trusted: bool) -> None:
    files = [saved_at(answered, tmp_path / "a.xlsx", stamp, mtime=LATER),
             saved_at(answered, tmp_path / "b.xlsx", "2026-11-26T00:00:00Z", mtime=LATER)]
    merged = merge_reads(read_all(files, jobs=1), None,
                         started=datetime(2026, 12, 10, 0, 0, tzinfo=UTC))
    assert ("untrusted-time" not in outcome(merged)["a.xlsx"][1]) is trusted
