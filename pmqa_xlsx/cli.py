"""The ``pmqa-xlsx`` command line: parse, call one library function, print, pick an exit code.

Exit codes: 0 success; 1 a problem in the input (PmqaError: a bad layout or roster, an
unwritable output); 2 a usage error (click's UsageError).
"""

from __future__ import annotations

from pathlib import Path

import click

from . import __version__
from .errors import PmqaError
from .generate import MANIFEST_NAME, generate_roster, generate_workbook
from .layout import DEFAULT_LAYOUT, Layout, bundled_layouts, load_layout


def _year(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is None:
        return None
    if 1900 <= value < 2300:
        raise click.BadParameter(f"{value} looks like a CE year; give the Buddhist Era year "
                                 f"({value + 543})")
    if not 2400 <= value <= 2800:
        raise click.BadParameter(f"{value} is not a plausible Buddhist Era year (e.g. 2569)")
    return value


def _layout(name: str | None) -> Layout:
    try:
        return load_layout(name)
    except PmqaError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
@click.version_option(__version__, prog_name="pmqa-xlsx")
def main() -> None:
    """PMQA 4.0 self-assessment forms as protected Excel workbooks."""


@main.command()
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), required=True,
              help="The workbook to write, or with --roster the folder to write into.")
@click.option("--roster", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="CSV or XLSX with agency_code, agency_name and optional ministry: "
                   "one pre-filled workbook per agency.")
@click.option("--layout", "layout_name", metavar="NAME|FILE",
              help=f"A bundled layout name or a YAML file (default: {DEFAULT_LAYOUT}).")
@click.option("--year", type=int, callback=_year,
              help="Fiscal year, Buddhist Era (default: the layout's). Shifts the target and "
                   "result years.")
@click.option("--password", help="Password for sheet and structure protection (deters "
                                 "editing; it is not security).")
def generate(output: Path, roster: Path | None, layout_name: str | None, year: int | None,
             password: str | None) -> None:
    """Write the form as a protected workbook (or one per roster agency)."""
    layout = _layout(layout_name)
    try:
        if roster is None:
            if output.suffix.lower() != ".xlsx":
                raise click.UsageError("-o must name an .xlsx file (or give --roster and a "
                                       "folder)")
            if not output.parent.is_dir():
                raise click.UsageError(f"-o: folder {output.parent} does not exist")
            generate_workbook(layout, output, year=year, password=password)
            click.echo(f"wrote {output}")
        else:
            written = generate_roster(layout, roster, output, year=year, password=password)
            click.echo(f"wrote {len(written)} workbooks and {output / MANIFEST_NAME}")
    except PmqaError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("layouts")
def list_layouts() -> None:
    """List the bundled layouts."""
    for name, path in bundled_layouts().items():
        layout = _layout(str(path))
        click.echo(f"{name}\t{layout.form.id} {layout.form.version}\t{layout.form.title}")


@main.command("check-layout")
@click.argument("path", type=click.Path(path_type=Path, exists=True, dir_okay=False))
def check_layout(path: Path) -> None:
    """Validate a layout YAML file and list every problem with its path."""
    layout = _layout(str(path))
    click.echo(f"{path}: ok ({layout.form.id} {layout.form.version}, fingerprint "
               f"{layout.fingerprint[:12]})")
