"""A Device's noise model as plain numpy data that the engine applies (the engine knows no
devices).

For each noisy instruction ``(gate name, physical qubits)`` of ``device.noise_model``,
:class:`DeviceChannels` gives

- :meth:`~DeviceChannels.superop`: the channel as a ``(4**k, 4**k)`` complex128 matrix in
  OUR convention: the instruction's FIRST qubit is the most significant bit (qiskit is the
  reverse), and density matrices are vectorised row by row, so
  ``rho'[r', c'] = sum S[r' * 2**k + c', r * 2**k + c] * rho[r, c]``, i.e.
  ``S = sum_K kron(K, conj(K))`` for Kraus operators ``K`` in our bit order;
- :meth:`~DeviceChannels.pauli_probs`: the Pauli-twirled error probabilities
  ``p_P = sum_K |Tr(P^dagger K)|**2 / d**2`` (d = 2**k), Paulis ``I, X, Y, Z`` per qubit with
  the first qubit's Pauli the most significant digit (``"ab"`` has index ``4*a + b``);
- :meth:`~DeviceChannels.readout`: ``(p1_given_0, p0_given_1)`` of a qubit's readout error.

An instruction the device has but that carries no error (``rz``, ``measure``, whose noise is
its readout error) gives ``None``; one the device lacks is a ValueError.  Results are cached
per ``(name, qubits)``.  The conversion from qiskit is a pure re-indexing of qiskit's own
``SuperOp`` of the aer ``QuantumError``; no channel formula is derived here.

>>> from noise.devices import Device
>>> from noise.channels import DeviceChannels, pauli_labels
>>> ch = DeviceChannels(Device.from_name("santiago"))
>>> ch.superop("cx", (0, 1)).shape, ch.superop("rz", 0)
((16, 16), None)
>>> probs = ch.pauli_probs("sx", 0)
>>> pauli_labels(1), round(float(probs.sum()), 12), bool(probs[0] > 0.999)
(['I', 'X', 'Y', 'Z'], 1.0, True)
>>> ch.readout(0) == Device.from_name("santiago").readout[0]
True
"""

from __future__ import annotations

import itertools

import numpy as np

_PAULIS = {
    "I": np.eye(2, dtype=np.complex128),
    "X": np.array([[0, 1], [1, 0]], dtype=np.complex128),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    "Z": np.array([[1, 0], [0, -1]], dtype=np.complex128),
}


def pauli_labels(k: int) -> list[str]:
    """The ``4**k`` Pauli labels in the order of :meth:`DeviceChannels.pauli_probs`
    (first qubit's letter first and most significant): ``pauli_labels(2)[6] == "XY"``."""
    return ["".join(p) for p in itertools.product("IXYZ", repeat=k)]


def pauli_matrix(label: str) -> np.ndarray:
    """The matrix of a Pauli label in our bit order (the first letter acts on the most
    significant bit)."""
    out = np.ones((1, 1), dtype=np.complex128)
    for letter in label:
        out = np.kron(out, _PAULIS[letter])
    return out


def _bit_reversal(k: int) -> np.ndarray:
    """The permutation of 0..2**k-1 that reverses the k bits of each index."""
    idx = np.arange(2 ** k)
    out = np.zeros_like(idx)
    for b in range(k):
        out |= ((idx >> b) & 1) << (k - 1 - b)
    return out


def superop_from_qiskit(channel) -> np.ndarray:
    """Our-convention superoperator of a qiskit channel (a ``QuantumError``, ``SuperOp``,
    ``Kraus``, ... anything ``qiskit.quantum_info.SuperOp`` accepts).

    qiskit's ``SuperOp`` vectorises column by column in little-endian order:
    ``S_q[c' d + r', c d + r]``; ours is row by row, big-endian: ``S[r' d + c', r d + c]``
    with every index's bits reversed.  This is a re-indexing only.
    """
    from qiskit.quantum_info import SuperOp

    op = SuperOp(channel)
    d = op.dim[0]
    k = int(round(np.log2(d)))
    if op.dim != (d, d) or 2 ** k != d:
        raise ValueError(f"expected a channel on qubits with equal input and output, got dims {op.dim}")
    s4 = np.asarray(op.data, dtype=np.complex128).reshape(d, d, d, d)  # [c', r', c, r]
    s4 = s4.transpose(1, 0, 3, 2)  # [r', c', r, c]
    rev = _bit_reversal(k)
    s4 = s4[np.ix_(rev, rev, rev, rev)]
    return np.ascontiguousarray(s4.reshape(d * d, d * d))


def pauli_probs_from_superop(superop: np.ndarray) -> np.ndarray:
    """``p_P = sum_K |Tr(P^dagger K)|**2 / d**2`` for every Pauli P (order of :func:`pauli_labels`),
    read off an our-convention superoperator ``S = sum_K kron(K, conj(K))``:
    ``sum_K Tr(P^dagger K) conj(Tr(P^dagger K)) = sum conj(P[i, j]) P[k, l] S[i d + k, j d + l]``."""
    superop = np.asarray(superop)
    d = int(round(np.sqrt(superop.shape[0])))
    k = int(round(np.log2(d)))
    if superop.shape != (d * d, d * d) or 2 ** k != d:
        raise ValueError(f"expected a (4**k, 4**k) superoperator, got shape {superop.shape}")
    s4 = superop.reshape(d, d, d, d)
    probs = np.empty(4 ** k, dtype=np.float64)
    for i, label in enumerate(pauli_labels(k)):
        p = pauli_matrix(label)
        probs[i] = np.einsum("ij,kl,ikjl->", p.conj(), p, s4).real / d ** 2
    return np.maximum(probs, 0.0)


class DeviceChannels:
    """The noise channels of ``device.noise_model``, per instruction, as numpy arrays.

    Only the ``device`` is needed; the noise model is read (and built, once) on first use.
    """

    def __init__(self, device):
        self.device = device
        self._superops: dict = {}
        self._paulis: dict = {}

    @property
    def noise_model(self):
        return self.device.noise_model

    def instructions(self) -> list[tuple[str, tuple[int, ...]]]:
        """Every ``(name, qubits)`` that carries a quantum error in the noise model, sorted."""
        local = self.noise_model._local_quantum_errors  # aer keeps them here; it has no getter
        return sorted((name, tuple(q)) for name, per_qubits in local.items() for q in per_qubits)

    def superop(self, name: str, qubits) -> np.ndarray | None:
        """The channel after ``name`` on ``qubits`` (our convention, see the module), or None."""
        key = self._check(name, qubits)
        if key not in self._superops:
            error = self._error(*key)
            self._superops[key] = None if error is None else superop_from_qiskit(error)
        return self._superops[key]

    def pauli_probs(self, name: str, qubits) -> np.ndarray | None:
        """The Pauli-twirled error probabilities of that channel (sum 1), or None."""
        key = self._check(name, qubits)
        if key not in self._paulis:
            superop = self.superop(*key)
            self._paulis[key] = None if superop is None else pauli_probs_from_superop(superop)
        return self._paulis[key]

    def readout(self, qubit: int) -> tuple[float, float]:
        """``(p1_given_0, p0_given_1)`` of ``qubit``'s readout error ((0, 0) if it has none)."""
        if isinstance(qubit, bool) or not isinstance(qubit, (int, np.integer)):
            raise ValueError(f"qubit must be an int, got {qubit!r}")
        if not 0 <= qubit < self.device.n_qubits:
            raise ValueError(f"qubit {qubit} is not on {self.device.name} (qubits 0..{self.device.n_qubits - 1})")
        model = self.noise_model
        error = model._local_readout_errors.get((int(qubit),), model._default_readout_error)
        if error is None:
            return (0.0, 0.0)
        probs = np.asarray(error.probabilities, dtype=np.float64)
        return (float(probs[0, 1]), float(probs[1, 0]))

    # ------------------------------------------------------------------ internals

    def _check(self, name: str, qubits) -> tuple[str, tuple[int, ...]]:
        if isinstance(qubits, (int, np.integer)):
            qubits = (int(qubits),)
        try:
            qubits = tuple(int(q) for q in qubits)
        except (TypeError, ValueError):
            raise ValueError(f"qubits must be an int or a sequence of ints, got {qubits!r}") from None
        key = (name, qubits)
        dev = self.device
        local = self.noise_model._local_quantum_errors
        known = set(dev.gate_errors) | set(dev.gate_durations) | {(n, tuple(q)) for n in local for q in local[n]}
        known |= {("measure", (q,)) for q in range(dev.n_qubits)}
        if key in known:
            return key
        names = sorted({n for n, _ in known})
        if name not in names:
            raise ValueError(f"{dev.name} has no instruction {name!r}; it has: {', '.join(names)}")
        raise ValueError(f"{dev.name} has no {name!r} on qubits {qubits}")

    def _error(self, name: str, qubits: tuple[int, ...]):
        model = self.noise_model
        error = model._local_quantum_errors.get(name, {}).get(qubits)
        if error is None:
            default = model._default_quantum_errors.get(name)
            if default is not None and default.num_qubits == len(qubits):
                error = default
        return error


__all__ = ["DeviceChannels", "pauli_labels", "pauli_matrix", "pauli_probs_from_superop", "superop_from_qiskit"]
