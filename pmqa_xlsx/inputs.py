"""Which files a check or a merge reads: the files given and every file in the folders given,
each once, each under a name that can be shown and recorded.

This module owns the walk of input folders and the names files go by. The walk is iterative
(``os.scandir``, no recursion, so no depth can exhaust the stack), follows links to folders
but reads each folder once (by ``(st_dev, st_ino)``), and goes at most ``MAX_DEPTH`` folders
below the folder given. Nothing it finds is dropped silently: an entry that cannot be listed
or followed (a folder that cannot be read, a link that loops or points nowhere, a link back
to a folder that holds it, a folder too deep) becomes an ``InputFile`` carrying its problem,
listed among the returns like a refused file, and never opened.

A file's name as shown and recorded (``InputFile.name``, which becomes ``ReadReturn.file``,
the frames' ``file``, and what the terminal, the workbook and the CSV show) is always valid
Unicode: the bytes of a name that are not UTF-8 are written ``\\xff`` (``path_text``), and
a name that would then be another file's too gets `` (2)``. The real path
(``InputFile.path``) is what is opened.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import problems as P
from .problems import Problem
from .words import Words

#: How many folders below a folder given the walk goes; returns sit one or two levels down.
MAX_DEPTH = 32


@dataclass(frozen=True, slots=True)
class InputFile:
    """One entry to read: ``path`` is opened, ``name`` is shown and recorded. An entry with
    a ``problem`` (found by the walk) is listed with it and never opened."""

    path: Path
    name: str
    problem: Problem | None = None

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> InputFile:
        """An entry for a path given as it is."""
        return cls(Path(path), path_text(path))


def path_text(path: str | os.PathLike[str]) -> str:
    """A path as valid Unicode text: bytes that are not UTF-8 (kept by Python as lone
    surrogates) are written as ``\\xNN``, other lone surrogates as ``\\udNNN``."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = os.fsencode(text)
    except UnicodeEncodeError:  # a surrogate no file system name could have made
        raw = text.encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace")


def collect(inputs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
            exclude: Iterable[str | os.PathLike[str]] = ()) -> list[InputFile]:
    """Files as given, and every file inside given folders (sorted), each once.

    Nothing inside a folder is skipped, so a stray file is listed rather than silently
    ignored; only ``exclude`` (files, or folders and all below them: the merge's own outputs)
    is left out. A folder reached a second way (a link to it) is read once, under its first
    path in name order.
    """
    if isinstance(inputs, str | os.PathLike):
        inputs = [inputs]
    excluded = [Path(e).resolve() for e in exclude]
    folders: set[tuple[int, int]] = set()
    found: list[tuple[Path, Problem | None]] = []
    for item in inputs:
        path = Path(item)
        try:
            status = path.stat()
        except OSError as exc:
            found.append((path, _link_problem(path, exc)))
            continue
        if stat.S_ISDIR(status.st_mode):
            found.extend(sorted(_walk(path, status, folders), key=lambda e: e[0]))
        else:
            found.append((path, None))
    entries: list[InputFile] = []
    seen: set[Path] = set()
    names: set[str] = set()
    for path, problem in found:
        key = _resolved(path)
        if key in seen or any(key == e or e in key.parents for e in excluded):
            continue
        seen.add(key)
        name = base = path_text(path)
        copies = 1
        while name in names:  # only names made valid text can meet another file's
            copies += 1
            name = f"{base} ({copies})"
        names.add(name)
        if problem is not None:
            problem = _named(problem, name)
        entries.append(InputFile(path, name, problem))
    return entries


# --------------------------------------------------------------------------------------------
# Private: the walk
# --------------------------------------------------------------------------------------------


def _walk(root: Path, status: os.stat_result,
          folders: set[tuple[int, int]]) -> list[tuple[Path, Problem | None]]:
    """Every entry below ``root``, depth first, without recursion: (path, None) for a file to
    read, (path, problem) for an entry listed but not opened."""
    key = (status.st_dev, status.st_ino)
    if key in folders:
        return []  # given twice, or inside another folder given
    folders.add(key)
    out: list[tuple[Path, Problem | None]] = []
    # the folders that hold root count as above it too: a link to one leads round
    above = frozenset({key, *_keys(Path(os.path.realpath(root)).parents)})
    stack: list[tuple[Path, int, frozenset[tuple[int, int]]]] = [(root, 0, above)]
    while stack:
        folder, depth, above = stack.pop()
        try:
            with os.scandir(folder) as listing:
                children = sorted(listing, key=lambda e: e.name)  # the same walk every time
        except OSError as exc:
            out.append((folder, _problem("unreadable-folder", why=_reason(exc))))
            continue
        for child in children:
            path = folder / child.name
            try:
                is_folder = child.is_dir()  # follows links
            except OSError:
                is_folder = False
            if not is_folder:
                out.append((path, _dangling(path, child)))
                continue
            try:
                target = child.stat()
            except OSError as exc:
                out.append((path, _problem("unreadable-folder", why=_reason(exc))))
                continue
            key = (target.st_dev, target.st_ino)
            if key in above:
                out.append((path, _problem("folder-loop",
                                           target=path_text(os.path.realpath(path)))))
            elif key in folders:
                continue  # a second way to a folder already read: read once
            elif depth + 1 > MAX_DEPTH:
                out.append((path, _problem("too-deep", depth=depth + 1, limit=MAX_DEPTH,
                                           root=path_text(root))))
            else:
                folders.add(key)
                stack.append((path, depth + 1, above | {key}))
    return out


def _keys(folders: Iterable[Path]) -> set[tuple[int, int]]:
    keys = set()
    for folder in folders:
        try:
            status = folder.stat()
        except OSError:
            continue
        keys.add((status.st_dev, status.st_ino))
    return keys


def _dangling(path: Path, entry: os.DirEntry[str]) -> Problem | None:
    """The problem of a link that leads to nothing (or round in a loop), else None."""
    try:
        if not entry.is_symlink():
            return None
        os.stat(path)
    except OSError as exc:
        return _link_problem(path, exc)
    return None


def _link_problem(path: Path, exc: OSError) -> Problem | None:
    """A given path or an entry that cannot be followed: a broken link is listed as one; any
    other failure is left to the reader, which names it."""
    if not path.is_symlink():
        return None
    return _problem("broken-link", target=path_text(_target(path)), why=_reason(exc))


def _target(path: Path) -> Path:
    try:
        return Path(os.readlink(path))
    except OSError:
        return path


def _reason(exc: OSError) -> Words:
    """Why an entry cannot be followed, to end "a link to X, which ..." (and "it ...")."""
    if exc.errno == errno.ELOOP:
        return Words("วนเป็นลิงก์ต่อกันไม่สิ้นสุด", "leads round in a loop of links")
    if exc.errno == errno.ENOENT:
        return Words("ไม่มีอยู่แล้ว", "does not exist")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return Words("ไม่มีสิทธิ์เปิด", "may not be opened (permission denied)")
    if exc.errno == errno.ENAMETOOLONG:
        return Words("มีชื่อเต็มยาวเกินกว่าที่ระบบรับได้", "has a path too long for the system")
    reason = exc.strerror or type(exc).__name__
    return Words(f"เปิดไม่ได้ ({reason})", reason)


def _problem(code: str, **fields: Any) -> Problem:
    return P.make(code, file=None, **fields)


def _named(problem: Problem, name: str) -> Problem:
    return replace(problem, file=name, agency_code=None, sheet=None, cell=None)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a loop of links: the path itself is the key
        return path.absolute()
