"""Pauli noise injection: per-sample Paulis applied by the engine, checked against explicit
Pauli gates, against the density-matrix mode's Pauli channel, and through both gradients."""

import random

import numpy as np
import pytest
import torch

import qml
from qml import Circuit, Input
from qml.sim.density import Channel, density_expval_z, simulate_density
from qml.sim.errors import PauliErrors, sample_pauli_errors

from .conftest import assert_matches_finite_differences, random_circuit

LETTERS = "ixyz"


def _with_gates(circuit: Circuit, sites, draw) -> Circuit:
    """The circuit with sample's drawn Paulis inserted as ordinary gates."""
    out = Circuit(circuit.n_wires)
    for i, op in enumerate(circuit.ops):
        out.append(op.name, op.wires, op.params, adjoint=op.adjoint, matrix=op.matrix)
        for (after, wires), p in zip(sites, draw):
            if after == i:
                for j, w in enumerate(wires):
                    letter = LETTERS[p // 4 ** (len(wires) - 1 - j) % 4]
                    if letter != "i":
                        out.append(letter, w)
    return out


def _projector(state):
    return state.unsqueeze(-1) * state.conj().unsqueeze(-2)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("gradient", ["autograd", "adjoint"])
def test_each_sample_gets_its_own_paulis(seed, gradient):
    rng = random.Random(seed)
    n = rng.randint(2, 5)
    c = random_circuit(n, 25, rng)
    sites = [(i, tuple(rng.sample(range(n), rng.randint(1, 2)))) for i in sorted(rng.sample(range(25), 8))]
    draws = torch.tensor([[rng.randrange(4 ** len(w)) for _, w in sites] for _ in range(6)])
    states = qml.simulate(c, errors=PauliErrors(sites, draws), dtype=torch.complex128, gradient=gradient)
    for s in range(6):
        expected = qml.simulate(_with_gates(c, sites, draws[s].tolist()), dtype=torch.complex128)[0]
        assert torch.allclose(_projector(states[s]), _projector(expected), atol=1e-12)


def test_real_circuits_stay_real_and_batched_inputs_work():
    c = Circuit(3).ry(0, Input(0)).ry(1, Input(1)).cx(0, 1).ry(2, "a").cz(1, 2).h(0)
    sites = [(2, (0, 1)), (4, (2,)), (5, (0,))]
    x = torch.rand(7, 2)
    errors = sample_pauli_errors(sites, [[0.25] * 16 and [1 / 16] * 16, [0.1, 0.3, 0.3, 0.3], [0.5, 0.5, 0, 0]],
                                 batch=7, seed=3)
    states = qml.simulate(c, torch.tensor([0.4]), x, errors=errors)
    for s in range(7):
        expected = qml.simulate(_with_gates(c, sites, errors.draws[s].tolist()), torch.tensor([0.4]), x[s:s + 1])[0]
        assert torch.allclose(_projector(states[s]), _projector(expected), atol=1e-6)


def test_average_over_draws_is_the_pauli_channel():
    """Mean <Z> over 40000 draws equals the density-matrix mode with the twirled channel (5 sigma)."""
    rng = random.Random(7)
    c = random_circuit(3, 12, rng, gates=["rx", "ry", "cx", "crz", "h", "u3"])
    probs1 = [0.9, 0.04, 0.03, 0.03]
    probs2 = np.full(16, 0.01)
    probs2[0] = 0.85
    sites = [(2, (1,)), (5, (0, 2)), (9, (2,))]
    prob_list = [probs1, probs2, probs1]
    errors = sample_pauli_errors(sites, prob_list, batch=40000, seed=1)
    z = qml.expval_z(qml.simulate(c, errors=errors, dtype=torch.complex128))
    paulis = {"i": np.eye(2), "x": np.array([[0, 1], [1, 0]]), "y": np.array([[0, -1j], [1j, 0]]),
              "z": np.diag([1, -1])}

    def superop(p, k):
        total = 0
        for idx, prob in enumerate(p):
            m = np.ones((1, 1))
            for j in range(k):
                m = np.kron(m, paulis[LETTERS[idx // 4 ** (k - 1 - j) % 4]])
            total = total + prob * np.kron(m, m.conj())
        return total
    channels = [Channel(after, wires, superop(p, len(wires))) for (after, wires), p in zip(sites, prob_list)]
    exact = density_expval_z(simulate_density(c, channels=channels, dtype=torch.complex128))[0]
    sigma = z.std(0) / 200
    assert ((z.mean(0) - exact).abs() < 5 * sigma + 1e-9).all(), (z.mean(0), exact)


def test_gradients_with_errors_match_finite_differences():
    c = Circuit(3).ry(0, Input(0)).u3(1, "a", "b", 0.2).cx(0, 1).crx(1, 2, "c").rz(2, "a").cry(2, 0, "b")
    sites = [(1, (1,)), (2, (0, 1)), (4, (2,))]
    errors = sample_pauli_errors(sites, [[0.4, 0.2, 0.2, 0.2], [1 / 16] * 16, [0.5, 0, 0.5, 0]], batch=5, seed=2)
    x = torch.rand(5, 1, dtype=torch.float64)
    w = torch.tensor([1.0, -0.5, 2.0], dtype=torch.float64)
    for gradient in ("autograd", "adjoint"):
        loss = lambda q: (qml.expval_z(qml.simulate(c, q, x, errors=errors, dtype=torch.complex128,
                                                    gradient=gradient)) * w).sum()
        assert_matches_finite_differences(loss, torch.rand(3, dtype=torch.float64))


@pytest.mark.parametrize("call, match", [
    (lambda: PauliErrors([(0, (0,))], torch.zeros(3, 2, dtype=torch.int64)), r"shape \(batch, 1\)"),
    (lambda: PauliErrors([(0, (0,))], torch.full((3, 1), 4)), "outside 0..4"),
    (lambda: sample_pauli_errors([(0, (0,))], [[0.5, 0.5]], 3), "needs 4 Pauli probabilities"),
    (lambda: sample_pauli_errors([(0, (0,))], [[0.5, 0.6, 0, 0]], 3), "sum to 1"),
    (lambda: qml.simulate(Circuit(1).h(0), errors=sample_pauli_errors([(3, (0,))], [[1, 0, 0, 0]], 2)),
     "follows op 3"),
    (lambda: qml.simulate(Circuit(1).rx(0, Input(0)), None, torch.zeros(3, 1),
                          errors=sample_pauli_errors([(0, (0,))], [[1, 0, 0, 0]], 2)), "batch sizes differ"),
])
def test_bad_errors_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
