"""Circuits imported from qiskit simulate to qiskit's Statevector; export round-trips."""

import math
import random

import numpy as np
import pytest
import torch

import qml
from qml import Circuit, Input, Param
from qml.interop import qiskit_state

from .conftest import random_circuit

TOLERANCE = {torch.complex64: 1e-5, torch.complex128: 1e-10}


def _qiskit_random(n, depth, rng):
    """A random qiskit circuit written with qiskit's own gate methods (1 to 3 qubit gates)."""
    return random_circuit(n, depth, rng).to_qiskit()


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_300_random_circuits_match_statevector(dtype):
    from qiskit.quantum_info import Statevector

    rng = random.Random(2024)
    for trial in range(300):
        n = 1 + trial % 12
        qc = _qiskit_random(n, rng.randint(1, 40), rng)
        circuit = Circuit.from_qiskit(qc)
        ours = qml.simulate(circuit, dtype=dtype)[0].numpy()
        expected = qiskit_state(Statevector(qc).data)
        err = np.abs(ours - expected).max()
        assert err < TOLERANCE[dtype], f"trial {trial}: {n} qubits, max error {err:.2e}\n{qc}"
        assert Circuit.from_qiskit(circuit.to_qiskit()) == circuit


def test_qiskit_gate_methods_and_composites():
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import QFTGate
    from qiskit.quantum_info import Statevector

    qc = QuantumCircuit(5, 2)
    qc.h(0); qc.u(0.1, 0.2, 0.3, 1); qc.cu(0.4, 0.5, 0.6, 0.7, 1, 2)   # cu: expanded by its definition
    qc.ecr(2, 3); qc.rccx(0, 1, 4); qc.mcx([0, 1, 2, 3], 4); qc.cswap(4, 0, 1)
    qc.append(QFTGate(3), [1, 3, 4])
    qc.cx(0, 1, ctrl_state=0)                                         # open control: via definition
    qc.barrier(); qc.measure(0, 1)
    c = Circuit.from_qiskit(qc)
    assert c.count_ops()["barrier"] == 1 and c.count_ops()["measure"] == 1
    qc.remove_final_measurements()
    expected = qiskit_state(Statevector(qc).data)
    np.testing.assert_allclose(qml.simulate(c, dtype=torch.complex128)[0].numpy(), expected, atol=1e-10)


def test_instruction_without_definition_or_matrix_is_named():
    from qiskit import QuantumCircuit
    from qiskit.circuit import Instruction

    qc = QuantumCircuit(1)
    qc.append(Instruction("mystery", 1, 0, []), [0])
    with pytest.raises(ValueError, match="mystery"):
        Circuit.from_qiskit(qc)


def test_parameters_and_inputs_round_trip():
    c = Circuit(3).ry(0, Input(2)).u3(1, "a", 0.5, Param("b")).cu3(1, 2, "a", Input(0), 0.1)
    assert Circuit.from_qiskit(c.to_qiskit()) == c
    qc = c.to_qiskit()
    assert {p.name for p in qc.parameters} == {"a", "b", "input[0]", "input[2]"}


def test_qasm_round_trip_and_custom_gates():
    from qiskit.quantum_info import Statevector

    rng = random.Random(5)
    c = random_circuit(4, 30, rng)
    again = Circuit.from_qasm(c.to_qasm())
    a = qml.simulate(c, dtype=torch.complex128)[0]
    b = qml.simulate(again, dtype=torch.complex128)[0]
    assert torch.allclose(a, b, atol=1e-10)
    text = """OPENQASM 2.0; include "qelib1.inc"; qreg q[2];
gate mygate(t) a, b { h a; cx a, b; rz(t) b; }
mygate(0.3) q[1], q[0];"""
    state = qml.simulate(Circuit.from_qasm(text), dtype=torch.complex128)[0].numpy()
    expected = Statevector(Circuit.from_qasm(text).to_qiskit()).data
    np.testing.assert_allclose(state, qiskit_state(expected), atol=1e-10)
    with pytest.raises(ValueError, match="bind them first"):
        Circuit(1).rx(0, "t").to_qasm()


def test_bit_order_on_a_basis_state():
    state = qml.simulate(Circuit(3).x(0))[0]                 # wire 0 is the most significant bit
    assert state[4] == 1
