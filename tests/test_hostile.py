"""The reader against files built to hurt it: each is refused or read within bounded time and
memory, and never crashes the process (python-calamine, by contrast, aborts the interpreter
on the first two; FIELD-NOTES). Each case runs in a child process with a memory cap, so that a
regression shows as a failed test, not a dead test run."""

from __future__ import annotations

import resource
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

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


def test_a_cell_at_xfd1048576(base: Path, tmp_path: Path) -> None:
    """7.7 KB files like this one abort python-calamine; here it is a located warning."""
    with zipfile.ZipFile(base) as src:
        sheet = src.read("xl/worksheets/sheet2.xml")
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    path = workbook_with_sheet(base, tmp_path / "far.xlsx",
                               sheet.replace(b"</sheetData>", far + b"</sheetData>"))
    state, codes = read_in_child(path)
    assert "stray-value" in codes


def test_a_sheet_of_a_million_rows(base: Path, tmp_path: Path) -> None:
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i)
                    for i in range(1, 1_000_001))
    path = workbook_with_sheet(base, tmp_path / "rows.xlsx", HEAD + rows + TAIL)
    assert path.stat().st_size < 8_000_000  # a few MB on disk
    state, codes = read_in_child(path)
    assert (state, codes[:1]) == ("rejected", ["zip-bomb"])


def test_too_many_shared_strings(base: Path, tmp_path: Path) -> None:
    strings = b"<sst>" + b"<si><t>a</t></si>" * 250_000 + b"</sst>"
    path = workbook_with_sheet(base, tmp_path / "sst.xlsx", strings, "xl/sharedStrings.xml")
    assert read_in_child(path) == ("rejected", ["zip-bomb"])


def test_member_sizes_that_lie(base: Path, tmp_path: Path) -> None:
    """The zip says a part is small; it inflates to far more. Reading stops at the limit."""
    big = HEAD + b" " * (30 * 1024 * 1024) + TAIL
    path = workbook_with_sheet(base, tmp_path / "liar.xlsx", big)
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet2.xml"
    # patch the declared uncompressed size in the local header and the central directory
    for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            name_len_at = 26 if signature == b"PK\x03\x04" else 28
            name_len = struct.unpack_from("<H", data, start + name_len_at)[0]
            header = 30 if signature == b"PK\x03\x04" else 46
            if bytes(data[start + header: start + header + name_len]) == name:
                struct.pack_into("<I", data, start + size_at, 1000)
            start += 4
    path.write_bytes(bytes(data))
    state, codes = read_in_child(path)
    assert state == "rejected" and codes[0] in ("zip-bomb", "damaged-file")


def test_ten_megabytes_of_text_in_one_cell(base: Path, tmp_path: Path) -> None:
    text = b"\xe0\xb8\x81" * (10 * 1024 * 1024 // 3)  # ก, 10 MB of UTF-8
    strings = b"<sst><si><t>" + text + b"</t></si></sst>"
    path = workbook_with_sheet(base, tmp_path / "text.xlsx", strings, "xl/sharedStrings.xml")
    state, codes = read_in_child(path)
    assert state == "rejected"


def test_the_memory_cap_is_real() -> None:
    """The cap above is what protects the test run: check that it bites."""
    code = (f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, "
            f"{MEMORY_CAP})); b = bytearray({2 * MEMORY_CAP})")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert done.returncode != 0 and b"MemoryError" in done.stderr
    assert resource.RLIMIT_AS  # the limit exists on this platform


def test_a_large_sheet_under_the_limits_is_read_in_bounded_memory(base: Path,
                                                                  tmp_path: Path) -> None:
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i)
                    for i in range(1, 500_001))
    assert len(HEAD + rows + TAIL) < 24 * 1024 * 1024
    path = workbook_with_sheet(base, tmp_path / "large.xlsx", HEAD + rows + TAIL)
    state, codes = read_in_child(path)  # under the 1 GiB cap and the time limit
    assert (state, codes) == ("rejected", ["structure-changed"])
