"""Training a classifier with mini-batch SGD (or another torch optimizer) at learning rate η.

Each step t draws a mini-batch B_t (a fresh random permutation every epoch),
computes the cross-entropy loss L_B(w_t) and applies the optimizer's update;
for plain SGD that is

    w_{t+1} = w_t − η_t ∇L_B(w_t),

where η_t is ``lr``, or ``lr(t)`` when ``lr`` is a schedule (set in the
optimizer's ``param_group['lr']`` before each step, the way
``torch.optim.lr_scheduler`` does it).

Divergence is a result, not a crash: when the loss becomes non-finite or
exceeds ``max_loss``, training stops and ``History.diverged_at`` records the step;
``History.describe()`` says it in words. ``on_step`` lets a chapter watch every
step (gradients, sharpness, ...) without writing its own loop; ``clip_grad_norm``
caps the gradient's norm, ``log_updates`` records how far each step moves each
weight tensor (:mod:`lrcourse.diagnostics`). The loop's
parts (devices, data checks, mini-batches, optimizers, the step itself) live
in :mod:`lrcourse.torchloop`, shared with the range test.

Example:
    >>> from lrcourse.digits import load_digits
    >>> from lrcourse.models import mlp
    >>> history = train(mlp(), load_digits(), lr=0.3, num_epochs=2)   # about a second
    >>> history.test_acc[-1] > 0.85   # 0.90-0.92 over seeds 0-4
    True

Reference: L. Bottou, F. E. Curtis, J. Nocedal, "Optimization Methods for
Large-Scale Machine Learning", SIAM Review 60(2), 2018 (§3, SGD).
"""

import functools
import math
import os
import sys
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from lrcourse.diagnostics import DeadUnits, UpdateRatios
from lrcourse.torchloop import (  # re-exported (see __all__): they lived here before
    OPTIMIZERS,
    WITH_MOMENTUM,
    available_devices,
    check_data,
    check_device,
    check_inputs,
    make_optimizer,
    minibatches,
    train_step,
)
from lrcourse.validate import check_positive, check_positive_int, check_scheduled_lr

# This module's own names are History, Step, train and evaluate; the others come from
# lrcourse.torchloop and stay importable from here.
__all__ = ["OPTIMIZERS", "WITH_MOMENTUM", "History", "Step", "available_devices", "check_data",
           "check_device", "check_inputs", "evaluate", "make_optimizer", "minibatches", "train",
           "train_step"]


@dataclass
class History:
    """What happened during ``train``: per step (``losses``, ``lrs``, ``grad_norms``, the names
    ``lrcourse.descent.Trace`` uses) and per evaluation.

    Example:
        >>> History(losses=[2.3, 7e6], lrs=[3.0, 3.0], diverged_at=1).describe()
        'diverged at step 1 (η = 3)'
    """

    losses: list = field(default_factory=list)      # mini-batch loss at each step, before its update
    lrs: list = field(default_factory=list)         # η used at each step
    grad_norms: list = field(default_factory=list)  # ‖∇L_B(w_t)‖ at each step (nan where it diverged)
    #                                                  before any clipping
    update_ratios: dict = field(default_factory=dict)  # name → ‖w_{t+1} − w_t‖/‖w_t‖ at each step,
    #                                 per named parameter (log_updates=True; nan where it diverged)
    eval_step: list = field(default_factory=list)   # steps done when each evaluation ran (0 = init)
    train_acc: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)    # empty when data has no test split
    test_loss: list = field(default_factory=list)
    dead_fraction: list = field(default_factory=list)  # share of ReLU units dead on the training
    #                                                    set (empty for a model without nn.ReLU)
    diverged_at: int | None = None                  # step whose loss was non-finite or > max_loss
    seconds: float = 0.0                            # wall-clock time of the whole call

    @property
    def diverged(self):
        return self.diverged_at is not None

    def describe(self):
        """How the run ended, in one line: where it diverged, or where it got to.

        >>> History(losses=[2.3, 0.41], lrs=[0.1, 0.1], test_loss=[2.3, 0.35],
        ...         test_acc=[0.1, 0.9]).describe()
        '2 steps at η = 0.1: last mini-batch loss 0.41, test loss 0.35, test accuracy 90.0%'
        >>> History(losses=[2.3, 1.1, 0.7], lrs=[0.2, 0.1, 0.05]).describe()
        '3 steps at η = 0.2 … 0.05: last mini-batch loss 0.7'
        """
        if self.diverged:
            return f"diverged at step {self.diverged_at} (η = {self.lrs[self.diverged_at]:.3g})"
        if not self.losses:
            return "no step taken"
        lrs = f"{self.lrs[0]:.3g}" if min(self.lrs) == max(self.lrs) else (
            f"{self.lrs[0]:.3g} … {self.lrs[-1]:.3g}")
        text = f"{len(self.losses)} steps at η = {lrs}: last mini-batch loss {self.losses[-1]:.3g}"
        if self.test_loss:
            text += f", test loss {self.test_loss[-1]:.3g}, test accuracy {self.test_acc[-1]:.1%}"
        return text


@dataclass(frozen=True)
class Step:
    """What ``train(on_step=...)`` is given at step t: after the backward pass, before the update."""

    step: int                       # t, counting from 0
    loss: float                     # the mini-batch loss L_B(w_t)
    lr: float                       # η_t, the learning rate this update will use
    grad_norm: float                # ‖∇L_B(w_t)‖ over all parameters, before any clipping
    model: torch.nn.Module          # holds w_t; each ``.grad`` holds ∇L_B(w_t) (clipped, if asked)
    optimizer: torch.optim.Optimizer


def train(model, data, *, optimizer="sgd", lr, momentum=0.0, num_epochs=1,
          batch_size=64, seed=None, device="cpu", max_loss=1e6, eval_every=None, progress=None,
          on_step=None, clip_grad_norm=None, log_updates=False):
    """Train ``model`` in place on ``data`` and return its ``History``.

    Args:
        model: a ``torch.nn.Module`` mapping images to logits.
        data: ``(x_train, y_train, x_test, y_test)`` as from ``load_digits``, or
            ``(x_train, y_train)``. Tensors or arrays; images are cast to the
            model's dtype, labels are class indices.
        optimizer: ``"sgd"``, ``"adam"``, ``"adagrad"``, ``"rmsprop"``,
            ``"adadelta"``, or a factory ``f(params, lr=...) -> torch.optim.Optimizer``
            (e.g. ``functools.partial(torch.optim.Adam, betas=(0.9, 0.99))``).
        lr: the learning rate: a float η > 0, or a schedule, a function ``step -> η``
            (steps count from 0, e.g. from ``lrcourse.schedules``) that may reach 0
            but never goes negative; as for the numpy optimizers.
        momentum: γ in [0, 1) for ``"sgd"`` and ``"rmsprop"`` (torch's
            convention: v ← γ v + g, w ← w − η v).
        num_epochs, batch_size: passes over the training set; mini-batch size
            (the last batch of an epoch may be smaller).
        seed: seed of the mini-batch order (the model's init has its own seed); default:
            the course seed (``lrcourse.seeding``).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``, ... (one of
            ``available_devices()``); the model and the data are moved there.
        max_loss: a loss above this counts as divergence.
        eval_every: evaluate every this many steps; default once per epoch.
            There is always an evaluation before the first step and after the last.
        progress: show a tqdm bar? ``None`` (default) decides: off when the
            environment variable ``CI`` is set (CI services set it; set it for
            a book build too), else on in a terminal or a notebook; even then
            the bar appears only for runs longer than 2 s, and vanishes when done.
        on_step: a function called at every step t with a :class:`Step` (t, its
            loss, η_t, ‖∇L_B(w_t)‖, the model and the optimizer), after the
            backward pass and before the update, so it sees w_t and, in each
            parameter's ``.grad``, the gradient the update will use: record
            per-layer gradient norms, the sharpness, ... Its return value is
            ignored. Not called at a step that diverged (no backward pass ran).
        clip_grad_norm: ``None`` (default) or c > 0: before each update, rescale the
            gradient to norm ≤ c (``torch.nn.utils.clip_grad_norm_``), so an SGD step
            moves the weights by at most η c. ``History.grad_norms`` keeps the norms
            before clipping.
        log_updates: record ``History.update_ratios``, ‖w_{t+1} − w_t‖/‖w_t‖ of each
            named parameter at each step (the update really applied, measured around
            the optimizer's step; :mod:`lrcourse.diagnostics`). Off by default: it
            copies the weights at every step.

    The dead-unit fraction is always recorded at each evaluation (``History.dead_fraction``).

    Example: the first layer's gradient norm at each step (``net[1]`` is its first Linear layer).

        >>> from lrcourse.digits import load_digits
        >>> from lrcourse.models import mlp
        >>> net, first = mlp(), []
        >>> history = train(net, load_digits(n_train=640, n_test=10), lr=0.1,
        ...                 on_step=lambda s: first.append(s.model[1].weight.grad.norm().item()))
        >>> len(first) == len(history.grad_norms) == 10 and first[0] < history.grad_norms[0]
        True
    """
    if on_step is not None and not callable(on_step):
        raise ValueError(f"Invalid on_step: {on_step!r} (expected a function of a Step)")
    if not isinstance(log_updates, bool):
        raise ValueError(f"Invalid log_updates: {log_updates!r} (expected True or False)")
    if clip_grad_norm is not None:
        clip_grad_norm = check_positive(clip_grad_norm, "clip_grad_norm")
    schedule = lr if callable(lr) else None
    if schedule is None:
        lr = check_positive(lr, "learning rate")  # torch optimizers refuse η < 0
    else:
        lr = check_scheduled_lr(schedule(0), 0)
    num_epochs = check_positive_int(num_epochs, "num_epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    max_loss = check_positive(max_loss, "max_loss", allow_inf=True)
    device = check_device(device)
    model.to(device)
    x, y, *test = check_data(data, model, device)
    eval_every = math.ceil(len(x) / batch_size) if eval_every is None else (
        check_positive_int(eval_every, "eval_every"))
    opt = make_optimizer(optimizer, model.parameters(), lr, momentum)

    history = History()
    ratios = UpdateRatios(model) if log_updates else None
    if ratios is not None:
        history.update_ratios = {name: [] for name in ratios.names}
    num_steps = num_epochs * math.ceil(len(x) / batch_size)
    start = time.perf_counter()
    _evaluate_into(history, 0, model, x, y, test)
    bar = tqdm(total=num_steps, disable=not _show_progress(progress), delay=2.0, leave=False,
               desc=f"training, η={lr:g}" if schedule is None else "training")

    def blown_up(loss):  # divergence: stop before this step's update
        return not math.isfinite(loss) or loss > max_loss

    model.train()
    for step, idx in zip(range(num_steps), minibatches(len(x), batch_size, seed=seed)):
        if schedule is not None:
            lr = check_scheduled_lr(schedule(step), step)
        report = None if on_step is None and ratios is None else functools.partial(
            _before_update, on_step, ratios, step, lr, model, opt)
        loss, grad_norm = train_step(model, opt, x[idx], y[idx], lr, stop=blown_up,
                                     before_update=report, clip_grad_norm=clip_grad_norm)
        history.losses.append(loss)
        history.lrs.append(lr)
        history.grad_norms.append(math.nan if grad_norm is None else grad_norm)
        if ratios is not None:  # no update at a step that diverged: nan
            measured = dict.fromkeys(ratios.names, math.nan) if grad_norm is None else ratios.after()
            for name, ratio in measured.items():
                history.update_ratios[name].append(ratio)
        if grad_norm is None:
            history.diverged_at = step  # stopped before this update: the weights are already lost
            break
        bar.update()
        if (step + 1) % eval_every == 0 and step + 1 < num_steps:
            _evaluate_into(history, step + 1, model, x, y, test)
    bar.close()
    num_updates = len(history.losses) - (1 if history.diverged else 0)
    _evaluate_into(history, num_updates, model, x, y, test)
    history.seconds = time.perf_counter() - start
    return history


def evaluate(model, x, y, *, batch_size=4096):
    """Return ``(loss, accuracy)`` of ``model`` on images ``x`` with labels ``y``.

    loss = mean cross-entropy, accuracy = share of argmax(logits) == y; the
    model runs in eval mode (restored afterwards), without gradients,
    ``batch_size`` images at a time.
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    x, y = check_data((x, y), model, next(model.parameters()).device, names=("evaluation",))
    return _evaluate(model, x, y, batch_size)


@torch.no_grad()
def _evaluate(model, x, y, batch_size=4096):
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    for i in range(0, len(x), batch_size):
        logits = model(x[i:i + batch_size])
        total_loss += F.cross_entropy(logits, y[i:i + batch_size], reduction="sum").item()
        correct += (logits.argmax(dim=1) == y[i:i + batch_size]).sum().item()
    model.train(was_training)
    return total_loss / len(x), correct / len(x)


def _before_update(on_step, ratios, step, lr, model, optimizer, loss, grad_norm):
    """Between backward and update (``train_step`` gives ``loss, grad_norm``): call ``on_step``
    with the step's record, then copy the weights the update will move."""
    if on_step is not None:
        on_step(Step(step, loss, lr, grad_norm, model, optimizer))
    if ratios is not None:
        ratios.before()


def _evaluate_into(history, step, model, x, y, test):
    history.eval_step.append(step)
    with DeadUnits(model) as dead:  # rides on the pass over the training set
        history.train_acc.append(_evaluate(model, x, y)[1])
    if dead.num_units:
        history.dead_fraction.append(dead.fraction)
    if test:
        test_loss, test_acc = _evaluate(model, *test)
        history.test_loss.append(test_loss)
        history.test_acc.append(test_acc)


def _show_progress(progress):
    if progress is not None:
        return bool(progress)
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        return False
    shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    in_notebook = type(shell).__name__ == "ZMQInteractiveShell"
    return in_notebook or sys.stderr.isatty()
