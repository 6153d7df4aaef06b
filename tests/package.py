"""Test helper: xlsx packages built by hand, part by part, as small as Excel accepts them, and
edits of real returns at the level of their parts (a cell's style, a sheet's XML)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml."


def sheet_xml(rows: str, before: str = "", after: str = "") -> str:
    """A worksheet part holding ``rows`` (``<row>`` elements) in its sheetData."""
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}" '
            f'xmlns:r="{REL}">{before}<sheetData>{rows}</sheetData>{after}</worksheet>')


def make_package(path: Path, sheets: list[tuple[str, str]], *, shared: str | None = None,
                 styles: str | None = None, names: dict[str, str] | None = None,
                 workbook_pr: str = "", extra: dict[str, bytes] | None = None) -> Path:
    """A minimal workbook: ``sheets`` as (name, worksheet XML), optional shared strings and
    styles parts. ``names`` renames parts ("workbook", "sheet1", "shared", "styles") to show
    that the reader follows the relationships, not fixed names."""
    names = {"workbook": "xl/workbook.xml", "shared": "xl/sharedStrings.xml",
             "styles": "xl/styles.xml", **(names or {})}
    book = names["workbook"]
    folder = book.rsplit("/", 1)[0]
    rels = []
    types = [f'<Override PartName="/{book}" ContentType="{TYPE}sheet.main+xml"/>']
    parts: dict[str, str | bytes] = {}
    for i, (_, xml) in enumerate(sheets):
        part = names.get(f"sheet{i + 1}", f"xl/worksheets/sheet{i + 1}.xml")
        rels.append(f'<Relationship Id="rId{i + 1}" Type="{REL}/worksheet" '
                    f'Target="{_relative(folder, part)}"/>')
        parts[part] = xml
        types.append(f'<Override PartName="/{part}" ContentType="{TYPE}worksheet+xml"/>')
    for key, kind, data in (("shared", "sharedStrings", shared), ("styles", "styles", styles)):
        if data is None:
            continue
        parts[names[key]] = data
        rels.append(f'<Relationship Id="r{kind}" Type="{REL}/{kind}" '
                    f'Target="{_relative(folder, names[key])}"/>')
        types.append(f'<Override PartName="/{names[key]}" ContentType="{TYPE}{kind}+xml"/>')
    sheet_list = "".join(f'<sheet name="{name}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
                         for i, (name, _) in enumerate(sheets))
    parts[book] = (f'<?xml version="1.0"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
                   f"{workbook_pr}<sheets>{sheet_list}</sheets></workbook>")
    book_rels = f"{folder}/_rels/{book.rsplit('/', 1)[1]}.rels"
    parts[book_rels] = f'<?xml version="1.0"?><Relationships xmlns="{PKG}">{"".join(rels)}' \
                       "</Relationships>"
    parts["_rels/.rels"] = (f'<?xml version="1.0"?><Relationships xmlns="{PKG}"><Relationship '
                            f'Id="rId1" Type="{REL}/officeDocument" Target="{book}"/>'
                            "</Relationships>")
    parts["[Content_Types].xml"] = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.'
        'openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        f'ContentType="application/xml"/>{"".join(types)}</Types>')
    parts.update(extra or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(name, data)
    return path


def _relative(folder: str, part: str) -> str:
    prefix = folder + "/"
    return part[len(prefix):] if part.startswith(prefix) else "/" + part


def add_style(styles: bytes, format_id: int, code: str | None = None) -> tuple[bytes, int]:
    """``styles.xml`` with one more cell format (number format ``format_id``, defined with
    ``code`` if given, else left to the reader as a built-in id), and its index."""
    if code is not None:
        entry = f'<numFmt numFmtId="{format_id}" formatCode="{_attr(code)}"/>'.encode()
        if re.search(rb"<numFmts[^>]*/>", styles):
            styles = re.sub(rb"<numFmts[^>]*/>", lambda m: b"<numFmts>" + entry + b"</numFmts>",
                            styles, count=1)
        elif b"<numFmts" in styles:
            styles = re.sub(rb"(<numFmts[^>]*>)", lambda m: m.group(1) + entry, styles, count=1)
        else:
            styles = re.sub(rb"(<styleSheet[^>]*>)", lambda m: m.group(1) + b"<numFmts>" + entry
                            + b"</numFmts>", styles, count=1)
    xfs = re.search(rb"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.DOTALL)
    assert xfs is not None
    index = len(re.findall(rb"<xf\b", xfs.group(1)))
    new = f'<xf numFmtId="{format_id}" fontId="0" fillId="0" borderId="0" ' \
          'applyNumberFormat="1"/>'.encode()
    styles = styles[:xfs.end(1)] + new + styles[xfs.end(1):]
    return styles, index


def set_cell(sheet: bytes, ref: str, inner: str, attrs: str = "") -> bytes:
    """A sheet's XML with the cell at ``ref`` replaced by one holding ``inner`` (its <v>, <is>
    or <f>) and ``attrs`` (t="s", s="3"…); the cell must exist (every input of the form
    does)."""
    pattern = re.compile(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', re.DOTALL)
    assert pattern.search(sheet), ref
    new = f'<c r="{ref}" {attrs}>{inner}</c>'.encode()
    return pattern.sub(lambda _: new, sheet, count=1)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
