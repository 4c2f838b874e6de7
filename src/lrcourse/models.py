"""Small image classifiers for the digits: a multilayer perceptron, a tiny CNN, softmax regression.

Every model maps a batch of digit images, as (N, 784), (N, 28, 28) or
(N, 1, 28, 28), to (N, 10) logits. Initialization is deterministic: the
weights are drawn from a local ``torch.Generator`` seeded with ``seed``, never
from torch's global random state (which these functions leave untouched). The
distribution is torch's default for ``nn.Linear`` and ``nn.Conv2d``:
weights and biases uniform in ±1/√fan_in, where fan_in is the number of inputs
of one unit.

Example:
    >>> from lrcourse.models import mlp
    >>> net = mlp((784, 36, 10), seed=0)   # 784 pixels → 36 hidden ReLU units → 10 logits
    >>> sum(p.numel() for p in net.parameters())
    28630
"""

import itertools
import math

import torch
from torch import nn

from lrcourse.seeding import resolve_seed
from lrcourse.validate import check_positive_int

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def mlp(sizes=(784, 36, 10), *, seed=None, activation="relu"):
    """A fully connected network ``sizes[0] → sizes[1] → … → sizes[-1]``.

    Each hidden layer computes h = act(W x + b); the last layer gives logits.
    The rows of the first W are the network's "filters": one 28×28 image per
    hidden unit when ``sizes[0] == 784`` (see ``lrcourse.filters``).

    Args:
        sizes: layer widths, inputs first; at least two.
        seed: seed of the initialization (default: the course seed, ``lrcourse.seeding``).
        activation: ``"relu"``, ``"tanh"`` or ``"sigmoid"``.
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) < 2:
        raise ValueError(f"Invalid sizes: {sizes!r} (expected at least two layer widths)")
    sizes = [check_positive_int(n, f"layer width in sizes={tuple(sizes)}") for n in sizes]
    if activation not in ACTIVATIONS:
        raise ValueError(f"Invalid activation: {activation!r} (expected one of {list(ACTIVATIONS)})")
    layers = [nn.Flatten()]  # (N, 28, 28) or (N, 784) → (N, 784)
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out, device="meta"))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return _init(nn.Sequential(*layers), seed)


def small_cnn(*, seed=None, channels=8, kernel_size=5):
    """A tiny convolutional network, fast on a CPU (≈12k parameters by default).

    ``channels`` filters of ``kernel_size``×``kernel_size`` slide over the
    image with stride 2 → ReLU → linear to 10 logits. With the defaults:
    (N, 1, 28, 28) → (N, 8, 12, 12) → (N, 10). The stride replaces a pooling
    layer: a quarter of the arithmetic, a few points of accuracy.
    """
    channels = check_positive_int(channels, "channels")
    kernel_size = check_positive_int(kernel_size, "kernel_size")
    if kernel_size > 28:
        raise ValueError(f"Invalid kernel_size: {kernel_size} (images are 28×28)")
    side = (28 - kernel_size) // 2 + 1  # output side of the valid, stride-2 convolution
    net = nn.Sequential(
        nn.Flatten(),                      # any image layout → (N, 784)
        nn.Unflatten(1, (1, 28, 28)),      # → (N, 1, 28, 28)
        nn.Conv2d(1, channels, kernel_size, stride=2, device="meta"),
        nn.ReLU(),                         # (N, channels, side, side)
        nn.Flatten(),                      # → (N, channels · side²)
        nn.Linear(channels * side * side, 10, device="meta"),
    )
    return _init(net, seed)


def linear_model(num_inputs=784, num_classes=10, *, seed=None):
    """Softmax regression: logits = W x + b. Its cross-entropy loss is convex in (W, b)."""
    return mlp((num_inputs, num_classes), seed=seed)


def _init(net, seed):
    """Materialize the meta-device layers and draw every weight and bias from ``seed`` (None: the course seed)."""
    generator = torch.Generator().manual_seed(resolve_seed(seed))
    net = net.to_empty(device="cpu")
    for layer in net:
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            fan_in = layer.weight[0].numel()  # inputs of one unit
            bound = 1 / math.sqrt(fan_in)
            with torch.no_grad():
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)
    return net
