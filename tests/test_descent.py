"""The runner: traces, divergence at the right step, and the 2/λ_max threshold as a property."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrcourse.adaptive import adam
from lrcourse.descent import Trace, gd, iterations_to_tolerance, run
from lrcourse.optimizers import momentum, sgd
from lrcourse.problems import LinearRegression, Quadratic, make_regression, quadratic_1d
from lrcourse.schedules import ReduceOnPlateau, constant, cosine_decay, join_schedules


def first_step_above(lam, lr, x0, max_loss):
    """By hand: f = ½λx², x_k = (1 − ηλ)^k x0, so f_k = ½λ x0² (1 − ηλ)^{2k}."""
    k = 0
    while 0.5 * lam * x0**2 * (1 - lr * lam) ** (2 * k) <= max_loss:
        k += 1
    return k


@pytest.mark.parametrize("lam, lr, max_loss", [(2.0, 1.5, 1e12), (1.0, 2.5, 1e12), (4.0, 0.6, 1e3),
                                               (0.5, 4.1, 1e6)])
def test_divergence_step_by_hand(lam, lr, max_loss):
    trace = gd(quadratic_1d(lam), lr, [1.0], 200, max_loss=max_loss)
    k = first_step_above(lam, lr, 1.0, max_loss)
    assert trace.diverged and trace.diverged_at == k
    assert trace.params.shape == (k + 1, 1) and trace.losses.shape == (k + 1,)
    assert trace.lrs.shape == trace.grad_norms.shape == (k,)
    np.testing.assert_allclose(trace.params[:, 0], (1 - lr * lam) ** np.arange(k + 1), rtol=1e-12)
    assert trace.losses[-1] > max_loss >= trace.losses[-2]


def test_converging_trace():
    lam, lr = 2.0, 0.3
    trace = gd(quadratic_1d(lam), lr, [2.0], 50)
    assert not trace.diverged and trace.diverged_at is None and trace.num_steps == 50
    assert trace.params.shape == (51, 1) and trace.losses.shape == (51,)
    np.testing.assert_allclose(trace.params[:, 0], 2.0 * 0.4 ** np.arange(51), rtol=1e-12)
    np.testing.assert_allclose(trace.lrs, 0.3)
    np.testing.assert_allclose(trace.grad_norms, lam * np.abs(trace.params[:-1, 0]))
    # f_k = ½λ·4·0.16^k ≤ tol first at k = ⌈log(tol/4)/log(0.16)⌉
    tol = 1e-6
    assert iterations_to_tolerance(trace, tol) == math.ceil(math.log(tol / 4) / math.log(0.16))
    assert trace.converged(tol) and not trace.converged(1e-40)
    assert iterations_to_tolerance(trace, 1e-6, min_loss=4.0) == 0  # f_0 = 4


def test_overflow_is_a_result_not_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = gd(quadratic_1d(1.0), 1e200, [1.0], 10, max_loss=np.inf)
        assert trace.diverged_at == 1 and trace.losses[-1] == np.inf  # x₁ = −1e200: f(x₁) = inf
        trace = run(lambda x: (np.nan, x), sgd(0.1), [1.0], 10)
        assert trace.diverged_at == 0


def test_gradient_ascent_needs_allow_negative():
    with pytest.raises(ValueError, match="-0.1"):
        gd(quadratic_1d(1.0), -0.1, [1.0], 10)
    trace = gd(quadratic_1d(1.0), -0.1, [1.0], 10, allow_negative=True)
    np.testing.assert_allclose(trace.params[:, 0], 1.1 ** np.arange(11))
    assert np.all(np.diff(trace.losses) > 0)


def test_lrs_follow_the_schedule():
    schedule = cosine_decay(0.5, 20)
    trace = run(quadratic_1d(1.0), momentum(schedule, 0.5), [1.0], 30)
    np.testing.assert_array_equal(trace.lrs, [schedule(t) for t in range(30)])


def test_reduce_on_plateau_rescues_a_run_at_the_edge():
    """At η = 2/λ GD bounces between ±x forever: the loss is flat, the plateau cuts η."""
    plateau = ReduceOnPlateau(1.0, patience=3, factor=0.5)
    trace = run(quadratic_1d(2.0), sgd(plateau), [1.0], 40, on_loss=plateau.step)
    assert list(trace.lrs[:5]) == [1.0, 1.0, 1.0, 1.0, 0.5]  # 4 flat losses > patience 3
    assert trace.final_loss == 0  # η = 1/λ lands on the minimum in one step


def test_sgd_on_linear_regression():
    p = LinearRegression(*make_regression(n=100, d=3, seed=0))
    w0 = np.zeros(3)
    a = run(p, sgd(0.05), w0, 300, batch_size=10, seed=1)
    b = run(p, sgd(0.05), w0, 300, batch_size=10, seed=1)
    c = run(p, sgd(0.05), w0, 300, batch_size=10, seed=2)
    np.testing.assert_array_equal(a.params, b.params)
    assert not np.array_equal(a.params, c.params)
    assert a.final_loss < 1.5 * p.min_loss and a.min_loss == p.min_loss
    # batch_fn: a fixed batch gives the gradient of those rows only
    rows = np.array([0, 5, 7])
    d = run(p, sgd(0.05), w0, 3, batch_fn=lambda step, rng: rows)
    np.testing.assert_allclose(d.params[1], -0.05 * p.grad(w0, batch=rows))
    full = run(p, adam(0.1), w0, 200)
    assert full.final_loss == pytest.approx(p.min_loss, rel=1e-3)


def test_function_problem():
    trace = run(lambda x: (0.5 * x @ x, x), sgd(0.5), [4.0, -2.0], 5)
    np.testing.assert_allclose(trace.params[-1], [4.0 / 32, -2.0 / 32])
    assert isinstance(trace, Trace) and trace.min_loss is None


# Each message names the argument and shows its value: the needle is the whole message.
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_steps": 0}, "Invalid num_steps: 0 (expected an integer >= 1)"),
        ({"num_steps": -5}, "Invalid num_steps: -5 (expected an integer >= 1)"),
        ({"num_steps": 2.5}, "Invalid num_steps: 2.5 (expected an integer >= 1)"),
        ({"x0": [1.0, 2.0, 3.0]}, "Invalid x0: expected shape (2,), got (3,)"),
        ({"x0": []}, "Invalid x0: expected shape (2,), got (0,)"),
        ({"x0": [np.nan, 1.0]}, "Invalid x0: contains NaN or infinity"),
        ({"max_loss": 0.0}, "Invalid max_loss: 0.0 (expected a number > 0, inf allowed)"),
        ({"batch_size": 500}, "Invalid batch_size: 500 (the data has only n=50 rows)"),
        ({"batch_size": 0}, "Invalid batch_size: 0 (expected an integer >= 1)"),
    ],
)
def test_bad_run_arguments(kwargs, message):
    p = LinearRegression(*make_regression(n=50, d=2))
    args = {"problem": p, "optimizer": sgd(0.1), "x0": [0.0, 0.0], "num_steps": 10} | kwargs
    with pytest.raises(ValueError) as info:
        run(**args)
    assert str(info.value) == message


def test_bad_problem_and_optimizer():
    with pytest.raises(TypeError, match="Optimizer"):
        run(quadratic_1d(1.0), 0.1, [1.0], 10)
    with pytest.raises(ValueError, match="problem"):
        run(42, sgd(0.1), [1.0], 10)
    with pytest.raises(ValueError, match="batch_size"):
        run(quadratic_1d(1.0), sgd(0.1), [1.0], 10, batch_size=4)


@st.composite
def quadratics(draw):
    """A random positive-definite quadratic: dimension 2–6, eigenvalues in [0.1, 10]."""
    dim = draw(st.integers(2, 6))
    eigenvalues = np.array(draw(st.lists(st.floats(0.1, 10.0), min_size=dim, max_size=dim)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    Q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    A = Q @ np.diag(eigenvalues) @ Q.T
    return Quadratic(0.5 * (A + A.T), rng.standard_normal(dim)), rng


def start(problem, rng):
    """x0 = x* + the top eigenvector + a little of everything."""
    return problem.minimizer + problem.eigenvectors[:, -1] + 0.1 * rng.standard_normal(problem.dim)


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(quadratics(), st.floats(0.05, 0.95))
def test_gd_converges_below_2_over_lambda_max(quadratic, c):
    problem, rng = quadratic
    lr = c * 2 / problem.L
    rate = max(abs(1 - lr * problem.eigenvalues))  # the error shrinks by this factor per step
    num_steps = math.ceil(math.log(1e-3) / math.log(rate))  # enough for a 1000× smaller error
    x0 = start(problem, rng)
    trace = gd(problem, lr, x0, num_steps)
    assert not trace.diverged
    error = np.linalg.norm(trace.params - problem.minimizer, axis=1)
    assert error[-1] <= 1e-3 * error[0] * (1 + 1e-6)
    assert np.all(np.diff(trace.losses) <= 1e-12 * abs(trace.losses[0]))  # the descent lemma


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(quadratics(), st.floats(1.05, 1.5))
def test_gd_diverges_above_2_over_lambda_max(quadratic, c):
    problem, rng = quadratic
    trace = gd(problem, c * 2 / problem.L, start(problem, rng), 500)
    assert trace.diverged  # |1 − ηλ_max| ≥ 1.1: 500 steps take the loss past 1e12
    assert trace.losses[-1] > 1e12


# A schedule's η is checked at every step, as a constant η is when the optimizer is built.
@pytest.mark.parametrize("schedule, shown", [
    (lambda t: 0.1 if t < 3 else -0.1, ("Invalid learning rate: -0.1 from schedule(3) "
                                       "(the schedule must give a finite η >= 0")),
    (lambda t: 0.1 if t < 5 else math.nan, "Invalid learning rate: nan from schedule(5)"),
    (lambda t: math.inf, "Invalid learning rate: inf from schedule(0)"),
    (lambda t: "0.1", "Invalid learning rate: '0.1' from schedule(0)"),
    (join_schedules([constant(0.1), constant(-0.1, allow_negative=True)], [4]),
     "Invalid learning rate: -0.1 from schedule(4)"),
])
@pytest.mark.parametrize("make", [sgd, momentum, adam])
def test_a_bad_eta_from_a_schedule_stops_the_run_naming_the_step(schedule, shown, make):
    with pytest.raises(ValueError) as info:
        run(quadratic_1d(1.0), make(schedule), [1.0], 10)
    assert str(info.value).startswith(shown)


def test_a_schedule_may_reach_zero_and_a_declared_negative_eta_runs():
    trace = run(quadratic_1d(1.0), sgd(cosine_decay(0.1, 5)), [1.0], 8)  # η = 0 from step 5
    assert trace.lrs[-1] == 0.0 and trace.params[-1] == trace.params[5]
    climb = run(quadratic_1d(1.0), sgd(-0.1, allow_negative=True), [1.0], 5)
    assert np.all(np.diff(climb.losses) > 0)
    up = run(quadratic_1d(1.0), adam(constant(-0.01, allow_negative=True)), [1.0], 5)
    assert np.all(np.diff(up.losses) > 0)
    assert gd(quadratic_1d(1.0), -0.1, [1.0], 5, allow_negative=True).lrs.tolist() == [-0.1] * 5


def test_max_loss_has_its_own_message():
    with pytest.raises(ValueError) as info:
        gd(quadratic_1d(1.0), 0.1, [1.0], 5, max_loss=-1)
    assert str(info.value) == "Invalid max_loss: -1 (expected a number > 0, inf allowed)"
    assert not gd(quadratic_1d(1.0), 0.1, [1.0], 5, max_loss=math.inf).diverged
