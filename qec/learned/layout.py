"""The token layout of a memory circuit: what a learned decoder sees of the code.

A :class:`CodeLayout` is read once from a stim circuit and stored in checkpoints:

- detector coordinates ``(x, y, t)`` (from ``DETECTOR`` annotations; a detector without
  them (some hand-written circuits have none) sits at the centroid of the data qubits
  whose errors flip it, round 0) and a stabilizer type per detector (which data-qubit Pauli
  errors flip the detectors at its position);
- the data qubits (those measured in the circuit's final measurement block that noise acts
  on; a noiseless reference qubit is not one) and their coordinates;
- the effect of an X or Z error on each data qubit just before that final block on the
  detectors and observables (``err_dets``, ``err_obs``), used to turn predicted data-qubit
  errors into a syndrome (hybrid decoding) and to label training samples.

>>> import stim
>>> c = stim.Circuit.generated("surface_code:rotated_memory_z", distance=3, rounds=3,
...                            before_round_data_depolarization=0.01)
>>> layout = CodeLayout.from_circuit(c)
>>> layout.num_detectors, layout.num_data, layout.num_observables
(24, 9, 1)
>>> sorted(set(layout.det_types.tolist()))
[0, 1]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import stim

# instructions allowed in the final measurement block (after the last gate/noise op)
_TAIL_OPS = {"M", "MX", "MY", "MPP", "DETECTOR", "OBSERVABLE_INCLUDE", "SHIFT_COORDS", "TICK",
             "QUBIT_COORDS"}
# detector types: 0 unknown, 1 flipped by X errors (Z stabilizer), 2 by Z errors, 3 by both
NUM_DET_TYPES = 4


def split_final_block(circuit: stim.Circuit) -> tuple[stim.Circuit, stim.Circuit]:
    """Split a flattened circuit into (body, final measurement block)."""
    flat = circuit.flattened()
    cut = len(flat)
    while cut > 0 and flat[cut - 1].name in _TAIL_OPS:
        cut -= 1
    if cut == len(flat) or not any(flat[i].name in ("M", "MX", "MY", "MPP") for i in range(cut, len(flat))):
        raise ValueError("circuit has no final measurement block (data-qubit measurements at its end)")
    return flat[:cut], flat[cut:]


def _data_qubits(body: stim.Circuit, tail: stim.Circuit) -> list[int]:
    """Qubits measured in the final block that some noise channel of the body acts on."""
    measured, noisy = set(), set()
    for inst in tail:
        if inst.name in ("M", "MX", "MY", "MPP"):
            measured.update(t.value for t in inst.targets_copy() if not t.is_combiner)
    for inst in body:
        if stim.gate_data(inst.name).is_noisy_gate and inst.name not in ("M", "MX", "MY", "MPP", "MR"):
            noisy.update(t.value for t in inst.targets_copy())
    data = sorted(measured & noisy)
    if not data:
        raise ValueError("no noisy qubit is measured in the circuit's final measurement block")
    return data


@dataclass
class CodeLayout:
    """Geometry of a code's detectors and data qubits (numpy arrays; see module docs)."""

    det_coords: np.ndarray   # (D, 3) float: x, y, t
    det_types: np.ndarray    # (D,) int in [0, NUM_DET_TYPES)
    data_qubits: np.ndarray  # (n,) int: stim qubit indices
    data_coords: np.ndarray  # (n, 2) float
    err_dets: np.ndarray     # (2n, D) uint8: rows X on qubit 0..n-1, then Z on qubit 0..n-1
    err_obs: np.ndarray      # (2n, O) uint8

    @property
    def num_detectors(self) -> int:
        return len(self.det_coords)

    @property
    def num_data(self) -> int:
        return len(self.data_qubits)

    @property
    def num_observables(self) -> int:
        return self.err_obs.shape[1]

    @classmethod
    def from_circuit(cls, circuit: stim.Circuit) -> "CodeLayout":
        """Read the layout of ``circuit`` (detectors need 3 coordinates: x, y, round)."""
        if not isinstance(circuit, stim.Circuit):
            raise TypeError(f"expected a stim.Circuit, got {type(circuit).__name__}")
        if circuit.num_detectors == 0:
            raise ValueError("circuit has no detectors")
        body, tail = split_final_block(circuit)
        data = np.array(_data_qubits(body, tail), dtype=np.int64)
        qcoords = circuit.get_final_qubit_coordinates()
        missing = [int(q) for q in data if q not in qcoords]
        if missing:
            raise ValueError(f"data qubits {missing} have no QUBIT_COORDS")
        data_coords = np.array([qcoords[int(q)][:2] for q in data], dtype=np.float64)
        err_dets, err_obs = _error_effects(body.without_noise(), tail.without_noise(), data, circuit.num_qubits)
        det_coords = _detector_coords(circuit, err_dets, data_coords)
        det_types = _detector_types(det_coords, err_dets, len(data))
        return cls(det_coords, det_types, data, data_coords, err_dets, err_obs)

    def to_dict(self) -> dict:
        """Plain lists (what a ``weights_only`` checkpoint can hold)."""
        return {k: np.asarray(v).tolist() for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "CodeLayout":
        return cls(np.array(d["det_coords"], dtype=np.float64), np.array(d["det_types"], dtype=np.int64),
                   np.array(d["data_qubits"], dtype=np.int64), np.array(d["data_coords"], dtype=np.float64),
                   np.array(d["err_dets"], dtype=np.uint8).reshape(-1, len(d["det_coords"])),
                   np.array(d["err_obs"], dtype=np.uint8).reshape(2 * len(d["data_qubits"]), -1))

    def mismatch(self, other: "CodeLayout") -> str | None:
        """A sentence naming how ``other`` differs from this layout, or None if they match."""
        if self.num_detectors != other.num_detectors:
            return f"{other.num_detectors} detectors instead of {self.num_detectors}"
        if self.num_observables != other.num_observables:
            return f"{other.num_observables} observables instead of {self.num_observables}"
        if self.num_data != other.num_data:
            return f"{other.num_data} data qubits instead of {self.num_data}"
        if not np.allclose(self.det_coords, other.det_coords):
            return "different detector coordinates"
        if not (np.array_equal(self.err_dets, other.err_dets) and np.array_equal(self.err_obs, other.err_obs)):
            return "different stabilizers or observables"
        return None


def _detector_coords(circuit: stim.Circuit, err_dets: np.ndarray, data_coords: np.ndarray) -> np.ndarray:
    coords = circuit.get_detector_coordinates()
    n = len(data_coords)
    out = np.zeros((circuit.num_detectors, 3))
    for k in range(circuit.num_detectors):
        c = list(coords.get(k, ()))
        if len(c) >= 3:
            out[k] = c[:3]
            continue
        flipped_by = err_dets[:n, k] | err_dets[n:, k]
        if c or not flipped_by.any():
            raise ValueError(f"detectors need coordinates (x, y, t); detector {k} has {c}")
        out[k, :2] = data_coords[flipped_by.astype(bool)].mean(axis=0)
    return out


def _error_effects(body: stim.Circuit, tail: stim.Circuit, data: np.ndarray, num_qubits: int):
    """Detector and observable flips of X (rows 0..n-1) and Z (rows n..2n-1) on each data qubit."""
    n = len(data)
    sim = stim.FlipSimulator(batch_size=2 * n, disable_stabilizer_randomization=True, num_qubits=num_qubits)
    sim.do(body)
    for pauli, offset in (("X", 0), ("Z", n)):
        mask = np.zeros((num_qubits, 2 * n), dtype=bool)
        mask[data, offset + np.arange(n)] = True
        sim.broadcast_pauli_errors(pauli=pauli, mask=mask)
    sim.do(tail)
    dets = sim.get_detector_flips().T.astype(np.uint8)
    obs = sim.get_observable_flips().T.astype(np.uint8)
    return dets, obs


def _detector_types(det_coords: np.ndarray, err_dets: np.ndarray, n: int) -> np.ndarray:
    """Type of each detector from which data-qubit errors flip a detector at the same (x, y)."""
    by_xy: dict[tuple, int] = {}
    for k in range(len(det_coords)):
        bits = int(err_dets[:n, k].any()) | (int(err_dets[n:, k].any()) << 1)
        xy = tuple(det_coords[k, :2])
        by_xy[xy] = by_xy.get(xy, 0) | bits
    return np.array([by_xy[tuple(c[:2])] for c in det_coords], dtype=np.int64)


def observable_representatives(layout: CodeLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Other readings of each observable: translates of its support, corrected by the syndrome.

    The observable flips with the parity of the data-qubit errors on its support ``S``. Shifted
    across the data-qubit grid, ``S`` becomes ``T``; where ``S ^ T`` is the error support of a
    set ``G`` of detectors (solved over GF(2)), every error's parity on ``T`` equals its parity on
    ``S`` plus the flips of the detectors in ``G``, so ``T`` with ``G`` reads the same observable.
    Returns ``observable`` (R,), ``supports`` (R, 2n) and ``detectors`` (R, D) bool; ``S``
    itself is among them (with no detectors).

    >>> c = stim.Circuit.generated("surface_code:rotated_memory_z", distance=3, rounds=1,
    ...                            before_round_data_depolarization=0.05)
    >>> observable, supports, detectors = observable_representatives(CodeLayout.from_circuit(c))
    >>> observable.tolist(), supports.sum(axis=1).tolist(), detectors.sum(axis=1).tolist()
    ([0, 0, 0], [3, 3, 3], [0, 2, 4])
    """
    n = layout.num_data
    where = {tuple(c): q for q, c in enumerate(layout.data_coords)}
    observable, supports = [], []
    for o in range(layout.num_observables):
        support = np.nonzero(layout.err_obs[:, o])[0]
        anchor = layout.data_coords[support[0] % n]
        for target in layout.data_coords:
            moved = [where.get(tuple(layout.data_coords[r % n] - anchor + target)) for r in support]
            if None not in moved:
                mask = np.zeros(2 * n, dtype=bool)
                mask[(support // n) * n + np.array(moved)] = True
                observable.append(o)
                supports.append(mask)
    observable, supports = np.array(observable), np.array(supports)
    solvable, detectors = solve_gf2(layout.err_dets.T, supports ^ layout.err_obs[:, observable].T.astype(bool))
    return observable[solvable], supports[solvable], detectors[solvable]


def solve_gf2(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row ``r`` of ``b`` (R, m): whether ``x @ a = r`` (mod 2) has a solution, and one (R, k).

    ``a`` (k, m) holds the vectors to combine as rows.

    >>> ok, x = solve_gf2(np.array([[1, 1, 0], [0, 1, 1]]), np.array([[1, 0, 1], [1, 0, 0]]))
    >>> ok.tolist(), x[0].tolist()
    ([True, False], [True, True])
    """
    k = len(a)
    # eliminate on [a^T | I]: rows of the reduced a^T with the combination that made each
    m = np.concatenate([a.astype(bool), np.eye(k, dtype=bool)], axis=1)
    rhs = b.astype(bool).copy()
    x = np.zeros((len(b), k), dtype=bool)
    row = 0
    for col in range(a.shape[1]):
        pivots = np.nonzero(m[row:, col])[0]
        if len(pivots) == 0:
            continue
        p = row + pivots[0]
        m[[row, p]] = m[[p, row]]
        others = np.nonzero(m[:, col])[0]
        m[others[others != row]] ^= m[row]
        hit = rhs[:, col].copy()
        rhs[hit] ^= m[row, :a.shape[1]]
        x[hit] ^= m[row, a.shape[1]:]
        row += 1
        if row == k:
            break
    return ~rhs.any(axis=1), x
