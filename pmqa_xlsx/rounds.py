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
from .layout import Layout, fiscal_year_problem


@dataclass(frozen=True, slots=True, order=True)
class Round:
    """One round: form id, version and fiscal year (Buddhist Era)."""

    form_id: str
    version: str
    fiscal_year: int

    def __str__(self) -> str:
        return f"{self.form_id}:{self.version}:{self.fiscal_year}"

    def describe(self) -> str:
        """The round in words: ``fiscal year 2569 (form pmqa4-cat3-cat7.2 version 2562.1)``."""
        return f"fiscal year {self.fiscal_year} (form {self.form_id} version {self.version})"

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

        def of(r: Round) -> str:
            many = self.agencies.get(r)
            return "" if many is None else f" from {many} agenc{'ies' if many != 1 else 'y'}"
        listed = "\n".join(f"  --round {r}   {n} return{'s' if n != 1 else ''}{of(r)} "
                           f"({r.describe()})" for r, n in _most_first(counts))
        super().__init__(
            "the returns are of more than one round; a merge counts one round only, and no "
            "round was declared. Merge again with the round to count:\n" + listed
            + "\n(returns of the other rounds are then listed as other_round, not counted)")


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
            known = ", ".join(f"{f}:{v}:YEAR" for f, v in forms) or "none"
            raise RoundError(f"--round {text}: the layouts given are of {len(forms)} forms or "
                             f"versions, and not one of them alone is for {text}, so the year "
                             f"alone does not say which; give FORM:VERSION:YEAR, one of: "
                             f"{known}")
        (form_id, version), year_text = forms[0], text
    else:
        parts = text.rsplit(":", 2)
        head, _, tail = text.rpartition(":")
        named = [(f, v) for f, v in {(layout.form.id, layout.form.version)
                                     for layout in layouts} if f"{f}:{v}" == head.strip()]
        if len(named) == 1:  # a version (or form id) that itself holds ':'
            parts = [*named[0], tail]
        if len(parts) != 3 or not all(p.strip() for p in parts):
            raise RoundError(f"--round {text!r}: give FORM:VERSION:YEAR (e.g. "
                             "pmqa4-cat3-cat7.2:2562.1:2569) or a fiscal year alone (2569)")
        form_id, version, year_text = (p.strip() for p in parts)
        if not year_text.isdigit():
            raise RoundError(f"--round {text!r}: the fiscal year {year_text!r} must be a "
                             "Buddhist Era year in digits, e.g. 2569")
        known = {(layout.form.id, layout.form.version) for layout in layouts}
        if known and (form_id, version) not in known:
            listed = ", ".join(f"{f}:{v}" for f, v in sorted(known))
            raise RoundError(f"--round {text!r}: no layout given is form {form_id!r} version "
                             f"{version!r}; the layouts are {listed}")
    year = int(year_text)
    problem = fiscal_year_problem(year)
    if problem is not None:
        raise RoundError(f"--round {text!r}: {problem}")
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


def _most_first(counts: Counter[Round]) -> list[tuple[Round, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
