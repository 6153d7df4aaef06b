"""The form's own checks: each one implemented once in Python and compiled once into formulas,
from the same layout parameters (``checks:``, and the indicator sheets' ``validation:``).

The layout declares the checks (layout.Check); the cell map places one ``Instance`` per check
and input cell it can flag (``checklist_instances``, ``indicator_instances``). Each instance
has both faces:

* ``Instance.broken(value_of)``: whether the check is broken, for the reader (a located problem
  with its own code, ``PROBLEM_CODES``) and for the cached values a fresh workbook shows;
* ``Instance.condition()``: the same test as a formula over the cells' A1 addresses, for the
  conditional format that marks the cell and for the reason shown beside it.

A cell is *filled* when its value, its ASCII spaces and control characters removed, is not
empty (``filled``; ``LEN(TRIM(CLEAN(x)))>0`` in a formula). The kinds:

* ``status_required``: the row's status is not filled (at the status cell);
* ``details_required``: the row's status is ``status`` and the blank is not filled, and (with
  ``blanks: N``) fewer than N of the row's blanks are (at each empty blank);
* ``details_unexpected``: the row's status is ``status`` and the blank is filled (at it);
* ``indicator_name``: the target or a result is filled and the name is not (at the name);
* ``result_without_target``: a result is filled and the target is not (at the target);
* ``target_without_result``: the target is filled and the result it is compared with
  (``IndicatorRow.compared``) is not (at that result);
* ``number`` (from ``validation:``, not ``checks.list``): a number cell is filled with
  something other than a number its rule accepts (``NumberRule.accepts``): text never is one,
  even text that reads as a number (values.py's one rule, ``cell_number``). The reader reports
  it with its own codes, ``not-a-number``, ``number-as-text`` and ``number-out-of-range``.

Each broken instance is one line of text, ``E12: message_th`` (a warning's line starts with
``WARNING_MARK``), ending with a line feed: the reason cell beside a row joins its instances'
lines, each section's live list on the first sheet joins its rows' reason cells, and the live
counts count the line feeds and the warning marks of the lists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from xlsxwriter.utility import quote_sheetname

from . import problems as P
from .layout import WARNING_MARK, Check, Checks, NumberRule
from .problems import Problem
from .prompts import rule_words
from .words import Words

if TYPE_CHECKING:  # cellmap.py imports this module
    from .cellmap import InputCell

#: The problem code of each declared kind of check (problems.py holds their templates).
PROBLEM_CODES = {
    "status_required": "status-required",
    "details_required": "details-required",
    "details_unexpected": "details-unexpected",
    "indicator_name": "indicator-needs-name",
    "result_without_target": "result-without-target",
    "target_without_result": "target-without-result",
}

_SPACES = re.compile(" +")
#: What CLEAN removes (the control characters below 32) and what TRIM removes (ASCII spaces).
_NOT_FILLING = " " + "".join(map(chr, range(32)))


def filled(value: Any) -> bool:
    """Whether a cell's value counts as filled, exactly as ``LEN(TRIM(CLEAN(x)))>0`` does:
    anything but None and text of ASCII spaces and control characters only."""
    if value is None:
        return False
    if isinstance(value, str):
        # the same as removing the control characters, then TRIM: some character is
        # neither, and strip() stops at the first one from either end
        return bool(value.strip(_NOT_FILLING))
    return True


def _filled_formula(ref: str) -> str:
    return f"LEN(TRIM(CLEAN({ref})))>0"


def _empty_formula(ref: str) -> str:
    return f"LEN(TRIM(CLEAN({ref})))=0"


def _text(value: str) -> str:
    """A formula's string literal."""
    return '"' + value.replace('"', '""') + '"'


@dataclass(frozen=True, slots=True, kw_only=True)
class Instance:
    """One check on one input cell: ``cell`` is the cell it flags, ``status`` the row's status
    cell (details checks), ``cells`` the other cells it reads (the row's blanks; the target and
    results), ``rule`` a number cell's rule."""

    check: Check
    cell: InputCell
    status: InputCell | None = None
    cells: tuple[InputCell, ...] = ()
    rule: NumberRule | None = None

    @property
    def code(self) -> str | None:
        """The reader's problem code (None for ``number``: the reader's own codes)."""
        return PROBLEM_CODES.get(self.check.kind)

    def broken(self, value_of: Callable[[InputCell], Any]) -> bool:
        """Whether the check is broken for these values (``value_of`` gives a cell's value)."""
        return _KINDS[self.check.kind][0](
            self, value_of(self.cell),
            value_of(self.status) if self.status is not None else None,
            [value_of(c) for c in self.cells])

    def condition(self, qualified: bool = False) -> str:
        """The same test as a formula (no ``=``), over A1 addresses on the cell's sheet (with
        ``qualified``, sheet-qualified: for a formula on another sheet)."""
        ref = _qualified if qualified else _plain
        return f"IFERROR({_KINDS[self.check.kind][1](self, ref)},FALSE)"

    def line(self) -> str:
        """The instance's line in the reason cell and the live list (without the line feed)."""
        mark = f"{WARNING_MARK} " if self.check.severity == "warning" else ""
        return f"{mark}{self.cell.ref}: {self.check.message_th}"


def conditional_formats(instances: Iterable[Instance]) -> list[tuple[list[Instance], str]]:
    """The conditional formats that mark ``instances``' cells: one rule, the first instance's
    condition, over every cell of a column whose instance reads the same cells at the same
    offsets (the indicator rows), the topmost cell first, so that the formula's relative
    references are relative to the top-left cell of the range, as Excel and LibreOffice take
    them; errors before warnings, so that an error's fill wins on a cell with both."""
    groups: dict[tuple[Any, ...], list[Instance]] = {}
    for instance in instances:
        anchor = instance.cell

        def relative(cell: InputCell, anchor: InputCell = anchor) -> str:
            return f"R[{cell.row - anchor.row}]C{cell.col}"

        key = (instance.check.severity != "error", anchor.col, instance.check,
               _KINDS[instance.check.kind][1](instance, relative))
        groups.setdefault(key, []).append(instance)
    return [(sorted(group, key=lambda i: i.cell.row), group[0].condition())
            for _, group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[1][0].cell.row,
                                                                   kv[0][1]))]


def problems(instances: Iterable[Instance], value_of: Callable[[InputCell], Any],
             file: str) -> list[Problem]:
    """The reader's problem for each broken declared check (number checks aside: the reader
    reports those as ``not-a-number``, ``number-as-text`` and ``number-out-of-range``),
    located at its cell."""
    out = []
    for instance in instances:
        code = instance.code
        if code is None or not instance.broken(value_of):
            continue
        check, cell = instance.check, instance.cell
        out.append(P.make(code, file=file, sheet=cell.sheet, cell=cell.ref,
                          severity=check.severity, label=cell.label,
                          message=Words(check.message_th, check.message_en)))
    return out


class _Entry(NamedTuple):
    """One declared check compiled: the instance, its kind's test, where the values it reads
    are in its row's gathered values (its cell, the status cell or -1, the other cells as a
    slice) and the fields of its problem but the file."""

    instance: Instance
    test: Test
    at: int
    status: int
    first: int
    last: int
    code: str
    fields: dict[str, Any]


class _Block(NamedTuple):
    """The compiled checks of one row (a reason cell's instances): a getter of the values
    they read (each entry's in turn: its cell, its status cell, its other cells), how many
    those are (not ``count``, which would hide tuple.count), the entries, and those broken
    when all are blank."""

    values: Callable[[Sequence[Any]], tuple[Any, ...]]
    size: int
    entries: tuple[_Entry, ...]
    when_blank: tuple[_Entry, ...]


class CompiledChecks:
    """The declared checks of a cell map compiled against the positions of its inputs in a
    list of values (the reader's plan), once per plan: ``problems(values, file)`` gives
    exactly what ``problems`` gives for the same values, in the same order, by the same
    tests (``_KINDS``), with no call per value read: a row's values are gathered in one
    call, each check's as slices of them. A row whose checks read only blank (None) values
    gives the problems worked out once for that case (a test is a function of the values it
    reads only)."""

    def __init__(self, rows: Iterable[Sequence[Instance]],
                 index: Mapping[tuple[str, str, str], int]) -> None:
        blocks = []
        for instances in rows:
            entries: list[_Entry] = []
            read: list[int] = []
            for i in instances:
                code = i.code
                if code is None:  # number checks: the reader's own codes
                    continue
                check, cell = i.check, i.cell
                at = len(read)
                read.append(index[cell.key])
                status = -1
                if i.status is not None:
                    status = len(read)
                    read.append(index[i.status.key])
                first = len(read)
                read.extend(index[c.key] for c in i.cells)
                entries.append(_Entry(
                    i, _KINDS[check.kind][0], at, status, first, len(read), code,
                    {"sheet": cell.sheet, "cell": cell.ref, "severity": check.severity,
                     "label": cell.label,
                     "message": Words(check.message_th, check.message_en)}))
            if not entries:
                continue
            if len(read) == 1:  # itemgetter of one position gives the value, not a 1-tuple
                read.append(read[0])
            blank = tuple(e for e in entries
                          if e.test(e.instance, None, None, (None,) * (e.last - e.first)))
            blocks.append(_Block(itemgetter(*read), len(read), tuple(entries), blank))
        self._blocks = tuple(blocks)

    def problems(self, values: Sequence[Any], file: str) -> list[Problem]:
        """The problem of each broken declared check for ``values`` (aligned with the index
        compiled against), as ``problems`` gives them."""
        out = []
        for block in self._blocks:
            got = block.values(values)
            if got.count(None) == block.size:
                broken: Iterable[_Entry] = block.when_blank
            else:
                broken = [e for e in block.entries if e.test(
                    e.instance, got[e.at], None if e.status < 0 else got[e.status],
                    got[e.first:e.last])]
            for e in broken:
                out.append(P.make(e.code, file=file, **e.fields))
        return out


def checklist_instances(checks: Checks, status: InputCell,
                        blanks: Sequence[InputCell]) -> list[Instance]:
    """The instances of one checklist row: its status cell and its blanks (grid cells too)."""
    out = []
    for check in checks.list:
        if check.kind == "status_required":
            out.append(Instance(check=check, cell=status))
        elif check.kind in ("details_required", "details_unexpected"):
            out.extend(Instance(check=check, cell=blank, status=status, cells=tuple(blanks))
                       for blank in blanks)
    return out


def indicator_instances(checks: Checks, cells: dict[str, InputCell],
                        compared: str) -> list[Instance]:
    """The instances of one indicator row (``cells`` by field id, ``compared`` the field of
    the result compared with the target): the declared checks, then each number cell's."""
    numbers = tuple(c for f, c in cells.items() if f == "target" or f.startswith("result_"))
    results = tuple(c for c in numbers if c.field_id != "target")
    at = {"indicator_name": cells["name"], "result_without_target": cells["target"],
          "target_without_result": cells[compared]}
    reads = {"indicator_name": numbers, "result_without_target": results,
             "target_without_result": (cells["target"],)}
    out = [Instance(check=c, cell=at[c.kind], cells=reads[c.kind]) for c in checks.list
           if c.kind in at]
    for cell in numbers:
        words = f"ต้องเป็น{rule_words(cell.number)} (เลขอารบิก)"
        out.append(Instance(check=Check(kind="number", severity="error", message_th=words,
                                        message_en="not a number the cell accepts"),
                            cell=cell, rule=cell.number))
    return out


def reason_formula(instances: Iterable[Instance]) -> str:
    """The formula of a reason cell: the lines of its broken instances, each ending with a
    line feed ("" when none is)."""
    terms = [f"IF({i.condition()},{_text(i.line())}&CHAR(10),\"\")" for i in instances]
    return "=" + ("&".join(terms) if terms else '""')


def reason_text(instances: Iterable[Instance], value_of: Callable[[InputCell], Any]) -> str:
    """What ``reason_formula`` shows for these values."""
    return "".join(i.line() + "\n" for i in instances if i.broken(value_of))


def count_formula(checks: Checks, lists: str) -> str:
    """The live count over the live lists' range ``lists`` (``B30:B38``): errors are the line
    feeds less the warning marks."""
    lines = f'SUMPRODUCT(LEN({lists})-LEN(SUBSTITUTE({lists},CHAR(10),"")))'
    marks = f'SUMPRODUCT(LEN({lists})-LEN(SUBSTITUTE({lists},{_text(WARNING_MARK)},"")))'
    before, after = checks.count.split("{n}")
    w_before, w_after = checks.warnings.split("{n}")
    return (f"={_text(before)}&({lines}-{marks})&{_text(after)}"
            f"&IF({marks}>0,{_text(', ' + w_before)}&{marks}&{_text(w_after)},\"\")")


def count_text(checks: Checks, errors: int, warnings: int) -> str:
    """What ``count_formula`` shows for these numbers of broken instances."""
    text = checks.count.replace("{n}", str(errors))
    return text + (", " + checks.warnings.replace("{n}", str(warnings)) if warnings else "")


def flagged_filled(instances: Iterable[Instance], value_of: Callable[[InputCell], Any]) -> int:
    """How many filled cells a broken check flags (the completeness count leaves them out)."""
    return len({i.cell.key for i in instances
                if filled(value_of(i.cell)) and i.broken(value_of)})


def flagged_filled_terms(instances: Iterable[Instance]) -> list[str]:
    """The same as formula terms (each 0 or 1), one per cell a check of a filled cell can flag:
    the details_unexpected instances (the other declared checks flag empty cells)."""
    by_cell: dict[tuple[str, str, str], list[Instance]] = {}
    for i in instances:
        if i.check.kind == "details_unexpected":
            by_cell.setdefault(i.cell.key, []).append(i)
    return [f"OR({','.join(i.condition(True) for i in group)})" if len(group) > 1
            else f"({group[0].condition(True)})" for group in by_cell.values()]


# --------------------------------------------------------------------------------------------
# Private: one (Python, formula) pair per kind, from the same parameters
# --------------------------------------------------------------------------------------------


def _status_is(value: Any, label: str | None) -> bool:
    """TRIM(value) = label; without a run of spaces inside, TRIM only strips the ends."""
    if not isinstance(value, str):
        return False
    return (value.strip(" ") if "  " not in value
            else _SPACES.sub(" ", value).strip(" ")) == label


def _plain(cell: InputCell) -> str:
    return cell.ref


def _qualified(cell: InputCell) -> str:
    return f"{quote_sheetname(cell.sheet)}!{cell.ref}"


Ref = Callable[["InputCell"], str]


def _status_formula(i: Instance, ref: Ref) -> str:
    assert i.status is not None and i.check.status is not None
    return f"TRIM({ref(i.status)})={_text(i.check.status)}"


def _status_required(i: Instance, value: Any, status: Any, values: Sequence[Any]) -> bool:
    return not filled(value)


def _status_required_formula(i: Instance, ref: Ref) -> str:
    return _empty_formula(ref(i.cell))


def _details_required(i: Instance, value: Any, status: Any, values: Sequence[Any]) -> bool:
    if not _status_is(status, i.check.status) or filled(value):
        return False
    need = i.check.blanks
    return need is None or sum(filled(v) for v in values) < need


def _details_required_formula(i: Instance, ref: Ref) -> str:
    parts = [_status_formula(i, ref), _empty_formula(ref(i.cell))]
    if i.check.blanks is not None:
        count = "+".join(f"({_filled_formula(ref(c))})" for c in i.cells)
        parts.append(f"{count}<{i.check.blanks}")
    return f"AND({','.join(parts)})"


def _details_unexpected(i: Instance, value: Any, status: Any, values: Sequence[Any]) -> bool:
    return _status_is(status, i.check.status) and filled(value)


def _details_unexpected_formula(i: Instance, ref: Ref) -> str:
    return f"AND({_status_formula(i, ref)},{_filled_formula(ref(i.cell))})"


def _missing_when_any(i: Instance, value: Any, status: Any, values: Sequence[Any]) -> bool:
    """indicator_name, result_without_target, target_without_result: the cell is empty and
    one of the cells read is filled."""
    return not filled(value) and any(filled(v) for v in values)


def _missing_when_any_formula(i: Instance, ref: Ref) -> str:
    anyone = ",".join(_filled_formula(ref(c)) for c in i.cells)
    return f"AND({_empty_formula(ref(i.cell))},OR({anyone}))"


def _number(i: Instance, value: Any, status: Any, values: Sequence[Any]) -> bool:
    if not filled(value):
        return False
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True
    return i.rule is not None and not i.rule.accepts(float(value))


def _number_formula(i: Instance, to: Ref) -> str:
    ref, rule = to(i.cell), i.rule
    tests = []
    if rule is not None:
        if rule.greater_than is not None:
            tests.append(f"{ref}>{_literal(rule.greater_than)}")
        if rule.at_least is not None:
            tests.append(f"{ref}>={_literal(rule.at_least)}")
        if rule.at_most is not None:
            tests.append(f"{ref}<={_literal(rule.at_most)}")
        if rule.whole_number:
            tests.append(f"{ref}=INT({ref})")
    accepted = f"IF(ISNUMBER({ref}),{'AND(' + ','.join(tests) + ')' if tests else 'TRUE'},FALSE)"
    return f"AND({_filled_formula(ref)},NOT({accepted}))"


def _literal(value: float) -> str:
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else repr(value)


#: A kind's Python test: the instance, the value of its cell, of its row's status cell (None
#: if it reads none) and of the other cells it reads (``Instance.cells``, in order).
Test = Callable[[Instance, Any, Any, Sequence[Any]], bool]

_KINDS: dict[str, tuple[Test, Callable[[Instance, Ref], str]]] = {
    "status_required": (_status_required, _status_required_formula),
    "details_required": (_details_required, _details_required_formula),
    "details_unexpected": (_details_unexpected, _details_unexpected_formula),
    "indicator_name": (_missing_when_any, _missing_when_any_formula),
    "result_without_target": (_missing_when_any, _missing_when_any_formula),
    "target_without_result": (_missing_when_any, _missing_when_any_formula),
    "number": (_number, _number_formula),
}
