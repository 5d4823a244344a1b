"""A physical circuit on a device, as the graph QuEst's model reads.

One node per gate, plus one per initial qubit (``init``) and one per measurement
(``measure``) of every qubit the circuit uses; edges join consecutive nodes along each qubit's
wire, both ways (edge attribute ``[1, 0]`` forward in time, ``[0, 1]`` backward). Node
features (:data:`NODE_FEATURES`) carry the gate, its physical qubits and its noise under the
device's calibration; circuit features (:data:`CIRCUIT_FEATURES`) the circuit's size and the
calibration of the qubits it uses. Every feature is a number computed from the circuit and
the calibration, none a one-hot of a qubit index or anything else that caps the device's
size: a model trained on 5- and 7-qubit devices reads a circuit on a 27-qubit device.

Scales: error probabilities are multiplied by 100 (readout by 10), relaxation rates are
given per 100 us (``1e-4 s / T1``), so typical values are near 1. Qubit indices are divided
by the device's qubit count.

:data:`LAYOUT` (the feature names and :data:`VERSION`) is recorded in every model file; a
model made for another layout is refused.

>>> from noise.devices import Device
>>> from qml import Circuit
>>> g = circuit_graph(Circuit(5).sx(0).cx(0, 1).rz(1, 0.5), Device.from_name("lima"))
>>> g.x.shape, g.u.shape, g.edge_index.shape   # 2 init + 3 gates + 2 measure nodes
(torch.Size([7, 22]), torch.Size([1, 14]), torch.Size([2, 12]))
"""

from __future__ import annotations

import math

import numpy as np
import torch

from qml.circuit import Circuit

VERSION = 1
NODE_TYPES = ("init", "measure", "rz", "sx", "x", "cx")
NODE_FEATURES = (*(f"is_{t}" for t in NODE_TYPES),
                 "qubit_a/n", "qubit_b/n",            # the gate's qubits (b = a for one-qubit nodes)
                 "error*100", "log10_error",          # gate error; readout error for measure; 0 for init
                 "duration/T1*100", "duration/T2*100",  # relaxation during the gate (worst qubit)
                 "T1_rate_a", "T2_rate_a", "T1_rate_b", "T2_rate_b",  # 1e-4 s / T
                 "readout_a*10", "readout_b*10",      # mean of P(1|0), P(0|1)
                 "layer/depth", "log1p_layer", "log1p_layers_after", "wire_position/wire_length")
CIRCUIT_FEATURES = ("log1p_depth", "width", "log1p_rz", "log1p_sx", "log1p_x", "log1p_cx", "log1p_gates",
                    "log2_noise_scale", "mean_sx_error*100", "mean_cx_error*100", "mean_readout*10",
                    "mean_T1_rate", "mean_T2_rate", "max_cx_error*100")
EDGE_FEATURES = ("forward", "backward")
LAYOUT = {"version": VERSION, "node": list(NODE_FEATURES), "circuit": list(CIRCUIT_FEATURES),
          "edge": list(EDGE_FEATURES), "node_types": list(NODE_TYPES)}
_TYPE = {t: i for i, t in enumerate(NODE_TYPES)}
_LOG_FLOOR = 1e-7


class _Calibration:
    """Per-qubit and per-gate arrays of a device, looked up once per graph."""

    def __init__(self, device):
        n = device.n_qubits
        self.n = n
        self.t1_rate = np.array([1e-4 / t if t > 0 and math.isfinite(t) else 0.0 for t in device.t1])
        self.t2_rate = np.array([1e-4 / t if t > 0 and math.isfinite(t) else 0.0 for t in device.t2])
        self.t1 = np.array(device.t1)
        self.t2 = np.array(device.t2)
        self.readout = np.array([(a + b) / 2 for a, b in device.readout])
        self.errors = device.gate_errors
        self.durations = device.gate_durations
        self.edges = device.coupling_map

    def error(self, name, qubits) -> float:
        try:
            return self.errors[(name, qubits)]
        except KeyError:
            raise ValueError(f"the device has no calibrated {name} on qubit(s) {qubits}") from None


def circuit_graph(circuit: Circuit, device, noise_scale: float = 1.0, y: float | None = None):
    """The ``torch_geometric.data.Data`` of physical ``circuit`` on ``device``.

    ``circuit`` must be physical (see :func:`noise.fidelity.label.compile_for`); ``device``
    carries the calibration (already scaled, when it is a scaled one: ``noise_scale`` is only
    the circuit feature that says by how much). ``y``, when given, becomes ``data.y``.
    Attributes: ``x`` (nodes x :data:`NODE_FEATURES`), ``edge_index``, ``edge_attr``, ``u``
    (1 x :data:`CIRCUIT_FEATURES`), and ``y``.
    """
    from torch_geometric.data import Data

    from noise.fidelity.label import physical_problem, used_qubits

    problem = physical_problem(circuit, device)
    if problem is not None:
        raise ValueError(f"circuit_graph takes a physical circuit of {device.name}: {problem}")
    cal = _Calibration(device)
    gates = [op for op in circuit.gates if op.name != "id"]
    qubits = used_qubits(circuit)
    if not qubits:
        raise ValueError("circuit_graph: the circuit has no gates")
    # nodes: init per used qubit, then gates, then measure per used qubit
    n_nodes = 2 * len(qubits) + len(gates)
    x = np.zeros((n_nodes, len(NODE_FEATURES)), dtype=np.float32)
    layer = np.zeros(n_nodes)
    level = {q: 0 for q in qubits}
    last = {}  # qubit -> last node on its wire
    position = {q: 0 for q in qubits}
    wire_pos = np.zeros(n_nodes)
    src, dst = [], []
    rows = []  # (node, type, qa, qb, error, duration)
    for k, q in enumerate(qubits):
        last[q] = k
        rows.append((k, "init", q, q, 0.0, 0.0))
    counts = {"rz": 0, "sx": 0, "x": 0, "cx": 0}
    for i, op in enumerate(gates):
        node = len(qubits) + i
        wires = tuple(op.wires)
        counts[op.name] += 1
        lay = max(level[w] for w in wires)
        for w in wires:
            level[w] = lay + 1
            src.append(last[w])
            dst.append(node)
            last[w] = node
            position[w] += 1
            wire_pos[node] = max(wire_pos[node], position[w])
        layer[node] = lay + 1
        err = cal.error(op.name, wires)
        duration = cal.durations.get((op.name, wires), 0.0)
        rows.append((node, op.name, wires[0], wires[-1], err, duration))
    depth = max(level.values())
    for k, q in enumerate(qubits):
        node = len(qubits) + len(gates) + k
        src.append(last[q])
        dst.append(node)
        position[q] += 1
        wire_pos[node] = position[q]
        layer[node] = depth + 1
        rows.append((node, "measure", q, q, float(cal.readout[q]), 0.0))
    node_idx = np.array([r[0] for r in rows])
    types = np.array([_TYPE[r[1]] for r in rows])
    qa = np.array([r[2] for r in rows])
    qb = np.array([r[3] for r in rows])
    err = np.array([r[4] for r in rows])
    dur = np.array([r[5] for r in rows])
    x[node_idx, types] = 1.0
    col = len(NODE_TYPES)
    x[node_idx, col] = qa / cal.n
    x[node_idx, col + 1] = qb / cal.n
    x[node_idx, col + 2] = err * 100
    x[node_idx, col + 3] = np.log10(err + _LOG_FLOOR)
    with np.errstate(divide="ignore", invalid="ignore"):
        r1 = np.maximum(np.nan_to_num(dur / cal.t1[qa]), np.nan_to_num(dur / cal.t1[qb]))
        r2 = np.maximum(np.nan_to_num(dur / cal.t2[qa]), np.nan_to_num(dur / cal.t2[qb]))
    x[node_idx, col + 4] = r1 * 100
    x[node_idx, col + 5] = r2 * 100
    x[node_idx, col + 6] = cal.t1_rate[qa]
    x[node_idx, col + 7] = cal.t2_rate[qa]
    x[node_idx, col + 8] = cal.t1_rate[qb]
    x[node_idx, col + 9] = cal.t2_rate[qb]
    x[node_idx, col + 10] = cal.readout[qa] * 10
    x[node_idx, col + 11] = cal.readout[qb] * 10
    x[:, col + 12] = layer / (depth + 1)
    x[:, col + 13] = np.log1p(layer)
    x[:, col + 14] = np.log1p(depth + 1 - layer)
    wire_len = np.array([position[q] for q in qubits], dtype=float)
    qubit_slot = {q: k for k, q in enumerate(qubits)}
    x[node_idx, col + 15] = wire_pos[node_idx] / wire_len[[qubit_slot[q] for q in qa]]
    src_a, dst_a = np.array(src), np.array(dst)
    edge_index = np.concatenate([np.stack([src_a, dst_a]), np.stack([dst_a, src_a])], axis=1)
    edge_attr = np.zeros((edge_index.shape[1], 2), dtype=np.float32)
    edge_attr[: len(src), 0] = 1.0
    edge_attr[len(src):, 1] = 1.0
    u = circuit_features(cal, qubits, counts, depth, len(gates), noise_scale)
    data = Data(x=torch.from_numpy(x), edge_index=torch.from_numpy(edge_index).long(),
                edge_attr=torch.from_numpy(edge_attr), u=torch.from_numpy(u)[None])
    if y is not None:
        data.y = torch.tensor([float(y)], dtype=torch.float32)
    return data


def circuit_features(cal: _Calibration, qubits, counts, depth, n_gates, noise_scale) -> np.ndarray:
    q = list(qubits)
    qset = set(q)
    sx = [cal.errors.get(("sx", (k,)), 0.0) for k in q]
    cx = [e for (name, pair), e in cal.errors.items() if name == "cx" and set(pair) <= qset]
    values = [math.log1p(depth), len(q), math.log1p(counts["rz"]), math.log1p(counts["sx"]),
              math.log1p(counts["x"]), math.log1p(counts["cx"]), math.log1p(n_gates),
              math.log2(noise_scale) if noise_scale > 0 else -10.0,
              float(np.mean(sx)) * 100, (float(np.mean(cx)) if cx else 0.0) * 100,
              float(np.mean(cal.readout[q])) * 10, float(np.mean(cal.t1_rate[q])),
              float(np.mean(cal.t2_rate[q])), (max(cx) if cx else 0.0) * 100]
    return np.array(values, dtype=np.float32)


__all__ = ["CIRCUIT_FEATURES", "EDGE_FEATURES", "LAYOUT", "NODE_FEATURES", "NODE_TYPES", "VERSION",
           "circuit_graph"]
