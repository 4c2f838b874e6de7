"""The torch training loop's parts, shared by ``train`` and ``lr_range_test``.

A loop over mini-batches needs the same few things whatever it is for: a
device that exists (:func:`check_device`), data checked against the model
(:func:`check_data`), a reproducible mini-batch order (:func:`minibatches`),
an optimizer built by name (:func:`make_optimizer`) and one step
(:func:`train_step`):

    ℓ_t = L_B(w_t)                  forward on the mini-batch B_t (cross-entropy)
    g_t = ∇L_B(w_t)                 backward; the step also reports ‖g_t‖
    w_{t+1} = optimizer(w_t, g_t)   with η_t set in every param group first

``train`` runs it for a number of epochs; ``lr_range_test`` for one sweep of η.

Example:
    >>> import torch
    >>> from lrcourse.digits import load_digits
    >>> from lrcourse.models import mlp
    >>> model = mlp()
    >>> x, y, *_ = check_data(load_digits(n_train=256, n_test=10), model, check_device("cpu"))
    >>> opt = make_optimizer("sgd", model.parameters(), lr=0.1)
    >>> idx = next(minibatches(len(x), 64))
    >>> loss, grad_norm = train_step(model, opt, x[idx], y[idx], lr=0.1)
    >>> 2.0 < loss < 2.6 and grad_norm > 0          # an untrained net: loss ≈ log 10
    True
"""

import numpy as np
import torch
import torch.nn.functional as F

from lrcourse.seeding import resolve_seed
from lrcourse.validate import check_in_range

OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adadelta": torch.optim.Adadelta,
}
WITH_MOMENTUM = {"sgd", "rmsprop"}  # the torch optimizers that take a ``momentum`` argument


def train_step(model, optimizer, x, y, lr, *, stop=None, before_update=None,
               clip_grad_norm=None):
    """One step on the mini-batch ``(x, y)`` at η = ``lr``; returns ``(loss, grad_norm)``.

    ``loss`` is the mini-batch cross-entropy at the weights before the update,
    ``grad_norm`` the Euclidean norm of the whole gradient (all parameters
    together). ``lr`` is written into every param group first, the way
    ``torch.optim.lr_scheduler`` does.

    ``clip_grad_norm = c`` rescales the gradient to norm ≤ c before the update
    (``torch.nn.utils.clip_grad_norm_``: g ← g · min(1, c / (‖g‖ + 10⁻⁶)));
    ``grad_norm`` is still the norm before clipping.

    ``stop(loss) -> bool`` is asked right after the forward pass: when it says
    True (the loss has blown up), nothing is updated, there is no backward
    pass and ``grad_norm`` is None. ``before_update(loss, grad_norm)`` is
    called after the backward pass (and the clipping), before the optimizer's
    update: the model still holds w_t and each parameter's ``.grad`` holds the
    g_t the update will use.
    """
    for group in optimizer.param_groups:
        group["lr"] = lr
    loss = F.cross_entropy(model(x), y)
    value = loss.item()
    if stop is not None and stop(value):
        return value, None  # the weights are already lost: do not update them
    optimizer.zero_grad()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    grad_norm = torch.nn.utils.get_total_norm(grads).item() if grads else 0.0
    if clip_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.grad is not None],
                                       clip_grad_norm)
    if before_update is not None:
        before_update(value, grad_norm)
    optimizer.step()
    return value, grad_norm


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
