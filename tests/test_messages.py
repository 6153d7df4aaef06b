"""Every message in Thai and English: the catalogue holds both, the frames carry both, and
``check``, ``merge`` and ``demo`` print Thai unless ``--lang en``.

The Thai is checked for English left in it (``tests.lang.english_left``: Latin words that are
not the name of a product or format, nor a value, file, cell, code or option); the corpus of bad
returns is checked the same way in tests/test_corpus.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from pmqa_xlsx import problems as P
from pmqa_xlsx.cli import main
from pmqa_xlsx.consolidate import RETURN_COLUMNS, STATE_WORDS, STATES, consolidate
from pmqa_xlsx.errors import ManifestError, ProblemsError
from pmqa_xlsx.guards import Output, OutputRefused, merge_outputs
from pmqa_xlsx.inputs import InputFile
from pmqa_xlsx.read import read_return
from pmqa_xlsx.rounds import Round, RoundError, SeveralRounds, parse_round
from pmqa_xlsx.words import Words

from .lang import english_left

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
RETURNS = SAMPLES / "returns"
ROSTER = SAMPLES / "roster.csv"
REJECTED = RETURNS / "21003.xlsx"  # the sample with typical mistakes
THAI = re.compile("[\u0e00-\u0e7f]")


def columns(text: str) -> int:
    """The columns ``text`` takes on a terminal (marks above or below a letter take none)."""
    return sum(unicodedata.category(ch) not in ("Mn", "Me") for ch in text)


def invoke(*args: object) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.output, result.exception)
    return result


# --------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", P.CATALOGUE.values(), ids=list(P.CATALOGUE))
def test_every_code_has_both_templates_with_the_same_fields(code: P.Code) -> None:
    assert code.template_th and code.template_en
    assert P.fields_of(code.template_th) == P.fields_of(code.template_en)


@pytest.mark.parametrize("code", P.CATALOGUE.values(), ids=list(P.CATALOGUE))
def test_every_thai_template_is_thai_with_no_english_sentence_left(code: P.Code) -> None:
    if not THAI.search(code.template_th):  # "{detail}": all of it is composed
        assert re.fullmatch(r"(\{[a-z_]+\}|[: ])+", code.template_th), code.template_th
        assert code.template_th == code.template_en
        return
    assert THAI.search(code.template_th), code.template_th
    assert english_left(code.template_th) == [], code.template_th
    assert not THAI.search(code.template_en), code.template_en


def test_the_english_check_finds_english_and_lets_names_values_and_codes_be() -> None:
    assert english_left("กรุณา save the file again") == ["save", "the", "file", "again"]
    assert english_left("ไฟล์ Excel 'Excel Workbook (.xlsx)' ของ LibreOffice ที่ "
                        "หมวด 3!E12 [not-a-number] --round xl/styles.xml <workbookPr>") == []
    assert all(english_left(c.template_en) for c in P.CATALOGUE.values()
               if P.fields_of(c.template_en) != {"detail"} and not c.slug.endswith(
                   ("required", "unexpected", "without-result", "without-target", "name")))


def test_words_fields_are_put_in_each_language_and_values_stay_as_found() -> None:
    problem = P.make("number-out-of-range", file="a.xlsx", sheet="หมวด 7.2", cell="E10",
                     label="ค่าเป้าหมาย 2562", found="-5",
                     rule=Words("กรุณาพิมพ์ตัวเลขที่ไม่น้อยกว่า 0", "it must be at least 0"))
    assert problem.message_th == "ค่าเป้าหมาย 2562: ใส่ -5 ไม่ได้ กรุณาพิมพ์ตัวเลขที่ไม่น้อยกว่า 0"
    assert problem.message_en == "ค่าเป้าหมาย 2562: -5 is not allowed; it must be at least 0"
    assert problem.text("th") == problem.message_th and problem.text("en") == problem.message_en
    assert problem.text() == problem.message_th  # Thai unless told
    assert not hasattr(problem, "message")


def test_the_composed_parts_of_merge_messages_are_worded_in_both() -> None:
    for words in (P.cells_text(2, ["หมวด 3!E5", "หมวด 3!E6"]), P.cells_text(None, []),
                  P.difference("a.xlsx", 0, []), P.difference("a.xlsx", 5, ["หมวด 3!E5"]),
                  P.time_why("future"), P.time_why("before", "2026-11-24T09:00:00+00:00"),
                  *P.TIME_WHAT.values(), *STATE_WORDS.values(),
                  Round("pmqa4-cat3-cat7.2", "2562.1", 2569).describe()):
        assert THAI.search(words.th) and english_left(words.th) == [], words
        # the English is English (beside the Thai names of sheets)
        assert english_left(words.en) or not THAI.search(words.en), words
    assert set(STATE_WORDS) == set(STATES)


# --------------------------------------------------------------------------------------------
# The frames and the consolidated workbook
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def merged() -> object:
    return consolidate(RETURNS, ROSTER, jobs=1)


def test_the_problems_frame_has_a_message_in_each_language() -> None:
    assert P.PROBLEM_COLUMNS[-2:] == ("message_th", "message_en")
    problems = read_return(REJECTED).problems
    assert tuple(problems.columns) == P.PROBLEM_COLUMNS
    assert len(problems) and all(THAI.search(m) for m in problems["message_th"])
    for th, en, code in zip(problems["message_th"], problems["message_en"], problems["code"],
                            strict=True):
        assert english_left(th) == [] and english_left(en), (code, th, en)


def test_the_returns_frame_has_a_reason_in_each_language(merged: object) -> None:
    returns = merged.returns  # type: ignore[attr-defined]
    assert tuple(returns.columns) == RETURN_COLUMNS and "reason" not in returns.columns
    assert RETURN_COLUMNS.index("reason_en") == RETURN_COLUMNS.index("reason_th") + 1
    not_counted = returns[~returns["state"].isin(("ok", "ok_with_warnings"))]
    assert Counter(not_counted["state"]) == {"rejected": 1, "duplicate": 1, "missing": 2}
    for th, en in zip(not_counted["reason_th"], not_counted["reason_en"], strict=True):
        assert THAI.search(th) and english_left(th) == [], th
        assert english_left(en), en
    counted = returns[returns["state"].isin(("ok", "ok_with_warnings"))]
    assert counted["reason_th"].isna().all() and counted["reason_en"].isna().all()


def test_the_consolidated_workbook_shows_thai_first_and_english_beside(tmp_path: Path) -> None:
    result = invoke("merge", RETURNS, "--roster", ROSTER, "-o", tmp_path / "m.xlsx")
    assert result.exit_code == 1, result.output  # 21003 is rejected
    book = openpyxl.load_workbook(tmp_path / "m.xlsx", read_only=True)
    try:
        for sheet, th, en in (("problems", "message_th", "message_en"),
                              ("returns", "reason_th", "reason_en")):
            rows = list(book[sheet].iter_rows(values_only=True))
            header = list(rows[0])
            assert header.index(en) == header.index(th) + 1, header
            filled = [r for r in rows[1:] if r[header.index(th)]]
            assert filled and all(THAI.search(r[header.index(th)]) for r in filled)
            assert all(english_left(r[header.index(th)]) == [] for r in filled)
            assert all(english_left(r[header.index(en)]) for r in filled)
    finally:
        book.close()


# --------------------------------------------------------------------------------------------
# What check, merge and demo print
# --------------------------------------------------------------------------------------------


def test_check_prints_thai_unless_told_and_english_with_lang_en() -> None:
    problems = read_return(REJECTED).problems
    thai = invoke("check", REJECTED)
    english = invoke("check", "--lang", "en", REJECTED)
    assert thai.exit_code == english.exit_code == 1
    assert thai.output.splitlines()[0].endswith(": ต้องแก้ไข [rejected] (หน่วยงาน 21003)")
    assert english.output.splitlines()[0].endswith(": rejected (agency 21003)")
    for th, en in zip(problems["message_th"], problems["message_en"], strict=True):
        assert th in thai.output and en not in thai.output
        assert en in english.output and th not in english.output
    assert not THAI.search(english.output.replace(str(REJECTED), "").split("\n")[0])


def test_merge_prints_thai_unless_told_and_english_with_lang_en(tmp_path: Path) -> None:
    thai = invoke("merge", RETURNS, "--roster", ROSTER, "-o", tmp_path / "th.xlsx")
    english = invoke("merge", RETURNS, "--roster", ROSTER, "-o", tmp_path / "en.xlsx",
                     "--lang", "en")
    assert thai.exit_code == english.exit_code == 1
    assert "อ่าน 6 ไฟล์" in thai.output and "6 files read" in english.output
    assert re.search(r"\n  ส่งแล้ว \(นับผล\) +4   \(มีข้อควรตรวจสอบ 1 ฉบับ\)\n", thai.output)
    assert "  returned (counted)       4   (1 with warnings)" in english.output
    assert re.search(r"\n  ต้องแก้ไข \[rejected\] +1\n", thai.output)
    assert re.search(r"\n  ยังไม่ส่ง \[missing\] +2\n", thai.output)
    assert "  rejected                 1" in english.output
    # the counts line up on a terminal, where Thai vowel and tone marks take no column
    output = thai.output.splitlines()
    start = next(i for i, line in enumerate(output) if line.startswith("  ส่งแล้ว"))
    lines = output[start:start + 1 + len(STATES[3:])]
    assert len({columns(line) for line in lines[1:]} | {columns(lines[0].split("   (")[0])}) == 1
    assert "ไม่ได้นับ (" in thai.output and "Not counted (" in english.output
    reason = consolidate(RETURNS, ROSTER, jobs=1).returns.set_index("agency_code")
    row = reason[reason["state"] == "rejected"].iloc[0]
    assert f"  21003.xlsx: {row['reason_th']}" in thai.output
    assert f"  21003.xlsx: {row['reason_en']}" in english.output
    assert f"เขียนไฟล์ {tmp_path / 'th.xlsx'} แล้ว" in thai.output
    assert f"wrote {tmp_path / 'en.xlsx'}" in english.output
    assert "wrote" not in thai.output and "เขียนไฟล์" not in english.output


def test_demo_prints_thai_unless_told(tmp_path: Path) -> None:
    thai = invoke("demo", "--out", tmp_path / "th")
    english = invoke("demo", "--out", tmp_path / "en", "--lang", "en")
    assert thai.exit_code == english.exit_code == 0, thai.output
    assert "ต้องแก้ไข [rejected]" in thai.output and "ยังไม่ส่ง [missing]" in thai.output
    assert "สิ่งที่ต้องแก้ในแบบฟอร์มที่ไม่ผ่าน:" in thai.output
    assert "'N/A' ไม่ใช่ตัวเลข กรุณาพิมพ์เฉพาะตัวเลข เช่น 85 หรือ 1,250.5" in thai.output
    assert "'N/A' is not a number; type digits only" in english.output
    assert "What the rejected returns must fix:" in english.output
    assert "What the rejected" not in thai.output


# --------------------------------------------------------------------------------------------
# The errors of the call
# --------------------------------------------------------------------------------------------


def test_a_bad_round_is_a_usage_error_in_the_language_asked() -> None:
    thai = invoke("check", "--round", "x:y", REJECTED)
    english = invoke("check", "--round", "x:y", "--lang", "en", REJECTED)
    assert thai.exit_code == english.exit_code == 2
    assert "--round 'x:y': กรุณาระบุเป็น FORM:VERSION:YEAR" in thai.output
    assert "--round 'x:y': give FORM:VERSION:YEAR" in english.output
    with pytest.raises(RoundError) as info:
        parse_round("pmqa4-cat3-cat7.2:2562.1:1990", [])
    assert "1990 ดูเหมือนเป็นปีคริสต์ศักราช กรุณาระบุปีพุทธศักราช (2533)" in info.value.text("th")
    assert "1990 looks like a CE year" in info.value.text("en") == str(info.value)


def test_several_rounds_are_listed_in_each_language() -> None:
    a, b = Round("f", "1", 2568), Round("f", "1", 2569)
    error = SeveralRounds(Counter({a: 2, b: 1}), {a: 2, b: 1})
    assert error.text("th").startswith("แบบฟอร์มที่ส่งมาเป็นของมากกว่าหนึ่งรอบ")
    assert "  --round f:1:2568   2 ฉบับ จาก 2 หน่วยงาน (ปีงบประมาณ 2568 (แบบฟอร์ม f รุ่น 1))" \
        in error.text("th")
    assert "  --round f:1:2568   2 returns from 2 agencies (fiscal year 2568 (form f version 1))" \
        in error.text("en")


def test_a_layout_that_does_not_load_has_a_thai_head(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("form: {id: x}\n", encoding="utf-8")
    thai = invoke("check", "--layout", bad, REJECTED)
    english = invoke("check", "--layout", bad, "--lang", "en", REJECTED)
    assert thai.exit_code == english.exit_code == 1
    assert "ไฟล์แม่แบบ (layout) 1 ไฟล์ใช้ไม่ได้ จึงไม่ได้อ่านแบบฟอร์มใด" in thai.output
    assert f"ไฟล์แม่แบบ (layout) {bad}: พบปัญหา" in thai.output
    assert "no return was read: fix the layout, or leave it out" in english.output
    assert f"layout {bad}: " in english.output and "พบปัญหา" not in english.output


def test_a_path_that_is_not_there_is_said_in_the_language_asked(tmp_path: Path) -> None:
    thai = invoke("check", tmp_path / "none.xlsx")
    english = invoke("check", "--lang", "en", tmp_path / "none.xlsx")
    assert thai.exit_code == english.exit_code == 2
    assert "ไม่พบ" in thai.output and "กรุณาตรวจชื่อไฟล์หรือโฟลเดอร์" in thai.output
    assert "does not exist" in english.output


def test_an_output_that_would_replace_an_input_is_refused_in_the_language_asked(
        tmp_path: Path) -> None:
    thai = invoke("merge", REJECTED, "-o", REJECTED)
    english = invoke("merge", "--lang", "en", REJECTED, "-o", REJECTED)
    assert thai.exit_code == english.exit_code == 2
    assert "ถ้าเขียนทับ ไฟล์นั้นจะหายไป กรุณาเลือกชื่ออื่น" in thai.output
    assert "writing there would destroy it: choose another name" in english.output
    with pytest.raises(OutputRefused) as info:
        merge_outputs([Output("-o", REJECTED)], [InputFile.of(REJECTED)], [REJECTED], None)
    assert str(info.value) == info.value.text("en") != info.value.text("th")


def test_an_unusable_output_folder_and_suffix_are_said_in_thai(tmp_path: Path) -> None:
    assert "-o ต้องเป็นชื่อไฟล์ .xlsx" in invoke("merge", REJECTED, "-o", tmp_path / "m.csv").output
    assert "-o: ไม่พบโฟลเดอร์" in invoke("merge", REJECTED, "-o", tmp_path / "no" / "m.xlsx").output


def test_a_manifest_error_has_thai_problems_and_head(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("agency_code,token\n,x\n", encoding="utf-8")
    result = invoke("check", "--manifest", manifest, REJECTED)
    assert result.exit_code == 1
    assert result.output.startswith("ข้อผิดพลาด: ")
    assert f"รายการแบบฟอร์มที่ออกให้ (manifest) {manifest}: พบปัญหา 2 รายการ จึงไม่ได้ตรวจ" \
        in result.output
    assert "บรรทัดที่ 2: ไม่มีรหัสหน่วยงาน (agency_code)" in result.output
    assert "บรรทัดที่ 2: รหัสกำกับ (token) 'x' ซึ่งไม่ใช่เลขฐานสิบหก 32 หลัก" in result.output
    english = invoke("check", "--manifest", manifest, "--lang", "en", REJECTED)
    assert english.output.startswith("Error: manifest ")


def test_a_problems_error_takes_plain_and_bilingual_problems() -> None:
    error = ManifestError("m.csv", ["line 1: plain", Words("บรรทัดที่ 2: ไทย", "line 2: english")])
    assert error.problems_in("th") == ("line 1: plain", "บรรทัดที่ 2: ไทย")
    assert error.problems_in("en") == ("line 1: plain", "line 2: english")
    assert str(error) == error.text("en") == ("manifest m.csv: 2 problems; no return was "
                                              "checked against it\n  line 1: plain\n  line 2: "
                                              "english")
    assert error.text("th").startswith("รายการแบบฟอร์มที่ออกให้ (manifest) m.csv: พบปัญหา 2 รายการ")
    many = ProblemsError("f", [f"p{i}" for i in range(ProblemsError.LISTED + 5)])
    assert many.text("th").endswith("... และอีก 5 รายการ (กรุณาแก้รายการข้างบนก่อน "
                                    "รายการที่เหลือมักเป็นผลจากรายการเหล่านี้)")


def test_check_feedback_says_what_it_wrote_in_the_language_asked(tmp_path: Path) -> None:
    thai = invoke("check", REJECTED, "--feedback", tmp_path / "th")
    english = invoke("check", "--lang", "en", REJECTED, "--feedback", tmp_path / "en")
    assert thai.exit_code == english.exit_code == 1
    assert f"เขียนสำเนาผลการตรวจ 1 ไฟล์ไปที่ {tmp_path / 'th'}" in thai.output
    assert f"wrote 1 feedback copies to {tmp_path / 'en'}" in english.output
    inside = invoke("check", "--lang", "en", RETURNS, "--feedback", RETURNS / "fb")
    assert inside.exit_code == 2 and not THAI.search(inside.output.split("Error:")[-1])
