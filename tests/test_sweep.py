"""lrcourse.sweep: one run per η, the good band, the running mean."""

import math

import numpy as np
import pytest
import torch

from lrcourse.digits import load_digits
from lrcourse.models import mlp
from lrcourse.sweep import good_band, smooth, sweep
from lrcourse.train import evaluate, train


@pytest.fixture(scope="module")
def data():
    x, y, x_val, y_val, _, _ = load_digits(n_train=640, n_val=320)
    return x, y, x_val, y_val


def test_sweep_is_one_train_call_per_lr(data):
    result = sweep([0.03, 0.3, 1e3], lambda: mlp((784, 16, 10), seed=2), data, seed=4)
    by_hand = train(mlp((784, 16, 10), seed=2), data, lr=0.3, num_epochs=1, seed=4)
    assert result.final_loss[1] == by_hand.test_loss[-1]
    assert result.final_acc[1] == by_hand.test_acc[-1]
    assert result.final_loss[2] == math.inf and math.isnan(result.final_acc[2])
    assert result.histories[2].diverged
    assert len(result.models) == 3 and result.models[0] is not result.models[1]
    assert evaluate(result.models[1], data[2], data[3]) == (by_hand.test_loss[-1],
                                                            by_hand.test_acc[-1])
    assert result.best_lr == 0.3 and result.best == 1
    lo, hi = result.band(within=0.5)
    assert lo < 0.3 * 1.01 and 0.3 * 0.99 < hi < 1e3  # the band's ends are on a fine grid


def test_good_band_interpolates_in_log_lr():
    lo, hi = good_band([0.01, 0.1, 1.0], [1.0, 0.5, 1.0], within=0.25)
    assert lo == pytest.approx(10 ** -1.5, rel=1e-2) and hi == pytest.approx(10 ** -0.5, rel=1e-2)
    # a diverged run (inf) bounds the band like a very bad loss
    lo, hi = good_band([0.01, 0.1, 1.0], [0.5, 0.5, math.inf], within=0.1)
    assert lo == pytest.approx(0.01) and hi < 0.2


@pytest.mark.parametrize("lrs, losses, shown", [
    ([0.1], [1.0], "shapes (1,) and (1,)"), ([0.1, 0.2], [1.0], "shapes (2,) and (1,)"),
    ([0.2, 0.1], [1.0, 1.0], "Invalid lrs: [0.2, 0.1]"), ([0.0, 0.1], [1.0, 1.0], "Invalid lrs"),
])
def test_good_band_bad_input(lrs, losses, shown):
    with pytest.raises(ValueError, match=shown.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        good_band(lrs, losses)


def test_smooth():
    assert smooth([1.0, 3.0, 5.0, 7.0], width=2).tolist() == [2.0, 4.0, 6.0]
    assert smooth([1.0, 2.0], width=10).tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="Invalid width: 0"):
        smooth([1.0], width=0)


def test_sweep_bad_input(data):
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        sweep([-0.1], mlp, data)
    with pytest.raises(ValueError, match="Invalid make_model"):
        sweep([0.1], "mlp", data)
    with pytest.raises(ValueError, match="Invalid data"):
        sweep([0.1], mlp, data[:2])
    with pytest.raises(ValueError, match="at least one"):
        sweep([], mlp, data)
    assert torch.is_tensor(data[0])
    assert np.all(np.isfinite(sweep([0.1], lambda: mlp((784, 8, 10)), data).final_loss))
