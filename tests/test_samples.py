"""samples/ and the demo: the sample returns match the bundled layout and what
samples/make_returns.py makes from answers.yaml, and the demo runs as the README shows."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from pmqa_xlsx import load_roster, read_return
from pmqa_xlsx.cli import main
from pmqa_xlsx.layout import META_SHEET, Layout

from .conftest import ROOT

SAMPLES = ROOT / "samples"
RETURNS = sorted((SAMPLES / "returns").glob("*.xlsx"))


def test_the_sample_returns_are_of_the_bundled_layout(layout: Layout) -> None:
    assert [p.name for p in RETURNS] == ["03005.xlsx", "07007.xlsx", "08004-draft.xlsx",
                                         "08004.xlsx", "15005.xlsx", "21003.xlsx"]
    for path in RETURNS:
        book = openpyxl.load_workbook(path, read_only=True)
        meta = {row[0]: row[1] for row in book[META_SHEET].iter_rows(values_only=True)}
        book.close()
        assert meta["layout_fingerprint"] == layout.fingerprint, (
            f"{path.name} is stale: run samples/make_returns.py")
    roster = {a.code for a in load_roster(SAMPLES / "roster.csv")}
    assert {p.stem.split("-")[0] for p in RETURNS} < roster


@pytest.mark.libreoffice
def test_make_returns_makes_the_committed_samples(soffice: str, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_returns", SAMPLES / "make_returns.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made = module.build(tmp_path)
    assert [p.name for p in made] == [p.name for p in RETURNS]
    for fresh, committed in zip(made, RETURNS, strict=True):
        a, b = read_return(fresh), read_return(committed)
        assert a.state == b.state, committed.name
        pd.testing.assert_series_equal(a.answers["value"], b.answers["value"],
                                       check_names=False)
        assert a.problems["code"].tolist() == b.problems["code"].tolist()


def readme_demo() -> list[str]:
    """The lines of the demo's output as the README shows them (its first block under
    "## The demo"): a line ``  ...`` stands for lines left out, ``...`` in a line for text."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## The demo"):]
    block = section[section.index("```\n") + 4:]
    return [line for line in block[:block.index("```")].splitlines()
            if line.strip() and line.strip() != "..."]


def test_demo_runs_as_the_readme_shows(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    out = result.output
    # as the README shows it: run from the repository with the default --out
    shown = out.replace(str(tmp_path / "demo"), "pmqa-demo").replace(str(SAMPLES), "samples")
    printed = [line.rstrip() for line in shown.splitlines()]
    expected = readme_demo()
    assert len(expected) >= 15
    at = 0
    for line in expected:  # in the README's order, each one somewhere after the last
        pattern = re.compile(".*?".join(map(re.escape, line.split("..."))))
        found = next((i for i in range(at, len(printed)) if pattern.fullmatch(printed[i])), None)
        assert found is not None, (line, printed[at:])
        at = found + 1
    for line in (
        "  08004.xlsx             08004    ผ่าน มีข้อควรตรวจสอบ [ok_with_warnings]       0        1",
        "  21003.xlsx             21003    ต้องแก้ไข [rejected]                         9        0",
    ):  # the draft differs; the mistakes
        assert line in out
    assert "21003.xlsx หมวด 7.2!H55: ผลการดำเนินงาน 2562: 'N/A' ไม่ใช่ตัวเลข" in out
    # Thai digits pasted as text: no formula of the form counts them, nor does the reader
    assert ("21003.xlsx หมวด 7.2!E70: ค่าเป้าหมาย 2562: '๓๐' เป็นข้อความ ไม่ใช่ตัวเลข "
            "สูตรในแบบฟอร์มจึงไม่นับค่านี้") in out
    # the form's own checks: 3.2.2.b is "done" with its stakeholders left blank
    assert ("21003.xlsx หมวด 3!E22: ผู้มีส่วนได้ส่วนเสียลำดับที่ 1 คือ: เลือก "
            "\"มีการดำเนินการโดยมีรายละเอียดดังนี้\" แล้ว ต้องกรอกรายละเอียดช่องนี้") in out
    demo = tmp_path / "demo"
    for name in ("blank.xlsx", "consolidated.xlsx", "agencies/manifest.csv",
                 "agencies/20001.xlsx", "csv/answers.csv"):
        assert (demo / name).is_file(), name
        assert str(demo / name.split("/")[0]) in out
