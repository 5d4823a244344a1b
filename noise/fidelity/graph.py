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

Building is batched: :func:`circuit_graphs` and :func:`graph_batch` read each circuit's ops
once (one Python pass per attribute) and compute every feature with array operations over
all gates of all circuits, the device's calibration turned into arrays once per device; only
the layer of each ``cx`` (the one gate joining two wires) is found in a Python loop.
:func:`circuit_graph` is the one-circuit case. The features are those of the per-node builder
they replaced (a test compares both on stored circuits).

>>> from noise.devices import Device
>>> from qml import Circuit
>>> g = circuit_graph(Circuit(5).sx(0).cx(0, 1).rz(1, 0.5), Device.from_name("lima"))
>>> g.x.shape, g.u.shape, g.edge_index.shape   # 2 init + 3 gates + 2 measure nodes
(torch.Size([7, 22]), torch.Size([1, 14]), torch.Size([2, 12]))
"""

from __future__ import annotations

import math
import weakref
from itertools import chain
from operator import attrgetter
from typing import Sequence

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
_LOG_FLOOR = 1e-7
_GATE = {name: code for code, name in enumerate(NODE_TYPES[2:])}  # gate code; its node type is 2 + code
_CX = _GATE["cx"]
_SKIPPED = ("id", "barrier", "measure")  # not nodes (a physical circuit may hold them)
_name, _wires, _adjoint = attrgetter("name"), attrgetter("wires"), attrgetter("adjoint")


class _Calibration:
    """A device's calibration as arrays, built once per device (a Device is immutable):
    per qubit T1, T2, their rates and the readout error; per gate code and qubits ``(a, b)``
    (``b = a`` for one-qubit gates) the error (NaN where not calibrated) and duration."""

    def __init__(self, device):
        n = self.n = device.n_qubits
        self.t1 = np.array(device.t1, dtype=float)
        self.t2 = np.array(device.t2, dtype=float)
        self.t1_rate = np.array([1e-4 / t if t > 0 and math.isfinite(t) else 0.0 for t in device.t1])
        self.t2_rate = np.array([1e-4 / t if t > 0 and math.isfinite(t) else 0.0 for t in device.t2])
        self.readout = np.array([(a + b) / 2 for a, b in device.readout], dtype=float)
        self.error = np.full((len(_GATE), n, n), np.nan)
        self.duration = np.zeros((len(_GATE), n, n))
        for table, values in ((self.error, device.gate_errors), (self.duration, device.gate_durations)):
            for (name, qubits), value in values.items():
                code = _GATE.get(name)
                if code is not None and len(qubits) == (2 if code == _CX else 1):
                    table[code, qubits[0], qubits[-1]] = value
        self.edge = np.zeros((n, n), dtype=bool)
        for a, b in device.coupling_map:
            self.edge[a, b] = True
        self.basis = np.array([name in device.basis_gates for name in _GATE])
        self.sx_error = np.array([device.gate_errors.get(("sx", (k,)), 0.0) for k in range(n)])
        cx = [(pair, e) for (name, pair), e in device.gate_errors.items() if name == "cx"]
        self.cx_a = np.array([p[0] for p, _ in cx], dtype=np.int64)
        self.cx_b = np.array([p[-1] for p, _ in cx], dtype=np.int64)
        self.cx_error = np.array([e for _, e in cx], dtype=float)
        # per gate code and qubits, the node features that depend on nothing else
        with np.errstate(divide="ignore", invalid="ignore"):
            self.log_error = np.log10(self.error + _LOG_FLOOR)
            self.relax1 = np.maximum(np.nan_to_num(self.duration / self.t1[None, :, None]),
                                     np.nan_to_num(self.duration / self.t1[None, None, :])) * 100
            self.relax2 = np.maximum(np.nan_to_num(self.duration / self.t2[None, :, None]),
                                     np.nan_to_num(self.duration / self.t2[None, None, :])) * 100
        self.log_readout = np.log10(self.readout + _LOG_FLOOR)


_calibrations: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # device -> its _Calibration


def _calibration(device) -> _Calibration:
    try:
        return _calibrations[device]
    except KeyError:
        cal = _calibrations[device] = _Calibration(device)
        return cal
    except TypeError:  # a device that takes no weak reference: not cached
        return _Calibration(device)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(s, s + l)`` for each start ``s`` and length ``l``."""
    total = int(lengths.sum())
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + (np.arange(total) - offsets)


def _segment_sum(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Sums of consecutive segments of ``values`` (every length at least 1)."""
    return np.add.reduceat(values, np.cumsum(lengths) - lengths)


class _Built:
    """Graphs of many circuits as flat arrays: node features ``x`` of all circuits one after
    the other, ``u`` one row per circuit, and the forward edges (along the wires, in time
    order) as global node indices: each gate's in-edges (``event_src``, ``event_dst``), then
    each used qubit's edge into its measurement (``measure_src``, ``measure_dst``)."""

    def __init__(self, x, u, nodes, event_src, event_dst, events, measure_src, measure_dst, width):
        self.x, self.u, self.nodes = x, u, nodes
        self.event_src, self.event_dst, self.events = event_src, event_dst, events
        self.measure_src, self.measure_dst, self.width = measure_src, measure_dst, width

    def forward_edges(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.concatenate([self.event_src, self.measure_src]),
                np.concatenate([self.event_dst, self.measure_dst]))


def _per_circuit(value, n: int, what: str) -> list:
    if isinstance(value, (list, tuple, np.ndarray, torch.Tensor)):
        value = list(value)
        if len(value) != n:
            raise ValueError(f"{what}: {len(value)} given for {n} circuits")
        return value
    return [value] * n


class _Codes(dict):
    """Gate name -> code; -1 for anything else (one C-level lookup per op)."""

    def __missing__(self, name):
        return -1


_CODES = _Codes(_GATE)


def _node_ops(circuits, devices) -> list[tuple]:
    """The ops of each circuit that become nodes (ids, barriers, measurements dropped); a
    circuit holding anything else is not physical: a ValueError names the problem."""
    from noise.fidelity.label import physical_problem

    out = []
    for circuit, device in zip(circuits, devices):
        ops = circuit.ops
        if any(_CODES[op.name] < 0 for op in ops):
            if any(op.name not in _GATE and op.name not in _SKIPPED for op in ops):
                raise ValueError(f"circuit_graph takes a physical circuit of {device.name}: "
                                 f"{physical_problem(circuit, device)}")
            ops = tuple(op for op in ops if op.name not in _SKIPPED)
        out.append(ops)
    return out


def _build(circuits: Sequence[Circuit], devices: Sequence, scales: Sequence[float]) -> _Built:
    """The graphs of physical ``circuits`` (each on its device), built together: one pass of
    Python over the ops, then array operations over all gates of all circuits."""
    from noise.fidelity.label import physical_problem

    b = len(circuits)
    for circuit in circuits:
        if not isinstance(circuit, Circuit):
            raise ValueError(f"circuit_graph takes a qml Circuit, got {type(circuit).__name__}")
    # calibrations: one table per distinct device, joined; a circuit reads its device's block
    cals, dev_of = [], np.empty(b, dtype=np.int64)
    seen: dict[int, int] = {}
    for i, device in enumerate(devices):
        k = seen.get(id(device))
        if k is None:
            k = seen[id(device)] = len(cals)
            cals.append(_calibration(device))
        dev_of[i] = k
    dev_n = np.array([c.n for c in cals], dtype=np.int64)
    dev_q0 = np.cumsum(dev_n) - dev_n                        # first row of each device in per-qubit tables
    dev_p0 = np.cumsum(len(_GATE) * dev_n ** 2) - len(_GATE) * dev_n ** 2
    t1_rate, t2_rate, readout, log_readout, sx_error = (
        np.concatenate([getattr(c, a) for c in cals]) for a in ("t1_rate", "t2_rate", "readout", "log_readout", "sx_error"))
    error, log_error, relax1, relax2 = (np.concatenate([getattr(c, a).ravel() for c in cals])
                                        for a in ("error", "log_error", "relax1", "relax2"))
    edge = np.concatenate([np.broadcast_to(c.edge[None], (len(_GATE), c.n, c.n)).ravel() for c in cals])
    basis = np.concatenate([c.basis for c in cals])

    # one pass of Python per attribute over all ops: gate codes, wires, adjoint flags
    ops_of = [c.ops for c in circuits]
    all_ops = list(chain.from_iterable(ops_of))
    code = np.array(list(map(_CODES.__getitem__, map(_name, all_ops))), dtype=np.int64)
    if len(code) and code.min() < 0:  # ids, barriers or measurements (or a non-physical gate)
        ops_of = _node_ops(circuits, devices)
        all_ops = list(chain.from_iterable(ops_of))
        code = np.array(list(map(_CODES.__getitem__, map(_name, all_ops))), dtype=np.int64)
    n_gates = np.array(list(map(len, ops_of)), dtype=np.int64)
    g = len(all_ops)
    flat = np.array(list(chain.from_iterable(map(_wires, all_ops))), dtype=np.int64)
    arity = 1 + (code == _CX)
    sx_adjoint = np.zeros(g, dtype=bool)
    if any(map(_adjoint, all_ops)):
        sx_adjoint = np.array(list(map(_adjoint, all_ops))) & (code == _GATE["sx"])
    first = np.cumsum(arity) - arity                         # each gate's first event (wire)
    last = first + arity - 1
    cid = np.repeat(np.arange(b), n_gates)                    # circuit of each gate
    n_q = dev_n[dev_of]                                       # qubits of each circuit's device
    gn = n_q[cid]
    qa, qb = flat[first], flat[last]

    # physical? (the message is label.physical_problem's, for the first circuit that is not)
    bad = (qa >= gn) | (qb >= gn)
    qa_ok, qb_ok = np.where(bad, 0, qa), np.where(bad, 0, qb)
    pair = dev_p0[dev_of][cid] + (code * gn + qa_ok) * gn + qb_ok
    bad |= sx_adjoint | ((code == _CX) & ~edge[pair]) | ~basis[dev_of[cid] * len(_GATE) + code]
    if bad.any():
        i = int(cid[np.argmax(bad)])
        problem = physical_problem(circuits[i], devices[i]) or "it is not physical"
        raise ValueError(f"circuit_graph takes a physical circuit of {devices[i].name}: {problem}")
    if (n_gates == 0).any():
        raise ValueError("circuit_graph: the circuit has no gates")
    err = error[pair]
    if np.isnan(err).any():
        k = int(np.argmax(np.isnan(err)))
        raise ValueError(f"the device has no calibrated {all_ops[k].name} on qubit(s) {tuple(all_ops[k].wires)}")

    # each qubit of each circuit is a slot; its events (gates on it) in time order
    q0 = np.cumsum(n_q) - n_q                                 # first slot of each circuit
    e = len(flat)
    egate = np.repeat(np.arange(g), arity)
    slot = q0[cid][egate] + flat
    order = np.argsort(slot, kind="stable")
    s_slot = slot[order]
    new = np.ones(e, dtype=bool)
    new[1:] = s_slot[1:] != s_slot[:-1]
    start = np.maximum.accumulate(np.where(new, np.arange(e), 0))
    s_pos = np.arange(e) - start + 1                          # position on the wire (init: 0)
    rank = np.empty(e, dtype=np.int64)
    rank[order] = np.arange(e)
    slot_count = np.bincount(slot, minlength=int(n_q.sum()))
    used = np.flatnonzero(slot_count)                         # used slots, by circuit then qubit
    used_cid = np.repeat(np.arange(b), n_q)[used]
    width = np.bincount(used_cid, minlength=b)
    wire_len = slot_count + 1

    # node numbering per circuit: init per used qubit, gates, measure per used qubit
    nodes = 2 * width + n_gates
    base = np.cumsum(nodes) - nodes
    u0 = np.cumsum(width) - width
    used_rank = np.arange(len(used)) - u0[used_cid]
    init_node = np.zeros(len(slot_count), dtype=np.int64)
    init_node[used] = base[used_cid] + used_rank
    measure_node = base[used_cid] + width[used_cid] + n_gates[used_cid] + used_rank
    g0 = np.cumsum(n_gates) - n_gates
    gate_node = base[cid] + width[cid] + np.arange(g) - g0[cid]
    s_node = gate_node[egate[order]]
    s_prev = np.empty(e, dtype=np.int64)
    s_prev[1:] = s_node[:-1]
    s_prev = np.where(new, init_node[s_slot], s_prev)         # the node before each event on its wire
    event_src = s_prev[rank]
    event_dst = gate_node[egate]
    s_end = np.flatnonzero(np.append(new[1:], True))          # each used slot's last event

    # layers (ASAP): a one-qubit gate is one layer after its wire's previous node; only cx
    # joins two wires, so a Python loop runs over the cx gates alone
    s_cx = code[egate[order]] == _CX
    last_cx = np.maximum.accumulate(np.where(s_cx, np.arange(e), -1))
    anchor = np.full(e, -1)
    anchor[1:] = last_cx[:-1]
    anchor = np.where(anchor >= start, anchor, -1)             # the wire's last cx before the event
    offset = s_pos - 1 - np.where(anchor >= 0, s_pos[np.maximum(anchor, 0)], 0)
    cx_number = np.cumsum(code == _CX)                        # 1-based among the cx gates
    anchor_cx = np.where(anchor >= 0, cx_number[egate[order][np.maximum(anchor, 0)]], 0)
    cx_gates = np.flatnonzero(code == _CX)
    ja, jb = rank[first[cx_gates]], rank[last[cx_gates]]
    cx_layer = [0] * (len(cx_gates) + 1)
    for k, (a1, o1, a2, o2) in enumerate(zip(anchor_cx[ja].tolist(), offset[ja].tolist(),
                                             anchor_cx[jb].tolist(), offset[jb].tolist()), 1):
        v1, v2 = cx_layer[a1] + o1, cx_layer[a2] + o2
        cx_layer[k] = (v1 if v1 > v2 else v2) + 1
    s_before = np.array(cx_layer)[anchor_cx] + offset          # layer of the node before each event
    gate_layer = np.maximum(s_before[rank[first]], s_before[rank[last]]) + 1
    depth = np.maximum.reduceat(gate_layer, g0)
    wire_pos = np.maximum(s_pos[rank[first]], s_pos[rank[last]])

    # per node: type, qubits (device-wide rows), error, duration, layer, wire position
    n_all = int(nodes.sum())
    gate_rows = gate_node
    used_q = used - q0[used_cid]
    init_rows = init_node[used]
    ntype = np.zeros(n_all, dtype=np.int64)
    ntype[gate_rows] = 2 + code
    ntype[measure_node] = 1
    node_cid = np.repeat(np.arange(b), nodes)
    row0 = dev_q0[dev_of][node_cid]
    na = np.zeros(n_all, dtype=np.int64)
    nb = np.zeros(n_all, dtype=np.int64)
    for rows, a_, b_ in ((init_rows, used_q, used_q), (measure_node, used_q, used_q), (gate_rows, qa, qb)):
        na[rows], nb[rows] = a_, b_
    ra, rb = row0 + na, row0 + nb
    n_err = np.zeros(n_all)
    n_err[gate_rows] = err
    n_err[measure_node] = readout[ra[measure_node]]
    layer = np.zeros(n_all)
    layer[gate_rows] = gate_layer
    layer[measure_node] = depth[used_cid] + 1
    n_depth = depth[node_cid]
    pos = np.zeros(n_all)
    pos[gate_rows] = wire_pos
    pos[measure_node] = wire_len[used]
    length = wire_len[q0[node_cid] + na]

    # features written as rows of the transposed matrix (contiguous), transposed once at the end
    xt = np.zeros((len(NODE_FEATURES), n_all), dtype=np.float32)
    for t in range(len(NODE_TYPES)):
        xt[t] = ntype == t
    col = len(NODE_TYPES)
    nq = n_q[node_cid]
    xt[col] = na / nq
    xt[col + 1] = nb / nq
    xt[col + 2] = n_err * 100
    log_err = np.full(n_all, math.log10(_LOG_FLOOR))  # init: error 0
    log_err[gate_rows] = log_error[pair]
    log_err[measure_node] = log_readout[ra[measure_node]]
    xt[col + 3] = log_err
    xt[col + 4, gate_rows] = relax1[pair]  # duration/T (worst qubit); 0 for init and measure
    xt[col + 5, gate_rows] = relax2[pair]
    xt[col + 6] = t1_rate[ra]
    xt[col + 7] = t2_rate[ra]
    xt[col + 8] = t1_rate[rb]
    xt[col + 9] = t2_rate[rb]
    xt[col + 10] = readout[ra] * 10
    xt[col + 11] = readout[rb] * 10
    xt[col + 12] = layer / (n_depth + 1)
    log1p = np.log1p(np.arange(int(depth.max()) + 2))  # layers are whole numbers
    xt[col + 13] = log1p[layer.astype(np.int64)]
    xt[col + 14] = log1p[(n_depth + 1 - layer).astype(np.int64)]
    xt[col + 15] = pos / length
    x = np.ascontiguousarray(xt.T)

    # circuit features
    counts = np.bincount(cid * len(_GATE) + code, minlength=b * len(_GATE)).reshape(b, len(_GATE))
    used_rows = dev_q0[dev_of][used_cid] + used_q
    dev_pairs = np.array([len(c.cx_a) for c in cals], dtype=np.int64)
    pairs = dev_pairs[dev_of]
    pair_cid = np.repeat(np.arange(b), pairs)
    pair_rows = _ranges((np.cumsum(dev_pairs) - dev_pairs)[dev_of], pairs)
    cx_a, cx_b, cx_error = (np.concatenate([getattr(c, a) for c in cals]) for a in ("cx_a", "cx_b", "cx_error"))
    slot_used = slot_count > 0
    inside = slot_used[q0[pair_cid] + cx_a[pair_rows]] & slot_used[q0[pair_cid] + cx_b[pair_rows]]
    cx_in = np.where(inside, cx_error[pair_rows], 0.0)
    cx_n = np.bincount(pair_cid, weights=inside, minlength=b)
    cx_mean = np.bincount(pair_cid, weights=cx_in, minlength=b) / np.maximum(cx_n, 1)
    cx_max = np.zeros(b)
    np.maximum.at(cx_max, pair_cid, cx_in)
    u = np.stack([np.log1p(depth), width, np.log1p(counts[:, 0]), np.log1p(counts[:, 1]), np.log1p(counts[:, 2]),
                  np.log1p(counts[:, 3]), np.log1p(n_gates),
                  np.array([math.log2(s) if s > 0 else -10.0 for s in scales]),
                  _segment_sum(sx_error[used_rows], width) / width * 100, cx_mean * 100,
                  _segment_sum(readout[used_rows], width) / width * 10,
                  _segment_sum(t1_rate[used_rows], width) / width, _segment_sum(t2_rate[used_rows], width) / width,
                  cx_max * 100], axis=1).astype(np.float32)
    events = np.bincount(cid, weights=arity, minlength=b).astype(np.int64)
    return _Built(x, u, nodes, event_src, event_dst, events, s_node[s_end], measure_node, width)


class GraphBatch:
    """Graphs joined into one disconnected graph (what the models read): ``x``, ``edge_index``
    (global node indices), ``edge_attr``, ``u`` (one row per graph), ``batch`` (graph of each
    node), ``y`` (one label per graph, or None). :meth:`join` joins ``Data`` graphs;
    :func:`graph_batch` builds one straight from circuits."""

    def __init__(self, x, edge_index, edge_attr, u, batch, y=None):
        self.x, self.edge_index, self.edge_attr, self.u, self.batch, self.y = x, edge_index, edge_attr, u, batch, y
        self.num_graphs = len(u)

    @classmethod
    def join(cls, graphs: Sequence) -> "GraphBatch":
        sizes = torch.tensor([g.num_nodes for g in graphs])
        offsets = torch.cumsum(sizes, 0) - sizes
        edges = torch.tensor([g.edge_index.shape[1] for g in graphs])
        labelled = graphs and all(getattr(g, "y", None) is not None for g in graphs)
        y = torch.cat([g.y for g in graphs]) if labelled else None
        return cls(torch.cat([g.x for g in graphs]),
                   torch.cat([g.edge_index for g in graphs], 1) + torch.repeat_interleave(offsets, edges),
                   torch.cat([g.edge_attr for g in graphs]), torch.cat([g.u for g in graphs]),
                   torch.repeat_interleave(torch.arange(len(graphs)), sizes), y)


def _edge_attr(forward: int) -> torch.Tensor:
    attr = np.zeros((2 * forward, len(EDGE_FEATURES)), dtype=np.float32)
    attr[:forward, 0] = 1.0
    attr[forward:, 1] = 1.0
    return torch.from_numpy(attr)


def _inputs(circuits, device, noise_scale, y):
    circuits = list(circuits)
    n = len(circuits)
    devices = _per_circuit(device, n, "devices")
    scales = [float(s) for s in _per_circuit(noise_scale, n, "noise scales")]
    ys = None if y is None else [float(v) for v in _per_circuit(y, n, "labels")]
    return circuits, devices, scales, ys


def graph_batch(circuits: Sequence[Circuit], device, noise_scale=1.0, y=None) -> GraphBatch:
    """The graphs of physical ``circuits`` joined into one :class:`GraphBatch`, built
    together (the fast path from circuits to a prediction: no per-graph objects).

    ``device`` is one Device or one per circuit, ``noise_scale`` one number or one per
    circuit, ``y`` None or one label per circuit. The graph of each circuit is the one
    :func:`circuit_graph` gives; the edges are ordered differently (all forward edges, then
    all backward ones), which changes no node's neighbourhood.
    """
    circuits, devices, scales, ys = _inputs(circuits, device, noise_scale, y)
    if not circuits:
        raise ValueError("graph_batch: no circuits")
    built = _build(circuits, devices, scales)
    src, dst = built.forward_edges()
    edge_index = torch.from_numpy(np.stack([np.concatenate([src, dst]), np.concatenate([dst, src])]))
    return GraphBatch(torch.from_numpy(built.x), edge_index, _edge_attr(len(src)), torch.from_numpy(built.u),
                      torch.from_numpy(np.repeat(np.arange(len(circuits)), built.nodes)),
                      None if ys is None else torch.tensor(ys, dtype=torch.float32))


def circuit_graphs(circuits: Sequence[Circuit], device, noise_scale=1.0, y=None) -> list:
    """The ``torch_geometric.data.Data`` of each physical circuit (as :func:`circuit_graph`),
    built together: ``device`` one Device or one per circuit, ``noise_scale`` one number or
    one per circuit, ``y`` None or one label per circuit."""
    from torch_geometric.data import Data

    circuits, devices, scales, ys = _inputs(circuits, device, noise_scale, y)
    if not circuits:
        return []
    built = _build(circuits, devices, scales)
    x, u = torch.from_numpy(built.x), torch.from_numpy(built.u)
    base = (np.cumsum(built.nodes) - built.nodes).tolist()
    e0 = (np.cumsum(built.events) - built.events).tolist()
    m0 = (np.cumsum(built.width) - built.width).tolist()
    out = []
    for i, (nodes, events, width) in enumerate(zip(built.nodes.tolist(), built.events.tolist(), built.width.tolist())):
        src = np.concatenate([built.event_src[e0[i]:e0[i] + events], built.measure_src[m0[i]:m0[i] + width]])
        dst = np.concatenate([built.event_dst[e0[i]:e0[i] + events], built.measure_dst[m0[i]:m0[i] + width]])
        edge_index = np.stack([np.concatenate([src, dst]), np.concatenate([dst, src])]) - base[i]
        data = Data(x=x[base[i]:base[i] + nodes], edge_index=torch.from_numpy(edge_index),
                    edge_attr=_edge_attr(len(src)), u=u[i:i + 1])
        if ys is not None:
            data.y = torch.tensor([ys[i]], dtype=torch.float32)
        out.append(data)
    return out


def circuit_graph(circuit: Circuit, device, noise_scale: float = 1.0, y: float | None = None):
    """The ``torch_geometric.data.Data`` of physical ``circuit`` on ``device``.

    ``circuit`` must be physical (see :func:`noise.fidelity.label.compile_for`); ``device``
    carries the calibration (already scaled, when it is a scaled one: ``noise_scale`` is only
    the circuit feature that says by how much). ``y``, when given, becomes ``data.y``.
    Attributes: ``x`` (nodes x :data:`NODE_FEATURES`), ``edge_index``, ``edge_attr``, ``u``
    (1 x :data:`CIRCUIT_FEATURES`), and ``y``. Many circuits: :func:`circuit_graphs`, or
    :func:`graph_batch` to predict.
    """
    return circuit_graphs([circuit], device, noise_scale, None if y is None else [y])[0]


__all__ = ["CIRCUIT_FEATURES", "EDGE_FEATURES", "GraphBatch", "LAYOUT", "NODE_FEATURES", "NODE_TYPES", "VERSION",
           "circuit_graph", "circuit_graphs", "graph_batch"]
