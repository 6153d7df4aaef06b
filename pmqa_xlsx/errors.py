"""The exceptions pmqa_xlsx raises when nothing sensible can follow.

Problems in an agency's data are collected, not raised; these are for a broken layout, a
bad roster, an unreadable file or a failed write. Each message says where and how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence


class PmqaError(Exception):
    """Base class: the CLI turns any of these into a message and exit code 1."""


class LayoutError(PmqaError):
    """A layout file that cannot be used; ``problems`` lists every problem found, each
    starting with its YAML path (``$.sheets[0].sections[1].id: ...``)."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"layout {source}: {count} problem{'s' if count != 1 else ''}"
        super().__init__("\n  ".join([head, *self.problems]))


class RosterError(PmqaError):
    """A roster that cannot be used; ``problems`` lists every bad row with its line number."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"roster {source}: {count} problem{'s' if count != 1 else ''}; nothing was written"
        super().__init__("\n  ".join([head, *self.problems]))
