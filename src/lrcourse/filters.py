"""First-layer filters: what a bad learning rate does to the weights, seen and measured.

In the 784-36-10 MLP each hidden unit j computes relu(w_jᵀx + b_j); its
weight row w_j, reshaped to 28×28, is the pattern the unit looks for — its
"filter". Trained with plain SGD at three learning rates from the same
initialization, the filters tell three stories (cs231n, "Neural Networks
Part 3": noisy first-layer features are a symptom of an unconverged net):

* η too low: the weights hardly moved; the filters still look like the
  random initialization (noise), and the net is far from trained;
* η good: smooth, diverse stroke detectors and the best test accuracy;
* η too high: a few huge early steps push most units to w_jᵀx + b_j < 0 on
  every image, where ReLU's gradient is 0: they die and never recover. What
  is left are smooth, near-duplicate blobs, and the accuracy is at chance.

So noisy filters reveal only the too-low side. The metrics put numbers on
the pictures:

* ``smoothness``: correlation between horizontally/vertically neighbouring
  weights of a filter (≈ 0 for noise, towards 1 for smooth strokes);
* ``redundancy``: mean |cos| between two distinct filters (near-duplicates → 1);
* ``dead_fraction``: share of hidden units that are inactive on every image;
* ``distance_from_init``: ‖W − W₀‖ / ‖W₀‖ for the first-layer weights.

Example:
    >>> runs = filters_experiment(n_train=2000)     # η = 0.003, 0.3, 3; 2000 images: < 1 s
    >>> runs[3.0].metrics["dead_fraction"] > 0.5 > runs[0.3].metrics["dead_fraction"]
    True
    >>> {lr: round(run.metrics["test_acc"], 2) for lr, run in runs.items()}  # doctest: +SKIP
    >>> plot_filters(runs[0.3].filters)                                        # doctest: +SKIP

Reference: A. Karpathy, CS231n notes, "Neural Networks Part 3: Learning and
Evaluation", §"First-layer Visualizations"; for dying ReLUs, A. L. Maas,
A. Y. Hannun, A. Y. Ng, "Rectifier Nonlinearities Improve Neural Network
Acoustic Models", ICML 2013 workshop.
"""

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from lrcourse.digits import load_digits
from lrcourse.models import mlp
from lrcourse.seeding import resolve_seed
from lrcourse.torchloop import check_device, check_inputs
from lrcourse.train import History, evaluate, train
from lrcourse.validate import check_array, check_positive, check_positive_int


def first_layer_filters(model):
    """The first layer's weights as images: (units, 28, 28) for an MLP, (channels, k, k) for a CNN."""
    layer = _first_layer(model)
    weight = layer.weight.detach().cpu().double().numpy()
    if isinstance(layer, nn.Linear):
        side = math.isqrt(layer.in_features)
        if side * side != layer.in_features:
            raise ValueError(f"Invalid model: its first layer takes {layer.in_features} inputs, "
                             "not a square image")
        return weight.reshape(-1, side, side)
    if layer.in_channels != 1:
        raise ValueError(f"Invalid model: its first convolution takes {layer.in_channels} channels")
    return weight[:, 0]


def smoothness(filters):
    """Mean over filters of the correlation between each weight and its right/lower neighbour."""
    f = check_array(filters, "filters", ndim=3)
    f = f - f.mean(axis=(1, 2), keepdims=True)
    a = np.concatenate([f[:, :, :-1].reshape(len(f), -1), f[:, :-1, :].reshape(len(f), -1)], 1)
    b = np.concatenate([f[:, :, 1:].reshape(len(f), -1), f[:, 1:, :].reshape(len(f), -1)], 1)
    corr = (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))
    return float(np.mean(corr))


def redundancy(filters):
    """Mean |cos θ| over the pairs of distinct filters (0: all orthogonal, 1: all parallel)."""
    f = check_array(filters, "filters", ndim=3)
    if len(f) < 2:
        raise ValueError(f"Invalid filters: redundancy needs at least 2 filters, got {len(f)}")
    unit = f.reshape(len(f), -1)
    unit = unit / np.linalg.norm(unit, axis=1, keepdims=True)
    cos = np.abs(unit @ unit.T)
    return float((cos.sum() - np.trace(cos)) / (len(f) * (len(f) - 1)))


@torch.no_grad()
def dead_fraction(model, x):
    """Share of first-layer units whose pre-activation is ≤ 0 on every image of ``x``.

    Such a ReLU unit outputs 0 and gets zero gradient on all of ``x``: it is
    dead, and SGD on this data cannot revive it.
    """
    layer = _first_layer(model)
    x = check_inputs(model, torch.as_tensor(x).to(layer.weight), "x")
    out = []
    hook = layer.register_forward_hook(lambda module, inputs, output: out.append(output))
    was_training = model.training
    try:
        model.eval()(x)
    finally:
        hook.remove()
        model.train(was_training)
    z = out[0].transpose(0, 1).reshape(out[0].shape[1], -1)  # (units, images × positions)
    return float((z <= 0).all(dim=1).double().mean())


def distance_from_init(model, model0):
    """‖W − W₀‖ / ‖W₀‖ (Frobenius norms) between the first-layer weights of two models."""
    w, w0 = _first_layer(model).weight.detach(), _first_layer(model0).weight.detach()
    if w.shape != w0.shape:
        raise ValueError(f"Invalid models: first layers of shapes {tuple(w.shape)} and "
                         f"{tuple(w0.shape)}")
    return float((w - w0.to(w)).norm() / w0.norm())


def filter_metrics(model, model0, x):
    """All four metrics of ``model``'s first layer, as a dict (``model0``: its initialization)."""
    filters = first_layer_filters(model)
    return {
        "smoothness": smoothness(filters),
        "redundancy": redundancy(filters),
        "dead_fraction": dead_fraction(model, x),
        "distance_from_init": distance_from_init(model, model0),
    }


def tile_filters(filters, ncols=None, pad=1):
    """One 2-D image of all filters on a grid, each scaled to [−1, 1] by its max |w|; NaN gaps."""
    f = check_array(filters, "filters", ndim=3)
    n, h, w = f.shape
    ncols = math.ceil(math.sqrt(n)) if ncols is None else check_positive_int(ncols, "ncols")
    nrows = math.ceil(n / ncols)
    scale = np.abs(f).max(axis=(1, 2), keepdims=True)
    f = f / np.where(scale > 0, scale, 1)  # symmetric around 0: 0 stays mid-grey
    grid = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), np.nan)
    for k in range(n):
        r, c = divmod(k, ncols)
        grid[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = f[k]
    return grid


def plot_filters(filters, ax=None, *, ncols=None, cmap="gray"):
    """Draw the filters as one tiled image into ``ax`` and return ``ax``.

    One ``imshow`` for all filters (much faster than a subplot each). Called
    again on the same axes with the same layout, it only swaps the pixels,
    which keeps a live slider fast.
    """
    grid = tile_filters(filters, ncols)
    ax = ax if ax is not None else plt.gca()
    if len(ax.images) == 1 and ax.images[0].get_array().shape == grid.shape:
        ax.images[0].set_data(grid)
        return ax
    ax.clear()
    colors = plt.get_cmap(cmap).with_extremes(bad="white")  # gaps between filters
    ax.imshow(grid, cmap=colors, vmin=-1, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    return ax


@dataclass
class FilterRun:
    """One η of ``filters_experiment``: the trained model, its filters, metrics and history."""

    lr: float
    model: nn.Module
    filters: np.ndarray  # (36, 28, 28)
    metrics: dict        # the four filter metrics + "test_acc"
    history: History


def filters_experiment(lrs=(0.003, 0.3, 3.0), *, num_epochs=2, n_train=20000, seed=None,
                       device="cpu"):
    """Train the 784-36-10 ReLU MLP with plain SGD (batch 64) once per η; return ``{η: FilterRun}``.

    Every run starts from the same initialization (``mlp(seed=seed)``) and sees
    the same mini-batches, so η is the only difference.
    """
    lrs = [check_positive(lr, "learning rate") for lr in lrs]
    if not lrs:
        raise ValueError(f"Invalid lrs: {lrs!r} (expected at least one learning rate)")
    seed, device = resolve_seed(seed), check_device(device)
    data = load_digits(n_train=n_train)
    model0 = mlp(seed=seed)
    runs = {}
    for lr in lrs:
        model = mlp(seed=seed)
        history = train(model, data, lr=lr, num_epochs=num_epochs, batch_size=64, seed=seed,
                        device=device)
        model.cpu()
        metrics = filter_metrics(model, model0, data[0])
        metrics["test_acc"] = evaluate(model, data[2], data[3])[1]
        runs[lr] = FilterRun(lr, model, first_layer_filters(model), metrics, history)
    return runs


def _first_layer(model):
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            return module
    raise ValueError(f"Invalid model: {type(model).__name__} has no Linear or Conv2d layer")
