"""Write book/_assets/fonts/course-math.woff2, the math font the site serves (course.css).

The pages' formulas are MathML (book/_ext/course_math.py), laid out by the browser
with a font that has an OpenType MATH table: without one, a phone falls back to its
text font and radicals, fences and fraction bars come out wrong or uneven. The
course serves DejaVu Math TeX Gyre (GUST Font License; its look matches the DejaVu
Sans of the figures), cut down to the characters mathematics uses, with the MATH
table and the size variants it points to: about a tenth of the whole font.

Readers never run this: the output is committed. Run it only to change the font
or the character set (it needs fonttools and brotli: ``pip install fonttools
brotli``; the font: Debian/Ubuntu package fonts-dejavu-extra):

    python scripts/subset_math_font.py [path/to/DejaVuMathTeXGyre.ttf]
"""

import sys
from pathlib import Path

from fontTools import subset

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path("/usr/share/fonts/truetype/dejavu/DejaVuMathTeXGyre.ttf")
OUT = ROOT / "book" / "_assets" / "fonts" / "course-math.woff2"
LICENSE = ROOT / "book" / "_assets" / "licenses" / "course-math-font.txt"

RANGES = [
    (0x0020, 0x007E),    # Basic Latin
    (0x00A0, 0x00FF),    # Latin-1: ±, ×, ÷, ¬, ·, no-break space
    (0x0391, 0x03F6),    # Greek
    (0x2000, 0x206F),    # General Punctuation: spaces, ′ ″, ‖, …, invisible times
    (0x2100, 0x214F),    # Letterlike: ℓ, ℎ (italic h), ℝ, ℕ, ℤ, ∂-like
    (0x2190, 0x21FF),    # Arrows
    (0x2200, 0x22FF),    # Mathematical Operators
    (0x2300, 0x23FF),    # Miscellaneous Technical: ⌈ ⌉ ⌊ ⌋, brace pieces
    (0x25A0, 0x25FF),    # Geometric Shapes: △, □
    (0x27C0, 0x27FF),    # Miscellaneous Mathematical Symbols: ⟨ ⟩, long arrows
    (0x2A7D, 0x2A7E),    # ⩽ ⩾
    # Mathematical Alphanumeric Symbols: how <mi>x</mi> is drawn (italic), bold, script, 𝔼.
    (0x1D400, 0x1D4CF),  # bold, italic, bold italic, script
    (0x1D538, 0x1D56B),  # double-struck
    (0x1D6A8, 0x1D71B),  # bold and italic Greek
    (0x1D7CE, 0x1D7E1),  # bold and double-struck digits
]
DEBIAN_COPYRIGHT = Path("/usr/share/doc/fonts-dejavu-extra/copyright")


def main(source=SOURCE):
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["ssty", "dtls", "flac"]  # script-size primes, dotless i j, flat accents
    options.name_IDs = ["*"]             # keep the copyright and licence records
    options.notdef_outline = True
    options.hinting = False              # browsers rasterize without it; a third of the bytes
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[u for lo, hi in RANGES for u in range(lo, hi + 1)])
    subsetter.subset(font)               # keeps the MATH table and the glyphs it reaches
    assert "MATH" in font, f"{source} has no MATH table: not a math font"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    font.flavor = "woff2"
    font.save(OUT)
    names = font["name"]
    LICENSE.parent.mkdir(parents=True, exist_ok=True)
    licence = ""
    if DEBIAN_COPYRIGHT.exists():  # the licence text, as Debian ships it with the font
        text = DEBIAN_COPYRIGHT.read_text(encoding="utf-8")
        licence = text[text.index("Files: *"):text.index("Files: debian")].strip() + "\n"
    LICENSE.write_text(
        f"book/_assets/fonts/{OUT.name}: a subset of {names.getDebugName(4)}, "
        f"{names.getDebugName(5)} (scripts/subset_math_font.py).\n"
        f"{names.getDebugName(0)}\nLicence: {names.getDebugName(14)}\n\n{licence}",
        encoding="utf-8")
    print(f"{OUT.relative_to(ROOT)}: {OUT.stat().st_size / 1024:.0f} kB "
          f"({len(font.getGlyphOrder())} glyphs) from {source} ({source.stat().st_size / 1024:.0f} kB)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
