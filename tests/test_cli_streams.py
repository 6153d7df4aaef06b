"""The command line never fails on printing: with stdout and stderr in a strict encoding that
lacks a character (Thai Windows redirects output as cp874), the character becomes ``?`` and the
command does its work and exits as it would."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from pmqa_xlsx.cli import tolerant_streams

from .conftest import ROOT

NAME = "แบบ✅"  # ✅ is not in cp874; the Thai is
SHOWN = "แบบ?"


def cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    """Run ``python -m pmqa_xlsx.cli`` with stdout and stderr in strict cp874, as Thai Windows
    gives a command whose output goes to a file; the output decoded from cp874."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "cp874"}
    result = subprocess.run([sys.executable, "-m", "pmqa_xlsx.cli", *args], cwd=cwd, env=env,
                            capture_output=True, timeout=300, check=False)
    return (result.returncode, result.stdout.decode("cp874"), result.stderr.decode("cp874"))


def test_generate_check_and_merge_print_a_name_outside_cp874_as_a_question_mark(
        tmp_path: Path) -> None:
    code, out, err = cli("generate", "-o", f"{NAME}.xlsx", cwd=tmp_path)
    assert (code, err) == (0, ""), err
    assert (tmp_path / f"{NAME}.xlsx").is_file()
    assert out.startswith(f"wrote {SHOWN}.xlsx: ")

    code, out, err = cli("check", f"{NAME}.xlsx", cwd=tmp_path)
    assert code == 1, err  # a blank form is rejected: no agency code
    assert out.startswith(f"{SHOWN}.xlsx: ต้องแก้ไข [rejected]\n")
    assert "Traceback" not in out + err

    code, out, err = cli("merge", f"{NAME}.xlsx", "-o", f"รวม{NAME}.xlsx", cwd=tmp_path)
    assert code == 1, err  # written, with the rejected return counted
    assert (tmp_path / f"รวม{NAME}.xlsx").is_file()
    assert f"{SHOWN}.xlsx" in out + err and "Traceback" not in out + err


def test_an_error_naming_a_file_outside_cp874_is_printed_in_thai(tmp_path: Path) -> None:
    roster = tmp_path / f"{NAME}.csv"
    roster.write_text("รหัสหน่วยงาน,ชื่อหน่วยงาน\n,กรมหนึ่ง\n", encoding="utf-8")
    code, out, err = cli("generate", "--roster", roster.name, "-o", "out", cwd=tmp_path)
    assert code == 1
    # Python's stderr always escapes what its encoding lacks (backslashreplace): kept as it is
    escaped = NAME.encode("cp874", "backslashreplace").decode("cp874")
    assert escaped == "แบบ\\u2705"
    assert err.startswith(f"ข้อผิดพลาด: บัญชีรายชื่อหน่วยงาน (roster) {escaped}.csv: "
                          "พบปัญหา 1 รายการ")
    assert "แถว 2: รหัสหน่วยงาน ว่างอยู่" in err and "Traceback" not in out + err
    assert not (tmp_path / "out").exists()


def test_tolerant_streams_keeps_the_encoding_and_replaces_what_it_lacks() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp874", errors="strict")
    tolerant_streams(stream)
    stream.write(f"{NAME} ๑๒๓\n")
    stream.flush()
    assert (stream.encoding, stream.errors) == ("cp874", "replace")
    assert raw.getvalue() == f"{SHOWN} ๑๒๓\n".encode("cp874")
    kept = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace")
    tolerant_streams(kept)
    assert kept.errors == "backslashreplace"  # already never fails: left as it is
