"""The README's `pmqa-xlsx` commands work as written, through the installed console script.

The commands are read from the README's code blocks, not copied here, so they cannot go stale:
the Thai quick start is run from start to end as ministry staff would run it (a roster made
in Excel with Thai headings and a title row, generate, the agencies fill in their workbooks,
check, merge), and every other command runs in a folder laid out as the README assumes
(samples/roster.csv, out/ from generate, returns/ filled from out/, and copies of the bundled
layout where the README names a layout you wrote). Each exits 0.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from pmqa_xlsx import generate_roster
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.layout import Layout

from .conftest import ROOT
from .fill import fill

README = ROOT / "README.md"
THAI_START = "## เริ่มต้นใช้งาน (ภาษาไทย)"
BUNDLED_LAYOUT = ROOT / "layouts" / "pmqa4-2562.yaml"

#: README commands not run here, each with why; each must still be in the README.
NOT_RUN = {
    "pmqa-xlsx merge --layout pmqa4-2562 --layout next.yaml --round "
    "pmqa4-cat3-cat7.2:2563.1:2563 returns/ -o m.xlsx":
        "needs returns of a revised layout (version 2563.1); tests/test_cli_layouts.py "
        "merges rounds of two layouts",
    "pmqa-xlsx generate --roster samples/roster.csv --year 2563 -o round-2563/ --prefill "
    "round-2562.xlsx":
        "needs a previous round's merge output; tests/test_prefill.py merges a round and "
        "generates the next from its workbook, CSV and Parquet",
    "pmqa-xlsx merge returns-2563/ -o consolidated-2563.xlsx --previous "
    "consolidated-2562.xlsx":
        "needs two rounds' returns; tests/test_previous.py merges a round, then the next "
        "with --previous from its workbook, CSV and Parquet",
}


def readme_commands(section: str | None = None) -> list[str]:
    """The `pmqa-xlsx` lines of the README's code blocks (of one `## ` section if given),
    in order, without their trailing comments."""
    text = README.read_text(encoding="utf-8")
    if section is not None:
        start = text.index(f"\n{section}\n")
        end = text.find("\n## ", start + 1)
        text = text[start:end if end >= 0 else len(text)]
    commands = []
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.M | re.S):
        for line in block.splitlines():
            if line.startswith("pmqa-xlsx "):
                commands.append(re.sub(r"\s+#\s.*$", "", line).strip())
    return commands


def console_script() -> Path:
    """The installed `pmqa-xlsx` beside the Python running the tests (the venv's)."""
    script = Path(sys.executable).parent / ("pmqa-xlsx.exe" if os.name == "nt" else "pmqa-xlsx")
    if not script.exists():
        pytest.fail(f"{script} is not installed; run bash scripts/setup")
    return script


def run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``command`` as a person types it in a shell (globs expanded) with the venv's bin first on
    PATH; the package imported is this checkout's."""
    env = {**os.environ, "PATH": f"{console_script().parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(ROOT)}
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)


def test_the_readme_has_the_commands_this_test_runs() -> None:
    every = readme_commands()
    thai = readme_commands(THAI_START)
    assert len(thai) >= 4 and {c.split()[1] for c in thai} >= {"generate", "check", "merge"}
    assert len(every) >= 20
    for command in NOT_RUN:
        assert command in every, f"NOT_RUN lists a command the README no longer has: {command}"


def test_the_thai_quick_start_runs_from_start_to_end(cellmap: CellMap, tmp_path: Path) -> None:
    work = tmp_path / "งาน"
    work.mkdir()
    book = openpyxl.Workbook()  # the roster as made in Excel: a title row, Thai headings
    ws = book.active
    ws.title = "รายชื่อ"
    ws.append(["รายชื่อหน่วยงานที่ประเมิน PMQA 4.0 ปีงบประมาณ 2569"])
    ws.append(["รหัสหน่วยงาน", "ชื่อหน่วยงาน", "กระทรวง", "ภาค"])
    ws.append(["03005", "กรมการปกครอง", "กระทรวงมหาดไทย", "กลาง"])
    ws.append([7007, "กรมสรรพากร", "กระทรวงการคลัง", "กลาง"])  # a code typed in a 00000 cell
    ws["A4"].number_format = "00000"
    ws.append(["21003", "กรมอนามัย", "กระทรวงสาธารณสุข", "เหนือ"])
    book.save(work / "รายชื่อหน่วยงาน.xlsx")

    commands = readme_commands(THAI_START)
    for command in commands:
        result = run(command, work)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr
        if command.split()[1] == "generate":  # the agencies fill in their own workbooks
            issued = work / command.split("-o ")[1].split()[0]
            returned = work / "ไฟล์ส่งคืน"
            returned.mkdir()
            workbooks = sorted(issued.glob("*.xlsx"))
            assert [p.name for p in workbooks] == ["03005.xlsx", "07007.xlsx", "21003.xlsx"]
            assert (issued / "manifest.csv").exists()
            for workbook in workbooks:
                fill(cellmap, workbook, returned / workbook.name)
    merged = next(c for c in commands if c.split()[1] == "merge")
    workbook = work / merged.split(" -o ")[1].split()[0]
    consolidated = openpyxl.load_workbook(workbook, read_only=True)
    try:
        rows = [list(r) for r in consolidated["returns"].iter_rows(values_only=True)]
    finally:
        consolidated.close()
    header = rows[0]
    region = {r[header.index("agency_code")]: r[header.index("ภาค")] for r in rows[1:]}
    states = {r[header.index("agency_code")]: r[header.index("state")] for r in rows[1:]}
    assert region == {"03005": "กลาง", "07007": "กลาง", "21003": "เหนือ"}
    assert set(states.values()) <= {"ok", "ok_with_warnings"}
    folder = work / merged.split(" --csv ")[1].split()[0]
    with (folder / "returns.csv").open(encoding="utf-8-sig", newline="") as handle:
        assert "ภาค" in next(csv.reader(handle))


@pytest.fixture(scope="module")
def readme_folder(layout: Layout, cellmap: CellMap,
                  tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder laid out as the README's English examples assume."""
    folder = tmp_path_factory.mktemp("readme")
    (folder / "samples").mkdir()
    roster = folder / "samples" / "roster.csv"
    shutil.copyfile(ROOT / "samples" / "roster.csv", roster)
    for name in ("big.csv", "r.csv"):
        shutil.copyfile(roster, folder / name)
    generate_roster(layout, roster, folder / "out")
    (folder / "returns").mkdir()
    for workbook in sorted((folder / "out").glob("*.xlsx")):
        fill(cellmap, workbook, folder / "returns" / workbook.name)
    for name in ("my-form.yaml", "new.yaml", "old.yaml", "next.yaml"):  # "a layout you wrote"
        shutil.copyfile(BUNDLED_LAYOUT, folder / name)
    (folder / "my-layouts").mkdir()
    shutil.copyfile(BUNDLED_LAYOUT, folder / "my-layouts" / "next.yaml")
    return folder


ENGLISH = [c for c in readme_commands() if c not in readme_commands(THAI_START)
           and c not in NOT_RUN]


@pytest.mark.parametrize("command", ENGLISH)
def test_a_readme_command_runs_as_written(readme_folder: Path, tmp_path: Path,
                                          command: str) -> None:
    work = tmp_path / "work"
    shutil.copytree(readme_folder, work, symlinks=True)  # each command in a fresh copy
    result = run(command, work)
    assert result.returncode == 0, (command, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr


# -- scripts/link-command: setup puts pmqa-xlsx on PATH -----------------------------------------

def link_command(project: Path, bin_dir: Path | str | None, path: str, *, cwd: Path | None = None,
                 system: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the project's link-command: into ``bin_dir`` (PMQA_BIN_DIR; None: the default),
    from ``cwd``, with ``system`` as the folder root links into."""
    env = {"PATH": path, "HOME": str(project / "home")}
    if bin_dir is not None:
        env["PMQA_BIN_DIR"] = str(bin_dir)
    if system is not None:
        env["PMQA_SYSTEM_BIN_DIR"] = str(system)
    return subprocess.run(["bash", str(project / "scripts" / "link-command")], env=env,
                          cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A checkout with scripts/link-command and an installed command that says its name."""
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copyfile(ROOT / "scripts" / "link-command", project / "scripts" / "link-command")
    command = project / ".venv" / "bin" / "pmqa-xlsx"
    command.parent.mkdir(parents=True)
    command.write_text("#!/bin/sh\necho \"pmqa-xlsx of $0\"\n", encoding="utf-8")
    command.chmod(0o755)
    return project


def test_setup_links_the_command_into_a_folder_on_path(project: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    path = f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin"
    first = link_command(project, bin_dir, path)
    assert first.returncode == 0, first.stderr
    link = bin_dir / "pmqa-xlsx"
    assert link.is_symlink() and link.resolve() == (project / ".venv/bin/pmqa-xlsx").resolve()
    assert first.stdout == f"setup: linked {link} -> {project / '.venv/bin/pmqa-xlsx'}\n"
    assert first.stderr == ""
    typed = subprocess.run(["bash", "-c", "pmqa-xlsx"], env={"PATH": path},
                           capture_output=True, text=True, timeout=60)
    assert typed.returncode == 0 and typed.stdout.startswith("pmqa-xlsx of ")
    again = link_command(project, bin_dir, path)  # setup runs again: nothing to do
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")


def test_setup_never_replaces_another_pmqa_xlsx(project: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    other = bin_dir / "pmqa-xlsx"
    other.write_text("#!/bin/sh\necho other\n", encoding="utf-8")
    result = link_command(project, bin_dir, f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    assert result.returncode == 0
    assert other.read_text(encoding="utf-8") == "#!/bin/sh\necho other\n"
    assert not other.is_symlink()
    assert f"{other} exists and is not this project's command; it was left as it is" \
        in result.stderr
    assert "source .venv/bin/activate" in result.stderr


def test_setup_says_when_the_folder_is_not_on_path(project: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    result = link_command(project, bin_dir, f"/usr/bin{os.pathsep}/bin")
    assert result.returncode == 0 and (bin_dir / "pmqa-xlsx").is_symlink()
    assert f"setup: {bin_dir} is not on your PATH" in result.stderr
    assert "source .venv/bin/activate" in result.stderr


def test_setup_without_the_installed_command_says_what_to_run(project: Path,
                                                               tmp_path: Path) -> None:
    (project / ".venv" / "bin" / "pmqa-xlsx").unlink()
    result = link_command(project, tmp_path / "bin", f"/usr/bin{os.pathsep}/bin")
    assert result.returncode == 1
    assert "is missing; run bash scripts/setup first" in result.stderr
    assert not (tmp_path / "bin").exists()


def test_scripts_setup_runs_the_link_step() -> None:
    setup = (ROOT / "scripts" / "setup").read_text(encoding="utf-8")
    assert "\nbash scripts/link-command\n" in setup


def test_a_relative_bin_dir_is_taken_from_the_folder_it_is_run_in(project: Path,
                                                                  tmp_path: Path) -> None:
    caller = tmp_path / "caller"
    caller.mkdir()
    result = link_command(project, "bin", f"/usr/bin{os.pathsep}/bin", cwd=caller)
    assert result.returncode == 0, result.stderr
    link = caller / "bin" / "pmqa-xlsx"
    assert link.is_symlink() and link.resolve() == (project / ".venv/bin/pmqa-xlsx").resolve()
    assert result.stdout == f"setup: linked {link} -> {project / '.venv/bin/pmqa-xlsx'}\n"
    assert not (project / "bin").exists()


def test_a_broken_link_left_by_a_moved_checkout_is_replaced(project: Path,
                                                            tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    link = bin_dir / "pmqa-xlsx"
    moved = tmp_path / "old-checkout" / ".venv" / "bin" / "pmqa-xlsx"  # never existed here
    link.symlink_to(moved)
    result = link_command(project, bin_dir, f"/usr/bin{os.pathsep}/bin")
    assert result.returncode == 0, result.stderr
    target = project / ".venv" / "bin" / "pmqa-xlsx"
    assert link.is_symlink() and link.readlink() == target
    assert result.stdout == (f"setup: linked {link} -> {target} (it pointed to {moved}, which "
                             "no longer exists)\n")


@pytest.mark.parametrize("kind", ["working-link", "other-broken-link", "file"])
def test_nothing_else_is_ever_replaced(project: Path, tmp_path: Path, kind: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    link = bin_dir / "pmqa-xlsx"
    if kind == "working-link":  # another checkout's command, still there
        elsewhere = tmp_path / "other" / ".venv" / "bin" / "pmqa-xlsx"
        elsewhere.parent.mkdir(parents=True)
        elsewhere.write_text("#!/bin/sh\n", encoding="utf-8")
        link.symlink_to(elsewhere)
    elif kind == "other-broken-link":  # broken, but not to a venv's pmqa-xlsx
        link.symlink_to(tmp_path / "gone" / "pmqa-xlsx")
    else:
        link.write_text("#!/bin/sh\necho mine\n", encoding="utf-8")
    before = os.readlink(link) if link.is_symlink() else link.read_text(encoding="utf-8")
    result = link_command(project, bin_dir, f"/usr/bin{os.pathsep}/bin")
    assert result.returncode == 0
    after = os.readlink(link) if link.is_symlink() else link.read_text(encoding="utf-8")
    assert after == before
    assert f"{link} exists and is not this project's command; it was left as it is" \
        in result.stderr


root_only = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                               reason="the root case needs root")


@root_only
def test_root_links_into_the_system_folder_when_only_root_can_change_the_venv(
        project: Path, tmp_path: Path) -> None:
    system = tmp_path / "usr-local-bin"
    system.mkdir()
    result = link_command(project, None, f"{system}{os.pathsep}/usr/bin", system=system)
    assert result.returncode == 0, result.stderr
    assert (system / "pmqa-xlsx").readlink() == project / ".venv" / "bin" / "pmqa-xlsx"
    assert result.stderr == ""


@root_only
@pytest.mark.parametrize("change", ["others-may-write", "another-owner", "folder-above"])
def test_root_does_not_link_a_venv_others_can_change(project: Path, tmp_path: Path,
                                                     change: str) -> None:
    system = tmp_path / "usr-local-bin"
    system.mkdir()
    command = project / ".venv" / "bin" / "pmqa-xlsx"
    changed = {"others-may-write": command, "another-owner": command.parent,
               "folder-above": project}[change]
    if change == "another-owner":
        os.chown(changed, 65534, -1)  # nobody
    else:
        changed.chmod(changed.stat().st_mode | 0o002)
    result = link_command(project, None, f"{system}{os.pathsep}/usr/bin", system=system)
    assert result.returncode == 0
    assert not (system / "pmqa-xlsx").exists() and not (project / "home").exists()
    assert result.stderr == (
        f"setup: not linking pmqa-xlsx into {system}: {changed} is owned or writable by a "
        "user other than root\n"
        "setup: instead, in each new shell, run: source .venv/bin/activate\n")
