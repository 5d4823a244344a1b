"""The density-matrix mode against qiskit's DensityMatrix with random channels, and its gradients."""

import random

import numpy as np
import pytest
import torch

import qml
from qml import Circuit, Input
from qml.interop import reverse_bits_matrix
from qml.sim.density import Channel, density_expval, density_expval_z, density_probabilities, simulate_density

from .conftest import assert_matches_finite_differences, random_circuit


def _ours(channel) -> np.ndarray:
    """A qiskit channel as our superoperator, from its Kraus operators (independent of noise/)."""
    from qiskit.quantum_info import Kraus

    ks = [reverse_bits_matrix(np.asarray(k)) for k in Kraus(channel).data]
    return sum(np.kron(k, k.conj()) for k in ks)


@pytest.mark.parametrize("seed", range(10))
def test_random_circuits_and_channels_match_qiskit(seed):
    from qiskit.quantum_info import DensityMatrix, random_quantum_channel

    rng = random.Random(seed)
    n = rng.randint(1, 4)
    c = random_circuit(n, 15, rng)
    channels, qiskit_channels = [], []
    for i in rng.sample(range(len(c.ops)), 6):
        k = min(rng.randint(1, 2), n)
        wires = tuple(rng.sample(range(n), k))
        ch = random_quantum_channel(2 ** k, seed=rng.randint(0, 10 ** 6))
        qiskit_channels.append(ch)
        channels.append(Channel(i, wires, _ours(ch)))
    ours = simulate_density(c, channels=channels, dtype=torch.complex128)[0].numpy()
    rho = DensityMatrix.from_label("0" * n)
    by_op = {}
    for ch, q in zip(channels, qiskit_channels):
        by_op.setdefault(ch.after, []).append((ch.wires, q))
    for i, op in enumerate(c.ops):
        rho = rho.evolve(Circuit(n, [op]).to_qiskit())
        for wires, q in by_op.get(i, []):
            rho = rho.evolve(q, qargs=list(wires))   # the channel's qubit 0 is our first wire
    expected = reverse_bits_matrix(rho.data)
    assert np.abs(ours - expected).max() < 1e-12


def test_per_sample_inputs_and_parameters_batch():
    c = Circuit(2).ry(0, Input(0)).rx(1, "a").cx(0, 1).crz(1, 0, "b")
    flip = np.eye(4) * 0.8 + 0.2 * np.fliplr(np.eye(4))          # bit flip, p = 0.2
    channels = [Channel(2, (1,), flip)]
    x = torch.rand(5, 1, dtype=torch.float64)
    p = torch.rand(5, 2, dtype=torch.float64)
    batched = simulate_density(c, p, x, channels=channels, dtype=torch.complex128)
    for s in range(5):
        one = simulate_density(c, p[s], x[s:s + 1], channels=channels, dtype=torch.complex128)[0]
        assert torch.allclose(batched[s], one, atol=1e-12)


def test_gradients_match_finite_differences():
    torch.manual_seed(0)
    c = Circuit(3).ry(0, Input(0)).u3(1, "a", "b", 0.3).cx(0, 1).crx(1, 2, "c").rz(2, "a")
    damp = 0.3                                                   # amplitude damping on wire 2
    k0 = np.array([[1, 0], [0, np.sqrt(1 - damp)]])
    k1 = np.array([[0, np.sqrt(damp)], [0, 0]])
    channels = [Channel(3, (2,), np.kron(k0, k0) + np.kron(k1, k1)), Channel(2, (0, 1), np.eye(16))]
    x = torch.rand(4, 1, dtype=torch.float64)
    readout = [(0.02, 0.05), (0.0, 0.0), (0.1, 0.03)]

    def loss(p):
        rho = simulate_density(c, p, x, channels=channels, dtype=torch.complex128)
        return (density_expval_z(rho, readout) * torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)).sum()

    assert_matches_finite_differences(loss, torch.rand(3, dtype=torch.float64))


@pytest.mark.parametrize("seed", range(6))
def test_density_expval_carries_observables_back_through_the_shared_tail(seed):
    """Inputs anywhere (re-uploading), channels, shared or per-sample angles: the Heisenberg
    tail gives Tr(O rho) of the forward density matrix to 1e-12, and the same gradients."""
    from qiskit.quantum_info import random_quantum_channel

    rng = random.Random(seed)
    n = rng.randint(2, 4)
    c = Circuit(n)
    for k in range(12):
        w = rng.sample(range(n), 2)
        kind = rng.choice(["input", "param", "cx", "crx"])
        if kind == "input":
            c.ry(w[0], Input(rng.randint(0, 2)))
        elif kind == "param":
            c.u3(w[0], f"a{k}", f"b{k}", 0.2)
        elif kind == "cx":
            c.cx(w[0], w[1])
        else:
            c.crx(w[0], w[1], f"c{k}")
    channels = [Channel(i, tuple(c.ops[i].wires), _ours(random_quantum_channel(2 ** len(c.ops[i].wires),
                                                                           seed=seed * 100 + i)))
                for i in rng.sample(range(len(c.ops)), 5)]
    x = torch.rand(4, 3, dtype=torch.float64)
    shape = (4, len(c.parameters)) if seed % 2 else (len(c.parameters),)
    p = torch.rand(*shape, dtype=torch.float64, requires_grad=True)
    obs = torch.randn(3, 2 ** n, dtype=torch.float64)
    fast = density_expval(c, obs, p, x, channels=channels, dtype=torch.complex128)
    rho = simulate_density(c, p, x, channels=channels, dtype=torch.complex128)
    slow = torch.einsum("bii,ki->bk", rho, obs.to(rho.dtype)).real
    assert torch.allclose(fast, slow, atol=1e-12)
    weights = torch.randn(4, 3, dtype=torch.float64)
    g_fast, = torch.autograd.grad((fast * weights).sum(), p)
    g_slow, = torch.autograd.grad((slow * weights).sum(), p)
    assert torch.allclose(g_fast, g_slow, atol=1e-10)


def test_density_expval_names_bad_observables():
    with pytest.raises(ValueError, match=r"observables must be real diagonals of shape \(k, 4\)"):
        density_expval(Circuit(2).h(0), torch.ones(1, 8))


def test_readout_confusion_acts_on_its_wire_only():
    rho = simulate_density(Circuit(3).x(1), dtype=torch.complex128)
    z = density_expval_z(rho, [(0.0, 0.0), (0.0, 0.25), (0.0, 0.0)])
    assert torch.allclose(z, torch.tensor([[1.0, -0.5, 1.0]], dtype=torch.float64))
    probs = density_probabilities(rho, [(0.1, 0.0), (0.0, 0.0), (0.0, 0.0)])
    assert probs[0, 0b010].item() == pytest.approx(0.9) and probs[0, 0b110].item() == pytest.approx(0.1)


@pytest.mark.parametrize("call, match", [
    (lambda: simulate_density(Circuit(13).h(0)), "at most 12 wires"),
    (lambda: simulate_density(Circuit(1).h(0), channels=[Channel(3, (0,), np.eye(4))]), "follows op 3"),
    (lambda: simulate_density(Circuit(1).h(0), channels=[Channel(0, (0,), np.eye(2))]), "4x4 superoperator"),
    (lambda: simulate_density(Circuit(1).h(0), channels=[Channel(0, (1,), np.eye(4))]), "distinct wires"),
    (lambda: density_expval_z(simulate_density(Circuit(1).h(0)), [(1.5, 0)]), r"in \[0, 1\]"),
    (lambda: density_expval_z(simulate_density(Circuit(2).h(0)), [(0.1, 0)]), "one .* pair per wire"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
