"""An agency's identity cannot be confused or taken (issue 10): one spelling of a code in the
roster, the metadata and the identity block."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from pmqa_xlsx import consolidate, generate_workbook, read_return
from pmqa_xlsx import problems as P
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.identity import code_key, normalise_code
from pmqa_xlsx.layout import META_SHEET, Layout
from pmqa_xlsx.roster import Agency

from .conftest import FIXED_TIME
from .fill import fill

AGENCY = Agency(code="03005", name="กรมการปกครอง", ministry="กระทรวงมหาดไทย")
OTHER = Agency(code="07007", name="กรมสรรพากร", ministry="กระทรวงการคลัง")
# The ways one code arrives: Thai digits, full-width digits, spaces, invisible characters.
SPELLINGS = ["๐๓๐๐๕", "０３００５", " 03005 ", "030\u200b05", "\ufeff03005", "0300\u00ad5",
             "03\u2060005\u200d", "๐๓0\u200c05"]


@pytest.fixture(scope="module")
def issued(layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("issued") / "03005.xlsx"
    generate_workbook(layout, path, agency=AGENCY, generated_at=FIXED_TIME)
    return path


@pytest.fixture(scope="module")
def blank(layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("blank") / "blank.xlsx"
    generate_workbook(layout, path, generated_at=FIXED_TIME)
    return path


def edited(src: Path, dst: Path, change: Callable[[openpyxl.Workbook], None]) -> Path:
    book = openpyxl.load_workbook(src)
    change(book)
    book.save(dst)
    return dst


def set_meta_code(code: str) -> Callable[[openpyxl.Workbook], None]:
    def change(book: openpyxl.Workbook) -> None:
        book[META_SHEET]["B5"] = code
    return change


# -- one spelling -----------------------------------------------------------------------------


def test_normalising_is_idempotent_and_ignores_invisible_characters() -> None:
    rng = random.Random(10)
    pieces = ["0", "3", "๕", "５", "٣", "A", "ก", " ", "\u00a0", "\u200b", "\u00ad", "\ufeff",
              "\u2060", "\ufe0f", "e\u0301", "\u3000", "\u202e", "-", "_"]
    invisible = {" ", "\u00a0", "\u200b", "\u00ad", "\ufeff", "\u2060", "\ufe0f", "\u3000",
                 "\u202e"}
    for _ in range(2000):
        text = "".join(rng.choices(pieces, k=rng.randint(0, 8)))
        once = normalise_code(text)
        assert normalise_code(once) == once, repr(text)
        assert not any(ch in invisible for ch in once), repr(text)
        plain = "".join(ch for ch in text if ch not in invisible)
        assert once == normalise_code(plain), repr(text)
        assert all(ch.isascii() for ch in once if ch.isdecimal())


def test_one_code_whatever_its_spelling() -> None:
    assert {normalise_code(s) for s in SPELLINGS} == {"03005"}
    assert normalise_code(3005.0) == "3005" and normalise_code(None) == ""
    assert code_key("01001") == code_key("1001") == code_key("๐๑๐๐๑")
    assert code_key("AB01") == code_key("ab01") and code_key("000") == code_key("0")
    assert code_key("1001") != code_key("10010")


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_metadata_code_is_read_in_its_one_spelling(issued: Path, cellmap: CellMap,
                                                       tmp_path: Path, spelling: str) -> None:
    filled = tmp_path / "filled.xlsx"
    fill(cellmap, issued, filled)
    result = read_return(edited(filled, tmp_path / "x.xlsx", set_meta_code(spelling)))
    assert (result.state, result.agency_code) == ("ok", "03005")  # no code mismatch either


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_typed_code_is_read_in_its_one_spelling(blank: Path, cellmap: CellMap,
                                                    tmp_path: Path, spelling: str) -> None:
    ref = f"คำชี้แจง!{cellmap.identity_cell('agency_code').ref}"
    fill(cellmap, blank, tmp_path / "x.xlsx", {ref: spelling})
    result = read_return(tmp_path / "x.xlsx")
    assert (result.state, result.agency_code) == ("ok", "03005")
    assert result.identity.fields["agency_code"] == spelling  # the answer stays as typed


def test_a_typed_code_that_differs_once_normalised_is_a_mismatch(issued: Path, cellmap: CellMap,
                                                                 tmp_path: Path) -> None:
    ref = cellmap.identity_cell("agency_code").ref
    filled = tmp_path / "filled.xlsx"
    fill(cellmap, issued, filled)

    def change(book: openpyxl.Workbook) -> None:
        book["คำชี้แจง"][ref] = "๐๗๐๐๗\u200b"

    result = read_return(edited(filled, tmp_path / "x.xlsx", change))
    assert result.problems["message"].tolist() == [P.message(
        "agency-code-mismatch", found="07007", expected="03005")]


def test_a_return_in_thai_digits_is_its_roster_agency_and_no_other(
    issued: Path, layout: Layout, cellmap: CellMap, tmp_path: Path
) -> None:
    """The issue: a code in Thai digits was another agency than the same code in ASCII."""
    folder = tmp_path / "returns"
    folder.mkdir()
    filled = tmp_path / "filled.xlsx"
    fill(cellmap, issued, filled)
    edited(filled, folder / "thai.xlsx", set_meta_code("๐๓๐๐๕"))
    other = tmp_path / "07007.xlsx"
    generate_workbook(layout, other, agency=OTHER, generated_at=FIXED_TIME)
    fill(cellmap, other, folder / "07007.xlsx")
    for roster in ([AGENCY, OTHER], [Agency(code="๐๓๐๐๕", name=AGENCY.name), OTHER]):
        merged = consolidate(folder, roster=roster)
        states = dict(zip(merged.returns["agency_code"], merged.returns["state"], strict=True))
        assert states == {"03005": "ok", "07007": "ok"}, roster
