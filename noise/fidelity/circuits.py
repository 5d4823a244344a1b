"""Circuits for QuEst data sets: random physical circuits and algorithm circuits.

- :func:`random_circuit`: ``k`` connected physical qubits of a device and ``n`` gates drawn
  uniformly from ``rz(angle)``, ``sx``, ``x`` (on one of the qubits) and ``cx`` (on a
  coupling-map edge between two of them). The result is already physical: it runs as it is.
- :data:`FAMILIES` / :func:`algorithm_circuit`: logical circuits of textbook algorithms
  (GHZ, QFT, Bernstein-Vazirani, Deutsch-Jozsa, Grover, QAOA, a hardware-efficient ansatz, a
  ripple-carry adder) on a given number of qubits, built from a seed. They are compiled to a
  device by :func:`noise.fidelity.label.compile_for`.

Every function takes its randomness from a seed or a ``numpy.random.Generator``: the same
seed gives the same circuit.

>>> from noise.devices import Device
>>> c = random_circuit(Device.from_name("santiago"), n_qubits=3, n_gates=20, seed=1)
>>> len(c.gates), sorted({op.name for op in c.gates}) <= ["cx", "rz", "sx", "x"]
(20, True)
>>> algorithm_circuit("ghz", 4, seed=0).count_ops()
{'h': 1, 'cx': 3}
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from qml.circuit import Circuit

#: the gates random circuits draw from (the IBM basis, no ``id``)
RANDOM_GATES = ("rz", "sx", "x", "cx")


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def connected_qubits(device, k: int, seed=None) -> list[int]:
    """``k`` physical qubits of ``device`` that form a connected piece of its coupling map,
    grown from a random qubit by random neighbours (sorted)."""
    rng = _rng(seed)
    if not 1 <= k <= device.n_qubits:
        raise ValueError(f"cannot pick {k} qubits on {device.name} ({device.n_qubits} qubits)")
    neighbours: dict[int, set[int]] = {q: set() for q in range(device.n_qubits)}
    for a, b in device.coupling_map:
        neighbours[a].add(b)
        neighbours[b].add(a)
    chosen = [int(rng.integers(device.n_qubits))]
    while len(chosen) < k:
        frontier = sorted({n for q in chosen for n in neighbours[q]} - set(chosen))
        if not frontier:
            raise ValueError(f"{device.name}'s coupling map has no connected set of {k} qubits")
        chosen.append(int(rng.choice(frontier)))
    return sorted(chosen)


def random_circuit(device, n_qubits: int, n_gates: int, seed=None) -> Circuit:
    """A random physical circuit on ``n_qubits`` connected qubits of ``device``.

    Wires are the device's qubits (``n_wires == device.n_qubits``); the gates are drawn
    uniformly from :data:`RANDOM_GATES` (``cx`` only on coupling-map edges inside the chosen
    qubits, so a single qubit gets no ``cx``), ``rz`` angles uniformly from [0, 2 pi).
    """
    rng = _rng(seed)
    if n_gates < 1:
        raise ValueError(f"n_gates must be positive, got {n_gates}")
    qubits = connected_qubits(device, n_qubits, rng)
    edges = [(a, b) for a, b in device.coupling_map if a in qubits and b in qubits]
    names = [g for g in RANDOM_GATES if g != "cx" or edges]
    circuit = Circuit(device.n_qubits)
    for _ in range(n_gates):
        name = names[int(rng.integers(len(names)))]
        if name == "cx":
            a, b = edges[int(rng.integers(len(edges)))]
            circuit.cx(a, b)
        elif name == "rz":
            circuit.rz(int(rng.choice(qubits)), float(rng.uniform(0, 2 * math.pi)))
        else:
            getattr(circuit, name)(int(rng.choice(qubits)))
    return circuit


# ---------------------------------------------------------------------- algorithm families


def ghz(n: int, rng: np.random.Generator) -> Circuit:
    c = Circuit(n).h(0)
    for q in range(n - 1):
        c.cx(q, q + 1)
    return c


def qft(n: int, rng: np.random.Generator) -> Circuit:
    """QFT on a random computational basis state (so that not every input is |0>)."""
    c = Circuit(n)
    for q in range(n):
        if rng.random() < 0.5:
            c.x(q)
    for j in range(n):
        c.h(j)
        for k in range(j + 1, n):
            c.cp(k, j, math.pi / 2 ** (k - j))
    for q in range(n // 2):
        c.swap(q, n - 1 - q)
    return c


def bernstein_vazirani(n: int, rng: np.random.Generator) -> Circuit:
    """``n - 1`` data qubits and one ancilla, a random non-zero secret."""
    m = n - 1
    secret = int(rng.integers(1, 2 ** m)) if m else 0
    c = Circuit(n).x(m)
    for q in range(n):
        c.h(q)
    for q in range(m):
        if secret >> q & 1:
            c.cx(q, m)
    for q in range(m):
        c.h(q)
    return c


def deutsch_jozsa(n: int, rng: np.random.Generator) -> Circuit:
    """A random balanced oracle (x-conjugated CNOTs), or a constant one a quarter of the time."""
    m = n - 1
    c = Circuit(n).x(m)
    for q in range(n):
        c.h(q)
    if rng.random() < 0.25:
        if rng.random() < 0.5:
            c.x(m)
    else:
        flips = [q for q in range(m) if rng.random() < 0.5]
        for q in flips:
            c.x(q)
        for q in range(m):
            c.cx(q, m)
        for q in flips:
            c.x(q)
    for q in range(m):
        c.h(q)
    return c


def grover(n: int, rng: np.random.Generator) -> Circuit:
    """Grover search for one random marked state, ``floor(pi/4 sqrt(2**n))`` iterations (at
    most 2: deep enough to be noisy, shallow enough to transpile fast)."""
    n = max(n, 2)
    marked = int(rng.integers(2 ** n))
    iterations = max(1, min(2, int(math.pi / 4 * math.sqrt(2 ** n))))
    c = Circuit(n)
    for q in range(n):
        c.h(q)

    def phase_flip_all_ones():
        c.h(n - 1)
        if n == 2:
            c.cx(0, 1)
        else:
            c.mcx(list(range(n - 1)), n - 1)
        c.h(n - 1)

    for _ in range(iterations):
        zeros = [q for q in range(n) if not marked >> (n - 1 - q) & 1]
        for q in zeros:
            c.x(q)
        phase_flip_all_ones()
        for q in zeros:
            c.x(q)
        for q in range(n):
            c.h(q)
            c.x(q)
        phase_flip_all_ones()
        for q in range(n):
            c.x(q)
            c.h(q)
    return c


def qaoa(n: int, rng: np.random.Generator) -> Circuit:
    """MaxCut QAOA on a random connected graph (a path plus random chords), p = 1 or 2,
    random angles."""
    n = max(n, 2)
    edges = {(q, q + 1) for q in range(n - 1)}
    for a in range(n):
        for b in range(a + 2, n):
            if rng.random() < 0.3:
                edges.add((a, b))
    c = Circuit(n)
    for q in range(n):
        c.h(q)
    for _ in range(int(rng.integers(1, 3))):
        gamma, beta = float(rng.uniform(0, math.pi)), float(rng.uniform(0, math.pi))
        for a, b in sorted(edges):
            c.rzz(a, b, gamma)
        for q in range(n):
            c.rx(q, 2 * beta)
    return c


def hardware_efficient(n: int, rng: np.random.Generator) -> Circuit:
    """RY-RZ layers with a CNOT chain, 1 to 3 layers, random angles."""
    c = Circuit(n)
    for _ in range(int(rng.integers(1, 4))):
        for q in range(n):
            c.ry(q, float(rng.uniform(0, 2 * math.pi)))
            c.rz(q, float(rng.uniform(0, 2 * math.pi)))
        for q in range(n - 1):
            c.cx(q, q + 1)
    return c


def ripple_carry_adder(n: int, rng: np.random.Generator) -> Circuit:
    """Cuccaro's ripple-carry adder of two ``m``-bit numbers (``m = (n - 2) // 2``, at least 1;
    ``2m + 2`` qubits: carry-in, a and b interleaved, carry-out) on random inputs."""
    m = max(1, (n - 2) // 2)
    width = 2 * m + 2
    c = Circuit(width)
    cin, cout = 0, width - 1
    a = [1 + 2 * i for i in range(m)]
    b = [2 + 2 * i for i in range(m)]
    for q in a + b:
        if rng.random() < 0.5:
            c.x(q)

    def maj(x, y, z):
        c.cx(z, y)
        c.cx(z, x)
        c.ccx(x, y, z)

    def uma(x, y, z):
        c.ccx(x, y, z)
        c.cx(z, x)
        c.cx(x, y)

    maj(cin, b[0], a[0])
    for i in range(1, m):
        maj(a[i - 1], b[i], a[i])
    c.cx(a[-1], cout)
    for i in reversed(range(1, m)):
        uma(a[i - 1], b[i], a[i])
    uma(cin, b[0], a[0])
    return c


#: family name -> (builder(n, rng), smallest n); every builder makes a circuit on n qubits
#: (the adder on the largest even width <= n, Grover and QAOA on at least 2).
FAMILIES: dict[str, tuple[Callable[[int, np.random.Generator], Circuit], int]] = {
    "ghz": (ghz, 2),
    "qft": (qft, 2),
    "bv": (bernstein_vazirani, 2),
    "dj": (deutsch_jozsa, 2),
    "grover": (grover, 2),
    "qaoa": (qaoa, 2),
    "hea": (hardware_efficient, 2),
    "adder": (ripple_carry_adder, 4),
}
MAX_ALGORITHM_QUBITS = 7


def algorithm_circuit(family: str, n_qubits: int, seed=None) -> Circuit:
    """A logical circuit of ``family`` (a key of :data:`FAMILIES`) on ``n_qubits`` qubits."""
    if family not in FAMILIES:
        raise ValueError(f"unknown algorithm family {family!r}; known: {', '.join(FAMILIES)}")
    build, smallest = FAMILIES[family]
    if n_qubits < smallest:
        raise ValueError(f"{family} needs at least {smallest} qubits, got {n_qubits}")
    return build(n_qubits, _rng(seed))


__all__ = ["FAMILIES", "RANDOM_GATES", "MAX_ALGORITHM_QUBITS", "algorithm_circuit", "connected_qubits",
           "random_circuit"]
