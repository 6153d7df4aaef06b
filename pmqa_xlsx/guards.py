"""What an output may replace: never an input, the roster, or a link to either; in a folder
``generate --roster`` writes into, only the workbooks it wrote there; at ``generate -o``, only
a blank form.

Outputs never destroy inputs. Before anything is read or written, ``merge_outputs`` checks the
files ``merge -o``, ``--csv`` and ``--parquet`` would write against every input (given on the
command line or found in an input folder) and the roster; ``roster_outputs`` checks the folder
``generate --roster -o`` writes into; ``form_output`` checks the file ``generate -o`` writes.
Two paths are the same file when their resolved paths are, or their ``(st_dev, st_ino)`` are
(a hard link). A refusal is an ``OutputRefused`` saying which output is which input and what
to do; the CLI makes it a usage error (exit 2).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import PmqaError
from .inputs import InputFile, path_text
from .words import Words

if TYPE_CHECKING:
    from .layout import Layout

#: What a spreadsheet application saves, in any format: a folder holding one is not empty.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".xltx", ".xltm", ".xlt", ".ods",
                     ".ots", ".fods", ".numbers")
_MANIFEST_LIMIT = 64 * 1024 * 1024  # bytes of manifest.csv read (8,000 agencies: ~2 MB)
_LISTED = 5  # workbooks a refusal names


class OutputRefused(PmqaError):
    """An output would replace an input, the roster, or a workbook that is not ours."""


@dataclass(frozen=True, slots=True)
class Output:
    """A file a command would write, and the option that names it (for the message)."""

    option: str
    path: Path


def merge_outputs(outputs: Sequence[Output], inputs: Sequence[InputFile],
                  given: Iterable[str | os.PathLike[str]],
                  roster: str | os.PathLike[str] | None) -> set[InputFile]:
    """Refuse (OutputRefused) an output of ``merge`` that is the roster, an input given on the
    command line, or a file found in an input folder, or a link to any of them; the one
    exception is a previous output of the same kind at the same place (a consolidated
    workbook, CSV or Parquet, by its content), which is replaced and not read. Returns those
    inputs, to be left out of the merge."""
    from .report import is_previous_output

    index = _Index(e.path for e in inputs)
    direct = _Index(Path(g) for g in given if not os.path.isdir(g))
    roster_index = _Index([Path(roster)] if roster is not None else [])
    own: set[InputFile] = set()
    by_path = {e.path: e for e in inputs}
    for output in outputs:
        where = f"{output.option} {path_text(output.path)}"
        if os.path.isdir(output.path):
            raise OutputRefused(Words(f"{where} เป็นโฟลเดอร์ กรุณาระบุชื่อไฟล์ที่จะเขียน",
                                      f"{where} is a folder; give the name of a file to write"))
        if roster_index.find(output.path) is not None:
            raise OutputRefused(Words(
                f"{where} คือบัญชีรายชื่อหน่วยงาน {path_text(roster or '')} (หรือลิงก์ไปยังไฟล์นั้น) "
                "ถ้าเขียนทับ บัญชีรายชื่อจะหายไป กรุณาเลือกชื่ออื่น",
                f"{where} is the roster {path_text(roster or '')} (or a link to it); writing "
                "there would destroy it: choose another name"))
        found = direct.find(output.path)
        if found is not None:
            raise OutputRefused(Words(
                f"{where} คือไฟล์ {path_text(found)} ที่ให้มารวมผลในครั้งนี้ (หรือลิงก์ไปยังไฟล์นั้น) "
                "ถ้าเขียนทับ ไฟล์นั้นจะหายไป กรุณาเลือกชื่ออื่น",
                f"{where} is the input {path_text(found)} given to this merge (or a link to "
                "it); writing there would destroy it: choose another name"))
        found = index.find(output.path)
        if found is None:
            continue
        if _same_entry(found, output.path) and is_previous_output(output.path):
            own.add(by_path[found])  # the previous merge's output: replaced, never read
            continue
        raise OutputRefused(Words(
            f"{where} คือ {path_text(found)} ซึ่งอยู่ในโฟลเดอร์ที่ให้มารวมผล (หรือลิงก์ไปยังไฟล์นั้น) "
            "และไม่ใช่ผลจากการรวมผลครั้งก่อน ถ้าเขียนทับ ไฟล์นั้นจะหายไป กรุณาเลือกชื่ออื่น หรือ"
            "ย้ายไฟล์นั้นออกจากโฟลเดอร์",
            f"{where} is {path_text(found)}, found in an input folder (or a link to it), and "
            "not an output of a previous merge; writing there would destroy it: choose "
            "another name, or move that file out of the folder"))
    return own


def roster_outputs(directory: str | os.PathLike[str], names: Sequence[str],
                   roster: str | os.PathLike[str] | None, *, force: bool = False) -> None:
    """Refuse (OutputRefused) to write the files ``names`` into ``directory`` if one is the
    roster or a link to it (even with ``force``), or, unless ``force``, if the folder holds
    a workbook that a previous ``generate`` did not write there: one not listed in its
    ``manifest.csv`` with the same sha256, a filled return perhaps."""
    folder = Path(directory)
    if not folder.is_dir():
        return
    if roster is not None:
        roster_index = _Index([Path(roster)])
        for name in names:
            if roster_index.find(folder / name) is not None:
                raise OutputRefused(Words(
                    f"-o {path_text(folder)}: ไฟล์ {name} จะเขียนทับบัญชีรายชื่อหน่วยงาน "
                    f"{path_text(roster)} (หรือลิงก์ไปยังไฟล์นั้น) กรุณาเขียนแบบฟอร์มลงโฟลเดอร์อื่น",
                    f"-o {path_text(folder)}: {name} would be written over the roster "
                    f"{path_text(roster)} (or a link to it); write the workbooks into another "
                    "folder"))
    if force:
        return
    from .read import never_a_return

    ours = _manifest(folder / "manifest.csv")
    others = []
    with os.scandir(folder) as listing:
        for entry in sorted(listing, key=lambda e: e.name):
            name = entry.name
            if not name.lower().endswith(WORKBOOK_SUFFIXES) or never_a_return(name) \
                    or entry.is_dir():
                continue
            if name in ours and entry.is_file(follow_symlinks=False) \
                    and _sha256(folder / name) == ours[name]:
                continue  # written there by a previous generate, unchanged since
            others.append(path_text(name))
    if others:
        listed = ", ".join(others[:_LISTED])
        more = len(others) - _LISTED
        raise OutputRefused(Words(
            f"-o {path_text(folder)} มีไฟล์แบบฟอร์มที่คำสั่ง generate ไม่ได้เขียนไว้อยู่แล้ว "
            f"({listed}{f' และอีก {more} ไฟล์' if more > 0 else ''}) ซึ่งอาจเป็นแบบฟอร์มที่"
            "หน่วยงานกรอกแล้ว กรุณาเลือกโฟลเดอร์ว่าง หรือใส่ --force เพื่อเขียนไว้ข้าง ๆ "
            "(ไฟล์ที่ชื่อตรงกับหน่วยงานจะถูกเขียนทับ)",
            f"-o {path_text(folder)} already holds workbooks that generate did not write "
            f"there ({listed}{f', and {more} more' if more > 0 else ''}); they may be filled "
            "returns: choose an empty folder, or give --force to write beside them (a workbook "
            "with an agency's file name is then replaced)"))


def form_output(path: str | os.PathLike[str], *, force: bool = False,
                layouts: Sequence[Layout] | None = None) -> None:
    """Refuse (OutputRefused), unless ``force``, to replace a file at ``path`` that is not a
    blank form (a form of ``layouts``, or of the bundled layouts, with nothing typed in it)."""
    target = Path(path)
    if force or not os.path.lexists(target) or target.is_dir():
        return
    from .layout import LayoutsError
    from .read import read_raw

    for known in ((layouts, None) if layouts else (None,)):
        try:
            read = read_raw(target, known)
        except LayoutsError:
            continue  # a bundled layout that does not load: it cannot vouch for the file
        if read.cellmap is not None and any(p.code == "empty-return" for p in read.problems):
            return
    raise OutputRefused(Words(
        f"-o {path_text(target)} มีอยู่แล้วและไม่ใช่แบบฟอร์มเปล่า (มีคำตอบอยู่ หรือเป็นไฟล์อื่น) "
        "ถ้าเขียนลงไปจะแทนที่ไฟล์นั้น กรุณาใช้ชื่ออื่น หรือใส่ --force เพื่อแทนที่",
        f"-o {path_text(target)} already exists and is not a blank form (it holds answers, or "
        "is another file); writing there would replace it: choose another name, or give "
        "--force to replace it"))


# --------------------------------------------------------------------------------------------
# Private
# --------------------------------------------------------------------------------------------


class _Index:
    """Paths by what makes two of them the same file: resolved path, and (st_dev, st_ino)."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self.by_real: dict[str, Path] = {}
        self.by_inode: dict[tuple[int, int], Path] = {}
        for path in paths:
            self.by_real.setdefault(os.path.realpath(path), path)
            key = _inode(path)
            if key is not None:
                self.by_inode.setdefault(key, path)

    def find(self, path: Path) -> Path | None:
        """The indexed path that is the same file as ``path``, if any."""
        found = self.by_real.get(os.path.realpath(path))
        if found is None:
            key = _inode(path)
            found = self.by_inode.get(key) if key is not None else None
        return found


def _same_entry(a: Path, b: Path) -> bool:
    """The same directory entry: the same resolved path, and neither a link."""
    return os.path.realpath(a) == os.path.realpath(b) and not a.is_symlink() \
        and not b.is_symlink()


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return (status.st_dev, status.st_ino)


def _manifest(path: Path) -> dict[str, str]:
    """File name -> sha256 from a previous generate's manifest.csv ({} if none is readable)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(_MANIFEST_LIMIT)
        rows = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        return {row["file"]: row["sha256"] for row in rows if row.get("file")
                and row.get("sha256")}
    except (OSError, UnicodeDecodeError, csv.Error, KeyError):
        return {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
