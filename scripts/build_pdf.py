"""The whole course as one PDF: `make pdf` writes _build/pdf/lrcourse.pdf.

1. Builds the book as one HTML page (Jupyter Book's ``singlehtml`` builder, through
   scripts/build_book.py: the same executed chapters and settings as the site; after
   `make book` nothing is executed again).
2. Prints that page with the system Chromium (Playwright's ``page.pdf``): math as the
   site shows it (MathML, in the course's math font), figures included, each explorer at its default frame
   (course.css hides the controls in print). No LaTeX, nothing downloaded.
3. Copies the PDF into the site (_build/html/lrcourse.pdf), which the intro links.
"""

import shutil
import subprocess
import sys
import time
from pathlib import Path

from browser import LOAD_IMAGES, chromium, serve

ROOT = Path(__file__).resolve().parents[1]
SINGLE = ROOT / "_build" / "singlehtml"
PDF = ROOT / "_build" / "pdf" / "lrcourse.pdf"
FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#555">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')


def print_pdf(folder, out):
    """Print the one page of ``folder`` (a singlehtml build) to ``out`` (A4); return its size.

    The builder writes the page as book/intro.html (the root document) but links its
    assets as if it were at the top (``_static/``, ``_images/``): it is printed from there.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(folder / "book" / "intro.html", folder / "lrcourse.html")
    with serve(folder) as base, chromium() as browser:
        tab = browser.new_page(viewport={"width": 1000, "height": 1400})
        tab.goto(f"{base}/lrcourse.html", wait_until="networkidle", timeout=300_000)
        tab.evaluate("() => document.fonts.ready")  # the math font, before the first glyph is printed
        tab.evaluate(LOAD_IMAGES)
        # course.css starts each chapter on a new page; not the first title, on page 1
        tab.evaluate("() => { const h = document.querySelector('article h1');"
                     " if (h) h.style.breakBefore = 'auto'; }")
        tab.emulate_media(media="print")
        tab.pdf(path=str(out), format="A4", print_background=True, display_header_footer=True,
                header_template="<span></span>", footer_template=FOOTER,
                margin={"top": "15mm", "bottom": "15mm", "left": "14mm", "right": "14mm"})
    return out.stat().st_size


def main():
    t0 = time.perf_counter()
    build = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_book.py"),
                            "--builder", "singlehtml"], cwd=ROOT, check=False)
    if build.returncode != 0:
        sys.exit(f"make pdf: the single-page build failed (exit status {build.returncode})")
    size = print_pdf(SINGLE, PDF)
    site = ROOT / "_build" / "html"
    if site.is_dir():
        shutil.copy2(PDF, site / PDF.name)
    try:
        from pypdf import PdfReader

        pages = f", {len(PdfReader(PDF).pages)} pages"
    except ImportError:  # pypdf comes with the test extras
        pages = ""
    print(f"Wrote {PDF.relative_to(ROOT)} ({size / 1e6:.1f} MB{pages}) in "
          f"{time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
