"""Headless Chromium for the browser tests and the scripts: find it, serve a folder on 127.0.0.1.

Imported as ``browser`` by the tests (``pythonpath = ["scripts"]`` in pyproject.toml)
and by its sibling scripts (``scripts/ensure_chromium.py``, ``scripts/shoot.py``).
"""

import functools
import http.server
import os
import shutil
import threading
from contextlib import contextmanager

# Flags measured to keep headless Chromium quiet on a machine with no internet.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def find_chromium():
    """Path of a Chromium/Chrome binary, or None."""
    candidates = [os.environ.get("LRCOURSE_CHROMIUM", ""), "/usr/bin/chromium",
                  "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
    candidates += [shutil.which(n) or "" for n in ("chromium", "chromium-browser", "google-chrome")]
    return next((c for c in candidates if c and os.path.exists(c)), None)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serve(folder):
    """Serve ``folder`` over HTTP on 127.0.0.1 (a free port); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium():
    """A Playwright browser on the system's Chromium (never a downloaded one)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# Every image of the page loaded and decoded, for screenshots and checks: the site's figures
# load lazily (loading="lazy", book/_ext/course_site.py) and Chromium decodes images lazily,
# so a full-page screenshot would show blank space where the figures below the fold are.
LOAD_IMAGES = """() => Promise.all(Array.from(document.images).map(i => {
    i.loading = "eager"; return i.decode().catch(() => 0); }))"""


# Chrome DevTools' "Slow 4G" preset: 562.5 ms latency, 1.44 Mbit/s down, 675 kbit/s up
# (the preset applies these numbers as they are; bytes per second below).
SLOW_4G = {"offline": False, "latency": 562.5, "downloadThroughput": 1.44e6 / 8,
           "uploadThroughput": 675e3 / 8}


# What a first visit to a page may transfer (bytes, uncompressed): CONTRIBUTING.md, "Budgets".
FIRST_VISIT_BUDGET = {"intro": 1_000_000}
CHAPTER_FIRST_VISIT_BUDGET = 1_500_000


def first_visit_budget(page):
    """The first-visit budget in bytes of the page named ``page`` (e.g. "intro")."""
    return FIRST_VISIT_BUDGET.get(page, CHAPTER_FIRST_VISIT_BUDGET)


def page_weight(browser, url, *, slow=False, viewport=(1280, 900)):
    """Load ``url`` in a fresh context (a first visit: empty cache); return what it cost.

    Returns ``{"bytes": total, "files": {url: bytes}, "seconds": load time}``: every
    response body (uncompressed, as a plain static server sends it) until the network
    is idle, and the time to the ``load`` event, under ``SLOW_4G`` when ``slow``.
    """
    import time

    from playwright.sync_api import Error as PlaywrightError

    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    tab = context.new_page()
    files = {}

    def done(request):
        response = request.response()
        if response is not None:
            try:
                files[request.url] = len(response.body())
            except PlaywrightError:  # a redirect or an aborted request has no body
                files.setdefault(request.url, 0)

    tab.on("requestfinished", done)
    if slow:
        cdp = context.new_cdp_session(tab)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    try:
        start = time.perf_counter()
        tab.goto(url, wait_until="load", timeout=300_000)
        seconds = time.perf_counter() - start
        tab.wait_for_load_state("networkidle", timeout=300_000)
        return {"bytes": sum(files.values()), "files": dict(files), "seconds": seconds}
    finally:
        context.close()
