"""`make pdf`: the whole course as one PDF, every chapter with its title, figures and math."""

import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PDF = ROOT / "_build" / "pdf" / "lrcourse.pdf"

pytestmark = pytest.mark.browser


def chapter_titles():
    """Each chapter's title as the reader sees it (the markdown's first heading)."""
    from test_site import CHAPTERS

    titles = {}
    for page in CHAPTERS:
        text = (ROOT / "book" / f"{page}.md").read_text(encoding="utf-8")
        titles[page] = re.search(r"^# (.+)$", text, flags=re.MULTILINE).group(1).strip()
    return titles


@pytest.fixture(scope="module")
def pdf(built_book, chromium_path):
    from conftest import BOOK_SEED

    # the book's seed, not the notebooks' (conftest): the one-page build reuses the site's
    # executed chapters, which a different seed would throw away
    env = {k: v for k, v in os.environ.items() if k != "LRCOURSE_BENCH_DIR"}
    env["LRCOURSE_SEED"] = str(BOOK_SEED)
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_pdf.py")], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"make pdf failed:\n{(proc.stdout + proc.stderr)[-3000:]}"
    print(proc.stdout.strip().splitlines()[-1])
    from pypdf import PdfReader

    return PdfReader(PDF)


def pdf_fonts(pdf):
    """The names of the fonts the PDF's pages use (e.g. "ABCDEF+DejaVuMathTeXGyre-Regular")."""
    names = set()
    for page in pdf.pages:
        resources = page.get_object().get("/Resources")
        fonts = resources.get_object().get("/Font") if resources is not None else None
        for font in (fonts.get_object().values() if fonts is not None else []):
            names.add(str(font.get_object().get("/BaseFont", "")))
    return names


def test_pdf_has_every_chapter_with_figures(pdf, built_book):
    # NFKC: the PDF's text has ligatures (ﬁ for fi)
    text = re.sub(r"\s+", " ", unicodedata.normalize(
        "NFKC", " ".join(page.extract_text() for page in pdf.pages)))
    # the title's first words before any math
    heads = {t: " ".join(re.split(r"\$|η", t)[0].split()[:4]) for t in chapter_titles().values()}
    missing = [t for t, head in heads.items() if head not in text]
    assert not missing, f"chapter titles not found in the PDF: {missing}"
    images = sum(len(page.images) for page in pdf.pages)
    chapters = len(chapter_titles())
    assert images >= 2 * chapters, f"only {images} images in the PDF for {chapters} chapters"
    assert len(pdf.pages) >= 4 * chapters, f"only {len(pdf.pages)} pages for {chapters} chapters"
    assert "Traceback" not in text, "the PDF shows a traceback"
    # the formulas are printed as the site lays them out, in the course's math font
    fonts = pdf_fonts(pdf)
    assert any("Math" in name for name in fonts), f"no math font in the PDF; its fonts: {sorted(fonts)}"
    assert (built_book / "lrcourse.pdf").exists(), "the PDF is not copied into the site"
