"""DirectStep equals optimizer.step() for every optimizer the pipeline offers."""

import pytest
import torch
from torch import nn

from src.models.direct_step import DirectStep

OPTIMIZERS = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.05, fused=True),
    "momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, fused=True),
    "nesterov_wd": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.05, fused=True),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.5),
    "rmsprop_centered": lambda p: torch.optim.RMSprop(p, lr=0.01, centered=True),
    "adam": lambda p: torch.optim.Adam(p, lr=0.01, fused=True),
    "adam_amsgrad_wd": lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1, amsgrad=True),
    "adamw": lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1, fused=True),
}


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 3))


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_direct_step_equals_optimizer_step_with_a_scheduler(name):
    X, y = torch.randn(48, 6, generator=torch.Generator().manual_seed(1)), torch.arange(48) % 3
    reference, direct_net = _net(), _net()
    ref_opt, opt = OPTIMIZERS[name](reference.parameters()), OPTIMIZERS[name](direct_net.parameters())
    ref_decay = torch.optim.lr_scheduler.ExponentialLR(ref_opt, 0.8)
    decay = torch.optim.lr_scheduler.ExponentialLR(opt, 0.8)
    params = list(direct_net.parameters())
    step = DirectStep(opt, params)
    for _ in range(15):
        ref_opt.zero_grad()
        nn.functional.cross_entropy(reference(X), y).backward()
        ref_opt.step()
        ref_decay.step()
        step(torch.autograd.grad(nn.functional.cross_entropy(direct_net(X), y), params))
        decay.step()
    assert step._update is not None  # the fast path was taken after the first step
    for a, b in zip(reference.parameters(), direct_net.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-7)
    # The optimizer's own state is the one updated: a checkpoint of it is current.
    ref_state, state = ref_opt.state_dict()["state"], opt.state_dict()["state"]
    for key in ref_state:
        for field, value in ref_state[key].items():
            torch.testing.assert_close(state[key][field], value, rtol=0, atol=1e-7)
    assert all(p.grad is None for p in params)  # gradients are passed, not left in .grad


def test_several_parameter_groups_fall_back_to_optimizer_step():
    net = _net()
    first, second = list(net[0].parameters()), list(net[2].parameters())
    opt = torch.optim.Adam([{"params": first}, {"params": second, "lr": 0.1}], lr=0.01)
    step = DirectStep(opt, first + second)
    X, y = torch.randn(8, 6), torch.arange(8) % 3
    before = [p.detach().clone() for p in net.parameters()]
    for _ in range(2):
        step(torch.autograd.grad(nn.functional.cross_entropy(net(X), y), first + second))
    assert step._update is None
    assert all(not torch.equal(a, b) for a, b in zip(before, net.parameters()))
    assert float(opt.state_dict()["state"][0]["step"]) == 2


def test_loading_a_state_dict_rebinds_the_update():
    X, y = torch.randn(48, 6, generator=torch.Generator().manual_seed(1)), torch.arange(48) % 3
    reference, direct_net = _net(), _net()
    ref_opt, opt = torch.optim.Adam(reference.parameters(), lr=0.01), torch.optim.Adam(direct_net.parameters(), lr=0.01)
    params = list(direct_net.parameters())
    step = DirectStep(opt, params)

    def both_step():
        ref_opt.zero_grad()
        nn.functional.cross_entropy(reference(X), y).backward()
        ref_opt.step()
        step(torch.autograd.grad(nn.functional.cross_entropy(direct_net(X), y), params))

    for _ in range(3):
        both_step()
    import copy

    saved = copy.deepcopy(ref_opt.state_dict())  # a checkpoint: new state tensors once loaded
    ref_opt.load_state_dict(saved)
    opt.load_state_dict(copy.deepcopy(saved))
    assert step._update is None  # the held state tensors are stale: bind again
    for _ in range(5):
        both_step()
    for a, b in zip(reference.parameters(), direct_net.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-7)
    assert int(opt.state_dict()["state"][0]["step"]) == 8  # the loaded state is the one stepped
