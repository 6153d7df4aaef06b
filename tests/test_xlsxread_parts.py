"""How the reader gets a part's bytes and counts what is in them, the cheap way, held to the
plain way.

A part is inflated straight from the file's bytes (xlsxread._inflate), and anything out of
the ordinary is left to zipfile: what a part reads as, or why the file is refused, is what
zipfile alone gives, on members whose headers lie about their size or checksum, damaged
deflate data, stored members and a small bomb. The markup in a large part is counted with
numpy (xlsxread._count): the counts are what bytes.count gives."""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pmqa_xlsx import xlsxread

from .package import make_package, sheet_xml

SHEET = "xl/worksheets/sheet1.xml"
ROWS = "".join(f'<row r="{r}"><c r="A{r}"><v>{r * 1.5}</v></c><c r="B{r}" t="inlineStr">'
               f"<is><t>ข้อความ {r}</t></is></c></row>" for r in range(1, 200))


def _package(tmp_path: Path, method: int = zipfile.ZIP_DEFLATED) -> Path:
    """A small workbook whose sheet part is stored with ``method``."""
    path = make_package(tmp_path / "built.xlsx", [("S", sheet_xml(ROWS))])
    out = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info),
                            method if info.filename == SHEET else zipfile.ZIP_DEFLATED)
    return out


def _patch(path: Path, *, crc: int | None = None, size: int | None = None,
           data: bytes | None = None) -> Path:
    """The sheet member's checksum, declared size or compressed bytes replaced, the same in
    its local header and its directory entry (so that the two headers agree)."""
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(SHEET)
        central = archive.start_dir
    start = info.header_offset
    name_len, extra_len = struct.unpack_from("<2H", raw, start + 26)
    body = start + 30 + name_len + extra_len
    if data is not None:
        assert len(data) == info.compress_size
        raw[body:body + len(data)] = data
    while True:  # the member's directory entry
        assert raw[central:central + 4] == b"PK\x01\x02"
        entry_name_len, extra, comment = struct.unpack_from("<3H", raw, central + 28)
        if raw[central + 46:central + 46 + entry_name_len] == SHEET.encode():
            break
        central += 46 + entry_name_len + extra + comment
    for crc_at, size_at in ((start + 14, start + 22), (central + 16, central + 24)):
        if crc is not None:
            struct.pack_into("<L", raw, crc_at, crc)
        if size is not None:
            struct.pack_into("<L", raw, size_at, size)
    path.write_bytes(bytes(raw))
    return path


def _read(path: Path) -> tuple[str, Any]:
    """The sheet part as the reader reads it, or the code and message of its refusal."""
    try:
        with xlsxread.open_package(path) as package:
            return "bytes", package._bytes(SHEET)
    except xlsxread.FileRefused as exc:
        return "refused", (exc.code, exc.message.th, exc.message.en)


def _through_zipfile(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Any]:
    """The same, every part read by zipfile alone (as before _inflate)."""
    with monkeypatch.context() as patched:
        patched.setattr(xlsxread, "_inflate", lambda *args: None)
        return _read(path)


def _inflated(path: Path) -> bytes | None:
    """What _inflate makes of the sheet member."""
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(SHEET)
        starts = xlsxread._check_local_headers(data, archive.infolist(), archive.start_dir)
    return xlsxread._inflate(data, starts[info], info, xlsxread.MAX_MEMBER_BYTES)


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_ordinary_members_are_inflated_directly_as_zipfile_reads_them(
        tmp_path: Path, method: int, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _package(tmp_path, method)
    with zipfile.ZipFile(path) as archive:
        expected = archive.read(SHEET)
    assert _inflated(path) == expected
    assert _read(path) == ("bytes", expected) == _through_zipfile(path, monkeypatch)


def _shorter(path: Path) -> Path:
    """Declared 100 bytes shorter than it is, with the checksum of those bytes: zipfile
    stops at the declared size and finds the checksum right."""
    with zipfile.ZipFile(path) as archive:
        full = archive.read(SHEET)
    return _patch(path, size=len(full) - 100, crc=zlib.crc32(full[:-100]))


def _longer(path: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        full = archive.read(SHEET)
    return _patch(path, size=len(full) + 100)


def _bad_checksum(path: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        crc = archive.getinfo(SHEET).CRC
    return _patch(path, crc=crc ^ 1)


def _damaged_data(path: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(SHEET)
    raw = path.read_bytes()
    start = info.header_offset
    name_len, extra_len = struct.unpack_from("<2H", raw, start + 26)
    body = start + 30 + name_len + extra_len
    data = bytearray(raw[body:body + info.compress_size])
    data[len(data) // 3:len(data) // 3 + 8] = b"\xff" * 8
    return _patch(path, data=bytes(data))


def _bomb(path: Path) -> Path:
    """The sheet replaced by one that inflates to 4 MB and says 20 KB, with the checksum of
    its first 20 KB (what zipfile reads of it)."""
    big = sheet_xml("".join(f'<row r="{r}"><c r="A{r}"><v>1</v></c></row>'
                            for r in range(1, 100_000))).encode()
    out = path.with_name("bomb.xlsx")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, big if info.filename == SHEET else source.read(info),
                            zipfile.ZIP_DEFLATED)
    return _patch(out, size=20_000, crc=zlib.crc32(big[:20_000]))


@pytest.mark.parametrize("edit", [_shorter, _longer, _bad_checksum, _damaged_data, _bomb])
@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_members_whose_headers_lie_read_as_zipfile_reads_them(
        tmp_path: Path, edit: Any, method: int, monkeypatch: pytest.MonkeyPatch) -> None:
    path = edit(_package(tmp_path, method))
    assert _read(path) == _through_zipfile(path, monkeypatch)
    # a member longer than it says, or whose checksum is wrong, is zipfile's to read (a
    # member shorter than it says, with its checksum right, zipfile reads whole as well)
    assert (_inflated(path) is None) == (edit is not _longer)


def test_what_zipfile_makes_of_those_members(tmp_path: Path) -> None:
    """The cases above are the ones meant: zipfile gives a member longer than it says up to
    the size it declares (a bomb's first 20 KB), one shorter whole, and refuses a wrong
    checksum."""
    found = {}
    for edit in (_shorter, _longer, _bad_checksum, _bomb):
        folder = tmp_path / edit.__name__
        folder.mkdir()
        found[edit] = _read(edit(_package(folder)))
    with zipfile.ZipFile(_package(tmp_path)) as archive:
        whole = archive.read(SHEET)
    assert found[_shorter] == ("bytes", whole[:-100])
    assert found[_longer] == ("bytes", whole)
    assert found[_bomb][0] == "bytes" and len(found[_bomb][1]) == 20_000
    kind, (code, _, english) = found[_bad_checksum]
    assert (kind, code) == ("refused", "damaged-file") and "Bad CRC-32" in english


@pytest.mark.parametrize("size", [0, 1, 2, 1000, xlsxread._NUMPY_FROM - 1,
                                  xlsxread._NUMPY_FROM, xlsxread._NUMPY_FROM + 1, 70_000])
def test_counts_are_what_bytes_count_gives(size: int) -> None:
    generator = np.random.default_rng(size)
    # few distinct bytes, so that every needle occurs often, next to itself and at the ends
    for alphabet in (b"<=_x", b"_xx_", b"<<<a", "ก_x=<".encode(), b"<!xm"):
        data = bytes(generator.choice(np.frombuffer(alphabet, np.uint8), size))
        for needle in (b"<", b"=", b"_x", b"xx", b"xmlns", b"<!", b"xm"):
            assert xlsxread._count(data, needle) == data.count(needle), (alphabet, needle)
