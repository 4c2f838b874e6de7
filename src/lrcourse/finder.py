"""Find η for your own model: the range test and the sharpness, on any model, loss and data.

``find_lr(model, loss_fn, loader)`` runs the learning-rate range test of
``lrcourse.range_test`` on a torch model of yours: η grows exponentially from
``start_lr`` to ``end_lr``, one batch per step, and the smoothed loss ℓ(η) is
read off. Any iterable of ``(inputs, targets)`` batches will do (a
``torch.utils.data.DataLoader``, a list, a generator), or a pair of tensors
``(x, y)``, which it cuts into shuffled batches itself; a loader shorter than
``num_steps`` is gone through again. Next to the curve's two usual readings
(steepest descent, min/10) it estimates the sharpness λ_max, the top
eigenvalue of the loss Hessian on the first batch (``lrcourse.sharpness``),
when the model has at most ``SHARPNESS_MAX_PARAMS`` trainable parameters
(about a second on a CPU there). For SGD with momentum γ (γ = 0: plain SGD)
that gives the largest stable step on the local quadratic,

    η < 2 (1 + γ) / λ_max          (2 / λ_max for plain SGD),

a check on the range test's recommendation (see :func:`recommend`).

The call only looks: the weights, the buffers (BatchNorm's running
statistics included), the gradients, the train/eval mode of every submodule
and the device of every tensor are restored bitwise afterwards, and so is the
``state_dict`` of an optimizer instance you pass. A loader that yields
nothing, a batch that is not an ``(inputs, targets)`` pair, targets the loss
cannot compare with the model's output, and a loss that is not finite before
the first step are each a ``ValueError``, with the model untouched.

Example:
    >>> import torch
    >>> from lrcourse.digits import load_digits
    >>> from lrcourse.models import mlp
    >>> x, y, _, _ = load_digits(n_train=6400)
    >>> result = find_lr(mlp(), torch.nn.CrossEntropyLoss(), (x, y))
    >>> 0.01 < result.lr < 10 and result.lam_max > 0
    True
    >>> print(result)                                    # doctest: +ELLIPSIS
    recommended η = ...

References: L. N. Smith, "Cyclical Learning Rates for Training Neural
Networks", WACV 2017, §3.3 (the range test); fastai's ``lr_find`` and
torch-lr-finder's ``LRFinder`` (the exponential per-batch form, its
smoothing and its readings); Y. LeCun, L. Bottou, G. Orr, K.-R. Müller,
"Efficient BackProp", 1998, §5 (η < 2/λ_max).
"""

import copy
import math
import warnings
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from lrcourse.range_test import RangeTest, read_curve, suggestions, sweep_losses
from lrcourse.sharpness import top_eigenvalue
from lrcourse.torchloop import check_device, make_optimizer, minibatches
from lrcourse.validate import check_in_range, check_positive, check_positive_int

SHARPNESS_MAX_PARAMS = 1_000_000  # "auto": estimate λ_max only for models this small


@dataclass
class FindLR:
    """What ``find_lr`` found: the range test, the readings, λ_max, and one recommended η."""

    lr: float                  # the recommended η
    steepest: float            # where the smoothed loss falls fastest
    min_over_10: float         # a tenth of the η at the lowest smoothed loss
    lam_max: float             # top Hessian eigenvalue on one batch; nan when not estimated
    curvature_limit: float     # 2(1 + γ)/λ_max for SGD; nan otherwise
    reasons: dict = field(repr=False)   # name → one sentence: why this number
    range_test: RangeTest = field(repr=False)

    @property
    def lrs(self):
        return self.range_test.lrs

    @property
    def losses(self):
        return self.range_test.losses

    @property
    def smoothed(self):
        return self.range_test.smoothed

    def explain(self):
        """One line per number: its value and the reason for it."""
        rows = [("recommended", self.lr), ("steepest", self.steepest),
                ("min/10", self.min_over_10), ("2(1+γ)/λ_max", self.curvature_limit)]
        return "\n".join(f"{name} η = {value:.3g}: {self.reasons[name]}" for name, value in rows
                         if name in self.reasons)

    __str__ = explain

    def plot(self, ax=None):
        """The range-test curve with its readings, the curvature limit and the recommended η."""
        ax = self.range_test.plot(ax)
        if math.isfinite(self.curvature_limit):
            ax.axvline(self.curvature_limit, color="C4", ls=":",
                       label=f"2(1+γ)/λ_max: η = {self.curvature_limit:.2g}")
        ax.axvline(self.lr, color="k", lw=2, alpha=0.6, label=f"recommended: η = {self.lr:.2g}")
        ax.legend(fontsize=8)
        return ax


def find_lr(model, loss_fn, loader, optimizer="sgd", *, start_lr=1e-6, end_lr=10,
            num_steps=100, momentum=0.0, batch_size=64, smooth=0.05, diverge_factor=5,
            skip_start=10, skip_end=5, sharpness="auto", device="cpu", seed=None):
    """Run the range test (and estimate λ_max) on your ``model``; return a :class:`FindLR`.

    ``loss_fn(model(inputs), targets)`` returns a scalar tensor (a
    ``torch.nn`` loss with its default ``reduction="mean"``, say). ``loader``
    is any iterable of ``(inputs, targets)`` pairs, or ``(x, y)`` tensors cut
    into batches of ``batch_size`` in an order drawn from ``seed``. ``optimizer``
    is a name of ``lrcourse.torchloop.OPTIMIZERS``, a factory ``f(params, lr=...)``
    or a torch optimizer already built on the model's parameters (its state is
    restored afterwards). ``sharpness`` is True, False or "auto" (estimate λ_max
    when the model has at most ``SHARPNESS_MAX_PARAMS`` trainable parameters).
    The other keywords mean what they mean in ``lrcourse.range_test.lr_range_test``.
    """
    start_lr, end_lr = check_positive(start_lr, "start_lr"), check_positive(end_lr, "end_lr")
    if end_lr <= start_lr:
        raise ValueError(f"Invalid end_lr: {end_lr} (must exceed {start_lr=})")
    num_steps = check_positive_int(num_steps, "num_steps")
    if num_steps < skip_start + skip_end + 3:
        raise ValueError(f"Invalid num_steps: {num_steps} (need more than {skip_start=} + "
                         f"{skip_end=} + 2)")
    smooth = check_in_range(smooth, "smooth", 0.0, 1.0, low_open=True, high_open=False)
    diverge_factor = check_in_range(diverge_factor, "diverge_factor", 1.0, math.inf,
                                    low_open=True)
    if sharpness not in (True, False, "auto"):
        raise ValueError(f"Invalid sharpness: {sharpness!r} (expected True, False or 'auto')")
    if not callable(loss_fn):
        raise ValueError(f"Invalid loss_fn: {loss_fn!r} (expected loss_fn(output, targets))")
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"Invalid model: {type(model).__name__} (expected a torch.nn.Module)")
    device = check_device(device)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("Invalid model: it has no trainable parameters")
    lrs = start_lr * (end_lr / start_lr) ** (np.arange(num_steps) / (num_steps - 1))

    with _restored(model, optimizer):
        batches = _batches(loader, batch_size, seed, device, params[0].dtype)
        first = _first_batch(batches, model.to(device), loss_fn)
        lam, lam_note = _sharpness(model, loss_fn, first, sharpness, params, seed)
        opt = (optimizer if isinstance(optimizer, torch.optim.Optimizer)
               else make_optimizer(optimizer, params, start_lr, momentum))
        opt.state = defaultdict(dict)  # a fresh start; the caller's state comes back afterwards
        losses = sweep_losses(model, opt, _chain(first, batches), lrs, loss_fn=loss_fn,
                              smooth=smooth, diverge_factor=diverge_factor)
        gamma = _sgd_momentum(opt)
    if len(losses) < skip_start + 3:
        raise ValueError(f"The loss blew up after {len(losses)} steps, at η = "
                         f"{lrs[len(losses) - 1]:.3g}: lower start_lr")
    rt = read_curve(lrs, losses, smooth, skip_start, skip_end)
    limit = 2 * (1 + gamma) / lam if gamma is not None and lam > 0 else math.nan
    return recommend(rt, lam, limit, lam_note, skip_start)


def recommend(rt, lam=math.nan, limit=math.nan, lam_note="", skip_start=10):
    """The :class:`FindLR` of a range test ``rt``: readings, reasons and one η to start from.

    The recommended η is the steepest point of the descent, the η where the
    smoothed loss falls fastest *before* its lowest point (a steepest reading
    past the lowest point sits in the blow-up and is discarded). The curvature
    limit 2(1 + γ)/λ_max, when known, is checked against it, not imposed: it
    is measured at the initial weights on one batch, and the curvature
    changes once training starts (BatchNorm layers, for one, make it fall), so
    a recommendation above it comes with a warning in its reason.
    """
    lowest = int(np.argmin(rt.smoothed))
    lowest_lr = float(rt.lrs[lowest])
    descent, _ = suggestions(rt.lrs[:lowest + 1], rt.smoothed[:lowest + 1], skip_start, 0)
    descent = lowest_lr if math.isnan(descent) else descent
    reasons = {
        "steepest": ("the smoothed loss falls fastest here" + (
            f", but past its lowest point (η = {lowest_lr:.3g}): a false reading in the blow-up"
            if rt.suggestion_steepest > lowest_lr else "")),
        "min/10": (f"a tenth of the η of the lowest smoothed loss ({lowest_lr:.3g}): "
                   "cautious, as the lowest point is close to the blow-up"),
    }
    if math.isfinite(limit):
        reasons["2(1+γ)/λ_max"] = (f"SGD is stable on the local quadratic below 2(1 + γ)/λ_max, "
                                   f"with λ_max = {lam:.3g} on one batch{lam_note}")
    lr, why = descent, "the steepest point of the descent, before the lowest smoothed loss"
    if math.isfinite(limit):
        why += (f", and below 2(1+γ)/λ_max = {limit:.3g}" if lr <= limit else
                f"; it is above 2(1+γ)/λ_max = {limit:.3g} at the initial weights, so the "
                "first steps may be unstable: if training blows up, warm up or use the limit")
    reasons["recommended"] = why
    return FindLR(lr, rt.suggestion_steepest, rt.suggestion_min_over_10, lam, limit, reasons, rt)


class _restored:
    """Save everything a run changes on ``model`` (and an optimizer instance); put it back."""

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer

    def __enter__(self):
        m = self.model
        self.tensors = [(t, t.data.clone()) for t in [*m.parameters(), *m.buffers()]]
        self.grads = [(p, None if p.grad is None else p.grad.clone()) for p in m.parameters()]
        self.modes = [(sub, sub.training) for sub in m.modules()]
        if isinstance(self.optimizer, torch.optim.Optimizer):
            self.opt_state = copy.deepcopy(self.optimizer.state_dict())
        return self

    def __exit__(self, *exc):
        with torch.no_grad():
            for t, saved in self.tensors:
                t.data = saved               # same tensor object, its own values and device
        for p, grad in self.grads:
            p.grad = grad
        for sub, training in self.modes:
            sub.training = training
        if isinstance(self.optimizer, torch.optim.Optimizer):
            self.optimizer.load_state_dict(self.opt_state)
        return False


def _batches(loader, batch_size, seed, device, dtype):
    """Yield ``(x, y)`` on ``device`` forever: the loader again and again, or shuffled slices."""
    if isinstance(loader, (tuple, list)) and len(loader) == 2 and all(
            torch.is_tensor(t) or isinstance(t, np.ndarray) for t in loader):
        x, y = (torch.as_tensor(t) for t in loader)
        if len(x) != len(y):
            raise ValueError(f"Invalid data: x has {len(x)} examples, y {len(y)}")
        batch_size = check_positive_int(batch_size, "batch_size")
        for idx in minibatches(len(x), batch_size, seed=seed):
            yield _to(x[idx], dtype, device), y[idx].to(device)
        return
    if not isinstance(loader, Iterable):
        raise ValueError(f"Invalid loader: {type(loader).__name__} (expected an iterable of "
                         "(inputs, targets) batches, or a pair of tensors (x, y))")
    cache = [] if isinstance(loader, Iterator) else None   # a generator is gone after one pass
    for epoch in range(1_000_000):
        count = 0
        for batch in (loader if epoch == 0 or cache is None else cache):
            if cache is not None and epoch == 0:
                cache.append(batch)
            count += 1
            yield _check_pair(batch, count, dtype, device)
        if count == 0:
            if epoch == 0:
                raise ValueError("Invalid loader: it yields no batches (an empty dataset?)")
            return


def _check_pair(batch, index, dtype, device):
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        shape = f" of length {len(batch)}" if hasattr(batch, "__len__") else ""
        raise ValueError(f"Invalid batch {index}: expected a pair (inputs, targets), got "
                         f"{type(batch).__name__}{shape}")
    x, y = (torch.as_tensor(t) if isinstance(t, np.ndarray) else t for t in batch)
    if not (torch.is_tensor(x) and torch.is_tensor(y)):
        raise ValueError(f"Invalid batch {index}: inputs and targets must be tensors, got "
                         f"{type(x).__name__} and {type(y).__name__}")
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"Invalid batch {index}: inputs of shape {tuple(x.shape)} and targets "
                         f"of shape {tuple(y.shape)} (expected the same number ≥ 1 of examples)")
    return _to(x, dtype, device), y.to(device)


def _to(x, dtype, device):
    return x.to(device, dtype) if x.is_floating_point() else x.to(device)


def _first_batch(batches, model, loss_fn):
    """The first batch, checked: the model takes it and ``loss_fn`` gives a finite scalar."""
    x, y = next(batches)
    model.train()
    with torch.no_grad():
        try:
            out = model(x)
        except (RuntimeError, IndexError, TypeError) as err:
            raise ValueError(f"Invalid inputs: the model cannot take a batch of shape "
                             f"{tuple(x.shape)} (torch says: {err})") from None
        if y.is_floating_point() and y.shape != out.shape:
            raise ValueError(f"Invalid targets: shape {tuple(y.shape)}, the model's output has "
                             f"shape {tuple(out.shape)}; floating targets need the same shape")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")        # torch warns on broadcasting targets
                loss = loss_fn(out, y)
        except (RuntimeError, IndexError, ValueError, TypeError, UserWarning) as err:
            raise ValueError(f"Invalid targets: the loss cannot compare the model's output, "
                             f"shape {tuple(out.shape)}, with targets of shape "
                             f"{tuple(y.shape)} ({type(err).__name__}: {err})") from None
    if not (torch.is_tensor(loss) and loss.numel() == 1):
        raise ValueError(f"Invalid loss_fn: it returned {type(loss).__name__} of shape "
                         f"{tuple(getattr(loss, 'shape', ()))} (expected a scalar tensor: "
                         "reduction='mean')")
    if not math.isfinite(loss.item()):
        raise ValueError(f"The loss is {loss.item()} on the first batch, before any step at the "
                         "smallest η: check the model, the inputs (NaN?) and the loss")
    return x, y


def _sharpness(model, loss_fn, batch, sharpness, params, seed):
    """(λ_max on ``batch``, a note) or (nan, why not)."""
    num_params = sum(p.numel() for p in params)
    if sharpness is False or (sharpness == "auto" and num_params > SHARPNESS_MAX_PARAMS):
        return math.nan, ""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            lam, _ = top_eigenvalue(model.train(), loss_fn, *batch, iters=100, tol=1e-4,
                                    seed=seed)
    except RuntimeError:  # a layer without a second derivative
        return math.nan, ""
    return lam, (" (power iteration unsettled: a lower bound)" if caught else "")


def _chain(first, rest):
    yield first
    yield from rest


def _sgd_momentum(opt):
    """γ when ``opt`` is SGD with one momentum for all groups (0: plain), else None."""
    if not isinstance(opt, torch.optim.SGD):
        return None
    gammas = {g["momentum"] for g in opt.param_groups}
    nesterov = any(g.get("nesterov") for g in opt.param_groups)
    return gammas.pop() if len(gammas) == 1 and not nesterov else None
