"""Test helper: re-save many workbooks with LibreOffice headless in one start of soffice.

``pmqa_xlsx.libreoffice.convert`` re-saves one file per soffice start (about 4 s each); the
tests of many layouts re-save a few dozen files, so they start soffice once for all of them,
with the same profile and recalculation setting as ``convert``.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pmqa_xlsx.libreoffice import _RECALC, soffice_path


def convert_many(sources: Sequence[Path], out_dir: Path, *, recalc: bool = True,
                 timeout: float = 600) -> list[Path]:
    """Open each of ``sources`` in LibreOffice and save it as xlsx into ``out_dir`` (file
    names must differ); with ``recalc`` every formula is recalculated on load. Returns the
    files written, in the order of ``sources``."""
    names = [src.name for src in sources]
    assert len(set(names)) == len(names), "LibreOffice writes each file under its own name"
    binary = soffice_path()
    if binary is None:
        raise RuntimeError("LibreOffice is not installed: apt-get install libreoffice-calc-nogui")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        if recalc:
            user = Path(profile) / "user"
            user.mkdir(parents=True)
            (user / "registrymodifications.xcu").write_text(_RECALC, encoding="utf-8")
        result = subprocess.run(
            [binary, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--nologo", "--nodefault", "--nolockcheck", "--convert-to",
             "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out_dir), *map(str, sources)],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
    targets = [out_dir / (src.stem + ".xlsx") for src in sources]
    missing = [t.name for t in targets if not t.exists()]
    if result.returncode != 0 or missing:
        raise RuntimeError(f"LibreOffice failed (exit {result.returncode}), not written: "
                           f"{missing}\n{result.stdout}\n{result.stderr}")
    return targets
