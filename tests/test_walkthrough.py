"""docs/layout-format.md's walkthrough, "A round with a new layout, start to finish", run as
the doc shows it: its commands are taken from the section's ``sh`` blocks, so that the doc and
this test cannot drift apart.

The commands run in an empty folder holding the bundled layout (``layouts/``) and the sample
roster (``roster.csv``). Where the doc has a person act, the test does: it edits ``next.yaml``
into docs/examples/pmqa4-2563.yaml, fills the generated workbooks into ``returns/``, and makes
last year's returns (``returns-2562/``) with the bundled layout.
"""

from __future__ import annotations

import csv
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from pmqa_xlsx import build_cellmap, generate_roster, load_layout
from pmqa_xlsx.cli import main

from .conftest import FIXED_TIME, ROOT
from .fill import fill
from .lang import english

DOC = ROOT / "docs" / "layout-format.md"
SECTION = "## A round with a new layout, start to finish"
EXAMPLE = ROOT / "docs" / "examples" / "pmqa4-2563.yaml"
BUNDLED = ROOT / "layouts" / "pmqa4-2562.yaml"
ROSTER = ROOT / "samples" / "roster.csv"

# What the doc's commands are about (the test checks they are there)
NEW, OLD = "next.yaml", "old.yaml"
OUT, RETURNS, LAST_YEAR = "out", "returns", "returns-2562"


def section() -> str:
    text = DOC.read_text(encoding="utf-8")
    assert SECTION in text, f"{DOC.name} has no section {SECTION!r}"
    body = text[text.index(SECTION) + len(SECTION):]
    following = re.search(r"^## ", body, re.MULTILINE)
    return body[:following.start()] if following else body


def blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```", section(), re.MULTILINE | re.DOTALL)


def commands() -> list[list[str]]:
    """Every command of the section's sh blocks, in order, as argument lists."""
    out = []
    for block in blocks("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                out.append(shlex.split(line, comments=True))
    return out


def invoke(argv: list[str]) -> Result:
    result = CliRunner().invoke(main, english(argv))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        argv, result.output, result.exception)
    return result


def fill_folder(layout_path: Path, issued: Path, returns: Path) -> int:
    """Fill every workbook of ``issued`` (made from ``layout_path``) into ``returns``."""
    cellmap = build_cellmap(load_layout(layout_path))
    returns.mkdir(parents=True, exist_ok=True)
    books = sorted(issued.glob("*.xlsx"))
    for book in books:
        fill(cellmap, book, returns / book.name)
    return len(books)


def read_csv(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def roster_codes() -> list[str]:
    return [row["agency_code"] for row in read_csv(ROSTER)]


# --------------------------------------------------------------------------------------------
# The example layout is the doc's edits of the bundled one, and nothing else
# --------------------------------------------------------------------------------------------


def _stripped(line: str) -> str:
    return line.split(" #")[0].rstrip()


def test_the_docs_yaml_fragments_are_in_the_example() -> None:
    example = {_stripped(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()}
    fragments = blocks("yaml")
    assert fragments, "the walkthrough shows the edits as yaml blocks"
    for fragment in fragments:
        for line in fragment.splitlines():
            if _stripped(line).strip():
                assert _stripped(line) in example, line


def test_the_example_is_the_bundled_layout_with_the_docs_changes_only() -> None:
    old = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    new = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert (new["form"]["version"], new["form"]["fiscal_year"]) == ("2563.1", 2563)
    assert new["form"]["id"] == old["form"]["id"]
    # undo the four changes: what is left is last year's layout
    new["form"].update(version=old["form"]["version"], fiscal_year=old["form"]["fiscal_year"])
    checklist, indicators = new["sheets"]
    items = checklist["sections"][3]["items"]
    assert items[-1]["id"] == "3.4.6"
    items.pop()
    blank = checklist["sections"][0]["items"][2]["blanks"][0]
    assert blank == {"id": "technology", "label": "ได้แก่ เทคโนโลยี"}
    blank["label"] = "คือ"
    table = indicators["tables"][4]
    assert (table["id"], table.pop("rows")) == ("7.2.5", 5)
    assert new == old


def test_the_example_passes_check_layout() -> None:
    result = invoke(["check-layout", str(EXAMPLE)])
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------------------------
# The walkthrough
# --------------------------------------------------------------------------------------------


def test_the_walkthrough_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "layouts").mkdir()
    shutil.copy(BUNDLED, tmp_path / "layouts" / BUNDLED.name)
    shutil.copy(ROSTER, tmp_path / "roster.csv")
    monkeypatch.chdir(tmp_path)
    codes = roster_codes()
    steps = commands()
    verbs = [argv[1] if argv[0] == "pmqa-xlsx" else argv[0] for argv in steps]
    assert verbs == ["cp", "cp", "check-layout", "check-layout", "generate", "check", "merge",
                     "check", "merge", "merge"], steps
    ran: list[tuple[list[str], Result | None]] = []
    for argv in steps:
        if any(LAST_YEAR in arg for arg in argv) and not (tmp_path / LAST_YEAR).exists():
            # last year's returns, made from last year's layout
            generate_roster(load_layout(BUNDLED), ROSTER, tmp_path / "issued-2562",
                            generated_at=FIXED_TIME, jobs=1)
            fill_folder(BUNDLED, tmp_path / "issued-2562", tmp_path / LAST_YEAR)
        if argv[0] == "cp":
            assert len(argv) == 3, argv
            shutil.copyfile(argv[1], argv[2])
            if argv[2] == NEW:  # the person edits it: the doc's changes
                shutil.copyfile(EXAMPLE, NEW)
            ran.append((argv, None))
            continue
        assert argv[0] == "pmqa-xlsx", argv
        result = invoke(argv[1:])
        ran.append((argv, result))
        if argv[1] == "generate":
            assert result.exit_code == 0, result.output
            # the agencies fill their workbooks in and send them back
            assert fill_folder(tmp_path / NEW, tmp_path / OUT, tmp_path / RETURNS) == len(codes)

    def outcome(i: int) -> Result:
        result = ran[i][1]
        assert result is not None
        return result

    def layout_checked() -> None:  # 3. check-layout
        assert outcome(2).exit_code == 0, outcome(2).output
        assert "ok (pmqa4-cat3-cat7.2 2563.1," in outcome(2).output

    def layout_compared() -> None:  # 3. against last year's: the version changed with it
        assert outcome(3).exit_code == 0, outcome(3).output
        assert "warn" not in outcome(3).output.lower(), outcome(3).output

    def generated() -> None:  # 4. one workbook per agency and the manifest
        assert sorted(p.name for p in (tmp_path / OUT).iterdir()) == sorted(
            [*(f"{c}.xlsx" for c in codes), "manifest.csv"])

    def checked() -> None:  # 6. every return ok
        assert outcome(5).exit_code == 0, outcome(5).output
        assert outcome(5).output.count(": ok (agency ") == len(codes), outcome(5).output

    def merged() -> None:  # 7. the round is the layout's, every agency counted
        assert outcome(6).exit_code == 0, outcome(6).output
        assert f"  returned (counted)  {len(codes):>6}   (0 with warnings)" in outcome(6).output
        assert (tmp_path / "merged.xlsx").is_file()

    def both_checked() -> None:  # 8. each return read with its own layout
        assert outcome(7).exit_code == 0, outcome(7).output
        assert outcome(7).output.count(": ok (agency ") == 2 * len(codes), outcome(7).output

    def round_merged(i: int, year: str, other: str, years: tuple[int, ...]) -> None:
        # 8. that round counted, the other listed as other-round
        assert outcome(i).exit_code in (0, 1), outcome(i).output
        folder = tmp_path / f"csv-{year}"
        returns = read_csv(folder / "returns.csv")
        counted = sorted(r["agency_code"] for r in returns if r["state"] == "ok")
        assert counted == sorted(codes), [(r["file"], r["state"], r["reason_en"]) for r in returns]
        assert all(r["fiscal_year"] == year for r in returns if r["state"] == "ok")
        others = [r for r in returns if r["file"] and Path(r["file"]).parent.name == other]
        assert len(others) == len(codes), returns
        problems = read_csv(folder / "problems.csv")
        flagged = {Path(p["file"]).name for p in problems if p["code"] == "other-round"
                   and Path(p["file"]).parent.name == other}
        assert flagged == {f"{c}.xlsx" for c in codes}, problems
        with (folder / "indicators.csv").open(encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle))
        assert [c for c in header if c.startswith("result_")] == [f"result_{y}" for y in years]

    # Every step is checked, and every step that went wrong is reported, in the doc's order.
    failures = []
    for i, check in ((2, layout_checked), (3, layout_compared), (4, generated), (5, checked),
                     (6, merged), (7, both_checked),
                     (8, lambda: round_merged(8, "2563", LAST_YEAR, (2561, 2562, 2563))),
                     (9, lambda: round_merged(9, "2562", RETURNS, (2560, 2561, 2562)))):
        try:
            check()
        except (AssertionError, OSError) as exc:
            failures.append(f"{shlex.join(ran[i][0])}\n    {type(exc).__name__}: {exc}")
    assert not failures, "\n\n".join(failures)


def test_check_layout_against_warns_when_content_changed_but_not_the_version(
        tmp_path: Path) -> None:
    """The case the walkthrough's ``--against`` is for: next year's rows, last year's
    version."""
    text = EXAMPLE.read_text(encoding="utf-8").replace('version: "2563.1"', 'version: "2562.1"')
    edited = tmp_path / "edited.yaml"
    edited.write_text(text, encoding="utf-8")
    result = invoke(["check-layout", str(edited), "--against", str(BUNDLED)])
    assert result.exit_code == 0, result.output
    assert "version" in result.output and "warn" in result.output.lower(), result.output
