"""QuantumNAT: noise-aware training of QNNs, each technique switchable on its own.

- **Noise injection** (training only): the QNN runs as the circuit transpiled to the device
  (its basis gates and qubit layout); at every step each sample of the batch gets its own
  Pauli errors after every noisy gate, drawn from the device's Pauli-twirled error
  probabilities times a factor ``T``, and the readout error (times ``T``) is applied to the
  expectation values of the logical wires' final qubits (:func:`noise.program.injected_expectations`).
  ``source="density"`` trains on the exact noisy expectation of the density-matrix mode instead.
- **Post-measurement normalization**: each wire's ``<Z>`` standardized over the batch (at
  training and at test time, and between the nodes of a multi-node model).
- **Post-measurement quantization**: outputs clamped to ``[-limit, limit]`` and rounded to
  ``levels`` evenly spaced values, with a straight-through gradient, plus a penalty
  ``penalty * mean((z - quantized(z))**2)`` on the distance (:meth:`NATModel.extra_loss`).

Evaluation on a device: :meth:`NATModel.device_accuracy` measures every node's ``<Z>`` on the
device (Aer with shots, or the exact density-matrix mode), then applies the same
post-processing as in training.

Example:
    >>> import torch
    >>> from qml.model import QNN
    >>> from qml.layers import build_space
    >>> from noise.devices import Device
    >>> qnn = QNN(4, "4x4_ryzxy", build_space("u3cu3", 4, 1), n_classes=4, seed=0)
    >>> nat = NATModel(qnn, Device.from_name("santiago"), levels=5)
    >>> _ = nat.train(); out = nat(torch.rand(8, 16))         # injected noise, normalized, quantized
    >>> out.shape, bool(nat.extra_loss() >= 0)
    (torch.Size([8, 4]), True)
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from qml.model import MultiNodeQNN, QNN

#: Where a node's <Z> comes from.
SOURCES = ("noise-free", "inject", "density", "aer")


def normalize(z: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Each column (wire) standardized over the batch: zero mean, unit variance.

    >>> normalize(torch.tensor([[1.0, 0.0], [3.0, 0.0]]))
    tensor([[-1.0000,  0.0000],
            [ 1.0000,  0.0000]])
    """
    if z.shape[0] < 2:
        raise ValueError("post-measurement normalization needs a batch of at least 2 samples")
    return (z - z.mean(0)) / (z.std(0, unbiased=False) + eps)


class _RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


def quantize(z: torch.Tensor, levels: int, limit: float = 1.0) -> torch.Tensor:
    """``z`` clamped to ``[-limit, limit]`` and rounded to ``levels`` evenly spaced values
    (straight-through gradient inside the range).

    >>> quantize(torch.tensor([-3.0, -0.3, 0.2, 0.6]), levels=5, limit=1.0)
    tensor([-1.0000, -0.5000,  0.0000,  0.5000])
    """
    if not isinstance(levels, int) or levels < 2:
        raise ValueError(f"quantization needs at least 2 levels, got {levels!r}")
    if limit <= 0:
        raise ValueError(f"the quantization limit must be positive, got {limit}")
    step = 2 * limit / (levels - 1)
    clamped = z.clamp(-limit, limit)
    return _RoundSTE.apply((clamped + limit) / step) * step - limit


class NATModel(nn.Module):
    """A QNN (or a :class:`qml.model.MultiNodeQNN`) trained with QuantumNAT on ``device``.

    Args:
        model: the QNN; its nodes' weights are the trained parameters.
        device: a :class:`noise.devices.Device` (needed for injection and device evaluation).
        mapping: logical wire -> physical qubit (default: the transpiler's choice).
        inject: draw Pauli errors per sample while training.
        T: factor on every error probability of the injection (``T >= 0``).
        normalize: standardize each wire over the batch, in training and at test time.
        levels: quantize to this many levels (``None``: no quantization).
        limit: quantization range ``[-limit, limit]`` (on normalized outputs when normalizing).
        penalty: weight of the quantization penalty.
        source: ``"inject"`` (sampled errors) or ``"density"`` (exact noisy expectation) for training.
        seed: seed of the error draws.
    """

    def __init__(self, model: QNN | MultiNodeQNN, device=None, *, mapping: Sequence[int] | None = None,
                 inject: bool = True, T: float = 1.0, normalize: bool = True, levels: int | None = None,
                 limit: float = 1.0, penalty: float = 0.1, source: str = "inject", seed: int = 0):
        super().__init__()
        if isinstance(T, bool) or not isinstance(T, (int, float)) or T < 0:
            raise ValueError(f"the noise factor T must be a number >= 0, got {T!r}")
        if source not in ("inject", "density"):
            raise ValueError(f"training source must be 'inject' or 'density', got {source!r}")
        if inject and device is None:
            raise ValueError("noise injection needs a device")
        if levels is not None:
            quantize(torch.zeros(1), levels, limit)        # validates levels and limit
        self.model = model
        self.nodes = list(model.nodes) if isinstance(model, MultiNodeQNN) else [model]
        self.device, self.mapping = device, None if mapping is None else tuple(mapping)
        self.inject, self.T, self.use_normalize = inject, float(T), normalize
        self.levels, self.limit, self.penalty, self.train_source = levels, limit, penalty, source
        self.generator = torch.Generator().manual_seed(seed)
        self.eval_source, self.eval_options = "noise-free", {}
        self._gap = None

    @property
    def n_features(self) -> int:
        return self.nodes[0].n_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        source = (self.train_source if self.inject else "noise-free") if self.training else self.eval_source
        z = x
        for k, node in enumerate(self.nodes):
            z = self.post_process(self._expectations(node, z, source), last=k == len(self.nodes) - 1)
        return torch.log_softmax(self.nodes[-1].readout(z), dim=1)

    def post_process(self, z: torch.Tensor, last: bool = True) -> torch.Tensor:
        """Normalization then quantization of one node's ``<Z>`` outputs."""
        if self.use_normalize:
            z = normalize(z)
        if self.levels is not None:
            q = quantize(z, self.levels, self.limit)
            if self.training:
                self._gap = (z - q).pow(2).mean()
            z = q
        return z

    def extra_loss(self) -> torch.Tensor:
        """The quantization penalty of the last forward pass (0 without quantization)."""
        if self._gap is None:
            return torch.zeros(())
        gap, self._gap = self._gap, None
        return self.penalty * gap

    def _expectations(self, node: QNN, x: torch.Tensor, source: str) -> torch.Tensor:
        from noise import aer, program

        feats = node.encoder.features(x).to(node.weights.dtype)
        circuit, weights = node.template, node.weights
        if source == "noise-free":
            return node.expectations(x)
        if source == "inject":
            return program.injected_expectations(circuit, self.device, weights, feats, T=self.T,
                                                 mapping=self.mapping, generator=self.generator,
                                                 gradient=node.gradient).to(weights.dtype)
        if source == "density":
            return program.density_expectations(circuit, self.device, weights, feats,
                                                mapping=self.mapping).to(weights.dtype)
        with torch.no_grad():
            return aer.expectations(circuit, self.device, weights.detach(), feats, mapping=self.mapping,
                                    **self.eval_options).to(weights.dtype)

    @torch.no_grad()
    def device_accuracy(self, x: torch.Tensor, y: torch.Tensor, backend: str = "aer", **options) -> float:
        """Accuracy on ``device`` with every node measured there: ``backend`` ``"aer"`` (options
        such as ``shots`` and ``seed`` go to :func:`noise.aer.expectations`), ``"density"``
        (exact) or ``"noise-free"``. Post-processing uses the statistics of this batch."""
        if backend not in ("aer", "density", "noise-free"):
            raise ValueError(f"backend must be 'aer', 'density' or 'noise-free', got {backend!r}")
        if backend != "noise-free" and self.device is None:
            raise ValueError("device evaluation needs a device")
        was, self.eval_source, self.eval_options = self.training, backend, options
        try:
            self.eval()
            return (self(x).argmax(1) == y).float().mean().item()
        finally:
            self.eval_source, self.eval_options = "noise-free", {}
            self.train(was)
