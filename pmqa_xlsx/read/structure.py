"""Is the sheet still the form: every locked label where the layout puts it (with the rows
inserted or deleted above the first one out of place), values where the form has none
(inside its area: the sheet was edited; beside it: ignored, with a warning), and anything
far beyond the window the reader reads."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import NamedTuple

from xlsxwriter.utility import xl_rowcol_to_cell

from .. import problems as P
from ..cellmap import Label
from ..problems import Problem
from ..values import is_blank
from ..words import Words
from ..xlsxread import Cells
from .plan import LabelCheck, SheetCheck
from .text import display_value, short

STRAYS_LISTED = 20  # stray values listed one by one per sheet; the rest are counted


class Misplaced(NamedTuple):
    """The first label out of place: what the layout puts there, what the sheet shows, and
    the rows inserted or deleted above it (`` (1 row inserted above; ...)``, or empty)."""

    label: Label
    expected: str
    found: str
    shift: Words

    @property
    def cell(self) -> str:
        return xl_rowcol_to_cell(self.label.row, self.label.col)

    def problem(self, file: str) -> Problem:
        """The sheet was unprotected and edited (``structure-changed``)."""
        return P.make("structure-changed", file=file, sheet=self.label.sheet, cell=self.cell,
                      expected=self.expected, found=self.found, shift=self.shift)

    def what(self) -> Words:
        """The mismatch in words, for a message that explains it otherwise."""
        return Words(f"ตรงนี้ควรเป็น {self.expected!r} แต่พบ {self.found!r}{self.shift.th}",
                     f"expected {self.expected!r} here but found {self.found!r}{self.shift.en}")


def misplaced_label(sheet: SheetCheck, cells: Cells) -> Misplaced | None:
    """The first locked label (in reading order) that is not where the layout puts it, with
    the number of rows inserted or deleted above it when the labels below line up again at
    another offset; None if every label is in place."""
    try:  # the common case, in C: every label cell holds exactly the text the form wrote
        shown = tuple(map(_VALUE, map(cells.get, sheet.positions)))
    except AttributeError:  # a label cell holds nothing: look at each in turn
        shown = None
    if shown == sheet.written and set(map(type, shown)) <= {str}:
        return None  # each is its label's text, and so is it stripped
    labels = sheet.labels
    for i, (pos, text, label) in enumerate(labels):
        found = cells.get(pos)
        value = found.value if found is not None else None
        if value.__class__ is str and value == text:  # the common case, quickly
            continue
        if _shown(cells, *pos) == text:
            continue
        shift = _best_shift(labels[i:], cells)
        detail = Words("", "")
        if shift:
            rows = "row" if abs(shift) == 1 else "rows"
            what = "inserted" if shift > 0 else "deleted"
            detail = Words(f" (มีการแทรก {shift} แถวไว้ด้านบน ตอนนี้อยู่ที่แถว "
                           f"{label.row + shift + 1})",
                           f" ({abs(shift)} {rows} {what} above; it is now at row "
                           f"{label.row + shift + 1})") if shift > 0 else \
                Words(f" (มีการลบ {abs(shift)} แถวด้านบนออก)", f" ({abs(shift)} {rows} {what} above)")
        return Misplaced(label, short(label.text), short(_shown(cells, label.row, label.col)),
                         detail)
    return None


def stray_values(sheet: SheetCheck, cells: Cells, beyond: tuple[int, int] | None,
                 file: str) -> list[Problem]:
    """Values where the form has none: inside its area an error (``misplaced-value``), beside
    it a warning (``stray-value``, the first STRAYS_LISTED listed, the rest counted); and a
    cell beyond the window read (``far-cell``)."""
    out = []
    strays = 0
    # the common case, one pass in C: every cell is at a position the form puts something at
    left = () if sheet.known.issuperset(cells) else sorted(cells.keys() - sheet.known)
    for pos in left:
        cell = cells[pos]
        if is_blank(cell.value) and cell.formula is None:
            continue
        # inside the form's area, a value where none belongs means the sheet was edited
        code = "misplaced-value" if pos[0] <= sheet.last_row and pos[1] <= sheet.last_col \
            else "stray-value"
        if code == "stray-value":
            strays += 1
            if strays > STRAYS_LISTED:
                continue  # counted below, not listed one by one
        shown = display_value(cell.value) if cell.formula is None else "=" + cell.formula
        out.append(P.make(code, file=file, sheet=sheet.name, cell=xl_rowcol_to_cell(*pos),
                          found=short(shown)))
    if strays > STRAYS_LISTED:
        out.append(P.make("many-stray-values", file=file, sheet=sheet.name,
                          count=strays - STRAYS_LISTED, listed=STRAYS_LISTED))
    if beyond is not None:
        out.append(P.make("far-cell", file=file, sheet=sheet.name,
                          cell=xl_rowcol_to_cell(*beyond), row=beyond[0] + 1, col=beyond[1] + 1))
    return out


# --------------------------------------------------------------------------------------------
# Private
# --------------------------------------------------------------------------------------------


_VALUE = attrgetter("value")


def _shown(cells: Cells, row: int, col: int) -> str:
    found = cells.get((row, col))
    return "" if found is None or found.value is None else str(found.value).strip()


def _best_shift(labels: Sequence[LabelCheck], cells: Cells, reach: int = 40) -> int:
    """The row offset at which most of ``labels`` match again (0 if none does well)."""
    best, best_score = 0, 0
    for shift in range(-reach, reach + 1):
        if shift == 0:
            continue
        score_ = sum(1 for (row, col), text, _ in labels if row + shift >= 0
                     and _shown(cells, row + shift, col) == text)
        if score_ > best_score:
            best, best_score = shift, score_
    return best if best_score >= max(3, len(labels) // 2) else 0
