"""Per-group outputs of a merge (``merge --by COLUMN``): the roster column that groups the
agencies, each group's agencies, a file name for each group that Windows, macOS and Linux can
all hold, and the merged dataset cut down to one group.

A group is the set of roster agencies with one value in the column (``ministry``, or an extra
roster column such as ``ภาค``); agencies with no value there form the group ``ไม่ระบุ``. Every
roster agency is in exactly one group, so each group's dataset holds its agencies' returns,
missing rows included. Rows with no roster agency (a return from an agency not on the roster,
a file whose agency cannot be read) are in no group: they stay in the main workbook only.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from .consolidate import Consolidated
from .errors import PmqaError
from .roster import HEADINGS, Agency, heading_key
from .words import Words

#: The group of agencies with no value in the grouping column.
NO_VALUE = "ไม่ระบุ"

#: Characters Windows does not allow in a file name (and ``/``, which no system allows).
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
#: Names Windows reserves for devices, with or without an extension.
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                       *(f"lpt{i}" for i in range(10))})
#: Bytes of UTF-8 a group's file name may take before ``.xlsx`` (255 is the usual limit of a
#: name; the temporary file beside it adds about 15, a disambiguating ``-N`` a few more).
_NAME_BYTES = 200
_MINISTRY = "ministry"


class GroupError(PmqaError):
    """The grouping column asked for is not in the roster (a usage error on the CLI)."""


def group_column(agencies: Sequence[Agency], column: str) -> str:
    """The roster column ``column`` names: ``ministry`` (also as ``กระทรวง`` or ``สังกัด``) or
    the heading of an extra column, matched as roster headings are (case, spaces, ``_`` and
    ``-`` aside). Raises GroupError naming the columns there are."""
    key = heading_key(column)
    extra = {heading_key(h): h for a in agencies for h, _ in a.extra}
    if key in extra:
        return extra[key]
    if key in {heading_key(h) for h in HEADINGS[_MINISTRY]} and any(a.ministry
                                                                    for a in agencies):
        return _MINISTRY
    known = ([_MINISTRY] if any(a.ministry for a in agencies) else []) + list(
        dict.fromkeys(extra.values()))
    listed = ", ".join(known)
    raise GroupError(Words(
        f"--by: ไม่พบคอลัมน์ '{column}' ในบัญชีรายชื่อหน่วยงาน "
        + (f"คอลัมน์ที่ใช้แบ่งกลุ่มได้คือ {listed}" if known else
           "บัญชีรายชื่อนี้ไม่มีคอลัมน์กระทรวงหรือคอลัมน์อื่นที่ใช้แบ่งกลุ่มได้"),
        f"--by: the roster has no column '{column}'; "
        + (f"the columns to group by are {listed}" if known else
           "it has no ministry column nor any other column to group by")))


def groups_of(agencies: Sequence[Agency], column: str) -> dict[str, tuple[str, ...]]:
    """Each group's value -> the codes of its agencies, groups in the roster's order of their
    first agency; ``column`` as ``group_column`` resolves it. No value is ``NO_VALUE``."""
    resolved = group_column(agencies, column)
    groups: dict[str, list[str]] = {}
    for agency in agencies:
        value = agency.ministry if resolved == _MINISTRY else agency.extras.get(resolved, "")
        groups.setdefault(value.strip() or NO_VALUE, []).append(agency.code)
    return {value: tuple(codes) for value, codes in groups.items()}


def split_by(merged: Consolidated, agencies: Sequence[Agency],
             column: str) -> dict[str, Consolidated]:
    """The merged dataset cut into one dataset per group of ``column`` (``groups_of``)."""
    return {value: merged.subset(codes) for value, codes in groups_of(agencies, column).items()}


def file_names(values: Iterable[str], suffix: str = ".xlsx") -> dict[str, str]:
    """A file name for each value: the value itself where it can be one (Thai kept), each
    character Windows forbids replaced by ``_``, no leading dot (a hidden file) or space, no
    trailing dot or space, a device name (``CON``, ``NUL``...) given a ``_``, cut to a length
    every system holds; names that are one after that (case aside, as Windows and macOS
    compare them) made distinct with ``-2``, ``-3``..."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for value in values:
        stem = safe_stem(value)
        name, n = stem, 1
        while _folded(name) in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(_folded(name))
        names[value] = name + suffix
    return names


def safe_stem(value: str) -> str:
    """``value`` as the stem of a file name (see ``file_names``); never empty."""
    text = _FORBIDDEN.sub("_", unicodedata.normalize("NFC", value))
    text = text.lstrip(". ").rstrip(". ")
    if text.split(".")[0].casefold() in _RESERVED:
        text += "_"
    if len(text.encode("utf-8")) > _NAME_BYTES:
        cut = len(text.encode("utf-8")[:_NAME_BYTES].decode("utf-8", "ignore"))
        while cut > 1 and unicodedata.category(text[cut]) in ("Mn", "Mc"):
            cut -= 1  # keep a Thai vowel or tone mark with its consonant
        text = text[:cut].rstrip(". ")
    return text or "_"


def group_dir(output: str | os.PathLike[str], column: str) -> Path:
    """Where ``merge -o OUTPUT --by COLUMN`` writes the group workbooks by default: a folder
    beside OUTPUT named ``<OUTPUT's stem>-by-<COLUMN>``."""
    path = Path(output)
    return path.with_name(safe_stem(f"{path.stem}-by-{column}"))


def group_paths(directory: str | os.PathLike[str],
                groups: Iterable[str]) -> dict[str, Path]:
    """Each group's workbook in ``directory``, named by ``file_names``."""
    return {value: Path(directory) / name for value, name in file_names(groups).items()}


def _folded(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()
