"""The learning-rate range test: one short run with η growing exponentially, step by step.

Step i (of N) trains one mini-batch at

    η_i = start_lr · (end_lr / start_lr)^(i / (N − 1)),

and records the mini-batch loss ℓ_i. The curve ℓ(η) is flat while η is too
small to move anything, falls once η starts to work, and shoots up once η is
too large. The losses are noisy, so the test reads an exponential moving average

    s_0 = ℓ_0,    s_i = α ℓ_i + (1 − α) s_{i−1}      (α = ``smooth``),

and stops early once s_i > ``diverge_factor`` · min_{j≤i} s_j (or ℓ_i is not
finite). Two common readings of the curve give a first η to try:

* steepest: the η where s falls fastest, argmin ds/d(log η)
  (torch-lr-finder's ``plot(suggest_lr=True)``);
* min/10: a tenth of the η at the lowest s (fastai's ``lr_min``): the lowest
  point is already close to the edge.

Both skip the first ``skip_start`` and the last ``skip_end`` points, as
torch-lr-finder does. The model's weights are restored afterwards: the test
only looks.

Example:
    >>> from lrcourse.digits import load_digits
    >>> from lrcourse.models import mlp
    >>> result = lr_range_test(mlp(), load_digits(n_train=6400))
    >>> 1e-3 < result.suggestion_steepest < 10
    True

References: L. N. Smith, "Cyclical Learning Rates for Training Neural
Networks", arXiv:1506.01186 (2015), §3.3; the implementations in fastai
(``lr_find``) and torch-lr-finder (``LRFinder.range_test``), whose sweep and
smoothing this follows. Note: torch-lr-finder's ``smooth_f=0`` turns smoothing
off; here that is ``smooth=1`` (the newest loss gets all the weight).
"""

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch.nn.functional as F

from lrcourse.torchloop import check_data, check_device, make_optimizer, minibatches
from lrcourse.validate import (
    check_in_range,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
)


@dataclass
class RangeTest:
    """The sweep (``lrs``, raw ``losses``, ``smoothed``) and the two suggested η."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion_steepest: float
    suggestion_min_over_10: float
    diverged_at: int | None  # step at which the smoothed loss blew up; None: full sweep

    def plot(self, ax=None):
        """Loss against η (log scale), raw and smoothed, with both suggestions marked."""
        ax = ax if ax is not None else plt.gca()
        finite = np.isfinite(self.losses)
        ax.plot(self.lrs[finite], self.losses[finite], color="0.75", lw=1, label="mini-batch loss")
        ax.plot(self.lrs, self.smoothed, color="C0", lw=2, label="smoothed")
        for lr, name, color in ((self.suggestion_steepest, "steepest", "C3"),
                                (self.suggestion_min_over_10, "min / 10", "C2")):
            if math.isfinite(lr):
                ax.axvline(lr, color=color, ls="--", label=f"{name}: η = {lr:.2g}")
        good = self.smoothed[np.isfinite(self.smoothed)]
        ax.set_ylim(0.95 * good.min(), 1.05 * good.max())
        ax.set(xscale="log", xlabel="learning rate η", ylabel="loss")
        ax.legend()
        return ax


def lr_range_test(model, data, *, start_lr=1e-7, end_lr=10, num_steps=100, optimizer="sgd",
                  momentum=0.0, batch_size=64, smooth=0.05, diverge_factor=5, skip_start=10,
                  skip_end=5, seed=None, device="cpu"):
    """Run the range test on ``model`` and ``data`` (as for ``train``; the test split is unused).

    ``optimizer``, ``momentum``, ``batch_size``, ``seed`` and ``device`` mean
    what they mean in ``lrcourse.train.train``. Returns a ``RangeTest``; the
    model's weights, device and train/eval mode are as before the call.
    """
    start_lr = check_positive(start_lr, "start_lr")
    end_lr = check_positive(end_lr, "end_lr")
    if end_lr <= start_lr:
        raise ValueError(f"Invalid end_lr: {end_lr} (must exceed {start_lr=})")
    num_steps = check_positive_int(num_steps, "num_steps")
    if num_steps < 2:
        raise ValueError(f"Invalid num_steps: {num_steps} (a sweep needs at least 2)")
    batch_size = check_positive_int(batch_size, "batch_size")
    smooth = check_in_range(smooth, "smooth", 0.0, 1.0, low_open=True, high_open=False)
    diverge_factor = check_in_range(diverge_factor, "diverge_factor", 1.0, math.inf,
                                    low_open=True)
    skip_start = check_nonnegative_int(skip_start, "skip_start")
    skip_end = check_nonnegative_int(skip_end, "skip_end")
    device = check_device(device)
    lrs = start_lr * (end_lr / start_lr) ** (np.arange(num_steps) / (num_steps - 1))

    saved = {k: v.detach().clone() for k, v in model.state_dict().items()}
    home, was_training = next(model.parameters()).device, model.training
    try:
        model.to(device)
        x, y, *_ = check_data(data, model, device)
        opt = make_optimizer(optimizer, model.parameters(), float(lrs[0]), momentum)
        batches = ((x[idx], y[idx]) for idx in minibatches(len(x), batch_size, seed=seed))
        losses = sweep_losses(model, opt, batches, lrs, smooth=smooth,
                              diverge_factor=diverge_factor)
    finally:
        model.load_state_dict(saved)
        model.to(home)
        model.train(was_training)
    return read_curve(lrs, losses, smooth, skip_start, skip_end)


def sweep_losses(model, optimizer, batches, lrs, *, loss_fn=F.cross_entropy, smooth=0.05,
                 diverge_factor=5):
    """Train one batch ``(x, y)`` from ``batches`` per η in ``lrs``; return the raw losses.

    The sweep itself, for any model, torch optimizer, iterable of batches and
    ``loss_fn(model(x), y)``. It stops early, once the loss is not finite or its
    smoothed value passes ``diverge_factor`` times its lowest (the weights
    are then left as they were at that step). It changes the model and the
    optimizer: the callers save and restore them.
    """
    model.train()
    losses, smoothed, best = [], math.nan, math.inf

    def blown_up(loss):
        nonlocal smoothed, best
        losses.append(loss)
        smoothed = loss if len(losses) == 1 else smooth * loss + (1 - smooth) * smoothed
        best = min(best, smoothed)
        return not math.isfinite(loss) or smoothed > diverge_factor * best

    for lr, (x, y) in zip(lrs, batches):
        for group in optimizer.param_groups:
            group["lr"] = float(lr)
        loss = loss_fn(model(x), y)
        if blown_up(loss.item()):
            break  # the loss has blown up: larger η can only be worse
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return np.array(losses)


def read_curve(lrs, losses, smooth=0.05, skip_start=10, skip_end=5):
    """The :class:`RangeTest` of a sweep over ``lrs`` that recorded ``losses`` (maybe fewer)."""
    smoothed = smoothen(losses, smooth)
    diverged_at = len(losses) - 1 if len(losses) < len(lrs) else None
    lrs = np.asarray(lrs, float)[:len(losses)]
    steepest, min_over_10 = suggestions(lrs, smoothed, skip_start, skip_end)
    return RangeTest(lrs, np.asarray(losses, float), smoothed, steepest, min_over_10, diverged_at)


def smoothen(losses, smooth):
    """The exponential moving average s_i = α ℓ_i + (1 − α) s_{i−1}, s_0 = ℓ_0."""
    smoothed = np.empty(len(losses))
    for i, loss in enumerate(losses):
        smoothed[i] = loss if i == 0 else smooth * loss + (1 - smooth) * smoothed[i - 1]
    return smoothed


def suggestions(lrs, smoothed, skip_start=10, skip_end=5):
    """``(steepest, min_over_10)`` read from a smoothed range-test curve (NaN if too short).

    Only the points ``skip_start .. len − skip_end`` with a finite loss count;
    when fewer than 3 remain, the whole finite curve is used.
    """
    lrs, smoothed = np.asarray(lrs, float), np.asarray(smoothed, float)
    window = np.arange(len(lrs))[skip_start:len(lrs) - skip_end]
    window = window[np.isfinite(smoothed[window])]
    if len(window) < 3:
        window = np.flatnonzero(np.isfinite(smoothed))
    if len(window) < 2:
        return math.nan, math.nan
    slope = np.gradient(smoothed[window], np.log(lrs[window]))  # ds / d(log η)
    steepest = lrs[window[np.argmin(slope)]]
    lowest = lrs[window[np.argmin(smoothed[window])]]
    return float(steepest), float(lowest / 10)
