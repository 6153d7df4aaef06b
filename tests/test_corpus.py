"""The corpus of bad returns (tests/corpus.py) against the reader, ``check`` and ``merge``.

Every case is refused or flagged with its code and a located, plain message that says what to
do, within a memory cap and a time limit, without a traceback. A merge over all of them and
good returns keeps every good return, lists every bad one with its reason, modifies no input,
and writes no agency text as a formula or a link.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import resource
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from pmqa_xlsx import problems as P
from pmqa_xlsx.cli import main
from pmqa_xlsx.consolidate import STATE_WORDS
from pmqa_xlsx.inputs import path_text
from pmqa_xlsx.xlsxread import unescape

from .corpus import (
    CASES,
    GOOD_AGENCIES,
    IDENTITY_ALSO,
    IDENTITY_COUNTED_INSTEAD,
    INJECTING_AGENCY,
    INJECTIONS,
    MARKUP_INJECTIONS,
    MISSING_AGENCY,
    NOT_ISSUED_AGENCY,
    Case,
    build,
    remove_deep,
)
from .lang import english_left

MEMORY_CAP = 1024 * 1024 * 1024  # the child that reads the corpus: 1 GiB of address space
MERGE_MEMORY_CAP = 3 * 1024 * 1024 * 1024  # merge: the parent and each worker
TIME_CAP = 120
# Every message says what to do about it.
ADVICE = re.compile(r"\b(send|save|fill in|copy|check|type|shorten|add|merge each|close|"
                    r"delete|rename|move|wait)\b", re.IGNORECASE)
# ... and in Thai.
THAI_ADVICE = re.compile("กรุณา|ให้|ควร")
THAI = re.compile("[\u0e00-\u0e7f]")
# Where a located case's problem must point (sheet, or sheet!cell prefix).
WHERE = {
    "far-cell.xlsx": "หมวด 3!XFD1048576",
    "rows-inserted.xlsx": "หมวด 3!",
    "rows-deleted.xlsx": "หมวด 7.2!",
    "other-form.xlsx": "_meta!B1",
    "unknown-version.xlsx": "_meta!B2",
    "no-metadata.xlsx": "_meta",
    "escape-codes.xlsx": "_meta!B1",
}
GOOD = [f"{a.code}.xlsx" for a in (*GOOD_AGENCIES, INJECTING_AGENCY)]
CHECKED = [c for c in CASES if not c.merge_only]  # check finds these on the file alone
COUNTED = ("ok", "ok_with_warnings")
# the cases that are read right and counted, with or without a warning
COUNTED_CASES = [c.name for c in CASES if c.merge_state in COUNTED]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("corpus")
    build(root)
    yield root
    remove_deep(root)  # pytest's own clean-up would recurse 1,000 levels


def fingerprints(folder: Path) -> dict[str, tuple[str, int]]:
    """Every entry of the folder: regular files by content and time, the rest (links,
    folders) by what lstat says of them."""
    out = {}
    for p in folder.iterdir():
        status = p.lstat()
        if stat.S_ISREG(status.st_mode):
            out[p.name] = (hashlib.sha256(p.read_bytes()).hexdigest(), status.st_mtime_ns)
        else:
            out[p.name] = (str(status.st_mode), status.st_mtime_ns)
    return out


def top(path: str, folder: Path) -> str:
    """The entry of ``folder`` (as recorded: valid text) that a recorded path is in."""
    return path[len(path_text(folder)) + 1:].split(os.sep)[0]


def test_the_corpus_covers_the_cases_and_nothing_else(corpus: Path) -> None:
    names = {p.name for p in (corpus / "returns").iterdir()}
    assert names == {c.name for c in CASES} | set(GOOD)
    assert len(CASES) == 73 and len(GOOD) == 11


def test_every_case_is_refused_within_the_caps(corpus: Path) -> None:
    """One child process, its address space capped, reads every file and reports; a case that
    crashed it or ran away would fail here, named by the last line it printed."""
    returns = corpus / "returns"
    code = textwrap.dedent(f"""
        import json, os, resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, {MEMORY_CAP}))
        from pmqa_xlsx.consolidate import collect_inputs, read_input
        folder = {str(returns)!r}
        for entry in collect_inputs(folder):  # each entry as check and merge walk to it
            read = read_input(entry)
            name = os.path.relpath(entry.path, folder).split(os.sep)[0]
            print(json.dumps([name, read.state,
                              [[p.code, p.severity, p.where, p.message_en, p.file, p.message_th]
                               for p in read.problems]]), flush=True)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=TIME_CAP, check=False)
    assert done.returncode == 0 and "Traceback" not in done.stderr, (
        done.stdout[-500:], done.stderr[-2000:])
    results = {name: (state, problems) for name, state, problems in
               map(json.loads, done.stdout.splitlines())}
    for case in CASES:
        state, problems = results[case.name]
        assert state == case.state, (case.name, problems)
        if case.merge_state != case.state:
            continue  # refused by the merge, against the roster (below)
        if not case.code:
            assert problems == [], (case.name, problems)  # read right, nothing to report
            continue
        found = [p for p in problems if p[0] == case.code]
        assert found, (case.name, problems)
        code, severity, where, message, file, message_th = found[0]
        assert severity == P.CATALOGUE[code].severity
        assert top(file, returns) == path_text(case.name), (case.name, file)
        assert where.startswith(WHERE.get(case.name, "")), (case.name, where)
        assert ADVICE.search(message), (case.name, message)
        assert THAI_ADVICE.search(message_th), (case.name, message_th)
    for name in GOOD:
        assert results[name] == ("ok", []), results[name]


def checked(corpus: Path, *files: Path) -> Result:
    return CliRunner().invoke(main, ["check", "--roster", str(corpus / "roster.csv"),
                                     "--manifest", str(corpus / "manifest.csv"), "--",
                                     *map(str, files)])


@pytest.mark.parametrize("case", CHECKED, ids=[c.name for c in CHECKED])
def test_check_exits_1_with_the_reason(corpus: Path, case: Case) -> None:
    path = corpus / "returns" / case.name
    result = checked(corpus, path)
    # given the roster and the manifest, check refuses what the merge refuses
    rejected = case.state == "rejected" or case.merge_state in ("rejected", "unknown_agency")
    assert result.exit_code == (1 if rejected else 0), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    state = "rejected" if rejected else case.state
    assert f": {STATE_WORDS[state].th} [{state}]" in result.output.splitlines()[0]
    if case.code:
        assert f" {case.code}: " in result.output
    # nothing from the file reaches the terminal as a control character or a line of its own
    assert not any(ord(ch) < 32 and ch != "\n" for ch in result.output)
    assert all(line.startswith((path_text(path), "  ")) for line in result.output.splitlines())


def test_check_exits_0_on_good_returns(corpus: Path) -> None:
    result = checked(corpus, *[corpus / "returns" / name for name in GOOD])
    assert result.exit_code == 0, result.output


def test_check_passes_what_only_a_merge_can_find(corpus: Path) -> None:
    """A duplicate is a good return on its own: its agency's other files make it one."""
    cases = [c for c in CASES if c.merge_only]
    result = checked(corpus, *[corpus / "returns" / c.name for c in cases])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        f"ผ่าน [ok] (หน่วยงาน {IDENTITY_COUNTED_INSTEAD[c.name][:5]})" for c in cases]


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MERGE_MEMORY_CAP, MERGE_MEMORY_CAP))


@pytest.fixture(scope="module")
def merged(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``pmqa-xlsx merge`` over the whole corpus (74 files: enough for two worker processes),
    as its own capped process, the inputs fingerprinted before and after."""
    out = tmp_path_factory.mktemp("merged")
    before = fingerprints(corpus / "returns")
    done = subprocess.run(
        [sys.executable, "-m", "pmqa_xlsx.cli", "merge", str(corpus / "returns"), "--roster",
         str(corpus / "roster.csv"), "--manifest", str(corpus / "manifest.csv"), "-o",
         str(out / "merged.xlsx"), "--csv", str(out / "csv"), "--jobs", "2"],
        capture_output=True, text=True, timeout=TIME_CAP * 2, check=False,
        preexec_fn=_capped, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert fingerprints(corpus / "returns") == before  # no input modified, not even touched
    return out, done.stdout


def _rows(out: Path, name: str) -> list[dict[str, str]]:
    with (out / "csv" / f"{name}.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _returns(out: Path, folder: Path) -> dict[str, dict[str, str]]:
    """The returns frame's rows by the entry of the corpus folder they are in."""
    return {top(r["file"], folder) if r["file"] else r["agency_code"]: r
            for r in _rows(out, "returns")}


def test_a_merge_keeps_every_good_return_and_lists_every_bad_one(merged: tuple[Path, str],
                                                                 corpus: Path) -> None:
    out, stdout = merged
    rows = _returns(out, corpus / "returns")
    assert set(rows) == {path_text(p.name) for p in (corpus / "returns").iterdir()} | {
        MISSING_AGENCY.code, NOT_ISSUED_AGENCY.code}
    for name in GOOD:  # 03001's counts, with a warning: the corpus holds newer, rejected
        # files of that agency (other-form.xlsx and others are built from its return); 03009's
        # too: its draft differs from it (IDENTITY_ALSO)
        expected = "ok_with_warnings" if name in ("03001.xlsx", "03009.xlsx") else "ok"
        assert rows[name]["state"] == expected and rows[name]["reason_th"] == "", rows[name]
    codes = {(top(r["file"], corpus / "returns"), r["code"]) for r in _rows(out, "problems")
             if r["file"]}
    for case in CASES:
        row = rows[path_text(case.name)]
        assert row["state"] == case.merge_state, row
        if case.merge_state in COUNTED:  # counted, with its warning among the problems
            assert row["reason_th"] == row["reason_en"] == "", row
            assert not case.code or (path_text(case.name), case.code) in codes, row
        else:
            assert f"[{case.code}]" in row["reason_th"] and f"[{case.code}]" in row["reason_en"]
    assert rows[MISSING_AGENCY.code]["state"] == "missing"
    assert rows[NOT_ISSUED_AGENCY.code]["state"] == "missing"  # its only file was not counted
    with (out / "csv" / "problems.csv").open(encoding="utf-8-sig", newline="") as handle:
        codes: dict[str, set[str]] = {}
        for problem in csv.DictReader(handle):
            codes.setdefault(Path(problem["file"]).name, set()).add(problem["code"])
    for name, also in IDENTITY_ALSO.items():
        assert set(also) <= codes[name], (name, codes[name])
    for name, instead in IDENTITY_COUNTED_INSTEAD.items():  # each names what counts instead
        assert Path(rows[name]["duplicate_of"]).name == instead, rows[name]
    # the terminal lists what was not counted, with the reason
    refused = sum(r["state"] in ("rejected", "unknown_agency") for r in rows.values())
    assert "ไม่ได้นับ" in stdout and "[zip-bomb]" in stdout and "[damaged-file]" in stdout
    assert f"  ... และอีก {refused - 20} ไฟล์" in stdout  # the first 20 are listed
    # the answers are the good returns', and theirs only
    files = {Path(r["file"]).name for r in _rows(out, "answers")}
    assert files == set(GOOD) | {path_text(c.name) for c in CASES if c.merge_state in COUNTED}
    book = openpyxl.load_workbook(out / "merged.xlsx", read_only=True)
    sheet_rows = list(book["returns"].iter_rows(values_only=True))
    header = list(sheet_rows[0])
    reasons = {top(str(r[header.index("file")]), corpus / "returns"): r[header.index("reason_th")]
               for r in sheet_rows[1:] if r[header.index("file")]}
    assert all(reasons[c.name] and f"[{c.code}]" in reasons[c.name] for c in CASES
               if c.merge_state not in COUNTED)


def test_every_message_of_the_corpus_is_thai_with_no_english_left(merged: tuple[Path, str]
                                                                   ) -> None:
    """Every problem the corpus gives (the reader's and the merge's: its composed details,
    reasons and rules) in Thai, with no English word left; the English beside it, in English;
    and each reason of a file not counted in both."""
    out, stdout = merged
    problems = _rows(out, "problems")
    assert len({p["code"] for p in problems}) >= 40  # the corpus reaches most of the catalogue
    for problem in problems:
        th, en = problem["message_th"], problem["message_en"]
        assert THAI.search(th) and english_left(th) == [], (problem["code"], th)
        assert english_left(en), (problem["code"], en)
    for row in _rows(out, "returns"):
        if row["reason_th"]:
            assert english_left(row["reason_th"]) == [] and english_left(row["reason_en"])
    # what merge printed (Thai unless told): the summary, the files not counted, their reasons
    assert "อ่าน " in stdout and "ส่งแล้ว (นับผล)" in stdout and "เขียนไฟล์ " in stdout
    assert not re.search(r"\b(files read|Not counted|wrote)\b", stdout)


def test_agency_text_stays_text_in_every_output(merged: tuple[Path, str]) -> None:
    out, _ = merged
    book = openpyxl.load_workbook(out / "merged.xlsx")
    seen = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                assert cell.hyperlink is None, (sheet.title, cell.coordinate)
                # openpyxl leaves OOXML's escapes (_x000D_ for a carriage return) as written
                if isinstance(cell.value, str) and unescape(cell.value) in INJECTIONS:
                    seen.add(unescape(cell.value))
    assert seen == set(INJECTIONS)  # each arrived, as the text it is
    names = [c.value for c in book["returns"]["C"]]
    assert INJECTING_AGENCY.name in names
    raw = (out / "csv" / "answers.csv").read_bytes().decode("utf-8-sig")
    for text in INJECTIONS:  # neutralised with a leading ' inside a quoted field
        assert '"\'' + text.replace('"', '""') + '"' in raw, text
    returns = (out / "csv" / "returns.csv").read_bytes().decode("utf-8-sig")
    assert '"\'' + INJECTING_AGENCY.name.replace('"', '""') + '"' in returns
    for name in ("answers", "indicators", "problems", "returns"):
        text = (out / "csv" / f"{name}.csv").read_bytes().decode("utf-8-sig")
        header, first = text.split("\r\n")[:2]
        for line in (header, first):  # every field quoted, numbers and blanks too
            assert line.startswith('"') and line.endswith('"') and '","' in line, line
            assert len(next(csv.reader([line]))) == line.count('","') + 1


# -- Issue 10, outputs: the corpus as outputs would meet it ------------------------------------


def test_markup_typed_in_a_return_is_text_in_every_part_of_the_merge(merged: tuple[Path, str]
                                                                     ) -> None:
    from .ooxml import inspect

    out, _ = merged
    package = inspect(out / "merged.xlsx")  # every XML part parsed
    assert package.formulas == {} and package.runs == 0 and package.hyperlinks == 0
    assert set(MARKUP_INJECTIONS) <= package.texts()


def test_no_merge_output_can_land_on_an_entry_of_the_corpus(corpus: Path) -> None:
    """Every entry of the corpus folder a merge reads (a return, a link, a loop, a lock or
    temporary file...) is refused as its -o, before anything is read or written."""
    returns = corpus / "returns"
    before = fingerprints(returns)
    names = [p.name for p in returns.iterdir() if p.name.endswith(".xlsx")]
    assert len(names) > 30
    for name in names:
        result = CliRunner().invoke(main, ["merge", str(returns), "-o", str(returns / name)])
        assert result.exit_code == 2, (name, result.output)
        assert "ถ้าเขียนทับ ไฟล์นั้นจะหายไป" in result.output, (name, result.output)
    assert fingerprints(returns) == before
