"""Test helper: an xlsx package as a spreadsheet application sees it, every XML part parsed
with lxml: each sheet's cells (text decoded from OOXML's ``_xHHHH_`` escapes, formulas), the
rich-text runs, hyperlinks and hyperlink relationships anywhere in the package; and a copy of
a consolidated workbook that prints one sheet alone (``only_sheet``)."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lxml import etree

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def decode(text: str) -> str:
    """OOXML's escapes decoded, as Excel shows the text (``_x005F_`` is ``_``)."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


@dataclass
class Package:
    cells: dict[str, dict[str, str | float]] = field(default_factory=dict)  # sheet -> ref -> value
    formulas: dict[tuple[str, str], str] = field(default_factory=dict)  # (sheet, ref) -> formula
    runs: int = 0  # <r> elements (rich text) in shared strings and cells
    hyperlinks: int = 0  # <hyperlink> elements and hyperlink relationships
    footers: dict[str, str] = field(default_factory=dict)  # sheet -> decoded odd footer
    prompts: dict[str, list[str]] = field(default_factory=dict)  # sheet -> validation texts
    parts: int = 0  # XML parts parsed

    def texts(self) -> set[str]:
        return {v for sheet in self.cells.values() for v in sheet.values() if isinstance(v, str)}


def _text_of(element: etree._Element) -> str:
    return decode("".join(t.text or "" for t in element.iter(f"{MAIN}t")))


def inspect(source: Path | bytes) -> Package:
    """Parse every XML part of ``source``; a part that is not well-formed fails the test."""
    data = source if isinstance(source, bytes) else source.read_bytes()
    out = Package()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        trees = {}
        for name in package.namelist():
            if name.endswith((".xml", ".rels")):
                trees[name] = etree.fromstring(package.read(name), _PARSER)
        out.parts = len(trees)
    for name, tree in trees.items():
        out.hyperlinks += len(tree.findall(f".//{MAIN}hyperlink"))
        if name.endswith(".rels"):
            out.hyperlinks += sum(1 for r in tree.iter(f"{PKG_REL}Relationship")
                                  if r.get("Type", "").endswith("/hyperlink"))
    shared: list[str] = []
    if "xl/sharedStrings.xml" in trees:
        for si in trees["xl/sharedStrings.xml"].iter(f"{MAIN}si"):
            out.runs += len(si.findall(f"{MAIN}r"))
            shared.append(_text_of(si))
    targets = {r.get("Id"): r.get("Target") for r in
               trees["xl/_rels/workbook.xml.rels"].iter(f"{PKG_REL}Relationship")}
    for sheet in trees["xl/workbook.xml"].iter(f"{MAIN}sheet"):
        part = str(PurePosixPath("xl") / targets[sheet.get(f"{REL}id")])
        title = sheet.get("name")
        cells: dict[str, str | float] = {}
        tree = trees[part]
        for cell in tree.iter(f"{MAIN}c"):
            ref, kind = cell.get("r"), cell.get("t")
            formula = cell.find(f"{MAIN}f")
            if formula is not None:
                out.formulas[(title, ref)] = formula.text or ""
            value = cell.find(f"{MAIN}v")
            if kind == "s":
                cells[ref] = shared[int(value.text)]
            elif kind == "inlineStr":
                inline = cell.find(f"{MAIN}is")
                out.runs += len(inline.findall(f"{MAIN}r"))
                cells[ref] = _text_of(inline)
            elif value is not None and formula is None and kind in (None, "n"):
                cells[ref] = float(value.text)
        out.cells[title] = cells
        out.prompts[title] = [decode(v.get(a)) for v in tree.iter(f"{MAIN}dataValidation")
                              for a in ("promptTitle", "prompt", "errorTitle", "error")
                              if v.get(a) is not None]
        footer = tree.find(f".//{MAIN}oddFooter")
        if footer is not None:
            out.footers[title] = decode(footer.text or "")
    return out


def only_sheet(path: Path, sheet: str, folder: Path) -> Path:
    """A copy (in ``folder``) of the consolidated workbook at ``path`` with every sheet but
    ``sheet`` hidden, and ``sheet`` the active and only selected one, so that LibreOffice
    prints only it."""
    from pmqa_xlsx.report import WORKBOOK_SHEETS

    alone = folder / f"{path.stem}-{sheet}.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(alone, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = re.sub(rb'(<sheet name="(?!' + sheet.encode() + rb'")[^"]*")',
                              rb'\1 state="hidden"', data)
                at = WORKBOOK_SHEETS.index(sheet)
                data = re.sub(rb'activeTab="\d+"', b"", data)
                data = data.replace(b"<workbookView ", f'<workbookView activeTab="{at}" '
                                    .encode(), 1)
            elif item.filename.startswith("xl/worksheets/sheet"):
                data = data.replace(b' tabSelected="1"', b"")
            dst.writestr(item, data)
    return alone
