"""QuEst's label: the probability of a successful trial (PST) of a circuit on a device.

A circuit is first made *physical* (:func:`compile_for`): its wires are the device's qubits,
its gates are the basis ``rz``, ``sx``, ``x``, ``cx``, every ``cx`` on a coupling-map edge.
A circuit that already is (a QASM file written for the device) is taken as it is, never
re-mapped; anything else goes through qiskit's transpiler (layout, routing, basis
translation; the transpiler seed is an argument).

The PST of a physical circuit ``C`` (:func:`pst`) is the fraction of shots of ``C``
followed by its inverse ``C^-1`` (written in the basis too: ``sx^-1 = rz(pi) sx rz(pi)`` up to
a global phase) that read all zeros on the qubits ``C`` uses, on the device's Aer noise model.
Idle qubits are not measured. The noiseless result is 1, so ``1 - PST`` is the error the
device's noise causes. With ``shots`` shots the label's standard error is
``sqrt(PST (1 - PST) / shots)`` (:func:`shot_noise`).

>>> from noise.devices import Device
>>> from qml import Circuit
>>> dev = Device.from_name("santiago")
>>> phys = compile_for(Circuit(2).h(0).cx(0, 1), dev, seed=0)
>>> sorted({op.name for op in phys.gates}) <= ["cx", "rz", "sx", "x"], used_qubits(phys) == (0, 1)
(True, True)
>>> p = float(pst([phys], dev, shots=2000, seed=1)[0])
>>> 0.9 < p < 1.0
True
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from qml.circuit import Circuit

#: the gates a physical circuit may hold (the basis of IBM's Falcon devices, ``id`` aside)
PHYSICAL_GATES = ("rz", "sx", "x", "cx")
_IGNORED = ("barrier", "id")


def used_qubits(circuit: Circuit) -> tuple[int, ...]:
    """The wires at least one gate of ``circuit`` acts on, sorted."""
    return tuple(sorted({w for op in circuit.gates if op.name != "id" for w in op.wires}))


def physical_problem(circuit: Circuit, device) -> str | None:
    """Why ``circuit`` is not a physical circuit of ``device`` (None when it is one)."""
    if circuit.n_wires > device.n_qubits and any(w >= device.n_qubits for w in used_qubits(circuit)):
        return f"it uses qubits beyond the device's {device.n_qubits}"
    edges = set(device.coupling_map)
    for op in circuit.ops:
        if op.name in _IGNORED or op.name == "measure":
            continue
        if op.name not in PHYSICAL_GATES:
            return f"gate {op.name!r} is not in the basis {list(PHYSICAL_GATES)}"
        if op.adjoint and op.name == "sx":
            return "it has an inverse sx"
        if op.name == "cx" and tuple(op.wires) not in edges:
            return f"cx on {tuple(op.wires)} is not a coupling-map edge"
        if op.name not in device.basis_gates:
            return f"the device has no {op.name!r} gate"
    return None


def _gates_only(circuit: Circuit, n_wires: int) -> Circuit:
    """The gates of ``circuit`` (no measurements, barriers, ids), adjoint rz folded into its
    angle, on ``n_wires`` wires."""
    out = Circuit(n_wires)
    for op in circuit.gates:
        if op.name == "id":
            continue
        if op.name == "rz" and op.adjoint:
            out.rz(op.wires[0], -op.params[0])
        else:
            out.append(op.name, op.wires, op.params, adjoint=op.adjoint)
    return out


def compile_for(circuit: Circuit, device, seed: int = 0, optimization_level: int = 1) -> Circuit:
    """``circuit`` as a physical circuit of ``device`` (wires = the device's qubits).

    A circuit that is already physical (only basis gates on the device's qubits, every
    ``cx`` on an edge) is returned as it is (measurements and barriers dropped); anything
    else is transpiled by qiskit with ``seed_transpiler=seed``. Errors name the problem: a
    circuit wider than the device, symbolic parameters, a gate the transpiler cannot
    translate to the basis.
    """
    if not isinstance(circuit, Circuit):
        raise ValueError(f"compile_for takes a qml Circuit, got {type(circuit).__name__}")
    missing = [g for g in PHYSICAL_GATES if g not in device.basis_gates]
    if missing:
        raise ValueError(f"device {device.name} lacks basis gate(s) {missing}; QuEst models circuits "
                         f"in the basis {list(PHYSICAL_GATES)}")
    width = len(used_qubits(circuit))
    if width == 0:
        raise ValueError("the circuit has no gates: there is nothing to run")
    if width > device.n_qubits:
        raise ValueError(f"the circuit uses {width} qubits but device {device.name} has "
                         f"{device.n_qubits}")
    if circuit.parameters or circuit.n_inputs:
        raise ValueError("the circuit has symbolic parameters "
                         f"{list(circuit.parameters) or ['inputs']}; bind them to numbers first")
    if physical_problem(circuit, device) is None:
        return _gates_only(circuit, device.n_qubits)
    from qiskit import transpile
    from qiskit.transpiler import CouplingMap

    logical = _gates_only(circuit, circuit.n_wires)
    if circuit.n_wires > device.n_qubits:  # idle wires of a wide register: dropped
        used = used_qubits(circuit)
        logical = logical.relabel({w: k for k, w in enumerate(used)}, len(used))
    qc = logical.to_qiskit()
    try:
        compiled = transpile(qc, basis_gates=list(PHYSICAL_GATES), coupling_map=CouplingMap(device.coupling_map),
                             optimization_level=optimization_level, seed_transpiler=seed)
    except Exception as err:  # qiskit's TranspilerError and friends
        raise ValueError(f"cannot transpile the circuit to {device.name}'s basis "
                         f"{list(PHYSICAL_GATES)}: {err}") from None
    out = Circuit.from_qiskit(compiled)
    if out.n_wires < device.n_qubits:
        out = out.relabel(list(range(out.n_wires)), device.n_qubits)
    out = _gates_only(out, device.n_qubits)
    problem = physical_problem(out, device)
    if problem is not None:
        raise ValueError(f"the transpiled circuit is still not physical on {device.name}: {problem}")
    return out


def mirror(circuit: Circuit) -> Circuit:
    """``circuit`` followed by its inverse, in the basis gates (``sx^-1`` written as
    ``rz(pi) sx rz(pi)``, which equals it up to a global phase)."""
    out = Circuit(circuit.n_wires, circuit.gates)
    for op in reversed(circuit.gates):
        (q, *_), name = op.wires, op.name
        if name == "rz":
            out.rz(q, -op.params[0])
        elif name == "sx":
            out.rz(q, math.pi).sx(q).rz(q, math.pi)
        elif name in ("x", "cx"):
            out.append(name, op.wires)
        else:
            raise ValueError(f"mirror: gate {name!r} is not a physical gate {list(PHYSICAL_GATES)}")
    return out


def mirror_qiskit(circuit: Circuit):
    """The qiskit circuit the label runs: :func:`mirror` of ``circuit`` with its used qubits
    measured into classical bits 0, 1, ... in qubit order."""
    from qiskit import ClassicalRegister

    qc = mirror(circuit).to_qiskit()
    qubits = used_qubits(circuit)
    qc.add_register(ClassicalRegister(len(qubits), "meas"))
    qc.barrier()
    for k, q in enumerate(qubits):
        qc.measure(q, k)
    return qc


def pst(circuits: Sequence[Circuit], device, shots: int = 2048, seed: int = 0,
        simulator=None) -> np.ndarray:
    """PST of each physical circuit on ``device``'s Aer noise model, as one Aer job.

    ``circuits`` must be physical (:func:`compile_for`); ``seed`` seeds the simulator; a
    ``simulator`` (an ``AerSimulator`` with the device's noise model) may be passed to reuse one.
    """
    if shots < 1:
        raise ValueError(f"shots must be positive, got {shots}")
    circuits = list(circuits)
    if not circuits:
        return np.zeros(0)
    for c in circuits:
        problem = physical_problem(c, device)
        if problem is not None:
            raise ValueError(f"pst takes physical circuits (see compile_for); this one is not: {problem}")
        if not used_qubits(c):
            raise ValueError("pst: a circuit without gates has no qubits to measure")
    if simulator is None:
        simulator = aer_simulator(device)
    jobs = [mirror_qiskit(c) for c in circuits]
    result = simulator.run(jobs, shots=shots, seed_simulator=seed).result()
    out = np.empty(len(circuits))
    for i, c in enumerate(circuits):
        counts = result.get_counts(i)
        out[i] = counts.get("0" * len(used_qubits(c)), 0) / shots
    return out


def aer_simulator(device):
    """An ``AerSimulator`` with ``device``'s noise model (one thread per job: parallelism comes
    from the executor running several jobs)."""
    from qiskit_aer import AerSimulator

    return AerSimulator(noise_model=device.noise_model, max_parallel_threads=1)


def shot_noise(p, shots: int):
    """The standard error of a PST estimated from ``shots`` shots: ``sqrt(p (1 - p) / shots)``."""
    p = np.asarray(p, dtype=float)
    return np.sqrt(p * (1 - p) / shots)


__all__ = ["PHYSICAL_GATES", "aer_simulator", "compile_for", "mirror", "mirror_qiskit", "physical_problem",
           "pst", "shot_noise", "used_qubits"]
