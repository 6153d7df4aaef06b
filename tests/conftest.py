"""Shared fixtures: the bundled layout, its cell map, and generated workbooks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pmqa_xlsx import build_cellmap, generate_workbook, load_layout
from pmqa_xlsx.cellmap import CellMap
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.libreoffice import soffice_path

FIXED_TIME = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def layout() -> Layout:
    return load_layout()


@pytest.fixture(scope="session")
def cellmap(layout: Layout) -> CellMap:
    return build_cellmap(layout)


@pytest.fixture(scope="session")
def blank_path(layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("blank") / "blank.xlsx"
    generate_workbook(layout, path, generated_at=FIXED_TIME)
    return path


@pytest.fixture(scope="session")
def soffice() -> str:
    path = soffice_path()
    if path is None:
        pytest.fail("LibreOffice is not installed; .ci/run installs it "
                    "(apt-get install libreoffice-calc-nogui)")
    return path
