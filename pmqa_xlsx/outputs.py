"""Writing files safely: atomic replacement, CSV that cannot inject formulas, the xlsx
package patch for workbook structure protection, and the legacy protection hash.

Every file pmqa_xlsx writes goes through ``atomic_write`` (a temporary file beside the
target, then a rename), so an interrupted run leaves the previous file intact.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

#: Leading characters that make a spreadsheet treat a CSV field as a formula (OWASP).
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, default_mode())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def default_mode() -> int:
    """The mode a new file gets under the current umask (mkstemp's 0600 would keep colleagues
    on a shared folder out)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def csv_safe(value: object) -> str:
    """A CSV field that a spreadsheet shows as text: a leading ``'`` neutralises formulas."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_FORMULA_PREFIXES) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 CSV with a BOM (Excel reads Thai correctly), every field quoted and neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([csv_safe(h) for h in header])
    writer.writerows([csv_safe(v) for v in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def legacy_password_hash(password: str) -> str:
    """Excel's 16-bit protection hash (ECMA-376 Part 4, 14.7.1), as hex.

    It is weak by design: it deters editing, it does not secure anything.
    """
    digest = 0
    for char in reversed(password):
        digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
        digest ^= ord(char)
    digest = ((digest >> 14) & 0x01) | ((digest << 1) & 0x7FFF)
    digest ^= len(password) ^ 0xCE4B
    return f"{digest:X}"


def lock_workbook_structure(package: bytes, password: str | None = None) -> bytes:
    """Add ``<workbookProtection lockStructure="1">`` to an xlsx package.

    xlsxwriter has no API for it. The element goes right before ``<bookViews>``, where the
    schema (CT_Workbook: workbookPr, workbookProtection, bookViews) puts it. Every other part
    is copied byte for byte, in order, with its compression.
    """
    attrs = 'lockStructure="1"'
    if password:
        attrs += f' workbookPassword="{legacy_password_hash(password)}"'
    element = f"<workbookProtection {attrs}/>".encode()
    source = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/workbook.xml":
                if b"<bookViews>" not in data or b"<workbookProtection" in data:
                    raise ValueError("unexpected xl/workbook.xml: cannot add structure lock")
                data = data.replace(b"<bookViews>", element + b"<bookViews>", 1)
            target.writestr(info, data, compress_type=info.compress_type)
    return out.getvalue()
