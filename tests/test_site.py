"""The built site, as a reader's browser sees it (headless Chromium on 127.0.0.1).

For every page: math laid out (MathML, in the course's math font), every image loaded, no error output or traceback,
no request to any host but 127.0.0.1, no console error; launch buttons on
chapters; every explorer's slider changes its picture. A screenshot of each page
is saved under _build/screenshots/ for people to look at.
"""

import json
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from browser import LOAD_IMAGES, chromium, first_visit_budget, page_weight, serve

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("*.md")
                  if "kernelspec" in p.read_text(encoding="utf-8"))

def toc_pages():
    """Every page of the book, in reading order, as named in _toc.yml."""
    import yaml

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                yield Path(entry["file"]).name
            yield from walk(entry.get("chapters", []) + entry.get("sections", []))

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [Path(toc["root"]).name, *walk(toc.get("parts", []) + toc.get("chapters", []))]


PAGES = toc_pages()
PAGE_BUDGET = 3_000_000  # bytes: a page's HTML plus its images and frames (CONTRIBUTING.md)

pytestmark = pytest.mark.browser

# Each formula on the page: written as MathML, and laid out (a visible formula has a size);
# and whether the course's math font (course.css) loaded.
MATH_LAID_OUT = """() => {
    const els = [...document.querySelectorAll('article .math')];
    const shown = els.filter(el => el.getClientRects().length > 0);
    const face = [...document.fonts].find(f => f.family.replace(/"/g, '') === 'Course Math');
    return {
        n: els.length,
        bare: els.filter(el => !el.querySelector('math')).map(el => el.textContent.slice(0, 60)),
        flat: shown.filter(el => { const box = el.querySelector('math').getBoundingClientRect();
                                   return box.width < 2 || box.height < 4; })
                   .map(el => el.textContent.slice(0, 60)),
        font: face ? face.status : 'absent',
    };
}"""


@pytest.fixture(scope="module")
def site(built_book, chromium_path):
    shots = built_book.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    with serve(built_book) as base, chromium() as browser:
        yield base, browser, shots


def visit(site, page):
    """Open a page; return what was requested, what failed, what the console said."""
    base, browser, shots = site
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    seen = {"requests": [], "failed": [], "errors": []}
    tab.on("request", lambda r: seen["requests"].append(r.url))
    tab.on("requestfailed", lambda r: seen["failed"].append(r.url))
    tab.on("response", lambda r: r.status >= 400 and seen["failed"].append(f"{r.status} {r.url}"))
    tab.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
    tab.on("pageerror", lambda e: seen["errors"].append(str(e)))
    tab.goto(f"{base}/book/{page}.html", wait_until="networkidle")
    tab.evaluate("() => document.fonts.ready")
    tab.evaluate(LOAD_IMAGES)
    tab.screenshot(path=str(shots / f"{page}.png"), full_page=True)
    return context, tab, seen


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_offline(site, page):
    context, tab, seen = visit(site, page)
    try:
        foreign = [u for u in seen["requests"]
                   if urlparse(u).scheme not in ("data", "blob", "about")
                   and urlparse(u).hostname != "127.0.0.1"]
        assert not foreign, f"{page}: requests to other hosts: {foreign}"
        assert not seen["failed"], f"{page}: failed requests: {seen['failed']}"
        assert not seen["errors"], f"{page}: console errors: {seen['errors']}"

        assert not [u for u in seen["requests"] if "mathjax" in u.lower()], f"{page}: loads MathJax"
        text = tab.inner_text("article")
        math = tab.evaluate(MATH_LAID_OUT)
        assert not math["bare"], f"{page}: formulas not written as MathML: {math['bare'][:3]}"
        assert not math["flat"], f"{page}: formulas the browser did not lay out: {math['flat'][:3]}"
        if math["n"]:
            assert math["font"] == "loaded", (
                f"{page}: {math['n']} formulas, but the course's math font is {math['font']!r}")
        prose = tab.evaluate("""() => {  // the article's visible text without its code blocks
            const code = Array.from(document.querySelectorAll('article .highlight, article pre'));
            const shown = code.map(el => el.style.display);
            code.forEach(el => { el.style.display = 'none'; });
            const text = document.querySelector('article').innerText;
            code.forEach((el, i) => { el.style.display = shown[i]; });
            return text;
        }""")
        raw = re.findall(r"\$\$|\\\(|\\\[|\\frac|\\eta", prose)
        assert not raw, f"{page}: raw TeX shown: {raw[:5]}"

        broken = tab.evaluate("""() => Array.from(document.images)
            .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80))""")
        assert not broken, f"{page}: images that did not load: {broken}"

        assert "Traceback (most recent call last)" not in text, f"{page}: a traceback is shown"
        errors = tab.eval_on_selector_all(
            ".output.traceback, .output.error, .output.stderr, .cell_output .stderr",
            "els => els.length")
        assert errors == 0, f"{page}: {errors} error/stderr outputs shown"
    finally:
        context.close()


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_has_launch_buttons(site, page):
    context, tab, _ = visit(site, page)
    try:
        hrefs = tab.eval_on_selector_all("a[href*='mybinder.org']", "els => els.map(e => e.href)")
        assert hrefs, f"{page}: no Binder launch button"
        assert all(f"urlpath=lab%2Ftree%2Fnotebooks%2F{page}.ipynb" in h
                   or f"urlpath=lab/tree/notebooks/{page}.ipynb" in h for h in hrefs), hrefs
    finally:
        context.close()


@pytest.mark.parametrize("page", CHAPTERS)
def test_explorers_move_without_a_kernel(site, page):
    """Every slider of every explorer changes the picture; reset brings it back."""
    context, tab, seen = visit(site, page)
    try:
        n = tab.eval_on_selector_all(".lr-explorer", "els => els.length")
        assert n >= 1, f"{page}: no explorer on the page"
        for i in range(n):
            root = tab.locator(".lr-explorer").nth(i)
            img = root.locator("img")
            start = img.get_attribute("src")
            controls = root.locator("[data-k]")  # range inputs (numbers), selects (choices)
            for k in range(controls.count()):
                before = img.get_attribute("src")
                top = controls.nth(k).evaluate(
                    "el => el.type === 'range' ? +el.max : el.options.length - 1")
                now = int(controls.nth(k).input_value())
                target = 0 if now != 0 else top
                controls.nth(k).evaluate(
                    "(el, v) => { el.value = String(v); el.dispatchEvent("
                    "new Event(el.type === 'range' ? 'input' : 'change')); }", target)
                assert img.get_attribute("src") != before, f"{page}: explorer {i} input {k} inert"
            root.locator("button[data-reset]").click()
            assert img.get_attribute("src") == start, f"{page}: explorer {i} reset did not reset"
        assert not seen["errors"], f"{page}: console errors: {seen['errors']}"
    finally:
        context.close()


@pytest.mark.parametrize("page", PAGES)
def test_first_visit_weight(site, page):
    """A first visit (empty cache, nothing scrolled) stays within its budget.

    The budgets: 1.5 MB a chapter, 1 MB the intro (CONTRIBUTING.md; `make bench` reports
    each page's weight and slow-4G load time). Bytes, unlike times, do not depend on how
    busy the machine is, so the test holds the budget itself.
    """
    base, browser, _ = site
    found = page_weight(browser, f"{base}/book/{page}.html")
    budget = first_visit_budget(page)
    top = sorted(found["files"].items(), key=lambda kv: -kv[1])[:5]
    largest = ", ".join(f"{u.rsplit('/', 1)[-1][:40]} {n / 1e3:.0f} kB" for u, n in top)
    assert found["bytes"] <= budget, (
        f"{page}: a first visit transfers {found['bytes'] / 1e6:.2f} MB, over the budget "
        f"of {budget / 1e6:.1f} MB; largest: {largest}")


@pytest.mark.parametrize("page", PAGES)
def test_page_weight(built_book, page):
    """All of a page, scrolled through and every explorer frame seen, stays under 3 MB."""
    html_file = built_book / "book" / f"{page}.html"
    html = html_file.read_text(encoding="utf-8")
    images = set(re.findall(r'<img[^>]+src="([^"]+)"', html))
    images |= set(re.findall(r'"([^"]*_images/frames/[0-9a-f]+\.png)"', html))
    local = [(html_file.parent / src).resolve() for src in images if not src.startswith("data:")]
    missing = [str(p) for p in local if not p.exists()]
    assert not missing, f"{page}: images it names are not in the site: {missing[:3]}"
    total = len(html.encode()) + sum(p.stat().st_size for p in local)
    assert total <= PAGE_BUDGET, f"{page}: {total / 1e6:.2f} MB > 3 MB"


def test_search_titles_show_symbols_not_tex(built_book):
    """Search results list section titles: a formula in one shows its symbols (ηλ), not TeX."""
    text = (built_book / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1:text.rindex(")")])
    titles = [*index["alltitles"], *index["titles"]]
    tex = [t for t in titles if re.search(r"\\[A-Za-z]+", t)]
    assert not tex, f"search titles with TeX: {tex[:3]}"
    assert any("η" in t for t in titles), "no title with η in the search index: is it the course's?"


def expected_figures(page):
    """How many figures a chapter shows: one per ``plt.show()`` in a cell whose output is kept."""
    import jupytext

    nb = jupytext.read(ROOT / "book" / f"{page}.md")
    count = 0
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "code" and not tags & {"remove-cell", "remove-output"}:
            count += len(re.findall(r"^\s*plt\.show\(\)", cell.source, flags=re.MULTILINE))
    return count


@pytest.mark.parametrize("page", CHAPTERS)
def test_every_figure_is_on_the_page(built_book, page):
    """A figure that the chapter draws but the page lacks (e.g. executed under a non-drawing
    matplotlib backend, then reused from the cache) fails here, not silently on the site."""
    html = (built_book / "book" / f"{page}.html").read_text(encoding="utf-8")
    # Figures are written to _images/; the explorers' frames to _images/frames/.
    shown = len(re.findall(r'<img[^>]+src="\.\./_images/(?!frames/)[^"]+\.png"', html))
    want = expected_figures(page)
    assert want > 0, f"{page}: no plt.show() found; does the chapter draw its figures another way?"
    assert shown == want, f"{page}: {shown} figures on the page, but the chapter draws {want}"


@pytest.mark.parametrize("page", CHAPTERS)
def test_every_figure_says_what_it_shows(built_book, page):
    """Alt text is words (lrcourse.alt), never the image's file name."""
    html = (built_book / "book" / f"{page}.html").read_text(encoding="utf-8")
    alts = re.findall(r'<img[^>]+alt="([^"]*)"[^>]*src="\.\./_images/', html)
    alts += re.findall(r'<img[^>]+src="\.\./_images/[^"]+"[^>]*alt="([^"]*)"', html)
    bad = [a for a in alts if not a.strip() or a.endswith(".png") or "_images/" in a]
    assert alts and not bad, f"{page}: figures without words for alt text: {bad[:3]}"


# axe-core's default rules, and one it runs only on request: a control whose accessible
# name hides its visible text (a screen-reader user cannot say what a sighted user reads).
AXE_OPTIONS = {"resultTypes": ["violations"],
               "rules": {"label-content-name-mismatch": {"enabled": True}}}


def open_page(site, page, *, mode="light", viewport=(1280, 900), phone=False):
    base, browser, _ = site
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                  is_mobile=phone, has_touch=phone,
                                  device_scale_factor=2 if phone else 1)
    # The theme keeps the reader's choice in localStorage; set it before the page loads.
    context.add_init_script(f"localStorage.setItem('theme', '{mode}');"
                            f"localStorage.setItem('mode', '{mode}');")
    tab = context.new_page()
    tab.goto(f"{base}/book/{page}.html", wait_until="networkidle")
    tab.evaluate("() => document.fonts.ready")
    tab.evaluate(LOAD_IMAGES)
    assert tab.evaluate("() => document.documentElement.dataset.theme") == mode
    return context, tab


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("page", PAGES)
def test_no_serious_accessibility_violation(site, page, mode):
    from axe_playwright_python.sync_playwright import Axe

    context, tab = open_page(site, page, mode=mode)
    try:
        if mode == "dark":
            tab.screenshot(path=str(site[2] / f"{page}.dark.png"), full_page=True)
        found = Axe().run(tab, options=AXE_OPTIONS).response["violations"]
        bad = [f"{v['impact']} {v['id']}: {[n['target'] for n in v['nodes']][:3]}"
               for v in found if v["impact"] in ("serious", "critical")]
        assert not bad, f"{page} ({mode}): {bad}"
    finally:
        context.close()


LEGIBLE_PX = 9
# Each figure shown, with the size its smallest text is drawn at on the screen.
FIGURE_TEXT_PX = """() => Array.from(document.querySelectorAll('article img[data-min-text-px]'))
    .filter(img => img.getClientRects().length > 0 && img.naturalWidth > 0)
    .map(img => ({src: img.src.split('/').pop().slice(0, 24),
                  px: img.dataset.minTextPx * img.getBoundingClientRect().width / img.naturalWidth}))"""


@pytest.mark.parametrize("page", PAGES)
def test_phone_layout(site, page):
    """At 390 × 844 nothing scrolls sideways, every explorer's controls fit the screen, and
    every figure's smallest text is drawn at 9 px or more (a wide figure scrolls in its box)."""
    context, tab = open_page(site, page, viewport=(390, 844), phone=True)
    try:
        tab.screenshot(path=str(site[2] / f"{page}.phone.png"), full_page=True)
        wide = tab.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= 390, f"{page}: the page scrolls sideways on a phone ({wide} px > 390 px)"
        out = tab.evaluate("""() => Array.from(document.querySelectorAll('.lr-explorer [data-k]'))
            .map(el => el.getBoundingClientRect()).filter(r => r.left < 0 || r.right > 390)
            .map(r => [Math.round(r.left), Math.round(r.right)])""")
        assert not out, f"{page}: explorer controls outside the screen: {out}"
        figures = tab.evaluate(FIGURE_TEXT_PX)
        small = [f for f in figures if f["px"] < LEGIBLE_PX - 0.05]
        assert not small, f"{page}: figure text under {LEGIBLE_PX} px on a phone: {small[:3]}"
        if page in CHAPTERS and expected_figures(page):
            assert figures, f"{page}: no figure says how small its text is (data-min-text-px)"
    finally:
        context.close()
