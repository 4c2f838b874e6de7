"""Sweeping η: train once per learning rate, read the result, find the good band.

The basic experiment of the course: the same model, the same mini-batches, one
training run per η, and the held-out loss at the end (∞ when the run diverged).
``sweep`` runs it; ``good_band`` reads off the interval of η whose loss is
within a margin of the best; ``smooth`` is the running mean that shows the
trend behind noisy mini-batch losses.

Choose η on a validation split and look at the test set once, for the chosen
η (``load_digits(..., n_val=N)``); pass the validation pair as the second half
of ``data``.

Example:
    >>> from lrcourse.digits import load_digits
    >>> from lrcourse.models import mlp
    >>> x, y, x_val, y_val, _, _ = load_digits(n_train=640, n_val=320)
    >>> result = sweep([0.01, 0.3, 100.0], lambda: mlp((784, 16, 10)), (x, y, x_val, y_val))
    >>> result.best_lr, bool(result.final_loss[-1] > 10 * result.final_loss[1])   # η = 100: far off
    (0.3, True)
"""

import math
from dataclasses import dataclass, field

import numpy as np

from lrcourse.train import History, train
from lrcourse.validate import check_positive, check_positive_int


@dataclass
class Sweep:
    """One run per η: ``lrs``, the final held-out ``final_loss`` and ``final_acc``, the
    ``histories`` and the trained ``models`` (in the order of ``lrs``)."""

    lrs: np.ndarray
    final_loss: np.ndarray          # held-out loss after training; inf where the run diverged
    final_acc: np.ndarray           # held-out accuracy; nan where the run diverged
    histories: list[History] = field(repr=False)
    models: list = field(default_factory=list, repr=False)   # each run's network, trained

    @property
    def best(self):
        """Index of the η with the lowest final loss."""
        return int(np.argmin(self.final_loss))

    @property
    def best_lr(self):
        return float(self.lrs[self.best])

    def band(self, within=0.2):
        """``good_band`` of this sweep."""
        return good_band(self.lrs, self.final_loss, within=within)


def sweep(lrs, make_model, data, *, num_epochs=1, **train_kw):
    """Train ``make_model()`` on ``data`` once per η in ``lrs``; return a :class:`Sweep`.

    ``data`` is ``(x_train, y_train, x_held_out, y_held_out)``: the held-out pair
    (validation, when η is being chosen) gives each run's final loss and
    accuracy. Every other keyword goes to :func:`lrcourse.train.train`
    (``optimizer``, ``momentum``, ``batch_size``, ``seed``, ``device``, ...);
    the same ``seed`` (default: the course seed) gives every run the same
    mini-batches, and a ``make_model`` that seeds its initialization gives them
    the same start, so η is the only difference. The trained networks are kept in
    ``models``: evaluate the chosen one on the test set, look inside the others.
    """
    lrs = np.asarray([check_positive(lr, "learning rate") for lr in np.atleast_1d(lrs).tolist()])
    if lrs.size == 0:
        raise ValueError("Invalid lrs: [] (expected at least one learning rate)")
    if not callable(make_model):
        raise ValueError(f"Invalid make_model: {make_model!r} (expected a function () -> model)")
    if not (isinstance(data, (tuple, list)) and len(data) == 4):
        raise ValueError("Invalid data: expected (x_train, y_train, x_held_out, y_held_out)")
    num_epochs = check_positive_int(num_epochs, "num_epochs")
    models, histories = [], []
    for lr in lrs:                     # build each network just before its run, as by hand
        models.append(make_model())
        histories.append(train(models[-1], data, lr=float(lr), num_epochs=num_epochs, **train_kw))
    loss = np.array([math.inf if h.diverged else h.test_loss[-1] for h in histories])
    acc = np.array([math.nan if h.diverged else h.test_acc[-1] for h in histories])
    return Sweep(lrs, loss, acc, histories, models)


def good_band(lrs, losses, within=0.2):
    """(low, high): the interval of η around the best whose loss is ≤ best + ``within``.

    The losses are interpolated linearly in log η on a fine grid (diverged runs,
    loss ∞, count as very bad), so the band's ends fall between grid points.

    >>> [round(v, 4) for v in good_band([0.01, 0.1, 1.0], [1.0, 0.5, 1.0], within=0.25)]
    [0.0316, 0.3162]
    """
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    if lrs.ndim != 1 or lrs.shape != losses.shape or lrs.size < 2:
        raise ValueError(f"Invalid lrs/losses: shapes {lrs.shape} and {losses.shape} (expected two"
                         " 1-d arrays of the same length >= 2)")
    if np.any(lrs <= 0) or np.any(np.diff(lrs) <= 0):
        raise ValueError(f"Invalid lrs: {lrs.tolist()} (expected increasing positive values)")
    within = check_positive(within, "within")
    x = np.log10(lrs)
    fine = np.linspace(x[0], x[-1], 2001)
    loss = np.interp(fine, x, np.minimum(losses, 1e3))  # diverged runs count as very bad
    ok = loss <= np.min(losses) + within
    lo = hi = int(np.argmin(loss))
    while lo > 0 and ok[lo - 1]:
        lo -= 1
    while hi < fine.size - 1 and ok[hi + 1]:
        hi += 1
    return float(10 ** fine[lo]), float(10 ** fine[hi])


def smooth(values, width=10):
    """Running mean over ``width`` steps: the trend behind noisy mini-batch losses.

    Returns ``len(values) - width + 1`` means (the windows that fit), or the
    values themselves when there are fewer than ``width``.

    >>> smooth([1.0, 3.0, 5.0, 7.0], width=2).tolist()
    [2.0, 4.0, 6.0]
    """
    values = np.asarray(values, dtype=float)
    width = check_positive_int(width, "width")
    if len(values) < width:
        return values
    return np.convolve(values, np.ones(width) / width, mode="valid")
