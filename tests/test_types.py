"""The package's annotations hold: mypy, run over pmqa_xlsx with the ``[tool.mypy]`` settings
of pyproject.toml, finds no error, so the typed public API is one that is checked. This test
owns that promise; mypy's cache (``.mypy_cache`` at the repository's root) keeps it quick."""

from __future__ import annotations

from mypy import api

from .conftest import ROOT


def test_mypy_finds_no_error() -> None:
    """``mypy pmqa_xlsx`` exits 0; on failure its report is shown."""
    stdout, stderr, status = api.run([
        "--config-file", str(ROOT / "pyproject.toml"),
        "--cache-dir", str(ROOT / ".mypy_cache"),
        str(ROOT / "pmqa_xlsx"),
    ])
    assert status == 0, f"mypy found problems:\n{stdout}{stderr}"
