"""Problems: derivatives against finite differences and torch, constants against theory."""

import numpy as np
import pytest
import torch

from lrcourse.problems import (
    LinearRegression,
    LogisticRegression,
    Quadratic,
    Rosenbrock,
    make_classification,
    make_regression,
    quadratic_1d,
    quadratic_2d,
    valley,
)


def numeric_grad(f, x, h=1e-6):
    """Central differences: (f(x + h eᵢ) − f(x − h eᵢ)) / 2h."""
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(len(x))])


def problems():
    X, y = make_regression(n=50, d=4, seed=1)
    Xc, yc = make_classification(n=60, d=3, seed=2)
    return {
        "quadratic": Quadratic([[3.0, 1.0], [1.0, 2.0]], b=[1.0, -1.0]),
        "quadratic_2d": quadratic_2d((0.5, 4.0), angle=0.7),
        "rosenbrock": Rosenbrock(),
        "linear_regression": LinearRegression(X, y),
        "logistic_regression": LogisticRegression(Xc, yc),
    }


@pytest.mark.parametrize("name", problems())
def test_grad_and_hessian_match_finite_differences(name):
    p = problems()[name]
    x = np.random.default_rng(0).standard_normal(p.dim) * 0.7
    np.testing.assert_allclose(p.grad(x), numeric_grad(p.loss, x), rtol=1e-6, atol=1e-6)
    H = p.hessian(x)
    np.testing.assert_allclose(H, numeric_grad(p.grad, x).T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(H, H.T)


@pytest.mark.parametrize("name", problems())
def test_loss_on_a_grid_is_pointwise(name):
    p = problems()[name]
    grid = np.random.default_rng(1).standard_normal((3, 4, p.dim))
    expected = np.array([[p.loss(x) for x in row] for row in grid])
    np.testing.assert_allclose(p.loss(grid), expected, rtol=1e-12)


@pytest.mark.parametrize("name", problems())
def test_minimizer_has_zero_gradient(name):
    p = problems()[name]
    if p.minimizer is not None:
        np.testing.assert_allclose(p.grad(p.minimizer), 0, atol=1e-10)
        assert p.loss(p.minimizer) == pytest.approx(p.min_loss)


def test_quadratic_constants():
    p = quadratic_2d(eigenvalues=(1, 10), angle=0.3)
    assert (p.L, p.mu, p.kappa) == pytest.approx((10.0, 1.0, 10.0))
    np.testing.assert_allclose(p.eigenvalues, [1, 10])
    v_top = p.eigenvectors[:, -1]
    np.testing.assert_allclose(p.A @ v_top, 10 * v_top)
    np.testing.assert_allclose(v_top * np.sign(v_top[1]), [-np.sin(0.3), np.cos(0.3)], atol=1e-12)
    np.testing.assert_allclose(p.minimizer, 0)
    one = quadratic_1d(2.5)
    assert (one.dim, one.L, one.mu) == (1, 2.5, 2.5)
    assert one.loss(np.array([2.0])) == pytest.approx(0.5 * 2.5 * 4)
    v = valley(kappa=50)
    assert (v.L, v.mu, v.kappa) == pytest.approx((1.0, 1 / 50, 50.0))
    np.testing.assert_allclose(v.A, np.diag([1 / 50, 1.0]), atol=1e-15)


def test_singular_quadratic():
    flat = Quadratic([[1.0, 0.0], [0.0, 0.0]])  # a trough: many minimizers, mu = 0
    assert flat.mu == 0 and flat.kappa == np.inf and flat.min_loss == 0
    unbounded = Quadratic([[1.0, 0.0], [0.0, 0.0]], b=[0.0, 1.0])  # slides down forever
    assert unbounded.minimizer is None and unbounded.min_loss is None


def test_rosenbrock():
    p = Rosenbrock(a=1, b=100)
    assert p.loss(np.array([1.0, 1.0])) == 0 and p.L is None
    assert p.L_at_minimizer == pytest.approx(np.linalg.eigvalsh([[802, -400], [-400, 200]])[-1])


def test_linear_regression_constants_and_minibatches():
    X, y = make_regression(n=80, d=3, noise=0.5, seed=3)
    p = LinearRegression(X, y)
    assert p.L == pytest.approx(np.linalg.eigvalsh(X.T @ X / 80)[-1])
    assert p.mu == pytest.approx(np.linalg.eigvalsh(X.T @ X / 80)[0])
    w = np.array([0.3, -1.0, 2.0])
    per_row = [(X[i] @ w - y[i]) * X[i] for i in range(80)]
    batch = np.array([4, 17, 17, 60])
    np.testing.assert_allclose(p.grad(w, batch=batch), np.mean([per_row[i] for i in batch], axis=0))
    np.testing.assert_allclose(p.grad(w, batch=np.arange(80)), p.grad(w))
    np.testing.assert_allclose(p.grad(w), np.mean(per_row, axis=0))


def test_logistic_regression_against_torch_and_bound():
    X, y = make_classification(n=100, d=3, seed=4)
    p = LogisticRegression(X, y)
    w = np.array([0.5, -0.2, 1.0])
    wt = torch.tensor(w, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(torch.from_numpy(X) @ wt,
                                                               torch.from_numpy(y))
    loss.backward()
    assert p.loss(w) == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(p.grad(w), wt.grad.numpy(), rtol=1e-12)
    # L bounds the curvature everywhere, and is attained at w = 0 (σ(0)(1 − σ(0)) = ¼)
    for w in np.random.default_rng(5).standard_normal((5, 3)):
        assert np.linalg.eigvalsh(p.hessian(w))[-1] <= p.L * (1 + 1e-12)
    assert np.linalg.eigvalsh(p.hessian(np.zeros(3)))[-1] == pytest.approx(p.L)
    assert p.loss(np.array([1e4, 1e4, 1e4])) < np.inf  # no overflow


def test_generated_data_is_reproducible():
    a, b = make_regression(seed=7), make_regression(seed=7)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[0].shape == (200, 5) and a[1].shape == (200,)
    assert not np.array_equal(a[0], make_regression(seed=8)[0])
    X, y = make_classification(n=101, d=4, seed=1)
    assert X.shape == (101, 4) and set(np.unique(y)) == {0.0, 1.0} and abs(y.sum() - 50) <= 1


# Each message names the argument and shows its value: the needle is the message's start.
@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Quadratic([[1.0, 2.0], [0.0, 1.0]]), "Invalid A: not symmetric:\n[[1. 2.]"),
        (lambda: Quadratic([[1.0, 0.0], [0.0, -2.0]]),
         "Invalid A: not positive semi-definite, eigenvalues [-2.  1.]"),
        (lambda: Quadratic(np.ones((2, 3))), "Invalid A: expected a square matrix, got shape (2, 3)"),
        (lambda: Quadratic(np.eye(2), b=[1.0, 2.0, 3.0]), "Invalid b: expected shape (2,), got (3,)"),
        (lambda: Quadratic(np.zeros((0, 0))), "Invalid A: empty array"),
        (lambda: Quadratic([[np.nan]]), "Invalid A: contains NaN or infinity"),
        (lambda: quadratic_1d(-1.0), "Invalid curvature: -1.0 (expected a value in (0, inf))"),
        (lambda: quadratic_1d(0), "Invalid curvature: 0.0 (expected a value in (0, inf))"),
        (lambda: quadratic_2d((1.0, -3.0)), "Invalid eigenvalues: (1.0, -3.0) (expected both > 0)"),
        (lambda: valley(0.5), "Invalid kappa: 0.5 (expected a value in [1, inf))"),
        (lambda: Rosenbrock(b=-1), "Invalid b: -1.0 (expected a value in (0, inf))"),
        (lambda: LinearRegression(np.ones((3, 2)), np.ones(4)),
         "Invalid y: expected shape (3,), got (4,)"),
        (lambda: LinearRegression(np.ones((0, 2)), np.ones(0)), "Invalid X: empty array"),
        (lambda: LogisticRegression(np.ones((3, 2)), [0, 1, 2]),
         "Invalid y: labels must be 0 or 1, got [2.]"),
        (lambda: make_regression(n=0), "Invalid n: 0 (expected an integer >= 1)"),
        (lambda: make_classification(distance=-1.0),
         "Invalid distance: -1.0 (expected a value in [0, inf))"),
        (lambda: make_regression(noise=np.inf), "Invalid noise: inf"),
    ],
)
def test_bad_inputs_name_the_value(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert str(info.value).startswith(message)


def test_bad_points_and_batches():
    p = LinearRegression(*make_regression(n=10, d=3))
    with pytest.raises(ValueError, match=r"\(2,\)"):
        p.loss(np.zeros(2))
    with pytest.raises(ValueError, match=r"\(4,\)"):
        quadratic_2d().grad(np.zeros(4))
    with pytest.raises(ValueError, match="batch"):
        p.grad(np.zeros(3), batch=[])
    with pytest.raises(ValueError, match="10"):
        p.grad(np.zeros(3), batch=[3, 10])
