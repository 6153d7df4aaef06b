"""Rounds: which form, version and fiscal year a merge is of, as declared, never voted.

A round is one form (its layout's ``form.id``), one version (``form.version``) and one fiscal
year (Buddhist Era). A merge counts the returns of one round only. The round is declared with
``--round FORM:VERSION:YEAR`` (or ``--round YEAR`` when the layouts given are of one form and
version, or only one of them is for that year), or by the single layout given (its form,
version and fiscal year). Without a declaration, a merge whose counted returns span several
rounds stops and lists them, with their counts, so that nobody's figures are mixed with
another round's by a majority of files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import PmqaError
from .layout import FISCAL_YEARS, Layout, fiscal_year_problem
from .words import Words


@dataclass(frozen=True, slots=True, order=True)
class Round:
    """One round: form id, version and fiscal year (Buddhist Era)."""

    form_id: str
    version: str
    fiscal_year: int

    def __str__(self) -> str:
        return f"{self.form_id}:{self.version}:{self.fiscal_year}"

    def describe(self) -> Words:
        """The round in words: ``fiscal year 2569 (form pmqa4-cat3-cat7.2 version 2562.1)``."""
        return Words(f"ปีงบประมาณ {self.fiscal_year} (แบบฟอร์ม {self.form_id} รุ่น {self.version})",
                     f"fiscal year {self.fiscal_year} (form {self.form_id} version "
                     f"{self.version})")

    @classmethod
    def of_layout(cls, layout: Layout, year: int | None = None) -> Round:
        """The round of ``layout``, in its own fiscal year unless ``year`` is given."""
        return cls(layout.form.id, layout.form.version,
                   layout.form.fiscal_year if year is None else year)


class RoundError(PmqaError):
    """A round that cannot be declared as given (a bad ``--round``), or a merge whose counted
    returns span several rounds when none was declared."""


class SeveralRounds(RoundError):
    """The counted returns span several rounds and none was declared: the rounds found, how
    many returns each has (most first) and from how many agencies."""

    def __init__(self, counts: Counter[Round],
                 agencies: dict[Round, int] | None = None) -> None:
        self.counts = counts
        self.agencies = agencies or {}

        def of(r: Round) -> Words:
            many = self.agencies.get(r)
            return Words("", "") if many is None else Words(
                f" จาก {many} หน่วยงาน", f" from {many} agenc{'ies' if many != 1 else 'y'}")
        rounds = _most_first(counts)
        listed_th = "\n".join(f"  --round {r}   {n} ฉบับ{of(r).th} ({r.describe().th})"
                              for r, n in rounds)
        listed_en = "\n".join(f"  --round {r}   {n} return{'s' if n != 1 else ''}{of(r).en} "
                              f"({r.describe().en})" for r, n in rounds)
        super().__init__(Words(
            "แบบฟอร์มที่ส่งมาเป็นของมากกว่าหนึ่งรอบ การรวมผลหนึ่งครั้งนับได้รอบเดียว และยังไม่ได้"
            "ระบุรอบ กรุณารวมผลใหม่โดยระบุรอบที่จะนับ:\n" + listed_th
            + "\n(แบบฟอร์มของรอบอื่นจะแสดงเป็น other_round และไม่นับ)",
            "the returns are of more than one round; a merge counts one round only, and no "
            "round was declared. Merge again with the round to count:\n" + listed_en
            + "\n(returns of the other rounds are then listed as other_round, not counted)"))


def parse_round(text: str, layouts: Sequence[Layout]) -> Round:
    """A ``--round`` value: ``FORM:VERSION:YEAR``, or ``YEAR`` alone when ``layouts`` are all
    of one form and version, or only one of them is for that fiscal year. A form id or a
    version may itself hold ``:``: a layout's ``FORM:VERSION`` before the year decides, else
    the last two are the separators. Raises RoundError saying what to give instead."""
    text = text.strip()
    if text.isdigit():
        forms = sorted({(layout.form.id, layout.form.version) for layout in layouts})
        of_year = sorted({(layout.form.id, layout.form.version) for layout in layouts
                          if layout.form.fiscal_year == int(text)})
        if len(forms) != 1 and len(of_year) == 1:
            forms = of_year  # the one layout made for that year
        if len(forms) != 1:
            choices = ", ".join(f"{f}:{v}:YEAR" for f, v in forms)
            raise RoundError(Words(
                f"--round {text}: ไฟล์แม่แบบที่ให้มาเป็นของ {len(forms)} แบบฟอร์มหรือรุ่น และไม่มี"
                f"รุ่นใดเป็นของปี {text} เพียงรุ่นเดียว ปีอย่างเดียวจึงบอกไม่ได้ว่าเป็นรอบใด "
                f"กรุณาระบุเป็น FORM:VERSION:YEAR แบบใดแบบหนึ่ง: {choices or 'ไม่มี'}",
                f"--round {text}: the layouts given are of {len(forms)} forms or versions, and "
                f"not one of them alone is for {text}, so the year alone does not say which; "
                f"give FORM:VERSION:YEAR, one of: {choices or 'none'}"))
        (form_id, version), year_text = forms[0], text
    else:
        parts = text.rsplit(":", 2)
        head, _, tail = text.rpartition(":")
        named = [(f, v) for f, v in {(layout.form.id, layout.form.version)
                                     for layout in layouts} if f"{f}:{v}" == head.strip()]
        if len(named) == 1:  # a version (or form id) that itself holds ':'
            parts = [*named[0], tail]
        if len(parts) != 3 or not all(p.strip() for p in parts):
            raise RoundError(Words(
                f"--round {text!r}: กรุณาระบุเป็น FORM:VERSION:YEAR (เช่น "
                "pmqa4-cat3-cat7.2:2562.1:2569) หรือปีงบประมาณอย่างเดียว (2569)",
                f"--round {text!r}: give FORM:VERSION:YEAR (e.g. "
                "pmqa4-cat3-cat7.2:2562.1:2569) or a fiscal year alone (2569)"))
        form_id, version, year_text = (p.strip() for p in parts)
        if not year_text.isdigit():
            raise RoundError(Words(
                f"--round {text!r}: ปีงบประมาณ {year_text!r} ต้องเป็นปีพุทธศักราชที่เป็นตัวเลข "
                "เช่น 2569",
                f"--round {text!r}: the fiscal year {year_text!r} must be a Buddhist Era year "
                "in digits, e.g. 2569"))
        known = {(layout.form.id, layout.form.version) for layout in layouts}
        if known and (form_id, version) not in known:
            listed = ", ".join(f"{f}:{v}" for f, v in sorted(known))
            raise RoundError(Words(
                f"--round {text!r}: ไม่มีไฟล์แม่แบบที่เป็นแบบฟอร์ม {form_id!r} รุ่น {version!r} "
                f"ไฟล์แม่แบบที่ให้มาคือ {listed}",
                f"--round {text!r}: no layout given is form {form_id!r} version "
                f"{version!r}; the layouts are {listed}"))
    year = int(year_text)
    problem = fiscal_year_problem(year)
    if problem is not None:
        raise RoundError(Words(f"--round {text!r}: {_year_problem_th(year)}",
                               f"--round {text!r}: {problem}"))
    return Round(form_id, version, year)


def declared_round(text: str | None, layouts: Sequence[Layout], *,
                   layouts_given: bool) -> Round | None:
    """The round a command counts: ``--round`` if given, else that of the single layout
    given (``layouts_given``: named by the user, not the bundled default), else None."""
    if text is not None:
        return parse_round(text, layouts)
    if layouts_given and len(layouts) == 1:
        return Round.of_layout(layouts[0])
    return None


def _year_problem_th(year: int) -> str:
    """``layout.fiscal_year_problem`` in Thai (for a year it refuses)."""
    if 1900 <= year < 2300:
        return f"{year} ดูเหมือนเป็นปีคริสต์ศักราช กรุณาระบุปีพุทธศักราช ({year + 543})"
    return (f"{year} ไม่ใช่ปีพุทธศักราชที่เป็นไปได้ (ตั้งแต่ {FISCAL_YEARS.start} ถึง "
            f"{FISCAL_YEARS.stop - 1} เช่น 2569)")


def _most_first(counts: Counter[Round]) -> list[tuple[Round, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
