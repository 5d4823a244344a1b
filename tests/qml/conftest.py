"""Random circuits over every supported gate, shared by the engine's tests."""

import math
import random

import pytest

from qml import Circuit
from qml.gates import GATES

ALL_GATES = sorted(GATES) + ["mcx"]


def random_circuit(n_wires: int, depth: int, rng: random.Random, gates=ALL_GATES, param=None) -> Circuit:
    """``depth`` random gates on ``n_wires`` wires (gates too wide for the register skipped).

    ``param(i, rng)`` gives the i-th parameter (default: a random angle).
    """
    param = param or (lambda i, r: r.uniform(-2 * math.pi, 2 * math.pi))
    c = Circuit(n_wires)
    usable = [g for g in gates if (GATES[g].n_wires if g != "mcx" else 4) <= n_wires]
    count = 0
    while len(c.ops) < depth:
        name = rng.choice(usable)
        width = rng.randint(2, n_wires) if name == "mcx" else GATES[name].n_wires
        wires = rng.sample(range(n_wires), width)
        n_params = 0 if name == "mcx" else GATES[name].n_params
        params = [param(count + j, rng) for j in range(n_params)]
        count += n_params
        c.append(name, wires, params)
    return c


@pytest.fixture
def rng():
    return random.Random(1234)


def assert_matches_finite_differences(loss, params, tol: float = 1e-7, h: float = 1e-6) -> None:
    """``loss(params)``'s autograd gradient against central differences, entry by entry."""
    import torch

    p = params.detach().clone().requires_grad_(True)
    loss(p).backward()
    for k in range(p.numel()):
        e = torch.zeros_like(p)
        e.view(-1)[k] = h
        numeric = (loss(p.detach() + e) - loss(p.detach() - e)) / (2 * h)
        assert abs(p.grad.view(-1)[k].item() - numeric.item()) < tol, (k, p.grad.view(-1)[k].item(), numeric.item())
