"""Bilingual text: one message in Thai and in English, and the choice between them.

Every message a person acts on is Thai first (the agencies' officers and the ministry staff
read Thai); the English is for the README's readers and for searching. Code that composes a
message gives both as one ``Words``; whoever prints it picks the language (``check`` and
``merge`` print Thai unless ``--lang en``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lang = Literal["th", "en"]
LANGS: tuple[Lang, ...] = ("th", "en")
DEFAULT_LANG: Lang = "th"


@dataclass(frozen=True, slots=True)
class Words:
    """One message in Thai and English."""

    th: str
    en: str

    def text(self, lang: Lang = DEFAULT_LANG) -> str:
        """The message in ``lang``."""
        return self.th if lang == "th" else self.en

    def __add__(self, other: Words | str) -> Words:
        if isinstance(other, Words):
            return Words(self.th + other.th, self.en + other.en)
        return Words(self.th + other, self.en + other)

    def __str__(self) -> str:
        return self.th


def in_lang(value: object, lang: Lang = DEFAULT_LANG) -> object:
    """``value`` in ``lang`` if it is ``Words``, else unchanged (labels, found values)."""
    return value.text(lang) if isinstance(value, Words) else value
