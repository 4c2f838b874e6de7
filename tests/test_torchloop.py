"""lrcourse.torchloop: the one training step, against a step written out with torch."""

import copy
import math

import pytest
import torch
import torch.nn.functional as F

import lrcourse.train
from lrcourse import torchloop
from lrcourse.digits import load_digits
from lrcourse.models import mlp
from lrcourse.torchloop import check_data, check_device, make_optimizer, minibatches, train_step


@pytest.fixture(scope="module")
def batch():
    x, y, *_ = check_data(load_digits(n_train=256, n_test=10), mlp(), check_device("cpu"))
    idx = next(minibatches(len(x), 64, seed=0))
    return x[idx], y[idx]


@pytest.mark.parametrize("optimizer, momentum", [("sgd", 0.0), ("sgd", 0.9), ("adam", 0.0)])
def test_a_step_is_torchs_step(batch, optimizer, momentum):
    x, y = batch
    ours, theirs = mlp(seed=3), mlp(seed=3)
    opt = make_optimizer(optimizer, ours.parameters(), 0.05, momentum)
    reference = type(opt)(theirs.parameters(), **opt.defaults)  # the same torch class, same settings
    for _ in range(3):  # the optimizer's state (momentum, Adam's moments) carries over
        loss, grad_norm = train_step(ours, opt, x, y, 0.05)
        reference.zero_grad()
        expected = F.cross_entropy(theirs(x), y)
        expected.backward()
        norm = torch.nn.utils.clip_grad_norm_(theirs.parameters(), math.inf)  # only measures
        reference.step()
        assert loss == expected.item() and grad_norm == pytest.approx(norm.item(), rel=1e-6)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_the_step_sets_lr_in_every_group(batch):
    model = mlp()
    opt = torch.optim.SGD([{"params": model[1].parameters()}, {"params": model[3].parameters()}],
                          lr=1.0)
    train_step(model, opt, *batch, 0.003)
    assert [g["lr"] for g in opt.param_groups] == [0.003, 0.003]


def test_stop_means_no_backward_and_no_update(batch):
    model = mlp()
    before = copy.deepcopy(model.state_dict())
    seen = []
    loss, grad_norm = train_step(model, make_optimizer("sgd", model.parameters(), 0.1), *batch,
                                 0.1, stop=lambda loss: seen.append(loss) or True)
    assert grad_norm is None and seen == [loss]
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_before_update_sees_the_weights_and_gradients_of_step_t(batch):
    model = mlp()
    w0 = model[1].weight.detach().clone()
    seen = {}

    def look(loss, grad_norm):
        seen.update(loss=loss, grad_norm=grad_norm, weight=model[1].weight.detach().clone(),
                    grad=model[1].weight.grad.clone())

    loss, grad_norm = train_step(model, make_optimizer("sgd", model.parameters(), 0.1), *batch,
                                 0.1, before_update=look)
    assert seen["loss"] == loss and seen["grad_norm"] == grad_norm
    assert torch.equal(seen["weight"], w0)  # w_t: not yet updated
    torch.testing.assert_close(model[1].weight.detach(), w0 - 0.1 * seen["grad"])  # then SGD


def test_train_still_exports_the_helpers_chapters_and_tests_import():
    for name in ("check_data", "check_device", "check_inputs", "make_optimizer", "minibatches",
                 "available_devices", "OPTIMIZERS", "WITH_MOMENTUM", "train_step"):
        assert getattr(lrcourse.train, name) is getattr(torchloop, name), name
