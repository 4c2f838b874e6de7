"""Point each chapter's launch buttons at its notebook under notebooks/.

Chapters are written in book/<slug>.md and paired (jupytext) with
notebooks/<slug>.ipynb, the file learners open. sphinx-book-theme builds the
Binder link from the page's own source path; this rewrites it to the notebook.
"""

from pathlib import PurePosixPath


def _retarget(app, pagename, templatename, context, doctree):
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


def setup(app):
    # After sphinx-book-theme adds its buttons (priority 501).
    app.connect("html-page-context", _retarget, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
