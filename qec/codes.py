"""Rotated surface-code memory experiments as stim circuits, under uniform and non-ideal noise.

Every function returns a ``stim.Circuit`` with detectors and one logical observable, ready
for ``circuit.detector_error_model(...)`` and for sampling.  The noise is placed where stim's
own generator places it (we ask stim for the noiseless layout with marker rates and then
rewrite each noise instruction), so uniform circuit-level noise here is exactly stim's
``surface_code:rotated_memory_{z,x}`` circuit, and the non-uniform scenarios only change rates.

Noise models (``noise=``):

- ``"code-capacity"``: depolarizing ``p`` on the data qubits, perfect measurement (1 round by default).
- ``"code-capacity-bitflip"``: bit flips (X errors) ``p`` on the data qubits, perfect measurement.
- ``"phenomenological"``: data depolarizing ``p`` and measurement flips ``p`` every round.
- ``"circuit"``: depolarizing ``p`` after every gate, reset and measurement flips ``p``,
  and data depolarizing ``p`` at the start of every round (stim's standard circuit noise).

Bases: ``"z"`` and ``"x"`` are memory experiments of logical Z or X.  ``"zx"`` (code
capacity only) protects both at once: the code is entangled with a noiseless reference
qubit R by perfect measurements of all stabilizers and of ``Z_L Z_R`` and ``X_L X_R``, the
data qubits get the noise, and everything is measured again.  Its two observables are the
logical Z and X flips of the same shot, so a decoder corrects X and Z errors together (MWPM:
separately, the two halves of the decoding graph being disconnected), as in code-capacity
threshold studies.

>>> c = surface_code(3, 0.001)
>>> c.num_detectors, c.num_observables
(24, 1)
>>> surface_code(3, 0.05, noise="code-capacity", basis="zx").num_observables
2
>>> hot = hot_qubits(5, 0.001, fraction=0.1, factor=20.0, seed=1)
>>> hot.num_detectors == surface_code(5, 0.001).num_detectors
True
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import stim

NOISE_MODELS = ("code-capacity", "code-capacity-bitflip", "phenomenological", "circuit")
BASES = ("z", "x", "zx")

# Marker rates that tell the noise kinds apart in stim's generated circuit.
_MARKERS = {0.0101: "gate", 0.0102: "reset", 0.0103: "measure", 0.0104: "data"}
# Which noise kinds each model switches on (the rate of each kind is p).
_KINDS = {
    "code-capacity": ("data",),
    "code-capacity-bitflip": ("data",),
    "phenomenological": ("data", "measure"),
    "circuit": ("gate", "reset", "measure", "data"),
}
_MAX_RATE = {"DEPOLARIZE1": 0.75, "DEPOLARIZE2": 15 / 16, "X_ERROR": 0.5, "Z_ERROR": 0.5}


def check_distance(distance: int) -> int:
    """Validate a surface-code distance: an odd integer of at least 3."""
    if isinstance(distance, bool) or not isinstance(distance, (int, np.integer)):
        raise ValueError(f"distance must be an odd integer >= 3, got {distance!r}")
    if distance < 3 or distance % 2 == 0:
        raise ValueError(f"distance must be an odd integer >= 3 (3, 5, 7, ...), got {distance}")
    return int(distance)


def check_probability(p: float, name: str = "p") -> float:
    """Validate a physical error rate: a number in [0, 0.5]."""
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 0.5], got {p!r}") from None
    if not 0.0 <= p <= 0.5:
        raise ValueError(f"{name} must be in [0, 0.5], got {p}")
    return p


def check_circuit(circuit: stim.Circuit) -> stim.Circuit:
    """Accept any stim circuit that has detectors and observables (what a decoder needs)."""
    if not isinstance(circuit, stim.Circuit):
        raise ValueError(f"expected a stim.Circuit, got {type(circuit).__name__}")
    if circuit.num_detectors == 0 or circuit.num_observables == 0:
        raise ValueError(f"the circuit needs detectors and observables, it has "
                         f"{circuit.num_detectors} detectors and {circuit.num_observables} observables")
    return circuit


def surface_code(distance: int, p: float, noise: str = "circuit", basis: str = "z",
                 rounds: int | None = None) -> stim.Circuit:
    """A rotated surface-code memory experiment under uniform noise of strength ``p``.

    ``rounds`` defaults to ``distance`` (1 for the code-capacity models, whose measurements
    are perfect).

    >>> surface_code(3, 0.05, noise="code-capacity").num_detectors
    8
    """
    return noisy_surface_code(distance, p, noise=noise, basis=basis, rounds=rounds)


def noisy_surface_code(distance: int, p: float, noise: str = "circuit", basis: str = "z",
                       rounds: int | None = None, qubit_scale: dict[int, float] | None = None,
                       kind_scale: dict[str, float] | None = None, pair_p: float = 0.0) -> stim.Circuit:
    """The general builder behind every scenario.

    The rate of each noise instruction is ``p`` times ``kind_scale[kind]`` (kinds: ``gate``,
    ``reset``, ``measure``, ``data``) times the largest ``qubit_scale`` of the qubits it acts
    on (default 1), capped at the channel's maximum.  ``pair_p > 0`` adds a correlated
    two-qubit depolarizing channel ``DEPOLARIZE2(pair_p)`` on every pair of neighbouring data
    qubits wherever the data qubits get their per-round noise.

    >>> c = noisy_surface_code(3, 0.001, kind_scale={"measure": 3.0})
    >>> c.num_detectors
    24
    """
    distance = check_distance(distance)
    p = check_probability(p)
    pair_p = check_probability(pair_p, "pair_p")
    if noise not in NOISE_MODELS:
        raise ValueError(f"unknown noise model {noise!r}; choose one of {', '.join(NOISE_MODELS)}")
    basis = str(basis).lower()
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}; choose one of {', '.join(BASES)}")
    if basis == "zx":
        if not noise.startswith("code-capacity") or kind_scale or pair_p or rounds not in (None, 1):
            raise ValueError("basis 'zx' is for code-capacity noise only (one round, no kind_scale or pair_p)")
        return _code_capacity_zx(distance, p, noise, qubit_scale or {})
    if rounds is None:
        rounds = 1 if noise.startswith("code-capacity") else distance
    if not isinstance(rounds, (int, np.integer)) or rounds < 1:
        raise ValueError(f"rounds must be a positive integer, got {rounds!r}")
    kind_scale = dict(kind_scale or {})
    unknown = set(kind_scale) - {"gate", "reset", "measure", "data"}
    if unknown:
        raise ValueError(f"unknown noise kinds {sorted(unknown)}; choose from gate, reset, measure, data")

    markers = {kind: rate for rate, kind in _MARKERS.items()}
    layout = stim.Circuit.generated(
        f"surface_code:rotated_memory_{basis}", distance=distance, rounds=int(rounds),
        after_clifford_depolarization=markers["gate"], after_reset_flip_probability=markers["reset"],
        before_measure_flip_probability=markers["measure"], before_round_data_depolarization=markers["data"])
    enabled = _KINDS[noise]
    scale = defaultdict(lambda: 1.0, qubit_scale or {})
    pairs = _neighbouring_data_pairs(layout) if pair_p > 0 else []

    out = stim.Circuit()
    for inst in layout.flattened():
        kind = _MARKERS.get(round(inst.gate_args_copy()[0], 6)) if inst.gate_args_copy() else None
        if kind is None:
            out.append(inst)
            continue
        if kind in enabled:
            name = inst.name
            if kind == "data" and noise == "code-capacity-bitflip":
                name = "X_ERROR"
            rate = p * kind_scale.get(kind, 1.0)
            _append_scaled(out, name, inst.targets_copy(), rate, scale)
        if kind == "data":
            for a, b in pairs:
                out.append("DEPOLARIZE2", [a, b], pair_p)
    return out


def _code_capacity_zx(distance: int, p: float, noise: str, qubit_scale: dict[int, float]) -> stim.Circuit:
    """Code capacity with both logical observables (see the module docstring, basis 'zx')."""
    layout = stim.Circuit.generated("surface_code:rotated_memory_z", distance=distance, rounds=1)
    coords = {q: tuple(c) for q, c in layout.get_final_qubit_coordinates().items()}
    data = {c: q for q, c in coords.items() if c[0] % 2 == 1 and c[1] % 2 == 1}
    first_h = next(inst for inst in layout.flattened() if inst.name == "H")  # on the X-type measure qubits
    x_type = {t.value for t in first_h.targets_copy()}
    stabilizers = []
    for q, (x, y) in sorted(coords.items()):
        if (x, y) in data:
            continue
        support = [data[(x + dx, y + dy)] for dx in (-1, 1) for dy in (-1, 1) if (x + dx, y + dy) in data]
        stabilizers.append(("X" if q in x_type else "Z", support, (x, y)))
    ref = max(coords) + 1
    logical = {"Z": [q for (x, y), q in data.items() if y == 1], "X": [q for (x, y), q in data.items() if x == 1]}

    def measure_all(out: stim.Circuit) -> None:
        for pauli, support, _ in stabilizers:
            out.append("MPP", _pauli_product(pauli, support))
        for pauli in "ZX":
            out.append("MPP", _pauli_product(pauli, logical[pauli] + [ref]))

    out = stim.Circuit()
    for q, c in sorted(coords.items()):
        out.append("QUBIT_COORDS", [q], c)
    measure_all(out)
    scale = defaultdict(lambda: 1.0, qubit_scale)
    _append_scaled(out, "X_ERROR" if noise == "code-capacity-bitflip" else "DEPOLARIZE1",
                   [stim.GateTarget(q) for q in sorted(data.values())], p, scale)
    measure_all(out)
    n = len(stabilizers) + 2
    for i, (_, _, (x, y)) in enumerate(stabilizers):
        out.append("DETECTOR", [stim.target_rec(i - 2 * n), stim.target_rec(i - n)], [x, y, 0])
    for k in range(2):
        out.append("OBSERVABLE_INCLUDE", [stim.target_rec(k - n - 2), stim.target_rec(k - 2)], k)
    return out


def _pauli_product(pauli: str, qubits: list[int]) -> list:
    targets = []
    for q in qubits:
        targets += [stim.target_x(q) if pauli == "X" else stim.target_z(q), stim.target_combiner()]
    return targets[:-1]


def _append_scaled(out: stim.Circuit, name: str, targets: list, rate: float, scale) -> None:
    """Append ``name`` on ``targets`` with per-qubit (or per-pair) scaled rates, grouped by rate."""
    width = 2 if name == "DEPOLARIZE2" else 1
    groups: dict[float, list[int]] = defaultdict(list)
    qubits = [t.value for t in targets]
    for i in range(0, len(qubits), width):
        group = qubits[i:i + width]
        r = min(rate * max(scale[q] for q in group), _MAX_RATE[name])
        groups[r].extend(group)
    for r, qs in groups.items():
        if r > 0:
            out.append(name, qs, r)


def _neighbouring_data_pairs(circuit: stim.Circuit) -> list[tuple[int, int]]:
    """Pairs of data qubits (odd coordinates in stim's layout) at distance 2 on the grid."""
    coords = {q: tuple(c) for q, c in circuit.get_final_qubit_coordinates().items()}
    data = {c: q for q, c in coords.items() if c[0] % 2 == 1 and c[1] % 2 == 1}
    return [(q, data[(x + dx, y + dy)]) for (x, y), q in sorted(data.items())
            for dx, dy in ((2, 0), (0, 2)) if (x + dx, y + dy) in data]


def qubits(distance: int) -> list[int]:
    """The qubit indices of the distance-``distance`` rotated surface code in stim's layout.

    >>> len(qubits(3))  # 9 data + 8 measurement qubits
    17
    """
    layout = stim.Circuit.generated("surface_code:rotated_memory_z", distance=check_distance(distance), rounds=1)
    return sorted(layout.get_final_qubit_coordinates())


def hot_qubits(distance: int, p: float, fraction: float = 0.1, factor: float = 20.0, noise: str = "circuit",
               basis: str = "z", rounds: int | None = None, seed: int = 0) -> stim.Circuit:
    """True noise with ``fraction`` of the qubits (drawn with ``seed``) ``factor`` times noisier.

    >>> hot_qubits(3, 0.001, seed=0).num_observables
    1
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if factor <= 0:
        raise ValueError(f"factor must be positive, got {factor}")
    qs = qubits(distance)
    n_hot = max(1, int(round(fraction * len(qs))))
    hot = np.random.default_rng(seed).choice(qs, size=n_hot, replace=False)
    return noisy_surface_code(distance, p, noise, basis, rounds, qubit_scale={int(q): factor for q in hot})


def spread(distance: int, p: float, sigma: float = 0.5, noise: str = "circuit", basis: str = "z",
           rounds: int | None = None, seed: int = 0) -> stim.Circuit:
    """True noise with per-qubit rates ``p * exp(sigma * N(0, 1) - sigma**2 / 2)`` (mean ``p``).

    >>> spread(3, 0.001, sigma=0.5, seed=0).num_detectors
    24
    """
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    qs = qubits(distance)
    z = np.random.default_rng(seed).standard_normal(len(qs))
    factors = np.exp(sigma * z - sigma ** 2 / 2)
    return noisy_surface_code(distance, p, noise, basis, rounds, qubit_scale=dict(zip(qs, factors)))


def drifted(distance: int, p: float, factors: dict[str, float] | None = None, noise: str = "circuit",
            basis: str = "z", rounds: int | None = None) -> stim.Circuit:
    """True noise whose rates have drifted from the nominal ``p`` by ``factors`` per noise kind.

    The default drift triples the measurement and reset errors and doubles the gate errors.

    >>> drifted(3, 0.001).num_detectors
    24
    """
    factors = {"gate": 2.0, "measure": 3.0, "reset": 3.0} if factors is None else factors
    return noisy_surface_code(distance, p, noise, basis, rounds, kind_scale=factors)


def correlated(distance: int, p: float, pair_p: float | None = None, noise: str = "circuit",
               basis: str = "z", rounds: int | None = None) -> stim.Circuit:
    """True noise with correlated two-qubit depolarizing errors on neighbouring data qubits.

    ``pair_p`` (default ``p``) is the rate of ``DEPOLARIZE2`` on every pair of neighbouring
    data qubits in every round, on top of the uniform noise model.

    >>> correlated(3, 0.001).num_detectors
    24
    """
    return noisy_surface_code(distance, p, noise, basis, rounds, pair_p=p if pair_p is None else pair_p)


SCENARIOS = {"hot-qubits": hot_qubits, "spread": spread, "drift": drifted, "correlated": correlated}
