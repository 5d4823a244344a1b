"""noise.aer: circuits and QNNs on a device's Aer noise model.

Shot estimates are compared with a tolerance of 5 standard errors: one shot of <Z> has
variance 1 - <Z>^2 <= 1, so an estimate from N shots is within 5/sqrt(N) of its mean except
with probability below 1e-6 per value (and the seeds are fixed).
"""

import doctest
import math
import subprocess
import sys

import pytest
import torch

import qml
from noise import aer
from noise.devices import Device

from .conftest import line_device

torch.set_num_threads(1)  # the suite shares two cores
SHOTS = 8192
TOL = 5 / math.sqrt(SHOTS)


def sample_circuit():
    """Three wires, inputs and trainable parameters, a cx between wires 0 and 2."""
    return (qml.Circuit(3).ry(0, qml.Input(0)).rx(1, qml.Input(1)).cx(0, 2).ry(2, "a")
            .cx(1, 2).rz(0, "b").cx(0, 2).h(1).u3(2, "a", 0.3, "b"))


def reference(circuit, params=None, inputs=None):
    return qml.expval_z(qml.simulate(circuit, params, inputs, dtype=torch.complex128))


PARAMS = {"a": 0.4, "b": 1.1}
INPUTS = torch.tensor([[0.1, 2.0], [1.3, -0.7], [2.9, 0.4], [-2.0, 1.0]])


# --- agreement with the noise-free engine ------------------------------------------------------

def test_exact_noiseless_equals_the_engine(santiago):
    c = sample_circuit()
    for mapping in (None, [0, 1, 2], [4, 2, 0]):
        z = aer.expectations(c, santiago, PARAMS, INPUTS, shots=None, noise=False, mapping=mapping)
        assert z.shape == (4, 3) and z.dtype == torch.float64
        torch.testing.assert_close(z, reference(c, PARAMS, INPUTS), atol=1e-6, rtol=0)


def test_zero_error_device_equals_the_engine_within_shot_noise(santiago):
    c, clean = sample_circuit(), santiago.scaled(0)
    ref = reference(c, PARAMS, INPUTS)
    z = aer.expectations(c, clean, PARAMS, INPUTS, shots=SHOTS, seed=1)
    assert (z - ref).abs().max() < TOL
    assert (z - ref).abs().max() > 0  # shots, not an exact run
    exact = aer.expectations(c, clean, PARAMS, INPUTS, shots=None)
    torch.testing.assert_close(exact, ref, atol=1e-6, rtol=0)
    shots_only = aer.expectations(c, santiago, PARAMS, INPUTS, shots=SHOTS, noise="shots", seed=1)
    assert (shots_only - ref).abs().max() < TOL


def test_exact_noisy_is_the_limit_of_the_shot_estimates(santiago):
    """Gate errors, relaxation during measurement and readout error, all in the exact mode."""
    c, shots = sample_circuit(), 40_000
    noisy = santiago.scaled(3)
    exact = aer.expectations(c, noisy, PARAMS, INPUTS, shots=None, mapping=[3, 4, 2])
    sampled = aer.expectations(c, noisy, PARAMS, INPUTS, shots=shots, mapping=[3, 4, 2], seed=2)
    assert (exact - sampled).abs().max() < 5 / math.sqrt(shots)
    drawn = aer.expectations(c, noisy, PARAMS, INPUTS, shots=shots, mapping=[3, 4, 2], seed=2,
                             sampling="probabilities")
    assert (exact - drawn).abs().max() < 5 / math.sqrt(shots) and not torch.equal(exact, drawn)
    again = aer.expectations(c, noisy, PARAMS, INPUTS, shots=shots, mapping=[3, 4, 2], seed=2,
                             sampling="probabilities")
    assert torch.equal(drawn, again)  # seeded
    assert (exact - reference(c, PARAMS, INPUTS)).abs().max() > 0.05  # the noise shows


def test_parameter_forms_and_batch_broadcast(santiago):
    c = sample_circuit()
    names = c.parameters
    shared = torch.tensor([PARAMS[n] for n in names])
    per_sample = shared.repeat(len(INPUTS), 1)
    a = aer.expectations(c, santiago, PARAMS, INPUTS, shots=None, noise=False)
    b = aer.expectations(c, santiago, shared, INPUTS, shots=None, noise=False)
    d = aer.expectations(c, santiago, per_sample, INPUTS, shots=None, noise=False)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a, d)
    no_params = qml.Circuit(2).x(1)
    z = aer.expectations(no_params, santiago, shots=None, noise=False)
    torch.testing.assert_close(z, torch.tensor([[1.0, -1.0]], dtype=torch.float64))


# --- transpilation ----------------------------------------------------------------------------

def test_transpiles_once_per_structure(santiago, monkeypatch):
    import qiskit

    calls = []
    real = qiskit.transpile

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(qiskit, "transpile", counting)
    aer.clear_cache()
    c = sample_circuit()
    t = aer.transpile_for(c, santiago, mapping=[0, 1, 2])
    for k in range(3):
        aer.expectations(c, santiago, {"a": k, "b": -k}, INPUTS * k, shots=256, mapping=[0, 1, 2])
    aer.expectations(c, santiago, PARAMS, INPUTS, shots=None, mapping=[0, 1, 2])
    aer.expectations(c, santiago.scaled(0), PARAMS, INPUTS, shots=None, mapping=[0, 1, 2])
    aer.expectations(sample_circuit(), santiago, PARAMS, INPUTS, shots=64, noise=False,
                     mapping=[0, 1, 2])  # an equal circuit built again
    assert aer.transpile_for(c, santiago, mapping=(0, 1, 2)) is t
    assert len(calls) == 1
    aer.transpile_for(c, santiago, mapping=[0, 1, 2], seed=1)
    aer.transpile_for(c, santiago, mapping=[1, 2, 3])
    assert len(calls) == 3


def test_a_batch_is_one_aer_job(santiago, monkeypatch):
    from qiskit_aer import AerSimulator

    runs = []
    real = AerSimulator.run

    def counting(self, *args, **kwargs):
        runs.append(kwargs.get("parameter_binds"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(AerSimulator, "run", counting)
    c = sample_circuit()
    x = torch.rand(7, 2)
    whole = aer.expectations(c, santiago, PARAMS, x, shots=None)
    assert len(runs) == 1 and all(len(v) == 7 for v in runs[0][0].values())
    chunked = aer.expectations(c, santiago, PARAMS, x, shots=None, chunk_size=3, progress=False)
    assert len(runs) == 4
    torch.testing.assert_close(chunked, whole)


def test_final_layout_follows_the_routing_swaps(santiago):
    # santiago is a line 0-1-2-3-4: a cx between wires 0 and 2 on qubits 0, 1, 2 needs a swap
    c = qml.Circuit(3).x(1).cx(0, 2).h(0).cx(0, 2).ry(2, 0.4)
    t = aer.transpile_for(c, santiago, mapping=[0, 1, 2])
    assert t.initial == (0, 1, 2)
    assert t.final != t.initial and sorted(t.final) == [0, 1, 2]
    assert t.count_ops["cx"] > 2  # the swap's cx gates were added
    assert set(t.circuit.count_ops()) <= set(santiago.basis_gates)
    assert set(t.qubits) == {0, 1, 2} and t.depth == t.circuit.depth()
    ref = reference(c)
    z = aer.expectations(c, santiago, shots=None, noise=False, mapping=[0, 1, 2])
    torch.testing.assert_close(z, ref, atol=1e-9, rtol=0)
    # measured where the wires started instead, wire 1's |1> would be read on another wire
    import dataclasses
    wrong = dataclasses.replace(t, final=t.initial, _runnable={})
    z_wrong = aer.expectations(wrong, santiago, shots=None, noise=False)
    assert (z_wrong - ref).abs().max() > 0.5
    # a Transpiled object runs directly
    torch.testing.assert_close(aer.expectations(t, santiago, shots=None, noise=False), ref,
                               atol=1e-9, rtol=0)


def test_wires_on_idle_qubits_and_without_coupling_map(santiago):
    from types import SimpleNamespace

    c = qml.Circuit(3).x(1)
    ref = reference(c)
    z = aer.expectations(c, santiago, shots=None, noise=False, mapping=[4, 2, 0])
    torch.testing.assert_close(z, ref)
    free = SimpleNamespace(name="free", n_qubits=5, coupling_map=None, basis_gates=santiago.basis_gates,
                           noise_model=None)
    c = qml.Circuit(3).h(0).cx(0, 2).x(1).swap(1, 2)
    t = aer.transpile_for(c, free, mapping=[4, 2, 0])
    assert t.initial == (4, 2, 0)
    z = aer.expectations(c, free, shots=None, noise=False, mapping=[4, 2, 0])
    torch.testing.assert_close(z, reference(c), atol=1e-9, rtol=0)


# --- readout error lands on the logical wire ---------------------------------------------------

@pytest.mark.parametrize("mapping", [[0, 1, 4], [4, 3, 1], [2, 4, 3]])
def test_readout_error_lands_on_the_logical_wire(mapping):
    device = line_device(5, readout={4: (0.1, 0.2)})
    assert device.readout[4] == (0.1, 0.2)
    noisy_wire = mapping.index(4)
    c = qml.Circuit(3).ry(0, qml.Input(0)).ry(1, qml.Input(1)).ry(2, qml.Input(2))
    x = torch.tensor([[0.0, 0.0, 0.0], [math.pi, math.pi, math.pi]])
    ideal = torch.tensor([[1.0] * 3, [-1.0] * 3], dtype=torch.float64)
    expected = ideal.clone()
    expected[:, noisy_wire] = torch.tensor([1 - 2 * 0.1, -1 + 2 * 0.2], dtype=torch.float64)
    exact = aer.expectations(c, device, inputs=x, shots=None, mapping=mapping)
    torch.testing.assert_close(exact, expected, atol=1e-9, rtol=0)
    others = [w for w in range(3) if w != noisy_wire]
    for sampling in aer.SAMPLINGS:
        sampled = aer.expectations(c, device, inputs=x, shots=SHOTS, mapping=mapping, seed=3,
                                   sampling=sampling)
        assert (sampled - expected).abs().max() < TOL
        assert torch.equal(sampled[:, others], ideal[:, others])  # no error there: every shot agrees
    clean = aer.expectations(c, device, inputs=x, shots=SHOTS, mapping=mapping, noise=False)
    assert torch.equal(clean, ideal)


# --- bad input ---------------------------------------------------------------------------------

def test_bad_input_is_a_clear_error(santiago):
    c = sample_circuit()
    with pytest.raises(ValueError, match="6 wires but device 'santiago' has only 5 qubits"):
        aer.transpile_for(qml.Circuit(6).h(5), santiago)
    with pytest.raises(ValueError, match="gives 2 qubit"):
        aer.transpile_for(c, santiago, mapping=[0, 1])
    with pytest.raises(ValueError, match=r"uses qubit\(s\) \[1\] more than once"):
        aer.transpile_for(c, santiago, mapping=[1, 0, 1])
    with pytest.raises(ValueError, match="qubit 5 of mapping .* outside device 'santiago'"):
        aer.transpile_for(c, santiago, mapping=[0, 1, 5])
    with pytest.raises(ValueError, match="outside device"):
        aer.transpile_for(c, santiago, mapping=[-1, 1, 2])
    with pytest.raises(ValueError, match="qubit indices"):
        aer.transpile_for(c, santiago, mapping=[0, 1.0, 2])
    with pytest.raises(ValueError, match="list of physical qubits"):
        aer.transpile_for(c, santiago, mapping={0: 0, 1: 1, 2: 2})
    with pytest.raises(ValueError, match="must not contain measurements"):
        aer.transpile_for(qml.Circuit(2).h(0).measure(0), santiago)
    with pytest.raises(ValueError, match="shots"):
        aer.expectations(c, santiago, PARAMS, INPUTS, shots=0)
    with pytest.raises(ValueError, match="noise must be"):
        aer.expectations(c, santiago, PARAMS, INPUTS, noise="loud")
    with pytest.raises(ValueError, match="density_matrix"):
        aer.expectations(c, santiago, PARAMS, INPUTS, shots=None, method="statevector")
    with pytest.raises(ValueError, match="sampling must be one of"):
        aer.expectations(c, santiago, PARAMS, INPUTS, sampling="fast")
    with pytest.raises(ValueError, match="no params"):
        aer.expectations(c, santiago, None, INPUTS)
    with pytest.raises(ValueError, match=r"no value for \['b'\]"):
        aer.expectations(c, santiago, {"a": 1.0}, INPUTS)
    with pytest.raises(ValueError, match="no inputs"):
        aer.expectations(c, santiago, PARAMS)
    with pytest.raises(ValueError, match="batch size"):
        aer.expectations(c, santiago, torch.zeros(3, 2), INPUTS)


# --- QNNs ----------------------------------------------------------------------------------------

def test_qnn_on_a_four_qubit_device():
    from qml.layers import build_space
    from qml.model import QNN

    device = line_device(4, readout={q: (0.02, 0.03) for q in range(4)}, gate_error=2e-3, name="line4")
    model = QNN(4, "4x4_ryzxy", build_space("u3cu3", 4, 1), seed=0)
    x, y = torch.rand(6, 16, generator=torch.Generator().manual_seed(0)), torch.tensor([0, 1, 2, 3, 0, 1])
    z = aer.qnn_expectations(model, x, device, shots=1024)
    assert z.shape == (6, 4) and z.abs().max() <= 1
    with torch.no_grad():
        exact_free = aer.qnn_expectations(model, x, device, shots=None, noise=False)
        torch.testing.assert_close(exact_free, model.expectations(x).double(), atol=1e-5, rtol=0)
        clean_accuracy = (model(x).argmax(1) == y).double().mean().item()
    assert aer.qnn_accuracy(model, x, y, device, shots=None, noise=False) == clean_accuracy
    accuracy = aer.qnn_accuracy(model, x, y, device, shots=1024)
    assert 0 <= accuracy <= 1
    with pytest.raises(ValueError, match="6 samples but y has 2"):
        aer.qnn_accuracy(model, x, y[:2], device)


# --- module hygiene ----------------------------------------------------------------------------

def test_import_does_not_load_qiskit():
    code = "import sys, noise.aer; print(sorted(m for m in sys.modules if m.startswith('qiskit')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_docstring_example():
    result = doctest.testmod(aer, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
