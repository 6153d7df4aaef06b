"""pmqa_xlsx: the PMQA 4.0 paper form as protected Excel workbooks, and back.

The public API: load a layout, build its cell map, generate workbooks, read returns and
consolidate them.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .cellmap import CellMap, InputCell, build_cellmap  # noqa: E402
from .consolidate import Consolidated, consolidate  # noqa: E402
from .errors import LayoutError, ManifestError, PmqaError, RosterError  # noqa: E402
from .generate import Generated, generate_roster, generate_workbook  # noqa: E402
from .identity import Manifest, load_manifest, normalise_code  # noqa: E402
from .layout import Layout, load_layout, parse_layout  # noqa: E402
from .read import ReturnResult, read_return  # noqa: E402
from .roster import Agency, load_roster  # noqa: E402
from .rules import percent_success, score  # noqa: E402

__all__ = [
    "Agency",
    "CellMap",
    "Consolidated",
    "Generated",
    "InputCell",
    "Layout",
    "LayoutError",
    "Manifest",
    "ManifestError",
    "PmqaError",
    "ReturnResult",
    "RosterError",
    "__version__",
    "build_cellmap",
    "consolidate",
    "generate_roster",
    "generate_workbook",
    "load_layout",
    "load_manifest",
    "load_roster",
    "normalise_code",
    "parse_layout",
    "percent_success",
    "read_return",
    "score",
]
