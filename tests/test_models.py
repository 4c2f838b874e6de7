"""lrcourse.models: shapes, seeded init from a local generator, validation."""

import math

import pytest
import torch
from torch import nn

from lrcourse.models import linear_model, mlp, small_cnn


@pytest.mark.parametrize("make", [mlp, small_cnn, linear_model])
@pytest.mark.parametrize("shape", [(5, 784), (5, 28, 28), (5, 1, 28, 28)])
def test_every_image_layout_gives_ten_logits(make, shape):
    assert make()(torch.rand(shape)).shape == (5, 10)


def test_sizes_and_parameter_counts():
    assert sum(p.numel() for p in mlp().parameters()) == 784 * 36 + 36 + 36 * 10 + 10
    net = mlp((784, 20, 15, 10), activation="tanh")
    assert [m.out_features for m in net if isinstance(m, nn.Linear)] == [20, 15, 10]
    assert sum(isinstance(m, nn.Tanh) for m in net) == 2
    assert sum(p.numel() for p in small_cnn().parameters()) < 15_000


@pytest.mark.parametrize("make", [mlp, small_cnn])
def test_init_is_seeded_and_leaves_global_rng_alone(make):
    state = torch.random.get_rng_state()
    a, b, c = make(seed=3), make(seed=3), make(seed=4)
    assert torch.equal(state, torch.random.get_rng_state())
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb) and not torch.equal(pa, pc)


def test_init_follows_torch_default_bounds():
    for layer in mlp():
        if isinstance(layer, nn.Linear):
            bound = 1 / math.sqrt(layer.in_features)
            assert layer.weight.abs().max() <= bound and layer.bias.abs().max() <= bound
            assert layer.weight.abs().max() > 0.9 * bound  # uniform, filling the interval


@pytest.mark.parametrize("call, shown", [
    (lambda: mlp((784,)), "sizes"), (lambda: mlp("784"), "sizes"),
    (lambda: mlp((784, 0, 10)), "0"), (lambda: mlp((784, -3, 10)), "-3"),
    (lambda: mlp(activation="swish"), "swish"), (lambda: mlp(seed=1.5), "seed: 1.5"),
    (lambda: small_cnn(channels=0), "channels: 0"), (lambda: small_cnn(kernel_size=29), "29"),
])
def test_bad_arguments_raise_value_error(call, shown):
    with pytest.raises(ValueError, match=shown):
        call()
