"""lrcourse.filters: the three-η experiment separates its cases; each metric on known inputs."""

import matplotlib
import numpy as np
import pytest
import torch

from lrcourse.digits import load_digits
from lrcourse.filters import (
    dead_fraction,
    distance_from_init,
    filter_metrics,
    filters_experiment,
    first_layer_filters,
    plot_filters,
    redundancy,
    smoothness,
    tile_filters,
)
from lrcourse.models import mlp, small_cnn
from lrcourse.train import evaluate
from lrcourse.widgets import GROSS

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def test_three_learning_rates_tell_three_stories():
    runs = filters_experiment(lrs=(0.003, 0.3, 3.0), num_epochs=2, n_train=20000, seed=0)
    low, good, high = runs.values()
    seconds = sum(run.history.seconds for run in runs.values())
    x, _, x_test, y_test = load_digits()
    init = filter_metrics(mlp(seed=0), mlp(seed=0), x)
    init["test_acc"] = evaluate(mlp(seed=0), x_test, y_test)[1]
    names = ["test_acc", "smoothness", "redundancy", "dead_fraction", "distance_from_init"]
    print(f"\nfilters experiment: {seconds:.2f} s of training for 3 × 2 epochs "
          f"({', '.join(f'{run.history.seconds:.2f}' for run in runs.values())} s)")
    print(f"{'η':>8} " + " ".join(f"{name:>18}" for name in names))
    print(f"{'init':>8} " + " ".join(f"{init[name]:18.3f}" for name in names))
    for lr, run in runs.items():
        print(f"{lr:>8g} " + " ".join(f"{run.metrics[name]:18.3f}" for name in names))

    assert seconds < GROSS * 10, f"{seconds:.1f} s of training, over {GROSS}× the 10 s budget"
    assert all(run.filters.shape == (36, 28, 28) for run in runs.values())
    # good η: the best accuracy, smooth and diverse filters, no dead units
    assert good.metrics["test_acc"] > 0.9 > low.metrics["test_acc"]
    assert good.metrics["test_acc"] > high.metrics["test_acc"]
    # too low: still near the noisy init
    assert low.metrics["smoothness"] == min(r.metrics["smoothness"] for r in runs.values())
    assert low.metrics["smoothness"] < 0.1 and good.metrics["smoothness"] > 0.5
    assert low.metrics["distance_from_init"] < 0.5 < good.metrics["distance_from_init"]
    # too high: most units dead, near-duplicate filters, chance accuracy
    assert high.metrics["dead_fraction"] > 0.5 > good.metrics["dead_fraction"]
    assert high.metrics["redundancy"] == max(r.metrics["redundancy"] for r in runs.values())
    assert high.metrics["redundancy"] > 2 * good.metrics["redundancy"]
    assert high.metrics["test_acc"] < 0.15


def test_smoothness_of_noise_and_of_blobs():
    rng = np.random.default_rng(0)
    assert abs(smoothness(rng.normal(size=(20, 28, 28)))) < 0.05
    r = np.hypot(*np.meshgrid(np.arange(28) - 14, np.arange(28) - 14))
    blobs = np.stack([np.exp(-r**2 / (2 * s**2)) for s in (3, 5, 8)])
    assert smoothness(blobs) > 0.9


def test_redundancy_of_copies_and_of_orthogonal_filters():
    f = np.random.default_rng(1).normal(size=(1, 28, 28))
    assert redundancy(np.concatenate([f, -f, 2 * f])) == pytest.approx(1.0)
    orthogonal = np.eye(784)[:5].reshape(5, 28, 28)
    assert redundancy(orthogonal) == 0.0


def test_dead_fraction_and_distance():
    x = load_digits(n_train=500)[0]
    model = mlp()
    assert dead_fraction(model, x) == 0.0
    assert distance_from_init(model, mlp()) == 0.0
    with torch.no_grad():
        model[1].bias[:9] = -100.0  # 9 of 36 units can never fire on images in [0, 1]
    assert dead_fraction(model, x) == 0.25
    assert distance_from_init(model, mlp()) == 0.0  # only the weights count, not the biases
    assert dead_fraction(small_cnn(), x) == 0.0


def test_first_layer_filters_shapes():
    assert first_layer_filters(mlp()).shape == (36, 28, 28)
    assert first_layer_filters(small_cnn()).shape == (8, 5, 5)
    assert np.array_equal(first_layer_filters(mlp())[3].ravel(), mlp()[1].weight[3].detach().numpy())


def test_tile_and_plot():
    filters = np.random.default_rng(2).normal(size=(36, 28, 28))
    grid = tile_filters(filters)
    assert grid.shape == (6 * 29 - 1, 6 * 29 - 1)
    assert np.isnan(grid).sum() == grid.size - 36 * 28 * 28  # the 1-pixel gaps
    assert np.nanmax(np.abs(grid)) == pytest.approx(1.0)
    assert tile_filters(filters, ncols=9).shape == (4 * 29 - 1, 9 * 29 - 1)
    fig, ax = plt.subplots()
    assert plot_filters(filters, ax) is ax and len(ax.images) == 1
    image = ax.images[0]
    plot_filters(filters[::-1], ax)  # same layout: only the pixels change
    assert ax.images[0] is image and len(ax.images) == 1
    plt.close(fig)


@pytest.mark.parametrize("call, shown", [
    (lambda: smoothness(np.zeros((28, 28))), "filters: expected a 3-d array"),
    (lambda: redundancy(np.ones((1, 5, 5))), "at least 2 filters"),
    (lambda: tile_filters(np.ones((4, 5, 5)), ncols=0), "ncols: 0"),
    (lambda: dead_fraction(mlp(), torch.zeros(0, 784)),
     r"Invalid x: shape \(0, 784\) \(expected a non-empty batch\)"),
    (lambda: dead_fraction(mlp(), torch.zeros(10, 100)),
     (r"Invalid x: shape \(10, 100\) \(the model cannot take it: its first layer takes 784 "
     r"features per example; torch says: mat1 and mat2")),
    (lambda: dead_fraction(small_cnn(), torch.zeros(10, 3, 28, 28)),
     r"Invalid x: shape \(10, 3, 28, 28\) \(the model cannot take it"),
    (lambda: filters_experiment(lrs=(0.3, -1.0)),
     r"Invalid learning rate: -1.0 \(expected a finite number > 0\)"),
    (lambda: filters_experiment(device="nonsense"), r"Invalid device: 'nonsense' \(not a device"),
    (lambda: distance_from_init(mlp(), small_cnn()), "first layers of shapes"),
    (lambda: first_layer_filters(torch.nn.ReLU()), "no Linear or Conv2d"),
    (lambda: first_layer_filters(mlp((99, 10))), "not a square image"),
    (lambda: filters_experiment(lrs=(0.3, 0)), "learning rate: 0"),
    (lambda: filters_experiment(lrs=()), "lrs"),
    (lambda: filters_experiment(n_train=0), "n_train: 0"),
])
def test_bad_arguments_raise_value_error(call, shown):
    with pytest.raises(ValueError, match=shown):
        call()
