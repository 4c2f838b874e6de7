"""lrcourse.diagnostics and what train logs with it: update ratios, clipping, dead units."""

import copy
import math

import pytest
import torch
import torch.nn.functional as F

from lrcourse.diagnostics import DeadUnits, UpdateRatios
from lrcourse.digits import load_digits
from lrcourse.filters import dead_fraction
from lrcourse.models import mlp, small_cnn
from lrcourse.torchloop import check_data, check_device, make_optimizer, minibatches, train_step
from lrcourse.train import train


@pytest.fixture(scope="module")
def data():
    return load_digits(n_train=640, n_test=100)


def norms_before_each_step(record):
    """An on_step that appends {name: (‖g‖, ‖w‖)} of every parameter before each update."""
    def watch(s):
        record.append({name: (p.grad.norm().item(), p.norm().item())
                       for name, p in s.model.named_parameters()})
    return watch


def test_the_ratio_of_a_plain_sgd_step_is_eta_g_over_w(data):
    seen, lr = [], 0.3
    history = train(mlp(seed=2), data, lr=lr, seed=1, log_updates=True,
                    on_step=norms_before_each_step(seen))
    names = [name for name, _ in mlp().named_parameters()]
    assert list(history.update_ratios) == names == ["1.weight", "1.bias", "3.weight", "3.bias"]
    assert all(len(r) == len(history.losses) == 10 for r in history.update_ratios.values())
    for step, record in enumerate(seen):  # w_{t+1} − w_t = −η g_t, so r_t = η‖g_t‖/‖w_t‖
        for name, (g, w) in record.items():
            assert history.update_ratios[name][step] == pytest.approx(lr * g / w, rel=1e-5), (
                f"step {step}, {name}")


@pytest.mark.parametrize("optimizer, momentum", [("sgd", 0.9), ("adam", 0.0)])
def test_the_ratio_is_the_update_really_applied(data, optimizer, momentum):
    model = mlp(seed=3)
    before = copy.deepcopy(model)
    history = train(model, data[:2], optimizer=optimizer, lr=0.01, momentum=momentum,
                    batch_size=640, log_updates=True)  # one step: the whole set is one batch
    assert len(history.losses) == 1
    for (name, w1), w0 in zip(model.named_parameters(), before.parameters()):
        expected = ((w1 - w0).norm() / w0.norm()).item()
        assert history.update_ratios[name][0] == pytest.approx(expected, rel=1e-4), name


def test_clipping_caps_an_sgd_step_at_eta_c(data):
    lr, c, seen = 0.5, 0.1, []
    model = mlp(seed=4)
    history = train(model, data, lr=lr, seed=2, clip_grad_norm=c, log_updates=True,
                    on_step=norms_before_each_step(seen))
    plain = train(mlp(seed=4), data, lr=lr, seed=2)
    assert history.grad_norms[0] == plain.grad_norms[0] > c  # the norm before clipping
    assert history.losses[0] == plain.losses[0] and history.losses[1] != plain.losses[1]
    for step, record in enumerate(seen):
        # ‖Δw‖ over all parameters, from each tensor's ratio and its norm before the step
        moved = math.sqrt(sum((history.update_ratios[name][step] * w) ** 2
                              for name, (_, w) in record.items()))
        assert history.grad_norms[step] > c  # every step of this run is clipped ...
        assert moved == pytest.approx(lr * c, rel=1e-4)  # ... so it moves by η c
        clipped = math.sqrt(sum(g ** 2 for g, _ in record.values()))
        assert clipped == pytest.approx(c, rel=1e-5)  # on_step sees the clipped gradient


def test_a_step_clipped_by_train_step_is_torchs(data):
    x, y, *_ = check_data(data, mlp(), check_device("cpu"))
    idx = next(minibatches(len(x), 64, seed=0))
    ours, theirs = mlp(seed=5), mlp(seed=5)
    opt = make_optimizer("sgd", ours.parameters(), 1.0, 0.9)
    reference = torch.optim.SGD(theirs.parameters(), lr=1.0, momentum=0.9)
    for _ in range(3):
        _, grad_norm = train_step(ours, opt, x[idx], y[idx], 1.0, clip_grad_norm=0.05)
        reference.zero_grad()
        F.cross_entropy(theirs(x[idx]), y[idx]).backward()
        norm = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 0.05)
        reference.step()
        assert grad_norm == pytest.approx(norm.item(), rel=1e-6) and grad_norm > 0.05
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_clipping_above_every_norm_changes_nothing(data):
    plain = train(mlp(seed=1), data, lr=0.1, seed=3)
    loose = train(mlp(seed=1), data, lr=0.1, seed=3, clip_grad_norm=1e6)
    assert loose.losses == plain.losses and loose.grad_norms == plain.grad_norms


def test_the_default_is_the_plain_loop(data):
    """train's default numbers are those of a plain torch loop: nothing added changes them."""
    model, reference = mlp(seed=1), mlp(seed=1)
    history = train(model, data, lr=0.2, momentum=0.5, seed=5, num_epochs=2)
    opt = torch.optim.SGD(reference.parameters(), lr=0.2, momentum=0.5)
    x, y = data[0], data[1]
    losses = []
    for _, idx in zip(range(len(history.losses)), minibatches(len(x), 64, seed=5)):
        loss = F.cross_entropy(reference(x[idx]), y[idx])
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert history.losses == losses
    assert history.update_ratios == {}  # off by default
    logged = train(mlp(seed=1), data, lr=0.2, momentum=0.5, seed=5, num_epochs=2,
                   log_updates=True, clip_grad_norm=None)
    assert logged.losses == history.losses and logged.test_acc == history.test_acc


def test_a_diverged_step_has_no_ratio(data):
    history = train(mlp(), data, lr=1000.0, log_updates=True)
    assert history.diverged
    for ratios in history.update_ratios.values():
        assert len(ratios) == len(history.losses) and math.isnan(ratios[-1])
        assert all(math.isfinite(r) for r in ratios[:-1])


def test_dead_fraction_is_logged_at_every_evaluation(data):
    model = mlp(seed=0)
    history = train(model, data, lr=3.0, eval_every=5)
    assert len(history.dead_fraction) == len(history.eval_step)
    assert history.dead_fraction[0] == 0 and history.dead_fraction[-1] > 0.3  # η = 3 kills units
    assert history.dead_fraction[-1] == dead_fraction(model, data[0])  # the filters' definition
    cnn = small_cnn(seed=0)
    history = train(cnn, data, lr=0.1)
    assert history.dead_fraction[-1] == dead_fraction(cnn, data[0])  # a unit is a channel
    assert train(mlp(activation="tanh"), data, lr=0.1).dead_fraction == []  # no ReLU: nothing


def test_dead_units_counts_every_relu_layer_and_every_call():
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2),
                              torch.nn.ReLU())
    with torch.no_grad():
        net[0].weight.fill_(1.0), net[0].bias.zero_()
        net[2].weight.fill_(-1.0), net[2].bias.zero_()  # layer 2: its inputs are ≥ 0, all dead
    with DeadUnits(net) as dead, torch.no_grad():
        net(torch.ones(5, 3))
        net(-torch.ones(5, 3))  # a second batch: layer 1's units were alive on the first
    assert dead.num_units == 6 and dead.fraction == 2 / 6
    net(torch.ones(1, 3))  # after the with block: hooks removed, nothing more counted
    assert dead.num_units == 6 and not net._forward_hooks and not net[1]._forward_hooks
    with DeadUnits(torch.nn.Linear(3, 2)) as none:
        none.model(torch.ones(1, 3))
    assert none.num_units == 0 and math.isnan(none.fraction)


def test_update_ratios_need_before():
    ratios = UpdateRatios(torch.nn.Linear(2, 1))
    with pytest.raises(RuntimeError, match="without before"):
        ratios.after()


def test_log_updates_costs_little(data):
    """Measured, not asserted tightly: the copy of the weights per step (reported with -s)."""
    x = load_digits(n_train=2000, n_test=10)
    plain = min(train(mlp(), x, lr=0.1).seconds for _ in range(3))
    logged = min(train(mlp(), x, lr=0.1, log_updates=True).seconds for _ in range(3))
    print(f"\nlog_updates: {plain:.3f} s → {logged:.3f} s ({logged / plain - 1:+.0%})")
    assert logged < 3 * plain
