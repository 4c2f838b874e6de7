"""Thirteen adjustments of the build, specific to this course.

1. Launch buttons open the chapter's notebook. Chapters are written in
   book/<slug>.md and paired (jupytext) with notebooks/<slug>.ipynb, the file
   learners open; sphinx-book-theme builds the Binder link from the page's own
   source path, so this rewrites it to the notebook.
2. No Thebe. Jupyter Book always loads sphinx-thebe, which the course does not
   use (its launch buttons open a full JupyterLab instead); its inline script
   names a third-party URL and, added twice on rebuilds, logs a console error.
3. Chapters execute in parallel (scripts/build_book.py gives Sphinx jobs).
   Sphinx reads in parallel only if every extension says it may; one that
   Jupyter Book adds, sphinx-multitoc-numbering, does not say. It only replaces
   the section numbering that runs in the main process after all documents are
   read, so parallel reading is safe, and this says so for it.
4. No widget state. myst-nb embeds the live widgets' state (JSON) in every
   page whose notebook made a widget; the site shows the explorers' static
   twins instead and loads no widget manager (``nb_ipywidgets_js: {}``), so
   that state is dead weight, dropped here.
5. No Font Awesome script. The theme draws its icons with Font Awesome's web
   fonts (in its CSS) and also loads fontawesome.js (1.5 MB), which exists so
   that sites can add custom SVG icons; the course adds none, so the copy in
   the built site is replaced by an empty script (the icons are unchanged).
6. Alt text. A figure's PNG carries what it shows (``lrcourse.alt``: set where
   the figure is made, or written from its titles, axis labels and legend);
   an image without alt text of its own gets it, instead of its file name.
7. The reference list is a list to assistive technology. Sphinx marks it
   role="list" and each entry role="doc-biblioentry", a role ARIA 1.2 deprecates
   and axe-core does not accept as a list item (a critical violation): entries
   become role="listitem".
8. A hidden cell's "Show code cell source" toggle is named by what it says.
   myst-nb labels it aria-label="Toggle hidden content", which hides the visible
   words from the accessible name (axe-core: label-content-name-mismatch).
   (The theme's search button has the same fault, fixed by the template
   override in book/_templates/components/.)
9. Explorer frames are files. An explorer's static twin holds every frame as a
   data: URL (what a notebook shows); on the site each frame becomes a PNG file
   under _images/frames/ (named by its content), so a first visit loads only
   the frame shown, and the others come when a reader moves a control.
   (The one-page build for the PDF keeps them inline: it prints one frame.)
   Figures load lazily (loading="lazy"): a first visit fetches those in view,
   the rest as the reader scrolls to them.
10. The sidebar's section toggles have names. The theme puts the chevron that
   opens a chapter's sections in a <summary> with nothing to read (axe-core:
   summary-name, serious); each gets aria-label "Sections of <chapter title>".
11. Lighter pages. The theme loads the search index (100 kB, growing with the
   course) and Sphinx's search scripts on every page, for a search-as-you-type
   box the course does not turn on; only search.html needs them, so the other
   pages drop them. The repository button draws a solid-font icon, so no page
   loads the 118 kB Font Awesome brands font for one GitHub logo.
12. An edit of the course's own assets or extensions rebuilds the pages. Sphinx
   rewrites pages only when a source, the configuration or a template changed,
   so an edit of course.css (or of this file) left a stale site until a source
   changed too; a digest of book/_assets and book/_ext is part of the
   configuration that the HTML pages depend on.
13. Figures stay legible on phones. Each figure's PNG carries the size of its
   smallest text (``lrcourse.alt``; an explorer's image says it in
   ``data-min-text-px``); shrunk to a phone's width, a figure drawn for a
   desktop shows that text at 3 to 5 px. Each image gets the width at which
   that text is 9 px (``--legible-width``); on a narrow screen course.css
   makes it the image's least width, and the figure scrolls sideways inside
   its own box (an explorer's picture inside a box of its own, so its controls
   stay put), never the page.
"""

import base64
import hashlib
import json
import os
import re
from pathlib import Path, PurePosixPath

EMPTY_FONTAWESOME = ("/* lrcourse: the theme's icons come from Font Awesome's web fonts (its CSS); "
                     "this script, for custom SVG icons, is not needed (book/_ext/course_site.py). */\n")


def _retarget_launch_buttons(context, pagename):
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        target = "notebooks/" + PurePosixPath(pagename).name + ".ipynb"
        for button in group.get("buttons", []):
            url = button.get("url", "")
            if "urlpath=" in url:
                head, _ = url.split("urlpath=", 1)
                button["url"] = f"{head}urlpath=lab/tree/{target}"
                button["text"] = button["text"] + " (JupyterLab)"


def _is_thebe(asset):
    name = str(getattr(asset, "filename", asset) or "")
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return "thebe" in name or "THEBE_JS_URL" in body


def _is_widget_state(asset):
    return getattr(asset, "attributes", {}).get("type") == "application/vnd.jupyter.widget-state+json"


FRAMES = re.compile(r'(<script type="application/json" class="lrx-frames">)(\[.*?\])(</script>)',
                    re.DOTALL)
DATA_PNG = "data:image/png;base64,"


def _frames_to_files(outdir, pagename, body):
    """Adjustment 9: each explorer frame (a data: URL) becomes _images/frames/<hash>.png."""
    folder = Path(outdir, "_images", "frames")
    prefix = "../" * pagename.count("/") + "_images/frames/"
    urls = {}

    def url(src):
        if src not in urls:
            data = base64.b64decode(src[len(DATA_PNG):])
            name = hashlib.sha256(data).hexdigest()[:24] + ".png"
            path = folder / name
            if not path.exists():  # pages are written in parallel: write whole, then rename
                folder.mkdir(parents=True, exist_ok=True)
                part = path.with_name(f"{name}.{os.getpid()}.part")
                part.write_bytes(data)
                part.replace(path)
            urls[src] = prefix + name
        return urls[src]

    def to_files(match):
        frames = [url(f) if f.startswith(DATA_PNG) else f for f in json.loads(match.group(2))]
        return match.group(1) + json.dumps(frames) + match.group(3)

    body = FRAMES.sub(to_files, body)
    for src, target in urls.items():  # the frame each explorer shows first
        body = body.replace(f'src="{src}"', f'src="{target}"')
    return body


LEGIBLE_PX = 9  # the smallest text a figure may show on a phone, in CSS pixels
IMG = re.compile(r"<img\b[^>]*>")


def _png_of(app, pagename, src, sources):
    """The bytes of the PNG an <img> on page ``pagename`` shows, or None."""
    name = PurePosixPath(src.split("?")[0]).name
    if not name.endswith(".png"):
        return None
    if "_images/frames/" in src:
        path = Path(app.outdir, "_images", "frames", name)
    elif name in sources:
        path = Path(app.srcdir, sources[name])
    else:
        path = Path(app.outdir, PurePosixPath(pagename).parent, src)
    return path.read_bytes() if path.is_file() else None


def _legible_on_phones(app, pagename, body):
    """Adjustment 13: each figure's width at which its smallest text is LEGIBLE_PX."""
    from lrcourse.alt import png_width, read_min_text_px

    sources = {PurePosixPath(dest).name: src for src, dest in app.builder.images.items()}

    def legible(match):
        tag = match.group(0)
        src = re.search(r'\bsrc="([^"]+)"', tag)
        if src is None or src.group(1).startswith("data:") or "--legible-width" in tag:
            return tag
        png = _png_of(app, pagename, src.group(1), sources)
        said = re.search(r'\bdata-min-text-px="([0-9.]+)"', tag)
        smallest = float(said.group(1)) if said else (read_min_text_px(png) if png else None)
        if png is None or not smallest:
            return tag
        width = -(-png_width(png) * LEGIBLE_PX // smallest)  # ceiling
        style = f"--legible-width: {width:.0f}px;"
        if not said:
            tag = tag.replace("<img ", f'<img data-min-text-px="{smallest:.2f}" ', 1)
        if ' style="' in tag:
            return tag.replace(' style="', f' style="{style} ', 1)
        return tag.replace("<img ", f'<img style="{style}" ', 1)

    body = IMG.sub(legible, body)
    # an explorer's picture scrolls in a box of its own, under its controls
    return re.sub(r'(<div class="lr-explorer"[^>]*>\s*<div>.*?</div>\s*)(<img\b[^>]*>)',
                  r'\1<div class="lr-frame">\2</div>', body, flags=re.DOTALL)


def _name_sidebar_toggles(context):
    """Adjustment 10: aria-label on each sidebar <summary> that has nothing to read."""
    make = context.get("generate_toctree_html")
    if make is None or getattr(make, "names_toggles", False):
        return

    def generate_toctree_html(*args, **kwargs):
        soup = make(*args, **kwargs)             # a BeautifulSoup tree (or "" on some pages)
        for summary in getattr(soup, "select", lambda _: [])("li > details > summary"):
            link = summary.find_parent("li").find("a", recursive=False)
            if link is not None and not summary.get_text(strip=True):
                summary["aria-label"] = f"Sections of {link.get_text(' ', strip=True)}"
        return soup
    generate_toctree_html.names_toggles = True
    context["generate_toctree_html"] = generate_toctree_html


def _solid_icons(buttons):
    """Adjustment 11: a brands icon (the repository button's) becomes a solid one."""
    for button in buttons:
        if str(button.get("icon", "")).startswith("fab "):
            button["icon"] = "fa-solid fa-code-branch"
        _solid_icons(button.get("buttons", []))


SEARCH_SCRIPTS = re.compile(r'\s*<script src="[^"]*(_static/searchtools\.js|_static/language_data\.js'
                            r'|searchindex\.js)"></script>')


def _drop_search_scripts(app, exception):
    """Adjustment 11: only search.html loads the search index and Sphinx's search scripts."""
    if exception is not None or app.builder.name != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        if page.name == "search.html":
            continue
        html = page.read_text(encoding="utf-8")
        lighter = SEARCH_SCRIPTS.sub("", html)
        if lighter != html:
            page.write_text(lighter, encoding="utf-8")


def _on_page(app, pagename, templatename, context, doctree):
    _retarget_launch_buttons(context, pagename)
    _solid_icons(context.get("header_buttons", []))
    _name_sidebar_toggles(context)
    if "body" in context:
        body = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')
        body = body.replace('<summary aria-label="Toggle hidden content">', "<summary>")
        if app.builder.name == "html":
            body = _frames_to_files(app.outdir, pagename, body)
            body = _legible_on_phones(app, pagename, body)
            body = re.sub(r"<img (?![^>]*\bloading=)", '<img loading="lazy" ', body)
        context["body"] = body
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [a for a in context[key] if not (_is_thebe(a) or _is_widget_state(a))]


def _on_builder(app):
    _allow_parallel_read(app)
    if app.builder.name == "singlehtml":
        app.set_html_assets_policy("always")


def _allow_parallel_read(app):
    ext = app.extensions.get("sphinx_multitoc_numbering")
    if ext is not None and ext.parallel_read_safe is None:
        ext.parallel_read_safe = True


def _alt_from_png(app, doctree, docname):
    from docutils import nodes

    from lrcourse.alt import read_description

    for image in doctree.findall(nodes.image):
        uri = image.get("uri", "")
        if image.get("alt") or not uri.endswith(".png"):
            continue
        path = Path(app.srcdir, uri.lstrip("/"))
        if not path.exists():
            path = Path(app.srcdir, Path(docname).parent, uri)
        if path.exists():
            text = read_description(path.read_bytes())
            if text:
                image["alt"] = text


def _drop_fontawesome_js(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    scripts = Path(app.outdir, "_static", "scripts")
    if (scripts / "fontawesome.js").exists():
        (scripts / "fontawesome.js").write_text(EMPTY_FONTAWESOME, encoding="utf-8")
        (scripts / "fontawesome.js.map").unlink(missing_ok=True)


def _assets_digest(app, config):
    """Adjustment 12: the digest of what the pages are written with, besides sources and templates."""
    digest = hashlib.sha256()
    for folder in ("book/_assets", "book/_ext"):
        for path in sorted(Path(app.confdir, folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(app.confdir).as_posix().encode() + path.read_bytes())
    config.course_assets_digest = digest.hexdigest()


def setup(app):
    app.add_config_value("course_assets_digest", "", "html")
    app.connect("config-inited", _assets_digest)
    app.connect("builder-inited", _on_builder)
    app.connect("build-finished", _drop_fontawesome_js)
    app.connect("build-finished", _drop_search_scripts)
    app.connect("doctree-resolved", _alt_from_png)
    # After sphinx-book-theme adds its buttons (priority 501).
    app.connect("html-page-context", _on_page, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
