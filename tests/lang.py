"""The command line in English, for the tests that read its English words (``check``,
``merge`` and ``demo`` print Thai unless ``--lang en``; tests/test_messages.py reads the Thai)."""

from __future__ import annotations

from collections.abc import Sequence

#: The commands that take --lang.
BILINGUAL = ("check", "merge", "demo")


def english(args: Sequence[object]) -> list[str]:
    """``args`` with ``--lang en`` after the command name, if the command takes it."""
    argv = [str(a) for a in args]
    if argv and argv[0] in BILINGUAL and "--lang" not in argv:
        return [argv[0], "--lang", "en", *argv[1:]]
    return argv
