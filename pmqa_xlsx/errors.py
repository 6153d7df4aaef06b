"""The exceptions pmqa_xlsx raises when nothing sensible can follow.

Problems in an agency's data are collected, not raised; these are for a broken layout, a
bad roster, an unreadable file or a failed write. Each message says where and how to fix it,
in Thai and in English when it is given as ``words.Words``: ``str(exc)`` is the English (for
logs and the library's users), ``exc.text(lang)`` the message in ``lang`` (what the command
line prints, Thai by default).
"""

from __future__ import annotations

from collections.abc import Sequence

from .words import DEFAULT_LANG, Lang, Words, in_lang


class PmqaError(Exception):
    """Base class: the CLI turns any of these into a message and exit code 1.

    Raised with one ``Words``, the error has a message in each language (``text``); raised
    with a plain string, that string is its message in both."""

    def __init__(self, *args: object) -> None:
        given = args[0] if len(args) == 1 and isinstance(args[0], Words) else None
        super().__init__(*((given.en,) if given is not None else args))
        # a subclass may set its words itself before calling this, with its own text
        self.words: Words | None = given or getattr(self, "words", None)

    def text(self, lang: Lang = DEFAULT_LANG) -> str:
        """The message in ``lang``."""
        return self.words.text(lang) if self.words is not None else str(self)


class ProblemsError(PmqaError):
    """A file with one or more located problems, all listed in ``problems`` (each a string,
    or ``Words`` when it is worded in both languages)."""

    #: What the file is, in words: "the layout", "the manifest"...
    what = Words("ไฟล์", "file")
    #: What follows from the problems, appended to the head ("; nothing was written").
    tail = Words("", "")

    #: Problems the message lists; all are in ``problems``.
    LISTED = 100

    def __init__(self, source: str, problems: Sequence[str | Words]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__(self._rendered("en"))

    def text(self, lang: Lang = DEFAULT_LANG) -> str:
        return self._rendered(lang)

    def problems_in(self, lang: Lang) -> tuple[str, ...]:
        """The problems, each in ``lang`` (a plain string is the same in both)."""
        return tuple(str(in_lang(p, lang)) for p in self.problems)

    def _rendered(self, lang: Lang) -> str:
        count = len(self.problems)
        if lang == "th":
            head = f"{self.what.th} {self.source}: พบปัญหา {count:,} รายการ{self.tail.th}"
        else:
            head = (f"{self.what.en} {self.source}: {count:,} problem"
                    f"{'s' if count != 1 else ''}{self.tail.en}")
        listed = list(self.problems_in(lang)[:self.LISTED])
        if count > self.LISTED:
            rest = count - self.LISTED
            listed.append(f"... และอีก {rest:,} รายการ (กรุณาแก้รายการข้างบนก่อน รายการที่เหลือ"
                          "มักเป็นผลจากรายการเหล่านี้)" if lang == "th" else
                          f"... and {rest:,} more (fix these first: the rest often follow "
                          "from them)")
        return "\n  ".join([head, *listed])


class LayoutError(ProblemsError):
    """A layout file that cannot be used; each problem starts with its YAML path
    (``$.sheets[0].sections[1].id: ...``). The problems are for the layout's author, in
    English; the head is in both languages."""

    what = Words("ไฟล์แม่แบบ (layout)", "layout")


class ManifestError(ProblemsError):
    """A manifest (the ``manifest.csv`` of ``generate --roster``) that cannot be used; each
    problem starts with its line number."""

    what = Words("รายการแบบฟอร์มที่ออกให้ (manifest)", "manifest")
    tail = Words(" จึงไม่ได้ตรวจแบบฟอร์มใดกับรายการนี้", "; no return was checked against it")


class RosterError(ProblemsError):
    """A roster that cannot be used; each problem (Thai and English ``Words``) starts with its
    line number. ``header_line`` is the line taken as the header (said when it is not 1);
    ``sheet`` the sheet read, said when it is not the first one looked at."""

    what = Words("บัญชีรายชื่อหน่วยงาน (roster)", "roster")
    tail = Words(" จึงไม่ได้เขียนไฟล์ใด", "; nothing was written")

    def __init__(self, source: str, problems: Sequence[str | Words], *,
                 header_line: int | None = None, sheet: str | None = None) -> None:
        self.header_line = header_line
        self.sheet = sheet
        tail = type(self).tail
        if sheet is not None:  # the roster is on a sheet other than the first looked at
            tail += Words(f" (แผ่นงาน {sheet!r})", f" (sheet {sheet!r})")
        if header_line is not None and header_line > 1:
            tail += Words(f" (หัวตารางคือแถว {header_line})", f" (header: line {header_line})")
        self.tail = tail
        super().__init__(source, problems)
