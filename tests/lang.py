"""The command line in English, for the tests that read its English words (``check``,
``merge`` and ``demo`` print Thai unless ``--lang en``; tests/test_messages.py reads the Thai)."""

from __future__ import annotations

import re
from collections.abc import Sequence

#: The commands that take --lang.
BILINGUAL = ("check", "merge", "demo")


def english(args: Sequence[object]) -> list[str]:
    """``args`` with ``--lang en`` after the command name, if the command takes it."""
    argv = [str(a) for a in args]
    if argv and argv[0] in BILINGUAL and "--lang" not in argv:
        return [argv[0], "--lang", "en", *argv[1:]]
    return argv


# What a Thai message may hold in Latin letters: the names of products and formats, and
# (removed before looking) quoted text (values found, menus and file types as the
# applications name them), <elements>, [codes], and tokens holding a digit, a dot, a slash, an
# underscore or a hyphen (files, parts, cells, codes, ids, options).
PRODUCTS = frozenset({"Excel", "LibreOffice", "OpenDocument", "YAML", "XML", "HTML", "CSV", "PDF",
                      "DOCTYPE", "ENTITY", "MB", "docProps", "xNN"})
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|<[^>]*>|\[[^\]]*\]|\{[^}]*\}")
_TOKEN = re.compile(r"[^\s,;:()]+")
_TECHNICAL = re.compile(r"[0-9./\\_\-=@$!]")
_LATIN = re.compile(r"[A-Za-z]{3,}")


def english_left(text: str) -> list[str]:
    """The Latin words of ``text`` that are not allowed in a Thai message (see PRODUCTS)."""
    text = _QUOTED.sub(" ", text)
    left = []
    for token in _TOKEN.findall(text):
        if _TECHNICAL.search(token):
            continue
        left.extend(w for w in _LATIN.findall(token) if w not in PRODUCTS)
    return left
