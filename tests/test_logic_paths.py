"""The reader's cheaper paths after the sheets are read hold to the general ones they stand
in for: the form's checks compiled once per plan (``checks.CompiledChecks``) against
``checks.problems`` over seeded random values, ``filled`` against the CLEAN-then-TRIM it
stands for, ``values.blank_flags`` against ``is_blank``, the inputs a prefill may carry
(``Plan.carriable``), ``rules.excel_round``'s short path against its Decimal rounding, and
the cached package and checkout roots of ``layout.resource_dir``."""

from __future__ import annotations

import copy
import functools
import math
import random
import re
from decimal import ROUND_HALF_UP, Decimal
from math import isfinite
from typing import Any

import pytest
import yaml

from pmqa_xlsx import layout as layout_module
from pmqa_xlsx import parse_layout
from pmqa_xlsx.checks import _status_is, filled, problems
from pmqa_xlsx.read.plan import Plan, compile_plan
from pmqa_xlsx.read.structure import misplaced_label
from pmqa_xlsx.read.text import short
from pmqa_xlsx.rules import excel_round
from pmqa_xlsx.values import blank_flags, is_blank
from pmqa_xlsx.xlsxread import Cell, ErrorValue, MarkedText

from .test_checks import RAW

YEAR = 2562
#: Values of any cell, blank and not: texts of spaces and control characters (blank to the
#: checks, not to is_blank), numbers, a boolean, an error value.
ANY = [None, "", " ", "   ", "\t", "\x07 \x01", "\n", "\u3000", "\u00a0", "x", " x ", "๑๒",
       "12", 0.0, -0.0, 5.0, 80.0, -1.0, 1.5, True, False, ErrorValue("#DIV/0!")]


@functools.cache
def _plan(blanks: int | str | None) -> Plan:
    """The bundled layout with details_required's ``blanks`` (None: each empty blank alone)."""
    data = copy.deepcopy(RAW)
    for check in data["checks"]["list"]:
        if check["check"] == "details_required":
            check.pop("blanks", None)
            if blanks is not None:
                check["blanks"] = blanks
    return compile_plan(parse_layout(yaml.safe_dump(data, allow_unicode=True,
                                                    sort_keys=False)), YEAR)


def _values(plan: Plan, rng: random.Random, blank: float) -> list[Any]:
    out: list[Any] = []
    for slot in plan.inputs:
        if rng.random() < blank:
            out.append(None)
        elif slot.cell.choices and rng.random() < 0.7:
            choice = rng.choice(slot.cell.choices)
            out.append(rng.choice([choice, f" {choice}", f"{choice}  ", choice.replace(
                " ", "  ")]))
        else:
            out.append(rng.choice(ANY))
    return out


@pytest.mark.parametrize("blanks", [None, 1, "all"])
@pytest.mark.parametrize("blank", [0.0, 0.3, 0.7, 0.95, 1.0])
def test_compiled_checks_give_what_the_general_checks_give(blanks: Any, blank: float) -> None:
    """Every problem, in order, field for field, whatever the values (rows all blank, rows
    partly filled, statuses with spaces, texts of control characters)."""
    plan = _plan(blanks)
    rng = random.Random(f"checks {blanks} {blank}")
    seen: set[str] = set()
    for _ in range(40):
        values = _values(plan, rng, blank)
        expected = problems(plan.cellmap.instances,
                            lambda c, v=values, at=plan.index: v[at[c.key]], "f.xlsx")
        assert plan.checks.problems(values, "f.xlsx") == expected
        seen.update(p.code for p in expected)
    if blank == 1.0:
        assert seen == {"status-required"}  # the all-blank verdicts worked out at compile
    elif blank == 0.3:
        assert seen >= {"status-required", "details-required", "details-unexpected",
                        "indicator-needs-name", "result-without-target",
                        "target-without-result"}


def _filled_before(value: Any) -> bool:
    """``filled`` as it was written first: CLEAN (the control characters), then TRIM."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(re.sub(" +", " ", re.sub("[\x00-\x1f]", "", value)).strip(" "))
    return True


def test_filled_is_clean_then_trim() -> None:
    texts = ["".join(chr(c) for c in cs) for cs in
             ([], *[[c] for c in range(0, 40)], [32, 1, 32], [0, 120, 0], [31, 32, 127],
              [0x3000], [0xa0, 32], [32, 0x0e33, 32], [10, 13, 9])]
    rng = random.Random("filled")
    alphabet = [0, 1, 9, 10, 13, 31, 32, 33, 127, 0xa0, 0x2028, 0x3000, 0x0e01]
    texts += ["".join(chr(rng.choice(alphabet)) for _ in range(rng.randrange(6)))
              for _ in range(2000)]
    for value in [*texts, *ANY]:
        assert filled(value) == _filled_before(value), repr(value)


def test_blank_flags_are_is_blank() -> None:
    class Text(str):
        pass

    values = [*ANY, Text(" "), Text("a"), "\u2003", "\r\n", " \x00 "]
    assert blank_flags(values) == [is_blank(v) for v in values]
    assert blank_flags([]) == []


def test_the_carriable_inputs_are_the_rows_texts_and_past_results() -> None:
    """What ``generate --prefill`` may carry: each indicator row's name, unit, direction and
    every result but the target year's; never a target, a status, a checklist text."""
    plan = _plan("all")
    expected = set()
    for row in plan.cellmap.indicator_rows:
        target_year = row.cells["target"].year
        for fld, cell in row.cells.items():
            if fld in ("name", "unit", "direction") or (
                    fld.startswith("result_") and cell.year != target_year):
                expected.add(plan.index[cell.key])
    assert plan.carriable == expected
    kinds = {plan.inputs[i].cell.field_id.split("_")[0] for i in plan.carriable}
    assert kinds <= {"name", "unit", "direction", "result"} and "result" in kinds


def _round_decimal(value: float, decimals: int) -> float:
    """``excel_round`` by Decimal for every value (its definition)."""
    if not isfinite(value) or abs(value) >= 1e15:
        return float(f"{value:.15g}") if isfinite(value) else value
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(f"{value:.15g}").quantize(quantum, rounding=ROUND_HALF_UP))


def _outcome(round_: Any, value: float, decimals: int) -> str:
    """The result's repr (-0.0 and 0.0 apart), or the error (too many digits for Decimal's
    context: a value of 1e14 at 15 decimals)."""
    try:
        return repr(round_(value, decimals))
    except ArithmeticError as exc:
        return type(exc).__name__


def test_excel_round_is_its_decimal_rounding() -> None:
    rng = random.Random("round")
    values = [0.0, -0.0, 5.0, 2.675, 14.374999999999998, 23 / 160 * 100, 1e-5, -1e-7, 0.005,
              -0.005, 99.995, 1e14 + 0.5, 1e15, -1e15, 1e300, 123456789012.345, 0.1 + 0.2,
              float("inf"), float("-inf")]
    values += [rng.uniform(-1000, 1000) for _ in range(800)]
    values += [round(rng.uniform(-200, 200), rng.randrange(5)) for _ in range(800)]
    values += [rng.randrange(-10**6, 10**6) / 10 ** rng.randrange(6) for _ in range(800)]
    values += [x / y * 100 for x in range(0, 60) for y in range(1, 40)]
    values += [y / x * 100 for x in range(1, 60) for y in range(0, 40)]
    values += [100 + (100 - x / y * 100) for x in range(0, 60) for y in range(1, 40)]
    values += [rng.uniform(0, 10) ** rng.uniform(-12, 14) for _ in range(800)]
    # ties and their neighbours, a few units in the last place either side, at each decimals
    for decimals in range(0, 5):
        for _ in range(150):
            tie = (rng.randrange(0, 10**6) + 0.5) / 10**decimals
            values += [tie, *(math.nextafter(tie, math.inf * side) for side in (-1, 1))]
            near = tie
            for _ in range(3):
                near = math.nextafter(near, math.inf)
                values.append(near)
            values.append(tie * (1 + 1e-12))
            values.append(tie * (1 - 1e-12))
    values += [-v for v in values]
    for value in values:
        for decimals in (0, 1, 2, 3, 4, 6, 9, 12, 13, 15, 16, 20, 30, -1, -2):
            assert _outcome(excel_round, value, decimals) == \
                _outcome(_round_decimal, value, decimals), (value, decimals)
    nan = excel_round(float("nan"), 2)
    assert nan != nan


def test_resource_dirs_are_still_looked_for_each_time() -> None:
    """The package's root is found once; whether the folder is in it is asked each time."""
    layouts = layout_module.resource_dir("layouts")
    assert (layouts / "pmqa4-2562.yaml").is_file()
    assert layout_module.resource_dir("samples").is_dir()
    assert layout_module.resource_dir("layouts") == layouts
    assert layout_module.layouts_dir() == layouts


def test_a_sheet_whose_labels_all_hold_their_text_is_in_place_and_any_other_is_looked_at(
        ) -> None:
    """misplaced_label's one pass in C decides only the plain case (each label cell holds
    exactly its text, as a plain str); anything else goes through the comparison by
    label: a text with spaces around it or a marked text is still its label, a number or a
    label's cell left empty is not."""
    plan = _plan("all")
    # the form indents some labels with spaces: both as written and stripped are in place
    assert any(text != text.strip() for check in plan.sheets for text in check.written)
    for check in plan.sheets:
        cells = {pos: Cell(text) for pos, text in zip(check.positions, check.written,
                                                      strict=True)}
        assert misplaced_label(check, cells) is None
        assert misplaced_label(check, {p: Cell(c.value.strip()) for p, c in cells.items()}) \
            is None
        pos, text, label = check.labels[len(check.labels) // 2]
        for same in (f"  {text} ", MarkedText(text)):
            assert misplaced_label(check, {**cells, pos: Cell(same)}) is None
        for other in ({**cells, pos: Cell(12.0)}, {p: c for p, c in cells.items() if p != pos}):
            found = misplaced_label(check, other)
            assert found is not None
            assert (found.label, found.expected) == (label, short(label.text))


def test_a_status_is_compared_after_trim() -> None:
    """checks._status_is is TRIM(value) = label, with or without runs of spaces."""
    rng = random.Random("status")
    label = "ดำเนินการแล้ว ครบถ้วน"
    parts = ["", " ", "  ", "   ", "\t", "ดำเนินการแล้ว", "ครบถ้วน", "\u00a0", "x"]
    values: list[Any] = [label, f" {label} ", label.replace(" ", "   "), None, 1.0, *ANY]
    values += ["".join(rng.choice(parts) for _ in range(rng.randrange(6))) for _ in range(3000)]
    for value in values:
        trimmed = isinstance(value, str) and re.sub(" +", " ", value).strip(" ") == label
        assert _status_is(value, label) == trimmed, repr(value)
    assert sum(_status_is(v, label) for v in values) > 3
