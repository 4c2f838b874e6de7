"""Validation at the boundary: every bad value a reader can pass gives a ValueError naming it."""

import math

import numpy as np
import pytest

from lrcourse.adaptive import OPTIMIZERS, adadelta, adagrad, adam, rmsprop
from lrcourse.optimizers import momentum, nesterov, sgd
from lrcourse.validate import (
    check_array,
    check_in_range,
    check_lr,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
    check_scheduled_lr,
)

BAD_LRS = [-0.1, 0, 0.0, math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("lr", BAD_LRS)
def test_check_lr_refuses(lr):
    with pytest.raises(ValueError, match=f"Invalid learning rate: {lr}"):
        check_lr(lr)


@pytest.mark.parametrize("lr", [True, "0.1", None, [0.1], 1j])
def test_check_lr_refuses_non_numbers(lr):
    with pytest.raises(ValueError, match=r"Invalid learning rate: .*expected a real number"):
        check_lr(lr)


def test_check_lr_accepts():
    assert check_lr(0.1) == 0.1 and isinstance(check_lr(1), float)
    assert check_lr(np.float32(0.5)) == 0.5
    assert check_lr(-0.1, allow_negative=True) == -0.1
    with pytest.raises(ValueError, match="allow_negative"):
        check_lr(-0.1)
    with pytest.raises(ValueError, match="0.0"):
        check_lr(0.0, allow_negative=True)  # zero never moves


@pytest.mark.parametrize("value", [0, -3, 2.5, True, "3", None])
def test_check_positive_int(value):
    with pytest.raises(ValueError, match=f"Invalid num_steps: {value!r}".replace("(", r"\(")):
        check_positive_int(value, "num_steps")
    assert check_positive_int(np.int64(3), "num_steps") == 3


@pytest.mark.parametrize("value", [-1, 2.5, True, "0", None])
def test_check_nonnegative_int(value):
    with pytest.raises(ValueError, match=f"Invalid seed: {value!r}"):
        check_nonnegative_int(value, "seed")
    assert check_nonnegative_int(0, "seed") == 0
    assert check_nonnegative_int(np.int64(7), "seed") == 7


def test_check_in_range():
    assert check_in_range(0.0, "momentum", 0, 1) == 0.0
    for bad in (1.0, -0.5, math.nan):
        with pytest.raises(ValueError, match=f"Invalid momentum: {bad}"):
            check_in_range(bad, "momentum", 0, 1)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        check_in_range(0.0, "gamma", 0, 1, low_open=True, high_open=False)


def test_check_array():
    np.testing.assert_array_equal(check_array([1, 2], "x0", ndim=1), [1.0, 2.0])
    with pytest.raises(ValueError, match=r"got shape \(2, 2\)"):
        check_array(np.eye(2), "x0", ndim=1)
    with pytest.raises(ValueError, match=r"expected shape \(3,\), got \(2,\)"):
        check_array([1, 2], "x0", shape=(3,))
    with pytest.raises(ValueError, match="empty"):
        check_array([], "X")
    with pytest.raises(ValueError, match="NaN"):
        check_array([1.0, math.nan], "x0")


# Every optimizer refuses every bad η, with the value in the message.
@pytest.mark.parametrize("lr", BAD_LRS)
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizers_refuse_bad_lr(name, lr):
    with pytest.raises(ValueError, match=f"Invalid learning rate: {lr}"):
        OPTIMIZERS[name](lr)


def test_only_sgd_climbs():
    assert sgd(-0.1, allow_negative=True).lr(0) == -0.1
    with pytest.raises(TypeError):
        momentum(-0.1, allow_negative=True)


@pytest.mark.parametrize(
    "make, bad",
    [
        (lambda v: momentum(0.1, v), 1.0),
        (lambda v: momentum(0.1, v), -0.5),
        (lambda v: momentum(0.1, 0.9, dampening=v), 2.0),
        (lambda v: momentum(0.1, v, nesterov=True), 0.0),
        (lambda v: nesterov(0.1, 0.9, weight_decay=v), -1.0),
        (lambda v: sgd(0.1, weight_decay=v), math.nan),
        (lambda v: adagrad(eps=v), -1e-10),
        (lambda v: adagrad(lr_decay=v), -0.1),
        (lambda v: adagrad(initial_accumulator_value=v), -1.0),
        (lambda v: adadelta(rho=v), 1.5),
        (lambda v: rmsprop(alpha=v), -0.1),
        (lambda v: rmsprop(momentum=v), 1.2),
        (lambda v: adam(beta1=v), 1.0),
        (lambda v: adam(beta2=v), -0.1),
        (lambda v: adam(eps=v), math.inf),
    ],
)
def test_bad_hyperparameters_name_the_value(make, bad):
    with pytest.raises(ValueError, match=str(bad)):
        make(bad)


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("params, needle", [([], "empty"), ([1.0, math.nan], "NaN"),
                                            ([math.inf], "NaN or infinity")])
def test_init_refuses_bad_params(name, params, needle):
    with pytest.raises(ValueError, match=needle):
        OPTIMIZERS[name](0.1).init(np.array(params))


@pytest.mark.parametrize("value", [0, -1, -0.5, math.nan, math.inf, -math.inf, "1", None, True])
def test_check_positive_refuses_with_its_own_message(value):
    with pytest.raises(ValueError) as info:
        check_positive(value, "max_loss")
    assert str(info.value) == f"Invalid max_loss: {value!r} (expected a finite number > 0)"


def test_check_positive_accepts_and_allows_inf_only_when_asked():
    assert check_positive(2, "factor") == 2.0 and isinstance(check_positive(2, "factor"), float)
    assert check_positive(np.float32(0.5), "factor") == 0.5
    assert check_positive(math.inf, "max_loss", allow_inf=True) == math.inf
    for bad in (-1, 0, math.nan, -math.inf):
        with pytest.raises(ValueError, match=r"\(expected a number > 0, inf allowed\)"):
            check_positive(bad, "max_loss", allow_inf=True)


@pytest.mark.parametrize("lr, shown", [
    (-0.1, "Invalid learning rate: -0.1 from schedule(7) (the schedule must give a finite η >= 0"),
    (math.nan, "Invalid learning rate: nan from schedule(7)"),
    (math.inf, "Invalid learning rate: inf from schedule(7)"),
    ("0.1", "Invalid learning rate: '0.1' from schedule(7)"),
    (None, "Invalid learning rate: None from schedule(7)"),
])
def test_check_scheduled_lr_names_the_step(lr, shown):
    with pytest.raises(ValueError) as info:
        check_scheduled_lr(lr, 7)
    assert str(info.value).startswith(shown)


def test_check_scheduled_lr_accepts_zero_arrays_and_allowed_negatives():
    assert check_scheduled_lr(0.0, 3) == 0.0  # a decayed schedule may end at 0
    assert check_scheduled_lr(np.array(0.25), 0) == 0.25
    assert check_scheduled_lr(np.float32(0.5), 0) == 0.5
    assert check_scheduled_lr(-0.1, 0, allow_negative=True) == -0.1
    with pytest.raises(ValueError, match=r"nan from schedule\(2\) \(.* a finite η at every step\)"):
        check_scheduled_lr(math.nan, 2, allow_negative=True)
