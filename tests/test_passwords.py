"""Protection passwords hashed as Thai Excel hashes them (outputs.py), on every sheet and on
the workbook structure, and the passwords Thai Excel could not take refused before anything is
written."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmqa_xlsx import generate_workbook
from pmqa_xlsx.cli import main
from pmqa_xlsx.generate import generate_roster
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.outputs import (
    PASSWORD_MAX,
    PasswordError,
    legacy_password_hash,
    password_bytes,
)
from pmqa_xlsx.roster import Agency


def method_1(data: bytes) -> int:
    """[MS-OFFCRYPTO] 2.3.7.1 CreatePasswordVerifier_Method1, step by step as printed there:
    PasswordArray is the length then the bytes, walked in reverse order."""
    verifier = 0x0000
    password_array = [len(data), *data]
    for password_byte in reversed(password_array):
        intermediate1 = 0 if verifier & 0x4000 == 0 else 1
        intermediate2 = (verifier * 2) & 0x7FFF  # most significant bit (of 16) set to 0
        intermediate3 = intermediate1 | intermediate2
        verifier = intermediate3 ^ password_byte
    return verifier ^ 0xCE4B


def test_ascii_passwords_hash_to_their_documented_values() -> None:
    # OpenOffice.org, "The Microsoft Excel File Format", 4.18.4 Password Hash Value: "Example:
    # The password is "abcdefghij" (10 characters)" ... "7) FEF1 H".
    assert legacy_password_hash("abcdefghij") == "FEF1"
    # MrExcel forum, thread "Password" (2002): "Protect a sheet ... with the password "test"
    # ... Unprotect it with the password "zzyw"": the two share one 16-bit hash.
    assert legacy_password_hash("test") == legacy_password_hash("zzyw")
    assert int(legacy_password_hash("test"), 16) == method_1(b"test")
    # an ASCII password is its own Windows-874 bytes: the same hash as xlsxwriter's
    assert legacy_password_hash("password") == "83AF"


def test_a_thai_password_is_hashed_from_its_windows_874_bytes() -> None:
    password = "รหัสผ่าน"
    # ร ห ั ส ผ ่ า น in Windows-874 (the Thai "ANSI" code page): one byte each
    assert password_bytes(password) == bytes([0xC3, 0xCB, 0xD1, 0xCA, 0xBC, 0xE8, 0xD2, 0xB9])
    assert legacy_password_hash(password) == f"{method_1(bytes.fromhex('c3cbd1cabce8d2b9')):X}"
    assert legacy_password_hash(password) == "BB40"
    # hashing the Unicode code points instead (U+0E23 ...) gives another value: the one
    # xlsxwriter's protect() would have written, which Thai Excel does not reproduce
    code_points = 0
    for char in reversed(password):
        code_points = ((code_points >> 14) & 1) | ((code_points << 1) & 0x7FFF)
        code_points ^= ord(char)
    code_points = ((code_points >> 14) & 1) | ((code_points << 1) & 0x7FFF)
    assert f"{code_points ^ len(password) ^ 0xCE4B:X}" != legacy_password_hash(password)


def test_mixed_passwords_and_windows_874_punctuation() -> None:
    # digits, Latin letters and the code page's own punctuation (the en dash is 0x96 there)
    assert password_bytes("ลับ123–A") == bytes([0xC5, 0xD1, 0xBA]) + b"123" + bytes([0x96, 0x41])
    for password in ("ลับ123", "ก" * PASSWORD_MAX, "€uro"):
        assert int(legacy_password_hash(password), 16) == method_1(password.encode("cp874"))


def protection_hashes(path: Path) -> dict[str, str | None]:
    """The password attribute of each part's protection element, straight from the XML."""
    found: dict[str, str | None] = {}
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            xml = package.read(name).decode("utf-8", "replace")
            if name.startswith("xl/worksheets/sheet"):
                match = re.search(r"<sheetProtection\b[^>]*>", xml)
                assert match, name
                hashed = re.search(r'\spassword="([0-9A-F]+)"', match.group())
                found[name] = hashed.group(1) if hashed else None
            elif name == "xl/workbook.xml":
                match = re.search(r"<workbookProtection\b[^>]*>", xml)
                assert match
                hashed = re.search(r'\sworkbookPassword="([0-9A-F]+)"', match.group())
                found[name] = hashed.group(1) if hashed else None
    return found


def test_every_sheet_and_the_structure_carry_the_thai_hash(layout: Layout,
                                                           tmp_path: Path) -> None:
    path = tmp_path / "form.xlsx"
    generate_workbook(layout, path, password="รหัสผ่าน")
    found = protection_hashes(path)
    sheets = [name for name in found if name.startswith("xl/worksheets/")]
    with zipfile.ZipFile(path) as package:  # every sheet the workbook lists, metadata too
        listed = package.read("xl/workbook.xml").count(b"<sheet ")
    assert len(sheets) == listed >= len(layout.sheets) + 1
    assert set(found.values()) == {"BB40"} and "xl/workbook.xml" in found
    unlocked = tmp_path / "open.xlsx"
    generate_workbook(layout, unlocked)
    assert set(protection_hashes(unlocked).values()) == {None}


def test_roster_workbooks_carry_the_same_hash(layout: Layout, tmp_path: Path) -> None:
    agencies = [Agency(code="01001", name="กรม ก"), Agency(code="01002", name="กรม ข")]
    written = generate_roster(layout, agencies, tmp_path / "out", password="ลับ123", jobs=1)
    assert len(written) == 2
    for generated in written:
        assert set(protection_hashes(generated.path).values()) == {
            legacy_password_hash("ลับ123")}


@pytest.mark.parametrize(("password", "said"), [
    ("รหัส😀", "'😀' (ตัวที่ 5)"),
    ("ລະຫັດ", "'ລ' (ตัวที่ 1)"),  # Lao, not Thai
    ("pass中文", "'中' (ตัวที่ 5)"),
    ("café", "'é' (ตัวที่ 4)"),
])
def test_a_password_thai_excel_cannot_take_is_refused_before_writing(
        tmp_path: Path, password: str, said: str) -> None:
    target = tmp_path / "form.xlsx"
    result = CliRunner().invoke(main, ["generate", "-o", str(target), "--password", password])
    assert result.exit_code == 2, result.output
    assert f"รหัสผ่านมีอักขระ {said} ซึ่ง Excel ภาษาไทยใช้ไม่ได้" in result.output
    assert "Traceback" not in result.output and not target.exists()


def test_a_password_longer_than_excel_takes_is_refused(tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_text("agency_code,agency_name\n01001,กรม ก\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["generate", "--roster", str(roster), "-o", str(out),
                                       "--password", "ก" * (PASSWORD_MAX + 1)])
    assert result.exit_code == 2, result.output
    assert (f"รหัสผ่านยาว {PASSWORD_MAX + 1} ตัวอักษร แต่ Excel รับได้ไม่เกิน {PASSWORD_MAX}"
            in result.output)
    assert not out.exists()
    result = CliRunner().invoke(main, ["generate", "--roster", str(roster), "-o", str(out),
                                       "--password", "ก" * PASSWORD_MAX])
    assert result.exit_code == 0, result.output


def test_the_library_refuses_them_too(layout: Layout, tmp_path: Path) -> None:
    with pytest.raises(PasswordError) as info:
        generate_workbook(layout, tmp_path / "f.xlsx", password="😀")
    assert info.value.words.en.startswith("--password: the password has '😀' (character 1)")
    assert not (tmp_path / "f.xlsx").exists()
    with pytest.raises(PasswordError):
        generate_roster(layout, [Agency(code="1", name="ก")], tmp_path / "out",
                        password="x" * 256)
    assert not (tmp_path / "out").exists()
