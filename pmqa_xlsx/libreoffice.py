"""LibreOffice headless as the real spreadsheet application: re-save, recalculate, render.

Used by the tests (a workbook as a spreadsheet application sees it), by samples/make_returns.py
(a return re-saved by LibreOffice) and by docs/make_pictures.py (PDF pages of real outputs).
Each call runs its own soffice with a throw-away profile, optionally set to recalculate every
formula on load (LibreOffice keeps the cached values of xlsx files by default), and a timeout.
Not needed to generate, read or merge workbooks.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

_RECALC = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(src: Path, out_dir: Path, fmt: str = "xlsx", *, recalc: bool = False,
            timeout: float = 180) -> Path:
    """Open ``src`` in LibreOffice and save it as ``fmt`` into ``out_dir``; return the file.

    With ``recalc`` the profile makes LibreOffice recalculate every formula on load.
    """
    return convert_many([src], out_dir, fmt, recalc=recalc, timeout=timeout)[0]


def convert_many(sources: Sequence[Path], out_dir: Path, fmt: str = "xlsx", *,
                 recalc: bool = False, timeout: float = 600) -> list[Path]:
    """``convert`` for several files in one start of soffice (a start costs seconds): each
    saved as ``fmt`` into ``out_dir`` under its own name (the names must differ). Returns the
    files written, in the order of ``sources``."""
    names = [src.stem for src in sources]
    if len(set(names)) != len(names):
        raise ValueError("LibreOffice writes each file under its own name: the names differ")
    binary = soffice_path()
    if binary is None:
        raise RuntimeError("LibreOffice is not installed: apt-get install libreoffice-calc-nogui")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        if recalc:
            user = Path(profile) / "user"
            user.mkdir(parents=True)
            (user / "registrymodifications.xcu").write_text(_RECALC, encoding="utf-8")
        filter_name = {"xlsx": "xlsx:Calc MS Excel 2007 XML", "xls": "xls:MS Excel 97",
                       "ods": "ods", "pdf": "pdf"}[fmt]
        result = subprocess.run(
            [binary, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--nologo", "--nodefault", "--nolockcheck", "--convert-to", filter_name,
             "--outdir", str(out_dir), *map(str, sources)],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
    targets = [out_dir / (src.stem + "." + fmt) for src in sources]
    missing = [str(src) for src, t in zip(sources, targets, strict=True) if not t.exists()]
    if result.returncode != 0 or missing:
        raise RuntimeError(f"LibreOffice failed on {', '.join(missing) or sources[0]} (exit "
                           f"{result.returncode}):\n{result.stdout}\n{result.stderr}")
    return targets
