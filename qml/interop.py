"""Qiskit interop: Circuit <-> qiskit.QuantumCircuit, and OpenQASM 2 through qiskit.

Wires keep their numbers (our wire w is qiskit's qubit w); only the bit order of
state indices differs (wire 0 is our most significant bit, qiskit's least), so a
state from qiskit's ``Statevector`` equals ours after reversing the bits of its
indices (:func:`qiskit_state`). Trainable parameters travel as qiskit ``Parameter``
objects of the same name, input features as elements of a ``ParameterVector`` named
``input``. qiskit is imported here only, never by ``import qml``.

Example:
    >>> from qml import Circuit
    >>> qc = Circuit(2).h(0).cx(0, 1).rz(1, "theta").to_qiskit()
    >>> [inst.operation.name for inst in qc.data]
    ['h', 'cx', 'rz']
    >>> Circuit.from_qiskit(qc) == Circuit(2).h(0).cx(0, 1).rz(1, "theta")
    True
"""

from __future__ import annotations

import math

import numpy as np

from qml.circuit import Circuit, Input, Linear, Param, linear
from qml.gates import QISKIT_NAMES, get_gate

INPUT_VECTOR = "input"

def reverse_bits_matrix(m: np.ndarray) -> np.ndarray:
    """A k-qubit matrix in the other bit order (ours <-> qiskit's)."""
    k = int(round(math.log2(m.shape[0])))
    axes = list(reversed(range(k)))
    t = m.reshape([2] * 2 * k).transpose(axes + [k + a for a in axes])
    return t.reshape(m.shape)


def qiskit_state(data: np.ndarray) -> np.ndarray:
    """A qiskit statevector's amplitudes in this package's bit order."""
    n = int(round(math.log2(len(data))))
    return np.asarray(data).reshape([2] * n).transpose(list(reversed(range(n)))).reshape(-1)


def qiskit_gate(gate, params=()):
    """The qiskit gate of a record (``qml.gates.Gate``) with parameter values ``params``.

    A record names its qiskit class; a gate qiskit lacks is built from the record's
    definition, a ``unitary`` from its matrix.
    """
    from qiskit import QuantumCircuit
    from qiskit.circuit import Gate as QiskitGate
    from qiskit.circuit import library

    if gate.takes_matrix:
        dim = 2 ** gate.n_wires
        matrix = np.array([e[0] for e in gate.entries], dtype=complex).reshape(dim, dim)
        return library.UnitaryGate(reverse_bits_matrix(matrix))
    if gate.qiskit_class is not None:
        cls = getattr(library, gate.qiskit_class)
        return cls(gate.controls) if gate.name == "mcx" else cls(*params)
    definition = QuantumCircuit(gate.n_wires, global_phase=gate.definition_phase)
    for name, wires, values in gate.definition:
        definition.append(qiskit_gate(get_gate(name, len(wires)), values), list(wires))
    custom = QiskitGate(gate.qiskit[0], gate.n_wires, [])
    custom.definition = definition
    return custom


def to_qiskit(circuit: Circuit):
    """``circuit`` as a ``qiskit.QuantumCircuit`` (adjoint ops become ``gate.inverse()``)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter, ParameterVector

    n_clbits = 1 + max((int(op.params[0]) for op in circuit.ops if op.name == "measure"), default=-1)
    qc = QuantumCircuit(circuit.n_wires, n_clbits, global_phase=circuit.global_phase)
    names = {name: Parameter(name) for name in circuit.parameters}
    inputs = ParameterVector(INPUT_VECTOR, circuit.n_inputs) if circuit.n_inputs else None

    def symbol(s):
        return names[s.name] if isinstance(s, Param) else inputs[s.index]

    def value(p):
        if isinstance(p, (Param, Input)):
            return symbol(p)
        if isinstance(p, Linear):
            return sum((c * symbol(s) for s, c in p.terms), p.offset)
        return p

    for op in circuit.ops:
        if op.name == "barrier":
            qc.barrier(*op.wires)
            continue
        if op.name == "measure":
            qc.measure(op.wires[0], int(op.params[0]))
            continue
        gate = qiskit_gate(op.gate, [value(p) for p in op.params])
        qc.append(gate.inverse() if op.adjoint else gate, list(op.wires))
    return qc


def from_qiskit(qc) -> Circuit:
    """Import a ``qiskit.QuantumCircuit``.

    Standard gates map one to one; anything else is expanded through its definition,
    or taken by its matrix when it has no definition. Barriers and measurements are
    kept. An instruction with neither definition nor matrix is an error that names it.
    """
    if not hasattr(qc, "data") or not hasattr(qc, "num_qubits"):
        raise ValueError(f"from_qiskit takes a qiskit.QuantumCircuit, got {type(qc).__name__} "
                         f"(for OpenQASM text use Circuit.from_qasm)")
    circuit = Circuit(qc.num_qubits, global_phase=_phase(qc.global_phase))
    _import_into(circuit, qc, [qc.find_bit(q).index for q in qc.qubits],
                 {c: qc.find_bit(c).index for c in qc.clbits})
    return circuit


def _import_into(circuit: Circuit, qc, wire_of: list[int], clbit_of: dict) -> None:
    for inst in qc.data:
        op = inst.operation
        wires = [wire_of[qc.find_bit(q).index] for q in inst.qubits]
        name = op.name
        if name == "barrier":
            circuit.barrier(*wires)
        elif name == "measure":
            circuit.measure(wires[0], clbit_of[inst.clbits[0]])
        elif name == "unitary":
            circuit.unitary(reverse_bits_matrix(np.asarray(op.to_matrix())), wires)
        elif name in QISKIT_NAMES and _all_controls_closed(op):
            circuit.append(QISKIT_NAMES[name], wires, [_param(p, name) for p in op.params])
        elif op.definition is not None:
            sub = op.definition
            circuit.global_phase += _phase(sub.global_phase)
            _import_into(circuit, sub, wires, clbit_of)
        elif hasattr(op, "to_matrix"):
            try:
                matrix = np.asarray(op.to_matrix())
            except Exception as err:  # qiskit raises various errors for matrix-less gates
                raise ValueError(f"cannot import instruction {name!r}: no definition and no matrix") from err
            circuit.unitary(reverse_bits_matrix(matrix), wires)
        else:
            raise ValueError(f"cannot import instruction {name!r}: no definition and no matrix")


def _all_controls_closed(op) -> bool:
    ctrl_state = getattr(op, "ctrl_state", None)
    return ctrl_state is None or ctrl_state == 2 ** op.num_ctrl_qubits - 1


def _symbol(p):
    from qiskit.circuit import ParameterVectorElement
    if isinstance(p, ParameterVectorElement) and p.vector.name == INPUT_VECTOR:
        return Input(p.index)
    return Param(p.name)


def _param(p, gate: str):
    """A gate parameter: a number, a Param or Input, or a linear expression of them."""
    from qiskit.circuit import Parameter, ParameterExpression
    if isinstance(p, Parameter):
        return _symbol(p)
    if not isinstance(p, ParameterExpression) or not p.parameters:
        return float(p)
    terms = []
    for s in p.parameters:
        coef = p.gradient(s)
        if isinstance(coef, ParameterExpression) and coef.parameters:
            raise ValueError(f"cannot import the parameter {p} of {gate!r}: it is not linear in {s.name} "
                             f"(only numbers, parameters and linear expressions of them can be imported)")
        terms.append((_symbol(s), float(coef)))
    return linear(terms, float(p.bind({s: 0 for s in p.parameters})))


def _phase(value) -> float:
    """A global phase as a number; one that depends on parameters is dropped (no measurement sees it)."""
    try:
        return float(value)
    except TypeError:
        return 0.0


def to_qasm(circuit: Circuit) -> str:
    """OpenQASM 2 text of ``circuit`` (parameters must be bound to numbers)."""
    from qiskit import qasm2
    if circuit.parameters or circuit.n_inputs:
        raise ValueError("OpenQASM 2 has no free parameters: bind them first (circuit.bind(...))")
    return qasm2.dumps(to_qiskit(circuit))


def from_qasm(text: str) -> Circuit:
    """A Circuit from OpenQASM 2 text; ``gate`` definitions are expanded."""
    from qiskit import qasm2
    return from_qiskit(qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS))
