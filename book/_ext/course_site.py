"""Nine adjustments of the build, specific to this course.

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
"""

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


def _on_page(app, pagename, templatename, context, doctree):
    _retarget_launch_buttons(context, pagename)
    if "body" in context:
        body = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')
        context["body"] = body.replace('<summary aria-label="Toggle hidden content">', "<summary>")
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


def setup(app):
    app.connect("builder-inited", _on_builder)
    app.connect("build-finished", _drop_fontawesome_js)
    app.connect("doctree-resolved", _alt_from_png)
    # After sphinx-book-theme adds its buttons (priority 501).
    app.connect("html-page-context", _on_page, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
