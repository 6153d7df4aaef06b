"""Layout YAML read within bounds, each problem with its place.

This module owns turning the text of a layout file into plain data (mappings, lists, text,
numbers, true/false, null) for layout.py to check. Reading is bounded whatever the file
holds: its size is capped before parsing; aliases are refused (a value written once cannot
stand for millions: the "billion laughs"); nesting is capped; and the data is composed event
by event, without recursion, so no depth of ``[[[[`` can exhaust the stack.

Problems name their YAML path and line, ``$.form.title (line 12): ...``. A key given twice
and an alias are recorded and reading goes on, so each is one problem among the others (the
value in its place reads as ``REPORTED``, which the checker passes over quietly). A syntax
error stops reading; it is reported at the line where the construct it breaks opened (an
unclosed quote at its opening quote), with where the parser noticed.

libyaml parses when PyYAML has it (about 20 times faster); a file it refuses is parsed again
by PyYAML's own parser, whose messages are the ones reported, so the messages do not depend
on how PyYAML was installed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

#: The largest layout file read, in bytes of UTF-8 (the bundled layout is about 20,000).
MAX_LAYOUT_BYTES = 1_000_000
#: The deepest nesting of lists and mappings (the bundled layout nests 12 deep).
MAX_DEPTH = 50
#: Problems of reading listed one by one; the rest are counted (a file of aliases has many).
MAX_LISTED = 50

_FAST_LOADER = getattr(yaml, "CSafeLoader", None)
_STR = "tag:yaml.org,2002:str"
# Plain scalars YAML 1.1 gives tags no safe constructor builds: text, as they read.
_AS_TEXT = {"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"}
_COLLECTION_TAGS = {None, "!", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"}
# The scalars a safe constructor builds (the rest of its tags build collections or objects).
_SCALAR_TAGS = {f"tag:yaml.org,2002:{name}"
                for name in ("null", "bool", "int", "float", "binary", "timestamp")}


class _Reported:
    """A value whose problem is already reported: checks of it stay quiet."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<reported>"


#: Stands in for a value already reported as a problem (an alias, an unknown tag).
REPORTED: Any = _Reported()


@dataclass(frozen=True, slots=True)
class YamlRead:
    """What a layout file's text holds: its data, and the problems found reading it.

    ``data`` is None when reading stopped (``stopped``: a syntax error, a file too large or
    nested too deep); otherwise it is the whole document, with ``REPORTED`` in the place of
    each value a problem is about.
    """

    data: Any
    problems: tuple[str, ...]
    stopped: bool


def read_yaml(text: str) -> YamlRead:
    """Read the text of a layout file (see the module docstring for the bounds)."""
    size = len(text) if len(text) <= MAX_LAYOUT_BYTES // 4 else len(  # UTF-8: 4 bytes at most
        text.encode("utf-8", "surrogatepass"))
    if size > MAX_LAYOUT_BYTES:
        return YamlRead(None, (too_large(size),), True)
    if _FAST_LOADER is not None:
        try:
            return _Composer().read(yaml.parse(text, Loader=_FAST_LOADER))
        except (yaml.YAMLError, UnicodeError):
            pass  # read again below, for PyYAML's messages (and escapes libyaml refuses)
    try:
        return _Composer().read(yaml.parse(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        runaway = _runaway_quote(text, exc.problem_mark)
        return YamlRead(None, (runaway or syntax_problem(exc),), True)
    except yaml.reader.ReaderError as exc:  # a character YAML does not take, at a position
        line = text.count("\n", 0, exc.position) + 1
        return YamlRead(None, (f"$ (line {line}): not valid YAML: the character "
                               f"U+{exc.character:04X} cannot be in a YAML file (nor shown in "
                               "a workbook); remove it",), True)
    except yaml.YAMLError as exc:  # no position known
        return YamlRead(None, (f"$: not valid YAML: {exc}",), True)
    except RecursionError:  # not expected (nothing here recurses); never a traceback
        return YamlRead(None, (f"$: not valid YAML: nested too deeply to read; a layout "
                               f"nests at most {MAX_DEPTH} levels",), True)


def too_large(size: int) -> str:
    """The problem of a layout file of ``size`` bytes, over MAX_LAYOUT_BYTES."""
    return (f"$: the file is {size:,} bytes; a layout is at most {MAX_LAYOUT_BYTES:,} (the "
            "bundled one is about 20,000): this is not a layout, or it repeats far too much")


def syntax_problem(exc: yaml.MarkedYAMLError) -> str:
    """A YAML syntax error as a problem at the line where the construct it breaks opened."""
    context, opened = exc.context or "", exc.context_mark
    problem, noticed = exc.problem or "", exc.problem_mark
    at = _at(noticed) if noticed else "the end of the file"
    line = noticed.line + 1 if noticed else 1
    if "'\\t'" in problem or "tab character" in problem:
        return (f"$ (line {line}): not valid YAML: a tab at {at}; YAML indents with spaces "
                "only: replace the tab with spaces")
    if opened is not None and "quoted scalar" in context and "end of stream" in problem:
        return (f"$ (line {opened.line + 1}): not valid YAML: the quote opened at "
                f"{_at(opened)} is not closed (the parser noticed at {at}); close it")
    if opened is not None and ("flow sequence" in context or "flow mapping" in context):
        bracket = "[" if "sequence" in context else "{"
        closing = "]" if bracket == "[" else "}"
        return (f"$ (line {opened.line + 1}): not valid YAML: the '{bracket}' opened at "
                f"{_at(opened)} is not closed (the parser noticed at {at}: {problem}); close "
                f"it with '{closing}', and separate its entries with ','")
    if "block" in context and opened is not None:
        return (f"$ (line {line}): not valid YAML: {problem} at {at}, in the "
                f"{'list' if 'sequence' in context else 'mapping'} that starts at "
                f"{_at(opened)}; check the indentation: the keys of one mapping, and the "
                "'-' of one list, start in the same column (spaces only)")
    if "mapping values are not allowed" in problem:
        return (f"$ (line {line}): not valid YAML: a ':' at {at} where no key can start; put "
                "text that holds ': ' in quotes, or check the indentation")
    where = f" ({context} at {_at(opened)})" if context and opened is not None else ""
    return f"$ (line {line}): not valid YAML: {problem} at {at}{where}"


def _runaway_quote(text: str, noticed: Any) -> str | None:
    """The problem of a quote left open, when that is the likely cause of a syntax error: a
    quoted text may run over lines in YAML, so an unclosed quote is closed by the next quote
    of the file, and the parser stops only lines later, somewhere that is fine. The last
    quoted text that runs over lines before the error is named at the line it opens; a
    layout's texts are written on one line (a line break in them is ``\\n``)."""
    if noticed is None:
        return None
    runaway = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.line > noticed.line:
                break
            if isinstance(token, yaml.ScalarToken) and token.style in ('"', "'") \
                    and token.end_mark.line > token.start_mark.line:
                runaway = token
    except yaml.YAMLError:
        pass  # the error itself: the tokens before it are what counts
    if runaway is None:
        return None
    opened = runaway.start_mark
    return (f"$ (line {opened.line + 1}): not valid YAML: the quote opened at {_at(opened)} "
            f"is closed only at {_at(runaway.end_mark)}, so the text runs over "
            f"{runaway.end_mark.line - opened.line + 1} lines and the parser stops at "
            f"{_at(noticed)}; close the quote on line {opened.line + 1} (a line break in a "
            "text is written \\n)")


def _at(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _line(event: Any) -> int:
    """The line an event from ``yaml.parse`` starts on, from 1. Both parsers (libyaml's and
    PyYAML's) mark every event; the stubs type the marks as optional only because an Event
    can be built without them."""
    return event.start_mark.line + 1


# --------------------------------------------------------------------------------------------
# Private: composing plain data from parser events, without recursion
# --------------------------------------------------------------------------------------------


class _Stop(Exception):
    """Reading cannot go on: the problem."""


class _Open:
    """A list or mapping being filled, where it is, and (for a mapping) its pending key."""

    __slots__ = ("value", "path", "tagged", "key", "has_key", "keep", "key_line", "lines")

    def __init__(self, value: list[Any] | dict[Any, Any], path: str, tagged: bool) -> None:
        self.value = value
        self.path = path
        self.tagged = tagged  # an explicit tag already reported: the value is REPORTED
        self.key: Any = None
        self.has_key = False
        self.keep = True  # whether the pending entry is kept (not a second of its key)
        self.key_line = 0
        self.lines: dict[Any, int] = {}  # key -> the line it was first given at


class _Composer:
    """Plain data from a stream of parser events, recording located problems."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.unlisted = 0
        self.stack: list[_Open] = []
        self.root: Any = None
        self.documents = 0
        self.resolver = Resolver()
        self.constructor = SafeConstructor()

    def read(self, events: Iterable[Event]) -> YamlRead:
        try:
            for event in events:
                self.event(event)
        except _Stop as stop:
            return YamlRead(None, (*self.listed(), str(stop)), True)
        return YamlRead(self.root, self.listed(), False)

    def report(self, problem: str) -> None:
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)
        else:
            self.unlisted += 1

    def listed(self) -> tuple[str, ...]:
        more = [f"$: and {self.unlisted:,} more problems like these (aliases, keys given twice, "
                "tags)"] if self.unlisted else []
        return (*self.problems, *more)

    def event(self, event: Event) -> None:
        if isinstance(event, ScalarEvent):
            self.add(self.scalar(event), event)
        elif isinstance(event, CollectionStartEvent):
            path = self.path_of_next()
            if len(self.stack) >= MAX_DEPTH:
                raise _Stop(f"{path} (line {_line(event)}): nested more than "
                            f"{MAX_DEPTH} lists and mappings deep; a layout needs about 12")
            tagged = event.tag not in _COLLECTION_TAGS
            if tagged:
                self.tag_problem(path, event)
            value: list[Any] | dict[Any, Any] = (
                {} if isinstance(event, MappingStartEvent) else [])
            self.stack.append(_Open(value, path, tagged))
        elif isinstance(event, MappingEndEvent | SequenceEndEvent):
            done = self.stack.pop()
            self.add(REPORTED if done.tagged else done.value, event)
        elif isinstance(event, AliasEvent):
            self.report(
                f"{self.path_of_next()} (line {_line(event)}): an alias "
                f"(*{event.anchor}) stands for a value written elsewhere, and a layout takes "
                "no aliases: write the value out in full here")
            self.add(REPORTED, event)
        elif isinstance(event, DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise _Stop(f"$ (line {_line(event)}): a second YAML document "
                            "starts here ('---'); a layout file holds one document")

    def scalar(self, event: ScalarEvent) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolver.resolve(ScalarNode, event.value, event.implicit)
        if tag == _STR or tag in _AS_TEXT:
            return event.value
        build = SafeConstructor.yaml_constructors.get(tag) if tag in _SCALAR_TAGS else None
        if build is None:
            self.tag_problem(self.path_of_next(), event)
            return REPORTED
        try:
            return build(self.constructor, ScalarNode(  # a node keeps libyaml's Mark as well:
                tag, event.value,
                event.start_mark, event.end_mark))  # type: ignore[arg-type]  # stub too narrow
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            self.report(f"{self.path_of_next()} (line {_line(event)}): "
                                 f"{event.value!r} cannot be read as {tag} ({exc})")
            return REPORTED

    def tag_problem(self, path: str, event: Any) -> None:
        self.report(f"{path} (line {_line(event)}): the tag {event.tag} "
                             "is not part of the layout format; remove it")

    def path_of_next(self) -> str:
        """The YAML path of the value the next event gives."""
        if not self.stack:
            return "$"
        top = self.stack[-1]
        if isinstance(top.value, list):
            return f"{top.path}[{len(top.value)}]"
        return f"{top.path}.{top.key}" if top.has_key else top.path

    def add(self, value: Any, event: Event) -> None:
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if isinstance(top.value, list):
            top.value.append(value)
        elif top.has_key:
            if top.keep:
                top.value[top.key] = value
                top.lines[top.key] = top.key_line
            top.has_key = False
        else:
            self.key(top, value, _line(event))

    def key(self, top: _Open, key: Any, line: int) -> None:
        top.has_key, top.key_line, top.keep = True, line, True
        if isinstance(key, list | dict) or key is REPORTED:
            top.key, top.keep = "?", False
            if key is not REPORTED:
                self.report(f"{top.path} (line {line}): a key must be text, found "
                                     f"{'a list' if isinstance(key, list) else 'a mapping'}")
            return
        top.key = key
        if key in top.lines:
            top.keep = False
            self.report(f"{top.path}.{key} (line {line}): the key '{key}' is given "
                                 f"twice in one mapping (first at line {top.lines[key]}); "
                                 "keep one")
