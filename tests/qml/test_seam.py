"""The engine seam: gate records drive interop, drawing and the plan; linear parameters;
engine caches outside the circuit; clear errors for malformed circuits."""

import gc
import math
import random

import numpy as np
import pytest
import torch

import qml
from qml import Circuit, Input, Param
from qml.circuit import Linear, linear
from qml.gates import GATES, QISKIT_NAMES
from qml.interop import qiskit_state
from qml.sim.plan import plan_for

from .conftest import random_circuit


def test_every_record_round_trips_through_qiskit_by_its_own_names():
    for gate in GATES.values():
        c = Circuit(gate.n_wires).append(gate.name, range(gate.n_wires), [0.3 * (j + 1) for j in range(gate.n_params)])
        qc = c.to_qiskit()
        assert qc.data[0].operation.name == gate.qiskit[0]
        assert Circuit.from_qiskit(qc) == c
        assert all(QISKIT_NAMES[q] == gate.name for q in gate.qiskit)


def test_drawing_reads_the_record_label():
    text = Circuit(3).crx(0, 1, 0.5).ccx(0, 1, 2).mcx([0, 1], 2).ecr(1, 2).draw()
    assert "RX(0.5)" in text and text.count("X") >= 3 and "ECR0" in text


def test_wide_permutations_use_the_gather_kernel():
    c = Circuit(7).h(0).h(1).mcx([0, 1, 2, 3, 4, 5], 6).unitary(np.eye(2)[[1, 0]], [3])
    kinds = [type(s.kernel).__name__ for s in plan_for(c).compiled(False, False)[1]]
    assert "Permutation" in kinds
    from qiskit.quantum_info import Statevector
    expected = qiskit_state(Statevector(c.to_qiskit()).data)
    np.testing.assert_allclose(qml.simulate(c, dtype=torch.complex128)[0].numpy(), expected, atol=1e-12)


def test_plans_live_in_the_engine_not_in_the_circuit():
    c = Circuit(2).h(0).cx(0, 1)
    qml.simulate(c)
    assert "plan" not in c._cache
    assert plan_for(c) is plan_for(c)
    entries = plan_for._entries
    before = len(entries)
    del c
    gc.collect()
    assert len(entries) == before - 1


def test_linear_parameters_arithmetic_and_simplification():
    t, x = Param("t"), Input(1)
    e = 2 * t + 0.5 * x - 1
    assert isinstance(e, Linear) and str(e) == "2*t + 0.5*x1 + -1"
    assert linear([(t, 1.0)]) == t and linear([(t, 0.0)], 2.0) == 2.0
    c = Circuit(1).rx(0, e)
    assert c.parameters == ("t",) and c.n_inputs == 2
    assert Circuit.from_json(c.to_json()) == c
    assert c.bind({"t": 1.0}).ops[0].params == (0.5 * x + 1,)
    assert c.bind({"t": 1.0}, inputs=[0, 2.0]).ops[0].params == (2.0,)


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_linear_parameters_simulate_like_qiskit(dtype):
    from qiskit.quantum_info import Statevector

    a, b = Param("a"), Param("b")
    c = (Circuit(3).ry(0, 0.5 * a + Input(0)).u3(1, 2 * a - b, b + 1, Input(1) * 3).cx(0, 2)
         .crz(1, 2, -a + 0.25).rzz(0, 1, 0.1 * b))
    params, inputs = torch.tensor([0.7, -1.3]), torch.tensor([[0.2, 0.9]])
    ours = qml.simulate(c, params, inputs, dtype=dtype)[0].numpy()
    bound = c.bind(params.tolist(), inputs[0]).to_qiskit()
    expected = qiskit_state(Statevector(bound).data)
    np.testing.assert_allclose(ours, expected, atol=1e-5 if dtype == torch.complex64 else 1e-12)
    assert Circuit.from_qiskit(c.to_qiskit()) == c


@pytest.mark.parametrize("per_sample", [False, True])
def test_parameter_shift_through_linear_parameters(per_sample):
    torch.manual_seed(0)
    a, b = Param("a"), Param("b")
    c = Circuit(2).ry(0, 0.5 * a + Input(0)).cu3(0, 1, 2 * a - b, b + 1, 0.3).crx(1, 0, -a + 0.2 * b + Input(1))
    inputs = torch.rand(3, 2, dtype=torch.float64)
    shape = (3, 2) if per_sample else (2,)
    p1 = torch.rand(*shape, dtype=torch.float64, requires_grad=True)
    p2 = p1.detach().clone().requires_grad_()
    qml.expectation(c, "Z", p1, inputs, gradient="parameter-shift", dtype=torch.complex128).sum().backward()
    qml.expectation(c, "Z", p2, inputs, dtype=torch.complex128).sum().backward()
    assert torch.allclose(p1.grad, p2.grad, atol=1e-10)


def test_transpiled_circuits_with_symbolic_angles_import():
    """qiskit's transpiler writes rz(theta + pi) and sums of parameters: linear, imported as such."""
    from qiskit import transpile
    from qiskit.quantum_info import Statevector

    rng = random.Random(3)
    c = random_circuit(3, 12, rng, gates=["u3", "cu3", "ry", "rx", "cx", "crz"],
                       param=lambda i, r: Param(f"p{i % 5}"))
    qc = transpile(c.to_qiskit(), basis_gates=["rz", "sx", "x", "cx"], optimization_level=1, seed_transpiler=0)
    imported = Circuit.from_qiskit(qc)
    assert set(imported.count_ops()) <= {"rz", "sx", "x", "cx"}
    values = torch.tensor([rng.uniform(-3, 3) for _ in imported.parameters], dtype=torch.float64)
    named = dict(zip(imported.parameters, values.tolist()))
    ours = qml.simulate(imported, values, dtype=torch.complex128)[0].numpy()
    expected = qiskit_state(Statevector(c.bind(named)).data if False else
                            Statevector(c.bind(named).to_qiskit()).data)
    overlap = abs(np.vdot(expected, ours))           # the symbolic global phase is dropped on import
    assert overlap == pytest.approx(1, abs=1e-10)


def test_nonlinear_expressions_are_named():
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter

    t = Parameter("t")
    qc = QuantumCircuit(1)
    qc.rx(t * t, 0)
    with pytest.raises(ValueError, match=r"t\*t of 'rx': it is not linear in t"):
        Circuit.from_qiskit(qc)


def test_matrix_gates_follow_the_simulation_precision():
    from qiskit.circuit.library import quantum_volume
    from qiskit.quantum_info import Statevector, random_unitary

    qv = quantum_volume(6, seed=2)
    c = Circuit.from_qiskit(qv)
    assert "unitary" in c.count_ops()
    expected = qiskit_state(Statevector(qv).data)
    assert np.abs(qml.simulate(c, dtype=torch.complex128)[0].numpy() - expected).max() < 1e-12
    u = random_unitary(8, seed=1).data
    c = Circuit(3).h(0).unitary(u, [0, 1, 2])
    expected = qiskit_state(Statevector(c.to_qiskit()).data)
    assert np.abs(qml.simulate(c, dtype=torch.complex128)[0].numpy() - expected).max() < 1e-12


@pytest.mark.parametrize("make, match", [
    (lambda: Input(-1), "non-negative integer"),
    (lambda: Input(1.5), "non-negative integer"),
    (lambda: Circuit(2).h(0).cx(0, 1).relabel({0: 1}), r"no new wire for wire\(s\) \[1\]"),
    (lambda: Circuit(2).h(0).h(1).relabel({0: 1, 1: 1}), "same wire"),
    (lambda: Circuit.from_json('{"n_wires": 2}'), "'n_wires' and 'ops'"),
    (lambda: Circuit.from_json("not json"), "not JSON"),
    (lambda: Circuit.from_qiskit("h 0"), "takes a qiskit.QuantumCircuit"),
    (lambda: Circuit(1).rx(0, "theta").bind({"thetta": 0.3}), r"unknown parameter name\(s\) \['thetta'\].*theta"),
    (lambda: qml.simulate(Circuit(1).rx(0, "theta"), {"theta": 0.3, "phi": 1.0}), r"unknown parameter.*phi"),
    (lambda: Param("t") * Param("s"), "combines only with numbers"),
])
def test_malformed_circuits_get_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("args, match", [
    (("ZZ",), r"list of \(coefficient, Pauli\) terms"),
    ((["ZZ"],), r"\(coefficient, Pauli\) pair"),
    (([(1, {5: "X"})],), "needs n_wires"),
    (([(1, {5: "X"})], 2), "wire 5 .* out of range for 2 wires"),
    (([(None, "ZZ")],), "not a real number"),
])
def test_pauli_sums_say_what_they_take(args, match):
    with pytest.raises(ValueError, match=match):
        qml.PauliSum(*args)
