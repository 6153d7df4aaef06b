"""Number formats as spreadsheets store and show them.

This module owns what the reader knows about a cell's number format:

- every built-in format id (ECMA-376 18.8.30), including the locale-specific ids that
  Chinese, Japanese and Korean Excel (27–36, 50–58) and Thai Excel (59–81) write without
  defining them;
- what a format does to a number: shows it as itself, as a percentage (× 100), as a date or
  time, scaled (``0,`` shows thousands), or not at all (``;;;``, or a literal in place of the
  digits), section by section (positive; negative; zero; text) and whatever its id or code;
- how a date or a percentage is shown, for a number pasted into a text blank;
- how a whole number is shown digit for digit (``render_whole``: ``00000`` shows 1001 as
  01001), for a roster's codes that Excel stored as numbers.

A format code is lexed once (cached); ``shows_as(code, value)`` then says how one value is
shown. Quoted text, ``\\``-escaped characters, ``_x`` spacing and ``*x`` fills are literals, so
``0"%"`` is a plain number and ``0 "mm"`` is not a date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal

Shown = Literal["number", "percent", "date", "hidden", "scaled", "unsigned", "signed",
                "unchecked"]

#: Excel keeps a format code to 255 characters; a longer one is not lexed (it costs time and
#: no spreadsheet writes it), and no number under it is taken as shown plainly.
MAX_CODE = 255

#: Built-in formats by id. For 27–36 and 50–58 the code is the Traditional Chinese one; in
#: every CJK locale those ids are dates or times, which is all the reader needs of them.
#: 5–8, 23–26, 41–44 and 63–66 are currency, accounting and reserved ids that Excel writes
#: with their code, or shows as plain numbers.
BUILTIN_FORMATS: dict[int, str] = {
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00",
    5: '"$"#,##0_);("$"#,##0)', 6: '"$"#,##0_);[Red]("$"#,##0)',
    7: '"$"#,##0.00_);("$"#,##0.00)', 8: '"$"#,##0.00_);[Red]("$"#,##0.00)',
    9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?", 13: "# ??/??",
    14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "m/d/yy h:mm",
    23: "General", 24: "General", 25: "General", 26: "General",
    27: "[$-404]e/m/d", 28: '[$-404]e"年"m"月"d"日"', 29: '[$-404]e"年"m"月"d"日"',
    30: "m/d/yy", 31: 'yyyy"年"m"月"d"日"', 32: 'hh"時"mm"分"', 33: 'hh"時"mm"分"ss"秒"',
    34: '上午/下午hh"時"mm"分"', 35: '上午/下午hh"時"mm"分"ss"秒"', 36: "[$-404]e/m/d",
    37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)",
    40: "#,##0.00;[Red](#,##0.00)",
    41: '_(* #,##0_);_(* \\(#,##0\\);_(* "-"_);_(@_)',
    42: '_("$"* #,##0_);_("$"* \\(#,##0\\);_("$"* "-"_);_(@_)',
    43: '_(* #,##0.00_);_(* \\(#,##0.00\\);_(* "-"??_);_(@_)',
    44: '_("$"* #,##0.00_);_("$"* \\(#,##0.00\\);_("$"* "-"??_);_(@_)',
    45: "mm:ss", 46: "[h]:mm:ss", 47: "mmss.0", 48: "##0.0E+0", 49: "@",
    50: "[$-404]e/m/d", 51: '[$-404]e"年"m"月"d"日"', 52: '上午/下午hh"時"mm"分"',
    53: '上午/下午hh"時"mm"分"ss"秒"', 54: '[$-404]e"年"m"月"d"日"',
    55: '上午/下午hh"時"mm"分"', 56: '上午/下午hh"時"mm"分"ss"秒"', 57: "[$-404]e/m/d",
    58: '[$-404]e"年"m"月"d"日"',
    59: "t0", 60: "t0.00", 61: "t#,##0", 62: "t#,##0.00",
    63: 't"฿"#,##0_);("฿"#,##0)', 64: 't"฿"#,##0_);[Red]("฿"#,##0)',
    65: 't"฿"#,##0.00_);("฿"#,##0.00)', 66: 't"฿"#,##0.00_);[Red]("฿"#,##0.00)',
    67: "t0%", 68: "t0.00%", 69: "t# ?/?", 70: "t# ??/??",
    71: "ว/ด/ปปปป", 72: "ว-ดดด-ปป", 73: "ว-ดดด", 74: "ดดด-ปป", 75: "ช:นน", 76: "ช:นน:ทท",
    77: "ว/ด/ปปปป ช:นน", 78: "นน:ทท", 79: "[ช]:นน:ทท", 80: "นน:ทท.0", 81: "d/m/bb",
}


def builtin_format(format_id: int) -> str:
    """The code of a built-in format id; an id that no locale defines shows as General."""
    return BUILTIN_FORMATS.get(format_id, "General")


@dataclass(frozen=True, slots=True)
class Section:
    """One ``;``-separated section of a format code, as lexed."""

    digits: bool = False  # a digit placeholder (0 # ?) shows the number
    percent: bool = False
    date: bool = False
    time: bool = False
    elapsed: bool = False  # [h]:mm: hours past 24
    buddhist: bool = False  # a Buddhist Era year (bb, ปปปป, B1/B2 or a Thai calendar tag)
    scale: bool = False  # a comma after the last digit placeholder: thousands, millions
    sign: bool = False  # a literal minus or parenthesis: a negative section shows its sign
    text: bool = False  # @: the text itself
    condition: bool = False  # [>100] and the like
    literal: str = ""  # what it shows besides the number
    decimals: int = 0
    thousands: bool = False
    zero_digit: bool = False  # a 0 placeholder (or General): a number near 0 still shows
    fraction: bool = False  # # ?/?: a fraction shows 0 as 0
    leading_sign: bool = False  # a literal minus or parenthesis before the digits, or a
    # minus after them ("-0", "(0)", "0-"): a positive number looks negative


@dataclass(frozen=True, slots=True)
class NumberFormat:
    code: str
    sections: tuple[Section, ...]
    general: bool = False
    unchecked: bool = False  # longer than MAX_CODE: not lexed

    @property
    def kind(self) -> str:
        """general, percent, date, text or number: what the first section shows."""
        first = self.sections[0] if self.sections else Section()
        if self.general:
            return "general"
        if first.date or first.time:
            return "date"
        if first.percent:
            return "percent"
        if first.text and not first.digits:
            return "text"
        return "number"


@lru_cache(maxsize=4096)
def parse_format(code: str) -> NumberFormat:
    """A format code lexed into its sections (cached: a workbook has a few dozen codes)."""
    if not code or code.strip().lower() == "general":
        return NumberFormat(code, (), general=True)
    if len(code) > MAX_CODE:
        return NumberFormat(code, (), unchecked=True)
    sections = tuple(_section(part) for part in _split_sections(code))
    return NumberFormat(code, sections)


def shows_as(code: str, value: float) -> Shown:
    """How a spreadsheet shows the number ``value`` under the format ``code``.

    ``number``: as itself (rounding and grouping aside); ``percent``: × 100; ``date``: as a
    date or time; ``scaled``: divided by thousands; ``hidden``: not at all, or a literal in
    its place; ``unsigned``: a negative number shown without its sign; ``signed``: a
    positive number shown with a minus or in parentheses, as negatives are; ``unchecked``:
    a code too long to read.

    A last section with ``@`` and no digit is the text section, whatever the number of
    sections: ``0;@`` is one numeric section and a text section (a negative shows as -5),
    but in ``@;0`` the ``@`` section shows positive numbers, as nothing (LibreOffice).
    """
    fmt = parse_format(code)
    if fmt.unchecked:
        return "unchecked"
    if fmt.general or not fmt.sections:
        return "number"
    numeric = fmt.sections[:3]
    last = fmt.sections[-1]
    if len(fmt.sections) < 4 and last.text and not last.digits:
        numeric = fmt.sections[:-1]  # the text section: numbers never use it
    count = len(numeric)
    if not count:
        return "number"  # a text format ("@") shows a number as General does
    if any(s.condition for s in numeric):
        # conditions choose the section by value in ways Excel and LibreOffice differ on
        # (LibreOffice drops the minus of a negative in [<0]0;0 and [>=0]0;0): every numeric
        # section must show the number as itself, its sign included
        verdicts = [_section_verdict(s, value, explicit_sign=value < 0) for s in numeric]
        return next((v for v in verdicts if v != "number"), "number")
    if value < 0 and count >= 2:
        return _section_verdict(numeric[1], value, explicit_sign=True)
    if value == 0 and count >= 3:
        return _section_verdict(numeric[2], value, explicit_sign=False)
    return _section_verdict(numeric[0], value, explicit_sign=False)


def shows_text(code: str) -> bool:
    """Whether a text in a cell of this format is shown as itself (not hidden or replaced by
    the text section's literal, as ``;;;`` or ``;;;"-"`` do)."""
    fmt = parse_format(code)
    if fmt.unchecked:
        return False
    if len(fmt.sections) < 4:
        return True
    return fmt.sections[3].text


def format_kind(code: str) -> str | None:
    """"percent" or "date" if a number format shows numbers as such (first section), else
    None."""
    kind = parse_format(code).kind
    return kind if kind in ("percent", "date") else None


def render(code: str, value: float, date1904: bool = False) -> str:
    """A number as its date, time or percent format shows it, plainly: ``31/03/2562``,
    ``31/03/2019 14:30``, ``85%``; any other number as it is (``85``, ``1250.5``).

    Dates are day/month/year, with the Buddhist Era year where the format shows one; this is
    what the agency saw up to the format's own order and month names."""
    fmt = parse_format(code)
    section = fmt.sections[0] if fmt.sections else Section()
    if section.date or section.time:
        moment = serial_to_datetime(value, date1904)
        if moment is None:
            return _plain(value)
        parts = []
        if section.date:
            year = moment.year + 543 if section.buddhist else moment.year
            parts.append(f"{moment.day:02d}/{moment.month:02d}/{year}")
        if section.time:
            hours = int(value * 24) if section.elapsed else moment.hour
            parts.append(f"{hours:02d}:{moment.minute:02d}"
                         + (f":{moment.second:02d}" if moment.second else ""))
        return " ".join(parts)
    if section.percent:
        from .rules import excel_round

        shown = excel_round(value * 100, section.decimals)
        text = f"{shown:,.{section.decimals}f}" if section.thousands else \
            f"{shown:.{section.decimals}f}"
        return text + "%"
    return _plain(value)


def render_whole(code: str, value: int) -> str | None:
    """A whole number ``value`` (0 or more) as the format ``code`` shows it, digit for digit:
    ``00000`` shows 1001 as ``01001``, ``"0"0000`` as ``01001``, ``000#`` 101 as ``0101``,
    ``0000-00`` 123456 as ``1234-56``; General and ``0`` as ``1001``.

    Placeholders are filled from the right (``0`` shows a zero where the number has no digit,
    ``#`` nothing, ``?`` a space), digits beyond them go before the first one, and literals
    stay where they are. Thai digits (``t0``) are shown as ASCII digits. None when the section
    that shows the number is not a plain whole-number display: a date, time, percent,
    fraction, exponent, thousands separator, scaling, decimals, condition, a hidden number or
    a code too long to read; such a format is not rendered here, never guessed.
    """
    if value < 0:
        return None
    fmt = parse_format(code)
    if fmt.unchecked:
        return None
    if fmt.general:
        return str(value)
    numeric = _split_sections(code)[:3]
    last = fmt.sections[-1]
    if len(fmt.sections) < 4 and last.text and not last.digits:
        numeric = numeric[:-1]
    if not numeric:
        return str(value)  # "@": a number shows as General does
    index = 2 if value == 0 and len(numeric) >= 3 else 0
    section, text = fmt.sections[index], numeric[index]
    if (section.date or section.time or section.percent or section.fraction or section.scale
            or section.thousands or section.condition or section.decimals
            or not section.digits or any(s.condition for s in fmt.sections[:3])):
        return None
    parts = _whole_tokens(text)
    if parts is None:
        return None
    digits = list(str(value)) if value else []  # 0 fills no placeholder: "#" shows nothing
    shown: list[str] = []
    first = next(i for i, (kind, _) in enumerate(parts) if kind == "digit")
    for i in range(len(parts) - 1, -1, -1):
        kind, ch = parts[i]
        if kind == "literal":
            shown.append(ch)
            continue
        if digits:
            shown.append(digits.pop())
        else:
            shown.append({"0": "0", "#": "", "?": " "}[ch])
        if i == first and digits:
            shown.append("".join(digits))
            digits = []
    return "".join(reversed(shown))


def _whole_tokens(text: str) -> list[tuple[str, str]] | None:
    """A number section's digit placeholders and literals, in order (None if it holds
    anything a whole-number display does not: a point, an exponent, general, a fill)."""
    parts: list[tuple[str, str]] = []
    i, n = 0, len(text)
    if text[:1] in "tT" and text[1:2] in "0#?":
        i = 1
    while i < n:
        ch = text[i]
        if ch == '"':
            end = text.find('"', i + 1)
            end = n if end < 0 else end
            parts.append(("literal", text[i + 1:end]))
            i = end + 1
            continue
        if ch == "\\":
            parts.append(("literal", text[i + 1:i + 2]))
            i += 2
            continue
        if ch == "_":
            parts.append(("literal", " "))
            i += 2
            continue
        if ch == "[":
            end = text.find("]", i + 1)
            end = n if end < 0 else end
            bracket = text[i:end + 1]
            if bracket.startswith("[$") and "-" in bracket:
                parts.append(("literal", bracket[2:bracket.index("-")]))
            i = end + 1  # a colour, or a locale tag
            continue
        if ch in "0#?":
            parts.append(("digit", ch))
        elif ch in ".eE*@" or text[i:i + 7].lower() == "general":
            return None
        else:
            parts.append(("literal", ch))
        i += 1
    return parts


def serial_to_date(serial: float, date1904: bool = False) -> date | None:
    """An Excel date serial as a date (1900 system, or 1904 where the workbook says so), or
    None if out of Excel's range (years 1900 to 9999)."""
    moment = serial_to_datetime(serial, date1904)
    return moment.date() if moment is not None else None


def serial_to_datetime(serial: float, date1904: bool = False) -> datetime | None:
    """An Excel date-time serial as a datetime, or None if out of range. In the 1900 system
    serial 1 is 1900-01-01 and 60 the phantom 1900-02-29 (shown as 28/02 here); in the 1904
    system serial 0 is 1904-01-01, 1,462 days later."""
    if not 0 <= serial < 2_958_466:
        return None
    base = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
    if not date1904 and serial < 61:
        base = datetime(1899, 12, 31)  # before Excel's phantom 29 February 1900 (serial
        # 0 is a time of day alone, which Excel shows on 0 January 1900)
    days = int(serial)
    try:
        moment = base + timedelta(days=days, seconds=round((serial - days) * 86400))
    except OverflowError:
        return None
    return moment if moment.year <= 9999 else None


# --------------------------------------------------------------------------------------------
# Private: lexing a format code
# --------------------------------------------------------------------------------------------

_DATE_LETTERS = set("ydbegYDBEG")  # m is a month, or minutes beside h or s
_TIME_LETTERS = set("hsHS")
_THAI_DATE = set("วดป")
_THAI_TIME = set("ชนท")
_ELAPSED = re.compile(r"^\[(h+|m+|s+|ช+|น+|ท+)\]$", re.IGNORECASE)
_CONDITION = re.compile(r"^\[(<=|>=|<>|<|>|=)")
_LOCALE_TAG = re.compile(r"^\[\$[^-\]]*-([0-9A-Fa-f]{1,8})\]$")


def _split_sections(code: str) -> list[str]:
    parts, start, i, n = [], 0, 0, len(code)
    while i < n:
        ch = code[i]
        if ch == '"':
            end = code.find('"', i + 1)
            i = n if end < 0 else end + 1
            continue
        if ch in "\\_*":
            i += 2
            continue
        if ch == "[":
            end = code.find("]", i + 1)
            i = n if end < 0 else end + 1
            continue
        if ch == ";":
            parts.append(code[start:i])
            start = i + 1
        i += 1
    parts.append(code[start:])
    return parts[:4]


def _section(text: str) -> Section:
    fields: dict[str, bool] = {}  # Section's flags
    literal: list[str] = []
    before_digits = ""  # the literal text before the first digit placeholder
    after_digits = 0  # index in ``literal`` where the text after the last placeholder begins
    digits_after_point = 0
    after_point = False
    last_digit = -1  # index in ``tokens`` of the last digit placeholder
    tokens: list[str] = []  # "0" placeholders, "," commas, "." points, "x" anything else
    i, n = 0, len(text)
    if text[:1] in "tT" and text[1:2] in "0#?":  # Thai digits: t0.00
        i = 1
    if text[:2].upper() in ("B1", "B2"):  # calendar prefixes: Gregorian, Hijri
        i = 2
    month = False
    lowered = text.lower()
    while i < n:
        ch = text[i]
        if ch == '"':
            end = text.find('"', i + 1)
            end = n if end < 0 else end
            literal.append(text[i + 1:end])
            tokens.append("x")
            i = end + 1
            continue
        if ch == "\\":
            literal.append(text[i + 1:i + 2])
            tokens.append("x")
            i += 2
            continue
        if "\u0e00" <= ch <= "\u0e7f":  # Thai: a date or time run (ว/ด/ปปปป), or a word
            run = _thai_run(text, i)
            if set(run) <= _THAI_DATE | _THAI_TIME:
                if set(run) & _THAI_DATE:
                    fields["date"] = True
                    if "ป" in run:
                        fields["buddhist"] = True
                if set(run) & _THAI_TIME:
                    fields["time"] = True
            else:
                literal.append(run)
            tokens.append("x")
            i += len(run)
            continue
        if ch in "_*":
            if ch == "*" and text[i + 1:i + 2] in ("-", "\u2212") and last_digit < 0:
                literal.append(text[i + 1])  # a fill of minus signs before the number
            i += 2
            continue
        if ch == "[":
            end = text.find("]", i + 1)
            end = n if end < 0 else end
            bracket = text[i:end + 1]
            if _ELAPSED.match(bracket):
                fields["time"] = fields["elapsed"] = True
            elif _CONDITION.match(bracket):
                fields["condition"] = True
            elif bracket.startswith("[$") and "-" in bracket:
                currency = bracket[2:bracket.index("-")]
                if currency:
                    literal.append(currency)
                tag = _LOCALE_TAG.match(bracket)
                if tag and (int(tag.group(1), 16) >> 16) & 0xFF == 7:
                    fields["buddhist"] = True  # [$-D07041E]: calendar 7, Thai Buddhist
            i = end + 1
            continue
        if lowered.startswith("general", i):
            if not fields.get("digits"):
                before_digits = "".join(literal)
            fields["digits"] = fields["zero_digit"] = True
            after_digits = len(literal)
            i += 7
            continue
        if lowered.startswith(("am/pm", "a/p"), i):
            fields["time"] = True
            i += 5 if lowered.startswith("am/pm", i) else 3
            continue
        if ch in "0#?":
            if not fields.get("digits"):
                before_digits = "".join(literal)
            fields["digits"] = True
            if ch == "0":
                fields["zero_digit"] = True
            after_digits = len(literal)
            last_digit = len(tokens)
            tokens.append("0")
            if after_point:
                digits_after_point += 1
        elif ch == ".":
            after_point = True
            tokens.append(".")
        elif ch == ",":
            tokens.append(",")
        elif ch == "%":
            fields["percent"] = True
            tokens.append("x")
        elif ch == "@":
            fields["text"] = True
            tokens.append("x")
        elif ch in "eE" and text[i + 1:i + 2] in ("+", "-"):
            i += 2  # scientific notation's exponent
            tokens.append("x")
            continue
        elif ch in "mM":
            month = True
            tokens.append("x")
        elif ch in _DATE_LETTERS:
            fields["date"] = True
            if ch in "bB":
                fields["buddhist"] = True
            tokens.append("x")
        elif ch in _TIME_LETTERS:
            fields["time"] = True
            tokens.append("x")
        else:
            if ch == "/" and last_digit >= 0 and text[i + 1:i + 2] in tuple("0#?123456789"):
                fields["fraction"] = True  # # ?/? and # ?/8: a fraction
            if not ch.isspace():
                literal.append(ch)
            tokens.append("x")
        i += 1
    shown = "".join(literal)
    fields["sign"] = "-" in shown or "(" in shown or "\u2212" in shown
    trailing = "".join(literal[after_digits:]).rstrip()
    fields["leading_sign"] = bool(fields.get("digits")) and (
        any(c in before_digits for c in "-(\u2212") or trailing.endswith(("-", "\u2212")))
    if month and not fields.get("time"):
        fields["date"] = True  # mmm-yy, or m alone: months; beside h or s: minutes
    if last_digit >= 0:
        # a comma straight after the last digit placeholder (before any other digit) scales
        following = tokens[last_digit + 1:]
        commas = 0
        for token in following:
            if token != ",":
                break
            commas += 1
        fields["scale"] = commas > 0
        fields["thousands"] = "," in tokens[:last_digit]
    return Section(literal=shown, decimals=digits_after_point,
                   **fields)


def _thai_run(text: str, start: int) -> str:
    end = start
    while end < len(text) and "\u0e00" <= text[end] <= "\u0e7f":
        end += 1
    return text[start:end]


def _section_verdict(section: Section, value: float, *, explicit_sign: bool) -> Shown:
    if section.date or section.time:
        return "date"
    if section.percent:
        return "percent"
    if value == 0 and any(dash in section.literal for dash in "-–—\u2212"):
        return "number"  # accounting formats show zero as a dash ("-", "-"??, ฿-)
    if not section.digits:
        return "hidden"
    if section.scale:
        return "scaled"
    if explicit_sign and value < 0 and not section.sign:
        return "unsigned"
    if value > 0 and section.leading_sign:
        return "signed"
    if not section.zero_digit and not section.fraction and _rounds_to_zero(value, section):
        return "hidden"  # "#,###" shows nothing for 0, "#.##" nothing for 0.004
    return "number"


def _rounds_to_zero(value: float, section: Section) -> bool:
    from .rules import excel_round

    return excel_round(abs(value), section.decimals) == 0


def _plain(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e15 and value == value else repr(value)
