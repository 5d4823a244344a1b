"""SuperCircuit: one shared parameter store, many SubCircuits (QuantumNAS, Wang et al. 2022).

A :class:`SuperCircuit` is design space ``space`` of :mod:`qml.layers` with ``n_blocks`` blocks
(8 by default). Its ops are grouped into *layers*: within a block, a maximal run of ops of one
gate (trainable ops by their layer name ``b<block>.<layer>``, so ibmbasis's three RZ layers stay
apart; fixed gates such as a CNOT ring form layers too). Ops before the first block (rxyz's
sqrt(H) prologue) are always kept.

A *gene* is a tuple of ints: for every layer of every block (block-major, in circuit order) how
many of its front gates are used, then how many front blocks are used. Position ``i`` ranges
over ``gene_space[i] = (low, high)``: a layer's count from ``min_gates`` (1) to its size, the
block count from ``min_blocks`` (1) to ``n_blocks``. Positions of blocks past the block count
are inactive (:meth:`SuperCircuit.active`). :meth:`SuperCircuit.check` raises a ``ValueError``
naming the first problem; :meth:`SuperCircuit.repair` maps any sequence of numbers to a legal
gene (rounded, clipped to the ranges, cut or padded with the largest values).

``subcircuit(gene)`` is an ordinary :class:`qml.Circuit` whose parameters keep the
SuperCircuit's names ``b<block>.<layer>.<index>``, so its angles are gathered from the store
(:meth:`SuperCircuit.gather`) and gradients flow into it. :class:`SubCircuitQNN` is the
QNN-like classifier (the task's encoder, the current SubCircuit, the ``<Z>`` readout) that
trains the store by sampling (:mod:`qml.nas.train`). :meth:`SuperCircuit.inherit` copies the
store's angles into an ordinary :class:`qml.model.QNN` built on a SubCircuit.

Example:
    >>> from qml.nas import SuperCircuit
    >>> sc = SuperCircuit("u3cu3", n_wires=4, n_blocks=2, seed=0)
    >>> sc.gene_space
    ((1, 4), (1, 4), (1, 4), (1, 4), (1, 2))
    >>> sub = sc.subcircuit((2, 1, 4, 4, 1))
    >>> sub.count_ops(), sub.parameters[:4]
    ({'u3': 2, 'cu3': 1}, ('b0.u3.0_0', 'b0.u3.0_1', 'b0.u3.0_2', 'b0.u3.1_0'))
    >>> sc.active((2, 1, 4, 4, 1))
    (2, 1, 1)
    >>> sc.check((2, 1, 5, 4, 1))
    Traceback (most recent call last):
    ...
    ValueError: gene position 2 (block 1, layer u3) is 5, outside [1, 4]
    >>> sc.repair((2, 1, 5, 0.4, 1))
    (2, 1, 4, 1, 1)
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

from qml.circuit import Circuit, Op, Param
from qml.layers import SPACES, Encoder, build_space, get_encoder
from qml.model import QNN, Readout

Gene = tuple[int, ...]


@dataclass(frozen=True)
class Layer:
    """A run of ops of one gate inside one block: the gene counts its front gates."""

    block: int
    name: str  # the trainable layer's name (``u3``, ``rz0``) or the fixed gate's name
    ops: tuple[Op, ...]

    @property
    def size(self) -> int:
        return len(self.ops)


def _layer_name(op: Op) -> str:
    """``u3`` for an op with parameter ``b0.u3.1_2``; the gate name for a fixed gate."""
    for p in op.params:
        if isinstance(p, Param):
            return p.name.split(".")[1]
    return op.name


class SuperCircuit(nn.Module):
    """The design space ``space`` with ``n_blocks`` blocks and one angle per parameter name.

    Args:
        space: a name in :data:`qml.layers.SPACES`.
        n_wires, n_blocks: the size of the full (largest) circuit.
        min_gates: the fewest front gates a layer keeps (``1``: a layer is never empty).
        min_blocks: the fewest blocks a SubCircuit keeps.
        init_scale: the initial angles are uniform in ``[-init_scale * pi, init_scale * pi)``.
            Small angles (the default 0.1: every gate near the identity) let SubCircuits of
            different depths share them: with ``init_scale=1`` (a QNN's initialization) the
            added blocks scramble what the shallow SubCircuits learn, and a u3cu3 x8
            SuperCircuit on mnist4 trained 40 epochs left its largest SubCircuit at 0.17-0.40
            validation accuracy, against 0.55-0.59 with 0.1.
        seed: seed of the initial angles.

    ``weights`` is the store: an ``nn.Parameter`` ordered like ``full.parameters``.
    """

    def __init__(self, space: str, n_wires: int, n_blocks: int = 8, *, min_gates: int = 1,
                 min_blocks: int = 1, init_scale: float = 0.1, seed: int | None = None):
        super().__init__()
        if space not in SPACES:
            raise ValueError(f"unknown design space {space!r}; valid spaces: {', '.join(SPACES)}")
        if not 1 <= min_blocks <= n_blocks:
            raise ValueError(f"min_blocks must be in [1, n_blocks={n_blocks}], got {min_blocks}")
        if min_gates < 0:
            raise ValueError(f"min_gates must be >= 0, got {min_gates}")
        self.space, self.n_wires, self.n_blocks = space, n_wires, n_blocks
        self.min_gates, self.min_blocks = min_gates, min_blocks
        self.full = build_space(space, n_wires, n_blocks)
        self.prologue, self.layers = self._split()
        self.names = self.full.parameters
        self.index = {name: i for i, name in enumerate(self.names)}
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        self.init_scale = init_scale
        self.weights = nn.Parameter((torch.rand(len(self.names), generator=generator) * 2 - 1)
                                    * init_scale * math.pi)
        self.gene_space = tuple((min(min_gates, layer.size), layer.size) for layer in self.layers) \
            + ((min_blocks, n_blocks),)
        self._blocks = tuple(layer.block for layer in self.layers)

    def _split(self) -> tuple[tuple[Op, ...], tuple[Layer, ...]]:
        """Prologue ops and layers: block k's ops are those that k+1 blocks add to k blocks."""
        ops = self.full.ops
        first = next(i for i, op in enumerate(ops) if op.params)  # every block starts trainable
        bounds = [first] + [len(build_space(self.space, self.n_wires, k)) for k in
                            range(1, self.n_blocks)] + [len(ops)]
        layers: list[Layer] = []
        for block in range(self.n_blocks):
            run: list[Op] = []
            for op in ops[bounds[block]:bounds[block + 1]]:
                if run and (op.name != run[-1].name or _layer_name(op) != _layer_name(run[-1])):
                    layers.append(Layer(block, _layer_name(run[-1]), tuple(run)))
                    run = []
                run.append(op)
            layers.append(Layer(block, _layer_name(run[-1]), tuple(run)))
        return tuple(ops[:first]), tuple(layers)

    # --- genes -------------------------------------------------------------------------------

    @property
    def gene_length(self) -> int:
        return len(self.gene_space)

    @property
    def largest(self) -> Gene:
        """The gene of the full SuperCircuit."""
        return tuple(high for _, high in self.gene_space)

    @property
    def smallest(self) -> Gene:
        return tuple(low for low, _ in self.gene_space)

    def describe(self, i: int) -> str:
        """What gene position ``i`` counts, e.g. ``block 1, layer u3``."""
        if i == len(self.layers):
            return "the number of blocks"
        return f"block {self.layers[i].block}, layer {self.layers[i].name}"

    def check(self, gene: Sequence[int]) -> Gene:
        """``gene`` as a tuple; a ``ValueError`` naming the problem when it does not fit."""
        gene = tuple(gene)
        if len(gene) != self.gene_length:
            raise ValueError(f"a gene of {self.space} x{self.n_blocks} on {self.n_wires} wires has "
                             f"{self.gene_length} positions ({len(self.layers)} layers and the block "
                             f"count), got {len(gene)}")
        for i, (g, (low, high)) in enumerate(zip(gene, self.gene_space)):
            if isinstance(g, bool) or not isinstance(g, int):
                raise ValueError(f"gene position {i} ({self.describe(i)}) must be an int, got {g!r}")
            if not low <= g <= high:
                raise ValueError(f"gene position {i} ({self.describe(i)}) is {g}, outside "
                                 f"[{low}, {high}]")
        return gene

    def repair(self, gene: Sequence[float]) -> Gene:
        """The nearest legal gene: values rounded and clipped, length cut or padded (largest)."""
        gene = list(gene)[:self.gene_length]
        gene += [high for _, high in self.gene_space[len(gene):]]
        out = []
        for g, (low, high) in zip(gene, self.gene_space):
            g = float(g)
            g = high if not math.isfinite(g) else int(round(g))
            out.append(min(max(g, low), high))
        return tuple(out)

    def active(self, gene: Sequence[int]) -> Gene:
        """The positions that matter: those of the used blocks, then the block count."""
        gene = self.check(gene)
        used = gene[-1]
        return tuple(g for g, b in zip(gene, self._blocks) if b < used) + (used,)

    def sample(self, rng: random.Random, low: Sequence[int] | None = None) -> Gene:
        """A uniformly sampled gene (position ``i`` from ``low[i]`` or its own lower bound)."""
        lows = low or self.smallest
        return tuple(rng.randint(max(lo, a), b) for lo, (a, b) in zip(lows, self.gene_space))

    # --- circuits ------------------------------------------------------------------------------

    def subcircuit(self, gene: Sequence[int]) -> Circuit:
        """The SubCircuit of ``gene``: the prologue, then each used layer's front gates."""
        gene = self.check(gene)
        ops = list(self.prologue)
        for layer, count in zip(self.layers, gene):
            if layer.block < gene[-1]:
                ops.extend(layer.ops[:count])
        return Circuit(self.n_wires, ops)

    def gather(self, circuit: Circuit) -> torch.Tensor:
        """The store's angles for ``circuit.parameters`` (a differentiable gather)."""
        return self.weights[self.indices(circuit)]

    def indices(self, circuit: Circuit) -> torch.Tensor:
        try:
            return torch.tensor([self.index[n] for n in circuit.parameters], dtype=torch.long)
        except KeyError as err:
            raise ValueError(f"parameter {err.args[0]!r} is not in the SuperCircuit") from None

    def param_dict(self, circuit: Circuit) -> dict[str, float]:
        """Plain ``name -> angle`` of ``circuit``'s parameters (what a scorer receives)."""
        values = self.weights.detach().cpu().tolist()
        return {n: values[self.index[n]] for n in circuit.parameters}

    def inherit(self, model: QNN) -> QNN:
        """Copy the store's angles into ``model`` (a QNN on a SubCircuit); returns it."""
        with torch.no_grad():
            model.weights.copy_(self.gather(model.ansatz))
        return model

    def extra_repr(self) -> str:
        return (f"{self.space}, wires={self.n_wires}, blocks={self.n_blocks}, "
                f"params={len(self.names)}, gene_length={self.gene_length}")


class SubCircuitQNN(nn.Module):
    """Classifier over the SubCircuit of the current gene, angles gathered from the store.

    Set the gene with :meth:`set_gene` (the sampler does it before every step). The circuit
    template of each recent gene is kept (``cache`` of them), so the engine's per-circuit plan
    is reused when a gene comes back.

    Example:
        >>> sc = SuperCircuit("zzry", 4, 2, seed=0)
        >>> model = SubCircuitQNN(sc, "4x4_ryzxy", n_classes=4)
        >>> model.set_gene((1, 4, 4, 4, 1))
        >>> out = model(torch.ones(3, 16)); out[:, 0].sum().backward()
        >>> int((sc.weights.grad != 0).sum())  # one RZZ and four RY angles were used
        5
    """

    def __init__(self, supercircuit: SuperCircuit, encoder: Encoder | str, readout: str = "auto", *,
                 n_classes: int | None = None, dtype: torch.dtype = torch.complex64,
                 cache: int = 256):
        super().__init__()
        self.supercircuit = supercircuit
        n = supercircuit.n_wires
        self.encoder = get_encoder(encoder, n) if isinstance(encoder, str) else encoder
        if self.encoder.n_wires > n:
            raise ValueError(f"the encoder ({self.encoder.n_wires} wires) does not fit the "
                             f"{n}-wire SuperCircuit")
        self.readout = Readout(n, n if n_classes is None else n_classes, readout)
        self.dtype, self.cache_size = dtype, cache
        self._templates: OrderedDict[Gene, tuple[Circuit, torch.Tensor]] = OrderedDict()
        self.gene = supercircuit.largest

    @property
    def n_features(self) -> int:
        return self.encoder.n_features

    def set_gene(self, gene: Sequence[int]) -> None:
        self.gene = self.supercircuit.check(gene)

    def template(self, gene: Sequence[int] | None = None) -> tuple[Circuit, torch.Tensor]:
        """Encoder + SubCircuit of ``gene`` (default: the current one) and its store indices."""
        gene = self.gene if gene is None else self.supercircuit.check(gene)
        if gene in self._templates:
            self._templates.move_to_end(gene)
            return self._templates[gene]
        sub = self.supercircuit.subcircuit(gene)
        entry = (self.encoder.circuit(self.supercircuit.n_wires) + sub,
                 self.supercircuit.indices(sub))
        self._templates[gene] = entry
        while len(self._templates) > self.cache_size:
            self._templates.popitem(last=False)
        return entry

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from qml import expval_z, simulate

        circuit, idx = self.template()
        weights = self.supercircuit.weights
        feats = self.encoder.features(x).to(weights.dtype)
        state = simulate(circuit, weights[idx], feats, dtype=self.dtype)
        return torch.log_softmax(self.readout(expval_z(state)), dim=1)
