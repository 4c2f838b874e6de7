"""What a first visit to each page costs: bytes transferred and load time on a slow phone network.

Part of `make bench` (after `make book`). Serves _build/html on 127.0.0.1, opens each
page of _toc.yml in a fresh headless Chromium context (empty cache) and prints the
bytes of every response (uncompressed, as a plain static server sends them), the
three largest files, and the time to the load event under Chrome DevTools' "Slow 4G"
preset (browser.SLOW_4G). Budgets (CONTRIBUTING.md): 1.5 MB a chapter, 1 MB the intro.
"""

import sys
from pathlib import Path

import yaml
from browser import chromium, first_visit_budget, page_weight, serve

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"


def pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                yield Path(entry["file"]).name
            yield from walk(entry.get("chapters", []) + entry.get("sections", []))

    return [Path(toc["root"]).name, *walk(toc.get("parts", []))]


def main():
    if not (HTML / "index.html").exists():
        sys.exit("No built site in _build/html: run `make book` first.")
    print(f"{'page':44} {'MB':>6} {'budget':>7} {'slow 4G s':>9}  largest files")
    with serve(HTML) as base, chromium() as browser:
        for page in pages():
            url = f"{base}/book/{page}.html"
            fast, slow = page_weight(browser, url), page_weight(browser, url, slow=True)
            budget = first_visit_budget(page)
            top = sorted(fast["files"].items(), key=lambda kv: -kv[1])[:3]
            names = ", ".join(f"{u.split('?')[0].rsplit('/', 1)[-1]} {n / 1e3:.0f} kB" for u, n in top)
            flag = "" if fast["bytes"] <= budget else " over"
            print(f"{page:44} {fast['bytes'] / 1e6:6.2f} {budget / 1e6:7.1f} {slow['seconds']:9.1f}"
                  f"  {names}{flag}", flush=True)


if __name__ == "__main__":
    main()
