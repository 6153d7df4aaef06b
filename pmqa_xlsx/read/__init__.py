"""The reader: one returned workbook -> identity, answers, indicators and located problems.

Returns are untrusted. The reader identifies the form from the metadata sheet (whatever its
visibility) and matches it to one of the layouts given (by fingerprint first), checks every
locked label around the inputs to catch a sheet that was unprotected and edited, then reads
each input cell through the layout's plan: values as people type them, every one with its
sheet and cell, every doubt a located problem. Percent success and score are recomputed by
each table's rule, and the checklist score by the layout's points; cached formula results are
only compared. Reading always returns: a file that cannot be read is a result with state
``rejected``.

One module per concern:

- ``reader``: one file from end to end (``read_return``, ``read_raw``, ``bind_plans``);
- ``identify``: what is never a return, what is not a workbook, the layouts of a call, the
  metadata sheet, and the layout a return is matched to;
- ``plan``: what the reader looks up, compiled once per (layout fingerprint, fiscal year);
- ``structure``: the labels, values where the form has none, cells far beyond it;
- ``inputs``: the input cells' values as typed and as shown, and what no one may have seen;
- ``indicators``: the indicator rows, recomputed, and their formula cells checked;
- ``scores``: the checklist score, recomputed, and its formula cell checked;
- ``frames``: the answers, indicators and scores frames of many reads;
- ``records``: ``Identity``, ``ReadReturn``, ``ReturnResult``; ``text``: values as text.
"""

from __future__ import annotations

from .frames import (
    ANSWER_COLUMNS,
    INDICATOR_COLUMNS,
    SCORE_COLUMNS,
    answers_frame,
    indicators_frame,
    scores_frame,
)
from .identify import (
    LOCK_PREFIXES,
    SYSTEM_FILES,
    TEMP_SUFFIXES,
    LayoutSet,
    layout_set,
    never_a_return,
)
from .inputs import MAX_FORMAT_CHARS
from .plan import Plan, PlanKey, plan_for
from .reader import bind_plans, read_raw, read_return
from .records import Identity, IndicatorValues, ReadReturn, ReturnResult
from .structure import STRAYS_LISTED

__all__ = [
    "ANSWER_COLUMNS",
    "INDICATOR_COLUMNS",
    "LOCK_PREFIXES",
    "MAX_FORMAT_CHARS",
    "SCORE_COLUMNS",
    "STRAYS_LISTED",
    "SYSTEM_FILES",
    "TEMP_SUFFIXES",
    "Identity",
    "IndicatorValues",
    "LayoutSet",
    "Plan",
    "PlanKey",
    "ReadReturn",
    "ReturnResult",
    "answers_frame",
    "bind_plans",
    "indicators_frame",
    "layout_set",
    "never_a_return",
    "plan_for",
    "read_raw",
    "read_return",
    "scores_frame",
]
