"""QNN: a torch ``nn.Module`` around a circuit (encoder + ansatz + readout).

``QNN(n_wires, encoder, ansatz, readout)`` encodes each sample's features, runs the ansatz
(its angles one ``nn.Parameter``, ordered like ``ansatz.parameters``), measures ``<Z>`` on every
wire and turns the expectations into log-probabilities, as the QuantumNAS/TorchQuantum examples
do: ``<Z>`` per wire when there are as many classes as wires, sums of consecutive wire groups
otherwise (2 classes on 4 wires: wires 0+1 and 2+3), then log-softmax.

The whole circuit (encoder, then ansatz) runs in :func:`qml.simulate`, whose plan already
starts a single-qubit encoder as a product state and fuses the ansatz into a few matrices.

``MultiNodeQNN`` chains QNNs as QuantumNAT does: node k+1 re-encodes node k's ``<Z>`` outputs.

Example:
    >>> import torch
    >>> from qml.model import QNN
    >>> from qml.layers import build_space
    >>> model = QNN(4, "4x4_ryzxy", build_space("u3cu3", 4, 2), n_classes=4, seed=0)
    >>> log_probs = model(torch.zeros(3, 16))
    >>> log_probs.shape, torch.allclose(log_probs.exp().sum(dim=1), torch.ones(3))
    (torch.Size([3, 4]), True)
    >>> model.circuit().parameters
    ()
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn

from qml.circuit import Circuit
from qml.layers import Encoder, get_encoder

READOUTS = ("auto", "expz", "sum")


class Readout(nn.Module):
    """``<Z>`` per wire -> class scores: the wires themselves, or sums of consecutive groups.

    Example:
        >>> Readout(4, 2)(torch.tensor([[1.0, 0.5, -1.0, 0.0]]))
        tensor([[ 1.5000, -1.0000]])
    """

    def __init__(self, n_wires: int, n_classes: int, kind: str = "auto"):
        super().__init__()
        if kind not in READOUTS:
            raise ValueError(f"unknown readout {kind!r}; valid readouts: {', '.join(READOUTS)}")
        if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
            raise ValueError(f"a classifier needs n_classes >= 2, got {n_classes!r}: with one class the "
                             f"log-probability is 0 for every input (a constant classifier)")
        if kind == "auto":
            kind = "expz" if n_classes == n_wires else "sum"
        if kind == "expz" and n_classes != n_wires:
            raise ValueError(f"readout 'expz' gives one score per wire: {n_wires} wires cannot "
                             f"score {n_classes} classes; use readout 'sum'")
        if kind == "sum" and (n_classes < 1 or n_wires % n_classes):
            raise ValueError(f"readout 'sum' adds groups of wires: {n_wires} wires do not split "
                             f"into {n_classes} equal groups")
        self.kind, self.n_wires, self.n_classes = kind, n_wires, n_classes

    def forward(self, expz: torch.Tensor) -> torch.Tensor:
        if self.kind == "expz":
            return expz
        return expz.reshape(expz.shape[0], self.n_classes, -1).sum(-1)

    def extra_repr(self) -> str:
        return f"{self.kind}, wires={self.n_wires}, classes={self.n_classes}"


class QNN(nn.Module):
    """Quantum neural network: encoder + trainable ansatz + ``<Z>`` readout + log-softmax.

    Args:
        n_wires: number of qubits.
        encoder: an :class:`qml.layers.Encoder`, an ``AmplitudeEncoder`` or a built-in name.
        ansatz: the trainable circuit (no input features); its parameters become ``weights``.
        readout: ``"auto"``, ``"expz"`` or ``"sum"`` (see :class:`Readout`), or ``None`` for a
            node whose ``<Z>`` outputs feed another node.
        n_classes: classes scored by the readout (default: one per wire).
        seed: seed of the initial angles, uniform in [-pi, pi) (default: torch's global RNG).
        gradient: ``"autograd"`` or ``"adjoint"``, passed to :func:`qml.simulate`.
        dtype: complex dtype of the state.
    """

    def __init__(self, n_wires: int, encoder: Encoder | str, ansatz: Circuit,
                 readout: str | None = "auto", *, n_classes: int | None = None,
                 seed: int | None = None, gradient: str = "autograd",
                 dtype: torch.dtype = torch.complex64):
        super().__init__()
        self.encoder = get_encoder(encoder, n_wires) if isinstance(encoder, str) else encoder
        if self.encoder.n_wires > n_wires or ansatz.n_wires != n_wires:
            raise ValueError(f"the encoder ({self.encoder.n_wires} wires) and the ansatz "
                             f"({ansatz.n_wires} wires) must fit a {n_wires}-wire QNN")
        if ansatz.n_inputs:
            raise ValueError("the ansatz must not read input features: put them in the encoder")
        self.n_wires, self.ansatz, self.gradient, self.dtype = n_wires, ansatz, gradient, dtype
        self.template = self.encoder.circuit(n_wires) + ansatz
        self.names = ansatz.parameters
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        init = torch.rand(len(self.names), generator=generator) * 2 * math.pi - math.pi
        self.weights = nn.Parameter(init)
        classes = n_wires if n_classes is None else n_classes
        self.readout = None if readout is None else Readout(n_wires, classes, readout)

    @property
    def n_features(self) -> int:
        return self.encoder.n_features

    def states(self, x: torch.Tensor) -> torch.Tensor:
        """Final states ``(batch, 2**n)``: the encoder then the ansatz, in :func:`qml.simulate`."""
        from qml import simulate

        feats = self.encoder.features(x).to(self.weights.dtype)
        return simulate(self.template, self.weights, feats, dtype=self.dtype, gradient=self.gradient)

    def expectations(self, x: torch.Tensor) -> torch.Tensor:
        """``<Z>`` on every wire, ``(batch, n_wires)``."""
        from qml import expval_z

        return expval_z(self.states(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Log-probabilities ``(batch, n_classes)`` (``<Z>`` values for a node without readout)."""
        z = self.expectations(x)
        return z if self.readout is None else torch.log_softmax(self.readout(z), dim=1)

    def param_dict(self) -> dict[str, float]:
        return dict(zip(self.names, self.weights.detach().cpu().tolist()))

    def circuit(self, x: torch.Tensor | Sequence[float] | None = None) -> Circuit:
        """The circuit with the trained angles bound; with one sample ``x``, its inputs too.

        Example:
            >>> from qml.layers import build_space
            >>> m = QNN(4, "4x4_ryzxy", build_space("zzry", 4, 1), seed=0)
            >>> m.circuit(torch.zeros(16)).n_inputs, len(m.circuit().parameters)
            (0, 0)
        """
        if x is None:
            return self.template.bind(params=self.param_dict())
        row = torch.as_tensor(x, dtype=torch.float32).reshape(1, -1)
        return self.template.bind(params=self.param_dict(), inputs=self.encoder.features(row)[0])


def ry_encoder(n_wires: int) -> Encoder:
    """One RY per wire reading feature w: how a node re-encodes the previous node's outputs."""
    return Encoder(f"{n_wires}_ry", tuple(("ry", (w,), (w,)) for w in range(n_wires)))


class MultiNodeQNN(nn.Module):
    """QNN nodes in a chain: node k+1 encodes node k's ``<Z>`` outputs (QuantumNAT's
    multi-node models). ``between(k, z)`` transforms node k's outputs before they are
    re-encoded (e.g. normalization); the last node's readout gives the log-probabilities.

    Example:
        >>> from qml.layers import build_space
        >>> nodes = [QNN(4, "4x4_ryzxy", build_space("u3cu3", 4, 1), readout=None, seed=0),
        ...          QNN(4, ry_encoder(4), build_space("u3cu3", 4, 1), n_classes=2, seed=1)]
        >>> MultiNodeQNN(nodes)(torch.zeros(5, 16)).shape
        torch.Size([5, 2])
    """

    def __init__(self, nodes: Sequence[QNN],
                 between: Callable[[int, torch.Tensor], torch.Tensor] | None = None):
        super().__init__()
        if not nodes:
            raise ValueError("a multi-node model needs at least one node")
        for k, (a, b) in enumerate(zip(nodes, nodes[1:])):
            if a.n_wires != b.n_features:
                raise ValueError(f"node {k} gives {a.n_wires} outputs but node {k + 1}'s encoder "
                                 f"takes {b.n_features} features")
            if a.readout is not None:
                raise ValueError(f"node {k} feeds another node: build it with readout=None")
        self.nodes = nn.ModuleList(nodes)
        self.between = between

    @property
    def n_features(self) -> int:
        return self.nodes[0].n_features

    def node_inputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The features each node reads for input ``x``."""
        inputs = [x]
        for k, node in enumerate(self.nodes[:-1]):
            z = node.expectations(inputs[-1])
            inputs.append(self.between(k, z) if self.between else z)
        return inputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.nodes[-1](self.node_inputs(x)[-1])

    def circuits(self, x: torch.Tensor | None = None) -> list[Circuit]:
        """Each node's bound circuit; with one sample ``x``, each with its own inputs bound."""
        if x is None:
            return [node.circuit() for node in self.nodes]
        with torch.no_grad():
            rows = self.node_inputs(torch.as_tensor(x, dtype=torch.float32).reshape(1, -1))
        return [node.circuit(row[0]) for node, row in zip(self.nodes, rows)]
