"""The demo: the main job on the bundled defaults, start to finish.

It generates the blank workbook and one per agency of samples/roster.csv, then merges the
sample returns in samples/returns/ (good ones, one re-saved by LibreOffice, one with typical
mistakes, a duplicate; one roster agency never returns) into the consolidated outputs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .consolidate import Consolidated, consolidate
from .generate import MANIFEST_NAME, generate_roster, generate_workbook
from .layout import load_layout, resource_dir
from .report import write_csvs, write_workbook
from .roster import load_roster


@dataclass(frozen=True)
class DemoRun:
    """What the demo wrote, and the merged result."""

    blank: Path
    agencies: Path
    manifest: Path
    consolidated: Path
    csv: Path
    returns: Path
    result: Consolidated


def samples_dir() -> Path:
    return resource_dir("samples")


def run_demo(out: str | os.PathLike[str]) -> DemoRun:
    """Run the demo into folder ``out`` (created if needed)."""
    layout = load_layout()
    samples = samples_dir()
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    blank = folder / "blank.xlsx"
    generate_workbook(layout, blank)
    agencies = folder / "agencies"
    generate_roster(layout, samples / "roster.csv", agencies)
    result = consolidate([samples / "returns"], roster=samples / "roster.csv")
    consolidated = folder / "consolidated.xlsx"
    write_workbook(result, consolidated, [layout], roster=load_roster(samples / "roster.csv"))
    csv = folder / "csv"
    write_csvs(result, csv)
    return DemoRun(blank=blank, agencies=agencies, manifest=agencies / MANIFEST_NAME,
                   consolidated=consolidated, csv=csv, returns=samples / "returns",
                   result=result)
