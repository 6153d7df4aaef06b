"""The reader's limits themselves: the memory cap the hostile tests rely on is real, and a large
sheet that stays under the limits is read within it. The hostile files (bombs, a far cell,
entities, 10 MB of text...) are the corpus of test_corpus. Each case runs in a child process
with a memory cap, so that a regression shows as a failed test, not a dead test run."""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from xlsxwriter.utility import xl_col_to_name

from pmqa_xlsx import generate_workbook
from pmqa_xlsx.layout import Layout

MEMORY_CAP = 1024 * 1024 * 1024  # 1 GiB for the child that reads the file
TIME_CAP = 60


def read_in_child(path: Path) -> tuple[str, list[str]]:
    """(state, problem codes) of reading ``path`` in a capped child process."""
    code = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, {MEMORY_CAP}))
        from pmqa_xlsx import read_return
        result = read_return({str(path)!r})
        print(result.state, *result.problems["code"].tolist())
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=TIME_CAP, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    state, *codes = done.stdout.split()
    return state, codes


def workbook_with_sheet(base: Path, path: Path, sheet_xml: bytes,
                        member: str = "xl/worksheets/sheet2.xml") -> Path:
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info.filename, sheet_xml if info.filename == member else src.read(info))
    return path


@pytest.fixture(scope="module")
def base(layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "base.xlsx"
    generate_workbook(layout, path)
    return path


HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
        b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
TAIL = b"</sheetData></worksheet>"


def test_the_memory_cap_is_real() -> None:
    """The cap above is what protects the test run: check that it bites."""
    code = (f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, "
            f"{MEMORY_CAP})); b = bytearray({2 * MEMORY_CAP})")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert done.returncode != 0 and b"MemoryError" in done.stderr
    assert resource.RLIMIT_AS  # the limit exists on this platform


def with_extra_cells(base: Path, path: Path, count: int) -> Path:
    """The base workbook with ``count`` values added beside the form in หมวด 3, where only
    stray values go: from row 100 down, 20 a row in columns Z to AS (inside the area the
    reader reads, rows up to 5,000 and columns up to 100)."""
    with zipfile.ZipFile(base) as src:
        sheet = src.read("xl/worksheets/sheet2.xml")
    columns = [xl_col_to_name(25 + k).encode() for k in range(20)]
    extra = b"".join(
        b'<row r="%d">' % row + b"".join(b'<c r="%s%d"><v>1</v></c>' % (col, row)
                                         for col in columns) + b"</row>"
        for row in range(100, 100 + count // 20))
    return workbook_with_sheet(base, path, sheet.replace(b"</sheetData>",
                                                         extra + b"</sheetData>"))


def test_a_sheet_under_the_cell_limit_is_read_and_its_strays_counted(base: Path,
                                                                    tmp_path: Path) -> None:
    """9,000 values beside the form: read within the caps; 20 are listed, the rest counted
    in one problem (a million listed one by one took a gigabyte)."""
    path = with_extra_cells(base, tmp_path / "strays.xlsx", 9_000)
    _, codes = read_in_child(path)  # (a blank form: no agency code, which is an error)
    assert codes.count("stray-value") == 20 and codes.count("many-stray-values") == 1
    assert "too-large" not in codes and "zip-bomb" not in codes


def test_a_sheet_over_the_cell_limit_is_refused(base: Path, tmp_path: Path) -> None:
    path = with_extra_cells(base, tmp_path / "cells.xlsx", 12_000)
    assert read_in_child(path) == ("rejected", ["too-large"])
