"""Our engine on a device's noise against Aer: the density-matrix mode exactly, sampled Pauli
injection on average; readout on the right wire; gradients; bad input."""

import random

import pytest
import torch

import qml
from noise.aer import expectations
from noise.devices import Device
from noise.program import density_expectations, injected_expectations, noisy_program, scale_pauli_probs

from ..qml.conftest import assert_matches_finite_differences, random_circuit
from .conftest import line_device

torch.set_num_threads(1)  # the suite shares two cores
GATES = ["h", "x", "sx", "rx", "ry", "rz", "u3", "cx", "cz", "crx", "cu3", "rzz", "swap"]


def _circuits(count, seed):
    rng = random.Random(seed)
    return [random_circuit(4, rng.randint(5, 25), rng, gates=GATES) for _ in range(count)]


@pytest.mark.parametrize("name", ["santiago", "yorktown"])
def test_density_mode_equals_aer_density_matrix_on_50_random_circuits(name):
    """Per-wire <Z> within 1e-4 (complex128: they agree to ~1e-8) on the same transpiled circuits."""
    device = Device.from_name(name)
    worst = 0.0
    for c in _circuits(50, seed=1 if name == "santiago" else 2):
        ours = density_expectations(c, device, dtype=torch.complex128)
        theirs = expectations(c, device, shots=None)
        worst = max(worst, (ours - theirs).abs().max().item())
    assert worst < 1e-4


@pytest.mark.parametrize("name", ["santiago", "yorktown"])
def test_sampled_injection_averages_to_aer_within_003(name):
    """Pauli-twirled injection, 4000 draws per circuit, against Aer's exact noisy <Z>: the mean
    absolute difference over 50 circuits and 4 wires is below 0.03 (twirling relaxation is the
    only approximation; the draws' own noise is ~0.016 / sqrt(#wires x circuits))."""
    device = Device.from_name(name)
    diffs = []
    for i, c in enumerate(_circuits(50, seed=3)):
        z = injected_expectations(c, device, batch=4000, seed=i, dtype=torch.complex64).mean(0)
        diffs.append((z.double() - expectations(c, device, shots=None)[0]).abs())
    assert torch.stack(diffs).mean().item() < 0.03


def test_zero_noise_equals_the_noise_free_engine():
    device = Device.from_name("santiago").scaled(0)
    c = (qml.Circuit(3).ry(0, qml.Input(0)).cu3(0, 2, "a", "b", 0.3).rx(1, "b").cx(1, 2))
    x = torch.rand(5, 1, dtype=torch.float64)
    p = torch.tensor([0.4, -1.2], dtype=torch.float64)
    ref = qml.expval_z(qml.simulate(c, p, x, dtype=torch.complex128))
    assert torch.allclose(density_expectations(c, device, p, x, mapping=[4, 2, 0], dtype=torch.complex128), ref,
                          atol=1e-10)
    z = injected_expectations(c, device, p.float(), x.float(), mapping=[4, 2, 0])
    assert torch.allclose(z.double(), ref, atol=1e-5)


@pytest.mark.parametrize("mapping", [(0, 1, 2, 3, 4), (4, 3, 2, 1, 0), (1, 4, 0, 2, 3)])
def test_readout_error_lands_on_the_logical_wire(mapping):
    device = line_device(5, readout={4: (0.1, 0.2)})
    c = qml.Circuit(5).x(1).x(3)
    wire = mapping.index(4)
    ref = qml.expval_z(qml.simulate(c, dtype=torch.complex128))[0]
    expected = ref.clone()
    expected[wire] = 0.8 if ref[wire] > 0 else -0.6            # 1 - 2 P(1|0) or -(1 - 2 P(0|1))
    for z in (density_expectations(c, device, mapping=mapping, dtype=torch.complex128)[0],
              injected_expectations(c, device, mapping=mapping)[0].double()):
        assert torch.allclose(z, expected, atol=1e-6), (mapping, z)


def test_density_gradients_through_a_device_match_finite_differences(santiago):
    c = qml.Circuit(2).ry(0, qml.Input(0)).u3(1, "a", "b", 0.2).cx(0, 1).crz(1, 0, "a")
    x = torch.rand(3, 1, dtype=torch.float64)
    loss = lambda p: density_expectations(c, santiago, p, x, dtype=torch.complex128).sum()
    assert_matches_finite_differences(loss, torch.tensor([0.3, -0.8], dtype=torch.float64))


def test_the_program_is_the_transpiled_circuit_with_its_noise(santiago):
    c = qml.Circuit(2).h(0).cx(0, 1)
    p = noisy_program(c, santiago, mapping=[3, 2])
    assert p.qubits == (2, 3) and p.measured == (1, 0)
    assert set(p.circuit.count_ops()) <= {"rz", "sx", "x", "cx", "barrier"}
    assert len(p.sites) == len(p.pauli_probs) == len(p.channels)
    assert noisy_program(c, santiago, mapping=[3, 2]) is p              # cached
    assert abs(scale_pauli_probs(p.pauli_probs[0], 2.0)[1:].sum() - 2 * p.pauli_probs[0][1:].sum()) < 1e-12


def test_bad_input_is_named(santiago):
    c = qml.Circuit(2).h(0).cx(0, 1)
    with pytest.raises(ValueError, match="T must be a number >= 0"):
        injected_expectations(c, santiago, T=-0.5)
    with pytest.raises(ValueError, match="exceed 1"):
        injected_expectations(c, santiago, T=1e4)
    with pytest.raises(ValueError, match="only 5 qubits"):
        density_expectations(qml.Circuit(6).h(0), santiago)
    with pytest.raises(ValueError, match="more than once"):
        density_expectations(c, santiago, mapping=[1, 1])
    with pytest.raises(ValueError, match="outside|not on|out of range"):
        density_expectations(c, santiago, mapping=[0, 7])
