"""lrcourse.sharpness against the explicit Hessian, and 2/λ_max against gradient descent."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.func import functional_call

from lrcourse.models import mlp
from lrcourse.sharpness import hvp, largest_eigenvalue, stability_threshold, top_eigenvalue


def explicit_hessian(model, loss_fn, x, y):
    """The full Hessian of loss_fn(model(x), y) with respect to all parameters, flattened."""
    names = [name for name, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def loss_of(flat):
        params = dict(zip(names, torch.split(flat, [s.numel() for s in shapes])))
        params = {name: t.reshape(s) for (name, t), s in zip(params.items(), shapes)}
        return loss_fn(functional_call(model, params, (x,)), y)

    return torch.autograd.functional.hessian(loss_of, flat)


@pytest.fixture(scope="module")
def problem():
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(50, 4, generator=generator, dtype=torch.float64)
    y = torch.randint(0, 3, (50,), generator=generator)
    model = mlp((4, 6, 3), seed=0).double()  # 51 parameters: the Hessian is 51 × 51
    return model, x, y, explicit_hessian(model, F.cross_entropy, x, y)


def test_top_eigenvalue_matches_the_explicit_hessian(problem):
    model, x, y, hessian = problem
    exact = torch.linalg.eigvalsh(hessian)[-1].item()
    lam, vector = top_eigenvalue(model, F.cross_entropy, x, y, iters=1000, tol=1e-10)
    error = abs(lam - exact) / exact
    print(f"\nsharpness: power iteration {lam:.10f}, eigvalsh {exact:.10f}, rel. error {error:.1e}")
    assert error < 1e-4
    v = torch.cat([t.reshape(-1) for t in vector])
    assert torch.allclose(hessian @ v, lam * v, atol=1e-4)  # and it is an eigenvector
    default_lam, _ = top_eigenvalue(model, F.cross_entropy, x, y)  # iters=100, tol=1e-6
    assert abs(default_lam - exact) / exact < 1e-4


def test_hvp_matches_hessian_times_vector(problem):
    model, x, y, hessian = problem
    params = list(model.parameters())
    v = [torch.randn(p.shape, dtype=p.dtype, generator=torch.Generator().manual_seed(3))
         for p in params]
    hv = hvp(lambda: F.cross_entropy(model(x), y), params, v)
    flat_v, flat_hv = (torch.cat([t.reshape(-1) for t in ts]) for ts in (v, hv))
    assert torch.allclose(flat_hv, hessian @ flat_v, atol=1e-10)


def test_negative_dominant_eigenvalue_still_gives_the_largest():
    # loss(w) = ½ wᵀ diag(1, −3) w: the largest |λ| is −3, the largest λ is 1
    model = nn.Linear(2, 1, bias=False).double()

    def loss_fn(out, _):
        return 0.5 * (out[0] ** 2 - 3 * out[1] ** 2).sum()

    lam, _ = top_eigenvalue(model, loss_fn, torch.eye(2, dtype=torch.float64), None)
    assert lam == pytest.approx(1.0, rel=1e-6)


def test_gradient_descent_diverges_just_above_two_over_lambda():
    # least squares is exactly quadratic: GD is stable iff η < 2/λ_max
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(200, 5, generator=generator, dtype=torch.float64)
    y = x @ torch.arange(1.0, 6.0, dtype=torch.float64) + 0.1

    def final_loss(lr):
        model = nn.Linear(5, 1).double()
        nn.init.zeros_(model.weight), nn.init.zeros_(model.bias)
        for _ in range(300):
            model.zero_grad()
            loss = F.mse_loss(model(x).squeeze(1), y)
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= lr * p.grad
        return loss.item()

    model = nn.Linear(5, 1).double()
    lam, _ = top_eigenvalue(model, lambda out, t: F.mse_loss(out.squeeze(1), t), x, y,
                            iters=500, tol=1e-12)
    threshold = stability_threshold(lam)
    assert final_loss(0.95 * threshold) < 1e-6  # converges just below 2/λ
    assert final_loss(1.05 * threshold) > 1e6   # diverges just above


def test_stability_threshold():
    assert stability_threshold(4.0) == 0.5


@pytest.mark.parametrize("lam", [0, -1.0, math.nan, math.inf, "1"])
def test_bad_lambda_raises_value_error(lam):
    with pytest.raises(ValueError, match="lam"):
        stability_threshold(lam)


@pytest.mark.parametrize("kwargs, shown", [({"iters": 0}, "iters: 0"), ({"tol": 0}, "tol: 0"),
                                           ({"tol": -1e-3}, "tol: -0.001")])
def test_bad_arguments_raise_value_error(problem, kwargs, shown):
    model, x, y, _ = problem
    with pytest.raises(ValueError, match=shown):
        top_eigenvalue(model, F.cross_entropy, x, y, **kwargs)


# --- λ_max of any symmetric matrix, against numpy.linalg.eigvalsh -------------------------


def operator(matrix):
    """``(matvec, like)`` for ``largest_eigenvalue``: H v as a list of one tensor."""
    H = torch.as_tensor(matrix, dtype=torch.float64)
    return (lambda v: [H @ v[0]]), [torch.zeros(len(H), dtype=torch.float64)]


def with_eigenvalues(eigenvalues, rng):
    """Q diag(eigenvalues) Qᵀ with a random orthogonal Q."""
    Q, _ = np.linalg.qr(rng.standard_normal((len(eigenvalues), len(eigenvalues))))
    return Q @ np.diag(eigenvalues) @ Q.T


@st.composite
def symmetric_matrices(draw):
    """Dimension 2–8, eigenvalues of both signs on a grid of ±10 steps (so ties, zeros, ±pairs
    and a dominant negative eigenvalue all occur), times a scale from 1e-3 to 1e3."""
    dim = draw(st.integers(2, 8))
    steps = draw(st.lists(st.integers(-10, 10), min_size=dim - 2, max_size=dim - 2))
    steps += [draw(st.integers(1, 10)), draw(st.integers(-10, -1))]  # both signs, always
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    matrix = with_eigenvalues(scale * np.array(steps, dtype=float), rng)
    return 0.5 * (matrix + matrix.T)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(symmetric_matrices(), st.integers(0, 1000))
def test_largest_eigenvalue_matches_eigvalsh(matrix, seed):
    exact = np.linalg.eigvalsh(matrix)
    scale = np.abs(exact).max()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # it must converge, not warn
        lam, (v,) = largest_eigenvalue(*operator(matrix), iters=2000, tol=1e-12, seed=seed)
    assert abs(lam - exact[-1]) <= 1e-6 * scale, (lam, exact)
    v = v.numpy()
    assert np.linalg.norm(v) == pytest.approx(1.0)
    assert np.linalg.norm(matrix @ v - lam * v) <= 1e-5 * scale  # an eigenvector of λ_max


@pytest.mark.parametrize("eigenvalues", [[1.0, -1.0], [2.0, -2.0, 1.0], [-3.0, 3.0, -1.0, 0.5]])
def test_opposite_eigenvalues_of_equal_size_give_the_positive_one(eigenvalues):
    # +ρ and −ρ: v never settles and vᵀHv stands still; a stopping rule on λ alone took it
    matrix = with_eigenvalues(eigenvalues, np.random.default_rng(0))
    lam, _ = largest_eigenvalue(*operator(matrix), iters=500, tol=1e-10)
    assert lam == pytest.approx(max(eigenvalues), rel=1e-6)


@pytest.mark.parametrize("basis_seed", [0, 1, 2])
@pytest.mark.parametrize("iters, tol", [(100, 1e-6), (2000, 1e-12)])
def test_a_saddle_gives_lambda_max_not_the_next_eigenvalue(basis_seed, iters, tol):
    # λ = 0.5, −9, −10: the first run ends on the bottom eigenvector, where the top one has
    # long died out (it shrinks 20× per step) but the −9 one has not (0.9× per step). Started
    # from there, the shifted run found −9 and stopped: it was returned without a warning.
    matrix = with_eigenvalues([0.5, -9.0, -10.0], np.random.default_rng(basis_seed))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lam, _ = largest_eigenvalue(*operator(matrix), iters=iters, tol=tol)
    assert lam == pytest.approx(0.5, rel=1e-6)


def test_too_few_iterations_warn_and_give_a_lower_bound():
    matrix = with_eigenvalues([1.0, 0.9, 0.8, -5.0], np.random.default_rng(0))
    with pytest.warns(RuntimeWarning, match="did not reach tol=1e-10.*lower bound"):
        lam, _ = largest_eigenvalue(*operator(matrix), iters=5, tol=1e-10)
    assert lam <= 1.0 + 1e-12


def test_a_zero_hessian_has_lambda_max_zero():
    lam, (v,) = largest_eigenvalue(*operator(np.zeros((3, 3))))
    assert lam == 0.0 and torch.isfinite(v).all()


@pytest.mark.parametrize("eigenvalues", [[3.0, 1.0, -0.5], [0.5, -4.0, -1.0], [-1.0, -2.0]])
def test_top_eigenvalue_of_a_quadratic_loss_is_the_matrix_lambda_max(eigenvalues):
    # loss(w) = ½ wᵀ A w has Hessian A: a linear layer on the identity gives out = w
    A = torch.as_tensor(with_eigenvalues(eigenvalues, np.random.default_rng(2)))
    model = nn.Linear(len(A), 1, bias=False).double()

    def loss_fn(out, _):
        w = out[:, 0]
        return 0.5 * w @ A @ w

    lam, _ = top_eigenvalue(model, loss_fn, torch.eye(len(A), dtype=torch.float64), None,
                            iters=2000, tol=1e-12)
    assert lam == pytest.approx(max(eigenvalues), rel=1e-6)


@pytest.mark.parametrize("x, y, shown", [
    (torch.zeros(50, 5, dtype=torch.float64), None,
     r"Invalid x: shape \(50, 5\) \(the model cannot take it: its first layer takes 4 features"),
    (torch.zeros(0, 4, dtype=torch.float64), None,
     r"Invalid x: shape \(0, 4\) \(expected a non-empty batch\)"),
    (torch.zeros(50, 4, dtype=torch.float64), torch.zeros(49, dtype=torch.int64),
     r"Invalid y: shape \(49,\) \(x has 50 examples"),
])
def test_inputs_that_do_not_fit_the_model_raise_value_error(problem, x, y, shown):
    model, _, y_good, _ = problem
    with pytest.raises(ValueError, match=shown):
        top_eigenvalue(model, F.cross_entropy, x, y_good if y is None else y)
