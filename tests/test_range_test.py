"""lrcourse.range_test against torch-lr-finder, plus its contract: it only looks."""

import math

import matplotlib
import numpy as np
import pytest
import torch

from lrcourse.digits import load_digits
from lrcourse.models import mlp
from lrcourse.range_test import lr_range_test, suggestions
from lrcourse.train import minibatches

matplotlib.use("Agg")
import matplotlib.pyplot as plt


@pytest.fixture(scope="module")
def data():
    return load_digits(n_train=6400, n_test=100)


def test_suggestion_agrees_with_torch_lr_finder(data):
    from torch_lr_finder import LRFinder

    x, y = data[:2]
    ours = lr_range_test(mlp(seed=0), data, start_lr=1e-7, end_lr=10, num_steps=100,
                         smooth=0.05, diverge_factor=5, batch_size=64, seed=0)
    # the same model, the same mini-batches in the same order, the same sweep and smoothing
    batches = [idx.tolist() for _, idx in zip(range(100), minibatches(len(x), 64, seed=0))]
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y),
                                         batch_sampler=batches)
    model = mlp(seed=0)
    finder = LRFinder(model, torch.optim.SGD(model.parameters(), lr=1e-7),
                      torch.nn.CrossEntropyLoss())
    finder.range_test(loader, start_lr=1e-7, end_lr=10, num_iter=100, step_mode="exp",
                      smooth_f=0.05, diverge_th=5)
    fig, ax = plt.subplots()  # given an axes, plot() shows nothing
    _, theirs = finder.plot(ax=ax, suggest_lr=True)  # steepest gradient, skip 10 + 5 points
    plt.close(fig)
    print(f"\nrange test, steepest-slope suggestion: lrcourse {ours.suggestion_steepest:.4g}, "
          f"torch-lr-finder {theirs:.4g}; lrcourse min/10: {ours.suggestion_min_over_10:.4g}")
    assert theirs / 2 <= ours.suggestion_steepest <= 2 * theirs
    np.testing.assert_allclose(ours.lrs, finder.history["lr"], rtol=1e-9)
    np.testing.assert_allclose(ours.smoothed, finder.history["loss"], rtol=1e-5)


def test_restores_the_weights_and_mode(data):
    model = mlp(seed=2)
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = lr_range_test(model, data, num_steps=30, start_lr=1e-3, end_lr=1.0)
    assert result.losses[-1] < result.losses[0]  # it did train along the way
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not model.training


def test_stops_when_the_loss_blows_up(data):
    result = lr_range_test(mlp(), data, start_lr=1e-3, end_lr=1e4, num_steps=100)
    i = result.diverged_at
    assert i is not None and len(result.lrs) == len(result.losses) == len(result.smoothed) == i + 1
    assert (not math.isfinite(result.losses[i])
            or result.smoothed[i] > 5 * np.nanmin(result.smoothed[:i]))
    assert result.lrs[-1] < 1e4 and math.isfinite(result.suggestion_steepest)


def test_suggestions_on_a_known_curve():
    lrs = np.logspace(-5, 1, 61)
    smoothed = 2 - np.tanh(np.log10(lrs) + 2) + np.maximum(0, np.log10(lrs)) ** 2
    steepest, min_over_10 = suggestions(lrs, smoothed)
    assert steepest == pytest.approx(1e-2)  # the inflection point of −tanh
    lowest = lrs[np.argmin(smoothed)]
    assert min_over_10 == pytest.approx(lowest / 10)
    assert all(math.isnan(s) for s in suggestions(lrs[:1], smoothed[:1]))


def test_plot_marks_both_suggestions(data):
    result = lr_range_test(mlp(), data, num_steps=40, start_lr=1e-4, end_lr=10)
    fig, ax = plt.subplots()
    assert result.plot(ax) is ax
    assert ax.get_xscale() == "log" and len(ax.get_lines()) == 4  # raw, smoothed, 2 markers
    plt.close(fig)


@pytest.mark.parametrize("kwargs, shown", [
    ({"start_lr": 0}, "start_lr: 0"), ({"end_lr": -1}, "end_lr: -1"),
    ({"start_lr": 1.0, "end_lr": 0.1}, "end_lr: 0.1"), ({"end_lr": math.inf}, "end_lr: inf"),
    ({"num_steps": 1}, "num_steps: 1"), ({"num_steps": 0}, "num_steps: 0"),
    ({"smooth": 0}, "smooth: 0"), ({"smooth": 1.5}, "smooth: 1.5"),
    ({"diverge_factor": 1}, "diverge_factor: 1"), ({"batch_size": 0}, "batch_size: 0"),
    ({"device": "cuda:99"}, "device"), ({"skip_start": -1}, "skip_start: -1"),
    ({"skip_end": 1.5}, "skip_end: 1.5"), ({"seed": -2}, "seed: -2"),
])
def test_bad_arguments_raise_value_error(data, kwargs, shown):
    with pytest.raises(ValueError, match=shown):
        lr_range_test(mlp(), data, **kwargs)


def test_bad_data_raises_value_error(data):
    with pytest.raises(ValueError, match="empty"):
        lr_range_test(mlp(), (data[0][:0], data[1][:0]))
    with pytest.raises(ValueError, match=r"Invalid train images: shape \(6400, 100\) \(the model "
                                         r"cannot take it: its first layer takes 784 features"):
        lr_range_test(mlp(), (data[0][:, :100], data[1]))


@pytest.mark.parametrize("kwargs, message", [
    ({"start_lr": -1e-7}, "Invalid start_lr: -1e-07 (expected a finite number > 0)"),
    ({"end_lr": -1}, "Invalid end_lr: -1 (expected a finite number > 0)"),
    ({"device": "mps"}, "Invalid device: 'mps' (not available on this machine, which has ['cpu'"),
])
def test_messages_name_the_argument_and_what_it_expects(data, kwargs, message):
    if kwargs.get("device") == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has mps")
    with pytest.raises(ValueError) as info:
        lr_range_test(mlp(), data, **kwargs)
    assert str(info.value).startswith(message)
