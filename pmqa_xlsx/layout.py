"""The layout: a YAML definition of a paper form, loaded into frozen dataclasses.

This module owns the layout format (documented in docs/layout-format.md), its validation,
its fingerprint and the rule of a plausible fiscal year. Loading checks everything and reports
every problem at once, each with its YAML path (``$.sheets[0].sections[1].items[4].id:
duplicate id '3.2.1' ...``); unknown keys are errors so that a typo cannot pass silently.

Loading runs in three steps: the text is read within bounds (yamlread.py: size, aliases,
nesting, keys given twice, syntax errors at their line); the data is checked and built into
the model (the checker below); and a layout with no problem so far is measured on its cell map
against every limit of Excel and of the reader (limits.py), so that a layout that loads can be
generated, opened in Excel, and read back. Nothing here does spreadsheet I/O.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal, cast

from . import prompts
from .errors import LayoutError, PmqaError
from .xlsxtext import EXCEL_MAX_TEXT
from .yamlread import MAX_LAYOUT_BYTES, REPORTED, read_yaml, too_large

#: Keys of a roster that identity fields may be pre-filled from.
ROSTER_KEYS = ("agency_code", "agency_name", "ministry")
#: The name of the very hidden sheet that carries the workbook's metadata.
META_SHEET = "_meta"
#: The metadata sheet's record of the cells ``generate --prefill`` carried over, one row each
#: from META_CARRIED_ROW (zero-based; below the rows the reader identifies a return by):
#: META_CARRIED_KEY in column A, then the cell's sheet, its A1 reference and the value carried.
#: The reader takes a return whose only filled answers are such cells, still holding those
#: values, for an empty one. At most META_CARRIED_MAX rows are read.
META_CARRIED_KEY = "carried"
META_CARRIED_ROW = 50
META_CARRIED_MAX = 20_000
#: The name of the first sheet of a feedback copy (feedback.py), which the reader ignores
#: when it carries FEEDBACK_MARKER: no form may have a sheet of that name.
FEEDBACK_SHEET = "ผลการตรวจ"
FEEDBACK_MARKER = "pmqa_xlsx feedback 1"
FEEDBACK_MARKER_AT = (0, 7)  # H1 (zero-based row, column), in a hidden column
#: The sheet of an agency's one-page result (agency_result.py), also put into its feedback
#: copy: the reader ignores it when it carries RESULT_MARKER at FEEDBACK_MARKER_AT, so no
#: form may have a sheet of that name either.
RESULT_SHEET = "ผลการประเมิน"
RESULT_MARKER = "pmqa_xlsx agency result 1"
#: Every sheet the reader ignores by its reserved name and marker.
RESERVED_SHEETS = {FEEDBACK_SHEET: FEEDBACK_MARKER, RESULT_SHEET: RESULT_MARKER}
#: The plausible fiscal years, Buddhist Era (see fiscal_year_problem).
FISCAL_YEARS = range(2400, 2801)
#: Excel's limit on a sheet name, in UTF-16 code units.
SHEET_NAME_MAX = 31
#: A sheet name Excel keeps for itself (compared ignoring case).
EXCEL_RESERVED_SHEET = "History"
#: The layout used when none is named.
DEFAULT_LAYOUT = "pmqa4-2562"

_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_FIELD_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_ITEM_ID = re.compile(r"^[0-9A-Za-z]+(\.[0-9A-Za-z]+)*$")
# Characters no workbook can show as text (YAML's escapes can make them): control characters
# other than tab and new line, unpaired surrogates, and the non-characters U+FFFE and U+FFFF.
_NOT_TEXT = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


#: Lines a text blank's box holds by default: a typical answer (a sentence or two, about 150
#: to 200 characters) at the answer column's width (about 65 Thai characters a line).
DEFAULT_INPUT_LINES = 3
#: The most lines a box may be given (12 lines of 16-point text fill most of an Excel row).
MAX_INPUT_LINES = 12


@dataclass(frozen=True, slots=True, kw_only=True)
class Form:
    """Which form this is: ``id`` and ``version`` identify a returned workbook's layout."""

    id: str
    version: str
    title: str
    fiscal_year: int  # Buddhist Era


@dataclass(frozen=True, slots=True, kw_only=True)
class Style:
    """The form's font, and ``input_lines``: how many lines of its font a text blank's box
    holds unless the blank says (its ``lines``)."""

    font: str
    size: float
    input_lines: int = DEFAULT_INPUT_LINES


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """One status a checklist row can be ticked in."""

    id: str
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Legend:
    input: str
    locked: str
    formula: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Instructions:
    sheet: str
    title: str
    lines: tuple[str, ...]
    legend: Legend
    completeness: str
    indicator_count: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityField:
    """A field of the identity block; ``roster`` names the roster column that pre-fills it."""

    id: str
    label: str
    roster: str | None = None
    prompt: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    title: str
    fields: tuple[IdentityField, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Blank:
    """A dotted blank of the paper form: free text written after ``label``; ``lines``: how
    many lines its box holds (``style.input_lines`` when None)."""

    id: str
    label: str
    prompt: str | None = None
    lines: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GridLine:
    id: str
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Grid:
    """A small table of blanks inside a row: one blank per (row, column)."""

    rows: tuple[GridLine, ...]
    columns: tuple[GridLine, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One row of the paper table: ticked on its own, with its fixed text and blanks."""

    id: str
    text: str | None = None
    blanks: tuple[Blank, ...] = ()
    grid: Grid | None = None
    after: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """A numbered topic (``3.1.1``); one row, or several sub-rows."""

    id: str
    topic: str
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """A numbered heading (``3.1``) with no status of its own."""

    id: str
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChecklistColumns:
    id: str
    topic: str
    status: str
    details: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChecklistSheet:
    """A table of rows ticked in one of the statuses, with blanks to write in."""

    kind: Literal["checklist"] = "checklist"
    id: str
    sheet: str
    title: str
    columns: ChecklistColumns
    sections: tuple[Section, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicatorColumns:
    number: str
    indicator: str
    target: str
    target_year: str  # a template with {year}
    results: str
    percent_success: str
    score: str
    unit: str | None = None
    direction: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicatorTable:
    id: str
    title: str
    description: str
    rows: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NumberRule:
    """What a number cell accepts; ``None`` bounds are open."""

    greater_than: float | None = None
    at_least: float | None = None
    at_most: float | None = None
    whole_number: bool = False

    def accepts(self, value: float) -> bool:
        """Whether ``value`` passes this rule."""
        if self.greater_than is not None and not value > self.greater_than:
            return False
        if self.at_least is not None and value < self.at_least:
            return False
        if self.whole_number and value != int(value):
            return False
        return not (self.at_most is not None and value > self.at_most)


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicatorSheet:
    """Tables of indicators: a target, results for some years, percent success and score."""

    kind: Literal["indicators"] = "indicators"
    id: str
    sheet: str
    title: str
    subtitle: str | None
    intro: str | None
    columns: IndicatorColumns
    target_year: int  # offset from the fiscal year
    result_years: tuple[int, ...]  # offsets from the fiscal year, in column order
    tables: tuple[IndicatorTable, ...]
    target_validation: NumberRule
    result_validation: NumberRule


#: How percent success is taken where lower is better: ``ratio`` target ÷ result × 100,
#: ``mirror`` 100 + (100 − result ÷ target × 100).
LowerIsBetter = Literal["ratio", "mirror"]
LOWER_IS_BETTER: tuple[LowerIsBetter, ...] = ("ratio", "mirror")


@dataclass(frozen=True, slots=True, kw_only=True)
class LinearScore:
    """min(max(percent, 0), full_at_percent) ÷ full_at_percent × max: linear, capped."""

    kind: Literal["linear"] = "linear"
    max: float
    full_at_percent: float
    decimals: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BandedScore:
    """Piecewise linear in bands: ``below_floor`` under ``floor_percent``; ``at_floor`` there,
    plus ``per_percent`` for each percent above it; ``at_ceiling`` from ``ceiling_percent``."""

    kind: Literal["banded"] = "banded"
    floor_percent: float
    at_floor: float
    per_percent: float
    ceiling_percent: float
    at_ceiling: float
    below_floor: float
    decimals: int


ScoreRule = LinearScore | BandedScore


@dataclass(frozen=True, slots=True, kw_only=True)
class TableRule:
    """How the rows of one indicator table are scored (see pmqa_xlsx.rules): the direction
    labels, the percent's decimals, how lower-is-better is taken, and the score rule."""

    higher: str  # the direction label meaning higher is better (also: blank)
    lower: str  # the direction label meaning lower is better
    percent_decimals: int
    lower_is_better: LowerIsBetter = "ratio"
    score: ScoreRule


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusPoints:
    """The points a checklist row earns in one status."""

    id: str
    label: str
    points: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ChecklistScore:
    """An agency's checklist score: the sum of its rows' points, by status (blank: 0)."""

    label: str
    points: tuple[StatusPoints, ...]  # one per status, in the statuses' order
    decimals: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Rules:
    """The percent-success and score rules (see pmqa_xlsx.rules): ``default`` for every table
    that ``tables`` (table id -> its rule) does not name, and the checklist score if any."""

    higher: str  # the direction label meaning higher is better (also: blank)
    lower: str  # the direction label meaning lower is better
    percent_decimals: int
    default: TableRule
    tables: tuple[tuple[str, TableRule], ...] = ()
    checklist_score: ChecklistScore | None = None

    def for_table(self, table_id: str) -> TableRule:
        """The rule of the indicator table ``table_id``."""
        return next((rule for tid, rule in self.tables if tid == table_id), self.default)


#: The kinds of check a layout may declare under ``checks.list`` (see pmqa_xlsx.checks).
CHECK_KINDS = ("status_required", "details_required", "details_unexpected", "indicator_name",
               "result_without_target", "target_without_result")
#: The mark that starts a warning's line in the workbook's live lists (never in a message).
WARNING_MARK = "\u26a0"


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One declared check (``checks.list[i]``): what it checks, how bad, and what it says.
    ``status`` is a status label (the details checks); ``blanks`` is how many of a row's
    blanks ``details_required`` asks for (None: all of them)."""

    kind: str
    severity: Literal["error", "warning"]
    message_th: str
    message_en: str
    status: str | None = None
    blanks: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Checks:
    """The form's own checks, live in the workbook and the same in the reader."""

    count: str  # the live count of errors, with {n}: "ต้องแก้ไข {n} จุด"
    warnings: str  # the live count of warnings, with {n}: "ควรตรวจสอบ {n} จุด"
    column: str  # the header of the reason column beside the inputs, and of the live list
    list: tuple[Check, ...]


Sheet = ChecklistSheet | IndicatorSheet


@dataclass(frozen=True, slots=True, kw_only=True)
class Layout:
    """A whole form. ``fingerprint`` is a sha256 of its content, independent of YAML styling."""

    form: Form
    style: Style
    statuses: tuple[Choice, ...]
    instructions: Instructions
    identity: Identity
    sheets: tuple[Sheet, ...]
    rules: Rules
    checks: Checks | None = None
    source: str = field(default="", compare=False)
    fingerprint: str = field(default="", compare=False)

    def status_labels(self) -> tuple[str, ...]:
        return tuple(choice.label for choice in self.statuses)


def canonical_json(data: Any) -> str:
    """The canonical form of a layout file's data (docs/layout-format.md, "The fingerprint"):
    compact JSON with mappings' keys sorted, lists in order, strings as they are, and every
    number that is a whole number below 2**53 written as an integer (``5`` and ``5.0``
    agree), any other as the shortest decimal that reads back the same (``0.5``, ``1e+20``).
    """
    return json.dumps(_canonical(data), ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"), allow_nan=False)


def layout_fingerprint(data: Any) -> str:
    """The fingerprint of a layout file's data: the sha256 (hex) of its canonical JSON as
    UTF-8. Comments, quoting, key order and flow or block style do not change it; any change
    of content does."""
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def _canonical(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(key): _canonical(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_canonical(value) for value in node]
    if isinstance(node, float) and node.is_integer() and abs(node) < 2**53:
        return int(node)
    if node is None or isinstance(node, str | int | float):  # bool is an int
        return node
    raise TypeError(f"no canonical form for {type(node).__name__}")  # a checked layout has none


def fiscal_year_problem(year: int) -> str | None:
    """Why ``year`` cannot be a fiscal year, or None if it can: the year is Buddhist Era,
    between 2400 and 2800, and one between 1900 and 2299 is taken for a CE year."""
    if 1900 <= year < 2300:
        return f"{year} looks like a CE year; give the Buddhist Era year ({year + 543})"
    if year not in FISCAL_YEARS:
        return (f"{year} is not a plausible Buddhist Era year ({FISCAL_YEARS.start} to "
                f"{FISCAL_YEARS.stop - 1}, e.g. 2569)")
    return None


# --------------------------------------------------------------------------------------------
# Finding and loading layouts
# --------------------------------------------------------------------------------------------


def resource_dir(name: str) -> Path:
    """A bundled folder (``layouts``, ``samples``): inside the package when installed from
    a wheel, at the top of the source checkout otherwise."""
    packaged = _package_root() / name
    if packaged.is_dir():
        return Path(str(packaged))
    return _checkout_root() / name


@functools.cache
def _package_root() -> Traversable:
    # Where the imported package lies does not change while it runs; finding it through
    # importlib costs about 50 µs, and the reader asks on every file (the bundled layouts'
    # folder). Whether a folder is there is still asked each time.
    return resources.files("pmqa_xlsx")


@functools.cache
def _checkout_root() -> Path:
    return Path(__file__).resolve().parent.parent  # resolving costs ~100 µs of system calls


def layouts_dir() -> Path:
    """The folder of bundled layouts."""
    return resource_dir("layouts")


def bundled_layouts() -> dict[str, Path]:
    """Bundled layouts by name (the file name without ``.yaml``)."""
    return {p.stem: p for p in sorted(layouts_dir().glob("*.yaml"))}


def resolve_layout_path(name_or_path: str | Path | None) -> Path:
    """A layout file from a path, or from the name of a bundled layout (default if None)."""
    if name_or_path is None:
        name_or_path = DEFAULT_LAYOUT
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"} or path.exists():
        if not path.exists():
            raise LayoutError(str(path), ["$: no such file; give a layout file or a bundled name"])
        if not path.is_file():
            raise LayoutError(str(path), ["$: not a regular file (a folder, a pipe or a device); "
                                          "give a layout file (a folder of them: --layouts)"])
        return path
    bundled = bundled_layouts()
    if str(name_or_path) in bundled:
        return bundled[str(name_or_path)]
    names = ", ".join(bundled) or "none"
    raise LayoutError(str(name_or_path), [f"$: no such layout; bundled layouts: {names}"])


def load_layout(name_or_path: str | Path | None = None) -> Layout:
    """Load and validate a layout, by bundled name or path; raise LayoutError listing every
    problem if it is not usable."""
    path = resolve_layout_path(name_or_path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_LAYOUT_BYTES + 1)  # never more: the cap is checked first
            if len(data) > MAX_LAYOUT_BYTES:
                size = os.fstat(handle.fileno()).st_size
                raise LayoutError(str(path), [too_large(max(size, len(data)))])
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LayoutError(str(path), [f"$: cannot read the file ({exc})"]) from exc
    return parse_layout(text, source=str(path))


class LayoutsError(PmqaError):
    """Several layout files of which some cannot be used: each one's LayoutError, in order."""

    def __init__(self, errors: Sequence[LayoutError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


def load_layouts(files: Iterable[str | Path] = (), dirs: Iterable[str | Path] = ()) -> tuple[
        Layout, ...]:
    """The layouts a command reads returns with: each of ``files`` (a path or a bundled
    name), then every ``*.yaml``/``*.yml`` in each of ``dirs`` (sorted by name); the bundled
    layouts when neither is given. Each file is loaded once (a file named twice counts once).

    Raises LayoutsError listing every file that does not load, each with its YAML paths, so
    that a broken layout is a problem of the command, never a reason to reject returns.
    """
    paths: list[Path] = []
    errors: list[LayoutError] = []
    for name in files:
        try:
            paths.append(resolve_layout_path(name))
        except LayoutError as exc:
            errors.append(exc)
    for folder in map(Path, dirs):
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".yaml", ".yml")
                       and p.is_file()) if folder.is_dir() else []
        if not found:
            errors.append(LayoutError(str(folder), [
                "$: holds no .yaml layout" if folder.is_dir() else "$: no such folder"]))
        paths.extend(found)
    if not paths and not errors:
        paths = list(bundled_layouts().values())
    layouts: list[Layout] = []
    seen: set[Path] = set()
    for path in paths:
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        try:
            layouts.append(load_layout(path))
        except LayoutError as exc:
            errors.append(exc)
    if errors:
        raise LayoutsError(errors)
    return tuple(layouts)


def parse_layout(text: str, *, source: str = "<string>") -> Layout:
    """Validate layout YAML text; raise LayoutError listing every problem."""
    read = read_yaml(text)
    if read.stopped:
        raise LayoutError(source, read.problems)
    checker = _Checker()
    layout = checker.layout(read.data)
    problems = [*read.problems, *checker.problems]
    if layout is not None and not problems:
        # here, not at the top: limits builds the cell map, and cellmap imports this module
        from .limits import workbook_problems

        problems = workbook_problems(layout, checker.places)
    if problems or layout is None:
        raise LayoutError(source, problems or ["$: empty layout"])
    return replace(layout, source=source, fingerprint=layout_fingerprint(read.data))


def iter_rows(sheet: ChecklistSheet) -> Iterator[tuple[Section, Item, Row]]:
    """Every row of a checklist sheet, in paper order."""
    for section in sheet.sections:
        for item in section.items:
            for row in item.rows:
                yield section, item, row


# --------------------------------------------------------------------------------------------
# Private: the checker, one method per node
# --------------------------------------------------------------------------------------------


#: A required key that is absent, or a value already reported (an alias): checks of it stay
#: quiet.
_MISSING: Any = REPORTED


@dataclass(frozen=True, slots=True)
class Places:
    """Where the checker found the parts of a layout the cell map is built from, for the
    checks on the cell map to name (limits.py)."""

    ids: dict[str, str]  # item, row, table and sheet id -> YAML path of the node
    fields: dict[tuple[str, str], str]  # (item id, field id) -> path of the blank or field


class _Fields(dict[str, Any]):
    """A checked mapping whose absent keys read as _MISSING."""

    def get(self, key: str, default: Any = _MISSING) -> Any:
        return super().get(key, default)


class _Checker:
    """Turns parsed YAML into a Layout, collecting every problem with its path."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self._ids: dict[str, str] = {}  # item/row/table id -> path where first seen
        self._sheet_names: dict[str, str] = {}
        self.places = Places(ids={}, fields={})

    # -- primitives ------------------------------------------------------------------------

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def mapping(
        self, node: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> _Fields | None:
        if node is _MISSING:
            return None
        if not isinstance(node, dict):
            self.fail(path, f"must be a mapping of keys, found {_kind(node)}")
            return None
        allowed = required + optional
        for key in node:
            if not isinstance(key, str):
                found = _kind(key) + ("" if key is None else f" {key!r}")
                self.fail(f"{path}.{key}", f"a key must be text, found {found}: use one of "
                          f"{', '.join(allowed)}")
            elif key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                tip = f"; did you mean '{hint[0]}'?" if hint else f"; allowed: {', '.join(allowed)}"
                self.fail(f"{path}.{key}", f"unknown key '{key}'{tip}")
        for key in required:
            if key not in node:
                self.fail(f"{path}.{key}", "missing; this key is required")
        return _Fields(node)

    def text(self, node: Any, path: str) -> str:
        if node is _MISSING:
            return ""
        if isinstance(node, bool) or not isinstance(node, str):
            quote = "; put it in quotes" if isinstance(node, int | float) else ""
            self.fail(path, f"must be text, found {_kind(node)} {node!r}{quote}")
            return ""
        if not node.strip():
            self.fail(path, "must not be empty")
        bad = _NOT_TEXT.search(node)
        if bad:
            self.fail(path, f"holds the character U+{ord(bad.group()):04X} at position "
                            f"{bad.start() + 1}, which is not text a workbook can show (a "
                            "control character or half of a surrogate pair, from an escape "
                            "such as \\x01 or \\ud800); remove it")
        if len(node) > EXCEL_MAX_TEXT // 2 and prompts.utf16_length(node) > EXCEL_MAX_TEXT:
            self.fail(path, f"is {prompts.utf16_length(node):,} characters; an Excel cell holds "
                            f"at most {EXCEL_MAX_TEXT:,}: shorten it")
        return node

    def optional_text(self, data: dict[str, Any], key: str, path: str) -> str | None:
        if key not in data:
            return None
        return self.text(data[key], f"{path}.{key}") or None

    def integer(self, node: Any, path: str, low: int, high: int) -> int:
        if node is _MISSING:
            return low
        if isinstance(node, bool) or not isinstance(node, int):
            self.fail(path, f"must be a whole number, found {_kind(node)} {node!r}")
            return low
        if not low <= node <= high:
            self.fail(path, f"must be between {low} and {high}, found {node}")
        return node

    def number(self, node: Any, path: str) -> float:
        if node is _MISSING:
            return 0.0
        if isinstance(node, bool) or not isinstance(node, int | float):
            self.fail(path, f"must be a number, found {_kind(node)} {node!r}")
            return 0.0
        if not abs(node) < 1e300:  # also refuses .nan and .inf
            self.fail(path, f"must be a finite number below 1e300, found {node!r}")
            return 0.0
        return float(node)

    def sequence(self, node: Any, path: str, *, min_len: int = 1) -> list[Any]:
        if node is _MISSING:
            return []
        if not isinstance(node, list):
            self.fail(path, f"must be a list, found {_kind(node)}")
            return []
        if len(node) < min_len:
            self.fail(path, f"must have at least {min_len} entr{'y' if min_len == 1 else 'ies'}")
        return node

    def field_id(self, node: Any, path: str) -> str:
        value = self.text(node, path)
        if value and not _FIELD_ID.match(value):
            self.fail(path, f"'{value}' must be lower-case letters, digits and _, like 'trend'")
        return value

    def unique(self, seen: dict[str, str], value: str, path: str, what: str) -> None:
        if not value:
            return
        if value in seen:
            self.fail(path, f"duplicate {what} '{value}' (first at {seen[value]})")
        else:
            seen[value] = path

    def form_id(self, node: Any, path: str, parent: str | None) -> str:
        """An item, row or table id: unique in the layout, and under its parent's id."""
        value = self.text(node, path)
        if not value:
            return value
        if not _ITEM_ID.match(value):
            self.fail(path, f"'{value}' must be dot-separated letters and digits, like '3.1.1'")
        elif parent and not value.startswith(parent + "."):
            self.fail(path, f"'{value}' must start with its parent's id '{parent}.'")
        self.unique(self._ids, value, path, "id")
        self.places.ids.setdefault(value, path.removesuffix(".id"))
        return value

    def each(
        self, nodes: list[Any], path: str, build: Callable[[Any, str], Any]
    ) -> tuple[Any, ...]:
        built = (build(node, f"{path}[{i}]") for i, node in enumerate(nodes))
        return tuple(b for b in built if b is not None)

    # -- nodes -----------------------------------------------------------------------------

    def layout(self, data: Any) -> Layout | None:
        root = self.mapping(
            data,
            "$",
            ("form", "statuses", "instructions", "identity", "sheets", "rules"),
            ("style", "checks"),
        )
        if root is None:
            return None
        form = self.form(root.get("form"), "$.form")
        style = self.style(root.get("style", {"font": "TH Sarabun New", "size": 16}), "$.style")
        statuses = self.choices(root.get("statuses"), "$.statuses")
        instructions = self.instructions(root.get("instructions"), "$.instructions")
        identity = self.identity(root.get("identity"), "$.identity")
        sheets_node = self.sequence(root.get("sheets"), "$.sheets")
        if instructions:
            self.unique(self._sheet_names, instructions.sheet.casefold(), "$.instructions.sheet",
                        "sheet name")
        sheets = self.each(sheets_node, "$.sheets", self.sheet)
        rules = self.rules(root.get("rules"), "$.rules", statuses, sheets)
        checks = self.checks(root["checks"], "$.checks", statuses) if "checks" in root else None
        if form is None or style is None or instructions is None or identity is None \
                or rules is None:
            return None
        return Layout(
            form=form,
            style=style,
            statuses=statuses,
            instructions=instructions,
            identity=identity,
            sheets=sheets,
            rules=rules,
            checks=checks,
        )

    def form(self, node: Any, path: str) -> Form | None:
        data = self.mapping(node, path, ("id", "version", "title", "fiscal_year"))
        if data is None:
            return None
        year = self.integer(data.get("fiscal_year"), f"{path}.fiscal_year", 1, 9999)
        problem = fiscal_year_problem(year)
        if problem and isinstance(data.get("fiscal_year"), int) \
                and not isinstance(data.get("fiscal_year"), bool):
            self.fail(f"{path}.fiscal_year", problem)
        return Form(
            id=self.key_text(data.get("id"), f"{path}.id"),
            version=self.key_text(data.get("version"), f"{path}.version"),
            title=self.text(data.get("title"), f"{path}.title"),
            fiscal_year=year,
        )

    def style(self, node: Any, path: str) -> Style | None:
        data = self.mapping(node, path, ("font", "size"), ("input_lines",))
        if data is None:
            return None
        size = self.number(data.get("size"), f"{path}.size")
        if not 6 <= size <= 72:
            self.fail(f"{path}.size", f"must be between 6 and 72 points, found {size:g}")
        lines = (self.integer(data["input_lines"], f"{path}.input_lines", 1, MAX_INPUT_LINES)
                 if "input_lines" in data else DEFAULT_INPUT_LINES)
        return Style(font=self.text(data.get("font"), f"{path}.font"), size=size,
                     input_lines=lines)

    def choices(self, node: Any, path: str) -> tuple[Choice, ...]:
        nodes = self.sequence(node, path, min_len=2)
        ids: dict[str, str] = {}
        labels: dict[str, str] = {}
        normalised: dict[str, tuple[str, str]] = {}
        out = []
        for i, entry in enumerate(nodes):
            at = f"{path}[{i}]"
            data = self.mapping(entry, at, ("id", "label"))
            if data is None:
                continue
            choice = Choice(
                id=self.field_id(data.get("id"), f"{at}.id"),
                label=self.list_label(data.get("label"), f"{at}.label"),
            )
            self.unique(ids, choice.id, f"{at}.id", "status id")
            self.unique(labels, choice.label, f"{at}.label", "status label")
            # The reader takes a status typed in either of two spellings NFKC makes one (Thai
            # ำ as one character or as ํ + า): two labels it makes one could not be told apart.
            key = unicodedata.normalize("NFKC", choice.label)
            if key in normalised and normalised[key][1] != choice.label:
                first, label = normalised[key]
                self.fail(f"{at}.label", f"'{choice.label}' and '{label}' (at {first}) are "
                          "the same label once Unicode-normalised, and the reader takes either "
                          "for both: make them differ in their letters")
            normalised.setdefault(key, (f"{at}.label", choice.label))
            out.append(choice)
        self.dropdown_fits([c.label for c in out], path)
        return tuple(out)

    def dropdown_fits(self, labels: list[str], path: str) -> None:
        """A dropdown of these labels fits Excel: its list (the labels joined with commas)
        and its prompt and alert that list them, measured as prompts.py writes them."""
        if all(labels):
            for long in prompts.list_validation(labels).too_long():
                self.fail(path, "in the dropdown of these labels, "
                          + long.message("shorten the labels"))

    def key_text(self, node: Any, path: str) -> str:
        """Text that identifies a workbook (form id, version): the reader reads it back
        without surrounding spaces, and --round and the messages show it on one line."""
        value = self.text(node, path)
        if value.strip() and (value != value.strip() or "\n" in value or "\t" in value):
            self.fail(path, f"{value!r} must not start or end with a space or hold a line "
                      "break or tab: a returned workbook's metadata is read without them, so "
                      "its returns would not match this layout; remove them")
        return value

    def list_label(self, node: Any, path: str) -> str:
        """A label that appears in a dropdown list: no commas or quotes (they split the list),
        and no surrounding spaces (a status typed without them would not be one)."""
        value = self.text(node, path)
        if value.strip() and value != value.strip():
            self.fail(path, f"{value!r} must not start or end with a space: a choice typed "
                      "without it would not be one of the dropdown's; remove it")
        if "," in value or '"' in value:
            self.fail(path, f"'{value}' must not contain a comma or a double quote; a dropdown "
                      "list would split it")
        return value

    def instructions(self, node: Any, path: str) -> Instructions | None:
        data = self.mapping(
            node, path, ("sheet", "title", "lines", "legend", "completeness", "indicator_count")
        )
        if data is None:
            return None
        legend = self.mapping(data.get("legend"), f"{path}.legend", ("input", "locked", "formula"))
        lines = self.sequence(data.get("lines"), f"{path}.lines", min_len=0)
        return Instructions(
            sheet=self.sheet_name(data.get("sheet"), f"{path}.sheet"),
            title=self.text(data.get("title"), f"{path}.title"),
            lines=tuple(self.text(line, f"{path}.lines[{i}]") for i, line in enumerate(lines)),
            legend=Legend(
                input=self.text((legend or _Fields()).get("input"), f"{path}.legend.input"),
                locked=self.text((legend or _Fields()).get("locked"), f"{path}.legend.locked"),
                formula=self.text((legend or _Fields()).get("formula"), f"{path}.legend.formula"),
            ),
            completeness=self.text(data.get("completeness"), f"{path}.completeness"),
            indicator_count=self.text(data.get("indicator_count"), f"{path}.indicator_count"),
        )

    def identity(self, node: Any, path: str) -> Identity | None:
        data = self.mapping(node, path, ("title", "fields"))
        if data is None:
            return None
        ids: dict[str, str] = {}
        rosters: dict[str, str] = {}
        fields = []
        for i, entry in enumerate(self.sequence(data.get("fields"), f"{path}.fields")):
            at = f"{path}.fields[{i}]"
            item = self.mapping(entry, at, ("id", "label"), ("roster", "prompt"))
            if item is None:
                continue
            roster = self.optional_text(item, "roster", at)
            if roster is not None and roster not in ROSTER_KEYS:
                self.fail(f"{at}.roster", f"'{roster}' is not a roster column; use one of "
                          f"{', '.join(ROSTER_KEYS)}")
            if roster is not None:
                self.unique(rosters, roster, f"{at}.roster", "roster column")
            field_id = self.field_id(item.get("id"), f"{at}.id")
            label = self.text(item.get("label"), f"{at}.label")
            fld = IdentityField(
                id=field_id,
                label=label,
                roster=roster,
                prompt=self.prompt(item, at, label),
            )
            self.unique(ids, fld.id, f"{at}.id", "identity field id")
            self.places.fields.setdefault(("identity", fld.id), at)
            fields.append(fld)
        if fields and "agency_code" not in rosters:
            self.fail(f"{path}.fields", "no field has 'roster: agency_code'; returns could not "
                      "be matched to agencies")
        return Identity(title=self.text(data.get("title"), f"{path}.title"), fields=tuple(fields))

    def prompt(self, data: dict[str, Any], path: str, label: str) -> str | None:
        """A field's ``prompt:``, measured as prompts.py writes it with ``label``."""
        value = self.optional_text(data, "prompt", path)
        shown = prompts.text_validation(label, value)
        for long in shown.too_long() if shown else ():
            self.fail(f"{path}.prompt", long.message())
        return value

    def sheet_name(self, node: Any, path: str) -> str:
        value = self.text(node, path)
        if not value:
            return value
        if prompts.utf16_length(value) > SHEET_NAME_MAX:
            self.fail(path, f"'{value}' is {prompts.utf16_length(value)} characters; a sheet "
                            f"name has at most {SHEET_NAME_MAX}")
        if _SHEET_NAME_BAD.search(value) or value.startswith("'") or value.endswith("'"):
            self.fail(path, f"'{value}' must not contain [ ] : * ? / \\ or start or end with '")
        if value.casefold() == META_SHEET:
            self.fail(path, f"'{value}' is reserved for the metadata sheet")
        if value.casefold() == FEEDBACK_SHEET.casefold():
            self.fail(path, f"'{value}' is reserved for the list of problems in feedback copies")
        if value.casefold() == RESULT_SHEET.casefold():
            self.fail(path, f"'{value}' is reserved for the agency's result page")
        if value.casefold() == EXCEL_RESERVED_SHEET.casefold():
            self.fail(path, f"'{value}' is a name Excel keeps for itself; choose another")
        return value

    def sheet(self, node: Any, path: str) -> Sheet | None:
        if node is _MISSING:
            return None
        if not isinstance(node, dict):
            self.fail(path, f"must be a mapping of keys, found {_kind(node)}")
            return None
        kind = node.get("kind")
        build = self._SHEET_KINDS.get(kind) if isinstance(kind, str) else None
        if build is None:
            self.fail(f"{path}.kind", f"must be one of {', '.join(self._SHEET_KINDS)}, "
                      f"found {kind!r}")
            return None
        sheet = build(self, node, path)
        if sheet is not None:
            self.unique(self._sheet_names, sheet.sheet.casefold(), f"{path}.sheet", "sheet name")
        return sheet

    def checklist(self, node: dict[str, Any], path: str) -> ChecklistSheet | None:
        data = self.mapping(node, path, ("kind", "id", "sheet", "title", "columns", "sections"))
        assert data is not None
        cols = self.mapping(data.get("columns"), f"{path}.columns",
                            ("id", "topic", "status", "details")) or _Fields()
        sheet_id = self.form_id(data.get("id"), f"{path}.id", None)
        sections = self.sequence(data.get("sections"), f"{path}.sections")
        return ChecklistSheet(
            id=sheet_id,
            sheet=self.sheet_name(data.get("sheet"), f"{path}.sheet"),
            title=self.text(data.get("title"), f"{path}.title"),
            columns=ChecklistColumns(
                **{k: self.text(cols.get(k), f"{path}.columns.{k}")
                   for k in ("id", "topic", "status", "details")}
            ),
            sections=self.each(sections, f"{path}.sections",
                               lambda n, p: self.section(n, p, sheet_id)),
        )

    def section(self, node: Any, path: str, parent: str) -> Section | None:
        data = self.mapping(node, path, ("id", "title", "items"))
        if data is None:
            return None
        section_id = self.form_id(data.get("id"), f"{path}.id", parent)
        items = self.sequence(data.get("items"), f"{path}.items")
        return Section(
            id=section_id,
            title=self.text(data.get("title"), f"{path}.title"),
            items=self.each(items, f"{path}.items", lambda n, p: self.item(n, p, section_id)),
        )

    def item(self, node: Any, path: str, parent: str) -> Item | None:
        data = self.mapping(node, path, ("id", "topic"), ("rows", *_ROW_KEYS))
        if data is None:
            return None
        item_id = self.form_id(data.get("id"), f"{path}.id", parent)
        topic = self.text(data.get("topic"), f"{path}.topic")
        if "rows" in data:
            inline = [k for k in _ROW_KEYS if k in data]
            if inline:
                self.fail(f"{path}.{inline[0]}", "an item has either 'rows' or its own "
                          f"{'/'.join(_ROW_KEYS)}, not both; move it into a row")
            rows = self.each(self.sequence(data["rows"], f"{path}.rows"), f"{path}.rows",
                             lambda n, p: self.row(n, p, item_id))
        else:
            row = self.row_body(data, path, item_id)
            rows = (row,)
        return Item(id=item_id, topic=topic, rows=rows)

    def row(self, node: Any, path: str, parent: str) -> Row | None:
        data = self.mapping(node, path, ("id",), _ROW_KEYS)
        if data is None:
            return None
        row_id = self.form_id(data.get("id"), f"{path}.id", parent)
        return self.row_body(data, path, row_id)

    def row_body(self, data: dict[str, Any], path: str, row_id: str) -> Row:
        blanks: list[Blank] = []
        ids: dict[str, str] = {}
        if "blanks" in data:
            for i, entry in enumerate(self.sequence(data["blanks"], f"{path}.blanks")):
                at = f"{path}.blanks[{i}]"
                item = self.mapping(entry, at, ("id", "label"), ("prompt", "lines"))
                if item is None:
                    continue
                blank_id = self.field_id(item.get("id"), f"{at}.id")
                label = self.text(item.get("label"), f"{at}.label")
                blank = Blank(
                    id=blank_id,
                    label=label,
                    prompt=self.prompt(item, at, label),
                    lines=(self.integer(item["lines"], f"{at}.lines", 1, MAX_INPUT_LINES)
                           if "lines" in item else None),
                )
                self.unique(ids, blank.id, f"{at}.id", "field id")
                self.places.fields.setdefault((row_id, blank.id), at)
                blanks.append(blank)
        grid = self.grid(data["grid"], f"{path}.grid", ids) if "grid" in data else None
        if "status" in ids:
            self.fail(ids["status"], "'status' is reserved for the row's status")
        return Row(
            id=row_id,
            text=self.optional_text(data, "text", path),
            blanks=tuple(blanks),
            grid=grid,
            after=self.optional_text(data, "after", path),
        )

    def grid(self, node: Any, path: str, ids: dict[str, str]) -> Grid | None:
        data = self.mapping(node, path, ("rows", "columns"))
        if data is None:
            return None
        parts: dict[str, tuple[GridLine, ...]] = {}
        for part in ("rows", "columns"):
            lines = []
            seen: dict[str, str] = {}
            for i, entry in enumerate(self.sequence(data.get(part), f"{path}.{part}")):
                at = f"{path}.{part}[{i}]"
                item = self.mapping(entry, at, ("id", "label"))
                if item is None:
                    continue
                line = GridLine(id=self.field_id(item.get("id"), f"{at}.id"),
                                label=self.text(item.get("label"), f"{at}.label"))
                self.unique(seen, line.id, f"{at}.id", f"grid {part[:-1]} id")
                lines.append(line)
            parts[part] = tuple(lines)
        grid = Grid(rows=parts["rows"], columns=parts["columns"])
        for line in grid.rows:
            for col in grid.columns:
                self.unique(ids, grid_field_id(line, col), f"{path}", "field id")
        return grid

    def indicators(self, node: dict[str, Any], path: str) -> IndicatorSheet | None:
        data = self.mapping(
            node, path,
            ("kind", "id", "sheet", "title", "columns", "target_year", "result_years", "rows",
             "tables", "validation"),
            ("subtitle", "intro"),
        )
        assert data is not None
        sheet_id = self.form_id(data.get("id"), f"{path}.id", None)
        default_rows = self.integer(data.get("rows"), f"{path}.rows", 1, 500)
        target_year = self.integer(data.get("target_year"), f"{path}.target_year", -50, 50)
        offsets = self.sequence(data.get("result_years"), f"{path}.result_years")
        result_years = tuple(self.integer(o, f"{path}.result_years[{i}]", -50, 50)
                             for i, o in enumerate(offsets))
        if len(set(result_years)) != len(result_years):
            self.fail(f"{path}.result_years", "lists a year twice")
        if result_years and target_year not in result_years:
            self.fail(f"{path}.result_years", f"must include the target year ({target_year:+d}); "
                      "percent success compares the target with that year's result")
        tables = []
        for i, entry in enumerate(self.sequence(data.get("tables"), f"{path}.tables")):
            at = f"{path}.tables[{i}]"
            item = self.mapping(entry, at, ("id", "title", "description"), ("rows",))
            if item is None:
                continue
            tables.append(IndicatorTable(
                id=self.form_id(item.get("id"), f"{at}.id", sheet_id),
                title=self.text(item.get("title"), f"{at}.title"),
                description=self.text(item.get("description"), f"{at}.description"),
                rows=(self.integer(item["rows"], f"{at}.rows", 1, 500) if "rows" in item
                      else default_rows),
            ))
        validation = self.mapping(data.get("validation"), f"{path}.validation",
                                  ("target", "results")) or _Fields()
        return IndicatorSheet(
            id=sheet_id,
            sheet=self.sheet_name(data.get("sheet"), f"{path}.sheet"),
            title=self.text(data.get("title"), f"{path}.title"),
            subtitle=self.optional_text(data, "subtitle", path),
            intro=self.optional_text(data, "intro", path),
            columns=self.indicator_columns(data.get("columns"), f"{path}.columns"),
            target_year=target_year,
            result_years=result_years,
            tables=tuple(tables),
            target_validation=self.number_rule(validation.get("target"),
                                               f"{path}.validation.target"),
            result_validation=self.number_rule(validation.get("results"),
                                               f"{path}.validation.results"),
        )

    def indicator_columns(self, node: Any, path: str) -> IndicatorColumns:
        required = ("number", "indicator", "target", "target_year", "results",
                    "percent_success", "score")
        data = self.mapping(node, path, required, ("unit", "direction")) or _Fields()
        texts = {k: self.text(data.get(k), f"{path}.{k}") for k in required}
        if texts["target_year"] and "{year}" not in texts["target_year"]:
            self.fail(f"{path}.target_year", "must contain {year}, where the target year goes")
        return IndicatorColumns(
            **texts,
            unit=self.optional_text(data, "unit", path),
            direction=self.optional_text(data, "direction", path),
        )

    def number_rule(self, node: Any, path: str) -> NumberRule:
        data = self.mapping(node, path, (), ("greater_than", "at_least", "at_most",
                                             "whole_number"))
        if not data:
            return NumberRule()
        whole = data.get("whole_number", False)
        if not isinstance(whole, bool):
            self.fail(f"{path}.whole_number", f"must be true or false, found {_kind(whole)}")
            whole = False
        bounds: dict[str, Any] = {k: self.number(v, f"{path}.{k}") for k, v in data.items()
                                  if k in ("greater_than", "at_least", "at_most")}
        if "greater_than" in bounds and "at_least" in bounds:
            self.fail(path, "give 'greater_than' or 'at_least', not both")
        low = bounds.get("greater_than", bounds.get("at_least"))
        if low is not None and "at_most" in bounds and bounds["at_most"] <= low:
            self.fail(f"{path}.at_most", "must be above the lower bound")
        return NumberRule(**bounds, whole_number=whole)

    def checks(self, node: Any, path: str, statuses: tuple[Choice, ...]) -> Checks | None:
        data = self.mapping(node, path, ("count", "warnings", "column", "list"))
        if data is None:
            return None
        texts = {}
        for key in ("count", "warnings"):
            texts[key] = self.line_text(data.get(key), f"{path}.{key}")
            if texts[key] and texts[key].count("{n}") != 1:
                self.fail(f"{path}.{key}", "must contain {n} once, where the number goes")
        column = self.line_text(data.get("column"), f"{path}.column")
        by_id = {s.id: s.label for s in statuses}
        seen: dict[str, str] = {}
        found = []
        for i, entry in enumerate(self.sequence(data.get("list"), f"{path}.list")):
            at = f"{path}.list[{i}]"
            item = self.mapping(entry, at, ("check", "severity", "message_th", "message_en"),
                                ("status", "blanks"))
            if item is None:
                continue
            kind = item.get("check")
            if kind is not _MISSING and kind not in CHECK_KINDS:
                self.fail(f"{at}.check", f"must be one of {', '.join(CHECK_KINDS)}, found "
                          f"{kind!r}")
                continue
            severity = item.get("severity")
            if severity is not _MISSING and severity not in ("error", "warning"):
                self.fail(f"{at}.severity", f"must be error or warning, found {severity!r}")
            details = kind in ("details_required", "details_unexpected")
            status = None
            if details:
                status_id = item.get("status")
                if status_id is _MISSING:
                    self.fail(f"{at}.status", f"missing; a {kind} check names the status id "
                              "it applies to")
                elif status_id not in by_id:
                    self.fail(f"{at}.status", f"{status_id!r} is not a status id; use one of "
                              f"{', '.join(by_id)}")
                else:
                    status = by_id[status_id]
            elif "status" in item:
                self.fail(f"{at}.status", f"only the details checks name a status, not {kind}")
            blanks = None
            if "blanks" in item:
                if kind != "details_required":
                    self.fail(f"{at}.blanks", "only details_required takes 'blanks'")
                elif item["blanks"] != "all":
                    blanks = self.integer(item["blanks"], f"{at}.blanks", 1, 100)
            key = f"{kind} {status or ''}"
            self.unique(seen, key, f"{at}.check", "check (of this kind and status)")
            message_th = self.line_text(item.get("message_th"), f"{at}.message_th")
            if WARNING_MARK in message_th:
                self.fail(f"{at}.message_th", f"must not contain {WARNING_MARK}, which marks a "
                          "warning's line in the workbook")
            found.append(Check(kind=kind, severity=severity if severity == "warning"
                               else "error", message_th=message_th,
                               message_en=self.line_text(item.get("message_en"),
                                                         f"{at}.message_en"),
                               status=status, blanks=blanks))
        return Checks(count=texts["count"], warnings=texts["warnings"], column=column,
                      list=tuple(found))

    def line_text(self, node: Any, path: str) -> str:
        """Text shown on one line of a live list: no line break (formulas quote it)."""
        value = self.text(node, path)
        if "\n" in value or "\r" in value:
            self.fail(path, "must be one line (the live lists put one problem per line)")
        return value

    def rules(self, node: Any, path: str, statuses: tuple[Choice, ...],
              sheets: tuple[Sheet, ...]) -> Rules | None:
        data = self.mapping(node, path, ("directions", "percent_success", "score"),
                            ("score_rules", "tables", "checklist_score"))
        if data is None:
            return None
        directions = self.mapping(data.get("directions"), f"{path}.directions",
                                  ("higher", "lower")) or _Fields()
        percent = self.mapping(data.get("percent_success"), f"{path}.percent_success",
                               ("decimals",), ("lower_is_better",)) or _Fields()
        higher = self.list_label(directions.get("higher"), f"{path}.directions.higher")
        lower = self.list_label(directions.get("lower"), f"{path}.directions.lower")
        if higher and higher == lower:
            self.fail(f"{path}.directions.lower", "must differ from 'higher'")
        self.dropdown_fits([higher, lower], f"{path}.directions")
        decimals = self.integer(percent.get("decimals"), f"{path}.percent_success.decimals",
                                0, 6)
        lower_rule = self.lower_is_better(percent.get("lower_is_better", "ratio"),
                                          f"{path}.percent_success.lower_is_better")
        score = self.score_rule(data.get("score"), f"{path}.score")
        named: dict[str, tuple[ScoreRule | None, str]] = {}
        if "score_rules" in data:
            for name, value, at in self.keyed(data["score_rules"], f"{path}.score_rules"):
                if _FIELD_ID.match(name) is None:
                    self.fail(at, f"'{name}' must be lower-case letters, digits and _, like "
                              "'pmqa_bands'")
                named[name] = (self.score_rule(value, at), at)
        checklist = (self.checklist_score(data["checklist_score"], f"{path}.checklist_score",
                                          statuses, sheets)
                     if "checklist_score" in data else None)
        if score is None:
            return None
        base = TableRule(higher=higher, lower=lower, percent_decimals=decimals,
                         lower_is_better=lower_rule, score=score)
        used: set[str] = set()
        tables = (self.rule_tables(data["tables"], f"{path}.tables", base, named, used, sheets)
                  if "tables" in data else ())
        for name, (_, at) in named.items():
            if name not in used:
                self.fail(at, f"the score rule '{name}' is used by no table: name it in "
                          f"{path}.tables (as score: {name}) or remove it")
        return Rules(higher=higher, lower=lower, percent_decimals=decimals, default=base,
                     tables=tables, checklist_score=checklist)

    def keyed(self, node: Any, path: str) -> Iterator[tuple[str, Any, str]]:
        """The entries of a mapping whose keys are names or ids the layout chooses: (key,
        value, path), each key that is not text reported."""
        if node is _MISSING:
            return
        if not isinstance(node, dict):
            self.fail(path, f"must be a mapping of keys, found {_kind(node)}")
            return
        if not node:
            self.fail(path, "must have at least 1 entry; remove the key if there is none")
        for key, value in node.items():
            if not isinstance(key, str):
                self.fail(f"{path}.{key}", f"a key must be text, found {_kind(key)} {key!r}")
                continue
            yield key, value, f'{path}["{key}"]' if "." in key else f"{path}.{key}"

    def lower_is_better(self, node: Any, path: str) -> LowerIsBetter:
        if node is _MISSING:
            return "ratio"
        if node not in LOWER_IS_BETTER or not isinstance(node, str):
            self.fail(path, f"must be one of {', '.join(LOWER_IS_BETTER)} (ratio: target ÷ "
                      "result × 100; mirror: 100 + (100 − result ÷ target × 100)), found "
                      f"{node!r}")
            return "ratio"
        return cast(LowerIsBetter, node)  # one of LOWER_IS_BETTER (checked just above)

    def score_rule(self, node: Any, path: str) -> ScoreRule | None:
        """A score rule: ``kind: linear`` (the default) or ``kind: banded``, with its keys."""
        if node is _MISSING:
            return None
        if not isinstance(node, dict):
            self.fail(path, f"must be a mapping of keys, found {_kind(node)}")
            return None
        kind = node.get("kind", "linear")
        if not isinstance(kind, str) or kind not in _SCORE_KEYS:
            self.fail(f"{path}.kind", f"must be one of {', '.join(_SCORE_KEYS)}, found {kind!r}")
            return None
        keys = _SCORE_KEYS[kind]
        data = self.mapping(node, path, (*keys, "decimals"), ("kind",))
        assert data is not None
        # the score's own number fields (never its kind): floats, passed as keywords
        numbers: dict[str, Any] = {k: self.number(data.get(k), f"{path}.{k}") for k in keys}
        decimals = self.integer(data.get("decimals"), f"{path}.decimals", 0, 6)
        given = {k: isinstance(data.get(k), int | float) and not isinstance(data.get(k), bool)
                 for k in keys}
        if kind == "linear":
            for key in keys:
                if numbers[key] <= 0 and given[key]:
                    self.fail(f"{path}.{key}", "must be above 0")
            return LinearScore(decimals=decimals, **numbers)
        if given["floor_percent"] and given["ceiling_percent"] \
                and numbers["ceiling_percent"] <= numbers["floor_percent"]:
            self.fail(f"{path}.ceiling_percent", f"must be above floor_percent "
                      f"({numbers['floor_percent']:g}), found {numbers['ceiling_percent']:g}")
        return BandedScore(decimals=decimals, **numbers)

    def rule_tables(self, node: Any, path: str, base: TableRule,
                    named: dict[str, tuple[ScoreRule | None, str]], used: set[str],
                    sheets: tuple[Sheet, ...]) -> tuple[tuple[str, TableRule], ...]:
        """The tables whose rule is not the default: an entry per indicator table id or
        indicator sheet id (for all its tables), a table's entry over its sheet's, key by
        key."""
        indicator_sheets = [s for s in sheets if isinstance(s, IndicatorSheet)]
        sheet_ids = {s.id for s in indicator_sheets}
        table_ids = {t.id for s in indicator_sheets for t in s.tables}
        entries: dict[str, dict[str, Any]] = {}
        for key, value, at in self.keyed(node, path):
            if key not in sheet_ids | table_ids:
                known = sorted(table_ids | sheet_ids)
                hint = difflib.get_close_matches(key, known, n=1)
                tip = f"did you mean '{hint[0]}'?" if hint else \
                    f"ids: {', '.join(known) or 'none (the layout has no indicator sheet)'}"
                self.fail(at, f"'{key}' is not the id of an indicator table or indicator "
                          f"sheet; {tip}")
                continue
            entry = self.mapping(value, at, (), ("score", "lower_is_better"))
            if entry is None:
                continue
            if not entry:
                self.fail(at, "give 'score', 'lower_is_better' or both")
            parsed: dict[str, Any] = {}
            if "score" in entry:
                rule = entry["score"]
                if isinstance(rule, str):
                    if rule in named:
                        used.add(rule)
                        if named[rule][0] is not None:
                            parsed["score"] = named[rule][0]
                    else:
                        hint = difflib.get_close_matches(rule, list(named), n=1)
                        tip = f"did you mean '{hint[0]}'?" if hint else (
                            f"named rules: {', '.join(named)}" if named else
                            "define it under rules.score_rules, or give the rule itself here")
                        self.fail(f"{at}.score", f"no score rule named '{rule}'; {tip}")
                else:
                    made = self.score_rule(rule, f"{at}.score")
                    if made is not None:
                        parsed["score"] = made
            if "lower_is_better" in entry:
                parsed["lower_is_better"] = self.lower_is_better(entry["lower_is_better"],
                                                                 f"{at}.lower_is_better")
            entries[key] = parsed
        out = []
        for sheet in indicator_sheets:
            for table in sheet.tables:
                merged = {**entries.get(sheet.id, {}), **entries.get(table.id, {})}
                if merged:
                    out.append((table.id, replace(base, **merged)))
        return tuple(out)

    def checklist_score(self, node: Any, path: str, statuses: tuple[Choice, ...],
                        sheets: tuple[Sheet, ...]) -> ChecklistScore | None:
        data = self.mapping(node, path, ("label", "points"), ("decimals",))
        if data is None:
            return None
        if not any(isinstance(s, ChecklistSheet) for s in sheets):
            self.fail(path, "the layout has no checklist sheet whose statuses could be scored; "
                      "remove it")
        label = self.text(data.get("label"), f"{path}.label")
        given: dict[str, float] = {}
        ids = [c.id for c in statuses]
        for key, value, at in (self.keyed(data["points"], f"{path}.points")
                               if "points" in data else ()):
            if key not in ids:
                hint = difflib.get_close_matches(key, ids, n=1)
                tip = f"did you mean '{hint[0]}'?" if hint else f"status ids: {', '.join(ids)}"
                self.fail(at, f"'{key}' is not the id of a status; {tip}")
                continue
            given[key] = self.number(value, at)
        if isinstance(data.get("points"), dict):
            for choice in statuses:
                if choice.id and choice.id not in given and choice.id not in data["points"]:
                    self.fail(f"{path}.points.{choice.id}", "missing; give the points of "
                              "every status (0 for none)")
        return ChecklistScore(
            label=label,
            points=tuple(StatusPoints(id=c.id, label=c.label, points=given.get(c.id, 0.0))
                         for c in statuses),
            decimals=self.integer(data["decimals"], f"{path}.decimals", 0, 6)
            if "decimals" in data else 2,
        )

    _SHEET_KINDS: dict[str, Callable[[_Checker, dict[str, Any], str], Sheet | None]] = {
        "checklist": checklist,
        "indicators": indicators,
    }


_ROW_KEYS = ("text", "blanks", "grid", "after")
#: The keys of each kind of score rule (``decimals`` and ``kind`` aside).
_SCORE_KEYS = {
    "linear": ("max", "full_at_percent"),
    "banded": ("floor_percent", "at_floor", "per_percent", "ceiling_percent", "at_ceiling",
               "below_floor"),
}


def grid_field_id(row: GridLine, column: GridLine) -> str:
    """The field id of one grid cell: ``recipient_1.who``."""
    return f"{row.id}.{column.id}"


def _kind(node: Any) -> str:
    if node is None:
        return "nothing"
    if isinstance(node, bool):
        return "true/false"
    if isinstance(node, int | float):
        return "a number"
    if isinstance(node, str):
        return "text"
    if isinstance(node, list):
        return "a list"
    if isinstance(node, dict):
        return "a mapping"
    return type(node).__name__
