"""Every gate record: unitary, and equal to qiskit's matrix with the bit order reversed."""

import math
import random

import numpy as np
import pytest
import torch

from qml.gates import ALIASES, GATES, get_gate, mcx
from qml.interop import qiskit_gate, reverse_bits_matrix


def _random_params(n, seed):
    r = random.Random(seed)
    return [r.uniform(-2 * math.pi, 2 * math.pi) for _ in range(n)]


@pytest.mark.parametrize("name", sorted(GATES))
@pytest.mark.parametrize("seed", range(3))
def test_matrix_matches_qiskit(name, seed):
    from qiskit.quantum_info import Operator

    gate = GATES[name]
    params = _random_params(gate.n_params, seed)
    ours = gate.matrix(torch.tensor(params, dtype=torch.float64)).numpy()
    theirs = qiskit_gate(gate, params)
    expected = reverse_bits_matrix(Operator(theirs).data)
    np.testing.assert_allclose(ours, expected, atol=1e-12)
    np.testing.assert_allclose(ours.conj().T @ ours, np.eye(2 ** gate.n_wires), atol=1e-12)


@pytest.mark.parametrize("name", sorted(GATES))
def test_flags_agree_with_the_matrix(name):
    gate = GATES[name]
    m = gate.matrix(torch.tensor(_random_params(gate.n_params, 7), dtype=torch.float64))
    off_diagonal = m - torch.diag_embed(torch.diagonal(m))
    assert gate.diagonal == bool(torch.allclose(off_diagonal, torch.zeros_like(m)))
    if gate.real:
        assert torch.allclose(m.imag, torch.zeros_like(m.real))
    if gate.permutation:
        assert set(m.abs().flatten().tolist()) <= {0.0, 1.0} and torch.allclose(m.imag, torch.zeros_like(m.real))
    dim, k = m.shape[0], 2 ** (gate.n_wires - gate.controls)
    assert torch.allclose(m[: dim - k, : dim - k], torch.eye(dim - k, dtype=m.dtype))
    assert len(gate.shift_rules) == len(gate.frequencies) == gate.n_params


@pytest.mark.parametrize("name", sorted(g for g in GATES if GATES[g].n_params))
def test_analytic_backward_matches_finite_differences(name):
    """The table's backward (d cos = -sin, ...) against central differences, per entry (1e-8)."""
    gate = GATES[name]
    params = torch.tensor(_random_params(gate.n_params, 3), dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda p: torch.view_as_real(gate.matrix(p)), params)
    h = 1e-6
    for k in range(gate.n_params):
        step = torch.zeros_like(params)
        step[k] = h
        numeric = (gate.matrix(params + step) - gate.matrix(params - step)) / (2 * h)
        analytic = torch.complex(jac[..., 0, k], jac[..., 1, k])
        assert (analytic - numeric).abs().max() < 1e-8


def test_batched_parameters_give_batched_matrices():
    p = torch.rand(5, 7, 3)
    m = GATES["cu3"].matrix(p)
    assert m.shape == (5, 7, 4, 4) and m.dtype == torch.complex64
    assert torch.allclose(m[2, 3], GATES["cu3"].matrix(p[2, 3]))


def test_mcx_and_aliases():
    from qiskit.circuit.library import MCXGate
    from qiskit.quantum_info import Operator

    m = mcx(4).matrix(torch.zeros(0, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(m, reverse_bits_matrix(Operator(MCXGate(3)).data), atol=1e-12)
    for alias, name in ALIASES.items():
        assert get_gate(alias) is GATES[name]
    with pytest.raises(ValueError, match="unknown gate 'foo'.*known gates: ccx"):
        get_gate("foo")
