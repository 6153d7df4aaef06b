"""A differential harness for the reader: every field of what ``read_raw`` gives for a file,
written as one canonical text, so that two versions of the reader can be held equal over
the same files (a speed change must change nothing a reader gives).

The set of files to compare over is made by ``make-set``: the corpus of bad returns
(``tests.corpus``), seeded fuzz mutations of a good return (the XML and the zip structure,
as ``tests.test_fuzz`` makes them) and, if LibreOffice is installed, good returns re-saved
by it. Add any other folder (the benchmark's returns) to ``dump``::

    .venv/bin/python -m tests.reads_dump make-set /tmp/diffset
    .venv/bin/python -m tests.reads_dump dump /tmp/diffset /tmp/bench0/returns > before.txt
    # ... change the reader ...
    .venv/bin/python -m tests.reads_dump dump /tmp/diffset /tmp/bench0/returns > after.txt
    cmp before.txt after.txt

Compare dumps of the same folders: files are named as the merge names them (by their paths);
a file's modification time is left out.
"""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pmqa_xlsx.consolidate import collect_inputs, read_input
from pmqa_xlsx.read import ReadReturn


def canonical(value: Any) -> str:
    """A value as text that tells apart what equality would not: the type, -0.0 from 0.0,
    NaN, the class of a text (MarkedText, ErrorValue, RichValue)."""
    if isinstance(value, float):
        return f"float:{value!r}"
    if isinstance(value, tuple | list):
        inner = ",".join(canonical(v) for v in value)
        return f"{type(value).__name__}[{inner}]"
    if isinstance(value, dict):
        inner = ",".join(f"{canonical(k)}={canonical(v)}" for k, v in sorted(
            value.items(), key=lambda kv: repr(kv[0])))
        return f"dict{{{inner}}}"
    return f"{type(value).__name__}:{value!r}"


def dump_read(read: ReadReturn, name: str) -> Iterator[str]:
    """The lines of one read, every field but the modification time."""
    yield f"== {name}"
    yield f"file {read.file!r}"
    yield f"state {read.state}"
    identity = read.identity
    for field in ("agency_code", "form_id", "form_version", "fiscal_year", "fingerprint",
                  "generated_at", "modified", "token"):
        yield f"identity.{field} {canonical(getattr(identity, field))}"
    yield f"identity.fields {canonical(identity.fields)}"
    key = read.plan.key if read.plan is not None else read.plan_key
    yield f"plan {key!r}"
    yield f"filled {read.filled}"
    yield f"checklist_score {canonical(read.checklist_score)}"
    for problem in read.problems:
        yield ("problem " + " | ".join(repr(getattr(problem, f)) for f in (
            "file", "agency_code", "sheet", "cell", "severity", "code", "message_th",
            "message_en")))
    if read.values is not None:
        for i, value in enumerate(read.values):
            yield f"value {i} {canonical(value)}"
    for row in read.indicator_rows:
        yield f"indicator {canonical(tuple(row))}"


def dump(folders: Iterable[Path], out: io.TextIOBase | Any) -> int:
    """Write the canonical text of every entry the merge would read under ``folders`` (its
    own walk, ``collect_inputs``, with its names and its problems for links, loops and deep
    folders) to ``out``; the count."""
    entries = collect_inputs(list(folders))
    for entry in entries:
        for line in dump_read(read_input(entry), entry.name):
            out.write(line + "\n")
    return len(entries)


def make_set(root: Path, fuzz: int = 600, resaved: int = 6) -> None:
    """Write the comparison set into ``root``: corpus/, fuzz/ and (with LibreOffice)
    resaved/."""
    from pmqa_xlsx import build_cellmap, load_layout
    from pmqa_xlsx.generate import render_workbook
    from pmqa_xlsx.roster import Agency
    from tests import corpus
    from tests.test_fuzz import mutated, zipped

    from .conftest import FIXED_TIME
    from .fill import value_for

    root.mkdir(parents=True, exist_ok=True)
    built = root / "corpus-build"
    corpus.build(built)
    (built / "returns").rename(root / "corpus")  # moved: it holds links, even to itself
    shutil.rmtree(built)
    cellmap = build_cellmap(load_layout())
    answers = {(c.item_id, c.field_id): value_for(c, n)
               for n, c in enumerate(cellmap.inputs()) if c.kind != "identity"}
    agency = Agency(code="03005", name="กรมการปกครอง", ministry="กระทรวงมหาดไทย")
    data = render_workbook(cellmap, agency=agency, generated_at=FIXED_TIME, answers=answers)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        parts = [(info, package.read(info)) for info in package.infolist()]
    folder = root / "fuzz"
    folder.mkdir(exist_ok=True)
    rng = random.Random(20261202)
    for i in range(fuzz):
        target = folder / f"fuzz-{i:04d}.xlsx"
        (mutated if i % 3 else zipped)(parts, rng, target)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None or not resaved:
        return
    good = sorted((root / "corpus").glob("030[0-9][0-9].xlsx"))[:resaved]
    out = root / "resaved"
    out.mkdir(exist_ok=True)
    subprocess.run([soffice, "--headless", "--convert-to", "xlsx:Calc MS Excel 2007 XML",
                    "--outdir", str(out), *map(str, good)], check=True,
                   capture_output=True, timeout=600)


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "make-set":
        make_set(Path(argv[1]))
        return 0
    if len(argv) >= 2 and argv[0] == "dump":
        count = dump([Path(a) for a in argv[1:]], sys.stdout)
        print(f"{count} files", file=sys.stderr)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
