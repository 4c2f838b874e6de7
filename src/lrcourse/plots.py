"""Plot helpers for losses, trajectories and schedules.

Each helper draws on ``ax`` (the current axes if None) and returns it; none
calls ``plt.show()`` or changes rcParams. They are cheap enough to be called
by a live widget, and the artists that change with η can be updated in place::

    >>> from lrcourse.descent import gd
    >>> from lrcourse.problems import valley
    >>> problem = valley(10)
    >>> ax = plot_contours(problem, xlim=(-10, 10), ylim=(-3, 3))
    >>> ax = plot_trajectory(gd(problem, 1.0, [-8, 2], 50), ax=ax)
    >>> path = ax.lines[-1]                                         # the trajectory's Line2D
    >>> ax = plot_trajectory(gd(problem, 2.5, [-8, 2], 50), line=path)  # moved, nothing new

A diverged run is marked with an × (at the last iterate still in view) and,
where there is room, a "diverged at step k" note.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.cbook import normalize_kwargs
from matplotlib.lines import Line2D

from lrcourse.descent import Trace
from lrcourse.validate import check_positive_int


def _axes(ax):
    return plt.gca() if ax is None else ax


def _last_finite(points):
    """Index of the last row of ``points`` whose entries are all finite (−1 if none)."""
    finite = np.isfinite(points)
    ok = np.flatnonzero(finite.all(axis=-1) if points.ndim > 1 else finite)
    return int(ok[-1]) if ok.size else -1


def diverged_text(ax, step, *, loc=(0.03, 0.95)):
    """Write "diverged at step k" in the axes (``step`` None: hide the note).

    The note is one Text artist (gid ``'diverged'``) that later calls update, so
    a widget can call this on every redraw.
    """
    note = next((t for t in ax.texts if t.get_gid() == "diverged"), None)
    if note is None:
        note = ax.text(*loc, "", transform=ax.transAxes, va="top", color="C3", gid="diverged")
    note.set_text("" if step is None else f"diverged at step {step}")
    note.set_visible(step is not None)
    return ax


def plot_contours(problem, ax=None, *, xlim=(-2, 2), ylim=(-2, 2), levels=20, num=200,
                  cmap="viridis", mark_minimizer=True, **kwargs):
    """Contour lines of a 2-D loss, at log-spaced heights above its minimum.

    ``levels`` is a number of lines, log-spaced between 10⁻³ and 1 times the
    range of f − f* on the grid (dense near the minimum, where the iterates
    end), or an explicit sequence of heights f − f*. Extra keywords go to
    ``ax.contour``.
    """
    ax = _axes(ax)
    xs, ys = np.linspace(*xlim, num), np.linspace(*ylim, num)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)  # (num, num, 2)
    f_star = getattr(problem, "min_loss", None)
    with np.errstate(all="ignore"):
        gap = problem.loss(grid)
        gap = gap - (gap.min() if f_star is None else f_star)  # f − f* ≥ 0
    if np.ndim(levels) == 0:
        top = float(np.nanmax(gap))
        levels = np.geomspace(1e-3 * top, top, check_positive_int(levels, "levels"))
    ax.contour(xs, ys, gap, levels=levels, cmap=cmap, linewidths=0.8, **kwargs)
    minimizer = getattr(problem, "minimizer", None)
    if mark_minimizer and minimizer is not None:
        ax.plot(*minimizer, marker="*", ms=12, color="k", ls="none", label="minimum")
    ax.set(xlim=xlim, ylim=ylim, xlabel="$x_1$", ylabel="$x_2$")
    return ax


def _cross_of(line):
    """The × marker Line2D paired with a trajectory line (found by its gid)."""
    gid = f"{line.get_gid()}:diverged"
    return next(a for a in line.axes.lines if a.get_gid() == gid)


def _last_in_view(ax, points):
    """The last finite iterate inside the axes' limits (a diverging run soon leaves the view)."""
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    x, y = points[:, 0], points[:, 1]
    with np.errstate(invalid="ignore"):
        inside = np.flatnonzero((x0 <= x) & (x <= x1) & (y0 <= y) & (y <= y1))
    return points[inside[-1]] if inside.size else points[_last_finite(points)]


def plot_trajectory(trace_or_points, ax=None, *, label=None, line=None, **kwargs):
    """Draw the iterates θ_0, θ_1, ... of a 2-D run as a path with dots.

    Accepts a :class:`~lrcourse.descent.Trace` or an array of points (k, 2).
    If the run diverged, an × marks the last iterate still in view. With
    ``line=`` (the path Line2D this function drew before: ``ax.lines[-1]`` right
    after the call) the path and its × are moved to the new data instead of
    drawing new artists: the fast path for widgets. Other keywords style the
    path (``color``, ``ms``/``markersize``, ``lw``/``linewidth``, ...).
    """
    trace = trace_or_points if isinstance(trace_or_points, Trace) else None
    points = np.asarray(trace.params if trace else trace_or_points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"Invalid points: expected shape (k, 2), got {points.shape}")
    if line is None:
        ax = _axes(ax)
        style = {"marker": "o", "markersize": 3, "linewidth": 1,
                 **normalize_kwargs(kwargs, Line2D)}  # ms=… and markersize=… both override
        (line,) = ax.plot(points[:, 0], points[:, 1], label=label, **style)
        line.set_gid(f"trajectory{len(ax.lines)}")
        ax.plot([], [], marker="x", ms=12, mew=2.5, ls="none", color=line.get_color(),
                gid=f"{line.get_gid()}:diverged")
        line.remove()
        ax.add_line(line)  # the path last, so that ``ax.lines[-1]`` is the path
    else:
        line.set_data(points[:, 0], points[:, 1])
        if label is not None:
            line.set_label(label)
    end = _last_in_view(line.axes, points) if trace and trace.diverged else np.empty(0)
    _cross_of(line).set_data(end[:1], end[1:])
    return line.axes


def _as_traces(traces):
    if isinstance(traces, dict):
        return list(traces.items())
    if isinstance(traces, (Trace, np.ndarray)):
        return [(None, traces)]
    return [(None, t) for t in traces]


def plot_losses(traces, ax=None, *, min_loss=None, **kwargs):
    """Loss curves on a log scale: f(θ_t) − f* against the step t.

    ``traces`` is a Trace, a list of them, a dict label → Trace, or arrays of
    losses. f* is ``min_loss`` if given, else each trace's own ``min_loss`` (0
    when unknown). A diverged run ends with an × and "diverged at step k".
    """
    ax = _axes(ax)
    for label, trace in _as_traces(traces):
        losses = trace.losses if isinstance(trace, Trace) else np.asarray(trace, dtype=float)
        f_star = min_loss if min_loss is not None else (getattr(trace, "min_loss", None) or 0.0)
        gap = losses - f_star
        (line,) = ax.plot(np.arange(len(gap)), gap, label=label, **kwargs)
        k = getattr(trace, "diverged_at", None)
        if k is not None:
            finite = gap[np.isfinite(gap)]
            y = finite.max() if finite.size else 1.0
            ax.plot([k], [y], marker="x", ms=10, mew=2.5, color=line.get_color())
            ax.annotate(f"diverged at step {k}", (k, y), xytext=(-4, 6),
                        textcoords="offset points", ha="right", color=line.get_color())
    ax.set_yscale("log")
    ax.set(xlabel="step $t$", ylabel=r"$f(\theta_t) - f^*$")
    return ax


def plot_schedule(schedule_or_values, num_steps=None, ax=None, *, label=None, **kwargs):
    """η_t against the step t, for a schedule (``step -> η``, over ``num_steps``) or values."""
    ax = _axes(ax)
    if callable(schedule_or_values):
        num_steps = check_positive_int(num_steps, "num_steps")
        values = np.array([schedule_or_values(t) for t in range(num_steps)], dtype=float)
    else:
        values = np.asarray(schedule_or_values, dtype=float)
    ax.plot(np.arange(len(values)), values, label=label, **kwargs)
    ax.set(xlabel="step $t$", ylabel=r"learning rate $\eta_t$")
    return ax


def plot_1d(problem, trace, ax=None, *, xlim=None, num=400, line=None, **kwargs):
    """A 1-D loss curve with the iterates of ``trace`` drawn on it, joined in order.

    ``xlim`` defaults to the minimizer ± 1.5 × the start's distance from it.
    With ``line=`` (the iterates' Line2D from an earlier call, ``ax.lines[-1]``)
    only the iterates move; the curve is not redrawn.
    """
    xs = np.asarray(trace.params if isinstance(trace, Trace) else trace, dtype=float).reshape(-1)
    with np.errstate(all="ignore"):
        ys = problem.loss(xs[:, None])
    if line is not None:
        line.set_data(xs, ys)
        diverged_text(line.axes, getattr(trace, "diverged_at", None))
        return line.axes
    ax = _axes(ax)
    if xlim is None:
        minimizer = getattr(problem, "minimizer", None)
        center = 0.0 if minimizer is None else float(np.ravel(minimizer)[0])
        half = 1.5 * max(abs(xs[0] - center), 1e-3)
        xlim = (center - half, center + half)
    grid = np.linspace(*xlim, num)
    curve = problem.loss(grid[:, None])
    ax.plot(grid, curve, color="0.3", lw=1.5)
    ax.plot(xs, ys, marker="o", ms=4, lw=0.8, color="C1", **kwargs)
    diverged_text(ax, getattr(trace, "diverged_at", None))
    margin = 0.05 * (curve.max() - curve.min())
    ax.set(xlim=xlim, ylim=(curve.min() - margin, curve.max() + margin),
           xlabel=r"$\theta$", ylabel=r"$f(\theta)$")
    return ax
