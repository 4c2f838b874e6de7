"""Look at a built page as a reader would: screenshot, console errors, foreign requests.

Usage: python scripts/shoot.py _build/html book/<page>.html out.png
"""

import sys
from urllib.parse import urlparse

from browser import LOAD_IMAGES, chromium, serve  # scripts/browser.py, a sibling of this script


def main(site, page, out):
    with serve(site) as base, chromium() as browser:
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        log = []
        tab.on("console", lambda m: m.type == "error" and log.append("console: " + m.text))
        tab.on("pageerror", lambda e: log.append(f"page error: {e}"))
        tab.on("response", lambda r: r.status >= 400 and log.append(f"{r.status} {r.url}"))
        tab.on("request", lambda r: urlparse(r.url).hostname not in (None, "127.0.0.1")
               and log.append("foreign request: " + r.url))
        tab.goto(f"{base}/{page}", wait_until="networkidle")
        tab.evaluate("() => document.fonts.ready")
        tab.evaluate(LOAD_IMAGES)
        tab.screenshot(path=out, full_page=True)
        print("\n".join(log) or "no errors, no foreign requests")


if __name__ == "__main__":
    main(*sys.argv[1:4])
