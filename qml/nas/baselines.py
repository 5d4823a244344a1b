"""Baselines for a searched SubCircuit: the human design and a random circuit of the same size.

- :func:`human_baseline`: the design space itself (every gate of every layer) with the number
  of blocks whose parameter count is closest to ``n_params`` (ties: fewer blocks), as a person
  would stack blocks to a parameter budget; its mapping is the trivial one (wire w on qubit w).
- :func:`random_baseline`: :func:`qml.layers.random_circuit` with exactly ``n_params`` angles
  and a seeded random mapping onto ``n_physical`` qubits.

Example:
    >>> c, blocks, mapping = human_baseline("u3cu3", 4, n_params=50)
    >>> blocks, len(c.parameters), mapping
    (2, 48, (0, 1, 2, 3))
    >>> c, mapping = random_baseline(4, 50, n_physical=5, seed=0)
    >>> len(c.parameters), len(set(mapping))
    (50, 4)
"""

from __future__ import annotations

import random

from qml.circuit import Circuit
from qml.layers import SPACES, build_space, random_circuit


def human_baseline(space: str, n_wires: int, n_params: int, max_blocks: int = 64
                   ) -> tuple[Circuit, int, tuple[int, ...]]:
    """(circuit, blocks, trivial mapping) of ``space`` closest to ``n_params`` angles."""
    if space not in SPACES:
        raise ValueError(f"unknown design space {space!r}; valid spaces: {', '.join(SPACES)}")
    per_block = len(build_space(space, n_wires, 1).parameters)
    blocks = min(range(1, max_blocks + 1), key=lambda b: (abs(b * per_block - n_params), b))
    return build_space(space, n_wires, blocks), blocks, tuple(range(n_wires))


def random_baseline(n_wires: int, n_params: int, n_physical: int | None = None, seed: int = 0
                    ) -> tuple[Circuit, tuple[int, ...]]:
    """(random circuit with ``n_params`` angles, random mapping), both from ``seed``."""
    rng = random.Random(seed)
    mapping = tuple(rng.sample(range(n_physical or n_wires), n_wires))
    return random_circuit(n_wires, max(n_params, 1), seed), mapping
