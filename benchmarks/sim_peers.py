"""The benchmark circuits (B1-B3) built for this engine and for each importable peer.

Every builder returns a zero-argument callable that runs one step (setup is done
outside it), or raises ``ImportError`` when that peer is not installed. The circuits
are the same for every simulator: B1 a 4-qubit QNN training step (16-feature
RY/RZ/RX/RY encoder, 2 blocks of U3 on every wire and a CU3 ring, <Z> per wire,
forward and backward); B2 n qubits, 5 layers of (RY on every wire, CNOT ladder),
<Z> per wire, forward only; B3 the gradient of the sum of <Z> for B2 with trainable angles.

Each builder runs at one precision, ``"complex64"`` or ``"complex128"``, and tags the step it
returns with the precision its simulator reports it runs in (``step.precision``: our dtype,
lightning's ``c_dtype``, Aer's ``precision`` option, the dtype of qulacs' and TorchQuantum's
states, the dtype of default.qubit's results), so that a row can only claim what ran.
:data:`OURS` and :data:`PEERS` list the builders and the precisions each peer offers.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np
import torch

import qml

LAYERS = 5
B1_WIRES, B1_BATCH, B1_BLOCKS = 4, 256, 2
ENCODER = ("ry", "rz", "rx", "ry")
DTYPES = {"complex64": torch.complex64, "complex128": torch.complex128}
BOTH = tuple(DTYPES)
AER_PRECISION = {"complex64": "single", "complex128": "double"}


def _ran_at(step, dtype):
    """``step``, tagged with the precision (a complex dtype, torch or numpy) it runs in."""
    name = str(dtype).removeprefix("torch.") if isinstance(dtype, torch.dtype) else np.dtype(dtype).name
    if name not in DTYPES:
        raise RuntimeError(f"a step runs at complex64 or complex128, not {name}")
    step.precision = name
    return step


def _angles(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-math.pi, math.pi, count)


def _b1_data(seed: int = 0, dtype: torch.dtype = torch.float32):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(B1_BATCH, 16, generator=gen, dtype=torch.float64) * math.pi
    weights = torch.rand(B1_BLOCKS, 2 * B1_WIRES, 3, generator=gen, dtype=torch.float64)
    return x.to(dtype), weights.to(dtype)


# --- this engine ------------------------------------------------------------------------

def b1_circuit() -> qml.Circuit:
    c = qml.Circuit(B1_WIRES)
    for layer, gate in enumerate(ENCODER):
        for w in range(B1_WIRES):
            c.append(gate, [w], [qml.Input(layer * B1_WIRES + w)])
    for b in range(B1_BLOCKS):
        for w in range(B1_WIRES):
            c.u3(w, *(f"u{b}_{w}_{k}" for k in range(3)))
        for w in range(B1_WIRES):
            c.cu3(w, (w + 1) % B1_WIRES, *(f"c{b}_{w}_{k}" for k in range(3)))
    return c


def wide_circuit(n: int, trainable: bool) -> qml.Circuit:
    c = qml.Circuit(n)
    angles = _angles(LAYERS * n)
    for layer in range(LAYERS):
        for w in range(n):
            k = layer * n + w
            c.ry(w, f"t{k}" if trainable else float(angles[k]))
        for w in range(n - 1):
            c.cx(w, w + 1)
    return c


def ours_b1(gradient: str, device: str = "cpu", precision: str = "complex64"):
    c = b1_circuit()
    dtype = DTYPES[precision]
    x, weights = _b1_data(dtype=dtype.to_real())
    x = x.to(device)
    # parameter order of the circuit: block b: u3 of wires 0..3, then cu3 of wires 0..3
    w = weights.reshape(-1).to(device).requires_grad_(True)

    def step():
        z = qml.expval_z(qml.simulate(c, w, x, gradient=gradient, dtype=dtype))
        z.sum().backward()
        w.grad = None
        return z
    return _ran_at(step, dtype)


def ours_b2(n: int, device: str = "cpu", precision: str = "complex64", variant: str = "native"):
    """B2 as built here (``"native"``, no autograd), imported with ``Circuit.from_qiskit``
    (``"from qiskit"``), or run in grad mode with nothing requiring grad (``"grad mode"``)."""
    c = wide_circuit(n, trainable=False)
    if variant == "from qiskit":
        c = qml.Circuit.from_qiskit(c.to_qiskit())
    dtype = DTYPES[precision]

    def step():
        with torch.set_grad_enabled(variant == "grad mode"):
            return qml.expval_z(qml.simulate(c, device=device, dtype=dtype))
    return _ran_at(step, dtype)


def ours_b3(n: int, gradient: str, device: str = "cpu", precision: str = "complex64"):
    c = wide_circuit(n, trainable=True)
    dtype = DTYPES[precision]
    theta = torch.tensor(_angles(LAYERS * n), dtype=dtype.to_real(), device=device, requires_grad=True)

    def step():
        qml.expval_z(qml.simulate(c, theta, gradient=gradient, dtype=dtype)).sum().backward()
        g, theta.grad = theta.grad, None
        return g
    return _ran_at(step, dtype)


# --- TorchQuantum ------------------------------------------------------------------------

def _tq():
    from benchmarks.peers.torchquantum import load
    tq = load()
    if tq is None:
        raise ImportError("torchquantum is not installed")
    return tq


def _tq_dtype(tq) -> torch.dtype:
    """The dtype of TorchQuantum's states (fixed by its ``macro.C_DTYPE``: complex64)."""
    return tq.QuantumDevice(n_wires=1).states.dtype


def torchquantum_b1():
    tq = _tq()
    x, weights = _b1_data()
    encoder = tq.GeneralEncoder([{"input_idx": [layer * B1_WIRES + w], "func": gate, "wires": [w]}
                                 for layer, gate in enumerate(ENCODER) for w in range(B1_WIRES)])
    u3 = [[tq.U3(has_params=True, trainable=True) for _ in range(B1_WIRES)] for _ in range(B1_BLOCKS)]
    cu3 = [[tq.CU3(has_params=True, trainable=True) for _ in range(B1_WIRES)] for _ in range(B1_BLOCKS)]
    with torch.no_grad():
        for b in range(B1_BLOCKS):
            for w in range(B1_WIRES):
                u3[b][w].params.copy_(weights[b, w].view(1, 3))
                cu3[b][w].params.copy_(weights[b, B1_WIRES + w].view(1, 3))
    measure = tq.MeasureAll(tq.PauliZ)
    params = [g.params for row in u3 + cu3 for g in row]

    def step():
        qdev = tq.QuantumDevice(n_wires=B1_WIRES, bsz=B1_BATCH)
        encoder(qdev, x)
        for b in range(B1_BLOCKS):
            for w in range(B1_WIRES):
                u3[b][w](qdev, wires=w)
            for w in range(B1_WIRES):
                cu3[b][w](qdev, wires=[w, (w + 1) % B1_WIRES])
        z = measure(qdev)
        z.sum().backward()
        for p in params:
            p.grad = None
        return z
    return _ran_at(step, _tq_dtype(tq))


def _tq_wide(tq, n: int, theta: torch.Tensor):
    qdev = tq.QuantumDevice(n_wires=n, bsz=1)
    for layer in range(LAYERS):
        for w in range(n):
            tq.functional.ry(qdev, wires=w, params=theta[layer * n + w].view(1, 1))
        for w in range(n - 1):
            tq.functional.cnot(qdev, wires=[w, w + 1])
    return tq.MeasureAll(tq.PauliZ)(qdev)


def torchquantum_b2(n: int):
    tq = _tq()
    theta = torch.tensor(_angles(LAYERS * n), dtype=torch.float32)

    def step():
        with torch.no_grad():
            return _tq_wide(tq, n, theta)
    return _ran_at(step, _tq_dtype(tq))


def torchquantum_b3(n: int):
    tq = _tq()
    theta = torch.tensor(_angles(LAYERS * n), dtype=torch.float32, requires_grad=True)

    def step():
        _tq_wide(tq, n, theta).sum().backward()
        g, theta.grad = theta.grad, None
        return g
    return _ran_at(step, _tq_dtype(tq))


# --- PennyLane ---------------------------------------------------------------------------

def lightning_wide(n: int, diff_method, precision: str):
    """lightning.qubit at ``precision`` (its ``c_dtype``) running B2; the QNode and PennyLane."""
    import pennylane as qp

    dev = qp.device("lightning.qubit", wires=n, c_dtype=np.dtype(precision).type)
    total_z = qp.sum(*[qp.PauliZ(w) for w in range(n)])

    @qp.qnode(dev, diff_method=diff_method)
    def circuit(theta, summed: bool):
        for layer in range(LAYERS):
            for w in range(n):
                qp.RY(theta[layer * n + w], wires=w)
            for w in range(n - 1):
                qp.CNOT(wires=[w, w + 1])
        return qp.expval(total_z) if summed else [qp.expval(qp.PauliZ(w)) for w in range(n)]
    return qp, circuit


def lightning_b2(n: int, precision: str):
    qp, circuit = lightning_wide(n, None, precision)
    theta = _angles(LAYERS * n)
    return _ran_at(lambda: circuit(theta, False), circuit.device.c_dtype)


def lightning_b3(n: int, precision: str):
    qp, circuit = lightning_wide(n, "adjoint", precision)
    theta = qp.numpy.array(_angles(LAYERS * n), requires_grad=True)
    grad = qp.grad(lambda t: circuit(t, True))
    return _ran_at(lambda: grad(theta), circuit.device.c_dtype)


def default_qubit_b1():
    """default.qubit with torch backprop. It has no precision option: its |0...0> is complex128
    and float32 angles are promoted, so it computes in complex128 whatever its inputs; it gets
    float64 inputs, and its step is tagged with the dtype of its results."""
    import pennylane as qp

    x, weights = _b1_data(dtype=torch.float64)
    dev = qp.device("default.qubit", wires=B1_WIRES)
    rot = {"ry": qp.RY, "rz": qp.RZ, "rx": qp.RX}

    @qp.qnode(dev, interface="torch", diff_method="backprop")
    def circuit(inputs, w):
        for layer, gate in enumerate(ENCODER):
            for q in range(B1_WIRES):
                rot[gate](inputs[:, layer * B1_WIRES + q], wires=q)
        for b in range(B1_BLOCKS):
            for q in range(B1_WIRES):
                qp.U3(*w[b, q], wires=q)
            for q in range(B1_WIRES):
                qp.ctrl(qp.U3, control=q)(*w[b, B1_WIRES + q], wires=(q + 1) % B1_WIRES)
        return [qp.expval(qp.PauliZ(q)) for q in range(B1_WIRES)]

    w = weights.clone().requires_grad_(True)

    def step():
        z = torch.stack(circuit(x, w), dim=1)
        z.sum().backward()
        w.grad = None
        return z
    return _ran_at(step, step().dtype.to_complex())


# --- qulacs ------------------------------------------------------------------------------

def _qulacs_wide(n: int, parametric: bool):
    import qulacs

    circuit = qulacs.ParametricQuantumCircuit(n) if parametric else qulacs.QuantumCircuit(n)
    add_ry = circuit.add_parametric_RY_gate if parametric else circuit.add_RY_gate
    theta = _angles(LAYERS * n)
    for layer in range(LAYERS):
        for w in range(n):
            add_ry(w, float(theta[layer * n + w]))
        for w in range(n - 1):
            circuit.add_CNOT_gate(w, w + 1)
    return qulacs, circuit


def qulacs_b2(n: int):
    qulacs, circuit = _qulacs_wide(n, parametric=False)
    state = qulacs.QuantumState(n)
    observables = []
    for w in range(n):
        o = qulacs.Observable(n)
        o.add_operator(1.0, f"Z {w}")
        observables.append(o)

    def step():
        state.set_zero_state()
        circuit.update_quantum_state(state)
        return [o.get_expectation_value(state) for o in observables]
    return _ran_at(step, state.get_vector().dtype)


def qulacs_b3(n: int):
    qulacs, circuit = _qulacs_wide(n, parametric=True)
    total_z = qulacs.Observable(n)
    for w in range(n):
        total_z.add_operator(1.0, f"Z {w}")
    return _ran_at(lambda: circuit.backprop(total_z), qulacs.QuantumState(1).get_vector().dtype)


# --- qiskit-aer --------------------------------------------------------------------------

def aer_simulator(threads: int, precision: str):
    """Aer's statevector method on ``threads`` threads, at ``precision`` (its ``precision`` option)."""
    from qiskit_aer import AerSimulator

    return AerSimulator(method="statevector", max_parallel_threads=threads, precision=AER_PRECISION[precision])


def aer_b2(n: int, threads: int, precision: str):
    from qiskit import QuantumCircuit, transpile
    from qiskit.quantum_info import Pauli

    sim = aer_simulator(threads, precision)  # importing qiskit_aer adds QuantumCircuit.save_expectation_value
    qc = QuantumCircuit(n)
    theta = _angles(LAYERS * n)
    for layer in range(LAYERS):
        for w in range(n):
            qc.ry(float(theta[layer * n + w]), w)
        for w in range(n - 1):
            qc.cx(w, w + 1)
    for w in range(n):
        qc.save_expectation_value(Pauli("Z"), [w], label=f"z{w}")
    compiled = transpile(qc, sim, optimization_level=0)
    ran_at = {aer: name for name, aer in AER_PRECISION.items()}[sim.options.precision]
    return _ran_at(lambda: sim.run(compiled).result(), ran_at)


#: case -> our simulator name -> builder(size, precision, device)
OURS = {
    "B1": {f"ours {g}": lambda n, p, d, g=g: ours_b1(g, d, p) for g in ("autograd", "adjoint")},
    "B2": {"ours": lambda n, p, d: ours_b2(n, d, p),
           **{f"ours ({v})": lambda n, p, d, v=v: ours_b2(n, d, p, v) for v in ("from qiskit", "grad mode")}},
    "B3": {f"ours {g}": lambda n, p, d, g=g: ours_b3(n, g, d, p) for g in ("adjoint", "autograd")},
}


class Peer(NamedTuple):
    """A peer's builder ``(size, threads, precision) -> step`` and the precisions it offers."""

    build: Callable
    precisions: tuple[str, ...]


COMPLEX64, COMPLEX128 = ("complex64",), ("complex128",)

#: case -> peer name -> Peer. qulacs has complex128 only; TorchQuantum complex64 only (its
#: dtype is a module constant); default.qubit computes in complex128 (see default_qubit_b1).
PEERS = {
    "B1": {"TorchQuantum": Peer(lambda n, t, p: torchquantum_b1(), COMPLEX64),
           "PennyLane default.qubit": Peer(lambda n, t, p: default_qubit_b1(), COMPLEX128)},
    "B2": {"qulacs": Peer(lambda n, t, p: qulacs_b2(n), COMPLEX128),
           "lightning.qubit": Peer(lambda n, t, p: lightning_b2(n, p), BOTH),
           "qiskit-aer": Peer(aer_b2, BOTH),
           "TorchQuantum": Peer(lambda n, t, p: torchquantum_b2(n), COMPLEX64)},
    "B3": {"qulacs": Peer(lambda n, t, p: qulacs_b3(n), COMPLEX128),
           "lightning.qubit adjoint": Peer(lambda n, t, p: lightning_b3(n, p), BOTH),
           "TorchQuantum": Peer(lambda n, t, p: torchquantum_b3(n), COMPLEX64)},
}
