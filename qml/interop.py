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

from qml.circuit import Circuit, Input, Param

INPUT_VECTOR = "input"

# qiskit instruction name -> our gate name (one-to-one where the matrices agree)
_FROM_QISKIT = {
    "id": "id", "x": "x", "y": "y", "z": "z", "h": "h", "s": "s", "sdg": "sdg", "t": "t", "tdg": "tdg",
    "sx": "sx", "sxdg": "sxdg", "rx": "rx", "ry": "ry", "rz": "rz", "p": "p", "u1": "p", "u2": "u2",
    "u3": "u3", "u": "u3", "cx": "cx", "cy": "cy", "cz": "cz", "ch": "ch", "swap": "swap",
    "iswap": "iswap", "crx": "crx", "cry": "cry", "crz": "crz", "cp": "cp", "cu1": "cp", "cu3": "cu3",
    "rxx": "rxx", "ryy": "ryy", "rzz": "rzz", "rzx": "rzx", "ccx": "ccx", "cswap": "cswap",
    "mcx": "mcx", "sh": "sh", "sqrtswap": "sqrtswap",
}


def _library():
    from qiskit.circuit import library as L
    return {
        "id": L.IGate, "x": L.XGate, "y": L.YGate, "z": L.ZGate, "h": L.HGate, "s": L.SGate,
        "sdg": L.SdgGate, "t": L.TGate, "tdg": L.TdgGate, "sx": L.SXGate, "sxdg": L.SXdgGate,
        "rx": L.RXGate, "ry": L.RYGate, "rz": L.RZGate, "p": L.PhaseGate, "u2": L.U2Gate,
        "u3": L.U3Gate, "cx": L.CXGate, "cy": L.CYGate, "cz": L.CZGate, "ch": L.CHGate,
        "swap": L.SwapGate, "iswap": L.iSwapGate, "crx": L.CRXGate, "cry": L.CRYGate,
        "crz": L.CRZGate, "cp": L.CPhaseGate, "cu3": L.CU3Gate, "rxx": L.RXXGate, "ryy": L.RYYGate,
        "rzz": L.RZZGate, "rzx": L.RZXGate, "ccx": L.CCXGate, "cswap": L.CSwapGate,
    }


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


def _custom_gates():
    """sqrt(H) and sqrt(SWAP), which qiskit lacks, as gates with exact definitions."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Gate

    sh_def = QuantumCircuit(1, global_phase=math.pi / 4)  # sqrt(H) = e^{i pi/4} R_n(pi/2), n=(X+Z)/sqrt2
    sh_def.ry(-math.pi / 4, 0)
    sh_def.rz(math.pi / 2, 0)
    sh_def.ry(math.pi / 4, 0)
    sh = Gate("sh", 1, [])
    sh.definition = sh_def
    sw_def = QuantumCircuit(2, global_phase=math.pi / 8)  # e^{i pi/8} exp(-i pi/8 (XX+YY+ZZ))
    sw_def.rxx(math.pi / 4, 0, 1)
    sw_def.ryy(math.pi / 4, 0, 1)
    sw_def.rzz(math.pi / 4, 0, 1)
    sqrtswap = Gate("sqrtswap", 2, [])
    sqrtswap.definition = sw_def
    return {"sh": sh, "sqrtswap": sqrtswap}


def to_qiskit(circuit: Circuit):
    """``circuit`` as a ``qiskit.QuantumCircuit`` (adjoint ops become ``gate.inverse()``)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import Parameter, ParameterVector
    from qiskit.circuit.library import MCXGate, UnitaryGate

    library, custom = _library(), _custom_gates()
    n_clbits = 1 + max((int(op.params[0]) for op in circuit.ops if op.name == "measure"), default=-1)
    qc = QuantumCircuit(circuit.n_wires, n_clbits, global_phase=circuit.global_phase)
    names = {name: Parameter(name) for name in circuit.parameters}
    inputs = ParameterVector(INPUT_VECTOR, circuit.n_inputs) if circuit.n_inputs else None

    def value(p):
        if isinstance(p, Param):
            return names[p.name]
        if isinstance(p, Input):
            return inputs[p.index]
        return p

    for op in circuit.ops:
        if op.name == "barrier":
            qc.barrier(*op.wires)
            continue
        if op.name == "measure":
            qc.measure(op.wires[0], int(op.params[0]))
            continue
        if op.name == "unitary":
            gate = UnitaryGate(reverse_bits_matrix(np.array(op.matrix)))
        elif op.name == "mcx":
            gate = MCXGate(len(op.wires) - 1)
        elif op.name in custom:
            gate = custom[op.name]
        else:
            gate = library[op.name](*[value(p) for p in op.params])
        qc.append(gate.inverse() if op.adjoint else gate, list(op.wires))
    return qc


def from_qiskit(qc) -> Circuit:
    """Import a ``qiskit.QuantumCircuit``.

    Standard gates map one to one; anything else is expanded through its definition,
    or taken by its matrix when it has no definition. Barriers and measurements are
    kept. An instruction with neither definition nor matrix is an error that names it.
    """
    circuit = Circuit(qc.num_qubits, global_phase=_number(qc.global_phase, "global phase"))
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
        elif name in _FROM_QISKIT and _all_controls_closed(op) and _params_plain(op):
            ours = _FROM_QISKIT[name]
            if ours == "mcx" and len(wires) <= 3:
                ours = {2: "cx", 3: "ccx"}[len(wires)]
            circuit.append(ours, wires, [_param(p) for p in op.params])
        elif name == "unitary":
            circuit.unitary(reverse_bits_matrix(np.asarray(op.to_matrix())), wires)
        elif op.definition is not None:
            sub = op.definition
            circuit.global_phase += _number(sub.global_phase, "global phase")
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


def _params_plain(op) -> bool:
    """Every parameter is a number or a plain Parameter (not an expression)."""
    from qiskit.circuit import Parameter, ParameterExpression
    return all(not isinstance(p, ParameterExpression) or isinstance(p, Parameter) for p in op.params)


def _param(p):
    from qiskit.circuit import Parameter, ParameterVectorElement
    if isinstance(p, ParameterVectorElement) and p.vector.name == INPUT_VECTOR:
        return Input(p.index)
    if isinstance(p, Parameter):
        return Param(p.name)
    return _number(p, "gate parameter")


def _number(value, what: str) -> float:
    try:
        return float(value)
    except TypeError as err:
        raise ValueError(f"{what} {value} is a parameter expression; only numbers and plain "
                         f"parameters can be imported") from err


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
