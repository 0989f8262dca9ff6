"""The activations and their derivatives match the slides' formulas."""

import pytest
import torch

from src.models.activations import make_activation

A = torch.linspace(-4, 4, 81, dtype=torch.float64)


def _grad(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    a = A.clone().requires_grad_(True)
    out = make_activation(name)(a)
    out.sum().backward()
    return out.detach(), a.grad


def test_sigmoid_derivative_is_s_times_one_minus_s():
    s, grad = _grad("sigmoid")
    assert torch.allclose(s, 1 / (1 + torch.exp(-A)))
    assert torch.allclose(grad, s * (1 - s))


def test_tanh_derivative_is_4_over_sum_of_exponentials_squared():
    t, grad = _grad("tanh")
    assert torch.allclose(t, (torch.exp(A) - torch.exp(-A)) / (torch.exp(A) + torch.exp(-A)))
    assert torch.allclose(grad, 4 / (torch.exp(A) + torch.exp(-A)) ** 2)


def test_relu_derivative_is_zero_or_one():
    r, grad = _grad("relu")
    assert torch.equal(r, torch.clamp(A, min=0))
    assert torch.equal(grad, (A > 0).to(A.dtype))


def test_softmax_jacobian_is_s_i_times_delta_ij_minus_s_j():
    a = torch.tensor([0.3, -1.2, 2.0, 0.5], dtype=torch.float64)
    s = torch.softmax(a, dim=0)
    jacobian = torch.autograd.functional.jacobian(lambda x: torch.softmax(x, dim=0), a)
    expected = torch.diag(s) - torch.outer(s, s)  # s_i (delta_ij - s_j)
    assert torch.allclose(jacobian, expected)


def test_step_is_the_threshold_with_a_straight_through_gradient():
    out, grad = _grad("step")
    assert torch.equal(out, (A > 0).to(A.dtype))
    assert torch.equal(grad, (A.abs() <= 1).to(A.dtype))  # hardtanh's derivative


@pytest.mark.parametrize("name", ["leaky_relu", "elu", "gelu"])
def test_other_activations_are_differentiable(name):
    out, grad = _grad(name)
    assert torch.isfinite(out).all() and torch.isfinite(grad).all()
    assert grad[-1] > 0.9  # ~ identity for large positive inputs
