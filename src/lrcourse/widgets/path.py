"""The path explorer: a run's path on the contours, a curve of it on the right, a status line.

Several chapters show one numpy optimizer on a 2-D loss this way (momentum,
typical values of η, adaptive methods, computing η in advance):

* left, the loss's contour lines and the path θ_0, θ_1, … of
  ``run(problem, optimizer_for(**values), x0, num_steps)``, with an × where it
  diverged (:func:`~lrcourse.plots.plot_contours`, :func:`~lrcourse.plots.plot_trajectory`);
* right, a panel fed the same run: by default f(θ_t) − f* against the step t
  on a log scale (:func:`loss_panel`); any ``panel(ax, num_steps) -> update``;
* above, one status line: by default the values and how the run ended
  ("η = 0.3: diverged at step 12", red; "η = 0.1: f − f* = 3.2e-07 after 200 steps").

Example:
    >>> from lrcourse.optimizers import momentum
    >>> from lrcourse.problems import valley
    >>> from lrcourse.widgets import LogParam, Param
    >>> e = path_explorer(valley(10), lambda lr, gamma: momentum(lr, momentum=gamma),
    ...                   x0=[-8, 2], num_steps=100, xlim=(-10, 10), ylim=(-3, 3),
    ...                   lr=LogParam(0.1, 3.0, num=5, default=1.0, label="η"),
    ...                   gamma=Param(0.0, 0.9, num=3, default=0.5, label="γ"), dpi=40)
    >>> len(e.frames)
    15
    >>> e.fig.texts[0].get_text()           # the status line, at the starting values
    'η = 1, γ = 0.5: f − f* = 9.8e-30 after 100 steps'
"""

import numpy as np

from lrcourse.descent import run
from lrcourse.plots import plot_contours, plot_trajectory
from lrcourse.validate import check_array, check_positive_int
from lrcourse.widgets.explorer import Explorer

_TINY = 1e-300  # a log axis cannot show 0: a run that hits f* exactly is drawn at 10⁻³⁰⁰
_FONT = 9  # points, the status line's size
_LINE = 1.3 * _FONT / 72  # inches, the height of one line of it


def path_explorer(problem, optimizer_for, x0, num_steps, *, xlim, ylim, levels=12, cmap="viridis",
                  path_style=None, width_ratios=(1.3, 1), panel=None, status=None, status_lines=1,
                  figsize=(6.4, 3.2), dpi=90, title="", budget_ms=50, **params):
    """An :class:`Explorer` of one optimizer's run on a 2-D ``problem``, as the module says.

    Args:
        problem: a 2-D loss (``lrcourse.problems``): contours and the run use it.
        optimizer_for: ``optimizer_for(**values) -> Optimizer``, the optimizer
            to run for the controls' values, e.g. ``lambda lr: sgd(lr)``.
        x0, num_steps: the start θ_0 (2 numbers) and the number of steps.
        xlim, ylim, levels, cmap: the contour plot's view, its number of lines
            and their colours (:func:`~lrcourse.plots.plot_contours`).
        path_style: Line2D keywords for the path, over the default
            ``{"color": "C3", "ms": 2, "lw": 0.8}`` (:func:`~lrcourse.plots.plot_trajectory`).
        width_ratios: the widths of the left (path) and right (panel) axes.
        panel: the right panel, ``panel(ax, num_steps) -> update``, where
            ``update(trace, **values)`` redraws it for the run ``trace`` and
            returns the artists it changed (their axes limits fixed); default
            :func:`loss_panel`.
        status: ``status(trace, **values) -> str``, the status line; default:
            the values, then :func:`outcome`. Red when the run diverged.
        status_lines: how many lines ``status`` writes (the room left above the plots).
        figsize, dpi, title, budget_ms, **params: as for :class:`Explorer`.
    """
    x0 = check_array(x0, "x0", shape=(2,))
    num_steps = check_positive_int(num_steps, "num_steps")
    room = (0.1 + check_positive_int(status_lines, "status_lines") * _LINE) / figsize[1]
    panel = loss_panel() if panel is None else panel
    path_style = {"color": "C3", "ms": 2, "lw": 0.8, **(path_style or {})}
    if status is None:
        def status(trace, **values):
            shown = ", ".join(f"{params[n].label or n} = {params[n].text(v)}"
                              for n, v in values.items())
            return f"{shown}: {outcome(trace)}"

    def make(fig):
        left, right = fig.subplots(1, 2, width_ratios=list(width_ratios))
        plot_contours(problem, left, xlim=xlim, ylim=ylim, levels=levels, cmap=cmap)
        left.set(xlabel=r"$\theta_1$", ylabel=r"$\theta_2$")
        plot_trajectory(np.array([x0, x0]), left, **path_style)
        path = left.lines[-1]  # plot_trajectory draws its × first, then the path
        cross = next(a for a in left.lines if a.get_gid() == f"{path.get_gid()}:diverged")
        redraw_panel = panel(right, num_steps)
        note = fig.text(0.5, 1 - 0.05 / figsize[1], "", ha="center", va="top", fontsize=_FONT)
        fig.tight_layout(rect=(0, 0, 1, 1 - room))

        def update(**values):
            trace = run(problem, optimizer_for(**values), x0, num_steps)
            plot_trajectory(trace, line=path)
            changed = redraw_panel(trace, **values)
            note.set_text(status(trace, **values))
            note.set_color("C3" if trace.diverged else "k")
            return (path, cross, *changed, note)

        return update

    return Explorer(make, figsize=figsize, dpi=dpi, title=title, budget_ms=budget_ms, **params)


def loss_panel(curve=None, *, ylabel=r"$f(\theta_t) - f^*$", ylim=None, color="C3", **style):
    """A right panel for :func:`path_explorer`: ``curve(trace)`` against the step t, log scale.

    ``curve`` defaults to the loss gap f(θ_t) − f* (``trace.gaps``); for the
    distance to the minimum give ``lambda trace: np.linalg.norm(trace.params - x_star, axis=1)``.
    ``ylim`` defaults to 10⁻¹² … 10³ times the curve's value at θ_0 (the same
    for every run, so the axes stay fixed, as blitting needs). Other keywords
    style the curve (``ax.plot``'s: ``marker=".", ms=3``, ...).
    """
    curve = (lambda trace: trace.gaps) if curve is None else curve

    def make(ax, num_steps):
        ax.set(yscale="log", xlim=(0, num_steps), xlabel="step $t$", ylabel=ylabel)
        if ylim is not None:
            ax.set_ylim(ylim)
        (line,) = ax.plot([], [], **{"color": color, "lw": 1, **style})
        fixed = [ylim is not None]

        def update(trace, **values):
            ys = np.maximum(np.asarray(curve(trace), dtype=float), _TINY)
            if not fixed[0]:  # the first run drawn, before anything is blitted: fix the view
                top = ys[0] if np.isfinite(ys[0]) and ys[0] > _TINY else 1.0
                ax.set_ylim(1e-12 * top, 1e3 * top)
                fixed[0] = True
            line.set_data(np.arange(ys.size), ys)
            return (line,)

        return update

    return make


def outcome(trace):
    """How a numpy run ended, in words: "diverged at step k" or "f − f* = … after N steps"."""
    if trace.diverged:
        return f"diverged at step {trace.diverged_at}"
    return f"f − f* = {trace.gaps[-1]:.1e} after {trace.num_steps} steps"
