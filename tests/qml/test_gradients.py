"""Autograd, adjoint and parameter shift agree with central finite differences (complex128)."""

import random

import pytest
import torch

import qml
from qml import Input, Param
from qml.gates import GATES

from .conftest import random_circuit

PARAMETERIZED = sorted(g for g in GATES if GATES[g].n_params) + ["cx", "h", "swap", "ccx"]
N_PARAMS = 6
TOL = 1e-6
H = 1e-6  # finite-difference step


def _circuit(seed):
    """Random circuit whose angles are shared trainable parameters, constants and inputs."""
    def param(i, r):
        k = r.random()
        return Param(f"p{r.randrange(N_PARAMS)}") if k < 0.6 else Input(r.randrange(3)) if k < 0.8 else r.random()
    c = random_circuit(4, 30, random.Random(seed), gates=PARAMETERIZED, param=param)
    for i, name in enumerate(c.parameters):  # every parameter used by every parameterized kind
        assert name
    return c


def _loss_fn(c, inputs, observable):
    def f(params, gradient):
        e = qml.expectation(c, observable, params, inputs, gradient=gradient, dtype=torch.complex128)
        weights = torch.linspace(0.5, 1.5, e.numel(), dtype=e.dtype).view_as(e)
        return (e * weights).sum()
    return f


def _finite_difference(f, params):
    grad = torch.zeros_like(params)
    flat = grad.view(-1)
    for i in range(params.numel()):
        up, down = params.clone(), params.clone()
        up.view(-1)[i] += H
        down.view(-1)[i] -= H
        flat[i] = (f(up, "autograd") - f(down, "autograd")) / (2 * H)
    return grad


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("per_sample", [False, True])
def test_three_methods_agree_with_finite_differences(seed, per_sample):
    torch.manual_seed(seed)
    c = _circuit(seed)
    p = len(c.parameters)
    batch = 3
    inputs = torch.rand(batch, 3, dtype=torch.float64)
    observable = [qml.PauliSum([(0.7, "XZIY"), (-1.3, "ZZII")]), qml.PauliSum([(1.0, "IIXX")])] \
        if seed % 2 else "Z"
    params = torch.rand((batch, p) if per_sample else (p,), dtype=torch.float64) * 6 - 3
    f = _loss_fn(c, inputs, observable)
    with torch.no_grad():
        expected = _finite_difference(f, params)
    for method in ("autograd", "adjoint", "parameter-shift"):
        x = params.clone().requires_grad_(True)
        f(x, method).backward()
        err = (x.grad - expected).abs().max().item()
        assert err < TOL, f"{method}: max error {err:.2e}"


def test_every_parameterized_gate_is_covered():
    used = set()
    for seed in range(4):
        used |= {op.name for op in _circuit(seed).ops if any(isinstance(p, Param) for p in op.params)}
    assert used >= {g for g in GATES if GATES[g].n_params}


@pytest.mark.parametrize("name", sorted(g for g in GATES if GATES[g].n_params))
def test_parameter_shift_per_gate(name):
    """Each gate alone, every angle trainable: the shift rule is exact for that gate."""
    gate = GATES[name]
    c = qml.Circuit(3).h(0).h(1).h(2).rx(0, 0.3).ry(1, 0.2)
    c.append(name, [2, 0, 1][: gate.n_wires], [f"a{i}" for i in range(gate.n_params)])
    c.append(name, [1, 2, 0][: gate.n_wires], [f"a{i}" for i in reversed(range(gate.n_params))])
    obs = [qml.PauliSum([(1.0, "XYZ")]), qml.PauliSum([(1.0, "ZXI"), (0.5, "IYY")])]
    f = _loss_fn(c, None, obs)
    params = torch.linspace(-2, 2.5, gate.n_params, dtype=torch.float64)
    with torch.no_grad():
        expected = _finite_difference(f, params)
    x = params.clone().requires_grad_(True)
    f(x, "parameter-shift").backward()
    assert (x.grad - expected).abs().max() < TOL


def test_adjoint_through_adjoint_ops_and_initial_state():
    c = qml.Circuit(2).u3(0, "a", "b", "c").cu3(0, 1, "b", "a", "c").inverse().rzz(0, 1, "a")
    psi0 = torch.randn(2, 4, dtype=torch.complex128)
    psi0 = psi0 / psi0.norm(dim=1, keepdim=True)
    params = torch.tensor([0.3, -0.7, 1.1], dtype=torch.float64)
    grads = []
    for method in ("autograd", "adjoint"):
        x = params.clone().requires_grad_(True)
        s = qml.simulate(c, x, dtype=torch.complex128, gradient=method, initial_state=psi0)
        qml.expval_z(s).sum().backward()
        grads.append(x.grad)
    assert torch.allclose(grads[0], grads[1], atol=1e-10)
