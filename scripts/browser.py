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
