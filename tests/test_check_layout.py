"""``pmqa-xlsx check-layout``, with ``--against`` an earlier edit: what changed, and a warning
when the content changed but the version did not."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from pmqa_xlsx.cli import main
from pmqa_xlsx.layout import load_layout, resolve_layout_path

BUNDLED = resolve_layout_path(None)
TEXT = BUNDLED.read_text(encoding="utf-8")


def run(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output.splitlines()


def edit(tmp_path: Path, name: str, *changes: tuple[str, str]) -> Path:
    text = TEXT
    for old, new in changes:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


ROWS_11 = ("    rows: 10 ", "    rows: 11 ")
VERSION_2 = ('version: "2562.1"', 'version: "2562.2"')


def test_a_change_without_a_new_version_is_a_warning(tmp_path: Path) -> None:
    new = edit(tmp_path, "new.yaml", ROWS_11)
    old_print, new_print = load_layout(BUNDLED).fingerprint, load_layout(new).fingerprint
    code, lines = run("check-layout", str(new), "--against", str(BUNDLED))
    assert code == 0
    assert lines == [
        f"{new}: ok (pmqa4-cat3-cat7.2 2562.1, fingerprint {new_print[:12]})",
        f"warning: the content differs from {BUNDLED} (pmqa4-cat3-cat7.2 2562.1, fingerprint "
        f"{old_print[:12]}) but form.version is still '2562.1': returns of the two edits would "
        "be told apart only by their fingerprint; raise form.version in the new edit"]


def test_a_change_with_a_new_version(tmp_path: Path) -> None:
    new = edit(tmp_path, "new.yaml", ROWS_11, VERSION_2)
    code, lines = run("check-layout", str(new), "--against", str(BUNDLED))
    assert code == 0
    assert lines[1].startswith(f"version '2562.1' -> '2562.2': the content differs from "
                               f"{BUNDLED} (pmqa4-cat3-cat7.2 2562.1")


def test_only_styling_changed_is_no_change(tmp_path: Path) -> None:
    new = edit(tmp_path, "new.yaml", ("style:", "# restyled\nstyle:"),
               ("  font: TH Sarabun New", '  font: "TH Sarabun New"'))
    code, lines = run("check-layout", str(new), "--against", str(BUNDLED))
    assert code == 0
    assert lines[1].startswith(f"no change: the same content as {BUNDLED} (pmqa4-cat3-cat7.2")


def test_another_form_is_named(tmp_path: Path) -> None:
    new = edit(tmp_path, "new.yaml", ("id: pmqa4-cat3-cat7.2", "id: pmqa4-cat1"))
    code, lines = run("check-layout", str(new), "--against", str(BUNDLED))
    assert code == 0
    assert lines[1].startswith("another form: the form id is 'pmqa4-cat1', ")


def test_an_earlier_edit_that_does_not_load_is_an_error(tmp_path: Path) -> None:
    old = edit(tmp_path, "old.yaml", ("  title: ระดับ", "  titel: ระดับ"))
    code, lines = run("check-layout", str(BUNDLED), "--against", str(old))
    assert code == 1
    assert f"Error: layout {old}: 2 problems" in lines
    assert "  $.form.titel: unknown key 'titel'; did you mean 'title'?" in lines


def test_the_year_option_uses_the_layouts_rule(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["generate", "-o", str(tmp_path / "b.xlsx"),
                                       "--year", "2900"])
    assert result.exit_code == 2
    assert "2900 is not a plausible Buddhist Era year (2400 to 2800, e.g. 2569)" in result.output
