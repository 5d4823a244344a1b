"""Encoders of input data and the QuantumNAS design spaces, as :class:`qml.Circuit` builders.

An :class:`Encoder` is a list of ``(gate, wires, feature indices)``: gate ``gate`` on ``wires``
with its angles read from those input features. The papers' encoders are built in
(``ENCODERS``): ``4x4_ryzxy`` (16 features: RY, RZ, RX, RY layers on 4 wires), ``6x6_ryzxy``
(36 features on 10 wires: RY, RZ, RX on all 10, RY on wires 0-5) and ``10_ryzx`` (10 features:
RY, RZ on 4 wires, RX on wires 0-1). :class:`AmplitudeEncoder` prepares the normalized feature
vector as the state's amplitudes.

Design spaces (``SPACES``), each a function ``(n_wires, n_blocks) -> Circuit`` with trainable
parameters named ``b<block>.<layer>.<index>``, block as in the QuantumNAS paper:

- ``u3cu3``: U3 on every wire, CU3 on a ring (i -> i+1 mod n).
- ``zzry``: RZZ on a ring, RY on every wire.
- ``rxyz``: one sqrt(H) layer before the first block; RX, RY, RZ on every wire, then CZ on
  alternating pairs: (0,1), (2,3), ... in even blocks, (1,2), (3,4), ... in odd blocks.
- ``zxxx``: RZX on a ring, RXX on a ring.
- ``rxyzu1cu3``: RX, S, CNOT ring; RY, T, SWAP ring; RZ, T, sqrt(SWAP) ring; U1; CU3 ring.
- ``ibmbasis``: RZ, X, RZ, SX, RZ on every wire, CNOT ring (IBM's basis gates).

``random_circuit(n_wires, n_params, seed)`` is the random baseline with a given parameter count.

Example:
    >>> from qml.layers import ENCODERS, build_space
    >>> ansatz = build_space("u3cu3", n_wires=4, n_blocks=2)
    >>> len(ansatz.parameters), ENCODERS["4x4_ryzxy"].n_features
    (48, 16)
"""

from __future__ import annotations

import random
from functools import cached_property
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from qml.circuit import Circuit, Input, Param
from qml.gates import get_gate


@dataclass(frozen=True)
class Encoder:
    """Angle encoder: ``ops`` is a sequence of ``(gate, wires, feature indices)``.

    Example:
        >>> enc = Encoder("ry2", (("ry", (0,), (0,)), ("ry", (1,), (1,))))
        >>> enc.circuit(2).ops[1].params
        (Input(index=1),)
    """

    name: str
    ops: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]

    def __post_init__(self):
        used = sorted(i for _, _, idx in self.ops for i in idx)
        if used != list(range(len(used))):
            raise ValueError(f"encoder {self.name!r} must read features 0..n-1 once each, "
                             f"reads {used}")
        for gate, wires, idx in self.ops:
            g = get_gate(gate, len(wires))
            if g.n_wires != len(wires) or g.n_params != len(idx):
                raise ValueError(f"encoder {self.name!r}: {gate} takes {g.n_wires} wire(s) and "
                                 f"{g.n_params} angle(s), got wires {wires}, features {idx}")

    @cached_property
    def n_features(self) -> int:
        return sum(len(idx) for _, _, idx in self.ops)

    @cached_property
    def n_wires(self) -> int:
        return 1 + max(w for _, wires, _ in self.ops for w in wires)

    def check(self, x: torch.Tensor) -> None:
        """Raise a ``ValueError`` naming the encoder when ``x`` has the wrong feature count."""
        if x.dim() != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"encoder {self.name!r} takes {self.n_features} features per sample "
                             f"(a (batch, {self.n_features}) tensor), got shape {tuple(x.shape)}; "
                             f"built-in encoders: {describe_encoders()}")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The circuit's input row for each sample (the features themselves)."""
        self.check(x)
        return x

    def circuit(self, n_wires: int | None = None) -> Circuit:
        """The encoding circuit, its angles as :class:`qml.Input` features."""
        c = Circuit(n_wires or self.n_wires)
        for gate, wires, idx in self.ops:
            c.append(gate, wires, [Input(i) for i in idx])
        return c


def _layered(name: str, gates: Sequence[str], wire_counts: Sequence[int]) -> Encoder:
    """One layer per gate, on wires 0..count-1, reading the features in order."""
    ops, k = [], 0
    for gate, count in zip(gates, wire_counts):
        for w in range(count):
            ops.append((gate, (w,), (k,)))
            k += 1
    return Encoder(name, tuple(ops))


ENCODERS: dict[str, Encoder] = {
    "4x4_ryzxy": _layered("4x4_ryzxy", ("ry", "rz", "rx", "ry"), (4, 4, 4, 4)),
    "6x6_ryzxy": _layered("6x6_ryzxy", ("ry", "rz", "rx", "ry"), (10, 10, 10, 6)),
    "10_ryzx": _layered("10_ryzx", ("ry", "rz", "rx"), (4, 4, 2)),
}


def describe_encoders() -> str:
    return ", ".join(f"{k} ({e.n_features} features, {e.n_wires} wires)"
                     for k, e in ENCODERS.items()) + ", amplitude"


class AmplitudeEncoder:
    """Amplitude encoding of real features: the state is ``x / |x|`` (zero-padded to 2**n).

    The state is prepared by a tree of uniformly controlled RY rotations, each decomposed into
    RY and CNOT gates, so the circuit exports like any other. ``features`` turns a batch of
    feature vectors into the rotation angles the circuit reads as its inputs (2**n - 1 per
    sample).

    Example:
        >>> import torch, qml
        >>> enc = AmplitudeEncoder(2)
        >>> x = torch.tensor([[1.0, -2.0, 0.0, 2.0]])
        >>> state = qml.simulate(enc.circuit(), inputs=enc.features(x))
        >>> torch.allclose(state.real, x / 3, atol=1e-6)
        True
    """

    name = "amplitude"

    def __init__(self, n_wires: int):
        self.n_wires = n_wires
        self.n_features = 2 ** n_wires

    def check(self, x: torch.Tensor) -> None:
        if x.dim() != 2 or not 0 < x.shape[1] <= self.n_features:
            raise ValueError(f"amplitude encoder on {self.n_wires} wires takes at most "
                             f"{self.n_features} features per sample, got shape {tuple(x.shape)}")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Rotation angles (batch, 2**n - 1): level k's uniformly controlled RY, Gray-ordered."""
        self.check(x)
        amp = torch.nn.functional.pad(x, (0, self.n_features - x.shape[1]))
        angles = []
        for level in range(self.n_wires):
            # amplitude pairs (left, right) below each node of the tree at this level
            groups = amp.reshape(x.shape[0], 2 ** level, 2, -1)
            if level == self.n_wires - 1:  # leaves keep their signs
                alpha = 2 * torch.atan2(groups[..., 1, 0], groups[..., 0, 0])
            else:
                alpha = 2 * torch.atan2(groups[..., 1, :].norm(dim=-1), groups[..., 0, :].norm(dim=-1))
            angles.append(alpha @ _gray_transform(level).to(alpha))
        return torch.cat(angles, dim=1)

    def circuit(self, n_wires: int | None = None) -> Circuit:
        c = Circuit(n_wires or self.n_wires)
        k = 0
        for level in range(self.n_wires):
            for j in range(2 ** level):
                c.ry(level, Input(k))
                k += 1
                if level:
                    c.cx(level - 1 - _gray_flip(j, level), level)
        return c


def _gray_flip(j: int, k: int) -> int:
    """Which bit (0 = least significant) changes between Gray codes j and j+1 (cyclic, k bits)."""
    g = lambda i: (i % 2 ** k) ^ ((i % 2 ** k) >> 1)  # noqa: E731
    return (g(j) ^ g(j + 1)).bit_length() - 1


def _gray_transform(k: int) -> torch.Tensor:
    """Matrix taking the 2**k angles of a uniformly controlled RY (indexed by the control bits,
    first control most significant) to the RY angles of its CNOT decomposition."""
    n = 2 ** k
    m = torch.tensor([[(-1.0) ** bin(row & (i ^ (i >> 1))).count("1") for i in range(n)]
                      for row in range(n)], dtype=torch.float64)
    return m / n


def get_encoder(name: str, n_wires: int | None = None):
    """An encoder by name (one of ``ENCODERS`` or ``"amplitude"``, which needs ``n_wires``)."""
    if name == "amplitude":
        if n_wires is None:
            raise ValueError("the amplitude encoder needs n_wires")
        return AmplitudeEncoder(n_wires)
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; valid encoders: {describe_encoders()}")
    return ENCODERS[name]


# --- design spaces --------------------------------------------------------------------------

def _ring(n: int) -> list[tuple[int, int]]:
    return [(i, (i + 1) % n) for i in range(n)] if n > 1 else []


class _Builder:
    """Appends gates with fresh parameter names ``b<block>.<layer>.<index>``."""

    def __init__(self, n_wires: int):
        self.c = Circuit(n_wires)
        self.n = n_wires
        self.block = 0
        self.count: dict[str, int] = {}

    def trainable(self, gate: str, wires: tuple[int, ...], layer: str) -> None:
        n_params = get_gate(gate, len(wires)).n_params
        key = f"b{self.block}.{layer}"
        i = self.count.get(key, 0)
        self.count[key] = i + 1
        self.c.append(gate, wires, [Param(f"{key}.{i}" + (f"_{k}" if n_params > 1 else ""))
                                    for k in range(n_params)])

    def each_wire(self, gate: str, layer: str | None = None) -> None:
        for w in range(self.n):
            if layer is None:
                self.c.append(gate, (w,))
            else:
                self.trainable(gate, (w,), layer)

    def pairs(self, gate: str, pairs, layer: str | None = None) -> None:
        for a, b in pairs:
            if layer is None:
                self.c.append(gate, (a, b))
            else:
                self.trainable(gate, (a, b), layer)


def _space(block: Callable[[_Builder, int], None], prologue: Callable[[_Builder], None] | None = None):
    def build(n_wires: int, n_blocks: int) -> Circuit:
        if n_wires < 2 or n_blocks < 1:
            raise ValueError(f"a design space needs n_wires >= 2 and n_blocks >= 1, "
                             f"got {n_wires} and {n_blocks}")
        b = _Builder(n_wires)
        if prologue:
            prologue(b)
        for k in range(n_blocks):
            b.block = k
            block(b, k)
        return b.c
    build.__doc__ = block.__doc__
    return build


def _u3cu3(b: _Builder, k: int) -> None:
    """U3 on every wire, CU3 on a ring."""
    b.each_wire("u3", "u3")
    b.pairs("cu3", _ring(b.n), "cu3")


def _zzry(b: _Builder, k: int) -> None:
    """RZZ on a ring, RY on every wire."""
    b.pairs("rzz", _ring(b.n), "rzz")
    b.each_wire("ry", "ry")


def _rxyz(b: _Builder, k: int) -> None:
    """RX, RY, RZ on every wire, CZ on alternating pairs (even offset in even blocks)."""
    for gate in ("rx", "ry", "rz"):
        b.each_wire(gate, gate)
    wrap = b.n > 2 and b.n % 2 == 0  # odd blocks close the ring when the pairs fit it
    b.pairs("cz", [(i, (i + 1) % b.n) for i in range(k % 2, b.n, 2) if i + 1 < b.n or wrap])


def _zxxx(b: _Builder, k: int) -> None:
    """RZX on a ring, RXX on a ring."""
    b.pairs("rzx", _ring(b.n), "rzx")
    b.pairs("rxx", _ring(b.n), "rxx")


def _rxyzu1cu3(b: _Builder, k: int) -> None:
    """RX, S, CNOT ring; RY, T, SWAP ring; RZ, T, sqrt(SWAP) ring; U1; CU3 ring."""
    for rot, fixed, two in (("rx", "s", "cx"), ("ry", "t", "swap"), ("rz", "t", "sqrtswap")):
        b.each_wire(rot, rot)
        b.each_wire(fixed)
        b.pairs(two, _ring(b.n))
    b.each_wire("u1", "u1")
    b.pairs("cu3", _ring(b.n), "cu3")


def _ibmbasis(b: _Builder, k: int) -> None:
    """RZ, X, RZ, SX, RZ on every wire, CNOT ring."""
    b.each_wire("rz", "rz0")
    b.each_wire("x")
    b.each_wire("rz", "rz1")
    b.each_wire("sx")
    b.each_wire("rz", "rz2")
    b.pairs("cx", _ring(b.n))


SPACES: dict[str, Callable[[int, int], Circuit]] = {
    "u3cu3": _space(_u3cu3),
    "zzry": _space(_zzry),
    "rxyz": _space(_rxyz, prologue=lambda b: b.each_wire("sh")),
    "zxxx": _space(_zxxx),
    "rxyzu1cu3": _space(_rxyzu1cu3),
    "ibmbasis": _space(_ibmbasis),
}

RANDOM_GATES = ("rx", "ry", "rz", "u3", "cu3", "crx", "rzz", "cx")


def random_circuit(n_wires: int, n_params: int, seed: int = 0) -> Circuit:
    """Random baseline: gates drawn from ``RANDOM_GATES`` on random wires until the circuit
    has exactly ``n_params`` trainable parameters (the last gate is a one-angle rotation when
    fewer than three remain).

    Example:
        >>> len(random_circuit(4, 36, seed=1).parameters)
        36
    """
    if n_params < 1:
        raise ValueError(f"n_params must be positive, got {n_params}")
    rng = random.Random(seed)
    b = _Builder(n_wires)
    left = n_params
    while left:
        gate = rng.choice([g for g in RANDOM_GATES if get_gate(g).n_params <= left])
        g = get_gate(gate)
        wires = tuple(rng.sample(range(n_wires), g.n_wires))
        if g.n_params:
            b.trainable(gate, wires, "rand")
            left -= g.n_params
        else:
            b.c.append(gate, wires)
    return b.c


def build_space(name: str, n_wires: int, n_blocks: int, *, n_params: int | None = None,
                seed: int = 0) -> Circuit:
    """The ansatz of design space ``name`` (or ``"random"`` with ``n_params`` and ``seed``)."""
    if name == "random":
        if n_params is None:
            raise ValueError("the random space needs n_params")
        return random_circuit(n_wires, n_params, seed)
    if name not in SPACES:
        raise ValueError(f"unknown design space {name!r}; valid spaces: "
                         f"{', '.join([*SPACES, 'random'])}")
    return SPACES[name](n_wires, n_blocks)

