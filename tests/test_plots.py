"""Plot helpers: return their axes, leave global state alone, update artists in place."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lrcourse.descent import gd
from lrcourse.plots import (
    diverged_text,
    plot_1d,
    plot_contours,
    plot_losses,
    plot_schedule,
    plot_trajectory,
)
from lrcourse.problems import Rosenbrock, quadratic_1d, quadratic_2d, valley
from lrcourse.schedules import one_cycle


@pytest.fixture
def ax(monkeypatch):
    """Fresh axes; fails the test if a helper calls plt.show or touches rcParams."""
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show() called"))
    rc = dict(matplotlib.rcParams)
    fig, ax = plt.subplots()
    figures = plt.get_fignums()
    yield ax
    assert plt.get_fignums() == figures, "a helper opened a figure"
    assert dict(matplotlib.rcParams) == rc, "a helper changed rcParams"
    plt.close(fig)


def test_contours_and_trajectory(ax):
    problem = quadratic_2d((1, 10), angle=0.5)
    assert plot_contours(problem, ax, xlim=(-3, 3), ylim=(-2, 2), levels=12) is ax
    assert ax.get_xlim() == (-3, 3)
    trace = gd(problem, 0.15, [-2.5, 1.5], 30)
    assert plot_trajectory(trace, ax, label="η = 0.15") is ax
    path = next(line for line in ax.lines if line.get_label() == "η = 0.15")
    np.testing.assert_array_equal(path.get_xydata(), trace.params)


def test_trajectory_takes_its_style_as_arguments(ax):
    points = np.array([[0.0, 0.0], [1.0, 1.0]])
    plot_trajectory(points, ax, color="C3", ms=1.5, lw=0.6)           # short names
    plot_trajectory(points, ax, color="C3", markersize=1.5, linewidth=0.6)  # long names
    for path in (ax.lines[1], ax.lines[3]):  # each call: its × first, then the path
        assert (path.get_markersize(), path.get_linewidth(), path.get_marker()) == (1.5, 0.6, "o")
    plot_trajectory(points, ax)
    assert (ax.lines[-1].get_markersize(), ax.lines[-1].get_linewidth()) == (3, 1)  # defaults


def test_trajectory_updates_in_place_and_marks_divergence(ax):
    problem = valley(10)
    plot_contours(problem, ax, xlim=(-10, 10), ylim=(-3, 3))
    plot_trajectory(gd(problem, 1.0, [-8.0, 2.0], 20), ax)
    cross, path = ax.lines[-2], ax.lines[-1]
    assert len(cross.get_xdata()) == 0  # converging: no ×
    count = len(ax.lines), len(ax.collections)
    diverging = gd(problem, 2.5, [-8.0, 2.0], 200)
    assert plot_trajectory(diverging, line=path) is ax
    assert (len(ax.lines), len(ax.collections)) == count  # nothing new drawn
    np.testing.assert_array_equal(path.get_xydata(), diverging.params)
    x, y = diverging.params.T
    in_view = np.flatnonzero((abs(x) <= 10) & (abs(y) <= 3))
    np.testing.assert_array_equal(cross.get_xydata(), diverging.params[in_view[-1:]])
    assert in_view[-1] < diverging.diverged_at  # the × is where the run left the picture
    plot_trajectory(np.array([[0.0, 0.0], [1.0, 1.0]]), line=path)
    assert len(cross.get_xdata()) == 0


def test_contours_of_rosenbrock_are_log_spaced(ax):
    plot_contours(Rosenbrock(), ax, xlim=(-2, 2), ylim=(-1, 3), levels=10)
    levels = ax.collections[0].levels
    ratios = levels[1:] / levels[:-1]
    np.testing.assert_allclose(ratios, ratios[0])


def test_losses_mark_divergence(ax):
    problem = quadratic_1d(1.0)
    traces = {"η = 0.5": gd(problem, 0.5, [1.0], 30), "η = 2.5": gd(problem, 2.5, [1.0], 100)}
    assert plot_losses(traces, ax) is ax
    assert ax.get_yscale() == "log"
    notes = [t.get_text() for t in ax.texts]
    assert notes == [f"diverged at step {traces['η = 2.5'].diverged_at}"]
    assert plot_losses(traces["η = 0.5"], ax) is ax
    assert plot_losses([np.geomspace(1, 1e-3, 10)], ax) is ax


def test_schedule(ax):
    schedule = one_cycle(0.1, 50)
    assert plot_schedule(schedule, 50, ax) is ax
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [schedule(t) for t in range(50)])
    assert plot_schedule([0.1, 0.05, 0.01], ax=ax) is ax
    with pytest.raises(ValueError, match="num_steps"):
        plot_schedule(schedule, None, ax)


def test_plot_1d_and_update(ax):
    problem = quadratic_1d(2.0)
    assert plot_1d(problem, gd(problem, 0.3, [1.5], 10), ax) is ax
    iterates = ax.lines[-1]
    lines = len(ax.lines)
    diverging = gd(problem, 1.2, [1.5], 100)
    assert plot_1d(problem, diverging, line=iterates) is ax
    assert len(ax.lines) == lines
    np.testing.assert_array_equal(iterates.get_xdata(), diverging.params[:, 0])
    assert [t.get_text() for t in ax.texts if t.get_visible()] == [
        f"diverged at step {diverging.diverged_at}"
    ]
    plot_1d(problem, gd(problem, 0.3, [1.5], 10), line=iterates)
    assert not any(t.get_visible() for t in ax.texts)


def test_diverged_text_reuses_one_artist(ax):
    for step in (3, 7, None, 12):
        assert diverged_text(ax, step) is ax
    assert len(ax.texts) == 1 and ax.texts[0].get_text() == "diverged at step 12"


def test_default_axes_is_the_current_one(ax):
    plt.sca(ax)
    assert plot_schedule([1.0, 0.5]) is ax
