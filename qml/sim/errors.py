"""Pauli errors drawn per sample, applied by the statevector engine (noise injection).

A site is ``(after, wires)``: right after ``circuit.ops[after]``, a Pauli on ``wires``
(one or two wires). Each sample of a batch gets its own draw at every site, and the
engine applies the drawn Paulis as index permutations and signs (:class:`qml.sim.kernels.PauliFlip`),
never one circuit per sample. The probabilities are data (the engine knows no devices).

Example:
    >>> import torch, qml
    >>> from qml.sim.errors import sample_pauli_errors
    >>> c = qml.Circuit(1).h(0).h(0)
    >>> errors = sample_pauli_errors([(0, (0,))], [[0.5, 0.0, 0.0, 0.5]], batch=4000, seed=0)
    >>> z = qml.expval_z(qml.simulate(c, errors=errors))      # Z between the H's flips half the samples
    >>> abs(z.mean().item()) < 0.05
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class PauliErrors:
    """``draws[s, j]``: the Pauli index drawn for sample s at site j (I, X, Y, Z = 0..3 per wire,
    the first wire's digit the most significant; 0 is no error)."""

    sites: tuple[tuple[int, tuple[int, ...]], ...]
    draws: torch.Tensor

    def __post_init__(self):
        sites = tuple((after, tuple(wires)) for after, wires in self.sites)
        object.__setattr__(self, "sites", sites)
        if self.draws.dim() != 2 or self.draws.shape[1] != len(sites):
            raise ValueError(f"draws must have shape (batch, {len(sites)}) for {len(sites)} sites, "
                             f"got {tuple(self.draws.shape)}")
        if self.draws.dtype != torch.int64:
            raise ValueError(f"draws must be int64 Pauli indices, got {self.draws.dtype}")
        for j, (_, wires) in enumerate(sites):
            if not wires or len(set(wires)) != len(wires):
                raise ValueError(f"error site {j} needs distinct wires, got {wires}")
        if len(self.draws) and (self.draws.min() < 0 or
                                (self.draws >= torch.tensor([4 ** len(w) for _, w in sites])).any()):
            raise ValueError("a drawn Pauli index lies outside 0..4**k-1 for its site's k wires")

    @property
    def batch(self) -> int:
        return self.draws.shape[0]


class PauliSampler:
    """Draws Pauli errors at fixed sites from fixed distributions (validated once).

    ``probs[j]`` is site j's distribution over its ``4**k`` Paulis (index 0 = identity).
    """

    def __init__(self, sites, probs):
        self.sites = tuple((after, tuple(wires)) for after, wires in sites)
        if len(probs) != len(self.sites):
            raise ValueError(f"one probability vector per site: {len(self.sites)} sites, {len(probs)} vectors")
        self.groups = []                         # (columns, (sites, 4**k) table) per width k
        for k in sorted({len(w) for _, w in self.sites}):
            cols = [j for j, (_, w) in enumerate(self.sites) if len(w) == k]
            self.groups.append((cols, torch.stack([_check_probs(probs[j], k, j) for j in cols])))

    def sample(self, batch: int, seed: int | None = None, generator: torch.Generator | None = None
               ) -> PauliErrors:
        """A draw for each of ``batch`` samples, seeded by ``seed`` or a ``generator``."""
        if not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch must be a positive integer, got {batch!r}")
        if generator is None:
            generator = torch.Generator().manual_seed(0 if seed is None else seed)
        draws = torch.zeros(batch, len(self.sites), dtype=torch.int64)
        for cols, table in self.groups:
            draws[:, cols] = torch.multinomial(table, batch, replacement=True, generator=generator).T
        return PauliErrors(self.sites, draws)


def sample_pauli_errors(sites, probs, batch: int, seed: int | None = None,
                        generator: torch.Generator | None = None) -> PauliErrors:
    """Draw a Pauli per sample at every site; ``probs[j]`` is site j's distribution over its
    ``4**k`` Paulis (index 0 = identity). Seeded by ``seed`` or a ``generator``."""
    return PauliSampler(sites, probs).sample(batch, seed, generator)


def _check_probs(p, k: int, j: int) -> torch.Tensor:
    p = torch.as_tensor(p, dtype=torch.float64)
    if p.shape != (4 ** k,):
        raise ValueError(f"site {j} on {k} wire(s) needs {4 ** k} Pauli probabilities, got shape {tuple(p.shape)}")
    if (p < 0).any() or abs(p.sum().item() - 1) > 1e-6:
        raise ValueError(f"site {j}'s Pauli probabilities must be non-negative and sum to 1, got {p.tolist()}")
    return p
