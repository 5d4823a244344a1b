"""noise.channels: superoperators in our bit order, Pauli tables, readout, caching, errors."""

import numpy as np
import pytest

from noise.channels import (DeviceChannels, pauli_labels, pauli_matrix, pauli_probs_from_superop,
                            superop_from_qiskit)
from noise.devices import Device


@pytest.fixture(scope="module")
def santiago():
    return DeviceChannels(Device.from_name("santiago"))


def random_density_matrix(d, rng):
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = a @ a.conj().T
    return rho / np.trace(rho)


def reverse_bits(rho, k):
    """Our-order density matrix <-> qiskit-order one (reverse the qubits)."""
    t = rho.reshape((2,) * (2 * k))
    axes = list(range(k))[::-1] + list(range(k, 2 * k))[::-1]
    return t.transpose(axes).reshape(2 ** k, 2 ** k)


def apply_ours(superop, rho):
    d = rho.shape[0]
    return (superop @ rho.reshape(d * d)).reshape(d, d)


def test_instructions_cover_the_noise_model(santiago):
    inst = santiago.instructions()
    assert ("cx", (0, 1)) in inst and ("sx", (4,)) in inst and ("reset", (2,)) in inst
    assert not any(name == "rz" for name, _ in inst)


def test_superop_is_trace_preserving_and_matches_qiskit(santiago):
    from qiskit.quantum_info import DensityMatrix, SuperOp

    rng = np.random.default_rng(7)
    for name, qubits in santiago.instructions():
        s = santiago.superop(name, qubits)
        k = len(qubits)
        d = 2 ** k
        assert s.shape == (d * d, d * d) and s.dtype == np.complex128
        # trace preservation: sum_r' S[r'd + r', :] is the vectorised identity
        trace_row = s.reshape(d, d, d * d)[np.arange(d), np.arange(d)].sum(axis=0)
        np.testing.assert_allclose(trace_row, np.eye(d).reshape(-1), atol=1e-12)
        error = santiago.noise_model._local_quantum_errors[name][qubits]
        for _ in range(3):
            rho = random_density_matrix(d, rng)
            theirs = DensityMatrix(reverse_bits(rho, k)).evolve(SuperOp(error)).data
            np.testing.assert_allclose(apply_ours(s, rho), reverse_bits(theirs, k), atol=1e-12)


def test_bit_order_on_an_asymmetric_channel():
    """Amplitude damping on qiskit qubit 0 only = damping on OUR first (most significant) qubit."""
    from qiskit.quantum_info import Kraus

    from qiskit_aer.noise import amplitude_damping_error

    damp = amplitude_damping_error(0.3).tensor(Kraus(np.eye(2)))  # tensor: damping on qiskit qubit 1
    s = superop_from_qiskit(damp)
    rho = np.zeros((4, 4), dtype=complex)
    rho[3, 3] = 1  # |11>
    out = apply_ours(s, rho)
    # qiskit qubit 1 is our second qubit (least significant): |11> -> 0.3 |10>
    assert out[2, 2] == pytest.approx(0.3) and out[3, 3] == pytest.approx(0.7) and out[1, 1] == pytest.approx(0)


def test_superop_equals_sum_of_kraus_kron_in_our_order():
    from qiskit.quantum_info import Kraus

    from qiskit_aer.noise import thermal_relaxation_error

    error = thermal_relaxation_error(50e-6, 40e-6, 300e-9).expand(thermal_relaxation_error(80e-6, 30e-6, 300e-9))
    kraus = Kraus(error.to_quantumchannel()).data
    expected = 0
    for kq in kraus:
        k_ours = reverse_bits(kq, 2)
        expected = expected + np.kron(k_ours, k_ours.conj())
    np.testing.assert_allclose(superop_from_qiskit(error), expected, atol=1e-12)


def test_pauli_probs_sum_to_one_and_equal_chi_diagonal(santiago):
    from qiskit.quantum_info import Chi, SuperOp

    for name, qubits in santiago.instructions():
        probs = santiago.pauli_probs(name, qubits)
        k = len(qubits)
        assert probs.shape == (4 ** k,) and probs.dtype == np.float64
        assert probs.sum() == pytest.approx(1, abs=1e-12) and (probs >= 0).all()
        chi = np.real(np.diag(Chi(SuperOp(santiago.noise_model._local_quantum_errors[name][qubits])).data))
        chi = chi / chi.sum()
        # qiskit's Chi basis is little-endian: its index has qiskit qubit 0 as the LOWEST digit,
        # ours has our first qubit (= qiskit qubit 0) as the HIGHEST; reverse the base-4 digits
        ours_index = [int("".join(reversed(np.base_repr(i, 4).zfill(k))), 4) for i in range(4 ** k)]
        np.testing.assert_allclose(probs[ours_index], chi, atol=1e-12)


def test_pauli_error_is_recovered_exactly():
    from qiskit_aer.noise import pauli_error

    # qiskit labels put qubit 0 LAST: "XZ" is Z on qiskit qubit 0 (our first), X on qubit 1
    error = pauli_error([("II", 0.7), ("XZ", 0.1), ("YI", 0.05), ("IZ", 0.15)])
    probs = pauli_probs_from_superop(superop_from_qiskit(error))
    expected = dict(zip(pauli_labels(2), np.zeros(16)))
    expected.update({"II": 0.7, "ZX": 0.1, "IY": 0.05, "ZI": 0.15})
    np.testing.assert_allclose(probs, [expected[label] for label in pauli_labels(2)], atol=1e-14)
    assert pauli_labels(2).index("ZX") == 4 * 3 + 1


def test_pauli_labels_and_matrices():
    assert pauli_labels(1) == ["I", "X", "Y", "Z"] and pauli_labels(2)[6] == "XY"
    np.testing.assert_array_equal(pauli_matrix("XI"), np.kron([[0, 1], [1, 0]], np.eye(2)))


def test_error_free_and_unknown_instructions(santiago):
    assert santiago.superop("rz", 3) is None and santiago.pauli_probs("rz", (3,)) is None
    assert santiago.superop("measure", 0) is None
    with pytest.raises(ValueError, match="santiago has no instruction 'cz'; it has: cx, id, measure"):
        santiago.superop("cz", (0, 1))
    with pytest.raises(ValueError, match=r"santiago has no 'cx' on qubits \(0, 3\)"):
        santiago.pauli_probs("cx", (0, 3))
    with pytest.raises(ValueError, match="qubits must be an int or a sequence"):
        santiago.superop("sx", "a")


def test_cached(santiago):
    assert santiago.superop("cx", (1, 2)) is santiago.superop("cx", [1, 2])
    assert santiago.pauli_probs("cx", (1, 2)) is santiago.pauli_probs("cx", (1, 2))


def test_readout():
    props = {"qubit": {q: {"T1": 100.0, "T2": 80.0, "prob_meas0_prep1": 0.02 + q / 100, "prob_meas1_prep0": 0.01}
                       for q in range(2)},
             "gate": {0: {"sx": 1e-4}, 1: {"sx": 1e-4}, "0,1": {"cx": 1e-2}}}
    ch = DeviceChannels(Device.from_properties(props, [(0, 1)], basis_gates=("cx", "sx")))
    assert ch.readout(0) == pytest.approx((0.01, 0.02)) and ch.readout(1) == pytest.approx((0.01, 0.03))
    with pytest.raises(ValueError, match=r"qubit 2 is not on custom \(qubits 0..1\)"):
        ch.readout(2)
    with pytest.raises(ValueError, match=r"custom has no 'cx' on qubits \(1, 0\)"):
        ch.superop("cx", (1, 0))
