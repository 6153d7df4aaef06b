"""Test helper: fill every input cell of a generated workbook, the way a person would, and
say what was filled, cell by cell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl

from pmqa_xlsx.cellmap import CellMap, InputCell


def value_for(cell: InputCell, n: int, agency_code: str = "99001") -> Any:
    """A plausible value for one input cell (the n-th input of the form)."""
    if cell.kind == "identity":
        return {"agency_code": agency_code, "agency_name": "กรมทดสอบระบบ",
                "ministry": "กระทรวงทดสอบ", "email": "staff@example.go.th",
                "phone": "0 2123 4567", "date": "31/03/2562"}.get(
            cell.field_id, f"ข้อมูล {cell.field_id}")
    if cell.kind == "status":
        # every blank is filled, so every row is "done, with the details below" (the last
        # status of the bundled layout; a "not started" row with details is a warning)
        return cell.choices[-1]
    if cell.kind == "direction":
        return cell.choices[n % len(cell.choices)]
    if cell.kind == "number":
        return float(50 + n % 70) if cell.field_id != "target" else float(60 + n % 40)
    return f"คำตอบ {cell.item_id} {cell.field_id} ลำดับที่ {n}"


def fill(cellmap: CellMap, src: Path, dst: Path, overrides: dict[str, Any] | None = None,
         agency_code: str = "99001") -> dict[tuple[str, str], Any]:
    """Fill every input of ``src`` into ``dst``; ``overrides`` maps "sheet!cell" to a value
    (None leaves the cell blank). Returns {(sheet, cell): value} of what was typed."""
    overrides = overrides or {}
    book = openpyxl.load_workbook(src)
    typed: dict[tuple[str, str], Any] = {}
    for n, cell in enumerate(cellmap.inputs()):
        key = f"{cell.sheet}!{cell.ref}"
        value = overrides[key] if key in overrides else value_for(cell, n, agency_code)
        if book[cell.sheet][cell.ref].protection.locked:  # pre-filled by the roster
            continue
        target = book[cell.sheet][cell.ref]
        target.value = value
        if isinstance(value, str) and value.startswith("="):
            target.data_type = "s"  # text a person typed, not a formula (openpyxl's guess)
        if value is not None:
            typed[(cell.sheet, cell.ref)] = value
    book.save(dst)
    return typed


def ticked(cellmap: CellMap) -> dict[tuple[str, str], Any]:
    """Every checklist row's status, as (item id, "status") -> label: the second status, which
    asks for no details and forbids none (the bundled layout's checks: "starting"), so that a
    return with a few answers breaks none of the form's checks."""
    return {(c.item_id, c.field_id): c.choices[1] for c in cellmap.inputs()
            if c.kind == "status"}
