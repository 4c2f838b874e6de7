"""The Explorer: a figure driven by controls, live in a kernel and as a static twin without one.

See the package docstring (:mod:`lrcourse.widgets`) for the idea and an example.
The twin's script is ``twin.js``, next to this file (shipped as package data).
"""

import base64
import functools
import hashlib
import html
import io
import itertools
import json
import math
import time
from importlib import resources

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as PILImage

from lrcourse.alt import min_text_px
from lrcourse.seeding import resolve_seed
from lrcourse.validate import check_positive_int

MAX_FRAMES = 80  # a chapter page must stay under 3 MB


class Explorer:
    """A figure driven by controls; see the package docstring.

    Parameters
    ----------
    make : callable ``make(fig) -> update``; ``update(**values)`` redraws.
    figsize, dpi : size of the figure (and of every frame).
    title : the static twin's alt text.
    budget_ms : the median latency a live update must stay under (CONTRIBUTING.md, "Budgets":
        50 ms for numpy demos, 200 ms for small torch demos); checked by the tests.
    **params : name → :class:`LogParam`, :class:`Param` or :class:`Choice`;
        the names are the keyword arguments of ``update``.

    Example:
        >>> from lrcourse.widgets import LogParam
        >>> def make(fig):
        ...     (line,) = fig.subplots().plot([0, 1], [0, 0])
        ...     return lambda lr: line.set_ydata([0, lr])
        >>> e = Explorer(make, figsize=(2, 1), dpi=30, lr=LogParam(0.1, 1.0, num=3))
        >>> len(e.frames), e.values
        (3, {'lr': 0.31622776601683794})
    """

    def __init__(self, make, *, figsize=(6.4, 3.4), dpi=90, title="", budget_ms=50, **params):
        if not params:
            raise ValueError("Explorer needs at least one parameter, e.g. lr=LogParam(1e-3, 1)")
        n_frames = math.prod(len(p.grid) for p in params.values())
        if n_frames > MAX_FRAMES:
            raise ValueError(f"Invalid grid: {n_frames} frames (at most {MAX_FRAMES})")
        self.params = params
        self.title = title
        self.budget_ms = budget_ms  # a live update's median latency must stay under this
        self.fig = Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self._update = make(self.fig)
        self.values = {name: p.start for name, p in params.items()}
        # The static twin's frames, over the product of the grids (C order).
        self.frames = [
            self.render(dict(zip(params, combo)), static=True)
            for combo in itertools.product(*(p.grid for p in params.values()))
        ]
        self.png = self.render(self.values)
        # The smallest text of a frame, in its pixels: the site keeps it legible on phones.
        self.min_text_px = min_text_px(self.fig)
        self._widget = None

    # -- drawing ---------------------------------------------------------------------

    def render(self, values, *, static=False):
        """Draw the figure for ``values`` and return it as PNG bytes.

        If ``update`` returns the artists it changed (as in matplotlib's
        ``FuncAnimation(blit=True)``), only those are redrawn over a saved
        background: several times faster than a full draw. ``update`` must then
        keep the axes limits fixed.
        """
        artists = self._update(**values)
        if artists:
            self._blit(list(artists))
        else:
            self.canvas.draw()
        rgb = PILImage.fromarray(np.asarray(self.canvas.buffer_rgba())[..., :3])
        buf = io.BytesIO()
        # A 256-colour palette: 2-3x smaller than true colour for line plots and maps.
        rgb = rgb.quantize(256, method=PILImage.Quantize.FASTOCTREE)
        if static:  # kept in the page: compress hard
            rgb.save(buf, "PNG", optimize=True)
        else:  # sent once over the kernel's socket: compress fast
            rgb.save(buf, "PNG", compress_level=1)
        return buf.getvalue()

    def _blit(self, artists):
        if [id(a) for a in artists] != getattr(self, "_blitted", None):
            for a in artists:
                a.set_animated(True)
            self.canvas.draw()  # everything that does not move
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._blitted = [id(a) for a in artists]
        self.canvas.restore_region(self._background)
        for a in artists:
            self.fig.draw_artist(a)

    # -- the live widget (kernel) ----------------------------------------------------

    @property
    def widget(self):
        """The ipywidgets box: controls, a reset button, the image and a status line."""
        if self._widget is None:
            self._widget = self._build_widget()
        return self._widget

    def _build_widget(self):
        import ipywidgets as w

        self.controls = {name: p.control(p.label or name, w) for name, p in self.params.items()}
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        reset = w.Button(description="reset", tooltip="back to the starting values")
        reset.on_click(lambda _: self.reset())
        self.image = w.Image(value=self.png, format="png", layout=w.Layout(max_width="100%"))
        self.status = w.HTML("")
        row = w.HBox([*self.controls.values(), reset], layout=w.Layout(flex_flow="row wrap"))
        return w.VBox([row, self.image, self.status])

    def _on_change(self, change):
        name = next(n for n, c in self.controls.items() if c is change["owner"])
        self.set(**{name: change["new"]})

    def set(self, **values):
        """Set some parameters and redraw; a bad value shows a message, never an exception."""
        new = dict(self.values)
        try:
            for name, value in values.items():
                if name not in self.params:
                    raise ValueError(f"Unknown parameter: {name!r}")
                new[name] = self.params[name].coerce(value)
            png = self.render(new)
        except Exception as err:  # noqa: BLE001  (a reader's typo must not leave the widget dead)
            if self._widget is not None:
                self.status.value = f"<span style='color:#b00'>⚠ {html.escape(str(err))}</span>"
            return False
        self.values, self.png = new, png
        if self._widget is not None:
            self.status.value = ""
            self.image.value = png
        return True

    def reset(self):
        """Back to the starting values."""
        start = {name: p.start for name, p in self.params.items()}
        if self._widget is not None:
            for name, control in self.controls.items():
                with control.hold_trait_notifications():
                    control.unobserve(self._on_change, names="value")
                    control.value = start[name]
                    control.observe(self._on_change, names="value")
        self.set(**start)

    # -- the static twin (no kernel) -------------------------------------------------

    def static_html(self):
        """Plain HTML: a control per parameter over its grid, switching precomputed frames (``twin.js``)."""
        uid = "lrx-" + hashlib.sha1(b"".join(self.frames)).hexdigest()[:10]
        shape = [len(p.grid) for p in self.params.values()]
        start = [min(range(len(p.grid)), key=lambda i: p.distance(p.grid[i], self.values[n]))
                 for n, p in self.params.items()]
        controls = []
        for k, (name, p) in enumerate(self.params.items()):
            labels = [p.text(v) for v in p.grid]
            controls.append(
                f'<label style="margin-right:1em">{html.escape(p.label or name)} '
                f"{p.twin_control(k, p.label or name, labels, start[k])}"
                f"<script type=\"application/json\">{json.dumps(labels)}</script></label>"
            )
        frames = ["data:image/png;base64," + base64.b64encode(f).decode() for f in self.frames]
        first = int(np.ravel_multi_index(start, shape))
        what = self.title or "figure for " + ", ".join(p.label or n for n, p in self.params.items())
        legible = (f' data-min-text-px="{self.min_text_px:.2f}"'
                   if self.min_text_px else "")
        shown = ", ".join(f"{p.label or n} = {p.text(p.grid[i])}"
                          for (n, p), i in zip(self.params.items(), start))
        return (
            f'<div class="lr-explorer" id="{uid}" data-shape="{json.dumps(shape)}" '
            f'data-start="{json.dumps(start)}" data-alt="{html.escape(what)}">\n'
            f"<div>{''.join(controls)}<button type=\"button\" data-reset=\"1\">reset</button></div>\n"
            f'<img alt="{html.escape(f"{what} ({shown})")}" style="max-width:100%"{legible} '
            f'src="{frames[first]}">\n'
            f'<script type="application/json" class="lrx-frames">{json.dumps(frames)}</script>\n'
            f"<script>(function () {{\n{_twin_js()}"
            f'explorerTwin(document.getElementById("{uid}"));\n}})();</script>\n</div>'
        )

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/html"] = self.static_html()
        return bundle

    # -- timings ---------------------------------------------------------------------

    def benchmark(self, moves=20, *, seed=None):
        """Time ``moves`` control changes, to values between the grid points where there are any.

        Returns a dict: ``median_ms``, ``p95_ms``, ``frames``, ``changed`` (the
        share of moves whose picture differed from the one before).
        """
        self.widget  # noqa: B018  (time the same path a reader's slider takes)
        rng = np.random.default_rng(resolve_seed(seed))
        times, changed, before = [], 0, self.png
        for _ in range(check_positive_int(moves, "moves")):
            name = list(self.params)[int(rng.integers(len(self.params)))]
            value = self.params[name].sample(rng)
            t0 = time.perf_counter()
            self.controls[name].value = value
            times.append(1e3 * (time.perf_counter() - t0))
            changed += self.png != before
            before = self.png
        self.reset()
        return {"median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95)),
                "frames": len(self.frames), "changed": changed / len(times)}


@functools.cache
def _twin_js():
    """The static twin's script, read once from the package (``twin.js``)."""
    return resources.files("lrcourse.widgets").joinpath("twin.js").read_text(encoding="utf-8")
