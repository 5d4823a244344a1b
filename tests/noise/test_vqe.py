"""noise.vqe: noisy VQE energies on a device against Aer, readout treatment, the VQE scorer."""

import math

import numpy as np
import pytest
import torch

import qml
from noise.vqe import VQEScorer, noisy_energy, pauli_expectations
from qml.vqe import load_hamiltonian, uccsd
from tests.noise.conftest import line_device

torch.set_num_threads(1)
PARAMS = {"s_0_1": 0.03, "s_2_3": -0.05, "d_0_2_1_3": -0.11}


def _aer_terms(circuit, labels, device, mapping):
    """Tr(P rho) from Aer's density matrix (device noise model, gate noise only)."""
    from qiskit.quantum_info import DensityMatrix, Pauli
    from qiskit_aer import AerSimulator

    from noise.aer import transpile_for

    t = transpile_for(circuit, device, mapping)
    qc = t.circuit.copy()
    qc.save_density_matrix(list(t.qubits), label="rho")
    result = AerSimulator(method="density_matrix", noise_model=device.noise_model).run(qc).result()
    rho = DensityMatrix(result.data(0)["rho"])
    where = [t.qubits.index(q) for q in t.final]
    return np.array([rho.expectation_value(Pauli(label[::-1]), where).real for label in labels])


@pytest.mark.parametrize("mapping", [(1, 2), (3, 2)])
def test_h2_uccsd_terms_and_energy_agree_with_aers_density_matrix(santiago, mapping):
    h2 = load_hamiltonian("h2")
    circuit = uccsd(h2)
    labels = [label for label, _ in h2.terms]
    ours = pauli_expectations(circuit, labels, santiago, PARAMS, mapping, measurement_noise=False)
    aer = _aer_terms(circuit.bind(PARAMS), labels, santiago, mapping)
    assert np.abs(ours - aer).max() < 1e-6
    energy = noisy_energy(circuit, h2, santiago, PARAMS, mapping, measurement_noise=False)
    assert abs(energy - (h2.constant + sum(c * v for (_, c), v in zip(h2.terms, aer)))) < 1e-6
    # noise moves it away from the noise-free energy, and readout moves it further
    free = float(qml.vqe.energy(circuit, h2, torch.tensor(list(PARAMS.values()), dtype=torch.float64)))
    assert free < energy < noisy_energy(circuit, h2, santiago, PARAMS, mapping)


def test_single_z_terms_with_readout_agree_with_aers_exact_expectations(santiago):
    from noise.aer import expectations

    h2 = load_hamiltonian("h2")
    bound = uccsd(h2).bind(PARAMS)
    z = expectations(bound, santiago, shots=None, mapping=[1, 2])[0].numpy()
    ours = pauli_expectations(bound, ["ZI", "IZ"], santiago, mapping=[1, 2])
    assert np.abs(ours - z).max() < 1e-6


def test_readout_error_acts_per_measured_wire_on_the_rotated_bits():
    device = line_device(2, readout={0: (0.1, 0.2), 1: (0.05, 0.0)})
    c = qml.Circuit(2).x(0).h(1)                       # |1>|+>
    z0 = (1 - 0.1 - 0.2) * -1 + (0.2 - 0.1)            # -0.6
    x1 = (1 - 0.05 - 0.0) * 1 + (0.0 - 0.05)           # 0.9: X measured as Z after H
    values = pauli_expectations(c, ["ZI", "IX", "ZX", "IZ", "ZZ"], device, mapping=[0, 1])
    assert np.allclose(values, [z0, x1, z0 * x1, -0.05, z0 * -0.05], atol=1e-9)
    assert np.allclose(pauli_expectations(c, ["ZI", "IX"], device, mapping=[0, 1],
                                          measurement_noise=False), [-1, 1], atol=1e-9)


def test_aer_shots_agree_with_the_density_energy(santiago):
    h2 = load_hamiltonian("h2")
    exact = noisy_energy(uccsd(h2), h2, santiago, PARAMS, [1, 2])
    shots = noisy_energy(uccsd(h2), h2, santiago, PARAMS, [1, 2], method="aer", shots=20000, seed=3)
    assert shots == noisy_energy(uccsd(h2), h2, santiago, PARAMS, [1, 2], method="aer", shots=20000, seed=3)
    assert abs(shots - exact) < 0.01                   # ~5 sigma of 20000 shots per group


def test_the_vqe_scorer_follows_the_contract(santiago):
    h2 = load_hamiltonian("h2")
    from qml.nas.search import make_executor, score_candidate

    scorer = VQEScorer("h2", "santiago")
    circuit = uccsd(h2)
    with make_executor("process", 1) as pool:          # the scorer travels to a worker, as in a search
        energy = pool.submit(score_candidate, scorer, circuit.to_json(), PARAMS, (1, 2)).result()
    assert energy == pytest.approx(noisy_energy(circuit, h2, santiago, PARAMS, (1, 2)), abs=1e-12)
    assert scorer.identity["device"] == "santiago"


def test_a_searched_circuit_on_h2_with_tiny_settings_gives_a_finite_noisy_energy():
    from qml.nas import SearchConfig
    from qml.vqe.search import searched_vqe

    h2 = load_hamiltonian("h2")
    config = SearchConfig(population=4, parents=2, mutants=1, crossovers=1, iterations=2, n_physical=5)
    r = searched_vqe(h2, VQEScorer("h2", "santiago"), space="u3cu3", n_blocks=1, train_steps=10,
                     search=config, finetune_steps=5, progress=False)
    assert len(r["mapping"]) == 2 and all(0 <= q < 5 for q in r["mapping"])
    e = noisy_energy(r["circuit"], h2, "santiago", r["result"].params, r["mapping"])
    assert math.isfinite(e) and e > h2.exact_energy - 1e-9


def test_bad_inputs_name_the_problem(santiago):
    h2 = load_hamiltonian("h2")
    with pytest.raises(ValueError, match="unknown method 'exact'"):
        noisy_energy(uccsd(h2), h2, santiago, PARAMS, method="exact")
    with pytest.raises(ValueError, match="no value for parameter"):
        noisy_energy(uccsd(h2), h2, santiago)
    with pytest.raises(ValueError, match="the circuit has 3 wires"):
        noisy_energy(qml.Circuit(3).x(0), h2, santiago)
    with pytest.raises(ValueError, match="malformed Pauli label 'XQ'"):
        pauli_expectations(qml.Circuit(2).x(0), ["XQ"], santiago)
    with pytest.raises(ValueError, match="unknown device|known"):
        VQEScorer("h2", "nowhere")
