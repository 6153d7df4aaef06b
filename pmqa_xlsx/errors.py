"""The exceptions pmqa_xlsx raises when nothing sensible can follow.

Problems in an agency's data are collected, not raised; these are for a broken layout, a
bad roster, an unreadable file or a failed write. Each message says where and how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence

from .words import Words


class PmqaError(Exception):
    """Base class: the CLI turns any of these into a message and exit code 1."""


class ProblemsError(PmqaError):
    """A file with one or more located problems, all listed in ``problems``."""

    what = "file"
    tail = ""

    #: Problems the message lists; all are in ``problems``.
    LISTED = 100

    def __init__(self, source: str, problems: Sequence[str | Words]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"{self.what} {source}: {count} problem{'s' if count != 1 else ''}{self.tail}"
        listed = [str(p) for p in self.problems[:self.LISTED]]
        if count > self.LISTED:
            listed.append(f"... and {count - self.LISTED:,} more (fix these first: the rest "
                          "often follow from them)")
        super().__init__("\n  ".join([head, *listed]))


class LayoutError(ProblemsError):
    """A layout file that cannot be used; each problem starts with its YAML path
    (``$.sheets[0].sections[1].id: ...``)."""

    what = "layout"


class ManifestError(ProblemsError):
    """A manifest (the ``manifest.csv`` of ``generate --roster``) that cannot be used; each
    problem starts with its line number."""

    what = "manifest"
    tail = "; no return was checked against it"


class RosterError(ProblemsError):
    """A roster that cannot be used; each problem (Thai and English ``Words``) starts with its
    line number. ``header_line`` is the line taken as the header (said when it is not 1)."""

    what = "roster"
    tail = "; nothing was written"

    def __init__(self, source: str, problems: Sequence[str | Words], *,
                 header_line: int | None = None) -> None:
        self.header_line = header_line
        if header_line is not None and header_line > 1:
            self.tail = (f"{type(self).tail} (header: line {header_line}, "
                         f"หัวตารางคือแถว {header_line})")
        super().__init__(source, problems)
