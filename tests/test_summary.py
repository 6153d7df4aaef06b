"""The consolidated workbook's summary sheet: returns by ministry (with --deadline), items by
status, scores, data quality; its number formats, chart categories and print setup."""

from __future__ import annotations

import re
import shutil
import statistics
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from pmqa_xlsx import consolidate, generate_roster
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.cli import main
from pmqa_xlsx.consolidate import COUNTED, STATE_WORDS, STATES, Consolidated
from pmqa_xlsx.layout import ChecklistSheet, Layout
from pmqa_xlsx.libreoffice import convert
from pmqa_xlsx.report import write_workbook
from pmqa_xlsx.roster import Agency, load_roster
from pmqa_xlsx.summary import (
    FORMATS,
    NO_MINISTRY,
    DeadlineError,
    category_label,
    distribution,
    on_time,
    parse_deadline,
)

from .fill import fill
from .ooxml import only_sheet

ISSUED = datetime(2026, 1, 1, tzinfo=UTC)
DEADLINE_BE = "2569-03-31"
#: agency code -> (ministry, when its return was last saved; None: it returns nothing).
#: 10001's time has no zone: 23:30 Thai time on the deadline day (on time); 10002's is
#: 00:30 Thai time the day after (late); 30001 saved in Thai time on the day (on time).
AGENCIES: dict[str, tuple[str, str | None]] = {
    "10001": ("กระทรวงการคลัง", "2026-03-31T23:30:00"),
    "10002": ("กระทรวงการคลัง", "2026-03-31T17:30:00Z"),
    "10003": ("กระทรวงการคลัง", None),
    "20001": ("กระทรวงมหาดไทย", "2026-03-01T09:00:00Z"),
    "20002": ("กระทรวงมหาดไทย", "2026-04-10T09:00:00Z"),
    "30001": ("กระทรวงสาธารณสุข", "2026-03-31T10:00:00+07:00"),
    "40001": ("", "2026-03-15T09:00:00Z"),
    "40002": ("", None),
}


def _set_modified(path: Path, when: str) -> None:
    """Rewrite the workbook's saved time (docProps/core.xml dcterms:modified), as Excel
    would have stored it."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + when.encode() + rb"\g<2>", data)
            dst.writestr(item, data)
    tmp.replace(path)


@pytest.fixture(scope="module")
def round_dir(layout: Layout, cellmap: CellMap, tmp_path_factory: pytest.TempPathFactory
              ) -> Path:
    root = tmp_path_factory.mktemp("summary")
    roster = root / "roster.csv"
    lines = ["agency_code,agency_name,ministry"]
    lines += [f"{code},กรมที่ {code},{ministry}" for code, (ministry, _) in AGENCIES.items()]
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    generate_roster(layout, roster, root / "sent", generated_at=ISSUED)
    (root / "returns").mkdir()
    for code, (_, when) in AGENCIES.items():
        if when is None:
            continue
        target = root / "returns" / f"{code}.xlsx"
        fill(cellmap, root / "sent" / f"{code}.xlsx", target)
        _set_modified(target, when)
    shutil.copy(root / "returns" / "20001.xlsx", root / "returns" / "20001-copy.xlsx")
    return root


@pytest.fixture(scope="module")
def merged(round_dir: Path) -> tuple[Path, Consolidated]:
    out = round_dir / "out.xlsx"
    result = CliRunner().invoke(main, ["merge", str(round_dir / "returns"), "--roster",
                                       str(round_dir / "roster.csv"), "-o", str(out),
                                       "--deadline", DEADLINE_BE])
    assert result.exit_code in (0, 1), result.output
    return out, consolidate([round_dir / "returns"], roster=round_dir / "roster.csv")


def _summary_rows(path: Path) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(path)
    return [tuple(r) for r in book["summary"].iter_rows(values_only=True)]


def _section(rows: list[tuple[Any, ...]], title_start: str) -> list[tuple[Any, ...]]:
    """The rows of the table under a section title: from its header to the first blank row,
    the header as written again at the top of each page the table goes on to left out."""
    start = next(i for i, r in enumerate(rows) if str(r[0] or "").startswith(title_start))
    header = next(i for i in range(start + 1, len(rows))
                  if str(rows[i][0] or "").startswith(("กระทรวง", "ข้อ", "หน่วยงาน", "รายการ")))
    body = [rows[header]]
    for row in rows[header + 1:]:
        if all(v is None for v in row):
            break
        if row != rows[header]:
            body.append(row)
    return body


def test_returns_by_ministry_match_the_returns_frame(merged: tuple[Path, Consolidated],
                                                     round_dir: Path) -> None:
    out, result = merged
    roster = load_roster(round_dir / "roster.csv")
    deadline_end = datetime(2026, 3, 31, 17, 0, tzinfo=UTC)  # midnight in Thailand, UTC+7
    ministry = {a.code: a.ministry or NO_MINISTRY for a in roster}
    counted = result.returns[result.returns["state"].isin(COUNTED)]
    expected: dict[str, list[int]] = {}
    for agency in roster:
        expected.setdefault(ministry[agency.code], [0, 0, 0, 0])[0] += 1
    for code, modified in zip(counted["agency_code"], counted["modified"], strict=True):
        saved = pd.Timestamp(modified)
        saved = saved.tz_localize("Asia/Bangkok") if saved.tzinfo is None else saved
        line = expected[ministry[code]]
        line[1] += 1
        line[2 if saved < pd.Timestamp(deadline_end) else 3] += 1
    body = _section(_summary_rows(out), "1.")
    header, lines = body[0], body[1:]
    assert header[0] == "กระทรวง / Ministry"
    assert "จำนวนแบบฟอร์มที่ส่งคืน / Returns" in header
    got = {r[0]: (r[2], r[3], r[4], r[5], r[6], r[7], r[8]) for r in lines}
    want = {m: (n, k, on, late, 0, n - k, k / n) for m, (n, k, on, late) in expected.items()}
    total = [sum(v[i] for v in expected.values()) for i in range(4)]
    want = {m: want[m] for m in sorted(want, key=lambda m: m == NO_MINISTRY)}
    want["รวม"] = (total[0], total[1], total[2], total[3], 0, total[0] - total[1],
                   total[1] / total[0])
    assert list(got) == list(want)
    for key, line in want.items():
        assert got[key] == pytest.approx(line), key
    assert list(got)[-2:] == [NO_MINISTRY, "รวม"]  # no ministry last, then the totals
    assert got["กระทรวงการคลัง"][2:4] == (1, 1)  # the zoneless time is Thai time: on time


def test_each_by_workbook_summarises_its_own_agencies(round_dir: Path, tmp_path: Path
                                                      ) -> None:
    out = tmp_path / "out.xlsx"
    result = CliRunner().invoke(main, ["merge", str(round_dir / "returns"), "--roster",
                                       str(round_dir / "roster.csv"), "-o", str(out),
                                       "--deadline", "2026-03-31", "--by", "ministry"])
    assert result.exit_code in (0, 1), result.output
    books = sorted((tmp_path / "out-by-ministry").glob("*.xlsx"))
    ministries = {m for m, _ in AGENCIES.values() if m}
    checked = set()
    for book in books:
        lines = _section(_summary_rows(book), "1.")[1:]
        names = [r[0] for r in lines[:-1]]
        if not names:
            continue
        (name,) = names  # one ministry in each
        agencies = [c for c, (m, _) in AGENCIES.items() if (m or NO_MINISTRY) == name]
        returned = [c for c in agencies if AGENCIES[c][1] is not None]
        assert lines[0][2] == lines[-1][2] == len(agencies), book.name
        assert lines[0][3] == len(returned), book.name
        checked.add(name)
    assert ministries <= checked


def test_deadline_in_be_or_ce_is_the_same_day() -> None:
    assert parse_deadline("2569-03-31") == parse_deadline("2026-03-31") == date(2026, 3, 31)
    for bad in ("31/03/2569", "2569-02-30", "soon", ""):
        with pytest.raises(DeadlineError) as info:
            parse_deadline(bad)
        assert "ปปปป-ดด-วว" in info.value.words.th
    assert on_time("2026-03-31T16:59:59Z", date(2026, 3, 31)) is True
    assert on_time("2026-03-31T17:00:00Z", date(2026, 3, 31)) is False
    assert on_time(None, date(2026, 3, 31)) is None
    assert on_time("not a time", date(2026, 3, 31)) is None


def test_bad_deadline_is_a_thai_usage_error(round_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    result = CliRunner().invoke(main, ["merge", str(round_dir / "returns"), "-o", str(out),
                                       "--deadline", "31/03/2569"])
    assert result.exit_code == 2
    assert "--deadline" in result.output and "ปปปป-ดด-วว" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_status_shares_are_of_counted_agencies(merged: tuple[Path, Consolidated],
                                               layout: Layout) -> None:
    out, result = merged
    counted = int(result.returns["state"].isin(COUNTED).sum())
    status = result.answers[result.answers["kind"] == "status"]
    labels = list(layout.status_labels())
    body = _section(_summary_rows(out), "2.")
    assert body[0][2:2 + len(labels)] == tuple(labels)
    assert len(body) - 1 == status["item_id"].nunique()
    for row in body[1:]:
        item = str(row[0]).removeprefix("ข้อ ")
        values = status[status["item_id"].astype(str) == item]["value"].astype(str)
        for col, label in enumerate(labels, start=2):
            assert row[col] == pytest.approx((values == label).sum() / counted)
        assert sum(row[2:2 + len(labels) + 1]) == pytest.approx(1.0)


def test_scores_ranked_with_robust_statistics(merged: tuple[Path, Consolidated]) -> None:
    out, result = merged
    rows = _summary_rows(out)
    body = _section(rows, "3.")
    neg = float("-inf")
    keys = [(neg if r[4] is None else r[4], neg if r[5] is None else r[5]) for r in body[1:]]
    assert len(keys) == len(result.scores) and keys == sorted(keys, reverse=True)
    # equal scores share a rank, the next skips as many (the agencies' pages' rule)
    assert [r[2] for r in body[1:]] == [1 + sum(k > key for k in keys) for key in keys]
    scores = result.scores
    sums = [c for c in scores.columns if c.startswith("score_sum_")]
    values = [sum(float(row[c]) for c in sums if not pd.isna(row[c]))
              / sum(int(row["scored_" + c[10:]]) for c in sums if not pd.isna(row[c]))
              for _, row in scores.iterrows()]
    assert [r[5] for r in body[1:]] == pytest.approx(sorted(values, reverse=True))
    stats = {str(r[0]).split(" / ")[1]: r[5] for r in rows
             if str(r[0] or "").split(" / ")[-1] in ("Mean", "Median", "Q1", "Q3")}
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    assert stats == pytest.approx({"Mean": statistics.fmean(values), "Median": median,
                                   "Q1": q1, "Q3": q3})


def test_distribution_against_statistics() -> None:
    values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]
    got = distribution([*values, None])
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    assert got == pytest.approx({"n": len(values), "mean": statistics.fmean(values),
                                 "min": min(values), "q1": q1, "median": median, "q3": q3,
                                 "max": max(values)})
    assert distribution([])["median"] is None


def test_data_quality_counts(merged: tuple[Path, Consolidated]) -> None:
    out, result = merged
    body = _section(_summary_rows(out), "4.")
    got = {str(r[0]).split(" / ")[-1]: r[2] for r in body[1:]}
    states = result.returns["state"].value_counts()
    for state in STATES:
        assert got[STATE_WORDS[state].en] == states.get(state, 0), state
    assert got["duplicate"] == 1 and got["missing"] == 2
    details = result.problems[result.problems["code"] == "details-required"]
    assert got["Agencies with done-without-details"] == details["file"].nunique()
    assert got["Warnings"] == (result.problems["severity"] == "warning").sum()
    assert got["Implausible indicators to check (sheet implausible)"] == len(result.implausible)


def _parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as package:
        return {n: package.read(n).decode() for n in package.namelist() if n.endswith(".xml")}


def test_number_formats_show_right(merged: tuple[Path, Consolidated]) -> None:
    out, _ = merged
    parts = _parts(out)
    assert "#,##0.##" not in parts["xl/styles.xml"]
    book = openpyxl.load_workbook(out)
    used = {c.number_format for row in book["summary"].iter_rows() for c in row
            if isinstance(c.value, int | float)}
    assert used and used <= set(FORMATS.values())
    fonts = {c.font.name for row in book["summary"].iter_rows() for c in row if c.value}
    assert fonts == {"TH Sarabun New"}


def test_chart_categories_are_text_with_a_cache(merged: tuple[Path, Consolidated]) -> None:
    out, _ = merged
    charts = [x for n, x in _parts(out).items() if n.startswith("xl/charts/chart")]
    assert len(charts) >= 2
    for xml in charts:
        cats = re.findall(r"<c:cat>(.*?)</c:cat>", xml, re.S)
        assert cats
        for cat in cats:
            assert "<c:strRef>" in cat and "<c:numRef>" not in cat
            count = int(re.search(r'<c:strCache><c:ptCount val="(\d+)"', cat).group(1))
            assert count > 0 and len(re.findall(r"<c:pt ", cat)) == count
    assert category_label("2024", "กระทรวง") == "กระทรวง 2024"
    assert category_label("กระทรวงการคลัง", "กระทรวง") == "กระทรวงการคลัง"


def test_print_setup(merged: tuple[Path, Consolidated], layout: Layout) -> None:
    out, _ = merged
    parts = _parts(out)
    sheet = parts["xl/worksheets/sheet1.xml"]
    setup = re.search(r"<pageSetup [^>]*>", sheet).group(0)
    assert 'paperSize="9"' in setup and 'fitToHeight="0"' in setup
    assert 'orientation="landscape"' in setup
    assert '<pageSetUpPr fitToPage="1"/>' in sheet
    # a page break before each later section, and a blank row between the sheet's title
    # repeated on the page and the section's title, as on the first page
    breaks = {int(b) for b in re.findall(r'<brk id="(\d+)"', sheet)}
    rows = _summary_rows(out)
    titles = [n for n, row in enumerate(rows) if re.match(r"[234]\. ", str(row[0] or ""))]
    assert len(titles) == 2 + sum(isinstance(p, ChecklistSheet) for p in layout.sheets)
    assert {n - 1 for n in titles} <= breaks
    assert all(all(v is None for v in rows[n - 1]) for n in titles)
    assert all(v is None for v in rows[1]) and str(rows[2][0]).startswith("1. ")
    assert re.search(r'<definedName name="_xlnm.Print_Titles" localSheetId="0">'
                     r"summary!\$1:\$1</definedName>", parts["xl/workbook.xml"])


def _many(result: Consolidated, copies: int) -> Consolidated:
    """The counted returns copied under new codes, to see the summary of a large round."""
    counted = result.returns[result.returns["state"].isin(COUNTED)]
    returns, scores, answers = [], [], []
    for n in range(copies):
        for code in counted["agency_code"]:
            new = f"{n:03d}{code}"
            returns.append(counted[counted["agency_code"] == code].assign(
                agency_code=new, file=f"{new}.xlsx"))
            scores.append(result.scores[result.scores["agency_code"] == code].assign(
                agency_code=new, file=f"{new}.xlsx"))
            answers.append(result.answers[result.answers["agency_code"] == code].assign(
                agency_code=new, file=f"{new}.xlsx"))
    return Consolidated(answers=pd.concat(answers), indicators=result.indicators.iloc[:0],
                        problems=result.problems.iloc[:0], returns=pd.concat(returns),
                        scores=pd.concat(scores), layouts=result.layouts)


@pytest.mark.libreoffice
def test_summary_prints_on_few_pages(merged: tuple[Path, Consolidated], layout: Layout,
                                     soffice: str, tmp_path: Path) -> None:
    _, result = merged
    big = _many(result, 34)  # 6 counted returns each: 204 agencies
    path = tmp_path / "big.xlsx"
    write_workbook(big, path, [layout])
    pdf = convert(only_sheet(path, "summary", tmp_path), tmp_path, "pdf")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    # at most three pages for each of the four sections, and for each checklist five more
    # for its table and its chart (the bundled layout's 19 topics wrap to up to four lines:
    # five pages at the scale of the columns A:F, each with the table's header)
    charts = sum(isinstance(part, ChecklistSheet) for part in layout.sheets)
    assert 1 <= pages <= 3 * 4 + 5 * charts


#: Tables longer than a page: 45 ministries (with and without a deadline: nine columns or
#: six, so two scales), the bundled layout's wrapped topics, a ranked list with its cuts.
def _long_tables(result: Consolidated, path: Path, deadline: date | None,
                 ministries: int = 45, long_names: bool = False) -> Path:
    big = _many(result, 40)
    codes = list(big.returns["agency_code"].astype(str))
    long = "กระทรวงการอุดมศึกษา วิทยาศาสตร์ วิจัยและนวัตกรรม และการพัฒนาทรัพยากรมนุษย์ "
    roster = [Agency(code=c, name=f"กรม {c}", ministry=(long if long_names and i % 2 else "")
                     + f"กระทรวงที่ {i % ministries}") for i, c in enumerate(codes)]
    write_workbook(big, path, list(result.layouts), roster=roster, deadline=deadline)
    return path


#: The first cell of each table's header row, as written at the top of the table.
_HEADS = ("กระทรวง / Ministry", "ข้อ / ประเด็น / Item", "หน่วยงาน / Agency",
          "การกระจายของคะแนน / Distribution", "รายการ / What")


@pytest.mark.parametrize(("deadline", "ministries", "long_names"),
                         [(None, 45, False), (date(2026, 3, 31), 45, False), (None, 17, True),
                          (date(2026, 3, 31), 17, True)])
def test_a_table_longer_than_a_page_has_its_header_on_each_page(
        merged: tuple[Path, Consolidated], tmp_path: Path, deadline: date | None,
        ministries: int, long_names: bool) -> None:
    from pmqa_xlsx.summary import page_points

    _, result = merged
    path = _long_tables(result, tmp_path / "long.xlsx", deadline, ministries, long_names)
    sheet = _parts(path)["xl/worksheets/sheet1.xml"]
    breaks = sorted(int(b) for b in re.findall(r'<brk id="(\d+)"', sheet))
    rows = _summary_rows(path)
    # each break (a row index, 0-based) is before a section's title or, inside a table,
    # before the table's header row written again
    table_of: dict[int, int] = {}  # row -> the row of its table's header
    current = None
    for n, row in enumerate(rows):
        first = str(row[0] or "")
        if re.match(r"\d\. ", first) or all(v is None for v in row):
            current = None
        elif first in _HEADS and (current is None or rows[current] != row):
            current = n
        table_of[n] = current if current is not None else -1
    # a break is before a section's title, a chart (on a page of its own: a blank row), or
    # a table's header written again, where the table goes on
    repeated = [b for b in breaks if str(rows[b][0] or "") in _HEADS and table_of[b] != b]
    assert len(repeated) >= (4 if ministries > 20 else 2)  # the ministries, the topics...
    for b in breaks:
        assert re.match(r"\d\. ", str(rows[b][0] or "")) or all(
            v is None for v in rows[b]) or str(rows[b][0] or "") in _HEADS, b
    for b in repeated:
        head = table_of[b]
        assert head >= 0 and head != b and rows[b] == rows[head], b
    assert {str(rows[b][0]) for b in repeated} >= set(_HEADS[1:3])
    assert (ministries < 20) or _HEADS[0] in {str(rows[b][0]) for b in repeated}
    # every printed page's rows fit the page (the estimate at the scale of its columns)
    heights = {int(r) - 1: float(h) for r, h in
               re.findall(r'<row r="(\d+)"[^>]*\sht="([\d.]+)"', sheet)}
    default = float(re.search(r'defaultRowHeight="([\d.]+)"', sheet).group(1))
    page = page_points(9 if deadline else 6)
    charted = [int(r) for r in re.findall(r"<xdr:from><xdr:col>0</xdr:col><xdr:colOff>\d+"
                                          r"</xdr:colOff><xdr:row>(\d+)</xdr:row>",
                                          _parts(path)["xl/drawings/drawing1.xml"])]
    assert len(charted) == 2
    for start, end in zip([0, *breaks], [*breaks, len(rows)], strict=True):
        title = heights.get(0, default) if start else 0.0  # the title, repeated on the page
        used = title + sum(heights.get(r, default) for r in range(start, end))
        if not any(start <= r < end for r in charted):  # a chart's page: its own check
            assert used <= page, (start, end, used, page)
    # the charts plot the tables' rows and never a header written again
    charts = [x for n, x in _parts(path).items() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2
    for xml in charts:
        for ref, cache in re.findall(r"<c:cat><c:strRef><c:f>([^<]*)</c:f>(.*?)</c:cat>", xml,
                                     re.S):
            areas = re.findall(r"summary!\$A\$(\d+):\$A\$(\d+)|summary!\$A\$(\d+)(?![:\d])",
                               ref)
            cells = [r - 1 for a, b, one in areas
                     for r in (range(int(a), int(b) + 1) if a else [int(one)])]
            assert len(areas) > 1 and ref.startswith("(") and ref.endswith(")")
            count = int(re.search(r'<c:ptCount val="(\d+)"', cache).group(1))
            assert len(cells) == count == len(set(cells))
            assert not set(cells) & set(repeated)
            labels = [str(rows[r][0]) for r in cells]
            assert all(label.startswith(("กระทรวง", "ข้อ ")) for label in labels), labels
            assert cells == sorted(cells) and cells[-1] - cells[0] + 1 == count + len(
                [b for b in repeated if cells[0] < b < cells[-1]])


def test_a_blank_row_never_runs_past_a_page_and_a_row_is_never_taller_than_excel_allows(
        tmp_path: Path) -> None:
    """The blank row before a chart or a table goes to the top of the next page when it and
    what follows do not both fit (alone at the foot of a page, Excel would print it on a page
    of its own); a row is at most 409.5 points, Excel's limit (a longer text is cut)."""
    import xlsxwriter

    from pmqa_xlsx import summary

    with xlsxwriter.Workbook(tmp_path / "s.xlsx") as book:
        writer = summary._Writer(book, book.add_worksheet("summary"))
        writer.title()
        line = summary.lines_height(1, 14)
        while writer.used() + 2 * line <= writer.page:  # the page filled to within two lines
            writer.height(writer.row, line)
            writer.row += 1
        room = writer.page - writer.used()
        assert line <= room < 2 * line
        before = writer.row
        writer._gap(room - line / 2)  # the blank row fits, but not with what follows
        assert writer.breaks == [before] and writer.row == before + 1
        writer._gap(0.0)  # at the top of the page: both fit
        assert writer.breaks == [before] and writer.row == before + 2
        writer.height(writer.row, 2000.0)
        assert writer.heights[writer.row] == 409.5
        tall = writer.row
        writer.finish()
    sheet = _parts(tmp_path / "s.xlsx")["xl/worksheets/sheet1.xml"]
    assert f'<row r="{tall + 1}" ht="409.5" customHeight="1"' in sheet
    assert f'<brk id="{before}"' in sheet


@pytest.mark.libreoffice
@pytest.mark.parametrize("deadline", [None, date(2026, 3, 31)])
def test_every_printed_page_of_a_long_table_shows_its_header(
        merged: tuple[Path, Consolidated], soffice: str, tmp_path: Path,
        deadline: date | None) -> None:
    import subprocess

    _, result = merged
    path = _long_tables(result, tmp_path / "long.xlsx", deadline)
    pdf = convert(only_sheet(path, "summary", tmp_path), tmp_path, "pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    # a table's rows, as printed: a ministry with its counts, an item with its topic, an
    # agency with its code (a chart's axis labels stand alone on their lines)
    kinds = {"ministries": (r"^[ \t]*กระทรวงที่ \d+[ \t]+\d", "จำนวนหน่วยงาน / "),
             "items": (r"^[ \t]*ข้อ \d[\d.a-z]*[ \t]{2,}\S", "ข้อ / ประเด็น / Item"),
             "agencies": (r"^[ \t]*กรม\S*[ \t].*\(\d{8}\)", "หน่วยงาน / Agency")}
    seen = dict.fromkeys(kinds, 0)
    pages_of = dict.fromkeys(kinds, 0)
    for number, page in enumerate(text.split("\f"), start=1):
        for kind, (row, header) in kinds.items():
            found = len(re.findall(row, page, re.M))
            if found:
                assert header in page, (kind, number)
                seen[kind] += found
                pages_of[kind] += 1
    # every page as the writer broke them: none ran past its end to be broken again
    breaks = re.findall(r'<brk id="', _parts(path)["xl/worksheets/sheet1.xml"])
    assert len(text.split("\f")) - 1 == len(breaks) + 1
    assert seen["ministries"] == 45 and pages_of["ministries"] >= 2
    assert pages_of["items"] >= 2 and pages_of["agencies"] >= 2
    assert seen["agencies"] == 20  # the top and the bottom ten, whatever the pages


def _scores_sheet(frame: pd.DataFrame, path: Path) -> list[tuple[Any, ...]]:
    import xlsxwriter

    from pmqa_xlsx import summary

    with xlsxwriter.Workbook(path) as book:
        writer = summary._Writer(book, book.add_worksheet("summary"))
        writer.scores(frame)
        writer.finish()
    return [r for r in openpyxl.load_workbook(path)["summary"].iter_rows(values_only=True)]


@pytest.mark.parametrize("width", [1, 7, 34, 150])
def test_ranked_list_stays_short_whatever_the_ties(tmp_path: Path, width: int) -> None:
    # every score shared by ``width`` agencies (the cuts fall inside ties): the list still
    # shows 2 * RANKED_ALL // 2 agencies, with competition ranks, and a line at each cut
    from pmqa_xlsx.quality import competition_ranks
    from pmqa_xlsx.summary import RANKED_ALL, ranked_excerpt

    n = 200
    scores = [float(100 - i // width) for i in range(n)]
    frame = pd.DataFrame({"agency_code": [f"{i:05d}" for i in range(n)],
                          "agency_name": [f"กรม {i}" for i in range(n)],
                          "ministry": ["กระทรวงหนึ่ง"] * n, "checklist": scores,
                          "score_72": [None] * n})
    rows = _scores_sheet(frame, tmp_path / "s.xlsx")
    listed = [r for r in rows if isinstance(r[0], str) and r[0].startswith("กรม ")]
    half = RANKED_ALL // 2
    ranks = competition_ranks([(s,) for s in scores])
    assert [(r[0], r[2]) for r in listed] == [
        (f"กรม {i} ({i:05d})", ranks[i]) for i in [*range(half), *range(n - half, n)]]
    cuts = [r[0] for r in rows if isinstance(r[0], str) and r[0].startswith("… อีก")]
    expected = []
    for _, more in ranked_excerpt(ranks, half):
        if more is not None:
            rank, count = more
            assert count == sum(1 for i in range(half, n - half) if ranks[i] == rank)
            expected.append(f"… อีก {count:,} หน่วยงานได้ลำดับที่ {rank:,} เท่ากัน")
    assert [c.split(" / ")[0] for c in cuts] == expected
    # a cut line where, and only where, an agency not listed shares the cut's rank
    top_shared = ranks[half] == ranks[half - 1]
    bottom_shared = ranks[n - half - 1] == ranks[n - half]
    assert len(cuts) == top_shared + bottom_shared


def test_printing_the_workbook_prints_the_summary_and_the_answers_readably(
        merged: tuple[Path, Consolidated]) -> None:
    from pmqa_xlsx.report import WORKBOOK_SHEETS
    from pmqa_xlsx.textmetrics import lines_height

    out, _ = merged
    parts = _parts(out)
    sheets = [parts[f"xl/worksheets/sheet{n}.xml"] for n in range(1, len(WORKBOOK_SHEETS) + 1)]
    # the workbook opens on the summary, the only sheet selected: Excel's Print (the active
    # sheets) prints it alone
    assert [bool(re.search(r'<sheetView [^>]*tabSelected="1"', s)) for s in sheets] == [
        name == "summary" for name in WORKBOOK_SHEETS]
    assert 'activeTab="' not in parts["xl/workbook.xml"] or 'activeTab="0"' in parts[
        "xl/workbook.xml"]
    # the answers sheet: landscape at a fixed scale, pages across, its three heading rows
    # and the agency code repeated on every page, rows a line tall
    answers = sheets[WORKBOOK_SHEETS.index("answers")]
    setup = re.search(r"<pageSetup [^>]*>", answers).group(0)
    assert 'orientation="landscape"' in setup and 'paperSize="9"' in setup
    scale = int(re.search(r'scale="(\d+)"', setup).group(1))
    assert 50 <= scale < 100 and 'pageOrder="overThenDown"' in setup
    assert "fitToPage" not in answers
    index = WORKBOOK_SHEETS.index("answers")
    assert re.search(rf'<definedName name="_xlnm.Print_Titles" localSheetId="{index}">'
                     r"answers!\$B:\$B,answers!\$1:\$3</definedName>", parts["xl/workbook.xml"])
    line = lines_height(1, 14)
    assert re.search(rf'<sheetFormatPr defaultRowHeight="{line:g}" customHeight="1"', answers)
    heads = [float(h) for h in re.findall(r'<row r="[123]"[^>]*\sht="([\d.]+)"', answers)]
    assert len(heads) == 3 and all(line <= h <= lines_height(3, 14) for h in heads)


@pytest.mark.libreoffice
def test_every_printed_page_of_answers_has_its_headings_and_the_agency_code(
        merged: tuple[Path, Consolidated], layout: Layout, soffice: str,
        tmp_path: Path) -> None:
    import subprocess

    _, result = merged
    big = _many(result, 8)  # 48 agencies: several bands of rows, many pages across
    path = tmp_path / "big.xlsx"
    write_workbook(big, path, [layout])
    pdf = convert(path, tmp_path, "pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    # the answers sheet's pages, by their footer (the sheet's name and the page)
    pages = [p for p in text.split("\f") if re.search(r"\banswers หน้า \d+", p)]
    codes = set(big.returns["agency_code"].astype(str))
    assert len(pages) > 2
    for number, page in enumerate(pages, start=1):
        words = set(page.split())
        assert "agency_code" in words, number  # the heading rows
        assert re.search(r"\S+!\$?[A-Z]+\$?\d+", page), number  # the cell row of the headings
        assert words & codes, number  # the agency code column
