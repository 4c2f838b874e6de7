"""Training a classifier with mini-batch SGD (or another torch optimizer) at learning rate η.

Each step t draws a mini-batch B_t (a fresh random permutation every epoch),
computes the cross-entropy loss L_B(w_t) and applies the optimizer's update;
for plain SGD that is

    w_{t+1} = w_t − η_t ∇L_B(w_t),

where η_t is ``lr``, or ``schedule(t)`` when a schedule is given (set in the
optimizer's ``param_group['lr']`` before each step, the way
``torch.optim.lr_scheduler`` does it).

Divergence is a result, not a crash: when the loss becomes non-finite or
exceeds ``max_loss``, training stops and ``History.diverged_at`` records the step.

Example:
    >>> from lrcourse.digits import load_digits
    >>> from lrcourse.models import mlp
    >>> history = train(mlp(), load_digits(), lr=0.3, num_epochs=2)   # about a second
    >>> history.test_acc[-1] > 0.9
    True

Reference: L. Bottou, F. E. Curtis, J. Nocedal, "Optimization Methods for
Large-Scale Machine Learning", SIAM Review 60(2), 2018 (§3, SGD).
"""

import math
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from lrcourse.seeding import resolve_seed
from lrcourse.validate import (
    check_in_range,
    check_positive,
    check_positive_int,
    check_scheduled_lr,
)

OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adadelta": torch.optim.Adadelta,
}
WITH_MOMENTUM = {"sgd", "rmsprop"}  # the torch optimizers that take a ``momentum`` argument


@dataclass
class History:
    """What happened during ``train``: per step (``loss``, ``lr``) and per evaluation."""

    loss: list = field(default_factory=list)        # mini-batch loss at each step, before its update
    lr: list = field(default_factory=list)          # η used at each step
    eval_step: list = field(default_factory=list)   # steps done when each evaluation ran (0 = init)
    train_acc: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)    # empty when data has no test split
    test_loss: list = field(default_factory=list)
    diverged_at: int | None = None                  # step whose loss was non-finite or > max_loss
    seconds: float = 0.0                            # wall-clock time of the whole call

    @property
    def diverged(self):
        return self.diverged_at is not None


def train(model, data, *, optimizer="sgd", lr=None, schedule=None, momentum=0.0, num_epochs=1,
          batch_size=64, seed=None, device="cpu", max_loss=1e6, eval_every=None, progress=None):
    """Train ``model`` in place on ``data`` and return its ``History``.

    Args:
        model: a ``torch.nn.Module`` mapping images to logits.
        data: ``(x_train, y_train, x_test, y_test)`` as from ``load_digits``, or
            ``(x_train, y_train)``. Tensors or arrays; images are cast to the
            model's dtype, labels are class indices.
        optimizer: ``"sgd"``, ``"adam"``, ``"adagrad"``, ``"rmsprop"``,
            ``"adadelta"``, or a factory ``f(params, lr=...) -> torch.optim.Optimizer``
            (e.g. ``functools.partial(torch.optim.Adam, betas=(0.9, 0.99))``).
        lr: the learning rate η > 0. Give ``lr`` or ``schedule``, not both.
        schedule: a function ``step -> η`` (steps count from 0), e.g. from
            ``lrcourse.schedules``; it may reach 0 but never go negative.
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
    """
    if (lr is None) == (schedule is None):
        raise ValueError(f"Invalid learning rate: {lr=}, {schedule=} (give lr or schedule, not both)")
    if schedule is not None and not callable(schedule):
        raise ValueError(f"Invalid schedule: {schedule!r} (expected a function step -> lr)")
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
    num_steps = num_epochs * math.ceil(len(x) / batch_size)
    start = time.perf_counter()
    _evaluate_into(history, 0, model, x, y, test)
    bar = tqdm(total=num_steps, disable=not _show_progress(progress), delay=2.0, leave=False,
               desc=f"training, η={lr:g}" if schedule is None else "training")
    model.train()
    for step, idx in zip(range(num_steps), minibatches(len(x), batch_size, seed=seed)):
        if schedule is not None:
            lr = check_scheduled_lr(schedule(step), step)
            for group in opt.param_groups:
                group["lr"] = lr
        loss = F.cross_entropy(model(x[idx]), y[idx])
        history.loss.append(loss.item())
        history.lr.append(lr)
        if not math.isfinite(history.loss[-1]) or history.loss[-1] > max_loss:
            history.diverged_at = step  # stop before this update: the weights are already lost
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        bar.update()
        if (step + 1) % eval_every == 0 and step + 1 < num_steps:
            _evaluate_into(history, step + 1, model, x, y, test)
    bar.close()
    num_updates = len(history.loss) - (1 if history.diverged else 0)
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


def minibatches(num_examples, batch_size, *, seed=None):
    """Yield index tensors of mini-batches forever: epoch after epoch, each a fresh permutation.

    The order depends only on ``seed`` (a local ``torch.Generator``), so two
    runs see the same batches.
    """
    generator = torch.Generator().manual_seed(resolve_seed(seed))
    while True:
        order = torch.randperm(num_examples, generator=generator)
        yield from order.split(batch_size)


def make_optimizer(optimizer, params, lr, momentum=0.0):
    """Build a torch optimizer from a name in ``OPTIMIZERS`` or a factory ``f(params, lr=...)``."""
    momentum = check_in_range(momentum, "momentum", 0.0, 1.0)
    if callable(optimizer):
        if momentum:
            raise ValueError(f"Invalid momentum: {momentum} (set it inside the optimizer factory)")
        return optimizer(params, lr=lr)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"Invalid optimizer: {optimizer!r} (expected one of {list(OPTIMIZERS)} "
                         "or a factory)")
    if optimizer in WITH_MOMENTUM:
        return OPTIMIZERS[optimizer](params, lr=lr, momentum=momentum)
    if momentum:
        raise ValueError(f"Invalid momentum: {momentum} ({optimizer!r} takes no momentum; "
                         f"only {sorted(WITH_MOMENTUM)} do)")
    return OPTIMIZERS[optimizer](params, lr=lr)


def available_devices():
    """The devices this machine can compute on: ``'cpu'``, ``'cuda:0'``, …, ``'mps:0'``, …"""
    devices = ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        devices.append("mps:0")
    if hasattr(torch, "xpu") and torch.xpu.is_available():
        devices += [f"xpu:{i}" for i in range(torch.xpu.device_count())]
    return devices


def check_device(device):
    """Return ``device`` as a ``torch.device`` that exists on this machine.

    ``"cuda"`` means ``"cuda:0"``, ``"mps"`` means ``"mps:0"``. Any other name, a
    device type this machine lacks (``"mps"`` on Linux, ``"xla"``) or an index
    beyond its devices is refused here, before torch would fail deep inside a run.
    """
    shown = str(device) if isinstance(device, torch.device) else device
    available = available_devices()
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"Invalid device: {shown!r} (not a device name; this machine has "
                         f"{available})") from None
    if parsed.type != "cpu" and f"{parsed.type}:{parsed.index or 0}" not in available:
        raise ValueError(f"Invalid device: {shown!r} (not available on this machine, which has "
                         f"{available})")
    return parsed


def check_inputs(model, x, name="x"):
    """Return ``x`` if ``model`` can take it: a non-empty batch whose examples fit the first layer.

    One example goes through the model (in eval mode, without gradients)
    before any real work, so a wrong feature width is a ``ValueError`` naming
    both shapes instead of torch's ``mat1 and mat2 shapes cannot be multiplied``.
    """
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"Invalid {name}: shape {tuple(x.shape)} (expected a non-empty batch)")
    try:
        _probe(model, x)
    except (RuntimeError, IndexError) as err:
        raise ValueError(f"Invalid {name}: shape {tuple(x.shape)} (the model cannot take it"
                         f"{_first_layer_takes(model)}; torch says: {err})") from None
    return x


@torch.no_grad()
def _probe(model, x):
    """The model's output on the first example of ``x``, in eval mode (its mode is restored)."""
    was_training = model.training
    try:
        return model.eval()(x[:1])
    finally:
        model.train(was_training)


def _first_layer_takes(model):
    """What the first Linear or Conv2d layer of ``model`` takes, for an error message."""
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            return f": its first layer takes {module.in_features} features per example"
        if isinstance(module, torch.nn.Conv2d):
            return f": its first layer takes images with {module.in_channels} channels"
    return ""


def check_data(data, model, device, names=("train", "test")):
    """Return the tensors of ``data`` on ``device``, checked against each other and ``model``."""
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 4):
        raise ValueError(f"Invalid data: expected (x_train, y_train[, x_test, y_test]), got "
                         f"{type(data).__name__} of length {len(data) if hasattr(data, '__len__') else '?'}")
    dtype = next(model.parameters()).dtype
    out = []
    for name, x, y in zip(names, data[::2], data[1::2]):
        x, y = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x), torch.as_tensor(y)
        if len(x) == 0:
            raise ValueError(f"Invalid data: the {name} images are empty, shape {tuple(x.shape)}")
        if not x.is_floating_point():
            raise ValueError(f"Invalid data: {name} images have dtype {x.dtype}; scale them to "
                             "floats first (load_digits does)")
        if y.ndim != 1 or len(y) != len(x) or y.is_floating_point():
            raise ValueError(f"Invalid data: {name} labels must be integers of shape ({len(x)},), "
                             f"got dtype {y.dtype} and shape {tuple(y.shape)}")
        if not torch.isfinite(x).all():
            raise ValueError(f"Invalid data: the {name} images contain NaN or infinity")
        x, y = x.to(device, dtype), y.to(device, torch.int64)
        num_classes = _probe(model, check_inputs(model, x, f"{name} images")).shape[-1]
        if y.min() < 0 or y.max() >= num_classes:
            raise ValueError(f"Invalid data: {name} labels span {y.min().item()}..{y.max().item()}, "
                             f"the model has {num_classes} classes")
        out += [x, y]
    return out


def _evaluate_into(history, step, model, x, y, test):
    history.eval_step.append(step)
    history.train_acc.append(_evaluate(model, x, y)[1])
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
