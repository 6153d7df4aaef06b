"""Writing files safely: atomic replacement, sets of outputs replaced together, the
temporary files of this process, CSV that cannot inject formulas, the xlsx package patch for
workbook structure protection, and the legacy protection hash of a password as Thai Excel
computes it (from its Windows-874 bytes).

Every file pmqa_xlsx writes goes through ``atomic_write`` or an ``OutputSet`` (a temporary
file beside the target, named ``.NAME.XXXX.tmp``, then a rename), so an interrupted run leaves
the previous file intact. Every temporary file or folder a process makes is remembered until
it is gone, so that ``remove_temporaries`` can remove what is left on SIGINT or SIGTERM.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import secrets
import shutil
import signal
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from .errors import PmqaError
from .words import Words

#: Leading characters that make a spreadsheet treat a CSV field as a formula (OWASP).
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all."""
    target = Path(path)
    fd, tmp = new_temporary(target)
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
    finally:
        forget_temporary(tmp)


class OutputSet:
    """Files replaced together or not at all: the outputs of one merge.

    ``stage(target)`` gives a temporary path beside ``target`` to write to. ``commit()`` moves
    every staged file into place, each previous file kept aside (a hard link, else a rename)
    until all are in place; if one move fails, the moves done are undone and the previous
    files put back. SIGINT and SIGTERM wait until the commit is over. Leaving the ``with``
    block without a commit (an error, an interrupt) removes every staged file.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def stage(self, target: str | os.PathLike[str]) -> Path:
        """A new temporary file beside ``target`` (in its folder, so the rename is atomic)."""
        final = Path(target)
        fd, tmp = new_temporary(final)
        try:
            os.fchmod(fd, default_mode())
        finally:
            os.close(fd)
        self._staged.append((Path(tmp), final))
        return Path(tmp)

    def commit(self) -> list[Path]:
        """Move every staged file into place, all or none; returns the targets."""
        targets = [target for _, target in self._staged]
        with _signals_held():
            moved: list[tuple[Path, Path | None]] = []  # (target, previous file kept aside)
            try:
                for tmp, target in self._staged:
                    aside, renamed = _set_aside(target)
                    try:
                        os.replace(tmp, target)
                    except BaseException:
                        if aside is not None and renamed:
                            os.replace(aside, target)
                        elif aside is not None:
                            aside.unlink(missing_ok=True)
                        raise
                    moved.append((target, aside))
            except BaseException:
                for target, aside in reversed(moved):
                    if aside is not None:
                        os.replace(aside, target)
                    else:
                        target.unlink(missing_ok=True)
                raise
            for _, aside in moved:
                if aside is not None:
                    aside.unlink(missing_ok=True)
            for tmp, _ in self._staged:
                forget_temporary(tmp)
            self._staged = []
        return targets

    def discard(self) -> None:
        """Remove every staged file that was not committed."""
        for tmp, _ in self._staged:
            tmp.unlink(missing_ok=True)
            forget_temporary(tmp)
        self._staged = []


def _set_aside(target: Path) -> tuple[Path | None, bool]:
    """Keep the file at ``target`` under a temporary name beside it: (that name, whether the
    file was renamed rather than linked), or (None, False) if there is no file."""
    if not os.path.lexists(target):
        return None, False
    while True:
        aside = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.link(target, aside, follow_symlinks=False)
            return aside, False
        except FileExistsError:
            continue
        except OSError:  # no hard links here (FAT, some network shares): rename it instead
            if os.path.lexists(aside):
                continue
            os.rename(target, aside)
            return aside, True


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM held back for the block (delivered right after it)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


# Temporary files and folders made by this process and not yet removed.
_TEMPORARIES: set[str] = set()


def new_temporary(target: str | os.PathLike[str]) -> tuple[int, str]:
    """A new temporary file beside ``target``, named ``.NAME.XXXX.tmp`` (never read as a
    return), remembered before any signal can end the process: (its descriptor, its path)."""
    final = Path(target)
    with _signals_held():
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        remember_temporary(tmp)
    return fd, tmp


def new_temporary_folder(prefix: str) -> str:
    """A new temporary folder in the system's temporary place, remembered likewise."""
    with _signals_held():
        folder = tempfile.mkdtemp(prefix=prefix)
        remember_temporary(folder)
    return folder


def remember_temporary(path: str | os.PathLike[str]) -> None:
    """Note a temporary file or folder, to be removed by ``remove_temporaries`` if the process
    is interrupted before it is renamed or removed."""
    _TEMPORARIES.add(os.fspath(path))


def forget_temporary(path: str | os.PathLike[str]) -> None:
    """The temporary file or folder is gone (renamed into place, or removed)."""
    _TEMPORARIES.discard(os.fspath(path))


def remove_temporaries() -> None:
    """Remove every temporary file and folder this process made and still has (on SIGINT or
    SIGTERM: a backstop to the ``finally`` blocks that normally do it)."""
    for path in list(_TEMPORARIES):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)
        _TEMPORARIES.discard(path)


def forget_all_temporaries() -> None:
    """In a new worker process: the temporary files it inherited are its parent's."""
    _TEMPORARIES.clear()


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


def number_text(number: float) -> str:
    """A finite number as the CSV outputs write it: a whole number without ``.0`` (108, not
    108.0), any other as Python's shortest exact form (85.5, 1e-07)."""
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 CSV with a BOM (Excel reads Thai correctly), every field quoted and neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([csv_safe(h) for h in header])
    writer.writerows([csv_safe(v) for v in row] for row in rows)
    # a lone surrogate cannot be UTF-8: written as a visible \udcff rather than failing
    return ("\ufeff" + buffer.getvalue()).encode("utf-8", "backslashreplace")


#: The code page Thai Windows converts a protection password to before hashing it (its
#: "ANSI" code page, Windows-874; Python's cp874 is that table).
PASSWORD_CODEPAGE = "cp874"
#: The longest password: Excel's Protect Sheet dialog takes 255 characters, and the hash
#: counts the password's bytes in one byte ([MS-OFFCRYPTO] 2.3.7.1: PasswordArray[0]).
PASSWORD_MAX = 255


class PasswordError(PmqaError):
    """A protection password Thai Excel could not unlock with; ``words`` in Thai and English."""

    words: Words

    def __init__(self, words: Words) -> None:
        self.words = words
        super().__init__(words.th)


def password_bytes(password: str) -> bytes:
    """The bytes Thai Excel hashes for ``password``: its Windows-874 encoding.

    Raises:
        PasswordError: a character Windows-874 has not (an emoji, a Lao or Chinese letter,
            a typographic dash), or more than ``PASSWORD_MAX`` characters.
    """
    try:
        data = password.encode(PASSWORD_CODEPAGE)
    except UnicodeEncodeError as exc:
        bad = password[exc.start]  # the first of them
        raise PasswordError(Words(
            f"--password: รหัสผ่านมีอักขระ {bad!r} (ตัวที่ {exc.start + 1}) ซึ่ง Excel ภาษาไทย"
            "ใช้ไม่ได้ ทำให้ปลดล็อกไม่ได้: ใช้เฉพาะตัวอักษรไทย ตัวอักษรอังกฤษ ตัวเลข และเครื่องหมาย"
            "บนแป้นพิมพ์",
            f"--password: the password has {bad!r} (character {exc.start + 1}), which Thai "
            "Excel cannot take, so the sheets could not be unlocked: use Thai or English "
            "letters, digits and keyboard symbols only")) from None
    if len(data) > PASSWORD_MAX:
        raise PasswordError(Words(
            f"--password: รหัสผ่านยาว {len(password):,} ตัวอักษร แต่ Excel รับได้ไม่เกิน "
            f"{PASSWORD_MAX} ตัวอักษร: ใช้รหัสผ่านที่สั้นลง",
            f"--password: the password is {len(password):,} characters, and Excel takes at "
            f"most {PASSWORD_MAX}: use a shorter one"))
    return data


def legacy_password_hash(password: str) -> str:
    """Excel's 16-bit protection hash of ``password``, as hex: the ``password`` attribute of
    ``<sheetProtection>`` and ``workbookPassword`` of ``<workbookProtection>``.

    As [MS-XLSB]/[MS-XLS] 2.2.9 "Password Verifier Algorithm" specify it: the password is
    first converted to the system's ANSI code page (Windows-874 on Thai Windows:
    ``password_bytes``), then hashed by [MS-OFFCRYPTO] 2.3.7.1 "Binary Document Password
    Verifier Derivation Method 1": over the length and the bytes, last byte first, rotate the
    15-bit value left by one and XOR the byte; finally XOR 0xCE4B. Hashing Unicode code points
    instead (as xlsxwriter does) gives Thai passwords a hash no Thai Excel reproduces.

    It is weak by design: it deters editing, it does not secure anything.

    Raises:
        PasswordError: as ``password_bytes``.
    """
    data = password_bytes(password)
    verifier = 0
    for byte in (len(data), *data)[::-1]:
        verifier = ((verifier >> 14) & 0x01) | ((verifier << 1) & 0x7FFF)
        verifier ^= byte
    return f"{verifier ^ 0xCE4B:X}"


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
