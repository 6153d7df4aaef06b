"""Print, as JSON, every visible sheet's row heights as LibreOffice loads a workbook and the
"optimal" heights LibreOffice computes for the same rows (in 1/100 mm).

LibreOffice 7.4 does not compute optimal heights when it opens an xlsx (a row without a
height gets the sheet's default), so tests/test_look.py asks for them over UNO. Run with the
Python that has LibreOffice's ``uno`` module (Debian: /usr/bin/python3 with python3-uno):
``python3 tests/lo_optimal_heights.py SOFFICE WORKBOOK``. The sheets are unprotected (a
blank form has no password) to change the heights; nothing is saved.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]


def _connect(name: str):  # type: ignore[no-untyped-def]
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(240):
        try:
            return resolver.resolve(f"uno:pipe,name={name};urp;StarOffice.ComponentContext")
        except Exception:  # noqa: BLE001 - not listening yet
            time.sleep(0.25)
    raise RuntimeError("LibreOffice did not start")


def main(soffice: str, path: str) -> None:
    name = f"pmqa_look_{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        proc = subprocess.Popen(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--nologo", "--nodefault", "--nolockcheck", f"--accept=pipe,name={name};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        desktop = None
        try:
            ctx = _connect(name)
            desktop = ctx.ServiceManager.createInstanceWithContext(
                "com.sun.star.frame.Desktop", ctx)
            hidden = PropertyValue()
            hidden.Name, hidden.Value = "Hidden", True
            doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(path)),
                                               "_blank", 0, (hidden,))
            out = {}
            for sheet in doc.Sheets:
                if not sheet.IsVisible:
                    continue
                sheet.unprotect("")
                cursor = sheet.createCursor()
                cursor.gotoEndOfUsedArea(False)
                last = cursor.RangeAddress.EndRow
                rows = sheet.Rows
                loaded = [rows.getByIndex(i).Height for i in range(last + 1)]
                sheet.getCellRangeByPosition(0, 0, 0, last).Rows.OptimalHeight = True
                optimal = [rows.getByIndex(i).Height for i in range(last + 1)]
                out[sheet.Name] = {"loaded": loaded, "optimal": optimal}
            doc.close(True)
            print(json.dumps(out))
        finally:
            if desktop is not None:
                try:
                    desktop.terminate()
                except Exception:  # noqa: BLE001 - the bridge closes as it ends
                    pass
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main(*sys.argv[1:])
