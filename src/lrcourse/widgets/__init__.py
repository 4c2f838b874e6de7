"""Explorers: one call that is live in a kernel and still interactive on the static site.

A chapter describes a figure by a ``make(fig)`` function that draws everything
that does not change and returns ``update(**values)``, which moves only the
artists that depend on the controls. :class:`Explorer` then

* in a live kernel (JupyterLab, Binder) shows ipywidgets controls; moving one
  calls ``update`` and redraws the same figure (no new figure per move), also
  for values between the precomputed ones;
* on the static site, where no kernel runs, shows a twin: a plain HTML range
  input switching between frames precomputed at build time over a grid of
  values (log-spaced for η). One object carries both (``text/html`` and the
  widget view); the book picks the twin, JupyterLab the live widget.

Example::

    def make(fig):
        ax = fig.subplots()
        (line,) = ax.plot([], [])
        def update(lr):
            line.set_data(*curve(lr))
        return update

    Explorer(make, lr=LogParam(1e-3, 1.0, num=13, default=0.1, label="η"))

The package, one idea per module:

* :mod:`~lrcourse.widgets.params`: what a control sets (``LogParam``, ``Param``, ``Choice``);
* :mod:`~lrcourse.widgets.explorer`: ``Explorer`` (its twin's script is ``twin.js``);
* :mod:`~lrcourse.widgets.path`: ``path_explorer``, a 2-D run on the contours,
  a curve of it and a status line, ready-made;
* :mod:`~lrcourse.widgets.checks`: ``check_explorers``, the test machinery a
  chapter's hidden last cell calls.

This is the only package of the course that imports ipywidgets.
"""

from lrcourse.widgets.checks import GROSS, chapter_name, check_explorers
from lrcourse.widgets.explorer import MAX_FRAMES, Explorer
from lrcourse.widgets.params import Choice, LogParam, Param, Parameter
from lrcourse.widgets.path import loss_panel, outcome, path_explorer

__all__ = ["GROSS", "MAX_FRAMES", "Choice", "Explorer", "LogParam", "Param", "Parameter",
           "chapter_name", "check_explorers", "loss_panel", "outcome", "path_explorer"]
