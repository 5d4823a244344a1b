"""QuEst's models: a graph transformer on circuit graphs, and the MLP baseline.

- :class:`GraphTransformer`: node features embedded, ``layers`` ``TransformerConv`` layers
  (multi-head attention along the wires, edge attributes for the direction, residual + layer
  norm), mean / max / sum pooling, joined with an MLP of the circuit features, a sigmoid out.
- :class:`CircuitMLP`: the paper's baseline, an MLP on the circuit features alone.

Both standardise their inputs with statistics of the training set (buffers, saved with the
weights) and map a ``torch_geometric`` batch to one PST per graph.

Model files (:func:`save_model` / :func:`load_model`) are ``torch.save`` dicts of tensors and
plain containers, read with ``weights_only=True``: ``{"format": "qml-quest-model", "version",
"arch", "hparams", "layout" (the feature layout of noise.fidelity.graph), "state_dict",
"meta"}``. A file whose layout differs from the one this code computes is refused with a
message naming the difference.

>>> import torch
>>> from noise.devices import Device
>>> from qml import Circuit
>>> from noise.fidelity.graph import circuit_graph
>>> g = circuit_graph(Circuit(5).sx(0).cx(0, 1), Device.from_name("lima"))
>>> model = build_model("gt", hidden=16, layers=1, heads=2)
>>> predict(model, [g, g]).shape
(2,)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from noise.fidelity.graph import CIRCUIT_FEATURES, EDGE_FEATURES, LAYOUT, NODE_FEATURES, GraphBatch, graph_batch

FORMAT, VERSION = "qml-quest-model", 1
KIND = "QuEst model file"
ARCHS = ("gt", "mlp")
#: the model file shipped with the package (trained by ``qml-bench quest train``)
SHIPPED = Path(__file__).with_name("model.pt")
_SUM_SCALE = 100.0  # sum pooling divided by this (circuits have tens to thousands of nodes)


class _Standardise(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def fit(self, values: torch.Tensor) -> None:
        self.mean.copy_(values.mean(0))
        self.std.copy_(values.std(0).clamp_min(1e-3))

    def forward(self, x):
        return (x - self.mean) / self.std


def _mlp(sizes: Sequence[int], dropout: float = 0.0) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.GELU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers[:-2 if dropout else -1])


class CircuitMLP(nn.Module):
    """The baseline: an MLP on the circuit features (``data.u``) alone."""

    arch = "mlp"

    def __init__(self, hidden: int = 64, layers: int = 3, dropout: float = 0.0):
        super().__init__()
        self.hparams = {"hidden": hidden, "layers": layers, "dropout": dropout}
        self.norm_u = _Standardise(len(CIRCUIT_FEATURES))
        self.net = _mlp([len(CIRCUIT_FEATURES)] + [hidden] * layers + [1], dropout)

    def fit_normalisation(self, graphs) -> None:
        self.norm_u.fit(torch.cat([g.u for g in graphs]))

    def forward(self, batch) -> torch.Tensor:
        return torch.sigmoid(self.net(self.norm_u(batch.u)).squeeze(-1))


class GraphTransformer(nn.Module):
    """TransformerConv layers on the circuit graph, pooled and joined with the circuit features."""

    arch = "gt"

    def __init__(self, hidden: int = 64, layers: int = 3, heads: int = 4, dropout: float = 0.0):
        super().__init__()
        from torch_geometric.nn import TransformerConv

        if hidden % heads:
            raise ValueError(f"hidden ({hidden}) must be a multiple of heads ({heads})")
        self.hparams = {"hidden": hidden, "layers": layers, "heads": heads, "dropout": dropout}
        self.norm_x = _Standardise(len(NODE_FEATURES))
        self.norm_u = _Standardise(len(CIRCUIT_FEATURES))
        self.embed = nn.Sequential(nn.Linear(len(NODE_FEATURES), hidden), nn.GELU(), nn.Linear(hidden, hidden))
        self.convs = nn.ModuleList(TransformerConv(hidden, hidden // heads, heads=heads, edge_dim=len(EDGE_FEATURES),
                                                   dropout=dropout) for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))
        self.circuit = _mlp([len(CIRCUIT_FEATURES), hidden, hidden])
        self.head = _mlp([4 * hidden, 2 * hidden, hidden, 1], dropout)

    def fit_normalisation(self, graphs) -> None:
        self.norm_x.fit(torch.cat([g.x for g in graphs]))
        self.norm_u.fit(torch.cat([g.u for g in graphs]))

    def forward(self, batch) -> torch.Tensor:
        from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool

        h = self.embed(self.norm_x(batch.x))
        for conv, norm in zip(self.convs, self.norms):
            h = norm(h + torch.nn.functional.gelu(conv(h, batch.edge_index, batch.edge_attr)))
        index = batch.batch if batch.batch is not None else torch.zeros(len(h), dtype=torch.long)
        pooled = torch.cat([global_mean_pool(h, index), global_max_pool(h, index),
                            global_add_pool(h, index) / _SUM_SCALE, self.circuit(self.norm_u(batch.u))], dim=1)
        return torch.sigmoid(self.head(pooled).squeeze(-1))


def build_model(arch: str, **hparams) -> nn.Module:
    """A new model of ``arch`` ("gt" or "mlp") with ``hparams``."""
    if arch == "gt":
        return GraphTransformer(**hparams)
    if arch == "mlp":
        return CircuitMLP(**hparams)
    raise ValueError(f"unknown model architecture {arch!r}; choose one of {', '.join(ARCHS)}")


@torch.inference_mode()
def predict(model: nn.Module, graphs, batch_size: int = 512) -> np.ndarray:
    """The predicted PST of each graph (``Data`` graphs, in batches of ``batch_size``, or one
    :class:`~noise.fidelity.graph.GraphBatch`)."""
    was_training = model.training
    model.eval()
    if isinstance(graphs, GraphBatch):
        out = [model(graphs)]
    else:
        graphs = list(graphs)
        out = [model(GraphBatch.join(graphs[k:k + batch_size])) for k in range(0, len(graphs), batch_size)]
    model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros(0)


def predict_circuits(model: nn.Module, circuits: Sequence, device, noise_scale=1.0,
                     batch_size: int = 512) -> np.ndarray:
    """The predicted PST of each physical circuit on ``device`` (one Device or one per
    circuit): graphs built together (:func:`~noise.fidelity.graph.graph_batch`), ``batch_size``
    circuits at a time, and read by ``model``. The fast path from circuits to predictions.

    >>> from noise.devices import Device
    >>> from noise.fidelity.circuits import random_circuit
    >>> dev = Device.from_name("lima")
    >>> model, _ = load_model()
    >>> p = predict_circuits(model, [random_circuit(dev, 3, 40, seed=s) for s in range(4)], dev)
    >>> p.shape, bool(((0 < p) & (p < 1)).all())
    ((4,), True)
    """
    circuits = list(circuits)
    devices = list(device) if isinstance(device, (list, tuple)) else [device] * len(circuits)
    scales = list(noise_scale) if isinstance(noise_scale, (list, tuple, np.ndarray)) else [noise_scale] * len(circuits)
    if len(devices) != len(circuits) or len(scales) != len(circuits):
        raise ValueError(f"predict_circuits: {len(circuits)} circuits, {len(devices)} devices, "
                         f"{len(scales)} noise scales")
    out = [predict(model, graph_batch(circuits[k:k + batch_size], devices[k:k + batch_size], scales[k:k + batch_size]))
           for k in range(0, len(circuits), batch_size)]
    return np.concatenate(out) if out else np.zeros(0)


def save_model(model: nn.Module, path: str | os.PathLike, meta: dict | None = None) -> None:
    """Write ``model`` as a QuEst model file (atomically)."""
    from qml.files import atomic_save

    atomic_save({"format": FORMAT, "version": VERSION, "arch": model.arch, "hparams": dict(model.hparams),
                 "layout": LAYOUT, "state_dict": model.state_dict(), "meta": dict(meta or {})}, path)


def layout_difference(layout: dict) -> str | None:
    """What differs between a file's feature layout and :data:`LAYOUT` (None when equal)."""
    if layout == LAYOUT:
        return None
    if not isinstance(layout, dict):
        return "it records no feature layout"
    parts = []
    for key in ("version", "node", "circuit", "edge", "node_types"):
        mine, theirs = LAYOUT[key], layout.get(key)
        if mine != theirs:
            if isinstance(mine, list) and isinstance(theirs, list):
                parts.append(f"{key} features: {len(theirs)} in the file, {len(mine)} here "
                             f"(first difference: {next((f'{a!r} vs {b!r}' for a, b in zip(theirs, mine) if a != b), 'length')})")
            else:
                parts.append(f"{key}: {theirs!r} in the file, {mine!r} here")
    return "; ".join(parts)


def load_model(path: str | os.PathLike | None = None) -> tuple[nn.Module, dict]:
    """The model in ``path`` (default: the shipped one) and the file's ``meta``.

    Every problem is a ValueError naming the file: not a model file, another format version,
    an unknown architecture, features other than this code computes, weights that do not fit.
    """
    from qml.files import load_checkpoint

    path = SHIPPED if path is None else Path(path)
    if path == SHIPPED and not path.exists():
        raise ValueError(f"the shipped model {path} is missing from this installation; train one with "
                         f"'qml-bench quest train' and pass --model")
    try:
        record = load_checkpoint(path, kind=KIND, required=("format", "arch", "hparams", "layout", "state_dict"))
    except ValueError:
        raise
    except Exception as err:  # a corrupt file can fail inside the unpickler in other ways
        raise ValueError(f"{path} is not a readable {KIND}: {type(err).__name__}: {err}") from None
    if record["format"] != FORMAT:
        raise ValueError(f"{path} is not a {KIND} (format {record['format']!r})")
    if record.get("version") != VERSION:
        raise ValueError(f"{path} is a version-{record.get('version')} {KIND}; this code reads version {VERSION}")
    difference = layout_difference(record["layout"])
    if difference:
        raise ValueError(f"{path} was made for other features than this code computes ({difference}); "
                         f"retrain it with 'qml-bench quest train'")
    try:
        model = build_model(record["arch"], **record["hparams"])
        model.load_state_dict(record["state_dict"])
    except (TypeError, RuntimeError) as err:
        raise ValueError(f"{path}: the weights do not fit a {record['arch']} model with "
                         f"{record['hparams']}: {str(err).splitlines()[0]}") from None
    model.eval()
    return model, dict(record.get("meta", {}))


__all__ = ["ARCHS", "CircuitMLP", "GraphBatch", "GraphTransformer", "SHIPPED", "build_model", "layout_difference", "load_model",
           "predict", "predict_circuits", "save_model"]
