"""lrcourse.sharpness against the explicit Hessian, and 2/λ_max against gradient descent."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from lrcourse.models import mlp
from lrcourse.sharpness import hvp, stability_threshold, top_eigenvalue


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
