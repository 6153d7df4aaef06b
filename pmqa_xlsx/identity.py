"""Who a return is from: the one spelling of an agency code.

``normalise_code`` is the only place an agency code is normalised. The roster, the metadata
sheet and the identity block of a return all go through it, so a code typed in Thai or
full-width digits, or with spaces or invisible characters in it, is the same code as the plain
one, and can neither stand for another agency nor be told apart from its own.
``code_key`` is what two codes of one roster must not share.
"""

from __future__ import annotations

import unicodedata

# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): characters no font
# draws. With the formatting characters (category Cf) and spaces, they are removed from codes.
_IGNORABLE = ((0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
              (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
              (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
              (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
              (0xE0000, 0xE0FFF))


def _invisible(ch: str) -> bool:
    if ch.isspace() or unicodedata.category(ch) == "Cf":
        return True
    point = ord(ch)
    return point >= 0xAD and any(low <= point <= high for low, high in _IGNORABLE)


def normalise_code(value: object) -> str:
    """An agency code in its one spelling ("" for none).

    Unicode NFKC (full-width ``０３００５`` becomes ``03005``), every decimal digit as its
    ASCII digit (Thai ``๐๓๐๐๕``, Arabic-Indic...), and every space and invisible character
    removed (zero-width space, joiners, word joiner, byte order mark, soft hyphen, direction
    marks, variation selectors: the formatting characters and Unicode's default-ignorable
    code points). A whole number stored as a number (``3005.0``) loses its ``.0``. Case and
    leading zeros are kept: they are part of the code as issued.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value))
    kept = []
    for ch in text:
        if _invisible(ch):
            continue
        kept.append(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii()
                    else ch)
    return unicodedata.normalize("NFKC", "".join(kept))


def code_key(code: str) -> str:
    """What two codes of one roster must not share: the normalised code, case folded (two
    files named AB01 and ab01 are one file on Windows), without leading zeros (a spreadsheet
    that takes a code for a number drops them: 01001 becomes 1001)."""
    return normalise_code(code).casefold().lstrip("0") or "0"
