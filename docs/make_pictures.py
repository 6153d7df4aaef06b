"""Render the README's pictures from real outputs: the form as an agency fills it in, the
consolidated summary and an agency's one-page result, as LibreOffice prints them.

Run from the repository root (needs LibreOffice, poppler-utils for pdftoppm/pdftotext, and a
Thai font such as Debian's fonts-thai-tlwg, which stands in for TH Sarabun New):

    .venv/bin/python docs/make_pictures.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

from pmqa_xlsx.agency_result import agency_pages, write_page
from pmqa_xlsx.demo import run_demo, samples_dir
from pmqa_xlsx.libreoffice import convert
from pmqa_xlsx.roster import load_roster

IMAGES = Path(__file__).resolve().parent / "images"
# picture name -> (workbook, text that marks its first page)
PICTURES = {
    "form-instructions.png": ("return", "คำชี้แจงการกรอกแบบประเมินตนเอง"),
    "form-category3.png": ("return", "หมวด 3 การให้ความสำคัญ"),
    "form-category7.png": ("return", "หมวด 7 การบรรลุผลลัพธ์การดำเนินงาน"),
    "consolidated-summary.png": ("consolidated", "PMQA 4.0 self-assessment summary"),
    "agency-result.png": ("result", "ผลการประเมิน"),
}
#: The agency whose page is shown: its return is counted with a warning (a duplicate draft).
RESULT_AGENCY = "08004"


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        run = run_demo(work / "demo")
        pages = agency_pages(run.result, load_roster(samples_dir() / "roster.csv"))
        page = next(p for p in pages if p.code == RESULT_AGENCY)
        result = work / f"{RESULT_AGENCY}-result.xlsx"
        write_page(page, result)
        books = {"return": samples_dir() / "returns" / "03005.xlsx",
                 "consolidated": run.consolidated, "result": result}
        pdfs = {name: convert(path, work / name, fmt="pdf", recalc=True)
                for name, path in books.items()}
        for picture, (book, marker) in PICTURES.items():
            page = first_page_with(pdfs[book], marker)
            stem = work / picture.removesuffix(".png")
            subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", str(page), "-l", str(page),
                            "-singlefile", str(pdfs[book]), str(stem)], check=True)
            (IMAGES / picture).write_bytes(stem.with_suffix(".png").read_bytes())
            print(f"wrote docs/images/{picture} (page {page} of {pdfs[book].name})")


def first_page_with(pdf: Path, marker: str) -> int:
    """The first page whose text holds ``marker``, compared without spaces and combining
    marks (pdftotext places Thai vowel and tone marks loosely)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    for number, page in enumerate(text.split("\f"), start=1):
        if _bare(marker) in _bare(page):
            return number
    raise SystemExit(f"no page of {pdf.name} shows {marker!r}")


def _bare(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Mn")


if __name__ == "__main__":
    sys.exit(main())
