"""Reading a layout's YAML (yamlread.py): bounded whatever the file holds, and every problem of
reading located at its line, one problem among the others."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pmqa_xlsx import LayoutError, load_layout, parse_layout, yamlread
from pmqa_xlsx.layout import resolve_layout_path
from pmqa_xlsx.yamlread import MAX_DEPTH, MAX_LAYOUT_BYTES, read_yaml

from .conftest import ROOT
from .steps import calls

TEXT = resolve_layout_path(None).read_text(encoding="utf-8")
LINES = TEXT.splitlines(keepends=True)


def problems(text: str) -> list[str]:
    with pytest.raises(LayoutError) as info:
        parse_layout(text, source="test.yaml")
    return list(info.value.problems)


def line_of(needle: str) -> int:
    """The 1-based line of the bundled layout holding ``needle``."""
    return next(n for n, line in enumerate(LINES, 1) if needle in line)


def with_line(needle: str, new: str) -> str:
    """The bundled layout with the line holding ``needle`` replaced by ``new``."""
    n = line_of(needle)
    return "".join(LINES[:n - 1]) + new + "".join(LINES[n:])


# -- bounded -----------------------------------------------------------------------------------

BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['x'] * 9)}]\n"
    for prev, name in zip(["", *"abcdefgh"], "abcdefghi", strict=False))


def test_an_alias_bomb_fails_fast_in_little_memory() -> None:
    """The "billion laughs": 9**9 strings from 400 bytes. Run in a process capped at 1 GB of
    address space and 20 s, so that a regression fails the test, not the machine. Refused
    with less work (function calls, counted) than reading the bundled form's layout."""
    assert len(BOMB) < 450
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))
        from pmqa_xlsx.layout import parse_layout
        from pmqa_xlsx.errors import LayoutError
        from tests.steps import calls
        found = []
        def parse():
            try:
                parse_layout({BOMB!r})
            except LayoutError as exc:
                found.extend(exc.problems)
        print(calls(parse))
        print("\\n".join(found))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=20, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    steps, *found = done.stdout.splitlines()
    assert int(steps) < calls(parse_layout, TEXT) // 10
    assert found[0] == ("$.b[0] (line 2): an alias (*a) stands for a value written elsewhere, "
                        "and a layout takes no aliases: write the value out in full here")
    assert found[49].startswith("$.g[4] (line 7): an alias (*f)")  # 8 lines of 9 aliases: 72
    assert found[50] == "$: and 22 more problems like these (aliases, keys given twice, tags)"
    assert found[51] == "$.a: unknown key 'a'; allowed: form, statuses, instructions, identity, " \
        "sheets, rules, style, checks"


def test_an_alias_is_one_problem_among_the_others() -> None:
    text = with_line("label: ยังไม่ได้ดำเนินการ", "    label: *somewhere\n")
    text = text.replace("  title: ระดับ", "  titel: ระดับ", 1)
    assert problems(text) == [
        f"$.statuses[0].label (line {line_of('label: ยังไม่ได้ดำเนินการ')}): an alias "
        "(*somewhere) stands for a value written elsewhere, and a layout takes no aliases: "
        "write the value out in full here",
        "$.form.titel: unknown key 'titel'; did you mean 'title'?",
        "$.form.title: missing; this key is required",
    ]


def test_an_anchor_alone_is_styling() -> None:
    text = TEXT.replace("style:", "style: &house_style", 1)
    assert parse_layout(text).fingerprint == load_layout().fingerprint


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:  # sparse: 50 MB on paper, nothing on disk
        handle.truncate(50_000_000)
    with pytest.raises(LayoutError) as info:
        load_layout(huge)
    # refused from its size alone: a few calls, not the millions reading 50 MB would take
    assert calls(load_layout, huge, expect=LayoutError) < 1_000
    assert info.value.problems == (
        "$: the file is 50,000,000 bytes; a layout is at most 1,000,000 (the bundled one is "
        "about 20,000): this is not a layout, or it repeats far too much",)
    assert problems(TEXT + "#" * MAX_LAYOUT_BYTES)[0].startswith(
        f"$: the file is {len(TEXT.encode()) + MAX_LAYOUT_BYTES:,} bytes")
    assert len(TEXT.encode()) < MAX_LAYOUT_BYTES // 40  # generous for any real form


@pytest.mark.parametrize("text", ["[" * 200_000, "a: " + "[" * 60 + "]" * 60,
                                  "".join(f"{'  ' * i}k{i}:\n" for i in range(60)) + "x\n"],
                         ids=["unclosed flow", "closed flow", "block mappings"])
def test_deep_nesting_is_refused_without_recursion(text: str) -> None:
    found = problems(text)
    # refused where the nesting passes the limit, with less work (function calls, counted)
    # than reading the bundled form's layout, however much follows
    assert calls(parse_layout, text, expect=LayoutError) < calls(parse_layout, TEXT)
    assert len(found) == 1 and f"nested more than {MAX_DEPTH} lists and mappings deep" in found[0]
    assert found[0].split(" ")[1] == "(line"


def test_a_second_document_is_refused() -> None:
    assert problems(TEXT + "---\nform: {}\n") == [
        f"$ (line {len(LINES) + 1}): a second YAML document starts here ('---'); a layout "
        "file holds one document"]


def test_tags_are_not_part_of_the_format() -> None:
    text = TEXT.replace("  id: pmqa4-cat3-cat7.2", '  id: !!python/object/apply:os.system ["x"]')
    assert problems(text) == [f"$.form.id (line {line_of('id: pmqa4-cat3-cat7.2')}): the tag "
                              "tag:yaml.org,2002:python/object/apply:os.system is not part of "
                              "the layout format; remove it"]
    text = TEXT.replace("  font: TH Sarabun New", "  font: !thai TH Sarabun New")
    assert problems(text) == [f"$.style.font (line {line_of('font: TH')}): the tag !thai is not "
                              "part of the layout format; remove it"]


# -- located -----------------------------------------------------------------------------------

def test_an_unclosed_quote_is_reported_where_it_opened() -> None:
    """Not at the end of the file, where the parser noticed (as it was reported before)."""
    needle = "title: ระบบข้อมูลและสารสนเทศ"
    n = line_of(needle)
    text = with_line(needle, LINES[n - 1].replace("title: ", "title: '"))
    assert problems(text) == [
        f"$ (line {n}): not valid YAML: the quote opened at line {n}, column 16 is not closed "
        f"(the parser noticed at line {len(LINES) + 1}, column 1); close it"]
    assert len(LINES) > n + 100


@pytest.mark.parametrize("needle", ["  title: ระดับการพัฒนา", '  version: "2562.1"'])
def test_an_unclosed_quote_closed_by_a_later_one_is_reported_where_it_opened(
        needle: str) -> None:
    """A quoted text may run over lines, so a quote left open is closed by the next quote
    of the file, and the parser stops lines later; the problem names the quote's own line."""
    n = line_of(needle.strip())
    line = LINES[n - 1]
    opened = line.replace("title: ", 'title: "') if "title" in needle else \
        line.rstrip("\n").rstrip('"') + "\n"
    (problem,) = problems(with_line(needle.strip(), opened))
    column = opened.index('"') + 1
    assert problem.startswith(f"$ (line {n}): not valid YAML: the quote opened at line {n}, "
                              f"column {column} is closed only at line ")
    assert problem.endswith(f"close the quote on line {n} (a line break in a text is "
                            "written \\n)")


def test_an_unclosed_bracket_is_reported_where_it_opened() -> None:
    n = line_of("result_years: [-2, -1, 0]")
    text = with_line("result_years: [-2, -1, 0]", "    result_years: [-2, -1, 0\n")
    assert problems(text) == [
        f"$ (line {n}): not valid YAML: the '[' opened at line {n}, column 19 is not closed "
        f"(the parser noticed at line {n + 1}, column 9: expected ',' or ']', but got ':'); "
        "close it with ']', and separate its entries with ','"]


def test_a_tab_is_reported_at_its_line() -> None:
    n = line_of("  font: TH Sarabun New")
    text = with_line("  font: TH Sarabun New", "\tfont: TH Sarabun New\n")
    assert problems(text) == [f"$ (line {n}): not valid YAML: a tab at line {n}, column 1; "
                              "YAML indents with spaces only: replace the tab with spaces"]


def test_a_bad_indent_is_reported_at_its_line() -> None:
    n = line_of('version: "2562.1"')
    text = with_line('version: "2562.1"', ' version: "2562.1"\n')
    assert problems(text) == [
        f"$ (line {n}): not valid YAML: expected <block end>, but found '<block mapping start>' "
        f"at line {n}, column 2, in the mapping that starts at line {n - 2}, column 1; check "
        "the indentation: the keys of one mapping, and the '-' of one list, start in the same "
        "column (spaces only)"]


def test_a_control_character_is_reported_at_its_line() -> None:
    n = line_of("  font: TH Sarabun New")
    text = with_line("  font: TH Sarabun New", "  font: TH \x01Sarabun New\n")
    assert problems(text) == [f"$ (line {n}): not valid YAML: the character U+0001 cannot be "
                              "in a YAML file (nor shown in a workbook); remove it"]


def test_a_duplicate_key_is_one_problem_among_the_others() -> None:
    n = line_of("  fiscal_year: 2562")
    text = with_line("  fiscal_year: 2562", "  fiscal_year: 2562\n  version: \"9\"\n")
    text = text.replace("  completeness: กรอกแล้ว", "  completenes: กรอกแล้ว")
    assert problems(text) == [
        f"$.form.version (line {n + 1}): the key 'version' is given twice in one mapping "
        f"(first at line {line_of('version: ')}); keep one",
        "$.instructions.completenes: unknown key 'completenes'; did you mean 'completeness'?",
        "$.instructions.completeness: missing; this key is required",
    ]


def test_libyaml_and_pyyaml_read_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = read_yaml(TEXT)
    monkeypatch.setattr(yamlread, "_FAST_LOADER", None)
    assert read_yaml(TEXT) == fast and fast.problems == () and not fast.stopped


def test_an_escape_libyaml_refuses_is_checked_as_text() -> None:
    """libyaml refuses "\\ud800"; PyYAML reads it, and the checker says what is wrong."""
    text = TEXT.replace("  font: TH Sarabun New", '  font: "TH \\ud800 Sarabun"')
    (problem,) = problems(text)
    assert problem.startswith("$.style.font: holds the character U+D800 at position 4")
