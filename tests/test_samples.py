"""samples/ and the demo: the sample returns match the bundled layout and what
samples/make_returns.py makes from answers.yaml, and the demo runs as the README shows."""

from __future__ import annotations

import importlib.util
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


def test_demo_runs_as_the_readme_shows(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    out = result.output
    for line in (
        "  03005.xlsx             03005    ok                     0        0",
        "  07007.xlsx             07007    ok                     0        0",
        "  08004-draft.xlsx       08004    duplicate              0        1",
        "  08004.xlsx             08004    ok_with_warnings       0        1",  # the draft differs
        "  21003.xlsx             21003    rejected               9        0",
        "  15005.xlsx             15005    ok                     0        0",
        "  (no return)            20001    missing",
    ):
        assert line in out
    assert "21003.xlsx หมวด 7.2!H55: ผลการดำเนินงาน 2562: 'N/A' is not a number" in out
    # Thai digits pasted as text: no formula of the form counts them, nor does the reader
    assert ("21003.xlsx หมวด 7.2!E70: ค่าเป้าหมาย 2562: '๓๐' is text, not a number, so the "
            "form's formulas do not count it") in out
    # the form's own checks: 3.2.2.b is "done" with its stakeholders left blank
    assert ("21003.xlsx หมวด 3!E22: ผู้มีส่วนได้ส่วนเสียลำดับที่ 1 คือ: the status is \"done, "
            "with the details below\", so this detail is required") in out
    demo = tmp_path / "demo"
    for name in ("blank.xlsx", "consolidated.xlsx", "agencies/manifest.csv",
                 "agencies/20001.xlsx", "csv/answers.csv"):
        assert (demo / name).is_file(), name
        assert str(demo / name.split("/")[0]) in out
