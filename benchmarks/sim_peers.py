"""The benchmark circuits (B1-B3) built for this engine and for each importable peer.

Every builder returns a zero-argument callable that runs one step (setup is done
outside it), or raises ``ImportError`` when that peer is not installed. The circuits
are the same for every simulator: B1 a 4-qubit QNN training step (16-feature
RY/RZ/RX/RY encoder, 2 blocks of U3 on every wire and a CU3 ring, <Z> per wire,
forward and backward); B2 n qubits, 5 layers of (RY on every wire, CNOT ladder),
<Z> per wire, forward only; B3 the gradient of the sum of <Z> for B2 with trainable angles.
"""

from __future__ import annotations

import math

import numpy as np
import torch

import qml

LAYERS = 5
B1_WIRES, B1_BATCH, B1_BLOCKS = 4, 256, 2
ENCODER = ("ry", "rz", "rx", "ry")


def _angles(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-math.pi, math.pi, count)


def _b1_data(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(B1_BATCH, 16, generator=gen) * math.pi
    weights = torch.rand(B1_BLOCKS, 2 * B1_WIRES, 3, generator=gen)
    return x, weights


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


def ours_b1(gradient: str, device: str = "cpu"):
    c = b1_circuit()
    x, weights = _b1_data()
    x = x.to(device)
    # parameter order of the circuit: block b: u3 of wires 0..3, then cu3 of wires 0..3
    w = weights.reshape(-1).to(device).requires_grad_(True)

    def step():
        z = qml.expval_z(qml.simulate(c, w, x, gradient=gradient))
        z.sum().backward()
        w.grad = None
        return z
    return step


def ours_b2(n: int, device: str = "cpu"):
    c = wide_circuit(n, trainable=False)

    def step():
        with torch.no_grad():
            return qml.expval_z(qml.simulate(c, device=device))
    return step


def ours_b3(n: int, gradient: str, device: str = "cpu"):
    c = wide_circuit(n, trainable=True)
    theta = torch.tensor(_angles(LAYERS * n), dtype=torch.float32, device=device, requires_grad=True)

    def step():
        qml.expval_z(qml.simulate(c, theta, gradient=gradient)).sum().backward()
        g, theta.grad = theta.grad, None
        return g
    return step


# --- TorchQuantum ------------------------------------------------------------------------

def _tq():
    from benchmarks.peers.torchquantum import load
    tq = load()
    if tq is None:
        raise ImportError("torchquantum is not installed")
    return tq


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
    return step


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
    return step


def torchquantum_b3(n: int):
    tq = _tq()
    theta = torch.tensor(_angles(LAYERS * n), dtype=torch.float32, requires_grad=True)

    def step():
        _tq_wide(tq, n, theta).sum().backward()
        g, theta.grad = theta.grad, None
        return g
    return step


# --- PennyLane ---------------------------------------------------------------------------

def _pennylane_wide(n: int, device_name: str, diff_method):
    import pennylane as qp

    dev = qp.device(device_name, wires=n)
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


def lightning_b2(n: int):
    qp, circuit = _pennylane_wide(n, "lightning.qubit", None)
    theta = _angles(LAYERS * n)
    return lambda: circuit(theta, False)


def lightning_b3(n: int):
    qp, circuit = _pennylane_wide(n, "lightning.qubit", "adjoint")
    theta = qp.numpy.array(_angles(LAYERS * n), requires_grad=True)
    grad = qp.grad(lambda t: circuit(t, True))
    return lambda: grad(theta)


def default_qubit_b1():
    import pennylane as qp

    x, weights = _b1_data()
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
    return step


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
    return step


def qulacs_b3(n: int):
    qulacs, circuit = _qulacs_wide(n, parametric=True)
    total_z = qulacs.Observable(n)
    for w in range(n):
        total_z.add_operator(1.0, f"Z {w}")
    return lambda: circuit.backprop(total_z)


# --- qiskit-aer --------------------------------------------------------------------------

def aer_b2(n: int, threads: int):
    from qiskit import QuantumCircuit, transpile
    from qiskit.quantum_info import Pauli
    from qiskit_aer import AerSimulator

    qc = QuantumCircuit(n)
    theta = _angles(LAYERS * n)
    for layer in range(LAYERS):
        for w in range(n):
            qc.ry(float(theta[layer * n + w]), w)
        for w in range(n - 1):
            qc.cx(w, w + 1)
    for w in range(n):
        qc.save_expectation_value(Pauli("Z"), [w], label=f"z{w}")
    sim = AerSimulator(method="statevector", max_parallel_threads=threads)
    compiled = transpile(qc, sim, optimization_level=0)
    return lambda: sim.run(compiled).result()


#: case -> simulator name -> builder(size, threads)
PEERS = {
    "B1": {"TorchQuantum": lambda n, t: torchquantum_b1(),
           "PennyLane default.qubit": lambda n, t: default_qubit_b1()},
    "B2": {"qulacs": lambda n, t: qulacs_b2(n), "lightning.qubit": lambda n, t: lightning_b2(n),
           "qiskit-aer": aer_b2, "TorchQuantum": lambda n, t: torchquantum_b2(n)},
    "B3": {"qulacs": lambda n, t: qulacs_b3(n), "lightning.qubit adjoint": lambda n, t: lightning_b3(n),
           "TorchQuantum": lambda n, t: torchquantum_b3(n)},
}
